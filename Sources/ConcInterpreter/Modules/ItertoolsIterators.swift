// The classes of itertools that are not combinatoric (count, cycle, repeat, accumulate,
// chain, compress, dropwhile, takewhile, filterfalse, starmap, pairwise, zip_longest,
// islice) as native iterator types named as CPython's (`itertools.chain`), which programs
// may test with isinstance and subclass, and whose reprs are CPython's (`count(5)`,
// `repeat('a', 2)`). As Conc generators behind a take-turns wrapper, `islice(count(), n)`
// took 6.5 times CPython's time.
//
// Free-threaded evaluation: all but count and repeat are closure iterators, so threads
// sharing one take turns making items (each item whole, to one of them). count and
// repeat call no Conc code for ints: their state changes under the object's lock.
import Synchronization

extension PyType {
    /// Makes `t` an itertools class: iterator methods, CPython's names, and `constructor`
    /// (which gets the class called, a user subclass included).
    func makeItertoolsClass(_ constructor: @escaping (Unit, PyType, Args) throws -> Value) {
        installIteratorMethods(self)
        module = "itertools"
        messageNameStorage = "itertools." + name
        self.constructor = constructor
    }
}

// MARK: - Arguments, with CPython's messages

/// The arguments of a C function that takes them by position only (`cycle(iterable, /)`).
private func positional(_ a: Args, _ name: String, _ n: Int) throws -> [Value] {
    if !a.keywords.isEmpty { throw typeError("\(name)() takes no keyword arguments") }
    if a.count != n { throw typeError("\(name) expected \(n) argument\(n == 1 ? "" : "s"), got \(a.count)") }
    return a.positional
}

/// The arguments of a function whose parameters `names` may be passed by position or
/// keyword, the first `required` of them needed (CPython's PyArg_ParseTupleAndKeywords).
private func named(_ a: Args, _ name: String, _ names: [String], required: Int, positionalLimit: Int? = nil) throws -> [Value?] {
    for (k, _) in a.keywords where !names.contains(k) {
        throw typeError("'\(k)' is an invalid keyword argument for \(name)()")
    }
    let limit = positionalLimit ?? names.count
    if a.count > limit {
        let what = positionalLimit == nil ? "arguments" : "positional arguments"
        throw typeError("\(name)() takes at most \(limit) \(what) (\(a.count) given)")
    }
    // Given both ways, or missing: the messages of expectNamed.
    try a.expectNamed(name, required, names.count, names: names)
    return names.enumerated().map { a.argument($0.offset, $0.element) }
}

/// A function and an iterable, by position only (`dropwhile(predicate, iterable, /)`).
private func functionAndSource(_ u: Unit, _ a: Args, _ name: String) throws -> (Value, PyIter) {
    let p = try positional(a, name, 2)
    return (p[0], try u.iterate(p[1]))
}

// MARK: - count and repeat

/// `count(start=0, step=1)`: start, start+step, start+2*step... by repeated addition.
final class PyCount: PyIter, SubclassAttributes {
    var subclassAttributes: PyDict?
    /// The next value; read and written under the object's lock.
    private var current: Value
    let step: Value
    init(type: PyType, start: Value, step: Value) {
        // CPython's "fast mode", an int start with a step of 1, counts in C ints: a start
        // of True shows as `count(1)`.
        if let n = start.intLike, step.intLike == 1 { current = .int(n) } else { current = start }
        self.step = step
        super.init(type: type)
    }
    override func next(_ u: Unit) throws -> Value? {
        // Ints add in the critical section; anything else (a float, a Fraction's __add__)
        // outside it, from the value read.
        // (`.unbound` stands for the int past 64 bits that the last step reached: the
        // error comes when that value is asked for, as CPython gives the last int first.)
        let (value, sum): (Value, Value?) = try locked {
            let v = current
            if v.isUnbound { throw overflowError(intOverflowMessage) }
            if let x = v.intLike, let s = step.intLike {
                let (r, overflow) = x.addingReportingOverflow(s)
                current = overflow ? .unbound : .int(r)
                return (v, nil)
            }
            return (v, v)
        }
        if let v = sum {
            let r = try u.binary(.add, v, step)
            locked { current = r }
        }
        return value
    }
    /// `count(5)` or `count(1.5, 0.5)`, named by the object's class.
    func repr(_ u: Unit) throws -> String {
        let v = locked { current }
        if v.isUnbound { throw overflowError(intOverflowMessage) }
        if step.intLike == 1 { return "\(type.name)(\(try u.repr(v)))" }
        return "\(type.name)(\(try u.repr(v)), \(try u.repr(step)))"
    }
}

/// `repeat(object[, times])`: the object, forever or `times` times.
final class PyRepeat: PyIter, SubclassAttributes {
    var subclassAttributes: PyDict?
    /// Fixed by init; `var` only so that deinit releases it in the trashcan's bracket.
    private(set) var element: Value
    /// How many are left; -1 for forever. Claimed atomically: threads sharing one get
    /// `times` items between them.
    private let remaining: Atomic<Int>
    init(type: PyType, element: Value, times: Int?) {
        self.element = element
        remaining = Atomic(times.map { max($0, 0) } ?? -1)
        super.init(type: type)
    }
    deinit { Trashcan.releaseFields([element]) { element = .none } }
    override func next(_ u: Unit) throws -> Value? {
        var n = remaining.load(ordering: .relaxed)
        if n < 0 { return element }
        while n > 0 {
            let (done, now) = remaining.compareExchange(expected: n, desired: n - 1, ordering: .relaxed)
            if done { return element }
            n = now
        }
        return nil
    }
    /// Nil for a repeat without end (whose `__length_hint__` raises).
    var left: Int? { let n = remaining.load(ordering: .relaxed); return n < 0 ? nil : n }
    /// (list() sizes its array by it: `list(repeat(0, 2**50))` is a MemoryError at once.)
    override var lengthHint: Int? { left }
    func repr(_ u: Unit) throws -> String {
        let shown = try u.repr(element)
        guard let n = left else { return "\(type.name)(\(shown))" }
        return "\(type.name)(\(shown), \(n))"
    }
}

private func isNumber(_ u: Unit, _ v: Value) -> Bool {
    if v.intLike != nil || v.numericDouble != nil || v.isBoxedNumber { return true }
    // CPython's PyNumber_Check: anything convertible to a number.
    return ["__index__", "__int__", "__float__", "__complex__"].contains { u.lookupSpecial(v, $0) != nil }
}

func installItertoolsCount(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let p = try named(a, "count", ["start", "step"], required: 0)
        let start = p[0] ?? .int(0), step = p[1] ?? .int(1)
        if !isNumber(u, start) || !isNumber(u, step) { throw typeError("a number is required") }
        return .obj(PyCount(type: cls, start: start, step: step))
    }
    t.method("__repr__") { u, s, a in
        try a.expect("__repr__", 0, 0)
        guard let c = s.object as? PyCount else { throw typeError("descriptor '__repr__' requires a 'itertools.count' object") }
        return .str(try c.repr(u))
    }
}

func installItertoolsRepeat(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let p = try named(a, "repeat", ["object", "times"], required: 1)
        return .obj(PyRepeat(type: cls, element: p[0]!, times: try p[1].map { try u.toIndex($0) }))
    }
    t.method("__repr__") { u, s, a in
        try a.expect("__repr__", 0, 0)
        guard let r = s.object as? PyRepeat else { throw typeError("descriptor '__repr__' requires a 'itertools.repeat' object") }
        return .str(try r.repr(u))
    }
    t.method("__length_hint__") { u, s, a in
        try a.expect("__length_hint__", 0, 0)
        guard let r = s.object as? PyRepeat else { throw typeError("descriptor '__length_hint__' requires a 'itertools.repeat' object") }
        guard let n = r.left else { throw typeError("len() of unsized object") }
        return .int(n)
    }
}

// MARK: - The closure iterators

func installItertoolsCycle(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let source = try u.iterate(try positional(a, "cycle", 1)[0])
        var saved: [Value] = []
        var sourceDone = false
        var index = 0
        return .obj(PyClosureIterator(type: cls) { u in
            if !sourceDone {
                if let v = try source.next(u) { saved.append(v); return v }
                sourceDone = true
            }
            if saved.isEmpty { return nil }
            defer { index = (index + 1) % saved.count }
            return saved[index]
        })
    }
}

func installItertoolsAccumulate(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let p = try named(a, "accumulate", ["iterable", "func", "initial"], required: 1, positionalLimit: 2)
        let source = try u.iterate(p[0]!)
        let function = p[1].flatMap { $0.isNone ? nil : $0 }
        var pendingInitial = p[2].flatMap { $0.isNone ? nil : $0 }
        var total: Value? = nil
        return .obj(PyClosureIterator(type: cls) { u in
            if let first = pendingInitial {
                pendingInitial = nil
                total = first
                return first
            }
            guard let v = try source.next(u) else { return nil }
            if let sum = total {
                total = try function.map { try u.call($0, [sum, v]) } ?? u.binary(.add, sum, v)
            } else {
                total = v
            }
            return total
        })
    }
}

/// The items of each iterable `sources` gives, in turn (iter() of each when reached).
private func chained(_ cls: PyType, _ sources: PyIter) -> Value {
    var current: PyIter? = nil
    return .obj(PyClosureIterator(type: cls) { u in
        while true {
            if current == nil {
                guard let next = try sources.next(u) else { return nil }
                current = try u.iterate(next)
            }
            if let v = try current!.next(u) { return v }
            current = nil
        }
    })
}

func installItertoolsChain(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        if !a.keywords.isEmpty { throw typeError("chain() takes no keyword arguments") }
        return chained(cls, try u.iterate(.obj(PyTuple(a.positional))))
    }
    t.classFunction("from_iterable") { u, a in
        guard a.keywords.isEmpty else { throw typeError("chain.from_iterable() takes no keyword arguments") }
        guard a.count == 2, case .obj(let o) = a[0], let cls = o as? PyType else {
            throw typeError("chain.from_iterable() takes exactly one argument (\(max(a.count - 1, 0)) given)")
        }
        return chained(cls, try u.iterate(a[1]))
    }
}

func installItertoolsCompress(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let p = try named(a, "compress", ["data", "selectors"], required: 2)
        let data = try u.iterate(p[0]!), selectors = try u.iterate(p[1]!)
        return .obj(PyClosureIterator(type: cls) { u in
            while true {
                guard let d = try data.next(u), let s = try selectors.next(u) else { return nil }
                if try u.isTruthy(s) { return d }
            }
        })
    }
}

func installItertoolsDropwhile(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let (predicate, source) = try functionAndSource(u, a, "dropwhile")
        var dropping = true
        return .obj(PyClosureIterator(type: cls) { u in
            while let v = try source.next(u) {
                if !dropping { return v }
                if !(try u.isTruthy(try u.call(predicate, [v]))) { dropping = false; return v }
            }
            return nil
        })
    }
}

func installItertoolsTakewhile(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let (predicate, source) = try functionAndSource(u, a, "takewhile")
        return .obj(PyClosureIterator(type: cls) { u in
            // A false predicate ends it for good (the closure iterator stays finished).
            guard let v = try source.next(u), try u.isTruthy(try u.call(predicate, [v])) else { return nil }
            return v
        })
    }
}

func installItertoolsFilterfalse(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let (function, source) = try functionAndSource(u, a, "filterfalse")
        // None or bool: the item's own truth, without a call (CPython's shortcut).
        let byTruth = function.isNone || function.object === Types.bool
        return .obj(PyClosureIterator(type: cls) { u in
            while let v = try source.next(u) {
                if !(try u.isTruthy(byTruth ? v : try u.call(function, [v]))) { return v }
            }
            return nil
        })
    }
}

func installItertoolsStarmap(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let (function, source) = try functionAndSource(u, a, "starmap")
        return .obj(PyClosureIterator(type: cls) { u in
            guard let args = try source.next(u) else { return nil }
            return try u.call(function, Args(try u.toArray(args)))
        })
    }
}

func installItertoolsPairwise(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        let source = try u.iterate(try positional(a, "pairwise", 1)[0])
        var previous: Value? = nil
        return .obj(PyClosureIterator(type: cls) { u in
            if previous == nil {
                guard let first = try source.next(u) else { return nil }
                previous = first
            }
            guard let v = try source.next(u) else { previous = nil; return nil }
            defer { previous = v }
            return .obj(PyTuple([previous!, v]))
        })
    }
}

func installItertoolsZipLongest(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        for (k, _) in a.keywords where k != "fillvalue" {
            throw typeError("zip_longest() got an unexpected keyword argument")
        }
        let fill = a.keyword("fillvalue") ?? .none
        var sources: [PyIter?] = try a.positional.map { try u.iterate($0) }
        var active = sources.count
        return .obj(PyClosureIterator(type: cls) { u in
            if active == 0 { return nil }
            var row: [Value] = []
            row.reserveCapacity(sources.count)
            for i in sources.indices {
                guard let source = sources[i] else { row.append(fill); continue }
                if let v = try source.next(u) { row.append(v); continue }
                active -= 1
                // The rest of this row is not fetched, as in CPython.
                if active == 0 { return nil }
                sources[i] = nil
                row.append(fill)
            }
            return .obj(PyTuple(row))
        })
    }
}

// MARK: - islice

private let stopError = "Stop argument for islice() must be None or an integer: 0 <= x <= sys.maxsize."
private let indexError = "Indices for islice() must be None or an integer: 0 <= x <= sys.maxsize."
private let stepError = "Step for islice() must be a positive integer or None."

func installItertoolsIslice(_ t: PyType) {
    t.makeItertoolsClass { u, cls, a in
        if !a.keywords.isEmpty { throw typeError("islice() takes no keyword arguments") }
        if a.count < 2 || a.count > 4 {
            throw typeError("islice expected \(a.count < 2 ? "at least 2" : "at most 4") arguments, got \(a.count)")
        }
        // CPython reads each bound as a C ssize_t; one that is not an integer reads as -1.
        func bound(_ v: Value) -> Int { (try? u.toIndex(v)) ?? -1 }
        var start = 0, stop: Int? = nil, step = 1
        let stopArgument = a.count == 2 ? a[1] : a[2]
        if a.count > 2, !a[1].isNone { start = bound(a[1]) }
        if !stopArgument.isNone {
            stop = bound(stopArgument)
            if stop == -1 { throw valueError(stopError) }
        }
        if start < 0 || (stop ?? 0) < -1 { throw valueError(indexError) }
        if a.count == 4, !a[3].isNone { step = bound(a[3]) }
        if step < 1 { throw valueError(stepError) }
        let source = try u.iterate(a[0])
        // `taken` counts items drawn from the source; `wanted` is the position of the next
        // one to give, never past stop once an item was given (CPython's walk: a start
        // beyond stop is still skipped to).
        var taken = 0, wanted = start
        return .obj(PyClosureIterator(type: cls) { u in
            while taken < wanted {
                guard try source.next(u) != nil else { return nil }
                taken += 1
            }
            if let stop, taken >= stop { return nil }
            guard let v = try source.next(u) else { return nil }
            taken += 1
            let (next, overflow) = wanted.addingReportingOverflow(step)
            if let stop, overflow || next > stop { wanted = stop } else { wanted = overflow ? Int.max : next }
            return v
        })
    }
}
