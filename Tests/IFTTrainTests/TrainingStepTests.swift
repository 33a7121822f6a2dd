import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// The training step's gradients: finite differences of the whole model's loss (every parameter
/// kind, full fine-tuning and LoRA, packed and unpacked), and agreement between backends.
final class TrainingStepTests: XCTestCase {
    /// Loss of `batch` (mean over learned targets) for the current parameters.
    func loss(_ m: TrainableLlama, _ batch: Batch) throws -> Double {
        let r = try m.step(batch, lossScale: 1, backward: false)
        return r.lossSum / Double(r.tokens)
    }

    /// Central differences on the coordinates with the largest gradients of every parameter.
    func checkGradients(mode: TrainingMode, packed: Bool, lora: LoRAConfig? = nil) throws {
        let c = tinyConfig()
        let ref = CPUReferenceBackend()
        let m = try TrainableLlama(config: c, weights: try tinyWeights(c, on: ref), backend: ref, mode: mode, lora: lora, seed: 3)
        if mode != .full {
            // B starts at zero (PEFT); make it random so that A's gradient is not zero.
            var rng = SeededGenerator(seed: 9)
            for p in m.parameters where p.name.hasSuffix("lora_B.weight") {
                try m.setParameter(p.name, (0..<p.value.count).map { _ in 0.3 * rng.normal() })
            }
        }
        let batch = randomBatch(c, batch: 2, length: 10, seed: 5, packed: packed)
        try m.zeroGradients()
        let r = try m.step(batch, lossScale: 1 / Float(batch.learnedTargetCount))
        XCTAssertEqual(r.tokens, batch.learnedTargetCount)
        var worst: (Float, String) = (0, "")
        for p in m.parameters {
            let g = try ref.floats(p.grad)
            let values = try ref.floats(p.value)
            let top = g.indices.sorted { abs(g[$0]) > abs(g[$1]) }.prefix(3)
            for i in top {
                let h: Float = 1e-2
                var plus = values, minus = values
                plus[i] += h
                minus[i] -= h
                try m.setParameter(p.name, plus)
                let lp = try loss(m, batch)
                try m.setParameter(p.name, minus)
                let lm = try loss(m, batch)
                try m.setParameter(p.name, values)
                let fd = Float((lp - lm) / Double(2 * h))
                let rel = abs(fd - g[i]) / max(abs(fd), 1e-3)
                if rel > worst.0 { worst = (rel, "\(p.name)[\(i)]: analytic \(g[i]) vs finite differences \(fd)") }
            }
        }
        print("\(mode) packed=\(packed): worst relative gradient error \(worst.0) at \(worst.1)")
        XCTAssertLessThan(worst.0, 2e-2, worst.1)
    }

    func testFullFineTuningGradientsMatchFiniteDifferences() throws {
        try checkGradients(mode: .full, packed: false)
    }

    func testFullFineTuningGradientsPacked() throws {
        try checkGradients(mode: .full, packed: true)
    }

    func testLoRAGradientsMatchFiniteDifferences() throws {
        try checkGradients(mode: .lora, packed: false, lora: LoRAConfig(rank: 3, alpha: 6))
        try checkGradients(mode: .lora, packed: true, lora: LoRAConfig(rank: 2, alpha: 4, targets: [.q, .v, .down], rsLoRA: true))
    }

    /// With B = 0 the adapters change nothing: the training forward's loss equals the inference
    /// model's cross-entropy on the same tokens.
    func testLoRAStartsAsTheBaseModel() throws {
        let c = tinyConfig()
        let ref = CPUReferenceBackend()
        let weights = try tinyWeights(c, on: ref)
        let m = try TrainableLlama(config: c, weights: weights, backend: ref, mode: .lora, lora: LoRAConfig(rank: 4, alpha: 8))
        let batch = randomBatch(c, batch: 1, length: 9, seed: 2)
        let trained = try loss(m, batch)
        let infer = try LlamaModel(config: c, weights: weights, backend: ref)
        let logits = try ref.floats(try infer.forward(batch.inputs, cache: try infer.makeCache()))
        var sum = 0.0, n = 0
        for t in 0..<batch.length where batch.targets[t] != Batch.ignoreIndex {
            let row = logits[(t * c.vocabSize)..<((t + 1) * c.vocabSize)].map(Double.init)
            let mx = row.max()!
            let lse = mx + log(row.reduce(0) { $0 + exp($1 - mx) })
            sum += lse - row[Int(batch.targets[t])]
            n += 1
        }
        XCTAssertEqual(trained, sum / Double(n), accuracy: 1e-5)
    }

    /// The cpu backend's gradients equal cpu-ref's (every mode, with accumulation over two
    /// micro-batches and a quantized QLoRA base).
    func testCPUBackendMatchesReference() throws {
        // Input dimensions of 64 and 128 so that QLoRA can store NF4 blocks (64 values).
        let c = tinyConfig(vocab: 64, hidden: 64, ffn: 128)
        for mode in TrainingMode.allCases {
            var grads: [[Float]] = []
            for be in try cpuBackends() {
                let w = try tinyWeights(c, on: be, seed: 4)
                let m = try TrainableLlama(
                    config: c, weights: w, backend: be, mode: mode, lora: LoRAConfig(rank: 4, alpha: 8), seed: 1)
                try m.zeroGradients()
                let b1 = randomBatch(c, batch: 2, length: 7, seed: 1), b2 = randomBatch(c, batch: 3, length: 5, seed: 2, packed: true)
                let n = Float(b1.learnedTargetCount + b2.learnedTargetCount)
                try m.step(b1, lossScale: 1 / n)
                try m.step(b2, lossScale: 1 / n)
                grads.append(try m.parameters.flatMap { try be.floats($0.grad) })
            }
            let diff = maxRelativeDifference(grads[1], grads[0])
            print("\(mode): cpu vs cpu-ref gradients, max relative difference \(diff)")
            XCTAssertLessThan(diff, 1e-4, "\(mode)")
        }
    }

    /// A batch whose logits exceed one chunk (here 2 x 240 tokens x 40000 vocabulary: two chunks of
    /// 240 rows) gives the loss and gradients of its rows run as two one-chunk micro-batches.
    func testLMHeadChunksMatchSeparateRows() throws {
        let c = tinyConfig(vocab: 40000)
        let be = try CPUBackend()
        var c8 = c
        c8.maxPositions = 256
        let long = randomBatch(c8, batch: 2, length: 240, seed: 9)
        var results: [(Double, [Float])] = []
        for split in [false, true] {
            let m = try TrainableLlama(config: c8, weights: try tinyWeights(c8, on: be), backend: be, mode: .full, seed: 1)
            try m.zeroGradients()
            let n = Float(long.learnedTargetCount)
            var loss = 0.0
            if split {
                for b in 0..<2 {
                    let r = Batch(
                        batchSize: 1, length: long.length, inputs: Array(long.inputRow(b)), targets: Array(long.targetRow(b)),
                        lengths: [long.lengths[b]])
                    loss += try m.step(r, lossScale: 1 / n).lossSum
                }
            } else {
                loss = try m.step(long, lossScale: 1 / n).lossSum
                XCTAssertEqual(m.activations?.chunkRows, 240, "two equal chunks")
            }
            results.append((loss, try m.parameters.flatMap { try be.floats($0.grad) }))
        }
        XCTAssertEqual(results[0].0, results[1].0, accuracy: 1e-4 * abs(results[1].0))
        let diff = maxRelativeDifference(results[0].1, results[1].1)
        print("LM head in 2 chunks vs rows alone: loss \(results[0].0) vs \(results[1].0), gradients max relative difference \(diff)")
        XCTAssertLessThan(diff, 1e-4)
    }

    func testBadBatchesAreRefused() throws {
        let c = tinyConfig()
        let ref = CPUReferenceBackend()
        let m = try TrainableLlama(config: c, weights: try tinyWeights(c, on: ref), backend: ref, mode: .lora)
        var b = randomBatch(c, batch: 1, length: 4, seed: 1)
        b.inputs[1] = Int32(c.vocabSize)
        XCTAssertThrowsError(try m.step(b, lossScale: 1)) { XCTAssertTrue("\($0)".contains("outside the vocabulary"), "\($0)") }
        b = randomBatch(c, batch: 1, length: 40, seed: 1)
        XCTAssertThrowsError(try m.step(b, lossScale: 1)) { XCTAssertTrue("\($0)".contains("exceeds the model's context"), "\($0)") }
        XCTAssertThrowsError(try TrainableLlama(config: c, weights: try tinyWeights(c, on: ref), backend: ref, mode: .lora, lora: LoRAConfig(rank: 0)))
    }
}
