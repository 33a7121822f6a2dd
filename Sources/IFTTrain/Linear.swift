import IFTCore
import IFTModel

/// The linear projections of a training step, with their LoRA adapters and biases: forward
/// `y (+)= x · Wᵀ (+ bias) + scale · (dropout(x) · Aᵀ) · Bᵀ` and its backward.
extension TrainableLlama {
    /// Seed of the dropout mask of one adapter in one micro-batch (the same in forward and backward).
    func dropoutSeed(_ base: UInt64, layer: Int, _ p: Projection) -> UInt64 {
        var g = SeededGenerator(seed: base ^ (UInt64(layer) << 8 | UInt64(Projection.allCases.firstIndex(of: p)!)) &* 0x9E37_79B9)
        return g.next()
    }

    /// `y[n, out] (+)= x[n, in] · W[out, in]ᵀ` (+ the adapter), `n` tokens.
    func projectForward(
        _ x: Tensor, layer l: Int, _ p: Projection, into y: Tensor, tokens n: Int, accumulate: Bool, seed: UInt64
    ) throws {
        let b = backend
        let w = layers[l].weights[p]!
        let (outDim, inDim) = (w.shape[0], w.shape[1])
        let d = MatmulDescriptor(m: n, n: outDim, k: inDim, transposeB: true, beta: accumulate ? 1 : 0)
        if w.dtype.isQuantized {
            try b.matmulQuantized(x, w, y, d)
        } else {
            try b.matmul(x, try floatWeight(w), y, d)
        }
        if let bias = layers[l].biases[p], let acts = activations {
            // y += ones[n, 1] · bias[1, out]
            try b.matmul(view(acts.ones, [n, 1]), bias, y, MatmulDescriptor(m: n, n: outDim, k: 1, beta: 1))
        }
        guard let adapter = layers[l].adapters[p], let lora, let xa = try adapterDown(x, layer: l, p, tokens: n, seed: seed) else { return }
        try b.matmul(xa, adapter.b.value, y, MatmulDescriptor(m: n, n: outDim, k: lora.rank, transposeB: true, alpha: lora.scale, beta: 1))
    }

    /// The first half of `p`'s adapter, `xa = dropout(x) · Aᵀ` (kept in the activations for the
    /// backward); nil when `p` has no adapter.
    @discardableResult
    func adapterDown(_ x: Tensor, layer l: Int, _ p: Projection, tokens n: Int, seed: UInt64) throws -> Tensor? {
        guard let adapter = layers[l].adapters[p], let lora, let acts = activations, let xa = acts.xa[l][p] else { return nil }
        let inDim = adapter.a.value.shape[1]
        let input = try adapterInput(x, tokens: n, width: inDim, seed: dropoutSeed(seed, layer: l, p), acts)
        try backend.matmul(input, adapter.a.value, xa, MatmulDescriptor(m: n, n: lora.rank, k: inDim, transposeB: true))
        return xa
    }

    /// Backward of `projectForward` for input `x` and output gradient `dy`: accumulates the weight
    /// (full) or adapter gradients, and writes (or with `accumulateInput` adds) `dx = dy · W (+ adapter)`
    /// unless `inputGradient` is nil.
    func projectBackward(
        _ x: Tensor, layer l: Int, _ p: Projection, dy: Tensor, inputGradient dx: Tensor?, tokens n: Int,
        accumulateInput: Bool, seed: UInt64
    ) throws {
        let b = backend
        let w = layers[l].weights[p]!
        let (outDim, inDim) = (w.shape[0], w.shape[1])
        if let param = layers[l].weightParameters[p] {
            // dW += dyᵀ · x
            try b.matmul(dy, x, param.grad, MatmulDescriptor(m: outDim, n: inDim, k: n, transposeA: true, beta: 1))
        }
        if let param = layers[l].biasParameters[p], let acts = activations {
            // dbias += onesᵀ[1, n] · dy[n, out] (the column sums of dy)
            try b.matmul(view(acts.ones, [n, 1]), dy, param.grad, MatmulDescriptor(m: 1, n: outDim, k: n, transposeA: true, beta: 1))
        }
        var dxa: Tensor?
        if let adapter = layers[l].adapters[p], let lora, let acts = activations {
            let xa = acts.xa[l][p]!
            let g = view(acts.dxa, [n, lora.rank])
            // dB += scale · dyᵀ · xa;  dxa = scale · dy · B;  dA += dxaᵀ · dropout(x)
            try b.matmul(dy, xa, adapter.b.grad, MatmulDescriptor(m: outDim, n: lora.rank, k: n, transposeA: true, alpha: lora.scale, beta: 1))
            try b.matmul(dy, adapter.b.value, g, MatmulDescriptor(m: n, n: lora.rank, k: outDim, alpha: lora.scale))
            let input = try adapterInput(x, tokens: n, width: inDim, seed: dropoutSeed(seed, layer: l, p), acts)
            try b.matmul(g, input, adapter.a.grad, MatmulDescriptor(m: lora.rank, n: inDim, k: n, transposeA: true, beta: 1))
            dxa = g
        }
        guard let dx else { return }
        // dx (+)= dy · W
        try b.matmul(dy, try floatWeight(w), dx, MatmulDescriptor(m: n, n: inDim, k: outDim, beta: accumulateInput ? 1 : 0))
        if let g = dxa, let adapter = layers[l].adapters[p], let lora, let acts = activations {
            if lora.dropout > 0 {
                let t = view(acts.loraInputGrad, [n, inDim])
                try b.matmul(g, adapter.a.value, t, MatmulDescriptor(m: n, n: inDim, k: lora.rank))
                try b.dropout(t, probability: lora.dropout, seed: dropoutSeed(seed, layer: l, p), into: t)
                try b.binary(.add, dx, t, into: dx)
            } else {
                try b.matmul(g, adapter.a.value, dx, MatmulDescriptor(m: n, n: inDim, k: lora.rank, beta: 1))
            }
        }
    }

    /// The adapter's input: `x`, or `dropout(x)` in the activations' scratch.
    private func adapterInput(_ x: Tensor, tokens n: Int, width: Int, seed: UInt64, _ acts: Activations) throws -> Tensor {
        guard let lora, lora.dropout > 0 else { return x }
        let out = view(acts.dropped, [n, width])
        try backend.dropout(view(x, [n, width]), probability: lora.dropout, seed: seed, into: out)
        return out
    }

    /// `w` itself when f32, else dequantized (or widened) into scratch.
    private func floatWeight(_ w: Tensor) throws -> Tensor {
        w.dtype == .f32 ? w : try dequantizedScratch(w)
    }

    /// `w` dequantized (or widened) into the activations' weight scratch, viewed `[out, in]`.
    private func dequantizedScratch(_ w: Tensor) throws -> Tensor {
        guard let acts = activations else { throw IFTError.invalidArgument("training step: activations not allocated") }
        let out = view(acts.weightScratch, w.shape)
        if w.dtype.isQuantized { try backend.dequantize(w, into: out) } else { try backend.cast(w, into: out) }
        return out
    }
}
