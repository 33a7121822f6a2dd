#version 450
// Fused grouped-query scaled-dot-product attention (flash-attention style), fp32 throughout.
// CPU reference: Sources/IFTCPU/Reference/Attention.swift (the masks and layout are described by
// AttentionDescriptor in Sources/IFTCore/ForwardDescriptors.swift).
//
// One workgroup per (block of BQ queries, query head, batch entry): gl_WorkGroupID = (query block,
// h, b). WG = BQ * TPR invocations; TPR invocations share one query row. The Q block sits in shared
// memory; keys and values stream through shared memory in tiles of BK rows; each row keeps an
// online softmax (running max m, running sum l) and its output accumulator in registers
// (invocation `lane` of a row owns columns lane, lane + TPR, ...: at most 32 of them, so
// HD <= 32 * TPR). Shared memory: 4 * (BQ * HD + 2 * BK * HD + BQ * BK) bytes.
//
// Query t is at key position p = t + queryOffset; it attends key j < S when (not causal or j <= p)
// and (no segments or seg[j] == seg[p]). A query with no key gets out = 0 and lse = -inf.
// Causal workgroups stop at the last key their last query may see.
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;   // head dim
layout(constant_id = 2) const uint BQ = 16;   // queries per workgroup (divides WG)
layout(constant_id = 3) const uint BK = 16;   // keys per tile

const uint TPR = gl_WorkGroupSize.x / BQ;     // invocations per query row
const uint NC = (HD + TPR - 1u) / TPR;        // accumulator columns per invocation (<= 32)

layout(set = 0, binding = 0) readonly buffer Q { float q[]; };
layout(set = 0, binding = 1) readonly buffer K { float k[]; };
layout(set = 0, binding = 2) readonly buffer V { float v[]; };
layout(set = 0, binding = 3) readonly buffer Seg { int seg[]; };
layout(set = 0, binding = 4) writeonly buffer Out { float o[]; };
layout(set = 0, binding = 5) writeonly buffer Lse { float lse[]; };

layout(push_constant) uniform Push {
    uint T;             // queries per batch entry
    uint S;             // keys per batch entry
    uint H;             // query heads
    uint group;         // query heads per kv head
    uint qRowStride;
    uint qBatchStride;
    uint kvRowStride;
    uint kvBatchStride;
    uint outRowStride;
    uint outBatchStride;
    uint qOff;          // element offsets of batch 0 in each binding
    uint kOff;
    uint vOff;
    uint outOff;
    uint segOff;        // seg[segOff + b * S + j]
    uint lseOff;        // lse[lseOff + (b * H + h) * T + t]
    int queryOffset;
    float scale;
    uint flags;         // 1: causal, 2: segments, 4: write lse
} pc;

shared float qs[BQ * HD];
shared float ks[BK * HD];
shared float vs[BK * HD];
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
    bool live = t < pc.T;
    int p = int(t) + pc.queryOffset;
    uint segBase = pc.segOff + b * pc.S;
    int mySeg = (hasSeg && live) ? seg[segBase + uint(p)] : 0;

    uint qBase = pc.qOff + b * pc.qBatchStride + h * HD;
    uint kBase = pc.kOff + b * pc.kvBatchStride + g * HD;
    uint vBase = pc.vOff + b * pc.kvBatchStride + g * HD;

    for (uint i = tid; i < BQ * HD; i += WG) {
        uint r = i / HD;
        uint tq = q0 + r;
        qs[i] = tq < pc.T ? q[qBase + tq * pc.qRowStride + (i - r * HD)] : 0.0;
    }

    // Keys to visit: all S, or (causal) up to the last key the block's last query may see.
    uint kEnd = pc.S;
    if (causal) {
        int last = int(min(q0 + BQ, pc.T)) - 1 + pc.queryOffset;
        kEnd = uint(clamp(last + 1, 0, int(pc.S)));
    }

    float m = IFT_NEG_INF;
    float l = 0.0;
    float acc[32];
    for (uint c = 0u; c < NC; c++) acc[c] = 0.0;
    barrier();

    for (uint j0 = 0u; j0 < kEnd; j0 += BK) {
        for (uint i = tid; i < BK * HD; i += WG) {
            uint r = i / HD;
            uint d = i - r * HD;
            uint j = j0 + r;
            bool in_ = j < kEnd;
            ks[i] = in_ ? k[kBase + j * pc.kvRowStride + d] : 0.0;
            vs[i] = in_ ? v[vBase + j * pc.kvRowStride + d] : 0.0;
        }
        barrier();

        for (uint jj = lane; jj < BK; jj += TPR) {
            uint j = j0 + jj;
            bool ok = live && j < kEnd;
            if (causal) ok = ok && int(j) <= p;
            if (hasSeg && ok) ok = seg[segBase + j] == mySeg;
            float s = IFT_NEG_INF;
            if (ok) {
                float dot = 0.0;
                for (uint d = 0u; d < HD; d++) dot += qs[row * HD + d] * ks[jj * HD + d];
                s = dot * pc.scale;
            }
            ss[row * BK + jj] = s;
        }
        barrier();

        // Online softmax update of this row (every invocation of the row computes the same m, l).
        float tmax = IFT_NEG_INF;
        for (uint jj = 0u; jj < BK; jj++) tmax = max(tmax, ss[row * BK + jj]);
        if (tmax != IFT_NEG_INF) {
            float mNew = max(m, tmax);
            float alpha = exp(m - mNew);  // 0 while m is still -inf
            for (uint c = 0u; c < NC; c++) acc[c] *= alpha;
            float psum = 0.0;
            for (uint jj = 0u; jj < BK; jj++) {
                float w = exp(ss[row * BK + jj] - mNew);  // 0 for masked keys
                psum += w;
                for (uint c = 0u; c < NC; c++) {
                    uint d = lane + c * TPR;
                    if (d < HD) acc[c] += w * vs[jj * HD + d];
                }
            }
            l = l * alpha + psum;
            m = mNew;
        }
        barrier();  // the next tile overwrites ks, vs, ss
    }

    if (!live) return;
    uint oBase = pc.outOff + b * pc.outBatchStride + t * pc.outRowStride + h * HD;
    for (uint c = 0u; c < NC; c++) {
        uint d = lane + c * TPR;
        if (d < HD) o[oBase + d] = l > 0.0 ? acc[c] / l : 0.0;
    }
    if ((pc.flags & 4u) != 0u && lane == 0u) {
        lse[pc.lseOff + (b * pc.H + h) * pc.T + t] = l > 0.0 ? m + log(l) : IFT_NEG_INF;
    }
}
