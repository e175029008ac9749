// The narrow surface the public `Conc` module uses to convert values and errors.

/// What kind of builtin container an object is, with its contents.
public enum BridgeKind {
    case string(String), bytes([UInt8]), list([Value]), tuple([Value]), dict([(Value, Value)]), set([Value]), other
}

public func bridgeKind(_ o: PyObject) -> BridgeKind {
    switch o {
    case let s as PyStr: return .string(s.value)
    case let b as PyBytes: return .bytes(b.snapshot)
    case let l as PyList: return .list(l.snapshot)
    case let t as PyTuple: return .tuple(t.items)
    case let d as PyDict: return .dict(d.pairs)
    case let s as PySet: return .set(s.elements)
    default: return .other
    }
}

public func makeStr(_ s: String) -> Value { .str(s) }
public func makeBytes(_ b: [UInt8]) -> Value { .obj(PyBytes(b)) }
public func makeList(_ items: [Value]) -> Value { .obj(PyList(items)) }
public func makeTuple(_ items: [Value]) -> Value { .obj(PyTuple(items)) }
public func makeSet(_ items: [Value]) -> Value {
    let s = PySet()
    let u = Engine.bridgeUnit
    for i in items { try? s.add(u, i) }
    return .obj(s)
}
public func makeDict(_ pairs: [(Value, Value)]) -> Value {
    let d = PyDict()
    let u = Engine.bridgeUnit
    for (k, v) in pairs { try? d.set(u, k, v) }
    return .obj(d)
}

/// Summary of an exception for structured errors.
public struct ExceptionInfo {
    public let kind: String
    public let message: String
    public let file: String
    public let line: Int
    public let column: Int
    public let exitStatus: Int32
}

public func exceptionInfo(_ e: PyBaseException, _ u: Unit) -> ExceptionInfo {
    let inner = e.traceback.first
    let message = (try? u.str(.obj(e))) ?? ""
    var status: Int32 = 1
    if e.type.isSubtype(of: Exc.systemExit) {
        switch e.systemExitCode {
        case .none: status = 0
        case .int(let i): status = Int32(truncatingIfNeeded: i)
        case .bool(let b): status = b ? 1 : 0
        default: status = 1
        }
    }
    if let s = e.syntaxError {
        return ExceptionInfo(kind: s.kind, message: s.message, file: s.file, line: s.line, column: s.column, exitStatus: status)
    }
    return ExceptionInfo(kind: e.type.name, message: message, file: inner?.file.name ?? "", line: inner?.loc.line ?? 0,
                         column: (inner?.loc.col).map { $0 + 1 } ?? 0, exitStatus: status)
}

extension PyBaseException {
    /// A SystemExit's `code`: None without arguments, the argument, or the tuple of them.
    public var systemExitCode: Value {
        switch args.count {
        case 0: return .none
        case 1: return args[0]
        default: return .obj(PyTuple(args))
        }
    }
    /// What the end of a program prints for this SystemExit: its code unless that is None
    /// or an int (which become the exit status), as CPython does.
    public func systemExitMessage(_ u: Unit) -> String? {
        let code = systemExitCode
        if code.isNone || code.intLike != nil { return nil }
        return try? u.str(code)
    }
    /// True for `SystemExit`.
    public var isSystemExit: Bool { type.isSubtype(of: Exc.systemExit) }
    /// True for `KeyboardInterrupt`.
    public var isKeyboardInterrupt: Bool { type.isSubtype(of: Exc.keyboardInterrupt) }
}

extension Engine {
    /// A unit for conversions that may need hashing outside any run (string/int keys only).
    nonisolated(unsafe) static let bridgeUnit = Engine(options: EngineOptions(), runsCode: false).mainUnit!

    /// Calls a Conc value from Swift.
    public func callValue(_ f: Value, _ args: [Value]) throws -> Value {
        mainUnit.setStackLimitFromThread()
        return try mainUnit.call(f, Args(args))
    }
    /// Reads a global of `__main__`.
    public func global(_ name: String) -> Value? { mainGlobals.get(name) }
    /// Sets a global of `__main__`.
    public func setGlobal(_ name: String, _ v: Value) { mainGlobals.set(name, v) }
    /// Flushes stdout, stderr and the files the program has open for writing (a file
    /// another unit is reading or writing right now is left to that unit).
    public func flushOutput() { openFiles.flushAll(); stdout.flush(); stderr.flush() }
    /// Drops the `__del__` calls and weakref callbacks queued on this thread without running
    /// them: after a run cut off by its deadline, objects that died as the run unwound (the
    /// `self` of a `__del__` the timeout stopped, held by the exception's traceback) must
    /// not be finalised by whatever interpreter runs on this thread next.
    public func discardQueuedFinalizers() { Finalizers.dropQueued(rounds: 1_000_000) }
}

/// An exception of builtin class `kind` (RuntimeError if unknown) to throw from native code.
public func raise(kind: String, message: String) -> Error {
    let t = Exc.all.first { $0.name == kind } ?? Exc.runtimeError
    return PyBaseException(type: t, args: [.str(message)])
}
