/// Conveniences over the raw byte interface of `Backend`.
extension Backend {
    /// A new f32 tensor holding `values`.
    public func tensor(_ values: [Float], shape: [Int]) throws -> Tensor {
        guard shape.reduce(1, *) == values.count else {
            throw IFTError.shapeMismatch("\(values.count) values do not fill shape \(shape)")
        }
        let t = try makeTensor(shape: shape, dtype: .f32)
        try values.withUnsafeBytes { try write(t, from: $0) }
        return t
    }

    /// A new i32 tensor holding `values` (token ids, positions, segment ids).
    public func tensor(ints values: [Int32], shape: [Int]) throws -> Tensor {
        guard shape.reduce(1, *) == values.count else {
            throw IFTError.shapeMismatch("\(values.count) values do not fill shape \(shape)")
        }
        let t = try makeTensor(shape: shape, dtype: .i32)
        try values.withUnsafeBytes { try write(t, from: $0) }
        return t
    }

    /// A new tensor of `dtype` holding raw `bytes` (for f16/bf16/quantized data).
    public func tensor(bytes: [UInt8], shape: [Int], dtype: DType) throws -> Tensor {
        let t = try makeTensor(shape: shape, dtype: dtype)
        guard bytes.count == t.byteCount else {
            throw IFTError.shapeMismatch("\(bytes.count) bytes given for \(t), which needs \(t.byteCount)")
        }
        try bytes.withUnsafeBytes { try write(t, from: $0) }
        return t
    }

    /// The f32 values of a tensor.
    public func floats(_ t: Tensor) throws -> [Float] {
        try OpChecks.dtype(t, .f32, "floats(_:)")
        var out = [Float](repeating: 0, count: t.count)
        try out.withUnsafeMutableBytes { try read(t, into: $0) }
        return out
    }

    /// The values of an i32 tensor.
    public func ints(_ t: Tensor) throws -> [Int32] {
        try OpChecks.dtype(t, .i32, "ints(_:)")
        var out = [Int32](repeating: 0, count: t.count)
        try out.withUnsafeMutableBytes { try read(t, into: $0) }
        return out
    }

    /// The raw bytes of a tensor.
    public func bytes(_ t: Tensor) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: t.byteCount)
        try out.withUnsafeMutableBytes { try read(t, into: $0) }
        return out
    }
}
