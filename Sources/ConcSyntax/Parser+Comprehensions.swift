// Displays and comprehensions: lists, sets, dicts and their comprehension forms.

extension Parser.State {
    /// Parses `[...]`: a list display or a list comprehension.
    ///
    ///     list: '[' [star_named_expressions] ']'
    ///     listcomp: '[' named_expression for_if_clauses ']'
    mutating func parseListDisplay() throws -> Expr {
        let open = advance()
        if accept("]") { return Expr(.list([]), loc(from: open)) }
        let yieldMark = yieldSites.count
        let first = try parseStarNamedExpression()
        if atComprehension {
            try checkComprehensionElement(first)
            let clauses = try parseComprehensionClauses(yieldMark: yieldMark, kind: "list comprehension")
            try expectClosing("]", previous: first)
            return Expr(.listComp(first, clauses), loc(from: open))
        }
        let elts = try parseDisplayElements(first: first, closing: "]")
        return Expr(.list(elts), loc(from: open))
    }

    /// Parses `{...}`: a dict or set display or comprehension.
    ///
    ///     dict: '{' [double_starred_kvpairs] '}'
    ///     set: '{' star_named_expressions '}'
    ///     dictcomp: '{' kvpair for_if_clauses '}'
    ///     setcomp: '{' named_expression for_if_clauses '}'
    mutating func parseBraceDisplay() throws -> Expr {
        let open = advance()
        if accept("}") { return Expr(.dict([]), loc(from: open)) }
        if at("**") { return try parseDictDisplay(open: open, firstKey: nil, yieldMark: yieldSites.count) }
        let yieldMark = yieldSites.count
        let first = try parseStarNamedExpression()
        if at(":") { return try parseDictDisplay(open: open, firstKey: first, yieldMark: yieldMark) }
        if atComprehension {
            try checkComprehensionElement(first)
            let clauses = try parseComprehensionClauses(yieldMark: yieldMark, kind: "set comprehension")
            try expectClosing("}", previous: first)
            return Expr(.setComp(first, clauses), loc(from: open))
        }
        let elts = try parseDisplayElements(first: first, closing: "}")
        return Expr(.set(elts), loc(from: open))
    }

    /// `[*x for x in y]`: an unpacked element is CPython's error, over the element.
    func checkComprehensionElement(_ element: Expr) throws {
        if case .starred = element.kind { throw error("iterable unpacking cannot be used in comprehension", at: element.loc) }
    }

    /// The rest of a list or set display after its first element, through the bracket.
    mutating func parseDisplayElements(first: Expr, closing: String) throws -> [Expr] {
        var elts = [first]
        while accept(",") {
            if at(closing) { break }
            elts.append(try parseStarNamedExpression())
        }
        if elts.count > 1 && atComprehension {
            throw error("did you forget parentheses around the comprehension target?", from: first.loc, to: elts.last!.loc)
        }
        try expectClosing(closing, previous: elts.last)
        return elts
    }

    /// Parses a dict display or comprehension once its first key (or `**`) is seen.
    ///
    ///     double_starred_kvpair: '**' bitwise_or | expression ':' expression
    mutating func parseDictDisplay(open: Token, firstKey: Expr?, yieldMark: Int) throws -> Expr {
        var entries: [(key: Expr?, value: Expr)] = []
        var key = firstKey
        while true {
            if let k = key {
                let colon = tok
                if !accept(":") {
                    // One caret on the key's last character (CPython's offset, end_offset 0).
                    var e = error("':' expected after dictionary key", line: k.loc.endLine, column: k.loc.endCol)
                    e.endLine = k.loc.endLine; e.endColumn = 0
                    throw e
                }
                if at("}") || at(",") { throw error("expression expected after dictionary key and ':'", at: colon) }
                if at("*") { throw try starredDictionaryValue() }
                let value = try parseExpression()
                if entries.isEmpty && atComprehension {
                    let clauses = try parseComprehensionClauses(yieldMark: yieldMark, kind: "dict comprehension")
                    try expectClosing("}", previous: value)
                    return Expr(.dictComp(key: k, value: value, clauses), loc(from: open))
                }
                entries.append((k, value))
            } else {
                let stars = tok
                try expect("**")
                entries.append((nil, try parseBitwiseOr()))
                if entries.count == 1 && atComprehension {
                    throw error("dict unpacking cannot be used in dict comprehension", at: stars)
                }
            }
            guard accept(","), !at("}") else { break }
            key = at("**") ? nil : try parseExpression()
        }
        try expectClosing("}", previous: entries.last?.value)
        return Expr(.dict(entries), loc(from: open))
    }

    /// `{k: *v}`: CPython's error over the starred value (out of line, as
    /// ``debugAssignment(at:)``).
    @inline(never)
    mutating func starredDictionaryValue() throws -> SyntaxError {
        let star = try parseStarExpression()
        return error("cannot use a starred expression in a dictionary value", at: star.loc)
    }

    /// True at `for` or `async for`.
    var atComprehension: Bool { atName("for") || (atName("async") && peek().isName("for")) }

    /// Parses the `for`/`if` clauses of a comprehension.
    ///
    ///     for_if_clauses: (['async'] 'for' star_targets 'in' disjunction ('if' disjunction)*)+
    /// `yieldMark` is ``yieldSites``' count where the comprehension's element began, `kind`
    /// what CPython calls it ("list comprehension", "generator expression").
    mutating func parseComprehensionClauses(yieldMark: Int, kind: String) throws -> [Comprehension] {
        var clauses: [Comprehension] = []
        var firstIteration = 0..<0
        while atComprehension {
            let isAsync = acceptName("async")
            advance()
            let target = try parseTargetList()
            guard acceptName("in") else { throw unexpected() }
            let before = yieldSites.count
            let iter = try parseDisjunction()
            if clauses.isEmpty { firstIteration = before..<yieldSites.count }
            var ifs: [Expr] = []
            while acceptName("if") { ifs.append(try parseDisjunction()) }
            clauses.append(Comprehension(target: target, iter: iter, ifs: ifs, isAsync: isAsync))
        }
        checkNoYield(since: yieldMark, firstIteration: firstIteration, kind: kind)
        return clauses
    }

    /// A `yield` in a comprehension's own scope (its element, conditions and every iterable
    /// but the first, which runs in the enclosing scope; not inside a lambda there) is an
    /// error, as CPython's symbol table says: "'yield' inside list comprehension". It
    /// replaces the "'yield' outside function" the same yield gave at module level.
    mutating func checkNoYield(since mark: Int, firstIteration: Range<Int>, kind: String) {
        for i in mark..<yieldSites.count where !firstIteration.contains(i) && yieldSites[i].depth == functionDepth {
            let inside = error("'yield' inside \(kind)", at: yieldSites[i].loc)
            if let earlier = laterError, earlier.message != "'yield' outside function" || earlier.line != inside.line
                || earlier.column != inside.column { return }
            laterError = inside
            return
        }
    }
}
