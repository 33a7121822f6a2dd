import IFTCore
import IFTModel

/// Magpie's pre-query template, taken from a model's own chat template (no per-model table): the
/// conversation so far is rendered with one more user message holding a unique sentinel, and the
/// text before the sentinel is the pre-query (for ChatML `...<|im_start|>user\n`, for Llama 3
/// `...<|start_header_id|>user<|end_header_id|>\n\n`, for Gemma `...<start_of_turn>user\n`, for
/// Mistral `<s>[INST] `). What follows the sentinel up to the next line break (`<|im_end|>`,
/// `<|eot_id|>`, `<end_of_turn>`, ` [/INST]`) closes the user's turn: it becomes a stop string,
/// for templates whose end of turn is plain text rather than a special token.
public struct PreQueryTemplate: Sendable, Equatable {
    /// The text the model continues with a user's message.
    public var prefix: String
    /// The text that ends the user's turn right after the message (trimmed; may be empty).
    public var endOfUserTurn: String

    static let sentinel = "QQSENTINEL7731ZZ"

    /// The pre-query after `history` (empty for the first turn; then alternating user and
    /// assistant messages), after an optional system message.
    public init(template: ChatTemplateRenderer, system: String? = nil, history: [ChatMessage] = []) throws {
        var messages: [ChatMessage] = []
        if let system { messages.append(.system(system)) }
        messages += history
        messages.append(.user(Self.sentinel))
        let rendered = try template.render(messages, addGenerationPrompt: false)
        let hits = rendered.ranges(of: Self.sentinel)
        guard hits.count == 1, let hit = hits.first else {
            throw IFTError.invalidArgument(
                "\(template.template.name): the rendered conversation shows the user's message \(hits.count) times, not once; "
                    + "cannot derive Magpie's pre-query template from it")
        }
        prefix = String(rendered[..<hit.lowerBound])
        let after = rendered[hit.upperBound...]
        let line = after.prefix { $0 != "\n" }
        endOfUserTurn = line.trimmingWhitespace()
        guard !prefix.trimmingWhitespace().isEmpty else {
            throw IFTError.invalidArgument("\(template.template.name): nothing precedes the user's message; the template has no pre-query part")
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace (spaces, tabs, line breaks).
    func trimmingWhitespace() -> String {
        var t = Substring(self)
        while let f = t.first, f.isWhitespace { t.removeFirst() }
        while let l = t.last, l.isWhitespace { t.removeLast() }
        return String(t)
    }
}
