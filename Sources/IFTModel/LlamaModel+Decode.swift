import IFTCore

extension LlamaModel {
    /// One decoding step for several sequences at once: `tokens[s]` is sequence `s`'s next token,
    /// at position `caches[s].length`; its keys and values are appended to `caches[s]`. Returns
    /// the logits `[B, vocab]`, row `s` for sequence `s`.
    ///
    /// The projections, MLP and LM head run as one `[B, ·]` matmul (each weight is read once for
    /// all B tokens, which is what makes batched decoding faster than B single steps); RoPE uses each
    /// sequence's own position, and attention runs per sequence against its own cache. Row `s` equals
    /// what `forward([tokens[s]], cache: caches[s])` gives, up to the matmul's summation order.
    public func decodeStep(_ tokens: [Int32], caches: [KVCache]) throws -> Tensor {
        let c = config
        let n = tokens.count
        guard n > 0, caches.count == n else {
            throw IFTError.invalidArgument("decodeStep: \(n) tokens for \(caches.count) caches (need one token per cache)")
        }
        if let full = caches.first(where: { $0.length + 1 > $0.capacity }) {
            throw IFTError.invalidArgument("decodeStep: a KV cache is full (\(full.length) of \(full.capacity) positions)")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
            throw IFTError.invalidArgument("token id \(bad) is outside the vocabulary (0..<\(c.vocabSize))")
        }
        let d = c.hiddenSize, qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        let b = backend
        let ids = try b.makeTensor(shape: [n], dtype: .i32)
        try tokens.withUnsafeBytes { try b.write(ids, from: $0) }
        let positions = try b.makeTensor(shape: [n], dtype: .i32)
        try caches.map { Int32($0.length) }.withUnsafeBytes { try b.write(positions, from: $0) }

        let x = try b.makeTensor(shape: [n, d], dtype: .f32)  // the residual stream
        let h = try b.makeTensor(shape: [n, d], dtype: .f32)
        let q = try b.makeTensor(shape: [n, qDim], dtype: .f32)
        let k = try b.makeTensor(shape: [n, kvDim], dtype: .f32)
        let v = try b.makeTensor(shape: [n, kvDim], dtype: .f32)
        let attn = try b.makeTensor(shape: [n, qDim], dtype: .f32)
        let gate = try b.makeTensor(shape: [n, c.intermediateSize], dtype: .f32)
        let up = try b.makeTensor(shape: [n, c.intermediateSize], dtype: .f32)
        let eps = Float(c.rmsNormEps)
        let qRope = RopeDescriptor(heads: c.headCount, headDim: c.headDim, tokens: n)
        let kRope = RopeDescriptor(heads: c.kvHeadCount, headDim: c.headDim, tokens: n)

        let ones = try biasOnes(tokens: n)
        try b.embedding(weights.tokenEmbedding, ids: ids, into: x)
        for (i, layer) in weights.layers.enumerated() {
            try b.rmsNorm(x, weight: layer.attentionNorm, eps: eps, into: h)
            try attentionInputs(h, layer, q: q, k: k, v: v, vOffset: 0, tokens: n, ones: ones)
            try b.rope(q, positions: positions, table: ropeTable, qRope, into: q)
            try b.rope(k, positions: positions, table: ropeTable, kRope, into: k)
            for (s, cache) in caches.enumerated() {
                let row = CopyDescriptor(rows: 1, cols: kvDim, srcOffset: s * kvDim, dstOffset: cache.length * kvDim)
                try b.copy(k, into: cache.keys[i], row)
                try b.copy(v, into: cache.values[i], row)
                var a = AttentionDescriptor(
                    queryLength: 1, keyLength: cache.length + 1, heads: c.headCount, kvHeads: c.kvHeadCount,
                    headDim: c.headDim, kvBatchStride: cache.capacity * kvDim)
                a.qOffset = s * qDim
                a.outOffset = s * qDim
                try b.attention(q: q, k: cache.keys[i], v: cache.values[i], into: attn, logSumExp: nil, segments: nil, a)
            }
            try linear(attn, layer.output, into: x, tokens: n, accumulate: true)
            try addBias(layer.outputBias, ones: ones, into: x, tokens: n)
            try b.rmsNorm(x, weight: layer.feedForwardNorm, eps: eps, into: h)
            try linear(h, layer.gate, into: gate, tokens: n)
            try linear(h, layer.up, into: up, tokens: n)
            try b.swiglu(gate: gate, up: up, into: gate)
            try linear(gate, layer.down, into: x, tokens: n, accumulate: true)
        }
        for cache in caches { cache.length += 1 }
        try b.rmsNorm(x, weight: weights.outputNorm, eps: eps, into: h)
        let logits = try b.makeTensor(shape: [n, c.vocabSize], dtype: .f32)
        try b.matmul(h, head, logits, MatmulDescriptor(m: n, n: c.vocabSize, k: d, transposeB: true))
        return logits
    }
}
