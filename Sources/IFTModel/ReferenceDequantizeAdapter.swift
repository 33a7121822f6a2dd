import IFTCore
import IFTCPU

/// TEMPORARY local dequantizers for Q8_0, Q4_0, Q4_1, Q4_K (ggml's dequantize_row_*), used until
/// IFTCPU's Reference dequantizers exist; then this forwards to them.
enum ReferenceDequantizeAdapter {
    static func dequantize(_ bytes: UnsafeRawBufferPointer, dtype: DType, count: Int) throws -> [Float] {
        let p = bytes.baseAddress!
        let blocks = count / dtype.blockSize
        var y = [Float](repeating: 0, count: count)
        func f16(_ o: Int) -> Float { HalfFloat.f16ToFloat(GGMLDequantize.u16(p, o)) }
        func u8(_ o: Int) -> UInt8 { p.load(fromByteOffset: o, as: UInt8.self) }
        for b in 0..<blocks {
            let o = b * dtype.blockBytes
            let yo = b * dtype.blockSize
            switch dtype {
            case .q8_0:
                let d = f16(o)
                for j in 0..<32 { y[yo + j] = Float(Int8(bitPattern: u8(o + 2 + j))) * d }
            case .q4_0:
                let d = f16(o)
                for j in 0..<16 {
                    y[yo + j] = Float(Int(u8(o + 2 + j) & 0xF) - 8) * d
                    y[yo + j + 16] = Float(Int(u8(o + 2 + j) >> 4) - 8) * d
                }
            case .q4_1:
                let d = f16(o), m = f16(o + 2)
                for j in 0..<16 {
                    y[yo + j] = Float(u8(o + 4 + j) & 0xF) * d + m
                    y[yo + j + 16] = Float(u8(o + 4 + j) >> 4) * d + m
                }
            case .q4_k:
                let d = f16(o), dmin = f16(o + 2)
                func scaleMin(_ j: Int) -> (UInt8, UInt8) {
                    let q = o + 4
                    if j < 4 { return (u8(q + j) & 63, u8(q + j + 4) & 63) }
                    return ((u8(q + j + 4) & 0xF) | ((u8(q + j - 4) >> 6) << 4),
                            (u8(q + j + 4) >> 4) | ((u8(q + j) >> 6) << 4))
                }
                var qs = o + 16
                var out = yo
                for j in stride(from: 0, to: 8, by: 2) {
                    let (s1, m1) = scaleMin(j), (s2, m2) = scaleMin(j + 1)
                    let d1 = d * Float(s1), mm1 = dmin * Float(m1)
                    let d2 = d * Float(s2), mm2 = dmin * Float(m2)
                    for l in 0..<32 { y[out + l] = d1 * Float(u8(qs + l) & 0xF) - mm1 }
                    for l in 0..<32 { y[out + 32 + l] = d2 * Float(u8(qs + l) >> 4) - mm2 }
                    qs += 32
                    out += 64
                }
            default:
                throw IFTError.dtypeMismatch("no dequantizer for \(dtype)")
            }
        }
        return y
    }
}
