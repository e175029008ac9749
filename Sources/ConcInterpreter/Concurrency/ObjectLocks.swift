// Free-threaded evaluation keeps the interpreter's own structures intact with one rule:
// every read or write of a mutable object's storage (list items, dict and set tables,
// instance shape and slots, cell values, class namespaces, shape transitions) happens
// inside `locked` on that object. Racy Conc programs still lose updates, as learners should
// see, but no Swift array is ever read while another thread reallocates it.
import CConcSys

/// Process-wide switch for object locking. Off until the process first runs two units in
/// parallel, and off again in a fork()ed child (which has one thread). It is process state,
/// not interpreter state: objects are shared by OS threads, whichever engine started them.
enum ObjectLocks {
    /// Whether units may be evaluating in parallel (so object locks must be taken).
    @inline(__always) static var active: Bool { CConcSys_objects_shared() != 0 }
    /// Called by the unit that starts the first free-running thread, before it starts it.
    static func enable() { CConcSys_objects_shared_enable() }
    /// In a fork()ed child: one thread, which held no object lock at the fork.
    static func resetAfterFork() { CConcSys_objects_shared_reset_after_fork() }
}

extension PyObject {
    /// Runs `body` holding this object's lock when units evaluate in parallel; just runs it
    /// otherwise. The lock is recursive. `body` must not run Conc code, block, or take
    /// another object's lock (two threads each holding one and wanting the other's would
    /// deadlock): copy out what a callback or a second object needs (a Swift array copy is
    /// O(1)), release, then go on.
    @inline(__always) final func locked<R>(_ body: () throws -> R) rethrows -> R {
        try withObjectLock(self, body)
    }
}

/// Runs `body` holding the striped lock of `object` (any class instance, e.g. `Globals`)
/// when units run in parallel: the same rules as ``PyObject/locked(_:)``.
@inline(__always) func withObjectLock<R>(_ object: AnyObject, _ body: () throws -> R) rethrows -> R {
    guard ObjectLocks.active else { return try body() }
    let p = Unmanaged.passUnretained(object).toOpaque()
    CConcSys_object_lock(p)
    defer { CConcSys_object_unlock(p) }
    return try body()
}

/// Objects every unit reads on its hot path (tree nodes, ...) are made immortal: Swift's
/// retain and release of an immortal object only read its refcount word, so units on
/// different cores stop bouncing that cache line between them (which made two threads of
/// a CPU-bound loop slower than one). They are never freed; they live as long as the code
/// that holds them in practice.
enum Immortal {
    static func make(_ o: AnyObject) {
        let p = Unmanaged.passUnretained(o).toOpaque()
        _swift_stdlib_immortalize(p)
        // The runtime marks the object immortal with a strong count of 0, so the first
        // release still takes the fast path and writes (and clears the "slow" bit, making
        // every later release write too). Give the immortal word a large strong count, as
        // the runtime's own static immortal objects have: then retain and release both
        // stay read-only. Only the exact word the runtime wrote is changed.
        CConcSys_settle_immortal(p)
    }
}

/// The Swift runtime's own entry point (libswiftCore exports it; Swift's benchmarks use it).
@_silgen_name("_swift_stdlib_immortalize")
private func _swift_stdlib_immortalize(_ object: UnsafeMutableRawPointer)

/// A copy of `a` in a buffer of its own. Snapshots use it in ThreadSanitizer builds
/// (`-D CONC_TSAN`, scripts/tsan): a copy-on-write snapshot read outside the lock and later
/// dropped, then the container changed in place under its lock, are ordered by the buffer's
/// reference count inside the Swift runtime, which TSan cannot see, so every such hand-off
/// would be reported as a race. With unshared snapshots, what TSan reports is real.
func freshCopy<T>(_ a: [T]) -> [T] { a.withUnsafeBufferPointer { Array($0) } }
