import IFTCore

/// Text primitives with the semantics of Python 3's `str` and `re` (on `str` patterns), which the
/// official IFEval checkers are written in: strings are sequences of Unicode code points (not
/// grapheme clusters), `\s`/`str.isspace` is Python's whitespace set, `\w` is a letter, a number or
/// `_` (combining marks are not word characters in Python), `\d` is a decimal digit (category Nd).
///
/// Every function here works on `[Unicode.Scalar]` (code points), so indices and lengths are those
/// Python would see.
enum PyText {
    typealias Scalars = [Unicode.Scalar]

    /// Python's `str.isspace()` / `re` `\s` for one code point (shared with the reference metrics).
    static func isSpace(_ c: Unicode.Scalar) -> Bool { PythonText.isSpace(c) }

    /// Python's `string.whitespace` (ASCII only), which punkt uses to find the word before a boundary.
    static func isASCIISpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c.value == 0x0B || c.value == 0x0C
    }

    /// Python's `str.isalpha()`: general category Lu, Ll, Lt, Lm or Lo.
    static func isAlpha(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// `re` `\d` on `str`: a decimal digit (category Nd).
    static func isDecimal(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return c >= "0" && c <= "9" }
        return c.properties.numericType == .decimal
    }

    /// `re` `\w` on `str`: `str.isalnum()` (a letter or anything with a numeric value) or `_`.
    static func isWord(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return isAlpha(c) || (c >= "0" && c <= "9") || c == "_" }
        return isAlpha(c) || c.properties.numericType != nil
    }

    /// `\w` in nltk's own regular expressions: nltk ≥ 3.10 compiles them (the `\w+` word counter,
    /// Punkt, the word tokenizer) with the third-party `regex` engine, where `\w` is Unicode's
    /// word class — letters and numbers as in `re`, but also combining marks (so Hindi `नमस्ते` or
    /// Thai `สเปรดชีต` is one word, where `re` splits it at each vowel sign or virama), connector
    /// punctuation and the zero-width (non-)joiners.
    static func isNLTKWord(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return isWord(c) }
        let p = c.properties
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return p.isAlphabetic || p.isJoinControl
        }
    }

    /// `\s` in nltk's own regular expressions (the `regex` engine): Unicode's White_Space, which
    /// unlike `str.isspace` leaves out U+001C...U+001F.
    static func isNLTKSpace(_ c: Unicode.Scalar) -> Bool {
        c.isASCII ? (c.value >= 0x09 && c.value <= 0x0D) || c == " " : c.properties.isWhitespace
    }

    /// `[^\W\d]`: a word character that is not a decimal digit.
    static func isWordNotDigit(_ c: Unicode.Scalar) -> Bool { isNLTKWord(c) && !isDecimal(c) }

    static func isUpper(_ c: Unicode.Scalar) -> Bool {
        c.isASCII ? (c >= "A" && c <= "Z") : c.properties.isUppercase
    }

    static func isLower(_ c: Unicode.Scalar) -> Bool {
        c.isASCII ? (c >= "a" && c <= "z") : c.properties.isLowercase
    }

    static func isTitle(_ c: Unicode.Scalar) -> Bool {
        !c.isASCII && c.properties.generalCategory == .titlecaseLetter
    }

    /// Python's `str.isupper()`: at least one cased character and no lowercase or titlecase one.
    static func isUpper(_ s: some Sequence<Unicode.Scalar>) -> Bool {
        var cased = false
        for c in s {
            if isLower(c) || isTitle(c) { return false }
            if isUpper(c) { cased = true }
        }
        return cased
    }

    /// Python's `str.islower()`: at least one cased character and no uppercase or titlecase one.
    static func isLower(_ s: some Sequence<Unicode.Scalar>) -> Bool {
        var cased = false
        for c in s {
            if isUpper(c) || isTitle(c) { return false }
            if isLower(c) { cased = true }
        }
        return cased
    }

    /// Python's `str.lower()` (full case mapping; without Python's final-sigma rule).
    static func lower(_ s: Scalars) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(s.count)
        for c in s {
            if c.isASCII {
                out.append(c >= "A" && c <= "Z" ? Unicode.Scalar(c.value + 32)! : c)
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// The simple lowercase of one code point, as `re.IGNORECASE` compares characters.
    static func fold(_ c: Unicode.Scalar) -> Unicode.Scalar {
        if c.isASCII { return c >= "A" && c <= "Z" ? Unicode.Scalar(c.value + 32)! : c }
        return c.properties.lowercaseMapping.unicodeScalars.first ?? c
    }

    static func scalars(_ s: String) -> Scalars { Array(s.unicodeScalars) }

    static func string(_ s: some Sequence<Unicode.Scalar>) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: s)
        return String(out)
    }

    /// `str.strip()` (whitespace) as a range of `s`.
    static func stripRange(_ s: Scalars, _ lo: Int = 0, _ hi: Int? = nil) -> Range<Int> {
        var a = lo, b = hi ?? s.count
        while a < b, isSpace(s[a]) { a += 1 }
        while b > a, isSpace(s[b - 1]) { b -= 1 }
        return a..<b
    }

    static func strip(_ s: Scalars) -> Scalars { Array(s[stripRange(s)]) }

    /// `str.strip(chars)`.
    static func strip(_ s: Scalars, chars: Set<Unicode.Scalar>) -> Scalars {
        var a = 0, b = s.count
        while a < b, chars.contains(s[a]) { a += 1 }
        while b > a, chars.contains(s[b - 1]) { b -= 1 }
        return Array(s[a..<b])
    }

    static func isBlank(_ s: some Collection<Unicode.Scalar>) -> Bool { s.allSatisfy(isSpace) }

    /// `str.split(sep)` with a literal, non-empty separator (keeps empty pieces).
    static func split(_ s: Scalars, separator: Scalars) -> [Scalars] {
        var pieces: [Scalars] = []
        var start = 0, i = 0
        while i + separator.count <= s.count {
            if s[i] == separator[0], Array(s[i..<(i + separator.count)]) == separator {
                pieces.append(Array(s[start..<i]))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        pieces.append(Array(s[start...]))
        return pieces
    }

    /// `str.split()` with no argument: runs of whitespace separate, no empty pieces.
    static func splitWhitespace(_ s: Scalars) -> [Scalars] { PythonText.split(s) }

    static func hasPrefix(_ s: Scalars, _ p: Scalars) -> Bool {
        p.count <= s.count && Array(s[0..<p.count]) == p
    }

    static func hasSuffix(_ s: Scalars, _ p: Scalars) -> Bool {
        p.count <= s.count && Array(s[(s.count - p.count)...]) == p
    }

    /// The number of `\w+` tokens: nltk's `RegexpTokenizer(r"\w+")`, which IFEval's `count_words`
    /// uses (with nltk's `\w`, see `isNLTKWord`).
    static func countWords(_ s: Scalars) -> Int {
        var n = 0
        var inWord = false
        for c in s {
            let w = isNLTKWord(c)
            if w && !inWord { n += 1 }
            inWord = w
        }
        return n
    }
}

/// A pattern that the official code hands to `re` as a regular expression but that IFEval's data
/// uses as a plain word or phrase (keywords, forbidden words, section splitters, postscript
/// markers). Supported: literal characters and `.` (any character but a newline, as in `re`);
/// any other regex metacharacter is rejected when the checker is built, so a pattern is never
/// silently read differently from the official code.
public struct IFEvalPattern: Sendable, Equatable {
    /// The pattern as given.
    public let text: String
    /// Pattern code points (case-folded when `ignoreCase`); `nil` stands for `.`.
    let atoms: [Unicode.Scalar?]
    public let ignoreCase: Bool

    static let metacharacters: Set<Unicode.Scalar> = ["^", "$", "*", "+", "?", "{", "}", "[", "]", "\\", "|", "(", ")"]

    init(_ text: String, ignoreCase: Bool, what: String) throws {
        var atoms: [Unicode.Scalar?] = []
        for c in text.unicodeScalars {
            if Self.metacharacters.contains(c) {
                throw IFTErrorBox.invalid(
                    "\(what) \"\(text)\" contains the regular-expression character '\(c)'; the official checker "
                        + "uses it as a Python regular expression, which this implementation does not interpret")
            }
            atoms.append(c == "." ? nil : (ignoreCase ? PyText.fold(c) : c))
        }
        guard !atoms.isEmpty else { throw IFTErrorBox.invalid("\(what) is empty") }
        self.text = text
        self.atoms = atoms
        self.ignoreCase = ignoreCase
    }

    /// Whether the pattern matches `s` at `i`.
    func matches(_ s: PyText.Scalars, at i: Int) -> Bool {
        guard i + atoms.count <= s.count else { return false }
        for (k, a) in atoms.enumerated() {
            let c = s[i + k]
            if let a {
                if (ignoreCase ? PyText.fold(c) : c) != a { return false }
            } else if c == "\n" {
                return false
            }
        }
        return true
    }

    /// `len(re.findall(pattern, s))`: non-overlapping matches, scanning left to right.
    func countMatches(in s: PyText.Scalars) -> Int {
        var n = 0, i = 0
        while i + atoms.count <= s.count {
            if matches(s, at: i) { n += 1; i += atoms.count } else { i += 1 }
        }
        return n
    }

    /// `re.search(pattern, s)`, optionally wrapped in `\b...\b`.
    func occurs(in s: PyText.Scalars, wordBoundaries: Bool = false) -> Bool {
        guard atoms.count <= s.count else { return false }
        for i in 0...(s.count - atoms.count) where matches(s, at: i) {
            if !wordBoundaries { return true }
            let end = i + atoms.count
            if Self.isBoundary(s, i) && Self.isBoundary(s, end) { return true }
        }
        return false
    }

    /// `\b` at position `i`: a word character (`re`'s, or another definition) on exactly one side.
    static func isBoundary(_ s: PyText.Scalars, _ i: Int, word: (Unicode.Scalar) -> Bool = PyText.isWord) -> Bool {
        let before = i > 0 && word(s[i - 1])
        let after = i < s.count && word(s[i])
        return before != after
    }
}

/// Builds `IFTError.invalidArgument` values (kept in one place so messages read alike).
enum IFTErrorBox {
    static func invalid(_ message: String) -> IFTError { .invalidArgument(message) }
}
