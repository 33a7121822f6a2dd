import IFTCore

extension Reference {
    /// `sum(x^2)` in fp32 by pairwise (tree) summation: halves recursively down to runs of at most
    /// 16 elements, which are added in order.
    public static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Float {
        guard let base = x.baseAddress, x.count > 0 else { return 0 }
        return pairwiseSumOfSquares(base, x.count)
    }

    static func pairwiseSumOfSquares(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        if n <= 16 {
            var s: Float = 0
            for i in 0..<n { s += p[i] * p[i] }
            return s
        }
        let h = n / 2
        return pairwiseSumOfSquares(p, h) + pairwiseSumOfSquares(p + h, n - h)
    }
}
