import IFTCore

extension ModelExport {
    /// Default largest safetensors shard (transformers' `max_shard_size` is of this order).
    public static let defaultShardBytes = 2 << 30

    /// Writes a Hugging Face model directory into `directory` (which must not exist; callers write to a
    /// temporary directory and rename it): `config.json` (the family's `model_type` and class,
    /// `attention_bias`, classic `rope_theta` / `rope_scaling`), `model.safetensors` (or
    /// `model-0000i-of-0000n.safetensors` shards of at most `shardBytes` with
    /// `model.safetensors.index.json`), `tokenizer.json`, `tokenizer_config.json` (with the chat
    /// template), `generation_config.json`, and `ift_gpu.json` (the training prompt style).
    public static func writeHuggingFace(
        weights: LlamaWeights, config c: LlamaConfig, source: ModelFiles, backend: any Backend, dtype: DType,
        promptStyle: String?, shardBytes: Int = defaultShardBytes, to directory: String
    ) throws {
        guard [.f32, .f16, .bf16].contains(dtype) else {
            throw IFTError.invalidArgument("a Hugging Face directory is written as f32, f16 or bf16, not \(dtype)")
        }
        try checkTokenizerConvertible(source, to: "hf")
        let familyFields = try huggingFaceFamilyFields(c)
        // Every tensor by its Hugging Face name (biases, Q/K norms included).
        let named = try weights.exportTensors(config: c, backend: backend).map { ($0.huggingFace, $0.tensor) }
        try FileSystem.makeDirectories(directory)

        // Shards: consecutive tensors up to shardBytes each (a larger tensor gets a shard of its own).
        var shards: [[Int]] = [[]]
        var size = 0, total = 0
        for (i, (_, t)) in named.enumerated() {
            let bytes = t.count * dtype.blockBytes
            if size > 0 && size + bytes > shardBytes {
                shards.append([])
                size = 0
            }
            shards[shards.count - 1].append(i)
            size += bytes
            total += bytes
        }
        func fileName(_ s: Int) -> String {
            guard shards.count > 1 else { return "model.safetensors" }
            func five(_ n: Int) -> String { String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n) }
            return "model-\(five(s + 1))-of-\(five(shards.count)).safetensors"
        }
        var weightMap = JSONObject()
        for (s, members) in shards.enumerated() {
            var w = SafetensorsWriter()
            w.metadata = [("format", "pt")]
            for i in members {
                let (name, t) = named[i]
                try w.addTensor(name: name, shape: t.shape, floats: try backend.floats(try LlamaModel.asFloat(t, backend)), as: dtype)
                weightMap[name] = .string(fileName(s))
            }
            try w.write(to: directory + "/" + fileName(s))
        }
        if shards.count > 1 {
            let index: JSONValue = .object(JSONObject([
                ("metadata", .object(JSONObject([("total_size", .int(total))]))), ("weight_map", .object(weightMap)),
            ]))
            try LoRAAdapterWeights.writeJSON(index, to: directory + "/model.safetensors.index.json")
        }

        let t = source.tokenizer
        func ids(_ list: [Int]) -> JSONValue { list.count == 1 ? .int(list[0]) : .array(list.map { .int($0) }) }
        let eos = c.eosTokenIDs.isEmpty ? (t.eosID.map { [Int($0)] } ?? []) : c.eosTokenIDs
        var config = JSONObject()
        for (k, v) in familyFields where ["architectures", "model_type"].contains(k) { config[k] = v }
        config["vocab_size"] = .int(c.vocabSize)
        config["hidden_size"] = .int(c.hiddenSize)
        config["intermediate_size"] = .int(c.intermediateSize)
        config["num_hidden_layers"] = .int(c.layerCount)
        config["num_attention_heads"] = .int(c.headCount)
        config["num_key_value_heads"] = .int(c.kvHeadCount)
        config["head_dim"] = .int(c.headDim)
        config["hidden_act"] = .string("silu")
        config["max_position_embeddings"] = .int(c.maxPositions)
        config["rms_norm_eps"] = .double(c.rmsNormEps)
        for (k, v) in familyFields where !["architectures", "model_type"].contains(k) { config[k] = v }
        config["mlp_bias"] = .bool(false)
        config["tie_word_embeddings"] = .bool(weights.output == nil)
        if let bos = c.bosTokenID ?? t.bosID.map(Int.init) { config["bos_token_id"] = .int(bos) }
        if !eos.isEmpty { config["eos_token_id"] = ids(eos) }
        // Explicit, also when none: Phi3Config's default (32000) lies outside a smaller vocabulary.
        config["pad_token_id"] = t.padID.map { .int(Int($0)) } ?? .null
        config["torch_dtype"] = .string(dtype == .f32 ? "float32" : dtype == .f16 ? "float16" : "bfloat16")
        try LoRAAdapterWeights.writeJSON(.object(config), to: directory + "/config.json")

        var generation = JSONObject()
        if let bos = c.bosTokenID ?? t.bosID.map(Int.init) { generation["bos_token_id"] = .int(bos) }
        if !eos.isEmpty { generation["eos_token_id"] = ids(eos) }
        if let pad = t.padID { generation["pad_token_id"] = .int(Int(pad)) }
        try LoRAAdapterWeights.writeJSON(.object(generation), to: directory + "/generation_config.json")

        if source.gguf == nil {
            let text = try FileSystem.readText(source.path + "/tokenizer.json")
            try AtomicFileWriter.write(to: directory + "/tokenizer.json") { try $0.write(Array(text.utf8)) }
        } else {
            try LoRAAdapterWeights.writeJSON(try HFTokenizerFile.tokenizerJSON(source), to: directory + "/tokenizer.json")
        }
        try LoRAAdapterWeights.writeJSON(HFTokenizerFile.tokenizerConfig(t, maxPositions: c.maxPositions), to: directory + "/tokenizer_config.json")
        var info = JSONObject()
        info["prompt_style"] = promptStyle.map { .string($0) } ?? .null
        try LoRAAdapterWeights.writeJSON(.object(info), to: directory + "/" + LoRAAdapterWeights.infoFile)
    }
}

/// Hugging Face `tokenizer.json` / `tokenizer_config.json` for a byte-level BPE tokenizer.
enum HFTokenizerFile {
    /// `model.merges` of a parsed tokenizer.json ("a b" strings or ["a", "b"] pairs).
    static func merges(of json: JSONValue, path: String) throws -> [(String, String)] {
        var out: [(String, String)] = []
        for (i, m) in (json["model"]?["merges"]?.arrayValue ?? []).enumerated() {
            if let s = m.stringValue, let pair = Tokenizer.splitMerge(s) {
                out.append(pair)
            } else if let a = m.arrayValue, a.count == 2, let l = a[0].stringValue, let r = a[1].stringValue {
                out.append((l, r))
            } else {
                throw IFTError.file(path: path, location: "model.merges[\(i)]", message: "expected \"a b\" or [\"a\", \"b\"]")
            }
        }
        return out
    }

    static func byteLevel(regex: Bool) -> JSONValue {
        .object(JSONObject([
            ("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)),
            ("use_regex", .bool(regex)),
        ]))
    }

    /// The pre-tokenizer of `p` in tokenizer.json's terms (the inverse of `Tokenizer.preTokenizer(fromJSON:)`).
    static func preTokenizerJSON(_ p: PreTokenizer, path: String) throws -> JSONValue {
        func sequence(_ items: [JSONValue]) -> JSONValue {
            .object(JSONObject([("type", .string("Sequence")), ("pretokenizers", .array(items))]))
        }
        switch p.stages {
        case [.gpt2]: return byteLevel(regex: true)
        case [.digits(individual: true), .gpt2]:
            return sequence([.object(JSONObject([("type", .string("Digits")), ("individual_digits", .bool(true))])), byteLevel(regex: true)])
        default:
            guard p.stages.count == 1, let pattern = Tokenizer.knownSplitPatterns.first(where: { $0.1 == p.stages[0] })?.0 else {
                throw IFTError.file(path: path, location: "tokenizer.ggml.pre", message: "pre-tokenizer \(p.name) has no tokenizer.json form here")
            }
            let split: JSONValue = .object(JSONObject([
                ("type", .string("Split")), ("pattern", .object(JSONObject([("Regex", .string(pattern))]))),
                ("behavior", .string("Isolated")), ("invert", .bool(false)),
            ]))
            return sequence([split, byteLevel(regex: false)])
        }
    }

    /// tokenizer.json for the tokenizer of a GGUF model.
    static func tokenizerJSON(_ source: ModelFiles) throws -> JSONValue {
        let t = source.tokenizer
        if t.sentencePiece != nil { return try sentencePieceTokenizerJSON(source) }
        let merges = try source.gguf?.metadata.strings("tokenizer.ggml.merges") ?? []
        var vocab = JSONObject()
        var added: [JSONValue] = []
        for (i, token) in t.tokens.enumerated() {
            _ = vocab.insertNew(token, .int(i))
            let type = t.tokenTypes[i]
            if type == .control || type == .userDefined {
                added.append(.object(JSONObject([
                    ("id", .int(i)), ("content", .string(token)), ("single_word", .bool(false)), ("lstrip", .bool(false)),
                    ("rstrip", .bool(false)), ("normalized", .bool(type == .userDefined)), ("special", .bool(type == .control)),
                ])))
            }
        }
        var pairs: [JSONValue] = []
        for (i, m) in merges.enumerated() {
            guard let (a, b) = Tokenizer.splitMerge(m) else {
                throw IFTError.file(path: source.path, location: "metadata key tokenizer.ggml.merges", message: "merge \(i) '\(m)' is not two tokens")
            }
            pairs.append(.array([.string(a), .string(b)]))
        }
        let post = bosPostProcessor(t) ?? .object(JSONObject([
            ("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)), ("trim_offsets", .bool(false)), ("use_regex", .bool(true)),
        ]))
        let model: JSONValue = .object(JSONObject([
            ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
            ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)),
            ("ignore_merges", .bool(t.ignoresMerges)), ("vocab", .object(vocab)), ("merges", .array(pairs)),
        ]))
        return .object(JSONObject([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null), ("added_tokens", .array(added)),
            ("normalizer", .null), ("pre_tokenizer", try preTokenizerJSON(t.preTokenizer, path: source.path)),
            ("post_processor", post),
            ("decoder", .object(JSONObject([
                ("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)), ("trim_offsets", .bool(true)), ("use_regex", .bool(true)),
            ]))),
            ("model", model),
        ]))
    }

    /// A TemplateProcessing post-processor that puts the BOS token first, when `t` adds one.
    static func bosPostProcessor(_ t: Tokenizer) -> JSONValue? {
        var post: JSONValue?
        if t.addsBOS, let bos = t.bosID, let bosToken = t.token(forID: bos) {
            let special: JSONValue = .object(JSONObject([("SpecialToken", .object(JSONObject([("id", .string(bosToken)), ("type_id", .int(0))])))]))
            func seq(_ id: String) -> JSONValue { .object(JSONObject([("Sequence", .object(JSONObject([("id", .string(id)), ("type_id", .int(0))])))])) }
            post = .object(JSONObject([
                ("type", .string("TemplateProcessing")), ("single", .array([special, seq("A")])),
                ("pair", .array([special, seq("A"), special, seq("B")])),
                ("special_tokens", .object(JSONObject([(bosToken, .object(JSONObject([
                    ("id", .string(bosToken)), ("ids", .array([.int(Int(bos))])), ("tokens", .array([.string(bosToken)])),
                ])))]))),
            ]))
        }
        return post
    }

    static func tokenizerConfig(_ t: Tokenizer, maxPositions: Int) -> JSONValue {
        var o = JSONObject()
        o["add_bos_token"] = .bool(t.addsBOS)
        o["add_eos_token"] = .bool(t.addsEOS)
        for (key, id) in [("bos_token", t.bosID), ("eos_token", t.eosID), ("pad_token", t.padID), ("unk_token", t.unknownID)] {
            if let id, let s = t.token(forID: id) { o[key] = .string(s) }
        }
        if let template = t.chatTemplate { o["chat_template"] = .string(template) }
        o["clean_up_tokenization_spaces"] = .bool(false)
        o["model_max_length"] = .int(maxPositions)
        o["tokenizer_class"] = .string("PreTrainedTokenizerFast")
        return .object(o)
    }
}
