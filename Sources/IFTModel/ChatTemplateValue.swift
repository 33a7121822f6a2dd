import IFTCore

/// A mutable attribute bag made by `namespace(...)`.
final class TemplateNamespace: @unchecked Sendable {
    var members: [(String, JValue)]
    init(_ members: [(String, JValue)]) { self.members = members }

    subscript(key: String) -> JValue? {
        get { members.first { $0.0 == key }?.1 }
        set {
            if let i = members.firstIndex(where: { $0.0 == key }) {
                members[i].1 = newValue ?? .undefined(key)
            } else if let v = newValue {
                members.append((key, v))
            }
        }
    }
}

/// A callable: a global function, a bound method or a macro.
struct TemplateFunction: @unchecked Sendable {
    var name: String
    var call: (_ interp: inout TemplateInterpreter, _ args: [JValue], _ kwargs: [(String, JValue)], _ offset: Int) throws -> JValue
}

/// A value during rendering: Python's data model as far as templates see it.
indirect enum JValue: @unchecked Sendable {
    /// A missing variable, attribute or key (its name, for messages). Prints as "".
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JValue])
    /// A tuple (prints with parentheses); otherwise like an array.
    case tuple([JValue])
    /// Keys in insertion order (keys are strings or other values).
    case dict([(JValue, JValue)])
    case namespace(TemplateNamespace)
    case function(TemplateFunction)

    init(_ v: TemplateValue) {
        switch v {
        case .none: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(JValue.init))
        case .object(let o): self = .dict(o.map { (.string($0.0), JValue($0.1)) })
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true }; return false }

    /// Python's truth value.
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return !d.isEmpty
        case .namespace, .function: return true
        }
    }

    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .function: return "function"
        }
    }

    /// Numeric value of int, float and bool (Python treats bool as int).
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    var integer: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Elements when iterating (lists, tuples, dict keys, string characters).
    var iterated: [JValue]? {
        switch self {
        case .array(let a), .tuple(let a): return a
        case .dict(let d): return d.map(\.0)
        case .string(let s): return s.map { .string(String($0)) }
        case .undefined: return []
        default: return nil
        }
    }

    /// Dict lookup by key (Python equality).
    func lookup(_ key: JValue) -> JValue? {
        switch self {
        case .dict(let d): return d.first { $0.0.equals(key) }?.1
        case .namespace(let ns): if case .string(let k) = key { return ns[k] }; return nil
        default: return nil
        }
    }

    // MARK: Printing

    /// Python's `str()`.
    var str: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr
        }
    }

    /// Python's `repr()`.
    var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return Self.pythonFloat(d)
        case .string(let s): return Self.pythonStringRepr(s)
        case .array(let a): return "[" + a.map(\.repr).joined(separator: ", ") + "]"
        case .tuple(let a): return "(" + a.map(\.repr).joined(separator: ", ") + (a.count == 1 ? ",)" : ")")
        case .dict(let d): return "{" + d.map { $0.0.repr + ": " + $0.1.repr }.joined(separator: ", ") + "}"
        case .namespace(let ns):
            return "<Namespace " + ns.members.map { "\($0.0)=\($0.1.repr)" }.joined(separator: ", ") + ">"
        case .function(let f): return "<function \(f.name)>"
        }
    }

    /// Python's float repr (Swift's shortest round-trip form agrees, exponents included).
    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return "\(d)"
    }

    /// A JSON string as Python's json.dumps(ensure_ascii=False) writes it.
    static func pythonJSONString(_ s: String, ensureASCII: Bool = false) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            case _ where ensureASCII && u.value > 0x7E:
                for unit in String(u).utf16 {
                    let h = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                }
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func pythonStringRepr(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(u) == quote: out += "\\" + String(quote)
            case _ where u.value < 0x20 || u.value == 0x7F:
                let h = String(u.value, radix: 16)
                out += "\\x" + (h.count < 2 ? "0" : "") + h
            default: out.unicodeScalars.append(u)
            }
        }
        out.append(quote)
        return out
    }

    /// Options of `json.dumps` that transformers' `tojson` filter passes on.
    struct JSONOptions {
        var indent: Int? = nil
        var ensureASCII = false
        var sortKeys = false
        /// Item and key separators; Python's defaults depend on `indent`.
        var separators: (String, String)? = nil
    }

    /// `json.dumps(value, ensure_ascii=False, ...)` as transformers' `tojson` filter writes it.
    func json(_ o: JSONOptions, level: Int = 0) -> String {
        let (itemSep, keySep) = o.separators ?? (o.indent == nil ? ", " : ",", ": ")
        let nl = o.indent == nil ? "" : "\n"
        let pad = String(repeating: " ", count: (o.indent ?? 0) * level)
        let inner = String(repeating: " ", count: (o.indent ?? 0) * (level + 1))
        switch self {
        case .undefined, .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
            return Self.pythonFloat(d)
        case .string(let s): return Self.pythonJSONString(s, ensureASCII: o.ensureASCII)
        case .array(let a), .tuple(let a):
            if a.isEmpty { return "[]" }
            return "[" + nl + a.map { inner + $0.json(o, level: level + 1) }.joined(separator: itemSep + nl) + nl + pad + "]"
        case .dict(var d):
            if d.isEmpty { return "{}" }
            if o.sortKeys { d.sort { ($0.0.compare($1.0) ?? 0) < 0 } }
            return "{" + nl
                + d.map { inner + Self.pythonJSONString($0.0.str, ensureASCII: o.ensureASCII) + keySep + $0.1.json(o, level: level + 1) }
                .joined(separator: itemSep + nl) + nl + pad + "}"
        case .namespace(let ns):
            return JValue.dict(ns.members.map { (.string($0.0), $0.1) }).json(o, level: level)
        case .function: return "null"
        }
    }

    // MARK: Comparison

    /// Python `==`.
    func equals(_ other: JValue) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)), (.tuple(let a), .tuple(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.equals($1) }
        case (.dict(let a), .dict(let b)):
            return a.count == b.count && a.allSatisfy { kv in b.contains { $0.0.equals(kv.0) && $0.1.equals(kv.1) } }
        case (.namespace(let a), .namespace(let b)): return a === b
        default:
            if let x = number, let y = other.number { return x == y }
            return false
        }
    }

    /// Python ordering for `<` and friends; nil when the types do not compare.
    func compare(_ other: JValue) -> Int? {
        switch (self, other) {
        case (.string(let a), .string(let b)):
            if a.unicodeScalars.elementsEqual(b.unicodeScalars) { return 0 }
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars, by: { $0.value < $1.value }) ? -1 : 1
        case (.array(let a), .array(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) {
                guard let c = x.compare(y) else { return nil }
                if c != 0 { return c }
            }
            return a.count < b.count ? -1 : a.count > b.count ? 1 : 0
        default:
            guard let x = number, let y = other.number else { return nil }
            return x < y ? -1 : x > y ? 1 : 0
        }
    }
}
