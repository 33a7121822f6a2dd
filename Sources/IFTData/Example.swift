import IFTCore
import IFTModel

/// Where an example came from: a file and a 1-based line (the line its row or block starts on).
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int

    public init(path: String, line: Int) {
        self.path = path
        self.line = line
    }

    public var description: String { "\(path):\(line)" }
}

/// One training example, whatever format it was read from.
public enum ExampleContent: Sendable, Equatable {
    /// Alpaca (instruction, input, output) or Dolly (instruction, context, response); `input` may be empty.
    case instruction(instruction: String, input: String, output: String)
    /// A conversation: roles `system`, `user`, `assistant`; every assistant turn is learned.
    case chat([ChatMessage])
    /// A raw prompt and its completion (no template is applied).
    case completion(prompt: String, completion: String)
    /// Plain text: the whole document is learned.
    case text(String)
}

/// An example and the `file:line` it came from.
public struct Example: Sendable, Equatable {
    public var content: ExampleContent
    public var source: SourceLocation

    public init(_ content: ExampleContent, source: SourceLocation) {
        self.content = content
        self.source = source
    }
}

/// The formats `Dataset.load` understands.
public enum DatasetFormat: String, Sendable, CaseIterable {
    /// Decide from the file's extension, its first byte and the keys of its first row.
    case auto
    /// `instruction`, `input` (optional), `output`: a JSON array or JSONL.
    case alpaca
    /// `instruction`, `context` (optional), `response`: a JSON array or JSONL.
    case dolly
    /// `messages`: a list of `{role, content}` per row.
    case chat
    /// `prompt`, `completion`.
    case completion
    /// Plain text: one document per file, or per blank-line-separated block.
    case text
}

/// Which JSON keys hold which field. Defaults follow each format's usual names; set a key to read
/// another (e.g. `output: "answer"`).
public struct FieldMapping: Sendable, Equatable {
    public var instruction: String
    public var input: String
    public var output: String
    public var messages: String
    public var role: String
    public var content: String
    public var prompt: String
    public var completion: String

    public init(
        instruction: String = "instruction", input: String = "input", output: String = "output",
        messages: String = "messages", role: String = "role", content: String = "content",
        prompt: String = "prompt", completion: String = "completion"
    ) {
        self.instruction = instruction
        self.input = input
        self.output = output
        self.messages = messages
        self.role = role
        self.content = content
        self.prompt = prompt
        self.completion = completion
    }

    public static let alpaca = FieldMapping()
    public static let dolly = FieldMapping(input: "context", output: "response")
}

/// How a plain-text file becomes documents.
public enum TextSplit: Sendable, Equatable {
    /// The whole file is one document.
    case file
    /// Blocks separated by one or more blank lines are documents.
    case blankLines
}

/// Options for `Dataset.load`.
public struct LoadOptions: Sendable {
    public var format: DatasetFormat
    /// Overrides the format's default keys (Alpaca/Dolly/chat/completion).
    public var fields: FieldMapping?
    /// Skip (and count) bad rows instead of stopping at the first.
    public var skipInvalid: Bool
    public var textSplit: TextSplit
    /// Most bytes of text one JSON row may hold (4 MiB, about a million tokens: more than any
    /// context): a bigger row is a broken file (a lost line break, a whole file in one field).
    public var maxRowBytes: Int
    /// Appended to the error of a bad row when the load stops at it (the caller's way out, e.g.
    /// "or pass --skip-invalid to skip bad rows").
    public var badRowAdvice: String?

    public init(
        format: DatasetFormat = .auto, fields: FieldMapping? = nil, skipInvalid: Bool = false,
        textSplit: TextSplit = .blankLines, maxRowBytes: Int = 4 << 20, badRowAdvice: String? = nil
    ) {
        self.format = format
        self.fields = fields
        self.skipInvalid = skipInvalid
        self.textSplit = textSplit
        self.maxRowBytes = maxRowBytes
        self.badRowAdvice = badRowAdvice
    }
}

extension ExampleContent {
    /// The UTF-8 bytes of all its text.
    public var textByteCount: Int {
        switch self {
        case .instruction(let i, let input, let o): return i.utf8.count + input.utf8.count + o.utf8.count
        case .chat(let messages): return messages.reduce(0) { $0 + $1.role.utf8.count + $1.content.utf8.count }
        case .completion(let p, let c): return p.utf8.count + c.utf8.count
        case .text(let t): return t.utf8.count
        }
    }
}
