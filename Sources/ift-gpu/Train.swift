import ArgumentParser
import IFTConfig
import IFTCore
import IFTData
import IFTHub
import IFTModel
import IFTTrain

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune a model on instruction data (LoRA, QLoRA or full fine-tuning).",
        discussion: """
            Loads the model (a known name, pulled on first use, a .gguf file or a \
            Hugging Face safetensors directory), splits the dataset 85/10/5 into \
            train/test/validation, trains with AdamW (warmup + cosine decay, gradient \
            clipping, accumulation), reports the validation loss every --eval-every \
            steps, and writes into --output:
              metrics.jsonl       one JSON line per step (loss, lr, grad norm,
                                  tokens/s, memory)
              report.html         loss curves
              checkpoint/  best/  trainable weights + AdamW moments + state
                                  (resume with --resume)
              adapter/            the LoRA adapter in PEFT's format
                                  (adapter_model.safetensors)
            With --eval-examples N it also measures exact-match accuracy of greedy \
            generations on N validation examples before and after training, and prints \
            a few samples.

            A YAML --config file takes the same keys as the long options (e.g. \
            `lr: 2e-4`, `batch-size: 8`, `lora-targets: [q, v]`, `packing: true`); \
            options given on the command line override it.

            Examples:
              ift-gpu train --max-steps 20 --eval-examples 8
              ift-gpu train --data data/default/instructions.json --mode qlora --rank 8 \\
                  --epochs 1 --output runs/qlora
              ift-gpu train --mode full --lr 5e-5 --batch-size 4 --grad-accum 2 \\
                  --max-steps 10
              ift-gpu train --config configs/lora-example.yaml --lr 5e-4
              ift-gpu train --max-length 1024 --checkpoint-activations --max-steps 10
              ift-gpu train --resume runs/default/checkpoint --max-steps 40
            """)

    @Option(help: "YAML file with any of these options (the command line overrides it).")
    var config: String?

    @Option(help: "Model: a known name (pulled when missing), a .gguf file or a Hugging Face directory.")
    var model: String = "smollm2-135m-instruct"

    @Option(help: "Dataset file (Alpaca JSON/JSONL, Dolly, chat messages, prompt/completion, text).")
    var data: String = "data/default/instructions.json"

    @Option(name: .customLong("prompt-style"), help: "alpaca, phi3, chatml or model (the model's chat template).")
    var promptStyle: String = "alpaca"

    @Option(name: .customLong("max-length"), help: "Longest training sequence in tokens (longer examples are truncated, with a warning).")
    var maxLength: Int = 512

    @Flag(name: .customLong("mask-instructions"), inversion: .prefixedNo, help: "Learn only the responses (prompt tokens get no loss).")
    var maskInstructions = false

    @Flag(inversion: .prefixedNo, help: "Pack several examples per row (no attention across them).")
    var packing = false

    @Flag(name: .customLong("skip-invalid"), inversion: .prefixedNo, help: "Skip and count bad dataset rows instead of stopping.")
    var skipInvalid = false

    @Option(help: "full, lora or qlora (LoRA on a frozen 4-bit base).")
    var mode: String = "lora"

    @Option(help: "LoRA rank r.")
    var rank: Int = 16

    @Option(help: "LoRA alpha (scale alpha/r, or alpha/sqrt(r) with --rslora).")
    var alpha: Float = 32

    @Option(name: .customLong("lora-dropout"), help: "Dropout on the adapters' input.")
    var loraDropout: Float = 0.05

    @Option(name: .customLong("lora-targets"), help: "Projections with adapters: all, or a list of q,k,v,o,gate,up,down (Phi-3: qkv,o,gate_up,down).")
    var loraTargets: String = "all"

    @Flag(inversion: .prefixedNo, help: "rsLoRA scaling alpha/sqrt(r).")
    var rslora = false

    @Option(help: "Epochs over the training split (ignored with --max-steps).")
    var epochs: Int = 1

    @Option(name: .customLong("max-steps"), help: "Optimizer steps in all (overrides --epochs).")
    var maxSteps: Int?

    @Option(name: .customLong("batch-size"), help: "Examples (or packed rows) per micro-batch.")
    var batchSize: Int = 8

    @Option(name: .customLong("grad-accum"), help: "Micro-batches per optimizer step.")
    var gradAccum: Int = 1

    @Option(help: "Peak learning rate.")
    var lr: Double = 2e-4

    @Option(help: "Warmup steps (linear from 0).")
    var warmup: Int = 10

    @Option(help: "Learning-rate schedule after warmup: cosine, linear or constant.")
    var schedule: String = "cosine"

    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay (not applied to norm weights).")
    var weightDecay: Float = 0.01

    @Option(name: .customLong("max-grad-norm"), help: "Clip the global gradient norm to this (0: no clipping).")
    var maxGradNorm: Float = 1

    @Option(name: .customLong("eval-every"), help: "Validation loss every N steps (0: only at the end).")
    var evalEvery: Int = 0

    @Option(name: .customLong("eval-examples"), help: "Exact-match accuracy on this many validation examples before and after (0: skip).")
    var evalExamples: Int = 0

    @Option(name: .customLong("eval-metric"), help: "What best/ keeps: loss (lowest validation loss), exact-match (on --eval-examples validation examples), ifeval (prompt-level loose accuracy on the first --eval-examples prompts of --ifeval-prompts) or judge (mean ch. 7 judge score of the answers to --eval-examples validation examples, from --judge-url/--judge-model); measured at every evaluation.")
    var evalMetric: String = "loss"

    @Option(name: .customLong("ifeval-prompts"), help: "IFEval's input_data.jsonl, for --eval-metric ifeval.")
    var ifevalPrompts: String?

    @Option(name: .customLong("judge-url"), help: "An OpenAI-compatible endpoint (http://host:port/v1), for --eval-metric judge.")
    var judgeURL: String?

    @Option(name: .customLong("judge-model"), help: "The judge model's name there, for --eval-metric judge.")
    var judgeModel: String?

    @Option(name: .customLong("max-new-tokens"), help: "Longest generated answer when measuring exact match.")
    var maxNewTokens: Int = 48

    @Option(name: .customLong("save-every"), help: "Checkpoint every N steps (0: only at the end).")
    var saveEvery: Int = 0

    @Option(help: "Output directory.")
    var output: String = "runs/default"

    @Option(help: "Checkpoint directory to continue from (same model, data and settings).")
    var resume: String?

    @Option(help: "Start LoRA training from this adapter (PEFT directory or GGUF LoRA); its rank, alpha, targets and rsLoRA replace --rank, --alpha, --lora-targets and --rslora.")
    var adapter: String?

    @Flag(name: .customLong("checkpoint-activations"), inversion: .prefixedNo, help: "Keep only each layer's input and recompute the rest in the backward pass: much less activation memory for about one more forward pass of time, the same gradients.")
    var checkpointActivations = false

    @Option(help: "Seed for data order, adapter initialization and dropout.")
    var seed: UInt64 = 0

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard TrainingMode(rawValue: mode) != nil else { throw ValidationError("unknown --mode '\(mode)'; choose full, lora or qlora") }
        guard ["alpaca", "phi3", "chatml", "model"].contains(promptStyle) else {
            throw ValidationError("unknown --prompt-style '\(promptStyle)'; choose alpaca, phi3, chatml or model")
        }
        guard LearningRateSchedule.Kind(rawValue: schedule) != nil else {
            throw ValidationError("unknown --schedule '\(schedule)'; choose cosine, linear or constant")
        }
        guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2") }
        guard batchSize >= 1, gradAccum >= 1, epochs >= 1 else { throw ValidationError("--batch-size, --grad-accum and --epochs must be >= 1") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be >= 1") }
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a positive number") }
        guard ["loss", "exact-match", "ifeval", "judge"].contains(evalMetric) else {
            throw ValidationError("unknown --eval-metric '\(evalMetric)'; choose loss, exact-match, ifeval or judge")
        }
        if evalMetric != "loss" && evalExamples == 0 {
            throw ValidationError("--eval-metric \(evalMetric) needs --eval-examples N (how many examples or prompts to generate for)")
        }
        if evalMetric == "ifeval" && ifevalPrompts == nil {
            throw ValidationError("--eval-metric ifeval needs --ifeval-prompts FILE (IFEval's input_data.jsonl)")
        }
        if evalMetric == "judge" && (judgeURL == nil || judgeModel == nil) {
            throw ValidationError("--eval-metric judge needs --judge-url and --judge-model")
        }
        guard warmup >= 0, evalEvery >= 0, saveEvery >= 0, evalExamples >= 0 else {
            throw ValidationError("--warmup, --eval-every, --save-every and --eval-examples must be >= 0")
        }
        if adapter != nil && mode == "full" { throw ValidationError("--adapter continues LoRA training; use --mode lora or qlora") }
        if adapter != nil && resume != nil { throw ValidationError("give --adapter or --resume, not both (a checkpoint holds its adapter)") }
        guard rank >= 1 else { throw ValidationError("--rank must be >= 1") }
        guard alpha > 0 else { throw ValidationError("--alpha must be > 0") }
        guard loraDropout >= 0, loraDropout < 1 else { throw ValidationError("--lora-dropout must be in [0, 1)") }
        guard maxGradNorm >= 0 else { throw ValidationError("--max-grad-norm must be >= 0") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw ValidationError("--weight-decay must be a number >= 0 (e.g. 0.01)") }
        _ = try Projection.parseList(loraTargets)
        try backendOptions.validate()
    }

    mutating func run() async throws {
        if let config {
            // Re-parse with the file's options first, so the command line's come last and win.
            let arguments = try TrainConfigFile.commandLineArguments(path: config) + Self.commandLineArguments(dropping: "--config")
            var merged: Train
            do {
                merged = try Self.parse(arguments)
            } catch {
                throw ValidationError("\(config) with the command line: \(Self.message(for: error))")
            }
            merged.config = nil
            try await merged.train()
            return
        }
        try await train()
    }

    /// This command's arguments as given (after `train`), without `--config FILE`.
    static func commandLineArguments(dropping option: String) -> [String] {
        var args = Array(CommandLine.arguments.drop { $0 != "train" }.dropFirst())
        if let i = args.firstIndex(of: option) {
            args.removeSubrange(i..<min(i + 2, args.count))
        } else if let i = args.firstIndex(where: { $0.hasPrefix(option + "=") }) {
            args.remove(at: i)
        }
        return args
    }
}
