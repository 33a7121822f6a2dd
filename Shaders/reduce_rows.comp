#version 450
// out[r] = sum (OP 0) or max (OP 1) of a[r*cols + c] over c < cols, for r < rows.
// One workgroup per row, grid-stride over rows (gl_NumWorkGroups.x groups).  WG (specialization
// constant 0) must be a power of two.  Each invocation folds a strided slice of the row
// (compensated summation for sum), then a shared-memory tree combines the WG partials.
// Max starts from -inf, so an all -inf row gives -inf and cols == 0 gives -inf (sum: 0).
// Infinities and NaN propagate as in a plain sum.
#include "common.glsl"

IFT_LOCAL_SIZE
layout(constant_id = 1) const uint OP = 0u;

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
        float acc;
        if (OP == 1u) {
            acc = IFT_NEG_INF;
            for (uint c = tid; c < pc.cols; c += WG) acc = max(acc, a[base + c]);
        } else {
            // Kahan-Babuska (Neumaier) summation; `precise` keeps the compiler from
            // simplifying the compensation away.
            precise float s = 0.0;
            precise float comp = 0.0;
            for (uint c = tid; c < pc.cols; c += WG) {
                float x = a[base + c];
                precise float t = s + x;
                if (!isinf(t)) {  // once the sum is infinite (or NaN) the compensation is moot
                    if (abs(s) >= abs(x)) comp += (s - t) + x;
                    else comp += (x - t) + s;
                }
                s = t;
            }
            acc = s + comp;
        }
        partial[tid] = acc;
        barrier();
        for (uint width = WG >> 1u; width > 0u; width >>= 1u) {
            if (tid < width) {
                float other = partial[tid + width];
                partial[tid] = (OP == 1u) ? max(partial[tid], other) : (partial[tid] + other);
            }
            barrier();
        }
        if (tid == 0u) o[row] = partial[0];
        barrier();  // partial[] is reused by the next row
    }
}
