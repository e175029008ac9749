// `sys.getsizeof`: the sizes CPython 3.11 reports on a 64-bit machine, computed from the
// object's contents with CPython's layouts and growth rules, so that the usual memory
// lessons ("a list of 1000 items against a generator") show CPython's numbers. Conc's own
// objects are laid out differently; these are what the learner's textbook shows.

extension Unit {
    /// `sys.getsizeof(v)`.
    func cpythonSize(of v: Value) -> Int {
        switch v {
        case .none: return 16
        case .bool: return 28
        case .int(let i): return Self.intSize(i)
        case .float: return 24
        default: break
        }
        guard case .obj(let o) = v else { return 16 }
        switch o {
        case let s as PyStr:
            var widest: UInt32 = 0
            for c in s.value.unicodeScalars where c.value > widest { widest = c.value }
            let n = s.count
            if widest < 128 { return 49 + n }
            if widest < 256 { return 73 + n }
            return widest < 0x10000 ? 74 + 2 * n : 76 + 4 * n
        case let b as PyBytes:
            let n = b.count
            return b.isMutable ? (n == 0 ? 56 : 57 + n) : 33 + n
        case let l as PyList: return 56 + 8 * Self.listCapacity(afterAppending: l.count)
        case let t as PyTuple: return 40 + 8 * t.items.count
        case let d as PyDict: return Self.dictSize(d.count, strKeys: d.keys.allSatisfy { $0.asStr != nil })
        case let s as PySet: return Self.setSize(s.count)
        case is PyGenerator: return 200
        case is PyFunction: return 152
        case is PyType: return 1688
        case is PyInstance: return o.type === Types.object ? 16 : 56
        default:
            if o.type === Types.range { return 48 }
            return 16 + 8 * ((try? length(v)) ?? 0)
        }
    }

    /// An int: a 24-byte header and one 4-byte digit per 30 bits of magnitude (at least one).
    static func intSize(_ i: Int) -> Int {
        if i == 0 { return 28 }
        let bits = Int.bitWidth - i.magnitude.leadingZeroBitCount
        return 24 + 4 * ((bits + 29) / 30)
    }

    /// The slots a CPython list has after `n` appends from empty (list_resize's growth).
    static func listCapacity(afterAppending n: Int) -> Int {
        var allocated = 0
        var size = 0
        while size < n {
            size += 1
            if size > allocated { allocated = (size + (size >> 3) + 6) & ~3 }
        }
        return allocated
    }

    /// A dict of `n` items inserted one by one: the object, then (when not empty) its keys
    /// table: a 32-byte header, one index per slot (1, 2 or 4 bytes), and 2/3 of the slots
    /// as entries (16 bytes each when every key is a str, else 24).
    static func dictSize(_ n: Int, strKeys: Bool) -> Int {
        if n == 0 { return 64 }
        var slots = 8
        var used = 0
        while used < n {
            if used >= slots * 2 / 3 {
                let wanted = used * 3
                slots = 8
                while slots < wanted { slots <<= 1 }
            }
            used += 1
        }
        let indexBytes = slots <= 128 ? 1 : slots <= 1 << 16 ? 2 : 4
        return 64 + 32 + slots * indexBytes + (slots * 2 / 3) * (strKeys ? 16 : 24)
    }

    /// A set of `n` items added one by one: 216 bytes with its inline table of 8; a larger
    /// table costs 16 bytes a slot more (set_table_resize's growth).
    static func setSize(_ n: Int) -> Int {
        var mask = 7
        var fill = 0
        while fill < n {
            fill += 1
            if fill * 5 >= mask * 3 {
                var size = 8
                while size <= fill * 4 { size <<= 1 }
                mask = size - 1
            }
        }
        return mask == 7 ? 216 : 216 + 16 * (mask + 1)
    }
}
