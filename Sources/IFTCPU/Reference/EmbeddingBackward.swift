import IFTCore

extension Reference {
    /// Gradient of `embedding` for an f32 table: ACCUMULATES `dtable[ids[i], :] += dout[i, :]`
    /// for `i` in order (so repeated ids sum deterministically; zero `dtable` first for a plain
    /// gradient). Throws, before writing anything, when an id is outside `0..<vocab`.
    public static func embeddingBackward(
        ids: UnsafeBufferPointer<Int32>, dout: UnsafeBufferPointer<Float>, vocab: Int, dim: Int,
        dtable: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard vocab >= 0, dim >= 0, dtable.count == vocab * dim, dout.count == ids.count * dim else {
            throw IFTError.shapeMismatch(
                "embeddingBackward: a [\(vocab), \(dim)] gradient table (got \(dtable.count) values) needs \(ids.count) x \(dim) output gradients (got \(dout.count))")
        }
        try checkEmbeddingIDs(ids, vocab: vocab)
        for (i, id) in ids.enumerated() {
            let row = Int(id) * dim
            for j in 0..<dim { dtable[row + j] += dout[i * dim + j] }
        }
    }
}
