import IFTCore

/// The linear projections of a Llama block, by their Hugging Face / PEFT module names: the seven
/// of Llama's block (`split`), and the fused ones some families store instead (Phi-3's `qkv_proj`
/// and `gate_up_proj`: one weight whose output rows are its `parts` in order).
public enum Projection: String, CaseIterable, Sendable, Codable {
    case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj"
    case gate = "gate_proj", up = "up_proj", down = "down_proj"
    case qkv = "qkv_proj", gateUp = "gate_up_proj"

    /// The seven projections of Llama's block (what `LlamaLayerWeights` stores).
    public static let split: [Projection] = [.q, .k, .v, .o, .gate, .up, .down]

    /// The module path under `model.layers.N.` (e.g. `self_attn.q_proj`).
    public var modulePath: String {
        switch self {
        case .q, .k, .v, .o, .qkv: return "self_attn." + rawValue
        case .gate, .up, .down, .gateUp: return "mlp." + rawValue
        }
    }

    /// The projections whose output rows a fused projection holds, in order (`qkv`: q, k, v;
    /// `gateUp`: gate, up); `[self]` for the others.
    public var parts: [Projection] {
        switch self {
        case .qkv: return [.q, .k, .v]
        case .gateUp: return [.gate, .up]
        default: return [self]
        }
    }

    /// Whether the projection is a fused one (more than one part).
    public var isFused: Bool { parts.count > 1 }

    /// Each part of the projection with its first output row, in a model of `config`.
    public func partRows(in c: LlamaConfig) -> [(part: Projection, row: Int)] {
        var row = 0
        return parts.map { p in
            defer { row += p.shape(in: c)[0] }
            return (p, row)
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
                    "unknown LoRA target '\(name)'; expected a list of q,k,v,o,gate,up,down (or q_proj, ...; Phi-3: qkv,o,gate_up,down), or 'all'")
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
        case .qkv: return "attn_qkv"
        case .gateUp: return "ffn_up"  // llama.cpp's phi3: gate and up rows in one ffn_up
        }
    }

    /// The split projection of a GGUF name (`ffn_up` is `up`; Phi-3's fused one reads as `gateUp`
    /// only where the family says so).
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
        case .qkv: return [qDim + 2 * kvDim, d]
        case .gateUp: return [2 * f, d]
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
    /// The projection's weight `[out, in]`. A fused projection is stored as its parts: callers
    /// split first (`Projection.parts`), and asking for one is a programming error.
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
            case .qkv, .gateUp: preconditionFailure("LlamaLayerWeights holds \(p.rawValue) as its parts \(p.parts.map(\.rawValue))")
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
            case .qkv, .gateUp: preconditionFailure("LlamaLayerWeights holds \(p.rawValue) as its parts \(p.parts.map(\.rawValue))")
            }
        }
    }
}
