import IFTCore
import IFTModel

/// A piece of a rendered example: prompt text (not learned when instructions are masked) or
/// response text (always learned). Segments are tokenized separately so masks fall exactly on
/// token boundaries.
public struct Segment: Sendable, Equatable {
    public var text: String
    public var isResponse: Bool

    public init(_ text: String, isResponse: Bool) {
        self.text = text
        self.isResponse = isResponse
    }

    public static func prompt(_ text: String) -> Segment { Segment(text, isResponse: false) }
    public static func response(_ text: String) -> Segment { Segment(text, isResponse: true) }
}

/// How examples become text.
///
/// Instruction rows render as one user turn (instruction, then the input if any) and one
/// assistant turn; chat rows render every turn, and every assistant turn is a response segment
/// that includes the style's turn-end marker. Prompt/completion rows are raw (prompt, completion)
/// and plain text is one response segment, in every style.
public enum PromptStyle: Sendable {
    /// *Build a Large Language Model From Scratch*, ch. 7: the Alpaca preamble, `### Instruction:`,
    /// `### Input:` (when there is one) and `### Response:` sections.
    case alpaca
    /// Phi-3: `<|user|>\n{instruction}[\n{input}]<|end|>\n<|assistant|>\n{response}<|end|>\n`
    /// (system turns as `<|system|>\n...<|end|>\n`).
    case phi3
    /// ChatML: `<|im_start|>{role}\n{content}<|im_end|>\n` per turn.
    case chatml
    /// The model's own chat template (a Jinja `ChatTemplate`), with its BOS/EOS token texts.
    case model(ChatTemplate, bosToken: String, eosToken: String)

    /// `model` from a tokenizer's embedded chat template.
    public static func model(of tokenizer: Tokenizer) throws -> PromptStyle {
        guard let source = tokenizer.chatTemplate else {
            throw IFTError.invalidArgument("the tokenizer (\(tokenizer.source)) has no chat template; use --prompt-style alpaca, phi3 or chatml")
        }
        let bos = tokenizer.bosID.flatMap { tokenizer.token(forID: $0) } ?? ""
        let eos = tokenizer.eosID.flatMap { tokenizer.token(forID: $0) } ?? ""
        return .model(try ChatTemplate(source: source, name: "\(tokenizer.source) chat template"), bosToken: bos, eosToken: eos)
    }

    /// The style called `name` (`alpaca`, `phi3`, `chatml`, or `model`: `tokenizer`'s chat template).
    public static func named(_ name: String, tokenizer: Tokenizer) throws -> PromptStyle {
        switch name {
        case "alpaca": return .alpaca
        case "phi3": return .phi3
        case "chatml": return .chatml
        case "model": return try .model(of: tokenizer)
        default: throw IFTError.invalidArgument("unknown prompt style '\(name)'; choose alpaca, phi3, chatml or model")
        }
    }

    public var name: String {
        switch self {
        case .alpaca: return "alpaca"
        case .phi3: return "phi3"
        case .chatml: return "chatml"
        case .model: return "model"
        }
    }

    /// The segments of one example, in order; concatenated they are the full training text.
    public func render(_ content: ExampleContent) throws -> [Segment] {
        switch content {
        case .text(let t):
            return [.response(t)]
        case .completion(let p, let c):
            return p.isEmpty ? [.response(c)] : [.prompt(p), .response(c)]
        case .instruction(let instruction, let input, let output):
            if case .alpaca = self {
                return [.prompt(AlpacaPrompt.prompt(instruction: instruction, input: input)), .response(output)]
            }
            let user = input.isEmpty ? instruction : instruction + "\n" + input
            return try renderChat([.user(user), .assistant(output)])
        case .chat(let messages):
            return try renderChat(messages)
        }
    }

    /// The prompt alone (for generation/evaluation): the text a model continues with its response.
    public func prompt(for content: ExampleContent) throws -> String {
        let segments = try render(content)
        guard let last = segments.lastIndex(where: \.isResponse) else { return segments.map(\.text).joined() }
        return segments[..<last].map(\.text).joined()
    }

    func renderChat(_ messages: [ChatMessage]) throws -> [Segment] {
        switch self {
        case .alpaca:
            var out: [Segment] = []
            var preamble = AlpacaPrompt.preamble
            var first = true
            for m in messages {
                switch m.role {
                case "system": preamble = m.content
                case "user":
                    let header = first ? preamble + "\n\n" : "\n\n"
                    out.append(.prompt(header + "### Instruction:\n" + m.content + "\n\n### Response:\n"))
                    first = false
                default: out.append(.response(m.content))
                }
            }
            return merged(out)
        case .phi3:
            return merged(messages.flatMap { m -> [Segment] in
                m.role == "assistant"
                    ? [.prompt("<|assistant|>\n"), .response(m.content + "<|end|>\n")]
                    : [.prompt("<|\(m.role)|>\n" + m.content + "<|end|>\n")]
            })
        case .chatml:
            return merged(messages.flatMap { m -> [Segment] in
                m.role == "assistant"
                    ? [.prompt("<|im_start|>assistant\n"), .response(m.content + "<|im_end|>\n")]
                    : [.prompt("<|im_start|>\(m.role)\n" + m.content + "<|im_end|>\n")]
            })
        case .model(let template, let bos, let eos):
            return try Self.renderWithTemplate(template, messages, bos: bos, eos: eos)
        }
    }

    /// Splits a chat template's rendering into prompt and response segments by rendering growing
    /// prefixes of the conversation: before assistant turn i with the generation prompt, then
    /// through it. The template must render incrementally (each rendering a prefix of the next).
    static func renderWithTemplate(_ t: ChatTemplate, _ messages: [ChatMessage], bos: String, eos: String) throws -> [Segment] {
        var out: [Segment] = []
        var done = ""
        for (i, m) in messages.enumerated() where m.role == "assistant" {
            let before = try t.render(messages: Array(messages[..<i]), addGenerationPrompt: true, bosToken: bos, eosToken: eos)
            let through = try t.render(messages: Array(messages[...i]), addGenerationPrompt: false, bosToken: bos, eosToken: eos)
            // Byte-wise prefixes (`hasPrefix` compares characters, and "\r" + "\n" is one).
            guard before.utf8.starts(with: done.utf8), through.utf8.starts(with: before.utf8) else {
                throw IFTError.invalidArgument(
                    "the chat template '\(t.name)' does not render conversations incrementally (turn \(i) changes "
                        + "earlier text), so response tokens cannot be told apart; use --prompt-style chatml or alpaca")
            }
            out.append(.prompt(String(decoding: before.utf8.dropFirst(done.utf8.count), as: UTF8.self)))
            out.append(.response(String(decoding: through.utf8.dropFirst(before.utf8.count), as: UTF8.self)))
            done = through
        }
        return mergedSegments(out)
    }

    /// Joins neighbouring segments of the same kind and drops empty ones.
    static func mergedSegments(_ s: [Segment]) -> [Segment] {
        var out: [Segment] = []
        for seg in s where !seg.text.isEmpty {
            if let last = out.last, last.isResponse == seg.isResponse {
                out[out.count - 1].text += seg.text
            } else {
                out.append(seg)
            }
        }
        return out
    }

    func merged(_ s: [Segment]) -> [Segment] { Self.mergedSegments(s) }
}
