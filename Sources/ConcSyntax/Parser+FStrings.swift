// F-strings: splitting a body into literal text and `{expr!conv:spec}` fields, with the
// field expressions lexed and parsed from the original source (so their locations are
// real source positions).

extension Parser.State {
    /// Parses the body of one f-string token.
    ///
    ///     fstring: (literal | '{{' | '}}' | '{' field '}')*
    mutating func parseFStringBody(_ body: FStringBody) throws -> [FStringPart] {
        let (parts, _) = try parseFStringParts(from: body.start, end: body.end, isRaw: body.isRaw, inSpec: false)
        return parts
    }

    /// Parses literal text and fields from `i`; in a format spec, stops at its closing `}`.
    ///
    /// - Returns: the parts and the index where parsing stopped.
    mutating func parseFStringParts(from start: Int, end: Int, isRaw: Bool, inSpec: Bool) throws -> ([FStringPart], Int) {
        var parts: [FStringPart] = []
        var text = ""
        var i = start, chunk = start
        func flush(_ upTo: Int) throws {
            var out: [Unicode.Scalar] = []
            if let msg = Lexer.decodeEscapes(scalars[chunk..<upTo], isRaw: isRaw, isBytes: false, into: &out) {
                throw fstringError(msg, at: upTo)
            }
            text.unicodeScalars.append(contentsOf: out)
        }
        while i < end {
            let c = scalars[i]
            if c == "{" || c == "}" {
                try flush(i)
                let doubled = !inSpec && i + 1 < end && scalars[i + 1] == c  // no {{ escape in a spec
                if c == "}" && inSpec { break }
                if doubled {
                    text.unicodeScalars.append(c)
                    i += 2
                } else if c == "}" {
                    throw fstringError("f-string: single '}' is not allowed", at: i)
                } else {
                    if !text.isEmpty { parts.append(.literal(text)); text = "" }
                    let (field, next) = try parseFStringField(from: i + 1, end: end, isRaw: isRaw)
                    parts.append(field)
                    i = next
                }
                chunk = i
            } else if c == "\\" && !isRaw && i + 1 < end {
                if scalars[i + 1] == "N" && i + 2 < end && scalars[i + 2] == "{" {
                    // \N{NAME}: its braces are no field (the literal's decoding checks the name).
                    var close = i + 3
                    while close < end, scalars[close] != "}" { close += 1 }
                    i = close < end ? close + 1 : end
                    continue
                }
                i += scalars[i + 1] == "{" || scalars[i + 1] == "}" ? 1 : 2
            } else {
                i += 1
            }
        }
        if i >= end {
            try flush(end)
            if inSpec { throw fstringError("f-string: expecting '}'", at: end) }
        }
        if !text.isEmpty { parts.append(.literal(text)) }
        return (parts, i)
    }

    /// Parses one replacement field whose expression starts at `start` (after `{`).
    ///
    ///     field: expression ['='] ['!' conversion] [':' format_spec] '}'
    mutating func parseFStringField(from start: Int, end: Int, isRaw: Bool) throws -> (FStringPart, Int) {
        if fstringNesting >= 2 { throw fstringError("f-string: expressions nested too deeply", at: start) }
        var (j, isSelfDoc) = try scanFieldExpression(from: start, end: end)
        let exprEnd = j
        if isSelfDoc {
            j += 1
            while j < end, scalars[j] == " " { j += 1 }
        }
        if scalars[start..<exprEnd].allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) {
            // CPython 3.11 names what came without an expression: `{!r}`, `{:>3}`, `{=}`.
            let next: Unicode.Scalar? = isSelfDoc ? "=" : exprEnd < end ? scalars[exprEnd] : nil
            if let next, next == "!" || next == ":" || next == "=" {
                throw fstringError("f-string: expression required before '\(next)'", at: exprEnd)
            }
            throw fstringError("f-string: empty expression not allowed", at: exprEnd)
        }
        let expr = try parseFieldExpression(start, exprEnd)
        var conversion: Character? = nil
        if j < end, scalars[j] == "!" {
            // `{x!}`, `{x!z}`: a bad character; `{x!`, `{x!r`, `{x!rr}`, `{x!r :}`: no '}' where due.
            guard j + 1 < end else { throw fstringError("f-string: expecting '}'", at: j + 1) }
            guard "sra".unicodeScalars.contains(scalars[j + 1]) else {
                throw fstringError("f-string: invalid conversion character: expected 's', 'r', or 'a'", at: j + 1)
            }
            guard j + 2 < end, scalars[j + 2] == ":" || scalars[j + 2] == "}" else {
                throw fstringError("f-string: expecting '}'", at: j + 2)
            }
            conversion = Character(scalars[j + 1])
            j += 2
        }
        var spec: [FStringPart]? = nil
        if j < end, scalars[j] == ":" {
            fstringNesting += 1
            defer { fstringNesting -= 1 }
            let (specParts, next) = try parseFStringParts(from: j + 1, end: end, isRaw: isRaw, inSpec: true)
            spec = specParts
            j = next
        }
        guard j < end, scalars[j] == "}" else { throw fstringError("f-string: expecting '}'", at: j) }
        var selfDoc: String? = nil
        if isSelfDoc {
            var s = ""
            s.unicodeScalars.append(contentsOf: scalars[start..<(exprEnd + 1)])
            var k = exprEnd + 1
            while k < end, scalars[k] == " " { s.unicodeScalars.append(" "); k += 1 }
            selfDoc = s
            if conversion == nil && spec == nil { conversion = "r" }
        }
        return (.field(expr, conversion: conversion, spec: spec, selfDocumenting: selfDoc), j + 1)
    }

    /// Finds where a field's expression ends: at a top-level `}`, `!`, `:` or `=` (the
    /// last meaning `{x=}`), skipping nested brackets and strings.
    ///
    /// - Returns: the end index and whether it stopped at a self-documenting `=`.
    func scanFieldExpression(from start: Int, end: Int) throws -> (Int, Bool) {
        var open: [Unicode.Scalar] = []   // the brackets not closed yet, innermost last
        var depth: Int { open.count }
        var j = start
        while j < end {
            let c = scalars[j]
            switch c {
            case "\\":
                throw fstringError("f-string expression part cannot include a backslash", at: j)
            case "#":
                throw fstringError("f-string expression part cannot include '#'", at: j)
            case "'", "\"":
                j = try skipNestedString(from: j, end: end)
                continue
            case "(", "[", "{":
                open.append(c)
            case ")", "]", "}":
                guard let opener = open.last else {
                    if c == "}" { return (j, false) }
                    throw fstringError("f-string: unmatched '\(c)'", at: j)
                }
                let expected: Unicode.Scalar = opener == "(" ? ")" : opener == "[" ? "]" : "}"
                if c != expected {
                    throw fstringError("f-string: closing parenthesis '\(c)' does not match opening parenthesis '\(opener)'", at: j)
                }
                open.removeLast()
            case "!" where depth == 0 && !(j + 1 < end && scalars[j + 1] == "="):
                return (j, false)
            case ":" where depth == 0:
                return (j, false)
            case "=" where depth == 0:
                let next = j + 1 < end ? scalars[j + 1] : " "
                let prev = j > start ? scalars[j - 1] : " "
                if next != "=" && !"=!<>".unicodeScalars.contains(prev) { return (j, true) }
                if next == "=" { j += 1 }
            default:
                break
            }
            j += 1
        }
        // The text ended inside brackets (often a nested quote of the same kind ending
        // the f-string early: f'{d['k']}'), as CPython 3.11 reports it.
        if let opener = open.last { throw fstringError("f-string: unmatched '\(opener)'", at: end) }
        throw fstringError("f-string: expecting '}'", at: end)
    }

    /// Skips a string literal inside a field expression; returns the index after it.
    func skipNestedString(from start: Int, end: Int) throws -> Int {
        let q = scalars[start]
        let isTriple = start + 2 < end && scalars[start + 1] == q && scalars[start + 2] == q
        var j = start + (isTriple ? 3 : 1)
        while j < end {
            // CPython 3.11 refuses a backslash anywhere in the expression, strings included.
            if scalars[j] == "\\" {
                throw fstringError("f-string expression part cannot include a backslash", at: j)
            }
            if scalars[j] == q {
                if !isTriple { return j + 1 }
                if j + 2 < end && scalars[j + 1] == q && scalars[j + 2] == q { return j + 3 }
            }
            j += 1
        }
        throw fstringError("f-string: unterminated string", at: start)
    }

    /// Lexes and parses `scalars[a..<b]` as the expression of a field.
    mutating func parseFieldExpression(_ a: Int, _ b: Int) throws -> Expr {
        let (line, lineStart) = position(of: a)
        var lexer = Lexer(embedded: scalars, file: file, start: a, end: b, line: line, lineStart: lineStart)
        let toks = lexer.tokenize()
        if var f = lexer.failure?.error {
            if !f.message.hasPrefix("f-string") { f.message = "f-string: " + f.message }
            throw f
        }
        var sub = Parser.State(tokens: toks, scalars: scalars, file: file, failure: nil, lineStarts: lineStarts)
        sub.functionDepth = functionDepth
        sub.isInPlainFunction = isInPlainFunction
        sub.className = className
        if toks.first?.kind == .op, toks.first?.text == "**" {
            throw error("f-string: cannot use double starred expression here", at: toks[0])
        }
        let e: Expr
        do {
            e = try sub.parseYieldOrStarExpressions()
            guard sub.tok.kind == .endMarker else { throw sub.missingCommaOrUnexpected(previous: e) }
        } catch var err as SyntaxError {
            err.message = "f-string: " + err.message
            throw err
        }
        if case .starred = e.kind { throw fstringError("f-string: cannot use starred expression here", at: a) }
        if let later = sub.laterError { reportLater(later) }
        return e
    }

    /// The 1-based line and the line's start index of scalar index `k`.
    func position(of k: Int) -> (Int, Int) {
        var lo = 0, hi = lineStarts.count - 1  // last line start <= k, by binary search
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= k { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, lineStarts[lo])
    }

    /// An f-string's own error, placed as CPython 3.11 places it: at the token after the
    /// joined string literals (its parser has read that far), or at the end of the line.
    func fstringError(_ message: String, at k: Int) -> SyntaxError {
        if splittingFString, tokenAfterStrings > 0 {
            let next = tokens[tokenAfterStrings], last = tokens[tokenAfterStrings - 1]
            if next.kind != .newline && next.kind != .endMarker { return error(message, at: next) }
            return errorAtLineEnd(message, after: last.endLine, last.endCol)
        }
        let (line, lineStart) = position(of: k)
        return error(message, line: line, column: k - lineStart + 1)
    }
}
