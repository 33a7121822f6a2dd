import Foundation
import IFTCPU
import IFTCore
import IFTModel
import IFTServe
import XCTest

/// SmolLM2-135M-Instruct on the cpu backend (context 512), loaded once for every test, with the
/// reference answer of `Generator.generate` computed before any server uses the model.
final class SmolLM2: @unchecked Sendable {
    static let question = "What is the capital of France?"
    static let maxTokens = 32

    let served: ServedModel
    /// The rendered chat prompt of `question` and its tokens.
    let prompt: String
    let promptTokens: [Int32]
    /// `Generator.generate` on `promptTokens`, greedy, `maxTokens`, the server's stop tokens.
    let reference: GenerationResult

    private init(path: String) throws {
        let gguf = try GGUFFile(path: path)
        let model = try LlamaModel(gguf: gguf, backend: try CPUBackend(), maxPositions: 512)
        served = try ServedModel(id: "smollm2-135m-instruct", model: model, tokenizer: try Tokenizer(gguf: gguf))
        prompt = try served.chatPrompt([.user(Self.question)])
        promptTokens = served.encode(prompt)
        var generator = Generator(model: model, tokenizer: served.tokenizer)
        generator.additionalStopTokens = served.stopTokens
        reference = try generator.generate(prompt: promptTokens, maxTokens: Self.maxTokens)
    }

    private static let loaded: Result<SmolLM2, any Error> = Result {
        let path = try modelPath()
        return try SmolLM2(path: path)
    }

    /// The shared instance; skips the test (or fails it under IFT_REQUIRE_MODEL=1) without the model.
    static func shared(file: StaticString = #filePath, line: UInt = #line) throws -> SmolLM2 {
        do {
            return try loaded.get()
        } catch is Missing {
            let env = ProcessInfo.processInfo.environment
            if env["IFT_REQUIRE_MODEL"] == "1" {
                XCTFail(
                    "IFT_REQUIRE_MODEL=1 but SmolLM2-135M-Instruct is missing: run "
                        + "`IFT_HOME=.build ift-gpu model pull smollm2-135m-instruct`", file: file, line: line)
                throw Missing()
            }
            throw XCTSkip("SmolLM2-135M-Instruct not found; Tools/test.sh downloads it (or set IFT_SMOLLM2_GGUF)")
        }
    }

    struct Missing: Error {}

    /// `IFT_SMOLLM2_GGUF`, else `.build/models/...` in the package root.
    static func modelPath() throws -> String {
        let env = ProcessInfo.processInfo.environment
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates: [String?] = [env["IFT_SMOLLM2_GGUF"], root.appendingPathComponent(".build/models/SmolLM2-135M-Instruct.Q4_1.gguf").path]
        guard let p = candidates.compactMap({ $0 }).first(where: { FileManager.default.fileExists(atPath: $0) }) else { throw Missing() }
        return p
    }
}

/// Runs blocking `body` on a thread of its own, never on the cooperative pool the server runs on.
func onThread<T>(_ body: @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        Thread { c.resume(with: Result { try body() }) }.start()
    }
}

/// Polls `condition` every 20 ms for at most `seconds`; returns whether it became true.
func eventually(within seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

extension XCTestCase {
    /// Starts a server for `served` on a free loopback port, runs `body`, and stops the server
    /// (also when `body` throws).
    func withServer(
        _ served: ServedModel, configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (OpenAIServer, LoopbackHTTP) async throws -> Void
    ) async throws {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.maxTokens = 64
        configure(&configuration)
        let server = OpenAIServer(served: served, configuration: configuration)
        let running = try await server.start()
        XCTAssertGreaterThan(running.port, 0)
        let stop: @Sendable () async throws -> Void = {
            guard try await within(60, { try await running.stop() }) != nil else {
                return XCTFail("the server did not stop within 60 s")
            }
        }
        do {
            try await body(server, LoopbackHTTP(port: running.port))
        } catch {
            try? await stop()
            throw error
        }
        try await stop()
    }
}

/// Runs `operation` in a task of its own and waits for it at most `seconds`: nil when it has not
/// ended by then (it is left running), else its result.
func within<T: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
    let once = ResumeOnce()
    return try await withCheckedThrowingContinuation { (c: CheckedContinuation<T?, any Error>) in
        Task {
            do {
                let value = try await operation()
                if once.claim() { c.resume(returning: value) }
            } catch {
                if once.claim() { c.resume(throwing: error) }
            }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            if once.claim() { c.resume(returning: nil) }
        }
    }
}

/// True for the first caller of `claim` only.
final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false

    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed { return false }
        claimed = true
        return true
    }
}
