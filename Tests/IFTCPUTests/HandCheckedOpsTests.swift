import IFTCPU
import IFTCore
import XCTest

/// Small examples with answers worked out by hand, run on `cpu-ref` (the truth) and on `cpu`.
final class HandCheckedOpsTests: XCTestCase {
    // A = [[1,2,3],[4,5,6]] (2x3), B = [[7,8],[9,10],[11,12]] (3x2), A·B = [[58,64],[139,154]].
    let a: [Float] = [1, 2, 3, 4, 5, 6]
    let aT: [Float] = [1, 4, 2, 5, 3, 6]  // Aᵀ stored 3x2
    let b: [Float] = [7, 8, 9, 10, 11, 12]
    let bT: [Float] = [7, 9, 11, 8, 10, 12]  // Bᵀ stored 2x3
    let ab: [Float] = [58, 64, 139, 154]

    func testMatmulAllTransposeCombinations() throws {
        for be in try cpuBackends() {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let ta_ = try be.tensor(ta ? aT : a, shape: ta ? [3, 2] : [2, 3])
                let tb_ = try be.tensor(tb ? bT : b, shape: tb ? [2, 3] : [3, 2])
                let c = try be.makeTensor(shape: [2, 2], dtype: .f32)
                try be.matmul(ta_, tb_, c, MatmulDescriptor(m: 2, n: 2, k: 3, transposeA: ta, transposeB: tb))
                XCTAssertEqual(try be.floats(c), ab, "\(be.name) transposeA=\(ta) transposeB=\(tb)")
            }
        }
    }

    func testMatmulBatchWithBroadcastB() throws {
        for be in try cpuBackends() {
            // Batch 2: A1 = 2 * A0, B shared (strideB = 0) -> C1 = 2 * C0.
            let ta = try be.tensor(a + a.map { 2 * $0 }, shape: [2, 2, 3])
            let tb = try be.tensor(b, shape: [3, 2])
            let c = try be.makeTensor(shape: [2, 2, 2], dtype: .f32)
            var d = MatmulDescriptor(m: 2, n: 2, k: 3, batch: 2)
            d.strideB = 0
            try be.matmul(ta, tb, c, d)
            XCTAssertEqual(try be.floats(c), ab + ab.map { 2 * $0 }, be.name)
        }
    }

    func testMatmulAlphaBeta() throws {
        for be in try cpuBackends() {
            let ta = try be.tensor(a, shape: [2, 3]), tb = try be.tensor(b, shape: [3, 2])
            let c = try be.tensor([1, 2, 3, 4], shape: [2, 2])
            try be.matmul(ta, tb, c, MatmulDescriptor(m: 2, n: 2, k: 3, alpha: 2, beta: 0.5))
            XCTAssertEqual(try be.floats(c), [116.5, 129, 279.5, 310], be.name)
        }
    }

    func testMatmulBetaZeroIgnoresNaNInC() throws {
        for be in try cpuBackends() {
            let ta = try be.tensor(a, shape: [2, 3]), tb = try be.tensor(b, shape: [3, 2])
            let c = try be.tensor([.nan, .infinity, .nan, -.infinity], shape: [2, 2])
            try be.matmul(ta, tb, c, MatmulDescriptor(m: 2, n: 2, k: 3, alpha: 1, beta: 0))
            XCTAssertEqual(try be.floats(c), ab, be.name)
        }
    }

    func testMatmulOffsetsAndPaddedLeadingDimensions() throws {
        for be in try cpuBackends() {
            // A at offset 1 with lda 5; B at offset 2 with ldb 3; C at offset 1 with ldc 4.
            var abuf = [Float](repeating: -99, count: 1 + 5 + 3)
            for i in 0..<2 { for j in 0..<3 { abuf[1 + i * 5 + j] = a[i * 3 + j] } }
            var bbuf = [Float](repeating: -77, count: 2 + 2 * 3 + 2)
            for i in 0..<3 { for j in 0..<2 { bbuf[2 + i * 3 + j] = b[i * 2 + j] } }
            let cbuf = [Float](repeating: 5, count: 1 + 4 + 2 + 1)
            var d = MatmulDescriptor(m: 2, n: 2, k: 3)
            d.offsetA = 1; d.lda = 5
            d.offsetB = 2; d.ldb = 3
            d.offsetC = 1; d.ldc = 4
            let c = try be.tensor(cbuf, shape: [cbuf.count])
            try be.matmul(try be.tensor(abuf, shape: [abuf.count]), try be.tensor(bbuf, shape: [bbuf.count]), c, d)
            // Untouched elements keep their 5.
            XCTAssertEqual(try be.floats(c), [5, 58, 64, 5, 5, 139, 154, 5], be.name)
        }
    }

    func testMatmulKZero() throws {
        for be in try cpuBackends() {
            let c = try be.tensor([1, 2, 3, 4], shape: [2, 2])
            let empty = try be.makeTensor(shape: [0], dtype: .f32)
            try be.matmul(empty, empty, c, MatmulDescriptor(m: 2, n: 2, k: 0, beta: 3))
            XCTAssertEqual(try be.floats(c), [3, 6, 9, 12], be.name)
            try be.matmul(empty, empty, c, MatmulDescriptor(m: 2, n: 2, k: 0, beta: 0))
            XCTAssertEqual(try be.floats(c), [0, 0, 0, 0], be.name)
        }
    }

    func testBinaryAndScale() throws {
        for be in try cpuBackends() {
            let x = try be.tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
            let y = try be.tensor([10, 20, 30, 40, 50, 60], shape: [2, 3])
            let row = try be.tensor([1, -1, 0.5], shape: [3])
            let out = try be.makeTensor(shape: [2, 3], dtype: .f32)
            try be.binary(.add, x, y, into: out)
            XCTAssertEqual(try be.floats(out), [11, 22, 33, 44, 55, 66], be.name)
            try be.binary(.mul, x, y, into: out)
            XCTAssertEqual(try be.floats(out), [10, 40, 90, 160, 250, 360], be.name)
            try be.binary(.add, x, row, into: out)
            XCTAssertEqual(try be.floats(out), [2, 1, 3.5, 5, 4, 6.5], be.name)
            try be.binary(.mul, x, row, into: out)
            XCTAssertEqual(try be.floats(out), [1, -2, 1.5, 4, -5, 3], be.name)
            try be.scale(x, by: -0.5, into: out)
            XCTAssertEqual(try be.floats(out), [-0.5, -1, -1.5, -2, -2.5, -3], be.name)
            // In place.
            try be.scale(x, by: 2, into: x)
            XCTAssertEqual(try be.floats(x), [2, 4, 6, 8, 10, 12], be.name)
            try be.binary(.add, x, x, into: x)
            XCTAssertEqual(try be.floats(x), [4, 8, 12, 16, 20, 24], be.name)
        }
    }

    func testReduceRows() throws {
        for be in try cpuBackends() {
            let x = try be.tensor([1, 2, 3, 4, -5, 6, -3, -1, -2], shape: [3, 3])
            let out = try be.makeTensor(shape: [3], dtype: .f32)
            try be.reduceRows(.sum, x, into: out)
            XCTAssertEqual(try be.floats(out), [6, 5, -6], be.name)
            try be.reduceRows(.max, x, into: out)
            XCTAssertEqual(try be.floats(out), [3, 6, -1], be.name)
            // One row of everything; 20 columns covers the 8-lane SIMD path and its tail.
            let long = try be.tensor((1...20).map { Float($0) }, shape: [20])
            let one = try be.makeTensor(shape: [1], dtype: .f32)
            try be.reduceRows(.sum, long, into: one)
            XCTAssertEqual(try be.floats(one), [210], be.name)
            try be.reduceRows(.max, long, into: one)
            XCTAssertEqual(try be.floats(one), [20], be.name)
        }
    }

    func testSoftmaxKnownRowsAndLargeValues() throws {
        for be in try cpuBackends() {
            let x = try be.tensor([1, 2, 3, 1000, 1000, 1000, 1000, 0, -1000, -5, -5, -5], shape: [4, 3])
            let out = try be.makeTensor(shape: [4, 3], dtype: .f32)
            try be.softmaxRows(x, into: out)
            let got = try be.floats(out)
            let want: [Float] = [
                0.09003057, 0.24472847, 0.66524096,  // e^(x-3) / sum
                1.0 / 3, 1.0 / 3, 1.0 / 3,  // stable for large equal values
                1, 0, 0,  // e^-1000 underflows to 0
                1.0 / 3, 1.0 / 3, 1.0 / 3,
            ]
            for i in 0..<12 {
                XCTAssertEqual(got[i], want[i], accuracy: 1e-6, "\(be.name) element \(i)")
                XCTAssertFalse(got[i].isNaN, "\(be.name) element \(i) is NaN")
            }
            // In place.
            try be.softmaxRows(x, into: x)
            XCTAssertEqual(try be.floats(x), got, be.name)
        }
    }

    // MARK: cast

    func f32ToF16(_ be: any Backend, _ values: [Float]) throws -> [UInt16] {
        let out = try be.makeTensor(shape: [values.count], dtype: .f16)
        try be.cast(try be.tensor(values, shape: [values.count]), into: out)
        return try be.bytes(out).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
    }

    func f32ToBF16(_ be: any Backend, _ values: [Float]) throws -> [UInt16] {
        let out = try be.makeTensor(shape: [values.count], dtype: .bf16)
        try be.cast(try be.tensor(values, shape: [values.count]), into: out)
        return try be.bytes(out).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
    }

    func halfToF32(_ be: any Backend, _ bits: [UInt16], _ dtype: DType) throws -> [Float] {
        let t = try be.tensor(bytes: bits.flatMap(le16), shape: [bits.count], dtype: dtype)
        let out = try be.makeTensor(shape: [bits.count], dtype: .f32)
        try be.cast(t, into: out)
        return try be.floats(out)
    }

    func halfToHalf(_ be: any Backend, _ bits: [UInt16], _ from: DType, _ to: DType) throws -> [UInt16] {
        let t = try be.tensor(bytes: bits.flatMap(le16), shape: [bits.count], dtype: from)
        let out = try be.makeTensor(shape: [bits.count], dtype: to)
        try be.cast(t, into: out)
        return try be.bytes(out).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
    }

    func testCastF32ToF16() throws {
        let p = { (e: Int) -> Float in Float(sign: .plus, exponent: e, significand: 1) }
        let cases: [(Float, UInt16)] = [
            (1, 0x3C00), (-2, 0xC000), (0, 0x0000), (-0.0, 0x8000),
            (65504, 0x7BFF),  // largest f16
            (65519, 0x7BFF),  // just below the halfway point to 65536
            (65520, 0x7C00),  // halfway to 65536: ties to even overflows to inf
            (1e6, 0x7C00), (-1e6, 0xFC00), (.infinity, 0x7C00), (-.infinity, 0xFC00),
            (1 + p(-11), 0x3C00),  // tie between 1 and 1+2^-10: even (1)
            (1 + 3 * p(-11), 0x3C02),  // tie between 1+2^-10 and 1+2^-9: even (the latter)
            (1 + p(-11) + p(-20), 0x3C01),  // just above the tie: rounds up
            (p(-14), 0x0400),  // smallest normal
            (p(-24), 0x0001),  // smallest subnormal
            (p(-25), 0x0000),  // tie between 0 and 2^-24: even (0)
            (3 * p(-25), 0x0002),  // tie between 2^-24 and 2^-23: even (2^-23)
            (p(-26), 0x0000),  // underflow
        ]
        for be in try cpuBackends() {
            let got = try f32ToF16(be, cases.map(\.0) + [.nan])
            for (i, c) in cases.enumerated() {
                XCTAssertEqual(got[i], c.1, "\(be.name): \(c.0) -> f16 0x\(String(got[i], radix: 16)), want 0x\(String(c.1, radix: 16))")
            }
            let nan = got[cases.count]
            XCTAssertEqual(nan & 0x7C00, 0x7C00, "\(be.name): NaN keeps an all-ones exponent")
            XCTAssertNotEqual(nan & 0x03FF, 0, "\(be.name): NaN keeps a non-zero mantissa")
        }
    }

    func testCastF32ToBF16() throws {
        let p = { (e: Int) -> Float in Float(sign: .plus, exponent: e, significand: 1) }
        let cases: [(Float, UInt16)] = [
            (1, 0x3F80), (-2, 0xC000), (-0.0, 0x8000),
            (1 + p(-8), 0x3F80),  // tie: even
            (1 + 3 * p(-8), 0x3F82),  // tie: even (up)
            (1 + p(-8) + p(-20), 0x3F81),  // above the tie
            (.greatestFiniteMagnitude, 0x7F80),  // rounds up to inf
            (.infinity, 0x7F80), (-.infinity, 0xFF80),
            (Float(bitPattern: 0x0000_8000), 0x0000),  // subnormal tie: even (0)
            (Float(bitPattern: 0x0001_8000), 0x0002),  // subnormal tie: even (up)
            (.nan, 0x7FC0),
        ]
        for be in try cpuBackends() {
            let got = try f32ToBF16(be, cases.map(\.0))
            for (i, c) in cases.enumerated() {
                XCTAssertEqual(got[i], c.1, "\(be.name): \(c.0) -> bf16 0x\(String(got[i], radix: 16)), want 0x\(String(c.1, radix: 16))")
            }
            // A signalling NaN comes out quiet.
            XCTAssertEqual(try f32ToBF16(be, [Float(bitPattern: 0x7F80_0001)]), [0x7FC0], be.name)
        }
    }

    func testCastHalfToF32AndBetweenHalves() throws {
        for be in try cpuBackends() {
            let f16 = try halfToF32(be, [0x3C00, 0x0001, 0x03FF, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0xC100], .f16)
            XCTAssertEqual(f16, [1, Float(sign: .plus, exponent: -24, significand: 1), Float(0x3FF) * 0x1p-24, 65504, .infinity, -.infinity, -0.0, -2.5], be.name)
            XCTAssertEqual(try halfToF32(be, [0x7E00], .f16).first?.isNaN, true, be.name)
            let bf = try halfToF32(be, [0x3F80, 0x4049, 0x0001, 0x7F80, 0xC2F7], .bf16)
            XCTAssertEqual(bf, [1, 3.140625, Float(bitPattern: 0x0001_0000), .infinity, -123.5], be.name)
            // f16 -> bf16: 1+2^-10 is below bf16's half step; 65504 rounds to 65536; a subnormal is kept.
            XCTAssertEqual(try halfToHalf(be, [0x3C01, 0x7BFF, 0x0001, 0x7C00], .f16, .bf16), [0x3F80, 0x4780, 0x3380, 0x7F80], be.name)
            // bf16 -> f16: 65536 overflows to inf; 1+2^-7 is exact.
            XCTAssertEqual(try halfToHalf(be, [0x4780, 0x3F81, 0xBF80], .bf16, .f16), [0x7C00, 0x3C08, 0xBC00], be.name)
            // Same dtype copies bits, NaN payload included.
            XCTAssertEqual(try halfToHalf(be, [0x7D23, 0x1234], .f16, .f16), [0x7D23, 0x1234], be.name)
        }
    }
}
