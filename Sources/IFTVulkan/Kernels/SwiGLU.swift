import IFTCore

/// Host side of `Shaders/swiglu.comp` (CPU reference: `Sources/IFTCPU/Reference/SwiGLU.swift`).
extension VulkanBackend {
    public func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws {
        try OpChecks.backend([gate, up, out], name)
        try OpChecks.swiglu(gate, up, out)
        try dispatchElementwise("swiglu", [gate, up, out], writes: [2])
    }
}
