import IFTCore
import IFTEval
import IFTModel

/// What to generate from: raw text (special tokens written in it, such as `<|im_start|>`, are
/// recognized; no chat template is applied: Magpie's pre-query template), or a conversation that
/// the model's chat template renders with the assistant's turn opened, optionally followed by the
/// start of the assistant's answer (`assistantPrefix`, e.g. "Input:" to steer a format).
public enum SynthPrompt: Sendable, Equatable {
    case text(String)
    case chat([ChatMessage], assistantPrefix: String)
}

/// One generation: the prompt, the token limit, the sampling settings (with their seed) and stop
/// strings (cut from the text).
public struct SynthRequest: Sendable {
    public var prompt: SynthPrompt
    public var maxTokens: Int
    public var sampling: SamplingOptions
    public var stop: [String]

    public init(prompt: SynthPrompt, maxTokens: Int, sampling: SamplingOptions, stop: [String] = []) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
    }
}

/// A generated text and whether it ended by itself (an end-of-turn/end-of-text token or a stop
/// string) rather than at the token limit.
public struct SynthCompletion: Sendable, Equatable {
    public var text: String
    public var finished: Bool

    public init(text: String, finished: Bool) {
        self.text = text
        self.finished = finished
    }
}

/// Why one generation produced nothing (an endpoint that failed or answered nonsense).
public struct SynthFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Something that writes text: the local engine (`LocalGenerator`) or an OpenAI-compatible
/// endpoint (`EndpointGenerator`). Data-generation methods see only this.
public protocol TextGenerator {
    /// For provenance, e.g. "ift-gpu smollm2-135m-instruct (cpu)" or "openai http://host/v1 gpt-4o-mini".
    var name: String { get }
    /// The chat template of the model behind it, when known (needed for Magpie's pre-query
    /// template and for `assistantPrefix` prompts).
    var chatTemplate: ChatTemplateRenderer? { get }
    /// Every request's completion, in order; one failure does not stop the others. `onDone(n)` is
    /// called with the number finished so far. Throws only for a request that can never run (e.g.
    /// a prompt longer than the model's context).
    func generate(_ requests: [SynthRequest], onDone: (Int) -> Void) throws -> [Result<SynthCompletion, SynthFailure>]
}

/// A chat template with the special-token values it renders with.
public struct ChatTemplateRenderer: Sendable {
    public let template: ChatTemplate
    public let bosToken: String
    public let eosToken: String

    public init(template: ChatTemplate, bosToken: String = "", eosToken: String = "") {
        self.template = template
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// The template and BOS/EOS spellings of a tokenizer (nil when it has no template).
    public init?(tokenizer: Tokenizer, name: String = "tokenizer.chat_template") throws {
        guard let source = tokenizer.chatTemplate else { return nil }
        template = try ChatTemplate(source: source, name: name)
        bosToken = tokenizer.bosID.flatMap { tokenizer.token(forID: $0) } ?? ""
        eosToken = tokenizer.eosID.flatMap { tokenizer.token(forID: $0) } ?? ""
    }

    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
    }

    /// The text of a `SynthPrompt.chat` prompt: the conversation with the assistant's turn opened,
    /// then the prefix.
    public func prompt(_ messages: [ChatMessage], assistantPrefix: String) throws -> String {
        try render(messages, addGenerationPrompt: true) + assistantPrefix
    }
}

/// The local engine: batched generation (`BatchGenerator`, continuous batching) on any backend,
/// stopping at the model's end-of-text and its chat template's end-of-turn tokens.
public struct LocalGenerator: TextGenerator {
    public let name: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    public let chatTemplate: ChatTemplateRenderer?
    public var maxBatch: Int

    public init(model: LlamaModel, tokenizer: Tokenizer, name: String, maxBatch: Int = 32) throws {
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.maxBatch = maxBatch
        chatTemplate = try ChatTemplateRenderer(tokenizer: tokenizer, name: "\(name): tokenizer.chat_template")
    }

    /// The prompt's text.
    func text(_ prompt: SynthPrompt) throws -> String {
        switch prompt {
        case .text(let t): return t
        case .chat(let messages, let prefix):
            guard let chatTemplate else { throw IFTError.invalidArgument("\(name) has no chat template") }
            return try chatTemplate.prompt(messages, assistantPrefix: prefix)
        }
    }

    public func generate(_ requests: [SynthRequest], onDone: (Int) -> Void) throws -> [Result<SynthCompletion, SynthFailure>] {
        var generator = BatchGenerator(model: model, tokenizer: tokenizer, maxBatch: maxBatch)
        generator.additionalStopTokens = tokenizer.endOfTurnIDs
        if let eot = tokenizer.id(forToken: "<|endoftext|>") { generator.additionalStopTokens.insert(eot) }
        let batch = try requests.map { r in
            GenerationRequest(
                prompt: tokenizer.encode(try text(r.prompt), parseSpecial: true), maxTokens: r.maxTokens, sampling: r.sampling,
                stop: r.stop)
        }
        var done = 0
        let results = try generator.generate(batch) { _, _ in
            done += 1
            onDone(done)
        }
        return results.map { .success(SynthCompletion(text: $0.text, finished: $0.stopReason != "length")) }
    }
}

/// Any OpenAI-compatible endpoint (`ift-gpu serve`, vLLM, llama.cpp's server, OpenAI): raw text
/// prompts go to `/completions`, conversations to `/chat/completions` (or, with an assistant
/// prefix and a known chat template, rendered and sent to `/completions`). Transport, retries and
/// concurrency are the judge's client's (`JudgeClient`).
public struct EndpointGenerator: TextGenerator {
    public let client: JudgeClient
    public let chatTemplate: ChatTemplateRenderer?
    public var name: String { "openai \(client.baseURL) \(client.model)" }

    /// `chatTemplate`: the endpoint model's chat template, when known (e.g. from a local copy of
    /// the model's tokenizer); Magpie needs it.
    public init(client: JudgeClient, chatTemplate: ChatTemplateRenderer? = nil) {
        self.client = client
        self.chatTemplate = chatTemplate
    }

    func body(_ r: SynthRequest, prompt: JSONValue, chat: Bool) -> JSONValue {
        var o = JSONObject([("model", .string(client.model)), (chat ? "messages" : "prompt", prompt)])
        o["max_tokens"] = .int(r.maxTokens)
        o["temperature"] = .double(Double(r.sampling.temperature))
        o["top_p"] = .double(Double(r.sampling.topP))
        if r.sampling.topK > 0 { o["top_k"] = .int(r.sampling.topK) }
        o["seed"] = .int(Int(Int64(bitPattern: r.sampling.seed) & Int64(Int32.max)))
        if !r.stop.isEmpty { o["stop"] = .array(r.stop.map(JSONValue.string)) }
        o["stream"] = .bool(false)
        return .object(o)
    }

    /// The path and body of one request.
    func call(_ r: SynthRequest) throws -> (path: String, body: JSONValue, prefix: String) {
        switch r.prompt {
        case .text(let t): return ("/completions", body(r, prompt: .string(t), chat: false), "")
        case .chat(let messages, let prefix):
            if !prefix.isEmpty, let chatTemplate {
                return ("/completions", body(r, prompt: .string(try chatTemplate.prompt(messages, assistantPrefix: prefix)), chat: false), "")
            }
            let list = JSONValue.array(messages.map { .object(JSONObject([("role", .string($0.role)), ("content", .string($0.content))])) })
            return ("/chat/completions", body(r, prompt: list, chat: true), prefix)
        }
    }

    /// The completion in a reply: `choices[0].text` or `choices[0].message.content`, and whether
    /// `finish_reason` is other than "length". Without a template the prefix could not be sent;
    /// it is dropped from the reply when the model repeated it.
    static func completion(_ json: JSONValue, prefix: String) -> Result<SynthCompletion, SynthFailure> {
        guard let choice = json["choices"]?.arrayValue?.first else {
            return .failure(SynthFailure("the reply has no choices: \(json.description.prefix(200))"))
        }
        guard var text = choice["text"]?.stringValue ?? choice["message"]?["content"]?.stringValue else {
            return .failure(SynthFailure("the reply's first choice has no text: \(choice.description.prefix(200))"))
        }
        if !prefix.isEmpty, text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        return .success(SynthCompletion(text: text, finished: choice["finish_reason"]?.stringValue != "length"))
    }

    public func generate(_ requests: [SynthRequest], onDone: (Int) -> Void) throws -> [Result<SynthCompletion, SynthFailure>] {
        let calls = try requests.map(call)
        let lock = Lock()
        var results = [Result<SynthCompletion, SynthFailure>](repeating: .failure(SynthFailure("not sent")), count: calls.count)
        // Requests to the two paths are sent as two groups, each `concurrency` at a time.
        var finished = 0
        for path in ["/completions", "/chat/completions"] {
            let indices = calls.indices.filter { calls[$0].path == path }
            guard !indices.isEmpty else { continue }
            let base = finished
            let replies = client.postAll(path, bodies: indices.map { calls[$0].body }) { n in lock.withLock { onDone(base + n) } }
            for (k, i) in indices.enumerated() {
                results[i] = k < replies.count
                    ? replies[k].mapError { SynthFailure($0.description) }.flatMap { Self.completion($0, prefix: calls[i].prefix) }
                    : .failure(SynthFailure("no reply"))
            }
            finished += indices.count
        }
        return results
    }
}
