import Foundation
import IFTCore
import XCTest

@testable import IFTModel

/// Tokenizer tests that need no model: a tiny hand-made byte-level vocabulary.
final class TokenizerTests: XCTestCase {
    /// The 256 byte symbols (ids 0...255 in byte order), then merged tokens.
    static func tinyTokenizer(
        merges: [(String, String)], extra: [String] = [], specials: [(String, Tokenizer.TokenType)] = [],
        pre: PreTokenizer = .gpt2
    ) throws -> Tokenizer {
        var tokens = (0..<256).map { String(Character(ByteLevel.byteToScalar[$0])) }
        var types = [Tokenizer.TokenType](repeating: .normal, count: 256)
        var seen = Set(tokens)
        for (a, b) in merges where seen.insert(a + b).inserted {
            tokens.append(a + b)
            types.append(.normal)
        }
        for t in extra where seen.insert(t).inserted {
            tokens.append(t)
            types.append(.normal)
        }
        for (t, ty) in specials {
            tokens.append(t)
            types.append(ty)
        }
        return try Tokenizer(tokens: tokens, types: types, merges: merges, preTokenizer: pre)
    }

    func ids(_ t: Tokenizer, _ tokens: [String]) -> [Int32] { tokens.map { t.id(forToken: $0)! } }

    // MARK: Byte-level mapping

    func testByteLevelMapping() {
        XCTAssertEqual(ByteLevel.byteToScalar[0x20], "Ġ")
        XCTAssertEqual(ByteLevel.byteToScalar[0x0A], "Ċ")
        XCTAssertEqual(ByteLevel.byteToScalar[0x00], "Ā")
        XCTAssertEqual(ByteLevel.byteToScalar[0x41], "A")
        XCTAssertEqual(ByteLevel.byteToScalar[0xAD], "Ń")  // soft hyphen is not printable
        XCTAssertEqual(ByteLevel.byteToScalar[0xFF], "ÿ")
        XCTAssertEqual(Set(ByteLevel.byteToScalar).count, 256)
        let all = (0..<256).map { UInt8($0) }
        XCTAssertEqual(ByteLevel.decode(ByteLevel.encode(all)), all)
        XCTAssertEqual(ByteLevel.encode(Array(" héllo\n".utf8)), "ĠhÃ©lloĊ")
        XCTAssertNil(ByteLevel.decode(" "))  // the space itself is not in the alphabet
        XCTAssertNil(ByteLevel.decode("€"))
    }

    // MARK: Merges

    func testMergeRankOrderDecides() throws {
        let bcFirst = try Self.tinyTokenizer(merges: [("b", "c"), ("a", "b")])
        XCTAssertEqual(bcFirst.encode("abc"), ids(bcFirst, ["a", "bc"]))
        let abFirst = try Self.tinyTokenizer(merges: [("a", "b"), ("b", "c")])
        XCTAssertEqual(abFirst.encode("abc"), ids(abFirst, ["ab", "c"]))
    }

    func testEqualRanksMergeLeftmostFirst() throws {
        let t = try Self.tinyTokenizer(merges: [("a", "a"), ("aa", "a")])
        XCTAssertEqual(t.encode("aaa"), ids(t, ["aaa"]))
        XCTAssertEqual(t.encode("aaaa"), ids(t, ["aa", "aa"]))  // (a a) twice before (aa a)
        XCTAssertEqual(t.encode("aaaaa"), ids(t, ["aa", "aaa"]))
    }

    func testMergesBuildWords() throws {
        let merges: [(String, String)] = [
            ("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("l", "d"),
            ("Ġwor", "ld"),
        ]
        let t = try Self.tinyTokenizer(merges: merges)
        XCTAssertEqual(t.encode("hello world"), ids(t, ["hello", "Ġworld"]))
        XCTAssertEqual(t.encode("hello\nworld"), ids(t, ["hello", "Ċ", "w", "or", "ld"]))
        XCTAssertEqual(t.decode(t.encode("hello world")), "hello world")
        XCTAssertEqual(t.mergeCount, merges.count)
    }

    func testMergesWithUnknownPartsAreIgnored() throws {
        let t = try Self.tinyTokenizer(merges: [("a", "b")])
        let t2 = try Tokenizer(
            tokens: t.tokens, merges: [("x", "nope"), ("a", "b"), ("a", "c")], preTokenizer: .gpt2)
        XCTAssertEqual(t2.mergeCount, 1)  // "nope" and "ac" are not tokens
        XCTAssertEqual(t2.encode("abac"), ids(t, ["ab", "a", "c"]))
    }

    /// The heap-based merge loop (words over 64 bytes) against a naive reference.
    func testLongWordsMatchNaiveBPE() throws {
        var merges: [(String, String)] = []
        let alphabet = ["a", "b", "c"]
        var units = alphabet
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<40 {
            let a = units[Int(rng.next() % UInt64(units.count))]
            let b = units[Int(rng.next() % UInt64(units.count))]
            guard (a + b).count <= 8, !merges.contains(where: { $0.0 == a && $0.1 == b }) else { continue }
            merges.append((a, b))
            units.append(a + b)
        }
        let t = try Self.tinyTokenizer(merges: merges)
        for n in [3, 10, 63, 64, 65, 100, 300, 1000] {
            for _ in 0..<20 {
                let word = String((0..<n).map { _ in Character(alphabet[Int(rng.next() % 3)]) })
                XCTAssertEqual(
                    t.encode(word).map { t.token(forID: $0)! }, Self.naiveBPE(word, merges),
                    "word of \(n): \(word)")
            }
        }
    }

    /// Textbook BPE: merge the lowest-ranked adjacent pair (leftmost of equals) until none applies.
    static func naiveBPE(_ word: String, _ merges: [(String, String)]) -> [String] {
        var rank: [String: Int] = [:]
        for (i, m) in merges.enumerated() where rank[m.0 + "\u{0}" + m.1] == nil { rank[m.0 + "\u{0}" + m.1] = i }
        var syms = word.map { String($0) }
        while syms.count > 1 {
            var best = Int.max
            var at = -1
            for j in 0..<(syms.count - 1) {
                if let r = rank[syms[j] + "\u{0}" + syms[j + 1]], r < best {
                    best = r
                    at = j
                }
            }
            if at < 0 { break }
            syms[at] += syms[at + 1]
            syms.remove(at: at + 1)
        }
        return syms
    }

    // MARK: Special tokens

    func testSpecialTokensOnlyWhenAsked() throws {
        let t = try Self.tinyTokenizer(
            merges: [("h", "i")], specials: [("<|im_start|>", .control), ("<|im_end|>", .control), ("<tool>", .userDefined)])
        let start = t.id(forToken: "<|im_start|>")!
        let end = t.id(forToken: "<|im_end|>")!
        let tool = t.id(forToken: "<tool>")!
        let text = "<|im_start|>hi<|im_end|>"
        XCTAssertEqual(t.encode(text, parseSpecial: true), [start, t.id(forToken: "hi")!, end])
        let plain = t.encode(text)
        XCTAssertFalse(plain.contains(start))
        XCTAssertGreaterThan(plain.count, 6)
        XCTAssertEqual(t.decode(plain), text)
        XCTAssertEqual(t.decode(t.encode(text, parseSpecial: true)), text)
        XCTAssertEqual(t.decode(t.encode(text, parseSpecial: true), skipSpecial: true), "hi")
        // User-defined tokens are always matched, and never skipped.
        XCTAssertEqual(t.encode("a<tool>b"), [t.id(forToken: "a")!, tool, t.id(forToken: "b")!])
        XCTAssertEqual(t.decode([tool], skipSpecial: true), "<tool>")
        // Adjacent, repeated and partial special tokens.
        XCTAssertEqual(t.encode("<|im_end|><|im_start|><|im_end|>", parseSpecial: true), [end, start, end])
        XCTAssertFalse(t.encode("<|im_start", parseSpecial: true).contains(start))
        XCTAssertTrue(t.isSpecial(start))
        XCTAssertTrue(t.isSpecial(tool))
        XCTAssertFalse(t.isSpecial(0))
    }

    func testLongestSpecialTokenWinsAtAPosition() throws {
        let t = try Self.tinyTokenizer(merges: [], specials: [("<a>", .control), ("<a><b>", .control), ("<b>", .control)])
        XCTAssertEqual(t.encode("<a><b>", parseSpecial: true), [t.id(forToken: "<a><b>")!])
        XCTAssertEqual(t.encode("<a><a><b>", parseSpecial: true), [t.id(forToken: "<a>")!, t.id(forToken: "<a><b>")!])
    }

    func testLstripRstripOptions() throws {
        var tokens = (0..<256).map { String(Character(ByteLevel.byteToScalar[$0])) }
        tokens.append("<mask>")
        var types = [Tokenizer.TokenType](repeating: .normal, count: 256)
        types.append(.control)
        let t = try Tokenizer(
            tokens: tokens, types: types, merges: [], preTokenizer: .gpt2,
            matchOptions: [256: .init(lstrip: true, rstrip: true)])
        XCTAssertEqual(t.encode("a \u{3000} <mask>  b", parseSpecial: true), [t.id(forToken: "a")!, 256, t.id(forToken: "b")!])
    }

    // MARK: Round trips, bytes, streaming

    func testRoundTripsArbitraryText() throws {
        let t = try Self.tinyTokenizer(merges: [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ã", "©")])
        var rng = SeededGenerator(seed: 11)
        let pool: [Unicode.Scalar] = ["a", "Z", " ", "\n", "\t", "'", "1", "é", "中", "😀", "\u{0301}", "\u{00A0}", "\u{2028}", "\0", "\u{7F}"]
        for _ in 0..<300 {
            var s = ""
            for _ in 0..<Int(rng.next() % 40) { s.unicodeScalars.append(pool[Int(rng.next() % UInt64(pool.count))]) }
            XCTAssertEqual(t.decode(t.encode(s)), s)
            XCTAssertEqual(t.decode(t.encode(s, parseSpecial: true)), s)
        }
    }

    func testMissingByteTokensAreDropped() throws {
        var tokens = (0..<256).map { String(Character(ByteLevel.byteToScalar[$0])) }
        tokens[0x1D] = "<unused>"  // no token for byte 0x1D
        let t = try Tokenizer(tokens: tokens, merges: [], preTokenizer: .gpt2)
        XCTAssertEqual(t.decode(t.encode("a\u{1D}b")), "ab")
    }

    func testStreamingDecoderHoldsPartialCharacters() throws {
        let t = try Self.tinyTokenizer(merges: [])
        let text = "aé中😀b"
        let ids = t.encode(text)  // one token per byte
        XCTAssertEqual(ids.count, text.utf8.count)
        var stream = t.streamingDecoder()
        let outs = ids.map { stream.append($0) }
        XCTAssertEqual(outs, ["a", "", "é", "", "", "中", "", "", "", "😀", "b"])
        XCTAssertEqual(stream.finish(), "")
        // A dangling lead byte comes out as U+FFFD at the end.
        var s2 = t.streamingDecoder()
        XCTAssertEqual(s2.append(contentsOf: ids.prefix(2)), "a")
        XCTAssertEqual(s2.pendingBytes, [0xC3])
        XCTAssertEqual(s2.finish(), "\u{FFFD}")
        XCTAssertEqual(Tokenizer.StreamingDecoder.incompleteSuffix([0xF0, 0x9F, 0x98]), 3)
        XCTAssertEqual(Tokenizer.StreamingDecoder.incompleteSuffix([0xF0, 0x9F, 0x98, 0x80]), 0)
        XCTAssertEqual(Tokenizer.StreamingDecoder.incompleteSuffix([0x80, 0x80, 0x80]), 0)
        XCTAssertEqual(Tokenizer.StreamingDecoder.incompleteSuffix([0x41, 0xFF]), 0)
    }

    func testLookupsAndBadIDs() throws {
        let t = try Self.tinyTokenizer(merges: [("a", "b")])
        XCTAssertEqual(t.vocabularySize, 257)
        XCTAssertEqual(t.token(forID: 256), "ab")
        XCTAssertNil(t.token(forID: 257))
        XCTAssertNil(t.token(forID: -1))
        XCTAssertEqual(t.id(forToken: "Ġ"), 0x20)
        XCTAssertEqual(t.bytes(forID: 0x20), [0x20])
        XCTAssertEqual(t.decode([-5, 256, 9999]), "ab")
        XCTAssertThrowsError(try Tokenizer(tokens: ["a"], merges: [], preTokenizer: .gpt2, bosID: 3))
        XCTAssertThrowsError(try Tokenizer(tokens: [], merges: [], preTokenizer: .gpt2))
        XCTAssertThrowsError(try Tokenizer(tokens: ["a", "b"], types: [.normal], merges: [], preTokenizer: .gpt2))
    }

    // MARK: Pre-tokenizers (expected splits from Hugging Face tokenizers' Split/Digits)

    static let preTexts = [
        "Hello world  12345 don't I'LL\n\n x", "\tfoo(bar)!!\r\n\n  baz  ", "$x+=1234567; // ok?!",
        "你好 世界 ١٢٣ 😀😀 a\u{00A0}b",
    ]

    func checkSplits(_ p: PreTokenizer, _ expected: [[String]], file: StaticString = #filePath, line: UInt = #line) {
        for (text, want) in zip(Self.preTexts, expected) {
            XCTAssertEqual(p.split(text), want, "\(p) on \(text.debugDescription)", file: file, line: line)
        }
    }

    func testGPT2Splits() {
        checkSplits(.gpt2, [
            ["Hello", " world", " ", " 12345", " don", "'t", " I", "'", "LL", "\n\n", " x"],
            ["\t", "foo", "(", "bar", ")!!", "\r\n\n ", " baz", "  "],
            ["$", "x", "+=", "1234567", ";", " //", " ok", "?!"],
            ["你好", " 世界", " ١٢٣", " 😀😀", " a", "\u{00A0}", "b"],
        ])
    }

    func testSmolLMSplits() {
        checkSplits(.smollm, [
            ["Hello", " world", "  ", "1", "2", "3", "4", "5", " don", "'t", " I", "'", "LL", "\n\n", " x"],
            ["\t", "foo", "(", "bar", ")!!", "\r\n\n ", " baz", "  "],
            ["$", "x", "+=", "1", "2", "3", "4", "5", "6", "7", ";", " //", " ok", "?!"],
            ["你好", " 世界", " ", "١", "٢", "٣", " 😀😀", " a", "\u{00A0}", "b"],
        ])
    }

    func testLlama3Splits() {
        checkSplits(.llama3, [
            ["Hello", " world", " ", " ", "123", "45", " don", "'t", " I", "'LL", "\n\n", " x"],
            ["\tfoo", "(bar", ")!!\r\n\n", " ", " baz", "  "],
            ["$x", "+=", "123", "456", "7", ";", " //", " ok", "?!"],
            ["你好", " 世界", " ", "١٢٣", " 😀😀", " a", "\u{00A0}b"],
        ])
    }

    func testLlamaCppDefaultSplits() {
        checkSplits(.llamaCppDefault, [
            ["Hello", " world", " ", " ", "123", "45", " don", "'", "t", " I", "'", "LL", "\n\n", " x"],
            ["\t", "foo", "(", "bar", ")!!", "\r\n\n ", " baz", "  "],
            ["$", "x", "+=", "123", "456", "7", ";", " ", "//", " ok", "?!"],
            ["你好", " 世界", " ", "١٢٣", " 😀😀", " a", "\u{00A0}", "b"],
        ])
    }

    /// Hugging Face tokenizers' splits of 300 varied texts with llama.cpp's patterns
    /// (Tools/make-tokenizer-fixture.py writes pretokenizer-splits.json).
    func testSplitsMatchHuggingFaceOnFixtureTexts() throws {
        let j = try JSONValue.parse(contentsOf: TestSupport.fixture("pretokenizer-splits.json"))
        let texts = j["texts"]!.arrayValue!.map { $0.stringValue! }
        let kinds = j["splits"]!.objectValue!
        XCTAssertEqual(Set(kinds.keys), ["gpt-2", "smollm", "llama-bpe", "qwen2", "default"])
        for (name, expected) in kinds.members {
            let p = try XCTUnwrap(PreTokenizer(llamaCppName: name))
            var ok = 0
            for (text, want) in zip(texts, expected.arrayValue!) {
                let w = want.arrayValue!.map { $0.stringValue! }
                let got = p.split(text)
                XCTAssertEqual(got, w, "\(name) on \(text.debugDescription)")
                if got == w { ok += 1 }
            }
            print("pre-tokenizer \(name): \(ok)/\(texts.count) texts split as Hugging Face tokenizers does")
        }
    }

    func testPreTokenizerNames() {
        XCTAssertEqual(PreTokenizer(llamaCppName: "smollm")?.stages, PreTokenizer.smollm.stages)
        XCTAssertEqual(PreTokenizer(llamaCppName: "llama-bpe")?.stages, PreTokenizer.llama3.stages)
        XCTAssertEqual(PreTokenizer(llamaCppName: "gpt-2")?.stages, PreTokenizer.gpt2.stages)
        XCTAssertEqual(PreTokenizer(llamaCppName: "")?.stages, PreTokenizer.llamaCppDefault.stages)
        XCTAssertEqual(PreTokenizer(llamaCppName: "qwen2")?.stages, PreTokenizer.qwen2.stages)
        XCTAssertNil(PreTokenizer(llamaCppName: "no-such-thing"))
    }

    func testPreTokenizerPiecesTileTheText() {
        var rng = SeededGenerator(seed: 3)
        let pool: [Unicode.Scalar] = ["a", "B", " ", " ", "\n", "\r", "\t", "'", "s", "L", "1", "٣", "²", "!", "é", "中", "😀", "\u{3000}", "$"]
        for p in [PreTokenizer.gpt2, .smollm, .llama3, .qwen2, .llamaCppDefault] {
            for _ in 0..<300 {
                var s = ""
                for _ in 0..<Int(rng.next() % 30) { s.unicodeScalars.append(pool[Int(rng.next() % UInt64(pool.count))]) }
                let pieces = p.split(s)
                XCTAssertEqual(pieces.joined(), s, "\(p)")
                XCTAssertFalse(pieces.contains(""), "\(p) on \(s.debugDescription)")
            }
        }
    }

    // MARK: Loading

    func testFromGGUFMetadata() throws {
        let t0 = try Self.tinyTokenizer(merges: [("a", "b")], extra: ["xyz"], specials: [("<s>", .control)])
        var entries: [(key: String, value: GGUFValue)] = [
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("llama-bpe")),
            ("tokenizer.ggml.tokens", .strings(t0.tokens)),
            ("tokenizer.ggml.token_type", .int32s(t0.tokenTypes.map { Int32($0.rawValue) })),
            ("tokenizer.ggml.merges", .strings(["a b"])), ("tokenizer.ggml.bos_token_id", .uint32(258)),
            ("tokenizer.ggml.eos_token_id", .uint32(258)), ("tokenizer.chat_template", .string("{{ x }}")),
        ]
        let t = try Tokenizer(ggufMetadata: GGUFMetadata(path: "mem.gguf", entries: entries))
        XCTAssertEqual(t.preTokenizer.name, "llama-bpe")
        XCTAssertTrue(t.ignoresMerges)
        XCTAssertTrue(t.addsBOS)  // llama.cpp's default for llama3 vocabularies
        XCTAssertEqual(t.bosID, 258)
        XCTAssertNil(t.padID)
        XCTAssertEqual(t.chatTemplate, "{{ x }}")
        XCTAssertEqual(t.encode("<s>ab", parseSpecial: true), [258, 256])
        // ignore_merges: a word that is a token is taken whole even though no merges build it.
        XCTAssertEqual(t.encode("xyz"), [257])
        XCTAssertEqual(t0.encode("xyz"), t0.encode("x") + t0.encode("y") + t0.encode("z"))

        entries[1] = ("tokenizer.ggml.pre", .string("made-up"))
        assertFileError(
            try Tokenizer(ggufMetadata: GGUFMetadata(path: "mem.gguf", entries: entries)), path: "mem.gguf",
            location: ["tokenizer.ggml.pre"], contains: ["made-up", "smollm"])
        entries[1] = ("tokenizer.ggml.pre", .string("gpt-2"))
        entries[0] = ("tokenizer.ggml.model", .string("ugm"))
        assertFileError(
            try Tokenizer(ggufMetadata: GGUFMetadata(path: "mem.gguf", entries: entries)), path: "mem.gguf",
            location: ["tokenizer.ggml.model"], contains: ["'ugm'", "'gpt2'", "'llama'"])
        entries[0] = ("tokenizer.ggml.model", .string("gpt2"))
        entries[4] = ("tokenizer.ggml.merges", .strings(["ab"]))
        assertFileError(
            try Tokenizer(ggufMetadata: GGUFMetadata(path: "mem.gguf", entries: entries)), path: "mem.gguf",
            location: ["tokenizer.ggml.merges"], contains: ["merge 0"])
        entries[4] = ("tokenizer.ggml.merges", .strings(["a b"]))
        entries[5] = ("tokenizer.ggml.bos_token_id", .uint32(9999))
        assertFileError(
            try Tokenizer(ggufMetadata: GGUFMetadata(path: "mem.gguf", entries: entries)), path: "mem.gguf",
            location: ["bos_token_id"], contains: ["9999"])
    }

    func testFromTokenizerJSONBothMergeForms() throws {
        let vocab = (0..<256).map { "\(JSONValue.string(String(Character(ByteLevel.byteToScalar[$0]))).description):\($0)" }
        func json(_ merges: String, pre: String = #"{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}"#) -> String {
            """
            {"version":"1.0","normalizer":null,"pre_tokenizer":\(pre),
             "added_tokens":[{"id":258,"content":"<|end|>","special":true,"lstrip":false,"rstrip":false,"normalized":false,"single_word":false},
                             {"id":259,"content":"<x>","special":false}],
             "model":{"type":"BPE","dropout":null,"unk_token":null,"ignore_merges":false,
                      "vocab":{\(vocab.joined(separator: ",")),"ab":256,"abc":257},
                      "merges":\(merges)}}
            """
        }
        let config = try JSONValue.parse(#"{"bos_token":{"content":"<|end|>"},"eos_token":"<|end|>","chat_template":"hi"}"#)
        for merges in [#"["a b","ab c"]"#, #"[["a","b"],["ab","c"]]"#] {
            let t = try Tokenizer(huggingFaceJSON: JSONValue.parse(json(merges)), config: config)
            XCTAssertEqual(t.vocabularySize, 260)
            XCTAssertEqual(t.encode("abc<|end|><x>", parseSpecial: true), [257, 258, 259])
            XCTAssertEqual(t.encode("abc<|end|><x>").suffix(1), [259])
            XCTAssertEqual(t.bosID, 258)
            XCTAssertEqual(t.eosID, 258)
            XCTAssertEqual(t.chatTemplate, "hi")
            XCTAssertEqual(t.tokenType(forID: 258), .control)
            XCTAssertEqual(t.tokenType(forID: 259), .userDefined)
        }
        let dir = try TestSupport.tempDir(self)
        try json(#"["a b","ab c"]"#).write(toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
        try #"{"eos_token":"<|end|>","add_bos_token":true}"#.write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        let fromFiles = try Tokenizer(tokenizerJSONPath: dir + "/tokenizer.json", configPath: dir + "/tokenizer_config.json")
        XCTAssertEqual(fromFiles.encode("abcab"), [257, 256])
        XCTAssertEqual(fromFiles.eosID, 258)
        XCTAssertTrue(fromFiles.addsBOS)
        XCTAssertEqual(fromFiles.source, dir + "/tokenizer.json")

        let seq = #"{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}]}"#
        XCTAssertEqual(try Tokenizer(huggingFaceJSON: JSONValue.parse(json("[]", pre: seq))).preTokenizer.stages, PreTokenizer.smollm.stages)
        let l3 = #"{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}"#
        XCTAssertEqual(try Tokenizer(huggingFaceJSON: JSONValue.parse(json("[]", pre: l3))).preTokenizer.stages, PreTokenizer.llama3.stages)

        let badSplit = #"{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Isolated"}"#
        assertFileError(
            try Tokenizer(huggingFaceJSON: JSONValue.parse(json("[]", pre: badSplit)), path: "t.json"), path: "t.json",
            location: ["pre_tokenizer"], contains: ["\\w+"])
        assertFileError(
            try Tokenizer(huggingFaceJSON: JSONValue.parse(json("[1]")), path: "t.json"), path: "t.json",
            location: ["model.merges[0]"])
        let spm = json("[]").replacingOccurrences(of: #""normalizer":null"#, with: #""normalizer":{"type":"NFC"}"#)
        assertFileError(try Tokenizer(huggingFaceJSON: JSONValue.parse(spm), path: "t.json"), path: "t.json", location: ["normalizer"], contains: ["NFC"])
    }
}
