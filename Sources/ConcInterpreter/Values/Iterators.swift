// Iterator objects: the base class every native iterator derives from, and the iterators
// of the builtin sequences.
//
// Free-threaded evaluation: threads may share one iterator (`for x in it` in several
// workers). Each item must go to exactly one of them, as CPython's GIL makes it: the
// position of the sequence iterators is an atomic counter (fetch-and-add claims an index;
// read once, it is bounds-checked before use), and the closure iterators (map, zip,
// enumerate...) let one thread at a time make an item. Until the process first runs two
// units in parallel (ObjectLocks.active), plain loads and stores do: no atomic
// read-modify-write costs a single-threaded loop anything.
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Atomic where Value == Int {
    /// Claims a position: returns the current value and moves it on by `delta`, atomically
    /// while units run in parallel.
    @inline(__always) func claim(_ delta: Int = 1) -> Int {
        if ObjectLocks.active { return wrappingAdd(delta, ordering: .relaxed).oldValue }
        let i = load(ordering: .relaxed)
        store(i &+ delta, ordering: .relaxed)
        return i
    }

    /// The next index below `count` (nil once past it: the position stops moving on).
    @inline(__always) func claim(below count: Int) -> Int? {
        if load(ordering: .relaxed) >= count { return nil }
        let i = claim()
        return i < count ? i : nil
    }
}

/// Waits until `claimed()` succeeds, while another thread makes an item of an iterator that
/// threads take turns at: briefly yielding, then sleeping a little longer each time (up to
/// 1 ms, so a turn held for long costs little CPU); Ctrl-C still interrupts.
@inline(never) func waitForTurn(_ u: Unit, until claimed: () -> Bool) throws {
    var pause: UInt32 = 0
    while !claimed() {
        if pause == 0 { sched_yield(); pause = 1; continue }
        usleep(pause)
        pause = min(pause * 2, 1000)
        try u.checkInterrupt()
    }
}

/// An iterator. Native subclasses override `next`; Python-level iterators (objects with
/// `__next__`) are wrapped by ``PyUserIterator``.
public class PyIter: PyObject {
    init() { super.init(type: Types.iterator) }
    init(type: PyType) { super.init(type: type) }
    /// The next item, or nil when exhausted. Never throws StopIteration itself.
    func next(_ u: Unit) throws -> Value? { nil }
    /// How many items are left (`__length_hint__`), for the iterators that know.
    var lengthHint: Int? { nil }
    /// ``lengthHint`` for the iterators that must run Conc code to know (a `__len__`).
    func lengthHint(_ u: Unit) throws -> Int? { lengthHint }
}

/// `reversed(seq)` of an object with `__len__` and `__getitem__`, as CPython's reversed
/// object: from len-1 down; an IndexError (or StopIteration) from `__getitem__` ends it.
final class PyReversedSequence: PyIter {
    /// Fixed by init; `var` only so that deinit releases it in the trashcan's bracket.
    private(set) var sequence: Value
    /// The next index to read, counting down; -1 once done. Claimed atomically.
    private let index: Atomic<Int>
    init(_ sequence: Value, count: Int) {
        self.sequence = sequence; index = Atomic(count - 1)
        super.init(type: Types.reversedIterator)
    }
    deinit { Trashcan.releaseFields([sequence]) { sequence = .none } }
    override func next(_ u: Unit) throws -> Value? {
        if index.load(ordering: .relaxed) < 0 { return nil }
        let i = index.claim(-1)
        guard i >= 0 else { return nil }
        do { return try u.getItem(sequence, .int(i)) }
        catch let e as PyBaseException where e.type.isSubtype(of: Exc.indexError) || e.type.isSubtype(of: Exc.stopIteration) {
            index.store(-1, ordering: .relaxed)
            return nil
        }
    }
    /// The items left, unless the sequence shrank below them (its `__len__` asked again).
    override func lengthHint(_ u: Unit) throws -> Int? {
        let left = index.load(ordering: .relaxed) + 1
        if left <= 0 { return 0 }
        return try u.length(sequence) < left ? 0 : left
    }
}

/// Iterates a snapshot-free view of a list: sees appends made during iteration, as CPython.
final class PyListIterator: PyIter {
    let list: PyList
    /// The next index to claim.
    private let index = Atomic<Int>(0)
    /// Set once an index fell outside the list: exhausted for good, as CPython's (later
    /// appends are not seen).
    private let exhausted = Atomic<Bool>(false)
    init(_ l: PyList) { list = l; super.init(type: Types.listIterator) }
    override func next(_ u: Unit) throws -> Value? { nextItem() }
    /// ``next(_:)`` without the virtual call, for loops that know the iterator's class.
    @inline(__always) func nextItem() -> Value? {
        if exhausted.load(ordering: .relaxed) { return nil }
        let i = index.claim()
        // Bounds check and read in one critical section: another unit may shrink the list.
        guard let v = list.item(at: i) else {
            exhausted.store(true, ordering: .relaxed)
            return nil
        }
        return v
    }
    override var lengthHint: Int? { exhausted.load(ordering: .relaxed) ? 0 : max(list.count - index.load(ordering: .relaxed), 0) }
}

/// `iter(bytearray)`: reads the live array, so bytes appended while iterating are seen and
/// a cleared array ends the iteration, as CPython's bytearray_iterator does.
final class PyBytearrayIterator: PyIter {
    let array: PyBytes
    /// The next index to claim.
    private let index = Atomic<Int>(0)
    /// Set once an index fell outside the array: exhausted for good.
    private let exhausted = Atomic<Bool>(false)
    init(_ b: PyBytes) { array = b; super.init(type: Types.bytearrayIterator) }
    override func next(_ u: Unit) throws -> Value? {
        if exhausted.load(ordering: .relaxed) { return nil }
        let i = index.claim()
        // Bounds check and read in one critical section: another unit may shrink the array.
        guard let byte = array.withBytes({ i < $0.count ? $0[i] : nil }) else {
            exhausted.store(true, ordering: .relaxed)
            return nil
        }
        return .int(Int(byte))
    }
    override var lengthHint: Int? { exhausted.load(ordering: .relaxed) ? 0 : max(array.count - index.load(ordering: .relaxed), 0) }
}

/// `reversed(list)`: walks the live list from its last index down, stopping once the index
/// falls outside it (the list shrank), as CPython's list_reverseiterator does.
final class PyListReverseIterator: PyIter {
    let list: PyList
    /// The next index to claim, counting down; below 0 once done.
    private let index: Atomic<Int>
    init(_ l: PyList) { list = l; index = Atomic(l.count - 1); super.init(type: Types.listReverseIterator) }
    override func next(_ u: Unit) throws -> Value? {
        if index.load(ordering: .relaxed) < 0 { return nil }
        let i = index.claim(-1)
        guard i >= 0, let v = list.item(at: i) else { index.store(-1, ordering: .relaxed); return nil }
        return v
    }
    override var lengthHint: Int? {
        let i = index.load(ordering: .relaxed)
        return i < 0 ? 0 : min(i + 1, list.count)
    }
}

/// Iterates a fixed array of values (tuples, dict key snapshots, sets).
final class PyArrayIterator: PyIter {
    /// Fixed by init; `var` only so that deinit releases it in the trashcan's bracket.
    private(set) var items: [Value]
    /// The next index to claim (past the end once done).
    private let index = Atomic<Int>(0)
    init(_ items: [Value], type: PyType) { self.items = items; super.init(type: type) }
    deinit { Trashcan.releaseFields(items) { items = [] } }
    override func next(_ u: Unit) throws -> Value? {
        index.claim(below: items.count).map { items[$0] }
    }
    override var lengthHint: Int? { max(items.count - index.load(ordering: .relaxed), 0) }
}

/// Iterates a set over the elements it had at the start (in CPython's order), raising,
/// as CPython does, once the set's size has changed (and at every call after).
final class PySetIterator: PyIter {
    let set: PySet
    /// Fixed by init; `var` only so that deinit releases it in the trashcan's bracket.
    private(set) var items: [Value]
    /// The next index to claim.
    private let index = Atomic<Int>(0)
    /// The set's size at the start; -1 once a change has been seen (CPython's sticky state).
    var expectedCount: Int
    init(_ s: PySet) { set = s; items = s.elements; expectedCount = items.count; super.init(type: Types.setIterator) }
    deinit { Trashcan.releaseFields(items) { items = [] } }
    override func next(_ u: Unit) throws -> Value? {
        if set.count != expectedCount {
            expectedCount = -1
            throw runtimeError("Set changed size during iteration")
        }
        return index.claim(below: items.count).map { items[$0] }
    }
    override var lengthHint: Int? { expectedCount < 0 ? 0 : max(items.count - index.load(ordering: .relaxed), 0) }
}

/// Iterates a range without materialising it.
final class PyRangeIterator: PyIter {
    let first: Int
    let step: Int
    let count: Int
    /// How many values were claimed (past `count` once done).
    private let taken = Atomic<Int>(0)
    init(_ r: PyRange) { first = r.start; step = r.step; count = r.count; super.init(type: Types.rangeIterator) }
    /// `reversed(r)`: from the last element back to the first (built without a range,
    /// whose stop would overflow at the ends of the 64-bit range).
    init(reversing r: PyRange) {
        count = r.count
        first = count > 0 ? r.start &+ (count - 1) &* r.step : r.start
        step = 0 &- r.step
        super.init(type: Types.rangeIterator)
    }
    override func next(_ u: Unit) throws -> Value? {
        taken.claim(below: count).map { .int(first &+ $0 &* step) }
    }
    override var lengthHint: Int? { max(count - taken.load(ordering: .relaxed), 0) }
}

/// Iterates the characters of a string (ASCII characters come from a shared table).
final class PyStrIterator: PyIter {
    let bytes: [UInt8]
    let scalars: [Unicode.Scalar]
    let isASCII: Bool
    /// The next index to claim.
    private let index = Atomic<Int>(0)
    init(_ s: PyStr) {
        isASCII = s.isASCII
        bytes = isASCII ? Array(s.value.utf8) : []
        scalars = isASCII ? [] : Array(s.value.unicodeScalars)
        // CPython's ASCII iterator only for an exact str (a subclass's instance is not
        // stored compactly there): only its type name shows it.
        super.init(type: isASCII && s.typeIsBuiltin ? Types.strASCIIIterator : Types.strIterator)
    }
    override func next(_ u: Unit) throws -> Value? {
        guard let i = index.claim(below: isASCII ? bytes.count : scalars.count) else { return nil }
        return isASCII ? .obj(asciiCharStrings[Int(bytes[i])]) : charValue(scalars[i])
    }
    override var lengthHint: Int? { max((isASCII ? bytes.count : scalars.count) - index.load(ordering: .relaxed), 0) }
}

/// Iterates a dict's keys, values or items; raises if the dict changes size meanwhile.
final class PyDictIterator: PyIter {
    enum Kind { case keys, values, items }
    let dict: PyDict
    let kind: Kind
    /// The next entry index to look at; read and written only under `dict`'s lock.
    var entry = 0
    let initialCount: Int
    /// Entries still to come; read and written only under `dict`'s lock.
    var remaining: Int
    init(_ d: PyDict, _ kind: Kind) {
        dict = d; self.kind = kind; initialCount = d.count; remaining = initialCount
        switch kind {
        case .keys: super.init(type: Types.dictKeyIterator)
        case .values: super.init(type: Types.dictValueIterator)
        case .items: super.init(type: Types.dictItemIterator)
        }
    }
    override func next(_ u: Unit) throws -> Value? {
        // `entry` is read and advanced under the dict's lock, so threads sharing this
        // iterator never index past the table.
        switch dict.iterationStep(self) {
        case .changed: throw runtimeError("dictionary changed size during iteration")
        case .keysChanged: throw runtimeError("dictionary keys changed during iteration")
        case .end: return nil
        case .entry(let k, let v):
            switch kind {
            case .keys: return k
            case .values: return v
            case .items: return .obj(PyTuple([k, v]))
            }
        }
    }
    override var lengthHint: Int? { dict.count == initialCount ? dict.locked { remaining } : 0 }
}

/// `reversed(d)` (and of d's views): the entries from the last to the first, raising, as
/// CPython does, once the dict's size has changed (and at every call after).
final class PyDictReverseIterator: PyIter {
    let dict: PyDict
    let kind: PyDictIterator.Kind
    /// The entries at the start, last first.
    let entries: [(key: Value, value: Value)]
    /// The next index to claim.
    private let index = Atomic<Int>(0)
    /// The dict's size at the start; -1 once a change has been seen (sticky).
    private let expectedCount: Atomic<Int>
    init(_ d: PyDict, _ kind: PyDictIterator.Kind) {
        dict = d; self.kind = kind
        let (keys, values) = d.locked { (d.keys, d.values) }
        entries = zip(keys, values).reversed().map { (key: $0, value: $1) }
        expectedCount = Atomic(keys.count)
        switch kind {
        case .keys: super.init(type: Types.dictReverseKeyIterator)
        case .values: super.init(type: Types.dictReverseValueIterator)
        case .items: super.init(type: Types.dictReverseItemIterator)
        }
    }
    override func next(_ u: Unit) throws -> Value? {
        let expected = expectedCount.load(ordering: .relaxed)
        if expected < 0 || dict.count != expected {
            if expected >= 0 && index.load(ordering: .relaxed) >= entries.count { return nil }
            expectedCount.store(-1, ordering: .relaxed)
            throw runtimeError("dictionary changed size during iteration")
        }
        guard let i = index.claim(below: entries.count) else { return nil }
        let e = entries[i]
        switch kind {
        case .keys: return e.key
        case .values: return e.value
        case .items: return .obj(PyTuple([e.key, e.value]))
        }
    }
    override var lengthHint: Int? { expectedCount.load(ordering: .relaxed) < 0 ? 0 : max(entries.count - index.load(ordering: .relaxed), 0) }
}

/// Wraps an object whose class defines `__next__`.
final class PyUserIterator: PyIter {
    let target: Value
    /// The value of the StopIteration that ended the iteration (`yield from` returns it);
    /// written by the unit iterating.
    private(set) var stopValue: Value = .none
    init(_ v: Value) { target = v; super.init() }
    override func next(_ u: Unit) throws -> Value? {
        do {
            // A class that lost its `__next__` meanwhile: CPython's words for it.
            guard let m = u.lookupSpecial(target, "__next__") else { throw typeError("'\(target.typeName)' object is not iterable") }
            return try u.call(m, Args([]))
        } catch let e as PyBaseException where e.type.isSubtype(of: Exc.stopIteration) {
            stopValue = e.args.first ?? .none
            return nil
        }
    }
}

/// Iterates any object with `__getitem__` (the old sequence protocol) until IndexError.
final class PySequenceIterator: PyIter {
    /// Fixed by init; `var` only so that deinit releases it in the trashcan's bracket.
    private(set) var target: Value
    /// The next index to claim.
    private let index = Atomic<Int>(0)
    /// Set at the first IndexError: the iterator then stays exhausted, even if the
    /// sequence grows (as CPython's drops its sequence).
    private let exhausted = Atomic<Bool>(false)
    init(_ v: Value) { target = v; super.init() }
    deinit { Trashcan.releaseFields([target]) { target = .none } }
    override func next(_ u: Unit) throws -> Value? {
        if exhausted.load(ordering: .relaxed) { return nil }
        let i = index.claim()
        do {
            return try u.callMethod(target, "__getitem__", [.int(i)])
        } catch let e as PyBaseException where e.type.isSubtype(of: Exc.indexError) || e.type.isSubtype(of: Exc.stopIteration) {
            exhausted.store(true, ordering: .relaxed)
            return nil
        }
    }
}

/// An iterator produced by a native closure (map, filter, zip, enumerate...).
final class PyClosureIterator: PyIter, SubclassAttributes {
    /// Replaced only in deinit (see there).
    private(set) var step: (Unit) throws -> Value?
    /// Attributes of an instance of a user subclass of map, zip... (see
    /// ``SubclassAttributes``); nil until one is set.
    var subclassAttributes: PyDict?
    /// Read and written only by the thread holding `stepper`.
    var finished = false
    /// The thread inside `step` (0: none). Threads sharing the iterator take turns, so each
    /// item is made whole by one of them (zip's pairs stay pairs, enumerate's numbers match
    /// its items), as under CPython's GIL; the same thread coming back in (the step's own
    /// Conc code calling next on this iterator) goes on.
    private let stepper = Atomic<UInt>(0)
    init(type: PyType = Types.iterator, _ step: @escaping (Unit) throws -> Value?) {
        self.step = step; super.init(type: type)
    }
    deinit {
        // The step's closure holds the source iterator: a chain (map(f, map(f, ...)))
        // frees its links one inside the other, so they are released inside the
        // trashcan's bracket, or parked past its depth (Trashcan.swift).
        Trashcan.releaseFields(reference: step) { step = { _ in nil } }  // (a closure with no context: nothing to allocate)
    }
    override func next(_ u: Unit) throws -> Value? {
        guard ObjectLocks.active else { return try stepOnce(u) }
        let me = UInt(pthread_self())
        var entered = stepper.compareExchange(expected: 0, desired: me, ordering: .acquiring).exchanged
        if !entered && stepper.load(ordering: .relaxed) != me {
            try waitForTurn(u) { stepper.compareExchange(expected: 0, desired: me, ordering: .acquiring).exchanged }
            entered = true
        }
        defer { if entered { stepper.store(0, ordering: .releasing) } }
        return try stepOnce(u)
    }

    @inline(__always) private func stepOnce(_ u: Unit) throws -> Value? {
        if finished { return nil }
        do {
            // zip(zip(zip(...))) pulls through every level natively: the stack is checked,
            // but not counted against the limit, which CPython's map/filter/zip do not
            // touch (a function recursing through map() goes as deep as a plain one).
            try u.checkStackRoom(" while getting the next item")
            if let v = try step(u) { return v }
        } catch let e as PyBaseException where e.type.isSubtype(of: Exc.stopIteration) {
            // StopIteration out of the function map/filter call (or iter's callable) ends
            // the iteration, as it does when CPython's __next__ lets it through.
        }
        finished = true
        return nil
    }
}
