#version 450
// Sum of squares in two deterministic passes (no float atomics), WG a power of two.
// MODE 0 (partial): workgroup w writes out[w] = tree sum over its invocations of each
//   invocation's in-order sum of x[i]^2 over its grid-stride elements (i < n).
// MODE 1 (final, one workgroup): out[0] = (accumulate ? out[0] : 0) + tree sum of x[0..<n]
//   (the partials), each invocation first adding its grid-stride elements in order.
// CPU reference: Sources/IFTCPU/Reference/SumOfSquares.swift (pairwise; only the summation order differs).
#include "common.glsl"

IFT_LOCAL_SIZE
layout(constant_id = 1) const uint MODE = 0;

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) buffer Out { float outv[]; };

layout(push_constant) uniform Push {
    uint n;
    uint accumulate;
} pc;

shared float partial[gl_WorkGroupSize.x];

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint stride = IFT_GRID_STRIDE;
    float s = 0.0;
    for (uint i = IFT_GRID_START; i < pc.n; i += stride) {
        float a = x[i];
        s += MODE == 0u ? a * a : a;
    }
    partial[lid] = s;
    barrier();
    for (uint h = gl_WorkGroupSize.x / 2u; h > 0u; h >>= 1u) {
        if (lid < h) partial[lid] += partial[lid + h];
        barrier();
    }
    if (lid == 0u) {
        if (MODE == 0u) {
            outv[gl_WorkGroupID.x] = partial[0];
        } else {
            outv[0] = (pc.accumulate != 0u ? outv[0] : 0.0) + partial[0];
        }
    }
}
