import IFTCore
@testable import IFTModel
import XCTest

/// Inputs the fuzzers (Tools/fuzz.sh) found mishandled, reduced to what triggered it.
final class FuzzRegressionTests: XCTestCase {
    /// tokenizer.json: one token id of 600,000,000 among a handful made the loader size its tables
    /// by the largest id (a 9.6 GB allocation, out of memory). Now refused with the id and the gap.
    func testTokenizerWithAStrayHugeIDIsRefused() throws {
        let json = #"""
            {"model": {"type": "BPE", "merges": [], "vocab": {"a": 0, "b": 1, "c": 600000000}},
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}}
            """#
        XCTAssertThrowsError(try Tokenizer(huggingFaceJSON: JSONValue.parse(Array(json.utf8), path: "t.json"), path: "t.json")) { e in
            let message = "\(e)"
            XCTAssertTrue(message.contains("t.json:model.vocab") && message.contains("token id 600000000"), message)
        }
        // The same through added_tokens.
        let added = json.replacingOccurrences(of: #""c": 600000000"#, with: #""c": 2"#)
            .replacingOccurrences(of: #"{"model""#, with: #"{"added_tokens": [{"id": 2147483000, "content": "<x>"}], "model""#)
        XCTAssertThrowsError(try Tokenizer(huggingFaceJSON: JSONValue.parse(Array(added.utf8), path: "t.json"), path: "t.json")) { e in
            XCTAssertTrue("\(e)".contains("token id 2147483000"), "\(e)")
        }
        // Sparse ids within the allowance still load.
        let sparse = json.replacingOccurrences(of: "600000000", with: "1000")
        XCTAssertEqual(try Tokenizer(huggingFaceJSON: JSONValue.parse(Array(sparse.utf8), path: "t.json")).vocabularySize, 1001)
    }
}
