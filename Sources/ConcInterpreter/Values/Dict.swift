// Insertion-ordered hash tables for dict and set, with Python's equality and hashing
// (user `__hash__`/`__eq__` are called through the unit and may raise).

/// An insertion-ordered hash table: the storage of `dict` (with values) and `set` (without).
///
/// Entries live in arrays in insertion order; deleted entries become tombstones (`.unbound`
/// key) and are compacted when they outnumber live ones. `slots` maps hash buckets to entry
/// indices (-1 empty, -2 deleted) with linear probing.
struct HashTable {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []
    private(set) var hashes: [Int] = []
    private var slots: [Int32] = []
    private(set) var count = 0
    let storesValues: Bool

    init(storesValues: Bool) { self.storesValues = storesValues }

    /// Live entry indices in insertion order.
    var liveIndices: [Int] { (0..<keys.count).filter { !keys[$0].isUnbound } }

    private func findSlot(_ u: Unit, _ key: Value, _ h: Int) throws -> (slot: Int, entry: Int) {
        if slots.isEmpty { return (-1, -1) }
        let mask = slots.count - 1
        var i = h & mask
        var firstFree = -1
        while true {
            let e = Int(slots[i])
            if e == -1 { return (firstFree >= 0 ? firstFree : i, -1) }
            if e == -2 { if firstFree < 0 { firstFree = i } }
            else if hashes[e] == h {
                let k = keys[e]
                if try keyEquals(u, k, key) { return (i, e) }
            }
            i = (i + 1) & mask
        }
    }

    @inline(__always) private func keyEquals(_ u: Unit, _ a: Value, _ b: Value) throws -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.obj(let x), .obj(let y)):
            if x === y { return true }
            if let sx = x as? PyStr, let sy = y as? PyStr { return sx.value == sy.value }
            return try u.equals(a, b)
        default: return try u.equals(a, b)
        }
    }

    /// Index of the entry for `key`, or nil.
    func find(_ u: Unit, _ key: Value) throws -> Int? {
        let h = try u.hash(key)
        let e = try findSlot(u, key, h).entry
        return e >= 0 ? e : nil
    }

    func get(_ u: Unit, _ key: Value) throws -> Value? {
        guard let e = try find(u, key) else { return nil }
        return values[e]
    }

    func value(at e: Int) -> Value { values[e] }
    func key(at e: Int) -> Value { keys[e] }

    mutating func set(_ u: Unit, _ key: Value, _ value: Value) throws {
        let h = try u.hash(key)
        if slots.isEmpty { slots = Array(repeating: -1, count: 8) }
        let (slot, e) = try findSlot(u, key, h)
        if e >= 0 { if storesValues { values[e] = value }; return }
        keys.append(key); hashes.append(h)
        if storesValues { values.append(value) }
        slots[slot] = Int32(keys.count - 1)
        count += 1
        if keys.count * 3 >= slots.count * 2 { rebuild(capacityFor: count * 2) }
    }

    /// Removes `key`; returns its value (or `.none` for sets) if it was present.
    mutating func remove(_ u: Unit, _ key: Value) throws -> Value? {
        guard !slots.isEmpty else { return nil }
        let h = try u.hash(key)
        let (slot, e) = try findSlot(u, key, h)
        if e < 0 { return nil }
        let v = storesValues ? values[e] : .none
        slots[slot] = -2
        keys[e] = .unbound
        if storesValues { values[e] = .unbound }
        count -= 1
        if keys.count > 16 && count * 2 < keys.count { rebuild(capacityFor: count * 2) }
        return v
    }

    /// Removes and returns the last entry (dict.popitem / set.pop order).
    mutating func popLast(_ u: Unit) throws -> (Value, Value)? {
        guard let e = keys.lastIndex(where: { !$0.isUnbound }) else { return nil }
        let k = keys[e]
        let v = storesValues ? values[e] : .none
        _ = try remove(u, k)
        return (k, v)
    }

    mutating func removeAll() {
        keys = []; values = []; hashes = []; slots = []; count = 0
    }

    /// Re-creates the slot table, compacting tombstones out of the entry arrays.
    private mutating func rebuild(capacityFor n: Int) {
        var newKeys: [Value] = [], newValues: [Value] = [], newHashes: [Int] = []
        newKeys.reserveCapacity(count); newHashes.reserveCapacity(count)
        for i in 0..<keys.count where !keys[i].isUnbound {
            newKeys.append(keys[i]); newHashes.append(hashes[i])
            if storesValues { newValues.append(values[i]) }
        }
        keys = newKeys; values = newValues; hashes = newHashes
        slots = linearProbingSlots(hashes, minimumSize: n * 2)
    }
}

/// An open-addressing index for entries with these hashes: a power-of-two table of at least
/// `minimumSize` (and 8) slots holding entry numbers, -1 where empty, linear probing.
/// Shared by ``HashTable`` and ``NameTable``.
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

/// A dict: insertion-ordered mapping.
public final class PyDict: PyObject, SubclassAttributes {
    var subclassAttributes: PyDict?
    /// The entries. Mutated by dict operations.
    var table = HashTable(storesValues: true)
    init() { super.init(type: Types.dict) }
    init(type: PyType) { super.init(type: type) }

    var count: Int { table.count }
    /// (key, value) pairs in insertion order.
    var pairs: [(Value, Value)] { table.liveIndices.map { (table.key(at: $0), table.value(at: $0)) } }
    var keys: [Value] { table.liveIndices.map { table.key(at: $0) } }

    func get(_ u: Unit, _ k: Value) throws -> Value? { try table.get(u, k) }
    func set(_ u: Unit, _ k: Value, _ v: Value) throws { try table.set(u, k, v) }
    /// Convenience for string keys (kwargs, json): cannot fail.
    func set(_ u: Unit, _ k: String, _ v: Value) { try! table.set(u, .str(k), v) }
}

/// A set or frozenset.
public final class PySet: PyObject, SubclassAttributes {
    var subclassAttributes: PyDict?
    /// The elements. Mutated only for `set` (never for frozenset after construction).
    var table = HashTable(storesValues: false)
    let isFrozen: Bool
    init(frozen: Bool = false) {
        isFrozen = frozen
        super.init(type: frozen ? Types.frozenset : Types.set)
    }
    /// An empty set or frozenset whose class is `type` (a subclass of set or frozenset).
    init(frozen: Bool, type: PyType) { isFrozen = frozen; super.init(type: type) }
    var count: Int { table.count }
    /// The elements in CPython's iteration order (see ``cpythonSetOrder``), so that sets of
    /// ints, floats and tuples print exactly as CPython prints them.
    var elements: [Value] {
        let live = table.liveIndices
        if live.count <= 1 { return live.map { table.key(at: $0) } }
        return cpythonSetOrder(live.map { table.hashes[$0] }).map { table.key(at: live[$0]) }
    }
    func contains(_ u: Unit, _ v: Value) throws -> Bool { try table.find(u, v) != nil }
    func add(_ u: Unit, _ v: Value) throws { try table.set(u, v, .none) }
}

/// The order CPython 3.11 iterates a set whose elements (with these hashes) were inserted in
/// this order: it replays CPython's table (size 8, growth at 3/5 full to 4× the used count,
/// 9 linear probes then perturbed probing) and lists positions by slot.
func cpythonSetOrder(_ hashes: [Int]) -> [Int] {
    var table = [Int](repeating: -1, count: 8)
    var used = 0
    func insert(_ idx: Int, _ table: inout [Int]) {
        let mask = table.count - 1
        let h = UInt(bitPattern: hashes[idx])
        var perturb = h
        var i = Int(h & UInt(mask))
        while true {
            if table[i] == -1 { table[i] = idx; return }
            if i + 9 <= mask {
                for j in 1...9 where table[i + j] == -1 { table[i + j] = idx; return }
            }
            perturb >>= 5
            i = Int((UInt(i) &* 5 &+ 1 &+ perturb) & UInt(mask))
        }
    }
    for idx in 0..<hashes.count {
        insert(idx, &table)
        used += 1
        if used * 5 >= (table.count - 1) * 3 {
            let minUsed = used > 50000 ? used * 2 : used * 4
            var size = 8
            while size <= minUsed { size <<= 1 }
            let old = table
            table = [Int](repeating: -1, count: size)
            for e in old where e >= 0 { insert(e, &table) }
        }
    }
    return table.filter { $0 >= 0 }
}
