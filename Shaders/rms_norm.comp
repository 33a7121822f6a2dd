#version 450
// RMS normalization of each row (Hugging Face Llama's order of operations):
// rstd = 1 / sqrt(sum_c x[r, c]^2 / cols + eps), out[r, c] = w[c] * (x[r, c] * rstd), fp32,
// rows x cols row-major. One workgroup per row (shared-memory tree sum), grid-stride over rows.
// WG (specialization constant 0) must be a power of two. `out` may alias `x` (in place).
// CPU reference: Sources/IFTCPU/Reference/RMSNorm.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer W { float w[]; };
layout(set = 0, binding = 2) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
    float eps;
} pc;

shared float partial[gl_WorkGroupSize.x];

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint tid = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base = row * pc.cols;
        float s = 0.0;
        for (uint c = tid; c < pc.cols; c += WG) {
            float v = x[base + c];
            s += v * v;
        }
        partial[tid] = s;
        barrier();
        for (uint width = WG >> 1u; width > 0u; width >>= 1u) {
            if (tid < width) partial[tid] = partial[tid] + partial[tid + width];
            barrier();
        }
        float rstd = 1.0 / sqrt(partial[0] / float(pc.cols) + pc.eps);
        barrier();  // everyone has read partial[0] before the next row overwrites it
        for (uint c = tid; c < pc.cols; c += WG) o[base + c] = w[c] * (x[base + c] * rstd);
    }
}
