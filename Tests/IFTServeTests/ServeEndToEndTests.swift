import Foundation
import IFTModel
import IFTServe
import XCTest

/// The server end to end on loopback with the real SmolLM2-135M-Instruct on the cpu backend: no
/// mocks, real sockets, the engine's own thread.
final class ServeEndToEndTests: XCTestCase {
    func chatBody(_ question: String = SmolLM2.question, maxTokens: Int = SmolLM2.maxTokens, extra: String = "") -> String {
        #"{"model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": \#(JSONValue.string(question))}], "max_tokens": \#(maxTokens)\#(extra)}"#
    }

    func testModelsHealthAndUnknownPaths() async throws {
        let smol = try SmolLM2.shared()
        try await withServer(smol.served) { _, http in
            let models = try await onThread { try http.get("/v1/models") }
            XCTAssertEqual(models.status, 200)
            XCTAssertEqual(models.headers["content-type"], "application/json")
            let list = try XCTUnwrap(models.json)
            XCTAssertEqual(list["object"], .string("list"))
            XCTAssertEqual(list["data"]?.arrayValue?.count, 1)
            XCTAssertEqual(list["data"]?.arrayValue?.first?["id"], .string("smollm2-135m-instruct"))
            XCTAssertEqual(list["data"]?.arrayValue?.first?["object"], .string("model"))
            let one = try await onThread { try http.get("/v1/models/smollm2-135m-instruct") }
            XCTAssertEqual(one.json?["id"], .string("smollm2-135m-instruct"))
            let other = try await onThread { try http.get("/v1/models/gpt-4") }
            XCTAssertEqual(other.status, 404)
            XCTAssertEqual(other.json?["error"]?["code"], .string("model_not_found"))
            let health = try await onThread { try http.get("/health") }
            XCTAssertEqual(health.json?["status"], .string("ok"))
            let nowhere = try await onThread { try http.get("/v2/nothing") }
            XCTAssertEqual(nowhere.status, 404)
            XCTAssertEqual(nowhere.json?["error"]?["type"], .string("invalid_request_error"))
        }
    }

    /// Greedy chat completion: Paris, and exactly what `Generator.generate` gives on the same
    /// rendered prompt; usage counts the same tokens.
    func testChatCompletionEqualsTheGenerator() async throws {
        let smol = try SmolLM2.shared()
        XCTAssertTrue(smol.reference.text.contains("Paris"), smol.reference.text)
        try await withServer(smol.served) { _, http in
            let r = try await onThread { try http.post("/v1/chat/completions", self.chatBody()) }
            XCTAssertEqual(r.status, 200, r.text)
            let json = try XCTUnwrap(r.json, r.text)
            XCTAssertEqual(json["object"], .string("chat.completion"))
            XCTAssertTrue(json["id"]?.stringValue?.hasPrefix("chatcmpl-") ?? false)
            XCTAssertEqual(json["model"], .string("smollm2-135m-instruct"))
            XCTAssertNotNil(json["created"]?.intValue)
            let choice = try XCTUnwrap(json["choices"]?.arrayValue?.first)
            XCTAssertEqual(choice["message"]?["role"], .string("assistant"))
            let content = try XCTUnwrap(choice["message"]?["content"]?.stringValue)
            XCTAssertTrue(content.contains("Paris"), content)
            XCTAssertEqual(content, smol.reference.text)
            XCTAssertEqual(choice["finish_reason"], .string(smol.reference.stopReason == "length" ? "length" : "stop"))
            XCTAssertEqual(json["usage"]?["prompt_tokens"], .int(smol.promptTokens.count))
            XCTAssertEqual(json["usage"]?["completion_tokens"], .int(smol.reference.tokens.count))
            XCTAssertEqual(json["usage"]?["total_tokens"], .int(smol.promptTokens.count + smol.reference.tokens.count))

            // The completions endpoint on the rendered prompt gives the same text; a stop string cuts it.
            let prompt = JSONValue.string(smol.prompt)
            let c = try await onThread { try http.post("/v1/completions", #"{"prompt": \#(prompt), "max_tokens": 32}"#) }
            XCTAssertEqual(c.json?["object"], .string("text_completion"))
            XCTAssertEqual(c.json?["choices"]?.arrayValue?.first?["text"], .string(smol.reference.text))
            let cut = try await onThread { try http.post("/v1/completions", #"{"prompt": \#(prompt), "stop": ["Paris"]}"#) }
            let cutText = try XCTUnwrap(cut.json?["choices"]?.arrayValue?.first?["text"]?.stringValue, cut.text)
            XCTAssertTrue(smol.reference.text.hasPrefix(cutText) && !cutText.contains("Paris"), cutText)
            XCTAssertEqual(cut.json?["choices"]?.arrayValue?.first?["finish_reason"], .string("stop"))
        }
    }

    /// `stream: true`: server-sent events whose deltas add up to the same text, ending with [DONE].
    func testStreamingGivesTheSameTextInChunks() async throws {
        let smol = try SmolLM2.shared()
        try await withServer(smol.served) { _, http in
            let body = self.chatBody(extra: #", "stream": true, "stream_options": {"include_usage": true}"#)
            let r = try await onThread { try http.post("/v1/chat/completions", body) }
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.headers["content-type"], "text/event-stream")
            let events = sseData(r.text)
            XCTAssertEqual(events.last, "[DONE]")
            let chunks = try events.dropLast().map { try JSONValue.parse($0) }
            XCTAssertTrue(chunks.allSatisfy { $0["object"] == .string("chat.completion.chunk") })
            XCTAssertEqual(Set(chunks.compactMap { $0["id"]?.stringValue }).count, 1, "one id for the whole stream")
            let deltas = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"] }
            XCTAssertEqual(deltas.first?["role"], .string("assistant"))
            let pieces = deltas.compactMap { $0["content"]?.stringValue }.filter { !$0.isEmpty }
            XCTAssertGreaterThan(pieces.count, 2, "the text comes in several chunks")
            XCTAssertEqual(pieces.joined(), smol.reference.text)
            let finish = chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
            XCTAssertEqual(finish, [smol.reference.stopReason == "length" ? "length" : "stop"])
            XCTAssertEqual(chunks.last?["usage"]?["completion_tokens"], .int(smol.reference.tokens.count))

            let plain = try await onThread {
                try http.post("/v1/completions", #"{"prompt": \#(JSONValue.string(smol.prompt)), "max_tokens": 32, "stream": true}"#)
            }
            let texts = try sseData(plain.text).dropLast().map { try JSONValue.parse($0)["choices"]?.arrayValue?.first?["text"]?.stringValue ?? "" }
            XCTAssertEqual(texts.joined(), smol.reference.text)
        }
    }

    /// 8 requests at once all succeed, decoded together; the France question still gets the
    /// reference answer from within the batch.
    func testConcurrentRequestsAreBatched() async throws {
        let smol = try SmolLM2.shared()
        let questions = [
            SmolLM2.question, "Name a color.", "What is 2 + 2?", "Say hello.", "Name a fruit.", "What is water made of?",
            "Name a planet.", "Count to three.",
        ]
        try await withServer(smol.served, configure: { $0.maxBatch = 8 }) { server, http in
            let results = try await withThrowingTaskGroup(of: (Int, LoopbackHTTP.Response).self) { group in
                for (i, q) in questions.enumerated() {
                    let body = self.chatBody(q, maxTokens: i == 0 ? SmolLM2.maxTokens : 12)
                    group.addTask { (i, try await onThread { try http.post("/v1/chat/completions", body) }) }
                }
                var out: [Int: LoopbackHTTP.Response] = [:]
                for try await (i, r) in group { out[i] = r }
                return out
            }
            for (i, r) in results.sorted(by: { $0.key < $1.key }) {
                XCTAssertEqual(r.status, 200, "\(questions[i]): \(r.text)")
                let text = r.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? ""
                XCTAssertFalse(text.isEmpty, questions[i])
            }
            XCTAssertEqual(results[0]?.json?["choices"]?.arrayValue?.first?["message"]?["content"], .string(smol.reference.text))
            let stats = server.engine.statistics
            XCTAssertGreaterThan(stats.peakActive, 1, "\(stats)")
            XCTAssertGreaterThan(stats.batchedSteps, 0, "\(stats)")
            XCTAssertEqual(stats.finished, questions.count)
        }
    }
}
