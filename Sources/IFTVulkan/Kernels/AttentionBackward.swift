import IFTCore

/// Host side of `Shaders/attention_backward_stats.comp`, `attention_backward_dq.comp` and
/// `attention_backward_dkv.comp` (CPU reference: `Sources/IFTCPU/Reference/AttentionBackward.swift`).
/// Three dispatches per call: per-query (lse, D = dot(dout, out)) pairs into a scratch tensor, then
/// dq (one workgroup per query block and head), then dk and dv (one workgroup per key block and kv
/// head, summing over the group's query heads in order): deterministic, no atomics. The whole batch
/// goes in one dispatch each when every range fits a binding, else one batch entry at a time.
extension VulkanBackend {
    /// Tile configuration of the two main kernels (64 invocations each): dq takes `dqRows` queries
    /// per workgroup and key tiles of `dqTile`; dk/dv takes `kvRows` keys per workgroup and query
    /// tiles of `kvTile`, sized so shared memory fits the device.
    struct AttentionBackwardTiles: Equatable {
        var workgroup = 64
        var dqRows: Int, dqTile: Int
        var kvRows: Int, kvTile: Int

        /// Shared rows are `headDim | 1` floats apart (odd, so rows fall in different banks).
        static func dqSharedBytes(headDim: Int, rows: Int, tile: Int) -> Int {
            4 * (2 * rows * (headDim | 1) + 2 * tile * (headDim | 1) + rows * tile)
        }
        static func kvSharedBytes(headDim: Int, rows: Int, tile: Int) -> Int {
            4 * (2 * rows * (headDim | 1) + 2 * tile * (headDim | 1) + 2 * rows * tile + 3 * tile)
        }
    }

    func attentionBackwardTiles(_ d: AttentionDescriptor) throws -> AttentionBackwardTiles {
        let wg = 64, limit = info.maxSharedMemory
        var minTPR = 1
        while minTPR * 32 < d.headDim { minTPR *= 2 }
        typealias T = AttentionBackwardTiles
        func fit(_ length: Int, _ bytes: (Int, Int) -> Int) throws -> (Int, Int) {
            var rows = 1
            while rows < length && rows * 2 <= wg / minTPR { rows *= 2 }
            var tile = 32
            while tile > 4 && bytes(rows, tile) > limit { tile /= 2 }
            while rows > 1 && bytes(rows, tile) > limit { rows /= 2 }
            guard bytes(rows, tile) <= limit else {
                throw IFTError.invalidArgument(
                    "attentionBackward: headDim \(d.headDim) needs more shared memory than the device has (\(limit) bytes)")
            }
            return (rows, tile)
        }
        let (qr, qt) = try fit(d.queryLength) { T.dqSharedBytes(headDim: d.headDim, rows: $0, tile: $1) }
        let (kr, kt) = try fit(d.keyLength) { T.kvSharedBytes(headDim: d.headDim, rows: $0, tile: $1) }
        return AttentionBackwardTiles(workgroup: wg, dqRows: qr, dqTile: qt, kvRows: kr, kvTile: kt)
    }

    public func attentionBackward(
        q: Tensor, k: Tensor, v: Tensor, out: Tensor, dout: Tensor, logSumExp: Tensor, segments: Tensor?,
        dq: Tensor, dk: Tensor, dv: Tensor, _ d: AttentionDescriptor
    ) throws {
        try OpChecks.backend([q, k, v, out, dout, logSumExp, dq, dk, dv] + [segments].compactMap { $0 }, name)
        try OpChecks.attentionBackward(
            q: q, k: k, v: v, out: out, dout: dout, logSumExp: logSumExp, segments: segments, dq: dq, dk: dk, dv: dv, d)
        guard d.headDim <= Self.attentionMaxHeadDim else {
            throw IFTError.invalidArgument(
                "attentionBackward: the vulkan backend supports headDim up to \(Self.attentionMaxHeadDim), got \(d.headDim)")
        }
        guard d.batch > 0, d.queryLength > 0 || d.keyLength > 0 else { return }
        let tiles = try attentionBackwardTiles(d)
        let hd = UInt32(d.headDim)
        let pipelines = AttentionBackwardPipelines(
            stats: try device.pipelines.pipeline("attention_backward_stats", bindings: 4, constants: [UInt32(Self.elementwiseWorkgroup)]),
            dq: try device.pipelines.pipeline(
                "attention_backward_dq", bindings: 7,
                constants: [UInt32(tiles.workgroup), hd, UInt32(tiles.dqRows), UInt32(tiles.dqTile)]),
            dkv: try device.pipelines.pipeline(
                "attention_backward_dkv", bindings: 8,
                constants: [UInt32(tiles.workgroup), hd, UInt32(tiles.kvRows), UInt32(tiles.kvTile)]))
        let stats = try makeTensor(shape: [max(1, 2 * d.batch * d.heads * d.queryLength)], dtype: .f32)
        let operands = AttentionBackwardOperands(
            q: q, k: k, v: v, out: out, dout: dout, lse: logSumExp, seg: segments, stats: stats, dq: dq, dk: dk, dv: dv)
        // The whole batch in one dispatch per kernel when every range fits a binding, else one
        // batch entry at a time.
        if let all = try? attentionBackwardBindings(operands, d, batches: 0..<d.batch) {
            try dispatchAttentionBackward(pipelines, tiles, d, all, batches: d.batch)
            return
        }
        for b in 0..<d.batch {
            try dispatchAttentionBackward(
                pipelines, tiles, d, try attentionBackwardBindings(operands, d, batches: b..<(b + 1)), batches: 1)
        }
    }

    private struct AttentionBackwardPipelines {
        var stats: Pipeline, dq: Pipeline, dkv: Pipeline
    }

    private struct AttentionBackwardOperands {
        var q: Tensor, k: Tensor, v: Tensor, out: Tensor, dout: Tensor, lse: Tensor, seg: Tensor?
        var stats: Tensor, dq: Tensor, dk: Tensor, dv: Tensor
    }

    /// One binding and residual element offset per operand, for a range of batch entries.
    private struct AttentionBackwardBindings {
        var q, k, v, out, dout, lse, seg, stats, dq, dk, dv: (binding: BufferBinding, residual: UInt32)
        var hasSegments: Bool
    }

    private func attentionBackwardBindings(
        _ o: AttentionBackwardOperands, _ d: AttentionDescriptor, batches: Range<Int>
    ) throws -> AttentionBackwardBindings {
        let b0 = batches.lowerBound, nb = batches.count
        func bind(_ t: Tensor, _ offset: Int, _ batchStride: Int, _ rows: Int, _ rowStride: Int, _ width: Int, _ what: String) throws
            -> (BufferBinding, UInt32)
        {
            let first = offset + b0 * batchStride
            let end = rows == 0 ? first : first + (nb - 1) * batchStride + (rows - 1) * rowStride + width
            return try elementBinding(t, first: first, end: end, "attentionBackward \(what)")
        }
        let T = d.queryLength, S = d.keyLength
        let qw = d.heads * d.headDim, kvw = d.kvHeads * d.headDim
        let perBatch = d.heads * T
        let q = try bind(o.q, d.qOffset, d.qBatchStride, T, d.qRowStride, qw, "q")
        var seg = q
        if let s = o.seg {
            seg = try elementBinding(s, first: b0 * S, end: (b0 + nb) * S, "attentionBackward segments")
        }
        return AttentionBackwardBindings(
            q: q,
            k: try bind(o.k, d.kOffset, d.kvBatchStride, S, d.kvRowStride, kvw, "k"),
            v: try bind(o.v, d.vOffset, d.kvBatchStride, S, d.kvRowStride, kvw, "v"),
            out: try bind(o.out, d.outOffset, d.outBatchStride, T, d.outRowStride, qw, "out"),
            dout: try bind(o.dout, d.outOffset, d.outBatchStride, T, d.outRowStride, qw, "dout"),
            lse: try elementBinding(o.lse, first: b0 * perBatch, end: (b0 + nb) * perBatch, "attentionBackward logSumExp"),
            seg: seg,
            stats: try elementBinding(o.stats, first: 2 * b0 * perBatch, end: 2 * (b0 + nb) * perBatch, "attentionBackward scratch"),
            dq: try bind(o.dq, d.qOffset, d.qBatchStride, T, d.qRowStride, qw, "dq"),
            dk: try bind(o.dk, d.kOffset, d.kvBatchStride, S, d.kvRowStride, kvw, "dk"),
            dv: try bind(o.dv, d.vOffset, d.kvBatchStride, S, d.kvRowStride, kvw, "dv"),
            hasSegments: o.seg != nil)
    }

    private func dispatchAttentionBackward(
        _ p: AttentionBackwardPipelines, _ tiles: AttentionBackwardTiles, _ d: AttentionDescriptor, _ b: AttentionBackwardBindings,
        batches: Int
    ) throws {
        let T = d.queryLength, S = d.keyLength
        // 1. (lse, D) per query row.
        let rows = batches * d.heads * T
        if rows > 0 {
            try recorder.dispatch(
                p.stats, bindings: [b.out.binding, b.dout.binding, b.lse.binding, b.stats.binding], writes: [3],
                push: [
                    UInt32(rows), UInt32(T), UInt32(d.heads), UInt32(d.headDim), pushWord(d.outRowStride), pushWord(d.outBatchStride),
                    b.out.residual, b.dout.residual, b.lse.residual, b.stats.residual,
                ],
                groups: (gridGroups(rows, Self.elementwiseWorkgroup), 1, 1))
        }
        // Causal masks only compare key positions with t + queryOffset, t in 0..<T and keys in
        // 0..<S, so clamping queryOffset to [-T, S] changes nothing and keeps it in 32 bits.
        let queryOffset = Int32(max(-T, min(S, d.queryOffset)))
        let flags: UInt32 = (d.causal ? 1 : 0) | (b.hasSegments ? 2 : 0)
        func push(_ grad0: UInt32, _ grad1: UInt32) -> [UInt32] {
            [
                UInt32(T), UInt32(S), UInt32(d.heads), UInt32(d.groupSize),
                pushWord(d.qRowStride), pushWord(d.qBatchStride), pushWord(d.kvRowStride), pushWord(d.kvBatchStride),
                pushWord(d.outRowStride), pushWord(d.outBatchStride),
                b.q.residual, b.k.residual, b.v.residual, b.dout.residual, b.seg.residual, b.stats.residual, grad0, grad1,
                UInt32(bitPattern: queryOffset), d.scale.word, flags,
            ]
        }
        let inputs = [b.q.binding, b.k.binding, b.v.binding, b.seg.binding, b.dout.binding, b.stats.binding]
        // 2. dq.
        if T > 0 {
            try recorder.dispatch(
                p.dq, bindings: inputs + [b.dq.binding], writes: [6], push: push(b.dq.residual, 0),
                groups: ((T + tiles.dqRows - 1) / tiles.dqRows, d.heads, batches))
        }
        // 3. dk and dv.
        if S > 0 {
            try recorder.dispatch(
                p.dkv, bindings: inputs + [b.dk.binding, b.dv.binding], writes: [6, 7], push: push(b.dk.residual, b.dv.residual),
                groups: ((S + tiles.kvRows - 1) / tiles.kvRows, d.kvHeads, batches))
        }
    }
}
