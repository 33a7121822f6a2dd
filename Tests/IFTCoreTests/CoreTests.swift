import IFTCore
import XCTest

/// IFTCore's value types: dtype sizes, fp16/bf16 rounding, matmul descriptor validation, seeds.
final class CoreTests: XCTestCase {
    func testDTypeByteCounts() throws {
        XCTAssertEqual(try DType.f32.byteCount(elements: 10), 40)
        XCTAssertEqual(try DType.q4_1.byteCount(elements: 64), 40)
        XCTAssertEqual(try DType.q4_k.byteCount(elements: 512), 288)
        XCTAssertEqual(try DType.nf4.byteCount(elements: 128), 72)
        XCTAssertThrowsError(try DType.q8_0.byteCount(elements: 33)) { XCTAssertTrue("\($0)".contains("block size 32"), "\($0)") }
        XCTAssertThrowsError(try validateShape([4, 33], .q4_0))
        XCTAssertNoThrow(try validateShape([4, 64], .q4_0))
    }

    func testHalfFloatRoundsToNearestEven() {
        XCTAssertEqual(HalfFloat.floatToF16(1), 0x3C00)
        XCTAssertEqual(HalfFloat.floatToF16(1 + 1.0 / 2048), 0x3C00, "tie goes to even")
        XCTAssertEqual(HalfFloat.floatToF16(1 + 3.0 / 2048), 0x3C02, "tie goes to even")
        XCTAssertEqual(HalfFloat.floatToF16(65520), 0x7C00, "overflow to infinity")
        XCTAssertEqual(HalfFloat.floatToBF16(Float(bitPattern: 0x3F80_8000)), 0x3F80, "tie goes to even")
        XCTAssertEqual(HalfFloat.floatToBF16(Float(bitPattern: 0x3F81_8000)), 0x3F82, "tie goes to even")
        XCTAssertTrue(HalfFloat.bf16ToFloat(HalfFloat.floatToBF16(.nan)).isNaN)
        for bits in stride(from: 0, to: 0x7C00, by: 7) {
            XCTAssertEqual(HalfFloat.floatToF16(HalfFloat.f16ToFloat(UInt16(bits))), UInt16(bits), "f16 round trip")
        }
    }

    func testMatmulDescriptorValidation() throws {
        var d = MatmulDescriptor(m: 3, n: 4, k: 5, batch: 2, transposeB: true)
        XCTAssertEqual(d.ldb, 5)
        XCTAssertNoThrow(try d.validate(countA: 30, countB: 40, countC: 24))
        XCTAssertThrowsError(try d.validate(countA: 29, countB: 40, countC: 24)) { XCTAssertTrue("\($0)".contains("matmul A"), "\($0)") }
        d.ldc = 3
        XCTAssertThrowsError(try d.validate(countA: 30, countB: 40, countC: 24)) { XCTAssertTrue("\($0)".contains("ldc=3"), "\($0)") }
        XCTAssertEqual(MatmulDescriptor(m: 2, n: 3, k: 4).flops, 48)
    }

    func testSeededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7)
        XCTAssertEqual((0..<100).map { _ in a.next() }, (0..<100).map { _ in b.next() })
        var g = SeededGenerator(seed: 1)
        let xs = (0..<20000).map { _ in g.normal() }
        let mean = xs.reduce(0, +) / Float(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(xs.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
    }

    func testProgressFormatting() {
        XCTAssertEqual(ProgressBar.clock(75), "1:15")
        XCTAssertEqual(ProgressBar.clock(3725), "1:02:05")
        XCTAssertEqual(ProgressBar.fixed(3.14159, 2), "3.14")
        XCTAssertEqual(ProgressBar.fixed(-0.05, 1), "-0.1")
        XCTAssertEqual(ProgressBar.bytes(12_345_678), "12.3 MB")
    }
}
