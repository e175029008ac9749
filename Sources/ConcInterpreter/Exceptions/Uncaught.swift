// Where the report of an uncaught exception goes, as in CPython: to sys.stderr as the
// program left it (a replaced stream gets the text, None drops it), and through
// sys.excepthook when the program installed its own.

extension Unit {
    /// The `sys` module's variables, once the module exists.
    private var sysVariables: Globals? { engine.sysGlobals.load(ordering: .acquiring)?.takeUnretainedValue() }

    /// Writes `text` to the program's error output: the object in `sys.stderr` when the
    /// program replaced it (nothing when it set None; the engine's stderr when that
    /// object's write() fails), else the engine's stderr.
    public func writeErrorOutput(_ text: String) {
        if let sys = sysVariables, let err = sys.get("stderr"), let original = sys.get("__stderr__"), !isSame(err, original) {
            if err.isNone { return }
            if (try? callMethod(err, "write", [.str(text)])) != nil {
                _ = try? callMethod(err, "flush", [])
                return
            }
        }
        engine.stderr.write(text)
    }

    /// Reports `e`, which nothing caught, as CPython's interpreter does: through the
    /// program's own `sys.excepthook(type, value, traceback)` when it set one (a failing
    /// hook is reported together with `e`), else as a traceback on the error output.
    public func reportUncaught(_ e: PyBaseException) {
        guard let sys = sysVariables, let original = sys.get("__excepthook__") else {
            writeErrorOutput(formatException(e))
            return
        }
        guard let hook = sys.get("excepthook") else {
            writeErrorOutput("sys.excepthook is missing\n" + formatException(e))
            return
        }
        if isSame(hook, original) {
            writeErrorOutput(formatException(e))
            return
        }
        do {
            _ = try call(hook, [.obj(e.type), .obj(e), e.tracebackValue])
        } catch let failure as PyBaseException {
            writeErrorOutput("Error in sys.excepthook:\n" + formatException(failure) + "\nOriginal exception was:\n" + formatException(e))
        } catch {
            writeErrorOutput(formatException(e))
        }
    }
}
