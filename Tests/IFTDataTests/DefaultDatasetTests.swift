import Foundation
import IFTData
import XCTest

/// Checks the committed default dataset, data/default/instructions.json (written by
/// Tools/make-default-dataset.py): its shape, no duplicates, and — so that exact-match accuracy on it
/// means something — recomputes the answers of every example whose instruction follows one of the
/// script's templates for arithmetic, conversions, sorting, string edits, parity, primes, JSON
/// extraction, comparisons, counting, sequences and the passive voice.
final class DefaultDatasetTests: XCTestCase {
    struct Row {
        var instruction: String
        var input: String
        var output: String
        var text: String { input.isEmpty ? instruction : instruction + " " + input }
    }

    static let path: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/IFTDataTests/DefaultDatasetTests.swift
        return parts.joined(separator: "/") + "/data/default/instructions.json"
    }()

    func loadRows() throws -> [Row] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.path))
        guard let array = try JSONSerialization.jsonObject(with: data) as? [Any] else {
            XCTFail("\(Self.path) is not a JSON array")
            return []
        }
        return try array.enumerated().map { (i, item) in
            let obj = try XCTUnwrap(item as? [String: Any], "element \(i) is not an object")
            let instruction = try XCTUnwrap(obj["instruction"] as? String, "element \(i): instruction is not a string")
            let input = try XCTUnwrap(obj["input"] as? String, "element \(i): input is not a string")
            let output = try XCTUnwrap(obj["output"] as? String, "element \(i): output is not a string")
            return Row(instruction: instruction, input: input, output: output)
        }
    }

    // MARK: - Helpers

    /// The capture groups of the first match of `pattern` in `text`, or nil.
    func groups(_ pattern: String, _ text: String) -> [String]? {
        let re = try! NSRegularExpression(pattern: pattern)
        let ns = text as NSString
        guard let m = re.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) else { return nil }
        return (1..<m.numberOfRanges).map { ns.substring(with: m.range(at: $0)) }
    }

    /// The example's data: its input, or else what follows the last ": " of the instruction
    /// (without a trailing "?" or ".").
    func payload(_ r: Row) -> String {
        if !r.input.isEmpty { return r.input }
        guard let range = r.instruction.range(of: ": ", options: .backwards) else { return "" }
        var s = String(r.instruction[range.upperBound...])
        while let last = s.last, last == "?" || last == "." { s.removeLast() }
        return s
    }

    /// The input, or else the first double-quoted string of the instruction.
    func quotedOrInput(_ r: Row) -> String? {
        r.input.isEmpty ? groups("\"([^\"]+)\"", r.instruction)?.first : r.input
    }

    func list(_ s: String) -> [String] { s.components(separatedBy: ", ") }

    func isPrime(_ n: Int) -> Bool {
        if n < 2 { return false }
        var d = 2
        while d * d <= n {
            if n % d == 0 { return false }
            d += 1
        }
        return true
    }

    /// 2500.0 -> "2500", 2.5 -> "2.5" (values are multiples of 1/4).
    func fmt(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(x)
    }

    // MARK: - Tests

    func testShapeCountsAndNoDuplicates() throws {
        let rows = try loadRows()
        XCTAssertGreaterThanOrEqual(rows.count, 600)
        var seen = Set<String>()
        for (i, r) in rows.enumerated() {
            XCTAssertFalse(r.instruction.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "element \(i): empty instruction")
            XCTAssertFalse(r.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "element \(i): empty output")
            XCTAssertLessThan(r.output.count, 60, "element \(i): output too long: \(r.output)")
            XCTAssertTrue(seen.insert(r.instruction + "\u{0}" + r.input).inserted, "element \(i): duplicate \(r.instruction) / \(r.input)")
        }
        let withInput = rows.filter { !$0.input.isEmpty }.count
        XCTAssertGreaterThan(Double(withInput) / Double(rows.count), 0.3, "about half the examples should use the input field")
        XCTAssertLessThan(Double(withInput) / Double(rows.count), 0.7, "about half the examples should use the input field")
    }

    func testLoadableByTheProjectsLoader() throws {
        let rows = try loadRows()
        let d = try IFTData.Dataset.load(Self.path)
        XCTAssertEqual(d.format, .alpaca)
        XCTAssertEqual(d.examples.count, rows.count)
        XCTAssertEqual(d.skippedCount, 0)
        for (e, r) in zip(d.examples, rows) {
            XCTAssertEqual(e.content, .instruction(instruction: r.instruction, input: r.input, output: r.output))
        }
        // ch. 7's 85/10/5 train/test/validation split, in file order.
        let splits = DatasetSplits(d.examples)
        XCTAssertEqual(splits.train.count, Int(0.85 * Double(rows.count)))
        XCTAssertEqual(splits.test.count, Int(0.10 * Double(rows.count)))
        XCTAssertEqual(splits.train.count + splits.test.count + splits.validation.count, rows.count)
    }

    /// Recomputes the answers it can; every task family must be found and every recomputed answer
    /// must match.
    func testAnswersAreCorrect() throws {
        let rows = try loadRows()
        var checked: [String: Int] = [:]
        func check(_ family: String, _ r: Row, _ expected: String) {
            checked[family, default: 0] += 1
            XCTAssertEqual(r.output, expected, "\(family): \(r.instruction) | \(r.input)")
        }

        let arithmetic: [(String, (Int, Int) -> Int)] = [
            (#"has (\d+) \w+ and buys (\d+) more"#, { $0 + $1 }),
            (#"holds (\d+) \w+\. Someone adds (\d+) more"#, { $0 + $1 }),
            (#"had (\d+) \w+ and gave away (\d+)"#, { $0 - $1 }),
            (#"There were (\d+) \w+ in a basket\. (\d+) were taken out"#, { $0 - $1 }),
            (#"buys (\d+) boxes with (\d+) \w+ in each box"#, { $0 * $1 }),
            (#"has (\d+) rows of (\d+) chairs"#, { $0 * $1 }),
            (#"shares (\d+) \w+ equally among (\d+) friends"#, { $0 / $1 }),
        ]

        for r in rows {
            let text = r.text
            let ins = r.instruction

            // Arithmetic word problems.
            for (pattern, op) in arithmetic {
                if let g = groups(pattern, text) {
                    check("arithmetic", r, String(op(Int(g[0])!, Int(g[1])!)))
                }
            }

            // Unit conversion: km -> m and Celsius -> Fahrenheit.
            if text.contains("meters"), !text.contains("kilometers"), let g = groups(#"([0-9.]+) km"#, text) {
                check("km to m", r, fmt(Double(g[0])! * 1000) + " m")
            }
            if text.contains("Fahrenheit"), let g = groups(#"(-?\d+) °C"#, text) {
                let c = Int(g[0])!
                check("Celsius to Fahrenheit", r, "\(c * 9 / 5 + 32) °F")
            }

            // Sorting.
            if ["Sort ", "Arrange ", "Order ", "Put "].contains(where: { ins.hasPrefix($0) }) {
                let items = list(payload(r))
                if ins.contains("reverse alphabetical") {
                    check("sort words", r, items.sorted(by: >).joined(separator: ", "))
                } else if ins.contains("alphabetical") {
                    check("sort words", r, items.sorted().joined(separator: ", "))
                } else if ins.contains("ascending") || ins.contains("smallest to largest") {
                    check("sort numbers", r, items.map { Int($0)! }.sorted().map(String.init).joined(separator: ", "))
                } else if ins.contains("descending") || ins.contains("largest to smallest") {
                    check("sort numbers", r, items.map { Int($0)! }.sorted(by: >).map(String.init).joined(separator: ", "))
                } else {
                    XCTFail("unrecognized sorting instruction: \(ins)")
                }
            }

            // String edits: reversal and uppercase.
            if ins.contains("backwards") || ins.contains("Reverse the letters") {
                let w = try XCTUnwrap(quotedOrInput(r), ins)
                check("reverse", r, String(w.reversed()))
            }
            if ins.contains("uppercase") || ins.contains("capital letters") {
                let t = try XCTUnwrap(quotedOrInput(r), ins)
                check("uppercase", r, t.uppercased())
            }

            // Even/odd and primes.
            if ins.contains("even or odd") {
                let n = try XCTUnwrap(Int(r.input.isEmpty ? groups(#"(\d+)"#, ins)![0] : r.input), ins)
                check("even/odd", r, n % 2 == 0 ? "even" : "odd")
            }
            if ins.contains("prime") {
                let n = try XCTUnwrap(Int(r.input.isEmpty ? groups(#"(\d+)"#, ins)![0] : r.input), ins)
                check("prime", r, isPrime(n) ? "yes" : "no")
            }

            // Extraction to JSON: a compact object, fixed key order, values taken from the text.
            if ins.contains("JSON") {
                checked["JSON", default: 0] += 1
                let obj = try XCTUnwrap(
                    try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any], "not a JSON object: \(r.output)")
                let keys = ins.contains("product") ? ["product", "color", "price"] : ["name", "age", "city"]
                XCTAssertEqual(Set(obj.keys), Set(keys), r.output)
                XCTAssertTrue(r.output.hasPrefix("{\"\(keys[0])\": "), "key order: \(r.output)")
                let source = r.input.isEmpty ? payload(r) : r.input
                for key in keys {
                    let value = obj[key].map { "\($0)" } ?? "<missing>"
                    XCTAssertTrue(source.contains(value), "\(key) \(value) is not in \(source)")
                }
            }

            // Comparisons.
            if ins.contains("largest number") || ins.contains("smallest number") {
                let xs = list(payload(r)).map { Int($0)! }
                check("min/max", r, String(ins.contains("largest") ? xs.max()! : xs.min()!))
            }
            if let g = groups(#"^Which is (larger|smaller), (\d+) or (\d+)\?$"#, ins) {
                let a = Int(g[1])!, b = Int(g[2])!
                check("larger/smaller", r, String(g[0] == "larger" ? max(a, b) : min(a, b)))
            }
            if let g = groups(#"^Which of the two numbers is (larger|smaller)\?$"#, ins) {
                let xs = list(r.input).map { Int($0)! }
                check("larger/smaller", r, String(g[0] == "larger" ? xs.max()! : xs.min()!))
            }

            // Counting words and letters.
            if ins.contains("How many words") || ins.contains("Count the words") {
                let s = ins.hasPrefix("How many words are in the sentence") ? try XCTUnwrap(quotedOrInput(r)) : payload(r)
                check("count words", r, String(s.split(separator: " ").count))
            }
            if ins.contains("How many letters") || ins.contains("Count the letters") {
                let w = try XCTUnwrap(quotedOrInput(r), ins)
                check("count letters", r, String(w.count))
            }

            // Next number in an arithmetic or geometric sequence.
            if ins.contains("next") {
                let xs = list(payload(r)).map { Int($0)! }
                let d = xs[1] - xs[0]
                if zip(xs, xs.dropFirst()).allSatisfy({ $1 - $0 == d }) {
                    check("sequence", r, String(xs.last! + d))
                } else {
                    let q = xs[1] / xs[0]
                    XCTAssertTrue(zip(xs, xs.dropFirst()).allSatisfy({ $1 == $0 * q }), "not a sequence: \(xs)")
                    check("sequence", r, String(xs.last! * q))
                }
            }

            // Active -> passive voice.
            if ins.contains("passive") {
                let s = r.input.isEmpty ? (quotedOrInput(r) ?? payload(r) + ".") : r.input
                let g = try XCTUnwrap(groups(#"^(\w+) (\w+) the (\w+)\.$"#, s), s)
                checked["passive", default: 0] += 1
                XCTAssertTrue(r.output.hasPrefix("The \(g[2]) was ") && r.output.hasSuffix(" by \(g[0])."), "\(s) -> \(r.output)")
            }

            // Closed-label classifications: the label set is right.
            if ins.contains("positive or negative") {
                checked["sentiment", default: 0] += 1
                XCTAssertTrue(["positive", "negative"].contains(r.output), r.output)
            }
            if ins.contains("animal") && ins.contains("mineral") {
                checked["animal/plant/mineral", default: 0] += 1
                XCTAssertTrue(["animal", "plant", "mineral"].contains(r.output), r.output)
            }
        }

        let families = [
            "arithmetic", "km to m", "Celsius to Fahrenheit", "sort numbers", "sort words", "reverse", "uppercase",
            "even/odd", "prime", "JSON", "min/max", "larger/smaller", "count words", "count letters", "sequence",
            "passive", "sentiment", "animal/plant/mineral",
        ]
        for f in families {
            XCTAssertGreaterThanOrEqual(checked[f, default: 0], 3, "too few \(f) examples found: \(checked[f, default: 0])")
        }
        XCTAssertGreaterThanOrEqual(checked["arithmetic", default: 0], 40)
        XCTAssertGreaterThanOrEqual(checked.filter { $0.value >= 3 }.count, 8)
    }
}
