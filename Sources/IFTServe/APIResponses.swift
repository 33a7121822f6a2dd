#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTModel

/// Seconds since the Unix epoch (OpenAI's `created`).
func unixSeconds() -> Int { Int(time(nil)) }

/// The response bodies of OpenAI's API, as `JSONValue`s.
enum APIResponses {
    /// `GET /v1/models`: a list holding the served model.
    static func models(_ served: ServedModel) -> JSONValue {
        .object(JSONObject([("object", .string("list")), ("data", .array([model(served)]))]))
    }

    /// `GET /v1/models/{id}`.
    static func model(_ served: ServedModel) -> JSONValue {
        .object(JSONObject([
            ("id", .string(served.id)), ("object", .string("model")), ("created", .int(served.created)),
            ("owned_by", .string("ift-gpu")), ("context_length", .int(served.model.maxPositions)),
        ]))
    }

    /// `usage`: token counts of the prompt and the completion.
    static func usage(_ s: GenerationSummary) -> JSONValue {
        .object(JSONObject([
            ("prompt_tokens", .int(s.promptTokens)), ("completion_tokens", .int(s.completionTokens)),
            ("total_tokens", .int(s.promptTokens + s.completionTokens)),
        ]))
    }

    /// A whole (not streamed) response.
    static func completion(_ endpoint: Endpoint, id: String, created: Int, model: String, _ s: GenerationSummary) -> JSONValue {
        let choice: JSONObject
        switch endpoint {
        case .chat:
            choice = JSONObject([
                ("index", .int(0)),
                ("message", .object(JSONObject([("role", .string("assistant")), ("content", .string(s.text))]))),
                ("finish_reason", .string(s.finishReason)),
            ])
        case .completion:
            choice = JSONObject([
                ("index", .int(0)), ("text", .string(s.text)), ("logprobs", .null),
                ("finish_reason", .string(s.finishReason)),
            ])
        }
        return .object(JSONObject([
            ("id", .string(id)), ("object", .string(endpoint == .chat ? "chat.completion" : "text_completion")),
            ("created", .int(created)), ("model", .string(model)), ("choices", .array([.object(choice)])),
            ("usage", usage(s)),
        ]))
    }

    /// One streamed chunk. Chat: `delta` holds `role` (first chunk) and/or `content`; the last
    /// chunk has an empty delta and the finish reason. Completions: `text`. With `usage` (the
    /// closing chunk of `stream_options.include_usage`) `choices` is empty.
    static func chunk(
        _ endpoint: Endpoint, id: String, created: Int, model: String, role: Bool = false, text: String? = nil,
        finishReason: String? = nil, usage: GenerationSummary? = nil
    ) -> JSONValue {
        var choices: [JSONValue] = []
        if usage == nil {
            var choice = JSONObject([("index", .int(0))])
            switch endpoint {
            case .chat:
                var delta = JSONObject()
                if role { delta["role"] = .string("assistant") }
                if let text { delta["content"] = .string(text) }
                choice["delta"] = .object(delta)
            case .completion:
                choice["text"] = .string(text ?? "")
                choice["logprobs"] = .null
            }
            choice["finish_reason"] = finishReason.map(JSONValue.string) ?? .null
            choices = [.object(choice)]
        }
        var o = JSONObject([
            ("id", .string(id)), ("object", .string(endpoint == .chat ? "chat.completion.chunk" : "text_completion")),
            ("created", .int(created)), ("model", .string(model)), ("choices", .array(choices)),
        ])
        if let usage { o["usage"] = Self.usage(usage) }
        return .object(o)
    }

    /// A server-sent event carrying `json`.
    static func event(_ json: JSONValue) -> String { "data: " + json.description + "\n\n" }

    /// The event that ends a stream.
    static let done = "data: [DONE]\n\n"

    /// A fresh response id: `prefix` and 24 random letters and digits.
    static func newID(_ prefix: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var g = SystemRandomNumberGenerator()
        return prefix + String((0..<24).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &g)] })
    }
}
