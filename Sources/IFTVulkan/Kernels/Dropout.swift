import IFTCore

/// Host side of `Shaders/dropout.comp` (CPU reference: `Sources/IFTCPU/Reference/Dropout.swift`).
extension VulkanBackend {
    public func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws {
        try OpChecks.backend([x, out], name)
        try OpChecks.dropout(x, out, probability: probability)
        try dispatchDropout(x, probability: probability, seed: seed, into: out, chunkElements: maxBindingBytes / 4)
    }

    /// Runs `dropout.comp` in chunks of at most `chunkElements` elements (rounded down to a multiple
    /// of 64, for aligned binding offsets), like `dispatchElementwise`, but also passing each chunk's
    /// first global element index so the mask hashes the index within the whole tensor. Tests pass
    /// a small `chunkElements` to exercise the chunking without a tensor over the binding limit.
    func dispatchDropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor, chunkElements: Int) throws {
        let n = x.count
        guard n > 0 else { return }
        let wg = Self.elementwiseWorkgroup
        let pipeline = try device.pipelines.pipeline("dropout", bindings: 2, constants: [UInt32(wg)])
        let key = Dropout.key(seed: seed)
        let s = Dropout.scale(probability: probability)
        let chunk = max(64, min(chunkElements, maxBindingBytes / 4) / 64 * 64)
        var start = 0
        while start < n {
            let len = min(chunk, n - start)
            let bx = try binding(x, byteOffset: start * 4, byteCount: len * 4)
            let bo = try binding(out, byteOffset: start * 4, byteCount: len * 4)
            try recorder.dispatch(
                pipeline, bindings: [bx, bo], writes: [1],
                push: [UInt32(len), UInt32(truncatingIfNeeded: start), key, probability.word, s.word],
                groups: (gridGroups(len, wg), 1, 1))
            start += len
        }
    }
}
