// Iterator objects: the base class every native iterator derives from, and the iterators
// of the builtin sequences.

/// An iterator. Native subclasses override `next`; Python-level iterators (objects with
/// `__next__`) are wrapped by ``PyUserIterator``.
public class PyIter: PyObject {
    init() { super.init(type: Types.iterator) }
    init(type: PyType) { super.init(type: type) }
    /// The next item, or nil when exhausted. Never throws StopIteration itself.
    func next(_ u: Unit) throws -> Value? { nil }
    /// How many items are left (`__length_hint__`), for the iterators that know.
    var lengthHint: Int? { nil }
}

/// Iterates a snapshot-free view of a list: sees appends made during iteration, as CPython.
final class PyListIterator: PyIter {
    let list: PyList
    var index = 0
    init(_ l: PyList) { list = l; super.init(type: Types.listIterator) }
    override func next(_ u: Unit) throws -> Value? {
        // Bounds check and read in one critical section: another unit may shrink the list.
        guard let v = list.item(at: index) else {
            index = Int.max  // exhausted for good, as CPython's: later appends are not seen
            return nil
        }
        index += 1
        return v
    }
    override var lengthHint: Int? { index == Int.max ? 0 : max(list.count - index, 0) }
}

/// `reversed(list)`: walks the live list from its last index down, stopping once the index
/// falls outside it (the list shrank), as CPython's list_reverseiterator does.
final class PyListReverseIterator: PyIter {
    let list: PyList
    var index: Int
    init(_ l: PyList) { list = l; index = l.count - 1; super.init(type: Types.listReverseIterator) }
    override func next(_ u: Unit) throws -> Value? {
        guard index >= 0, let v = list.item(at: index) else { index = -1; return nil }
        index -= 1
        return v
    }
    override var lengthHint: Int? { index < 0 ? 0 : min(index + 1, list.count) }
}

/// Iterates a fixed array of values (tuples, dict key snapshots, sets).
final class PyArrayIterator: PyIter {
    let items: [Value]
    var index = 0
    init(_ items: [Value], type: PyType) { self.items = items; super.init(type: type) }
    override func next(_ u: Unit) throws -> Value? {
        guard index < items.count else { return nil }
        defer { index += 1 }
        return items[index]
    }
    override var lengthHint: Int? { max(items.count - index, 0) }
}

/// Iterates a set over the elements it had at the start (in CPython's order), raising,
/// as CPython does, once the set's size has changed (and at every call after).
final class PySetIterator: PyIter {
    let set: PySet
    let items: [Value]
    var index = 0
    /// The set's size at the start; -1 once a change has been seen (CPython's sticky state).
    var expectedCount: Int
    init(_ s: PySet) { set = s; items = s.elements; expectedCount = items.count; super.init(type: Types.setIterator) }
    override func next(_ u: Unit) throws -> Value? {
        if set.count != expectedCount {
            expectedCount = -1
            throw runtimeError("Set changed size during iteration")
        }
        guard index < items.count else { return nil }
        defer { index += 1 }
        return items[index]
    }
    override var lengthHint: Int? { expectedCount < 0 ? 0 : max(items.count - index, 0) }
}

/// Iterates a range without materialising it.
final class PyRangeIterator: PyIter {
    var current: Int
    let step: Int
    var remaining: Int
    init(_ r: PyRange) { current = r.start; step = r.step; remaining = r.count; super.init(type: Types.rangeIterator) }
    /// `reversed(r)`: from the last element back to the first (built without a range,
    /// whose stop would overflow at the ends of the 64-bit range).
    init(reversing r: PyRange) {
        remaining = r.count
        current = remaining > 0 ? r.start &+ (remaining - 1) &* r.step : r.start
        step = 0 &- r.step
        super.init(type: Types.rangeIterator)
    }
    override func next(_ u: Unit) throws -> Value? {
        guard remaining > 0 else { return nil }
        let v = current
        remaining -= 1
        if remaining > 0 { current &+= step }
        return .int(v)
    }
    override var lengthHint: Int? { remaining }
}

/// Iterates the characters of a string (ASCII characters come from a shared table).
final class PyStrIterator: PyIter {
    let bytes: [UInt8]
    let scalars: [Unicode.Scalar]
    let isASCII: Bool
    var index = 0
    init(_ s: PyStr) {
        isASCII = s.isASCII
        bytes = isASCII ? Array(s.value.utf8) : []
        scalars = isASCII ? [] : Array(s.value.unicodeScalars)
        super.init(type: isASCII ? Types.strASCIIIterator : Types.strIterator)
    }
    override func next(_ u: Unit) throws -> Value? {
        if isASCII {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return .obj(asciiCharStrings[Int(bytes[index])])
        }
        guard index < scalars.count else { return nil }
        defer { index += 1 }
        return charValue(scalars[index])
    }
    override var lengthHint: Int? { max((isASCII ? bytes.count : scalars.count) - index, 0) }
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
        switch dict.iterationStep(&entry, expectedCount: initialCount, remaining: &remaining) {
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

/// Wraps an object whose class defines `__next__`.
final class PyUserIterator: PyIter {
    let target: Value
    /// The value of the StopIteration that ended the iteration (`yield from` returns it);
    /// written by the unit iterating.
    private(set) var stopValue: Value = .none
    init(_ v: Value) { target = v; super.init() }
    override func next(_ u: Unit) throws -> Value? {
        do {
            return try u.callMethod(target, "__next__", [])
        } catch let e as PyBaseException where e.type.isSubtype(of: Exc.stopIteration) {
            stopValue = e.args.first ?? .none
            return nil
        }
    }
}

/// Iterates any object with `__getitem__` (the old sequence protocol) until IndexError.
final class PySequenceIterator: PyIter {
    let target: Value
    var index = 0
    init(_ v: Value) { target = v; super.init() }
    override func next(_ u: Unit) throws -> Value? {
        do {
            defer { index += 1 }
            return try u.callMethod(target, "__getitem__", [.int(index)])
        } catch let e as PyBaseException where e.type.isSubtype(of: Exc.indexError) || e.type.isSubtype(of: Exc.stopIteration) {
            return nil
        }
    }
}

/// An iterator produced by a native closure (map, filter, zip, enumerate...).
final class PyClosureIterator: PyIter {
    let step: (Unit) throws -> Value?
    var finished = false
    init(type: PyType = Types.iterator, _ step: @escaping (Unit) throws -> Value?) {
        self.step = step; super.init(type: type)
    }
    override func next(_ u: Unit) throws -> Value? {
        if finished { return nil }
        do {
            // zip(zip(zip(...))) pulls through every level: counted, as CPython's calls are.
            try u.enterNested(" while getting the next item")
            defer { u.leaveNested() }
            if let v = try step(u) { return v }
        } catch let e as PyBaseException where e.type.isSubtype(of: Exc.stopIteration) {
            // StopIteration out of the function map/filter call (or iter's callable) ends
            // the iteration, as it does when CPython's __next__ lets it through.
        }
        finished = true
        return nil
    }
}
