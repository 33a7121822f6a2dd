import IFTCore

/// Host side of `Shaders/cross_entropy.comp` (CPU reference: `Sources/IFTCPU/Reference/CrossEntropy.swift`).
/// One workgroup per row. A target outside `0..<vocab` is treated as ignored (loss 0, zero
/// gradients): the targets live on the device; the CPU backends throw for any but -100.
extension VulkanBackend {
    public func crossEntropy(logits: Tensor, targets: Tensor, losses: Tensor, dlogits: Tensor?, scale: Float) throws {
        try OpChecks.backend([logits, targets, losses] + [dlogits].compactMap { $0 }, name)
        let (rows, vocab) = try OpChecks.crossEntropy(logits, targets, losses, dlogits, scale)
        guard rows > 0 else { return }
        let wg = rowWorkgroup(vocab)
        let pipeline = try device.pipelines.pipeline("cross_entropy", bindings: 4, constants: [UInt32(wg)])
        try forEachRowBand(rows: rows, rowBytes: vocab * 4) { r0, n in
            let lossBinding = try binding(losses, byteOffset: r0 * 4, byteCount: n * 4)
            // Without dlogits the shader never touches binding 3: losses stands in for it.
            let gradBinding = try dlogits.map { try binding($0, byteOffset: r0 * vocab * 4, byteCount: n * vocab * 4) } ?? lossBinding
            try recorder.dispatch(
                pipeline,
                bindings: [
                    try binding(logits, byteOffset: r0 * vocab * 4, byteCount: n * vocab * 4),
                    try binding(targets, byteOffset: r0 * 4, byteCount: n * 4), lossBinding, gradBinding,
                ], writes: dlogits == nil ? [2] : [2, 3], push: [UInt32(n), UInt32(vocab), dlogits == nil ? 0 : 1, scale.word],
                groups: (gridGroups(n, 1), 1, 1))
        }
    }
}
