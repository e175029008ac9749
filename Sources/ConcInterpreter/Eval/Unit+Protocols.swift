// The object protocols every part of the interpreter uses: truth, equality, hashing,
// ordering, repr/str, iteration and index conversion.
import ConcSyntax
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

extension Unit {
    // MARK: - Special method lookup

    /// The class attribute `name` of `v`'s type, bound to `v` when it is a function.
    /// Special methods are looked up on the type, never the instance, as in CPython.
    func lookupSpecial(_ v: Value, _ name: String) -> Value? {
        guard let attr = v.type.lookup(name) else { return nil }
        return bindSpecial(attr, to: v, name)
    }

    /// Binds special method `attr`, found as `name` on `v`'s class, to `v`.
    func bindSpecial(_ attr: Value, to v: Value, _ name: String) -> Value {
        if case .obj(let a) = attr, a is PyProperty || a.isPlainInstance { return specialThroughDescriptor(attr, a, v, name) }
        return bindClassAttribute(attr, to: v)
    }

    /// A special method stored as a property or as an object whose class defines `__get__`:
    /// CPython binds it through the descriptor when it is used. Looking up cannot fail here,
    /// so the binding happens when the result is called.
    private func specialThroughDescriptor(_ attr: Value, _ a: PyObject, _ v: Value, _ name: String) -> Value {
        if (a as? PyProperty)?.isPlainDescriptor != true, UserDescriptor(a)?.getter == nil { return attr }  // a callable object: no self
        // For an operator, an AttributeError from the descriptor means "no such method"
        // (CPython's lookup_maybe_method): the operation goes on as NotImplemented.
        let isOperator = Self.operatorSpecialNames.contains(name)
        return .obj(PyBuiltinFunction(name) { u, args in
            let bound: Value
            do { bound = try u.resolveDescriptor(attr, v) } catch let e as PyBaseException
                where isOperator && e.type.isSubtype(of: Exc.attributeError) { return .obj(Singletons.notImplemented) }
            return try u.call(bound, args)
        })
    }

    static let operatorSpecialNames: Set<String> = {
        var names: Set<String> = ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]
        for op in ["add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "divmod", "pow",
                   "lshift", "rshift", "and", "or", "xor"] {
            names.formUnion(["__\(op)__", "__r\(op)__", "__i\(op)__"])
        }
        return names
    }()

    /// Calls special method `name` of `v` if its class defines one.
    func callMethod(_ v: Value, _ name: String, _ args: [Value]) throws -> Value {
        if let m = lookupSpecial(v, name) { return try call(m, Args(args)) }
        return try call(try getAttr(v, name), Args(args))
    }

    // MARK: - Truth

    /// `bool(v)`.
    func isTruthy(_ v: Value) throws -> Bool {
        switch v {
        case .none, .unbound: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .obj(let o):
            // A user subclass of a builtin type (`class Bag(list)`) may define __bool__ or
            // __len__, which decide before the builtin emptiness test.
            if o.extendsBuiltinType, let r = try userTruth(v) { return r }
            switch o {
            case let s as PyStr: return !s.value.isEmpty
            case let n as PyBoxedNumber: return try isTruthy(n.number)
            case let l as PyList: return l.count != 0
            case let t as PyTuple: return !t.items.isEmpty
            case let d as PyDict: return d.count != 0
            case let s as PySet: return s.count != 0
            case let r as PyRange: return r.count != 0
            case let b as PyBytes: return b.count != 0
            case let view as PyDictView: return view.dict.count != 0
            case is PyInstance: return try userTruth(v) ?? true
            case is PyFunction, is PyType, is PyModule, is PyBuiltinFunction: return true
            default:
                if o === Singletons.notImplemented { try warnNotImplementedTruth() }
                // Another native type with a length (mappingproxy, deque...) is false when empty.
                return try userTruth(v) ?? true
            }
        }
    }

    /// CPython 3.11's DeprecationWarning for `if NotImplemented:` (usually a forgotten
    /// reflected call: `if a.__eq__(b):`), through `warnings` so its filters apply.
    @inline(never) private func warnNotImplementedTruth() throws {
        try warnDeprecated("NotImplemented should not be used in a boolean context")
    }

    /// A DeprecationWarning through `warnings` (its filters apply), attributed to the
    /// running Conc line.
    @inline(never) func warnDeprecated(_ message: String) throws {
        let warnings = try engine.importModule("warnings", self)
        _ = try call(try getAttr(warnings, "warn"), [.str(message), .obj(Exc.deprecationWarning), .int(1)])
    }

    /// CPython 3.11's DeprecationWarning when a user `__int__`/`__index__`/`__float__`
    /// returns an instance of a strict subclass (a bool, `class MyInt(int)`): `what` is the
    /// method as CPython names it ("__index__", "C.__float__"), `r` what it returned.
    @inline(never) func warnStrictSubclassResult(_ what: String, _ r: Value, float: Bool = false) throws {
        let kind = float ? "float" : "int"
        try warnDeprecated("\(what) returned non-\(kind) (type \(r.typeName)).  The ability to return an instance of a strict subclass of \(kind) is deprecated, and may be removed in a future version of Python.")
    }

    /// What `v`'s `__float__` returned (`r`), as CPython checks it: a float; an instance of
    /// a float subclass, with the DeprecationWarning; anything else a TypeError.
    func floatResult(of v: Value, _ r: Value) throws -> Double {
        if case .float(let d) = r { return d }
        if r.isBoxedNumber, case .float(let d) = r.unboxedNumber {
            try warnStrictSubclassResult("\(v.typeName).__float__", r, float: true)
            return d
        }
        throw typeError("\(v.typeName).__float__ returned non-float (type \(r.typeName))")
    }

    /// `bool(v)` from the `__bool__` or `__len__` that `v`'s class defines; nil when it
    /// defines neither.
    private func userTruth(_ v: Value) throws -> Bool? {
        if let m = lookupSpecial(v, "__bool__") {
            let r = try call(m, [])
            guard case .bool(let b) = r else {
                throw typeError("__bool__ should return bool, returned \(r.typeName)")
            }
            return b
        }
        if let m = lookupSpecial(v, "__len__") { return try toLength(try call(m, [])) != 0 }
        return nil
    }

    // MARK: - Equality and hashing

    /// `a == b`.
    func equals(_ a: Value, _ b: Value) throws -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.none, .none): return true
        case (.float(let x), .float(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.obj(let x), .obj(let y)):
            if !x.typeIsBuiltin || !y.typeIsBuiltin { return try isTruthy(try programClassCompare(.eq, a, b)) }
            if let s = x as? PyStr, let t = y as? PyStr { return s.equals(t) }
            return try objectEquals(a, b, x, y)
        case (.obj(let x), _):
            if !x.typeIsBuiltin { return try isTruthy(try programClassCompare(.eq, a, b)) }
            return false
        case (_, .obj(let y)):
            if !y.typeIsBuiltin { return try isTruthy(try programClassCompare(.eq, a, b)) }
            return false
        default:
            if let x = numericDouble(a), let y = numericDouble(b) {
                if let i = intValue(a), let j = intValue(b) { return i == j }
                if let c = exactIntFloatOrder(a, b) { return c == 0 }
                return x == y
            }
            return false
        }
    }

    /// `a == b` by the builtin types' own rule, without the `__eq__` a subclass of them
    /// defines (what `str.__eq__(s, t)` or `super().__eq__(t)` in such a subclass computes).
    func builtinEquals(_ a: Value, _ b: Value) throws -> Bool {
        let x = a.unboxedNumber, y = b.unboxedNumber
        switch (x, y) {
        case (.obj(let p), .obj(let q)):
            if let s = p as? PyStr, let t = q as? PyStr { return s.equals(t) }
            if p is PyInstance || q is PyInstance { return isSame(x, y) }
            return try objectEquals(x, y, p, q)
        case (.obj, _), (_, .obj): return false
        default: return try equals(x, y)
        }
    }

    /// `a == b` for two objects of builtin kinds, by their types' rules (the objects of the
    /// program's classes go through ``programClassCompare`` first).
    private func objectEquals(_ a: Value, _ b: Value, _ x: PyObject, _ y: PyObject) throws -> Bool {
        if x is PyInstance || y is PyInstance { return x === y }
        if x === y { return true }
        if let v = x as? PyDictView, let r = try dictViewEquals(v, b, self) { return r }
        if let v = y as? PyDictView, let r = try dictViewEquals(v, a, self) { return r }
        switch (x, y) {
        case (let l as PyList, let m as PyList): return try listEquals(l, m)
        case (let l as PyTuple, let m as PyTuple): return try sequenceEquals(l.items, m.items)
        case (let d as PyDict, let e as PyDict):
            guard d.count == e.count else { return false }
            try enterNested(" in comparison")  // a dict may contain itself
            defer { leaveNested() }
            for (k, v) in d.pairs {
                guard let w = try e.get(self, k) else { return false }
                if !isSame(v, w), !(try equals(v, w)) { return false }
            }
            return true
        case (let s as PySet, let t as PySet):
            guard s.count == t.count else { return false }
            for (v, h) in s.hashedElements where !(try t.contains(self, v, hash: h)) { return false }
            return true
        case (let p as PyBytes, let q as PyBytes): return p.snapshot == q.snapshot
        case (let v as PyWeakRef, let w as PyWeakRef):
            // Referents compared while both live; after a death, identity (above).
            guard let s = v.target, let t = w.target else { return false }
            return try equals(.obj(s), .obj(t))
        case (let r as PyRange, let q as PyRange):
            if r.count != q.count { return false }
            if r.count == 0 { return true }
            return r.start == q.start && (r.count == 1 || r.step == q.step)
        case (let p as PyBoundMethod, let q as PyBoundMethod):
            return isSame(p.receiver, q.receiver) && isSame(p.function, q.function)
        case (let p as PyBoundBuiltin, let q as PyBoundBuiltin):
            // Equal str receivers count as the same one: CPython interns such literals.
            guard p.descriptor === q.descriptor else { return false }
            if let a = p.receiver.asStr, let b = q.receiver.asStr { return a.value == b.value }
            return isSame(p.receiver, q.receiver)
        case (let p as PyUnion, let q as PyUnion): return try p.equals(self, q)
        case (let p as PyGenericAlias, let q as PyGenericAlias): return try p.equals(self, q)
        case (let p as PySlice, let q as PySlice):
            return try sequenceEquals([p.start, p.stop, p.step], [q.start, q.stop, q.step])
        case (let p as Cell, let q as Cell):
            // By their contents; two empty cells are equal (CPython's cell_richcompare).
            let v = p.value, w = q.value
            if v.isUnbound || w.isUnbound { return v.isUnbound && w.isUnbound }
            return try equals(v, w)
        default:
            // A mappingproxy compares as its mapping.
            if let p = x as? PyMappingProxy { return try equals(p.viewed(self), b) }
            if let p = y as? PyMappingProxy { return try equals(a, p.viewed(self)) }
            return false
        }
    }

    /// `l == m` for lists, as CPython's list_richcompare: item by item while both lists
    /// still have one, reading them again after a comparison that may have run Conc code
    /// (an `__eq__` that empties either list); once either is exhausted, the sizes decide.
    private func listEquals(_ l: PyList, _ m: PyList) throws -> Bool {
        var a = l.snapshot, b = m.snapshot
        guard a.count == b.count else { return false }
        try enterNested(" in comparison")
        defer { leaveNested() }
        var i = 0
        while i < a.count && i < b.count {
            let x = a[i], y = b[i]
            if !isSame(x, y) {
                let equal = try equals(x, y)
                if mayRunCode(x) || mayRunCode(y) {
                    a = l.snapshot; b = m.snapshot
                }
                if !equal { break }
            }
            i += 1
        }
        if i >= a.count || i >= b.count { return a.count == b.count }
        return false
    }

    /// False for values whose comparison runs no Conc code (ints, floats, strs, None...).
    @inline(__always) private func mayRunCode(_ v: Value) -> Bool {
        guard case .obj(let o) = v else { return false }
        return !(o.isStrObject && o.typeIsBuiltin)
    }

    /// Tuples (and slices) equal, as CPython's tuple: item by item over the shorter, with
    /// no length test first (an item's __eq__ runs, or raises, even when the lengths
    /// differ), then the lengths.
    @inline(__always) private func sequenceEquals(_ a: [Value], _ b: [Value]) throws -> Bool {
        try enterNested(" in comparison")
        defer { leaveNested() }
        for i in 0..<min(a.count, b.count) where !isSame(a[i], b[i]) {
            if !(try equals(a[i], b[i])) { return false }
        }
        return a.count == b.count
    }

    /// `hash(v)`.
    func hash(_ v: Value) throws -> Int {
        switch v {
        case .none, .unbound: return 0x5f3759df
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return cpythonIntHash(i)
        case .float(let d):
            if d == d.rounded(.towardZero), d >= -0x1p63 && d < 0x1p63 { return cpythonIntHash(Int(d)) }
            return cpythonFloatHash(d)
        case .obj(let o):
            // A str (a dict's most common key): its cached hash, without a dynamic cast.
            if Swift.type(of: o) == PyStr.self && o.typeIsBuiltin { return unsafeDowncast(o, to: PyStr.self).hash }
            // An instance of a class the program made: its __hash__ comes first, or it is
            // unhashable when the class sets __hash__ = None (as defining __eq__ alone does).
            if !o.typeIsBuiltin, let hm = o.type.lookup("__hash__") {
                if case .none = hm { throw typeError("unhashable type: '\(o.type.messageName)'") }
                if o.extendsBuiltinType {
                    // A subclass of str, tuple, bytes, frozenset, int or float; or of a
                    // mutable type that sets `__hash__ = object.__hash__`.
                    // (Found before the container's own __hash__ only if the class set it.)
                    if case .obj(let m) = hm, let d = m as? PyMethodDescriptor, d.owner === Types.object {
                        return identityHash(o)
                    }
                    if let m = userMethod(v, "__hash__") {
                        guard let i = intValue(try call(m, []).unboxedNumber) else { throw typeError("__hash__ method should return an integer") }
                        return i == -1 ? -2 : i
                    }
                } else if o is PyInstance {
                    // object.__hash__ (a builtin method) is the identity hash; calling it
                    // would come back here.
                    if case .obj(let m) = hm, m is PyMethodDescriptor { return identityHash(o) }
                    let r = try call(lookupSpecial(v, "__hash__") ?? hm, [])
                    guard let i = intValue(r) else { throw typeError("__hash__ method should return an integer") }
                    return i == -1 ? -2 : i  // as CPython, which keeps -1 for errors
                }
            }
            return try builtinHash(v)
        }
    }

    /// The hash a builtin type's own `__hash__` gives (`int.__hash__(self)`,
    /// `super().__hash__()`): a class's override is not consulted, so calling the base
    /// from the override does not come back to it.
    @inline(__always) func builtinHash(_ v: Value) throws -> Int {
        switch v {
        case .obj(let o):
            switch o {
            case let s as PyStr: return s.hash
            case let n as PyBoxedNumber: return try hash(n.number)  // its class's own __hash__ was tried above
            case let t as PyTuple:
                // Nested tuples recurse here: stop at the stack's end (a generator's is small),
                // as a RecursionError rather than a crash.
                if UInt(CConcSys_current_sp()) < stackLimit { throw pyError(Exc.recursionError, "maximum recursion depth exceeded while hashing") }
                // CPython 3.11's xxHash-based tuple hash.
                var acc: UInt = 2870177450012600261
                for item in t.items {
                    let lane = UInt(bitPattern: try hash(item))
                    acc = acc &+ lane &* 14029467366897019727
                    acc = (acc << 31) | (acc >> 33)
                    acc = acc &* 11400714785074694791
                }
                acc = acc &+ (UInt(t.items.count) ^ (2870177450012600261 ^ 3527539))
                return acc == UInt.max ? 1546275796 : Int(bitPattern: acc)
            case let b as PyBytes where !b.isMutable: return b.snapshot.withUnsafeBufferPointer { strHash($0) }
            case let s as PySet where s.isFrozen:
                if let h = s.locked({ s.cachedHash }) { return h }
                // CPython 3.11's frozenset hash: shuffled element hashes, xor-ed (order-free).
                func shuffle(_ h: UInt) -> UInt { ((h ^ 89869747) ^ (h << 16)) &* 3644798167 }
                // The hashes the table keeps (as CPython's): xor needs no order, and the
                // elements need not be hashed again.
                var h: UInt = 0
                let table = s.snapshot
                var count: UInt = 0
                for i in table.liveIndices { h ^= shuffle(UInt(bitPattern: table.hashes[i])); count += 1 }
                h ^= (count &+ 1) &* 1927868237
                h ^= (h >> 11) ^ (h >> 25)
                h = h &* 69069 &+ 907133923
                let result = h == UInt.max ? 590923713 : Int(bitPattern: h)
                s.locked { s.cachedHash = result }
                return result
            case is PyList, is PyDict, is PySet, is PyBytes, is PySlice, is PyMappingProxy, is Cell:
                throw typeError("unhashable type: '\(o.type.messageName)'")
            case let v as PyDictView where v.isSetLike:  // keys and items views compare as sets
                throw typeError("unhashable type: '\(o.type.messageName)'")
            case let r as PyRange:
                // CPython's: equal ranges (same elements) hash alike.
                let n = r.count
                let key: [Value] = n == 0 ? [.int(0), .none, .none] : n == 1 ? [.int(1), .int(r.start), .none]
                    : [.int(n), .int(r.start), .int(r.step)]
                return try hash(.obj(PyTuple(key)))
            case let m as PyBoundMethod:
                return receiverHash(m.receiver) ^ (try hash(m.function))
            case let union as PyUnion: return try union.hash(self)
            case let alias as PyGenericAlias: return try alias.hash(self)
            case let w as PyWeakRef: return try w.hash(self)
            case let m as PyBoundBuiltin:
                return receiverHash(m.receiver) ^ identityHash(m.descriptor)
            default: return identityHash(o)
            }
        default: return try hash(v)
        }
    }

    /// The part of a bound method's hash that comes from its receiver: its identity, as
    /// CPython hashes `__self__` by address (a scalar receiver by value).
    private func receiverHash(_ v: Value) -> Int {
        if case .obj(let o) = v { return identityHash(o) }
        return (try? hash(v)) ?? 0
    }

    // MARK: - Ordering

    /// `a < b`.
    func lessThan(_ a: Value, _ b: Value) throws -> Bool {
        try isTruthy(try compare(.lt, a, b))
    }

    /// Rich comparison `a op b` for <, <=, >, >=, ==, !=.
    func compare(_ op: CompareOp, _ a: Value, _ b: Value) throws -> Value {
        switch op {
        case .is: return .bool(isSame(a, b))
        case .isNot: return .bool(!isSame(a, b))
        case .in: return .bool(try contains(b, a))
        case .notIn: return .bool(!(try contains(b, a)))
        default: break
        }
        if a.isOfProgramClass || b.isOfProgramClass { return try programClassCompare(op, a, b) }
        switch op {
        case .eq: return .bool(try equals(a, b))
        case .ne: return .bool(!(try equals(a, b)))
        default: break
        }
        if let x = a.intLike, let y = b.intLike { return .bool(orderInts(op, x, y)) }
        if let c = exactIntFloatOrder(a, b) { return .bool(orderInts(op, c, 0)) }
        if let x = a.numericDouble, let y = b.numericDouble { return .bool(orderDoubles(op, x, y)) }
        if case .obj(let x) = a, case .obj(let y) = b {
            if let s = x as? PyStr, let t = y as? PyStr { return .bool(orderStrings(op, s.value, t.value)) }
            if let r = try builtinOrder(op, x, y) { return r }
        }
        // A mappingproxy orders as its mapping; on the right, by the reflected comparison
        // (CPython's order of attempts, which decides the error's wording).
        if case .obj(let x) = a, let p = x as? PyMappingProxy { return try compare(op, p.viewed(self), b) }
        if case .obj(let y) = b, let p = y as? PyMappingProxy { return try compare(op.reflected, p.viewed(self), a) }
        throw typeError("'\(op.rawValue)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
    }

    /// `a op b` when either operand's class was made by the program (a class statement, or
    /// a module written in Conc), as CPython's do_richcompare: each side's method as its
    /// class resolves it (``sideCompare``), the right operand's reflected one first when its
    /// class derives from the left's; then identity for `==`/`!=`, else a TypeError.
    func programClassCompare(_ op: CompareOp, _ a: Value, _ b: Value) throws -> Value {
        let ta = a.type, tb = b.type
        let rightFirst = ta !== tb && tb.isSubtype(of: ta)
        if rightFirst, let r = try sideCompare(op.reflected, b, a) { return r }
        if let r = try sideCompare(op, a, b) { return r }
        if !rightFirst, let r = try sideCompare(op.reflected, b, a) { return r }
        switch op {
        case .eq: return .bool(isSame(a, b))
        case .ne: return .bool(!isSame(a, b))
        default: throw typeError("'\(op.rawValue)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    /// `x.__op__(y)` as the class of `x` resolves it (CPython's tp_richcompare): a method the
    /// program defined, else the rule of the builtin type it derives from; nil when that
    /// returns NotImplemented.
    private func sideCompare(_ op: CompareOp, _ x: Value, _ y: Value) throws -> Value? {
        if case .obj(let o) = x, !o.typeIsBuiltin {
            let name = compareDunder(op)
            // An instance of a plain class: its method or object's (which decline, or for
            // __ne__ invert the class's __eq__).
            let m = o.asInstance != nil ? lookupSpecial(x, name) : userMethod(x, name)
            if let m {
                // PyObject_RichCompare's level of C recursion, as CPython counts it.
                try enterNested(" in comparison")
                defer { leaveNested() }
                let r = try call(m, [y])
                return isNotImplemented(r) ? nil : r
            }
            if o.asInstance != nil { return nil }
            // A builtin base without comparisons of its own (type, for a metaclass's class)
            // has object's __ne__: the inverse of the class's __eq__.
            if op == .ne, !hasOwnComparisons(x.unboxedNumber) {
                guard let r = try sideCompare(.eq, x, y) else { return nil }
                return .bool(!(try isTruthy(r)))
            }
        }
        return try builtinSide(op, x, y)
    }

    /// `x op y` by the rule of the builtin type of `x` (or the one its class derives from):
    /// nil (NotImplemented) when `y` is not of a kind that type compares with, as int's
    /// declines a float and str's anything but a str.
    private func builtinSide(_ op: CompareOp, _ x: Value, _ y: Value) throws -> Value? {
        let ux = x.unboxedNumber, uy = y.unboxedNumber
        /// `==`/`!=` by identity, orderings declined: object's rule.
        func objectRule() -> Value? {
            guard isSame(x, y) else { return nil }
            switch op { case .eq: return .bool(true); case .ne: return .bool(false); default: return nil }
        }
        func equality(_ equal: Bool) -> Value { .bool(op == .eq ? equal : !equal) }
        switch ux {
        case .int, .bool:
            switch uy { case .int, .bool: return try compare(op, ux, uy); default: return nil }
        case .float:
            switch uy { case .int, .bool, .float: return try compare(op, ux, uy); default: return nil }
        case .obj(let p):
            guard case .obj(let q) = uy, q.asInstance == nil else {
                if let proxy = p as? PyMappingProxy { return try compare(op, proxy.viewed(self), y) }
                return objectRule()
            }
            let ordering = op != .eq && op != .ne
            switch p {
            case let s as PyStr:
                guard let t = q as? PyStr else { return nil }
                return ordering ? .bool(orderStrings(op, s.value, t.value)) : equality(s.equals(t))
            case is PyList, is PyTuple, is PyDict, is PySet, is PyBytes:
                // (bytes compares with bytes only; bytearray with either, as with any buffer)
                guard Swift.type(of: p) == Swift.type(of: q), !(p is PyBytes) || (p as! PyBytes).isMutable || !(q as! PyBytes).isMutable else {
                    return nil
                }
                if ordering { return try builtinOrder(op, p, q) }
                return equality(try objectEquals(ux, uy, p, q))
            case let v as PyDictView:
                if ordering { return try builtinOrder(op, p, q) }
                return try dictViewEquals(v, uy, self).map(equality)
            case let proxy as PyMappingProxy:
                return try compare(op, proxy.viewed(self), y)
            default:
                if ordering { return try builtinOrder(op, p, q) }
                // Builtin kinds that cannot be subclassed (ranges, slices, bound methods...).
                return p.typeIsBuiltin && q.typeIsBuiltin ? equality(try objectEquals(ux, uy, p, q)) : nil
            }
        default:
            return objectRule()  // None
        }
    }

    /// Whether the builtin type of `v` compares by its own rule (numbers, str, bytes and the
    /// containers), rather than by object's identity.
    private func hasOwnComparisons(_ v: Value) -> Bool {
        guard case .obj(let o) = v else { return true }
        return o is PyStr || o is PyBytes || o is PyList || o is PyTuple || o is PyDict || o is PySet
    }

    private func compareDunder(_ op: CompareOp) -> String {
        switch op {
        case .eq: return "__eq__"
        case .ne: return "__ne__"
        default: return orderDunders(op).0
        }
    }

    private func orderDunders(_ op: CompareOp) -> (String, String) {
        switch op {
        case .lt: return ("__lt__", "__gt__")
        case .le: return ("__le__", "__ge__")
        case .gt: return ("__gt__", "__lt__")
        default: return ("__ge__", "__le__")
        }
    }

    @inline(__always) func orderInts(_ op: CompareOp, _ x: Int, _ y: Int) -> Bool {
        switch op { case .lt: return x < y; case .le: return x <= y; case .gt: return x > y; default: return x >= y }
    }
    @inline(__always) func orderDoubles(_ op: CompareOp, _ x: Double, _ y: Double) -> Bool {
        switch op { case .lt: return x < y; case .le: return x <= y; case .gt: return x > y; default: return x >= y }
    }
    func orderStrings(_ op: CompareOp, _ x: String, _ y: String) -> Bool {
        // Python orders by code point; Swift's String `<` uses Unicode canonical ordering.
        let c = compareScalars(x, y)
        switch op { case .lt: return c < 0; case .le: return c <= 0; case .gt: return c > 0; default: return c >= 0 }
    }
    func compareScalars(_ x: String, _ y: String) -> Int {
        // UTF-8 keeps code-point order, so comparing the bytes orders by code point.
        withUTF8(x) { a in
            withUTF8(y) { b in
                let n = min(a.count, b.count)
                let c = n == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, n)
                if c != 0 { return c < 0 ? -1 : 1 }
                return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
            }
        }
    }

    /// `x op y` for an ordering of two builtin objects of kinds that order (sequences by
    /// their items, sets by inclusion...); nil when they do not.
    private func builtinOrder(_ op: CompareOp, _ x: PyObject, _ y: PyObject) throws -> Value? {
        switch (x, y) {
        case (let l as PyList, let m as PyList): return try orderSequences(op, l.snapshot, m.snapshot)
        case (let l as PyTuple, let m as PyTuple): return try orderSequences(op, l.items, m.items)
        case (let p as PySlice, let q as PySlice):
            // As the tuples (start, stop, step), as CPython's slice_richcompare.
            return try orderSequences(op, [p.start, p.stop, p.step], [q.start, q.stop, q.step])
        case (let p as PyBytes, let q as PyBytes):
            return .bool(orderInts(op, byteOrder(p.snapshot, q.snapshot), 0))
        case (let s as PySet, let t as PySet):
            return try setCompare(op.rawValue, s, t, self)
        case (let p as Cell, let q as Cell):
            // By their contents, an empty cell below a full one (CPython's cell_richcompare).
            let v = p.value, w = q.value
            if v.isUnbound || w.isUnbound { return .bool(orderInts(op, v.isUnbound ? 0 : 1, w.isUnbound ? 0 : 1)) }
            return try compare(op, v, w)
        default:
            // Keys and items views order as sets against sets and set-like views.
            func setLike(_ o: PyObject) -> Bool { (o as? PyDictView)?.isSetLike ?? (o is PySet) }
            guard x is PyDictView || y is PyDictView, setLike(x), setLike(y) else { return nil }
            // By sizes and membership, as CPython's all_contained_in: an items view's values
            // need not be hashable.
            func allContained(_ a: PyObject, in b: PyObject) throws -> Bool {
                let it = try iterate(.obj(a))
                while let item = try it.next(self) {
                    if !(try contains(.obj(b), item)) { return false }
                }
                return true
            }
            let nx = try length(.obj(x)), ny = try length(.obj(y))
            switch op {
            case .lt: return .bool(nx < ny ? try allContained(x, in: y) : false)
            case .le: return .bool(nx <= ny ? try allContained(x, in: y) : false)
            case .gt: return .bool(nx > ny ? try allContained(y, in: x) : false)
            default: return .bool(nx >= ny ? try allContained(y, in: x) : false)
            }
        }
    }

    /// Sequences in order, as CPython's list and tuple: the first items that differ (`is`,
    /// then `==`) decide, by their own comparison's result as it is; else the lengths.
    private func orderSequences(_ op: CompareOp, _ a: [Value], _ b: [Value]) throws -> Value {
        try enterNested(" in comparison")
        defer { leaveNested() }
        // (The identity test is for objects: a NaN float is one value here, where CPython's
        // two NaN objects differ and compare unequal.)
        for i in 0..<min(a.count, b.count) {
            if case .obj = a[i], isSame(a[i], b[i]) { continue }
            if !(try equals(a[i], b[i])) { return try compare(op, a[i], b[i]) }
        }
        return .bool(orderInts(op, a.count, b.count))
    }

    // MARK: - Containment

    /// `item in container`.
    func contains(_ container: Value, _ item: Value) throws -> Bool {
        // `k in d` first, by exact class, on the dict unretained (`container` keeps it):
        // the cast chain below copies the object.
        if let u = container.unretainedObject,
           u._withUnsafeGuaranteedRef({ Swift.type(of: $0) == PyDict.self && $0.typeIsBuiltin }) {
            return try u._withUnsafeGuaranteedRef { try unsafeDowncast($0, to: PyDict.self).hasKey(self, item) }
        }
        if case .obj(let o) = container {
            // A subclass of a builtin type may define its own __contains__.
            if o.extendsBuiltinType, let m = userMethod(container, "__contains__") { return try isTruthy(try call(m, [item])) }
            switch o {
            case let s as PyStr:
                return try strContains(s, item)
            case let l as PyList:
                for x in l.snapshot { if try isSame(x, item) || equals(x, item) { return true } }
                return false
            case let t as PyTuple:
                for x in t.items { if try isSame(x, item) || equals(x, item) { return true } }
                return false
            case let d as PyDict: return try d.get(self, item) != nil
            case let s as PySet: return try withSetKey(item, self) { try s.contains(self, $0) }
            case let r as PyRange:
                // Arithmetic for exact ints and bools only: a subclass's __eq__ is asked, as in CPython.
                return try rangeContains(r, item, self)
            case let b as PyBytes:
                if let i = intValue(item) {
                    guard (0..<256).contains(i) else { throw valueError("byte must be in range(0, 256)") }
                    return b.snapshot.contains(UInt8(i))
                }
                if case .obj(let p) = item, let sub = p as? PyBytes {
                    let n = sub.snapshot
                    return n.isEmpty || b.snapshot.firstRange(of: n) != nil
                }
                // An object with __index__ stands for its byte value, as in CPython.
                if case .obj(let p) = item, p is PyInstance || p is PyBoxedNumber, lookupSpecial(item, "__index__") != nil {
                    let i = try toIndex(item)
                    guard (0..<256).contains(i) else { throw valueError("byte must be in range(0, 256)") }
                    return b.snapshot.contains(UInt8(i))
                }
                throw typeError("a bytes-like object is required, not '\(item.typeName)'")
            case let v as PyDictView:
                return try dictViewContains(v, item, self)
            default:
                if let m = lookupSpecial(container, "__contains__") {
                    if m.isNone { throw typeError("argument of type '\(container.typeName)' is not iterable") }
                    return try isTruthy(try call(m, [item]))
                }
            }
        }
        let it: PyIter
        // As CPython's _PySequence_IterSearch: any TypeError from getting the iterator (no
        // __iter__, an __iter__ returning a non-iterator or raising one) becomes this one.
        do { it = try iterate(container) } catch let e as PyBaseException where e.type.isSubtype(of: Exc.typeError) {
            throw typeError("argument of type '\(container.typeName)' is not iterable")
        }
        while let x = try it.next(self) { if try isSame(x, item) || equals(x, item) { return true } }
        return false
    }

    /// True when `v` offers iteration (its TypeError then comes from inside, and stays).
    func isIterableShape(_ v: Value) -> Bool {
        if let m = lookupSpecial(v, "__iter__") { return !m.isNone }
        return lookupSpecial(v, "__getitem__") != nil
    }

    // MARK: - Iteration

    /// `iter(v)`.
    func iterate(_ v: Value) throws -> PyIter {
        if case .obj(let o) = v {
            // A user subclass of a builtin type may define its own __iter__.
            if o.extendsBuiltinType, let m = lookupSpecial(v, "__iter__") { return try userIterator(m) }
            switch o {
            case let l as PyList: return PyListIterator(l)
            case let t as PyTuple: return PyArrayIterator(t.items, type: Types.tupleIterator)
            case let r as PyRange: return PyRangeIterator(r)
            case let s as PyStr: return PyStrIterator(s)
            case let d as PyDict: return PyDictIterator(d, .keys)
            case let s as PySet: return s.isFrozen ? PyArrayIterator(s.elements, type: Types.setIterator) : PySetIterator(s)
            case let it as PyIter where o.type !== Types.coroutine: return it  // coroutines are awaited, not iterated
            case let b as PyBytes:
                if b.isMutable { return PyBytearrayIterator(b) }
                return PyArrayIterator(b.snapshot.map { .int(Int($0)) }, type: Types.bytesIterator)
            case let v as PyDictView: return try iterate(try dictViewIterable(v))
            default:
                if let m = lookupSpecial(v, "__iter__") {
                    // `__iter__ = None` says "not iterable", even with a __getitem__.
                    if m.isNone { break }
                    return try userIterator(m)
                }
                // The old sequence protocol, for a user class (an int subclass's too).
                if !o.typeIsBuiltin, lookupSpecial(v, "__getitem__") != nil { return PySequenceIterator(v) }
            }
        }
        throw typeError("'\(v.typeName)' object is not iterable")
    }

    /// The iterator that a bound `__iter__` method `m` returns.
    private func userIterator(_ m: Value) throws -> PyIter {
        let r = try call(m, [])
        if case .obj(let ro) = r, let it = ro as? PyIter {
            // A subclass of map, zip... with its own __next__: that method makes the items.
            if ro.extendsBuiltinType, userMethod(r, "__next__") != nil { return PyUserIterator(r) }
            return it
        }
        guard lookupSpecial(r, "__next__") != nil else {
            throw typeError("iter() returned non-iterator of type '\(r.typeName)'")
        }
        return PyUserIterator(r)
    }

    /// `list(v)` as a Swift array. `lengthHint`: as CPython's list_extend (list(), tuple(),
    /// `l.extend`, `l += x`, `[*x]`, `f(*x)`, sorted()), an object of the program's is
    /// asked its length (`__len__`, else `__length_hint__`) once its iterator is made:
    /// what those print is seen, and what they raise (but TypeError) goes on.
    func toArray(_ v: Value, lengthHint: Bool) throws -> [Value] {
        if lengthHint, case .obj(let o) = v, !o.typeIsBuiltin {
            let it = try iterate(v)
            _ = try userLengthHint(v)
            return try collect(it)
        }
        return try toArray(v)
    }

    /// CPython's PyObject_LengthHint for an object of the program's: nil when it has no
    /// answer (no method, or one that raised TypeError or returned NotImplemented).
    func userLengthHint(_ v: Value) throws -> Int? {
        if let m = lookupSpecial(v, "__len__") {
            do { return try toLength(try call(m, [])) }
            catch let e as PyBaseException where e.type.isSubtype(of: Exc.typeError) {}
        }
        guard let h = lookupSpecial(v, "__length_hint__") else { return nil }
        let r: Value
        do { r = try call(h, []) } catch let e as PyBaseException where e.type.isSubtype(of: Exc.typeError) { return nil }
        if isNotImplemented(r) { return nil }
        guard let n = intValue(r) else { throw typeError("__length_hint__ must be an integer, not \(r.typeName)") }
        if n < 0 { throw valueError("__length_hint__() should return >= 0") }
        return n
    }

    /// `list(v)` as a Swift array.
    func toArray(_ v: Value) throws -> [Value] {
        if case .obj(let o) = v, !o.extendsBuiltinType {  // a subclass may define __iter__
            if let l = o as? PyList { return l.snapshot }
            if let t = o as? PyTuple { return t.items }
            // Dicts, views and sets in one critical section: `list(d)` while another thread
            // changes d is a snapshot, as it is under CPython's GIL, not a RuntimeError.
            if let d = o as? PyDict { return d.keys }
            if let s = o as? PySet { return s.elements }
            if let view = o as? PyDictView {
                switch view.kind {
                case .keys: return view.dict.keys
                case .values: return view.dict.values
                case .items: return view.dict.pairs.map { .obj(PyTuple([$0.0, $0.1])) }
                }
            }
        }
        return try collect(try iterate(v))
    }

    /// The items `it` gives, in an array sized up front by its length hint, as CPython's
    /// list() is: a range or repeat too long to hold is a MemoryError at once, not memory
    /// filling up item by item.
    func collect(_ it: PyIter) throws -> [Value] {
        var out: [Value] = []
        if let n = it.lengthHint, n > 0 {
            try checkBuildSize(MemoryLayout<Value>.stride, times: n)
            out.reserveCapacity(n)
        }
        while let x = try it.next(self) { out.append(x) }
        return out
    }

    // MARK: - Conversions

    /// An integer for indexing (`operator.index`).
    func toIndex(_ v: Value) throws -> Int {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default:
            // An int subclass is its own index: CPython 3.11 does not call its __index__.
            if case .obj(let o) = v, let n = o as? PyBoxedNumber, case .int(let i) = n.number { return i }
            // Any other class of the program's (a list or dict subclass too) may define one.
            if case .obj(let o) = v, !o.typeIsBuiltin, let m = lookupSpecial(v, "__index__") {
                let r = try call(m, [])
                if case .int(let i) = r { return i }
                if let i = intValue(r) { try warnStrictSubclassResult("__index__", r); return i }
                throw typeError("__index__ returned non-int (type \(r.typeName))")
            }
            throw typeError("'\(v.typeName)' object cannot be interpreted as an integer")
        }
    }

    /// The result of `__len__`, validated.
    func toLength(_ v: Value) throws -> Int {
        guard let n = intValue(v) else { throw typeError("'\(v.typeName)' object cannot be interpreted as an integer") }
        if n < 0 { throw valueError("__len__() should return >= 0") }
        return n
    }

    /// `len(v)`.
    func length(_ v: Value) throws -> Int {
        if case .obj(let o) = v {
            // Objects of the common builtin classes themselves: known by an identity test,
            // and used borrowed (the casts below retain and release the object).
            let n: Int = Unmanaged.passUnretained(o)._withUnsafeGuaranteedRef { o in
                if o.hasType(Types.strID) { return unsafeDowncast(o, to: PyStr.self).count }
                if o.hasType(Types.listID) { return unsafeDowncast(o, to: PyList.self).count }
                if o.hasType(Types.dictID) { return unsafeDowncast(o, to: PyDict.self).count }
                if o.hasType(Types.tupleID) { return unsafeDowncast(o, to: PyTuple.self).items.count }
                return -1
            }
            if n >= 0 { return n }
            // A user subclass of a builtin type may define its own __len__.
            if o.extendsBuiltinType, let m = lookupSpecial(v, "__len__") {
                return try toLength(try call(m, []))
            }
            switch o {
            case let s as PyStr: return s.count
            case let l as PyList: return l.count
            case let t as PyTuple: return t.items.count
            case let d as PyDict: return d.count
            case let s as PySet: return s.count
            case let r as PyRange: return r.count
            case let b as PyBytes: return b.count
            case let v as PyDictView: return v.dict.count
            default:
                if let m = lookupSpecial(v, "__len__") { return try toLength(try call(m, [])) }
            }
        }
        throw typeError("object of type '\(v.typeName)' has no len()")
    }

    /// `format(v, spec)`.
    func format(_ v: Value, spec: String) throws -> String {
        if case .obj(let o) = v, o is PyInstance {
            if let m = lookupSpecial(v, "__format__"), o.type.lookup("__format__").map({ !isBuiltinFormat($0) }) ?? false {
                let r = try call(m, [.str(spec)])
                guard let s = r.asStr else { throw typeError("__format__ must return a str, not \(r.typeName)") }
                return s.value
            }
            // CPython calls object.__format__, a builtin method, inside
            // _Py_EnterRecursiveCall, then str(): f"{self}" in a __str__ recurses a third
            // less deep than a plain function.
            try enterNested(" while calling a Python object")
            defer { leaveNested() }
            if spec.isEmpty { return try str(v) }
            throw typeError("unsupported format string passed to \(v.typeName).__format__")
        }
        if case .obj(let o) = v, o is PyBoxedNumber {
            if let m = userMethod(v, "__format__") {
                let r = try call(m, [.str(spec)])
                guard let s = r.asStr else { throw typeError("__format__ must return a str, not \(r.typeName)") }
                return s.value
            }
            if spec.isEmpty { return try str(v) }
            return try formatScalar(v.unboxedNumber, spec, typeName: v.typeName) ?? str(v)
        }
        if case .obj(let o) = v, o.extendsBuiltinType {
            // An instance of another builtin subclass (`class Loud(str)`): its class's own
            // __format__, else the builtin one, which for an empty spec is str(v).
            if let m = userMethod(v, "__format__") {
                let r = try call(m, [.str(spec)])
                guard let s = r.asStr else { throw typeError("__format__ must return a str, not \(r.typeName)") }
                return s.value
            }
            if spec.isEmpty { return try str(v) }
        }
        if let s = try formatBuiltin(self, v, spec) { return s }
        if spec.isEmpty { return try str(v) }
        throw typeError("unsupported format string passed to \(v.typeName).__format__")
    }

    private func isBuiltinFormat(_ v: Value) -> Bool {
        if case .obj(let o) = v { return o is PyMethodDescriptor }
        return false
    }
}

/// CPython's hash of an int: the value modulo 2**61 - 1, keeping the sign; -1 becomes -2.
func cpythonIntHash(_ i: Int) -> Int {
    let modulus = (1 << 61) - 1
    var x = Int(i.magnitude % UInt(modulus))
    if i < 0 { x = -x }
    return x == -1 ? -2 : x
}

/// CPython's hash of a non-integral float (`_Py_HashDouble`), deterministic like CPython's.
func cpythonFloatHash(_ v: Double) -> Int {
    if v.isInfinite { return v > 0 ? 314159 : -314159 }
    if v.isNaN { return 0 }
    let bits: UInt = 61, modulus: UInt = (1 << 61) - 1
    var e: Int32 = 0
    var m = frexp(v, &e)
    var sign = 1
    if m < 0 { sign = -1; m = -m }
    var x: UInt = 0
    var exp = Int(e)
    while m != 0 {
        x = ((x << 28) & modulus) | x >> (bits - 28)
        m *= 268435456.0
        exp -= 28
        let y = UInt(m)
        m -= Double(y)
        x += y
        if x >= modulus { x -= modulus }
    }
    let ee = exp >= 0 ? exp % Int(bits) : Int(bits) - 1 - ((-1 - exp) % Int(bits))
    x = ((x << UInt(ee)) & modulus) | x >> (bits - UInt(ee))
    var r = Int(bitPattern: x) * sign
    if r == -1 { r = -2 }
    return r
}

/// -1, 0 or 1 for an int (or bool) against a float, either way round, compared exactly as
/// CPython does: 2**53 + 1 > 2.0**53, though converting the int to a double would make them
/// equal. nil for other pairs and for NaN (which the double comparison then answers).
/// Pure: dict probes use it under a lock.
func exactIntFloatOrder(_ a: Value, _ b: Value) -> Int? {
    if let i = a.intLike, case .float(let d) = b { return compareIntToDouble(i, d) }
    if case .float(let d) = a, let i = b.intLike { return compareIntToDouble(i, d).map { -$0 } }
    return nil
}

private func compareIntToDouble(_ i: Int, _ d: Double) -> Int? {
    if d.isNaN { return nil }
    if d >= 9223372036854775808.0 { return -1 }
    if d < -9223372036854775808.0 { return 1 }
    let whole = d.rounded(.towardZero)
    let w = Int(whole)  // exact: whole is in [-2**63, 2**63)
    if i != w { return i < w ? -1 : 1 }
    return d > whole ? -1 : d < whole ? 1 : 0
}

extension CompareOp {
    /// The ordering that asks the other operand the same question (`a < b` is `b > a`).
    var reflected: CompareOp {
        switch self {
        case .lt: return .gt
        case .le: return .ge
        case .gt: return .lt
        case .ge: return .le
        default: return self
        }
    }
}

extension Value {
    /// True for an object whose class the program made (an instance of a class statement's
    /// class, of a subclass of a builtin type, or of a class in a module written in Conc):
    /// its comparison methods come before any builtin rule.
    @inline(__always) var isOfProgramClass: Bool {
        if case .obj(let o) = self { return !o.typeIsBuiltin }
        return false
    }
}
