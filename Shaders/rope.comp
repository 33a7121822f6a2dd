#version 450
// Rotary position embedding, rotate-half (Hugging Face / NeoX) convention. x and out are laid out
// as [tokens, heads, headDim] with a row stride: element (t, h, i) of x at
// xOff + t * rowStride + h * headDim + i (out: outOff + ...). For i < half = headDim / 2, with
// p = positions[t0 + t], c = table[p * headDim + i], s = table[p * headDim + half + i]:
//   out[i] = x0 * c - x1 * s,  out[i + half] = x1 * c + x0 * s     (inverse: s negated)
// computed `precise` (two rounded products, one rounded sum: bit-identical to the CPU reference,
// Sources/IFTCPU/Reference/Rope.swift). A position outside 0..<maxPos copies the input unchanged
// (the host cannot see positions without a sync). `out` may alias `x` (in place): each invocation
// reads its pair before writing it. Grid-stride over tokens * heads * half pairs.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer Pos { int positions[]; };
layout(set = 0, binding = 2) readonly buffer Table { float table[]; };
layout(set = 0, binding = 3) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint tokens;
    uint heads;
    uint headDim;
    uint rowStride;
    uint xOff;
    uint outOff;
    uint t0;       // first token of this dispatch (index into positions)
    uint maxPos;   // table rows
    uint inverse;
} pc;

void main() {
    uint half_ = pc.headDim >> 1u;
    uint total = pc.tokens * pc.heads * half_;
    uint stride = IFT_GRID_STRIDE;
    for (uint k = IFT_GRID_START; k < total; k += stride) {
        uint i = k % half_;
        uint th = k / half_;
        uint h = th % pc.heads;
        uint t = th / pc.heads;
        uint rel = t * pc.rowStride + h * pc.headDim + i;
        uint xi = pc.xOff + rel;
        uint oi = pc.outOff + rel;
        float x0 = x[xi];
        float x1 = x[xi + half_];
        int p = positions[pc.t0 + t];
        if (p < 0 || uint(p) >= pc.maxPos) {
            o[oi] = x0;
            o[oi + half_] = x1;
            continue;
        }
        uint row = uint(p) * pc.headDim;
        float c = table[row + i];
        float s = table[row + half_ + i];
        if (pc.inverse != 0u) s = -s;
        precise float a = x0 * c;
        precise float b = x1 * s;
        precise float e = x1 * c;
        precise float f = x0 * s;
        precise float o0 = a - b;
        precise float o1 = e + f;
        o[oi] = o0;
        o[oi + half_] = o1;
    }
}
