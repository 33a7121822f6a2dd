import IFTCore

/// Reference-based metrics for generated responses, each computed exactly as a named reference
/// implementation computes it (the fixture `Tests/IFTEvalTests/Fixtures/metrics/metric-fixture.json`,
/// made by `Tools/make-metric-fixture.py`, holds those implementations' values):
///
/// | function              | follows                                              | scale |
/// |-----------------------|------------------------------------------------------|-------|
/// | `bleu`                | sacreBLEU `corpus_bleu` defaults (13a, exp smoothing)  | 0-100 |
/// | `chrF`                | sacreBLEU `CHRF()` defaults (chrF2, char order 6)     | 0-100 |
/// | `rouge`               | Google `rouge-score` `RougeScorer` rouge1/rouge2/rougeL | 0-1  |
/// | `squad`               | SQuAD v1.1 `evaluate-v1.1.py` exact match and F1     | 0-100 (means), 0-1 (per example) |
/// | `classification`      | scikit-learn `accuracy_score`, `f1_score(average="macro")` | 0-1 |
///
/// Text is handled as Python handles `str`: as a sequence of Unicode code points (scalars), with
/// Python's whitespace, lowercasing and `\w`. Two strings that Swift's `String ==` calls equal
/// (canonically equivalent, e.g. a precomposed "é" and "e" + U+0301) are different text here,
/// as they are for the references.
///
/// Every corpus-level function takes one hypothesis (model response) per row and either one
/// reference per row (`references:`) or a non-empty list of references per row
/// (`referenceSets:`, sacreBLEU's and SQuAD's multi-reference scoring). Empty input, a count
/// mismatch, or a row without references is `IFTError.invalidArgument`: no metric is defined on
/// zero rows (sacreBLEU fails on them too) and reporting 0 would hide a wiring mistake.
/// Empty strings inside the lists are valid input.
public enum ReferenceMetrics {
    /// Checks the shapes shared by every corpus metric: at least one row, one reference set per
    /// hypothesis, and at least one reference in each set.
    static func checkInput(_ metric: String, hypotheses: [String], referenceSets: [[String]]) throws {
        guard !hypotheses.isEmpty else {
            throw IFTError.invalidArgument("\(metric): no hypotheses (the metric is undefined on an empty corpus)")
        }
        guard hypotheses.count == referenceSets.count else {
            throw IFTError.invalidArgument(
                "\(metric): \(hypotheses.count) hypotheses but \(referenceSets.count) references; each hypothesis needs its reference(s)")
        }
        if let row = referenceSets.firstIndex(where: { $0.isEmpty }) {
            throw IFTError.invalidArgument("\(metric): hypothesis \(row) has no reference")
        }
    }

    /// `references` as one-element reference sets, after the same checks.
    static func singleReferenceSets(_ metric: String, hypotheses: [String], references: [String]) throws -> [[String]] {
        let sets = references.map { [$0] }
        try checkInput(metric, hypotheses: hypotheses, referenceSets: sets)
        return sets
    }

    /// The arithmetic mean of `values`, summed left to right as Python's `sum(values) / len(values)`.
    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}

/// Hypothesis, reference and matching n-gram counts for one n-gram order (corpus totals).
public struct NGramMatchCounts: Equatable, Sendable {
    /// N-grams in the hypotheses (sacreBLEU chrF counts 0 for a segment whose reference has none).
    public var hypothesis: Int
    /// N-grams in the references.
    public var reference: Int
    /// Hypothesis n-grams matched in the reference, each clipped to its reference count.
    public var matching: Int

    public init(hypothesis: Int, reference: Int, matching: Int) {
        self.hypothesis = hypothesis
        self.reference = reference
        self.matching = matching
    }
}

/// Counting n-grams of a sequence of hashable items (token ids, code points).
enum NGrams {
    /// Counts of every n-gram of order `order` in `items` (none when `items` is shorter).
    static func counts<T: Hashable>(_ items: [T], order: Int) -> [ArraySlice<T>: Int] {
        var counts: [ArraySlice<T>: Int] = [:]
        guard order > 0, items.count >= order else { return counts }
        for start in 0...(items.count - order) {
            counts[items[start..<(start + order)], default: 0] += 1
        }
        return counts
    }

    /// Sum over `hypothesis` n-grams of min(hypothesis count, reference count).
    static func clippedMatches<K: Hashable>(_ hypothesis: [K: Int], _ reference: [K: Int]) -> Int {
        var matches = 0
        for (ngram, count) in hypothesis {
            if let r = reference[ngram] { matches += min(count, r) }
        }
        return matches
    }

    /// Token ids for `tokens`, equal ids for code-point-equal tokens (Python `str` equality).
    static func ids(_ tokens: [[Unicode.Scalar]], into table: inout [[Unicode.Scalar]: Int]) -> [Int] {
        tokens.map { token in
            if let id = table[token] { return id }
            let id = table.count
            table[token] = id
            return id
        }
    }
}
