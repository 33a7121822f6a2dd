import Foundation
import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// Asserts that two float arrays are equal bit for bit (so NaN payloads and signed zeros count).
func assertBitEqual(_ x: [Float], _ y: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(x.count, y.count, "\(what): counts differ", file: file, line: line)
    guard x.count == y.count else { return }
    var mismatches = 0
    for i in 0..<x.count where x[i].bitPattern != y[i].bitPattern {
        if mismatches < 5 {
            XCTFail("\(what): element \(i): \(x[i]) (0x\(String(x[i].bitPattern, radix: 16))) != \(y[i]) (0x\(String(y[i].bitPattern, radix: 16)))", file: file, line: line)
        }
        mismatches += 1
    }
    if mismatches > 5 { XCTFail("\(what): \(mismatches) mismatching elements in all", file: file, line: line) }
}

/// Asserts that `body` throws an `IFTError` whose description contains every one of `parts`.
func assertThrowsIFT(
    _ parts: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected an IFTError containing \(parts), nothing was thrown", file: file, line: line)
    } catch let e as IFTError {
        let message = e.description
        for p in parts where !message.contains(p) {
            XCTFail("error message \"\(message)\" does not contain \"\(p)\"", file: file, line: line)
        }
    } catch {
        XCTFail("expected an IFTError, got \(error)", file: file, line: line)
    }
}

/// The two CPU backends, reference first.
func cpuBackends() throws -> [any Backend] { [CPUReferenceBackend(), try CPUBackend()] }

extension SeededGenerator {
    mutating func bool() -> Bool { next() & 1 == 1 }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
    mutating func normalArray(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in normal() * scale } }
}

/// Little-endian bytes of f16 bits, for building blocks by hand.
func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }
func f16Bits(_ x: Float) -> UInt16 { HalfFloat.floatToF16(x) }

/// Floats from little-endian f32 bytes.
func floatsFromBytes(_ bytes: [UInt8]) -> [Float] {
    stride(from: 0, to: bytes.count, by: 4).map { i in
        Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
    }
}
