import IFTCPU
import IFTCore
import XCTest

/// `Shaders/embedding.comp`, `rms_norm.comp`, `rope.comp`, `swiglu.comp`, `copy.comp` against
/// `cpu-ref` on ragged shapes (sizes that are not multiples of any workgroup size); attention is
/// in `AttentionTests.swift`.
final class ForwardOpsTests: VulkanTestCase {
    func testEmbeddingIsExactForEveryTableType() throws {
        var g = SeededGenerator(seed: 41)
        for dtype in [DType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_k, .nf4] {
            for trial in 0..<20 {
                let vocab = 1 + Int(g.next() % 40)
                let blocks = 1 + Int(g.next() % (dtype == .q4_k ? 2 : 4))
                let dim = dtype.isQuantized ? blocks * dtype.blockSize : 1 + Int(g.next() % 300)
                let n = trial == 0 ? 1 : 1 + Int(g.next() % 50)
                let ids = (0..<n).map { _ in Int32(g.next() % UInt64(vocab)) }
                let values = g.uniformArray(vocab * dim, -3, 3)
                var bytes = [UInt8](repeating: 0, count: vocab * dim / dtype.blockSize * dtype.blockBytes)
                if dtype.isQuantized {
                    bytes = try Reference.quantize(dtype, values)
                } else {
                    try values.withUnsafeBytes { src in
                        try bytes.withUnsafeMutableBytes { try Reference.cast(from: .f32, src, to: dtype, $0, count: values.count) }
                    }
                }
                var outs: [[Float]] = []
                for be in [vk as any Backend, ref] {
                    let t = try be.tensor(bytes: bytes, shape: [vocab, dim], dtype: dtype)
                    let out = try be.makeTensor(shape: [n, dim], dtype: .f32)
                    try be.embedding(t, ids: try be.tensor(ints: ids, shape: [n]), into: out)
                    outs.append(try be.floats(out))
                }
                XCTAssertNil(firstBitMismatch(outs[0], outs[1]), "\(dtype) vocab \(vocab) dim \(dim) n \(n)")
            }
        }
    }

    /// Vulkan cannot see ids without a sync: an invalid id gives a zero row (the CPU backends throw).
    func testEmbeddingInvalidIdsGiveZeroRows() throws {
        let table = try vk.tensor((0..<12).map { Float($0 + 1) }, shape: [4, 3])
        let out = try vk.tensor([Float](repeating: 9, count: 12), shape: [4, 3])
        try vk.embedding(table, ids: try vk.tensor(ints: [3, -1, 4, 0], shape: [4]), into: out)
        XCTAssertEqual(try vk.floats(out), [10, 11, 12, 0, 0, 0, 0, 0, 0, 1, 2, 3])
    }

    /// A table larger than one binding (lavapipe: 128 MiB) is gathered in chunks of rows.
    func testEmbeddingTableLargerThanOneBinding() throws {
        let dim = 4096
        let vocab = vk.device.info.maxStorageBufferRange / (dim * 2) + 9
        guard vocab * dim <= 80_000_000 else { throw XCTSkip("binding limit too large to exceed cheaply") }
        var bytes = [UInt8](repeating: 0, count: vocab * dim * 2)
        bytes.withUnsafeMutableBufferPointer { p in
            for i in stride(from: 0, to: p.count, by: 2) {
                let h = UInt32(truncatingIfNeeded: i &* 2_654_435_761) >> 17
                p[i] = UInt8(truncatingIfNeeded: h)
                p[i + 1] = UInt8(truncatingIfNeeded: (h >> 8) & 0x3F)  // finite bf16 of moderate size
            }
        }
        let ids: [Int32] = [0, Int32(vocab - 1), Int32(vocab / 2), Int32(vocab - 5), 7, Int32(vocab - 1)]
        var outs: [[Float]] = []
        for be in [vk as any Backend, ref] {
            let t = try be.tensor(bytes: bytes, shape: [vocab, dim], dtype: .bf16)
            let out = try be.makeTensor(shape: [ids.count, dim], dtype: .f32)
            try be.embedding(t, ids: try be.tensor(ints: ids, shape: [ids.count]), into: out)
            outs.append(try be.floats(out))
        }
        XCTAssertNil(firstBitMismatch(outs[0], outs[1]))
    }

    func testRMSNorm() throws {
        var g = SeededGenerator(seed: 42)
        var shapes: [(Int, Int)] = [(1, 1), (1, 257), (3, 576), (70, 3), (2, 2048)]
        for _ in 0..<18 { shapes.append((1 + Int(g.next() % 60), 1 + Int(g.next() % 900))) }
        for (i, (rows, dim)) in shapes.enumerated() {
            let x = g.uniformArray(rows * dim, -4, 4), w = g.uniformArray(dim)
            let eps: Float = [1e-5, 1e-6, 0.25][i % 3]
            var outs: [[Float]] = []
            for be in [vk as any Backend, ref] {
                let tx = try be.tensor(x, shape: [rows, dim])
                let out = i % 2 == 0 ? tx : try be.makeTensor(shape: [rows, dim], dtype: .f32)  // even: in place
                try be.rmsNorm(tx, weight: try be.tensor(w, shape: [dim]), eps: eps, into: out)
                outs.append(try be.floats(out))
            }
            XCTAssertLessThanOrEqual(nmse(outs[0], outs[1]), 1e-7, "rmsNorm \(rows)x\(dim) in place: \(i % 2 == 0)")
        }
    }

    func testRopeIsBitExact() throws {
        var g = SeededGenerator(seed: 43)
        var cases: [RopeDescriptor] = [
            RopeDescriptor(heads: 9, headDim: 64, tokens: 7),  // SmolLM2-135M q
            RopeDescriptor(heads: 3, headDim: 64, tokens: 1, rowStride: 9 * 64 + 3 * 64 * 2, offset: 9 * 64),  // k of a fused QKV row
            RopeDescriptor(heads: 1, headDim: 2, tokens: 300, inverse: true),
            RopeDescriptor(heads: 32, headDim: 128, tokens: 3),
        ]
        for i in 0..<20 {
            let heads = 1 + Int(g.next() % 9), hd = 2 * (1 + Int(g.next() % 64))
            let pad = i % 3 == 0 ? 1 + Int(g.next() % 7) : 0
            cases.append(
                RopeDescriptor(
                    heads: heads, headDim: hd, tokens: 1 + Int(g.next() % 40), rowStride: heads * hd + pad,
                    offset: i % 4 == 1 ? 1 + Int(g.next() % 5) : 0, inverse: i % 5 == 2))
        }
        for (i, d) in cases.enumerated() {
            let maxPos = 1 + Int(g.next() % 200)
            let table = RopeTable.make(theta: i % 2 == 0 ? 10000 : 500000, headDim: d.headDim, maxPositions: maxPos)
            let positions = (0..<d.tokens).map { _ in Int32(g.next() % UInt64(maxPos)) }
            let x = g.uniformArray(d.extent + Int(g.next() % 4), -3, 3)
            var outs: [[Float]] = []
            for be in [vk as any Backend, ref] {
                let tx = try be.tensor(x, shape: [x.count])
                let out = i % 2 == 0 ? tx : try be.tensor(x, shape: [x.count])  // even: in place
                try be.rope(
                    tx, positions: try be.tensor(ints: positions, shape: [d.tokens]), table: try be.tensor(table, shape: [maxPos, d.headDim]),
                    d, into: out)
                outs.append(try be.floats(out))
            }
            XCTAssertNil(firstBitMismatch(outs[0], outs[1]), "rope \(d)")
        }
    }

    /// Vulkan cannot see positions without a sync: a position outside the table leaves the token unchanged.
    func testRopePositionOutsideTableCopiesInput() throws {
        let table = try vk.tensor(RopeTable.make(theta: 10000, headDim: 4, maxPositions: 2), shape: [2, 4])
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        let tx = try vk.tensor(x, shape: [2, 4])
        let out = try vk.makeTensor(shape: [2, 4], dtype: .f32)
        try vk.rope(tx, positions: try vk.tensor(ints: [0, 2], shape: [2]), table: table, RopeDescriptor(heads: 1, headDim: 4, tokens: 2), into: out)
        XCTAssertEqual(try vk.floats(out), x)
    }

    func testSwiGLU() throws {
        var g = SeededGenerator(seed: 44)
        var sizes = [1, 255, 256, 257, 1536 * 3]
        for _ in 0..<17 { sizes.append(1 + Int(g.next() % 20000)) }
        for (i, n) in sizes.enumerated() {
            let gate = g.uniformArray(n, -20, 20), up = g.uniformArray(n, -3, 3)
            var outs: [[Float]] = []
            for be in [vk as any Backend, ref] {
                let tg = try be.tensor(gate, shape: [n])
                let out = i % 2 == 0 ? tg : try be.makeTensor(shape: [n], dtype: .f32)
                try be.swiglu(gate: tg, up: try be.tensor(up, shape: [n]), into: out)
                outs.append(try be.floats(out))
            }
            XCTAssertLessThanOrEqual(nmse(outs[0], outs[1]), 1e-7, "swiglu n=\(n)")
        }
    }

    func testCopyIsExact() throws {
        var g = SeededGenerator(seed: 45)
        // KV-cache write: 5 rows of 3 heads x 64 into a cache of capacity 20 at row 7.
        var cases = [CopyDescriptor(rows: 5, cols: 192, dstOffset: 7 * 192)]
        // Head re-layout: head 2 of 4 (headDim 40) out of 9 token rows.
        cases.append(CopyDescriptor(rows: 9, cols: 40, srcOffset: 80, srcRowStride: 160, dstOffset: 0, dstRowStride: 40))
        for _ in 0..<20 {
            let cols = 1 + Int(g.next() % 300)
            cases.append(
                CopyDescriptor(
                    rows: 1 + Int(g.next() % 60), cols: cols, srcOffset: Int(g.next() % 70), srcRowStride: cols + Int(g.next() % 9),
                    dstOffset: Int(g.next() % 70), dstRowStride: cols + Int(g.next() % 9)))
        }
        for d in cases {
            let src = g.uniformArray(d.srcExtent + 2), dst0 = g.uniformArray(d.dstExtent + 5)
            var outs: [[Float]] = []
            for be in [vk as any Backend, ref] {
                let dst = try be.tensor(dst0, shape: [dst0.count])
                try be.copy(try be.tensor(src, shape: [src.count]), into: dst, d)
                outs.append(try be.floats(dst))
            }
            XCTAssertNil(firstBitMismatch(outs[0], outs[1]), "copy \(d)")
        }
        // Within one tensor, non-overlapping (K half of a row into the V half).
        let t = try vk.tensor((0..<24).map { Float($0) }, shape: [3, 8])
        try vk.copy(t, into: t, CopyDescriptor(rows: 3, cols: 4, srcOffset: 0, srcRowStride: 8, dstOffset: 4, dstRowStride: 8))
        XCTAssertEqual(try vk.floats(t), [0, 1, 2, 3, 0, 1, 2, 3, 8, 9, 10, 11, 8, 9, 10, 11, 16, 17, 18, 19, 16, 17, 18, 19])
    }

    func testMalformedCallsAreClearErrors() throws {
        let x = try vk.makeTensor(shape: [2, 8], dtype: .f32)
        let ids = try vk.tensor(ints: [0, 1], shape: [2])
        XCTAssertThrowsError(try vk.embedding(x, ids: x, into: x)) { XCTAssertTrue("\($0)".contains("embedding ids must be i32"), "\($0)") }
        XCTAssertThrowsError(try vk.rmsNorm(x, weight: ids, eps: 0, into: x)) {
            XCTAssertTrue("\($0)".contains("rmsNorm weight must be f32, got i32"), "\($0)")
        }
        XCTAssertThrowsError(
            try vk.rope(x, positions: ids, table: try vk.makeTensor(shape: [16], dtype: .f32), RopeDescriptor(heads: 1, headDim: 8, tokens: 2), into: x)
        ) { XCTAssertTrue("\($0)".contains("rope: table must be [maxPositions, headDim = 8]"), "\($0)") }
        XCTAssertThrowsError(try vk.copy(x, into: x, CopyDescriptor(rows: 2, cols: 5, dstOffset: 3))) {
            XCTAssertTrue("\($0)".contains("overlap"), "\($0)")
        }
        XCTAssertThrowsError(try vk.swiglu(gate: x, up: try vk.makeTensor(shape: [15], dtype: .f32), into: x)) {
            XCTAssertTrue("\($0)".contains("swiglu: gate (16 elements), up (15)"), "\($0)")
        }
        XCTAssertThrowsError(try vk.cast(ids, into: x)) { XCTAssertTrue("\($0)".contains("i32 -> f32"), "\($0)") }
    }
}
