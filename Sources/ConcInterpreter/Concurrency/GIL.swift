// The interpreter lock, in one of two modes.
// - Exclusive (`conc --gil`): the global interpreter lock. While threads exist, exactly one
//   OS thread evaluates Conc code at a time; the holder hands it over every `interval`
//   seconds when another thread waits, and releases it around every blocking call (sleep,
//   acquire, get, join, input), as CPython 3.2+ does.
// - Shared (the default, free-threaded): every unit evaluating Conc code holds it at once,
//   released around the same blocking calls. Its one use is stopping the world: `fork()`
//   waits until every other unit is outside the interpreter (parked, blocked, or at a poll
//   point), so the child never inherits a half-done mutation or a held object lock.
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// One engine's interpreter lock. Inactive (free, never taken) until the program starts its
/// first thread; from then on every unit evaluating Conc code holds it (alone, in exclusive
/// mode).
///
/// All fields are guarded by `mutex`, except `active` (written once, by the holder, before
/// the first thread exists) and the drop-request bit, which lives in the engine's
/// interrupt flag word so that the evaluator's one poll covers both.
final class GIL: @unchecked Sendable {  // every mutable field is guarded by `mutex`
    private var mutex = pthread_mutex_t()
    /// Signalled when the lock is released.
    private var released = pthread_cond_t()
    /// Signalled when the lock is taken (a yielding holder waits for a switch to happen).
    private var taken = pthread_cond_t()
    private var locked = false
    /// Counts acquisitions, so a waiter can tell whether anyone switched in the meantime.
    private var switches: UInt64 = 0
    /// Units waiting to acquire.
    private var waiting = 0
    /// True once a second thread exists: from then on units take the lock to evaluate.
    private(set) var active = false
    /// The engine's interrupt flag word, where the drop request is posted.
    private let flag: UnsafeMutablePointer<Int32>
    /// How long a waiter lets the holder run before asking it to drop the lock.
    var interval: Double = 0.005
    /// True for the GIL; false for free-threaded evaluation. Fixed at creation.
    let exclusive: Bool
    /// Shared mode: how many units hold the lock (evaluate Conc code).
    private var attached = 0
    /// Shared mode: a unit is stopping the world; attaching waits until it resumes.
    private var stopping = false

    init(flag: UnsafeMutablePointer<Int32>, exclusive: Bool) {
        self.flag = flag
        self.exclusive = exclusive
        initSynchronization()
    }

    /// The mutex and both condition variables, afresh: at creation, and in a forked child,
    /// where the parent's threads may have been waiting on the copied condition variables
    /// (a broadcast then waits forever for waiters that do not exist in the child).
    private func initSynchronization() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&released, &attr)
        pthread_cond_init(&taken, &attr)
        pthread_condattr_destroy(&attr)
    }

    /// Called by the running unit before it starts the first thread: from now on it holds
    /// the lock.
    func activate() {
        pthread_mutex_lock(&mutex)
        if !active {
            active = true
            if exclusive { locked = true; switches += 1 } else { attached = 1; ObjectLocks.enable() }
        }
        pthread_mutex_unlock(&mutex)
    }

    /// In a forked child (one thread): idle and inactive again; the mutex and condition
    /// variables are re-initialised, since other threads held or waited on them at the fork.
    func resetAfterFork() {
        initSynchronization()
        locked = false
        waiting = 0
        active = false
        attached = 0
        stopping = false
        ObjectLocks.resetAfterFork()
    }

    /// Blocks until the calling thread holds the lock.
    func acquire() {
        pthread_mutex_lock(&mutex)
        if !exclusive {
            while stopping { pthread_cond_wait(&released, &mutex) }
            attached += 1
            pthread_mutex_unlock(&mutex)
            return
        }
        waiting += 1
        while locked {
            let before = switches
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            let ns = deadline.tv_nsec + Int(interval * 1e9)
            deadline.tv_sec += ns / 1_000_000_000
            deadline.tv_nsec = ns % 1_000_000_000
            let rc = pthread_cond_timedwait(&released, &mutex, &deadline)
            if rc == ETIMEDOUT && locked && switches == before {
                _ = CConcSys_atomic_or(flag, InterruptBits.gilDrop)
            }
        }
        waiting -= 1
        locked = true
        switches += 1
        _ = CConcSys_atomic_and_not(flag, InterruptBits.gilDrop)
        pthread_cond_broadcast(&taken)
        pthread_mutex_unlock(&mutex)
    }

    /// Releases the lock held by the calling thread.
    func release() {
        pthread_mutex_lock(&mutex)
        if !exclusive {
            attached -= 1
            if stopping { pthread_cond_signal(&taken) }
            pthread_mutex_unlock(&mutex)
            return
        }
        locked = false
        pthread_cond_signal(&released)
        pthread_mutex_unlock(&mutex)
    }

    /// The holder's answer to a drop request: release, wait until a waiter has taken the
    /// lock (so the same thread does not simply take it back), then queue up again.
    func yieldToWaiter() {
        pthread_mutex_lock(&mutex)
        if !exclusive {
            let stop = stopping
            pthread_mutex_unlock(&mutex)
            if stop { release(); acquire() }
            return
        }
        _ = CConcSys_atomic_and_not(flag, InterruptBits.gilDrop)
        guard waiting > 0 else { pthread_mutex_unlock(&mutex); return }
        locked = false
        let before = switches
        pthread_cond_signal(&released)
        while switches == before && waiting > 0 { pthread_cond_wait(&taken, &mutex) }
        pthread_mutex_unlock(&mutex)
        acquire()
    }
}

extension GIL {
    /// Shared mode: returns once the calling unit (which holds the lock) is the only one
    /// evaluating Conc code; the others wait at their next poll point or when they come back
    /// from a blocking call, until ``resumeTheWorld()``. Exclusive mode: the holder is alone
    /// already. Never hold an object lock while calling this.
    func stopTheWorld() {
        guard active, !exclusive else { return }
        pthread_mutex_lock(&mutex)
        while stopping {  // another unit stops the world first: let it, then go on
            attached -= 1
            pthread_cond_signal(&taken)
            pthread_cond_wait(&released, &mutex)
            attached += 1
        }
        stopping = true
        _ = CConcSys_atomic_or(flag, InterruptBits.gilDrop)
        while attached > 1 { pthread_cond_wait(&taken, &mutex) }
        pthread_mutex_unlock(&mutex)
    }

    /// Lets the units stopped by ``stopTheWorld()`` go on.
    func resumeTheWorld() {
        guard active, !exclusive else { return }
        pthread_mutex_lock(&mutex)
        stopping = false
        _ = CConcSys_atomic_and_not(flag, InterruptBits.gilDrop)
        pthread_cond_broadcast(&released)
        pthread_mutex_unlock(&mutex)
    }
}

/// Bits of the engine's interrupt flag word, polled by the evaluator at loop back-edges
/// and calls.
enum InterruptBits {
    /// Ctrl-C (or `Interpreter.interrupt()`): KeyboardInterrupt in the main unit.
    static let keyboard: Int32 = 1
    /// The embedding time limit ran out: TimeoutError in the main unit.
    static let timeout: Int32 = 2
    /// A thread waits for the GIL: its holder should hand it over (exclusive mode); a unit
    /// stops the world: every other unit should step out of the interpreter (shared mode).
    static let gilDrop: Int32 = 4
    /// The deadlock detector left a DeadlockError for the main unit.
    static let deadlock: Int32 = 8
    /// A signal with a Conc handler (signal.signal) was caught: the main unit runs the
    /// handlers of the pending set at its next poll. Set by the C handler (CONC_INTERRUPT_SIGNAL).
    static let signal: Int32 = 16
}
