/// `keywords:*`, `language:response_language` and the language half of `change_case:english_*`.
extension IFEvalInstruction {
    typealias Scalars = [Unicode.Scalar]

    /// `keywords:existence` (`KeywordChecker`): every keyword is found anywhere, ignoring case
    /// (`re.search(keyword, value, flags=re.IGNORECASE)`; no word boundaries, so `cat` is in
    /// `concatenate`).
    static func containsAll(_ r: Scalars, _ keywords: [IFEvalPattern]) -> Bool {
        keywords.allSatisfy { $0.occurs(in: r) }
    }

    /// `keywords:forbidden_words` (`ForbiddenWords`): no word is found as a whole word, ignoring case
    /// (`re.search(r"\b" + word + r"\b", value, flags=re.IGNORECASE)`).
    static func containsNone(_ r: Scalars, _ words: [IFEvalPattern]) -> Bool {
        !words.contains { $0.occurs(in: r, wordBoundaries: true) }
    }

    /// `keywords:letter_frequency` (`LetterFrequencyChecker`): occurrences of the (lowercased) letter
    /// in the lowercased response, `collections.Counter(value.lower())[letter]`.
    static func letterCount(_ r: Scalars, _ letter: Scalars) -> Int {
        guard letter.count == 1 else { return 0 }
        return PyText.lower(r).reduce(0) { $0 + ($1 == letter[0] ? 1 : 0) }
    }

    /// `language:response_language` (`ResponseLanguageChecker`): `langdetect.detect(value) ==
    /// language`, and followed when no language can be detected (see `IFEvalLanguage`).
    static func isInLanguage(_ response: String, _ code: String) -> Bool {
        guard let detected = IFEvalLanguage.detect(response) else { return true }
        return detected == code
    }
}
