import IFTCore
import XCTest

@testable import IFTEval

/// Existing response files: JSON arrays and JSONL, with clear errors naming the row.
final class ResponseRowsTests: XCTestCase {
    func write(_ text: String, _ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "ift-rows-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testJSONArrayAndJSONL() throws {
        let a = try ResponseRows(path: try write(#"[{"output": "a", "model_response": "b"}, {"output": "c", "model_response": "d"}]"#, "a.json"))
        XCTAssertEqual(try a.strings("output"), ["a", "c"])
        XCTAssertEqual(try a.strings("model_response"), ["b", "d"])
        let l = try ResponseRows(path: try write("{\"prompt\": \"p\", \"response\": \"r\"}\n\n{\"prompt\": \"q\", \"response\": \"s\"}\r\n", "b.jsonl"))
        XCTAssertEqual(try l.strings("response"), ["r", "s"])
        XCTAssertEqual(l.rows.map(\.location), [1, 3])
    }

    func testTheChapter7ResponsesFileReads() throws {
        let path = try EvalTestSupport.sharedData("raschka-ch07/instruction-data-with-response.json")
        let rows = try ResponseRows(path: path)
        XCTAssertEqual(try rows.strings("model_response").count, try rows.strings("output").count)
        XCTAssertGreaterThan(rows.rows.count, 50)
    }

    func testBadRowsAreClearErrors() throws {
        let missing = try ResponseRows(path: try write("{\"prompt\": \"p\"}\n{\"prompt\": \"q\", \"response\": \"s\"}\n", "c.jsonl"))
        XCTAssertThrowsError(try missing.strings("response")) { e in
            XCTAssertTrue("\(e)".contains("c.jsonl:1: expected a string field 'response' (the row has: prompt)"), "\(e)")
        }
        XCTAssertThrowsError(try ResponseRows(path: try write("{\"a\": 1}\n{oops\n", "d.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("d.jsonl:2"), "\(e)")
        }
        XCTAssertThrowsError(try ResponseRows(path: try write("[1, 2]", "e.json"))) { e in
            XCTAssertTrue("\(e)".contains("element 1: expected an object"), "\(e)")
        }
        XCTAssertThrowsError(try ResponseRows(path: try write("\n\n", "f.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("no rows"), "\(e)")
        }
    }
}
