import IFTCPU
import IFTCore
import XCTest

extension SeededGenerator {
    fileprivate mutating func mqInt(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    fileprivate mutating func mqNormals(_ count: Int) -> [Float] { (0..<count).map { _ in normal() } }
}

/// `Shaders/matmul_q.comp` (fused quantized linear) against `cpu-ref` on ragged shapes.
final class MatmulQuantizedTests: VulkanTestCase {
    static let formats: [DType] = [.q8_0, .q4_0, .q4_1, .q4_k, .nf4]

    /// Runs one random case (m in 1...40 unless given; n, k ragged; offsets, ldc, alpha, beta) on
    /// Vulkan and cpu-ref and returns the NMSE of the whole y buffer.
    /// With `aligned`, x's offset and leading dimension are multiples of 4 (Q4_1's vec4 path).
    func check(_ dtype: DType, _ g: inout SeededGenerator, m: Int? = nil, yNaN: Bool = false, aligned: Bool = false) throws -> (Double, String) {
        let bs = dtype.blockSize
        let m = m ?? g.mqInt(1...40)
        let n = g.mqInt(1...130)
        let k = bs * (dtype == .q4_k ? g.mqInt(1...3) : g.mqInt(1...(700 / bs)))
        var d = MatmulDescriptor(m: m, n: n, k: k, transposeB: true, alpha: g.mqInt(0...1) == 0 ? 1 : 0.75, beta: 0.5)
        if yNaN || g.mqInt(0...1) == 0 { d.beta = 0 }
        d.lda = k + (aligned ? 4 * g.mqInt(0...2) : g.mqInt(0...5))
        d.offsetA = aligned ? 4 * g.mqInt(0...3) : g.mqInt(0...7)
        d.ldc = n + g.mqInt(0...5)
        d.offsetC = g.mqInt(0...7)
        let xCount = d.extentA + g.mqInt(0...3), yCount = d.extentC + g.mqInt(0...3)
        let xs = g.mqNormals(xCount), wq = try Reference.quantize(dtype, g.mqNormals(n * k))
        var ys = g.mqNormals(yCount)
        if yNaN {
            for i in 0..<m { for j in 0..<n { ys[d.offsetC + i * d.ldc + j] = .nan } }
        }
        func run(_ b: any Backend) throws -> [Float] {
            let x = try b.tensor(xs, shape: [xCount])
            let w = try b.tensor(bytes: wq, shape: [n, k], dtype: dtype)
            let y = try b.tensor(ys, shape: [yCount])
            try b.matmulQuantized(x, w, y, d)
            return try b.floats(y)
        }
        let want = try run(ref), got = try run(vk)
        return (nmse(got, want), "\(dtype) m=\(m) n=\(n) k=\(k) lda=\(d.lda) ldc=\(d.ldc) offA=\(d.offsetA) offC=\(d.offsetC) beta=\(d.beta)")
    }

    func testRaggedShapesEveryFormat() throws {
        var g = SeededGenerator(seed: 31)
        for dtype in Self.formats {
            for i in 0..<22 {
                let (e, what) = try check(dtype, &g, m: i < 8 ? i + 1 : nil)
                XCTAssertLessThanOrEqual(e, 1e-7, "\(what): nmse \(e)")
            }
        }
    }

    func testAlignedRowsEveryFormat() throws {
        var g = SeededGenerator(seed: 77)
        for dtype in Self.formats {
            for m in 1...20 {
                let (e, what) = try check(dtype, &g, m: m, aligned: true)
                XCTAssertLessThanOrEqual(e, 1e-7, "\(what): nmse \(e)")
            }
        }
    }

    func testBetaZeroIgnoresNaNInY() throws {
        var g = SeededGenerator(seed: 8)
        for dtype in Self.formats {
            let (e, what) = try check(dtype, &g, yNaN: true)
            XCTAssertLessThanOrEqual(e, 1e-7, "\(what): nmse \(e)")
        }
    }

    func testMalformedCallsAreClearErrors() throws {
        let x = try vk.makeTensor(shape: [2, 64], dtype: .f32)
        let w = try vk.makeTensor(shape: [3, 64], dtype: .q4_0)
        let y = try vk.makeTensor(shape: [2, 3], dtype: .f32)
        func expect(_ part: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { XCTAssertTrue("\($0)".contains(part), "\($0) lacks \(part)") }
        }
        try vk.matmulQuantized(x, w, y, MatmulDescriptor(m: 2, n: 3, k: 64, transposeB: true))
        expect("transposeB == true") { try vk.matmulQuantized(x, w, y, MatmulDescriptor(m: 2, n: 3, k: 64)) }
        expect("batch == 1") { try vk.matmulQuantized(x, w, y, MatmulDescriptor(m: 2, n: 3, k: 64, batch: 2, transposeB: true)) }
        expect("w must be [n = 3, k = 32]") { try vk.matmulQuantized(x, w, y, MatmulDescriptor(m: 2, n: 3, k: 32, transposeB: true)) }
        let wf = try vk.makeTensor(shape: [3, 64], dtype: .f16)
        expect("w must be q8_0") { try vk.matmulQuantized(x, wf, y, MatmulDescriptor(m: 2, n: 3, k: 64, transposeB: true)) }
        let cpuW = try ref.makeTensor(shape: [3, 64], dtype: .q4_0)
        expect("cpu-ref") { try vk.matmulQuantized(x, cpuW, y, MatmulDescriptor(m: 2, n: 3, k: 64, transposeB: true)) }
    }
}
