import IFTCPU
import IFTCore
import IFTModel

/// A Llama-family model set up for training on one backend: the frozen or trainable weights, the
/// trainable `parameters` (with gradients and AdamW moments), and the activations a training step
/// keeps for its backward pass.
///
/// - `full`: every weight is an f32 parameter (quantized GGUF weights are dequantized once).
/// - `lora`: the base is frozen in f32; each targeted projection gets an adapter (A, B).
/// - `qlora`: the base projections stay 4-bit — the GGUF's own Q4_0/Q4_1/Q4_K blocks as loaded, or
///   NF4 made from float weights — and the kernels dequantize them; adapters as in `lora`.
///
/// The step itself reads top to bottom in `TrainableLlama+Step.swift`.
public final class TrainableLlama {
    public let config: LlamaConfig
    public let backend: any Backend
    public let mode: TrainingMode
    public let lora: LoRAConfig?
    /// Every trainable tensor, in a fixed order (checkpoints, the optimizer and the global norm use it).
    public private(set) var parameters: [Parameter] = []

    struct Layer {
        var attentionNorm: Tensor
        var feedForwardNorm: Tensor
        /// Base projection weights `[out, in]`, f32 or quantized.
        var weights: [Projection: Tensor]
        /// Full fine-tuning: the parameters behind `weights` and the norms.
        var weightParameters: [Projection: Parameter] = [:]
        var attentionNormParameter: Parameter?
        var feedForwardNormParameter: Parameter?
        var adapters: [Projection: LoRAAdapter] = [:]
        /// Projection biases `[out]` (f32; Qwen2's Q/K/V), and their parameters in full fine-tuning
        /// (LoRA and QLoRA keep them frozen, as PEFT's `bias="none"`).
        var biases: [Projection: Tensor] = [:]
        var biasParameters: [Projection: Parameter] = [:]
        /// Qwen3's per-head Q/K RMSNorm weights `[headDim]`, and their parameters in full fine-tuning.
        var queryNorm: Tensor?, keyNorm: Tensor?
        var queryNormParameter: Parameter?, keyNormParameter: Parameter?
    }

    var layers: [Layer] = []
    /// Token embedding (any stored dtype; f32 when trained).
    var embedding: Tensor
    var embeddingParameter: Parameter?
    var outputNorm: Tensor
    var outputNormParameter: Parameter?
    /// The LM head `[vocab, d]` in f32 (the tied embedding, or the separate output weight).
    var head: Tensor
    /// The parameter whose gradient receives the LM head's (the embedding's when tied); nil when frozen.
    var headParameter: Parameter?
    /// Whether `head` is a separate output weight (untied model).
    let hasSeparateHead: Bool
    let ropeTable: Tensor
    var activations: Activations?

    /// Activation checkpointing: a training step keeps only each layer's input (and one layer's
    /// worth of the other activations) and recomputes each layer's forward from its input right
    /// before the layer's backward — about one more forward pass of time for much less activation
    /// memory, with bit-identical gradients. Changing it frees the activations (reallocated by the
    /// next step).
    public var checkpointActivations = false {
        didSet { if checkpointActivations != oldValue { activations = nil } }
    }

    /// Bytes of the activations (and the backward's scratch) that the last step allocated; 0 before
    /// the first step.
    public var activationBytes: Int { activations?.byteCount ?? 0 }

    /// Sets up `weights` (as loaded by `LlamaWeights`) for `mode`. LoRA adapters start as PEFT's:
    /// A uniform in ±1/sqrt(in) (kaiming-uniform with a = sqrt 5), B zero, from `seed`.
    public init(
        config: LlamaConfig, weights: LlamaWeights, backend: any Backend, mode: TrainingMode, lora: LoRAConfig? = nil,
        seed: UInt64 = 0, maxPositions: Int? = nil
    ) throws {
        self.config = config
        self.backend = backend
        self.mode = mode
        let c = config
        if mode != .full {
            var l = lora ?? LoRAConfig()
            try l.validate()
            l.targets = try c.family.loraTargets(l.targets)
            self.lora = l
        } else {
            self.lora = nil
        }
        let positions = try c.contextPositions(requested: maxPositions)
        ropeTable = try backend.tensor(try c.ropeTable(positions: positions), shape: [positions, c.headDim])

        let b = backend
        func float(_ t: Tensor) throws -> Tensor { try LlamaModel.asFloat(t, b) }
        embedding = mode == .full ? try float(weights.tokenEmbedding) : weights.tokenEmbedding
        hasSeparateHead = weights.output != nil
        outputNorm = try float(weights.outputNorm)
        head = weights.output != nil ? try float(weights.output!) : (mode == .full ? embedding : try float(weights.tokenEmbedding))
        // Tied and frozen: the f32 head doubles as the lookup table (widening f16/bf16 is exact), one copy instead of two.
        if mode != .full, !hasSeparateHead, embedding.dtype.isFloat { embedding = head }
        var params: [Parameter] = []
        if mode == .full {
            let e = try Parameter(name: "model.embed_tokens.weight", value: embedding, decays: true, backend: b)
            embeddingParameter = e
            params.append(e)
        }
        var rng = SeededGenerator(seed: seed)
        for (i, lw) in weights.layers.enumerated() {
            let prefix = "model.layers.\(i)."
            var layer = Layer(
                attentionNorm: try float(lw.attentionNorm), feedForwardNorm: try float(lw.feedForwardNorm), weights: [:])
            let stored = try Self.trainedProjections(lw, family: c.family, backend: b)
            if mode == .full {
                let n1 = try Parameter(name: prefix + "input_layernorm.weight", value: layer.attentionNorm, decays: false, backend: b)
                layer.attentionNormParameter = n1
                params.append(n1)
            }
            for p in Projection.allCases {
                guard let w = stored[p] else { continue }
                switch mode {
                case .full:
                    let f = try float(w)
                    layer.weights[p] = f
                    let param = try Parameter(name: prefix + p.modulePath + ".weight", value: f, decays: true, backend: b)
                    layer.weightParameters[p] = param
                    params.append(param)
                case .lora:
                    layer.weights[p] = try float(w)
                case .qlora:
                    layer.weights[p] = try Self.asFourBit(w, b)
                }
                if let l = self.lora, l.targets.contains(p) {
                    let (outDim, inDim) = (w.shape[0], w.shape[1])
                    let bound = 1 / Float(inDim).squareRoot()
                    let a = try Parameter(
                        name: prefix + p.modulePath + ".lora_A.weight",
                        value: try b.tensor(rng.uniformArray(l.rank * inDim, -bound, bound), shape: [l.rank, inDim]),
                        decays: true, backend: b)
                    let bb = try Parameter(
                        name: prefix + p.modulePath + ".lora_B.weight",
                        value: try b.makeTensor(shape: [outDim, l.rank], dtype: .f32), decays: true, backend: b)
                    layer.adapters[p] = LoRAAdapter(a: a, b: bb)
                    params.append(a)
                    params.append(bb)
                }
            }
            try Self.addFamilyParts(lw, to: &layer, prefix: prefix, mode: mode, params: &params, backend: b)
            if mode == .full {
                let n2 = try Parameter(
                    name: prefix + "post_attention_layernorm.weight", value: layer.feedForwardNorm, decays: false, backend: b)
                layer.feedForwardNormParameter = n2
                params.append(n2)
            }
            layers.append(layer)
        }
        if mode == .full {
            let n = try Parameter(name: "model.norm.weight", value: outputNorm, decays: false, backend: b)
            outputNormParameter = n
            params.append(n)
            if weights.output != nil {
                let h = try Parameter(name: "lm_head.weight", value: head, decays: true, backend: b)
                headParameter = h
                params.append(h)
            } else {
                headParameter = embeddingParameter
            }
        }
        parameters = params
    }

    /// Loads a GGUF or Hugging Face model directory for training; for `qlora` the projections are
    /// quantized to NF4 while they stream in from the file (`ProjectionFormat.fourBit`), never
    /// held in full precision.
    public convenience init(
        files: ModelFiles, backend: any Backend, mode: TrainingMode, lora: LoRAConfig? = nil, seed: UInt64 = 0,
        maxPositions: Int? = nil
    ) throws {
        try self.init(
            config: files.config, weights: try files.loadWeights(on: backend, projections: mode == .qlora ? .fourBit : .stored),
            backend: backend, mode: mode, lora: lora, seed: seed,
            maxPositions: maxPositions)
    }

    public var maxPositions: Int { ropeTable.shape[0] }

    /// Elements held by trainable parameters.
    public var trainableCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Bytes of the base weights as stored for training (frozen or not), not counting optimizer state.
    public var baseWeightBytes: Int {
        var total = embedding.byteCount + outputNorm.byteCount + (head === embedding ? 0 : head.byteCount)
        for l in layers {
            total += l.attentionNorm.byteCount + l.feedForwardNorm.byteCount + l.weights.values.reduce(0) { $0 + $1.byteCount }
            total += l.biases.values.reduce(0) { $0 + $1.byteCount } + (l.queryNorm?.byteCount ?? 0) + (l.keyNorm?.byteCount ?? 0)
        }
        return total
    }

    /// The parameter named `name`, if trainable.
    public func parameter(named name: String) -> Parameter? { parameters.first { $0.name == name } }


    /// QLoRA's frozen base: 4-bit blocks the kernels read (Q4_0, Q4_1, Q4_K, NF4) are kept as they
    /// are; anything else becomes NF4 (blocks of 64 along the input dimension).
    static func asFourBit(_ t: Tensor, _ backend: any Backend) throws -> Tensor {
        if LlamaWeights.fourBitTypes.contains(t.dtype) { return t }
        guard let cols = t.shape.last, cols % DType.nf4.blockSize == 0 else { throw LlamaWeights.notNF4Compatible("\(t)") }
        let f = try backend.floats(try LlamaModel.asFloat(t, backend))
        return try backend.tensor(bytes: try Reference.quantize(.nf4, f), shape: t.shape, dtype: .nf4)
    }

    /// Sets every gradient to zero (before accumulating a new step).
    public func zeroGradients() throws {
        for p in parameters { try backend.scale(p.grad, by: 0, into: p.grad) }
    }

    /// Copies parameter values from host arrays by name (fixtures, checkpoints).
    public func setParameter(_ name: String, _ values: [Float]) throws {
        guard let p = parameter(named: name) else {
            throw IFTError.invalidArgument("no trainable parameter named '\(name)'")
        }
        guard values.count == p.value.count else {
            throw IFTError.shapeMismatch("parameter \(name) has \(p.value.count) elements (shape \(p.value.shape)), got \(values.count)")
        }
        try values.withUnsafeBytes { try backend.write(p.value, from: $0) }
    }
}
