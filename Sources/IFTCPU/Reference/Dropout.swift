import IFTCore

extension Reference {
    /// Inverted dropout: `out[i] = keep(i) ? x[i] * Dropout.scale(probability) : 0` with
    /// `keep(i) = Dropout.keeps(seed:index:probability:)` (one fp32 rounding per kept element).
    /// `out` may be `x` itself.
    public static func dropout(
        x: UnsafeBufferPointer<Float>, probability: Float, seed: UInt64, out: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard out.count == x.count else {
            throw IFTError.shapeMismatch("dropout: out has \(out.count) elements, x has \(x.count)")
        }
        let s = Dropout.scale(probability: probability)
        for i in 0..<x.count {
            out[i] = Dropout.keeps(seed: seed, index: UInt32(i), probability: probability) ? x[i] * s : 0
        }
    }
}
