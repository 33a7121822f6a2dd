import IFTCore

extension Reference {
    /// `out[i] = a[i] (op) b[i % b.count]`: `b` has as many elements as `a`, or divides them and is
    /// broadcast over the rows of `a`. `add` is `a + b`, `mul` is `a * b` (one fp32 rounding each).
    /// `out` may be `a` itself.
    public static func binary(
        _ op: BinaryOp, a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
        out: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard out.count == a.count else {
            throw IFTError.shapeMismatch("\(op): out has \(out.count) elements, a has \(a.count)")
        }
        guard b.count > 0 ? a.count % b.count == 0 : a.count == 0 else {
            throw IFTError.shapeMismatch(
                "\(op): b has \(b.count) elements, which must equal or divide a's \(a.count) (row broadcast)")
        }
        for i in 0..<a.count {
            let x = a[i], y = b[i % b.count]
            switch op {
            case .add: out[i] = x + y
            case .mul: out[i] = x * y
            }
        }
    }
}
