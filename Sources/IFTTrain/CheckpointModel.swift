import IFTCore
import IFTModel

/// A training checkpoint as a model to run (generation, evaluation): the base model recorded in
/// the checkpoint (or another path to the same model), the trained weights loaded with the run's
/// mode, LoRA rank, alpha, targets and rsLoRA setting, and the adapters merged.
public struct CheckpointModel {
    public let model: LlamaModel
    public let files: ModelFiles
    /// The prompt style the run trained with (`alpaca`, `phi3`, `chatml`, `model`), when recorded.
    public let promptStyle: String?
    /// The run's settings from `state.json`.
    public let run: JSONObject

    /// Loads `checkpoint` (a `checkpoint/` or `best/` directory of `ift-gpu train`). `modelPath`
    /// replaces the base model path recorded in it (e.g. the same GGUF moved elsewhere).
    public init(checkpoint: String, modelPath: String? = nil, backend: any Backend, maxPositions: Int? = nil) throws {
        let (trainable, files, run) = try Self.loadTrainable(checkpoint: checkpoint, modelPath: modelPath, backend: backend, maxPositions: maxPositions)
        self.files = files
        model = try trainable.inferenceModel()
        promptStyle = run["prompt_style"]?.stringValue
        self.run = run
    }

    /// The checkpoint's model as trained (not merged), its base model's files and the run's settings.
    public static func loadTrainable(
        checkpoint: String, modelPath: String? = nil, backend: any Backend, maxPositions: Int? = nil
    ) throws -> (model: TrainableLlama, files: ModelFiles, run: JSONObject) {
        let (_, _, run) = try Checkpoint.readState(checkpoint)
        let statePath = checkpoint + "/" + Checkpoint.stateFile
        guard let path = modelPath ?? run["model"]?.stringValue else {
            throw IFTError.file(path: statePath, location: "run.model", message: "the checkpoint does not name its base model; pass the model")
        }
        guard let modeName = run["mode"]?.stringValue, let mode = TrainingMode(rawValue: modeName) else {
            throw IFTError.file(path: statePath, location: "run.mode", message: "expected one of full, lora, qlora")
        }
        var lora: LoRAConfig?
        if mode != .full {
            guard let rank = run["lora_rank"]?.intValue, let alpha = run["lora_alpha"].flatMap(Self.number),
                let targets = run["lora_targets"]?.stringValue
            else {
                throw IFTError.file(path: statePath, location: "run", message: "expected lora_rank, lora_alpha and lora_targets for mode \(modeName)")
            }
            var rs = false
            if case .bool(let b)? = run["lora_rslora"] { rs = b }
            lora = LoRAConfig(rank: rank, alpha: Float(alpha), targets: try Projection.parseList(targets), rsLoRA: rs)
        }
        let files = try ModelFiles(path: path)
        // A request past the model's usable context (a sliding window, longrope's original context)
        // is cut to it: evaluation asks for a generous default, not for a specific length.
        let usable = try files.config.contextPositions(requested: nil)
        let trainable = try TrainableLlama(
            files: files, backend: backend, mode: mode, lora: lora, maxPositions: maxPositions.map { min($0, usable) })
        _ = try Checkpoint.load(from: checkpoint, into: trainable, optimizer: try AdamW(backend: backend))
        return (trainable, files, run)
    }

    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
}
