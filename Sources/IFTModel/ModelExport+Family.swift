import IFTCore

/// One weight as the exporters write it: its llama.cpp and Hugging Face names (the inverse of
/// `LlamaWeights.assemble`), and the heads whose rows GGUF permutes (Q/K weights and biases of the
/// families llama.cpp permutes; nil otherwise).
struct ExportTensor {
    let gguf: String
    let huggingFace: String
    let tensor: Tensor
    let permutedHeads: Int?
    /// The token embedding or the LM head (kept at 8 bits by a 4-bit GGUF export).
    let embeddingOrHead: Bool
}

extension LlamaWeights {
    /// Every tensor of the model with its names, checked against `c`: a bias or Q/K norm the config
    /// declares must be there, one it does not declare must not (it would be written and then
    /// refused, or silently dropped, on reload).
    /// A family's fused projections (Phi-3) are written as the one tensor its checkpoints hold, the
    /// parts' rows stacked on `backend`.
    func exportTensors(config c: LlamaConfig, backend: any Backend) throws -> [ExportTensor] {
        guard layers.count == c.layerCount else {
            throw IFTError.invalidArgument("export: the weights hold \(layers.count) layers, the config \(c.layerCount)")
        }
        var out: [ExportTensor] = []
        func add(_ g: String, _ h: String, _ t: Tensor, heads: Int? = nil, embeddingOrHead: Bool = false) {
            out.append(ExportTensor(gguf: g, huggingFace: h, tensor: t, permutedHeads: heads, embeddingOrHead: embeddingOrHead))
        }
        func optional(_ t: Tensor?, declared: Bool, _ g: String, _ h: String, heads: Int? = nil) throws {
            switch (t, declared) {
            case (let t?, true): add(g, h, t, heads: heads)
            case (nil, false): break
            case (nil, true):
                throw IFTError.invalidArgument(
                    "export: the \(c.family.rawValue) config (\(c.structureSummary)) declares tensor \(g) (\(h)), but the weights lack it")
            case (.some, false):
                throw IFTError.invalidArgument(
                    "export: the weights hold tensor \(g) (\(h)), which the \(c.family.rawValue) config (\(c.structureSummary)) does not declare")
            }
        }
        add("token_embd.weight", "model.embed_tokens.weight", tokenEmbedding, embeddingOrHead: true)
        for (i, l) in layers.enumerated() {
            let g = "blk.\(i).", h = "model.layers.\(i)."
            add(g + "attn_norm.weight", h + "input_layernorm.weight", l.attentionNorm)
            for p in c.family.projections {
                let heads = p.permutedHeads(in: c)
                let weight = p.isFused ? try LlamaModel.concatenatingRows(p.parts.map { l[$0] }, backend) : l[p]
                add(g + p.ggufName + ".weight", h + p.modulePath + ".weight", weight, heads: heads)
                let bias: Tensor?, declared: Bool
                switch p {
                case .q: (bias, declared) = (l.queryBias, c.qkvBias)
                case .k: (bias, declared) = (l.keyBias, c.qkvBias)
                case .v: (bias, declared) = (l.valueBias, c.qkvBias)
                case .o: (bias, declared) = (l.outputBias, c.outputBias)
                case .gate, .up, .down, .gateUp: (bias, declared) = (nil, false)
                case .qkv: (bias, declared) = (nil, c.qkvBias)  // Phi-3 has none
                }
                try optional(bias, declared: declared, g + p.ggufName + ".bias", h + p.modulePath + ".bias", heads: heads)
            }
            try optional(l.queryNorm, declared: c.qkNorm, g + "attn_q_norm.weight", h + "self_attn.q_norm.weight")
            try optional(l.keyNorm, declared: c.qkNorm, g + "attn_k_norm.weight", h + "self_attn.k_norm.weight")
            add(g + "ffn_norm.weight", h + "post_attention_layernorm.weight", l.feedForwardNorm)
        }
        add("output_norm.weight", "model.norm.weight", outputNorm)
        if let output { add("output.weight", "lm_head.weight", output, embeddingOrHead: true) }
        return out
    }
}

extension ModelExport {
    /// The RoPE scaling of `c` as `LlamaConfig(gguf:)` reads it back, under the key prefix `p`
    /// (`llama.`, `qwen2.`, ...): `rope.scaling.type` linear / yarn with their keys, or (Llama 3's
    /// `llama3` scaling, and factors read from a GGUF) llama.cpp's `rope_freqs.weight` factors,
    /// computed as its converter does: each inverse frequency's divisor.
    static func ggufRopeScaling(_ c: LlamaConfig, prefix p: String) throws -> (metadata: [(String, GGUFValue)], factors: [Float]?) {
        let scaling: RopeTable.Scaling?
        do { scaling = try c.ropeTableScaling() } catch IFTError.invalidArgument(let m) {
            throw IFTError.invalidArgument("GGUF export: RoPE scaling: \(m)")
        }
        guard let scaling else { return ([], nil) }
        switch scaling {
        case .linear(let factor):
            return ([(p + "rope.scaling.type", .string("linear")), (p + "rope.scaling.factor", .float32(Float(factor)))], nil)
        case .llama3:
            let base = RopeTable.inverseFrequencies(theta: c.ropeTheta, headDim: c.headDim)
            let scaled = RopeTable.inverseFrequencies(theta: c.ropeTheta, headDim: c.headDim, scaling: scaling).invFreq
            return ([], zip(base, scaled).map { Float($0 / $1) })
        case .frequencyFactors(let factors):
            return ([], factors.map(Float.init))
        case .longrope(_, let attention):
            // The factors are tensors (`ggufLongRopeTensors`); llama.cpp's phi3 keys.
            let original = c.longRopeContext ?? c.maxPositions
            return ([(p + "rope.scaling.attn_factor", .float32(Float(attention))),
                     (p + "rope.scaling.original_context_length", .uint32(UInt32(original)))], nil)
        case .yarn(let factor, let original, let betaFast, let betaSlow, let attention, let truncate):
            guard truncate else {
                throw IFTError.invalidArgument(
                    "GGUF export: YaRN RoPE scaling with truncate = false has no llama.cpp form (its YaRN always truncates the correction range); export --format hf")
            }
            guard original == original.rounded(), original > 0, original <= Double(UInt32.max) else {
                throw IFTError.invalidArgument(
                    "GGUF export: YaRN original_max_position_embeddings \(original) is not a whole number of positions (GGUF key \(p)rope.scaling.original_context_length)")
            }
            var out: [(String, GGUFValue)] = [
                (p + "rope.scaling.type", .string("yarn")), (p + "rope.scaling.factor", .float32(Float(factor))),
                (p + "rope.scaling.original_context_length", .uint32(UInt32(original))),
            ]
            // The betas when given (their defaults, 32 and 1, are llama.cpp's too).
            let given = c.ropeScaling?.parameters ?? [:]
            if given["beta_fast"] != nil || betaFast != 32 { out.append((p + "rope.scaling.yarn_beta_fast", .float32(Float(betaFast)))) }
            if given["beta_slow"] != nil || betaSlow != 1 { out.append((p + "rope.scaling.yarn_beta_slow", .float32(Float(betaSlow)))) }
            // llama.cpp multiplies its attention factor by YaRN's default 1 + 0.1 ln(factor).
            let llamaCpp = attention / RopeTable.Scaling.yarnMscale(factor)
            if abs(llamaCpp - 1) > 1e-12 { out.append((p + "rope.scaling.attn_factor", .float32(Float(llamaCpp)))) }
            return (out, nil)
        }
    }

    /// llama.cpp's Phi-3 LongRoPE factor tensors (`rope_factors_long.weight`,
    /// `rope_factors_short.weight`, F32), empty without longrope.
    static func ggufLongRopeTensors(_ c: LlamaConfig) -> [(String, [Float])] {
        guard let s = c.ropeScaling, s.type == "longrope", let short = s.shortFactor, let long = s.longFactor else { return [] }
        return [("rope_factors_long.weight", long.map(Float.init)), ("rope_factors_short.weight", short.map(Float.init))]
    }

    /// The family-specific fields of `config.json` for `c`: `architectures`, `model_type`,
    /// `attention_bias`, RoPE in the classic layout (`rope_theta`, `rope_scaling`) and the sliding
    /// window, as `LlamaConfig(huggingFace:)` and transformers read them. A structure transformers'
    /// config cannot express (Q/K/V biases without the output bias on Llama, ...) is an error
    /// naming it.
    static func huggingFaceFamilyFields(_ c: LlamaConfig) throws -> [(String, JSONValue)] {
        var family = c.family
        // A Llama config carrying a sliding window (a Mistral model read back from its GGUF, which
        // llama.cpp labels llama) is Mistral in transformers' terms: the same block plus the window.
        if family == .llama, c.slidingWindow != nil, !c.qkvBias, !c.outputBias { family = .mistral }
        let attentionBias: Bool
        switch family {
        case .llama, .qwen3:
            guard c.qkvBias == c.outputBias else {
                throw IFTError.invalidArgument(
                    "Hugging Face export: a \(family.rawValue) model with \(c.qkvBias ? "Q/K/V biases but no output bias" : "an output bias but no Q/K/V biases") "
                        + "has no config.json form (transformers' attention_bias adds all four)")
            }
            attentionBias = c.qkvBias
        case .qwen2:
            guard c.qkvBias, !c.outputBias else {
                throw IFTError.invalidArgument(
                    "Hugging Face export: transformers' Qwen2 has Q/K/V biases and no output bias; this model has \(c.structureSummary)")
            }
            attentionBias = true
        case .mistral, .phi3:
            guard !c.qkvBias, !c.outputBias else {
                throw IFTError.invalidArgument(
                    "Hugging Face export: transformers' \(family.huggingFaceArchitecture) has no attention biases; this model has \(c.structureSummary)")
            }
            attentionBias = false
        }
        if c.qkNorm != (family == .qwen3) {
            throw IFTError.invalidArgument("Hugging Face export: per-head Q/K norms come with Qwen3 only; this \(family.rawValue) model has \(c.structureSummary)")
        }
        var out: [(String, JSONValue)] = [
            ("architectures", .array([.string(family.huggingFaceArchitecture)])), ("model_type", .string(family.rawValue)),
            ("attention_bias", .bool(attentionBias)), ("rope_theta", .double(c.ropeTheta)),
        ]
        var ropeScaling = c.ropeScaling
        if let factors = c.ropeFrequencyFactors {
            guard let s = llama3Scaling(fitting: factors, config: c) else {
                throw IFTError.invalidArgument(
                    "Hugging Face export: the model's RoPE scaling is llama.cpp's rope_freqs.weight factors (read from a GGUF), which do not "
                        + "match Llama 3's rope_scaling (low_freq_factor 1, high_freq_factor 4) and have no config.json form; export --format gguf")
            }
            ropeScaling = s
        }
        if let s = ropeScaling {
            var o = JSONObject([("rope_type", .string(s.type)), ("type", .string(s.type))])
            for k in s.parameters.keys.sorted() {
                let v = s.parameters[k] ?? 0
                // transformers wants a whole number of positions as an integer.
                o[k] = k == "original_max_position_embeddings" && v == v.rounded() && abs(v) < 1e15 ? .int(Int(v)) : .double(v)
            }
            if !s.truncate { o["truncate"] = .bool(false) }
            if let f = s.shortFactor { o["short_factor"] = .array(f.map { .double($0) }) }
            if let f = s.longFactor { o["long_factor"] = .array(f.map { .double($0) }) }
            out.append(("rope_scaling", .object(o)))
            if family == .phi3, let original = c.longRopeContext { out.append(("original_max_position_embeddings", .int(original))) }
        } else {
            out.append(("rope_scaling", .null))
        }
        switch family {
        case .llama: break
        case .mistral, .phi3: out.append(("sliding_window", c.slidingWindow.map { .int($0) } ?? .null))
        case .qwen2, .qwen3:
            // The engine holds one window for the model: every layer slides (max_window_layers 0).
            out.append(("use_sliding_window", .bool(c.slidingWindow != nil)))
            out.append(("sliding_window", c.slidingWindow.map { .int($0) } ?? .null))
            if c.slidingWindow != nil { out.append(("max_window_layers", .int(0))) }
        }
        return out
    }

    /// Throws when the tokenizer of `source` cannot be written in the other format: a SentencePiece
    /// `tokenizer.json` (BPE with byte_fallback, merges) has no scores for GGUF's `llama` vocabulary
    /// (llama.cpp's `convert_hf_to_gguf.py` reads them from the SentencePiece model); a GGUF's
    /// SentencePiece vocabulary becomes a tokenizer.json (`sentencePieceTokenizerJSON`). Within one
    /// format it is copied as it is.
    static func checkTokenizerConvertible(_ source: ModelFiles, to format: String) throws {
        guard source.tokenizer.sentencePiece != nil else { return }
        if let g = source.gguf, format == "hf", source.tokenizer.sentencePiece?.prefix != .always && source.tokenizer.sentencePiece?.prefix != .never {
            throw IFTError.file(
                path: g.path, location: "metadata key tokenizer.ggml.model",
                message: "a SentencePiece ('llama') vocabulary with this prefix rule cannot be written as tokenizer.json by this exporter; "
                    + "export --format gguf, or take tokenizer.json from the original Hugging Face model")
        }
        if source.gguf == nil && format == "gguf" {
            throw IFTError.file(
                path: source.path + "/tokenizer.json", location: "model",
                message: "a SentencePiece tokenizer (BPE with byte_fallback) cannot be written as GGUF metadata by this exporter "
                    + "(llama.cpp's 'llama' vocabulary needs the SentencePiece scores, which tokenizer.json lacks); "
                    + "export --format hf, or convert with llama.cpp's convert_hf_to_gguf.py")
        }
    }
}

extension ModelExport {
    /// The `llama3` RoPE scaling whose `rope_freqs` factors (as llama.cpp's converter computes them)
    /// are `factors`, if any: Llama 3.x's `low_freq_factor` 1 and `high_freq_factor` 4, `factor` the
    /// largest factor, `original_max_position_embeddings` solved from a factor of the smooth band
    /// (else Llama 3's 8192); accepted only when every recomputed factor matches to 1e-5.
    static func llama3Scaling(fitting factors: [Double], config c: LlamaConfig) -> LlamaConfig.RopeScaling? {
        guard let factor = factors.max(), factor > 1, factors.count == c.headDim / 2 else { return nil }
        let (low, high) = (1.0, 4.0)
        let base = RopeTable.inverseFrequencies(theta: c.ropeTheta, headDim: c.headDim)
        var original = 8192.0
        if let i = factors.indices.first(where: { factors[$0] > 1 + 1e-6 && factors[$0] < factor * (1 - 1e-6) }) {
            // factor_i = 1 / ((1 - s) / factor + s), s = (original / wavelength - low) / (high - low).
            let s = (1 / factors[i] - 1 / factor) / (1 - 1 / factor)
            original = ((s * (high - low) + low) * 2 * Double.pi / base[i]).rounded()
        }
        let params = ["factor": factor, "low_freq_factor": low, "high_freq_factor": high, "original_max_position_embeddings": original]
        let scaling = LlamaConfig.RopeScaling(type: "llama3", factor: factor, parameters: params)
        guard let table = try? scaling.tableScaling(maxPositions: c.maxPositions) else { return nil }
        let scaled = RopeTable.inverseFrequencies(theta: c.ropeTheta, headDim: c.headDim, scaling: table).invFreq
        for i in factors.indices where abs(base[i] / scaled[i] - factors[i]) > 1e-5 * factors[i] { return nil }
        return scaling
    }
}

extension HFTokenizerFile {
    /// tokenizer.json for a GGUF's SentencePiece vocabulary, in the layout transformers' converter
    /// gives Llama 2: BPE with byte_fallback over the vocabulary, merges in the order of the scores
    /// of the tokens they make (`SentencePieceOptions.mergesFromScores`), a `Prepend ▁` + `Replace`
    /// normalizer (without the Prepend when the GGUF has `add_space_prefix = false`), and the
    /// matching decoder.
    static func sentencePieceTokenizerJSON(_ source: ModelFiles) throws -> JSONValue {
        let t = source.tokenizer
        guard let g = source.gguf, let spm = t.sentencePiece else {
            throw IFTError.file(path: source.path, location: "tokenizer", message: "not a GGUF SentencePiece vocabulary")
        }
        let scores = try g.metadata.floatsIfPresent("tokenizer.ggml.scores") ?? []
        guard scores.count == t.tokens.count else {
            throw IFTError.file(path: g.path, location: "metadata key tokenizer.ggml.scores", message: "\(scores.count) scores for \(t.tokens.count) tokens")
        }
        let merges = SentencePieceOptions.mergesFromScores(tokens: t.tokens, types: t.tokenTypes, scores: scores).merges
        var vocab = JSONObject()
        var added: [JSONValue] = []
        for (i, token) in t.tokens.enumerated() {
            guard vocab.insertNew(token, .int(i)) else {
                throw IFTError.file(path: g.path, location: "metadata key tokenizer.ggml.tokens", message: "token \(i) '\(token)' appears twice")
            }
            let type = t.tokenTypes[i]
            if type == .control || type == .unknown || type == .userDefined {
                added.append(.object(JSONObject([
                    ("id", .int(i)), ("content", .string(token)), ("single_word", .bool(false)), ("lstrip", .bool(false)),
                    ("rstrip", .bool(false)), ("normalized", .bool(type == .userDefined)), ("special", .bool(type != .userDefined)),
                ])))
            }
        }
        let space = "\u{2581}"
        func replace(_ from: String, _ to: String) -> JSONValue {
            .object(JSONObject([("type", .string("Replace")), ("pattern", .object(JSONObject([("String", .string(from))]))), ("content", .string(to))]))
        }
        var normalizers: [JSONValue] = []
        var decoders: [JSONValue] = [replace(space, " "), .object(JSONObject([("type", .string("ByteFallback"))])), .object(JSONObject([("type", .string("Fuse"))]))]
        if spm.prefix == .always {
            normalizers.append(.object(JSONObject([("type", .string("Prepend")), ("prepend", .string(space))])))
            decoders.append(.object(JSONObject([("type", .string("Strip")), ("content", .string(" ")), ("start", .int(1)), ("stop", .int(0))])))
        }
        normalizers.append(replace(" ", space))
        let model: JSONValue = .object(JSONObject([
            ("type", .string("BPE")), ("dropout", .null), ("unk_token", t.unknownID.flatMap { t.token(forID: $0) }.map { .string($0) } ?? .null),
            ("continuing_subword_prefix", .null), ("end_of_word_suffix", .null), ("fuse_unk", .bool(true)), ("byte_fallback", .bool(true)),
            ("ignore_merges", .bool(false)), ("vocab", .object(vocab)), ("merges", .array(merges.map { .array([.string($0.0), .string($0.1)]) })),
        ]))
        return .object(JSONObject([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null), ("added_tokens", .array(added)),
            ("normalizer", .object(JSONObject([("type", .string("Sequence")), ("normalizers", .array(normalizers))]))),
            ("pre_tokenizer", .null), ("post_processor", bosPostProcessor(t) ?? .null),
            ("decoder", .object(JSONObject([("type", .string("Sequence")), ("decoders", .array(decoders))]))),
            ("model", model),
        ]))
    }
}
