#version 450
// NF4 -> f32 (our block format).  Block (36 bytes, 64 values): f32 absmax, 32 bytes; element 2i
// is the low nibble of byte i, 2i+1 the high nibble;  value = absmax * NF4_TABLE[q].
// Grid-stride over the nblocks * 64 output elements.
#include "common.glsl"
#include "bytes.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Q { uint q[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint nblocks;
} pc;

// The 16 NormalFloat levels of QLoRA (bitsandbytes), as exact fp32 bit patterns.
const uint NF4_TABLE_BITS[16] = uint[16](
    0xBF800000u,  // -1.0
    0xBF3239B1u,  // -0.6961928009986877
    0xBF066B30u,  // -0.5250730514526367
    0xBECA32A0u,  // -0.39491748809814453
    0xBE91A24Du,  // -0.28444138169288635
    0xBE3D353Fu,  // -0.18477343022823334
    0xBDBA7871u,  // -0.09105003625154495
    0x00000000u,  //  0.0
    0x3DA2FAFFu,  //  0.07958029955625534
    0x3E24CAE3u,  //  0.16093020141124725
    0x3E7C04DDu,  //  0.24611230194568634
    0x3EAD033Au,  //  0.33791524171829224
    0x3EE1A4B8u,  //  0.44070982933044434
    0x3F1007ABu,  //  0.5626170039176941
    0x3F3913B3u,  //  0.7229568362236023
    0x3F800000u   //  1.0
);

void main() {
    uint total = pc.nblocks * 64u;
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < total; i += stride) {
        uint blk = i >> 6u;
        uint e = i & 63u;
        uint word0 = blk * 9u;          // 36-byte blocks are word aligned
        float absmax = uintBitsToFloat(q[word0]);
        uint byte_ = IFT_READ_U8(q, blk * 36u + 4u + (e >> 1u));
        uint nib = ((e & 1u) != 0u) ? (byte_ >> 4u) : (byte_ & 0xFu);
        precise float r = absmax * uintBitsToFloat(NF4_TABLE_BITS[nib]);
        o[i] = r;
    }
}
