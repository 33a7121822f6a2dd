import Foundation
import IFTCPU
import IFTCore
@testable import IFTVulkan
import XCTest

/// `Shaders/matmul.comp` and `Shaders/matmul_direct.comp` against `cpu-ref`
/// (Sources/IFTCPU/Reference/Matmul.swift): every case runs on both kernels.
final class MatmulTests: VulkanTestCase {
    override func tearDownWithError() throws {
        vk?.matmulKernelOverride = nil
        try super.tearDownWithError()
    }

    /// Runs one descriptor on `cpu-ref` and on each Vulkan matmul kernel, with random operands sized
    /// to its extents (C starts random too, or NaN where `nanC`, so beta == 0 must not read it).
    func check(
        _ d: MatmulDescriptor, seed: UInt64, nanC: Bool = false, kernels: [MatmulKernel] = MatmulKernel.allCases,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        var g = SeededGenerator(seed: seed)
        let a = g.uniformArray(max(1, d.extentA)), b = g.uniformArray(max(1, d.extentB))
        var c0 = g.uniformArray(max(1, d.extentC))
        if nanC { c0 = [Float](repeating: .nan, count: c0.count) }
        func run(_ backend: any Backend) throws -> [Float] {
            let ta = try backend.tensor(a, shape: [a.count])
            let tb = try backend.tensor(b, shape: [b.count])
            let tc = try backend.tensor(c0, shape: [c0.count])
            try backend.matmul(ta, tb, tc, d)
            return try backend.floats(tc)
        }
        var expected = try run(ref)
        if nanC {  // cpu-ref leaves C's padding (between rows, batches) alone: NaN there on both sides
            expected = expected.map { $0.isNaN ? 0 : $0 }
        }
        for kernel in kernels {
            vk.matmulKernelOverride = kernel
            var got = try run(vk)
            if nanC { got = got.map { $0.isNaN ? 0 : $0 } }
            let e = nmse(got, expected)
            XCTAssertLessThanOrEqual(e, 1e-7, "\(kernel) kernel: nmse \(e) for \(d)", file: file, line: line)
        }
        vk.matmulKernelOverride = nil
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

    /// Shapes, leading dimensions, strides and offsets that are multiples of 4, so that the direct
    /// kernel reads A and B as vec4 (along k, m or n depending on the layout), over several
    /// workgroups in each dimension, with a K tail (K % 4 != 0) in half of them.
    func testAlignedShapesAllLayouts() throws {
        var g = SeededGenerator(seed: 11)
        for i in 0..<8 {
            let m = 4 * (1 + Int(g.next() % 30)), n = 4 * (1 + Int(g.next() % 30))
            let k = 4 * (1 + Int(g.next() % 40)) + (i % 2 == 0 ? 0 : 1 + Int(g.next() % 3))
            var d = MatmulDescriptor(
                m: m, n: n, k: k, batch: 1 + i % 2, transposeA: (i / 2) % 2 == 1, transposeB: i % 2 == 1,
                alpha: g.uniform(0.5, 2), beta: i % 3 == 0 ? 0 : g.uniform(-1, 1))
            d.lda += 4 * Int(g.next() % 2)
            d.ldb += 4 * Int(g.next() % 2)
            d.strideA = d.storedA.rows * d.lda + 4 * Int(g.next() % 3)
            d.strideB = d.storedB.rows * d.ldb
            d.strideC = m * d.ldc + Int(g.next() % 5)
            d.offsetA = 4 * Int(g.next() % 3)
            d.offsetB = 4 * Int(g.next() % 3)
            d.offsetC = Int(g.next() % 7)
            try check(d, seed: 200 + UInt64(i))
        }
        // The shapes of SmolLM2's projections, scaled down in M.
        try check(MatmulDescriptor(m: 36, n: 576, k: 576, transposeB: true), seed: 300)
        try check(MatmulDescriptor(m: 36, n: 192, k: 1536), seed: 301)
        try check(MatmulDescriptor(m: 192, n: 64, k: 36, transposeA: true), seed: 302)
        // At least 128 x 128: the direct kernel's large tiles (16 x 16 per invocation), ragged in both
        // dimensions. (Same pipeline as the transposed case of testOutputLargerThanOneBinding: each
        // large-tile pipeline takes seconds for lavapipe to compile.)
        try check(MatmulDescriptor(m: 132, n: 136, k: 44, transposeA: true, transposeB: true), seed: 303)
    }

    /// Outputs with very few rows or columns (decode-time matmuls): the direct kernel shrinks its tiles.
    func testThinOutputs() throws {
        let shapes = [(1, 300, 64), (3, 130, 33), (5, 8, 17), (300, 1, 64), (130, 3, 33), (8, 5, 16), (1, 1, 7)]
        for (i, (m, n, k)) in shapes.enumerated() {
            try check(MatmulDescriptor(m: m, n: n, k: k, transposeA: i % 2 == 1, transposeB: i % 3 != 0), seed: 400 + UInt64(i))
        }
    }

    /// Few output tiles and a long K: the tiled kernel splits K (`MatmulSplitK.swift`), including a
    /// remainder range, strided and offset operands, alpha and beta (and beta 0 with NaN in C).
    func testSplitK() throws {
        let shapes = [(16, 576, 4096), (576, 16, 3001), (7, 45, 1024), (64, 64, 2500), (1, 9, 1300)]
        for (i, (m, n, k)) in shapes.enumerated() {
            var d = MatmulDescriptor(m: m, n: n, k: k, transposeA: i % 2 == 0, transposeB: i % 3 == 1, alpha: 0.75, beta: i % 2 == 0 ? 1 : 0)
            if i == 3 {
                d.lda += 3
                d.ldb += 5
                d.ldc += 2
                d.offsetA = 7
                d.offsetB = 11
                d.offsetC = 13
            }
            XCTAssertGreaterThan(vk.splitKParts(d, vk.matmulTiles), 1, "\(m)x\(n)x\(k) should split")
            try check(d, seed: 600 + UInt64(i), nanC: d.beta == 0, kernels: [.tiled])
        }
        XCTAssertEqual(vk.splitKParts(MatmulDescriptor(m: 1024, n: 1024, k: 4096), vk.matmulTiles), 1, "enough tiles")
        XCTAssertEqual(vk.splitKParts(MatmulDescriptor(m: 16, n: 16, k: 512), vk.matmulTiles), 1, "short K")
    }

    func testBetaZeroIgnoresNaNInC() throws {
        for kernel in MatmulKernel.allCases {
            vk.matmulKernelOverride = kernel
            let d = MatmulDescriptor(m: 5, n: 7, k: 3)
            let c = try vk.tensor([Float](repeating: .nan, count: 35), shape: [5, 7])
            let a = try vk.tensor([Float](repeating: 1, count: 15), shape: [5, 3])
            let b = try vk.tensor([Float](repeating: 2, count: 21), shape: [3, 7])
            try vk.matmul(a, b, c, d)
            XCTAssertEqual(try vk.floats(c), [Float](repeating: 6, count: 35), "\(kernel) kernel")
        }
        // Larger, vec4-aligned, batched with padding between rows: the padding must stay NaN too.
        var d = MatmulDescriptor(m: 20, n: 40, k: 24, batch: 2, transposeB: true, alpha: 0.5)
        d.ldc = 44
        d.strideC = 20 * 44
        try check(d, seed: 500, nanC: true)
    }

    /// C larger than lavapipe's 128 MiB binding limit: the host splits the dispatch into row bands.
    func testOutputLargerThanOneBinding() throws {
        let maxBinding = vk.device.info.maxStorageBufferRange
        let n = 4096
        let m = maxBinding / (n * 4) + 37
        guard m * n * 4 <= 600 << 20 else { throw XCTSkip("binding limit too large to exceed cheaply") }
        try check(MatmulDescriptor(m: m, n: n, k: 5, transposeB: true), seed: 9)
        // A stored K x M and every band's rows a multiple of 4: the direct kernel reads vec4 along m
        // (and along k in B) in every band.
        try check(MatmulDescriptor(m: m / 4 * 4, n: n, k: 4, transposeA: true, transposeB: true), seed: 10, kernels: [.direct])
    }

    func testKernelSelection() throws {
        vk.matmulKernelOverride = .tiled
        XCTAssertEqual(try vk.matmulKernel, .tiled)
        vk.matmulKernelOverride = .direct
        XCTAssertEqual(try vk.matmulKernel, .direct)
        vk.matmulKernelOverride = nil
        XCTAssertNil(vk.matmulKernelOverride)
        if ProcessInfo.processInfo.environment["IFT_MATMUL_KERNEL"] == nil {
            // Without an override, CPU implementations of Vulkan get the direct kernel, GPUs the tiled one.
            XCTAssertEqual(try vk.matmulKernel, vk.device.info.type == "CPU" ? .direct : .tiled)
        }
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
