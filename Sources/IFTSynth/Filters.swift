import IFTCore
import IFTEval

/// Counts of rejected candidates by reason, in the order reasons first occurred.
public struct RejectionCounts: Sendable, Equatable, CustomStringConvertible {
    public private(set) var reasons: [(reason: String, count: Int)] = []

    public init() {}

    public mutating func add(_ reason: String, _ n: Int = 1) {
        if let i = reasons.firstIndex(where: { $0.reason == reason }) { reasons[i].count += n } else { reasons.append((reason, n)) }
    }

    public subscript(_ reason: String) -> Int { reasons.first { $0.reason == reason }?.count ?? 0 }
    public var total: Int { reasons.reduce(0) { $0 + $1.count } }
    public var description: String { reasons.isEmpty ? "none" : reasons.map { "\($0.reason) \($0.count)" }.joined(separator: ", ") }

    public static func == (a: RejectionCounts, b: RejectionCounts) -> Bool {
        a.reasons.count == b.reasons.count && zip(a.reasons, b.reasons).allSatisfy { $0 == $1 }
    }
}

/// Phrases that mark a refusal or a model talking about itself instead of answering.
public enum Refusals {
    public static let phrases = [
        "i'm sorry", "i am sorry", "i apologize", "i cannot", "i can't", "i can not", "i'm unable", "i am unable",
        "i'm not able to", "i am not able to", "as an ai", "as a language model", "as an artificial intelligence",
        "i won't be able", "i do not have the ability", "i don't have the ability",
    ]

    /// Whether a sentence in the first 300 characters of `text` starts with a refusal phrase
    /// (case-insensitive; "Since it is raining, I cannot go" or a quoted "I am sorry" is none).
    public static func isRefusal(_ text: String) -> Bool {
        let head = String(text.prefix(300)).lowercased().replacingApostrophes()
        var starts = [head.startIndex]
        var i = head.startIndex
        while i < head.endIndex {
            let c = head[i]
            i = head.index(after: i)
            if c == "." || c == "!" || c == "?" || c == "\n" {
                var j = i
                while j < head.endIndex, head[j] == " " || head[j] == "\n" { j = head.index(after: j) }
                starts.append(j)
            }
        }
        return starts.contains { s in
            var t = head[s...]
            // "Sorry, ..." and "Unfortunately, I cannot ..." open a refusal too.
            for opener in ["sorry, ", "unfortunately, ", "but "] where t.hasPrefix(opener) {
                if opener == "sorry, " { return true }
                t = t.dropFirst(opener.count)
            }
            return phrases.contains { t.hasPrefix($0) }
        }
    }
}

extension String {
    /// Typographic apostrophes as ASCII ones.
    func replacingApostrophes() -> String { String(map { $0 == "\u{2019}" || $0 == "\u{2018}" ? "'" : $0 }) }
}

/// The filters every generation method shares, with the pools duplicates are found in. A
/// candidate is checked in order: empty, too short, too long, non-text (markup of a chat
/// template, control characters, or too few letters), refusal, exact duplicate (same instruction
/// and input after lowercasing and collapsing whitespace), similar instruction (ROUGE-L F1 with a
/// pooled instruction above `maxROUGEL`, Self-Instruct's 0.7), near duplicate (MinHash estimated
/// Jaccard of word 3-grams at least `minHashThreshold`). Accepted rows join the pools.
public struct QualityFilter {
    public struct Settings: Sendable {
        public var minInstructionWords = 3
        public var maxInstructionChars = 2000
        public var minOutputWords = 1
        public var maxOutputChars = 8000
        public var maxROUGEL = 0.7
        public var minHashThreshold = 0.8
        public var dropRefusals = true
        /// Compare instructions only with those of the same input (from-text: many tasks on one
        /// passage; the same task on another passage is no duplicate).
        public var groupByInput = false
        public init() {}
    }

    public var settings: Settings
    private var exact = Set<String>()
    private var rouge: [String: ROUGELPool] = [:]
    private var minHash: [String: MinHashIndex] = [:]

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Instructions in the pools (seed tasks and rows already accepted).
    public var pooled: Int { rouge.values.reduce(0) { $0 + $1.count } }

    func group(_ input: String) -> String { settings.groupByInput ? input : "" }
    func minHashText(_ instruction: String, _ input: String) -> String {
        settings.groupByInput || input.isEmpty ? instruction : instruction + "\n" + input
    }

    /// Lowercased, whitespace collapsed.
    public static func normalized(_ s: String) -> String {
        s.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    public static func wordCount<S: StringProtocol>(_ s: S) -> Int { s.split(whereSeparator: { $0.isWhitespace }).count }

    /// Markup a chat template writes (a leaked special token means the model wrote a turn header).
    static let markup = ["<|im_start|>", "<|im_end|>", "<|eot_id|>", "<|start_header_id|>", "<start_of_turn>", "<end_of_turn>", "[INST]", "[/INST]", "<|endoftext|>", "<|user|>", "<|assistant|>"]

    /// Why `text` is not natural-language text, or nil.
    static func nonText(_ text: String) -> Bool {
        if markup.contains(where: { text.contains($0) }) { return true }
        var letters = 0, others = 0
        for u in text.unicodeScalars {
            if u == "\u{FFFD}" || (u.properties.generalCategory == .control && u != "\n" && u != "\t" && u != "\r") { return true }
            if u.properties.isWhitespace { continue }
            if u.properties.isAlphabetic { letters += 1 } else { others += 1 }
        }
        return letters + others > 0 && Double(letters) < 0.4 * Double(letters + others)
    }

    /// The reason to reject `row` against the rows pooled so far, or nil.
    public func rejection(_ row: SynthRow) -> String? {
        let texts = [row.instruction, row.output] + row.moreTurns.map(\.content)
        if texts.contains(where: { $0.trimmingWhitespace().isEmpty }) { return "empty" }
        if Self.wordCount(row.instruction) < settings.minInstructionWords || texts.dropFirst().contains(where: { Self.wordCount($0) < settings.minOutputWords }) {
            return "too short"
        }
        if row.promptText.count > settings.maxInstructionChars || texts.dropFirst().contains(where: { $0.count > settings.maxOutputChars }) {
            return "too long"
        }
        if Self.nonText(row.instruction) || (texts + [row.input]).contains(where: { t in Self.markup.contains { t.contains($0) } }) {
            return "non-text"
        }
        if settings.dropRefusals, texts.dropFirst().contains(where: Refusals.isRefusal) { return "refusal" }
        if exact.contains(Self.normalized(row.promptText)) { return "exact duplicate" }
        let g = group(row.input)
        if let b = rouge[g]?.best(row.instruction), b.f1 > settings.maxROUGEL { return "similar instruction (ROUGE-L)" }
        if minHash[g]?.nearest(minHashText(row.instruction, row.input)) != nil { return "near duplicate (MinHash)" }
        return nil
    }

    /// Adds an instruction (and its input) to the pools, e.g. a seed task or an accepted row.
    public mutating func pool(instruction: String, input: String = "") {
        let prompt = input.isEmpty ? instruction : instruction + "\n" + input
        exact.insert(Self.normalized(prompt))
        let g = group(input)
        rouge[g, default: ROUGELPool()].add(instruction)
        minHash[g, default: MinHashIndex(threshold: settings.minHashThreshold)].add(minHashText(instruction, input))
    }

    /// Checks `row`; pools it when accepted. Returns the rejection reason, nil when accepted.
    public mutating func admit(_ row: SynthRow) -> String? {
        if let why = rejection(row) { return why }
        pool(instruction: row.instruction, input: row.input)
        return nil
    }
}

extension QualityFilter {
    /// The checks of `rejection` that need only an instruction (too short, too long, non-text,
    /// duplicates), to drop it before its answer is generated.
    public func instructionRejection(_ instruction: String, input: String = "") -> String? {
        rejection(SynthRow(instruction: instruction, input: input, output: "placeholder answer"))
    }
}
