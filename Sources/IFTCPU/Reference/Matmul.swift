import IFTCore

extension Reference {
    /// `C[b] = alpha * op(A[b]) · op(B[b]) + beta * C[b]` for `b` in `0..<desc.batch`, row-major,
    /// exactly as described by `MatmulDescriptor` (transposes, leading dimensions, batch strides —
    /// 0 broadcasts — and offsets, all in elements).
    ///
    /// Each element is one fp32 dot product accumulated in order `p = 0..<k`, then
    /// `alpha * acc + beta * c`. When `beta == 0`, C is not read (NaN or garbage there is ignored).
    /// C must not overlap A or B.
    public static func matmul(
        a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>, c: UnsafeMutableBufferPointer<Float>,
        _ desc: MatmulDescriptor
    ) throws {
        try desc.validate(countA: a.count, countB: b.count, countC: c.count)
        let d = desc
        for batch in 0..<d.batch {
            let baseA = d.offsetA + batch * d.strideA
            let baseB = d.offsetB + batch * d.strideB
            let baseC = d.offsetC + batch * d.strideC
            for i in 0..<d.m {
                for j in 0..<d.n {
                    var acc: Float = 0
                    for p in 0..<d.k {
                        // op(A)[i, p] and op(B)[p, j] in the stored layouts.
                        let av = d.transposeA ? a[baseA + p * d.lda + i] : a[baseA + i * d.lda + p]
                        let bv = d.transposeB ? b[baseB + j * d.ldb + p] : b[baseB + p * d.ldb + j]
                        acc += av * bv
                    }
                    let ci = baseC + i * d.ldc + j
                    if d.beta == 0 {
                        c[ci] = d.alpha * acc
                    } else {
                        c[ci] = d.alpha * acc + d.beta * c[ci]
                    }
                }
            }
        }
    }
}
