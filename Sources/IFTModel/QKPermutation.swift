import IFTCore

/// The row permutation llama.cpp applies to the Q and K projection weights when converting a
/// Hugging Face checkpoint to GGUF.
///
/// Hugging Face Llama applies RoPE in *rotate-half* (NeoX) form: within each head of width `D`,
/// element `i` is rotated together with element `i + D/2`. ggml's Llama RoPE is the
/// *interleaved* (GPT-J) form: element `2i` is rotated with `2i + 1`. So
/// `convert_hf_to_gguf.py` (`LlamaModel.permute`) reorders the rows of `attn_q` / `attn_k`:
///
///     w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(rows, cols)
///
/// i.e. GGUF row `h*D + 2i + j` is HF row `h*D + j*D/2 + i` (`j` in 0...1, `i < D/2`), with
/// `n_head` the query heads for `attn_q` and the key/value heads for `attn_k`.
///
/// CONVENTION: the engine's model code works in the Hugging Face order and applies rotate-half
/// RoPE. Q/K weights loaded from GGUF are passed through `unpermuteFromGGUF`; weights written to
/// GGUF go through `permuteForGGUF`. (Any row-wise tensor works: a LoRA B matrix of Q/K, or a
/// bias, with `cols` its row length.)
public enum QKPermutation {
    /// HF (rotate-half) row order -> GGUF (interleaved) row order. `weights` is row-major
    /// `[rows, cols]`; `heads` is the number of heads those rows hold.
    public static func permuteForGGUF(weights: [Float], rows: Int, cols: Int, heads: Int) throws -> [Float] {
        try apply(weights, rows: rows, cols: cols, heads: heads, toGGUF: true)
    }

    /// GGUF (interleaved) row order -> HF (rotate-half) row order; the inverse of
    /// `permuteForGGUF`.
    public static func unpermuteFromGGUF(weights: [Float], rows: Int, cols: Int, heads: Int) throws -> [Float] {
        try apply(weights, rows: rows, cols: cols, heads: heads, toGGUF: false)
    }

    /// The HF row that GGUF row `r` holds (for rows of width `rows / heads` per head).
    public static func hfRow(forGGUFRow r: Int, rows: Int, heads: Int) -> Int {
        let d = rows / heads
        let h = r / d, k = r % d
        let i = k / 2, j = k % 2
        return h * d + j * (d / 2) + i
    }

    static func apply(_ w: [Float], rows: Int, cols: Int, heads: Int, toGGUF: Bool) throws -> [Float] {
        guard rows >= 0, cols >= 0, w.count == rows * cols else {
            throw IFTError.shapeMismatch("Q/K permutation: \(w.count) values are not \(rows) x \(cols)")
        }
        guard heads > 0, rows % heads == 0, (rows / heads) % 2 == 0 else {
            throw IFTError.shapeMismatch(
                "Q/K permutation: \(rows) rows do not split into \(heads) heads of even width")
        }
        var out = [Float](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for g in 0..<rows {
                    let h = hfRow(forGGUFRow: g, rows: rows, heads: heads)
                    let (from, to) = toGGUF ? (h, g) : (g, h)
                    for c in 0..<cols { dst[to * cols + c] = src[from * cols + c] }
                }
            }
        }
        return out
    }
}
