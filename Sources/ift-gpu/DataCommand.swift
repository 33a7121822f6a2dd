import ArgumentParser
import IFTCore
import IFTData
import IFTHub
import IFTModel
import IFTSynth

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Inspect instruction datasets.", subcommands: [DataInspect.self])
}

struct DataInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Format, counts, token lengths and one rendered example with its loss mask.",
        usage: "ift-gpu data inspect [<options>] <file>",
        discussion: """
            Detects the format (Alpaca JSON/JSONL, Dolly, chat messages, \
            prompt/completion, plain text), reports bad rows as file:line, tokenizes \
            every example with the model's tokenizer in the chosen prompt style, and \
            prints a token-length histogram, how many examples exceed --max-length, the \
            85/10/5 train/test/validation split sizes, and one example with the tokens \
            that count in the loss shown in [brackets].

            Examples:
              ift-gpu data inspect data/default/instructions.json
              ift-gpu data inspect my-chats.jsonl --prompt-style model --mask-instructions
              ift-gpu data inspect --quality data/default/instructions.json
              ift-gpu data inspect --quality runs/synth/magpie.jsonl --write-clean runs/synth/clean.json
            """)

    @Argument(help: "The dataset file.")
    var file: String

    @Option(help: "Model whose tokenizer (and chat template, for --prompt-style model) to use.")
    var model: String = "smollm2-135m-instruct"

    @Option(name: .customLong("prompt-style"), help: "alpaca, phi3, chatml or model (the model's chat template).")
    var promptStyle: String = "alpaca"

    @Option(name: .customLong("max-length"), help: "Longest sequence in tokens; longer examples are counted.")
    var maxLength: Int = 1024

    @Flag(name: .customLong("mask-instructions"), help: "Show the loss mask with prompt tokens excluded.")
    var maskInstructions = false

    @Flag(name: .customLong("skip-invalid"), help: "Skip and count bad rows instead of stopping at the first.")
    var skipInvalid = false

    @Option(help: "Index of the example to render.")
    var example: Int = 0

    @OptionGroup var quality: QualityOptions

    func validate() throws {
        guard ["alpaca", "phi3", "chatml", "model"].contains(promptStyle) else {
            throw ValidationError("unknown --prompt-style '\(promptStyle)'; choose alpaca, phi3, chatml or model")
        }
        guard maxLength > 1 else { throw ValidationError("--max-length must be at least 2") }
    }

    func run() throws {
        let dataset = try Dataset.load(file, options: LoadOptions(skipInvalid: skipInvalid, badRowAdvice: "fix or remove the row, or pass --skip-invalid to count the bad rows"))
        if quality.quality || quality.writeClean != nil {
            try quality.report(dataset, file: file)
            return
        }
        let tokenizer = try ModelFiles(path: try ModelStore().resolve(model)).tokenizer
        let style: PromptStyle
        switch promptStyle {
        case "phi3": style = .phi3
        case "chatml": style = .chatml
        case "model": style = try .model(of: tokenizer)
        default: style = .alpaca
        }
        let tok = try ExampleTokenizer(tokenizer: tokenizer, style: style)
        let tokenized = try tok.tokenize(dataset.examples)
        let lengths = tokenized.map(\.count)
        print("file:           \(file)")
        print("format:         \(dataset.format.rawValue)")
        print("examples:       \(dataset.examples.count)" + (dataset.skippedCount > 0 ? " (\(dataset.skippedCount) bad rows skipped)" : ""))
        for e in dataset.skipped.prefix(5) { print("  skipped: \(e)") }
        let splits = DatasetSplits(dataset.examples)
        print("splits:         \(splits.train.count) train, \(splits.test.count) test, \(splits.validation.count) validation (85/10/5 in file order)")
        guard !lengths.isEmpty else { return }
        let sorted = lengths.sorted()
        let total = lengths.reduce(0, +)
        print("prompt style:   \(style.name); tokenizer \(tokenizer.source), end of text id \(tok.endOfTextID)")
        print("tokens:         \(total) in all; per example min \(sorted[0]), median \(sorted[sorted.count / 2]), max \(sorted[sorted.count - 1]), mean \(ProgressBar.fixed(Double(total) / Double(lengths.count), 1))")
        let over = lengths.filter { $0 > maxLength }.count
        print("over --max-length \(maxLength): \(over) example(s)\(over > 0 ? " (their responses would be truncated)" : "")")
        let learned = tokenized.reduce(0) { $0 + $1.isResponse.filter { $0 }.count }
        print("response tokens: \(learned) of \(total) (\(ProgressBar.fixed(100 * Double(learned) / Double(max(total, 1)), 1))%)")
        print("token-length histogram:")
        for (label, count) in Self.histogram(lengths) {
            let bar = String(repeating: "#", count: max(count > 0 ? 1 : 0, count * 50 / max(lengths.count, 1)))
            print("  \(pad(label, 12)) \(lpad(String(count), 6)) \(bar)")
        }
        let i = min(max(example, 0), tokenized.count - 1)
        let t = tokenized[i]
        print("example \(i) (\(dataset.examples[i].source)), \(t.count) tokens; [bracketed] tokens are in the loss\(maskInstructions ? " (instruction masking on)" : ""):")
        var text = ""
        var inLoss = false
        for (j, id) in t.tokens.enumerated() {
            // The target at position j is token j; with masking only response tokens count.
            let counts = maskInstructions ? t.isResponse[j] : j > 0
            if counts != inLoss {
                text += counts ? "[" : "]"
                inLoss = counts
            }
            text += tokenizer.decode([id])
        }
        if inLoss { text += "]" }
        print(text)
    }

    /// Power-of-two length buckets.
    static func histogram(_ lengths: [Int]) -> [(String, Int)] {
        var lo = 1
        var out: [(String, Int)] = []
        let maxLen = lengths.max() ?? 1
        while lo <= maxLen {
            let hi = lo * 2
            out.append(("\(lo)-\(hi - 1)", lengths.filter { $0 >= lo && $0 < hi }.count))
            lo = hi
        }
        return Array(out.drop { $0.1 == 0 })
    }
}
