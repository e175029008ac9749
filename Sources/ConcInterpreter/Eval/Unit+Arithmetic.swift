// Binary and unary operators with Python semantics: numeric fast paths, builtin sequence
// operators, then user dunder methods with reflected fallbacks.
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

let intOverflowMessage = "int too large (Conc integers are 64-bit)"

extension BinaryOp {
    /// The dunder names (`__add__`, `__radd__`, `__iadd__`).
    var dunder: (String, String, String) {
        switch self {
        case .add: return ("__add__", "__radd__", "__iadd__")
        case .sub: return ("__sub__", "__rsub__", "__isub__")
        case .mul: return ("__mul__", "__rmul__", "__imul__")
        case .div: return ("__truediv__", "__rtruediv__", "__itruediv__")
        case .floorDiv: return ("__floordiv__", "__rfloordiv__", "__ifloordiv__")
        case .mod: return ("__mod__", "__rmod__", "__imod__")
        case .pow: return ("__pow__", "__rpow__", "__ipow__")
        case .matMul: return ("__matmul__", "__rmatmul__", "__imatmul__")
        case .lshift: return ("__lshift__", "__rlshift__", "__ilshift__")
        case .rshift: return ("__rshift__", "__rrshift__", "__irshift__")
        case .bitAnd: return ("__and__", "__rand__", "__iand__")
        case .bitOr: return ("__or__", "__ror__", "__ior__")
        case .bitXor: return ("__xor__", "__rxor__", "__ixor__")
        }
    }
    /// The operator as CPython's error messages print it.
    var symbol: String { self == .pow ? "** or pow()" : rawValue }
}

/// Integer floor division and modulo with Python's sign rules.
@inline(__always) func pyFloorDiv(_ a: Int, _ b: Int) throws -> Int {
    if b == 0 { throw zeroDivision("integer division or modulo by zero") }
    if a == Int.min && b == -1 { throw overflowError(intOverflowMessage) }
    var q = a / b
    if (a % b != 0) && ((a < 0) != (b < 0)) { q -= 1 }
    return q
}
@inline(__always) func pyMod(_ a: Int, _ b: Int) throws -> Int {
    if b == 0 { throw zeroDivision("integer modulo by zero") }
    if b == -1 { return 0 }
    let r = a % b
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
}
func pyFloatMod(_ a: Double, _ b: Double) throws -> Double {
    if b == 0 { throw zeroDivision("float modulo") }
    var m = fmod(a, b)
    if m != 0 { if (b < 0) != (m < 0) { m += b } } else { m = copysign(0, b) }
    return m
}
func pyFloatFloorDiv(_ a: Double, _ b: Double) throws -> Double {
    if b == 0 { throw zeroDivision("float floor division by zero") }
    let m = fmod(a, b)
    var div = (a - m) / b
    if m != 0 && ((b < 0) != (m < 0)) { div -= 1 }
    if div != 0 {
        var fl = div.rounded(.down)
        if div - fl > 0.5 { fl += 1 }
        return fl
    }
    return copysign(0, a / b)
}

/// `a ** b` for ints (b >= 0), overflow-checked.
func intPow(_ base: Int, _ exp: Int) throws -> Int {
    var result = 1, b = base, e = exp
    while e > 0 {
        if e & 1 == 1 {
            let (r, o) = result.multipliedReportingOverflow(by: b)
            if o { throw overflowError(intOverflowMessage) }
            result = r
        }
        e >>= 1
        if e > 0 {
            let (s, o) = b.multipliedReportingOverflow(by: b)
            if o { throw overflowError(intOverflowMessage) }
            b = s
        }
    }
    return result
}

extension Unit {
    /// An int, bool or float as a Double, also inside an instance of an int or float
    /// subclass (for builtins such as `abs`, `round`, `math.sqrt`). The operators use
    /// `Value.numericDouble`/`intLike` instead, so that such a subclass's own operator
    /// methods come first.
    @inline(__always) func numericDouble(_ v: Value) -> Double? {
        if let d = v.numericDouble { return d }
        return v.isBoxedNumber ? v.unboxedNumber.numericDouble : nil
    }
    /// An int or bool as an Int, also inside an instance of an int subclass.
    @inline(__always) func intValue(_ v: Value) -> Int? {
        if let i = v.intLike { return i }
        return v.isBoxedNumber ? v.unboxedNumber.intLike : nil
    }

    /// `a op b` for int operands.
    func intBinary(_ op: BinaryOp, _ a: Int, _ b: Int) throws -> Value {
        switch op {
        case .add:
            let (r, o) = a.addingReportingOverflow(b); if o { throw overflowError(intOverflowMessage) }; return .int(r)
        case .sub:
            let (r, o) = a.subtractingReportingOverflow(b); if o { throw overflowError(intOverflowMessage) }; return .int(r)
        case .mul:
            let (r, o) = a.multipliedReportingOverflow(by: b); if o { throw overflowError(intOverflowMessage) }; return .int(r)
        case .div:
            if b == 0 { throw zeroDivision("division by zero") }
            return .float(intTrueDivide(a, b))
        case .floorDiv: return .int(try pyFloorDiv(a, b))
        case .mod: return .int(try pyMod(a, b))
        case .pow:
            if b < 0 {
                if a == 0 { throw zeroDivision("0.0 cannot be raised to a negative power") }
                return .float(Foundation_pow(Double(a), Double(b)))
            }
            return .int(try intPow(a, b))
        case .lshift:
            if b < 0 { throw valueError("negative shift count") }
            if a == 0 { return .int(0) }
            if b > 63 || (b == 63 && a != -1) { throw overflowError(intOverflowMessage) }  // -1 << 63 is -2**63
            let r = a << b
            if r >> b != a { throw overflowError(intOverflowMessage) }
            return .int(r)
        case .rshift:
            if b < 0 { throw valueError("negative shift count") }
            return .int(b >= 64 ? (a < 0 ? -1 : 0) : a >> b)
        case .bitAnd: return .int(a & b)
        case .bitOr: return .int(a | b)
        case .bitXor: return .int(a ^ b)
        case .matMul: throw typeError("unsupported operand type(s) for @: 'int' and 'int'")
        }
    }

    /// `a op b` for float operands (at least one was a float).
    func floatBinary(_ op: BinaryOp, _ a: Double, _ b: Double, _ av: Value, _ bv: Value) throws -> Value? {
        switch op {
        case .add: return .float(a + b)
        case .sub: return .float(a - b)
        case .mul: return .float(a * b)
        case .div:
            if b == 0 { throw zeroDivision("float division by zero") }
            return .float(a / b)
        case .floorDiv: return .float(try pyFloatFloorDiv(a, b))
        case .mod: return .float(try pyFloatMod(a, b))
        case .pow:
            // CPython's float_pow: IEEE's answers for the special values come first.
            if b == 0 { return .float(1) }
            if a.isNaN { return .float(a) }
            if b.isNaN { return .float(a == 1 ? 1 : b) }
            if b.isInfinite {
                let m = abs(a)
                if m == 1 { return .float(1) }
                return .float((m > 1) == (b > 0) ? .infinity : 0)
            }
            if a.isInfinite {
                let oddInteger = b == b.rounded() && abs(b.truncatingRemainder(dividingBy: 2)) == 1
                if b > 0 { return .float(oddInteger ? a : .infinity) }
                return .float(oddInteger && a < 0 ? -0.0 : 0.0)
            }
            if a == 0 && b < 0 { throw zeroDivision("0.0 cannot be raised to a negative power") }
            if a < 0 && b != b.rounded() {
                throw valueError("math domain error")  // CPython returns a complex number here
            }
            let r = Foundation_pow(a, b)
            if r.isInfinite && a.isFinite && b.isFinite { throw overflowError("(34, 'Numerical result out of range')") }
            return .float(r)
        default: return nil
        }
    }

    /// Evaluates `a op b` (not in place).
    func binary(_ op: BinaryOp, _ a: Value, _ b: Value, inPlace: Bool = false) throws -> Value {
        if let x = a.intLike, let y = b.intLike {
            if case .bool(let p) = a, case .bool(let q) = b {
                switch op {
                case .bitAnd: return .bool(p && q)
                case .bitOr: return .bool(p || q)
                case .bitXor: return .bool(p != q)
                default: break
                }
            }
            if op == .matMul { throw unsupportedOperands(op, a, b, inPlace: inPlace) }
            return try intBinary(op, x, y)
        }
        if let x = a.numericDouble, let y = b.numericDouble,
           let r = try floatBinary(op, x, y, a, b) { return r }
        // A user subclass of a builtin type (`class S(str)`) may define the operator: its
        // method comes before the builtin one, as it does in CPython.
        if extendsBuiltin(a) || extendsBuiltin(b) {
            return try userBinary(op, a, b, inPlace: inPlace, builtinBase: true)
        }
        if let r = try builtinBinary(op, a, b) { return r }
        if op == .bitOr, let r = PyUnion.of(a, b) { return .obj(r) }
        // `proxy | d`, `d | proxy`: the union of the mappings.
        if op == .bitOr, case .obj(let x) = a, let p = x as? PyMappingProxy {
            return try binary(.bitOr, p.viewed(self), (b.object as? PyMappingProxy)?.viewed(self) ?? b)
        }
        if op == .bitOr, case .obj(let y) = b, let p = y as? PyMappingProxy, !(a.object is PyInstance) {
            return try binary(.bitOr, a, p.viewed(self))
        }
        return try userBinary(op, a, b, inPlace: inPlace)
    }

    @inline(__always) private func extendsBuiltin(_ v: Value) -> Bool {
        if case .obj(let o) = v { return o.extendsBuiltinType }
        return false
    }

    /// `a op= b`: tries `__iop__` first for user objects; lists extend in place.
    /// `l.extend(b)` and `l += b`: a snapshot of a list or another collection; an iterator
    /// (a generator, say) is drained one item at a time, each appended as it comes, as
    /// CPython does, so a generator that reads `l` sees the items already added.
    func extendList(_ l: PyList, with b: Value) throws {
        if case .obj(let o) = b, let it = o as? PyIter {
            while let v = try it.next(self) { l.withItems { $0.append(v) } }
            return
        }
        let extra = try toArray(b, lengthHint: true)
        l.withItems { $0.append(contentsOf: extra) }
    }

    func inPlace(_ op: BinaryOp, _ a: Value, _ b: Value) throws -> Value {
        if case .obj(let o) = a {
            if op == .add || op == .mul, let l = o as? PyList, o.hasType(Types.listID) {
                // An object of a class with its own __radd__/__rmul__ is asked first, as
                // CPython tries the operands' number slots before list's in-place ones.
                if case .obj(let bo) = b, bo is PyInstance, let m = lookupSpecial(b, op == .add ? "__radd__" : "__rmul__") {
                    let r = try call(m, [a])
                    if !isNotImplemented(r) { return r }
                }
                if op == .add {
                    try extendList(l, with: b)
                    return a
                }
                // `l *= n` repeats the list in place (other references see it), with the
                // checks and errors of `l * n`.
                guard case .obj(let r) = try binary(.mul, a, b), let repeated = r as? PyList else { return a }
                _ = l.replaceAll(repeated.snapshot)
                return a
            }
            if op == .add || op == .mul, let ba = o as? PyBytes, ba.isMutable, o.typeIsBuiltin {
                // A bytearray grows in place too.
                guard case .obj(let r) = try binary(op, a, b), let result = r as? PyBytes else { return a }
                let bytes = result.snapshot
                ba.withBytes { $0 = bytes }
                return a
            }
            // (A subclass's own __ior__... first, below.)
            if let s = o as? PySet, !s.isFrozen, case .obj(let bo) = b, let t = bo as? PySet,
               s.typeIsBuiltin || userMethod(a, op.dunder.2) == nil,
               let r = try setInPlace(op.rawValue, s, t, self) { return r }
            if op == .bitOr, o is PyMappingProxy {
                throw typeError("'|=' is not supported by mappingproxy; use '|' instead")
            }
            // `d |= other` updates d itself (any mapping or iterable of pairs), as dict.update.
            if op == .bitOr, o is PyDict, o.typeIsBuiltin {
                _ = try callMethod(a, "update", [b])
                return a
            }
            if o is PyInstance || extendsBuiltin(a), let m = lookupSpecial(a, op.dunder.2) {
                let r = try call(m, [b])
                if !isNotImplemented(r) { return r }
            }
        }
        return try binary(op, a, b, inPlace: true)
    }

    @inline(__always) func isNotImplemented(_ v: Value) -> Bool {
        if case .obj(let o) = v { return o === Singletons.notImplemented }
        return false
    }

    /// Operators of builtin non-numeric types; nil when they don't apply.
    func builtinBinary(_ op: BinaryOp, _ a: Value, _ b: Value) throws -> Value? {
        guard case .obj(let ao) = a else {
            if op == .mul, case .obj = b, let n = intValue(a) { return try repeatSequence(b, n) }
            // `1 - d.keys()`: the view's reflected operator tries set(1) ("'int' object is
            // not iterable"), as CPython's does.
            if b.object is PyDictView, op == .bitOr || op == .bitAnd || op == .sub || op == .bitXor {
                return try dictViewBinary(op.rawValue, a, b, self)
            }
            return nil
        }
        switch op {
        case .add:
            guard case .obj(let bo) = b else { return nil }
            if let x = ao as? PyStr, let y = bo as? PyStr {
                if let cx = x.knownCount, let cy = y.knownCount { return .str(x.value + y.value, scalarCount: cx + cy) }
                return .str(x.value + y.value)
            }
            if let x = ao as? PyList, let y = bo as? PyList { return .obj(PyList(x.snapshot + y.snapshot)) }
            if let x = ao as? PyTuple, let y = bo as? PyTuple { return .obj(PyTuple(x.items + y.items)) }
            if let x = ao as? PyBytes, let y = bo as? PyBytes { return .obj(PyBytes(x.snapshot + y.snapshot, mutable: x.isMutable)) }
            return nil
        case .mul:
            if let n = intValue(b) { return try repeatSequence(a, n) }
            return nil
        case .mod:
            if let s = ao as? PyStr { return try strModulo(self, s, b) }
            if let x = ao as? PyBytes { return .obj(PyBytes(try percentFormatBytes(self, x.snapshot, b), mutable: x.isMutable)) }
            return nil
        case .bitOr, .bitAnd, .sub, .bitXor:
            if ao is PyDictView || b.object is PyDictView, let r = try dictViewBinary(op.rawValue, a, b, self) { return r }
            if let x = ao as? PySet, case .obj(let bo) = b, let y = bo as? PySet {
                return try setBinary(op.rawValue, x, y, self)
            }
            if op == .bitOr, let x = ao as? PyDict, case .obj(let bo) = b, let y = bo as? PyDict {
                let r = PyDict()
                try r.merge(self, from: x)
                try r.merge(self, from: y)
                return .obj(r)
            }
            return nil
        default: return nil
        }
    }

    /// `seq * n` for str, list, tuple, bytes.
    /// `seq * obj` or `obj * seq` where obj's class defines `__index__` (CPython's sequence
    /// repeat takes any index-like count); nil when neither side fits.
    private func repeatByIndex(_ a: Value, _ b: Value) throws -> Value? {
        if isSequence(a), case .obj(let o) = b, !o.typeIsBuiltin, lookupSpecial(b, "__index__") != nil {
            return try repeatSequence(a, try toIndex(b))
        }
        if isSequence(b), case .obj(let o) = a, !o.typeIsBuiltin, lookupSpecial(a, "__index__") != nil {
            return try repeatSequence(b, try toIndex(a))
        }
        return nil
    }

    func repeatSequence(_ s: Value, _ n: Int) throws -> Value? {
        guard case .obj(let o) = s else { return nil }
        let count = max(n, 0)
        if let x = o as? PyStr { return try strMultiply(x, count) }
        if let x = o as? PyList { return .obj(PyList(try repeated(x.snapshot, count))) }
        if let x = o as? PyTuple {
            if count == 1 && o.typeIsBuiltin { return s }  // immutable: `t * 1 is t`, as CPython
            return .obj(PyTuple(try repeated(x.items, count)))
        }
        if let x = o as? PyBytes { return .obj(PyBytes(Array(try repeated(x.snapshot, count)), mutable: x.isMutable)) }
        return nil
    }

    private func repeated<T>(_ items: [T], _ n: Int) throws -> [T] {
        if items.isEmpty || n == 0 { return [] }
        try checkBuildSize(items.count, times: n, limit: 1 << 32)
        // By doubling the part already made (b"x" * 2**30 appending one byte at a time
        // took 26 s): bytes are copied by memcpy, values retained once each.
        let total = items.count * n
        return [T](unsafeUninitializedCapacity: total) { buffer, initialized in
            let base = buffer.baseAddress!
            items.withUnsafeBufferPointer { base.initialize(from: $0.baseAddress!, count: $0.count) }
            var filled = items.count
            while filled < total {
                let k = min(filled, total - filled)
                (base + filled).initialize(from: base, count: k)
                filled += k
            }
            initialized = total
        }
    }

    /// User-defined operator methods, with the reflected method as fallback.
    /// `builtinBase`: an operand is a builtin object of a user subclass; the builtin
    /// operator is tried after the left operand's own method, before the reflected one.
    func userBinary(_ op: BinaryOp, _ a: Value, _ b: Value, inPlace: Bool, builtinBase: Bool = false) throws -> Value {
        let (name, rname, _) = op.dunder
        let ta = a.type, tb = b.type
        // The right operand's reflected method first only when its class derives from the
        // left's and overrides that method (CPython's method_is_overloaded).
        let bFirst = tb !== ta && tb.isSubtype(of: ta) && !tb.isBuiltin && overrides(tb, ta, rname)
        if bFirst, let rm = operatorMethod(b, rname) {
            let r = try call(rm, [a]); if !isNotImplemented(r) { return r }
        }
        // When the left operand's class defines the operator itself, its NotImplemented
        // ends in the generic "unsupported operand" message, as in CPython.
        var leftDefines = false
        if !ta.isBuiltin || ta.layout != nil, let m = operatorMethod(a, name) {
            leftDefines = true
            let r = try call(m, [b]); if !isNotImplemented(r) { return r }
        }
        if builtinBase, !bFirst, ta !== tb, !leftBuiltinAccepts(op, a, b), let rm = operatorMethod(b, rname) {
            // The left operand's builtin operator cannot take the right one (`3 * S("a")`,
            // `1 + F(2.0)` with F a float subclass): CPython's next try is the right
            // operand's reflected method, before any fallback.
            let r = try call(rm, [a]); if !isNotImplemented(r) { return r }
        }
        // The left operand's class defines the operator and declined: its builtin base's
        // operator is not tried (CPython's class has that slot replaced), only the right
        // operand's builtin one, when its type differs and has such a slot.
        if builtinBase, leftDefines, ta === tb || !rightBuiltinSlotTakes(op, a, b) {
            if !bFirst, ta !== tb, let rm = operatorMethod(b, rname) {
                let r = try call(rm, [a]); if !isNotImplemented(r) { return r }
            }
            throw unsupportedOperands(op, a, b, inPlace: inPlace)
        }
        if builtinBase {
            // int and float subclasses: the builtin operator on the numbers inside.
            if a.isBoxedNumber || b.isBoxedNumber {
                // Two numbers, or a sequence repeated (`I(2) * "ab"`): the operator on the
                // numbers inside. Anything else (`I(1) + "x"`) goes on below, so that the
                // error names the subclass.
                let ua = a.unboxedNumber, ub = b.unboxedNumber
                let repeats = op == .mul && ((ua.intLike != nil && isSequence(ub)) || (ub.intLike != nil && isSequence(ua)))
                if ua.numericDouble != nil && ub.numericDouble != nil, !leftBuiltinAccepts(op, a, b),
                   ta === tb || !rightBuiltinSlotTakes(op, a, b) || operatorMethod(b, rname) != nil {
                    // Neither builtin operator applies: the left one cannot take the right
                    // operand (or the numbers lack the operator: `F(1.5) & 1`, `I(3) @ I(4)`),
                    // the right one is the class's own (asked above) or absent.
                    throw unsupportedOperands(op, a, b, inPlace: inPlace)
                }
                if (ua.numericDouble != nil && ub.numericDouble != nil) || repeats {
                    return try binary(op, ua, ub, inPlace: inPlace)
                }
            }
            if let r = try builtinBinary(op, a, b) { return r }
            // `Shape | None` for a class whose metaclass derives from type (ABCMeta,
            // EnumType): type's own `|`, unless the metaclass defined one above.
            if op == .bitOr, let r = PyUnion.of(a, b) { return .obj(r) }
        }
        if !bFirst && ta !== tb, !tb.isBuiltin || tb.layout != nil, let rm = operatorMethod(b, rname) {
            let r = try call(rm, [a]); if !isNotImplemented(r) { return r }
        }
        if op == .mul, let r = try repeatByIndex(a, b) { return r }
        // A sequence's repeat is tried on either side even after the left operand's own
        // __mul__ declined (CPython's PyNumber_Multiply); concatenation only on the left.
        if !leftDefines || op == .mul { try throwSequenceOperandError(op, a, b, inPlace: inPlace) }
        // Python 2's `print >>sys.stderr, "x"`: CPython adds the hint for `print >> ...`.
        if op == .rshift, !inPlace, case .obj(let o) = a, let fn = o as? PyBuiltinFunction, fn.name == "print", fn.module == nil {
            throw typeError("unsupported operand type(s) for >>: '\(a.typeName)' and '\(b.typeName)'. Did you mean \"print(<message>, file=<output_stream>)\"?")
        }
        throw unsupportedOperands(op, a, b, inPlace: inPlace)
    }

    private func unsupportedOperands(_ op: BinaryOp, _ a: Value, _ b: Value, inPlace: Bool) -> PyBaseException {
        typeError("unsupported operand type(s) for \(operatorSymbol(op, inPlace: inPlace)): '\(a.typeName)' and '\(b.typeName)'")
    }

    /// Whether a builtin operator CPython still tries after the left operand's own method
    /// declined takes `a op b`: the right operand's number slot (numbers; sets and dict
    /// views for | & - ^; dicts for |; str and bytes for %), or for `*` the repeat of either
    /// operand that is a sequence whose class does not define `*` itself (which then also
    /// gives the "can't multiply sequence" error).
    private func rightBuiltinSlotTakes(_ op: BinaryOp, _ a: Value, _ b: Value) -> Bool {
        let ua = a.unboxedNumber, ub = b.unboxedNumber
        // int's operators take ints only; float's, any number.
        if ub.intLike != nil { return ua.intLike != nil && Unit.numbersSupport(op, ua, ub) }
        if ub.numericDouble != nil { return ua.numericDouble != nil && Unit.numbersSupport(op, ua, ub) }
        let setOperator = op == .bitOr || op == .bitAnd || op == .sub || op == .bitXor
        if setOperator, let v = b.object as? PyDictView, v.isSetLike { return true }
        if b.object is PySet, a.object is PySet { return setOperator }
        if b.object is PyDict, a.object is PyDict { return op == .bitOr }
        if op == .mod { return (b.object is PyStr && a.object is PyStr) || (b.object is PyBytes && a.object is PyBytes) }
        if op == .mul {
            func repeats(_ v: Value) -> Bool {
                isSequence(v) && operatorMethod(v, "__mul__") == nil && operatorMethod(v, "__rmul__") == nil
            }
            return repeats(a) || repeats(b)
        }
        return false
    }

    /// Whether `sub` finds a different `name` than `base` does.
    private func overrides(_ sub: PyType, _ base: PyType, _ name: String) -> Bool {
        guard let mine = sub.lookup(name) else { return false }
        guard let theirs = base.lookup(name) else { return true }
        return !isSame(mine, theirs)
    }

    /// Whether the builtin type of `a` implements `op` for an operand like `b` (CPython's
    /// slot on the left would not return NotImplemented): ints take ints, floats numbers,
    /// sequences their own kind (and an int to repeat), dicts and sets their own kind.
    private func leftBuiltinAccepts(_ op: BinaryOp, _ a: Value, _ b: Value) -> Bool {
        let ua = a.unboxedNumber, ub = b.unboxedNumber
        // (Never for an operator the numbers lack: `2.5 @ x`, `2.5 | x` ask x's reflected one.)
        if ua.intLike != nil { return ub.intLike != nil && Unit.numbersSupport(op, ua, ub) }
        if case .float = ua { return ub.numericDouble != nil && Unit.numbersSupport(op, ua, ub) }
        guard case .obj(let x) = a else { return true }
        let y = b.object
        switch x {
        // Concatenation and repeat are sequence operations, which CPython tries only after
        // both operands' number methods (so `[2] * n` asks n's __rmul__ first); `%` of str
        // and bytes is a number method of theirs.
        case is PyStr: return op == .mod
        case is PyList, is PyTuple, is PyBytes: return op == .mod && x is PyBytes
        case is PyDict: return op == .bitOr && y is PyDict
        case is PySet: return y is PySet
        default: return true
        }
    }

    /// The operator method `name` of `v`'s class for the dispatch above, skipping the
    /// operator methods of builtin types (`int.__add__`, OperatorSlots.swift): for an
    /// instance of a builtin subclass the builtin operator that follows does the same work,
    /// and its errors are the ones CPython gives.
    private func operatorMethod(_ v: Value, _ name: String) -> Value? {
        guard let attr = v.type.lookup(name) else { return nil }
        if case .obj(let o) = attr, let d = o as? PyMethodDescriptor, d.owner.isBuiltin { return nil }
        return bindSpecial(attr, to: v, name)
    }

    /// The messages of the builtin sequence operators for an operand they cannot take
    /// (`"a" + 1`, `[1] * "x"`); returns when none applies.
    private func throwSequenceOperandError(_ op: BinaryOp, _ a: Value, _ b: Value, inPlace: Bool) throws {
        if op == .add, a.asStr != nil {
            throw typeError("can only concatenate str (not \"\(b.typeName)\") to str")
        }
        if op == .add, case .obj(let o) = a, o is PyList {
            throw typeError("can only concatenate list (not \"\(b.typeName)\") to list")
        }
        if op == .add, case .obj(let o) = a, o is PyTuple {
            throw typeError("can only concatenate tuple (not \"\(b.typeName)\") to tuple")
        }
        // In place, a left operand with sequence methods (a container or any instance of a
        // class) is the only one whose repeat is tried (`d *= [1]` is an unsupported
        // operand error for *=); a number on the left lets the right one's repeat speak
        // (`n *= [0]`), as CPython's PyNumber_InPlaceMultiply.
        let leftHasSequenceMethods: Bool = { if case .obj = a { return true }; return false }()
        if op == .mul, isSequence(a) || (isSequence(b) && (!inPlace || !leftHasSequenceMethods)) {
            // The left operand is the sequence when both are (`(1,) * "a"` names str).
            let other = isSequence(a) ? b : a
            throw typeError("can't multiply sequence by non-int of type '\(other.typeName)'")
        }
        if op == .add, case .obj(let o) = a, o is PyBytes { throw typeError("can't concat \(b.typeName) to \(a.typeName)") }
    }

    /// Unary `-x`, `+x`, `~x`, `not x`.
    func unary(_ op: UnaryOp, _ v: Value) throws -> Value {
        switch (op, v) {
        case (.not, _): return .bool(!(try isTruthy(v)))
        case (.neg, .int(let i)):
            if i == Int.min { throw overflowError(intOverflowMessage) }
            return .int(-i)
        case (.neg, .bool(let b)): return .int(b ? -1 : 0)
        case (.neg, .float(let d)): return .float(-d)
        case (.pos, .int), (.pos, .float): return v
        case (.pos, .bool(let b)): return .int(b ? 1 : 0)
        case (.invert, .int(let i)): return .int(~i)
        case (.invert, .bool(let b)): return .int(~(b ? 1 : 0))
        default:
            let name = op == .neg ? "__neg__" : op == .pos ? "__pos__" : "__invert__"
            if let m = lookupSpecial(v, name) { return try call(m, []) }
            if v.isBoxedNumber, op != .invert || v.unboxedNumber.intLike != nil { return try unary(op, v.unboxedNumber) }
            throw typeError("bad operand type for unary \(op.rawValue): '\(v.typeName)'")
        }
    }
}

@inline(__always) func Foundation_pow(_ a: Double, _ b: Double) -> Double { pow(a, b) }

/// `a / b` for ints, correctly rounded as CPython's: direct when both are exact doubles
/// (|x| <= 2**53); otherwise a 64-bit quotient of the scaled dividend, with the remainder
/// folded into its last bit, rounded once to a double and scaled back.
func intTrueDivide(_ a: Int, _ b: Int) -> Double {
    let limit = 1 << 53
    if a.magnitude <= UInt(limit) && b.magnitude <= UInt(limit) { return Double(a) / Double(b) }
    if a == 0 { return b < 0 ? -0.0 : 0.0 }
    let ua = UInt64(a.magnitude), ub = UInt64(b.magnitude)
    let bitsA = 64 - ua.leadingZeroBitCount, bitsB = 64 - ub.leadingZeroBitCount
    let k = 63 + bitsB - bitsA  // the quotient lands in [2**62, 2**64)
    let dividend: (high: UInt64, low: UInt64) = k >= 64 ? (ua << (k - 64), 0)
        : (k == 0 ? 0 : ua >> (64 - k), ua << k)
    var (q, r) = ub.dividingFullWidth(dividend)
    if r != 0 { q |= 1 }  // sticky: below the rounding position, which is bit 10 or higher
    let magnitude = Double(q) * Double(sign: .plus, exponent: -k, significand: 1)
    return (a < 0) != (b < 0) ? -magnitude : magnitude
}

extension Unit {
    /// Whether the builtin number types define `op` for these (unboxed) operands: the
    /// bitwise and shift operators take only ints (and bools), `@` no numbers at all.
    static func numbersSupport(_ op: BinaryOp, _ a: Value, _ b: Value) -> Bool {
        switch op {
        case .matMul: return false
        case .lshift, .rshift, .bitAnd, .bitOr, .bitXor: return a.intLike != nil && b.intLike != nil
        default: return true
        }
    }
}

/// str, list, tuple, bytes or bytearray: what `*` repeats and the sequence errors name.
private func isSequence(_ v: Value) -> Bool {
    guard case .obj(let o) = v else { return false }
    return o is PyStr || o is PyList || o is PyTuple || o is PyBytes
}

/// The operator as error messages write it: `+`, or `+=` in place (`**=` for pow).
private func operatorSymbol(_ op: BinaryOp, inPlace: Bool) -> String {
    inPlace ? (op == .pow ? "**=" : op.rawValue + "=") : op.symbol
}
