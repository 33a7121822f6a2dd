import IFTCore

extension LlamaConfig {
    // MARK: - Hugging Face config.json

    /// Reads a Hugging Face `config.json`.
    public init(configJSONPath path: String) throws {
        try self.init(huggingFace: JSONValue.parse(contentsOf: path), path: path)
    }

    /// From a parsed Hugging Face `config.json` of a Llama, Mistral, Qwen2, Qwen3 or Phi-3 model (by
    /// `model_type`, else `architectures`). Required: `vocab_size`, `hidden_size`,
    /// `intermediate_size`, `num_hidden_layers`, `num_attention_heads`. Defaults follow
    /// transformers' configs: `num_key_value_heads` = heads, `rope_theta` 10000, `rms_norm_eps`
    /// 1e-6, `max_position_embeddings` 2048, `tie_word_embeddings` false, `head_dim` width/heads
    /// (Qwen3: 128), Mistral's `sliding_window` 4096 (Phi-3's: none). Phi-3's `longrope` takes
    /// `short_factor`/`long_factor` and the top-level `original_max_position_embeddings`.
    ///
    /// RoPE is read in both layouts: classic (`rope_theta`, `rope_scaling`) and transformers 5's
    /// (`rope_parameters: {rope_theta, rope_type, factor, ...}`); as transformers, a non-null
    /// `rope_scaling` replaces `rope_parameters` and a `rope_theta` inside the object wins over the
    /// top-level one. A key that would change the math and that the engine does not implement
    /// (an unknown field of the RoPE object, `mlp_bias`, a non-SiLU `hidden_act`, attention
    /// dropout, partial rotary, `quantization_config`, ...) is an error naming the key.
    public init(huggingFace json: JSONValue, path: String) throws {
        guard let o = json.objectValue else {
            throw IFTError.file(path: path, location: "line 1, column 1", message: "config.json must be an object, found \(json.typeName)")
        }
        func fail(_ key: String, _ m: String) -> IFTError { IFTError.file(path: path, location: "key \(key)", message: m) }
        func int(_ key: String, _ def: Int? = nil) throws -> Int? {
            guard let v = o[key], !v.isNull else { return def }
            guard let i = v.intValue else { throw fail(key, "expected an integer, found \(v.typeName) \(v)") }
            return i
        }
        func required(_ key: String) throws -> Int {
            guard let v = try int(key) else { throw fail(key, "missing (expected an integer)") }
            return v
        }
        func double(_ key: String, _ def: Double) throws -> Double {
            guard let v = o[key], !v.isNull else { return def }
            guard let d = v.doubleValue else { throw fail(key, "expected a number, found \(v.typeName) \(v)") }
            return d
        }
        func bool(_ key: String, _ def: Bool) throws -> Bool {
            guard let v = o[key], !v.isNull else { return def }
            guard let b = v.boolValue else { throw fail(key, "expected a bool, found \(v.typeName) \(v)") }
            return b
        }
        let supportedTypes = ModelFamily.allCases.map(\.rawValue).joined(separator: ", ")
        let supportedClasses = ModelFamily.allCases.map(\.huggingFaceArchitecture).joined(separator: ", ")
        var family: ModelFamily?
        if let v = o["model_type"], !v.isNull {
            guard let t = v.stringValue, let f = ModelFamily(rawValue: t) else {
                throw fail("model_type", "model type '\(v.stringValue ?? v.description)' is not supported (supported: \(supportedTypes))")
            }
            family = f
        }
        if let a = o["architectures"]?.arrayValue?.first?.stringValue {
            guard let f = ModelFamily.allCases.first(where: { $0.huggingFaceArchitecture == a }) else {
                throw fail("architectures", "architecture '\(a)' is not supported (supported: \(supportedClasses))")
            }
            if let family, family != f {
                throw fail("architectures", "architecture '\(a)' contradicts model_type '\(family.rawValue)'")
            }
            family = f
        }
        let fam = family ?? .llama

        // Keys that change the math: implemented, or refused by name.
        if let act = o["hidden_act"], !act.isNull, act.stringValue != "silu" {
            throw fail("hidden_act", "activation \(act) is not supported (the MLP is SwiGLU with silu)")
        }
        if try bool("mlp_bias", false) { throw fail("mlp_bias", "biases on the MLP projections are not supported") }
        if try double("attention_dropout", 0) != 0 {
            throw fail("attention_dropout", "attention dropout is not supported (set it to 0.0)")
        }
        for key in ["resid_pdrop", "embd_pdrop"] where try double(key, 0) != 0 {
            throw fail(key, "dropout on the residual stream or embeddings is not supported (set it to 0.0)")
        }
        if try double("partial_rotary_factor", 1) != 1 {
            throw fail("partial_rotary_factor", "partial rotary embeddings are not supported")
        }
        if let q = o["quantization_config"], !q.isNull {
            throw fail("quantization_config", "pre-quantized checkpoints (\(q["quant_method"]?.stringValue ?? "quantization_config")) are not supported; use the 16/32-bit model (QLoRA quantizes it itself)")
        }

        let tie = try bool("tie_word_embeddings", false)
        var eos: [Int] = []
        if let v = o["eos_token_id"], !v.isNull {
            if let i = v.intValue {
                eos = [i]
            } else if let a = v.arrayValue, let ids = Optional(a.compactMap(\.intValue)), ids.count == a.count {
                eos = ids
            } else {
                throw fail("eos_token_id", "expected an integer or an array of integers, found \(v.typeName) \(v)")
            }
        }

        // RoPE: transformers 5's rope_parameters, or the classic rope_theta + rope_scaling.
        var theta = try double("rope_theta", 10_000)
        var scaling: RopeScaling?
        let ropeKey: String
        let ropeObject: JSONValue?
        if let s = o["rope_scaling"], !s.isNull {
            (ropeKey, ropeObject) = ("rope_scaling", s)
        } else if let p = o["rope_parameters"], !p.isNull {
            (ropeKey, ropeObject) = ("rope_parameters", p)
        } else {
            (ropeKey, ropeObject) = ("rope_parameters", nil)
        }
        if let v = ropeObject {
            guard let s = v.objectValue else { throw fail(ropeKey, "expected an object, found \(v.typeName) \(v)") }
            if let t = s["rope_theta"], !t.isNull {
                guard let d = t.doubleValue else { throw fail(ropeKey + ".rope_theta", "expected a number, found \(t)") }
                theta = d
            }
            let typeValue = s["rope_type"] ?? s["type"] ?? .string("default")
            guard var type = typeValue.stringValue else { throw fail(ropeKey + ".rope_type", "expected a string, found \(typeValue)") }
            // transformers' Phi3Config reads the older names `su` and `yarn` as `longrope`.
            if fam == .phi3 && (type == "su" || type == "yarn") { type = "longrope" }
            guard RopeScaling.supportedTypes.contains(type) else {
                throw fail(ropeKey + ".rope_type", "RoPE type '\(type)' is not supported (supported: \(RopeScaling.supportedTypes.joined(separator: ", ")))")
            }
            var params: [String: Double] = [:]
            var truncate = true
            var factorLists: [String: [Double]] = [:]
            let known = RopeScaling.knownKeys(type)
            for (k, x) in s.members where !["rope_type", "type", "rope_theta"].contains(k) {
                if k == "partial_rotary_factor", x.doubleValue == 1 { continue }
                guard known.contains(k) else {
                    throw fail(ropeKey + "." + k, "'\(k)' is not understood for RoPE type '\(type)' (it would change the model's math); known: \(known.sorted().joined(separator: ", "))")
                }
                if x.isNull { continue }
                if k == "short_factor" || k == "long_factor" {
                    guard let list = x.arrayValue, let values = Optional(list.compactMap(\.doubleValue)), values.count == list.count else {
                        throw fail(ropeKey + "." + k, "expected a list of numbers, found \(x.typeName)")
                    }
                    factorLists[k] = values
                    continue
                }
                if k == "truncate" {
                    guard let b = x.boolValue else { throw fail(ropeKey + ".truncate", "expected a bool, found \(x)") }
                    truncate = b
                    continue
                }
                guard let d = x.doubleValue else { throw fail(ropeKey + "." + k, "expected a number, found \(x.typeName) \(x)") }
                params[k] = d
            }
            if type != "default" {
                if (type == "llama3" || type == "yarn") && params["original_max_position_embeddings"] == nil {
                    // transformers' default: the model's own max_position_embeddings.
                    params["original_max_position_embeddings"] = Double(try int("max_position_embeddings", 2048)!)
                }
                if type == "longrope" && params["original_max_position_embeddings"] == nil {
                    // Phi-3 keeps it at the top level of config.json.
                    params["original_max_position_embeddings"] = Double(
                        try int("original_max_position_embeddings") ?? int("max_position_embeddings", 2048)!)
                }
                let s = RopeScaling(
                    type: type, factor: params["factor"], parameters: params, truncate: truncate, shortFactor: factorLists["short_factor"],
                    longFactor: factorLists["long_factor"])
                do { _ = try s.tableScaling(maxPositions: try int("max_position_embeddings", 2048)!) } catch IFTError.invalidArgument(let m) {
                    throw fail(ropeKey, m)
                }
                scaling = s
            }
        }

        // Sliding windows (Mistral; Qwen2/3 with use_sliding_window on some layers).
        var window: Int?
        switch fam {
        case .mistral:
            window = o["sliding_window"] == nil ? 4096 : try int("sliding_window")
        case .phi3:
            window = try int("sliding_window")
        case .qwen2, .qwen3:
            if try bool("use_sliding_window", false), let w = try int("sliding_window") {
                let layers = try required("num_hidden_layers")
                var types: [String]
                if let lt = o["layer_types"]?.arrayValue {
                    types = lt.compactMap(\.stringValue)
                } else {
                    let from = try int("max_window_layers", 28)!
                    types = (0..<layers).map { $0 >= from ? "sliding_attention" : "full_attention" }
                }
                if types.contains("sliding_attention") { window = w }
            }
        case .llama:
            window = nil
        }
        if let lt = o["layer_types"]?.arrayValue, let bad = lt.first(where: { !["full_attention", "sliding_attention"].contains($0.stringValue ?? "") }) {
            throw fail("layer_types", "layer type \(bad) is not supported (full_attention, sliding_attention)")
        }

        let attentionBias = try bool("attention_bias", false)
        self.init(
            vocabSize: try required("vocab_size"),
            hiddenSize: try required("hidden_size"),
            intermediateSize: try required("intermediate_size"),
            layerCount: try required("num_hidden_layers"),
            headCount: try required("num_attention_heads"),
            kvHeadCount: try int("num_key_value_heads"),
            headDim: try int("head_dim", fam == .qwen3 ? 128 : nil),
            ropeTheta: theta,
            rmsNormEps: try double("rms_norm_eps", 1e-6),
            maxPositions: try int("max_position_embeddings", 2048)!,
            tieWordEmbeddings: tie,
            bosTokenID: try int("bos_token_id"),
            eosTokenIDs: eos,
            ropeScaling: scaling,
            family: fam,
            qkvBias: fam == .qwen2 || (attentionBias && fam != .mistral && fam != .phi3),
            outputBias: attentionBias && (fam == .llama || fam == .qwen3),
            qkNorm: fam == .qwen3,
            slidingWindow: window)
        try validate(source: path)
    }
}
