extension OpChecks {
    /// `dropout`: f32 `x` and `out` of equal element count (at most `Dropout.maxCount`), and a
    /// finite `probability` in `[0, 1)`.
    public static func dropout(_ x: Tensor, _ out: Tensor, probability: Float) throws {
        try dtype(x, .f32, "dropout x")
        try dtype(out, .f32, "dropout out")
        guard out.count == x.count else {
            throw IFTError.shapeMismatch("dropout: out has \(out.count) elements, x has \(x.count)")
        }
        guard x.count <= Dropout.maxCount else {
            throw IFTError.shapeMismatch(
                "dropout: x has \(x.count) elements; the mask indexes elements with 32 bits (at most \(Dropout.maxCount))")
        }
        guard probability >= 0, probability < 1 else {
            throw IFTError.invalidArgument("dropout probability must be in [0, 1), got \(probability)")
        }
    }
}
