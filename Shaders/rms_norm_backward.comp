#version 450
// Input gradient of out = w * (x * rstd), rstd = 1 / sqrt(sum(x^2) / cols + eps): per row, with
// xh = x * rstd and g = w * dy, dx = rstd * (g - xh * (sum(g * xh) / cols)); rstd[r] is written
// for the weight-gradient pass (rms_norm_backward_weight). fp32, rows x cols row-major. One
// workgroup per row (shared-memory tree sums), grid-stride over rows; WG a power of two.
// dx must not alias x or dy (the weight pass reads them). CPU reference: Sources/IFTCPU/Reference/RMSNormBackward.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer W { float w[]; };
layout(set = 0, binding = 2) readonly buffer DY { float dy[]; };
layout(set = 0, binding = 3) writeonly buffer DX { float dx[]; };
layout(set = 0, binding = 4) writeonly buffer Rstd { float rstdOut[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
    float eps;
} pc;

shared float partial[gl_WorkGroupSize.x];

float rowSum(float v, uint tid) {
    const uint WG = gl_WorkGroupSize.x;
    partial[tid] = v;
    barrier();
    for (uint width = WG >> 1u; width > 0u; width >>= 1u) {
        if (tid < width) partial[tid] = partial[tid] + partial[tid + width];
        barrier();
    }
    float s = partial[0];
    barrier();  // everyone has read partial[0] before it is overwritten
    return s;
}

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
        float rstd = 1.0 / sqrt(rowSum(s, tid) / float(pc.cols) + pc.eps);
        float d = 0.0;
        for (uint c = tid; c < pc.cols; c += WG) d += (w[c] * dy[base + c]) * (x[base + c] * rstd);
        float mean = rowSum(d, tid) / float(pc.cols);
        if (tid == 0u) rstdOut[row] = rstd;
        for (uint c = tid; c < pc.cols; c += WG) {
            dx[base + c] = rstd * (w[c] * dy[base + c] - (x[base + c] * rstd) * mean);
        }
    }
}
