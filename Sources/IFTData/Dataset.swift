import IFTCore
import IFTModel

/// A loaded dataset: its examples in file order, the format they were read as, and the rows that
/// were skipped (only with `skipInvalid`), each as a `file:line: what is wrong` error.
public struct Dataset: Sendable {
    public var examples: [Example]
    public var format: DatasetFormat
    public var skipped: [IFTError]
    public var skippedCount: Int { skipped.count }

    public init(examples: [Example], format: DatasetFormat, skipped: [IFTError] = []) {
        self.examples = examples
        self.format = format
        self.skipped = skipped
    }

    /// Reads a dataset file: a JSON array or JSONL of Alpaca, Dolly, chat (`messages`) or
    /// prompt/completion rows, or plain text. Errors are `IFTError.file(path:, location: "line N", ...)`.
    /// The load stops at the first bad row unless `options.skipInvalid`.
    public static func load(_ path: String, options: LoadOptions = LoadOptions()) throws -> Dataset {
        let file = try MappedFile(path: path)
        return try load(bytes: Array(file.bytes), path: path, options: options)
    }

    /// Reads several files (each detected on its own) into one dataset, in the order given. The
    /// format is the files' common one, or `.auto` when they differ.
    public static func load(paths: [String], options: LoadOptions = LoadOptions()) throws -> Dataset {
        var out = Dataset(examples: [], format: options.format)
        for (i, path) in paths.enumerated() {
            let d = try load(path, options: options)
            out.examples += d.examples
            out.skipped += d.skipped
            out.format = i == 0 || out.format == d.format ? d.format : .auto
        }
        return out
    }

    /// Parses a dataset held in memory; `path` names it in errors and example sources.
    public static func load(bytes: [UInt8], path: String, options: LoadOptions = LoadOptions()) throws -> Dataset {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {  // a UTF-8 byte order mark: blank it (keeps columns)
            var b = bytes
            b.replaceSubrange(0..<3, with: [0x20, 0x20, 0x20])
            return try load(bytes: b, path: path, options: options)
        }
        let lower = path.lowercased()
        let isTextFile = lower.hasSuffix(".txt") || lower.hasSuffix(".md") || lower.hasSuffix(".text")
        let first = bytes.first { !isSpace($0) }
        if options.format == .text || (options.format == .auto && isTextFile) {
            return try loadText(bytes, path: path, options: options)
        }
        switch first {
        case UInt8(ascii: "["):
            return try loadRows(jsonArrayRows(bytes, path: path), path: path, options: options)
        case UInt8(ascii: "{"):
            return try loadRows(jsonlRows(bytes, path: path), path: path, options: options)
        case nil:
            throw IFTError.file(path: path, location: "line 1", message: "the file is empty")
        default:
            if options.format == .auto && !(lower.hasSuffix(".json") || lower.hasSuffix(".jsonl")) {
                return try loadText(bytes, path: path, options: options)
            }
            throw IFTError.file(
                path: path, location: "line 1",
                message: "expected a JSON array ('[') or JSON lines ('{'), found '\(Character(Unicode.Scalar(first!)))'")
        }
    }

    // MARK: - Rows

    typealias Row = (line: Int, value: Result<JSONValue, IFTError>)

    /// Rows of a JSON array: the document must parse as a whole (its errors carry line and column);
    /// each element remembers the line it starts on.
    static func jsonArrayRows(_ bytes: [UInt8], path: String) throws -> [Row] {
        let doc = try JSONValue.parse(bytes, path: path)
        guard let items = doc.arrayValue else {
            throw IFTError.file(path: path, location: "line 1", message: "expected a JSON array, got \(doc.typeName)")
        }
        let lines = arrayElementLines(bytes)
        return items.enumerated().map { (i, v) in (i < lines.count ? lines[i] : 1, .success(v)) }
    }

    /// The 1-based line on which each top-level element of a (valid) JSON array starts.
    static func arrayElementLines(_ bytes: [UInt8]) -> [Int] {
        var lines: [Int] = []
        var line = 1, depth = 0, inString = false, escaped = false, expectValue = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                if b == UInt8(ascii: "\n") { line += 1 }
                continue
            }
            if b == UInt8(ascii: "\n") { line += 1; continue }
            if isSpace(b) { continue }
            if depth == 1 && expectValue && b != UInt8(ascii: "]") {
                lines.append(line)
                expectValue = false
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth == 1 { expectValue = true }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectValue = true }
            default: break
            }
        }
        return lines
    }

    /// Rows of JSON lines: blank lines are skipped; a line that does not parse is a bad row.
    static func jsonlRows(_ bytes: [UInt8], path: String) -> [Row] {
        var rows: [Row] = []
        var start = 0, line = 1
        func flush(_ end: Int) {
            let slice = bytes[start..<end]
            if slice.contains(where: { !isSpace($0) }) {
                do {
                    rows.append((line, .success(try JSONValue.parse(Array(slice), path: path))))
                } catch let IFTError.file(_, loc, msg) {
                    // The parser counts from line 1 of the slice: keep its column.
                    let column = loc.split(separator: ",").dropFirst().first.map { ",\($0)" } ?? ""
                    rows.append((line, .failure(.file(path: path, location: "line \(line)\(column)", message: "invalid JSON: \(msg)"))))
                } catch {
                    rows.append((line, .failure(.file(path: path, location: "line \(line)", message: "invalid JSON: \(error)"))))
                }
            }
        }
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            flush(i)
            start = i + 1
            line += 1
        }
        flush(bytes.count)
        return rows
    }

    static func loadRows(_ rows: [Row], path: String, options: LoadOptions) throws -> Dataset {
        var format = options.format
        if format == .auto {
            // The first object row whose keys name a format decides; with none, the first
            // object row's error (or the first row's, when no row is an object) is reported.
            let objects = rows.compactMap { r in (try? r.value.get().objectValue).map { (r.line, $0) } }
            guard let firstObject = objects.first else {
                if let first = rows.first {
                    let value = try first.value.get()
                    throw IFTError.file(path: path, location: "line \(first.line)", message: "expected a JSON object, got \(value.typeName)")
                }
                throw IFTError.file(path: path, location: "line 1", message: "no JSON object rows to read")
            }
            guard let detected = objects.lazy.compactMap({ try? detect($0.1, fields: options.fields, path: path, line: $0.0) }).first else {
                throw detectError(firstObject.1, path: path, line: firstObject.0)
            }
            format = detected
        }
        let fields = options.fields ?? (format == .dolly ? .dolly : .alpaca)
        var examples: [Example] = []
        var skipped: [IFTError] = []
        examples.reserveCapacity(rows.count)
        for row in rows {
            do {
                let value = try row.value.get()
                let content = try RowReader(path: path, line: row.line, fields: fields).read(value, as: format)
                let size = content.textByteCount
                guard size <= options.maxRowBytes else {
                    throw IFTError.file(
                        path: path, location: "line \(row.line)",
                        message: "the row holds \(size) bytes of text, over the \(options.maxRowBytes) one example may hold (a lost line break, or a whole file in one field?)")
                }
                examples.append(Example(content, source: SourceLocation(path: path, line: row.line)))
            } catch let e as IFTError {
                if !options.skipInvalid {
                    guard let advice = options.badRowAdvice, case .file(let p, let location, let message) = e else { throw e }
                    throw IFTError.file(path: p, location: location, message: message + "; " + advice)
                }
                skipped.append(e)
            }
        }
        return Dataset(examples: examples, format: format, skipped: skipped)
    }

    /// The format a row's keys imply.
    static func detect(_ obj: JSONObject, fields: FieldMapping?, path: String, line: Int) throws -> DatasetFormat {
        let keys = Set(obj.keys)
        let f = fields ?? FieldMapping()
        if keys.contains(f.messages) { return .chat }
        if keys.contains(f.prompt) && keys.contains(f.completion) { return .completion }
        if let fields, keys.contains(fields.instruction) && keys.contains(fields.output) { return .alpaca }
        if keys.contains("instruction") && (keys.contains("response") || keys.contains("context")) { return .dolly }
        if keys.contains("instruction") && keys.contains("output") { return .alpaca }
        throw detectError(obj, path: path, line: line)
    }

    static func detectError(_ obj: JSONObject, path: String, line: Int) -> IFTError {
        IFTError.file(
            path: path, location: "line \(line)",
            message: "cannot tell the dataset format from the keys \(obj.keys): expected instruction/input/output (Alpaca), "
                + "instruction/context/response (Dolly), messages (chat) or prompt/completion")
    }

    // MARK: - Plain text

    static func loadText(_ bytes: [UInt8], path: String, options: LoadOptions) throws -> Dataset {
        // Split on bytes: as Characters, "\r\n" is one and would not match "\n".
        let lines: [Substring] = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { l in
            Substring(String(decoding: l.last == 0x0D ? l.dropLast() : l, as: UTF8.self))
        }
        var docs: [Example] = []
        func isBlank(_ s: Substring) -> Bool { s.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" } }
        switch options.textSplit {
        case .file:
            guard let firstLine = lines.firstIndex(where: { !isBlank($0) }) else {
                throw IFTError.file(path: path, location: "line 1", message: "the text file is empty")
            }
            let lastLine = lines.lastIndex(where: { !isBlank($0) })!
            let doc = lines[firstLine...lastLine].joined(separator: "\n")
            docs.append(Example(.text(doc), source: SourceLocation(path: path, line: firstLine + 1)))
        case .blankLines:
            var block: [Substring] = []
            var blockStart = 0
            for (i, l) in lines.enumerated() {
                if isBlank(l) {
                    if !block.isEmpty {
                        docs.append(Example(.text(block.joined(separator: "\n")), source: SourceLocation(path: path, line: blockStart + 1)))
                        block = []
                    }
                } else {
                    if block.isEmpty { blockStart = i }
                    block.append(l)
                }
            }
            if !block.isEmpty {
                docs.append(Example(.text(block.joined(separator: "\n")), source: SourceLocation(path: path, line: blockStart + 1)))
            }
            if docs.isEmpty { throw IFTError.file(path: path, location: "line 1", message: "the text file is empty") }
        }
        return Dataset(examples: docs, format: .text)
    }
}

@inline(__always) func isSpace(_ b: UInt8) -> Bool {
    b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
}

/// Turns one JSON row into an example, or a `file:line: what is wrong` error.
struct RowReader {
    let path: String
    let line: Int
    let fields: FieldMapping

    func fail(_ message: String) -> IFTError { .file(path: path, location: "line \(line)", message: message) }

    func read(_ value: JSONValue, as format: DatasetFormat) throws -> ExampleContent {
        guard let obj = value.objectValue else { throw fail("expected a JSON object, got \(value.typeName)") }
        switch format {
        case .alpaca, .dolly, .auto:
            let instruction = try string(obj, fields.instruction, required: true, nonEmpty: true)
            let input = try string(obj, fields.input, required: false, nonEmpty: false)
            let output = try string(obj, fields.output, required: true, nonEmpty: true, what: "empty response")
            return .instruction(instruction: instruction, input: input, output: output)
        case .completion:
            let prompt = try string(obj, fields.prompt, required: true, nonEmpty: false)
            let completion = try string(obj, fields.completion, required: true, nonEmpty: true, what: "empty completion")
            return .completion(prompt: prompt, completion: completion)
        case .chat:
            guard let raw = obj[fields.messages] else { throw fail("missing field \"\(fields.messages)\"") }
            guard let list = raw.arrayValue else {
                throw fail("field \"\(fields.messages)\" must be an array, got \(raw.typeName)")
            }
            var messages: [ChatMessage] = []
            for (i, m) in list.enumerated() {
                let at = "\(fields.messages)[\(i)]"
                guard let mo = m.objectValue else { throw fail("\(at) must be an object, got \(m.typeName)") }
                let role = try string(mo, fields.role, required: true, nonEmpty: true, prefix: at + ": ")
                let content = try string(mo, fields.content, required: true, nonEmpty: false, prefix: at + ": ")
                guard ["system", "user", "assistant"].contains(role) else {
                    throw fail("\(at): unknown role \"\(role)\" (expected system, user or assistant)")
                }
                if role == "assistant" && content.allSatisfy(\.isWhitespace) {
                    throw fail("\(at): empty response (assistant content is empty)")
                }
                messages.append(ChatMessage(role: role, content: content))
            }
            guard messages.contains(where: { $0.role == "assistant" }) else {
                throw fail("field \"\(fields.messages)\" has no assistant message to learn")
            }
            return .chat(messages)
        case .text:
            throw fail("plain text is not read from JSON rows")
        }
    }

    func string(
        _ obj: JSONObject, _ key: String, required: Bool, nonEmpty: Bool, what: String? = nil, prefix: String = ""
    ) throws -> String {
        guard let v = obj[key], !v.isNull || required else {
            if required { throw fail("\(prefix)missing field \"\(key)\"") }
            return ""
        }
        guard let s = v.stringValue else { throw fail("\(prefix)field \"\(key)\" must be a string, got \(v.typeName)") }
        if nonEmpty && s.allSatisfy(\.isWhitespace) {
            throw fail("\(prefix)\(what.map { "\($0): " } ?? "")field \"\(key)\" is empty")
        }
        return s
    }
}
