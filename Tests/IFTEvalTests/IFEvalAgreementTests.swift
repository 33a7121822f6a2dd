import IFTCore
import IFTModel
import XCTest

@testable import IFTEval

/// Line-by-line agreement with the official checker code on 2,700 synthetic responses (five per
/// prompt: the prompt itself, the prompt upper-cased between a "Sure" line and a P.S., an attempt
/// to follow every instruction, an attempt that misses each count by one, and the attempt in
/// markdown bold with a closing line). `Tools/make-ifeval-fixture.py` scored them with lm-eval's
/// copy of google-research's `instruction_following_eval` (nltk 3.10.4 with the English Punkt
/// model, langdetect 1.0.9 seeded with 0) and saved the official strict and loose
/// `follow_instruction_list`s in `Fixtures/ifeval/official-results.jsonl`.
final class IFEvalAgreementTests: XCTestCase {
    struct Disagreement: CustomStringConvertible {
        let key: Int, variant: String, mode: IFEvalMode, instruction: String, official: Bool
        var description: String { "key \(key) \(variant) \(mode.rawValue) \(instruction): official \(official), ours \(!official)" }
    }

    /// Rebuilds the responses the fixture leaves out (see `rebuilt` in the script).
    static func rebuilt(_ variant: String, prompt: String, follow: String?) -> String? {
        switch variant {
        case "prompt": return prompt
        case "upper": return "Sure, here it is:\n" + prompt.uppercased() + "\nP.S. I HOPE THIS HELPS"
        case "markdown":
            guard let follow else { return nil }
            var s = Array(follow.unicodeScalars)
            if let nl = s.firstIndex(of: "\n") { s.replaceSubrange(nl...nl, with: Array("**\n".unicodeScalars)) }
            return "**" + PyText.string(s) + "\n\nLet me know!"
        default: return nil
        }
    }

    func disagreements() throws -> (checked: Int, [Disagreement]) {
        let prompts = try IFEval.loadPrompts(path: try EvalTestSupport.sharedData("ifeval/input_data.jsonl"))
        let byKey = Dictionary(prompts.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = try ResponseRows(path: EvalTestSupport.fixture("ifeval/official-results.jsonl"))
        var follow: [Int: String] = [:]
        var found: [Disagreement] = []
        var checked = 0
        for row in rows.rows {
            let o = row.object
            let key = try XCTUnwrap(o["key"]?.intValue), variant = try XCTUnwrap(o["variant"]?.stringValue)
            let prompt = try XCTUnwrap(byKey[key], "fixture line \(row.location): unknown key \(key)")
            let response = try XCTUnwrap(
                o["response"]?.stringValue ?? Self.rebuilt(variant, prompt: prompt.prompt, follow: follow[key]),
                "fixture line \(row.location): no response")
            if variant == "follow" { follow[key] = response }
            for mode in IFEvalMode.allCases {
                let official = try XCTUnwrap(o[mode.rawValue]?.arrayValue).compactMap(\.boolValue)
                let ours = IFEval.score(prompt, response: response, mode: mode).followed
                XCTAssertEqual(official.count, ours.count, "key \(key)")
                for (i, (a, b)) in zip(official, ours).enumerated() {
                    checked += 1
                    if a != b {
                        found.append(Disagreement(key: key, variant: variant, mode: mode, instruction: prompt.instructionIDs[i], official: a))
                    }
                }
            }
        }
        return (checked, found)
    }

    /// The measured disagreements (32 of 8,320 verdicts, 99.6% agreement), all from the two
    /// components that are approximations by design:
    /// - `language:response_language`, `change_case:english_capital`/`english_lowercase`:
    ///   langdetect's n-gram profiles are not embedded (`IFEvalLanguage`). It takes ALL-CAPS English
    ///   for other languages (1021, 1779, 2247, 3204, 3456), weighs mixed-script and mixed-language
    ///   text by n-gram likelihood rather than by majority and function words (240, 1582, 2596, 3311,
    ///   3335, 3502), and calls short lowercase English lines cs/so/... (1153, 1287, 2943, 3608).
    /// - `length_constraints:number_sentences`: Punkt's orthographic context is approximated
    ///   (`PunktSentences`): after the initial `a.`, nltk knows `Write`/`RATE` as words seen in
    ///   lowercase and splits; here they count as names and do not (1174, 2139).
    static let knownDisagreements: Set<String> = [
        "key 1021 miss loose change_case:english_capital: official false, ours true",
        "key 1153 miss loose change_case:english_lowercase: official false, ours true",
        "key 1174 markdown loose length_constraints:number_sentences: official false, ours true",
        "key 1287 prompt loose change_case:english_lowercase: official false, ours true",
        "key 1287 miss loose change_case:english_lowercase: official false, ours true",
        "key 1582 prompt loose language:response_language: official true, ours false",
        "key 1582 upper loose language:response_language: official true, ours false",
        "key 1582 miss loose language:response_language: official true, ours false",
        "key 1779 miss loose change_case:english_capital: official false, ours true",
        "key 2139 miss strict length_constraints:number_sentences: official true, ours false",
        "key 2139 miss loose length_constraints:number_sentences: official true, ours false",
        "key 2247 follow strict change_case:english_capital: official false, ours true",
        "key 2247 follow loose change_case:english_capital: official false, ours true",
        "key 2247 markdown loose change_case:english_capital: official false, ours true",
        "key 240 miss strict language:response_language: official false, ours true",
        "key 240 miss loose language:response_language: official false, ours true",
        "key 2596 follow strict language:response_language: official true, ours false",
        "key 2596 follow loose language:response_language: official true, ours false",
        "key 2596 markdown strict language:response_language: official true, ours false",
        "key 2596 markdown loose language:response_language: official true, ours false",
        "key 2943 prompt loose change_case:english_lowercase: official false, ours true",
        "key 3204 follow strict change_case:english_capital: official false, ours true",
        "key 3204 follow loose change_case:english_capital: official false, ours true",
        "key 3204 markdown loose change_case:english_capital: official false, ours true",
        "key 3311 follow strict language:response_language: official false, ours true",
        "key 3335 follow strict language:response_language: official true, ours false",
        "key 3335 markdown strict language:response_language: official true, ours false",
        "key 3456 miss loose change_case:english_capital: official false, ours true",
        "key 3502 follow strict language:response_language: official true, ours false",
        "key 3502 markdown strict language:response_language: official true, ours false",
        "key 3608 follow strict change_case:english_lowercase: official false, ours true",
        "key 3608 miss loose change_case:english_lowercase: official false, ours true",
    ]

    func testAgreementWithTheOfficialImplementation() throws {
        let (checked, found) = try disagreements()
        let agreement = Double(checked - found.count) / Double(checked)
        print("IFEval agreement with the official code: \(checked - found.count)/\(checked) verdicts (\(agreement))")
        for d in found { print("  disagreement: \(d)") }
        XCTAssertEqual(checked, 2 * 5 * 832)
        // Every checker but the two approximated components agrees on every verdict...
        let approximated: Set<String> = [
            "language:response_language", "change_case:english_capital", "change_case:english_lowercase",
            "length_constraints:number_sentences",
        ]
        XCTAssertEqual(found.filter { !approximated.contains($0.instruction) }.map(\.description), [])
        // ...and those disagree exactly where measured: a new disagreement (or a fixed one) shows here.
        XCTAssertEqual(Set(found.map(\.description)).symmetricDifference(Self.knownDisagreements).sorted(), [])
    }

    /// The text utilities alone, on the 540 prompts as written and upper-cased (1,080 texts,
    /// 12,000 words of real prompt English): Punkt sentence counts, `\w+` word counts and
    /// `word_tokenize` all-capital word counts against nltk's (`Fixtures/ifeval/official-counts.jsonl`).
    func testTextCountsAgreeWithNLTK() throws {
        let prompts = try IFEval.loadPrompts(path: try EvalTestSupport.sharedData("ifeval/input_data.jsonl"))
        let byKey = Dictionary(prompts.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = try ResponseRows(path: EvalTestSupport.fixture("ifeval/official-counts.jsonl"))
        var mismatches: [String] = []
        var texts = 0
        for row in rows.rows {
            let key = try XCTUnwrap(row.object["key"]?.intValue)
            let prompt = try XCTUnwrap(byKey[key]).prompt
            for (name, text) in [("prompt", prompt), ("upper", prompt.uppercased())] {
                let official = try XCTUnwrap(row.object[name]?.arrayValue).compactMap(\.intValue)
                let s = PyText.scalars(text)
                let ours = [PunktSentences.count(s), PyText.countWords(s), TreebankWords.countCapitalWords(s)]
                texts += 1
                if ours != official { mismatches.append("key \(key) \(name): official \(official), ours \(ours)") }
            }
        }
        print("IFEval text counts: \(texts - mismatches.count)/\(texts) texts agree with nltk")
        for m in mismatches { print("  mismatch: \(m)") }
        XCTAssertEqual(texts, 2 * prompts.count)
        // Measured: 1,078/1,080. The two left are the approximated orthographic context: in
        // "marked with SECTION X. Finish the poem", nltk knows "finish" in lowercase and splits
        // after the initial "X."; here "Finish" counts as a name and does not.
        XCTAssertEqual(mismatches, [
            "key 1127 prompt: official [3, 38, 5], ours [2, 38, 5]",
            "key 1127 upper: official [3, 38, 37], ours [2, 38, 37]",
        ])
    }
}
