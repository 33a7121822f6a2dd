import Foundation
import IFTCore
import IFTData
import IFTModel
import XCTest

final class PromptStyleTests: XCTestCase {
    typealias S = DataTestSupport
    let instruction = ExampleContent.instruction(instruction: "Add.", input: "2 + 3", output: "5")
    let chat = ExampleContent.chat([.system("Be brief."), .user("Hi"), .assistant("Hello."), .user("2+2?"), .assistant("4")])

    func testAlpacaIsTheChapter7Template() throws {
        let segs = try PromptStyle.alpaca.render(instruction)
        XCTAssertEqual(segs, [.prompt(AlpacaPrompt.prompt(instruction: "Add.", input: "2 + 3")), .response("5")])
        XCTAssertEqual(try PromptStyle.alpaca.prompt(for: instruction), AlpacaPrompt.prompt(instruction: "Add.", input: "2 + 3"))
        let noInput = try PromptStyle.alpaca.render(.instruction(instruction: "Say hi.", input: "", output: "Hi"))
        XCTAssertFalse(noInput[0].text.contains("### Input:"))
    }

    func testAlpacaRendersEveryChatTurn() throws {
        let segs = try PromptStyle.alpaca.render(chat)
        XCTAssertEqual(
            segs,
            [
                .prompt("Be brief.\n\n### Instruction:\nHi\n\n### Response:\n"), .response("Hello."),
                .prompt("\n\n### Instruction:\n2+2?\n\n### Response:\n"), .response("4"),
            ])
    }

    func testPhi3() throws {
        let segs = try PromptStyle.phi3.render(instruction)
        XCTAssertEqual(segs, [.prompt("<|user|>\nAdd.\n2 + 3<|end|>\n<|assistant|>\n"), .response("5<|end|>\n")])
        let noInput = try PromptStyle.phi3.render(.instruction(instruction: "Say hi.", input: "", output: "Hi"))
        XCTAssertEqual(noInput.map(\.text).joined(), "<|user|>\nSay hi.<|end|>\n<|assistant|>\nHi<|end|>\n")
        XCTAssertEqual(try PromptStyle.phi3.prompt(for: instruction), "<|user|>\nAdd.\n2 + 3<|end|>\n<|assistant|>\n")
        let multi = try PromptStyle.phi3.render(chat)
        XCTAssertEqual(
            multi,
            [
                .prompt("<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n"), .response("Hello.<|end|>\n"),
                .prompt("<|user|>\n2+2?<|end|>\n<|assistant|>\n"), .response("4<|end|>\n"),
            ])
    }

    func testChatMLEveryAssistantTurnIsAResponse() throws {
        let segs = try PromptStyle.chatml.render(chat)
        XCTAssertEqual(
            segs,
            [
                .prompt("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"),
                .response("Hello.<|im_end|>\n"),
                .prompt("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"),
                .response("4<|im_end|>\n"),
            ])
        XCTAssertEqual(
            try PromptStyle.chatml.render(instruction).map(\.text).joined(),
            "<|im_start|>user\nAdd.\n2 + 3<|im_end|>\n<|im_start|>assistant\n5<|im_end|>\n")
    }

    static let smolLike =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        + "{{ '<|im_start|>system\\nDefault.<|im_end|>\\n' }}{% endif %}"
        + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

    func testModelTemplateSplitsTurnsLikeChatML() throws {
        let tok = try S.tokenizer(chatTemplate: Self.smolLike)
        let style = try PromptStyle.model(of: tok)
        XCTAssertEqual(style.name, "model")
        XCTAssertEqual(try style.render(chat), try PromptStyle.chatml.render(chat))
        // Without a system message the template adds its default one to the first prompt.
        let plain = ExampleContent.chat([.user("Hi"), .assistant("Hello.")])
        XCTAssertEqual(
            try style.render(plain),
            [.prompt("<|im_start|>system\nDefault.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), .response("Hello.<|im_end|>\n")])
        // Instruction rows become one user turn.
        XCTAssertEqual(try style.render(instruction).last, .response("5<|im_end|>\n"))
    }

    func testModelTemplateMustRenderIncrementally() throws {
        let t = try ChatTemplate(source: "{% for m in messages %}{% if loop.last %}{{ m.content }}{% endif %}{% endfor %}")
        let style = PromptStyle.model(t, bosToken: "", eosToken: "")
        XCTAssertThrowsError(try style.render(chat)) { e in
            XCTAssertTrue("\(e)".contains("does not render conversations incrementally"), "\(e)")
        }
        XCTAssertThrowsError(try PromptStyle.model(of: S.tokenizer())) { e in
            XCTAssertTrue("\(e)".contains("no chat template"), "\(e)")
        }
    }

    func testCompletionAndTextAreRawInEveryStyle() throws {
        for style in [PromptStyle.alpaca, .phi3, .chatml] {
            XCTAssertEqual(try style.render(.completion(prompt: "The sky is", completion: " blue.")), [.prompt("The sky is"), .response(" blue.")])
            XCTAssertEqual(try style.render(.text("Doc.")), [.response("Doc.")])
        }
    }

    func testSegmentsTokenizeSeparatelyWithSpecialTokens() throws {
        let tok = try S.tokenizer()
        let et = try ExampleTokenizer(tokenizer: tok, style: .chatml)
        XCTAssertEqual(et.endOfTextID, S.eot)
        let t = try et.tokenize(Example(.chat([.user("Hi"), .assistant("Yo")]), source: SourceLocation(path: "c.jsonl", line: 3)))
        let start = S.id("<|im_start|>"), end = S.id("<|im_end|>"), nl: Int32 = 10
        let prompt = [start] + S.bytes("user\nHi") + [end, nl, start] + S.bytes("assistant\n")
        let response = S.bytes("Yo") + [end, nl]
        XCTAssertEqual(t.tokens, prompt + response + [S.eot])
        XCTAssertEqual(t.isResponse, [Bool](repeating: false, count: prompt.count) + [Bool](repeating: true, count: response.count + 1))
        XCTAssertEqual(t.source, SourceLocation(path: "c.jsonl", line: 3))
    }

    /// SmolLM2's real BPE tokenizer and chat template (from the GGUF that `Tools/test.sh`
    /// downloads; skipped without it): segment tokens concatenate to the rendered text and the
    /// learned targets decode to exactly the responses with their turn ends.
    func testSmolLM2TemplateMasksOnTokenBoundaries() throws {
        let env = ProcessInfo.processInfo.environment["IFT_SMOLLM2_GGUF"] ?? ""
        let path = env.isEmpty ? S.fixtures + "/../../../.build/models/SmolLM2-135M-Instruct.Q4_1.gguf" : env
        guard FileManager.default.fileExists(atPath: path) else {
            if ProcessInfo.processInfo.environment["IFT_REQUIRE_MODEL"] == "1" { return XCTFail("IFT_REQUIRE_MODEL=1 but \(path) is missing") }
            throw XCTSkip("\(path) is missing")
        }
        let tok = try Tokenizer(gguf: GGUFFile(path: path))
        let style = try PromptStyle.model(of: tok)
        let et = try ExampleTokenizer(tokenizer: tok, style: style)
        XCTAssertEqual(tok.token(forID: et.endOfTextID), "<|endoftext|>")
        let chat = ExampleContent.chat([.user("What is 2+2?"), .assistant("It's 4."), .user("And 3+3?"), .assistant("Six, obviously.")])
        let t = try et.tokenize(Example(chat, source: SourceLocation(path: "c", line: 1)))
        let segments = try style.render(chat)
        XCTAssertTrue(segments[0].text.hasPrefix("<|im_start|>system\n"), segments[0].text)
        XCTAssertEqual(tok.decode(Array(t.tokens.dropLast())), segments.map(\.text).joined())
        let b = Collate.batch([t], options: CollateOptions(padID: et.endOfTextID, maskInstructions: true))
        let learned = b.targets.filter { $0 != Batch.ignoreIndex }
        XCTAssertEqual(tok.decode(learned), "It's 4.<|im_end|>\nSix, obviously.<|im_end|>\n<|endoftext|>")
    }
}
