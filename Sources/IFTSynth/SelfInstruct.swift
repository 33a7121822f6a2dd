import IFTCore
import IFTEval
import IFTModel

/// A seed task of Self-Instruct's `seed_tasks.jsonl` (Alpaca's 175): an instruction, instances
/// with input and output, and whether it is a classification task.
public struct SeedTask: Sendable, Equatable {
    public var id: String
    public var instruction: String
    public var input: String
    public var output: String
    public var isClassification: Bool

    public init(id: String, instruction: String, input: String, output: String, isClassification: Bool) {
        self.id = id
        self.instruction = instruction
        self.input = input
        self.output = output
        self.isClassification = isClassification
    }

    /// Every task of a seed file (JSON lines with `id`, `instruction`, `instances` [{`input`,
    /// `output`}] and `is_classification`); its first instance is used. Errors name the file and line.
    public static func load(_ path: String) throws -> [SeedTask] {
        let rows = try JSONLines.read(path: path)
        guard !rows.isEmpty else { throw IFTError.file(path: path, location: "line 1", message: "no seed tasks in the file") }
        return try rows.map { line, o in
            func fail(_ m: String) -> IFTError { .file(path: path, location: "line \(line)", message: m) }
            guard let instruction = o["instruction"]?.stringValue else { throw fail("expected a string field 'instruction'") }
            guard let first = o["instances"]?.arrayValue?.first, let output = first["output"]?.stringValue else {
                throw fail("expected 'instances': a list of objects with 'input' and 'output' (at least one)")
            }
            return SeedTask(
                id: o["id"]?.stringValue ?? "line \(line)", instruction: instruction, input: first["input"]?.stringValue ?? "",
                output: output, isClassification: o["is_classification"]?.boolValue ?? false)
        }
    }
}

/// Self-Instruct (Wang et al., 2023), as Alpaca used it: each attempt shows the model a numbered
/// list of 8 tasks (6 sampled seed tasks and 2 sampled generated ones, once there are some) and
/// lets it write the 9th; asks whether the new task is a classification task (few-shot with seed
/// tasks); then writes an instance: input then output for generation tasks, output (the class
/// label) first then input for classification tasks. Instructions whose ROUGE-L F1 with any
/// seed or generated instruction exceeds 0.7 are dropped (`QualityFilter`).
public struct SelfInstruct: SynthMethod {
    public struct Settings: Sendable {
        public var sampling = SamplingOptions(temperature: 0.7, topP: 0.95)
        public var maxInstructionTokens = 96
        public var maxInstanceTokens = 384
        public var seedExamples = 6
        public var generatedExamples = 2
        public init() {}
    }

    public let name = "self-instruct"
    public var settings: Settings
    public let seeds: [SeedTask]
    public let seed: UInt64
    /// Instructions generated so far (for the few-shot lists).
    public private(set) var generated: [String] = []

    public init(seeds: [SeedTask], settings: Settings, seed: UInt64) throws {
        guard seeds.count >= 2 else { throw IFTError.invalidArgument("Self-Instruct needs at least 2 seed tasks, got \(seeds.count)") }
        self.seeds = seeds
        self.settings = settings
        self.seed = seed
    }

    public func prime(_ filter: inout QualityFilter) {
        for s in seeds { filter.pool(instruction: s.instruction) }
    }

    public mutating func accepted(_ row: SynthRow) { generated.append(row.instruction) }

    /// The few-shot task list of one attempt (the seed task ids it used, and the prompt).
    func taskListPrompt(_ rng: inout SeededGenerator) -> (ids: [String], prompt: SynthPrompt) {
        var picked = Array(seeds.indices.shuffled(using: &rng).prefix(settings.seedExamples))
        let fromGenerated = Array(generated.indices.shuffled(using: &rng).prefix(settings.generatedExamples))
        var lines = picked.map { seeds[$0].instruction } + fromGenerated.map { generated[$0] }
        lines.shuffle(using: &rng)
        picked.sort()
        let list = lines.enumerated().map { "\($0.offset + 1). \(Self.oneLine($0.element))" }.joined(separator: "\n")
        return (
            picked.map { seeds[$0].id },
            .chat([.user("Come up with a series of \(lines.count + 1) diverse tasks that a user could ask an AI assistant to do. Write one task per line.")],
                assistantPrefix: list + "\n\(lines.count + 1).")
        )
    }

    /// The classification question, few-shot with two seed tasks of each kind.
    func classificationPrompt(_ instruction: String, _ rng: inout SeededGenerator) -> SynthPrompt {
        let yes = seeds.filter(\.isClassification).shuffled(using: &rng).prefix(2)
        let no = seeds.filter { !$0.isClassification }.shuffled(using: &rng).prefix(2)
        var shots = (yes.map { ($0.instruction, "Yes") } + no.map { ($0.instruction, "No") })
        shots.shuffle(using: &rng)
        var text = "Can the following task be regarded as a classification task with finite output labels?\n\n"
        for (t, a) in shots { text += "Task: \(Self.oneLine(t))\nIs it classification? \(a)\n\n" }
        return .chat([.user(text + "Task: \(Self.oneLine(instruction))\nIs it classification?")], assistantPrefix: "")
    }

    /// The instance prompt: two seed examples of the same kind, then the task; output-first for
    /// classification.
    func instancePrompt(_ instruction: String, classification: Bool, _ rng: inout SeededGenerator) -> SynthPrompt {
        let shots = seeds.filter { $0.isClassification == classification }.shuffled(using: &rng).prefix(2)
        var text = classification
            ? "Given the classification task definition and the class labels, generate an input that corresponds to each of the class labels. If the task doesn't require input, just generate the correct class label.\n\n"
            : "Come up with an example for the following task. If the task doesn't require additional input, write \"Input: None\" and the output directly.\n\n"
        for s in shots { text += Self.instance(s.instruction, input: s.input, output: s.output, classification: classification) + "\n\n" }
        text += "Task: \(Self.oneLine(instruction))"
        return .chat([.user(text)], assistantPrefix: classification ? "Class label:" : "Input:")
    }

    static func instance(_ instruction: String, input: String, output: String, classification: Bool) -> String {
        let i = input.isEmpty ? "None" : input
        return classification
            ? "Task: \(oneLine(instruction))\nClass label: \(output)\nInput: \(i)"
            : "Task: \(oneLine(instruction))\nInput: \(i)\nOutput: \(output)"
    }

    static func oneLine(_ s: String) -> String { s.split(whereSeparator: \.isNewline).joined(separator: " ") }

    /// Input and output from an instance reply (which continues after "Input:" or "Class label:").
    static func parseInstance(_ reply: String, classification: Bool) -> (input: String, output: String)? {
        let second = classification ? "Input:" : "Output:"
        guard let r = reply.firstRange(of: "\n" + second) ?? reply.firstRange(of: second) else { return nil }
        let first = reply[..<r.lowerBound].trimmingWhitespace()
        let rest = reply[r.upperBound...].trimmingWhitespace()
        var input = classification ? rest : first
        let output = classification ? first : rest
        if ["none", "n/a", "<noinput>", "no input", "-", ""].contains(input.lowercased().trimmingCharacters(".")) { input = "" }
        guard !output.isEmpty else { return nil }
        return (input, output)
    }

    public mutating func candidates(
        attempts: Range<Int>, generator: TextGenerator, filter: QualityFilter, onProgress: (Int, Int) -> Void
    ) throws -> [Candidate] {
        let ids = Array(attempts)
        var rngs = ids.map { SeededGenerator(seed: SynthSeeds.stage(SynthSeeds.attempt(seed, $0), 100)) }
        func sampling(_ i: Int, _ stage: Int) -> SamplingOptions {
            var s = settings.sampling
            s.seed = SynthSeeds.stage(SynthSeeds.attempt(seed, ids[i]), stage)
            return s
        }
        var failed = [String?](repeating: nil, count: ids.count)
        var instructions = [String](repeating: "", count: ids.count)
        var used = [[String]](repeating: [], count: ids.count)
        // 1. A new task after the few-shot list: one line.
        var requests: [SynthRequest] = []
        for i in ids.indices {
            let (seedIDs, prompt) = taskListPrompt(&rngs[i])
            used[i] = seedIDs
            requests.append(SynthRequest(prompt: prompt, maxTokens: settings.maxInstructionTokens, sampling: sampling(i, 0), stop: ["\n"]))
        }
        for (i, r) in try generator.generate(requests, onDone: { onProgress($0, requests.count) }).enumerated() {
            switch r {
            case .failure: failed[i] = "generation failed"
            case .success(let c):
                let text = c.text.trimmingWhitespace()
                if !c.finished { failed[i] = "instruction without end of line" } else if let why = filter.instructionRejection(text) {
                    failed[i] = why
                } else { instructions[i] = text }
            }
        }
        // 2. Classification or not.
        var alive = ids.indices.filter { failed[$0] == nil }
        var classification = [Bool](repeating: false, count: ids.count)
        let kinds = try generator.generate(alive.map { i in
            var s = sampling(i, 1)
            s.temperature = 0
            return SynthRequest(prompt: classificationPrompt(instructions[i], &rngs[i]), maxTokens: 4, sampling: s)
        }) { onProgress($0, alive.count) }
        for (k, i) in alive.enumerated() {
            if case .success(let c) = kinds[k] { classification[i] = c.text.trimmingWhitespace().lowercased().hasPrefix("yes") }
        }
        // 3. An instance.
        let instances = try generator.generate(alive.map { i in
            SynthRequest(
                prompt: instancePrompt(instructions[i], classification: classification[i], &rngs[i]), maxTokens: settings.maxInstanceTokens,
                sampling: sampling(i, 2), stop: ["\nTask:", "\n\n\n"])
        }) { onProgress($0, alive.count) }
        var parsed = [(input: String, output: String)](repeating: ("", ""), count: ids.count)
        for (k, i) in alive.enumerated() {
            switch instances[k] {
            case .failure: failed[i] = "generation failed"
            case .success(let c):
                if !c.finished { failed[i] = "truncated response" } else if let p = Self.parseInstance(c.text, classification: classification[i]) {
                    parsed[i] = p
                } else { failed[i] = "unparsable instance" }
            }
        }
        alive = ids.indices.filter { failed[$0] == nil }
        return ids.indices.map { i in
            if let why = failed[i] { return .failure(Rejection(why)) }
            let provenance = JSONObject([
                ("generator", .string(generator.name)), ("method", .string(name)),
                ("seed", .int(Int(truncatingIfNeeded: SynthSeeds.attempt(seed, ids[i])))), ("attempt", .int(ids[i])),
                ("sampling", samplingJSON(settings.sampling, maxTokens: settings.maxInstanceTokens)),
                ("is_classification", .bool(classification[i])), ("seed_tasks", .array(used[i].map(JSONValue.string))),
            ])
            return .success(SynthRow(instruction: instructions[i], input: parsed[i].input, output: parsed[i].output, provenance: provenance))
        }
    }
}

extension StringProtocol {
    /// Without these characters (and whitespace) at either end.
    func trimmingCharacters(_ set: String) -> String {
        var t = Substring(self)
        while let f = t.first, f.isWhitespace || set.contains(f) { t.removeFirst() }
        while let l = t.last, l.isWhitespace || set.contains(l) { t.removeLast() }
        return String(t)
    }
}
