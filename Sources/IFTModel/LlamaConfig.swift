import IFTCore

/// The hyperparameters of a Llama-family decoder (Llama 2/3, SmolLM, TinyLlama, Mistral without
/// sliding window, ...), read from a Hugging Face `config.json` or from GGUF metadata.
public struct LlamaConfig: Equatable, Sendable {
    public var vocabSize: Int
    /// Model width (`hidden_size`, GGUF `embedding_length`).
    public var hiddenSize: Int
    /// MLP width (`intermediate_size`, GGUF `feed_forward_length`).
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    /// Key/value heads (grouped-query attention); equals `headCount` for plain multi-head.
    public var kvHeadCount: Int
    /// Per-head width; usually `hiddenSize / headCount` (HF `head_dim`, GGUF `key_length`).
    public var headDim: Int
    public var ropeTheta: Double
    public var rmsNormEps: Double
    /// Context length the model was trained for (`max_position_embeddings`, GGUF
    /// `context_length`).
    public var maxPositions: Int
    /// The output projection reuses the token embedding (GGUF: no `output.weight` tensor).
    public var tieWordEmbeddings: Bool
    public var bosTokenID: Int?
    /// End-of-sequence ids (Llama 3.x lists several in `config.json`).
    public var eosTokenIDs: [Int]
    /// `rope_scaling` from `config.json` (its `rope_type`/`type` and numeric fields), or the GGUF
    /// `rope.scaling.*` keys; nil when the model uses plain RoPE. The model code must honour it
    /// or refuse the model.
    public var ropeScaling: RopeScaling?

    public struct RopeScaling: Equatable, Sendable {
        /// `linear`, `llama3`, `yarn`, `dynamic`, ...
        public var type: String
        public var factor: Double?
        /// Every numeric field as given (e.g. `low_freq_factor`, `original_max_position_embeddings`).
        public var parameters: [String: Double]

        public init(type: String, factor: Double?, parameters: [String: Double] = [:]) {
            self.type = type
            self.factor = factor
            self.parameters = parameters
        }
    }

    public init(
        vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int,
        kvHeadCount: Int? = nil, headDim: Int? = nil, ropeTheta: Double = 10_000, rmsNormEps: Double = 1e-5,
        maxPositions: Int = 2048, tieWordEmbeddings: Bool = false, bosTokenID: Int? = nil,
        eosTokenIDs: [Int] = [], ropeScaling: RopeScaling? = nil
    ) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount ?? headCount
        self.headDim = headDim ?? (headCount > 0 ? hiddenSize / headCount : 0)
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.maxPositions = maxPositions
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.ropeScaling = ropeScaling
    }

    /// Throws unless the numbers describe a buildable model (positive sizes, heads dividing
    /// evenly, even head width for RoPE); `source` names the file for the error.
    public func validate(source: String) throws {
        func fail(_ m: String) -> IFTError { IFTError.file(path: source, location: "config", message: m) }
        for (name, v) in [("vocab size", vocabSize), ("hidden size", hiddenSize), ("intermediate size", intermediateSize),
                          ("layer count", layerCount), ("head count", headCount), ("kv head count", kvHeadCount),
                          ("head dim", headDim), ("max positions", maxPositions)] where v <= 0 {
            throw fail("\(name) must be positive, got \(v)")
        }
        guard headCount % kvHeadCount == 0 else {
            throw fail("head count \(headCount) is not a multiple of the kv head count \(kvHeadCount)")
        }
        guard headDim % 2 == 0 else { throw fail("head dim \(headDim) must be even for RoPE") }
        guard ropeTheta > 0, rmsNormEps > 0 else {
            throw fail("rope theta (\(ropeTheta)) and rms eps (\(rmsNormEps)) must be positive")
        }
        if let b = bosTokenID, b < 0 || b >= vocabSize { throw fail("bos token id \(b) is outside the vocabulary (\(vocabSize))") }
        for e in eosTokenIDs where e < 0 || e >= vocabSize {
            throw fail("eos token id \(e) is outside the vocabulary (\(vocabSize))")
        }
    }

    // MARK: - Hugging Face config.json

    /// Reads a Hugging Face `config.json`.
    public init(configJSONPath path: String) throws {
        try self.init(huggingFace: JSONValue.parse(contentsOf: path), path: path)
    }

    /// From a parsed Hugging Face `config.json`. Required: `vocab_size`, `hidden_size`,
    /// `intermediate_size`, `num_hidden_layers`, `num_attention_heads`. Defaults follow
    /// transformers' `LlamaConfig`: `num_key_value_heads` = heads, `rope_theta` 10000,
    /// `rms_norm_eps` 1e-6, `max_position_embeddings` 2048, `tie_word_embeddings` false.
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
        if let t = o["model_type"]?.stringValue, !["llama", "mistral"].contains(t) {
            throw fail("model_type", "model type '\(t)' is not a Llama-family model this engine supports (llama, mistral)")
        }
        var tie = false
        if let v = o["tie_word_embeddings"], !v.isNull {
            guard let b = v.boolValue else { throw fail("tie_word_embeddings", "expected a bool, found \(v.typeName) \(v)") }
            tie = b
        }
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
        var scaling: RopeScaling?
        if let v = o["rope_scaling"], !v.isNull {
            guard let s = v.objectValue, let type = (s["rope_type"] ?? s["type"])?.stringValue else {
                throw fail("rope_scaling", "expected an object with a \"rope_type\" or \"type\" string, found \(v)")
            }
            var params: [String: Double] = [:]
            for (k, x) in s.members { if let d = x.doubleValue { params[k] = d } }
            if type != "default" { scaling = RopeScaling(type: type, factor: params["factor"], parameters: params) }
        }
        self.init(
            vocabSize: try required("vocab_size"),
            hiddenSize: try required("hidden_size"),
            intermediateSize: try required("intermediate_size"),
            layerCount: try required("num_hidden_layers"),
            headCount: try required("num_attention_heads"),
            kvHeadCount: try int("num_key_value_heads"),
            headDim: try int("head_dim"),
            ropeTheta: try double("rope_theta", 10_000),
            rmsNormEps: try double("rms_norm_eps", 1e-6),
            maxPositions: try int("max_position_embeddings", 2048)!,
            tieWordEmbeddings: tie,
            bosTokenID: try int("bos_token_id"),
            eosTokenIDs: eos,
            ropeScaling: scaling)
        try validate(source: path)
    }

    // MARK: - GGUF metadata

    /// From GGUF metadata: `general.architecture` (must be `llama`) names the key prefix;
    /// `{arch}.embedding_length`, `.block_count`, `.feed_forward_length`,
    /// `.attention.head_count`, `.attention.head_count_kv` (default: head_count),
    /// `.rope.freq_base` (default 10000), `.attention.layer_norm_rms_epsilon` (default 1e-5),
    /// `.context_length`, `.vocab_size` or the length of `tokenizer.ggml.tokens`,
    /// `.attention.key_length` (default width / heads); bos from `tokenizer.ggml.bos_token_id`,
    /// end-of-generation ids from `tokenizer.ggml.eos_token_id` / `eot_token_id` / `eom_token_id`;
    /// tied embeddings when the file has no `output.weight` tensor.
    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata
        let arch = try m.stringIfPresent("general.architecture") ?? "llama"
        guard arch == "llama" else {
            throw IFTError.file(path: gguf.path, location: "metadata key general.architecture",
                                message: "architecture '\(arch)' is not supported (expected llama)")
        }
        let p = arch + "."
        var vocab = try m.intIfPresent(p + "vocab_size")
        if vocab == nil, let tokens = m["tokenizer.ggml.tokens"] {
            guard let n = tokens.arrayValue?.count else {
                throw IFTError.file(path: gguf.path, location: "metadata key tokenizer.ggml.tokens", message: "expected an array of strings, found \(tokens.typeName)")
            }
            vocab = n
        }
        guard let vocab else {
            throw IFTError.file(path: gguf.path, location: "metadata key \(p)vocab_size",
                                message: "missing, and there is no tokenizer.ggml.tokens array to count")
        }
        var scaling: RopeScaling?
        if let t = try m.stringIfPresent(p + "rope.scaling.type"), t != "none" {
            var params: [String: Double] = [:]
            for (k, v) in m.entries where k.hasPrefix(p + "rope.scaling.") {
                if let d = v.doubleValue { params[String(k.dropFirst((p + "rope.scaling.").count))] = d }
            }
            scaling = RopeScaling(type: t, factor: params["factor"], parameters: params)
        }
        // End of generation: eos, then end-of-turn / end-of-message when distinct (llama.cpp's
        // "eog" set).
        var eos: [Int] = []
        for k in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try m.intIfPresent(k), !eos.contains(id) { eos.append(id) }
        }
        let heads = try m.int(p + "attention.head_count")
        let width = try m.int(p + "embedding_length")
        self.init(
            vocabSize: vocab,
            hiddenSize: width,
            intermediateSize: try m.int(p + "feed_forward_length"),
            layerCount: try m.int(p + "block_count"),
            headCount: heads,
            kvHeadCount: try m.intIfPresent(p + "attention.head_count_kv"),
            headDim: try m.intIfPresent(p + "attention.key_length"),
            ropeTheta: try m.doubleIfPresent(p + "rope.freq_base") ?? 10_000,
            rmsNormEps: try m.doubleIfPresent(p + "attention.layer_norm_rms_epsilon") ?? 1e-5,
            maxPositions: try m.int(p + "context_length"),
            tieWordEmbeddings: !gguf.contains(tensor: "output.weight"),
            bosTokenID: try m.intIfPresent("tokenizer.ggml.bos_token_id"),
            eosTokenIDs: eos,
            ropeScaling: scaling)
        if let rot = try m.intIfPresent(p + "rope.dimension_count"), rot != headDim {
            throw IFTError.file(path: gguf.path, location: "metadata key \(p)rope.dimension_count",
                                message: "RoPE over \(rot) of \(headDim) head dimensions (partial rotary) is not supported")
        }
        try validate(source: gguf.path)
    }
}
