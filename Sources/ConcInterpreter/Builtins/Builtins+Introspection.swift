// Builtins about objects and names: isinstance, issubclass, getattr family, vars, dir,
// globals, locals.

extension Engine {
    func introspectionBuiltins() -> [(String, Value)] {
        [
            native2("isinstance") { u, x, y in
                return .bool(try isInstance(u, x, y))
            },
            native("issubclass") { u, a in
                try a.expect("issubclass", 2, 2)
                return .bool(try isSubclass(u, a[0], a[1]))
            },
            native("__import__") { u, a in
                // `__import__(name, globals, locals, fromlist, level)`: the module itself when
                // fromlist is given, else the top package (`__import__("os.path")` is os).
                try a.expectNamed("__import__", 1, 5, names: ["name", "globals", "locals", "fromlist", "level"])
                guard let nameValue = a.argument(0, "name") else { throw typeError("__import__() missing required argument 'name' (pos 1)") }
                let name = try u.stringArg(nameValue, "__import__() argument 1")
                let level = try a.argument(4, "level").map { try u.toIndex($0) } ?? 0
                if level < 0 { throw valueError("level must be >= 0") }
                if level > 0 {
                    // Relative to the `__package__` of the globals given, as CPython's.
                    var package = ""
                    if let g = a.argument(1, "globals"), case .obj(let o) = g, let d = o as? PyDict,
                       let p = try d.get(u, .str("__package__")), let s = p.asStringValue { package = s }
                    switch relativeImportTarget(name, package: package, level: level) {
                    case .failure(let message): throw pyError(Exc.importError, message)
                    // With a level, the module named (or the package, for `from . import x`).
                    case .module(let absolute): return try u.engine.importModule(absolute, u)
                    }
                }
                if name.isEmpty { throw valueError("Empty module name") }
                let module = try u.engine.importModule(name, u)
                if let from = a.argument(3, "fromlist"), try u.isTruthy(from) { return module }
                let top = String(name.prefix { $0 != "." })
                return top == name ? module : try u.engine.importModule(top, u)
            },
            native("getattr") { u, a in
                try a.expect("getattr", 2, 3)
                let name = try attributeName(a[1])
                if a.count == 3 {
                    do { if let v = try u.getAttrOrNil(a[0], name) { return v } }
                    catch let e as PyBaseException where e.type.isSubtype(of: Exc.attributeError) {}
                    return a[2]
                }
                return try u.getAttr(a[0], name)
            },
            native("setattr") { u, a in
                try a.expect("setattr", 3, 3)
                try u.setAttr(a[0], try attributeName(a[1]), a[2])
                return .none
            },
            native2("delattr") { u, x, y in
                try u.delAttr(x, try attributeName(y))
                return .none
            },
            native2("hasattr") { u, x, y in
                let name = try attributeName(y)
                do { return .bool(try u.getAttrOrNil(x, name) != nil) }
                catch let e as PyBaseException where e.type.isSubtype(of: Exc.attributeError) { return .bool(false) }
            },
            native("vars") { u, a in
                try a.expect("vars", 0, 1)
                if a.count == 0 { return .obj(u.callerLocals()) }
                guard let d = try u.getAttrOrNil(a[0], "__dict__") else {
                    throw typeError("vars() argument must have __dict__ attribute")
                }
                return d
            },
            native("dir") { u, a in
                try a.expect("dir", 0, 1)
                if a.count == 0 {
                    // The caller's variables, as locals() sees them, sorted.
                    let names = try u.toArray(.obj(u.callerLocals())).map { try u.str($0) }.sorted()
                    return .obj(PyList(names.map { .str($0) }))
                }
                // A class's own __dir__ decides; its result is sorted, as CPython's dir() does.
                if let m = u.userMethod(a[0], "__dir__"), let sorted = u.engine.builtins["sorted"] {
                    return try u.call(sorted, [try u.call(m, [])])
                }
                // So does a module's own `__dir__` function (PEP 562).
                if case .obj(let o) = a[0], let module = o as? PyModule, let m = module.globals.get("__dir__"),
                   let sorted = u.engine.builtins["sorted"] {
                    return try u.call(sorted, [try u.call(m, [])])
                }
                return .obj(PyList(u.engine.attributeNames(of: a[0]).map { .str($0) }))
            },
            native0("globals", qualified: "globals") { u in .obj(u.globalsDict(u.currentGlobals)) },
            native0("locals", qualified: "locals") { u in .obj(u.callerLocals()) },
        ]
    }
}

/// `isinstance(v, spec)` where spec is a class or a tuple of classes.
/// `askingHooks: false` is `type.__instancecheck__` (CPython's recursive_isinstance).
func isInstance(_ u: Unit, _ v: Value, _ spec: Value, askingHooks: Bool = true) throws -> Bool {
    if case .obj(let o) = spec, let t = o as? PyType {
        if t === Types.int, case .bool = v { return true }
        // A metaclass's __instancecheck__ decides, except for an exact match (CPython's
        // shortcut).
        if askingHooks, let hook = metaclassHook(t, "__instancecheck__"), v.type !== t {
            return try u.isTruthy(try u.call(u.bindClassAttribute(hook, to: spec), [v]))
        }
        if v.type.isSubtype(of: t) { return true }
        // An object may claim another class through a `__class__` property (a proxy), as
        // CPython's isinstance also asks.
        // (Only when a class body defined __class__: an attribute lookup on every negative
        // answer tripled the cost of `isinstance(obj, int)`.)
        if case .obj(let o) = v, o is PyInstance, o.type.mro.contains(where: { $0.definesClassAttribute }),
           case .obj(let c)? = try attributeOrNil(u, v, "__class__"), let claimed = c as? PyType, claimed !== v.type {
            return claimed.isSubtype(of: t)
        }
        return false
    }
    if case .obj(let o) = spec, let tuple = o as? PyTuple {
        for s in tuple.items where try nestedSpec(u, s, " in __instancecheck__", { try isInstance(u, v, s) }) { return true }
        return false
    }
    if case .obj(let o) = spec, o is PyGenericAlias || (o as? PyUnion)?.hasGenericAlias == true {
        throw typeError("isinstance() argument 2 cannot be a parameterized generic")
    }
    if case .obj(let o) = spec, let union = o as? PyUnion {
        for t in union.types where try isInstance(u, v, .obj(t)) { return true }
        return false
    }
    // Any other object whose class defines __instancecheck__ decides (typing.List does).
    if case .obj(let o) = spec, o is PyInstance, let hook = u.lookupSpecial(spec, "__instancecheck__") {
        return try u.isTruthy(try u.call(hook, [v]))
    }
    // CPython's abstract protocol: an object with a `__bases__` tuple stands for a class,
    // and v is an instance of it when v's `__class__` derives from it through `__bases__`.
    try checkClass(u, spec, "isinstance() arg 2 must be a type, a tuple of types, or a union")
    guard let claimed = try attributeOrNil(u, v, "__class__") else { return false }
    return try abstractIsSubclass(u, claimed, spec)
}

/// `issubclass(derived, spec)`: classes, tuples of them, unions, `__subclasscheck__`, and
/// CPython's abstract protocol (objects with a `__bases__` tuple).
/// `askingHooks: false` is `type.__subclasscheck__`.
func isSubclass(_ u: Unit, _ derived: Value, _ spec: Value, askingHooks: Bool = true) throws -> Bool {
    if case .obj(let o) = spec, let s = o as? PyType {
        if askingHooks, let hook = metaclassHook(s, "__subclasscheck__") {
            return try u.isTruthy(try u.call(u.bindClassAttribute(hook, to: spec), [derived]))
        }
        if case .obj(let d) = derived, let t = d as? PyType { return t.isSubtype(of: s) }
        try checkClass(u, derived, "issubclass() arg 1 must be a class")
        return try abstractIsSubclass(u, derived, spec)
    }
    if case .obj(let o) = spec, let tuple = o as? PyTuple {
        for s in tuple.items where try nestedSpec(u, s, " in __subclasscheck__", { try isSubclass(u, derived, s) }) { return true }
        return false
    }
    if case .obj(let o) = spec, o is PyInstance, let hook = u.lookupSpecial(spec, "__subclasscheck__") {
        return try u.isTruthy(try u.call(hook, [derived]))
    }
    if case .obj(let o) = spec, o is PyGenericAlias || (o as? PyUnion)?.hasGenericAlias == true {
        throw typeError("issubclass() argument 2 cannot be a parameterized generic")
    }
    if case .obj(let o) = spec, let union = o as? PyUnion {
        if case .obj(let d) = derived, let t = d as? PyType { return union.types.contains { t.isSubtype(of: $0) } }
        try checkClass(u, derived, "issubclass() arg 1 must be a class")
        for t in union.types where try abstractIsSubclass(u, derived, .obj(t)) { return true }
        return false
    }
    try checkClass(u, derived, "issubclass() arg 1 must be a class")
    try checkClass(u, spec, "issubclass() arg 2 must be a class, a tuple of classes, or a union")
    return try abstractIsSubclass(u, derived, spec)
}

/// `getattr(v, name)`, nil when that raises AttributeError (other errors propagate).
func attributeOrNil(_ u: Unit, _ v: Value, _ name: String) throws -> Value? {
    do { return try u.getAttrOrNil(v, name) }
    catch let e as PyBaseException where e.type.isSubtype(of: Exc.attributeError) { return nil }
}

/// `x.__bases__` when it is a tuple (CPython's abstract_get_bases), else nil.
private func abstractBases(_ u: Unit, _ x: Value) throws -> [Value]? {
    if case .obj(let o) = x, let t = o as? PyType { return t.bases.map { .obj($0) } }
    guard case .obj(let b)? = try attributeOrNil(u, x, "__bases__"), let tuple = b as? PyTuple else { return nil }
    return tuple.items
}

/// TypeError(message) unless `x` is a class or stands for one (has a `__bases__` tuple).
private func checkClass(_ u: Unit, _ x: Value, _ message: String) throws {
    if try abstractBases(u, x) == nil { throw typeError(message) }
}

/// True when `derived` is `cls` or reaches it through `__bases__` (CPython's
/// abstract_issubclass); each level counts against the recursion limit.
private func abstractIsSubclass(_ u: Unit, _ derived: Value, _ cls: Value) throws -> Bool {
    if case .obj(let a) = derived, case .obj(let b) = cls, a === b { return true }
    guard let bases = try abstractBases(u, derived) else { return false }
    for base in bases {
        try u.enterNested(" in __issubclass__")
        defer { u.leaveNested() }
        if try abstractIsSubclass(u, base, cls) { return true }
    }
    return false
}

/// `check()` of one item of a class tuple: a tuple nested in it recurses, which counts one
/// nesting level (RecursionError past the limit or the stack's end, as in CPython); a class
/// (the common `(int, float)`) costs nothing more.
@inline(__always) func nestedSpec(_ u: Unit, _ item: Value, _ context: String, _ check: () throws -> Bool) throws -> Bool {
    guard case .obj(let o) = item, o is PyTuple else { return try check() }
    try u.enterNested(context)
    defer { u.leaveNested() }
    return try check()
}

/// `name` defined in Conc by the metaclass of `t`, or nil (also for classes of `type`).
@inline(__always) func metaclassHook(_ t: PyType, _ name: String) -> Value? {
    guard let meta = t.typeRef, !meta.isBuiltin, let hook = meta.lookup(name), case .obj(let h) = hook, h is PyFunction else { return nil }
    return hook
}

extension Unit {
    /// The globals of the innermost running frame.
    var currentGlobals: Globals { currentFrame?.globals ?? engine.mainGlobals }
}

extension Unit {
    /// `locals()` of the calling frame: a function's variables as a new dict, a class
    /// body's namespace, or the module's variables.
    func callerLocals() -> PyDict {
        guard let f = currentFrame else { return globalsDict(currentGlobals) }
        return locals(of: f)
    }

    /// The variables of running frame `f`, as `locals()` run in it sees them: one dict per
    /// call of a function, refreshed each time (CPython 3.11's f_locals), so what `exec()`
    /// put in it is still there for a later `eval()` or `locals()`.
    func locals(of f: Frame) -> PyDict {
        if let ns = f.classNamespace { return ns }
        if f.function == nil { return globalsDict(f.globals) }
        let d = f.localsSnapshot ?? PyDict()
        f.localsSnapshot = d
        for (i, name) in f.code.localNames.enumerated() {
            var v = f.locals[i]
            if case .obj(let o) = v, let c = o as? Cell, f.code.cellSlots.contains(i) { v = c.value }
            // (An unbound variable leaves the dict, as a `del` makes it.)
            if !v.isUnbound { d.set(self, name, v) } else { _ = try? d.remove(self, .str(name)) }
        }
        // Free variables (of enclosing functions) count as locals, as in CPython.
        if let fn = f.function {
            for (name, cell) in zip(f.code.freeNames, fn.closure) where !cell.value.isUnbound && !f.code.localNames.contains(name) {
                d.set(self, name, cell.value)
            }
        }
        return d
    }
}

/// The name argument of getattr/setattr/delattr/hasattr, with CPython's message.
private func attributeName(_ v: Value) throws -> String {
    guard let s = v.asStr else { throw typeError("attribute name must be string, not '\(v.typeName)'") }
    return s.value
}
