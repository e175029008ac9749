// Assignment, deletion and loop targets, and the messages for invalid ones.

extension Parser.State {
    /// Where a target appears, which decides CPython's wording for an invalid one.
    enum TargetContext {
        /// A plain `x = value` (one `=`): "cannot assign to X here. Maybe you meant '=='…?"
        case assignWithHint
        /// Chained assignment, `for`, `with ... as`, comprehension: "cannot assign to X".
        case assign
        /// `del`: "cannot delete X".
        case delete
    }

    /// Parses the targets of a `for` loop or comprehension (stops before `in`).
    ///
    ///     star_targets: star_target !',' | star_target (',' star_target)* [',']
    mutating func parseTargetList() throws -> Expr {
        let start = tok
        let first = try parseStarTarget()
        var result = first
        if at(",") {
            var elts = [first]
            while accept(",") {
                if atName("in") || at("=") { break }
                elts.append(try parseStarTarget())
            }
            result = Expr(.tuple(elts), loc(from: start))
        }
        try checkTarget(result, .assign)
        return result
    }

    /// Parses one target, possibly starred.
    ///
    ///     star_target: '*' (!'*' star_target) | target_with_star_atom
    mutating func parseStarTarget() throws -> Expr {
        if at("*") {
            let start = advance()
            let inner = try parseBitwiseOr()
            return Expr(.starred(inner), loc(from: start))
        }
        return try parseBitwiseOr()
    }

    /// Throws CPython's error when `e` cannot be assigned to (or deleted).
    func checkTarget(_ e: Expr, _ context: TargetContext) throws {
        switch e.kind {
        case .name("__debug__"), .attribute(_, "__debug__"):
            throw error(context == .delete ? "cannot delete __debug__" : "cannot assign to __debug__", at: e.loc)
        case .name, .attribute, .subscript:
            return
        case .starred(let inner) where context != .delete:
            return try checkTarget(inner, context == .assignWithHint ? .assign : context)
        case .tuple(let elts), .list(let elts):
            for elt in elts { try checkTarget(elt, context == .assignWithHint ? .assign : context) }
            return
        default:
            break
        }
        let what = describe(e)
        // A bare `yield x = y` reaches CPython's compiler, which words it so; a parenthesized
        // one (or one in a for/with target) its parser's rules, as for other expressions.
        if context != .delete, what == "yield expression", !followsOpenParen(e.loc) {
            throw error("assignment to yield expression not possible", at: e.loc)
        }
        switch context {
        case .delete:
            throw error("cannot delete \(what)", at: e.loc)
        // CPython leaves the hint out for lists, tuples, generator expressions and True/None/False.
        case .assignWithHint where !isKeywordConstant(e) && !isBooleanLevel(e) && !isGeneratorExp(e):
            throw error("cannot assign to \(what) here. Maybe you meant '==' instead of '='?", at: e.loc)
        default:
            throw error("cannot assign to \(what)", at: e.loc)
        }
    }

    /// True when the source just before `l` (spaces aside) is `(`: the expression there
    /// was written in parentheses.
    private func followsOpenParen(_ l: SourceLoc) -> Bool {
        let before = file.line(l.line).utf8.prefix(l.col)
        return before.last(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) == UInt8(ascii: "(")
    }

    /// Augmented assignment takes only a name, attribute or subscript.
    func checkAugmentedTarget(_ e: Expr) throws {
        switch e.kind {
        case .name("__debug__"): throw debugAssignment(at: e.loc)
        case .name, .attribute, .subscript: return
        default:
            throw error("'\(describe(e))' is an illegal expression for augmented assignment", at: e.loc)
        }
    }

    private func isGeneratorExp(_ e: Expr) -> Bool {
        if case .generatorExp = e.kind { return true }
        return false
    }

    private func isKeywordConstant(_ e: Expr) -> Bool {
        if case .constant(let c) = e.kind, c == .true || c == .false || c == .none { return true }
        return false
    }

    /// Expressions CPython's "Maybe you meant '=='" rule never reaches (it looks only at
    /// `bitwise_or` operands).
    private func isBooleanLevel(_ e: Expr) -> Bool {
        switch e.kind {
        case .compare, .boolOp, .ifExp, .lambda, .namedExpr: return true
        case .unary(let op, _): return op == .not
        default: return false
        }
    }

    /// CPython's name for the kind of expression, as used in error messages.
    func describe(_ e: Expr) -> String {
        switch e.kind {
        case .call: return "function call"
        case .constant(let c):
            switch c {
            case .none: return "None"
            case .true: return "True"
            case .false: return "False"
            case .ellipsis: return "ellipsis"
            default: return "literal"
            }
        case .binary, .unary, .boolOp: return "expression"
        case .compare: return "comparison"
        case .ifExp: return "conditional expression"
        case .lambda: return "lambda"
        case .generatorExp: return "generator expression"
        case .yield, .yieldFrom: return "yield expression"
        case .await: return "await expression"
        case .listComp: return "list comprehension"
        case .setComp: return "set comprehension"
        case .dictComp: return "dict comprehension"
        case .dict: return "dict literal"
        case .set: return "set display"
        case .fstring: return "f-string expression"
        case .namedExpr: return "named expression"
        case .starred: return "starred"
        case .tuple: return "tuple"
        case .list: return "list"
        case .slice: return "slice"
        case .startUnit(let kind, _, _): return "'\(kind.rawValue)' expression"
        case .name, .attribute, .subscript: return "expression"
        }
    }
}
