import IFTCore

/// Renders parsed template nodes. Scoping follows Jinja: each `for` iteration and each macro
/// call has its own scope (assignments inside do not leak out; `namespace` objects carry state
/// across), `if` has none.
struct TemplateInterpreter {
    let locator: TemplateLocator
    var globals: [String: JValue] = [:]
    var scopes: [[String: JValue]] = []
    var output = ""
    var loopDepth = 0
    var callDepth = 0

    init(locator: TemplateLocator) { self.locator = locator }

    enum Flow { case normal, breakLoop, continueLoop }

    func error(_ offset: Int, _ message: String) -> IFTError { locator.error(offset, message) }

    mutating func render(_ nodes: [TemplateNode]) throws -> String {
        output = ""
        _ = try exec(nodes)
        return output
    }

    // MARK: Variables

    func lookup(_ name: String) -> JValue {
        for s in scopes.reversed() { if let v = s[name] { return v } }
        if let v = globals[name] { return v }
        if let f = Self.globalFunction(name) { return .function(f) }
        return .undefined(name)
    }

    mutating func assign(_ name: String, _ value: JValue) {
        if scopes.isEmpty { globals[name] = value } else { scopes[scopes.count - 1][name] = value }
    }

    mutating func bind(_ target: TemplateTarget, _ value: JValue, _ offset: Int) throws {
        switch target {
        case .name(let n):
            assign(n, value)
        case .names(let names):
            guard let items = value.iterated, !value.isUndefined else {
                throw error(offset, "cannot unpack \(value.typeName) into \(names.count) names")
            }
            guard items.count == names.count else {
                throw error(offset, "cannot unpack \(items.count) values into \(names.count) names")
            }
            for (n, v) in zip(names, items) { assign(n, v) }
        case .attribute(let obj, let attr):
            guard case .namespace(let ns) = lookup(obj) else {
                throw error(offset, "cannot assign attribute '\(attr)' of '\(obj)': only namespace() objects take assignments")
            }
            ns[attr] = value
        }
    }

    // MARK: Statements

    mutating func exec(_ nodes: [TemplateNode]) throws -> Flow {
        for node in nodes {
            switch node {
            case .text(let s):
                output += s
            case .output(let e, _):
                output += try eval(e).str
            case .ifChain(let branches, let otherwise):
                var taken = false
                for (cond, body) in branches where try eval(cond).truthy {
                    taken = true
                    let f = try exec(body)
                    if f != .normal { return f }
                    break
                }
                if !taken {
                    let f = try exec(otherwise)
                    if f != .normal { return f }
                }
            case .forLoop(let target, let iter, let filter, let body, let otherwise, let offset):
                try runFor(target, iter, filter, body, otherwise, offset)
            case .set(let target, let e, let offset):
                try bind(target, try eval(e), offset)
            case .setBlock(let name, let body):
                let saved = output
                output = ""
                _ = try exec(body)
                let captured = output
                output = saved
                assign(name, .string(captured))
            case .macro(let m):
                assign(m.name, .function(macroFunction(m)))
            case .breakLoop(let offset):
                guard loopDepth > 0 else { throw error(offset, "'{% break %}' outside a for loop") }
                return .breakLoop
            case .continueLoop(let offset):
                guard loopDepth > 0 else { throw error(offset, "'{% continue %}' outside a for loop") }
                return .continueLoop
            }
        }
        return .normal
    }

    private mutating func runFor(
        _ target: TemplateTarget, _ iter: TemplateExpr, _ filter: TemplateExpr?, _ body: [TemplateNode],
        _ otherwise: [TemplateNode], _ offset: Int
    ) throws {
        let seq = try eval(iter)
        guard var items = seq.iterated else { throw error(offset, "'\(seq.typeName)' object is not iterable") }
        if let filter {
            var kept: [JValue] = []
            for item in items {
                scopes.append([:])
                defer { scopes.removeLast() }
                try bind(target, item, offset)
                if try eval(filter).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try exec(otherwise)
            return
        }
        loopDepth += 1
        defer { loopDepth -= 1 }
        let n = items.count
        for (i, item) in items.enumerated() {
            scopes.append([:])
            defer { scopes.removeLast() }
            try bind(target, item, offset)
            let cycle = TemplateFunction(name: "loop.cycle") { _, args, _, off in
                guard !args.isEmpty else { throw IFTError.invalidArgument("loop.cycle() needs arguments") }
                _ = off
                return args[i % args.count]
            }
            let loop: [(JValue, JValue)] = [
                (.string("index"), .int(i + 1)), (.string("index0"), .int(i)), (.string("revindex"), .int(n - i)),
                (.string("revindex0"), .int(n - i - 1)), (.string("first"), .bool(i == 0)),
                (.string("last"), .bool(i == n - 1)), (.string("length"), .int(n)), (.string("depth"), .int(1)),
                (.string("depth0"), .int(0)), (.string("previtem"), i > 0 ? items[i - 1] : .undefined("previtem")),
                (.string("nextitem"), i + 1 < n ? items[i + 1] : .undefined("nextitem")),
                (.string("cycle"), .function(cycle)),
            ]
            assign("loop", .dict(loop))
            if try exec(body) == .breakLoop { break }
        }
    }

    private func macroFunction(_ m: TemplateMacro) -> TemplateFunction {
        TemplateFunction(name: m.name) { interp, args, kwargs, offset in
            guard args.count <= m.parameters.count else {
                throw interp.error(offset, "macro '\(m.name)' takes \(m.parameters.count) arguments, \(args.count) given")
            }
            guard interp.callDepth < 64 else { throw interp.error(offset, "macro calls nested too deep") }
            var scope: [String: JValue] = [:]
            for (i, (p, dflt)) in m.parameters.enumerated() {
                if i < args.count {
                    scope[p] = args[i]
                } else if let kw = kwargs.first(where: { $0.0 == p }) {
                    scope[p] = kw.1
                } else if let dflt {
                    scope[p] = try interp.eval(dflt)
                } else {
                    scope[p] = .undefined(p)
                }
            }
            for (k, _) in kwargs where !m.parameters.contains(where: { $0.0 == k }) {
                throw interp.error(offset, "macro '\(m.name)' has no parameter '\(k)'")
            }
            let savedScopes = interp.scopes
            let savedOutput = interp.output
            let savedLoop = interp.loopDepth
            interp.scopes = [scope]
            interp.output = ""
            interp.loopDepth = 0
            interp.callDepth += 1
            defer {
                interp.scopes = savedScopes
                interp.output = savedOutput
                interp.loopDepth = savedLoop
                interp.callDepth -= 1
            }
            _ = try interp.exec(m.body)
            return .string(interp.output)
        }
    }

    // MARK: Expressions

    mutating func eval(_ e: TemplateExpr) throws -> JValue {
        switch e {
        case .literal(let v): return v
        case .name(let n, _): return lookup(n)
        case .list(let items, _): return .array(try items.map { try eval($0) })
        case .tuple(let items, _): return .tuple(try items.map { try eval($0) })
        case .dict(let items, _): return .dict(try items.map { (try eval($0.0), try eval($0.1)) })
        case .attr(let obj, let name, let offset):
            let o = try eval(obj)
            return try attribute(o, name, offset)
        case .index(let obj, let idx, let offset):
            let o = try eval(obj)
            return try subscriptValue(o, try eval(idx), offset)
        case .slice(let obj, let a, let b, let c, let offset):
            let o = try eval(obj)
            return try slice(o, a.map { try eval($0) }, b.map { try eval($0) }, c.map { try eval($0) }, offset)
        case .call(let callee, let args, let kwargs, let offset):
            let a = try args.map { try eval($0) }
            let kw = try kwargs.map { ($0.0, try eval($0.1)) }
            if case .attr(let objExpr, let name, _) = callee {
                let obj = try eval(objExpr)
                if case .function(let f) = obj.lookup(.string(name)) ?? .none { return try f.call(&self, a, kw, offset) }
                return try callMethod(obj, name, a, kw, offset)
            }
            let f = try eval(callee)
            guard case .function(let fn) = f else {
                if case .undefined(let n) = f { throw error(offset, "'\(n)' is undefined") }
                throw error(offset, "'\(f.typeName)' object is not callable")
            }
            return try fn.call(&self, a, kw, offset)
        case .filter(let value, let name, let args, let kwargs, let offset):
            let v = try eval(value)
            return try applyFilter(name, v, try args.map { try eval($0) }, try kwargs.map { ($0.0, try eval($0.1)) }, offset)
        case .test(let value, let name, let args, let negated, let offset):
            let r = try applyTest(name, try eval(value), try args.map { try eval($0) }, offset)
            return .bool(r != negated)
        case .unary(let op, let x, let offset):
            let v = try eval(x)
            switch op {
            case "not": return .bool(!v.truthy)
            case "-":
                if case .int(let i) = v { return .int(-i) }
                if case .double(let d) = v { return .double(-d) }
                if case .bool(let b) = v { return .int(b ? -1 : 0) }
            default:
                if v.number != nil { return v }
            }
            throw error(offset, "bad operand type for unary \(op): '\(v.typeName)'")
        case .binary(let op, let l, let r, let offset):
            return try binary(op, try eval(l), try eval(r), offset)
        case .compare(let first, let ops, let offset):
            var left = try eval(first)
            for (op, rhs) in ops {
                let right = try eval(rhs)
                guard try compare(op, left, right, offset) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .and(let l, let r):
            let a = try eval(l)
            return a.truthy ? try eval(r) : a
        case .or(let l, let r):
            let a = try eval(l)
            return a.truthy ? a : try eval(r)
        case .conditional(let then, let cond, let otherwise, _):
            if try eval(cond).truthy { return try eval(then) }
            return try otherwise.map { try eval($0) } ?? .undefined("conditional")
        }
    }

    func attribute(_ o: JValue, _ name: String, _ offset: Int) throws -> JValue {
        switch o {
        case .undefined(let n): throw error(offset, "'\(n)' is undefined (reading its attribute '\(name)')")
        case .dict, .namespace:
            if let v = o.lookup(.string(name)) { return v }
        default: break
        }
        if Self.methodNames(of: o).contains(name) {
            return .function(TemplateFunction(name: name) { interp, args, kwargs, off in
                try interp.callMethod(o, name, args, kwargs, off)
            })
        }
        return .undefined(name)
    }

    func subscriptValue(_ o: JValue, _ i: JValue, _ offset: Int) throws -> JValue {
        switch o {
        case .undefined(let n): throw error(offset, "'\(n)' is undefined (reading an item of it)")
        case .array(let a), .tuple(let a):
            guard let k = i.integer else { throw error(offset, "list indices must be integers, not \(i.typeName)") }
            let j = k < 0 ? a.count + k : k
            return j >= 0 && j < a.count ? a[j] : .undefined("[\(k)]")
        case .string(let s):
            guard let k = i.integer else { throw error(offset, "string indices must be integers, not \(i.typeName)") }
            let chars = Array(s)
            let j = k < 0 ? chars.count + k : k
            return j >= 0 && j < chars.count ? .string(String(chars[j])) : .undefined("[\(k)]")
        case .dict, .namespace:
            return o.lookup(i) ?? .undefined(i.str)
        default:
            if case .string(let name) = i { return try attribute(o, name, offset) }
            return .undefined(i.str)
        }
    }

    func slice(_ o: JValue, _ a: JValue?, _ b: JValue?, _ c: JValue?, _ offset: Int) throws -> JValue {
        func int(_ v: JValue?) throws -> Int? {
            guard let v, !(v.isUndefined), !({ if case .none = v { return true }; return false }()) else { return nil }
            guard let i = v.integer else { throw error(offset, "slice indices must be integers") }
            return i
        }
        let step = try int(c) ?? 1
        guard step != 0 else { throw error(offset, "slice step cannot be zero") }
        func pick<T>(_ xs: [T]) throws -> [T] {
            let n = xs.count
            func clamp(_ v: Int?, _ dflt: Int) -> Int {
                guard var v else { return dflt }
                if v < 0 { v += n }
                return step > 0 ? min(max(v, 0), n) : min(max(v, -1), n - 1)
            }
            var out: [T] = []
            var i = clamp(try int(a), step > 0 ? 0 : n - 1)
            let stop = clamp(try int(b), step > 0 ? n : -1)
            while step > 0 ? i < stop : i > stop {
                out.append(xs[i])
                i += step
            }
            return out
        }
        switch o {
        case .array(let xs): return .array(try pick(xs))
        case .tuple(let xs): return .tuple(try pick(xs))
        case .string(let s): return .string(String(try pick(Array(s))))
        case .undefined(let n): throw error(offset, "'\(n)' is undefined (slicing it)")
        default: throw error(offset, "'\(o.typeName)' object is not subscriptable")
        }
    }

    func binary(_ op: String, _ a: JValue, _ b: JValue, _ offset: Int) throws -> JValue {
        if op == "~" { return .string(a.str + b.str) }
        if case .undefined(let n) = a { throw error(offset, "'\(n)' is undefined (operand of '\(op)')") }
        if case .undefined(let n) = b { throw error(offset, "'\(n)' is undefined (operand of '\(op)')") }
        func fail() -> IFTError {
            error(offset, "unsupported operand types for \(op): '\(a.typeName)' and '\(b.typeName)'")
        }
        switch (op, a, b) {
        case ("+", .string(let x), .string(let y)): return .string(x + y)
        case ("+", .array(let x), .array(let y)): return .array(x + y)
        case ("+", .tuple(let x), .tuple(let y)): return .tuple(x + y)
        case ("*", .string(let s), _), ("*", _, .string(let s)):
            guard let k = (a.integer ?? b.integer) else { throw fail() }
            return .string(String(repeating: s, count: max(k, 0)))
        case ("*", .array(let xs), _), ("*", _, .array(let xs)):
            guard let k = (a.integer ?? b.integer) else { throw fail() }
            return .array(Array([[JValue]](repeating: xs, count: max(k, 0)).joined()))
        default: break
        }
        if let x = a.integer, let y = b.integer {
            switch op {
            case "+": return .int(x &+ y)
            case "-": return .int(x &- y)
            case "*": return .int(x &* y)
            case "/":
                guard y != 0 else { throw error(offset, "division by zero") }
                return .double(Double(x) / Double(y))
            case "//", "%":
                guard y != 0 else { throw error(offset, "integer division or modulo by zero") }
                var q = x / y
                if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
                return op == "//" ? .int(q) : .int(x - q * y)
            case "**":
                if y >= 0 {
                    var r = 1
                    for _ in 0..<min(y, 4096) { r = r &* x }
                    return .int(r)
                }
                return .double(Self.pow(Double(x), Double(y)))
            default: throw fail()
            }
        }
        guard let x = a.number, let y = b.number else { throw fail() }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw error(offset, "float division by zero") }
            return .double(x / y)
        case "//", "%":
            guard y != 0 else { throw error(offset, "float modulo by zero") }
            let q = (x / y).rounded(.down)
            return op == "//" ? .double(q) : .double(x - q * y)
        case "**": return .double(Self.pow(x, y))
        default: throw fail()
        }
    }

    static func pow(_ x: Double, _ y: Double) -> Double {
        if y == y.rounded(), abs(y) < 1024 {
            var r = 1.0
            for _ in 0..<Int(abs(y)) { r *= x }
            return y < 0 ? 1 / r : r
        }
        // exp(y log x) for x > 0 via the stdlib's floating-point routines is not available
        // without Foundation; fractional powers are rare in templates.
        return .nan
    }

    func compare(_ op: String, _ a: JValue, _ b: JValue, _ offset: Int) throws -> Bool {
        switch op {
        case "==": return a.equals(b)
        case "!=": return !a.equals(b)
        case "in", "not in":
            let r: Bool
            switch b {
            case .string(let s):
                guard case .string(let needle) = a else {
                    throw error(offset, "'in <string>' requires a string as left operand, not \(a.typeName)")
                }
                r = Self.find(Array(s.unicodeScalars), Array(needle.unicodeScalars)) != nil
            case .array(let xs), .tuple(let xs): r = xs.contains { $0.equals(a) }
            case .dict, .namespace: r = b.lookup(a) != nil
            case .undefined(let n): throw error(offset, "'\(n)' is undefined (right operand of 'in')")
            default: throw error(offset, "argument of type '\(b.typeName)' is not iterable")
            }
            return op == "in" ? r : !r
        default:
            if case .undefined(let n) = a { throw error(offset, "'\(n)' is undefined (compared with '\(op)')") }
            if case .undefined(let n) = b { throw error(offset, "'\(n)' is undefined (compared with '\(op)')") }
            guard let c = a.compare(b) else {
                throw error(offset, "'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
            }
            switch op {
            case "<": return c < 0
            case ">": return c > 0
            case "<=": return c <= 0
            default: return c >= 0
            }
        }
    }
}
