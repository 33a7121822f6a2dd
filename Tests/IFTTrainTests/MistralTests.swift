import IFTCPU
import IFTCore
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// Mistral: Llama's block; its sliding window is accepted when it covers the context used (the
/// fixture's 4096 over a context of 64), refused by name otherwise. GGUF as llama.cpp writes it
/// (architecture `llama`, Q/K rows permuted).
final class MistralTests: FamilyParityTestCase {
    let f = FamilyFixture("mistral")

    func testConfig() throws {
        let c = try f.files(gguf: false).config
        XCTAssertEqual(c.family, .mistral)
        XCTAssertEqual(c.slidingWindow, 4096)
        XCTAssertFalse(c.qkvBias || c.qkNorm)
        XCTAssertEqual(try f.files(gguf: true).config.family, .llama, "llama.cpp writes Mistral as llama")
    }

    func testLogitsMatchTransformers() throws { try checkLogits(f) }

    func testFirstStepGradientsMatchPyTorch() throws { try checkGradients(f) }

    func testEveryModeAgreesAcrossCPUBackends() throws { try checkModesAgree(familyConfig(.mistral)) }

    func testSlidingWindowShorterThanTheContext() throws {
        let text = try configText(f).replacingOccurrences(of: "\"sliding_window\": 4096", with: "\"sliding_window\": 8")
        let files = try ModelFiles(path: try directory(from: f, config: text))
        XCTAssertEqual(files.config.slidingWindow, 8)
        // Asked for more context than the window: refused, naming the window.
        XCTAssertThrowsError(try files.loadModel(on: CPUReferenceBackend(), maxPositions: 64)) { e in
            XCTAssertTrue("\(e)".contains("sliding window of 8"), "\(e)")
        }
        XCTAssertThrowsError(try TrainableLlama(files: files, backend: CPUReferenceBackend(), mode: .lora, maxPositions: 12)) { e in
            XCTAssertTrue("\(e)".contains("sliding window"), "\(e)")
        }
        // Nothing asked for: the window is the context; within it the model is exact.
        XCTAssertEqual(try files.loadModel(on: CPUReferenceBackend()).maxPositions, 8)
        let m = try files.loadModel(on: CPUReferenceBackend(), maxPositions: 8)
        XCTAssertEqual(m.maxPositions, 8)
        // null: no window.
        let none = try configText(f).replacingOccurrences(of: "\"sliding_window\": 4096", with: "\"sliding_window\": null")
        XCTAssertNil(try LlamaConfig(huggingFace: JSONValue.parse(none), path: "c.json").slidingWindow)
    }
}
