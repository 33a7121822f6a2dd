import IFTCore
import IFTModel

/// Magpie (Xu et al., 2024): an aligned model given only its chat template's pre-query part
/// (`PreQueryTemplate`, e.g. `<|im_start|>user\n`) writes a user's instruction by itself, decoded
/// until its end-of-turn token; the instruction is then fed back in the full template for the
/// response. With `turns` > 1 the next user message comes from the pre-query after the
/// conversation so far. Instructions and responses have their own sampling settings.
public struct Magpie: SynthMethod {
    public struct Settings: Sendable {
        public var system: String?
        public var turns = 1
        public var instructionSampling = SamplingOptions(temperature: 1.0, topP: 1.0)
        public var responseSampling = SamplingOptions(temperature: 0.7, topP: 0.9)
        public var maxInstructionTokens = 128
        public var maxResponseTokens = 512
        public init() {}
    }

    public let name = "magpie"
    public var settings: Settings
    public let template: ChatTemplateRenderer
    public let seed: UInt64
    /// The first turn's pre-query (checked at creation: the template yields one).
    public let preQuery: PreQueryTemplate

    public init(template: ChatTemplateRenderer, settings: Settings, seed: UInt64) throws {
        self.template = template
        self.settings = settings
        self.seed = seed
        preQuery = try PreQueryTemplate(template: template, system: settings.system)
    }

    public func prime(_ filter: inout QualityFilter) {}
    public mutating func accepted(_ row: SynthRow) {}

    public mutating func candidates(
        attempts: Range<Int>, generator: TextGenerator, filter: QualityFilter, onProgress: (Int, Int) -> Void
    ) throws -> [Candidate] {
        let ids = Array(attempts)
        var histories = [[ChatMessage]](repeating: [], count: ids.count)
        var failed = [String?](repeating: nil, count: ids.count)
        for turn in 0..<max(1, settings.turns) {
            // The user's message, from the pre-query after the conversation so far.
            let alive = ids.indices.filter { failed[$0] == nil }
            var requests: [SynthRequest] = []
            for i in alive {
                let pre = turn == 0 ? preQuery : try PreQueryTemplate(template: template, system: settings.system, history: histories[i])
                var sampling = settings.instructionSampling
                sampling.seed = SynthSeeds.stage(SynthSeeds.attempt(seed, ids[i]), 2 * turn)
                requests.append(SynthRequest(
                    prompt: .text(pre.prefix), maxTokens: settings.maxInstructionTokens, sampling: sampling,
                    stop: pre.endOfUserTurn.isEmpty ? [] : [pre.endOfUserTurn]))
            }
            let instructions = try generator.generate(requests) { onProgress($0, requests.count) }
            for (k, i) in alive.enumerated() {
                switch instructions[k] {
                case .failure: failed[i] = "generation failed"
                case .success(let c):
                    let text = c.text.trimmingWhitespace()
                    if !c.finished { failed[i] = "instruction without end of turn" } else if text.isEmpty { failed[i] = "empty" } else {
                        histories[i].append(.user(text))
                        if turn == 0, let why = filter.instructionRejection(text) { failed[i] = why }
                    }
                }
            }
            // The assistant's answer, in the full template.
            let answering = ids.indices.filter { failed[$0] == nil }
            let answers = try generator.generate(answering.map { i in
                var sampling = settings.responseSampling
                sampling.seed = SynthSeeds.stage(SynthSeeds.attempt(seed, ids[i]), 2 * turn + 1)
                let messages = (settings.system.map { [ChatMessage.system($0)] } ?? []) + histories[i]
                return SynthRequest(prompt: .chat(messages, assistantPrefix: ""), maxTokens: settings.maxResponseTokens, sampling: sampling)
            }) { onProgress($0, answering.count) }
            for (k, i) in answering.enumerated() {
                switch answers[k] {
                case .failure: failed[i] = "generation failed"
                case .success(let c):
                    if !c.finished { failed[i] = "truncated response" } else { histories[i].append(.assistant(c.text.trimmingWhitespace())) }
                }
            }
        }
        return ids.indices.map { i in
            if let why = failed[i] { return .failure(Rejection(why)) }
            let h = histories[i]
            return .success(SynthRow(
                instruction: h[0].content, output: h[1].content, moreTurns: Array(h.dropFirst(2)), system: settings.system,
                provenance: provenance(attempt: ids[i], generator: generator)))
        }
    }

    func provenance(attempt: Int, generator: TextGenerator) -> JSONObject {
        var o = JSONObject([
            ("generator", .string(generator.name)), ("method", .string(name)), ("seed", .int(Int(truncatingIfNeeded: SynthSeeds.attempt(seed, attempt)))),
            ("attempt", .int(attempt)),
            ("sampling", .object(JSONObject([
                ("instruction", samplingJSON(settings.instructionSampling, maxTokens: settings.maxInstructionTokens)),
                ("response", samplingJSON(settings.responseSampling, maxTokens: settings.maxResponseTokens)),
            ]))),
            ("pre_query", .string(preQuery.prefix)),
        ])
        if settings.turns > 1 { o["turns"] = .int(settings.turns) }
        if let s = settings.system { o["system"] = .string(s) }
        return o
    }
}
