#version 450
// Batched, tiled fp32 matrix multiply:  C = alpha * op(A) * op(B) + beta * C
// with op(A) M x K, op(B) K x N, C M x N, all row-major with leading dimensions lda/ldb/ldc:
//   TRANS_A == 0: A[m, k] at offsetA + b*strideA + m*lda + k   (A stored M x K)
//   TRANS_A == 1: A[m, k] at offsetA + b*strideA + k*lda + m   (A stored K x M)
//   TRANS_B == 0: B[k, n] at offsetB + b*strideB + k*ldb + n   (B stored K x N)
//   TRANS_B == 1: B[k, n] at offsetB + b*strideB + n*ldb + k   (B stored N x K)
//   C[m, n]     at offsetC + b*strideC + m*ldc + n
// (offsets, strides and leading dimensions in elements; b = gl_WorkGroupID.z is the batch index).
// When beta == 0, C is not read (it may hold garbage / NaN).
//
// Dispatch (ceil(N/BN), ceil(M/BM), batch).  Each workgroup computes a BM x BN tile of C,
// walking K in BK-deep slabs of A and B staged in shared memory; each invocation accumulates a
// TM x TN register micro-tile (rows ty + i*BM/TM, columns tx + j*BN/TN: strided so that shared
// reads are conflict-free and global C accesses coalesced).  Fully bounds-checked: any M, N, K.
//
// Requirements on the specialization constants (all uint):
//   WG == (BM / TM) * (BN / TN); BM % TM == 0; BN % TN == 0;
//   shared memory 4 * BK * (BM + BN + 2 * PAD) bytes must fit (32 KiB on lavapipe).
// Defaults: WG 256, BM = BN = 64, BK = 16, TM = TN = 4 (8.25 KiB of shared memory).
layout(local_size_x = 256, local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint TRANS_A = 0u;
layout(constant_id = 2) const uint TRANS_B = 0u;
layout(constant_id = 3) const uint BM = 64u;
layout(constant_id = 4) const uint BN = 64u;
layout(constant_id = 5) const uint BK = 16u;
layout(constant_id = 6) const uint TM = 4u;
layout(constant_id = 7) const uint TN = 4u;

// Shared tiles are stored k-major: As[k][m], Bs[k][n], each row padded by PAD floats.  A slab
// loaded along k (A not transposed, B transposed) writes with a row stride of BM + PAD; with
// PAD = 32 / BK (BK <= 32) consecutive k land in distinct banks.  Along m / n the writes are
// contiguous.
const uint PAD = (BK >= 32u) ? 1u : (32u / BK);
const uint SA = BM + PAD;
const uint SB = BN + PAD;
const uint TX = BN / TN;  // invocations across a tile's columns
const uint TY = BM / TM;  // invocations down a tile's rows

shared float As[BK * SA];
shared float Bs[BK * SB];

layout(set = 0, binding = 0) readonly buffer BufA { float A[]; };
layout(set = 0, binding = 1) readonly buffer BufB { float B[]; };
layout(set = 0, binding = 2) buffer BufC { float C[]; };

layout(push_constant) uniform Push {
    uint M, N, K;
    uint lda, ldb, ldc;
    uint strideA, strideB, strideC;
    uint offsetA, offsetB, offsetC;
    float alpha, beta;
} pc;

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint tid = gl_LocalInvocationID.x;
    uint tx = tid % TX;
    uint ty = tid / TX;
    uint m0 = gl_WorkGroupID.y * BM;
    uint n0 = gl_WorkGroupID.x * BN;
    uint batch = gl_WorkGroupID.z;
    uint baseA = pc.offsetA + batch * pc.strideA;
    uint baseB = pc.offsetB + batch * pc.strideB;
    uint baseC = pc.offsetC + batch * pc.strideC;

    float acc[TM * TN];
    for (uint i = 0u; i < TM * TN; ++i) acc[i] = 0.0;

    for (uint k0 = 0u; k0 < pc.K; k0 += BK) {
        // Stage A[m0 .. m0+BM, k0 .. k0+BK] into As[k][m]; consecutive invocations read
        // consecutive addresses of A (along k if A is M x K, along m if A is K x M).
        for (uint idx = tid; idx < BM * BK; idx += WG) {
            uint m, k;
            if (TRANS_A == 0u) { k = idx % BK; m = idx / BK; }
            else               { m = idx % BM; k = idx / BM; }
            uint gm = m0 + m;
            uint gk = k0 + k;
            float v = 0.0;
            if (gm < pc.M && gk < pc.K) {
                v = (TRANS_A == 0u) ? A[baseA + gm * pc.lda + gk] : A[baseA + gk * pc.lda + gm];
            }
            As[k * SA + m] = v;
        }
        // Stage B[k0 .. k0+BK, n0 .. n0+BN] into Bs[k][n] (coalesced along n if B is K x N,
        // along k if B is N x K).
        for (uint idx = tid; idx < BK * BN; idx += WG) {
            uint n, k;
            if (TRANS_B == 0u) { n = idx % BN; k = idx / BN; }
            else               { k = idx % BK; n = idx / BK; }
            uint gn = n0 + n;
            uint gk = k0 + k;
            float v = 0.0;
            if (gn < pc.N && gk < pc.K) {
                v = (TRANS_B == 0u) ? B[baseB + gk * pc.ldb + gn] : B[baseB + gn * pc.ldb + gk];
            }
            Bs[k * SB + n] = v;
        }
        barrier();

        for (uint kk = 0u; kk < BK; ++kk) {
            float ra[TM];
            float rb[TN];
            for (uint i = 0u; i < TM; ++i) ra[i] = As[kk * SA + ty + i * TY];
            for (uint j = 0u; j < TN; ++j) rb[j] = Bs[kk * SB + tx + j * TX];
            for (uint i = 0u; i < TM; ++i) {
                for (uint j = 0u; j < TN; ++j) acc[i * TN + j] = fma(ra[i], rb[j], acc[i * TN + j]);
            }
        }
        barrier();
    }

    if (ty >= TY) return;  // only when WG > (BM / TM) * (BN / TN): the extra invocations just load
    for (uint i = 0u; i < TM; ++i) {
        uint gm = m0 + ty + i * TY;
        if (gm >= pc.M) break;  // rows grow with i
        for (uint j = 0u; j < TN; ++j) {
            uint gn = n0 + tx + j * TX;
            if (gn >= pc.N) break;  // columns grow with j
            uint ci = baseC + gm * pc.ldc + gn;
            float v = pc.alpha * acc[i * TN + j];
            if (pc.beta != 0.0) v += pc.beta * C[ci];
            C[ci] = v;
        }
    }
}
