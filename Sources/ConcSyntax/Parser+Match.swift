// The `match` statement (PEP 634): its header, `case` clauses and patterns, and the checks
// CPython's compiler makes on them (unreachable cases, names bound twice or not by every
// alternative, duplicate keys and attributes).

extension Parser.State {
    /// True when the line starting with the soft keyword `match` is a match statement:
    /// `match <subject>:` then an indented block opening with `case`. Anything else
    /// (`match = re.match(p, s)`, `match(x)`) is an ordinary statement about a name.
    var isMatchStatementAhead: Bool {
        let next = peek()
        guard startsExpression(next) || next.isOp("*") else { return false }
        var probe = self
        probe.advance()
        // `match <expression>:` at the end of a line cannot be anything else; nor can
        // `match <expression>` before an indented `case` (its error: "expected ':'").
        guard (try? probe.parseMatchSubject()) != nil else { return false }
        if probe.accept(":") { return probe.tok.kind == .newline }
        return probe.tok.kind == .newline && probe.peek().kind == .indent
            && probe.peek(2).kind == .name && probe.peek(2).text == "case"
    }

    /// Parses a match statement (``isMatchStatementAhead`` said it is one).
    ///
    ///     match_stmt: "match" subject_expr ':' NEWLINE INDENT case_block+ DEDENT
    mutating func parseMatchStatement() throws -> Stmt {
        let start = advance()
        let subject = try parseMatchSubject()
        try expectColon()
        let l = stmtLoc(from: start)
        guard tok.kind == .newline else { throw unexpected() }
        advance()
        guard tok.kind == .indent else {
            throw error("expected an indented block after 'match' statement on line \(start.line)",
                        line: tok.line, column: tok.col + 1, kind: "IndentationError")
        }
        advance()
        var cases: [MatchCase] = []
        while tok.kind != .dedent {
            guard atName("case") else { throw unexpected() }
            cases.append(try parseCaseBlock())
        }
        advance()
        for (i, c) in cases.enumerated() {
            // Only the last case, or one with a guard, may match everything (CPython's
            // "makes remaining patterns unreachable").
            try checkPattern(c.pattern, allowIrrefutable: c.guardTest != nil || i == cases.count - 1)
        }
        return Stmt(.match(subject: subject, cases: cases), l)
    }

    /// The subject: one expression, or a tuple of several (`match x, y:`).
    ///
    ///     subject_expr: star_named_expression ',' star_named_expressions? | named_expression
    mutating func parseMatchSubject() throws -> Expr {
        let start = tok
        let first = try parseStarNamedExpression()
        guard at(",") else {
            if case .starred = first.kind { throw error("can't use starred expression here", at: first.loc) }
            return first
        }
        var items = [first]
        while accept(",") {
            if at(":") { break }
            items.append(try parseStarNamedExpression())
        }
        return Expr(.tuple(items), loc(from: start))
    }

    /// Parses one `case` clause.
    ///
    ///     case_block: "case" patterns guard? ':' block
    ///     guard: 'if' named_expression
    mutating func parseCaseBlock() throws -> MatchCase {
        let start = advance()
        let pattern = try parseCasePatterns()
        var guardTest: Expr? = nil
        if acceptName("if") { guardTest = try parseNamedExpression() }
        try expectColon()
        let body = try parseBlock(after: "'case' statement on line \(start.line)")
        return MatchCase(pattern: pattern, guardTest: guardTest, body: body)
    }

    /// The pattern of a case: a bare `a, *b` is a sequence pattern.
    ///
    ///     patterns: open_sequence_pattern | pattern
    mutating func parseCasePatterns() throws -> Pattern {
        let start = tok
        let first = try parseMaybeStarPattern()
        guard at(",") else {
            if case .star = first.kind { throw unexpected() }
            return first
        }
        var items = [first]
        while accept(",") {
            if at(":") || atName("if") { break }
            items.append(try parseMaybeStarPattern())
        }
        return Pattern(.sequence(items), loc(from: start))
    }

    /// An item of a sequence pattern: a pattern, or `*name`.
    ///
    ///     maybe_star_pattern: star_pattern | pattern
    ///     star_pattern: '*' (pattern_capture_target | wildcard_pattern)
    mutating func parseMaybeStarPattern() throws -> Pattern {
        guard at("*") else { return try parsePattern() }
        let start = advance()
        guard tok.kind == .name, !tok.isKeyword else { throw unexpected() }
        let name = advance().text
        return Pattern(.star(name == "_" ? nil : mangled(name)), loc(from: start))
    }

    /// A pattern with its alternatives and `as` name.
    ///
    ///     pattern: as_pattern | or_pattern
    ///     as_pattern: or_pattern 'as' pattern_capture_target
    ///     or_pattern: '|'.closed_pattern+
    mutating func parsePattern() throws -> Pattern {
        let start = tok
        try enterNesting()
        defer { expressionDepth -= 1 }
        var alternatives = [try parseClosedPattern()]
        while accept("|") { alternatives.append(try parseClosedPattern()) }
        var p = alternatives.count == 1 ? alternatives[0] : Pattern(.or(alternatives), loc(from: start))
        if atName("as") {
            advance()
            guard tok.kind == .name, !tok.isKeyword else {
                // An expression where a name should be (`as (z)`, `as 5`) has CPython's own
                // words, at that expression (a group's is its inner one).
                var probe = self
                if let target = try? probe.parseExpression() { throw error("invalid pattern target", at: target.loc) }
                throw unexpected()
            }
            let target = advance()
            if target.text == "_" { throw error("cannot use '_' as a target", at: target) }
            p = Pattern(.asPattern(p, mangled(target.text)), loc(from: start))
        }
        return p
    }

    /// One pattern without `|` or `as`.
    ///
    ///     closed_pattern: literal_pattern | capture_pattern | wildcard_pattern | value_pattern
    ///         | group_pattern | sequence_pattern | mapping_pattern | class_pattern
    mutating func parseClosedPattern() throws -> Pattern {
        let start = tok
        switch tok.kind {
        case .number, .string:
            return Pattern(.value(try parseLiteralPatternValue()), loc(from: start))
        case .op where tok.text == "-":
            return Pattern(.value(try parseLiteralPatternValue()), loc(from: start))
        case .op where tok.text == "(":
            advance()
            if accept(")") { return Pattern(.sequence([]), loc(from: start)) }
            let first = try parseMaybeStarPattern()
            if accept(")") {
                if case .star = first.kind { return Pattern(.sequence([first]), loc(from: start)) }
                return first  // a group: `(p)` is p
            }
            guard accept(",") else { throw unexpected() }
            return Pattern(.sequence([first] + (try parseSequencePatternItems(closing: ")"))), loc(from: start))
        case .op where tok.text == "[":
            advance()
            return Pattern(.sequence(try parseSequencePatternItems(closing: "]")), loc(from: start))
        case .op where tok.text == "{":
            return try parseMappingPattern()
        case .name:
            switch tok.text {
            case "None": advance(); return Pattern(.singleton(.none), loc(from: start))
            case "True": advance(); return Pattern(.singleton(.true), loc(from: start))
            case "False": advance(); return Pattern(.singleton(.false), loc(from: start))
            default: break
            }
            if tok.isKeyword { throw unexpected() }
            let nameTok = advance()
            var ref = Expr(.name(mangled(nameTok.text)), loc(from: nameTok))
            var dotted = false
            while at(".") {
                advance()
                guard tok.kind == .name, !tok.isKeyword else { throw unexpected() }
                let attr = advance().text
                ref = Expr(.attribute(ref, attr), loc(from: nameTok))
                dotted = true
            }
            if at("(") { return try parseClassPattern(ref, start: start) }
            if dotted { return Pattern(.value(ref), loc(from: start)) }
            return Pattern(.capture(nameTok.text == "_" ? nil : mangled(nameTok.text)), loc(from: start))
        default:
            throw unexpected()
        }
    }

    /// The items of a sequence pattern up to `closing` (consumed), a trailing comma allowed.
    mutating func parseSequencePatternItems(closing: String) throws -> [Pattern] {
        var items: [Pattern] = []
        while !at(closing) {
            items.append(try parseMaybeStarPattern())
            if !accept(",") { break }
        }
        try expect(closing)
        return items
    }

    /// A literal of a pattern: a number (signed, or a complex sum), strings, bytes.
    ///
    ///     literal_pattern: signed_number | complex_number | strings
    mutating func parseLiteralPatternValue() throws -> Expr {
        let start = tok
        if tok.kind == .string {
            let e = try parseStrings()
            if case .fstring = e.kind { throw error("patterns may only match literals and attribute lookups", at: e.loc) }
            return e
        }
        var value: Expr
        if accept("-") {
            guard tok.kind == .number else { throw unexpected() }
            let n = advance()
            if case .int(Int.min)? = n.value {
                value = Expr(.constant(.int(Int.min)), loc(from: start))
            } else {
                value = Expr(.unary(.neg, Expr(.constant(n.value!), loc(from: n))), loc(from: start))
            }
        } else {
            guard tok.kind == .number else { throw unexpected() }
            let n = advance()
            if case .int(Int.min)? = n.value { throw error(Lexer.tooLargeMessage, at: n) }
            value = Expr(.constant(n.value!), loc(from: n))
        }
        // `1 + 2j`: a real part and an imaginary one (anything else after the sign is an
        // error there, as CPython's grammar finds it).
        if (at("+") || at("-")) && peek().kind != .number && start.kind == .number {
            advance()
            throw unexpected()
        }
        if (at("+") || at("-")) && peek().kind == .number {
            let op: BinaryOp = advance().text == "+" ? .add : .sub
            let n = advance()
            guard case .imaginary? = n.value else { throw error("imaginary number required in complex literal", at: n) }
            value = Expr(.binary(op, value, Expr(.constant(n.value!), loc(from: n))), loc(from: start))
        }
        return value
    }

    /// `{key: pattern, **rest}`.
    ///
    ///     mapping_pattern: '{' [items_pattern ','] [double_star_pattern ','] '}'
    ///     key_value_pattern: (literal_expr | attr) ':' pattern
    mutating func parseMappingPattern() throws -> Pattern {
        let start = advance()
        var keys: [Expr] = [], values: [Pattern] = []
        var rest: String? = nil
        while !at("}") {
            if accept("**") {
                guard tok.kind == .name, !tok.isKeyword, tok.text != "_" else { throw unexpected() }
                rest = mangled(advance().text)
                _ = accept(",")
                break
            }
            keys.append(try parseMappingKey())
            try expect(":")
            values.append(try parsePattern())
            if !accept(",") { break }
        }
        try expect("}")
        return Pattern(.mapping(keys: keys, values: values, rest: rest), loc(from: start))
    }

    /// A key of a mapping pattern: a literal or a dotted name (`Color.RED`).
    mutating func parseMappingKey() throws -> Expr {
        let start = tok
        switch tok.kind {
        case .number, .string: return try parseLiteralPatternValue()
        case .op where tok.text == "-": return try parseLiteralPatternValue()
        case .name:
            switch tok.text {
            case "None": advance(); return Expr(.constant(.none), loc(from: start))
            case "True": advance(); return Expr(.constant(.true), loc(from: start))
            case "False": advance(); return Expr(.constant(.false), loc(from: start))
            default: break
            }
            // Only a dotted name: a plain one would be a capture, which a key cannot be.
            guard !tok.isKeyword, peek().isOp(".") else { advance(); throw unexpected() }
            var ref = Expr(.name(mangled(advance().text)), loc(from: start))
            while accept(".") {
                guard tok.kind == .name, !tok.isKeyword else { throw unexpected() }
                ref = Expr(.attribute(ref, advance().text), loc(from: start))
            }
            return ref
        default:
            throw unexpected()
        }
    }

    /// `Cls(p, q, attr=r)`.
    ///
    ///     class_pattern: name_or_attr '(' [positional_patterns ','] [keyword_patterns ','] ')'
    mutating func parseClassPattern(_ cls: Expr, start: Token) throws -> Pattern {
        advance()
        var positional: [Pattern] = []
        var keywords: [(name: String, pattern: Pattern)] = []
        while !at(")") {
            if tok.kind == .name, !tok.isKeyword, peek().isOp("=") {
                let name = advance()
                advance()
                let p = try parsePattern()
                if keywords.contains(where: { $0.name == name.text }) {
                    throw error("attribute name repeated in class pattern: \(name.text)", at: p.loc)
                }
                keywords.append((name.text, p))
            } else {
                let p = try parsePattern()
                if !keywords.isEmpty { throw error("positional patterns follow keyword patterns", at: p.loc) }
                positional.append(p)
            }
            if !accept(",") { break }
        }
        try expect(")")
        return Pattern(.classPattern(cls: cls, positional: positional, keywords: keywords), loc(from: start))
    }

    // MARK: - Checks CPython's compiler makes

    /// Checks one case's pattern: no name bound twice, the same names bound by every
    /// alternative of an `|`, at most one star per sequence, no literal key twice in a
    /// mapping, and no irrefutable part where it would make later cases unreachable.
    func checkPattern(_ p: Pattern, allowIrrefutable: Bool) throws {
        var bound: [String] = []
        try check(p, allowIrrefutable: allowIrrefutable, &bound)
    }

    private func check(_ p: Pattern, allowIrrefutable: Bool, _ bound: inout [String]) throws {
        func bind(_ name: String, _ loc: SourceLoc) throws {
            if name == "__debug__" { throw error("cannot assign to __debug__", at: loc) }
            if bound.contains(name) { throw error("multiple assignments to name '\(name)' in pattern", at: loc) }
            bound.append(name)
        }
        switch p.kind {
        case .value, .singleton: break
        case .capture(let name):
            if !allowIrrefutable {
                let message = name.map { "name capture '\($0)' makes remaining patterns unreachable" }
                    ?? "wildcard makes remaining patterns unreachable"
                throw error(message, at: p.loc)
            }
            if let n = name { try bind(n, p.loc) }
        case .star(let name):
            if let n = name { try bind(n, p.loc) }
        case .sequence(let items):
            if items.filter({ if case .star = $0.kind { return true } else { return false } }).count > 1 {
                throw error("multiple starred names in sequence pattern", at: p.loc)
            }
            for i in items { try check(i, allowIrrefutable: true, &bound) }
        case .mapping(let keys, let values, let rest):
            var seen: [Constant] = []
            for k in keys {
                guard let c = literalKey(k) else { continue }
                // Keys equal as values repeat one another: 1, 1.0 and True.
                let value: Constant
                switch c {
                case .true: value = .int(1)
                case .false: value = .int(0)
                case .float(let d) where d == d.rounded() && abs(d) < 9.2e18: value = .int(Int(d))
                default: value = c
                }
                if seen.contains(value) { throw error("mapping pattern checks duplicate key (\(constantRepr(c)))", at: p.loc) }
                seen.append(value)
            }
            for v in values { try check(v, allowIrrefutable: true, &bound) }
            if let r = rest { try bind(r, values.last.map(lastVisited) ?? p.loc) }
        case .classPattern(_, let positional, let keywords):
            for q in positional { try check(q, allowIrrefutable: true, &bound) }
            for (_, q) in keywords { try check(q, allowIrrefutable: true, &bound) }
        case .or(let alternatives):
            var names: Set<String>? = nil
            for (i, alt) in alternatives.enumerated() {
                var own = bound
                try check(alt, allowIrrefutable: allowIrrefutable && i == alternatives.count - 1, &own)
                let added = Set(own.dropFirst(bound.count))
                if let n = names, n != added { throw error("alternative patterns bind different names", at: lastVisited(alt)) }
                names = added
            }
            bound += (names ?? []).sorted()
        case .asPattern(let inner, let name):
            try check(inner, allowIrrefutable: allowIrrefutable, &bound)
            // CPython reports a repeated name where its compiler stands: the last sub-pattern.
            try bind(name, lastVisited(inner))
        }
    }

    /// Where CPython's compiler stands after compiling `p` (the last sub-pattern it visited),
    /// which is where it reports a mismatch of an `|`'s alternatives.
    private func lastVisited(_ p: Pattern) -> SourceLoc {
        switch p.kind {
        case .value, .singleton, .capture, .star: return p.loc
        case .sequence(let items): return items.last.map(lastVisited) ?? p.loc
        case .mapping(_, let values, _): return values.last.map(lastVisited) ?? p.loc
        case .classPattern(_, let positional, let keywords):
            return keywords.last.map { lastVisited($0.pattern) } ?? positional.last.map(lastVisited) ?? p.loc
        case .or(let alternatives): return alternatives.last.map(lastVisited) ?? p.loc
        case .asPattern(let inner, _): return lastVisited(inner)
        }
    }

    /// The value of a key written as a literal (for the duplicate check), nil for a dotted name.
    private func literalKey(_ e: Expr) -> Constant? {
        switch e.kind {
        case .constant(let c): return c
        case .unary(.neg, let inner):
            if case .constant(.int(let i)) = inner.kind { return .int(-i) }
            if case .constant(.float(let d)) = inner.kind { return .float(-d) }
            return nil
        default: return nil
        }
    }

    /// A constant as CPython's repr shows it in the duplicate-key message.
    private func constantRepr(_ c: Constant) -> String {
        switch c {
        case .none: return "None"
        case .true: return "True"
        case .false: return "False"
        case .ellipsis: return "Ellipsis"
        case .int(let i): return String(i)
        case .float(let d): return d == d.rounded() && abs(d) < 1e16 ? String(Int(d)) + ".0" : String(d)
        case .imaginary(let d): return "\(d)j"
        case .string(let s):
            if s.contains("'") && !s.contains("\"") { return "\"\(s)\"" }
            return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "\\'") + "'"
        case .bytes(let b): return "b'" + String(decoding: b, as: UTF8.self) + "'"
        }
    }
}
