import IFTCore

extension Reference {
    /// The float dtypes `cast` converts between.
    public static let castableTypes: Set<DType> = [.f32, .f16, .bf16]

    /// Converts `count` elements of `src` (f32, f16 or bf16, little-endian) to `dst`.
    ///
    /// Every value goes through fp32, which holds f16 and bf16 exactly, so each conversion rounds
    /// once: to f16 with `HalfFloat.floatToF16` (round to nearest even, overflow to ±inf, subnormals
    /// kept), to bf16 with `HalfFloat.floatToBF16` (round to nearest even, NaN stays a quiet NaN).
    /// A cast to the same dtype copies the bits unchanged.
    public static func cast(
        from src: DType, _ input: UnsafeRawBufferPointer, to dst: DType, _ output: UnsafeMutableRawBufferPointer,
        count: Int
    ) throws {
        guard castableTypes.contains(src), castableTypes.contains(dst) else {
            throw IFTError.dtypeMismatch("cast converts between f32, f16 and bf16; got \(src) -> \(dst)")
        }
        guard count >= 0, input.count >= count * src.blockBytes, output.count >= count * dst.blockBytes else {
            throw IFTError.shapeMismatch(
                "cast: \(count) elements need \(count * src.blockBytes) input and \(count * dst.blockBytes) output bytes; got \(input.count) and \(output.count)")
        }
        guard count > 0, let inp = input.baseAddress, let outp = output.baseAddress else { return }
        if src == dst {
            outp.copyMemory(from: inp, byteCount: count * src.blockBytes)
            return
        }
        for i in 0..<count {
            storeFloat(dst, outp, i, loadFloat(src, inp, i))
        }
    }

    /// Element `i` of a little-endian f32/f16/bf16 buffer as Float (exact).
    @inline(__always)
    static func loadFloat(_ dtype: DType, _ p: UnsafeRawPointer, _ i: Int) -> Float {
        switch dtype {
        case .f16: return HalfFloat.f16ToFloat(u16(p, 2 * i))
        case .bf16: return HalfFloat.bf16ToFloat(u16(p, 2 * i))
        default: return Float(bitPattern: u32(p, 4 * i))
        }
    }

    /// Stores `v` as element `i` of a little-endian f32/f16/bf16 buffer (rounding to nearest even).
    @inline(__always)
    static func storeFloat(_ dtype: DType, _ p: UnsafeMutableRawPointer, _ i: Int, _ v: Float) {
        switch dtype {
        case .f16: storeU16(p, 2 * i, HalfFloat.floatToF16(v))
        case .bf16: storeU16(p, 2 * i, HalfFloat.floatToBF16(v))
        default: storeU32(p, 4 * i, v.bitPattern)
        }
    }
}
