import IFTCore
import IFTModel

/// What a training step keeps from its forward pass for the backward pass, plus the backward's
/// scratch, allocated once for up to `capacity` tokens (batch x length) and viewed at the size of
/// each batch (tensors share storage from element 0, so smaller batches reuse the memory).
///
/// With `checkpointing` (activation checkpointing) only the layer inputs `xs` are kept per layer:
/// every other per-layer entry is the same single tensor (one layer's worth), which the backward
/// refills by recomputing each layer from its input just before that layer's backward.
final class Activations {
    let capacity: Int
    let rank: Int
    let checkpointing: Bool
    /// Bytes of every tensor allocated here (each shared tensor once).
    let byteCount: Int
    // Per layer (index l): the layer's input xs[l] (xs[layerCount] is the final residual), its
    // normalized inputs, post-RoPE q/k, v, attention output and log-sum-exp, the residual after
    // attention, the MLP's gate/up/activation, and each adapter's `x · Aᵀ`.
    let xs: [Tensor]
    let h1: [Tensor], q: [Tensor], k: [Tensor], v: [Tensor], att: [Tensor], lse: [Tensor]
    let xm: [Tensor], h2: [Tensor], gate: [Tensor], up: [Tensor], act: [Tensor]
    let xa: [[Projection: Tensor]]
    /// Qwen3: the Q/K projections before the per-head RMSNorm (empty for other families), and the
    /// backward's gradients of them.
    let qRaw: [Tensor], kRaw: [Tensor]
    let dqRaw: Tensor, dkRaw: Tensor
    /// Output (forward) or output gradient (backward) of a fused projection, `[tokens, widest fused]`
    /// (Phi-3's qkv_proj / gate_up_proj; one element otherwise).
    let fused: Tensor
    /// `[tokens, 1]` ones: projection biases are added (and their gradients summed) as rank-1 matmuls.
    let ones: Tensor
    let hf: Tensor
    // Backward scratch.
    let dx: Tensor, dtmp: Tensor, dh: Tensor, dq: Tensor, dk: Tensor, dv: Tensor, datt: Tensor
    let dgate: Tensor, dup: Tensor, dact: Tensor, dxa: Tensor
    /// Dropout output / the adapter's input gradient, `[tokens, max(d, ffn)]`.
    let dropped: Tensor, loraInputGrad: Tensor
    /// A frozen quantized (or f16) weight dequantized for the backward's `dy · W`.
    let weightScratch: Tensor
    let ids: Tensor, positions: Tensor, segments: Tensor
    /// The LM head and loss run over row chunks of `chunkRows` so the logits never exceed one chunk.
    let chunkRows: Int
    let logits: Tensor
    let chunkTargets: [Tensor]
    let chunkLosses: [Tensor]

    init(model m: TrainableLlama, capacity n: Int, checkpointing: Bool = false) throws {
        let c = m.config, b = m.backend
        capacity = n
        rank = m.lora?.rank ?? 0
        self.checkpointing = checkpointing
        let d = c.hiddenSize, f = c.intermediateSize
        let qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        var bytes = 0
        func counted(_ t: Tensor) -> Tensor {
            bytes += t.byteCount
            return t
        }
        func t(_ shape: [Int], _ dtype: DType = .f32) throws -> Tensor { counted(try b.makeTensor(shape: shape, dtype: dtype)) }
        /// One tensor per layer, or (checkpointing) one tensor for all layers.
        func eachLayer<T>(_ make: () throws -> T) rethrows -> [T] {
            if checkpointing { return Array(repeating: try make(), count: c.layerCount) }
            return try (0..<c.layerCount).map { _ in try make() }
        }
        func perLayer(_ shape: [Int]) throws -> [Tensor] { try eachLayer { try t(shape) } }
        xs = try (0...c.layerCount).map { _ in try t([n, d]) }
        h1 = try perLayer([n, d])
        q = try perLayer([n, qDim])
        k = try perLayer([n, kvDim])
        v = try perLayer([n, kvDim])
        att = try perLayer([n, qDim])
        lse = try perLayer([n * c.headCount])
        xm = try perLayer([n, d])
        h2 = try perLayer([n, d])
        gate = try perLayer([n, f])
        up = try perLayer([n, f])
        act = try perLayer([n, f])
        let adapted = Set(m.layers.flatMap(\.adapters.keys))
        xa = try eachLayer { try Dictionary(uniqueKeysWithValues: adapted.map { ($0, try t([n, m.lora?.rank ?? 1])) }) }
        let norms = c.qkNorm
        qRaw = norms ? try perLayer([n, qDim]) : []
        kRaw = norms ? try perLayer([n, kvDim]) : []
        dqRaw = try t([norms ? n * qDim : 1])
        dkRaw = try t([norms ? n * kvDim : 1])
        ones = counted(try b.tensor([Float](repeating: 1, count: c.qkvBias || c.outputBias ? n : 1), shape: [c.qkvBias || c.outputBias ? n : 1]))
        fused = try t([n * (m.layers.flatMap { $0.weights.filter { $0.key.isFused }.map { $0.value.shape[0] } }.max() ?? 0) + 1])
        hf = try t([n, d])
        dx = try t([n, d])
        dtmp = try t([n, d])
        dh = try t([n, d])
        dq = try t([n, qDim])
        dk = try t([n, kvDim])
        dv = try t([n, kvDim])
        datt = try t([n, qDim])
        dgate = try t([n, f])
        dup = try t([n, f])
        dact = try t([n, f])
        dxa = try t([n, max(rank, 1)])
        let widest = max(d, f, qDim)
        let dropout = (m.lora?.dropout ?? 0) > 0
        dropped = try t([dropout ? n * widest : 1])
        loraInputGrad = try t([dropout ? n * widest : 1])
        let frozenNonF32 = m.layers.flatMap { $0.weights.values }.filter { $0.dtype != .f32 }.map(\.count).max() ?? 1
        weightScratch = try t([frozenNonF32])
        ids = try t([n], .i32)
        positions = try t([n], .i32)
        segments = try t([n], .i32)
        // 64 MiB of logits at most: one storage binding on every device.
        // At most 16 Mi logits per chunk, and chunks of equal size (1024 tokens with a 49152 vocabulary:
        // 4 x 256, not 341 + 341 + 341 + 1, which would cost a whole extra pass over the head).
        let most = max(1, min(n, (16 << 20) / c.vocabSize))
        let chunkCount = (n + most - 1) / most
        let rows = (n + chunkCount - 1) / chunkCount
        chunkRows = rows
        logits = try t([rows, c.vocabSize])
        let chunks = (n + rows - 1) / rows
        chunkTargets = try (0..<chunks).map { i in try t([min(rows, n - i * rows)], .i32) }
        chunkLosses = try (0..<chunks).map { i in try t([min(rows, n - i * rows)]) }
        byteCount = bytes
    }
}

/// `t` viewed with a smaller (or equal) shape from element 0.
func view(_ t: Tensor, _ shape: [Int]) -> Tensor {
    Tensor(shape: shape, dtype: t.dtype, storage: t.storage)
}
