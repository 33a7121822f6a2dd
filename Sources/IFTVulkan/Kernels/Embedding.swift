import IFTCore

/// Host side of `Shaders/embedding.comp` (CPU reference: `Sources/IFTCPU/Reference/Embedding.swift`).
///
/// An id outside `0..<vocab` is not an error here (the ids live on the device, and checking them
/// would need a sync): its output row is zeros. The CPU backends throw instead.
extension VulkanBackend {
    static let embeddingWorkgroup = 256

    static func embeddingTypeCode(_ t: DType) -> UInt32 {
        switch t {
        case .f32: return 0
        case .f16: return 1
        case .bf16: return 2
        case .q8_0: return 3
        case .q4_0: return 4
        case .q4_1: return 5
        case .q4_k: return 6
        case .nf4: return 7
        case .i32: return 0  // rejected by OpChecks.embedding
        }
    }

    public func embedding(_ table: Tensor, ids: Tensor, into out: Tensor) throws {
        try OpChecks.backend([table, ids, out], name)
        let (vocab, dim) = try OpChecks.embedding(table, ids, out)
        let n = ids.count
        guard n > 0, dim > 0 else { return }
        let wg = Self.embeddingWorkgroup
        let pipeline = try device.pipelines.pipeline(
            "embedding", bindings: 3, constants: [UInt32(wg), Self.embeddingTypeCode(table.dtype)])
        let dtype = table.dtype
        let rowBytes = dim / dtype.blockSize * dtype.blockBytes
        let align = max(4, info.minStorageBufferOffsetAlignment)
        guard rowBytes + align <= maxBindingBytes, n * 4 <= maxBindingBytes else {
            throw IFTError.outOfDeviceMemory(
                "embedding: a table row of \(rowBytes) bytes or \(n) ids exceed the device's maxStorageBufferRange (\(maxBindingBytes))")
        }
        let tableRowsPerChunk = max(1, (maxBindingBytes - align) / rowBytes)
        let idsBinding = try binding(ids, byteOffset: 0, byteCount: n * 4)
        // Token bands start at multiples of 64 tokens, so output bindings stay aligned.
        try forEachRowBand(rows: n, rowBytes: dim * 4) { t0, nt in
            let outBinding = try binding(out, byteOffset: t0 * dim * 4, byteCount: nt * dim * 4)
            var v0 = 0
            repeat {
                let vc = min(tableRowsPerChunk, vocab - v0)
                let startByte = v0 * rowBytes
                let alignedByte = startByte / align * align
                let tableBinding = try binding(table, byteOffset: alignedByte, byteCount: max(4, startByte - alignedByte + vc * rowBytes))
                let push: [UInt32] = [
                    UInt32(nt), UInt32(dim), UInt32(t0), UInt32(v0), UInt32(vc), pushWord(vocab),
                    UInt32(startByte - alignedByte), v0 == 0 ? 1 : 0,
                ]
                try recorder.dispatch(
                    pipeline, bindings: [tableBinding, idsBinding, outBinding], writes: [2], push: push,
                    groups: (gridGroups(nt * dim, wg), 1, 1))
                v0 += vc
            } while v0 < vocab
        }
    }
}
