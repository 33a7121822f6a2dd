import IFTCore
import IFTModel

/// The two generation endpoints.
public enum Endpoint: Sendable {
    /// `POST /v1/chat/completions`: `messages`, answered with `message` / `delta`.
    case chat
    /// `POST /v1/completions`: `prompt`, answered with `text`.
    case completion
}

/// A completion request's body, checked: the prompt and the generation options of OpenAI's API
/// that this server honours. Unknown fields are ignored (clients send many); known ones with a
/// wrong type or value are errors.
public struct CompletionRequest: Sendable {
    /// What to continue.
    public enum Prompt: Sendable, Equatable {
        /// A conversation, rendered with the model's chat template.
        case messages([ChatMessage])
        /// Raw text.
        case text(String)
        /// Token ids.
        case tokens([Int32])
    }

    public var prompt: Prompt
    /// The model the client named (nil: the served one).
    public var model: String?
    /// `max_completion_tokens` or `max_tokens` (at least 1); nil: the server's default.
    public var maxTokens: Int?
    /// `temperature` (0 greedy, up to 2; default 0 here, unlike OpenAI's 1, so that results are
    /// reproducible), `top_p` (in (0, 1]), `top_k` (an extension; 0 = all) and `seed`.
    public var sampling: SamplingOptions
    /// `stop`: a string or a list of strings; generation ends before the first one, which is cut.
    public var stop: [String]
    /// `stream`: answer with server-sent events.
    public var stream: Bool
    /// `stream_options.include_usage`: a last chunk with the token counts.
    public var includeUsage: Bool

    /// Roles a message may have; "developer" (OpenAI's newer name) is taken as "system".
    public static let roles: Set<String> = ["system", "user", "assistant", "developer"]

    /// Parses a request body for `endpoint`.
    public init(body: [UInt8], endpoint: Endpoint) throws(APIError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(body, path: "request body")
        } catch let IFTError.file(_, location, message) {
            throw .invalidJSON("the request body is not valid JSON (\(location): \(message))")
        } catch {
            throw .invalidJSON("the request body is not valid JSON (\(error))")
        }
        guard let object = json.objectValue else {
            throw .invalidJSON("the request body must be a JSON object, not \(json.typeName)")
        }
        try self.init(object: object, endpoint: endpoint)
    }

    /// Checks an already parsed body.
    public init(object: JSONObject, endpoint: Endpoint) throws(APIError) {
        let f = Fields(object: object)
        switch endpoint {
        case .chat: prompt = .messages(try Self.messages(f))
        case .completion: prompt = try Self.prompt(f)
        }
        model = try f.string("model")
        if let n = try f.int("n"), n != 1 { throw .invalidValue("'n' must be 1 (one choice per request)", param: "n") }
        maxTokens = nil
        for name in ["max_tokens", "max_completion_tokens"] {
            guard let value = try f.int(name) else { continue }
            guard value >= 1 else { throw .invalidValue("'\(name)' must be at least 1, not \(value)", param: name) }
            maxTokens = value  // max_completion_tokens (OpenAI's newer name) wins when both are given
        }
        sampling = SamplingOptions()
        if let t = try f.number("temperature") {
            guard t >= 0 && t <= 2 else { throw .invalidValue("'temperature' must be between 0 and 2, not \(t)", param: "temperature") }
            sampling.temperature = Float(t)
        }
        if let p = try f.number("top_p") {
            guard p > 0 && p <= 1 else { throw .invalidValue("'top_p' must be in (0, 1], not \(p)", param: "top_p") }
            sampling.topP = Float(p)
        }
        if let k = try f.int("top_k") {
            guard k >= 0 else { throw .invalidValue("'top_k' must be >= 0, not \(k)", param: "top_k") }
            sampling.topK = k
        }
        if let seed = try f.int("seed") { sampling.seed = UInt64(bitPattern: Int64(seed)) }
        stop = try Self.stopStrings(f)
        stream = try f.bool("stream") ?? false
        includeUsage = false
        if let options = f.value("stream_options") {
            guard let o = options.objectValue else {
                throw .wrongType("stream_options", expected: "an object", got: options)
            }
            includeUsage = try Fields(object: o, prefix: "stream_options.").bool("include_usage") ?? false
        }
    }

    private static func messages(_ f: Fields) throws(APIError) -> [ChatMessage] {
        guard let value = f.value("messages") else { throw .missing("messages") }
        guard let list = value.arrayValue else { throw .wrongType("messages", expected: "a list of messages", got: value) }
        guard !list.isEmpty else { throw .invalidValue("'messages' must hold at least one message", param: "messages") }
        var out: [ChatMessage] = []
        for (i, item) in list.enumerated() {
            let name = "messages[\(i)]"
            guard let o = item.objectValue else { throw .wrongType(name, expected: "an object", got: item) }
            let m = Fields(object: o, prefix: name + ".")
            guard let role = try m.string("role") else { throw .missing(name + ".role") }
            guard roles.contains(role) else {
                throw .invalidValue(
                    "'\(name).role' must be system, user or assistant, not '\(role)'", param: name + ".role")
            }
            out.append(ChatMessage(role: role == "developer" ? "system" : role, content: try content(m, name)))
        }
        return out
    }

    /// A message's content: a string, or a list of text parts (`{"type": "text", "text": ...}`).
    private static func content(_ m: Fields, _ name: String) throws(APIError) -> String {
        let param = name + ".content"
        guard let value = m.value("content") else { throw .missing(param) }
        if let s = value.stringValue { return s }
        guard let parts = value.arrayValue else {
            throw .wrongType(param, expected: "a string or a list of text parts", got: value)
        }
        var text = ""
        for (j, part) in parts.enumerated() {
            guard let o = part.objectValue, o["type"]?.stringValue == "text", let t = o["text"]?.stringValue else {
                throw .invalidValue("'\(param)[\(j)]' must be a text part ({\"type\": \"text\", \"text\": ...})", param: param)
            }
            text += t
        }
        return text
    }

    /// `prompt`: a string, a list of one string, or a list of token ids.
    private static func prompt(_ f: Fields) throws(APIError) -> Prompt {
        guard let value = f.value("prompt") else { throw .missing("prompt") }
        if let s = value.stringValue { return .text(s) }
        guard let list = value.arrayValue else {
            throw .wrongType("prompt", expected: "a string or a list of token ids", got: value)
        }
        if list.count == 1, let s = list[0].stringValue { return .text(s) }
        var ids: [Int32] = []
        for v in list {
            guard let i = v.intValue, let id = Int32(exactly: i) else {
                throw .invalidValue("'prompt' must be one string or a list of token ids (one prompt per request)", param: "prompt")
            }
            ids.append(id)
        }
        return .tokens(ids)
    }

    private static func stopStrings(_ f: Fields) throws(APIError) -> [String] {
        guard let value = f.value("stop") else { return [] }
        let list: [String]
        if let s = value.stringValue {
            list = [s]
        } else if let a = value.arrayValue, a.allSatisfy({ $0.stringValue != nil }) {
            list = a.compactMap(\.stringValue)
        } else {
            throw .wrongType("stop", expected: "a string or a list of strings", got: value)
        }
        guard !list.contains("") else { throw .invalidValue("'stop' strings must not be empty", param: "stop") }
        return list
    }
}

/// Typed access to a JSON object's members; a member that is absent or `null` reads as nil.
struct Fields {
    let object: JSONObject
    /// Written before member names in errors (e.g. "messages[2].").
    var prefix = ""

    func value(_ key: String) -> JSONValue? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    func string(_ key: String) throws(APIError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw .wrongType(prefix + key, expected: "a string", got: v) }
        return s
    }

    func int(_ key: String) throws(APIError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue else { throw .wrongType(prefix + key, expected: "an integer", got: v) }
        return i
    }

    func number(_ key: String) throws(APIError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue, d.isFinite else { throw .wrongType(prefix + key, expected: "a number", got: v) }
        return d
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolValue else { throw .wrongType(prefix + key, expected: "true or false", got: v) }
        return b
    }
}
