#version 450
// Embedding gather: out[t, c] = table[ids[t], c] as f32, for a [V, D] table of type DTYPE
// (specialization constant 1: 0 f32, 1 f16, 2 bf16, 3 q8_0, 4 q4_0, 5 q4_1, 6 q4_k, 7 nf4).
// Quantized rows are dequantized with include/dequant.glsl (bit-identical to dequant_*.comp).
// CPU reference: Sources/IFTCPU/Reference/Embedding.swift.
//
// The table binding holds rows v0 .. v0 + vcount - 1, the first starting `tableByte` bytes in (the
// host splits tables larger than one binding into several dispatches). Token t0 + t is out row t.
// Rows whose id lies in [v0, v0 + vcount) are written; when zeroInvalid != 0, rows whose id is
// outside 0..<vocab get zeros (the host cannot see the ids without a sync, so an invalid id is
// not an error here); other rows are left alone. Grid-stride over n * dim output elements.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Table { uint tab[]; };
layout(set = 0, binding = 1) readonly buffer Ids { int ids[]; };
layout(set = 0, binding = 2) writeonly buffer Out { float o[]; };

layout(constant_id = 1) const uint DTYPE = 0;

#define IFT_DQ_BUF tab
#include "dequant.glsl"

layout(push_constant) uniform Push {
    uint n;           // tokens in this dispatch
    uint dim;         // D
    uint t0;          // first token (index into ids)
    uint v0;          // first table row bound
    uint vcount;      // table rows bound
    uint vocab;       // V
    uint tableByte;   // byte offset of row v0 in the table binding
    uint zeroInvalid;
} pc;

float element(uint row, uint c) {
    uint base = pc.tableByte;
    if (DTYPE == 0u) return uintBitsToFloat(tab[(base >> 2u) + row * pc.dim + c]);
    if (DTYPE == 1u) return ift_f16_to_f32(IFT_READ_U16(tab, base + (row * pc.dim + c) * 2u));
    if (DTYPE == 2u) return uintBitsToFloat(ift_bf16_bits_to_f32_bits(IFT_READ_U16(tab, base + (row * pc.dim + c) * 2u)));
    if (DTYPE == 3u) return ift_dequant_q8_0(base + (row * (pc.dim >> 5u) + (c >> 5u)) * 34u, c & 31u);
    if (DTYPE == 4u) return ift_dequant_q4_0(base + (row * (pc.dim >> 5u) + (c >> 5u)) * 18u, c & 31u);
    if (DTYPE == 5u) return ift_dequant_q4_1(base + (row * (pc.dim >> 5u) + (c >> 5u)) * 20u, c & 31u);
    if (DTYPE == 6u) return ift_dequant_q4_k(base + (row * (pc.dim >> 8u) + (c >> 8u)) * 144u, c & 255u);
    return ift_dequant_nf4(base + (row * (pc.dim >> 6u) + (c >> 6u)) * 36u, c & 63u);
}

void main() {
    uint total = pc.n * pc.dim;
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < total; i += stride) {
        uint t = i / pc.dim;
        uint c = i - t * pc.dim;
        int id = ids[pc.t0 + t];
        uint row = uint(id) - pc.v0;  // wraps for id < v0
        if (id >= 0 && uint(id) >= pc.v0 && row < pc.vcount) {
            o[i] = element(row, c);
        } else if (pc.zeroInvalid != 0u && (id < 0 || uint(id) >= pc.vocab)) {
            o[i] = 0.0;
        }
    }
}
