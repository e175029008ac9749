// `_itertools`: the combinatoric iterators of itertools (product, permutations,
// combinations, combinations_with_replacement) as native iterator types, which
// stdlib/itertools.conc returns after checking the arguments. As Conc generators they
// took 25 times CPython's time (an index list walked in Conc code per item); these are
// CPython's C algorithms, in the same output order, and their objects are named as
// CPython's (`<itertools.combinations object at ...>`).
//
// Free-threaded evaluation: each iterator's indices change under its own lock, and an
// item is built inside the same critical section from the pool (immutable tuples), so
// threads sharing one iterator each get whole, distinct items, as CPython's GIL gives.

extension Engine {
    func makeItertoolsModule() -> PyModule {
        nativeModule("_itertools", Types.itertoolsClasses.map { ($0.name, Value.obj($0)) } + [
            native("combinations") { u, a in
                try a.expect("combinations", 2, 2)
                return .obj(PyCombinatoric(.combinations, pools: [try poolItems(a[0])], r: try length(u, a[1])))
            },
            native("combinations_with_replacement") { u, a in
                try a.expect("combinations_with_replacement", 2, 2)
                return .obj(PyCombinatoric(.combinationsWithReplacement, pools: [try poolItems(a[0])], r: try length(u, a[1])))
            },
            native("permutations") { u, a in
                try a.expect("permutations", 2, 2)
                return .obj(PyCombinatoric(.permutations, pools: [try poolItems(a[0])], r: try length(u, a[1])))
            },
            native("product") { _, a in
                try a.expect("product", 1, 1)
                guard case .obj(let o) = a[0], let list = o as? PyList else { throw typeError("product() takes a list of tuples") }
                return .obj(PyCombinatoric(.product, pools: try list.snapshot.map(poolItems), r: list.count))
            },
        ])
    }
}

/// The items of a pool that itertools.conc already made a tuple.
private func poolItems(_ v: Value) throws -> [Value] {
    guard case .obj(let o) = v, let t = o as? PyTuple else { throw typeError("expected a tuple of the pool's items") }
    return t.items
}

/// r, which itertools.conc checked: a non-negative int (or bool, or int subclass).
private func length(_ u: Unit, _ v: Value) throws -> Int {
    guard let i = u.intValue(v.unboxedNumber), i >= 0 else { throw valueError("r must be non-negative") }
    return i
}

/// One of the four combinatoric iterators. `indices` (and `cycles`, for permutations) are
/// CPython's state, read and changed only under the object's lock.
final class PyCombinatoric: PyIter {
    enum Kind { case product, permutations, combinations, combinationsWithReplacement }
    let kind: Kind
    /// The input items: one pool, or one per factor of a product. Fixed by init (`var` only
    /// so that deinit releases them in the trashcan's bracket).
    private var pools: [[Value]]
    /// The length of each item (the number of factors, for a product). Immutable.
    private let r: Int
    private var indices: [Int]
    /// permutations: how many more turns each position has (CPython's `cycles`).
    private var cycles: [Int] = []
    /// True once the first item was given.
    private var started = false
    /// True once the last item was given (or from the start, when there is none).
    private var exhausted = false

    init(_ kind: Kind, pools: [[Value]], r: Int) {
        self.kind = kind; self.pools = pools; self.r = r
        let n = pools.first?.count ?? 0
        switch kind {
        case .product:
            indices = Array(repeating: 0, count: pools.count)
            exhausted = pools.contains { $0.isEmpty }
        case .permutations:
            // (r > n gives nothing: no state, whatever r is.)
            exhausted = r > n
            indices = exhausted ? [] : Array(0..<n)
            cycles = exhausted ? [] : Array(stride(from: n, to: n - r, by: -1))
        case .combinations:
            exhausted = r > n
            indices = exhausted ? [] : Array(0..<r)
        case .combinationsWithReplacement:
            indices = Array(repeating: 0, count: r)
            exhausted = n == 0 && r > 0
        }
        let type: PyType
        switch kind {
        case .product: type = Types.itertoolsProduct
        case .permutations: type = Types.itertoolsPermutations
        case .combinations: type = Types.itertoolsCombinations
        case .combinationsWithReplacement: type = Types.itertoolsCombinationsWithReplacement
        }
        super.init(type: type)
    }
    deinit { Trashcan.releaseFields(pools.flatMap { $0 }) { pools = [] } }

    override func next(_ u: Unit) throws -> Value? {
        locked { () -> Value? in
            if exhausted { return nil }
            if started && !advance() { exhausted = true; return nil }
            started = true
            return .obj(PyTuple(currentItem()))
        }
    }

    private func currentItem() -> [Value] {
        if kind == .product { return indices.enumerated().map { pools[$0.offset][$0.element] } }
        let pool = pools[0]
        return indices.prefix(r).map { pool[$0] }
    }

    /// Moves the indices to the next item; false when there is none.
    private func advance() -> Bool {
        let n = pools.first?.count ?? 0
        switch kind {
        case .product:
            // The odometer: the rightmost wheel that can turn turns, the ones after it reset.
            var i = indices.count - 1
            while i >= 0 {
                indices[i] += 1
                if indices[i] < pools[i].count { return true }
                indices[i] = 0
                i -= 1
            }
            return false
        case .combinations:
            var i = r - 1
            while i >= 0 && indices[i] == i + n - r { i -= 1 }
            if i < 0 { return false }
            indices[i] += 1
            for j in stride(from: i + 1, to: r, by: 1) { indices[j] = indices[j - 1] + 1 }
            return true
        case .combinationsWithReplacement:
            var i = r - 1
            while i >= 0 && indices[i] == n - 1 { i -= 1 }
            if i < 0 { return false }
            let value = indices[i] + 1
            for j in i..<r { indices[j] = value }
            return true
        case .permutations:
            if n == 0 { return false }
            for i in stride(from: r - 1, through: 0, by: -1) {
                cycles[i] -= 1
                if cycles[i] == 0 {
                    // Rotate position i to the end; its turns start again.
                    let moved = indices.remove(at: i)
                    indices.append(moved)
                    cycles[i] = n - i
                } else {
                    indices.swapAt(i, n - cycles[i])
                    return true
                }
            }
            return false
        }
    }
}
