// Self-tests of the harness's parsers, on inline strings: annotations, chunks, PENDING,
// the CONC_SPEC filter. No binary is run here.
import Testing

@Suite("Spec annotation parsing")
struct SpecFileParsingTests {
    // MARK: - One line

    static let lines: [(String, Annotation?)] = [
        ("print(1)", nil),
        ("# just a comment", nil),
        ("# expected to be ignored", nil),
        ("print(1)  # expect: 1", .expect("1")),
        ("print('a b')  # expect: a b   ", .expect("a b")),
        ("print('')  # expect: ", .expect("")),
        ("print('x')  #expect:x", .expect("x")),
        ("print('#')  # expect: #", .expect("#")),
        ("print('a#b')  # expect: a#b", .expect("a#b")),
        ("# expect (any order): w1 done", .expectAnyOrder("w1 done")),
        ("# expect stderr: Exception in thread w1:", .expectStderr("Exception in thread w1:")),
        (
            "if x  # expect error: expected ':'",
            .expectSyntaxError(message: "expected ':'", column: nil)
        ),
        (
            "x = = 1  # expect error col 5: invalid syntax",
            .expectSyntaxError(message: "invalid syntax", column: 5)
        ),
        (
            "  y  # expect error: IndentationError: unexpected indent",
            .expectSyntaxError(message: "IndentationError: unexpected indent", column: nil)
        ),
        (
            "1/0  # expect runtime error: ZeroDivisionError: division by zero",
            .expectRuntimeError("ZeroDivisionError: division by zero")
        ),
        (
            "raise KeyboardInterrupt  # expect runtime error: KeyboardInterrupt",
            .expectRuntimeError("KeyboardInterrupt")
        ),
        ("sys.exit(3)  # expect exit: 3", .expectExit(3)),
        ("# stdin: hello world", .stdin("hello world")),
        ("# args: a  b c", .args(["a", "b", "c"])),
        (
            "# args: alpha \"two words\" 3 'x y' a\\ b \"\"",
            .args(["alpha", "two words", "3", "x y", "a b", ""])
        ),
        ("# args: \"open", .malformed("`# args:` has an unclosed quote")),
        ("# conc-only", .concOnly),
        ("# timeout: 2.5", .timeout(2.5)),
        ("# skip: needs select (#12)", .skip("needs select (#12)")),
        ("# nontest", .nontest),
        ("# units: go thread spawn", .units(["go", "thread", "spawn"])),
        ("# env: CONC_SEED=42", .env(name: "CONC_SEED", value: "42")),
        ("# env: GREETING=a=b", .env(name: "GREETING", value: "a=b")),
        ("# expect stdout: 1", .malformed("unknown annotation `# expect stdout: 1`")),
        ("# expect exit: three", .malformed("`# expect exit:` needs an integer")),
        ("# expect error: ", .malformed("`# expect error:` needs a message")),
        (
            "# expect error col x: m",
            .malformed("`# expect error col N:` needs a column number N ≥ 1")
        ),
        ("# expect runtime error:", .malformed("`# expect runtime error:` needs a message")),
        ("# timeout: soon", .malformed("`# timeout:` needs a positive number of seconds")),
        (
            "# units: go fibre",
            .malformed("`# units:` takes some of go, thread, thread-gil, spawn; got \"go fibre\"")
        ),
        ("# env: NOVALUE", .malformed("`# env:` needs NAME=VALUE")),
    ]

    @Test(arguments: lines)
    func annotationOnOneLine(line: String, expected: Annotation?) {
        #expect(Annotation.parse(line: Substring(line)) == expected)
    }

    // MARK: - Whole files

    @Test func expectationsCarryTheirLineNumbers() {
        let spec = SpecAnnotations.parse("print(1)  # expect: 1\n\nprint(2)  # expect: 2\n")
        #expect(spec.programs.count == 1)
        #expect(
            spec.programs[0].stdout == [
                ExpectedLine(text: "1", line: 1), ExpectedLine(text: "2", line: 3),
            ])
        #expect(spec.programs[0].expectedExitStatus == 0)
        #expect(spec.problems.isEmpty)
    }

    /// (source, expected exit status, line that sets it)
    static let exitStatuses: [(String, Int, Int)] = [
        ("print(1)\n", 0, 1),
        ("\n1/0  # expect runtime error: ZeroDivisionError: division by zero\n", 1, 2),
        ("x = = 1  # expect error: invalid syntax\n", 2, 1),
        ("import sys\n\nsys.exit(7)  # expect exit: 7\n", 7, 3),
        ("1/0  # expect runtime error: E\n# expect exit: 9\n", 9, 2),
    ]

    @Test(arguments: exitStatuses)
    func exitStatusFollowsTheAnnotations(source: String, status: Int, line: Int) {
        let program = SpecAnnotations.parse(source).programs[0]
        #expect(program.expectedExitStatus == status)
        #expect(program.exitStatusLine == line)
    }

    @Test func chunksArePaddedSoLineNumbersMatch() {
        let text = """
            # units: go thread
            print(1)  # expect: 1
            # ---
            print(2)  # expect: 2
            # ---
            # nothing to run here
            # ---
            x = = 1  # expect error: invalid syntax
            """
        let spec = SpecAnnotations.parse(text)
        #expect(spec.isChunked)
        #expect(spec.units == ["go", "thread"])
        #expect(spec.programs.map(\.firstLine) == [1, 4, 8])
        #expect(spec.programs.map(\.chunk) == [1, 2, 4])
        #expect(spec.programs.map(\.lastLine) == [2, 4, 8])
        #expect(spec.programs[1].source == "\n\n\nprint(2)  # expect: 2\n")
        #expect(spec.programs[1].stdout == [ExpectedLine(text: "2", line: 4)])
        #expect(spec.programs[2].syntaxError?.line == 8)
        #expect(
            spec.programs[2].source.split(separator: "\n", omittingEmptySubsequences: false)[7]
                == "x = = 1  # expect error: invalid syntax")
    }

    @Test func fileWideAnnotationsApplyToTheWholeFile() {
        let spec = SpecAnnotations.parse(
            "# timeout: 3\n# env: A=1\n# env: B=2\nprint(1)\n"
                + "# stdin: x\n# args: p q\n# skip: later\n"
        )
        #expect(spec.timeout == 3)
        #expect(spec.environment == ["A": "1", "B": "2"])
        #expect(spec.skipReason == "later")
        #expect(spec.programs[0].stdin == ["x"])
        #expect(spec.programs[0].args == ["p", "q"])
        #expect(!spec.isNonTest)
        #expect(SpecAnnotations.parse("# nontest\ndef helper(): pass\n").isNonTest)
    }

    /// (source, the lines of its problems)
    static let contradictions: [(String, [Int])] = [
        ("x  # expect error: a\ny  # expect error: b\n", [2]),
        ("x  # expect error: a\ny  # expect runtime error: E\n", [1]),
        ("# expect exit: 1\n# expect exit: 2\n", [2]),
        ("print(1)  # expect stdout: 1\n", [1]),
        ("# ---\n# ---\n", [1]),
        ("a  # expect error: m\n# ---\nb  # expect error: m\n", []),
    ]

    @Test(arguments: contradictions)
    func contradictionsAreProblems(source: String, lines: [Int]) {
        #expect(SpecAnnotations.parse(source).problems.map(\.line) == lines)
    }

    // MARK: - PENDING and the filter

    @Test func pendingLinesParse() {
        let entries = PendingEntry.parse(
            """
            # Specs expected to fail for now.

            language/select/fair.conc  # select not written yet (#14)
            cli/repl.conc
            """)
        #expect(
            entries == [
                PendingEntry(
                    path: "language/select/fair.conc", reason: "select not written yet (#14)"),
                PendingEntry(path: "cli/repl.conc", reason: "no reason given"),
            ])
    }

    /// (path, filter, selected)
    static let filters: [(String, String?, Bool)] = [
        ("cli/hello.conc", nil, true),
        ("cli/hello.conc", "", true),
        ("cli/hello.conc", "cli", true),
        ("cli/hello.conc", "cli/", true),
        ("cli/hello.conc", "Tests/spec/cli/hello.conc", true),
        ("cli/hello.conc", "./cli", true),
        ("cli/hello.conc", "hello", true),
        ("cli/hello.conc", "language", false),
        ("cli/hello.conc", "language,cli", true),
        ("cli/hello.conc", "language errors", false),
    ]

    @Test(arguments: filters)
    func specFilterSelectsPaths(path: String, filter: String?, selected: Bool) {
        #expect(SpecFile.matches(path, filter: filter) == selected)
    }
}
