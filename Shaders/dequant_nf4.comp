#version 450
// NF4 -> f32: element i of the output is element i % 64 of block i / 64 (36 bytes each),
// dequantized by ift_dequant_nf4 (include/dequant.glsl; layout in Shaders/README.md).
// Grid-stride over the nblocks * 64 output elements.
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
    uint total = pc.nblocks * 64u;
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < total; i += stride) {
        o[i] = ift_dequant_nf4((i >> 6u) * 36u, i & 63u);
    }
}
