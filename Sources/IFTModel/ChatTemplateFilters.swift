import IFTCore

/// Jinja's filters and tests (those chat templates use).
extension TemplateInterpreter {
    static let filterNames: [String] = [
        "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float", "indent", "int",
        "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace",
        "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique",
        "upper",
    ]

    func applyFilter(_ name: String, _ v: JValue, _ args: [JValue], _ kwargs: [(String, JValue)], _ offset: Int) throws -> JValue {
        func a(_ i: Int, _ n: String) -> JValue? { arg(args, kwargs, i, n) }
        func str() throws -> String {
            if case .undefined(let n) = v, !["string", "trim", "upper", "lower", "length", "count"].contains(name) {
                throw error(offset, "'\(n)' is undefined (filtered by '\(name)')")
            }
            return v.str
        }
        func seq() throws -> [JValue] {
            guard let items = v.iterated else { throw error(offset, "'\(v.typeName)' object is not iterable (filter '\(name)')") }
            return items
        }
        switch name {
        case "trim": return .string(Self.strip(try str(), try stringArg(a(0, "chars"), "trim() chars", offset), left: true, right: true))
        case "upper": return .string(try str().uppercased())
        case "lower": return .string(try str().lowercased())
        case "capitalize": return .string(Self.capitalize(try str()))
        case "title": return .string(Self.jinjaTitle(try str()))
        case "string": return .string(v.str)
        case "safe": return v
        case "e", "escape":
            var out = ""
            for ch in try str().unicodeScalars {
                switch ch {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&#34;"
                case "'": out += "&#39;"
                default: out.unicodeScalars.append(ch)
                }
            }
            return .string(out)
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .dict(let d): return .int(d.count)
            case .namespace(let ns): return .int(ns.members.count)
            case .undefined: return .int(0)
            default: return .int(try seq().count)
            }
        case "first": return try seq().first ?? .undefined("first")
        case "last": return try seq().last ?? .undefined("last")
        case "list": return .array(try seq())
        case "reverse":
            if case .string(let s) = v { return .string(Self.string(s.unicodeScalars.reversed())) }
            return .array(try seq().reversed())
        case "join":
            var items = try seq()
            if let attr = try stringArg(a(1, "attribute"), "join attribute", offset) {
                items = try items.map { try attribute($0, attr, offset) }
            }
            return .string(items.map(\.str).joined(separator: try stringArg(a(0, "d"), "join separator", offset) ?? ""))
        case "default", "d":
            let boolean = a(1, "boolean")?.truthy ?? false
            if v.isUndefined || (boolean && !v.truthy) { return a(0, "default_value") ?? .string("") }
            return v
        case "int":
            let dflt = a(0, "default") ?? .int(0)
            switch v {
            case .int: return v
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return d.isFinite ? .int(Int(d)) : dflt
            case .string(let s):
                let t = Self.strip(s, nil, left: true, right: true).replacingUnderscores
                if let i = Int(t) { return .int(i) }
                if let d = Double(t), d.isFinite { return .int(Int(d)) }
                return dflt
            default: return dflt
            }
        case "float":
            let dflt = a(0, "default") ?? .double(0)
            if let d = v.number { return .double(d) }
            if case .string(let s) = v, let d = Double(Self.strip(s, nil, left: true, right: true)) { return .double(d) }
            return dflt
        case "abs":
            if case .int(let i) = v { return .int(abs(i)) }
            if let d = v.number { return .double(abs(d)) }
            throw error(offset, "bad operand type for abs(): '\(v.typeName)'")
        case "round":
            guard let d = v.number else { throw error(offset, "round needs a number, not \(v.typeName)") }
            let p = try intArg(a(0, "precision"), "precision", offset) ?? 0
            let method = try stringArg(a(1, "method"), "method", offset) ?? "common"
            var scale = 1.0
            for _ in 0..<max(p, 0) { scale *= 10 }
            let x = d * scale
            let r: Double = method == "floor" ? x.rounded(.down) : method == "ceil" ? x.rounded(.up) : x.rounded(.toNearestOrEven)
            return .double(r / scale)
        case "items", "dictsort":
            guard case .dict(var d) = v else { throw error(offset, "'\(name)' needs a dict, not \(v.typeName)") }
            if name == "dictsort" { d.sort { ($0.0.compare($1.0) ?? 0) < 0 } }
            return .array(d.map { .tuple([$0.0, $0.1]) })
        case "tojson":
            var o = JValue.JSONOptions()
            o.ensureASCII = a(0, "ensure_ascii")?.truthy ?? false
            o.indent = try intArg(a(1, "indent"), "indent", offset)
            o.sortKeys = a(3, "sort_keys")?.truthy ?? false
            if let sep = a(2, "separators"), let parts = sep.iterated, parts.count == 2 {
                o.separators = (parts[0].str, parts[1].str)
            }
            return .string(v.json(o))
        case "replace":
            guard let old = try stringArg(a(0, "old"), "replace() old", offset), let new = try stringArg(a(1, "new"), "replace() new", offset) else {
                throw error(offset, "replace takes two strings")
            }
            return .string(Self.replace(try str(), old, new, try intArg(a(2, "count"), "count", offset) ?? -1))
        case "indent":
            let width = a(0, "width").map { $0.integer.map { String(repeating: " ", count: $0) } ?? $0.str } ?? "    "
            let first = a(1, "first")?.truthy ?? false
            let blank = a(2, "blank")?.truthy ?? false
            let lines = Self.split(try str(), "\n", -1).map(\.str)
            var out: [String] = []
            for (i, line) in lines.enumerated() {
                if i == 0 && !first { out.append(line); continue }
                out.append(line.isEmpty && !blank ? line : width + line)
            }
            return .string(out.joined(separator: "\n"))
        case "attr":
            guard let n = try stringArg(a(0, "name"), "attr name", offset) else { throw error(offset, "attr takes a name") }
            return try attribute(v, n, offset)
        case "map":
            let items = try seq()
            if let attr = try stringArg(a(-1, "attribute"), "map attribute", offset) {
                let dflt = a(-1, "default")
                return .array(try items.map {
                    let r = try attribute($0, attr, offset)
                    return r.isUndefined ? (dflt ?? r) : r
                })
            }
            guard let f = try stringArg(args.first, "map filter", offset) else { throw error(offset, "map needs a filter name or attribute=") }
            return .array(try items.map { try applyFilter(f, $0, Array(args.dropFirst()), [], offset) })
        case "select", "reject":
            let items = try seq()
            let test = try stringArg(args.first, "\(name) test", offset)
            return .array(try items.filter { x in
                let r = try test.map { t in try applyTest(t, x, Array(args.dropFirst()), offset) } ?? x.truthy
                return r == (name == "select")
            })
        case "selectattr", "rejectattr":
            let items = try seq()
            guard let attr = try stringArg(args.first, "\(name) attribute", offset) else { throw error(offset, "\(name) needs an attribute name") }
            let test = try stringArg(args.count > 1 ? args[1] : nil, "\(name) test", offset)
            return .array(try items.filter { item in
                let x = try attribute(item, attr, offset)
                let r = try test.map { t in try applyTest(t, x, Array(args.dropFirst(2)), offset) } ?? x.truthy
                return r == (name == "selectattr")
            })
        case "unique":
            var out: [JValue] = []
            for x in try seq() where !out.contains(where: { $0.equals(x) }) { out.append(x) }
            return .array(out)
        case "sort", "min", "max":
            var items = try seq()
            if let attr = try stringArg(a(name == "sort" ? 2 : 1, "attribute"), "attribute", offset) {
                items = try items.map { try attribute($0, attr, offset) }
            }
            let caseSensitive = a(name == "sort" ? 1 : 0, "case_sensitive")?.truthy ?? false
            func key(_ x: JValue) -> JValue {
                if !caseSensitive, case .string(let s) = x { return .string(s.lowercased()) }
                return x
            }
            var failed = false
            let sorted = items.enumerated().sorted { l, r in
                guard let c = key(l.element).compare(key(r.element)) else {
                    failed = true
                    return false
                }
                return c != 0 ? c < 0 : l.offset < r.offset
            }.map(\.element)
            if failed { throw error(offset, "'\(name)' cannot order these values") }
            if name == "min" { return sorted.first ?? .undefined("min") }
            if name == "max" { return sorted.last ?? .undefined("max") }
            return .array(a(0, "reverse")?.truthy == true ? sorted.reversed() : sorted)
        case "sum":
            var total = a(1, "start") ?? .int(0)
            var items = try seq()
            if let attr = try stringArg(a(0, "attribute"), "attribute", offset) { items = try items.map { try attribute($0, attr, offset) } }
            for x in items { total = try binary("+", total, x, offset) }
            return total
        default:
            throw error(offset, "unsupported filter '\(name)' (supported: \(Self.filterNames.joined(separator: ", ")))")
        }
    }

    func applyTest(_ name: String, _ v: JValue, _ args: [JValue], _ offset: Int) throws -> Bool {
        func other() throws -> JValue {
            guard let o = args.first else { throw error(offset, "test '\(name)' needs an argument") }
            return o
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": if case .none = v { return true }; return false
        case "boolean": if case .bool = v { return true }; return false
        case "true": if case .bool(true) = v { return true }; return false
        case "false": if case .bool(false) = v { return true }; return false
        case "string": if case .string = v { return true }; return false
        case "number": switch v { case .int, .double: return true; default: return false }
        case "integer": if case .int = v { return true }; return false
        case "float": if case .double = v { return true }; return false
        case "mapping": switch v { case .dict, .namespace: return true; default: return false }
        case "iterable": return v.iterated != nil && !v.isUndefined
        case "sequence": switch v { case .array, .tuple, .string, .dict: return true; default: return false }
        case "callable": if case .function = v { return true }; return false
        case "odd", "even":
            guard let i = v.integer else { throw error(offset, "test '\(name)' needs an integer") }
            return (i & 1 == 1) == (name == "odd")
        case "divisibleby":
            guard let i = v.integer, let d = try other().integer, d != 0 else { throw error(offset, "divisibleby needs non-zero integers") }
            return i % d == 0
        case "eq", "equalto", "==": return v.equals(try other())
        case "ne", "!=": return !v.equals(try other())
        case "lt", "lessthan", "<": return try compare("<", v, try other(), offset)
        case "gt", "greaterthan", ">": return try compare(">", v, try other(), offset)
        case "le", "<=": return try compare("<=", v, try other(), offset)
        case "ge", ">=": return try compare(">=", v, try other(), offset)
        case "in": return try compare("in", v, try other(), offset)
        case "sameas":
            let o = try other()
            switch (v, o) {
            case (.none, .none): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.namespace(let x), .namespace(let y)): return x === y
            default: return false
            }
        case "lower": if case .string(let s) = v { return s.lowercased() == s }; return false
        case "upper": if case .string(let s) = v { return s.uppercased() == s }; return false
        default:
            throw error(offset, "unsupported test '\(name)'")
        }
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(self.filter { $0 != "_" }) }
}
