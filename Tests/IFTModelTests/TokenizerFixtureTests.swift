import Foundation
import IFTCore
import XCTest

@testable import IFTModel

/// The real SmolLM2-135M-Instruct GGUF, for tests that need it.
enum SmolLM2 {
    static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// `IFT_SMOLLM2_GGUF`, else `<repo>/.build/models/SmolLM2-135M-Instruct.Q4_1.gguf`.
    static var path: String {
        if let p = ProcessInfo.processInfo.environment["IFT_SMOLLM2_GGUF"], !p.isEmpty { return p }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repo.appendingPathComponent(".build/models/\(fileName)").path
    }

    /// The GGUF; skips the test when the file is missing (fails instead with IFT_REQUIRE_MODEL=1).
    static func gguf() throws -> GGUFFile {
        let p = path
        guard FileManager.default.fileExists(atPath: p) else {
            let msg = "\(p) is missing: run Tools/fetch-smollm2.sh (or set IFT_SMOLLM2_GGUF)"
            if ProcessInfo.processInfo.environment["IFT_REQUIRE_MODEL"] == "1" {
                XCTFail(msg + " (IFT_REQUIRE_MODEL=1)")
                throw XCTSkip("model required but missing")
            }
            throw XCTSkip(msg)
        }
        return try GGUFFile(path: p)
    }

    nonisolated(unsafe) private static var cached: Tokenizer?
    static func tokenizer() throws -> Tokenizer {
        if let t = cached { return t }
        let t = try Tokenizer(gguf: gguf())
        cached = t
        return t
    }
}

/// The reference data of Tools/make-tokenizer-fixture.py (Hugging Face tokenizers and
/// transformers' chat templating).
struct TokenizerFixture {
    struct Case {
        var text: String
        var ids: [Int32]
        var idsSpecial: [Int32]
        var decoded: String
    }

    struct Chat {
        var template: String
        var messages: [ChatMessage]
        var addGenerationPrompt: Bool
        var text: String
        var ids: [Int32]
    }

    var sha256: String
    var cases: [Case] = []
    var chats: [Chat] = []
    var templates: [String: String] = [:]
    var bosToken: String
    var eosToken: String

    nonisolated(unsafe) private static var cached: TokenizerFixture?

    static func load() throws -> TokenizerFixture {
        if let f = cached { return f }
        let path = TestSupport.fixture("smollm2-tokenizer.json")
        let j = try JSONValue.parse(contentsOf: path)
        func ids(_ v: JSONValue?) -> [Int32]? { v?.arrayValue?.map { Int32($0.intValue!) } }
        var f = TokenizerFixture(
            sha256: j["gguf_sha256"]!.stringValue!, bosToken: j["special_tokens"]!["bos_token"]!.stringValue!,
            eosToken: j["special_tokens"]!["eos_token"]!.stringValue!)
        for c in j["cases"]!.arrayValue! {
            let text = c["text"]!.stringValue!
            let plain = ids(c["ids"])!
            f.cases.append(Case(
                text: text, ids: plain, idsSpecial: ids(c["ids_special"]) ?? plain,
                decoded: c["decoded"]?.stringValue ?? text))
        }
        for c in j["chats"]!.arrayValue! {
            let msgs = c["messages"]!.arrayValue!.map {
                ChatMessage(role: $0["role"]!.stringValue!, content: $0["content"]!.stringValue!)
            }
            f.chats.append(Chat(
                template: c["template"]!.stringValue!, messages: msgs,
                addGenerationPrompt: c["add_generation_prompt"]!.boolValue!, text: c["text"]!.stringValue!,
                ids: ids(c["ids"])!))
        }
        for (k, v) in j["templates"]!.objectValue!.members { f.templates[k] = v.stringValue! }
        cached = f
        return f
    }
}

final class TokenizerFixtureTests: XCTestCase {
    func testMetadataOfSmolLM2() throws {
        let t = try SmolLM2.tokenizer()
        XCTAssertEqual(t.vocabularySize, 49152)
        XCTAssertEqual(t.preTokenizer.name, "smollm")
        XCTAssertEqual(t.bosID, 1)
        XCTAssertEqual(t.eosID, 2)
        XCTAssertEqual(t.padID, 2)
        XCTAssertEqual(t.unknownID, 0)
        XCTAssertFalse(t.addsBOS)
        XCTAssertFalse(t.ignoresMerges)
        XCTAssertEqual(t.mergeCount, 48900)
        XCTAssertEqual(t.token(forID: 1), "<|im_start|>")
        XCTAssertEqual(t.id(forToken: "<|im_end|>"), 2)
        XCTAssertEqual(t.id(forToken: "<|endoftext|>"), 0)
        XCTAssertEqual(t.tokenType(forID: 16), .control)
        XCTAssertEqual(t.tokenType(forID: 17), .normal)
        XCTAssertEqual((0..<49152).filter { t.isSpecial(Int32($0)) }.count, 17)
        XCTAssertEqual(t.chatTemplate, try TokenizerFixture.load().templates["smollm2"])
    }

    func testEncodeMatchesReferenceOnEveryText() throws {
        let t = try SmolLM2.tokenizer()
        let f = try TokenizerFixture.load()
        var plainOK = 0
        var specialOK = 0
        var failures: [String] = []
        for c in f.cases {
            let plain = t.encode(c.text)
            let special = t.encode(c.text, parseSpecial: true)
            if plain == c.ids { plainOK += 1 } else { failures.append("plain \(c.text.debugDescription): got \(plain), want \(c.ids)") }
            if special == c.idsSpecial {
                specialOK += 1
            } else {
                failures.append("special \(c.text.debugDescription): got \(special), want \(c.idsSpecial)")
            }
        }
        print("tokenizer fixture: \(plainOK)/\(f.cases.count) texts exact (plain), \(specialOK)/\(f.cases.count) (parseSpecial)")
        XCTAssertEqual(plainOK, f.cases.count, failures.prefix(5).joined(separator: "\n"))
        XCTAssertEqual(specialOK, f.cases.count, failures.prefix(5).joined(separator: "\n"))
    }

    func testDecodeRoundTrips() throws {
        let t = try SmolLM2.tokenizer()
        let f = try TokenizerFixture.load()
        var ok = 0
        for c in f.cases {
            let d = t.decode(c.ids)
            XCTAssertEqual(d, c.decoded, "decode of \(c.text.debugDescription)")
            XCTAssertEqual(t.decode(c.idsSpecial), c.decoded)
            if d == c.decoded { ok += 1 }
            // Streaming, token by token, gives the same text.
            var s = t.streamingDecoder()
            var streamed = ""
            for id in c.ids { streamed += s.append(id) }
            streamed += s.finish()
            XCTAssertEqual(streamed, c.decoded)
        }
        print("tokenizer fixture: \(ok)/\(f.cases.count) decoded exactly")
        XCTAssertEqual(f.cases.filter { $0.decoded != $0.text }.count, 1)  // the one with bytes missing from the vocabulary
    }

    func testChatTextsTokenizeAsReference() throws {
        let t = try SmolLM2.tokenizer()
        let f = try TokenizerFixture.load()
        for c in f.chats {
            XCTAssertEqual(t.encode(c.text, parseSpecial: true), c.ids, "\(c.template): \(c.text.debugDescription)")
        }
    }

    /// One tokenizer shared by several threads (the word cache is shared) gives the same ids.
    func testConcurrentEncodingAgrees() throws {
        let t = try Tokenizer(gguf: SmolLM2.gguf())
        let cases = try TokenizerFixture.load().cases
        let threads = 4
        let mismatches = UnsafeMutablePointer<Int>.allocate(capacity: threads)
        mismatches.initialize(repeating: 0, count: threads)
        defer { mismatches.deallocate() }
        DispatchQueue.concurrentPerform(iterations: threads) { k in
            for (i, c) in cases.enumerated() where (i + k) % 2 == 0 {
                if t.encode(c.text, parseSpecial: k % 2 == 0) != (k % 2 == 0 ? c.idsSpecial : c.ids) { mismatches[k] += 1 }
            }
        }
        XCTAssertEqual((0..<threads).map { mismatches[$0] }, [0, 0, 0, 0])
        XCTAssertGreaterThan(t.cachedWordCount, 1000)
    }

    func testFixtureIsForThisModel() throws {
        let f = try TokenizerFixture.load()
        XCTAssertEqual(f.sha256, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    }

    /// A tokenizer.json holding the GGUF's vocabulary, merges (as ["a", "b"] pairs) and control
    /// tokens, with SmolLM2's pre-tokenizer, tokenizes like the GGUF.
    func testTokenizerJSONOfTheSameVocabularyAgrees() throws {
        let gguf = try SmolLM2.gguf()
        let t = try SmolLM2.tokenizer()
        let md = gguf.metadata
        let tokens = try md.strings("tokenizer.ggml.tokens")
        let merges = try md.strings("tokenizer.ggml.merges")
        var vocab = JSONObject()
        for (i, tok) in tokens.enumerated() { vocab[tok] = .int(i) }
        let added: [JSONValue] = (0..<17).map {
            .object(JSONObject([("id", .int($0)), ("content", .string(tokens[$0])), ("special", .bool(true))]))
        }
        let pre = try JSONValue.parse(
            #"{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}]}"#)
        let model = JSONObject([
            ("type", .string("BPE")), ("vocab", .object(vocab)),
            ("merges", .array(merges.map { m in .array(m.split(separator: " ", maxSplits: 1).map { .string(String($0)) }) })),
        ])
        let json = JSONValue.object(JSONObject([
            ("normalizer", .null), ("pre_tokenizer", pre), ("added_tokens", .array(added)), ("model", .object(model)),
        ]))
        let config = try JSONValue.parse(#"{"bos_token":"<|im_start|>","eos_token":"<|im_end|>"}"#)
        let fromJSON = try Tokenizer(huggingFaceJSON: json, config: config)
        XCTAssertEqual(fromJSON.bosID, 1)
        XCTAssertEqual(fromJSON.eosID, 2)
        for c in try TokenizerFixture.load().cases.prefix(500) {
            XCTAssertEqual(fromJSON.encode(c.text), c.ids)
            XCTAssertEqual(fromJSON.encode(c.text, parseSpecial: true), c.idsSpecial)
        }
        _ = t
    }

    /// Tokenizes about 1 MB of fixture text with a fresh tokenizer (empty word cache) and prints
    /// the time; in release builds it must take well under a second.
    func testEncodeSpeed() throws {
        let t = try Tokenizer(gguf: SmolLM2.gguf())
        let f = try TokenizerFixture.load()
        var text = ""
        var round = 0
        while text.utf8.count < 1 << 20 {
            for c in f.cases {
                text += c.text
                text += round % 2 == 0 ? " " : "\n"
            }
            round += 1
        }
        let clock = ContinuousClock()
        var ids: [Int32] = []
        let cold = clock.measure { ids = t.encode(text) }
        let warm = clock.measure { ids = t.encode(text) }
        let special = clock.measure { _ = t.encode(text, parseSpecial: true) }
        let decode = clock.measure { XCTAssertEqual(t.decode(ids).utf8.count, text.utf8.count - round) }
        print(
            "tokenizer speed: \(text.utf8.count) bytes -> \(ids.count) tokens; encode \(cold) (cold cache), \(warm) (warm), "
                + "\(special) (parseSpecial); decode \(decode)")
        #if !DEBUG
            XCTAssertLessThan(cold, .milliseconds(1000))
        #endif
    }
}
