// `int | str`: types.UnionType, for isinstance/issubclass and annotations.

/// The union of classes `X | Y` makes (None stands for NoneType). Immutable.
final class PyUnion: PyObject {
    /// The member classes, in order, without repeats.
    let types: [PyType]
    init(_ types: [PyType]) { self.types = types; super.init(type: Types.unionType) }

    /// `a | b` when both sides are classes, None or unions (at least one not None); nil
    /// otherwise (the operator then fails as usual).
    static func of(_ a: Value, _ b: Value) -> PyUnion? {
        guard let x = members(a), let y = members(b), !(a.isNone && b.isNone) else { return nil }
        var all: [PyType] = []
        for t in x + y where !all.contains(where: { $0 === t }) { all.append(t) }
        return PyUnion(all)
    }

    private static func members(_ v: Value) -> [PyType]? {
        switch v {
        case .none: return [Types.noneType]
        case .obj(let t as PyType): return [t]
        case .obj(let u as PyUnion): return u.types
        default: return nil
        }
    }
}

extension PyUnion {
    /// `repr(int | None)`: "int | None"; classes outside builtins with their module.
    var repr: String {
        types.map { c in
            if c === Types.noneType { return "None" }
            return c.isBuiltin || c.module == "builtins" ? c.qualname : "\(c.module).\(c.qualname)"
        }.joined(separator: " | ")
    }
    /// Equal unions have the same members, in any order.
    func equals(_ other: PyUnion) -> Bool {
        types.count == other.types.count && types.allSatisfy { m in other.types.contains { $0 === m } }
    }
    /// Order-free, like the equality.
    var hash: Int { types.reduce(0) { $0 ^ identityHash($1) } }
}

func installUnionMethods(_ t: PyType) {
    t.getter("__args__") { _, s in .obj(PyTuple((s.object as! PyUnion).types.map { .obj($0) })) }
}
