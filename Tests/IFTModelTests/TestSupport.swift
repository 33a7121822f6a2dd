import Foundation
import IFTCore
import XCTest

@testable import IFTModel

/// Shared helpers for the IFTModel tests.
enum TestSupport {
    /// Tests/IFTModelTests/Fixtures, located from this source file.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// A fresh temporary directory, removed when the test ends.
    static func tempDir(_ test: XCTestCase) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-model-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.path
    }

    static func readBytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// Asserts that `body` throws `IFTError.file` for `path` whose location contains one of
/// `locations` and whose message contains every string in `contains`; returns the error.
@discardableResult
func assertFileError<T>(
    _ body: @autoclosure () throws -> T, path: String, location: [String] = ["offset", "tensor"],
    contains: [String] = [], file: StaticString = #filePath, line: UInt = #line
) -> IFTError? {
    do {
        _ = try body()
        XCTFail("expected an IFTError.file, nothing was thrown", file: file, line: line)
    } catch let e as IFTError {
        guard case .file(let p, let loc, let msg) = e else {
            XCTFail("expected IFTError.file, got \(e)", file: file, line: line)
            return e
        }
        XCTAssertEqual(p, path, "\(e)", file: file, line: line)
        XCTAssertTrue(location.contains { loc.contains($0) }, "location '\(loc)' lacks \(location): \(e)", file: file, line: line)
        for s in contains {
            XCTAssertTrue(msg.contains(s) || loc.contains(s), "'\(s)' missing from: \(e)", file: file, line: line)
        }
        return e
    } catch {
        XCTFail("expected IFTError.file, got \(type(of: error)): \(error)", file: file, line: line)
    }
    return nil
}

func assertClose(_ a: [Float], _ b: [Float], tol: Float = 0, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "counts differ", file: file, line: line)
    var worst: Float = 0
    var at = -1
    for (i, (x, y)) in zip(a, b).enumerated() where !(abs(x - y) <= tol) {
        if at < 0 || abs(x - y) > worst { worst = abs(x - y); at = i }
    }
    if at >= 0 {
        XCTFail("element \(at): \(a[at]) vs \(b[at]) (tolerance \(tol))", file: file, line: line)
    }
}
