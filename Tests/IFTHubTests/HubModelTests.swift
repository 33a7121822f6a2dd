import Foundation
import IFTCore
import XCTest

@testable import IFTHub

/// The parts of `model pull hf:` that need no server: names, the file selection, the digests the
/// hub's checksums are compared with, and how the store finds a pulled model. The downloads
/// themselves run against a fake hub in `CLITests/HubPullCLITests`.
final class HubModelTests: XCTestCase {
    func testNamesParseWithADefaultRevision() throws {
        let plain = try HubModelName(parsing: "hf:HuggingFaceTB/SmolLM2-135M-Instruct")
        XCTAssertEqual(plain.repository, "HuggingFaceTB/SmolLM2-135M-Instruct")
        XCTAssertEqual(plain.revision, "main")
        XCTAssertEqual(plain.description, "hf:HuggingFaceTB/SmolLM2-135M-Instruct")
        let pinned = try HubModelName(parsing: "hf:Qwen/Qwen2.5-0.5B@refs/pr/1")
        XCTAssertEqual(pinned.revision, "refs/pr/1")
        XCTAssertEqual(pinned.description, "hf:Qwen/Qwen2.5-0.5B@refs/pr/1")
        XCTAssertFalse(pinned.isCommit)
        XCTAssertTrue(try HubModelName(parsing: "hf:a/b@" + String(repeating: "0f", count: 20)).isCommit)
    }

    func testBadNamesSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("hf:justaname", "'justaname' is not ORG/NAME"),
            ("hf:a/b/c", "'a/b/c' is not ORG/NAME"),
            ("hf:org/../etc", "is not ORG/NAME"),
            ("hf:org/na me", "'na me' may hold only letters"),
            ("hf:org/-name", "'-name' may hold only letters"),
            ("hf:org/name@", "'' is not a branch, tag or commit name"),
            ("hf:org/name@../../x", "'../../x' is not a branch"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try HubModelName(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text): \(error)")
                XCTAssertTrue("\(error)".contains("expected hf:ORG/NAME"), "\(error)")
            }
        }
    }

    func testURLsPercentEncodeAsTheHubClientDoes() throws {
        XCTAssertEqual(HubClient.percentEncoded("refs/pr/1", keepSlash: false), "refs%2Fpr%2F1")
        XCTAssertEqual(HubClient.percentEncoded("sub dir/a+b.json", keepSlash: true), "sub%20dir/a%2Bb.json")
        let client = HubClient(endpoint: "http://127.0.0.1:9/", token: "")
        XCTAssertEqual(client.endpoint, "http://127.0.0.1:9")
        XCTAssertFalse(client.hasToken)
        XCTAssertEqual(
            client.fileURL(try HubModelName(parsing: "hf:o/n"), commit: "abc", path: "model.safetensors"),
            "http://127.0.0.1:9/o/n/resolve/abc/model.safetensors")
    }

    /// FIPS 180 test vectors, and git's id of a blob (`printf 'hello\n' | git hash-object --stdin`).
    func testSHA1AndGitBlobIDs() {
        func sha1(_ s: String) -> String {
            var h = SHA1Stream()
            h.update(Array(s.utf8))
            return h.finalize()
        }
        XCTAssertEqual(sha1(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(sha1("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        var blob = GitBlobHasher(size: 6)
        Array("hel".utf8).withUnsafeBytes { blob.update($0) }
        Array("lo\n".utf8).withUnsafeBytes { blob.update($0) }
        XCTAssertEqual(blob.finalize(), "ce013625030ba8dba906f756967f9e9ca394464a")
        var sha256 = SHA256Stream()
        sha256.update(Array("abc".utf8))
        XCTAssertEqual(sha256.finalize(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testSelectionTakesSafetensorsAndCompanionsOnly() throws {
        let model = try HubModelName(parsing: "hf:o/n")
        func file(_ path: String) -> HubFile { HubFile(path: path, size: 1, sha256: nil, gitBlobID: nil) }
        let revision = HubRevision(commit: String(repeating: "a", count: 40), files: [
            "README.md", ".gitattributes", "config.json", "generation_config.json", "model.safetensors", "pytorch_model.bin",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "onnx/model.onnx",
            "original/consolidated.safetensors", "vocab.txt",
        ].map(file))
        let (chosen, skipped) = try revision.selection(for: model)
        XCTAssertEqual(
            chosen.map(\.path).sorted(),
            ["config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json",
             "tokenizer.model", "tokenizer_config.json"])
        XCTAssertEqual(skipped.sorted(), ["onnx/model.onnx", "original/consolidated.safetensors", "pytorch_model.bin"])

        let binOnly = HubRevision(commit: revision.commit, files: ["config.json", "pytorch_model.bin"].map(file))
        XCTAssertThrowsError(try binOnly.selection(for: model)) { error in
            XCTAssertEqual(error as? HubError, .noSafetensors(model: model, weights: ["pytorch_model.bin"]))
            XCTAssertTrue("\(error)".contains("only pytorch_model.bin"), "\(error)")
            XCTAssertTrue("\(error)".contains("save_pretrained"), "\(error)")
        }
    }

    /// `--model hf:...` finds a pulled commit through its ref, or by the commit itself, and says how
    /// to pull one that is not there (a `.partial` download does not count).
    func testStoreResolvesPulledModelsOnly() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("hub-resolve-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = ModelStore(home: home)
        let commit = String(repeating: "1", count: 40)
        let model = try HubModelName(parsing: "hf:org/name")
        let repo = store.directory(of: model)
        try FileManager.default.createDirectory(atPath: repo + "/" + commit + ".partial", withIntermediateDirectories: true)
        XCTAssertThrowsError(try store.resolve("hf:org/name")) { error in
            XCTAssertTrue("\(error)".contains("run `ift-gpu model pull hf:org/name`"), "\(error)")
        }
        XCTAssertEqual(store.pulledHubModels().map(\.name), ["hf:org/name@" + commit])
        XCTAssertNil(store.pulledHubModels().first?.path)

        try FileManager.default.moveItem(atPath: repo + "/" + commit + ".partial", toPath: repo + "/" + commit)
        try FileManager.default.createDirectory(atPath: repo + "/refs", withIntermediateDirectories: true)
        try (commit + "\n").write(toFile: repo + "/refs/main", atomically: true, encoding: .utf8)
        XCTAssertEqual(try store.resolve("hf:org/name"), repo + "/" + commit)
        XCTAssertEqual(try store.resolve("hf:org/name@" + commit), repo + "/" + commit)
        XCTAssertThrowsError(try store.resolve("hf:org/name@dev")) { error in
            XCTAssertTrue("\(error)".contains("model pull hf:org/name@dev"), "\(error)")
        }
        XCTAssertEqual(store.pulledHubModels().map(\.name), ["hf:org/name"])
    }
}
