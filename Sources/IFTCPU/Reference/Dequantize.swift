import IFTCore

/// Dequantization of the block formats (see `Shaders/README.md` for the layouts; all multi-byte
/// fields little-endian, blocks at any byte alignment).
///
/// Every formula is written as separate fp32 operations, each rounded once — no fused multiply-add
/// (Swift does not contract `a * b + c`), because the `dequant_*` shaders compute the same steps
/// with `precise` and must match bit for bit; so must gguf-py's numpy dequantizers (checked by the
/// tests against `Tests/IFTCPUTests/Fixtures/quant-fixtures.json`).
extension Reference {
    /// QLoRA's 16 NormalFloat-4 levels (bitsandbytes' NF4 code book), ascending; code 7 is 0.
    public static let nf4Table: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// Dequantizes `out.count` values (a whole number of blocks of `dtype`) from `bytes`, which
    /// must hold exactly `out.count / dtype.blockSize` blocks.
    public static func dequantize(_ dtype: DType, bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard dtype.isQuantized else {
            throw IFTError.dtypeMismatch("dequantize takes a quantized dtype, got \(dtype)")
        }
        let needed = try dtype.byteCount(elements: out.count)
        guard bytes.count == needed else {
            throw IFTError.shapeMismatch(
                "dequantize: \(out.count) \(dtype) values are \(out.count / dtype.blockSize) blocks = \(needed) bytes, got \(bytes.count) bytes")
        }
        guard let src = bytes.baseAddress, let dst = out.baseAddress else { return }
        for blk in 0..<(out.count / dtype.blockSize) {
            dequantizeBlock(dtype, src + blk * dtype.blockBytes, into: dst + blk * dtype.blockSize)
        }
    }

    /// Dequantizes `bytes` (whole blocks of `dtype`) into a new array.
    public static func dequantize(_ dtype: DType, _ bytes: [UInt8]) throws -> [Float] {
        guard dtype.isQuantized else {
            throw IFTError.dtypeMismatch("dequantize takes a quantized dtype, got \(dtype)")
        }
        guard bytes.count % dtype.blockBytes == 0 else {
            throw IFTError.shapeMismatch("dequantize: \(bytes.count) bytes is not a whole number of \(dtype) blocks (\(dtype.blockBytes) bytes each)")
        }
        var out = [Float](repeating: 0, count: bytes.count / dtype.blockBytes * dtype.blockSize)
        try bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { try dequantize(dtype, bytes: raw, into: $0) }
        }
        return out
    }

    /// Dequantizes one block of `dtype` at `block` into `dtype.blockSize` floats at `y`.
    /// `dtype` must be quantized (a float dtype writes nothing).
    @inline(__always)
    public static func dequantizeBlock(_ dtype: DType, _ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .q8_0: dequantizeQ8_0(block, into: y)
        case .q4_0: dequantizeQ4_0(block, into: y)
        case .q4_1: dequantizeQ4_1(block, into: y)
        case .q4_k: dequantizeQ4_K(block, into: y)
        case .nf4: dequantizeNF4(block, into: y)
        case .f32, .f16, .bf16, .i32: break
        }
    }

    /// Q8_0 (34 bytes, 32 values): f16 `d`, then 32 × int8 `q`.
    /// `y[j] = d * Float(q[j])`.
    public static func dequantizeQ8_0(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = HalfFloat.f16ToFloat(u16(block, 0))
        for j in 0..<32 {
            let q = Int8(bitPattern: block.load(fromByteOffset: 2 + j, as: UInt8.self))
            y[j] = d * Float(q)
        }
    }

    /// Q4_0 (18 bytes, 32 values): f16 `d`, then 16 bytes; `q[j]` (j < 16) is the low nibble of
    /// byte j, `q[j + 16]` its high nibble.
    /// `y[j] = d * Float(q[j] - 8)`.
    public static func dequantizeQ4_0(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = HalfFloat.f16ToFloat(u16(block, 0))
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
            let q0 = Int(byte & 0x0F) - 8
            let q1 = Int(byte >> 4) - 8
            y[j] = d * Float(q0)
            y[j + 16] = d * Float(q1)
        }
    }

    /// Q4_1 (20 bytes, 32 values): f16 `d`, f16 `m`, then 16 bytes of nibbles as in Q4_0.
    /// `y[j] = (d * Float(q[j])) + m` — the product rounded before the add.
    public static func dequantizeQ4_1(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = HalfFloat.f16ToFloat(u16(block, 0))
        let m = HalfFloat.f16ToFloat(u16(block, 2))
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 4 + j, as: UInt8.self)
            let p0 = d * Float(byte & 0x0F)
            let p1 = d * Float(byte >> 4)
            y[j] = p0 + m
            y[j + 16] = p1 + m
        }
    }

    /// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K block, from its 12 packed bytes
    /// `q` — ggml's `get_scale_min_k4`:
    /// j < 4: `sc = q[j] & 63`, `m = q[j + 4] & 63`;
    /// j ≥ 4: `sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4)`, `m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4)`.
    @inline(__always)
    public static func q4KScaleMin(_ j: Int, _ q: UnsafeRawPointer) -> (sc: UInt8, m: UInt8) {
        func byte(_ i: Int) -> UInt8 { q.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 {
            return (byte(j) & 63, byte(j + 4) & 63)
        }
        return ((byte(j + 4) & 0xF) | ((byte(j - 4) >> 6) << 4), (byte(j + 4) >> 4) | ((byte(j) >> 6) << 4))
    }

    /// Q4_K (144 bytes, 256 values), ggml's `block_q4_K`: f16 `d`, f16 `dmin`, 12 bytes of packed
    /// 6-bit scales and mins for 8 sub-blocks of 32 (see `q4KScaleMin`), 128 bytes of nibbles.
    /// Exactly ggml's `dequantize_row_q4_K`: for each 64 values `j` (sub-blocks `is = j/32` and
    /// `is + 1`), with the 32 bytes `q` at `16 + j/2`:
    /// `d1 = d * Float(sc(is))`, `m1 = dmin * Float(m(is))` (likewise `d2`, `m2` for `is + 1`),
    /// `y[j + l] = (d1 * Float(q[l] & 0xF)) - m1`, `y[j + 32 + l] = (d2 * Float(q[l] >> 4)) - m2`.
    public static func dequantizeQ4_K(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = HalfFloat.f16ToFloat(u16(block, 0))
        let dmin = HalfFloat.f16ToFloat(u16(block, 2))
        let scales = block + 4
        for j in stride(from: 0, to: 256, by: 64) {
            let sub = j / 32
            let (sc1, mn1) = q4KScaleMin(sub, scales)
            let d1 = d * Float(sc1)
            let m1 = dmin * Float(mn1)
            let (sc2, mn2) = q4KScaleMin(sub + 1, scales)
            let d2 = d * Float(sc2)
            let m2 = dmin * Float(mn2)
            let q = block + 16 + j / 2
            for l in 0..<32 {
                let byte = q.load(fromByteOffset: l, as: UInt8.self)
                let p1 = d1 * Float(byte & 0xF)
                let p2 = d2 * Float(byte >> 4)
                y[j + l] = p1 - m1
                y[j + 32 + l] = p2 - m2
            }
        }
    }

    /// NF4 (ours: 36 bytes, 64 values): f32 `absmax`, then 32 bytes; `q[2i]` is the low nibble of
    /// byte i, `q[2i + 1]` the high nibble.
    /// `y[j] = absmax * nf4Table[q[j]]`.
    public static func dequantizeNF4(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let absmax = Float(bitPattern: u32(block, 0))
        nf4Table.withUnsafeBufferPointer { table in
            for i in 0..<32 {
                let byte = block.load(fromByteOffset: 4 + i, as: UInt8.self)
                y[2 * i] = absmax * table[Int(byte & 0x0F)]
                y[2 * i + 1] = absmax * table[Int(byte >> 4)]
            }
        }
    }
}
