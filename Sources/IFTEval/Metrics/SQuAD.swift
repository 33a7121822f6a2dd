import IFTCore

/// Exact match and token F1 of one example (0-1), as SQuAD v1.1's `exact_match_score` and
/// `f1_score`, maximized over the example's references (`metric_max_over_ground_truths`).
public struct SQuADExample: Equatable, Sendable {
    /// 1 when the normalized hypothesis equals a normalized reference, else 0.
    public var exactMatch: Double
    /// The best token F1 against a reference; 0 without a common token (so also when both
    /// normalize to nothing, as in v1.1; v2.0 would give 1 there).
    public var f1: Double
}

/// SQuAD exact match and F1: per example, and their means on a 0-100 scale as
/// `evaluate-v1.1.py` reports them (`100.0 * sum / total`).
public struct SQuADScores: Equatable, Sendable {
    public var exactMatch: Double
    public var f1: Double
    public var examples: [SQuADExample]
}

extension ReferenceMetrics {
    /// Exact match and token F1 with the official SQuAD v1.1 evaluation script's
    /// `normalize_answer` (lowercase, drop `string.punctuation`, drop the words a/an/the, collapse
    /// whitespace), one reference per hypothesis.
    /// - Throws: `IFTError.invalidArgument` for no hypotheses or a count mismatch.
    public static func squad(hypotheses: [String], references: [String]) throws -> SQuADScores {
        try squad(hypotheses: hypotheses, referenceSets: singleReferenceSets("SQuAD", hypotheses: hypotheses, references: references))
    }

    /// SQuAD exact match and F1 with several references per hypothesis: each metric is the
    /// maximum over the references, as `metric_max_over_ground_truths`.
    /// - Throws: `IFTError.invalidArgument` for no hypotheses, a count mismatch, or an empty set.
    public static func squad(hypotheses: [String], referenceSets: [[String]]) throws -> SQuADScores {
        try checkInput("SQuAD", hypotheses: hypotheses, referenceSets: referenceSets)
        let examples = zip(hypotheses, referenceSets).map { hypothesis, references in
            let prediction = SQuAD.normalize(PythonText.scalars(hypothesis))
            let predictionTokens = PythonText.split(prediction)
            var example = SQuADExample(exactMatch: 0, f1: 0)
            for reference in references {
                let truth = SQuAD.normalize(PythonText.scalars(reference))
                if truth == prediction { example.exactMatch = 1 }
                example.f1 = max(example.f1, SQuAD.f1(predictionTokens, PythonText.split(truth)))
            }
            return example
        }
        let n = Double(examples.count)
        return SQuADScores(
            exactMatch: 100.0 * examples.map(\.exactMatch).reduce(0, +) / n,
            f1: 100.0 * examples.map(\.f1).reduce(0, +) / n, examples: examples)
    }

    /// SQuAD v1.1's `normalize_answer(text)`.
    public static func squadNormalized(_ text: String) -> String {
        PythonText.string(SQuAD.normalize(PythonText.scalars(text)))
    }
}

/// The pieces of SQuAD v1.1's `evaluate-v1.1.py`.
enum SQuAD {
    typealias Scalars = PythonText.Scalars

    /// `white_space_fix(remove_articles(remove_punc(lower(s))))`.
    static func normalize(_ s: Scalars) -> Scalars {
        let lowered = PythonText.lowercased(s)
        let withoutPunctuation = lowered.filter { !PythonText.isASCIIPunctuation($0) }
        return PythonText.collapsingWhitespace(removingArticles(withoutPunctuation))
    }

    private static let articles: [Scalars] = [["a"], ["a", "n"], ["t", "h", "e"]]

    /// `re.sub(r'\b(a|an|the)\b', ' ', text)`: the alternatives are tried in order at each
    /// position, `\b` uses Python's Unicode `\w`, and the scan resumes after each match.
    static func removingArticles(_ s: Scalars) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(s.count)
        var i = 0
        scan: while i < s.count {
            // An article starts with a word character, so `\b` before it needs a non-word one.
            if i == 0 || !PythonText.isWordCharacter(s[i - 1]) {
                for article in articles {
                    let end = i + article.count
                    if end <= s.count && s[i..<end].elementsEqual(article)
                        && (end == s.count || !PythonText.isWordCharacter(s[end]))
                    {
                        out.append(" ")
                        i = end
                        continue scan
                    }
                }
            }
            out.append(s[i])
            i += 1
        }
        return out
    }

    /// `f1_score` on normalized tokens: the multiset intersection over both lengths.
    static func f1(_ prediction: [Scalars], _ truth: [Scalars]) -> Double {
        var truthCounts: [Scalars: Int] = [:]
        for t in truth { truthCounts[t, default: 0] += 1 }
        var common = 0
        for t in prediction {
            if let c = truthCounts[t], c > 0 {
                common += 1
                truthCounts[t] = c - 1
            }
        }
        guard common > 0 else { return 0 }
        let precision = 1.0 * Double(common) / Double(prediction.count)
        let recall = 1.0 * Double(common) / Double(truth.count)
        return (2 * precision * recall) / (precision + recall)
    }
}
