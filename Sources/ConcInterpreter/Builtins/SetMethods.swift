// The methods of `set` and `frozenset`, and the set operators the evaluator calls
// (`|`, `&`, `-`, `^` and the subset comparisons).

// MARK: - Building sets

/// A new set (or frozenset) holding the elements of `v`: a set, a dict's keys, or any iterable.
///
/// - Throws: TypeError when `v` is not iterable or an element is unhashable.
func setFromIterable(_ v: Value, _ u: Unit, frozen: Bool) throws -> PySet {
    let r = PySet(frozen: frozen)
    if case .obj(let o) = v, let s = o as? PySet { r.becomeCopy(of: s); return r }
    if let keys = HashTable.hashedKeys(of: v) {
        r.fill(fromDictKeys: keys.keysTable(storesValues: false, value: .none))
        return r
    }
    let it = try u.iterate(v)
    while let x = try it.next(u) { try r.add(u, x) }
    return r
}

/// The items of `v` with the hashes its table keeps when it is a set, a frozenset or (with
/// `dictHashes`) a plain dict, as CPython's set operations reuse them (no `__hash__` runs
/// again); else its items with none (hashed where used).
private func hashedItems(_ v: Value, _ u: Unit, dictHashes: Bool = true) throws -> [(Value, Int?)] {
    if case .obj(let o) = v, let s = o as? PySet { return s.hashedElements.map { ($0.0, $0.1) } }
    if dictHashes, let t = HashTable.hashedKeys(of: v) { return t.liveIndices.map { (t.key(at: $0), t.hashes[$0]) } }
    return try u.toArray(v).map { ($0, nil) }
}

/// `v` itself when it is a set or frozenset, else a new set of its elements.
private func asSet(_ v: Value, _ u: Unit) throws -> PySet {
    if case .obj(let o) = v, let s = o as? PySet { return s }
    return try setFromIterable(v, u, frozen: false)
}

/// A copy of `s` as a plain set or frozenset (never a subclass).
private func plainCopy(_ s: PySet, frozen: Bool) -> PySet {
    let r = PySet(frozen: frozen)
    r.becomeCopy(of: s)
    return r
}

/// `set_merge(r, other)`: `other`'s elements into `r` as CPython adds them: a copy when
/// `r` has never held anything, else one resize up front and then each element in turn.
private func merge(_ r: PySet, _ other: PySet, _ u: Unit) throws {
    if r === other { return }
    if r.isPristine { r.becomeCopy(of: other); return }
    let items = other.hashedElements
    if items.isEmpty { return }
    r.presize(forAdding: items.count)
    for (x, h) in items { try r.add(u, x, hash: h) }
}

/// `set_difference_update_internal`: discards each of `items` from `r`, then rebuilds
/// its table when more than a quarter of it is dummies.
private func discardAll(_ r: PySet, _ items: [(Value, Int?)], _ u: Unit) throws {
    for (x, h) in items { try r.remove(u, x, hash: h) }
    r.dropDummiesIfMany()
}

/// `set_difference(a, b)`, CPython's two ways: a copy of `a` with `b`'s elements
/// discarded when `a` is more than four times `b`'s size, else `a`'s other elements added
/// one by one to a new set.
private func difference(_ a: PySet, _ b: PySet, frozen: Bool, _ u: Unit) throws -> PySet {
    if (a.count >> 2) > b.count {
        let r = plainCopy(a, frozen: frozen)
        try discardAll(r, try hashedItems(.obj(b), u), u)
        return r
    }
    let r = PySet(frozen: frozen)
    for (x, h) in a.hashedElements where !(try b.contains(u, x, hash: h)) { try r.add(u, x, hash: h) }
    return r
}

/// Runs `body` with `key`; if `key` is an unhashable `set`, retries with an equal frozenset,
/// as CPython does for `remove`, `discard` and `in`.
func withSetKey<T>(_ key: Value, _ u: Unit, _ body: (Value) throws -> T) throws -> T {
    do {
        return try body(key)
    } catch let e as PyBaseException where e.type.isSubtype(of: Exc.typeError) {
        guard case .obj(let o) = key, let s = o as? PySet, !s.isFrozen else { throw e }
        return try body(.obj(plainCopy(s, frozen: true)))
    }
}

// MARK: - Operators

/// `a op b` for two sets: `|`, `&`, `-`, `^`. The result has `a`'s kind (set or frozenset).
func setBinary(_ op: String, _ a: PySet, _ b: PySet, _ u: Unit) throws -> Value {
    let r = PySet(frozen: a.isFrozen)
    switch op {
    case "|":
        // CPython's set_or: a copy of `a`, then `b` merged in.
        r.becomeCopy(of: a)
        try merge(r, b, u)
    case "&":
        // CPython's set_intersection walks the smaller set (`b` when the sizes are equal),
        // adding what the other holds.
        let (small, large) = b.count > a.count ? (a, b) : (b, a)
        for (x, h) in small.hashedElements where try large.contains(u, x, hash: h) { try r.add(u, x, hash: h) }
    case "-":
        return .obj(try difference(a, b, frozen: a.isFrozen, u))
    case "^":
        // CPython's set_symmetric_difference: a copy of `b`, then each element of `a`
        // discarded from it or added.
        r.becomeCopy(of: b)
        for (x, h) in a.hashedElements { try r.toggle(u, x, hash: h) }
    default:
        throw typeError("unsupported operand type(s) for \(op): '\(a.type.name)' and '\(b.type.name)'")
    }
    return .obj(r)
}

/// True when every element of `a` is in `b`.
func setIsSubset(_ a: PySet, _ b: PySet, _ u: Unit) throws -> Bool {
    if a.count > b.count { return false }
    for (x, h) in a.hashedElements where !(try b.contains(u, x, hash: h)) { return false }
    return true
}

/// `a op b` for the comparisons `<=`, `<`, `>=`, `>`, `==`, `!=` between sets (subset order).
func setCompare(_ op: String, _ a: PySet, _ b: PySet, _ u: Unit) throws -> Value {
    switch op {
    case "<=": return .bool(try setIsSubset(a, b, u))
    case "<": return .bool(try a.count < b.count && setIsSubset(a, b, u))
    case ">=": return .bool(try setIsSubset(b, a, u))
    case ">": return .bool(try b.count < a.count && setIsSubset(b, a, u))
    case "==": return .bool(try a.count == b.count && setIsSubset(a, b, u))
    case "!=": return .bool(!(try a.count == b.count && setIsSubset(a, b, u)))
    default: throw typeError("'\(op)' not supported between instances of '\(a.type.name)' and '\(b.type.name)'")
    }
}

/// `a op= b` for a mutable set `a`: changes `a` in place (so aliases see it) and returns it.
/// Nil when `a` is a frozenset (then `a op b` rebinds, as in CPython).
///
/// As in CPython, `|=`, `-=` and `^=` add, discard or toggle `b`'s elements (a snapshot) one
/// at a time, each atomic, so elements other threads add meanwhile are kept; `&=` computes
/// the intersection and replaces the table.
func setInPlace(_ op: String, _ a: PySet, _ b: PySet, _ u: Unit) throws -> Value? {
    if a.isFrozen { return nil }
    switch op {
    case "|": try merge(a, b, u)
    case "-":
        if a === b { a.clearSet(); break }
        try discardAll(a, try hashedItems(.obj(b), u), u)
    case "^":
        if a === b { a.clearSet(); break }
        for (x, h) in b.hashedElements { try a.toggle(u, x, hash: h) }
    case "&":
        guard case .obj(let o) = try setBinary(op, a, b, u), let r = o as? PySet else { return nil }
        a.takeContents(of: r)
    default:
        return nil  // not a set operator: the caller's error names the in-place operator
    }
    return .obj(a)
}

// MARK: - set and frozenset methods

/// Installs the methods and constructor of `set` (or of `frozenset` when `frozen`).
func installSetMethods(_ t: PyType, frozen: Bool) {
    let tn = frozen ? "frozenset" : "set"
    let recv = { (v: Value, m: String) throws -> PySet in try containerReceiver(v, PySet.self, m, tn) }
    t.constructor = { u, type, args in
        if frozen {
            try ContainerArgs.range(args, tn, 0, 1)
            if args.count == 1, type === t, case .obj(let o) = args[0], let s = o as? PySet, s.type === t {
                return args[0]
            }
        } else if type !== t && !inheritsBuiltinInit(type, t) {
            return .obj(PySet(frozen: false, type: type))  // its own __init__ fills it
        }
        try ContainerArgs.range(args, tn, 0, 1)
        let s = type === t ? PySet(frozen: frozen) : PySet(frozen: frozen, type: type)
        if args.count == 1 { s.takeContents(of: try setFromIterable(args[0], u, frozen: frozen)) }
        return .obj(s)
    }
    installSetQueries(t, tn, frozen, recv)
    installSetAlgebra(t, tn, frozen, recv)
    installSetProtocol(t, tn, recv)
    if !frozen { installSetMutators(t, recv) }
}

/// `copy`, `issubset`, `issuperset`, `isdisjoint`.
private func installSetQueries(_ t: PyType, _ tn: String, _ frozen: Bool,
                               _ recv: @escaping (Value, String) throws -> PySet) {
    t.method("copy") { u, s, args in
        let me = try recv(s, "copy")
        try ContainerArgs.none(args, "\(tn).copy")
        if frozen && me.type === t { return s }
        return .obj(plainCopy(me, frozen: frozen))
    }
    t.method("issubset") { u, s, args in
        let me = try recv(s, "issubset")
        return .bool(try setIsSubset(me, try asSet(try ContainerArgs.one(args, "\(tn).issubset"), u), u))
    }
    t.method("issuperset") { u, s, args in
        let me = try recv(s, "issuperset")
        let other = try ContainerArgs.one(args, "\(tn).issuperset")
        if case .obj(let o) = other, let os = o as? PySet { return .bool(try setIsSubset(os, me, u)) }
        let it = try u.iterate(other)
        while let x = try it.next(u) { if !(try me.contains(u, x)) { return .bool(false) } }
        return .bool(true)
    }
    t.method("isdisjoint") { u, s, args in
        let me = try recv(s, "isdisjoint")
        let other = try ContainerArgs.one(args, "\(tn).isdisjoint")
        if case .obj(let o) = other, let os = o as? PySet {
            for (x, h) in os.hashedElements where try me.contains(u, x, hash: h) { return .bool(false) }
            return .bool(true)
        }
        let it = try u.iterate(other)
        while let x = try it.next(u) { if try me.contains(u, x) { return .bool(false) } }
        return .bool(true)
    }
}

/// `union`, `intersection`, `difference`, `symmetric_difference`: new sets of `self`'s kind.
private func installSetAlgebra(_ t: PyType, _ tn: String, _ frozen: Bool,
                               _ recv: @escaping (Value, String) throws -> PySet) {
    t.method("union") { u, s, args in
        try ContainerArgs.noKeywords(args, "\(tn).union")
        return .obj(try setUnion(plainCopy(try recv(s, "union"), frozen: frozen), args.positional, u))
    }
    t.method("intersection") { u, s, args in
        try ContainerArgs.noKeywords(args, "\(tn).intersection")
        return .obj(try setIntersection(try recv(s, "intersection"), args.positional, frozen, u))
    }
    t.method("difference") { u, s, args in
        try ContainerArgs.noKeywords(args, "\(tn).difference")
        return .obj(try setDifference(try recv(s, "difference"), args.positional, frozen, u))
    }
    t.method("symmetric_difference") { u, s, args in
        let me = try recv(s, "symmetric_difference")
        let other = try asSet(try ContainerArgs.one(args, "\(tn).symmetric_difference"), u)
        return try setBinary("^", me, other, u)
    }
}

/// Adds the elements of every iterable in `others` to `r` and returns it.
private func setUnion(_ r: PySet, _ others: [Value], _ u: Unit) throws -> PySet {
    for other in others {
        if case .obj(let o) = other, let s = o as? PySet { try merge(r, s, u); continue }
        if HashTable.hashedKeys(of: other) != nil {
            // A dict: one resize up front for its keys, then each added (set_update_internal).
            let items = try hashedItems(other, u)
            r.presize(forAdding: items.count)
            for (x, h) in items { try r.add(u, x, hash: h) }
            continue
        }
        let it = try u.iterate(other)
        while let x = try it.next(u) { try r.add(u, x) }
    }
    return r
}

/// The elements of `me` found in every one of `others`, as a new set.
private func setIntersection(_ me: PySet, _ others: [Value], _ frozen: Bool, _ u: Unit) throws -> PySet {
    var r = plainCopy(me, frozen: frozen)
    for other in others {
        if case .obj(let o) = other, let os = o as? PySet {
            guard case .obj(let ro) = try setBinary("&", r, os, u), let rs = ro as? PySet else { continue }
            r = rs
            continue
        }
        let next = PySet(frozen: frozen)
        // Like CPython's, only a set's own hashes are reused here: a dict's keys are
        // hashed again (once each).
        let it = try u.iterate(other)
        while let x = try it.next(u) {
            let h = try u.hash(x)
            if try r.contains(u, x, hash: h) { try next.add(u, x, hash: h) }
        }
        r = next
    }
    return r
}

/// The elements of `me` found in none of `others`, as a new set.
private func setDifference(_ me: PySet, _ others: [Value], _ frozen: Bool, _ u: Unit) throws -> PySet {
    guard let first = others.first else { return plainCopy(me, frozen: frozen) }
    // CPython's set_difference_multi: set_difference with the first (which copies and
    // discards for anything but a set or dict), then difference_update with the rest.
    let r: PySet
    if case .obj(let o) = first, let s = o as? PySet {
        r = try difference(me, s, frozen: frozen, u)
    } else {
        r = plainCopy(me, frozen: frozen)
        try discardAll(r, try hashedItems(first, u), u)
    }
    for other in others.dropFirst() { try discardAll(r, try hashedItems(other, u), u) }
    return r
}

/// `add`, `discard`, `remove`, `pop`, `clear`, `update` and the `*_update` methods of `set`.
///
/// As in CPython, `update`, `difference_update` and `symmetric_difference_update` add,
/// discard or toggle one element at a time (each atomic, so concurrent `add`s are kept);
/// `intersection_update` computes the new contents first and then replaces the table.
private func installSetMutators(_ t: PyType, _ recv: @escaping (Value, String) throws -> PySet) {
    t.method("add", oneArg: { u, s, x in try recv(s, "add").add(u, x); return .none }) { u, s, args in
        try recv(s, "add").add(u, try ContainerArgs.one(args, "set.add"))
        return .none
    }
    t.method("discard", oneArg: { u, s, key in
        let me = try recv(s, "discard")
        _ = try withSetKey(key, u) { try me.remove(u, $0) }
        return .none
    }) { u, s, args in
        let me = try recv(s, "discard")
        let key = try ContainerArgs.one(args, "set.discard")
        _ = try withSetKey(key, u) { try me.remove(u, $0) }
        return .none
    }
    t.method("remove") { u, s, args in
        let me = try recv(s, "remove")
        let key = try ContainerArgs.one(args, "set.remove")
        if try !withSetKey(key, u, { try me.remove(u, $0) }) {
            throw PyBaseException(type: Exc.keyError, args: [key])
        }
        return .none
    }
    t.method("pop") { u, s, args in
        let me = try recv(s, "pop")
        try ContainerArgs.none(args, "set.pop")
        guard let k = me.popFirst() else {
            throw PyBaseException(type: Exc.keyError, args: [.str("pop from an empty set")])
        }
        return k
    }
    t.method("clear") { u, s, args in
        let me = try recv(s, "clear")
        try ContainerArgs.none(args, "set.clear")
        me.clearSet()
        return .none
    }
    t.method("update") { u, s, args in
        let me = try recv(s, "update")
        try ContainerArgs.noKeywords(args, "set.update")
        _ = try setUnion(me, args.positional, u)
        return .none
    }
    installSetUpdateVariants(t, recv)
}

/// `intersection_update`, `difference_update`, `symmetric_difference_update`, `__init__`.
private func installSetUpdateVariants(_ t: PyType, _ recv: @escaping (Value, String) throws -> PySet) {
    t.method("intersection_update") { u, s, args in
        let me = try recv(s, "intersection_update")
        try ContainerArgs.noKeywords(args, "set.intersection_update")
        me.takeContents(of: try setIntersection(me, args.positional, false, u))
        return .none
    }
    t.method("difference_update") { u, s, args in
        let me = try recv(s, "difference_update")
        try ContainerArgs.noKeywords(args, "set.difference_update")
        for other in args.positional {
            // A snapshot of `other` first: `s.difference_update(s)` empties `s`.
            // Only a set's hashes are reused, as CPython's difference_update.
            try discardAll(me, try hashedItems(other, u, dictHashes: false), u)
        }
        return .none
    }
    t.method("symmetric_difference_update") { u, s, args in
        let me = try recv(s, "symmetric_difference_update")
        let other = try asSet(try ContainerArgs.one(args, "set.symmetric_difference_update"), u)
        for (x, h) in other.hashedElements { try me.toggle(u, x, hash: h) }
        return .none
    }
    t.method("__init__") { u, s, args in
        let me = try recv(s, "__init__")
        try ContainerArgs.range(args, "set", 0, 1)
        // Emptied first, then filled as update() does (CPython's set_init): `s.__init__(s)`
        // leaves it empty.
        me.clearSet()
        if args.count == 1 { _ = try setUnion(me, [args[0]], u) }
        return .none
    }
}

/// `__len__`, `__contains__`, `__iter__` (for `super()` calls from subclasses).
private func installSetProtocol(_ t: PyType, _ tn: String, _ recv: @escaping (Value, String) throws -> PySet) {
    t.method("__len__") { u, s, args in
        try ContainerArgs.none(args, "\(tn).__len__")
        return .int(try recv(s, "__len__").count)
    }
    t.method("__contains__") { u, s, args in
        let me = try recv(s, "__contains__")
        let key = try ContainerArgs.one(args, "\(tn).__contains__")
        return .bool(try withSetKey(key, u) { try me.contains(u, $0) })
    }
    t.method("__iter__") { u, s, args in
        try ContainerArgs.none(args, "\(tn).__iter__")
        return .obj(PyArrayIterator(try recv(s, "__iter__").elements, type: Types.setIterator))
    }
}
