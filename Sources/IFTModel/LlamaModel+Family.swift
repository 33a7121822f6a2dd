import IFTCore

/// The parts of the attention block where the families differ (see `ModelFamily`): biases on the
/// projections (Qwen2) and per-head RMSNorm of queries and keys before RoPE (Qwen3). Shared by
/// `forward` and `decodeStep`.
extension LlamaModel {
    /// A `[tokens, 1]` column of ones when the model has projection biases (they are added as
    /// `y += ones · biasᵀ`, a rank-1 matmul that writes at any offset and row stride, such as a
    /// KV-cache row); nil otherwise.
    func biasOnes(tokens: Int) throws -> Tensor? {
        guard config.qkvBias || config.outputBias else { return nil }
        return try backend.tensor([Float](repeating: 1, count: tokens), shape: [tokens, 1])
    }

    /// `y[r, :] += bias` for `tokens` rows starting at element `offsetC`, `ldc` apart.
    func addBias(_ bias: Tensor?, ones: Tensor?, into y: Tensor, tokens: Int, offsetC: Int = 0, ldc: Int? = nil) throws {
        guard let bias, let ones else { return }
        var d = MatmulDescriptor(m: tokens, n: bias.count, k: 1, beta: 1)
        d.offsetC = offsetC
        d.ldc = ldc ?? bias.count
        try backend.matmul(ones, bias, y, d)
    }

    /// Queries, keys and values of `tokens` normalized rows `h`, before RoPE: `q = h Wqᵀ (+ bq)`,
    /// `k = h Wkᵀ (+ bk)`, then Qwen3's per-head RMSNorm of each; `v = h Wvᵀ (+ bv)` written at
    /// element `vOffset` of `v` (a KV cache).
    func attentionInputs(
        _ h: Tensor, _ layer: LlamaLayerWeights, q: Tensor, k: Tensor, v: Tensor, vOffset: Int, tokens: Int, ones: Tensor?
    ) throws {
        let c = config
        let kvDim = c.kvHeadCount * c.headDim
        try linear(h, layer.query, into: q, tokens: tokens)
        try linear(h, layer.key, into: k, tokens: tokens)
        try linear(h, layer.value, into: v, tokens: tokens, offsetC: vOffset, ldc: kvDim)
        try addBias(layer.queryBias, ones: ones, into: q, tokens: tokens)
        try addBias(layer.keyBias, ones: ones, into: k, tokens: tokens)
        try addBias(layer.valueBias, ones: ones, into: v, tokens: tokens, offsetC: vOffset, ldc: kvDim)
        let eps = Float(c.rmsNormEps)
        if let w = layer.queryNorm {
            let rows = Tensor(shape: [tokens * c.headCount, c.headDim], dtype: .f32, storage: q.storage)
            try backend.rmsNorm(rows, weight: w, eps: eps, into: rows)
        }
        if let w = layer.keyNorm {
            let rows = Tensor(shape: [tokens * c.kvHeadCount, c.headDim], dtype: .f32, storage: k.storage)
            try backend.rmsNorm(rows, weight: w, eps: eps, into: rows)
        }
    }
}
