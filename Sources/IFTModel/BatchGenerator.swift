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

/// Generation for many prompts at once (continuous batching): up to `maxBatch` sequences decode
/// together, one token each per step through `LlamaModel.decodeStep` (every weight read once per
/// step for all of them); a sequence that finishes is replaced at once by the next waiting
/// prompt, whose prompt is run first (prefill) into its own KV cache. Results come back in request
/// order; with greedy sampling each equals `Generator.generate` on its prompt alone.
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

    private struct Active {
        let request: Int
        var sequence: DecodingSequence
        let cache: KVCache
        let started: ContinuousClock.Instant
        var prefillSeconds: Double
    }

    /// Generates for every request; `onFinish(index, result)` is called as each one completes
    /// (e.g. for a progress bar). Throws before generating anything when a prompt is empty or does
    /// not fit the model's context.
    public func generate(
        _ requests: [GenerationRequest], onFinish: (Int, GenerationResult) -> Void = { _, _ in }
    ) throws -> [GenerationResult] {
        for (i, r) in requests.enumerated() {
            guard !r.prompt.isEmpty else { throw IFTError.invalidArgument("request \(i): the prompt is empty") }
            guard r.prompt.count < model.maxPositions else {
                throw IFTError.invalidArgument(
                    "request \(i): the prompt has \(r.prompt.count) tokens; the model's context is \(model.maxPositions)")
            }
        }
        var stops = Set(model.config.eosTokenIDs.map { Int32($0) }).union(additionalStopTokens)
        if let e = tokenizer.eosID { stops.insert(e) }
        if !stopsAtEndOfGeneration { stops = [] }
        let clock = ContinuousClock()
        var results = [GenerationResult?](repeating: nil, count: requests.count)
        var next = 0
        var active: [Active] = []
        var logits: [[Float]] = []  // the next-token logits of each active sequence

        func complete(_ a: Active) {
            let r = requests[a.request]
            let total = ProgressBar.seconds(clock.now - a.started)
            let result = GenerationResult(
                promptTokens: r.prompt.count, tokens: a.sequence.tokens, text: a.sequence.text,
                stopReason: a.sequence.stopReason ?? "length", prefillSeconds: a.prefillSeconds,
                decodeSeconds: max(0, total - a.prefillSeconds))
            results[a.request] = result
            onFinish(a.request, result)
        }

        while next < requests.count || !active.isEmpty {
            // Fill free slots with waiting prompts (prefill), then sample every active sequence.
            while active.count < maxBatch && next < requests.count {
                let r = requests[next]
                let started = clock.now
                let cache = try model.makeCache(capacity: min(model.maxPositions, r.prompt.count + max(1, r.maxTokens)))
                let first = try model.backend.floats(try model.forward(r.prompt, cache: cache, logitRows: 1))
                let sequence = DecodingSequence(
                    tokenizer: tokenizer, sampling: r.sampling, maxTokens: r.maxTokens, stopTokens: stops,
                    stopStrings: r.stop)
                active.append(Active(
                    request: next, sequence: sequence, cache: cache, started: started,
                    prefillSeconds: ProgressBar.seconds(clock.now - started)))
                logits.append(first)
                next += 1
            }
            var going: [Active] = []
            for (i, var a) in active.enumerated() {
                if a.sequence.advance(logits[i], cacheFull: a.cache.length >= a.cache.capacity) {
                    going.append(a)
                } else {
                    complete(a)
                }
            }
            active = going
            logits = []
            guard !active.isEmpty else { continue }
            let step = try model.decodeStep(active.map { $0.sequence.tokens[$0.sequence.tokens.count - 1] }, caches: active.map(\.cache))
            let all = try model.backend.floats(step)
            let vocab = model.config.vocabSize
            logits = (0..<active.count).map { Array(all[$0 * vocab..<($0 + 1) * vocab]) }
        }
        return results.map { $0! }
    }
}
