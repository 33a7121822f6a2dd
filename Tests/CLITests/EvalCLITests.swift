import Foundation
import XCTest

/// `ift-gpu eval`: reference metrics on ch. 7's responses file equal the reference
/// implementations' numbers; loss, forgetting, metrics and HumanEval on a model and a checkpoint.
extension CLITests {
    func sharedData(_ relative: String) throws -> String {
        for root in [repoRoot + "/shared/data/", repoRoot + "/../shared/data/"]
        where FileManager.default.fileExists(atPath: root + relative) {
            return root + relative
        }
        throw XCTSkip("needs ../shared/data/\(relative)")
    }

    func summary(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    /// The numbers come from `Tools/ch7-metric-summary.py` (sacreBLEU 2.6.0, rouge-score 0.1.2,
    /// SQuAD v1.1's normalization) on the same file.
    func testEvalMetricsOnTheChapter7ResponsesEqualTheReferenceImplementations() throws {
        let file = try sharedData("raschka-ch07/instruction-data-with-response.json")
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let r = try run(["eval", "metrics", "--responses", file, "--output", tmp])
        XCTAssertEqual(r.status, 0, r.stderr)
        let s = try summary(tmp + "/metrics-summary.json")
        let expected: [String: Double] = [
            "bleu": 28.83223831882989, "chrf": 51.63270861519471, "rouge1": 59.36935263121445,
            "rouge2": 47.2228121818864, "rougeL": 58.318331350528105, "exact_match": 15.454545454545455,
            "f1": 57.36083216884733,
        ]
        for (k, v) in expected {
            XCTAssertEqual(s[k] as? Double ?? -1, v, accuracy: 0.01, k)
        }
        XCTAssertEqual(s["examples"] as? Int, 110)
        let rows = try String(contentsOfFile: tmp + "/metrics-examples.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 110)
        // A field that is not there: the file and row are named, nothing is written.
        let bad = try run(["eval", "metrics", "--responses", file, "--response-field", "answer", "--output", tmp + "/bad"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("instruction-data-with-response.json:element 1: expected a string field 'answer'"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/bad/metrics-summary.json"))
        let neither = try run(["eval", "metrics"])
        XCTAssertNotEqual(neither.status, 0)
        XCTAssertTrue(neither.stderr.contains("give either --responses FILE"), neither.stderr)
    }

    /// A one-step LoRA checkpoint, then loss, forgetting and generated-response metrics on it.
    /// A run's PEFT adapter applied to the base model without merging (`eval loss --adapter`; the
    /// prompt style read from the adapter) gives the merged checkpoint's loss, and not the base's.
    func testEvalLossWithTheAdapterEqualsTheMergedCheckpoint() throws {
        let model = try smolLM2()
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let data = repoRoot + "/data/default/instructions.json"
        var r = try run(
            ["train", "--model", model, "--data", data, "--backend", "cpu", "--output", tmp + "/run", "--max-steps", "2",
             "--batch-size", "2", "--rank", "4", "--lr", "0.01", "--warmup", "0", "--eval-examples", "0"],
            env: ["IFT_HOME": tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        var losses: [String: Double] = [:]
        for (name, how) in [("base", ["--model", model]), ("adapter", ["--model", model, "--adapter", tmp + "/run/adapter"]),
                            ("merged", ["--checkpoint", tmp + "/run/checkpoint"])] {
            r = try run(["eval", "loss"] + how + ["--data", data, "--limit", "6", "--backend", "cpu", "--output", tmp + "/" + name])
            XCTAssertEqual(r.status, 0, name + ": " + r.stderr + r.stdout)
            losses[name] = try summary(tmp + "/\(name)/loss-summary.json")["loss"] as? Double ?? -1
        }
        let (base, adapter, merged) = (losses["base"] ?? -1, losses["adapter"] ?? -1, losses["merged"] ?? -2)
        XCTAssertEqual(adapter, merged, accuracy: 1e-4 * merged, "\(losses)")
        XCTAssertGreaterThan(abs(adapter - base), 0.1, "two steps at lr 0.01 must move the loss: \(losses)")
    }

    func testEvalOnAModelAndACheckpoint() throws {
        let model = try smolLM2()
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let data = repoRoot + "/data/default/instructions.json"
        var r = try run(
            ["train", "--model", model, "--data", data, "--backend", "cpu", "--output", tmp + "/run", "--max-steps", "1",
             "--batch-size", "2", "--rank", "4", "--eval-examples", "2", "--max-new-tokens", "8", "--eval-metric", "exact-match"],
            env: ["IFT_HOME": tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        // best/ was chosen by exact match (the score is recorded).
        let bestState = try String(contentsOfFile: tmp + "/run/best/state.json", encoding: .utf8)
        XCTAssertTrue(bestState.contains("\"best_score\":") && bestState.contains("\"eval_metric\":\"exact-match\""), bestState)
        XCTAssertTrue(try String(contentsOfFile: tmp + "/run/metrics.jsonl", encoding: .utf8).contains("\"eval_score\":"))
        let noExamples = try run(["train", "--model", model, "--data", data, "--eval-metric", "exact-match"])
        XCTAssertNotEqual(noExamples.status, 0)
        XCTAssertTrue(noExamples.stderr.contains("needs --eval-examples"), noExamples.stderr)
        let ckpt = tmp + "/run/checkpoint"
        r = try run(["eval", "loss", "--checkpoint", ckpt, "--data", data, "--limit", "6", "--backend", "cpu", "--output", tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let loss = try summary(tmp + "/loss-summary.json")
        let l = loss["loss"] as? Double ?? -1, ppl = loss["perplexity"] as? Double ?? -1
        XCTAssertTrue(l > 0 && l < 8, "\(loss)")
        XCTAssertEqual(ppl, exp(l), accuracy: 0.01 * ppl)
        XCTAssertEqual(loss["examples"] as? Int, 6)
        r = try run(["eval", "forgetting", "--checkpoint", ckpt, "--backend", "cpu", "--output", tmp,
                     "--text", repoRoot + "/data/general/general-text.txt"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let f = try summary(tmp + "/forgetting-summary.json")
        let base = (f["base"] as? [String: Any])?["perplexity"] as? Double ?? 0
        XCTAssertTrue(base > 5 && base < 200, "SmolLM2's perplexity on plain English: \(f)")
        r = try run(["eval", "metrics", "--checkpoint", ckpt, "--data", data, "--limit", "4", "--max-new-tokens", "16",
                     "--backend", "cpu", "--output", tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertEqual(try summary(tmp + "/metrics-summary.json")["examples"] as? Int, 4)
        let responses = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/metrics-responses.json"))) as? [[String: Any]]
        XCTAssertEqual(responses?.count, 4)
        XCTAssertNotNil(responses?.first?["model_response"] as? String)
        // A directory that is not a checkpoint.
        r = try run(["eval", "loss", "--checkpoint", tmp, "--data", data, "--backend", "cpu"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("not a checkpoint directory"), r.stderr)
    }

    /// `--eval-metric ifeval`: best/ is chosen by IFEval's loose prompt-level accuracy.
    func testTrainKeepsTheBestByIFEval() throws {
        let model = try smolLM2()
        let prompts = try sharedData("ifeval/input_data.jsonl")
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let r = try run(
            ["train", "--model", model, "--data", repoRoot + "/data/default/instructions.json", "--backend", "cpu",
             "--output", tmp + "/run", "--max-steps", "1", "--batch-size", "2", "--rank", "4", "--eval-metric", "ifeval",
             "--ifeval-prompts", prompts, "--eval-examples", "3", "--max-new-tokens", "16"], env: ["IFT_HOME": tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let state = try String(contentsOfFile: tmp + "/run/best/state.json", encoding: .utf8)
        XCTAssertTrue(state.contains("\"eval_metric\":\"ifeval\"") && state.contains("\"best_score\":"), state)
        let judgeless = try run(["train", "--model", model, "--eval-metric", "judge", "--eval-examples", "2"])
        XCTAssertNotEqual(judgeless.status, 0)
        XCTAssertTrue(judgeless.stderr.contains("needs --judge-url and --judge-model"), judgeless.stderr)
    }

    /// Canonical solutions of the first problems pass; a wrong one fails, through the CLI.
    func testEvalHumanEvalScoresASamplesFile() throws {
        let problems = try sharedData("humaneval/HumanEval.jsonl.gz")
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let samples = """
            {"task_id": "HumanEval/2", "completion": "    return number % 1.0\\n"}
            {"task_id": "HumanEval/2", "completion": "    return 0.5\\n"}
            {"task_id": "HumanEval/3", "completion": "    return False\\n"}
            """
        try samples.write(toFile: tmp + "/samples.jsonl", atomically: true, encoding: .utf8)
        let r = try run(["eval", "humaneval", "--problems", problems, "--samples", tmp + "/samples.jsonl", "--k", "1,2", "--output", tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let s = try summary(tmp + "/humaneval-summary.json")
        XCTAssertEqual(s["pass@1"] as? Double ?? -1, 0.25, accuracy: 1e-9)  // task 2: 1 of 2; task 3: 0 of 1
        XCTAssertEqual(s["passed"] as? Int, 1)
        XCTAssertEqual(s["samples"] as? Int, 3)
        XCTAssertTrue(r.stdout.contains("containment"), r.stdout)
    }
}
