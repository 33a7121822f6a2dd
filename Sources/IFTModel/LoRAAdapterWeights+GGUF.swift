import IFTCore

/// llama.cpp's LoRA adapter GGUF, as `convert_lora_to_gguf.py` writes it and `llama_adapter_lora_init`
/// reads it: `general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha` (f32),
/// `general.architecture` of the base (its family's GGUF architecture: llama, qwen2, qwen3, phi3 — whose
/// fused modules are `attn_qkv` and `ffn_up`), and per adapted weight `blk.N.<name>.weight.lora_a` (row-major
/// `[r, in]`, GGUF ne `[in, r]`) and `.lora_b` (`[out, r]`, ne `[r, out]`) — PEFT's orientation. Q and
/// K are permuted as llama.cpp permutes the base weights (Llama and Mistral only): the rows of `lora_b`
/// (see `QKPermutation`).
/// llama.cpp's factor is `alpha / r`; an rsLoRA adapter (`alpha / sqrt(r)`) is written with
/// `alpha · sqrt(r)` so that the factor is the same.
extension LoRAAdapterWeights {
    public static let ggufTypeKey = "general.type"
    public static let ggufAdapterTypeKey = "adapter.type"
    public static let ggufAlphaKey = "adapter.lora.alpha"
    public static let ggufBaseModelKey = "ift_gpu.base_model"
    public static let ggufPromptStyleKey = "ift_gpu.prompt_style"

    /// Reads a GGUF LoRA adapter for a model of `config` (needed to undo the Q/K permutation).
    public init(gguf: GGUFFile, config c: LlamaConfig) throws {
        let m = gguf.metadata
        func fail(_ key: String, _ msg: String) -> IFTError { IFTError.file(path: gguf.path, location: "metadata key \(key)", message: msg) }
        guard let type = try m.stringIfPresent(Self.ggufTypeKey) else {
            throw fail(Self.ggufTypeKey, "missing: not a LoRA adapter (a model file? pass it as --model)")
        }
        guard type == "adapter" else { throw fail(Self.ggufTypeKey, "'\(type)': not a LoRA adapter (expected \"adapter\")") }
        let kind = try m.stringIfPresent(Self.ggufAdapterTypeKey)
        guard kind == "lora" else { throw fail(Self.ggufAdapterTypeKey, "'\(kind ?? "missing")': expected \"lora\"") }
        let arch = try m.stringIfPresent("general.architecture") ?? "missing"
        guard arch == c.family.ggufArchitecture else {
            throw fail(
                "general.architecture",
                "adapter for architecture '\(arch)', but the base model is \(c.family.rawValue) (GGUF architecture '\(c.family.ggufArchitecture)')")
        }
        guard let alpha = try m.floatIfPresent(Self.ggufAlphaKey) else { throw fail(Self.ggufAlphaKey, "missing (expected the LoRA alpha, a number)") }
        var found: [Int: [Projection: (a: [Float]?, b: [Float]?)]] = [:]
        var rank: Int?
        for info in gguf.tensors {
            let name = info.name
            func bad(_ msg: String) -> IFTError { IFTError.file(path: gguf.path, location: "tensor \(name)", message: msg) }
            let parts = name.split(separator: ".").map(String.init)
            guard parts.count == 5, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0, parts[3] == "weight",
                parts[4] == "lora_a" || parts[4] == "lora_b"
            else {
                throw bad("not a LoRA tensor of a projection (expected blk.N.attn_q.weight.lora_a and the like)")
            }
            // The family's own module first: Phi-3's `ffn_up` is the fused gate_up_proj.
            guard let p = c.family.projections.first(where: { $0.ggufName == parts[2] }) ?? Projection(ggufName: parts[2]) else {
                throw bad("unknown target module '\(parts[2])'; LoRA applies to attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down")
            }
            guard layer < c.layerCount else { throw bad("layer \(layer); the model has \(c.layerCount) layers (an adapter for another model?)") }
            let isA = parts[4] == "lora_a"
            let shape = p.shape(in: c)
            guard info.shape.count == 2 else { throw bad("expected a matrix, found shape \(info.shape)") }
            let r = isA ? info.shape[0] : info.shape[1]
            if let rank, rank != r { throw bad("rank \(r) differs from the adapter's other tensors (rank \(rank))") }
            rank = r
            let expected = isA ? [r, shape[1]] : [shape[0], r]
            guard info.shape == expected else {
                throw bad("shape \(info.shape) (row-major) does not fit the model's \(p.rawValue) \(shape): expected \(expected)")
            }
            var values = try gguf.floats(name)
            if !isA, let heads = p.permutedHeads(in: c) {
                values = try QKPermutation.unpermuteFromGGUF(weights: values, rows: shape[0], cols: r, heads: heads)
            }
            var entry = found[layer, default: [:]][p] ?? (nil, nil)
            if isA { entry.a = values } else { entry.b = values }
            found[layer, default: [:]][p] = entry
        }
        guard let rank else { throw IFTError.file(path: gguf.path, location: "tensors", message: "the adapter holds no LoRA tensors") }
        var layers = [[Projection: Pair]](repeating: [:], count: c.layerCount)
        var targets: [Projection] = []
        for (i, mods) in found {
            for (p, e) in mods {
                let name = "blk.\(i).\(p.ggufName).weight"
                guard let a = e.a else { throw IFTError.file(path: gguf.path, location: "tensor \(name).lora_a", message: "missing (lora_b is there)") }
                guard let b = e.b else { throw IFTError.file(path: gguf.path, location: "tensor \(name).lora_b", message: "missing (lora_a is there)") }
                layers[i][p] = Pair(a: a, b: b)
                if !targets.contains(p) { targets.append(p) }
            }
        }
        self.init(
            rank: rank, alpha: alpha, rsLoRA: false, targets: Projection.allCases.filter(targets.contains), layers: layers,
            source: gguf.path, baseModel: try m.stringIfPresent(Self.ggufBaseModelKey),
            promptStyle: try m.stringIfPresent(Self.ggufPromptStyleKey))
    }

    /// The alpha that gives llama.cpp's `alpha / r` this adapter's factor.
    public var llamaCppAlpha: Float { scale * Float(rank) }

    /// Writes the adapter as a llama.cpp GGUF LoRA (F32, F16 or BF16 tensors) for a model of
    /// `config`, atomically.
    public func writeGGUF(to path: String, config c: LlamaConfig, type: GGMLType = .f32, name: String? = nil) throws {
        guard [.f32, .f16, .bf16].contains(type) else {
            throw IFTError.invalidArgument("a GGUF LoRA is written as F32, F16 or BF16, not \(type)")
        }
        try validate(against: c)
        var w = try GGUFWriter()
        try w.add("general.architecture", .string(c.family.ggufArchitecture))
        try w.add(Self.ggufTypeKey, .string("adapter"))
        if let name { try w.add("general.name", .string(name)) }
        try w.add(Self.ggufAdapterTypeKey, .string("lora"))
        try w.add(Self.ggufAlphaKey, .float32(llamaCppAlpha))
        if let baseModel { try w.add(Self.ggufBaseModelKey, .string(baseModel)) }
        if let promptStyle { try w.add(Self.ggufPromptStyleKey, .string(promptStyle)) }
        for (i, layer) in layers.enumerated() {
            for p in Projection.allCases {
                guard let pair = layer[p] else { continue }
                let shape = p.shape(in: c)
                var b = pair.b
                if let heads = p.permutedHeads(in: c) {
                    b = try QKPermutation.permuteForGGUF(weights: b, rows: shape[0], cols: rank, heads: heads)
                }
                let base = "blk.\(i).\(p.ggufName).weight"
                try w.addTensor(name: base + ".lora_a", shape: [rank, shape[1]], floats: pair.a, as: type)
                try w.addTensor(name: base + ".lora_b", shape: [shape[0], rank], floats: b, as: type)
            }
        }
        try w.write(to: path)
    }
}
