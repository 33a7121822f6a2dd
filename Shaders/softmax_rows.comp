#version 450
// out[r, c] = exp(a[r, c] - m) / s, with m = max_c a[r, c] and s = sum_c exp(a[r, c] - m),
// in fp32, rows x cols row-major.  One workgroup per row, grid-stride over rows
// (gl_NumWorkGroups.x groups).  WG (specialization constant 0) must be a power of two.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer A { float a[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
} pc;

shared float partial[gl_WorkGroupSize.x];

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint tid = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base = row * pc.cols;

        // 1. Row max.
        float m = IFT_NEG_INF;
        for (uint c = tid; c < pc.cols; c += WG) m = max(m, a[base + c]);
        partial[tid] = m;
        barrier();
        for (uint width = WG >> 1u; width > 0u; width >>= 1u) {
            if (tid < width) partial[tid] = max(partial[tid], partial[tid + width]);
            barrier();
        }
        m = partial[0];
        barrier();  // everyone has read partial[0] before it is overwritten

        // 2. Sum of exp(x - m) (compensated per invocation, then a tree).
        precise float s = 0.0;
        precise float comp = 0.0;
        for (uint c = tid; c < pc.cols; c += WG) {
            float x = exp(a[base + c] - m);
            precise float t = s + x;
            if (s >= x) comp += (s - t) + x;  // Neumaier: both terms are >= 0
            else comp += (x - t) + s;
            s = t;
        }
        partial[tid] = s + comp;
        barrier();
        for (uint width = WG >> 1u; width > 0u; width >>= 1u) {
            if (tid < width) partial[tid] = partial[tid] + partial[tid + width];
            barrier();
        }
        float total = partial[0];
        barrier();  // partial[] is reused by the next row

        // 3. Normalize.
        for (uint c = tid; c < pc.cols; c += WG) o[base + c] = exp(a[base + c] - m) / total;
    }
}
