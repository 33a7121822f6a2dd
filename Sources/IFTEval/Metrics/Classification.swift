import IFTCore

/// Accuracy and macro-F1 of predicted class labels (0-1), as scikit-learn's `accuracy_score`
/// and `f1_score(average="macro")` on the normalized labels.
public struct ClassificationScores: Equatable, Sendable {
    /// The fraction of rows whose normalized prediction equals the normalized reference.
    public var accuracy: Double
    /// The unweighted mean of the per-label F1 over `labels`.
    public var macroF1: Double
    /// Every normalized label present in the references or the predictions, in code point order
    /// (scikit-learn's `unique_labels`); an empty prediction is the label "".
    public var labels: [String]
    /// F1 of each label in `labels`: 2TP / (2TP + FP + FN) (0 for a label never predicted
    /// correctly).
    public var labelF1: [Double]
}

extension ReferenceMetrics {
    /// Accuracy and macro-F1 of `hypotheses` (predicted labels) against `references` (true labels),
    /// both normalized with `normalizedLabel`. Macro-F1 averages over the labels present in the
    /// references or the predictions, so a label that is only ever predicted counts with F1 0,
    /// as scikit-learn's `f1_score(y_true, y_pred, average="macro")`.
    /// - Throws: `IFTError.invalidArgument` for no rows or a count mismatch.
    public static func classification(hypotheses: [String], references: [String]) throws -> ClassificationScores {
        _ = try singleReferenceSets("classification", hypotheses: hypotheses, references: references)
        let predicted = hypotheses.map { Classification.normalize(PythonText.scalars($0)) }
        let actual = references.map { Classification.normalize(PythonText.scalars($0)) }
        let labels = Set(predicted + actual).sorted { $0.lexicographicallyPrecedes($1) { $0.value < $1.value } }
        var index: [PythonText.Scalars: Int] = [:]
        for (i, label) in labels.enumerated() { index[label] = i }
        var truePositives = [Int](repeating: 0, count: labels.count)
        var falsePositives = truePositives
        var falseNegatives = truePositives
        var correct = 0
        for (p, a) in zip(predicted, actual) {
            guard let pi = index[p], let ai = index[a] else { continue }  // both are in `labels`
            if pi == ai {
                correct += 1
                truePositives[pi] += 1
            } else {
                falsePositives[pi] += 1
                falseNegatives[ai] += 1
            }
        }
        let labelF1 = labels.indices.map { i -> Double in
            let denominator = 2 * truePositives[i] + falsePositives[i] + falseNegatives[i]
            return denominator == 0 ? 0 : Double(2 * truePositives[i]) / Double(denominator)
        }
        return ClassificationScores(
            accuracy: Double(correct) / Double(predicted.count), macroF1: mean(labelF1),
            labels: labels.map(PythonText.string), labelF1: labelF1)
    }

    /// A class label as compared: lowercase (Python `str.lower()`), whitespace runs collapsed to
    /// one space, and ASCII punctuation and spaces stripped from both ends, so "Positive.",
    /// " positive " and "(Positive)" are all "positive". In Python:
    /// `' '.join(s.lower().split()).strip(string.punctuation + ' ')`.
    public static func normalizedLabel(_ label: String) -> String {
        PythonText.string(Classification.normalize(PythonText.scalars(label)))
    }
}

enum Classification {
    static func normalize(_ s: PythonText.Scalars) -> PythonText.Scalars {
        let collapsed = PythonText.collapsingWhitespace(PythonText.lowercased(s))
        func strip(_ c: Unicode.Scalar) -> Bool { c == " " || PythonText.isASCIIPunctuation(c) }
        guard let first = collapsed.firstIndex(where: { !strip($0) }),
            let last = collapsed.lastIndex(where: { !strip($0) })
        else { return [] }
        return Array(collapsed[first...last])
    }
}
