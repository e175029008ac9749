// Weak references (`weakref.ref`): a Swift `weak` reference to the referent, which reads
// nil as soon as the referent starts dying (Conc objects are reference counted, as
// CPython's are, so `del x` ends an object at once here too).
//
// Callbacks need to hear of the death. Every weak reference is listed in `WeakReferents`
// under its referent's address; the deinit of every kind of object that accepts weak
// references (`WeakReferents.noteDeath`) checks one bit of a filter over addresses, and
// only on a hit looks the address up, takes its references out and queues their
// callbacks on this thread, to be called after the current statement like `__del__`
// (Finalizers.swift): never inside a deinit.
import CConcSys
import Synchronization

/// `weakref.ref(obj, callback=None)`: calling it gives the referent, or None once it died.
/// Its fields are set at creation and never change, except `hashCache` (atomic) and a
/// subclass instance's `subclassAttributes` (under `locked`, ``SubclassAttributes``).
final class PyWeakRef: PyObject, SubclassAttributes, @unchecked Sendable {  // fields immutable, atomic or locked
    /// The referent; nil once it started dying. Written only by init.
    private(set) weak var target: PyObject?
    /// Called with this reference when the referent dies (None: no callback). Fixed by
    /// init; `var` only so that deinit releases it in the trashcan's bracket.
    private(set) var callback: Value
    /// hash(referent), kept once computed (it must stay the same after the death): the
    /// hash plus one (never 0: hash() never gives -1), 0 while not computed.
    private let hashCache = Atomic<Int>(0)
    /// Attributes of an instance of a user subclass of ref.
    var subclassAttributes: PyDict?

    init(type: PyType, target: PyObject, callback: Value) {
        self.target = target
        self.callback = callback
        super.init(type: type)
    }
    deinit { Trashcan.releaseFields([callback]) { callback = .none } }

    /// `r()`: the referent, or None once it died.
    func call(_ a: Args) throws -> Value {
        if a.count != 0 || !a.keywords.isEmpty {
            throw typeError("weakref expected 0 arguments, got \(a.count + a.keywords.count)")
        }
        return target.map { .obj($0) } ?? .none
    }

    /// hash(referent), computed once; TypeError when it died before anyone asked.
    func hash(_ u: Unit) throws -> Int {
        let cached = hashCache.load(ordering: .acquiring)
        if cached != 0 { return cached - 1 }
        guard let t = target else { throw typeError("weak object has gone away") }
        let h = try u.hash(.obj(t))
        hashCache.store(h &+ 1, ordering: .releasing)
        return h
    }
}

/// An object's address, the key of its weak references.
@inline(__always) func addressOf(_ o: PyObject) -> UInt { UInt(bitPattern: Unmanaged.passUnretained(o).toOpaque()) }

/// The weak references of every referent, by address (see the file's comment).
enum WeakReferents {

    /// A weak reference to a reference, so that a dropped `ref` object dies.
    private struct Entry { weak var ref: PyWeakRef? }

    /// Address → its live weak references, oldest first. Held only for table work, never
    /// while Conc code runs; `spawn` and `os.fork()` stop every other unit first, so no
    /// thread holds it at a fork.
    private static let table = PosixMutex<[UInt: [Entry]]>([:])

    /// A filter over referent addresses: a set bit means "maybe listed". Bits are set for
    /// good (a false hit costs one table lookup). 2^16 bits in 32-bit words.
    private static let filterBits = 1 << 16
    // Safe to share: its words are only read and set through C atomics.
    nonisolated(unsafe) private static let filter: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: filterBits / 32)
        p.initialize(repeating: 0, count: filterBits / 32)
        return p
    }()

    @inline(__always) private static func bit(_ address: UInt) -> (word: Int, mask: Int32) {
        let i = Int((address >> 4) & UInt(filterBits - 1))
        return (i >> 5, Int32(bitPattern: UInt32(1) << UInt32(i & 31)))
    }

    /// Called by the deinit of every kind of object that accepts weak references
    /// (``acceptsWeakReferences(_:)``): one relaxed load of a C global (no lazy-global
    /// check) until the first weak reference.
    @inline(__always) static func noteDeath(_ o: PyObject) {
        guard CConcSys_weakrefs_used() != 0 else { return }
        let address = addressOf(o)
        if mayBeListed(address) { died(address) }
    }

    /// True when the object at `address` may have weak references: one load.
    @inline(__always) static func mayBeListed(_ address: UInt) -> Bool {
        let (w, m) = bit(address)
        return CConcSys_atomic_load(filter + w) & m != 0
    }

    /// A new weak reference to `target`, or the existing plain one (a `ref` without a
    /// callback is shared, as in CPython, when `reuse` is set).
    static func reference(to target: PyObject, type: PyType, callback: Value, reuse: Bool) -> PyWeakRef {
        let address = addressOf(target)
        let (made, taken): (PyWeakRef, [PyWeakRef]) = table.withLock { t in
            // Strong references first: a ref may die on another thread at any moment.
            var live = (t[address] ?? []).compactMap { $0.ref }
            if reuse, let same = live.first(where: { $0.callback.isNone && $0.type === type }) { return (same, live) }
            let r = PyWeakRef(type: type, target: target, callback: callback)
            live.append(r)
            t[address] = live.map { Entry(ref: $0) }
            let (w, m) = bit(address)
            _ = CConcSys_atomic_or(filter + w, m)
            CConcSys_set_weakrefs_used()  // for good, in every interpreter of the process
            return (r, live)
        }
        // The references taken are let go after the lock: one may be the last (its owner
        // dropped it meanwhile), and freeing it frees its callback, whose own weak
        // references are then forgotten through this same lock (died).
        withExtendedLifetime(taken) {}
        return made
    }

    /// The live weak references to `target`, oldest first.
    static func references(to target: PyObject) -> [PyWeakRef] {
        let address = addressOf(target)
        guard mayBeListed(address) else { return [] }
        return table.withLock { t in (t[address] ?? []).compactMap { $0.ref } }
    }

    /// From the deinit of the object at `address`: forgets its references and queues the
    /// callbacks of those still alive, newest first (CPython's order).
    static func died(_ address: UInt) {
        let entries: [Entry]? = table.withLock { t in t.removeValue(forKey: address) }
        guard let entries else { return }
        for e in entries.reversed() {
            guard let r = e.ref, !r.callback.isNone else { continue }
            Finalizers.queue(callback: r)
        }
    }
}
