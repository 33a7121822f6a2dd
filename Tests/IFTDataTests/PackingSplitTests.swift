import IFTCore
import IFTData
import IFTModel
import XCTest

final class PackingSplitTests: XCTestCase {
    typealias S = DataTestSupport
    let eot: Int32 = 99

    func ex(_ ids: [Int32], response: Int? = nil) -> TokenizedExample {
        let n = ids.count + 1
        let firstResponse = response ?? 0
        return TokenizedExample(tokens: ids + [eot], isResponse: (0..<n).map { $0 >= firstResponse })
    }

    func testBestFitDecreasingPlacesEachItemInTheTightestRow() {
        let rows = Packing.bestFitDecreasing(sizes: [5, 4, 3, 3, 2, 1], capacity: 8)
        XCTAssertEqual(rows, [[0, 2], [1, 3, 5], [4]])
        XCTAssertEqual(Packing.bestFitDecreasing(sizes: [0, 2, 0], capacity: 4), [[1]], "empty items are left out")
    }

    func testBestFitDecreasingIsAValidPackingOnRandomSizes() {
        var g = SeededGenerator(seed: 11)
        for _ in 0..<50 {
            let cap = 16 + Int(g.next() % 64)
            let sizes = (0..<(1 + Int(g.next() % 200))).map { _ in 1 + Int(g.next() % UInt64(cap)) }
            let rows = Packing.bestFitDecreasing(sizes: sizes, capacity: cap)
            XCTAssertEqual(rows.flatMap { $0 }.sorted(), Array(sizes.indices))
            XCTAssertTrue(rows.allSatisfy { $0.reduce(0) { $0 + sizes[$1] } <= cap })
            let total = sizes.reduce(0, +)
            XCTAssertGreaterThanOrEqual(rows.count, (total + cap - 1) / cap)
            // Any-fit packing: fewer than 2 * total / cap + 1 rows.
            let loads = rows.map { $0.reduce(0) { $0 + sizes[$1] } }
            XCTAssertLessThanOrEqual(rows.count, 2 * ((total + cap - 1) / cap) + 1)
            XCTAssertEqual(loads.reduce(0, +), total)
        }
    }

    func testPackedBatchRestartsPositionsAndSeparatesSegments() {
        // Slots (true length - 1): 3, 1, 2, 4. Decreasing: #3 (4) opens row 0, #0 (3) opens row 1,
        // #2 (2) fills row 1 exactly, #1 (1) goes to row 0.
        let exs = [ex([1, 2, 3]), ex([4]), ex([5, 6]), ex([7, 8, 9, 10])]
        let rows = Packing.pack(exs, maxLength: 5)
        XCTAssertEqual(rows, [[3, 1], [0, 2]])
        let b = Packing.batch(exs, rows: rows, options: CollateOptions(padID: 0, maxLength: 5))
        XCTAssertEqual(b.length, 5)
        XCTAssertEqual(b.inputs, [7, 8, 9, 10, 4, /**/ 1, 2, 3, 5, 6])
        XCTAssertEqual(b.targets, [8, 9, 10, eot, eot, /**/ 2, 3, eot, 6, eot])
        XCTAssertEqual(b.positions, [0, 1, 2, 3, 0, /**/ 0, 1, 2, 0, 1])
        XCTAssertEqual(b.segments, [0, 0, 0, 0, 1, /**/ 0, 0, 0, 1, 1])
        XCTAssertEqual(b.lengths, [5, 5])
    }

    func testPackedPaddingHasItsOwnSegmentAndMaskingApplies() {
        // Prompt tokens 1, 2 (not learned), response 3 + end-of-text.
        let exs = [ex([1, 2, 3], response: 2), ex([4, 5])]
        let b = Packing.batch(exs, rows: [[0], [1]], options: CollateOptions(padID: 0, maxLength: 8, maskInstructions: true))
        XCTAssertEqual(b.length, 3)
        XCTAssertEqual(b.inputs, [1, 2, 3, 4, 5, 0])
        XCTAssertEqual(b.targets, [-100, 3, eot, 5, eot, -100])
        XCTAssertEqual(b.positions, [0, 1, 2, 0, 1, 0])
        XCTAssertEqual(b.segments, [0, 0, 0, 0, 0, 1])
        XCTAssertEqual(b.lengths, [3, 2])
        // Too-long examples are truncated to maxLength positions.
        let long = Packing.batch([ex(Array(1...10))], rows: [[0]], options: CollateOptions(padID: 0, maxLength: 4))
        XCTAssertEqual(long.inputs, [1, 2, 3, 4])
        XCTAssertEqual(long.targets, [2, 3, 4, 5])
    }

    func testPackingReportsLessPadding() {
        let exs = [ex(Array(1...7)), ex([1]), ex([1, 2]), ex(Array(1...5)), ex([1, 2, 3])]
        // Slots 7, 1, 2, 5, 3 (18 tokens). Unpacked, batches of 2: [7,1] -> 14, [2,5] -> 10, [3] -> 3: 27.
        // Packed into 8: [7,1], [5,3], [2] -> rows 8, 8, 2; batches of 2: 16 + 2 = 18.
        let r = Packing.report(exs, batchSize: 2, maxLength: 8)
        XCTAssertEqual(r.tokens, 18)
        XCTAssertEqual(r.packedRows, 3)
        XCTAssertEqual(r.unpackedRows, 5)
        XCTAssertEqual(r.unpackedPaddingFraction, 9.0 / 27.0, accuracy: 1e-12)
        XCTAssertEqual(r.packedPaddingFraction, 0, accuracy: 1e-12)
        let bs = Packing.batches(exs, batchSize: 2, options: CollateOptions(padID: 0, maxLength: 8))
        XCTAssertEqual(bs.map(\.batchSize), [2, 1])
        XCTAssertEqual(bs.map(\.length), [8, 2])
    }

    func testChapter7SplitSizes() throws {
        let s = DatasetSplits(Array(0..<1100))
        XCTAssertEqual([s.train.count, s.test.count, s.validation.count], [935, 110, 55])
        XCTAssertEqual(s.train.first, 0)
        XCTAssertEqual(s.test.first, 935)
        XCTAssertEqual(s.validation.first, 1045)
        guard let path = S.ch07Data else { throw XCTSkip("instruction-data.json not found") }
        let d = try Dataset.load(path)
        let split = DatasetSplits(d.examples)
        XCTAssertEqual([split.train.count, split.test.count, split.validation.count], [935, 110, 55])
        XCTAssertEqual(split.test.first?.source, d.examples[935].source)
    }

    func testSplitFractionsFollowPythonTruncation() {
        for n in [0, 1, 7, 10, 99, 101, 1000, 1234] {
            let s = DatasetSplits(Array(0..<n))
            XCTAssertEqual(s.train.count, Int(0.85 * Double(n)))
            XCTAssertEqual(s.test.count, Int(0.1 * Double(n)))
            XCTAssertEqual(s.train.count + s.test.count + s.validation.count, n)
        }
        let custom = DatasetSplits(Array(0..<100), trainFraction: 0.9, testFraction: 0.05)
        XCTAssertEqual([custom.train.count, custom.test.count, custom.validation.count], [90, 5, 5])
    }

    func testSeededShuffleIsReproducible() {
        let a = DatasetSplits(Array(0..<200), shuffleSeed: 123)
        let b = DatasetSplits(Array(0..<200), shuffleSeed: 123)
        let c = DatasetSplits(Array(0..<200), shuffleSeed: 124)
        XCTAssertEqual(a.train, b.train)
        XCTAssertEqual(a.test, b.test)
        XCTAssertNotEqual(a.train, c.train)
        XCTAssertNotEqual(a.train, Array(0..<170))
        XCTAssertEqual((a.train + a.test + a.validation).sorted(), Array(0..<200))
    }
}
