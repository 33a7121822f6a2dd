import IFTCore

/// `attentionBackward` on `cpu-ref`: `Reference.attentionBackward` on host memory.
extension CPUReferenceBackend {
    public func attentionBackward(
        q: Tensor, k: Tensor, v: Tensor, out: Tensor, dout: Tensor, logSumExp: Tensor, segments: Tensor?,
        dq: Tensor, dk: Tensor, dv: Tensor, _ desc: AttentionDescriptor
    ) throws {
        try OpChecks.backend([q, k, v, out, dout, logSumExp, dq, dk, dv] + [segments].compactMap { $0 }, name)
        try OpChecks.attentionBackward(
            q: q, k: k, v: v, out: out, dout: dout, logSumExp: logSumExp, segments: segments, dq: dq, dk: dk, dv: dv, desc)
        try Reference.attentionBackward(
            q: UnsafeBufferPointer(try HostTensors.floats(q, name)), k: UnsafeBufferPointer(try HostTensors.floats(k, name)),
            v: UnsafeBufferPointer(try HostTensors.floats(v, name)), out: UnsafeBufferPointer(try HostTensors.floats(out, name)),
            dout: UnsafeBufferPointer(try HostTensors.floats(dout, name)),
            logSumExp: UnsafeBufferPointer(try HostTensors.floats(logSumExp, name)),
            segments: try segments.map { UnsafeBufferPointer(try HostTensors.ints($0, name)) },
            dq: try HostTensors.floats(dq, name), dk: try HostTensors.floats(dk, name), dv: try HostTensors.floats(dv, name), desc)
    }
}
