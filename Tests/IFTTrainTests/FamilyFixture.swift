import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// One tiny random model of `Fixtures/families/<name>` (made by `Tools/make-family-fixtures.py`
/// with transformers 5.24, torch 2.13, peft 0.21): the Hugging Face directory and llama.cpp-style
/// GGUF of the same weights, transformers' logits of micro-batch 0, and PyTorch + PEFT's first-step
/// gradients (full and LoRA r=4, alpha=8 on all seven projections) over both micro-batches.
struct FamilyFixture {
    static let root = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        + "/Fixtures/families"

    let name: String
    var dir: String { Self.root + "/" + name }

    init(_ name: String) { self.name = name }

    /// The model files: the Hugging Face directory, or `model.gguf`.
    func files(gguf: Bool) throws -> ModelFiles { try ModelFiles(path: gguf ? dir + "/model.gguf" : dir) }

    func batches() throws -> [Batch] {
        let json = try JSONValue.parse(contentsOf: dir + "/batches.json")
        return (json["micro_batches"]?.arrayValue ?? []).map { mb in
            let inputs = (mb["input_ids"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.intValue).map(Int32.init) }
            let targets = (mb["targets"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.intValue).map(Int32.init) }
            return Batch(
                batchSize: inputs.count, length: inputs[0].count, inputs: inputs.flatMap { $0 }, targets: targets.flatMap { $0 },
                lengths: targets.map { row in row.filter { $0 != Batch.ignoreIndex }.count })
        }
    }

    /// transformers' logits of micro-batch 0, `[rows * length * vocab]`.
    func expectedLogits() throws -> [Float] {
        try SafetensorsFile(path: dir + "/reference/logits.safetensors").floats("logits")
    }

    /// The largest |ours - transformers'| over every logit of micro-batch 0, each row run alone
    /// from an empty cache (the fixture has no padding mask: causal attention makes a row's padded
    /// tail irrelevant to its earlier positions, and transformers scores the padding tokens too).
    func logitsError(_ model: LlamaModel) throws -> Float {
        let b = try batches()[0], expected = try expectedLogits()
        let v = model.config.vocabSize
        var worst: Float = 0
        for r in 0..<b.batchSize {
            let tokens = Array(b.inputs[r * b.length..<(r + 1) * b.length])
            let ours = try model.backend.floats(try model.forward(tokens, cache: try model.makeCache()))
            let theirs = Array(expected[r * b.length * v..<(r + 1) * b.length * v])
            XCTAssertEqual(ours.count, theirs.count)
            for (x, y) in zip(ours, theirs) { worst = max(worst, abs(x - y)) }
        }
        return worst
    }

    /// The largest logit error of the KV-cache paths: each row's first `prefill` tokens through
    /// `forward`, then the rest one token at a time through `decodeStep` for both rows together
    /// (each at its own position in its own cache).
    func decodeError(_ model: LlamaModel, prefill: Int = 5) throws -> Float {
        let b = try batches()[0], expected = try expectedLogits()
        let v = model.config.vocabSize, t = b.length
        func row(_ r: Int) -> [Int32] { Array(b.inputs[r * t..<(r + 1) * t]) }
        var worst: Float = 0
        func compare(_ ours: [Float], row r: Int, position p: Int) {
            let theirs = expected[(r * t + p) * v..<(r * t + p + 1) * v]
            for (x, y) in zip(ours, theirs) { worst = max(worst, abs(x - y)) }
        }
        let caches = try (0..<b.batchSize).map { _ in try model.makeCache() }
        for r in 0..<b.batchSize {
            // Row r prefills r + prefill tokens, so the rows decode at different positions.
            let n = prefill + r
            let logits = try model.backend.floats(try model.forward(Array(row(r)[0..<n]), cache: caches[r]))
            for p in 0..<n { compare(Array(logits[p * v..<(p + 1) * v]), row: r, position: p) }
        }
        while true {
            let live = (0..<b.batchSize).filter { caches[$0].length < t }
            guard !live.isEmpty else { break }
            let tokens = live.map { row($0)[caches[$0].length] }
            let positions = live.map { caches[$0].length }
            let logits = try model.backend.floats(try model.decodeStep(tokens, caches: live.map { caches[$0] }))
            for (i, r) in live.enumerated() { compare(Array(logits[i * v..<(i + 1) * v]), row: r, position: positions[i]) }
        }
        return worst
    }

    /// A trainable model of the fixture in `mode` (LoRA adapters as PEFT initialised them).
    func trainable(_ mode: TrainingMode, gguf: Bool = false, backend: any Backend) throws -> TrainableLlama {
        let m = try TrainableLlama(
            files: try files(gguf: gguf), backend: backend, mode: mode,
            lora: mode == .full ? nil : LoRAConfig(rank: 4, alpha: 8, dropout: 0, targets: Projection.allCases))
        if mode != .full {
            let a = try SafetensorsFile(path: dir + "/lora/adapter_init.safetensors")
            for p in m.parameters { try m.setParameter(p.name, try a.floats(p.name, expectedShape: p.value.shape)) }
        }
        return m
    }

    /// Runs the first accumulated step and returns (our loss, PyTorch's, the worst relative
    /// gradient difference and its parameter); checks the trainable parameter names are PyTorch's.
    func firstStep(_ m: TrainableLlama, full: Bool) throws -> (loss: Double, expected: Double, worst: Float, at: String) {
        let bs = try batches()
        let n = Float(bs.reduce(0) { $0 + $1.learnedTargetCount })
        try m.zeroGradients()
        var loss = 0.0
        for b in bs { loss += try m.step(b, lossScale: 1 / n).lossSum }
        loss /= Double(n)
        let trace = try JSONValue.parse(contentsOf: dir + "/trace.json")
        let expected = trace[full ? "loss_full" : "loss_lora"]?.doubleValue ?? .nan
        let grads = try SafetensorsFile(path: dir + (full ? "/full" : "/lora") + "/step0_grads.safetensors")
        XCTAssertEqual(Set(grads.tensors.map(\.name)), Set(m.parameters.map(\.name)), "\(name): the same trainable parameters")
        var worst: (Float, String) = (0, "")
        for p in m.parameters {
            let rel = maxRelativeDifference(try m.backend.floats(p.grad), try grads.floats(p.name, expectedShape: p.value.shape))
            if rel > worst.0 { worst = (rel, p.name) }
        }
        return (loss, expected, worst.0, worst.1)
    }
}

/// The parity checks every family test runs, on cpu-ref and cpu (Vulkan: IFTVulkanTests'
/// `FamiliesVulkanTests`).
class FamilyParityTestCase: XCTestCase {
    /// Logits of the Hugging Face directory and of the GGUF within 1e-4 of transformers, through
    /// `forward` and through the KV-cache decoding path.
    func checkLogits(_ f: FamilyFixture, file: StaticString = #filePath, line: UInt = #line) throws {
        for be in try cpuBackends() {
            for gguf in [false, true] {
                let model = try f.files(gguf: gguf).loadModel(on: be)
                let e = try f.logitsError(model), d = try f.decodeError(model)
                print("\(f.name) \(gguf ? "GGUF" : "safetensors") on \(be.name): logits max |diff| \(e), KV-cache decoding \(d)")
                XCTAssertLessThan(e, 1e-4, "\(f.name) \(gguf ? "gguf" : "hf") \(be.name)", file: file, line: line)
                XCTAssertLessThan(d, 1e-4, "\(f.name) \(gguf ? "gguf" : "hf") \(be.name) decode", file: file, line: line)
            }
        }
    }

    /// First-step gradients (full and LoRA) within 1e-5 relative of PyTorch + PEFT, from the
    /// Hugging Face directory and from the GGUF (un-permuted back to Hugging Face's order).
    func checkGradients(_ f: FamilyFixture, file: StaticString = #filePath, line: UInt = #line) throws {
        for be in try cpuBackends() {
            for gguf in [false, true] {
                for mode in [TrainingMode.full, .lora] {
                    let r = try f.firstStep(try f.trainable(mode, gguf: gguf, backend: be), full: mode == .full)
                    print("\(f.name) \(mode) \(gguf ? "GGUF" : "safetensors") on \(be.name): loss \(r.loss) vs PyTorch \(r.expected); worst gradient relative difference \(r.worst) (\(r.at))")
                    XCTAssertEqual(r.loss, r.expected, accuracy: 1e-5 * abs(r.expected), "\(f.name) \(mode) loss", file: file, line: line)
                    XCTAssertLessThan(r.worst, 1e-5, "\(f.name) \(mode) \(be.name) gradient of \(r.at)", file: file, line: line)
                }
            }
        }
    }
}

extension FamilyParityTestCase {
    /// A copy of the fixture directory `f` in a fresh temporary directory with `config.json`
    /// replaced by `config` (text), for the contradiction tests.
    func directory(from f: FamilyFixture, config: String, weightsFrom other: FamilyFixture? = nil) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-family-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: f.dir + "/" + name, toPath: dir + "/" + name)
        }
        try FileManager.default.copyItem(atPath: (other ?? f).dir + "/model.safetensors", toPath: dir + "/model.safetensors")
        try Data(config.utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        return dir
    }

    func configText(_ f: FamilyFixture) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: f.dir + "/config.json")), as: UTF8.self)
    }

    /// Expects `body` to throw an `IFTError.file` whose location names `tensor`.
    func assertNamesTensor<T>(_ body: @autoclosure () throws -> T, _ tensor: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected an error naming \(tensor)", file: file, line: line)
        } catch IFTError.file(_, let location, let message) {
            XCTAssertTrue(location.contains(tensor), "'\(location): \(message)' does not name \(tensor)", file: file, line: line)
        } catch {
            XCTFail("expected IFTError.file naming \(tensor), got \(error)", file: file, line: line)
        }
    }

    /// Every training mode (full, LoRA, QLoRA with an NF4 base, LoRA dropout) gives the same
    /// gradients on the cpu backend as on cpu-ref for random weights of `config`'s structure
    /// (widths of 64 so that QLoRA can store NF4 blocks).
    func checkModesAgree(_ config: LlamaConfig, file: StaticString = #filePath, line: UInt = #line) throws {
        for mode in TrainingMode.allCases {
            var grads: [[Float]] = []
            var losses: [Double] = []
            for be in try cpuBackends() {
                let w = try tinyFamilyWeights(config, on: be)
                let m = try TrainableLlama(config: config, weights: w, backend: be, mode: mode, lora: LoRAConfig(rank: 4, alpha: 8, dropout: 0.1), seed: 2)
                var rng = SeededGenerator(seed: 8)
                for p in m.parameters where p.name.contains("lora_B") {
                    try m.setParameter(p.name, (0..<p.value.count).map { _ in 0.1 * rng.normal() })
                }
                try m.zeroGradients()
                let b1 = randomBatch(config, batch: 2, length: 9, seed: 1), b2 = randomBatch(config, batch: 2, length: 8, seed: 2, packed: true)
                let n = Float(b1.learnedTargetCount + b2.learnedTargetCount)
                let loss = try m.step(b1, lossScale: 1 / n, dropoutSeed: 3).lossSum + m.step(b2, lossScale: 1 / n, dropoutSeed: 4).lossSum
                losses.append(loss)
                grads.append(try m.parameters.flatMap { try be.floats($0.grad) })
            }
            let rel = maxRelativeDifference(grads[1], grads[0])
            print("\(config.family) \(mode): cpu vs cpu-ref gradients max relative difference \(rel)")
            XCTAssertLessThan(rel, 1e-4, "\(config.family) \(mode)", file: file, line: line)
            XCTAssertEqual(losses[1], losses[0], accuracy: 1e-5 * abs(losses[0]), file: file, line: line)
        }
    }
}

/// A family's structure at widths QLoRA can quantize (64), for `checkModesAgree`.
func familyConfig(_ family: ModelFamily) -> LlamaConfig {
    let shortFactor: [Double] = [1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75], longFactor: [Double] = [2, 3, 4, 5, 6, 7, 8, 9]
    let longrope = LlamaConfig.RopeScaling(
        type: "longrope", factor: nil, parameters: ["original_max_position_embeddings": 16], shortFactor: shortFactor, longFactor: longFactor)
    return LlamaConfig(
        vocabSize: 50, hiddenSize: 64, intermediateSize: 128, layerCount: 2, headCount: 4, kvHeadCount: 2,
        headDim: family == .qwen3 ? 32 : 16, maxPositions: 32, tieWordEmbeddings: family != .qwen2,
        ropeScaling: family == .llama
            ? .init(type: "llama3", factor: 4, parameters: ["factor": 4, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8])
            : family == .phi3 ? longrope : nil,
        family: family, qkvBias: family == .qwen2, qkNorm: family == .qwen3)
}

/// Random weights with random (not unit) norm weights and biases.
func tinyFamilyWeights(_ c: LlamaConfig, on backend: any Backend, seed: UInt64 = 5) throws -> LlamaWeights {
    var rng = SeededGenerator(seed: seed)
    return try LlamaWeights.assemble(c, hasLMHead: !c.tieWordEmbeddings) { name, shape, _ in
        let n = shape.reduce(1, *)
        let values = (0..<n).map { _ in
            name.huggingFace.hasSuffix("norm.weight") ? 1 + 0.2 * rng.normal() : (shape.count == 1 ? 0.3 : 0.2) * rng.normal()
        }
        return try backend.tensor(values, shape: shape)
    }
}
