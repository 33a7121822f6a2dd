import Foundation
import XCTest

/// `ift-gpu train` end to end on SmolLM2-135M-Instruct (a few steps on the cpu backend), its YAML
/// config, resume, and its errors.
extension CLITests {
    func smolLM2() throws -> String {
        let env = ProcessInfo.processInfo.environment
        guard let model = env["IFT_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            if env["IFT_REQUIRE_MODEL"] == "1" { XCTFail("IFT_REQUIRE_MODEL=1 but IFT_SMOLLM2_GGUF is not set"); return "" }
            throw XCTSkip("set IFT_SMOLLM2_GGUF (Tools/test.sh does) to run this test")
        }
        return model
    }

    var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("ift-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// `bench train` runs a tiny random model and prints one JSON line with its numbers.
    func testBenchTrain() throws {
        let r = try run(["bench", "train", "--backend", "cpu", "--mode", "qlora", "--layers", "1", "--batch", "1", "--seq", "16", "--steps", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        XCTAssertEqual(json?["mode"] as? String, "qlora")
        XCTAssertGreaterThan(json?["tokens_per_s"] as? Double ?? 0, 0)
        let loss = json?["first_loss"] as? Double ?? .nan
        XCTAssertEqual(loss, log(49152.0), accuracy: 0.5, "a random model starts near ln(vocab)")
        let bad = try run(["bench", "train", "--mode", "half"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown --mode 'half'"), bad.stderr)
    }

    /// `bench train --checkpoint-activations` reports fewer activation bytes in its JSON line and
    /// trains to the same losses (the gradients are bit-identical).
    func testBenchTrainCheckpointActivations() throws {
        var lines: [[String: Any]] = []
        for flag in [[], ["--checkpoint-activations"]] {
            let r = try run(["bench", "train", "--backend", "cpu", "--layers", "3", "--batch", "2", "--seq", "16", "--steps", "1", "--json"] + flag)
            XCTAssertEqual(r.status, 0, r.stderr)
            let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
            lines.append(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:])
        }
        XCTAssertEqual(lines.map { $0["checkpoint_activations"] as? Bool }, [false, true])
        let plain = lines[0]["activation_mb"] as? Double ?? 0, checkpointed = lines[1]["activation_mb"] as? Double ?? 0
        XCTAssertGreaterThan(checkpointed, 0)
        XCTAssertLessThan(checkpointed, plain)
        XCTAssertEqual(lines[0]["loss"] as? Double, lines[1]["loss"] as? Double)
    }

    func testTrainErrors() throws {
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var r = try run(["train", "--mode", "bogus"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unknown --mode 'bogus'"), r.stderr)
        r = try run(["train", "--data", tmp + "/missing.json", "--model", "/nonexistent/model.gguf"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("/nonexistent/model.gguf"), r.stderr)
        try "lr: 1e-4\nbatch-sise: 4\n".write(toFile: tmp + "/bad.yaml", atomically: true, encoding: .utf8)
        r = try run(["train", "--config", tmp + "/bad.yaml"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("bad.yaml:2: unknown key 'batch-sise'"), r.stderr)
        try "lr: fast\n".write(toFile: tmp + "/bad2.yaml", atomically: true, encoding: .utf8)
        r = try run(["train", "--config", tmp + "/bad2.yaml"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--lr") && r.stderr.contains("fast"), r.stderr)
        r = try run(["train", "--lr=-1"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--lr must be a positive number"), r.stderr)
    }

    /// The example config in `configs/` is valid (one tiny step with overrides).
    func testExampleConfig() throws {
        let model = try smolLM2()
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let r = try run(
            ["train", "--config", repoRoot + "/configs/lora-example.yaml", "--model", model, "--data", repoRoot + "/data/default/instructions.json",
             "--backend", "cpu", "--max-steps", "1", "--batch-size", "2", "--rank", "2", "--eval-examples", "0", "--output", tmp + "/run"],
            env: ["IFT_HOME": tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("rank 2, alpha 32.0"), r.stdout)
    }

    /// Examples longer than --max-length are counted in a warning, not truncated silently.
    func testTruncationWarning() throws {
        let model = try smolLM2()
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let r = try run(
            ["train", "--model", model, "--data", repoRoot + "/data/default/instructions.json", "--backend", "cpu", "--max-length", "24",
             "--max-steps", "1", "--batch-size", "2", "--rank", "2", "--lora-targets", "q", "--output", tmp + "/run"],
            env: ["IFT_HOME": tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("training examples are longer than --max-length 24 and are truncated"), r.stdout)
    }

    /// Two LoRA steps from a YAML config whose values the command line overrides, then a resume to
    /// step 3, then a refused resume with another rank that leaves the checkpoint as it was.
    func testTrainConfigResumeAndRefusedResume() throws {
        let model = try smolLM2()
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let out = tmp + "/run"
        try """
            # a training config
            mode: lora
            rank: 4
            lora_targets: [q, v]
            batch-size: 2
            max-steps: 99
            max-length: 128
            packing: false
            checkpoint-activations: true
            """.write(toFile: tmp + "/train.yaml", atomically: true, encoding: .utf8)
        let data = repoRoot + "/data/default/instructions.json"
        let common = ["--model", model, "--data", data, "--backend", "cpu", "--output", out, "--warmup", "1"]
        // max-steps 99 in the file, 2 on the command line (which wins).
        var r = try run(
            ["train", "--config", tmp + "/train.yaml", "--max-steps", "2", "--eval-examples", "1", "--max-new-tokens", "8"] + common,
            env: ["IFT_HOME": tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("steps:    2 "), r.stdout)
        XCTAssertTrue(r.stdout.contains("exact match 0/1") || r.stdout.contains("exact match 1/1"), r.stdout)
        XCTAssertTrue(r.stdout.contains("rank 4") && r.stdout.contains("q_proj,v_proj"), r.stdout)
        XCTAssertTrue(r.stdout.contains("activation checkpointing"), r.stdout)
        XCTAssertTrue(r.stdout.contains("validation loss"), r.stdout)
        let fm = FileManager.default
        for f in ["metrics.jsonl", "report.html", "checkpoint/state.json", "adapter/adapter_model.safetensors", "adapter/adapter_config.json", "adapter/ift_gpu.json"] {
            XCTAssertTrue(fm.fileExists(atPath: out + "/" + f), "missing \(f)")
        }
        let info = try String(contentsOfFile: out + "/adapter/ift_gpu.json", encoding: .utf8)
        XCTAssertTrue(info.contains("\"prompt_style\":\"alpaca\""), info)
        let state = try String(contentsOfFile: out + "/checkpoint/state.json", encoding: .utf8)
        XCTAssertTrue(state.contains("\"prompt_style\":\"alpaca\""), state)
        let ckpt = try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint/trainable.safetensors"))
        r = try run(["train", "--config", tmp + "/train.yaml", "--max-steps", "3", "--resume", out + "/checkpoint"] + common, env: ["IFT_HOME": tmp])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("at step 2"), r.stdout)
        let metrics = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(metrics.count, 3)
        // Another rank: refused, and the checkpoint is untouched.
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint/trainable.safetensors"))
        XCTAssertNotEqual(before, ckpt)
        r = try run(["train", "--config", tmp + "/train.yaml", "--rank", "8", "--max-steps", "4", "--resume", out + "/checkpoint"] + common, env: ["IFT_HOME": tmp])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("lora_rank"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint/trainable.safetensors")), before)
    }
}
