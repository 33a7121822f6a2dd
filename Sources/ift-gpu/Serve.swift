#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import IFTCore
import IFTHub
import IFTModel
#if IFT_SERVER
import IFTServe
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over an OpenAI-compatible HTTP API.",
        usage: "ift-gpu serve [<options>]",
        discussion: """
            Endpoints: GET /v1/models, POST /v1/chat/completions (messages rendered \
            with the model's chat template), POST /v1/completions (a prompt), both \
            streamed as server-sent events with "stream": true, and GET /health. \
            Requests name the model by its id (the known name, or the file or \
            directory name; see --model-id) or leave "model" out. Sampling is greedy \
            unless "temperature" > 0. Concurrent requests are decoded together, up to \
            --max-batch at once; more wait, up to --max-queue, and beyond that are \
            answered 503. Prints "listening on http://HOST:PORT" when ready; SIGINT or \
            SIGTERM stops it after the requests in progress.

            Examples:
              ift-gpu serve --model smollm2-135m-instruct --backend cpu --port 8080
              ift-gpu serve --port 0 --max-batch 8 --max-tokens 256
              ift-gpu serve --adapter runs/quickstart/adapter --port 8080
              curl -s http://127.0.0.1:8080/v1/chat/completions \\
                  -H 'Content-Type: application/json' \\
                  -d '{"messages": [{"role": "user", "content": "Hi!"}]}'
            """)

    @Option(help: "A known model name (pulled if needed), a .gguf file, or a Hugging Face safetensors directory.")
    var model: String = "smollm2-135m-instruct"

    @Option(help: "A LoRA adapter (a PEFT directory or a GGUF LoRA) applied to the model without merging.")
    var adapter: String?

    @Option(name: .customLong("model-id"), help: "The id clients use for the model (default: the known name, or the file or directory name).")
    var modelID: String?

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port; the one taken is printed).")
    var port: Int = 8080

    @Option(name: .customLong("max-batch"), help: "Most requests decoded together.")
    var maxBatch: Int = 16

    @Option(name: .customLong("max-queue"), help: "Most requests waiting for a place in the batch; more are answered 503.")
    var maxQueue: Int = 64

    @Option(name: .customLong("max-tokens"), help: "Tokens generated when a request sets no max_tokens, and the most one may set.")
    var maxTokens: Int = 512

    @Option(help: "Context in tokens (prompt and completion; default: the model's own).")
    var context: Int?

    @Option(name: .customLong("idle-timeout"), help: "Seconds before an idle or stalled connection is closed (0: never).")
    var idleTimeout: Double = 60

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        guard maxQueue >= 1 else { throw ValidationError("--max-queue must be at least 1") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        if let context, context < 2 { throw ValidationError("--context must be at least 2") }
        guard idleTimeout >= 0, idleTimeout.isFinite else { throw ValidationError("--idle-timeout must be 0 or more seconds") }
        if let modelID, modelID.isEmpty { throw ValidationError("--model-id must not be empty") }
        try backendOptions.validate()
    }

    func run() async throws {
        #if IFT_SERVER
        let backend = try backendOptions.makeBackend()
        let store = ModelStore()
        let known = KnownModel.named(model)
        let path = try known.map { try store.pull($0) } ?? store.resolve(model)
        let files = try ModelFiles(path: path)
        let llama = try files.loadModel(on: backend, maxPositions: context)
        if let adapter { try llama.attach(try LoRAAdapterWeights.load(adapter, config: files.config)) }
        let served = try ServedModel(id: modelID ?? known?.name ?? Self.baseName(path), model: llama, tokenizer: files.tokenizer)
        var settings = ServerConfiguration()
        settings.host = host
        settings.port = port
        settings.maxBatch = maxBatch
        settings.maxQueue = maxQueue
        settings.maxTokens = maxTokens
        settings.idleTimeout = idleTimeout > 0 ? idleTimeout : nil
        fputs("serving \(served.id) on \(backend.name): context \(llama.maxPositions) tokens, up to \(maxBatch) requests at once\n", stderr)
        try await OpenAIServer(served: served, configuration: settings).run { host, port in
            print("listening on http://\(host):\(port)")
            fflush(stdout)
        }
        fputs("stopped\n", stderr)
        #else
        throw ValidationError("this ift-gpu was built without the server (IFT_NO_SERVER); build it without IFT_NO_SERVER=1 to use `serve`")
        #endif
    }

    /// The last component of a path, without trailing slashes.
    static func baseName(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.reversed().drop { $0 == "/" }.reversed()) : path
        return trimmed.split(separator: "/").last.map(String.init) ?? trimmed
    }
}
