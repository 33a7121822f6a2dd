import Foundation
import IFTCore
import IFTData
import IFTEval
import IFTModel
import IFTTestSupport
import XCTest

@testable import IFTSynth

/// The generation loop: resume without duplicates, stop handling, a judge that answers garbage,
/// the endpoint generator over HTTP, and Magpie on the real SmolLM2-135M-Instruct.
final class SynthRunnerTests: XCTestCase {
    func magpie(turns: Int = 1, seed: UInt64 = 3) throws -> Magpie {
        var s = Magpie.Settings()
        s.turns = turns
        return try Magpie(template: try Templates.renderer(Templates.smolLM2), settings: s, seed: seed)
    }

    func testResumeContinuesToNWithoutDuplicates() throws {
        let dir = try SynthTestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = SynthOutput(path: dir + "/rows.json", format: .alpaca)
        var first = SynthRunner(output: output, target: 6, seed: 3)
        first.batch = 4
        first.showProgress = false
        var method = try magpie()
        let s1 = try first.run(&method, generator: StubGenerator())
        XCTAssertEqual(s1.rows, 6)
        XCTAssertEqual(s1.resumed, 0)
        let before = try output.read()
        XCTAssertEqual(before.count, 6)
        XCTAssertEqual(before[0].provenance["method"], .string("magpie"))
        XCTAssertEqual(before[0].provenance["generator"], .string("stub"))
        XCTAssertNotNil(before[0].provenance["sampling"]?["instruction"]?["temperature"])
        // The file is Alpaca JSON the dataset loader reads.
        let dataset = try Dataset.load(output.path)
        XCTAssertEqual(dataset.examples.count, 6)

        // Rerun to 10: the first 6 stay, 4 new ones follow, none repeats, attempts go on.
        var second = SynthRunner(output: output, target: 10, seed: 3)
        second.batch = 4
        second.showProgress = false
        var again = try magpie()
        let s2 = try second.run(&again, generator: StubGenerator())
        XCTAssertEqual(s2.resumed, 6)
        XCTAssertEqual(s2.rows, 10)
        let after = try output.read()
        XCTAssertEqual(Array(after.prefix(6)), before)
        XCTAssertEqual(Set(after.map(\.instruction)).count, 10)
        let attempts = after.compactMap { $0.provenance["attempt"]?.intValue }
        XCTAssertEqual(Set(attempts).count, 10)
        let lastBefore = before.compactMap { $0.provenance["attempt"]?.intValue }.max() ?? 0
        XCTAssertTrue(attempts.suffix(4).allSatisfy { $0 > lastBefore }, "\(attempts)")
        // A third run with the same target generates nothing.
        var third = SynthRunner(output: output, target: 10, seed: 3)
        third.showProgress = false
        var more = try magpie()
        XCTAssertEqual(try third.run(&more, generator: StubGenerator()).attempts, 0)

        // Messages format with two turns reads back the same conversations.
        let chat = SynthOutput(path: dir + "/chat.jsonl", format: .messages)
        var runner = SynthRunner(output: chat, target: 3, seed: 1)
        runner.showProgress = false
        var twoTurns = try magpie(turns: 2)
        XCTAssertEqual(try runner.run(&twoTurns, generator: StubGenerator()).rows, 3)
        let rows = try chat.read()
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[0].messages.map(\.role), ["user", "assistant", "user", "assistant"])
    }

    func testUnfinishedInstructionsAreRejectedAndCounted() throws {
        let dir = try SynthTestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var runner = SynthRunner(output: SynthOutput(path: dir + "/rows.jsonl", format: .alpaca), target: 5, seed: 0)
        runner.maxAttempts = 8
        runner.showProgress = false
        var method = try magpie()
        let s = try runner.run(&method, generator: StubGenerator(unfinished: true))
        XCTAssertEqual(s.rows, 0)
        XCTAssertEqual(s.attempts, 8)
        XCTAssertEqual(s.rejections["instruction without end of turn"], 8)
    }

    /// A judge that answers HTML, or a score below the bar: the run goes on either way.
    func testJudgeGarbageDoesNotStopTheRun() throws {
        let (url, stop) = try FakeJudge.start()
        defer { stop() }
        let dir = try SynthTestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func judge(_ mode: String, min: Double) -> RowJudge {
            var c = JudgeClient(baseURL: url + "/" + mode + "/v1", model: "judge")
            c.attempts = 1
            c.timeoutSeconds = 5
            return RowJudge(client: c, minScore: min)
        }
        var garbage = SynthRunner(output: SynthOutput(path: dir + "/a.jsonl", format: .alpaca), target: 4, seed: 0)
        garbage.judge = judge("garbage", min: 50)
        garbage.showProgress = false
        var m1 = try magpie()
        let s1 = try garbage.run(&m1, generator: StubGenerator())
        XCTAssertEqual(s1.rows, 4)
        XCTAssertEqual(s1.unjudged, s1.attempts - s1.rejections.total)

        var strict = SynthRunner(output: SynthOutput(path: dir + "/b.jsonl", format: .alpaca), target: 4, seed: 0)
        strict.judge = judge("good", min: 90)  // answers 85
        strict.maxAttempts = 6
        strict.showProgress = false
        var m2 = try magpie()
        let s2 = try strict.run(&m2, generator: StubGenerator())
        XCTAssertEqual(s2.rows, 0)
        XCTAssertEqual(s2.rejections["judge score below 90"], 6 - s2.rejections.total + s2.rejections["judge score below 90"])
        XCTAssertGreaterThan(s2.rejections["judge score below 90"], 0)

        var lenient = SynthRunner(output: SynthOutput(path: dir + "/c.jsonl", format: .alpaca), target: 2, seed: 0)
        lenient.judge = judge("good", min: 80)
        lenient.showProgress = false
        var m3 = try magpie()
        XCTAssertEqual(try lenient.run(&m3, generator: StubGenerator()).rows, 2)
        XCTAssertEqual(try SynthOutput(path: dir + "/c.jsonl", format: .alpaca).read().first?.provenance["judge_score"], .double(85))
    }

    /// The endpoint generator over real HTTP: raw prompts go to /completions, conversations to
    /// /chat/completions; an endpoint error is a failed row, not a stopped run.
    func testEndpointGenerator() throws {
        let (url, stop) = try FakeJudge.start()
        defer { stop() }
        var c = JudgeClient(baseURL: url + "/good/v1", model: "m")
        c.attempts = 1
        let greedy = SamplingOptions(temperature: 0)
        let requests = [
            SynthRequest(prompt: .text("<|im_start|>user\n"), maxTokens: 8, sampling: greedy, stop: ["<|im_end|>"]),
            SynthRequest(prompt: .chat([.user("Hi")], assistantPrefix: ""), maxTokens: 8, sampling: greedy),
        ]
        let good = try EndpointGenerator(client: c).generate(requests) { _ in }
        XCTAssertEqual(good.compactMap { try? $0.get().text }, ["85", "85"])
        let body = EndpointGenerator(client: c).body(requests[0], prompt: .string("p"), chat: false)
        XCTAssertEqual(body["stop"], .array([.string("<|im_end|>")]))
        XCTAssertEqual(body["max_tokens"], .int(8))
        var bad = c
        bad = JudgeClient(baseURL: url + "/error/v1", model: "m")
        bad.attempts = 1
        let failed = try EndpointGenerator(client: bad).generate(requests) { _ in }
        XCTAssertEqual(failed.count, 2)
        for r in failed {
            guard case .failure(let f) = r else { return XCTFail("expected a failure") }
            XCTAssertTrue(f.description.contains("HTTP 400"), f.description)
        }
    }

    /// Magpie on SmolLM2-135M-Instruct: the instruction ends at the end-of-turn token (not in the
    /// text); with too few tokens it is cut and rejected.
    func testMagpieOnSmolLM2StopsAtEndOfTurn() throws {
        let generator = try SynthTestSupport.smolLM2()
        let template = try XCTUnwrap(generator.chatTemplate)
        let pre = try PreQueryTemplate(template: template)
        XCTAssertTrue(pre.prefix.hasSuffix("<|im_start|>user\n"), pre.prefix)
        let results = try generator.generate([
            SynthRequest(prompt: .text(pre.prefix), maxTokens: 96, sampling: SamplingOptions(temperature: 0)),
            SynthRequest(prompt: .text(pre.prefix), maxTokens: 3, sampling: SamplingOptions(temperature: 0)),
        ]) { _ in }
        let full = try results[0].get()
        XCTAssertTrue(full.finished, full.text)
        XCTAssertFalse(full.text.isEmpty)
        XCTAssertFalse(full.text.contains("<|im_end|>") || full.text.contains("<|im_start|>"), full.text)
        XCTAssertFalse(try results[1].get().finished)

        var s = Magpie.Settings()
        s.maxInstructionTokens = 3
        var method = try Magpie(template: template, settings: s, seed: 1)
        let cut = try method.candidates(attempts: 0..<2, generator: generator, filter: QualityFilter()) { _, _ in }
        XCTAssertEqual(cut.map(\.failureReason), ["instruction without end of turn", "instruction without end of turn"])
        s.maxInstructionTokens = 96
        s.maxResponseTokens = 48
        s.instructionSampling = SamplingOptions(temperature: 0)
        s.responseSampling = SamplingOptions(temperature: 0)
        method = try Magpie(template: template, settings: s, seed: 1)
        let rows = try method.candidates(attempts: 0..<1, generator: generator, filter: QualityFilter()) { _, _ in }
        if case .success(let row) = rows[0] {
            XCTAssertEqual(row.instruction, full.text.trimmingWhitespace())
            XCTAssertFalse(row.output.isEmpty)
        } else {
            XCTAssertEqual(rows[0].failureReason, "truncated response", "a greedy row is either kept or its answer ran past 48 tokens")
        }
    }
}
