import Foundation
import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// Dequantization and quantization: hand-built blocks, a bit-exact cross-check against gguf-py,
/// and round-trip error bounds.
final class QuantTests: XCTestCase {
    /// Dequantizes `bytes` with `Reference` and with both backends' `dequantize`, checks they agree
    /// bit for bit, and returns the values.
    func dequantAll(_ dtype: DType, _ bytes: [UInt8]) throws -> [Float] {
        let ref = try Reference.dequantize(dtype, bytes)
        for be in try cpuBackends() {
            let q = try be.tensor(bytes: bytes, shape: [ref.count], dtype: dtype)
            let out = try be.makeTensor(shape: [ref.count], dtype: .f32)
            try be.dequantize(q, into: out)
            assertBitEqual(try be.floats(out), ref, "\(be.name) \(dtype)")
        }
        return ref
    }

    // MARK: hand-built blocks

    func testDequantizeQ8_0HandBuilt() throws {
        let q: [Int8] = (0..<32).map { Int8(truncatingIfNeeded: $0 * 9 - 128) }  // -128, -119, ..., 151 wraps
        let bytes = le16(f16Bits(0.5)) + q.map { UInt8(bitPattern: $0) }
        XCTAssertEqual(try dequantAll(.q8_0, bytes), q.map { 0.5 * Float($0) })
        XCTAssertEqual(q.first, -128)
    }

    func testDequantizeQ4_0HandBuilt() throws {
        // Byte j: low nibble j (element j), high nibble 15 - j (element j + 16).
        let nibbles: [UInt8] = (0..<16).map { (j: Int) -> UInt8 in UInt8(j | ((15 - j) << 4)) }
        let bytes = le16(f16Bits(2)) + nibbles
        let low: [Float] = (0..<16).map { (j: Int) -> Float in 2 * Float(j - 8) }
        let high: [Float] = (0..<16).map { (j: Int) -> Float in 2 * Float(7 - j) }
        let want = low + high
        XCTAssertEqual(try dequantAll(.q4_0, bytes), want)
    }

    func testDequantizeQ4_1HandBuilt() throws {
        let nibbles: [UInt8] = (0..<16).map { (j: Int) -> UInt8 in UInt8(j | ((15 - j) << 4)) }
        let bytes = le16(f16Bits(0.25)) + le16(f16Bits(-1)) + nibbles
        let low: [Float] = (0..<16).map { (j: Int) -> Float in 0.25 * Float(j) - 1 }
        let high: [Float] = (0..<16).map { (j: Int) -> Float in 0.25 * Float(15 - j) - 1 }
        let want = low + high
        XCTAssertEqual(try dequantAll(.q4_1, bytes), want)
    }

    /// Packs 8 six-bit scales and mins the way ggml's Q4_K quantizer does.
    func packQ4KScales(_ sc: [UInt8], _ m: [UInt8]) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: 12)
        for j in 0..<8 {
            if j < 4 {
                p[j] = sc[j]
                p[j + 4] = m[j]
            } else {
                p[j + 4] = (sc[j] & 0xF) | ((m[j] & 0xF) << 4)
                p[j - 4] |= (sc[j] >> 4) << 6
                p[j] |= (m[j] >> 4) << 6
            }
        }
        return p
    }

    func testDequantizeQ4_KHandBuilt() throws {
        let sc: [UInt8] = [1, 2, 3, 4, 40, 50, 60, 63]
        let mn: [UInt8] = [0, 1, 2, 3, 33, 17, 48, 5]
        let packed = packQ4KScales(sc, mn)
        packed.withUnsafeBytes { p in
            for j in 0..<8 {
                let (s, m) = Reference.q4KScaleMin(j, p.baseAddress!)
                XCTAssertEqual(s, sc[j], "scale \(j)")
                XCTAssertEqual(m, mn[j], "min \(j)")
            }
        }
        // Element l of sub-block s has level (l + s) % 16; sub-blocks 2c and 2c+1 share the 32
        // bytes of chunk c (low and high nibbles).
        var qs = [UInt8](repeating: 0, count: 128)
        for c in 0..<4 {
            for l in 0..<32 {
                qs[32 * c + l] = UInt8((l + 2 * c) % 16) | UInt8((l + 2 * c + 1) % 16) << 4
            }
        }
        let bytes = le16(f16Bits(1)) + le16(f16Bits(0.5)) + packed + qs
        XCTAssertEqual(bytes.count, 144)
        var want = [Float]()
        for s in 0..<8 {
            for l in 0..<32 { want.append(1 * Float(sc[s]) * Float((l + s) % 16) - 0.5 * Float(mn[s])) }
        }
        XCTAssertEqual(try dequantAll(.q4_k, bytes), want)
    }

    func testDequantizeNF4HandBuilt() throws {
        let t = Reference.nf4Table
        XCTAssertEqual(t.count, 16)
        XCTAssertEqual(t[0], -1)
        XCTAssertEqual(t[7], 0)
        XCTAssertEqual(t[15], 1)
        XCTAssertEqual(t[8], 0.07958029955625534)
        XCTAssertEqual(t, t.sorted())
        let codes: [UInt8] = (0..<32).map { (i: Int) -> UInt8 in UInt8(i % 16) | UInt8(15 - i % 16) << 4 }
        let bytes = le32(Float(2).bitPattern) + codes
        var want = [Float]()
        for i in 0..<32 {
            want.append(2 * t[i % 16])
            want.append(2 * t[15 - i % 16])
        }
        XCTAssertEqual(try dequantAll(.nf4, bytes), want)
    }

    // MARK: gguf-py cross-check

    struct Fixture: Decodable {
        struct Case: Decodable {
            let dtype: String
            let source: String
            let blocks: Int
            let input: String?
            let bytes: String
            let dequant: String
        }
        let generator: String
        let gguf_version: String?
        let cases: [Case]
    }

    /// `Fixtures/quant-fixtures.json` was written by `Tools/make-quant-fixtures.py` with gguf-py
    /// (PyPI `gguf`, version recorded in the file): Q8_0/Q4_0/Q4_1 blocks quantized by gguf-py's
    /// numpy quantizers from random floats, random-byte blocks of Q8_0/Q4_0/Q4_1/Q4_K, all
    /// dequantized by gguf-py; and NF4 blocks from the script's own numpy NF4. Regenerate with
    /// `pip install gguf numpy && python3 Tools/make-quant-fixtures.py`.
    func loadFixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/quant-fixtures.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func decode(_ b64: String) throws -> [UInt8] {
        guard let d = Data(base64Encoded: b64) else { throw IFTError.invalidArgument("bad base64 in fixture") }
        return [UInt8](d)
    }

    func testDequantizeMatchesGGUFPyBitForBit() throws {
        let fixture = try loadFixture()
        var seen = Set<String>()
        for c in fixture.cases {
            guard let dtype = DType(rawValue: c.dtype) else { return XCTFail("unknown dtype \(c.dtype) in fixture") }
            let bytes = try decode(c.bytes)
            XCTAssertEqual(bytes.count, c.blocks * dtype.blockBytes, "\(c.dtype) \(c.source)")
            let want = floatsFromBytes(try decode(c.dequant))
            assertBitEqual(try dequantAll(dtype, bytes), want, "\(c.dtype) (\(c.source))")
            seen.insert(c.dtype)
        }
        XCTAssertEqual(seen, ["q8_0", "q4_0", "q4_1", "q4_k", "nf4"])
    }

    /// gguf-py's Q8_0/Q4_0/Q4_1 quantizers compute the same fp32 steps as ggml's
    /// `quantize_row_*_ref` (Q8_0's is documented as bit-exact), so ours must write identical
    /// bytes. NF4 is checked against the script's numpy implementation.
    func testQuantizersMatchGGUFPyByteForByte() throws {
        var checked = Set<String>()
        for c in try loadFixture().cases {
            guard let input = c.input, let dtype = DType(rawValue: c.dtype) else { continue }
            let x = floatsFromBytes(try decode(input))
            let want = try decode(c.bytes)
            let got = try Reference.quantize(dtype, x)
            XCTAssertEqual(got.count, want.count)
            for blk in 0..<c.blocks {
                let r = blk * dtype.blockBytes..<(blk + 1) * dtype.blockBytes
                if Array(got[r]) != Array(want[r]) {
                    XCTFail("\(c.dtype) block \(blk): ours \(Array(got[r])) != gguf-py \(Array(want[r]))")
                    break
                }
            }
            checked.insert(c.dtype)
        }
        XCTAssertEqual(checked, ["q8_0", "q4_0", "q4_1", "nf4"])
    }

    // MARK: round trips

    func blocksOfNormals(_ rng: inout SeededGenerator, blocks: Int, size: Int) -> [Float] {
        var x = [Float]()
        for _ in 0..<blocks {
            // 1e-2...1e2 keeps every scale a normal f16 (so its relative rounding is <= 2^-11).
            let s = Float(pow(10, Double(rng.uniform(-2, 2))))
            x += rng.normalArray(size, scale: s)
        }
        return x
    }

    func testRoundTripErrorBounds() throws {
        var rng = SeededGenerator(seed: 7)
        let t = Reference.nf4Table
        let maxNF4Gap = (1..<16).map { t[$0] - t[$0 - 1] }.max()!
        for dtype in [DType.q8_0, .q4_0, .q4_1, .nf4, .q4_k] {
            let bs = dtype.blockSize
            let x = blocksOfNormals(&rng, blocks: dtype == .q4_k ? 8 : 32, size: bs)
            let y = try Reference.dequantize(dtype, try Reference.quantize(dtype, x))
            for blk in 0..<(x.count / bs) {
                let xs = Array(x[blk * bs..<(blk + 1) * bs]), ys = Array(y[blk * bs..<(blk + 1) * bs])
                let amax = xs.map(abs).max()!, lo = xs.min()!, hi = xs.max()!
                // Bounds: half a step, plus the step's f16 rounding over the full level range.
                let bound: Float
                switch dtype {
                case .q8_0: bound = amax / 127 * (0.5 + 127 * 0x1p-11) * 1.001
                case .q4_0: bound = amax / 8 * (1 + 8 * 0x1p-11) * 1.001  // -max maps to level 7, a whole step away
                case .q4_1: bound = (hi - lo) / 15 * (0.5 + 15 * 0x1p-11) * 1.001 + abs(lo) * 0x1p-11
                case .nf4: bound = amax * maxNF4Gap / 2 * 1.0001
                default: bound = (hi - lo) / 8  // Q4_K: loose per-value bound; the nmse below is the real check
                }
                for i in 0..<bs {
                    XCTAssertLessThanOrEqual(abs(xs[i] - ys[i]), bound, "\(dtype) block \(blk) value \(i): \(xs[i]) -> \(ys[i])")
                }
                let e = nmse(ys, xs)
                XCTAssertLessThan(e, dtype == .q8_0 ? 1e-4 : 0.02, "\(dtype) block \(blk) nmse \(e)")
            }
        }
    }

    /// NF4 picks the nearest level: check against a Double search over the table.
    func testNF4PicksNearestLevel() throws {
        var rng = SeededGenerator(seed: 11)
        let x = rng.normalArray(64 * 16)
        let q = try Reference.quantize(.nf4, x)
        let t = Reference.nf4Table.map(Double.init)
        for blk in 0..<16 {
            let xs = x[blk * 64..<(blk + 1) * 64]
            let absmax = xs.map(abs).max()!
            let base = blk * 36
            XCTAssertEqual(floatsFromBytes(Array(q[base..<base + 4])), [absmax])
            for j in 0..<64 {
                let byte = q[base + 4 + j / 2]
                let code = Int(j % 2 == 0 ? byte & 0xF : byte >> 4)
                let v = Double(xs[blk * 64 + j] * (1 / absmax))
                let best = t.indices.min { abs(t[$0] - v) < abs(t[$1] - v) }!
                XCTAssertEqual(code, best, "block \(blk) value \(j): \(v)")
            }
        }
    }

    func testQuantizeEdgeBlocks() throws {
        for dtype in [DType.q8_0, .q4_0, .q4_1, .q4_k, .nf4] {
            // All zeros round-trip exactly, with zero scales.
            let zeros = [Float](repeating: 0, count: dtype.blockSize)
            XCTAssertEqual(try Reference.dequantize(dtype, try Reference.quantize(dtype, zeros)), zeros, "\(dtype)")
            // Non-finite input is rejected, not quantized into garbage.
            var bad = zeros
            bad[3] = .nan
            assertThrowsIFT(["quantize", "value 3", "finite"]) { _ = try Reference.quantize(dtype, bad) }
            // Subnormal-scale blocks do not trap.
            let tiny = (0..<dtype.blockSize).map { Float($0 % 7) * Float(bitPattern: 0x1C00) }  // ~1e-41: subnormal
            XCTAssertNoThrow(try Reference.quantize(dtype, tiny), "\(dtype)")
        }
        // Q4_K on a linear ramp: levels are monotone in the input.
        let ramp = (0..<256).map { Float($0) / 64 - 1 }
        let y = try Reference.dequantize(.q4_k, try Reference.quantize(.q4_k, ramp))
        XCTAssertLessThan(nmse(y, ramp), 0.01)
        for s in 0..<8 {
            for l in 1..<32 { XCTAssertGreaterThanOrEqual(y[32 * s + l], y[32 * s + l - 1], "sub-block \(s)") }
        }
    }
}
