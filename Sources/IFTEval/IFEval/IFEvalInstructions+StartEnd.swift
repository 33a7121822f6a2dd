/// `startend:*` and `combination:two_responses`. (`combination:repeat_prompt`,
/// `change_case:*` and `punctuation:no_comma` are one-liners in `isFollowed(by:)`; the word
/// tokenizer behind `capital_word_frequency` is `TreebankWords`.)
extension IFEvalInstruction {
    /// `startend:end_checker` (`EndChecker`): the response, stripped of whitespace and then of `"`
    /// at both ends, lowercased, ends with the (stripped, lowercased) phrase.
    static func endsWith(_ r: Scalars, _ phrase: Scalars) -> Bool {
        PyText.hasSuffix(PyText.lower(PyText.strip(PyText.strip(r), chars: ["\""])), phrase)
    }

    /// `startend:quotation` (`QuotationChecker`): the stripped response is longer than one code
    /// point and starts and ends with `"`.
    static func isQuoted(_ r: Scalars) -> Bool {
        let s = PyText.strip(r)
        return s.count > 1 && s.first == "\"" && s.last == "\""
    }

    /// `combination:two_responses` (`TwoResponsesChecker`): split on `******`, a blank piece is
    /// allowed only first or last, there are exactly two others and they differ once stripped.
    static func hasTwoResponses(_ r: Scalars) -> Bool {
        let pieces = PyText.split(r, separator: Array(repeating: "*", count: 6))
        var valid: [Scalars] = []
        for (index, piece) in pieces.enumerated() {
            if PyText.isBlank(piece) {
                if index != 0 && index != pieces.count - 1 { return false }
            } else {
                valid.append(piece)
            }
        }
        return valid.count == 2 && PyText.strip(valid[0]) != PyText.strip(valid[1])
    }
}
