import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// Parity with PyTorch + PEFT on a tiny random Llama (GQA, tied embeddings). The fixture
/// `Fixtures/tiny-llama-train` comes from `Tools/make-train-fixture.py` (torch 2.13 CPU fp32,
/// transformers 5.24, peft 0.21; see its README): the same initial weights and micro-batches, the
/// first step's gradients, and the loss / learning rate / gradient norm of 50 optimizer steps of
/// full fine-tuning and of LoRA (AdamW, warmup 5 + cosine, clipping at 1.0, accumulation 2).
final class PyTorchParityTests: XCTestCase {
    static let dir = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        + "/Fixtures/tiny-llama-train"

    struct Fixture {
        var config: LlamaConfig
        var batches: [Batch]
        var hyper: JSONValue
    }

    func fixture() throws -> Fixture {
        let d = Self.dir
        let config = try LlamaConfig(configJSONPath: d + "/config.json")
        let json = try JSONValue.parse(contentsOf: d + "/batches.json")
        var batches: [Batch] = []
        for mb in json["micro_batches"]?.arrayValue ?? [] {
            let inputs = (mb["input_ids"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap { $0.intValue }.map(Int32.init) }
            let targets = (mb["targets"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap { $0.intValue }.map(Int32.init) }
            let t = inputs[0].count
            batches.append(
                Batch(
                    batchSize: inputs.count, length: t, inputs: inputs.flatMap { $0 }, targets: targets.flatMap { $0 },
                    lengths: targets.map { row in row.filter { $0 != Batch.ignoreIndex }.count }))
        }
        XCTAssertEqual(batches.count, 8)
        return Fixture(config: config, batches: batches, hyper: try JSONValue.parse(contentsOf: d + "/hyper.json"))
    }

    func model(_ f: Fixture, mode: TrainingMode, backend: any Backend, adapters: String? = nil, rs: Bool = false) throws -> TrainableLlama {
        let st = try SafetensorsFile(path: Self.dir + "/model.safetensors")
        let weights = try LlamaWeights.load(safetensors: [st], config: f.config, on: backend)
        let lora = LoRAConfig(rank: 4, alpha: 8, dropout: 0, targets: Projection.allCases, rsLoRA: rs)
        let m = try TrainableLlama(config: f.config, weights: weights, backend: backend, mode: mode, lora: mode == .full ? nil : lora)
        if let adapters {
            let a = try SafetensorsFile(path: Self.dir + "/" + adapters)
            for p in m.parameters { try m.setParameter(p.name, try a.floats(p.name, expectedShape: p.value.shape)) }
        }
        return m
    }

    /// A trainer replaying the fixture's schedule: step s uses micro-batches 2s and 2s+1 (mod 8).
    func trainer(_ m: TrainableLlama, _ f: Fixture, lr: Double) throws -> Trainer {
        var o = TrainingOptions()
        o.maxSteps = 50
        o.gradientAccumulation = 2
        o.learningRate = lr
        o.warmupSteps = 5
        o.weightDecay = 0.01
        o.maxGradNorm = 1
        o.progress = false
        return try Trainer(model: m, options: o) { _ in f.batches }
    }

    func checkFirstStepGradients(_ m: TrainableLlama, _ f: Fixture, expected file: String) throws {
        let n = Float(f.batches[0].learnedTargetCount + f.batches[1].learnedTargetCount)
        try m.zeroGradients()
        let r0 = try m.step(f.batches[0], lossScale: 1 / n)
        let r1 = try m.step(f.batches[1], lossScale: 1 / n)
        let trace = try JSONValue.parse(contentsOf: Self.dir + "/" + file.split(separator: "/")[0] + "/trace.json")
        let loss = (r0.lossSum + r1.lossSum) / Double(n)
        let expectedLoss = trace["loss"]?.arrayValue?.first?.doubleValue ?? .nan
        XCTAssertEqual(loss, expectedLoss, accuracy: 1e-5 * abs(expectedLoss), "first-step loss")
        let grads = try SafetensorsFile(path: Self.dir + "/" + file)
        XCTAssertEqual(Set(grads.tensors.map(\.name)), Set(m.parameters.map(\.name)), "the same trainable parameters")
        var worst: (Float, String) = (0, "")
        for p in m.parameters {
            let ours = try m.backend.floats(p.grad)
            let theirs = try grads.floats(p.name, expectedShape: p.value.shape)
            let rel = maxRelativeDifference(ours, theirs)
            if rel > worst.0 { worst = (rel, p.name) }
        }
        print("\(file): first-step loss \(loss) vs PyTorch \(expectedLoss); worst gradient relative difference \(worst.0) (\(worst.1))")
        XCTAssertLessThan(worst.0, 1e-5, "gradient of \(worst.1)")
    }

    func checkTrace(_ t: Trainer, dir: String) throws {
        let trace = try JSONValue.parse(contentsOf: Self.dir + "/\(dir)/trace.json")
        let losses = trace["loss"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        let lrs = trace["lr"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        let norms = trace["grad_norm"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        XCTAssertEqual(losses.count, 50)
        try t.train()
        XCTAssertEqual(t.history.count, 50)
        var worstLoss = 0.0, worstNorm = 0.0
        for (i, m) in t.history.enumerated() where i < losses.count {
            worstLoss = max(worstLoss, abs(m.loss - losses[i]) / abs(losses[i]))
            worstNorm = max(worstNorm, abs(m.gradNorm - norms[i]) / abs(norms[i]))
            XCTAssertEqual(m.learningRate, lrs[i], accuracy: 1e-9 + 1e-6 * lrs[i], "lr at step \(i)")
        }
        print("\(dir): 50 steps, worst relative loss difference \(worstLoss), grad norm \(worstNorm); final loss \(t.history.last?.loss ?? .nan) vs PyTorch \(losses.last ?? .nan)")
        XCTAssertLessThan(worstLoss, 1e-3)
        XCTAssertLessThan(worstNorm, 1e-3)
    }

    func testFullFineTuningFirstStepGradients() throws {
        let f = try fixture()
        try checkFirstStepGradients(try model(f, mode: .full, backend: CPUReferenceBackend()), f, expected: "full/step0_grads.safetensors")
    }

    func testLoRAFirstStepGradients() throws {
        let f = try fixture()
        try checkFirstStepGradients(
            try model(f, mode: .lora, backend: CPUReferenceBackend(), adapters: "lora/adapter_init.safetensors"), f,
            expected: "lora/step0_grads.safetensors")
    }

    func testFullFineTuning50Steps() throws {
        let f = try fixture()
        let m = try model(f, mode: .full, backend: CPUReferenceBackend())
        try checkTrace(try trainer(m, f, lr: 1e-3), dir: "full")
        // The final weights too (looser: 50 AdamW steps amplify fp32 rounding differences).
        let final = try SafetensorsFile(path: Self.dir + "/full/final.safetensors")
        var worst: Float = 0
        for p in m.parameters { worst = max(worst, maxRelativeDifference(try m.backend.floats(p.value), try final.floats(p.name))) }
        print("full: final weights, worst relative difference \(worst)")
        XCTAssertLessThan(worst, 1e-3)
    }

    func testLoRA50Steps() throws {
        let f = try fixture()
        let m = try model(f, mode: .lora, backend: CPUReferenceBackend(), adapters: "lora/adapter_init.safetensors")
        try checkTrace(try trainer(m, f, lr: 1e-3), dir: "lora")
    }

    func testRSLoRA50Steps() throws {
        let f = try fixture()
        let m = try model(f, mode: .lora, backend: CPUReferenceBackend(), adapters: "lora_rs/adapter_init.safetensors", rs: true)
        try checkTrace(try trainer(m, f, lr: 1e-3), dir: "lora_rs")
    }

    /// The cpu backend follows cpu-ref over the same 50 LoRA steps.
    func testCPUBackendTracksReference() throws {
        let f = try fixture()
        var traces: [[Double]] = []
        for be in try cpuBackends() {
            let t = try trainer(try model(f, mode: .lora, backend: be, adapters: "lora/adapter_init.safetensors"), f, lr: 1e-3)
            try t.train()
            traces.append(t.history.map(\.loss))
        }
        let worst = zip(traces[0], traces[1]).map { abs($0 - $1) / abs($0) }.max() ?? .infinity
        print("cpu vs cpu-ref, 50 LoRA steps: worst relative loss difference \(worst)")
        XCTAssertLessThan(worst, 1e-4)
    }
}
