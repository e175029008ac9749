// `int | str`: types.UnionType, for isinstance/issubclass and annotations.

/// The union of classes `X | Y` makes (None stands for NoneType). Immutable.
final class PyUnion: PyObject {
    /// The members, in order, without repeats: classes and generic aliases (`list[int]`).
    /// Fixed by init; `var` only so that deinit releases them in the trashcan's bracket.
    private(set) var members: [Value]
    /// The member classes.
    var types: [PyType] { members.compactMap { $0.object as? PyType } }
    /// True when a member is a generic alias (isinstance() then refuses the union).
    var hasGenericAlias: Bool { members.contains { $0.object is PyGenericAlias } }
    init(_ members: [Value]) { self.members = members; super.init(type: Types.unionType) }
    deinit { Trashcan.releaseFields(members) { members = [] } }

    /// `a | b` when both sides are classes, None or unions (at least one not None); nil
    /// otherwise (the operator then fails as usual).
    static func of(_ a: Value, _ b: Value) -> PyUnion? {
        guard let x = members(a), let y = members(b), !(a.isNone && b.isNone) else { return nil }
        var all: [Value] = []
        for m in x + y where !all.contains(where: { sameMember($0, m) }) { all.append(m) }
        return PyUnion(all)
    }

    /// Whether two members are the same type expression: the same object, or generic
    /// aliases of the same origin and arguments (`list[int] | list[int]` is `list[int]`).
    private static func sameMember(_ a: Value, _ b: Value) -> Bool {
        if isSame(a, b) { return true }
        guard case .obj(let x as PyGenericAlias) = a, case .obj(let y as PyGenericAlias) = b,
              isSame(x.origin, y.origin), x.args.count == y.args.count else { return false }
        return zip(x.args, y.args).allSatisfy { sameMember($0, $1) }
    }

    private static func members(_ v: Value) -> [Value]? {
        switch v {
        case .none: return [.obj(Types.noneType)]
        case .obj(let o as PyType): return [.obj(o)]
        case .obj(let o as PyGenericAlias): return [.obj(o)]
        case .obj(let u as PyUnion): return u.members
        default: return nil
        }
    }
}

extension PyUnion {
    /// `repr(int | None)`: "int | None"; classes outside builtins with their module.
    func repr(_ u: Unit) throws -> String {
        try members.map { m in
            if case .obj(let c as PyType) = m, c === Types.noneType { return "None" }
            return try PyGenericAlias.argumentRepr(u, m)
        }.joined(separator: " | ")
    }
    /// Equal unions have the same members, in any order.
    func equals(_ u: Unit, _ other: PyUnion) throws -> Bool {
        guard members.count == other.members.count else { return false }
        for m in members {
            var found = false
            for n in other.members where try isSame(m, n) || u.equals(m, n) { found = true; break }
            if !found { return false }
        }
        return true
    }
    /// Order-free, like the equality.
    func hash(_ u: Unit) throws -> Int { try members.reduce(0) { $0 ^ (try u.hash($1)) } }
}

func installUnionMethods(_ t: PyType) {
    t.getter("__args__") { _, s in .obj(PyTuple((s.object as! PyUnion).members)) }
}
