import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// A random attention problem: descriptor, inputs and options (ragged sizes, GQA, strides, KV-cache
/// capacity, offsets, decode steps, segments, causal or not).
struct RandomAttentionCase {
    var d: AttentionDescriptor
    var q: [Float], k: [Float], v: [Float], out0: [Float]
    var segments: [Int32]?
    var withLSE: Bool

    static func random(_ g: inout SeededGenerator, trial: Int, maxLength: Int = 33) -> RandomAttentionCase {
        let heads: [(Int, Int)] = [(1, 1), (2, 2), (3, 1), (9, 3), (4, 2), (6, 3), (2, 1)]
        let (H, Hkv) = heads[trial % heads.count]
        let hd = [8, 16, 40, 64, 96, 128, 6, 24][(trial / 2) % 8]
        let batch = trial % 3 == 1 ? 2 : 1
        let decode = trial % 5 == 0
        let S = g.int(1...maxLength)
        let T = decode ? 1 : g.int(1...S)
        let segmented = trial % 6 == 2
        let causal = trial % 7 != 3
        var qo: Int? = nil
        if !segmented && causal && trial % 4 == 1 { qo = g.int(-2...(S + 1)) }
        let padQ = trial % 3 == 0 ? g.int(1...5) : 0
        let padKV = trial % 4 == 2 ? g.int(1...5) : 0
        let capacity = trial % 2 == 0 ? S + g.int(0...7) : S  // a KV cache holds more rows than S
        var d = AttentionDescriptor(
            batch: batch, queryLength: T, keyLength: S, heads: H, kvHeads: Hkv, headDim: hd, causal: causal, queryOffset: qo,
            qRowStride: H * hd + padQ, kvRowStride: Hkv * hd + padKV, outRowStride: H * hd + (trial % 5 == 3 ? 3 : 0))
        d.kvBatchStride = capacity * d.kvRowStride
        d.qOffset = trial % 4 == 3 ? g.int(1...4) : 0
        d.kOffset = trial % 3 == 2 ? g.int(1...4) : 0
        d.vOffset = trial % 5 == 4 ? g.int(1...4) : 0
        d.outOffset = trial % 6 == 5 ? g.int(1...4) : 0
        var segments: [Int32]? = nil
        if segmented {
            // Non-decreasing segment ids per batch entry (packed sequences).
            segments = []
            for _ in 0..<batch {
                var id = Int32(g.int(0...2))
                for _ in 0..<S {
                    if g.int(0...5) == 0 { id += 1 }
                    segments!.append(id)
                }
            }
        }
        let unused = (capacity - S) * d.kvRowStride  // cache rows past S (never read)
        return RandomAttentionCase(
            d: d, q: g.uniformArray(d.qExtent, -2, 2), k: g.uniformArray(d.kExtent + unused, -2, 2),
            v: g.uniformArray(d.vExtent + unused), out0: g.uniformArray(d.outExtent), segments: segments, withLSE: trial % 2 == 0)
    }

    /// Runs the case on `be`: the whole output buffer (untouched elements included) and the lse.
    func run(_ be: any Backend) throws -> (out: [Float], lse: [Float]) {
        let tq = try be.tensor(q, shape: [q.count]), tk = try be.tensor(k, shape: [k.count]), tv = try be.tensor(v, shape: [v.count])
        let out = try be.tensor(out0, shape: [out0.count])
        let lse = withLSE ? try be.makeTensor(shape: [d.batch, d.heads, d.queryLength], dtype: .f32) : nil
        let seg = try segments.map { try be.tensor(ints: $0, shape: [d.batch, d.keyLength]) }
        try be.attention(q: tq, k: tk, v: tv, into: out, logSumExp: lse, segments: seg, d)
        return (try be.floats(out), try lse.map { try be.floats($0) } ?? [])
    }

    var label: String {
        "B=\(d.batch) T=\(d.queryLength) S=\(d.keyLength) H=\(d.heads)/\(d.kvHeads) hd=\(d.headDim) causal=\(d.causal) qo=\(d.queryOffset) seg=\(segments != nil)"
    }
}

/// Compares log-sum-exp vectors: equal infinities, finite values by nmse.
func lseMismatch(_ x: [Float], _ y: [Float], tolerance: Double) -> String? {
    guard x.count == y.count else { return "lse counts differ" }
    for i in x.indices where x[i].isInfinite || y[i].isInfinite {
        if x[i] != y[i] { return "lse \(i): \(x[i]) vs \(y[i])" }
    }
    let fx = x.indices.filter { x[$0].isFinite }.map { x[$0] }, fy = y.indices.filter { y[$0].isFinite }.map { y[$0] }
    let e = nmse(fx, fy)
    return e <= tolerance ? nil : "lse nmse \(e)"
}

/// The `cpu` backend's forward-pass ops against `cpu-ref` on random ragged shapes, some large
/// enough for the multithreaded paths: nmse <= 1e-7, bit-exact where no sum is involved.
final class ForwardOpsCPUvsReferenceTests: XCTestCase {
    let ref = CPUReferenceBackend()
    let cpu = try! CPUBackend()

    func testEmbeddingIsExactForEveryTableType() throws {
        var g = SeededGenerator(seed: 31)
        for dtype in [DType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_k, .nf4] {
            for trial in 0..<20 {
                let vocab = g.int(1...40)
                let dim = dtype.blockSize * g.int(1...(dtype == .q4_k ? 2 : 4)) + (dtype.isQuantized ? 0 : g.int(0...50))
                let n = trial == 19 ? 3000 : g.int(1...30)
                let ids = (0..<n).map { _ in Int32(g.int(0...(vocab - 1))) }
                let values = g.uniformArray(vocab * dim, -3, 3)
                let bytes: [UInt8]
                if dtype.isQuantized {
                    bytes = try Reference.quantize(dtype, values)
                } else {
                    var raw = [UInt8](repeating: 0, count: vocab * dim * dtype.blockBytes)
                    try values.withUnsafeBytes { src in
                        try raw.withUnsafeMutableBytes { try Reference.cast(from: .f32, src, to: dtype, $0, count: values.count) }
                    }
                    bytes = raw
                }
                var outs = [[Float]]()
                for be in [cpu, ref] as [any Backend] {
                    let t = try be.tensor(bytes: bytes, shape: [vocab, dim], dtype: dtype)
                    let out = try be.makeTensor(shape: [n, dim], dtype: .f32)
                    try be.embedding(t, ids: try be.tensor(ints: ids, shape: [n]), into: out)
                    outs.append(try be.floats(out))
                }
                assertBitEqual(outs[0], outs[1], "\(dtype) vocab \(vocab) dim \(dim) n \(n)")
            }
        }
    }

    func testRMSNormRandomShapes() throws {
        var g = SeededGenerator(seed: 32)
        for trial in 0..<24 {
            let rows = trial >= 21 ? g.int(300...500) : g.int(1...40)
            let dim = trial >= 21 ? g.int(500...700) : g.int(1...300)
            let x = g.uniformArray(rows * dim, -4, 4), w = g.uniformArray(dim)
            let eps: Float = [1e-5, 1e-6, 0, 0.1][trial % 4]
            var outs = [[Float]]()
            for be in [cpu, ref] as [any Backend] {
                let tx = try be.tensor(x, shape: [rows, dim])
                let out = trial % 3 == 0 ? tx : try be.makeTensor(shape: [rows, dim], dtype: .f32)  // some in place
                try be.rmsNorm(tx, weight: try be.tensor(w, shape: [dim]), eps: eps, into: out)
                outs.append(try be.floats(out))
            }
            XCTAssertLessThanOrEqual(nmse(outs[0], outs[1]), 1e-7, "\(rows)x\(dim)")
        }
    }

    func testRopeRandomShapesIsExact() throws {
        var g = SeededGenerator(seed: 33)
        for trial in 0..<24 {
            let hd = 2 * g.int(1...64), heads = g.int(1...9)
            let tokens = trial >= 21 ? g.int(200...300) : g.int(1...40)
            let pad = trial % 3 == 0 ? g.int(1...7) : 0
            let d = RopeDescriptor(
                heads: heads, headDim: hd, tokens: tokens, rowStride: heads * hd + pad, offset: trial % 4 == 1 ? g.int(1...5) : 0,
                inverse: trial % 5 == 2)
            let maxPos = g.int(1...100)
            let table = RopeTable.make(theta: [10000, 500000][trial % 2], headDim: hd, maxPositions: maxPos)
            let positions = (0..<tokens).map { _ in Int32(g.int(0...(maxPos - 1))) }
            let x = g.uniformArray(d.extent + g.int(0...3), -3, 3)
            var outs = [[Float]]()
            for be in [cpu, ref] as [any Backend] {
                let tx = try be.tensor(x, shape: [x.count])
                let out = trial % 2 == 0 ? tx : try be.tensor(x, shape: [x.count])
                try be.rope(tx, positions: try be.tensor(ints: positions, shape: [tokens]), table: try be.tensor(table, shape: [maxPos, hd]), d, into: out)
                outs.append(try be.floats(out))
            }
            assertBitEqual(outs[0], outs[1], "rope \(d)")
        }
    }

    func testSwiGLURandomShapes() throws {
        var g = SeededGenerator(seed: 34)
        for trial in 0..<22 {
            let n = trial >= 20 ? g.int(100_000...200_000) : g.int(1...5000)
            let gate = g.uniformArray(n, -20, 20), up = g.uniformArray(n, -3, 3)
            var outs = [[Float]]()
            for be in [cpu, ref] as [any Backend] {
                let tg = try be.tensor(gate, shape: [n])
                try be.swiglu(gate: tg, up: try be.tensor(up, shape: [n]), into: tg)
                outs.append(try be.floats(tg))
            }
            XCTAssertLessThanOrEqual(nmse(outs[0], outs[1]), 1e-7, "n=\(n)")
        }
    }

    func testAttentionRandomShapes() throws {
        var g = SeededGenerator(seed: 35)
        for trial in 0..<28 {
            let c = RandomAttentionCase.random(&g, trial: trial, maxLength: trial >= 26 ? 120 : 33)
            let (x, lx) = try c.run(cpu)
            let (y, ly) = try c.run(ref)
            XCTAssertLessThanOrEqual(nmse(x, y), 1e-7, "trial \(trial): \(c.label)")
            XCTAssertNil(lseMismatch(lx, ly, tolerance: 1e-7), "trial \(trial): \(c.label)")
        }
    }

    func testCopyRandomIsExact() throws {
        var g = SeededGenerator(seed: 36)
        for trial in 0..<24 {
            let rows = trial >= 22 ? g.int(2000...3000) : g.int(1...40), cols = g.int(1...130)
            let d = CopyDescriptor(
                rows: rows, cols: cols, srcOffset: g.int(0...9), srcRowStride: cols + g.int(0...5), dstOffset: g.int(0...9),
                dstRowStride: cols + g.int(0...5))
            let src = g.uniformArray(d.srcExtent), dst0 = g.uniformArray(d.dstExtent + 3)
            var outs = [[Float]]()
            for be in [cpu, ref] as [any Backend] {
                let dst = try be.tensor(dst0, shape: [dst0.count])
                try be.copy(try be.tensor(src, shape: [src.count]), into: dst, d)
                outs.append(try be.floats(dst))
            }
            assertBitEqual(outs[0], outs[1], "copy \(d)")
        }
    }
}
