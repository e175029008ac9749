// The methods of `dict`, and the live views `d.keys()`, `d.values()`, `d.items()`.

/// A live view of a dict's keys, values or items (`d.keys()`): it sees every later change.
final class PyDictView: PyObject {
    /// The dict viewed. The view never changes it.
    let dict: PyDict
    /// Which part of each entry the view shows.
    let kind: PyDictIterator.Kind

    init(_ d: PyDict, _ kind: PyDictIterator.Kind) {
        dict = d
        self.kind = kind
        switch kind {
        case .keys: super.init(type: Types.dictKeys)
        case .values: super.init(type: Types.dictValues)
        case .items: super.init(type: Types.dictItems)
        }
    }

    /// True for keys and items views, which behave like sets.
    var isSetLike: Bool { kind != .values }

    /// The current elements of the view, in dict order.
    var elements: [Value] {
        switch kind {
        case .keys: return dict.keys
        case .values: return dict.values
        case .items: return dict.pairs.map { .obj(PyTuple([$0.0, $0.1])) }
        }
    }
}

// MARK: - Hooks the evaluator calls for views

extension Unit {
    /// `repr(view)`: `dict_keys(['a', 'b'])`.
    func dictViewRepr(_ v: PyDictView) throws -> String {
        try guardRecursion(v, "...") {
            let body = try v.elements.map { try repr($0) }.joined(separator: ", ")
            return "\(v.type.name)([\(body)])"
        }
    }

    /// A value to iterate for the view (an iterator that notices size changes).
    func dictViewIterable(_ v: PyDictView) throws -> Value {
        .obj(PyDictIterator(v.dict, v.kind))
    }
}

/// `item in view`, answered by key lookup for keys and items views.
func dictViewContains(_ v: PyDictView, _ item: Value, _ u: Unit) throws -> Bool {
    switch v.kind {
    case .keys: return try v.dict.get(u, item) != nil
    case .values:
        for x in v.elements where try itemEquals(u, x, item) { return true }
        return false
    case .items:
        guard case .obj(let o) = item, let t = o as? PyTuple, t.items.count == 2 else { return false }
        guard let found = try v.dict.get(u, t.items[0]) else { return false }
        return try itemEquals(u, found, t.items[1])
    }
}

/// `a op b` for `|`, `&`, `-`, `^` when either operand is a keys or items view: both sides
/// become sets and the result is a `set`. Nil when no view is involved.
/// `v` when it is a keys or items view (set-like), else nil.
private func setLikeView(_ v: Value) -> PyDictView? {
    if case .obj(let o) = v, let view = o as? PyDictView, view.isSetLike { return view }
    return nil
}

func dictViewBinary(_ op: String, _ a: Value, _ b: Value, _ u: Unit) throws -> Value? {
    guard ["|", "&", "-", "^"].contains(op), setLikeView(a) != nil || setLikeView(b) != nil else { return nil }
    if op == "&" { return try dictViewIntersection(a, b, u) }
    let left = try setFromIterable(a, u, frozen: false)
    let right = try setFromIterable(b, u, frozen: false)
    return try setBinary(op, left, right, u)
}

/// `view & other` as CPython computes it: a set that is at least as large intersects
/// with the view; otherwise the smaller side is walked and each of its items looked up
/// in the view, so an items view's values are never hashed (`d.items() & {(1, 1)}` works
/// when d holds a list).
private func dictViewIntersection(_ a: Value, _ b: Value, _ u: Unit) throws -> Value {
    var view = setLikeView(a) ?? setLikeView(b)!
    var other = setLikeView(a) != nil ? b : a
    if case .obj(let o) = other, let s = o as? PySet, s.type === Types.set, view.dict.count <= s.count {
        return try setBinary("&", s, try setFromIterable(.obj(view), u, frozen: false), u)
    }
    if let w = setLikeView(other), w.dict.count > view.dict.count { other = .obj(view); view = w }
    let result = PySet()
    let it = try u.iterate(other)
    while let x = try it.next(u) {
        if try u.contains(.obj(view), x) { try result.add(u, x) }
    }
    return .obj(result)
}

/// `view == other` for keys and items views compared with a set or another set-like view;
/// nil when CPython would answer NotImplemented (then identity decides).
func dictViewEquals(_ a: PyDictView, _ b: Value, _ u: Unit) throws -> Bool? {
    guard a.isSetLike, case .obj(let o) = b else { return nil }
    let otherCount: Int
    if let s = o as? PySet { otherCount = s.count }
    else if let w = o as? PyDictView, w.isSetLike { otherCount = w.dict.count }
    else { return nil }
    guard a.dict.count == otherCount else { return false }
    for x in a.elements where !(try u.contains(b, x)) { return false }
    return true
}

// MARK: - Lookup and update helpers

/// `d[key]`, calling `__missing__` of a dict subclass for absent keys.
///
/// - Throws: KeyError with the key.
func dictGetItem(_ d: PyDict, _ key: Value, _ u: Unit) throws -> Value {
    if let v = try d.get(u, key) { return v }
    if d.type !== Types.dict, let m = u.lookupSpecial(.obj(d), "__missing__") {
        return try u.call(m, [key])
    }
    throw PyBaseException(type: Exc.keyError, args: [key])
}

/// `del d[key]`.
///
/// - Throws: KeyError with the key.
func dictDelItem(_ d: PyDict, _ key: Value, _ u: Unit) throws {
    if try d.remove(u, key) == nil { throw PyBaseException(type: Exc.keyError, args: [key]) }
}

/// True when `o` is a dict whose `keys` and `__getitem__` are the builtin ones, so its
/// entries can be copied directly.
private func isPlainDict(_ o: PyObject) -> Bool {
    guard o is PyDict else { return false }
    if o.hasType(Types.dictID) { return true }
    for name in ["keys", "__getitem__"] {
        guard let mine = o.type.lookup(name), let builtin = Types.dict.dict[name], isSame(mine, builtin) else {
            return false
        }
    }
    return true
}

extension PyDict {
    /// Stores `src`'s items (taken at one instant) in this dict, in order, as CPython's
    /// dict_merge: RuntimeError `dict mutated during update` when storing one whose key is
    /// of a user class (its `__eq__` or `__hash__` ran Conc code) changed `src`'s size.
    /// (Other threads' changes to `src` meanwhile are theirs: the copy is of one instant.)
    func merge(_ u: Unit, from src: PyDict) throws {
        let pairs = src.pairs
        let size = pairs.count
        for (k, v) in pairs {
            try set(u, k, v)
            if case .obj(let o) = k, !o.typeIsBuiltin, src.count != size {
                throw pyError(Exc.runtimeError, "dict mutated during update")
            }
        }
    }
}

/// `d.update(arg)`: from a mapping (anything with `keys`) or an iterable of pairs.
///
/// - Throws: TypeError `cannot convert dictionary update sequence element #0 to a sequence`,
///   ValueError `dictionary update sequence element #1 has length 1; 2 is required`.
func dictUpdate(_ d: PyDict, from arg: Value, _ u: Unit) throws {
    if case .obj(let o) = arg {
        if isPlainDict(o), let src = o as? PyDict {
            try d.merge(u, from: src)
            return
        }
        if o.type.lookup("keys") != nil {
            for k in try u.toArray(try u.callMethod(arg, "keys", [])) {
                try d.set(u, k, try u.callMethod(arg, "__getitem__", [k]))
            }
            return
        }
    }
    let it = try u.iterate(arg)
    var i = 0
    while let element = try it.next(u) {
        let pair = try iterableItems(element, u,
            orTypeError: "cannot convert dictionary update sequence element #\(i) to a sequence")
        guard pair.count == 2 else {
            throw valueError("dictionary update sequence element #\(i) has length \(pair.count); 2 is required")
        }
        try d.set(u, pair[0], pair[1])
        i += 1
    }
}

/// `dict(...)`, `d.__init__(...)` and `d.update(...)`: one optional positional argument
/// plus keyword arguments.
func dictFill(_ d: PyDict, _ args: Args, _ name: String, _ u: Unit) throws {
    if args.count > 1 { throw typeError("\(name) expected at most 1 argument, got \(args.count)") }
    if args.count == 1 { try dictUpdate(d, from: args[0], u) }
    for (k, v) in args.keywords { try d.set(u, .str(k), v) }
}

/// True when `type` (a subclass of `base`) still uses `base`'s own `__init__`.
func inheritsBuiltinInit(_ type: PyType, _ base: PyType) -> Bool {
    guard let mine = type.lookup("__init__"), let builtin = base.dict["__init__"] else { return true }
    return isSame(mine, builtin)
}

// MARK: - dict methods

/// Installs the methods and constructor of `dict`.
func installDictMethods(_ t: PyType) {
    t.constructor = { u, type, args in
        let d = PyDict(type: type)
        // A subclass with its own __init__ fills itself (dict.__new__ ignores arguments).
        if type === t || inheritsBuiltinInit(type, t) { try dictFill(d, args, "dict", u) }
        return .obj(d)
    }
    t.method("__init__") { u, s, args in
        try dictFill(try recv(s, "__init__"), args, "dict", u)
        return .none
    }
    t.method("update") { u, s, args in
        try dictFill(try recv(s, "update"), args, "update", u)
        return .none
    }
    t.method0("keys", qualified: "dict.keys") { _, s in .obj(PyDictView(try recv(s, "keys"), .keys)) }
    t.method0("values", qualified: "dict.values") { _, s in .obj(PyDictView(try recv(s, "values"), .values)) }
    t.method0("items", qualified: "dict.items") { _, s in .obj(PyDictView(try recv(s, "items"), .items)) }
    t.classFunction("fromkeys") { u, all in
        var args = all
        let cls = args.positional.removeFirst()
        try ContainerArgs.range(args, "dict.fromkeys", 1, 2)
        let value = args.count == 2 ? args[1] : .none
        if case .obj(let c) = cls, c === Types.dict, let keys = HashTable.hashedKeys(of: args[0]) {
            let d = PyDict()
            d.replaceTable(keys.keysTable(storesValues: true, value: value))
            return .obj(d)
        }
        let it = try u.iterate(args[0])
        if case .obj(let c) = cls, c === Types.dict {
            let d = PyDict()
            while let k = try it.next(u) { try d.set(u, k, value) }
            return .obj(d)
        }
        // A subclass (or another mapping class): `d = cls(); d[k] = value`, as CPython.
        let d = try u.call(cls, [])
        while let k = try it.next(u) { try u.setItem(d, k, value) }
        return d
    }
    installDictLookups(t)
    installDictRemovals(t)
    installDictProtocol(t)
}

/// `get`, `setdefault`, `copy`.
private func installDictLookups(_ t: PyType) {
    t.method("get", oneArg: { u, s, k in try recv(s, "get").get(u, k) ?? .none },
             twoArgs: { u, s, k, otherwise in try recv(s, "get").get(u, k) ?? otherwise }) { u, s, args in
        let d = try recv(s, "get")
        try ContainerArgs.range(args, "dict.get", 1, 2)
        return try d.get(u, args[0]) ?? (args.count == 2 ? args[1] : .none)
    }
    t.method("setdefault", oneArg: { u, s, k in try recv(s, "setdefault").setDefault(u, k, .none) },
             twoArgs: { u, s, k, x in try recv(s, "setdefault").setDefault(u, k, x) }) { u, s, args in
        let d = try recv(s, "setdefault")
        try ContainerArgs.range(args, "dict.setdefault", 1, 2)
        return try d.setDefault(u, args[0], args.count == 2 ? args[1] : .none)
    }
    t.method("copy") { u, s, args in
        let d = try recv(s, "copy")
        try ContainerArgs.none(args, "dict.copy")
        let c = PyDict()
        c.replaceTable(d.snapshot)
        return .obj(c)
    }
}

/// `pop`, `popitem`, `clear`.
private func installDictRemovals(_ t: PyType) {
    t.method("pop", oneArg: { u, s, k in
        if let v = try recv(s, "pop").remove(u, k) { return v }
        throw PyBaseException(type: Exc.keyError, args: [k])
    }, twoArgs: { u, s, k, otherwise in try recv(s, "pop").remove(u, k) ?? otherwise }) { u, s, args in
        let d = try recv(s, "pop")
        try ContainerArgs.range(args, "dict.pop", 1, 2)
        if let v = try d.remove(u, args[0]) { return v }
        if args.count == 2 { return args[1] }
        throw PyBaseException(type: Exc.keyError, args: [args[0]])
    }
    t.method("popitem") { u, s, args in
        let d = try recv(s, "popitem")
        try ContainerArgs.none(args, "dict.popitem")
        guard let (k, v) = d.popLast() else {
            throw PyBaseException(type: Exc.keyError, args: [.str("popitem(): dictionary is empty")])
        }
        if let name = k.asStr?.value {
            d.ownersRemoved(name)
            _ = d.globalsOf?.unbind(name)  // `globals().popitem()` removes the variable
        }
        return .obj(PyTuple([k, v]))
    }
    t.method("clear") { u, s, args in
        let d = try recv(s, "clear")
        try ContainerArgs.none(args, "dict.clear")
        // Some object's __dict__ or a module's globals(): the attributes or variables go too.
        let keys = d.attributesOf != nil || d.globalsOf != nil ? d.keys : []
        d.removeAll()
        for k in keys {
            guard let name = k.asStr?.value else { continue }
            d.ownersRemoved(name)
            _ = d.globalsOf?.unbind(name)
        }
        return .none
    }
}

/// The mapping dunders, so that dict subclasses can call `super().__getitem__(k)` etc.
private func installDictProtocol(_ t: PyType) {
    t.method("__getitem__") { u, s, args in
        try dictGetItem(try recv(s, "__getitem__"), try ContainerArgs.one(args, "dict.__getitem__"), u)
    }
    t.method("__setitem__") { u, s, args in
        try ContainerArgs.range(args, "dict.__setitem__", 2, 2)
        try recv(s, "__setitem__").set(u, args[0], args[1])
        return .none
    }
    t.method("__delitem__") { u, s, args in
        try dictDelItem(try recv(s, "__delitem__"), try ContainerArgs.one(args, "dict.__delitem__"), u)
        return .none
    }
    t.method("__contains__") { u, s, args in
        let d = try recv(s, "__contains__")
        return .bool(try d.get(u, try ContainerArgs.one(args, "dict.__contains__")) != nil)
    }
    t.method("__len__") { u, s, args in
        try ContainerArgs.none(args, "dict.__len__")
        return .int(try recv(s, "__len__").count)
    }
    t.method("__iter__") { u, s, args in
        try ContainerArgs.none(args, "dict.__iter__")
        return .obj(PyDictIterator(try recv(s, "__iter__"), .keys))
    }
    t.method("__reversed__") { u, s, args in
        try ContainerArgs.none(args, "dict.__reversed__")
        return .obj(PyDictReverseIterator(try recv(s, "__reversed__"), .keys))
    }
}

// MARK: - View methods

/// Installs the methods of `dict_keys`, `dict_values` and `dict_items`.
func installDictViewMethods(_ t: PyType) {
    let name = t.name
    let recv = { (v: Value, m: String) throws -> PyDictView in try containerReceiver(v, PyDictView.self, m, name) }
    t.method("__len__") { u, s, args in
        try ContainerArgs.none(args, "\(name).__len__")
        return .int(try recv(s, "__len__").dict.count)
    }
    t.getter("mapping") { _, s in .obj(PyMappingProxy(.obj(try recv(s, "mapping").dict))) }
    t.method("__iter__") { u, s, args in
        try ContainerArgs.none(args, "\(name).__iter__")
        let v = try recv(s, "__iter__")
        return .obj(PyDictIterator(v.dict, v.kind))
    }
    t.method("__reversed__") { u, s, args in
        try ContainerArgs.none(args, "\(name).__reversed__")
        let v = try recv(s, "__reversed__")
        return .obj(PyDictReverseIterator(v.dict, v.kind))
    }
    t.method("__contains__") { u, s, args in
        let v = try recv(s, "__contains__")
        return .bool(try dictViewContains(v, try ContainerArgs.one(args, "\(name).__contains__"), u))
    }
    guard name != "dict_values" else { return }
    t.method("isdisjoint") { u, s, args in
        let v = try recv(s, "isdisjoint")
        let it = try u.iterate(try ContainerArgs.one(args, "\(name).isdisjoint"))
        while let x = try it.next(u) { if try dictViewContains(v, x, u) { return .bool(false) } }
        return .bool(true)
    }
    for (dunder, op) in [("__or__", "|"), ("__and__", "&"), ("__sub__", "-"), ("__xor__", "^")] {
        t.method(dunder) { u, s, args in
            let other = try ContainerArgs.one(args, "\(name).\(dunder)")
            return try dictViewBinary(op, s, other, u) ?? .obj(Singletons.notImplemented)
        }
        let reflected = "__r" + dunder.dropFirst(2)
        t.method(reflected) { u, s, args in
            let other = try ContainerArgs.one(args, "\(name).\(reflected)")
            return try dictViewBinary(op, other, s, u) ?? .obj(Singletons.notImplemented)
        }
    }
}

/// The receiver of a dict method, or the TypeError CPython raises for a descriptor applied
/// to another type. A function, not a captured closure: calling a method then retains no
/// closure context.
@inline(__always) private func recv(_ v: Value, _ m: String) throws -> PyDict {
    try containerReceiver(v, PyDict.self, m, "dict")
}
