import Foundation
import IFTCore
import XCTest

@testable import IFTModel

final class JSONTests: XCTestCase {
    func testParsesEveryKind() throws {
        let v = try JSONValue.parse(#"""
        {"a": [1, -2, 3.5, 1e3, -0.25E-2, 0], "b": {"c": null, "d": true, "e": false},
         "s": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00✓", "big": 12345678901234567890, "empty": {}, "ea": []}
        """#)
        XCTAssertEqual(v["a"], .array([.int(1), .int(-2), .double(3.5), .double(1000), .double(-0.0025), .int(0)]))
        XCTAssertEqual(v["b"]?["c"], .null)
        XCTAssertEqual(v["b"]?["d"]?.boolValue, true)
        XCTAssertEqual(v["s"]?.stringValue, "q\"\\/\u{8}\u{c}\n\r\té😀✓")
        XCTAssertEqual(v["big"]?.doubleValue, Double("12345678901234567890"))  // too big for Int: a double
        XCTAssertNil(v["big"]?.intValue)
        XCTAssertEqual(v["a"]?.arrayValue?[3].intValue, 1000)  // whole doubles convert
        XCTAssertEqual(v.objectValue?.keys, ["a", "b", "s", "big", "empty", "ea"])  // document order
        XCTAssertEqual(v["empty"], .object(JSONObject()))
    }

    func testRoundTripThroughText() throws {
        let text = #"{"x":[1,2.5,-3.0,1e-05,null,true,"a\"b\n\u0001"],"y":{"z":{}}}"#
        let v = try JSONValue.parse(text)
        XCTAssertEqual(try JSONValue.parse(v.description), v)
        XCTAssertEqual(v.description, #"{"x":[1,2.5,-3.0,1e-05,null,true,"a\"b\n\u0001"],"y":{"z":{}}}"#)
    }

    func testErrorsHaveLineAndColumn() {
        let cases: [(String, String, String)] = [
            ("{\"a\": 1,\n  \"b\": }", "line 2, column 8", "expected a value"),
            ("[1, 2,, 3]", "line 1, column 7", "expected a value"),
            ("{\"a\" 1}", "line 1, column 6", "expected ':'"),
            ("[1 2]", "line 1, column 4", "expected ',' or ']'"),
            ("\"abc", "line 1, column 1", "unterminated string"),
            ("01", "line 1, column 1", "leading zero"),
            ("1.", "line 1, column 3", "digit after '.'"),
            ("tru", "line 1, column 1", "'true'"),
            ("\"\\x\"", "line 1, column 2", "invalid escape"),
            ("\"\\ud800\"", "line 1, column 2", "unpaired surrogate"),
            ("\"a\u{1}\"", "line 1, column 3", "control character"),
            ("{} x", "line 1, column 4", "after the JSON value"),
            ("", "line 1, column 1", "end of input"),
            ("{\"k\": 1, \"k\": 2}", "line 1, column 10", "duplicate key"),
            (String(repeating: "[", count: 600), "line 1, column 513", "nested more than 512"),
        ]
        for (text, loc, msg) in cases {
            assertFileError(try JSONValue.parse(text, path: "x.json"), path: "x.json", location: [loc], contains: [msg])
        }
        assertFileError(try JSONValue.parse([0x22, 0xFF, 0x22], path: "x.json"), path: "x.json", location: ["line 1"], contains: ["UTF-8"])
    }

    func testParseFile() throws {
        let dir = try TestSupport.tempDir(self)
        try TestSupport.writeBytes(Array("\u{FEFF}{\"a\": [true]}\n".utf8), to: dir + "/c.json")
        XCTAssertEqual(try JSONValue.parse(contentsOf: dir + "/c.json")["a"], .array([.bool(true)]))
        assertFileError(try JSONValue.parse(contentsOf: dir + "/none.json"), path: dir + "/none.json", location: ["open"])
    }
}
