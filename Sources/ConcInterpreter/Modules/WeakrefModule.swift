// `_weakref`: the native half of `weakref` (stdlib/weakref.conc builds the dictionaries,
// WeakSet, finalize and proxies on it). See Values/WeakRef.swift.

/// Whether `o` may have weak references, as in CPython: instances of the program's
/// classes (not of int, str, bytes or tuple subclasses, whose objects CPython sizes by
/// content), functions, methods, classes, modules, sets, generators, files and the
/// synchronisation primitives; not plain ints, strs, tuples, lists, dicts or object().
/// Each kind accepted here calls ``WeakReferents/noteDeath(_:)`` from its deinit (classes
/// are immortal). Not bound methods, builtin functions and weak references themselves
/// (CPython accepts them): their deinits do not check (a method call may make a bound
/// method, and its deinit is on the hot path).
func acceptsWeakReferences(_ o: PyObject) -> Bool {
    if o is PyType { return true }
    if !o.typeIsBuiltin {
        for base in o.type.mro where base === Types.int || base === Types.str || base === Types.bytes || base === Types.tuple {
            return false
        }
        return o is PyInstance || o is PyList || o is PyDict || o is PySet
    }
    switch o {
    case is PyInstance: return false  // object()
    case is PySet, is PyFunction, is PyModule, is PyGenerator,
         is PySharedPrimitive, is PyUnitHandle, is PyFile:
        return true
    default: return false
    }
}

func installWeakRefMethods(_ t: PyType) {
    func ref(_ v: Value) -> PyWeakRef { v.object as! PyWeakRef }
    t.constructor = { u, cls, a in
        try a.expect("ref", 1, 2)
        guard case .obj(let o) = a[0], acceptsWeakReferences(o) else {
            throw typeError("cannot create weak reference to '\(a[0].typeName)' object")
        }
        let callback = a.count > 1 ? a[1] : .none
        return .obj(WeakReferents.reference(to: o, type: cls, callback: callback, reuse: callback.isNone && cls === Types.weakref))
    }
    t.method("__call__") { _, s, a in try ref(s).call(a) }
    t.method("__hash__") { u, s, a in try a.expect("__hash__", 0, 0); return .int(try ref(s).hash(u)) }
    t.method("__repr__") { u, s, _ in
        let r = ref(s)
        guard let target = r.target else { return .str("<weakref at \(u.address(r)); dead>") }
        var text = "<weakref at \(u.address(r)); to '\(target.type.name)' at \(u.address(target))"
        if let name = (try? u.getAttrOrNil(.obj(target), "__name__")) ?? nil, let str = name.asStringValue {
            text += " (\(str))"
        }
        return .str(text + ">")
    }
    t.getter("__callback__") { _, s in ref(s).callback }
}

extension Engine {
    func makeWeakrefModule() -> PyModule {
        nativeModule("_weakref", [
            ("ref", .obj(Types.weakref)),
            ("ReferenceType", .obj(Types.weakref)),
            native("getweakrefcount") { _, a in
                try a.expect("getweakrefcount", 1, 1)
                guard case .obj(let o) = a[0] else { return .int(0) }
                return .int(WeakReferents.references(to: o).count)
            },
            native("getweakrefs") { _, a in
                try a.expect("getweakrefs", 1, 1)
                guard case .obj(let o) = a[0] else { return .obj(PyList()) }
                return .obj(PyList(WeakReferents.references(to: o).map { .obj($0) }))
            },
            native("_accepts") { _, a in
                // weakref.proxy's check, with ref's message.
                try a.expect("_accepts", 1, 1)
                guard case .obj(let o) = a[0] else { return .bool(false) }
                return .bool(acceptsWeakReferences(o))
            },
        ])
    }
}
