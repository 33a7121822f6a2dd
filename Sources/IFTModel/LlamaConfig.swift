import IFTCore

/// The decoder families the engine runs: Llama's block (RMSNorm, rotate-half RoPE, grouped-query
/// attention, SwiGLU) and the variants that differ from it only in small ways.
public enum ModelFamily: String, CaseIterable, Sendable {
    /// Llama 2/3.x, SmolLM, TinyLlama (RoPE scaling `llama3`, `linear` or `yarn` where configured).
    case llama
    /// Mistral 7B: Llama's block; a sliding attention window only when it is shorter than the
    /// context used (refused then).
    case mistral
    /// Qwen2 / Qwen2.5: biases on the Q, K and V projections.
    case qwen2
    /// Qwen3: per-head RMSNorm of queries and keys (`q_norm`, `k_norm`) before RoPE.
    case qwen3
    /// Phi-3 / Phi-3.5 / Phi-4-mini: Llama's block with fused projections (`qkv_proj` holding Q, K,
    /// V rows; `gate_up_proj` holding gate, up rows), RoPE scaling `longrope` where configured.
    case phi3

    /// transformers' class for the family (`architectures` in `config.json`).
    public var huggingFaceArchitecture: String {
        switch self {
        case .llama: return "LlamaForCausalLM"
        case .mistral: return "MistralForCausalLM"
        case .qwen2: return "Qwen2ForCausalLM"
        case .qwen3: return "Qwen3ForCausalLM"
        case .phi3: return "Phi3ForCausalLM"
        }
    }

    /// llama.cpp's `general.architecture` for the family (Mistral is written as `llama`).
    public var ggufArchitecture: String {
        switch self {
        case .llama, .mistral: return "llama"
        case .qwen2: return "qwen2"
        case .qwen3: return "qwen3"
        case .phi3: return "phi3"
        }
    }

    /// Whether llama.cpp's converter permutes the Q/K rows (`LlamaModel.permute`) for this family.
    public var ggufPermutesQK: Bool { self == .llama || self == .mistral }

    /// The fused projections the family's checkpoints store (Phi-3: `qkv_proj`, `gate_up_proj`),
    /// each a row-wise concatenation of its `Projection.parts`; empty for the others.
    public var fusedProjections: [Projection] { self == .phi3 ? [.qkv, .gateUp] : [] }

    /// The linear modules of a block as the family's checkpoints (and PEFT) name them: the seven
    /// Llama projections, with Phi-3's fused ones in place of their parts.
    public var projections: [Projection] {
        let fused = fusedProjections
        return Projection.split.flatMap { p in
            if let f = fused.first(where: { $0.parts.contains(p) }) { return f.parts.first == p ? [f] : [] }
            return [p]
        }
    }

    /// LoRA targets for this family from a requested list: all of `Projection.allCases` (`all`)
    /// means every module the family has; otherwise each must be one of `projections`.
    public func loraTargets(_ requested: [Projection]) throws -> [Projection] {
        if Set(requested) == Set(Projection.allCases) { return projections }
        for p in requested where !projections.contains(p) {
            let hint = fusedProjections.first { $0.parts.contains(p) }.map { " (\(rawValue) fuses it into \($0.rawValue))" } ?? ""
            throw IFTError.invalidArgument(
                "LoRA target \(p.rawValue) is not a module of a \(rawValue) model\(hint); its modules: \(projections.map(\.rawValue).joined(separator: ", "))")
        }
        return requested
    }
}

/// The hyperparameters of a Llama-family decoder (Llama 2/3, SmolLM, TinyLlama, Mistral, Qwen2/2.5,
/// Qwen3; see `ModelFamily`), read from a Hugging Face `config.json` or from GGUF metadata.
public struct LlamaConfig: Equatable, Sendable {
    public var family: ModelFamily
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
    /// llama.cpp's `rope_freqs.weight` (how its converter stores Llama 3's RoPE scaling in GGUF):
    /// each inverse frequency is divided by its factor.
    public var ropeFrequencyFactors: [Double]?
    /// Biases on the Q, K and V projections (Qwen2; Llama/Qwen3 with `attention_bias`).
    public var qkvBias: Bool
    /// A bias on the attention output projection (Llama/Qwen3 with `attention_bias`).
    public var outputBias: Bool
    /// Per-head RMSNorm of queries and keys before RoPE (Qwen3), weights `[headDim]`.
    public var qkNorm: Bool
    /// The attention window of sliding-window layers (Mistral v0.1, Qwen2 with
    /// `use_sliding_window`); nil when every layer attends the whole context. The models refuse a
    /// context longer than the window.
    public var slidingWindow: Int?

    public init(
        vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int,
        kvHeadCount: Int? = nil, headDim: Int? = nil, ropeTheta: Double = 10_000, rmsNormEps: Double = 1e-5,
        maxPositions: Int = 2048, tieWordEmbeddings: Bool = false, bosTokenID: Int? = nil,
        eosTokenIDs: [Int] = [], ropeScaling: RopeScaling? = nil, family: ModelFamily = .llama, qkvBias: Bool = false,
        outputBias: Bool = false, qkNorm: Bool = false, slidingWindow: Int? = nil, ropeFrequencyFactors: [Double]? = nil
    ) {
        self.family = family
        self.qkvBias = qkvBias
        self.outputBias = outputBias
        self.qkNorm = qkNorm
        self.slidingWindow = slidingWindow
        self.ropeFrequencyFactors = ropeFrequencyFactors
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
        if let w = slidingWindow, w <= 0 { throw fail("sliding window must be positive, got \(w)") }
        if let f = ropeFrequencyFactors {
            guard f.count == headDim / 2, f.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw fail("rope_freqs: expected \(headDim / 2) positive factors, got \(f.count)")
            }
        }
        let scaling: RopeTable.Scaling?
        do { scaling = try ropeTableScaling() } catch IFTError.invalidArgument(let m) { throw fail(m) }
        if case .longrope(let f, _) = scaling, f.count != headDim / 2 {
            throw fail("longrope: expected \(headDim / 2) short and long factors (half the head dim \(headDim)), got \(f.count)")
        }
    }

    /// The RoPE scaling `RopeTable` applies (nil: plain RoPE).
    public func ropeTableScaling() throws -> RopeTable.Scaling? {
        if let f = ropeFrequencyFactors {
            if ropeScaling != nil { throw IFTError.invalidArgument("both rope_freqs factors and RoPE scaling '\(ropeScaling!.type)' are given") }
            return .frequencyFactors(f)
        }
        return try ropeScaling.map { try $0.tableScaling(maxPositions: maxPositions) }
    }

    /// The cos/sin table (see `RopeTable`) for positions `0..<positions`, with the model's scaling.
    public func ropeTable(positions: Int) throws -> [Float] {
        RopeTable.make(theta: ropeTheta, headDim: headDim, maxPositions: positions, scaling: try ropeTableScaling())
    }

    /// The context a model runs with when `requested` positions are asked for (nil: the model's
    /// own): at most `maxPositions`; with a sliding window shorter than that, the window when
    /// nothing was asked for, and an error when more was asked for (see `checkContext`).
    public func contextPositions(requested: Int?) throws -> Int {
        var positions = min(requested ?? maxPositions, maxPositions)
        if requested == nil, let o = longRopeContext { positions = min(positions, o) }
        if requested == nil, let w = slidingWindow, w < positions { return w }
        try checkContext(positions)
        return positions
    }

    /// Throws unless a model may run over `positions` positions: a sliding attention window
    /// shorter than that is not implemented, nor LongRoPE's switch to its long factors past the
    /// original context (see `longRopeContext`).
    public func checkContext(_ positions: Int) throws {
        if let o = longRopeContext, o < positions {
            throw IFTError.invalidArgument(
                "this \(family.rawValue) model's longrope RoPE scaling uses its long factors past \(o) positions (original_max_position_embeddings), "
                    + "which the engine does not implement; use a context of at most \(o) positions (asked: \(positions))")
        }
        if let w = slidingWindow, w < positions {
            throw IFTError.invalidArgument(
                "this \(family.rawValue) model attends through a sliding window of \(w) positions, which the engine does not implement; "
                    + "use a context of at most \(w) positions (the model's is \(positions))")
        }
    }

    /// LongRoPE's `original_max_position_embeddings`: up to it transformers (and llama.cpp) rotate
    /// with the short factors, which is what the engine implements; nil without longrope.
    public var longRopeContext: Int? {
        guard let s = ropeScaling, s.type == "longrope", let o = s.parameters["original_max_position_embeddings"] else { return nil }
        return Int(o)
    }

    /// The optional parts of the block, for error messages.
    var structureSummary: String {
        "Q/K/V biases: \(qkvBias ? "yes" : "no"), output bias: \(outputBias ? "yes" : "no"), Q/K norms: \(qkNorm ? "yes" : "no")"
    }

    /// What sets the model apart from plain Llama, for `model info` (e.g. "qwen2: Q/K/V biases").
    public var differences: [String] {
        var out: [String] = []
        if !family.fusedProjections.isEmpty { out.append("fused " + family.fusedProjections.map(\.rawValue).joined(separator: " and ")) }
        if qkvBias { out.append(outputBias ? "Q/K/V/O biases" : "Q/K/V biases") }
        if qkNorm { out.append("per-head Q/K RMSNorm") }
        if let s = ropeScaling {
            var d = "rope scaling \(s.type)"
            if let f = s.factor { d += " factor \(f.compactText)" }
            for k in s.parameters.keys.sorted() where k != "factor" { d += " \(k) \(s.parameters[k]!.compactText)" }
            if let f = s.shortFactor { d += " short_factor (\(f.count), max \((f.max() ?? 0).compactText))" }
            out.append(d)
        }
        if let f = ropeFrequencyFactors { out.append("rope scaling by rope_freqs (\(f.count) factors, max \(f.max()!.compactText))") }
        if let w = slidingWindow { out.append("sliding window \(w)") }
        if tieWordEmbeddings { out.append("tied embeddings") }
        return out
    }
}

extension Double {
    /// `8` for 8.0, `0.25` for 0.25: for messages.
    var compactText: String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}
