/// Operand checks of `attentionBackward`, shared by every backend.
extension OpChecks {
    /// The elements a strided attention operand touches: `batch` entries of `rows` rows of `width`
    /// elements (`offset + b * batchStride + r * rowStride + 0 ..< width`).
    struct StridedRegion {
        var offset: Int, batch: Int, batchStride: Int, rows: Int, rowStride: Int, width: Int

        var isEmpty: Bool { batch == 0 || rows == 0 || width == 0 }
        var end: Int { isEmpty ? offset : offset + (batch - 1) * batchStride + (rows - 1) * rowStride + width }

        /// A whole tensor of `count` elements as one row.
        static func whole(_ count: Int) -> StridedRegion {
            StridedRegion(offset: 0, batch: 1, batchStride: 0, rows: 1, rowStride: count, width: count)
        }

        /// Whether the two regions may share an element. Disjoint when their ranges do not meet, or
        /// when they interleave: the same row stride R (batch strides multiples of R) with their
        /// columns in different residues mod R (e.g. q, k and v columns of a fused qkv tensor).
        func overlaps(_ o: StridedRegion) -> Bool {
            if isEmpty || o.isEmpty || end <= o.offset || o.end <= offset { return false }
            let r = rowStride
            guard r > 0, o.rowStride == r, width <= r, o.width <= r,
                batch <= 1 || batchStride % r == 0, o.batch <= 1 || o.batchStride % r == 0
            else { return true }
            let delta = ((o.offset - offset) % r + r) % r
            return !(width <= delta && delta + o.width <= r)
        }
    }

    /// Checks the operands of `attentionBackward`: f32 tensors (segments i32), every operand large
    /// enough for the descriptor (dout like out, dq like q, dk like k, dv like v), `logSumExp` of
    /// `[batch, heads, queryLength]`, and no gradient overlapping an input or another gradient.
    public static func attentionBackward(
        q: Tensor, k: Tensor, v: Tensor, out: Tensor, dout: Tensor, logSumExp: Tensor, segments: Tensor?,
        dq: Tensor, dk: Tensor, dv: Tensor, _ d: AttentionDescriptor
    ) throws {
        for (t, what) in [(q, "q"), (k, "k"), (v, "v"), (out, "out"), (dout, "dout"), (logSumExp, "logSumExp"), (dq, "dq"), (dk, "dk"), (dv, "dv")] {
            try dtype(t, .f32, "attentionBackward \(what)")
        }
        if let segments { try dtype(segments, .i32, "attentionBackward segments") }
        try d.validate(
            qCount: q.count, kCount: k.count, vCount: v.count, outCount: out.count, logSumExpCount: logSumExp.count,
            segmentsCount: segments?.count)
        let qw = d.heads * d.headDim, kvw = d.kvHeads * d.headDim
        let qRegion = StridedRegion(
            offset: d.qOffset, batch: d.batch, batchStride: d.qBatchStride, rows: d.queryLength, rowStride: d.qRowStride, width: qw)
        let outRegion = StridedRegion(
            offset: d.outOffset, batch: d.batch, batchStride: d.outBatchStride, rows: d.queryLength, rowStride: d.outRowStride, width: qw)
        let kRegion = StridedRegion(
            offset: d.kOffset, batch: d.batch, batchStride: d.kvBatchStride, rows: d.keyLength, rowStride: d.kvRowStride, width: kvw)
        var vRegion = kRegion
        vRegion.offset = d.vOffset
        // Gradients are overwritten per batch entry, so batch entries must not share elements.
        let qSpan = d.queryLength == 0 ? 0 : (d.queryLength - 1) * d.qRowStride + qw
        let kvSpan = d.keyLength == 0 ? 0 : (d.keyLength - 1) * d.kvRowStride + kvw
        guard d.batch <= 1 || (d.qBatchStride >= qSpan && d.kvBatchStride >= kvSpan) else {
            throw IFTError.shapeMismatch(
                "attentionBackward: batch entries overlap (qBatchStride \(d.qBatchStride) needs >= \(qSpan), kvBatchStride \(d.kvBatchStride) needs >= \(kvSpan)), so their gradients would collide")
        }
        let sized: [(String, Tensor, StridedRegion)] = [("dout", dout, outRegion), ("dq", dq, qRegion), ("dk", dk, kRegion), ("dv", dv, vRegion)]
        for (what, t, region) in sized where region.end > t.count {
            throw IFTError.shapeMismatch(
                "attentionBackward \(what): the descriptor's strides and offset need \(region.end) elements, \(what) has \(t.count)")
        }
        let outputs: [(String, Tensor, StridedRegion)] = [("dq", dq, qRegion), ("dk", dk, kRegion), ("dv", dv, vRegion)]
        var inputs: [(String, Tensor, StridedRegion)] = [
            ("q", q, qRegion), ("k", k, kRegion), ("v", v, vRegion), ("out", out, outRegion), ("dout", dout, outRegion),
            ("logSumExp", logSumExp, .whole(logSumExp.count)),
        ]
        if let segments { inputs.append(("segments", segments, .whole(segments.count))) }
        for (i, (name, t, region)) in outputs.enumerated() {
            for (other, u, r) in inputs + outputs[..<i] where t.storage === u.storage && region.overlaps(r) {
                throw IFTError.invalidArgument("attentionBackward: \(name) overlaps \(other) (same tensor); write it elsewhere")
            }
        }
    }
}
