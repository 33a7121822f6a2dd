#version 450
// Split-K matmul, second pass: C[i, j] = sum over s < parts of P[s, i, j], plus beta * C[i, j]
// (C not read when beta == 0), for the m x n block of C at offC with row stride ldc. P holds the
// partial products of consecutive K ranges (alpha already applied), each a dense m x n matrix,
// summed in order s = 0, 1, ... Host side and first pass: Sources/IFTVulkan/Kernels/MatmulSplitK.swift;
// CPU reference of the whole product: Sources/IFTCPU/Reference/Matmul.swift. Grid-stride.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer P { float p[]; };
layout(set = 0, binding = 1) buffer C { float c[]; };

layout(push_constant) uniform Push {
    uint m;
    uint n;
    uint parts;
    uint ldc;
    uint offC;
    float beta;
} pc;

void main() {
    uint mn = pc.m * pc.n;
    for (uint idx = IFT_GRID_START; idx < mn; idx += IFT_GRID_STRIDE) {
        float acc = 0.0;
        for (uint s = 0u; s < pc.parts; ++s) {
            acc += p[s * mn + idx];
        }
        uint ci = pc.offC + (idx / pc.n) * pc.ldc + idx % pc.n;
        c[ci] = pc.beta == 0.0 ? acc : acc + pc.beta * c[ci];
    }
}
