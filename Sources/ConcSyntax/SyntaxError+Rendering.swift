// How a syntax error is shown to a user: CPython 3.11's traceback layout.

extension SyntaxError {
    /// The error as CPython prints it:
    ///
    ///       File "x.conc", line 3
    ///         if x
    ///             ^
    ///     SyntaxError: expected ':'
    ///
    /// The source line loses its indentation and the caret moves with it; when the line
    /// is unknown only the first and last lines are printed.
    /// `asTracebackModule`: as the traceback module shows it (an IndentationError's whole
    /// token underlined, where CPython's own report has one caret).
    public func rendered(asTracebackModule: Bool = false) -> String {
        // No place at all (line 0, no caret line): a script whose encoding is unknown or
        // whose bytes do not decode, which CPython reports with the message alone.
        if line == 0 && endColumn == -1 { return "\(kind): \(message)" }
        var out = "  File \"\(file)\", line \(line)\n"
        var source = Substring(text)
        while let last = source.last, last == "\n" || last == "\r" { source.removeLast() }
        let body = source.drop(while: { $0 == " " || $0 == "\t" || $0 == "\u{0C}" })
        if !body.isEmpty {
            out += "    \(body)\n"
            let stripped = source.unicodeScalars.count - body.unicodeScalars.count
            let caret = max(column - 1 - stripped, 0)
            // (CPython's tokenizer reports a TabError with no caret line.)
            if column >= 1 && endColumn != -1 && kind != "TabError" {
                var pad = ""
                for (i, c) in body.unicodeScalars.enumerated() where i < caret {
                    pad.unicodeScalars.append(c == "\t" ? "\t" : " ")
                }
                if caret > body.unicodeScalars.count {
                    pad += String(repeating: " ", count: caret - body.unicodeScalars.count)
                }
                out += "    \(pad)\(String(repeating: "^", count: caretCount(caret: caret, lineLength: body.unicodeScalars.count, stripped: stripped, asTracebackModule: asTracebackModule)))\n"
            }
        }
        out += "\(kind): \(message)"
        return out
    }

    /// How many carets: the offending text's extent on this line (to its end when the text
    /// goes on to later lines), at least one. `caret` is 0-based in the stripped line.
    private func caretCount(caret: Int, lineLength: Int, stripped: Int, asTracebackModule: Bool) -> Int {
        // (CPython's own report underlines an IndentationError with one caret, whatever
        // its end_offset says; the traceback module underlines the whole token.)
        guard endColumn > 0, endLine >= line, kind != "IndentationError" || asTracebackModule else { return 1 }
        let end = endLine > line ? lineLength : min(endColumn - 1 - stripped, lineLength)
        return max(end - caret, 1)
    }
}
