#if canImport(Glibc)
import Glibc
#endif
import IFTCore

/// How the next token is chosen from the logits.
public struct SamplingOptions: Sendable {
    /// 0 picks the most likely token (greedy); higher values flatten the distribution.
    public var temperature: Float = 0
    /// Keep only the k most likely tokens (0: all).
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability reaches p (1: all).
    public var topP: Float = 1
    public var seed: UInt64 = 0

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }
}

/// Greedy, temperature, top-k and top-p sampling with a seeded generator (reproducible).
public struct Sampler {
    public let options: SamplingOptions
    private var rng: SeededGenerator

    public init(_ options: SamplingOptions) {
        self.options = options
        rng = SeededGenerator(seed: options.seed)
    }

    public mutating func sample(_ logits: [Float]) -> Int {
        guard !logits.isEmpty else { return 0 }
        if options.temperature <= 0 {
            var best = 0
            for i in logits.indices where logits[i] > logits[best] { best = i }
            return best
        }
        // Candidates sorted by logit, cut to top-k.
        var order = Array(logits.indices)
        order.sort { logits[$0] > logits[$1] }
        if options.topK > 0 && options.topK < order.count { order.removeLast(order.count - options.topK) }
        let maxLogit = logits[order[0]]
        var probs = order.map { Double(exp((logits[$0] - maxLogit) / options.temperature)) }
        let total = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= total }
        // Top-p: the smallest prefix whose mass reaches p.
        if options.topP < 1 {
            var mass = 0.0
            var keep = probs.count
            for i in probs.indices {
                mass += probs[i]
                if mass >= Double(options.topP) { keep = i + 1; break }
            }
            probs.removeLast(probs.count - keep)
            order.removeLast(order.count - keep)
            let s = probs.reduce(0, +)
            for i in probs.indices { probs[i] /= s }
        }
        let r = Double(rng.next() >> 11) / Double(1 << 53)
        var acc = 0.0
        for i in probs.indices {
            acc += probs[i]
            if r < acc { return order[i] }
        }
        return order[order.count - 1]
    }
}
