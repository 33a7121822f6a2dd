import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import IFTCore
import IFTData
import IFTEval
import IFTHub
import IFTModel
import IFTTrain

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model or score existing responses (reference metrics, ...).",
        discussion: """
            Each evaluation writes per-example rows (`<name>-examples.jsonl`) and a \
            summary (`<name>-summary.json`) into --output, and prints the summary.
            """,
        subcommands: [EvalMetrics.self, EvalLoss.self, EvalForgetting.self, EvalIFEval.self, EvalHumanEval.self, EvalJudge.self, EvalMTBench.self, EvalSafety.self])
}

/// The model to evaluate: a base model, or a training checkpoint (its adapters merged).
struct EvalModelOptions: ParsableArguments {
    @Option(help: "Model: a known name (pulled if needed), a .gguf file or a Hugging Face directory.")
    var model: String?

    @Option(help: "A checkpoint directory of `ift-gpu train` (checkpoint/ or best/); its base model comes from the checkpoint unless --model names it.")
    var checkpoint: String?

    @Option(help: "A LoRA adapter (a PEFT directory or a GGUF LoRA) applied to --model without merging.")
    var adapter: String?

    @OptionGroup var backendOptions: BackendOptions

    var isSet: Bool { model != nil || checkpoint != nil }

    /// The model, its files, and the prompt style its checkpoint trained with (if any).
    func load(maxPositions: Int = 2048) throws -> (model: LlamaModel, files: ModelFiles, style: String?) {
        try loadEvalModel(
            model: model, checkpoint: checkpoint, adapter: adapter, backend: try backendOptions.makeBackend(), maxPositions: maxPositions)
    }
}

/// A base model (a known name, pulled if needed, or a path) or a training checkpoint with its
/// adapters merged, or a base model with a LoRA adapter attached (not merged), and the prompt style
/// the checkpoint or adapter trained with.
func loadEvalModel(
    model: String?, checkpoint: String?, adapter: String? = nil, backend: any Backend, maxPositions: Int
) throws -> (model: LlamaModel, files: ModelFiles, style: String?) {
    let store = try ModelStore()
    var path: String?
    if let model {
        path = try KnownModel.named(model).map { FileSystem.exists(model) ? model : try store.pull($0) } ?? store.resolve(model)
    }
    if let checkpoint {
        if adapter != nil { throw ValidationError("give --checkpoint or --adapter, not both (a checkpoint holds its adapter)") }
        let c = try CheckpointModel(checkpoint: checkpoint, modelPath: path, backend: backend, maxPositions: maxPositions)
        return (c.model, c.files, c.promptStyle)
    }
    guard let path else { throw ValidationError("name the model to evaluate: --model or --checkpoint") }
    let files = try ModelFiles(path: path)
    let loaded = try files.loadModel(on: backend, maxPositions: min(maxPositions, try files.config.contextPositions(requested: nil)))
    guard let adapter else { return (loaded, files, nil) }
    let weights = try LoRAAdapterWeights.load(adapter, config: files.config)
    try loaded.attach(weights)
    return (loaded, files, weights.promptStyle)
}

struct EvalMetrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "BLEU, chrF, ROUGE-1/2/L, exact match and token F1 of responses against references.",
        usage: "ift-gpu eval metrics [<options>]",
        discussion: """
            Scores an existing responses file (--responses: a JSON array or JSONL whose \
            rows hold the response and the reference, by default ch. 7's `model_response` \
            and `output`), or generates the responses first: --model (or --checkpoint) \
            answers the instruction examples of a --data split, greedy, with the training \
            prompt style, in batches; the responses are saved as `metrics-responses.json` \
            beside the scores, ready for `--responses` or a judge.

            BLEU and chrF are corpus-level with sacreBLEU's defaults (13a tokenizer, \
            exponential smoothing; chrF2); ROUGE-1/2/L are mean F1 as rouge-score computes \
            them; exact match and F1 use SQuAD's normalization; with --labels (references \
            are class labels) also accuracy and macro-F1. All on a 0-100 scale.

            Examples:
              ift-gpu eval metrics --responses \\
                  ../shared/data/raschka-ch07/instruction-data-with-response.json
              ift-gpu eval metrics --checkpoint runs/quickstart/checkpoint \\
                  --data data/default/instructions.json --split test --limit 32
            """)

    @Option(help: "An existing responses file (JSON array or JSONL) to score.")
    var responses: String?

    @Option(name: .customLong("response-field"), help: "The field holding the response.")
    var responseField: String = "model_response"

    @Option(name: .customLong("reference-field"), help: "The field holding the reference.")
    var referenceField: String = "output"

    @Flag(help: "The references are class labels: also report accuracy and macro-F1.")
    var labels = false

    @OptionGroup var modelOptions: EvalModelOptions

    @Option(help: "Instruction data whose split the model answers (with --model/--checkpoint).")
    var data: String?

    @Option(help: "Which split: test, validation, train or all (85/10/5 in file order, as train).")
    var split: String = "test"

    @Option(help: "Answer at most this many examples of the split (0: all).")
    var limit: Int = 0

    @Option(name: .customLong("max-new-tokens"), help: "Longest response in tokens.")
    var maxNewTokens: Int = 256

    @Option(name: .customLong("prompt-style"), help: "alpaca, phi3, chatml or model (default: the checkpoint's, else alpaca).")
    var promptStyle: String?

    @Option(help: "Directory for the results.")
    var output: String = "runs/eval"

    func validate() throws {
        guard (responses != nil) != modelOptions.isSet else {
            throw ValidationError("give either --responses FILE, or --model/--checkpoint with --data")
        }
        if modelOptions.isSet && data == nil { throw ValidationError("--model/--checkpoint needs --data (the examples to answer)") }
        guard ["test", "validation", "train", "all"].contains(split) else {
            throw ValidationError("unknown --split '\(split)'; choose test, validation, train or all")
        }
        guard limit >= 0, maxNewTokens >= 1 else { throw ValidationError("--limit must be >= 0 and --max-new-tokens >= 1") }
    }

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        let hypotheses: [String], references: [String]
        if let responses {
            let rows = try ResponseRows(path: responses)
            hypotheses = try rows.strings(responseField)
            references = try rows.strings(referenceField)
            print("scoring:  \(responses): \(hypotheses.count) responses (\(responseField) against \(referenceField))")
        } else {
            let (model, files, trained) = try modelOptions.load()
            let style = try PromptStyle.named(promptStyle ?? trained ?? "alpaca", tokenizer: files.tokenizer)
            let dataset = try Dataset.load(data ?? "")
            let splits = DatasetSplits(dataset.examples)
            var examples: [Example]
            switch split {
            case "validation": examples = splits.validation
            case "train": examples = splits.train
            case "all": examples = dataset.examples
            default: examples = splits.test
            }
            if limit > 0 { examples = Array(examples.prefix(limit)) }
            print("model:    \(files.path) on \(model.backend.name); prompt style \(style.name)")
            print("data:     \(data ?? ""): \(examples.count) \(split) examples")
            let bar = ProgressBar(label: "generating", total: Double(examples.count), rateUnit: "ex/s")
            let answered = try InstructionResponses(
                model: model, tokenizer: files.tokenizer, style: style, examples: examples, maxNewTokens: maxNewTokens
            ) { done, _ in bar.update(Double(done)) }
            bar.finish()
            try FileSystem.makeDirectories(output)
            try EvalOutput.writeText(JSONValue.array(answered.json).description + "\n", to: output + "/metrics-responses.json")
            hypotheses = answered.rows.map(\.response)
            references = answered.rows.map(\.output)
        }
        let result = try ReferenceEvaluation(responses: hypotheses, references: references, labels: labels)
        let paths = try EvalOutput.write(directory: output, name: "metrics", rows: result.rows, summary: result.summaryJSON)
        for (name, value) in result.summary {
            print("\(name.padding(12)) \(format(value, 2))")
        }
        print("wrote:    \(paths.joined(separator: ", "))")
    }
}

extension String {
    /// Left-aligned in `width` columns.
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
