// Structured errors of the embedding API.
import ConcInterpreter
import ConcSyntax

/// Why a run failed: a syntax error, an uncaught exception, or `sys.exit`.
public struct ConcError: Error, Sendable, CustomStringConvertible {
    /// `SyntaxError`, `IndentationError`, `ValueError`, `SystemExit`...
    public let kind: String
    /// The exception's message (`str(e)`).
    public let message: String
    /// File of the innermost frame (or of the syntax error).
    public let file: String
    /// Line of the innermost frame or syntax error (0 when unknown).
    public let line: Int
    /// 1-based column (syntax errors and located runtime errors; 0 when unknown).
    public let column: Int
    /// The full report as the `conc` command prints it.
    public let traceback: String
    /// The process exit status the `conc` command would use (1, 2, or the `sys.exit` code).
    public let exitStatus: Int32

    public var description: String { traceback }

    /// An error for a native function (``Interpreter/define(_:_:)``) to throw: the Conc
    /// program sees an exception of the builtin class `kind` (`RuntimeError` when no builtin
    /// class has that name) whose `str()` is `message`, and may catch it.
    public init(kind: String, message: String) {
        self.kind = kind; self.message = message; file = ""; line = 0; column = 0
        traceback = message.isEmpty ? kind + "\n" : "\(kind): \(message)\n"
        exitStatus = 1
    }
}

extension ConcError {
    init(syntax s: SyntaxError) {
        kind = s.kind; message = s.message; file = s.file; line = s.line; column = s.column
        traceback = s.rendered() + "\n"; exitStatus = 2
    }

    init(exception e: PyBaseException, unit u: Unit) {
        let info = exceptionInfo(e, u)
        kind = info.kind; message = info.message; file = info.file; line = info.line; column = info.column
        traceback = u.formatException(e)
        // As `runScript` (and the shell, for CPython killed by SIGINT) reports it.
        exitStatus = e.isKeyboardInterrupt ? 130 : info.exitStatus
    }
}
