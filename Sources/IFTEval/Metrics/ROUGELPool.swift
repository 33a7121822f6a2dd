import IFTCore

/// A growing set of texts, each kept tokenized as rouge-score tokenizes it, against which a new
/// text's highest ROUGE-L F1 is found: Self-Instruct's novelty filter (a generated instruction is
/// kept only when its ROUGE-L F with every pooled instruction is at most 0.7, computed with
/// `rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)`). ROUGE-L F1 is symmetric in its two
/// texts, so the order of `score(target, prediction)` does not matter.
public struct ROUGELPool: Sendable {
    private var tokenized: [[[UInt8]]] = []
    public let useStemmer: Bool

    public init(useStemmer: Bool = false) { self.useStemmer = useStemmer }

    public var count: Int { tokenized.count }

    public mutating func add(_ text: String) { tokenized.append(ROUGE.tokens(text, useStemmer: useStemmer)) }

    /// The highest ROUGE-L F1 of `text` against the pooled texts and the index of that text (the
    /// first on a tie); nil for an empty pool.
    public func best(_ text: String) -> (f1: Double, index: Int)? {
        let t = ROUGE.tokens(text, useStemmer: useStemmer)
        var best: (f1: Double, index: Int)?
        for (i, p) in tokenized.enumerated() {
            // The F1 cannot beat 2*min/(a+b), the score of a complete overlap: skip the LCS then.
            let bound = t.isEmpty || p.isEmpty ? 0 : 2 * Double(min(t.count, p.count)) / Double(t.count + p.count)
            if let b = best, bound <= b.f1 { continue }
            let f = ROUGE.lcsScore(target: p, prediction: t).f1
            if f > (best?.f1 ?? -1) { best = (f, i) }
        }
        return best
    }

    /// ROUGE-L F1 of two texts (rouge-score's `rougeL` fmeasure).
    public static func f1(_ a: String, _ b: String, useStemmer: Bool = false) -> Double {
        ROUGE.lcsScore(target: ROUGE.tokens(a, useStemmer: useStemmer), prediction: ROUGE.tokens(b, useStemmer: useStemmer)).f1
    }
}
