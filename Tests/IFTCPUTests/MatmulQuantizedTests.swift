import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// `matmulQuantized` on `cpu` against `cpu-ref`, and `cpu-ref` against dequantize + matmul.
final class MatmulQuantizedCPUTests: XCTestCase {
    static let formats: [DType] = [.q8_0, .q4_0, .q4_1, .q4_k, .nf4]

    struct Case {
        var desc: MatmulDescriptor
        var x: [Float], w: [UInt8], y: [Float]
        var xCount: Int, yCount: Int
    }

    static func makeCase(_ dtype: DType, _ g: inout SeededGenerator, m: Int? = nil) throws -> Case {
        let bs = dtype.blockSize
        let m = m ?? g.int(1...40)
        let n = g.int(1...70)
        let k = bs * (dtype == .q4_k ? g.int(1...3) : g.int(1...(640 / bs)))
        var d = MatmulDescriptor(m: m, n: n, k: k, transposeB: true, alpha: g.bool() ? 1 : 0.75, beta: g.bool() ? 0 : 0.5)
        d.lda = k + g.int(0...5)
        d.offsetA = g.int(0...7)
        d.ldc = n + g.int(0...5)
        d.offsetC = g.int(0...7)
        let xCount = d.extentA + g.int(0...3), yCount = d.extentC + g.int(0...3)
        let w = try Reference.quantize(dtype, g.normalArray(n * k))
        return Case(desc: d, x: g.normalArray(xCount), w: w, y: g.normalArray(yCount), xCount: xCount, yCount: yCount)
    }

    static func run(_ b: any Backend, _ c: Case, _ dtype: DType) throws -> [Float] {
        let x = try b.tensor(c.x, shape: [c.xCount])
        let w = try b.tensor(bytes: c.w, shape: [c.desc.n, c.desc.k], dtype: dtype)
        let y = try b.tensor(c.y, shape: [c.yCount])
        try b.matmulQuantized(x, w, y, c.desc)
        return try b.floats(y)
    }

    func testCPUMatchesReferenceOnRaggedShapes() throws {
        var g = SeededGenerator(seed: 2024)
        let ref = CPUReferenceBackend(), cpu = try! CPUBackend()
        for dtype in Self.formats {
            for i in 0..<22 {
                // Small m exercises the dot path, larger m the sgemm bands.
                let c = try Self.makeCase(dtype, &g, m: i < 4 ? i + 1 : nil)
                let want = try Self.run(ref, c, dtype), got = try Self.run(cpu, c, dtype)
                let e = nmse(got, want)
                XCTAssertLessThanOrEqual(e, 1e-7, "\(dtype) m=\(c.desc.m) n=\(c.desc.n) k=\(c.desc.k) beta=\(c.desc.beta): nmse \(e)")
            }
        }
    }

    /// cpu-ref's fused op gives exactly dequantize followed by matmul (same order of summation).
    func testReferenceEqualsDequantizeThenMatmul() throws {
        var g = SeededGenerator(seed: 99)
        let ref = CPUReferenceBackend()
        for dtype in Self.formats {
            let c = try Self.makeCase(dtype, &g)
            let got = try Self.run(ref, c, dtype)
            let w = try ref.tensor(bytes: c.w, shape: [c.desc.n, c.desc.k], dtype: dtype)
            let wf = try ref.makeTensor(shape: [c.desc.n, c.desc.k], dtype: .f32)
            try ref.dequantize(w, into: wf)
            let x = try ref.tensor(c.x, shape: [c.xCount]), y = try ref.tensor(c.y, shape: [c.yCount])
            try ref.matmul(x, wf, y, c.desc)
            assertBitEqual(got, try ref.floats(y), "\(dtype)")
        }
    }

    func testBetaZeroDoesNotReadY() throws {
        var g = SeededGenerator(seed: 5)
        for b in try cpuBackends() {
            for m in [1, 30] {
                var c = try Self.makeCase(.q4_1, &g, m: m)
                c.desc.beta = 0
                c.y = [Float](repeating: .nan, count: c.yCount)
                let out = try Self.run(b, c, .q4_1)
                let d = c.desc
                for i in 0..<d.m {
                    for j in 0..<d.n { XCTAssertTrue(out[d.offsetC + i * d.ldc + j].isFinite, "\(b.name) m=\(m)") }
                }
            }
        }
    }

    func testMalformedCallsAreClearErrors() throws {
        for b in try cpuBackends() {
            let x = try b.makeTensor(shape: [2, 64], dtype: .f32)
            let w = try b.makeTensor(shape: [3, 64], dtype: .q8_0)
            let y = try b.makeTensor(shape: [2, 3], dtype: .f32)
            let ok = MatmulDescriptor(m: 2, n: 3, k: 64, transposeB: true)
            try b.matmulQuantized(x, w, y, ok)
            let wf = try b.makeTensor(shape: [3, 64], dtype: .f32)
            assertThrowsIFT(["matmulQuantized", "w must be", "f32"]) { try b.matmulQuantized(x, wf, y, ok) }
            assertThrowsIFT(["transposeB == true"]) {
                try b.matmulQuantized(x, w, y, MatmulDescriptor(m: 2, n: 3, k: 64))
            }
            assertThrowsIFT(["batch == 1"]) {
                try b.matmulQuantized(x, w, y, MatmulDescriptor(m: 2, n: 3, k: 64, batch: 2, transposeB: true))
            }
            assertThrowsIFT(["transposeA"]) {
                try b.matmulQuantized(x, w, y, MatmulDescriptor(m: 2, n: 3, k: 64, transposeA: true, transposeB: true))
            }
            assertThrowsIFT(["w must be [n = 4, k = 64]", "[3, 64]"]) {
                try b.matmulQuantized(x, w, y, MatmulDescriptor(m: 2, n: 4, k: 64, transposeB: true))
            }
            var big = ok
            big.ldc = 5
            assertThrowsIFT(["matmul C"]) { try b.matmulQuantized(x, w, y, big) }
            let xi = try b.makeTensor(shape: [2, 64], dtype: .i32)
            assertThrowsIFT(["matmulQuantized x must be f32"]) { try b.matmulQuantized(xi, w, y, ok) }
        }
    }
}
