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
        var sequence = DecodingSequence(
            tokenizer: tokenizer, sampling: sampling, maxTokens: maxTokens, stopTokens: stopTokens, stopStrings: stop)
        let clock = ContinuousClock()
        let t0 = clock.now
        var logits = try model.backend.floats(try model.forward(prompt, cache: cache, logitRows: 1))
        let t1 = clock.now
        while sequence.advance(logits, cacheFull: cache.length >= cache.capacity) {
            let piece = sequence.takeNewText()
            if !piece.isEmpty { onText(piece) }
            logits = try model.backend.floats(try model.forward([sequence.tokens[sequence.tokens.count - 1]], cache: cache, logitRows: 1))
        }
        let rest = sequence.takeNewText()
        if !rest.isEmpty { onText(rest) }
        let text = sequence.text
        let t2 = clock.now
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        return GenerationResult(
            promptTokens: prompt.count, tokens: sequence.tokens, text: text, stopReason: sequence.stopReason ?? "length",
            prefillSeconds: seconds(t1 - t0), decodeSeconds: seconds(t2 - t1))
    }
}

/// One sequence being decoded: its sampler, the tokens and text so far, and when to stop (an
/// end-of-generation token, a stop string, which is cut from the text, or the token limit).
/// `Generator` and `BatchGenerator` share it, so both stop the same way.
struct DecodingSequence {
    private var sampler: Sampler
    private var stream: Tokenizer.StreamingDecoder
    private let stopTokens: Set<Int32>
    private let stopStrings: [String]
    let maxTokens: Int
    private(set) var tokens: [Int32] = []
    private(set) var text = ""
    /// "eos", "stop string" or "length" once finished, else nil.
    private(set) var stopReason: String?
    /// Characters of `text` already handed out by `takeNewText`.
    private var emitted = 0
    /// Text that could still turn out to be the start of a stop string is held back while running.
    private let holdBack: Int

    init(tokenizer: Tokenizer, sampling: SamplingOptions, maxTokens: Int, stopTokens: Set<Int32>, stopStrings: [String]) {
        sampler = Sampler(sampling)
        stream = Tokenizer.StreamingDecoder(tokenizer: tokenizer, skipSpecial: true)
        self.stopTokens = stopTokens
        self.stopStrings = stopStrings
        self.maxTokens = maxTokens
        holdBack = max(0, (stopStrings.map(\.count).max() ?? 0) - 1)
        if maxTokens <= 0 { stopReason = "length" }
    }

    /// The text completed since the last call (for streaming): while running, all but the last
    /// characters that could begin a stop string; once finished, everything left.
    mutating func takeNewText() -> String {
        let upTo = stopReason == nil ? text.count - holdBack : text.count
        guard upTo > emitted else { return "" }
        let piece = String(text.dropFirst(emitted).prefix(upTo - emitted))
        emitted = upTo
        return piece
    }

    /// Samples the next token from `logits`. Returns true when the sequence goes on (the new token
    /// is `tokens.last` and must be fed to the model), false when it has finished.
    mutating func advance(_ logits: [Float], cacheFull: Bool) -> Bool {
        guard stopReason == nil else { return false }
        let next = Int32(sampler.sample(logits))
        if stopTokens.contains(next) { return finish("eos") }
        tokens.append(next)
        text += stream.append(next)
        if let r = stopStrings.compactMap({ text.firstRange(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            text = String(text[..<r.lowerBound])
            stopReason = "stop string"
            return false
        }
        if tokens.count >= maxTokens || cacheFull { return finish("length") }
        return true
    }

    private mutating func finish(_ reason: String) -> Bool {
        stopReason = reason
        text += stream.finish()
        return false
    }
}
