import IFTCore

/// Globals, filters, tests and methods (Python string/list/dict methods), with Python's
/// code-point semantics for strings.
extension TemplateInterpreter {
    // MARK: Helpers

    func arg(_ args: [JValue], _ kwargs: [(String, JValue)], _ i: Int, _ name: String) -> JValue? {
        if i >= 0 && i < args.count { return args[i] }
        return kwargs.first { $0.0 == name }?.1
    }

    func stringArg(_ v: JValue?, _ what: String, _ offset: Int) throws -> String? {
        guard let v, !v.isUndefined else { return nil }
        if case .none = v { return nil }
        guard case .string(let s) = v else { throw error(offset, "\(what) must be a string, not \(v.typeName)") }
        return s
    }

    func intArg(_ v: JValue?, _ what: String, _ offset: Int) throws -> Int? {
        guard let v, !v.isUndefined else { return nil }
        if case .none = v { return nil }
        guard let i = v.integer else { throw error(offset, "\(what) must be an integer, not \(v.typeName)") }
        return i
    }

    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }
    static func string(_ s: some Sequence<Unicode.Scalar>) -> String {
        var out = ""
        out.unicodeScalars.append(contentsOf: s)
        return out
    }

    /// First index of `needle` in `hay` at or after `from` (code points).
    static func find(_ hay: [Unicode.Scalar], _ needle: [Unicode.Scalar], from: Int = 0) -> Int? {
        if needle.isEmpty { return from <= hay.count ? from : nil }
        guard hay.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func isPySpace(_ u: Unicode.Scalar) -> Bool { TemplateLexer.isSpace(u) }

    static func strip(_ s: String, _ chars: String?, left: Bool, right: Bool) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        func drop(_ u: Unicode.Scalar) -> Bool { set?.contains(u) ?? isPySpace(u) }
        var a = scalars(s)[...]
        if left { while let f = a.first, drop(f) { a.removeFirst() } }
        if right { while let l = a.last, drop(l) { a.removeLast() } }
        return string(a)
    }

    static func split(_ s: String, _ sep: String?, _ maxsplit: Int) -> [JValue] {
        let u = scalars(s)
        var out: [JValue] = []
        if let sep {
            let n = scalars(sep)
            var start = 0
            while maxsplit < 0 || out.count < maxsplit, let i = find(u, n, from: start) {
                out.append(.string(string(u[start..<i])))
                start = i + n.count
            }
            out.append(.string(string(u[start...])))
            return out
        }
        var i = 0
        while i < u.count {
            while i < u.count && isPySpace(u[i]) { i += 1 }
            if i == u.count { break }
            if maxsplit >= 0 && out.count == maxsplit {
                out.append(.string(string(u[i...])))
                return out
            }
            let start = i
            while i < u.count && !isPySpace(u[i]) { i += 1 }
            out.append(.string(string(u[start..<i])))
        }
        return out
    }

    static func replace(_ s: String, _ old: String, _ new: String, _ count: Int) -> String {
        let u = scalars(s)
        let o = scalars(old)
        if o.isEmpty {  // Python inserts `new` between every character
            var parts = u.map { String($0) }
            parts.insert("", at: 0)
            parts.append("")
            return parts.joined(separator: new)
        }
        var out: [Unicode.Scalar] = []
        var start = 0
        var n = 0
        while count < 0 || n < count, let i = find(u, o, from: start) {
            out += u[start..<i]
            out += new.unicodeScalars
            start = i + o.count
            n += 1
        }
        out += u[start...]
        return string(out)
    }

    static func isCased(_ u: Unicode.Scalar) -> Bool {
        u.properties.isUppercase || u.properties.isLowercase || u.properties.generalCategory == .titlecaseLetter
    }

    static func capitalize(_ s: String) -> String {
        guard let f = s.unicodeScalars.first else { return s }
        return f.properties.titlecaseMapping + string(s.unicodeScalars.dropFirst()).lowercased()
    }

    /// Python's str.title().
    static func pyTitle(_ s: String) -> String {
        var out = ""
        var prevCased = false
        for u in s.unicodeScalars {
            out += prevCased ? u.properties.lowercaseMapping : u.properties.titlecaseMapping
            prevCased = isCased(u)
        }
        return out
    }

    /// Jinja's `title` filter: capitalize each piece after a run of `-`, whitespace or `({[<`.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atStart = true
        for u in s.unicodeScalars {
            let sep = isPySpace(u) || "-({[<".unicodeScalars.contains(u)
            if sep {
                out.unicodeScalars.append(u)
                atStart = true
            } else {
                out += atStart ? u.properties.uppercaseMapping : u.properties.lowercaseMapping
                atStart = false
            }
        }
        return out
    }

    // MARK: Globals

    static func globalFunction(_ name: String) -> TemplateFunction? {
        switch name {
        case "range":
            return TemplateFunction(name: name) { interp, args, _, off in
                let ints = try args.map { a -> Int in
                    guard let i = a.integer else { throw interp.error(off, "range() takes integers, not \(a.typeName)") }
                    return i
                }
                var (start, stop, step) = (0, 0, 1)
                switch ints.count {
                case 1: stop = ints[0]
                case 2: (start, stop) = (ints[0], ints[1])
                case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
                default: throw interp.error(off, "range() takes 1 to 3 arguments")
                }
                guard step != 0 else { throw interp.error(off, "range() step must not be zero") }
                let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
                guard count <= 1_000_000 else { throw interp.error(off, "range() of \(count) items is too large") }
                return .array((0..<count).map { .int(start + $0 * step) })
            }
        case "namespace", "dict":
            return TemplateFunction(name: name) { interp, args, kwargs, off in
                var members: [(String, JValue)] = []
                for a in args {
                    guard case .dict(let d) = a else { throw interp.error(off, "\(name)() takes a dict or keyword arguments") }
                    members += d.map { ($0.0.str, $0.1) }
                }
                members += kwargs
                if name == "dict" { return .dict(members.map { (.string($0.0), $0.1) }) }
                return .namespace(TemplateNamespace(members))
            }
        case "raise_exception":
            return TemplateFunction(name: name) { interp, args, _, off in
                throw interp.error(off, "the template raised an exception: \(args.first?.str ?? "")")
            }
        default:
            return nil
        }
    }

    // MARK: Methods

    static func methodNames(of o: JValue) -> Set<String> {
        switch o {
        case .string:
            return ["strip", "lstrip", "rstrip", "split", "splitlines", "startswith", "endswith", "upper", "lower", "title",
                    "capitalize", "replace", "find", "rfind", "index", "count", "join", "isdigit", "isalpha", "isalnum",
                    "isspace", "isupper", "islower"]
        case .dict: return ["items", "keys", "values", "get"]
        case .array, .tuple: return ["index", "count"]
        default: return []
        }
    }

    func callMethod(_ o: JValue, _ name: String, _ args: [JValue], _ kwargs: [(String, JValue)], _ offset: Int) throws -> JValue {
        func a(_ i: Int, _ n: String) -> JValue? { arg(args, kwargs, i, n) }
        switch o {
        case .string(let s):
            let u = Self.scalars(s)
            switch name {
            case "strip", "lstrip", "rstrip":
                let chars = try stringArg(a(0, "chars"), "\(name)() argument", offset)
                return .string(Self.strip(s, chars, left: name != "rstrip", right: name != "lstrip"))
            case "split":
                return .array(Self.split(
                    s, try stringArg(a(0, "sep"), "split() separator", offset),
                    try intArg(a(1, "maxsplit"), "maxsplit", offset) ?? -1))
            case "splitlines":
                let lines = Self.split(Self.replace(Self.replace(s, "\r\n", "\n", -1), "\r", "\n", -1), "\n", -1)
                return .array(lines.last?.str == "" ? Array(lines.dropLast()) : lines)
            case "startswith", "endswith":
                guard let p = a(0, "prefix") else { throw error(offset, "\(name)() takes a prefix") }
                let options = p.iterated.flatMap { items -> [JValue]? in
                    if case .string = p { return nil }
                    return items
                } ?? [p]
                for opt in options {
                    guard case .string(let x) = opt else { throw error(offset, "\(name)() takes strings") }
                    let n = Self.scalars(x)
                    if name == "startswith" ? u.starts(with: n) : u.reversed().starts(with: n.reversed()) { return .bool(true) }
                }
                return .bool(false)
            case "upper": return .string(s.uppercased())
            case "lower": return .string(s.lowercased())
            case "title": return .string(Self.pyTitle(s))
            case "capitalize": return .string(Self.capitalize(s))
            case "replace":
                guard let old = try stringArg(a(0, "old"), "replace() argument", offset),
                    let new = try stringArg(a(1, "new"), "replace() argument", offset)
                else { throw error(offset, "replace() takes two strings") }
                return .string(Self.replace(s, old, new, try intArg(a(2, "count"), "count", offset) ?? -1))
            case "find", "index", "rfind", "count":
                guard let sub = try stringArg(a(0, "sub"), "\(name)() argument", offset) else {
                    throw error(offset, "\(name)() takes a string")
                }
                let n = Self.scalars(sub)
                if name == "count" {
                    var c = 0
                    var from = 0
                    while let i = Self.find(u, n, from: from) {
                        c += 1
                        from = i + max(n.count, 1)
                    }
                    return .int(c)
                }
                var found = Self.find(u, n)
                if name == "rfind" {
                    var from = 0
                    while let i = Self.find(u, n, from: from) {
                        found = i
                        from = i + 1
                    }
                }
                if name == "index" && found == nil { throw error(offset, "substring not found") }
                return .int(found ?? -1)
            case "join":
                guard let items = a(0, "iterable")?.iterated else { throw error(offset, "join() takes an iterable") }
                return .string(items.map(\.str).joined(separator: s))
            case "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower":
                guard !u.isEmpty else { return .bool(false) }
                switch name {
                case "isdigit": return .bool(u.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit })
                case "isalpha": return .bool(u.allSatisfy { CharClass.of($0.value) & CharClass.letter != 0 })
                case "isalnum": return .bool(u.allSatisfy { CharClass.of($0.value) & (CharClass.letter | CharClass.number) != 0 })
                case "isspace": return .bool(u.allSatisfy(Self.isPySpace))
                case "isupper": return .bool(u.contains(where: Self.isCased) && s.uppercased() == s)
                default: return .bool(u.contains(where: Self.isCased) && s.lowercased() == s)
                }
            default: break
            }
        case .dict(let d):
            switch name {
            case "items": return .array(d.map { .tuple([$0.0, $0.1]) })
            case "keys": return .array(d.map(\.0))
            case "values": return .array(d.map(\.1))
            case "get":
                guard let k = a(0, "key") else { throw error(offset, "get() takes a key") }
                return o.lookup(k) ?? a(1, "default") ?? .none
            default: break
            }
        case .array(let xs), .tuple(let xs):
            guard let x = a(0, "value") else { break }
            if name == "count" { return .int(xs.filter { $0.equals(x) }.count) }
            if name == "index" {
                guard let i = xs.firstIndex(where: { $0.equals(x) }) else { throw error(offset, "\(x.repr) is not in list") }
                return .int(i)
            }
        case .undefined(let n):
            throw error(offset, "'\(n)' is undefined (calling its method '\(name)')")
        default: break
        }
        throw error(offset, "'\(o.typeName)' object has no method '\(name)' (or it is not supported)")
    }
}
