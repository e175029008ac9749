// The handle Conc code gets from `thread f()` or `spawn f()`: join, is_alive, name,
// daemon, ident/native_id (threads), pid/exitcode (processes). Its methods are in
// HandleMethods.swift.
import CConcShared
import Synchronization
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
    /// Set once the program has read `native_id` (the handle's, or the unit's own
    /// `get_native_id()`): the unit's OS thread then ends with it instead of going back to
    /// the pool, so the id stays the unit's own, as CPython's tests expect. Any unit may set it.
    let nativeIDSeen = Atomic<Bool>(false)
    /// 0 until the unit's thread has started, then 1 (a futex word).
    let started: UnsafeMutablePointer<UInt32>
    /// 0 while the unit runs, 1 once it finished (a futex word).
    let done: UnsafeMutablePointer<UInt32>
    /// 0 until a new thread unit first blocks (sleeps, waits, does I/O) or ends, then 1
    /// (a futex word): its starter waits for it, as CPython's thread start gives the new
    /// thread the GIL until then (``Unit/startThread(_:_:name:daemon:)``).
    let handedOff: UnsafeMutablePointer<UInt32>
    /// Joiners sleeping on `done`.
    let waiters: UnsafeMutablePointer<Int32>
    /// Posted by a thread unit's OS thread once it holds no reference to this handle any
    /// more (``Unit/startThread(_:_:name:daemon:)``). join() waits for it after `done`, so
    /// that when the joiner drops the handle what the handle keeps (the thread's result, a
    /// generator left suspended in it) is freed then, in the joiner's thread. Shared with
    /// the thread, which may post it after the handle is gone.
    let letGo = FutexWord()
    /// True for a thread started by ``Unit/startThread(_:_:name:daemon:)``, whose OS thread
    /// posts ``letGo``; set before the thread starts.
    var postsLetGo = false
    /// The unit's return value, once done.
    var result: Value = .none
    /// The unit's uncaught exception, once done.
    var error: PyBaseException?
    /// The unit's number in this process, so `join` can refuse to join itself and a
    /// deadlock report can find it. (Not a weak reference: a weakly referenced Swift object
    /// takes the slow reference-counting path on every retain, and units are retained on
    /// hot paths.)
    var unitNumber: UInt32 = 0
    /// For a spawned process: its pid, outcome channel and exit status.
    var process: ProcessState?

    init(kind: Kind, name: String, daemon: Bool) {
        self.kind = kind; self.name = name; self.daemon = daemon
        started = .allocate(capacity: 3)
        started.initialize(repeating: 0, count: 3)
        done = started + 1
        handedOff = started + 2
        waiters = .allocate(capacity: 1)
        waiters.initialize(to: 0)
        super.init(type: Types.unitHandle)
    }

    deinit { WeakReferents.noteDeath(self); started.deallocate(); waiters.deallocate() }

    var isDone: Bool {
        if let p = process { return p.reap(wait: false) }
        return __atomicLoad(done) != 0
    }

    /// Waits for the unit to finish: true when it did, false after `timeout` seconds.
    /// `atExit`: the wait of the program's end for a non-daemon thread (a deadlock report
    /// says so rather than naming a join() the learner never wrote).
    func wait(_ u: Unit, timeout: Double?, atExit: Bool = false) throws -> Bool {
        if let p = process {
            // Woken when the child posts its outcome (just before it exits), or at the next
            // nap when it died without one. Never counted as a deadlock: a process may
            // depend on things outside this one. The blocking reap runs under the unit
            // registry's lock, but only once the outcome is posted (the child is exiting).
            let q = p.outcome
            let reason = BlockReason(describe: { [name] in
                                         atExit ? "has reached the end of the program and waits for non-daemon process \(name) to finish"
                                                : "waits in join() for process \(name) to finish" },
                                     holder: { nil },
                                     stillBlocked: { !p.reap(wait: false) && conc_queue_empty(q.prim) != 0 },
                                     word: q.seqWord,
                                     otherProcess: { (1 << 32) | UInt64(UInt32(bitPattern: p.pid)) })
            return try u.park(word: q.seqWord, waiters: .primitive(q.prim), timeout: timeout, crossProcess: true, reason: reason) {
                if p.reap(wait: false) { return true }
                if conc_queue_empty(q.prim) == 0 { return p.reap(wait: true) }
                return false
            }
        }
        let reason = BlockReason(describe: { [kind, name] in
                                     atExit ? "has reached the end of the program and waits for non-daemon \(kind.rawValue) \(name) to finish"
                                            : "waits in join() for \(kind.rawValue) \(name) to finish" },
                                 holder: { [unitNumber, engine = u.engine] in engine.units.unit(number: unitNumber) },
                                 stillBlocked: { [done] in __atomicLoad(done) == 0 },
                                 word: done, isJoin: true)
        guard try u.park(word: done, waiters: .counter(waiters), timeout: timeout, reason: reason, attempt: { [done] in
            __atomicLoad(done) != 0
        }) else { return false }
        // Moments after `done` (bounded: a fork may have come in between in a child).
        if postsLetGo { letGo.wait(atMost: 0.05) }
        return true
    }

    /// For a finished process: moves the outcome it posted, `(True, result)` or
    /// `(False, exception)`, into `result`/`error` (once; later calls find the queue empty).
    func takeProcessOutcome(_ u: Unit) throws {
        guard let q = process?.outcome, conc_queue_empty(q.prim) == 0,
              case .obj(let o) = try q.get(u, block: false, timeout: nil), let t = o as? PyTuple, t.items.count == 2
        else { return }
        if case .bool(true) = t.items[0] { result = t.items[1] }
        else if case .obj(let eo) = t.items[1], let e = eo as? PyBaseException { error = e }
    }

    /// Marks the unit finished and wakes its joiners.
    func finish() {
        __atomicStore(done, 1)
        if CConcSys_atomic_load(waiters) > 0 { conc_futex_wake(done, Int32.max) }
    }
}

/// A futex word in memory of its own, for a signal that may be posted after the object
/// that waits for it is gone: whoever holds this box may post or wait.
final class FutexWord: @unchecked Sendable {  // the word is only touched atomically
    let word: UnsafeMutablePointer<UInt32>
    init() { word = .allocate(capacity: 1); word.initialize(to: 0) }
    deinit { word.deallocate() }
    func post() {
        __atomicStore(word, 1)
        conc_futex_wake(word, Int32.max)
    }
    /// Waits until posted, or `seconds` pass.
    func wait(atMost seconds: Double) { FutexWord.wait(on: word, atMost: seconds) }
    /// Waits until `word` is no longer 0, or `seconds` pass (a plain futex wait: not a
    /// park, so for waits that end in moments).
    static func wait(on word: UnsafeMutablePointer<UInt32>, atMost seconds: Double) {
        let deadline = monotonicSeconds() + seconds
        while __atomicLoad(word) == 0 {
            let left = deadline - monotonicSeconds()
            if left <= 0 { return }
            _ = conc_futex_wait(word, 0, Int64(left * 1e9))
        }
    }
}
