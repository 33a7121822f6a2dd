import IFTCore

/// Host side of `Shaders/rms_norm_backward.comp` and `rms_norm_backward_weight.comp` (CPU
/// reference: `Sources/IFTCPU/Reference/RMSNormBackward.swift`). The first kernel writes dx and
/// each row's rstd (one workgroup per row) into a scratch tensor; the second accumulates dweight
/// with one invocation per column walking the rows in order (no atomics), once per band of rows.
extension VulkanBackend {
    public func rmsNormBackward(x: Tensor, weight: Tensor, dy: Tensor, eps: Float, dx: Tensor, dweight: Tensor?) throws {
        try OpChecks.backend([x, weight, dy, dx] + [dweight].compactMap { $0 }, name)
        let (rows, dim) = try OpChecks.rmsNormBackward(x, weight, dy, eps, dx, dweight)
        guard rows > 0 else { return }
        let rstd = try makeTensor(shape: [rows], dtype: .f32)
        let pipeline = try device.pipelines.pipeline("rms_norm_backward", bindings: 5, constants: [UInt32(rowWorkgroup(dim))])
        let wg = Self.elementwiseWorkgroup
        let weightPipeline = try device.pipelines.pipeline("rms_norm_backward_weight", bindings: 4, constants: [UInt32(wg)])
        let w = try binding(weight)
        let dw = try dweight.map { try binding($0) }
        try forEachRowBand(rows: rows, rowBytes: dim * 4) { r0, n in
            let xb = try binding(x, byteOffset: r0 * dim * 4, byteCount: n * dim * 4)
            let dyb = try binding(dy, byteOffset: r0 * dim * 4, byteCount: n * dim * 4)
            let rb = try binding(rstd, byteOffset: r0 * 4, byteCount: n * 4)
            try recorder.dispatch(
                pipeline,
                bindings: [xb, w, dyb, try binding(dx, byteOffset: r0 * dim * 4, byteCount: n * dim * 4), rb],
                writes: [3, 4], push: [UInt32(n), UInt32(dim), eps.word], groups: (gridGroups(n, 1), 1, 1))
            if let dw {
                try recorder.dispatch(
                    weightPipeline, bindings: [xb, dyb, rb, dw], writes: [3], push: [UInt32(n), UInt32(dim)],
                    groups: (gridGroups(dim, wg), 1, 1))
            }
        }
    }
}
