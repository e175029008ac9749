// The synchronisation builtins (`lock`, `rlock`, `semaphore`, `event`, `condition`,
// `queue`) as Conc objects: thin wrappers around CConcShared primitives that live in the
// engine's shared arena, so a later `spawn` can hand the very same object to a child.
import CConcShared
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// The engine's shared-memory arena, mapped on first use (before any fork that could
    /// need it, since primitives created before a spawn are made here).
    var arena: OpaquePointer {
        if let a = arenaStorage { return a }
        // (A machine that refuses 4 GiB of address space, e.g. with strict overcommit,
        // gets the smaller arena.)
        guard let a = conc_arena_create(Engine.arenaReserve) ?? conc_arena_create(Engine.smallArenaReserve) else {
            fatalError("conc: cannot map the shared arena (\(String(cString: strerror(errno))))")
        }
        arenaStorage = a
        familyStorage = conc_family_create(a)
        return a
    }
    /// Bytes of address space reserved for shared objects (touched only as used): room for
    /// a multiprocessing.Queue backlog of hundreds of megabytes, as CPython's pipes and
    /// feeder threads allow.
    static let arenaReserve = 4 << 30
    static let smallArenaReserve = 256 << 20

    /// The arena of the primitives each process has its own copy of (threading's locks,
    /// events, semaphores and conditions, queue.Queue): mapped privately, so a forked child
    /// gets them as they were at the fork, as CPython's child gets copies of its objects.
    var privateArena: OpaquePointer {
        if let a = privateArenaStorage { return a }
        guard let a = conc_arena_create_private(Engine.arenaReserve) ?? conc_arena_create_private(Engine.smallArenaReserve) else {
            fatalError("conc: cannot map the private arena (\(String(cString: strerror(errno))))")
        }
        privateArenaStorage = a
        return a
    }

    /// The arena for a new primitive: `local` ones are copied at a fork, the others shared.
    func arena(local: Bool) -> OpaquePointer { local ? privateArena : arena }
}

extension Unit {
    /// The innermost running frame of code outside the bundled stdlib: where the learner's
    /// code created or acquired something.
    @inline(__always) func innermostUserFrame() -> Frame? {
        var next = currentFrameRef
        while let ref = next {
            let f = ref.takeUnretainedValue()
            if !f.code.isStdlib { return f }
            next = f.callerRef
        }
        return nil
    }

    /// The frame whose line a report names: ``innermostUserFrame()``, or the innermost
    /// stdlib frame when no learner's code runs in this unit (`Thread(target=next,
    /// args=[it])`), which still says more than nothing.
    @inline(__always) func reportedFrame() -> Frame? {
        innermostUserFrame() ?? currentFrameRef?.takeUnretainedValue()
    }

    /// "file:line" of ``reportedFrame()``.
    func currentLocation() -> String {
        reportedFrame().map { Site(code: $0.code, line: $0.line).description } ?? "?"
    }
}

/// A statement of running code: which code object, which line.
struct Site: CustomStringConvertible {
    let code: CodeInfo?
    let line: Int
    var description: String { code.map { "\($0.file.name):\(line)" } ?? "?" }
}

/// Base of every shared primitive object: owns one reference to its C primitive.
///
/// The C object is thread- and process-safe; the Swift-side fields of subclasses are
/// touched only by the unit holding the GIL.
class PySharedPrimitive: PyObject, @unchecked Sendable {  // the C primitive is internally synchronised; Swift fields are GIL-guarded
    /// The primitive (a `conc_prim *`).
    let prim: OpaquePointer
    /// Where Conc code created it ("file:line").
    let createdAt: String
    /// The engine's fork epoch when this wrapper was made: a fork since then (in the parent)
    /// or this process being the child of one means another process may hold it too.
    let forkEpoch: Int
    /// What the stdlib made it for ("Future": a concurrent.futures Future's condition), for
    /// deadlock reports; set once by `_units.set_role` right after creation.
    var role: String?
    /// Set once the primitive was put in a queue item (which another process may take, as
    /// the manager's reply queues are): from then on it counts as shared, whenever made.
    let sentInQueue = Atomic<Bool>(false)

    /// The engine's list of live wrappers (a spawn takes a reference for the child).
    let registry: PrimitiveRegistry
    /// In the private arena: each process has its own copy (``Engine/privateArena``), so no
    /// other process can ever signal it, and it cannot travel to one.
    let isPrivate: Bool

    init(prim: OpaquePointer, type: PyType, createdAt: String, forkEpoch: Int, registry: PrimitiveRegistry) {
        self.prim = prim
        self.createdAt = createdAt
        self.forkEpoch = forkEpoch
        self.registry = registry
        self.isPrivate = conc_prim_is_private(prim) != 0
        conc_prim_set_created_at(prim, createdAt)
        registry.add(prim)
        super.init(type: type)
    }

    deinit {
        WeakReferents.noteDeath(self)
        registry.remove(prim)
        conc_prim_release(prim)
    }

    /// A wrapper of the right class for a primitive from another process; takes over the
    /// caller's reference.
    static func adopt(_ p: OpaquePointer, unit: Unit, createdAt: String, isThreading: Bool) throws -> PySharedPrimitive {
        let r = unit.engine.primitives
        switch conc_prim_kind(p) {
        case CONC_KIND_LOCK: return PyLock(adopting: p, reentrant: false, isThreading: isThreading, createdAt: createdAt, registry: r)
        case CONC_KIND_RLOCK: return PyLock(adopting: p, reentrant: true, isThreading: isThreading, createdAt: createdAt, registry: r)
        case CONC_KIND_SEMAPHORE: return PySemaphore(adopting: p, createdAt: createdAt, registry: r)
        case CONC_KIND_EVENT: return PyEvent(adopting: p, createdAt: createdAt, registry: r)
        case CONC_KIND_CONDITION:
            let lp = conc_cond_lock(p)
            conc_prim_retain(lp)
            let lock = PyLock(adopting: lp, reentrant: conc_prim_kind(lp) == CONC_KIND_RLOCK, isThreading: false, createdAt: createdAt, registry: r)
            return PyCondition(adopting: p, lock: lock, createdAt: createdAt, registry: r)
        default: return PyQueue(adopting: p, createdAt: createdAt, registry: r)
        }
    }

    /// True when another live process may use (and so signal) this primitive.
    func isShared(_ engine: Engine) -> Bool {
        guard !isPrivate, forkEpoch != engine.forkEpoch || sentInQueue.load(ordering: .relaxed) else { return false }
        return engine.parentPid != nil || engine.hasLiveChildren
    }

    /// The futex word waiters sleep on.
    var seqWord: UnsafeMutablePointer<UInt32> { conc_prim_seq(prim) }

    /// Parks `u` on this primitive (``Unit/park(word:waiters:timeout:crossProcess:reason:attempt:)``)
    /// until `attempt` succeeds or `timeout` passes. `waits` finishes the sentence "Thread-1 …"
    /// of a deadlock report; `holder` is the unit that could end the wait, if known;
    /// `stillBlocked` re-checks the wait without changing anything.
    func park(_ u: Unit, timeout: Double?, waits: @escaping (Engine) -> String,
              holder: @escaping () -> Unit? = { nil }, holderFinished: @escaping () -> Bool = { false },
              stillBlocked: @escaping () -> Bool, spins: Bool = true, attempt: () -> Bool) throws -> Bool {
        let engine = u.engine
        let other: () -> UInt64 = { [prim] in
            // A lock held by a unit of another process: that process could end the wait.
            let kind = conc_prim_kind(prim)
            guard kind == CONC_KIND_LOCK || kind == CONC_KIND_RLOCK else { return 0 }
            let o = conc_prim_holder(prim)
            guard o != 0, conc_unit_pid(o) != getpid() else { return 0 }
            return (2 << 32) | UInt64(UInt32(bitPattern: conc_unit_pid(o)))
        }
        return try u.park(word: seqWord, waiters: .primitive(prim), timeout: timeout, crossProcess: isShared(engine),
                          spins: spins, reason: BlockReason(describe: { waits(engine) }, holder: holder, stillBlocked: stillBlocked, word: seqWord,
                                              holderFinished: holderFinished, otherProcess: other),
                          attempt: attempt)
    }

    /// "lock a (created at line 4)": the kind, the global variable naming it if any, and
    /// where it was made. Called for reports only.
    func described(_ engine: Engine) -> String {
        let created = "(created at \(engine.displayLocation(createdAt)))"
        let g = engine.mainGlobals
        for n in g.boundNames {
            if case .obj(let o)? = g.get(n), o === self { return "\(type.name) \(n) \(created)" }
        }
        // An object of the threading or multiprocessing module holding this primitive
        // (threading.Event holds an event(), a Barrier a Condition holding a condition()):
        // named by its own class and variable.
        func holds(_ o: PyObject, _ depth: Int) -> Bool {
            guard let i = o as? PyInstance, !(o is PySharedPrimitive) else { return false }
            for case .obj(let a) in i.slotValues {
                if a === self || (depth > 0 && holds(a, depth - 1)) { return true }
            }
            return false
        }
        for n in g.boundNames {
            if case .obj(let o)? = g.get(n), holds(o, 1) {
                // A learner's own object holding the lock (`acct.lock`) is named by the
                // path to it; the threading/multiprocessing wrappers by their class.
                if !engine.isStdlibModule(o.type.module), let i = o as? PyInstance,
                   let attr = i.attributePairs.first(where: { $0.1.object === self })?.0 {
                    return "\(type.name) \(n).\(attr) \(created)"
                }
                return "\(o.type.name) \(n) \(created)"
            }
        }
        // An item of a global list or tuple (`forks[2]`).
        for n in g.boundNames {
            guard case .obj(let o)? = g.get(n) else { continue }
            let items = (o as? PyList)?.snapshot ?? (o as? PyTuple)?.items ?? []
            if let i = items.firstIndex(where: { $0.object === self }) { return "\(type.name) \(n)[\(i)] \(created)" }
        }
        return "\(type.name) \(created)"
    }
}

/// The primitives this process holds wrappers for, so that `spawn` can take one reference
/// per wrapper on behalf of the child (whose copies of the wrappers release them when
/// dropped) before it forks. Guarded by `mutex`: wrappers may die on any thread.
final class PrimitiveRegistry: @unchecked Sendable {  // `live` is guarded by `mutex`
    private var mutex = pthread_mutex_t()
    /// Each primitive with the number of wrappers of it in this process.
    private var live: [OpaquePointer: Int] = [:]

    init() { pthread_mutex_init(&mutex, nil) }

    func add(_ p: OpaquePointer) {
        pthread_mutex_lock(&mutex); live[p, default: 0] += 1; pthread_mutex_unlock(&mutex)
    }

    func remove(_ p: OpaquePointer) {
        pthread_mutex_lock(&mutex)
        if let n = live[p] { live[p] = n > 1 ? n - 1 : nil }
        pthread_mutex_unlock(&mutex)
    }

    /// Before a fork: one more reference per wrapper, owned by the child-to-be. Returns
    /// them so a failed fork can give them back.
    /// (Not the private ones: the child's copy of such a primitive has the count of the
    /// wrappers it copies.)
    func retainForChild() -> [(OpaquePointer, Int)] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let shared = live.filter { conc_prim_is_private($0.key) == 0 }
        for (p, n) in shared { for _ in 0..<n { conc_prim_retain(p) } }
        return shared.map { ($0.key, $0.value) }
    }

    /// Right before the fork (the world stopped): the registry stays locked, and so does
    /// the internal mutex of every private queue and condition, until ``forkEnded()`` in
    /// the parent and ``forkEndedInChild(forker:forkerInChild:)`` in the child, so the
    /// child copies none of them mid-update. (A unit parked with a timeout may still be
    /// inside one of their few-store critical sections: this waits it out.)
    func forkBegins() {
        pthread_mutex_lock(&mutex)
        for p in live.keys where conc_prim_is_private(p) != 0 { conc_prim_fork_prepare(p) }
    }

    /// In the parent after the fork.
    func forkEnded() {
        for p in live.keys where conc_prim_is_private(p) != 0 { conc_prim_fork_parent(p) }
        pthread_mutex_unlock(&mutex)
    }

    /// In the child: the mutexes are made anew (their holder was the parent's thread); the
    /// private copies lose the parent's other units as waiters, and a lock the forking unit
    /// held is held by it under its new id, one the other units held stays taken for good
    /// (``conc_prim_fork_child``).
    /// (The registry's own mutex was made anew by ``resetAfterFork()``, and the child runs
    /// only this unit for now.)
    func forkEndedInChild(forker: UInt64, forkerInChild: UInt64) {
        for p in live.keys where conc_prim_is_private(p) != 0 { conc_prim_fork_child(p, forker, forkerInChild) }
    }

    /// Gives back what ``retainForChild()`` took (the fork failed).
    func release(_ taken: [(OpaquePointer, Int)]) {
        for (p, n) in taken { for _ in 0..<n { conc_prim_release(p) } }
    }

    /// In a forked child: the mutex may have been held by a thread that is gone.
    func resetAfterFork() { pthread_mutex_init(&mutex, nil) }

    /// For this process ending (a spawned child, before it leaves its family): the locks
    /// and rlocks its units still hold are marked as held by an ended process, which the
    /// next attempt takes over at once (no waiter waits for the process to be gone from
    /// the system, and no deadlock round confirms on it meanwhile). Ending normally is not
    /// dying: an unowned lock (threading.Lock, multiprocessing.Lock) then stays taken, as
    /// CPython's does, and another process may release it (``conc_lock_holder_ended``).
    func markLocksOfEndingProcess(_ pid: pid_t, normalEnd: Bool) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        for p in live.keys { _ = conc_lock_holder_ended(p, pid, normalEnd ? 1 : 0) }
    }
}

/// Reports a full arena as MemoryError.
func arenaExhausted() -> PyBaseException {
    pyError(Exc.memoryError, "the shared arena is full (its locks, queues and queued items take all of it): let consumers take items before more are put, or put smaller ones")
}

/// `lock()` and `rlock()`: an owned mutex, re-entrant or not. The `threading` module's
/// locks (`isThreading`) print as CPython's `_thread` locks, and its `Lock` is unowned:
/// any unit may release it.
final class PyLock: PySharedPrimitive, @unchecked Sendable {  // see PySharedPrimitive
    let reentrant: Bool
    /// Made by `threading.Lock`/`threading.RLock` rather than the builtins (set once).
    let isThreading: Bool
    /// threading.Lock: no owner, so any unit may release it and its holder blocks on it.
    var isUnowned: Bool { isThreading && !reentrant }
    /// Where it was last acquired (for deadlock reports): GIL-guarded. The holder itself is
    /// the owner id the C lock keeps (``holderUnit(_:)``).
    var acquiredCode: CodeInfo?
    var acquiredLine = 0
    var acquiredAt: String { Site(code: acquiredCode, line: acquiredLine).description }

    /// The unit of this process holding it, found from the owner id the C lock keeps.
    func holderUnit(_ engine: Engine) -> Unit? {
        let o = owner
        guard o != 0, conc_unit_pid(o) == getpid() else { return nil }
        return engine.units.unit(number: conc_unit_number(o))
    }

    /// Records where `u` acquired it, without reference-count traffic when the site
    /// is the same as last time (a loop taking the lock).
    @inline(__always) func noteAcquired(by u: Unit) {
        guard let f = u.reportedFrame() else { return }
        noteAcquired(code: f.code, line: f.line)
    }

    /// Writes only what changed: a loop taking the lock at one line leaves the object's
    /// memory untouched (other cores keep their copy of it).
    @inline(__always) func noteAcquired(code: CodeInfo, line: Int) {
        if acquiredCode !== code { acquiredCode = code }
        if acquiredLine != line { acquiredLine = line }
    }

    init(_ u: Unit, reentrant: Bool, isThreading: Bool = false, local: Bool = false) throws {
        self.reentrant = reentrant
        self.isThreading = isThreading
        let arena = u.engine.arena(local: local)
        let p: OpaquePointer? = reentrant ? conc_rlock_create(arena) : conc_lock_create(arena, isThreading ? 1 : 0)
        guard let prim = p else { throw arenaExhausted() }
        super.init(prim: prim, type: PyLock.type(reentrant: reentrant, isThreading: isThreading), createdAt: u.currentLocation(), forkEpoch: u.engine.forkEpoch, registry: u.engine.primitives)
    }

    /// Wraps a lock that arrived from another process (taking over one reference).
    init(adopting prim: OpaquePointer, reentrant: Bool, isThreading: Bool, createdAt: String, registry: PrimitiveRegistry) {
        self.reentrant = reentrant
        self.isThreading = isThreading
        super.init(prim: prim, type: PyLock.type(reentrant: reentrant, isThreading: isThreading), createdAt: createdAt, forkEpoch: -1, registry: registry)
    }

    /// The class of a lock of this kind: the builtin's, or threading's (`_thread.lock`).
    static func type(reentrant: Bool, isThreading: Bool) -> PyType {
        isThreading ? (reentrant ? Types.threadingRLock : Types.threadingLock) : (reentrant ? Types.rlock : Types.lock)
    }

    var owner: UInt64 { reentrant ? conc_rlock_owner(prim) : conc_lock_owner(prim) }
    var isLocked: Bool { reentrant ? conc_rlock_owner(prim) != 0 : conc_lock_locked(prim) != 0 }

    /// One non-blocking attempt. `previousOwner` is the owner seen just before it, which
    /// names the dead process when the result is CONC_OWNER_DIED. (Runs without the GIL
    /// inside `park`, so it writes nothing but its arguments.)
    func tryAcquire(_ unit: UInt64, previousOwner: inout UInt64) -> conc_result {
        previousOwner = owner
        return reentrant ? conc_rlock_try_acquire(prim, unit) : conc_lock_try_acquire(prim, unit)
    }

    /// Whether another unit holds it now (one load). Tested before an attempt while the
    /// lock is contended: a failed compare-and-swap still takes the lock's cache line away
    /// from the holder's core, and the holder needs it back to release.
    @inline(__always) func heldByAnother(_ unit: UInt64, previousOwner: inout UInt64) -> Bool {
        previousOwner = owner
        return previousOwner != 0 && previousOwner != unit
    }

    /// A blocking `acquire()` by code running in frame `f` (`with some_lock:`): one attempt
    /// that records `f`'s line when it succeeds, else the general path.
    @inline(__always) func acquire(_ u: Unit, in f: Frame) throws {
        let me = u.unitID
        var previous: UInt64 = 0
        let r = tryAcquire(me, previousOwner: &previous)
        if r == CONC_OK {
            if f.code.isStdlib { noteAcquired(by: u) } else { noteAcquired(code: f.code, line: f.line) }
            return
        }
        _ = try acquire(u, firstAttempt: r, previousOwner: previous, blocking: true, timeout: nil)
    }

    /// `acquire(blocking, timeout)`: true when acquired.
    func acquire(_ u: Unit, blocking: Bool = true, timeout: Double? = nil) throws -> Bool {
        var previous: UInt64 = 0
        let r = tryAcquire(u.unitID, previousOwner: &previous)
        return try acquire(u, firstAttempt: r, previousOwner: previous, blocking: blocking, timeout: timeout)
    }

    /// The rest of `acquire` after its first attempt, which gave `r` with `previous` the
    /// owner seen just before it.
    private func acquire(_ u: Unit, firstAttempt r: conc_result, previousOwner previous: UInt64,
                         blocking: Bool, timeout: Double?) throws -> Bool {
        let me = u.unitID
        var previous = previous
        var r = r
        // Spin before building the park's closures (allocations) for a lock held briefly.
        if r == CONC_BUSY && blocking && timeout != 0 && previous != me
            && u.spinBeforeParking(firstGap: isUnowned ? 8 : Unit.ownedLockFirstGap, {
                if heldByAnother(me, previousOwner: &previous) { return false }
                r = tryAcquire(me, previousOwner: &previous)
                return r != CONC_BUSY
            }) {}
        if r == CONC_BUSY && blocking {
            if !reentrant && !isUnowned && previous == me && timeout == nil {
                throw u.engine.deadlockError("""
                    \(u.engine.reportName(u)) tries to acquire \(described(u.engine)) again, but already holds it (acquired at \(u.engine.displayLocation(acquiredAt))): \
                    it would wait for itself forever.
                      fix: use rlock() for a lock that the same unit may take again while holding it
                    """)
            }
            _ = try park(u, timeout: timeout,
                         waits: { "waits to acquire \(self.described($0))" + self.holderDescription($0) },
                         holder: { self.holderUnit(u.engine) },
                         holderFinished: { self.heldByFinishedUnit(u.engine) },
                         stillBlocked: { [prim, reentrant, isUnowned] in
                             let o = reentrant ? conc_rlock_owner(prim) : conc_lock_owner(prim)
                             // An unowned lock (threading.Lock) blocks even its holder; one
                             // whose holder's process died is taken over at the next attempt.
                             // Asked afresh: a deadlock round must not confirm on the 10 ms
                             // old "alive" of the last attempt when the holder died since.
                             return o != 0 && (isUnowned || o != me) && conc_unit_dead_now(o) == 0
                         }) {
                r = tryAcquire(me, previousOwner: &previous)
                return r != CONC_BUSY
            }
        }
        switch r {
        case CONC_OK: break
        case CONC_OWNER_DIED:
            // In a child process the unit's own name (its main unit is "MainThread") says
            // little: the process's name goes with it.
            let taker = u.engine.processName == "MainProcess" ? u.name : "\(u.name) in process \(u.engine.processName)"
            // (Marked by the process itself as it ended: a crash or a normal end.)
            let how = conc_unit_number(previous) == CONC_UNIT_NUMBER_ENDED ? "ended" : "died"
            u.engine.stderr.write("warning: \(described(u.engine)) was held by process \(conc_unit_pid(previous)) when it \(how); \(taker) takes it over (the data it protected may be half-updated)\n")
        default: return false
        }
        noteAcquired(by: u)
        return true
    }

    private func holderDescription(_ engine: Engine) -> String {
        let o = owner
        if o == CONC_UNIT_ENDED_HOLDING && isPrivate {
            // The copy a fork made of a lock another thread of the parent held.
            return ", held when this process was forked by another thread of its parent, which does not exist here"
                + (isUnowned ? " (this copy is this process's own: any unit of it may release it)" : " (nothing here can release this copy)")
        }
        if o == CONC_UNIT_ENDED_HOLDING {
            return ", held by a process that has ended without releasing it (any unit may release it)"
        }
        if o != 0, conc_unit_pid(o) != getpid() {
            let pid = conc_unit_pid(o)
            return ", held by process \(engine.familyName(of: pid) ?? "with pid \(pid)")"
        }
        if heldByFinishedUnit(engine) {
            let who = engine.units.finishedName(number: conc_unit_number(o)).map { "\($0), which" } ?? "a unit that"
            return ", held by \(who) has finished without releasing it (acquired at \(engine.displayLocation(acquiredAt)))"
        }
        guard let h = holderUnit(engine), isLocked else { return "" }
        return ", held by \(h.name) (acquired at \(engine.displayLocation(acquiredAt)))"
    }

    /// Locked by a unit of this process that is no longer live: it ended holding the lock.
    func heldByFinishedUnit(_ engine: Engine) -> Bool {
        let o = owner
        return o != 0 && isLocked && conc_unit_pid(o) == getpid() && holderUnit(engine) == nil
    }

    /// `_at_fork_reinit()`: unlocked, whoever held it (as CPython's, for a child after fork).
    func forceUnlock() {
        let o = owner
        guard o != 0 else { return }
        if reentrant {
            var count: UInt32 = 0
            _ = conc_rlock_release_all(prim, o, &count)
        } else {
            _ = conc_lock_release(prim, o)
        }
    }

    /// `release()`, with CPython's errors and Conc's ownership rule.
    func release(_ u: Unit) throws {
        let me = u.unitID
        let r = reentrant ? conc_rlock_release(prim, me) : conc_lock_release(prim, me)
        switch r {
        case CONC_OK:
            return
        case CONC_NOT_HELD:
            throw runtimeError(reentrant ? "cannot release un-acquired lock" : "release unlocked lock")
        default:
            let engine = u.engine
            var holder = holderUnit(engine).map { engine.unitLabel($0) } ?? "another unit"
            let o = conc_prim_holder(prim)
            if o != 0, conc_unit_pid(o) != getpid() {
                holder = "process " + (engine.familyName(of: conc_unit_pid(o)) ?? "\(conc_unit_pid(o))")
            }
            // threading.RLock keeps CPython's words; the builtins say who holds it.
            if reentrant && isThreading { throw runtimeError("cannot release un-acquired lock") }
            let kind = reentrant ? "an rlock()" : "a lock()"
            throw runtimeError("cannot release \(kind) held by \(holder) from \(engine.unitLabel(u)): only the unit that acquired \(kind) releases it (use semaphore(1) to signal between units)")
        }
    }
}

/// `semaphore(n, bounded=False)`.
final class PySemaphore: PySharedPrimitive, @unchecked Sendable {  // see PySharedPrimitive
    let bounded: Bool
    init(_ u: Unit, value: Int, bounded: Bool, local: Bool = false) throws {
        if value < 0 { throw valueError("semaphore initial value must be >= 0") }
        if value > Int(UInt32.max) { throw overflowError("semaphore initial value is too large") }
        self.bounded = bounded
        guard let prim = conc_sem_create(u.engine.arena(local: local), UInt32(value), bounded ? 1 : 0) else { throw arenaExhausted() }
        super.init(prim: prim, type: Types.semaphore, createdAt: u.currentLocation(), forkEpoch: u.engine.forkEpoch, registry: u.engine.primitives)
    }

    init(adopting prim: OpaquePointer, createdAt: String, registry: PrimitiveRegistry) {
        bounded = false
        super.init(prim: prim, type: Types.semaphore, createdAt: createdAt, forkEpoch: -1, registry: registry)
    }

    var value: Int { Int(conc_sem_value(prim)) }

    func acquire(_ u: Unit, blocking: Bool = true, timeout: Double? = nil) throws -> Bool {
        let me = u.unitID
        if conc_sem_try_acquire(prim, me) == CONC_OK { return true }
        guard blocking else { return false }
        return try park(u, timeout: timeout, waits: { "waits to acquire \(self.described($0)), whose value is 0" },
                        stillBlocked: { [prim] in conc_sem_value(prim) == 0 }) {
            conc_sem_try_acquire(prim, me) == CONC_OK
        }
    }

    func release(_ n: Int) throws {
        if n < 1 { throw valueError("n must be one or more") }
        if conc_sem_release(prim, UInt32(clamping: n)) == CONC_OVER_RELEASE {
            throw valueError("Semaphore released too many times")
        }
    }
}

/// `event()`.
final class PyEvent: PySharedPrimitive, @unchecked Sendable {  // see PySharedPrimitive
    init(_ u: Unit, local: Bool = false) throws {
        guard let prim = conc_event_create(u.engine.arena(local: local)) else { throw arenaExhausted() }
        super.init(prim: prim, type: Types.event, createdAt: u.currentLocation(), forkEpoch: u.engine.forkEpoch, registry: u.engine.primitives)
    }

    init(adopting prim: OpaquePointer, createdAt: String, registry: PrimitiveRegistry) {
        super.init(prim: prim, type: Types.event, createdAt: createdAt, forkEpoch: -1, registry: registry)
    }

    var isSet: Bool { conc_event_is_set(prim) != 0 }

    /// Returns True once the flag is set, or once set() has run since the call began (the
    /// flag may be cleared again before this unit runs: CPython's waiters return True then).
    func wait(_ u: Unit, timeout: Double?) throws -> Bool {
        let sets = conc_event_sets(prim)
        if isSet { return true }
        return try park(u, timeout: timeout, waits: { "waits for \(self.described($0)) to be set" },
                        stillBlocked: { [prim] in conc_event_is_set(prim) == 0 && conc_event_sets(prim) == sets }) {
            conc_event_is_set(prim) != 0 || conc_event_sets(prim) != sets
        }
    }
}

/// `condition(l=None)`: wait/notify over a lock() or rlock() (a new rlock() by default).
final class PyCondition: PySharedPrimitive, @unchecked Sendable {  // see PySharedPrimitive
    let lock: PyLock

    /// `local`: a private condition (over a private new rlock by default); one over a given
    /// lock is private when that lock is, so that both are copied at a fork or neither.
    init(_ u: Unit, lock: PyLock?, local: Bool = false) throws {
        let l = try lock ?? PyLock(u, reentrant: true, local: local)
        self.lock = l
        guard let prim = conc_cond_create(u.engine.arena(local: l.isPrivate), l.prim) else { throw arenaExhausted() }
        super.init(prim: prim, type: Types.condition, createdAt: u.currentLocation(), forkEpoch: u.engine.forkEpoch, registry: u.engine.primitives)
    }

    init(adopting prim: OpaquePointer, lock: PyLock, createdAt: String, registry: PrimitiveRegistry) {
        self.lock = lock
        super.init(prim: prim, type: Types.condition, createdAt: createdAt, forkEpoch: -1, registry: registry)
    }

    /// True when `u` holds the underlying lock (for an unowned lock: when it is locked).
    func isOwned(by u: Unit) -> Bool {
        if lock.isUnowned { return lock.isLocked }
        return lock.owner == u.unitID
    }

    /// A global of the main program holding an object of the stdlib class `className` whose
    /// condition this is (`holdsMe` finds it among the object's fields): its name and the
    /// object. For the deadlock report's wording; reads fields only, runs no Conc code.
    private func stdlibHolder(_ engine: Engine, _ className: String,
                              _ holdsMe: (PyInstance) -> Bool) -> (String, PyInstance)? {
        let g = engine.mainGlobals
        for n in g.boundNames {
            guard case .obj(let o)? = g.get(n), let i = o as? PyInstance, i.type.name == className,
                  engine.isStdlibModule(i.type.module), holdsMe(i) else { continue }
            return (n, i)
        }
        return nil
    }

    /// For a deadlock report, when this is the condition of a `threading.Barrier` the program
    /// keeps in a global: what its waiter waits for, in the Barrier's terms ("2 of its 3
    /// parties have arrived"); nil otherwise.
    func barrierWait(_ engine: Engine) -> String? {
        guard let (n, b) = stdlibHolder(engine, "Barrier", { $0.instanceAttribute("_cond")?.object === self }),
              case .int(let parties)? = b.instanceAttribute("_parties") else { return nil }
        let at = "at Barrier \(n) (created at \(engine.displayLocation(createdAt)))"
        // threading's keeps the count in `_count`; multiprocessing's in shared memory.
        guard case .int(let arrived)? = b.instanceAttribute("_count") else {
            return "waits \(at) for the rest of its \(parties) parties"
        }
        return "waits \(at), where \(arrived) of its \(parties) parties \(arrived == 1 ? "has" : "have") arrived and the others never come"
    }

    /// For a deadlock report, when this is the condition of a `concurrent.futures` Future the
    /// program keeps in a global: that its waiter waits for the Future, and whether a worker
    /// has started it; nil otherwise.
    func futureWait(_ engine: Engine) -> String? {
        guard let (n, f) = stdlibHolder(engine, "Future", { f in
            guard case .obj(let c)? = f.instanceAttribute("_condition"), let condition = c as? PyInstance else { return false }
            return condition.instanceAttribute("_cond")?.object === self
        }) else {
            // A Future the program does not keep in a global (`ex.submit(f).result()`).
            if role == "Future" { return "waits for a Future (created at \(engine.displayLocation(createdAt))) to finish" }
            return nil
        }
        let state = f.instanceAttribute("_state")?.asStr?.value
        let how = state == "RUNNING" ? "which a worker is running" : state == "PENDING" ? "which no worker has started" : "which has not finished"
        return "waits for Future \(n) (created at \(engine.displayLocation(createdAt))) to finish, \(how)"
    }

    /// `wait(timeout)`: releases the lock, waits for a notify, re-acquires; true if notified.
    func wait(_ u: Unit, timeout: Double?) throws -> Bool {
        guard isOwned(by: u) else { throw runtimeError("cannot wait on un-acquired lock") }
        let me = u.unitID
        guard let w = conc_cond_enlist(prim, me) else { throw arenaExhausted() }
        // Release fully (an rlock may be held several levels deep).
        var saved: UInt32 = 1
        if lock.reentrant { _ = conc_rlock_release_all(lock.prim, me, &saved) } else { _ = conc_lock_release(lock.prim, me) }
        var failure: Error? = nil
        do {
            _ = try park(u, timeout: timeout, waits: {
                self.barrierWait($0) ?? self.futureWait($0) ?? "waits on \(self.described($0)) for a notify()"
            },
                         stillBlocked: { conc_cond_waiter_notified(w) != CONC_OK }) {
                conc_cond_waiter_notified(w) == CONC_OK
            }
        } catch { failure = error }
        let notified = conc_cond_delist(prim, w) != 0
        // Re-acquire before returning or raising, as CPython does (never times out).
        try reacquire(u, count: saved)
        if let e = failure { throw e }
        return notified
    }

    private func reacquire(_ u: Unit, count: UInt32) throws {
        let me = u.unitID
        if lock.reentrant {
            if conc_rlock_try_restore(lock.prim, me, count) != CONC_BUSY { lock.noteAcquired(by: u); return }
            _ = try lock.park(u, timeout: nil,
                              waits: { "waits to re-acquire \(self.lock.described($0)) after a wait on \(self.described($0))" },
                              holder: { self.lock.holderUnit(u.engine) },
                              stillBlocked: { [lock] in let o = conc_rlock_owner(lock.prim); return o != 0 && o != me }) {
                conc_rlock_try_restore(lock.prim, me, count) != CONC_BUSY
            }
            lock.noteAcquired(by: u)
        } else {
            _ = try lock.acquire(u)
        }
    }

    func notify(_ u: Unit, _ n: Int) throws {
        guard isOwned(by: u) else { throw runtimeError("cannot notify on un-acquired lock") }
        if n > 0 { _ = conc_cond_notify(prim, UInt32(clamping: n)) }
    }

    func notifyAll(_ u: Unit) throws {
        guard isOwned(by: u) else { throw runtimeError("cannot notify on un-acquired lock") }
        _ = conc_cond_notify_all(prim)
    }
}
