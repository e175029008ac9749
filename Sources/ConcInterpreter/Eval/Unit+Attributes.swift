// Attribute access: instances, classes, modules, functions and builtin objects, with
// properties, static/class methods and bound methods.
import ConcSyntax

/// The descriptor methods of a class attribute that is an instance of a user class
/// (CPython's descriptor protocol for objects other than functions and properties).
/// `isData` (a `__set__` or `__delete__`) puts it before the instance's own attributes.
struct UserDescriptor {
    let getter: Value?
    let setter: Value?
    let deleter: Value?
    var isData: Bool { setter != nil || deleter != nil }
    /// Nil when `a` is not an instance of a user class or its class defines none of the three.
    init?(_ a: PyObject) {
        // (A property subclass that defines its own __get__, __set__ or __delete__ counts.)
        guard a.isPlainInstance || (a as? PyProperty)?.isPlainDescriptor == false else { return nil }
        let t = a.type
        getter = t.lookup("__get__"); setter = t.lookup("__set__"); deleter = t.lookup("__delete__")
        if getter == nil && setter == nil && deleter == nil { return nil }
    }
}

/// The object `super()` returns: attribute lookup starting after `start` in `object`'s MRO.
final class PySuper: PyObject {
    let start: PyType
    /// Fixed by init; `var` only so that deinit releases it in the trashcan's bracket.
    private(set) var object: Value
    init(start: PyType, object: Value) { self.start = start; self.object = object; super.init(type: Types.superType) }
    deinit { Trashcan.releaseFields([object]) { object = .none } }
}

extension Unit {
    /// Binds a class attribute found on `v`'s type to `v` (functions become bound methods).
    func bindClassAttribute(_ attr: Value, to v: Value) -> Value {
        guard case .obj(let a) = attr else { return attr }
        switch a {
        case is PyFunction: return .obj(PyBoundMethod(v, attr))
        case let d as PyMethodDescriptor: return .obj(PyBoundBuiltin(v, d))
        case let s as PyStaticMethod: return s.function
        case let c as PyClassMethod:
            let cls: Value = (v.object as? PyType).map { .obj($0) } ?? .obj(v.type)
            return .obj(PyBoundMethod(cls, c.function))
        default: return attr
        }
    }

    /// `getattr(v, name)`.
    func getAttr(_ v: Value, _ name: String) throws -> Value {
        let found: Value?
        do { found = try getAttrOrNil(v, name) } catch let e as PyBaseException where e.type.isSubtype(of: Exc.attributeError) {
            // An AttributeError from a __getattr__ or a property names what was looked up
            // and where, unless it says so itself (CPython 3.11's set_attribute_error_context),
            // so the report suggests a close name.
            if e.suggestionName == nil && e.suggestionSource == nil && e.instanceAttribute("name") == nil {
                e.suggestionName = name
                e.suggestionSource = .attribute(v)
            }
            throw e
        }
        if let r = found { return r }
        let e = noAttribute(v, name)
        e.suggestionName = name
        e.suggestionSource = .attribute(v)
        throw e
    }

    func noAttribute(_ v: Value, _ name: String) -> PyBaseException {
        if case .obj(let o) = v {
            if let t = o as? PyType { return attributeError("type object '\(t.name)' has no attribute '\(name)'") }
            if let m = o as? PyModule { return attributeError("module '\(m.name)' has no attribute '\(name)'") }
            // The lookup ended in the function (see getAttrOrNil), and CPython names it.
            if let m = o as? PyBoundMethod { return noAttribute(m.function, name) }
        }
        return attributeError("'\(v.typeName)' object has no attribute '\(name)'")
    }

    /// `getattr(v, name)`, or nil when the attribute does not exist.
    func getAttrOrNil(_ v: Value, _ name: String) throws -> Value? {
        guard case .obj(let o) = v else { return try scalarAttr(v, name) }
        switch o {
        case let inst as PyInstance:
            let t = inst.type
            if !t.isBuiltin && t.overridesGetattribute(classEpoch) { return try userGetattribute(v, t, name) }
            do {
                if let x = try instanceAttr(v, inst, name) { return x }
            } catch let e as PyBaseException where e.type.isSubtype(of: Exc.attributeError) {
                // A property that raised AttributeError: __getattr__ gets its turn, as in CPython.
                if let r = try getattrFallback(v, t, name) { return r }
                throw e
            }
            return try getattrFallback(v, t, name)
        case let t as PyType:
            // A metaclass's own __getattribute__ decides (it reaches the lookup below through
            // `super().__getattribute__`, ``classAttribute(_:_:)``).
            if let meta = t.typeRef, !meta.isBuiltin, meta.overridesGetattribute(classEpoch) {
                return try userGetattribute(v, meta, name)
            }
            return try typeAttr(t, name)
        case let m as PyModule:
            if let x = m.globals.get(name) { return x }
            if name == "__name__" { return .str(m.name) }
            if name == "__dict__" { return .obj(globalsDict(m.globals)) }
            // Made on first use and kept in the module, as CPython 3.10+ does.
            if name == "__annotations__" { return m.globals.setDefault(name, .obj(PyDict())) }
            // Then what every module has from its type (`__class__`, `__eq__`, ...).
        case let f as PyFunction: return try functionAttr(f, name)
        case let g as PyGenericAlias where name != "__class__" && g.type.lookup(name) == nil:
            // What the alias does not have itself comes from its origin (list[int].append).
            return try getAttr(g.origin, name)
        case let s as PySuper: return try superAttr(s, name)
        case let c as SubclassAttributes where !o.typeIsBuiltin || o is PyThreadLocal:
            if let l = c as? PyThreadLocal { try l.prepare(self, v) }
            return try subclassInstanceAttr(v, c, name)
        default: break
        }
        if name == "__class__" { return .obj(o.type) }
        if let attr = o.type.lookup(name) { return try resolveDescriptor(attr, v) }
        // A bound method reads the rest of its attributes from its function, as CPython's does.
        if let m = o as? PyBoundMethod { return try getAttrOrNil(m.function, name) }
        // PEP 562: a module's own __getattr__(name) answers for the names it lacks.
        if let m = o as? PyModule, let hook = m.globals.get("__getattr__") { return try call(hook, [.str(name)]) }
        return nil
    }

    private func scalarAttr(_ v: Value, _ name: String) throws -> Value? {
        if name == "__class__" { return .obj(v.type) }
        if let attr = v.type.lookup(name) { return try resolveDescriptor(attr, v) }
        return nil
    }

    /// Applies the descriptor protocol to a class attribute read through an instance.
    /// The class attribute `attr` (named `name`) as read through `v`: a property's or
    /// descriptor's value, or a method bound to `v`.
    func resolveDescriptor(_ attr: Value, _ v: Value) throws -> Value {
        if case .obj(let a) = attr {
            if let p = a as? PyProperty, p.isPlainDescriptor {
                if case .none = p.getter { throw p.missing("getter", of: v) }
                return try call(p.getter, [v])
            }
            if let p = a as? PyNativeProperty { return try p.get(self, v) }
            if let d = UserDescriptor(a), let get = d.getter {
                return try call(bindClassAttribute(get, to: attr), [v, .obj(v.type)])
            }
            // (An identity test of the class, not a cast: this path binds every method.)
            if a.hasType(ObjectIdentifier(Types.classmethod)),
               let chained = try classMethodOfDescriptor(unsafeDowncast(a, to: PyClassMethod.self), v) {
                return chained
            }
        }
        return bindClassAttribute(attr, to: v)
    }

    /// A classmethod wrapping a descriptor (`@classmethod @property`, another classmethod or
    /// staticmethod) gets the descriptor's `__get__(cls, cls)`, as CPython 3.9–3.12 do; nil
    /// for the usual wrapped function.
    func classMethodOfDescriptor(_ c: PyClassMethod, _ v: Value) throws -> Value? {
        // (The usual case, a function, costs one type comparison: every classmethod access asks.)
        guard case .obj(let f) = c.function, Swift.type(of: f) != PyFunction.self else { return nil }
        let cls: Value = (v.object as? PyType).map { .obj($0) } ?? .obj(v.type)
        if let inner = f as? PyClassMethod {
            return try classMethodOfDescriptor(inner, cls) ?? .obj(PyBoundMethod(cls, inner.function))
        }
        if let s = f as? PyStaticMethod { return s.function }
        if f is PyProperty { return try resolveDescriptor(c.function, cls) }
        guard let getter = UserDescriptor(f)?.getter else { return nil }
        return try call(getter, [c.function, cls, cls])
    }

    /// `object.__getattribute__(v, name)` for an instance of a user class: data descriptors
    /// of the class (properties, objects whose class defines `__set__` or `__delete__`),
    /// then the instance's own attributes, then the class (other descriptors bound). Nil
    /// when none has it; `__getattr__` is the caller's (``getattrFallback(_:_:_:)``).
    func instanceAttr(_ v: Value, _ inst: PyInstance, _ name: String) throws -> Value? {
        let t = inst.type
        let classAttr = t.lookup(name)
        if let ca = classAttr, case .obj(let a) = ca {
            if (a as? PyProperty)?.isPlainDescriptor == true || a is PyNativeProperty { return try resolveDescriptor(ca, v) }
            if let d = UserDescriptor(a), d.isData, d.getter != nil { return try resolveDescriptor(ca, v) }
        }
        if let x = inst.instanceAttribute(name) { return x }
        if let ca = classAttr {
            // A `__slots__` name the instance has no value for.
            if case .obj(let a) = ca, a.hasType(ObjectIdentifier(Types.memberDescriptor)) { throw noAttribute(v, name) }
            return try resolveDescriptor(ca, v)
        }
        switch name {
        case "__class__": return .obj(t)
        case "__dict__" where t !== Types.object: return try instanceDictAttribute(v)
        default: break
        }
        return nil
    }

    /// `obj.__dict__` (what the `__dict__` descriptor of a class gives): an instance's
    /// attributes as a dict that stays theirs, a copy for an exception, the dict of a
    /// list/dict/set/tuple subclass's instance; nil for an object without one (`__slots__`).
    func instanceDictAttribute(_ v: Value) throws -> Value? {
        guard case .obj(let o) = v else { return nil }
        if let c = o as? SubclassAttributes, !o.typeIsBuiltin || o is PyThreadLocal, !(o is PyInstance) {
            return .obj(c.attributeDict)
        }
        guard let inst = o as? PyInstance else { return nil }
        let t = inst.type
        let hooks = t.isBuiltin ? nil : t.creationHooks(classEpoch)  // (a rare read: the lock is fine)
        if hooks?.slotNames != nil { return nil }
        let excluded = hooks?.slotsOutsideDict ?? []
        let d = PyDict()
        if inst is PyBaseException {
            // An exception's is a copy.
            for (k, x) in inst.instanceAttributes where !excluded.contains(k) { d.set(self, k, x) }
            return .obj(d)
        }
        // An instance's is kept and stays its attributes: changes made through it reach
        // the instance, and the instance's own changes are made in it (genericSetAttr),
        // so `d = obj.__dict__` stays current. The dict holds the instance, and the
        // instance the dict only weakly (KeptDict). It is filled and handed over in one
        // critical section, so no store falls between the copy and the hand-over; until
        // then no other unit can reach `d`, so its table is written without its lock
        // (taking it here would hold two object locks at once).
        d.addOwner(inst, excluding: excluded, strongly: true)
        let kept = inst.locked { () -> PyDict in
            if let other = inst.attributeDict { return other }
            var entries = HashTable(storesValues: true)
            for (i, k) in inst.shape.names.enumerated() where !excluded.contains(k) {
                let x = inst.slot(i)
                if x.isUnbound { continue }
                let key = Value.str(k)
                entries.insertAbsent(key, x, hash: key.asStr.unsafelyUnwrapped.hash)
            }
            d.table = entries
            inst.keptDict = KeptDict(viewed: d)
            return d
        }
        return .obj(kept)
    }

    /// The class's `__getattr__(name)` when ordinary lookup found nothing; nil without one.
    private func getattrFallback(_ v: Value, _ t: PyType, _ name: String) throws -> Value? {
        guard let ga = t.lookup("__getattr__") else { return nil }
        return try call(try resolveDescriptor(ga, v), [.str(name)])
    }

    /// `v.name` for a class that defines `__getattribute__` in Conc: that method, then
    /// `__getattr__` if it raised AttributeError.
    private func userGetattribute(_ v: Value, _ t: PyType, _ name: String) throws -> Value? {
        guard let ga = t.lookup("__getattribute__") else { return nil }
        do { return try call(try resolveDescriptor(ga, v), [.str(name)]) }
        catch let e as PyBaseException where e.type.isSubtype(of: Exc.attributeError) {
            guard let g = t.lookup("__getattr__") else { throw e }
            return try call(try resolveDescriptor(g, v), [.str(name)])
        }
    }

    /// An attribute of an instance of a list/dict/set/tuple subclass: data descriptors of
    /// the class, then the instance's own attributes, then the class, then `__getattr__`.
    private func subclassInstanceAttr(_ v: Value, _ c: SubclassAttributes, _ name: String) throws -> Value? {
        let t = c.type
        let classAttr = t.lookup(name)
        if let ca = classAttr, case .obj(let a) = ca, a is PyProperty || a is PyNativeProperty {
            return try resolveDescriptor(ca, v)
        }
        if let d = c.existingAttributeDict, let x = try d.get(self, .str(name)) { return x }
        if let ca = classAttr {
            if case .obj(let a) = ca, a.hasType(ObjectIdentifier(Types.memberDescriptor)) { throw noAttribute(v, name) }
            return try resolveDescriptor(ca, v)
        }
        switch name {
        case "__class__": return .obj(t)
        case "__dict__":
            return .obj(c.attributeDict)
        default: break
        }
        if let ga = t.userOverride("__getattr__") {
            return try call(resolveDescriptor(ga, v), [.str(name)])
        }
        return nil
    }

    /// `C.__dict__`: a read-only mappingproxy of the class namespace (changes go
    /// through setattr).
    private func classDictView(_ t: PyType) -> PyMappingProxy { PyMappingProxy(namespaceOf: t) }

    /// `tuple.__new__`, `ValueError.__new__`: a builtin type's constructor as a function
    /// taking the class to make an object of, made on first access and then kept in the
    /// type's dict (so `E.__new__ is Exception.__new__`); nil for object and types without
    /// a constructor of their own.
    func builtinNew(_ t: PyType) -> Value? {
        guard t.hasBuiltinNew else { return nil }
        let isException = t.isSubtype(of: Exc.baseException)
        if let kept = t.dict["__new__"] { return kept }
        let made = Value.obj(PyBuiltinFunction("__new__") { u, a in
            guard a.count >= 1 else { throw typeError("\(t.name).__new__(): not enough arguments") }
            guard case .obj(let o) = a[0], let cls = o as? PyType else {
                throw typeError("\(t.name).__new__(X): X is not a type object (\(a[0].typeName))")
            }
            guard cls.isSubtype(of: t) else {
                throw typeError("\(t.name).__new__(\(cls.name)): \(cls.name) is not a subtype of \(t.name)")
            }
            if isException { return .obj(try u.newException(cls, Array(a.positional.dropFirst()))) }
            guard let ctor = t.constructor else { return .none }
            // The mutable containers' __new__ ignores its arguments (their __init__ takes
            // them): `list.__new__(cls, 5)` is an empty list of cls.
            if t.newIgnoresArguments { return try ctor(u, cls, Args([])) }
            return try ctor(u, cls, Args(Array(a.positional.dropFirst()), keywords: a.keywords))
        })
        t.dict["__new__"] = made  // under the type's lock; two racing threads both store one
        engine.classesChanged()
        return made
    }

    /// `type.__getattribute__(t, name)`: the lookup of a class attribute without the
    /// metaclass's own `__getattribute__` (which may be the caller).
    func classAttribute(_ t: PyType, _ name: String) throws -> Value {
        if let x = try typeAttr(t, name) { return x }
        let e = noAttribute(.obj(t), name)
        e.suggestionName = name
        e.suggestionSource = .attribute(.obj(t))
        throw e
    }

    private func typeAttr(_ t: PyType, _ name: String) throws -> Value? {
        if name == "__name__" { return .str(t.name) }
        if name == "__new__", let made = builtinNew(t) { return made }
        if name == "__new__", !t.isBuiltin, let base = t.builtinBase ?? t.builtinExceptionBase,
           t.mro.first(where: { $0.dict["__new__"] != nil })?.isBuiltin ?? true {
            // `A.__new__` of a class deriving from int, list, an exception...: the builtin
            // base's, as in CPython, where object's (which the MRO walk may reach first, the
            // builtin's being made on first use) refuses such a class.
            return try typeAttr(base, name)
        }
        if name == "__qualname__" { return .str(t.qualname) }
        if name == "__class__" { return .obj(t.metaclass) }
        // type's own __dict__ descriptor comes first: the class's `__dict__` entry is for
        // its instances.
        if name == "__dict__" && metaclassHook(t, "__dict__") == nil { return .obj(classDictView(t)) }
        if name == "__annotations__", !t.isBuiltin, t.dict["__annotations__"] == nil {
            // A class's own annotations, never a base's: an empty dict made on first use.
            let d = Value.obj(PyDict())
            t.dict["__annotations__"] = d  // under the type's lock
            engine.classesChanged()
            return d
        }
        // type's own data descriptors, and a metaclass's (a property), come before the
        // class's namespace, as in CPython's type_getattro.
        switch name {
        case "__bases__": return .obj(PyTuple(t.bases.map { .obj($0) }))
        case "__base__": return t.bestBase.map { .obj($0) } ?? Value.none
        case "__mro__": return .obj(PyTuple(t.mro.map { .obj($0) }))
        default: break
        }
        if let meta = t.typeRef, !meta.isBuiltin, let ma = meta.lookup(name), case .obj(let mo) = ma,
           mo is PyProperty || UserDescriptor(mo)?.isData == true {
            return try resolveDescriptor(ma, .obj(t))
        }
        if let attr = t.lookup(name), case .obj(let a) = attr {
            switch a {
            case let s as PyStaticMethod: return s.function
            case let c as PyClassMethod:
                if let chained = try classMethodOfDescriptor(c, .obj(t)) { return chained }
                return .obj(PyBoundMethod(.obj(t), c.function))
            default:
                if let d = UserDescriptor(a), let get = d.getter {
                    do { return try call(bindClassAttribute(get, to: attr), [.none, .obj(t)]) }
                    catch let e as PyBaseException where e.type.isSubtype(of: Exc.attributeError) {
                        // As for instances: the metaclass's __getattr__ gets its turn.
                        guard let g = metaclassHook(t, "__getattr__") else { throw e }
                        return try call(bindClassAttribute(g, to: .obj(t)), [.str(name)])
                    }
                }
                return attr
            }
        } else if let attr = t.lookup(name) { return attr }
        switch name {
        case "__name__": return .str(t.name)
        case "__qualname__": return .str(t.qualname)
        case "__module__": return .str(t.module)
        case "__bases__": return .obj(PyTuple(t.bases.map { .obj($0) }))
        case "__base__": return t.bestBase.map { .obj($0) } ?? Value.none
        case "__mro__": return .obj(PyTuple(t.mro.map { .obj($0) }))
        case "__class__": return .obj(t.metaclass)
        case "__dict__": return .obj(classDictView(t))
        case "__doc__": return Value.none  // (plain `.none` would be the Optional's nil)
        case "mro":
            return .obj(PyBuiltinFunction("mro") { _, _ in .obj(PyList(t.mro.map { .obj($0) })) })
        case "__subclasses__":
            return .obj(PyBuiltinFunction("__subclasses__") { _, _ in .obj(PyList(t.subclasses.map { .obj($0) })) })
        default:
            // A metaclass's methods and properties, bound to the class, then its __getattr__.
            guard let meta = t.typeRef, !meta.isBuiltin else { return nil }
            if let attr = meta.lookup(name) { return try resolveDescriptor(attr, .obj(t)) }
            if let g = metaclassHook(t, "__getattr__") { return try call(bindClassAttribute(g, to: .obj(t)), [.str(name)]) }
            return nil
        }
    }

    private func functionAttr(_ f: PyFunction, _ name: String) throws -> Value? {
        switch name {
        case "__name__": return .str(f.name)
        case "__qualname__": return .str(f.qualname)
        case "__module__": return f.module
        case "__doc__": return f.doc
        case "__defaults__":
            let defaults = f.defaults
            return defaults.isEmpty ? Value.none : .obj(PyTuple(defaults))
        case "__kwdefaults__":
            let kwDefaults = f.kwDefaults
            if kwDefaults.isEmpty { return Value.none }
            let d = PyDict()
            for n in f.code.keywordOnly where kwDefaults[n] != nil { d.set(self, n, kwDefaults[n]!) }
            for (n, x) in kwDefaults where !f.code.keywordOnly.contains(n) { d.set(self, n, x) }
            return .obj(d)
        case "__dict__":
            let d = PyDict()
            // The attributes a CPython function keeps in fields of its own are not in it.
            for (k, x) in f.attributePairs where !Self.functionFieldNames.contains(k) { d.set(self, k, x) }
            d.addOwner(f, strongly: true)  // stores through the dict reach the function
            return .obj(d)
        case "__class__": return .obj(Types.function)
        case "__code__":
            if let c = f.attribute(name) { return c }
            let c = Value.obj(PyFunctionCode(f.code))  // made on first use and kept: f.__code__ is f.__code__
            f.attrs[name] = c
            return c
        case "__globals__": return .obj(globalsDict(f.globals))
        case "__builtins__": return .obj(globalsDict(engine.builtinsModule.globals))
        case "__closure__":
            // The cells of the variables it captured (their `cell_contents`), or None.
            return f.closure.isEmpty ? Value.none : .obj(PyTuple(f.closure.map { .obj($0) }))
        case "__wrapped__": return f.attribute(name)
        case "__annotations__":
            if let d = f.attribute(name) { return d }
            let d = Value.obj(PyDict())  // made on first use and kept, as CPython does
            f.attrs[name] = d
            return d
        default:
            if let x = f.attribute(name) { return x }
            if let attr = Types.function.lookup(name) { return bindClassAttribute(attr, to: .obj(f)) }
            return nil
        }
    }

    /// Function attributes that CPython keeps outside the function's `__dict__`.
    static let functionFieldNames: Set<String> = ["__annotations__", "__doc__", "__name__", "__qualname__",
                                                  "__module__", "__defaults__", "__kwdefaults__", "__code__",
                                                  "__globals__", "__closure__"]

    private func superAttr(_ s: PySuper, _ name: String) throws -> Value? {
        // As CPython's super: a class that derives from the start class (super() in a
        // classmethod) walks its own MRO; anything else (an instance, or a class whose
        // metaclass is the start) walks its type's.
        let asClass = (s.object.object as? PyType).flatMap { $0.isSubtype(of: s.start) ? $0 : nil }
        let objType = asClass ?? s.object.type
        let mro = objType.mro
        guard let i = mro.firstIndex(where: { $0 === s.start }) else { return nil }
        for t in mro[(i + 1)...] {
            // A builtin base's __new__ is made on its first access (``builtinNew``).
            if name == "__new__", let made = builtinNew(t) { return made }
            if let attr = t.ownAttribute(name, hash: nameHash(name)) {
                if asClass != nil {
                    if case .obj(let a) = attr, let c = a as? PyClassMethod { return .obj(PyBoundMethod(s.object, c.function)) }
                    if case .obj(let a) = attr, let st = a as? PyStaticMethod { return st.function }
                    return attr
                }
                return try resolveDescriptor(attr, s.object)
            }
        }
        return nil
    }

    /// `f.name = value`, or `del f.name` when `value` is nil, for the attributes a function
    /// keeps in fields; CPython's checks and messages.
    private func setFunctionAttribute(_ f: PyFunction, _ name: String, _ value: Value?) throws {
        switch name {
        case "__name__", "__qualname__":
            guard let s = value?.asStr?.value else { throw typeError("\(name) must be set to a string object") }
            if name == "__name__" { f.name = s } else { f.qualname = s }
        case "__doc__": f.doc = value ?? .none
        case "__module__": f.module = value ?? .none
        case "__defaults__":
            let v = value ?? .none
            if case .none = v { f.replaceDefaults(positional: [], keywords: nil); return }
            guard case .obj(let o) = v, let t = o as? PyTuple else {
                throw typeError("__defaults__ must be set to a tuple object")
            }
            f.replaceDefaults(positional: Array(t.items), keywords: nil)
        case "__kwdefaults__":
            let v = value ?? .none
            if case .none = v { f.replaceDefaults(positional: nil, keywords: [:]); return }
            guard case .obj(let o) = v, let d = o as? PyDict else {
                throw typeError("__kwdefaults__ must be set to a dict object")
            }
            var kw: [String: Value] = [:]
            for (k, x) in d.pairs { if let s = k.asStr?.value { kw[s] = x } }
            f.replaceDefaults(positional: nil, keywords: kw)
        case "__globals__", "__closure__", "__builtins__": throw attributeError("readonly attribute")
        case "__code__":
            guard case .obj(let o)? = value, o is PyFunctionCode else { throw typeError("__code__ must be set to a code object") }
            // Refused rather than ignored: calls on other threads read the code unlocked.
            throw typeError("assigning \(f.name).__code__ is not supported in Conc: a function's code is fixed by its def")
        case "__dict__":
            // The attributes become the dict's (a copy: later changes to the dict itself do
            // not reach the function, as they would in CPython).
            guard let v = value else { throw typeError("cannot delete __dict__") }
            guard case .obj(let o) = v, let d = o as? PyDict else {
                throw typeError("__dict__ must be set to a dictionary, not a '\(v.typeName)'")
            }
            var fresh: [String: Value] = [:]
            for (k, x) in d.pairs {
                guard let s = k.asStr?.value else { throw typeError("attribute name must be string, not '\(k.typeName)'") }
                fresh[s] = x
            }
            let old = f.attributePairs  // released after the swap, outside the function's lock
            for k in f.attrs.keys where !Self.functionFieldNames.contains(k) { f.attrs.removeValue(forKey: k) }
            f.attrs.merge(fresh) { _, new in new }
            _ = old
        default: f.attrs[name] = value
        }
    }

    /// `type.__delattr__(cls, name)`: removes it from the class's own namespace.
    func typeDelAttr(_ t: PyType, _ name: String) throws {
        if t.isBuiltin { throw typeError("cannot set '\(name)' attribute of immutable type '\(t.name)'") }
        if t.dict.removeValue(forKey: name) == nil { throw noAttribute(.obj(t), name) }
        engine.classesChanged()
    }

    /// `type.__setattr__(cls, name, value)`: stores in the class's namespace (builtin types
    /// are immutable).
    func typeSetAttr(_ t: PyType, _ name: String, _ value: Value) throws {
        if t.isBuiltin { throw typeError("cannot set '\(name)' attribute of immutable type '\(t.name)'") }
        switch name {
        case "__name__", "__qualname__":
            guard let s = value.asStr?.value else {
                throw typeError("can only assign string to \(t.name).\(name), not '\(value.typeName)'")
            }
            if name == "__name__" { t.name = s } else { t.qualname = s }
            return
        case "__module__":
            if let s = value.asStr?.value { t.module = s }
        case "__mro__":
            throw attributeError("readonly attribute")
        case "__bases__":
            // CPython's checks of the value, then Conc's limit: a class's bases and method
            // resolution order are fixed when it is made (stored in its dict, the name
            // would only shadow them).
            guard let bases = value.object as? PyTuple, value.type === Types.tuple else {
                throw typeError("can only assign tuple to \(t.name).__bases__, not \(value.typeName)")
            }
            guard !bases.items.isEmpty else { throw typeError("can only assign non-empty tuple to \(t.name).__bases__, not ()") }
            if let bad = bases.items.first(where: { !($0.object is PyType) }) {
                throw typeError("\(t.name).__bases__ must be tuple of classes, not '\(bad.typeName)'")
            }
            throw typeError("assigning \(t.name).__bases__ is not supported in Conc: a class's bases are fixed by its class statement")
        default: break
        }
        if name == "__del__" { Finalizers.inUse.store(true, ordering: .relaxed) }
        t.dict[name] = value  // under the type's lock
        engine.classesChanged()
    }

    /// CPython's error for storing or deleting `name` on an object of a builtin type that
    /// keeps no attributes of its own: a computed attribute (getset descriptor) "is not
    /// writable", a member descriptor is a "readonly attribute", a method "is read-only",
    /// anything else is missing.
    func readOnlyAttribute(_ v: Value, _ name: String) -> PyBaseException {
        let t = v.type
        guard let a = t.lookup(name) else { return noAttribute(v, name) }
        if case .obj(let o) = a, o is PyNativeProperty {
            if Self.memberDescriptorNames.contains(name) || (name == "__self__" && t === Types.method) {
                return attributeError("readonly attribute")
            }
            // Named after the builtin type that defines it (builtin types' dicts are fixed).
            let owner = t.mro.first { $0.isBuiltin && $0.dict[name] != nil } ?? t
            return attributeError("attribute '\(name)' of '\(owner.name)' objects is not writable")
        }
        return attributeError("'\(t.name)' object attribute '\(name)' is read-only")
    }
    /// Attributes that CPython's builtin types define as read-only members (range.start,
    /// property.fget, a function's __globals__...), not as computed ones.
    private static let memberDescriptorNames: Set<String> = [
        "start", "stop", "step", "gi_code", "cr_code", "cr_origin", "fget", "fset", "fdel",
        "__func__", "__wrapped__", "__closure__", "__globals__", "__builtins__", "tb_frame",
        "tb_lasti", "__mro__", "__base__", "__basicsize__", "__itemsize__", "__flags__",
        "__dictoffset__", "__weakrefoffset__", "__origin__", "__args__", "co_argcount",
        "co_posonlyargcount", "co_kwonlyargcount", "co_stacksize", "co_flags", "co_nlocals",
        "co_consts", "co_names", "co_filename", "co_name", "co_qualname", "co_firstlineno",
    ]

    /// `setattr(v, name, value)`.
    func setAttr(_ v: Value, _ name: String, _ value: Value) throws {
        // Not an instance of a plain class (which may have its own __setattr__): checked here.
        if name == "__class__", !isInstance(v) { return try assignClass(v, value) }
        guard case .obj(let o) = v else { throw readOnlyAttribute(v, name) }
        switch o {
        case let inst as PyInstance:
            if let sa = inst.type.userOverride("__setattr__") {
                _ = try call(bindClassAttribute(sa, to: v), [.str(name), value]); return
            }
            try genericSetAttr(v, inst, name, value)
        case let t as PyType:
            // A metaclass's own __setattr__ decides (it may call type.__setattr__).
            if let hook = metaclassHook(t, "__setattr__") {
                _ = try call(bindClassAttribute(hook, to: v), [.str(name), value])
                return
            }
            try typeSetAttr(t, name, value)
        case let m as PyModule: m.globals.set(name, value)
        case let f as PyFunction:
            try setFunctionAttribute(f, name, value)
        case let c as SubclassAttributes where !o.typeIsBuiltin || o is PyThreadLocal:
            if let l = c as? PyThreadLocal { try l.prepare(self, v, changing: name) }
            if let ca = c.type.lookup(name), case .obj(let a) = ca, let p = a as? PyProperty, p.isPlainDescriptor {
                if case .none = p.setter { throw p.missing("setter", of: v) }
                _ = try call(p.setter, [v, value]); return
            }
            if let sa = c.type.userOverride("__setattr__") {
                _ = try call(bindClassAttribute(sa, to: v), [.str(name), value]); return
            }
            c.attributeDict.set(self, name, value)
        case let p as PyProperty where name == "__doc__":
            p.doc = value
        case let g as PyGenerator where name == "__name__" || name == "__qualname__":
            try g.rename(name, value)
        case let c as Cell where name == "cell_contents":
            c.value = value  // as CPython 3.7+: the closures that share the cell see it
        default:
            throw readOnlyAttribute(v, name)
        }
    }

    /// `v.__class__ = value`, with CPython's checks: a class; both classes user-defined
    /// (CPython: "mutable types"; class and module objects keep theirs here); the same
    /// instance layout (builtin base, `__slots__`, exception or not).
    func assignClass(_ v: Value, _ value: Value) throws {
        guard case .obj(let c) = value, let cls = c as? PyType else {
            throw typeError("__class__ must be set to a class, not '\(value.typeName)' object")
        }
        let old = v.type
        guard case .obj(let o) = v, !old.isBuiltin, !cls.isBuiltin,
              o is PyInstance || (o is SubclassAttributes && !(o is PyThreadLocal)) else {
            throw typeError("__class__ assignment only supported for mutable types or ModuleType subclasses")
        }
        let epoch = classEpoch
        guard cls.hasSameLayout(as: old), cls.builtinBase === old.builtinBase,
              cls.hasSlotLimits(epoch) == old.hasSlotLimits(epoch),
              (o is PyBaseException) == cls.isSubtype(of: Exc.baseException) else {
            throw typeError("__class__ assignment: '\(cls.name)' object layout differs from '\(old.name)'")
        }
        if let inst = o as? PyInstance { inst.changeClass(to: cls) } else { o.changeType(to: cls) }
        engine.classesChanged()
    }

    /// `object.__setattr__(v, name, value)` for an instance: a property's setter, a user
    /// descriptor's `__set__`, else the instance's own attribute (one its `__slots__` allow).
    func genericSetAttr(_ v: Value, _ inst: PyInstance, _ name: String, _ value: Value) throws {
        if let e = inst as? PyBaseException, try setExceptionAttribute(e, name, value) { return }
        let t = inst.type
        if name == "__dict__", !(inst is PyBaseException), t !== Types.object { return try replaceInstanceDict(inst, value) }
        if let ca = t.lookup(name), case .obj(let a) = ca {
            if name == "__class__" && a is PyNativeProperty { return try assignClass(v, value) }
            if let p = a as? PyProperty, p.isPlainDescriptor {
                if case .none = p.setter { throw p.missing("setter", of: v) }
                _ = try call(p.setter, [v, value]); return
            }
            if a is PyNativeProperty && !(inst is PyBaseException) {
                throw attributeError("attribute '\(name)' of '\(t.name)' objects is not writable")
            }
            if let d = UserDescriptor(a), d.isData {
                guard let set = d.setter else { throw attributeError("__set__") }
                _ = try call(bindClassAttribute(set, to: ca), [v, value]); return
            }
        }
        if t === Types.object { throw attributeError("'object' object has no attribute '\(name)'") }
        if !t.isBuiltin, t.hasSlotLimits(classEpoch), let allowed = t.creationHooks(classEpoch).slotNames, !allowed.contains(name) {
            if t.lookup(name) != nil { throw attributeError("'\(t.name)' object attribute '\(name)' is read-only") }
            throw attributeError("'\(t.name)' object has no attribute '\(name)'")
        }
        inst.setInstanceAttribute(name, value)
        if let d = inst.locked({ inst.attributeDict }) { try d.ownerDidSet(self, name, value, from: inst) }
    }

    /// `inst.__dict__ = d`: d becomes the instance's `__dict__`, and its str keys its
    /// attributes; from then on each is changed with the other (several instances may
    /// share one dict: the Borg idiom).
    private func replaceInstanceDict(_ inst: PyInstance, _ value: Value) throws {
        let t = inst.type
        let hooks = t.isBuiltin ? nil : t.creationHooks(classEpoch)
        if hooks?.slotNames != nil { throw attributeError("'\(t.name)' object has no attribute '__dict__'") }
        guard case .obj(let o) = value, let d = o as? PyDict else {
            throw typeError("__dict__ must be set to a dictionary, not a '\(value.typeName)'")
        }
        let excluded = hooks?.slotsOutsideDict ?? []
        // Detach the old dict first, so that the changes below are not made in it.
        let old = inst.locked { () -> PyDict? in let o = inst.attributeDict; inst.keptDict = nil; return o }
        old?.removeOwner(inst)
        for (k, _) in inst.instanceAttributes where !excluded.contains(k) { inst.removeInstanceAttribute(k) }
        for (k, x) in d.pairs { if let name = k.asStr?.value, !excluded.contains(name) { inst.setInstanceAttribute(name, x) } }
        inst.locked { inst.keptDict = KeptDict(adopted: d) }
        d.addOwner(inst, excluding: excluded)
    }

    /// True for an instance of a user class or an exception (``PyInstance``).
    private func isInstance(_ v: Value) -> Bool {
        if case .obj(let o) = v { return o is PyInstance }
        return false
    }

    /// `object.__delattr__(v, name)` for an instance: a property's deleter, a user
    /// descriptor's `__delete__`, else the instance's own attribute.
    func genericDelAttr(_ v: Value, _ inst: PyInstance, _ name: String) throws {
        if inst is PyBaseException && (name == "__cause__" || name == "__context__" || name == "__traceback__") {
            throw typeError("\(name) may not be deleted")
        }
        if name == "__dict__" && !(inst is PyBaseException) && inst.type !== Types.object {
            // The instance starts again with no attributes (a fresh dict on next use).
            return try replaceInstanceDict(inst, .obj(PyDict()))
        }
        if let ca = inst.type.lookup(name), case .obj(let a) = ca {
            if name == "__class__" && a is PyNativeProperty { throw typeError("can't delete __class__ attribute") }
            if let p = a as? PyProperty, p.isPlainDescriptor {
                if case .none = p.deleter { throw p.missing("deleter", of: v) }
                _ = try call(p.deleter, [v]); return
            }
            if let d = UserDescriptor(a), d.isData {
                guard let del = d.deleter else { throw attributeError("__delete__") }
                _ = try call(bindClassAttribute(del, to: ca), [v]); return
            }
        }
        if inst.removeInstanceAttribute(name) {
            if let d = inst.locked({ inst.attributeDict }) { try d.ownerDidRemove(self, name, from: inst) }
        } else {
            // A class attribute that `__slots__` shadows nothing for: as for a store.
            let t = inst.type
            if !t.isBuiltin, t.hasSlotLimits(classEpoch), let allowed = t.creationHooks(classEpoch).slotNames,
               !allowed.contains(name), t.lookup(name) != nil {
                throw attributeError("'\(t.name)' object attribute '\(name)' is read-only")
            }
            // An unset `__slots__` member: CPython's member descriptor names it alone.
            if case .obj(let d)? = t.lookup(name), d is PyMemberDescriptor { throw attributeError(name) }
            throw noAttribute(v, name)
        }
    }

    /// `delattr(v, name)`.
    func delAttr(_ v: Value, _ name: String) throws {
        if name == "__class__", !isInstance(v) { throw typeError("can't delete __class__ attribute") }
        guard case .obj(let o) = v else { throw readOnlyAttribute(v, name) }
        switch o {
        case let inst as PyInstance:
            if let da = inst.type.userOverride("__delattr__") {
                _ = try call(bindClassAttribute(da, to: v), [.str(name)]); return
            }
            try genericDelAttr(v, inst, name)
        case let t as PyType:
            if let meta = t.typeRef, !meta.isBuiltin, let da = meta.lookup("__delattr__"), case .obj(let fo) = da, fo is PyFunction {
                _ = try call(bindClassAttribute(da, to: v), [.str(name)]); return
            }
            try typeDelAttr(t, name)
        case let m as PyModule:
            if m.globals.get(name) == nil { throw noAttribute(v, name) }
            m.globals.set(name, .unbound)
        case let f as PyFunction:
            switch name {
            case "__name__", "__qualname__", "__defaults__", "__kwdefaults__", "__doc__", "__module__", "__dict__":
                try setFunctionAttribute(f, name, nil)
            case "__globals__", "__closure__", "__builtins__": throw attributeError("readonly attribute")
            case "__code__": throw typeError("__code__ must be set to a code object")
            case "__class__": throw typeError("can't delete __class__ attribute")
            default:
                if f.attrs.removeValue(forKey: name) == nil { throw noAttribute(v, name) }
            }
        case let c as SubclassAttributes where !o.typeIsBuiltin || o is PyThreadLocal:
            if let l = c as? PyThreadLocal { try l.prepare(self, v, changing: name) }
            if let da = c.type.userOverride("__delattr__") {
                _ = try call(bindClassAttribute(da, to: v), [.str(name)]); return
            }
            if let ca = c.type.lookup(name), case .obj(let a) = ca, let p = a as? PyProperty, p.isPlainDescriptor {
                if case .none = p.deleter { throw p.missing("deleter", of: v) }
                _ = try call(p.deleter, [v]); return
            }
            guard let d = c.existingAttributeDict, try d.remove(self, .str(name)) != nil else { throw noAttribute(v, name) }
        case let c as Cell where name == "cell_contents":
            c.value = .unbound  // the variable is unbound again (reading it: NameError)
        case is PyGenerator where name == "__name__" || name == "__qualname__":
            throw typeError("\(name) must be set to a string object")  // (CPython's words for a deletion too)
        default: throw readOnlyAttribute(v, name)
        }
    }

    /// The dict of `globals()` and `module.__dict__` for `g`: the module's mirror dict
    /// (``Globals/mirror``), refilled with the variables bound now (as it is again before
    /// each use, ``PyDict/prepareTable()``).
    func globalsDict(_ g: Globals) -> PyDict {
        let d = g.mirror
        d.takeInVariables(g)
        return d
    }
}
