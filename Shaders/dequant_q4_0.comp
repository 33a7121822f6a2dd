#version 450
// Q4_0 -> f32: element i of the output is element i % 32 of block i / 32 (18 bytes each),
// dequantized by ift_dequant_q4_0 (include/dequant.glsl; layout in Shaders/README.md).
// Grid-stride over the nblocks * 32 output elements.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Q { uint q[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float o[]; };

#define IFT_DQ_BUF q
#include "dequant.glsl"

layout(push_constant) uniform Push {
    uint nblocks;
} pc;

void main() {
    uint total = pc.nblocks * 32u;
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < total; i += stride) {
        o[i] = ift_dequant_q4_0((i >> 5u) * 18u, i & 31u);
    }
}
