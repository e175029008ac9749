// The one way a unit blocks: "park" until an attempt succeeds, a timeout passes, or the
// main unit is interrupted. Every blocking primitive (join, lock, semaphore, event,
// condition, queue) goes through `Unit.park`, so the green-thread scheduler can later
// replace the OS-level sleep here without touching the primitives.
import CConcShared
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// How a parked unit announces itself to wakers (who skip the wake syscall when nobody
/// waits): a primitive's waiter count, a plain counter word, or nothing.
enum Waiters {
    case none
    case primitive(OpaquePointer)
    case counter(UnsafeMutablePointer<Int32>)

    func begin() {
        switch self {
        case .none: break
        case .primitive(let p): conc_prim_wait_begin(p)
        case .counter(let w): _ = CConcSys_atomic_add(w, 1)
        }
    }
    func end() {
        switch self {
        case .none: break
        case .primitive(let p): conc_prim_wait_end(p)
        case .counter(let w): _ = CConcSys_atomic_add(w, -1)
        }
    }
    /// Sleeps while `*word == seen` (a primitive's own wait registers the sleeper, which
    /// its wake-all changers rely on).
    func sleep(_ word: UnsafeMutablePointer<UInt32>, _ seen: UInt32, _ ns: Int64) {
        if case .primitive(let p) = self { _ = conc_prim_wait(p, seen, ns) } else { _ = conc_futex_wait(word, seen, ns) }
    }
}

/// Sequentially consistent load of a futex word.
@inline(__always) func __atomicLoad(_ w: UnsafeMutablePointer<UInt32>) -> UInt32 {
    UInt32(bitPattern: CConcSys_atomic_load(UnsafeMutableRawPointer(w).assumingMemoryBound(to: Int32.self)))
}

/// Release store of a futex word.
@inline(__always) func __atomicStore(_ w: UnsafeMutablePointer<UInt32>, _ v: UInt32) {
    CConcSys_atomic_store(UnsafeMutableRawPointer(w).assumingMemoryBound(to: Int32.self), Int32(bitPattern: v))
}

extension Unit {
    /// How long a parked unit sleeps at most before looking again (a backstop: wake-ups
    /// normally come from the futex word or, for Ctrl-C, from EINTR).
    static let parkSlice: Double = 0.1
    /// The same for a non-main unit waiting on what only its own process can signal.
    static let longParkSlice: Double = 2.0
    /// Spin-wait rounds (CPU pauses, about 10–30 µs in all) before parking in a parallel run.
    static let parkSpins = 1024
    /// The first gap of a unit waiting for an owned lock (`lock()`, `rlock()`, RLock): only
    /// its holder can free it, and a holder that takes it in a loop (the shared counter of
    /// the notes) is best left to run several rounds; polling every 8 pauses caught nearly
    /// every release and bounced the lock (and the data it guards) between the cores on
    /// each one: 2 threads x 2 M increments took 0.57 s, against 0.22 s with this gap and
    /// 0.17 s for one thread doing all 4 M. Waits that other units end by a signal
    /// (semaphores, events, queues, threading.Lock) keep the short gap: for them it is pure
    /// latency (a 50 k-round semaphore ping-pong took 6 times longer at 128).
    static let ownedLockFirstGap = 128

    /// Units running in parallel hold locks for a few hundred nanoseconds: before the
    /// expensive way (registry, interpreter lock, futex sleep, and a wake-up syscall from
    /// the releaser), spin a moment, retrying `attempt`. True if it succeeded. Not under the
    /// GIL, where the holder cannot run meanwhile. `firstGap` pauses come before the first
    /// attempt (see ``ownedLockFirstGap``).
    @inline(__always) func spinBeforeParking(firstGap: Int = 8, _ attempt: () -> Bool) -> Bool {
        guard ObjectLocks.active && !engine.gil.exclusive else { return false }
        // Attempts at growing gaps (8, 16, 32... pauses): a waiter that polls the lock's
        // word steals its cache line from the holder, which needs it back to release; backing
        // off lets a holder that re-takes the lock in a loop run several rounds uncontended.
        var next = firstGap
        for i in 1...Unit.parkSpins {
            CConcSys_cpu_relax()
            if i == next {
                if attempt() { return true }
                next += min(next, 256)
            }
        }
        return false
    }

    /// Gives up the GIL (if held) for a blocking call.
    @inline(__always) func releaseGIL() {
        if handoff != nil { postHandoff() }
        if holdsGIL { holdsGIL = false; engine.gil.release() }
    }

    /// Tells this new thread's starter that it blocks or ends (``handoff``).
    @inline(never) func postHandoff() {
        guard let h = handoff else { return }
        handoff = nil
        __atomicStore(h, 1)
        conc_futex_wake(h, Int32.max)
    }

    /// Takes the GIL back (if the engine uses one).
    @inline(__always) func acquireGIL() {
        if engine.gil.active && !holdsGIL { engine.gil.acquire(); holdsGIL = true }
    }

    /// Runs `body` (which must not touch Conc objects) with the GIL released, marked as a
    /// wait the deadlock detector cannot see through (sleep, input, I/O).
    public func blockingCall<T>(_ body: () throws -> T) rethrows -> T {
        let had = holdsGIL
        releaseGIL()
        engine.units.beginOpaqueWait()
        defer {
            engine.units.endOpaqueWait()
            if had { acquireGIL() }
        }
        return try body()
    }

    /// Blocks until `attempt()` returns true (→ true) or `timeout` seconds pass (→ false;
    /// nil waits forever). `attempt` runs without the GIL: it may only touch C-level state.
    /// `word` is the futex word that changes whenever the attempt may newly succeed;
    /// `waiters`, if given, is incremented while sleeping so wakers can skip the syscall.
    /// In the main unit, Ctrl-C, a timeout or a deadlock report interrupt the wait by
    /// throwing; a wait with no timeout that would leave every unit blocked forever throws
    /// DeadlockError in the main unit. `crossProcess` marks a wait on something another
    /// process could signal; `spins: false` skips the short spin first (for waits that
    /// are never that short).
    func park(word: UnsafeMutablePointer<UInt32>, waiters: Waiters = .none, timeout: Double?, crossProcess: Bool = false,
              spins: Bool = true, reason: @autoclosure () -> BlockReason, attempt: () -> Bool) throws -> Bool {
        if attempt() { return true }
        if let t = timeout, t <= 0 { return false }
        if isMain && engine.deadlocked { engine.thawForCleanup() }
        if spins && spinBeforeParking(attempt) { return true }
        let deadline = timeout.map { monotonicSeconds() + $0 }
        // A wait that another process may end (a primitive shared across a fork) is never
        // part of a deadlock this process can prove alone; the family check
        // (``Engine/familyCheck()``) takes it into account with the other processes.
        // A wait of the main unit while a Conc signal handler is installed is never part of
        // a deadlock: a signal from outside may run the handler, and it may end the wait.
        let forever = timeout == nil && !(isMain && engine.hasSignalHandlers)
        let registry = engine.units
        // Read while this unit still keeps the world from stopping, so no spawn comes
        // between the caller's `crossProcess` and this count.
        let forksSeen = forever ? registry.forksSoFar : 0
        let had = holdsGIL
        releaseGIL()
        var outcome = false
        var ownDeadlock: String? = nil
        var found = registry.block(self, reason(), forever: forever, cross: crossProcess, forksSeen: forksSeen)
        // Set when an attempt succeeded while the family was frozen by a deadlock report.
        var gotWhileFrozen = false
        while true {
            if let d = found {
                found = nil
                if isMain || d.main == nil { ownDeadlock = d.report; break }
                // Another unit must hear it; this one stays blocked, as it would be forever.
                engine.postDeadlock(d.report, to: d.main!)
            }
            let seen = __atomicLoad(word)
            // Attempt and unregister under the registry lock: the detector must never see
            // this unit as blocked once it has in fact proceeded.
            func proceed() -> Bool {
                registry.withLock { () -> Bool in
                    if self.frozenByDeadlock || registry.familyFrozen() { return false }
                    if gotWhileFrozen || attempt() {
                        // Frozen in between (the reporting process's unwinding released what
                        // this attempt got): stay blocked with it, until the family is
                        // thawed (the reporting program caught the error and goes on).
                        if registry.familyFrozen() { gotWhileFrozen = true; return false }
                        registry.unblock(self, forever: forever)
                        return true
                    }
                    return false
                }
            }
            if proceed() { outcome = true; break }
            if isMain && engine.mainInterruptPending {
                // Step out of the wait to answer it: Ctrl-C, a timeout or a deadlock report
                // throw; signal handlers (Conc code, which may block in turn) run, and the
                // wait goes on.
                registry.unblock(self, forever: forever)
                acquireGIL()
                do { try engine.raisePendingInterrupt(self) } catch { if !had { releaseGIL() }; throw error }
                releaseGIL()
                found = registry.block(self, reason(), forever: forever, cross: crossProcess, forksSeen: forksSeen)
                continue
            }
            // Another thread of this process waiting on a primitive only this process uses
            // naps longer: a nap that ends puts the unit at the back of the futex's queue, and
            // waiters are woken in the order they came (as CPython's) only while none
            // re-queues. The main unit (Ctrl-C, signal handlers) and waits that another
            // process may end (the family's checks) keep the short backstop.
            let inFamily = engine.parentPid != nil || engine.hasLiveChildren
            var slice = isMain || crossProcess || inFamily ? Unit.parkSlice : Unit.longParkSlice
            if let d = deadline {
                let left = d - monotonicSeconds()
                if left <= 0 {
                    // What an attempt got while the family was frozen is this wait's.
                    if gotWhileFrozen { outcome = true; registry.unblock(self, forever: forever) }
                    break
                }
                slice = min(slice, left)
            }
            waiters.begin()
            // Once more now that this unit counts as a waiter: a lock freed after `seen` was
            // read, while nobody waited, did not change the word (conc_prim_signal_lock_freed).
            if proceed() { waiters.end(); outcome = true; break }
            waiters.sleep(word, seen, Int64(slice * 1e9))
            waiters.end()
            // A nap that ended with the word unchanged (nothing happened for a whole slice):
            // answer the family checker's round, and be the checker in the main unit.
            if forever && engine.familyStorage != nil && __atomicLoad(word) == seen {
                registry.confirmFamilyRound(line: engine.familyReportLine)
                if isMain, let r = engine.familyCheck() { ownDeadlock = r; break }
            }
        }
        if !outcome { registry.unblock(self, forever: forever) }
        if had { acquireGIL() }
        if let r = ownDeadlock { throw engine.deadlockError(r) }
        if isMain && engine.mainInterruptPending { try engine.raisePendingInterrupt(self) }
        return outcome
    }
}

extension Engine {
    /// "line 4" for a "file:line" in the main script, else the "file:line" itself.
    func displayLocation(_ where_: String) -> String {
        guard let colon = where_.lastIndex(of: ":") else { return where_ }
        let file = where_[..<colon]
        if let main = mainGlobals.get("__file__")?.asStr?.value, main == file {
            return "line " + where_[where_.index(after: colon)...]
        }
        return where_
    }

    /// A DeadlockError carrying `report`.
    func deadlockError(_ report: String) -> PyBaseException {
        deadlocked = true
        // In a spawned child, say which process this is about.
        return pyError(Exc.deadlockError, parentPid == nil ? report : "in process \(processName): " + report)
    }

    /// The main unit caught a DeadlockError (an `except` clause or a suppressing `with`):
    /// the program goes on, so its units are no longer frozen, and the end of the program
    /// waits for its threads again; so do the other processes of a family report, which
    /// are then joined as usual instead of terminated (their units go on once what they
    /// wait for comes, as this process's do).
    func deadlockCaught() {
        guard deadlocked else { return }
        deadlocked = false
        caughtFamilyDeadlockPids = familyDeadlockPids
        familyDeadlockPids = []
        thawForCleanup()
    }

    /// The main unit waits again while its DeadlockError unwinds, in cleanup code (a
    /// `finally` that sets an event and joins the threads, an `__exit__`): the frozen units
    /// may be what it now waits for, so they try again. If they still cannot proceed, the
    /// detector reports the same deadlock, which the cleanup's caller folds into the first
    /// (``isSameDeadlock(_:_:_:)``); if they can (the cleanup set what they waited for), the
    /// wait ends as it would have without the report, instead of never. The program still
    /// ends without waiting for them (``deadlocked`` stays set).
    func thawForCleanup() {
        for w in units.thaw() { conc_futex_wake(w, Int32.max) }
        if let f = familyStorage { conc_family_thaw(f) }
    }

    /// The main unit's handler re-raised the DeadlockError it caught: the program ends with
    /// it, so the end of the program must not wait for the threads (which are blocked for
    /// good) and report the same deadlock a second time.
    func deadlockReraised() {
        deadlocked = true
        if familyDeadlockPids.isEmpty { familyDeadlockPids = caughtFamilyDeadlockPids }
    }

    /// Leaves `report` for `main` and wakes it wherever it is parked.
    func postDeadlock(_ report: String, to main: Unit) {
        let word = units.withLock { () -> UnsafeMutablePointer<UInt32>? in
            main.pendingDeadlock = report
            return units.blockedWord(of: main)
        }
        _ = CConcSys_atomic_or(interruptFlag, InterruptBits.deadlock)
        if let w = word { conc_futex_wake(w, Int32.max) }
    }
}
