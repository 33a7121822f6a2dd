import IFTCore

/// A JSON value (RFC 8259), for safetensors headers, `config.json` and `tokenizer.json`.
///
/// Integers without a fraction or exponent that fit in `Int` are kept exact as `.int`; other
/// numbers are `.double`. Objects keep their keys in document order. (FoundationEssentials has
/// `JSONDecoder` but no `JSONSerialization`, its errors carry no line/column, and it loses key
/// order; hence this small parser.)
public enum JSONValue: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses a complete JSON document. Errors are `IFTError.file(path:, location: "line L,
    /// column C", ...)` (columns count bytes, from 1).
    public static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> JSONValue {
        var p = JSONParser(bytes: bytes, path: path)
        return try p.parseDocument()
    }

    /// Parses JSON embedded in a binary file at byte `fileOffset`: error locations read
    /// `offset N (JSON line L, column C)` with N the byte offset in the file.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String, fileOffset: Int) throws -> JSONValue {
        var p = JSONParser(bytes: bytes, path: path)
        p.fileOffset = fileOffset
        return try p.parseDocument()
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0, path: path) }
    }

    public static func parse(_ text: String, path: String = "<string>") throws -> JSONValue {
        try parse(Array(text.utf8), path: path)
    }

    /// Reads and parses a file.
    public static func parse(contentsOf path: String) throws -> JSONValue {
        let f = try MappedFile(path: path)
        return try parse(f.bytes, path: path)
    }

    // MARK: Accessors (nil when the value has another type)

    public var isNull: Bool { self == .null }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// `.int`, or a `.double` holding a whole number that fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int(exactly: d)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }

    /// The member `key` of an object (nil for a missing key or a non-object).
    public subscript(_ key: String) -> JSONValue? { objectValue?[key] }

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a bool"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    // MARK: Serialization

    /// Compact JSON text (no whitespace). Non-finite doubles, which JSON cannot express, are
    /// written as `null`.
    public var description: String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if !d.isFinite {
                out += "null"
            } else if d == d.rounded(), abs(d) < 1e15 {
                out += String(Int(d)) + ".0"
            } else {
                out += "\(d)"
            }
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.write(to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, (k, v)) in o.members.enumerated() {
                if i > 0 { out += "," }
                Self.writeString(k, to: &out)
                out += ":"
                v.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}

/// A JSON object: members in document order with keyed lookup. Keys are unique.
public struct JSONObject: Equatable, Sendable {
    public private(set) var members: [(key: String, value: JSONValue)] = []
    /// Keyed by UTF-8 bytes: Swift's String equality is canonical equivalence, and JSON keys
    /// (e.g. vocabulary entries "e\u{301}" and "\u{e9}") differ when their code points do.
    private var index: [[UInt8]: Int] = [:]

    public init() {}

    /// An object of `members`; a repeated key keeps its first position and its last value.
    public init(_ members: [(String, JSONValue)]) {
        for (k, v) in members { self[k] = v }
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }

    public subscript(_ key: String) -> JSONValue? {
        get { index[Array(key.utf8)].map { members[$0].value } }
        set {
            if let i = index[Array(key.utf8)] {
                if let newValue {
                    members[i].value = newValue
                } else {
                    members.remove(at: i)
                    index = [:]
                    for (j, m) in members.enumerated() { index[Array(m.key.utf8)] = j }
                }
            } else if let newValue {
                index[Array(key.utf8)] = members.count
                members.append((key, newValue))
            }
        }
    }

    /// Appends a member; returns false (and changes nothing) when `key` is already present.
    mutating func insertNew(_ key: String, _ value: JSONValue) -> Bool {
        guard index[Array(key.utf8)] == nil else { return false }
        index[Array(key.utf8)] = members.count
        members.append((key, value))
        return true
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.count == b.count && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

/// A recursive-descent parser over UTF-8 bytes.
struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var pos = 0
    /// Where `bytes` starts in an enclosing binary file, if it is embedded in one.
    var fileOffset: Int?
    static let maxDepth = 512

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    func error(_ message: String, at position: Int? = nil) -> IFTError {
        let at = min(position ?? pos, bytes.count)
        var line = 1, col = 1
        for i in 0..<at {
            if bytes[i] == UInt8(ascii: "\n") { line += 1; col = 1 } else { col += 1 }
        }
        if let fileOffset {
            return IFTError.file(path: path, location: "offset \(fileOffset + at) (JSON line \(line), column \(col))", message: message)
        }
        return IFTError.file(path: path, location: "line \(line), column \(col)", message: message)
    }

    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    func describe(_ b: UInt8?) -> String {
        guard let b else { return "end of input" }
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x\(String(b, radix: 16))"
    }

    mutating func skipWhitespace() {
        while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 }
    }

    mutating func parseDocument() throws -> JSONValue {
        // A UTF-8 byte order mark is tolerated.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { pos = 3 }
        skipWhitespace()
        let v = try parseValue(depth: 0)
        skipWhitespace()
        guard pos == bytes.count else { throw error("unexpected \(describe(peek)) after the JSON value") }
        return v
    }

    mutating func expect(_ word: String, _ value: JSONValue) throws -> JSONValue {
        let start = pos
        for c in word.utf8 {
            guard peek == c else { throw error("invalid literal (expected '\(word)')", at: start) }
            pos += 1
        }
        return value
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) deep") }
        guard let b = peek else { throw error("unexpected end of input, expected a value") }
        switch b {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected \(describe(b)), expected a value")
        }
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
        pos += 1
        var obj = JSONObject()
        skipWhitespace()
        if peek == UInt8(ascii: "}") { pos += 1; return .object(obj) }
        while true {
            skipWhitespace()
            let keyAt = pos
            guard peek == UInt8(ascii: "\"") else { throw error("expected a string key, found \(describe(peek))") }
            let key = try parseString()
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\", found \(describe(peek))") }
            pos += 1
            skipWhitespace()
            let v = try parseValue(depth: depth + 1)
            guard obj.insertNew(key, v) else { throw error("duplicate key \"\(key)\"", at: keyAt) }
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"): pos += 1; return .object(obj)
            default: throw error("expected ',' or '}' in object, found \(describe(peek))")
            }
        }
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        pos += 1
        var a: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") { pos += 1; return .array(a) }
        while true {
            skipWhitespace()
            a.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"): pos += 1; return .array(a)
            default: throw error("expected ',' or ']' in array, found \(describe(peek))")
            }
        }
    }

    mutating func parseNumber() throws -> JSONValue {
        let start = pos
        func digits() -> Int {
            let s = pos
            while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { pos += 1 }
            return pos - s
        }
        if peek == UInt8(ascii: "-") { pos += 1 }
        let intStart = pos
        let n = digits()
        guard n > 0 else { throw error("invalid number: expected a digit, found \(describe(peek))") }
        guard !(n > 1 && bytes[intStart] == UInt8(ascii: "0")) else { throw error("invalid number: leading zero", at: start) }
        var isInt = true
        if peek == UInt8(ascii: ".") {
            pos += 1
            isInt = false
            guard digits() > 0 else { throw error("invalid number: expected a digit after '.', found \(describe(peek))") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            pos += 1
            isInt = false
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw error("invalid number: expected a digit in the exponent, found \(describe(peek))") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        if isInt, let i = Int(text) { return .int(i) }
        guard let d = Double(text) else { throw error("invalid number '\(text)'", at: start) }
        return .double(d)
    }

    mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit \(describe(b)) in \\u escape")
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    mutating func parseString() throws -> String {
        let open = pos
        pos += 1
        var out: [UInt8] = []
        var runStart = pos
        while true {
            guard let b = peek else { throw error("unterminated string", at: open) }
            if b == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<pos]))
                pos += 1
                break
            }
            if b < 0x20 { throw error("control character \(describe(b)) in string (must be escaped)") }
            if b != UInt8(ascii: "\\") { pos += 1; continue }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<pos]))
            let escAt = pos
            pos += 1
            guard let e = peek else { throw error("unterminated string", at: open) }
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate \\u\(String(scalar, radix: 16)) in string", at: escAt)
                    }
                    pos += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw error("invalid low surrogate \\u\(String(low, radix: 16)) in string", at: escAt)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw error("unpaired surrogate \\u\(String(scalar, radix: 16)) in string", at: escAt)
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar)!).utf8))
            default:
                throw error("invalid escape: backslash followed by \(describe(e)) in string", at: escAt)
            }
            runStart = pos
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw error("string is not valid UTF-8", at: open)
        }
        return s
    }
}
