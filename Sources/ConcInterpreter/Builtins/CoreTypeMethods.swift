// Methods of the core object-model types: object, type, function, staticmethod,
// classmethod, property, iterators, generators.
import ConcSyntax

func installObjectMethods(_ t: PyType) {
    t.constructor = { u, type, a in
        if type === Types.object {
            if a.count != 0 || !a.keywords.isEmpty { throw typeError("object() takes no arguments") }
            return .obj(PyInstance(cls: Types.object))
        }
        return .obj(PyInstance(cls: type))
    }
    // object.__init__ takes extra arguments only when the class has its own __new__ and
    // not its own __init__ (CPython's rule): `super().__init__(x)` reaching object is an error.
    t.method("__init__") { u, s, a in
        // (Also in a subclass of int, float, str..., whose __init__ is object's: a Celsius(float)
        // whose __init__ calls super().__init__(value) gets this error, as in CPython.)
        guard a.count > 0 || !a.keywords.isEmpty, case .obj(let o) = s, o.isPlainInstance || !o.type.isBuiltin else { return .none }
        let hooks = o.type.creationHooks(u.classEpoch)
        if hooks.userInit != nil { throw typeError("object.__init__() takes exactly one argument (the instance to initialize)") }
        if hooks.userNew == nil && o.isPlainInstance { throw typeError("\(o.type.name).__init__() takes exactly one argument (the instance to initialize)") }
        return .none
    }
    t.method("__str__") { u, s, _ in .str(try u.builtinStr(s)) }
    t.method("__repr__") { u, s, _ in .str(try u.objectDunderRepr(s)) }
    t.method("__eq__") { _, s, a in isSame(s, a[0]) ? .bool(true) : .obj(Singletons.notImplemented) }
    // CPython's object.__ne__: the inverse of self.__eq__(other), NotImplemented passed on.
    t.method("__ne__") { u, s, a in
        guard let eq = u.lookupSpecial(s, "__eq__") else { return .obj(Singletons.notImplemented) }
        let r = try u.call(eq, [a[0]])
        return u.isNotImplemented(r) ? r : .bool(!(try u.isTruthy(r)))
    }
    // object's orderings decline, so `super().__lt__(other)` gives NotImplemented.
    for name in ["__lt__", "__le__", "__gt__", "__ge__"] {
        t.method(name) { _, _, a in
            try a.expect(name, 1, 1)
            return .obj(Singletons.notImplemented)
        }
    }
    t.method("__hash__") { u, s, _ in .int(try u.builtinHash(s)) }
    // The default attribute list, for a class's own __dir__ to extend (enum's does).
    t.method("__dir__") { u, s, a in
        try ContainerArgs.none(a, "object.__dir__")
        return .obj(PyList(u.engine.attributeNames(of: s).map { .str($0) }))
    }
    t.method("__format__") { u, s, a in
        let spec = a.count > 0 ? try u.str(a[0]) : ""
        // object.__format__ of a plain instance is str(self) (calling format() would come
        // back to a user __format__ that called super().__format__).
        if case .obj(let o) = s, o.isPlainInstance {
            guard spec.isEmpty else { throw typeError("unsupported format string passed to \(o.type.name).__format__") }
            return .str(try u.str(s))
        }
        return .str(try u.format(s, spec: spec))
    }
    t.method("__setattr__") { u, s, a in
        try a.expect("__setattr__", 2, 2)
        let name = try u.stringArg(a[0], "attribute name")
        if case .obj(let o) = s, let c = o as? SubclassAttributes, !o.typeIsBuiltin || o is PyThreadLocal {
            if let l = c as? PyThreadLocal { try l.prepare(u, s, changing: name) }
            c.attributeDict.set(u, name, a[1])
            return .none
        }
        guard case .obj(let o) = s, let inst = o as? PyInstance else { throw typeError("can't set attributes of built-in/extension type") }
        try u.genericSetAttr(s, inst, name, a[1])
        return .none
    }
    t.method("__getattribute__") { u, s, a in
        let name = try u.stringArg(a[0], "attribute name")
        // The lookup without the class's own __getattribute__ (which may be the caller).
        if case .obj(let o) = s, let inst = o as? PyInstance {
            if let x = try u.instanceAttr(s, inst, name) { return x }
            let e = u.noAttribute(s, name)
            e.suggestionName = name
            e.suggestionSource = .attribute(s)
            throw e
        }
        if case .obj(let o) = s, let t = o as? PyType { return try u.classAttribute(t, name) }
        return try u.getAttr(s, name)
    }
    t.method("__delattr__") { u, s, a in
        let name = try u.stringArg(a[0], "attribute name")
        if case .obj(let o) = s, let c = o as? SubclassAttributes, !o.typeIsBuiltin || o is PyThreadLocal {
            if let l = c as? PyThreadLocal { try l.prepare(u, s, changing: name) }
            guard let d = c.existingAttributeDict, try d.remove(u, .str(name)) != nil else { throw u.noAttribute(s, name) }
            return .none
        }
        guard case .obj(let o) = s, let inst = o as? PyInstance else {
            // A class (`type.__delattr__(C, "x")`, where a metaclass's __delattr__ chains
            // to), a module or a function.
            if let t = s.object as? PyType { try u.typeDelAttr(t, name) } else { try u.delAttr(s, name) }
            return .none
        }
        try u.genericDelAttr(s, inst, name)
        return .none
    }
    t.staticFunction("__new__") { u, a in
        guard a.count >= 1 else { throw typeError("object.__new__(): not enough arguments") }
        guard case .obj(let o) = a[0], let cls = o as? PyType else {
            throw typeError("object.__new__(X): X is not a type object (\(a[0].typeName))")
        }
        try checkObjectNewIsSafe(u, cls)
        // `super().__new__(cls, x)` in a subclass of int, float, str...: the builtin base's
        // constructor makes the object (its namespace has no `__new__` of its own, so the
        // MRO walk of `super()` ends here).
        if let base = cls.builtinBase, let ctor = base.constructor {
            // `super().__new__(cls, 5)` in a list subclass is an empty list.
            if base.newIgnoresArguments { return try ctor(u, cls, Args([])) }
            return try ctor(u, cls, Args(Array(a.positional.dropFirst()), keywords: a.keywords))
        }
        if a.count > 1 || !a.keywords.isEmpty {
            // Extra arguments are for the class's own __init__; without one, an error.
            let hooks = cls.creationHooks(u.classEpoch)
            if hooks.userNew != nil { throw typeError("object.__new__() takes exactly one argument (the type to instantiate)") }
            if hooks.userInit == nil { throw typeError("\(cls.name)() takes no arguments") }
        }
        return .obj(PyInstance(cls: cls))
    }
    t.getter("__class__") { _, s in .obj(s.type) }
    installObjectProtocolMethods(t)
    // The end of every __init_subclass__ chain: takes the class, and no class keywords.
    t.dict["__init_subclass__"] = .obj(PyClassMethod(.obj(PyBuiltinFunction("__init_subclass__") { _, a in
        if !a.keywords.isEmpty {
            let name = (a.count > 0 ? a[0].object as? PyType : nil)?.name ?? "object"
            throw typeError("\(name).__init_subclass__() takes no keyword arguments")
        }
        if a.count > 1 { throw typeError("__init_subclass__() takes no arguments (\(a.count - 1) given)") }
        return .none
    })))
}

/// CPython's tp_new_wrapper check: `object.__new__(X)` refuses a class whose objects a
/// builtin type's constructor must make (`object.__new__(int)`, `object.__new__(A)` for
/// `class A(list)` or an exception class), naming the class whose `__new__` to call
/// instead. (`super().__new__` and `A.__new__` find the builtin's, ``Unit/builtinNew``.)
private func checkObjectNewIsSafe(_ u: Unit, _ cls: PyType) throws {
    let builtin: PyType
    if cls.isBuiltin {
        guard cls.hasBuiltinNew else { return }
        builtin = cls
    } else {
        guard let base = cls.builtinBase ?? cls.builtinExceptionBase else { return }
        builtin = base
    }
    // CPython names the most derived class whose __new__ is not one of ours: the class
    // itself unless it or a class between it and the builtin defines __new__.
    var safe = cls
    if !cls.isBuiltin {
        for t in cls.mro {
            if t === builtin { break }
            if t.dict["__new__"] != nil { safe = builtin; break }
        }
    }
    throw typeError("object.__new__(\(cls.name)) is not safe, use \(safe.name).__new__()")
}

func installTypeMethods(_ t: PyType) {
    // What a metaclass's own hooks defer to (`super().__instancecheck__(x)`, typing's
    // Protocol): the plain checks, without asking any hook again.
    t.method("__instancecheck__") { u, s, a in
        try a.expect("__instancecheck__", 1, 1)
        guard case .obj(let o) = s, let cls = o as? PyType else { throw typeError("descriptor '__instancecheck__' requires a 'type' object") }
        return .bool(try isInstance(u, a[0], .obj(cls), askingHooks: false))
    }
    t.method("__subclasscheck__") { u, s, a in
        try a.expect("__subclasscheck__", 1, 1)
        guard case .obj(let o) = s, let cls = o as? PyType else { throw typeError("descriptor '__subclasscheck__' requires a 'type' object") }
        return .bool(try isSubclass(u, a[0], .obj(cls), askingHooks: false))
    }
    t.method("__or__") { _, s, a in
        try a.expect("__or__", 1, 1)
        return PyUnion.of(s, a[0]).map { .obj($0) } ?? .obj(Singletons.notImplemented)
    }
    t.method("__ror__") { _, s, a in
        try a.expect("__ror__", 1, 1)
        return PyUnion.of(a[0], s).map { .obj($0) } ?? .obj(Singletons.notImplemented)
    }
    t.method("__setattr__") { u, s, a in
        try a.expect("__setattr__", 2, 2)
        guard case .obj(let o) = s, let cls = o as? PyType else { throw typeError("descriptor '__setattr__' requires a 'type' object") }
        try u.typeSetAttr(cls, try u.stringArg(a[0], "attribute name"), a[1])
        return .none
    }
    // `type(x)`, `type(name, bases, ns)`, and `Meta(name, bases, ns)` / `type.__new__(Meta, ...)`
    // for a metaclass Meta (cls), which makes a class whose type is Meta.
    t.constructor = { u, cls, a in
        if cls === Types.type && a.count == 1 && a.keywords.isEmpty { return .obj(a[0].type) }
        guard a.count == 3 else {
            throw typeError(cls === Types.type ? "type() takes 1 or 3 arguments" : "type.__new__() takes exactly 3 arguments (\(a.count) given)")
        }
        let name = try u.stringArg(a[0], "type.__new__() argument 1")
        guard case .obj(let bo) = a[1], let basesTuple = bo as? PyTuple else {
            throw typeError("type.__new__() argument 2 must be tuple, not \(a[1].argTypeName)")
        }
        let bases = try basesTuple.items.map { v -> PyType in
            // A base that is not a class has a metaclass (its type) unrelated to type.
            guard case .obj(let o) = v, let b = o as? PyType else {
                throw typeError("metaclass conflict: the metaclass of a derived class must be a (non-strict) subclass of the metaclasses of all its bases")
            }
            return b
        }
        guard case .obj(let d) = a[2], let ns = d as? PyDict else {
            throw typeError("type.__new__() argument 3 must be dict, not \(a[2].argTypeName)")
        }
        // type(name, bases, ns) whose bases have a metaclass: that metaclass makes the class
        // (its __new__ and __init__ run), as CPython's type_new hands over to the winner.
        if cls === Types.type {
            let winner = try PyType.winningMetaclass(cls, bases)
            if winner !== Types.type { return try u.call(.obj(winner), a) }
        }
        return .obj(try u.createClass(metaclass: cls, name: name, bases: bases, namespace: ns, keywords: a.keywords, module: u.engine.moduleName(of: u.currentGlobals)))
    }
    // `super().__call__(*args)` in a metaclass's __call__: the ordinary instance creation.
    t.method("__call__") { u, s, a in
        guard case .obj(let o) = s, let cls = o as? PyType else { throw typeError("descriptor '__call__' requires a 'type' object") }
        return try u.createInstance(cls, a)
    }
    // What a metaclass's __init__ chains to: the class is already made.
    t.method("__init__") { _, _, a in
        if a.count != 1 && a.count != 3 { throw typeError("type.__init__() takes 1 or 3 arguments") }
        return .none
    }
    // The namespace a class body runs in (a metaclass's __prepare__ may chain here).
    t.dict["__prepare__"] = .obj(PyClassMethod(.obj(PyBuiltinFunction("__prepare__") { _, _ in .obj(PyDict()) })))
}

func installFunctionMethods(_ t: PyType) {
    t.method("__get__") { _, s, a in a.count > 0 && !a[0].isNone ? .obj(PyBoundMethod(a[0], s)) : s }
    installCallMethod(t)
}

/// `f.__call__(...)` on functions, builtins and bound methods: the same as `f(...)`
/// (`hasattr(f, "__call__")` is how much Python code asks "is this callable?").
func installCallMethod(_ t: PyType) {
    t.method("__call__") { u, s, a in try u.call(s, a) }
}

/// `len.__name__`, `[].append.__self__`: builtin functions and builtin methods bound to a
/// receiver share the type `builtin_function_or_method`, as in CPython.
func installBuiltinFunctionAttributes(_ t: PyType) {
    installCallMethod(t)
    t.getter("__name__") { _, s in
        switch s.object {
        case let f as PyBuiltinFunction: return .str(f.name)
        case let b as PyBoundBuiltin: return .str(b.descriptor.name)
        default: return .none
        }
    }
    t.getter("__qualname__") { _, s in
        switch s.object {
        case let f as PyBuiltinFunction: return .str(f.ownerName.map { $0 + "." + f.name } ?? f.name)
        case let b as PyBoundBuiltin: return .str(b.descriptor.owner.name + "." + b.descriptor.name)
        default: return .none
        }
    }
    t.getter("__module__") { _, s in
        guard let f = s.object as? PyBuiltinFunction else { return .none }
        return .str(f.module ?? "builtins")
    }
    t.getter("__self__") { u, s in
        switch s.object {
        case let f as PyBuiltinFunction:
            // The module the function belongs to (CPython's `len.__self__` is `builtins`).
            guard let name = f.module else { return .obj(u.engine.builtinsModule) }
            return try u.engine.sysModules.get(u, .str(name)) ?? .none
        case let b as PyBoundBuiltin: return b.receiver
        default: return .none
        }
    }
    t.getter("__doc__") { _, s in
        guard let b = s.object as? PyBoundBuiltin, let doc = slotDoc(b.descriptor.name) else { return .none }
        return .str(doc)
    }
}

/// `list.append.__name__`, `.__qualname__`, `.__objclass__`.
func installMethodDescriptorAttributes(_ t: PyType) {
    func descriptor(_ s: Value) -> PyMethodDescriptor { s.object as! PyMethodDescriptor }
    t.getter("__name__") { _, s in .str(descriptor(s).name) }
    t.getter("__qualname__") { _, s in .str(descriptor(s).owner.name + "." + descriptor(s).name) }
    t.getter("__objclass__") { _, s in .obj(descriptor(s).owner) }
    t.getter("__doc__") { _, s in slotDoc(descriptor(s).name).map { .str($0) } ?? .none }
}

/// `C.__dict__['__dict__'].__get__(obj)` and the rest of the descriptor protocol for
/// native attributes.
func installGetSetDescriptorMethods(_ t: PyType) {
    func descriptor(_ s: Value) -> PyNativeProperty { s.object as! PyNativeProperty }
    t.method("__get__") { u, s, a in
        try a.expect("__get__", 1, 2)
        return a[0].isNone ? s : try descriptor(s).get(u, a[0])
    }
    installNamedDescriptorProtocol(t)
}

/// `__set__(obj, value)` and `__delete__(obj)` of a native attribute descriptor (the same
/// as `setattr`/`delattr` of the attribute it names), and its `__name__`, `__qualname__`
/// and `__objclass__`.
private func installNamedDescriptorProtocol(_ t: PyType) {
    func descriptor(_ s: Value) -> NamedAttributeDescriptor { s.object as! NamedAttributeDescriptor }
    func name(_ s: Value) -> String { descriptor(s).name }
    t.getter("__name__") { _, s in .str(name(s)) }
    t.getter("__qualname__") { _, s in .str(descriptor(s).owner.name + "." + name(s)) }
    t.getter("__objclass__") { _, s in .obj(descriptor(s).owner) }
    t.method("__set__") { u, s, a in
        try a.expect("__set__", 2, 2)
        try u.setAttr(a[0], name(s), a[1])
        return .none
    }
    t.method("__delete__") { u, s, a in
        try a.expect("__delete__", 1, 1)
        try u.delAttr(a[0], name(s))
        return .none
    }
}

/// `P.__dict__['x'].__get__(obj)` for a `__slots__` member: the instance's attribute.
func installMemberDescriptorMethods(_ t: PyType) {
    func member(_ s: Value) -> PyMemberDescriptor { s.object as! PyMemberDescriptor }
    t.method("__get__") { u, s, a in
        try a.expect("__get__", 1, 2)
        if a[0].isNone { return s }
        let name = member(s).name
        switch a[0].object {
        case let inst as PyInstance: if let x = inst.instanceAttribute(name) { return x }
        case let c as SubclassAttributes: if let x = try c.existingAttributeDict?.get(u, .str(name)) { return x }
        default: break
        }
        throw u.noAttribute(a[0], name)
    }
    installNamedDescriptorProtocol(t)
}

/// `obj.method.__self__` and `.__func__`; every other attribute a bound method is asked
/// for is its function's (`__name__`, `__doc__`, `__wrapped__`: see ``Unit/getAttrOrNil(_:_:)``).
func installBoundMethodAttributes(_ t: PyType) {
    installCallMethod(t)
    t.getter("__self__") { _, s in (s.object as! PyBoundMethod).receiver }
    t.getter("__func__") { _, s in (s.object as! PyBoundMethod).function }
    // types.MethodType(function, instance): binds any callable to an object.
    t.constructor = { u, _, a in
        try a.expect("method", 2, 2)
        if !isCallable(u, a[0]) { throw typeError("first argument must be callable") }
        if a[1].isNone { throw typeError("instance must not be None") }
        return .obj(PyBoundMethod(a[1], a[0]))
    }
}

/// `super(cls, obj)` (the notes' `super(MyThread, self).__init__()`); `super()` with no
/// arguments is compiled to a ``SuperNode``, which never comes here from a method.
func installSuperConstructor(_ t: PyType) {
    t.constructor = { _, _, a in
        if !a.keywords.isEmpty { throw typeError("super() takes no keyword arguments") }
        switch a.count {
        case 0: throw runtimeError("super(): no arguments")
        case 2:
            guard case .obj(let o) = a[0], let cls = o as? PyType else {
                throw typeError("super() argument 1 must be a type, not \(a[0].typeName)")
            }
            let asClass = (a[1].object as? PyType).flatMap { $0.isSubtype(of: cls) ? $0 : nil }
            guard asClass != nil || a[1].type.isSubtype(of: cls) else {
                throw typeError("super(type, obj): obj must be an instance or subtype of type")
            }
            return .obj(PySuper(start: cls, object: a[1]))
        case 1 where !(a[0].object is PyType):
            throw typeError("super() argument 1 must be a type, not \(a[0].typeName)")
        default:
            throw typeError(a.count == 1 ? "super() with one argument (an unbound super object) is not supported"
                                         : "super() expected at most 2 arguments, got \(a.count)")
        }
    }
}

func installDescriptorTypes(_ t: PyType) {
    let isStatic = t.name == "staticmethod"
    t.constructor = { _, _, a in
        if !a.keywords.isEmpty { throw typeError("\(t.name)() takes no keyword arguments") }
        if a.count != 1 { throw typeError("\(t.name) expected 1 argument, got \(a.count)") }
        return isStatic ? .obj(PyStaticMethod(a[0])) : .obj(PyClassMethod(a[0]))
    }
    func wrapped(_ s: Value) -> Value {
        if case .obj(let o) = s { return (o as? PyStaticMethod)?.function ?? (o as? PyClassMethod)?.function ?? .none }
        return .none
    }
    t.getter("__func__") { _, s in wrapped(s) }
    t.getter("__wrapped__") { _, s in wrapped(s) }
    // Since Python 3.10 these carry their function's name and annotations.
    for name in ["__name__", "__qualname__", "__annotations__"] {
        t.getter(name) { u, s in try u.getAttr(wrapped(s), name) }
    }
    // And its docstring and module (None when the wrapped object has none).
    for name in ["__doc__", "__module__"] {
        t.getter(name) { u, s in try u.getAttrOrNil(wrapped(s), name) ?? .none }
    }
    // abc: `classmethod(abstractmethod(f))` is abstract too.
    t.getter("__isabstractmethod__") { u, s in
        guard let flag = try u.getAttrOrNil(wrapped(s), "__isabstractmethod__") else { return .bool(false) }
        return .bool(try u.isTruthy(flag))
    }
    // The descriptor protocol, for code that calls it by hand (functools.partialmethod).
    t.method("__get__") { u, s, a in
        try a.expect("__get__", 1, 2)
        if isStatic { return wrapped(s) }
        let owner: Value = a.count > 1 && !a[1].isNone ? a[1] : .obj(a[0].type)
        return .obj(PyBoundMethod(owner, wrapped(s)))
    }
    if isStatic {
        // Since Python 3.10 a staticmethod object is callable itself.
        t.method("__call__") { u, s, a in try u.call(wrapped(s), a) }
    }
}

func installPropertyMethods(_ t: PyType) {
    t.constructor = { u, cls, a in
        // A subclass with its own __init__ gets an empty property, which that __init__
        // fills (super().__init__(fget, ...)), as CPython's property.__new__ takes any arguments.
        if cls !== Types.property, case .obj(let initializer)? = cls.lookup("__init__"), initializer is PyFunction {
            return .obj(PyProperty(get: .none, set: .none, delete: .none, type: cls))
        }
        try a.expectClinic("property", ["fget", "fset", "fdel", "doc"], required: 0)
        let p = PyProperty(get: a.argument(0, "fget") ?? .none, set: a.argument(1, "fset") ?? .none,
                           delete: a.argument(2, "fdel") ?? .none, doc: a.argument(3, "doc") ?? .none, type: cls)
        try subclassDoc(u, p)
        return .obj(p)
    }
    func prop(_ s: Value) -> PyProperty { s.object as! PyProperty }
    /// A subclass instance keeps its doc (given, or the getter's) in its own dict, as
    /// CPython's: the subclass's own docstring would otherwise shadow it.
    func subclassDoc(_ u: Unit, _ p: PyProperty) throws {
        guard p.type !== Types.property else { return }
        var doc = p.doc
        if doc.isNone, !p.getter.isNone, let d = try u.getAttrOrNil(p.getter, "__doc__") { doc = d }
        // A subclass with `__slots__` (and so no instance dict) cannot hold it.
        if p.type.mro.allSatisfy({ $0.isBuiltin || $0.dict["__slots__"] != nil }) {
            if doc.isNone { return }
            throw attributeError("'\(p.type.name)' object attribute '__doc__' is read-only")
        }
        p.attributeDict.set(u, "__doc__", doc)
    }
    t.method("__init__") { u, s, a in
        try a.expectClinic("property", ["fget", "fset", "fdel", "doc"], required: 0)
        prop(s).initialize(get: a.argument(0, "fget") ?? .none, set: a.argument(1, "fset") ?? .none,
                           delete: a.argument(2, "fdel") ?? .none, doc: a.argument(3, "doc") ?? .none)
        try subclassDoc(u, prop(s))
        return .none
    }
    /// A copy with one accessor replaced: `type(self)(fget, fset, fdel, doc)`, so a subclass's
    /// decorators keep its class.
    func copy(_ u: Unit, _ s: Value, get: Value? = nil, set: Value? = nil, delete: Value? = nil) throws -> Value {
        let p = prop(s)
        let parts = [get ?? p.getter, set ?? p.setter, delete ?? p.deleter, p.doc]
        if p.type === Types.property { return .obj(PyProperty(get: parts[0], set: parts[1], delete: parts[2], doc: parts[3])) }
        return try u.call(.obj(p.type), parts)
    }
    t.method("setter") { u, s, a in try a.expect("setter", 1, 1); return try copy(u, s, set: a[0]) }
    t.method("getter") { u, s, a in try a.expect("getter", 1, 1); return try copy(u, s, get: a[0]) }
    t.method("deleter") { u, s, a in try a.expect("deleter", 1, 1); return try copy(u, s, delete: a[0]) }
    t.getter("fget") { _, s in prop(s).getter }
    t.getter("fset") { _, s in prop(s).setter }
    t.getter("fdel") { _, s in prop(s).deleter }
    // No doc given: the getter's docstring, as CPython's property.
    t.getter("__doc__") { u, s in
        let p = prop(s)
        if !p.doc.isNone || p.getter.isNone { return p.doc }
        return (try? u.getAttrOrNil(p.getter, "__doc__")) ?? nil ?? .none
    }
    t.method("__get__") { u, s, a in
        try a.expect("__get__", 1, 2)
        if a[0].isNone { return s }
        guard !prop(s).getter.isNone else { throw prop(s).missing("getter", of: a[0]) }
        return try u.call(prop(s).getter, [a[0]])
    }
    t.method("__set__") { u, s, a in
        try a.expect("__set__", 2, 2)
        guard !prop(s).setter.isNone else { throw prop(s).missing("setter", of: a[0]) }
        _ = try u.call(prop(s).setter, [a[0], a[1]])
        return .none
    }
    t.method("__set_name__") { _, s, a in
        if a.count != 2 { throw typeError("__set_name__() takes 2 positional arguments but \(a.count) were given") }
        prop(s).rename(a[1].asStr?.value)
        return .none
    }
    // True when one of the accessors is abstract (abc.abstractmethod).
    t.getter("__isabstractmethod__") { u, s in
        let p = prop(s)
        for f in [p.getter, p.setter, p.deleter] where !f.isNone {
            if let flag = try u.getAttrOrNil(f, "__isabstractmethod__"), try u.isTruthy(flag) { return .bool(true) }
        }
        return .bool(false)
    }
    t.method("__delete__") { u, s, a in
        try a.expect("__delete__", 1, 1)
        guard !prop(s).deleter.isNone else { throw prop(s).missing("deleter", of: a[0]) }
        _ = try u.call(prop(s).deleter, [a[0]])
        return .none
    }
}

func installIteratorMethods(_ t: PyType) {
    t.method("__iter__") { _, s, _ in s }
    t.method("__next__") { u, s, _ in
        guard case .obj(let o) = s, let it = o as? PyIter else { throw typeError("not an iterator") }
        if let v = try it.next(u) { return v }
        throw PyBaseException(type: Exc.stopIteration, args: [])
    }
}

/// `__length_hint__` of the iterators that know how many items are left (CPython's
/// list, tuple, str, bytes, set, range, dict and reversed iterators), which
/// operator.length_hint reads.
func installLengthHint(_ t: PyType) {
    t.method("__length_hint__") { u, s, a in
        try a.expect("__length_hint__", 0, 0)
        guard case .obj(let o) = s, let it = o as? PyIter else { throw typeError("not an iterator") }
        guard let n = try it.lengthHint(u) else { return .obj(Singletons.notImplemented) }
        return .int(n)
    }
}

private func gen(_ s: Value) -> PyGenerator { s.object as! PyGenerator }

/// The StopIteration that ends generator `g`, carrying its return value.
private func stop(_ g: PyGenerator) -> PyBaseException {
    PyBaseException(type: Exc.stopIteration, args: g.returnValue.isNone ? [] : [g.returnValue])
}

func installGeneratorMethods(_ t: PyType) {
    t.method("__iter__") { _, s, _ in s }
    t.method("__next__") { u, s, _ in
        if let v = try gen(s).resume(u, send: .none) { return v }
        throw stop(gen(s))
    }
    installCoroutineMethods(t)
}

/// What generators and coroutines share: `send`, `throw`, `close` and their names (a
/// coroutine is driven by `coro.send(None)` the way an event loop does; it has no `__next__`).
func installCoroutineMethods(_ t: PyType) {
    t.method("send") { u, s, a in
        try a.expect("send", 1, 1)
        if let v = try gen(s).resume(u, send: a[0]) { return v }
        throw stop(gen(s))
    }
    t.method("throw") { u, s, a in
        try a.expect("throw", 1, 3)
        let e = try throwArguments(a[0], a.count >= 2 ? a[1] : .none, u)
        if a.count == 3 && !a[2].isNone {
            guard case .obj(let o) = a[2], let tb = o as? PyTraceback else {
                throw typeError("throw() third argument must be a traceback object")
            }
            e.setTraceback(tb)
        }
        let saved = u.throwArguments
        u.throwArguments = (ObjectIdentifier(e), a.positional)
        defer { u.throwArguments = saved }
        // Thrown in, not raised: its `__context__` is what the generator itself was
        // handling where it is suspended, never what the caller is handling (CPython
        // chains it with the generator's own exception state only).
        if e.context == nil {
            if let own = gen(s).state.savedHandling.last, own !== e { e.chain(to: own) }
            e.contextSettled = true
        }
        if let v = try gen(s).throwInto(u, e) { return v }
        throw stop(gen(s))
    }
    t.method("close") { u, s, _ in try gen(s).close(u) }
    t.getter("__name__") { _, s in .str(gen(s).name) }
    t.getter("__qualname__") { _, s in .str(gen(s).qualname) }
    // gi_running / cr_running: true while the body runs (read from inside it, as CPython
    // test code does); gi_suspended: paused at a yield.
    let prefix = t.name == "coroutine" ? "cr_" : "gi_"   // (Types.coroutine is being made here)
    t.getter(prefix + "running") { _, s in .bool(gen(s).locked { gen(s).state.isRunning }) }
    t.getter(prefix + "suspended") { _, s in .bool(gen(s).isSuspended) }
    t.getter(prefix + "code") { u, s in
        // The function's own code object, so that `g.gi_code is f.__code__`.
        let fn = gen(s).state.function
        if fn.code === gen(s).code { return try u.getAttr(.obj(fn), "__code__") }
        return .obj(PyFunctionCode(gen(s).code))
    }
    // Only while paused in the delegation: a running generator shows None (as CPython's).
    t.getter(prefix + (t.name == "coroutine" ? "await" : "yieldfrom")) { _, s in
        gen(s).locked { gen(s).state.isRunning } ? Value.none : gen(s).state.delegate
    }
    // The generator's frame (a snapshot, as every Conc frame object), None once it ended.
    t.getter(prefix + "frame") { _, s in
        let st = gen(s).state
        if gen(s).locked({ st.isFinished }) { return .none }
        let f = st.frame
        let shot = FrameSnapshot(code: f.code, line: st.isStarted ? f.line : f.code.loc.line, globals: f.globals,
                                 function: st.function, frame: Unmanaged.passUnretained(f), locals: st.locals)
        return .obj(PyFrameObject(stack: [shot], position: 0))
    }
}

/// The exception `gen.throw(typ, val)` raises, from CPython's older forms too: a class
/// with a value (an instance of it, arguments for it, or a tuple of them) or an instance.
private func throwArguments(_ typ: Value, _ val: Value, _ u: Unit) throws -> PyBaseException {
    if case .obj(let o) = typ, let t = o as? PyType, t.isSubtype(of: Exc.baseException) {
        if case .obj(let vo) = val, let given = vo as? PyBaseException, given.type.isSubtype(of: t) { return given }
        // The class is called where CPython normalizes the exception, inside the generator:
        // what the call raises is thrown in instead.
        do {
            let args: [Value] = val.isNone ? [] : (val.object as? PyTuple)?.items ?? [val]
            let made = try u.call(typ, args)
            if case .obj(let mo) = made, let e = mo as? PyBaseException { return e }
            return typeError("calling \(try u.repr(typ)) should have returned an instance of BaseException, not \(made.type.name)")
        } catch let e as PyBaseException where !e.endsTheRun {
            return e
        }
    }
    if case .obj(let o) = typ, let instance = o as? PyBaseException {
        guard val.isNone else { throw typeError("instance exception may not have a separate value") }
        return instance
    }
    throw typeError("exceptions must be classes or instances deriving from BaseException, not \(typ.typeName)")
}

/// The rest of what `dir(object())` lists in CPython but `__doc__` (without docstrings on
/// every builtin type, object's would show through bound methods and modules):
/// `__getstate__` (the instance's attributes, as copy and pickle take them), `__sizeof__`
/// (CPython's size, as sys.getsizeof reports it less the collector's header),
/// `__subclasshook__`, and the pickling hooks, which say that Conc has no pickle.
private func installObjectProtocolMethods(_ t: PyType) {
    t.method("__getstate__") { u, s, a in
        try a.expect("__getstate__", 0, 0)
        var state: Value = .none
        if case .obj(let d as PyDict)? = try u.instanceDictAttribute(s), d.count > 0 { state = .obj(d) }
        guard case .obj(let o) = s, !o.type.isBuiltin else { return state }
        // The slots' values, class by class along the MRO, in declaration order.
        let slots = PyDict()
        for klass in o.type.mro where !klass.isBuiltin {
            guard let declared = klass.dict["__slots__"] else { continue }
            let names = declared.asStr != nil ? [declared] : try u.toArray(declared)
            for n in names {
                guard let raw = n.asStr?.value, raw != "__dict__", raw != "__weakref__" else { continue }
                let name = Parser.mangle(raw, inClass: klass.name)
                if try slots.get(u, .str(name)) != nil { continue }
                if let v = try attributeOrNil(u, s, name) { try slots.set(u, .str(name), v) }
            }
        }
        return slots.count == 0 ? state : .obj(PyTuple([state, .obj(slots)]))
    }
    t.method("__sizeof__") { u, s, a in
        try a.expect("__sizeof__", 0, 0)
        // sys.getsizeof adds 16 bytes of collector header to the objects CPython tracks.
        let tracked = s.object.map { $0 is PyList || $0 is PyDict || $0 is PySet || $0 is PyTuple || $0 is PyInstance
            || $0 is PyFunction || $0 is PyGenerator || $0 is PyType } ?? false
        return .int(u.cpythonSize(of: s) - (tracked ? 16 : 0))
    }
    for name in ["__reduce__", "__reduce_ex__"] {
        t.method(name) { _, s, a in
            throw typeError("cannot pickle '\(s.typeName)' object (Conc has no pickle)")
        }
    }
    t.classFunction("__subclasshook__") { _, _ in .obj(Singletons.notImplemented) }
}
