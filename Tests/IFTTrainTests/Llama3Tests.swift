import IFTCPU
import IFTCore
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// Llama 3.x: RoPE scaling `llama3` (from transformers 5's `rope_parameters` in config.json, and
/// from llama.cpp's `rope_freqs.weight` tensor in GGUF), tied embeddings.
final class Llama3Tests: FamilyParityTestCase {
    let f = FamilyFixture("llama3")

    func testConfigBothLayoutsAndGGUF() throws {
        let hf = try f.files(gguf: false).config
        XCTAssertEqual(hf.family, .llama)
        XCTAssertEqual(hf.ropeTheta, 500_000)
        XCTAssertEqual(hf.ropeScaling, .init(type: "llama3", factor: 4, parameters: [
            "factor": 4, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 16]))
        XCTAssertTrue(hf.differences.contains { $0.hasPrefix("rope scaling llama3 factor 4") }, "\(hf.differences)")
        // The same model written in the classic layout (rope_theta + rope_scaling).
        let classic = try configText(f).replacingOccurrences(of: "\"rope_parameters\"", with: "\"rope_theta\": 500000.0, \"rope_scaling\"")
        let c2 = try LlamaConfig(huggingFace: JSONValue.parse(classic), path: "config.json")
        XCTAssertEqual(c2, hf)
        // GGUF: llama.cpp stores the scaling as per-frequency factors; the tables agree to float32
        // rounding of those factors.
        let gg = try f.files(gguf: true).config
        XCTAssertNil(gg.ropeScaling)
        XCTAssertEqual(gg.ropeFrequencyFactors?.count, hf.headDim / 2)
        let a = try hf.ropeTable(positions: 64), b = try gg.ropeTable(positions: 64)
        XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-5)
        XCTAssertNotEqual(a, RopeTable.make(theta: 500_000, headDim: hf.headDim, maxPositions: 64), "the scaling changes the table")
    }

    func testLogitsMatchTransformers() throws { try checkLogits(f) }

    func testFirstStepGradientsMatchPyTorch() throws { try checkGradients(f) }

    func testEveryModeAgreesAcrossCPUBackends() throws { try checkModesAgree(familyConfig(.llama)) }

    /// The bug of the issue: transformers 5's layout used to load as theta 10000, unscaled.
    func testRopeParametersAreNotIgnored() throws {
        let c = try f.files(gguf: false).config
        XCTAssertNotEqual(try c.ropeTable(positions: 16), RopeTable.make(theta: 10_000, headDim: c.headDim, maxPositions: 16))
    }
}
