import IFTCore

/// Keys and values of every layer for the positions seen so far, on the model's backend.
public final class KVCache {
    public let capacity: Int
    public internal(set) var length = 0
    let keys: [Tensor]
    let values: [Tensor]

    init(config c: LlamaConfig, capacity: Int, backend: any Backend) throws {
        self.capacity = capacity
        let kvDim = c.kvHeadCount * c.headDim
        keys = try (0..<c.layerCount).map { _ in try backend.makeTensor(shape: [capacity, kvDim], dtype: .f32) }
        values = try (0..<c.layerCount).map { _ in try backend.makeTensor(shape: [capacity, kvDim], dtype: .f32) }
    }

    /// Forgets all positions (the memory is kept).
    public func reset() { length = 0 }
}

/// A Llama-family decoder on any backend. The forward pass reads top to bottom: embedding, then per
/// layer RMSNorm -> Q/K/V projections (+ biases, Qwen2) (-> per-head Q/K RMSNorm, Qwen3) -> RoPE
/// (scaled as configured) -> grouped-query causal attention -> output projection -> residual,
/// RMSNorm -> SwiGLU MLP -> residual; final RMSNorm and the LM head.
public final class LlamaModel {
    public let config: LlamaConfig
    public let backend: any Backend
    public let weights: LlamaWeights
    /// cos/sin of every position and frequency (see `RopeTable`).
    let ropeTable: Tensor
    /// The LM head as f32 (the tied embedding dequantized once).
    let head: Tensor
    /// Scratch for a widened f16/bf16 weight matrix (the largest such projection).
    private var weightScratch: Tensor
    /// LoRA adapters applied without merging, by the weight they adapt (see `LlamaModel+Adapter.swift`).
    var adapterSlots: [ObjectIdentifier: AdapterSlot] = [:]

    public init(config: LlamaConfig, weights: LlamaWeights, backend: any Backend, maxPositions: Int? = nil) throws {
        self.config = config
        self.weights = weights
        self.backend = backend
        let c = config
        let positions = try c.contextPositions(requested: maxPositions)
        ropeTable = try backend.tensor(try c.ropeTable(positions: positions), shape: [positions, c.headDim])
        let headSource = weights.output ?? weights.tokenEmbedding
        head = try Self.asFloat(headSource, backend)
        // Quantized projections go through matmulQuantized; only f16/bf16 ones need the scratch.
        let largest = weights.layers.flatMap { [$0.query, $0.key, $0.value, $0.output, $0.gate, $0.up, $0.down] }
            .filter { $0.dtype == .f16 || $0.dtype == .bf16 }.map(\.count).max() ?? 1
        weightScratch = try backend.makeTensor(shape: [largest], dtype: .f32)
    }

    /// Loads a GGUF model onto `backend` (`ModelFiles` also loads Hugging Face directories).
    public convenience init(gguf: GGUFFile, backend: any Backend, maxPositions: Int? = nil) throws {
        let config = try LlamaConfig(gguf: gguf)
        try self.init(
            config: config, weights: try LlamaWeights.load(gguf, config: config, on: backend), backend: backend,
            maxPositions: maxPositions)
    }

    /// `t` as f32: itself, or dequantized / widened into a new tensor.
    public static func asFloat(_ t: Tensor, _ backend: any Backend) throws -> Tensor {
        if t.dtype == .f32 { return t }
        return try floatCopy(t, backend)
    }

    /// A new f32 tensor holding `t`'s values (copied, dequantized or widened), never `t` itself:
    /// for merging an adapter into it in place.
    public static func floatCopy(_ t: Tensor, _ backend: any Backend) throws -> Tensor {
        let out = try backend.makeTensor(shape: t.shape, dtype: .f32)
        if t.dtype == .f32 {
            try backend.copy(t, into: out, CopyDescriptor(rows: 1, cols: t.count))
        } else if t.dtype.isQuantized {
            try backend.dequantize(t, into: out)
        } else {
            try backend.cast(t, into: out)
        }
        return out
    }

    public var maxPositions: Int { ropeTable.shape[0] }

    public func makeCache(capacity: Int? = nil) throws -> KVCache {
        try KVCache(config: config, capacity: min(capacity ?? maxPositions, maxPositions), backend: backend)
    }

    /// `y[T, out] = x[T, in] · Wᵀ` for a weight `W[out, in]` in any stored dtype (an attached
    /// adapter's delta comes on top in `linear`).
    func baseLinear(_ x: Tensor, _ w: Tensor, into y: Tensor, tokens: Int, accumulate: Bool = false, offsetC: Int = 0, ldc: Int? = nil) throws {
        let (outDim, inDim) = (w.shape[0], w.shape[1])
        var d = MatmulDescriptor(m: tokens, n: outDim, k: inDim, transposeB: true, beta: accumulate ? 1 : 0)
        d.offsetC = offsetC
        d.ldc = ldc ?? outDim
        if w.dtype.isQuantized {
            // Fused: the kernels read the stored blocks, no f32 copy of the weight.
            try backend.matmulQuantized(x, w, y, d)
            return
        }
        var weight = w
        if w.dtype != .f32 {
            // Widen into scratch viewed as [out, in].
            let view = Tensor(shape: [outDim, inDim], dtype: .f32, storage: weightScratch.storage)
            try backend.cast(w, into: view)  // f16 / bf16
            weight = view
        }
        try backend.matmul(x, weight, y, d)
    }

    /// Runs `tokens` at positions `cache.length ..< cache.length + tokens.count`, appends their keys
    /// and values to the cache, and returns the logits `[rows, vocab]` of the last `logitRows`
    /// positions (all of them when nil).
    ///
    /// Packed rows (several examples in one sequence) pass `positions` (restarting at 0 for each
    /// example) and `segments` (one id per example): attention then stays inside each example
    /// (block-diagonal causal), so each example's logits equal those it gets alone. Packing needs an
    /// empty cache.
    public func forward(
        _ tokens: [Int32], cache: KVCache, logitRows: Int? = nil, positions explicitPositions: [Int32]? = nil,
        segments: [Int32]? = nil
    ) throws -> Tensor {
        let c = config
        let t = tokens.count
        let start = cache.length
        guard t > 0 else { throw IFTError.invalidArgument("forward needs at least one token") }
        if let p = explicitPositions, p.count != t {
            throw IFTError.shapeMismatch("forward: \(p.count) positions for \(t) tokens")
        }
        if let p = explicitPositions, let bad = p.first(where: { $0 < 0 || Int($0) >= maxPositions }) {
            throw IFTError.invalidArgument("position \(bad) is outside the model's context (0..<\(maxPositions))")
        }
        if let s = segments {
            guard s.count == t else { throw IFTError.shapeMismatch("forward: \(s.count) segment ids for \(t) tokens") }
            guard start == 0 else { throw IFTError.invalidArgument("packed sequences (segments) need an empty KV cache") }
        }
        guard start + t <= cache.capacity else {
            throw IFTError.invalidArgument("\(start + t) positions exceed the KV cache capacity \(cache.capacity)")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
            throw IFTError.invalidArgument("token id \(bad) is outside the vocabulary (0..<\(c.vocabSize))")
        }
        let d = c.hiddenSize, qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        let b = backend
        let ids = try b.makeTensor(shape: [t], dtype: .i32)
        try tokens.withUnsafeBytes { try b.write(ids, from: $0) }
        let positions = try b.makeTensor(shape: [t], dtype: .i32)
        try (explicitPositions ?? (0..<t).map { Int32(start + $0) }).withUnsafeBytes { try b.write(positions, from: $0) }
        let segmentIDs = try segments.map { s -> Tensor in
            let tensor = try b.makeTensor(shape: [1, t], dtype: .i32)
            try s.withUnsafeBytes { try b.write(tensor, from: $0) }
            return tensor
        }

        let x = try b.makeTensor(shape: [t, d], dtype: .f32)  // the residual stream
        let h = try b.makeTensor(shape: [t, d], dtype: .f32)
        let q = try b.makeTensor(shape: [t, qDim], dtype: .f32)
        let k = try b.makeTensor(shape: [t, kvDim], dtype: .f32)
        let attn = try b.makeTensor(shape: [t, qDim], dtype: .f32)
        let gate = try b.makeTensor(shape: [t, c.intermediateSize], dtype: .f32)
        let up = try b.makeTensor(shape: [t, c.intermediateSize], dtype: .f32)
        let eps = Float(c.rmsNormEps)
        let qRope = RopeDescriptor(heads: c.headCount, headDim: c.headDim, tokens: t)
        let kRope = RopeDescriptor(heads: c.kvHeadCount, headDim: c.headDim, tokens: t)
        var attention = AttentionDescriptor(
            batch: 1, queryLength: t, keyLength: start + t, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
        attention.kvBatchStride = cache.capacity * kvDim

        let ones = try biasOnes(tokens: t)
        try b.embedding(weights.tokenEmbedding, ids: ids, into: x)
        for (i, layer) in weights.layers.enumerated() {
            // Attention block.
            try b.rmsNorm(x, weight: layer.attentionNorm, eps: eps, into: h)
            try attentionInputs(h, layer, q: q, k: k, v: cache.values[i], vOffset: start * kvDim, tokens: t, ones: ones)
            try b.rope(q, positions: positions, table: ropeTable, qRope, into: q)
            try b.rope(k, positions: positions, table: ropeTable, kRope, into: k)
            try b.copy(k, into: cache.keys[i], CopyDescriptor(rows: t, cols: kvDim, dstOffset: start * kvDim))
            try b.attention(q: q, k: cache.keys[i], v: cache.values[i], into: attn, logSumExp: nil, segments: segmentIDs, attention)
            try linear(attn, layer.output, into: x, tokens: t, accumulate: true)  // x += attn · Woᵀ (+ bo)
            try addBias(layer.outputBias, ones: ones, into: x, tokens: t)
            // MLP block.
            try b.rmsNorm(x, weight: layer.feedForwardNorm, eps: eps, into: h)
            try linear(h, layer.gate, into: gate, tokens: t)
            try linear(h, layer.up, into: up, tokens: t)
            try b.swiglu(gate: gate, up: up, into: gate)
            try linear(gate, layer.down, into: x, tokens: t, accumulate: true)  // x += swiglu · Wdownᵀ
        }
        cache.length = start + t

        let rows = min(logitRows ?? t, t)
        try b.rmsNorm(x, weight: weights.outputNorm, eps: eps, into: h)
        let logits = try b.makeTensor(shape: [rows, c.vocabSize], dtype: .f32)
        var lm = MatmulDescriptor(m: rows, n: c.vocabSize, k: d, transposeB: true)
        lm.offsetA = (t - rows) * d
        try b.matmul(h, head, logits, lm)
        return logits
    }
}
