import IFTCPU
import IFTCore
import XCTest

/// `Shaders/cast.comp` and `Shaders/dequant_*.comp` against `cpu-ref`: bit-exact.
final class ConvertTests: VulkanTestCase {
    /// Values that exercise rounding: ties, subnormals, overflow, infinities, NaN, signed zero.
    func specialValues() -> [Float] {
        var v: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, 65504, 65520, 65536, 1e-8, 6e-8, 3e-5, -7e-6]
        v += [Float(bitPattern: 0x3F80_1000), Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000)]  // bf16 ties
        v += [1 + 1.0 / 2048, 1 + 3.0 / 2048, .greatestFiniteMagnitude, .leastNonzeroMagnitude]  // f16 ties
        return v
    }

    func testCastsAreBitExact() throws {
        var g = SeededGenerator(seed: 1)
        let pairs: [(DType, DType)] = [(.f32, .f16), (.f32, .bf16), (.f16, .f32), (.bf16, .f32), (.f16, .bf16), (.bf16, .f16), (.f32, .f32)]
        var counts = [1, 2, 3, 127, 128, 129, 1000, 4097]
        for _ in 0..<14 { counts.append(1 + Int(g.next() % 3000)) }
        for (from, to) in pairs {
            for n in counts {
                var values = (0..<n).map { _ in g.uniform(-70000, 70000) * (g.next() % 2 == 0 ? 1 : 1e-6) }
                for (i, s) in specialValues().enumerated() where i < n { values[i] = s }
                var results: [[UInt8]] = []
                for backend in [vk as any Backend, ref] {
                    let src32 = try backend.tensor(values, shape: [n])
                    let src: Tensor
                    if from == .f32 {
                        src = src32
                    } else {
                        src = try backend.makeTensor(shape: [n], dtype: from)
                        try backend.cast(src32, into: src)
                    }
                    let dst = try backend.makeTensor(shape: [n], dtype: to)
                    try backend.cast(src, into: dst)
                    results.append(try backend.bytes(dst))
                }
                XCTAssertEqual(results[0], results[1], "cast \(from)->\(to) n=\(n)")
            }
        }
    }

    /// Random blocks with finite scales (random bytes elsewhere), as a quantizer could produce.
    func randomBlocks(_ dtype: DType, count: Int, _ g: inout SeededGenerator) -> [UInt8] {
        var bytes = (0..<count * dtype.blockBytes).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        for b in 0..<count {
            let o = b * dtype.blockBytes
            func f16(_ at: Int, _ x: Float) {
                let h = HalfFloat.floatToF16(x)
                bytes[o + at] = UInt8(h & 0xFF)
                bytes[o + at + 1] = UInt8(h >> 8)
            }
            switch dtype {
            case .q8_0, .q4_0: f16(0, g.uniform(-0.1, 0.1))
            case .q4_1, .q4_k:
                f16(0, g.uniform(-0.1, 0.1))
                f16(2, g.uniform(-0.1, 0.1))
            case .nf4:
                let bits = g.uniform(0, 3).bitPattern
                for i in 0..<4 { bytes[o + i] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(i))) }
            default: break
            }
        }
        return bytes
    }

    func testDequantizeIsBitExact() throws {
        var g = SeededGenerator(seed: 2)
        for dtype in [DType.q8_0, .q4_0, .q4_1, .q4_k, .nf4] {
            var blockCounts = [1, 2, 3, 7, 64, 255, 256, 257]
            for _ in 0..<14 { blockCounts.append(1 + Int(g.next() % 600)) }
            for blocks in blockCounts {
                let bytes = randomBlocks(dtype, count: blocks, &g)
                var results: [[Float]] = []
                for backend in [vk as any Backend, ref] {
                    let q = try backend.tensor(bytes: bytes, shape: [blocks * dtype.blockSize], dtype: dtype)
                    let out = try backend.makeTensor(shape: [blocks * dtype.blockSize], dtype: .f32)
                    try backend.dequantize(q, into: out)
                    results.append(try backend.floats(out))
                }
                XCTAssertNil(firstBitMismatch(results[0], results[1]), "\(dtype), \(blocks) blocks")
            }
        }
    }

    func testWrongDtypesAreClearErrors() throws {
        let q = try vk.makeTensor(shape: [64], dtype: .q8_0)
        let f16 = try vk.makeTensor(shape: [64], dtype: .f16)
        XCTAssertThrowsError(try vk.dequantize(q, into: f16)) { XCTAssertTrue("\($0)".contains("f32"), "\($0)") }
        XCTAssertThrowsError(try vk.cast(q, into: f16)) { XCTAssertTrue("\($0)".contains("cast"), "\($0)") }
        XCTAssertThrowsError(try vk.makeTensor(shape: [33], dtype: .q4_0)) { XCTAssertTrue("\($0)".contains("multiple of 32"), "\($0)") }
    }
}
