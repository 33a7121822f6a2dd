import Foundation
import IFTCore
import IFTModel
import XCTest

@testable import IFTHub

/// Zip extraction (how `model pull` gets a model out of a PyPI wheel) and the model store's
/// name resolution. Fixtures/sample.zip was written by Python's zipfile module (one stored and one
/// deflated member; Fixtures/sample-deflated.bin is the deflated member's content).
final class ZipArchiveTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func extract(_ zip: ZipArchive, _ name: String) throws -> [UInt8] {
        var out: [UInt8] = []
        try zip.extract(try zip.entry(name)) { out.append(contentsOf: $0) }
        return out
    }

    func testStoredAndDeflatedMembersExtractExactly() throws {
        let zip = try ZipArchive(path: fixtures.appendingPathComponent("sample.zip").path)
        XCTAssertEqual(zip.entries.map(\.name), ["pkg/stored.bin", "pkg/deflated.bin"])
        let expected = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("sample-deflated.bin")))
        XCTAssertEqual(try extract(zip, "pkg/deflated.bin"), expected)
        XCTAssertEqual(try extract(zip, "pkg/stored.bin"), Array(expected.prefix(3000)))
        XCTAssertThrowsError(try zip.entry("nope")) { XCTAssertTrue("\($0)".contains("no member 'nope'"), "\($0)") }
    }

    func testCorruptArchivesAreClearErrors() throws {
        let bytes = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("sample.zip")))
        // A flipped byte inside the deflated data: inflate or the CRC check must catch it.
        let zip = try ZipArchive(path: fixtures.appendingPathComponent("sample.zip").path)
        let e = try zip.entry("pkg/deflated.bin")
        var flipped = bytes
        flipped[e.localHeaderOffset + 30 + e.name.utf8.count + 100] ^= 0x55
        let bad = try ZipArchive(file: MappedFile(bytes: flipped, name: "flipped.zip"))
        XCTAssertThrowsError(try extract(bad, "pkg/deflated.bin")) { error in
            XCTAssertTrue("\(error)".contains("flipped.zip"), "\(error)")
        }
        // Truncated archives lose their central directory.
        for cut in [0, 10, 100, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try ZipArchive(file: MappedFile(bytes: Array(bytes.prefix(cut)), name: "cut.zip"))) { error in
                XCTAssertTrue("\(error)".contains("cut.zip"), "\(error)")
            }
        }
    }

    func testModelNamesResolveOrExplainWhatToDo() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ift-store-\(getpid())").path
        let store = ModelStore(home: home)
        XCTAssertThrowsError(try store.resolve("smollm2-135m-instruct")) { error in
            XCTAssertTrue("\(error)".contains("ift-gpu model pull smollm2-135m-instruct"), "\(error)")
        }
        XCTAssertThrowsError(try store.resolve("no-such-model")) { XCTAssertTrue("\($0)".contains("known:"), "\($0)") }
        XCTAssertEqual(try store.resolve(#filePath), #filePath, "an existing path is used as is")
        XCTAssertEqual(store.path(of: KnownModel.all[0]), home + "/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    /// Known digests (FIPS 180-4 examples and Python's hashlib), fed whole and in odd-sized pieces.
    func testSHA256KnownDigests() {
        let cases: [([UInt8], String)] = [
            ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
            ((0..<5).flatMap { _ in (0..<256).map { UInt8($0) } }, "d414b085826eb06778483ba35564dc849e643359f69ed9747878ba6e54985bed"),
        ]
        for (bytes, digest) in cases {
            var whole = SHA256Stream()
            bytes.withUnsafeBytes { whole.update($0) }
            XCTAssertEqual(whole.finalize(), digest)
            var pieces = SHA256Stream()
            var i = 0
            var step = 1
            while i < bytes.count {
                let n = min(step, bytes.count - i)
                bytes[i..<(i + n)].withUnsafeBytes { pieces.update($0) }
                i += n
                step = step % 97 + 13
            }
            XCTAssertEqual(pieces.finalize(), digest)
        }
    }

    func testSHA256OfAFile() throws {
        // Expected value computed with Python's hashlib.
        let path = fixtures.appendingPathComponent("sample-deflated.bin").path
        XCTAssertEqual(try sha256(ofFile: path), "3f00b21bbfe9035a1731a6d11cbf4b080e043b0d590efed246d75430b5710ef5")
    }
}
