// A value guarded by a pthread mutex, for the runtime tables many threads contend for.
import Glibc

/// `Synchronization.Mutex` without its blind spot for ThreadSanitizer: Swift's Mutex takes
/// a contended lock with a PI futex from code compiled into the uninstrumented runtime
/// (`_lockSlow`), so TSan misses that acquire and reports the guarded accesses as races,
/// hiding real ones. TSan intercepts pthread mutexes. Not recursive; like any lock of the
/// runtime, held only for table work (never while Conc code runs), so no thread holds it
/// when `spawn` or `os.fork()` forks (they stop every other unit first).
final class PosixMutex<State>: @unchecked Sendable {  // safe: `state` is only touched under `mutex`
    /// Allocated once and never moved (a pthread mutex must keep its address).
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Only inside ``withLock(_:)``.
    private var state: State

    init(_ initial: State) {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        state = initial
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` on the state, holding the mutex.
    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
