import IFTCPU
import IFTCore
import IFTModel
import IFTTestSupport
import XCTest

/// Sampling and generation on a tiny random model (cpu-ref), with a byte-level tokenizer.
final class GenerationTests: XCTestCase {
    func testGreedyAndFilteredSamplingPickTheArgmax() {
        let logits: [Float] = [0.1, 2.5, -1, 2.4, 0]
        var greedy = Sampler(SamplingOptions())
        XCTAssertEqual(greedy.sample(logits), 1)
        var topK = Sampler(SamplingOptions(temperature: 1, topK: 1, seed: 3))
        var topP = Sampler(SamplingOptions(temperature: 1, topP: 0.01, seed: 3))
        for _ in 0..<20 {
            XCTAssertEqual(topK.sample(logits), 1)
            XCTAssertEqual(topP.sample(logits), 1)
        }
    }

    func testTemperatureSamplingFollowsTheDistributionAndTheSeed() {
        // p(1) = 3/4 at temperature 1.
        let logits: [Float] = [0, logf3()]
        var s = Sampler(SamplingOptions(temperature: 1, seed: 42))
        let draws = (0..<4000).map { _ in s.sample(logits) }
        let ones = Double(draws.filter { $0 == 1 }.count) / 4000
        XCTAssertEqual(ones, 0.75, accuracy: 0.03)
        var again = Sampler(SamplingOptions(temperature: 1, seed: 42))
        XCTAssertEqual((0..<4000).map { _ in again.sample(logits) }, draws, "same seed, same draws")
        var other = Sampler(SamplingOptions(temperature: 1, seed: 43))
        XCTAssertNotEqual((0..<4000).map { _ in other.sample(logits) }, draws)
        // Top-k 1 of 3 equal logits never picks the others; top-p keeps the smallest sufficient set.
        var k2 = Sampler(SamplingOptions(temperature: 1, topK: 2, seed: 1))
        XCTAssertTrue((0..<200).allSatisfy { _ in k2.sample([5, 4, -9, 3]) != 2 })
    }

    private func logf3() -> Float { Float(1.0986122886681098) }  // ln 3

    func tinyGenerator() throws -> Generator { try TinyModel.generator() }

    func testGreedyDecodingWithTheCacheEqualsFullRecomputation() throws {
        let gen = try tinyGenerator()
        let prompt = gen.tokenizer.encode("abc")
        var streamed = ""
        let result = try gen.generate(prompt: prompt, maxTokens: 12) { streamed += $0 }
        XCTAssertEqual(result.tokens.count, 12)
        XCTAssertEqual(result.stopReason, "length")
        XCTAssertEqual(streamed, result.text)
        // Each generated token is the argmax of a fresh forward pass over everything before it.
        var seq = prompt
        for token in result.tokens {
            let model = gen.model
            let logits = try model.backend.floats(try model.forward(seq, cache: try model.makeCache(), logitRows: 1))
            XCTAssertEqual(Int32(logits.indices.max { logits[$0] < logits[$1] } ?? -1), token)
            seq.append(token)
        }
    }

    func testStopStringsCutTheTextAndSeedsReproduce() throws {
        let gen = try tinyGenerator()
        let prompt = gen.tokenizer.encode("hello")
        let sampling = SamplingOptions(temperature: 0.9, topP: 0.95, seed: 5)
        let a = try gen.generate(prompt: prompt, maxTokens: 16, sampling: sampling)
        let b = try gen.generate(prompt: prompt, maxTokens: 16, sampling: sampling)
        XCTAssertEqual(a.tokens, b.tokens, "same seed, same text")
        // Stop at a piece of the text generated without stops: the result is what came before it.
        let chars = Array(a.text)
        guard chars.count >= 6 else { return XCTFail("too little text generated: \(a.text.debugDescription)") }
        let stop = String(chars[3..<5])
        var streamed = ""
        let c = try gen.generate(prompt: prompt, maxTokens: 16, sampling: sampling, stop: [stop]) { streamed += $0 }
        XCTAssertEqual(c.stopReason, "stop string")
        XCTAssertEqual(c.text, String(a.text[..<a.text.firstRange(of: stop)!.lowerBound]))
        XCTAssertEqual(streamed, c.text, "nothing past the stop string is streamed")
    }
}
