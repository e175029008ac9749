// Atoms: names, numbers, strings, `...`, and parenthesised forms.

extension Parser.State {
    /// Parses an atom.
    ///
    ///     atom: NAME | 'True' | 'False' | 'None' | strings | NUMBER
    ///         | (tuple | group | genexp) | (list | listcomp) | (dict | set | dictcomp | setcomp) | '...'
    mutating func parseAtom() throws -> Expr {
        let t = tok
        switch t.kind {
        case .name:
            return try parseNameAtom()
        case .number:
            // 2**63 (see scanDecimal) is valid only negated, which parseFactor takes first.
            if case .int(Int.min)? = t.value { throw error(Lexer.tooLargeMessage, at: t) }
            advance()
            return Expr(.constant(t.value!), loc(from: t))
        case .string:
            return try parseStrings()
        case .op:
            switch t.text {
            case "(": return try parseParenthesized()
            case "[": return try parseListDisplay()
            case "{": return try parseBraceDisplay()
            case "...":
                advance()
                return Expr(.constant(.ellipsis), loc(from: t))
            default: throw unexpected()
            }
        default:
            throw unexpected()
        }
    }

    /// A name, or one of the keyword constants.
    mutating func parseNameAtom() throws -> Expr {
        let t = tok
        let kind: ExprKind
        switch t.text {
        case "True": kind = .constant(.true)
        case "False": kind = .constant(.false)
        case "None": kind = .constant(.none)
        default:
            if t.isKeyword { throw unexpected() }
            kind = .name(mangled(t.text))
        }
        advance()
        return Expr(kind, loc(from: t))
    }

    /// Parses `( ... )`: a group, a tuple, a generator expression or a yield.
    ///
    ///     tuple: '(' [star_named_expression ',' [star_named_expressions]] ')'
    ///     group: '(' (yield_expr | named_expression) ')'
    ///     genexp: '(' named_expression for_if_clauses ')'
    mutating func parseParenthesized() throws -> Expr {
        let open = advance()
        if accept(")") { return Expr(.tuple([]), loc(from: open)) }
        if atName("yield") {
            let y = try parseYieldExpression()
            try expectClosing(")")
            return y
        }
        let yieldMark = yieldSites.count
        let first = try parseStarNamedExpression()
        if atName("for") || (atName("async") && peek().isName("for")) {
            try checkComprehensionElement(first)
            let clauses = try parseComprehensionClauses(yieldMark: yieldMark, kind: "generator expression")
            try expectClosing(")", previous: first)
            return Expr(.generatorExp(first, clauses), loc(from: open))
        }
        if accept(")") {
            if case .starred = first.kind {
                throw error("cannot use starred expression here", at: first.loc)
            }
            return first
        }
        guard at(",") else { throw missingCommaOrUnexpected(previous: first) }
        var elts = [first]
        while accept(",") {
            if at(")") { break }
            elts.append(try parseStarNamedExpression())
        }
        try expectClosing(")", previous: elts.last)
        return Expr(.tuple(elts), loc(from: open))
    }

    /// Parses adjacent string literals into one constant or f-string.
    ///
    ///     strings: STRING+
    mutating func parseStrings() throws -> Expr {
        let first = tok
        var parts: [FStringPart] = []
        var text = ""
        var bytes: [UInt8] = []
        var isFormat = false
        var isBytes: Bool? = nil
        var last = p
        while tokens[last].kind == .string { last += 1 }
        let lastString = tokens[last - 1]
        tokenAfterStrings = last
        while tok.kind == .string {
            let t = advance()
            let thisIsBytes = t.value.map { if case .bytes = $0 { return true } else { return false } } ?? false
            if let b = isBytes, b != thisIsBytes {
                throw error("cannot mix bytes and nonbytes literals", line: lastString.endLine,
                            column: lastString.endCol + 1)
            }
            isBytes = thisIsBytes
            switch t.value {
            case .bytes(let b)?: bytes += b
            case .string(let s)?: text += s
            default:
                isFormat = true
                if !text.isEmpty { parts.append(.literal(text)); text = "" }
                splittingFString = true
                parts += try parseFStringBody(t.fstring!)
                splittingFString = false
            }
        }
        let l = loc(from: first)
        if isBytes == true { return Expr(.constant(.bytes(bytes)), l) }
        guard isFormat else { return Expr(.constant(.string(text)), l) }
        if !text.isEmpty { parts.append(.literal(text)) }
        return Expr(.fstring(Parser.State.mergeLiterals(parts)), l)
    }

    /// Joins neighbouring literal parts (`"a" f"b{x}"` has "ab" as one literal).
    static func mergeLiterals(_ parts: [FStringPart]) -> [FStringPart] {
        var out: [FStringPart] = []
        for part in parts {
            if case .literal(let s) = part {
                if s.isEmpty { continue }
                if case .literal(let prev)? = out.last {
                    out[out.count - 1] = .literal(prev + s)
                    continue
                }
            }
            out.append(part)
        }
        return out
    }
}
