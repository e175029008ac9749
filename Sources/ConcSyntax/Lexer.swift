// Turns Conc source text into tokens, including INDENT/DEDENT (Python's tokenizer rules).
// The whole input is tokenized up front; a lexical error ends the token list with an
// `.error` token and is kept in `failure`, so the parser can decide, as CPython does,
// whether its own error or the tokenizer's is the one to report.

/// A lexical error, with what the parser needs to rank it against its own errors.
public struct LexFailure: Sendable {
    /// The error to report.
    public let error: SyntaxError
    /// True for an unclosed bracket at end of input: CPython reports it only when the
    /// parser's own error is on a later line than the bracket.
    public let isUnclosedBracket: Bool
    /// True when the input simply ended too early (open bracket, triple-quoted string,
    /// backslash continuation): the REPL should ask for more lines.
    public let isAtEndOfInput: Bool

    /// True for the errors CPython's tokenizer raises itself (an unterminated string, an
    /// invalid character, a bad number...), which it reports even past an earlier parser
    /// error; false for its indentation errors and for a literal's escapes or bytes, which
    /// CPython meets only when the parser gets there.
    var isRaisedByCPythonsTokenizer: Bool {
        if error.kind == "IndentationError" || error.kind == "TabError" { return false }
        return !error.message.hasPrefix("(unicode error)") && error.message != "bytes can only contain ASCII literal characters"
    }
}

/// Python's tokenizer over an array of Unicode scalars.
public struct Lexer {
    /// The source text as scalars; columns are indices into a line of it.
    let src: [Unicode.Scalar]
    /// The file, for error messages.
    let file: SourceFile
    /// Index of the next scalar to read.
    var pos: Int
    /// One past the last scalar to read.
    let end: Int
    /// Current 1-based line.
    var line: Int
    /// Index in `src` where the current line starts.
    var lineStart: Int
    /// Tokens produced so far.
    var tokens: [Token] = []
    /// Indentation columns of the open blocks (tabs to multiples of 8).
    var indents: [Int] = [0]
    /// The same with tabs counted as one column, to detect inconsistent tabs (TabError).
    var altIndents: [Int] = [0]
    /// Open brackets: the character and where it was.
    var brackets: [(ch: Unicode.Scalar, line: Int, col: Int)] = []
    /// True for an f-string replacement field: no NEWLINE/INDENT tokens at all.
    let isEmbedded: Bool
    /// True once a token has been produced on the current logical line.
    var hasLogicalLine = false
    /// The lexical error that stopped tokenizing, if any.
    public private(set) var failure: LexFailure?

    /// Prepares to tokenize a whole file.
    public init(_ file: SourceFile) {
        self.file = file
        self.src = Array(file.text.unicodeScalars)
        self.pos = 0
        self.end = src.count
        self.line = 1
        self.lineStart = 0
        self.isEmbedded = false
        skipShebangAndBOM()
    }

    /// Prepares to tokenize `src[start..<end]` (an f-string field) as if in brackets.
    init(embedded src: [Unicode.Scalar], file: SourceFile, start: Int, end: Int, line: Int, lineStart: Int) {
        self.file = file
        self.src = src
        self.pos = start
        self.end = end
        self.line = line
        self.lineStart = lineStart
        self.isEmbedded = true
    }

    private mutating func skipShebangAndBOM() {
        if pos < end, src[pos] == "\u{FEFF}" { pos += 1; lineStart = 1 }
    }

    /// Tokenizes everything; on error the list ends with an `.error` token.
    public mutating func tokenize() -> [Token] {
        do {
            try scanAll()
        } catch let e as SyntaxError {
            failure = failure ?? LexFailure(error: e, isUnclosedBracket: false, isAtEndOfInput: false)
            appendErrorToken()
        } catch {
            fatalError("unexpected error \(error)")
        }
        return tokens
    }

    private mutating func appendErrorToken() {
        let col = min(pos, end) - lineStart
        tokens.append(Token(kind: .error, text: "", line: line, col: col, endLine: line, endCol: col))
    }

    // MARK: - Main loop

    private mutating func scanAll() throws {
        var atLineStart = !isEmbedded
        while true {
            if atLineStart {
                atLineStart = false
                try scanIndentation()
            }
            skipBlanks()
            guard pos < end else { return try finish() }
            let c = src[pos]
            switch c {
            case "#":
                while pos < end, src[pos] != "\n", src[pos] != "\r" { pos += 1 }
            case "\n", "\r":
                consumeNewline()
                atLineStart = brackets.isEmpty && !isEmbedded
            case "\\":
                try scanContinuation()
            case "\"", "'":
                try scanString(prefixStart: pos)
            case "0"..."9":
                try scanNumber()
            case ".":
                if pos + 1 < end, isDigit(src[pos + 1]) { try scanNumber() } else { try scanOperator() }
            default:
                if isIdentifierStart(c) { try scanNameOrPrefixedString() } else { try scanOperator() }
            }
        }
    }

    private mutating func skipBlanks() {
        while pos < end {
            let c = src[pos]
            if c == " " || c == "\t" || c == "\u{0C}" { pos += 1 } else { break }
        }
    }

    /// Ends a physical line: a NEWLINE token when a logical line is complete.
    private mutating func consumeNewline() {
        let col = pos - lineStart
        if src[pos] == "\r", pos + 1 < end, src[pos + 1] == "\n" { pos += 1 }
        if brackets.isEmpty && !isEmbedded && hasLogicalLine {
            tokens.append(Token(kind: .newline, text: "", line: line, col: col, endLine: line, endCol: col + 1))
            hasLogicalLine = false
        }
        pos += 1
        line += 1
        lineStart = pos
    }

    /// `\` at the end of a physical line joins it with the next.
    private mutating func scanContinuation() throws {
        let backslashLine = line, afterBackslash = pos - lineStart + 2
        pos += 1
        if pos < end, src[pos] == "\r" { pos += 1 }
        guard pos < end else { throw continuationAtEnd(line: backslashLine, col: afterBackslash) }
        guard src[pos] == "\n" else {
            throw error("unexpected character after line continuation character", col: pos - lineStart + 1)
        }
        pos += 1
        line += 1
        lineStart = pos
        if pos >= end { throw continuationAtEnd(line: backslashLine, col: afterBackslash) }
    }

    /// The input ending right after a `\`: an open bracket is never closed, else the EOF
    /// is reported just after the backslash (CPython's errors for both).
    private mutating func continuationAtEnd(line backslashLine: Int, col: Int) -> SyntaxError {
        if let open = brackets.last { return unclosed(open) }
        return failAtEnd("unexpected EOF while parsing", col: col, line: backslashLine)
    }

    /// "'(' was never closed", at the bracket.
    private mutating func unclosed(_ open: (ch: Unicode.Scalar, line: Int, col: Int)) -> SyntaxError {
        let e = SyntaxError(message: "'\(open.ch)' was never closed", file: file.name,
                            line: open.line, column: open.col + 1, text: file.line(open.line))
        failure = LexFailure(error: e, isUnclosedBracket: true, isAtEndOfInput: true)
        return e
    }

    /// End of input: NEWLINE, DEDENTs and ENDMARKER, or an unclosed-bracket error.
    private mutating func finish() throws {
        if let open = brackets.last { throw unclosed(open) }
        let col = pos - lineStart
        if hasLogicalLine && !isEmbedded {
            tokens.append(Token(kind: .newline, text: "", line: line, col: col, endLine: line, endCol: col + 1))
            hasLogicalLine = false
        }
        while indents.count > 1 {
            indents.removeLast()
            tokens.append(Token(kind: .dedent, text: "", line: line, col: col, endLine: line, endCol: col))
        }
        tokens.append(Token(kind: .endMarker, text: "", line: line, col: col, endLine: line, endCol: col))
    }

    // MARK: - Names and operators

    private mutating func scanNameOrPrefixedString() throws {
        let start = pos
        while pos < end, isIdentifierContinue(src[pos]) { pos += 1 }
        if pos < end, src[pos] == "\"" || src[pos] == "'", pos - start <= 2, isStringPrefix(start, pos) {
            pos = start
            return try scanString(prefixStart: start)
        }
        emit(.name, makeString(start..<pos), start: start)
    }

    private func isStringPrefix(_ a: Int, _ b: Int) -> Bool {
        switch makeString(a..<b).lowercased() {
        case "r", "u", "b", "f", "br", "rb", "fr", "rf": return true
        default: return false
        }
    }

    /// Scans an operator or delimiter (longest match first).
    private mutating func scanOperator() throws {
        let start = pos
        let c = src[pos]
        let c1: Unicode.Scalar = pos + 1 < end ? src[pos + 1] : "\0"
        let c2: Unicode.Scalar = pos + 2 < end ? src[pos + 2] : "\0"
        var n = 0
        if (c == "*" || c == "/" || c == ">" || c == "<") && c1 == c && c2 == "=" {
            n = 3
        } else if c == "." && c1 == "." && c2 == "." {
            n = 3
        } else if c1 == "=" && "+-*/%&|^@<>=!:".unicodeScalars.contains(c) {
            n = 2
        } else if (c1 == c && (c == "*" || c == "/" || c == "<" || c == ">")) || (c == "-" && c1 == ">") {
            n = 2
        } else if Lexer.oneCharOps.contains(c) {
            n = 1
        } else if c == "$" || c == "?" || c == "!" || c == "`" {
            // CPython's tokenizer passes these on as operators; its parser then finds them
            // invalid, unless a later tokenizer error (an unterminated string) wins.
            n = 1
        }
        guard n > 0 else { throw invalidCharacter(c) }
        pos += n
        if n == 1 { try trackBracket(c, col: start - lineStart) }
        emit(.op, makeString(start..<pos), start: start)
    }

    private static let oneCharOps: Set<Unicode.Scalar> = [
        "+", "-", "*", "/", "%", "@", "&", "|", "^", "~", "<", ">", "(", ")", "[", "]",
        "{", "}", ",", ":", ";", ".", "=",
    ]

    /// The source text of `r` as a String (fast for ASCII).
    func makeString(_ r: Range<Int>) -> String {
        var isASCII = true
        for i in r where src[i].value >= 128 { isASCII = false; break }
        if !isASCII {
            var s = ""
            s.unicodeScalars.append(contentsOf: src[r])
            return s
        }
        return String(unsafeUninitializedCapacity: r.count) { buf in
            var k = 0
            for i in r { buf[k] = UInt8(truncatingIfNeeded: src[i].value); k += 1 }
            return r.count
        }
    }

    private mutating func trackBracket(_ c: Unicode.Scalar, col: Int) throws {
        switch c {
        case "(", "[", "{":
            // CPython's tokenizer stops at 200 open brackets; so do we, which also bounds the
            // recursion of the parser, the resolver and the evaluator on nested displays.
            if brackets.count >= 200 { throw error("too many nested parentheses", col: col + 1) }
            brackets.append((c, line, col))
        case ")", "]", "}":
            guard let open = brackets.popLast() else {
                throw error("unmatched '\(c)'", col: col + 1)
            }
            let expected: Unicode.Scalar = open.ch == "(" ? ")" : open.ch == "[" ? "]" : "}"
            if c != expected {
                var msg = "closing parenthesis '\(c)' does not match opening parenthesis '\(open.ch)'"
                if open.line != line { msg += " on line \(open.line)" }
                throw error(msg, col: col + 1)
            }
        default:
            break
        }
    }

    private func invalidCharacter(_ c: Unicode.Scalar) -> SyntaxError {
        let col = pos - lineStart + 1
        var hex = String(c.value, radix: 16, uppercase: true)
        while hex.count < 4 { hex = "0" + hex }
        if !c.properties.isAlphabetic && (c.properties.generalCategory == .control
            || c.properties.generalCategory == .spaceSeparator || c.properties.generalCategory == .format) {
            return error("invalid non-printable character U+\(hex)", col: col)
        }
        return error("invalid character '\(Character(c))' (U+\(hex))", col: col)
    }

    // MARK: - Helpers

    /// Appends a token running from `start` to the current position (same line).
    mutating func emit(_ kind: TokenKind, _ text: String, start: Int, value: Constant? = nil) {
        var t = Token(kind: kind, text: text, line: line, col: start - lineStart,
                      endLine: line, endCol: pos - lineStart)
        t.depth = brackets.count + (isEmbedded ? 1 : 0)
        if kind == .op, text.utf8.count == 1, let b = text.utf8.first, b == 40 || b == 91 || b == 123 { t.depth -= 1 }
        if kind == .name { t.isKeyword = hardKeywords.contains(text) }
        t.value = value
        tokens.append(t)
        hasLogicalLine = true
    }

    /// A syntax error at 1-based column `col` of the current line.
    func error(_ message: String, col: Int, kind: String = "SyntaxError") -> SyntaxError {
        SyntaxError(kind: kind, message: message, file: file.name, line: line, column: col,
                    text: file.line(line))
    }

    /// An error caused by the input ending early (the REPL asks for more).
    mutating func failAtEnd(_ message: String, col: Int, line errLine: Int? = nil) -> SyntaxError {
        let l = errLine ?? line
        let e = SyntaxError(message: message, file: file.name, line: l, column: col, text: file.line(l))
        failure = LexFailure(error: e, isUnclosedBracket: false, isAtEndOfInput: true)
        return e
    }

    @inline(__always) func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }

    @inline(__always) func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        if c.value < 128 {
            return (c.value >= 65 && c.value <= 90) || (c.value >= 97 && c.value <= 122) || c == "_"
        }
        return c.properties.isXIDStart
    }

    @inline(__always) func isIdentifierContinue(_ c: Unicode.Scalar) -> Bool {
        if c.value < 128 {
            return isIdentifierStart(c) || isDigit(c)
        }
        return c.properties.isXIDContinue
    }
}
