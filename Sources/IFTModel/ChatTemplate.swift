import IFTCore

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// A value passed to a chat template (Python/JSON-like).
public indirect enum TemplateValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral,
    ExpressibleByFloatLiteral
{
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    /// Keys in order.
    case object([(String, TemplateValue)])

    public init(stringLiteral v: String) { self = .string(v) }
    public init(integerLiteral v: Int) { self = .int(v) }
    public init(floatLiteral v: Double) { self = .double(v) }
    public init(booleanLiteral v: Bool) { self = .bool(v) }
    public init(arrayLiteral v: TemplateValue...) { self = .array(v) }
    public init(dictionaryLiteral v: (String, TemplateValue)...) { self = .object(v) }
    public init(nilLiteral: ()) { self = .none }

    public static func == (a: TemplateValue, b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// A JSON value as a template value.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(TemplateValue.init(json:)))
        case .object(let o): self = .object(o.members.map { ($0.key, TemplateValue(json: $0.value)) })
        }
    }
}

extension ChatMessage {
    var templateValue: TemplateValue { .object([("role", .string(role)), ("content", .string(content))]) }
}

/// A Jinja chat template (`tokenizer.chat_template`, `tokenizer_config.json`'s
/// `chat_template`), parsed once and rendered as Hugging Face transformers'
/// `apply_chat_template(..., tokenize=False)` does: Jinja2 with `trim_blocks` and
/// `lstrip_blocks`, no autoescaping, `raise_exception(message)` available, and `tojson` writing
/// JSON with ", " and ": " separators and non-ASCII characters as they are.
///
/// The Jinja subset: text; `{{ expr }}`; `{# comments #}`; whitespace control `{%-`, `-%}`,
/// `{{-`, `-}}`, `{%+`, `+%}`; statements `for` (with tuple targets, `if` filter, `else`,
/// `loop.index/index0/revindex/revindex0/first/last/length/previtem/nextitem`, `break`,
/// `continue`), `if`/`elif`/`else`, `set` (names, tuples, `ns.attr`, `{% set x %}...{% endset %}`),
/// `macro` (with defaults), `generation` (rendered as its body); expressions with literals
/// (strings, numbers, `true`/`false`/`none` in both cases, lists, dicts, tuples), `.attr`,
/// `[index]`, slices, calls with keyword arguments, filters, tests (`is [not] ...`), `not`,
/// `and`, `or`, `in`, `not in`, comparisons (chained), `+ - * / // % **`, `~`, and
/// `a if b else c`; the usual filters, tests, string/list/dict methods and the globals `range`,
/// `namespace`, `dict` and `raise_exception`. Anything else is an error naming its offset in the
/// template, at parse time where possible.
public struct ChatTemplate: Sendable {
    public let source: String
    /// A name for error messages (e.g. the file the template came from).
    public let name: String
    let nodes: [TemplateNode]
    let locator: TemplateLocator

    public init(source: String, name: String = "chat template") throws {
        self.source = source
        self.name = name
        let normalized = TemplateLexer.normalizeNewlines(source)
        locator = TemplateLocator(source: normalized, name: name)
        let segments = try TemplateLexer(source: normalized, locator: locator).segments()
        var parser = TemplateParser(segments: segments, locator: locator)
        nodes = try parser.parseTemplate()
    }

    /// Renders a conversation: the template sees `messages` (a list of {role, content}),
    /// `add_generation_prompt`, `bos_token`, `eos_token`, and any extra `variables`.
    public func render(
        messages: [ChatMessage], addGenerationPrompt: Bool = false, bosToken: String = "", eosToken: String = "",
        variables: [String: TemplateValue] = [:]
    ) throws -> String {
        var context = variables
        context["messages"] = .array(messages.map(\.templateValue))
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        context["bos_token"] = .string(bosToken)
        context["eos_token"] = .string(eosToken)
        return try render(context: context)
    }

    /// Renders with exactly these top-level variables.
    public func render(context: [String: TemplateValue]) throws -> String {
        var interpreter = TemplateInterpreter(locator: locator)
        for (k, v) in context { interpreter.globals[k] = JValue(v) }
        return try interpreter.render(nodes)
    }
}

/// Turns template offsets into error locations.
struct TemplateLocator: Sendable {
    let source: String
    let name: String

    func location(_ offset: Int) -> String {
        var line = 1
        var col = 1
        for (i, ch) in source.utf8.enumerated() {
            if i >= offset { break }
            if ch == 0x0A {
                line += 1
                col = 1
            } else if ch & 0xC0 != 0x80 {
                col += 1
            }
        }
        return "offset \(offset) (line \(line), column \(col))"
    }

    func error(_ offset: Int, _ message: String) -> IFTError {
        .file(path: name, location: location(offset), message: message)
    }
}
