#version 450
// Q4_K -> f32: element i of the output is element i % 256 of block i / 256 (144 bytes each),
// dequantized by ift_dequant_q4_k (include/dequant.glsl; layout in Shaders/README.md).
// Grid-stride over the nblocks * 256 output elements.
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
    uint total = pc.nblocks * 256u;
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < total; i += stride) {
        o[i] = ift_dequant_q4_k((i >> 8u) * 144u, i & 255u);
    }
}
