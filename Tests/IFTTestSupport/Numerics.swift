import IFTCore

/// Normalized mean squared error `sum((x - y)^2) / sum(y^2)` of `x` against the reference `y`
/// (accumulated in Double). 0 when both are all zero; infinity on a length mismatch or when `y` is
/// all zero but `x` is not.
public func nmse(_ x: [Float], _ y: [Float]) -> Double {
    guard x.count == y.count else { return .infinity }
    var num = 0.0, den = 0.0
    for i in 0..<x.count {
        let d = Double(x[i]) - Double(y[i])
        num += d * d
        den += Double(y[i]) * Double(y[i])
    }
    if num == 0 { return 0 }
    return den == 0 ? .infinity : num / den
}

extension SeededGenerator {
    /// A uniform draw from `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
}
