// Command-line options of `conc`, parsed with swift-argument-parser.
import ArgumentParser
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

            Environment: CONC_PATH (extra module folders, ':'-separated), CONC_HOME (where stdlib/ is).
            Exit status: 0 ok, 1 uncaught exception, 2 syntax error or bad usage, n for sys.exit(n).
            """,
        version: "conc \(Interpreter.version)")

    @Option(name: .customShort("c"), help: ArgumentHelp("Program passed in as a string.", valueName: "code"))
    var command: String?

    @Flag(name: .customShort("i"), help: "Open the REPL after running the script (arrives with the REPL).")
    var interactive = false

    @Flag(name: .customLong("gil"), help: "Run threads under one global interpreter lock, switched every 5 ms as CPython does (today every threaded run uses it; free-threaded evaluation is being built).")
    var gil = false

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
            return execute(code, fileName: "<string>", argv: ["-c"] + arguments, folder: nil, searchPaths: searchPaths)
        }
        guard let first = arguments.first, first != "-" else {
            if arguments.isEmpty && isatty(0) != 0 {
                writeError("conc \(Interpreter.version): the REPL is not built yet; run `conc FILE` or pipe a program into `conc -`.\n")
                return 2
            }
            let text = readAllStdin()
            return execute(text, fileName: "<stdin>", argv: arguments.isEmpty ? [""] : arguments, folder: nil, searchPaths: searchPaths)
        }
        guard let text = readFile(first) else {
            writeError("conc: can't open file '\(first)': [Errno \(errno)] \(String(cString: strerror(errno)))\n")
            return 2
        }
        let folder = first.contains("/") ? String(first[..<first.lastIndex(of: "/")!]) : "."
        return execute(text, fileName: first, argv: arguments, folder: folder.isEmpty ? "/" : folder, searchPaths: searchPaths)
    }

    private func execute(_ source: String, fileName: String, argv: [String], folder: String?, searchPaths: [String]) -> Int32 {
        var status: Int32 = 0
        runOnLargeStack {
            let conc = Interpreter(argv: argv, searchPaths: searchPaths)
            installInterruptHandler(conc.interruptFlag)
            status = conc.runScript(source, fileName: fileName, scriptFolder: folder)
        }
        return status
    }
}

func readFile(_ path: String) -> String? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: buf[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

func readAllStdin() -> String {
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(0, &buf, buf.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes.append(contentsOf: buf[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes to the process's stderr.
func writeError(_ s: String) {
    var bytes = Array(s.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
