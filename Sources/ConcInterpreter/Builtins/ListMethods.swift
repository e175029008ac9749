// The methods of `list`, list indexing and slicing (get, set, delete), the slice-index
// arithmetic every sequence shares, and the stable sort behind `list.sort` and `sorted()`.

import CConcSys

// MARK: - Argument checks shared by the container types

/// Argument-count checks that raise CPython 3.11's messages for builtin container methods.
///
/// `qualified` is the name CPython prints for keyword and exact-count errors
/// (`list.append`); range errors print only the part after the dot (`pop expected ...`).
enum ContainerArgs {
    /// Rejects keyword arguments: `list.append() takes no keyword arguments`.
    static func noKeywords(_ a: Args, _ qualified: @autoclosure () -> String) throws {
        if !a.keywords.isEmpty { throw typeError("\(qualified())() takes no keyword arguments") }
    }

    /// Exactly one positional argument: `list.append() takes exactly one argument (0 given)`.
    static func one(_ a: Args, _ qualified: @autoclosure () -> String) throws -> Value {
        if a.count == 1 && a.keywords.isEmpty { return a[0] }
        try noKeywords(a, qualified())
        guard a.count == 1 else {
            throw typeError("\(qualified())() takes exactly one argument (\(a.count) given)")
        }
        return a[0]
    }

    /// No arguments at all: `list.copy() takes no arguments (1 given)`.
    static func none(_ a: Args, _ qualified: @autoclosure () -> String) throws {
        if a.count == 0 && a.keywords.isEmpty { return }
        try noKeywords(a, qualified())
        guard a.count == 0 else {
            throw typeError("\(qualified())() takes no arguments (\(a.count) given)")
        }
    }

    /// Between `min` and `max` positional arguments: `pop expected at most 1 argument, got 2`.
    static func range(_ a: Args, _ qualified: @autoclosure () -> String, _ min: Int, _ max: Int) throws {
        if a.keywords.isEmpty && a.count >= min && a.count <= max { return }
        try noKeywords(a, qualified())
        let short = qualified().split(separator: ".").last.map(String.init) ?? qualified()
        let n = a.count
        if n < min {
            let qual = min == max ? "" : "at least "
            throw typeError("\(short) expected \(qual)\(min) argument\(min == 1 ? "" : "s"), got \(n)")
        }
        if n > max {
            let qual = min == max ? "" : "at most "
            throw typeError("\(short) expected \(qual)\(max) argument\(max == 1 ? "" : "s"), got \(n)")
        }
    }
}

/// The receiver of a native method as payload class `T`, or CPython's descriptor TypeError.
func containerReceiver<T: PyObject>(_ v: Value, _ t: T.Type, _ method: String, _ owner: String) throws -> T {
    if case .obj(let o) = v, let r = o as? T { return r }
    throw typeError("descriptor '\(method)' for '\(owner)' objects doesn't apply to a '\(v.typeName)' object")
}

// MARK: - Index and slice arithmetic

/// The integer value of an index-like value (int, bool, or an object with `__index__`),
/// or nil when `v` is none of these.
func indexValue(_ v: Value, _ u: Unit) throws -> Int? {
    switch v {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    case .obj(let o) where o is PyBoxedNumber && v.unboxedNumber.intLike != nil:
        return try u.toIndex(v)  // an int subclass is its own index
    case .obj(let o) where !o.typeIsBuiltin && u.lookupSpecial(v, "__index__") != nil:
        return try u.toIndex(v)  // any other class of the program's that defines one
    default: return nil
    }
}

/// One bound of a slice: nil for None, else its index value.
///
/// - Throws: TypeError `slice indices must be integers or None or have an __index__ method`.
func sliceBound(_ v: Value, _ u: Unit) throws -> Int? {
    if v.isNone { return nil }
    if let i = try indexValue(v, u) { return i }
    throw typeError("slice indices must be integers or None or have an __index__ method")
}

/// The bounds of a slice before they are fitted to a length (CPython's `PySlice_Unpack`).
///
/// - Throws: ValueError `slice step cannot be zero`; TypeError for non-integer bounds.
func sliceUnpack(_ s: PySlice, _ u: Unit) throws -> (start: Int?, stop: Int?, step: Int) {
    var step = 1
    if let st = try sliceBound(s.step, u) {
        if st == 0 { throw valueError("slice step cannot be zero") }
        step = max(st, -Int.max)  // so that -step cannot overflow
    }
    return (try sliceBound(s.start, u), try sliceBound(s.stop, u), step)
}

/// Fits unpacked slice bounds to a sequence of `length` items (CPython's
/// `PySlice_AdjustIndices`). Pure: no interpreter needed.
///
/// - Returns: the first index, the bound not reached, the step, and the number of items.
func adjustSlice(start: Int?, stop: Int?, step: Int, length: Int)
    -> (start: Int, stop: Int, step: Int, count: Int)
{
    let step = max(step, -Int.max)  // so that -step cannot overflow (PySlice_Unpack clamps it too)
    func fit(_ bound: Int?, _ missing: Int) -> Int {
        guard var i = bound else { return missing }
        if i < 0 {
            i += length
            if i < 0 { i = step < 0 ? -1 : 0 }
        } else if i >= length {
            i = step < 0 ? length - 1 : length
        }
        return i
    }
    let lo = fit(start, step < 0 ? length - 1 : 0)
    let hi = fit(stop, step < 0 ? -1 : length)
    var count = 0
    if step < 0 {
        if hi < lo { count = (lo - hi - 1) / (-step) + 1 }
    } else if lo < hi {
        count = (hi - lo - 1) / step + 1
    }
    return (lo, hi, step, count)
}

/// Python's `PySlice_GetIndicesEx`: the indices slice `s` selects in a sequence of `length`.
func sliceIndices(_ s: PySlice, length: Int, _ u: Unit) throws
    -> (start: Int, stop: Int, step: Int, count: Int)
{
    let (start, stop, step) = try sliceUnpack(s, u)
    return adjustSlice(start: start, stop: stop, step: step, length: length)
}

/// The items of `items` selected by already-fitted slice indices.
func sliceElements<T>(_ items: [T], _ start: Int, _ step: Int, _ count: Int) -> [T] {
    if count <= 0 { return [] }
    if step == 1 { return Array(items[start..<(start + count)]) }
    var out: [T] = []
    out.reserveCapacity(count)
    var i = start
    for _ in 0..<count { out.append(items[i]); i &+= step }
    return out
}

/// Normalises a possibly negative item index against `count`; nil when out of range.
@inline(__always) func normalizedIndex(_ i: Int, _ count: Int) -> Int? {
    let j = i < 0 ? i + count : i
    return j >= 0 && j < count ? j : nil
}

/// The items of an iterable, replacing a TypeError raised while getting its iterator by
/// `message` (CPython's `PySequence_Fast`, e.g. `can only assign an iterable`).
func iterableItems(_ v: Value, _ u: Unit, orTypeError message: String) throws -> [Value] {
    if case .obj(let o) = v, !o.extendsBuiltinType {  // a subclass may define __iter__
        if let l = o as? PyList { return l.snapshot }
        if let t = o as? PyTuple { return t.items }
    }
    let it: PyIter
    do {
        it = try u.iterate(v)
    } catch let e as PyBaseException where e.type.isSubtype(of: Exc.typeError) {
        throw typeError(message)
    }
    return try u.collect(it)
}

/// `a == b` as containers compare items: identity first, then `==`.
@inline(__always) func itemEquals(_ u: Unit, _ a: Value, _ b: Value) throws -> Bool {
    isSame(a, b) ? true : try u.equals(a, b)
}

// MARK: - Subscripts

/// `l[index]`: an int (negative counts from the end) or a slice (a new list).
///
/// - Throws: IndexError `list index out of range`; TypeError for other index types.
func listGetItem(_ l: PyList, _ index: Value, _ u: Unit) throws -> Value {
    if case .int(let i) = index {
        guard let v = l.item(normalizing: i) else { throw indexError("list index out of range") }
        return v
    }
    if case .obj(let o) = index, let s = o as? PySlice {
        let (start, stop, step) = try sliceUnpack(s, u)
        return .obj(PyList(l.withItems { items in
            let r = adjustSlice(start: start, stop: stop, step: step, length: items.count)
            return sliceElements(items, r.start, r.step, r.count)
        }))
    }
    guard let i = try indexValue(index, u) else {
        throw typeError("list indices must be integers or slices, not \(index.typeName)")
    }
    guard let v = l.item(normalizing: i) else { throw indexError("list index out of range") }
    return v
}

/// `l[index] = value`, including slice and extended-slice assignment.
///
/// - Throws: IndexError `list assignment index out of range`; ValueError `attempt to assign
///   sequence of size 3 to extended slice of size 2`; TypeError for bad indices or values.
func listSetItem(_ l: PyList, _ index: Value, _ value: Value, _ u: Unit) throws {
    if case .obj(let o) = index, let s = o as? PySlice {
        return try listSetSlice(l, s, value, u)
    }
    guard let i = try indexValue(index, u) else {
        throw typeError("list indices must be integers or slices, not \(index.typeName)")
    }
    guard l.setItem(normalizing: i, value) != nil else {
        throw indexError("list assignment index out of range")
    }
}

/// `l[a:b:c] = value`. The new items are collected before the list changes, so iterating
/// `value` (possibly `l` itself) sees the old contents.
private func listSetSlice(_ l: PyList, _ s: PySlice, _ value: Value, _ u: Unit) throws {
    let (start, stop, step) = try sliceUnpack(s, u)
    if step == 1 {
        let new = try iterableItems(value, u, orTypeError: "can only assign an iterable")
        let removed = l.withItems { items -> [Value] in
            let r = adjustSlice(start: start, stop: stop, step: 1, length: items.count)
            let range = r.start..<max(r.start, r.stop)
            let removed = Array(items[range])  // a copy, so `items` stays unique
            items.replaceSubrange(range, with: new)
            return removed
        }
        _ = removed  // released here, after the lock
        return
    }
    let new = try iterableItems(value, u, orTypeError: "must assign iterable to extended slice")
    // The slice is fitted to the length in the same critical section as the stores.
    let (old, size) = l.withItems { items -> ([Value], Int) in
        let r = adjustSlice(start: start, stop: stop, step: step, length: items.count)
        guard new.count == r.count else { return ([], r.count) }
        var old: [Value] = []
        old.reserveCapacity(new.count)
        var i = r.start
        // &+=: after the last item the index may pass Int.max (a step near sys.maxsize).
        for v in new { old.append(items[i]); items[i] = v; i &+= r.step }
        return (old, r.count)
    }
    _ = old
    guard new.count == size else {
        throw valueError("attempt to assign sequence of size \(new.count) to extended slice of size \(size)")
    }
}

/// `del l[index]` for an int or a slice.
///
/// - Throws: IndexError `list assignment index out of range`; TypeError for other indices.
func listDelItem(_ l: PyList, _ index: Value, _ u: Unit) throws {
    if case .obj(let o) = index, let s = o as? PySlice {
        let (start, stop, step) = try sliceUnpack(s, u)
        let removed = l.withItems { items -> [Value] in
            let r = adjustSlice(start: start, stop: stop, step: step, length: items.count)
            if r.count == 0 { return [] }
            if r.step == 1 {
                let range = r.start..<(r.start + r.count)
                let removed = Array(items[range])
                items.removeSubrange(range)
                return removed
            }
            // Normalise to an increasing run of indices, then keep everything else.
            let first = r.step > 0 ? r.start : r.start + (r.count - 1) * r.step
            let stride = abs(r.step), last = first + (r.count - 1) * stride
            var kept: [Value] = []
            kept.reserveCapacity(items.count - r.count)
            for (i, v) in items.enumerated() where i < first || i > last || (i - first) % stride != 0 {
                kept.append(v)
            }
            let old = items
            items = kept
            return old
        }
        _ = removed
        return
    }
    guard let i = try indexValue(index, u) else {
        throw typeError("list indices must be integers or slices, not \(index.typeName)")
    }
    let removed = l.withItems { items -> Value? in
        guard let j = normalizedIndex(i, items.count) else { return nil }
        return items.remove(at: j)
    }
    guard removed != nil else {
        throw indexError("list assignment index out of range")
    }
}

// MARK: - Searching

/// The `start`/`stop` arguments of `index()`, fitted to `count` as CPython does (negative
/// values count from the end and are clamped at 0).
func searchBounds(_ a: Args, _ count: Int, _ u: Unit) throws -> (Int, Int) {
    func bound(_ i: Int, _ dflt: Int) throws -> Int {
        guard i < a.count else { return dflt }
        guard let v = try indexValue(a[i], u) else {
            throw typeError("slice indices must be integers or have an __index__ method")
        }
        return v < 0 ? max(v + count, 0) : v
    }
    return (try bound(1, 0), try bound(2, Int.max))
}

/// Index of the first item equal to `x` in `items()[start..<stop]`, searched in one
/// snapshot, as `in` does: the answer is the list as it was at one instant (another
/// unit's remove() shifting the items mid-search must not hide an item that was there
/// all along; under CPython's GIL the search is one step too).
func firstIndex(of x: Value, in items: () -> [Value], _ start: Int, _ stop: Int, _ u: Unit) throws -> Int? {
    let now = items()
    var i = max(start, 0)
    let end = min(stop, now.count)
    while i < end {
        if try itemEquals(u, now[i], x) { return i }
        i += 1
    }
    return nil
}

/// Number of items equal to `x`, counted in one snapshot.
func countEqual(_ x: Value, in items: () -> [Value], _ u: Unit) throws -> Int {
    var n = 0
    for item in items() where try itemEquals(u, item, x) { n += 1 }
    return n
}

// MARK: - list methods

/// Installs the methods and constructor of `list`.
func installListMethods(_ t: PyType) {
    t.constructor = { u, type, args in
        try ContainerArgs.range(args, "list", 0, 1)
        let l = PyList([], type: type)
        if args.count == 1 { l.replaceAll(try u.toArray(args[0], lengthHint: true)) }
        return .obj(l)
    }
    t.method("__init__") { u, s, args in
        let l = try recv(s, "__init__")
        try ContainerArgs.range(args, "list", 0, 1)
        // Emptied first, as CPython's: `a.__init__(a)` leaves [].
        l.replaceAll([])
        if args.count == 1 { l.replaceAll(try u.toArray(args[0], lengthHint: true)) }
        return .none
    }
    t.method("append", oneArg: { _, s, x in try recv(s, "append").append(x); return .none }) { _, s, args in
        let l = try recv(s, "append")
        l.append(try ContainerArgs.one(args, "list.append"))
        return .none
    }
    /// `l.extend(x)`: collected first (a snapshot when it is a list, `l` itself included),
    /// then added in one step.
    func extend(_ u: Unit, _ s: Value, _ x: Value) throws -> Value {
        try u.extendList(try recv(s, "extend"), with: x)
        return .none
    }
    t.method("extend", oneArg: extend) { u, s, args in
        _ = try recv(s, "extend")
        return try extend(u, s, try ContainerArgs.one(args, "list.extend"))
    }
    /// `l.insert(index, x)`.
    func insert(_ u: Unit, _ s: Value, _ indexArg: Value, _ x: Value) throws -> Value {
        let l = try recv(s, "insert")
        let index = try u.toIndex(indexArg)
        l.withItems { items in
            var i = index
            let n = items.count
            if i < 0 { i = max(i + n, 0) } else if i > n { i = n }
            items.insert(x, at: i)
        }
        return .none
    }
    t.method("insert", twoArgs: insert) { u, s, args in
        _ = try recv(s, "insert")
        try ContainerArgs.range(args, "list.insert", 2, 2)
        return try insert(u, s, args[0], args[1])
    }
    /// `l.pop(i)`.
    func pop(_ u: Unit, _ l: PyList, _ i: Int) throws -> Value {
        let popped = l.withItems { items -> Value? in
            guard let j = normalizedIndex(i, items.count) else { return nil }
            return items.remove(at: j)
        }
        if let v = popped { return v }
        throw indexError(l.count == 0 ? "pop from empty list" : "pop index out of range")
    }
    t.method("pop", noArgs: { u, s in try pop(u, try recv(s, "pop"), -1) },
             oneArg: { u, s, i in let l = try recv(s, "pop"); return try pop(u, l, try u.toIndex(i)) }) { u, s, args in
        let l = try recv(s, "pop")
        try ContainerArgs.range(args, "list.pop", 0, 1)
        return try pop(u, l, args.count == 1 ? try u.toIndex(args[0]) : -1)
    }
    t.method("remove") { u, s, args in
        let l = try recv(s, "remove")
        let x = try ContainerArgs.one(args, "list.remove")
        // Found by comparing outside the lock (an __eq__ may use this list), then removed
        // under the lock only if that very item is still in the list: another unit may
        // have removed or moved it meanwhile, and whatever sits at the index now is not
        // what was compared. If it is gone, search again: remove() is one step, as under
        // CPython's GIL.
        for _ in 0..<1000 {  // (an __eq__ that keeps replacing the item gives up)
            let now = l.snapshot
            guard let i = try firstIndex(of: x, in: { now }, 0, Int.max, u) else { break }
            let found = now[i]
            let removed = l.withItems { items -> Value? in
                if i < items.count, isSame(items[i], found) { return items.remove(at: i) }
                if let j = items.firstIndex(where: { isSame($0, found) }) { return items.remove(at: j) }
                return nil
            }
            if removed != nil { return .none }  // (released here, outside the lock)
        }
        throw valueError("list.remove(x): x not in list")
    }
    installListQueries(t)
    installListReordering(t)
    installListProtocol(t)
}

/// `index`, `count`, `copy`, `clear`.
private func installListQueries(_ t: PyType) {
    t.method("index", oneArg: { u, s, x in
        let l = try recv(s, "index")
        if let i = try firstIndex(of: x, in: { l.snapshot }, 0, Int.max, u) { return .int(i) }
        throw valueError("\(try u.repr(x)) is not in list")
    }) { u, s, args in
        let l = try recv(s, "index")
        try ContainerArgs.range(args, "list.index", 1, 3)
        let (start, stop) = try searchBounds(args, l.count, u)
        if let i = try firstIndex(of: args[0], in: { l.snapshot }, start, stop, u) { return .int(i) }
        throw valueError("\(try u.repr(args[0])) is not in list")
    }
    t.method("count", oneArg: { u, s, x in
        let l = try recv(s, "count"); return .int(try countEqual(x, in: { l.snapshot }, u))
    }) { u, s, args in
        let l = try recv(s, "count")
        return .int(try countEqual(try ContainerArgs.one(args, "list.count"), in: { l.snapshot }, u))
    }
    t.method("copy") { u, s, args in
        let l = try recv(s, "copy")
        try ContainerArgs.none(args, "list.copy")
        return .obj(PyList(l.snapshot))
    }
    t.method("clear") { u, s, args in
        let l = try recv(s, "clear")
        try ContainerArgs.none(args, "list.clear")
        var old = l.replaceAll([])  // released after the lock, last first as in CPython
        Finalizers.releaseLastFirst(&old)
        return .none
    }
}

/// `reverse`, `sort`.
private func installListReordering(_ t: PyType) {
    t.method("reverse") { u, s, args in
        let l = try recv(s, "reverse")
        try ContainerArgs.none(args, "list.reverse")
        l.withItems { $0.reverse() }
        return .none
    }
    t.method("sort") { u, s, args in
        let l = try recv(s, "sort")
        let (key, reverse) = try sortOptions(args, u, positionalAllowed: false)
        try sortList(l, key: key, reverse: reverse, u)
        return .none
    }
}

/// The `key` and `reverse` keyword arguments of `sort()` / `sorted()`.
func sortOptions(_ args: Args, _ u: Unit, positionalAllowed: Bool) throws -> (Value?, Bool) {
    if !positionalAllowed && args.count > 0 { throw typeError("sort() takes no positional arguments") }
    if args.keywords.count > 2 {
        throw typeError("sort() takes at most 2 keyword arguments (\(args.keywords.count) given)")
    }
    var key: Value? = nil, reverse = false
    for (name, v) in args.keywords {
        switch name {
        case "key": key = v.isNone ? nil : v
        case "reverse": reverse = try u.toIndex(v) != 0
        default: throw typeError("'\(name)' is an invalid keyword argument for sort()")
        }
    }
    return (key, reverse)
}

/// `l.sort(key=..., reverse=...)`. While sorting, the list looks empty to the program; if
/// the program changes it meanwhile, the sorted items win and ValueError is raised, as in
/// CPython.
func sortList(_ l: PyList, key: Value?, reverse: Bool, _ u: Unit) throws {
    // Plain ints or strs compare without running any program code: sort them under the
    // list's lock, one step as under CPython's GIL (another unit's append cannot make it
    // "list modified during sort").
    if key == nil, l.withItems({ items in sortPlainValues(&items, reverse: reverse) }) { return }
    var items = l.replaceAll([])
    var failure: Error? = nil
    do { try sortValues(u, &items, key: key, reverse: reverse) } catch { failure = error }
    // The keys died as sortValues returned: their __del__ runs now, still during the sort
    // (CPython frees them before its check), so what it does to the list counts.
    if CConcSys_finalizers_pending() != 0 { u.runPendingFinalizers() }
    let during = l.withItems { now -> [Value]? in
        let modified = !now.isEmpty || now.capacity > 0
        let dropped = now
        now = items
        return modified ? dropped : nil
    }
    let modified = during != nil
    if let e = failure { throw e }
    if modified { throw valueError("list modified during sort") }
}

/// Sorts `items` stably by `key(item)` (or the items themselves) with Python's `<`.
///
/// Follows CPython's timsort where it is observable for short lists: every key is computed
/// first, `reverse` reverses before and after an ascending sort, the first run is found and
/// the rest binary-inserted (so a user `__lt__` sees the same calls for fewer than 64 items).
/// Longer lists merge such runs without galloping. Keys that are all ints or all strs are
/// compared without the general protocol, as CPython's pre-sort check does. On error
/// `items` is left unchanged.
func sortValues(_ u: Unit, _ items: inout [Value], key: Value?, reverse: Bool) throws {
    var keys = items
    if let k = key {
        for i in 0..<items.count { keys[i] = try u.call(k, [items[i]]) }
    }
    if reverse { keys.reverse() }
    var perm = Array(0..<items.count)
    if let plain = plainSortPermutation(keys) {
        perm = plain
    } else {
        // Comparing through a buffer pointer borrows the keys instead of retaining them.
        try keys.withUnsafeBufferPointer { kb in
            try timsortIndices(&perm) { a, b in try fastLessThan(u, kb[a], kb[b]) }
        }
    }
    let source = reverse ? Array(items.reversed()) : items
    var sorted = perm.map { source[$0] }
    if reverse { sorted.reverse() }
    items = sorted
}

/// Sorts `items` in place when they are all ints or all strs (no program code runs);
/// false, leaving them alone, otherwise.
private func sortPlainValues(_ items: inout [Value], reverse: Bool) -> Bool {
    var keys = items
    if reverse { keys.reverse() }
    guard let perm = plainSortPermutation(keys) else { return false }
    var sorted = perm.map { keys[$0] }
    if reverse { sorted.reverse() }
    items = sorted
    return true
}

/// The stable sorting permutation of `keys` when they are all ints or all strs (compared
/// natively, as CPython's pre-sort check allows); nil otherwise.
private func plainSortPermutation(_ keys: [Value]) -> [Int]? {
    var perm = Array(0..<keys.count)
    if let ints = homogeneousInts(keys) {
        try? timsortIndices(&perm) { a, b in ints[a] < ints[b] }
    } else if let strs = homogeneousStrs(keys) {
        try? timsortIndices(&perm) { a, b in utf8Less(strs[a], strs[b]) }
    } else {
        return nil
    }
    return perm
}

/// The keys as Swift ints when every one is an int (bools excluded), else nil.
private func homogeneousInts(_ keys: [Value]) -> [Int]? {
    var out: [Int] = []
    out.reserveCapacity(keys.count)
    for k in keys {
        guard case .int(let i) = k else { return nil }
        out.append(i)
    }
    return out
}

/// The keys as Swift strings when every one is an exact `str`, else nil.
private func homogeneousStrs(_ keys: [Value]) -> [String]? {
    var out: [String] = []
    out.reserveCapacity(keys.count)
    for k in keys {
        guard case .obj(let o) = k, let s = o as? PyStr, o.hasType(Types.strID) else { return nil }
        out.append(s.value)
    }
    return out
}

/// Python's `a < b` for strings: code-point order, which is the byte order of UTF-8.
func utf8Less(_ a: String, _ b: String) -> Bool {
    let fast = a.utf8.withContiguousStorageIfAvailable { pa in
        b.utf8.withContiguousStorageIfAvailable { pb -> Bool in
            let n = min(pa.count, pb.count)
            var i = 0
            while i < n {
                if pa[i] != pb[i] { return pa[i] < pb[i] }
                i += 1
            }
            return pa.count < pb.count
        }
    }
    if let f = fast, let r = f { return r }
    return a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// `a < b` with inline paths for numbers, strs, and tuples or lists of them; anything else
/// goes through ``Unit/lessThan(_:_:)``.
private func fastLessThan(_ u: Unit, _ a: Value, _ b: Value) throws -> Bool {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x < y
    case (.float(let x), .float(let y)): return x < y
    case (.obj(let x), .obj(let y)):
        if let s = x as? PyStr, let t = y as? PyStr, x.hasType(Types.strID), y.hasType(Types.strID) {
            return utf8Less(s.value, t.value)
        }
        if let s = x as? PyTuple, let t = y as? PyTuple, x.hasType(Types.tupleID), y.hasType(Types.tupleID) {
            return try sequenceLess(u, s.items, t.items)
        }
        if let s = x as? PyList, let t = y as? PyList, x.hasType(Types.listID), y.hasType(Types.listID) {
            return try sequenceLess(u, s.snapshot, t.snapshot)
        }
        return try u.lessThan(a, b)
    default: return try u.lessThan(a, b)
    }
}

/// CPython's sequence order: compare the first items that differ, else the lengths.
private func sequenceLess(_ u: Unit, _ a: [Value], _ b: [Value]) throws -> Bool {
    for i in 0..<min(a.count, b.count) where !(try fastEquals(u, a[i], b[i])) {
        return try fastLessThan(u, a[i], b[i])
    }
    return a.count < b.count
}

/// `a == b` (identity first) with inline paths for ints and strs.
private func fastEquals(_ u: Unit, _ a: Value, _ b: Value) throws -> Bool {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x == y
    case (.obj(let x), .obj(let y)):
        if x === y { return true }
        if let s = x as? PyStr, let t = y as? PyStr, x.hasType(Types.strID), y.hasType(Types.strID) {
            return s.value.utf8.elementsEqual(t.value.utf8)
        }
        return try u.equals(a, b)
    default: return try itemEquals(u, a, b)
    }
}

/// CPython's minimum run length for `n` items.
private func minRun(_ n: Int) -> Int {
    var n = n, r = 0
    while n >= 64 { r |= n & 1; n >>= 1 }
    return n + r
}

/// Stable sort of `a` with `lt`: timsort's run detection and binary insertion, then merges.
func timsortIndices(_ a: inout [Int], _ lt: (Int, Int) throws -> Bool) throws {
    let n = a.count
    if n < 2 { return }
    let minrun = minRun(n)
    var runs: [(start: Int, count: Int)] = []
    var lo = 0
    while lo < n {
        var (count, descending) = try countRun(a, lo, n, lt)
        if descending { a[lo..<(lo + count)].reverse() }
        if count < minrun {
            let force = min(minrun, n - lo)
            try binaryInsertionSort(&a, lo, lo + force, lo + count, lt)
            count = force
        }
        runs.append((lo, count))
        lo += count
    }
    while runs.count > 1 {
        var merged: [(start: Int, count: Int)] = []
        var i = 0
        while i + 1 < runs.count {
            try mergeRuns(&a, runs[i].start, runs[i].count, runs[i + 1].count, lt)
            merged.append((runs[i].start, runs[i].count + runs[i + 1].count))
            i += 2
        }
        if i < runs.count { merged.append(runs[i]) }
        runs = merged
    }
}

/// Length of the run starting at `lo`, and whether it is strictly descending.
private func countRun(_ a: [Int], _ lo: Int, _ hi: Int, _ lt: (Int, Int) throws -> Bool) throws -> (Int, Bool) {
    if lo + 1 == hi { return (1, false) }
    var n = 2
    if try lt(a[lo + 1], a[lo]) {
        while lo + n < hi, try lt(a[lo + n], a[lo + n - 1]) { n += 1 }
        return (n, true)
    }
    while lo + n < hi, !(try lt(a[lo + n], a[lo + n - 1])) { n += 1 }
    return (n, false)
}

/// Sorts `a[lo..<hi]` given that `a[lo..<start]` is already sorted (CPython's binarysort).
private func binaryInsertionSort(_ a: inout [Int], _ lo: Int, _ hi: Int, _ start: Int,
                                 _ lt: (Int, Int) throws -> Bool) throws {
    var s = start == lo ? start + 1 : start
    while s < hi {
        let pivot = a[s]
        var l = lo, r = s
        repeat {
            let p = l + ((r - l) >> 1)
            if try lt(pivot, a[p]) { r = p } else { l = p + 1 }
        } while l < r
        var p = s
        while p > l { a[p] = a[p - 1]; p -= 1 }
        a[l] = pivot
        s += 1
    }
}

/// Stably merges the adjacent sorted runs `a[lo..<lo+n1]` and `a[lo+n1..<lo+n1+n2]`.
private func mergeRuns(_ a: inout [Int], _ lo: Int, _ n1: Int, _ n2: Int,
                       _ lt: (Int, Int) throws -> Bool) throws {
    let left = Array(a[lo..<(lo + n1)])
    var i = 0, j = lo + n1, k = lo
    let end = lo + n1 + n2
    while i < left.count && j < end {
        if try lt(a[j], left[i]) { a[k] = a[j]; j += 1 } else { a[k] = left[i]; i += 1 }
        k += 1
    }
    while i < left.count { a[k] = left[i]; i += 1; k += 1 }
}

// MARK: - Dunder methods (for `super()` calls from list subclasses)

/// `__len__`, `__getitem__`, `__setitem__`, `__delitem__`, `__contains__`, `__iter__`,
/// `__reversed__`.
private func installListProtocol(_ t: PyType) {
    t.method("__len__") { u, s, args in
        try ContainerArgs.none(args, "list.__len__")
        return .int(try recv(s, "__len__").count)
    }
    t.method("__getitem__") { u, s, args in
        try listGetItem(try recv(s, "__getitem__"), try ContainerArgs.one(args, "list.__getitem__"), u)
    }
    t.method("__setitem__") { u, s, args in
        try ContainerArgs.range(args, "list.__setitem__", 2, 2)
        try listSetItem(try recv(s, "__setitem__"), args[0], args[1], u)
        return .none
    }
    t.method("__delitem__") { u, s, args in
        try listDelItem(try recv(s, "__delitem__"), try ContainerArgs.one(args, "list.__delitem__"), u)
        return .none
    }
    t.method("__contains__") { u, s, args in
        let l = try recv(s, "__contains__")
        let x = try ContainerArgs.one(args, "list.__contains__")
        return .bool(try firstIndex(of: x, in: { l.snapshot }, 0, Int.max, u) != nil)
    }
    t.method("__iter__") { u, s, args in
        try ContainerArgs.none(args, "list.__iter__")
        return .obj(PyListIterator(try recv(s, "__iter__")))
    }
    t.method("__reversed__") { u, s, args in
        try ContainerArgs.none(args, "list.__reversed__")
        return .obj(listReverseIterator(try recv(s, "__reversed__")))
    }
}

/// `reversed(l)`: walks from the end and stops early if the list shrinks, as CPython's
/// `list_reverseiterator`.
func listReverseIterator(_ l: PyList) -> PyIter {
    var index = l.count - 1
    return PyClosureIterator { _ in
        guard index >= 0, let v = l.item(at: index) else { index = -1; return nil }
        index -= 1
        return v
    }
}

/// The receiver of a list method, or the TypeError CPython raises for a descriptor applied
/// to another type. A function, not a captured closure: calling a method then retains no
/// closure context.
@inline(__always) private func recv(_ v: Value, _ m: String) throws -> PyList {
    try containerReceiver(v, PyList.self, m, "list")
}
