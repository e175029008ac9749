// The methods of `tuple` and tuple indexing.

/// `t[index]`: an int (negative counts from the end) or a slice (a new tuple).
///
/// - Throws: IndexError `tuple index out of range`; TypeError for other index types.
func tupleGetItem(_ t: PyTuple, _ index: Value, _ u: Unit) throws -> Value {
    if case .int(let i) = index {
        guard let j = normalizedIndex(i, t.items.count) else { throw indexError("tuple index out of range") }
        return t.items[j]
    }
    if case .obj(let o) = index, let s = o as? PySlice {
        let r = try sliceIndices(s, length: t.items.count, u)
        if r.step == 1 && r.count == t.items.count && t.hasType(Types.tupleID) { return .obj(t) }
        if r.count == 0 { return .obj(PyTuple.empty) }
        return .obj(PyTuple(sliceElements(t.items, r.start, r.step, r.count)))
    }
    guard let i = try indexValue(index, u) else {
        throw typeError("tuple indices must be integers or slices, not \(index.typeName)")
    }
    guard let j = normalizedIndex(i, t.items.count) else { throw indexError("tuple index out of range") }
    return t.items[j]
}

/// Installs the methods and constructor of `tuple`.
func installTupleMethods(_ t: PyType) {
    t.constructor = { u, type, args in
        try ContainerArgs.range(args, "tuple", 0, 1)
        if args.count == 0 { return .obj(type === Types.tuple ? PyTuple.empty : PyTuple([], type: type)) }
        if type === Types.tuple, case .obj(let o) = args[0], let x = o as? PyTuple, x.hasType(Types.tupleID) {
            return args[0]
        }
        let items = try u.toArray(args[0], lengthHint: true)
        if type === Types.tuple { return .obj(items.isEmpty ? PyTuple.empty : PyTuple(items)) }
        return .obj(PyTuple(items, type: type))
    }
    t.method("count") { u, s, args in
        let tup = try recv(s, "count")
        return .int(try countEqual(try ContainerArgs.one(args, "tuple.count"), in: { tup.items }, u))
    }
    t.method("index") { u, s, args in
        let tup = try recv(s, "index")
        try ContainerArgs.range(args, "tuple.index", 1, 3)
        let (start, stop) = try searchBounds(args, tup.items.count, u)
        if let i = try firstIndex(of: args[0], in: { tup.items }, start, stop, u) { return .int(i) }
        throw valueError("tuple.index(x): x not in tuple")
    }
    t.method("__len__") { u, s, args in
        try ContainerArgs.none(args, "tuple.__len__")
        return .int(try recv(s, "__len__").items.count)
    }
    t.method("__getitem__") { u, s, args in
        try tupleGetItem(try recv(s, "__getitem__"), try ContainerArgs.one(args, "tuple.__getitem__"), u)
    }
    t.method("__contains__") { u, s, args in
        let tup = try recv(s, "__contains__")
        let x = try ContainerArgs.one(args, "tuple.__contains__")
        return .bool(try firstIndex(of: x, in: { tup.items }, 0, Int.max, u) != nil)
    }
    t.method("__iter__") { u, s, args in
        try ContainerArgs.none(args, "tuple.__iter__")
        return .obj(PyArrayIterator(try recv(s, "__iter__").items, type: Types.tupleIterator))
    }
}

/// The receiver of a tuple method, or the TypeError CPython raises for a descriptor applied
/// to another type. A function, not a captured closure: calling a method then retains no
/// closure context.
@inline(__always) private func recv(_ v: Value, _ m: String) throws -> PyTuple {
    try containerReceiver(v, PyTuple.self, m, "tuple")
}
