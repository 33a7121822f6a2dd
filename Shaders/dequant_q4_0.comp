#version 450
// Q4_0 -> f32.  Block (18 bytes, 32 values): f16 d, 16 bytes; element j < 16 is the low nibble
// of byte j, j >= 16 the high nibble of byte j - 16;  value = d * (q - 8).
// Grid-stride over the nblocks * 32 output elements.  Blocks start at any byte offset; the
// binding must be readable up to the next multiple of 4 bytes.
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
        uint off = blk * 18u;
        float d = IFT_READ_F16(q, off);
        uint byte_ = IFT_READ_U8(q, off + 2u + (j & 15u));
        uint nib = (j < 16u) ? (byte_ & 0xFu) : (byte_ >> 4u);
        precise float r = d * float(int(nib) - 8);
        o[i] = r;
    }
}
