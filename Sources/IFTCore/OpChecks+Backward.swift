/// Operand checks of the loss and the backward ops (crossEntropy, rmsNormBackward,
/// swigluBackward, embeddingBackward), shared by every backend.
extension OpChecks {
    /// The target that marks a row as ignored by `crossEntropy` (PyTorch's `ignore_index`).
    public static let ignoreIndex: Int32 = -100

    /// Returns `(rows, vocab)`.
    public static func crossEntropy(
        _ logits: Tensor, _ targets: Tensor, _ losses: Tensor, _ dlogits: Tensor?, _ scale: Float
    ) throws -> (rows: Int, vocab: Int) {
        try dtype(logits, .f32, "crossEntropy logits")
        try dtype(targets, .i32, "crossEntropy targets")
        try dtype(losses, .f32, "crossEntropy losses")
        if let dlogits { try dtype(dlogits, .f32, "crossEntropy dlogits") }
        guard let vocab = logits.shape.last, vocab > 0 else {
            throw IFTError.shapeMismatch("crossEntropy: logits must be [rows, vocab] with vocab > 0, got shape \(logits.shape)")
        }
        let rows = logits.count / vocab
        guard targets.count == rows, losses.count == rows else {
            throw IFTError.shapeMismatch(
                "crossEntropy: \(rows) rows of logits (shape \(logits.shape)) need \(rows) targets and losses, got \(targets.count) and \(losses.count)")
        }
        if let dlogits, dlogits.count != logits.count {
            throw IFTError.shapeMismatch("crossEntropy: dlogits has \(dlogits.count) elements, logits \(logits.count)")
        }
        guard scale.isFinite else {
            throw IFTError.invalidArgument("crossEntropy: scale must be finite, got \(scale)")
        }
        return (rows, vocab)
    }

    /// The error for a target outside `0..<vocab` that is not `ignoreIndex`.
    public static func crossEntropyTargetOutOfRange(row: Int, target: Int32, vocab: Int) -> IFTError {
        .invalidArgument("crossEntropy: target \(target) of row \(row) is outside 0..<\(vocab) (and is not the ignore index -100)")
    }

    /// Returns `(rows, dim)`.
    public static func rmsNormBackward(
        _ x: Tensor, _ weight: Tensor, _ dy: Tensor, _ eps: Float, _ dx: Tensor, _ dweight: Tensor?
    ) throws -> (rows: Int, dim: Int) {
        try dtype(x, .f32, "rmsNormBackward input")
        try dtype(weight, .f32, "rmsNormBackward weight")
        try dtype(dy, .f32, "rmsNormBackward dy")
        try dtype(dx, .f32, "rmsNormBackward dx")
        if let dweight { try dtype(dweight, .f32, "rmsNormBackward dweight") }
        guard let dim = x.shape.last, dim > 0, weight.count == dim else {
            throw IFTError.shapeMismatch(
                "rmsNormBackward: weight (\(weight.shape)) must have as many elements as the input's last dimension (input \(x.shape)), and that must be non-zero")
        }
        guard dy.count == x.count, dx.count == x.count else {
            throw IFTError.shapeMismatch("rmsNormBackward: dy (\(dy.count) elements) and dx (\(dx.count)) must match the input (\(x.count))")
        }
        if let dweight, dweight.count != dim {
            throw IFTError.shapeMismatch("rmsNormBackward: dweight has \(dweight.count) elements, the weight \(dim)")
        }
        guard eps.isFinite, eps >= 0 else {
            throw IFTError.invalidArgument("rmsNormBackward: eps must be finite and non-negative, got \(eps)")
        }
        if let dweight, dweight.storage === x.storage || dweight.storage === dy.storage || dweight.storage === dx.storage {
            throw IFTError.invalidArgument("rmsNormBackward: dweight must not be x, dy or dx")
        }
        if dx.storage === x.storage || dx.storage === dy.storage {
            throw IFTError.invalidArgument("rmsNormBackward: dx must not be x or dy (both are read again for dweight)")
        }
        return (x.count / dim, dim)
    }

    public static func swigluBackward(_ gate: Tensor, _ up: Tensor, _ dout: Tensor, _ dgate: Tensor, _ dup: Tensor) throws {
        for (t, n) in [(gate, "gate"), (up, "up"), (dout, "dout"), (dgate, "dgate"), (dup, "dup")] {
            try dtype(t, .f32, "swigluBackward \(n)")
            guard t.count == gate.count else {
                throw IFTError.shapeMismatch(
                    "swigluBackward: \(n) has \(t.count) elements, gate \(gate.count); gate, up, dout, dgate and dup must have equal counts")
            }
        }
        if dgate.storage === dup.storage {
            throw IFTError.invalidArgument("swigluBackward: dgate and dup must be different tensors")
        }
    }

    /// Returns `(vocab, dim)` of the gradient table `[vocab, dim]`.
    public static func embeddingBackward(_ ids: Tensor, _ dout: Tensor, _ dtable: Tensor) throws -> (vocab: Int, dim: Int) {
        try dtype(ids, .i32, "embeddingBackward ids")
        try dtype(dout, .f32, "embeddingBackward dout")
        try dtype(dtable, .f32, "embeddingBackward dtable")
        guard dtable.shape.count == 2 else {
            throw IFTError.shapeMismatch("embeddingBackward: dtable must be [vocab, dim], got shape \(dtable.shape)")
        }
        let (vocab, dim) = (dtable.shape[0], dtable.shape[1])
        guard dout.count == ids.count * dim else {
            throw IFTError.shapeMismatch(
                "embeddingBackward: dout must hold \(ids.count) ids x \(dim) = \(ids.count * dim) values, has \(dout.count) (shape \(dout.shape))")
        }
        if dtable.storage === dout.storage {
            throw IFTError.invalidArgument("embeddingBackward: dtable must not be dout")
        }
        return (vocab, dim)
    }
}
