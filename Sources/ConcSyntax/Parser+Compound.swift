// Compound statements: if, while, for, try, with, def, class, decorators, async.

extension Parser.State {
    /// Parses a compound statement, or returns nil when the line is a simple statement.
    ///
    ///     compound_stmt: function_def | if_stmt | class_def | with_stmt | for_stmt
    ///         | try_stmt | while_stmt | select_stmt | match_stmt
    mutating func parseCompoundStatement() throws -> Stmt? {
        if at("@") { return try parseDecorated() }
        guard tok.kind == .name else { return nil }
        switch tok.text {
        case "if": return try parseIfStatement()
        case "while": return try parseWhileStatement()
        case "for": return try parseForStatement(start: tok, isAsync: false)
        case "try": return try parseTryStatement()
        case "with": return try parseWithStatement(start: tok, isAsync: false)
        case "def": return try parseFunctionDef(decorators: [], start: tok)
        case "class": return try parseClassDef(decorators: [], start: tok)
        case "async": return try parseAsyncStatement(decorators: [])
        case "select" where isSelectStatementAhead: return try parseSelectStatement()
        case "match" where isMatchStatementAhead: return try parseMatchStatement()
        default: return nil
        }
    }

    /// Parses an `if` (or, when `start` is `elif`, the rest of the chain).
    ///
    ///     if_stmt: 'if' named_expression ':' block (elif_stmt | [else_block])
    ///     elif_stmt: 'elif' named_expression ':' block (elif_stmt | [else_block])
    mutating func parseIfStatement() throws -> Stmt {
        let start = advance()
        let test = try parseConditionExpression()
        try expectColon()
        let l = stmtLoc(from: start)
        let what = start.text == "if" ? "'if' statement" : "'elif' statement"
        let body = try parseBlock(after: "\(what) on line \(start.line)")
        var orElse: [Stmt] = []
        if atName("elif") {
            orElse = [try parseIfStatement()]
        } else if atName("else") {
            orElse = try parseElseBlock()
        }
        return Stmt(.if(test: test, body: body, orElse: orElse), l)
    }

    /// A condition of `if`/`elif`/`while`, with CPython's hint for a stray `=`.
    mutating func parseConditionExpression() throws -> Expr {
        let test = try parseNamedExpression()
        if at("=") {
            // CPython's invalid_named_expression: `x.a = 1` and other targets that are not
            // a plain name get "cannot assign to attribute here" (displays and constants not).
            switch test.kind {
            case .constant(let c) where c == .true || c == .false || c == .none: break
            case .attribute, .subscript, .call, .constant:
                var what = describe(test)
                if case .attribute = test.kind { what = "attribute" }
                if case .subscript = test.kind { what = "subscript" }
                throw error("cannot assign to \(what) here. Maybe you meant '==' instead of '='?", at: test.loc)
            default: break
            }
            let message = "invalid syntax. Maybe you meant '==' or ':=' instead of '='?"
            // CPython underlines `x = 1`: the target through the value.
            advance()
            let value = try? parseNamedExpression()
            throw error(message, from: test.loc, to: value?.loc ?? test.loc)
        }
        return test
    }

    /// Parses `else: block`.
    ///
    ///     else_block: 'else' ':' block
    mutating func parseElseBlock() throws -> [Stmt] {
        let t = advance()
        try expectColon(evenMidLine: true)  // CPython's `'else' &&':'`: `else if x:` says so
        return try parseBlock(after: "'else' statement on line \(t.line)")
    }

    /// Parses a `while` loop.
    ///
    ///     while_stmt: 'while' named_expression ':' block [else_block]
    mutating func parseWhileStatement() throws -> Stmt {
        let start = advance()
        let test = try parseConditionExpression()
        try expectColon()
        let l = stmtLoc(from: start)
        loopDepth += 1
        let body = try parseBlock(after: "'while' statement on line \(start.line)")
        loopDepth -= 1
        let orElse = atName("else") ? try parseElseBlock() : []
        return Stmt(.while(test: test, body: body, orElse: orElse), l)
    }

    /// Parses a `for` loop (`start` is `for`, or `async` before it).
    ///
    ///     for_stmt: ['async'] 'for' star_targets 'in' star_expressions ':' block [else_block]
    mutating func parseForStatement(start: Token, isAsync: Bool) throws -> Stmt {
        advance()
        let target = try parseTargetList()
        guard acceptName("in") else { throw unexpected() }
        let iter = try parseStarExpressions()
        try expectColon()
        let l = stmtLoc(from: start)
        loopDepth += 1
        let body = try parseBlock(after: "'for' statement on line \(start.line)")
        loopDepth -= 1
        let orElse = atName("else") ? try parseElseBlock() : []
        return Stmt(.for(target: target, iter: iter, body: body, orElse: orElse, isAsync: isAsync), l)
    }

    /// Parses a `try` statement.
    ///
    ///     try_stmt: 'try' ':' block finally_block
    ///         | 'try' ':' block except_block+ [else_block] [finally_block]
    mutating func parseTryStatement() throws -> Stmt {
        let start = advance()
        try expectColon(evenMidLine: true)  // `'try' &&':'`, as `finally` and `else`
        let l = stmtLoc(from: start)
        let body = try parseBlock(after: "'try' statement on line \(start.line)")
        var handlers: [ExceptHandler] = []
        while atName("except") {
            let h = try parseExceptBlock()
            if let first = handlers.first, first.isStar != h.isStar {
                throw error("cannot have both 'except' and 'except*' on the same 'try'", at: h.keywordLoc)
            }
            handlers.append(h)
        }
        if let bare = handlers.dropLast().first(where: { $0.type == nil }) {
            throw error("default 'except:' must be last", at: bare.loc)
        }
        let orElse = !handlers.isEmpty && atName("else") ? try parseElseBlock() : []
        var final: [Stmt] = []
        if atName("finally") {
            let t = advance()
            try expectColon(evenMidLine: true)
            final = try parseBlock(after: "'finally' statement on line \(t.line)")
        } else if handlers.isEmpty {
            // At the end of the file CPython names the last line, with no caret.
            if tok.kind == .endMarker {
                let last = file.lastLine
                throw errorWithoutCaret("expected 'except' or 'finally' block", line: last,
                                        column: file.line(last).unicodeScalars.count + 1)
            }
            throw error("expected 'except' or 'finally' block", at: tok)
        }
        return Stmt(.try(body: body, handlers: handlers, orElse: orElse, finally: final), l)
    }

    /// Parses one `except` or `except*` clause.
    ///
    ///     except_block: 'except' expression ['as' NAME] ':' block | 'except' ':' block
    ///     except_star_block: 'except' '*' expression ['as' NAME] ':' block
    mutating func parseExceptBlock() throws -> ExceptHandler {
        let start = advance()
        let isStar = at("*")
        if isStar { _ = advance() }
        let keyword = loc(from: start)
        var type: Expr? = nil
        var name: String? = nil
        if isStar && at(":") { throw error("expected one or more exception types", at: tok) }
        if !at(":") && tok.kind != .newline && tok.kind != .endMarker {
            type = try parseExpression()
            if at(",") {
                throw error("multiple exception types must be parenthesized", at: type!.loc)
            }
            if acceptName("as") { name = mangled(try expectIdentifier()) }
        }
        try expectColon()
        let l = stmtLoc(from: start)
        let saved = exceptStarLoopDepth
        if isStar { exceptStarLoopDepth = loopDepth }
        defer { exceptStarLoopDepth = saved }
        let body = try parseBlock(after: "'\(isStar ? "except*" : "except")' statement on line \(start.line)")
        return ExceptHandler(type: type, name: name, body: body, loc: l, isStar: isStar, keywordLoc: keyword)
    }

    /// Parses a `with` statement (`start` is `with`, or `async` before it).
    ///
    ///     with_stmt: ['async'] 'with' '(' ','.with_item+ ','? ')' ':' block
    ///         | ['async'] 'with' ','.with_item+ ':' block
    mutating func parseWithStatement(start: Token, isAsync: Bool) throws -> Stmt {
        advance()
        var items: [WithItem]
        if let parenthesized = tryParseParenthesizedWithItems() {
            items = parenthesized
        } else {
            items = [try parseWithItem()]
            while accept(",") { items.append(try parseWithItem()) }
        }
        try expectColon()
        let l = stmtLoc(from: start)
        let body = try parseBlock(after: "'with' statement on line \(start.line)")
        return Stmt(.with(items, body: body, isAsync: isAsync), l)
    }

    /// `with (a as b, c as d):` — tried first (so `with (a, b):` has two items, as in
    /// CPython), and abandoned when the parenthesis turns out to be part of an ordinary
    /// expression such as `with (a, b) as c:` or `with (yield):`.
    mutating func tryParseParenthesizedWithItems() -> [WithItem]? {
        guard at("(") else { return nil }
        let saved = self
        advance()
        var items: [WithItem] = []
        do {
            repeat {
                if at(")") && !items.isEmpty { break }
                items.append(try parseWithItem())
            } while accept(",")
            if accept(")") && at(":") { return items }
        } catch {}
        self = saved
        return nil
    }

    /// Parses `expression ['as' star_target]`.
    ///
    ///     with_item: expression 'as' star_target &(',' | ')' | ':') | expression
    mutating func parseWithItem() throws -> WithItem {
        let context = try parseExpression()
        guard acceptName("as") else { return WithItem(context: context, target: nil) }
        let target = try parseStarTarget()
        try checkTarget(target, .assign)
        return WithItem(context: context, target: target)
    }

    // MARK: - Definitions

    /// Parses decorators and the definition they decorate.
    ///
    ///     decorators: ('@' named_expression NEWLINE)+
    mutating func parseDecorated() throws -> Stmt {
        var decorators: [Expr] = []
        while accept("@") {
            decorators.append(try parseNamedExpression())
            guard tok.kind == .newline else { throw unexpected() }
            advance()
        }
        let start = tok
        if atName("def") { return try parseFunctionDef(decorators: decorators, start: start) }
        if atName("class") { return try parseClassDef(decorators: decorators, start: start) }
        if atName("async") { return try parseAsyncStatement(decorators: decorators) }
        throw unexpected()
    }

    /// Parses `async def`, `async for`, `async with`.
    mutating func parseAsyncStatement(decorators: [Expr]) throws -> Stmt {
        let start = advance()
        if atName("def") { return try parseFunctionDef(decorators: decorators, start: start, isAsync: true) }
        if decorators.isEmpty && atName("for") { return try parseForStatement(start: start, isAsync: true) }
        if decorators.isEmpty && atName("with") { return try parseWithStatement(start: start, isAsync: true) }
        throw unexpected()
    }

    /// Parses a function definition.
    ///
    ///     function_def: decorators? ['async'] 'def' NAME '(' [params] ')' ['->' expression] ':' block
    mutating func parseFunctionDef(decorators: [Expr], start: Token, isAsync: Bool = false) throws -> Stmt {
        advance()
        let name = try expectIdentifier()
        try expect("(", "expected '('")
        var params = try parseParameters(closing: ")", allowAnnotations: true)
        try expect(")")
        if accept("->") { params.annotations.append(("return", try parseAnnotation())) }
        try expectColon(evenMidLine: true)
        let l = stmtLoc(from: start)
        let saved = (functionDepth, loopDepth, isInPlainFunction, exceptStarLoopDepth)
        functionDepth += 1; loopDepth = 0; isInPlainFunction = !isAsync; exceptStarLoopDepth = nil
        defer { (functionDepth, loopDepth, isInPlainFunction, exceptStarLoopDepth) = saved }
        let body = try parseBlock(after: "function definition on line \(start.line)")
        let def = FunctionDef(name: name, boundName: mangled(name), params: params, body: body, decorators: decorators, isAsync: isAsync)
        return Stmt(.functionDef(def), l)
    }

    /// Parses a class definition.
    ///
    ///     class_def: decorators? 'class' NAME ['(' [arguments] ')'] ':' block
    mutating func parseClassDef(decorators: [Expr], start: Token) throws -> Stmt {
        advance()
        let name = try expectIdentifier()
        var bases: [Expr] = []
        var keywords: [(name: String, value: Expr)] = []
        if accept("(") {
            for arg in try parseArguments(closing: ")", soleGeneratorAllowed: false) {
                switch arg {
                case .positional(let e): bases.append(e)
                case .star(let e): bases.append(Expr(.starred(e), e.loc))
                case .keyword(let k, let v): keywords.append((k, v))
                case .doubleStar(let e): keywords.append(("**", e))
                }
            }
            try expect(")")
        }
        try expectColon()
        let l = stmtLoc(from: start)
        let boundName = mangled(name)
        let saved = (functionDepth, loopDepth, isInPlainFunction, isInClassInFunction, className, exceptStarLoopDepth)
        isInClassInFunction = true
        functionDepth = 0; loopDepth = 0; isInPlainFunction = false; className = name; exceptStarLoopDepth = nil
        defer { (functionDepth, loopDepth, isInPlainFunction, isInClassInFunction, className, exceptStarLoopDepth) = saved }
        let body = try parseBlock(after: "class definition on line \(start.line)")
        let def = ClassDef(name: name, boundName: boundName, bases: bases, keywords: keywords, body: body, decorators: decorators)
        return Stmt(.classDef(def), l)
    }
}
