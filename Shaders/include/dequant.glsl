// One element of a quantized block as f32, shared by dequant_*.comp and embedding.comp (CPU
// reference: Sources/IFTCPU/Reference/Dequantize.swift, bit for bit: every step is `precise`, so
// no FMA contraction changes a rounding). Block layouts: Shaders/README.md.
//
// Before including, declare the uint[] buffer member holding the blocks and
// `#define IFT_DQ_BUF <that member>`. Each function takes the byte offset of the block in that
// buffer (any alignment, except NF4: a multiple of 4) and the element index within the block.
#ifndef IFT_DEQUANT_GLSL
#define IFT_DEQUANT_GLSL

#include "bytes.glsl"

#ifndef IFT_DQ_BUF
#error "define IFT_DQ_BUF (the uint[] buffer member holding the blocks) before including dequant.glsl"
#endif

// Q8_0 (34 bytes, 32 values): f16 d, 32 x i8;  value = d * q.
float ift_dequant_q8_0(uint off, uint j) {
    float d = IFT_READ_F16(IFT_DQ_BUF, off);
    int v = IFT_READ_I8(IFT_DQ_BUF, off + 2u + j);
    precise float r = d * float(v);
    return r;
}

// Q4_0 (18 bytes, 32 values): f16 d, 16 bytes; element j < 16 is the low nibble of byte j,
// j >= 16 the high nibble of byte j - 16;  value = d * (q - 8).
float ift_dequant_q4_0(uint off, uint j) {
    float d = IFT_READ_F16(IFT_DQ_BUF, off);
    uint byte_ = IFT_READ_U8(IFT_DQ_BUF, off + 2u + (j & 15u));
    uint nib = (j < 16u) ? (byte_ & 0xFu) : (byte_ >> 4u);
    precise float r = d * float(int(nib) - 8);
    return r;
}

// Q4_1 (20 bytes, 32 values): f16 d, f16 m, nibbles as Q4_0;  value = (d * q) + m.
float ift_dequant_q4_1(uint off, uint j) {
    float d = IFT_READ_F16(IFT_DQ_BUF, off);
    float m = IFT_READ_F16(IFT_DQ_BUF, off + 2u);
    uint byte_ = IFT_READ_U8(IFT_DQ_BUF, off + 4u + (j & 15u));
    uint nib = (j < 16u) ? (byte_ & 0xFu) : (byte_ >> 4u);
    precise float r = (d * float(nib)) + m;
    return r;
}

// Q4_K (144 bytes, 256 values), as ggml's dequantize_row_q4_K: f16 d, f16 dmin, 12 bytes of packed
// 6-bit scales and mins (8 sub-blocks of 32), 128 bytes of nibbles. Element e: chunk c = e / 64
// uses qs[32c .. 32c+31]; its first 32 values are the low nibbles (sub-block 2c), the next 32 the
// high nibbles (sub-block 2c+1).  d1 = d * sc, m1 = dmin * mn (each rounded), value = d1 * q - m1.
float ift_dequant_q4_k(uint off, uint e) {
    float d = IFT_READ_F16(IFT_DQ_BUF, off);
    float dmin = IFT_READ_F16(IFT_DQ_BUF, off + 2u);
    uint sb = e >> 5u;              // sub-block 0..7 (= 2c + high)
    uint c = e >> 6u;               // chunk 0..3
    bool high = (e & 32u) != 0u;
    uint l = e & 31u;
    // get_scale_min_k4(sb, scales)
    uint sc, mn;
    uint s_ = off + 4u;             // scales[0]
    if (sb < 4u) {
        sc = IFT_READ_U8(IFT_DQ_BUF, s_ + sb) & 63u;
        mn = IFT_READ_U8(IFT_DQ_BUF, s_ + sb + 4u) & 63u;
    } else {
        uint b4 = IFT_READ_U8(IFT_DQ_BUF, s_ + sb + 4u);
        sc = (b4 & 0xFu) | ((IFT_READ_U8(IFT_DQ_BUF, s_ + sb - 4u) >> 6u) << 4u);
        mn = (b4 >> 4u) | ((IFT_READ_U8(IFT_DQ_BUF, s_ + sb) >> 6u) << 4u);
    }
    uint byte_ = IFT_READ_U8(IFT_DQ_BUF, off + 16u + 32u * c + l);
    uint nib = high ? (byte_ >> 4u) : (byte_ & 0xFu);
    precise float d1 = d * float(sc);
    precise float m1 = dmin * float(mn);
    precise float r = d1 * float(nib) - m1;
    return r;
}

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

// NF4 (ours, 36 bytes, 64 values; `off` a multiple of 4): f32 absmax, 32 bytes; element 2i is the
// low nibble of byte i, 2i+1 the high nibble;  value = absmax * NF4_TABLE[q].
float ift_dequant_nf4(uint off, uint e) {
    float absmax = uintBitsToFloat(IFT_DQ_BUF[off >> 2u]);
    uint byte_ = IFT_READ_U8(IFT_DQ_BUF, off + 4u + (e >> 1u));
    uint nib = ((e & 1u) != 0u) ? (byte_ >> 4u) : (byte_ & 0xFu);
    precise float r = absmax * uintBitsToFloat(NF4_TABLE_BITS[nib]);
    return r;
}

#endif
