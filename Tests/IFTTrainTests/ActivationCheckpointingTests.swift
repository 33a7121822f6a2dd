import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// Activation checkpointing (`TrainableLlama.checkpointActivations`): the same losses, gradients
/// and updates bit for bit as keeping every activation, in every family and mode, packed and with
/// LoRA dropout, on cpu-ref and cpu (Vulkan: IFTVulkanTests' `CheckpointingVulkanTests`); and
/// far fewer activation bytes.
final class ActivationCheckpointingTests: XCTestCase {
    /// Two optimizer steps as raw bits: the losses and every trained parameter's gradient of each
    /// step, and the parameters after them.
    struct Trace {
        var losses: [UInt64] = []
        var tensors: [(name: String, bits: [UInt32])] = []
    }

    /// `steps[i]` holds the micro-batches of optimizer step i (accumulated; LoRA dropout seeded by
    /// step and micro-batch); AdamW updates between steps.
    func trace(_ m: TrainableLlama, _ steps: [[Batch]]) throws -> Trace {
        let optimizer = try AdamW(backend: m.backend)
        var t = Trace()
        for (s, micro) in steps.enumerated() {
            try m.zeroGradients()
            let n = Float(micro.reduce(0) { $0 + $1.learnedTargetCount })
            var loss = 0.0
            for (i, b) in micro.enumerated() {
                loss += try m.step(b, lossScale: 1 / n, dropoutSeed: UInt64(10 * s + i)).lossSum
            }
            t.losses.append(loss.bitPattern)
            for p in m.parameters { t.tensors.append(("step \(s) gradient of \(p.name)", try m.backend.floats(p.grad).map(\.bitPattern))) }
            try optimizer.step(m.parameters, lr: 1e-2)
        }
        for p in m.parameters { t.tensors.append(("\(p.name) after the steps", try m.backend.floats(p.value).map(\.bitPattern))) }
        return t
    }

    /// Runs `make()`'s model with and without checkpointing and asserts identical traces.
    func assertBitIdentical(
        _ what: String, steps: [[Batch]], file: StaticString = #filePath, line: UInt = #line, _ make: () throws -> TrainableLlama
    ) throws {
        let plain = try make(), checkpointed = try make()
        checkpointed.checkpointActivations = true
        let a = try trace(plain, steps), b = try trace(checkpointed, steps)
        XCTAssertEqual(a.losses, b.losses, "\(what): losses", file: file, line: line)
        XCTAssertEqual(a.tensors.map { $0.name }, b.tensors.map { $0.name }, file: file, line: line)
        let differing = zip(a.tensors, b.tensors).filter { $0.bits != $1.bits }.map { $0.0.name }
        XCTAssertTrue(
            differing.isEmpty, "\(what): \(differing.count) tensors differ, e.g. \(differing.prefix(3).joined(separator: ", "))", file: file,
            line: line)
        XCTAssertLessThan(checkpointed.activationBytes, plain.activationBytes, what, file: file, line: line)
        print("\(what): \(a.tensors.count) tensors and \(a.losses.count) losses bit-identical; activations \(checkpointed.activationBytes) bytes checkpointed vs \(plain.activationBytes)")
    }

    /// Every family's structure (3 layers at widths of 64), every mode (LoRA with dropout and random
    /// B, QLoRA on an NF4 base), a packed micro-batch accumulated with a plain one, on cpu-ref and cpu.
    func testEveryFamilyAndModeIsBitIdentical() throws {
        for be in try cpuBackends() {
            for family in ModelFamily.allCases {
                var c = familyConfig(family)
                c.layerCount = 3
                let steps = [
                    [randomBatch(c, batch: 2, length: 9, seed: 1), randomBatch(c, batch: 2, length: 8, seed: 2, packed: true)],
                    [randomBatch(c, batch: 3, length: 7, seed: 3, packed: true)],
                ]
                for mode in TrainingMode.allCases {
                    try assertBitIdentical("\(family) \(mode) on \(be.name)", steps: steps) {
                        let m = try TrainableLlama(
                            config: c, weights: try tinyFamilyWeights(c, on: be), backend: be, mode: mode,
                            lora: LoRAConfig(rank: 4, alpha: 8, dropout: 0.1), seed: 2)
                        var rng = SeededGenerator(seed: 8)
                        for p in m.parameters where p.name.contains("lora_B") {
                            try m.setParameter(p.name, (0..<p.value.count).map { _ in 0.1 * rng.normal() })
                        }
                        return m
                    }
                }
            }
        }
    }

    /// The Qwen2 (Q/K/V biases, untied head), Qwen3 (per-head Q/K norms) and Phi-3 (fused
    /// qkv_proj / gate_up_proj) fixtures of `Tools/make-family-fixtures.py`, full and LoRA, on their
    /// own micro-batches.
    func testFamilyFixturesAreBitIdentical() throws {
        let ref = CPUReferenceBackend()
        for name in ["qwen2", "qwen3", "phi3"] {
            let f = FamilyFixture(name)
            let bs = try f.batches()
            for mode in [TrainingMode.full, .lora] {
                try assertBitIdentical("\(name) fixture \(mode)", steps: [bs, [bs[0]]]) { try f.trainable(mode, backend: ref) }
            }
        }
    }

    /// The trainer's option sets the model's, and a run of accumulated LoRA steps with dropout
    /// follows the same losses and ends at the same parameters bit for bit.
    func testTrainerOptionGivesTheSameRun() throws {
        var c = tinyConfig()
        c.layerCount = 3
        let ref = CPUReferenceBackend()
        let batches = [
            randomBatch(c, batch: 2, length: 10, seed: 4), randomBatch(c, batch: 2, length: 10, seed: 5, packed: true),
            randomBatch(c, batch: 1, length: 7, seed: 6),
        ]
        var runs: [(losses: [UInt64], values: [[UInt32]], bytes: Int)] = []
        for checkpointing in [false, true] {
            let m = try TrainableLlama(
                config: c, weights: try tinyWeights(c, on: ref), backend: ref, mode: .lora, lora: LoRAConfig(rank: 4, alpha: 8, dropout: 0.1),
                seed: 7)
            var o = TrainingOptions()
            o.maxSteps = 3
            o.gradientAccumulation = 2
            o.learningRate = 1e-2
            o.progress = false
            o.checkpointActivations = checkpointing
            let t = try Trainer(model: m, options: o) { _ in batches }
            XCTAssertEqual(m.checkpointActivations, checkpointing)
            try t.train()
            runs.append((t.history.map(\.loss.bitPattern), try m.parameters.map { try ref.floats($0.value).map(\.bitPattern) }, m.activationBytes))
        }
        XCTAssertEqual(runs[0].losses.count, 3)
        XCTAssertEqual(runs[0].losses, runs[1].losses)
        XCTAssertTrue(runs[0].values == runs[1].values, "the parameters after 3 steps differ")
        XCTAssertLessThan(runs[1].bytes, runs[0].bytes)
    }

    /// The bytes `Activations` allocates: checkpointing keeps one layer's worth of everything but
    /// the layer inputs, so its bytes grow far more slowly with depth; the model reports the bytes
    /// of the buffers its last step used, and frees them when the setting changes.
    func testCheckpointingShrinksTheActivations() throws {
        let ref = CPUReferenceBackend()
        var bytes: [Int: (plain: Int, checkpointed: Int)] = [:]
        for layers in [2, 8] {
            var c = familyConfig(.qwen3)
            c.layerCount = layers
            let m = try TrainableLlama(config: c, weights: try tinyFamilyWeights(c, on: ref), backend: ref, mode: .lora)
            let plain = try Activations(model: m, capacity: 64).byteCount
            let checkpointed = try Activations(model: m, capacity: 64, checkpointing: true).byteCount
            bytes[layers] = (plain, checkpointed)
            print("\(layers) layers, 64 tokens: activations \(plain) bytes, checkpointed \(checkpointed)")
            XCTAssertLessThan(checkpointed, plain)

            XCTAssertEqual(m.activationBytes, 0)
            let batch = randomBatch(c, batch: 4, length: 16, seed: 1)
            m.checkpointActivations = true
            try m.step(batch, lossScale: 1)
            XCTAssertEqual(m.activationBytes, checkpointed)
            m.checkpointActivations = false
            XCTAssertEqual(m.activationBytes, 0, "changing the setting frees the activations")
            try m.step(batch, lossScale: 1)
            XCTAssertEqual(m.activationBytes, plain)
        }
        let perLayerPlain = (bytes[8]!.plain - bytes[2]!.plain) / 6
        let perLayerCheckpointed = (bytes[8]!.checkpointed - bytes[2]!.checkpointed) / 6
        XCTAssertGreaterThan(perLayerCheckpointed, 0, "each layer's input is kept")
        XCTAssertLessThan(perLayerCheckpointed * 5, perLayerPlain)
    }
}
