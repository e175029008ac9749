// A spec file of Tests/spec: discovery, the annotation grammar, chunks and PENDING entries.
// The grammar is documented in Tests/spec/README.md; keep the two in step.
import Foundation
import Testing

// MARK: - Annotations

/// One annotation found in a `#` comment of a spec file.
///
/// An annotation starts at the first `#` on a line that is followed (after optional
/// spaces) by one of the keywords below, so it may trail code: `print(1)  # expect: 1`.
enum Annotation: Equatable, Sendable {
    /// `# expect: TEXT`: the next line of stdout.
    case expect(String)
    /// `# expect (any order): TEXT`: a line of a contiguous run matched as a multiset.
    case expectAnyOrder(String)
    /// `# expect stderr: TEXT`: a stderr line; annotations on consecutive lines form a block
    /// matched by consecutive stderr lines, blocks in order, other lines allowed between.
    case expectStderr(String)
    /// `# expect error: MESSAGE` or `# expect error col N: MESSAGE`: a syntax error here.
    case expectSyntaxError(message: String, column: Int?)
    /// `# expect runtime error: Type: message`: an uncaught exception raised on this line.
    case expectRuntimeError(String)
    /// `# expect exit: N`: the exit status.
    case expectExit(Int)
    /// `# stdin: TEXT`: one line of standard input.
    case stdin(String)
    /// `# args: A B C`: arguments after the file name, split on spaces; `"…"` or `'…'`
    /// quote a word that holds spaces, and `\` escapes the next character outside quotes.
    case args([String])
    /// `# timeout: S`: the wall-clock limit in seconds.
    case timeout(Double)
    /// `# skip: REASON`: the file is not run.
    case skip(String)
    /// `# nontest`: a helper module, not a test.
    case nontest
    /// `# conc-only`: the expectations are Conc's, not CPython's (64-bit ints, say).
    case concOnly
    /// `# units: go thread spawn`: run once per unit kind, with `CONC_TEST_UNIT=kind`.
    case units([String])
    /// `# env: NAME=VALUE`: an environment variable for the program.
    case env(name: String, value: String)
    /// A comment that starts like an annotation but does not parse; the text says why.
    case malformed(String)
}

extension Annotation {
    /// The unit kinds `# units:` accepts (LANGUAGE.md §3).
    static let unitKinds: Set<String> = ["go", "thread", "thread-gil", "spawn"]

    /// The annotation on one source line, or nil when the line has none.
    static func parse(line: Substring) -> Annotation? {
        var searchStart = line.startIndex
        while let hash = line[searchStart...].firstIndex(of: "#") {
            let body = line[line.index(after: hash)...].drop(while: { $0 == " " })
            if let annotation = parse(body: body) { return annotation }
            searchStart = line.index(after: hash)
        }
        return nil
    }

    /// Parses what follows `# `; nil when it is not an annotation keyword.
    private static func parse(body: Substring) -> Annotation? {
        if body.hasPrefix("expect"), !startsWithWordCharacter(body.dropFirst(6)) {
            return parseExpect(body.dropFirst(6))
        }
        if body.hasPrefix("nontest"), !startsWithWordCharacter(body.dropFirst(7)) {
            return .nontest
        }
        if body.hasPrefix("conc-only"), !startsWithWordCharacter(body.dropFirst(9)) {
            return .concOnly
        }
        let keywords = ["stdin:", "args:", "timeout:", "skip:", "units:", "env:"]
        guard let keyword = keywords.first(where: { body.hasPrefix($0) }) else { return nil }
        return parseDirective(keyword, value: value(after: body.dropFirst(keyword.count)))
    }

    /// Parses the forms of `# expect…`; `rest` is what follows the word `expect`.
    private static func parseExpect(_ rest: Substring) -> Annotation {
        if rest.hasPrefix(":") { return .expect(value(after: rest.dropFirst())) }
        if rest.hasPrefix(" (any order):") {
            return .expectAnyOrder(value(after: rest.dropFirst(13)))
        }
        if rest.hasPrefix(" stderr:") { return .expectStderr(value(after: rest.dropFirst(8))) }
        if rest.hasPrefix(" error col ") { return parseErrorColumn(rest.dropFirst(11)) }
        if rest.hasPrefix(" error:") {
            let message = value(after: rest.dropFirst(7))
            if message.isEmpty { return .malformed("`# expect error:` needs a message") }
            return .expectSyntaxError(message: message, column: nil)
        }
        if rest.hasPrefix(" runtime error:") {
            let message = value(after: rest.dropFirst(15))
            if message.isEmpty { return .malformed("`# expect runtime error:` needs a message") }
            return .expectRuntimeError(message)
        }
        if rest.hasPrefix(" exit:") {
            guard let status = Int(value(after: rest.dropFirst(6))) else {
                return .malformed("`# expect exit:` needs an integer")
            }
            return .expectExit(status)
        }
        return .malformed("unknown annotation `# expect\(rest.prefix(24))`")
    }

    /// Parses `N: MESSAGE` after `# expect error col `.
    private static func parseErrorColumn(_ rest: Substring) -> Annotation {
        guard let colon = rest.firstIndex(of: ":"), let column = Int(rest[..<colon]), column >= 1
        else { return .malformed("`# expect error col N:` needs a column number N ≥ 1") }
        let message = value(after: rest[rest.index(after: colon)...])
        if message.isEmpty { return .malformed("`# expect error col N:` needs a message") }
        return .expectSyntaxError(message: message, column: column)
    }

    /// Parses the value of one of the non-`expect` keywords.
    private static func parseDirective(_ keyword: String, value: String) -> Annotation {
        switch keyword {
        case "stdin:": return .stdin(value)
        case "args:":
            guard let words = splitWords(value) else {
                return .malformed("`# args:` has an unclosed quote")
            }
            return .args(words)
        case "skip:": return .skip(value.isEmpty ? "no reason given" : value)
        case "timeout:":
            guard let seconds = Double(value), seconds > 0 else {
                return .malformed("`# timeout:` needs a positive number of seconds")
            }
            return .timeout(seconds)
        case "units:":
            let kinds = value.split(separator: " ").map(String.init)
            let unknown = kinds.filter { !unitKinds.contains($0) }
            if kinds.isEmpty || !unknown.isEmpty {
                return .malformed("`# units:` takes some of go, thread, thread-gil, spawn; got \"\(value)\"")
            }
            return .units(kinds)
        default:  // env:
            guard let equals = value.firstIndex(of: "="), equals != value.startIndex else {
                return .malformed("`# env:` needs NAME=VALUE")
            }
            return .env(
                name: String(value[..<equals]), value: String(value[value.index(after: equals)...]))
        }
    }

    /// Splits `text` on spaces, shell style: quotes group, a backslash escapes; nil when a
    /// quote is left open.
    static func splitWords(_ text: String) -> [String]? {
        var words: [String] = []
        var word: String?
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                word = (word ?? "") + String(character)
                escaped = false
            } else if let open = quote {
                if character == open {
                    quote = nil
                } else {
                    word = (word ?? "") + String(character)
                }
            } else if character == "\"" || character == "'" {
                quote = character
                word = word ?? ""
            } else if character == "\\" {
                escaped = true
            } else if character == " " || character == "\t" {
                if let finished = word { words.append(finished) }
                word = nil
            } else {
                word = (word ?? "") + String(character)
            }
        }
        if quote != nil { return nil }
        if let finished = word { words.append(finished) }
        return words
    }

    /// The text after a keyword's colon: one optional space dropped, trailing blanks trimmed.
    private static func value(after rest: Substring) -> String {
        let text = rest.hasPrefix(" ") ? rest.dropFirst() : rest
        return String(text).trimmingTrailingWhitespace()
    }

    private static func startsWithWordCharacter(_ text: Substring) -> Bool {
        guard let first = text.first else { return false }
        return first.isLetter || first.isNumber || first == "_"
    }
}

// MARK: - Programs

/// An expected line of output and the spec line that asked for it.
struct ExpectedLine: Equatable, Sendable {
    /// The expected text, trailing whitespace trimmed.
    var text: String
    /// The 1-based line of the annotation in the spec file.
    var line: Int
    /// True for `# expect (any order):`.
    var anyOrder = false
}

/// A syntax error the program must report.
struct ExpectedSyntaxError: Equatable, Sendable {
    /// The 1-based line of the annotation; the error must be reported on it.
    var line: Int
    /// The message after `SyntaxError: `, or a whole `IndentationError: …`/`TabError: …` line.
    var message: String
    /// The 1-based caret column within the displayed (left-stripped) source line, if checked.
    var column: Int?
}

/// An uncaught exception the program must end with.
struct ExpectedRuntimeError: Equatable, Sendable {
    /// The 1-based line of the annotation; the innermost frame in this file must name it.
    var line: Int
    /// The last line of stderr, such as `ZeroDivisionError: division by zero`.
    var message: String
}

/// One program to run: a whole spec file, or one chunk of a chunked file.
struct SpecProgram: Equatable, Sendable {
    /// The 1-based number of the chunk, counting every chunk of the file (1 when unchunked).
    var chunk = 1
    /// The 1-based first line of the program in the spec file.
    var firstLine: Int
    /// The 1-based last line of the program in the spec file.
    var lastLine: Int
    /// The source to run; for a chunk, earlier lines are blank so line numbers match the file.
    var source: String
    /// `# expect:` and `# expect (any order):` lines, in file order.
    var stdout: [ExpectedLine] = []
    /// `# expect stderr:` lines, in file order.
    var stderr: [ExpectedLine] = []
    /// The `# expect error` annotation, if any.
    var syntaxError: ExpectedSyntaxError?
    /// The `# expect runtime error` annotation, if any.
    var runtimeError: ExpectedRuntimeError?
    /// The `# expect exit:` status and its line, if any.
    var explicitExit: ExpectedLine?
    /// `# stdin:` lines, in order.
    var stdin: [String] = []
    /// `# args:` values, in order.
    var args: [String] = []
    /// True when some line is neither blank nor a comment.
    var hasCode = false

    /// The exit status the program must end with.
    var expectedExitStatus: Int {
        if let explicitExit { return Int(explicitExit.text) ?? 0 }
        if runtimeError != nil { return 1 }
        if syntaxError != nil { return 2 }
        return 0
    }

    /// The spec line that the expected exit status comes from (1 when it is the default).
    var exitStatusLine: Int {
        explicitExit?.line ?? runtimeError?.line ?? syntaxError?.line ?? firstLine
    }

    /// True when the program says anything worth running.
    var isRunnable: Bool {
        hasCode || !stdout.isEmpty || !stderr.isEmpty || syntaxError != nil || runtimeError != nil
            || explicitExit != nil
    }
}

// MARK: - Parsing a whole file

/// Everything the annotations of one spec file say.
struct SpecAnnotations: Equatable, Sendable {
    /// The programs to run: one, or one per runnable chunk.
    var programs: [SpecProgram] = []
    /// True when the file contains `# ---` separators.
    var isChunked = false
    /// The `# skip:` reason, if any.
    var skipReason: String?
    /// True for `# nontest` helper modules.
    var isNonTest = false
    /// True for `# conc-only` files, whose expectations CPython does not meet.
    var isConcOnly = false
    /// The `# units:` kinds; empty means run once without `CONC_TEST_UNIT`.
    var units: [String] = []
    /// The `# timeout:` in seconds.
    var timeout: Double = 10
    /// `# env:` variables (a later one of the same name wins).
    var environment: [String: String] = [:]
    /// Malformed annotations and contradictions.
    var problems: [Problem] = []

    /// A malformed annotation or a contradiction, and the line it is on.
    struct Problem: Equatable, Sendable {
        /// The 1-based line.
        var line: Int
        /// What is wrong.
        var message: String
    }

    /// The line that separates chunks.
    static let chunkSeparator = "# ---"

    /// Parses the annotations of `text`.
    ///
    /// `# skip`, `# nontest`, `# conc-only`, `# units`, `# timeout` and `# env` apply to the
    /// whole file wherever they appear; every other annotation belongs to its chunk.
    static func parse(_ text: String) -> SpecAnnotations {
        var result = SpecAnnotations()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        let separators = lines.indices.filter {
            String(lines[$0]).trimmingTrailingWhitespace() == chunkSeparator
        }
        result.isChunked = !separators.isEmpty
        let bounds = [0] + separators.map { $0 + 1 }
        let ends = separators + [lines.count]
        // The empty string after a final newline is not a line of the file.
        let lineCount = lines.last == "" ? lines.count - 1 : lines.count
        for (number, (start, end)) in zip(bounds, ends).enumerated() {
            var program = SpecProgram(
                chunk: number + 1, firstLine: start + 1,
                lastLine: max(start + 1, min(end, lineCount)),
                source: chunkSource(lines, start: start, end: end, padded: result.isChunked))
            for index in start..<end {
                result.apply(line: lines[index], number: index + 1, to: &program)
            }
            result.validate(program)
            if !result.isChunked || program.isRunnable { result.programs.append(program) }
        }
        if result.isChunked && result.programs.isEmpty {
            result.problems.append(Problem(line: 1, message: "no chunk has code or expectations"))
        }
        return result
    }

    /// The source of lines `start..<end`, preceded by blank lines when `padded`.
    private static func chunkSource(_ lines: [Substring], start: Int, end: Int, padded: Bool)
        -> String
    {
        guard padded else { return lines.joined(separator: "\n") }
        let body = lines[start..<end].joined(separator: "\n")
        return String(repeating: "\n", count: start) + body + "\n"
    }

    /// Records what line `number` says, in `program` or file-wide.
    private mutating func apply(line: Substring, number: Int, to program: inout SpecProgram) {
        let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
        if !trimmed.isEmpty && !trimmed.hasPrefix("#") { program.hasCode = true }
        guard let annotation = Annotation.parse(line: line) else { return }
        switch annotation {
        case .expect(let text): program.stdout.append(ExpectedLine(text: text, line: number))
        case .expectAnyOrder(let text):
            program.stdout.append(ExpectedLine(text: text, line: number, anyOrder: true))
        case .expectStderr(let text): program.stderr.append(ExpectedLine(text: text, line: number))
        case .expectSyntaxError(let message, let column):
            if program.syntaxError != nil {
                problems.append(Problem(line: number, message: "a second `# expect error`"))
            }
            program.syntaxError = ExpectedSyntaxError(
                line: number, message: message, column: column)
        case .expectRuntimeError(let message):
            if program.runtimeError != nil {
                problems.append(Problem(line: number, message: "a second `# expect runtime error`"))
            }
            program.runtimeError = ExpectedRuntimeError(line: number, message: message)
        case .expectExit(let status):
            if program.explicitExit != nil {
                problems.append(Problem(line: number, message: "a second `# expect exit`"))
            }
            program.explicitExit = ExpectedLine(text: String(status), line: number)
        case .stdin(let text): program.stdin.append(text)
        case .args(let values): program.args += values
        default: applyFileWide(annotation, number: number)
        }
    }

    /// Records a file-wide annotation.
    private mutating func applyFileWide(_ annotation: Annotation, number: Int) {
        switch annotation {
        case .timeout(let seconds): timeout = seconds
        case .skip(let reason): skipReason = reason
        case .nontest: isNonTest = true
        case .concOnly: isConcOnly = true
        case .units(let kinds): units = kinds
        case .env(let name, let value): environment[name] = value
        case .malformed(let why): problems.append(Problem(line: number, message: why))
        default: break
        }
    }

    /// Records contradictions within one program.
    private mutating func validate(_ program: SpecProgram) {
        if let syntax = program.syntaxError, program.runtimeError != nil {
            problems.append(
                Problem(
                    line: syntax.line,
                    message: "`# expect error` and `# expect runtime error` in one program"))
        }
    }
}

// MARK: - PENDING

/// A line of `Tests/spec/PENDING`: a spec expected to fail for now.
struct PendingEntry: Equatable, Sendable {
    /// The path relative to `Tests/spec`.
    var path: String
    /// The reason and issue number, as written after `#`.
    var reason: String

    /// Parses `path  # reason (#issue)` lines; blank lines and `#` lines are skipped.
    static func parse(_ text: String) -> [PendingEntry] {
        text.split(separator: "\n").compactMap { raw in
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { return nil }
            let path = line.prefix(while: { !$0.isWhitespace && $0 != "#" })
            let reason = line.firstIndex(of: "#").map {
                line[line.index(after: $0)...].trimmingCharacters(in: .whitespaces)
            }
            return PendingEntry(path: String(path), reason: reason ?? "no reason given")
        }
    }
}

// MARK: - Spec files

/// One `.conc` file of the spec corpus; each is its own case of ``SpecTests``.
struct SpecFile: Sendable, CustomTestStringConvertible {
    /// The path relative to `Tests/spec`, with `/` separators.
    var relativePath: String
    /// The absolute path of the file.
    var absolutePath: String
    /// What the file's annotations say.
    var annotations: SpecAnnotations
    /// The PENDING entry naming this file, if any.
    var pending: PendingEntry?

    var testDescription: String { relativePath }

    /// The path relative to the repository root, used in failure messages.
    var displayPath: String { "Tests/spec/" + relativePath }

    /// The file name, which is also the name of each chunk's temporary copy.
    var fileName: String { (absolutePath as NSString).lastPathComponent }

    /// A Swift Testing location that points at `line` of this file.
    func location(line: Int) -> SourceLocation {
        SourceLocation(
            fileID: "ConcSpecTests/\(fileName)", filePath: absolutePath, line: line, column: 1)
    }

    /// The folder that holds the file.
    var folder: String { (absolutePath as NSString).deletingLastPathComponent }

    /// Every spec file to run: `# nontest` files left out, `CONC_SPEC` applied, sorted by path.
    static let all: [SpecFile] = discover(filter: ProcessInfo.processInfo.environment["CONC_SPEC"])

    /// The `Tests/spec` folder, found from this source file's location.
    static let root: String = {
        let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent()
        return testsFolder.appendingPathComponent("spec").resolvingSymlinksInPath().path
    }()

    /// The repository root (the folder that holds `Tests/`).
    static var repositoryRoot: String {
        URL(fileURLWithPath: root).deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// The entries of `Tests/spec/PENDING` (empty when the file is absent).
    static let pendingEntries: [PendingEntry] = {
        let path = root + "/PENDING"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return PendingEntry.parse(text)
    }()

    /// Every `.conc` path under ``root``, relative to it, sorted.
    static func allRelativePaths() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".conc") }.sorted()
    }

    /// Loads the spec files that `filter` selects (nil or empty: all of them).
    static func discover(filter: String?) -> [SpecFile] {
        let pending = Dictionary(
            pendingEntries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        return allRelativePaths().filter { matches($0, filter: filter) }.compactMap { path in
            let absolute = root + "/" + path
            let text = (try? String(contentsOfFile: absolute, encoding: .utf8)) ?? ""
            let annotations = SpecAnnotations.parse(text)
            if annotations.isNonTest { return nil }
            return SpecFile(
                relativePath: path, absolutePath: absolute, annotations: annotations,
                pending: pending[path])
        }
    }

    /// True when `path` is selected by `filter`: comma- or space-separated path prefixes or
    /// substrings, relative to `Tests/spec` (a leading `Tests/spec/` or `./` is ignored).
    static func matches(_ path: String, filter: String?) -> Bool {
        guard let filter, !filter.trimmingCharacters(in: .whitespaces).isEmpty else { return true }
        let terms = filter.split(whereSeparator: { $0 == "," || $0 == " " }).map { term in
            var term = String(term)
            if term.hasPrefix(root + "/") { term.removeFirst(root.count + 1) }
            for prefix in ["./", "Tests/spec/"] where term.hasPrefix(prefix) {
                term.removeFirst(prefix.count)
            }
            return term
        }
        return terms.contains { path.hasPrefix($0) || path.contains($0) }
    }
}

// MARK: - Helpers

extension String {
    /// The string without trailing spaces, tabs and carriage returns.
    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" || last == "\r" {
            text.removeLast()
        }
        return String(text)
    }
}
