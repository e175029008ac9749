// The methods of `range` and `slice`, and range indexing and membership.

// MARK: - range

/// `r[index]`: an int (negative counts from the end) or a slice (a new range).
///
/// - Throws: IndexError `range object index out of range`; TypeError for other indices;
///   OverflowError if a sliced range's bounds leave the 64-bit integers.
func rangeGetItem(_ r: PyRange, _ index: Value, _ u: Unit) throws -> Value {
    if case .obj(let o) = index, let s = o as? PySlice {
        let sl = try sliceIndices(s, length: r.count, u)
        return .obj(try rangeSlice(r, sl.start, sl.stop, sl.step))
    }
    guard let i = try indexValue(index, u) else {
        throw typeError("range indices must be integers or slices, not \(index.typeName)")
    }
    guard let j = normalizedIndex(i, r.count) else { throw indexError("range object index out of range") }
    return .int(r.start &+ j &* r.step)  // wrapping: j * step alone may pass Int.max, the sum does not
}

/// The range `r[start:stop:step]` for slice indices already fitted to `r.count`.
func rangeSlice(_ r: PyRange, _ start: Int, _ stop: Int, _ step: Int) throws -> PyRange {
    func at(_ i: Int) throws -> Int {
        // Exactly: i * step may pass Int.max while start + i * step does not.
        let v = Int128(r.start) + Int128(i) * Int128(r.step)
        guard let fits = Int(exactly: v) else { throw overflowError(intOverflowMessage) }
        return fits
    }
    let (newStep, o) = r.step.multipliedReportingOverflow(by: step)
    if o { throw overflowError(intOverflowMessage) }
    return try checkedRange(try at(start), try at(stop), newStep)
}

/// True when int `i` is one of the values of `r`.
func rangeHasInt(_ r: PyRange, _ i: Int) -> Bool {
    if r.step > 0 ? (i < r.start || i >= r.stop) : (i > r.start || i <= r.stop) { return false }
    return rangeOffset(r, i) % r.step.magnitude == 0
}

/// `|i - r.start|` computed exactly (it may exceed `Int.max`) for `i` within `r`'s bounds.
private func rangeOffset(_ r: PyRange, _ i: Int) -> UInt {
    r.step > 0 ? UInt(bitPattern: i) &- UInt(bitPattern: r.start)
               : UInt(bitPattern: r.start) &- UInt(bitPattern: i)
}

/// A range whose length fits in an Int (``PyRange/count`` would overflow otherwise).
///
/// - Throws: OverflowError, where CPython would raise it only when asked for the length.
func checkedRange(_ start: Int, _ stop: Int, _ step: Int) throws -> PyRange {
    let r = PyRange(start, stop, step)
    if r.unsignedCount > UInt(Int.max) { throw overflowError("Python int too large to convert to C ssize_t") }
    return r
}

/// `x in r`: arithmetic for ints and bools, equality against each value otherwise
/// (so `2.0 in range(3)` is True).
func rangeContains(_ r: PyRange, _ x: Value, _ u: Unit) throws -> Bool {
    switch x {
    case .int(let i): return rangeHasInt(r, i)
    case .bool(let b): return rangeHasInt(r, b ? 1 : 0)
    default:
        let it = PyRangeIterator(r)
        while let v = try it.next(u) { if try u.equals(v, x) { return true } }
        return false
    }
}

/// The position of `x` in `r`, or nil.
private func rangeIndex(_ r: PyRange, _ x: Value, _ u: Unit) throws -> Int? {
    if let i = u.intValue(x) {
        guard rangeHasInt(r, i) else { return nil }
        return Int(rangeOffset(r, i) / r.step.magnitude)
    }
    let it = PyRangeIterator(r)
    var n = 0
    while let v = try it.next(u) {
        if try u.equals(v, x) { return n }
        n += 1
    }
    return nil
}

/// Installs the methods, attributes and constructor of `range`.
func installRangeMethods(_ t: PyType) {
    t.constructor = { u, _, args in
        try ContainerArgs.range(args, "range", 1, 3)
        let bounds = try args.positional.map { try u.toIndex($0) }
        if bounds.count == 1 { return .obj(try checkedRange(0, bounds[0], 1)) }
        let step = bounds.count == 3 ? bounds[2] : 1
        if step == 0 { throw valueError("range() arg 3 must not be zero") }
        return .obj(try checkedRange(bounds[0], bounds[1], step))
    }
    t.constructor1 = { u, x in .obj(try checkedRange(0, try u.toIndex(x), 1)) }
    t.getter("start") { u, v in .int(try recv(v, "start").start) }
    t.getter("stop") { u, v in .int(try recv(v, "stop").stop) }
    t.getter("step") { u, v in .int(try recv(v, "step").step) }
    t.method("count") { u, s, args in
        let r = try recv(s, "count")
        let x = try ContainerArgs.one(args, "range.count")
        if let i = u.intValue(x) { return .int(rangeHasInt(r, i) ? 1 : 0) }
        var n = 0
        let it = PyRangeIterator(r)
        while let v = try it.next(u) { if try u.equals(v, x) { n += 1 } }
        return .int(n)
    }
    t.method("index") { u, s, args in
        let r = try recv(s, "index")
        let x = try ContainerArgs.one(args, "range.index")
        if let i = try rangeIndex(r, x, u) { return .int(i) }
        if u.intValue(x) != nil { throw valueError("\(try u.repr(x)) is not in range") }
        throw valueError("sequence.index(x): x not in sequence")
    }
    installRangeProtocol(t)
}

/// `__len__`, `__getitem__`, `__contains__`, `__iter__`, `__reversed__`.
private func installRangeProtocol(_ t: PyType) {
    t.method("__bool__") { u, s, args in
        try ContainerArgs.none(args, "range.__bool__")
        return .bool(try recv(s, "__bool__").count != 0)
    }
    t.method("__len__") { u, s, args in
        try ContainerArgs.none(args, "range.__len__")
        return .int(try recv(s, "__len__").count)
    }
    t.method("__getitem__") { u, s, args in
        try rangeGetItem(try recv(s, "__getitem__"), try ContainerArgs.one(args, "range.__getitem__"), u)
    }
    t.method("__contains__") { u, s, args in
        .bool(try rangeContains(try recv(s, "__contains__"), try ContainerArgs.one(args, "range.__contains__"), u))
    }
    t.method("__iter__") { u, s, args in
        try ContainerArgs.none(args, "range.__iter__")
        return .obj(PyRangeIterator(try recv(s, "__iter__")))
    }
    t.method("__reversed__") { u, s, args in
        try ContainerArgs.none(args, "range.__reversed__")
        return .obj(rangeReverseIterator(try recv(s, "__reversed__")))
    }
}

/// `reversed(r)`: the values of `r` from the last to the first.
func rangeReverseIterator(_ r: PyRange) -> PyIter { PyRangeIterator(reversing: r) }

// MARK: - slice

/// Installs the attributes, `indices` method and constructor of `slice`.
func installSliceMethods(_ t: PyType) {
    let recv = { (v: Value, m: String) throws -> PySlice in try containerReceiver(v, PySlice.self, m, "slice") }
    t.constructor = { u, _, args in
        try ContainerArgs.range(args, "slice", 1, 3)
        switch args.count {
        case 1: return .obj(PySlice(.none, args[0], .none))
        case 2: return .obj(PySlice(args[0], args[1], .none))
        default: return .obj(PySlice(args[0], args[1], args[2]))
        }
    }
    t.getter("start") { u, v in try recv(v, "start").start }
    t.getter("stop") { u, v in try recv(v, "stop").stop }
    t.getter("step") { u, v in try recv(v, "step").step }
    t.method("indices") { u, s, args in
        let sl = try recv(s, "indices")
        let length = try u.toIndex(try ContainerArgs.one(args, "slice.indices"))
        if length < 0 { throw valueError("length should not be negative") }
        let r = try sliceIndices(sl, length: length, u)
        return .obj(PyTuple([.int(r.start), .int(r.stop), .int(r.step)]))
    }
}

/// The receiver of a range method, or the TypeError CPython raises for a descriptor applied
/// to another type. A function, not a captured closure: calling a method then retains no
/// closure context.
@inline(__always) private func recv(_ v: Value, _ m: String) throws -> PyRange {
    try containerReceiver(v, PyRange.self, m, "range")
}
