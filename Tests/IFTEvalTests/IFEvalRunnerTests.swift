import IFTCore
import IFTModel
import XCTest

@testable import IFTEval

/// Loading the prompts, scoring a responses file, aggregation and the official output rows.
final class IFEvalRunnerTests: XCTestCase {
    func write(_ text: String, _ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "ift-ifeval-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testAllPromptsLoadWithKnownInstructionsAndKwargs() throws {
        let path = try EvalTestSupport.sharedData("ifeval/input_data.jsonl")
        let prompts = try IFEval.loadPrompts(path: path)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(prompts.count, lines.count)
        XCTAssertGreaterThanOrEqual(prompts.count, 540)
        XCTAssertEqual(Set(prompts.map(\.key)).count, prompts.count)
        let ids = prompts.flatMap(\.instructionIDs)
        XCTAssertEqual(ids.count, 832)
        // Every id in the data is one of the 25 known, and all 25 occur.
        XCTAssertEqual(Set(ids), Set(IFEvalInstruction.knownIDs))
        XCTAssertEqual(IFEvalInstruction.knownIDs.count, 25)
        // Spot checks of kwargs turned into checkers.
        let first = try XCTUnwrap(prompts.first { $0.key == 1000 })
        XCTAssertEqual(first.instructions.map(\.checker), [
            .noComma, .numberHighlightedSections(count: 3), .numberWords(relation: .atLeast, count: 300),
        ])
    }

    func testBadPromptRowsNameTheLine() throws {
        let good = #"{"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}"#
        let bad = #"{"key": 2, "prompt": "q", "instruction_id_list": ["keywords:frequency"], "kwargs": [{"keyword": "x", "relation": "at least"}]}"#
        XCTAssertThrowsError(try IFEval.loadPrompts(path: try write(good + "\n" + bad + "\n", "bad-prompts.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("bad-prompts.jsonl:2: instruction 1: keywords:frequency: kwarg 'frequency' is required"), "\(e)")
        }
        let mismatch = #"{"key": 3, "prompt": "r", "instruction_id_list": ["punctuation:no_comma"], "kwargs": []}"#
        XCTAssertThrowsError(try IFEval.loadPrompts(path: try write(mismatch + "\n", "mismatch.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("mismatch.jsonl:1: expected a list field 'kwargs' with one object per instruction (1)"), "\(e)")
        }
    }

    func prompts() throws -> [IFEvalPrompt] {
        try [
            IFEvalPrompt(key: 1, prompt: "Say hi without commas.", instructions: [IFEvalInstruction(id: "punctuation:no_comma", kwargs: JSONObject())]),
            IFEvalPrompt(key: 2, prompt: "Quote it, in capitals.", instructions: [
                IFEvalInstruction(id: "startend:quotation", kwargs: JSONObject()),
                IFEvalInstruction(id: "change_case:english_capital", kwargs: JSONObject()),
            ]),
            IFEvalPrompt(key: 3, prompt: "Unanswered.", instructions: [IFEvalInstruction(id: "punctuation:no_comma", kwargs: JSONObject())]),
        ]
    }

    func testAggregationArithmetic() throws {
        let p = try prompts()
        // Strict: prompt 1 follows (1/1); prompt 2 follows quotation only (1/2); prompt 3 (empty) 0/1.
        let strict = [
            IFEval.score(p[0], response: "hi there", mode: .strict),
            IFEval.score(p[1], response: "**\"WE WILL GO TO THE PARK WITH THE KIDS.\"**", mode: .strict),
            IFEval.score(p[2], response: "", mode: .strict),
        ]
        XCTAssertEqual(strict.map(\.followed), [[true], [false, true], [false]])
        let s = IFEvalScores(strict)
        XCTAssertEqual(s.prompts, .init(count: 3, followed: 1))
        XCTAssertEqual(s.instructions, .init(count: 4, followed: 2))
        XCTAssertEqual(s.prompts.accuracy, 1.0 / 3.0)
        XCTAssertEqual(s.instructions.accuracy, 0.5)
        XCTAssertEqual(s.byInstruction["punctuation:no_comma"], .init(count: 2, followed: 1))
        XCTAssertEqual(s.byInstruction["startend:quotation"], .init(count: 1, followed: 0))
        XCTAssertEqual(s.byInstruction["change_case:english_capital"], .init(count: 1, followed: 1))
        XCTAssertEqual(s.byCategory["punctuation"], .init(count: 2, followed: 1))
        XCTAssertEqual(s.byCategory["change_case"], .init(count: 1, followed: 1))
        XCTAssertEqual(IFEvalScores([]).prompts.accuracy, 0)

        // Loose: the quotation passes once `*` is removed.
        let loose = [
            IFEval.score(p[0], response: "hi there", mode: .loose),
            IFEval.score(p[1], response: "**\"WE WILL GO TO THE PARK WITH THE KIDS.\"**", mode: .loose),
            IFEval.score(p[2], response: "", mode: .loose),
        ]
        let report = IFEvalReport(strict: strict, loose: loose)
        XCTAssertEqual(report.looseScores.prompts, .init(count: 3, followed: 2))
        XCTAssertEqual(report.looseScores.instructions, .init(count: 4, followed: 3))
        XCTAssertEqual(report.instructionTable(), [
            IFEvalTableRow(instructionID: "change_case:english_capital", count: 1, strictAccuracy: 1, looseAccuracy: 1),
            IFEvalTableRow(instructionID: "punctuation:no_comma", count: 2, strictAccuracy: 0.5, looseAccuracy: 0.5),
            IFEvalTableRow(instructionID: "startend:quotation", count: 1, strictAccuracy: 0, looseAccuracy: 1),
        ])
        let summary = report.summary()
        XCTAssertTrue(summary.contains("prompt-level            0.3333  0.6667"), summary)
        XCTAssertTrue(summary.contains("instruction-level       0.5000  0.7500"), summary)
        XCTAssertTrue(summary.contains("startend:quotation                                   1  0.0000  1.0000"), summary)
    }

    func testScoringAResponsesFile() throws {
        let p = try prompts()
        let path = try write(
            #"{"prompt": "Quote it, in capitals.", "response": "\"HELLO WORLD, THIS IS MY ANSWER TO YOUR QUESTION.\""}"# + "\n"
                + #"{"prompt": "Say hi without commas.", "response": "hi, there"}"# + "\n", "responses.jsonl")
        let report = try IFEval.score(responsesAt: path, prompts: p)
        XCTAssertEqual(report.unanswered.map(\.key), [3])
        XCTAssertEqual(report.strict.map(\.key), [1, 2])  // prompts-file order
        XCTAssertEqual(report.strict.map(\.followed), [[false], [true, true]])
        let failed = try IFEval.score(responsesAt: path, prompts: p, missing: .countAsFailed)
        XCTAssertEqual(failed.strict.map(\.key), [1, 2, 3])
        XCTAssertEqual(failed.strict[2].followed, [false])
        XCTAssertEqual(failed.unanswered.count, 1)
        XCTAssertTrue(failed.summary().contains("IFEval: 3 prompts scored, 1 prompt(s) without a response"))
    }

    func testResponsesFileErrorsNameTheLine() throws {
        let p = try prompts()
        let unknown = try write(
            #"{"prompt": "Say hi without commas.", "response": "hi"}"# + "\n\n" + #"{"prompt": "Not an IFEval prompt", "response": "x"}"# + "\n",
            "unknown.jsonl")
        XCTAssertThrowsError(try IFEval.score(responsesAt: unknown, prompts: p)) { e in
            XCTAssertTrue("\(e)".contains("unknown.jsonl:3: the prompt is not one of the 3 IFEval prompts: \"Not an IFEval prompt\""), "\(e)")
        }
        let twice = try write(
            #"{"prompt": "Unanswered.", "response": "a"}"# + "\n" + #"{"prompt": "Unanswered.", "response": "b"}"# + "\n", "twice.jsonl")
        XCTAssertThrowsError(try IFEval.score(responsesAt: twice, prompts: p)) { e in
            XCTAssertTrue("\(e)".contains("twice.jsonl:2: a second response to the prompt answered at 1"), "\(e)")
        }
        let noResponse = try write(#"[{"prompt": "Unanswered.", "output": "a"}]"#, "noresponse.json")
        XCTAssertThrowsError(try IFEval.score(responsesAt: noResponse, prompts: p)) { e in
            XCTAssertTrue("\(e)".contains("noresponse.json:element 1: expected a string field 'response'"), "\(e)")
        }
    }

    func testOfficialRowsAreWrittenAsPythonWritesThem() throws {
        let p = try prompts()
        let result = IFEval.score(p[1], response: "\"ÉTÉ\tü 😀\"", mode: .strict)
        XCTAssertEqual(
            result.jsonLine,
            #"{"follow_all_instructions": false, "follow_instruction_list": [true, false], "instruction_id_list": ["startend:quotation", "change_case:english_capital"], "prompt": "Quote it, in capitals.", "response": "\"\u00c9T\u00c9\t\u00fc \ud83d\ude00\""}"#)
        let path = NSTemporaryDirectory() + "ift-ifeval-\(getpid())-rows.jsonl"
        try IFEval.writeResults([result, IFEval.score(p[0], response: "hi", mode: .loose)], to: path)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(String(lines[0]), result.jsonLine)
        // Each row is JSON that reads back with the official field names.
        let row = try JSONValue.parse(String(lines[1]))
        XCTAssertEqual(row.objectValue?.keys, ["follow_all_instructions", "follow_instruction_list", "instruction_id_list", "prompt", "response"])
        XCTAssertEqual(row["follow_all_instructions"], .bool(true))
        XCTAssertEqual(IFEval.pythonJSONString("a\"b\\c\n\u{7F}\u{1}"), #""a\"b\\c\n\u007f\u0001""#)
    }
}
