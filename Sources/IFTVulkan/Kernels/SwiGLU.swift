import IFTCore

/// Host side of `Shaders/swiglu.comp` (CPU reference: `Sources/IFTCPU/Reference/SwiGLU.swift`).
extension VulkanBackend {
    public func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws {
        try OpChecks.backend([gate, up, out], name)
        try OpChecks.swiglu(gate, up, out)
        let n = gate.count
        guard n > 0 else { return }
        let wg = Self.elementwiseWorkgroup
        let pipeline = try device.pipelines.pipeline("swiglu", bindings: 3, constants: [UInt32(wg)])
        let chunk = max(64, maxBindingBytes / 4 / 64 * 64)
        var start = 0
        while start < n {
            let len = min(chunk, n - start)
            try recorder.dispatch(
                pipeline,
                bindings: [
                    try binding(gate, byteOffset: start * 4, byteCount: len * 4),
                    try binding(up, byteOffset: start * 4, byteCount: len * 4),
                    try binding(out, byteOffset: start * 4, byteCount: len * 4),
                ], writes: [2], push: [UInt32(len)], groups: (gridGroups(len, wg), 1, 1))
            start += len
        }
    }
}
