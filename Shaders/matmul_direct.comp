#version 450
#extension GL_EXT_control_flow_attributes : require
// Batched fp32 matrix multiply for CPU Vulkan implementations (lavapipe / llvmpipe):
//   C = alpha * op(A) * op(B) + beta * C
// with exactly the operand layout, bindings and push constants of matmul.comp:
//   TRANS_A == 0: A[m, k] at offsetA + b*strideA + m*lda + k   (A stored M x K)
//   TRANS_A == 1: A[m, k] at offsetA + b*strideA + k*lda + m   (A stored K x M)
//   TRANS_B == 0: B[k, n] at offsetB + b*strideB + k*ldb + n   (B stored K x N)
//   TRANS_B == 1: B[k, n] at offsetB + b*strideB + n*ldb + k   (B stored N x K)
//   C[m, n]     at offsetC + b*strideC + m*ldc + n
// (elements; b = gl_WorkGroupID.z is the batch index). When beta == 0, C is not read.
//
// No shared memory and no barriers: each invocation computes a TM x TN block of C (rows
// m0 .. m0+TM-1, columns n0 .. n0+TN-1) straight from global memory, 4 steps of k at a time, with
// every accumulator in a register (fully unrolled). On a CPU driver a workgroup is a loop over
// SIMD-8 slices, every buffer load is a per-lane scalar loop and a barrier is a coroutine switch, so
// what counts is the number of loads per FMA: TM * TN FMAs per TM + TN loaded values. The caches
// provide the reuse that shared memory provides on a GPU.
//
// With VEC_A (VEC_B) set, A (B) is read as vec4 along its contiguous axis (k when A is M x K, m
// when A is K x M; n when B is K x N, k when B is N x K): one load brings four values. The host
// sets it only when offset, lda (ldb) and strideA (strideB) are multiples of 4, and, when that
// axis is m (n), M (N) is a multiple of 4, so that no vec4 crosses the end of a row. A k tail
// (K % 4) is read element by element.
//
// Dispatch (ceil(N / (WX*TN)), ceil(M / (WY*TM)), batch) with WY = WG / WX. Invocation x of a
// workgroup takes columns along n (x % WX) and rows along m (x / WX). Fully bounds-checked: rows and
// columns past the edge read clamped (valid) addresses and are not written.
//
// Specialization constants (uint): 0 WG (default 64), 1 TRANS_A, 2 TRANS_B, 3 TM, 4 TN (multiples
// of 4; default 16), 5 WX (default 8; WG % WX == 0), 6 VEC_A, 7 VEC_B (default 0).
layout(local_size_x = 64, local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint TRANS_A = 0u;
layout(constant_id = 2) const uint TRANS_B = 0u;
layout(constant_id = 3) const uint TM = 16u;
layout(constant_id = 4) const uint TN = 16u;
layout(constant_id = 5) const uint WX = 8u;
layout(constant_id = 6) const uint VEC_A = 0u;
layout(constant_id = 7) const uint VEC_B = 0u;

// Each operand is bound once; the vec4 views alias the float views of the same binding.
layout(set = 0, binding = 0) readonly buffer BufA { float A[]; };
layout(set = 0, binding = 0) readonly buffer BufA4 { vec4 A4[]; };
layout(set = 0, binding = 1) readonly buffer BufB { float B[]; };
layout(set = 0, binding = 1) readonly buffer BufB4 { vec4 B4[]; };
layout(set = 0, binding = 2) buffer BufC { float C[]; };

layout(push_constant) uniform Push {
    uint M, N, K;
    uint lda, ldb, ldc;
    uint strideA, strideB, strideC;
    uint offsetA, offsetB, offsetC;
    float alpha, beta;
} pc;

void main() {
    const uint WY = gl_WorkGroupSize.x / WX;
    uint lx = gl_LocalInvocationID.x % WX;
    uint ly = gl_LocalInvocationID.x / WX;
    uint m0 = (gl_WorkGroupID.y * WY + ly) * TM;
    uint n0 = (gl_WorkGroupID.x * WX + lx) * TN;
    uint batch = gl_WorkGroupID.z;
    uint baseA = pc.offsetA + batch * pc.strideA;
    uint baseB = pc.offsetB + batch * pc.strideB;
    uint baseC = pc.offsetC + batch * pc.strideC;

    // Per-row (A) and per-column (B) index terms, clamped into the matrix: an invocation past an
    // edge computes on valid data and stores nothing there. When the contiguous axis is m (n) the
    // terms are element offsets within a k row; with VEC they step by whole vec4 groups.
    uint ia[TM];
    uint ib[TN];
    [[unroll]] for (uint i = 0u; i < TM; ++i) {
        uint m = min(m0 + i, pc.M - 1u);
        if (TRANS_A == 0u) ia[i] = baseA + m * pc.lda;
        else if (VEC_A != 0u) ia[i] = min(m0 + (i & ~3u), pc.M - 4u);  // first row of its vec4 group
        else ia[i] = m;
    }
    [[unroll]] for (uint j = 0u; j < TN; ++j) {
        uint n = min(n0 + j, pc.N - 1u);
        if (TRANS_B == 1u) ib[j] = baseB + n * pc.ldb;
        else if (VEC_B != 0u) ib[j] = min(n0 + (j & ~3u), pc.N - 4u);
        else ib[j] = n;
    }

    float acc[TM][TN];
    [[unroll]] for (uint i = 0u; i < TM; ++i) {
        [[unroll]] for (uint j = 0u; j < TN; ++j) acc[i][j] = 0.0;
    }

    uint K4 = pc.K & ~3u;
    for (uint k = 0u; k < K4; k += 4u) {
        float a[4][TM];
        float b[4][TN];
        if (TRANS_A == 0u) {
            [[unroll]] for (uint i = 0u; i < TM; ++i) {
                if (VEC_A != 0u) {
                    vec4 v = A4[(ia[i] + k) >> 2];
                    a[0][i] = v.x; a[1][i] = v.y; a[2][i] = v.z; a[3][i] = v.w;
                } else {
                    [[unroll]] for (uint q = 0u; q < 4u; ++q) a[q][i] = A[ia[i] + k + q];
                }
            }
        } else {
            [[unroll]] for (uint q = 0u; q < 4u; ++q) {
                uint row = baseA + (k + q) * pc.lda;
                if (VEC_A != 0u) {
                    [[unroll]] for (uint i = 0u; i < TM; i += 4u) {
                        vec4 v = A4[(row + ia[i]) >> 2];
                        a[q][i] = v.x; a[q][i + 1u] = v.y; a[q][i + 2u] = v.z; a[q][i + 3u] = v.w;
                    }
                } else {
                    [[unroll]] for (uint i = 0u; i < TM; ++i) a[q][i] = A[row + ia[i]];
                }
            }
        }
        if (TRANS_B == 1u) {
            [[unroll]] for (uint j = 0u; j < TN; ++j) {
                if (VEC_B != 0u) {
                    vec4 v = B4[(ib[j] + k) >> 2];
                    b[0][j] = v.x; b[1][j] = v.y; b[2][j] = v.z; b[3][j] = v.w;
                } else {
                    [[unroll]] for (uint q = 0u; q < 4u; ++q) b[q][j] = B[ib[j] + k + q];
                }
            }
        } else {
            [[unroll]] for (uint q = 0u; q < 4u; ++q) {
                uint row = baseB + (k + q) * pc.ldb;
                if (VEC_B != 0u) {
                    [[unroll]] for (uint j = 0u; j < TN; j += 4u) {
                        vec4 v = B4[(row + ib[j]) >> 2];
                        b[q][j] = v.x; b[q][j + 1u] = v.y; b[q][j + 2u] = v.z; b[q][j + 3u] = v.w;
                    }
                } else {
                    [[unroll]] for (uint j = 0u; j < TN; ++j) b[q][j] = B[row + ib[j]];
                }
            }
        }
        // k innermost per accumulator: each one is loaded/stored once per 4 FMAs if it spills.
        [[unroll]] for (uint i = 0u; i < TM; ++i) {
            [[unroll]] for (uint j = 0u; j < TN; ++j) {
                float t = acc[i][j];
                t = fma(a[0][i], b[0][j], t);
                t = fma(a[1][i], b[1][j], t);
                t = fma(a[2][i], b[2][j], t);
                t = fma(a[3][i], b[3][j], t);
                acc[i][j] = t;
            }
        }
    }
    // k tail (K % 4 steps), element by element through the float views.
    for (uint k = K4; k < pc.K; ++k) {
        float a[TM];
        float b[TN];
        [[unroll]] for (uint i = 0u; i < TM; ++i) {
            if (TRANS_A == 0u) a[i] = A[ia[i] + k];
            else a[i] = A[baseA + k * pc.lda + ((VEC_A != 0u) ? ia[i] + (i & 3u) : ia[i])];
        }
        [[unroll]] for (uint j = 0u; j < TN; ++j) {
            if (TRANS_B == 1u) b[j] = B[ib[j] + k];
            else b[j] = B[baseB + k * pc.ldb + ((VEC_B != 0u) ? ib[j] + (j & 3u) : ib[j])];
        }
        [[unroll]] for (uint i = 0u; i < TM; ++i) {
            [[unroll]] for (uint j = 0u; j < TN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
    }

    [[unroll]] for (uint i = 0u; i < TM; ++i) {
        uint m = m0 + i;
        [[unroll]] for (uint j = 0u; j < TN; ++j) {
            uint n = n0 + j;
            if (m < pc.M && n < pc.N) {
                uint ci = baseC + m * pc.ldc + n;
                float v = pc.alpha * acc[i][j];
                if (pc.beta != 0.0) v += pc.beta * C[ci];
                C[ci] = v;
            }
        }
    }
}
