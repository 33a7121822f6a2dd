import IFTCore
import IFTData
import IFTModel

/// One micro-batch of a training step, top to bottom: forward (keeping activations), loss, backward
/// (with activation checkpointing, each layer's forward runs again from its kept input just before
/// its backward).
extension TrainableLlama {
    /// Runs `batch` forward and, with `backward`, back: the gradients of
    /// `lossScale * sum(token losses)` ACCUMULATE into the parameters' gradients (call
    /// `zeroGradients` before the first micro-batch of a step; pass `lossScale = 1 / n` with `n` the
    /// learned targets of the whole accumulated batch). Returns the sum of the token losses and the
    /// number of learned targets (read back from the backend: the only host round-trip).
    /// `dropoutSeed` seeds the LoRA dropout masks of this micro-batch.
    @discardableResult
    public func step(_ batch: Batch, lossScale: Float, backward: Bool = true, dropoutSeed: UInt64 = 0) throws -> (lossSum: Double, tokens: Int) {
        let c = config, b = backend
        let B = batch.batchSize, T = batch.length, n = B * T
        guard n > 0 else { throw IFTError.invalidArgument("training step: empty batch") }
        guard batch.inputs.count == n, batch.targets.count == n else {
            throw IFTError.shapeMismatch("training step: batch of \(B)x\(T) has \(batch.inputs.count) inputs and \(batch.targets.count) targets")
        }
        guard T <= maxPositions else {
            throw IFTError.invalidArgument("training step: sequence length \(T) exceeds the model's context \(maxPositions)")
        }
        if let bad = batch.inputs.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
            throw IFTError.invalidArgument("training step: token id \(bad) is outside the vocabulary (0..<\(c.vocabSize))")
        }
        if let bad = batch.targets.first(where: { $0 != Batch.ignoreIndex && ($0 < 0 || Int($0) >= c.vocabSize) }) {
            throw IFTError.invalidArgument("training step: target \(bad) is outside the vocabulary (0..<\(c.vocabSize)) and is not -100")
        }
        if activations == nil || activations!.capacity < n {
            activations = nil  // free first
            activations = try Activations(model: self, capacity: n, checkpointing: checkpointActivations)
        }
        let a = activations!
        let d = c.hiddenSize, f = c.intermediateSize
        let qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        let eps = Float(c.rmsNormEps)
        let seed = dropoutSeed
        func v(_ t: Tensor, _ cols: Int) -> Tensor { view(t, [n, cols]) }

        // Inputs.
        let ids = view(a.ids, [n]), positions = view(a.positions, [n])
        try batch.inputs.withUnsafeBytes { try b.write(ids, from: $0) }
        let pos = batch.positions ?? (0..<n).map { Int32($0 % T) }
        if let bad = pos.first(where: { $0 < 0 || Int($0) >= maxPositions }) {
            throw IFTError.invalidArgument("training step: position \(bad) is outside the model's context (0..<\(maxPositions))")
        }
        try pos.withUnsafeBytes { try b.write(positions, from: $0) }
        var segments: Tensor?
        if let s = batch.segments {
            let t = view(a.segments, [B, T])
            try s.withUnsafeBytes { try b.write(t, from: $0) }
            segments = t
        }
        let attention = AttentionDescriptor(
            batch: B, queryLength: T, keyLength: T, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
        let shape = LayerStepShape(tokens: n, positions: positions, segments: segments, attention: attention, seed: seed)

        // ---- Forward ----
        try b.embedding(embedding, ids: ids, into: v(a.xs[0], d))
        for l in layers.indices {
            try layerForward(l, shape)
        }
        let xL = v(a.xs[c.layerCount], d), hf = v(a.hf, d)
        try b.rmsNorm(xL, weight: outputNorm, eps: eps, into: hf)

        // ---- LM head and loss, in row chunks; their backward right away (dhf) ----
        let dx = v(a.dx, d), dh = v(a.dh, d), dtmp = v(a.dtmp, d)
        var learned = 0
        for (i, chunk) in a.chunkTargets.enumerated() {
            let r0 = i * a.chunkRows
            guard r0 < n else { break }
            let rows = min(a.chunkRows, n - r0)
            let targets = view(chunk, [rows]), losses = view(a.chunkLosses[i], [rows])
            let slice = Array(batch.targets[r0..<(r0 + rows)])
            learned += slice.reduce(0) { $0 + ($1 == Batch.ignoreIndex ? 0 : 1) }
            try slice.withUnsafeBytes { try b.write(targets, from: $0) }
            let logits = view(a.logits, [rows, c.vocabSize])
            var lm = MatmulDescriptor(m: rows, n: c.vocabSize, k: d, transposeB: true)
            lm.offsetA = r0 * d
            try b.matmul(hf, head, logits, lm)
            try b.crossEntropy(logits: logits, targets: targets, losses: losses, dlogits: backward ? logits : nil, scale: lossScale)
            guard backward else { continue }
            // dhf[chunk] = dlogits · head;  dHead += dlogitsᵀ · hf[chunk]
            var dIn = MatmulDescriptor(m: rows, n: d, k: c.vocabSize)
            dIn.offsetC = r0 * d
            try b.matmul(logits, head, dh, dIn)
            if let hp = headParameter {
                var dW = MatmulDescriptor(m: c.vocabSize, n: d, k: rows, transposeA: true, beta: 1)
                dW.offsetB = r0 * d
                try b.matmul(logits, hf, hp.grad, dW)
            }
        }

        if backward {
            // ---- Backward ----
            try b.rmsNormBackward(x: xL, weight: outputNorm, dy: dh, eps: eps, dx: dx, dweight: outputNormParameter?.grad)
            for l in stride(from: c.layerCount - 1, through: 0, by: -1) {
                // Checkpointing: layer l's activations again, from its kept input xs[l] (the last
                // layer's are still in the shared buffers from the forward).
                if a.checkpointing && l < c.layerCount - 1 {
                    try layerForward(l, shape, recomputing: true)
                }
                let layer = layers[l]
                let x = v(a.xs[l], d), h1 = v(a.h1[l], d), q = v(a.q[l], qDim), k = v(a.k[l], kvDim), vv = v(a.v[l], kvDim)
                let att = v(a.att[l], qDim), lse = view(a.lse[l], [n * c.headCount]), xm = v(a.xm[l], d), h2 = v(a.h2[l], d)
                let gate = v(a.gate[l], f), up = v(a.up[l], f), act = v(a.act[l], f)
                let dgate = v(a.dgate, f), dup = v(a.dup, f), dact = v(a.dact, f)
                let dq = v(a.dq, qDim), dk = v(a.dk, kvDim), dv = v(a.dv, kvDim), datt = v(a.datt, qDim)
                // MLP block (dx is the gradient of the block's output, and so of xm too).
                try projectBackward(act, layer: l, .down, dy: dx, inputGradient: dact, tokens: n, accumulateInput: false, seed: seed)
                try b.swigluBackward(gate: gate, up: up, dout: dact, dgate: dgate, dup: dup)
                try projectBackward(h2, layer: l, [(.gate, dgate), (.up, dup)], inputGradient: dh, tokens: n, seed: seed)
                try b.rmsNormBackward(x: xm, weight: layer.feedForwardNorm, dy: dh, eps: eps, dx: dtmp, dweight: layer.feedForwardNormParameter?.grad)
                try b.binary(.add, dx, dtmp, into: dx)
                // Attention block (dx is now the gradient of xm, and so of x too).
                try projectBackward(att, layer: l, .o, dy: dx, inputGradient: datt, tokens: n, accumulateInput: false, seed: seed)
                try b.attentionBackward(
                    q: q, k: k, v: vv, out: att, dout: datt, logSumExp: lse, segments: segments, dq: dq, dk: dk, dv: dv, attention)
                try b.rope(dq, positions: positions, table: ropeTable, RopeDescriptor(heads: c.headCount, headDim: c.headDim, tokens: n, inverse: true), into: dq)
                try b.rope(dk, positions: positions, table: ropeTable, RopeDescriptor(heads: c.kvHeadCount, headDim: c.headDim, tokens: n, inverse: true), into: dk)
                // The input gradient of layer 0's projections only feeds the embedding's gradient.
                let needInput = l > 0 || embeddingParameter != nil
                let dhOut: Tensor? = needInput ? dh : nil
                let (dqIn, dkIn) = try headNormBackward(layer: l, dq: dq, dk: dk, tokens: n)
                try projectBackward(h1, layer: l, [(.q, dqIn), (.k, dkIn), (.v, dv)], inputGradient: dhOut, tokens: n, seed: seed)
                if needInput {
                    try b.rmsNormBackward(x: x, weight: layer.attentionNorm, dy: dh, eps: eps, dx: dtmp, dweight: layer.attentionNormParameter?.grad)
                    try b.binary(.add, dx, dtmp, into: dx)
                }
            }
            if let e = embeddingParameter {
                try b.embeddingBackward(ids: ids, dout: dx, dtable: e.grad)
            }
        }

        // The loss sum: read the per-row losses back (waits for the whole micro-batch).
        var total = 0.0
        for (i, chunk) in a.chunkLosses.enumerated() {
            let r0 = i * a.chunkRows
            guard r0 < n else { break }
            for x in try b.floats(view(chunk, [min(a.chunkRows, n - r0)])) { total += Double(x) }
        }
        return (total, learned)
    }

    /// Layer `l`'s forward from its input `xs[l]` to `xs[l + 1]`, keeping what its backward reads
    /// in the activations (run by the forward pass, and again, `recomputing`, by the backward with
    /// checkpointing).
    func layerForward(_ l: Int, _ shape: LayerStepShape, recomputing: Bool = false) throws {
        guard let a = activations else { throw IFTError.invalidArgument("training step: activations not allocated") }
        let c = config, b = backend, layer = layers[l]
        let n = shape.tokens, positions = shape.positions, segments = shape.segments, attention = shape.attention, seed = shape.seed
        let d = c.hiddenSize, f = c.intermediateSize
        let qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        let eps = Float(c.rmsNormEps)
        func v(_ t: Tensor, _ cols: Int) -> Tensor { view(t, [n, cols]) }
        let qRope = RopeDescriptor(heads: c.headCount, headDim: c.headDim, tokens: n)
        let kRope = RopeDescriptor(heads: c.kvHeadCount, headDim: c.headDim, tokens: n)
        let rowCopy = CopyDescriptor(rows: n, cols: d)
        let x = v(a.xs[l], d), h1 = v(a.h1[l], d), q = v(a.q[l], qDim), k = v(a.k[l], kvDim), vv = v(a.v[l], kvDim)
        let att = v(a.att[l], qDim), lse = view(a.lse[l], [n * c.headCount]), xm = v(a.xm[l], d), h2 = v(a.h2[l], d)
        let gate = v(a.gate[l], f), up = v(a.up[l], f), act = v(a.act[l], f)
        // Attention block: xm = x + attention(rope(h1 Wq), rope(h1 Wk), h1 Wv) Woᵀ.
        try b.rmsNorm(x, weight: layer.attentionNorm, eps: eps, into: h1)
        // (Qwen3: the projections land in qRaw/kRaw, normalized per head into q/k.)
        let (qIn, kIn) = headNormInputs(layer: l, q: q, k: k, tokens: n)
        // (Phi-3: one fused qkv_proj whose column blocks are q, k, v; TrainableLlama+Fused.swift.)
        try projectForward(h1, layer: l, [(.q, qIn), (.k, kIn), (.v, vv)], tokens: n, seed: seed)
        try headNormForward(layer: l, q: q, k: k, tokens: n)
        try b.rope(q, positions: positions, table: ropeTable, qRope, into: q)
        try b.rope(k, positions: positions, table: ropeTable, kRope, into: k)
        try b.attention(q: q, k: k, v: vv, into: att, logSumExp: lse, segments: segments, attention)
        try b.copy(x, into: xm, rowCopy)
        try projectForward(att, layer: l, .o, into: xm, tokens: n, accumulate: true, seed: seed)
        // MLP block: x' = xm + (silu(h2 Wg) * h2 Wu) Wdᵀ.
        try b.rmsNorm(xm, weight: layer.feedForwardNorm, eps: eps, into: h2)
        try projectForward(h2, layer: l, [(.gate, gate), (.up, up)], tokens: n, seed: seed)
        try b.swiglu(gate: gate, up: up, into: act)
        // Recomputing, the layer's output xs[l + 1] is kept already: the down projection's backward
        // needs only its adapter's dropout(act) · Aᵀ.
        if recomputing {
            try adapterDown(act, layer: l, .down, tokens: n, seed: seed)
            return
        }
        let next = v(a.xs[l + 1], d)
        try b.copy(xm, into: next, rowCopy)
        try projectForward(act, layer: l, .down, into: next, tokens: n, accumulate: true, seed: seed)
    }
}

/// What every layer's forward in one micro-batch shares: its token count, positions, packing
/// segments, attention shape and LoRA dropout seed.
struct LayerStepShape {
    let tokens: Int
    let positions: Tensor
    let segments: Tensor?
    let attention: AttentionDescriptor
    let seed: UInt64
}
