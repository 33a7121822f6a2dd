import Foundation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ift-gpu serve` as a user runs it: help, option checks, and a real server process on a free
/// loopback port that answers and exits cleanly on SIGTERM and SIGINT.
final class ServeCLITests: XCTestCase {
    var binary: URL {
        let dir = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return dir.appendingPathComponent("ift-gpu")
    }

    /// Runs to completion (bounded: killed after 60 s).
    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: killer)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Whether this binary has the server (not built with IFT_NO_SERVER=1).
    func requireServer() throws {
        let r = try run(["serve", "--model", "/nonexistent/model.gguf", "--backend", "cpu-ref"])
        if r.stderr.contains("built without the server") { throw XCTSkip("ift-gpu was built with IFT_NO_SERVER=1") }
    }

    func testHelpFitsEightyColumnsAndShowsExamples() throws {
        let r = try run(["serve", "--help"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("ift-gpu serve --model smollm2-135m-instruct --backend cpu --port 8080"), r.stdout)
        for option in ["--max-batch", "--max-queue", "--max-tokens", "--host", "--port", "--backend", "--context"] {
            XCTAssertTrue(r.stdout.contains(option), option)
        }
        for line in r.stdout.components(separatedBy: "\n") { XCTAssertLessThanOrEqual(line.count, 80, line) }
    }

    func testBadOptionsAreRejected() throws {
        for (args, message) in [
            (["--port", "70000"], "--port must be in 0...65535"), (["--max-batch", "0"], "--max-batch must be at least 1"),
            (["--max-queue", "0"], "--max-queue must be at least 1"), (["--backend", "tpu"], "unknown backend 'tpu'"),
        ] {
            let r = try run(["serve"] + args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
    }

    /// Starts `ift-gpu serve ARGS` and returns the process and the first line it prints (read on
    /// a thread of its own; a server silent for 120 s is terminated, giving an empty line).
    func startServe(_ arguments: [String]) async throws -> (Process, String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = ["serve"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let line = try await withCheckedThrowingContinuation { (c: CheckedContinuation<String, any Error>) in
            Thread {
                var bytes: [UInt8] = []
                while let d = try? out.fileHandleForReading.read(upToCount: 1), let b = d.first, b != 10 { bytes.append(b) }
                c.resume(returning: String(decoding: bytes, as: UTF8.self))
            }.start()
            DispatchQueue.global().asyncAfter(deadline: .now() + 120) { if p.isRunning { p.terminate() } }
        }
        return (p, line)
    }

    /// Starts `ift-gpu serve --port 0` on SmolLM2, reads the port it prints, asks for the model
    /// list, then stops it with `signal` and expects exit status 0.
    func serveAndStop(with signal: Int32, model: String) async throws {
        let (p, line) = try await startServe(["--model", model, "--backend", "cpu", "--port", "0", "--context", "256"])
        defer { if p.isRunning { p.interrupt(); kill(p.processIdentifier, SIGKILL) } }
        let prefix = "listening on http://127.0.0.1:"
        XCTAssertTrue(line.hasPrefix(prefix), "first line: \(line)")
        let port = try XCTUnwrap(Int(line.dropFirst(prefix.count)), line)
        XCTAssertGreaterThan(port, 0)
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/models")!)
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains(#""id":"SmolLM2-135M-Instruct.Q4_1.gguf""#))
        kill(p.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        XCTAssertFalse(p.isRunning, "still running 30 s after signal \(signal)")
        if !p.isRunning {
            XCTAssertEqual(p.terminationReason, .exit)
            XCTAssertEqual(p.terminationStatus, 0)
        }
    }

    func testServesAndExitsCleanlyOnSIGTERMAndSIGINT() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let model = env["IFT_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            if env["IFT_REQUIRE_MODEL"] == "1" { return XCTFail("IFT_REQUIRE_MODEL=1 but IFT_SMOLLM2_GGUF is not set") }
            throw XCTSkip("set IFT_SMOLLM2_GGUF (Tools/test.sh does) to run this test")
        }
        try requireServer()
        try await serveAndStop(with: SIGTERM, model: model)
        try await serveAndStop(with: SIGINT, model: model)
    }

    /// End to end, no mocks: `eval judge` and `eval mt-bench` talk over HTTP to `ift-gpu serve`
    /// (SmolLM2 as the judge). A 135M judge rarely answers in the required format; every judgement
    /// is accounted for (scored or counted as failed), and the commands succeed.
    func testEvalJudgeAndMTBenchAgainstTheServer() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let model = env["IFT_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            if env["IFT_REQUIRE_MODEL"] == "1" { return XCTFail("IFT_REQUIRE_MODEL=1 but IFT_SMOLLM2_GGUF is not set") }
            throw XCTSkip("set IFT_SMOLLM2_GGUF (Tools/test.sh does) to run this test")
        }
        try requireServer()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let shared = [root + "/shared/data", root + "/../shared/data"].first { FileManager.default.fileExists(atPath: $0) }
        guard let shared else { throw XCTSkip("needs ../shared/data") }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ift-judge-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: shared + "/raschka-ch07/instruction-data-with-response.json"))) as? [Any] ?? []
        try JSONSerialization.data(withJSONObject: Array(rows.prefix(4))).write(to: URL(fileURLWithPath: tmp + "/responses.json"))
        try """
            {"question_id": 81, "turns": ["Hawaii is lovely.", "Always amazing."]}
            {"question_id": 82, "turns": ["Dear boss, please review.", "A fine email."]}
            """.write(toFile: tmp + "/answers.jsonl", atomically: true, encoding: .utf8)

        let (p, line) = try await startServe(
            ["--model", model, "--backend", "cpu", "--port", "0", "--context", "2048", "--model-id", "judge", "--max-tokens", "48"])
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let port = try XCTUnwrap(Int(line.dropFirst("listening on http://127.0.0.1:".count)), line)
        let judge = ["--judge-url", "http://127.0.0.1:\(port)/v1", "--judge-model", "judge", "--concurrency", "4", "--timeout", "120"]
        var r = try run(["eval", "judge", "--responses", tmp + "/responses.json", "--output", tmp] + judge)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        var summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/judge-summary.json"))) as? [String: Any] ?? [:]
        XCTAssertEqual(summary["judged"] as? Int, 4)
        XCTAssertEqual((summary["scored"] as? Int ?? -1) + (summary["failed"] as? Int ?? -1), 4)
        r = try run(["eval", "mt-bench", "--questions", shared + "/mt-bench/question.jsonl", "--judge-prompts", shared + "/mt-bench/judge_prompts.jsonl",
                     "--answers", tmp + "/answers.jsonl", "--limit", "2", "--output", tmp] + judge)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/mt-bench-summary.json"))) as? [String: Any] ?? [:]
        XCTAssertEqual(summary["judged"] as? Int, 4, "two questions, two turns")
        let lines = try String(contentsOfFile: tmp + "/mt-bench-examples.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(lines.allSatisfy { $0.contains("\"judgment\":\"") }, "the server answered every judge request")
        kill(p.processIdentifier, SIGTERM)
    }
}
