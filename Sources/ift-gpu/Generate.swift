import ArgumentParser
import IFTCore
import IFTHub
import IFTModel

#if canImport(Glibc)
import Glibc
#endif

/// A model and its tokenizer loaded onto a backend.
struct LoadedModel {
    let model: LlamaModel
    let tokenizer: Tokenizer

    /// `adapter`: a PEFT directory or GGUF LoRA applied without merging.
    init(_ nameOrPath: String, adapter: String? = nil, backend: any Backend, maxPositions: Int? = nil) throws {
        let files = try ModelFiles(path: try ModelStore().resolve(nameOrPath))
        tokenizer = files.tokenizer
        model = try files.loadModel(on: backend, maxPositions: maxPositions)
        if let adapter {
            let weights = try LoRAAdapterWeights.load(adapter, config: files.config)
            try model.attach(weights)
            fputs("adapter: \(adapter) (rank \(weights.rank), scale \(weights.scale), \(weights.targets.map(\.rawValue).joined(separator: ","))), not merged\n", stderr)
        }
    }

    /// The model's chat template applied to one user message, ready for generation.
    func chatPrompt(_ user: String, system: String? = nil) throws -> String {
        guard let source = tokenizer.chatTemplate else {
            throw IFTError.invalidArgument("the model has no chat template (tokenizer.chat_template); drop --chat")
        }
        var messages: [ChatMessage] = []
        if let system { messages.append(.system(system)) }
        messages.append(.user(user))
        let bos = tokenizer.bosID.flatMap { tokenizer.token(forID: $0) } ?? ""
        let eos = tokenizer.eosID.flatMap { tokenizer.token(forID: $0) } ?? ""
        return try ChatTemplate(source: source).render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos)
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text with a model, streaming tokens to the terminal.",
        discussion: """
            With --chat the prompt is wrapped in the model's own chat template (from the \
            GGUF) as a user message. Sampling is greedy unless --temperature > 0; --seed \
            makes sampling reproducible. Speed (tokens/s of the prompt and of generation) \
            is printed at the end.

            Examples:
              ift-gpu generate --model smollm2-135m-instruct --chat \\
                  --prompt "What is the capital of France?"
              ift-gpu generate --backend vulkan --chat --prompt "Name three colors."
              ift-gpu generate --model smollm2-135m-instruct --backend cpu \\
                  --prompt "Once upon a time" --temperature 0.8 --top-p 0.9 --seed 7
              ift-gpu generate --adapter runs/quickstart/adapter --chat --prompt "Name a color."
            """)

    @Option(help: "A known model name (see `ift-gpu model list`), a .gguf file, or a Hugging Face safetensors directory.")
    var model: String = "smollm2-135m-instruct"

    @Option(help: "The prompt text.")
    var prompt: String

    @Option(help: "A LoRA adapter (a PEFT directory or a GGUF LoRA) applied to the model without merging.")
    var adapter: String?

    @Flag(help: "Wrap the prompt in the model's chat template as a user message.")
    var chat = false

    @Option(help: "System message for --chat (default: the template's own).")
    var system: String?

    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.")
    var maxTokens: Int = 128

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(name: .customLong("top-k"), help: "Sample among the k most likely tokens (0: all).")
    var topK: Int = 0

    @Option(name: .customLong("top-p"), help: "Sample among the most likely tokens holding this much probability.")
    var topP: Float = 1

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(parsing: .singleValue, help: "Stop when the text contains this string (repeatable).")
    var stop: [String] = []

    @Flag(name: .customLong("parse-special"), help: "Recognize special tokens such as <|im_start|> written in the prompt.")
    var parseSpecial = false

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be at least 1") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        let backend = try backendOptions.makeBackend()
        let loaded = try LoadedModel(model, adapter: adapter, backend: backend)
        let text = chat ? try loaded.chatPrompt(prompt, system: system) : prompt
        let ids = loaded.tokenizer.encode(text, parseSpecial: chat || parseSpecial)
        let generator = Generator(model: loaded.model, tokenizer: loaded.tokenizer)
        let result = try generator.generate(
            prompt: ids, maxTokens: maxTokens,
            sampling: SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed), stop: stop
        ) { piece in
            fputs(piece, stdout)
            fflush(stdout)
        }
        print()
        fflush(stdout)
        fputs(
            "[\(backend.name)] prompt \(result.promptTokens) tokens at \(ProgressBar.fixed(result.prefillTokensPerSecond, 1)) tok/s; "
                + "generated \(result.tokens.count) tokens at \(ProgressBar.fixed(result.decodeTokensPerSecond, 2)) tok/s; "
                + "stopped: \(result.stopReason)\n", stderr)
    }
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show how a model's tokenizer splits text.",
        discussion: """
            Examples:
              ift-gpu tokenize --model smollm2-135m-instruct "Hello, world!"
              ift-gpu tokenize --model smollm2-135m-instruct --parse-special \\
                  "<|im_start|>user"
            """)

    @Option(help: "A known model name, a .gguf file, or a Hugging Face safetensors directory.")
    var model: String = "smollm2-135m-instruct"

    @Flag(name: .customLong("parse-special"), help: "Recognize special tokens written in the text.")
    var parseSpecial = false

    @Flag(help: "Print only the ids, space-separated.")
    var idsOnly = false

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let tokenizer = try Tokenizer(modelPath: try ModelStore().resolve(model))
        let ids = tokenizer.encode(text, parseSpecial: parseSpecial)
        if idsOnly {
            print(ids.map(String.init).joined(separator: " "))
            return
        }
        print("\(ids.count) tokens")
        for id in ids {
            let piece = String(decoding: tokenizer.bytes(forID: id), as: UTF8.self)
            print("\(id)\t\(piece.debugDescription)")
        }
    }
}
