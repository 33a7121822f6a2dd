/// Accuracies over a set of results in one mode, as the official `print_report` computes them.
public struct IFEvalScores: Sendable, Equatable {
    /// How many were scored and how many followed.
    public struct Tally: Sendable, Equatable {
        public var count = 0
        public var followed = 0
        public init(count: Int = 0, followed: Int = 0) {
            self.count = count
            self.followed = followed
        }
        /// `followed / count` (0 when nothing was scored).
        public var accuracy: Double { count == 0 ? 0 : Double(followed) / Double(count) }

        mutating func add(_ ok: Bool) {
            count += 1
            if ok { followed += 1 }
        }
    }

    /// Prompt level: a prompt counts when it follows all its instructions.
    public var prompts = Tally()
    /// Instruction level: every instruction of every prompt.
    public var instructions = Tally()
    /// Per instruction id (`keywords:frequency`, ...): the official report's second table.
    public var byInstruction: [String: Tally] = [:]
    /// Per category (the id before `:`, `keywords`, ...): the official report's first table.
    public var byCategory: [String: Tally] = [:]

    public init(_ results: [IFEvalResult]) {
        for r in results {
            prompts.add(r.followsAll)
            for (id, ok) in zip(r.instructionIDs, r.followed) {
                instructions.add(ok)
                byInstruction[id, default: Tally()].add(ok)
                let category = id.split(separator: ":", maxSplits: 1).first.map(String.init) ?? id
                byCategory[category, default: Tally()].add(ok)
            }
        }
    }
}

/// One row of the per-instruction table: both modes side by side.
public struct IFEvalTableRow: Sendable, Equatable {
    public let instructionID: String
    public let count: Int
    public let strictAccuracy: Double
    public let looseAccuracy: Double
}

/// Strict and loose results of a run, their accuracies, and the prompts that had no response.
public struct IFEvalReport: Sendable {
    public let strict: [IFEvalResult]
    public let loose: [IFEvalResult]
    public let strictScores: IFEvalScores
    public let looseScores: IFEvalScores
    public let unanswered: [IFEvalPrompt]

    public init(strict: [IFEvalResult], loose: [IFEvalResult], unanswered: [IFEvalPrompt] = []) {
        self.strict = strict
        self.loose = loose
        self.unanswered = unanswered
        strictScores = IFEvalScores(strict)
        looseScores = IFEvalScores(loose)
    }

    public func scores(_ mode: IFEvalMode) -> IFEvalScores { mode == .strict ? strictScores : looseScores }

    /// One row per instruction id that occurs, sorted by id.
    public func instructionTable() -> [IFEvalTableRow] {
        strictScores.byInstruction.keys.sorted().map { id in
            let s = strictScores.byInstruction[id] ?? .init(), l = looseScores.byInstruction[id] ?? .init()
            return IFEvalTableRow(instructionID: id, count: s.count, strictAccuracy: s.accuracy, looseAccuracy: l.accuracy)
        }
    }

    /// The accuracies and the per-instruction table as text.
    public func summary() -> String {
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, n - s.count))
            return left ? fill + s : s + fill
        }
        var out = "IFEval: \(strict.count) prompts scored"
        out += unanswered.isEmpty ? "\n" : ", \(unanswered.count) prompt(s) without a response\n"
        out += pad("", 22) + pad("strict", 8, left: true) + pad("loose", 8, left: true) + "\n"
        out += pad("prompt-level", 22) + pad(Self.format(strictScores.prompts.accuracy), 8, left: true)
            + pad(Self.format(looseScores.prompts.accuracy), 8, left: true) + "\n"
        out += pad("instruction-level", 22) + pad(Self.format(strictScores.instructions.accuracy), 8, left: true)
            + pad(Self.format(looseScores.instructions.accuracy), 8, left: true) + "\n\n"
        out += pad("instruction", 48) + pad("count", 6, left: true) + pad("strict", 8, left: true) + pad("loose", 8, left: true) + "\n"
        for row in instructionTable() {
            out += pad(row.instructionID, 48) + pad(String(row.count), 6, left: true)
                + pad(Self.format(row.strictAccuracy), 8, left: true) + pad(Self.format(row.looseAccuracy), 8, left: true) + "\n"
        }
        return out
    }

    /// `x` with four decimals (no Foundation formatting).
    static func format(_ x: Double) -> String {
        let scaled = Int((x * 10000).rounded())
        let whole = scaled / 10000, frac = String(scaled % 10000)
        return "\(whole)." + String(repeating: "0", count: 4 - frac.count) + frac
    }
}
