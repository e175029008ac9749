// Where CPython 3.11 would keep each element of a set, so that sets iterate, print and
// pop in CPython's order.

/// CPython's open-addressing table for one set (Objects/setobject.c), replayed beside the
/// set's own lookup table (``HashTable``): the same slots, dummies, fill, growth and pop
/// finger, driven by the same additions and removals, so the element order is CPython's
/// exactly. It never compares keys: the set's lookup table decides what is present (with
/// `__eq__`), and this one is told to add an absent key or to drop a present one (found by
/// identity).
///
/// Owned by its ``PySet``, read and changed only under that set's lock.
struct CPythonSetLayout {
    /// Slot states: never used, dummy (a removed key), or holding a key.
    private static let unused: UInt8 = 0, dummy: UInt8 = 1, active: UInt8 = 2
    /// CPython's `LINEAR_PROBES` and `PERTURB_SHIFT`.
    private static let linearProbes = 9, perturbShift = 5

    private(set) var keys: [Value]
    private var hashes: [Int]
    private var states: [UInt8]
    /// Active plus dummy slots, and active slots (CPython's `fill` and `used`).
    private(set) var fill = 0
    private(set) var used = 0
    /// Where the next `pop()` starts looking (CPython's `finger`). A set keeps its own
    /// when it is cleared or takes another's table (CPython never resets it there).
    var finger = 0

    init(size: Int = 8) {
        keys = Array(repeating: .unbound, count: size)
        hashes = Array(repeating: 0, count: size)
        states = Array(repeating: CPythonSetLayout.unused, count: size)
    }

    var mask: Int { keys.count - 1 }

    /// The keys and their hashes in slot order: CPython's iteration order.
    var ordered: [(Value, Int)] {
        var out: [(Value, Int)] = []
        out.reserveCapacity(used)
        for i in 0..<states.count where states[i] == CPythonSetLayout.active { out.append((keys[i], hashes[i])) }
        return out
    }

    /// The layout CPython would have after adding these keys, absent and distinct, in this
    /// order to an empty set.
    static func adding(_ items: [(Value, Int)]) -> CPythonSetLayout {
        var l = CPythonSetLayout()
        for (k, h) in items { l.add(k, h) }
        return l
    }

    /// `set_add_entry` for a key known to be absent: the last dummy on its probe path
    /// before the free slot that ends it, else that free slot (then the table may grow).
    /// (The last, not the first: what CPython 3.11's sets are seen to do.)
    mutating func add(_ key: Value, _ hash: Int) {
        var perturb = UInt(bitPattern: hash)
        var i = Int(UInt(bitPattern: hash) & UInt(mask))
        var freeSlot = -1
        while true {
            let probes = i + CPythonSetLayout.linearProbes <= mask ? CPythonSetLayout.linearProbes : 0
            for j in i...(i + probes) {
                switch states[j] {
                case CPythonSetLayout.unused:
                    if freeSlot >= 0 { put(key, hash, at: freeSlot); used += 1; return }
                    put(key, hash, at: j)
                    fill += 1; used += 1
                    if fill * 5 >= mask * 3 { resize(used > 50000 ? used * 2 : used * 4) }
                    return
                case CPythonSetLayout.dummy:
                    freeSlot = j
                default:
                    break
                }
            }
            perturb >>= UInt(CPythonSetLayout.perturbShift)
            i = Int((UInt(i) &* 5 &+ 1 &+ perturb) & UInt(mask))
        }
    }

    /// `set_discard_entry` for a key known to be present (the very value the set holds).
    mutating func discard(_ key: Value, _ hash: Int) {
        var perturb = UInt(bitPattern: hash)
        var i = Int(UInt(bitPattern: hash) & UInt(mask))
        while true {
            let probes = i + CPythonSetLayout.linearProbes <= mask ? CPythonSetLayout.linearProbes : 0
            for j in i...(i + probes) {
                if states[j] == CPythonSetLayout.unused { return }  // not here after all
                if states[j] == CPythonSetLayout.active && hashes[j] == hash && isSame(keys[j], key) {
                    states[j] = CPythonSetLayout.dummy
                    keys[j] = .unbound
                    used -= 1
                    return
                }
            }
            perturb >>= UInt(CPythonSetLayout.perturbShift)
            i = Int((UInt(i) &* 5 &+ 1 &+ perturb) & UInt(mask))
        }
    }

    /// `set.pop()`: the first key at or after the finger, which then moves past it.
    mutating func pop() -> (Value, Int)? {
        guard used > 0 else { return nil }
        var i = finger & mask
        while states[i] != CPythonSetLayout.active { i = i == mask ? 0 : i + 1 }
        let taken = (keys[i], hashes[i])
        states[i] = CPythonSetLayout.dummy
        keys[i] = .unbound
        used -= 1
        finger = i + 1
        return taken
    }

    /// `set_table_resize`: a table of the smallest power of two above `minUsed` (at least
    /// 8), the keys put back in slot order, without dummies.
    mutating func resize(_ minUsed: Int) {
        var size = 8
        while size <= minUsed { size <<= 1 }
        let old = self
        keys = Array(repeating: .unbound, count: size)
        hashes = Array(repeating: 0, count: size)
        states = Array(repeating: CPythonSetLayout.unused, count: size)
        fill = old.used; used = old.used
        for i in 0..<old.states.count where old.states[i] == CPythonSetLayout.active {
            insertClean(old.keys[i], old.hashes[i])
        }
    }

    /// `set_insert_clean`: into the first free slot of the probe path (no dummies here).
    private mutating func insertClean(_ key: Value, _ hash: Int) {
        var perturb = UInt(bitPattern: hash)
        var i = Int(UInt(bitPattern: hash) & UInt(mask))
        while true {
            if states[i] == CPythonSetLayout.unused { put(key, hash, at: i); return }
            if i + CPythonSetLayout.linearProbes <= mask {
                for j in (i + 1)...(i + CPythonSetLayout.linearProbes) where states[j] == CPythonSetLayout.unused {
                    put(key, hash, at: j)
                    return
                }
            }
            perturb >>= UInt(CPythonSetLayout.perturbShift)
            i = Int((UInt(i) &* 5 &+ 1 &+ perturb) & UInt(mask))
        }
    }

    private mutating func put(_ key: Value, _ hash: Int, at i: Int) {
        keys[i] = key; hashes[i] = hash; states[i] = CPythonSetLayout.active
    }

    /// The first step of `set_merge(self, other)` when `self` is not empty: one resize up
    /// front for the keys to come (they are then added one by one, the present ones
    /// skipped).
    mutating func presize(forAdding count: Int) {
        if (fill + count) * 5 >= mask * 3 { resize((used + count) * 2) }
    }

    /// `set_merge` of `other` into an empty set (`set(s)`, `s.copy()`, the first step of
    /// `s | t`): the same slots when the tables have the same size and `other` has no
    /// dummies, else `other`'s keys inserted in its slot order into a table sized for them.
    static func copying(_ other: CPythonSetLayout) -> CPythonSetLayout {
        var l = CPythonSetLayout()
        if other.used == 0 { return l }
        if other.used * 5 >= l.mask * 3 { l.resize(other.used * 2) }
        if l.mask == other.mask && other.fill == other.used {
            l.keys = other.keys; l.hashes = other.hashes; l.states = other.states
            l.fill = other.fill; l.used = other.used
            return l
        }
        l.fill = other.used; l.used = other.used
        for i in 0..<other.states.count where other.states[i] == CPythonSetLayout.active {
            l.insertClean(other.keys[i], other.hashes[i])
        }
        return l
    }

    /// The end of `difference_update`: when more than a quarter of the slots are dummies,
    /// the table is rebuilt without them.
    mutating func dropDummiesIfMany() {
        if fill - used > mask / 4 { resize(used > 50000 ? used * 2 : used * 4) }
    }
}
