import ArgumentParser
import IFTCore
import IFTData
import IFTEval
import IFTModel
import IFTTrain

/// Loss, perplexity and token accuracy of `model` on the examples of `data` (a split, or all).
func scoreLoss(
    model: LlamaModel, files: ModelFiles, style: PromptStyle, data: String, split: String, limit: Int, maxLength: Int,
    label: String
) throws -> ResponseLoss {
    let dataset = try Dataset.load(data)
    let splits = DatasetSplits(dataset.examples)
    var examples: [Example]
    switch split {
    case "validation": examples = splits.validation
    case "train": examples = splits.train
    case "test": examples = splits.test
    default: examples = dataset.examples
    }
    if limit > 0 { examples = Array(examples.prefix(limit)) }
    let tokenized = try ExampleTokenizer(tokenizer: files.tokenizer, style: style).tokenize(examples)
    let bar = ProgressBar(label: label, total: Double(tokenized.count), rateUnit: "ex/s")
    let result = try ResponseLoss(model: model, examples: tokenized, maxLength: maxLength) { bar.update(Double($0)) }
    bar.finish()
    return result
}

struct EvalLoss: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Cross-entropy, perplexity and token accuracy on the response tokens of a dataset.",
        usage: "ift-gpu eval loss --data <file> [<options>]",
        discussion: """
            Each example (rendered with the prompt style, as in training) runs as one \
            forward pass; only response tokens are scored (every token of plain-text \
            data). Token accuracy counts the response tokens the model predicts exactly \
            (greedy).

            Examples:
              ift-gpu eval loss --model smollm2-135m-instruct \\
                  --data data/default/instructions.json --split validation
              ift-gpu eval loss --checkpoint runs/quickstart/checkpoint \\
                  --data data/default/instructions.json
            """)

    @OptionGroup var modelOptions: EvalModelOptions

    @Option(help: "Dataset (any format `train` reads).")
    var data: String

    @Option(help: "test, validation, train or all (85/10/5 in file order, as train).")
    var split: String = "validation"

    @Option(help: "At most this many examples (0: all).")
    var limit: Int = 0

    @Option(name: .customLong("max-length"), help: "Longest example in tokens (longer ones are cut).")
    var maxLength: Int = 1024

    @Option(name: .customLong("prompt-style"), help: "alpaca, phi3, chatml or model (default: the checkpoint's, else alpaca).")
    var promptStyle: String?

    @Option(help: "Directory for the results.")
    var output: String = "runs/eval"

    func validate() throws {
        guard modelOptions.isSet else { throw ValidationError("name the model: --model or --checkpoint") }
        guard ["test", "validation", "train", "all"].contains(split) else {
            throw ValidationError("unknown --split '\(split)'; choose test, validation, train or all")
        }
        guard limit >= 0, maxLength >= 2 else { throw ValidationError("--limit must be >= 0 and --max-length >= 2") }
    }

    func run() throws {
        let (model, files, trained) = try modelOptions.load(maxPositions: maxLength)
        let style = try PromptStyle.named(promptStyle ?? trained ?? "alpaca", tokenizer: files.tokenizer)
        let r = try scoreLoss(
            model: model, files: files, style: style, data: data, split: split, limit: limit, maxLength: maxLength, label: "loss")
        let paths = try EvalOutput.write(directory: output, name: "loss", rows: r.rows, summary: r.summaryJSON)
        print("loss \(format(r.loss, 4)), perplexity \(format(r.perplexity, 3)), token accuracy \(format(100 * r.tokenAccuracy, 2))% over \(r.scoredTokens) response tokens of \(r.examples.count) examples")
        print("wrote:    \(paths.joined(separator: ", "))")
    }
}

struct EvalForgetting: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forgetting",
        abstract: "Perplexity on general text: the base model against a fine-tuned checkpoint.",
        usage: "ift-gpu eval forgetting --checkpoint <dir> [<options>]",
        discussion: """
            Fine-tuning that raises the perplexity on ordinary text a lot has traded \
            general language ability for its task. The default text is the project's \
            general-knowledge sample (data/general/general-text.txt, CC0); each \
            paragraph is one example and every token is scored.

            Example:
              ift-gpu eval forgetting --checkpoint runs/quickstart/checkpoint
            """)

    @Option(help: "A checkpoint directory of `ift-gpu train`.")
    var checkpoint: String

    @Option(help: "The base model, when not where the checkpoint says.")
    var model: String?

    @Option(help: "Plain text (paragraphs separated by blank lines) or any dataset.")
    var text: String = "data/general/general-text.txt"

    @OptionGroup var backendOptions: BackendOptions

    @Option(help: "Directory for the results.")
    var output: String = "runs/eval"

    func run() throws {
        let backend = try backendOptions.makeBackend()
        let (tunedModel, files, _) = try loadEvalModel(model: model, checkpoint: checkpoint, backend: backend, maxPositions: 1024)
        let (baseModel, _, _) = try loadEvalModel(model: model ?? files.path, checkpoint: nil, backend: backend, maxPositions: 1024)
        var results: [(String, ResponseLoss)] = []
        for (name, m) in [("base", baseModel), ("fine-tuned", tunedModel)] {
            results.append((name, try scoreLoss(
                model: m, files: files, style: .alpaca, data: text, split: "all", limit: 0, maxLength: 1024, label: name)))
        }
        let (b, t) = (results[0].1, results[1].1)
        var summary = JSONObject()
        summary["text"] = .string(text)
        summary["base"] = b.summaryJSON
        summary["fine_tuned"] = t.summaryJSON
        summary["perplexity_change_percent"] = .double(ReferenceEvaluation.round(100 * (t.perplexity / b.perplexity - 1)))
        let rows = zip(b.examples, t.examples).map { x, y in
            JSONValue.object(JSONObject([
                ("index", .int(x.index)), ("tokens", .int(x.tokens)),
                ("base_loss", .double(ReferenceEvaluation.round(x.lossSum / Double(x.tokens)))),
                ("fine_tuned_loss", .double(ReferenceEvaluation.round(y.lossSum / Double(y.tokens)))),
            ]))
        }
        let paths = try EvalOutput.write(directory: output, name: "forgetting", rows: rows, summary: .object(summary))
        print("perplexity on \(text): base \(format(b.perplexity, 3)), fine-tuned \(format(t.perplexity, 3)) (\(format(100 * (t.perplexity / b.perplexity - 1), 1))%)")
        print("wrote:    \(paths.joined(separator: ", "))")
    }
}
