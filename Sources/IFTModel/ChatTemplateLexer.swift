import IFTCore

/// A token inside `{{ }}` or `{% %}`.
struct TemplateToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable { case name, string, int, float, op, end }
    var kind: Kind
    var text: String
    /// Byte offset in the (newline-normalized) template.
    var offset: Int
}

/// The template cut into literal text, `{{ }}` outputs and `{% %}` statements, with Jinja's
/// whitespace control applied to the text (comments are gone).
enum TemplateSegment: Sendable {
    case text(String)
    case output([TemplateToken], offset: Int)
    case statement([TemplateToken], offset: Int)
}

struct TemplateLexer {
    let bytes: [UInt8]
    let locator: TemplateLocator
    var trimBlocks = true
    var lstripBlocks = true

    init(source: String, locator: TemplateLocator) {
        bytes = Array(source.utf8)
        self.locator = locator
    }

    /// Jinja reads templates with "\r\n" and "\r" as "\n", and drops one newline at the end
    /// (keep_trailing_newline is off).
    static func normalizeNewlines(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var it = s.unicodeScalars.makeIterator()
        var pendingCR = false
        while let u = it.next() {
            if pendingCR {
                pendingCR = false
                out.unicodeScalars.append("\n")
                if u == "\n" { continue }
            }
            if u == "\r" { pendingCR = true } else { out.unicodeScalars.append(u) }
        }
        if pendingCR { out.unicodeScalars.append("\n") }
        if out.hasSuffix("\n") { out.removeLast() }
        return out
    }

    private enum TagKind { case output, statement, comment }

    private struct Tag {
        var kind: TagKind
        var tokens: [TemplateToken]
        var offset: Int
        var openMod: UInt8?  // '-' or '+'
        var closeMod: UInt8?
    }

    func segments() throws -> [TemplateSegment] {
        var texts: [[UInt8]] = []
        var tags: [Tag] = []
        var i = 0
        var textStart = 0
        let n = bytes.count
        while i + 1 < n {
            guard bytes[i] == UInt8(ascii: "{"),
                bytes[i + 1] == UInt8(ascii: "{") || bytes[i + 1] == UInt8(ascii: "%") || bytes[i + 1] == UInt8(ascii: "#")
            else {
                i += 1
                continue
            }
            let start = i
            let kind: TagKind = bytes[i + 1] == UInt8(ascii: "{") ? .output : bytes[i + 1] == UInt8(ascii: "%") ? .statement : .comment
            var j = i + 2
            var openMod: UInt8? = nil
            if j < n && (bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: "+")) {
                openMod = bytes[j]
                j += 1
            }
            var tag = Tag(kind: kind, tokens: [], offset: start, openMod: openMod, closeMod: nil)
            if kind == .comment {
                guard let close = find([UInt8(ascii: "#"), UInt8(ascii: "}")], from: j) else {
                    throw locator.error(start, "unterminated comment: no '#}'")
                }
                if close > j && (bytes[close - 1] == UInt8(ascii: "-") || bytes[close - 1] == UInt8(ascii: "+")) {
                    tag.closeMod = bytes[close - 1]
                }
                i = close + 2
            } else {
                let close: UInt8 = kind == .output ? UInt8(ascii: "}") : UInt8(ascii: "%")
                let (tokens, end, mod) = try lexTag(from: j, close: close, tagStart: start)
                tag.tokens = tokens
                tag.closeMod = mod
                i = end
            }
            texts.append(Array(bytes[textStart..<start]))
            tags.append(tag)
            textStart = i
        }
        texts.append(Array(bytes[textStart..<n]))

        // Whitespace control, in lexing order: a tag's end acts on the text after it before the
        // next tag's start acts on the end of that text.
        var lineStarting = true
        for k in 0..<tags.count {
            let tag = tags[k]
            if tag.openMod == UInt8(ascii: "-") {
                texts[k] = Self.rstripWhitespace(texts[k])
            } else if tag.kind != .output && tag.openMod != UInt8(ascii: "+") && lstripBlocks {
                let t = texts[k]
                let lpos = (t.lastIndex(of: 0x0A) ?? -1) + 1
                if (lpos > 0 || lineStarting) && lpos < t.count
                    && Self.rstripWhitespace(Array(t[lpos...])).isEmpty
                {
                    texts[k] = Array(t[..<lpos])
                }
            }
            var consumed: [UInt8] = []
            if tag.closeMod == UInt8(ascii: "-") {
                let after = texts[k + 1]
                let kept = Self.lstripWhitespace(after)
                consumed = Array(after[..<(after.count - kept.count)])
                texts[k + 1] = kept
            } else if tag.kind != .output && tag.closeMod != UInt8(ascii: "+") && trimBlocks
                && texts[k + 1].first == 0x0A
            {
                texts[k + 1].removeFirst()
                consumed = [0x0A]
            }
            lineStarting = consumed.last == 0x0A
        }

        var out: [TemplateSegment] = []
        for k in 0...tags.count {
            if !texts[k].isEmpty { out.append(.text(String(decoding: texts[k], as: UTF8.self))) }
            guard k < tags.count else { break }
            switch tags[k].kind {
            case .output: out.append(.output(tags[k].tokens, offset: tags[k].offset))
            case .statement: out.append(.statement(tags[k].tokens, offset: tags[k].offset))
            case .comment: break
            }
        }
        return out
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        var i = from
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0] && bytes[i + 1] == needle[1] { return i }
            i += 1
        }
        return nil
    }

    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        u.properties.isWhitespace || (0x1C...0x1F).contains(u.value)
    }

    static func rstripWhitespace(_ b: [UInt8]) -> [UInt8] {
        var s = String(decoding: b, as: UTF8.self).unicodeScalars[...]
        while let last = s.last, isSpace(last) { s.removeLast() }
        return Array(String(s).utf8)
    }

    static func lstripWhitespace(_ b: [UInt8]) -> [UInt8] {
        var s = String(decoding: b, as: UTF8.self).unicodeScalars[...]
        while let first = s.first, isSpace(first) { s.removeFirst() }
        return Array(String(s).utf8)
    }

    // MARK: - Expression tokens

    private static let operators = [
        "//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{",
        "}", ",", ".", ":", "|",
    ].map { Array($0.utf8) }

    /// Lexes tokens from `from` up to the closing `}}` / `%}` (optionally `-`/`+` before it);
    /// returns the tokens, the offset after the tag and the closing modifier.
    private func lexTag(from: Int, close: UInt8, tagStart: Int) throws -> ([TemplateToken], Int, UInt8?) {
        var tokens: [TemplateToken] = []
        var i = from
        var depth = 0
        let n = bytes.count
        let closeBrace = UInt8(ascii: "}")
        func at(_ k: Int) -> UInt8 { k < n ? bytes[k] : 0 }
        while i < n {
            let c = bytes[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                i += 1
                continue
            }
            if depth == 0 || close == UInt8(ascii: "%") {
                if c == close && at(i + 1) == closeBrace && (close == UInt8(ascii: "%") || depth == 0) {
                    tokens.append(TemplateToken(kind: .end, text: "", offset: i))
                    return (tokens, i + 2, nil)
                }
                if (c == UInt8(ascii: "-") || c == UInt8(ascii: "+")) && at(i + 1) == close && at(i + 2) == closeBrace {
                    tokens.append(TemplateToken(kind: .end, text: "", offset: i))
                    return (tokens, i + 3, c)
                }
            }
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                let (s, end) = try lexString(i)
                tokens.append(TemplateToken(kind: .string, text: s, offset: i))
                i = end
                continue
            }
            if (c >= 0x30 && c <= 0x39) {
                var j = i
                var isFloat = false
                while j < n && ((bytes[j] >= 0x30 && bytes[j] <= 0x39) || bytes[j] == UInt8(ascii: "_")) { j += 1 }
                if at(j) == UInt8(ascii: "."), at(j + 1) >= 0x30, at(j + 1) <= 0x39 {
                    isFloat = true
                    j += 1
                    while j < n && ((bytes[j] >= 0x30 && bytes[j] <= 0x39) || bytes[j] == UInt8(ascii: "_")) { j += 1 }
                }
                if at(j) == UInt8(ascii: "e") || at(j) == UInt8(ascii: "E") {
                    var k = j + 1
                    if at(k) == UInt8(ascii: "+") || at(k) == UInt8(ascii: "-") { k += 1 }
                    if at(k) >= 0x30 && at(k) <= 0x39 {
                        isFloat = true
                        j = k
                        while j < n && bytes[j] >= 0x30 && bytes[j] <= 0x39 { j += 1 }
                    }
                }
                let text = String(decoding: bytes[i..<j].filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
                tokens.append(TemplateToken(kind: isFloat ? .float : .int, text: text, offset: i))
                i = j
                continue
            }
            if c == UInt8(ascii: "_") || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) {
                var j = i + 1
                while j < n {
                    let d = bytes[j]
                    guard d == UInt8(ascii: "_") || (d | 0x20 >= 0x61 && d | 0x20 <= 0x7A) || (d >= 0x30 && d <= 0x39) else { break }
                    j += 1
                }
                tokens.append(TemplateToken(kind: .name, text: String(decoding: bytes[i..<j], as: UTF8.self), offset: i))
                i = j
                continue
            }
            guard let op = Self.operators.first(where: { op in op.indices.allSatisfy { at(i + $0) == op[$0] } }) else {
                throw locator.error(i, "unexpected character '\(String(decoding: bytes[i..<min(i + 1, n)], as: UTF8.self))' in a template tag")
            }
            switch op {
            case [UInt8(ascii: "(")], [UInt8(ascii: "[")], [UInt8(ascii: "{")]: depth += 1
            case [UInt8(ascii: ")")], [UInt8(ascii: "]")], [UInt8(ascii: "}")]: depth -= 1
            default: break
            }
            tokens.append(TemplateToken(kind: .op, text: String(decoding: op, as: UTF8.self), offset: i))
            i += op.count
        }
        throw locator.error(tagStart, "unterminated tag: no closing '\(close == UInt8(ascii: "%") ? "%}" : "}}")'")
    }

    /// A quoted string literal with Python's escapes.
    private func lexString(_ start: Int) throws -> (String, Int) {
        let quote = bytes[start]
        var out: [UInt8] = []
        var i = start + 1
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            if c == quote { return (String(decoding: out, as: UTF8.self), i + 1) }
            if c == UInt8(ascii: "\\") && i + 1 < n {
                let e = bytes[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "0"): out.append(0)
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
                case UInt8(ascii: "\n"): break
                case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let len = e == UInt8(ascii: "x") ? 2 : e == UInt8(ascii: "u") ? 4 : 8
                    guard i + len <= n, let v = UInt32(String(decoding: bytes[i..<(i + len)], as: UTF8.self), radix: 16),
                        let u = Unicode.Scalar(v)
                    else { throw locator.error(i - 2, "bad \\\(Character(Unicode.Scalar(e))) escape in a string") }
                    out += Array(String(Character(u)).utf8)
                    i += len
                default:
                    out.append(UInt8(ascii: "\\"))
                    out.append(e)
                }
                continue
            }
            out.append(c)
            i += 1
        }
        throw locator.error(start, "unterminated string literal")
    }
}
