import IFTCore

/// Host side of `Shaders/swiglu_backward.comp` (CPU reference: `Sources/IFTCPU/Reference/SwiGLUBackward.swift`).
extension VulkanBackend {
    public func swigluBackward(gate: Tensor, up: Tensor, dout: Tensor, dgate: Tensor, dup: Tensor) throws {
        try OpChecks.backend([gate, up, dout, dgate, dup], name)
        try OpChecks.swigluBackward(gate, up, dout, dgate, dup)
        try dispatchElementwise("swiglu_backward", [gate, up, dout, dgate, dup], writes: [3, 4])
    }
}
