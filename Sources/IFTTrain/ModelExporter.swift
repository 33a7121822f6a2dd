import IFTCore
import IFTModel

#if canImport(Glibc)
import Glibc
#endif

/// What `ift-gpu export` reads: a training checkpoint (`checkpoint/`, `best/`, or a run directory
/// holding `checkpoint/`), a PEFT adapter directory or a GGUF LoRA file — with the base model it
/// applies to.
public struct ExportSource {
    /// The base model's files (tokenizer, config, weights).
    public let files: ModelFiles
    /// The LoRA adapter; nil for a full fine-tune.
    public let adapter: LoRAAdapterWeights?
    /// A full fine-tune's trained model (nil for adapters).
    let trained: TrainableLlama?
    public let promptStyle: String?
    public let description: String

    /// `model` overrides the base model recorded in the source; `resolve` turns a model name or path
    /// into a path (the CLI's model store). Backend: where weights are merged.
    public init(from path: String, model: String?, backend: any Backend, resolve: (String) throws -> String = { $0 }) throws {
        var checkpoint: String?
        if FileSystem.exists(path + "/" + Checkpoint.stateFile) {
            checkpoint = path
        } else if FileSystem.exists(path + "/checkpoint/" + Checkpoint.stateFile) {
            checkpoint = path + "/checkpoint"
        }
        if let checkpoint {
            let (trainable, files, run) = try CheckpointModel.loadTrainable(
                checkpoint: checkpoint, modelPath: try model.map(resolve), backend: backend)
            self.files = files
            promptStyle = run["prompt_style"]?.stringValue
            if trainable.mode == .full {
                adapter = nil
                trained = trainable
            } else {
                adapter = try trainable.loraAdapterWeights(baseModel: files.path, promptStyle: promptStyle)
                trained = nil
            }
            description = "checkpoint \(checkpoint) (\(trainable.mode.rawValue)) on \(files.path)"
            return
        }
        guard FileSystem.exists(path) else {
            throw IFTError.file(path: path, location: "export source", message: "no such file or directory")
        }
        // An adapter: read it once without the model to learn its base, then check it against the base.
        var base = model
        if base == nil {
            if FileSystem.isDirectory(path) {
                base = try LoRAAdapterWeights(peftDirectory: path).baseModel
            } else {
                base = try GGUFFile(path: path).metadata.stringIfPresent(LoRAAdapterWeights.ggufBaseModelKey)
            }
        }
        guard let base, !base.isEmpty else {
            throw IFTError.file(path: path, location: "adapter", message: "the adapter does not name its base model; pass --model")
        }
        files = try ModelFiles(path: try resolve(base))
        let a = try LoRAAdapterWeights.load(path, config: files.config)
        adapter = a
        trained = nil
        promptStyle = a.promptStyle
        description = "adapter \(path) (rank \(a.rank)) on \(files.path)"
    }

    /// The fine-tuned model's weights: the base with the adapter merged in f32, or the full fine-tune's.
    public func mergedWeights(backend: any Backend) throws -> LlamaWeights {
        if let trained { return try trained.mergedWeights() }
        let base = try files.loadWeights(on: backend)
        guard let adapter else { return base }
        return try adapter.merge(into: base, backend: backend)
    }
}

/// `ift-gpu export`'s formats.
public enum ExportFormat: String, CaseIterable, Sendable {
    case peft
    case ggufLoRA = "gguf-lora"
    case gguf
    case hf
}

/// Writes an `ExportSource` in one format. Nothing is written when the output exists (unless
/// `force`) or when anything fails: files go through a temporary file and a rename, directories
/// through a temporary directory and a rename.
public struct ModelExporter {
    public var format: ExportFormat
    /// GGUF: f32, f16, bf16, q8_0, q4_0, q4_1, q4_k; hf and gguf-lora: f32, f16, bf16.
    public var type: String
    public var output: String
    public var force = false
    public var shardBytes = ModelExport.defaultShardBytes
    public var name: String?

    public init(format: ExportFormat, type: String? = nil, output: String, force: Bool = false) {
        self.format = format
        self.type = type ?? "f32"
        var o = Substring(output)
        while o.count > 1 && o.last == "/" { o.removeLast() }
        self.output = String(o)
        self.force = force
    }

    /// Checks the options before any work: the type fits the format, the output may be written.
    public func validate() throws {
        let allowed: [String]
        switch format {
        case .peft: allowed = ["f32"]
        case .ggufLoRA, .hf: allowed = ["f32", "f16", "bf16"]
        case .gguf: allowed = ModelExport.ggufTypes.map { $0.name.lowercased() }
        }
        guard allowed.contains(type.lowercased()) else {
            throw IFTError.invalidArgument("--type \(type) does not apply to --format \(format.rawValue); choose \(allowed.joined(separator: ", "))")
        }
        if FileSystem.exists(output) {
            guard force else { throw IFTError.invalidArgument("\(output) exists; pass --force to replace it") }
            let isDir = FileSystem.isDirectory(output)
            let wantsDir = format == .peft || format == .hf
            guard isDir == wantsDir else {
                throw IFTError.invalidArgument("\(output) is a \(isDir ? "directory" : "file"); --format \(format.rawValue) writes a \(wantsDir ? "directory" : "file")")
            }
        }
    }

    var ggmlType: GGMLType {
        GGMLType.allCases.first { $0.name.lowercased() == type.lowercased() } ?? .f32
    }

    /// Exports `source`; returns lines to print (what was written, warnings).
    public func export(_ source: ExportSource, backend: any Backend) throws -> [String] {
        try validate()
        var lines: [String] = []
        let base = source.files.path
        switch format {
        case .peft:
            guard let adapter = source.adapter else { throw IFTError.invalidArgument("a full fine-tune has no adapter: export --format gguf or hf") }
            var a = adapter
            if a.baseModel == nil { a.baseModel = base }
            try writeDirectory { try a.writePEFT(to: $0) }
            lines.append("wrote PEFT adapter (rank \(a.rank), \(a.targets.map(\.rawValue).joined(separator: ","))) to \(output)")
        case .ggufLoRA:
            guard var a = source.adapter else { throw IFTError.invalidArgument("a full fine-tune has no adapter: export --format gguf or hf") }
            if a.baseModel == nil { a.baseModel = base }
            try a.writeGGUF(to: output, config: source.files.config, type: ggmlType, name: name)
            lines.append("wrote GGUF LoRA (rank \(a.rank), llama.cpp alpha \(a.llamaCppAlpha)) to \(output)")
        case .gguf:
            let weights = try source.mergedWeights(backend: backend)
            let summary = try ModelExport.writeGGUF(
                weights: weights, config: source.files.config, source: source.files, backend: backend, type: ggmlType,
                promptStyle: source.promptStyle, name: name, to: output)
            let types = summary.tensorTypes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            lines.append("wrote \(ggmlType.name) GGUF (\(types) tensors) to \(output)")
            if summary.requantizedTensors > 0 {
                lines.append(
                    "quantization error (relative RMS): \(ProgressBar.fixed(summary.meanRelativeError, 4)) mean, "
                        + "\(ProgressBar.fixed(summary.maxRelativeError, 4)) max over \(summary.requantizedTensors) tensors")
            }
            if let w = summary.warning { lines.append("warning: " + w) }
        case .hf:
            let weights = try source.mergedWeights(backend: backend)
            let dtype = ggmlType.dtype ?? .f32
            try writeDirectory { dir in
                try ModelExport.writeHuggingFace(
                    weights: weights, config: source.files.config, source: source.files, backend: backend, dtype: dtype,
                    promptStyle: source.promptStyle, shardBytes: shardBytes, to: dir)
            }
            lines.append("wrote Hugging Face model (\(dtype)) to \(output)")
        }
        return lines
    }

    /// Runs `body` on a fresh temporary directory beside `output`, then renames it into place.
    func writeDirectory(_ body: (String) throws -> Void) throws {
        let temp = output + ".tmp-\(getpid())"
        if FileSystem.exists(temp) { FileSystem.removeDirectory(temp) }
        do {
            try FileSystem.makeDirectories(temp)
            try body(temp)
            try FileSystem.replaceDirectory(output, with: temp)
        } catch {
            FileSystem.removeDirectory(temp)
            throw error
        }
    }
}
