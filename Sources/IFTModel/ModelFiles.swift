import IFTCore

#if canImport(Glibc)
import Glibc
#endif

/// A model on disk: a GGUF file, or a Hugging Face directory (`config.json`, `*.safetensors`,
/// `tokenizer.json`). Gives the config, the tokenizer, and the weights on any backend.
public final class ModelFiles {
    public let path: String
    public let config: LlamaConfig
    public let tokenizer: Tokenizer
    public let gguf: GGUFFile?
    public let safetensors: [SafetensorsFile]

    public init(path: String) throws {
        self.path = path
        if FileSystem.isDirectory(path) {
            let names = try listDirectory(path)
            let shards = names.filter { $0.hasSuffix(".safetensors") }.sorted()
            guard !shards.isEmpty else {
                throw IFTError.file(path: path, location: "directory", message: "no *.safetensors files (expected a Hugging Face model directory)")
            }
            guard names.contains("config.json") else {
                throw IFTError.file(path: path, location: "directory", message: "no config.json next to the safetensors files")
            }
            guard names.contains("tokenizer.json") else {
                throw IFTError.file(path: path, location: "directory", message: "no tokenizer.json next to the safetensors files")
            }
            config = try LlamaConfig(configJSONPath: path + "/config.json")
            let tokenizerConfig = names.contains("tokenizer_config.json") ? path + "/tokenizer_config.json" : nil
            tokenizer = try Tokenizer(tokenizerJSONPath: path + "/tokenizer.json", configPath: tokenizerConfig)
            safetensors = try shards.map { try SafetensorsFile(path: path + "/" + $0) }
            gguf = nil
        } else {
            let file = try GGUFFile(path: path)
            gguf = file
            config = try LlamaConfig(gguf: file)
            tokenizer = try Tokenizer(gguf: file)
            safetensors = []
        }
    }

    /// The weights, uploaded to `backend`; `projections: .fourBit` quantizes the projections to NF4
    /// as they stream in (QLoRA; see `ProjectionFormat`).
    public func loadWeights(on backend: any Backend, projections: ProjectionFormat = .stored) throws -> LlamaWeights {
        if let gguf { return try LlamaWeights.load(gguf, config: config, on: backend, projections: projections) }
        return try LlamaWeights.load(safetensors: safetensors, config: config, on: backend, projections: projections)
    }

    public func loadModel(on backend: any Backend, maxPositions: Int? = nil) throws -> LlamaModel {
        try LlamaModel(config: config, weights: loadWeights(on: backend), backend: backend, maxPositions: maxPositions)
    }
}

extension LlamaWeights {
    /// Loads Hugging Face Llama weights (`model.layers.N.self_attn.q_proj.weight`, ...) from one or
    /// more safetensors shards. They are already in the rotate-half order the engine uses. With
    /// `projections: .fourBit` (QLoRA) the projection weights are quantized to NF4 while they stream
    /// in (see `ProjectionFormat`). Each tensor's pages of the mapped file are released once it is
    /// uploaded.
    public static func load(
        safetensors shards: [SafetensorsFile], config c: LlamaConfig, on backend: any Backend,
        projections: ProjectionFormat = .stored
    ) throws -> LlamaWeights {
        func tensor(_ names: LlamaWeights.Names, _ shape: [Int]) throws -> Tensor {
            let name = names.huggingFace
            guard let file = shards.first(where: { $0.contains(tensor: name) }) else {
                throw IFTError.file(
                    path: shards.first?.path ?? "safetensors", location: "tensor \(name)", message: "missing from every shard")
            }
            let info = try file.tensorInfo(name, expectedShape: names.storedShape(shape))
            defer { try? file.releasePages(ofTensor: name) }
            if names.projection != nil, projections == .fourBit, let type = GGMLType(info.dtype) {
                let nf4 = try nf4Bytes(
                    names.slice(try file.tensorBytes(name)), type: type, rows: shape[0], cols: shape[1], name: name)
                return try backend.tensor(bytes: nf4, shape: shape, dtype: .nf4)
            }
            let t = try backend.makeTensor(shape: shape, dtype: info.dtype)
            // (A part of a fused weight, Phi-3's qkv_proj or gate_up_proj: its rows' bytes.)
            try backend.write(t, from: names.slice(try file.tensorBytes(name)))
            return t
        }
        let untied = !c.tieWordEmbeddings && shards.contains { $0.contains(tensor: "lm_head.weight") }
        // Hugging Face checkpoints hold Q/K rows in rotate-half order already: no permutation.
        var used: Set<String> = []
        let weights = try assemble(c, hasLMHead: untied) { name, shape, _ in
            used.insert(name.huggingFace)
            return try tensor(name, shape)
        }
        // A tensor the config does not account for (a bias or q_norm the config does not declare, ...)
        // would be silently dropped: refuse it. Ignored as transformers does: rotary caches, a
        // stored copy of a tied head.
        for file in shards {
            for name in file.tensors.map(\.name) where !used.contains(name) {
                if name.hasSuffix("rotary_emb.inv_freq") || name == "lm_head.weight" { continue }
                throw IFTError.file(
                    path: file.path, location: "tensor \(name)",
                    message: "not part of a \(c.family.rawValue) model as config.json describes it (\(c.structureSummary))")
            }
        }
        return weights
    }
}


func listDirectory(_ path: String) throws -> [String] {
    guard let dir = opendir(path) else {
        throw IFTError.file(path: path, location: "directory", message: "cannot list: \(String(cString: strerror(errno)))")
    }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}
