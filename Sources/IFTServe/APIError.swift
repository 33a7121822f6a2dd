import IFTCore
import IFTModel

/// An error as OpenAI's API writes it: an HTTP status and the body
/// `{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`.
public struct APIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The HTTP status code.
    public var status: Int
    public var message: String
    /// "invalid_request_error" (4xx) or "server_error" (5xx).
    public var type: String
    /// A stable machine-readable reason, e.g. "invalid_json", "model_not_found".
    public var code: String?
    /// The request field at fault, if one is.
    public var param: String?

    public init(status: Int, message: String, type: String? = nil, code: String? = nil, param: String? = nil) {
        self.status = status
        self.message = message
        self.type = type ?? (status >= 500 ? "server_error" : "invalid_request_error")
        self.code = code
        self.param = param
    }

    public var description: String { "\(status) \(code ?? type): \(message)" }

    /// The response body.
    public var json: JSONValue {
        .object(JSONObject([
            ("error", .object(JSONObject([
                ("message", .string(message)), ("type", .string(type)),
                ("param", param.map(JSONValue.string) ?? .null), ("code", code.map(JSONValue.string) ?? .null),
            ]))),
        ]))
    }

    // MARK: The errors the server reports

    /// 400: a field has a value out of range, or the request asks for something unsupported.
    static func invalidValue(_ message: String, param: String? = nil) -> APIError {
        APIError(status: 400, message: message, code: "invalid_value", param: param)
    }

    /// 400: the body is not JSON (or not an object).
    static func invalidJSON(_ message: String) -> APIError {
        APIError(status: 400, message: message, code: "invalid_json")
    }

    /// 400: a required field is absent.
    static func missing(_ param: String) -> APIError {
        APIError(status: 400, message: "'\(param)' is required", code: "missing_field", param: param)
    }

    /// 400: a field has the wrong JSON type.
    static func wrongType(_ param: String, expected: String, got value: JSONValue) -> APIError {
        APIError(status: 400, message: "'\(param)' must be \(expected), not \(value.typeName)", code: "invalid_type", param: param)
    }

    /// 404: the request names another model than the one served.
    static func modelNotFound(_ name: String, served: String) -> APIError {
        APIError(
            status: 404, message: "the model '\(name)' does not exist; this server serves '\(served)'",
            code: "model_not_found", param: "model")
    }

    /// 400: the prompt does not fit the model's context.
    static func contextLengthExceeded(tokens: Int, context: Int) -> APIError {
        APIError(
            status: 400,
            message: "the prompt has \(tokens) tokens; the model's context is \(context) tokens "
                + "(prompt and completion together)",
            code: "context_length_exceeded", param: "messages")
    }

    /// 413: the body is larger than the server accepts.
    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: 413, message: "the request body is larger than \(limit) bytes", code: "request_too_large")
    }

    /// 503: too many requests are waiting.
    static func busy(_ why: String) -> APIError {
        APIError(status: 503, message: why, code: "queue_full")
    }

    /// 500: the engine could not run the request.
    static func server(_ message: String) -> APIError {
        APIError(status: 500, message: message, code: "server_error")
    }
}
