// The read-eval-print loop: prompts, continuation lines, pasted blocks, Ctrl-C, Ctrl-D.
import CConcSys
import Conc
@preconcurrency import Glibc

/// One interactive session over an interpreter.
struct REPL {
    /// The interpreter whose `__main__` the session uses.
    let conc: Interpreter
    /// The line editor (terminal) or plain line reader (`conc -i` with piped stdin).
    let input: LineSource
    /// Receives other units' output while the prompt waits (terminal only).
    let asyncOutput: AsyncOutput?

    /// The one-line banner.
    static var banner: String {
        "Conc \(Interpreter.version). Type help() for help, Ctrl-D or exit() to leave.\n"
    }

    /// Runs the session; returns the exit status (0 after Ctrl-D, n after `exit(n)`).
    func run() -> Int32 {
        var lines: [String] = []
        /// A line read but not yet used: it ended a pasted block and starts the next input.
        var carried: String? = nil
        while true {
            let read: LineRead
            if let c = carried {
                read = .line(c)
                carried = nil
            } else {
                conc.flushOutput()
                if asyncOutput != nil && !conc.outputIsAtLineStart {
                    // libedit draws from column 0: keep `print(x, end="")` output visible.
                    writeAll(1, "\n")
                    conc.markOutputLineStart()
                }
                if let a = asyncOutput { conc.interceptOutput { a.enqueue($0, isError: $1) } }
                // Other units run while the user types.
                read = conc.whileIdle { input.read(prompt: lines.isEmpty ? ">>> " : "... ") }
                conc.interceptOutput(nil)
                if case .line(let l) = read { input.remember(l) }
            }
            switch read {
            case .endOfInput:
                if !lines.isEmpty, let status = execute(lines) { return finish(status) }
                writeAll(asyncOutput != nil ? 1 : 2, "\n")  // end the prompt's line
                return finish(0)
            case .interrupted:
                lines = []
                conc.clearPendingInterrupt()  // the handler raised it; no code is running
                writeAll(1, "\nKeyboardInterrupt\n")
            case .line(let line):
                if !lines.isEmpty && startsNewStatement(line, after: lines) {
                    // A pasted example: an unindented line after a finished block ends
                    // the block, as a blank line would.
                    carried = line
                    let block = lines
                    lines = []
                    if let status = execute(block) { return finish(status) }
                    continue
                }
                lines.append(line)
                let text = lines.joined(separator: "\n")
                if Interpreter.isIncompleteInput(text) { continue }
                if isBlank(line) && lines.count > 1 && input.hasPendingInput {
                    // A blank line inside pasted code (between methods): wait for the next
                    // line to tell whether the block goes on.
                    continue
                }
                let block = lines
                lines = []
                if let status = execute(block) { return finish(status) }
            }
        }
    }

    /// Runs one complete input; the exit status if it raised SystemExit.
    private func execute(_ lines: [String]) -> Int32? {
        var text = lines.joined(separator: "\n")
        guard !isBlank(text) else { return nil }
        // As in python3.13's REPL, a bare `exit`, `quit` or `help` is a command (unless the
        // program defined that name).
        let word = String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        if ["exit", "quit", "help"].contains(word) && conc[global: word] == nil {
            text = word + "()"
        }
        conc.clearPendingInterrupt()
        CConcSys_sigint_clear()
        return conc.runInteractive(text + "\n")
    }

    /// Ends the session as a script ends.
    private func finish(_ status: Int32) -> Int32 {
        input.close()
        return conc.finishProgram(status)
    }

    /// True when `line` cannot continue the statement in `lines`: it is unindented, not a
    /// clause of the same statement (else, elif, except, finally), and the lines before it
    /// already form a complete statement once a blank line is added.
    private func startsNewStatement(_ line: String, after lines: [String]) -> Bool {
        guard let first = line.unicodeScalars.first, first != " " && first != "\t", !isBlank(line) else { return false }
        let word = line.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        if ["else", "elif", "except", "finally", "case", "default"].contains(String(word)) { return false }
        if line.hasPrefix(")") || line.hasPrefix("]") || line.hasPrefix("}") { return false }
        return !Interpreter.isIncompleteInput(lines.joined(separator: "\n") + "\n")
    }

    private func isBlank(_ s: String) -> Bool { s.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\n" } }
}

/// Lines from a stdin that is not a terminal (`conc -i FILE < input`): prompts go to stderr
/// as CPython's do; no editing, no history.
final class PlainLines: LineSource {
    func read(prompt: String) -> LineRead {
        CConcSys_sigint_clear()
        writeError(prompt)
        guard let line = readRawLine() else {
            if CConcSys_sigint_pending() != 0 { CConcSys_sigint_clear(); return .interrupted }
            return .endOfInput
        }
        return .line(line.hasSuffix("\n") ? String(line.dropLast()) : line)
    }
    func remember(_ line: String) {}
    var hasPendingInput: Bool { false }
    func close() {}
}

/// One line of stdin read byte by byte (so nothing is buffered away from the line editor),
/// with its newline; nil at end of input or when Ctrl-C interrupts the read.
func readRawLine() -> String? {
    var bytes: [UInt8] = []
    var b: UInt8 = 0
    while true {
        let n = read(0, &b, 1)
        if n < 0 {
            if errno == EINTR && CConcSys_sigint_pending() == 0 { continue }
            return nil
        }
        if n == 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
        bytes.append(b)
        if b == 10 { return String(decoding: bytes, as: UTF8.self) }
    }
}
