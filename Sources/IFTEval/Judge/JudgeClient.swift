#if canImport(Glibc)
import Glibc
#endif
import IFTCore
import IFTHub
import IFTModel

/// An LLM judge behind an HTTP API: any OpenAI-compatible `/v1/chat/completions` endpoint (such
/// as `ift-gpu serve`, vLLM, llama.cpp's server, OpenAI) or Ollama's `/api/chat`. Requests use
/// temperature 0; each has a time limit and is retried with exponential backoff on transport
/// errors, 429 and 5xx; many run at once, up to `concurrency`.
public struct JudgeClient: Sendable {
    public enum API: String, Sendable, CaseIterable {
        case openai
        case ollama
    }

    /// The endpoint's base URL: `http://host:port/v1` for OpenAI-compatible servers (the
    /// `/chat/completions` path is appended), `http://host:11434` for Ollama (`/api/chat`).
    public var baseURL: String
    public var model: String
    public var api: API
    /// Sent as `Authorization: Bearer ...` when set.
    public var apiKey: String?
    public var timeoutSeconds = 120
    /// Tries per request (the first and the retries).
    public var attempts = 3
    /// Seconds before the first retry (doubled each time).
    public var backoffSeconds = 1.0
    public var concurrency = 4
    public var maxTokens = 512

    public init(baseURL: String, model: String, api: API = .openai, apiKey: String? = nil) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.model = model
        self.api = api
        self.apiKey = apiKey
    }

    /// A failed judgement: the endpoint could not be reached or answered an error.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    var endpoint: String { api == .openai ? baseURL + "/chat/completions" : baseURL + "/api/chat" }

    /// The request body for one conversation.
    func body(system: String?, user: String) -> [UInt8] {
        var messages: [JSONValue] = []
        if let system, !system.isEmpty {
            messages.append(.object(JSONObject([("role", .string("system")), ("content", .string(system))])))
        }
        messages.append(.object(JSONObject([("role", .string("user")), ("content", .string(user))])))
        var o = JSONObject([("model", .string(model)), ("messages", .array(messages)), ("stream", .bool(false))])
        switch api {
        case .openai:
            o["temperature"] = .double(0)
            o["max_tokens"] = .int(maxTokens)
        case .ollama:
            o["options"] = .object(JSONObject([("temperature", .double(0)), ("num_predict", .int(maxTokens))]))
        }
        return Array(JSONValue.object(o).description.utf8)
    }

    /// The JSON of a response body; an error status or a body that is not JSON is a `Failure`.
    func replyJSON(_ response: HTTP.Response, url: String) throws -> JSONValue {
        let json: JSONValue
        do { json = try JSONValue.parse(response.body, path: url) } catch {
            throw Failure(description: "HTTP \(response.status) with a body that is not JSON: \(response.text.prefix(200))")
        }
        guard (200..<300).contains(response.status) else {
            let message = json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue ?? response.text
            throw Failure(description: "HTTP \(response.status): \(message.prefix(300))")
        }
        return json
    }

    /// The reply text of a response body.
    func replyText(_ response: HTTP.Response) throws -> String {
        let json = try replyJSON(response, url: endpoint)
        let content = api == .openai
            ? json["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
            : json["message"]?["content"]?.stringValue
        guard let content else { throw Failure(description: "the reply has no message content: \(response.text.prefix(200))") }
        return content
    }

    /// One judgement: the judge's reply to `user` (after `system`), retried as configured.
    public func complete(system: String? = nil, user: String) -> Result<String, Failure> {
        send(endpoint, payload: body(system: system, user: user)) { try replyText($0) }
    }

    /// POSTs the JSON `body` to `path` under `baseURL` (e.g. "/completions") with this client's
    /// headers, time limit and retries; the parsed JSON of a 2xx reply, else the failure. For
    /// requests other than a judgement (e.g. data generation through `/v1/completions`).
    public func post(_ path: String, body: JSONValue) -> Result<JSONValue, Failure> {
        let url = baseURL + path
        return send(url, payload: Array(body.description.utf8)) { try replyJSON($0, url: url) }
    }

    /// Sends `payload` to `url`, retrying transport errors, 429 and 5xx with exponential backoff;
    /// `parse` turns a response into the result (throwing a `Failure` for an error reply).
    func send<T>(_ url: String, payload: [UInt8], parse: (HTTP.Response) throws -> T) -> Result<T, Failure> {
        var headers = ["Content-Type: application/json"]
        if let apiKey, !apiKey.isEmpty { headers.append("Authorization: Bearer \(apiKey)") }
        var wait = backoffSeconds
        var last = Failure(description: "no attempt was made")
        for attempt in 1...max(1, attempts) {
            do {
                let response = try HTTP.request(url, headers: headers, body: payload, timeoutSeconds: timeoutSeconds)
                let retryable = response.status == 429 || response.status >= 500
                do { return .success(try parse(response)) } catch let f as Failure {
                    last = f
                    if !retryable { return .failure(f) }
                } catch {
                    return .failure(Failure(description: "\(error)"))
                }
            } catch {
                last = Failure(description: "\(error)")
            }
            if attempt < attempts {
                usleep(UInt32(min(wait, 60) * 1_000_000))
                wait *= 2
            }
        }
        return .failure(Failure(description: "\(last.description) (after \(attempts) attempts)"))
    }

    /// Every judgement of `prompts`, `concurrency` at a time, in order; `onDone(n)` is called
    /// (one call at a time) with the number finished so far, e.g. for a progress bar.
    public func completeAll(
        _ prompts: [(system: String?, user: String)], onDone: (Int) -> Void = { _ in }
    ) -> [Result<String, Failure>] {
        let lock = Lock()
        var done = 0
        return (try? WorkerThreads.map(prompts.count, workers: concurrency) { i -> Result<String, Failure> in
            let r = complete(system: prompts[i].system, user: prompts[i].user)
            lock.withLock {
                done += 1
                onDone(done)
            }
            return r
        }) ?? []
    }

    /// `post(path, body:)` for every body, `concurrency` at a time, in order; `onDone(n)` as in
    /// `completeAll`.
    public func postAll(_ path: String, bodies: [JSONValue], onDone: (Int) -> Void = { _ in }) -> [Result<JSONValue, Failure>] {
        let lock = Lock()
        var done = 0
        return (try? WorkerThreads.map(bodies.count, workers: concurrency) { i -> Result<JSONValue, Failure> in
            let r = post(path, body: bodies[i])
            lock.withLock {
                done += 1
                onDone(done)
            }
            return r
        }) ?? []
    }
}
