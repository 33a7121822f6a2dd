#version 450
#extension GL_EXT_control_flow_attributes : require
// Fused quantized linear: y = alpha * x · dequant(w)ᵀ + beta * y (CPU reference:
// Sources/IFTCPU/Reference/MatmulQuantized.swift).
//   x[m, k] at offA + m*lda + k (float), y[m, n] at offC + m*ldc + n (float),
//   w[n, k]: row n is K / BS blocks of FMT starting at byte wByte + n * (K / BS) * BB.
// When beta == 0, y is not read.
//
// Each invocation computes one column n of y for TM rows of x (m0 .. m0+TM-1), reading w's blocks
// straight from memory: every weight value is dequantized once per invocation with exactly the
// `precise` steps of include/dequant.glsl (bit-identical to dequant_*.comp; block scales hoisted out
// of the element loop) and used for TM fp32 multiply-adds. No
// shared memory, no barriers, no subgroup operations. Rows of x past M read a clamped (valid) row
// and are not written.
//
// Dispatch (ceil(N / WG), ceil(M / TM), 1).
// Specialization constants (uint): 0 WG (default 64), 1 FMT (0 q8_0, 1 q4_0, 2 q4_1, 3 q4_k,
// 4 nf4), 2 TM (rows of x per invocation, default 4), 3 VEC_X (0/1: x also read as vec4 through
// the aliased X4 view; the host sets it only when offA, lda and wByte are multiples of 4, and uses
// it for Q4_1, whose 20-byte blocks then start on word boundaries).
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint FMT = 0u;
layout(constant_id = 2) const uint TM = 4u;
layout(constant_id = 3) const uint VEC_X = 0u;

layout(set = 0, binding = 0) readonly buffer BufX { float X[]; };
layout(set = 0, binding = 0) readonly buffer BufX4 { vec4 X4[]; };
layout(set = 0, binding = 1) readonly buffer BufW { uint W[]; };
layout(set = 0, binding = 2) buffer BufY { float Y[]; };

#define IFT_DQ_BUF W
#include "dequant.glsl"

layout(push_constant) uniform Push {
    uint M, N, K;
    uint lda, ldc;
    uint offA, offC, wByte;
    float alpha, beta;
} pc;

// Values and bytes per block of FMT.
const uint BS = (FMT == 3u) ? 256u : ((FMT == 4u) ? 64u : 32u);
const uint BB = (FMT == 0u) ? 34u : ((FMT == 1u) ? 18u : ((FMT == 2u) ? 20u : ((FMT == 3u) ? 144u : 36u)));


void main() {
    uint n = gl_GlobalInvocationID.x;
    uint m0 = gl_WorkGroupID.y * TM;
    if (n >= pc.N) return;
    uint nb = pc.K / BS;
    uint rowByte = pc.wByte + n * nb * BB;

    uint xa[TM];
    float acc[TM];
    [[unroll]] for (uint i = 0u; i < TM; ++i) {
        xa[i] = pc.offA + min(m0 + i, pc.M - 1u) * pc.lda;
        acc[i] = 0.0;
    }

    for (uint b = 0u; b < nb; ++b) {
        uint off = rowByte + b * BB;
        uint k0 = b * BS;
        // Per format, the block's scales are read once; each value is the same `precise`
        // expression as in include/dequant.glsl (bit-identical to dequant_*.comp).
        if (FMT == 0u) {
            float d = IFT_READ_F16(W, off);
            for (uint j = 0u; j < 32u; ++j) {
                precise float w = d * float(IFT_READ_I8(W, off + 2u + j));
                [[unroll]] for (uint i = 0u; i < TM; ++i) acc[i] = fma(X[xa[i] + k0 + j], w, acc[i]);
            }
        } else if (FMT == 2u && VEC_X != 0u) {
            // Q4_1 with x rows on 16-byte boundaries: one word of w (8 values, blocks are 4-byte
            // aligned) and two vec4 of x per step.
            float d = IFT_READ_F16(W, off);
            float mn = IFT_READ_F16(W, off + 2u);
            uint qw = (off + 4u) >> 2u;
            [[unroll]] for (uint q = 0u; q < 4u; ++q) {
                uint word = W[qw + q];
                vec4 lo, hi;
                [[unroll]] for (uint e = 0u; e < 4u; ++e) {
                    uint byte_ = (word >> (8u * e)) & 0xFFu;
                    precise float a = (d * float(byte_ & 0xFu)) + mn;
                    precise float c = (d * float(byte_ >> 4u)) + mn;
                    lo[e] = a;
                    hi[e] = c;
                }
                [[unroll]] for (uint i = 0u; i < TM; ++i) {
                    vec4 xl = X4[(xa[i] + k0 + 4u * q) >> 2u];
                    vec4 xh = X4[(xa[i] + k0 + 16u + 4u * q) >> 2u];
                    acc[i] = fma(xl.x, lo.x, acc[i]);
                    acc[i] = fma(xl.y, lo.y, acc[i]);
                    acc[i] = fma(xl.z, lo.z, acc[i]);
                    acc[i] = fma(xl.w, lo.w, acc[i]);
                    acc[i] = fma(xh.x, hi.x, acc[i]);
                    acc[i] = fma(xh.y, hi.y, acc[i]);
                    acc[i] = fma(xh.z, hi.z, acc[i]);
                    acc[i] = fma(xh.w, hi.w, acc[i]);
                }
            }
        } else if (FMT == 1u || FMT == 2u) {
            float d = IFT_READ_F16(W, off);
            float mn = (FMT == 2u) ? IFT_READ_F16(W, off + 2u) : 0.0;
            uint qs = off + ((FMT == 2u) ? 4u : 2u);
            for (uint j = 0u; j < 16u; ++j) {
                uint byte_ = IFT_READ_U8(W, qs + j);
                float lo, hi;
                if (FMT == 1u) {
                    precise float a = d * float(int(byte_ & 0xFu) - 8);
                    precise float c = d * float(int(byte_ >> 4u) - 8);
                    lo = a; hi = c;
                } else {
                    precise float a = (d * float(byte_ & 0xFu)) + mn;
                    precise float c = (d * float(byte_ >> 4u)) + mn;
                    lo = a; hi = c;
                }
                [[unroll]] for (uint i = 0u; i < TM; ++i) {
                    acc[i] = fma(X[xa[i] + k0 + j], lo, acc[i]);
                    acc[i] = fma(X[xa[i] + k0 + 16u + j], hi, acc[i]);
                }
            }
        } else if (FMT == 3u) {
            float d = IFT_READ_F16(W, off);
            float dmin = IFT_READ_F16(W, off + 2u);
            uint s_ = off + 4u;
            for (uint sb = 0u; sb < 8u; ++sb) {
                uint sc, mq;
                if (sb < 4u) {
                    sc = IFT_READ_U8(W, s_ + sb) & 63u;
                    mq = IFT_READ_U8(W, s_ + sb + 4u) & 63u;
                } else {
                    uint b4 = IFT_READ_U8(W, s_ + sb + 4u);
                    sc = (b4 & 0xFu) | ((IFT_READ_U8(W, s_ + sb - 4u) >> 6u) << 4u);
                    mq = (b4 >> 4u) | ((IFT_READ_U8(W, s_ + sb) >> 6u) << 4u);
                }
                precise float d1 = d * float(sc);
                precise float m1 = dmin * float(mq);
                uint qs = off + 16u + 32u * (sb >> 1u);
                uint shift = (sb & 1u) * 4u;
                uint ks = k0 + 32u * sb;
                for (uint l = 0u; l < 32u; ++l) {
                    uint nib = (IFT_READ_U8(W, qs + l) >> shift) & 0xFu;
                    precise float w = d1 * float(nib) - m1;
                    [[unroll]] for (uint i = 0u; i < TM; ++i) acc[i] = fma(X[xa[i] + ks + l], w, acc[i]);
                }
            }
        } else {
            float absmax = uintBitsToFloat(W[off >> 2u]);
            for (uint j = 0u; j < 32u; ++j) {
                uint byte_ = IFT_READ_U8(W, off + 4u + j);
                precise float lo = absmax * uintBitsToFloat(NF4_TABLE_BITS[byte_ & 0xFu]);
                precise float hi = absmax * uintBitsToFloat(NF4_TABLE_BITS[byte_ >> 4u]);
                [[unroll]] for (uint i = 0u; i < TM; ++i) {
                    acc[i] = fma(X[xa[i] + k0 + 2u * j], lo, acc[i]);
                    acc[i] = fma(X[xa[i] + k0 + 2u * j + 1u], hi, acc[i]);
                }
            }
        }
    }

    [[unroll]] for (uint i = 0u; i < TM; ++i) {
        uint m = m0 + i;
        if (m < pc.M) {
            uint ci = pc.offC + m * pc.ldc + n;
            float v = pc.alpha * acc[i];
            if (pc.beta != 0.0) v += pc.beta * Y[ci];
            Y[ci] = v;
        }
    }
}
