import Foundation
import IFTCore
import XCTest

@testable import IFTModel

/// The SentencePiece-style (byte-fallback BPE) tokenizer against Hugging Face tokenizers, on the
/// fixture of Tools/make-spm-tokenizer-fixture.py: a 2,000-piece vocabulary trained there as
/// Llama 2's is configured, 2,205 texts (multilingual, whitespace runs, digits, emoji, code,
/// special tokens), read both from a GGUF (`tokenizer.ggml.model = "llama"`, merges from
/// scores) and from tokenizer.json (legacy, Metaspace-first and Gemma-style variants).
final class TokenizerSentencePieceTests: XCTestCase {
    struct Case {
        var text: String
        var ids: [Int32]
        var idsSpecial: [Int32]
        var first: [Int32]
        var noPrefix: [Int32]?
        var decoded: String
    }

    nonisolated(unsafe) private static var cached: (cases: [Case], tokenizers: JSONValue)?

    static func fixture() throws -> (cases: [Case], tokenizers: JSONValue) {
        if let c = cached { return c }
        let j = try JSONValue.parse(contentsOf: TestSupport.fixture("spm-tokenizer.json"))
        func ids(_ v: JSONValue?) -> [Int32]? { v?.arrayValue?.compactMap { $0.intValue.map(Int32.init) } }
        var cases: [Case] = []
        for c in j["cases"]?.arrayValue ?? [] {
            let text = try XCTUnwrap(c["text"]?.stringValue)
            let plain = try XCTUnwrap(ids(c["ids"]))
            let special = ids(c["ids_special"]) ?? plain
            cases.append(Case(
                text: text, ids: plain, idsSpecial: special, first: ids(c["first"]) ?? special,
                noPrefix: ids(c["noprefix"]), decoded: c["decoded"]?.stringValue ?? text))
        }
        let result = (cases, try XCTUnwrap(j["tokenizers"]))
        cached = result
        return result
    }

    func tokenizerJSON(_ variant: String) throws -> Tokenizer {
        let json = try XCTUnwrap(try Self.fixture().tokenizers[variant])
        let config = try JSONValue.parse(#"{"bos_token":"<s>","eos_token":"</s>","unk_token":"<unk>","add_bos_token":true}"#)
        return try Tokenizer(huggingFaceJSON: json, path: "spm-tokenizer.json[\(variant)]", config: config)
    }

    func assertEncodes(_ t: Tokenizer, _ cases: [Case], parseSpecial: Bool, _ want: (Case) -> [Int32]?, _ label: String) {
        var ok = 0
        var checked = 0
        var failures: [String] = []
        for c in cases {
            guard let w = want(c) else { continue }
            checked += 1
            let got = t.encode(c.text, parseSpecial: parseSpecial)
            if got == w { ok += 1 } else { failures.append("\(c.text.debugDescription): got \(got), want \(w)") }
        }
        print("spm tokenizer \(label): \(ok)/\(checked) texts exact")
        XCTAssertGreaterThan(checked, 0)
        XCTAssertEqual(ok, checked, "\(label):\n" + failures.prefix(5).joined(separator: "\n"))
    }

    func testGGUFVocabularyEncodesAsReference() throws {
        let t = try Tokenizer(gguf: GGUFFile(path: TestSupport.fixture("spm-vocab.gguf")))
        let cases = try Self.fixture().cases
        XCTAssertGreaterThanOrEqual(cases.count, 2000)
        XCTAssertEqual(t.sentencePiece, SentencePieceOptions(prefix: .always))
        XCTAssertEqual(t.vocabularySize, 2000)
        XCTAssertEqual([t.unknownID, t.bosID, t.eosID], [0, 1, 2])
        XCTAssertTrue(t.addsBOS)
        XCTAssertEqual(t.tokenType(forID: 3), .userDefined)
        XCTAssertGreaterThan(t.mergeCount, 500)
        assertEncodes(t, cases, parseSpecial: false, { $0.ids }, "GGUF")
        assertEncodes(t, cases, parseSpecial: true, { $0.idsSpecial }, "GGUF, special tokens parsed")
    }

    func testGGUFVocabularyDecodesAsReference() throws {
        let t = try Tokenizer(gguf: GGUFFile(path: TestSupport.fixture("spm-vocab.gguf")))
        let cases = try Self.fixture().cases
        for c in cases {
            XCTAssertEqual(t.decode(c.ids), c.decoded, "decode of \(c.text.debugDescription)")
            var s = t.streamingDecoder()
            var streamed = ""
            for id in c.ids { streamed += s.append(id) }
            streamed += s.finish()
            XCTAssertEqual(streamed, c.decoded, "streamed decode of \(c.text.debugDescription)")
        }
        // Byte fallback: a character missing from the vocabulary is its UTF-8 bytes.
        let ids = t.encode("\u{10348}")
        XCTAssertEqual(ids.map { t.tokenType(forID: $0) }.filter { $0 == .byte }.count, 4)
        XCTAssertEqual(t.decode(ids), "\u{10348}")
        // The leading space of the prefix is dropped once; skipped special tokens do not block it.
        XCTAssertEqual(t.decode([1] + t.encode("Hi there"), skipSpecial: true), "Hi there")
    }

    func testTokenizerJSONVariantsEncodeAsReference() throws {
        let cases = try Self.fixture().cases
        let legacy = try tokenizerJSON("legacy")
        XCTAssertEqual(legacy.sentencePiece, SentencePieceOptions(prefix: .always, stripsLeadingSpace: true))
        XCTAssertEqual([legacy.unknownID, legacy.bosID, legacy.eosID], [0, 1, 2])
        assertEncodes(legacy, cases, parseSpecial: false, { $0.ids }, "tokenizer.json legacy")
        assertEncodes(legacy, cases, parseSpecial: true, { $0.idsSpecial }, "tokenizer.json legacy, special tokens parsed")
        for c in cases.prefix(300) { XCTAssertEqual(legacy.decode(c.ids), c.decoded) }

        let first = try tokenizerJSON("first")
        XCTAssertEqual(first.sentencePiece, SentencePieceOptions(prefix: .metaspaceFirst, stripsLeadingSpace: true))
        assertEncodes(first, cases, parseSpecial: true, { $0.first }, "tokenizer.json Metaspace first")
        XCTAssertGreaterThan(cases.filter { $0.first != $0.idsSpecial }.count, 100)

        let noPrefix = try tokenizerJSON("noprefix")
        XCTAssertEqual(noPrefix.sentencePiece, SentencePieceOptions(prefix: .never, stripsLeadingSpace: false))
        assertEncodes(noPrefix, cases, parseSpecial: true, { $0.noPrefix }, "tokenizer.json without prefix")
    }

    func testMergesFromScoresRankEqualScoresTogether() {
        let tokens = ["a", "b", "c", "ab", "bc", "abc"]
        let types = [Tokenizer.TokenType](repeating: .normal, count: tokens.count)
        let (merges, ranks) = SentencePieceOptions.mergesFromScores(
            tokens: tokens, types: types, scores: [0, 0, 0, -1, -1, -2])
        XCTAssertEqual(merges.map { "\($0.0) \($0.1)" }, ["a b", "b c", "a bc", "ab c"])
        XCTAssertEqual(ranks, [1, 1, 2, 2])
    }

    func testUnsupportedSentencePieceSetupsAreNamed() throws {
        let legacy = try XCTUnwrap(try Self.fixture().tokenizers["legacy"]?.objectValue)
        func variant(_ key: String, _ value: String) throws -> JSONValue {
            var o = legacy
            o[key] = try JSONValue.parse(value)
            return .object(o)
        }
        let nfkc = try variant("normalizer", #"{"type":"NFKC"}"#)
        XCTAssertThrowsError(try Tokenizer(huggingFaceJSON: nfkc, path: "t.json")) { e in
            XCTAssertTrue("\(e)".contains("normalizer NFKC"), "\(e)")
            XCTAssertTrue("\(e)".contains("t.json"), "\(e)")
        }
        var split = try XCTUnwrap(try variant("normalizer", "null").objectValue)
        split["pre_tokenizer"] = try JSONValue.parse(#"{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}"#)
        XCTAssertThrowsError(try Tokenizer(huggingFaceJSON: .object(split), path: "t.json")) { e in
            XCTAssertTrue("\(e)".contains("split true"), "\(e)")
        }
        let none = try variant("normalizer", "null")
        XCTAssertThrowsError(try Tokenizer(huggingFaceJSON: none, path: "t.json")) { e in
            XCTAssertTrue("\(e)".contains("▁"), "\(e)")
        }
    }

    func testGGUFWithoutScoresOrWithAnUnknownModelIsRefused() throws {
        let g = try GGUFFile(path: TestSupport.fixture("spm-vocab.gguf"))
        let entries = g.metadata.entries
        var md = try GGUFMetadata(path: "v.gguf", entries: entries.filter { $0.key != "tokenizer.ggml.scores" })
        XCTAssertThrowsError(try Tokenizer(ggufMetadata: md)) { e in
            XCTAssertTrue("\(e)".contains("tokenizer.ggml.scores"), "\(e)")
        }
        md = try GGUFMetadata(
            path: "v.gguf", entries: entries.map { $0.key == "tokenizer.ggml.model" ? ($0.key, .string("bert")) : $0 })
        XCTAssertThrowsError(try Tokenizer(ggufMetadata: md)) { e in
            XCTAssertTrue("\(e)".contains("'bert'") && "\(e)".contains("'llama'"), "\(e)")
        }
    }
}

/// Llama 2's real vocabulary against llama.cpp's own expected ids (Fixtures/llama-cpp).
final class LlamaCppVocabularyTests: XCTestCase {
    func testLlama2VocabularyGivesLlamaCppIds() throws {
        let base = TestSupport.fixture("llama-cpp/ggml-vocab-llama-spm.gguf")
        let t = try Tokenizer(modelPath: base)
        XCTAssertEqual(t.vocabularySize, 32000)
        XCTAssertEqual(t.sentencePiece?.prefix, .always)
        let input = try String(contentsOfFile: base + ".inp", encoding: .utf8)
        var texts = input.components(separatedBy: "\n__ggml_vocab_test__\n")
        if let last = texts.last, last.hasSuffix("\n__ggml_vocab_test__") {
            texts[texts.count - 1] = String(last.dropLast("\n__ggml_vocab_test__".count))
        }
        let wants = try String(contentsOfFile: base + ".out", encoding: .utf8).components(separatedBy: "\n")
        XCTAssertGreaterThanOrEqual(texts.count, 40)
        var ok = 0
        for (text, want) in zip(texts, wants) {
            let ids = t.encode(text)
            let expected = want.split(separator: " ").compactMap { Int32($0) }
            XCTAssertEqual(ids, expected, "\(text.debugDescription)")
            if ids == expected { ok += 1 }
            XCTAssertEqual(t.decode(ids), text, "decode of \(text.debugDescription)")
        }
        print("llama.cpp llama-spm vectors: \(ok)/\(min(texts.count, wants.count)) exact")
    }
}
