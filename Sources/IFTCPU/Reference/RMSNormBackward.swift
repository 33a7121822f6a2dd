import IFTCore

extension Reference {
    /// Gradients of `out = weight * (x * rstd)`, `rstd = 1 / sqrt(sum(x^2) / dim + eps)` (rstd as
    /// `rmsNorm` computes it). Per row, with `xh = x * rstd` and `g = weight * dy`:
    /// `dx = rstd * (g - xh * (sum(g * xh) / dim))` (sums in order). With `dweight`, it ACCUMULATES:
    /// `dweight[j] += sum over rows of dy[r, j] * xh[r, j]`, added row by row in order (so the
    /// weight gradient of several micro-batches can be summed in place; zero it first otherwise).
    public static func rmsNormBackward(
        x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, dy: UnsafeBufferPointer<Float>, eps: Float,
        dx: UnsafeMutableBufferPointer<Float>, dweight: UnsafeMutableBufferPointer<Float>?
    ) throws {
        let dim = weight.count
        guard dim > 0, x.count % dim == 0, dy.count == x.count, dx.count == x.count, dweight.map({ $0.count == dim }) ?? true else {
            throw IFTError.shapeMismatch(
                "rmsNormBackward: input (\(x.count)), dy (\(dy.count)) and dx (\(dx.count)) must be equal whole rows of \(dim) (the weight's size), dweight \(dim) values")
        }
        for r in 0..<(x.count / dim) {
            let base = r * dim
            let rstd = rmsNormRstd(x, base: base, dim: dim, eps: eps)
            var dot: Float = 0
            for j in 0..<dim { dot += (weight[j] * dy[base + j]) * (x[base + j] * rstd) }
            let mean = dot / Float(dim)
            if let dweight {
                for j in 0..<dim { dweight[j] += dy[base + j] * (x[base + j] * rstd) }
            }
            for j in 0..<dim {
                dx[base + j] = rstd * (weight[j] * dy[base + j] - (x[base + j] * rstd) * mean)
            }
        }
    }

    /// `1 / sqrt(sum(x[base ..< base + dim]^2) / dim + eps)`, summed in order as `rmsNorm`.
    @inline(__always)
    static func rmsNormRstd(_ x: UnsafeBufferPointer<Float>, base: Int, dim: Int, eps: Float) -> Float {
        var ss: Float = 0
        for j in 0..<dim { ss += x[base + j] * x[base + j] }
        return 1 / (ss / Float(dim) + eps).squareRoot()
    }
}
