// Renders an uncaught exception as CPython 3.11 does: chained exceptions first, then
// "Traceback (most recent call last):", one entry per frame with the source line and
// 3.11-style markers, then "Type: message".
import ConcSyntax

extension Unit {
    /// The full report of `e` as printed to stderr: its chain (causes and contexts, oldest
    /// first), and for an exception group its members, boxed as CPython 3.11 prints them.
    public func formatException(_ e: PyBaseException) -> String { formatException(e, limit: nil).joined() }

    /// The same in the pieces traceback.format_exception lists (a header, one piece per
    /// frame, one per line of the rest), showing at most `limit` frames of each exception:
    /// the outermost ones, or the innermost `-limit` (traceback's `limit`; nil for all).
    /// `moduleLayout`: as the traceback module lays a frame out (its source line stripped at
    /// both ends), not as the interpreter's own report (which keeps trailing whitespace).
    func formatException(_ e: PyBaseException, limit: Int?, moduleLayout: Bool = false) -> [String] {
        var context = GroupPrintContext()
        context.limit = limit
        context.moduleLayout = moduleLayout
        return format(e, &context)
    }

    /// CPython 3.11's print_exception_recursive: the chain of `e` (oldest first), each
    /// exception with its frames, then, for a group, each member in a numbered box
    /// (recursing once per level of nesting, at most ``GroupPrintContext/maxDepth`` deep).
    /// An exception already shown (`ctx.seen`) is not shown again, and one with a cause
    /// shows no context. The chain is walked with a loop: 100,000 causes need no recursion.
    private func format(_ e: PyBaseException, _ ctx: inout GroupPrintContext) -> [String] {
        // Newest first, each with the words that lead from its predecessor to it.
        var links: [(message: String?, exception: PyBaseException)] = []
        ctx.seen.insert(ObjectIdentifier(e))
        var current = e
        while true {
            var older: (PyBaseException, String)? = nil
            if let c = current.cause {
                if !ctx.seen.contains(ObjectIdentifier(c)) {
                    older = (c, "\nThe above exception was the direct cause of the following exception:\n\n")
                }
            } else if !current.suppressContext, let c = current.context, !ctx.seen.contains(ObjectIdentifier(c)) {
                older = (c, "\nDuring handling of the above exception, another exception occurred:\n\n")
            }
            links.append((older?.1, current))
            guard let (o, _) = older else { break }
            ctx.seen.insert(ObjectIdentifier(o))
            current = o
        }
        var out: [String] = []
        for (message, e) in links.reversed() {
            if let m = message { out.append(ctx.emit(m)) }
            let frames = ctx.shown(e.traceback.reversed())
            guard let members = e.groupExceptions?.items.compactMap({ $0.object as? PyBaseException }) else {
                if !frames.isEmpty {
                    out.append(ctx.emit("Traceback (most recent call last):\n"))
                    out += formatEntryChunks(frames, moduleLayout: ctx.moduleLayout).map { ctx.emit($0) }
                }
                out += formatExceptionOnly(e, moduleLayout: ctx.moduleLayout).map { ctx.emit($0) }
                continue
            }
            if ctx.depth > GroupPrintContext.maxDepth {
                out.append(ctx.emit("... (max_group_depth is \(GroupPrintContext.maxDepth))\n"))
                continue
            }
            let isTopLevel = ctx.depth == 0
            if isTopLevel { ctx.depth += 1 }
            if !frames.isEmpty {
                out.append(ctx.emit("Exception Group Traceback (most recent call last):\n", margin: isTopLevel ? "+" : "|"))
                out += formatEntryChunks(frames, moduleLayout: ctx.moduleLayout).map { ctx.emit($0) }
            }
            out += formatExceptionOnly(e, moduleLayout: ctx.moduleLayout).map { ctx.emit($0) }
            let width = GroupPrintContext.maxWidth
            let shown = members.count <= width ? members.count : width + 1
            ctx.needsClose = false
            for i in 0..<shown {
                let isLast = i == shown - 1
                if isLast { ctx.needsClose = true }
                let truncated = i >= width
                out.append(ctx.indent + (i == 0 ? "+-" : "  ") + "+---------------- \(truncated ? "..." : String(i + 1)) ----------------\n")
                ctx.depth += 1
                if truncated {
                    let remaining = members.count - width
                    out.append(ctx.emit("and \(remaining) more exception\(remaining > 1 ? "s" : "")\n"))
                } else {
                    out += format(members[i], &ctx)
                }
                if isLast && ctx.needsClose {
                    out.append(ctx.indent + "+------------------------------------\n")
                    ctx.needsClose = false
                }
                ctx.depth -= 1
            }
            if isTopLevel { ctx.depth = 0 }
        }
        return out
    }

    /// One exception's last lines: a SyntaxError's source line and caret, `Type: message`
    /// (with a "Did you mean" suggestion as the interpreter reports it; CPython 3.11's
    /// traceback module, `moduleLayout`, computes none), and its notes.
    private func formatExceptionOnly(_ e: PyBaseException, moduleLayout: Bool) -> [String] {
        var out: [String] = []
        if let s = e.syntaxError {
            out += formatSyntaxErrorBody(s, moduleLayout: moduleLayout).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0 + "\n" }
        }
        out.append(exceptionLine(e) + (moduleLayout ? "" : suggestionSuffix(e)) + "\n")
        if let notes = e.instanceAttribute("__notes__") {
            // add_note()'s notes, line by line, as CPython 3.11 prints them.
            if case .obj(let o) = notes, o is PyList || o is PyTuple, let items = try? toArray(notes) {
                for n in items {
                    let text = (try? str(n)) ?? "<note str() failed>"
                    out += text.split(separator: "\n", omittingEmptySubsequences: false).map { $0 + "\n" }
                }
            } else {
                out.append(((try? repr(notes)) ?? "<__notes__ repr() failed>") + "\n")
            }
        }
        return out
    }

    /// Entries outermost first; runs of an identical entry collapse as in CPython.
    /// One string per frame (with its source line and markers) and one per
    /// "[Previous line repeated ...]", as traceback.format_exception lists them.
    func formatEntryChunks(_ entries: [TracebackEntry], moduleLayout: Bool) -> [String] {
        var out: [String] = []
        var last: (String, Int, String)? = nil
        var repeats = 0
        func flushRepeats() {
            if repeats > 3 {
                let n = repeats - 3
                out.append("  [Previous line repeated \(n) more time\(n == 1 ? "" : "s")]\n")
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
            out.append(formatEntry(entry, moduleLayout: moduleLayout))
        }
        flushRepeats()
        return out
    }

    /// One frame: where, the source line (its indentation dropped) and the markers under it.
    /// CPython's own report keeps the line's trailing whitespace, so an expression that does
    /// not reach the end of the line gets markers; the traceback module (`moduleLayout`)
    /// strips it first.
    func formatEntry(_ entry: TracebackEntry, moduleLayout: Bool) -> String {
        var out = "  File \"\(entry.file.name)\", line \(entry.loc.line), in \(entry.function)\n"
        guard entry.file.linesInTracebacks else { return out }
        let line = entry.file.line(entry.loc.line)
        let stripped = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
        let trimmed = String(stripped).trimmingTrailingWhitespace()
        guard !trimmed.isEmpty else { return out }
        var untrimmed = stripped
        while let l = untrimmed.last, l == "\r" || l == "\n" { untrimmed = untrimmed.dropLast() }
        let shown = moduleLayout ? Substring(trimmed) : untrimmed
        out += "    \(shown)\n"
        // (The traceback module of 3.11 counts the trailing whitespace it stripped as
        // indentation too, so its markers stand that many columns to the left.)
        var indent = line.unicodeScalars.count - stripped.unicodeScalars.count
        if moduleLayout { indent += untrimmed.unicodeScalars.count - trimmed.unicodeScalars.count }
        if let markers = markerLine(entry, lineLength: shown.unicodeScalars.count, contentLength: trimmed.unicodeScalars.count,
                                    indent: indent) {
            out += "    " + markers + "\n"
        }
        return out
    }

    /// The `^^^`/`~~^~~` line under a source line, or nil when CPython prints none.
    /// `lineLength`: the shown line's length; `contentLength`: without trailing whitespace
    /// (a multi-line expression is marked up to its last visible character).
    private func markerLine(_ entry: TracebackEntry, lineLength: Int, contentLength: Int, indent: Int) -> String? {
        let loc = entry.loc
        if case .statement = entry.marker { return nil }
        guard loc.line > 0 else { return nil }
        let start = loc.col
        let end = loc.endLine == loc.line ? loc.endCol : indent + contentLength
        guard end > start else { return nil }
        let scalars = Array(entry.file.line(loc.line).unicodeScalars)
        // Columns on the terminal, where a wide character (CJK, emoji) takes two, as
        // CPython 3.11 draws the markers; positions are counted in characters.
        let ascii = scalars.allSatisfy { $0.isASCII }
        func column(_ i: Int) -> Int { ascii ? i : displayWidth(scalars, upTo: i) }
        func marks(_ c: Character, from a: Int, to b: Int) -> String {
            String(repeating: c, count: max(0, column(b) - column(a)))
        }
        let pad = String(repeating: " ", count: max(0, column(start) - column(indent)))
        switch entry.marker {
        case .binary(let leftEnd, let rightStart) where loc.endLine == loc.line:
            var opStart = leftEnd
            while opStart < rightStart && opStart < scalars.count && scalars[opStart] == " " { opStart += 1 }
            var opEnd = opStart + 1
            if opEnd < rightStart && opEnd < scalars.count && scalars[opEnd] != " " { opEnd += 1 }
            return pad + marks("~", from: start, to: opStart) + marks("^", from: opStart, to: opEnd) + marks("~", from: opEnd, to: end)
        case .subscript(let valueEnd, let indexEnd) where loc.endLine == loc.line:
            return pad + marks("~", from: start, to: valueEnd) + marks("^", from: valueEnd, to: min(indexEnd, end))
                + marks("~", from: indexEnd, to: end)
        default:
            if end - start >= lineLength { return nil }
            return pad + marks("^", from: start, to: end)
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

    private func formatSyntaxErrorBody(_ s: SyntaxError, moduleLayout: Bool) -> String {
        // rendered() ends with the "SyntaxError: msg" line, which exceptionLine prints.
        var lines = s.rendered(asTracebackModule: moduleLayout).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
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


/// Where a report is inside exception-group boxes (CPython's _ExceptionPrintContext).
struct GroupPrintContext {
    /// CPython's default max_group_width and max_group_depth.
    static let maxWidth = 15
    static let maxDepth = 10
    var depth = 0
    var needsClose = false
    /// The exceptions shown so far (CPython's `seen` set).
    var seen = Set<ObjectIdentifier>()
    /// traceback's `limit` (nil: every frame).
    var limit: Int?
    /// Laid out as the traceback module does (``formatEntry(_:moduleLayout:)``).
    var moduleLayout = false

    /// The frames (outermost first) of an exception that `limit` lets through.
    func shown(_ frames: [TracebackEntry]) -> [TracebackEntry] {
        guard let limit else { return frames }
        return limit >= 0 ? Array(frames.prefix(limit)) : Array(frames.suffix(-limit))
    }

    var indent: String { String(repeating: " ", count: 2 * depth) }

    /// `text` with every line prefixed by the indent and, inside a group, the margin.
    func emit(_ text: String, margin: Character = "|") -> String {
        if depth == 0 { return text }
        let prefix = indent + String(margin) + " "
        var out = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            out += prefix + line + "\n"
        }
        if !text.hasSuffix("\n") { out += prefix + (text.split(separator: "\n", omittingEmptySubsequences: false).last ?? "") }
        return out
    }
}
