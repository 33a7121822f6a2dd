import IFTCore

/// The loss and backward ops of `cpu-ref`: `Reference`'s loops on host memory.
extension CPUReferenceBackend {
    public func crossEntropy(logits: Tensor, targets: Tensor, losses: Tensor, dlogits: Tensor?, scale: Float) throws {
        try OpChecks.backend([logits, targets, losses] + [dlogits].compactMap { $0 }, name)
        let (_, vocab) = try OpChecks.crossEntropy(logits, targets, losses, dlogits, scale)
        try Reference.crossEntropy(
            logits: UnsafeBufferPointer(try HostTensors.floats(logits, name)), vocab: vocab,
            targets: UnsafeBufferPointer(try HostTensors.ints(targets, name)), losses: try HostTensors.floats(losses, name),
            dlogits: try dlogits.map { try HostTensors.floats($0, name) }, scale: scale)
    }

    public func rmsNormBackward(x: Tensor, weight: Tensor, dy: Tensor, eps: Float, dx: Tensor, dweight: Tensor?) throws {
        try OpChecks.backend([x, weight, dy, dx] + [dweight].compactMap { $0 }, name)
        _ = try OpChecks.rmsNormBackward(x, weight, dy, eps, dx, dweight)
        try Reference.rmsNormBackward(
            x: UnsafeBufferPointer(try HostTensors.floats(x, name)), weight: UnsafeBufferPointer(try HostTensors.floats(weight, name)),
            dy: UnsafeBufferPointer(try HostTensors.floats(dy, name)), eps: eps, dx: try HostTensors.floats(dx, name),
            dweight: try dweight.map { try HostTensors.floats($0, name) })
    }

    public func swigluBackward(gate: Tensor, up: Tensor, dout: Tensor, dgate: Tensor, dup: Tensor) throws {
        try OpChecks.backend([gate, up, dout, dgate, dup], name)
        try OpChecks.swigluBackward(gate, up, dout, dgate, dup)
        try Reference.swigluBackward(
            gate: UnsafeBufferPointer(try HostTensors.floats(gate, name)), up: UnsafeBufferPointer(try HostTensors.floats(up, name)),
            dout: UnsafeBufferPointer(try HostTensors.floats(dout, name)), dgate: try HostTensors.floats(dgate, name),
            dup: try HostTensors.floats(dup, name))
    }

    public func embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor) throws {
        try OpChecks.backend([ids, dout, dtable], name)
        let (vocab, dim) = try OpChecks.embeddingBackward(ids, dout, dtable)
        try Reference.embeddingBackward(
            ids: UnsafeBufferPointer(try HostTensors.ints(ids, name)), dout: UnsafeBufferPointer(try HostTensors.floats(dout, name)),
            vocab: vocab, dim: dim, dtable: try HostTensors.floats(dtable, name))
    }
}

/// The optimizer ops of `cpu-ref`.
extension CPUReferenceBackend {
    public func adamw(params: Tensor, grads: Tensor, m: Tensor, v: Tensor, _ h: AdamWParameters) throws {
        try OpChecks.backend([params, grads, m, v], name)
        try OpChecks.adamw(params, grads, m, v, h)
        try Reference.adamw(
            params: try HostTensors.floats(params, name), grads: UnsafeBufferPointer(try HostTensors.floats(grads, name)),
            m: try HostTensors.floats(m, name), v: try HostTensors.floats(v, name), h.constants)
    }

    public func sumOfSquares(_ x: Tensor, into out: Tensor, accumulate: Bool) throws {
        try OpChecks.backend([x, out], name)
        try OpChecks.sumOfSquares(x, out)
        let s = Reference.sumOfSquares(UnsafeBufferPointer(try HostTensors.floats(x, name)))
        let o = try HostTensors.floats(out, name)
        o[0] = (accumulate ? o[0] : 0) + s
    }
}
