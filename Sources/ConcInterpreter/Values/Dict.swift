// Insertion-ordered hash tables for dict and set, with Python's equality and hashing
// (user `__hash__`/`__eq__` are called through the unit and may raise), and the dict and
// set objects that own them.
//
// Free-threaded evaluation (see Concurrency/ObjectLocks.swift): a ``HashTable`` is a plain
// struct of Swift arrays, so every read or write of `PyDict.table` / `PySet.table` happens
// inside `locked` on the owner, and nothing inside runs Conc code. A lookup therefore works
// in rounds (``HashTableOwner/readEntry(_:_:_:)``):
//
// 1. The key's hash is computed before locking (a user `__hash__` may run).
// 2. Under the lock the table is probed. Stored keys whose hash matches are compared with
//    ``pureKeyEquals(_:_:)`` (identity, and str/int/float/bool/None and tuples of those,
//    which is all Swift), or with the answer a previous round got for that very stored key
//    object. The operation is applied right there, in the same critical section as the probe,
//    so check-then-act (`setdefault`, `pop`, insert-if-absent) is atomic.
// 3. If stored keys need a user `__eq__` nobody has asked yet, the probe collects them all,
//    the lock is released, the comparisons run (Conc code, unlocked, in probe order up to
//    the first equal key), their answers are remembered for those key objects, and the probe
//    starts again from step 2 on the table as it is now.
//
// Every round answers at least one new comparison, so a lookup ends unless other code keeps
// inserting new colliding keys (or a `__eq__` keeps replacing them); after
// ``HashTableOwner/maxLookupRounds`` rounds it raises RuntimeError instead of looping. The
// probe itself always ends: the table is only changed under the lock, so it always has an
// empty slot (load factor below 2/3).

import Synchronization

/// An insertion-ordered hash table: the storage of `dict` (with values) and `set` (without).
///
/// Entries live in arrays in insertion order; deleted entries become tombstones (`.unbound`
/// key) and are compacted when they outnumber live ones. `slots` maps hash buckets to entry
/// indices (-1 empty, -2 deleted), probed in CPython's perturbed order (``ProbeSequence``).
///
/// A value type with no locking of its own: whoever owns one that other threads can reach
/// (``PyDict``, ``PySet``) reads and writes it only under its own lock, and a copy taken
/// under that lock (O(1), copy-on-write) may then be read anywhere.
struct HashTable {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []
    private(set) var hashes: [Int] = []
    private var slots: [Int32] = []
    private(set) var count = 0
    let storesValues: Bool
    /// Bumped by every insertion, removal and rebuild: a set's layout of CPython's order
    /// (``PySet/layout``) is in step with the table while it is unchanged.
    private(set) var mutations = 0

    init(storesValues: Bool) { self.storesValues = storesValues }

    /// A copy sharing no buffer with this one (ThreadSanitizer builds: see ``freshCopy(_:)``).
    var unshared: HashTable {
        var t = self
        t.keys = freshCopy(keys); t.values = freshCopy(values)
        t.hashes = freshCopy(hashes); t.slots = freshCopy(slots)
        return t
    }

    /// Live entry indices in insertion order.
    var liveIndices: [Int] { (0..<keys.count).filter { !keys[$0].isUnbound } }

    func value(at e: Int) -> Value { values[e] }
    func key(at e: Int) -> Value { keys[e] }

    /// Where a probed key is (`entry` ≥ 0) or would be inserted (`entry` -1; `slot` -1 when
    /// the table has no slots yet). Valid only until the table next changes, so it is used
    /// under the same lock as the probe.
    struct Hit {
        let hash: Int
        let slot: Int
        let entry: Int
        var found: Bool { entry >= 0 }
    }

    /// A probe's outcome: the key's place, or the stored keys (in probe order) whose
    /// equality with the probed key needs Conc code (`__eq__`), to be asked without the lock.
    enum Probe {
        case hit(Hit)
        case unknown([Value])
    }

    /// Equality of stored keys with the probed key already asked of Conc code, by identity
    /// of the stored key (the key values are kept, so identities stay unique).
    struct Known {
        private var objects: [ObjectIdentifier: Bool] = [:]
        private var scalars: [(key: Value, equal: Bool)] = []
        private var kept: [Value] = []
        var count: Int { kept.count }

        func lookUp(_ k: Value) -> Bool? {
            if case .obj(let o) = k { return objects.isEmpty ? nil : objects[ObjectIdentifier(o)] }
            for p in scalars where isSame(p.key, k) { return p.equal }
            return nil
        }

        mutating func add(_ k: Value, _ equal: Bool) {
            kept.append(k)
            if case .obj(let o) = k { objects[ObjectIdentifier(o)] = equal } else { scalars.append((k, equal)) }
        }
    }

    /// Finds `key` (whose hash is `h`) without running Conc code. Stored keys met on the way
    /// that need `__eq__` are all collected (up to the first key known to be equal), so one
    /// unlocked round can answer every one of them.
    /// `mutating` though it changes nothing: the owner's table is then accessed in place,
    /// where a non-mutating call copied it out of the object (retaining its arrays).
    mutating func probe(_ key: Value, _ h: Int, _ known: Known?) -> Probe {
        if slots.isEmpty { return .hit(Hit(hash: h, slot: -1, entry: -1)) }
        // Stored keys are compared in place in their buffer (not copied out, which would
        // retain and release each).
        return keys.withUnsafeBufferPointer { keys in slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1  // a power of two: `& mask` keeps `i` in bounds
            var probe = ProbeSequence(h, mask)
            var i = probe.slot
            var firstFree = -1
            var pending: [Value] = []
            while true {
                let e = Int(slots[i])
                if e >= 0 {
                    if hashes[e] == h {
                        if let equal = fastKeyEquals(keys[e], key) ?? known?.lookUp(keys[e]) {
                            if equal { return pending.isEmpty ? .hit(Hit(hash: h, slot: i, entry: e)) : .unknown(pending) }
                        } else {
                            pending.append(keys[e])
                        }
                    }
                } else if e == -1 {
                    if !pending.isEmpty { return .unknown(pending) }
                    return .hit(Hit(hash: h, slot: firstFree >= 0 ? firstFree : i, entry: -1))
                } else if firstFree < 0 {
                    firstFree = i
                }
                i = probe.next()
            }
        } }
    }

    /// Key equality as a dict lookup sees it (identity first), for a stored key `a` and a
    /// probed key `b`. May run Conc code: never call it under a table owner's lock.
    static func keyEquals(_ u: Unit, _ a: Value, _ b: Value) throws -> Bool {
        if let r = fastKeyEquals(a, b) { return r }
        return try u.equals(a, b)
    }

    /// Inserts `key` where `hit` (a miss of a probe of this very table) says.
    mutating func insert(_ key: Value, _ value: Value, at hit: Hit) {
        var slot = hit.slot
        if slots.isEmpty {
            slots = Array(repeating: -1, count: 8)
            slot = hit.hash & 7
        }
        keys.append(key); hashes.append(hit.hash)
        if storesValues { values.append(value) }
        slots[slot] = Int32(keys.count - 1)
        count += 1
        mutations &+= 1
        if keys.count * 3 >= slots.count * 2 { rebuild(capacityFor: count * 2) }
    }

    // The mutators return the keys and values they drop, so that the owner releases them
    // after its lock: the last release of a suspended generator closes it, running Conc code.

    /// Replaces the value of the entry `hit` found (the key object stays, as in CPython);
    /// returns the old value.
    mutating func setValue(_ value: Value, at hit: Hit) -> Value {
        guard storesValues else { return .none }
        let old = values[hit.entry]
        values[hit.entry] = value
        return old
    }

    /// The table of `v` when its keys can be taken with the hashes it keeps: any set or
    /// frozenset, or a dict of exactly `dict` (a subclass may iterate its own way), as
    /// CPython's `set(d)` and `dict.fromkeys(s)` do; nil for anything else.
    static func hashedKeys(of v: Value) -> HashTable? {
        guard case .obj(let o) = v else { return nil }
        if let s = o as? PySet { return s.snapshot }
        if let d = o as? PyDict, d.type === Types.dict { return d.snapshot }
        return nil
    }

    /// A table of this one's keys with `value` for each (none for a set), reusing their
    /// stored hashes: the keys are already unique, so no `__hash__` or `__eq__` runs.
    func keysTable(storesValues: Bool, value: Value) -> HashTable {
        var t = HashTable(storesValues: storesValues)
        for e in liveIndices { t.insertAbsent(keys[e], value, hash: hashes[e]) }
        return t
    }

    /// Replaces the value of live entry `e`; returns the old value.
    mutating func setValue(_ value: Value, atEntry e: Int) -> Value {
        guard storesValues else { return .none }
        let old = values[e]
        values[e] = value
        return old
    }

    /// Inserts `key`, known to be absent (its entry was just taken out, or the table is
    /// being rebuilt from unique keys), with `hash`: whatever the probe would ask Conc code
    /// about the stored keys is answered "not equal", so this never leaves the lock.
    mutating func insertAbsent(_ key: Value, _ value: Value, hash: Int) {
        var known = Known()
        while true {
            switch probe(key, hash, known) {
            case .hit(let free): insert(key, value, at: free); return
            case .unknown(let stored): for x in stored { known.add(x, false) }
            }
        }
    }

    /// Removes the entry `hit` found; returns its key and value (`.none` for sets).
    mutating func remove(at hit: Hit) -> (key: Value, value: Value) {
        let e = hit.entry
        let k = keys[e]
        let v = storesValues ? values[e] : .none
        slots[hit.slot] = -2
        keys[e] = .unbound
        if storesValues { values[e] = .unbound }
        count -= 1
        mutations &+= 1
        if keys.count > 16 && count * 2 < keys.count { rebuild(capacityFor: count * 2) }
        return (k, v)
    }

    /// Removes and returns the last entry (dict.popitem / set.pop order).
    mutating func popLast() -> (Value, Value)? {
        guard let e = keys.lastIndex(where: { !$0.isUnbound }) else { return nil }
        var probe = ProbeSequence(hashes[e], slots.count - 1)
        var i = probe.slot
        while Int(slots[i]) != e { i = probe.next() }  // a live entry is always in `slots`
        return remove(at: Hit(hash: hashes[e], slot: i, entry: e))
    }

    /// The entry holding exactly `key` (the same object) with `hash`, if any.
    func entry(identicalTo key: Value, hash: Int) -> Int? {
        guard !slots.isEmpty else { return nil }
        var probe = ProbeSequence(hash, slots.count - 1)
        var i = probe.slot
        while true {
            let s = Int(slots[i])
            if s == -1 { return nil }
            if s >= 0 && hashes[s] == hash && isSame(keys[s], key) { return s }
            i = probe.next()
        }
    }


    /// Removes live entry `e`; returns its key and value.
    mutating func remove(entry e: Int) -> (key: Value, value: Value) {
        var probe = ProbeSequence(hashes[e], slots.count - 1)
        var i = probe.slot
        while Int(slots[i]) != e { i = probe.next() }  // a live entry is always in `slots`
        return remove(at: Hit(hash: hashes[e], slot: i, entry: e))
    }

    mutating func removeAll() {
        keys = []; values = []; hashes = []; slots = []; count = 0
        mutations &+= 1
    }

    /// Re-creates the slot table, compacting tombstones out of the entry arrays.
    private mutating func rebuild(capacityFor n: Int) {
        mutations &+= 1
        // Growth without deletions (a dict being filled): the entries stay where they are,
        // only the slot table is made anew.
        if count == keys.count {
            slots = perturbedProbingSlots(hashes, minimumSize: n * 2)
            return
        }
        var newKeys: [Value] = [], newValues: [Value] = [], newHashes: [Int] = []
        newKeys.reserveCapacity(count); newHashes.reserveCapacity(count)
        for i in 0..<keys.count where !keys[i].isUnbound {
            newKeys.append(keys[i]); newHashes.append(hashes[i])
            if storesValues { newValues.append(values[i]) }
        }
        keys = newKeys; values = newValues; hashes = newHashes
        slots = perturbedProbingSlots(hashes, minimumSize: n * 2)
    }
}

/// ``pureKeyEquals(_:_:depth:)`` with the common cases (same object, two ints, two strs)
/// inline on the probe's path.
@inline(__always) func fastKeyEquals(_ a: Value, _ b: Value) -> Bool? {
    // Nested matches rather than a switch over the pair `(a, b)`, which copies (retains)
    // both values; strs are recognised by their exact Swift class, without a cast.
    if case .int(let x) = a, case .int(let y) = b { return x == y }
    if case .obj(let x) = a, case .obj(let y) = b {
        if x === y { return true }
        if x.isStrObject && y.isStrObject && x.typeIsBuiltin && y.typeIsBuiltin {
            return unsafeDowncast(x, to: PyStr.self).equals(unsafeDowncast(y, to: PyStr.self))
        }
    }
    return pureKeyEquals(a, b)
}

/// Key equality when it needs no Conc code: identity, and str, int, float, bool, None and
/// tuples of those compared with each other (what `Unit.equals` answers for them); nil when
/// a user `__eq__` could be involved (instances, frozensets, other objects, deep tuples).
/// Safe under any lock: it only reads immutable objects.
func pureKeyEquals(_ a: Value, _ b: Value, depth: Int = 0) -> Bool? {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x == y
    case (.obj(let x), .obj(let y)):
        if x === y { return true }
        if let s = x as? PyStr {
            // A str subclass may define __eq__: Unit.equals decides.
            if !x.typeIsBuiltin || !y.typeIsBuiltin { return nil }
            if let t = y as? PyStr { return s.equals(t) }
            return y is PyInstance ? nil : false
        }
        if let s = x as? PyTuple, let t = y as? PyTuple {
            if s.items.count != t.items.count { return false }
            if depth > 16 { return nil }
            for i in 0..<s.items.count where !isSame(s.items[i], t.items[i]) {
                guard let r = pureKeyEquals(s.items[i], t.items[i], depth: depth + 1) else { return nil }
                if !r { return false }
            }
            return true
        }
        if x is PyTuple && y is PyStr { return false }
        return nil
    case (.obj(let x), _): return x is PyStr || x is PyTuple ? false : nil
    case (_, .obj(let y)): return y is PyStr || y is PyTuple ? false : nil
    case (.none, .none): return true
    case (.none, _), (_, .none): return false
    case (.unbound, _), (_, .unbound): return false
    default:
        // int, float, bool mixed: as `Unit.equals` (exactly). A float key is found by
        // itself, NaN included: the same bits are the same float (CPython finds `n` in
        // `{n}` by identity).
        if let i = a.intLike, let j = b.intLike { return i == j }
        if case .float(let x) = a, case .float(let y) = b { return x == y || x.bitPattern == y.bitPattern }
        if let c = exactIntFloatOrder(a, b) { return c == 0 }
        return false
    }
}

/// An open-addressing index for entries with these hashes: a power-of-two table of at least
/// `minimumSize` (and 8) slots holding entry numbers, -1 where empty, linear probing
/// (``NameTable``'s order).
func linearProbingSlots(_ hashes: [Int], minimumSize: Int) -> [Int32] {
    var size = 8
    while size < minimumSize { size <<= 1 }
    var slots = [Int32](repeating: -1, count: size)
    let mask = size - 1
    for (e, h) in hashes.enumerated() {
        var i = h & mask
        while slots[i] != -1 { i = (i + 1) & mask }
        slots[i] = Int32(e)
    }
    return slots
}

/// The slot table of a ``HashTable``: at least `minimumSize` (and 8) slots holding entry
/// numbers, -1 where empty, placed in ``ProbeSequence`` order.
func perturbedProbingSlots(_ hashes: [Int], minimumSize: Int) -> [Int32] {
    var size = 8
    while size < minimumSize { size <<= 1 }
    var slots = [Int32](repeating: -1, count: size)
    for (e, h) in hashes.enumerated() {
        var probe = ProbeSequence(h, size - 1)
        var i = probe.slot
        while slots[i] != -1 { i = probe.next() }
        slots[i] = Int32(e)
    }
    return slots
}

/// CPython's probe order over a table of `mask + 1` slots: the hash's low bits first, then
/// `i = 5i + 1 + perturb` with the hash's higher bits shifted in. Consecutive int keys fill
/// consecutive slots, and plain linear probing made every miss among them walk the whole
/// run (deleting and re-adding keys was quadratic); the perturbation leaves a run at once.
struct ProbeSequence {
    private var perturb: UInt
    private let mask: UInt
    private(set) var slot: Int
    @inline(__always) init(_ hash: Int, _ mask: Int) {
        perturb = UInt(bitPattern: hash); self.mask = UInt(mask)
        slot = Int(perturb & self.mask)
    }
    @inline(__always) mutating func next() -> Int {
        perturb >>= 5
        slot = Int((UInt(slot) &* 5 &+ perturb &+ 1) & mask)
        return slot
    }
}

// MARK: - Owners: dict and set

/// An object holding a ``HashTable`` that threads share: ``PyDict`` and ``PySet``. These
/// helpers are the only code that probes or changes a shared table; each takes the owner's
/// lock once per round (see the top of this file).
protocol HashTableOwner: PyObject {
    /// Only under `locked`; use the helpers below.
    var table: HashTable { get set }
    /// Brings the table up to date before a helper reads or changes it (a globals dict
    /// takes in what code bound without it); called outside the lock.
    func prepareTable()
}

extension HashTableOwner {
    @inline(__always) func prepareTable() {}
    /// Rounds after which a lookup whose `__eq__` calls keep meeting new colliding keys gives
    /// up with RuntimeError rather than looping forever.
    static var maxLookupRounds: Int { 200 }

    /// Hashes `key` (maybe running `__hash__`; not when its `hash` is known, kept by the
    /// table it comes from), then answers `body` from the table and the key's place in it,
    /// in one critical section.
    @inline(__always)
    func readEntry<R>(_ u: Unit, _ key: Value, hash: Int? = nil, _ body: (HashTable, HashTable.Hit) -> R) throws -> R {
        try writeEntry(u, key, hash: hash) { table, hit in body(table, hit) }
    }

    /// Hashes `key` (maybe running `__hash__`), finds its place in the table and runs `body`
    /// there, which may change the table (insert, replace, remove at the hit): probe and
    /// change happen in one critical section. Stored keys whose equality needs Conc code
    /// are compared outside the lock, and the probe starts again (``answer``).
    @inline(__always)
    func writeEntry<R>(_ u: Unit, _ key: Value, hash: Int? = nil, _ body: (inout HashTable, HashTable.Hit) -> R) throws -> R {
        let h = try hash ?? u.hash(key)
        prepareTable()
        var known: HashTable.Known? = nil  // made by the first round that needs it
        var rounds = 0
        while true {
            var result: R? = nil
            let pending: [Value]? = locked {
                switch table.probe(key, h, known) {
                case .unknown(let ks): return ks
                case .hit(let hit): result = body(&table, hit); return nil
                }
            }
            guard let ks = pending else { return result! }
            try answer(u, ks, key, &known, &rounds)
        }
    }

    /// Asks Conc code (unlocked) whether the stored keys `stored` equal `key`, in probe
    /// order up to the first equal one (as CPython compares), and remembers the answers.
    private func answer(_ u: Unit, _ stored: [Value], _ key: Value, _ known: inout HashTable.Known?,
                        _ rounds: inout Int) throws {
        rounds += 1
        if rounds > Self.maxLookupRounds {
            throw runtimeError("\(type.name) changed too often during a key lookup")
        }
        var k2 = known ?? HashTable.Known()
        defer { known = k2 }
        for k in stored where k2.lookUp(k) == nil {
            let equal = try HashTable.keyEquals(u, k, key)
            k2.add(k, equal)
            if equal { return }
        }
    }

    /// A copy of the table (O(1), copy-on-write): read it anywhere, without the lock.
    var snapshot: HashTable {
        prepareTable()
        #if CONC_TSAN
        return locked { table.unshared }
        #else
        return locked { table }
        #endif
    }

    /// Replaces the whole table (the old one is released after the lock).
    func replaceTable(_ t: HashTable) {
        let old: HashTable = locked { let o = table; table = t; return o }
        withExtendedLifetime(old) {}
    }

    /// The number of entries.
    var count: Int {
        prepareTable()
        return locked { table.count }
    }

    /// Empties the table.
    func removeAll() {
        let old: HashTable = locked { let o = table; table.removeAll(); return o }
        withExtendedLifetime(old) {}  // released here, unlocked
    }

    /// Removes and returns the last entry (`popitem`, `set.pop`), or nil if empty.
    func popLast() -> (Value, Value)? { locked { table.popLast() } }  // released by the caller
}

/// An object whose attributes a dict may show and change (``PyDict/attributesOf``):
/// instances and functions.
protocol AttributeOwner: AnyObject {
    func instanceAttribute(_ name: String) -> Value?
    /// A change made through the dict (which already holds it): applied to the owner only.
    func attributeSetThroughDict(_ name: String, _ v: Value)
    func attributeRemovedThroughDict(_ name: String)
}

/// How an instance keeps the dict it handed out as `__dict__` (``PyInstance/keptDict``).
/// Set under the instance's lock; the fields never change after.
final class KeptDict {
    /// A dict assigned to `obj.__dict__`, held strongly: it may hold keys that are no
    /// attributes, and nothing else may hold it. It holds its instances weakly (several
    /// may share it: the Borg idiom).
    let adopted: PyDict?
    /// A dict made when `obj.__dict__` was read, held weakly: the dict holds its
    /// instance strongly instead. Once the program drops it, the instance's stores take
    /// the cached paths again and the next read makes a fresh one from the slots. (The
    /// other way round, a weak reference to the instance would move every retain and
    /// release of the instance to a side table; this one slows only the dict's.)
    weak var viewed: PyDict?

    init(adopted d: PyDict) { adopted = d }
    init(viewed d: PyDict) { adopted = nil; viewed = d }

    var dict: PyDict? { adopted ?? viewed }
}

/// The owners of a dict that is their `__dict__` (usually one; several after
/// `b.__dict__ = a.__dict__`): held weakly when the instance holds the dict (adopted),
/// strongly when it does not (viewed, and functions); see ``KeptDict``. A dict kept after
/// its instance died is a plain dict. Read and changed under the dict's lock.
final class AttributeOwners {
    struct Entry {
        /// An instance that holds this dict (adopted), held weakly.
        weak var weakOwner: AnyObject?
        /// An instance that holds this dict only weakly (viewed), or a function (which
        /// keeps no dict of its own), held strongly: a weak reference would move the
        /// owner's reference counts to a side table, slowing every use of it.
        let strongOwner: AnyObject?
        /// Names the owner keeps outside its dict (its `__slots__` when it has a `__dict__`
        /// too): changes of these are not shown in the dict.
        let excluded: Set<String>
        var owner: AnyObject? { strongOwner ?? weakOwner }
    }
    var entries: [Entry] = []
}

/// A dict: insertion-ordered mapping.
public final class PyDict: PyObject, SubclassAttributes, HashTableOwner {
    /// Attributes of a dict subclass instance; only under `locked` (see
    /// ``SubclassAttributes/attributeDict``).
    var subclassAttributes: PyDict?
    /// The entries. Read and written only inside `locked` on this dict, through the
    /// ``HashTableOwner`` helpers and the methods below; take a ``snapshot`` to read at leisure.
    var table = HashTable(storesValues: true)
    /// The module whose variables this dict mirrors (the dict of `globals()`), else nil:
    /// a str key stored or deleted here is also bound or unbound there, and a lookup reads
    /// the variable, so code that writes `globals()["x"] = 1` creates the global `x`.
    /// Set once, before the dict is handed out; never changes.
    var globalsOf: Globals?

    /// A module's globals dict first takes in the variables as they are now: code binds
    /// and unbinds them without the dict, which a program may have kept (`g = globals()`).
    /// (Not a dict exec() adopted: it is the program's own, which code sees through
    /// `copyBack` at the end of each exec().)
    @inline(__always) func prepareTable() {
        if let g = globalsOf, !g.isExecNamespace { takeInVariables(g) }
    }

    /// Rebuilds the table from `g`'s bound variables, in the order they were first bound;
    /// keys that are not str (an exec() namespace may have some) stay. The variables are
    /// read before the dict's lock is taken: no other lock is taken inside a dict's.
    func takeInVariables(_ g: Globals) {
        // Until no name was bound or unbound between the reading of the variables and the
        // change of the table (a unit paused in between would else put back an old set of
        // keys, and `name in globals()` would miss a name bound long before).
        // (Bounded: units binding and deleting globals in a loop must not hold it up; the
        // last round takes what it read.)
        for round in 1...100 where takeInVariablesOnce(g, lastRound: round == 100) { return }
    }

    private func takeInVariablesOnce(_ g: Globals, lastRound: Bool) -> Bool {
        let epoch = Globals.presenceEpoch.load(ordering: .sequentiallyConsistent)
        let bound: [(String, Value)] = g.boundNames.compactMap { n in g.get(n).map { (n, $0) } }
        // The same names in the same order (the usual case): only values are brought up to
        // date, in place, so that an iteration running over the dict keeps its place.
        var replaced: [Value] = []
        let inPlace: Bool = locked {
            var entries: [Int] = []
            entries.reserveCapacity(bound.count)
            for e in table.liveIndices {
                guard let s = table.key(at: e).asStr else { continue }
                guard entries.count < bound.count, s.value == bound[entries.count].0 else { return false }
                entries.append(e)
            }
            guard entries.count == bound.count else { return false }
            for (i, e) in entries.enumerated() where !isSame(table.value(at: e), bound[i].1) {
                replaced.append(table.setValue(bound[i].1, atEntry: e))
            }
            return true
        }
        if inPlace { return true }  // `replaced` is released here, unlocked
        var fresh = HashTable(storesValues: true)
        for (n, v) in bound {
            let k = Value.str(n)
            fresh.insertAbsent(k, v, hash: k.asStr.unsafelyUnwrapped.hash)
        }
        let old: HashTable? = locked {
            if !lastRound && Globals.presenceEpoch.load(ordering: .sequentiallyConsistent) != epoch { return nil }
            for e in table.liveIndices where table.key(at: e).asStr == nil {
                fresh.insertAbsent(table.key(at: e), table.value(at: e), hash: table.hashes[e])
            }
            let o = table
            table = fresh
            return o
        }
        guard let replaced = old else { return false }
        withExtendedLifetime(replaced) {}  // released here, unlocked
        return true
    }
    /// The instances (or function) whose attributes this dict is (their `__dict__`), else
    /// nil: a str key stored or deleted here is also set or deleted on each of them, and
    /// their own attribute changes are made here too (``ownerDidSet(_:_:from:)``), so the
    /// dict and the attributes stay one. Under `locked`.
    private var owners: AttributeOwners?
    /// Set (never cleared) once the dict gained an owner, which happens before the dict is
    /// handed to the program: a dict without one skips the lock to look (every `d[k]`).
    private let everOwned = Atomic<Bool>(false)

    /// The first live owner (a function's dict reads through to it).
    var attributesOf: AttributeOwner? {
        guard everOwned.load(ordering: .relaxed) else { return nil }
        return locked { owners?.entries.lazy.compactMap { $0.owner as? AttributeOwner }.first }
    }

    /// Makes this dict (also) `owner`'s attributes: held weakly, or with `strongly`, held
    /// strongly (an instance's viewed dict, a function's).
    func addOwner(_ owner: AttributeOwner, excluding: Set<String> = [], strongly: Bool = false) {
        locked {
            let o = owners ?? AttributeOwners()
            o.entries.removeAll { $0.owner == nil || $0.owner === owner }
            o.entries.append(.init(weakOwner: strongly ? nil : owner, strongOwner: strongly ? owner : nil, excluded: excluding))
            owners = o
            everOwned.store(true, ordering: .relaxed)
        }
    }

    /// A key that is no attribute name went into an instance's viewed `__dict__`: only the
    /// dict keeps it, so from now on its instances hold the dict (as if assigned to their
    /// `__dict__`), and it holds them weakly (``KeptDict``).
    private func keepNonAttributeKey() {
        let viewers: [PyInstance] = locked {
            guard let o = owners else { return [] }
            var found: [PyInstance] = []
            for i in o.entries.indices {
                guard let inst = o.entries[i].strongOwner as? PyInstance else { continue }
                found.append(inst)
                o.entries[i] = .init(weakOwner: inst, strongOwner: nil, excluded: o.entries[i].excluded)
            }
            return found
        }
        for inst in viewers {
            inst.locked { if inst.keptDict?.viewed === self { inst.keptDict = KeptDict(adopted: self) } }
        }
    }

    /// `owner` no longer has this dict as its attributes (`owner.__dict__ = other`).
    func removeOwner(_ owner: AttributeOwner) {
        locked { owners?.entries.removeAll { $0.owner == nil || $0.owner === owner } }
    }

    /// The live owners other than `except`, with the names each keeps outside the dict.
    private func otherOwners(except: AnyObject? = nil) -> [(AttributeOwner, Set<String>)] {
        locked {
            guard let o = owners else { return [] }
            return o.entries.compactMap { e in
                guard let x = e.owner, x !== except, let a = x as? AttributeOwner else { return nil }
                return (a, e.excluded)
            }
        }
    }

    /// Tells the owners (but `except`) that `name` was set through the dict.
    private func ownersSet(_ name: String, _ v: Value, except: AnyObject? = nil) {
        for (o, excluded) in otherOwners(except: except) where !excluded.contains(name) { o.attributeSetThroughDict(name, v) }
    }

    /// Tells the owners (but `except`) that `name` was removed through the dict.
    func ownersRemoved(_ name: String, except: AnyObject? = nil) {
        for (o, excluded) in otherOwners(except: except) where !excluded.contains(name) { o.attributeRemovedThroughDict(name) }
    }

    /// Whether the dict shows `owner`'s attribute `name` (it is an owner, and does not keep
    /// that name outside the dict).
    private func shows(_ name: String, of owner: AnyObject) -> Bool {
        locked { owners?.entries.first { $0.owner === owner }.map { !$0.excluded.contains(name) } ?? false }
    }

    /// `owner` set its attribute `name`: the dict shows it (and any other owner gets it).
    func ownerDidSet(_ u: Unit, _ name: String, _ v: Value, from owner: AnyObject) throws {
        guard shows(name, of: owner) else { return }
        _ = try store(u, .str(name), v)
        ownersSet(name, v, except: owner)
    }

    /// `owner` deleted its attribute `name`: so does the dict (and any other owner).
    func ownerDidRemove(_ u: Unit, _ name: String, from owner: AnyObject) throws {
        guard shows(name, of: owner) else { return }
        let removed = try writeEntry(u, .str(name)) { t, hit in hit.found ? t.remove(at: hit) : nil }
        _ = removed
        ownersRemoved(name, except: owner)
    }
    init() { super.init(typeBits: Types.dictBits) }
    init(type: PyType) { super.init(type: type) }
    deinit {
        WeakReferents.noteDeath(self)  // a dict subclass's instance may have weak references
        if Finalizers.wantsStandIn(self) {
            let standIn = PyDict(type: type)
            standIn.table = table
            standIn.subclassAttributes = subclassAttributes
            table = HashTable(storesValues: true)
            Finalizers.queue(standIn: standIn)
        }
        // A chain of dicts (`{'k': {'k': ...}}`) frees its links in the trashcan's bracket.
        Trashcan.releaseFields(table.keys + table.values) { table = HashTable(storesValues: true) }
    }

    /// (key, value) pairs in insertion order (a snapshot).
    var pairs: [(Value, Value)] {
        let t = snapshot
        return t.liveIndices.map { (t.key(at: $0), t.value(at: $0)) }
    }
    /// The keys in insertion order (a snapshot).
    var keys: [Value] {
        let t = snapshot
        return t.liveIndices.map { t.key(at: $0) }
    }
    /// The values in insertion order (a snapshot).
    var values: [Value] {
        let t = snapshot
        return t.liveIndices.map { t.value(at: $0) }
    }

    /// `d.get(k)`: the value, or nil.
    func get(_ u: Unit, _ k: Value) throws -> Value? {
        if let g = globalsOf, let name = k.asStr?.value { return g.get(name) }
        if let inst = attributesOf, let name = k.asStr?.value { return inst.instanceAttribute(name) }
        return try readEntry(u, k) { t, hit in hit.found ? t.value(at: hit.entry) : nil }
    }
    /// `k in d`: like `get(u, k) != nil`, without copying the value out.
    func hasKey(_ u: Unit, _ k: Value) throws -> Bool {
        try readEntry(u, k) { _, hit in hit.found }
    }
    /// `d[k] = v`.
    func set(_ u: Unit, _ k: Value, _ v: Value) throws {
        announce(k, v, owned: try store(u, k, v))
    }
    /// Stores `k: v` in the table only; true if the dict is some object's `__dict__`
    /// (read with the entry, under the lock).
    private func store(_ u: Unit, _ k: Value, _ v: Value) throws -> Bool {
        var owned = false
        let old: Value? = try writeEntry(u, k) { t, hit in
            owned = owners != nil
            if hit.found { return t.setValue(v, at: hit) }
            t.insert(k, v, at: hit)
            return nil
        }
        _ = old  // released here, unlocked
        return owned
    }
    /// After `k: v` was stored: the module variable or the owners' attribute of a str key.
    private func announce(_ k: Value, _ v: Value, owned: Bool) {
        if !owned && globalsOf == nil { return }  // a plain dict: nothing else to tell
        guard let name = k.asStr?.value else {
            if owned { keepNonAttributeKey() }
            return
        }
        globalsOf?.set(name, v)
        if owned { ownersSet(name, v) }
    }
    /// Moves `k`'s entry to the end of the order as one step (OrderedDict.move_to_end, which
    /// CPython's C OrderedDict does without the key ever being missing); false if absent.
    func moveToEnd(_ u: Unit, _ k: Value) throws -> Bool {
        try writeEntry(u, k) { t, hit in
            guard hit.found else { return false }
            let (key, value) = t.remove(at: hit)
            t.insertAbsent(key, value, hash: hit.hash)
            return true
        }
    }
    /// Moves `k`'s entry to the front of the order as one step (move_to_end(k, last=False)):
    /// the table is rebuilt under the lock with it first; false if absent.
    func moveToFront(_ u: Unit, _ k: Value) throws -> Bool {
        let old: HashTable? = try writeEntry(u, k) { t, hit in
            guard hit.found else { return nil }
            var fresh = HashTable(storesValues: true)
            fresh.insertAbsent(t.key(at: hit.entry), t.value(at: hit.entry), hash: hit.hash)
            for e in t.liveIndices where e != hit.entry { fresh.insertAbsent(t.key(at: e), t.value(at: e), hash: t.hashes[e]) }
            let previous = t
            t = fresh
            return previous
        }
        return old != nil  // the old table is released here, unlocked
    }
    /// Removes `k` only if it still holds `v` itself, as one step (a WeakValueDictionary's
    /// callback must not delete a live value stored meanwhile under the same key).
    func removeIfIdentical(_ u: Unit, _ k: Value, _ v: Value) throws -> Bool {
        let removed = try writeEntry(u, k) { t, hit in
            hit.found && isSame(t.value(at: hit.entry), v) ? t.remove(at: hit) : nil
        }
        return removed != nil  // released here, unlocked
    }
    /// `d[k] = d.get(k, 0) + 1` as one step (Counter's counting, atomic as CPython's C
    /// `_count_elements` is): false, having changed nothing, when `k` holds something other
    /// than an int below the largest one.
    func incrementCount(_ u: Unit, _ k: Value) throws -> Bool {
        var owned = false
        var stored: Value? = nil
        let done: Bool = try writeEntry(u, k) { t, hit in
            owned = owners != nil
            if !hit.found { t.insert(k, .int(1), at: hit); stored = .int(1); return true }
            guard case .int(let n) = t.value(at: hit.entry), n < Int.max else { return false }
            _ = t.setValue(.int(n + 1), at: hit)
            stored = .int(n + 1)
            return true
        }
        if done, let v = stored { announce(k, v, owned: owned) }
        return done
    }
    /// Convenience for string keys (kwargs, json): cannot fail.
    func set(_ u: Unit, _ k: String, _ v: Value) { try! set(u, .str(k), v) }
    /// `d.setdefault(k, v)`: the present value, or `v` after inserting it (atomically).
    func setDefault(_ u: Unit, _ k: Value, _ v: Value) throws -> Value {
        if let g = globalsOf, let name = k.asStr?.value {
            // The variable is the truth: bind it in one step, then show it here (a module's
            // globals dict would take it in at its next use anyway; an exec() namespace not).
            let r = g.setDefault(name, v)
            _ = try store(u, k, r)
            return r
        }
        var inserted = false, owned = false
        let r = try writeEntry(u, k) { t, hit in
            owned = owners != nil
            if hit.found { return t.value(at: hit.entry) }
            t.insert(k, v, at: hit)
            inserted = true
            return v
        }
        if inserted { announce(k, v, owned: owned) }
        return r
    }
    /// Removes `k`; returns its value if it was present (`del d[k]`, `d.pop(k)`).
    func remove(_ u: Unit, _ k: Value) throws -> Value? {
        var owned = false
        let removed = try writeEntry(u, k) { t, hit in
            owned = owners != nil
            return hit.found ? t.remove(at: hit) : nil
        }
        if let g = globalsOf, let name = k.asStr?.value { _ = g.unbind(name) }
        if owned, removed != nil, let name = k.asStr?.value { ownersRemoved(name) }
        return removed?.value
    }

    /// One step of iteration for ``PyDictIterator``, under the lock: the first live entry at
    /// or after `cursor` (which it advances past it), nil at the end, or `.changed` when the
    /// dict no longer has `expectedCount` entries.
    /// `remaining` counts the entries the iteration may still yield: one more than the
    /// dict had when it began means keys were deleted and others added (same size).
    /// The next entry for iterator `it`, whose cursor (`entry`, `remaining`) is read and
    /// advanced here, under this dict's lock: threads may share the iterator. (Not passed
    /// `inout`: the access to the iterator's fields would then begin outside the lock.)
    func iterationStep(_ it: PyDictIterator) -> DictIterationStep {
        prepareTable()  // a global bound meanwhile changes the size, as in CPython
        return locked {
            if table.count != it.initialCount { return .changed }
            while it.entry < table.keys.count {
                let e = it.entry
                it.entry = e + 1
                let k = table.key(at: e)
                if !k.isUnbound {
                    if it.remaining == 0 { return .keysChanged }
                    it.remaining -= 1
                    return .entry(k, table.value(at: e))
                }
            }
            return .end
        }
    }
}

/// What ``PyDict/iterationStep(_:)`` found.
enum DictIterationStep {
    case entry(Value, Value)
    case end
    case changed
    case keysChanged
}

/// A set or frozenset.
public final class PySet: PyObject, SubclassAttributes, HashTableOwner {
    deinit {
        WeakReferents.noteDeath(self)
        if Finalizers.wantsStandIn(self) {
            let standIn = PySet(frozen: isFrozen, type: type)
            standIn.table = table
            standIn.subclassAttributes = subclassAttributes
            Finalizers.queue(standIn: standIn)
        }
        // A chain of frozensets (`frozenset([frozenset([...])])`) likewise.
        Trashcan.releaseFields(reference: (table.keys, layout.keys)) {
            table = HashTable(storesValues: false); layout = CPythonSetLayout(size: 0)
        }
    }
    /// Attributes of a set subclass instance; only under `locked` (see
    /// ``SubclassAttributes/attributeDict``).
    var subclassAttributes: PyDict?
    /// The elements. Read and written only inside `locked` on this set, through the
    /// ``HashTableOwner`` helpers and the methods below. Changed only for `set` (a frozenset's
    /// is filled before anyone else can see it).
    var table = HashTable(storesValues: false)
    let isFrozen: Bool
    /// A frozenset's hash once computed (nested frozensets would otherwise hash their
    /// elements again at every level); nil until then. Under `locked`.
    var cachedHash: Int?
    init(frozen: Bool = false) {
        isFrozen = frozen
        super.init(type: frozen ? Types.frozenset : Types.set)
    }
    /// An empty set or frozenset whose class is `type` (a subclass of set or frozenset).
    init(frozen: Bool, type: PyType) { isFrozen = frozen; super.init(type: type) }
    /// The elements in CPython's iteration order (see ``CPythonSetLayout``), so that sets
    /// print and iterate exactly as CPython's do. A snapshot.
    var elements: [Value] { hashedElements.map { $0.0 } }
    /// The elements with the hashes the table keeps, in the order of ``elements``: set
    /// operations pass them on, so no element is hashed again (as CPython's set algebra).
    var hashedElements: [(Value, Int)] {
        prepareTable()
        return locked { bringLayoutUpToDate(); return layout.ordered }
    }
    /// `s.pop()`: the element CPython's would pop (the first one at or after its scan's
    /// finger, which then moves past it); nil when empty. The caller releases it, after
    /// the lock.
    func popFirst() -> Value? {
        locked {
            bringLayoutUpToDate()
            guard let (k, h) = layout.pop() else { return nil }
            if let e = table.entry(identicalTo: k, hash: h) { _ = table.remove(entry: e) }
            layoutValidAt = table.mutations
            return k
        }
    }

    /// CPython's layout of the elements (see ``CPythonSetLayout``): what iteration, repr
    /// and `pop` follow. Kept in step by the changes made through this class's methods;
    /// valid while `layoutValidAt == table.mutations`, else (the table was changed some
    /// other way) made again from the elements in insertion order. Under `locked`.
    var layout = CPythonSetLayout()
    var layoutValidAt = 0

    /// Under `locked`: makes ``layout`` valid again if the table changed without it.
    func bringLayoutUpToDate() {
        if layoutValidAt == table.mutations { return }
        layout = CPythonSetLayout.adding(table.liveIndices.map { (table.key(at: $0), table.hashes[$0]) })
        layoutValidAt = table.mutations
    }

    /// This set's table and layout, together (the layout up to date).
    var contents: (HashTable, CPythonSetLayout) {
        locked { bringLayoutUpToDate(); return (table, layout) }
    }

    /// Becomes a copy of `other` as CPython's `set_merge` into an empty set makes it
    /// (`set(s)`, `s.copy()`, the start of `s | t`).
    func becomeCopy(of other: PySet) {
        let (t, l) = other.contents
        replaceContents { (t, .copying(l)) }
    }

    /// Replaces the table and the layout with what `make` gives, under the lock; the pop
    /// finger stays (CPython never resets it when a set is cleared or refilled). The old
    /// ones are released after the lock.
    private func replaceContents(_ make: () -> (HashTable, CPythonSetLayout)) {
        let old: (HashTable, CPythonSetLayout) = locked {
            let o = (table, layout)
            (table, layout) = make()
            layout.finger = o.1.finger
            layoutValidAt = table.mutations
            return o
        }
        withExtendedLifetime(old) {}
    }

    /// Takes `other`'s table and layout as they are (`intersection_update`, which swaps
    /// the result in).
    func takeContents(of other: PySet) {
        let (t, l) = other.contents
        replaceContents { (t, l) }
    }

    /// Fills this empty set with `keys` (a dict's, unique) as `set_update_internal` does
    /// for a dict: one resize up front, then each key added in the dict's order.
    func fill(fromDictKeys keys: HashTable) {
        var l = CPythonSetLayout()
        l.presize(forAdding: keys.count)
        for e in keys.liveIndices { l.add(keys.key(at: e), keys.hashes[e]) }
        replaceContents { (keys, l) }
    }

    /// The first step of `set_merge` into this (non-empty) set: one resize for `count`
    /// keys to come.
    func presize(forAdding count: Int) {
        locked {
            bringLayoutUpToDate()
            layout.presize(forAdding: count)
        }
    }

    /// True when this set has never held anything since it was made or cleared (CPython's
    /// `fill == 0`: no keys and no dummies).
    var isPristine: Bool { locked { bringLayoutUpToDate(); return layout.fill == 0 } }

    /// The end of `difference_update`: a table more than a quarter dummies is rebuilt.
    func dropDummiesIfMany() {
        locked {
            bringLayoutUpToDate()
            layout.dropDummiesIfMany()
        }
    }

    /// `s.clear()`: empty, with a fresh table of 8 slots.
    func clearSet() {
        replaceContents { (HashTable(storesValues: false), CPythonSetLayout()) }
    }

    /// `v in s`. (`hash`: `v`'s, when the table it comes from keeps it.)
    func contains(_ u: Unit, _ v: Value, hash: Int? = nil) throws -> Bool {
        try readEntry(u, v, hash: hash) { _, hit in hit.found }
    }
    /// `s.add(v)`.
    func add(_ u: Unit, _ v: Value, hash: Int? = nil) throws {
        try writeEntry(u, v, hash: hash) { t, hit in if !hit.found { insert(&t, v, at: hit) } }
    }
    /// `s.discard(v)`: true if it was present.
    @discardableResult
    func remove(_ u: Unit, _ v: Value, hash: Int? = nil) throws -> Bool {
        let removed = try writeEntry(u, v, hash: hash) { t, hit in hit.found ? remove(&t, at: hit) : nil }
        return removed != nil
    }
    /// Removes `v` if present, else adds it (one step of `^=`).
    func toggle(_ u: Unit, _ v: Value, hash: Int? = nil) throws {
        let removed: Value? = try writeEntry(u, v, hash: hash) { t, hit in
            if hit.found { return remove(&t, at: hit) }
            insert(&t, v, at: hit)
            return nil
        }
        _ = removed  // released here, unlocked
    }
    /// Under `locked` (inside `writeEntry`): adds `v` to the table `t` (this set's) where
    /// the probe `hit` says, and to the layout when it was in step.
    private func insert(_ t: inout HashTable, _ v: Value, at hit: HashTable.Hit) {
        let tracked = layoutValidAt == t.mutations
        t.insert(v, .none, at: hit)
        if tracked { layout.add(v, hit.hash); layoutValidAt = t.mutations }
    }
    /// Under `locked`: removes the entry `hit` found, from the layout too; returns the key.
    private func remove(_ t: inout HashTable, at hit: HashTable.Hit) -> Value {
        let tracked = layoutValidAt == t.mutations
        let k = t.remove(at: hit).key
        if tracked { layout.discard(k, hit.hash); layoutValidAt = t.mutations }
        return k
    }
}

extension SubclassAttributes {
    /// The instance's attribute dict if it has one yet (read under the lock: another thread
    /// may be creating it).
    var existingAttributeDict: PyDict? { locked { subclassAttributes } }
    /// The instance's attribute dict, created on first use (exactly once, under the lock).
    var attributeDict: PyDict {
        locked {
            if let d = subclassAttributes { return d }
            let d = PyDict()
            subclassAttributes = d
            return d
        }
    }
}

