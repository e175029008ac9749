// Command-line options of `conc`, parsed with swift-argument-parser.
import ArgumentParser
import CConcSys
import Conc
@preconcurrency import Glibc

/// `conc [options] [FILE | -c CODE | -] [ARGS...]`.
struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conc",
        abstract: "Run a Conc program: a small Python-like language for learning concurrency.",
        discussion: """
            conc FILE [ARGS]   run a script (sys.argv = [FILE, ARGS...])
            conc -c CODE       run a program given as a string
            conc -             run the program read from standard input (also when stdin is piped)
            conc               on a terminal: the REPL (keys: docs/repl.md)
            conc -i FILE       run FILE (or -c CODE), then the REPL with its globals

            Environment: CONC_PATH (extra module folders, ':'-separated),
            CONC_HOME (where stdlib/ is), CONC_HISTORY (the REPL's history file,
            default ~/.conc_history; set it empty for none), PYTHONUNBUFFERED (non-empty:
            stdout writes each line at once even to a pipe or file), PYTHONHASHSEED.
            Exit status: 0 ok, 1 uncaught exception, 2 syntax error or bad usage, n for sys.exit(n);
            an uncaught KeyboardInterrupt ends conc with SIGINT (130 in a shell), as it ends CPython.
            """,
        version: "conc \(Interpreter.version)")

    @Option(name: .customShort("c"), help: ArgumentHelp("Program passed in as a string.", valueName: "code"))
    var command: String?

    @Flag(name: .customShort("i"), help: "Open the REPL after running the script, with its globals.")
    var interactive = false

    @Flag(name: .customLong("gil"), help: "Run threads under one global interpreter lock, switched every 5 ms as CPython does, instead of in parallel (also: CONC_GIL=1).")
    var flagGIL = false

    /// `--gil`, or `CONC_GIL=1` in the environment (as CPython 3.13 reads PYTHON_GIL).
    var gil: Bool { flagGIL || getenv("CONC_GIL").map { String(cString: $0) } == "1" }

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Script file (or -) and its arguments.", valueName: "file"))
    var arguments: [String] = []

    /// Parses the command line; bad usage exits with status 2 as CPython does.
    static func parseOrExit() -> Options {
        // Options after the script name belong to the script, so argument-parser captures
        // them; options *before* it are checked here first.
        let raw = Array(CommandLine.arguments.dropFirst())
        if let first = raw.first {
            switch first {
            case "--version", "-V": print("conc \(Interpreter.version)"); Glibc.exit(0)
            case "--help", "-h": print(helpMessage()); Glibc.exit(0)
            case "-c", "-i", "-", "--gil": break
            default:
                if first.hasPrefix("-") {
                    writeError("conc: unknown option \(first)\nTry 'conc --help' for more information.\n")
                    Glibc.exit(2)
                }
                // `conc FILE [ARGS...]`: everything is the script's, so there is nothing
                // for argument-parser to do, and skipping it saves a third of the start-up
                // (its first parse looks up protocol conformances at run time).
                var o = Options()
                o.command = nil
                o.interactive = false
                o.flagGIL = false
                o.arguments = raw
                return o
            }
        }
        do { return try parseAsRoot() as! Options } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let message = fullMessage(for: error)
            writeError("conc: \(message)\nTry 'conc --help' for more information.\n")
            Glibc.exit(2)
        }
    }

    /// Runs what the options ask for; returns the exit status.
    func run() -> Int32 {
        let searchPaths = (getenv("CONC_PATH").map { String(cString: $0) } ?? "")
            .split(separator: ":").map(String.init)
        if let code = command {
            if interactive {
                return startREPL(script: (code, "<string>", nil), argv: ["-c"] + arguments, searchPaths: searchPaths)
            }
            return execute(code, fileName: "<string>", argv: ["-c"] + arguments, folder: nil, searchPaths: searchPaths)
        }
        guard let first = arguments.first, first != "-" else {
            if arguments.isEmpty && (isatty(0) != 0 || interactive) {
                return startREPL(script: nil, argv: [""], searchPaths: searchPaths)
            }
            guard let text = scriptText(readAllStdin(), fileName: "<stdin>") else { return 2 }
            return execute(text, fileName: "<stdin>", argv: arguments.isEmpty ? [""] : arguments, folder: nil, searchPaths: searchPaths)
        }
        guard let bytes = readFile(first) else {
            writeError("conc: can't open file '\(first)': [Errno \(errno)] \(String(cString: strerror(errno)))\n")
            return 2
        }
        let (fileName, folder) = scriptLocation(first)
        guard let text = scriptText(bytes, fileName: fileName) else { return 2 }
        if interactive {
            return startREPL(script: (text, fileName, folder), argv: arguments, searchPaths: searchPaths)
        }
        return execute(text, fileName: fileName, argv: arguments, folder: folder, searchPaths: searchPaths)
    }

    /// The name the script goes by (its `__file__` and traceback frames) and the folder its
    /// imports search first (`sys.path[0]`), as CPython 3.9+ makes them: the path as typed,
    /// prefixed with the working folder when relative (`/home/me/./x.conc`, not tidied), and
    /// the real folder of the file, symbolic links resolved. `sys.argv[0]` stays as typed.
    private func scriptLocation(_ path: String) -> (fileName: String, folder: String) {
        var fileName = path
        if !path.hasPrefix("/"), let cwd = getcwd(nil, 0) {
            let here = String(cString: cwd)
            free(cwd)
            fileName = here.hasSuffix("/") ? here + path : here + "/" + path
        }
        func folderOf(_ p: String) -> String {
            guard let slash = p.lastIndex(of: "/") else { return "." }
            return slash == p.startIndex ? "/" : String(p[..<slash])
        }
        guard let real = realpath(path, nil) else { return (fileName, folderOf(fileName)) }
        defer { free(real) }
        return (fileName, folderOf(String(cString: real)))
    }

    private func execute(_ source: String, fileName: String, argv: [String], folder: String?, searchPaths: [String]) -> Int32 {
        var status: Int32 = 0
        let commandPid = getpid()
        onInterpreterThread {
            let conc = Interpreter(argv: argv, searchPaths: searchPaths, gil: gil)
            installInterruptHandler(conc.interruptFlag)
            status = conc.runScript(source, fileName: fileName, scriptFolder: folder)
            if conc.endedByKeyboardInterrupt { endBySigint() }
            exitIfForkedChild(status, commandPid: commandPid)
        }
        return status
    }

    /// The REPL, after running `script` (`conc -i FILE`) if given. A terminal gets the line
    /// editor; otherwise (`-i` with piped input, stdout redirected) plain lines with the
    /// prompts on stderr.
    private func startREPL(script: (text: String, name: String, folder: String?)?, argv: [String], searchPaths: [String]) -> Int32 {
        var status: Int32 = 0
        let commandPid = getpid()
        onInterpreterThread {
            // Line editing needs both ends on the terminal (as CPython's REPL); `conc > log`
            // gets plain lines with the prompts on stderr.
            let terminal = isatty(0) != 0 && isatty(1) != 0
            let conc = Interpreter(argv: argv, searchPaths: searchPaths, input: readRawLine, gil: gil)
            installInterruptHandler(conc.interruptFlag)
            if let s = script {
                _ = conc.runScript(s.text, fileName: s.name, scriptFolder: s.folder, finish: false)
            }
            let asyncOutput = terminal ? AsyncOutput() : nil
            let source: LineSource
            if let a = asyncOutput {
                source = LineEditor(history: History(), asyncOutput: a) { conc.completions(of: $0, after: $1) }
                if script == nil { writeAll(1, REPL.banner) }
            } else {
                source = PlainLines()
            }
            defineTestHooks(conc)
            status = REPL(conc: conc, input: source, asyncOutput: asyncOutput).run()
            exitIfForkedChild(status, commandPid: commandPid)
        }
        return status
    }
}

/// Ends the process with SIGINT's default action, as CPython does after an uncaught
/// KeyboardInterrupt (its `exit_sigint`): a parent's `waitpid` sees death by SIGINT, so a
/// shell running a loop of programs stops too. Output was flushed by `runScript`. Called on
/// the interpreter's thread, where SIGINT is not blocked; returns only if the signal did not
/// end the process, and then the caller exits with 130.
private func endBySigint() {
    signal(SIGINT, SIG_DFL)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    raise(SIGINT)
}

/// In a child of the program's `os.fork()`, only the interpreter's thread exists (the
/// process's first thread, which would return the status, was not copied): the child
/// exits from here with its own status.
private func exitIfForkedChild(_ status: Int32, commandPid: pid_t) {
    if getpid() != commandPid { exit(status) }
}

/// Runs `body` on the interpreter's large-stack thread, with SIGINT (and the other signals a
/// program may handle) blocked on this (the main) thread so that Ctrl-C is delivered to the interpreter's thread and interrupts
/// its blocking calls (read, poll) there.
func onInterpreterThread(_ body: @escaping () -> Void) {
    CConcSys_block_async_signals(1)
    runOnLargeStack {
        CConcSys_block_async_signals(0)
        body()
    }
}

/// With CONC_REPL_TEST_HOOKS=1 (the REPL's pty test only): `_write_later(text, seconds)`
/// writes `text` to stdout from another thread after a delay, as a thread unit would.
private func defineTestHooks(_ conc: Interpreter) {
    guard let v = getenv("CONC_REPL_TEST_HOOKS"), String(cString: v) == "1" else { return }
    conc.define("_write_later") { args in
        guard args.count == 2, case .string(let text) = args[0] else { return .none }
        let seconds: Double
        switch args[1] { case .int(let i): seconds = Double(i); case .float(let f): seconds = f; default: seconds = 0 }
        let job = DelayedWrite(conc: conc, text: text, seconds: seconds)
        var tid = pthread_t()
        let box = Unmanaged.passRetained(job).toOpaque()  // the thread takes this reference back
        pthread_create(&tid, nil, { arg in
            let job = Unmanaged<DelayedWrite>.fromOpaque(arg!).takeRetainedValue()
            usleep(UInt32(job.seconds * 1_000_000))
            job.conc.write(job.text)
            return nil
        }, box)
        pthread_detach(tid)
        return .none
    }
}

/// The arguments of one `_write_later` call, handed to its thread.
private final class DelayedWrite {
    let conc: Interpreter
    let text: String
    let seconds: Double
    init(conc: Interpreter, text: String, seconds: Double) { self.conc = conc; self.text = text; self.seconds = seconds }
}

/// A script's text, or nil after printing why its bytes do not decode.
func scriptText(_ bytes: [UInt8], fileName: String) -> String? {
    do {
        return try Interpreter.scriptText(bytes, fileName: fileName)
    } catch let e as ConcError {
        writeError(e.traceback)
    } catch {
        writeError("\(error)\n")
    }
    return nil
}

func readFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: buf[0..<n])
    }
    return bytes
}

func readAllStdin() -> [UInt8] {
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(0, &buf, buf.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes.append(contentsOf: buf[0..<n])
    }
    return bytes
}

/// Writes to the process's stderr.
func writeError(_ s: String) { writeAll(2, s) }
