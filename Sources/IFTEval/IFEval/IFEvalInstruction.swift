import IFTCore
import IFTModel

/// `less than` / `at least`, the two comparisons of the official checkers (`_COMPARISON_RELATION`).
public enum IFEvalRelation: String, Sendable, Equatable {
    case lessThan = "less than"
    case atLeast = "at least"

    /// `count < threshold` or `count >= threshold`.
    public func holds(_ count: Int, _ threshold: Int) -> Bool {
        switch self {
        case .lessThan: return count < threshold
        case .atLeast: return count >= threshold
        }
    }
}

/// One IFEval instruction of a prompt: its id (`keywords:frequency`, ...) and the checker that its
/// kwargs build, as the official `build_description(**kwargs)` then `check_following(response)`.
public struct IFEvalInstruction: Sendable, Equatable {
    public let id: String
    public let checker: Checker

    /// The checkers of the 25 official instruction types, with their arguments.
    public enum Checker: Sendable, Equatable {
        case keywordsExistence(keywords: [IFEvalPattern])
        case keywordsFrequency(keyword: IFEvalPattern, relation: IFEvalRelation, frequency: Int)
        case keywordsForbiddenWords(words: [IFEvalPattern])
        case keywordsLetterFrequency(letter: [Unicode.Scalar], relation: IFEvalRelation, frequency: Int)
        case responseLanguage(language: String)
        case numberSentences(relation: IFEvalRelation, count: Int)
        case numberParagraphs(count: Int)
        case numberWords(relation: IFEvalRelation, count: Int)
        case nthParagraphFirstWord(paragraphs: Int, nth: Int, firstWord: [Unicode.Scalar])
        case numberPlaceholders(count: Int)
        case postscript(marker: String)
        case numberBulletLists(count: Int)
        case constrainedResponse
        case numberHighlightedSections(count: Int)
        case multipleSections(splitter: IFEvalPattern, count: Int)
        case jsonFormat
        case title
        case twoResponses
        case repeatPrompt(prompt: [Unicode.Scalar])
        case endChecker(phrase: [Unicode.Scalar])
        case quotation
        case capitalWordFrequency(relation: IFEvalRelation, frequency: Int)
        case englishCapital
        case englishLowercase
        case noComma
    }

    /// The 25 instruction ids of the official registry (`instructions_registry.INSTRUCTION_DICT`).
    public static let knownIDs: [String] = [
        "keywords:existence", "keywords:frequency", "keywords:forbidden_words", "keywords:letter_frequency",
        "language:response_language",
        "length_constraints:number_sentences", "length_constraints:number_paragraphs",
        "length_constraints:number_words", "length_constraints:nth_paragraph_first_word",
        "detectable_content:number_placeholders", "detectable_content:postscript",
        "detectable_format:number_bullet_lists", "detectable_format:constrained_response",
        "detectable_format:number_highlighted_sections", "detectable_format:multiple_sections",
        "detectable_format:json_format", "detectable_format:title",
        "combination:two_responses", "combination:repeat_prompt",
        "startend:end_checker", "startend:quotation",
        "change_case:capital_word_frequency", "change_case:english_capital", "change_case:english_lowercase",
        "punctuation:no_comma",
    ]

    /// Builds the checker of `id` from its kwargs (null-valued kwargs are ignored, as in the
    /// Hugging Face copy of the data, which lists every key). Where the official code would draw a
    /// random value (a missing or negative count, a missing keyword) or raise (an unknown relation),
    /// this throws `IFTError.invalidArgument`, as it does for an unknown id or an unexpected kwarg.
    public init(id: String, kwargs: JSONObject) throws {
        self.id = id
        var a = Kwargs(id: id, object: kwargs)
        switch id {
        case "keywords:existence":
            checker = .keywordsExistence(keywords: try a.strings("keywords").map {
                try IFEvalPattern($0, ignoreCase: true, what: "\(id): keyword")
            })
        case "keywords:frequency":
            let keyword = PyText.string(PyText.strip(PyText.scalars(try a.string("keyword"))))
            checker = .keywordsFrequency(
                keyword: try IFEvalPattern(keyword, ignoreCase: true, what: "\(id): keyword"),
                relation: try a.relation("relation"), frequency: try a.count("frequency"))
        case "keywords:forbidden_words":
            checker = .keywordsForbiddenWords(words: try a.strings("forbidden_words").map {
                try IFEvalPattern($0, ignoreCase: true, what: "\(id): forbidden word")
            })
        case "keywords:letter_frequency":
            let letter = PyText.scalars(try a.string("letter"))
            guard letter.count == 1 else {
                throw IFTError.invalidArgument(
                    "\(id): 'letter' must be one character, got \"\(PyText.string(letter))\" (the official code would draw a random letter)")
            }
            checker = .keywordsLetterFrequency(
                letter: PyText.lower(PyText.strip(letter)), relation: try a.relation("let_relation"),
                frequency: try a.count("let_frequency"))
        case "language:response_language":
            checker = .responseLanguage(language: try a.string("language"))
        case "length_constraints:number_sentences":
            checker = .numberSentences(relation: try a.relation("relation"), count: try a.count("num_sentences"))
        case "length_constraints:number_paragraphs":
            checker = .numberParagraphs(count: try a.count("num_paragraphs"))
        case "length_constraints:number_words":
            checker = .numberWords(relation: try a.relation("relation"), count: try a.count("num_words"))
        case "length_constraints:nth_paragraph_first_word":
            let paragraphs = try a.count("num_paragraphs")
            let nth = try a.count("nth_paragraph")
            guard nth >= 1, nth <= paragraphs else {
                throw IFTError.invalidArgument(
                    "\(id): 'nth_paragraph' must be in 1...\(paragraphs), got \(nth) (the official code would draw a random one)")
            }
            checker = .nthParagraphFirstWord(
                paragraphs: paragraphs, nth: nth, firstWord: PyText.lower(PyText.scalars(try a.string("first_word"))))
        case "detectable_content:number_placeholders":
            checker = .numberPlaceholders(count: try a.count("num_placeholders"))
        case "detectable_content:postscript":
            let marker = PyText.string(PyText.strip(PyText.scalars(try a.string("postscript_marker"))))
            if marker != "P.S." && marker != "P.P.S" {
                _ = try IFEvalPattern(marker, ignoreCase: false, what: "\(id): postscript marker")
            }
            checker = .postscript(marker: marker)
        case "detectable_format:number_bullet_lists":
            checker = .numberBulletLists(count: try a.count("num_bullets"))
        case "detectable_format:constrained_response":
            checker = .constrainedResponse
        case "detectable_format:number_highlighted_sections":
            checker = .numberHighlightedSections(count: try a.count("num_highlights"))
        case "detectable_format:multiple_sections":
            let splitter = PyText.string(PyText.strip(PyText.scalars(try a.string("section_spliter"))))
            checker = .multipleSections(
                splitter: try IFEvalPattern(splitter, ignoreCase: false, what: "\(id): section splitter"),
                count: try a.count("num_sections"))
        case "detectable_format:json_format":
            checker = .jsonFormat
        case "detectable_format:title":
            checker = .title
        case "combination:two_responses":
            checker = .twoResponses
        case "combination:repeat_prompt":
            let prompt = PyText.scalars(try a.string("prompt_to_repeat"))
            guard !prompt.isEmpty else { throw IFTError.invalidArgument("\(id): 'prompt_to_repeat' must be set") }
            checker = .repeatPrompt(prompt: PyText.lower(PyText.strip(prompt)))
        case "startend:end_checker":
            checker = .endChecker(phrase: PyText.lower(PyText.strip(PyText.scalars(try a.string("end_phrase")))))
        case "startend:quotation":
            checker = .quotation
        case "change_case:capital_word_frequency":
            checker = .capitalWordFrequency(relation: try a.relation("capital_relation"), frequency: try a.count("capital_frequency"))
        case "change_case:english_capital":
            checker = .englishCapital
        case "change_case:english_lowercase":
            checker = .englishLowercase
        case "punctuation:no_comma":
            checker = .noComma
        default:
            throw IFTError.invalidArgument("unknown IFEval instruction id '\(id)' (known: \(Self.knownIDs.joined(separator: ", ")))")
        }
        try a.checkAllUsed()
    }

    /// The official `check_following(response)` of this instruction (the strict test, less the
    /// evaluation's rule that a blank response follows nothing: see `IFEval.score`).
    public func isFollowed(by response: String) -> Bool {
        let r = PyText.scalars(response)
        switch checker {
        case .keywordsExistence(let keywords): return Self.containsAll(r, keywords)
        case .keywordsFrequency(let keyword, let relation, let frequency):
            return relation.holds(keyword.countMatches(in: r), frequency)
        case .keywordsForbiddenWords(let words): return Self.containsNone(r, words)
        case .keywordsLetterFrequency(let letter, let relation, let frequency):
            return relation.holds(Self.letterCount(r, letter), frequency)
        case .responseLanguage(let language): return Self.isInLanguage(response, language)
        case .numberSentences(let relation, let count): return relation.holds(PunktSentences.count(r), count)
        case .numberParagraphs(let count): return Self.hasParagraphs(r, count)
        case .numberWords(let relation, let count): return relation.holds(PyText.countWords(r), count)
        case .nthParagraphFirstWord(let paragraphs, let nth, let firstWord):
            return Self.hasParagraphs(r, paragraphs, nth: nth, firstWord: firstWord)
        case .numberPlaceholders(let count): return Self.placeholderCount(r) >= count
        case .postscript(let marker): return Self.hasPostscript(r, marker)
        case .numberBulletLists(let count): return Self.bulletCount(r) == count
        case .constrainedResponse: return Self.isConstrainedResponse(r)
        case .numberHighlightedSections(let count): return Self.highlightCount(r) >= count
        case .multipleSections(let splitter, let count): return Self.sectionCount(r, splitter) >= count
        case .jsonFormat: return Self.isJSON(r)
        case .title: return Self.hasTitle(r)
        case .twoResponses: return Self.hasTwoResponses(r)
        case .repeatPrompt(let prompt): return PyText.hasPrefix(PyText.lower(PyText.strip(r)), prompt)
        case .endChecker(let phrase): return Self.endsWith(r, phrase)
        case .quotation: return Self.isQuoted(r)
        case .capitalWordFrequency(let relation, let frequency):
            return relation.holds(TreebankWords.countCapitalWords(r), frequency)
        case .englishCapital: return PyText.isUpper(r) && Self.isInLanguage(response, "en")
        case .englishLowercase: return PyText.isLower(r) && Self.isInLanguage(response, "en")
        case .noComma: return !r.contains(",")
        }
    }
}

/// Kwargs of one instruction, read by name; what is left unread is an error.
struct Kwargs {
    let id: String
    var members: [String: JSONValue]

    init(id: String, object: JSONObject) {
        self.id = id
        members = [:]
        for (k, v) in object.members where !v.isNull { members[k] = v }
    }

    mutating func take(_ key: String) throws -> JSONValue {
        guard let v = members.removeValue(forKey: key) else {
            throw IFTError.invalidArgument("\(id): kwarg '\(key)' is required (the official code would draw a random value)")
        }
        return v
    }

    mutating func string(_ key: String) throws -> String {
        let v = try take(key)
        guard let s = v.stringValue else { throw IFTError.invalidArgument("\(id): kwarg '\(key)' must be a string, got \(v.typeName)") }
        return s
    }

    mutating func strings(_ key: String) throws -> [String] {
        let v = try take(key)
        guard let a = v.arrayValue, !a.isEmpty else {
            throw IFTError.invalidArgument("\(id): kwarg '\(key)' must be a non-empty list of strings, got \(v.typeName)")
        }
        return try a.map {
            guard let s = $0.stringValue else { throw IFTError.invalidArgument("\(id): kwarg '\(key)' must hold strings, found \($0.typeName)") }
            return s
        }
    }

    mutating func count(_ key: String) throws -> Int {
        let v = try take(key)
        guard let n = v.intValue, n >= 0 else {
            throw IFTError.invalidArgument("\(id): kwarg '\(key)' must be a whole number ≥ 0, got \(v) (the official code would draw a random value)")
        }
        return n
    }

    mutating func relation(_ key: String) throws -> IFEvalRelation {
        let s = try string(key)
        guard let r = IFEvalRelation(rawValue: s) else {
            throw IFTError.invalidArgument("\(id): kwarg '\(key)' must be \"less than\" or \"at least\", got \"\(s)\"")
        }
        return r
    }

    func checkAllUsed() throws {
        guard members.isEmpty else {
            throw IFTError.invalidArgument("\(id): unexpected kwarg(s) \(members.keys.sorted().joined(separator: ", "))")
        }
    }
}
