import IFTCore
import IFTEval
import IFTModel

/// One generated example: a conversation (one or more user/assistant turns after an optional
/// system message; single-turn rows also read as Alpaca's instruction/input/output) and where it
/// came from.
public struct SynthRow: Sendable, Equatable {
    public var instruction: String
    /// Alpaca's `input` (context for the instruction); empty when none.
    public var input: String
    public var output: String
    /// Later turns after the first (user, assistant, user, ...), for multi-turn Magpie.
    public var moreTurns: [ChatMessage]
    public var system: String?
    /// Generator, method, seed, sampling settings and method details (task type, seed tasks, text chunk).
    public var provenance: JSONObject

    public init(
        instruction: String, input: String = "", output: String, moreTurns: [ChatMessage] = [], system: String? = nil,
        provenance: JSONObject = JSONObject()
    ) {
        self.instruction = instruction
        self.input = input
        self.output = output
        self.moreTurns = moreTurns
        self.system = system
        self.provenance = provenance
    }

    /// The user's first message: the instruction, then the input after a blank line when there is one.
    public var firstUserMessage: String { input.isEmpty ? instruction : instruction + "\n\n" + input }

    /// The whole conversation.
    public var messages: [ChatMessage] {
        var m: [ChatMessage] = []
        if let system { m.append(.system(system)) }
        return m + [.user(firstUserMessage), .assistant(output)] + moreTurns
    }

    /// The text duplicates are judged on: the instruction and its input.
    public var promptText: String { input.isEmpty ? instruction : instruction + "\n" + input }

    public static func == (a: SynthRow, b: SynthRow) -> Bool {
        a.instruction == b.instruction && a.input == b.input && a.output == b.output && a.moreTurns == b.moreTurns
            && a.system == b.system && a.provenance == b.provenance
    }
}

/// The file generated rows go to: Alpaca (`instruction`, `input`, `output`) as a JSON array
/// (`.json`) or JSON lines (any other name), or chat `messages` as JSON lines; every row carries a
/// `provenance` object. Rewritten atomically after every batch, so an interrupted run leaves a
/// complete file, and read back to resume.
public struct SynthOutput {
    public enum Format: String, Sendable, CaseIterable {
        case alpaca
        case messages
    }

    public let path: String
    public let format: Format

    public init(path: String, format: Format) {
        self.path = path
        self.format = format
    }

    var isJSONArray: Bool { format == .alpaca && path.lowercased().hasSuffix(".json") }

    /// One row as JSON.
    public func json(_ row: SynthRow) -> JSONValue {
        switch format {
        case .alpaca:
            return .object(JSONObject([
                ("instruction", .string(row.instruction)), ("input", .string(row.input)), ("output", .string(row.output)),
                ("provenance", .object(row.provenance)),
            ]))
        case .messages:
            let list = row.messages.map { JSONValue.object(JSONObject([("role", .string($0.role)), ("content", .string($0.content))])) }
            return .object(JSONObject([("messages", .array(list)), ("provenance", .object(row.provenance))]))
        }
    }

    /// Writes every row, replacing the file atomically.
    public func write(_ rows: [SynthRow]) throws {
        var text = ""
        if isJSONArray {
            text = rows.isEmpty ? "[]\n" : "[\n"
            for (i, r) in rows.enumerated() {
                text += "  "
                json(r).write(to: &text)
                text += i + 1 < rows.count ? ",\n" : "\n]\n"
            }
        } else {
            for r in rows {
                json(r).write(to: &text)
                text += "\n"
            }
        }
        try AtomicFileWriter.write(to: path) { try $0.write(Array(text.utf8)) }
    }

    /// The rows already in the file (none when it does not exist), to resume from. A row that is
    /// not in this output's format is an error naming the file and row.
    public func read() throws -> [SynthRow] {
        guard FileSystem.exists(path) else { return [] }
        let objects: [(line: Int, object: JSONObject)]
        if isJSONArray {
            let doc = try JSONValue.parse(contentsOf: path)
            guard let items = doc.arrayValue else {
                throw IFTError.file(path: path, location: "line 1", message: "expected a JSON array of rows to resume from, found \(doc.typeName)")
            }
            objects = try items.enumerated().map { i, v in
                guard let o = v.objectValue else {
                    throw IFTError.file(path: path, location: "row \(i + 1)", message: "expected a JSON object, found \(v.typeName)")
                }
                return (i + 1, o)
            }
        } else {
            objects = try JSONLines.read(path: path)
        }
        return try objects.map { try row($0.object, at: isJSONArray ? "row \($0.line)" : "line \($0.line)") }
    }

    func row(_ o: JSONObject, at location: String) throws -> SynthRow {
        func fail(_ m: String) -> IFTError { .file(path: path, location: location, message: m) }
        let provenance = o["provenance"]?.objectValue ?? JSONObject()
        switch format {
        case .alpaca:
            guard let instruction = o["instruction"]?.stringValue, let output = o["output"]?.stringValue else {
                throw fail("expected string fields 'instruction' and 'output' (an Alpaca row); found keys \(o.keys.joined(separator: ", "))")
            }
            return SynthRow(instruction: instruction, input: o["input"]?.stringValue ?? "", output: output, provenance: provenance)
        case .messages:
            guard let list = o["messages"]?.arrayValue else { throw fail("expected a 'messages' list; found keys \(o.keys.joined(separator: ", "))") }
            var messages: [ChatMessage] = []
            for (k, m) in list.enumerated() {
                guard let role = m["role"]?.stringValue, let content = m["content"]?.stringValue else {
                    throw fail("message \(k + 1) needs string 'role' and 'content'")
                }
                messages.append(ChatMessage(role: role, content: content))
            }
            var system: String?
            if messages.first?.role == "system" { system = messages.removeFirst().content }
            guard messages.count >= 2, messages[0].role == "user", messages[1].role == "assistant" else {
                throw fail("expected a user message then an assistant message (after an optional system message)")
            }
            return SynthRow(
                instruction: messages[0].content, output: messages[1].content, moreTurns: Array(messages.dropFirst(2)), system: system,
                provenance: provenance)
        }
    }
}
