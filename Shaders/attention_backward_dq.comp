#version 450
// Attention backward, step 2 of 3: dq. CPU reference: Sources/IFTCPU/Reference/AttentionBackward.swift
// (layout and masks: AttentionDescriptor in Sources/IFTCore/ForwardDescriptors.swift).
//
// One workgroup per (block of BQ queries, query head h, batch entry b) = gl_WorkGroupID; WG = BQ * TPR
// invocations, TPR per query row, as attention.comp. The block's q and dout rows sit in shared
// memory; keys and values stream through it in tiles of BK rows. For each allowed key j:
// P = exp(s - lse), dS = P * (dot(dout, v[j]) - D) (lse and D from attention_backward_stats.comp),
// dq += dS * k[j]; finally dq *= scale. Invocation `lane` of a row owns columns lane, lane + TPR, ...
// (at most 32, so HD <= 32 * TPR). Every dq element is written once (no atomics).
// Shared rows are HDP = HD | 1 floats apart (odd: no bank conflicts between rows).
// Shared memory: 4 * (2 * BQ * HDP + 2 * BK * HDP + BQ * BK) bytes.
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;   // head dim
layout(constant_id = 2) const uint BQ = 16;   // queries per workgroup (divides WG)
layout(constant_id = 3) const uint BK = 16;   // keys per tile

const uint TPR = gl_WorkGroupSize.x / BQ;
const uint NC = (HD + TPR - 1u) / TPR;
const uint HDP = HD | 1u;                  // shared row stride: odd, so rows fall in different banks

layout(set = 0, binding = 0) readonly buffer Q { float q[]; };
layout(set = 0, binding = 1) readonly buffer K { float k[]; };
layout(set = 0, binding = 2) readonly buffer V { float v[]; };
layout(set = 0, binding = 3) readonly buffer Seg { int seg[]; };
layout(set = 0, binding = 4) readonly buffer DOut { float dout[]; };
layout(set = 0, binding = 5) readonly buffer Stats { float stats[]; };
layout(set = 0, binding = 6) writeonly buffer DQ { float dq[]; };

// Shared by attention_backward_dq and attention_backward_dkv.
layout(push_constant) uniform Push {
    uint T;
    uint S;
    uint H;
    uint group;         // query heads per kv head
    uint qRowStride;    // q and dq
    uint qBatchStride;
    uint kvRowStride;   // k, v, dk, dv
    uint kvBatchStride;
    uint outRowStride;  // dout
    uint outBatchStride;
    uint qOff;
    uint kOff;
    uint vOff;
    uint doutOff;
    uint segOff;        // seg[segOff + b * S + j]
    uint statsOff;      // stats[statsOff + 2 * ((b * H + h) * T + t) + {0: lse, 1: D}]
    uint gradOff0;      // dq (dkv: dk)
    uint gradOff1;      // (dkv: dv)
    int queryOffset;
    float scale;
    uint flags;         // 1: causal, 2: segments
} pc;

shared float qs[BQ * HDP];
shared float dos[BQ * HDP];
shared float ks[BK * HDP];
shared float vs[BK * HDP];
shared float ss[BQ * BK];

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint tid = gl_LocalInvocationID.x;
    uint row = tid / TPR;
    uint lane = tid - row * TPR;
    uint b = gl_WorkGroupID.z;
    uint h = gl_WorkGroupID.y;
    uint q0 = gl_WorkGroupID.x * BQ;
    uint g = h / pc.group;
    bool causal = (pc.flags & 1u) != 0u;
    bool hasSeg = (pc.flags & 2u) != 0u;

    uint t = q0 + row;
    float lse = IFT_NEG_INF;
    float D = 0.0;
    if (t < pc.T) {
        uint si = pc.statsOff + 2u * ((b * pc.H + h) * pc.T + t);
        lse = stats[si];
        D = stats[si + 1u];
    }
    bool live = lse != IFT_NEG_INF;  // false past T and for queries without keys
    int p = int(t) + pc.queryOffset;
    uint segBase = pc.segOff + b * pc.S;
    int mySeg = (hasSeg && live) ? seg[segBase + uint(p)] : 0;

    uint qBase = pc.qOff + b * pc.qBatchStride + h * HD;
    uint oBase = pc.doutOff + b * pc.outBatchStride + h * HD;
    uint kBase = pc.kOff + b * pc.kvBatchStride + g * HD;
    uint vBase = pc.vOff + b * pc.kvBatchStride + g * HD;

    for (uint i = tid; i < BQ * HD; i += WG) {
        uint r = i / HD;
        uint d = i - r * HD;
        uint tq = q0 + r;
        bool in_ = tq < pc.T;
        qs[r * HDP + d] = in_ ? q[qBase + tq * pc.qRowStride + d] : 0.0;
        dos[r * HDP + d] = in_ ? dout[oBase + tq * pc.outRowStride + d] : 0.0;
    }

    uint kEnd = pc.S;
    if (causal) {
        int last = int(min(q0 + BQ, pc.T)) - 1 + pc.queryOffset;
        kEnd = uint(clamp(last + 1, 0, int(pc.S)));
    }

    float acc[32];
    for (uint c = 0u; c < NC; c++) acc[c] = 0.0;
    barrier();

    for (uint j0 = 0u; j0 < kEnd; j0 += BK) {
        for (uint i = tid; i < BK * HD; i += WG) {
            uint r = i / HD;
            uint d = i - r * HD;
            uint j = j0 + r;
            bool in_ = j < kEnd;
            ks[r * HDP + d] = in_ ? k[kBase + j * pc.kvRowStride + d] : 0.0;
            vs[r * HDP + d] = in_ ? v[vBase + j * pc.kvRowStride + d] : 0.0;
        }
        barrier();

        for (uint jj = lane; jj < BK; jj += TPR) {
            uint j = j0 + jj;
            bool ok = live && j < kEnd;
            if (causal) ok = ok && int(j) <= p;
            if (hasSeg && ok) ok = seg[segBase + j] == mySeg;
            float ds = 0.0;
            if (ok) {
                float dot = 0.0;
                float dp = 0.0;
                for (uint d = 0u; d < HD; d++) {
                    dot += qs[row * HDP + d] * ks[jj * HDP + d];
                    dp += dos[row * HDP + d] * vs[jj * HDP + d];
                }
                float P = exp(dot * pc.scale - lse);
                ds = P * (dp - D);
            }
            ss[row * BK + jj] = ds;
        }
        barrier();

        for (uint jj = 0u; jj < BK; jj++) {
            float ds = ss[row * BK + jj];
            for (uint c = 0u; c < NC; c++) {
                uint d = lane + c * TPR;
                if (d < HD) acc[c] += ds * ks[jj * HDP + d];
            }
        }
        barrier();  // the next tile overwrites ks, vs, ss
    }

    if (t >= pc.T) return;
    uint base = pc.gradOff0 + b * pc.qBatchStride + t * pc.qRowStride + h * HD;
    for (uint c = 0u; c < NC; c++) {
        uint d = lane + c * TPR;
        if (d < HD) dq[base + d] = acc[c] * pc.scale;
    }
}
