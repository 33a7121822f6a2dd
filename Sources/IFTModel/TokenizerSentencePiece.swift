import IFTCore

/// SentencePiece-style BPE (Llama 1/2, Mistral, Gemma, TinyLlama): spaces are written as `▁`
/// (U+2581) and belong to the word after them, words start from their Unicode characters (not
/// bytes), and a character the vocabulary lacks falls back to its UTF-8 bytes as `<0xXX>`
/// tokens. There is no pre-tokenizer: the whole text between two special tokens is one word.
///
/// Read from GGUF (`tokenizer.ggml.model = "llama"`: merges come from the token scores, the
/// higher-scoring result first, as llama.cpp's SPM tokenizer does) or from a Hugging Face
/// `tokenizer.json` whose BPE model has `byte_fallback` (merges in their listed order).
public struct SentencePieceOptions: Sendable, Equatable {
    /// Where a `▁` is put before a piece of text.
    public enum Prefix: Sendable, Equatable {
        /// Before every piece of text between special tokens, even one that starts with a space
        /// (Llama 2's `Prepend` normalizer; llama.cpp's `add_space_prefix`).
        case always
        /// Metaspace pre-tokenizer, `prepend_scheme: always`: before every piece that does not
        /// already start with a space.
        case metaspaceAlways
        /// Metaspace `prepend_scheme: first`: only before the piece at the start of the text.
        case metaspaceFirst
        /// Gemma: never.
        case never
    }

    public var prefix: Prefix
    /// Decoding drops one space at the start of the text (the prefix added when encoding).
    public var stripsLeadingSpace: Bool

    public init(prefix: Prefix, stripsLeadingSpace: Bool? = nil) {
        self.prefix = prefix
        self.stripsLeadingSpace = stripsLeadingSpace ?? (prefix != .never)
    }

    /// One line for `model info`.
    public var summary: String {
        switch prefix {
        case .always: return "SentencePiece BPE, byte fallback, ▁ prefix on each text piece"
        case .metaspaceAlways: return "SentencePiece BPE, byte fallback, Metaspace (prepend always)"
        case .metaspaceFirst: return "SentencePiece BPE, byte fallback, Metaspace (prepend first)"
        case .never: return "SentencePiece BPE, byte fallback, no ▁ prefix"
        }
    }
}

/// The space marker `▁` (U+2581) in UTF-8.
let sentencePieceSpace: [UInt8] = [0xE2, 0x96, 0x81]

extension SentencePieceOptions {
    /// The bytes of one piece of text as the BPE sees it: the `▁` prefix where `prefix` puts one,
    /// then every space replaced by `▁`. `atStart`: the piece begins the whole text.
    func escape(_ text: UnsafeBufferPointer<UInt8>, atStart: Bool, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        let startsWithSpace = text.first == 0x20
        switch prefix {
        case .always: out += sentencePieceSpace
        case .metaspaceAlways where !startsWithSpace: out += sentencePieceSpace
        case .metaspaceFirst where atStart && !startsWithSpace: out += sentencePieceSpace
        default: break
        }
        for b in text {
            if b == 0x20 { out += sentencePieceSpace } else { out.append(b) }
        }
    }

    /// The bytes a vocabulary entry stands for: `<0xXX>` byte tokens their byte, other tokens
    /// their text with `▁` as a space.
    static func pieceBytes(_ token: String, type: Tokenizer.TokenType) -> [UInt8] {
        if type == .byte, let b = byteValue(token) { return [b] }
        guard type == .normal || type == .userDefined || type == .undefined || type == .unused else {
            return Array(token.utf8)
        }
        var out: [UInt8] = []
        let u = Array(token.utf8)
        out.reserveCapacity(u.count)
        var i = 0
        while i < u.count {
            if i + 2 < u.count && u[i] == 0xE2 && u[i + 1] == 0x96 && u[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return out
    }

    /// 0xXX for a token spelled `<0xXX>`.
    static func byteValue(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        guard let hi = hex(u[3]), let lo = hex(u[4]) else { return nil }
        return hi << 4 | lo
    }

    /// Merges implied by SentencePiece scores (GGUF `tokenizer.ggml.scores`): every split of a
    /// normal token into two normal tokens, ranked by the merged token's score, higher first;
    /// equal scores share a rank, so the leftmost pair wins, as in llama.cpp.
    static func mergesFromScores(tokens: [String], types: [Tokenizer.TokenType], scores: [Float])
        -> (merges: [(String, String)], ranks: [Int])
    {
        // By code points: String equality would merge canonically equivalent pieces.
        var normal: Set<[Unicode.Scalar]> = []
        for (t, ty) in zip(tokens, types) where ty == .normal { normal.insert(Array(t.unicodeScalars)) }
        // Dense rank of each distinct score, highest first.
        let distinct = Set(scores).sorted(by: >)
        var rankOf: [Float: Int] = [:]
        for (r, s) in distinct.enumerated() { rankOf[s] = r }
        var found: [(rank: Int, id: Int, left: String, right: String)] = []
        for (id, t) in tokens.enumerated() where types[id] == .normal {
            let chars = Array(t.unicodeScalars)
            guard chars.count > 1 else { continue }
            for k in 1..<chars.count where normal.contains(Array(chars[..<k])) && normal.contains(Array(chars[k...])) {
                var a = String.UnicodeScalarView()
                a.append(contentsOf: chars[..<k])
                var b = String.UnicodeScalarView()
                b.append(contentsOf: chars[k...])
                found.append((rankOf[scores[id]] ?? 0, id, String(a), String(b)))
            }
        }
        found.sort { ($0.rank, $0.id) < ($1.rank, $1.id) }
        return (found.map { ($0.left, $0.right) }, found.map(\.rank))
    }
}

/// Single-character tokens by their Unicode scalar, and byte tokens by byte: the starting
/// symbols of a SentencePiece word.
struct SentencePieceSymbols: Sendable {
    private let characters: [UInt32: Int32]
    /// `<0xXX>` token of each byte, or -1.
    private let bytes: [Int32]
    private let unknown: Int32?

    init(tokens: [String], types: [Tokenizer.TokenType], unknownID: Int32?) {
        var chars: [UInt32: Int32] = [:]
        var bytes = [Int32](repeating: -1, count: 256)
        for (i, t) in tokens.enumerated() {
            switch types[i] {
            case .normal:
                let scalars = t.unicodeScalars
                if scalars.count == 1, let s = scalars.first, chars[s.value] == nil { chars[s.value] = Int32(i) }
            case .byte:
                if let b = SentencePieceOptions.byteValue(t), bytes[Int(b)] < 0 { bytes[Int(b)] = Int32(i) }
            default:
                break
            }
        }
        self.characters = chars
        self.bytes = bytes
        self.unknown = unknownID
    }

    /// Appends the starting symbols of `word` (UTF-8): each character's token, or its bytes'
    /// tokens when the vocabulary lacks it (the unknown token for a byte without one; invalid
    /// UTF-8 is taken byte by byte).
    func append(_ word: UnsafeBufferPointer<UInt8>, to symbols: inout [Int32]) {
        var i = 0
        let n = word.count
        while i < n {
            let b0 = word[i]
            var len = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 1
            if i + len > n { len = 1 }
            var scalar = UInt32(b0)
            if len > 1 {
                scalar = UInt32(b0) & (0xFF >> (len + 1))
                for k in 1..<len {
                    let c = word[i + k]
                    if c & 0xC0 != 0x80 {
                        len = 1
                        break
                    }
                    scalar = scalar << 6 | UInt32(c & 0x3F)
                }
            }
            // A lone byte >= 0x80 is not a character: it falls back to its byte token.
            if len > 1 || b0 < 0x80, let id = characters[scalar] {
                symbols.append(id)
            } else {
                for k in 0..<len {
                    let t = bytes[Int(word[i + k])]
                    if t >= 0 {
                        symbols.append(t)
                    } else if let u = unknown {
                        symbols.append(u)
                    }
                }
            }
            i += len
        }
    }
}

extension SentencePieceOptions {
    /// The options a Hugging Face `tokenizer.json` with a byte-fallback BPE model describes:
    /// Llama 2's normalizer (`Prepend("▁")` + `Replace(" ", "▁")`), Gemma's (`Replace` only), or
    /// a `Metaspace` pre-tokenizer (`split: false`); the decoder says whether decoding drops the
    /// leading space (`Strip` or `Metaspace`). Anything else is an error naming it.
    static func fromHuggingFaceJSON(_ json: JSONValue, path: String) throws -> SentencePieceOptions {
        func fail(_ loc: String, _ m: String) -> IFTError { .file(path: path, location: loc, message: m) }
        func steps(_ j: JSONValue?, _ list: String) -> [JSONValue] {
            guard let j, !j.isNull else { return [] }
            return j["type"]?.stringValue == "Sequence" ? (j[list]?.arrayValue ?? []) : [j]
        }
        var prepends = false
        var replacesSpaces = false
        for n in steps(json["normalizer"], "normalizers") {
            switch n["type"]?.stringValue {
            case "Prepend" where n["prepend"]?.stringValue == "▁" && !replacesSpaces:
                prepends = true
            case "Replace" where n["pattern"]?["String"]?.stringValue == " " && n["content"]?.stringValue == "▁":
                replacesSpaces = true
            default:
                throw fail(
                    "normalizer",
                    "normalizer \(n["type"]?.stringValue ?? n.typeName) \(String(n.description.prefix(80))) is not supported "
                        + "with SentencePiece BPE (supported: Prepend(\"▁\"), Replace(\" \", \"▁\"))")
            }
        }
        var prefix: Prefix = prepends ? .always : .never
        for p in steps(json["pre_tokenizer"], "pretokenizers") {
            guard p["type"]?.stringValue == "Metaspace", (p["replacement"]?.stringValue ?? "▁") == "▁" else {
                throw fail(
                    "pre_tokenizer",
                    "pre-tokenizer \(p["type"]?.stringValue ?? p.typeName) is not supported with SentencePiece BPE "
                        + "(supported: none, or Metaspace with replacement ▁ and split false)")
            }
            guard p["split"]?.boolValue != true else {
                throw fail("pre_tokenizer", "Metaspace with split true is not supported (only split false)")
            }
            guard !prepends && !replacesSpaces else {
                throw fail("pre_tokenizer", "a Metaspace pre-tokenizer after a normalizer that already writes ▁ is not supported")
            }
            replacesSpaces = true
            let scheme = p["prepend_scheme"]?.stringValue ?? (p["add_prefix_space"]?.boolValue == false ? "never" : "always")
            switch scheme {
            case "always": prefix = .metaspaceAlways
            case "first": prefix = .metaspaceFirst
            case "never": prefix = .never
            default: throw fail("pre_tokenizer", "Metaspace prepend_scheme '\(scheme)' is not one of always, first, never")
            }
        }
        guard replacesSpaces else {
            throw fail("normalizer", "no step writes spaces as ▁ (expected a Replace(\" \", \"▁\") normalizer or a Metaspace pre-tokenizer)")
        }
        var strips = false
        for d in steps(json["decoder"], "decoders") {
            switch d["type"]?.stringValue {
            case "Strip": strips = strips || (d["start"]?.intValue ?? 0) > 0
            case "Metaspace":
                let scheme = d["prepend_scheme"]?.stringValue ?? (d["add_prefix_space"]?.boolValue == false ? "never" : "always")
                strips = strips || scheme != "never"
            default: break
            }
        }
        return SentencePieceOptions(prefix: prefix, stripsLeadingSpace: strips)
    }
}
