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
            || t === Types.regexMatch || t === Types.mappingProxy {
            return "type '\(t.messageName)' is not an acceptable base type"
        }
        return nil
    }

    /// The class whose instance layout a class with `bases` extends (CPython's "best
    /// base"): the most derived of the bases' layouts, or nil when two of them are
    /// unrelated (`class C(list, dict)`, two classes with their own `__slots__`).
    static func layoutBase(of bases: [PyType]) -> PyType? {
        var winner: PyType? = nil
        for b in bases {
            let candidate = b.instanceLayout
            guard let w = winner else { winner = candidate; continue }
            if w.isSubtype(of: candidate) { continue }
            if candidate.isSubtype(of: w) { winner = candidate; continue }
            return nil
        }
        return winner
    }

    /// `C.__base__`: the first base whose instance layout is the most derived of the
    /// bases' (CPython's best_base: `class D(B, int)` has int), nil for `object`.
    var bestBase: PyType? {
        var winner: PyType? = nil
        for b in bases {
            guard let w = winner else { winner = b; continue }
            let candidate = b.instanceLayout, current = w.instanceLayout
            if candidate !== current && candidate.isSubtype(of: current) { winner = b }
        }
        return winner
    }

    /// True when instances of this class and of `other` are laid out alike, so that an
    /// instance may change from one class to the other (`obj.__class__ = C`).
    /// Two classes listing the same slots over the same layout count as one (CPython's
    /// same_slots_added).
    func hasSameLayout(as other: PyType) -> Bool {
        let mine = instanceLayout, theirs = other.instanceLayout
        if mine === theirs { return true }
        guard !mine.isBuiltin, !theirs.isBuiltin, let a = mine.ownSlotNames, let b = theirs.ownSlotNames, a == b,
              let baseA = PyType.layoutBase(of: mine.bases), let baseB = PyType.layoutBase(of: theirs.bases) else {
            return false
        }
        return baseA.hasSameLayout(as: baseB)
    }
    /// The names this class's own `__slots__` lists, if it has one.
    private var ownSlotNames: [String]? {
        ownAttribute("__slots__", hash: nameHash("__slots__")).flatMap { PyType.slotNamesListed($0) }
    }

    /// The class that decides the layout of this class's instances: a builtin type
    /// (exceptions share BaseException's), or the nearest class that lists slots of its
    /// own in `__slots__`; `object` for plain classes.
    private var instanceLayout: PyType {
        if isBuiltin {
            if isSubtype(of: Exc.baseException) { return Exc.baseException }
            return self === Types.bool ? Types.int : self
        }
        if let slots = ownAttribute("__slots__", hash: nameHash("__slots__")),
           (PyType.slotNamesListed(slots) ?? []).contains(where: { $0 != "__dict__" && $0 != "__weakref__" }) {
            return self
        }
        return PyType.layoutBase(of: bases) ?? Types.object
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
        if !bases.isEmpty && PyType.layoutBase(of: bases) == nil { throw typeError("multiple bases have instance lay-out conflict") }
        let meta = try PyType.winningMetaclass(requested, bases)
        let moduleName = try ns.get(self, .str("__module__"))?.asStr?.value ?? module
        let cls = PyType(name: name, bases: bases.isEmpty ? [Types.object] : bases, builtin: false, module: moduleName,
                         metaclass: meta === Types.type ? nil : meta)
        if let q = try ns.get(self, .str("__qualname__")) {
            guard let s = q.asStr?.value else { throw typeError("type __qualname__ must be a str, not \(q.typeName)") }
            cls.qualname = s
        }
        for (k, v) in ns.pairs {
            // __qualname__ is the class's own field, not a class attribute (as in CPython,
            // an instance has none).
            guard let key = k.asStr?.value, key != "__qualname__" else { continue }
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
        let slotNames = try cls.dict["__slots__"].map(checkedSlotNames)
        try addSlotMembers(cls, slotNames)
        addInstanceDictDescriptors(cls, slotNames)
        // In CPython's order: the body's names, the descriptors above, __doc__, __hash__.
        if cls.dict["__doc__"] == nil { cls.dict["__doc__"] = Value.none }  // as type.__new__: not inherited
        if cls.dict["__eq__"] != nil && cls.dict["__hash__"] == nil { cls.dict["__hash__"] = Value.none }
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

    /// The names a `__slots__` value lists, with CPython's checks: a str or an iterable of
    /// strs, each an identifier.
    private func checkedSlotNames(_ slots: Value) throws -> [String] {
        let items = slots.asStr != nil ? [slots] : try toArray(slots)
        return try items.map { item in
            guard let name = item.asStr?.value else { throw typeError("__slots__ items must be strings, not '\(item.typeName)'") }
            if !pyIsIdentifier(name) { throw typeError("__slots__ must be identifiers") }
            return name
        }
    }

    /// A member descriptor for each name `cls.__slots__` lists (`listed`), as CPython's
    /// type.__new__ makes; a name that is also a class attribute is refused, as there.
    private func addSlotMembers(_ cls: PyType, _ listed: [String]?) throws {
        guard let listed, !cls.bases.contains(where: { $0.isSubtype(of: Types.threadLocal) }) else { return }
        let names = listed.filter { $0 != "__dict__" && $0 != "__weakref__" }.map { ($0, Parser.mangle($0, inClass: cls.name)) }
        for (raw, name) in names where cls.dict[name] != nil {
            throw valueError("'\(raw)' in __slots__ conflicts with class variable")
        }
        // Sorted by name, as CPython orders them.
        for (_, name) in names.sorted(by: { $0.1 < $1.1 }) { cls.dict[name] = .obj(PyMemberDescriptor(name, owner: cls)) }
    }

    /// Gives `cls` the `__dict__` and `__weakref__` attributes (getset descriptors) when it
    /// is the first class of its hierarchy to have them, as CPython's type.__new__ does:
    /// `C.__dict__` then shows them, `dir()` lists them, and `C.__dict__['__dict__']`
    /// works as a descriptor. A class with `__slots__` has only those it lists (`listed`).
    /// Reading `obj.__dict__` goes on through ``instanceDictAttribute(_:)``.
    private func addInstanceDictDescriptors(_ cls: PyType, _ listed: [String]?) {
        let above = cls.mro.dropFirst()
        func inherited(_ name: String, builtin: (PyType) -> Bool) -> Bool {
            above.contains { $0.isBuiltin ? builtin($0) : $0.ownAttribute(name, hash: nameHash(name)) != nil }
        }
        // Builtin layouts that already carry a __dict__, or a weak reference list (or that
        // are variable-sized, which leaves no room for one: int, bytes, tuple).
        let hasDict = inherited("__dict__") {
            $0.isSubtype(of: Exc.baseException) || $0 === Types.type || $0 === Types.threadLocal
        }
        let weakrefLayouts = [Types.int, Types.bool, Types.bytes, Types.tuple, Types.set, Types.frozenset, Types.type,
                              Types.threadLocal]
        let hasWeakref = inherited("__weakref__") { t in weakrefLayouts.contains { $0 === t } }
        // (An entry the namespace brought, `type(name, bases, dict(C.__dict__))`, stays.)
        if !hasDict && listed?.contains("__dict__") ?? true && cls.dict["__dict__"] == nil {
            cls.dict["__dict__"] = .obj(PyNativeProperty("__dict__", owner: cls) { u, v in
                guard let d = try u.instanceDictAttribute(v) else { throw u.noAttribute(v, "__dict__") }
                return d
            })
        }
        if !hasWeakref && listed?.contains("__weakref__") ?? true && cls.dict["__weakref__"] == nil {
            cls.dict["__weakref__"] = .obj(PyNativeProperty("__weakref__", owner: cls) { _, _ in Value.none })
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
