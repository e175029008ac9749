// `list[int]`: types.GenericAlias (PEP 585), what subscripting a generic class gives in
// annotations. It prints as written, compares by origin and arguments, calls its origin,
// forwards other attributes to it, and cannot be used with isinstance().

/// `origin[args]`. Immutable.
final class PyGenericAlias: PyObject {
    /// The class subscripted (`list`). Fixed by init, as ``args``; both are `var` only so
    /// that deinit releases them in the trashcan's bracket.
    private(set) var origin: Value
    /// The subscript's items (`(int,)` for `list[int]`).
    private(set) var args: [Value]
    init(origin: Value, index: Value) {
        self.origin = origin
        if case .obj(let o) = index, let t = o as? PyTuple, t.typeIsBuiltin { args = t.items } else { args = [index] }
        super.init(type: Types.genericAlias)
    }
    deinit { Trashcan.releaseFields([origin] + args) { origin = .none; args = [] } }

    /// `repr(list[int])`: "list[int]"; classes outside builtins with their module.
    func repr(_ u: Unit) throws -> String {
        let inside = args.isEmpty ? "()" : try args.map { try PyGenericAlias.argumentRepr(u, $0) }.joined(separator: ", ")
        return try PyGenericAlias.argumentRepr(u, origin) + "[" + inside + "]"
    }

    static func argumentRepr(_ u: Unit, _ v: Value) throws -> String {
        if case .obj(let o) = v {
            if o === Singletons.ellipsis { return "..." }
            if let t = o as? PyType {
                return t.isBuiltin || t.module == "builtins" ? t.qualname : "\(t.module).\(t.qualname)"
            }
        }
        return try u.repr(v)
    }

    func equals(_ u: Unit, _ other: PyGenericAlias) throws -> Bool {
        let sameOrigin = try isSame(origin, other.origin) || u.equals(origin, other.origin)
        guard sameOrigin, args.count == other.args.count else { return false }
        for (a, b) in zip(args, other.args) where !isSame(a, b) {
            if !(try u.equals(a, b)) { return false }
        }
        return true
    }

    func hash(_ u: Unit) throws -> Int {
        try u.hash(origin) ^ u.hash(.obj(PyTuple(args)))
    }
}

func installGenericAliasMethods(_ t: PyType) {
    func alias(_ v: Value) -> PyGenericAlias { v.object as! PyGenericAlias }
    t.constructor = { u, _, a in
        try a.expect("GenericAlias", 2, 2)
        return .obj(PyGenericAlias(origin: a[0], index: a[1]))
    }
    t.getter("__origin__") { _, s in alias(s).origin }
    t.getter("__args__") { _, s in .obj(PyTuple(alias(s).args)) }
    t.getter("__parameters__") { _, _ in .obj(PyTuple([])) }
    t.method("__call__") { u, s, a in try u.call(alias(s).origin, a) }
    t.method("__repr__") { u, s, _ in .str(try alias(s).repr(u)) }
    t.method("__mro_entries__") { _, s, _ in .obj(PyTuple([alias(s).origin])) }
}
