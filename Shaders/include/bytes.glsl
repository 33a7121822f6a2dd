// Bytewise access to tensors bound as uint[] (little-endian), at any byte offset, and exact
// fp16 / bf16 <-> fp32 conversions done with integer bit manipulation only (no float
// instruction is involved, so no driver denormal flushing or rounding mode can change a bit).
//
// The conversions match Sources/IFTCore/HalfFloat.swift bit for bit:
//   f16 -> f32: exact; subnormals are normalized; a NaN keeps its payload and becomes quiet.
//   f32 -> f16: round to nearest even; overflow gives infinity; subnormal results are produced;
//               a NaN keeps its top payload bits and becomes quiet (0x7E00 | payload >> 13).
//   bf16 -> f32: the high half of the fp32 pattern.
//   f32 -> bf16: round to nearest even; a NaN becomes (bits >> 16) | 0x40.
#ifndef IFT_BYTES_GLSL
#define IFT_BYTES_GLSL

// Macros, because GLSL cannot pass a buffer array to a function. `buf` is a uint[] member,
// `off` a uint byte offset (evaluated more than once: pass a plain variable or expression
// without side effects). Reads may touch the whole 32-bit word that holds the last byte.
#define IFT_READ_U8(buf, off) (((buf)[(off) >> 2u] >> (((off) & 3u) << 3u)) & 0xFFu)
#define IFT_READ_U16(buf, off) (IFT_READ_U8(buf, off) | (IFT_READ_U8(buf, (off) + 1u) << 8u))
#define IFT_READ_U32(buf, off) (IFT_READ_U16(buf, off) | (IFT_READ_U16(buf, (off) + 2u) << 16u))
// Signed byte, sign-extended.
#define IFT_READ_I8(buf, off) ((int(IFT_READ_U8(buf, off)) << 24) >> 24)
// fp16 / fp32 stored at a byte offset, as float.
#define IFT_READ_F16(buf, off) ift_f16_to_f32(IFT_READ_U16(buf, off))
#define IFT_READ_F32(buf, off) uintBitsToFloat(IFT_READ_U32(buf, off))

// IEEE binary16 bits (low 16 bits of h) -> binary32 bits.
uint ift_f16_bits_to_f32_bits(uint h) {
    uint sign = (h & 0x8000u) << 16u;
    uint e = (h >> 10u) & 0x1Fu;
    uint m = h & 0x3FFu;
    if (e == 0x1Fu) {
        // Infinity (m == 0) or NaN: payload kept, quiet bit set.
        return sign | 0x7F800000u | (m != 0u ? (0x00400000u | (m << 13u)) : 0u);
    }
    if (e == 0u) {
        if (m == 0u) return sign;  // +-0
        // Subnormal: value = m * 2^-24 = 1.f * 2^(p - 24) where p = index of m's top bit.
        uint p = uint(findMSB(m));
        return sign | ((p + 103u) << 23u) | ((m << (23u - p)) & 0x7FFFFFu);
    }
    return sign | ((e + 112u) << 23u) | (m << 13u);
}

float ift_f16_to_f32(uint h) { return uintBitsToFloat(ift_f16_bits_to_f32_bits(h)); }

// binary32 bits -> IEEE binary16 bits (in the low 16 bits), round to nearest even.
uint ift_f32_bits_to_f16_bits(uint x) {
    uint sign = (x >> 16u) & 0x8000u;
    uint ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return sign | 0x7E00u | ((ax >> 13u) & 0x1FFu);  // NaN, made quiet
    if (ax >= 0x47800000u) return sign | 0x7C00u;                          // >= 65536 or inf
    if (ax >= 0x38800000u) {
        // Normal result (rounding may carry into the exponent, up to infinity at 65520).
        uint base = (ax - 0x38000000u) >> 13u;
        uint rest = ax & 0x1FFFu;
        if (rest > 0x1000u || (rest == 0x1000u && (base & 1u) != 0u)) base += 1u;
        return sign | base;
    }
    if (ax < 0x33000000u) return sign;  // below half the smallest subnormal (2^-25): +-0
    // Subnormal result: value / 2^-24 = m * 2^(e - 126), with e in [102, 112], shift in [14, 24].
    uint e = ax >> 23u;
    uint m = (ax & 0x7FFFFFu) | 0x800000u;
    uint shift = 126u - e;
    uint q = m >> shift;
    uint rest = m & ((1u << shift) - 1u);
    uint half_ = 1u << (shift - 1u);
    if (rest > half_ || (rest == half_ && (q & 1u) != 0u)) q += 1u;  // may become 0x400: normal
    return sign | q;
}

uint ift_f32_to_f16(float f) { return ift_f32_bits_to_f16_bits(floatBitsToUint(f)); }

// bfloat16 bits -> binary32 bits.
uint ift_bf16_bits_to_f32_bits(uint h) { return (h & 0xFFFFu) << 16u; }

// binary32 bits -> bfloat16 bits, round to nearest even; NaN -> (bits >> 16) | 0x40.
uint ift_f32_bits_to_bf16_bits(uint x) {
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (x >> 16u) | 0x40u;
    return (x + 0x7FFFu + ((x >> 16u) & 1u)) >> 16u;
}

#endif
