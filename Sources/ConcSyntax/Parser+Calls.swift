// Call arguments and definition parameters.

extension Parser.State {
    /// Parses call arguments up to (not including) the closing bracket.
    ///
    ///     arguments: ','.(starred_expression | (assignment_expression | expression !':=') !'=')+
    ///                [',' kwargs] [','] | kwargs
    ///     kwarg_or_starred: NAME '=' expression | starred_expression
    ///     kwarg_or_double_starred: NAME '=' expression | '**' expression
    /// `soleGeneratorAllowed` is false for class bases (`class C(x for x in y)` is invalid).
    mutating func parseArguments(closing: String, soleGeneratorAllowed: Bool = true) throws -> [Argument] {
        var args: [Argument] = []
        var seenKeyword = false, seenDoubleStar = false
        var firstDoubleStar: SourceLoc? = nil
        var keywordNames: Set<String> = []
        while !at(closing) {
            let start = tok
            if accept("*") {
                if let d = firstDoubleStar {
                    throw error("iterable argument unpacking follows keyword argument unpacking", at: d)
                }
                let value = try parseExpression()
                if atComprehension { throw error("iterable unpacking cannot be used in comprehension", at: loc(from: start)) }
                args.append(.star(value))
            } else if accept("**") {
                seenDoubleStar = true
                args.append(.doubleStar(try parseExpression()))
                if firstDoubleStar == nil { firstDoubleStar = loc(from: start) }
            } else if atIdentifier && peek().isOp("=") {
                let nameToken = advance()
                let name = nameToken.text
                advance()
                let nameAndEquals = loc(from: nameToken)
                let value = try parseExpression()
                if atComprehension {
                    // `f(a = x for x in y)`: CPython's message, over `a =`.
                    throw error("invalid syntax. Maybe you meant '==' or ':=' instead of '='?", at: nameAndEquals)
                }
                if !keywordNames.insert(name).inserted {
                    reportLater(error("keyword argument repeated: \(name)", at: loc(from: start)))
                }
                seenKeyword = true
                args.append(.keyword(name, value))
            } else {
                let e = try parsePositionalArgument(isSole: args.isEmpty, soleGeneratorAllowed: soleGeneratorAllowed)
                if seenDoubleStar || seenKeyword {
                    let msg = seenDoubleStar ? "positional argument follows keyword argument unpacking"
                        : "positional argument follows keyword argument"
                    throw error(msg, line: e.loc.endLine, column: e.loc.endCol + 1)
                }
                args.append(.positional(e))
            }
            guard accept(",") else {
                if !at(closing), case .positional(let last)? = args.last {
                    throw missingCommaOrUnexpected(previous: last)
                }
                // `f(x=1 y=2)`: the comma hint from the keyword's value.
                if !at(closing), case .keyword(_, let value)? = args.last, startsExpression(tok) {
                    throw missingCommaOrUnexpected(previous: value)
                }
                break
            }
        }
        return args
    }

    /// One positional argument; a bare generator expression is allowed when it is the
    /// only argument (`f(x for x in y)`).
    mutating func parsePositionalArgument(isSole: Bool, soleGeneratorAllowed: Bool = true) throws -> Expr {
        let start = isSole && p > 0 && tokens[p - 1].isOp("(") ? tokens[p - 1] : tok
        let yieldMark = yieldSites.count
        let e = try parseNamedExpression()
        if at("=") {
            // Underlined up to the `=`, as CPython's invalid_kwarg does.
            throw error("expression cannot contain assignment, perhaps you meant \"==\"?", from: e.loc,
                        to: SourceLoc(line: tok.line, col: tok.col, endLine: tok.endLine, endCol: tok.endCol))
        }
        guard atComprehension else { return e }
        let forIndex = p
        let clauses = try parseComprehensionClauses(yieldMark: yieldMark, kind: "generator expression")
        var l = loc(from: start)
        if !isSole || at(",") {
            throw error("Generator expression must be parenthesized", from: e.loc, to: l)
        }
        if !soleGeneratorAllowed { throw invalidSyntax(atToken: forIndex) }
        // Like CPython, the call's own parentheses delimit the generator expression.
        if isSole && at(")") {
            l.endLine = tok.endLine
            l.endCol = tok.endCol
        }
        return Expr(.generatorExp(e, clauses), l)
    }

    /// Plain "invalid syntax" at `tokens[i]`, out of line (see ``debugAssignment(at:)``).
    @inline(never)
    func invalidSyntax(atToken i: Int) -> SyntaxError {
        error("invalid syntax", at: tokens[i])
    }

    /// Parses a parameter list up to `closing` (`)` for `def`, `:` for `lambda`).
    ///
    ///     parameters: slash_no_default param_no_default* param_with_default* [star_etc]
    ///         | ... (positional-only `/`, `*`/`*args`, keyword-only, `**kwargs`)
    ///     param: NAME [':' expression] ['=' expression]
    mutating func parseParameters(closing: String, allowAnnotations: Bool) throws -> Parameters {
        var params = Parameters()
        var seenStar = false, seenSlash = false, seenDefault = false
        var bareStar: Token? = nil
        var names: Set<String> = []
        while !at(closing) {
            let t = tok
            if params.varKeywords != nil {
                throw error("arguments cannot follow var-keyword argument", at: t)
            }
            if accept("/") {
                if seenSlash { throw error("/ may appear only once", at: t) }
                if seenStar { throw error("/ must be ahead of *", at: t) }
                if params.positional.isEmpty { throw error("invalid syntax", at: t) }
                seenSlash = true
                params.positionalOnlyCount = params.positional.count
            } else if accept("*") {
                if seenStar { throw error("* argument may appear only once", at: t) }
                seenStar = true
                if !at(",") && !at(closing) {
                    let name = try parseParameterName(&names, &params, allowAnnotations: allowAnnotations)
                    params.varArgs = name
                    if at("=") { throw error("var-positional argument cannot have default value", at: tok) }
                } else {
                    bareStar = t
                }
            } else if accept("**") {
                let name = try parseParameterName(&names, &params, allowAnnotations: allowAnnotations)
                params.varKeywords = name
                if at("=") { throw error("var-keyword argument cannot have default value", at: tok) }
            } else {
                if at("(") { try rejectParenthesizedParameters(lambda: closing != ")") }
                let name = try parseParameterName(&names, &params, allowAnnotations: allowAnnotations)
                if at("="), peek().isOp(",") || peek().isOp(closing) {
                    throw error("expected default value expression", at: tok)
                }
                let value = accept("=") ? try parseExpression() : nil
                let param = Param(name: name, defaultValue: value, loc: loc(from: t))
                if seenStar {
                    params.keywordOnly.append(param)
                } else {
                    if value == nil && seenDefault {
                        throw error("non-default argument follows default argument", at: t)
                    }
                    seenDefault = seenDefault || value != nil
                    params.positional.append(param)
                }
            }
            guard accept(",") else { break }
        }
        if let star = bareStar, params.keywordOnly.isEmpty {
            throw error("named arguments must follow bare *", at: star)
        }
        return params
    }

    /// `def f(x, (y, z))`: Python 2's tuple parameters get CPython's own message, over the
    /// parentheses; anything else there is left to the usual "invalid syntax".
    mutating func rejectParenthesizedParameters(lambda: Bool) throws {
        let open = tok
        var i = p + 1
        var sawName = false
        while i < tokens.count, tokens[i].kind == .name || tokens[i].isOp(",") {
            sawName = sawName || tokens[i].kind == .name
            i += 1
        }
        guard sawName, i < tokens.count, tokens[i].isOp(")") else { return }
        let what = lambda ? "Lambda expression parameters" : "Function parameters"
        let close = tokens[i]
        throw error("\(what) cannot be parenthesized",
                    at: SourceLoc(line: open.line, col: open.col, endLine: close.endLine, endCol: close.endCol))
    }

    /// A parameter name with an optional annotation (kept in `params.annotations`), checking
    /// duplicates.
    mutating func parseParameterName(_ names: inout Set<String>, _ params: inout Parameters, allowAnnotations: Bool) throws -> String {
        let t = tok
        let name = try expectIdentifier()
        if !names.insert(name).inserted {
            reportLater(error("duplicate argument '\(name)' in function definition", at: t))
        }
        if name == "__debug__" { reportLater(error("cannot assign to __debug__", at: t)) }
        if allowAnnotations && accept(":") { params.annotations.append((mangled(name), try parseAnnotation())) }
        return mangled(name)
    }
}
