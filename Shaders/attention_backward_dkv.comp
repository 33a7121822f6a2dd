#version 450
// Attention backward, step 3 of 3: dk and dv. CPU reference: Sources/IFTCPU/Reference/AttentionBackward.swift
// (layout and masks: AttentionDescriptor in Sources/IFTCore/ForwardDescriptors.swift).
//
// One workgroup per (block of BKV keys, kv head g, batch entry b) = gl_WorkGroupID; WG = BKV * TPR
// invocations, TPR per key row. The block's k and v rows stay in shared memory; for each query head
// of the group, q and dout rows (with lse and D from attention_backward_stats.comp) stream through
// it in tiles of BQ queries, from the first query that may see the block's first key. For each
// allowed (query t, key j): P = exp(s - lse), dv[j] += P * dout[t],
// dk[j] += P * (dot(dout[t], v[j]) - D[t]) * q[t]; finally dk *= scale. Invocation `lane` of a key
// row owns columns lane, lane + TPR, ... (at most 32, so HD <= 32 * TPR). Every dk/dv element is
// written once (no atomics). Shared rows are HDP = HD | 1 floats apart (odd: no bank conflicts).
// Shared memory: 4 * (2 * BKV * HDP + 2 * BQ * HDP + 2 * BKV * BQ + 3 * BQ) bytes.
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;   // head dim
layout(constant_id = 2) const uint BKV = 16;  // keys per workgroup (divides WG)
layout(constant_id = 3) const uint BQ = 16;   // queries per tile

const uint TPR = gl_WorkGroupSize.x / BKV;
const uint NC = (HD + TPR - 1u) / TPR;
const uint HDP = HD | 1u;                  // shared row stride: odd, so rows fall in different banks

layout(set = 0, binding = 0) readonly buffer Q { float q[]; };
layout(set = 0, binding = 1) readonly buffer K { float k[]; };
layout(set = 0, binding = 2) readonly buffer V { float v[]; };
layout(set = 0, binding = 3) readonly buffer Seg { int seg[]; };
layout(set = 0, binding = 4) readonly buffer DOut { float dout[]; };
layout(set = 0, binding = 5) readonly buffer Stats { float stats[]; };
layout(set = 0, binding = 6) writeonly buffer DK { float dk[]; };
layout(set = 0, binding = 7) writeonly buffer DV { float dv[]; };

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
    uint gradOff0;      // dk (dq kernel: dq)
    uint gradOff1;      // dv
    int queryOffset;
    float scale;
    uint flags;         // 1: causal, 2: segments
} pc;

shared float ks[BKV * HDP];
shared float vs[BKV * HDP];
shared float qs[BQ * HDP];
shared float dos[BQ * HDP];
shared float ps[BKV * BQ];
shared float dss[BKV * BQ];
shared float lses[BQ];
shared float deltas[BQ];
shared int qsegs[BQ];

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint tid = gl_LocalInvocationID.x;
    uint row = tid / TPR;
    uint lane = tid - row * TPR;
    uint b = gl_WorkGroupID.z;
    uint g = gl_WorkGroupID.y;
    uint k0 = gl_WorkGroupID.x * BKV;
    bool causal = (pc.flags & 1u) != 0u;
    bool hasSeg = (pc.flags & 2u) != 0u;

    uint j = k0 + row;
    bool keyLive = j < pc.S;
    uint segBase = pc.segOff + b * pc.S;
    int mySeg = (hasSeg && keyLive) ? seg[segBase + j] : 0;

    uint kBase = pc.kOff + b * pc.kvBatchStride + g * HD;
    uint vBase = pc.vOff + b * pc.kvBatchStride + g * HD;
    for (uint i = tid; i < BKV * HD; i += WG) {
        uint r = i / HD;
        uint d = i - r * HD;
        uint jr = k0 + r;
        bool in_ = jr < pc.S;
        ks[r * HDP + d] = in_ ? k[kBase + jr * pc.kvRowStride + d] : 0.0;
        vs[r * HDP + d] = in_ ? v[vBase + jr * pc.kvRowStride + d] : 0.0;
    }

    // Causal: query t sees key j when j <= t + queryOffset, so start at the first query that sees k0.
    uint tStart = 0u;
    if (causal) tStart = uint(clamp(int(k0) - pc.queryOffset, 0, int(pc.T)));

    float accK[32];
    float accV[32];
    for (uint c = 0u; c < NC; c++) {
        accK[c] = 0.0;
        accV[c] = 0.0;
    }

    for (uint hh = 0u; hh < pc.group; hh++) {
        uint h = g * pc.group + hh;
        uint qBase = pc.qOff + b * pc.qBatchStride + h * HD;
        uint oBase = pc.doutOff + b * pc.outBatchStride + h * HD;
        uint sBase = pc.statsOff + 2u * (b * pc.H + h) * pc.T;
        for (uint t0 = tStart; t0 < pc.T; t0 += BQ) {
            barrier();  // the previous tile is consumed (and ks, vs are loaded)
            for (uint i = tid; i < BQ * HD; i += WG) {
                uint r = i / HD;
                uint d = i - r * HD;
                uint t = t0 + r;
                bool in_ = t < pc.T;
                qs[r * HDP + d] = in_ ? q[qBase + t * pc.qRowStride + d] : 0.0;
                dos[r * HDP + d] = in_ ? dout[oBase + t * pc.outRowStride + d] : 0.0;
            }
            for (uint r = tid; r < BQ; r += WG) {
                uint t = t0 + r;
                bool in_ = t < pc.T;
                lses[r] = in_ ? stats[sBase + 2u * t] : IFT_NEG_INF;
                deltas[r] = in_ ? stats[sBase + 2u * t + 1u] : 0.0;
                qsegs[r] = (in_ && hasSeg) ? seg[segBase + uint(int(t) + pc.queryOffset)] : 0;
            }
            barrier();

            for (uint tt = lane; tt < BQ; tt += TPR) {
                uint t = t0 + tt;
                float lse = lses[tt];
                bool ok = keyLive && lse != IFT_NEG_INF;  // lse is -inf past T
                if (causal) ok = ok && int(j) <= int(t) + pc.queryOffset;
                if (hasSeg) ok = ok && qsegs[tt] == mySeg;
                float P = 0.0;
                float ds = 0.0;
                if (ok) {
                    float dot = 0.0;
                    float dp = 0.0;
                    for (uint d = 0u; d < HD; d++) {
                        dot += qs[tt * HDP + d] * ks[row * HDP + d];
                        dp += dos[tt * HDP + d] * vs[row * HDP + d];
                    }
                    P = exp(dot * pc.scale - lse);
                    ds = P * (dp - deltas[tt]);
                }
                ps[row * BQ + tt] = P;
                dss[row * BQ + tt] = ds;
            }
            barrier();

            for (uint tt = 0u; tt < BQ; tt++) {
                float P = ps[row * BQ + tt];
                float ds = dss[row * BQ + tt];
                for (uint c = 0u; c < NC; c++) {
                    uint d = lane + c * TPR;
                    if (d < HD) {
                        accV[c] += P * dos[tt * HDP + d];
                        accK[c] += ds * qs[tt * HDP + d];
                    }
                }
            }
        }
    }

    if (!keyLive) return;
    uint kOut = pc.gradOff0 + b * pc.kvBatchStride + j * pc.kvRowStride + g * HD;
    uint vOut = pc.gradOff1 + b * pc.kvBatchStride + j * pc.kvRowStride + g * HD;
    for (uint c = 0u; c < NC; c++) {
        uint d = lane + c * TPR;
        if (d < HD) {
            dk[kOut + d] = accK[c] * pc.scale;
            dv[vOut + d] = accV[c];
        }
    }
}
