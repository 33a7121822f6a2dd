import IFTCore

/// A LoRA adapter as data: for each layer and targeted projection the matrices A `[r, in]` and
/// B `[out, r]` (PEFT's orientation, Hugging Face's rotate-half row order for Q/K), and the factor
/// on `B · A`. Read from a PEFT directory (`adapter_config.json` + `adapter_model.safetensors`) or a
/// llama.cpp GGUF LoRA (`LoRAAdapterWeights+GGUF.swift`), written back to either, applied to a
/// model without merging (`LlamaModel.attach`) or merged into its weights (`merge(into:)`).
public struct LoRAAdapterWeights {
    public struct Pair {
        public var a: [Float]
        public var b: [Float]

        public init(a: [Float], b: [Float]) {
            self.a = a
            self.b = b
        }
    }

    public var rank: Int
    public var alpha: Float
    /// rsLoRA: the factor is `alpha / sqrt(rank)` instead of `alpha / rank`.
    public var rsLoRA: Bool
    public var targets: [Projection]
    /// `layers[i][p]`: layer i's adapter on projection p, when it has one.
    public var layers: [[Projection: Pair]]
    /// The file or directory it came from (for errors), or a description.
    public var source: String
    /// The base model it was trained on, when recorded.
    public var baseModel: String?
    /// The prompt style it was trained with (ift-gpu's `alpaca`, `chatml`, ...), when recorded.
    public var promptStyle: String?

    public init(
        rank: Int, alpha: Float, rsLoRA: Bool, targets: [Projection], layers: [[Projection: Pair]], source: String,
        baseModel: String? = nil, promptStyle: String? = nil
    ) {
        self.rank = rank
        self.alpha = alpha
        self.rsLoRA = rsLoRA
        self.targets = targets
        self.layers = layers
        self.source = source
        self.baseModel = baseModel
        self.promptStyle = promptStyle
    }

    /// The factor on `B · A`.
    public var scale: Float { rsLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    /// Reads a PEFT adapter directory or a GGUF LoRA file, checked against `config`.
    public static func load(_ path: String, config: LlamaConfig) throws -> LoRAAdapterWeights {
        var adapter: LoRAAdapterWeights
        if FileSystem.isDirectory(path) {
            adapter = try LoRAAdapterWeights(peftDirectory: path)
        } else if FileSystem.exists(path) {
            adapter = try LoRAAdapterWeights(gguf: try GGUFFile(path: path), config: config)
        } else {
            throw IFTError.file(path: path, location: "adapter", message: "no such file or directory (expected a PEFT adapter directory or a GGUF LoRA file)")
        }
        try adapter.fit(layerCount: config.layerCount)
        try adapter.validate(against: config)
        return adapter
    }

    /// Throws unless every matrix fits `config`'s projections with this rank.
    public func validate(against c: LlamaConfig) throws {
        guard layers.count == c.layerCount else {
            throw IFTError.file(path: source, location: "adapter", message: "adapter for \(layers.count) layers; the model has \(c.layerCount)")
        }
        guard rank >= 1, alpha.isFinite, alpha > 0 else {
            throw IFTError.file(path: source, location: "adapter config", message: "rank \(rank) and alpha \(alpha) must be positive")
        }
        var any = false
        for (i, layer) in layers.enumerated() {
            for p in Projection.allCases {
                guard let pair = layer[p] else { continue }
                let shape = p.shape(in: c)
                let name = "model.layers.\(i).\(p.modulePath)"
                guard pair.a.count == rank * shape[1] else {
                    throw IFTError.file(
                        path: source, location: "tensor \(name).lora_A",
                        message: "\(pair.a.count) values; expected [\(rank), \(shape[1])] (rank \(rank) x the model's input width)")
                }
                guard pair.b.count == shape[0] * rank else {
                    throw IFTError.file(
                        path: source, location: "tensor \(name).lora_B",
                        message: "\(pair.b.count) values; expected [\(shape[0]), \(rank)] (the model's output width x rank \(rank))")
                }
                any = true
            }
        }
        guard any else { throw IFTError.file(path: source, location: "adapter", message: "the adapter holds no LoRA weights") }
    }

    /// `weights` with `W + scale · B · A` in f32 for every adapted projection (others shared as they are).
    public func merge(into weights: LlamaWeights, backend b: any Backend) throws -> LlamaWeights {
        var out = weights
        for (i, layer) in layers.enumerated() where i < out.layers.count {
            for (p, pair) in splitPairs(layer, rows: { out.layers[i][$0].shape[0] }) {
                let w = out.layers[i][p]
                let f = try LlamaModel.floatCopy(w, b)
                let (outDim, inDim) = (w.shape[0], w.shape[1])
                let a = try b.tensor(pair.a, shape: [rank, inDim])
                let bm = try b.tensor(pair.b, shape: [outDim, rank])
                try b.matmul(bm, a, f, MatmulDescriptor(m: outDim, n: inDim, k: rank, alpha: scale, beta: 1))
                out.layers[i][p] = f
            }
        }
        return out
    }

    // MARK: - PEFT

    public static let peftConfigFile = "adapter_config.json"
    public static let peftWeightsFile = "adapter_model.safetensors"
    /// ift-gpu's own notes beside a PEFT adapter (base model, prompt style, mode).
    public static let infoFile = "ift_gpu.json"

    /// Reads a PEFT LoRA directory. Refused: other PEFT types, DoRA, per-module rank or alpha
    /// patterns, trained biases, `fan_in_fan_out`, modules other than the Llama projections (and
    /// Phi-3's fused `qkv_proj`, `gate_up_proj`),
    /// tensors disagreeing with the config's rank or targets.
    public init(peftDirectory dir: String) throws {
        let configPath = dir + "/" + Self.peftConfigFile
        let weightsPath = dir + "/" + Self.peftWeightsFile
        guard FileSystem.exists(configPath) else {
            throw IFTError.file(path: dir, location: "adapter", message: "no \(Self.peftConfigFile) (expected a PEFT adapter directory)")
        }
        guard FileSystem.exists(weightsPath) else {
            let bin = FileSystem.exists(dir + "/adapter_model.bin") ? " (adapter_model.bin, a pickle, is not read: save with safetensors)" : ""
            throw IFTError.file(path: dir, location: "adapter", message: "no \(Self.peftWeightsFile)\(bin)")
        }
        let json = try JSONValue.parse(contentsOf: configPath)
        guard let c = json.objectValue else {
            throw IFTError.file(path: configPath, location: "line 1", message: "expected a JSON object")
        }
        func fail(_ key: String, _ m: String) -> IFTError { IFTError.file(path: configPath, location: "key \(key)", message: m) }
        if let t = c["peft_type"], !t.isNull {
            guard t.stringValue == "LORA" else { throw fail("peft_type", "'\(t)' is not a LoRA adapter (expected \"LORA\")") }
        }
        guard let r = c["r"]?.intValue else { throw fail("r", "missing (expected the LoRA rank, an integer)") }
        guard r >= 1 else { throw fail("r", "the rank must be >= 1, got \(r)") }
        guard let alpha = c["lora_alpha"]?.doubleValue else { throw fail("lora_alpha", "missing (expected a number)") }
        var rs = false
        if let v = c["use_rslora"], !v.isNull {
            guard let b = v.boolValue else { throw fail("use_rslora", "expected a bool, found \(v)") }
            rs = b
        }
        if c["use_dora"]?.boolValue == true { throw fail("use_dora", "DoRA adapters are not supported") }
        if c["fan_in_fan_out"]?.boolValue == true {
            throw fail("fan_in_fan_out", "fan_in_fan_out (GPT-2 Conv1D weights) does not apply to Llama projections")
        }
        for key in ["rank_pattern", "alpha_pattern"] {
            if let o = c[key]?.objectValue, o.count > 0 { throw fail(key, "per-module ranks or alphas are not supported") }
        }
        if let bias = c["bias"]?.stringValue, bias != "none" { throw fail("bias", "'\(bias)': trained biases are not supported (expected \"none\")") }
        if let m = c["modules_to_save"]?.arrayValue, !m.isEmpty {
            throw fail("modules_to_save", "fully trained modules (\(m.compactMap(\.stringValue).joined(separator: ", "))) are not supported")
        }
        var targets: [Projection] = []
        guard let t = c["target_modules"], !t.isNull else { throw fail("target_modules", "missing (expected a list of module names)") }
        if let s = t.stringValue {
            guard s == "all-linear" else { throw fail("target_modules", "a regular expression ('\(s)') is not supported; list the modules") }
            targets = Projection.allCases
        } else if let list = t.arrayValue {
            for v in list {
                guard let name = v.stringValue, let p = Projection(name: name) else {
                    throw fail("target_modules", "unknown target module '\(v.stringValue ?? v.description)'; expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (Phi-3: qkv_proj, gate_up_proj)")
                }
                if !targets.contains(p) { targets.append(p) }
            }
        } else {
            throw fail("target_modules", "expected a list of module names, found \(t.typeName)")
        }
        guard !targets.isEmpty else { throw fail("target_modules", "the list is empty") }

        let file = try SafetensorsFile(path: weightsPath)
        var found: [Int: [Projection: (a: [Float]?, b: [Float]?)]] = [:]
        for info in file.tensors {
            let name = info.name
            func bad(_ m: String) -> IFTError { IFTError.file(path: weightsPath, location: "tensor \(name)", message: m) }
            // base_model.model.model.layers.N.<module path>.lora_A.weight (optionally .default. before weight)
            var parts = name.split(separator: ".").map(String.init)
            if parts.count > 2 && parts[parts.count - 2] == "default" { parts.remove(at: parts.count - 2) }
            guard parts.count == 9, parts[0] == "base_model", parts[1] == "model", parts[2] == "model", parts[3] == "layers",
                let layer = Int(parts[4]), layer >= 0, parts[8] == "weight", parts[7] == "lora_A" || parts[7] == "lora_B"
            else {
                throw bad("not a LoRA weight of a Llama projection (expected base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight and the like)")
            }
            guard let p = Projection(rawValue: parts[6]), p.modulePath == parts[5] + "." + parts[6] else {
                throw bad("unknown target module '\(parts[5]).\(parts[6])'; LoRA applies to the seven Llama projections")
            }
            guard targets.contains(p) else {
                throw bad("adapts \(p.rawValue), which target_modules in \(Self.peftConfigFile) does not list")
            }
            let values = try file.floats(name)
            let isA = parts[7] == "lora_A"
            guard info.shape.count == 2, (isA ? info.shape[0] : info.shape[1]) == r else {
                throw bad("shape \(info.shape) does not have rank r = \(r) from \(Self.peftConfigFile) (lora_A is [r, in], lora_B [out, r])")
            }
            var entry = found[layer, default: [:]][p] ?? (nil, nil)
            if isA { entry.a = values } else { entry.b = values }
            found[layer, default: [:]][p] = entry
        }
        let layerCount = (found.keys.max() ?? -1) + 1
        var layers = [[Projection: Pair]](repeating: [:], count: layerCount)
        for (i, mods) in found {
            for (p, e) in mods {
                let name = "base_model.model.model.layers.\(i).\(p.modulePath)"
                guard let a = e.a else { throw IFTError.file(path: weightsPath, location: "tensor \(name).lora_A.weight", message: "missing (lora_B is there)") }
                guard let b = e.b else { throw IFTError.file(path: weightsPath, location: "tensor \(name).lora_B.weight", message: "missing (lora_A is there)") }
                layers[i][p] = Pair(a: a, b: b)
            }
        }
        var base = c["base_model_name_or_path"]?.stringValue
        var style: String?
        let infoPath = dir + "/" + Self.infoFile
        if FileSystem.exists(infoPath), let info = try JSONValue.parse(contentsOf: infoPath).objectValue {
            if let b = info["base_model"]?.stringValue { base = b }
            style = info["prompt_style"]?.stringValue
        }
        self.init(rank: r, alpha: Float(alpha), rsLoRA: rs, targets: targets, layers: layers, source: weightsPath, baseModel: base, promptStyle: style)
    }

    /// Checks that `layerCount` matches, padding or refusing (an adapter naming layer 40 of a
    /// 30-layer model).
    mutating func fit(layerCount: Int) throws {
        if layers.count > layerCount {
            throw IFTError.file(
                path: source, location: "tensor model.layers.\(layers.count - 1)",
                message: "adapter for layer \(layers.count - 1); the model has \(layerCount) layers (an adapter for another model?)")
        }
        while layers.count < layerCount { layers.append([:]) }
    }

    /// Writes the adapter as PEFT does (`adapter_model.safetensors` with `base_model.model.` names and
    /// `adapter_config.json`), plus `ift_gpu.json` (base model, prompt style, `extra` members), each
    /// file atomically, into `directory` (created if needed).
    public func writePEFT(to directory: String, mode: String = "lora", dropout: Float = 0) throws {
        var w = SafetensorsWriter()
        w.metadata = [("format", "pt")]
        for (i, layer) in layers.enumerated() {
            for p in Projection.allCases {
                guard let pair = layer[p] else { continue }
                let name = "base_model.model.model.layers.\(i).\(p.modulePath)"
                let inDim = pair.a.count / rank, outDim = pair.b.count / rank
                try w.addTensor(name: name + ".lora_A.weight", shape: [rank, inDim], floats: pair.a)
                try w.addTensor(name: name + ".lora_B.weight", shape: [outDim, rank], floats: pair.b)
            }
        }
        var c = JSONObject()
        c["peft_type"] = .string("LORA")
        c["task_type"] = .string("CAUSAL_LM")
        c["base_model_name_or_path"] = .string(baseModel ?? "")
        c["r"] = .int(rank)
        c["lora_alpha"] = .double(Double(alpha))
        c["lora_dropout"] = .double(Double(dropout))
        c["use_rslora"] = .bool(rsLoRA)
        c["target_modules"] = .array(targets.map { .string($0.rawValue) })
        c["bias"] = .string("none")
        c["fan_in_fan_out"] = .bool(false)
        c["inference_mode"] = .bool(true)
        try FileSystem.makeDirectories(directory)
        try AtomicFileWriter.write(to: directory + "/" + Self.peftWeightsFile) { try $0.write(w.serialized()) }
        try Self.writeJSON(.object(c), to: directory + "/" + Self.peftConfigFile)
        var info = JSONObject()
        info["base_model"] = .string(baseModel ?? "")
        info["mode"] = .string(mode)
        info["prompt_style"] = promptStyle.map { .string($0) } ?? .null
        try Self.writeJSON(.object(info), to: directory + "/" + Self.infoFile)
    }

    static func writeJSON(_ v: JSONValue, to path: String) throws {
        var text = ""
        v.write(to: &text)
        try AtomicFileWriter.write(to: path) { try $0.write(Array((text + "\n").utf8)) }
    }
}
