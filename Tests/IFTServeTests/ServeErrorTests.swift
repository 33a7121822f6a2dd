import Foundation
import IFTModel
import IFTServe
import XCTest

/// Bad requests get OpenAI-style 4xx errors and the server goes on serving; a full queue gets 503;
/// a client that goes away mid-stream has its sequence cancelled.
final class ServeErrorTests: XCTestCase {
    let good = #"{"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4}"#

    /// Checks the OpenAI error shape and returns the code.
    func errorCode(_ r: LoopbackHTTP.Response, file: StaticString = #filePath, line: UInt = #line) -> String? {
        XCTAssertEqual(r.headers["content-type"], "application/json", file: file, line: line)
        guard let error = r.json?["error"] else {
            XCTFail("no error object in \(r.status) \(r.text)", file: file, line: line)
            return nil
        }
        XCTAssertNotNil(error["message"]?.stringValue, file: file, line: line)
        XCTAssertNotNil(error["type"]?.stringValue, file: file, line: line)
        return error["code"]?.stringValue
    }

    func testMalformedRequestsGet4xxAndTheServerKeepsServing() async throws {
        let smol = try SmolLM2.shared()
        let longPrompt = String(repeating: "The cat sat on the mat. ", count: 120)  // > 512 tokens
        let cases: [(String, String, String, Int, String)] = [
            ("not JSON", "/v1/chat/completions", "this is not json", 400, "invalid_json"),
            ("missing messages", "/v1/chat/completions", #"{"max_tokens": 5}"#, 400, "missing_field"),
            ("messages not a list", "/v1/chat/completions", #"{"messages": {"role": "user"}}"#, 400, "invalid_type"),
            ("unknown model", "/v1/chat/completions",
             #"{"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}"#, 404, "model_not_found"),
            ("prompt over the context", "/v1/chat/completions",
             #"{"messages": [{"role": "user", "content": "\#(longPrompt)"}]}"#, 400, "context_length_exceeded"),
            ("prompt over the context (completions)", "/v1/completions", #"{"prompt": "\#(longPrompt)"}"#, 400,
             "context_length_exceeded"),
            ("negative max_tokens", "/v1/chat/completions",
             #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}"#, 400, "invalid_value"),
            ("token id outside the vocabulary", "/v1/completions", #"{"prompt": [1, 99999999]}"#, 400, "invalid_value"),
            ("empty prompt", "/v1/completions", #"{"prompt": ""}"#, 400, "invalid_value"),
            ("body too large", "/v1/completions", #"{"prompt": "\#(String(repeating: "a", count: 70_000))"}"#, 413,
             "request_too_large"),
        ]
        try await withServer(smol.served, configure: { $0.maxBodyBytes = 64 << 10 }) { server, http in
            for (name, path, body, status, code) in cases {
                let r = try await onThread { try http.post(path, body) }
                XCTAssertEqual(r.status, status, "\(name): \(r.text)")
                XCTAssertEqual(errorCode(r), code, name)
            }
            let wrongMethod = try await onThread { try http.get("/v1/chat/completions") }
            XCTAssertTrue([404, 405].contains(wrongMethod.status), "GET on a POST endpoint: \(wrongMethod.status)")
            _ = errorCode(wrongMethod)
            let ok = try await onThread { try http.post("/v1/chat/completions", self.good) }
            XCTAssertEqual(ok.status, 200, ok.text)
            XCTAssertNotNil(ok.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue)
            XCTAssertEqual(server.engine.statistics.finished, 1, "no bad request reached the engine")
        }
    }

    /// One sequence at a time and one waiting: while a long stream decodes and a second request
    /// waits, a burst gets 503; the stream's client hangs up, its sequence is cancelled, and the
    /// waiting request then completes.
    func testQueueFullGets503AndADisconnectCancels() async throws {
        let smol = try SmolLM2.shared()
        try await withServer(smol.served, configure: { $0.maxBatch = 1; $0.maxQueue = 1; $0.maxTokens = 400 }) { server, http in
            let engine = server.engine
            let stream = try http.open(
                "POST", "/v1/chat/completions",
                body: Array(#"{"messages": [{"role": "user", "content": "Write a long story about the sea."}], "max_tokens": 400, "stream": true}"#.utf8))
            let (status, headers) = try await onThread { try stream.readHead() }
            XCTAssertEqual(status, 200)
            XCTAssertEqual(headers["content-type"], "text/event-stream")
            // The role chunk, then at least one content chunk: the sequence is decoding.
            _ = try await onThread { try stream.readChunk() }
            _ = try await onThread { try stream.readChunk() }
            XCTAssertEqual(engine.statistics.active, 1)

            let waiting = Task { try await onThread { try http.post("/v1/chat/completions", self.good) } }
            let queued = await eventually(within: 30) { engine.statistics.waiting == 1 }
            XCTAssertTrue(queued, "\(engine.statistics)")
            let burst = try await withThrowingTaskGroup(of: LoopbackHTTP.Response.self) { group in
                for _ in 0..<4 { group.addTask { try await onThread { try http.post("/v1/chat/completions", self.good) } } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(burst.map(\.status), [503, 503, 503, 503], burst.map(\.text).joined(separator: "\n"))
            for r in burst { XCTAssertEqual(errorCode(r), "queue_full") }
            XCTAssertEqual(engine.statistics.rejected, 4)

            stream.close()
            let cancelled = await eventually(within: 30) { engine.statistics.cancelled == 1 }
            XCTAssertTrue(cancelled, "the stream's sequence was not cancelled: \(engine.statistics)")
            let served = try await waiting.value
            XCTAssertEqual(served.status, 200, served.text)
            let after = try await onThread { try http.post("/v1/chat/completions", self.good) }
            XCTAssertEqual(after.status, 200)
            XCTAssertEqual(engine.statistics.finished, 2)
        }
    }

    /// A connection that sends nothing, or stops half-way through its request head, is closed
    /// after the idle timeout; a request whose answer takes longer than the timeout is not cut.
    func testIdleConnectionsAreClosedButSlowAnswersAreNot() async throws {
        let smol = try SmolLM2.shared()
        try await withServer(smol.served, configure: { $0.idleTimeout = 0.5; $0.maxTokens = 200 }) { _, http in
            let clock = ContinuousClock()
            for partial in ["", "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"] {
                let start = clock.now
                let bytes = try await onThread {
                    let c = try LoopbackHTTP.Connection(port: http.port, timeout: 20)
                    if !partial.isEmpty { try c.write(Array(partial.utf8)) }
                    return try c.readToEnd()
                }
                let waited = clock.now - start
                XCTAssertTrue(bytes.isEmpty, "nothing is answered to an unfinished request: \(String(decoding: bytes, as: UTF8.self))")
                XCTAssertLessThan(waited, .seconds(10), "closed by the idle timeout, not by the client's 20 s read timeout")
            }
            let start = clock.now
            let body = #"{"messages": [{"role": "user", "content": "Write a long story about a dragon and a knight."}], "max_tokens": 120}"#
            let r = try await onThread { try http.post("/v1/chat/completions", body) }
            let took = clock.now - start
            XCTAssertEqual(r.status, 200, r.text)
            print("idle timeout 0.5 s: an answer of up to 120 tokens took \(took) and was not cut")
            XCTAssertGreaterThan(took, .milliseconds(500), "the answer must outlast the idle timeout for this test to mean anything")
        }
    }
}
