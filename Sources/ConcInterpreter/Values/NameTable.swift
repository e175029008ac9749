// A hash map from attribute names to values with a cheap hash (FNV-1a over UTF-8),
// precomputable by nodes. Swift's Dictionary<String, _> uses SipHash, which profiling showed
// as a third of the time of attribute-heavy programs.

/// FNV-1a hash of a name's UTF-8 bytes.
@inline(__always) func nameHash(_ s: String) -> Int {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return Int(truncatingIfNeeded: h)
}

/// An insertion-ordered String → V map with open addressing. Deleted entries leave
/// tombstones that are compacted on growth.
struct NameTable<V>: Sequence {
    private var keys: [String] = []
    private var hashes: [Int] = []
    private var values: [V?] = []
    private var slots: [Int32] = []
    private(set) var count = 0

    init() {}

    @inline(__always) private func find(_ key: String, _ h: Int) -> (slot: Int, entry: Int) {
        if slots.isEmpty { return (-1, -1) }
        let mask = slots.count - 1
        var i = h & mask
        while true {
            let e = Int(slots[i])
            if e == -1 { return (i, -1) }
            if hashes[e] == h && keys[e] == key { return (i, e) }
            i = (i + 1) & mask
        }
    }

    /// The value for `key` whose `nameHash` is `hash`.
    @inline(__always) func get(_ key: String, hash: Int) -> V? {
        let e = find(key, hash).entry
        return e >= 0 ? values[e] : nil
    }

    subscript(key: String) -> V? {
        get { get(key, hash: nameHash(key)) }
        set {
            if let v = newValue { set(key, v) } else { _ = removeValue(forKey: key) }
        }
    }

    mutating func set(_ key: String, _ v: V) {
        let h = nameHash(key)
        if slots.isEmpty { slots = Array(repeating: -1, count: 8) }
        let (slot, e) = find(key, h)
        if e >= 0 {
            if values[e] == nil { count += 1 }
            values[e] = v
            return
        }
        keys.append(key); hashes.append(h); values.append(v)
        slots[slot] = Int32(keys.count - 1)
        count += 1
        if keys.count * 2 >= slots.count { rebuild() }
    }

    /// Removes `key` (leaving a tombstone entry); returns the old value.
    @discardableResult
    mutating func removeValue(forKey key: String) -> V? {
        let (_, e) = find(key, nameHash(key))
        guard e >= 0, let old = values[e] else { return nil }
        values[e] = nil
        count -= 1
        return old
    }

    private mutating func rebuild() {
        var nk: [String] = [], nh: [Int] = [], nv: [V?] = []
        for i in 0..<keys.count where values[i] != nil { nk.append(keys[i]); nh.append(hashes[i]); nv.append(values[i]) }
        keys = nk; hashes = nh; values = nv
        slots = linearProbingSlots(hashes, minimumSize: keys.count * 4)
    }

    /// Live keys in insertion order.
    var liveKeys: [String] { (0..<keys.count).compactMap { values[$0] == nil ? nil : keys[$0] } }

    func makeIterator() -> AnyIterator<(key: String, value: V)> {
        var i = 0
        let k = keys, v = values
        return AnyIterator {
            while i < k.count {
                defer { i += 1 }
                if let x = v[i] { return (key: k[i], value: x) }
            }
            return nil
        }
    }
}
