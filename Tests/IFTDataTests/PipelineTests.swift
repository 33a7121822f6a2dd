import IFTCore
import IFTData
import IFTModel
import XCTest

final class PipelineTests: XCTestCase {
    typealias S = DataTestSupport

    func testChapter7FileEndToEnd() throws {
        guard let path = S.ch07Data else { throw XCTSkip("instruction-data.json not found") }
        let tok = try S.tokenizer()
        let data = try PreparedData.prepare(path: path, tokenizer: tok, options: DataOptions(maxLength: 1024, maskInstructions: true))
        XCTAssertEqual([data.train.count, data.validation.count, data.test.count], [935, 55, 110])
        XCTAssertEqual(data.collate.padID, S.eot)
        let ordered = data.batches(data.train, batchSize: 8, dropLast: true)
        XCTAssertEqual(ordered.count, 116)
        XCTAssertTrue(ordered.allSatisfy { $0.batchSize == 8 && $0.length <= 1024 && $0.inputs.count == 8 * $0.length })
        let shuffled = data.batches(data.train, batchSize: 8, shuffleSeed: 1, dropLast: true)
        XCTAssertEqual(shuffled.count, 116)
        XCTAssertNotEqual(shuffled[0].inputs, ordered[0].inputs)
        XCTAssertEqual(data.batches(data.train, batchSize: 8, shuffleSeed: 1, dropLast: true), shuffled)
        // Every learned target is a response token: the first one of the first row starts its output.
        let first = data.train[0]
        XCTAssertEqual(ordered[0].targets.first { $0 != Batch.ignoreIndex }, first.tokens[first.isResponse.firstIndex(of: true)!])

        let report = data.paddingReport(batchSize: 8)
        print(
            "ch. 7 train split, byte tokens, batches of 8, max 1024: padding \(report.unpackedPaddingFraction) unpacked "
                + "(\(report.unpackedRows) rows), \(report.packedPaddingFraction) packed (\(report.packedRows) rows)")
        XCTAssertLessThan(report.packedPaddingFraction, report.unpackedPaddingFraction)
        XCTAssertLessThan(report.packedRows, report.unpackedRows)
        var packedOptions = DataOptions(maxLength: 256, maskInstructions: true, packing: true)
        packedOptions.splitSeed = 5
        let packed = try PreparedData.prepare(path: path, tokenizer: tok, options: packedOptions)
        let pb = packed.batches(packed.train, batchSize: 4)
        XCTAssertTrue(pb.allSatisfy { $0.positions != nil && $0.segments != nil && $0.length <= 256 })
        XCTAssertEqual(pb.reduce(0) { $0 + $1.lengths.reduce(0, +) }, packed.train.reduce(0) { $0 + min($1.count - 1, 256) })
    }

    func testPackingNeedsAMaximumLength() throws {
        let d = try Dataset.load(S.fixture("alpaca.jsonl"))
        XCTAssertThrowsError(try PreparedData.prepare(d, tokenizer: S.tokenizer(), options: DataOptions(packing: true)))
    }
}
