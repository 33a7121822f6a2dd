/// `detectable_content:*` and `detectable_format:*`.
extension IFEvalInstruction {
    /// `detectable_content:number_placeholders` (`PlaceholderChecker`): the number of
    /// `re.findall(r"\[.*?\]")` matches — a `[` and the nearest `]` after it on the same line.
    static func placeholderCount(_ r: Scalars) -> Int {
        var n = 0, i = 0
        while i < r.count {
            guard r[i] == "[" else { i += 1; continue }
            var j = i + 1
            while j < r.count, r[j] != "]", r[j] != "\n" { j += 1 }
            if j < r.count, r[j] == "]" {
                n += 1
                i = j + 1
            } else {
                i += 1
            }
        }
        return n
    }

    /// `detectable_content:postscript` (`PostscriptChecker`): in the lowercased response,
    /// `P.P.S` is found as `p\.\s?p\.\s?s` and `P.S.` as `p\.\s?s\.` anywhere (each `\s?` is at most
    /// one whitespace character, a newline included); any other marker is found as itself
    /// (lowercased, `.` matching any character but a newline).
    static func hasPostscript(_ r: Scalars, _ marker: String) -> Bool {
        let s = PyText.lower(r)
        let pattern: [Unicode.Scalar?]
        switch marker {
        case "P.P.S": pattern = ["p", ".", nil, "p", ".", nil, "s"]
        case "P.S.": pattern = ["p", ".", nil, "s", "."]
        default:
            guard let p = try? IFEvalPattern(PyText.string(PyText.lower(PyText.scalars(marker))), ignoreCase: false, what: "marker")
            else { return false }
            return p.occurs(in: s)
        }
        // `nil` is an optional whitespace character: try it consumed, then skipped.
        func match(_ i: Int, _ k: Int) -> Bool {
            if k == pattern.count { return true }
            guard let atom = pattern[k] else {
                if i < s.count, PyText.isSpace(s[i]), match(i + 1, k + 1) { return true }
                return match(i, k + 1)
            }
            return i < s.count && s[i] == atom && match(i + 1, k + 1)
        }
        return s.indices.contains { match($0, 0) }
    }

    /// `detectable_format:number_bullet_lists` (`BulletListChecker`): exactly `count` matches of
    /// `^\s*\*[^\*].*$` plus `^\s*-.*$` (multiline). `\s*` may run over blank lines, `[^\*]` may be a
    /// newline, and every line starting with `-` counts (a `---` rule too), as in the official regexes.
    static func bulletCount(_ r: Scalars) -> Int {
        func count(star: Bool) -> Int {
            var n = 0, p = 0
            while p < r.count {
                guard p == 0 || r[p - 1] == "\n" else { p += 1; continue }
                var q = p
                while q < r.count, PyText.isSpace(r[q]) { q += 1 }
                let matched: Bool
                var bodyStart = q + 1
                if star {
                    matched = q + 1 < r.count && r[q] == "*" && r[q + 1] != "*"
                    bodyStart = q + 2
                } else {
                    matched = q < r.count && r[q] == "-"
                }
                guard matched else { p += 1; continue }
                var e = bodyStart
                while e < r.count, r[e] != "\n" { e += 1 }
                n += 1
                p = max(e, p + 1)
            }
            return n
        }
        return count(star: true) + count(star: false)
    }

    static let constrainedOptions = ["My answer is yes.", "My answer is no.", "My answer is maybe."].map(PyText.scalars)

    /// `detectable_format:constrained_response` (`ConstrainedResponseChecker`): the stripped response
    /// contains one of `My answer is yes.`, `My answer is no.`, `My answer is maybe.` (case matters).
    static func isConstrainedResponse(_ r: Scalars) -> Bool {
        let s = PyText.strip(r)
        return constrainedOptions.contains { option in
            option.count <= s.count && (0...(s.count - option.count)).contains { i in Array(s[i..<(i + option.count)]) == option }
        }
    }

    /// `detectable_format:number_highlighted_sections` (`HighlightSectionChecker`): matches of
    /// `\*[^\n\*]*\*` whose inside is not blank, plus matches of `\*\*[^\n\*]*\*\*` whose inside is
    /// not blank (so `**bold**` counts once, `*a* *b*` twice).
    static func highlightCount(_ r: Scalars) -> Int {
        func count(_ fence: Int) -> Int {
            var n = 0, i = 0
            func isFence(_ k: Int) -> Bool { k + fence <= r.count && r[k..<(k + fence)].allSatisfy { $0 == "*" } }
            while i < r.count {
                guard isFence(i) else { i += 1; continue }
                var j = i + fence
                while j < r.count, r[j] != "\n", r[j] != "*" { j += 1 }
                guard isFence(j) else { i += 1; continue }
                if !PyText.isBlank(r[(i + fence)..<j]) { n += 1 }
                i = j + fence
            }
            return n
        }
        return count(1) + count(2)
    }

    /// `detectable_format:multiple_sections` (`SectionChecker`): the number of matches of
    /// `\s?` + splitter + `\s?\d+\s?` (case matters; `\d` is any decimal digit) is at least `count`.
    static func sectionCount(_ r: Scalars, _ splitter: IFEvalPattern) -> Int {
        var n = 0, i = 0
        let length = splitter.atoms.count
        func digitsEnd(_ k: Int) -> Int? {
            var e = k
            while e < r.count, PyText.isDecimal(r[e]) { e += 1 }
            return e > k ? e : nil
        }
        func matchEnd(_ start: Int) -> Int? {
            guard splitter.matches(r, at: start) else { return nil }
            let after = start + length
            var end: Int?
            if after < r.count, PyText.isSpace(r[after]), let e = digitsEnd(after + 1) {
                end = e
            } else if let e = digitsEnd(after) {
                end = e
            }
            guard var e = end else { return nil }
            if e < r.count, PyText.isSpace(r[e]) { e += 1 }
            return e
        }
        while i < r.count {
            var end: Int?
            if PyText.isSpace(r[i]) { end = matchEnd(i + 1) }
            if end == nil { end = matchEnd(i) }
            if let e = end {
                n += 1
                i = e
            } else {
                i += 1
            }
        }
        return n
    }

    /// `detectable_format:json_format` (`JsonFormat`): the response stripped, less a leading
    /// ```` ```json ````, ```` ```Json ````, ```` ```JSON ```` then ```` ``` ```` (each removed in
    /// turn, as the official chain of `removeprefix` calls) and a trailing ```` ``` ````, stripped
    /// again, is accepted by Python's `json.loads`.
    static func isJSON(_ r: Scalars) -> Bool {
        var s = PyText.strip(r)
        for prefix in ["```json", "```Json", "```JSON", "```"] where PyText.hasPrefix(s, PyText.scalars(prefix)) {
            s.removeFirst(prefix.unicodeScalars.count)
        }
        if PyText.hasSuffix(s, ["`", "`", "`"]) { s.removeLast(3) }
        return PyJSON.isValid(PyText.strip(s))
    }

    /// `detectable_format:title` (`TitleChecker`): a match of `<<[^\n]+>>` (greedy: from `<<` to the
    /// last `>>` on its line) whose text, less leading `<` and trailing `>`, is not blank.
    static func hasTitle(_ r: Scalars) -> Bool {
        var i = 0
        while i + 1 < r.count {
            guard r[i] == "<", r[i + 1] == "<" else { i += 1; continue }
            var lineEnd = i + 2
            while lineEnd < r.count, r[lineEnd] != "\n" { lineEnd += 1 }
            var close: Int?
            var k = lineEnd - 2
            while k >= i + 3 {
                if r[k] == ">" && r[k + 1] == ">" { close = k; break }
                k -= 1
            }
            guard let c = close else { i += 1; continue }
            let inner = Array(r[i..<(c + 2)])
            var a = 0, b = inner.count
            while a < b, inner[a] == "<" { a += 1 }
            while b > a, inner[b - 1] == ">" { b -= 1 }
            if !PyText.isBlank(inner[a..<b]) { return true }
            i = c + 2
        }
        return false
    }
}
