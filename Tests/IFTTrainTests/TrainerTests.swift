#if canImport(Glibc)
import Glibc
#endif
import Foundation
import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// The trainer: exact resume, checkpoints that refuse a mismatched run, the NaN guard, schedules.
final class TrainerTests: XCTestCase {
    var tmp = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/ift-trainer-XXXXXX".utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        tmp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    override func tearDownWithError() throws {
        _ = system("rm -rf '\(tmp)'")
    }

    let c = tinyConfig()
    /// Six micro-batches per epoch, shuffled per epoch (so resuming must restore the data position).
    func epoch(_ e: Int) -> [Batch] {
        var rng = SeededGenerator(seed: UInt64(100 + e))
        return (0..<6).map { i in randomBatch(c, batch: 2, length: 6 + i % 3, seed: rng.next(), packed: i % 2 == 1) }
    }

    func makeTrainer(mode: TrainingMode, steps: Int, stopAfter: Int? = nil, output: String?, lora: LoRAConfig = LoRAConfig(rank: 4, alpha: 8, dropout: 0.1)) throws -> Trainer {
        let ref = CPUReferenceBackend()
        let m = try TrainableLlama(config: c, weights: try tinyWeights(c, on: ref), backend: ref, mode: mode, lora: lora, seed: 7)
        var o = TrainingOptions()
        o.maxSteps = steps
        o.gradientAccumulation = 2
        o.learningRate = 3e-3
        o.warmupSteps = 2
        o.stopAfterStep = stopAfter
        o.outputDirectory = output
        o.seed = 11
        o.progress = false
        o.evalEvery = 2
        var run = JSONObject()
        run["mode"] = .string(mode.rawValue)
        return try Trainer(model: m, options: o, run: run, validation: [randomBatch(c, batch: 2, length: 5, seed: 99)]) { self.epoch($0) }
    }

    func weights(_ t: Trainer) throws -> [[Float]] {
        try t.model.parameters.map { try t.model.backend.floats($0.value) } + t.model.parameters.map { try t.model.backend.floats($0.m) }
    }

    /// Training 2k steps straight equals training k, stopping, and resuming to 2k: bitwise, on
    /// cpu-ref, across an epoch boundary, with LoRA dropout and gradient accumulation.
    func testResumeIsExact() throws {
        for mode in [TrainingMode.lora, .full] {
            let k = 4
            let straight = try makeTrainer(mode: mode, steps: 2 * k, output: tmp + "/straight-\(mode)")
            try straight.train()
            let first = try makeTrainer(mode: mode, steps: 2 * k, stopAfter: k, output: tmp + "/resumed-\(mode)")
            try first.train()
            XCTAssertEqual(first.state.step, k)
            let second = try makeTrainer(mode: mode, steps: 2 * k, output: tmp + "/resumed-\(mode)")
            try second.resume(from: tmp + "/resumed-\(mode)/checkpoint")
            XCTAssertEqual(second.state.step, k)
            try second.train()
            XCTAssertEqual(second.state, straight.state, "\(mode): trainer state")
            XCTAssertEqual(try weights(second), try weights(straight), "\(mode): weights and moments must be bitwise equal")
            XCTAssertEqual(second.history.map(\.loss), Array(straight.history.map(\.loss).suffix(k)))
            // metrics.jsonl holds every step once (the resumed run appends).
            let lines = try FileSystem.readText(tmp + "/resumed-\(mode)/metrics.jsonl").split(separator: "\n")
            XCTAssertEqual(lines.count, 2 * k)
        }
    }

    func testCheckpointOfAnotherRunIsRefusedAndNotOverwritten() throws {
        let t = try makeTrainer(mode: .lora, steps: 2, output: tmp + "/a")
        try t.train()
        let ckpt = tmp + "/a/checkpoint"
        let before = try FileSystem.readText(ckpt + "/" + Checkpoint.weightsFile)
        // Another LoRA rank: shapes differ.
        let other = try makeTrainer(mode: .lora, steps: 4, output: tmp + "/b", lora: LoRAConfig(rank: 2, alpha: 4))
        XCTAssertThrowsError(try other.resume(from: ckpt)) { e in
            XCTAssertTrue("\(e)".contains("does not match this run"), "\(e)")
        }
        // Another mode: refused by the run settings.
        let full = try makeTrainer(mode: .full, steps: 4, output: tmp + "/c")
        XCTAssertThrowsError(try full.resume(from: ckpt)) { e in XCTAssertTrue("\(e)".contains("mode"), "\(e)") }
        XCTAssertThrowsError(try full.resume(from: tmp + "/nothing")) { e in XCTAssertTrue("\(e)".contains("not a checkpoint"), "\(e)") }
        XCTAssertEqual(try FileSystem.readText(ckpt + "/" + Checkpoint.weightsFile), before)
        XCTAssertFalse(FileSystem.list(tmp + "/a").contains { $0.contains(".tmp-") }, "no temporary directories left")
    }

    func testNonFiniteLossStopsWithAClearMessageAndKeepsTheCheckpoint() throws {
        let t = try makeTrainer(mode: .lora, steps: 6, stopAfter: 2, output: tmp + "/nan")
        try t.train()
        let saved = try FileSystem.readText(tmp + "/nan/checkpoint/" + Checkpoint.weightsFile)
        // Poison a weight: the next forward pass produces NaN.
        let p = t.model.parameters[0]
        try t.model.setParameter(p.name, [Float](repeating: .nan, count: p.value.count))
        let resumed = try makeTrainer(mode: .lora, steps: 6, output: tmp + "/nan")
        try resumed.resume(from: tmp + "/nan/checkpoint")
        try resumed.model.setParameter(p.name, [Float](repeating: .nan, count: p.value.count))
        XCTAssertThrowsError(try resumed.train()) { e in
            XCTAssertTrue(e is NonFiniteLossError, "\(e)")
            XCTAssertTrue("\(e)".contains("not finite") && "\(e)".contains("last good checkpoint"), "\(e)")
        }
        XCTAssertEqual(try FileSystem.readText(tmp + "/nan/checkpoint/" + Checkpoint.weightsFile), saved)
    }

    func testBestCheckpointAndMetrics() throws {
        let t = try makeTrainer(mode: .lora, steps: 6, output: tmp + "/m")
        try t.train()
        XCTAssertNotNil(t.state.bestValidationLoss)
        XCTAssertTrue(FileSystem.exists(tmp + "/m/best/" + Checkpoint.stateFile))
        let lines = try FileSystem.readText(tmp + "/m/metrics.jsonl").split(separator: "\n")
        XCTAssertEqual(lines.count, 6)
        let last = try JSONValue.parse(String(lines[5]))
        for key in ["step", "loss", "lr", "grad_norm", "tokens_per_s", "peak_rss_mb", "val_loss"] {
            XCTAssertNotNil(last[key], "metrics.jsonl lacks \(key)")
        }
        XCTAssertLessThan(t.history.last!.loss, t.history.first!.loss, "loss decreases on this tiny problem")
    }

    /// With an eval scorer, best/ keeps the step with the highest score (not the lowest loss), the
    /// score is in metrics.jsonl and state.json, and the scorer sees the model being trained.
    func testBestCheckpointByAnEvalScore() throws {
        let t = try makeTrainer(mode: .lora, steps: 6, output: tmp + "/score")
        var scores = [0.25, 0.75, 0.5]  // at steps 2, 4, 6
        var seen: [Int] = []
        t.evalScorer = { model in
            XCTAssertTrue(model === t.model)
            seen.append(t.state.step)
            return scores.removeFirst()
        }
        try t.train()
        XCTAssertEqual(seen, [2, 4, 6])
        XCTAssertEqual(t.state.bestStep, 4)
        XCTAssertEqual(t.state.bestScore, 0.75)
        let best = try Checkpoint.readState(tmp + "/score/best")
        XCTAssertEqual(best.state.step, 4, "best/ holds step 4, whose score was highest")
        XCTAssertEqual(best.state.bestScore, 0.75)
        let lines = try FileSystem.readText(tmp + "/score/metrics.jsonl").split(separator: "\n")
        XCTAssertEqual(try JSONValue.parse(String(lines[3]))["eval_score"]?.doubleValue, 0.75)
        XCTAssertNil(try JSONValue.parse(String(lines[2]))["eval_score"], "no evaluation at step 3")
    }

    func testReportDrawsBothCurves() {
        let h = (1...4).map { i in
            StepMetrics(
                step: i, epoch: 0, loss: 3 - Double(i) * 0.5, learningRate: 1e-3, gradNorm: 1, tokens: 10, tokensPerSecond: 5,
                elapsedSeconds: 1, peakMemoryMB: 1, peakDeviceMB: nil, validationLoss: i == 4 ? 1.2 : nil)
        }
        let html = TrainingReport.html(title: "a <b> & c", history: h, summary: [("k", "v<")], initialValidationLoss: 2.9)
        XCTAssertTrue(html.contains("a &lt;b&gt; &amp; c"))
        XCTAssertTrue(html.contains("v&lt;"))
        XCTAssertEqual(html.components(separatedBy: "<figure").count - 1, 5, "five panels")
        XCTAssertTrue(html.contains("validation loss at step 0: 2.9") && html.contains("validation loss at step 4: 1.2"), "validation points at steps 0 and 4")
    }

    func testScheduleMatchesHuggingFace() {
        let s = LearningRateSchedule(peak: 1e-3, warmupSteps: 5, totalSteps: 50)
        XCTAssertEqual(s.lr(at: 0), 0)
        XCTAssertEqual(s.lr(at: 1), 2e-4, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 5), 1e-3, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 50), 0, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 27), 1e-3 * 0.5 * (1 + cos(Double.pi * 22 / 45)), accuracy: 1e-12)
        XCTAssertEqual(LearningRateSchedule(peak: 1, warmupSteps: 0, totalSteps: 10, kind: .linear).lr(at: 5), 0.5, accuracy: 1e-12)
        XCTAssertEqual(LearningRateSchedule(peak: 1, warmupSteps: 2, totalSteps: 10, kind: .constant).lr(at: 9), 1)
    }

    func testLoRATargetsParse() throws {
        XCTAssertEqual(try Projection.parseList("all"), Projection.allCases)
        XCTAssertEqual(try Projection.parseList("q, v_proj,self_attn.o_proj"), [.q, .v, .o])
        XCTAssertThrowsError(try Projection.parseList("q,x")) { XCTAssertTrue("\($0)".contains("unknown LoRA target 'x'"), "\($0)") }
    }

    /// Merging the adapters gives an inference model whose logits equal the training forward's loss.
    func testMergedModelMatchesTrainingForward() throws {
        let big = tinyConfig(vocab: 48, hidden: 64, ffn: 128)
        let ref = CPUReferenceBackend()
        let m = try TrainableLlama(config: big, weights: try tinyWeights(big, on: ref), backend: ref, mode: .qlora, lora: LoRAConfig(rank: 4, alpha: 8))
        var rng = SeededGenerator(seed: 2)
        for p in m.parameters where p.name.contains("lora_B") { try m.setParameter(p.name, (0..<p.value.count).map { _ in 0.2 * rng.normal() }) }
        let batch = randomBatch(big, batch: 1, length: 8, seed: 3)
        let r = try m.step(batch, lossScale: 1, backward: false)
        let infer = try m.inferenceModel()
        let logits = try ref.floats(try infer.forward(batch.inputs, cache: try infer.makeCache()))
        var sum = 0.0
        for tpos in 0..<batch.length where batch.targets[tpos] != Batch.ignoreIndex {
            let row = logits[(tpos * big.vocabSize)..<((tpos + 1) * big.vocabSize)].map(Double.init)
            let mx = row.max()!
            sum += mx + log(row.reduce(0) { $0 + exp($1 - mx) }) - row[Int(batch.targets[tpos])]
        }
        XCTAssertEqual(r.lossSum, sum, accuracy: 1e-3 * abs(sum))
        // The PEFT export holds every adapter with PEFT's names.
        try m.exportPEFTAdapter(to: tmp + "/adapter", baseModel: "tiny")
        let st = try SafetensorsFile(path: tmp + "/adapter/adapter_model.safetensors")
        XCTAssertEqual(st.tensors.count, 2 * 7 * big.layerCount)
        XCTAssertTrue(st.contains(tensor: "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"))
        let cfg = try JSONValue.parse(contentsOf: tmp + "/adapter/adapter_config.json")
        XCTAssertEqual(cfg["r"]?.intValue, 4)
    }
}
