/// The parts of Python 3's `str` semantics that the reference metric implementations rely on,
/// over Unicode scalars: Python strings are sequences of code points, so `len`, slicing,
/// `split()`, `lower()` and regular expressions all work on code points, and `==` compares code
/// points (no canonical equivalence, unlike Swift's `String`).
enum PythonText {
    typealias Scalars = [Unicode.Scalar]

    /// Python `str.isspace()` for one code point (bidirectional class WS, B or S, or category Zs):
    /// what `str.split()`, `str.strip()` and `\s` treat as whitespace.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python `str.split()` without arguments: the runs of non-whitespace.
    static func split(_ s: Scalars) -> [Scalars] {
        var words: [Scalars] = []
        var word: Scalars = []
        for c in s {
            if isSpace(c) {
                if !word.isEmpty {
                    words.append(word)
                    word.removeAll(keepingCapacity: true)
                }
            } else {
                word.append(c)
            }
        }
        if !word.isEmpty { words.append(word) }
        return words
    }

    /// Python `' '.join(s.split())`.
    static func collapsingWhitespace(_ s: Scalars) -> Scalars {
        joined(split(s), separator: " ")
    }

    /// Python `str.rstrip()` without arguments.
    static func rstrip(_ s: Scalars) -> Scalars {
        var end = s.count
        while end > 0 && isSpace(s[end - 1]) { end -= 1 }
        return Array(s[..<end])
    }

    /// `parts` joined with `separator` between them.
    static func joined(_ parts: [Scalars], separator: Unicode.Scalar) -> Scalars {
        var out: Scalars = []
        for (i, part) in parts.enumerated() {
            if i > 0 { out.append(separator) }
            out.append(contentsOf: part)
        }
        return out
    }

    /// Python `str.lower()`: the full lowercase mapping of every code point (so "İ" becomes
    /// "i" + U+0307), and capital sigma as final sigma "ς" where Python's `Final_Sigma` context
    /// holds (after a cased letter, not before one, skipping case-ignorable code points).
    static func lowercased(_ s: Scalars) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(s.count)
        for (i, c) in s.enumerated() {
            if c.isASCII {
                out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(UInt8(c.value + 32)) : c)
            } else if c.value == 0x3A3 {
                out.append(isFinalSigma(s, at: i) ? "\u{3C2}" : "\u{3C3}")
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// CPython's `handle_capital_sigma`: `\p{cased} \p{case-ignorable}* U+03A3 !(\p{case-ignorable}* \p{cased})`.
    private static func isFinalSigma(_ s: Scalars, at i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && s[j].properties.isCased else { return false }
        j = i + 1
        while j < s.count && s[j].properties.isCaseIgnorable { j += 1 }
        return j == s.count || !s[j].properties.isCased
    }

    /// Python `re`'s `\w` for `str` patterns: `ch.isalnum() or ch == '_'`, where `isalnum` is a
    /// letter (categories Lu, Ll, Lt, Lm, Lo) or a code point with a numeric type. Combining
    /// marks are not word characters.
    static func isWordCharacter(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII {
            let v = c.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return c.properties.numericType != nil
        }
    }

    /// Membership in Python's `string.punctuation`: the 32 ASCII punctuation characters
    /// ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``.
    static func isASCIIPunctuation(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: return false
        }
    }

    /// Code points 0-9 (Python regex `[0-9]`).
    static func isASCIIDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }

    /// Python `s.replace(old, new)`: every non-overlapping occurrence, left to right.
    static func replacing(_ old: Scalars, with new: Scalars, in s: Scalars) -> Scalars {
        guard !old.isEmpty, s.count >= old.count else { return s }
        var out: Scalars = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if s[i] == old[0] && i + old.count <= s.count && s[i..<(i + old.count)].elementsEqual(old) {
                out.append(contentsOf: new)
                i += old.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    static func scalars(_ s: String) -> Scalars { Array(s.unicodeScalars) }

    static func string(_ s: Scalars) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: s)
        return String(out)
    }
}
