import IFTCore
import IFTData
import IFTModel
import XCTest

final class CollateTests: XCTestCase {
    typealias S = DataTestSupport
    let pad: Int32 = 50256

    /// An example whose tokens are `ids` plus the end-of-text id, all learned.
    func ex(_ ids: [Int32], eot: Int32 = 50256) -> TokenizedExample {
        TokenizedExample(tokens: ids + [eot], isResponse: [Bool](repeating: true, count: ids.count + 1))
    }

    func rows(_ flat: [Int32], _ t: Int) -> [[Int32]] { stride(from: 0, to: flat.count, by: t).map { Array(flat[$0..<($0 + t)]) } }

    func testChapter7CollateKeepsTheFirstEndOfTextAndIgnoresTheRestOfThePadding() {
        // The book's example: [0..4], [5, 6], [7, 8, 9] with pad 50256.
        let b = Collate.batch([ex([0, 1, 2, 3, 4]), ex([5, 6]), ex([7, 8, 9])], options: CollateOptions(padID: pad))
        XCTAssertEqual(b.batchSize, 3)
        XCTAssertEqual(b.length, 5)
        XCTAssertEqual(rows(b.inputs, 5), [[0, 1, 2, 3, 4], [5, 6, pad, pad, pad], [7, 8, 9, pad, pad]])
        XCTAssertEqual(rows(b.targets, 5), [[1, 2, 3, 4, pad], [6, pad, -100, -100, -100], [8, 9, pad, -100, -100]])
        XCTAssertEqual(b.lengths, [5, 2, 3])
        XCTAssertNil(b.positions)
    }

    func testARealEndOfTextInsideTheTextIsNotPadding() {
        // Example 2 contains end-of-text tokens of its own, one right before its final one.
        let b = Collate.batch([ex([1, 2, 3, 4, 5, 6]), ex([7, pad, 8, pad])], options: CollateOptions(padID: pad))
        XCTAssertEqual(rows(b.inputs, 6)[1], [7, pad, 8, pad, pad, pad])
        XCTAssertEqual(rows(b.targets, 6)[1], [pad, 8, pad, pad, -100, -100])
        XCTAssertEqual(b.lengths[1], 4)
        // A different pad id: padding is still found from the lengths.
        let z = Collate.batch([ex([1, 2, 3]), ex([0, 0])], options: CollateOptions(padID: 0))
        XCTAssertEqual(rows(z.inputs, 3), [[1, 2, 3], [0, 0, pad]])
        XCTAssertEqual(rows(z.targets, 3), [[2, 3, pad], [0, pad, -100]])
    }

    func testTruncationCutsRowsToMaxLength() {
        let b = Collate.batch([ex([0, 1, 2, 3, 4]), ex([5, 6])], options: CollateOptions(padID: pad, maxLength: 3))
        XCTAssertEqual(b.length, 3)
        XCTAssertEqual(rows(b.inputs, 3), [[0, 1, 2], [5, 6, pad]])
        XCTAssertEqual(rows(b.targets, 3), [[1, 2, 3], [6, pad, -100]])
        XCTAssertEqual(b.lengths, [3, 2])
        // A batch shorter than maxLength is not padded up to it.
        XCTAssertEqual(Collate.batch([ex([1, 2])], options: CollateOptions(padID: pad, maxLength: 1024)).length, 2)
    }

    func testMaskingLeavesOnlyTheResponseAndItsEndOfText() throws {
        let et = try ExampleTokenizer(tokenizer: S.tokenizer(), style: .alpaca)
        let t = try et.tokenize(Example(.instruction(instruction: "Add.", input: "", output: "5"), source: SourceLocation(path: "a", line: 1)))
        let promptCount = AlpacaPrompt.prompt(instruction: "Add.", input: "").utf8.count
        XCTAssertEqual(t.count, promptCount + 2)
        let b = Collate.batch([t, ex([1])], options: CollateOptions(padID: S.eot, maskInstructions: true))
        let row = Array(b.targetRow(0))
        XCTAssertEqual(row.filter { $0 != -100 }, S.bytes("5") + [S.eot])
        XCTAssertEqual(row[promptCount - 1], S.bytes("5")[0], "the last prompt position predicts the response")
        XCTAssertEqual(row[promptCount], S.eot)
        let unmasked = Collate.batch([t], options: CollateOptions(padID: S.eot))
        XCTAssertEqual(unmasked.learnedTargetCount, t.count - 1)
    }

    func testMaskingLearnsEveryAssistantTurnWithItsTurnEnd() throws {
        let et = try ExampleTokenizer(tokenizer: S.tokenizer(), style: .chatml)
        let chat = Example(.chat([.system("S"), .user("Hi"), .assistant("Yo"), .user("Q"), .assistant("A")]), source: SourceLocation(path: "c", line: 1))
        let t = try et.tokenize(chat)
        let b = Collate.batch([t], options: CollateOptions(padID: S.eot, maskInstructions: true))
        let end = S.id("<|im_end|>")
        let learned = b.targets.filter { $0 != -100 }
        XCTAssertEqual(learned, S.bytes("Yo") + [end, 10] + S.bytes("A") + [end, 10, S.eot])
        // Every learned target is a token of a response segment, in place.
        for (j, target) in b.targets.enumerated() where target != -100 {
            XCTAssertTrue(t.isResponse[j + 1])
            XCTAssertEqual(target, t.tokens[j + 1])
        }
        // The same with Phi-3: `<|end|>` stays in the loss for each turn.
        let phi = try ExampleTokenizer(tokenizer: S.tokenizer(), style: .phi3).tokenize(chat)
        let pb = Collate.batch([phi], options: CollateOptions(padID: S.eot, maskInstructions: true))
        XCTAssertEqual(pb.targets.filter { $0 != -100 }, S.bytes("Yo") + [S.id("<|end|>"), 10] + S.bytes("A") + [S.id("<|end|>"), 10, S.eot])
    }

    func testBatchesChunkInOrder() {
        let exs = (0..<5).map { ex([Int32($0), Int32($0)]) }
        let bs = Collate.batches(exs, batchSize: 2, options: CollateOptions(padID: pad))
        XCTAssertEqual(bs.map(\.batchSize), [2, 2, 1])
        XCTAssertEqual(bs[2].inputs, [4, 4])
        XCTAssertEqual(Collate.batches(exs, batchSize: 2, options: CollateOptions(padID: pad), dropLast: true).count, 2)
    }
}
