import IFTCore

/// A BPE tokenizer, built from a GGUF file's `tokenizer.ggml.*` metadata (`Tokenizer(gguf:)`)
/// or a Hugging Face `tokenizer.json` (`Tokenizer(huggingFaceJSON:)`): byte-level BPE (GPT-2
/// style, as used by Llama 3, SmolLM, Qwen and most recent models) or, when `sentencePiece` is
/// set, SentencePiece-style BPE with byte fallback (Llama 2, Mistral, Gemma; see
/// `SentencePieceOptions`).
///
/// Token ids are `Int32` throughout (llama.cpp's `llama_token`; what embedding lookups and
/// training batches store).
///
/// Encoding: special tokens are split out first (control tokens such as `<|im_start|>` only
/// when `parseSpecial` is true; user-defined added tokens always), the text between them is
/// split into words by the pre-tokenizer, each word's UTF-8 bytes become byte tokens that the
/// merges then combine, lowest merge rank first (the leftmost of equal ranks). Bytes without a
/// token of their own in the vocabulary are dropped, as Hugging Face tokenizers does. Results
/// are cached per word; the tokenizer is safe to use from several threads.
///
/// `encode` adds no BOS/EOS token; `addsBOS`/`addsEOS` say whether the model expects them.
public final class Tokenizer: @unchecked Sendable {
    /// llama.cpp's token types (`tokenizer.ggml.token_type`).
    public enum TokenType: Int, Sendable, CaseIterable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// An added token's matching options (from tokenizer.json): `lstrip`/`rstrip` make the
    /// token swallow the whitespace before/after it.
    public struct MatchOptions: Sendable, Equatable {
        public var lstrip = false
        public var rstrip = false
        public init(lstrip: Bool = false, rstrip: Bool = false) {
            self.lstrip = lstrip
            self.rstrip = rstrip
        }
    }

    /// Where the tokenizer came from (a path), for messages.
    public let source: String
    /// Every token as the vocabulary spells it (byte-level spelling for normal tokens).
    public let tokens: [String]
    public let tokenTypes: [TokenType]
    public let preTokenizer: PreTokenizer
    public let bosID: Int32?
    public let eosID: Int32?
    public let padID: Int32?
    public let unknownID: Int32?
    /// Whether the model expects a BOS (EOS) token at the start (end) of a sequence.
    public let addsBOS: Bool
    public let addsEOS: Bool
    /// Llama 3: a word that is itself a token is not merged piecewise.
    public let ignoresMerges: Bool
    /// Set for SentencePiece-style BPE (`▁` spaces, characters as starting symbols, byte
    /// fallback); nil for byte-level BPE.
    public let sentencePiece: SentencePieceOptions?
    /// The chat template stored with the tokenizer (`tokenizer.chat_template`), if any.
    public let chatTemplate: String?
    /// Number of merges in effect.
    public var mergeCount: Int { merges.count }

    /// Ids by UTF-8 spelling (String equality would merge canonically equivalent tokens).
    private let vocab: [[UInt8]: Int32]
    private let merges: BPEMergeTable
    /// The token of each byte, or -1.
    private let byteTokens: [Int32]
    /// Decoded bytes of every token: `pieceBytes[pieceStart[i]..<pieceStart[i + 1]]`.
    private let pieceBytes: [UInt8]
    private let pieceStart: [Int]
    private let specials: SpecialTokenMatcher
    /// For `ignoresMerges`: normal tokens by their bytes.
    private let wholeWords: [[UInt8]: Int32]
    private let cache = BPEWordCache()
    private let sentencePieceSymbols: SentencePieceSymbols?

    public var vocabularySize: Int { tokens.count }

    /// Builds a tokenizer from its parts.
    /// - tokens: the vocabulary in id order, byte-level spelled (control and user-defined tokens
    ///   are spelled as their text).
    /// - types: one per token (default: all normal).
    /// - merges: (left, right) pairs in rank order, byte-level spelled (as the vocabulary spells
    ///   tokens for SentencePiece). Merges whose parts or result are not in the vocabulary are
    ///   ignored.
    /// - mergeRanks: each merge's rank when not its position (equal ranks: the leftmost pair
    ///   merges first).
    /// - sentencePiece: SentencePiece-style BPE instead of byte-level.
    public init(
        tokens: [String], types: [TokenType]? = nil, merges mergeList: [(String, String)],
        preTokenizer: PreTokenizer, bosID: Int32? = nil, eosID: Int32? = nil, padID: Int32? = nil,
        unknownID: Int32? = nil, addsBOS: Bool = false, addsEOS: Bool = false, ignoresMerges: Bool = false,
        matchOptions: [Int32: MatchOptions] = [:], chatTemplate: String? = nil, source: String = "<memory>",
        mergeRanks: [Int]? = nil, sentencePiece: SentencePieceOptions? = nil
    ) throws {
        func fail(_ m: String) -> IFTError { .file(path: source, location: "tokenizer", message: m) }
        guard !tokens.isEmpty else { throw fail("the vocabulary is empty") }
        guard tokens.count < Int(Int32.max) else { throw fail("\(tokens.count) tokens are too many") }
        let types = types ?? [TokenType](repeating: .normal, count: tokens.count)
        guard types.count == tokens.count else {
            throw fail("\(tokens.count) tokens but \(types.count) token types")
        }
        if let mergeRanks, mergeRanks.count != mergeList.count {
            throw fail("\(mergeList.count) merges but \(mergeRanks.count) merge ranks")
        }
        for (name, id) in [("BOS", bosID), ("EOS", eosID), ("padding", padID), ("unknown", unknownID)] {
            if let id, id < 0 || Int(id) >= tokens.count {
                throw fail("the \(name) token id \(id) is outside the vocabulary (0..<\(tokens.count))")
            }
        }
        self.source = source
        self.tokens = tokens
        self.tokenTypes = types
        self.preTokenizer = preTokenizer
        self.bosID = bosID
        self.eosID = eosID
        self.padID = padID
        self.unknownID = unknownID
        self.addsBOS = addsBOS
        self.addsEOS = addsEOS
        self.ignoresMerges = ignoresMerges
        self.chatTemplate = chatTemplate
        self.sentencePiece = sentencePiece
        self.sentencePieceSymbols = sentencePiece.map { _ in
            SentencePieceSymbols(tokens: tokens, types: types, unknownID: unknownID)
        }

        var vocab: [[UInt8]: Int32] = [:]
        vocab.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() { vocab[Array(t.utf8)] = Int32(i) }  // a repeated spelling: the last id wins
        self.vocab = vocab

        var byteTokens = [Int32](repeating: -1, count: 256)
        for b in 0..<256 where sentencePiece == nil {
            if let id = vocab[Array(String(Character(ByteLevel.byteToScalar[b])).utf8)], types[Int(id)] == .normal || types[Int(id)] == .byte {
                byteTokens[b] = id
            }
        }
        self.byteTokens = byteTokens

        var table = BPEMergeTable(capacity: mergeList.count)
        for (rank, (a, b)) in mergeList.enumerated() {
            guard let ia = vocab[Array(a.utf8)], let ib = vocab[Array(b.utf8)], let ir = vocab[Array(a.utf8) + Array(b.utf8)] else {
                continue
            }
            table.insert(ia, ib, rank: Int32(mergeRanks?[rank] ?? rank), result: ir)
        }
        self.merges = table

        var bytes: [UInt8] = []
        var starts: [Int] = [0]
        starts.reserveCapacity(tokens.count + 1)
        var words: [[UInt8]: Int32] = [:]
        for (i, t) in tokens.enumerated() {
            if sentencePiece != nil {
                bytes += SentencePieceOptions.pieceBytes(t, type: types[i])
            } else if types[i] == .normal || types[i] == .byte || types[i] == .unused || types[i] == .undefined,
                let decoded = ByteLevel.decode(t)
            {
                bytes += decoded
                if ignoresMerges && types[i] == .normal { words[decoded] = Int32(i) }
            } else {
                bytes += Array(t.utf8)
            }
            starts.append(bytes.count)
        }
        self.pieceBytes = bytes
        self.pieceStart = starts
        self.wholeWords = words

        var entries: [SpecialTokenMatcher.Entry] = []
        for (i, t) in tokens.enumerated() where !t.isEmpty {
            let always: Bool
            switch types[i] {
            case .control, .unknown: always = false
            case .userDefined: always = true
            default: continue
            }
            let o = matchOptions[Int32(i)] ?? MatchOptions()
            entries.append(.init(bytes: Array(t.utf8), id: Int32(i), always: always, lstrip: o.lstrip, rstrip: o.rstrip))
        }
        self.specials = SpecialTokenMatcher(entries)
    }

    // MARK: - Lookups

    /// The token's spelling in the vocabulary; nil for an id outside it.
    public func token(forID id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }

    /// The id of a token spelled exactly `token` (byte-level spelling for normal tokens).
    public func id(forToken token: String) -> Int32? { vocab[Array(token.utf8)] }

    public func tokenType(forID id: Int32) -> TokenType? {
        id >= 0 && Int(id) < tokens.count ? tokenTypes[Int(id)] : nil
    }

    /// Control, unknown and user-defined tokens (those matched whole in text).
    public func isSpecial(_ id: Int32) -> Bool {
        switch tokenType(forID: id) {
        case .control?, .unknown?, .userDefined?: return true
        default: return false
        }
    }

    /// The bytes token `id` stands for (its text for control and user-defined tokens).
    public func bytes(forID id: Int32) -> [UInt8] {
        guard id >= 0, Int(id) < tokens.count else { return [] }
        return Array(pieceBytes[pieceStart[Int(id)]..<pieceStart[Int(id) + 1]])
    }

    // MARK: - Encoding

    /// The token ids of `text`. With `parseSpecial`, control tokens written in the text (e.g.
    /// `<|im_start|>`) become those tokens; without it they are encoded as the plain text they
    /// are. No BOS/EOS is added.
    public func encode(_ text: String, parseSpecial: Bool = false) -> [Int32] {
        var text = text
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 4)
        text.withUTF8 { buf in
            var scratch = PreTokenizerScratch()
            var symbols: [Int32] = []
            var escaped: [UInt8] = []
            specials.partition(buf, parseSpecial: parseSpecial) { piece in
                switch piece {
                case .special(let id):
                    out.append(id)
                case .text(let range) where sentencePiece != nil:
                    sentencePiece?.escape(UnsafeBufferPointer(rebasing: buf[range]), atStart: range.lowerBound == 0, into: &escaped)
                    escaped.withUnsafeBufferPointer { encodeWord($0, into: &out, symbols: &symbols) }
                case .text(let range):
                    preTokenizer.split(buf, range, scratch: &scratch) { word in
                        encodeWord(UnsafeBufferPointer(rebasing: buf[word]), into: &out, symbols: &symbols)
                    }
                }
            }
        }
        return out
    }

    /// The token ids of one pre-tokenized word (its UTF-8 bytes).
    private func encodeWord(_ w: UnsafeBufferPointer<UInt8>, into out: inout [Int32], symbols: inout [Int32]) {
        if let spm = sentencePieceSymbols {
            if cache.get(w, into: &out) { return }
            symbols.removeAll(keepingCapacity: true)
            spm.append(w, to: &symbols)
            merges.merge(&symbols)
            cache.put(w, symbols)
            out += symbols
            return
        }
        if w.count == 1 {
            let t = byteTokens[Int(w[0])]
            if t >= 0 { out.append(t) }
            return
        }
        if cache.get(w, into: &out) { return }
        if ignoresMerges, let id = wholeWords[Array(w)] {
            out.append(id)
            return
        }
        symbols.removeAll(keepingCapacity: true)
        for b in w {
            let t = byteTokens[Int(b)]
            if t >= 0 { symbols.append(t) }
        }
        merges.merge(&symbols)
        cache.put(w, symbols)
        out += symbols
    }

    // MARK: - Decoding

    /// The text of `ids`. Invalid UTF-8 (e.g. a multi-byte character cut off) becomes U+FFFD.
    /// With `skipSpecial`, control and unknown tokens are left out. Ids outside the vocabulary
    /// are skipped. SentencePiece tokenizers drop the space their prefix put at the start.
    public func decode(_ ids: [Int32], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }

    /// The bytes of `ids`, concatenated.
    public func decodeBytes(_ ids: [Int32], skipSpecial: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids { appendBytes(of: id, to: &out, skipSpecial: skipSpecial) }
        if sentencePiece?.stripsLeadingSpace == true, out.first == 0x20 { out.removeFirst() }
        return out
    }

    func appendBytes(of id: Int32, to out: inout [UInt8], skipSpecial: Bool) {
        guard id >= 0, Int(id) < tokens.count else { return }
        if skipSpecial {
            let t = tokenTypes[Int(id)]
            if t == .control || t == .unknown { return }
        }
        out += pieceBytes[pieceStart[Int(id)]..<pieceStart[Int(id) + 1]]
    }

    /// Entries in the word cache (for tests and diagnostics).
    var cachedWordCount: Int { cache.count }
}

/// Finds special tokens in text: leftmost match first, the longest at a position (as Hugging
/// Face tokenizers' added-token matcher does).
struct SpecialTokenMatcher: Sendable {
    struct Entry: Sendable {
        var bytes: [UInt8]
        var id: Int32
        /// Matched even without `parseSpecial` (user-defined tokens).
        var always: Bool
        var lstrip: Bool
        var rstrip: Bool
    }

    enum Piece {
        case text(Range<Int>)
        case special(Int32)
    }

    let entries: [Entry]
    /// Entry indices by first byte, longest first.
    private let byFirst: [[Int]]

    init(_ entries: [Entry]) {
        self.entries = entries
        var by = [[Int]](repeating: [], count: 256)
        for (i, e) in entries.enumerated() { by[Int(e.bytes[0])].append(i) }
        for b in 0..<256 { by[b].sort { entries[$0].bytes.count > entries[$1].bytes.count } }
        byFirst = by
    }

    func partition(_ buf: UnsafeBufferPointer<UInt8>, parseSpecial: Bool, _ body: (Piece) -> Void) {
        let n = buf.count
        var textStart = 0
        var i = 0
        if entries.isEmpty || (!parseSpecial && !entries.contains { $0.always }) {
            if n > 0 { body(.text(0..<n)) }
            return
        }
        while i < n {
            let cands = byFirst[Int(buf[i])]
            var matched: Entry? = nil
            for c in cands {
                let e = entries[c]
                guard parseSpecial || e.always, e.bytes.count <= n - i else { continue }
                var ok = true
                for k in 1..<e.bytes.count where buf[i + k] != e.bytes[k] {
                    ok = false
                    break
                }
                if ok {
                    matched = e
                    break
                }
            }
            guard let e = matched else {
                i += 1
                continue
            }
            var start = i
            var end = i + e.bytes.count
            if e.lstrip {
                while start > textStart, let w = Self.whitespaceBefore(buf, start, floor: textStart) { start -= w }
            }
            if e.rstrip {
                while end < n, let w = Self.whitespaceAt(buf, end) { end += w }
            }
            if textStart < start { body(.text(textStart..<start)) }
            body(.special(e.id))
            textStart = end
            i = end
        }
        if textStart < n { body(.text(textStart..<n)) }
    }

    /// Length of the whitespace character at i, or nil.
    static func whitespaceAt(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        var it = UnsafeBufferPointer(rebasing: buf[i...]).makeIterator()
        var dec = UTF8()
        guard case .scalarValue(let u) = dec.decode(&it), u.properties.isWhitespace else { return nil }
        return UTF8.width(u)
    }

    /// Length of the whitespace character ending at i (not before floor), or nil.
    static func whitespaceBefore(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int, floor: Int) -> Int? {
        var s = i - 1
        while s > floor && buf[s] & 0xC0 == 0x80 { s -= 1 }
        guard let w = whitespaceAt(buf, s), s + w == i else { return nil }
        return w
    }
}
