import IFTCPU
import IFTCore
import XCTest

/// `Shaders/matmul.comp` against `cpu-ref` (Sources/IFTCPU/Reference/Matmul.swift).
final class MatmulTests: VulkanTestCase {
    /// Runs one descriptor on both backends with random operands sized to its extents.
    func check(_ d: MatmulDescriptor, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        var g = SeededGenerator(seed: seed)
        let a = g.uniformArray(max(1, d.extentA)), b = g.uniformArray(max(1, d.extentB))
        let c0 = g.uniformArray(max(1, d.extentC))
        var results: [[Float]] = []
        for backend in [vk as any Backend, ref] {
            let ta = try backend.tensor(a, shape: [a.count])
            let tb = try backend.tensor(b, shape: [b.count])
            let tc = try backend.tensor(c0, shape: [c0.count])
            try backend.matmul(ta, tb, tc, d)
            results.append(try backend.floats(tc))
        }
        let e = nmse(results[0], results[1])
        XCTAssertLessThanOrEqual(e, 1e-7, "nmse \(e) for \(d)", file: file, line: line)
    }

    func testRaggedShapesAllLayouts() throws {
        var g = SeededGenerator(seed: 42)
        for i in 0..<24 {
            let m = 1 + Int(g.next() % 150), n = 1 + Int(g.next() % 150), k = 1 + Int(g.next() % 150)
            let d = MatmulDescriptor(m: m, n: n, k: k, transposeA: i % 4 >= 2, transposeB: i % 2 == 1)
            try check(d, seed: UInt64(i))
        }
    }

    func testBatchedStridedWithAlphaBetaAndOffsets() throws {
        var g = SeededGenerator(seed: 7)
        for i in 0..<20 {
            let m = 1 + Int(g.next() % 70), n = 1 + Int(g.next() % 70), k = 1 + Int(g.next() % 70)
            var d = MatmulDescriptor(
                m: m, n: n, k: k, batch: 1 + Int(g.next() % 4), transposeA: i % 3 == 0, transposeB: i % 2 == 0,
                alpha: g.uniform(0.5, 2), beta: i % 4 == 0 ? 0 : g.uniform(-1, 1))
            d.lda += Int(g.next() % 5)
            d.ldb += Int(g.next() % 5)
            d.ldc += Int(g.next() % 5)
            d.strideA = i % 5 == 0 ? 0 : d.storedA.rows * d.lda + Int(g.next() % 9)  // 0 broadcasts A
            d.strideB = d.storedB.rows * d.ldb + Int(g.next() % 9)
            d.strideC = m * d.ldc + Int(g.next() % 9)
            d.offsetA = Int(g.next() % 13)
            d.offsetB = Int(g.next() % 13)
            d.offsetC = Int(g.next() % 13)
            try check(d, seed: 100 + UInt64(i))
        }
    }

    func testBetaZeroIgnoresNaNInC() throws {
        let d = MatmulDescriptor(m: 5, n: 7, k: 3)
        let c = try vk.tensor([Float](repeating: .nan, count: 35), shape: [5, 7])
        let a = try vk.tensor([Float](repeating: 1, count: 15), shape: [5, 3])
        let b = try vk.tensor([Float](repeating: 2, count: 21), shape: [3, 7])
        try vk.matmul(a, b, c, d)
        XCTAssertEqual(try vk.floats(c), [Float](repeating: 6, count: 35))
    }

    /// C larger than lavapipe's 128 MiB binding limit: the host splits the dispatch into row bands.
    func testOutputLargerThanOneBinding() throws {
        let maxBinding = vk.device.info.maxStorageBufferRange
        let n = 4096
        let m = maxBinding / (n * 4) + 37
        guard m * n * 4 <= 600 << 20 else { throw XCTSkip("binding limit too large to exceed cheaply") }
        try check(MatmulDescriptor(m: m, n: n, k: 5, transposeB: true), seed: 9)
    }

    func testShapeMismatchIsAClearError() throws {
        let a = try vk.makeTensor(shape: [4, 3], dtype: .f32)
        let b = try vk.makeTensor(shape: [4, 5], dtype: .f32)
        let c = try vk.makeTensor(shape: [4, 5], dtype: .f32)
        XCTAssertThrowsError(try vk.matmul(a, b, c, MatmulDescriptor(m: 4, n: 5, k: 4))) { error in
            XCTAssertTrue("\(error)".contains("matmul A"), "\(error)")
        }
        let cpuTensor = try ref.makeTensor(shape: [4, 5], dtype: .f32)
        XCTAssertThrowsError(try vk.matmul(a, b, cpuTensor, MatmulDescriptor(m: 4, n: 5, k: 3))) { error in
            XCTAssertTrue("\(error)".contains("backend"), "\(error)")
        }
    }
}
