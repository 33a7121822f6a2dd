import IFTCPU
import IFTCore
import XCTest

@testable import IFTModel

/// `LlamaWeights.nf4Bytes`, the streaming quantizer behind `ProjectionFormat.fourBit`: any scratch
/// size (rows split over many chunks, a chunk of one row) gives the bytes of quantizing the whole
/// weight at once, rows moved where `destinationRow` says.
final class StreamingNF4Tests: XCTestCase {
    func testChunkedQuantizationEqualsWholeTensor() throws {
        let (rows, cols) = (12, 128)
        var rng = SeededGenerator(seed: 4)
        let values = (0..<(rows * cols)).map { _ in rng.normal() }
        var bf16: [UInt8] = []
        for v in values { bf16 += withUnsafeBytes(of: HalfFloat.floatToBF16(v).littleEndian, Array.init) }
        let widened = values.map { HalfFloat.bf16ToFloat(HalfFloat.floatToBF16($0)) }
        let whole = try Reference.quantize(.nf4, widened)
        let rowBytes = whole.count / rows
        let reversed = { (r: Int) in rows - 1 - r }
        for scratch in [1, cols, 5 * cols + 7, rows * cols, 1 << 20] {
            let plain = try bf16.withUnsafeBytes {
                try LlamaWeights.nf4Bytes($0, type: .bf16, rows: rows, cols: cols, name: "w", scratchElements: scratch)
            }
            XCTAssertEqual(plain, whole, "scratch \(scratch)")
            let moved = try bf16.withUnsafeBytes {
                try LlamaWeights.nf4Bytes($0, type: .bf16, rows: rows, cols: cols, name: "w", scratchElements: scratch, destinationRow: reversed)
            }
            for r in 0..<rows {
                XCTAssertEqual(moved[(reversed(r) * rowBytes)..<((reversed(r) + 1) * rowBytes)], whole[(r * rowBytes)..<((r + 1) * rowBytes)])
            }
        }
        XCTAssertThrowsError(try bf16.withUnsafeBytes {
            try LlamaWeights.nf4Bytes($0, type: .bf16, rows: rows * 4, cols: cols / 4, name: "blk.0.attn_q.weight")
        }) { e in XCTAssertTrue("\(e)".contains("blk.0.attn_q.weight") && "\(e)".contains("multiple of 64"), "\(e)") }
    }
}
