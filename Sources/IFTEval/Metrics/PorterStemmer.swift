/// The Porter stemmer exactly as nltk implements it (`nltk.stem.porter.PorterStemmer()`, its
/// default `NLTK_EXTENSIONS` mode: the irregular-forms pool, no stemming of words of 1-2
/// letters, and nltk's changes to steps 1a, 1b, 1c, 2 and the *o condition), as rouge-score
/// calls it on lowercase ASCII tokens. Words are ASCII bytes.
enum PorterStemmer {
    typealias Word = [UInt8]

    /// `irregular_forms`, inverted: form -> stem.
    private static let pool: [Word: Word] = {
        let forms: [(String, [String])] = [
            ("sky", ["sky", "skies"]), ("die", ["dying"]), ("lie", ["lying"]), ("tie", ["tying"]),
            ("news", ["news"]), ("inning", ["innings", "inning"]), ("outing", ["outings", "outing"]),
            ("canning", ["cannings", "canning"]), ("howe", ["howe"]), ("proceed", ["proceed"]),
            ("exceed", ["exceed"]), ("succeed", ["succeed"]),
        ]
        var pool: [Word: Word] = [:]
        for (stem, words) in forms {
            for w in words { pool[Array(w.utf8)] = Array(stem.utf8) }
        }
        return pool
    }()

    /// `PorterStemmer.stem(word)` (lowercasing ASCII letters first, as `to_lowercase=True` does).
    static func stem(_ word: Word) -> Word {
        let lower = word.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
        if let irregular = pool[lower] { return irregular }
        if word.count <= 2 { return lower }
        var s = step1a(lower)
        s = step1b(s)
        s = step1c(s)
        s = step2(s)
        s = step3(s)
        s = step4(s)
        s = step5a(s)
        return step5b(s)
    }

    // MARK: Letters and measures

    private static func isVowel(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "a") || c == UInt8(ascii: "e") || c == UInt8(ascii: "i") || c == UInt8(ascii: "o")
            || c == UInt8(ascii: "u")
    }

    /// `_consonant_flags`: a, e, i, o, u are vowels; y is a consonant at the start or after a
    /// vowel, a vowel after a consonant.
    private static func consonantFlags(_ word: Word) -> [Bool] {
        var flags: [Bool] = []
        flags.reserveCapacity(word.count)
        for (i, c) in word.enumerated() {
            if isVowel(c) {
                flags.append(false)
            } else if c == UInt8(ascii: "y") {
                flags.append(i == 0 ? true : !flags[i - 1])
            } else {
                flags.append(true)
            }
        }
        return flags
    }

    private static func isConsonant(_ word: Word, _ i: Int) -> Bool { consonantFlags(word)[i] }

    /// `_measure`: m in [C](VC)^m[V], the number of vowel-consonant transitions.
    private static func measure(_ stem: Word) -> Int {
        let flags = consonantFlags(stem)
        var m = 0
        for i in flags.indices.dropFirst() where !flags[i - 1] && flags[i] { m += 1 }
        return m
    }

    private static func hasPositiveMeasure(_ stem: Word) -> Bool { measure(stem) > 0 }

    private static func containsVowel(_ stem: Word) -> Bool { consonantFlags(stem).contains(false) }

    private static func endsDoubleConsonant(_ word: Word) -> Bool {
        word.count >= 2 && word[word.count - 1] == word[word.count - 2] && isConsonant(word, word.count - 1)
    }

    /// `_ends_cvc` (*o): consonant-vowel-consonant with the last not w, x or y; nltk also
    /// accepts a two-letter vowel-consonant word.
    private static func endsCVC(_ word: Word) -> Bool {
        let n = word.count
        if n >= 3 && isConsonant(word, n - 3) && !isConsonant(word, n - 2) && isConsonant(word, n - 1)
            && ![UInt8(ascii: "w"), UInt8(ascii: "x"), UInt8(ascii: "y")].contains(word[n - 1])
        {
            return true
        }
        return n == 2 && !isConsonant(word, 0) && isConsonant(word, 1)
    }

    // MARK: Rules

    /// A rule `(suffix, replacement, condition)`; the suffix "*d" is a double consonant.
    private struct Rule {
        var suffix: Word
        var replacement: Word
        var condition: ((Word) -> Bool)?

        init(_ suffix: String, _ replacement: String, _ condition: ((Word) -> Bool)? = nil) {
            self.suffix = Array(suffix.utf8)
            self.replacement = Array(replacement.utf8)
            self.condition = condition
        }

        init(_ suffix: String, replacement: Word, _ condition: ((Word) -> Bool)?) {
            self.suffix = Array(suffix.utf8)
            self.replacement = replacement
            self.condition = condition
        }
    }

    private static func hasSuffix(_ word: Word, _ suffix: Word) -> Bool {
        word.count >= suffix.count && word[(word.count - suffix.count)...].elementsEqual(suffix)
    }

    private static func hasSuffix(_ word: Word, _ suffix: String) -> Bool { hasSuffix(word, Array(suffix.utf8)) }

    private static func dropping(_ word: Word, _ count: Int) -> Word { Array(word[..<(word.count - count)]) }

    /// `_apply_rule_list`: the first rule whose suffix matches decides; if its condition fails
    /// the word is returned unchanged.
    private static func apply(_ rules: [Rule], to word: Word) -> Word {
        let doubleConsonant = Array("*d".utf8)
        for rule in rules {
            if rule.suffix == doubleConsonant && endsDoubleConsonant(word) {
                let stem = dropping(word, 2)
                return rule.condition?(stem) ?? true ? stem + rule.replacement : word
            }
            if hasSuffix(word, rule.suffix) {
                let stem = dropping(word, rule.suffix.count)
                return rule.condition?(stem) ?? true ? stem + rule.replacement : word
            }
        }
        return word
    }

    private static func step1a(_ word: Word) -> Word {
        if hasSuffix(word, "ies") && word.count == 4 { return dropping(word, 3) + Array("ie".utf8) }
        return apply([Rule("sses", "ss"), Rule("ies", "i"), Rule("ss", "ss"), Rule("s", "")], to: word)
    }

    private static func step1b(_ word: Word) -> Word {
        if hasSuffix(word, "ied") {
            return dropping(word, 3) + Array((word.count == 4 ? "ie" : "i").utf8)
        }
        if hasSuffix(word, "eed") {
            let stem = dropping(word, 3)
            return measure(stem) > 0 ? stem + Array("ee".utf8) : word
        }
        var intermediate: Word?
        for suffix in ["ed", "ing"] where hasSuffix(word, suffix) {
            let stem = dropping(word, suffix.utf8.count)
            if containsVowel(stem) {
                intermediate = stem
                break
            }
        }
        guard let stem = intermediate, let last = stem.last else { return word }
        return apply(
            [
                Rule("at", "ate"), Rule("bl", "ble"), Rule("iz", "ize"),
                Rule("*d", replacement: [last], { _ in ![UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "z")].contains(last) }),
                Rule("", "e", { measure($0) == 1 && endsCVC($0) }),
            ], to: stem)
    }

    private static func step1c(_ word: Word) -> Word {
        apply([Rule("y", "i", { $0.count > 1 && isConsonant($0, $0.count - 1) })], to: word)
    }

    private static func step2(_ word: Word) -> Word {
        if hasSuffix(word, "alli") && hasPositiveMeasure(dropping(word, 4)) {
            return step2(dropping(word, 4) + Array("al".utf8))
        }
        let m = hasPositiveMeasure
        return apply(
            [
                Rule("ational", "ate", m), Rule("tional", "tion", m), Rule("enci", "ence", m), Rule("anci", "ance", m),
                Rule("izer", "ize", m), Rule("bli", "ble", m), Rule("alli", "al", m), Rule("entli", "ent", m),
                Rule("eli", "e", m), Rule("ousli", "ous", m), Rule("ization", "ize", m), Rule("ation", "ate", m),
                Rule("ator", "ate", m), Rule("alism", "al", m), Rule("iveness", "ive", m), Rule("fulness", "ful", m),
                Rule("ousness", "ous", m), Rule("aliti", "al", m), Rule("iviti", "ive", m), Rule("biliti", "ble", m),
                Rule("fulli", "ful", m),
                // nltk tests the measure of the word without "ogi" (the stem keeps its "l").
                Rule("logi", "log", { _ in hasPositiveMeasure(dropping(word, 3)) }),
            ], to: word)
    }

    private static func step3(_ word: Word) -> Word {
        let m = hasPositiveMeasure
        return apply(
            [
                Rule("icate", "ic", m), Rule("ative", "", m), Rule("alize", "al", m), Rule("iciti", "ic", m),
                Rule("ical", "ic", m), Rule("ful", "", m), Rule("ness", "", m),
            ], to: word)
    }

    private static func step4(_ word: Word) -> Word {
        let m: (Word) -> Bool = { measure($0) > 1 }
        let st: (Word) -> Bool = { stem in
            measure(stem) > 1 && (stem.last == UInt8(ascii: "s") || stem.last == UInt8(ascii: "t"))
        }
        return apply(
            [
                Rule("al", "", m), Rule("ance", "", m), Rule("ence", "", m), Rule("er", "", m), Rule("ic", "", m),
                Rule("able", "", m), Rule("ible", "", m), Rule("ant", "", m), Rule("ement", "", m),
                Rule("ment", "", m), Rule("ent", "", m), Rule("ion", "", st), Rule("ou", "", m), Rule("ism", "", m),
                Rule("ate", "", m), Rule("iti", "", m), Rule("ous", "", m), Rule("ive", "", m), Rule("ize", "", m),
            ], to: word)
    }

    private static func step5a(_ word: Word) -> Word {
        guard hasSuffix(word, "e") else { return word }
        let stem = dropping(word, 1)
        let m = measure(stem)
        return m > 1 || (m == 1 && !endsCVC(stem)) ? stem : word
    }

    private static func step5b(_ word: Word) -> Word {
        apply([Rule("ll", "l", { _ in measure(dropping(word, 1)) > 1 })], to: word)
    }
}
