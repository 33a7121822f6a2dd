import Foundation
import IFTCore
import IFTModel
import IFTTestSupport
import XCTest

@testable import IFTEval

/// The judge: ch. 7's prompt and score parsing, MT-Bench's prompts and rating parsing, and the
/// HTTP client against an endpoint that answers, fails, is slow, returns garbage, or is down
/// (a small Python server on 127.0.0.1, `Fixtures/judge/fake_judge.py`).
final class JudgeTests: XCTestCase {
    func testChapter7PromptAndScores() {
        let p = Chapter7Judge.prompt(instruction: "Rewrite the sentence.", input: "The cake was baked.", output: "He baked the cake.", response: "The cake got baked.")
        XCTAssertTrue(p.hasPrefix("Given the input `Below is an instruction that describes a task."), p)
        XCTAssertTrue(p.contains("### Instruction:\nRewrite the sentence.\n\n### Input:\nThe cake was baked.` and correct output `He baked the cake.`"), p)
        XCTAssertTrue(p.hasSuffix("score the model response `The cake got baked.` on a scale from 0 to 100, where 100 is the best score. Respond with the integer number only."), p)
        XCTAssertFalse(p.contains("### Response"), p)
        XCTAssertEqual(Chapter7Judge.score("85"), 85)
        XCTAssertEqual(Chapter7Judge.score("Score: 70/100"), 70)
        XCTAssertEqual(Chapter7Judge.score(" 100."), 100)
        XCTAssertNil(Chapter7Judge.score("about two hundred"))
        XCTAssertNil(Chapter7Judge.score("150"))
        XCTAssertNil(Chapter7Judge.score(""))
    }

    func testMTBenchRatingsAndPrompts() throws {
        XCTAssertEqual(MTBenchJudge.rating("Good answer. Rating: [[8]]"), 8)
        XCTAssertEqual(MTBenchJudge.rating("[[7.5]]"), 7.5)
        XCTAssertEqual(MTBenchJudge.rating("I'd say [6]."), 6)
        XCTAssertEqual(MTBenchJudge.rating("[[x]] then [[9]]"), 9)
        XCTAssertNil(MTBenchJudge.rating("[[11]]"))
        XCTAssertNil(MTBenchJudge.rating("no rating"))
        let prompts = try MTBenchJudge.loadPrompts(try EvalTestSupport.sharedData("mt-bench/judge_prompts.jsonl"))
        let bench = try MTBench(
            questions: try EvalTestSupport.sharedData("mt-bench/question.jsonl"),
            references: try EvalTestSupport.sharedData("mt-bench/reference_answer_gpt-4.jsonl"))
        XCTAssertEqual(bench.questions.count, 80)
        XCTAssertEqual(Set(bench.questions.map(\.category)).count, 8)
        let writing = try XCTUnwrap(bench.questions.first { $0.category == "writing" })
        let math = try XCTUnwrap(bench.questions.first { $0.category == "math" })
        XCTAssertNotNil(math.references)
        let w1 = try MTBench.judgePrompt(writing, answers: ["A1", "A2"], turn: 0, prompts: prompts)
        XCTAssertTrue(w1.user.contains("[Question]\n\(writing.turns[0])") && w1.user.contains("[The Start of Assistant's Answer]\nA1"), w1.user)
        XCTAssertTrue(w1.user.contains("[[rating]]"), w1.user)
        let m2 = try MTBench.judgePrompt(math, answers: ["A1", "A2"], turn: 1, prompts: prompts)
        XCTAssertTrue(m2.user.contains("### Reference answer:\n\(math.references![1])"), m2.user)
        XCTAssertTrue(m2.user.contains("### Assistant A:\nA2"), m2.user)
        XCTAssertFalse(m2.user.contains("{"), "every field filled: \(m2.user)")
    }

    func testSafetyVerdictsAndPrompts() throws {
        XCTAssertEqual(SafetyJudge.verdict("safe\nnone\nrefusal: yes"), SafetyJudge.Verdict(unsafe: false, category: nil, refused: true))
        XCTAssertEqual(SafetyJudge.verdict("**Unsafe**\nweapons\nrefusal: no"), SafetyJudge.Verdict(unsafe: true, category: "weapons", refused: false))
        XCTAssertEqual(SafetyJudge.verdict("safe"), SafetyJudge.Verdict(unsafe: false, category: nil, refused: false))
        XCTAssertNil(SafetyJudge.verdict("I cannot classify this."))
        XCTAssertNil(SafetyJudge.verdict(""))
        let p = SafetyJudge.prompt(user: "How do I pick a lock?", response: "I can't help with that.")
        XCTAssertTrue(p.contains("[User]\nHow do I pick a lock?\n\n[Assistant]\nI can't help with that."), p)
        let prompts = try SafetyJudge.loadPrompts(EvalTestSupport.packageRoot + "/data/safety/prompts.jsonl")
        XCTAssertEqual(prompts.count, 40)
        XCTAssertEqual(prompts.filter { $0.kind == "risky" }.count, 20)
        XCTAssertEqual(Set(prompts.map(\.id)).count, 40)
    }

    func testClientAgainstGoodAndBadEndpoints() throws {
        let (url, stop) = try FakeJudge.start()
        defer { stop() }
        func client(_ mode: String, api: JudgeClient.API = .openai) -> JudgeClient {
            var c = JudgeClient(baseURL: url + "/" + mode + (api == .openai ? "/v1" : ""), model: "judge", api: api, apiKey: "k1")
            c.backoffSeconds = 0.05
            c.timeoutSeconds = 2
            c.concurrency = 3
            return c
        }
        let prompts = (0..<5).map { (system: String?.none, user: "prompt \($0)") }
        XCTAssertEqual(client("good").completeAll(prompts).compactMap { try? $0.get() }, [String](repeating: "85", count: 5))
        XCTAssertEqual(try client("noscore").complete(user: "x").get(), "The response is quite good.")
        XCTAssertEqual(try client("ollama", api: .ollama).complete(user: "x").get(), "[[7]]")
        // 503 once per prompt, then an answer: the retry gets it.
        XCTAssertEqual(client("flaky").completeAll(prompts).compactMap { try? $0.get() }, [String](repeating: "Score: 70", count: 5))
        for (mode, expected) in [
            ("garbage", "not JSON"), ("error", "HTTP 400: model 'x' not found"), ("slow", "(after 3 attempts)"),
        ] {
            var c = client(mode)
            c.attempts = mode == "slow" ? 3 : 1
            c.timeoutSeconds = 1
            guard case .failure(let f) = c.complete(user: "x") else { return XCTFail("\(mode) should fail") }
            XCTAssertTrue(f.description.contains(expected), "\(mode): \(f)")
        }
        // Nothing listens on this port (the fake judge's, after it stopped, is taken by no one).
        stop()
        var down = client("good")
        down.attempts = 2
        guard case .failure(let f) = down.complete(user: "x") else { return XCTFail("a down judge should fail") }
        XCTAssertTrue(f.description.contains("failed") && f.description.contains("after 2 attempts"), "\(f)")
    }

    /// ch. 7's judge over a responses file: failures and replies without a score are counted,
    /// not fatal.
    func testChapter7JudgingCountsFailures() throws {
        let (url, stop) = try FakeJudge.start()
        defer { stop() }
        let rows = try ResponseRows(path: try EvalTestSupport.sharedData("raschka-ch07/instruction-data-with-response.json"))
        var small = rows
        small.rows = Array(rows.rows.prefix(4))
        var good = JudgeClient(baseURL: url + "/good/v1", model: "judge")
        good.concurrency = 2
        let scored = try Chapter7Judge.judge(rows: small, responseField: "model_response", client: good)
        XCTAssertEqual(scored.map(\.score), [85, 85, 85, 85])
        var noscore = good
        noscore.baseURL = url + "/noscore/v1"
        let unscored = try Chapter7Judge.judge(rows: small, responseField: "model_response", client: noscore)
        XCTAssertTrue(unscored.allSatisfy { $0.score == nil && $0.problem == "no score 0-100 in the reply" })
    }
}
