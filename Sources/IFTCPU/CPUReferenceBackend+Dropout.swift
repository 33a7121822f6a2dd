import IFTCore

/// `dropout` on `cpu-ref`: `Reference.dropout`'s loop on host memory.
extension CPUReferenceBackend {
    public func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws {
        try OpChecks.backend([x, out], name)
        try OpChecks.dropout(x, out, probability: probability)
        let px = try HostTensors.floats(x, name)
        try Reference.dropout(
            x: UnsafeBufferPointer(px), probability: probability, seed: seed, out: try HostTensors.floats(out, name))
    }
}
