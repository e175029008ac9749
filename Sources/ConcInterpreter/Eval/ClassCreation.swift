// Making a class object from a namespace: what `type.__new__` does, shared by the `class`
// statement, `type(name, bases, ns)` and metaclasses (`super().__new__(mcs, ...)`).
import ConcSyntax

extension PyType {
    /// Why `t` cannot be a base class (CPython's TypeError text), or nil.
    static func unacceptableBase(_ t: PyType) -> String? {
        // Primitives and handles are C-backed objects with no room for a subclass's
        // attributes (CPython refuses bool the same way).
        if Types.primitives.contains(where: { $0 === t }) || t === Types.unitHandle {
            return "type '\(t.name)' is not an acceptable base type (keep one as an attribute of your class instead)"
        }
        // As in CPython: True and False are the only bools; None, ranges, slices,
        // functions and matches have no subclasses either.
        if t === Types.bool || t === Types.noneType || t === Types.range || t === Types.slice || t === Types.function
            || t === Types.regexMatch {
            return "type '\(t.messageName)' is not an acceptable base type"
        }
        return nil
    }

    /// The metaclass of this class: `type`, or the user class deriving from `type` that
    /// made it.
    var metaclass: PyType { typeRef ?? Types.type }

    /// The metaclass a class with `bases` gets when `requested` is asked for: the most
    /// derived of `requested` and the bases' metaclasses (CPython's rule), or a TypeError
    /// when they are unrelated.
    static func winningMetaclass(_ requested: PyType, _ bases: [PyType]) throws -> PyType {
        try winningMetaclass(requested, metaclassesOf: bases.map { $0.metaclass })
    }

    /// The most derived of `requested` and `types` (the types of the bases, which need not
    /// be classes), or a metaclass conflict.
    static func winningMetaclass(_ requested: PyType, metaclassesOf types: [PyType]) throws -> PyType {
        var winner = requested
        for m in types {
            if winner.isSubtype(of: m) { continue }
            if m.isSubtype(of: winner) { winner = m; continue }
            throw typeError("metaclass conflict: the metaclass of a derived class must be a (non-strict) subclass of the metaclasses of all its bases")
        }
        return winner
    }
}

extension Unit {
    /// `type.__new__(metaclass, name, bases, namespace, **keywords)`: builds the class,
    /// then calls `__set_name__` on its attributes and the nearest base's
    /// `__init_subclass__(**keywords)`.
    func createClass(metaclass requested: PyType, name: String, bases: [PyType], namespace ns: PyDict,
                     keywords: [(name: String, value: Value)], module: String) throws -> PyType {
        for b in bases { if let problem = PyType.unacceptableBase(b) { throw typeError(problem) } }
        if let problem = PyType.basesConflict(bases) { throw typeError(problem) }
        let meta = try PyType.winningMetaclass(requested, bases)
        let moduleName = try ns.get(self, .str("__module__"))?.asStr?.value ?? module
        let cls = PyType(name: name, bases: bases.isEmpty ? [Types.object] : bases, builtin: false, module: moduleName,
                         metaclass: meta === Types.type ? nil : meta)
        if let q = try ns.get(self, .str("__qualname__")) {
            guard let s = q.asStr?.value else { throw typeError("type __qualname__ must be a str, not \(q.typeName)") }
            cls.qualname = s
        }
        for (k, v) in ns.pairs {
            guard let key = k.asStr?.value else { continue }
            if key == "__del__" { Finalizers.inUse.store(true, ordering: .relaxed) }
            if key == "__class__" { cls.definesClassAttribute = true }
            // As in CPython, these two are class methods without the decorator.
            if key == "__init_subclass__" || key == "__class_getitem__", case .obj(let o) = v, o is PyFunction {
                cls.dict[key] = .obj(PyClassMethod(v))
            } else {
                cls.dict[key] = v
            }
            claimMethod(v, cls)
            if case .obj(let o) = v, let p = o as? PyProperty { p.name = key }  // property's __set_name__
        }
        if bases.contains(where: { $0.isSubtype(of: Types.threadLocal) }), let slots = cls.dict["__slots__"] {
            let names = (PyType.slotNamesListed(slots) ?? []).filter { $0 != "__dict__" && $0 != "__weakref__" }
            PyThreadLocal.installSharedSlots(names.map { Parser.mangle($0, inClass: name) }, in: cls)
        }
        if cls.dict["__eq__"] != nil && cls.dict["__hash__"] == nil { cls.dict["__hash__"] = Value.none }
        if cls.dict["__doc__"] == nil { cls.dict["__doc__"] = Value.none }  // as type.__new__: not inherited
        try announce(cls, keywords)
        return cls
    }

    /// What CPython does once the class exists: `__set_name__(cls, name)` on each attribute
    /// whose class defines it, then the nearest base's `__init_subclass__(**keywords)`.
    private func announce(_ cls: PyType, _ keywords: [(name: String, value: Value)]) throws {
        for (name, v) in cls.namespacePairs {
            guard case .obj(let o) = v, !o.typeIsBuiltin, let setName = o.type.lookup("__set_name__") else { continue }
            do {
                _ = try call(bindClassAttribute(setName, to: v), [.obj(cls), .str(name)])
            } catch let e as PyBaseException where e.type.isSubtype(of: Exc.exception) {
                // CPython 3.11 wraps the error, naming the attribute and the class.
                let r = runtimeError("Error calling __set_name__ on '\(o.type.name)' instance '\(name)' in '\(cls.name)'")
                r.cause = e; r.context = e; r.suppressContext = true
                throw r
            }
        }
        for t in cls.mro.dropFirst() {
            guard let hook = t.ownAttribute("__init_subclass__", hash: nameHash("__init_subclass__")) else { continue }
            let bound = bindClassAttribute(hook, to: .obj(cls))
            _ = try call(bound, Args([], keywords: keywords))
            return
        }
    }

    /// Remembers which class defined each function (zero-argument `super()` needs it).
    private func claimMethod(_ v: Value, _ cls: PyType) {
        guard case .obj(let o) = v else { return }
        switch o {
        case let fn as PyFunction: fn.claim(by: cls)
        case let s as PyStaticMethod: claimMethod(s.function, cls)
        case let c as PyClassMethod: claimMethod(c.function, cls)
        case let p as PyProperty: claimMethod(p.getter, cls); claimMethod(p.setter, cls); claimMethod(p.deleter, cls)
        default: break
        }
    }
}
