/// `nltk.word_tokenize` (English), which IFEval's `capital_word_frequency` counts all-capital words
/// in: the text is split into sentences with Punkt, then each sentence goes through nltk's
/// `NLTKWordTokenizer` — a fixed sequence of regular-expression rewrites (quotes, punctuation,
/// brackets, dashes, contractions) followed by a split on whitespace. Each rewrite below is one rule
/// of that tokenizer, in its order, on code points, with `\s`/`\w` as nltk's `regex` engine
/// defines them (`PyText.isNLTKSpace`, `isNLTKWord`).
enum TreebankWords {
    typealias Scalars = [Unicode.Scalar]

    static func tokens(_ text: String) -> [String] {
        let s = PyText.scalars(text)
        return PunktSentences.spans(s).flatMap { sentenceTokens(Array(s[$0.start..<min($0.stop, s.count)])) }.map(PyText.string)
    }

    /// The number of tokens that Python's `str.isupper()` accepts.
    static func countCapitalWords(_ text: Scalars) -> Int {
        PunktSentences.spans(text).reduce(0) { n, span in
            n + sentenceTokens(Array(text[span.start..<min(span.stop, text.count)])).filter { PyText.isUpper($0) }.count
        }
    }

    /// Rewrites `s` left to right: at each position `rule` either returns how many code points it
    /// consumes and what replaces them, or nil to copy one code point and move on (`re.sub`).
    static func sub(_ s: Scalars, _ rule: (Scalars, Int) -> (Int, Scalars)?) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(s.count + 8)
        var i = 0
        while i < s.count {
            if let (n, replacement) = rule(s, i), n > 0 {
                out += replacement
                i += n
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// Surrounds every code point in `set` with spaces.
    static func isolate(_ s: Scalars, _ set: Set<Unicode.Scalar>) -> Scalars {
        sub(s) { s, i in set.contains(s[i]) ? (1, [" ", s[i], " "]) : nil }
    }

    static func sp(_ text: String) -> Scalars { PyText.scalars(text) }

    static let finalClosers: Set<Unicode.Scalar> = ["]", ")", "}", ">", "\"", "'", "\u{BB}", "\u{201D}", "\u{2019}", " "]

    /// `$` without MULTILINE: the end, or just before a final newline.
    static func atEnd(_ s: Scalars, _ i: Int) -> Bool { i == s.count || (i == s.count - 1 && s[i] == "\n") }

    /// The final-period rules `([^\.])(\.)([closers]*)\s*$`: the index of the period, the end of the
    /// closers, or nil (the first rule's closers, `*+`, include a space).
    static func finalPeriod(_ s: Scalars, closers: Set<Unicode.Scalar>) -> (Int, Int)? {
        guard s.count >= 2 else { return nil }
        for p in 1..<s.count where s[p] == "." && s[p - 1] != "." {
            var q = p + 1
            while q < s.count, closers.contains(s[q]) { q += 1 }
            var r = q
            while r < s.count, PyText.isNLTKSpace(s[r]) { r += 1 }
            // Giving back closers cannot help: `\s*$` would then have to match a closer.
            if atEnd(s, r) { return (p, q) }
        }
        return nil
    }

    static func sentenceTokens(_ sentence: Scalars) -> [Scalars] {
        var s = sentence
        // STARTING_QUOTES
        s = sub(s) { s, i in
            let c = s[i]
            if c == "\u{AB}" || c == "\u{201C}" || c == "\u{2018}" || c == "\u{201E}" { return (1, [" ", c, " "]) }
            guard c == "`" else { return nil }
            var j = i
            while j < s.count, s[j] == "`" { j += 1 }
            return (j - i, [" "] + Array(s[i..<j]) + [" "])
        }
        if s.first == "\"" { s = sp("``") + s.dropFirst() }
        s = sub(s) { s, i in i + 1 < s.count && s[i] == "`" && s[i + 1] == "`" ? (2, sp(" `` ")) : nil }
        s = sub(s) { s, i in
            guard " ([{<".unicodeScalars.contains(s[i]), i + 1 < s.count else { return nil }
            if s[i + 1] == "\"" { return (2, [s[i]] + sp(" `` ")) }
            if i + 2 < s.count, s[i + 1] == "'", s[i + 2] == "'" { return (3, [s[i]] + sp(" `` ")) }
            return nil
        }
        s = sub(s) { s, i in
            guard s[i] == "'", i == 0 || !PyText.isNLTKWord(s[i - 1]), i + 1 < s.count, PyText.isNLTKWord(s[i + 1]) else { return nil }
            for suffix in ["re", "ve", "ll", "m", "t", "s", "d", "n"] {
                let w = sp(suffix)
                let end = i + 1 + w.count
                if end <= s.count, zip(s[(i + 1)..<end], w).allSatisfy({ PyText.fold($0) == $1 }),
                    IFEvalPattern.isBoundary(s, end, word: PyText.isNLTKWord)
                {
                    return nil
                }
            }
            return (1, sp("' "))
        }
        // PUNCTUATION
        if let (p, q) = finalPeriod(s, closers: finalClosers) {
            s = Array(s[0..<p]) + sp(" . ") + Array(s[(p + 1)..<q]) + [" "]
        }
        s = sub(s) { s, i in
            guard s[i] == ":" || s[i] == ",", i + 1 < s.count, !PyText.isDecimal(s[i + 1]) else { return nil }
            return (2, [" ", s[i], " ", s[i + 1]])
        }
        if let last = s.indices.last(where: { s[$0] == ":" || s[$0] == "," }), atEnd(s, last + 1) {
            s = Array(s[0..<last]) + [" ", s[last], " "] + Array(s[(last + 1)...])
        }
        s = sub(s) { s, i in
            guard s[i] == "." else { return nil }
            var j = i
            while j < s.count, s[j] == "." { j += 1 }
            return j - i >= 2 ? (j - i, [" "] + Array(s[i..<j]) + [" "]) : nil
        }
        s = isolate(s, [";", "@", "#", "$", "%", "&", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}"])
        if let (p, q) = finalPeriod(s, closers: ["]", ")", "}", ">", "\"", "'"]) {
            s = Array(s[0..<p]) + sp(" .") + Array(s[(p + 1)..<q]) + [" "]
        }
        s = isolate(s, ["?", "!"])
        s = sub(s) { s, i in
            i + 2 < s.count && s[i] != "'" && s[i + 1] == "'" && s[i + 2] == " " ? (3, [s[i]] + sp(" ' ")) : nil
        }
        s = isolate(s, ["*", "]", "[", "(", ")", "{", "}", "<", ">"])
        s = sub(s) { s, i in i + 1 < s.count && s[i] == "-" && s[i + 1] == "-" ? (2, sp(" -- ")) : nil }
        s = [" "] + s + [" "]
        // ENDING_QUOTES
        s = isolate(s, ["\u{BB}", "\u{201D}", "\u{2019}"])
        s = sub(s) { s, i in i + 1 < s.count && s[i] == "'" && s[i + 1] == "'" ? (2, sp(" '' ")) : nil }
        s = sub(s) { s, i in s[i] == "\"" ? (1, sp(" '' ")) : nil }
        s = sub(s) { s, i in
            guard PyText.isNLTKSpace(s[i]) else { return nil }
            var j = i
            while j < s.count, PyText.isNLTKSpace(s[j]) { j += 1 }
            return (j - i, [" "])
        }
        s = sub(s) { s, i in
            guard s[i] != "'", s[i] != " ", i + 1 < s.count, s[i + 1] == "'" else { return nil }
            if i + 3 < s.count, "sSmMdD".unicodeScalars.contains(s[i + 2]), s[i + 3] == " " {
                return (4, [s[i], " ", "'", s[i + 2], " "])
            }
            if i + 2 < s.count, s[i + 2] == " " { return (3, [s[i], " ", "'", " "]) }
            return nil
        }
        let ending = ["'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"].map(sp)
        s = sub(s) { s, i in
            guard s[i] != "'", s[i] != " " else { return nil }
            for e in ending where i + 1 + e.count < s.count && Array(s[(i + 1)...(i + e.count)]) == e && s[i + 1 + e.count] == " " {
                return (e.count + 2, [s[i], " "] + e + [" "])
            }
            return nil
        }
        // CONTRACTIONS2 and CONTRACTIONS3 (case-insensitive): `can|not`, `gon|na`, ` 't|is`, ...
        for (a, b, lookaheadSpace) in [("can", "not", false), ("d", "'ye", false), ("gim", "me", false), ("gon", "na", false),
                                       ("got", "ta", false), ("lem", "me", false), ("more", "'n", false), ("wan", "na", true)] {
            s = splitContraction(s, sp(a), sp(b), leadingSpace: false, spaceAfter: lookaheadSpace)
        }
        s = splitContraction(s, sp("'t"), sp("is"), leadingSpace: true, spaceAfter: false)
        s = splitContraction(s, sp("'t"), sp("was"), leadingSpace: true, spaceAfter: false)
        return PyText.splitWhitespace(s)
    }

    /// `(?i)\b(a)(b)\b` → ` a b ` (or `(?i) (a)(b)\b` with `leadingSpace`; `(?=\s)` instead of the
    /// final `\b` with `spaceAfter`).
    static func splitContraction(_ s: Scalars, _ a: Scalars, _ b: Scalars, leadingSpace: Bool, spaceAfter: Bool) -> Scalars {
        let word = a + b
        return sub(s) { s, i in
            var start = i
            if leadingSpace {
                guard s[i] == " " else { return nil }
                start = i + 1
            } else if !IFEvalPattern.isBoundary(s, i, word: PyText.isNLTKWord) {
                return nil
            }
            let end = start + word.count
            guard end <= s.count, zip(s[start..<end], word).allSatisfy({ PyText.fold($0) == $1 }) else { return nil }
            if spaceAfter {
                guard end < s.count, PyText.isNLTKSpace(s[end]) else { return nil }
            } else if !IFEvalPattern.isBoundary(s, end, word: PyText.isNLTKWord) {
                return nil
            }
            let first = Array(s[start..<(start + a.count)]), second = Array(s[(start + a.count)..<end])
            return (end - i, [" "] + first + [" "] + second + [" "])
        }
    }
}
