import Foundation
import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// The Llama forward-pass ops (embedding, rmsNorm, rope, swiglu, attention, copy) on small cases
/// worked out by hand, on `cpu-ref` (the truth) and on `cpu`.
final class ForwardOpsHandCheckedTests: XCTestCase {
    func testRMSNormOfAKnownVector() throws {
        for be in try cpuBackends() {
            // Row 0: mean(x^2) = (1 + 4 + 9 + 16) / 4 = 7.5; row 1: all 2 -> mean 4, rstd 1/2.
            let x = try be.tensor([1, 2, 3, 4, 2, -2, 2, -2], shape: [2, 4])
            let w = try be.tensor([1, 1, 2, 0.5], shape: [4])
            let out = try be.makeTensor(shape: [2, 4], dtype: .f32)
            try be.rmsNorm(x, weight: w, eps: 0, into: out)
            let r = 1 / Float(7.5).squareRoot()
            let expected: [Float] = [r, 2 * r, 2 * 3 * r, 0.5 * 4 * r, 1, -1, 2, -0.5]
            for (a, e) in zip(try be.floats(out), expected) { XCTAssertEqual(a, e, accuracy: 1e-6, be.name) }
            // eps enters under the root: x = [3, 4] with eps 0.5 -> rstd = 1 / sqrt(12.5 + 0.5).
            let y = try be.tensor([3, 4], shape: [1, 2])
            try be.rmsNorm(y, weight: try be.tensor([1, 1], shape: [2]), eps: 0.5, into: y)  // in place
            let r2 = 1 / Float(13).squareRoot()
            XCTAssertEqual(try be.floats(y), [3 * r2, 4 * r2], be.name)
        }
    }

    func testRopeTableIsRoundedDoubleAngles() {
        let table = RopeTable.make(theta: 10000, headDim: 8, maxPositions: 5)
        XCTAssertEqual(table.count, 40)
        for p in 0..<5 {
            for i in 0..<4 {
                let angle = Double(p) * pow(10000, -Double(2 * i) / 8)
                XCTAssertEqual(table[p * 8 + i], Float(cos(angle)), "cos p=\(p) i=\(i)")
                XCTAssertEqual(table[p * 8 + 4 + i], Float(sin(angle)), "sin p=\(p) i=\(i)")
            }
        }
        XCTAssertEqual(Array(table[0..<8]), [1, 1, 1, 1, 0, 0, 0, 0], "position 0 is the identity")
    }

    func testRopeRotatesUnitVectorsByPositionTimesFrequency() throws {
        // headDim 4, theta 100: inverse frequencies 1 and 0.1. Pair 0 is (x[0], x[2]), pair 1 (x[1], x[3]).
        let p = 3
        let tableValues = RopeTable.make(theta: 100, headDim: 4, maxPositions: 8)
        for be in try cpuBackends() {
            let table = try be.tensor(tableValues, shape: [8, 4])
            let pos = try be.tensor(ints: [Int32(p), Int32(p)], shape: [2])
            // Token 0 = e0, token 1 = e1 (one head each).
            let x = try be.tensor([1, 0, 0, 0, 0, 1, 0, 0], shape: [2, 4])
            let out = try be.makeTensor(shape: [2, 4], dtype: .f32)
            try be.rope(x, positions: pos, table: table, RopeDescriptor(heads: 1, headDim: 4, tokens: 2), into: out)
            let o = try be.floats(out)
            let a0 = Double(p), a1 = Double(p) * 0.1
            let expected: [Double] = [cos(a0), 0, sin(a0), 0, 0, cos(a1), 0, sin(a1)]
            for (x, e) in zip(o, expected) { XCTAssertEqual(Double(x), e, accuracy: 1e-6, be.name) }
            // The inverse rotation undoes it (in place).
            try be.rope(out, positions: pos, table: table, RopeDescriptor(heads: 1, headDim: 4, tokens: 2, inverse: true), into: out)
            for (x, e) in zip(try be.floats(out), [1, 0, 0, 0, 0, 1, 0, 0] as [Float]) { XCTAssertEqual(x, e, accuracy: 1e-6, be.name) }
        }
    }

    func testRopeStridedHeadsLeaveTheRestAlone() throws {
        // Two tokens, rows of 10: offset 1, two heads of 4 -> elements 1...8 rotate; 0 and 9 stay.
        let tableValues = RopeTable.make(theta: 10000, headDim: 4, maxPositions: 4)
        for be in try cpuBackends() {
            let x = (0..<20).map { Float($0) }
            let t = try be.tensor(x, shape: [2, 10])
            let d = RopeDescriptor(heads: 2, headDim: 4, tokens: 2, rowStride: 10, offset: 1)
            try be.rope(t, positions: try be.tensor(ints: [0, 2], shape: [2]), table: try be.tensor(tableValues, shape: [4, 4]), d, into: t)
            let o = try be.floats(t)
            XCTAssertEqual(Array(o[0..<10]), Array(x[0..<10]), "position 0 is the identity")
            XCTAssertEqual(o[10], 10)
            XCTAssertEqual(o[19], 19)
            XCTAssertEqual(Double(o[11]), 11 * cos(2) - 13 * sin(2), accuracy: 1e-5)
            XCTAssertEqual(Double(o[13]), 13 * cos(2) + 11 * sin(2), accuracy: 1e-5)
        }
    }

    func testSwiGLU() throws {
        for be in try cpuBackends() {
            let gate = try be.tensor([0, 1, -1, 30, -100], shape: [5])
            let up = try be.tensor([5, 2, 3, 0.5, 1], shape: [5])
            let out = try be.makeTensor(shape: [5], dtype: .f32)
            try be.swiglu(gate: gate, up: up, into: out)
            let o = try be.floats(out)
            XCTAssertEqual(o[0], 0)
            XCTAssertEqual(o[1], 2 / (1 + expf(-1)), accuracy: 1e-6)
            XCTAssertEqual(o[2], 3 * (-1 / (1 + expf(1))), accuracy: 1e-6)
            XCTAssertEqual(o[3], 15, accuracy: 1e-5)
            XCTAssertEqual(o[4], 0, accuracy: 1e-30, "large negative gates give (-)0, not NaN")
        }
    }

    func testEmbeddingGathersRows() throws {
        let table: [Float] = [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]  // 4 x 3
        for be in try cpuBackends() {
            let t = try be.tensor(table, shape: [4, 3])
            let out = try be.makeTensor(shape: [3, 3], dtype: .f32)
            try be.embedding(t, ids: try be.tensor(ints: [2, 0, 3], shape: [3]), into: out)
            XCTAssertEqual(try be.floats(out), [20, 21, 22, 0, 1, 2, 30, 31, 32], be.name)
            // An f16 table holding the same values (all exact in f16).
            let t16 = try be.makeTensor(shape: [4, 3], dtype: .f16)
            try be.cast(t, into: t16)
            try be.embedding(t16, ids: try be.tensor(ints: [1, 1, 0], shape: [3]), into: out)
            XCTAssertEqual(try be.floats(out), [10, 11, 12, 10, 11, 12, 0, 1, 2], be.name)
            assertThrowsIFT(["embedding", "id 4 at position 1", "0..<4"]) {
                try be.embedding(t, ids: try be.tensor(ints: [0, 4, 1], shape: [3]), into: out)
            }
            assertThrowsIFT(["embedding", "id -1 at position 2"]) {
                try be.embedding(t, ids: try be.tensor(ints: [0, 1, -1], shape: [3]), into: out)
            }
        }
    }

    func testEmbeddingOfQuantizedRowsEqualsDequantize() throws {
        var g = SeededGenerator(seed: 9)
        for dtype in [DType.q8_0, .q4_0, .q4_1, .q4_k, .nf4] {
            let dim = 2 * dtype.blockSize, vocab = 3
            let bytes = try Reference.quantize(dtype, g.uniformArray(vocab * dim))
            let rows = try Reference.dequantize(dtype, bytes)
            for be in try cpuBackends() {
                let t = try be.tensor(bytes: bytes, shape: [vocab, dim], dtype: dtype)
                let out = try be.makeTensor(shape: [2, dim], dtype: .f32)
                try be.embedding(t, ids: try be.tensor(ints: [2, 1], shape: [2]), into: out)
                assertBitEqual(try be.floats(out), Array(rows[2 * dim..<3 * dim] + rows[dim..<2 * dim]), "\(be.name) \(dtype)")
            }
        }
    }

    func testCopyStridedAndOverlap() throws {
        for be in try cpuBackends() {
            let src = try be.tensor((0..<12).map { Float($0) }, shape: [3, 4])
            let dst = try be.tensor([Float](repeating: -1, count: 10), shape: [10])
            // Columns 1...2 of rows 0 and 2 (source stride 8) into dst at 1 and 6 (stride 5).
            try be.copy(src, into: dst, CopyDescriptor(rows: 2, cols: 2, srcOffset: 1, srcRowStride: 8, dstOffset: 1, dstRowStride: 5))
            XCTAssertEqual(try be.floats(dst), [-1, 1, 2, -1, -1, -1, 9, 10, -1, -1], be.name)
            // Within one tensor: interleaved rows that do not overlap are fine...
            try be.copy(src, into: src, CopyDescriptor(rows: 3, cols: 2, srcOffset: 0, srcRowStride: 4, dstOffset: 2, dstRowStride: 4))
            XCTAssertEqual(try be.floats(src), [0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9], be.name)
            // ...overlapping ones are rejected.
            assertThrowsIFT(["copy", "overlap"]) {
                try be.copy(src, into: src, CopyDescriptor(rows: 2, cols: 4, srcOffset: 0, dstOffset: 2))
            }
        }
    }

    /// q, k, v rows for `positions` tokens of `heads` heads of `hd`, from a closure.
    func rows(_ n: Int, _ width: Int, _ f: (Int, Int) -> Float) -> [Float] {
        (0..<n * width).map { f($0 / width, $0 % width) }
    }

    func testAttentionWithOneKeyReturnsItsValue() throws {
        for be in try cpuBackends() {
            let d = AttentionDescriptor(queryLength: 1, keyLength: 1, heads: 2, kvHeads: 1, headDim: 3)
            let q = try be.tensor([5, -3, 2, 100, 7, -8], shape: [1, 6])
            let k = try be.tensor([1, 2, 3], shape: [1, 3])
            let v = try be.tensor([0.5, -1.5, 4], shape: [1, 3])
            let out = try be.makeTensor(shape: [1, 6], dtype: .f32)
            let lse = try be.makeTensor(shape: [1, 2, 1], dtype: .f32)
            try be.attention(q: q, k: k, v: v, into: out, logSumExp: lse, d)
            XCTAssertEqual(try be.floats(out), [0.5, -1.5, 4, 0.5, -1.5, 4], be.name)
            // One key: lse is its scaled score.
            let s0 = (5 - 6 + 6) / Float(3).squareRoot(), s1 = (100 + 14 - 24) / Float(3).squareRoot()
            let l = try be.floats(lse)
            XCTAssertEqual(l[0], s0, accuracy: 1e-5)
            XCTAssertEqual(l[1], s1, accuracy: 1e-4)
        }
    }

    func testAttentionCausalMaskGQAAndLogSumExp() throws {
        // H = 4, Hkv = 2, headDim 2, T = S = 3. Keys of kv head g at position j: (j, g); values
        // one-hot-ish so the output is the softmax-weighted average we can compute by hand.
        for be in try cpuBackends() {
            let H = 4, Hkv = 2, hd = 2, T = 3
            let qv = rows(T, H * hd) { t, c in c % 2 == 0 ? Float(t + 1) : Float(c / 2) * 0.5 }
            let kv = rows(T, Hkv * hd) { j, c in c % 2 == 0 ? Float(j) : Float(c / 2) }
            let vv = rows(T, Hkv * hd) { j, c in Float(10 * j + c) }
            let d = AttentionDescriptor(queryLength: T, keyLength: T, heads: H, kvHeads: Hkv, headDim: hd)
            let out = try be.makeTensor(shape: [T, H * hd], dtype: .f32)
            let lse = try be.makeTensor(shape: [1, H, T], dtype: .f32)
            try be.attention(
                q: try be.tensor(qv, shape: [T, H * hd]), k: try be.tensor(kv, shape: [T, Hkv * hd]),
                v: try be.tensor(vv, shape: [T, Hkv * hd]), into: out, logSumExp: lse, d)
            let o = try be.floats(out), l = try be.floats(lse)
            for h in 0..<H {
                let g = h / 2  // GQA: heads 0, 1 -> kv 0; heads 2, 3 -> kv 1
                for t in 0..<T {
                    var scores: [Double] = []
                    for j in 0...t {  // causal
                        let dot = Double(qv[t * H * hd + h * hd]) * Double(kv[j * Hkv * hd + g * hd])
                            + Double(qv[t * H * hd + h * hd + 1]) * Double(kv[j * Hkv * hd + g * hd + 1])
                        scores.append(dot / 2.0.squareRoot())
                    }
                    let m = scores.max()!
                    let w = scores.map { exp($0 - m) }
                    let sum = w.reduce(0, +)
                    XCTAssertEqual(Double(l[h * T + t]), m + log(sum), accuracy: 1e-5, "\(be.name) lse h=\(h) t=\(t)")
                    for c in 0..<hd {
                        let e = (0...t).map { w[$0] * Double(vv[$0 * Hkv * hd + g * hd + c]) }.reduce(0, +) / sum
                        XCTAssertEqual(Double(o[t * H * hd + h * hd + c]), e, accuracy: 1e-4, "\(be.name) h=\(h) t=\(t) c=\(c)")
                    }
                }
            }
            // Query 0 sees only key 0: exactly its value.
            XCTAssertEqual(Array(o[0..<2]), [Float(vv[0]), vv[1]], be.name)
            XCTAssertEqual(Array(o[4..<6]), [Float(vv[2]), vv[3]], be.name)
        }
    }

    func testAttentionSegmentsAreBlockDiagonalAndEmptyQueriesAreZero() throws {
        for be in try cpuBackends() {
            // One head, headDim 1, 4 packed tokens in segments [7, 7, 9, 9]; q = k = 0 so every
            // allowed key weighs the same: the output is the mean of the allowed values.
            let d = AttentionDescriptor(queryLength: 4, keyLength: 4, heads: 1, kvHeads: 1, headDim: 1)
            let zeros = try be.tensor([0, 0, 0, 0], shape: [4, 1])
            let v = try be.tensor([1, 3, 10, 30], shape: [4, 1])
            let out = try be.makeTensor(shape: [4, 1], dtype: .f32)
            try be.attention(
                q: zeros, k: zeros, v: v, into: out, logSumExp: nil, segments: try be.tensor(ints: [7, 7, 9, 9], shape: [1, 4]), d)
            XCTAssertEqual(try be.floats(out), [1, 2, 10, 20], be.name)
            // Without segments: causal means of 1, 2, 3, 4 values.
            try be.attention(q: zeros, k: zeros, v: v, into: out, logSumExp: nil, d)
            XCTAssertEqual(try be.floats(out), [1, 2, Float(14) / 3, 11], be.name)
            // queryOffset -1: query 0 sits before every key -> zeros and lse -inf; query 1 sees key 0.
            var early = AttentionDescriptor(queryLength: 2, keyLength: 4, heads: 1, kvHeads: 1, headDim: 1, queryOffset: -1)
            early.outRowStride = 1
            let lse = try be.makeTensor(shape: [1, 1, 2], dtype: .f32)
            let out2 = try be.tensor([5, 5], shape: [2, 1])
            try be.attention(q: zeros, k: zeros, v: v, into: out2, logSumExp: lse, early)
            XCTAssertEqual(try be.floats(out2), [0, 1], be.name)
            XCTAssertEqual(try be.floats(lse), [-.infinity, 0], be.name)
        }
    }

    /// Attention against the composition of existing ops: per head, `scale * Q·Kᵀ` (matmul with
    /// row strides), the causal mask by hand, softmaxRows, then `P·V` (matmul into strided rows).
    func testAttentionEqualsMatmulSoftmaxMatmul() throws {
        var g = SeededGenerator(seed: 21)
        let ref = CPUReferenceBackend()
        for (T, S, H, Hkv, hd, qo) in [(5, 7, 2, 1, 8, 2), (4, 4, 3, 3, 6, 0), (1, 9, 6, 2, 16, 8), (6, 6, 9, 3, 5, 0)] {
            let d = AttentionDescriptor(queryLength: T, keyLength: S, heads: H, kvHeads: Hkv, headDim: hd, queryOffset: qo)
            let qv = g.uniformArray(T * H * hd, -2, 2), kv = g.uniformArray(S * Hkv * hd, -2, 2), vv = g.uniformArray(S * Hkv * hd)
            let q = try ref.tensor(qv, shape: [T, H * hd]), k = try ref.tensor(kv, shape: [S, Hkv * hd])
            let v = try ref.tensor(vv, shape: [S, Hkv * hd])
            let fused = try ref.makeTensor(shape: [T, H * hd], dtype: .f32)
            try ref.attention(q: q, k: k, v: v, into: fused, logSumExp: nil, d)

            let composed = try ref.makeTensor(shape: [T, H * hd], dtype: .f32)
            for h in 0..<H {
                let gIndex = h / (H / Hkv)
                let scores = try ref.makeTensor(shape: [T, S], dtype: .f32)
                var qk = MatmulDescriptor(m: T, n: S, k: hd, transposeB: true, alpha: d.scale)
                qk.lda = H * hd
                qk.offsetA = h * hd
                qk.ldb = Hkv * hd
                qk.offsetB = gIndex * hd
                try ref.matmul(q, k, scores, qk)
                var s = try ref.floats(scores)
                for t in 0..<T { for j in 0..<S where j > t + qo { s[t * S + j] = -.infinity } }
                let masked = try ref.tensor(s, shape: [T, S])
                try ref.softmaxRows(masked, into: masked)
                var pv = MatmulDescriptor(m: T, n: hd, k: S)
                pv.ldb = Hkv * hd
                pv.offsetB = gIndex * hd
                pv.ldc = H * hd
                pv.offsetC = h * hd
                try ref.matmul(masked, v, composed, pv)
            }
            let e = nmse(try ref.floats(fused), try ref.floats(composed))
            XCTAssertLessThanOrEqual(e, 1e-12, "T=\(T) S=\(S) H=\(H) Hkv=\(Hkv) hd=\(hd): nmse \(e)")
        }
    }
}
