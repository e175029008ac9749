// Expressions, from the loosest binding (tuples, lambda, conditional) to atoms.

extension Parser.State {
    // MARK: - Tuples and starred

    /// Parses a comma-separated list that becomes a tuple when it has a comma.
    ///
    ///     star_expressions: star_expression (',' star_expression)* [',']
    mutating func parseStarExpressions() throws -> Expr {
        let start = tok
        let first = try parseStarExpression()
        guard at(",") else { return first }
        var elts = [first]
        while accept(",") {
            if !startsExpression(tok) && !at("*") { break }
            elts.append(try parseStarExpression())
        }
        return Expr(.tuple(elts), loc(from: start))
    }

    /// `yield ...` where allowed (right side of `=`, statements), else star_expressions.
    mutating func parseYieldOrStarExpressions() throws -> Expr {
        if atName("yield") { return try parseYieldExpression() }
        return try parseStarExpressions()
    }

    /// Parses one element of a tuple, possibly starred.
    ///
    ///     star_expression: '*' bitwise_or | expression
    mutating func parseStarExpression() throws -> Expr {
        if at("*") {
            let start = advance()
            let value = try parseBitwiseOr()
            return Expr(.starred(value), loc(from: start))
        }
        return try parseExpression()
    }

    /// Parses an element of a display or call, where `:=` is allowed.
    ///
    ///     star_named_expression: '*' bitwise_or | named_expression
    mutating func parseStarNamedExpression() throws -> Expr {
        if at("*") { return try parseStarExpression() }
        return try parseNamedExpression()
    }

    /// Parses a possible assignment expression.
    ///
    ///     named_expression: NAME ':=' expression | expression !':='
    ///
    /// Every descent through brackets passes here and through ``parseExpression()``, so
    /// both keep their own frames small (the rarer paths are functions of their own): debug
    /// builds give every temporary of a function a stack slot, and a hundred nested brackets
    /// must parse on an ordinary 8 MiB stack.
    mutating func parseNamedExpression() throws -> Expr {
        if tok.kind == .name, peek().isOp(":="), atIdentifier { return try parseAssignmentExpression() }
        let e = try parseExpression()
        if at(":=") { throw assignmentExpressionTargetError(e) }
        return e
    }

    /// `NAME := expression`.
    @inline(never)
    mutating func parseAssignmentExpression() throws -> Expr {
        let start = advance()
        let target = Expr(.name(mangled(start.text)), loc(from: start))
        if start.text == "__debug__" { throw debugAssignment(at: target.loc) }
        advance()
        let value = try parseExpression()
        return Expr(.namedExpr(target: target, value: value), span(target.loc, value.loc))
    }

    @inline(never)
    func assignmentExpressionTargetError(_ e: Expr) -> SyntaxError {
        switch e.kind {
        case .name: return error("cannot use assignment expressions with name", at: e.loc)  // `((a) := 1)`
        case .attribute: return error("cannot use assignment expressions with attribute", at: e.loc)
        case .subscript: return error("cannot use assignment expressions with subscript", at: e.loc)
        default: return error("cannot use assignment expressions with \(describe(e))", at: e.loc)
        }
    }

    /// "cannot assign to __debug__". Out of line: the recursive descent functions that
    /// throw it keep small frames (debug builds give every branch's temporaries a slot, and
    /// deep nesting on an ordinary stack counts each byte).
    @inline(never)
    func debugAssignment(at l: SourceLoc) -> SyntaxError {
        error("cannot assign to __debug__", at: l)
    }

    /// Parses `yield`, `yield x, y` or `yield from x`.
    ///
    ///     yield_expr: 'yield' 'from' expression | 'yield' [star_expressions]
    mutating func parseYieldExpression() throws -> Expr {
        let start = advance()
        let e: Expr
        if acceptName("from") {
            let value = try parseExpression()
            e = Expr(.yieldFrom(value), loc(from: start))
        } else if !startsExpression(tok) && !at("*") {
            e = Expr(.yield(nil), loc(from: start))
        } else {
            let value = try parseStarExpressions()
            e = Expr(.yield(value), loc(from: start))
        }
        if functionDepth == 0 { reportLater(error("'yield' outside function", at: e.loc)) }
        yieldSites.append((e.loc, functionDepth))
        return e
    }

    // MARK: - Conditional, lambda, boolean

    /// Parses a full expression (no tuple, no star).
    ///
    ///     expression: disjunction 'if' disjunction 'else' expression | disjunction | lambdef
    mutating func parseExpression() throws -> Expr {
        try enterNesting()
        defer { expressionDepth -= 1 }
        if atName("lambda") { return try parseLambda() }
        let start = p
        let body = try parseDisjunction()
        guard atName("if") else { return body }
        return try parseConditionalExpression(body: body, start: start)
    }

    /// `body if test else orElse`, once `body` (from `tokens[start]`) is parsed and `if` seen.
    @inline(never)
    mutating func parseConditionalExpression(body: Expr, start: Int) throws -> Expr {
        advance()
        let test = try parseDisjunction()
        guard acceptName("else") else {
            // CPython's invalid_expression: whatever follows but `else` or a `:` (`{a if b:
            // c}`, `if x if y:` are other mistakes) is a missing `else`.
            if !at(":") {
                throw error("expected 'else' after 'if' expression", from: body.loc, to: test.loc)
            }
            throw unexpected()
        }
        let orElse = try parseExpression()
        return Expr(.ifExp(test: test, body: body, orElse: orElse), loc(from: tokens[start]))
    }

    /// Parses a lambda.
    ///
    ///     lambdef: 'lambda' [lambda_params] ':' expression
    mutating func parseLambda() throws -> Expr {
        let start = advance()
        let params = try parseParameters(closing: ":", allowAnnotations: false)
        _ = try expect(":")  // no forced ':' in CPython's lambdef: plain "invalid syntax"
        let saved = (functionDepth, isInPlainFunction)
        functionDepth += 1; isInPlainFunction = true
        defer { (functionDepth, isInPlainFunction) = saved }
        let body = try parseExpression()
        return Expr(.lambda(params, body: body), loc(from: start))
    }

    /// Parses `a or b or c`.
    ///
    ///     disjunction: conjunction ('or' conjunction)+ | conjunction
    mutating func parseDisjunction() throws -> Expr {
        let start = tok
        let first = try parseConjunction()
        guard atName("or") else { return first }
        var operands = [first]
        while acceptName("or") { operands.append(try parseConjunction()) }
        return Expr(.boolOp(.or, operands), loc(from: start))
    }

    /// Parses `a and b and c`.
    ///
    ///     conjunction: inversion ('and' inversion)+ | inversion
    mutating func parseConjunction() throws -> Expr {
        let start = tok
        let first = try parseInversion()
        guard atName("and") else { return first }
        var operands = [first]
        while acceptName("and") { operands.append(try parseInversion()) }
        return Expr(.boolOp(.and, operands), loc(from: start))
    }

    /// Parses `not x`.
    ///
    ///     inversion: 'not' inversion | comparison
    mutating func parseInversion() throws -> Expr {
        guard atName("not") else { return try parseComparison() }
        try enterNesting()
        defer { expressionDepth -= 1 }
        let start = advance()
        let operand = try parseInversion()
        return Expr(.unary(.not, operand), loc(from: start))
    }

    // MARK: - Comparison and binary operators

    /// Parses a (possibly chained) comparison.
    ///
    ///     comparison: bitwise_or compare_op_bitwise_or_pair+ | bitwise_or
    mutating func parseComparison() throws -> Expr {
        let start = tok
        let first = try parseBitwiseOr()
        var pairs: [(op: CompareOp, right: Expr)] = []
        while let op = acceptCompareOp() {
            pairs.append((op, try parseBitwiseOr()))
        }
        if pairs.isEmpty { return first }
        return Expr(.compare(first, pairs), loc(from: start))
    }

    /// Consumes a comparison operator, including `not in` and `is not`.
    mutating func acceptCompareOp() -> CompareOp? {
        let t = tok
        if t.kind == .op {
            let op: CompareOp?
            switch t.text {
            case "==": op = .eq
            case "!=": op = .ne
            case "<": op = .lt
            case "<=": op = .le
            case ">": op = .gt
            case ">=": op = .ge
            default: op = nil
            }
            if op != nil { advance() }
            return op
        }
        guard t.kind == .name else { return nil }
        switch t.text {
        case "in": advance(); return .in
        case "is":
            advance()
            return acceptName("not") ? .isNot : .is
        case "not" where peek().isName("in"):
            advance(); advance()
            return .notIn
        default: return nil
        }
    }

    /// Binding strength of a binary operator token (higher binds tighter), or nil.
    static func binaryPrecedence(_ t: Token) -> (Int, BinaryOp)? {
        guard t.kind == .op else { return nil }
        switch t.text {
        case "|": return (1, .bitOr)
        case "^": return (2, .bitXor)
        case "&": return (3, .bitAnd)
        case "<<": return (4, .lshift)
        case ">>": return (4, .rshift)
        case "+": return (5, .add)
        case "-": return (5, .sub)
        case "*": return (6, .mul)
        case "/": return (6, .div)
        case "//": return (6, .floorDiv)
        case "%": return (6, .mod)
        case "@": return (6, .matMul)
        default: return nil
        }
    }

    /// Parses the binary operators from `|` down to `*` by precedence climbing.
    ///
    ///     bitwise_or: bitwise_or '|' bitwise_xor | bitwise_xor
    ///     bitwise_xor: bitwise_xor '^' bitwise_and | bitwise_and
    ///     bitwise_and: bitwise_and '&' shift_expr | shift_expr
    ///     shift_expr: shift_expr ('<<' | '>>') sum | sum
    ///     sum: sum ('+' | '-') term | term
    ///     term: term ('*' | '/' | '//' | '%' | '@') factor | factor
    mutating func parseBitwiseOr(minPrecedence: Int = 1) throws -> Expr {
        let start = tok
        var left = try parseFactor()
        while let (prec, op) = Parser.State.binaryPrecedence(tok), prec >= minPrecedence {
            advance()
            let right = try parseBitwiseOr(minPrecedence: prec + 1)
            left = Expr(.binary(op, left, right), loc(from: start))
        }
        return left
    }

    /// Parses unary plus, minus and invert.
    ///
    ///     factor: '+' factor | '-' factor | '~' factor | power
    mutating func parseFactor() throws -> Expr {
        let t = tok
        guard t.kind == .op, t.text == "-" || t.text == "+" || t.text == "~" else { return try parsePower() }
        try enterNesting()
        defer { expressionDepth -= 1 }
        advance()
        // `-9223372036854775808` is Int.min itself (the lexer's stand-in for 2**63), unless
        // a `**` or a trailer binds the literal first; then parseAtom reports it too large.
        if t.text == "-", tok.kind == .number, case .int(Int.min)? = tok.value,
           !(peek().kind == .op && ["**", "(", "[", "."].contains(peek().text)) {
            advance()
            return Expr(.constant(.int(Int.min)), loc(from: t))
        }
        let operand = try parseFactor()
        let op: UnaryOp = t.text == "-" ? .neg : t.text == "+" ? .pos : .invert
        return Expr(.unary(op, operand), loc(from: t))
    }

    /// Parses `**` (right-associative, binding tighter than unary minus on its left).
    ///
    ///     power: await_primary '**' factor | await_primary
    mutating func parsePower() throws -> Expr {
        let start = tok
        let base = try parseAwaitPrimary()
        guard at("**") else { return base }
        try enterNesting()
        defer { expressionDepth -= 1 }
        advance()
        let exponent = try parseFactor()
        return Expr(.binary(.pow, base, exponent), loc(from: start))
    }

    /// Parses `await x`, a unit-start prefix form, or a primary.
    ///
    ///     await_primary: 'await' (start_unit | primary) | start_unit | primary
    mutating func parseAwaitPrimary() throws -> Expr {
        if atName("await") {
            let start = advance()
            let operand = isUnitStartAhead ? try parseStartUnit() : try parsePrimary()
            let whole = loc(from: start)
            // The caret spans the whole `await x`, as CPython's.
            if isInPlainFunction { reportLater(error("'await' outside async function", at: whole)) }
            return Expr(.await(operand), whole)
        }
        if isUnitStartAhead { return try parseStartUnit() }
        return try parsePrimary()
    }

    // MARK: - Primaries

    /// Parses an atom followed by attribute, call and subscript trailers.
    ///
    ///     primary: primary '.' NAME | primary genexp | primary '(' [arguments] ')'
    ///         | primary '[' slices ']' | atom
    mutating func parsePrimary() throws -> Expr {
        let start = tok
        var e = try parseAtom()
        while tok.kind == .op {
            switch tok.text {
            case ".":
                advance()
                let name = mangled(try expectIdentifier())
                e = Expr(.attribute(e, name), loc(from: start))
            case "(":
                advance()
                let args = try parseArguments(closing: ")")
                try expectClosing(")")
                e = Expr(.call(e, args), loc(from: start))
            case "[":
                advance()
                let index = try parseSlices()
                try expectClosing("]")
                e = Expr(.subscript(e, index), loc(from: start))
            default:
                return e
            }
        }
        return e
    }

    /// Parses what goes between `[` and `]` of a subscript.
    ///
    ///     slices: slice !',' | ','.(slice | starred_expression)+ [',']
    mutating func parseSlices() throws -> Expr {
        let start = tok
        let first = try parseSlice()
        guard at(",") else {
            // `a[*idx]` indexes with the tuple `(*idx,)` (PEP 646).
            if case .starred = first.kind { return Expr(.tuple([first]), loc(from: start)) }
            return first
        }
        var elts = [first]
        while accept(",") {
            if at("]") { break }
            elts.append(try parseSlice())
        }
        return Expr(.tuple(elts), loc(from: start))
    }

    /// Parses one slice or index.
    ///
    ///     slice: [expression] ':' [expression] [':' [expression]] | named_expression
    mutating func parseSlice() throws -> Expr {
        let start = tok
        var lower: Expr? = nil
        if !at(":") {
            let e = try parseStarNamedExpression()
            if !at(":") { return e }
            lower = e
        }
        advance()
        let upper = startsExpression(tok) ? try parseExpression() : nil
        var step: Expr? = nil
        if accept(":") { step = startsExpression(tok) ? try parseExpression() : nil }
        return Expr(.slice(lower: lower, upper: upper, step: step), loc(from: start))
    }

    /// Consumes a closing bracket, or explains why it is missing ("Perhaps you forgot a
    /// comma?" when two expressions stand side by side inside brackets).
    mutating func expectClosing(_ s: String, previous: Expr? = nil) throws {
        if accept(s) { return }
        throw missingCommaOrUnexpected(previous: previous)
    }

    /// CPython's "invalid syntax. Perhaps you forgot a comma?" when an expression follows
    /// another inside brackets; plain "invalid syntax" otherwise.
    mutating func missingCommaOrUnexpected(previous: Expr?) -> SyntaxError {
        // `(x = 5)`, `[a=1]`: CPython's hint for `=` written for `==` inside brackets.
        if let prev = previous, tok.depth > 0, tok.isOp("=") {
            switch prev.kind {
            case .name:
                advance()
                let value = try? parseNamedExpression()
                return error("invalid syntax. Maybe you meant '==' or ':=' instead of '='?", from: prev.loc, to: value?.loc ?? prev.loc)
            case .constant(let c) where c == .true || c == .false || c == .none:
                break
            case .attribute, .subscript, .call, .constant:
                let what: String
                switch prev.kind {
                case .attribute: what = "attribute"
                case .subscript: what = "subscript"
                default: what = describe(prev)
                }
                return error("cannot assign to \(what) here. Maybe you meant '==' instead of '='?", at: prev.loc)
            default: break
            }
        }
        guard let prev = previous, tok.depth > 0, startsExpression(tok), tok.kind != .endMarker else {
            return unexpected()
        }
        if case .name = prev.kind, tok.kind == .string { return unexpected() }
        // CPython underlines both expressions: `1 2` in `print(1 2)`.
        let next = try? parseBitwiseOr()
        return error("invalid syntax. Perhaps you forgot a comma?", from: prev.loc, to: next?.loc ?? prev.loc)
    }

    /// True when `t` can begin an expression.
    func startsExpression(_ t: Token) -> Bool {
        switch t.kind {
        case .number, .string: return true
        case .name:
            switch t.text {
            case "True", "False", "None", "not", "lambda", "await": return true
            default: return !t.isKeyword
            }
        case .op:
            switch t.text {
            case "(", "[", "{", "-", "+", "~", "...": return true
            default: return false
            }
        default: return false
        }
    }
}

extension Parser.State {
    /// Counts one more level of expression nesting; past 1000 levels the input is rejected
    /// (CPython's parser has a similar limit and reports "too many nested parentheses").
    mutating func enterNesting() throws {
        expressionDepth += 1
        if expressionDepth > 1000 { throw error("too many nested expressions", at: tok) }
    }
}
