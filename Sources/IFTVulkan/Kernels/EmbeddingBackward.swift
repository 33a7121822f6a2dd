import IFTCore

/// Host side of `Shaders/embedding_backward.comp` (CPU reference:
/// `Sources/IFTCPU/Reference/EmbeddingBackward.swift`). One invocation per table column walks all
/// ids in order (deterministic, no atomics). Tables larger than one binding are updated in chunks
/// of rows, long id lists in bands of 64-aligned tokens; both keep each element's order of additions.
/// An id outside `0..<vocab` is skipped (the ids live on the device); the CPU backends throw.
extension VulkanBackend {
    public func embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor) throws {
        try OpChecks.backend([ids, dout, dtable], name)
        let (vocab, dim) = try OpChecks.embeddingBackward(ids, dout, dtable)
        let n = ids.count
        guard n > 0, dim > 0, vocab > 0 else { return }
        let wg = Self.elementwiseWorkgroup
        let pipeline = try device.pipelines.pipeline("embedding_backward", bindings: 3, constants: [UInt32(wg)])
        let rowBytes = dim * 4
        let align = max(4, info.minStorageBufferOffsetAlignment)
        guard rowBytes + align <= maxBindingBytes else {
            throw IFTError.outOfDeviceMemory(
                "embeddingBackward: a table row of \(rowBytes) bytes exceeds the device's maxStorageBufferRange (\(maxBindingBytes))")
        }
        // Table chunks start at rows whose byte offset is aligned.
        let rowAlign = max(1, align / 4)
        let tableRowsPerChunk = max(rowAlign, maxBindingBytes / rowBytes / rowAlign * rowAlign)
        try forEachRowBand(rows: n, rowBytes: rowBytes) { t0, nt in
            let idsBinding = try binding(ids, byteOffset: t0 * 4, byteCount: nt * 4)
            let outBinding = try binding(dout, byteOffset: t0 * rowBytes, byteCount: nt * rowBytes)
            var v0 = 0
            while v0 < vocab {
                let vc = min(tableRowsPerChunk, vocab - v0)
                try recorder.dispatch(
                    pipeline, bindings: [idsBinding, outBinding, try binding(dtable, byteOffset: v0 * rowBytes, byteCount: vc * rowBytes)],
                    writes: [2], push: [UInt32(nt), UInt32(dim), UInt32(v0), UInt32(vc)], groups: (gridGroups(dim, wg), 1, 1))
                v0 += vc
            }
        }
    }
}
