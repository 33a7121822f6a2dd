#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore
import IFTData
import IFTModel

/// Settings of a training run (the trainer's part; model, data and LoRA settings live elsewhere).
public struct TrainingOptions: Sendable {
    public var epochs: Int = 1
    /// Optimizer steps in all; overrides `epochs` when set.
    public var maxSteps: Int?
    /// Micro-batches per optimizer step; the loss is averaged over the learned targets of all of them.
    public var gradientAccumulation: Int = 1
    public var learningRate: Double = 2e-4
    public var warmupSteps: Int = 0
    public var schedule: LearningRateSchedule.Kind = .cosine
    public var minLearningRateRatio: Double = 0
    public var weightDecay: Float = 0.01
    public var maxGradNorm: Float? = 1
    /// Validation loss every this many steps (0: only at the end).
    public var evalEvery: Int = 0
    /// Checkpoint (`<output>/checkpoint`) every this many steps (0: only at the end).
    public var saveEvery: Int = 0
    /// Where checkpoints and `metrics.jsonl` go (nil: nowhere, for tests and benchmarks).
    public var outputDirectory: String?
    public var seed: UInt64 = 0
    /// Stop after this step even though the schedule is longer (to test resuming).
    public var stopAfterStep: Int?
    /// Show a progress bar on standard error.
    public var progress: Bool = true
    /// Activation checkpointing (`TrainableLlama.checkpointActivations`, which the trainer sets):
    /// keep each layer's input only and recompute the rest in the backward pass — less memory,
    /// more time, the same gradients.
    public var checkpointActivations: Bool = false

    public init() {}
}

/// One optimizer step's numbers, as written to `metrics.jsonl`.
public struct StepMetrics: Sendable {
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var learningRate: Double
    public var gradNorm: Double
    public var tokens: Int
    public var tokensPerSecond: Double
    public var elapsedSeconds: Double
    public var peakMemoryMB: Double
    /// Peak device (Vulkan) tensor memory, when the backend reports it.
    public var peakDeviceMB: Double?
    public var validationLoss: Double?
    /// The `Trainer.evalScorer`'s score at this step (higher is better), when it ran.
    public var evalScore: Double? = nil

    var json: String {
        var o = JSONObject()
        o["step"] = .int(step)
        o["epoch"] = .int(epoch)
        o["loss"] = .double(loss)
        o["lr"] = .double(learningRate)
        o["grad_norm"] = .double(gradNorm)
        o["tokens"] = .int(tokens)
        o["tokens_per_s"] = .double(tokensPerSecond)
        o["elapsed_s"] = .double(elapsedSeconds)
        o["peak_rss_mb"] = .double(peakMemoryMB)
        if let d = peakDeviceMB { o["peak_device_mb"] = .double(d) }
        if let v = validationLoss { o["val_loss"] = .double(v) }
        if let e = evalScore { o["eval_score"] = .double(e) }
        var s = ""
        JSONValue.object(o).write(to: &s)
        return s
    }
}

/// Training stopped because of a non-finite loss or gradient.
public struct NonFiniteLossError: Error, CustomStringConvertible {
    public var step: Int
    public var what: String
    public var lastCheckpoint: String?
    public var description: String {
        "training stopped at step \(step): the \(what) is not finite (NaN or Inf); lower the learning rate or check the data. "
            + (lastCheckpoint.map { "The last good checkpoint is \($0) (not overwritten)." } ?? "No checkpoint was written.")
    }
}

/// The training loop: micro-batches -> accumulated gradients -> clip -> AdamW with warmup + cosine,
/// validation loss every N steps with best-checkpoint tracking, checkpoints, JSONL metrics, a
/// progress bar, and a NaN/Inf guard.
public final class Trainer {
    public let model: TrainableLlama
    public let optimizer: AdamW
    public let options: TrainingOptions
    /// The training batches of an epoch (in that epoch's order; must be deterministic).
    let epochBatches: (Int) -> [Batch]
    let validation: [Batch]
    /// Stored with every checkpoint (mode, LoRA, prompt style, model ...).
    public var run: JSONObject
    public private(set) var state = TrainerState()
    public private(set) var history: [StepMetrics] = []
    public var onStep: ((StepMetrics) -> Void)?
    /// A score of the model computed at every evaluation step (e.g. exact-match accuracy of its
    /// generations), higher is better; when set, `best/` keeps the checkpoint with the best score
    /// instead of the lowest validation loss.
    public var evalScorer: ((TrainableLlama) throws -> Double)?
    private var cachedEpoch: (epoch: Int, batches: [Batch])?
    public let stepsPerEpoch: Int

    public init(
        model: TrainableLlama, options: TrainingOptions, run: JSONObject = JSONObject(), validation: [Batch] = [],
        epochBatches: @escaping (Int) -> [Batch]
    ) throws {
        self.model = model
        self.options = options
        self.run = run
        self.validation = validation
        self.epochBatches = epochBatches
        guard options.gradientAccumulation >= 1 else {
            throw IFTError.invalidArgument("gradient accumulation must be >= 1, got \(options.gradientAccumulation)")
        }
        guard options.learningRate.isFinite, options.learningRate >= 0 else {
            throw IFTError.invalidArgument("learning rate must be finite and >= 0, got \(options.learningRate)")
        }
        optimizer = try AdamW(backend: model.backend, weightDecay: options.weightDecay, maxGradNorm: options.maxGradNorm)
        let first = epochBatches(0)
        guard !first.isEmpty else { throw IFTError.invalidArgument("no training batches: the training split is empty") }
        cachedEpoch = (0, first)
        stepsPerEpoch = (first.count + options.gradientAccumulation - 1) / options.gradientAccumulation
        state.seed = options.seed
        model.checkpointActivations = options.checkpointActivations
    }

    /// Optimizer steps of the whole run.
    public var totalSteps: Int { options.maxSteps ?? options.epochs * stepsPerEpoch }

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(
            peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: totalSteps, kind: options.schedule,
            minRatio: options.minLearningRateRatio)
    }

    /// Continues from a checkpoint directory (weights, moments, step, data position).
    public func resume(from directory: String) throws {
        let saved = try Checkpoint.readState(directory)
        for key in ["mode", "model", "lora_rank", "lora_targets", "prompt_style"] where run[key] != nil {
            if let old = saved.run[key], old != run[key]! {
                throw IFTError.invalidArgument(
                    "cannot resume from \(directory): it was trained with \(key) = \(old), this run has \(run[key]!)")
            }
        }
        state = try Checkpoint.load(from: directory, into: model, optimizer: optimizer)
        guard state.seed == options.seed else {
            throw IFTError.invalidArgument("cannot resume from \(directory) exactly: it used seed \(state.seed), this run \(options.seed)")
        }
    }

    func batches(epoch: Int) -> [Batch] {
        if let c = cachedEpoch, c.epoch == epoch { return c.batches }
        let b = epochBatches(epoch)
        cachedEpoch = (epoch, b)
        return b
    }

    /// The next micro-batches of one step, advancing the data position.
    func nextMicroBatches() -> [Batch] {
        var out: [Batch] = []
        while out.count < options.gradientAccumulation {
            let epoch = batches(epoch: state.epoch)
            if state.batchIndex >= epoch.count {
                state.epoch += 1
                state.batchIndex = 0
                if !out.isEmpty { break }  // a step does not straddle epochs
                continue
            }
            out.append(epoch[state.batchIndex])
            state.batchIndex += 1
        }
        return out
    }

    /// Mean token loss over `batches` (no gradients).
    public func evaluate(_ batches: [Batch]) throws -> Double {
        var sum = 0.0, count = 0
        for b in batches {
            let r = try model.step(b, lossScale: 1, backward: false)
            sum += r.lossSum
            count += r.tokens
        }
        return count > 0 ? sum / Double(count) : .nan
    }

    /// One optimizer step on the next micro-batches; returns its metrics.
    public func trainStep() throws -> StepMetrics {
        let start = ContinuousClock.now
        let micro = nextMicroBatches()
        let learned = micro.reduce(0) { $0 + $1.learnedTargetCount }
        try model.zeroGradients()
        var lossSum = 0.0, tokens = 0
        for (i, batch) in micro.enumerated() {
            let seed = Self.mix(options.seed, UInt64(state.step), UInt64(i))
            let r = try model.step(batch, lossScale: learned > 0 ? 1 / Float(learned) : 0, dropoutSeed: seed)
            lossSum += r.lossSum
            tokens += batch.lengths.reduce(0, +)
        }
        let loss = learned > 0 ? lossSum / Double(learned) : 0
        guard loss.isFinite else {
            throw NonFiniteLossError(step: state.step + 1, what: "loss", lastCheckpoint: lastCheckpoint)
        }
        let norm = try optimizer.gradientNorm(model.parameters)
        guard norm.isFinite else {
            throw NonFiniteLossError(step: state.step + 1, what: "gradient norm", lastCheckpoint: lastCheckpoint)
        }
        let lr = schedule.lr(at: state.step)
        try optimizer.apply(model.parameters, lr: Float(lr), norm: norm)
        state.step += 1
        state.tokensSeen += tokens
        let seconds = ProgressBar.seconds(ContinuousClock.now - start)
        return StepMetrics(
            step: state.step, epoch: state.epoch, loss: loss, learningRate: lr, gradNorm: Double(norm), tokens: tokens,
            tokensPerSecond: Double(tokens) / max(seconds, 1e-9), elapsedSeconds: 0, peakMemoryMB: Self.peakRSSMB(),
            peakDeviceMB: (model.backend as? DeviceMemoryReporting).map { Double($0.peakDeviceBytes) / 1_048_576 })
    }

    var lastCheckpoint: String? {
        guard let out = options.outputDirectory else { return nil }
        let path = out + "/checkpoint"
        return FileSystem.exists(path + "/" + Checkpoint.stateFile) ? path : nil
    }

    /// Saves `<output>/<name>` (no-op without an output directory).
    public func save(_ name: String = "checkpoint") throws {
        guard let out = options.outputDirectory else { return }
        try Checkpoint.save(model: model, optimizer: optimizer, state: state, run: run, to: out + "/" + name)
    }

    /// Trains until `totalSteps` (or `stopAfterStep`). Returns the final validation loss (nil without
    /// validation data).
    @discardableResult
    public func train() throws -> Double? {
        let total = totalSteps
        let stop = min(total, options.stopAfterStep ?? total)
        var metricsFile: LineWriter?
        if let out = options.outputDirectory {
            try FileSystem.makeDirectories(out)
            if state.step > 0 { try LineWriter.truncateMetrics(out + "/metrics.jsonl", toStep: state.step) }
            metricsFile = try LineWriter(path: out + "/metrics.jsonl", append: state.step > 0)
        }
        let bar = options.progress && state.step < stop
            ? ProgressBar(label: "train", total: Double(stop - state.step), rateUnit: "step/s") : nil
        let first = state.step
        let runStart = ContinuousClock.now
        var tokensThisRun = 0
        var lastValidation: Double?
        do {
            try trainSteps(until: stop, metricsFile: metricsFile, bar: bar, first: first, runStart: runStart,
                           tokensThisRun: &tokensThisRun, lastValidation: &lastValidation)
        } catch IFTError.file(let path, let location, let message) {
            // A full disk or a lost output directory: say where the run can continue from.
            throw IFTError.file(
                path: path, location: location,
                message: message + (lastCheckpoint.map { "; the last checkpoint, \($0), is intact: free space and continue with --resume \($0)" } ?? ""))
        } catch IFTError.deviceLost(let what) {
            // Nothing on the device can be trusted or read back: stop without saving anything.
            throw IFTError.deviceLost(
                what + " after \(state.step) completed step(s)"
                    + (lastCheckpoint.map { "; the last checkpoint, \($0), is intact: continue with --resume \($0)" } ?? "; no checkpoint was written yet"))
        }
        bar?.finish()
        return lastValidation
    }

    private func trainSteps(
        until stop: Int, metricsFile: LineWriter?, bar: ProgressBar?, first: Int, runStart: ContinuousClock.Instant,
        tokensThisRun: inout Int, lastValidation: inout Double?
    ) throws {
        while state.step < stop {
            var m = try trainStep()
            tokensThisRun += m.tokens
            let elapsed = ProgressBar.seconds(ContinuousClock.now - runStart)
            m.elapsedSeconds = elapsed
            let isLast = state.step == stop
            let evaluates = (options.evalEvery > 0 && state.step % options.evalEvery == 0) || isLast
            if evaluates && !validation.isEmpty {
                let v = try evaluate(validation)
                m.validationLoss = v
                lastValidation = v
                if evalScorer == nil && v.isFinite && v < (state.bestValidationLoss ?? .infinity) {
                    state.bestValidationLoss = v
                    state.bestStep = state.step
                    try save("best")
                }
            }
            if evaluates, let evalScorer {
                let score = try evalScorer(model)
                m.evalScore = score
                if score.isFinite && score > (state.bestScore ?? -.infinity) {
                    state.bestScore = score
                    state.bestValidationLoss = m.validationLoss
                    state.bestStep = state.step
                    try save("best")
                }
            }
            history.append(m)
            try metricsFile?.write(m.json)
            onStep?(m)
            if let bar {
                let rate = Double(tokensThisRun) / max(elapsed, 1e-9)
                bar.extra = "loss \(ProgressBar.fixed(m.loss, 4)) lr \(Self.scientific(m.learningRate)) \(Int(rate)) tok/s"
                    + (m.validationLoss.map { " val \(ProgressBar.fixed($0, 4))" } ?? "")
                    + (m.evalScore.map { " score \(ProgressBar.fixed($0, 4))" } ?? "")
                bar.update(Double(state.step - first))
            }
            if (options.saveEvery > 0 && state.step % options.saveEvery == 0) || isLast {
                try save()
            }
        }
    }

    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var g = SeededGenerator(seed: a &* 0x9E37_79B9_7F4A_7C15 ^ b &* 0xC2B2_AE3D_27D4_EB4F ^ c &* 0x1656_67B1_9E37_79F9)
        return g.next()
    }

    static func scientific(_ x: Double) -> String {
        guard x > 0, x.isFinite else { return ProgressBar.fixed(x, 1) }
        var e = 0, m = x
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        return ProgressBar.fixed(m, 2) + "e" + String(e)
    }

    /// Peak resident memory of this process, MB.
    public static func peakRSSMB() -> Double {
        var usage = rusage()
        getrusage(0, &usage)  // RUSAGE_SELF
        return Double(usage.ru_maxrss) / 1024
    }
}
