#version 450
// Q8_0 -> f32.  Block (34 bytes, 32 values): f16 d, 32 x i8 q;  value = d * q.
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
        uint off = blk * 34u;
        float d = IFT_READ_F16(q, off);
        int v = IFT_READ_I8(q, off + 2u + j);
        precise float r = d * float(v);
        o[i] = r;
    }
}
