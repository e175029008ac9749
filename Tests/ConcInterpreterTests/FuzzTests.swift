// A deterministic fuzz test: random token soups, mutated spec files and small random but
// valid programs, each run through the public `Conc.Interpreter` with a timeout. Every run
// must end in success or a ConcError: never a crash, a trap or a hang.
//
// A crash kills the whole test process, so set CONC_FUZZ_DIR=/some/folder to have every
// program written there before it runs; the newest file is the one that crashed, and
// `conc FILE` reproduces it. CONC_FUZZ_SEED=n picks another seed and CONC_FUZZ_SCALE=k runs
// k times as many programs (for longer campaigns by hand).
import Conc
import Foundation
import Testing

// MARK: - Random numbers

/// xorshift64* (Vigna): tiny, fast, and the same sequence on every platform and toolchain.
private struct XorShift {
    private var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    /// A number in `0..<n` (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// A number in `range`.
    mutating func inRange(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }
    /// True with probability `percent`/100.
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    /// One element of a non-empty array.
    mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
}

// MARK: - Settings

/// The seed, the scale and the dump folder, read from the environment once per test.
private struct FuzzSettings {
    let seed: UInt64
    let scale: Int
    let dumpFolder: String?

    init() {
        let env = ProcessInfo.processInfo.environment
        seed = env["CONC_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_251_125
        scale = max(1, env["CONC_FUZZ_SCALE"].flatMap { Int($0) } ?? 1)
        dumpFolder = env["CONC_FUZZ_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        if let folder = dumpFolder {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
    }

    /// A generator for one family of programs (each family has its own stream).
    func rng(_ family: UInt64) -> XorShift { XorShift(seed: seed &* 0x1000_0000_01B3 &+ family) }
}

// MARK: - Running programs

/// What the programs of one family ended in.
private struct FuzzStats: CustomStringConvertible {
    var programs = 0
    var succeeded = 0
    var syntaxErrors = 0
    var exceptions = 0
    var timeouts = 0
    var kinds: [String: Int] = [:]
    var slowest: Duration = .zero

    var description: String {
        let top = kinds.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .prefix(8).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(programs) programs: \(succeeded) ok, \(syntaxErrors) syntax errors, "
            + "\(exceptions) exceptions (\(timeouts) timeouts); slowest \(slowest); top kinds: \(top)"
    }
}

/// Runs programs in fresh interpreters and checks that each one ends properly.
private struct FuzzRunner {
    let settings: FuzzSettings
    var stats = FuzzStats()
    /// What went wrong, recorded as issues by the test once back on its own thread (issues
    /// recorded from the large-stack thread would not be attributed to the test).
    var problems: [String] = []

    /// Runs `source` (named `name` in tracebacks and in the dump folder).
    mutating func run(_ source: String, name: String) {
        if let folder = settings.dumpFolder {
            try? source.write(toFile: "\(folder)/\(name).conc", atomically: false, encoding: .utf8)
        }
        stats.programs += 1
        let conc = Interpreter(output: .capture, errors: .capture)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try conc.run(source, fileName: "\(name).conc", timeout: 2)
            stats.succeeded += 1
        } catch let e as ConcError {
            record(e, name)
        } catch {
            problems.append("\(name): run threw \(type(of: error)), not a ConcError: \(error)")
        }
        let elapsed = clock.now - start
        stats.slowest = max(stats.slowest, elapsed)
        if elapsed > .seconds(10) {
            problems.append("\(name) ran for \(elapsed) despite timeout: 2\n\(source)")
        }
    }

    /// Records every problem found as an issue of the current test, and prints the statistics.
    func report(_ family: String) {
        for p in problems { Issue.record(Comment(rawValue: p)) }
        print("fuzz \(family): \(stats)")
    }

    /// Counts an error and checks that it is well formed.
    private mutating func record(_ e: ConcError, _ name: String) {
        stats.kinds[e.kind, default: 0] += 1
        let isSyntax = ["SyntaxError", "IndentationError", "TabError"].contains(e.kind) && e.exitStatus == 2
        if isSyntax { stats.syntaxErrors += 1 } else { stats.exceptions += 1 }
        if e.kind == "TimeoutError" && e.message == "the program ran out of time" { stats.timeouts += 1 }
        let wellFormed = !e.kind.isEmpty && e.line >= 0 && e.column >= 0 && e.traceback.hasSuffix("\n")
            && e.traceback.contains(e.kind) && (isSyntax || e.kind == "SystemExit" || [1, 130].contains(e.exitStatus))
        if !wellFormed {
            problems.append("\(name): malformed ConcError kind=\(e.kind) line=\(e.line) "
                + "column=\(e.column) exit=\(e.exitStatus)\n\(e.traceback)")
        }
    }
}

/// Runs `body` on a thread with a large stack, as the `conc` command does, so the
/// interpreter's stack guard has room (the interpreter runs on the calling thread).
private func onLargeStack(_ body: @escaping () -> Void) { runOnLargeStack(512 << 20, body) }

// MARK: - Token soups

/// Tokens and fragments random soups are made of: every keyword, operator and bracket, and
/// awkward literals (unterminated strings, huge numbers, stray indentation).
private let soupTokens: [String] = [
    "if", "elif", "else", "while", "for", "in", "def", "return", "class", "try", "except",
    "finally", "raise", "with", "as", "import", "from", "global", "nonlocal", "lambda", "yield",
    "pass", "break", "continue", "and", "or", "not", "is", "None", "True", "False", "del",
    "assert", "async", "await", "go", "thread", "spawn", "select", "case", "default", "match",
    "+", "-", "*", "/", "//", "%", "**", "=", "==", "!=", "<", ">", "<=", ">=", "+=", "-=", "*=",
    "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "@", "->", "...", ":=", "~", "^", "|", "&",
    "<<", ">>", "\\", "#", "x", "y", "f", "print", "len", "range", "self", "__init__", "0", "1",
    "42", "3.5", "1e309", "0x1F", "0b2", "9223372036854775807", "9223372036854775808", "'a'",
    "\"b\"", "f'{x}'", "f'{", "'''t'''", "b'z'", "'unterminated", "\"\"\"", "r'\\'", "\n",
    "\n", "\n    ", "\n        ", "\t", "  ", "é", "\u{0}", "$", "?", "!",
]

/// A random sequence of 1–40 tokens, sometimes glued together without spaces.
private func tokenSoup(_ rng: inout XorShift) -> String {
    var out = ""
    for _ in 0..<rng.inRange(1...40) {
        out += rng.pick(soupTokens)
        if rng.chance(70) { out += " " }
    }
    return out
}

// MARK: - Mutated spec files

/// Spec files safe to run in-process: no stdin, files, environment, sleeping, `os`, threads
/// or processes, process pools included (a fork here would copy the whole test process), and
/// none of the fuzz regression files (they crash the interpreter until fixed, and a crash
/// here would end the whole test process; the spec harness runs them in a subprocess).
private func specCorpus() -> [(name: String, text: String)] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("spec").path
    guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
    let unsafe = ["input(", "stdin", "open(", "import os", "from os", "sleep", "environ", "# args:",
                  "spawn", "multiprocessing", "thread", "units",
                  // concurrent.futures' ProcessPoolExecutor forks workers: a mutation that
                  // never shuts the pool down left them blocked forever, holding the test's
                  // output pipe open, and swift test hung.
                  "Process", "Pool", "fork",
                  // The programs run inside the test process: a mutant of a signal spec
                  // (`import signal, os`) that lost its handler line sent itself SIGUSR1
                  // and killed swift test.
                  "signal", "kill"]
    var files: [(String, String)] = []
    for case let path as String in walker where path.hasSuffix(".conc") && !path.hasPrefix("regression/fuzz_") {
        guard let text = try? String(contentsOfFile: "\(root)/\(path)", encoding: .utf8),
              !unsafe.contains(where: text.contains),
              // Any use of os (`import sys, os` escapes "import os"): os._exit, os.kill...
              text.range(of: #"(^|[^A-Za-z0-9_])os\."#, options: .regularExpression) == nil else { continue }
        files.append((path, text))
    }
    return files.sorted { $0.0 < $1.0 }
}

/// Fragments inserted by mutations.
private let insertions = [
    "(", ")", "[", "]", "{", "}", ":", ",", "+", "*", "**", "-", "/", "//", "%", "==", "=", ".",
    " if ", " else ", " not ", " and ", " lambda: ", " yield ", " return ", "for ", " in ", "def ",
    "class ", "try:", "except:", "while True:", "break", "None", "0", "-1", "'s'", "\"", "'",
    "\\", "#", ";", "\n", "\n    ", "    ", "\t", "[]", "{}", "()", "*args", "**kw", "@", "global x",
    "nonlocal x", "del ", "raise ", "assert ", "9223372036854775807", "1e308", "f'{", "}'",
]

/// Applies one random mutation to `lines`.
private func mutate(_ lines: inout [String], _ rng: inout XorShift) {
    guard !lines.isEmpty else {
        lines.append(rng.pick(insertions))
        return
    }
    let i = rng.below(lines.count)
    switch rng.below(7) {
    case 0: lines.remove(at: i)
    case 1: lines.insert(lines[i], at: i)
    case 2: lines.swapAt(i, rng.below(lines.count))
    case 3: lines[i] = flipCharacter(lines[i], &rng)
    case 4: lines[i] = insert(rng.pick(insertions), into: lines[i], &rng)
    case 5: lines.removeSubrange(i..<min(lines.count, i + rng.inRange(1...5)))
    default: lines[i] = String(lines[i].prefix(rng.below(lines[i].count + 1)))
    }
}

/// `line` with one character replaced by a random printable ASCII character.
private func flipCharacter(_ line: String, _ rng: inout XorShift) -> String {
    var scalars = Array(line.unicodeScalars)
    let replacement = Unicode.Scalar(UInt8(rng.inRange(32...126)))
    if scalars.isEmpty { return String(replacement) }
    scalars[rng.below(scalars.count)] = replacement
    var out = ""
    out.unicodeScalars.append(contentsOf: scalars)
    return out
}

/// `line` with `fragment` inserted at a random position.
private func insert(_ fragment: String, into line: String, _ rng: inout XorShift) -> String {
    let scalars = Array(line.unicodeScalars)
    let at = rng.below(scalars.count + 1)
    var out = ""
    out.unicodeScalars.append(contentsOf: scalars[..<at])
    out += fragment
    out.unicodeScalars.append(contentsOf: scalars[at...])
    return out
}

// MARK: - Small valid programs

/// Writes small random programs that parse: arithmetic, comparisons, strings, lists, dicts,
/// `if`/`while`/`for` with bounded loops, functions, classes, generators and `try`.
/// Loops run at most a few times and sizes grow at most linearly, so every program is quick
/// and small; recursion is bounded by a literal.
private struct ProgramWriter {
    var rng: XorShift
    private var lines: [String] = []
    private var indent = 0
    private var loopDepth = 0
    private var counter = 0
    /// Functions defined so far: (name, parameter count).
    private var functions: [(String, Int)] = []

    init(rng: XorShift) { self.rng = rng }

    /// A new program of a few top-level statements.
    mutating func program() -> String {
        lines = []; indent = 0; loopDepth = 0; functions = []
        emit("a = \(rng.inRange(-3...9))")
        emit("b = \(rng.inRange(1...9))")
        emit("s = \(stringLiteral())")
        emit("xs = [\(rng.inRange(0...5)), \(rng.inRange(-2...7)), \(rng.inRange(1...3))]")
        emit("d = {'k': \(rng.inRange(0...4)), 'z': \(rng.inRange(-3...3))}")
        emit("def rec(n):\n    return 0 if n <= 0 else n + rec(n - 1)")
        for _ in 0..<rng.inRange(3...10) { statement(depth: 0) }
        emit("print(a, b, s, xs[:6], sorted(d))")
        return lines.joined(separator: "\n") + "\n"
    }

    private mutating func emit(_ text: String) {
        let pad = String(repeating: "    ", count: indent)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) { lines.append(pad + line) }
    }

    private mutating func block(depth: Int) {
        indent += 1
        for _ in 0..<rng.inRange(1...3) { statement(depth: depth + 1) }
        indent -= 1
    }

    private mutating func fresh(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    // MARK: Statements

    private mutating func statement(depth: Int) {
        let compound = depth < 3 ? 11 : 0
        switch rng.below(9 + compound) {
        case 0, 1: emit("a = \(intExpr(2))")
        case 2: emit("b \(rng.pick(["+=", "-=", "*="])) \(intExpr(1))")
        case 3: emit("s = \(strExpr(2))")
        case 4: emit(rng.chance(50) ? "xs.append(\(intExpr(1)))" : "xs = \(listExpr(2))")
        case 5: emit("d[\(strExpr(1))] = \(intExpr(1))")
        case 6: emit("print(\(anyExpr(2)), \(anyExpr(1)))")
        case 7: emit(loopDepth > 0 ? rng.pick(["break", "continue", "pass"]) : "assert \(boolExpr(1)) or True")
        case 8: emit(rng.chance(50) ? "print(rec(\(rng.inRange(0...12))))" : callStatement())
        case 9, 10: ifStatement(depth)
        case 11: forStatement(depth)
        case 12: whileStatement(depth)
        case 13, 14: tryStatement(depth)
        case 15: defStatement(depth)
        case 16: classStatement()
        case 17: generatorStatement()
        default: emit("print([\(intExpr(1)) for v in range(\(rng.inRange(0...4))) if v \(compareOp()) \(intExpr(1))])")
        }
    }

    private mutating func ifStatement(_ depth: Int) {
        emit("if \(boolExpr(2)):")
        block(depth: depth)
        if rng.chance(40) {
            emit("elif \(boolExpr(2)):")
            block(depth: depth)
        }
        if rng.chance(50) {
            emit("else:")
            block(depth: depth)
        }
    }

    private mutating func forStatement(_ depth: Int) {
        let v = fresh("v")
        let source = rng.chance(50)
            ? "range(\(rng.inRange(0...4)))" : rng.pick(["xs[:4]", "s[:4]", "sorted(d)[:3]", "enumerate(xs[:3])"])
        emit("for \(v) in \(source):")
        loopDepth += 1
        block(depth: depth)
        loopDepth -= 1
        if rng.chance(20) {
            emit("else:")
            block(depth: depth)
        }
    }

    /// A `while` loop whose counter goes up first thing, so `continue` cannot skip it.
    private mutating func whileStatement(_ depth: Int) {
        let n = fresh("n")
        emit("\(n) = 0")
        emit("while \(n) < \(rng.inRange(0...4)) and \(boolExpr(1)) or \(n) < 1:")
        indent += 1
        emit("\(n) += 1")
        indent -= 1
        loopDepth += 1
        block(depth: depth)
        loopDepth -= 1
    }

    private mutating func tryStatement(_ depth: Int) {
        emit("try:")
        let saved = loopDepth
        block(depth: depth)
        var kinds = ["ZeroDivisionError", "IndexError", "KeyError", "TypeError", "ValueError",
                     "OverflowError", "AttributeError", "RecursionError", "(ValueError, TypeError)", "Exception"]
        if rng.chance(30) {
            let raised = rng.pick(["ValueError", "KeyError", "RuntimeError"])
            emit("    raise \(raised)(\(strExpr(1)))")
            kinds = [raised, "Exception", "LookupError"]
        }
        emit("except \(rng.pick(kinds)) as e:")
        emit("    print(type(e).__name__, e)")
        if rng.chance(30) {
            emit("finally:")
            block(depth: depth)
        }
        loopDepth = saved
    }

    private mutating func defStatement(_ depth: Int) {
        let name = fresh("f")
        let params = rng.inRange(0...2)
        let list = (0..<params).map { "p\($0)" } + (rng.chance(30) ? ["q=\(rng.inRange(0...3))"] : [])
        emit("def \(name)(\(list.joined(separator: ", "))):")
        indent += 1
        let savedLoop = loopDepth
        loopDepth = 0
        emit("global a, b, s, xs, d")
        for p in 0..<params { emit("p\(p) = p\(p) if isinstance(p\(p), int) else 0") }
        for _ in 0..<rng.inRange(0...2) { statement(depth: depth + 1) }
        emit("return \(intExpr(2))")
        loopDepth = savedLoop
        indent -= 1
        functions.append((name, params))
    }

    private mutating func classStatement() {
        let name = fresh("K")
        emit("class \(name):")
        emit("    def __init__(self, v):\n        self.v = v\n        self.items = []")
        emit("    def add(self, x):\n        self.items.append(x)\n        return len(self.items) + self.v")
        emit("    def __repr__(self):\n        return f'\(name)({self.v!r}, {self.items})'")
        let obj = fresh("o")
        emit("\(obj) = \(name)(\(intExpr(1)))")
        emit("print(\(obj).add(\(anyExpr(1))), \(obj))")
    }

    private mutating func generatorStatement() {
        let name = fresh("g")
        let step = "\(rng.pick(["*", "+", "-"])) \(rng.inRange(0...3))"
        emit("def \(name)(n):\n    for i in range(n):\n        yield i \(step)")
        emit("print(list(\(name)(\(rng.inRange(0...5)))), sum(\(name)(\(rng.inRange(0...5)))))")
    }

    private mutating func callStatement() -> String {
        guard !functions.isEmpty else { return "print(\(intExpr(2)))" }
        let (name, count) = rng.pick(functions)
        let args = (0..<count).map { _ in anyExpr(1) }
        return "print(\(name)(\(args.joined(separator: ", "))))"
    }

    // MARK: Expressions

    private mutating func stringLiteral() -> String {
        rng.pick(["'x'", "'ab'", "\"hi there\"", "''", "'é'", "'a,b,c'", "'  pad '", "'42'"])
    }

    private mutating func compareOp() -> String { rng.pick(["<", "<=", ">", ">=", "==", "!="]) }

    private mutating func intExpr(_ depth: Int) -> String {
        if depth <= 0 || rng.chance(30) {
            return rng.pick(["a", "b", "\(rng.inRange(-5...20))", "len(xs)", "len(s)", "d.get('k', 0)", "rec(3)"])
        }
        switch rng.below(8) {
        case 0: return "(\(intExpr(depth - 1)) \(rng.pick(["+", "-", "*", "//", "%"])) \(intExpr(depth - 1)))"
        case 1: return "(\(intExpr(depth - 1)) ** \(rng.inRange(0...3)))"
        case 2:
            return rng.pick(["abs(\(intExpr(depth - 1)))", "len(\(strExpr(depth - 1)))",
                             "int(str(\(intExpr(depth - 1))))"])
        case 3: return "\(rng.pick(["min", "max"]))(\(intExpr(depth - 1)), \(intExpr(depth - 1)))"
        case 4: return "(xs + [0])[\(intExpr(depth - 1)) % (len(xs) + 1)]"
        case 5: return "(\(intExpr(depth - 1)) if \(boolExpr(depth - 1)) else \(intExpr(depth - 1)))"
        case 6: return "sum(\(listExpr(depth - 1)))"
        default: return "d.get(\(strExpr(depth - 1)), \(intExpr(depth - 1)))"
        }
    }

    private mutating func boolExpr(_ depth: Int) -> String {
        if depth <= 0 || rng.chance(20) { return rng.pick(["True", "False", "a > b", "s in 'xabc'", "not xs"]) }
        switch rng.below(5) {
        case 0: return "\(intExpr(depth - 1)) \(compareOp()) \(intExpr(depth - 1))"
        case 1: return "not \(boolExpr(depth - 1))"
        case 2: return "(\(boolExpr(depth - 1)) \(rng.pick(["and", "or"])) \(boolExpr(depth - 1)))"
        case 3: return "\(intExpr(depth - 1)) in xs"
        default: return "\(strExpr(depth - 1)) \(rng.pick(["in", "not in", "=="])) \(rng.pick(["d", "s", "'ab'"]))"
        }
    }

    private mutating func strExpr(_ depth: Int) -> String {
        if depth <= 0 || rng.chance(30) { return rng.chance(50) ? "s" : stringLiteral() }
        switch rng.below(9) {
        case 0: return "str(\(intExpr(depth - 1)))"
        case 1: return "\(strExpr(depth - 1)).\(rng.pick(["upper", "lower", "strip", "title", "swapcase"]))()"
        case 2: return "(\(strExpr(depth - 1)) + \(stringLiteral()))"
        // Fields hold only atoms: 3.11 f-strings cannot reuse their own quote inside. The
        // repr is of a bounded slice: repeated repr of a growing string grows exponentially.
        case 3: return "f\"{\(intExpr(0))}-{s[:8]!r:>\(rng.inRange(0...6))}\""
        case 4: return "\(strExpr(depth - 1))[\(rng.pick(["::-1", "1:", ":2", "-1", "0"]))]"
        case 5: return "\(strExpr(depth - 1)).replace(\(stringLiteral()), \(stringLiteral()))"
        case 6: return "','.join(str(v) for v in \(listExpr(depth - 1)))"
        case 7: return "(\(stringLiteral()) * \(rng.inRange(0...3)))"
        default: return "('%s=%d' % (\(strExpr(depth - 1)), \(intExpr(depth - 1))))"
        }
    }

    private mutating func listExpr(_ depth: Int) -> String {
        if depth <= 0 || rng.chance(30) { return rng.pick(["xs", "[]", "[1, 2]", "list(d.values())"]) }
        switch rng.below(6) {
        case 0: return "[\(intExpr(depth - 1)), \(intExpr(depth - 1))]"
        case 1: return "[v * \(rng.inRange(-2...3)) for v in xs[:5]]"
        case 2: return "sorted(\(listExpr(depth - 1))\(rng.chance(50) ? ", reverse=True" : ""))"
        case 3: return "\(listExpr(depth - 1))[\(rng.pick(["1:", ":3", "::2", "::-1"]))]"
        case 4: return "list(range(\(rng.inRange(0...5))))"
        default: return "(\(listExpr(depth - 1)) + \(listExpr(depth - 1)))[:8]"
        }
    }

    private mutating func anyExpr(_ depth: Int) -> String {
        switch rng.below(5) {
        case 0: return intExpr(depth)
        case 1: return boolExpr(depth)
        case 2: return strExpr(depth)
        case 3: return listExpr(depth)
        default: return rng.pick(["d", "None", "(a, s)", "{a, b}", "3.5 * a", "a / b", "b / 2"])
        }
    }
}

// MARK: - Deeply nested programs

/// One deeply nested construct, within CPython's own limits (200 brackets, 100 indentation
/// levels, about 2000 operands in a chain). Deeper nesting crashes the parser today (see
/// Tests/spec/regression/fuzz_deeply_nested_parentheses.conc), which would end the whole
/// test process, so it is tested there, in a subprocess.
private func nestedProgram(_ rng: inout XorShift) -> String {
    let n = rng.inRange(1...190)
    switch rng.below(12) {
    case 0: return "x = " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n) + "\nprint(x)\n"
    case 1: return "x = " + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "\nprint(len(x))\n"
    case 2:
        return "x = " + String(repeating: "{1: ", count: n) + "2" + String(repeating: "}", count: n)
            + "\nprint(len(x))\n"
    case 3:
        return "def f(v):\n    return v\nprint(" + String(repeating: "f(", count: n) + "7"
            + String(repeating: ")", count: n) + ")\n"
    case 4:
        let terms = rng.inRange(1...2000)
        return "x = 5\nprint(" + Array(repeating: rng.pick(["1", "2", "x"]), count: terms)
            .joined(separator: rng.pick([" + ", " - ", " * ", " | ", " and ", " < ", ", "])) + ")\n"
    case 5: return "x = 3\nprint(" + String(repeating: rng.pick(["-", "not ", "~", "+"]), count: n * 5) + "x)\n"
    case 6:
        // CPython allows 100 indentation levels but only 20 nested loops ("too many
        // statically nested blocks"), so loops stop at 20 and `if`s go on.
        let depth = rng.inRange(1...98)
        var loops = 0
        var lines: [String] = []
        for level in 0..<depth {
            let loop = loops < 20 && rng.chance(50)
            loops += loop ? 1 : 0
            let header = loop ? rng.pick(["for _ in (1,):", "while 1 < 0:"]) : rng.pick(["if True:", "if 1 < 2:"])
            lines.append(String(repeating: "    ", count: level) + header)
        }
        lines.append(String(repeating: "    ", count: depth) + "print('deep')")
        return lines.joined(separator: "\n") + "\n"
    case 7:
        let arms = rng.inRange(1...600)
        return "x = \(rng.below(arms))\nif x == -1:\n    pass\n"
            + (0..<arms).map { "elif x == \($0):\n    print(\($0))\n" }.joined()
    case 8: return "f = " + String(repeating: "lambda: ", count: n) + "1\nprint(type(f).__name__)\n"
    case 9:
        return "class A:\n    pass\na = A()\na.b = a\nprint(a" + String(repeating: ".b", count: n * 5) + " is a)\n"
    case 10:
        let depth = rng.inRange(1...30)
        return "def f0():\n    return 0\n" + (1...depth).map { "def f\($0)():\n    return f\($0 - 1)() + 1\n" }.joined()
            + "print(f\(depth)())\n"
    default:
        return "x = 0\nx = " + String(repeating: "1 if x else ", count: n) + "0\nprint(x)\n"
    }
}

// MARK: - Tests

@Suite struct FuzzTests {
    /// Random token soups: almost all are syntax errors, none may crash the front end.
    @Test func tokenSoupsNeverCrash() {
        let settings = FuzzSettings()
        var runner = FuzzRunner(settings: settings)
        onLargeStack {
            var rng = settings.rng(1)
            for i in 0..<(1200 * settings.scale) { runner.run(tokenSoup(&rng), name: "soup_\(i)") }
        }
        runner.report("token soups")
        #expect(runner.stats.programs == 1200 * settings.scale)
    }

    /// Spec files with lines deleted, duplicated, swapped, truncated or garbled.
    @Test func mutatedSpecFilesNeverCrash() {
        let settings = FuzzSettings()
        let corpus = specCorpus()
        #expect(corpus.count > 100, "the spec corpus was not found")
        var runner = FuzzRunner(settings: settings)
        onLargeStack {
            var rng = settings.rng(2)
            for i in 0..<(1400 * settings.scale) where !corpus.isEmpty {
                let (path, text) = corpus[rng.below(corpus.count)]
                var lines = text.components(separatedBy: "\n")
                for _ in 0..<rng.inRange(1...3) { mutate(&lines, &rng) }
                let base = path.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ".conc", with: "")
                runner.run(lines.joined(separator: "\n"), name: "mutant_\(i)_\(base)")
            }
        }
        runner.report("mutated spec files")
    }

    /// Small valid programs: they must parse, and run to the end or to a Conc exception.
    @Test func generatedProgramsNeverCrash() {
        let settings = FuzzSettings()
        var runner = FuzzRunner(settings: settings)
        onLargeStack {
            var writer = ProgramWriter(rng: settings.rng(3))
            for i in 0..<(800 * settings.scale) { runner.run(writer.program(), name: "program_\(i)") }
        }
        runner.report("generated programs")
        let syntax = runner.stats.syntaxErrors
        #expect(syntax == 0, "the program writer produced \(syntax) programs that do not parse")
        #expect(runner.stats.timeouts == 0, "generated programs are meant to end quickly")
    }

    /// Deeply nested but legal constructs: parsed, compiled and run without a crash.
    @Test func deeplyNestedProgramsNeverCrash() {
        let settings = FuzzSettings()
        var runner = FuzzRunner(settings: settings)
        onLargeStack {
            var rng = settings.rng(4)
            for i in 0..<(300 * settings.scale) { runner.run(nestedProgram(&rng), name: "nested_\(i)") }
        }
        runner.report("deeply nested programs")
    }

    /// The generators are deterministic: the same seed gives the same programs.
    @Test func generatorsAreDeterministic() {
        var a = ProgramWriter(rng: XorShift(seed: 7)), b = ProgramWriter(rng: XorShift(seed: 7))
        var r1 = XorShift(seed: 9), r2 = XorShift(seed: 9)
        for _ in 0..<20 {
            #expect(a.program() == b.program())
            #expect(tokenSoup(&r1) == tokenSoup(&r2))
        }
    }
}
