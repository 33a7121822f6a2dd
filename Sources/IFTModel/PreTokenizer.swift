import IFTCore

/// Splits text into the words that byte-level BPE then encodes one by one, as llama.cpp's
/// `tokenizer.ggml.pre` kinds and Hugging Face's pre-tokenizers do.
///
/// A pre-tokenizer is a list of stages. The first stage splits the text; each further stage
/// splits every piece the previous stage produced (a stage never sees across a piece's ends:
/// look-ahead at a piece's end sees the end of text). Each stage's pattern is scanned by hand,
/// with Unicode general categories (`\p{L}` letters, `\p{N}` numbers, `\p{P}` punctuation) and
/// `\s` as the Unicode White_Space property, exactly as Oniguruma (Hugging Face tokenizers) and
/// llama.cpp read these patterns; the text between matches is kept as pieces of its own.
public struct PreTokenizer: Equatable, Sendable, CustomStringConvertible {
    public enum Stage: Equatable, Sendable {
        /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
        case gpt2
        /// Llama 3 with `maxDigits` 3, Qwen 2 with 1:
        /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}`
        /// `| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        case llama3(maxDigits: Int)
        /// `\p{N}` (individual) or `\p{N}+`; everything else is left in the pieces between.
        case digits(individual: Bool)
        /// `[\p{P}\$\+<=>\^~\|]+` (llama.cpp's default pre-tokenizer's first pattern).
        case punctuationRuns
        /// `[0-9][0-9][0-9]` (llama.cpp's default pre-tokenizer's last pattern).
        case asciiDigitTriples
    }

    /// The llama.cpp name (`tokenizer.ggml.pre`) or a description of where it came from.
    public let name: String
    public let stages: [Stage]

    public init(name: String, stages: [Stage]) {
        self.name = name
        self.stages = stages
    }

    public var description: String { name }

    public static let gpt2 = PreTokenizer(name: "gpt-2", stages: [.gpt2])
    /// SmolLM, StarCoder and friends: digits one by one, then GPT-2.
    public static let smollm = PreTokenizer(name: "smollm", stages: [.digits(individual: true), .gpt2])
    public static let llama3 = PreTokenizer(name: "llama-bpe", stages: [.llama3(maxDigits: 3)])
    public static let qwen2 = PreTokenizer(name: "qwen2", stages: [.llama3(maxDigits: 1)])
    /// llama.cpp's fallback for BPE vocabularies without a known `tokenizer.ggml.pre`.
    public static let llamaCppDefault = PreTokenizer(
        name: "default", stages: [.punctuationRuns, .gpt2, .digits(individual: false), .asciiDigitTriples])

    /// `tokenizer.ggml.pre` names, as llama.cpp maps them (llama-vocab.cpp).
    static let llamaCppNames: [String: PreTokenizer] = {
        var m: [String: PreTokenizer] = [:]
        for n in ["default"] { m[n] = .llamaCppDefault }
        for n in ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                  "dbrx", "smaug-bpe"] {
            m[n] = PreTokenizer(name: n, stages: [.llama3(maxDigits: 3)])
        }
        for n in ["qwen2", "stablelm2", "hunyuan", "deepseek-r1-qwen"] {
            m[n] = PreTokenizer(name: n, stages: [.llama3(maxDigits: 1)])
        }
        for n in ["gpt-2", "gpt2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es",
                  "jina-v2-de", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion", "granite-docling"] {
            m[n] = PreTokenizer(name: n, stages: [.gpt2])
        }
        for n in ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b"] {
            m[n] = PreTokenizer(name: n, stages: [.digits(individual: true), .gpt2])
        }
        return m
    }()

    /// Every `tokenizer.ggml.pre` name this implementation knows.
    public static var knownLlamaCppNames: [String] { llamaCppNames.keys.sorted() }

    /// The pre-tokenizer llama.cpp uses for `tokenizer.ggml.pre = name` (an empty name is
    /// `default`, as in llama.cpp); nil for a name this implementation does not know.
    public init?(llamaCppName name: String) {
        guard let p = Self.llamaCppNames[name.isEmpty ? "default" : name] else { return nil }
        self = p
    }

    // MARK: - Splitting

    /// Splits `text` into words.
    public func split(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var out: [String] = []
        bytes.withUnsafeBufferPointer { buf in
            var scratch = PreTokenizerScratch()
            split(buf, 0..<buf.count, scratch: &scratch) { r in
                out.append(String(decoding: UnsafeBufferPointer(rebasing: buf[r]), as: UTF8.self))
            }
        }
        return out
    }

    /// Splits the valid UTF-8 `bytes[range]` and calls `body` with the byte range of each word,
    /// in order. The word ranges tile `range`.
    func split(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, scratch s: inout PreTokenizerScratch,
        _ body: (Range<Int>) -> Void
    ) {
        guard !range.isEmpty else { return }
        s.load(bytes, range)
        let n = s.scalars.count
        s.ends.removeAll(keepingCapacity: true)
        s.ends.append(n)
        for stage in stages {
            swap(&s.ends, &s.next)
            s.ends.removeAll(keepingCapacity: true)
            var start = 0
            for end in s.next {
                s.apply(stage, start, end)
                start = end
            }
        }
        var start = 0
        for end in s.ends {
            body((range.lowerBound + s.offsets[start])..<(range.lowerBound + s.offsets[end]))
            start = end
        }
    }
}

/// Character classes of the patterns.
enum CharClass {
    static let letter: UInt8 = 1  // \p{L}
    static let number: UInt8 = 2  // \p{N}
    static let space: UInt8 = 4  // \s (White_Space)
    static let punct: UInt8 = 8  // [\p{P}\$\+<=>\^~\|]
    static let newline: UInt8 = 16  // [\r\n]
    static let asciiDigit: UInt8 = 32  // [0-9]

    static func of(_ v: UInt32) -> UInt8 {
        if v < 0x10000 { return bmp[Int(v)] }
        return Unicode.Scalar(v).map(compute) ?? 0
    }

    /// The classes of the Basic Multilingual Plane, computed once (65,536 property lookups).
    static let bmp: [UInt8] = (0..<0x10000).map { v in Unicode.Scalar(UInt32(v)).map(compute) ?? 0 }

    static func compute(_ u: Unicode.Scalar) -> UInt8 {
        var c: UInt8 = 0
        let p = u.properties
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            c |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            c |= number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            c |= punct
        default: break
        }
        if p.isWhitespace { c |= space }
        switch u {
        case "$", "+", "<", "=", ">", "^", "~", "|": c |= punct
        case "\r", "\n": c |= newline
        case "0"..."9": c |= asciiDigit
        default: break
        }
        return c
    }
}

/// Per-call working storage of the pre-tokenizer (reused across the pieces of one text).
struct PreTokenizerScratch {
    var scalars: [UInt32] = []
    var classes: [UInt8] = []
    /// UTF-8 offset of each scalar from the piece start; one more entry for the end.
    var offsets: [Int] = []
    var ends: [Int] = []
    var next: [Int] = []

    mutating func load(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        scalars.removeAll(keepingCapacity: true)
        classes.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        var i = range.lowerBound
        let end = range.upperBound
        let base = range.lowerBound
        let table = CharClass.bmp
        while i < end {
            let b0 = UInt32(bytes[i])
            var v: UInt32
            var len: Int
            if b0 < 0x80 {
                v = b0; len = 1
            } else if b0 < 0xE0 {
                v = b0 & 0x1F; len = 2
            } else if b0 < 0xF0 {
                v = b0 & 0x0F; len = 3
            } else {
                v = b0 & 0x07; len = 4
            }
            len = min(len, end - i)
            for k in 1..<max(len, 1) { v = v << 6 | (UInt32(bytes[i + k]) & 0x3F) }
            scalars.append(v)
            classes.append(v < 0x10000 ? table[Int(v)] : CharClass.of(v))
            offsets.append(i - base)
            i += len
        }
        offsets.append(end - base)
    }

    mutating func apply(_ stage: PreTokenizer.Stage, _ start: Int, _ end: Int) {
        switch stage {
        case .gpt2:
            var i = start
            while i < end {
                i = gpt2(i, end)
                ends.append(i)
            }
        case .llama3(let maxDigits):
            var i = start
            while i < end {
                i = llama3(i, end, maxDigits: maxDigits)
                ends.append(i)
            }
        case .digits(let individual):
            let cls = classes
            isolate(start, end) { i in
                guard cls[i] & CharClass.number != 0 else { return nil }
                if individual { return i + 1 }
                var j = i + 1
                while j < end && cls[j] & CharClass.number != 0 { j += 1 }
                return j
            }
        case .punctuationRuns:
            let cls = classes
            isolate(start, end) { i in
                guard cls[i] & CharClass.punct != 0 else { return nil }
                var j = i + 1
                while j < end && cls[j] & CharClass.punct != 0 { j += 1 }
                return j
            }
        case .asciiDigitTriples:
            let cls = classes
            isolate(start, end) { i in
                guard i + 3 <= end else { return nil }
                return cls[i] & cls[i + 1] & cls[i + 2] & CharClass.asciiDigit != 0 ? i + 3 : nil
            }
        }
    }

    /// Appends the matches of `match` (leftmost first, scanning on after each match) and the
    /// text between them as pieces.
    private mutating func isolate(_ start: Int, _ end: Int, _ match: (Int) -> Int?) {
        var i = start
        var gap = start
        while i < end {
            if let e = match(i) {
                if gap < i { ends.append(i) }
                ends.append(e)
                i = e
                gap = e
            } else {
                i += 1
            }
        }
        if gap < end { ends.append(end) }
    }

    @inline(__always)
    private func run(_ i: Int, _ end: Int, _ cls: UInt8) -> Int {
        var j = i
        while j < end && classes[j] & cls != 0 { j += 1 }
        return j
    }

    /// End of `[^\s\p{L}\p{N}]+` starting at i (i itself must qualify).
    @inline(__always)
    private func otherRun(_ i: Int, _ end: Int) -> Int {
        let notOther = CharClass.space | CharClass.letter | CharClass.number
        var j = i
        while j < end && classes[j] & notOther == 0 { j += 1 }
        return j
    }

    @inline(__always)
    private func isOther(_ i: Int) -> Bool {
        classes[i] & (CharClass.space | CharClass.letter | CharClass.number) == 0
    }

    /// Length of a contraction `'s|'t|'re|'ve|'m|'ll|'d` at i (0 if none).
    @inline(__always)
    private func contraction(_ i: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard scalars[i] == 0x27, i + 1 < end else { return 0 }
        func lower(_ v: UInt32) -> UInt32 {
            caseInsensitive && v >= 0x41 && v <= 0x5A ? v + 0x20 : v
        }
        let a = lower(scalars[i + 1])
        switch a {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        default: break
        }
        guard i + 2 < end else { return 0 }
        let b = lower(scalars[i + 2])
        switch (a, b) {
        case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C): return 3  // re ve ll
        default: return 0
        }
    }

    /// The whitespace alternatives `\s+(?!\S)|\s+` at i (a whitespace character).
    @inline(__always)
    private func trailingSpace(_ i: Int, _ end: Int) -> Int {
        let j = run(i, end, CharClass.space)
        // \s+(?!\S): the run, less its last character when a non-space follows (if that leaves any).
        if j < end && j - 1 > i { return j - 1 }
        return j
    }

    /// End of the GPT-2 pattern's match at i.
    func gpt2(_ i: Int, _ end: Int) -> Int {
        let c = contraction(i, end, caseInsensitive: false)
        if c > 0 { return i + c }
        let cls = classes[i]
        var k = i
        if scalars[i] == 0x20 && i + 1 < end && classes[i + 1] & CharClass.space == 0 { k = i + 1 }
        let ck = classes[k]
        if ck & CharClass.letter != 0 { return run(k, end, CharClass.letter) }
        if ck & CharClass.number != 0 { return run(k, end, CharClass.number) }
        if isOther(k) { return otherRun(k, end) }
        // k == i and it is whitespace.
        precondition(cls & CharClass.space != 0)
        return trailingSpace(i, end)
    }

    /// End of the Llama 3 pattern's match at i.
    func llama3(_ i: Int, _ end: Int, maxDigits: Int) -> Int {
        let c = contraction(i, end, caseInsensitive: true)
        if c > 0 { return i + c }
        let cls = classes[i]
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if cls & CharClass.letter != 0 { return run(i, end, CharClass.letter) }
        if cls & (CharClass.newline | CharClass.number) == 0 && i + 1 < end
            && classes[i + 1] & CharClass.letter != 0
        {
            return run(i + 1, end, CharClass.letter)
        }
        // \p{N}{1,maxDigits}
        if cls & CharClass.number != 0 {
            var j = i + 1
            while j < end && j - i < maxDigits && classes[j] & CharClass.number != 0 { j += 1 }
            return j
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        var k = i
        if scalars[i] == 0x20 && i + 1 < end && isOther(i + 1) { k = i + 1 }
        if isOther(k) {
            return run(otherRun(k, end), end, CharClass.newline)
        }
        // \s*[\r\n]+ : through the last newline of the whitespace run.
        let j = run(i, end, CharClass.space)
        var lastNewline = -1
        var p = j - 1
        while p >= i {
            if classes[p] & CharClass.newline != 0 { lastNewline = p; break }
            p -= 1
        }
        if lastNewline >= 0 { return lastNewline + 1 }
        return trailingSpace(i, end)
    }
}
