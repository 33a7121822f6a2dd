import IFTCore

extension Reference {
    /// `y = alpha * x · dequant(w)ᵀ + beta * y` for a quantized weight `w` `[n, k]` (blocks of
    /// `dtype` along k, rows back to back in `w`), x f32 `[m, k]` at `offsetA + i * lda`, y f32
    /// `[m, n]` at `offsetC + i * ldc` (see `OpChecks.matmulQuantized` for the descriptor).
    ///
    /// Each weight row is dequantized exactly as `dequantize` does, then every output is one fp32
    /// dot product accumulated in order `p = 0..<k`, then `alpha * acc + beta * y` — the same
    /// numbers as `dequantize` followed by `matmul`. When `beta == 0`, y is not read.
    public static func matmulQuantized(
        x: UnsafeBufferPointer<Float>, w: UnsafeRawBufferPointer, dtype: DType, y: UnsafeMutableBufferPointer<Float>,
        _ d: MatmulDescriptor
    ) throws {
        guard dtype.isQuantized, d.k % dtype.blockSize == 0 else {
            throw IFTError.dtypeMismatch("matmulQuantized: \(dtype) weights with k = \(d.k) are not whole quantized blocks")
        }
        try d.validate(countA: x.count, countB: d.n * d.k, countC: y.count)
        let rowBytes = d.k / dtype.blockSize * dtype.blockBytes
        guard w.count >= d.n * rowBytes else {
            throw IFTError.shapeMismatch("matmulQuantized: w has \(w.count) bytes, \(d.n) rows need \(d.n * rowBytes)")
        }
        guard d.m > 0, d.n > 0, let base = w.baseAddress else { return }
        var row = [Float](repeating: 0, count: d.k)
        try row.withUnsafeMutableBufferPointer { r in
            for j in 0..<d.n {
                try dequantize(dtype, bytes: UnsafeRawBufferPointer(start: base + j * rowBytes, count: rowBytes), into: r)
                for i in 0..<d.m {
                    let xa = d.offsetA + i * d.lda
                    var acc: Float = 0
                    for p in 0..<d.k { acc += x[xa + p] * r[p] }
                    let ci = d.offsetC + i * d.ldc + j
                    y[ci] = d.beta == 0 ? d.alpha * acc : d.alpha * acc + d.beta * y[ci]
                }
            }
        }
    }
}
