import IFTCore
import IFTModel

/// Every reference metric over one set of (response, reference) pairs: corpus BLEU and chrF,
/// mean ROUGE-1/2/L F1, SQuAD exact match and token F1, and (for class labels) accuracy and
/// macro-F1. All summary numbers are on a 0-100 scale. Rows are per example, for the JSONL file.
public struct ReferenceEvaluation {
    public let bleu: BLEUScore
    public let chrF: CHRFScore
    public let rouge: ROUGEScores
    public let squad: SQuADScores
    /// Set when the references are class labels (`labels: true`).
    public let classification: ClassificationScores?
    public let responses: [String]
    public let references: [String]

    public init(responses: [String], references: [String], labels: Bool = false) throws {
        bleu = try ReferenceMetrics.bleu(hypotheses: responses, references: references)
        chrF = try ReferenceMetrics.chrF(hypotheses: responses, references: references)
        rouge = try ReferenceMetrics.rouge(hypotheses: responses, references: references)
        squad = try ReferenceMetrics.squad(hypotheses: responses, references: references)
        classification = labels ? try ReferenceMetrics.classification(hypotheses: responses, references: references) : nil
        self.responses = responses
        self.references = references
    }

    /// The summary as (name, value) pairs, 0-100.
    public var summary: [(String, Double)] {
        var s: [(String, Double)] = [
            ("bleu", bleu.score), ("chrf", chrF.score), ("rouge1", 100 * rouge.meanRouge1F1),
            ("rouge2", 100 * rouge.meanRouge2F1), ("rougeL", 100 * rouge.meanRougeLF1),
            ("exact_match", squad.exactMatch), ("f1", squad.f1),
        ]
        if let c = classification { s += [("accuracy", 100 * c.accuracy), ("macro_f1", 100 * c.macroF1)] }
        return s
    }

    /// The summary JSON: the numbers above, BLEU's details, and the example count.
    public var summaryJSON: JSONValue {
        var o = JSONObject()
        o["examples"] = .int(responses.count)
        for (k, v) in summary { o[k] = .double(Self.round(v)) }
        o["bleu_precisions"] = .array(bleu.precisions.map { .double(Self.round($0)) })
        o["bleu_brevity_penalty"] = .double(Self.round(bleu.brevityPenalty))
        o["bleu_lengths"] = .array([.int(bleu.hypothesisLength), .int(bleu.referenceLength)])
        return .object(o)
    }

    /// One object per example: the texts and that example's ROUGE F1s, exact match and F1 (0-100).
    public var rows: [JSONValue] {
        responses.indices.map { i in
            var o = JSONObject()
            o["index"] = .int(i)
            o["response"] = .string(responses[i])
            o["reference"] = .string(references[i])
            o["rouge1"] = .double(Self.round(100 * rouge.examples[i].rouge1.f1))
            o["rouge2"] = .double(Self.round(100 * rouge.examples[i].rouge2.f1))
            o["rougeL"] = .double(Self.round(100 * rouge.examples[i].rougeL.f1))
            o["exact_match"] = .double(100 * squad.examples[i].exactMatch)
            o["f1"] = .double(Self.round(100 * squad.examples[i].f1))
            return .object(o)
        }
    }

    /// 4 decimals: enough for 0-100 scores, short in JSON.
    public static func round(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
}

/// Writes an evaluation's per-example JSONL and summary JSON atomically.
public enum EvalOutput {
    /// Writes `<directory>/<name>-examples.jsonl` and `<directory>/<name>-summary.json`; returns
    /// their paths.
    @discardableResult
    public static func write(directory: String, name: String, rows: [JSONValue], summary: JSONValue) throws -> [String] {
        try FileSystem.makeDirectories(directory)
        let examples = directory + "/" + name + "-examples.jsonl"
        let summaryPath = directory + "/" + name + "-summary.json"
        try writeText(rows.map(\.description).joined(separator: "\n") + "\n", to: examples)
        try writeText(summary.description + "\n", to: summaryPath)
        return [examples, summaryPath]
    }

    /// Writes `text` to `path` atomically (a temporary file, then rename).
    public static func writeText(_ text: String, to path: String) throws {
        var w = try AtomicFileWriter(path: path)
        do {
            try Array(text.utf8).withUnsafeBytes { try w.write($0) }
            try w.commit()
        } catch {
            w.abandon()
            throw error
        }
    }
}
