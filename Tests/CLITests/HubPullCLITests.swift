import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `ift-gpu model pull hf:ORG/NAME[@REVISION]` against a fake Hugging Face Hub on loopback
/// (Tools/fake-hf-hub.py, which lays out the revision API, resolve URLs, CDN redirects, ETags and
/// Range requests as the hub does), serving the tiny model of Fixtures/tiny-hf (made by
/// Tools/make-cli-fixture.py). Then `--model hf:...` loads what was pulled.
final class HubPullCLITests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let tinyHF = root.appendingPathComponent("Tests/CLITests/Fixtures/tiny-hf").path
    static let weights = "model.safetensors"

    var work: String = ""
    var hub: Process?
    var endpoint = ""

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("hub-cli-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/home", withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let hub, hub.isRunning {
            hub.terminate()
            hub.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: work)
    }

    /// Starts the fake hub serving `repos` (ORG/NAME → directory) with extra flags.
    func startHub(_ flags: [String] = [], repos: [String: String] = ["tiny/model": tinyHF]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.root.appendingPathComponent("Tools/fake-hf-hub.py").path, "--log", work + "/requests.jsonl"]
            + repos.flatMap { ["--repo", "\($0.key)=\($0.value)"] } + flags
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        hub = p
        var bytes: [UInt8] = []
        while let d = try out.fileHandleForReading.read(upToCount: 1), let b = d.first, b != 10 { bytes.append(b) }
        let port = try XCTUnwrap(Int(String(decoding: bytes, as: UTF8.self)), "the fake hub did not start")
        endpoint = "http://127.0.0.1:\(port)"
    }

    var tinyHF: String { Self.tinyHF }
    var store: String { work + "/home/models/hf/tiny/model" }

    /// Runs `ift-gpu` with the store in the sandbox and the fake hub as HF_ENDPOINT.
    func ift(_ args: [String], token: String? = nil) throws -> CLITests.Output {
        var env = ["IFT_HOME": work + "/home", "HF_ENDPOINT": endpoint, "HF_TOKEN": token ?? ""]
        env["HOME"] = work
        return try CLITests.run(args, env: env)
    }

    /// The requests the hub saw (method, path, range, authorization).
    func requests() throws -> [[String: String]] {
        let text = (try? String(contentsOfFile: work + "/requests.jsonl", encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return object.compactMapValues { $0 as? String }
        }
    }

    /// Every file and directory under the store's model directory.
    func storeContents() -> [String] {
        (FileManager.default.enumerator(atPath: store)?.allObjects as? [String] ?? []).filter { !$0.hasSuffix(".lock") }.sorted()
    }

    func assertOneError(_ r: CLITests.Output, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, r.stderr, file: file, line: line)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        XCTAssertEqual(errors.count, 1, r.stderr, file: file, line: line)
        for p in parts { XCTAssertTrue(errors.first?.contains(p) ?? false, "'\(p)' missing: \(r.stderr)", file: file, line: line) }
    }

    /// A whole pull: the files land by commit with a `refs/main`, `model info` and `generate` load
    /// them through `--model hf:`, `model list` shows them, and a second pull fetches nothing.
    func testPullThenUseTheModel() throws {
        try startHub()
        let before = try ift(["model", "info", "hf:tiny/model"])
        assertOneError(before, contains: ["not downloaded yet", "ift-gpu model pull hf:tiny/model"])
        let r = try ift(["model", "pull", "hf:tiny/model"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let dir = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = (dir as NSString).lastPathComponent
        XCTAssertEqual(commit.count, 40, dir)
        XCTAssertEqual(dir, store + "/" + commit)
        XCTAssertEqual(try String(contentsOfFile: store + "/refs/main", encoding: .utf8), commit)
        for name in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
            XCTAssertEqual(
                FileManager.default.contents(atPath: dir + "/" + name), FileManager.default.contents(atPath: tinyHF + "/" + name), name)
        }
        XCTAssertEqual(storeContents(), [commit] + ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
            .map { commit + "/" + $0 } + ["refs", "refs/main"])
        // The LFS file came through the redirect to the CDN host, which never saw the token header.
        let seen = try requests()
        XCTAssertTrue(seen.contains { $0["path"] == "/api/models/tiny/model/revision/main" })
        XCTAssertTrue(seen.contains { $0["path"] == "/tiny/model/resolve/\(commit)/model.safetensors" })
        XCTAssertTrue(seen.contains { ($0["path"] ?? "").hasPrefix("/cdn/") })

        let info = try ift(["model", "info", "hf:tiny/model"])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("file:            \(dir)"), info.stdout)
        XCTAssertTrue(info.stdout.contains("Hugging Face safetensors"), info.stdout)
        let pinned = try ift(["model", "info", "hf:tiny/model@\(commit)"])
        XCTAssertEqual(pinned.status, 0, pinned.stderr)
        let gen = try ift(["generate", "--model", "hf:tiny/model", "--backend", "cpu-ref", "--prompt", "hi", "--max-tokens", "2"])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        let list = try ift(["model", "list"])
        XCTAssertTrue(list.stdout.contains("hf:tiny/model  downloaded: \(dir)"), list.stdout)

        let again = try ift(["model", "pull", "hf:tiny/model"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("already downloaded"), again.stderr)
        XCTAssertFalse(try requests().dropFirst(seen.count).contains { ($0["path"] ?? "").contains("/resolve/") })
    }

    /// A connection cut mid-file: an error that says to run it again, no model directory, the
    /// bytes so far kept; the rerun asks for the rest with a Range request and gets the right bytes.
    func testCutDownloadResumesWithARangeRequest() throws {
        try startHub(["--cut", "\(Self.weights)=30000"])
        let cut = try ift(["model", "pull", "hf:tiny/model"])
        assertOneError(cut, contains: ["model.safetensors", "stopped at 30 kB of 72 kB", "run `ift-gpu model pull hf:tiny/model` again"])
        let partial = try XCTUnwrap(storeContents().first { $0.hasSuffix(".partial") }, "\(storeContents())")
        XCTAssertEqual(storeContents().filter { $0.count == 40 }, [], "a model directory after a cut download")
        let part = store + "/" + partial + "/model.safetensors.part"
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: part)[.size] as? Int), 30000)
        assertOneError(try ift(["model", "info", "hf:tiny/model"]), contains: ["not downloaded yet"])

        let resumed = try ift(["model", "pull", "hf:tiny/model"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let dir = resumed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/model.safetensors"), FileManager.default.contents(atPath: tinyHF + "/model.safetensors"))
        let seen = try requests()
        XCTAssertTrue(seen.contains { ($0["path"] ?? "").hasPrefix("/cdn/") && $0["range"] == "bytes=30000-" }, "\(seen)")
        XCTAssertFalse(storeContents().contains { $0.hasSuffix(".partial") || $0.hasSuffix(".part") }, "\(storeContents())")
    }

    /// A server that ignores Range answers 200 with the whole file: the part is started over.
    func testServerIgnoringRangeGetsTheWholeFileAgain() throws {
        try startHub(["--cut", "\(Self.weights)=30000", "--no-range"])
        assertOneError(try ift(["model", "pull", "hf:tiny/model"]), contains: ["stopped at 30 kB of 72 kB"])
        let r = try ift(["model", "pull", "hf:tiny/model"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let dir = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/model.safetensors"), FileManager.default.contents(atPath: tinyHF + "/model.safetensors"))
        XCTAssertTrue(try requests().contains { ($0["path"] ?? "").hasPrefix("/cdn/") && $0["range"] == "bytes=30000-" })
    }

    /// A download cut at one commit, then `main` moves on: the next pull takes the new commit and
    /// removes the old unfinished one.
    func testUnfinishedDownloadOfAnOldCommitIsRemoved() throws {
        let repo = work + "/moving"
        try FileManager.default.copyItem(atPath: tinyHF, toPath: repo)
        try startHub(["--cut", "\(Self.weights)=1000"], repos: ["tiny/model": repo])
        assertOneError(try ift(["model", "pull", "hf:tiny/model"]), contains: ["stopped at 1 kB"])
        let old = try XCTUnwrap(storeContents().first { $0.hasSuffix(".partial") })
        hub?.terminate()
        hub?.waitUntilExit()
        try Data(#"{"max_new_tokens": 8}"#.utf8).write(to: URL(fileURLWithPath: repo + "/generation_config.json"))
        try startHub(repos: ["tiny/model": repo])
        let r = try ift(["model", "pull", "hf:tiny/model"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("removed the unfinished download of commit \(old.dropLast(".partial".count))"), r.stderr)
        XCTAssertFalse(storeContents().contains { $0.hasSuffix(".partial") }, "\(storeContents())")
        let dir = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/generation_config.json"))
    }

    /// A corrupted file (the LFS weights, checked by SHA-256; config.json, checked by its git blob
    /// id): an error naming it, no model directory, no `.part` with the bad bytes; a rerun works.
    func testCorruptDownloadsAreRemoved() throws {
        for (file, check) in [(Self.weights, "SHA-256"), ("config.json", "git blob id")] {
            try startHub(["--corrupt", file])
            let bad = try ift(["model", "pull", "hf:tiny/model"])
            assertOneError(bad, contains: ["\(file) from hf:tiny/model is corrupt", "its \(check) is", "run `ift-gpu model pull hf:tiny/model` again"])
            XCTAssertEqual(storeContents().filter { $0.count == 40 || $0.hasSuffix(".part") }, [], "\(storeContents())")
            let good = try ift(["model", "pull", "hf:tiny/model"])
            XCTAssertEqual(good.status, 0, good.stderr)
            hub?.terminate()
            hub?.waitUntilExit()
            try FileManager.default.removeItem(atPath: work + "/home/models")
        }
    }

    /// A model behind a token: 401 says to set HF_TOKEN; with it the header arrives (and only at
    /// the hub, not at the CDN host), and the token is never printed.
    func testTokenIsRequiredAndSent() throws {
        let token = "hf_fakeToken123"
        try startHub(["--token", token])
        let refused = try ift(["model", "pull", "hf:tiny/model"])
        assertOneError(refused, contains: ["refused hf:tiny/model (HTTP 401", "set HF_TOKEN", "license accepted"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: store + "/refs"))
        let wrong = try ift(["model", "pull", "hf:tiny/model"], token: "hf_wrong")
        assertOneError(wrong, contains: ["HF_TOKEN is set, but the hub refused it"])
        XCTAssertFalse(wrong.stderr.contains("hf_wrong"), wrong.stderr)

        let ok = try ift(["model", "pull", "hf:tiny/model"], token: token)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertFalse(ok.stdout.contains(token) || ok.stderr.contains(token))
        let seen = try requests()
        XCTAssertTrue(seen.contains { ($0["path"] ?? "").hasPrefix("/api/models/") && $0["authorization"] == "Bearer \(token)" })
        XCTAssertTrue(seen.contains { ($0["path"] ?? "").contains("/resolve/") && $0["authorization"] == "Bearer \(token)" })
        XCTAssertFalse(seen.contains { ($0["path"] ?? "").hasPrefix("/cdn/") && $0["authorization"] != nil }, "\(seen)")
    }

    func testMissingRepositoryRevisionAndWeights() throws {
        let binOnly = work + "/bin-only"
        try FileManager.default.createDirectory(atPath: binOnly, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: tinyHF + "/config.json", toPath: binOnly + "/config.json")
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: binOnly + "/pytorch_model.bin"))
        try startHub(repos: ["tiny/model": tinyHF, "old/binary": binOnly])
        assertOneError(try ift(["model", "pull", "hf:no/such-model"], token: "t"), contains: ["repository no/such-model not found", "HTTP 404"])
        assertOneError(try ift(["model", "pull", "hf:no/such-model"]), contains: ["HTTP 401", "may not exist", "set HF_TOKEN"])
        assertOneError(try ift(["model", "pull", "hf:tiny/model@nobranch"]), contains: ["revision 'nobranch' of tiny/model not found"])
        assertOneError(try ift(["model", "pull", "hf:old/binary"]), contains: ["no *.safetensors weights", "only pytorch_model.bin", "--model DIR"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/home/models/hf/old/binary/refs"))
        XCTAssertEqual(storeContents(), [])
        // A file the list names but the hub will not serve: no empty .part is left for it.
        hub?.terminate()
        hub?.waitUntilExit()
        try startHub(["--missing", "tokenizer.json"])
        assertOneError(try ift(["model", "pull", "hf:tiny/model"]), contains: ["tokenizer.json in hf:tiny/model not found", "HTTP 404"])
        XCTAssertFalse(storeContents().contains { $0.hasSuffix(".part") || $0.count == 40 }, "\(storeContents())")
    }

    /// A store that cannot be written (here a file where its `hf` directory goes): a clear error.
    func testUnwritableStoreIsAClearError() throws {
        try startHub()
        try FileManager.default.createDirectory(atPath: work + "/home/models", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: work + "/home/models/hf"))
        let r = try ift(["model", "pull", "hf:tiny/model"])
        assertOneError(r, contains: ["home/models/hf", "cannot create the directory", "fix permissions in the model store"])
    }

    /// Only the safetensors shards the index names, and only the model's files, are downloaded.
    func testShardIndexAndSkippedFiles() throws {
        let repo = work + "/sharded"
        try FileManager.default.createDirectory(atPath: repo + "/onnx", withIntermediateDirectories: true)
        for name in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: tinyHF + "/" + name, toPath: repo + "/" + name)
        }
        let shard = "model-00001-of-00001.safetensors"
        try FileManager.default.copyItem(atPath: tinyHF + "/model.safetensors", toPath: repo + "/" + shard)
        try FileManager.default.copyItem(atPath: tinyHF + "/model.safetensors", toPath: repo + "/consolidated.safetensors")
        try Data("x".utf8).write(to: URL(fileURLWithPath: repo + "/onnx/model.onnx"))
        try Data("# card".utf8).write(to: URL(fileURLWithPath: repo + "/README.md"))
        // The weight map names every tensor of the shard (its safetensors header's keys).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: repo + "/" + shard))
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as? [String: Any] ?? [:]
        let map = Dictionary(uniqueKeysWithValues: header.keys.filter { $0 != "__metadata__" }.map { ($0, shard) })
        let index = try JSONSerialization.data(withJSONObject: ["metadata": [:], "weight_map": map])
        try index.write(to: URL(fileURLWithPath: repo + "/model.safetensors.index.json"))
        try startHub(repos: ["tiny/model": repo])

        let r = try ift(["model", "pull", "hf:tiny/model"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("not downloaded: consolidated.safetensors, onnx/model.onnx"), r.stderr)
        let dir = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
            ["config.json", "model-00001-of-00001.safetensors", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json"])
        let info = try ift(["model", "info", "hf:tiny/model"])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("safetensors, 1 file(s)"), info.stdout)
    }
}
