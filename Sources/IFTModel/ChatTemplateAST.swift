import IFTCore

/// Template expressions. Every case keeps the byte offset of its token for error messages.
indirect enum TemplateExpr: Sendable {
    case literal(JValue)
    case name(String, Int)
    case list([TemplateExpr], Int)
    case tuple([TemplateExpr], Int)
    case dict([(TemplateExpr, TemplateExpr)], Int)
    case attr(TemplateExpr, String, Int)
    case index(TemplateExpr, TemplateExpr, Int)
    case slice(TemplateExpr, TemplateExpr?, TemplateExpr?, TemplateExpr?, Int)
    case call(TemplateExpr, [TemplateExpr], [(String, TemplateExpr)], Int)
    case filter(TemplateExpr, String, [TemplateExpr], [(String, TemplateExpr)], Int)
    case test(TemplateExpr, String, [TemplateExpr], negated: Bool, Int)
    case unary(String, TemplateExpr, Int)
    case binary(String, TemplateExpr, TemplateExpr, Int)
    /// Chained comparisons: a < b <= c.
    case compare(TemplateExpr, [(String, TemplateExpr)], Int)
    case and(TemplateExpr, TemplateExpr)
    case or(TemplateExpr, TemplateExpr)
    case conditional(then: TemplateExpr, condition: TemplateExpr, otherwise: TemplateExpr?, Int)
}

/// Assignment targets of `for` and `set`.
enum TemplateTarget: Sendable {
    case name(String)
    case names([String])
    case attribute(String, String)
}

struct TemplateMacro: Sendable {
    var name: String
    var parameters: [(String, TemplateExpr?)]
    var body: [TemplateNode]
}

indirect enum TemplateNode: Sendable {
    case text(String)
    case output(TemplateExpr, Int)
    case forLoop(TemplateTarget, TemplateExpr, filter: TemplateExpr?, body: [TemplateNode], otherwise: [TemplateNode], Int)
    case ifChain([(TemplateExpr, [TemplateNode])], otherwise: [TemplateNode])
    case set(TemplateTarget, TemplateExpr, Int)
    case setBlock(String, [TemplateNode])
    case macro(TemplateMacro)
    case breakLoop(Int)
    case continueLoop(Int)
}
