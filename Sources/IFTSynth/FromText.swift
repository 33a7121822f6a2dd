import IFTCore
import IFTModel

/// Bonito-style generation (Nayak et al., 2024) from unannotated text: each attempt pairs a chunk
/// of the text with a task type; the model writes a task grounded in the chunk and its answer,
/// and the row becomes (instruction, input: the chunk, output). Labels that can be fixed in
/// advance are (yes/no, entailment/neutral/contradiction, chosen per attempt so they come out
/// balanced): the model writes a question or statement with that answer. Extractive answers must
/// occur in the chunk.
public struct FromText: SynthMethod {
    public enum TaskType: String, Sendable, CaseIterable {
        case extractiveQA = "extractive-qa"
        case yesNoQA = "yes-no-qa"
        case summarization
        case nli
        case title
    }

    public struct Settings: Sendable {
        public var taskTypes: [TaskType] = TaskType.allCases
        public var sampling = SamplingOptions(temperature: 0.7, topP: 0.95)
        public var maxTokens = 160
        public init() {}
    }

    /// A chunk of text and the `file:line` it starts on.
    public struct Chunk: Sendable, Equatable {
        public var text: String
        public var source: String
    }

    public let name = "from-text"
    public var settings: Settings
    public let chunks: [Chunk]
    public let seed: UInt64

    public init(chunks: [Chunk], settings: Settings, seed: UInt64) throws {
        guard !chunks.isEmpty else { throw IFTError.invalidArgument("from-text: no text to generate from") }
        guard !settings.taskTypes.isEmpty else { throw IFTError.invalidArgument("from-text: no task types") }
        self.chunks = chunks
        self.settings = settings
        self.seed = seed
    }

    /// Chunks of the `.txt` and `.md` files under `directory` (or of one file): paragraphs
    /// (blank-line separated) joined until a chunk reaches `words` words; a longer paragraph is a
    /// chunk of its own.
    public static func chunks(path: String, words: Int = 120) throws -> [Chunk] {
        let files: [String]
        if FileSystem.isDirectory(path) {
            files = FileSystem.list(path).filter { $0.hasSuffix(".txt") || $0.hasSuffix(".md") }.sorted().map { path + "/" + $0 }
            guard !files.isEmpty else { throw IFTError.file(path: path, location: "directory", message: "no .txt or .md files in it") }
        } else {
            files = [path]
        }
        var out: [Chunk] = []
        for f in files {
            let lines = try FileSystem.readText(f).split(separator: "\n", omittingEmptySubsequences: false)
            var current: [String] = []
            var count = 0
            var startLine = 1
            func flush() {
                if count >= max(8, words / 4) { out.append(Chunk(text: current.joined(separator: "\n\n"), source: "\(f):\(startLine)")) }
                current = []
                count = 0
            }
            var paragraph: [Substring] = []
            var paragraphLine = 1
            for (n, line) in lines.enumerated() {
                if line.trimmingWhitespace().isEmpty {
                    if !paragraph.isEmpty {
                        if current.isEmpty { startLine = paragraphLine }
                        current.append(paragraph.joined(separator: " "))
                        count += paragraph.reduce(0) { $0 + QualityFilter.wordCount($1) }
                        paragraph = []
                        if count >= words { flush() }
                    }
                } else {
                    if paragraph.isEmpty { paragraphLine = n + 1 }
                    paragraph.append(line)
                }
            }
            if !paragraph.isEmpty {
                if current.isEmpty { startLine = paragraphLine }
                current.append(paragraph.joined(separator: " "))
                count += paragraph.reduce(0) { $0 + QualityFilter.wordCount($1) }
            }
            flush()
        }
        guard !out.isEmpty else { throw IFTError.file(path: path, location: "text", message: "no paragraph of at least \(max(8, words / 4)) words") }
        return out
    }

    public func prime(_ filter: inout QualityFilter) {}
    public mutating func accepted(_ row: SynthRow) {}

    static let nliLabels = ["entailment", "neutral", "contradiction"]

    /// The generation prompt of a task type for a chunk, with the fixed label (if any).
    func prompt(_ type: TaskType, chunk: String, choice: Int) -> (prompt: SynthPrompt, label: String?) {
        let passage = "Passage:\n\(chunk)\n\n"
        switch type {
        case .extractiveQA:
            return (.chat([.user(passage + "Write a question about the passage whose answer is a short phrase copied exactly from the passage. Then give that answer.")], assistantPrefix: "Question:"), nil)
        case .yesNoQA:
            let yes = choice % 2 == 0
            return (.chat([.user(passage + "Write a question about the passage that can be answered with \"\(yes ? "Yes" : "No")\" according to the passage.")], assistantPrefix: "Question:"), yes ? "Yes" : "No")
        case .summarization:
            return (.chat([.user(passage + "Summarize the passage in one or two sentences.")], assistantPrefix: "Summary:"), nil)
        case .nli:
            let label = Self.nliLabels[choice % 3]
            let how = ["that is true according to the passage", "that the passage neither confirms nor contradicts", "that the passage contradicts"][choice % 3]
            return (.chat([.user(passage + "Write one statement \(how).")], assistantPrefix: "Statement:"), label)
        case .title:
            return (.chat([.user(passage + "Write a short title for the passage.")], assistantPrefix: "Title:"), nil)
        }
    }

    /// The row of a reply, or why there is none.
    func row(_ type: TaskType, chunk: String, reply: String, label: String?) -> Result<(instruction: String, output: String), Rejection> {
        let text = reply.trimmingWhitespace()
        switch type {
        case .extractiveQA:
            guard let r = text.firstRange(of: "Answer:") else { return .failure(Rejection("unparsable")) }
            let question = text[..<r.lowerBound].trimmingWhitespace()
            let answer = text[r.upperBound...].trimmingWhitespace().trimmingCharacters("\"'")
            guard !question.isEmpty, !answer.isEmpty else { return .failure(Rejection("unparsable")) }
            guard QualityFilter.normalized(chunk).contains(QualityFilter.normalized(answer).trimmingCharacters(".")) else {
                return .failure(Rejection("answer not in text"))
            }
            return .success(("Answer the question using a phrase from the passage.\nQuestion: \(question)", answer))
        case .yesNoQA:
            let question = Self.firstLine(text)
            guard question.hasSuffix("?") else { return .failure(Rejection("unparsable")) }
            return .success(("Answer the question about the passage with Yes or No.\nQuestion: \(question)", label ?? ""))
        case .summarization:
            guard QualityFilter.wordCount(text) >= 5 else { return .failure(Rejection("unparsable")) }
            return .success(("Summarize the passage in one or two sentences.", text))
        case .nli:
            let statement = Self.firstLine(text)
            guard QualityFilter.wordCount(statement) >= 3 else { return .failure(Rejection("unparsable")) }
            return .success((
                "Does the passage support the statement? Answer entailment, neutral or contradiction.\nStatement: \(statement)", label ?? ""
            ))
        case .title:
            let title = Self.firstLine(text).trimmingCharacters("\"'*#")
            return .success(("Write a short title for the passage.", title))
        }
    }

    /// The first non-blank line, trimmed.
    static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").map { $0.trimmingWhitespace() }.first { !$0.isEmpty } ?? ""
    }

    public mutating func candidates(
        attempts: Range<Int>, generator: TextGenerator, filter: QualityFilter, onProgress: (Int, Int) -> Void
    ) throws -> [Candidate] {
        let ids = Array(attempts)
        let types = settings.taskTypes
        let plan = ids.map { a in (type: types[a % types.count], chunk: (a / types.count) % chunks.count, choice: a / (types.count * chunks.count) + a) }
        var labels: [String?] = []
        var requests: [SynthRequest] = []
        for (k, p) in plan.enumerated() {
            let (prompt, label) = self.prompt(p.type, chunk: chunks[p.chunk].text, choice: p.choice)
            labels.append(label)
            var s = settings.sampling
            s.seed = SynthSeeds.stage(SynthSeeds.attempt(seed, ids[k]), 0)
            let stop = p.type == .extractiveQA ? ["\n\n"] : ["\n"]
            requests.append(SynthRequest(prompt: prompt, maxTokens: settings.maxTokens, sampling: s, stop: stop))
        }
        let replies = try generator.generate(requests) { onProgress($0, requests.count) }
        return plan.enumerated().map { k, p in
            guard case .success(let c) = replies[k] else { return .failure(Rejection("generation failed")) }
            guard c.finished else { return .failure(Rejection("truncated response")) }
            let chunk = chunks[p.chunk]
            return row(p.type, chunk: chunk.text, reply: c.text, label: labels[k]).map { r in
                SynthRow(
                    instruction: r.instruction, input: chunk.text, output: r.output,
                    provenance: JSONObject([
                        ("generator", .string(generator.name)), ("method", .string(name)),
                        ("seed", .int(Int(truncatingIfNeeded: SynthSeeds.attempt(seed, ids[k])))), ("attempt", .int(ids[k])),
                        ("sampling", samplingJSON(settings.sampling, maxTokens: settings.maxTokens)),
                        ("task_type", .string(p.type.rawValue)), ("source", .string(chunk.source)),
                    ]))
            }
        }
    }
}
