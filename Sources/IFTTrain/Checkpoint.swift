#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore
import IFTModel

/// Where a run is: enough to continue it exactly (with the same data and config).
public struct TrainerState: Equatable, Sendable {
    /// Optimizer steps done.
    public var step: Int = 0
    /// Epoch of the next batch, and the batch's index in that epoch's (seeded) order.
    public var epoch: Int = 0
    public var batchIndex: Int = 0
    /// Examples' tokens trained on so far.
    public var tokensSeen: Int = 0
    public var bestValidationLoss: Double?
    /// The best `Trainer.evalScorer` score so far (when the run keeps the best by a score).
    public var bestScore: Double?
    public var bestStep: Int?
    /// The run's seed (data order and dropout derive from it and the step).
    public var seed: UInt64 = 0

    public init() {}

    var json: JSONValue {
        var o = JSONObject()
        o["step"] = .int(step)
        o["epoch"] = .int(epoch)
        o["batch_index"] = .int(batchIndex)
        o["tokens_seen"] = .int(tokensSeen)
        o["best_validation_loss"] = bestValidationLoss.map { .double($0) } ?? .null
        o["best_step"] = bestStep.map { .int($0) } ?? .null
        if let bestScore { o["best_score"] = .double(bestScore) }
        o["seed"] = .string(String(seed))
        return .object(o)
    }

    init(json: JSONValue, path: String) throws {
        func int(_ key: String) throws -> Int {
            guard let v = json[key]?.intValue, v >= 0 else {
                throw IFTError.file(path: path, location: key, message: "expected a non-negative integer")
            }
            return v
        }
        step = try int("step")
        epoch = try int("epoch")
        batchIndex = try int("batch_index")
        tokensSeen = try int("tokens_seen")
        bestValidationLoss = json["best_validation_loss"]?.doubleValue
        bestStep = json["best_step"]?.intValue
        bestScore = json["best_score"]?.doubleValue
        guard let s = json["seed"]?.stringValue, let v = UInt64(s) else {
            throw IFTError.file(path: path, location: "seed", message: "expected the seed as a decimal string")
        }
        seed = v
    }
}

/// A training checkpoint: a directory holding the trainable weights (`trainable.safetensors`, with
/// Hugging Face / PEFT names), the AdamW moments (`optimizer.safetensors`), and `state.json` (step,
/// data position, seed, best validation loss, and the run's settings under `run`). Written to a
/// temporary directory and swapped into place in one step (`FileSystem.replaceDirectory`), so a
/// crash never leaves a half-written checkpoint (where the file system cannot swap names, a crash
/// between moving the old one aside and the new one in is undone by `recover`).
public enum Checkpoint {
    public static let weightsFile = "trainable.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let stateFile = "state.json"

    /// Saves to `directory` (replacing an older checkpoint there atomically). `run` is stored as is
    /// (mode, LoRA settings, prompt style, model path ...) and checked by the trainer on resume.
    public static func save(
        model: TrainableLlama, optimizer: AdamW, state: TrainerState, run: JSONObject, to directory: String
    ) throws {
        let b = model.backend
        var weights = SafetensorsWriter(), moments = SafetensorsWriter()
        weights.metadata = [("format", "pt"), ("ift-gpu", "trainable weights")]
        for p in model.parameters {
            try weights.addTensor(name: p.name, shape: p.value.shape, floats: try b.floats(p.value))
            try moments.addTensor(name: p.name + ".exp_avg", shape: p.value.shape, floats: try b.floats(p.m))
            try moments.addTensor(name: p.name + ".exp_avg_sq", shape: p.value.shape, floats: try b.floats(p.v))
        }
        var s = JSONObject()
        s["trainer"] = state.json
        s["optimizer_step"] = .int(optimizer.stepCount)
        s["run"] = .object(run)
        var text = ""
        JSONValue.object(s).write(to: &text)

        let parent = directory.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !parent.isEmpty { try FileSystem.makeDirectories(parent) }
        var template = Array((directory + ".tmp-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw IFTError.file(path: directory, location: "mkdtemp", message: String(cString: strerror(errno)))
        }
        let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        removeAbandonedTemporaries(of: directory, except: temp)
        do {
            try AtomicFileWriter.write(to: temp + "/" + weightsFile) { try $0.write(weights.serialized()) }
            TestHooks.pause("IFT_TEST_CHECKPOINT_PAUSE_MS")
            try AtomicFileWriter.write(to: temp + "/" + optimizerFile) { try $0.write(moments.serialized()) }
            try AtomicFileWriter.write(to: temp + "/" + stateFile) { try $0.write(Array((text + "\n").utf8)) }
            try FileSystem.replaceDirectory(directory, with: temp)
        } catch {
            FileSystem.removeDirectory(temp)
            // The trainer adds where the run can continue from.
            throw IFTError.file(path: directory, location: "save", message: "could not be written (\(error))")
        }
    }

    /// The temporary directories (`<name>.tmp-XXXXXX`) of saves that a killed process left behind.
    static func removeAbandonedTemporaries(of directory: String, except keep: String) {
        let parts = directory.split(separator: "/", omittingEmptySubsequences: false)
        let parent = parts.dropLast().joined(separator: "/")
        let prefix = (parts.last.map(String.init) ?? "") + ".tmp-"
        for name in FileSystem.list(parent.isEmpty ? "." : parent) where name.hasPrefix(prefix) {
            let path = (parent.isEmpty ? "" : parent + "/") + name
            if path != keep && FileSystem.isDirectory(path) { FileSystem.removeDirectory(path) }
        }
    }

    /// A save killed between moving the old checkpoint aside and moving the new one into place
    /// leaves only `<directory>.old`: move it back (it is complete: it was the checkpoint).
    public static func recover(_ directory: String) {
        let old = directory + ".old"
        if !FileSystem.exists(directory) && FileSystem.exists(old + "/" + stateFile) {
            _ = rename(old, directory)
        }
    }

    /// The `state.json` of a checkpoint: the trainer state, the optimizer's step count and `run`.
    public static func readState(_ directory: String) throws -> (state: TrainerState, optimizerStep: Int, run: JSONObject) {
        recover(directory)
        let path = directory + "/" + stateFile
        guard FileSystem.exists(path) else {
            throw IFTError.file(path: directory, location: "checkpoint", message: "not a checkpoint directory (no \(stateFile))")
        }
        let json = try JSONValue.parse(contentsOf: path)
        guard let t = json["trainer"], let step = json["optimizer_step"]?.intValue, let run = json["run"]?.objectValue else {
            throw IFTError.file(path: path, location: "top level", message: "expected 'trainer', 'optimizer_step' and 'run'")
        }
        return (try TrainerState(json: t, path: path), step, run)
    }

    /// Loads weights and moments into `model` and `optimizer` (whose parameters must match by name
    /// and shape: a checkpoint of another model, mode or LoRA rank is refused before anything is
    /// changed) and returns the trainer state.
    public static func load(from directory: String, into model: TrainableLlama, optimizer: AdamW) throws -> TrainerState {
        let (state, optimizerStep, _) = try readState(directory)
        let weights = try SafetensorsFile(path: directory + "/" + weightsFile)
        let moments = try SafetensorsFile(path: directory + "/" + optimizerFile)
        let names = Set(model.parameters.map(\.name))
        if let extra = weights.tensors.map(\.name).first(where: { !names.contains($0) }) {
            throw IFTError.file(
                path: weights.path, location: "tensor \(extra)",
                message: "the checkpoint holds a tensor this run does not train (another mode, model or LoRA targets?)")
        }
        // Check everything first, then write.
        for p in model.parameters {
            for (file, name) in [(weights, p.name), (moments, p.name + ".exp_avg"), (moments, p.name + ".exp_avg_sq")] {
                guard file.contains(tensor: name) else {
                    throw IFTError.file(path: file.path, location: "tensor \(name)", message: "missing: the checkpoint does not match this run")
                }
                let info = try file.tensorInfo(name)
                guard info.shape == p.value.shape, info.dtype == .f32 else {
                    throw IFTError.file(
                        path: file.path, location: "tensor \(name)",
                        message: "shape \(info.shape) (\(info.dtype)) does not match this run's \(p.value.shape) (f32): another model or LoRA rank?")
                }
            }
        }
        let b = model.backend
        for p in model.parameters {
            try b.write(p.value, from: try weights.tensorBytes(p.name))
            try b.write(p.m, from: try moments.tensorBytes(p.name + ".exp_avg"))
            try b.write(p.v, from: try moments.tensorBytes(p.name + ".exp_avg_sq"))
        }
        optimizer.stepCount = optimizerStep
        return state
    }
}
