#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// Corpus BLEU as sacreBLEU 2.x computes it with its defaults:
/// `sacrebleu.corpus_bleu(hypotheses, [references])`, i.e. `BLEU()` with tokenizer `13a`,
/// smoothing `exp` (mteval-v13a's: the k-th order without matches counts as 1/2^k matches),
/// case-sensitive, maximum n-gram order 4, no effective order, and the brevity penalty on the
/// corpus totals of hypothesis and closest-reference lengths.
public struct BLEUScore: Equatable, Sendable {
    /// BLEU on a 0-100 scale (sacreBLEU's `score`).
    public var score: Double
    /// The modified n-gram precisions for orders 1...4, in percent (sacreBLEU's `precisions`;
    /// a smoothed value for an order without matches, 0 for orders after one without n-grams).
    public var precisions: [Double]
    /// The brevity penalty (`bp`): exp(1 - r/c) when the hypotheses are shorter, else 1.
    public var brevityPenalty: Double
    /// Total hypothesis tokens (`sys_len`).
    public var hypothesisLength: Int
    /// Total closest-reference tokens (`ref_len`; the shorter one on a tie).
    public var referenceLength: Int
    /// Clipped matching n-grams for orders 1...4 (`counts`).
    public var matchingNGrams: [Int]
    /// Hypothesis n-grams for orders 1...4 (`totals`).
    public var totalNGrams: [Int]

    /// Hypothesis length over reference length (0 without reference tokens), as sacreBLEU prints.
    public var lengthRatio: Double {
        referenceLength == 0 ? 0 : Double(hypothesisLength) / Double(referenceLength)
    }
}

extension ReferenceMetrics {
    /// The maximum n-gram order of BLEU (sacreBLEU's `MAX_NGRAM_ORDER`).
    public static let bleuMaxOrder = 4

    /// Corpus BLEU of `hypotheses` against one reference each (`references[i]` for `hypotheses[i]`),
    /// as `sacrebleu.corpus_bleu(hypotheses, [references])`.
    /// - Throws: `IFTError.invalidArgument` for no hypotheses or a count mismatch.
    public static func bleu(hypotheses: [String], references: [String]) throws -> BLEUScore {
        try bleu(hypotheses: hypotheses, referenceSets: singleReferenceSets("BLEU", hypotheses: hypotheses, references: references))
    }

    /// Corpus BLEU with several references per hypothesis (`referenceSets[i]` for `hypotheses[i]`;
    /// the counts may differ between rows), as sacreBLEU with one reference stream per
    /// alternative and `None` where a row has fewer: n-gram counts are clipped to their maximum
    /// over the row's references, and the closest reference length is used.
    /// - Throws: `IFTError.invalidArgument` for no hypotheses, a count mismatch, or an empty set.
    public static func bleu(hypotheses: [String], referenceSets: [[String]]) throws -> BLEUScore {
        try checkInput("BLEU", hypotheses: hypotheses, referenceSets: referenceSets)
        var total = BLEUStatistics()
        for (hypothesis, references) in zip(hypotheses, referenceSets) {
            total.add(BLEUStatistics(hypothesis: hypothesis, references: references))
        }
        return total.score()
    }
}

/// sacreBLEU's sufficient statistics of BLEU for one segment or summed over a corpus:
/// `[sys_len, ref_len, correct_1..4, total_1..4]`.
struct BLEUStatistics: Equatable {
    var hypothesisLength = 0
    var referenceLength = 0
    var matching = [Int](repeating: 0, count: ReferenceMetrics.bleuMaxOrder)
    var total = [Int](repeating: 0, count: ReferenceMetrics.bleuMaxOrder)

    init() {}

    /// `BLEU._compute_segment_statistics` after `_extract_reference_info` of the references.
    init(hypothesis: String, references: [String]) {
        let order = ReferenceMetrics.bleuMaxOrder
        var table: [[Unicode.Scalar]: Int] = [:]
        func tokenIDs(_ text: String) -> [Int] {
            NGrams.ids(Tokenizer13a.tokens(PythonText.rstrip(PythonText.scalars(text))), into: &table)
        }
        // Reference n-grams: the maximum count of each over the references.
        var referenceCounts: [[ArraySlice<Int>: Int]] = Array(repeating: [:], count: order)
        var referenceLengths: [Int] = []
        for reference in references {
            let ids = tokenIDs(reference)
            referenceLengths.append(ids.count)
            for n in 1...order {
                for (ngram, count) in NGrams.counts(ids, order: n) {
                    referenceCounts[n - 1][ngram] = max(referenceCounts[n - 1][ngram] ?? 0, count)
                }
            }
        }
        let hypothesisIDs = tokenIDs(hypothesis)
        hypothesisLength = hypothesisIDs.count
        referenceLength = Self.closestReferenceLength(hypothesisIDs.count, referenceLengths)
        for n in 1...order {
            let counts = NGrams.counts(hypothesisIDs, order: n)
            total[n - 1] = counts.values.reduce(0, +)
            matching[n - 1] = NGrams.clippedMatches(counts, referenceCounts[n - 1])
        }
    }

    /// `BLEU._get_closest_ref_len`: the reference length nearest the hypothesis length, the
    /// shorter one on a tie.
    static func closestReferenceLength(_ hypothesisLength: Int, _ referenceLengths: [Int]) -> Int {
        var closestDiff = -1
        var closestLength = -1
        for length in referenceLengths {
            let diff = abs(hypothesisLength - length)
            if closestDiff == -1 || diff < closestDiff {
                closestDiff = diff
                closestLength = length
            } else if diff == closestDiff && length < closestLength {
                closestLength = length
            }
        }
        return closestLength
    }

    mutating func add(_ other: BLEUStatistics) {
        hypothesisLength += other.hypothesisLength
        referenceLength += other.referenceLength
        for n in matching.indices {
            matching[n] += other.matching[n]
            total[n] += other.total[n]
        }
    }

    /// `BLEU.compute_bleu` with `smooth_method='exp'` and `effective_order=False`.
    func score() -> BLEUScore {
        let order = matching.count
        var brevityPenalty = 1.0
        if hypothesisLength < referenceLength {
            brevityPenalty = hypothesisLength > 0 ? exp(1 - Double(referenceLength) / Double(hypothesisLength)) : 0
        }
        var precisions = [Double](repeating: 0, count: order)
        var result = BLEUScore(
            score: 0, precisions: precisions, brevityPenalty: brevityPenalty, hypothesisLength: hypothesisLength,
            referenceLength: referenceLength, matchingNGrams: matching, totalNGrams: total)
        // No match at any order: 0 (sacreBLEU's early stop, issue #141).
        guard matching.contains(where: { $0 != 0 }) else { return result }
        var smoothing = 1.0
        for n in 0..<order {
            if total[n] == 0 { break }
            if matching[n] == 0 {
                smoothing *= 2
                precisions[n] = 100.0 / (smoothing * Double(total[n]))
            } else {
                precisions[n] = 100.0 * Double(matching[n]) / Double(total[n])
            }
        }
        // sacreBLEU's `my_log`: log(0) is floored at -9999999999 (the score then underflows to 0).
        let logSum = precisions.reduce(0.0) { $0 + ($1 == 0 ? -9_999_999_999 : log($1)) }
        result.precisions = precisions
        result.score = brevityPenalty * exp(logSum / Double(order))
        return result
    }
}
