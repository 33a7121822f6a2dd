/// Sentence splitting as IFEval's `count_sentences` does it: nltk's Punkt tokenizer with the English
/// model (`nltk.data.load("nltk:tokenizers/punkt/english.pickle")`, which nltk ≥ 3.9 serves from
/// `punkt_tab`), reimplemented rule by rule:
///
/// - candidate boundaries: `.`, `?` or `!` followed by closing punctuation or by whitespace and a
///   token; the word before and the token after form the context that is annotated;
/// - first pass: a lone `.`/`?`/`!` is a break; `..`+ is an ellipsis; a word ending in `.` is an
///   abbreviation when the word (or its last `-` part) is one of the model's 156 English abbreviation
///   types (`mr`, `dr`, `u.s`, `inc`, `a.m`, single letters like `c`, `e`, `p`, ...), else a break;
/// - second pass: the model's collocations (`##number## international`, `j walter`, ...), the
///   orthographic heuristic, the frequent-sentence-starter list (`the`, `however`, `this`, ...),
///   initials (`J.`) and numbers (`3.`) followed by a lowercase word are not breaks;
/// - closing quotes and brackets after a boundary move to the sentence before.
///
/// Regular expressions inside nltk use `\s`/`\w` as nltk ≥ 3.10's `regex` engine defines them
/// (`PyText.isNLTKSpace`, `isNLTKWord`); Python string methods (`lower`, `isupper`, `rstrip`)
/// keep Python's.
///
/// **Deviation.** Punkt's orthographic heuristic looks words up in the model's orthographic context
/// (for each of ~20,000 WSJ word types: seen capitalized mid-sentence? seen lowercase?). That table
/// is not embedded. Instead: a lowercase next word is never a sentence starter (true in the model
/// for all but 4 types); for a capitalized next word, ~320 common English words carry the flags
/// the English model gives them (`Ortho.starters`: seen lowercase and never capitalized
/// mid-sentence; `Ortho.lowercase`: seen lowercase); any other capitalized word is treated as a
/// word the model never saw in lowercase (a name). So `Dr. Smith` and `J. Smith` stay one sentence
/// and `in the U.S. Please ...` splits, as in nltk; a rarer word after an abbreviation or initial
/// can be decided differently. Numbers, ellipses, lowercase continuations, `?`/`!` and plain
/// words ending in `.` follow nltk exactly.
enum PunktSentences {
    typealias Scalars = [Unicode.Scalar]

    /// The number of sentences `nltk`'s English Punkt tokenizer finds in `text`.
    static func count(_ text: Scalars) -> Int { spans(text).count }

    static func sentences(_ text: String) -> [String] {
        let s = PyText.scalars(text)
        return spans(s).map { PyText.string(s[$0.start..<min($0.stop, s.count)]) }
    }

    struct Slice { var start: Int; var stop: Int }

    /// A candidate boundary: the `.`/`?`/`!` at `position`, what follows it, and where the next
    /// token starts when whitespace follows.
    struct Candidate {
        let position: Int
        let afterEnd: Int
        let nextTokenStart: Int?
    }

    static let sentenceEnd: Set<Unicode.Scalar> = [".", "?", "!"]
    /// Punkt's `_re_non_word_chars` for English (nltk ≥ 3.9 adds curly quotes and guillemets).
    static let nonWord: Set<Unicode.Scalar> = [
        ")", "\"", ";", "}", "]", "*", ":", "@", "'", "(", "{", "[",
        "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{AB}", "\u{BB}", "!", "?",
    ]
    /// Characters that cannot start a word token (`_re_word_start` excludes them).
    static let notWordStart: Set<Unicode.Scalar> = ["(", "\"", "`", "{", "[", ":", ";", "&", "#", "*", "@", ")", "}", "]", "-", ","]
    /// Closing punctuation that realigns onto the previous sentence.
    static let closers: Set<Unicode.Scalar> = [
        "\"", "'", ")", "]", "}", "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{AB}", "\u{BB}",
    ]

    static func spans(_ text: Scalars) -> [Slice] {
        let n = text.count
        var candidates: [Candidate] = []
        for i in 0..<n where sentenceEnd.contains(text[i]) {
            guard i + 1 < n else { continue }
            if nonWord.contains(text[i + 1]) {
                candidates.append(Candidate(position: i, afterEnd: i + 2, nextTokenStart: nil))
            } else if PyText.isNLTKSpace(text[i + 1]) {
                var j = i + 1
                while j < n, PyText.isNLTKSpace(text[j]) { j += 1 }
                guard j < n else { continue }
                var k = j
                while k < n, !PyText.isNLTKSpace(text[k]) { k += 1 }
                candidates.append(Candidate(position: i, afterEnd: k, nextTokenStart: j))
            }
        }

        // The word before each candidate; a candidate whose word overlaps the next one's is dropped
        // (nltk's `_match_potential_end_contexts`).
        var contexts: [(Candidate, Scalars)] = []
        var previous: (Candidate, Slice)?
        var previousSlice = Slice(start: 0, stop: 0)
        func context(_ c: Candidate, _ word: Slice) -> Scalars {
            Array(text[word.start..<word.stop]) + Array(text[c.position..<c.afterEnd])
        }
        for c in candidates {
            var lastSpace = 0
            if previousSlice.stop < c.position {
                for i in stride(from: c.position - 1, through: previousSlice.stop, by: -1) where PyText.isASCIISpace(text[i]) {
                    lastSpace = i - previousSlice.stop
                    break
                }
            }
            let wordStart = lastSpace != 0 ? lastSpace + previousSlice.stop + 1 : previousSlice.start
            let word = Slice(start: wordStart, stop: c.position)
            if let (pc, ps) = previous, previousSlice.stop <= word.start {
                contexts.append((pc, context(pc, ps)))
            }
            previous = (c, word)
            previousSlice = word
        }
        if let (pc, ps) = previous { contexts.append((pc, context(pc, ps))) }

        var slices: [Slice] = []
        var lastBreak = 0
        for (c, ctx) in contexts where containsSentenceBreak(ctx) {
            slices.append(Slice(start: lastBreak, stop: c.position + 1))
            lastBreak = c.nextTokenStart ?? (c.position + 1)
        }
        slices.append(Slice(start: lastBreak, stop: rstripLength(text)))
        return realign(text, slices)
    }

    static func rstripLength(_ s: Scalars) -> Int {
        var b = s.count
        while b > 0, PyText.isSpace(s[b - 1]) { b -= 1 }
        return b
    }

    static func realign(_ text: Scalars, _ slices: [Slice]) -> [Slice] {
        var out: [Slice] = []
        var realign = 0
        func nonEmpty(_ s: Slice) -> Bool { min(s.stop, text.count) > s.start }
        for (i, s) in slices.enumerated() {
            let first = Slice(start: s.start + realign, stop: s.stop)
            guard i + 1 < slices.count else {
                if nonEmpty(first) { out.append(first) }
                continue
            }
            let second = slices[i + 1]
            if let (closing, end) = boundaryRealignment(text, second) {
                out.append(Slice(start: first.start, stop: second.start + closing))
                realign = end
            } else {
                realign = 0
                if nonEmpty(first) { out.append(first) }
            }
        }
        return out
    }

    /// `["')\]}‘’“”«»]+?(?:\s+|(?=--)|$)` matched at the start of `slice`: the number of closing
    /// characters and the match length.
    static func boundaryRealignment(_ text: Scalars, _ slice: Slice) -> (Int, Int)? {
        let end = min(slice.stop, text.count)
        var i = slice.start
        while i < end, closers.contains(text[i]) {
            i += 1
            let closing = i - slice.start
            if i < end, PyText.isNLTKSpace(text[i]) {
                var j = i
                while j < end, PyText.isNLTKSpace(text[j]) { j += 1 }
                return (closing, j - slice.start)
            }
            if i + 1 < end, text[i] == "-", text[i + 1] == "-" { return (closing, closing) }
            if i == end || text[i] == "\n" { return (closing, closing) }
        }
        return nil
    }

    // MARK: Tokens and annotation

    struct Token {
        let text: Scalars
        let type: Scalars
        var sentenceBreak = false
        var abbreviation = false
        var ellipsis = false

        init(_ text: Scalars) {
            self.text = text
            type = PunktSentences.isNumeric(text) ? PyText.scalars("##number##") : PyText.lower(text)
        }

        var periodFinal: Bool { text.last == "." }
        var typeNoPeriod: Scalars { type.count > 1 && type.last == "." ? Array(type.dropLast()) : type }
        var typeNoSentencePeriod: Scalars { sentenceBreak ? typeNoPeriod : type }
        var firstUpper: Bool { text.first.map { PyText.isUpper($0) } ?? false }
        var firstLower: Bool { text.first.map { PyText.isLower($0) } ?? false }
        /// `\.\.+$` matched at the start.
        var isEllipsis: Bool { text.count >= 2 && text.allSatisfy { $0 == "." } }
        /// `[^\W\d]\.$` matched at the start: one letter and a period.
        var isInitial: Bool { text.count == 2 && PyText.isWordNotDigit(text[0]) && text[1] == "." }
    }

    /// Punkt's `_RE_NUMERIC`: `^-?[\.,]?\d[\d,\.-]*\.?$`.
    static func isNumeric(_ t: Scalars) -> Bool {
        var i = 0
        if i < t.count, t[i] == "-" { i += 1 }
        if i < t.count, t[i] == "." || t[i] == "," {
            // `[\.,]?` is optional: it can also be skipped when a digit does not follow.
            if i + 1 < t.count, PyText.isDecimal(t[i + 1]) { i += 1 }
        }
        guard i < t.count, PyText.isDecimal(t[i]) else { return false }
        i += 1
        // `[\d,\.-]*\.?$`: the rest is digits, commas, periods and hyphens.
        while i < t.count {
            let c = t[i]
            guard PyText.isDecimal(c) || c == "," || c == "." || c == "-" else { return false }
            i += 1
        }
        return true
    }

    /// Punkt's word tokenizer (`_word_tokenize_fmt`) on one line.
    static func wordTokens(_ line: Scalars) -> [Scalars] {
        let n = line.count
        func multiChar(_ p: Int) -> Int? {
            guard p < n else { return nil }
            if line[p] == "-" || line[p] == "." {
                var q = p
                while q < n, line[q] == line[p] { q += 1 }
                if q - p >= 2 { return q }
            }
            if line[p] == "." {
                var reps = 0
                while p + 2 * reps + 1 < n, line[p + 2 * reps] == ".", PyText.isNLTKSpace(line[p + 2 * reps + 1]) { reps += 1 }
                var r = reps
                while r >= 2 {
                    if p + 2 * r < n, line[p + 2 * r] == "." { return p + 2 * r + 1 }
                    r -= 1
                }
            }
            return nil
        }
        func endsWord(_ e: Int) -> Bool {
            if e == n || PyText.isNLTKSpace(line[e]) || nonWord.contains(line[e]) || multiChar(e) != nil { return true }
            if line[e] == "," {
                let f = e + 1
                return f == n || PyText.isNLTKSpace(line[f]) || nonWord.contains(line[f]) || multiChar(f) != nil
            }
            return false
        }
        var tokens: [Scalars] = []
        var p = 0
        while p < n {
            let c = line[p]
            if let q = multiChar(p) {
                tokens.append(Array(line[p..<q]))
                p = q
            } else if PyText.isNLTKSpace(c) {
                p += 1
            } else if !notWordStart.contains(c) {
                var e = p + 1
                while !endsWord(e) { e += 1 }
                tokens.append(Array(line[p..<e]))
                p = e
            } else {
                tokens.append([c])
                p += 1
            }
        }
        return tokens
    }

    /// `text_contains_sentbreak`: a token other than the last is a sentence break after both passes.
    static func containsSentenceBreak(_ context: Scalars) -> Bool {
        var tokens: [Token] = []
        for line in PyText.split(context, separator: ["\n"]) where !PyText.isBlank(line) {
            tokens += wordTokens(line).map(Token.init)
        }
        for i in tokens.indices { firstPass(&tokens[i]) }
        for i in tokens.indices {
            if i + 1 < tokens.count { secondPass(&tokens[i], tokens[i + 1]) }
            if tokens[i].sentenceBreak && i + 1 < tokens.count { return true }
        }
        return false
    }

    static func firstPass(_ t: inout Token) {
        let tok = t.text
        if tok.count == 1, sentenceEnd.contains(tok[0]) {
            t.sentenceBreak = true
        } else if t.isEllipsis {
            t.ellipsis = true
        } else if t.periodFinal, !PyText.hasSuffix(tok, [".", "."]) {
            let word = PyText.lower(Array(tok.dropLast()))
            let lastPart = PyText.split(word, separator: ["-"]).last ?? word
            if PunktEnglish.abbreviations.contains(PyText.string(word)) || PunktEnglish.abbreviations.contains(PyText.string(lastPart)) {
                t.abbreviation = true
            } else {
                t.sentenceBreak = true
            }
        }
    }

    enum Starter { case yes, no, unknown }

    static func secondPass(_ t: inout Token, _ next: Token) {
        guard t.periodFinal else { return }
        let type = PyText.string(t.typeNoPeriod)
        let nextType = PyText.string(next.typeNoSentencePeriod)
        let isInitial = t.isInitial
        if PunktEnglish.collocations.contains(type + " " + nextType) {
            t.sentenceBreak = false
            t.abbreviation = true
            return
        }
        if (t.abbreviation || t.ellipsis) && !isInitial {
            if orthographicHeuristic(next) == .yes {
                t.sentenceBreak = true
                return
            }
            if next.firstUpper && PunktEnglish.sentenceStarters.contains(nextType) {
                t.sentenceBreak = true
                return
            }
        }
        if isInitial || type == "##number##" {
            let starter = orthographicHeuristic(next)
            if starter == .no {
                t.sentenceBreak = false
                t.abbreviation = true
                return
            }
            if starter == .unknown && isInitial && next.firstUpper && !PunktEnglish.seenLowercase(nextType) {
                t.sentenceBreak = false
                t.abbreviation = true
            }
        }
    }

    /// Punkt's `_ortho_heuristic`, with the orthographic context approximated (see the type's note).
    static func orthographicHeuristic(_ t: Token) -> Starter {
        if t.text.count == 1, [";", ":", ",", ".", "!", "?"].contains(t.text[0]) { return .no }
        let type = PyText.string(t.typeNoSentencePeriod)
        if t.firstUpper && PunktEnglish.starters.contains(type) { return .yes }
        if t.firstLower { return .no }
        return .unknown
    }
}

/// The parts of nltk's English Punkt model that the splitter uses (from `punkt_tab/english`).
enum PunktEnglish {
    static func words(_ s: String) -> Set<String> { Set(s.split(separator: " ").map(String.init)) }

    /// `abbrev_types.txt` (156 types; `. . ` is one of them in the model and cannot match a token).
    static let abbreviations = words(
        """
        a.a a.c a.d a.g a.h a.m a.m.e a.s a.t adm ala ariz aug ave b.f b.v bros c c.i.t c.o.m.b c.v calif \
        chg cie co col colo conn corp cos ct d d.c d.h d.w dec dr e e.f e.h e.l e.m f f.g f.j feb fla fri ft \
        g g.d g.f g.k ga gen h h.c h.f h.m i.m.s ill inc j.b j.c j.j j.k j.p j.r jan jr k kan ky l l.a l.f l.p \
        lt ltd m m.b.a m.d.c m.j maj messrs mg mich minn mr mrs ms n n.c n.d n.h n.j n.m n.v n.y nev nov oct \
        ok okla ore p p.a.m p.m pa ph.d prof r r.a r.h r.i r.j r.k r.t rep reps s s.a s.a.y s.c s.g s.p.a s.s \
        sen sep sept sr st sw t t.j tenn tues u.k u.n u.s u.s.a u.s.s.r v va vs vt w w.c w.r w.va w.w wash \
        wed wis yr
        """)

    /// `sent_starters.txt`.
    static let sentenceStarters = words(
        """
        according although among both but despite even he however i if in indeed instead it many \
        meanwhile moreover most nevertheless nonetheless nor sales separately similarly since so some \
        the there these they this though thus under when while yet
        """)

    /// `collocations.tab`, each pair joined by a space.
    static let collocations: Set<String> = {
        var pairs = words(
            """
            abreast aes business cbot colgate commodities cooper corrections credit dividend financing \
            genentech henley insider international leisure letters notable pay-fone pegasus pepper review \
            rj wedgestone who zimmer
            """
        ).map { "##number## " + $0 }
        pairs += ["b edelman", "b levine", "b smith", "b stewart", "b wigton", "i magnin", "i toussie",
                  "j aron", "j fialka", "j walter", "o ludcke"]
        return Set(pairs)
    }()

    /// Common words that the English model saw in lowercase and never capitalized mid-sentence: a
    /// capitalized one after an abbreviation starts a sentence.
    static let starters = words(
        """
        able above along already always anyone anything behind better between beyond body car different \
        does door early eight eye fact finally girl guy her here him hour hundred idea important into kid \
        lets minute moment morning mother note nothing number okay person please problem program question \
        result right same seven so someone sometimes sorry still such teacher team ten thank thanks them \
        therefore things think though thousand through thus tomorrow towards unless upon us very were \
        whether which whole within without yes yesterday yet your
        """)

    /// Common words that the English model saw in lowercase but also capitalized mid-sentence.
    static let lowercase = words(
        """
        a about across after again against air all also although among an and another any are area around \
        art as at back bad be because been before below best big book both business but by can case certain \
        change city clear come community company could day did do down during each education end even \
        evening every everyone everything face father few first five for force four free from full further \
        game get give go good government great group had hand hard has have he head health high his history \
        home house how however human if in information is it its job just kind know large last late law let \
        level life like line little local long look made make many may maybe me members might million money \
        month more most much must my name near never new next night nine no nobody not now of off office \
        often old on once one only open or other others our out over own parent part party people perhaps \
        place point power president public real reason research room said say school second see she should \
        side since six small some something story sure system take than that the their then there these \
        they thing third this those three time to today too toward two under until up use want war was \
        water way we week well what when where while who why will with word work world would year years \
        you young
        """)

    /// Whether the model's orthographic context has a lowercase occurrence of `type` (approximated).
    static func seenLowercase(_ type: String) -> Bool { starters.contains(type) || lowercase.contains(type) }
}
