import IFTCore

extension Reference {
    /// Gathers rows of an embedding table: `out[i, :] = table[ids[i], :]` as f32, for a `[vocab,
    /// dim]` table of `dtype` (f32, f16, bf16 or a quantized type, `table` holding exactly its
    /// bytes). Quantized rows are dequantized block by block with the `dequantize` functions, so
    /// the values are bit-identical to `dequantize`'s. Throws, before writing anything, when an id
    /// is outside `0..<vocab`, naming the position and the id.
    public static func embedding(
        _ dtype: DType, table: UnsafeRawBufferPointer, vocab: Int, dim: Int, ids: UnsafeBufferPointer<Int32>,
        out: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard dtype != .i32, vocab >= 0, dim >= 0, dim % dtype.blockSize == 0 else {
            throw IFTError.shapeMismatch("embedding: a [\(vocab), \(dim)] \(dtype) table is not valid")
        }
        let rowBytes = dim / dtype.blockSize * dtype.blockBytes
        guard table.count == vocab * rowBytes, out.count == ids.count * dim else {
            throw IFTError.shapeMismatch(
                "embedding: a [\(vocab), \(dim)] \(dtype) table needs \(vocab * rowBytes) bytes (got \(table.count)), the output \(ids.count) x \(dim) values (got \(out.count))")
        }
        try checkEmbeddingIDs(ids, vocab: vocab)
        guard let src = table.baseAddress, let dst = out.baseAddress else { return }
        for (i, id) in ids.enumerated() {
            embeddingRow(dtype, src + Int(id) * rowBytes, dim: dim, into: dst + i * dim)
        }
    }

    /// Throws `OpChecks.embeddingIdOutOfRange` for the first id outside `0..<vocab`.
    public static func checkEmbeddingIDs(_ ids: UnsafeBufferPointer<Int32>, vocab: Int) throws {
        for (i, id) in ids.enumerated() where id < 0 || Int(id) >= vocab {
            throw OpChecks.embeddingIdOutOfRange(position: i, id: id, vocab: vocab)
        }
    }

    /// Converts one table row (`dim` values of `dtype` starting at `row`) to f32.
    @inline(__always)
    public static func embeddingRow(_ dtype: DType, _ row: UnsafeRawPointer, dim: Int, into y: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32:
            for j in 0..<dim { y[j] = Float(bitPattern: u32(row, 4 * j)) }
        case .f16, .bf16:
            for j in 0..<dim { y[j] = loadFloat(dtype, row, j) }
        case .q8_0, .q4_0, .q4_1, .q4_k, .nf4:
            let bs = dtype.blockSize, bb = dtype.blockBytes
            for b in 0..<(dim / bs) { dequantizeBlock(dtype, row + b * bb, into: y + b * bs) }
        case .i32:
            break
        }
    }
}
