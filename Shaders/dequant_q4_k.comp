#version 450
// Q4_K -> f32, as ggml's dequantize_row_q4_K.  Block (144 bytes, 256 values): f16 d, f16 dmin,
// 12 bytes of packed 6-bit scales and mins (8 sub-blocks of 32 values), 128 bytes of nibbles.
// Element e: chunk c = e / 64 uses qs[32c .. 32c+31]; the first 32 values of the chunk are the low
// nibbles (sub-block 2c), the next 32 the high nibbles (sub-block 2c+1).
//   d1 = d * sc, m1 = dmin * mn  (each rounded to f32),  value = d1 * q - m1  (no FMA).
// Grid-stride over the nblocks * 256 output elements.
#include "common.glsl"
#include "bytes.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Q { uint q[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint nblocks;
} pc;

void main() {
    uint total = pc.nblocks * 256u;
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < total; i += stride) {
        uint blk = i >> 8u;
        uint e = i & 255u;
        uint off = blk * 144u;
        float d = IFT_READ_F16(q, off);
        float dmin = IFT_READ_F16(q, off + 2u);
        uint sb = e >> 5u;              // sub-block 0..7 (= 2c + high)
        uint c = e >> 6u;               // chunk 0..3
        bool high = (e & 32u) != 0u;
        uint l = e & 31u;
        // get_scale_min_k4(sb, scales)
        uint sc, mn;
        uint s_ = off + 4u;             // scales[0]
        if (sb < 4u) {
            sc = IFT_READ_U8(q, s_ + sb) & 63u;
            mn = IFT_READ_U8(q, s_ + sb + 4u) & 63u;
        } else {
            uint b4 = IFT_READ_U8(q, s_ + sb + 4u);
            sc = (b4 & 0xFu) | ((IFT_READ_U8(q, s_ + sb - 4u) >> 6u) << 4u);
            mn = (b4 >> 4u) | ((IFT_READ_U8(q, s_ + sb) >> 6u) << 4u);
        }
        uint byte_ = IFT_READ_U8(q, off + 16u + 32u * c + l);
        uint nib = high ? (byte_ >> 4u) : (byte_ & 0xFu);
        precise float d1 = d * float(sc);
        precise float m1 = dmin * float(mn);
        precise float r = d1 * float(nib) - m1;
        o[i] = r;
    }
}
