import IFTCore

/// What a generation produced, with its speed.
public struct GenerationResult {
    public var promptTokens: Int
    public var tokens: [Int32]
    public var text: String
    /// Why it stopped: "eos", "stop string", or "length".
    public var stopReason: String
    public var prefillSeconds: Double
    public var decodeSeconds: Double

    /// Generated tokens per second of decoding (after the prompt).
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(max(0, tokens.count - 1)) / decodeSeconds : 0 }
    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
}

/// Autoregressive generation with a KV cache: the prompt runs in one forward pass, then one token
/// per step; text is streamed as it completes.
public struct Generator {
    public let model: LlamaModel
    public let tokenizer: Tokenizer

    public init(model: LlamaModel, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// More end-of-generation tokens (e.g. the end-of-text token fine-tuning data ends with).
    public var additionalStopTokens: Set<Int32> = []

    /// End-of-generation tokens: the model's EOS ids, the tokenizer's, and `additionalStopTokens`.
    public var stopTokens: Set<Int32> {
        var s = Set(model.config.eosTokenIDs.map { Int32($0) }).union(additionalStopTokens)
        if let e = tokenizer.eosID { s.insert(e) }
        return s
    }

    /// Generates up to `maxTokens` tokens after `prompt`, calling `onText` with each newly complete
    /// piece of text. Stops at an end-of-generation token or when the text contains a stop string
    /// (which is cut from the result).
    public func generate(
        prompt: [Int32], maxTokens: Int, sampling: SamplingOptions = SamplingOptions(), stop: [String] = [],
        onText: (String) -> Void = { _ in }
    ) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw IFTError.invalidArgument("the prompt is empty") }
        guard prompt.count < model.maxPositions else {
            throw IFTError.invalidArgument("the prompt has \(prompt.count) tokens; the model's context is \(model.maxPositions)")
        }
        let cache = try model.makeCache(capacity: min(model.maxPositions, prompt.count + maxTokens))
        var sampler = Sampler(sampling)
        var stream = Tokenizer.StreamingDecoder(tokenizer: tokenizer, skipSpecial: true)
        let clock = ContinuousClock()
        let t0 = clock.now
        var logits = try model.backend.floats(try model.forward(prompt, cache: cache, logitRows: 1))
        let t1 = clock.now
        var generated: [Int32] = []
        var text = ""
        var emitted = 0  // characters of `text` already passed to onText
        // Text that could still turn out to be the start of a stop string is held back.
        let holdBack = max(0, (stop.map(\.count).max() ?? 0) - 1)
        var reason = "length"
        let stops = stopTokens
        while generated.count < maxTokens {
            let next = Int32(sampler.sample(logits))
            if stops.contains(next) {
                reason = "eos"
                break
            }
            generated.append(next)
            text += stream.append(next)
            if let r = stop.compactMap({ text.firstRange(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
                text = String(text[..<r.lowerBound])
                reason = "stop string"
                break
            }
            if text.count - holdBack > emitted {
                onText(String(text.dropFirst(emitted).prefix(text.count - holdBack - emitted)))
                emitted = text.count - holdBack
            }
            if generated.count == maxTokens || cache.length >= cache.capacity { break }
            logits = try model.backend.floats(try model.forward([next], cache: cache, logitRows: 1))
        }
        if reason != "stop string" { text += stream.finish() }
        if text.count > emitted { onText(String(text.dropFirst(emitted))) }
        let t2 = clock.now
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        return GenerationResult(
            promptTokens: prompt.count, tokens: generated, text: text, stopReason: reason,
            prefillSeconds: seconds(t1 - t0), decodeSeconds: seconds(t2 - t1))
    }
}
