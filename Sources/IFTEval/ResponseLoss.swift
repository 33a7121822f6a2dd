import IFTCore
import IFTData
import IFTModel

/// Cross-entropy, perplexity and next-token accuracy of a model on the response tokens of
/// examples (every token of plain-text examples; instruction tokens are not scored), each
/// example run as one forward pass (truncated to `maxLength` tokens).
public struct ResponseLoss {
    public struct ExampleScore {
        public var index: Int
        /// Response tokens scored.
        public var tokens: Int
        /// Summed negative log-likelihood (nats) and correctly predicted tokens (greedy argmax).
        public var lossSum: Double
        public var correct: Int
    }

    public var examples: [ExampleScore]

    /// Mean cross-entropy per scored token (nats).
    public var loss: Double {
        let n = examples.reduce(0) { $0 + $1.tokens }
        return n > 0 ? examples.reduce(0) { $0 + $1.lossSum } / Double(n) : 0
    }

    public var perplexity: Double { exp(loss) }

    /// Fraction of scored tokens the model predicts exactly (greedy), 0-1.
    public var tokenAccuracy: Double {
        let n = examples.reduce(0) { $0 + $1.tokens }
        return n > 0 ? Double(examples.reduce(0) { $0 + $1.correct }) / Double(n) : 0
    }

    public var scoredTokens: Int { examples.reduce(0) { $0 + $1.tokens } }

    public init(
        model: LlamaModel, examples: [TokenizedExample], maxLength: Int = 1024, onProgress: (Int) -> Void = { _ in }
    ) throws {
        let vocab = model.config.vocabSize
        var scores: [ExampleScore] = []
        for (index, e) in examples.enumerated() {
            let n = min(e.tokens.count, maxLength, model.maxPositions)
            guard n >= 2 else { continue }
            let inputs = Array(e.tokens[0..<(n - 1)])
            let cache = try model.makeCache(capacity: n - 1)
            let logits = try model.backend.floats(try model.forward(inputs, cache: cache))
            var score = ExampleScore(index: index, tokens: 0, lossSum: 0, correct: 0)
            for j in 0..<(n - 1) where e.isResponse[j + 1] {
                let row = logits[(j * vocab)..<((j + 1) * vocab)]
                let target = Int(e.tokens[j + 1])
                var maxValue = -Float.infinity, argmax = 0
                for (i, v) in zip(0..., row) where v > maxValue {
                    maxValue = v
                    argmax = i
                }
                var sum = 0.0
                for v in row { sum += Double(expf(v - maxValue)) }
                let logSumExp = Double(maxValue) + log(sum)
                score.lossSum += logSumExp - Double(row[row.startIndex + target])
                score.tokens += 1
                if argmax == target { score.correct += 1 }
            }
            if score.tokens > 0 { scores.append(score) }
            onProgress(index + 1)
        }
        guard !scores.isEmpty else { throw IFTError.invalidArgument("no response tokens to score") }
        self.examples = scores
    }

    /// The summary JSON (loss in nats, perplexity, token accuracy 0-100, counts).
    public var summaryJSON: JSONValue {
        .object(JSONObject([
            ("examples", .int(examples.count)), ("tokens", .int(scoredTokens)),
            ("loss", .double(ReferenceEvaluation.round(loss))), ("perplexity", .double(ReferenceEvaluation.round(perplexity))),
            ("token_accuracy", .double(ReferenceEvaluation.round(100 * tokenAccuracy))),
        ]))
    }

    public var rows: [JSONValue] {
        examples.map { s in
            .object(JSONObject([
                ("index", .int(s.index)), ("tokens", .int(s.tokens)),
                ("loss", .double(ReferenceEvaluation.round(s.lossSum / Double(s.tokens)))),
                ("token_accuracy", .double(ReferenceEvaluation.round(100 * Double(s.correct) / Double(s.tokens)))),
            ]))
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
