import IFTCore

/// One projection's LoRA adapter on the model's backend: A `[r, in]`, B `[out, r]` and the factor.
final class AdapterSlot {
    let a: Tensor
    let b: Tensor
    let rank: Int
    let scale: Float

    init(a: Tensor, b: Tensor, rank: Int, scale: Float) {
        self.a = a
        self.b = b
        self.rank = rank
        self.scale = scale
    }
}

/// A LoRA adapter applied without merging: each adapted projection computes
/// `y = x · Wᵀ + scale · (x · Aᵀ) · Bᵀ`, the base weight untouched (a quantized base stays quantized),
/// on whatever backend the model runs. `forward` and `decodeStep` (so `Generator`, `BatchGenerator`
/// and the server) all go through `linear`.
extension LlamaModel {
    /// Attaches `adapter` (checked against the model's config): from now on every forward pass adds
    /// its deltas. Replaces a previously attached adapter.
    public func attach(_ adapter: LoRAAdapterWeights) throws {
        try adapter.validate(against: config)
        var slots: [ObjectIdentifier: AdapterSlot] = [:]
        for (i, layer) in adapter.layers.enumerated() {
            for (p, pair) in adapter.splitPairs(layer, rows: { weights.layers[i][$0].shape[0] }) {
                let w = weights.layers[i][p]
                let (outDim, inDim) = (w.shape[0], w.shape[1])
                slots[ObjectIdentifier(w)] = AdapterSlot(
                    a: try backend.tensor(pair.a, shape: [adapter.rank, inDim]),
                    b: try backend.tensor(pair.b, shape: [outDim, adapter.rank]), rank: adapter.rank, scale: adapter.scale)
            }
        }
        adapterSlots = slots
    }

    /// Removes the attached adapter.
    public func detachAdapter() { adapterSlots = [:] }

    /// Whether an adapter is attached.
    public var hasAdapter: Bool { !adapterSlots.isEmpty }

    /// `y (+)= x · Wᵀ`, plus the attached adapter's `scale · (x · Aᵀ) · Bᵀ` for this weight.
    func linear(_ x: Tensor, _ w: Tensor, into y: Tensor, tokens: Int, accumulate: Bool = false, offsetC: Int = 0, ldc: Int? = nil) throws {
        try baseLinear(x, w, into: y, tokens: tokens, accumulate: accumulate, offsetC: offsetC, ldc: ldc)
        guard let slot = adapterSlots[ObjectIdentifier(w)] else { return }
        let (outDim, inDim) = (w.shape[0], w.shape[1])
        let xa = try backend.makeTensor(shape: [tokens, slot.rank], dtype: .f32)
        try backend.matmul(x, slot.a, xa, MatmulDescriptor(m: tokens, n: slot.rank, k: inDim, transposeB: true))
        var d = MatmulDescriptor(m: tokens, n: outDim, k: slot.rank, transposeB: true, alpha: slot.scale, beta: 1)
        d.offsetC = offsetC
        d.ldc = ldc ?? outDim
        try backend.matmul(xa, slot.b, y, d)
    }
}
