#version 450
// Q4_1 -> f32.  Block (20 bytes, 32 values): f16 d, f16 m, 16 bytes (nibbles as in Q4_0);
// value = (d * q) + m, two roundings (no FMA).
// Grid-stride over the nblocks * 32 output elements.
#include "common.glsl"
#include "bytes.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Q { uint q[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint nblocks;
} pc;

void main() {
    uint total = pc.nblocks * 32u;
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < total; i += stride) {
        uint blk = i >> 5u;
        uint j = i & 31u;
        uint off = blk * 20u;
        float d = IFT_READ_F16(q, off);
        float m = IFT_READ_F16(q, off + 2u);
        uint byte_ = IFT_READ_U8(q, off + 4u + (j & 15u));
        uint nib = (j < 16u) ? (byte_ & 0xFu) : (byte_ >> 4u);
        precise float r = (d * float(nib)) + m;
        o[i] = r;
    }
}
