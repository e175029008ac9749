// Self-tests of the harness's checks (on made-up results) and of its runner (on /bin/sh),
// so the harness can be trusted before and apart from the interpreter.
import Foundation
import Testing

@Suite("Spec harness checks")
struct SpecCheckTests {
    /// The failures of `source`'s first program against a made-up result.
    static func failures(_ source: String, _ result: RunResult) -> [String] {
        let program = SpecAnnotations.parse(source).programs[0]
        let check = SpecCheck(
            displayPath: "t.conc", fileName: "t.conc", program: program, timeout: 10)
        return check.failures(of: result).map(\.description)
    }

    static func ran(_ stdout: String, _ stderr: String = "", exit: Int = 0) -> RunResult {
        RunResult(stdout: stdout, stderr: stderr, exitStatus: exit)
    }

    static let syntaxErrorOutput = """
          File "t.conc", line 2
            x = = 1
                ^
        SyntaxError: invalid syntax

        """

    static let tracebackOutput = """
        Traceback (most recent call last):
          File "/somewhere/t.conc", line 4, in <module>
            f()
          File "/somewhere/t.conc", line 2, in f
            raise KeyError("k")
          File "/stdlib/queue.conc", line 9, in get
            raise Empty
        KeyError: 'k'

        """

    /// (source, result, expected failures)
    static let cases: [(String, RunResult, [String])] = [
        ("print(1)  # expect: 1\n", ran("1\n"), []),
        ("print(1)  # expect: 1\n", ran("1   \n"), []),
        ("print(1)  # expect: 1\n", ran("2\n"), ["t.conc:1: expected \"1\", got \"2\""]),
        ("# expect: 1\n# expect: 2\n", ran("1\n"), ["t.conc:2: expected \"2\", got end of output"]),
        ("# expect: 1\n", ran("1\n3\n"), ["t.conc:1: expected end of output, got \"3\""]),
        ("print(1)\n", ran("1\n"), ["t.conc:1: expected end of output, got \"1\""]),
        ("# expect (any order): a\n# expect (any order): b\n# expect: c\n", ran("b\na\nc\n"), []),
        (
            "# expect (any order): a\n# expect (any order): b\n", ran("b\nc\n"),
            ["t.conc:1: expected (any order) [\"a\", \"b\"], got [\"b\", \"c\"]"]
        ),
        ("# expect (any order): a\n# expect: x\n# expect (any order): b\n", ran("a\nx\nb\n"), []),
        ("pass\n", ran("", "oops\n"), ["t.conc:1: expected no stderr, got \"oops\""]),
        ("# expect stderr: one\n\n# expect stderr: two\n", ran("", "one\nnoise\ntwo\n"), []),
        (
            "# expect stderr: one\n\n# expect stderr: two\n", ran("", "two\none\n"),
            ["t.conc:3: expected stderr line \"two\" (in order), not found"]
        ),
        ("# expect stderr: one\n# expect stderr: two\n", ran("", "x\none\ntwo\ny\n"), []),
        (
            "# expect stderr: one\n# expect stderr: two\n", ran("", "one\nnoise\ntwo\n"),
            ["t.conc:2: expected stderr \"two\" after \"one\", got \"noise\""]
        ),
        (
            "# expect stderr: one\n# expect stderr: two\n", ran("", "one\n"),
            ["t.conc:2: expected stderr \"two\" after \"one\", got end of stderr"]
        ),
        ("import sys\nsys.exit(3)  # expect exit: 3\n", ran("", exit: 3), []),
        (
            "import sys\nsys.exit(3)\n", ran("", exit: 3),
            ["t.conc:1: expected exit status 0, got 3"]
        ),
        (
            "\nx = = 1  # expect error col 5: invalid syntax\n",
            ran("", syntaxErrorOutput, exit: 2), []
        ),
        (
            "\nx = = 1  # expect error col 3: invalid syntax\n",
            ran("", syntaxErrorOutput, exit: 2),
            ["t.conc:2: expected caret at column 3, got column 5"]
        ),
        (
            "x = = 1  # expect error: invalid syntax\n", ran("", syntaxErrorOutput, exit: 2),
            [
                "t.conc:1: expected a syntax error reported at \"line 1\", "
                    + "got \"  File \"t.conc\", line 2\""
            ]
        ),
        (
            "\nx = = 1  # expect error: expected ':'\n", ran("", syntaxErrorOutput, exit: 1),
            [
                "t.conc:2: expected \"SyntaxError: expected ':'\" (or IndentationError/TabError), "
                    + "got \"SyntaxError: invalid syntax\"",
                "t.conc:2: expected exit status 2, got 1",
            ]
        ),
        (
            "\n\n\nf()\n# expect runtime error: KeyError: 'k'\n", ran("", tracebackOutput, exit: 1),
            ["t.conc:5: expected the innermost frame at line 5, got line 2"]
        ),
        (
            "\nraise KeyError('k')  # expect runtime error: KeyError: 'k'\n",
            ran("", tracebackOutput, exit: 1), []
        ),
        (
            "\nraise KeyError('k')  # expect runtime error: KeyError: 'k'\n"
                + "# expect stderr: KeyError: 'k'\n",
            ran("", tracebackOutput, exit: 1), []
        ),
        (
            "\nx = = 1  # expect error: invalid syntax\n",
            ran("", "  File \"t.conc\", line 2\nIndentationError: invalid syntax\n", exit: 2), []
        ),
        (
            "\nraise KeyError('k')  # expect runtime error: KeyError: 'k'\n"
                + "# expect stderr: Traceback (most recent call last):\n# expect stderr:     f()\n",
            ran("", tracebackOutput, exit: 1),
            [
                "t.conc:4: expected stderr \"    f()\" after "
                    + "\"Traceback (most recent call last):\", "
                    + "got \"  File \"/somewhere/t.conc\", line 4, in <module>\""
            ]
        ),
        (
            "1/0  # expect runtime error: ZeroDivisionError: division by zero\n",
            ran("", "ZeroDivisionError: division by zero\n", exit: 1),
            [
                "t.conc:1: expected \"Traceback (most recent call last):\" in stderr, got none",
                "t.conc:1: expected a `File \"…\", line 1` frame, got none",
            ]
        ),
    ]

    @Test(arguments: cases)
    func checkComparesOutput(source: String, result: RunResult, expected: [String]) {
        #expect(Self.failures(source, result) == expected)
    }

    @Test func timeoutAndHeldOpenPipesFail() {
        var result = Self.ran("")
        result.timedOut = true
        #expect(
            Self.failures("pass\n", result) == [
                "t.conc:1: timed out after 10.0 s; its process group was killed"
            ])
        result.timedOut = false
        result.outputHeldOpen = true
        #expect(
            Self.failures("pass\n", result)
                == [
                    "t.conc:1: the program exited but a process it started kept stdout "
                        + "or stderr open"
                ])
    }

    /// (message in the annotation, last stderr lines it accepts)
    static let syntaxErrorKinds: [(String, [String])] = [
        (
            "invalid syntax",
            [
                "SyntaxError: invalid syntax", "IndentationError: invalid syntax",
                "TabError: invalid syntax",
            ]
        ),
        ("IndentationError: unexpected indent", ["IndentationError: unexpected indent"]),
        ("TabError: inconsistent use of tabs", ["TabError: inconsistent use of tabs"]),
        ("SyntaxError: invalid syntax", ["SyntaxError: invalid syntax"]),
    ]

    @Test(arguments: syntaxErrorKinds)
    func syntaxErrorKindIsOptional(message: String, lines: [String]) {
        #expect(SpecCheck.syntaxErrorLines(message) == lines)
    }

    /// (stderr, source line, column)
    static let carets: [([String], String, Int?)] = [
        // CPython: the source's indentation stripped, the line indented by 4.
        (
            ["  File \"t.conc\", line 3", "    2 +)", "       ^", "SyntaxError: invalid syntax"],
            "  2 +)", 6
        ),
        (["    nonlocal zz", "    ^^^^^^^^^^^", "SyntaxError: no binding"], "    nonlocal zz", 5),
        (
            ["    if True print(\"x\")", "            ^^^^^", "SyntaxError: invalid syntax"],
            "if True print(\"x\")", 9
        ),
        // The source line shown with its own indentation.
        (["      2 +)", "         ^", "SyntaxError: invalid syntax"], "  2 +)", 6),
        (["SyntaxError: invalid syntax"], "x", nil),
    ]

    @Test(arguments: carets)
    func caretColumnCountsInTheSourceLine(stderr: [String], source: String, column: Int?) {
        #expect(SpecCheck.caretColumn(in: stderr, sourceLine: source) == column)
    }

    @Test func procStatLinesParse() {
        let stat = "4852 (a (weird) name) Z 4849 4852 2335 0 -1 4194560"
        #expect(ChildRegistry.parseStat(stat)?.state == "Z")
        #expect(ChildRegistry.parseStat(stat)?.parent == 4849)
        #expect(ChildRegistry.parseStat("garbage") == nil)
    }

    @Test func longOutputIsShortenedInTheMiddle() {
        let text = (1...1000).map(String.init).joined(separator: "\n") + "\n"
        let lines = SpecExecution.excerpt(text).split(separator: "\n")
        #expect(lines.count == SpecExecution.excerptLines + 1)
        #expect(lines.first == "1" && lines.last == "1000")
        #expect(SpecExecution.excerpt("a\nb") == "a\nb\n")
    }
}

@Suite("Spec harness runner")
struct SpecRunnerTests {
    /// Runs a shell script the way the harness runs `conc`.
    static func sh(
        _ script: String, stdin: String = "", environment: [String: String] = [:],
        timeout: Double = 10
    ) async throws -> RunResult {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        return try await SpecRunner.run(
            RunRequest(
                executable: "/bin/sh", arguments: ["-c", script, "sh", "a b", "c"],
                workingDirectory: "/tmp", environment: env, stdin: Data(stdin.utf8),
                timeout: timeout))
    }

    @Test func passesStdinArgumentsEnvironmentAndFolder() async throws {
        let result = try await Self.sh(
            "read line; echo \"$line|$1|$2|$GREETING|$(pwd)\"; echo err >&2; exit 3",
            stdin: "hello\n", environment: ["GREETING": "hi"])
        #expect(result.stdout == "hello|a b|c|hi|/tmp\n")
        #expect(result.stderr == "err\n")
        #expect(result.exitStatus == 3)
        #expect(!result.timedOut && !result.outputHeldOpen)
    }

    @Test func deathBySignalIs128PlusTheSignal() async throws {
        #expect(try await Self.sh("kill -TERM $$").exitStatus == 128 + 15)
    }

    @Test func childStartsWithNoBlockedOrIgnoredSignals() async throws {
        let result = try await Self.sh("grep -E '^Sig(Blk|Ign)' /proc/self/status")
        let masks = result.stdout.split(separator: "\n").compactMap {
            UInt64($0.split(separator: "\t").last ?? "", radix: 16)
        }
        // Bits 31 and up are glibc's internal real-time signals, which stay ignored.
        #expect(masks.count == 2 && masks.allSatisfy { $0 & 0x7fff_ffff == 0 }, "\(result.stdout)")
    }

    @Test func timeoutKillsTheWholeProcessGroup() async throws {
        let marker = "/tmp/conc-spec-selftest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let result = try await Self.sh(
            "(sleep 2; touch \(marker)) & echo started; sleep 30 & echo $!; wait", timeout: 0.5)
        #expect(result.timedOut)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "started" && lines.count == 2, "\(result.stdout)")
        // The 30 s sleep was killed with its group: gone, or a zombie waiting for init (not
        // timed: under load the run itself was seen to take from 7 to 66 s of wall time).
        if lines.count == 2, let sleeper = Int32(lines[1]) {
            #expect(Self.exited(sleeper), "the program's own child outlived the timeout")
        }
        try await Task.sleep(nanoseconds: 2_500_000_000)
        #expect(
            !FileManager.default.fileExists(atPath: marker), "a grandchild outlived the timeout")
    }

    /// Whether process `pid` has ended (gone, or a zombie), waiting up to 5 s for it.
    static func exited(_ pid: Int32) -> Bool {
        for _ in 0..<500 {
            if kill(pid, 0) == -1 && errno == ESRCH { return true }
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
               let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" { return true }
            usleep(10_000)
        }
        return false
    }

    @Test func outputHeldOpenByALeftoverProcessIsReported() async throws {
        let result = try await Self.sh("(sleep 30 &) ; echo done")
        #expect(result.outputHeldOpen)
        #expect(result.exitStatus == 0)
        #expect(result.stdout == "done\n")
    }

    @Test func largeOutputIsDrained() async throws {
        let result = try await Self.sh("seq 1 200000; seq 1 200000 >&2")
        #expect(result.stdout.count == result.stderr.count)
        #expect(result.stdout.hasSuffix("\n200000\n"))
    }

    @Test func missingBinaryThrows() async {
        await #expect(throws: SpawnError.self) {
            try await SpecRunner.run(
                RunRequest(
                    executable: "/nonexistent/conc", arguments: [], workingDirectory: "/tmp",
                    environment: [:], stdin: Data(), timeout: 1))
        }
    }

    @Test func noZombieChildrenRemain() async throws {
        _ = try await Self.sh("true")
        #expect(await ChildRegistry.lingeringZombies().isEmpty)
    }
}
