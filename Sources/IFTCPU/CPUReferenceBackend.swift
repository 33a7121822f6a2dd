import IFTCore

/// The `cpu-ref` backend: every op is the plain loop in `Reference`, run on host memory
/// (`CPUStorage`). Slow and obviously correct — the numerical truth the `cpu` and `vulkan`
/// backends are tested against. Ops run synchronously; `synchronize()` does nothing.
public final class CPUReferenceBackend: Backend {
    public static let backendName = "cpu-ref"
    public var name: String { Self.backendName }

    public init() {}

    public func makeTensor(shape: [Int], dtype: DType) throws -> Tensor {
        try HostTensors.make(shape: shape, dtype: dtype, backend: name)
    }

    public func write(_ tensor: Tensor, from bytes: UnsafeRawBufferPointer) throws {
        try HostTensors.write(tensor, from: bytes, backend: name)
    }

    public func read(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) throws {
        try HostTensors.read(tensor, into: bytes, backend: name)
    }

    public func synchronize() throws {}

    public func matmul(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ desc: MatmulDescriptor) throws {
        try OpChecks.backend([a, b, c], name)
        try OpChecks.matmul(a, b, c, desc)
        let pa = try HostTensors.floats(a, name), pb = try HostTensors.floats(b, name)
        let pc = try HostTensors.floats(c, name)
        try Reference.matmul(a: UnsafeBufferPointer(pa), b: UnsafeBufferPointer(pb), c: pc, desc)
    }

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, b, out], name)
        try OpChecks.binary(op, a, b, out)
        let pa = try HostTensors.floats(a, name), pb = try HostTensors.floats(b, name)
        try Reference.binary(op, a: UnsafeBufferPointer(pa), b: UnsafeBufferPointer(pb), out: try HostTensors.floats(out, name))
    }

    public func scale(_ a: Tensor, by s: Float, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        try OpChecks.scale(a, out)
        let pa = try HostTensors.floats(a, name)
        try Reference.scale(a: UnsafeBufferPointer(pa), by: s, out: try HostTensors.floats(out, name))
    }

    public func reduceRows(_ op: ReduceOp, _ a: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        _ = try OpChecks.reduceRows(a, out)
        let pa = try HostTensors.floats(a, name)
        try Reference.reduceRows(op, a: UnsafeBufferPointer(pa), out: try HostTensors.floats(out, name))
    }

    public func softmaxRows(_ a: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        let (_, cols) = try OpChecks.softmaxRows(a, out)
        let pa = try HostTensors.floats(a, name)
        try Reference.softmaxRows(a: UnsafeBufferPointer(pa), cols: cols, out: try HostTensors.floats(out, name))
    }

    public func cast(_ a: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        try OpChecks.cast(a, out)
        try Reference.cast(
            from: a.dtype, try HostTensors.bytes(a, name), to: out.dtype, try HostTensors.mutableBytes(out, name),
            count: a.count)
    }

    public func dequantize(_ q: Tensor, into out: Tensor) throws {
        try OpChecks.backend([q, out], name)
        try OpChecks.dequantize(q, out)
        try Reference.dequantize(q.dtype, bytes: try HostTensors.bytes(q, name), into: try HostTensors.floats(out, name))
    }
}
