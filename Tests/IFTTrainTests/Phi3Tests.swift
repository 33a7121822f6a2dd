import Foundation
import IFTCPU
import IFTCore
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// Phi-3: fused `qkv_proj` (Q, K, V rows) and `gate_up_proj` (gate, up rows) — one weight, one
/// full-fine-tuning parameter and one LoRA adapter each, as PEFT puts them — and RoPE `longrope`
/// (short factors and attention factor sqrt(1 + ln 4 / ln 16) within the original context of 16;
/// longer contexts refused). GGUF as llama.cpp's Phi3MiniModel writes it (`attn_qkv`, `ffn_up`
/// holding gate and up, `rope_factors_short/long.weight`, no Q/K permutation).
final class Phi3Tests: FamilyParityTestCase {
    let f = FamilyFixture("phi3")

    func testConfig() throws {
        let hf = try f.files(gguf: false).config, gguf = try f.files(gguf: true).config
        for c in [hf, gguf] {
            XCTAssertEqual(c.family, .phi3)
            XCTAssertFalse(c.qkvBias || c.outputBias || c.qkNorm)
            XCTAssertEqual(c.slidingWindow, 48)
            XCTAssertEqual(c.ropeScaling?.type, "longrope")
            XCTAssertEqual(c.longRopeContext, 16)
            XCTAssertEqual(try c.contextPositions(requested: nil), 16, "the original context bounds the default context")
            XCTAssertTrue(c.differences.contains("fused qkv_proj and gate_up_proj"), "\(c.differences)")
            guard case .longrope(let factors, let attention)? = try c.ropeTableScaling() else { return XCTFail("\(c.ropeScaling as Any)") }
            for (x, y) in zip(factors, [1.0085, 1.2111, 1.5717, 1.0539]) { XCTAssertEqual(x, y, accuracy: 1e-6) }
            XCTAssertEqual(factors.count, 4)
            XCTAssertEqual(attention, (1 + log(4.0) / log(16.0)).squareRoot(), accuracy: 1e-6, "transformers' default attention factor")
        }
        XCTAssertEqual(hf.ropeScaling?.longFactor?.count, 4)
        XCTAssertEqual(ModelFamily.phi3.projections, [.qkv, .o, .gateUp, .down])
    }

    func testLogitsMatchTransformers() throws { try checkLogits(f) }

    func testFirstStepGradientsMatchPyTorch() throws { try checkGradients(f) }

    func testEveryModeAgreesAcrossCPUBackends() throws { try checkModesAgree(familyConfig(.phi3)) }

    /// One parameter and one adapter per fused module, with PEFT's shapes; a target the family
    /// does not have is refused naming the fused module.
    func testFusedModulesAreSingleParametersAndAdapters() throws {
        let be = CPUReferenceBackend()
        let full = try f.trainable(.full, backend: be)
        XCTAssertEqual(full.parameter(named: "model.layers.0.self_attn.qkv_proj.weight")?.value.shape, [32, 16])
        XCTAssertEqual(full.parameter(named: "model.layers.1.mlp.gate_up_proj.weight")?.value.shape, [64, 16])
        XCTAssertNil(full.parameter(named: "model.layers.0.self_attn.q_proj.weight"))
        let lora = try f.trainable(.lora, backend: be)
        XCTAssertEqual(lora.lora?.targets, [.qkv, .o, .gateUp, .down])
        XCTAssertEqual(lora.parameter(named: "model.layers.0.self_attn.qkv_proj.lora_A.weight")?.value.shape, [4, 16])
        XCTAssertEqual(lora.parameter(named: "model.layers.0.self_attn.qkv_proj.lora_B.weight")?.value.shape, [32, 4])
        XCTAssertEqual(lora.parameter(named: "model.layers.0.mlp.gate_up_proj.lora_B.weight")?.value.shape, [64, 4])
        XCTAssertThrowsError(
            try TrainableLlama(files: try f.files(gguf: false), backend: be, mode: .lora, lora: LoRAConfig(rank: 4, targets: [.q, .v]))
        ) { e in XCTAssertTrue("\(e)".contains("qkv_proj"), "\(e)") }
        XCTAssertThrowsError(
            try TrainableLlama(
                files: try FamilyFixture("qwen2").files(gguf: false), backend: be, mode: .lora, lora: LoRAConfig(rank: 4, targets: [.qkv]))
        ) { e in XCTAssertTrue("\(e)".contains("not a module of a qwen2 model"), "\(e)") }
        XCTAssertEqual(try Projection.parseList("qkv,o,gate_up,down"), [.qkv, .o, .gateUp, .down])
    }

    /// QLoRA keeps the fused base as one NF4 weight per module (random weights of `familyConfig`: NF4
    /// needs widths of 64; the gradients against cpu are `testEveryModeAgreesAcrossCPUBackends`).
    func testQLoRAStoresTheFusedBaseAsNF4() throws {
        let c = familyConfig(.phi3), be = CPUReferenceBackend()
        let q = try TrainableLlama(config: c, weights: try tinyFamilyWeights(c, on: be), backend: be, mode: .qlora, lora: LoRAConfig(rank: 4, alpha: 8))
        XCTAssertEqual(q.layers[0].weights[.qkv]?.dtype, .nf4)
        XCTAssertEqual(q.layers[0].weights[.gateUp]?.shape, [256, 64])
        let b = randomBatch(c, batch: 2, length: 9, seed: 1)
        try q.zeroGradients()
        let loss = try q.step(b, lossScale: 1 / Float(b.learnedTargetCount)).lossSum
        XCTAssertTrue(loss.isFinite && loss > 0)
        let g = try be.floats(try XCTUnwrap(q.parameter(named: "model.layers.0.self_attn.qkv_proj.lora_A.weight")).grad)
        XCTAssertTrue(g.allSatisfy(\.isFinite))
    }

    /// A Q4_0 GGUF (widths of 64): the fused `attn_qkv` / `ffn_up` blocks are read as their parts'
    /// rows and stacked again for QLoRA byte for byte; the model reads back with the same config.
    func testQuantizedFusedTensorsSplitAndStackExactly() throws {
        var c = familyConfig(.phi3)
        c.vocabSize = try f.files(gguf: false).config.vocabSize  // the fixture's tokenizer
        let be = CPUReferenceBackend()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-phi3-q4-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try ModelExport.writeGGUF(
            weights: try tinyFamilyWeights(c, on: be), config: c, source: try f.files(gguf: false), backend: be, type: .q4_0,
            promptStyle: nil, name: nil, to: dir + "/q4.gguf")
        let files = try ModelFiles(path: dir + "/q4.gguf")
        XCTAssertEqual(files.config.family, .phi3)
        XCTAssertEqual(files.config.ropeScaling?.shortFactor, c.ropeScaling?.shortFactor)
        let gguf = try XCTUnwrap(files.gguf)
        XCTAssertEqual(try gguf.tensorInfo("blk.1.attn_qkv.weight").type, .q4_0)
        XCTAssertEqual(try gguf.tensorInfo("blk.1.ffn_up.weight").shape, [256, 64])
        let weights = try files.loadWeights(on: be)
        XCTAssertEqual(weights.layers[1].key.dtype, .q4_0)
        XCTAssertEqual(weights.layers[1].key.shape, [32, 64])
        let q = try TrainableLlama(files: files, backend: be, mode: .qlora, lora: LoRAConfig(rank: 4))
        for (module, name) in [(Projection.qkv, "attn_qkv"), (.gateUp, "ffn_up")] {
            let stacked = try XCTUnwrap(q.layers[1].weights[module])
            XCTAssertEqual(stacked.dtype, .q4_0, name)
            XCTAssertEqual(try be.bytes(stacked), Array(try gguf.tensorBytes("blk.1.\(name).weight")), name)
        }
        let b = randomBatch(c, batch: 2, length: 9, seed: 1)
        try q.zeroGradients()
        XCTAssertTrue(try q.step(b, lossScale: 1 / Float(b.learnedTargetCount)).lossSum.isFinite)
    }

    /// A context past the original one would switch transformers to the long factors: refused.
    func testContextPastTheOriginalIsRefused() throws {
        let files = try f.files(gguf: false)
        XCTAssertThrowsError(try files.loadModel(on: CPUReferenceBackend(), maxPositions: 32)) { e in
            XCTAssertTrue("\(e)".contains("longrope") && "\(e)".contains("16"), "\(e)")
        }
        XCTAssertThrowsError(try TrainableLlama(files: files, backend: CPUReferenceBackend(), mode: .lora, maxPositions: 17)) { e in
            XCTAssertTrue("\(e)".contains("long factors"), "\(e)")
        }
        XCTAssertEqual(try files.loadModel(on: CPUReferenceBackend()).maxPositions, 16)
    }

    /// A checkpoint of a model whose usable context (here longrope's original 16) is shorter than
    /// what `eval` asks for (1024, 2048) loads at the usable context instead of being refused.
    func testCheckpointLoadsAtTheUsableContext() throws {
        let be = CPUReferenceBackend()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-phi3-ckpt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lora = LoRAConfig(rank: 2, targets: [.qkv, .down])
        let trained = try TrainableLlama(files: try f.files(gguf: false), backend: be, mode: .lora, lora: lora, maxPositions: 16)
        let run = JSONObject([
            ("model", .string(f.dir)), ("mode", .string("lora")), ("lora_rank", .int(2)), ("lora_alpha", .double(Double(lora.alpha))),
            ("lora_targets", .string("qkv,down")),
        ])
        try Checkpoint.save(model: trained, optimizer: try AdamW(backend: be), state: TrainerState(), run: run, to: dir)
        let loaded = try CheckpointModel(checkpoint: dir, backend: be, maxPositions: 2048)
        XCTAssertEqual(loaded.model.maxPositions, 16)
    }

    /// Keys that change Phi-3's math and are not implemented are errors naming them.
    func testUnsupportedKeysAreRefused() throws {
        let text = try configText(f)
        for (from, to, key) in [
            ("\"resid_pdrop\": 0.0", "\"resid_pdrop\": 0.1", "resid_pdrop"),
            ("\"embd_pdrop\": 0.0", "\"embd_pdrop\": 0.1", "embd_pdrop"),
            ("\"partial_rotary_factor\": 1.0", "\"partial_rotary_factor\": 0.5", "partial_rotary_factor"),
            ("\"type\": \"longrope\"", "\"type\": \"longrope\", \"mscale\": 2.0", "mscale"),
        ] {
            let changed = text.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(changed, text, from)
            XCTAssertThrowsError(try LlamaConfig(huggingFace: JSONValue.parse(changed), path: "config.json")) { e in
                XCTAssertTrue("\(e)".contains(key), "\(e)")
            }
        }
        // Short factors that do not cover half the head: refused by name.
        let short = text.replacingOccurrences(of: "\"short_factor\": [", with: "\"short_factor\": [1.0, ")
        XCTAssertThrowsError(try LlamaConfig(huggingFace: JSONValue.parse(short), path: "config.json")) { e in
            XCTAssertTrue("\(e)".contains("short_factor"), "\(e)")
        }
    }
}
