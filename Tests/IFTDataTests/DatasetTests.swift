import IFTCore
import IFTData
import IFTModel
import XCTest

final class DatasetTests: XCTestCase {
    typealias S = DataTestSupport

    func testAlpacaJSONArrayWithLinesAndOptionalInput() throws {
        let d = try Dataset.load(S.fixture("alpaca.json"))
        XCTAssertEqual(d.format, .alpaca)
        XCTAssertEqual(d.examples.map(\.source.line), [2, 7, 8])
        XCTAssertEqual(d.examples[0].source.description, S.fixture("alpaca.json") + ":2")
        XCTAssertEqual(
            d.examples[1].content,
            .instruction(instruction: "Edit the following sentence for grammar.", input: "He go to the park every day.", output: "He goes to the park every day."))
        XCTAssertEqual(d.examples[2].content, .instruction(instruction: "Name a color.", input: "", output: "Blue."))
        XCTAssertEqual(d.skippedCount, 0)
    }

    func testAlpacaJSONLSkipsBlankLines() throws {
        let d = try Dataset.load(S.fixture("alpaca.jsonl"))
        XCTAssertEqual(d.format, .alpaca)
        XCTAssertEqual(d.examples.map(\.source.line), [1, 3])
        XCTAssertEqual(d.examples[0].content, .instruction(instruction: "Add the numbers.", input: "2 + 3", output: "5"))
    }

    func testDollyMapsContextAndResponse() throws {
        let d = try Dataset.load(S.fixture("dolly.jsonl"))
        XCTAssertEqual(d.format, .dolly)
        XCTAssertEqual(
            d.examples[0].content,
            .instruction(
                instruction: "When did Virgin Australia start operating?",
                input: "Virgin Australia commenced services on 31 August 2000.", output: "On 31 August 2000."))
        XCTAssertEqual(d.examples[1].content, .instruction(instruction: "Which is a species of fish?", input: "", output: "Tope"))
    }

    func testChatMessagesMultiTurn() throws {
        let d = try Dataset.load(S.fixture("chat.jsonl"))
        XCTAssertEqual(d.format, .chat)
        XCTAssertEqual(
            d.examples[0].content,
            .chat([.system("Be brief."), .user("Hi"), .assistant("Hello."), .user("2+2?"), .assistant("4")]))
        XCTAssertEqual(d.examples[1].source.line, 2)
    }

    func testPromptCompletion() throws {
        let d = try Dataset.load(S.fixture("completion.jsonl"))
        XCTAssertEqual(d.format, .completion)
        XCTAssertEqual(d.examples.map(\.content), [.completion(prompt: "The sky is", completion: " blue."), .completion(prompt: "1, 2, 3,", completion: " 4")])
    }

    func testPlainTextPerBlockAndPerFile() throws {
        let blocks = try Dataset.load(S.fixture("docs.txt"))
        XCTAssertEqual(blocks.format, .text)
        XCTAssertEqual(blocks.examples.map(\.content), [.text("First document,\ntwo lines."), .text("Second document."), .text("Third.")])
        XCTAssertEqual(blocks.examples.map(\.source.line), [1, 5, 7])
        let whole = try Dataset.load(S.fixture("docs.txt"), options: LoadOptions(textSplit: .file))
        XCTAssertEqual(whole.examples.map(\.content), [.text("First document,\ntwo lines.\n\n\nSecond document.\n\nThird.")])
    }

    func testFieldMappingAndExplicitFormat() throws {
        let text = #"{"question": "Q?", "answer": "A."}"# + "\n"
        let d = try Dataset.load(
            bytes: Array(text.utf8), path: "qa.jsonl",
            options: LoadOptions(fields: FieldMapping(instruction: "question", output: "answer")))
        XCTAssertEqual(d.examples[0].content, .instruction(instruction: "Q?", input: "", output: "A."))
        XCTAssertThrowsError(try Dataset.load(bytes: Array(text.utf8), path: "qa.jsonl")) { e in
            XCTAssertTrue("\(e)".hasPrefix("qa.jsonl:line 1: cannot tell the dataset format"), "\(e)")
        }
        let forced = try Dataset.load(bytes: Array(#"{"instruction": "I", "output": "O", "messages": 1}"#.utf8), path: "x.jsonl", options: LoadOptions(format: .alpaca))
        XCTAssertEqual(forced.format, .alpaca)
    }

    func testBadRowsStopTheLoadWithFileAndLine() throws {
        let path = S.fixture("bad.jsonl")
        XCTAssertThrowsError(try Dataset.load(path)) { e in
            guard case IFTError.file(let p, let loc, let msg) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(p, path)
            XCTAssertTrue(loc.hasPrefix("line 2"), loc)
            XCTAssertTrue(msg.hasPrefix("invalid JSON"), msg)
        }
    }

    func testSkipInvalidCountsEveryBadRow() throws {
        let path = S.fixture("bad.jsonl")
        let d = try Dataset.load(path, options: LoadOptions(skipInvalid: true))
        XCTAssertEqual(d.examples.map(\.source.line), [1, 6])
        XCTAssertEqual(d.skippedCount, 4)
        let messages = d.skipped.map(\.description)
        XCTAssertTrue(messages[0].hasPrefix(path + ":line 2"), messages[0])
        XCTAssertEqual(messages[1], path + ":line 3: missing field \"output\"")
        XCTAssertEqual(messages[2], path + ":line 4: field \"instruction\" must be a string, got a number")
        XCTAssertEqual(messages[3], path + ":line 5: empty response: field \"output\" is empty")
    }

    func testBadChatRows() throws {
        let path = S.fixture("bad-chat.jsonl")
        let d = try Dataset.load(path, options: LoadOptions(skipInvalid: true))
        XCTAssertEqual(d.examples.count, 1)
        XCTAssertEqual(
            d.skipped.map(\.description),
            [
                path + ":line 2: messages[1]: unknown role \"bot\" (expected system, user or assistant)",
                path + ":line 3: field \"messages\" has no assistant message to learn",
                path + ":line 4: field \"messages\" must be an array, got a string",
                path + ":line 5: messages[1]: empty response (assistant content is empty)",
            ])
        XCTAssertThrowsError(try Dataset.load(path)) { e in
            XCTAssertTrue("\(e)".hasPrefix(path + ":line 2: "), "\(e)")
        }
    }

    func testInvalidJSONArrayReportsLineAndColumn() throws {
        let path = S.fixture("bad-array.json")
        XCTAssertThrowsError(try Dataset.load(path, options: LoadOptions(skipInvalid: true))) { e in
            guard case IFTError.file(_, let loc, _) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(loc.hasPrefix("line 3"), loc)
        }
        XCTAssertThrowsError(try Dataset.load(bytes: Array("[1, 2]".utf8), path: "n.json")) { e in
            XCTAssertEqual("\(e)", "n.json:line 1: expected a JSON object, got a number")
        }
        XCTAssertThrowsError(try Dataset.load(bytes: [], path: "e.jsonl")) { e in
            XCTAssertEqual("\(e)", "e.jsonl:line 1: the file is empty")
        }
    }

    func testChapter7FileLoads() throws {
        guard let path = S.ch07Data else { throw XCTSkip("instruction-data.json not found") }
        let d = try Dataset.load(path)
        XCTAssertEqual(d.format, .alpaca)
        XCTAssertEqual(d.examples.count, 1100)
        XCTAssertEqual(d.examples[0].source.line, 2)
        XCTAssertEqual(d.examples[1].source.line, 7)
    }

    func testCRLFTextAndByteOrderMark() throws {
        let text = Dataset.self
        let crlf = try text.load(bytes: Array("One\r\nline two\r\n\r\nTwo\r\n".utf8), path: "w.txt")
        XCTAssertEqual(crlf.examples.map(\.content), [.text("One\nline two"), .text("Two")])
        XCTAssertEqual(crlf.examples.map(\.source.line), [1, 4])
        let bom = try text.load(bytes: [0xEF, 0xBB, 0xBF] + Array(#"{"prompt": "a", "completion": "b"}"#.utf8), path: "b.jsonl")
        XCTAssertEqual(bom.examples.map(\.content), [.completion(prompt: "a", completion: "b")])
    }

    func testDetectionLooksPastARowWithMissingKeys() throws {
        let text = #"{"instruction": "No output yet."}"# + "\n" + #"{"instruction": "I", "context": "", "response": "R"}"# + "\n"
        XCTAssertThrowsError(try Dataset.load(bytes: Array(text.utf8), path: "d.jsonl")) { e in
            XCTAssertEqual("\(e)", "d.jsonl:line 1: missing field \"response\"")
        }
        let d = try Dataset.load(bytes: Array(text.utf8), path: "d.jsonl", options: LoadOptions(skipInvalid: true))
        XCTAssertEqual(d.format, .dolly)
        XCTAssertEqual(d.examples.map(\.source.line), [2])
    }

    func testSeveralFilesLoadInOrder() throws {
        let d = try Dataset.load(paths: [S.fixture("alpaca.jsonl"), S.fixture("chat.jsonl"), S.fixture("bad.jsonl")], options: LoadOptions(skipInvalid: true))
        XCTAssertEqual(d.examples.count, 2 + 2 + 2)
        XCTAssertEqual(d.skippedCount, 4)
        XCTAssertEqual(d.format, .auto)
        XCTAssertEqual(d.examples[2].source, SourceLocation(path: S.fixture("chat.jsonl"), line: 1))
        XCTAssertEqual(try Dataset.load(paths: [S.fixture("alpaca.jsonl"), S.fixture("alpaca.json")]).format, .alpaca)
    }
}
