import IFTCore
import IFTModel
import XCTest

@testable import IFTEval

/// The reference metrics against the values of their reference implementations
/// (`Fixtures/metrics/metric-fixture.json`, made by `Tools/make-metric-fixture.py` with sacreBLEU,
/// rouge-score, nltk and scikit-learn from the chapter 7 responses and hand-made tricky pairs),
/// plus hand-computed small cases and the input errors.
final class ReferenceMetricsTests: XCTestCase {
    /// Scores on a 0-100 scale may differ from the reference by at most this much.
    static let tolerance = 0.01

    // MARK: Fixture

    struct Fixture {
        let json: JSONValue
        let hypotheses: [String]
        let references: [String]
        /// Each row's references: the reference, then the second one where the row has it.
        let referenceSets: [[String]]
        let sources: [String]
    }

    static let loaded: Result<Fixture, Error> = Result {
        let json = try JSONValue.parse(contentsOf: EvalTestSupport.fixture("metrics/metric-fixture.json"))
        let pairs = try array(json["pairs"], "pairs")
        func field(_ row: JSONValue, _ key: String) throws -> String {
            guard let s = row[key]?.stringValue else { throw IFTError.invalidArgument("fixture pair without '\(key)'") }
            return s
        }
        return Fixture(
            json: json, hypotheses: try pairs.map { try field($0, "hypothesis") },
            references: try pairs.map { try field($0, "reference") },
            referenceSets: try pairs.map { row in [try field(row, "reference")] + (row["reference2"]?.stringValue.map { [$0] } ?? []) },
            sources: try pairs.map { try field($0, "source") })
    }

    func fixture() throws -> Fixture { try Self.loaded.get() }

    static func array(_ v: JSONValue?, _ what: String) throws -> [JSONValue] {
        guard let a = v?.arrayValue else { throw IFTError.invalidArgument("fixture: '\(what)' is not an array") }
        return a
    }

    func number(_ v: JSONValue?, _ what: String) throws -> Double {
        guard let d = v?.doubleValue else { throw IFTError.invalidArgument("fixture: '\(what)' is not a number") }
        return d
    }

    func numbers(_ v: JSONValue?, _ what: String) throws -> [Double] {
        try Self.array(v, what).enumerated().map { try number($1, "\(what)[\($0)]") }
    }

    func ints(_ v: JSONValue?, _ what: String) throws -> [Int] {
        try Self.array(v, what).enumerated().map { i, x in
            guard let n = x.intValue else { throw IFTError.invalidArgument("fixture: '\(what)[\(i)]' is not an integer") }
            return n
        }
    }

    func strings(_ v: JSONValue?, _ what: String) throws -> [String] {
        try Self.array(v, what).enumerated().map { i, x in
            guard let s = x.stringValue else { throw IFTError.invalidArgument("fixture: '\(what)[\(i)]' is not a string") }
            return s
        }
    }

    /// Asserts |actual - expected| <= tolerance (both on a 0-100 scale) and returns the difference.
    @discardableResult
    func assertClose(
        _ actual: Double, _ expected: Double, _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line
    ) -> Double {
        let difference = abs(actual - expected)
        XCTAssertLessThanOrEqual(difference, Self.tolerance, "\(what()): \(actual) vs reference \(expected)", file: file, line: line)
        return difference
    }

    /// Code-point equality (Python `==`): Swift's `String ==` would accept canonically equivalent text.
    func assertSameText(_ actual: [String], _ expected: [String], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(
            actual.map { Array($0.unicodeScalars) } == expected.map { Array($0.unicodeScalars) },
            "\(what): \(actual) vs reference \(expected)", file: file, line: line)
    }

    func report(_ metric: String, worst: Double) {
        print("ReferenceMetricsTests: \(metric): worst difference vs reference \(worst)")
    }

    // MARK: BLEU (sacreBLEU)

    func testFixtureHasTheChapter7RowsTrickyPairsAndVersions() throws {
        let f = try fixture()
        XCTAssertEqual(f.sources.filter { $0.hasPrefix("instruction-data-with-response.json") }.count, 110)
        XCTAssertGreaterThanOrEqual(f.sources.filter { $0.hasPrefix("hand-made") }.count, 20)
        for package in ["sacrebleu", "rouge-score", "nltk", "scikit-learn"] {
            XCTAssertNotNil(f.json["versions"]?[package]?.stringValue, "fixture records the \(package) version")
        }
    }

    func testTokenize13aMatchesSacreBLEU() throws {
        let f = try fixture()
        let tokens = try Self.array(f.json["tokens_13a"], "tokens_13a")
        XCTAssertEqual(tokens.count, f.hypotheses.count)
        for (i, t) in tokens.enumerated() {
            assertSameText(ReferenceMetrics.tokenize13a(f.hypotheses[i]), try strings(t["hypothesis"], "tokens"), "hypothesis \(i) (\(f.sources[i]))")
            assertSameText(ReferenceMetrics.tokenize13a(f.references[i]), try strings(t["reference"], "tokens"), "reference \(i) (\(f.sources[i]))")
        }
    }

    func checkBLEU(_ score: BLEUScore, _ expected: JSONValue?, _ what: String) throws -> Double {
        XCTAssertEqual(score.hypothesisLength, expected?["sys_len"]?.intValue, "\(what) sys_len")
        XCTAssertEqual(score.referenceLength, expected?["ref_len"]?.intValue, "\(what) ref_len")
        XCTAssertEqual(score.matchingNGrams, try ints(expected?["counts"], "counts"), "\(what) counts")
        XCTAssertEqual(score.totalNGrams, try ints(expected?["totals"], "totals"), "\(what) totals")
        var worst = assertClose(score.score, try number(expected?["score"], "score"), "\(what) BLEU")
        worst = max(worst, assertClose(100 * score.brevityPenalty, 100 * (try number(expected?["bp"], "bp")), "\(what) BP x100"))
        for (n, (p, e)) in zip(score.precisions, try numbers(expected?["precisions"], "precisions")).enumerated() {
            worst = max(worst, assertClose(p, e, "\(what) precision \(n + 1)"))
        }
        return worst
    }

    func testCorpusBLEUMatchesSacreBLEU() throws {
        let f = try fixture()
        let score = try ReferenceMetrics.bleu(hypotheses: f.hypotheses, references: f.references)
        report("corpus BLEU", worst: try checkBLEU(score, f.json["bleu"], "corpus"))
    }

    func testEachPairsBLEUMatchesSacreBLEU() throws {
        let f = try fixture()
        let expected = try Self.array(f.json["bleu_pairs"], "bleu_pairs")
        var worst = 0.0
        for (i, e) in expected.enumerated() {
            let score = try ReferenceMetrics.bleu(hypotheses: [f.hypotheses[i]], references: [f.references[i]])
            worst = max(worst, try checkBLEU(score, e, "pair \(i) (\(f.sources[i]))"))
        }
        report("single-pair BLEU", worst: worst)
    }

    func testMultiReferenceBLEUMatchesSacreBLEU() throws {
        let f = try fixture()
        XCTAssertTrue(f.referenceSets.contains { $0.count == 1 } && f.referenceSets.contains { $0.count == 2 })
        let score = try ReferenceMetrics.bleu(hypotheses: f.hypotheses, referenceSets: f.referenceSets)
        report("multi-reference BLEU", worst: try checkBLEU(score, f.json["bleu_multi"], "multi-reference"))
    }

    func testBLEUHandComputed() throws {
        // Tokens: the cat sat on the mat / the cat is on the mat. Matches: 1-grams 5/6 (the x2, cat,
        // on, mat), 2-grams 3/5 (the cat, on the, the mat), 3-grams 1/4 (on the mat), 4-grams 0/3
        // (exp smoothing: 1/2 match). Equal lengths: BP 1.
        let score = try ReferenceMetrics.bleu(hypotheses: ["the cat sat on the mat"], references: ["the cat is on the mat"])
        XCTAssertEqual(score.matchingNGrams, [5, 3, 1, 0])
        XCTAssertEqual(score.totalNGrams, [6, 5, 4, 3])
        let p = [500.0 / 6, 60, 25, 100.0 / 6]
        for (a, e) in zip(score.precisions, p) { XCTAssertEqual(a, e, accuracy: 1e-9) }
        XCTAssertEqual(score.score, exp(p.map { log($0) }.reduce(0, +) / 4), accuracy: 1e-9)
        XCTAssertEqual(score.score, 37.99, accuracy: 0.01)
        // Shorter hypothesis: BP = exp(1 - 6/3).
        let short = try ReferenceMetrics.bleu(hypotheses: ["the cat sat"], references: ["the cat sat on the mat"])
        XCTAssertEqual(short.brevityPenalty, exp(-1.0), accuracy: 1e-12)
        XCTAssertEqual(short.score, 0, "no 4-gram in a 3-token hypothesis: BLEU 0 without effective order")
        XCTAssertEqual(try ReferenceMetrics.bleu(hypotheses: ["a b c d e."], references: ["a b c d e."]).score, 100, accuracy: 1e-9)
        XCTAssertEqual(try ReferenceMetrics.bleu(hypotheses: ["one two three four"], references: ["five six seven eight"]).score, 0)
        // Two references: clipped to the best count, closest length (the shorter on a tie).
        let multi = try ReferenceMetrics.bleu(hypotheses: ["a a a b"], referenceSets: [["a b c", "a a x y z"]])
        XCTAssertEqual(multi.matchingNGrams[0], 3)
        XCTAssertEqual(multi.referenceLength, 3)
    }

    func testTokenize13aHandChecked() {
        XCTAssertEqual(ReferenceMetrics.tokenize13a("Hello, world! It costs $1,234.56 (e.g. 2023-01-05)."),
                       ["Hello", ",", "world", "!", "It", "costs", "$", "1,234.56", "(", "e", ".", "g", ".", "2023", "-", "01", "-", "05", ")", "."])
        XCTAssertEqual(ReferenceMetrics.tokenize13a("Tom &amp; Jerry &lt;3 don't"), ["Tom", "&", "Jerry", "<", "3", "don't"])
        XCTAssertEqual(ReferenceMetrics.tokenize13a("  trailing \n "), ["trailing"])
        XCTAssertEqual(ReferenceMetrics.tokenize13a(""), [])
    }

    // MARK: chrF (sacreBLEU)

    func testChrFMatchesSacreBLEU() throws {
        let f = try fixture()
        var worst = assertClose(
            try ReferenceMetrics.chrF(hypotheses: f.hypotheses, references: f.references).score, try number(f.json["chrf"], "chrf"), "corpus chrF")
        worst = max(worst, assertClose(
            try ReferenceMetrics.chrF(hypotheses: f.hypotheses, referenceSets: f.referenceSets).score,
            try number(f.json["chrf_multi"], "chrf_multi"), "multi-reference chrF"))
        for (i, e) in try numbers(f.json["chrf_pairs"], "chrf_pairs").enumerated() {
            let score = try ReferenceMetrics.chrF(hypotheses: [f.hypotheses[i]], references: [f.references[i]])
            worst = max(worst, assertClose(score.score, e, "chrF of pair \(i) (\(f.sources[i]))"))
        }
        report("chrF (corpus, multi-reference, each pair)", worst: worst)
    }

    func testChrFHandComputed() throws {
        // "ab" vs "ab": orders 1-2 match fully, orders 3-6 have no n-grams and are left out.
        XCTAssertEqual(try ReferenceMetrics.chrF(hypotheses: ["a b"], references: ["ab"]).score, 100, accuracy: 1e-9)
        // "abc" vs "abd": precision = recall = (2/3 + 1/2 + 0) / 3 over orders 1-3.
        let score = try ReferenceMetrics.chrF(hypotheses: ["abc"], references: ["abd"])
        XCTAssertEqual(score.score, 100 * (2.0 / 3 + 0.5) / 3, accuracy: 1e-9)
        XCTAssertEqual(score.statistics[0], NGramMatchCounts(hypothesis: 3, reference: 3, matching: 2))
        XCTAssertEqual(try ReferenceMetrics.chrF(hypotheses: ["xyz"], references: ["abc"]).score, 0)
        XCTAssertEqual(try ReferenceMetrics.chrF(hypotheses: [""], references: ["abc"]).score, 0)
    }

    // MARK: ROUGE (rouge-score)

    func checkROUGE(_ scores: ROUGEScores, _ expected: JSONValue?, _ what: String, _ f: Fixture) throws -> Double {
        var worst = 0.0
        for (name, path) in [("rouge1", \ROUGEExample.rouge1), ("rouge2", \.rouge2), ("rougeL", \.rougeL)] {
            let perExample = try numbers(expected?["f1"]?[name], "\(what) \(name)")
            XCTAssertEqual(perExample.count, scores.examples.count)
            for (i, (example, e)) in zip(scores.examples, perExample).enumerated() {
                worst = max(worst, assertClose(100 * example[keyPath: path].f1, 100 * e, "\(what) \(name) F1 x100 of pair \(i) (\(f.sources[i]))"))
            }
        }
        worst = max(worst, assertClose(100 * scores.meanRouge1F1, 100 * (try number(expected?["mean_f1"]?["rouge1"], "mean")), "\(what) mean ROUGE-1"))
        worst = max(worst, assertClose(100 * scores.meanRouge2F1, 100 * (try number(expected?["mean_f1"]?["rouge2"], "mean")), "\(what) mean ROUGE-2"))
        worst = max(worst, assertClose(100 * scores.meanRougeLF1, 100 * (try number(expected?["mean_f1"]?["rougeL"], "mean")), "\(what) mean ROUGE-L"))
        return worst
    }

    func testROUGEMatchesRougeScore() throws {
        let f = try fixture()
        let scores = try ReferenceMetrics.rouge(hypotheses: f.hypotheses, references: f.references)
        report("ROUGE-1/2/L F1 x100", worst: try checkROUGE(scores, f.json["rouge"], "ROUGE", f))
    }

    func testStemmedROUGEMatchesRougeScore() throws {
        let f = try fixture()
        let scores = try ReferenceMetrics.rouge(hypotheses: f.hypotheses, references: f.references, useStemmer: true)
        report("stemmed ROUGE-1/2/L F1 x100", worst: try checkROUGE(scores, f.json["rouge_stemmed"], "stemmed ROUGE", f))
    }

    func testMultiReferenceROUGEMatchesScoreMulti() throws {
        let f = try fixture()
        let scores = try ReferenceMetrics.rouge(hypotheses: f.hypotheses, referenceSets: f.referenceSets)
        report("multi-reference ROUGE F1 x100", worst: try checkROUGE(scores, f.json["rouge_multi"], "multi-reference ROUGE", f))
    }

    func testPorterStemmerMatchesNLTK() throws {
        let f = try fixture()
        guard let stems = f.json["stemmer"]?.objectValue, stems.count > 200 else { return XCTFail("fixture: no 'stemmer' words") }
        for (word, stem) in stems.members {
            XCTAssertEqual(String(decoding: PorterStemmer.stem(Array(word.utf8)), as: UTF8.self), stem.stringValue, "stem of '\(word)'")
        }
    }

    func testROUGEHandChecked() throws {
        // rouge-score's README example: 6 of 8 prediction unigrams (the x2, quick, brown, dog, jumps)
        // against 9 target tokens; LCS "the quick brown jumps the" = 5.
        let s = try ReferenceMetrics.rouge(
            hypotheses: ["The quick brown dog jumps on the log."], references: ["The quick brown fox jumps over the lazy dog"])
        let e = s.examples[0]
        XCTAssertEqual(e.rouge1.precision, 6.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(e.rouge1.recall, 6.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(e.rougeL.precision, 5.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(e.rougeL.recall, 5.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(e.rougeL.f1, 2 * (5.0 / 8) * (5.0 / 9) / (5.0 / 8 + 5.0 / 9), accuracy: 1e-12)
        XCTAssertEqual(ReferenceMetrics.rougeTokens("Hello, WORLD! It's 3.14 café"), ["hello", "world", "it", "s", "3", "14", "caf"])
        XCTAssertEqual(ReferenceMetrics.rougeTokens("running generalizations ran", useStemmer: true), ["run", "gener", "ran"])
        XCTAssertEqual(try ReferenceMetrics.rouge(hypotheses: ["same words here"], references: ["Same words, here."]).meanRougeLF1, 1)
        let disjoint = try ReferenceMetrics.rouge(hypotheses: ["alpha beta"], references: ["gamma delta"]).examples[0]
        XCTAssertEqual([disjoint.rouge1.f1, disjoint.rouge2.f1, disjoint.rougeL.f1], [0, 0, 0])
        XCTAssertEqual(try ReferenceMetrics.rouge(hypotheses: [""], references: ["text"]).examples[0].rougeL, ROUGEScore(precision: 0, recall: 0, f1: 0))
    }

    // MARK: SQuAD exact match and F1

    func testSQuADMatchesTheOfficialScript() throws {
        let f = try fixture()
        var worst = 0.0
        for (key, sets) in [("squad", f.references.map { [$0] }), ("squad_multi", f.referenceSets)] {
            let scores = try ReferenceMetrics.squad(hypotheses: f.hypotheses, referenceSets: sets)
            let em = try numbers(f.json[key]?["exact_match"], "\(key) exact_match")
            let f1 = try numbers(f.json[key]?["f1"], "\(key) f1")
            for (i, example) in scores.examples.enumerated() {
                XCTAssertEqual(example.exactMatch, em[i], "\(key) EM of pair \(i) (\(f.sources[i]))")
                worst = max(worst, assertClose(100 * example.f1, 100 * f1[i], "\(key) F1 x100 of pair \(i) (\(f.sources[i]))"))
            }
            worst = max(worst, assertClose(scores.exactMatch, try number(f.json[key]?["mean_exact_match"], "EM"), "\(key) mean EM"))
            worst = max(worst, assertClose(scores.f1, try number(f.json[key]?["mean_f1"], "F1"), "\(key) mean F1"))
        }
        for (i, expected) in try strings(f.json["squad_normalized"], "squad_normalized").enumerated() {
            assertSameText([ReferenceMetrics.squadNormalized(f.hypotheses[i])], [expected], "normalize_answer of hypothesis \(i) (\(f.sources[i]))")
        }
        report("SQuAD EM/F1 x100", worst: worst)
    }

    func testSQuADNormalizationExamples() throws {
        XCTAssertEqual(ReferenceMetrics.squadNormalized("The Cat!"), "cat")
        XCTAssertEqual(ReferenceMetrics.squadNormalized("An apple a day, the  end."), "apple day end")
        XCTAssertEqual(ReferenceMetrics.squadNormalized("theater anthem Athens"), "theater anthem athens")
        XCTAssertEqual(ReferenceMetrics.squadNormalized("state-of-the-art"), "stateoftheart")
        XCTAssertEqual(ReferenceMetrics.squadNormalized("ΟΔΟΣ"), "οδος", "Python lower() gives the final sigma")
        let s = try ReferenceMetrics.squad(hypotheses: ["The Eiffel Tower", "the cat sat", "nothing"], references: ["eiffel tower.", "Cat sat down", "something"])
        XCTAssertEqual(s.examples.map(\.exactMatch), [1, 0, 0])
        XCTAssertEqual(s.examples[1].f1, 0.8, accuracy: 1e-12)  // P = 2/2, R = 2/3
        XCTAssertEqual(s.exactMatch, 100.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(s.f1, 100 * 1.8 / 3, accuracy: 1e-9)
        // Canonically equivalent but different code points are different answers, as in Python.
        XCTAssertEqual(try ReferenceMetrics.squad(hypotheses: ["Café"], references: ["Cafe\u{301}"]).exactMatch, 0)
        // Both normalize to nothing: EM 1, F1 0 (v1.1).
        XCTAssertEqual(try ReferenceMetrics.squad(hypotheses: ["a an the"], references: ["The."]).examples[0], SQuADExample(exactMatch: 1, f1: 0))
    }

    // MARK: Classification

    func testClassificationMatchesScikitLearn() throws {
        let f = try fixture()
        let c = f.json["classification"]
        let scores = try ReferenceMetrics.classification(
            hypotheses: try strings(c?["hypotheses"], "hypotheses"), references: try strings(c?["references"], "references"))
        assertSameText(scores.labels, try strings(c?["labels"], "labels"), "labels")
        assertSameText(try strings(c?["hypotheses"], "h").map(ReferenceMetrics.normalizedLabel), try strings(c?["normalized_hypotheses"], "n"), "labels")
        let worst = max(
            assertClose(100 * scores.accuracy, 100 * (try number(c?["accuracy"], "accuracy")), "accuracy x100"),
            assertClose(100 * scores.macroF1, 100 * (try number(c?["macro_f1"], "macro_f1")), "macro-F1 x100"))
        report("accuracy/macro-F1 x100", worst: worst)
    }

    func testClassificationHandComputed() throws {
        // Labels a, b, c: a has TP 1, FP 1, FN 1 (F1 1/2); b is never predicted; c only predicted.
        let s = try ReferenceMetrics.classification(hypotheses: ["A.", "a", "c"], references: ["a", "B", "(a)"])
        XCTAssertEqual(s.labels, ["a", "b", "c"])
        XCTAssertEqual(s.labelF1, [0.5, 0, 0])
        XCTAssertEqual(s.accuracy, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(s.macroF1, 0.5 / 3, accuracy: 1e-12)
        XCTAssertEqual(ReferenceMetrics.normalizedLabel("  Not   Spam. "), "not spam")
        let perfect = try ReferenceMetrics.classification(hypotheses: ["yes", "no"], references: ["Yes", "NO!"])
        XCTAssertEqual([perfect.accuracy, perfect.macroF1], [1, 1])
        XCTAssertEqual(try ReferenceMetrics.classification(hypotheses: ["ne\u{301}gatif"], references: ["négatif"]).accuracy, 0)
    }

    // MARK: Input errors and text semantics

    func testEmptyMismatchedAndReferencelessInputsAreErrors() {
        func expectError(_ what: String, _ expected: String, _ body: () throws -> Any) {
            XCTAssertThrowsError(try body(), what) { e in
                guard case IFTError.invalidArgument(let m) = e else { return XCTFail("\(what): \(e)") }
                XCTAssertTrue(m.contains(expected), "\(what): \(m)")
            }
        }
        expectError("BLEU empty", "no hypotheses") { try ReferenceMetrics.bleu(hypotheses: [], references: []) }
        expectError("chrF empty", "no hypotheses") { try ReferenceMetrics.chrF(hypotheses: [], references: []) }
        expectError("ROUGE empty", "no hypotheses") { try ReferenceMetrics.rouge(hypotheses: [], references: []) }
        expectError("SQuAD empty", "no hypotheses") { try ReferenceMetrics.squad(hypotheses: [], references: []) }
        expectError("classification empty", "no hypotheses") { try ReferenceMetrics.classification(hypotheses: [], references: []) }
        expectError("BLEU mismatch", "2 hypotheses but 1 references") { try ReferenceMetrics.bleu(hypotheses: ["a", "b"], references: ["a"]) }
        expectError("ROUGE mismatch", "1 hypotheses but 2 references") { try ReferenceMetrics.rouge(hypotheses: ["a"], references: ["a", "b"]) }
        expectError("chrF no reference", "hypothesis 1 has no reference") {
            try ReferenceMetrics.chrF(hypotheses: ["a", "b"], referenceSets: [["a"], []])
        }
        expectError("SQuAD no reference", "hypothesis 0 has no reference") { try ReferenceMetrics.squad(hypotheses: ["a"], referenceSets: [[]]) }
    }

    func testPythonStringSemantics() {
        let s = { (t: String) in Array(t.unicodeScalars) }
        XCTAssertEqual(PythonText.split(s("a\u{a0}b\u{3000}c\u{1c}d\u{200b}e")).map(PythonText.string), ["a", "b", "c", "d\u{200b}e"])
        XCTAssertEqual(PythonText.string(PythonText.lowercased(s("ΣΑΣ Σ ΑΣ' İ"))), "σας σ ας' i\u{307}")
        XCTAssertFalse(PythonText.isWordCharacter("\u{301}"))
        XCTAssertTrue(PythonText.isWordCharacter("²"))
        XCTAssertEqual(PythonText.string(PythonText.replacing(s("aaa"), with: s("b"), in: s("aaaaa"))), "baa")
    }
}
