import IFTCore

/// One prompt for `BatchGenerator`: its tokens, how many tokens to generate, its own sampling
/// settings (and seed, so a request samples the same tokens whatever else is in the batch) and
/// stop strings.
public struct GenerationRequest: Sendable {
    public var prompt: [Int32]
    public var maxTokens: Int
    public var sampling: SamplingOptions
    public var stop: [String]

    public init(prompt: [Int32], maxTokens: Int, sampling: SamplingOptions = SamplingOptions(), stop: [String] = []) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
    }
}

/// The decoding loop of continuous batching, one step at a time: `add` runs a request's prompt
/// (prefill) into its own KV cache, `step` samples one token for every active sequence, retires
/// the ones that finished, and runs one `LlamaModel.decodeStep` for the rest (every weight read
/// once per step for all of them). `BatchGenerator` drives it over a list of prompts; a server
/// drives it as requests arrive. Not thread-safe: one thread drives it.
public final class BatchDecoder {
    /// What one step did to one request.
    public struct Event {
        public let id: Int
        /// Text completed since the last event of this request (may be empty).
        public let text: String
        /// Set when the request finished at this step.
        public let result: GenerationResult?
    }

    public let model: LlamaModel
    public let tokenizer: Tokenizer
    public let maxBatch: Int
    private let stopTokens: Set<Int32>
    private let clock = ContinuousClock()

    private struct Active {
        let id: Int
        let promptTokens: Int
        var sequence: DecodingSequence
        let cache: KVCache
        let started: ContinuousClock.Instant
        let prefillSeconds: Double
        var logits: [Float]
    }
    private var active: [Active] = []

    /// `stopTokens`: the end-of-generation ids (see `Generator.stopTokens`).
    public init(model: LlamaModel, tokenizer: Tokenizer, maxBatch: Int, stopTokens: Set<Int32>) {
        self.model = model
        self.tokenizer = tokenizer
        self.maxBatch = max(1, maxBatch)
        self.stopTokens = stopTokens
    }

    /// Sequences being decoded.
    public var activeCount: Int { active.count }
    /// Whether `add` may be called.
    public var hasRoom: Bool { active.count < maxBatch }

    /// Checks that a request can run: a non-empty prompt that fits the model's context.
    public func validate(_ r: GenerationRequest) throws {
        guard !r.prompt.isEmpty else { throw IFTError.invalidArgument("the prompt is empty") }
        guard r.prompt.count < model.maxPositions else {
            throw IFTError.invalidArgument("the prompt has \(r.prompt.count) tokens; the model's context is \(model.maxPositions)")
        }
        if let bad = r.prompt.first(where: { $0 < 0 || Int($0) >= model.config.vocabSize }) {
            throw IFTError.invalidArgument("token id \(bad) is outside the vocabulary (0..<\(model.config.vocabSize))")
        }
    }

    /// Starts `request` under `id`: runs its prompt now; its first token comes with the next `step`.
    public func add(_ request: GenerationRequest, id: Int) throws {
        try validate(request)
        guard hasRoom else { throw IFTError.invalidArgument("the batch is full (\(maxBatch) sequences)") }
        let started = clock.now
        let cache = try model.makeCache(capacity: min(model.maxPositions, request.prompt.count + max(1, request.maxTokens)))
        let logits = try model.backend.floats(try model.forward(request.prompt, cache: cache, logitRows: 1))
        let sequence = DecodingSequence(
            tokenizer: tokenizer, sampling: request.sampling, maxTokens: request.maxTokens, stopTokens: stopTokens,
            stopStrings: request.stop)
        active.append(Active(
            id: id, promptTokens: request.prompt.count, sequence: sequence, cache: cache, started: started,
            prefillSeconds: ProgressBar.seconds(clock.now - started), logits: logits))
    }

    /// Stops `id` without a result (e.g. its client went away).
    public func cancel(_ id: Int) { active.removeAll { $0.id == id } }

    /// One token for every active sequence; returns an event for each.
    public func step() throws -> [Event] {
        var events: [Event] = []
        var going: [Active] = []
        for var a in active {
            let goesOn = a.sequence.advance(a.logits, cacheFull: a.cache.length >= a.cache.capacity)
            let text = a.sequence.takeNewText()
            if goesOn {
                events.append(Event(id: a.id, text: text, result: nil))
                going.append(a)
            } else {
                let total = ProgressBar.seconds(clock.now - a.started)
                let result = GenerationResult(
                    promptTokens: a.promptTokens, tokens: a.sequence.tokens, text: a.sequence.text,
                    stopReason: a.sequence.stopReason ?? "length", prefillSeconds: a.prefillSeconds,
                    decodeSeconds: max(0, total - a.prefillSeconds))
                events.append(Event(id: a.id, text: text, result: result))
            }
        }
        active = going
        guard !active.isEmpty else { return events }
        let step = try model.decodeStep(active.map { $0.sequence.tokens[$0.sequence.tokens.count - 1] }, caches: active.map(\.cache))
        let all = try model.backend.floats(step)
        let vocab = model.config.vocabSize
        for i in active.indices { active[i].logits = Array(all[i * vocab..<(i + 1) * vocab]) }
        return events
    }
}

/// Generation for many prompts at once (continuous batching, through `BatchDecoder`): up to
/// `maxBatch` sequences decode together; a sequence that finishes is replaced at once by the next
/// waiting prompt. Results come back in request order; with greedy sampling each equals
/// `Generator.generate` on its prompt alone.
public struct BatchGenerator {
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    /// Sequences decoded together (each holds a KV cache of its prompt + maxTokens positions).
    public var maxBatch: Int
    /// More end-of-generation tokens, as `Generator.additionalStopTokens`.
    public var additionalStopTokens: Set<Int32> = []
    /// False to decode every sequence to its `maxTokens` whatever it samples (benchmarks).
    public var stopsAtEndOfGeneration = true

    public init(model: LlamaModel, tokenizer: Tokenizer, maxBatch: Int = 32) {
        self.model = model
        self.tokenizer = tokenizer
        self.maxBatch = max(1, maxBatch)
    }

    /// The end-of-generation ids in force.
    public var stopTokens: Set<Int32> {
        guard stopsAtEndOfGeneration else { return [] }
        var stops = Set(model.config.eosTokenIDs.map { Int32($0) }).union(additionalStopTokens)
        if let e = tokenizer.eosID { stops.insert(e) }
        return stops
    }

    /// Generates for every request; `onFinish(index, result)` is called as each one completes
    /// (e.g. for a progress bar). Throws before generating anything when a prompt is empty or does
    /// not fit the model's context.
    public func generate(
        _ requests: [GenerationRequest], onFinish: (Int, GenerationResult) -> Void = { _, _ in }
    ) throws -> [GenerationResult] {
        let decoder = BatchDecoder(model: model, tokenizer: tokenizer, maxBatch: maxBatch, stopTokens: stopTokens)
        for (i, r) in requests.enumerated() {
            do { try decoder.validate(r) } catch IFTError.invalidArgument(let why) {
                throw IFTError.invalidArgument("request \(i): \(why)")
            }
        }
        var results = [GenerationResult?](repeating: nil, count: requests.count)
        var next = 0
        while next < requests.count || decoder.activeCount > 0 {
            while decoder.hasRoom && next < requests.count {
                try decoder.add(requests[next], id: next)
                next += 1
            }
            for event in try decoder.step() {
                if let r = event.result {
                    results[event.id] = r
                    onFinish(event.id, r)
                }
            }
        }
        return results.compactMap { $0 }
    }
}
