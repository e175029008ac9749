// The recursive-descent parser: entry points, token cursor, and error reporting.
// The grammar rules live in Parser+Statements, +Expressions, +Calls, +Comprehensions,
// +FStrings and +Concurrency; each parse function carries its rule in a comment.

/// Parses Conc source into an AST.
public enum Parser {
    /// Parses a whole file (or REPL input, or a `-c` string).
    ///
    /// - Throws: ``SyntaxError`` (kind SyntaxError, IndentationError or TabError).
    public static func parseModule(_ source: SourceFile) throws -> Module {
        var lexer = Lexer(source)
        let tokens = lexer.tokenize()
        var state = State(tokens: tokens, scalars: lexer.src, file: source, failure: lexer.failure)
        let body = try state.run { s in try s.parseFile() }
        return Module(body: body, source: source)
    }

    /// Parses a single expression (for `eval`-like APIs): `expressions NEWLINE* ENDMARKER`.
    ///
    /// - Throws: ``SyntaxError``.
    public static func parseExpression(_ source: SourceFile) throws -> Expr {
        var lexer = Lexer(source)
        let tokens = lexer.tokenize()
        var state = State(tokens: tokens, scalars: lexer.src, file: source, failure: lexer.failure)
        state.functionDepth = 1  // `yield`/`return` checks do not apply to a bare expression
        return try state.run { s in try s.parseEvalInput() }
    }

    /// `name` as CPython stores it inside class `cls`: a private name `__x` (two leading
    /// underscores, not two trailing) becomes `_Class__x`, with the class name's own leading
    /// underscores dropped; unchanged outside classes, for dotted names, and in a class
    /// named only of underscores.
    public static func mangle(_ name: String, inClass cls: String?) -> String {
        guard let cls = cls, name.hasPrefix("__"), !name.hasSuffix("__"), !name.contains(".") else { return name }
        let stripped = cls.drop(while: { $0 == "_" })
        return stripped.isEmpty ? name : "_" + stripped + name
    }

    /// True when `text` cannot be complete yet: the REPL should print `... ` and read on.
    ///
    /// `text` is the lines entered so far joined by "\n" (as CPython's `codeop` sees
    /// them), so an empty line entered last makes it end in "\n". The input is incomplete
    /// inside an open bracket or triple-quoted string, after a trailing backslash, when a
    /// block or clause must still follow (`if x:`, `@dec`, `try:` + body), and inside an
    /// indented block that no empty line has closed yet. Other errors are complete: the
    /// REPL reports them at once.
    public static func isIncompleteInput(_ text: String) -> Bool {
        let source = SourceFile(name: "<stdin>", text: text)
        var lexer = Lexer(source)
        let tokens = lexer.tokenize()
        if let failure = lexer.failure {
            guard failure.isAtEndOfInput else { return false }
            guard failure.isUnclosedBracket else { return true }
            // Inside an open bracket, a parse error before the end (`def f(:`) is reported
            // at once, as CPython does; only running out of input asks for more.
            var state = State(tokens: tokens, scalars: lexer.src, file: source, failure: nil)
            do { _ = try state.parseFile() } catch { return state.p >= tokens.count - 1 || tokens[state.p].kind == .error }
            return true
        }
        var state = State(tokens: tokens, scalars: lexer.src, file: source, failure: nil)
        do {
            _ = try state.parseFile()
        } catch {
            // Failing only at the very end, right after a complete line, means that a
            // block or clause is still to come.
            let rest = tokens[state.p...]
            return state.p > 0 && rest.allSatisfy { $0.kind == .dedent || $0.kind == .endMarker }
                && (tokens[state.p - 1].kind == .newline || tokens[state.p - 1].kind == .dedent)
        }
        guard tokens.contains(where: { $0.kind == .indent }) else { return false }
        let lastLine = text.split(separator: "\n", omittingEmptySubsequences: false).last ?? ""
        return !lastLine.allSatisfy { $0 == " " || $0 == "\t" }
    }
}

extension Parser {
    /// The parser's cursor and context. Each parse call runs one `State`.
    struct State {
        /// All tokens of the input (ending in ENDMARKER or an `.error` token).
        let tokens: [Token]
        /// The source as scalars (f-string bodies are re-lexed from it).
        let scalars: [Unicode.Scalar]
        /// The file, for error messages.
        let file: SourceFile
        /// The lexer's error, if it stopped early.
        let failure: LexFailure?
        /// Index in `scalars` where each line starts (for positions inside f-strings).
        let lineStarts: [Int]
        /// Index of the current token.
        var p = 0
        /// End of the last consumed token (for node locations).
        var prevEndLine = 1
        var prevEndCol = 0
        /// Depth of recursive expression parsing (unary chains, `not`, nested conditionals),
        /// bounded so that no input can overflow the parser's stack.
        var expressionDepth = 0
        /// True inside a class body, where `nonlocal` is left to the resolver ("no binding").
        var isInClassInFunction = false
        /// The innermost class whose body (or a function in it) is being parsed: names
        /// `__x` there are mangled to `_Class__x` (see ``mangled(_:)``).
        var className: String?
        /// Nesting of function bodies (lambda included) around the current point.
        var functionDepth = 0
        /// True while inside a non-async `def` (where `await` is an error).
        var isInPlainFunction = false
        /// Nesting of loops in the current function or module body.
        var loopDepth = 0
        /// Inside an `except*` block of the current function or module body: the loop
        /// depth at the block (a `break` or `continue` there may not leave the block, nor
        /// may a `return`).
        var exceptStarLoopDepth: Int?
        /// Every `yield` parsed so far (its span, and `functionDepth` there), for the check
        /// that none is part of a comprehension (``checkNoYield(since:firstIteration:kind:)``).
        var yieldSites: [(loc: SourceLoc, depth: Int)] = []
        /// The first error found by checks CPython makes after parsing ('return' outside
        /// function, duplicate arguments...): reported only if the parse succeeds.
        var laterError: SyntaxError?
        /// True while an f-string token is being split (its errors are placed as CPython's).
        var splittingFString = false
        /// The token after the string literals being joined: CPython reports an f-string's
        /// own errors there (its parser has read that far when it joins them).
        /// (An index into `tokens`, not a Token: the parser's state is copied when it
        /// backtracks, and stays small for the debug build's deep recursion.)
        var tokenAfterStrings = -1
        /// How deep in nested format specs the current f-string field is.
        var fstringNesting = 0
        /// After `from __future__ import annotations`: annotations are kept as their source
        /// text (strings), not evaluated.
        var futureAnnotations = false

        init(tokens: [Token], scalars: [Unicode.Scalar], file: SourceFile, failure: LexFailure?,
             lineStarts: [Int]? = nil) {
            self.tokens = tokens; self.scalars = scalars; self.file = file; self.failure = failure
            self.lineStarts = lineStarts ?? State.computeLineStarts(scalars)
        }

        /// `name` as stored inside the class being parsed (``Parser/mangle(_:inClass:)``).
        func mangled(_ name: String) -> String { Parser.mangle(name, inClass: className) }

        /// Where every line of `s` starts.
        static func computeLineStarts(_ s: [Unicode.Scalar]) -> [Int] {
            var starts = [0]
            for (i, c) in s.enumerated() where c == "\n" { starts.append(i + 1) }
            return starts
        }

        /// Runs a parse and picks the error to report, as CPython ranks them: tokenizer
        /// errors found anywhere beat parser errors, except indentation errors and string
        /// decoding errors (CPython finds those later, so the parser's earlier error wins)
        /// and an unclosed bracket, which only wins over an error on a later line.
        mutating func run<T>(_ body: (inout State) throws -> T) throws -> T {
            let result: T
            do {
                result = try body(&self)
            } catch let e as SyntaxError {
                guard let f = failure else { throw e }
                // The tokenizer's indentation errors (a dedent to no outer level, a tab/space
                // mix) are not among those CPython's look-ahead tokenizing raises: a parser
                // error found before the parser reaches one stands.
                if tok.kind != .error && !f.isRaisedByCPythonsTokenizer { throw e }
                // CPython's parser reads one token ahead, so reaching the token before the
                // end of input inside a bracket already counts as running into it.
                let isNearEnd = p + 1 >= tokens.count - 1 && e.message.hasPrefix("invalid syntax. Perhaps")
                if tok.kind == .error || !f.isUnclosedBracket || tok.line > f.error.line || isNearEnd {
                    throw f.error
                }
                throw e
            }
            if let e = laterError { throw e }
            return result
        }

        // MARK: - Cursor

        /// The current token.
        var tok: Token { @inline(__always) get { tokens[p] } }

        /// The token after the current one (ENDMARKER/error at the end).
        func peek(_ n: Int = 1) -> Token { tokens[min(p + n, tokens.count - 1)] }

        /// Consumes the current token and returns it.
        @discardableResult
        mutating func advance() -> Token {
            let t = tokens[p]
            if t.kind != .endMarker && t.kind != .error { p += 1 }
            prevEndLine = t.endLine
            prevEndCol = t.endCol
            return t
        }

        /// True when the current token is the operator `s`.
        @inline(__always) func at(_ s: String) -> Bool { tokens[p].kind == .op && tokens[p].text == s }

        /// True when the current token is the name or keyword `s`.
        @inline(__always) func atName(_ s: String) -> Bool { tokens[p].kind == .name && tokens[p].text == s }

        /// Consumes the operator `s` if present.
        mutating func accept(_ s: String) -> Bool {
            if at(s) { advance(); return true }
            return false
        }

        /// Consumes the keyword `s` if present.
        mutating func acceptName(_ s: String) -> Bool {
            if atName(s) { advance(); return true }
            return false
        }

        /// Consumes the operator `s` or fails with "invalid syntax" (or `message`).
        @discardableResult
        mutating func expect(_ s: String, _ message: String? = nil) throws -> Token {
            guard at(s) else {
                if let m = message { throw errorAfterPrevious(m) }
                throw unexpected()
            }
            return advance()
        }

        /// Consumes a `:`. When the line ends instead, fails with CPython's "expected ':'" just
        /// after the previous token; any other token is plain "invalid syntax" at that token
        /// (`if True print(x)`), as CPython's grammar reports it; `def` always says "expected ':'".
        mutating func expectColon(evenMidLine: Bool = false) throws {
            if accept(":") { return }
            if evenMidLine || tok.kind == .newline || tok.kind == .endMarker { throw errorAfterPrevious("expected ':'") }
            throw unexpected()
        }

        /// Consumes an identifier (not a hard keyword).
        mutating func expectIdentifier() throws -> String {
            guard tok.kind == .name, !tok.isKeyword else { throw unexpected() }
            return advance().text
        }

        /// True when the current token is an identifier (not a hard keyword).
        var atIdentifier: Bool { tok.kind == .name && !tok.isKeyword }

        // MARK: - Locations

        /// A location from `start` to the end of the last consumed token.
        func loc(from start: Token) -> SourceLoc {
            SourceLoc(line: start.line, col: start.col, endLine: prevEndLine, endCol: prevEndCol)
        }

        /// A location spanning two nodes.
        func span(_ a: SourceLoc, _ b: SourceLoc) -> SourceLoc {
            SourceLoc(line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol)
        }

        /// A statement location: the statement's first line, from `start` to the end of
        /// what was consumed on that line.
        func stmtLoc(from start: Token) -> SourceLoc {
            SourceLoc(line: start.line, col: start.col, endLine: prevEndLine, endCol: prevEndCol)
        }

        // MARK: - Errors

        /// A syntax error at 1-based `column` of `line`.
        func error(_ message: String, line: Int, column: Int, kind: String = "SyntaxError") -> SyntaxError {
            SyntaxError(kind: kind, message: message, file: file.name, line: line, column: column,
                        text: file.line(line))
        }

        /// An error shown with its line but no caret line (CPython's `end_offset` -1), at
        /// CPython's `offset` all the same.
        func errorWithoutCaret(_ message: String, line: Int, column: Int, kind: String = "SyntaxError") -> SyntaxError {
            var e = error(message, line: line, column: column, kind: kind)
            e.endLine = line; e.endColumn = -1
            return e
        }

        /// A syntax error underlining token `t`.
        func error(_ message: String, at t: Token, kind: String = "SyntaxError") -> SyntaxError {
            var e = error(message, line: t.line, column: t.col + 1, kind: kind)
            e.endLine = t.endLine; e.endColumn = t.endCol + 1
            return e
        }

        /// A syntax error underlining the node at location `l`.
        func error(_ message: String, at l: SourceLoc) -> SyntaxError {
            var e = error(message, line: l.line, column: l.col + 1)
            e.endLine = l.endLine; e.endColumn = l.endCol + 1
            return e
        }

        /// A syntax error underlining from the start of `from` to the end of `to`.
        func error(_ message: String, from: SourceLoc, to: SourceLoc) -> SyntaxError {
            error(message, at: SourceLoc(line: from.line, col: from.col, endLine: to.endLine, endCol: to.endCol))
        }

        /// A syntax error where something was expected (CPython's "expected ':'"): the
        /// token found instead, or just after the previous token at the end of a line.
        func errorAfterPrevious(_ message: String) -> SyntaxError {
            if tok.kind != .newline && tok.kind != .endMarker && tok.line == prevEndLine {
                return error(message, at: tok)
            }
            return errorAtLineEnd(message, after: prevEndLine, prevEndCol)
        }

        /// An error at CPython's NEWLINE token after a token ending at `line`:`col`: a comment
        /// ending the line is where its tokenizer stands (it underlines it), else just past.
        func errorAtLineEnd(_ message: String, after prevEndLine: Int, _ prevEndCol: Int) -> SyntaxError {
            let text = Array(file.line(prevEndLine).unicodeScalars)
            var start = prevEndCol
            while start < text.count && (text[start] == " " || text[start] == "\t") { start += 1 }
            if start < text.count && text[start] == "#" {
                var end = text.count
                while end > start && (text[end - 1] == " " || text[end - 1] == "\t" || text[end - 1] == "\r") { end -= 1 }
                var e = error(message, line: prevEndLine, column: start + 1)
                e.endLine = prevEndLine; e.endColumn = end + 1
                return e
            }
            return error(message, line: prevEndLine, column: prevEndCol + 1)
        }

        /// The generic error for the current token, as CPython words it.
        func unexpected() -> SyntaxError {
            let t = tok
            switch t.kind {
            case .indent:
                // No caret, as CPython's (the whole line is the mistake).
                return errorWithoutCaret("unexpected indent", line: t.line, column: t.endCol, kind: "IndentationError")
            case .dedent:
                // The lexer refused unindents to no outer level, so this one is to a valid
                // level where the grammar wants more (a decorator's def). No caret, as CPython.
                // At the end of the file it is reported on the last line, as CPython does.
                let rest = t.line - 1 < lineStarts.count ? scalars[lineStarts[t.line - 1]...] : []
                let atEnd = rest.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0C}" }
                let line = atEnd ? prevEndLine : t.line
                return error("unexpected unindent", line: line, column: 0, kind: "IndentationError")
            case .endMarker, .error:
                if let f = failure { return f.error }
                return error("invalid syntax", line: t.line, column: t.col + 1)
            case .newline:
                return error("invalid syntax", line: t.line, column: t.col + 1)
            default:
                return error("invalid syntax", at: t)
            }
        }

        /// Records an error CPython finds after parsing (in its compiler); the first wins.
        mutating func reportLater(_ e: SyntaxError) {
            if laterError == nil { laterError = e }
        }
    }
}
