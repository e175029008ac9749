// Renders an uncaught exception as CPython 3.11 does: chained exceptions first, then
// "Traceback (most recent call last):", one entry per frame with the source line and
// 3.11-style markers, then "Type: message".
import ConcSyntax

extension Unit {
    /// The full report of `e` as printed to stderr.
    public func formatException(_ e: PyBaseException) -> String {
        // Walk the chain iteratively (oldest printed first): a chain of 100,000 causes
        // must not recurse once per link on a thread's stack.
        var seen = Set<ObjectIdentifier>()
        var chain: [(PyBaseException, String)] = []   // newest first, with its separator
        var current: PyBaseException? = e
        var separator = ""
        while let x = current {
            seen.insert(ObjectIdentifier(x))
            chain.append((x, separator))
            if let c = x.cause, !seen.contains(ObjectIdentifier(c)) {
                current = c
                separator = "\nThe above exception was the direct cause of the following exception:\n\n"
            } else if let c = x.context, !x.suppressContext, !seen.contains(ObjectIdentifier(c)) {
                current = c
                separator = "\nDuring handling of the above exception, another exception occurred:\n\n"
            } else {
                current = nil
            }
        }
        var out = ""
        for (x, sep) in chain.reversed() {
            out += formatOne(x)
            out += sep
        }
        return out
    }

    /// One exception's traceback, exception line and notes, without its chain.
    private func formatOne(_ e: PyBaseException) -> String {
        var out = ""
        if !e.traceback.isEmpty {
            out += "Traceback (most recent call last):\n"
            out += formatEntries(e.traceback.reversed())
        }
        if let s = e.syntaxError { out += formatSyntaxErrorBody(s) }
        out += exceptionLine(e) + suggestionSuffix(e) + "\n"
        if let notes = e.instanceAttribute("__notes__") {
            // add_note()'s notes, one per line, as CPython 3.11 prints them.
            if case .obj(let o) = notes, o is PyList || o is PyTuple, let items = try? toArray(notes) {
                for n in items { out += ((try? str(n)) ?? "<note str() failed>") + "\n" }
            } else {
                out += ((try? repr(notes)) ?? "<__notes__ repr() failed>") + "\n"
            }
        }
        return out
    }

    /// Entries outermost first; runs of an identical entry collapse as in CPython.
    func formatEntries(_ entries: [TracebackEntry]) -> String {
        var out = ""
        var last: (String, Int, String)? = nil
        var repeats = 0
        func flushRepeats() {
            if repeats > 3 {
                let n = repeats - 3
                out += "  [Previous line repeated \(n) more time\(n == 1 ? "" : "s")]\n"
            }
        }
        for entry in entries {
            let key = (entry.file.name, entry.loc.line, entry.function)
            if let l = last, l == key {
                repeats += 1
                if repeats > 3 { continue }
            } else {
                flushRepeats()
                repeats = 1
                last = key
            }
            out += formatEntry(entry)
        }
        flushRepeats()
        return out
    }

    func formatEntry(_ entry: TracebackEntry) -> String {
        var out = "  File \"\(entry.file.name)\", line \(entry.loc.line), in \(entry.function)\n"
        let line = entry.file.line(entry.loc.line)
        let stripped = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
        let trimmed = String(stripped).trimmingTrailingWhitespace()
        guard !trimmed.isEmpty else { return out }
        out += "    \(trimmed)\n"
        if let markers = markerLine(entry, lineLength: trimmed.unicodeScalars.count,
                                    indent: line.unicodeScalars.count - stripped.unicodeScalars.count) {
            out += "    " + markers + "\n"
        }
        return out
    }

    /// The `^^^`/`~~^~~` line under a source line, or nil when CPython prints none.
    private func markerLine(_ entry: TracebackEntry, lineLength: Int, indent: Int) -> String? {
        let loc = entry.loc
        if case .statement = entry.marker { return nil }
        guard loc.line > 0 else { return nil }
        let start = loc.col
        let end = loc.endLine == loc.line ? loc.endCol : indent + lineLength
        guard end > start else { return nil }
        let pad = String(repeating: " ", count: max(0, start - indent))
        let scalars = Array(entry.file.line(loc.line).unicodeScalars)
        switch entry.marker {
        case .binary(let leftEnd, let rightStart) where loc.endLine == loc.line:
            var opStart = leftEnd
            while opStart < rightStart && opStart < scalars.count && scalars[opStart] == " " { opStart += 1 }
            var opEnd = opStart + 1
            if opEnd < rightStart && opEnd < scalars.count && scalars[opEnd] != " " { opEnd += 1 }
            return pad + String(repeating: "~", count: max(0, opStart - start)) + String(repeating: "^", count: opEnd - opStart)
                + String(repeating: "~", count: max(0, end - opEnd))
        case .subscript(let valueEnd, let indexEnd) where loc.endLine == loc.line:
            return pad + String(repeating: "~", count: max(0, valueEnd - start)) + String(repeating: "^", count: max(0, min(indexEnd, end) - valueEnd))
                + String(repeating: "~", count: max(0, end - indexEnd))
        default:
            if end - start >= lineLength { return nil }
            return pad + String(repeating: "^", count: end - start)
        }
    }

    /// `ValueError: message` (just the type name when the message is empty).
    func exceptionLine(_ e: PyBaseException) -> String {
        // The qualified name, as CPython prints it (`Outer.Inner: ...` for a nested class).
        let name = e.type.module == "builtins" || e.type.module == "__main__" ? e.type.qualname : "\(e.type.module).\(e.type.qualname)"
        let msg: String
        // A SyntaxError with its location shown above prints only its message.
        let shown: Value = e.syntaxError != nil ? (e.instanceAttribute("msg") ?? .obj(e)) : .obj(e)
        do { msg = try str(shown) } catch { msg = "<exception str() failed>" }
        return msg.isEmpty ? name : "\(name): \(msg)"
    }

    private func formatSyntaxErrorBody(_ s: SyntaxError) -> String {
        // rendered() ends with the "SyntaxError: msg" line, which exceptionLine prints.
        var lines = s.rendered().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while let l = lines.last, l.isEmpty || l.hasPrefix(s.kind + ":") { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s = s.dropLast() }
        return String(s)
    }
}

