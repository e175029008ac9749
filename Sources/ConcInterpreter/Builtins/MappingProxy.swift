// `mappingproxy` (types.MappingProxyType): a read-only view of a mapping. A class's
// `__dict__` is one, as in CPython, so `C.__dict__['x'] = 1` is refused rather than
// quietly changing a copy.
import ConcSyntax

/// A read-only view of a mapping: every read goes to the mapping (through its own
/// methods, so a user mapping works), and nothing can be changed through the view.
final class PyMappingProxy: PyObject {
    /// The mapping viewed; never replaced. None for a class's namespace.
    private let mapping: Value
    /// The class whose namespace is viewed (`C.__dict__`), or nil.
    private let namespaceOf: PyType?
    init(_ mapping: Value) { self.mapping = mapping; namespaceOf = nil; super.init(type: Types.mappingProxy) }
    /// `C.__dict__`: a live view of the class's namespace.
    init(namespaceOf t: PyType) { mapping = .none; namespaceOf = t; super.init(type: Types.mappingProxy) }

    /// The mapping to read now: a class namespace is copied into a dict at each read (the
    /// class keeps its names in its own table), so the view sees every later change.
    func viewed(_ u: Unit) -> Value {
        guard let t = namespaceOf else { return mapping }
        let d = PyDict()
        for (k, x) in t.namespacePairs { d.set(u, k, x) }
        return .obj(d)
    }
}

/// The methods of `mappingproxy`, each CPython's: a call on the mapping.
func installMappingProxyMethods(_ t: PyType) {
    t.constructor = { u, _, a in
        try a.expectNamed("mappingproxy", 1, 1, names: ["mapping"])
        let m = a.argument(0, "mapping")!
        // CPython's test: a mapping is what has __getitem__, less list and tuple (whose
        // __getitem__ takes indices).
        let sequence: Bool
        if case .obj(let o) = m { sequence = o is PyList || o is PyTuple } else { sequence = false }
        if sequence || u.lookupSpecial(m, "__getitem__") == nil {
            throw typeError("mappingproxy() argument must be a mapping, not \(m.typeName)")
        }
        return .obj(PyMappingProxy(m))
    }
    let recv = { (v: Value, m: String) throws -> PyMappingProxy in
        guard case .obj(let o) = v, let p = o as? PyMappingProxy else {
            throw typeError("descriptor '\(m)' for 'mappingproxy' objects doesn't apply to a '\(v.typeName)' object")
        }
        return p
    }
    t.method("__getitem__") { u, s, a in
        try a.expect("__getitem__", 1, 1)
        return try u.getItem(try recv(s, "__getitem__").viewed(u), a[0])
    }
    t.method("__len__") { u, s, a in
        try a.expect("__len__", 0, 0)
        return .int(try u.length(try recv(s, "__len__").viewed(u)))
    }
    t.method("__contains__") { u, s, a in
        try a.expect("__contains__", 1, 1)
        return .bool(try u.contains(try recv(s, "__contains__").viewed(u), a[0]))
    }
    t.method("__iter__") { u, s, a in
        try a.expect("__iter__", 0, 0)
        return try u.call(u.engine.builtins["iter"]!, [try recv(s, "__iter__").viewed(u)])
    }
    t.method("__reversed__") { u, s, a in
        try a.expect("__reversed__", 0, 0)
        return try u.callMethod(try recv(s, "__reversed__").viewed(u), "__reversed__", [])
    }
    // get() always passes the default on, as CPython's does (`mapping.get(key, None)`).
    t.method("get") { u, s, a in
        try a.expect("mappingproxy.get", 1, 2)
        return try u.callMethod(try recv(s, "get").viewed(u), "get", [a[0], a.count > 1 ? a[1] : .none])
    }
    for name in ["keys", "values", "items", "copy"] {
        t.method(name) { u, s, a in
            try a.expect("mappingproxy.\(name)", 0, 0)
            return try u.callMethod(try recv(s, name).viewed(u), name, [])
        }
    }
    // Comparisons are the mapping's with the other operand.
    for (dunder, op) in [("__eq__", CompareOp.eq), ("__ne__", .ne), ("__lt__", .lt), ("__le__", .le),
                         ("__gt__", .gt), ("__ge__", .ge)] {
        t.method(dunder) { u, s, a in
            try a.expect(dunder, 1, 1)
            return try u.compare(op, try recv(s, dunder).viewed(u), a[0])
        }
    }
    // `proxy | other` and `other | proxy` are the mappings' union (a new dict for dicts).
    let unwrapped = { (u: Unit, v: Value) -> Value in (v.object as? PyMappingProxy)?.viewed(u) ?? v }
    t.method("__or__") { u, s, a in
        try a.expect("__or__", 1, 1)
        return try u.binary(.bitOr, try recv(s, "__or__").viewed(u), unwrapped(u, a[0]))
    }
    t.method("__ror__") { u, s, a in
        try a.expect("__ror__", 1, 1)
        return try u.binary(.bitOr, unwrapped(u, a[0]), try recv(s, "__ror__").viewed(u))
    }
    t.method("__ior__") { _, _, _ in
        throw typeError("'|=' is not supported by mappingproxy; use '|' instead")
    }
    t.method("__repr__") { u, s, a in
        try a.expect("__repr__", 0, 0)
        return .str("mappingproxy(" + (try u.repr(try recv(s, "__repr__").viewed(u))) + ")")
    }
    t.method("__str__") { u, s, a in
        try a.expect("__str__", 0, 0)
        return .str(try u.str(try recv(s, "__str__").viewed(u)))
    }
    t.classFunction("__class_getitem__") { _, a in
        try a.expect("__class_getitem__", 2, 2)
        return .obj(PyGenericAlias(origin: a[0], index: a[1]))
    }
    t.dict["__hash__"] = Value.none
}
