/// Whether Python's `json.loads` accepts a text, for `detectable_format:json_format`.
///
/// That is not RFC 8259 exactly (and not `JSONValue.parse`): Python also takes `NaN`, `Infinity`
/// and `-Infinity`, repeated object keys and unpaired `\uD800`-style surrogate escapes; it rejects a
/// leading byte order mark, raw control characters in strings, and anything after the value but
/// the whitespace ` \t\n\r`. Any JSON value counts, not only objects (`"42"` is valid JSON).
enum PyJSON {
    typealias Scalars = [Unicode.Scalar]

    static func isValid(_ s: Scalars) -> Bool {
        if s.first == "\u{FEFF}" { return false }
        var p = Parser(s: s)
        p.skipWhitespace()
        guard p.value(depth: 0) else { return false }
        p.skipWhitespace()
        return p.i == s.count
    }

    struct Parser {
        let s: Scalars
        var i = 0
        /// Python raises RecursionError (not a decoding error, so the official run stops) near this depth.
        static let maxDepth = 900

        var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

        mutating func skipWhitespace() {
            while let c = peek, c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1 }
        }

        mutating func literal(_ word: String) -> Bool {
            for c in word.unicodeScalars {
                guard peek == c else { return false }
                i += 1
            }
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < Self.maxDepth, let c = peek else { return false }
            switch c {
            case "{": return object(depth: depth)
            case "[": return array(depth: depth)
            case "\"": return string()
            case "n": return literal("null")
            case "t": return literal("true")
            case "f": return literal("false")
            case "N": return literal("NaN")
            case "I": return literal("Infinity")
            case "-":
                if i + 1 < s.count, s[i + 1] == "I" {
                    i += 1
                    return literal("Infinity")
                }
                return number()
            case "0"..."9": return number()
            default: return false
            }
        }

        mutating func object(depth: Int) -> Bool {
            i += 1
            skipWhitespace()
            if peek == "}" { i += 1; return true }
            while true {
                guard peek == "\"", string() else { return false }
                skipWhitespace()
                guard peek == ":" else { return false }
                i += 1
                skipWhitespace()
                guard value(depth: depth + 1) else { return false }
                skipWhitespace()
                if peek == "}" { i += 1; return true }
                guard peek == "," else { return false }
                i += 1
                skipWhitespace()
            }
        }

        mutating func array(depth: Int) -> Bool {
            i += 1
            skipWhitespace()
            if peek == "]" { i += 1; return true }
            while true {
                guard value(depth: depth + 1) else { return false }
                skipWhitespace()
                if peek == "]" { i += 1; return true }
                guard peek == "," else { return false }
                i += 1
                skipWhitespace()
            }
        }

        mutating func string() -> Bool {
            i += 1
            while let c = peek {
                i += 1
                if c == "\"" { return true }
                if c.value < 0x20 { return false }
                guard c == "\\" else { continue }
                guard let e = peek else { return false }
                i += 1
                switch e {
                case "\"", "\\", "/", "b", "f", "n", "r", "t": continue
                case "u":
                    for _ in 0..<4 {
                        guard let h = peek, h.isASCII, h.properties.isASCIIHexDigit else { return false }
                        i += 1
                    }
                default: return false
                }
            }
            return false
        }

        func isDigit(_ k: Int) -> Bool { k < s.count && s[k] >= "0" && s[k] <= "9" }

        /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, ASCII digits (the C scanner); a `.` or `e` not
        /// followed by digits ends the number there (and then fails as extra data).
        mutating func number() -> Bool {
            if peek == "-" { i += 1 }
            guard isDigit(i) else { return false }
            if s[i] == "0" { i += 1 } else { while isDigit(i) { i += 1 } }
            if peek == ".", isDigit(i + 1) {
                i += 1
                while isDigit(i) { i += 1 }
            }
            if peek == "e" || peek == "E" {
                var k = i + 1
                if k < s.count, s[k] == "+" || s[k] == "-" { k += 1 }
                if isDigit(k) {
                    i = k
                    while isDigit(i) { i += 1 }
                }
            }
            return true
        }
    }
}
