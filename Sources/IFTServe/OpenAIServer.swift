import Hummingbird
import IFTCore
import IFTModel
import Logging
import NIOCore

/// How a server listens and how much it takes on.
public struct ServerConfiguration: Sendable {
    /// The address to bind (loopback by default).
    public var host = "127.0.0.1"
    /// The port; 0 takes any free one (the bound port is passed to `onListening`).
    public var port = 8080
    /// Most sequences decoded together.
    public var maxBatch = 16
    /// Most requests waiting for a place in the batch; more are answered 503.
    public var maxQueue = 64
    /// Tokens generated when a request gives no `max_tokens`, and the most one may ask for (more
    /// is lowered to this; `finish_reason` "length" tells the client).
    public var maxTokens = 512
    /// Largest request body accepted; larger ones are answered 413.
    public var maxBodyBytes = 4 << 20
    /// Seconds a connection may stay idle (no request, or a request that stops arriving) before
    /// it is closed, so stalled clients cannot hold connections and file handles forever; a
    /// request being answered is never cut. nil: no limit.
    public var idleTimeout: Double? = 60

    public init() {}
}

/// An OpenAI-compatible HTTP server for one model: `GET /v1/models`, `GET /v1/models/{id}`,
/// `POST /v1/chat/completions`, `POST /v1/completions` (streamed as server-sent events with
/// `"stream": true`) and `GET /health`. Every request is decoded by one shared
/// `GenerationEngine`, so concurrent requests are batched. Errors are OpenAI-style JSON
/// (`APIError`); a bad request never stops the server.
public struct OpenAIServer: Sendable {
    public let served: ServedModel
    public let configuration: ServerConfiguration
    /// The engine every request goes through (its `statistics` tell how requests were batched).
    public let engine: GenerationEngine

    public init(served: ServedModel, configuration: ServerConfiguration) {
        self.served = served
        self.configuration = configuration
        engine = GenerationEngine(
            model: served.model, tokenizer: served.tokenizer, stopTokens: served.stopTokens,
            maxBatch: configuration.maxBatch, maxQueue: configuration.maxQueue)
    }

    /// The Hummingbird application: the routes, with the engine as a service that starts with it
    /// and stops after the HTTP server at graceful shutdown. `onListening(host, port)` is called
    /// once the socket is bound. `logger` defaults to warnings and errors on standard error.
    public func makeApplication(
        logger: Logger? = nil, onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware())
        let api = Handlers(served: served, engine: engine, configuration: configuration)
        router.get("/v1/models") { _, _ in jsonResponse(APIResponses.models(api.served)) }
        router.get("/v1/models/{id}") { _, context in
            // Ids with a slash (e.g. a path) are matched by the list endpoint only.
            guard context.parameters.get("id") == api.served.id else {
                throw APIError.modelNotFound(context.parameters.get("id") ?? "", served: api.served.id)
            }
            return jsonResponse(APIResponses.model(api.served))
        }
        router.post("/v1/chat/completions") { request, _ in try await api.complete(request, .chat) }
        router.post("/v1/completions") { request, _ in try await api.complete(request, .completion) }
        router.get("/health") { _, _ in jsonResponse(api.health()) }
        var log = logger ?? Logger(label: "ift-gpu.serve") { StreamLogHandler.standardError(label: $0) }
        if logger == nil { log.logLevel = .warning }
        let host = configuration.host
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: configuration.idleTimeout.map { .milliseconds(Int64($0 * 1000)) })),
            configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port), serverName: "ift-gpu"),
            services: [engine],
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: log)
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in progress and returns.
    public func run(onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws {
        try await makeApplication(onListening: onListening).runService()
    }
}

/// A JSON response.
func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: value.description)))
}

/// Turns every error into OpenAI-style JSON: `APIError`s as they are, Hummingbird's own (unknown
/// path 404, wrong method 405, ...) with their status, anything else as 500.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return jsonResponse(error.json, status: .init(code: error.status))
        } catch let error as any HTTPResponseError {
            let status = error.status
            let message = status == .notFound ? "no such endpoint: \(request.method) \(request.uri.path)" : status.reasonPhrase
            return jsonResponse(APIError(status: status.code, message: message).json, status: status)
        } catch {
            return jsonResponse(APIError.server("\(error)").json, status: .internalServerError)
        }
    }
}

/// The request handlers.
struct Handlers: Sendable {
    let served: ServedModel
    let engine: GenerationEngine
    let configuration: ServerConfiguration

    /// `GET /health`: the model id and the engine's counters.
    func health() -> JSONValue {
        let s = engine.statistics
        return .object(JSONObject([
            ("status", .string("ok")), ("model", .string(served.id)), ("max_batch", .int(engine.maxBatch)),
            ("max_queue", .int(engine.maxQueue)), ("waiting", .int(s.waiting)), ("active", .int(s.active)),
            ("peak_active", .int(s.peakActive)), ("steps", .int(s.steps)), ("batched_steps", .int(s.batchedSteps)),
            ("finished", .int(s.finished)), ("cancelled", .int(s.cancelled)), ("failed", .int(s.failed)),
            ("rejected", .int(s.rejected)),
        ]))
    }

    /// `POST /v1/chat/completions` and `POST /v1/completions`.
    func complete(_ request: Request, _ endpoint: Endpoint) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: configuration.maxBodyBytes)
        }
        let parsed = try CompletionRequest(body: Array(body.readableBytesView), endpoint: endpoint)
        if let name = parsed.model, name != served.id { throw APIError.modelNotFound(name, served: served.id) }
        let generation = try generationRequest(parsed)
        let submission: Submission
        do {
            submission = try engine.submit(generation)
        } catch {
            throw APIError.busy(error.description)
        }
        let id = APIResponses.newID(endpoint == .chat ? "chatcmpl-" : "cmpl-")
        let created = unixSeconds()
        if parsed.stream {
            return streamResponse(submission, endpoint, id: id, created: created, includeUsage: parsed.includeUsage)
        }
        return try await withTaskCancellationHandler {
            for await event in submission.events {
                switch event {
                case .text: continue
                case .finished(let s): return jsonResponse(APIResponses.completion(endpoint, id: id, created: created, model: served.id, s))
                case .failed(let message): throw APIError.server(message)
                }
            }
            throw APIError.server("the request ended without a result")
        } onCancel: {
            engine.cancel(submission.id)
        }
    }

    /// The prompt as tokens, checked against the context, with the generation options.
    func generationRequest(_ r: CompletionRequest) throws(APIError) -> GenerationRequest {
        let tokens: [Int32]
        switch r.prompt {
        case .messages(let messages):
            do {
                tokens = served.encode(try served.chatPrompt(messages))
            } catch {
                throw .invalidValue("the chat template could not render the messages: \(error)", param: "messages")
            }
        case .text(let text): tokens = served.encode(text)
        case .tokens(let ids): tokens = ids
        }
        let context = engine.contextLength
        guard tokens.count < context else { throw .contextLengthExceeded(tokens: tokens.count, context: context) }
        let maxTokens = min(r.maxTokens ?? configuration.maxTokens, configuration.maxTokens)
        let request = GenerationRequest(prompt: tokens, maxTokens: maxTokens, sampling: r.sampling, stop: r.stop)
        do {
            try engine.validate(request)
        } catch let IFTError.invalidArgument(why) {
            throw .invalidValue(why, param: r.prompt.isMessages ? "messages" : "prompt")
        } catch {
            throw .invalidValue("\(error)")
        }
        return request
    }

    /// Server-sent events: a chunk per piece of text, a last chunk with the finish reason (and one
    /// with the usage when asked), then `[DONE]`. If the client goes away, writing fails and the
    /// request's sequence is cancelled.
    func streamResponse(_ submission: Submission, _ endpoint: Endpoint, id: String, created: Int, includeUsage: Bool) -> Response {
        let model = served.id
        let engine = engine
        let body = ResponseBody { writer in
            var completed = false
            defer { if !completed { engine.cancel(submission.id) } }
            func send(_ text: String) async throws { try await writer.write(ByteBuffer(string: text)) }
            func chunk(role: Bool = false, text: String? = nil, finish: String? = nil, usage: GenerationSummary? = nil) -> String {
                APIResponses.event(APIResponses.chunk(
                    endpoint, id: id, created: created, model: model, role: role, text: text, finishReason: finish, usage: usage))
            }
            if endpoint == .chat { try await send(chunk(role: true, text: "")) }
            for await event in submission.events {
                switch event {
                case .text(let text): try await send(chunk(text: text))
                case .finished(let s):
                    try await send(chunk(finish: s.finishReason))
                    if includeUsage { try await send(chunk(usage: s)) }
                case .failed(let message): try await send(APIResponses.event(APIError.server(message).json))
                }
            }
            completed = true
            try await send(APIResponses.done)
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

extension CompletionRequest.Prompt {
    var isMessages: Bool { if case .messages = self { return true }; return false }
}
