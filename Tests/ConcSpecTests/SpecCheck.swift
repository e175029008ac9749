// Compares what a program produced with what its annotations expect. Pure functions of a
// ``SpecProgram`` and a ``RunResult``, so the self-tests can drive them without a binary.

/// One mismatch between a run and its spec file.
struct SpecFailure: Equatable, Sendable, CustomStringConvertible {
    /// The spec file's path as shown in messages.
    var path: String
    /// The 1-based spec line of the annotation that failed (the program's first line when
    /// no single annotation is to blame).
    var line: Int
    /// What was expected and what came instead.
    var message: String

    var description: String { "\(path):\(line): \(message)" }
}

/// The comparison of one run against one program's expectations.
struct SpecCheck {
    /// The spec file's path as shown in messages (relative to the repository root).
    var displayPath: String
    /// The spec file's name; traceback frames naming it belong to the program.
    var fileName: String
    /// The program's expectations.
    var program: SpecProgram
    /// The timeout that applied, for the message.
    var timeout: Double

    /// Every mismatch, each shown as `file:line: expected "…", got "…"`; empty on a pass.
    func failures(of result: RunResult) -> [SpecFailure] {
        if result.timedOut {
            return [
                at(program.firstLine, "timed out after \(timeout) s; its process group was killed")
            ]
        }
        var failures = checkStdout(lines(of: result.stdout))
        failures += checkStderr(lines(of: result.stderr))
        if let expected = program.syntaxError {
            failures += checkSyntaxError(expected, stderr: lines(of: result.stderr))
        }
        if let expected = program.runtimeError {
            failures += checkRuntimeError(expected, stderr: lines(of: result.stderr))
        }
        if result.exitStatus != program.expectedExitStatus {
            failures.append(
                at(
                    program.exitStatusLine,
                    "expected exit status \(program.expectedExitStatus), got \(result.exitStatus)"))
        }
        if result.outputHeldOpen {
            failures.append(
                at(
                    program.firstLine,
                    "the program exited but a process it started kept stdout or stderr open"))
        }
        return failures
    }

    // MARK: - stdout

    /// Compares stdout line by line; runs of `(any order)` lines compare as multisets.
    func checkStdout(_ actual: [String]) -> [SpecFailure] {
        var position = 0
        for group in groups(program.stdout) {
            let got = Array(
                actual[min(position, actual.count)..<min(position + group.count, actual.count)])
            if let failure = compare(group, got) { return [failure] }
            position += group.count
        }
        if position < actual.count {
            let line = program.stdout.last?.line ?? program.firstLine
            return [at(line, "expected end of output, got \(quote(actual[position]))")]
        }
        return []
    }

    /// Splits expected lines into single ordered lines and maximal `(any order)` runs.
    private func groups(_ expected: [ExpectedLine]) -> [[ExpectedLine]] {
        var groups: [[ExpectedLine]] = []
        for line in expected {
            if line.anyOrder, let last = groups.last, last[0].anyOrder {
                groups[groups.count - 1].append(line)
            } else {
                groups.append([line])
            }
        }
        return groups
    }

    /// Compares one group with the actual lines found at its place.
    private func compare(_ group: [ExpectedLine], _ got: [String]) -> SpecFailure? {
        if group[0].anyOrder {
            let want = group.map(\.text)
            if want.sorted() == got.sorted() { return nil }
            let wantText = want.map(quote).joined(separator: ", ")
            let gotText = got.map(quote).joined(separator: ", ")
            return at(group[0].line, "expected (any order) [\(wantText)], got [\(gotText)]")
        }
        guard let actual = got.first else {
            return at(group[0].line, "expected \(quote(group[0].text)), got end of output")
        }
        return actual == group[0].text
            ? nil
            : at(group[0].line, "expected \(quote(group[0].text)), got \(quote(actual))")
    }

    // MARK: - stderr

    /// Matches `# expect stderr:` lines against stderr. Annotations on consecutive spec
    /// lines form a block that must match consecutive stderr lines; blocks must appear in
    /// order, and other stderr lines may come before, between and after them. Without any
    /// stderr or error annotation, stderr must be empty.
    func checkStderr(_ actual: [String]) -> [SpecFailure] {
        let expectsSomething =
            !program.stderr.isEmpty || program.syntaxError != nil || program.runtimeError != nil
        if !expectsSomething, let first = actual.first {
            return [at(program.firstLine, "expected no stderr, got \(quote(first))")]
        }
        var position = 0
        for block in stderrBlocks() {
            let texts = block.map(\.text)
            if let start = (position...max(position, actual.count)).first(where: {
                Array(actual[$0..<min($0 + texts.count, actual.count)]) == texts
            }) {
                position = start + texts.count
                continue
            }
            return [blockMismatch(block, in: actual, from: position)]
        }
        return []
    }

    /// `# expect stderr:` annotations split into runs on consecutive spec lines.
    private func stderrBlocks() -> [[ExpectedLine]] {
        var blocks: [[ExpectedLine]] = []
        for line in program.stderr {
            if let last = blocks.last?.last, last.line + 1 == line.line {
                blocks[blocks.count - 1].append(line)
            } else {
                blocks.append([line])
            }
        }
        return blocks
    }

    /// Explains why `block` matches nowhere at or after `position`: from its longest
    /// partial match, the first expected line that differs.
    private func blockMismatch(_ block: [ExpectedLine], in actual: [String], from position: Int)
        -> SpecFailure
    {
        var best: (start: Int, length: Int)?
        for start in position..<actual.count where actual[start] == block[0].text {
            var length = 0
            while length < block.count, start + length < actual.count,
                actual[start + length] == block[length].text
            { length += 1 }
            if length > (best?.length ?? 0) { best = (start, length) }
        }
        guard let best else {
            return at(
                block[0].line, "expected stderr line \(quote(block[0].text)) (in order), not found")
        }
        let wanted = block[best.length]
        let got =
            best.start + best.length < actual.count
            ? quote(actual[best.start + best.length]) : "end of stderr"
        return at(
            wanted.line,
            "expected stderr \(quote(wanted.text)) after "
                + "\(quote(block[best.length - 1].text)), got \(got)"
        )
    }

    // MARK: - Syntax errors

    /// Checks the `line N`, the last stderr line and, when asked, the caret column.
    func checkSyntaxError(_ expected: ExpectedSyntaxError, stderr: [String]) -> [SpecFailure] {
        var failures: [SpecFailure] = []
        if !stderr.contains(where: { mentionsLine(expected.line, in: $0) }) {
            failures.append(
                at(
                    expected.line,
                    "expected a syntax error reported at \"line \(expected.line)\", "
                        + "got \(quote(firstLineMention(in: stderr)))"
                ))
        }
        let accepted = Self.syntaxErrorLines(expected.message)
        let last = stderr.last(where: { !$0.isEmpty }) ?? ""
        if !accepted.contains(last) {
            let wanted =
                accepted.count == 1
                ? quote(accepted[0])
                : quote(accepted[0]) + " (or IndentationError/TabError)"
            failures.append(at(expected.line, "expected \(wanted), got \(quote(last))"))
        }
        if let column = expected.column {
            switch Self.caretColumn(in: stderr, sourceLine: sourceLine(expected.line)) {
            case .some(let got) where got == column: break
            case .some(let got):
                failures.append(
                    at(expected.line, "expected caret at column \(column), got column \(got)"))
            case .none:
                failures.append(
                    at(expected.line, "expected caret at column \(column), got no caret line"))
            }
        }
        return failures
    }

    /// The last stderr lines a syntax error may print: MESSAGE itself when it starts with
    /// `SyntaxError: `, `IndentationError: ` or `TabError: `; otherwise MESSAGE after any of
    /// those three kinds (the last two are subclasses of SyntaxError).
    static func syntaxErrorLines(_ message: String) -> [String] {
        let kinds = ["SyntaxError: ", "IndentationError: ", "TabError: "]
        return kinds.contains(where: { message.hasPrefix($0) })
            ? [message] : kinds.map { $0 + message }
    }

    /// The 1-based column in the source line (CPython's `SyntaxError.offset`) of the first
    /// `^` of the last caret line.
    ///
    /// The line shown above the caret may be indented differently from the source (CPython
    /// strips the source's indentation and indents by 4), so the caret's distance from the
    /// shown text's first non-blank character is added to the source's own indentation.
    static func caretColumn(in stderr: [String], sourceLine: String) -> Int? {
        guard let index = stderr.lastIndex(where: isCaretLine), index > 0,
            let caret = stderr[index].firstIndex(of: "^")
        else { return nil }
        let shownIndent = stderr[index - 1].prefix(while: { $0 == " " }).count
        let sourceIndent = sourceLine.prefix(while: { $0 == " " || $0 == "\t" || $0 == "\u{0C}" })
            .count
        let caretOffset = stderr[index].distance(from: stderr[index].startIndex, to: caret)
        return caretOffset - shownIndent + sourceIndent + 1
    }

    /// Line `number` (1-based) of the program's source, or "" past its end.
    private func sourceLine(_ number: Int) -> String {
        let lines = program.source.split(separator: "\n", omittingEmptySubsequences: false)
        return number >= 1 && number <= lines.count ? String(lines[number - 1]) : ""
    }

    private static func isCaretLine(_ line: String) -> Bool {
        let body = line.drop(while: { $0 == " " })
        return body.contains("^") && body.allSatisfy { $0 == "^" || $0 == "~" }
    }

    /// The first stderr line that mentions a line number, for messages.
    private func firstLineMention(in stderr: [String]) -> String {
        stderr.first(where: { $0.contains("line ") }) ?? "no line number"
    }

    /// True when `text` contains `line N` not followed by another digit.
    private func mentionsLine(_ number: Int, in text: String) -> Bool {
        var rest = Substring(text)
        while let range = rest.range(of: "line \(number)") {
            if range.upperBound == rest.endIndex || !rest[range.upperBound].isNumber { return true }
            rest = rest[range.upperBound...]
        }
        return false
    }

    // MARK: - Runtime errors

    /// Checks the traceback header, the exception line and the innermost frame's line.
    func checkRuntimeError(_ expected: ExpectedRuntimeError, stderr: [String]) -> [SpecFailure] {
        var failures: [SpecFailure] = []
        if !stderr.contains("Traceback (most recent call last):") {
            failures.append(
                at(
                    expected.line,
                    "expected \"Traceback (most recent call last):\" in stderr, got none"))
        }
        let last = stderr.last(where: { !$0.isEmpty }) ?? ""
        if last != expected.message {
            failures.append(
                at(expected.line, "expected \(quote(expected.message)), got \(quote(last))"))
        }
        switch innermostFrameLine(in: stderr) {
        case .some(let line) where line == expected.line: break
        case .some(let line):
            failures.append(
                at(
                    expected.line,
                    "expected the innermost frame at line \(expected.line), got line \(line)"))
        case .none:
            let frame = "`File \"…\", line \(expected.line)`"
            failures.append(at(expected.line, "expected a \(frame) frame, got none"))
        }
        return failures
    }

    /// The line of the innermost traceback frame in this spec file (by file name), or of
    /// the innermost frame at all when none names this file.
    func innermostFrameLine(in stderr: [String]) -> Int? {
        let frames = stderr.compactMap(Self.parseFrame)
        let own = frames.last(where: {
            $0.file.split(separator: "/").last.map(String.init) == fileName
        })
        return (own ?? frames.last)?.line
    }

    /// Parses `  File "path", line N, in name` (the `, in name` part is optional).
    static func parseFrame(_ text: String) -> (file: String, line: Int)? {
        let body = text.drop(while: { $0 == " " })
        guard body.hasPrefix("File \""), let end = body.range(of: "\", line ") else { return nil }
        let file = body[body.index(body.startIndex, offsetBy: 6)..<end.lowerBound]
        guard let line = Int(body[end.upperBound...].prefix(while: \.isNumber)) else { return nil }
        return (String(file), line)
    }

    // MARK: - Formatting

    /// Output split into lines, trailing whitespace trimmed, without the final empty line.
    func lines(of text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0).trimmingTrailingWhitespace()
        }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    private func at(_ line: Int, _ message: String) -> SpecFailure {
        SpecFailure(path: displayPath, line: line, message: message)
    }

    private func quote(_ text: String) -> String { "\"\(text)\"" }
}
