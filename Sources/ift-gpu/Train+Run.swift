#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import IFTCore
import IFTData
import IFTEval
import IFTHub
import IFTModel
import IFTTrain

extension Train {
    /// The run: load, evaluate before, train, evaluate after, export.
    func train() async throws {
        setvbuf(stdout, nil, _IOLBF, 0)  // lines interleave with the progress bar on stderr
        // Before any loading: an unwritable --output would otherwise fail only after the first step.
        try FileSystem.checkWritableDirectory(output, option: "--output")
        let trainingMode = TrainingMode(rawValue: mode)!
        let store = try ModelStore()
        var modelPath = model
        if !FileSystem.exists(model), let known = KnownModel.named(model) {
            modelPath = try store.pull(known)
        }
        modelPath = try store.resolve(modelPath)
        guard FileSystem.exists(data) else {
            throw ValidationError("dataset '\(data)' does not exist; pass --data FILE (the default data/default/instructions.json is in the repository: run from its root)")
        }
        let backend = try backendOptions.makeBackend()
        let files = try ModelFiles(path: modelPath)
        let style = try PromptStyle.named(promptStyle, tokenizer: files.tokenizer)
        let prepared = try PreparedData.prepare(
            path: data, tokenizer: files.tokenizer,
            options: DataOptions(
                load: LoadOptions(skipInvalid: skipInvalid, badRowAdvice: "fix or remove the row, or pass --skip-invalid to skip bad rows"), style: style, maxLength: maxLength, maskInstructions: maskInstructions,
                packing: packing))
        if prepared.dataset.skippedCount > 0 {
            print("skipped \(prepared.dataset.skippedCount) bad row(s) of \(data) (--skip-invalid)")
        }
        let truncated = prepared.train.filter { $0.count > maxLength + 1 }.count
        if truncated > 0 {
            print("warning: \(truncated) of \(prepared.train.count) training examples are longer than --max-length \(maxLength) and are truncated (their responses lose their ends)")
        }
        // --adapter: training continues from an adapter, whose rank, alpha, targets and rsLoRA win.
        let startAdapter = try adapter.map { try LoRAAdapterWeights.load($0, config: files.config) }
        let rank = startAdapter?.rank ?? self.rank
        let alpha = startAdapter?.alpha ?? self.alpha
        let rslora = startAdapter?.rsLoRA ?? self.rslora
        let lora = LoRAConfig(
            rank: rank, alpha: alpha, dropout: loraDropout, targets: try startAdapter?.targets ?? Projection.parseList(loraTargets), rsLoRA: rslora)
        print("model:    \(modelPath) (\(files.config.layerCount) layers, d=\(files.config.hiddenSize), vocab \(files.config.vocabSize))")
        print("backend:  \(backend.name)")
        print("data:     \(data): \(prepared.train.count) train, \(prepared.validation.count) validation, \(prepared.test.count) test examples; prompt style \(style.name)")
        let loadStart = ContinuousClock.now
        let trainable = try TrainableLlama(
            files: files, backend: backend, mode: trainingMode, lora: trainingMode == .full ? nil : lora, seed: seed,
            maxPositions: min(try files.config.contextPositions(requested: nil), max(maxLength + 1, 2048)))
        if let startAdapter, let path = adapter {
            try trainable.loadAdapter(startAdapter)
            print("adapter:  starting from \(path) (rank \(rank), alpha \(alpha)\(rslora ? ", rsLoRA" : ""))")
        }
        print(
            "mode:     \(trainingMode.rawValue)" + (trainingMode == .full ? "" : ", rank \(rank), alpha \(alpha), targets \(lora.targets.map(\.rawValue).joined(separator: ","))")
                + (checkpointActivations ? "; activation checkpointing" : "") + "; \(trainable.trainableCount) trainable parameters; base weights \(ProgressBar.bytes(Double(trainable.baseWeightBytes))) (loaded in \(ProgressBar.fixed(ProgressBar.seconds(ContinuousClock.now - loadStart), 1)) s)")

        var options = TrainingOptions()
        options.epochs = epochs
        options.maxSteps = maxSteps
        options.gradientAccumulation = gradAccum
        options.learningRate = lr
        options.warmupSteps = warmup
        options.schedule = LearningRateSchedule.Kind(rawValue: schedule)!
        options.weightDecay = weightDecay
        options.maxGradNorm = maxGradNorm > 0 ? maxGradNorm : nil
        options.evalEvery = evalEvery
        options.saveEvery = saveEvery
        options.outputDirectory = output
        options.seed = seed
        options.checkpointActivations = checkpointActivations
        var run = JSONObject()
        run["model"] = .string(modelPath)
        run["mode"] = .string(trainingMode.rawValue)
        if trainingMode != .full {
            run["lora_rank"] = .int(rank)
            run["lora_alpha"] = .double(Double(alpha))
            run["lora_targets"] = .string(lora.targets.map(\.rawValue).joined(separator: ","))
            run["lora_rslora"] = .bool(rslora)
        }
        run["prompt_style"] = .string(style.name)
        run["data"] = .string(data)
        run["max_length"] = .int(maxLength)
        run["batch_size"] = .int(batchSize)
        run["eval_metric"] = .string(evalMetric)
        let validation = prepared.batches(prepared.validation, batchSize: batchSize)
        let trainer = try Trainer(model: trainable, options: options, run: run, validation: validation) { epoch in
            prepared.batches(prepared.train, batchSize: batchSize, shuffleSeed: seed &+ UInt64(epoch))
        }
        if let resume {
            try trainer.resume(from: resume)
            print("resumed:  \(resume) at step \(trainer.state.step)")
        }
        print("steps:    \(trainer.totalSteps) (\(trainer.stepsPerEpoch) per epoch), batch \(batchSize) x \(gradAccum) accumulation, lr \(lr), warmup \(warmup), \(schedule)")

        let evaluator = ExactMatchEvaluator(
            tokenizer: files.tokenizer, style: style, examples: Array(prepared.splits.validation.prefix(evalExamples)),
            maxNewTokens: maxNewTokens)
        trainer.evalScorer = try evalScorer(evaluator: evaluator, tokenizer: files.tokenizer, style: style)
        var evalStart = ContinuousClock.now
        let before = validation.isEmpty ? nil : try trainer.evaluate(validation)
        var emBefore: ExactMatchEvaluator.Result?
        if evalExamples > 0 && trainer.state.step == 0 {
            emBefore = try evaluator.run(try trainable.inferenceModel())
        }
        let evalTime = { " (evaluated in \(ProgressBar.fixed(ProgressBar.seconds(ContinuousClock.now - evalStart), 1)) s)" }
        if let before { print("before:   validation loss \(ProgressBar.fixed(before, 4))" + (emBefore.map { ", exact match \($0.summary)" } ?? "") + evalTime()) }

        let start = ContinuousClock.now
        try trainer.train()
        let elapsed = ProgressBar.seconds(ContinuousClock.now - start)
        var after: Double?
        evalStart = ContinuousClock.now
        if !validation.isEmpty { after = try trainer.history.last?.validationLoss ?? trainer.evaluate(validation) }
        var emAfter: ExactMatchEvaluator.Result?
        if evalExamples > 0 { emAfter = try evaluator.run(try trainable.inferenceModel()) }
        let tokens = trainer.history.reduce(0) { $0 + $1.tokens }
        print("trained:  \(trainer.history.count) steps, \(tokens) tokens in \(ProgressBar.fixed(elapsed, 1)) s (\(Int(Double(tokens) / max(elapsed, 1e-9))) tokens/s); peak memory \(ProgressBar.fixed(Trainer.peakRSSMB(), 0)) MB"
            + ((backend as? DeviceMemoryReporting).map { ", device tensors \(ProgressBar.fixed(Double($0.peakDeviceBytes) / 1_048_576, 0)) MB" } ?? ""))
        let evalAfter = evalTime()
        if let after { print("after:    validation loss \(ProgressBar.fixed(after, 4))" + (emAfter.map { ", exact match \($0.summary)" } ?? "") + evalAfter) }
        if let emAfter {
            // A few answers, right ones first.
            let shown = Array(emAfter.samples.filter(\.correct).prefix(2)) + Array(emAfter.samples.filter { !$0.correct }.prefix(2))
            for s in shown {
                print("\n### Instruction:\n\(s.prompt)\n### Expected: \(s.expected)\n### Model:    \(s.generated)  [\(s.correct ? "correct" : "wrong")]")
            }
            print("")
        }
        if trainingMode != .full {
            try trainable.exportPEFTAdapter(to: output + "/adapter", baseModel: modelPath, promptStyle: style.name)
        }
        var summary: [(String, String)] = [
            ("model", modelPath), ("mode", trainingMode.rawValue), ("backend", backend.name), ("data", data),
            ("steps", "\(trainer.history.count)"), ("tokens/s", "\(Int(Double(tokens) / max(elapsed, 1e-9)))"),
        ]
        if let before { summary.append(("validation loss before", ProgressBar.fixed(before, 4))) }
        if let after { summary.append(("validation loss after", ProgressBar.fixed(after, 4))) }
        if let emBefore { summary.append(("exact match before", emBefore.summary)) }
        if let emAfter { summary.append(("exact match after", emAfter.summary)) }
        try TrainingReport.write(
            TrainingReport.Content(
                title: "ift-gpu train: \(trainingMode.rawValue) on \(data)", history: trainer.history, summary: summary,
                settings: [
                    ("learning rate", "\(lr), \(schedule), warmup \(warmup)"), ("batch", "\(batchSize) x \(gradAccum) accumulation"),
                    ("epochs", "\(epochs)" + (maxSteps.map { ", at most \($0) steps" } ?? "")), ("max length", "\(maxLength)"),
                    ("weight decay", "\(weightDecay)"), ("max grad norm", maxGradNorm > 0 ? "\(maxGradNorm)" : "none"),
                    ("prompt style", style.name), ("mask instructions", "\(maskInstructions)"), ("packing", "\(packing)"), ("seed", "\(seed)"),
                ] + (trainingMode == .full ? [] : [
                    ("LoRA", "rank \(rank), alpha \(alpha), dropout \(loraDropout), targets \(lora.targets.map(\.rawValue).joined(separator: ","))" + (rslora ? ", rsLoRA" : "")),
                ]),
                initialValidationLoss: trainer.state.step == trainer.history.count ? before : nil,
                tables: evaluationTable(before: before, after: after, emBefore: emBefore, emAfter: emAfter),
                samples: reportSamples(before: emBefore, after: emAfter)),
            to: output + "/report.html")
        print("wrote:    \(output)/metrics.jsonl, \(output)/report.html, \(output)/checkpoint" + (trainingMode != .full ? ", \(output)/adapter" : ""))
    }
}

extension Train {
    /// The score `best/` keeps the best of, for `--eval-metric` (nil for `loss`): exact match on
    /// the `--eval-examples` validation examples, IFEval's prompt-level loose accuracy on the first
    /// `--eval-examples` prompts of `--ifeval-prompts` (asked in the training prompt style), or the
    /// mean ch. 7 judge score (0-1) of the answers to the validation examples.
    func evalScorer(
        evaluator: ExactMatchEvaluator, tokenizer: Tokenizer, style: PromptStyle
    ) throws -> ((TrainableLlama) throws -> Double)? {
        switch evalMetric {
        case "exact-match":
            return { model in
                let r = try evaluator.run(try model.inferenceModel(), progress: false)
                return r.total > 0 ? Double(r.correct) / Double(r.total) : 0
            }
        case "ifeval":
            let prompts = Array(try IFEval.loadPrompts(path: ifevalPrompts ?? "").prefix(evalExamples))
            let requests = try prompts.map { p in
                GenerationRequest(
                    prompt: tokenizer.encode(try style.prompt(for: .instruction(instruction: p.prompt, input: "", output: "")), parseSpecial: true),
                    maxTokens: maxNewTokens, stop: ["\n###"])
            }
            return { model in
                var generator = BatchGenerator(model: try model.inferenceModel(), tokenizer: tokenizer)
                if let eot = tokenizer.id(forToken: "<|endoftext|>") { generator.additionalStopTokens.insert(eot) }
                let answers = try generator.generate(requests)
                return IFEvalScores(zip(prompts, answers).map { IFEval.score($0, response: $1.text, mode: .loose) }).prompts.accuracy
            }
        case "judge":
            var client = JudgeClient(baseURL: judgeURL ?? "", model: judgeModel ?? "")
            client.timeoutSeconds = 120
            return { model in
                let r = try evaluator.run(try model.inferenceModel(), progress: false)
                let prompts = r.samples.map { s in
                    (system: String?.none, user: Chapter7Judge.prompt(instruction: s.instruction, input: s.input, output: s.expected, response: s.generated))
                }
                let scores = client.completeAll(prompts).compactMap { (try? $0.get()).flatMap(Chapter7Judge.score) }
                guard !scores.isEmpty else {
                    throw IFTError.invalidArgument("the judge at \(client.baseURL) scored none of the \(prompts.count) answers")
                }
                return scores.reduce(0, +) / Double(scores.count) / 100
            }
        default:
            return nil
        }
    }
}

/// The report's base-vs-fine-tuned table (validation loss, exact match).
func evaluationTable(
    before: Double?, after: Double?, emBefore: ExactMatchEvaluator.Result?, emAfter: ExactMatchEvaluator.Result?
) -> [TrainingReport.Table] {
    var rows: [[String]] = []
    if before != nil || after != nil {
        rows.append(["validation loss", before.map { ProgressBar.fixed($0, 4) } ?? "—", after.map { ProgressBar.fixed($0, 4) } ?? "—"])
    }
    if emBefore != nil || emAfter != nil {
        rows.append(["exact match", emBefore?.summary ?? "—", emAfter?.summary ?? "—"])
    }
    return rows.isEmpty ? [] : [TrainingReport.Table(title: "Evaluation", header: ["metric", "before training", "after training"], rows: rows)]
}

/// Sample generations before and after training, for the report (at most 8).
func reportSamples(before: ExactMatchEvaluator.Result?, after: ExactMatchEvaluator.Result?) -> [TrainingReport.Sample] {
    let base = after?.samples ?? before?.samples ?? []
    return base.prefix(8).enumerated().map { i, s in
        TrainingReport.Sample(
            prompt: s.prompt, expected: s.expected,
            before: before.flatMap { i < $0.samples.count ? $0.samples[i].generated : nil },
            after: after.map { _ in s.generated })
    }
}

/// Exact-match accuracy of greedy generations against the reference responses.
struct ExactMatchEvaluator {
    let tokenizer: Tokenizer
    let style: PromptStyle
    let examples: [Example]
    let maxNewTokens: Int

    struct Sample {
        var prompt: String
        var instruction: String
        var input: String
        var expected: String
        var generated: String
        var correct: Bool
    }

    struct Result {
        var correct: Int
        var total: Int
        var samples: [Sample]
        var summary: String { "\(correct)/\(total) (\(ProgressBar.fixed(total > 0 ? 100 * Double(correct) / Double(total) : 0, 1))%)" }
    }

    /// Whitespace-collapsed, case-insensitive comparison, ignoring a final period.
    static func normalize(_ s: String) -> String {
        var t = s.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " ").lowercased()
        while t.hasSuffix(".") { t.removeLast() }
        return t
    }

    func run(_ model: LlamaModel, progress: Bool = true) throws -> Result {
        // Chat and completion examples have no single reference answer: only instruction rows count.
        let instructions = examples.filter { if case .instruction = $0.content { return true } else { return false } }
        guard !instructions.isEmpty else { return Result(correct: 0, total: 0, samples: []) }
        let bar = progress ? ProgressBar(label: "exact match", total: Double(instructions.count), rateUnit: "ex/s") : nil
        let answered = try InstructionResponses(
            model: model, tokenizer: tokenizer, style: style, examples: instructions, maxNewTokens: maxNewTokens
        ) { done, _ in bar?.update(Double(done)) }
        bar?.finish()
        var correct = 0
        var samples: [Sample] = []
        for r in answered.rows {
            let ok = Self.normalize(r.response) == Self.normalize(r.output)
            if ok { correct += 1 }
            samples.append(Sample(
                prompt: r.instruction + (r.input.isEmpty ? "" : "\n" + r.input), instruction: r.instruction, input: r.input,
                expected: r.output, generated: r.response, correct: ok))
        }
        return Result(correct: correct, total: samples.count, samples: samples)
    }
}
