// `thread f(args)`: a real pthread running a new unit, and the handle Conc code gets back.
import CConcShared
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// The handle of a started unit (`thread f()` today; processes and green threads later):
/// join, is_alive, name, daemon, ident, native_id.
///
/// `done` is a futex word written once by the unit's thread when it finishes, after
/// `result`/`error` are set; readers look at those only after seeing `done == 1`.
final class PyUnitHandle: PyObject, @unchecked Sendable {  // result/error are published by the release-store of `done`
    enum Kind: String { case thread, process, green }
    let kind: Kind
    let name: String
    let daemon: Bool
    /// `pthread_self()` of the unit's thread (`ident`).
    var ident: Int = 0
    /// The kernel thread id (`native_id`); set by the thread before `started` is posted.
    var nativeID: Int = 0
    /// 0 until the unit's thread has started, then 1 (a futex word).
    let started: UnsafeMutablePointer<UInt32>
    /// 0 while the unit runs, 1 once it finished (a futex word).
    let done: UnsafeMutablePointer<UInt32>
    /// Joiners sleeping on `done`.
    let waiters: UnsafeMutablePointer<Int32>
    /// The unit's return value, once done.
    var result: Value = .none
    /// The unit's uncaught exception, once done.
    var error: PyBaseException?
    /// The unit itself (while it runs), so `join` can refuse to join itself.
    weak var unit: Unit?
    /// For a spawned process: its pid, outcome channel and exit status.
    var process: ProcessState?

    init(kind: Kind, name: String, daemon: Bool) {
        self.kind = kind; self.name = name; self.daemon = daemon
        started = .allocate(capacity: 2)
        started.initialize(repeating: 0, count: 2)
        done = started + 1
        waiters = .allocate(capacity: 1)
        waiters.initialize(to: 0)
        super.init(type: Types.unitHandle)
    }

    deinit { started.deallocate(); waiters.deallocate() }

    var isDone: Bool {
        if let p = process { return p.reap(wait: false) }
        return __atomicLoad(done) != 0
    }

    /// Waits for the unit to finish: true when it did, false after `timeout` seconds.
    func wait(_ u: Unit, timeout: Double?) throws -> Bool {
        if let p = process {
            // Woken when the child posts its outcome (just before it exits), or at the next
            // nap when it died without one. Never counted as a deadlock: a process may
            // depend on things outside this one.
            let q = p.outcome
            let reason = BlockReason(describe: { [name] in "waits in join() for process \(name) to finish" },
                                     holder: { nil }, stillBlocked: { false }, word: q.seqWord)
            return try u.park(word: q.seqWord, waiters: .primitive(q.prim), timeout: timeout, reason: reason) {
                if p.reap(wait: false) { return true }
                if conc_queue_empty(q.prim) == 0 { return p.reap(wait: true) }
                return false
            }
        }
        let reason = BlockReason(describe: { [kind, name] in "waits in join() for \(kind.rawValue) \(name) to finish" },
                                 holder: { [weak self] in self?.unit }, stillBlocked: { [done] in __atomicLoad(done) == 0 },
                                 word: done)
        return try u.park(word: done, waiters: .counter(waiters), timeout: timeout, reason: reason) { [done] in
            __atomicLoad(done) != 0
        }
    }

    /// Marks the unit finished and wakes its joiners.
    func finish() {
        __atomicStore(done, 1)
        if CConcSys_atomic_load(waiters) > 0 { conc_futex_wake(done, Int32.max) }
    }
}

/// What a new thread needs to start: passed through pthread_create as one retained box.
private final class ThreadStart {
    let unit: Unit
    let callee: Value
    let args: Args
    let handle: PyUnitHandle
    init(unit: Unit, callee: Value, args: Args, handle: PyUnitHandle) {
        self.unit = unit; self.callee = callee; self.args = args; self.handle = handle
    }
}

extension Unit {
    /// Bytes of machine stack for each thread unit (lazily committed; the recursion guard
    /// checks the real bound).
    static let threadStackSize = 16 << 20

    /// Starts `callee(args)` on a new pthread and returns its handle once the thread runs.
    func startThread(_ callee: Value, _ args: Args, name: String?, daemon: Bool?) throws -> PyUnitHandle {
        let registry = engine.units
        let unitName = name ?? "Thread-\(registry.nextThreadNumber())"
        let handle = PyUnitHandle(kind: .thread, name: unitName, daemon: daemon ?? isDaemon)
        let unit = Unit(engine: engine, name: unitName, stackCapacity: 1 << 16)
        unit.isDaemon = handle.daemon
        unit.handle = handle
        handle.unit = unit
        if !engine.gil.active {
            engine.gil.activate()
            holdsGIL = true
        }
        registry.add(unit)
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setstacksize(&attr, Unit.threadStackSize)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        var tid = pthread_t()
        let box = Unmanaged.passRetained(ThreadStart(unit: unit, callee: callee, args: args, handle: handle)).toOpaque()
        let rc = pthread_create(&tid, &attr, { arg in
            let start = Unmanaged<ThreadStart>.fromOpaque(arg!).takeRetainedValue()
            start.unit.runThreadBody(start.callee, start.args, start.handle)
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<ThreadStart>.fromOpaque(box).release()
            _ = registry.remove(unit)
            throw pyError(Exc.runtimeError, "can't start new thread (\(String(cString: strerror(rc))))")
        }
        handle.ident = Int(bitPattern: UInt(tid))
        // Wait until the thread runs, as CPython's Thread.start does, so native_id is known.
        _ = try park(word: handle.started, timeout: nil,
                     reason: BlockReason(describe: { "waits for \(unitName) to start" }, holder: { nil }, stillBlocked: { false }, word: nil)) {
            __atomicLoad(handle.started) != 0
        }
        return handle
    }

    /// The body of a thread unit: run the call, report an uncaught exception, finish.
    fileprivate func runThreadBody(_ callee: Value, _ args: Args, _ handle: PyUnitHandle) {
        CConcSys_block_sigint(1)  // Ctrl-C is for the main unit's thread
        setStackLimitFromThread()
        nativeID = Int(CConcSys_gettid())
        handle.nativeID = nativeID
        __atomicStore(handle.started, 1)
        conc_futex_wake(handle.started, Int32.max)
        acquireGIL()
        do {
            var r = try call(callee, args)
            if case .obj(let o) = r, let g = o as? PyGenerator, g.type === Types.coroutine {
                while try g.resume(self, send: .none) != nil {}
                r = g.returnValue
            }
            handle.result = r
        } catch let e as PyBaseException {
            handle.error = e
            if !e.isSystemExit {
                engine.stderr.write("Exception in \(handle.kind.rawValue) \(handle.name):\n" + formatException(e))
            }
        } catch {
            engine.stderr.write("Exception in \(handle.kind.rawValue) \(handle.name):\ninternal error: \(error)\n")
        }
        // Finish first: a joiner of this unit must not look deadlocked to the check below.
        handle.finish()
        let found = engine.units.remove(self)
        if let d = found, let main = d.main { engine.postDeadlock(d.report, to: main) }
        releaseGIL()
    }
}
