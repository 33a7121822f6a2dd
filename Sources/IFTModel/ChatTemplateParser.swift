import IFTCore

/// Parses segments into nodes: a recursive-descent expression parser with Jinja's precedence
/// (conditional < or < and < not < comparisons < + - < ~ < * / // % < ** < unary minus <
/// filters and tests < postfix . [] ()), and block statements matched to their end tags.
struct TemplateParser {
    let segments: [TemplateSegment]
    let locator: TemplateLocator
    private var pos = 0
    // Expression state.
    private var tokens: [TemplateToken] = []
    private var t = 0

    init(segments: [TemplateSegment], locator: TemplateLocator) {
        self.segments = segments
        self.locator = locator
    }

    mutating func parseTemplate() throws -> [TemplateNode] {
        let (nodes, end) = try parseBody(until: [])
        if let end { throw locator.error(end.offset, "unexpected '{% \(end.keyword) %}' with no open block") }
        return nodes
    }

    private struct EndTag {
        var keyword: String
        var offset: Int
    }

    /// Parses nodes until a statement whose keyword is in `until` (returned, its tokens loaded
    /// after the keyword) or the end of the template (nil).
    private mutating func parseBody(until: Set<String>) throws -> ([TemplateNode], EndTag?) {
        var nodes: [TemplateNode] = []
        while pos < segments.count {
            let seg = segments[pos]
            pos += 1
            switch seg {
            case .text(let s):
                nodes.append(.text(s))
            case .output(let toks, let offset):
                load(toks)
                let e = try parseExpression()
                try expectEnd("}}")
                nodes.append(.output(e, offset))
            case .statement(let toks, let offset):
                load(toks)
                guard current.kind == .name else {
                    throw locator.error(current.offset, "expected a statement keyword after '{%'")
                }
                let kw = current.text
                if until.contains(kw) {
                    advance()
                    return (nodes, EndTag(keyword: kw, offset: offset))
                }
                advance()
                nodes.append(try parseStatement(kw, offset))
            }
        }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ kw: String, _ offset: Int) throws -> TemplateNode {
        switch kw {
        case "for":
            let target = try parseTarget()
            try expectName("in")
            let iter = try parseExpression(allowConditional: false)
            var filter: TemplateExpr? = nil
            if current.kind == .name && current.text == "if" {
                advance()
                filter = try parseExpression(allowConditional: false)
            }
            if current.kind == .name && current.text == "recursive" {
                throw locator.error(current.offset, "recursive for loops are not supported")
            }
            try expectEnd("%}")
            var (body, end) = try parseBody(until: ["endfor", "else"])
            var otherwise: [TemplateNode] = []
            if end?.keyword == "else" {
                try expectEnd("%}")
                (otherwise, end) = try parseBody(until: ["endfor"])
            }
            guard end != nil else { throw locator.error(offset, "'{% for %}' is never closed by '{% endfor %}'") }
            try expectEnd("%}")
            return .forLoop(target, iter, filter: filter, body: body, otherwise: otherwise, offset)
        case "if":
            var branches: [(TemplateExpr, [TemplateNode])] = []
            var cond = try parseExpression()
            try expectEnd("%}")
            while true {
                let (body, end) = try parseBody(until: ["elif", "else", "endif"])
                branches.append((cond, body))
                guard let end else { throw locator.error(offset, "'{% if %}' is never closed by '{% endif %}'") }
                switch end.keyword {
                case "elif":
                    cond = try parseExpression()
                    try expectEnd("%}")
                case "else":
                    try expectEnd("%}")
                    let (otherwise, end2) = try parseBody(until: ["endif"])
                    guard end2 != nil else { throw locator.error(offset, "'{% if %}' is never closed by '{% endif %}'") }
                    try expectEnd("%}")
                    return .ifChain(branches, otherwise: otherwise)
                default:
                    try expectEnd("%}")
                    return .ifChain(branches, otherwise: [])
                }
            }
        case "set":
            let target = try parseTarget()
            if current.kind == .end {
                guard case .name(let name) = target else {
                    throw locator.error(offset, "a '{% set %}' block assigns one name")
                }
                try expectEnd("%}")
                let (body, end) = try parseBody(until: ["endset"])
                guard end != nil else { throw locator.error(offset, "'{% set \(name) %}' is never closed by '{% endset %}'") }
                try expectEnd("%}")
                return .setBlock(name, body)
            }
            try expectOp("=")
            let value = try parseTupleOrExpression()
            try expectEnd("%}")
            return .set(target, value, offset)
        case "macro":
            let name = try expectNameToken()
            try expectOp("(")
            var params: [(String, TemplateExpr?)] = []
            while !isOp(")") {
                let p = try expectNameToken()
                var dflt: TemplateExpr? = nil
                if isOp("=") {
                    advance()
                    dflt = try parseExpression()
                }
                params.append((p, dflt))
                if !isOp(",") { break }
                advance()
            }
            try expectOp(")")
            try expectEnd("%}")
            let (body, end) = try parseBody(until: ["endmacro"])
            guard end != nil else { throw locator.error(offset, "'{% macro \(name) %}' is never closed by '{% endmacro %}'") }
            if current.kind == .name { advance() }  // {% endmacro name %}
            try expectEnd("%}")
            return .macro(TemplateMacro(name: name, parameters: params, body: body))
        case "break", "continue":
            try expectEnd("%}")
            return kw == "break" ? .breakLoop(offset) : .continueLoop(offset)
        case "generation":
            try expectEnd("%}")
            let (body, end) = try parseBody(until: ["endgeneration"])
            guard end != nil else { throw locator.error(offset, "'{% generation %}' is never closed by '{% endgeneration %}'") }
            try expectEnd("%}")
            return .ifChain([(.literal(.bool(true)), body)], otherwise: [])
        case "endfor", "endif", "endset", "endmacro", "endgeneration", "elif", "else":
            throw locator.error(offset, "unexpected '{% \(kw) %}' with no matching open block")
        default:
            throw locator.error(offset, "unsupported statement '{% \(kw) %}' (supported: for, if, set, macro, break, continue, generation)")
        }
    }

    // MARK: - Token helpers

    private mutating func load(_ toks: [TemplateToken]) {
        tokens = toks
        t = 0
    }

    private var current: TemplateToken { tokens[t] }
    private var peek: TemplateToken { t + 1 < tokens.count ? tokens[t + 1] : tokens[tokens.count - 1] }
    private mutating func advance() { if t < tokens.count - 1 { t += 1 } }
    private func isOp(_ s: String) -> Bool { current.kind == .op && current.text == s }
    private func isName(_ s: String) -> Bool { current.kind == .name && current.text == s }

    private func describe(_ tok: TemplateToken) -> String {
        switch tok.kind {
        case .end: return "the end of the tag"
        case .string: return "a string"
        default: return "'\(tok.text)'"
        }
    }

    private mutating func expectOp(_ s: String) throws {
        guard isOp(s) else { throw locator.error(current.offset, "expected '\(s)', found \(describe(current))") }
        advance()
    }

    private mutating func expectName(_ s: String) throws {
        guard isName(s) else { throw locator.error(current.offset, "expected '\(s)', found \(describe(current))") }
        advance()
    }

    private mutating func expectNameToken() throws -> String {
        guard current.kind == .name else { throw locator.error(current.offset, "expected a name, found \(describe(current))") }
        defer { advance() }
        return current.text
    }

    private mutating func expectEnd(_ close: String) throws {
        guard current.kind == .end else {
            throw locator.error(current.offset, "expected '\(close)', found \(describe(current)) (unsupported syntax?)")
        }
    }

    private mutating func parseTarget() throws -> TemplateTarget {
        let first = try expectNameToken()
        if isOp(".") {
            advance()
            return .attribute(first, try expectNameToken())
        }
        guard isOp(",") else { return .name(first) }
        var names = [first]
        while isOp(",") {
            advance()
            if current.kind != .name { break }
            names.append(try expectNameToken())
        }
        return .names(names)
    }

    // MARK: - Expressions

    /// `a, b` (a tuple) or one expression.
    private mutating func parseTupleOrExpression() throws -> TemplateExpr {
        let offset = current.offset
        let first = try parseExpression()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            advance()
            if current.kind == .end { break }
            items.append(try parseExpression())
        }
        return .tuple(items, offset)
    }

    mutating func parseExpression(allowConditional: Bool = true) throws -> TemplateExpr {
        var e = try parseOr()
        while allowConditional && isName("if") {
            let offset = current.offset
            advance()
            let cond = try parseOr()
            var otherwise: TemplateExpr? = nil
            if isName("else") {
                advance()
                otherwise = try parseExpression()
            }
            e = .conditional(then: e, condition: cond, otherwise: otherwise, offset)
        }
        return e
    }

    private mutating func parseOr() throws -> TemplateExpr {
        var e = try parseAnd()
        while isName("or") {
            advance()
            e = .or(e, try parseAnd())
        }
        return e
    }

    private mutating func parseAnd() throws -> TemplateExpr {
        var e = try parseNot()
        while isName("and") {
            advance()
            e = .and(e, try parseNot())
        }
        return e
    }

    private mutating func parseNot() throws -> TemplateExpr {
        if isName("not") {
            let offset = current.offset
            advance()
            return .unary("not", try parseNot(), offset)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> TemplateExpr {
        let offset = current.offset
        let first = try parseMath1()
        var ops: [(String, TemplateExpr)] = []
        while true {
            if current.kind == .op, ["==", "!=", "<", ">", "<=", ">="].contains(current.text) {
                let op = current.text
                advance()
                ops.append((op, try parseMath1()))
            } else if isName("in") {
                advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not") && peek.kind == .name && peek.text == "in" {
                advance()
                advance()
                ops.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? first : .compare(first, ops, offset)
    }

    private mutating func parseMath1() throws -> TemplateExpr {
        var e = try parseConcat()
        while isOp("+") || isOp("-") {
            let op = current.text
            let offset = current.offset
            advance()
            e = .binary(op, e, try parseConcat(), offset)
        }
        return e
    }

    private mutating func parseConcat() throws -> TemplateExpr {
        var e = try parseMath2()
        while isOp("~") {
            let offset = current.offset
            advance()
            e = .binary("~", e, try parseMath2(), offset)
        }
        return e
    }

    private mutating func parseMath2() throws -> TemplateExpr {
        var e = try parsePow()
        while isOp("*") || isOp("/") || isOp("//") || isOp("%") {
            let op = current.text
            let offset = current.offset
            advance()
            e = .binary(op, e, try parsePow(), offset)
        }
        return e
    }

    private mutating func parsePow() throws -> TemplateExpr {
        var e = try parseUnary()
        while isOp("**") {
            let offset = current.offset
            advance()
            e = .binary("**", e, try parseUnary(), offset)
        }
        return e
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> TemplateExpr {
        let offset = current.offset
        var e: TemplateExpr
        if isOp("-") || isOp("+") {
            let op = current.text
            advance()
            e = .unary(op, try parseUnary(withFilter: false), offset)
        } else {
            e = try parsePostfix(try parsePrimary())
        }
        if withFilter { e = try parseFilters(e) }
        return e
    }

    private mutating func parsePrimary() throws -> TemplateExpr {
        let tok = current
        switch tok.kind {
        case .string:
            var s = tok.text
            advance()
            while current.kind == .string {  // adjacent literals concatenate
                s += current.text
                advance()
            }
            return .literal(.string(s))
        case .int:
            advance()
            guard let v = Int(tok.text) else { throw locator.error(tok.offset, "integer \(tok.text) is too large") }
            return .literal(.int(v))
        case .float:
            advance()
            return .literal(.double(Double(tok.text) ?? .nan))
        case .name:
            advance()
            switch tok.text {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(tok.text, tok.offset)
            }
        case .op:
            switch tok.text {
            case "(":
                advance()
                if isOp(")") {
                    advance()
                    return .tuple([], tok.offset)
                }
                let e = try parseExpression()
                if isOp(",") {
                    var items = [e]
                    while isOp(",") {
                        advance()
                        if isOp(")") { break }
                        items.append(try parseExpression())
                    }
                    try expectOp(")")
                    return .tuple(items, tok.offset)
                }
                try expectOp(")")
                return e
            case "[":
                advance()
                var items: [TemplateExpr] = []
                while !isOp("]") {
                    items.append(try parseExpression())
                    if !isOp(",") { break }
                    advance()
                }
                try expectOp("]")
                return .list(items, tok.offset)
            case "{":
                advance()
                var items: [(TemplateExpr, TemplateExpr)] = []
                while !isOp("}") {
                    let k = try parseExpression()
                    try expectOp(":")
                    items.append((k, try parseExpression()))
                    if !isOp(",") { break }
                    advance()
                }
                try expectOp("}")
                return .dict(items, tok.offset)
            default: break
            }
        case .end: break
        }
        throw locator.error(tok.offset, "expected an expression, found \(describe(tok))")
    }

    private mutating func parsePostfix(_ base: TemplateExpr) throws -> TemplateExpr {
        var e = base
        while true {
            if isOp(".") {
                let offset = current.offset
                advance()
                if current.kind == .int {  // x.0 is x[0]
                    e = .index(e, .literal(.int(Int(current.text) ?? 0)), offset)
                    advance()
                } else {
                    e = .attr(e, try expectNameToken(), offset)
                }
            } else if isOp("[") {
                let offset = current.offset
                advance()
                var parts: [TemplateExpr?] = [nil]
                var isSlice = false
                while !isOp("]") {
                    if isOp(":") {
                        isSlice = true
                        parts.append(nil)
                        advance()
                        continue
                    }
                    parts[parts.count - 1] = try parseExpression()
                }
                try expectOp("]")
                if isSlice {
                    guard parts.count <= 3 else { throw locator.error(offset, "a slice has at most three parts") }
                    while parts.count < 3 { parts.append(nil) }
                    e = .slice(e, parts[0], parts[1], parts[2], offset)
                } else {
                    guard let index = parts[0] else { throw locator.error(offset, "empty subscript") }
                    e = .index(e, index, offset)
                }
            } else if isOp("(") {
                // Errors of a call point at the callee's name (or the dot before a method name).
                var offset = current.offset
                if case .name(_, let o) = e { offset = o }
                if case .attr(_, _, let o) = e { offset = o }
                let (args, kwargs) = try parseArguments()
                e = .call(e, args, kwargs, offset)
            } else {
                return e
            }
        }
    }

    private mutating func parseArguments() throws -> ([TemplateExpr], [(String, TemplateExpr)]) {
        try expectOp("(")
        var args: [TemplateExpr] = []
        var kwargs: [(String, TemplateExpr)] = []
        while !isOp(")") {
            if current.kind == .name && peek.kind == .op && peek.text == "=" {
                let k = current.text
                advance()
                advance()
                kwargs.append((k, try parseExpression()))
            } else {
                if !kwargs.isEmpty { throw locator.error(current.offset, "positional argument after keyword arguments") }
                args.append(try parseExpression())
            }
            if !isOp(",") { break }
            advance()
        }
        try expectOp(")")
        return (args, kwargs)
    }

    private mutating func parseFilters(_ base: TemplateExpr) throws -> TemplateExpr {
        var e = base
        while true {
            if isOp("|") {
                let offset = current.offset
                advance()
                var name = try expectNameToken()
                while isOp(".") {  // dotted filter names
                    advance()
                    name += "." + (try expectNameToken())
                }
                var args: [TemplateExpr] = []
                var kwargs: [(String, TemplateExpr)] = []
                if isOp("(") { (args, kwargs) = try parseArguments() }
                e = .filter(e, name, args, kwargs, offset)
            } else if isName("is") {
                let offset = current.offset
                advance()
                var negated = false
                if isName("not") {
                    negated = true
                    advance()
                }
                let name: String
                if current.kind == .name {
                    name = current.text
                    advance()
                } else if current.kind == .op, ["==", "!=", "<", ">", "<=", ">="].contains(current.text) {
                    name = current.text
                    advance()
                } else {
                    throw locator.error(current.offset, "expected a test name after 'is'")
                }
                var args: [TemplateExpr] = []
                if isOp("(") {
                    let (a, kw) = try parseArguments()
                    guard kw.isEmpty else { throw locator.error(offset, "tests take no keyword arguments") }
                    args = a
                } else if [.string, .int, .float].contains(current.kind) || (current.kind == .name && !["and", "or", "else", "if", "is", "not", "in"].contains(current.text)) {
                    args = [try parsePrimary()]  // `is divisibleby 3`, `is sameas true`
                    args[0] = try parsePostfix(args[0])
                }
                e = .test(e, name, args, negated: negated, offset)
            } else {
                return e
            }
        }
    }
}
