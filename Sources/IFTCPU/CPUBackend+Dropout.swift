import IFTCore

/// `dropout` on `cpu`: the same per-element mask and product as `cpu-ref` (bit-identical), split
/// across cores.
extension CPUBackend {
    public func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws {
        try OpChecks.backend([x, out], name)
        try OpChecks.dropout(x, out, probability: probability)
        let px = try HostTensors.floatPointer(x, name)
        let po = try HostTensors.floatPointer(out, name)
        let key = Dropout.key(seed: seed)
        let s = Dropout.scale(probability: probability)
        Parallel.forChunks(x.count, grain: Self.elementwiseGrain / 4) { r in
            for i in r {
                let keep = Dropout.keeps(hash: Dropout.hash(key: key, index: UInt32(truncatingIfNeeded: i)), probability: probability)
                po[i] = keep ? px[i] * s : 0
            }
        }
    }
}
