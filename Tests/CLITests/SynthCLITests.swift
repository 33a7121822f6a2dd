import Foundation
import XCTest

/// `ift-gpu synth` and `ift-gpu data inspect --quality` through the built binary.
extension CLITests {
    func synthTempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "ift-synth-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func testSynthHelpAndValidation() throws {
        let help = try run(["synth", "--help"])
        XCTAssertEqual(help.status, 0)
        for sub in ["magpie", "self-instruct", "from-text"] { XCTAssertTrue(help.stdout.contains(sub), help.stdout) }
        let magpie = try run(["synth", "magpie", "--help"])
        XCTAssertTrue(magpie.stdout.contains("--instruction-temperature") && magpie.stdout.contains("Examples:"), magpie.stdout)
        let zero = try run(["synth", "magpie", "--n", "0"])
        XCTAssertNotEqual(zero.status, 0)
        XCTAssertTrue(zero.stderr.contains("--n must be at least 1"), zero.stderr)
        let turns = try run(["synth", "magpie", "--n", "5", "--turns", "2"])
        XCTAssertNotEqual(turns.status, 0)
        XCTAssertTrue(turns.stderr.contains("--turns > 1 needs --format messages"), turns.stderr)
        let types = try run(["synth", "from-text", "--n", "5", "--text", "/nonexistent", "--task-types", "poetry", "--model", "/nonexistent.gguf"])
        XCTAssertNotEqual(types.status, 0)
        XCTAssertTrue(types.stderr.contains("unknown task type 'poetry'"), types.stderr)
    }

    func testDataQualityReportAndCleanFile() throws {
        let dir = try synthTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rows = (0..<20).map { #"{"instruction": "Spell the number \#($0 * 37) in words for a child learning letter \#(Character(UnicodeScalar(UInt8(65 + $0))))", "input": "", "output": "It is spelled out here."}"# }
        rows[4] = #"{"instruction": "Spell the number 0 in words for a child learning letter A", "input": "", "output": "Zero."}"#
        rows[7] = #"{"instruction": "Write a haiku about the sea in spring with three lines exactly", "input": "", "output": "I'm sorry, but I can't write poems."}"#
        try ("[\n" + rows.joined(separator: ",\n") + "\n]\n").write(toFile: dir + "/data.json", atomically: true, encoding: .utf8)
        try #"{"key": 1, "prompt": "Write a haiku about the sea in spring with three lines exactly and no commas."}"#.write(toFile: dir + "/ifeval.jsonl", atomically: true, encoding: .utf8)
        try #"{"question_id": 81, "turns": ["Compose a travel blog post.", "Rewrite it."]}"#.write(toFile: dir + "/mt.jsonl", atomically: true, encoding: .utf8)
        try #"{"task_id": "HumanEval/0", "prompt": "def f(x):\n    return x"}"#.write(toFile: dir + "/he.jsonl", atomically: true, encoding: .utf8)
        let r = try run([
            "data", "inspect", "--quality", dir + "/data.json", "--ifeval", dir + "/ifeval.jsonl", "--mt-bench", dir + "/mt.jsonl",
            "--humaneval", dir + "/he.jsonl", "--write-clean", dir + "/clean.json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("exact duplicates:   1 (5.0%)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("refusals:           1 (5.0%)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("contamination:      1 (5.0%) vs IFEval (1 prompts)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("clean:              18 rows kept, 2 dropped"), r.stdout)
        let clean = try String(contentsOfFile: dir + "/clean.json", encoding: .utf8)
        XCTAssertEqual(clean.components(separatedBy: "\"instruction\"").count - 1, 18)
    }

    /// from-text on SmolLM2 (cpu): rows with provenance, then a rerun continues to the larger --n.
    func testSynthFromTextRunsAndResumes() throws {
        let env = ProcessInfo.processInfo.environment
        guard let model = env["IFT_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            if env["IFT_REQUIRE_MODEL"] == "1" { return XCTFail("IFT_REQUIRE_MODEL=1 but IFT_SMOLLM2_GGUF is not set") }
            throw XCTSkip("set IFT_SMOLLM2_GGUF (Tools/test.sh does) to run this test")
        }
        let dir = try synthTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = """
            Water boils at one hundred degrees Celsius at sea level, but the temperature falls as the air pressure drops. On a high mountain, water boils at a lower temperature, so food takes longer to cook.

            The Earth turns once on its axis roughly every twenty-four hours, which gives us day and night. It travels around the Sun once a year, and the tilt of its axis gives us the seasons.
            """
        try text.write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        func synth(_ n: Int) throws -> Output {
            try run([
                "synth", "from-text", "--model", model, "--backend", "cpu", "--text", dir, "--chunk-words", "20", "--task-types",
                "summarization,title", "--n", "\(n)", "--batch", "4", "--max-attempts", "8", "--max-tokens", "32", "--output", dir + "/out.jsonl",
            ])
        }
        let first = try synth(1)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("from-text: 1 rows"), first.stdout)
        XCTAssertTrue(first.stdout.contains("rejections:"), first.stdout)
        let second = try synth(2)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("(1 resumed, "), second.stdout)
        let lines = try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines.count >= 1 && lines.count <= 2, "\(lines.count)")
        XCTAssertTrue(lines[0].contains(#""method":"from-text""#) && lines[0].contains(#""task_type":"#), String(lines[0]))
        XCTAssertEqual(Set(lines).count, lines.count)
    }
}
