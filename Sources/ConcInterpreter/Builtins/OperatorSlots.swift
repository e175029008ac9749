// The operator methods of builtin types: `int.__add__`, `(2.5).__lt__(3)`, `"a".__mul__(3)`,
// `[1].__add__([2])`, `{1}.__or__({2})`, `{}.__or__({})`. They serve explicit calls,
// `super().__add__(other)` in a subclass, `dir()` and `hasattr()`, with CPython's results:
// NotImplemented for an operand of another kind, except where CPython's own method raises
// (`"a".__add__(1)`: can only concatenate str).
//
// The evaluator does not dispatch through them: `a + b` on builtin values computes
// directly, and for instances of builtin subclasses `Unit.userBinary` skips them (the
// builtin operator it falls back to does the same work). So each computes on its operands'
// builtin payload (the number inside an int subclass, the text of a str subclass) and never
// calls back into the operator dispatch, which could otherwise find a subclass's override
// and recurse.
import ConcSyntax

/// The binary operators with a method pair (`__add__`/`__radd__`) on numbers.
private let numberOperators: [(BinaryOp, String)] = [
    (.add, "add"), (.sub, "sub"), (.mul, "mul"), (.div, "truediv"), (.floorDiv, "floordiv"),
    (.mod, "mod"), (.pow, "pow"),
]
/// The bitwise operators, for int only.
private let bitOperators: [(BinaryOp, String)] = [
    (.lshift, "lshift"), (.rshift, "rshift"), (.bitAnd, "and"), (.bitOr, "or"), (.bitXor, "xor"),
]
/// The ordering methods and their operators.
private let orderings: [(CompareOp, String)] = [(.lt, "__lt__"), (.le, "__le__"), (.gt, "__gt__"), (.ge, "__ge__")]

private var notImplemented: Value { .obj(Singletons.notImplemented) }

extension PyMethodDescriptor {
    /// The special methods CPython implements as slot wrappers, whose misuse on another
    /// type reads `descriptor '__add__' requires a 'int' object but received a 'str'`
    /// (other methods: `descriptor 'append' for 'list' objects doesn't apply to ...`):
    /// the operator methods installed here and the protocol methods.
    static let slotWrapperNames: Set<String> = {
        var names: Set<String> = ["__len__", "__eq__", "__ne__", "__hash__", "__repr__", "__str__", "__iter__",
                                  "__contains__", "__setitem__", "__delitem__", "__bool__", "__init__",
                                  "__getattribute__", "__setattr__", "__delattr__", "__int__", "__float__",
                                  "__index__", "__neg__", "__pos__", "__abs__", "__invert__", "__divmod__",
                                  "__rdivmod__", "__iadd__", "__imul__", "__ior__"]
        for (_, name) in orderings { names.insert(name) }
        for (_, stem) in numberOperators + bitOperators { names.insert("__\(stem)__"); names.insert("__r\(stem)__") }
        return names
    }()
}

/// The TypeError of a method of `owner` called on something else (`int.__add__("a", 1)`).
private func descriptorError(_ name: String, _ owner: String, _ v: Value) -> PyBaseException {
    typeError("descriptor '\(name)' requires a '\(owner)' object but received a '\(v.typeName)'")
}

/// The modulus of `__pow__(exp, mod)`, nil for the binary form; CPython's arity messages
/// (which start with a space: its slot wrapper formats them with an empty function name).
private func powModulus(_ a: Args, _ qualified: String) throws -> Value? {
    if !a.keywords.isEmpty { throw typeError("\(qualified)() takes no keyword arguments") }
    if a.count > 2 { throw typeError(" expected at most 2 arguments, got \(a.count)") }
    if a.count == 0 { throw typeError(" expected at least 1 argument, got 0") }
    return a.count == 2 && !a[1].isNone ? a[1] : nil
}

/// The one argument of an operator method (`expected 1 argument, got 0`, as CPython's
/// slot wrappers say).
private func operand(_ a: Args, _ qualified: String) throws -> Value {
    if !a.keywords.isEmpty { throw typeError("\(qualified)() takes no keyword arguments") }
    guard a.count == 1 else { throw typeError("expected 1 argument, got \(a.count)") }
    return a[0]
}

// MARK: - int and float

/// Installs the arithmetic, bitwise (int), ordering and unary methods of `int` or `float`.
/// A receiver is the plain number or the number inside an instance of a subclass; an
/// operand of another kind gives NotImplemented (an int method takes ints and bools, a
/// float method ints, bools and floats, as in CPython).
func installNumberOperatorSlots(_ t: PyType, isFloat: Bool) {
    let owner = isFloat ? "float" : "int"
    func receiver(_ v: Value, _ name: String) throws -> Value {
        let n = v.unboxedNumber
        if isFloat { if case .float = n { return n } } else if n.intLike != nil { return n }
        throw descriptorError(name, owner, v)
    }
    func accepted(_ v: Value) -> Value? {
        let n = v.unboxedNumber
        if isFloat { return n.numericDouble != nil ? n : nil }
        return n.intLike != nil ? n : nil
    }
    for (op, stem) in numberOperators + (isFloat ? [] : bitOperators) {
        let name = "__\(stem)__", reflected = "__r\(stem)__"
        t.method(name) { u, v, a in
            let x = try receiver(v, name)
            if op == .pow {
                // __pow__(exp, mod) is pow(x, exp, mod) (float's refuses a modulus there).
                let modulus = try powModulus(a, "\(owner).\(name)")
                guard let y = accepted(a[0]) else { return notImplemented }
                guard let modulus else { return try u.binary(op, x, y) }
                guard let m = accepted(modulus) else { return notImplemented }
                return try u.call(u.engine.builtins["pow"]!, [x, y, m])
            }
            guard let y = accepted(try operand(a, "\(owner).\(name)")) else { return notImplemented }
            return try u.binary(op, x, y)
        }
        t.method(reflected) { u, v, a in
            let x = try receiver(v, reflected)
            guard let y = accepted(try operand(a, "\(owner).\(reflected)")) else { return notImplemented }
            return try u.binary(op, y, x)
        }
    }
    t.method("__divmod__") { u, v, a in
        let x = try receiver(v, "__divmod__")
        guard let y = accepted(try operand(a, "\(owner).__divmod__")) else { return notImplemented }
        return .obj(PyTuple([try u.binary(.floorDiv, x, y), try u.binary(.mod, x, y)]))
    }
    t.method("__rdivmod__") { u, v, a in
        let x = try receiver(v, "__rdivmod__")
        guard let y = accepted(try operand(a, "\(owner).__rdivmod__")) else { return notImplemented }
        return .obj(PyTuple([try u.binary(.floorDiv, y, x), try u.binary(.mod, y, x)]))
    }
    for (op, name) in orderings {
        t.method(name) { u, v, a in
            let x = try receiver(v, name)
            guard let y = accepted(try operand(a, "\(owner).\(name)")) else { return notImplemented }
            return try u.compare(op, x, y)
        }
    }
    for (op, name) in [(UnaryOp.neg, "__neg__"), (.pos, "__pos__")] + (isFloat ? [] : [(.invert, "__invert__")]) {
        t.method0(name, qualified: "\(owner).\(name)") { u, v in try u.unary(op, try receiver(v, name)) }
    }
    t.method0("__abs__", qualified: "\(owner).__abs__") { _, v in
        switch try receiver(v, "__abs__") {
        case .float(let d): return .float(Swift.abs(d))
        case let n:
            let i = n.intLike ?? 0
            if i == Int.min { throw overflowError(intOverflowMessage) }
            return .int(Swift.abs(i))
        }
    }
    t.method0("__bool__", qualified: "\(owner).__bool__") { _, v in
        .bool((try receiver(v, "__bool__")).numericDouble != 0)
    }
    guard !isFloat else { return }
    // An int is its own floor, ceiling and truncation (math.floor(n) calls these).
    for name in ["__floor__", "__ceil__", "__trunc__"] {
        t.method0(name, qualified: "int.\(name)") { _, v in .int(try receiver(v, name).intLike ?? 0) }
    }
}

// MARK: - str, list and tuple

/// Installs `__add__`, `__mul__`, `__rmul__` and the orderings of `str`, `list` or `tuple`
/// (and `__iadd__`/`__imul__` of `list`), all working on the receiver's items or text.
func installSequenceOperatorSlots(_ t: PyType) {
    let owner = t.name
    let isKind: (PyObject) -> Bool = owner == "str" ? { $0 is PyStr } : owner == "list" ? { $0 is PyList } : { $0 is PyTuple }
    /// `v` as an object of this sequence type or a subclass of it, or nil.
    func member(_ v: Value) -> PyObject? {
        if case .obj(let o) = v, isKind(o) { return o }
        return nil
    }
    /// The receiver as the builtin sequence it is or extends, or TypeError.
    func receiver(_ v: Value, _ name: String) throws -> PyObject {
        guard let o = member(v) else { throw descriptorError(name, owner, v) }
        return o
    }
    /// The items or text of `o`, as a plain object of the builtin type (no subclass method
    /// can be reached through it).
    func plain(_ o: PyObject) -> Value {
        switch o {
        case let s as PyStr: return .str(s.value)
        case let l as PyList: return .obj(PyList(l.snapshot))
        default: return .obj(PyTuple((o as! PyTuple).items))
        }
    }
    t.method("__add__") { u, v, a in
        let x = try receiver(v, "__add__")
        let y = try operand(a, "\(owner).__add__")
        guard let yo = member(y) else {
            throw typeError("can only concatenate \(owner) (not \"\(y.typeName)\") to \(owner)")
        }
        return try u.binary(.add, plain(x), plain(yo))
    }
    func times(_ u: Unit, _ x: PyObject, _ n: Value) throws -> Value {
        guard let count = try indexValue(n, u) else {
            throw typeError("'\(n.typeName)' object cannot be interpreted as an integer")
        }
        return try u.repeatSequence(plain(x), count) ?? notImplemented
    }
    t.method("__mul__") { u, v, a in try times(u, try receiver(v, "__mul__"), try operand(a, "\(owner).__mul__")) }
    t.method("__rmul__") { u, v, a in try times(u, try receiver(v, "__rmul__"), try operand(a, "\(owner).__rmul__")) }
    for (op, name) in orderings {
        t.method(name) { u, v, a in
            let x = try receiver(v, name)
            guard let yo = member(try operand(a, "\(owner).\(name)")) else { return notImplemented }
            return try u.compare(op, plain(x), plain(yo))
        }
    }
    guard owner == "list" else { return }
    t.method("__iadd__") { u, v, a in
        let l = try receiver(v, "__iadd__") as! PyList
        let extra = try u.toArray(try operand(a, "list.__iadd__"))  // a snapshot when it is a list
        l.withItems { $0.append(contentsOf: extra) }
        return v
    }
    t.method("__imul__") { u, v, a in
        let l = try receiver(v, "__imul__") as! PyList
        let n = try operand(a, "list.__imul__")
        guard let count = try indexValue(n, u) else {
            throw typeError("'\(n.typeName)' object cannot be interpreted as an integer")
        }
        try l.withItems { try repeatInPlace(&$0, count, itemSize: MemoryLayout<Value>.stride) }
        return v
    }
}

/// `items *= count` for a list or bytearray (`__imul__`): emptied for count <= 0, with
/// the MemoryError `items * count` gives for a result too large to build.
func repeatInPlace<T>(_ items: inout [T], _ count: Int, itemSize: Int) throws {
    if count <= 0 { items.removeAll(); return }
    try checkBuildSize(items.count * itemSize, times: count)
    let once = items
    for _ in 1..<count { items.append(contentsOf: once) }
}

// MARK: - bytes and bytearray

/// -1, 0 or 1 as `a` sorts before, with or after `b`, byte by byte (a prefix first).
func byteOrder(_ a: [UInt8], _ b: [UInt8]) -> Int {
    a.lexicographicallyPrecedes(b) ? -1 : (a == b ? 0 : 1)
}

/// Installs the orderings of `bytes` or `bytearray`, by their bytes: bytes orders against
/// bytes only, bytearray against either (CPython's buffer comparison); NotImplemented else.
func installBytesOrderingSlots(_ t: PyType) {
    let owner = t.name, mutable = owner == "bytearray"
    for (op, name) in orderings {
        t.method(name) { u, v, a in
            guard case .obj(let o) = v, let x = o as? PyBytes, x.isMutable == mutable else { throw descriptorError(name, owner, v) }
            guard case .obj(let p) = try operand(a, "\(owner).\(name)"), let y = p as? PyBytes, mutable || !y.isMutable else {
                return notImplemented
            }
            return .bool(u.orderInts(op, byteOrder(x.snapshot, y.snapshot), 0))
        }
    }
}

// MARK: - set, frozenset and dict

/// Installs `__or__`, `__and__`, `__sub__`, `__xor__` and the subset orderings of `set` or
/// `frozenset`; the operand must be a set or frozenset.
func installSetOperatorSlots(_ t: PyType) {
    let owner = t.name
    func receiver(_ v: Value, _ name: String) throws -> PySet {
        if case .obj(let o) = v, let s = o as? PySet { return s }
        throw descriptorError(name, owner, v)
    }
    func other(_ a: Args, _ name: String) throws -> PySet? {
        if case .obj(let o) = try operand(a, "\(owner).\(name)"), let s = o as? PySet { return s }
        return nil
    }
    for op in ["|": "or", "&": "and", "-": "sub", "^": "xor"] {
        let name = "__\(op.value)__", reflected = "__r\(op.value)__"
        t.method(name) { u, v, a in
            let x = try receiver(v, name)
            guard let y = try other(a, name) else { return notImplemented }
            return try setBinary(op.key, x, y, u)
        }
        t.method(reflected) { u, v, a in
            let x = try receiver(v, reflected)
            guard let y = try other(a, reflected) else { return notImplemented }
            return try setBinary(op.key, y, x, u)
        }
    }
    for (op, name) in orderings {
        t.method(name) { u, v, a in
            let x = try receiver(v, name)
            guard let y = try other(a, name) else { return notImplemented }
            return try setCompare(op.rawValue, x, y, u)
        }
    }
    guard owner == "set" else { return }
    // `s |= t` and friends: set's own update methods (not a subclass's overrides), self back.
    for (stem, method) in [("or", "update"), ("and", "intersection_update"), ("sub", "difference_update"),
                           ("xor", "symmetric_difference_update")] {
        let name = "__i\(stem)__"
        t.method(name) { u, v, a in
            _ = try receiver(v, name)
            guard let y = try other(a, name), let update = Types.set.lookup(method) else { return notImplemented }
            _ = try u.call(update, [v, .obj(y)])
            return v
        }
    }
}

/// Installs `dict.__or__`, `__ror__` and `__ior__` (`d | e`, `d |= e`).
func installDictOperatorSlots(_ t: PyType) {
    func receiver(_ v: Value, _ name: String) throws -> PyDict {
        if case .obj(let o) = v, let d = o as? PyDict { return d }
        throw descriptorError(name, "dict", v)
    }
    func merged(_ u: Unit, _ x: PyDict, _ y: PyDict) throws -> Value {
        let r = PyDict()
        try r.merge(u, from: x)
        try r.merge(u, from: y)
        return .obj(r)
    }
    t.method("__or__") { u, v, a in
        let x = try receiver(v, "__or__")
        guard case .obj(let o) = try operand(a, "dict.__or__"), let y = o as? PyDict else { return notImplemented }
        return try merged(u, x, y)
    }
    t.method("__ror__") { u, v, a in
        let x = try receiver(v, "__ror__")
        guard case .obj(let o) = try operand(a, "dict.__ror__"), let y = o as? PyDict else { return notImplemented }
        return try merged(u, y, x)
    }
    t.method("__ior__") { u, v, a in
        let x = try receiver(v, "__ior__")
        _ = try operand(a, "dict.__ior__")
        try dictFill(x, a, "update", u)  // what `x.update(y)` does, even if a subclass overrides it
        return v
    }
}

// MARK: - Equality

/// `__eq__` and `__ne__` of the builtin types, by the type's own rule: `"a".__eq__("a")`
/// is True, an operand of another kind gives NotImplemented (`(1).__eq__(1.0)` too, as in
/// CPython), and a subclass's own `__eq__` is not consulted (so `super().__eq__(o)` in it
/// cannot recurse).
func installEqualitySlots() {
    func isObject<T>(_ v: Value, _ kind: T.Type) -> Bool {
        if case .obj(let o) = v { return o is T }
        return false
    }
    let families: [(PyType, (Value) -> Bool)] = [
        (Types.int, { $0.unboxedNumber.intLike != nil }),
        (Types.float, { $0.unboxedNumber.numericDouble != nil }),
        (Types.str, { isObject($0, PyStr.self) }),
        (Types.bytes, { isObject($0, PyBytes.self) }),
        (Types.bytearray, { isObject($0, PyBytes.self) }),
        (Types.list, { isObject($0, PyList.self) }),
        (Types.tuple, { isObject($0, PyTuple.self) }),
        (Types.dict, { isObject($0, PyDict.self) }),
        (Types.set, { isObject($0, PySet.self) }),
        (Types.frozenset, { isObject($0, PySet.self) }),
        (Types.range, { isObject($0, PyRange.self) }),
    ]
    for (t, accepts) in families {
        let owner = t.name
        t.method("__eq__") { u, s, a in
            let other = try operand(a, "\(owner).__eq__")
            guard accepts(s) else { throw descriptorError("__eq__", owner, s) }
            return accepts(other) ? .bool(try u.builtinEquals(s, other)) : notImplemented
        }
        t.method("__ne__") { u, s, a in
            let other = try operand(a, "\(owner).__ne__")
            guard accepts(s) else { throw descriptorError("__ne__", owner, s) }
            return accepts(other) ? .bool(!(try u.builtinEquals(s, other))) : notImplemented
        }
    }
}
