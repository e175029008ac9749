// Indentation: INDENT/DEDENT tokens at the start of each logical line, with CPython's
// tab rules (a tab advances to the next multiple of 8; inconsistent mixes are TabError).

extension Lexer {
    /// Measures the indentation of a new line and emits INDENT/DEDENT tokens.
    ///
    /// Blank lines and comment-only lines do not count: their indentation is ignored.
    mutating func scanIndentation() throws {
        var col = 0
        var altCol = 0
        var p = pos
        while p < end {
            switch src[p] {
            case " ": col += 1; altCol += 1
            case "\t": col = (col / 8 + 1) * 8; altCol += 1
            case "\u{0C}": col = 0; altCol = 0
            default: break
            }
            if src[p] != " " && src[p] != "\t" && src[p] != "\u{0C}" { break }
            p += 1
        }
        if p >= end || src[p] == "#" || src[p] == "\n" || src[p] == "\r" { return }
        if src[p] == "\\" && continuesIntoBlankLine(from: p) { return }
        pos = p
        try applyIndentation(col: col, altCol: altCol)
    }

    /// True when the `\` at `p` ends its line and the line it joins is blank: CPython then
    /// ignores the indentation of the backslash's line, as for a blank line.
    private func continuesIntoBlankLine(from p: Int) -> Bool {
        var q = p + 1
        if q < end, src[q] == "\r" { q += 1 }
        guard q < end, src[q] == "\n" else { return false }
        q += 1
        while q < end, src[q] == " " || src[q] == "\t" || src[q] == "\u{0C}" { q += 1 }
        return q >= end || src[q] == "\n" || src[q] == "\r"
    }

    private mutating func applyIndentation(col: Int, altCol: Int) throws {
        let tokCol = pos - lineStart
        if col == indents.last! {
            if altCol != altIndents.last! { throw tabError() }
        } else if col > indents.last! {
            if altCol <= altIndents.last! { throw tabError() }
            indents.append(col)
            altIndents.append(altCol)
            tokens.append(Token(kind: .indent, text: "", line: line, col: 0, endLine: line, endCol: tokCol))
        } else {
            // A dedent to no outer level fails before any DEDENT is made, as CPython's
            // tokenizer does (the parser must not see the block end first).
            if !indents.contains(col) {
                throw error("unindent does not match any outer indentation level",
                            col: file.line(line).unicodeScalars.count + 1, kind: "IndentationError")
            }
            while indents.count > 1, col < indents.last! {
                indents.removeLast()
                altIndents.removeLast()
                tokens.append(Token(kind: .dedent, text: "", line: line, col: tokCol, endLine: line, endCol: tokCol))
            }
            if col != indents.last! {
                throw error("unindent does not match any outer indentation level",
                            col: file.line(line).unicodeScalars.count + 1, kind: "IndentationError")
            }
            if altCol != altIndents.last! { throw tabError() }
        }
    }

    private func tabError() -> SyntaxError {
        var e = error("inconsistent use of tabs and spaces in indentation", col: 1, kind: "TabError")
        e.endLine = line; e.endColumn = 0  // CPython's end_offset
        return e
    }
}
