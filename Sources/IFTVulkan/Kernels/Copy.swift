import IFTCore

/// Host side of `Shaders/copy.comp` (CPU reference: `Sources/IFTCPU/Reference/Copy.swift`).
/// Rows are processed in bands when a range exceeds one binding.
extension VulkanBackend {
    public func copy(_ src: Tensor, into dst: Tensor, _ d: CopyDescriptor) throws {
        try OpChecks.backend([src, dst], name)
        try OpChecks.copy(src, dst, d)
        guard d.rows > 0, d.cols > 0 else { return }
        let wg = Self.elementwiseWorkgroup
        let pipeline = try device.pipelines.pipeline("copy", bindings: 2, constants: [UInt32(wg)])
        let band = min(
            try rowsPerBinding(rowStride: d.srcRowStride, width: d.cols, "copy source"),
            try rowsPerBinding(rowStride: d.dstRowStride, width: d.cols, "copy destination"))
        var r0 = 0
        while r0 < d.rows {
            let n = min(band, d.rows - r0)
            let s0 = d.srcOffset + r0 * d.srcRowStride, o0 = d.dstOffset + r0 * d.dstRowStride
            let (bs, rs) = try elementBinding(src, first: s0, end: s0 + (n - 1) * d.srcRowStride + d.cols, "copy source")
            let (bd, rd) = try elementBinding(dst, first: o0, end: o0 + (n - 1) * d.dstRowStride + d.cols, "copy destination")
            let push: [UInt32] = [
                UInt32(n), UInt32(d.cols), rs, pushWord(d.srcRowStride), rd, pushWord(d.dstRowStride),
            ]
            try recorder.dispatch(pipeline, bindings: [bs, bd], writes: [1], push: push, groups: (gridGroups(n * d.cols, wg), 1, 1))
            r0 += n
        }
    }
}
