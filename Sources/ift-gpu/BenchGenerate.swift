import ArgumentParser
import IFTCore
import IFTHub
import IFTModel

struct BenchGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Decoding tokens/s: one sequence at a time vs many batched together.",
        usage: "ift-gpu bench generate [<options>]",
        discussion: """
            Greedy decoding of --new-tokens tokens after short prompts, with \
            end-of-generation ignored so every sequence decodes the same number of \
            tokens: first --single prompts one at a time (batch 1), then --sequences \
            prompts through the batched generator (up to --sequences decoded together). \
            Prints both rates (generated tokens over wall time, prompts included) and \
            their ratio. The model is SmolLM2-135M-Instruct unless --model names another.

            Examples:
              ift-gpu bench generate --backend cpu
              ift-gpu bench generate --sequences 8 --new-tokens 32 --json
            """)

    @Option(help: "Model: a known name (pulled first), a .gguf file or a Hugging Face directory.")
    var model: String = "smollm2-135m-instruct"

    @Option(help: "Sequences decoded together in the batched run.")
    var sequences: Int = 32

    @Option(help: "Prompts decoded one at a time in the single-sequence run.")
    var single: Int = 4

    @Option(name: .customLong("new-tokens"), help: "Tokens generated per sequence.")
    var newTokens: Int = 64

    @Flag(help: "Print one JSON line.")
    var json = false

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard sequences >= 1, single >= 1, newTokens >= 1 else {
            throw ValidationError("--sequences, --single and --new-tokens must be >= 1")
        }
        try backendOptions.validate()
    }

    func run() throws {
        let backend = try backendOptions.makeBackend()
        let store = ModelStore()
        let path = try KnownModel.named(model).map { try store.pull($0, progress: !json) } ?? store.resolve(model)
        let files = try ModelFiles(path: path)
        let llama = try files.loadModel(on: backend, maxPositions: 512)
        let topics = ["the sea", "a small robot", "bread", "winter", "a city at night", "chess", "bees", "the moon"]
        let prompts = (0..<max(sequences, single)).map { i in
            files.tokenizer.encode("Write a long story about \(topics[i % topics.count]), part \(i + 1).")
        }
        // No stop token: every sequence decodes exactly --new-tokens tokens.
        var generator = BatchGenerator(model: llama, tokenizer: files.tokenizer, maxBatch: 1)
        generator.stopsAtEndOfGeneration = false
        let requests = prompts.map { GenerationRequest(prompt: $0, maxTokens: newTokens) }
        func rate(_ requests: [GenerationRequest], batch: Int) throws -> Double {
            generator.maxBatch = batch
            let start = ContinuousClock.now
            let results = try generator.generate(requests)
            let seconds = ProgressBar.seconds(ContinuousClock.now - start)
            return Double(results.reduce(0) { $0 + $1.tokens.count }) / seconds
        }
        _ = try rate([requests[0]], batch: 1)  // warm-up
        let one = try rate(Array(requests.prefix(single)), batch: 1)
        let many = try rate(Array(requests.prefix(sequences)), batch: sequences)
        if json {
            print(
                "{\"backend\":\"\(backend.name)\",\"model\":\(JSONValue.string(model)),\"new_tokens\":\(newTokens),"
                    + "\"single_tokens_per_s\":\(format(one, 2)),\"sequences\":\(sequences),"
                    + "\"batched_tokens_per_s\":\(format(many, 2)),\"ratio\":\(format(many / one, 2))}")
        } else {
            print("bench generate: \(model) on \(backend.name), \(newTokens) new tokens per sequence (greedy)")
            print("  one at a time (\(single) prompts):   \(format(one, 1)) tokens/s")
            print("  batched (\(sequences) sequences):    \(format(many, 1)) tokens/s  (\(format(many / one, 2))x)")
        }
    }
}
