// The live units of one engine and what each is blocked on: the deadlock detector's view
// of the process, and the list behind `threading.enumerate()`.
import CConcShared
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// What a blocked unit waits for, as the deadlock detector and its report see it.
struct BlockReason {
    /// "waits to acquire lock a (created at line 4)", in plain words; evaluated only for a
    /// report, when every unit is parked.
    let describe: () -> String
    /// The unit that could end the wait (the holder of a lock), if one is known.
    let holder: () -> Unit?
    /// Re-checks, under the registry's lock, whether the wait still cannot proceed.
    let stillBlocked: () -> Bool
    /// The futex word the waiter sleeps on, woken to deliver a DeadlockError.
    let word: UnsafeMutablePointer<UInt32>?
    /// A join() of a unit of this process (a cycle of joins gets its own advice).
    var isJoin = false
    /// True when the wait is on a lock whose holder, a unit of this process, has finished
    /// without releasing it (the report then says so and gives that fix).
    var holderFinished: () -> Bool = { false }
    /// Another process that could end the wait, as a family wait-for edge:
    /// `(kind << 32) | pid` (kind 1: a join of that process, 2: it holds the lock), or 0.
    var otherProcess: () -> UInt64 = { 0 }
}

/// Every live unit of an engine, and which of them are blocked with no timeout.
///
/// All fields are guarded by `mutex`. A unit registers itself as blocked only while it is
/// parked (``Unit/park(word:timeout:reason:attempt:)``), and its successful attempt and
/// unregistration happen under the same lock, so the detector never sees a unit as
/// blocked after it has in fact proceeded.
final class UnitRegistry: @unchecked Sendable {  // every mutable field is guarded by `mutex`
    private var mutex = pthread_mutex_t()
    /// Live units in start order (the main unit first).
    private var live: [Unit] = []
    /// Units parked with no timeout, and on what; `cross` marks a wait that another process
    /// could end (a primitive shared across a fork, the join of a child process).
    private var blocked: [ObjectIdentifier: (unit: Unit, reason: BlockReason, cross: Bool)] = [:]
    /// How many entries of `blocked` are `cross`.
    private var crossBlocked = 0
    /// How many children this process has spawned (``markWaitsReachableByChild()``).
    private var childForks = 0
    /// ``childForks`` now, for a unit about to park (see ``block(_:_:forever:cross:forksSeen:)``).
    var forksSoFar: Int { withLock { childForks } }
    /// This process's slot in the family table (``Engine/familyCheck()``), once it has one.
    private(set) var family: OpaquePointer?
    private(set) var familySlot: Int32 = -1
    /// True while the slot says "quiescent": every live unit parked with no timeout, none
    /// in an opaque wait (its waits may still be ones another process could end).
    private(set) var quiescent = false
    /// Units parked with a timeout (they will wake by themselves: never a deadlock).
    private var timed = 0
    /// Units busy in something the detector cannot see through (input(), sleep, I/O).
    private var opaque = 0
    /// Units created so far (unit numbers), threads started (`Thread-N`), processes
    /// spawned (`Process-N`).
    private var created: UInt32 = 0
    private var started = 0
    private var spawned = 0
    /// The names of the last units to finish, by unit number, so that a report can name
    /// the holder of a lock it left taken. A ring, not a map of every finished unit: one
    /// store per unit end keeps starting and joining thousands of threads cheap.
    private var finishedNames = [(number: UInt32, name: String)](repeating: (0, ""), count: 64)
    private var nextFinished = 0

    init() { initMutex() }

    /// A recursive mutex: a report built under it may look units up again.
    private func initMutex() { initRecursiveMutex(&mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    func add(_ u: Unit) { withLock { live.append(u); updateQuiescence() } }

    /// True when a family deadlock report named this process: its units stay blocked.
    /// (Caller holds the lock.)
    func familyFrozen() -> Bool {
        guard let f = family else { return false }
        return conc_family_frozen(f, familySlot) != 0
    }

    /// After a family deadlock report by this process's main unit: its other units stay
    /// blocked for good, as in a report of this process alone.
    func freezeAllButMain() { withLock { for u in live where !u.isMain { u.frozenByDeadlock = true } } }

    /// After the main unit caught the DeadlockError: the frozen units may proceed again
    /// when something wakes them (the program chose to go on, and may now put the item or
    /// release the lock they wait for). Returns the words they sleep on, to wake them for
    /// one more attempt (what the main unit's unwinding released is theirs now).
    func thaw() -> [UnsafeMutablePointer<UInt32>] {
        withLock {
            var words: [UnsafeMutablePointer<UInt32>] = []
            for u in live where u.frozenByDeadlock {
                u.frozenByDeadlock = false
                if let w = blocked[ObjectIdentifier(u)]?.reason.word { words.append(w) }
            }
            return words
        }
    }

    /// Records this process's slot in the family table.
    func setFamily(_ f: OpaquePointer, slot: Int32) {
        withLock { family = f; familySlot = slot; quiescent = false; updateQuiescence() }
    }

    /// Says in the family slot whether this process is quiescent now (called with `mutex`
    /// held after every change of the counts).
    private func updateQuiescence() {
        guard let f = family else { return }
        let q = !live.isEmpty && timed == 0 && opaque == 0 && blocked.count == live.count
        if q != quiescent { quiescent = q; conc_family_set_quiescent(f, familySlot, q ? 1 : 0) }
    }

    /// Answers the family checker's current round, if not yet done: when every unit's wait
    /// still cannot proceed, confirms it with the units' waits in words and the wait-for
    /// edges. Called by parked units after each nap. `holdings` finishes a unit's line with
    /// the locks it holds (", holding lock a (...)").
    func confirmFamilyRound(line: (Unit, String) -> String) {
        withLock {
            guard quiescent, let f = family else { return }
            let round = conc_family_round(f)
            guard round != 0, conc_family_confirmed_round(f, familySlot) != round else { return }
            var lines: [String] = []
            var edges: [UInt64] = []
            for u in live {
                guard let b = blocked[ObjectIdentifier(u)], b.reason.stillBlocked() else { return }
                lines.append(line(u, b.reason.describe()))
                let e = b.reason.otherProcess()
                if e != 0 && !edges.contains(e) { edges.append(e) }
            }
            conc_family_confirm(f, familySlot, round, conc_family_seq(f, familySlot), lines.joined(separator: "\n"),
                                edges, UInt32(min(edges.count, Int(CONC_FAMILY_EDGES))))
        }
    }

    /// A fresh unit number (never 0).
    func nextUnitNumber() -> UInt32 { withLock { created += 1; return created } }

    /// The next `Process-N` number.
    func nextProcessNumber() -> Int { withLock { spawned += 1; return spawned } }

    /// In a forked child: only `u` exists (the other threads did not survive the fork);
    /// the lock is re-initialised in case one of them held it.
    func resetAfterFork(keeping u: Unit) {
        initMutex()
        // The other threads do not exist in the child: their handles read as finished, so
        // is_alive() is False and join() returns at once, as after CPython's fork.
        for x in live where x !== u {
            if let h = x.handle, h.kind == .thread { __atomicStore(h.done, 1) }
        }
        live = [u]
        blocked = [:]
        crossBlocked = 0
        timed = 0
        opaque = 0
        family = nil
        familySlot = -1
        quiescent = false
    }

    /// The next `Thread-N` number.
    func nextThreadNumber() -> Int { withLock { started += 1; return started } }

    /// Removes a finished unit; returns a deadlock report if the units left are now all
    /// blocked forever (the finished unit may have been the only one able to wake them).
    func remove(_ u: Unit) -> (report: String, main: Unit?)? {
        withLock {
            live.removeAll { $0 === u }
            finishedNames[nextFinished] = (u.number, u.name)
            nextFinished = (nextFinished + 1) % finishedNames.count
            updateQuiescence()
            return detect()
        }
    }

    var liveUnits: [Unit] {
        #if CONC_TSAN
        withLock { freshCopy(live) }  // an unshared copy: see freshCopy (ObjectLocks.swift)
        #else
        withLock { live }
        #endif
    }

    /// The handle of a live non-main, non-daemon unit (the end of the program waits for
    /// it), read under the lock: a unit lets go of its handle once it has left the
    /// registry, and read outside the lock the handle could be freed under the reader.
    func nonDaemonHandle() -> PyUnitHandle? {
        withLock { live.first { !$0.isMain && !$0.isDaemon }?.handle }
    }

    /// The handles of the live units (made for those that have none yet), under the lock.
    func liveHandles() -> [PyUnitHandle] {
        withLock { live.map { $0.ownHandle() } }
    }

    /// The live unit with this number, if any.
    func unit(number: UInt32) -> Unit? { withLock { live.first { $0.number == number } } }

    /// The name of a unit that has finished, if it is among the last ones to.
    func finishedName(number: UInt32) -> String? {
        withLock { finishedNames.first { $0.number == number && !$0.name.isEmpty }?.name }
    }

    /// Marks `u` parked; with no timeout, checks whether the whole engine is now stuck.
    /// A `cross` wait (one another process could end) never makes a deadlock of this
    /// process alone, but counts toward its quiescence in the family.
    /// `forksSeen` (``forksSoFar``, read before the unit stepped out of the interpreter to
    /// park) makes the wait `cross` when a spawn came in between: its
    /// ``markWaitsReachableByChild()`` ran before this unit was registered, and the caller
    /// decided `cross` before the fork.
    func block(_ u: Unit, _ reason: BlockReason, forever: Bool, cross: Bool = false, forksSeen: Int? = nil) -> (report: String, main: Unit?)? {
        withLock {
            let forkedSince = forksSeen.map { $0 != childForks } ?? false
            let cross = cross || (forkedSince && !reason.isJoin)
            if forever {
                blocked[ObjectIdentifier(u)] = (u, reason, cross)
                if cross { crossBlocked += 1 }
            } else { timed += 1 }
            updateQuiescence()
            return forever ? detect() : nil
        }
    }

    /// After a fork, in the parent: the child has a copy of every primitive, so a wait that
    /// began before it (a thread already in `q.get()` on the queue the child will put to)
    /// may now be ended by another process, as a wait that begins now would count. Joins of
    /// this process's units stay as they are.
    func markWaitsReachableByChild() {
        withLock {
            childForks += 1
            for (k, b) in blocked where !b.cross && !b.reason.isJoin {
                blocked[k] = (b.unit, b.reason, true)
                crossBlocked += 1
            }
        }
    }

    /// Unmarks `u` (called with the registry locked, right after its successful attempt, or
    /// when it gives up).
    func unblock(_ u: Unit, forever: Bool) {
        withLock {
            if forever {
                if let b = blocked.removeValue(forKey: ObjectIdentifier(u)), b.cross { crossBlocked -= 1 }
            } else { timed -= 1 }
            updateQuiescence()
        }
    }

    /// The futex word `u` is parked on, if it is parked with no timeout (caller holds the lock).
    func blockedWord(of u: Unit) -> UnsafeMutablePointer<UInt32>? { blocked[ObjectIdentifier(u)]?.reason.word }

    /// Marks a stretch in which `u` waits for something outside the detector's view.
    func beginOpaqueWait() { withLock { opaque += 1; updateQuiescence() } }
    func endOpaqueWait() { withLock { opaque -= 1; updateQuiescence() } }

    /// The deadlock report when every live unit is parked forever and none of their waits
    /// can proceed; nil otherwise. Called with `mutex` held.
    private func detect() -> (report: String, main: Unit?)? {
        guard !live.isEmpty, timed == 0, opaque == 0, crossBlocked == 0, blocked.count == live.count else { return nil }
        // A signal on its way will interrupt the main unit (KeyboardInterrupt, a handler).
        if CConcSys_signal_on_the_way() != 0 { return nil }
        for u in live {
            guard let b = blocked[ObjectIdentifier(u)], b.reason.stillBlocked() else { return nil }
        }
        // The units other than the main one stay blocked for good, as the report says: when
        // the main unit unwinds (releasing what it held), they must not suddenly go on and
        // print what the learner was told can never happen.
        for u in live where !u.isMain { u.frozenByDeadlock = true }
        return (deadlockReport(), live.first { $0.isMain })
    }

    /// The wait-for graph in words: who waits for what, held by whom, and the cycle.
    private func deadlockReport() -> String {
        var lines = ["every unit is blocked and none of them can wake another:"]
        var heldByFinished = false
        for u in live {
            guard let b = blocked[ObjectIdentifier(u)] else { continue }
            heldByFinished = heldByFinished || b.reason.holderFinished()
            lines.append("  \(u.name) \(b.reason.describe())")
        }
        // Follow "waits for a lock held by" edges from the main unit to find a cycle.
        var path: [Unit] = []
        var current = live.first { $0.isMain } ?? live[0]
        while !path.contains(where: { $0 === current }) {
            path.append(current)
            guard let b = blocked[ObjectIdentifier(current)], let h = b.reason.holder() else { path = []; break }
            current = h
        }
        if !path.isEmpty, let start = path.firstIndex(where: { $0 === current }) {
            let cycle = path[start...].map(\.name) + [current.name]
            let joins = path[start...].map { blocked[ObjectIdentifier($0)]?.reason.isJoin ?? false }
            if cycle.count == 2 {
                lines.append("  \(current.name) waits for a lock it already holds itself")
            } else {
                lines.append("  cycle: " + cycle.joined(separator: " -> "))
            }
            if cycle.count == 2 && !joins.contains(true) {
                // threading.Lock / multiprocessing.Lock taken again by its holder (the core
                // lock() is reported at once, with its own hint, before it ever parks).
                lines.append("  fix: use an RLock (threading.RLock(), multiprocessing.RLock() or rlock()) for a lock the same unit may take again, or release it before taking it again")
            } else if joins.allSatisfy({ $0 }) {
                lines.append("  fix: units that join each other all wait for good: let one side finish without joining the other, or join with a timeout")
            } else if joins.contains(true) {
                lines.append("  fix: do not join a unit while holding a lock it needs: release the lock before join(), or join with a timeout")
            } else {
                lines.append("  fix: take the locks in the same order in every unit, hold one at a time, or use acquire(timeout=...) and back off")
            }
        } else if heldByFinished {
            lines.append("  nothing left running can release a lock whose holder has finished")
            lines.append("  fix: release every lock before the unit that took it ends: `with the_lock:` releases it even when the block raises")
        } else {
            // (A waiter's line names a Barrier when PyCondition.barrierWait recognised one.)
            let waits = lines.dropFirst()
            let atBarrier = waits.contains { $0.contains(" waits at Barrier ") }
            let onlyBarriers = waits.allSatisfy { $0.contains(" waits at Barrier ") || $0.contains(" waits in join() ") }
            lines.append("  nothing left running can release, set, put or notify what they wait for")
            if !onlyBarriers || !atBarrier {
                lines.append("  fix: make sure every wait has a unit that will signal it (a missing release(), set(), put() or notify()), or wait with a timeout")
            }
            // A pool worker waiting for a Future: a task waiting for another task of its
            // own executor, which no free worker is left to run.
            if waits.contains(where: { $0.hasPrefix("  ThreadPoolExecutor-") && ($0.contains(" waits for a Future ") || $0.contains(" waits for Future ")) }) {
                lines.append("  fix: a task that waits for another task of its own executor keeps a worker busy; when every worker waits, the other task never starts: give the executor more max_workers, or do not wait for tasks inside a task")
            }
            if atBarrier {
                lines.append("  fix: a Barrier(n) lets its waiters go only once n units have called wait(): start as many units as its parties, create it with the number that will come, or wait(timeout=...)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Initialises (or, in a forked child, re-initialises) `m` as a recursive mutex.
func initRecursiveMutex(_ m: UnsafeMutablePointer<pthread_mutex_t>) {
    var attr = pthread_mutexattr_t()
    pthread_mutexattr_init(&attr)
    pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_RECURSIVE))
    pthread_mutex_init(m, &attr)
    pthread_mutexattr_destroy(&attr)
}
