/// The language of a response, standing in for `langdetect.detect`, which the official checkers
/// call for `language:response_language` (expected code from the prompt's kwargs) and for
/// `change_case:english_capital` / `english_lowercase` (expected `en`).
///
/// langdetect scores character n-grams against 55 language profiles (and, unseeded, is not even
/// deterministic on short or mixed text). Those profiles are not embedded. This detector is built
/// to be right on the languages IFEval asks for — ar bg bn de fa fi gu hi it kn ko mr ne pa pt ru
/// sw ta te th ur vi, and en — and on their usual neighbours:
///
/// 1. Letters are counted by script; the script with the most letters decides (a few English words
///    inside a Hindi answer leave it Hindi, as langdetect's majority of n-grams does). As in
///    langdetect, letters after the first of an ALL-CAPS word do not count.
/// 2. A script used by one language names it: Bengali → bn, Gurmukhi → pa, Gujarati → gu,
///    Tamil → ta, Telugu → te, Kannada → kn, Malayalam → ml, Thai → th, Hangul → ko, Greek → el,
///    Hebrew → he, kana → ja, Han without kana → zh-cn.
/// 3. Scripts shared by several languages are split by letters and function words: Devanagari
///    (hi / mr / ne), Arabic (ar / fa / ur: ے ں ٹ ڈ ڑ ہ ھ are Urdu, پ چ ژ گ ک ی Persian or Urdu,
///    ة ي ك ى أ إ Arabic), Cyrillic (ru / bg / uk: ы э ё Russian, і ї є ґ Ukrainian, and function
///    words), Latin (en de fr es pt it nl fi sw vi pl tr id sv by function words, ties to the first;
///    Vietnamese also by its tone-marked vowels).
///
/// **Deviations.** On ALL-CAPS Latin text langdetect sees only word-initial letters and often
/// answers another language (so `english_capital` fails more often officially than here); on
/// text mixing scripts or Latin languages, its n-gram likelihoods can pick another language than
/// the majority rule and function words here.
///
/// Returns nil where langdetect raises `LangDetectException` ("No features in text"): no letters
/// after URLs and e-mail addresses are removed. The official checkers count that as followed.
public enum IFEvalLanguage {
    public static func detect(_ text: String) -> String? {
        let s = removeLinks(PyText.scalars(text))
        // langdetect takes no n-grams inside an all-capital word (from its second capital on), so
        // an upper-case English line weighs little against a line in another script.
        var counts: [Script: Int] = [:]
        var previousUpper = false
        for c in s {
            let upper = PyText.isUpper(c)
            defer { previousUpper = upper }
            if upper && previousUpper { continue }
            if let script = Script(c) { counts[script, default: 0] += 1 }
        }
        guard let (script, _) = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) })
        else { return nil }
        switch script {
        case .latin: return latin(s)
        case .cyrillic: return cyrillic(s)
        case .arabic: return arabic(s)
        case .devanagari: return devanagari(s)
        case .han: return (counts[.kana] ?? 0) > 0 ? "ja" : "zh-cn"
        case .kana: return "ja"
        case .bengali: return "bn"
        case .gurmukhi: return "pa"
        case .gujarati: return "gu"
        case .tamil: return "ta"
        case .telugu: return "te"
        case .kannada: return "kn"
        case .malayalam: return "ml"
        case .thai: return "th"
        case .hangul: return "ko"
        case .greek: return "el"
        case .hebrew: return "he"
        }
    }

    enum Script: Int, CaseIterable {
        case latin, cyrillic, greek, arabic, hebrew, devanagari, bengali, gurmukhi, gujarati, tamil, telugu,
            kannada, malayalam, thai, hangul, kana, han

        init?(_ c: Unicode.Scalar) {
            let v = c.value
            switch v {
            case 0x41...0x5A, 0x61...0x7A: self = .latin
            case 0xC0...0x24F, 0x1E00...0x1EFF:
                guard PyText.isAlpha(c) else { return nil }
                self = .latin
            case 0x370...0x3FF, 0x1F00...0x1FFF: self = .greek
            case 0x400...0x52F: self = .cyrillic
            case 0x590...0x5FF: self = .hebrew
            case 0x600...0x6FF, 0x750...0x77F, 0xFB50...0xFDFF, 0xFE70...0xFEFF:
                guard PyText.isAlpha(c) else { return nil }
                self = .arabic
            case 0x900...0x97F: self = .devanagari
            case 0x980...0x9FF: self = .bengali
            case 0xA00...0xA7F: self = .gurmukhi
            case 0xA80...0xAFF: self = .gujarati
            case 0xB80...0xBFF: self = .tamil
            case 0xC00...0xC7F: self = .telugu
            case 0xC80...0xCFF: self = .kannada
            case 0xD00...0xD7F: self = .malayalam
            case 0xE00...0xE7F: self = .thai
            case 0x1100...0x11FF, 0x3130...0x318F, 0xAC00...0xD7AF: self = .hangul
            case 0x3040...0x30FF: self = .kana
            case 0x4E00...0x9FFF, 0x3400...0x4DBF: self = .han
            default: return nil
            }
            // Digits and punctuation inside these blocks are not letters.
            if PyText.isDecimal(c) { return nil }
        }
    }

    /// langdetect's preprocessing: URLs and e-mail addresses are blanked.
    static func removeLinks(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        func isURLChar(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (PyText.isWord(c) || "-_.?&~;+=/#".unicodeScalars.contains(c))
        }
        var out: [Unicode.Scalar] = []
        var i = 0
        while i < s.count {
            if s[i] == "h", PyText.hasPrefix(Array(s[i...].prefix(8)), PyText.scalars("http://"))
                || PyText.hasPrefix(Array(s[i...].prefix(8)), PyText.scalars("https://"))
            {
                var j = i + (s[i + 4] == "s" ? 8 : 7)
                while j < s.count, isURLChar(s[j]) { j += 1 }
                out.append(" ")
                i = j
                continue
            }
            if s[i] == "@" {
                // Drop the address: the local part already copied, and the domain.
                while let last = out.last, last.isASCII, PyText.isWord(last) || last == "-" || last == "." { out.removeLast() }
                var j = i + 1
                while j < s.count, s[j].isASCII, PyText.isWord(s[j]) || s[j] == "-" || s[j] == "." { j += 1 }
                out.append(" ")
                i = j
                continue
            }
            out.append(s[i])
            i += 1
        }
        return out
    }

    /// Lowercased words: runs of letters and combining marks.
    static func words(_ s: [Unicode.Scalar]) -> [String] {
        var out: [String] = []
        var current: [Unicode.Scalar] = []
        for c in PyText.lower(s) {
            let cat = c.properties.generalCategory
            if PyText.isAlpha(c) || cat == .nonspacingMark || cat == .spacingMark || c == "'" || c == "\u{2019}" {
                current.append(c)
            } else if !current.isEmpty {
                out.append(PyText.string(current))
                current = []
            }
        }
        if !current.isEmpty { out.append(PyText.string(current)) }
        return out
    }

    static func lexicon(_ s: String) -> Set<String> { Set(s.split(separator: " ").map(String.init)) }

    /// The language whose function words occur most often (ties: the first listed).
    static func best(_ words: [String], _ candidates: [(String, Set<String>)], bonus: [String: Int] = [:]) -> String? {
        var best: (String, Int)?
        for (code, lexicon) in candidates {
            let score = words.reduce(0) { $0 + (lexicon.contains($1) ? 1 : 0) } + (bonus[code] ?? 0)
            if score > 0, score > (best?.1 ?? 0) { best = (code, score) }
        }
        return best?.0
    }

    static let latinLexicons: [(String, Set<String>)] = [
        ("en", lexicon("a the and of to in is that it for was on are with as be this by have not you at from or which an but they his her we can will has were their would there what all been one if more when about so some them these than its also into only other who do may such our how your out i my me")),
        ("de", lexicon("der die das und ist nicht ein eine zu den von mit sich des auf für im dem es auch als an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis mehr durch man ich wir ihr")),
        ("fr", lexicon("le la les de des et est un une du en que qui dans pour pas sur au ce il elle sont avec plus par ne se nous vous mais ou son sa ses leur été être aux cette")),
        ("es", lexicon("el la los las de del y en que es un una por con para no se su al lo como más pero sus le ya o este esta también entre cuando muy sin sobre ser hay")),
        ("pt", lexicon("o a os as de do da dos das e em que é um uma para com não no na por mais se seu sua ao como mas foi são ele ela isso também pelo pela nos entre você")),
        ("it", lexicon("il lo la i gli le di del della dei e è un una per con non che in da al alla sono come più anche ma si questo questa nel nella ha essere sul degli delle")),
        ("nl", lexicon("de het een en van in is dat op te zijn met voor niet aan er die maar ook als bij door om dan nog wordt worden naar hij ze we")),
        ("fi", lexicon("ja on ei se että hän oli ovat kun mutta tai myös joka jos niin kuin tämä sen hänen ole olla mitä minä sinä me he ne vain sekä kanssa voi")),
        ("sw", lexicon("na ya wa kwa ni za la katika kuwa hii ambayo au lakini pia kama cha yake wake hiyo hivyo sana kwamba baada watu mtu kila wao sisi")),
        ("vi", lexicon("của và là có trong được cho không những với các một người này đã để khi từ như theo cũng nhưng đến tôi bạn rất")),
        ("pl", lexicon("i w nie na się z do że jest to o jak a co tak po ale od są być jego przez dla czy tylko")),
        ("tr", lexicon("ve bir bu da de için ile çok daha olan gibi ne ama en o mi değil var olarak kadar sonra")),
        ("id", lexicon("yang dan di ke dari ini itu dengan untuk tidak ada dalam akan pada juga saya kami mereka atau")),
        ("sv", lexicon("och att det som en är på av för med till den inte har de om ett men jag var sig")),
    ]

    static func latin(_ s: [Unicode.Scalar]) -> String {
        var vietnamese = 0
        for c in s {
            switch c.value {
            case 0x1EA0...0x1EF9, 0x1A1, 0x1A0, 0x1B0, 0x1AF, 0x111, 0x110, 0x103, 0x102: vietnamese += 1
            default: break
            }
        }
        let w = words(s)
        if let code = best(w, latinLexicons, bonus: ["vi": vietnamese / 3]) { return code }
        let letters = Set(PyText.lower(s))
        for (marks, code) in [("ß", "de"), ("ñ", "es"), ("ãõ", "pt"), ("äö", "de"), ("àèìòù", "it"), ("éêç", "fr")]
        where marks.unicodeScalars.contains(where: letters.contains) {
            return code
        }
        return "en"
    }

    static func cyrillic(_ s: [Unicode.Scalar]) -> String {
        var russian = 0, ukrainian = 0, bulgarian = 0
        for c in PyText.lower(s) {
            switch c {
            case "ы", "э", "ё": russian += 1
            case "і", "ї", "є", "ґ": ukrainian += 2
            case "ъ": bulgarian += 1
            default: break
            }
        }
        let lexicons: [(String, Set<String>)] = [
            ("ru", lexicon("и в не на что с это как по он она но к у из за то все так же от его для было мы вы они я")),
            ("bg", lexicon("на и е за да се от с не са което това като но при по той тя тези които във със ще бъде")),
            ("uk", lexicon("і в на що не з як це та до й його для але від ми ви вони")),
        ]
        return best(words(s), lexicons, bonus: ["ru": russian, "uk": ukrainian, "bg": bulgarian]) ?? "ru"
    }

    static func arabic(_ s: [Unicode.Scalar]) -> String {
        var urdu = 0, persian = 0, arabic = 0
        for c in s {
            switch c.value {
            case 0x6D2, 0x6BA, 0x679, 0x688, 0x691, 0x6C1, 0x6BE, 0x6D3: urdu += 2
            case 0x67E, 0x686, 0x698, 0x6AF, 0x6A9, 0x6CC: persian += 1
            case 0x629, 0x64A, 0x643, 0x649, 0x623, 0x625: arabic += 1
            default: break
            }
        }
        let lexicons: [(String, Set<String>)] = [
            ("ar", lexicon("في من على أن إلى عن هذا هذه التي الذي مع كان ما لا هو هي")),
            ("fa", lexicon("و در به از که این را با است آن برای یک تا می شود هم بود")),
            ("ur", lexicon("کے میں کی ہے اور کو سے یہ ایک پر نے ہیں کہ بھی")),
        ]
        return best(words(s), lexicons, bonus: ["ur": urdu, "fa": persian, "ar": arabic]) ?? "ar"
    }

    static func devanagari(_ s: [Unicode.Scalar]) -> String {
        let lexicons: [(String, Set<String>)] = [
            ("hi", lexicon("है के में की और से को का हैं यह एक पर भी कि नहीं था लिए इस तो जो कर ही हो गया रहा साथ वह आप")),
            ("mr", lexicon("आहे आणि या हे ते च्या मध्ये आहेत नाही व होते करण्यासाठी त्यांच्या हा ही तर पण म्हणून त्या आपण करा")),
            ("ne", lexicon("छ र मा हो गर्न छन् पनि यो भएको लागि हुन्छ थियो गरेको छैन तथा भने उनी हुने गरी")),
        ]
        return best(words(s), lexicons) ?? "hi"
    }
}
