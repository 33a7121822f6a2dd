/// `length_constraints:*`.
extension IFEvalInstruction {
    /// `length_constraints:number_paragraphs` (`ParagraphChecker`): the response split on
    /// `\s?\*\*\*\s?` has exactly `count` pieces, not counting a blank first or last piece; a blank
    /// piece anywhere else fails.
    static func hasParagraphs(_ r: Scalars, _ count: Int) -> Bool {
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        var start = 0, i = 0
        func stars(_ k: Int) -> Bool { k + 2 < r.count && r[k] == "*" && r[k + 1] == "*" && r[k + 2] == "*" }
        while i < r.count {
            var end: Int?
            if PyText.isSpace(r[i]), stars(i + 1) {
                end = i + 4
            } else if stars(i) {
                end = i + 3
            }
            guard var e = end else { i += 1; continue }
            if e < r.count, PyText.isSpace(r[e]) { e += 1 }
            pieces.append(r[start..<i])
            start = e
            i = e
        }
        pieces.append(r[start...])
        var n = pieces.count
        for (index, piece) in pieces.enumerated() where PyText.isBlank(piece) {
            guard index == 0 || index == pieces.count - 1 else { return false }
            n -= 1
        }
        return n == count
    }

    /// `length_constraints:nth_paragraph_first_word` (`ParagraphFirstWordCheck`): paragraphs are the
    /// pieces between `\n\n`; there are exactly `paragraphs` non-blank ones, and the `nth` piece
    /// (counting blank pieces too, as the official code indexes the raw split) is non-blank and its
    /// first whitespace-separated word — less leading `'` then `"`, cut at the first `.,?!'"`, and
    /// lowercased — is `firstWord`.
    static func hasParagraphs(_ r: Scalars, _ paragraphs: Int, nth: Int, firstWord: Scalars) -> Bool {
        let pieces = PyText.split(r, separator: ["\n", "\n"])
        let n = pieces.count - pieces.filter { PyText.isBlank($0) }.count
        guard nth <= n else { return false }
        let paragraph = PyText.strip(pieces[nth - 1])
        guard let first = PyText.splitWhitespace(paragraph).first else { return false }
        var word = PyText.strip(first)[...]
        while word.first == "'" { word = word.dropFirst() }
        while word.first == "\"" { word = word.dropFirst() }
        var found: Scalars = []
        for c in word {
            if [".", ",", "?", "!", "'", "\""].contains(c) { break }
            found += PyText.lower([c])
        }
        return n == paragraphs && found == firstWord
    }
}
