/// sacreBLEU's `13a` tokenizer (`sacrebleu/tokenizers/tokenizer_13a.py` and `tokenizer_re.py`,
/// sacreBLEU 2.x), the mteval-v13a.pl tokenization WMT uses, over code points as Python runs it.
enum Tokenizer13a {
    typealias Scalars = PythonText.Scalars

    /// The tokens of `line` (BLEU strips trailing whitespace before calling this; see
    /// `ReferenceMetrics.tokenize13a`).
    static func tokens(_ line: Scalars) -> [Scalars] {
        // Language-independent part (Tokenizer13a.__call__), in sacreBLEU's order.
        var s = PythonText.replacing(Array("<skipped>".unicodeScalars), with: [], in: line)
        s = PythonText.replacing(["-", "\n"], with: [], in: s)
        s = PythonText.replacing(["\n"], with: [" "], in: s)
        if s.contains("&") {
            s = PythonText.replacing(Array("&quot;".unicodeScalars), with: ["\""], in: s)
            s = PythonText.replacing(Array("&amp;".unicodeScalars), with: ["&"], in: s)
            s = PythonText.replacing(Array("&lt;".unicodeScalars), with: ["<"], in: s)
            s = PythonText.replacing(Array("&gt;".unicodeScalars), with: [">"], in: s)
        }
        s = [" "] + s + [" "]
        // TokenizerRegexp: four substitutions, each over the whole line, then split.
        s = spacingSymbols(s)
        s = substitutePairs(s, matches: { !isDigit($0) && isPeriodOrComma($1) }, replacement: { [$0, " ", $1, " "] })
        s = substitutePairs(s, matches: { isPeriodOrComma($0) && !isDigit($1) }, replacement: { [" ", $0, " ", $1] })
        s = substitutePairs(s, matches: { isDigit($0) && $1 == "-" }, replacement: { [$0, " ", $1, " "] })
        return PythonText.split(s)
    }

    /// `re.sub(r'([\{-\~\[-\` -\&\(-\+\:-\@\/])', r' \1 ', line)`: ASCII symbols other than
    /// `'`, `,`, `-` and `.` get a space on both sides.
    private static func spacingSymbols(_ s: Scalars) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(s.count * 2)
        for c in s {
            switch c.value {
            case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F:
                out.append(" ")
                out.append(c)
                out.append(" ")
            default:
                out.append(c)
            }
        }
        return out
    }

    /// `re.sub` of a two-character pattern `(X)(Y)`: matches are found left to right and do not
    /// overlap (after a match the scan resumes after its second character).
    private static func substitutePairs(
        _ s: Scalars, matches: (Unicode.Scalar, Unicode.Scalar) -> Bool,
        replacement: (Unicode.Scalar, Unicode.Scalar) -> Scalars
    ) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(s.count + s.count / 2)
        var i = 0
        while i < s.count {
            if i + 1 < s.count && matches(s[i], s[i + 1]) {
                out.append(contentsOf: replacement(s[i], s[i + 1]))
                i += 2
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { PythonText.isASCIIDigit(c) }
    private static func isPeriodOrComma(_ c: Unicode.Scalar) -> Bool { c == "." || c == "," }
}

extension ReferenceMetrics {
    /// The tokens BLEU scores for `line`: sacreBLEU's `BLEU._preprocess_segment` with default
    /// options (`line.rstrip()`, then the `13a` tokenizer, case kept).
    public static func tokenize13a(_ line: String) -> [String] {
        Tokenizer13a.tokens(PythonText.rstrip(PythonText.scalars(line))).map(PythonText.string)
    }
}
