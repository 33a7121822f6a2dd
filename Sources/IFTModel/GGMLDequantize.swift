import IFTCore
import IFTCPU

/// Conversion of GGML tensor data to f32. Float types are converted here; Q6_K (which the
/// engine's `DType` does not have) is dequantized here with ggml's `dequantize_row_q6_K`; the
/// quantized types the engine has a `DType` for (Q8_0, Q4_0, Q4_1, Q4_K) go through IFTCPU's
/// `Reference.dequantize`.
public enum GGMLDequantize {
    /// `count` f32 values from `bytes` holding `count` elements of `type` (little-endian).
    public static func floats(_ bytes: UnsafeRawBufferPointer, type: GGMLType, count: Int) throws -> [Float] {
        guard let need = type.byteCount(elements: count) else {
            throw IFTError.invalidArgument("\(count) elements is not a whole number of \(type) blocks (block size \(type.blockSize))")
        }
        guard bytes.count == need else {
            throw IFTError.invalidArgument("\(count) \(type) elements need \(need) bytes, got \(bytes.count)")
        }
        if count == 0 { return [] }
        let p = bytes.baseAddress!
        switch type {
        case .f32:
            return [Float](unsafeUninitializedCapacity: count) { out, n in
                UnsafeMutableRawBufferPointer(out).copyMemory(from: bytes)
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
                n = count
            }
        case .f16:
            return (0..<count).map { HalfFloat.f16ToFloat(u16(p, 2 * $0)) }
        case .bf16:
            return (0..<count).map { HalfFloat.bf16ToFloat(u16(p, 2 * $0)) }
        case .q6_k:
            return q6K(bytes, count: count)
        case .q8_0, .q4_0, .q4_1, .q4_k:
            // The cpu-ref backend's dequantizers (bit-exact with ggml and gguf-py).
            var out = [Float](repeating: 0, count: count)
            try out.withUnsafeMutableBufferPointer { try Reference.dequantize(type.dtype!, bytes: bytes, into: $0) }
            return out
        }
    }

    @inline(__always)
    static func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// ggml's `dequantize_row_q6_K`. A 210-byte block holds 256 values:
    /// `ql[128]` (low 4 bits), `qh[64]` (high 2 bits), `scales[16]` (int8, one per 16 values),
    /// `d` (f16). Value = d * scale * (q - 32) with q the 6-bit quant.
    static func q6K(_ bytes: UnsafeRawBufferPointer, count: Int) -> [Float] {
        let blocks = count / 256
        return [Float](unsafeUninitializedCapacity: count) { y, n in
            let base = bytes.baseAddress!
            for b in 0..<blocks {
                let blk = base + b * 210
                let d = HalfFloat.f16ToFloat(u16(blk, 208))
                var ql = blk
                var qh = blk + 128
                var sc = blk + 192
                var yo = b * 256
                for _ in 0..<2 {  // two halves of 128 values
                    for l in 0..<32 {
                        let isc = l / 16
                        let lo0 = ql.load(fromByteOffset: l, as: UInt8.self)
                        let lo1 = ql.load(fromByteOffset: l + 32, as: UInt8.self)
                        let hi = qh.load(fromByteOffset: l, as: UInt8.self)
                        let q1 = Int((lo0 & 0xF) | ((hi >> 0) & 3) << 4) - 32
                        let q2 = Int((lo1 & 0xF) | ((hi >> 2) & 3) << 4) - 32
                        let q3 = Int((lo0 >> 4) | ((hi >> 4) & 3) << 4) - 32
                        let q4 = Int((lo1 >> 4) | ((hi >> 6) & 3) << 4) - 32
                        func s(_ k: Int) -> Float { Float(sc.load(fromByteOffset: k, as: Int8.self)) }
                        y[yo + l] = d * s(isc) * Float(q1)
                        y[yo + l + 32] = d * s(isc + 2) * Float(q2)
                        y[yo + l + 64] = d * s(isc + 4) * Float(q3)
                        y[yo + l + 96] = d * s(isc + 6) * Float(q4)
                    }
                    yo += 128
                    ql += 64
                    qh += 32
                    sc += 8
                }
            }
            n = count
        }
    }
}
