// `_signal`: CPython's signal module (stdlib/signal.conc adds the Signals, Handlers and
// Sigmasks enums over it, as CPython's signal.py does over its own `_signal`), on a C
// handler that only records the signal (CConcSys: a pending-set bit and
// InterruptBits.signal in the engine's interrupt flag).
// The main unit runs the Conc handler `handler(signum, None)` at its next poll point, which
// includes every wait it may be blocked in (park, sleep): the signal ends the wait with
// EINTR, the handler runs, and the wait goes on unless the handler raised.
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// The signal numbers the module names, in CPython's order of `signal.Signals`.
    static let signalNames: [(String, Int32)] = [
        ("SIGHUP", SIGHUP), ("SIGINT", SIGINT), ("SIGQUIT", SIGQUIT), ("SIGILL", SIGILL), ("SIGTRAP", SIGTRAP),
        ("SIGABRT", SIGABRT), ("SIGBUS", SIGBUS), ("SIGFPE", SIGFPE), ("SIGKILL", SIGKILL), ("SIGUSR1", SIGUSR1),
        ("SIGSEGV", SIGSEGV), ("SIGUSR2", SIGUSR2), ("SIGPIPE", SIGPIPE), ("SIGALRM", SIGALRM), ("SIGTERM", SIGTERM),
        ("SIGCHLD", SIGCHLD), ("SIGCONT", SIGCONT), ("SIGSTOP", SIGSTOP), ("SIGTSTP", SIGTSTP), ("SIGTTIN", SIGTTIN),
        ("SIGTTOU", SIGTTOU), ("SIGURG", SIGURG), ("SIGXCPU", SIGXCPU), ("SIGXFSZ", SIGXFSZ), ("SIGVTALRM", SIGVTALRM),
        ("SIGPROF", SIGPROF), ("SIGWINCH", SIGWINCH), ("SIGIO", SIGIO), ("SIGSYS", SIGSYS),
        ("SIGPWR", SIGPWR), ("SIGSTKFLT", SIGSTKFLT), ("SIGRTMIN", 34), ("SIGRTMAX", 64),
        // Linux's other names for three of them (Signals aliases, as in CPython).
        ("SIGCLD", SIGCHLD), ("SIGIOT", SIGABRT), ("SIGPOLL", SIGIO),
    ]
    /// NSIG on Linux.
    static let signalCount: Int32 = 65

    /// Runs the Conc handler of every signal caught since the last call, lowest number first.
    /// If a handler raises, the signals not yet handled stay pending for the next poll and
    /// the exception propagates from where the main unit was.
    func runSignalHandlers(_ u: Unit) throws {
        var mask = CConcSys_take_pending_signals()
        while mask != 0 {
            let bit = UInt64(mask.trailingZeroBitCount)
            mask &= ~(1 << bit)
            let signo = Int32(bit) + 1
            guard let h = signalHandlers[signo], case .obj = h else { continue }  // SIG_DFL/SIG_IGN since
            do {
                // The frame the main unit was running when the signal came, as CPython's.
                let frame: Value = u.captureStack(skip: 0).map { .obj($0) } ?? .none
                _ = try u.call(h, [.int(Int(signo)), frame])
            } catch {
                CConcSys_repost_signals(mask)
                throw error
            }
        }
    }

    /// What `getsignal(signo)` reports: the Conc handler, SIG_DFL (0), SIG_IGN (1),
    /// `default_int_handler`, or None for a handler installed outside Conc.
    func currentSignalHandler(_ signo: Int32) -> Value {
        if let h = signalHandlers[signo] { return h }
        switch CConcSys_signal_get(signo) {
        case Int32(CONC_SIGNAL_DEFAULT): return .int(0)
        case Int32(CONC_SIGNAL_IGNORE): return .int(1)
        case Int32(CONC_SIGNAL_KEYBOARD): return defaultIntHandler
        default: return .none
        }
    }

    func makeSignalModule() -> PyModule {
        var entries: [(String, Value)] = Engine.signalNames.map { ($0.0, .int(Int($0.1))) }
        entries += [
            ("SIG_DFL", .int(0)), ("SIG_IGN", .int(1)), ("NSIG", .int(Int(Engine.signalCount))),
            ("SIG_BLOCK", .int(Int(SIG_BLOCK))), ("SIG_UNBLOCK", .int(Int(SIG_UNBLOCK))), ("SIG_SETMASK", .int(Int(SIG_SETMASK))),
            ("ITIMER_REAL", .int(Int(ITIMER_REAL.rawValue))), ("ITIMER_VIRTUAL", .int(Int(ITIMER_VIRTUAL.rawValue))),
            ("ITIMER_PROF", .int(Int(ITIMER_PROF.rawValue))),
            ("default_int_handler", defaultIntHandler),
            native("setitimer") { u, a in
                try a.expect("setitimer", 2, 3)
                let which = try itimerWhich(u, a[0])
                var new = itimerval(it_interval: try timeval(seconds: try u.floatArg(a.count > 2 ? a[2] : .float(0))),
                                    it_value: try timeval(seconds: try u.floatArg(a[1])))
                var old = itimerval()
                if setitimer(which, &new, &old) != 0 { throw osError(errno) }
                return itimerTuple(old)
            },
            native("getitimer") { u, a in
                try a.expect("getitimer", 1, 1)
                var now = itimerval()
                if getitimer(try itimerWhich(u, a[0]), &now) != 0 { throw osError(errno) }
                return itimerTuple(now)
            },
            native("pthread_sigmask") { u, a in
                // On the calling unit's own OS thread, as CPython's is on the calling thread.
                try a.expect("pthread_sigmask", 2, 2)
                let how = try u.cIntArg(a[0])
                var set = sigset_t(), old = sigset_t()
                sigemptyset(&set)
                for v in try u.toArray(a[1]) { sigaddset(&set, try signalNumber(u, v)) }
                let rc = pthread_sigmask(how, &set, &old)
                if rc != 0 { throw osError(rc) }
                return try signalSet(u, old)
            },
            native("sigpending") { u, a in
                try a.expect("sigpending", 0, 0)
                var set = sigset_t()
                if sigpending(&set) != 0 { throw osError(errno) }
                return try signalSet(u, set)
            },
            native("siginterrupt") { u, a in
                // Conc's waits always wake for a handled signal, run the handler and go on
                // (PEP 475), whatever this flag says.
                try a.expect("siginterrupt", 2, 2)
                _ = try signalNumber(u, a[0])
                return .none
            },
            native("signal") { u, a in
                try a.expect("signal", 2, 2)
                guard u.isMain else { throw valueError("signal only works in main thread of the main interpreter") }
                let signo = try signalNumber(u, a[0])
                let handler = a[1]
                let mode: Int32
                // SIG_DFL and SIG_IGN are compared by value (they are Handlers members).
                switch (u.intValue(handler), handler) {
                case (0?, _): mode = Int32(CONC_SIGNAL_DEFAULT)
                case (1?, _): mode = Int32(CONC_SIGNAL_IGNORE)
                case (_, .obj) where isCallableValue(u, handler):
                    let isDefault: Bool = {
                        if case .obj(let x) = handler, case .obj(let d) = u.engine.defaultIntHandler { return x === d }
                        return false
                    }()
                    mode = Int32(isDefault && signo == SIGINT ? CONC_SIGNAL_KEYBOARD : CONC_SIGNAL_HANDLER)
                default:
                    throw typeError("signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object")
                }
                let engine = u.engine
                let previous = engine.currentSignalHandler(signo)
                if mode == Int32(CONC_SIGNAL_HANDLER) { CConcSys_set_interrupt_target(engine.interruptFlag) }
                if CConcSys_signal_set(signo, mode) != 0 { throw osError(errno) }
                switch mode {
                case Int32(CONC_SIGNAL_DEFAULT): engine.signalHandlers[signo] = .int(0)
                case Int32(CONC_SIGNAL_IGNORE): engine.signalHandlers[signo] = .int(1)
                default: engine.signalHandlers[signo] = handler
                }
                return previous
            },
            native("getsignal") { u, a in
                try a.expect("getsignal", 1, 1)
                return u.engine.currentSignalHandler(try signalNumber(u, a[0]))
            },
            native("alarm") { u, a in
                try a.expect("alarm", 1, 1)
                let n = try u.cIntArg(a[0])
                if n < 0 { throw overflowError("Python int too large to convert to C unsigned long") }
                return .int(Int(alarm(UInt32(n))))
            },
            native("pause") { u, a in
                try a.expect("pause", 0, 0)
                // Until a signal is handled (its handler ran, or it raised).
                try u.blockingCall {
                    while !(u.isMain && u.engine.mainInterruptPending) {
                        var ts = timespec(tv_sec: 0, tv_nsec: 50_000_000)
                        nanosleep(&ts, nil)
                    }
                }
                try u.checkInterrupt()
                return .none
            },
            native("raise_signal") { u, a in
                try a.expect("raise_signal", 1, 1)
                let signo = try signalNumber(u, a[0])
                // Unit threads block the handled signals: from one of them, send it to the
                // process (the main unit's thread takes it), not to the calling thread.
                if (u.isMain ? raise(signo) : kill(getpid(), signo)) != 0 { throw osError(errno) }
                try u.checkInterrupt()
                return .none
            },
            native("strsignal") { u, a in
                try a.expect("strsignal", 1, 1)
                let signo = try signalNumber(u, a[0])
                guard let s = strsignal(signo) else { return .none }
                let text = String(cString: s)
                return text.hasPrefix("Unknown signal") || text.hasPrefix("Real-time signal") ? .none : .str(text)
            },
            native("valid_signals") { u, a in
                try a.expect("valid_signals", 0, 0)
                let s = PySet()
                for n in 1..<Int(Engine.signalCount) { try s.add(u, .int(n)) }
                return .obj(s)
            },
        ]
        return nativeModule("_signal", entries)
    }
}

/// A signal number argument: an int in 1..<NSIG (ValueError otherwise).
private func signalNumber(_ u: Unit, _ v: Value) throws -> Int32 {
    let n = try u.cIntArg(v)
    if n < 1 || n >= Engine.signalCount { throw valueError("signal number out of range") }
    return n
}

/// The `which` argument of setitimer/getitimer.
private func itimerWhich(_ u: Unit, _ v: Value) throws -> __itimer_which_t {
    let n = try u.toIndex(v)
    guard n >= 0 && n <= 2 else { throw osError(EINVAL) }
    return __itimer_which_t(Int32(n))
}

private extension timeval {
    /// `seconds`, rounded up to the microsecond so that a tiny positive delay still arms
    /// the timer; a negative delay is setitimer's EINVAL, one past the clock's range
    /// CPython's OverflowError.
    init(seconds: Double) throws {
        if seconds.isNaN { throw valueError("Invalid value NaN (not a number)") }
        if seconds < 0 { throw osError(EINVAL) }
        let micros = (seconds * 1_000_000).rounded(.up)
        guard micros < 0x1p62 else {
            throw overflowError(seconds.isInfinite ? "timestamp out of range for platform time_t" : "timestamp too large to convert to C _PyTime_t")
        }
        let whole = Int(micros)
        self.init(tv_sec: whole / 1_000_000, tv_usec: whole % 1_000_000)
    }
    var seconds: Double { Double(tv_sec) + Double(tv_usec) / 1_000_000 }
}

/// `(delay, interval)` in seconds, as setitimer/getitimer return them.
private func itimerTuple(_ t: itimerval) -> Value {
    .obj(PyTuple([.float(t.it_value.seconds), .float(t.it_interval.seconds)]))
}

/// The signal numbers in `set`, as a Python set of ints.
private func signalSet(_ u: Unit, _ set: sigset_t) throws -> Value {
    var set = set
    let s = PySet()
    for n in 1..<Engine.signalCount where sigismember(&set, n) == 1 { try s.add(u, .int(Int(n))) }
    return .obj(s)
}

/// `callable(v)`.
private func isCallableValue(_ u: Unit, _ v: Value) -> Bool {
    guard case .obj(let o) = v else { return false }
    if o is PyFunction || o is PyBuiltinFunction || o is PyBoundMethod || o is PyBoundBuiltin || o is PyType || o is PyMethodDescriptor { return true }
    return u.lookupSpecial(v, "__call__") != nil
}
