// What a REPL needs from an interpreter: run one input echoing expression values, decide
// whether input is complete, complete names, and take other units' output while it waits.
import ConcInterpreter
import ConcSyntax

extension Interpreter {
    /// Runs one REPL input in `__main__`: expression statements at the top level (also
    /// inside top-level if/for/while/try/with) print their repr and set `_`. Errors are
    /// printed as a script prints them and the session goes on.
    /// - Returns: nil to go on, or the exit status when the input raised SystemExit.
    public func runInteractive(_ source: String, fileName: String = "<stdin>") -> Int32? {
        defer { engine.flushOutput() }
        do {
            try engine.runInteractive(source: source, fileName: fileName)
        } catch let s as SyntaxError {
            engine.flushOutput()
            engine.stderr.write(s.rendered() + "\n")
        } catch let e as PyBaseException {
            let status = report(e)
            if e.isSystemExit { return status }
        } catch {
            engine.stderr.write("internal error: \(error)\n")
        }
        return nil
    }

    /// True when `text` (the lines so far, joined by "\n") needs more lines: an open
    /// bracket or string, a trailing backslash, or a compound statement no blank line ended.
    public static func isIncompleteInput(_ text: String) -> Bool { Parser.isIncompleteInput(text) }

    /// Tab completions of `word` (which may be a dotted chain `a.b.c`), given the line
    /// before it: keywords, builtins, globals, attributes, or module names after import.
    /// Only plain lookups are made: no code runs.
    public func completions(of word: String, after linePrefix: String) -> [String] {
        engine.completions(of: word, after: linePrefix)
    }

    /// While set, what the program writes to stdout/stderr goes to `hook` instead, in
    /// whole lines (`isError` tells which stream). The hook runs on the writing thread with
    /// the stream's lock held: it must only queue the text. A REPL sets it while it waits
    /// for a line, so output of other units can be shown above the prompt.
    public func interceptOutput(_ hook: (@Sendable (_ text: String, _ isError: Bool) -> Void)?) {
        guard let hook = hook else {
            engine.stdout.intercept(nil)
            engine.stderr.intercept(nil)
            return
        }
        engine.stdout.intercept { hook($0, false) }
        engine.stderr.intercept { hook($0, true) }
    }

    /// Writes `text` to the program's stdout, as `print` does (any thread).
    public func write(_ text: String) { engine.stdout.write(text) }

    /// False when the last text written to stdout or stderr did not end with a newline
    /// (`print(x, end="")`): a REPL starts its prompt on a new line then.
    public var outputIsAtLineStart: Bool { engine.stdout.isAtLineStart && engine.stderr.isAtLineStart }

    /// Records that the terminal's cursor is at the start of a line again.
    public func markOutputLineStart() {
        engine.stdout.markLineStart()
        engine.stderr.markLineStart()
    }

    /// Flushes the program's stdout and stderr.
    public func flushOutput() { engine.flushOutput() }
}
