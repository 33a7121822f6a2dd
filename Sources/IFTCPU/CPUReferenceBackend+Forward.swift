import IFTCore

/// The forward-pass ops of `cpu-ref`: `Reference`'s loops on host memory.
extension CPUReferenceBackend {
    public func embedding(_ table: Tensor, ids: Tensor, into out: Tensor) throws {
        try OpChecks.backend([table, ids, out], name)
        let (vocab, dim) = try OpChecks.embedding(table, ids, out)
        try Reference.embedding(
            table.dtype, table: try HostTensors.bytes(table, name), vocab: vocab, dim: dim,
            ids: UnsafeBufferPointer(try HostTensors.ints(ids, name)), out: try HostTensors.floats(out, name))
    }

    public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float, into out: Tensor) throws {
        try OpChecks.backend([x, weight, out], name)
        _ = try OpChecks.rmsNorm(x, weight, eps, out)
        try Reference.rmsNorm(
            x: UnsafeBufferPointer(try HostTensors.floats(x, name)), weight: UnsafeBufferPointer(try HostTensors.floats(weight, name)),
            eps: eps, out: try HostTensors.floats(out, name))
    }

    public func rope(_ x: Tensor, positions: Tensor, table: Tensor, _ desc: RopeDescriptor, into out: Tensor) throws {
        try OpChecks.backend([x, positions, table, out], name)
        _ = try OpChecks.rope(x, positions, table, desc, out)
        try Reference.rope(
            x: UnsafeBufferPointer(try HostTensors.floats(x, name)), positions: UnsafeBufferPointer(try HostTensors.ints(positions, name)),
            table: UnsafeBufferPointer(try HostTensors.floats(table, name)), desc, out: try HostTensors.floats(out, name))
    }

    public func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws {
        try OpChecks.backend([gate, up, out], name)
        try OpChecks.swiglu(gate, up, out)
        try Reference.swiglu(
            gate: UnsafeBufferPointer(try HostTensors.floats(gate, name)), up: UnsafeBufferPointer(try HostTensors.floats(up, name)),
            out: try HostTensors.floats(out, name))
    }

    public func attention(
        q: Tensor, k: Tensor, v: Tensor, into out: Tensor, logSumExp: Tensor?, segments: Tensor?, _ desc: AttentionDescriptor
    ) throws {
        try OpChecks.backend([q, k, v, out] + [logSumExp, segments].compactMap { $0 }, name)
        try OpChecks.attention(q, k, v, out, logSumExp, segments, desc)
        try Reference.attention(
            q: UnsafeBufferPointer(try HostTensors.floats(q, name)), k: UnsafeBufferPointer(try HostTensors.floats(k, name)),
            v: UnsafeBufferPointer(try HostTensors.floats(v, name)), out: try HostTensors.floats(out, name),
            logSumExp: try logSumExp.map { try HostTensors.floats($0, name) },
            segments: try segments.map { UnsafeBufferPointer(try HostTensors.ints($0, name)) }, desc)
    }

    public func copy(_ src: Tensor, into dst: Tensor, _ desc: CopyDescriptor) throws {
        try OpChecks.backend([src, dst], name)
        try OpChecks.copy(src, dst, desc)
        try Reference.copy(src: UnsafeBufferPointer(try HostTensors.floats(src, name)), dst: try HostTensors.floats(dst, name), desc)
    }
}

extension CPUReferenceBackend {
    public func matmulQuantized(_ x: Tensor, _ w: Tensor, _ y: Tensor, _ desc: MatmulDescriptor) throws {
        try OpChecks.backend([x, w, y], name)
        try OpChecks.matmulQuantized(x, w, y, desc)
        try Reference.matmulQuantized(
            x: UnsafeBufferPointer(try HostTensors.floats(x, name)), w: try HostTensors.bytes(w, name), dtype: w.dtype,
            y: try HostTensors.floats(y, name), desc)
    }
}
