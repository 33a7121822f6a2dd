import IFTCore
import IFTData
import IFTEval
import IFTModel

/// Prompts of an evaluation set, for contamination checks.
public struct EvalPrompts: Sendable {
    public var name: String
    public var prompts: [String]

    public init(name: String, prompts: [String]) {
        self.name = name
        self.prompts = prompts
    }

    /// IFEval's `input_data.jsonl` (`prompt`), MT-Bench's `question.jsonl` (every turn of
    /// `turns`), HumanEval's `HumanEval.jsonl(.gz)` (`prompt`).
    public static func ifeval(_ path: String) throws -> EvalPrompts {
        EvalPrompts(name: "IFEval", prompts: try JSONLines.read(path: path).map { try JSONLines.string("prompt", of: $0.object, path: path, line: $0.line) })
    }

    public static func mtBench(_ path: String) throws -> EvalPrompts {
        EvalPrompts(name: "MT-Bench", prompts: try JSONLines.read(path: path).flatMap { line, o -> [String] in
            guard let turns = o["turns"]?.arrayValue?.compactMap(\.stringValue), !turns.isEmpty else {
                throw IFTError.file(path: path, location: "\(line)", message: "expected 'turns': a list of strings")
            }
            return turns
        })
    }

    public static func humanEval(_ path: String) throws -> EvalPrompts {
        EvalPrompts(name: "HumanEval", prompts: try JSONLines.read(path: path).map { try JSONLines.string("prompt", of: $0.object, path: path, line: $0.line) })
    }
}

/// Data quality of an instruction dataset, generated or not: exact and near duplicates, overlap
/// between the train/validation/test splits (85/10/5 in file order, as `ift-gpu train` splits),
/// contamination with evaluation prompts (a shared word n-gram, or the whole prompt when it is
/// shorter), empty/very short/very long responses, refusals, and the mix of task types and
/// languages. `keep` lists the rows a cleaned file keeps: the first of each group of exact
/// duplicates and of near duplicates with the same response (so a validation or test row that
/// repeats a training row goes), without empty responses, refusals and contaminated rows.
public struct QualityReport {
    public struct Settings: Sendable {
        public var nearThreshold = 0.8
        /// Words per n-gram of the contamination check.
        public var contaminationNGram = 8
        public var shortResponseWords = 2
        public var longResponseChars = 4000
        public init() {}
    }

    /// A row's prompt (instruction and input, the user turns, the prompt) and response.
    public struct Row: Sendable {
        public var prompt: String
        public var response: String
        public var instruction: String
    }

    public let rows: [Row]
    public let settings: Settings
    /// (row, earlier row it repeats).
    public private(set) var exactDuplicates: [(row: Int, of: Int)] = []
    public private(set) var nearDuplicates: [(row: Int, of: Int, similarity: Double)] = []
    /// Per split pair ("validation-train", "test-train", "validation-test"): rows of the first
    /// split whose prompt repeats (exactly or nearly) one of the second.
    public private(set) var splitOverlap: [(pair: String, rows: Int)] = []
    /// (row, evaluation set, prompt index).
    public private(set) var contamination: [(row: Int, set: String, prompt: Int)] = []
    public private(set) var emptyResponses: [Int] = []
    public private(set) var shortResponses: [Int] = []
    public private(set) var longResponses: [Int] = []
    public private(set) var refusals: [Int] = []
    public private(set) var taskTypes: [(String, Int)] = []
    public private(set) var languages: [(String, Int)] = []

    public static func row(_ e: Example) -> Row {
        switch e.content {
        case .instruction(let i, let input, let output):
            return Row(prompt: input.isEmpty ? i : i + "\n" + input, response: output, instruction: i)
        case .chat(let m):
            let user = m.filter { $0.role == "user" }.map(\.content)
            return Row(prompt: user.joined(separator: "\n"), response: m.filter { $0.role == "assistant" }.map(\.content).joined(separator: "\n"), instruction: user.first ?? "")
        case .completion(let p, let c): return Row(prompt: p, response: c, instruction: p)
        case .text(let t): return Row(prompt: t, response: "", instruction: String(t.prefix(200)))
        }
    }

    public init(examples: [Example], evalSets: [EvalPrompts] = [], settings: Settings = Settings()) {
        rows = examples.map(Self.row)
        self.settings = settings
        // Duplicates, in file order: each row against the rows before it.
        var firstOf: [String: Int] = [:]
        var index = MinHashIndex(threshold: settings.nearThreshold)
        var signatures: [[UInt64]] = []
        var duplicateOf = [Int?](repeating: nil, count: rows.count)
        for (i, r) in rows.enumerated() {
            let key = QualityFilter.normalized(r.prompt)
            let sig = index.signature(r.prompt)
            signatures.append(sig)
            if let j = firstOf[key] {
                exactDuplicates.append((i, j))
                duplicateOf[i] = j
            } else if let near = index.nearest(signature: sig) {
                nearDuplicates.append((i, near.index, near.similarity))
                // Templated tasks differ in a word of the prompt ("Is 197 prime?" / "Is 191
                // prime?"): only a near duplicate with the same response is dropped when cleaning.
                if QualityFilter.normalized(r.response) == QualityFilter.normalized(rows[near.index].response) { duplicateOf[i] = near.index }
            }
            if firstOf[key] == nil { firstOf[key] = i }
            index.add(signature: sig)
        }
        // Split overlap: rows of one split repeating one of another.
        let splits = DatasetSplits(Array(rows.indices))
        func overlap(_ a: [Int], _ b: [Int]) -> Int {
            let keys = Set(b.map { QualityFilter.normalized(rows[$0].prompt) })
            var idx = MinHashIndex(threshold: settings.nearThreshold)
            for j in b { idx.add(signature: signatures[j]) }
            return a.filter { keys.contains(QualityFilter.normalized(rows[$0].prompt)) || idx.nearest(signature: signatures[$0]) != nil }.count
        }
        splitOverlap = [
            ("validation-train", overlap(splits.validation, splits.train)), ("test-train", overlap(splits.test, splits.train)),
            ("validation-test", overlap(splits.validation, splits.test)),
        ]
        contamination = Self.contamination(rows.map(\.prompt), evalSets: evalSets, n: settings.contaminationNGram)
        for (i, r) in rows.enumerated() {
            let words = QualityFilter.wordCount(r.response)
            if r.response.trimmingWhitespace().isEmpty { emptyResponses.append(i) } else if words < settings.shortResponseWords { shortResponses.append(i) }
            if r.response.count > settings.longResponseChars { longResponses.append(i) }
            if Refusals.isRefusal(r.response) { refusals.append(i) }
        }
        taskTypes = Self.counts(rows.map { TaskTypes.classify($0.instruction) })
        languages = Self.counts(rows.map { IFEvalLanguage.detect($0.prompt + "\n" + $0.response) ?? "unknown" })
        let dropped = Set(contamination.map(\.row)).union(emptyResponses).union(refusals)
        keep = rows.indices.filter { duplicateOf[$0] == nil && !dropped.contains($0) }
    }

    /// Rows a cleaned file keeps, in order.
    public private(set) var keep: [Int] = []

    /// Near duplicates whose response is also the same (dropped when cleaning).
    public var nearDuplicatesWithSameResponse: Int {
        nearDuplicates.filter { QualityFilter.normalized(rows[$0.row].response) == QualityFilter.normalized(rows[$0.of].response) }.count
    }

    static func counts(_ labels: [String]) -> [(String, Int)] {
        var c: [String: Int] = [:]
        for l in labels { c[l, default: 0] += 1 }
        return c.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Rows sharing a word n-gram (rouge-score's tokens) with an evaluation prompt, or equal to a
    /// whole prompt shorter than n words.
    static func contamination(_ prompts: [String], evalSets: [EvalPrompts], n: Int) -> [(row: Int, set: String, prompt: Int)] {
        var grams: [String: (set: String, prompt: Int)] = [:]
        for s in evalSets {
            for (k, p) in s.prompts.enumerated() {
                let t = ReferenceMetrics.rougeTokens(p)
                if t.count < n {
                    if !t.isEmpty { grams[t.joined(separator: " ")] = grams[t.joined(separator: " ")] ?? (s.name, k) }
                } else {
                    for i in 0...(t.count - n) {
                        let g = t[i..<(i + n)].joined(separator: " ")
                        if grams[g] == nil { grams[g] = (s.name, k) }
                    }
                }
            }
        }
        guard !grams.isEmpty else { return [] }
        var out: [(row: Int, set: String, prompt: Int)] = []
        for (i, p) in prompts.enumerated() {
            let t = ReferenceMetrics.rougeTokens(p)
            var hit = t.isEmpty ? nil : grams[t.joined(separator: " ")]
            if hit == nil, t.count >= n {
                for j in 0...(t.count - n) {
                    if let h = grams[t[j..<(j + n)].joined(separator: " ")] {
                        hit = h
                        break
                    }
                }
            }
            if let hit { out.append((i, hit.set, hit.prompt)) }
        }
        return out
    }
}

/// A rough task type from an instruction's wording (for the mix in the quality report).
public enum TaskTypes {
    public static func classify(_ instruction: String) -> String {
        let s = instruction.lowercased()
        let words = ReferenceMetrics.rougeTokens(s)
        let first = words.first ?? ""
        let firstTwo = words.prefix(2).joined(separator: " ")
        func has(_ list: [String]) -> Bool { list.contains { words.contains($0) } }
        if has(["python", "javascript", "sql", "function", "code", "program", "algorithm", "java", "regex"]) { return "code" }
        if ["classify", "categorize", "label"].contains(first) || firstTwo == "identify whether" || s.contains("sentiment") { return "classification" }
        if ["summarize", "summarise"].contains(first) || s.contains("summary") { return "summarization" }
        if ["rewrite", "paraphrase", "rephrase", "convert", "translate", "edit", "correct", "change", "transform", "revise"].contains(first) { return "rewriting" }
        if ["calculate", "compute", "solve", "add", "subtract", "multiply", "divide"].contains(first) || has(["equation", "sum", "product"]) { return "math" }
        if ["extract", "list", "name", "find", "identify", "give"].contains(first) { return "extraction/listing" }
        if ["write", "compose", "create", "generate", "draft", "design", "describe", "explain", "suggest", "come", "make", "tell"].contains(first) { return "writing/explaining" }
        if ["what", "who", "when", "where", "why", "how", "which", "is", "are", "can", "do", "does", "should", "could", "would"].contains(first) || s.hasSuffix("?") { return "question" }
        return "other"
    }
}

/// Writes examples back as rows (`.json`: a JSON array; otherwise JSON lines), each in its own
/// format's keys (Alpaca, `messages`, `prompt`/`completion`, `text`), atomically.
public enum CleanFile {
    public static func json(_ e: Example) -> JSONValue {
        switch e.content {
        case .instruction(let i, let input, let o):
            return .object(JSONObject([("instruction", .string(i)), ("input", .string(input)), ("output", .string(o))]))
        case .chat(let m):
            return .object(JSONObject([("messages", .array(m.map { .object(JSONObject([("role", .string($0.role)), ("content", .string($0.content))])) }))]))
        case .completion(let p, let c): return .object(JSONObject([("prompt", .string(p)), ("completion", .string(c))]))
        case .text(let t): return .object(JSONObject([("text", .string(t))]))
        }
    }

    public static func write(_ examples: [Example], to path: String) throws {
        var text = ""
        let array = path.lowercased().hasSuffix(".json")
        if array { text = "[\n" }
        for (i, e) in examples.enumerated() {
            if array { text += "  " }
            json(e).write(to: &text)
            text += array ? (i + 1 < examples.count ? ",\n" : "\n") : "\n"
        }
        if array { text += "]\n" }
        try AtomicFileWriter.write(to: path) { try $0.write(Array(text.utf8)) }
    }
}
