import IFTCore

extension LlamaConfig {
    // MARK: - GGUF metadata

    /// The `{arch}.*` metadata keys read (or harmless); any other key under the architecture's
    /// prefix is an error naming it.
    static let ggufKnownKeys: Set<String> = [
        "vocab_size", "context_length", "embedding_length", "block_count", "feed_forward_length",
        "attention.head_count", "attention.head_count_kv", "attention.key_length", "attention.value_length",
        "attention.layer_norm_rms_epsilon", "rope.dimension_count", "rope.freq_base", "rope.scale_linear",
        "rope.scaling.type", "rope.scaling.factor", "rope.scaling.original_context_length", "rope.scaling.finetuned",
        "rope.scaling.attn_factor", "rope.scaling.yarn_attn_factor", "rope.scaling.yarn_ext_factor",
        "rope.scaling.yarn_beta_fast", "rope.scaling.yarn_beta_slow", "expert_count", "expert_used_count",
        "attention.sliding_window", "tensor_data_layout",
    ]

    /// From GGUF metadata: `general.architecture` (`llama`, `qwen2`, `qwen3` or `phi3`) names the key
    /// prefix; `{arch}.embedding_length`, `.block_count`, `.feed_forward_length`,
    /// `.attention.head_count`, `.attention.head_count_kv` (default: head_count),
    /// `.rope.freq_base` (default 10000), `.attention.layer_norm_rms_epsilon` (default 1e-5),
    /// `.context_length`, `.vocab_size` or the length of `tokenizer.ggml.tokens`,
    /// `.attention.key_length` (default width / heads); bos from `tokenizer.ggml.bos_token_id`,
    /// end-of-generation ids from `tokenizer.ggml.eos_token_id` / `eot_token_id` / `eom_token_id`;
    /// tied embeddings when the file has no `output.weight` tensor.
    ///
    /// RoPE scaling: `.rope.scaling.type` `linear` (`.rope.scaling.factor`, or the older
    /// `.rope.scale_linear`) or `yarn` (`.factor`, `.original_context_length`, `.yarn_beta_fast`,
    /// `.yarn_beta_slow`; llama.cpp's attention factor `.attn_factor` multiplies YaRN's default
    /// `1 + 0.1 ln(factor)`), and the `rope_freqs.weight` tensor (Llama 3.x, as llama.cpp's
    /// converter writes it). Qwen2's Q/K/V biases and Qwen3's `attn_q_norm`/`attn_k_norm` come
    /// with the architecture; a llama-architecture file with `blk.0.attn_q.bias` has attention
    /// biases. Phi-3: LongRoPE from `rope_factors_short/long.weight` (`ggufLongRope`), sliding window 0
    /// for none.
    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata
        let arch = try m.stringIfPresent("general.architecture") ?? "llama"
        func fail(_ key: String, _ message: String) -> IFTError {
            IFTError.file(path: gguf.path, location: "metadata key \(key)", message: message)
        }
        let family: ModelFamily
        switch arch {
        case "llama": family = .llama
        case "qwen2": family = .qwen2
        case "qwen3": family = .qwen3
        case "phi3": family = .phi3
        default:
            throw fail("general.architecture", "architecture '\(arch)' is not supported (supported: llama, qwen2, qwen3, phi3)")
        }
        let p = arch + "."
        for key in m.keys where key.hasPrefix(p) && !Self.ggufKnownKeys.contains(String(key.dropFirst(p.count))) {
            throw fail(key, "not understood by this engine (it may change the model's math)")
        }
        for key in ["expert_count", "expert_used_count"] {
            if let n = try m.intIfPresent(p + key), n != 0 { throw fail(p + key, "mixture-of-experts models are not supported") }
        }
        var vocab = try m.intIfPresent(p + "vocab_size")
        if vocab == nil, let tokens = m["tokenizer.ggml.tokens"] {
            guard let n = tokens.arrayValue?.count else {
                throw fail("tokenizer.ggml.tokens", "expected an array of strings, found \(tokens.typeName)")
            }
            vocab = n
        }
        guard let vocab else {
            throw fail(p + "vocab_size", "missing, and there is no tokenizer.ggml.tokens array to count")
        }
        let context = try m.int(p + "context_length")
        var scaling: RopeScaling?
        let scalingType = try m.stringIfPresent(p + "rope.scaling.type") ?? "none"
        switch scalingType {
        case "none":
            if let f = try m.doubleIfPresent(p + "rope.scale_linear"), f != 1 {
                scaling = RopeScaling(type: "linear", factor: f, parameters: ["factor": f])
            }
        case "linear":
            guard let f = try m.doubleIfPresent(p + "rope.scaling.factor") ?? m.doubleIfPresent(p + "rope.scale_linear") else {
                throw fail(p + "rope.scaling.factor", "missing (needed by linear RoPE scaling)")
            }
            scaling = RopeScaling(type: "linear", factor: f, parameters: ["factor": f])
        case "yarn":
            guard let f = try m.doubleIfPresent(p + "rope.scaling.factor") else {
                throw fail(p + "rope.scaling.factor", "missing (needed by YaRN)")
            }
            if let e = try m.doubleIfPresent(p + "rope.scaling.yarn_ext_factor"), e != 1, e >= 0 {
                throw fail(p + "rope.scaling.yarn_ext_factor", "YaRN extrapolation factor \(e) is not supported (only 1)")
            }
            var params: [String: Double] = ["factor": f]
            params["original_max_position_embeddings"] = Double(try m.intIfPresent(p + "rope.scaling.original_context_length") ?? context)
            if let b = try m.doubleIfPresent(p + "rope.scaling.yarn_beta_fast") { params["beta_fast"] = b }
            if let b = try m.doubleIfPresent(p + "rope.scaling.yarn_beta_slow") { params["beta_slow"] = b }
            let llamaCppFactor = try m.doubleIfPresent(p + "rope.scaling.attn_factor") ?? m.doubleIfPresent(p + "rope.scaling.yarn_attn_factor") ?? 1
            params["attention_factor"] = llamaCppFactor * RopeTable.Scaling.yarnMscale(f)
            scaling = RopeScaling(type: "yarn", factor: f, parameters: params)
        default:
            throw fail(p + "rope.scaling.type", "RoPE scaling '\(scalingType)' is not supported (supported: none, linear, yarn, and llama.cpp's rope_freqs tensor)")
        }
        if let longrope = try Self.ggufLongRope(gguf, prefix: p, context: context) {
            if scaling != nil { throw fail(p + "rope.scaling.type", "both '\(scalingType)' and LongRoPE factor tensors are given") }
            scaling = longrope
        }
        // End of generation: eos, then end-of-turn / end-of-message when distinct (llama.cpp's
        // "eog" set).
        var eos: [Int] = []
        for k in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try m.intIfPresent(k), !eos.contains(id) { eos.append(id) }
        }
        let heads = try m.int(p + "attention.head_count")
        let width = try m.int(p + "embedding_length")
        let headDim = try m.intIfPresent(p + "attention.key_length") ?? (heads > 0 ? width / heads : 0)
        if let v = try m.intIfPresent(p + "attention.value_length"), v != headDim {
            throw fail(p + "attention.value_length", "value heads of \(v) dimensions differ from key heads of \(headDim) (not supported)")
        }
        var factors: [Double]?
        if gguf.contains(tensor: "rope_freqs.weight") {
            factors = try gguf.floats("rope_freqs.weight", expectedShape: [headDim / 2]).map(Double.init)
        }
        let hasQBias = gguf.contains(tensor: "blk.0.attn_q.bias")
        let hasOBias = gguf.contains(tensor: "blk.0.attn_output.bias")
        self.init(
            vocabSize: vocab,
            hiddenSize: width,
            intermediateSize: try m.int(p + "feed_forward_length"),
            layerCount: try m.int(p + "block_count"),
            headCount: heads,
            kvHeadCount: try m.intIfPresent(p + "attention.head_count_kv"),
            headDim: headDim,
            ropeTheta: try m.doubleIfPresent(p + "rope.freq_base") ?? 10_000,
            rmsNormEps: try m.doubleIfPresent(p + "attention.layer_norm_rms_epsilon") ?? 1e-5,
            maxPositions: context,
            tieWordEmbeddings: !gguf.contains(tensor: "output.weight"),
            bosTokenID: try m.intIfPresent("tokenizer.ggml.bos_token_id"),
            eosTokenIDs: eos,
            ropeScaling: scaling,
            family: family,
            qkvBias: family == .qwen2 || hasQBias,
            outputBias: hasOBias,
            qkNorm: family == .qwen3,
            // llama.cpp's phi3 writes 0 for no window.
            slidingWindow: try m.intIfPresent(p + "attention.sliding_window").flatMap { family == .phi3 && $0 == 0 ? nil : $0 },
            ropeFrequencyFactors: factors)
        if let rot = try m.intIfPresent(p + "rope.dimension_count"), rot != self.headDim {
            throw fail(p + "rope.dimension_count", "RoPE over \(rot) of \(self.headDim) head dimensions (partial rotary) is not supported")
        }
        try validate(source: gguf.path)
    }
}

extension LlamaConfig {
    /// llama.cpp's Phi-3 LongRoPE: `rope_factors_short.weight` and `rope_factors_long.weight` (both or
    /// neither), `.rope.scaling.original_context_length` (default: the context length) and the
    /// attention factor `.rope.scaling.attn_factor` (default LongRoPE's own); nil without them.
    static func ggufLongRope(_ gguf: GGUFFile, prefix p: String, context: Int) throws -> RopeScaling? {
        let short = gguf.contains(tensor: "rope_factors_short.weight"), long = gguf.contains(tensor: "rope_factors_long.weight")
        guard short || long else { return nil }
        guard short && long else {
            throw IFTError.file(
                path: gguf.path, location: "tensor rope_factors_\(short ? "long" : "short").weight",
                message: "missing (LongRoPE needs both the short and the long factors)")
        }
        let s = try gguf.floats("rope_factors_short.weight").map(Double.init)
        let l = try gguf.floats("rope_factors_long.weight").map(Double.init)
        let original = try gguf.metadata.intIfPresent(p + "rope.scaling.original_context_length") ?? context
        var params: [String: Double] = ["original_max_position_embeddings": Double(original)]
        if let a = try gguf.metadata.doubleIfPresent(p + "rope.scaling.attn_factor") { params["attention_factor"] = a }
        return RopeScaling(type: "longrope", factor: nil, parameters: params, shortFactor: s, longFactor: l)
    }
}
