// The public embedding API: one object per independent interpreter.
import ConcInterpreter
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

/// A Conc interpreter embedded in a Swift program.
///
///     let conc = Interpreter(output: .capture)
///     try conc.run("print(sum(range(10)))")
///     conc.capturedOutput          // "45\n"
///
/// Interpreters are independent: several may live in one process. One interpreter runs one
/// program at a time (calls must not overlap); `interrupt()` may be called from any thread.
public final class Interpreter: @unchecked Sendable {  // mutable state is touched only by the thread running it, except `interrupt` (an atomic-width flag)
    /// Where a stream goes.
    public enum Output: Sendable {
        /// The process's own stdout/stderr.
        case standard
        /// Collected in ``capturedOutput`` / ``capturedErrors``.
        case capture
        /// Passed to a closure, one write at a time.
        case handler(@Sendable (String) -> Void)
    }

    let engine: Engine
    private let captured = CaptureBuffer()
    /// Set by ``runScript(_:fileName:scriptFolder:finish:)`` when the program's main code ended
    /// with an uncaught KeyboardInterrupt: the `conc` command then ends itself with SIGINT, as
    /// CPython 3.8+ does, so that the shell or parent sees "killed by Ctrl-C" (status −2 to
    /// a parent, 130 in a shell). Read and written by the thread running the program.
    public internal(set) var endedByKeyboardInterrupt = false
    private let capturedErr = CaptureBuffer()

    /// Creates an interpreter.
    /// - Parameters:
    ///   - output: where `print` writes.
    ///   - errors: where tracebacks go.
    ///   - argv: `sys.argv`.
    ///   - searchPaths: extra module folders (like `CONC_PATH`).
    ///   - input: reads a line for `input()` and `sys.stdin` (nil at end of input; a missing
    ///     final "\n" is added); standard input by default.
    ///   - gil: run threads under a global interpreter lock, one at a time, switched every
    ///     5 ms (as `conc --gil` and CPython do), instead of in parallel.
    public init(output: Output = .standard, errors: Output = .standard, argv: [String] = [""], searchPaths: [String] = [],
                input: (() -> String?)? = nil, gil: Bool = false) {
        var o = EngineOptions()
        o.globalInterpreterLock = gil
        // Each string is one line, with or without its "\n" (sys.stdin needs it to split).
        if let input = input { o.readLine = { input().map { $0.unicodeScalars.last == "\n" ? $0 : $0 + "\n" } } }
        o.argv = argv
        o.searchPaths = searchPaths
        o.stdlibPath = Interpreter.locateStdlib()
        let cap = captured, capErr = capturedErr
        o.stdout = Interpreter.sink(output, fd: 1, capture: cap)
        o.stderr = Interpreter.sink(errors, fd: 2, capture: capErr)
        // Engine.init is not safe to run on two threads at once: makeBuiltins() stores the
        // constructors of the process-wide enumerate/zip/map/filter types, and two racing
        // stores release the old closure twice. Creating engines one at a time keeps
        // interpreters made on different threads from crashing the process.
        engine = Interpreter.creation.withLock { Engine(options: o) }
    }

    /// Serialises engine creation (see ``init(output:errors:argv:searchPaths:input:)``).
    private static let creation = CreationLock()

    private static func sink(_ o: Output, fd: Int32, capture: CaptureBuffer) -> OutputSink {
        switch o {
        case .standard: return OutputSink(.fd(fd), lineBuffered: fd == 2 ? true : nil)
        case .capture: return OutputSink(.closure({ capture.append($0) }))
        case .handler(let h): return OutputSink(.closure(h))
        }
    }

    /// Everything printed so far (with `output: .capture`).
    public var capturedOutput: String { captured.text }
    /// Everything written to stderr so far (with `errors: .capture`).
    public var capturedErrors: String { capturedErr.text }

    /// Runs a program in this interpreter's `__main__` module.
    /// - Throws: ``ConcError`` for syntax errors, uncaught exceptions and `sys.exit`.
    public func run(_ source: String, fileName: String = "<string>", timeout: Double? = nil) throws {
        try withTimeout(timeout) {
            try engine.runMain(source: source, fileName: fileName, scriptFolder: nil)
        }
    }

    /// Evaluates one expression and converts its value.
    public func evaluate(_ expression: String, timeout: Double? = nil) throws -> ConcValue {
        var result: ConcValue = .none
        try withTimeout(timeout) {
            let v = try engine.evaluate(expression)
            result = ConcValue(v, engine.mainUnit)
        }
        return result
    }

    /// Makes a Swift closure callable from Conc as a global function.
    ///
    /// The closure gets the positional arguments; a call with keyword arguments raises
    /// TypeError, as for CPython's builtins. A ``ConcError`` it throws becomes a Conc
    /// exception of that kind (catchable with `try`/`except`); any other Swift error a
    /// `RuntimeError`.
    public func define(_ name: String, _ body: @escaping ([ConcValue]) throws -> ConcValue) {
        engine.defineFunction(name) { u, args in
            if !args.keywords.isEmpty {
                throw ConcInterpreter.raise(kind: "TypeError", message: "\(name)() takes no keyword arguments")
            }
            do {
                return try body(args.positional.map { ConcValue($0, u) }).conc
            } catch let e as ConcError {
                throw ConcInterpreter.raise(kind: e.kind, message: e.message)
            } catch {
                throw ConcInterpreter.raise(kind: "RuntimeError", message: "\(error)")
            }
        }
    }

    /// Reads or sets a global variable of `__main__`.
    public subscript(global name: String) -> ConcValue? {
        get { engine.global(name).map { ConcValue($0, engine.mainUnit) } }
        set { engine.setGlobal(name, newValue?.conc ?? .none) }
    }

    /// Stops the running program with KeyboardInterrupt (callable from any thread).
    public func interrupt() { engine.interrupt() }

    /// Runs `body`, turning Conc failures into ``ConcError``; a watchdog thread requests a
    /// TimeoutError when `timeout` seconds pass first.
    private func withTimeout(_ timeout: Double?, _ body: () throws -> Void) throws {
        let flag = engine.interruptFlag
        let watchdog = timeout.map { Watchdog(seconds: $0, flag: flag) }
        defer {
            // A timeout that fired (as the run was ending, too) must not stop the next run,
            // nor leave finalizers of this run queued for it.
            if watchdog?.cancel() == true {
                engine.cancelTimeoutRequest()
                engine.discardQueuedFinalizers()
            }
            engine.flushOutput()
        }
        do { try body() }
        catch let s as SyntaxError { throw ConcError(syntax: s) }
        catch let e as PyBaseException { throw ConcError(exception: e, unit: engine.mainUnit) }
    }

    /// The stdlib folder next to the build (`<repo>/stdlib` for `.build/<config>/conc`), if present.
    static func locateStdlib() -> String? {
        if let home = getenv("CONC_HOME") { return String(cString: home) + "/stdlib" }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, 4095)
        guard n > 0 else { return nil }
        var dir = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for _ in 0..<4 {
            guard let slash = dir.lastIndex(of: "/") else { break }
            dir = String(dir[..<slash])
            var st = stat()
            if stat(dir + "/stdlib/json.conc", &st) == 0 { return dir + "/stdlib" }
        }
        return nil
    }
}

/// A process-wide mutex (pthread, as the rest of this module uses).
final class CreationLock: @unchecked Sendable {  // the mutex is initialised once and never moved (heap-allocated)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// Thread-safe text accumulator for captured output.
final class CaptureBuffer: @unchecked Sendable {  // guarded by `lock`
    private var lock = pthread_mutex_t()
    private var parts: [String] = []
    init() { pthread_mutex_init(&lock, nil) }
    func append(_ s: String) { pthread_mutex_lock(&lock); parts.append(s); pthread_mutex_unlock(&lock) }
    var text: String { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; return parts.joined() }
}

/// Sets an interpreter's interrupt flag to "timeout" after a delay unless cancelled, and
/// again every ``repeatInterval`` seconds until cancelled: a program that catches the first
/// TimeoutError is still stopped.
final class Watchdog: @unchecked Sendable {  // `cancelled` and `fired` are guarded by `lock`; the flag is an aligned Int32 the interpreter polls
    private var lock = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var cancelled = false
    /// True once the deadline has passed and the flag has been set.
    private var fired = false
    private var thread = pthread_t()
    /// Seconds between repeated timeout requests once the deadline has passed.
    static let repeatInterval = 0.05

    init(seconds: Double, flag: UnsafeMutablePointer<Int32>) {
        pthread_mutex_init(&lock, nil)
        pthread_cond_init(&cond, nil)
        let box = Unmanaged.passRetained(WatchdogTask(owner: self, seconds: seconds, flag: flag)).toOpaque()
        pthread_create(&thread, nil, { arg in
            let task = Unmanaged<WatchdogTask>.fromOpaque(arg!).takeRetainedValue()
            task.owner.wait(task.seconds, task.flag)
            return nil
        }, box)
    }

    fileprivate func wait(_ seconds: Double, _ flag: UnsafeMutablePointer<Int32>) {
        var deadline = Watchdog.clockTime(after: seconds)
        pthread_mutex_lock(&lock)
        while !cancelled {
            if pthread_cond_timedwait(&cond, &lock, &deadline) == ETIMEDOUT {
                Engine.requestTimeout(flag)
                fired = true
                deadline = Watchdog.clockTime(after: Watchdog.repeatInterval)
            }
        }
        pthread_mutex_unlock(&lock)
    }

    /// The CLOCK_REALTIME time `seconds` from now, as `pthread_cond_timedwait` wants it.
    private static func clockTime(after seconds: Double) -> timespec {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let total = Double(ts.tv_nsec) / 1e9 + seconds
        ts.tv_sec += Int(total)
        ts.tv_nsec = Int((total - Double(Int(total))) * 1e9)
        return ts
    }

    /// Stops the watchdog and waits for its thread; returns true when the deadline had passed.
    @discardableResult
    func cancel() -> Bool {
        pthread_mutex_lock(&lock)
        cancelled = true
        let didFire = fired
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&lock)
        pthread_join(thread, nil)
        return didFire
    }
}

private final class WatchdogTask {
    let owner: Watchdog
    let seconds: Double
    let flag: UnsafeMutablePointer<Int32>
    init(owner: Watchdog, seconds: Double, flag: UnsafeMutablePointer<Int32>) { self.owner = owner; self.seconds = seconds; self.flag = flag }
}
