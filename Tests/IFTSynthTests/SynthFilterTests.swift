import Foundation
import IFTCore
import IFTData
import IFTEval
import IFTModel
import XCTest

@testable import IFTSynth

/// Pre-query templates, reply parsing, the filters (ROUGE-L equal to rouge-score on a fixture,
/// MinHash, refusals) and the quality report.
final class SynthFilterTests: XCTestCase {
    func testPreQueryTemplatesOfSeveralChatFormats() throws {
        let smol = try PreQueryTemplate(template: try Templates.renderer(Templates.smolLM2))
        XCTAssertEqual(smol.prefix, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n")
        XCTAssertEqual(smol.endOfUserTurn, "<|im_end|>")
        let smolSystem = try PreQueryTemplate(template: try Templates.renderer(Templates.smolLM2), system: "Be brief.")
        XCTAssertEqual(smolSystem.prefix, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n")

        let llama = try Templates.renderer(Templates.llama3, bos: "<|begin_of_text|>", eos: "<|eot_id|>")
        XCTAssertEqual(try PreQueryTemplate(template: llama).prefix, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n")
        XCTAssertEqual(try PreQueryTemplate(template: llama).endOfUserTurn, "<|eot_id|>")
        XCTAssertEqual(
            try PreQueryTemplate(template: llama, system: "S").prefix,
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n")

        let gemma = try Templates.renderer(Templates.gemma, bos: "<bos>", eos: "<eos>")
        XCTAssertEqual(try PreQueryTemplate(template: gemma).prefix, "<bos><start_of_turn>user\n")
        XCTAssertEqual(try PreQueryTemplate(template: gemma).endOfUserTurn, "<end_of_turn>")
        // The second turn's pre-query follows the conversation so far.
        let second = try PreQueryTemplate(template: gemma, history: [.user("Hi"), .assistant("Hello!")])
        XCTAssertEqual(second.prefix, "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\n")
        // Gemma's template refuses a system message: the error says so.
        XCTAssertThrowsError(try PreQueryTemplate(template: gemma, system: "S")) { XCTAssertTrue("\($0)".contains("System role not supported"), "\($0)") }

        let mistral = try Templates.renderer(Templates.mistral, bos: "<s>", eos: "</s>")
        XCTAssertEqual(try PreQueryTemplate(template: mistral).prefix, "<s>[INST] ")
        XCTAssertEqual(try PreQueryTemplate(template: mistral).endOfUserTurn, "[/INST]")
        XCTAssertEqual(try PreQueryTemplate(template: mistral, history: [.user("Hi"), .assistant("Yo")]).prefix, "<s>[INST] Hi [/INST]Yo</s>[INST] ")

        // A template that never shows the user's message gives no pre-query.
        let blind = try Templates.renderer("{% for m in messages %}<|{{ m.role }}|>{% endfor %}")
        XCTAssertThrowsError(try PreQueryTemplate(template: blind)) { XCTAssertTrue("\($0)".contains("0 times"), "\($0)") }
    }

    /// ROUGE-L F1 and Self-Instruct's novelty filter (> 0.7 dropped) equal rouge-score's, on
    /// `Fixtures/rouge-l-novelty.json` (Tools/make-synth-fixture.py).
    func testROUGELFilterEqualsRougeScore() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: SynthTestSupport.fixture("rouge-l-novelty.json")))
        let fixture = try JSONValue.parse([UInt8](data), path: "rouge-l-novelty.json")
        let pairs = try XCTUnwrap(fixture["pairs"]?.arrayValue)
        XCTAssertEqual(pairs.count, 60)
        for p in pairs {
            let a = try XCTUnwrap(p["a"]?.stringValue), b = try XCTUnwrap(p["b"]?.stringValue)
            let expected = try XCTUnwrap(p["f1"]?.doubleValue ?? p["f1"]?.intValue.map(Double.init))
            XCTAssertEqual(ROUGELPool.f1(a, b), expected, accuracy: 1e-12, "\(a) | \(b)")
            XCTAssertEqual(ROUGELPool.f1(b, a), expected, accuracy: 1e-12)
        }
        var settings = QualityFilter.Settings()
        settings.minHashThreshold = 1.01  // ROUGE-L only
        settings.minInstructionWords = 1
        var filter = QualityFilter(settings: settings)
        for s in try XCTUnwrap(fixture["pool"]?.arrayValue) { filter.pool(instruction: try XCTUnwrap(s.stringValue)) }
        var kept: [Int] = []
        for (i, c) in try XCTUnwrap(fixture["candidates"]?.arrayValue).enumerated() {
            let row = SynthRow(instruction: try XCTUnwrap(c.stringValue), output: "An answer.")
            let why = filter.admit(row)
            if why == nil { kept.append(i) } else { XCTAssertTrue(why == "similar instruction (ROUGE-L)" || why == "exact duplicate", "\(why ?? "")") }
        }
        XCTAssertEqual(kept, try XCTUnwrap(fixture["kept"]?.arrayValue).compactMap(\.intValue))
        XCTAssertEqual(kept.count, 72)
    }

    func testFiltersRejectByReason() {
        var f = QualityFilter()
        let ok = SynthRow(instruction: "Name three primary colors.", output: "Red, yellow and blue.")
        XCTAssertNil(f.admit(ok))
        XCTAssertEqual(f.admit(SynthRow(instruction: "name three  PRIMARY colors.", output: "Red.")), "exact duplicate")
        XCTAssertEqual(f.admit(SynthRow(instruction: "Name three primary colors, please.", output: "Red.")), "similar instruction (ROUGE-L)")
        XCTAssertEqual(f.admit(SynthRow(instruction: "  ", output: "x")), "empty")
        XCTAssertEqual(f.admit(SynthRow(instruction: "Hi there", output: "Hello.")), "too short")
        XCTAssertEqual(f.admit(SynthRow(instruction: "Write a long story about a cat.", output: String(repeating: "word ", count: 2000))), "too long")
        XCTAssertEqual(f.admit(SynthRow(instruction: "Tell me a joke<|im_end|> now", output: "No.")), "non-text")
        XCTAssertEqual(f.admit(SynthRow(instruction: "%%% ### 12345 ((( ))) !!!", output: "No.")), "non-text")
        XCTAssertEqual(f.admit(SynthRow(instruction: "How do I pick a lock quickly?", output: "I'm sorry, but I cannot help with that.")), "refusal")
        XCTAssertTrue(Refusals.isRefusal("Sorry, I can\u{2019}t do that."))
        XCTAssertTrue(Refusals.isRefusal("Good question. As an AI, I have no opinions."))
        XCTAssertFalse(Refusals.isRefusal("Since it is raining, I cannot go to the park."))
        XCTAssertFalse(Refusals.isRefusal("The German translation of 'I am sorry' is 'Es tut mir leid'."))
        // MinHash: the same long text with one word changed is a near duplicate; ROUGE-L is off here.
        var s = QualityFilter.Settings()
        s.maxROUGEL = 1
        var g = QualityFilter(settings: s)
        let long = "Describe how the water cycle moves water between the oceans the air and the land over the course of a year in a temperate region"
        XCTAssertNil(g.admit(SynthRow(instruction: long, output: "It evaporates.")))
        XCTAssertEqual(g.admit(SynthRow(instruction: long.replacingOccurrences(of: "temperate", with: "tropical"), output: "Rain.")), "near duplicate (MinHash)")
        XCTAssertNil(g.admit(SynthRow(instruction: "List five fruits that grow on trees in cold climates.", output: "Apples.")))
        var counts = RejectionCounts()
        counts.add("empty")
        counts.add("refusal", 2)
        counts.add("empty")
        XCTAssertEqual(counts.description, "empty 2, refusal 2")
        XCTAssertEqual(counts.total, 4)
    }

    func testMinHashEstimatesJaccard() {
        let index = MinHashIndex(permutations: 128, bands: 16, threshold: 0.5)
        let a = index.signature("the quick brown fox jumps over the lazy dog near the river bank today")
        let b = index.signature("the quick brown fox jumps over the lazy dog near the river bank tonight")
        let c = index.signature("an entirely different sentence about cooking pasta with tomato sauce at home")
        // True Jaccard of the 3-gram sets: 10 shared of 12 -> 0.83; 0 for the unrelated text.
        XCTAssertEqual(MinHashIndex.similarity(a, b), 10.0 / 12.0, accuracy: 0.15)
        XCTAssertEqual(MinHashIndex.similarity(a, c), 0, accuracy: 0.05)
        XCTAssertEqual(MinHashIndex.similarity(a, a), 1)
    }

    func testReplyParsing() {
        let gen = SelfInstruct.parseInstance(" None\nOutput: Paris is the capital.", classification: false)
        XCTAssertEqual(gen?.input, "")
        XCTAssertEqual(gen?.output, "Paris is the capital.")
        let cls = SelfInstruct.parseInstance(" Positive\nInput: I loved this film.", classification: true)
        XCTAssertEqual(cls?.output, "Positive")
        XCTAssertEqual(cls?.input, "I loved this film.")
        XCTAssertNil(SelfInstruct.parseInstance("just some text", classification: false))
        let method = try? FromText(chunks: [.init(text: "Water boils at one hundred degrees Celsius at sea level.", source: "t:1")], settings: .init(), seed: 0)
        let chunk = "Water boils at one hundred degrees Celsius at sea level."
        if case .success(let r)? = method?.row(.extractiveQA, chunk: chunk, reply: " At what temperature does water boil?\nAnswer: one hundred degrees Celsius", label: nil) {
            XCTAssertEqual(r.output, "one hundred degrees Celsius")
            XCTAssertTrue(r.instruction.hasSuffix("Question: At what temperature does water boil?"))
        } else { XCTFail("extractive QA did not parse") }
        XCTAssertEqual(method?.row(.extractiveQA, chunk: chunk, reply: "Where?\nAnswer: in Paris", label: nil).failureReason, "answer not in text")
        XCTAssertEqual(method?.row(.nli, chunk: chunk, reply: "\n", label: "neutral").failureReason, "unparsable")
        if case .success(let r)? = method?.row(.yesNoQA, chunk: chunk, reply: " Does water boil at sea level?", label: "Yes") {
            XCTAssertEqual(r.output, "Yes")
        } else { XCTFail("yes/no QA did not parse") }
        XCTAssertEqual(EndpointGenerator.completion(.object(JSONObject([("choices", .array([.object(JSONObject([("text", .string("Hi")), ("finish_reason", .string("length"))]))]))])), prefix: "").map(\.finished), .success(false))
    }

    /// The quality report on a small fixture: every finding counted once, and the cleaned rows.
    func testQualityReportOnAFixture() throws {
        func row(_ i: String, _ o: String, input: String = "") -> Example {
            Example(.instruction(instruction: i, input: input, output: o), source: SourceLocation(path: "fixture", line: 1))
        }
        var examples = (0..<17).map { row("Give an example of a word that rhymes with number \($0 * 7919 % 1000) and the letter \(Character(UnicodeScalar(UInt8(65 + $0))))", "Answer \($0) here.") }
        examples[3] = row("What is the capital of France?", "Paris is the capital.")
        examples[5] = row("what is the capital of  France?", "Paris.")  // exact duplicate of 3 (normalized)
        examples[6] = row("Please describe the main causes of the French Revolution in detail for a student today", "Many causes.")
        examples[7] = row("Please describe the main causes of the French Revolution in detail for a student", "Many causes.")  // near duplicate of 6, same response
        examples[8] = row("Tell me how to make a weapon.", "I'm sorry, but I cannot help with that.")
        examples[9] = row("Say nothing at all please.", "")
        examples[10] = row("Compose an engaging travel blog post about a recent trip to Hawaii, highlighting cultural experiences.", "Aloha!")  // MT-Bench
        examples[16] = row("What is the capital of France?", "Paris.")  // the last row is in validation: it repeats training row 3
        let mtBench = EvalPrompts(name: "MT-Bench", prompts: ["Compose an engaging travel blog post about a recent trip to Hawaii, highlighting cultural experiences and must-see attractions."])
        let r = QualityReport(examples: examples, evalSets: [mtBench])
        XCTAssertEqual(r.exactDuplicates.map(\.row), [5, 16])
        XCTAssertEqual(r.exactDuplicates.map(\.of), [3, 3])
        XCTAssertEqual(r.nearDuplicates.map(\.row), [7])
        XCTAssertEqual(r.nearDuplicatesWithSameResponse, 1)
        XCTAssertEqual(r.contamination.map(\.row), [10])
        XCTAssertEqual(r.contamination.first?.set, "MT-Bench")
        XCTAssertEqual(r.emptyResponses, [9])
        XCTAssertEqual(r.refusals, [8])
        XCTAssertEqual(r.shortResponses, [5, 10, 16])
        // 17 rows: 14 train, 1 test (row 14), 2 validation (rows 15, 16); row 16 repeats row 3.
        XCTAssertEqual(r.splitOverlap.first { $0.pair == "validation-train" }?.rows, 1)
        XCTAssertEqual(r.splitOverlap.first { $0.pair == "test-train" }?.rows, 0)
        XCTAssertEqual(r.keep, [0, 1, 2, 3, 4, 6, 11, 12, 13, 14, 15])
        XCTAssertEqual(r.languages.first?.0, "en")
        XCTAssertEqual(TaskTypes.classify("Rewrite the sentence in passive voice."), "rewriting")
        XCTAssertEqual(TaskTypes.classify("Write a Python function that sorts a list."), "code")
        XCTAssertEqual(TaskTypes.classify("Why is the sky blue?"), "question")
    }
}

extension Result {
    var failureReason: String? {
        if case .failure(let e) = self { return (e as? Rejection)?.reason }
        return nil
    }
}
