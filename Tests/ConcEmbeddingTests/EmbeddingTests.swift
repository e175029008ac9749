// The public embedding API, driven the way a host program drives it (Wren's test/api): only
// `import Conc`, never `@testable`. Run source, evaluate to Swift values, native functions,
// globals, structured errors, timeouts and interrupts, several interpreters in one process.
import Conc
import Foundation
import Testing

// MARK: - Helpers

/// A value that several threads hand to each other, guarded by a lock.
private final class Shared<T>: @unchecked Sendable {  // every access goes through `lock`
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    /// Changes the value in one critical section (`value[k] = v` through the property is a
    /// read and a write: two threads doing it at once lost one of their entries).
    func update(_ change: (inout T) -> Void) { lock.withLock { change(&stored) } }
}

/// Starts `body` on a new thread with its own stack; the returned semaphore is signalled when
/// the body has finished (wait on it to join).
private func startThread(stackSize: Int = 16 << 20, _ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
    let finished = DispatchSemaphore(value: 0)
    let thread = Thread {
        body()
        finished.signal()
    }
    thread.stackSize = stackSize
    thread.start()
    return finished
}

/// Runs `source` and returns the error it ends with (nil when it succeeds).
private func runError(_ conc: Interpreter, _ source: String, fileName: String = "<string>",
                      timeout: Double? = nil) -> ConcError? {
    do {
        try conc.run(source, fileName: fileName, timeout: timeout)
        return nil
    } catch let e as ConcError {
        return e
    } catch {
        Issue.record("run threw a non-ConcError: \(error)")
        return nil
    }
}

/// The output of `source` run in a fresh capturing interpreter, or `Kind: message` on failure.
private func output(of source: String) -> String {
    let conc = Interpreter(output: .capture, errors: .capture)
    if let e = runError(conc, source) { return conc.capturedOutput + "\(e.kind): \(e.message)" }
    return conc.capturedOutput
}

// MARK: - Running source

@Suite struct RunningSource {
    @Test(arguments: [
        ("print(sum(range(10)))", "45\n"),
        ("print('a', 'b', sep='-', end='!')\nprint()", "a-b!\n"),
        ("x = 2 ** 10 / 3\nprint(f'{x:.2f} {x!r:>20}')", "341.33    341.3333333333333\n"),
        ("for i in range(3):\n    print(i * i)", "0\n1\n4\n"),
        ("def gen(n):\n    for i in range(n):\n        yield i\nprint(list(gen(4)))", "[0, 1, 2, 3]\n"),
        ("class P:\n    def __init__(self, x):\n        self.x = x\n    def __repr__(self):\n        return f'P({self.x})'\nprint([P(1), P(2)])",
         "[P(1), P(2)]\n"),
        ("try:\n    {}['k']\nexcept KeyError as e:\n    print('missing', e)", "missing 'k'\n"),
        ("import json\nprint(json.dumps({'a': [1, None]}))", "{\"a\": [1, null]}\n"),
        ("print(1)\nraise ValueError('late')", "1\nValueError: late"),
    ])
    func printsToCapturedOutput(source: String, expected: String) {
        #expect(output(of: source) == expected)
    }

    @Test func laterRunsSeeEarlierGlobals() throws {
        let conc = Interpreter(output: .capture)
        try conc.run("def double(x):\n    return 2 * x\nn = 21")
        try conc.run("print(double(n))")
        #expect(conc.capturedOutput == "42\n")
    }

    @Test func handlerReceivesEveryWrite() throws {
        let lines = Shared<[String]>([])
        let conc = Interpreter(output: .handler({ text in lines.update { $0.append(text) } }))
        try conc.run("print('one')\nprint('two', end='')")
        #expect(lines.value.joined() == "one\ntwo")
    }

    @Test func runScriptReportsLikeTheCommand() {
        let conc = Interpreter(output: .capture, errors: .capture)
        let status = conc.runScript("print('before')\nundefined_name", fileName: "s.conc", scriptFolder: nil)
        #expect(status == 1)
        #expect(conc.capturedOutput == "before\n")
        #expect(conc.capturedErrors == """
            Traceback (most recent call last):
              File "s.conc", line 2, in <module>
                undefined_name
            NameError: name 'undefined_name' is not defined

            """)
    }

    @Test func runScriptEndsASyntaxErrorReportWithANewline() {
        let conc = Interpreter(output: .capture, errors: .capture)
        let status = conc.runScript("x = (1,\n", fileName: "s.conc", scriptFolder: nil)
        #expect(status == 2)
        #expect(conc.capturedErrors
            == "  File \"s.conc\", line 1\n    x = (1,\n        ^\nSyntaxError: '(' was never closed\n")
    }

    @Test func versionIsNotEmpty() {
        #expect(!Interpreter.version.isEmpty)
    }
}

// MARK: - Evaluating to Swift values

@Suite struct Evaluating {
    @Test(arguments: [
        ("1 + 2", ConcValue.int(3)),
        ("-9223372036854775807 - 1", .int(Int.min)),
        ("7 / 2", .float(3.5)),
        ("0.1 + 0.2", .float(0.1 + 0.2)),
        ("'ab' * 2 + 'c'", .string("ababc")),
        ("'h\\u00e9llo'.upper()", .string("HÉLLO")),
        ("None", .none),
        ("3 > 2", .bool(true)),
        ("not 1", .bool(false)),
        ("[1, 'x', None, 2.5]", .list([.int(1), .string("x"), .none, .float(2.5)])),
        ("(1,)", .tuple([.int(1)])),
        ("{'a': 1, 'b': [2, {'c': ()}]}",
         .dict([ConcPair(.string("a"), .int(1)),
                ConcPair(.string("b"), .list([.int(2), .dict([ConcPair(.string("c"), .tuple([]))])]))])),
        ("{5}", .set([.int(5)])),
        ("b'hi'", .bytes([104, 105])),
        ("'é'.encode()", .bytes([0xC3, 0xA9])),
        ("[x * x for x in range(4)]", .list([.int(0), .int(1), .int(4), .int(9)])),
        ("dict(zip('ab', range(2)))", .dict([ConcPair(.string("a"), .int(0)), ConcPair(.string("b"), .int(1))])),
        ("len", .object(repr: "<built-in function len>")),
        ("range(3)", .object(repr: "range(0, 3)")),
    ])
    func convertsResult(expression: String, expected: ConcValue) throws {
        let conc = Interpreter()
        #expect(try conc.evaluate(expression) == expected)
    }

    @Test func seesGlobalsOfEarlierRuns() throws {
        let conc = Interpreter()
        try conc.run("x = 6\ndef f(y):\n    return x * y")
        #expect(try conc.evaluate("f(7)") == .int(42))
    }

    @Test(arguments: [
        ("1 +", "SyntaxError"),
        ("x = 1", "SyntaxError"),
        ("1 / 0", "ZeroDivisionError"),
        ("nope", "NameError"),
    ])
    func failsWithConcError(expression: String, kind: String) {
        let conc = Interpreter()
        #expect {
            _ = try conc.evaluate(expression)
        } throws: { error in
            (error as? ConcError)?.kind == kind
        }
    }

    @Test func descriptionsReadLikePython() {
        #expect(ConcValue.none.description == "None")
        #expect(ConcValue.bool(true).description == "True")
        #expect(ConcValue.string("x").description == "x")
        #expect(ConcValue.int(-4).description == "-4")
    }
}

// MARK: - Native functions

@Suite struct NativeFunctions {
    @Test func receiveAndReturnConvertedValues() throws {
        let conc = Interpreter(output: .capture)
        let received = Shared<[ConcValue]>([])
        conc.define("record") { args in
            received.value = args
            return .list(args.reversed())
        }
        try conc.run("print(record(1, 'two', [3.0], {'k': None}))")
        #expect(received.value
            == [.int(1), .string("two"), .list([.float(3.0)]), .dict([ConcPair(.string("k"), .none)])])
        #expect(conc.capturedOutput == "[{'k': None}, [3.0], 'two', 1]\n")
    }

    @Test func areOrdinaryValues() throws {
        let conc = Interpreter(output: .capture)
        conc.define("inc") { args in
            guard case .int(let n) = args.first else { return .none }
            return .int(n + 1)
        }
        try conc.run("print(list(map(inc, [1, 2, 3])), callable(inc), sorted([3, 1], key=inc))")
        #expect(conc.capturedOutput == "[2, 3, 4] True [1, 3]\n")
    }

    @Test(arguments: [
        ("ValueError", "bad input", "caught ValueError bad input\n"),
        ("KeyError", "k", "caught KeyError 'k'\n"),
        ("NoSuchError", "odd", "caught RuntimeError odd\n"),
    ])
    func thrownConcErrorsAreCatchable(kind: String, message: String, expected: String) throws {
        let conc = Interpreter(output: .capture)
        conc.define("fail") { _ in throw ConcError(kind: kind, message: message) }
        try conc.run("""
            try:
                fail()
            except Exception as e:
                print('caught', type(e).__name__, e)
            """)
        #expect(conc.capturedOutput == expected)
    }

    @Test func rejectKeywordArguments() {
        let conc = Interpreter(output: .capture)
        conc.define("f") { _ in .none }
        let e = runError(conc, "f(1, key=2)")
        #expect(e?.kind == "TypeError")
        #expect(e?.message == "f() takes no keyword arguments")
    }

    @Test func otherSwiftErrorsBecomeRuntimeErrors() {
        struct Broken: Error, CustomStringConvertible { var description: String { "disk on fire" } }
        let conc = Interpreter(output: .capture)
        conc.define("fail") { _ in throw Broken() }
        let e = runError(conc, "def outer():\n    fail()\nouter()", fileName: "n.conc")
        #expect(e?.kind == "RuntimeError")
        #expect(e?.message == "disk on fire")
        #expect(e?.line == 2)
    }

    @Test func canCallBackIntoTheInterpreter() throws {
        let conc = Interpreter(output: .capture)
        conc.define("twice") { args in
            let n = try conc.evaluate("counter")
            guard case .int(let c) = n, case .int(let x) = args.first else { return .none }
            return .int(2 * x + c)
        }
        try conc.run("counter = 100\nprint(twice(4))")
        #expect(conc.capturedOutput == "108\n")
    }
}

// MARK: - Globals

@Suite struct Globals {
    @Test(arguments: [
        (ConcValue.int(7), "int"),
        (.float(-0.5), "float"),
        (.string("héllo"), "str"),
        (.bool(false), "bool"),
        (.none, "NoneType"),
        (.list([.int(1), .list([])]), "list"),
        (.tuple([.string("a"), .none]), "tuple"),
        (.dict([ConcPair(.string("k"), .list([.int(1)])), ConcPair(.int(2), .none)]), "dict"),
        (.set([.int(3)]), "set"),
        (.bytes([0, 255]), "bytes"),
    ])
    func roundTrip(value: ConcValue, typeName: String) throws {
        let conc = Interpreter()
        conc[global: "v"] = value
        #expect(conc[global: "v"] == value)
        #expect(try conc.evaluate("type(v).__name__") == .string(typeName))
        #expect(try conc.evaluate("v") == value)
    }

    @Test func programsReadAndWriteThem() throws {
        let conc = Interpreter(output: .capture)
        conc[global: "items"] = .list([.int(3), .int(1), .int(2)])
        try conc.run("items.sort()\ntotal = sum(items)\nprint(items)")
        #expect(conc.capturedOutput == "[1, 2, 3]\n")
        #expect(conc[global: "total"] == .int(6))
        #expect(conc[global: "items"] == .list([.int(1), .int(2), .int(3)]))
    }

    @Test func missingNamesReadAsNil() {
        let conc = Interpreter()
        #expect(conc[global: "never_set"] == nil)
    }

    @Test func functionsReadAsTheirRepr() throws {
        let conc = Interpreter()
        try conc.run("def f():\n    pass")
        guard case .object(let repr)? = conc[global: "f"] else {
            Issue.record("f is not an object: \(String(describing: conc[global: "f"]))")
            return
        }
        #expect(repr.hasPrefix("<function f at 0x"))
    }
}

// MARK: - Structured errors

/// What a failed run should report.
struct ExpectedError: Sendable, CustomStringConvertible {
    let source: String
    let kind: String
    let message: String
    let line: Int
    let column: Int
    var exitStatus: Int32 = 1
    var description: String { source }
}

@Suite struct StructuredErrors {
    @Test(arguments: [
        ExpectedError(source: "x = 1\ny = x / 0", kind: "ZeroDivisionError", message: "division by zero", line: 2, column: 5),
        ExpectedError(source: "print(nope)", kind: "NameError", message: "name 'nope' is not defined", line: 1, column: 7),
        ExpectedError(source: "d = {}\n\nd['k']", kind: "KeyError", message: "'k'", line: 3, column: 1),
        ExpectedError(source: "def f():\n    raise ValueError('bad value')\nf()", kind: "ValueError", message: "bad value",
                      line: 2, column: 5),
        ExpectedError(source: "class MyError(Exception):\n    pass\nraise MyError('mine')", kind: "MyError", message: "mine",
                      line: 3, column: 1),
        ExpectedError(source: "[1][5]", kind: "IndexError", message: "list index out of range", line: 1, column: 1),
        ExpectedError(source: "def f(n):\n    return f(n + 1)\nf(0)", kind: "RecursionError",
                      message: "maximum recursion depth exceeded", line: 2, column: 12),
        ExpectedError(source: "x = (1,\n", kind: "SyntaxError", message: "'(' was never closed", line: 1, column: 5,
                      exitStatus: 2),
        ExpectedError(source: "if True:\nprint(1)", kind: "IndentationError",
                      message: "expected an indented block after 'if' statement on line 1", line: 2, column: 1, exitStatus: 2),
        ExpectedError(source: "def f():\n    nonlocal q", kind: "SyntaxError", message: "no binding for nonlocal 'q' found",
                      line: 2, column: 5, exitStatus: 2),
        ExpectedError(source: "import sys\nsys.exit(3)", kind: "SystemExit", message: "3", line: 2, column: 1, exitStatus: 3),
        ExpectedError(source: "import sys\nsys.exit()", kind: "SystemExit", message: "", line: 2, column: 1, exitStatus: 0),
        ExpectedError(source: "raise SystemExit('bye')", kind: "SystemExit", message: "bye", line: 1, column: 1),
        ExpectedError(source: "raise KeyboardInterrupt", kind: "KeyboardInterrupt", message: "", line: 1, column: 1,
                      exitStatus: 130),
    ])
    func describeTheFailure(expected: ExpectedError) {
        let conc = Interpreter(output: .capture, errors: .capture)
        guard let e = runError(conc, expected.source, fileName: "e.conc") else {
            Issue.record("no error from \(expected.source)")
            return
        }
        #expect(e.kind == expected.kind)
        #expect(e.message == expected.message)
        #expect(e.file == "e.conc")
        #expect(e.line == expected.line)
        #expect(e.column == expected.column)
        #expect(e.exitStatus == expected.exitStatus)
        #expect(e.description == e.traceback)
        #expect(conc.capturedErrors.isEmpty, "run() reports through the thrown error only")
    }

    @Test func runtimeTracebackNamesEveryFrame() {
        let conc = Interpreter(output: .capture)
        let source = """
            def parse(text):
                return int(text)

            def load(items):
                return [parse(t) for t in items]

            load(['1', 'two'])
            """
        let e = runError(conc, source, fileName: "job.conc")
        #expect(e?.traceback == """
            Traceback (most recent call last):
              File "job.conc", line 7, in <module>
                load(['1', 'two'])
              File "job.conc", line 5, in load
                return [parse(t) for t in items]
                       ^^^^^^^^^^^^^^^^^^^^^^^^^
              File "job.conc", line 5, in <listcomp>
                return [parse(t) for t in items]
                        ^^^^^^^^
              File "job.conc", line 2, in parse
                return int(text)
                       ^^^^^^^^^
            ValueError: invalid literal for int() with base 10: 'two'

            """)
        #expect(e?.line == 2)
        #expect(e?.column == 12)
    }

    @Test func chainedExceptionsAreReportedInFull() {
        let conc = Interpreter(output: .capture)
        let source = """
            try:
                1 / 0
            except ZeroDivisionError as e:
                raise RuntimeError('wrapped') from e
            """
        let e = runError(conc, source, fileName: "c.conc")
        #expect(e?.traceback == """
            Traceback (most recent call last):
              File "c.conc", line 2, in <module>
                1 / 0
                ~~^~~
            ZeroDivisionError: division by zero

            The above exception was the direct cause of the following exception:

            Traceback (most recent call last):
              File "c.conc", line 4, in <module>
                raise RuntimeError('wrapped') from e
            RuntimeError: wrapped

            """)
    }

    @Test func syntaxErrorTracebackShowsTheCaret() {
        let conc = Interpreter()
        let e = runError(conc, "def f():\n    if x\n        pass\n", fileName: "s.conc")
        #expect(e?.traceback == "  File \"s.conc\", line 2\n    if x\n        ^\nSyntaxError: expected ':'\n")
        #expect(e?.column == 9)
    }

    @Test func syntaxErrorInAnImportedModuleNamesThatModule() throws {
        let folder = NSTemporaryDirectory() + "conc_embed_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "x = 1\ny = = 2\n".write(toFile: folder + "/broken.conc", atomically: true, encoding: .utf8)
        let conc = Interpreter(searchPaths: [folder])
        let e = runError(conc, "import broken", fileName: "main.conc")
        #expect(e?.kind == "SyntaxError")
        #expect(e?.message == "invalid syntax")
        #expect(e?.file == folder + "/broken.conc")
        #expect(e?.line == 2)
    }

    @Test func exitCodeComesFromSysExit() {
        let conc = Interpreter(output: .capture)
        let e = runError(conc, "import sys\nprint('bye')\nsys.exit(3)")
        #expect(e?.exitStatus == 3)
        #expect(conc.capturedOutput == "bye\n")
        #expect(conc.runScript("import sys\nsys.exit(3)", fileName: "x.conc", scriptFolder: nil) == 3)
    }
}

// MARK: - Timeouts and interrupts

@Suite struct Stopping {
    @Test func timeoutStopsAnEndlessLoop() {
        let conc = Interpreter(output: .capture)
        var error: ConcError?
        let elapsed = ContinuousClock().measure {
            error = runError(conc, "print('start')\nwhile True:\n    pass", fileName: "loop.conc", timeout: 0.5)
        }
        #expect(error?.kind == "TimeoutError")
        #expect(error?.message == "the program ran out of time")
        #expect(error?.line == 2, "the loop polls for the timeout at its `while` line")
        #expect(elapsed >= .milliseconds(400))
        #expect(elapsed < .seconds(10))
        #expect(conc.capturedOutput == "start\n")
    }

    /// Finalizers are Conc code too: a long queue of slow (or failing) `__del__` calls
    /// stops at the deadline; the timeout is not reported and swallowed as an exception
    /// raised in `__del__`.
    @Test func timeoutStopsALongRunOfFinalizers() {
        let conc = Interpreter(output: .capture, errors: .capture)
        let source = """
            class Slow:
                def __init__(self, nxt): self.nxt = nxt
                def __del__(self):
                    for i in range(2000): pass
                    Slow.missing += 1
            head = None
            for i in range(50000): head = Slow(head)
            head = None
            print('finalized')
            """
        var error: ConcError?
        let elapsed = ContinuousClock().measure { error = runError(conc, source, fileName: "dels.conc", timeout: 0.5) }
        #expect(error?.kind == "TimeoutError")
        #expect(elapsed < .seconds(20))
        #expect(conc.capturedOutput == "")
        #expect(!conc.capturedErrors.contains("TimeoutError"), "the timeout is not reported as ignored in __del__")
        // What the deadline cut off is not left for the next interpreter on this thread.
        let next = Interpreter(output: .capture, errors: .capture)
        #expect(runError(next, "x = 1\nprint(x)") == nil)
        #expect(next.capturedOutput == "1\n")
        #expect(next.capturedErrors == "", "left for the next interpreter: \(next.capturedErrors.prefix(600))")
    }

    @Test func timeoutStopsEvaluate() {
        let conc = Interpreter()
        #expect {
            _ = try conc.evaluate("sum(1 for _ in iter(int, 1))", timeout: 0.3)
        } throws: { ($0 as? ConcError)?.kind == "TimeoutError" }
    }

    @Test func interpreterWorksAfterATimeout() throws {
        let conc = Interpreter(output: .capture)
        _ = runError(conc, "while True:\n    pass", timeout: 0.2)
        try conc.run("total = 0\nfor i in range(200000):\n    total += i\nprint(total)", timeout: 30)
        #expect(conc.capturedOutput == "19999900000\n")
    }

    @Test func unexpiredTimeoutLeavesTheRunAlone() throws {
        let conc = Interpreter(output: .capture)
        try conc.run("print('quick')", timeout: 60)
        try conc.run("print('again')")
        #expect(conc.capturedOutput == "quick\nagain\n")
    }

    @Test func timeoutStillStopsAProgramThatCaughtIt() {
        let conc = Interpreter(output: .capture)
        let source = """
            import time
            try:
                while True:
                    pass
            except TimeoutError:
                print('caught')
            deadline = time.time() + 20
            while time.time() < deadline:
                pass
            print('ran to the end')
            """
        var error: ConcError?
        let elapsed = ContinuousClock().measure { error = runError(conc, source, timeout: 0.3) }
        #expect(error?.kind == "TimeoutError")
        #expect(conc.capturedOutput == "caught\n")
        #expect(elapsed < .seconds(10))
    }

    @Test func interruptFromAnotherThreadRaisesKeyboardInterrupt() {
        let conc = Interpreter(output: .capture)
        let started = DispatchSemaphore(value: 0)
        conc.define("started") { _ in
            started.signal()
            return .none
        }
        let error = Shared<ConcError?>(nil)
        let finished = startThread {
            error.value = runError(conc, "started()\nn = 0\nwhile True:\n    n += 1", fileName: "spin.conc")
        }
        started.wait()
        conc.interrupt()
        #expect(finished.wait(timeout: .now() + 20) == .success)
        #expect(error.value?.kind == "KeyboardInterrupt")
        #expect(error.value?.file == "spin.conc")
        #expect(error.value?.exitStatus == 130)
    }

    @Test func programCanCatchTheInterrupt() {
        let conc = Interpreter(output: .capture)
        conc.define("ready") { _ in
            conc.interrupt()
            return .none
        }
        let e = runError(conc, """
            try:
                ready()
                while True:
                    pass
            except KeyboardInterrupt:
                print('stopped politely')
            """)
        #expect(e == nil)
        #expect(conc.capturedOutput == "stopped politely\n")
    }
}

// MARK: - Several interpreters

@Suite struct SeveralInterpreters {
    @Test func keepGlobalsAndOutputApart() throws {
        let a = Interpreter(output: .capture)
        let b = Interpreter(output: .capture)
        try a.run("x = 'a'\nimport math\nmath.answer = 1")
        try b.run("x = 'b'")
        b[global: "y"] = .int(2)
        try a.run("print(x, 'y' in globals())")
        try b.run("import math\nprint(x, y, hasattr(math, 'answer'))")
        #expect(a.capturedOutput == "a False\n")
        #expect(b.capturedOutput == "b 2 False\n")
        #expect(a[global: "y"] == nil)
    }

    @Test func userClassesDoNotLeak() throws {
        let a = Interpreter(output: .capture)
        let b = Interpreter(output: .capture)
        try a.run("class Point:\n    def __init__(self):\n        self.x = 1\np = Point()")
        try b.run("class Point:\n    def __init__(self):\n        self.y = 2\np = Point()")
        try a.run("print(vars(p))")
        try b.run("print(vars(p))")
        #expect(a.capturedOutput == "{'x': 1}\n")
        #expect(b.capturedOutput == "{'y': 2}\n")
    }

    /// Two interpreters busy at the same moment on two threads, each made on its own thread.
    @Test func runAtTheSameTimeOnTwoThreads() {
        let program = """
            class Acc:
                def __init__(self):
                    self.items = {}
                def add(self, k, v):
                    self.items[k] = self.items.get(k, 0) + v
            acc = Acc()
            for i in range(20000):
                try:
                    acc.add(f'k{i % 7}', i * SCALE)
                    if i % 1000 == 0:
                        undefined_name
                except NameError:
                    pass
            print(sorted(acc.items.items())[0], NAME)
            """
        let outputs = Shared<[String: String]>([:])
        let gate = DispatchSemaphore(value: 0)
        var joins: [DispatchSemaphore] = []
        for (name, scale) in [("left", 1), ("right", 3)] {
            joins.append(startThread {
                let conc = Interpreter(output: .capture)
                conc[global: "SCALE"] = .int(scale)
                conc[global: "NAME"] = .string(name)
                gate.wait()
                let e = runError(conc, program)
                let text = conc.capturedOutput + (e.map { "\($0.kind): \($0.message)" } ?? "")
                outputs.update { $0[name] = text }
            })
        }
        gate.signal(); gate.signal()
        for j in joins { #expect(j.wait(timeout: .now() + 120) == .success) }
        #expect(outputs.value["left"] == "('k0', 28578571) left\n")
        #expect(outputs.value["right"] == "('k0', 85735713) right\n")
    }

    /// Two interpreters raising builtin exceptions at once, while each makes classes (which
    /// moves its own class epoch): the builtin exception classes they share have caches any
    /// engine fills, which must then be changed under locks.
    @Test func raiseBuiltinExceptionsAtTheSameTimeOnTwoThreads() {
        let program = """
            caught = 0
            for i in range(3000):
                class Fresh(Exception):
                    pass
                for kind in (ValueError, KeyError, TypeError, Fresh):
                    try:
                        raise kind(i)
                    except Exception:
                        caught += 1
            print(caught)
            """
        let outputs = Shared<[Int: String]>([:])
        let gate = DispatchSemaphore(value: 0)
        let joins = (0..<2).map { k in
            startThread {
                let conc = Interpreter(output: .capture)
                gate.wait()
                let e = runError(conc, program)
                let text = conc.capturedOutput + (e.map { "\($0.kind): \($0.message)" } ?? "")
                outputs.update { $0[k] = text }
            }
        }
        gate.signal(); gate.signal()
        for j in joins { #expect(j.wait(timeout: .now() + 120) == .success) }
        #expect(outputs.value == [0: "12000\n", 1: "12000\n"])
    }

    /// Interpreters may be created on several threads at once.
    @Test func createdAtTheSameTimeOnSeveralThreads() {
        let joins = (0..<4).map { _ in
            startThread {
                for _ in 0..<300 { _ = Interpreter(output: .capture) }
            }
        }
        for j in joins { #expect(j.wait(timeout: .now() + 120) == .success) }
    }

    /// Interrupting one interpreter leaves another one, running at the same time, alone.
    @Test func interruptOnlyStopsItsOwnInterpreter() {
        let spinner = Interpreter(output: .capture)
        let worker = Interpreter(output: .capture)
        let started = DispatchSemaphore(value: 0)
        spinner.define("started") { _ in
            started.signal()
            return .none
        }
        let spinError = Shared<ConcError?>(nil)
        let spinDone = startThread { spinError.value = runError(spinner, "started()\nwhile True:\n    pass") }
        started.wait()
        let workerDone = startThread {
            _ = runError(worker, "s = 0\nfor i in range(100000):\n    s += i\nprint(s)")
        }
        spinner.interrupt()
        #expect(spinDone.wait(timeout: .now() + 20) == .success)
        #expect(workerDone.wait(timeout: .now() + 120) == .success)
        #expect(spinError.value?.kind == "KeyboardInterrupt")
        #expect(worker.capturedOutput == "4999950000\n")
    }

    /// An interpreter made on one thread and run on another (a host's worker thread) still
    /// recurses normally and still turns runaway recursion into RecursionError.
    @Test func runsOnAThreadOtherThanItsCreator() {
        let conc = Interpreter(output: .capture)
        let result = Shared<String>("")
        let done = startThread(stackSize: 64 << 20) {
            let source = """
                def depth(n):
                    return 0 if n == 0 else 1 + depth(n - 1)
                print(depth(300))
                def forever(n):
                    return forever(n + 1)
                try:
                    forever(0)
                except RecursionError:
                    print('recursion error')
                """
            let e = runError(conc, source)
            result.value = conc.capturedOutput + (e.map { "\($0.kind): \($0.message)" } ?? "")
        }
        #expect(done.wait(timeout: .now() + 60) == .success)
        #expect(result.value == "300\nrecursion error\n")
    }
}

// MARK: - Robustness

@Suite struct Robustness {
    /// Runs `source` in a fresh interpreter on a new thread with an ordinary 8 MiB stack
    /// (an embedder's main thread) and returns the kind of error it ends with, if any.
    private func kindOfError(onOrdinaryStack source: String) -> String? {
        let error = Shared<String?>(nil)
        let done = startThread(stackSize: 8 << 20) {
            error.value = runError(Interpreter(output: .capture), source).map { $0.kind }
        }
        #expect(done.wait(timeout: .now() + 60) == .success)
        return error.value
    }

    /// Deep nesting in source or data ends normally or in the RecursionError CPython raises,
    /// on an ordinary stack too.
    @Test(arguments: [
        ("x = " + String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100), nil),
        ("x = " + Array(repeating: "1", count: 5000).joined(separator: " + "), "RecursionError"),
        ("x = []\nfor i in range(3000):\n    x = [x]\ns = repr(x)", "RecursionError"),
        ("x = []\ny = []\nfor i in range(3000):\n    x = [x]\n    y = [y]\nb = x == y", "RecursionError"),
    ] as [(String, String?)])
    func deepNestingEndsCleanly(source: String, kind: String?) {
        #expect(kindOfError(onOrdinaryStack: source) == kind)
    }

    /// The same for nesting that is legal in CPython but still overflows an 8 MiB stack.
    ///
    /// Disabled because each case kills the test process (measured on a debug build): the
    /// parser uses about 55 KiB of stack per bracket level, so 190 levels overflow before
    /// the lexer's limit of 200 (and 201 levels too: the parser still descends to the
    /// lexer's error token); the compiler's `expr` recursion overflows on 2000 operands
    /// before its limit of 2000; and releasing a 30000-deep nested list (here when the
    /// interpreter goes away) recurses in Swift's deinit, where CPython frees iteratively.
    /// Enable it once these check the machine stack.
    @Test(.disabled("crashes the process: recursion without a stack check"), arguments: [
        ("x = " + String(repeating: "(", count: 190) + "1" + String(repeating: ")", count: 190), nil),
        ("x = " + String(repeating: "(", count: 201) + "1" + String(repeating: ")", count: 201), "SyntaxError"),
        ("x = " + Array(repeating: "1", count: 2000).joined(separator: " + "), nil),
        ("x = []\nfor i in range(30000):\n    x = [x]\nx = None", nil),
    ] as [(String, String?)])
    func deepNestingWithinCPythonLimitsRuns(source: String, kind: String?) {
        #expect(kindOfError(onOrdinaryStack: source) == kind)
    }
}

// MARK: - The README example

@Suite struct ReadmeExample {
    /// The "Embedding" section of README.md, line for line (keep the two in step).
    @Test func readmeExampleWorks() throws {
        let conc = Interpreter(output: .capture)
        conc.define("greet") { args in .string("hello, \(args[0])") }
        conc[global: "names"] = .list([.string("Ada"), .string("Grace")])
        try conc.run("""
            for n in names:
                print(greet(n))
            """)
        print(conc.capturedOutput, terminator: "")           // hello, Ada / hello, Grace
        let total = try conc.evaluate("sum(len(n) for n in names)")   // .int(8)
        do { try conc.run("x = 1 / 0") } catch let e as ConcError { print(e.kind, e.line) }

        #expect(conc.capturedOutput == "hello, Ada\nhello, Grace\n")
        #expect(total == .int(8))
        let e = runError(conc, "x = 1 / 0")
        #expect(e?.kind == "ZeroDivisionError" && e?.line == 1)
    }
}
