import IFTCore

extension Reference {
    /// RMS normalization of each row of `x` (rows of `weight.count` elements), Hugging Face
    /// Llama's order of operations: `ms = sum(x^2) / dim` (summed in order, fp32),
    /// `r = 1 / sqrt(ms + eps)`, `out[j] = weight[j] * (x[j] * r)`. `out` may be `x` itself.
    public static func rmsNorm(
        x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, eps: Float, out: UnsafeMutableBufferPointer<Float>
    ) throws {
        let dim = weight.count
        guard dim > 0, x.count % dim == 0, out.count == x.count else {
            throw IFTError.shapeMismatch(
                "rmsNorm: input of \(x.count) and output of \(out.count) elements must be equal whole rows of \(dim) (the weight's size)")
        }
        for r in 0..<(x.count / dim) {
            let base = r * dim
            var ss: Float = 0
            for j in 0..<dim { ss += x[base + j] * x[base + j] }
            let rstd = 1 / (ss / Float(dim) + eps).squareRoot()
            for j in 0..<dim { out[base + j] = weight[j] * (x[base + j] * rstd) }
        }
    }
}
