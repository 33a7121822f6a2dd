/// Operand checks of the Llama forward-pass ops (embedding, rmsNorm, rope, swiglu, attention,
/// copy), shared by every backend.
extension OpChecks {
    /// Returns `(vocab, dim)` of an embedding table `[V, D]`.
    public static func embedding(_ table: Tensor, _ ids: Tensor, _ out: Tensor) throws -> (vocab: Int, dim: Int) {
        guard table.dtype != .i32 else {
            throw IFTError.dtypeMismatch("embedding table must be f32, f16, bf16 or a quantized type, got i32")
        }
        try dtype(ids, .i32, "embedding ids")
        try dtype(out, .f32, "embedding output")
        guard table.shape.count == 2 else {
            throw IFTError.shapeMismatch("embedding: table must be [vocab, dim], got shape \(table.shape)")
        }
        let (vocab, dim) = (table.shape[0], table.shape[1])
        guard out.count == ids.count * dim else {
            throw IFTError.shapeMismatch(
                "embedding: output must hold \(ids.count) ids x \(dim) = \(ids.count * dim) values, has \(out.count) (shape \(out.shape))")
        }
        return (vocab, dim)
    }

    /// The error for an embedding id outside `0..<vocab`.
    public static func embeddingIdOutOfRange(position: Int, id: Int32, vocab: Int) -> IFTError {
        .invalidArgument("embedding: id \(id) at position \(position) is outside the table's 0..<\(vocab) rows")
    }

    /// Returns `(rows, dim)`.
    public static func rmsNorm(_ x: Tensor, _ weight: Tensor, _ eps: Float, _ out: Tensor) throws -> (rows: Int, dim: Int) {
        try dtype(x, .f32, "rmsNorm input")
        try dtype(weight, .f32, "rmsNorm weight")
        try dtype(out, .f32, "rmsNorm output")
        guard let dim = x.shape.last, dim > 0, weight.count == dim else {
            throw IFTError.shapeMismatch(
                "rmsNorm: weight (\(weight.shape)) must have as many elements as the input's last dimension (input \(x.shape)), and that must be non-zero")
        }
        guard out.count == x.count else {
            throw IFTError.shapeMismatch("rmsNorm: output has \(out.count) elements, input \(x.count)")
        }
        guard eps.isFinite, eps >= 0 else {
            throw IFTError.invalidArgument("rmsNorm: eps must be finite and non-negative, got \(eps)")
        }
        return (x.count / dim, dim)
    }

    /// Returns the number of table rows (positions).
    public static func rope(_ x: Tensor, _ positions: Tensor, _ table: Tensor, _ d: RopeDescriptor, _ out: Tensor) throws -> Int {
        try dtype(x, .f32, "rope input")
        try dtype(out, .f32, "rope output")
        try dtype(positions, .i32, "rope positions")
        try dtype(table, .f32, "rope table")
        try d.validate(inputCount: x.count, outputCount: out.count)
        guard positions.count == d.tokens else {
            throw IFTError.shapeMismatch("rope: positions has \(positions.count) elements, expected one per token (\(d.tokens))")
        }
        guard table.shape.count == 2, table.shape[1] == d.headDim else {
            throw IFTError.shapeMismatch(
                "rope: table must be [maxPositions, headDim = \(d.headDim)] (see RopeTable.make), got shape \(table.shape)")
        }
        return table.shape[0]
    }

    /// The error for a rope position outside the table.
    public static func ropePositionOutOfRange(token: Int, position: Int32, maxPositions: Int) -> IFTError {
        .invalidArgument("rope: position \(position) of token \(token) is outside the table's 0..<\(maxPositions) rows")
    }

    public static func swiglu(_ gate: Tensor, _ up: Tensor, _ out: Tensor) throws {
        try dtype(gate, .f32, "swiglu gate")
        try dtype(up, .f32, "swiglu up")
        try dtype(out, .f32, "swiglu output")
        guard gate.count == up.count, out.count == gate.count else {
            throw IFTError.shapeMismatch(
                "swiglu: gate (\(gate.count) elements), up (\(up.count)) and output (\(out.count)) must have equal counts")
        }
    }

    public static func attention(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, _ out: Tensor, _ lse: Tensor?, _ segments: Tensor?, _ d: AttentionDescriptor
    ) throws {
        try dtype(q, .f32, "attention q")
        try dtype(k, .f32, "attention k")
        try dtype(v, .f32, "attention v")
        try dtype(out, .f32, "attention output")
        if let lse { try dtype(lse, .f32, "attention logSumExp") }
        if let segments { try dtype(segments, .i32, "attention segments") }
        try d.validate(
            qCount: q.count, kCount: k.count, vCount: v.count, outCount: out.count, logSumExpCount: lse?.count,
            segmentsCount: segments?.count)
        for (name, t, lo, hi) in [("q", q, d.qOffset, d.qExtent), ("k", k, d.kOffset, d.kExtent), ("v", v, d.vOffset, d.vExtent)]
        where t.storage === out.storage && lo < d.outExtent && d.outOffset < hi {
            throw IFTError.invalidArgument("attention: the output overlaps \(name) (same tensor); write it elsewhere")
        }
    }

    public static func copy(_ src: Tensor, _ dst: Tensor, _ d: CopyDescriptor) throws {
        try dtype(src, .f32, "copy source")
        try dtype(dst, .f32, "copy destination")
        try d.validate(srcCount: src.count, dstCount: dst.count)
        if src.storage === dst.storage && d.sourceOverlapsDestination {
            throw IFTError.invalidArgument("copy: source and destination ranges overlap in the same tensor")
        }
    }
}
