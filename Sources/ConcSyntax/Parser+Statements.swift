// Statements: the file, blocks, simple statements and assignment.
// Compound statements are in Parser+Compound.swift.

extension Parser.State {
    // MARK: - File and blocks

    /// Parses a whole file.
    ///
    ///     file: [statements] ENDMARKER
    mutating func parseFile() throws -> [Stmt] {
        var body: [Stmt] = []
        // `from __future__ import` may come only after the docstring and other ones.
        var futureAllowed = true
        while tok.kind != .endMarker {
            if tok.kind == .newline { advance(); continue }
            for stmt in try parseStatement() {
                if case .importFrom(module: "__future__", _, level: 0) = stmt.kind {
                    if !futureAllowed { throw error("from __future__ imports must occur at the beginning of the file", at: stmt.loc) }
                } else if body.isEmpty, case .expr(let e) = stmt.kind, case .constant(.string) = e.kind {
                    // the docstring
                } else {
                    futureAllowed = false
                }
                body.append(stmt)
            }
        }
        return body
    }

    /// The features `from __future__ import` knows (all of them already on in 3.11, but
    /// `annotations`).
    static let futureFeatures: Set<String> = ["nested_scopes", "generators", "division", "absolute_import",
                                              "with_statement", "print_function", "unicode_literals",
                                              "barry_as_FLUFL", "generator_stop", "annotations"]

    /// Parses input for `eval`.
    ///
    ///     eval: expressions NEWLINE* ENDMARKER
    mutating func parseEvalInput() throws -> Expr {
        let e = try parseStarExpressions()
        while tok.kind == .newline { advance() }
        guard tok.kind == .endMarker else { throw unexpected() }
        return e
    }

    /// Parses one statement line (several for `a; b`).
    ///
    ///     statement: compound_stmt | simple_stmts
    mutating func parseStatement() throws -> [Stmt] {
        if let s = try parseCompoundStatement() { return [s] }
        return try parseSimpleStatements()
    }

    /// Parses the indented block (or one-line suite) after a compound header's `:`.
    ///
    ///     block: NEWLINE INDENT statements DEDENT | simple_stmts
    ///
    /// - Parameter header: how CPython names the header in "expected an indented block
    ///   after …", e.g. `'if' statement on line 3`.
    mutating func parseBlock(after header: @autoclosure () -> String) throws -> [Stmt] {
        guard tok.kind == .newline else { return try parseSimpleStatements() }
        advance()
        guard tok.kind == .indent else {
            if tok.kind == .endMarker {
                // At the end of the file CPython names its last line (blank and comment
                // lines after the header included), with no caret (its offset is just past
                // the line's text).
                let last = file.lastLine
                throw errorWithoutCaret("expected an indented block after \(header())", line: last,
                                        column: file.line(last).unicodeScalars.count + 1, kind: "IndentationError")
            }
            if tok.kind == .dedent {
                // A line dedented to an outer block: CPython's DEDENT token has no width,
                // so no caret, and its offset is the line's indentation.
                let indent = file.line(tok.line).unicodeScalars.prefix { $0 == " " || $0 == "\t" }.count
                throw errorWithoutCaret("expected an indented block after \(header())", line: tok.line,
                                        column: indent, kind: "IndentationError")
            }
            throw error("expected an indented block after \(header())", at: tok, kind: "IndentationError")
        }
        advance()
        var body: [Stmt] = []
        while tok.kind != .dedent {
            if tok.kind == .endMarker || tok.kind == .error { throw unexpected() }
            body += try parseStatement()
        }
        advance()
        return body
    }

    // MARK: - Simple statements

    /// Parses simple statements separated by `;` up to the end of the line.
    ///
    ///     simple_stmts: simple_stmt (';' simple_stmt)* [';'] NEWLINE
    mutating func parseSimpleStatements() throws -> [Stmt] {
        var stmts = [try parseSimpleStatement()]
        while accept(";") {
            if tok.kind == .newline { break }
            stmts.append(try parseSimpleStatement())
        }
        guard tok.kind == .newline else { throw unexpected() }
        advance()
        return stmts
    }

    /// Parses one simple statement.
    ///
    ///     simple_stmt: assignment | star_expressions | return_stmt | import_stmt
    ///         | raise_stmt | 'pass' | del_stmt | yield_stmt | assert_stmt | 'break'
    ///         | 'continue' | global_stmt | nonlocal_stmt
    mutating func parseSimpleStatement() throws -> Stmt {
        let start = tok
        if start.kind == .name {
            switch start.text {
            case "pass": advance(); return Stmt(.pass, loc(from: start))
            case "break", "continue": return parseLoopJump()
            case "return": return try parseReturnStatement()
            case "raise": return try parseRaiseStatement()
            case "global", "nonlocal": return try parseGlobalStatement()
            case "del": return try parseDelStatement()
            case "assert": return try parseAssertStatement()
            case "import": return try parseImportName()
            case "from": return try parseImportFrom()
            default: break
            }
        }
        if tok.kind == .indent || tok.kind == .dedent || tok.kind == .newline { throw unexpected() }
        return try parseExpressionStatement()
    }

    /// CPython's words for a `break`, `continue` or `return` that would leave an `except*` block.
    static let exceptStarJump = "'break', 'continue' and 'return' cannot appear in an except* block"

    /// Parses `break` or `continue`, checking that a loop encloses it.
    mutating func parseLoopJump() -> Stmt {
        let t = advance()
        let l = loc(from: t)
        if exceptStarLoopDepth == loopDepth {
            reportLater(error(Parser.State.exceptStarJump, at: l))
        } else if loopDepth == 0 {
            let msg = t.text == "break" ? "'break' outside loop" : "'continue' not properly in loop"
            reportLater(error(msg, at: t))
        }
        return Stmt(t.text == "break" ? .break : .continue, l)
    }

    /// Parses a `return`.
    ///
    ///     return_stmt: 'return' [star_expressions]
    mutating func parseReturnStatement() throws -> Stmt {
        let start = advance()
        let value = atEndOfSimpleStatement ? nil : try parseStarExpressions()
        if functionDepth == 0 { reportLater(error("'return' outside function", at: loc(from: start))) }
        if exceptStarLoopDepth != nil { reportLater(error(Parser.State.exceptStarJump, at: value?.loc ?? loc(from: start))) }
        if let v = value { try checkNotBareStarred(v) }
        return Stmt(.return(value), loc(from: start))
    }

    /// True at `;`, NEWLINE or the end of input.
    var atEndOfSimpleStatement: Bool {
        tok.kind == .newline || tok.kind == .endMarker || at(";")
    }

    /// Parses a `raise`.
    ///
    ///     raise_stmt: 'raise' [expression ['from' expression]]
    mutating func parseRaiseStatement() throws -> Stmt {
        let start = advance()
        if atEndOfSimpleStatement { return Stmt(.raise(exception: nil, cause: nil), loc(from: start)) }
        let exc = try parseExpression()
        let cause = acceptName("from") ? try parseExpression() : nil
        return Stmt(.raise(exception: exc, cause: cause), loc(from: start))
    }

    /// Parses `global` or `nonlocal`.
    ///
    ///     global_stmt: 'global' NAME (',' NAME)*
    ///     nonlocal_stmt: 'nonlocal' NAME (',' NAME)*
    mutating func parseGlobalStatement() throws -> Stmt {
        let start = advance()
        var names = [mangled(try expectIdentifier())]
        while accept(",") { names.append(mangled(try expectIdentifier())) }
        let l = loc(from: start)
        if start.text == "global" { return Stmt(.global(names), l) }
        if functionDepth == 0 && !isInClassInFunction {
            reportLater(error("nonlocal declaration not allowed at module level", at: l))
        }
        return Stmt(.nonlocal(names), l)
    }

    /// Parses a `del`.
    ///
    ///     del_stmt: 'del' del_targets &(';' | NEWLINE)
    mutating func parseDelStatement() throws -> Stmt {
        let start = advance()
        var targets: [Expr] = []
        repeat {
            if atEndOfSimpleStatement && !targets.isEmpty { break }
            let t = at("*") ? try parseStarTarget() : try parseBitwiseOr()  // `del *x`: "cannot delete starred"
            try checkTarget(t, .delete)
            targets.append(t)
        } while accept(",")
        return Stmt(.delete(targets), loc(from: start))
    }

    /// Parses an `assert`.
    ///
    ///     assert_stmt: 'assert' expression [',' expression]
    mutating func parseAssertStatement() throws -> Stmt {
        let start = advance()
        let test = try parseExpression()
        let msg = accept(",") ? try parseExpression() : nil
        return Stmt(.assert(test: test, message: msg), loc(from: start))
    }

    // MARK: - Imports

    /// Parses `import a.b as c, d`.
    ///
    ///     import_name: 'import' dotted_as_names
    /// The `as NAME` after an imported name, mangled inside a class; a private name
    /// imported without one (`from m import __x` in a class) is bound mangled too.
    mutating func importBinding(_ name: String) throws -> String? {
        if acceptName("as") { return mangled(try expectIdentifier()) }
        let m = mangled(name)
        return m == name ? nil : m
    }

    mutating func parseImportName() throws -> Stmt {
        let start = advance()
        var aliases: [ImportAlias] = []
        repeat {
            let t = tok
            let name = try parseDottedName()
            let asName = try importBinding(name)
            aliases.append(ImportAlias(name: name, asName: asName, loc: loc(from: t)))
        } while accept(",")
        return Stmt(.import(aliases), loc(from: start))
    }

    /// Parses a dotted module name.
    ///
    ///     dotted_name: NAME ('.' NAME)*
    mutating func parseDottedName() throws -> String {
        var name = try expectIdentifier()
        while accept(".") { name += "." + (try expectIdentifier()) }
        return name
    }

    /// Parses `from ..m import a as b` / `from m import (a, b,)` / `from m import *`.
    ///
    ///     import_from: 'from' ('.' | '...')* dotted_name 'import' import_from_targets
    ///                | 'from' ('.' | '...')+ 'import' import_from_targets
    mutating func parseImportFrom() throws -> Stmt {
        let start = advance()
        var level = 0
        while at(".") || at("...") { level += advance().text.count }
        let module = atName("import") && level > 0 ? nil : try parseDottedName()
        guard acceptName("import") else { throw unexpected() }
        let names = try parseImportFromTargets()
        if functionDepth > 0, let star = names.first(where: { $0.name == "*" }) {
            reportLater(error("import * only allowed at module level", at: star.loc))
        }
        if module == "__future__" && level == 0 {
            if functionDepth > 0 { throw error("from __future__ imports must occur at the beginning of the file", at: loc(from: start)) }
            for n in names where !Parser.State.futureFeatures.contains(n.name) {
                throw error(n.name == "braces" ? "not a chance" : "future feature \(n.name) is not defined", at: loc(from: start))
            }
            if names.contains(where: { $0.name == "annotations" }) { futureAnnotations = true }
        }
        return Stmt(.importFrom(module: module, names: names, level: level), loc(from: start))
    }

    /// Parses what follows `import` in a `from` import.
    ///
    ///     import_from_targets: '(' import_from_as_names [','] ')' | import_from_as_names | '*'
    mutating func parseImportFromTargets() throws -> [ImportAlias] {
        if at("*") {
            let t = advance()
            return [ImportAlias(name: "*", asName: nil, loc: loc(from: t))]
        }
        let isParenthesized = accept("(")
        var aliases: [ImportAlias] = []
        repeat {
            if isParenthesized && at(")") && !aliases.isEmpty { break }
            if !isParenthesized && !aliases.isEmpty && atEndOfSimpleStatement {
                throw errorAfterPrevious("trailing comma not allowed without surrounding parentheses")
            }
            let t = tok
            let name = try expectIdentifier()
            let asName = try importBinding(name)
            aliases.append(ImportAlias(name: name, asName: asName, loc: loc(from: t)))
        } while accept(",")
        if isParenthesized { try expect(")") }
        return aliases
    }

    /// True when the last consumed token was a `,`.
    var prevTokenIsComma: Bool { p > 0 && tokens[p - 1].isOp(",") }

    // MARK: - Expression statements and assignment

    /// Parses an expression statement or an assignment of any kind.
    ///
    ///     assignment: NAME ':' expression ['=' annotated_rhs]
    ///         | single_target ':' expression ['=' annotated_rhs]
    ///         | (star_targets '=')+ (yield_expr | star_expressions)
    ///         | single_target augassign (yield_expr | star_expressions)
    mutating func parseExpressionStatement() throws -> Stmt {
        let start = tok
        let first = try parseYieldOrStarExpressions()
        if at("=") { return try parseAssignment(first, start: start) }
        try checkNotBareStarred(first)
        if tok.kind == .op, let op = Parser.State.augmentedOps[tok.text] {
            try checkAugmentedTarget(first)
            advance()
            let value = try parseYieldOrStarExpressions()
            return Stmt(.augAssign(target: first, op: op, value: value), stmtLoc(from: start))
        }
        if at(":") { return try parseAnnotatedAssignment(first, start: start) }
        if !atEndOfSimpleStatement { try diagnoseStatementTail(first) }
        return Stmt(.expr(first), stmtLoc(from: start))
    }

    /// `target = target = value`: checks every target, left to right.
    mutating func parseAssignment(_ first: Expr, start: Token) throws -> Stmt {
        var items = [first]
        while accept("=") { items.append(try parseYieldOrStarExpressions()) }
        let value = items.removeLast()
        try checkNotBareStarred(value)
        for t in items where isStarred(t) {
            reportLater(error("starred assignment target must be in a list or tuple", at: t.loc))
        }
        let hint = items.count == 1
        for t in items { try checkTarget(t, hint ? .assignWithHint : .assign) }
        return Stmt(.assign(targets: items, value: value), stmtLoc(from: start))
    }

    /// An annotation: the expression, or under `from __future__ import annotations` its
    /// source text as a string constant.
    mutating func parseAnnotation() throws -> Expr {
        let start = tok
        let e = try parseExpression()
        guard futureAnnotations else { return e }
        let from = lineStarts[start.line - 1] + start.col, to = lineStarts[prevEndLine - 1] + prevEndCol
        guard from <= to, to <= scalars.count else { return e }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[from..<to])
        return Expr(.constant(.string(String(text))), e.loc)
    }

    /// `x: T [= value]`
    mutating func parseAnnotatedAssignment(_ target: Expr, start: Token) throws -> Stmt {
        switch target.kind {
        case .name, .attribute, .subscript: break
        // CPython's invalid_assignment rules need an annotation after the colon: without
        // one (`greet(name):`, `x == 1:`, a forgotten `def` or `if`) the colon is invalid.
        case _ where !startsExpression(peek()): throw error("invalid syntax", at: tok)
        case .tuple(let elts):
            // `a, b: int` is reported at `a`; `(a, b): int` over the whole tuple.
            let bare = elts.first.map { $0.loc.line == target.loc.line && $0.loc.col == target.loc.col } ?? false
            throw error("only single target (not tuple) can be annotated", at: bare ? elts[0].loc : target.loc)
        case .list: throw error("only single target (not list) can be annotated", at: target.loc)
        default: throw error("illegal target for annotation", at: target.loc)
        }
        advance()
        let annotation = try parseAnnotation()
        let value = accept("=") ? try parseYieldOrStarExpressions() : nil
        // "Simple" is CPython's word for a bare name: `(x): T` neither binds x nor is recorded.
        var simple = false
        if case .name = target.kind, start.text != "(" { simple = true }
        return Stmt(.annAssign(target: target, annotation: annotation, value: value, simple: simple), stmtLoc(from: start))
    }

    /// A lone `*x` outside a tuple, list, call or target is an error.
    func checkNotBareStarred(_ e: Expr) throws {
        if isStarred(e) { throw error("can't use starred expression here", at: e.loc) }
    }

    func isStarred(_ e: Expr) -> Bool {
        if case .starred = e.kind { return true }
        return false
    }

    /// The operators of augmented assignment.
    static let augmentedOps: [String: BinaryOp] = [
        "+=": .add, "-=": .sub, "*=": .mul, "/=": .div, "//=": .floorDiv, "%=": .mod,
        "**=": .pow, "@=": .matMul, "<<=": .lshift, ">>=": .rshift, "&=": .bitAnd,
        "|=": .bitOr, "^=": .bitXor,
    ]

    /// An expression statement followed by something that is not `;` or NEWLINE:
    /// CPython's special messages, else "invalid syntax" at the stray token.
    mutating func diagnoseStatementTail(_ first: Expr) throws {
        if case .name(let n) = first.kind, n == "print" || n == "exec", startsExpression(tok) {
            let message = "Missing parentheses in call to '\(n)'. Did you mean \(n)(...)?"
            // CPython underlines the name and the expression after it: the longest that
            // parses (`exec "x" +` underlines `exec "x"`); when none does (`print {1:(x.)}`)
            // the message is not given, and the error is the plain one at the stray token.
            let start = self
            // (star_expressions: `print "a", x` underlines through `x`.)
            if let rest = try? parseStarExpressions() { throw error(message, from: first.loc, to: rest.loc) }
            self = start
            if let rest = try? parseExpression() { throw error(message, from: first.loc, to: rest.loc) }
            self = start
            if let operand = try? parseFactor() { throw error(message, from: first.loc, to: operand.loc) }
            self = start
        }
        throw unexpected()
    }
}
