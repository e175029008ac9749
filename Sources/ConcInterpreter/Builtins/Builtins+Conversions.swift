// Numeric and character builtins: abs, round, divmod, pow, chr, ord, hex, oct, bin, format.
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    func conversionBuiltins() -> [(String, Value)] {
        [
            native1("abs", methO: true) { u, x in
                if x.isBoxedNumber, let m = u.userMethod(x, "__abs__") { return try u.call(m, []) }
                switch x.unboxedNumber {
                case .int(let i):
                    if i == Int.min { throw overflowError(intOverflowMessage) }
                    return .int(abs(i))
                case .bool(let b): return .int(b ? 1 : 0)
                case .float(let d): return .float(Swift.abs(d))
                default:
                    if let m = u.lookupSpecial(x, "__abs__") { return try u.call(m, []) }
                    throw typeError("bad operand type for abs(): '\(x.typeName)'")
                }
            },
            native("round") { u, a in
                try a.expectClinic("round", ["number", "ndigits"], required: 1)
                let number = a.argument(0, "number")!   // (required: checked above)
                let nd = a.argument(1, "ndigits")
                return try roundValue(u, number, nd.flatMap { $0.isNone ? nil : $0 })
            },
            native2("divmod") { u, x, y in
                // Two plain numbers: `//` and `%` (their errors are divmod's too, except a
                // float's zero divisor, which CPython names after divmod).
                if !x.isBoxedNumber && !y.isBoxedNumber, x.numericDouble != nil, let d = y.numericDouble {
                    if d == 0 && (x.intLike == nil || y.intLike == nil) {
                        throw PyBaseException(type: Exc.zeroDivisionError, args: [.str("float divmod()")])
                    }
                    return .obj(PyTuple([try u.binary(.floorDiv, x, y), try u.binary(.mod, x, y)]))
                }
                // Anything else through __divmod__ / __rdivmod__, as CPython (int and float
                // subclasses reach the builtin ones, OperatorSlots.swift).
                if let m = u.lookupSpecial(x, "__divmod__") {
                    let r = try u.call(m, [y]); if !u.isNotImplemented(r) { return r }
                }
                if y.type !== x.type, let m = u.lookupSpecial(y, "__rdivmod__") {
                    let r = try u.call(m, [x]); if !u.isNotImplemented(r) { return r }
                }
                throw typeError("unsupported operand type(s) for divmod(): '\(x.typeName)' and '\(y.typeName)'")
            },
            native("pow") { u, a in
                try a.expectClinic("pow", ["base", "exp", "mod"], required: 2)
                let base = a.argument(0, "base")!, exp = a.argument(1, "exp")!   // (required: checked above)
                if let mod = a.argument(2, "mod"), !mod.isNone {
                    // A user class's __pow__(exp, mod) (CPython's ternary slot: the base's only).
                    if case .obj(let o) = base, !o.typeIsBuiltin, let m = u.lookupSpecial(base, "__pow__") {
                        let r = try u.call(m, [exp, mod])
                        if !u.isNotImplemented(r) { return r }
                    }
                    guard let b = u.intValue(base), let e = u.intValue(exp), let m = u.intValue(mod) else {
                        // CPython's ternary dispatch: float's pow, reached when any of the
                        // three is a float, refuses a modulus first; int's takes three ints.
                        let isFloat = { (v: Value) -> Bool in if case .float = v.unboxedNumber { return true }; return false }
                        if [base, exp, mod].contains(where: isFloat) {
                            throw typeError("pow() 3rd argument not allowed unless all arguments are integers")
                        }
                        throw typeError("unsupported operand type(s) for ** or pow(): '\(base.typeName)', '\(exp.typeName)', '\(mod.typeName)'")
                    }
                    if m == 0 { throw valueError("pow() 3rd argument cannot be 0") }
                    if e < 0 {
                        guard let inv = modInverse(b, m) else { throw valueError("base is not invertible for the given modulus") }
                        return .int(modPow(inv, e.magnitude, m))
                    }
                    return .int(modPow(b, e.magnitude, m))
                }
                return try u.binary(.pow, base, exp)
            },
            native1("chr", methO: true) { u, x in
                let i = try u.toIndex(x)
                // A C int first (CPython's argument conversion), then the code point range.
                guard Int(Int32.min)...Int(Int32.max) ~= i else { throw overflowError("Python int too large to convert to C int") }
                guard i >= 0 && i <= 0x10ffff else { throw valueError("chr() arg not in range(0x110000)") }
                guard let s = Unicode.Scalar(UInt32(i)) else { return .str(String(Unicode.Scalar(0xfffd)!)) }
                return .str(String(s))
            },
            native1("ord") { _, x in
                if let s = x.asStr {
                    let utf8 = s.value.utf8
                    if utf8.count == 1, let b = utf8.first { return .int(Int(b)) }  // one ASCII character
                    let scalars = s.value.unicodeScalars
                    guard scalars.count == 1 else {
                        throw typeError("ord() expected a character, but string of length \(scalars.count) found")
                    }
                    return .int(Int(scalars.first!.value))
                }
                if case .obj(let o) = x, let b = o as? PyBytes {
                    let data = b.snapshot
                    guard data.count == 1 else { throw typeError("ord() expected a character, but string of length \(data.count) found") }
                    return .int(Int(data[0]))
                }
                throw typeError("ord() expected string of length 1, but \(x.typeName) found")
            },
            native1("hex", methO: true) { u, x in return .str(radixString(try u.toIndex(x), 16, "0x")) },
            native1("oct", methO: true) { u, x in return .str(radixString(try u.toIndex(x), 8, "0o")) },
            native1("bin", methO: true) { u, x in return .str(radixString(try u.toIndex(x), 2, "0b")) },
            native("format") { u, a in
                try a.expect("format", 1, 2)
                let spec = a.count > 1 ? try u.stringArg(a[1], "format() argument 2") : ""
                let r = try u.format(a[0], spec: spec)
                return unchangedStr(a[0], spec: spec, result: r) ?? .str(r)
            },
        ]
    }
}

/// `v` itself when str's own `__format__` with a non-empty `spec` left it unchanged (no
/// padding, nothing cut): CPython hands back the same object then, so a str subclass
/// stays one (`format(S('s'), '.3')` is an S). nil otherwise.
func unchangedStr(_ v: Value, spec: String, result: String) -> Value? {
    guard !spec.isEmpty, case .obj(let o) = v, let s = o as? PyStr, s.value == result else { return nil }
    if o.type !== Types.str, case .obj(let f)? = o.type.lookup("__format__"), !(f is PyMethodDescriptor) { return nil }
    return v
}

func radixString(_ i: Int, _ radix: Int, _ prefix: String) -> String {
    i < 0 ? "-" + prefix + String(i.magnitude, radix: radix) : prefix + String(i, radix: radix)
}

func modPow(_ base: Int, _ exp: UInt, _ mod: Int) -> Int {
    // In unsigned words with 128-bit products, so no modulus up to 2**63 can overflow.
    let m = mod.magnitude
    var b = base.magnitude % m
    if base < 0 && b != 0 { b = m - b }
    func mulMod(_ x: UInt, _ y: UInt) -> UInt { m.dividingFullWidth(x.multipliedFullWidth(by: y)).remainder }
    var result: UInt = 1 % m, e = exp
    while e > 0 {
        if e & 1 == 1 { result = mulMod(result, b) }
        b = mulMod(b, b)
        e >>= 1
    }
    // CPython's result has the modulus's sign: in (mod, 0] for a negative modulus.
    if mod < 0 && result != 0 { return Int(truncatingIfNeeded: 0 &- (m - result)) }
    return Int(truncatingIfNeeded: result)
}

/// `round(x[, ndigits])` with round-half-even, as CPython.
func roundValue(_ u: Unit, _ v: Value, _ nd: Value?) throws -> Value {
    switch v {
    case .int, .bool(true):
        let value: Int = { if case .int(let i) = v { return i }; return 1 }()
        guard let ndv = nd else { return .int(value) }
        let n = try u.toIndex(ndv)
        if n >= 0 { return .int(value) }
        // In 128 bits: 10**-n up to 10**38, and the rounded value may pass 2**63 before it
        // is checked (round(2**63 - 1, -1) is an OverflowError here, not a trap).
        if n < -38 { return .int(0) }
        var p: Int128 = 1
        for _ in 0..<(-n) { p *= 10 }
        let v = Int128(value)
        var q = v / p
        if v % p < 0 { q -= 1 }
        let r = v - q * p
        if r * 2 > p || (r * 2 == p && q % 2 != 0) { q += 1 }
        guard let out = Int(exactly: q * p) else { throw overflowError(intOverflowMessage) }
        return .int(out)
    case .bool(false):
        if let ndv = nd { _ = try u.toIndex(ndv) }   // ndigits must still be an integer
        return .int(0)
    case .float(let d):
        guard let ndv = nd else {
            if d.isNaN { throw valueError("cannot convert float NaN to integer") }
            if d.isInfinite { throw overflowError("cannot convert float infinity to integer") }
            let r = d.rounded(.toNearestOrEven)
            guard r >= -0x1p63 && r < 0x1p63 else { throw overflowError(intOverflowMessage) }  // exactly the 64-bit range
            return .int(Int(r))
        }
        // Correctly rounded from the exact binary value, half to even, as CPython's.
        return .float(try checkedFloatRound(d, try u.toIndex(ndv)))
    default:
        if let m = u.lookupSpecial(v, "__round__") { return try u.call(m, nd.map { [$0] } ?? []) }
        throw typeError("type \(v.typeName) doesn't define __round__ method")
    }
}

/// The inverse of `a` modulo `m`, if it exists (extended Euclid).
func modInverse(_ a: Int, _ m: Int) -> Int? {
    // Extended Euclid; its coefficients stay within the modulus, so Int holds them. A
    // modulus of -2**63 has no Int magnitude: only odd numbers are invertible there.
    guard m != .min else { return a & 1 == 1 ? modInverseOfOdd(a) : nil }
    let mm = abs(m)
    var (t, newT) = (0, 1)
    var reduced = a % mm
    if reduced < 0 { reduced += mm }  // (a % mm + mm) could overflow for a modulus near 2**63
    var (r, newR) = (mm, reduced)
    while newR != 0 {
        let q = r / newR
        (t, newT) = (newT, t - q * newT)
        (r, newR) = (newR, r - q * newR)
    }
    if r != 1 { return nil }
    return t < 0 ? t + mm : t
}

/// The inverse of odd `a` modulo 2**64, reduced modulo 2**63 (Newton's iteration).
private func modInverseOfOdd(_ a: Int) -> Int {
    let x = UInt(bitPattern: a)
    var inv = x
    for _ in 0..<6 { inv = inv &* (2 &- x &* inv) }
    return Int(inv & (UInt.max >> 1))
}
