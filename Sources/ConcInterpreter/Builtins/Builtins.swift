// The builtins module: the name → value table every module's globals fall back to.
import ConcSyntax

extension Engine {
    /// Builds the builtins table (called once per engine).
    func makeBuiltins() -> [String: Value] {
        var b: [String: Value] = [:]
        for (n, v) in builtinFunctions() + conversionBuiltins() + introspectionBuiltins() + evalBuiltins() { b[n] = v }
        for (n, v) in Engine.iteratorClasses { b[n] = v }
        let types: [PyType] = [Types.object, Types.type, Types.int, Types.float, Types.bool, Types.str, Types.bytes,
                               Types.bytearray, Types.list, Types.tuple, Types.dict, Types.set, Types.frozenset,
                               Types.range, Types.slice, Types.staticmethod, Types.classmethod, Types.property,
                               Types.superType]
        for t in types + Types.primitives { b[t.name] = .obj(t) }
        for e in Exc.all { b[e.name] = .obj(e) }
        // The core queue()'s exceptions (LANGUAGE.md §3), also queue.Empty/queue.Full.
        b["Empty"] = .obj(Exc.queueEmpty)
        b["Full"] = .obj(Exc.queueFull)
        b["EnvironmentError"] = .obj(Exc.osError)
        b["IOError"] = .obj(Exc.osError)
        b["None"] = Value.none  // (a bare `.none` would remove the entry)
        b["Ellipsis"] = .obj(Singletons.ellipsis)
        b["NotImplemented"] = .obj(Singletons.notImplemented)
        b["__debug__"] = .bool(true)
        return b
    }

    private func builtinFunctions() -> [(String, Value)] {
        [
            native("print") { u, a in try u.engine.print(u, a); return .none },
            native1("len") { u, x in .int(try u.length(x)) },
            native1("repr", methO: true) { u, x in .str(try u.repr(x)) },
            native1("ascii", methO: true) { u, x in .str(asciiEscaped(try u.repr(x))) },
            // The builtin call is the level counted, not hashing itself: a __hash__ putting
            // self in a dict does not recurse.
            native1("hash", methO: true) { u, x in .int(try u.hash(x)) },
            native1("id") { u, x in .int(try u.identity(x)) },
            // breakpoint(*args, **kws): whatever sys.breakpointhook is now.
            native("breakpoint") { u, a in
                let sys = try u.engine.importModule("sys", u)
                guard let hook = try u.getAttrOrNil(sys, "breakpointhook") else { throw runtimeError("lost sys.breakpointhook") }
                return try u.call(hook, a)
            },
            native1("callable") { u, x in .bool(isCallable(u, x)) },
            native("input") { u, a in
                try a.expect("input", 0, 1)
                if let line = try u.engine.inputThroughReplacedStreams(u, a) { return line }
                if u.engine.sysStreamIsNone("stdin") { throw runtimeError("input(): lost sys.stdin") }
                if a.count == 1 { u.engine.stdout.write(try u.str(a[0])) }
                u.engine.stdout.flush()
                // Other units run while this one waits for the user.
                // Through sys.stdin's buffer, so input() and sys.stdin reads share it.
                let stdin = u.engine.stdinFile!
                var line = try stdin.withLock(u) { try stdin.readTextLine(-1, u) }
                if line.isEmpty { throw pyError(Exc.eofError, "EOF when reading a line") }
                u.engine.stdout.markLineStart()
                if line.unicodeScalars.last == "\n" { line.unicodeScalars.removeLast() }
                return .str(line)
            },
            native("open") { u, a in try openFile(u, a) },
            native("exit") { _, a in throw try quitterExit(a) },
            native("quit") { _, a in throw try quitterExit(a) },
            native1("sleep") { u, x in
                try u.sleep(try u.sleepSeconds(x))
                return .none
            },
            native("help") { u, a in
                try a.expect("help", 0, 1)
                u.engine.stdout.write(try u.helpText(a.count == 0 ? nil : a[0]))
                return .none
            },
        ]
    }
}

extension Engine {
    /// The iteration builtins, with enumerate, zip, map, filter and reversed as classes (calling the
    /// class runs the builtin), as in Python. Built once per process: the classes are
    /// process-wide, so their constructors must not be assigned by each engine.
    nonisolated(unsafe) static let iteratorClasses: [(String, Value)] = {  // immutable after its one-time initialisation
        var out: [(String, Value)] = []
        let classes = [Types.enumerateIterator, Types.zipIterator, Types.mapIterator, Types.filterIterator, Types.reversedIterator]
        for (name, v) in iterationBuiltins() {
            if let t = classes.first(where: { $0.name == name }), case .obj(let o) = v, let fn = o as? PyBuiltinFunction {
                t.constructor = { u, cls, a in
                    let made = try fn.fn(u, a)
                    // A user subclass (`class Numbered(enumerate)`): the same items, from
                    // an object of that class, which may carry attributes. (reversed() of
                    // an object with __reversed__ returns what that made, as in CPython.)
                    guard cls !== t, case .obj(let o) = made, o.type === t, let inner = o as? PyIter else { return made }
                    return .obj(PyClosureIterator(type: cls) { u in try inner.next(u) })
                }
                out.append((name, .obj(t)))
            } else {
                out.append((name, v))
            }
        }
        return out
    }()
}

/// `callable(x)`.
func isCallable(_ u: Unit, _ x: Value) -> Bool {
    guard case .obj(let o) = x else { return false }
    if o is PyFunction || o is PyBuiltinFunction || o is PyBoundMethod || o is PyBoundBuiltin || o is PyType || o is PyMethodDescriptor { return true }
    return u.lookupSpecial(x, "__call__") != nil
}

/// `sys.exit(status=None)`: SystemExit(status), with no arguments for None (CPython's).
func systemExit(_ a: Args) throws -> PyBaseException {
    try a.expect("exit", 0, 1)
    return PyBaseException(type: Exc.systemExit, args: a.count == 0 || a[0].isNone ? [] : [a[0]])
}

/// The builtins `exit(code=None)` and `quit(code=None)` (CPython's site.Quitter):
/// SystemExit(code), None included.
func quitterExit(_ a: Args) throws -> PyBaseException {
    try a.expect("exit", 0, 1, keywords: ["code"])
    return PyBaseException(type: Exc.systemExit, args: [a.argument(0, "code") ?? .none])
}

extension Engine {
    /// `print(*values, sep=' ', end='\n', file=None, flush=False)`: one write per call.
    func print(_ u: Unit, _ a: Args) throws {
        // A safe point for `__del__`: what died while the arguments were evaluated
        // (`print(len([A()]), "x")`) is finalised first, so its output comes first, as in CPython.
        u.runQueuedFinalizersNow()
        var sep = " ", end = "\n"
        var file: Value = .none
        var flush = false
        for (k, v) in a.keywords {
            switch k {
            case "sep":
                if !v.isNone { guard let t = v.asStr else { throw typeError("sep must be None or a string, not \(v.typeName)") }; sep = t.value }
            case "end":
                if !v.isNone { guard let t = v.asStr else { throw typeError("end must be None or a string, not \(v.typeName)") }; end = t.value }
            case "file": file = v
            case "flush": flush = try u.isTruthy(v)
            default: throw typeError("'\(k)' is an invalid keyword argument for print()")
            }
        }
        // A program that replaced sys.stdout (redirect_stdout, a capturing object) gets
        // print's output there, as in CPython.
        if file.isNone, let out = replacedSysStream("stdout") {
            if out.isNone { return }  // sys.stdout = None: print() writes nothing, as in CPython
            file = out
        }
        var pieces: [String] = []
        pieces.reserveCapacity(a.positional.count)
        do {
            for x in a.positional { pieces.append(try u.str(x)) }
        } catch {
            // CPython writes each argument (and the separator after it) before converting
            // the next: what came before the one that failed is out already.
            if !pieces.isEmpty {
                let partial = pieces.joined(separator: sep) + sep
                if file.isNone { stdout.write(partial) } else { _ = try u.callMethod(file, "write", [.str(partial)]) }
            }
            throw error
        }
        if file.isNone {
            stdout.write(pieces.joined(separator: sep) + end)
            if flush { stdout.flush() }
        } else if case .obj(let o) = file, o is PyFile || ObjectLocks.active {
            // A native file, or any object while units run in parallel: one write() of the
            // whole line, so that lines of different units never mix (LANGUAGE.md §4), as
            // they do not in CPython, whose print runs no bytecode (so switches no thread)
            // between the pieces it writes to a C stream such as a StringIO.
            _ = try u.callMethod(file, "write", [.str(pieces.joined(separator: sep) + end)])
            if flush { _ = try u.callMethod(file, "flush", []) }  // its errors propagate, as in CPython
        } else {
            // Another object: one write() per piece, as CPython calls it (a recorder sees
            // "a", " ", "b", "\n").
            for (i, piece) in pieces.enumerated() {
                if i > 0 { _ = try u.callMethod(file, "write", [.str(sep)]) }
                _ = try u.callMethod(file, "write", [.str(piece)])
            }
            _ = try u.callMethod(file, "write", [.str(end)])
            if flush { _ = try u.callMethod(file, "flush", []) }  // its errors propagate, as in CPython
        }
    }
}

extension Engine {
    /// `sys.NAME` when the program replaced it (it is no longer `sys.__NAME__`), else nil.
    /// True when sys.<name> is None (a program started with that descriptor closed).
    func sysStreamIsNone(_ name: String) -> Bool {
        sysGlobals.load(ordering: .acquiring)?.takeUnretainedValue().get(name)?.isNone ?? false
    }

    func replacedSysStream(_ name: String) -> Value? {
        guard let sys = sysGlobals.load(ordering: .acquiring)?.takeUnretainedValue(),
              let now = sys.get(name), let original = sys.get("__\(name)__"), !isSame(now, original) else { return nil }
        return now
    }

    /// input() when the program replaced sys.stdin or sys.stdout (a StringIO, a recorder,
    /// redirect_stdout): the prompt goes to sys.stdout.write and the line comes from
    /// sys.stdin.readline(), as CPython does. Nil when both are the real streams.
    func inputThroughReplacedStreams(_ u: Unit, _ a: Args) throws -> Value? {
        let newInput = replacedSysStream("stdin"), newOutput = replacedSysStream("stdout")
        if newInput == nil && newOutput == nil { return nil }
        guard let sys = sysGlobals.load(ordering: .acquiring)?.takeUnretainedValue(),
              let input = sys.get("stdin"), let output = sys.get("stdout") else { return nil }
        if input.isNone { throw runtimeError("input(): lost sys.stdin") }
        if output.isNone { throw runtimeError("input(): lost sys.stdout") }
        if a.count == 1 { _ = try u.callMethod(output, "write", [.str(try u.str(a[0]))]) }
        _ = try? u.callMethod(output, "flush", [])
        let got = try u.callMethod(input, "readline", [])
        guard let text = got.asStr?.value else {
            throw typeError("object.readline() returned non-string")
        }
        if text.isEmpty { throw pyError(Exc.eofError, "EOF when reading a line") }
        var line = text
        if line.unicodeScalars.last == "\n" { line.unicodeScalars.removeLast() }
        return .str(line)
    }
}

extension Unit {
    /// The seconds argument of sleep(), with CPython's TypeError for a non-number.
    func sleepSeconds(_ v: Value) throws -> Double {
        do { return try floatArg(v) } catch let e as PyBaseException where e.type === Exc.typeError {
            throw typeError("'\(v.typeName)' object cannot be interpreted as an integer")
        }
    }

    /// Blocks the calling unit for `seconds` (other units run meanwhile; Ctrl-C interrupts
    /// the main unit's sleep at once).
    func sleep(_ seconds: Double) throws {
        if seconds < 0 { throw valueError("sleep length must be non-negative") }
        if seconds.isNaN { throw valueError("Invalid value NaN (not a number)") }
        // CPython converts to nanoseconds in 64 bits: past that, OverflowError, never an
        // endless sleep.
        if seconds > 9_223_372_036 { throw overflowError(seconds.isInfinite ? "timestamp out of range for platform time_t" : "timestamp too large to convert to C _PyTime_t") }
        // (No flush: as in CPython, output piped or redirected stays in the buffer.)
        let deadline = monotonicSeconds() + seconds
        repeat {
            try blockingCall {
                while true {
                    if isMain && engine.mainInterruptPending { break }
                    let left = deadline - monotonicSeconds()
                    if left <= 0 { break }
                    // Short naps so an embedding's interrupt() or timeout is seen quickly; a
                    // signal (Ctrl-C) ends the nap at once with EINTR.
                    let chunk = min(left, 0.05)
                    var ts = timespec(tv_sec: Int(chunk), tv_nsec: Int((chunk - Double(Int(chunk))) * 1e9))
                    nanosleep(&ts, nil)
                }
            }
            // Ctrl-C raises here; a signal handler runs and the sleep goes on (PEP 475).
            try checkInterrupt()
        } while monotonicSeconds() < deadline
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

#if canImport(Glibc)
import Glibc
#endif
