import IFTCore
import XCTest

@testable import IFTModel

final class QKPermutationTests: XCTestCase {
    /// Fixtures/gguf-py-fixture.gguf holds `perm.input` (8 x 3, values 0..<24) and llama.cpp's
    /// `LlamaModel.permute` of it, computed with numpy by Tools/make-gguf-fixture.py: as Q with
    /// 2 heads, and as K with n_head 4, n_head_kv 1 (the kv head count wins).
    func testMatchesLlamaCppNumpyFormula() throws {
        let g = try GGUFFile(path: TestSupport.fixture("gguf-py-fixture.gguf"))
        let input = try g.floats("perm.input", expectedShape: [8, 3])
        let q = try g.floats("perm.q_heads2", expectedShape: [8, 3])
        let k = try g.floats("perm.k_heads4_kv1", expectedShape: [8, 3])
        XCTAssertEqual(try QKPermutation.permuteForGGUF(weights: input, rows: 8, cols: 3, heads: 2), q)
        XCTAssertEqual(try QKPermutation.permuteForGGUF(weights: input, rows: 8, cols: 3, heads: 1), k)
        XCTAssertEqual(try QKPermutation.unpermuteFromGGUF(weights: q, rows: 8, cols: 3, heads: 2), input)
        XCTAssertEqual(try QKPermutation.unpermuteFromGGUF(weights: k, rows: 8, cols: 3, heads: 1), input)
    }

    /// numpy's reshape(n_head, 2, D/2, cols).swapaxes(1, 2).reshape(rows, cols), written out as
    /// index math: out[h][i][j][c] = in[h][j][i][c].
    static func numpyPermute(_ w: [Float], rows: Int, cols: Int, heads: Int) -> [Float] {
        let half = rows / heads / 2
        var out = [Float](repeating: .nan, count: w.count)
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    for c in 0..<cols {
                        let outIndex = ((h * half + i) * 2 + j) * cols + c  // shape (n_head, half, 2, cols)
                        let inIndex = ((h * 2 + j) * half + i) * cols + c  // shape (n_head, 2, half, cols)
                        out[outIndex] = w[inIndex]
                    }
                }
            }
        }
        return out
    }

    func testIndexMathAndRoundTrip() throws {
        var rng = SeededGenerator(seed: 3)
        for (rows, cols, heads) in [(8, 3, 2), (8, 3, 1), (64, 5, 4), (96, 7, 3), (2, 1, 1)] {
            let w = rng.uniformArray(rows * cols)
            let p = try QKPermutation.permuteForGGUF(weights: w, rows: rows, cols: cols, heads: heads)
            XCTAssertEqual(p, Self.numpyPermute(w, rows: rows, cols: cols, heads: heads))
            XCTAssertEqual(try QKPermutation.unpermuteFromGGUF(weights: p, rows: rows, cols: cols, heads: heads), w)
            if rows / heads > 2 { XCTAssertNotEqual(p, w) }  // width 2 is the identity
        }
    }

    /// One head of width 8, one column: HF rows 0..7 become 0,4,1,5,2,6,3,7 — each rotate-half
    /// pair (i, i+4) lands next to each other as an interleaved pair (2i, 2i+1).
    func testHandWorkedOneHead() throws {
        let w: [Float] = [0, 1, 2, 3, 4, 5, 6, 7]
        XCTAssertEqual(try QKPermutation.permuteForGGUF(weights: w, rows: 8, cols: 1, heads: 1), [0, 4, 1, 5, 2, 6, 3, 7])
        XCTAssertEqual(try QKPermutation.unpermuteFromGGUF(weights: [0, 4, 1, 5, 2, 6, 3, 7], rows: 8, cols: 1, heads: 1), w)
        // Two heads of width 4: each head permuted on its own.
        XCTAssertEqual(try QKPermutation.permuteForGGUF(weights: w, rows: 8, cols: 1, heads: 2), [0, 2, 1, 3, 4, 6, 5, 7])
        XCTAssertEqual(QKPermutation.hfRow(forGGUFRow: 1, rows: 8, heads: 1), 4)
    }

    func testRejectsBadShapes() {
        XCTAssertThrowsError(try QKPermutation.permuteForGGUF(weights: [1, 2, 3], rows: 3, cols: 1, heads: 1))
        XCTAssertThrowsError(try QKPermutation.permuteForGGUF(weights: [1, 2, 3, 4], rows: 4, cols: 1, heads: 3))
        XCTAssertThrowsError(try QKPermutation.permuteForGGUF(weights: [1, 2, 3, 4], rows: 2, cols: 1, heads: 1))
        XCTAssertThrowsError(try QKPermutation.permuteForGGUF(weights: [1, 2, 3, 4, 5, 6], rows: 6, cols: 1, heads: 2))
    }

    // MARK: - The proof: interleaved RoPE on GGUF-ordered weights == rotate-half RoPE on HF weights

    static func matvec(_ w: [Float], _ x: [Float], rows: Int) -> [Float] {
        let cols = x.count
        return (0..<rows).map { r in (0..<cols).reduce(Float(0)) { $0 + w[r * cols + $1] * x[$1] } }
    }

    static func angle(_ i: Int, pos: Int, dim: Int, theta: Float) -> Float {
        Float(pos) * powf(theta, -Float(2 * i) / Float(dim))
    }

    /// Hugging Face `apply_rotary_pos_emb` with `rotate_half`: pairs (i, i + D/2).
    static func ropeRotateHalf(_ v: [Float], heads: Int, pos: Int, theta: Float) -> [Float] {
        let d = v.count / heads
        var out = v
        for h in 0..<heads {
            for i in 0..<(d / 2) {
                let a = angle(i, pos: pos, dim: d, theta: theta)
                let x0 = v[h * d + i], x1 = v[h * d + i + d / 2]
                out[h * d + i] = x0 * cos(a) - x1 * sin(a)
                out[h * d + i + d / 2] = x1 * cos(a) + x0 * sin(a)
            }
        }
        return out
    }

    /// ggml's normal (non-NeoX) `rope`: pairs (2i, 2i + 1).
    static func ropeInterleaved(_ v: [Float], heads: Int, pos: Int, theta: Float) -> [Float] {
        let d = v.count / heads
        var out = v
        for h in 0..<heads {
            for i in 0..<(d / 2) {
                let a = angle(i, pos: pos, dim: d, theta: theta)
                let x0 = v[h * d + 2 * i], x1 = v[h * d + 2 * i + 1]
                out[h * d + 2 * i] = x0 * cos(a) - x1 * sin(a)
                out[h * d + 2 * i + 1] = x1 * cos(a) + x0 * sin(a)
            }
        }
        return out
    }

    /// Per-head attention scores q_h · k_{h / group} for grouped-query attention.
    static func scores(_ q: [Float], _ k: [Float], heads: Int, kvHeads: Int) -> [Float] {
        let d = q.count / heads
        return (0..<heads).map { h in
            let kh = h / (heads / kvHeads)
            return (0..<d).reduce(Float(0)) { $0 + q[h * d + $1] * k[kh * d + $1] }
        }
    }

    func testInterleavedRopeOnPermutedWeightsEqualsRotateHalfOnOriginal() throws {
        let hidden = 12, heads = 4, kvHeads = 2, d = 6, theta: Float = 10_000
        var rng = SeededGenerator(seed: 11)
        let wq = rng.uniformArray(heads * d * hidden)  // HF order
        let wk = rng.uniformArray(kvHeads * d * hidden)
        // What convert_hf_to_gguf.py stores: Q with n_head, K with n_head_kv.
        let wqG = try QKPermutation.permuteForGGUF(weights: wq, rows: heads * d, cols: hidden, heads: heads)
        let wkG = try QKPermutation.permuteForGGUF(weights: wk, rows: kvHeads * d, cols: hidden, heads: kvHeads)
        for (qPos, kPos) in [(0, 0), (5, 2), (17, 17), (40, 3)] {
            let xq = rng.uniformArray(hidden), xk = rng.uniformArray(hidden)
            // Hugging Face: rotate-half RoPE on the original weights.
            let qHF = Self.ropeRotateHalf(Self.matvec(wq, xq, rows: heads * d), heads: heads, pos: qPos, theta: theta)
            let kHF = Self.ropeRotateHalf(Self.matvec(wk, xk, rows: kvHeads * d), heads: kvHeads, pos: kPos, theta: theta)
            // llama.cpp: interleaved RoPE on the permuted weights.
            let qG = Self.ropeInterleaved(Self.matvec(wqG, xq, rows: heads * d), heads: heads, pos: qPos, theta: theta)
            let kG = Self.ropeInterleaved(Self.matvec(wkG, xk, rows: kvHeads * d), heads: kvHeads, pos: kPos, theta: theta)
            // The rotated vectors are the same up to the same row permutation...
            assertClose(try QKPermutation.permuteForGGUF(weights: qHF, rows: heads * d, cols: 1, heads: heads), qG, tol: 1e-5)
            assertClose(try QKPermutation.unpermuteFromGGUF(weights: kG, rows: kvHeads * d, cols: 1, heads: kvHeads), kHF, tol: 1e-5)
            // ...so the attention scores agree.
            let sHF = Self.scores(qHF, kHF, heads: heads, kvHeads: kvHeads)
            assertClose(Self.scores(qG, kG, heads: heads, kvHeads: kvHeads), sHF, tol: 1e-4)
            // Our convention: unpermute GGUF weights at load, then rotate-half, gives the HF result.
            let wqBack = try QKPermutation.unpermuteFromGGUF(weights: wqG, rows: heads * d, cols: hidden, heads: heads)
            XCTAssertEqual(Self.ropeRotateHalf(Self.matvec(wqBack, xq, rows: heads * d), heads: heads, pos: qPos, theta: theta), qHF)
            // And the test has teeth: the wrong pairing changes the scores once positions differ.
            if qPos != kPos {
                let wrong = Self.scores(
                    Self.ropeInterleaved(Self.matvec(wq, xq, rows: heads * d), heads: heads, pos: qPos, theta: theta),
                    Self.ropeInterleaved(Self.matvec(wk, xk, rows: kvHeads * d), heads: kvHeads, pos: kPos, theta: theta),
                    heads: heads, kvHeads: kvHeads)
                XCTAssertGreaterThan(zip(wrong, sHF).map { abs($0 - $1) }.max()!, 1e-2)
            }
        }
    }
}
