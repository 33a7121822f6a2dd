#version 450
// Cross-entropy of each row of logits [rows, vocab] against targets (int, one per row), fp32 and
// max-subtracted: m = max(row), s = sum(exp(row - m)), losses[r] = log(s) - (row[t] - m); when
// withGrad != 0, dl[r, j] = scale * (exp(row[j] - m) / s - (j == t ? 1 : 0)). A target outside
// 0..<vocab (the ignore index -100 included) gives loss 0 and a zero gradient row (the CPU
// backends throw for targets other than -100). One workgroup per row (loops over the row, shared-
// memory tree reductions), grid-stride over rows; WG (specialization constant 0) a power of two.
// dl may alias logits (in place). Without withGrad the host binds losses at binding 3 too.
// CPU reference: Sources/IFTCPU/Reference/CrossEntropy.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Logits { float x[]; };
layout(set = 0, binding = 1) readonly buffer Targets { int targets[]; };
layout(set = 0, binding = 2) writeonly buffer Losses { float losses[]; };
layout(set = 0, binding = 3) writeonly buffer DLogits { float dl[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint vocab;
    uint withGrad;
    float scale;
} pc;

shared float partial[gl_WorkGroupSize.x];

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint tid = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base = row * pc.vocab;
        int t = targets[row];
        if (t < 0 || uint(t) >= pc.vocab) {  // uniform across the workgroup
            if (tid == 0u) losses[row] = 0.0;
            if (pc.withGrad != 0u) {
                for (uint c = tid; c < pc.vocab; c += WG) dl[base + c] = 0.0;
            }
            continue;
        }
        float m = IFT_NEG_INF;
        for (uint c = tid; c < pc.vocab; c += WG) m = max(m, x[base + c]);
        partial[tid] = m;
        barrier();
        for (uint width = WG >> 1u; width > 0u; width >>= 1u) {
            if (tid < width) partial[tid] = max(partial[tid], partial[tid + width]);
            barrier();
        }
        m = partial[0];
        barrier();
        float s = 0.0;
        for (uint c = tid; c < pc.vocab; c += WG) s += exp(x[base + c] - m);
        partial[tid] = s;
        barrier();
        for (uint width = WG >> 1u; width > 0u; width >>= 1u) {
            if (tid < width) partial[tid] = partial[tid] + partial[tid + width];
            barrier();
        }
        s = partial[0];
        float xt = x[base + uint(t)];
        barrier();  // every read of the row and of partial[0] is done before dl (maybe x) is written
        if (tid == 0u) losses[row] = log(s) - (xt - m);
        if (pc.withGrad != 0u) {
            float k = pc.scale / s;
            for (uint c = tid; c < pc.vocab; c += WG) {
                float p = exp(x[base + c] - m) * k;
                dl[base + c] = c == uint(t) ? p - pc.scale : p;
            }
        }
    }
}
