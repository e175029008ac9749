// Freeing long chains without deep machine recursion, as CPython's trashcan does.
//
// Releasing the head of a linked list of instances (or a list nested in a list 100000
// deep) runs each link's deinit from inside the previous one's: recursion as deep as the
// chain, which overflows a thread's stack. Containers bracket the release of their
// children with enter()/leave(); past `maxDepth` nested deinits on one thread they park
// the children instead, and the outermost deinit frees what was parked, one batch at a
// time, each starting again from depth 1.
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

enum Trashcan {
    /// Deinits nested on one thread before children are parked. Small enough for the
    /// smallest stacks that free objects (a generator's 1 MiB coroutine stack) in a debug
    /// build too, where a chain of generators takes ~8 KB of stack per link (CPython's
    /// trashcan parks at 50).
    static let maxDepth: Int32 = 100

    /// Starts a container's deinit: true when it may release its children now, false when
    /// it must ``park(_:)`` them. Always pair with ``leave()``.
    @inline(__always) static func enter() -> Bool { CConcSys_trash_enter() <= maxDepth }

    /// Ends a container's deinit; the outermost one frees what was parked.
    @inline(__always) static func leave() {
        if CConcSys_trash_leave() == 0 && CConcSys_trash_parked() != 0 { drain() }
    }

    /// Empties `items`, the elements of a dying list or tuple, inside the bracket: released
    /// now (last first when some class has `__del__`, as CPython's list and tuple deallocs
    /// do), or parked when the deinits are nested too deep.
    @inline(__always) static func releaseSequence(_ items: inout [Value]) {
        if !enter() { park(items) } else { Finalizers.releaseLastFirst(&items) }
        items = []
        leave()
    }

    /// Releases a dying object's fields inside the bracket, so that a chain made of such
    /// objects (`slice(slice(...))`, a closure whose cell holds the previous closure)
    /// counts its depth: `clear` empties the fields, which must be `var`s (a `let` field is
    /// released after the deinit body, outside any bracket). Past the depth, copies of
    /// `fields` are parked first, so that clearing them only drops a count.
    @inline(__always) static func releaseFields(_ fields: @autoclosure () -> [Value], clear: () -> Void) {
        if !enter() { park(fields()) }
        clear()
        leave()
    }

    /// ``releaseFields(_:clear:)`` for fields that are not all `Value`s: `fields` is any
    /// value holding copies of them (a tuple).
    @inline(__always) static func releaseFields(reference fields: @autoclosure () -> Any, clear: () -> Void) {
        if !enter() { park(reference: fields()) }
        clear()
        leave()
    }

    /// Keeps `values` alive until the outermost deinit of this thread frees them.
    static func park(_ values: [Value]) {
        bin.batches.append(values)
        CConcSys_trash_set_parked(1)
    }

    /// Keeps `reference` (a closure, or an object that is not a `Value`) alive until the
    /// outermost deinit of this thread frees it.
    static func park(reference: Any) {
        bin.references.append(reference)
        CConcSys_trash_set_parked(1)
    }

    /// Frees the parked batches: each one's release starts at depth 1 again, and what it
    /// parks in turn is freed by this same loop.
    @inline(never) private static func drain() {
        let b = bin
        _ = CConcSys_trash_enter()  // nested leaves must not drain again
        while !b.batches.isEmpty || !b.references.isEmpty {
            while let batch = b.batches.popLast() {
                _ = batch  // released at the end of this iteration
            }
            while let reference = b.references.popLast() {
                _ = reference
            }
        }
        CConcSys_trash_set_parked(0)
        _ = CConcSys_trash_leave()
    }

    /// This thread's parked batches. Only its own thread touches it.
    private final class Bin {
        var batches: [[Value]] = []
        var references: [Any] = []
    }

    /// The calling thread's bin, made on first use (and freed with the thread).
    private static var bin: Bin { bins.current }
    private static let bins = PerThread { Bin() }
}
