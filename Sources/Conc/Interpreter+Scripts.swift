// Running whole programs the way the `conc` command does: report errors on stderr and
// turn the outcome into an exit status.
import ConcInterpreter
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

extension Interpreter {
    /// Runs `source` as the `__main__` script and returns the process exit status:
    /// 0, 1 after an uncaught exception (traceback printed), 2 for a syntax error, n for
    /// `sys.exit(n)`.
    /// With `finish: false` (`conc -i`), the program's end is left to the REPL that follows.
    public func runScript(_ source: String, fileName: String, scriptFolder: String?, finish: Bool = true) -> Int32 {
        defer { engine.flushOutput() }
        var status: Int32 = 0
        do {
            try engine.runMain(source: source, fileName: fileName, scriptFolder: scriptFolder)
            // As CPython's: the main code's output goes out before threads and child
            // processes are waited for (which may print after it).
            engine.stdout.flush(); engine.stderr.flush()
        } catch let s as SyntaxError {
            engine.flushOutput()
            engine.stderr.write(s.rendered() + "\n")
            return 2
        } catch let e as PyBaseException {
            status = report(e)
            endedByKeyboardInterrupt = e.isKeyboardInterrupt
        } catch {
            engine.stderr.write("internal error: \(error)\n")
            status = 1
        }
        return finish ? finishProgram(status) : status
    }

    /// The end of a program, after its main code (a script's last line, or the REPL's
    /// Ctrl-D / `exit()`): non-daemon threads are waited for, atexit callbacks run, daemon
    /// child processes get SIGTERM and the other children are waited for (a Ctrl-C or a
    /// deadlock during a wait is reported and changes the status; after a Ctrl-C the
    /// remaining children are killed), output is flushed. Returns the exit status.
    @discardableResult
    public func finishProgram(_ status: Int32 = 0) -> Int32 {
        defer { engine.flushOutput(); engine.endOfProcess() }
        do {
            // CPython's order: threads, the atexit callbacks, then the child processes
            // (unless multiprocessing's callback among them already ended them).
            try engine.waitForThreads()
            engine.runAtExitFunctions()
            if let e = engine.childProcessesError { engine.childProcessesError = nil; throw e }
            try engine.finishChildProcesses()
            engine.runFinalizersAtExit()
            return status
        } catch let e as PyBaseException {
            if e.isKeyboardInterrupt { engine.killChildren() }
            let s = report(e)
            engine.runAtExitFunctions()
            return status != 0 && !e.isKeyboardInterrupt ? status : s
        } catch {
            return status
        }
    }

    /// Prints an uncaught exception as CPython does and returns the exit status.
    func report(_ e: PyBaseException) -> Int32 {
        engine.stdout.flush()
        let info = exceptionInfo(e, engine.mainUnit)
        if e.isSystemExit {
            if let msg = e.systemExitMessage(engine.mainUnit) { engine.mainUnit.writeErrorOutput(msg + "\n") }
            return info.exitStatus
        }
        engine.mainUnit.reportUncaught(e)
        return e.isKeyboardInterrupt ? 130 : 1
    }

    /// The text of a script read as bytes (a file, stdin), decoded as CPython does: the
    /// encoding a `# coding: ...` comment on its first two lines declares, else UTF-8. Throws
    /// a syntax ``ConcError`` (exit status 2) when the bytes do not decode.
    public static func scriptText(_ bytes: [UInt8], fileName: String) throws -> String {
        do {
            return try decodeSource(bytes, fileName: fileName, origin: .script)
        } catch let s as SyntaxError {
            throw ConcError(syntax: s)
        }
    }

    /// The version string (`conc --version`).
    public static var version: String { concVersion }

    /// Runs `body` (which must not use this interpreter) while the interpreter is idle: other
    /// units (threads) may run meanwhile. The REPL waits for a line this way.
    public func whileIdle<T>(_ body: () throws -> T) rethrows -> T {
        try engine.mainUnit.blockingCall(body)
    }

    /// Drops a Ctrl-C or timeout request that arrived while nothing was running (the REPL,
    /// before it runs the next input).
    public func clearPendingInterrupt() { engine.clearPendingInterrupt() }

    /// Asks the interpreter to stop at its next check, as Ctrl-C does.
    public var interruptFlag: UnsafeMutablePointer<Int32> { engine.interruptFlag }
}

/// Runs `body` on a new thread with a large stack (lazily committed), so deep Conc
/// recursion hits the recursion limit long before the machine stack, and waits for it.
public func runOnLargeStack(_ size: Int = 1 << 30, _ body: @escaping () -> Void) {
    runOnFreshStack(size, body)
}
