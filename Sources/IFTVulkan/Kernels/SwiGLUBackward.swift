import IFTCore

/// Host side of `Shaders/swiglu_backward.comp` (CPU reference: `Sources/IFTCPU/Reference/SwiGLUBackward.swift`).
extension VulkanBackend {
    public func swigluBackward(gate: Tensor, up: Tensor, dout: Tensor, dgate: Tensor, dup: Tensor) throws {
        try OpChecks.backend([gate, up, dout, dgate, dup], name)
        try OpChecks.swigluBackward(gate, up, dout, dgate, dup)
        let n = gate.count
        guard n > 0 else { return }
        let wg = Self.elementwiseWorkgroup
        let pipeline = try device.pipelines.pipeline("swiglu_backward", bindings: 5, constants: [UInt32(wg)])
        let chunk = max(64, maxBindingBytes / 4 / 64 * 64)
        var start = 0
        while start < n {
            let len = min(chunk, n - start)
            let b = try [gate, up, dout, dgate, dup].map { try binding($0, byteOffset: start * 4, byteCount: len * 4) }
            try recorder.dispatch(pipeline, bindings: b, writes: [3, 4], push: [UInt32(len)], groups: (gridGroups(len, wg), 1, 1))
            start += len
        }
    }
}
