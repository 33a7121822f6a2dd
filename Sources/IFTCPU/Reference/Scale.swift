import IFTCore

extension Reference {
    /// `out[i] = s * a[i]` (one fp32 rounding). `out` may be `a` itself.
    public static func scale(a: UnsafeBufferPointer<Float>, by s: Float, out: UnsafeMutableBufferPointer<Float>) throws {
        guard out.count == a.count else {
            throw IFTError.shapeMismatch("scale: out has \(out.count) elements, a has \(a.count)")
        }
        for i in 0..<a.count {
            out[i] = s * a[i]
        }
    }
}
