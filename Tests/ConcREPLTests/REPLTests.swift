// The REPL tested as a person uses it: the real `conc` on a pseudo-terminal, driven by
// keystrokes (see PTY.swift); plus `conc` with piped stdin and `conc -i FILE`.
import Foundation
import Glibc
import XCTest

final class REPLTests: XCTestCase {
    /// A fresh HOME with the history file inside.
    private var home = ""
    private var historyPath: String { home + "/history" }

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: PTYSession.binaryPath),
                          "build conc first: swift build -c release (or set CONC_BIN)")
        home = NSTemporaryDirectory() + "conc-repl-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: home)
    }

    private func start(_ args: [String] = [], hooks: Bool = false) throws -> PTYSession {
        var env = ["HOME": home, "CONC_HISTORY": historyPath]
        if hooks { env["CONC_REPL_TEST_HOOKS"] = "1" }
        return try PTYSession(args, environment: env)
    }

    /// The walk-through: a function typed line by line, Up, Tab, Ctrl-C during
    /// sleep and input, Chinese text, Ctrl-D, and the history file afterwards.
    func testTypedSession() throws {
        let t = try start()
        try t.expect("Type help() for help")
        try t.expect(">>> ")

        // A multi-line function from keystrokes, then a call.
        t.send("def double(x):\r")
        try t.expect("... ")
        t.send("    return x * 2\r")
        try t.expect("... ")
        t.send("\r")
        try t.expect(">>> ")
        t.send("double(21)\r")
        try t.expect("42\r\n>>> ")

        // Up recalls the call; Enter runs it again.
        t.send("\u{1B}[A")
        try t.expect("double(21)")
        t.send("\r")
        try t.expect("42\r\n>>> ")

        // Tab completes a global.
        t.send("counter = 7\r")
        try t.expect(">>> ")
        t.send("coun\t")
        try t.expect("ter")
        t.send("\r")
        try t.expect("7\r\n>>> ")

        // Ctrl-C interrupts sleep(30) at once; the globals survive.
        t.send("sleep(30)\r")
        try t.expect("sleep(30)\r\n")
        Thread.sleep(forTimeInterval: 0.2)
        let interrupted = Date()
        t.send("\u{3}")
        try t.expect("KeyboardInterrupt", timeout: 3)
        let sleepStop = Date().timeIntervalSince(interrupted)
        print("REPLTests: Ctrl-C stopped sleep(30) in \(Int(sleepStop * 1000)) ms")
        XCTAssertLessThan(sleepStop, 1.0, "Ctrl-C took too long to stop sleep(30)")
        try t.expect(">>> ")
        t.send("counter + double(1)\r")
        try t.expect("9\r\n>>> ")

        // And a deep computation (recursive calls, no loop).
        t.send("def spin(n):\r    return 0 if n == 0 else spin(n - 1) + spin(n - 1)\r\r")
        try t.expect(">>> ")
        t.send("spin(60)\r")
        try t.expect("spin(60)\r\n")
        Thread.sleep(forTimeInterval: 0.2)
        let stopped = Date()
        t.send("\u{3}")
        try t.expect("KeyboardInterrupt", timeout: 3)
        let spinStop = Date().timeIntervalSince(stopped)
        print("REPLTests: Ctrl-C stopped spin(60) in \(Int(spinStop * 1000)) ms")
        XCTAssertLessThan(spinStop, 1.0, "Ctrl-C took too long to stop recursive code")
        try t.expect(">>> ")

        // input() reads a line typed (and echoed) on the terminal; output without a final
        // newline does not hide the next prompt.
        t.send("name = input('name? ')\r")
        try t.expect("\r\nname? ")  // input's prompt, not the echo of the line
        t.send("Ada\r")
        try t.expect("Ada\r\n>>> ")
        t.send("print(name, end='')\r")
        try t.expect("Ada\r\n>>> ")

        // Ctrl-C interrupts input() too.
        t.send("answer = input('? ')\r")
        try t.expect("\r\n? ")
        Thread.sleep(forTimeInterval: 0.1)
        t.send("\u{3}")
        try t.expect("KeyboardInterrupt")
        try t.expect(">>> ")

        // Ctrl-C at the prompt drops the half-typed line.
        t.send("this is dropped")
        try t.expect("dropped")
        t.send("\u{3}")
        try t.expect(">>> ")
        t.send("counter\r")
        try t.expect("7\r\n>>> ")

        // Chinese text edits and prints.
        t.send("s = \"你好，世界\"\r")
        try t.expect(">>> ")
        t.send("s\r")
        try t.expect("'你好，世界'\r\n>>> ")
        t.send("len(s)\r")
        try t.expect("5\r\n>>> ")

        // Ctrl-D at an empty prompt ends the session like a script's end.
        t.send("\u{4}")
        XCTAssertEqual(try t.waitForExit(), 0)

        // The history file: created with mode 600, holding the lines typed.
        var st = stat()
        XCTAssertEqual(stat(historyPath, &st), 0, "no history file at \(historyPath)")
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        let saved = try String(contentsOfFile: historyPath, encoding: .utf8)
        XCTAssertTrue(saved.contains("double(21)"), saved)
        XCTAssertTrue(saved.contains("len(s)"), saved)
    }

    /// History comes back in the next session.
    func testHistoryPersistsAcrossSessions() throws {
        let first = try start()
        try first.expect(">>> ")
        first.send("remembered = 'yes'\r")
        try first.expect(">>> ")
        first.send("\u{4}")
        XCTAssertEqual(try first.waitForExit(), 0)

        let second = try start()
        try second.expect(">>> ")
        second.send("\u{1B}[A")
        try second.expect("remembered = 'yes'")
        second.send("\r")
        try second.expect(">>> ")
        // Ctrl-R finds it by a part of it.
        second.send("\u{1B}[A\u{15}")  // Up, then Ctrl-U clears the line
        second.send("\u{12}membe")
        try second.expect("reverse-i-search)`membe': remembered")
        second.send("\u{1B}")
        second.send("\u{15}remembered\r")
        try second.expect("'yes'\r\n>>> ")
        second.send("exit\r")  // bare, as python3.13 allows
        XCTAssertEqual(try second.waitForExit(), 0)
    }

    /// The history file keeps the newest 1000 lines.
    func testHistoryIsBounded() throws {
        let old = (1...1500).map { "old_\($0) = \($0)" }
        try (["_HiStOrY_V2_"] + old).joined(separator: "\n").appending("\n")
            .write(toFile: historyPath, atomically: true, encoding: .utf8)
        let t = try start()
        try t.expect(">>> ")
        t.send("\u{1B}[A")
        try t.expect("old_1500 = 1500")
        t.send("\u{15}newest = 1\r")
        try t.expect("newest = 1\r\n>>> ")
        t.send("\u{4}")
        XCTAssertEqual(try t.waitForExit(), 0)
        let lines = try String(contentsOfFile: historyPath, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1001, "header + 1000 lines")
        XCTAssertEqual(lines.last, "newest\\040=\\0401")
        XCTAssertFalse(lines.contains("old_500\\040=\\040500"))
    }

    /// A whole example pasted at once (blank lines inside the class, no blank line before
    /// the last statement), errors that leave the session going, help(), and exit(n).
    func testPasteErrorsHelpAndExit() throws {
        let t = try start()
        try t.expect(">>> ")
        t.send("""
            class Counter:\r    def __init__(self):\r        self.n = 0\r\r    def bump(self):\r        self.n += 1\r        return self.n\r\rc = Counter()\rc.bump()\rc.bump()\r
            """)
        try t.expect("1\r\n")
        try t.expect("2\r\n>>> ")
        t.send("for i in range(3):\r    i * 10\r\r")
        try t.expect("0\r\n10\r\n20\r\n>>> ")
        t.send("_ + 1\r")
        try t.expect("21\r\n>>> ")
        t.send("1/0\r")
        try t.expect("ZeroDivisionError: division by zero")
        try t.expect(">>> ")
        t.send("x = )\r")
        try t.expect("SyntaxError")
        try t.expect(">>> ")
        t.send("c.n\r")
        try t.expect("2\r\n>>> ")
        t.send("c.b\t")
        try t.expect("ump(")
        t.send(")\r")
        try t.expect("3\r\n>>> ")
        t.send("import ma\t")
        try t.expect("th")
        t.send("\r")
        try t.expect(">>> ")
        t.send("help(\"lock\")\r")
        try t.expect("mutex")
        try t.expect(">>> ")
        t.send("help(len)\r")
        try t.expect("number of items")
        try t.expect(">>> ")
        t.send("help(\"spawn\")\r")
        try t.expect("process")
        try t.expect(">>> ")
        t.send("exit(3)\r")
        XCTAssertEqual(try t.waitForExit(), 3)
    }

    /// Output written by another thread while the prompt waits appears above the prompt,
    /// and the prompt comes back with the half-typed line.
    func testOutputFromOtherThreadsAppearsAboveThePrompt() throws {
        let t = try start(hooks: true)
        try t.expect(">>> ")
        t.send("_write_later('from another thread\\n', 1.0)\r")
        try t.expect(">>> ")
        t.send("half = 'typed'")
        try t.expect("half = 'typed'")
        let shown = try t.expect("from another thread\r\n")
        XCTAssertTrue(shown.contains("\r\u{1B}[J"), "the prompt line was not cleared first: \(shown.debugDescription)")
        try t.expect(">>> half = 'typed'")
        t.send("\r")
        try t.expect(">>> ")
        t.send("half\r")
        try t.expect("'typed'\r\n>>> ")

        // A half-typed line that wraps (4 + 96 columns on an 80-column terminal): both of
        // its rows are cleared first, then it comes back whole.
        t.send("_write_later('second message\\n', 1.0)\r")
        try t.expect(">>> ")
        let long = "long = '" + String(repeating: "x", count: 87) + "'"
        t.send(long)
        try t.expect("xxx'")
        let wrapped = try t.expect("second message\r\n")
        XCTAssertTrue(wrapped.contains("\r\u{1B}[1A\u{1B}[J"), "the wrapped line was not cleared: \(wrapped.debugDescription)")
        try t.expect("long = 'xxx")
        t.send("\r")
        try t.expect(">>> ")
        t.send("len(long)\r")
        try t.expect("87\r\n>>> ")

        // The same with a real thread unit, once the language has them.
        if threadsAreAvailable() {
            t.send("def later():\r    sleep(0.4)\r    print('late line')\r\r")
            try t.expect(">>> ")
            t.send("handle = thread later()\r")
            try t.expect(">>> ")
            t.send("abc")
            try t.expect("late line\r\n")
            try t.expect(">>> abc")
            t.send("\u{15}")
        } else {
            print("REPLTests: skipping the `thread` step: `conc -c 'thread print(1)'` does not run yet")
        }
        t.send("\u{4}")
        XCTAssertEqual(try t.waitForExit(), 0)
    }

    /// `conc -i FILE` runs the script, then opens the REPL with its globals.
    func testInteractiveAfterScript() throws {
        let script = home + "/setup.conc"
        try "base = 20\ndef add(x):\n    return base + x\nprint('script ran')\n".write(toFile: script, atomically: true, encoding: .utf8)
        let t = try start(["-i", script])
        try t.expect("script ran")
        try t.expect(">>> ")
        t.send("add(22)\r")
        try t.expect("42\r\n>>> ")
        t.send("\u{4}")
        XCTAssertEqual(try t.waitForExit(), 0)

        // With piped stdin: prompts on stderr, values on stdout.
        let r = try run(["-i", script], stdin: "add(1)\nbase\n")
        XCTAssertEqual(r.stdout, "script ran\n21\n20\n")
        XCTAssertEqual(r.status, 0)
    }

    /// `conc` with stdin not a terminal runs it as a script (`conc -`): no prompts, no
    /// echo of expression values, no history file.
    func testPipedStdinRunsAsAScript() throws {
        let r = try run([], stdin: "x = 1\nx + 1\nprint(x * 5)\n")
        XCTAssertEqual(r.stdout, "5\n")
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(r.status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: historyPath))
    }

    // MARK: - Helpers

    /// Runs conc with piped stdin; its stdout, stderr and status.
    private func run(_ args: [String], stdin: String) throws -> (stdout: String, stderr: String, status: Int32) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PTYSession.binaryPath)
        p.arguments = args
        p.environment = ["HOME": home, "CONC_HISTORY": historyPath, "PATH": "/usr/bin:/bin"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        input.fileHandleForWriting.write(stdin.data(using: .utf8)!)
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self), p.terminationStatus)
    }

    /// True when `thread f()` runs in this build.
    private func threadsAreAvailable() -> Bool {
        guard let r = try? run(["-c", "def f():\n    pass\nthread f()\n"], stdin: "") else { return false }
        return r.status == 0
    }
}
