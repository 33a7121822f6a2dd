/// Operand checks of `matmulQuantized`, shared by every backend.
extension OpChecks {
    /// `y = alpha * x · dequant(w)ᵀ + beta * y`: x f32 `[m, k]` (`lda`, `offsetA`), w `[n, k]` in a
    /// quantized dtype (blocks along k), y f32 `[m, n]` (`ldc`, `offsetC`). The descriptor must have
    /// `batch == 1`, `transposeA == false`, `transposeB == true`, `ldb == k` and `offsetB == 0`.
    public static func matmulQuantized(_ x: Tensor, _ w: Tensor, _ y: Tensor, _ d: MatmulDescriptor) throws {
        try dtype(x, .f32, "matmulQuantized x")
        try dtype(y, .f32, "matmulQuantized y")
        guard w.dtype.isQuantized else {
            throw IFTError.dtypeMismatch(
                "matmulQuantized: w must be q8_0, q4_0, q4_1, q4_k or nf4, got \(w.dtype) (use matmul for float weights)")
        }
        guard d.batch == 1, !d.transposeA, d.transposeB else {
            throw IFTError.invalidArgument(
                "matmulQuantized computes x · wᵀ for one matrix: needs batch == 1, transposeA == false, transposeB == true "
                    + "(got batch=\(d.batch) transposeA=\(d.transposeA) transposeB=\(d.transposeB))")
        }
        guard w.shape.count == 2, w.shape[0] == d.n, w.shape[1] == d.k else {
            throw IFTError.shapeMismatch("matmulQuantized: w must be [n = \(d.n), k = \(d.k)], got shape \(w.shape)")
        }
        guard d.ldb == d.k, d.offsetB == 0 else {
            throw IFTError.invalidArgument(
                "matmulQuantized: w is read whole (ldb must be k = \(d.k) and offsetB 0; got ldb=\(d.ldb) offsetB=\(d.offsetB))")
        }
        guard d.k % w.dtype.blockSize == 0 else {
            throw IFTError.shapeMismatch("matmulQuantized: k = \(d.k) must be a multiple of the \(w.dtype) block size \(w.dtype.blockSize)")
        }
        try d.validate(countA: x.count, countB: w.count, countC: y.count)
    }
}
