import ArgumentParser
import IFTCore
import IFTEval
import IFTHub
import IFTModel
import IFTSynth
#if canImport(Glibc)
import Glibc
#endif

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate instruction data: Magpie, Self-Instruct, or Bonito-style from unannotated text.",
        discussion: """
            Every method generates with the local engine (batched, any backend) or, with \
            --endpoint, any OpenAI-compatible server (ift-gpu serve, vLLM, llama.cpp, OpenAI). \
            Rows go through the same filters (empty, too short/long, non-text, refusals, \
            exact duplicates, ROUGE-L > 0.7 similar instructions, MinHash near duplicates, an \
            optional judge score); rejections are counted by reason. The output (Alpaca \
            JSON/JSONL or chat messages) carries each row's provenance; rerunning the same \
            command continues to --n rows without duplicates.

            Examples:
              ift-gpu synth magpie --n 200 --backend cpu --output runs/synth/magpie.jsonl
              ift-gpu synth self-instruct --seeds ../shared/data/alpaca/seed_tasks.jsonl --n 200
              ift-gpu synth from-text --text data/general --task-types extractive-qa,summarization --n 100
            """,
        subcommands: [SynthMagpie.self, SynthSelfInstruct.self, SynthFromText.self])
}

/// Options every method shares: where generation runs, the output, the filters and the judge.
struct SynthOptions: ParsableArguments {
    @Option(help: "A known model name, a .gguf file, or a Hugging Face directory (the local engine; with --endpoint, its chat template only).")
    var model: String = "smollm2-135m-instruct"

    @Option(help: "Rows to reach in the output file (a rerun continues to this many).")
    var n: Int

    @Option(help: "Output file: .json (Alpaca JSON array) or .jsonl (default: runs/synth/<method>.jsonl).")
    var output: String?

    @Option(help: "alpaca (instruction/input/output) or messages (chat).")
    var format: String = "alpaca"

    @Option(help: "Seed of the run; each attempt's sampling seed derives from it.")
    var seed: UInt64 = 0

    @Option(help: "Attempts per batch (their requests decode together).")
    var batch: Int = 64

    @Option(name: .customLong("max-batch"), help: "Sequences the local engine decodes at once.")
    var maxBatch: Int = 32

    @Option(name: .customLong("max-attempts"), help: "Stop after this many attempts (default: 20 x --n).")
    var maxAttempts: Int = 0

    @Option(name: .customLong("max-seconds"), help: "Start no new batch after this many seconds (0: no limit); rerun to continue.")
    var maxSeconds: Double = 0

    @Option(name: .customLong("endpoint"), help: "Generate through an OpenAI-compatible server instead: its base URL, e.g. http://127.0.0.1:8080/v1.")
    var endpoint: String?

    @Option(name: .customLong("endpoint-model"), help: "The model name at --endpoint.")
    var endpointModel: String = "default"

    @Option(name: .customLong("api-key-env"), help: "Environment variable holding the endpoint's and judge's API key.")
    var apiKeyEnv: String = "OPENAI_API_KEY"

    @Option(help: "Requests in flight at once to --endpoint and the judge.")
    var concurrency: Int = 8

    @Option(name: .customLong("max-rouge-l"), help: "Drop an instruction whose ROUGE-L F1 with a pooled one exceeds this.")
    var maxRougeL: Double = 0.7

    @Option(name: .customLong("minhash-threshold"), help: "Drop a row whose MinHash Jaccard estimate with a pooled one reaches this.")
    var minhashThreshold: Double = 0.8

    @Option(name: .customLong("min-instruction-words"), help: "Shortest instruction kept, in words.")
    var minInstructionWords: Int = 3

    @Option(name: .customLong("max-output-chars"), help: "Longest response kept, in characters.")
    var maxOutputChars: Int = 8000

    @Flag(name: .customLong("keep-refusals"), help: "Keep responses that refuse (\"I'm sorry, I cannot ...\").")
    var keepRefusals = false

    @Option(name: .customLong("judge-url"), help: "Score rows with an LLM judge at this OpenAI-compatible base URL.")
    var judgeURL: String?

    @Option(name: .customLong("judge-model"), help: "The judge model's name.")
    var judgeModel: String = "default"

    @Option(name: .customLong("min-judge-score"), help: "Drop rows the judge scores below this (0-100); rows it cannot score are kept.")
    var minJudgeScore: Double = 50

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard n >= 1 else { throw ValidationError("--n must be at least 1") }
        guard batch >= 1, maxBatch >= 1, concurrency >= 1 else { throw ValidationError("--batch, --max-batch and --concurrency must be >= 1") }
        guard SynthOutput.Format(rawValue: format) != nil else { throw ValidationError("--format must be alpaca or messages") }
        for url in [endpoint, judgeURL].compactMap({ $0 }) where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw ValidationError("--endpoint and --judge-url must start with http:// or https://")
        }
        guard maxRougeL > 0, maxRougeL <= 1, minhashThreshold > 0, minhashThreshold <= 1 else {
            throw ValidationError("--max-rouge-l and --minhash-threshold must be in (0, 1]")
        }
    }

    var apiKey: String? { getenv(apiKeyEnv).map { String(cString: $0) } }

    /// The local engine, or the endpoint (with the local model's chat template when it has one).
    func generator() throws -> TextGenerator {
        if let endpoint {
            var client = JudgeClient(baseURL: endpoint, model: endpointModel, apiKey: apiKey)
            client.concurrency = concurrency
            client.maxTokens = 1024
            let tokenizer = try? ModelFiles(path: try ModelStore().resolve(model)).tokenizer
            return EndpointGenerator(client: client, chatTemplate: try tokenizer.flatMap { try ChatTemplateRenderer(tokenizer: $0) })
        }
        let backend = try backendOptions.makeBackend()
        let loaded = try LoadedModel(model, backend: backend)
        return try LocalGenerator(model: loaded.model, tokenizer: loaded.tokenizer, name: "ift-gpu \(model) (\(backend.name))", maxBatch: maxBatch)
    }

    func runner(method: String) throws -> SynthRunner {
        let path = output ?? "runs/synth/\(method).jsonl"
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !dir.isEmpty { try FileSystem.makeDirectories(dir) }
        var settings = QualityFilter.Settings()
        settings.maxROUGEL = maxRougeL
        settings.minHashThreshold = minhashThreshold
        settings.minInstructionWords = minInstructionWords
        settings.maxOutputChars = maxOutputChars
        settings.dropRefusals = !keepRefusals
        settings.groupByInput = method == "from-text"
        var r = SynthRunner(
            output: SynthOutput(path: path, format: SynthOutput.Format(rawValue: format) ?? .alpaca), target: n, seed: seed,
            filter: QualityFilter(settings: settings))
        r.batch = batch
        r.maxAttempts = maxAttempts
        r.maxSeconds = maxSeconds
        if let judgeURL {
            var c = JudgeClient(baseURL: judgeURL, model: judgeModel, apiKey: apiKey)
            c.concurrency = concurrency
            c.maxTokens = 16
            r.judge = RowJudge(client: c, minScore: minJudgeScore)
        }
        return r
    }

    /// Runs `method` and prints the summary.
    func run<M: SynthMethod>(_ method: inout M, generator: TextGenerator) throws {
        var runner = try runner(method: method.name)
        let s = try runner.run(&method, generator: generator)
        print("\(method.name): \(s.rows) rows in \(runner.output.path) (\(s.resumed) resumed, \(s.newRows) new)")
        print("generator:  \(generator.name)")
        print("attempts:   \(s.attempts), accepted \(s.newRows), rejected \(s.rejections.total)")
        print("speed:      \(ProgressBar.fixed(s.rowsPerSecond, 3)) rows/s (\(ProgressBar.fixed(s.seconds, 1)) s)")
        print("rejections: \(s.rejections)")
        if runner.judge != nil { print("judge:      \(s.unjudged) row(s) the judge could not score (kept)") }
        if s.rows < n { print("note:       stopped (--max-attempts or --max-seconds) before --n \(n); rerun to continue") }
    }
}

/// Sampling options of one generation stage.
func samplingOptions(temperature: Float, topP: Float, topK: Int) throws -> SamplingOptions {
    guard temperature >= 0 else { throw ValidationError("temperatures must be >= 0") }
    guard topP > 0 && topP <= 1 else { throw ValidationError("top-p values must be in (0, 1]") }
    return SamplingOptions(temperature: temperature, topK: topK, topP: topP)
}

struct SynthMagpie: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "magpie",
        abstract: "Magpie: the model writes instructions from its chat template's pre-query part, then answers them.",
        discussion: """
            The pre-query template comes from the model's own chat template (rendered with a \
            sentinel user message and cut before it), so ChatML, Llama 3, Gemma or Mistral \
            templates work alike. The instruction is decoded until the end of the user's \
            turn (rows that hit --max-instruction-tokens are rejected), then answered in the \
            full template. --turns > 1 writes conversations (use --format messages).

            Examples:
              ift-gpu synth magpie --n 200 --backend cpu --output runs/synth/magpie.jsonl
              ift-gpu synth magpie --n 50 --turns 2 --format messages --system "You are a math tutor."
              ift-gpu synth magpie --n 100 --endpoint http://127.0.0.1:8080/v1 --model smollm2-135m-instruct
            """)

    @OptionGroup var common: SynthOptions

    @Option(help: "System message (default: the template's own, if any).")
    var system: String?

    @Option(help: "User/assistant turns per conversation.")
    var turns: Int = 1

    @Option(name: .customLong("instruction-temperature")) var instructionTemperature: Float = 1.0
    @Option(name: .customLong("instruction-top-p")) var instructionTopP: Float = 1.0
    @Option(name: .customLong("response-temperature")) var responseTemperature: Float = 0.7
    @Option(name: .customLong("response-top-p")) var responseTopP: Float = 0.9
    @Option(name: .customLong("top-k"), help: "Top-k for both stages (0: all).") var topK: Int = 0
    @Option(name: .customLong("max-instruction-tokens")) var maxInstructionTokens: Int = 128
    @Option(name: .customLong("max-response-tokens")) var maxResponseTokens: Int = 512

    func validate() throws {
        guard turns >= 1 else { throw ValidationError("--turns must be at least 1") }
        guard turns == 1 || common.format == "messages" else { throw ValidationError("--turns > 1 needs --format messages") }
        guard maxInstructionTokens >= 1, maxResponseTokens >= 1 else { throw ValidationError("token limits must be >= 1") }
    }

    func run() throws {
        let generator = try common.generator()
        guard let template = generator.chatTemplate else {
            throw ValidationError(
                "Magpie needs the model's chat template: \(common.model) has none or is not downloaded"
                    + (common.endpoint != nil ? " (with --endpoint, --model names a local copy of the endpoint model's tokenizer)" : ""))
        }
        var s = Magpie.Settings()
        s.system = system
        s.turns = turns
        s.instructionSampling = try samplingOptions(temperature: instructionTemperature, topP: instructionTopP, topK: topK)
        s.responseSampling = try samplingOptions(temperature: responseTemperature, topP: responseTopP, topK: topK)
        s.maxInstructionTokens = maxInstructionTokens
        s.maxResponseTokens = maxResponseTokens
        var method = try Magpie(template: template, settings: s, seed: common.seed)
        print("pre-query template: \(method.preQuery.prefix.debugDescription)")
        try common.run(&method, generator: generator)
    }
}

struct SynthSelfInstruct: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-instruct",
        abstract: "Self-Instruct: new tasks from few-shot lists of seed and generated tasks, with instances.",
        discussion: """
            Seeds are JSON lines as Alpaca's seed_tasks.jsonl (instruction, instances with \
            input/output, is_classification). Each attempt lists 6 seed and 2 generated tasks \
            for the model to continue, asks whether the new task is a classification task, \
            and writes an instance (class label first for classification tasks).

            Examples:
              ift-gpu synth self-instruct --seeds ../shared/data/alpaca/seed_tasks.jsonl --n 200 --backend cpu
              ift-gpu synth self-instruct --seeds my-seeds.jsonl --n 500 --temperature 1.0 --output si.json
            """)

    @OptionGroup var common: SynthOptions

    @Option(help: "Seed tasks (JSON lines).")
    var seeds: String

    @Option var temperature: Float = 0.7
    @Option(name: .customLong("top-p")) var topP: Float = 0.95
    @Option(name: .customLong("max-tokens"), help: "Most tokens of an instance.") var maxTokens: Int = 384

    func run() throws {
        let tasks = try SeedTask.load(seeds)
        var s = SelfInstruct.Settings()
        s.sampling = try samplingOptions(temperature: temperature, topP: topP, topK: 0)
        s.maxInstanceTokens = maxTokens
        var method = try SelfInstruct(seeds: tasks, settings: s, seed: common.seed)
        try common.run(&method, generator: try common.generator())
    }
}

struct SynthFromText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-text",
        abstract: "Bonito-style: tasks grounded in chunks of unannotated text, one task type per attempt.",
        discussion: """
            Task types: extractive-qa (the answer must occur in the text), yes-no-qa, \
            summarization, nli (entailment/neutral/contradiction), title. Each row's input \
            is the chunk; provenance names its file:line and task type.

            Examples:
              ift-gpu synth from-text --text data/general --n 200 --backend cpu
              ift-gpu synth from-text --text notes/ --task-types extractive-qa,yes-no-qa --chunk-words 80 --n 50
            """)

    @OptionGroup var common: SynthOptions

    @Option(help: "A directory of .txt/.md files, or one text file.")
    var text: String

    @Option(name: .customLong("task-types"), help: "Comma-separated: extractive-qa, yes-no-qa, summarization, nli, title.")
    var taskTypes: String = FromText.TaskType.allCases.map(\.rawValue).joined(separator: ",")

    @Option(name: .customLong("chunk-words"), help: "Words per chunk (paragraphs are joined up to this).")
    var chunkWords: Int = 120

    @Option var temperature: Float = 0.7
    @Option(name: .customLong("top-p")) var topP: Float = 0.95
    @Option(name: .customLong("max-tokens")) var maxTokens: Int = 160

    func run() throws {
        var s = FromText.Settings()
        s.taskTypes = try taskTypes.split(separator: ",").map { name in
            guard let t = FromText.TaskType(rawValue: name.trimmingCharacters(in: " ")) else {
                throw ValidationError("unknown task type '\(name)'; choose from \(FromText.TaskType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return t
        }
        s.sampling = try samplingOptions(temperature: temperature, topP: topP, topK: 0)
        s.maxTokens = maxTokens
        var method = try FromText(chunks: try FromText.chunks(path: text, words: chunkWords), settings: s, seed: common.seed)
        print("text: \(method.chunks.count) chunks from \(text)")
        try common.run(&method, generator: try common.generator())
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var t = self
        while let f = t.first, set.contains(f) { t.removeFirst() }
        while let l = t.last, set.contains(l) { t.removeLast() }
        return String(t)
    }
}
