import IFTCore

/// The seven linear projections of a Llama block, by their Hugging Face / PEFT module names.
public enum Projection: String, CaseIterable, Sendable, Codable {
    case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj"
    case gate = "gate_proj", up = "up_proj", down = "down_proj"

    /// The module path under `model.layers.N.` (e.g. `self_attn.q_proj`).
    public var modulePath: String {
        switch self {
        case .q, .k, .v, .o: return "self_attn." + rawValue
        case .gate, .up, .down: return "mlp." + rawValue
        }
    }

    /// Parses `q`, `q_proj`, `self_attn.q_proj`, ... (case-insensitive).
    public init?(name: String) {
        let n = name.lowercased().split(separator: ".").last.map(String.init) ?? ""
        if let p = Projection(rawValue: n) { self = p; return }
        if let p = Projection(rawValue: n + "_proj") { self = p; return }
        return nil
    }

    /// Parses a comma-separated list; `all` means all seven.
    public static func parseList(_ s: String) throws -> [Projection] {
        if s.trimmedSpaces == "all" { return allCases }
        var out: [Projection] = []
        for part in s.split(separator: ",") {
            let name = String(part).trimmedSpaces
            guard let p = Projection(name: name) else {
                throw IFTError.invalidArgument(
                    "unknown LoRA target '\(name)'; expected a list of q,k,v,o,gate,up,down (or q_proj, ...), or 'all'")
            }
            if !out.contains(p) { out.append(p) }
        }
        guard !out.isEmpty else { throw IFTError.invalidArgument("LoRA targets: the list is empty") }
        return out
    }
}

extension String {
    /// Without leading and trailing spaces.
    fileprivate var trimmedSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}


extension Projection {
    /// llama.cpp's GGUF name of the projection (`attn_q`, ..., `ffn_down`), as in `blk.N.attn_q.weight`.
    public var ggufName: String {
        switch self {
        case .q: return "attn_q"
        case .k: return "attn_k"
        case .v: return "attn_v"
        case .o: return "attn_output"
        case .gate: return "ffn_gate"
        case .up: return "ffn_up"
        case .down: return "ffn_down"
        }
    }

    public init?(ggufName: String) {
        guard let p = Projection.allCases.first(where: { $0.ggufName == ggufName }) else { return nil }
        self = p
    }

    /// The weight's row-major shape `[out, in]` in a model of `config`.
    public func shape(in c: LlamaConfig) -> [Int] {
        let d = c.hiddenSize, f = c.intermediateSize
        let qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        switch self {
        case .q: return [qDim, d]
        case .k, .v: return [kvDim, d]
        case .o: return [d, qDim]
        case .gate, .up: return [f, d]
        case .down: return [d, f]
        }
    }

    /// Heads whose rows llama.cpp permutes in GGUF (Q and K of the families whose converter
    /// permutes them: Llama, Mistral), else nil (Qwen2/Qwen3 keep Hugging Face's order).
    public func permutedHeads(in c: LlamaConfig) -> Int? {
        guard c.family.ggufPermutesQK else { return nil }
        switch self {
        case .q: return c.headCount
        case .k: return c.kvHeadCount
        default: return nil
        }
    }
}

extension LlamaLayerWeights {
    /// The projection's weight `[out, in]`.
    public subscript(_ p: Projection) -> Tensor {
        get {
            switch p {
            case .q: return query
            case .k: return key
            case .v: return value
            case .o: return output
            case .gate: return gate
            case .up: return up
            case .down: return down
            }
        }
        set {
            switch p {
            case .q: query = newValue
            case .k: key = newValue
            case .v: value = newValue
            case .o: output = newValue
            case .gate: gate = newValue
            case .up: up = newValue
            case .down: down = newValue
            }
        }
    }
}
