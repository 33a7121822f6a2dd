import IFTCore

/// Corpus chrF as sacreBLEU 2.x computes it with `CHRF()` defaults: character n-grams of orders
/// 1...6 over code points with all whitespace removed, no word n-grams (chrF, not chrF++),
/// beta 2, case-sensitive, no epsilon smoothing. Per-segment match statistics are summed over
/// the corpus; the score is the F-beta of the precision and recall averaged over the orders that
/// have both hypothesis and reference n-grams (sacreBLEU's "effective order").
public struct CHRFScore: Equatable, Sendable {
    /// chrF2 on a 0-100 scale (sacreBLEU's `score`).
    public var score: Double
    /// Corpus statistics for character n-gram orders 1...6.
    public var statistics: [NGramMatchCounts]
}

extension ReferenceMetrics {
    /// chrF's character n-gram order (sacreBLEU `CHRF.CHAR_ORDER`).
    public static let chrFCharOrder = 6
    /// chrF's beta: recall weighs beta² = 4 times precision (sacreBLEU `CHRF.BETA`).
    public static let chrFBeta = 2

    /// Corpus chrF of `hypotheses` against one reference each, as
    /// `sacrebleu.metrics.CHRF().corpus_score(hypotheses, [references])`.
    /// - Throws: `IFTError.invalidArgument` for no hypotheses or a count mismatch.
    public static func chrF(hypotheses: [String], references: [String]) throws -> CHRFScore {
        try chrF(hypotheses: hypotheses, referenceSets: singleReferenceSets("chrF", hypotheses: hypotheses, references: references))
    }

    /// Corpus chrF with several references per hypothesis: for each row, the statistics of the
    /// reference with the best segment-level chrF (the first on a tie) enter the corpus sums, as
    /// sacreBLEU does.
    /// - Throws: `IFTError.invalidArgument` for no hypotheses, a count mismatch, or an empty set.
    public static func chrF(hypotheses: [String], referenceSets: [[String]]) throws -> CHRFScore {
        try checkInput("chrF", hypotheses: hypotheses, referenceSets: referenceSets)
        var totals = [NGramMatchCounts](repeating: NGramMatchCounts(hypothesis: 0, reference: 0, matching: 0), count: chrFCharOrder)
        for (hypothesis, references) in zip(hypotheses, referenceSets) {
            let segment = CHRF.segmentStatistics(hypothesis: hypothesis, references: references)
            for i in totals.indices {
                totals[i].hypothesis += segment[i].hypothesis
                totals[i].reference += segment[i].reference
                totals[i].matching += segment[i].matching
            }
        }
        return CHRFScore(score: CHRF.fScore(totals), statistics: totals)
    }
}

/// The pieces of sacreBLEU's `CHRF` class.
enum CHRF {
    typealias Counts = [ArraySlice<Unicode.Scalar>: Int]

    /// `extract_all_char_ngrams(line, 6, include_whitespace=False)`: n-gram counts of orders
    /// 1...6 over the code points of `''.join(line.split())`.
    static func characterNGrams(_ line: String) -> [Counts] {
        let characters = Array(PythonText.split(PythonText.scalars(line)).joined())
        return (1...ReferenceMetrics.chrFCharOrder).map { NGrams.counts(characters, order: $0) }
    }

    /// `CHRF._compute_segment_statistics`: [hyp, ref, match] per order against the best reference.
    static func segmentStatistics(hypothesis: String, references: [String]) -> [NGramMatchCounts] {
        let hypothesisNGrams = characterNGrams(hypothesis)
        var best: [NGramMatchCounts] = []
        var bestF = -1.0
        for reference in references {
            let referenceNGrams = characterNGrams(reference)
            let stats = zip(hypothesisNGrams, referenceNGrams).map { h, r in
                NGramMatchCounts(
                    // `_get_match_statistics`: hypothesis n-grams count only if the reference has some.
                    hypothesis: r.isEmpty ? 0 : h.values.reduce(0, +),
                    reference: r.values.reduce(0, +),
                    matching: NGrams.clippedMatches(h, r))
            }
            let f = fScore(stats)
            if f > bestF {
                bestF = f
                best = stats
            }
        }
        return best
    }

    /// `CHRF._compute_f_score` with `eps_smoothing=False`: precision and recall averaged over the
    /// orders with hypothesis and reference n-grams, then F-beta, times 100.
    static func fScore(_ statistics: [NGramMatchCounts]) -> Double {
        let factor = Double(ReferenceMetrics.chrFBeta * ReferenceMetrics.chrFBeta)
        var averagePrecision = 0.0
        var averageRecall = 0.0
        var effectiveOrder = 0
        for s in statistics where s.hypothesis > 0 && s.reference > 0 {
            averagePrecision += Double(s.matching) / Double(s.hypothesis)
            averageRecall += Double(s.matching) / Double(s.reference)
            effectiveOrder += 1
        }
        guard effectiveOrder > 0 else { return 0 }
        averagePrecision /= Double(effectiveOrder)
        averageRecall /= Double(effectiveOrder)
        guard averagePrecision + averageRecall != 0 else { return 0 }
        var score = (1 + factor) * averagePrecision * averageRecall
        score /= (factor * averagePrecision) + averageRecall
        return 100 * score
    }
}
