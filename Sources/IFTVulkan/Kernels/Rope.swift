import IFTCore

/// Host side of `Shaders/rope.comp` (CPU reference: `Sources/IFTCPU/Reference/Rope.swift`).
///
/// In place (`out` === `x`) works. A position outside the table is not an error here (positions
/// live on the device): that token's heads are copied unchanged. The CPU backends throw instead.
extension VulkanBackend {
    public func rope(_ x: Tensor, positions: Tensor, table: Tensor, _ d: RopeDescriptor, into out: Tensor) throws {
        try OpChecks.backend([x, positions, table, out], name)
        let maxPositions = try OpChecks.rope(x, positions, table, d, out)
        guard d.tokens > 0, d.heads > 0 else { return }
        guard table.byteCount <= maxBindingBytes, positions.byteCount <= maxBindingBytes else {
            throw IFTError.outOfDeviceMemory(
                "rope: the table (\(table.byteCount) bytes) or positions exceed the device's maxStorageBufferRange (\(maxBindingBytes))")
        }
        let wg = Self.elementwiseWorkgroup
        let pipeline = try device.pipelines.pipeline("rope", bindings: 4, constants: [UInt32(wg)])
        let width = d.heads * d.headDim
        let band = try rowsPerBinding(rowStride: d.rowStride, width: width, "rope")
        let bp = try binding(positions), bt = try binding(table)
        var t0 = 0
        while t0 < d.tokens {
            let n = min(band, d.tokens - t0)
            let first = d.offset + t0 * d.rowStride
            let end = first + (n - 1) * d.rowStride + width
            let (bx, rx) = try elementBinding(x, first: first, end: end, "rope input")
            let (bo, ro) = try elementBinding(out, first: first, end: end, "rope output")
            let push: [UInt32] = [
                UInt32(n), UInt32(d.heads), UInt32(d.headDim), pushWord(d.rowStride), rx, ro, UInt32(t0),
                pushWord(maxPositions), d.inverse ? 1 : 0,
            ]
            try recorder.dispatch(
                pipeline, bindings: [bx, bp, bt, bo], writes: [3], push: push,
                groups: (gridGroups(n * d.heads * d.headDim / 2, wg), 1, 1))
            t0 += n
        }
    }
}
