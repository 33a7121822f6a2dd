import Foundation
import XCTest

/// Runs the built `ift-gpu` binary: malformed calls must exit non-zero with a clear message.
final class CLITests: XCTestCase {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `ift-gpu` built next to this test bundle.
    var binary: URL { Self.binary }

    static var binary: URL {
        let dir = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return dir.appendingPathComponent("ift-gpu")
    }

    func run(_ args: [String], env: [String: String] = [:]) throws -> Output { try Self.run(args, env: env) }

    /// Runs `ift-gpu` with `args` (other test classes use it too).
    static func run(_ args: [String], env: [String: String] = [:]) throws -> Output {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func testHelpListsCommands() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary.path), "missing \(binary.path)")
        let r = try run(["--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("devices"))
        XCTAssertTrue(r.stdout.contains("bench"))
    }

    func testUnknownBackendIsRejected() throws {
        let r = try run(["bench", "kernels", "--backends", "tpu"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unknown backend 'tpu'"), r.stderr)
    }

    func testMissingVulkanLoaderIsAClearError() throws {
        let r = try run(["devices"], env: ["IFT_VULKAN_LOADER": "/nonexistent/libvulkan.so.1"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("Vulkan loader could not be opened"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
    }

    func testOutOfRangeDeviceIsAClearError() throws {
        let r = try run(["bench", "kernels", "--quick", "--kernels", "scale", "--device", "99"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("device index 99 is out of range"), r.stderr)
    }

    /// `data inspect` on the data tests' fixtures, with the real model's tokenizer when present.
    func testDataInspect() throws {
        let env = ProcessInfo.processInfo.environment
        guard let model = env["IFT_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            if env["IFT_REQUIRE_MODEL"] == "1" { return XCTFail("IFT_REQUIRE_MODEL=1 but IFT_SMOLLM2_GGUF is not set") }
            throw XCTSkip("set IFT_SMOLLM2_GGUF (Tools/test.sh does) to run this test")
        }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("IFTDataTests/Fixtures")
        let ok = try run(["data", "inspect", fixtures.appendingPathComponent("alpaca.jsonl").path, "--model", model, "--mask-instructions"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("format:         alpaca"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("### Response:\n["), ok.stdout)
        let bad = try run(["data", "inspect", fixtures.appendingPathComponent("bad.jsonl").path, "--model", model])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("bad.jsonl:"), bad.stderr)
    }

    func testBadIFTDeviceIsAClearError() throws {
        let r = try run(["bench", "kernels", "--quick", "--kernels", "scale"], env: ["IFT_DEVICE": "gpu0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("IFT_DEVICE must be a device index"), r.stderr)
    }
}

/// `model info` on the family fixtures names the family and what differs from Llama.
extension CLITests {
    static let families = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
        + "/IFTTrainTests/Fixtures/families"

    func testModelInfoShowsTheFamily() throws {
        for (dir, expected) in [
            ("qwen2", ["Qwen2ForCausalLM", "family:          qwen2: Q/K/V biases", "rope scaling yarn factor 4"]),
            ("qwen3/model.gguf", ["architecture:    qwen3", "family:          qwen3: per-head Q/K RMSNorm"]),
            ("llama3", ["family:          llama: rope scaling llama3 factor 4"]),
            ("llama3/model.gguf", ["rope scaling by rope_freqs"]),
            ("mistral", ["family:          mistral: sliding window 4096"]),
            ("phi3/model.gguf", ["architecture:    phi3", "family:          phi3: fused qkv_proj and gate_up_proj, rope scaling longrope"]),
        ] {
            let r = try run(["model", "info", Self.families + "/" + dir])
            XCTAssertEqual(r.status, 0, r.stderr)
            for e in expected { XCTAssertTrue(r.stdout.contains(e), "\(dir): '\(e)' missing from:\n\(r.stdout)") }
        }
    }
}
