import IFTCore

/// Host side of `Shaders/rms_norm.comp` (CPU reference: `Sources/IFTCPU/Reference/RMSNorm.swift`).
/// One workgroup per row; in place (`out` === `x`) works.
extension VulkanBackend {
    public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float, into out: Tensor) throws {
        try OpChecks.backend([x, weight, out], name)
        let (rows, dim) = try OpChecks.rmsNorm(x, weight, eps, out)
        guard rows > 0 else { return }
        let wg = rowWorkgroup(dim)
        let pipeline = try device.pipelines.pipeline("rms_norm", bindings: 3, constants: [UInt32(wg)])
        let w = try binding(weight)
        try forEachRowBand(rows: rows, rowBytes: dim * 4) { r0, n in
            try recorder.dispatch(
                pipeline,
                bindings: [
                    try binding(x, byteOffset: r0 * dim * 4, byteCount: n * dim * 4), w,
                    try binding(out, byteOffset: r0 * dim * 4, byteCount: n * dim * 4),
                ], writes: [2], push: [UInt32(n), UInt32(dim), eps.word], groups: (gridGroups(n, 1), 1, 1))
        }
    }
}
