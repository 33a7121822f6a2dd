import IFTModel
import IFTServe
import XCTest

/// Request bodies: what is accepted and how, and every malformed case with its status and code.
final class CompletionRequestTests: XCTestCase {
    func parse(_ body: String, _ endpoint: Endpoint = .chat) throws(APIError) -> CompletionRequest {
        try CompletionRequest(body: Array(body.utf8), endpoint: endpoint)
    }

    /// The error `body` gets, or a failure when it parses.
    func error(_ body: String, _ endpoint: Endpoint = .chat, line: UInt = #line) -> APIError? {
        do {
            _ = try parse(body, endpoint)
            XCTFail("accepted: \(body)", line: line)
            return nil
        } catch {
            return error
        }
    }

    func testChatRequestWithEveryOption() throws {
        let r = try parse(
            """
            {"model": "m", "messages": [{"role": "developer", "content": "Be brief."},
              {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]},
              {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}],
             "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 40, "seed": -1, "stop": "\\n",
             "stream": true, "stream_options": {"include_usage": true}, "user": "ignored", "n": 1}
            """)
        XCTAssertEqual(
            r.prompt, .messages([.system("Be brief."), .user("Hi there"), .assistant("Hello."), .user("Bye")]))
        XCTAssertEqual(r.model, "m")
        XCTAssertEqual(r.maxTokens, 7)
        XCTAssertEqual(r.sampling.temperature, 0.5)
        XCTAssertEqual(r.sampling.topP, 0.9)
        XCTAssertEqual(r.sampling.topK, 40)
        XCTAssertEqual(r.sampling.seed, UInt64.max)
        XCTAssertEqual(r.stop, ["\n"])
        XCTAssertTrue(r.stream)
        XCTAssertTrue(r.includeUsage)
    }

    func testDefaultsAndNulls() throws {
        let r = try parse(#"{"messages": [{"role": "user", "content": "x"}], "model": null, "temperature": null, "stop": null}"#)
        XCTAssertNil(r.model)
        XCTAssertNil(r.maxTokens)
        XCTAssertEqual(r.sampling.temperature, 0, "greedy by default")
        XCTAssertEqual(r.stop, [])
        XCTAssertFalse(r.stream)
        XCTAssertFalse(r.includeUsage)
        let newer = try parse(#"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 9, "max_completion_tokens": 3}"#)
        XCTAssertEqual(newer.maxTokens, 3, "max_completion_tokens wins")
    }

    func testCompletionPrompts() throws {
        XCTAssertEqual(try parse(#"{"prompt": "Once", "stop": ["a", "b"]}"#, .completion).prompt, .text("Once"))
        XCTAssertEqual(try parse(#"{"prompt": ["Once"]}"#, .completion).prompt, .text("Once"))
        XCTAssertEqual(try parse(#"{"prompt": [1, 2, 3]}"#, .completion).prompt, .tokens([1, 2, 3]))
        XCTAssertEqual(try parse(#"{"prompt": "x", "stop": ["a", "b"]}"#, .completion).stop, ["a", "b"])
    }

    func testMalformedBodies() {
        let user = #"[{"role": "user", "content": "x"}]"#
        let cases: [(String, Endpoint, Int, String, String?)] = [
            ("not json", .chat, 400, "invalid_json", nil),
            (#"{"messages": "#, .chat, 400, "invalid_json", nil),
            (#"[1, 2]"#, .chat, 400, "invalid_json", nil),
            (String(repeating: "[", count: 600) + String(repeating: "]", count: 600), .chat, 400, "invalid_json", nil),
            (#"{}"#, .chat, 400, "missing_field", "messages"),
            (#"{"messages": "hello"}"#, .chat, 400, "invalid_type", "messages"),
            (#"{"messages": []}"#, .chat, 400, "invalid_value", "messages"),
            (#"{"messages": ["hi"]}"#, .chat, 400, "invalid_type", "messages[0]"),
            (#"{"messages": [{"content": "x"}]}"#, .chat, 400, "missing_field", "messages[0].role"),
            (#"{"messages": [{"role": "tool", "content": "x"}]}"#, .chat, 400, "invalid_value", "messages[0].role"),
            (#"{"messages": [{"role": "user"}]}"#, .chat, 400, "missing_field", "messages[0].content"),
            (#"{"messages": [{"role": "user", "content": 5}]}"#, .chat, 400, "invalid_type", "messages[0].content"),
            (#"{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#, .chat, 400, "invalid_value", "messages[0].content"),
            (#"{"messages": \#(user), "max_tokens": -5}"#, .chat, 400, "invalid_value", "max_tokens"),
            (#"{"messages": \#(user), "max_tokens": 0}"#, .chat, 400, "invalid_value", "max_tokens"),
            (#"{"messages": \#(user), "max_tokens": 2.5}"#, .chat, 400, "invalid_type", "max_tokens"),
            (#"{"messages": \#(user), "max_tokens": "10"}"#, .chat, 400, "invalid_type", "max_tokens"),
            (#"{"messages": \#(user), "temperature": 3}"#, .chat, 400, "invalid_value", "temperature"),
            (#"{"messages": \#(user), "temperature": "hot"}"#, .chat, 400, "invalid_type", "temperature"),
            (#"{"messages": \#(user), "top_p": 0}"#, .chat, 400, "invalid_value", "top_p"),
            (#"{"messages": \#(user), "top_k": -1}"#, .chat, 400, "invalid_value", "top_k"),
            (#"{"messages": \#(user), "seed": "x"}"#, .chat, 400, "invalid_type", "seed"),
            (#"{"messages": \#(user), "stop": 3}"#, .chat, 400, "invalid_type", "stop"),
            (#"{"messages": \#(user), "stop": ["a", 1]}"#, .chat, 400, "invalid_type", "stop"),
            (#"{"messages": \#(user), "stop": [""]}"#, .chat, 400, "invalid_value", "stop"),
            (#"{"messages": \#(user), "stream": "yes"}"#, .chat, 400, "invalid_type", "stream"),
            (#"{"messages": \#(user), "stream_options": true}"#, .chat, 400, "invalid_type", "stream_options"),
            (#"{"messages": \#(user), "n": 2}"#, .chat, 400, "invalid_value", "n"),
            (#"{"messages": \#(user), "model": 7}"#, .chat, 400, "invalid_type", "model"),
            (#"{"prompt": 5}"#, .completion, 400, "invalid_type", "prompt"),
            (#"{"prompt": ["a", "b"]}"#, .completion, 400, "invalid_value", "prompt"),
            (#"{"messages": \#(user)}"#, .completion, 400, "missing_field", "prompt"),
        ]
        for (body, endpoint, status, code, param) in cases {
            guard let e = error(body, endpoint) else { continue }
            XCTAssertEqual(e.status, status, body)
            XCTAssertEqual(e.code, code, "\(body): \(e)")
            XCTAssertEqual(e.param, param, body)
            XCTAssertEqual(e.type, "invalid_request_error")
            XCTAssertFalse(e.message.isEmpty)
        }
    }

    /// The error body is OpenAI's shape; messages name the field and what was wrong.
    func testErrorShapeAndMessages() throws {
        let e = try XCTUnwrap(error(#"{"messages": [{"role": "user", "content": "x"}], "max_tokens": -3}"#))
        XCTAssertEqual(
            e.json.description,
            #"{"error":{"message":"'max_tokens' must be at least 1, not -3","type":"invalid_request_error","param":"max_tokens","code":"invalid_value"}}"#)
        XCTAssertEqual(error(#"{"messages": "hello"}"#)?.message, "'messages' must be a list of messages, not a string")
        XCTAssertTrue(error("{oops")?.message.hasPrefix("the request body is not valid JSON (line 1, column 2") ?? false)
        XCTAssertEqual(APIError(status: 503, message: "busy").type, "server_error")
    }
}
