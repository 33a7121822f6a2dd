/// Operand checks shared by every backend, so that all three reject the same calls with the
/// same messages.
public enum OpChecks {
    public static func backend(_ tensors: [Tensor], _ backend: String) throws {
        for t in tensors where t.backendName != backend {
            throw IFTError.wrongBackend(expected: backend, got: t.backendName)
        }
    }

    public static func dtype(_ t: Tensor, _ expected: DType, _ what: String) throws {
        guard t.dtype == expected else {
            throw IFTError.dtypeMismatch("\(what) must be \(expected), got \(t.dtype)")
        }
    }

    public static func matmul(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: MatmulDescriptor) throws {
        try dtype(a, .f32, "matmul A")
        try dtype(b, .f32, "matmul B")
        try dtype(c, .f32, "matmul C")
        try d.validate(countA: a.count, countB: b.count, countC: c.count)
    }

    public static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor) throws {
        for (t, n) in [(a, "a"), (b, "b"), (out, "out")] { try dtype(t, .f32, "\(op) \(n)") }
        guard out.count == a.count else {
            throw IFTError.shapeMismatch("\(op): out has \(out.count) elements, a has \(a.count)")
        }
        guard b.count > 0 ? a.count % b.count == 0 : a.count == 0 else {
            throw IFTError.shapeMismatch(
                "\(op): b (\(b.shape)) must have as many elements as a (\(a.shape)) or divide them (row broadcast)")
        }
    }

    public static func scale(_ a: Tensor, _ out: Tensor) throws {
        try dtype(a, .f32, "scale a")
        try dtype(out, .f32, "scale out")
        guard out.count == a.count else {
            throw IFTError.shapeMismatch("scale: out has \(out.count) elements, a has \(a.count)")
        }
    }

    /// Returns `(rows, cols)`.
    public static func reduceRows(_ a: Tensor, _ out: Tensor) throws -> (Int, Int) {
        try dtype(a, .f32, "reduce input")
        try dtype(out, .f32, "reduce output")
        let rows = out.count
        guard rows > 0, a.count % rows == 0, a.count > 0 else {
            throw IFTError.shapeMismatch(
                "reduceRows: output has \(rows) rows but input \(a.shape) does not split into that many non-empty rows")
        }
        return (rows, a.count / rows)
    }

    /// Returns `(rows, cols)`.
    public static func softmaxRows(_ a: Tensor, _ out: Tensor) throws -> (Int, Int) {
        try dtype(a, .f32, "softmax input")
        try dtype(out, .f32, "softmax output")
        guard a.shape == out.shape, let cols = a.shape.last, cols > 0 else {
            throw IFTError.shapeMismatch("softmaxRows: input \(a.shape) and output \(out.shape) must be equal and non-empty")
        }
        return (a.count / cols, cols)
    }

    public static func cast(_ a: Tensor, _ out: Tensor) throws {
        let floats: Set<DType> = [.f32, .f16, .bf16]
        guard floats.contains(a.dtype), floats.contains(out.dtype) else {
            throw IFTError.dtypeMismatch("cast converts between f32, f16 and bf16; got \(a.dtype) -> \(out.dtype)")
        }
        guard a.count == out.count else {
            throw IFTError.shapeMismatch("cast: input has \(a.count) elements, output \(out.count)")
        }
    }

    public static func dequantize(_ q: Tensor, _ out: Tensor) throws {
        guard q.dtype.isQuantized else {
            throw IFTError.dtypeMismatch("dequantize takes a quantized tensor, got \(q.dtype)")
        }
        try dtype(out, .f32, "dequantize output")
        guard q.count == out.count else {
            throw IFTError.shapeMismatch("dequantize: input has \(q.count) values, output \(out.count)")
        }
    }
}
