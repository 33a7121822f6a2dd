import ArgumentParser
import IFTCore
import IFTHub
import IFTModel
import IFTTrain

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a fine-tuned model: a PEFT or llama.cpp LoRA adapter, a merged GGUF, or a Hugging Face directory.",
        usage: "ift-gpu export --from <from> --format <format> --output <output> [<options>]",
        discussion: """
            --from is a training checkpoint (checkpoint/ or best/), a run directory \
            holding checkpoint/, a PEFT adapter directory or a GGUF LoRA; an adapter's \
            base model comes from its files unless --model names it.

            Formats:
              peft       adapter_model.safetensors + adapter_config.json (transformers + PEFT)
              gguf-lora  a llama.cpp LoRA adapter (llama-cli --lora); rsLoRA's scale folded
                         into adapter.lora.alpha; --type f32, f16 or bf16
              gguf       the model with the adapter merged, --type f32, f16, bf16, q8_0,
                         q4_0, q4_1 or q4_k, with the tokenizer, chat template and training
                         prompt style in its metadata; re-quantizing a 4-bit base prints
                         the measured error
              hf         a Hugging Face directory (config.json, model.safetensors, sharded
                         past --shard-mb, tokenizer files, generation_config.json)

            An existing --output is replaced only with --force; files and directories are \
            written under a temporary name and renamed, so a failed export leaves nothing.

            Examples:
              ift-gpu export --from runs/quickstart --format gguf-lora --output tuned-lora.gguf
              ift-gpu export --from runs/quickstart --format gguf --type q8_0 --output tuned.Q8_0.gguf
              ift-gpu export --from runs/quickstart/adapter --format hf --output tuned-hf
              llama-cli -m SmolLM2-135M-Instruct.Q4_1.gguf --lora tuned-lora.gguf -p "Hi"
            """)

    @Option(help: "A checkpoint, run, PEFT adapter directory or GGUF LoRA file.")
    var from: String

    @Option(help: "peft, gguf-lora, gguf or hf.")
    var format: String

    @Option(help: "Tensor type: gguf f32|f16|bf16|q8_0|q4_0|q4_1|q4_k; hf and gguf-lora f32|f16|bf16 (default f32).")
    var type: String?

    @Option(help: "The file (gguf, gguf-lora) or directory (peft, hf) to write.")
    var output: String

    @Option(help: "The base model, when not the one the source records (a known name or a path).")
    var model: String?

    @Option(name: .customLong("shard-mb"), help: "hf: largest safetensors shard in MiB.")
    var shardMB: Int = 2048

    @Option(help: "general.name of a written GGUF.")
    var name: String?

    @Flag(help: "Replace --output when it exists.")
    var force = false

    @OptionGroup var backendOptions: BackendOptions

    func exporter() throws -> ModelExporter {
        guard let f = ExportFormat(rawValue: format) else {
            throw ValidationError("unknown --format '\(format)'; choose \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var e = ModelExporter(format: f, type: type, output: output, force: force)
        e.shardBytes = shardMB << 20
        e.name = name
        return e
    }

    func validate() throws {
        guard shardMB >= 1 else { throw ValidationError("--shard-mb must be at least 1") }
        do { try exporter().validate() } catch IFTError.invalidArgument(let why) { throw ValidationError(why) }
        try backendOptions.validate()
    }

    func run() throws {
        let backend = try backendOptions.makeBackend()
        let store = ModelStore()
        let source = try ExportSource(from: from, model: model, backend: backend) { name in
            try KnownModel.named(name).map { FileSystem.exists(name) ? name : try store.pull($0) } ?? store.resolve(name)
        }
        print("source: \(source.description)")
        for line in try exporter().export(source, backend: backend) { print(line) }
    }
}
