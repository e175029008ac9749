// The interpreter: builtins, loaded modules, output streams, limits and the entry points
// that run source text. Everything a running program needs hangs off an Engine and its
// units; nothing lives in Swift globals, so several engines can share a process.
import CConcSys
import ConcSyntax
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// Options fixed when an engine is created.
public struct EngineOptions {
    /// `sys.argv`.
    public var argv: [String] = [""]
    /// Extra module search folders (`CONC_PATH`), searched after the script's folder.
    public var searchPaths: [String] = []
    /// The folder holding the bundled stdlib sources, if found on disk.
    public var stdlibPath: String? = nil
    /// Where `print` writes.
    public var stdout: OutputSink = OutputSink(.fd(1))
    /// Where errors and tracebacks go.
    public var stderr: OutputSink = OutputSink(.fd(2), lineBuffered: true)
    /// Reads a line for `input()` and `sys.stdin` (nil at end of input); nil: the
    /// process's file descriptor 0.
    public var readLine: (() -> String?)? = nil
    /// Run threads under a global interpreter lock (`conc --gil`) instead of in parallel.
    public var globalInterpreterLock = false
    public init() {}
}

/// One Conc interpreter.
public final class Engine {
    public let options: EngineOptions
    public var stdout: OutputSink { options.stdout }
    public var stderr: OutputSink { options.stderr }
    /// Files the program opened for writing, flushed at its end (``flushOutput()``).
    let openFiles = OpenFiles()
    /// `sys.stdin`, which input() reads through too (one buffer for both).
    private(set) var stdinFile: PyFile!
    /// The builtins module's names. Filled once at creation.
    private(set) var builtins: [String: Value] = [:]
    /// The `sys` module's variables once it exists, for print() to read `sys.stdout` without
    /// the import mutex. Published by ``makeSysModule()`` and retained for good (a unit may
    /// be reading it unretained); nil until a program imports sys.
    let sysGlobals = Atomic<Unmanaged<Globals>?>(nil)
    /// The modules the interpreter loaded; touch it only holding `importMutex` (see
    /// ModuleLoader.swift), or through ``modules``. `sys.modules` is what a program sees
    /// and changes: an import first asks it (see `importModule`).
    var moduleTable: [String: PyModule] = [:]
    /// Loaded modules: reading gives a snapshot; a change (`modules[name] = m`) happens
    /// under the import mutex and is copied into `sys.modules` (entries the program put
    /// there itself stay).
    var modules: [String: PyModule] {
        get { withImportMutex { moduleTable } }
        _modify {
            pthread_mutex_lock(importMutex)
            let before = moduleTable
            defer { copyChangesToSysModules(from: before); pthread_mutex_unlock(importMutex) }
            yield &moduleTable
        }
    }
    /// Guards the module table, `modulePaths` and the import bookkeeping: a recursive
    /// pthread mutex, only ever held for table work (never while a module body runs).
    let importMutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        initRecursiveMutex(m)
        return m
    }()
    func withImportMutex<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(importMutex)
        defer { pthread_mutex_unlock(importMutex) }
        return try body()
    }
    /// Source modules whose body is running, and the unit running it (guarded by
    /// `importMutex`): another unit importing one waits until it is done.
    var modulesInitializing: [String: Unit] = [:]
    /// Bumped (and woken) whenever a module body finishes: importers waiting for another
    /// unit's import of the same module park on it.
    let importWord: UnsafeMutablePointer<UInt32> = {
        let w = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        w.initialize(to: 0)
        return w
    }()
    /// The `sys.modules` dict: every module the interpreter loads goes in; what the
    /// program adds, replaces or deletes there decides what the next import finds.
    lazy var sysModules = PyDict()
    /// Copies the table's changes since `before` into `sys.modules` (only string keys, so
    /// no program code runs under the import mutex).
    private func copyChangesToSysModules(from before: [String: PyModule]) {
        let d = sysModules, u = mainUnit ?? Engine.bridgeUnit
        for name in moduleTable.keys.sorted() where before[name] !== moduleTable[name] {
            d.set(u, name, .obj(moduleTable[name]!))
        }
        for (name, m) in before where moduleTable[name] == nil {
            if case .obj(let o)? = try? d.get(u, .str(name)), o === m { _ = try? d.remove(u, .str(name)) }
        }
    }
    /// `sys.modules[name]`, or nil.
    func sysModulesEntry(_ name: String, _ u: Unit) -> Value? {
        try? sysModules.get(u, .str(name))
    }
    /// Where each source module was loaded from (guarded by `importMutex`).
    var modulePaths: [String: String] = [:]
    /// The modules loaded from the bundled stdlib (guarded as `modulePaths`).
    var stdlibModules: Set<String> = []
    /// Bumped whenever a user class's attributes change, invalidating every inline cache
    /// that resolved an attribute through a class. A word of its own, read and bumped
    /// atomically (units cache the pointer, as they do the interrupt flag's).
    let classEpochWord: UnsafeMutablePointer<Int> = {
        let w = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        w.initialize(to: 0)
        return w
    }()
    /// The current class epoch.
    var classEpoch: Int { CConcSys_atomic_load_word(classEpochWord) }
    /// Records that a class's attributes changed (after the change is made).
    func classesChanged() { _ = CConcSys_atomic_increment_word(classEpochWord) }
    /// `sys.get_int_max_str_digits()`: kept for programs that set it (Conc's 64-bit ints
    /// never have that many digits). Written by sys.set_int_max_str_digits only.
    var intMaxStrDigits = 4300
    /// `sys.is_finalizing()`: set (by the main unit) when the end of the program finalises
    /// what the main module still holds; daemon threads may read it meanwhile.
    var isFinalizing: Bool {
        get { finalizing.load(ordering: .relaxed) }
        set { finalizing.store(newValue, ordering: .relaxed) }
    }
    private let finalizing = Atomic<Bool>(false)
    /// `sys.getrecursionlimit()`: one limit for every unit of the engine, as in CPython
    /// (a thread's `sys.setrecursionlimit` applies to all), kept in ``recursionLimitWord``.
    public var recursionLimit: Int {
        get { CConcSys_atomic_load_word(recursionLimitWord) }
        set { CConcSys_atomic_store_word(recursionLimitWord, newValue) }
    }
    /// The recursion limit's word, read atomically by every call's depth check (units cache
    /// the pointer, as they do the class epoch's) and written by `sys.setrecursionlimit`.
    let recursionLimitWord: UnsafeMutablePointer<Int> = {
        let w = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        w.initialize(to: 1000)
        return w
    }()
    /// Non-zero when the evaluator must look up from its work: a bit set of
    /// ``InterruptBits`` (Ctrl-C, timeout, GIL drop request, deadlock). Written atomically by
    /// signal handlers and other threads, read at loop back-edges and calls.
    public let interruptFlag: UnsafeMutablePointer<Int32>
    /// Set once a DeadlockError was raised: the blocked units can never finish, so the end of
    /// the program does not wait for them.
    public internal(set) var deadlocked = false
    /// Every live primitive wrapper of this process (see ``PrimitiveRegistry``).
    let primitives = PrimitiveRegistry()
    /// The shared-memory arena for primitives (see ``arena``); nil until first used.
    var arenaStorage: OpaquePointer?
    /// ``privateArena``, once mapped.
    var privateArenaStorage: OpaquePointer?
    /// The process family's table in the arena (see FamilyDeadlock.swift); made with it.
    var familyStorage: OpaquePointer?
    /// The family checker's round in progress: the snapshot it asked every process to
    /// confirm. Main unit only.
    var familyPending: (round: UInt32, snapshot: [FamilyMember])?
    /// The other processes of a family deadlock this process reported: terminated at the
    /// end of the program instead of being waited for.
    var familyDeadlockPids: [pid_t] = []
    /// ``familyDeadlockPids`` as they were when the main unit last caught the DeadlockError:
    /// a handler that re-raises it (`except: ...; raise`) puts them back.
    var caughtFamilyDeadlockPids: [pid_t] = []
    /// The global interpreter lock (inactive until the first thread starts).
    let gil: GIL
    /// Every live unit of this engine, for joins, deadlock detection and `threading.enumerate`.
    let units = UnitRegistry()
    /// The main unit (the program's main thread of execution; in a spawned child, the unit
    /// that runs the spawned call).
    public private(set) var mainUnit: Unit!
    /// True in a daemon process (which may not spawn).
    var isDaemonProcess = false
    /// This process's name (`MainProcess`, or the spawned unit's name).
    var processName = "MainProcess"
    /// Handles of the processes this process spawned (reaped at the end). Any unit may
    /// spawn, so it is read and written only under the unit registry's lock (``children``,
    /// ``addChild(_:)``, ``forgetChildren(all:)``).
    private var childList: [PyUnitHandle] = []
    /// A snapshot of ``childList``.
    var children: [PyUnitHandle] { units.withLock { childList } }
    func addChild(_ h: PyUnitHandle) { units.withLock { childList.append(h) } }
    /// Drops reaped children (or, with `all`, every child).
    func forgetChildren(all: Bool = false) {
        units.withLock { childList.removeAll { all || $0.process?.status != nil } }
    }
    /// Pids of the children `os.fork()` made and `os.wait*` has not reaped (under the
    /// unit registry's lock): the end of the program reaps those that have exited.
    var rawChildren: [pid_t] = []
    /// The callables given to `os.register_at_fork`, in registration order (under the unit
    /// registry's lock). Every fork runs them: `os.fork()` and `spawn` (multiprocessing).
    var forkHooks: [ForkHooks] = []
    /// Bumped at every spawn: primitives made in an earlier epoch are shared with another
    /// process (see ``PySharedPrimitive/isShared(_:)``).
    var forkEpoch = 0
    /// The parent's pid, in a spawned child.
    var parentPid: pid_t?
    /// True while a child this process spawned, or made with `os.fork()`, has not been
    /// reaped (a raw child's exit is only known when os.wait* reaps it).
    var hasLiveChildren: Bool {
        children.contains { !$0.isDone } || units.withLock { !rawChildren.isEmpty }  // (isDone may reap: unlocked)
    }

    /// Makes `u` the main unit (in a forked child).
    func setMainUnit(_ u: Unit) {
        mainUnit.isMain = false
        mainUnit = u
        u.isMain = true
    }
    /// The Conc-level handlers set by `signal.signal` (a callable, or SIG_DFL/SIG_IGN as
    /// ints), by signal number. Main unit only. A forked child keeps them, as in CPython.
    var signalHandlers: [Int32: Value] = [:] {
        didSet {
            hasSignalHandlers = signalHandlers.contains { signo, h in
                guard case .obj(let o) = h else { return false }
                if signo == SIGINT, case .obj(let d) = defaultIntHandler, o === d { return false }
                return true
            }
        }
    }
    /// True while some signal has a Conc handler (other than SIGINT's default_int_handler):
    /// the main unit's waits may then end by a signal, so they never count as a deadlock.
    private(set) var hasSignalHandlers = false
    /// `signal.default_int_handler` (one object, so `getsignal` can return it).
    lazy var defaultIntHandler: Value = .obj(PyBuiltinFunction("default_int_handler") { _, _ in
        throw PyBaseException(type: Exc.keyboardInterrupt, args: [])
    })
    /// The `__main__` module's folder, searched first by imports.
    var scriptFolder: String? = nil
    /// Native module builders, by name.
    var nativeModules: [String: (Engine) -> PyModule] = [:]

    public convenience init(options: EngineOptions = EngineOptions()) {
        self.init(options: options, runsCode: true)
    }

    /// Engines alive in the process that run Conc code.
    private static let codeRunningEngines = Atomic<Int>(0)
    /// Whether this engine counts in ``codeRunningEngines`` (the bridge engine, which only
    /// hashes str and int keys, does not).
    private let runsCode: Bool

    init(options: EngineOptions, runsCode: Bool) {
        self.options = options
        self.runsCode = runsCode
        // Engines share the builtin types, whose caches (the creation hooks and shape
        // transitions of builtin exception classes) any engine may fill: with two engines
        // alive, they may run on two threads at once, so object locking goes on for good,
        // as when a program starts its first thread. (An engine already running when the
        // second is made may be inside an unlocked step that instant: engines made
        // while another runs take that small risk; the embedding API makes them one at a
        // time.)
        if runsCode && Engine.codeRunningEngines.add(1, ordering: .relaxed).newValue >= 2 { ObjectLocks.enable() }
        _ = Types.ready
        // Cells read values lock-free by their bytes (Cell, PyObject.swift).
        precondition(ValueLayout.verify(), "this Swift lays out Conc's Value differently: update ValueLayout")
        interruptFlag = .allocate(capacity: 1)
        interruptFlag.initialize(to: 0)
        gil = GIL(flag: interruptFlag, exclusive: options.globalInterpreterLock)
        // CPython's sys.stdin splits lines at "\n" only and keeps "\r" (create_stdio).
        var stdinText = TextOptions()
        stdinText.newline = "\n"
        stdinFile = PyFile(backing: .stdin, name: .str("<stdin>"), mode: "r", text: stdinText)
        builtins = makeBuiltins()
        registerNativeModules()
        // Made now, while one thread runs: lazy properties read by every unit later
        // (initialising one from two threads at once would race on its storage).
        _ = builtinsModule
        _ = sysModules
        mainUnit = Unit(engine: self, name: "MainThread")
        mainUnit.isMain = true
        mainUnit.setStackLimitFromThread()  // again by each entry point, on the thread it runs on
        units.add(mainUnit)
    }

    deinit {
        if runsCode { Engine.codeRunningEngines.subtract(1, ordering: .relaxed) }
        CConcSys_clear_interrupt_target(interruptFlag)
        interruptFlag.deallocate()
        classEpochWord.deallocate()
        recursionLimitWord.deallocate()
        importWord.deallocate()
        pthread_mutex_destroy(importMutex)
        importMutex.deallocate()
    }

    @inline(__always) var interruptRequested: Bool { CConcSys_atomic_load(interruptFlag) != 0 }

    /// Answers what the interrupt flag asks of `u`: hands the GIL over, or raises
    /// KeyboardInterrupt, TimeoutError or a detected DeadlockError (these three only in the
    /// main unit; other units leave them pending for it).
    func raisePendingInterrupt(_ u: Unit) throws {
        let bits = CConcSys_atomic_load(interruptFlag)
        if bits & InterruptBits.gilDrop != 0 && gil.active && u.holdsGIL { gil.yieldToWaiter() }
        guard u.isMain else { return }
        if bits & InterruptBits.deadlock != 0 {
            _ = CConcSys_atomic_and_not(interruptFlag, InterruptBits.deadlock)
            let report: String? = units.withLock { defer { u.pendingDeadlock = nil }; return u.pendingDeadlock }
            if let r = report { throw deadlockError(r) }
        }
        if bits & InterruptBits.timeout != 0 {
            _ = CConcSys_atomic_and_not(interruptFlag, InterruptBits.timeout | InterruptBits.keyboard)
            let e = pyError(Exc.timeoutError, "the program ran out of time")
            e.endsTheRun = true
            throw e
        }
        if bits & InterruptBits.signal != 0 {
            _ = CConcSys_atomic_and_not(interruptFlag, InterruptBits.signal)
            try runSignalHandlers(u)
        }
        if bits & InterruptBits.keyboard != 0 {
            _ = CConcSys_atomic_and_not(interruptFlag, InterruptBits.keyboard)
            throw PyBaseException(type: Exc.keyboardInterrupt, args: [])
        }
    }

    /// True when an embedding's timeout waits to stop the program.
    var timeoutPending: Bool { CConcSys_atomic_load(interruptFlag) & InterruptBits.timeout != 0 }

    /// True when Ctrl-C, a timeout, a deadlock report or a caught signal waits for the main unit.
    var mainInterruptPending: Bool {
        CConcSys_atomic_load(interruptFlag) & (InterruptBits.keyboard | InterruptBits.timeout | InterruptBits.deadlock | InterruptBits.signal) != 0
    }

    /// Asks the running program to stop with KeyboardInterrupt (thread-safe).
    public func interrupt() { _ = CConcSys_atomic_or(interruptFlag, InterruptBits.keyboard) }
    /// Asks the running program to stop with TimeoutError (thread-safe; the embedding's watchdog).
    public func requestTimeout() { _ = CConcSys_atomic_or(interruptFlag, InterruptBits.timeout) }
    /// Posts a timeout request to the engine owning `flag` (callable from any thread).
    public static func requestTimeout(_ flag: UnsafeMutablePointer<Int32>) { _ = CConcSys_atomic_or(flag, InterruptBits.timeout) }
    /// Drops a pending Ctrl-C or timeout request.
    public func clearPendingInterrupt() {
        _ = CConcSys_atomic_and_not(interruptFlag, InterruptBits.keyboard | InterruptBits.timeout)
    }
    /// Withdraws a timeout request that arrived after the run ended.
    public func cancelTimeoutRequest() { _ = CConcSys_atomic_and_not(interruptFlag, InterruptBits.timeout) }

    func moduleName(of g: Globals) -> String {
        g.get("__name__")?.asStr?.value ?? "__main__"
    }

    func isBuiltinModule(_ name: String) -> Bool { nativeModules[name] != nil }
    /// The names of CPython 3.11's builtins module, in its dict's order.
    static let cpythonBuiltinsOrder: [String] = [
        "__name__", "__doc__", "__package__", "__loader__", "__spec__", "__build_class__", "__import__", "abs", "all", "any", "ascii", "bin", "breakpoint", "callable", "chr", "compile", "delattr", "dir", "divmod", "eval", "exec", "format", "getattr", "globals", "hasattr", "hash", "hex", "id", "input", "isinstance", "issubclass", "iter", "aiter", "len", "locals", "max", "min", "next", "anext", "oct", "ord", "pow", "print", "repr", "round", "setattr", "sorted", "sum", "vars", "None", "Ellipsis", "NotImplemented", "False", "True", "bool", "memoryview", "bytearray", "bytes", "classmethod", "complex", "dict", "enumerate", "filter", "float", "frozenset", "property", "int", "list", "map", "object", "range", "reversed", "set", "slice", "staticmethod", "str", "super", "tuple", "type", "zip", "__debug__", "BaseException", "BaseExceptionGroup", "Exception", "GeneratorExit", "KeyboardInterrupt", "SystemExit", "ArithmeticError", "AssertionError", "AttributeError", "BufferError", "EOFError", "ImportError", "LookupError", "MemoryError", "NameError", "OSError", "ReferenceError", "RuntimeError", "StopAsyncIteration", "StopIteration", "SyntaxError", "SystemError", "TypeError", "ValueError", "Warning", "FloatingPointError", "OverflowError", "ZeroDivisionError", "BytesWarning", "DeprecationWarning", "EncodingWarning", "FutureWarning", "ImportWarning", "PendingDeprecationWarning", "ResourceWarning", "RuntimeWarning", "SyntaxWarning", "UnicodeWarning", "UserWarning", "BlockingIOError", "ChildProcessError", "ConnectionError", "FileExistsError", "FileNotFoundError", "InterruptedError", "IsADirectoryError", "NotADirectoryError", "PermissionError", "ProcessLookupError", "TimeoutError", "IndentationError", "IndexError", "KeyError", "ModuleNotFoundError", "NotImplementedError", "RecursionError", "UnboundLocalError", "UnicodeError", "BrokenPipeError", "ConnectionAbortedError", "ConnectionRefusedError", "ConnectionResetError", "TabError", "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeTranslateError", "ExceptionGroup", "EnvironmentError", "IOError", "open", "quit", "exit", "copyright", "credits", "license", "help"]

    /// Conc's stdlib modules that CPython compiles into the interpreter (no `__file__`):
    /// an ImportError from them says "(unknown location)", as CPython's does.
    static let cpythonBuiltinModules: Set<String> = ["atexit", "errno", "itertools", "_thread", "gc", "marshal",
                                                     "posix", "select", "array", "binascii", "unicodedata", "math", "sys", "time"]
    func modulePath(_ m: PyModule) -> String? { withImportMutex { modulePaths[m.name] } }

    // MARK: - Running source

    /// Parses and compiles `source` as module `name`, adding the compiler's warnings to
    /// `warnings` (shown by the caller, which may run Conc code: this may not).
    func compile(_ source: SourceFile, globals: Globals, interactive: Bool = false,
                 warnings: inout [CompileWarning]) throws -> CodeInfo {
        let ast = try Parser.parseModule(source)
        var compiler = Compiler(file: source, globals: globals, builtins: builtins, builtinsModule: builtinsModule.globals,
                                isInteractive: interactive, interned: internedStrings)
        let code = try compiler.compileModule(ast.body)
        warnings += compiler.warnings
        return code
    }

    /// ``compile(_:globals:interactive:warnings:)``, then shows the warnings in `unit`.
    func compile(_ source: SourceFile, globals: Globals, interactive: Bool = false, unit: Unit) throws -> CodeInfo {
        var warnings: [CompileWarning] = []
        let code = try compile(source, globals: globals, interactive: interactive, warnings: &warnings)
        try unit.showCompileWarnings(warnings, file: source)
        return code
    }

    /// Runs compiled module code in `unit`.
    func execute(_ code: CodeInfo, globals: Globals, unit: Unit) throws {
        let f = unit.frame(locals: unit.stack + unit.stackTop, code: code, globals: globals)
        f.function = nil
        f.classNamespace = nil
        unit.depth += 1
        let caller = unit.enterFrame(f)
        defer { unit.depth -= 1; unit.leaveFrame(caller) }
        do { _ = try code.body.exec(f) } catch let e as PyBaseException { e.needsLocation = true; throw e }
    }

    /// The package a module of dotted name `name` belongs to ("" for a top-level one).
    func parentPackage(of name: String) -> String { name.split(separator: ".").dropLast().joined(separator: ".") }

    /// Makes the globals of a new module, with CPython's entries in CPython's order (what
    /// `dir(module)` and `print(globals())` show). Conc has no loader or module spec
    /// objects: `__loader__` and `__spec__` are None. `__main__` gets its `__file__` (for a
    /// file) from ``runMain``.
    func newGlobals(name: String, file: String?) -> Globals {
        let g = Globals()
        let isMain = name == "__main__"
        let initFile = file.flatMap { f in ["/__init__.conc", "/__init__.py"].first { f.hasSuffix($0) } }
        let isPackage = initFile != nil
        g.set("__name__", .str(name))
        g.set("__doc__", .none)
        g.set("__package__", isMain ? .none : .str(isPackage ? name : parentPackage(of: name)))
        g.set("__loader__", .none)
        g.set("__spec__", .none)
        if isMain {
            g.set("__annotations__", .obj(PyDict()))
            g.set("__builtins__", .obj(builtinsModule))
            return g
        }
        if let initFile, let file {
            let folder = String(file.dropLast(initFile.count))
            g.set("__path__", .obj(PyList([.str(folder.isEmpty ? "." : folder)])))
        }
        if let file {
            g.set("__file__", .str(file))
            g.set("__cached__", .none)
        }
        g.set("__builtins__", .obj(builtinsModule))
        return g
    }

    lazy var builtinsModule: PyModule = {
        let g = Globals()
        g.set("__name__", .str("builtins"))
        // In CPython's order (its builtins dict's), then Conc's own, sorted: `vars(builtins)`
        // lists them so, and "Did you mean" takes the first of equally close names.
        for k in Engine.cpythonBuiltinsOrder { if let v = builtins[k] { g.set(k, v) } }
        let listed = Set(Engine.cpythonBuiltinsOrder)
        for (k, v) in builtins.sorted(by: { $0.key < $1.key }) where !listed.contains(k) { g.set(k, v) }
        g.builtinNames = Set(builtins.keys)
        return PyModule(name: "builtins", globals: g)
    }()

    /// Identifier-like string literals, one object each for the whole interpreter.
    let internedStrings = InternedStrings()

    /// The `__main__` module's globals (created on first use; the REPL keeps using them).
    public private(set) lazy var mainGlobals: Globals = newGlobals(name: "__main__", file: nil)

    /// Runs a whole program as `__main__`. Errors propagate as Swift errors
    /// (``SyntaxError`` or ``PyBaseException``).
    public func runMain(source: String, fileName: String, scriptFolder: String?) throws {
        mainUnit.setStackLimitFromThread()
        self.scriptFolder = scriptFolder
        // `-c` code and a piped script have no file to read lines back from.
        let file = SourceFile(name: fileName, text: source, linesInTracebacks: fileName != "<string>" && fileName != "<stdin>")
        // A script's file (`-c` code has none, as in CPython).
        if fileName != "<string>" {
            mainGlobals.set("__file__", .str(fileName))
            mainGlobals.set("__cached__", .none)
        }
        let code = try compile(file, globals: mainGlobals, unit: mainUnit)
        let main = PyModule(name: "__main__", globals: mainGlobals)
        modules["__main__"] = main
        try execute(code, globals: mainGlobals, unit: mainUnit)
    }

    /// Runs REPL input in the `__main__` globals; expression statements echo their repr.
    public func runInteractive(source: String, fileName: String = "<stdin>") throws {
        mainUnit.setStackLimitFromThread()
        let file = SourceFile(name: fileName, text: source)
        if modules["__main__"] == nil { modules["__main__"] = PyModule(name: "__main__", globals: mainGlobals) }
        let code = try compile(file, globals: mainGlobals, interactive: true, unit: mainUnit)
        try execute(code, globals: mainGlobals, unit: mainUnit)
    }

    /// Evaluates one expression in the `__main__` globals.
    public func evaluate(_ source: String) throws -> Value {
        mainUnit.setStackLimitFromThread()
        let file = SourceFile(name: "<string>", text: source)
        let expr = try Parser.parseExpression(file)
        var compiler = Compiler(file: file, globals: mainGlobals, builtins: builtins, builtinsModule: builtinsModule.globals,
                                interned: internedStrings)
        let code = try compiler.compileExpression(expr)
        let u = mainUnit!
        let f = u.frame(locals: u.stack + u.stackTop, code: code, globals: mainGlobals)
        f.function = nil
        f.classNamespace = nil
        u.depth += 1
        let caller = u.enterFrame(f)
        defer { u.depth -= 1; u.leaveFrame(caller) }
        do { return try code.expression!.eval(f) } catch let e as PyBaseException { e.needsLocation = true; throw e }
    }

    /// The end of a program (LANGUAGE.md §4): waits for every non-daemon unit; daemon
    /// threads are left to stop with the process, daemon processes get SIGTERM. Ctrl-C interrupts the wait (KeyboardInterrupt);
    /// after a DeadlockError nothing is waited for, as the blocked units can never finish.
    /// A program's end runs the two halves apart, with the atexit callbacks between them
    /// (see ``finishChildProcesses()``).
    public func waitForUnits() throws {
        try waitForThreads()
        try finishChildProcesses()
    }

    /// The first half of the end: the threads. As CPython's interpreter does, the
    /// threading module hears that the main program ended (main_thread() is no longer
    /// alive, and joining it returns) before the wait. After a DeadlockError its callbacks
    /// (e.g. a thread pool joining its workers) are skipped: the units they would wait for
    /// are blocked for good.
    public func waitForThreads() throws {
        let u = mainUnit!
        if let threading = modules["threading"], let shutdown = threading.globals.get("_shutdown") {
            // An exception from a _register_atexit callback is reported as CPython's
            // finalisation does ("Exception ignored in: <module 'threading' ...>"); the
            // exit status stays. KeyboardInterrupt and the end of a run go on out.
            do {
                _ = try u.call(shutdown, [.bool(!deadlocked)])
            } catch let e as PyBaseException where e.type.isSubtype(of: Exc.exception) && !e.endsTheRun {
                u.reportUnraisable(e, object: .obj(threading))
            }
        }
        // CPython's order: non-daemon threads first (they may still use daemon processes,
        // e.g. pool workers), then the processes.
        do {
            while !deadlocked {
                guard let h = units.nonDaemonHandle() else { break }
                _ = try h.wait(u, timeout: nil, atExit: true)
            }
        } catch let e as PyBaseException where e.type === Exc.deadlockError {
            // The deadlocked processes can never finish: they go now, before this one
            // exits (left running, each would report the same deadlock again, later).
            terminateDeadlockedProcesses()
            throw e
        }
    }

    /// The second half of the end: daemon child processes get SIGTERM, then the others
    /// are joined. A program runs it after its atexit callbacks, or where the callback
    /// multiprocessing registers at its first Process.start() comes among them (CPython's
    /// `util._exit_function`), so that a callback registered later runs before the
    /// children are joined.
    public func finishChildProcesses() throws {
        let u = mainUnit!
        do {
            terminateDeadlockedProcesses()
            terminateDaemonChildren()
            for h in children where !h.daemon { _ = try h.wait(u, timeout: nil, atExit: true) }
        } catch let e as PyBaseException where e.type === Exc.deadlockError {
            terminateDeadlockedProcesses()
            throw e
        }
        forgetChildren()
    }

    /// What ``finishChildProcesses()`` raised when multiprocessing's atexit callback ran it
    /// (a DeadlockError, a KeyboardInterrupt), or a Ctrl-C that stopped the atexit
    /// callbacks: the program's end reports it after them, as it would have from its own
    /// wait (and after a Ctrl-C kills the children). Main unit only.
    public var childProcessesError: PyBaseException?

    /// Defines a builtin-like global function in `__main__`.
    public func defineFunction(_ name: String, _ fn: @escaping NativeFunction) {
        mainGlobals.set(name, .obj(PyBuiltinFunction(name, fn)))
    }
}
