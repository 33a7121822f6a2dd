#version 450
// Attention backward, step 1 of 3: per query row (batch entry b, head h, query t) the pair
// stats[2r] = lse, stats[2r + 1] = D = dot(dout, out) (0 when lse is -inf), r = (b * H + h) * T + t.
// The dq and dk/dv kernels (attention_backward_dq.comp, attention_backward_dkv.comp) read them.
// CPU reference: Sources/IFTCPU/Reference/AttentionBackward.swift. One invocation per row,
// grid-stride over rows; the dot product is summed in column order.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Out { float o[]; };
layout(set = 0, binding = 1) readonly buffer DOut { float dout[]; };
layout(set = 0, binding = 2) readonly buffer Lse { float lse[]; };
layout(set = 0, binding = 3) writeonly buffer Stats { float stats[]; };

layout(push_constant) uniform Push {
    uint rows;          // batch entries of this dispatch x H x T
    uint T;
    uint H;
    uint HD;
    uint outRowStride;  // dout has out's layout
    uint outBatchStride;
    uint outOff;
    uint doutOff;
    uint lseOff;
    uint statsOff;
} pc;

void main() {
    for (uint r = IFT_GRID_START; r < pc.rows; r += IFT_GRID_STRIDE) {
        uint t = r % pc.T;
        uint bh = r / pc.T;
        uint h = bh % pc.H;
        uint b = bh / pc.H;
        float l = lse[pc.lseOff + r];
        float D = 0.0;
        if (l != IFT_NEG_INF) {
            uint base = b * pc.outBatchStride + t * pc.outRowStride + h * pc.HD;
            for (uint d = 0u; d < pc.HD; d++) D += dout[pc.doutOff + base + d] * o[pc.outOff + base + d];
        }
        stats[pc.statsOff + 2u * r] = l;
        stats[pc.statsOff + 2u * r + 1u] = D;
    }
}
