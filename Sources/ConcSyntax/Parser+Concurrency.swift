// Conc's concurrency syntax (LANGUAGE.md §3): the soft keywords `spawn`, `thread`, `go`
// as prefix forms, and the `select:` statement with `case`/`default` arms.

extension Parser.State {
    /// True at `spawn`/`thread`/`go` used as a prefix: followed by a name, which a plain
    /// use of the word (`thread = 1`, `go(1)`, `print(thread)`) never is.
    var isUnitStartAhead: Bool {
        let t = tok
        guard t.kind == .name, t.text == "spawn" || t.text == "thread" || t.text == "go" else { return false }
        let next = peek()
        return next.kind == .name && !next.isKeyword
    }

    /// Parses a unit-start prefix form.
    ///
    ///     start_unit: ('spawn' | 'thread' | 'go') primary ['with' NAME '=' expression (',' NAME '=' expression)*]
    ///
    /// The primary must be a call.
    mutating func parseStartUnit() throws -> Expr {
        let start = advance()
        let kind = UnitKind(rawValue: start.text)!
        let call = try parsePrimary()
        guard case .call = call.kind else {
            throw error("expected a call after '\(start.text)', as in \(start.text) f(x)", at: call.loc)
        }
        var options: [(name: String, value: Expr)] = []
        if atName("with") && peek().kind == .name && peek(2).isOp("=") {
            repeat {
                advance()
                let name = try expectIdentifier()
                try expect("=")
                options.append((name, try parseExpression()))
            } while at(",") && peek().kind == .name && peek(2).isOp("=")
        }
        return Expr(.startUnit(kind, call: call, options: options), loc(from: start))
    }

    /// True at `select` `:` NEWLINE: the start of a select statement.
    var isSelectStatementAhead: Bool {
        peek().isOp(":") && peek(2).kind == .newline
    }

    /// Parses a `select` statement.
    ///
    ///     select_stmt: 'select' ':' NEWLINE INDENT select_arm+ DEDENT
    ///     select_arm: 'case' [star_targets '='] primary ':' block
    ///         | 'case' 'timeout' '(' expression ')' ':' block
    ///         | 'default' ':' block
    mutating func parseSelectStatement() throws -> Stmt {
        let start = advance()
        advance()
        let l = stmtLoc(from: start)
        advance()
        guard tok.kind == .indent else {
            throw error("expected an indented block after 'select' statement on line \(start.line)",
                        at: tok, kind: "IndentationError")
        }
        advance()
        var arms: [SelectCase] = []
        while tok.kind != .dedent {
            if atName("case") {
                arms.append(try parseSelectCase())
            } else if atName("default") {
                let t = advance()
                try expectColon()
                let armLoc = stmtLoc(from: t)
                arms.append(.default(body: try parseBlock(after: "'default' arm on line \(t.line)"), loc: armLoc))
            } else if tok.kind == .endMarker || tok.kind == .error {
                throw unexpected()
            } else {
                throw error("expected 'case' or 'default' in a select statement", at: tok)
            }
        }
        advance()
        return Stmt(.select(arms), l)
    }

    /// Parses one `case` arm of a select.
    mutating func parseSelectCase() throws -> SelectCase {
        let start = advance()
        let first = try parseStarExpressions()
        var target: Expr? = nil
        var operation = first
        if accept("=") {
            try checkTarget(first, .assign)
            target = first
            operation = try parseExpression()
        }
        try expectColon()
        let l = stmtLoc(from: start)
        guard case .call(let callee, let args) = operation.kind else {
            throw error("a select case must be an operation call, such as q.get() or timeout(1)", at: operation.loc)
        }
        let body = try parseBlock(after: "'case' arm on line \(start.line)")
        if target == nil, case .name("timeout") = callee.kind, args.count == 1, case .positional(let s) = args[0] {
            return .timeout(s, body: body, loc: l)
        }
        return .operation(target: target, operation: operation, body: body, loc: l)
    }
}
