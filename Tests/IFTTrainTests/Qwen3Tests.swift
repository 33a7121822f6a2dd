import IFTCPU
import IFTCore
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// Qwen3: per-head RMSNorm of queries and keys before RoPE (trained in full fine-tuning), a head
/// width that is not hidden / heads (16 x 2 heads over a hidden size of 16); transformers 5's
/// `rope_parameters` layout.
final class Qwen3Tests: FamilyParityTestCase {
    let f = FamilyFixture("qwen3")

    func testConfig() throws {
        for c in [try f.files(gguf: false).config, try f.files(gguf: true).config] {
            XCTAssertEqual(c.family, .qwen3)
            XCTAssertTrue(c.qkNorm)
            XCTAssertFalse(c.qkvBias)
            XCTAssertEqual(c.headDim, 16)
            XCTAssertEqual(c.hiddenSize, 16)
            XCTAssertEqual(c.ropeTheta, 1_000_000, "rope_theta from rope_parameters")
            XCTAssertNil(c.ropeScaling)
            XCTAssertTrue(c.differences.contains("per-head Q/K RMSNorm"))
        }
    }

    func testLogitsMatchTransformers() throws { try checkLogits(f) }

    func testFirstStepGradientsMatchPyTorch() throws { try checkGradients(f) }

    func testEveryModeAgreesAcrossCPUBackends() throws { try checkModesAgree(familyConfig(.qwen3)) }

    func testNormsAreTrainedOnlyInFullFineTuning() throws {
        let full = try f.trainable(.full, backend: CPUReferenceBackend())
        XCTAssertNotNil(full.parameter(named: "model.layers.1.self_attn.k_norm.weight"))
        let lora = try f.trainable(.lora, backend: CPUReferenceBackend())
        XCTAssertNil(lora.parameter(named: "model.layers.1.self_attn.k_norm.weight"))
    }

    /// Qwen3 weights under a Qwen2 config: the Q/K norm tensors are not accounted for.
    func testConfigContradictingTensorsNamesTheTensor() throws {
        let text = try configText(f).replacingOccurrences(of: "Qwen3ForCausalLM", with: "Qwen2ForCausalLM")
            .replacingOccurrences(of: "\"qwen3\"", with: "\"qwen2\"")
        // (a Qwen2 config expects biases first)
        assertNamesTensor(try ModelFiles(path: try directory(from: f, config: text)).loadWeights(on: CPUReferenceBackend()),
                          "model.layers.0.self_attn.q_proj.bias")
        // Without Qwen3's q_norm: a Llama config of the same sizes.
        let llama = try configText(f).replacingOccurrences(of: "Qwen3ForCausalLM", with: "LlamaForCausalLM")
            .replacingOccurrences(of: "\"qwen3\"", with: "\"llama\"")
        assertNamesTensor(try ModelFiles(path: try directory(from: f, config: llama)).loadWeights(on: CPUReferenceBackend()),
                          "self_attn.")
    }
}
