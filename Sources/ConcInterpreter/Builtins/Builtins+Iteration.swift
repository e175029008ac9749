// Builtins about iteration: enumerate, zip, map, filter, reversed, sorted, iter, next,
// any, all, sum, min, max.

extension Engine {
    static func iterationBuiltins() -> [(String, Value)] {
        [
            native("iter") { u, a in
                try a.expect("iter", 1, 2)
                if a.count == 2 {
                    let callable = a[0], sentinel = a[1]
                    if !isCallable(u, callable) { throw typeError("iter(v, w): v must be callable") }
                    // (Only touched by the unit stepping the iterator: see PyClosureIterator.)
                    var exhausted = false
                    return .obj(PyClosureIterator(type: Types.callableIterator) { u in
                        if exhausted { return nil }
                        let v = try u.call(callable, [])
                        // The call may have exhausted this very iterator (a next() of it
                        // inside): its value is dropped, as CPython's (gh-101892).
                        if exhausted { return nil }
                        if try u.equals(v, sentinel) { exhausted = true; return nil }
                        return v
                    })
                }
                // A class's own __iter__: its result itself, as CPython returns it (so
                // `iter(it) is it` for an iterator that returns self).
                if case .obj(let o) = a[0], o.asInstance != nil || o.extendsBuiltinType, let m = u.userMethod(a[0], "__iter__") {
                    let r = try u.call(m, [])
                    if case .obj(let ro) = r, ro is PyIter { return r }
                    guard u.lookupSpecial(r, "__next__") != nil else {
                        throw typeError("iter() returned non-iterator of type '\(r.typeName)'")
                    }
                    return r
                }
                // A file is its own iterator (`iter(f) is f`), as CPython's.
                if case .obj(let o) = a[0], let f = o as? PyFile {
                    try f.withLock(u) { try f.checkOpen() }
                    return a[0]
                }
                return .obj(try u.iterate(a[0]))
            },
            native("next") { u, a in
                try a.expect("next", 1, 2)
                guard case .obj(let o) = a[0] else { throw typeError("'\(a[0].typeName)' object is not an iterator") }
                let it: PyIter
                if let i = o as? PyIter, o.type !== Types.coroutine, !(o.extendsBuiltinType && u.userMethod(a[0], "__next__") != nil) { it = i }
                else if u.lookupSpecial(a[0], "__next__") != nil {
                    if a.count == 2 {
                        do { return try u.callMethod(a[0], "__next__", []) }
                        catch let e as PyBaseException where e.type.isSubtype(of: Exc.stopIteration) { return a[1] }
                    }
                    return try u.callMethod(a[0], "__next__", [])
                } else { throw typeError("'\(a[0].typeName)' object is not an iterator") }
                if let v = try it.next(u) { return v }
                if a.count == 2 { return a[1] }
                if let g = it as? PyGenerator, !g.returnValue.isNone {
                    throw PyBaseException(type: Exc.stopIteration, args: [g.returnValue])
                }
                throw PyBaseException(type: Exc.stopIteration, args: [])
            },
            native("enumerate") { u, a in
                // CPython's enumerate call, keyword by keyword: `enumerate(start=1)` is an
                // invalid 'start', `enumerate(iterable=x, start=1, k=2)` a missing iterable.
                let total = a.count + a.keywords.count
                func check(_ i: Int, _ name: String) throws {
                    if a.keywords[i].name != name { throw typeError("'\(a.keywords[i].name)' is an invalid keyword argument for enumerate()") }
                }
                if total == 2 && a.keywords.count == 1 { try check(0, "start") }
                if total == 2 && a.keywords.count == 2 {
                    if a.keywords[0].name == "start" { try check(1, "iterable") } else { try check(0, "iterable"); try check(1, "start") }
                }
                if total == 1 && a.keywords.count == 1 { try check(0, "iterable") }
                if a.count == 0 && total != 1 && total != 2 { throw typeError("enumerate() missing required argument 'iterable'") }
                if total > 2 { throw typeError("enumerate() takes at most 2 arguments (\(total) given)") }
                guard let iterable = a.argument(0, "iterable") else { throw typeError("enumerate() missing required argument 'iterable'") }
                // The start is checked before the iterable, as CPython's enumerate does.
                var i: Int? = try a.argument(1, "start").map { try u.toIndex($0) } ?? 0
                let it = try u.iterate(iterable)
                return .obj(PyClosureIterator(type: Types.enumerateIterator) { u in
                    guard let v = try it.next(u) else { return nil }
                    // Counting past 2**63 - 1 is an OverflowError at that item, not a trap.
                    guard let n = i else { throw overflowError(intOverflowMessage) }
                    let (next, overflow) = n.addingReportingOverflow(1)
                    i = overflow ? nil : next
                    return .obj(PyTuple([.int(n), v]))
                })
            },
            native("zip") { u, a in
                if a.keywords.count > 1 { throw typeError("zip() takes at most 1 keyword argument (\(a.keywords.count) given)") }
                for (k, _) in a.keywords where k != "strict" { throw typeError("'\(k)' is an invalid keyword argument for zip()") }
                let strict = try a.keyword("strict").map { try u.isTruthy($0) } ?? false
                let its = try a.positional.map { try u.iterate($0) }
                return .obj(PyClosureIterator(type: Types.zipIterator) { u in
                    if its.isEmpty { return nil }
                    var items: [Value] = []
                    for (i, it) in its.enumerated() {
                        guard let v = try it.next(u) else {
                            guard strict else { return nil }
                            // CPython names the first argument out of step with those before it.
                            func before(_ k: Int) -> String { k == 1 ? "argument 1" : "arguments 1-\(k)" }
                            if i > 0 { throw valueError("zip() argument \(i + 1) is shorter than \(before(i))") }
                            for (j, other) in its.enumerated().dropFirst() where try other.next(u) != nil {
                                throw valueError("zip() argument \(j + 1) is longer than \(before(j))")
                            }
                            return nil
                        }
                        items.append(v)
                    }
                    return .obj(PyTuple(items))
                })
            },
            native("map") { u, a in
                if !a.keywords.isEmpty { throw typeError("map() takes no keyword arguments") }
                guard a.count >= 2 else { throw typeError("map() must have at least two arguments.") }
                let fn = a[0]
                let its = try a.positional.dropFirst().map { try u.iterate($0) }
                return .obj(PyClosureIterator(type: Types.mapIterator) { u in
                    var items: [Value] = []
                    for it in its { guard let v = try it.next(u) else { return nil }; items.append(v) }
                    return try u.call(fn, items)
                })
            },
            native2("filter") { u, x, y in
                let fn = x
                let it = try u.iterate(y)
                return .obj(PyClosureIterator(type: Types.filterIterator) { u in
                    while let v = try it.next(u) {
                        let keep = fn.isNone ? try u.isTruthy(v) : try u.isTruthy(try u.call(fn, [v]))
                        if keep { return v }
                    }
                    return nil
                })
            },
            native1("reversed", expectedStyle: true) { u, x in
                if case .obj(let o) = x {
                    if let r = o as? PyRange { return .obj(PyRangeIterator(reversing: r)) }
                    // list's own __reversed__ reads its items, whatever a subclass's
                    // __getitem__ says (unless the subclass defines __reversed__).
                    if let l = o as? PyList, !o.extendsBuiltinType || u.userMethod(x, "__reversed__") == nil {
                        return .obj(PyListReverseIterator(l))
                    }
                    // str, tuple and bytes have none: a subclass goes by its __len__ and
                    // __getitem__ (below), as CPython's sequence protocol.
                    if o is PyTuple || o is PyStr || o is PyBytes, !o.extendsBuiltinType {
                        return .obj(PyArrayIterator(try u.toArray(x).reversed(), type: Types.reversedIterator))
                    }
                    if let d = o as? PyDict, !o.extendsBuiltinType { return .obj(PyDictReverseIterator(d, .keys)) }
                    if let m = u.lookupSpecial(x, "__reversed__") {
                        if m.isNone { throw typeError("'\(x.typeName)' object is not reversible") }
                        return try u.call(m, [])
                    }
                    if u.lookupSpecial(x, "__getitem__") != nil {
                        guard u.lookupSpecial(x, "__len__") != nil else {
                            throw typeError("object of type '\(x.typeName)' has no len()")
                        }
                        return .obj(PyReversedSequence(x, count: try u.length(x)))
                    }
                }
                throw typeError("'\(x.typeName)' object is not reversible")
            },
            native("sorted") { u, a in
                if a.count != 1 { throw typeError("sorted expected 1 argument, got \(a.count)") }
                // The keywords go to list.sort, whose checks (and name) CPython reports.
                if !a.keywords.isEmpty {
                    try Args(keywords: a.keywords).expectClinic("sort", ["key", "reverse"], required: 0, maxPositional: 0)
                }
                // CPython's sorted() calls list.sort through a bound builtin method: one
                // level of C recursion, so a key function recursing through sorted()
                // goes a third less deep than a plain function.
                try u.enterNested(" while calling a Python object")
                defer { u.leaveNested() }
                var items = try u.toArray(a[0], lengthHint: true)
                let key = a.keyword("key").flatMap { $0.isNone ? nil : $0 }
                try sortValues(u, &items, key: key, reverse: try a.keyword("reverse").map { try u.toIndex($0) != 0 } ?? false)
                return .obj(PyList(items))
            },
            native1("any", methO: true) { u, x in
                let it = try u.iterate(x)
                while let v = try it.next(u) { if try u.isTruthy(v) { return .bool(true) } }
                return .bool(false)
            },
            native1("all", methO: true) { u, x in
                let it = try u.iterate(x)
                while let v = try it.next(u) { if !(try u.isTruthy(v)) { return .bool(false) } }
                return .bool(true)
            },
            native("sum") { u, a in
                try a.expectClinic("sum", ["iterable", "start"], posOnly: 1, required: 1)
                var total = try a.argument(1, "start") ?? .int(0)
                let it = try u.iterate(a[0])   // the iterable is checked first, as in CPython
                if total.asStr != nil { throw typeError("sum() can't sum strings [use ''.join(seq) instead]") }
                if case .obj(let o) = total, let b = o as? PyBytes {
                    throw typeError(b.isMutable ? "sum() can't sum bytearray [use b''.join(seq) instead]"
                                                : "sum() can't sum bytes [use b''.join(seq) instead]")
                }
                // A list's iterator: ints are added without its virtual calls, read live as
                // the iterator reads them, up to the first other item (or an overflow),
                // from which the general loop goes on.
                if Swift.type(of: it) == PyListIterator.self, case .int(var sum) = total {
                    let li = unsafeDowncast(it, to: PyListIterator.self)
                    var other: Value? = nil
                    while let v = li.nextItem() {
                        if case .int(let y) = v {
                            let (r, o) = sum.addingReportingOverflow(y)
                            if !o { sum = r; continue }
                        }
                        other = v
                        break
                    }
                    total = .int(sum)
                    if let v = other { total = try u.binary(.add, total, v) }
                }
                while let v = try it.next(u) {
                    if case .int(let x) = total, case .int(let y) = v {
                        let (r, o) = x.addingReportingOverflow(y)
                        if !o { total = .int(r); continue }
                    }
                    total = try u.binary(.add, total, v)
                }
                return total
            },
            native("min") { u, a in try minMax(u, a, "min", wantLess: true) },
            native("max") { u, a in try minMax(u, a, "max", wantLess: false) },
        ]
    }
}

/// `min(...)`/`max(...)` with `key` and `default`.
func minMax(_ u: Unit, _ a: Args, _ name: String, wantLess: Bool) throws -> Value {
    // CPython 3.11's min and max take their arguments as a tuple (METH_VARARGS), called
    // through _PyObject_MakeTpCall: one level of C recursion.
    try u.enterNested(" while calling a Python object")
    defer { u.leaveNested() }
    if a.keywords.count > 2 { throw typeError("\(name)() takes at most 2 keyword arguments (\(a.keywords.count) given)") }
    for (k, _) in a.keywords where k != "key" && k != "default" {
        throw typeError("'\(k)' is an invalid keyword argument for \(name)()")
    }
    let key = a.keyword("key").flatMap { $0.isNone ? nil : $0 }
    if a.count == 0 { throw typeError("\(name) expected at least 1 argument, got 0") }
    // Compared as they come (an endless iterator of incomparable items fails at once, as
    // in CPython, instead of being read forever).
    let it: PyIter
    if a.count == 1 {
        it = try u.iterate(a[0])
    } else {
        if a.keyword("default") != nil {
            throw typeError("Cannot specify a default for \(name)() with multiple positional arguments")
        }
        it = PyArrayIterator(a.positional, type: Types.tupleIterator)
    }
    guard var best = try it.next(u) else {
        if let d = a.keyword("default") { return d }
        throw valueError("\(name)() arg is an empty sequence")
    }
    var bestKey = try key.map { try u.call($0, [best]) } ?? best
    while let v = try it.next(u) {
        let k = try key.map { try u.call($0, [v]) } ?? v
        let better = try u.isTruthy(try u.compare(wantLess ? .lt : .gt, k, bestKey))
        if better { best = v; bestKey = k }
    }
    return best
}
