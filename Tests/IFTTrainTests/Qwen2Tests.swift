import IFTCPU
import IFTCore
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// Qwen2 / Qwen2.5: biases on Q, K and V (frozen under LoRA, trained in full fine-tuning); the
/// fixture also carries YaRN RoPE scaling in the classic config layout and an untied head.
final class Qwen2Tests: FamilyParityTestCase {
    let f = FamilyFixture("qwen2")

    func testConfig() throws {
        let hf = try f.files(gguf: false).config, gg = try f.files(gguf: true).config
        for c in [hf, gg] {
            XCTAssertEqual(c.family, .qwen2)
            XCTAssertTrue(c.qkvBias)
            XCTAssertFalse(c.outputBias)
            XCTAssertFalse(c.qkNorm)
            XCTAssertFalse(c.tieWordEmbeddings)
            XCTAssertNil(c.slidingWindow, "use_sliding_window is false")
            XCTAssertEqual(c.ropeTheta, 1_000_000)
        }
        // YaRN from the classic rope_scaling and from GGUF's rope.scaling.* give the same table.
        XCTAssertEqual(hf.ropeScaling?.type, "yarn")
        XCTAssertEqual(try hf.ropeTable(positions: 64), try gg.ropeTable(positions: 64))
        XCTAssertTrue(hf.differences.contains("Q/K/V biases"), "\(hf.differences)")
    }

    func testLogitsMatchTransformers() throws { try checkLogits(f) }

    func testFirstStepGradientsMatchPyTorch() throws { try checkGradients(f) }

    func testEveryModeAgreesAcrossCPUBackends() throws { try checkModesAgree(familyConfig(.qwen2)) }

    /// Biases stay frozen under LoRA (PEFT's bias="none") and are trained in full fine-tuning.
    func testBiasesAreFrozenUnderLoRA() throws {
        let lora = try f.trainable(.lora, backend: CPUReferenceBackend())
        XCTAssertFalse(lora.parameters.contains { $0.name.hasSuffix(".bias") })
        let full = try f.trainable(.full, backend: CPUReferenceBackend())
        XCTAssertEqual(full.parameters.filter { $0.name.hasSuffix(".bias") }.count, 3 * 2)
        XCTAssertFalse(full.parameters.first { $0.name.hasSuffix("q_proj.bias") }!.decays)
    }

    /// A config that contradicts the tensors names the tensor: Qwen2 weights under a Llama config
    /// (biases the config does not declare), Llama weights under a Qwen2 config (biases missing).
    func testConfigContradictingTensorsNamesTheTensor() throws {
        let asLlama = try configText(f).replacingOccurrences(of: "Qwen2ForCausalLM", with: "LlamaForCausalLM")
            .replacingOccurrences(of: "\"qwen2\"", with: "\"llama\"")
        let dir1 = try directory(from: f, config: asLlama)
        assertNamesTensor(try ModelFiles(path: dir1).loadWeights(on: CPUReferenceBackend()), "_proj.bias")
        let dir2 = try directory(from: f, config: try configText(f), weightsFrom: FamilyFixture("mistral"))
        assertNamesTensor(try ModelFiles(path: dir2).loadWeights(on: CPUReferenceBackend()), "model.layers.0.self_attn.q_proj.bias")
    }
}
