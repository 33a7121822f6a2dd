import IFTCore

/// Host side of `Shaders/attention.comp` (CPU reference: `Sources/IFTCPU/Reference/Attention.swift`):
/// one fused dispatch per call (one per batch entry when the whole batch exceeds a binding).
extension VulkanBackend {
    /// Largest head dimension the fused kernel takes (an invocation accumulates at most 32 columns).
    public static let attentionMaxHeadDim = 256

    /// Tile configuration: `bq` queries per workgroup of 64 invocations, key tiles of `bk` rows,
    /// sized so shared memory fits the device.
    struct AttentionTiles: Equatable {
        var workgroup = 64
        var bq: Int
        var bk: Int

        static func sharedBytes(headDim: Int, bq: Int, bk: Int) -> Int { 4 * (bq * headDim + 2 * bk * headDim + bq * bk) }
    }

    func attentionTiles(_ d: AttentionDescriptor) throws -> AttentionTiles {
        let wg = 64
        var minTPR = 1
        while minTPR * 32 < d.headDim { minTPR *= 2 }
        var bq = 1
        while bq < d.queryLength && bq * 2 <= wg / minTPR { bq *= 2 }
        var bk = 32
        while bk > 4 && AttentionTiles.sharedBytes(headDim: d.headDim, bq: bq, bk: bk) > info.maxSharedMemory { bk /= 2 }
        while bq > 1 && AttentionTiles.sharedBytes(headDim: d.headDim, bq: bq, bk: bk) > info.maxSharedMemory { bq /= 2 }
        guard AttentionTiles.sharedBytes(headDim: d.headDim, bq: bq, bk: bk) <= info.maxSharedMemory else {
            throw IFTError.invalidArgument(
                "attention: headDim \(d.headDim) needs more shared memory than the device has (\(info.maxSharedMemory) bytes)")
        }
        return AttentionTiles(workgroup: wg, bq: bq, bk: bk)
    }

    public func attention(
        q: Tensor, k: Tensor, v: Tensor, into out: Tensor, logSumExp: Tensor?, segments: Tensor?, _ d: AttentionDescriptor
    ) throws {
        try OpChecks.backend([q, k, v, out] + [logSumExp, segments].compactMap { $0 }, name)
        try OpChecks.attention(q, k, v, out, logSumExp, segments, d)
        guard d.headDim <= Self.attentionMaxHeadDim else {
            throw IFTError.invalidArgument(
                "attention: the vulkan backend supports headDim up to \(Self.attentionMaxHeadDim), got \(d.headDim)")
        }
        guard d.batch > 0, d.queryLength > 0 else { return }
        let tiles = try attentionTiles(d)
        let pipeline = try device.pipelines.pipeline(
            "attention", bindings: 6, constants: [UInt32(tiles.workgroup), UInt32(d.headDim), UInt32(tiles.bq), UInt32(tiles.bk)])
        // The whole batch in one dispatch when every range fits a binding, else one per entry.
        if let all = try? attentionBindings(q, k, v, out, logSumExp, segments, d, batches: 0..<d.batch) {
            try dispatchAttention(pipeline, tiles, d, all, batches: d.batch)
            return
        }
        for b in 0..<d.batch {
            try dispatchAttention(pipeline, tiles, d, try attentionBindings(q, k, v, out, logSumExp, segments, d, batches: b..<(b + 1)), batches: 1)
        }
    }

    private struct AttentionBindings {
        var bindings: [BufferBinding]
        var residuals: [UInt32]  // q, k, v, out, seg, lse
        var writes: Set<Int>
        var hasSegments: Bool
    }

    /// Bindings (and residual offsets) covering batch entries `batches`.
    private func attentionBindings(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, _ out: Tensor, _ lse: Tensor?, _ seg: Tensor?, _ d: AttentionDescriptor,
        batches: Range<Int>
    ) throws -> AttentionBindings {
        let b0 = batches.lowerBound, nb = batches.count
        func range(_ offset: Int, _ batchStride: Int, _ rows: Int, _ rowStride: Int, _ width: Int) -> (Int, Int) {
            let first = offset + b0 * batchStride
            return (first, rows == 0 ? first : first + (nb - 1) * batchStride + (rows - 1) * rowStride + width)
        }
        let qw = d.heads * d.headDim, kvw = d.kvHeads * d.headDim
        let (q0, q1) = range(d.qOffset, d.qBatchStride, d.queryLength, d.qRowStride, qw)
        let (k0, k1) = range(d.kOffset, d.kvBatchStride, d.keyLength, d.kvRowStride, kvw)
        let (v0, v1) = range(d.vOffset, d.kvBatchStride, d.keyLength, d.kvRowStride, kvw)
        let (o0, o1) = range(d.outOffset, d.outBatchStride, d.queryLength, d.outRowStride, qw)
        let (bq, rq) = try elementBinding(q, first: q0, end: q1, "attention q")
        let (bk, rk) = try elementBinding(k, first: k0, end: k1, "attention k")
        let (bv, rv) = try elementBinding(v, first: v0, end: v1, "attention v")
        let (bo, ro) = try elementBinding(out, first: o0, end: o1, "attention output")
        var (bs, rs) = (bq, UInt32(0))
        if let seg {
            (bs, rs) = try elementBinding(seg, first: b0 * d.keyLength, end: (b0 + nb) * d.keyLength, "attention segments")
        }
        var (bl, rl) = (bo, UInt32(0))
        if let lse {
            let per = d.heads * d.queryLength
            (bl, rl) = try elementBinding(lse, first: b0 * per, end: (b0 + nb) * per, "attention logSumExp")
        }
        return AttentionBindings(bindings: [bq, bk, bv, bs, bo, bl], residuals: [rq, rk, rv, ro, rs, rl], writes: lse == nil ? [4] : [4, 5],
            hasSegments: seg != nil)
    }

    private func dispatchAttention(
        _ pipeline: Pipeline, _ tiles: AttentionTiles, _ d: AttentionDescriptor, _ b: AttentionBindings, batches: Int
    ) throws {
        // Causal masks only compare key positions with t + queryOffset, t in 0..<T and keys in
        // 0..<S, so clamping queryOffset to [-T, S] changes nothing and keeps it in 32 bits.
        let queryOffset = Int32(max(-d.queryLength, min(d.keyLength, d.queryOffset)))
        let flags: UInt32 = (d.causal ? 1 : 0) | (b.hasSegments ? 2 : 0) | (b.writes.contains(5) ? 4 : 0)
        let push: [UInt32] = [
            UInt32(d.queryLength), UInt32(d.keyLength), UInt32(d.heads), UInt32(d.groupSize),
            pushWord(d.qRowStride), pushWord(d.qBatchStride), pushWord(d.kvRowStride), pushWord(d.kvBatchStride),
            pushWord(d.outRowStride), pushWord(d.outBatchStride),
        ] + b.residuals + [UInt32(bitPattern: queryOffset), d.scale.word, flags]
        let groups = ((d.queryLength + tiles.bq - 1) / tiles.bq, d.heads, batches)
        try recorder.dispatch(pipeline, bindings: b.bindings, writes: b.writes, push: push, groups: groups)
    }
}
