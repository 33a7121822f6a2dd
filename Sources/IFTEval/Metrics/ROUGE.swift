import IFTCore

/// Precision, recall and F1 of one ROUGE type for one example, on a 0-1 scale (rouge-score's
/// `Score(precision, recall, fmeasure)`).
public struct ROUGEScore: Equatable, Sendable {
    public var precision: Double
    public var recall: Double
    public var f1: Double

    public init(precision: Double, recall: Double, f1: Double) {
        self.precision = precision
        self.recall = recall
        self.f1 = f1
    }

    /// rouge-score's `scoring.fmeasure`: 2PR/(P+R), 0 when both are 0.
    init(precision: Double, recall: Double) {
        self.init(precision: precision, recall: recall, f1: precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0)
    }

    static let zero = ROUGEScore(precision: 0, recall: 0, f1: 0)
}

/// ROUGE-1, ROUGE-2 and ROUGE-L of one example.
public struct ROUGEExample: Equatable, Sendable {
    public var rouge1: ROUGEScore
    public var rouge2: ROUGEScore
    /// Longest-common-subsequence ROUGE over the whole text (rouge-score's `rougeL`, not `rougeLsum`).
    public var rougeL: ROUGEScore
}

/// Per-example ROUGE and the arithmetic means of the F1 values over the examples (0-1 scale;
/// the plain mean, not rouge-score's `BootstrapAggregator` "mid" value).
public struct ROUGEScores: Equatable, Sendable {
    public var examples: [ROUGEExample]
    public var meanRouge1F1: Double
    public var meanRouge2F1: Double
    public var meanRougeLF1: Double
}

extension ReferenceMetrics {
    /// ROUGE-1, ROUGE-2 and ROUGE-L F1 as Google's `rouge-score` (0.1.x) computes them with
    /// `RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer: useStemmer).score(reference, hypothesis)`
    /// and its default tokenizer: lowercase, every run of characters other than a-z and 0-9
    /// becomes a separator, and with `useStemmer` tokens longer than 3 letters are reduced by
    /// nltk's Porter stemmer (`PorterStemmer()` in its default NLTK_EXTENSIONS mode).
    /// - Throws: `IFTError.invalidArgument` for no hypotheses or a count mismatch.
    public static func rouge(hypotheses: [String], references: [String], useStemmer: Bool = false) throws -> ROUGEScores {
        try rouge(
            hypotheses: hypotheses, referenceSets: singleReferenceSets("ROUGE", hypotheses: hypotheses, references: references),
            useStemmer: useStemmer)
    }

    /// ROUGE with several references per hypothesis, as rouge-score's `score_multi`: for each
    /// ROUGE type separately, the score of the reference with the highest F1 (the first on a tie).
    /// - Throws: `IFTError.invalidArgument` for no hypotheses, a count mismatch, or an empty set.
    public static func rouge(hypotheses: [String], referenceSets: [[String]], useStemmer: Bool = false) throws -> ROUGEScores {
        try checkInput("ROUGE", hypotheses: hypotheses, referenceSets: referenceSets)
        let examples = zip(hypotheses, referenceSets).map { hypothesis, references in
            let prediction = ROUGE.tokens(hypothesis, useStemmer: useStemmer)
            let scores = references.map { ROUGE.score(target: ROUGE.tokens($0, useStemmer: useStemmer), prediction: prediction) }
            func best(_ type: KeyPath<ROUGEExample, ROUGEScore>) -> ROUGEScore {
                var best = scores[0][keyPath: type]
                for s in scores.dropFirst() where s[keyPath: type].f1 > best.f1 { best = s[keyPath: type] }
                return best
            }
            return ROUGEExample(rouge1: best(\.rouge1), rouge2: best(\.rouge2), rougeL: best(\.rougeL))
        }
        return ROUGEScores(
            examples: examples, meanRouge1F1: mean(examples.map(\.rouge1.f1)),
            meanRouge2F1: mean(examples.map(\.rouge2.f1)), meanRougeLF1: mean(examples.map(\.rougeL.f1)))
    }

    /// The tokens rouge-score's default tokenizer makes of `text` (`rouge_score.tokenize.tokenize`).
    public static func rougeTokens(_ text: String, useStemmer: Bool = false) -> [String] {
        ROUGE.tokens(text, useStemmer: useStemmer).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The pieces of rouge-score's `rouge_scorer` and `tokenize` modules.
enum ROUGE {
    /// `tokenize.tokenize`: `text.lower()`, `[^a-z0-9]+` to a space, split on spaces, stem tokens
    /// longer than 3 characters, keep the tokens matching `^[a-z0-9]+$`. After lowercasing only
    /// ASCII letters and digits survive, so tokens are ASCII bytes; a non-ASCII code point whose
    /// full lowercase mapping is ASCII (the Kelvin sign "K", "İ" -> "i" + U+0307) contributes it.
    static func tokens(_ text: String, useStemmer: Bool) -> [[UInt8]] {
        var tokens: [[UInt8]] = []
        var token: [UInt8] = []
        func flush() {
            guard !token.isEmpty else { return }
            let t = useStemmer && token.count > 3 ? PorterStemmer.stem(token) : token
            if !t.isEmpty { tokens.append(t) }  // `VALID_TOKEN_RE` drops an empty stem
            token.removeAll(keepingCapacity: true)
        }
        // Per code point lowering is Python's `lower()` here: the one context-dependent mapping
        // (final sigma) only chooses between two non-ASCII letters.
        for c in text.unicodeScalars {
            if c.isASCII {
                let b = UInt8(c.value)
                switch b {
                case 0x30...0x39, 0x61...0x7A: token.append(b)
                case 0x41...0x5A: token.append(b + 32)
                default: flush()
                }
            } else {
                for l in c.properties.lowercaseMapping.unicodeScalars {
                    let v = l.value
                    if (v >= 0x30 && v <= 0x39) || (v >= 0x61 && v <= 0x7A) {
                        token.append(UInt8(v))
                    } else {
                        flush()
                    }
                }
            }
        }
        flush()
        return tokens
    }

    /// `RougeScorer.score` for rouge1, rouge2 and rougeL on tokenized text.
    static func score(target: [[UInt8]], prediction: [[UInt8]]) -> ROUGEExample {
        ROUGEExample(
            rouge1: ngramScore(target: target, prediction: prediction, order: 1),
            rouge2: ngramScore(target: target, prediction: prediction, order: 2),
            rougeL: lcsScore(target: target, prediction: prediction))
    }

    /// `_score_ngrams(_create_ngrams(target, n), _create_ngrams(prediction, n))`.
    static func ngramScore(target: [[UInt8]], prediction: [[UInt8]], order: Int) -> ROUGEScore {
        let targetNGrams = NGrams.counts(target, order: order)
        let predictionNGrams = NGrams.counts(prediction, order: order)
        let intersection = NGrams.clippedMatches(targetNGrams, predictionNGrams)
        let targetCount = targetNGrams.values.reduce(0, +)
        let predictionCount = predictionNGrams.values.reduce(0, +)
        return ROUGEScore(
            precision: Double(intersection) / Double(max(predictionCount, 1)),
            recall: Double(intersection) / Double(max(targetCount, 1)))
    }

    /// `_score_lcs`: precision and recall of the longest common subsequence; 0 when either side
    /// has no tokens.
    static func lcsScore(target: [[UInt8]], prediction: [[UInt8]]) -> ROUGEScore {
        guard !target.isEmpty, !prediction.isEmpty else { return .zero }
        let length = lcsLength(target, prediction)
        return ROUGEScore(
            precision: Double(length) / Double(prediction.count), recall: Double(length) / Double(target.count))
    }

    /// The length of the longest common subsequence (the last cell of `_lcs_table`), two rows at a time.
    static func lcsLength<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        var previous = [Int](repeating: 0, count: b.count + 1)
        var current = previous
        for x in a {
            for (j, y) in b.enumerated() {
                current[j + 1] = x == y ? previous[j] + 1 : max(previous[j + 1], current[j])
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
