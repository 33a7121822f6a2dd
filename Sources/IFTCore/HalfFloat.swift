/// fp16 and bf16 <-> fp32 conversions (round to nearest even), the bit-exact definitions every
/// backend's `cast` and every quantized format's scale use.
public enum HalfFloat {
    /// IEEE binary16 bits -> Float (exact).
    @inlinable public static func f16ToFloat(_ bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// Float -> IEEE binary16 bits, round to nearest even (overflow gives infinity).
    @inlinable public static func floatToF16(_ x: Float) -> UInt16 {
        Float16(x).bitPattern
    }

    /// bfloat16 bits -> Float (exact: the high half of the fp32 pattern).
    @inlinable public static func bf16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float -> bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN.
    @inlinable public static func floatToBF16(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: b >> 16) | 0x0040 }
        let rounding: UInt32 = 0x7FFF + ((b >> 16) & 1)
        return UInt16(truncatingIfNeeded: (b &+ rounding) >> 16)
    }
}
