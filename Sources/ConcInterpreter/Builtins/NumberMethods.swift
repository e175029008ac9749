// The methods and constructors of int, float and bool, Python's float repr, and the text
// parsers behind `int(s, base)` and `float(s)`. Conc ints are 64-bit: values outside Int64
// raise OverflowError instead of growing.

// MARK: - float repr

/// `repr(d)` as CPython: shortest round-trip digits, exponent form when the decimal exponent
/// is < -4 or >= 16 (`1e-05`, `1e+16`, `1234567890123456.0`, `-0.0`, `inf`, `nan`).
func floatRepr(_ d: Double) -> String {
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    if d == d.rounded(.towardZero) && d.magnitude < 1e16 { return String(Int(d)) + ".0" }
    return doubleToString(d, UInt8(ascii: "r"), 0, .addDot0)
}

// MARK: - Parsing

/// The text of `int()`/`float()` arguments with Unicode whitespace mapped to ' ' and Unicode
/// decimal digits to ASCII (CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`); other
/// non-ASCII characters become '?', which no grammar accepts.
private func asciiNumberText(_ s: String) -> [UInt8] {
    if s.utf8.allSatisfy({ $0 < 0x80 }) { return Array(s.utf8) }
    var out: [UInt8] = []
    for c in s.unicodeScalars {
        if c.value < 0x80 { out.append(UInt8(c.value)) }
        else if pyIsSpace(c) { out.append(32) }
        else if let d = decimalDigitValue(c) { out.append(UInt8(48 + d)) }
        else { out.append(UInt8(ascii: "?")) }
    }
    return out
}

/// Parses an int literal as `int(text, base)` does; nil when the text is invalid.
/// - Throws: OverflowError when the value does not fit in 64 bits.
func parseIntLiteral(_ text: [UInt8], base: Int) throws -> Int? {
    var i = 0, n = text.count
    while i < n && isASCIISpace(text[i]) { i += 1 }
    while n > i && isASCIISpace(text[n - 1]) { n -= 1 }
    var negative = false
    if i < n && (text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-")) {
        negative = text[i] == UInt8(ascii: "-"); i += 1
    }
    var base = base
    var underscoreOK = false  // an underscore may follow a base prefix
    func prefix(_ c: UInt8) -> Bool {
        i + 1 < n && text[i] == UInt8(ascii: "0") && (text[i + 1] | 0x20) == c
    }
    if base == 0 {
        if prefix(UInt8(ascii: "x")) { base = 16; i += 2; underscoreOK = true }
        else if prefix(UInt8(ascii: "o")) { base = 8; i += 2; underscoreOK = true }
        else if prefix(UInt8(ascii: "b")) { base = 2; i += 2; underscoreOK = true }
        else if i < n && text[i] == UInt8(ascii: "0") {
            // A leading zero: only zeros (and single underscores) may follow.
            var j = i, lastUnderscore = false
            while j < n {
                if text[j] == UInt8(ascii: "0") { lastUnderscore = false }
                else if text[j] == UInt8(ascii: "_") && !lastUnderscore && j > i { lastUnderscore = true }
                else { return nil }
                j += 1
            }
            return lastUnderscore ? nil : 0
        } else { base = 10 }
    } else if (base == 16 && prefix(UInt8(ascii: "x"))) || (base == 8 && prefix(UInt8(ascii: "o")))
                || (base == 2 && prefix(UInt8(ascii: "b"))) {
        i += 2; underscoreOK = true
    }
    if i >= n { return nil }
    var value = 0
    var sawDigit = false, lastUnderscore = false
    while i < n {
        let c = text[i]
        if c == UInt8(ascii: "_") {
            if lastUnderscore || (!sawDigit && !underscoreOK) { return nil }
            lastUnderscore = true; i += 1; continue
        }
        let d: Int
        switch c {
        case 48...57: d = Int(c) - 48
        case 97...122: d = Int(c) - 87
        case 65...90: d = Int(c) - 55
        default: return nil
        }
        if d >= base { return nil }
        // Accumulate negatively so that Int.min parses.
        let (m, o1) = value.multipliedReportingOverflow(by: base)
        let (s, o2) = m.subtractingReportingOverflow(d)
        if o1 || o2 { throw overflowError(intOverflowMessage) }
        value = s
        sawDigit = true; lastUnderscore = false; i += 1
    }
    if !sawDigit || lastUnderscore { return nil }
    if negative { return value }
    if value == Int.min { throw overflowError(intOverflowMessage) }
    return -value
}

/// `float(text)` for plain decimals (`[+-]digits[.digits]`, at most 15 digits in all, which
/// is most text read from files), or nil for anything else: the digits as an integer m are
/// exact in a double, as is 10^k for k <= 15, so m / 10^k is one correctly rounded division
/// (Clinger's fast path), which is what the general parser returns too.
func simpleDecimal(_ text: String) -> Double? {
    withUTF8(text) { b -> Double? in
        var i = 0
        let n = b.count
        if n == 0 || n > 17 { return nil }
        var negative = false
        if b[0] == UInt8(ascii: "-") || b[0] == UInt8(ascii: "+") { negative = b[0] == UInt8(ascii: "-"); i = 1 }
        var m: Int64 = 0, digits = 0, fraction = -1
        while i < n {
            let c = b[i]
            if c >= 48 && c <= 57 {
                m = m * 10 + Int64(c - 48); digits += 1
                if fraction >= 0 { fraction += 1 }
            } else if c == UInt8(ascii: ".") && fraction < 0 {
                fraction = 0
            } else {
                return nil
            }
            i += 1
        }
        if digits == 0 || digits > 15 { return nil }
        let scale: Double = fraction > 0 ? (0..<fraction).reduce(1.0) { v, _ in v * 10 } : 1
        let d = Double(m) / scale
        return negative ? -d : d
    }
}

/// Parses a float literal as `float(text)` does; nil when invalid.
func parseFloatLiteral(_ text: [UInt8]) -> Double? {
    var i = 0, n = text.count
    while i < n && isASCIISpace(text[i]) { i += 1 }
    while n > i && isASCIISpace(text[n - 1]) { n -= 1 }
    if i >= n { return nil }
    var body = Array(text[i..<n])
    var sign = ""
    if body[0] == UInt8(ascii: "+") || body[0] == UInt8(ascii: "-") {
        sign = body[0] == UInt8(ascii: "-") ? "-" : ""
        body.removeFirst()
    }
    let lower = String(decoding: body.map { $0 | 0x20 }, as: UTF8.self)
    if lower == "inf" || lower == "infinity" { return sign == "-" ? -.infinity : .infinity }
    if lower == "nan" { return sign == "-" ? -Double.nan : .nan }
    // digits [. digits] [e [sign] digits], underscores only between digits
    var clean: [UInt8] = []
    var k = 0
    var intDigits = 0, fracDigits = 0
    func digits(_ count: inout Int) -> Bool {
        var last: UInt8 = 0
        while k < body.count {
            let c = body[k]
            if c >= 48 && c <= 57 { clean.append(c); count += 1 }
            else if c == UInt8(ascii: "_") {
                guard last >= 48 && last <= 57, k + 1 < body.count, body[k + 1] >= 48 && body[k + 1] <= 57 else { return false }
            } else { break }
            last = c; k += 1
        }
        return true
    }
    guard digits(&intDigits) else { return nil }
    if k < body.count && body[k] == UInt8(ascii: ".") {
        clean.append(UInt8(ascii: ".")); k += 1
        guard digits(&fracDigits) else { return nil }
    }
    if intDigits + fracDigits == 0 { return nil }
    if k < body.count && (body[k] | 0x20) == UInt8(ascii: "e") {
        clean.append(UInt8(ascii: "e")); k += 1
        if k < body.count && (body[k] == UInt8(ascii: "+") || body[k] == UInt8(ascii: "-")) { clean.append(body[k]); k += 1 }
        var expDigits = 0
        guard digits(&expDigits), expDigits > 0 else { return nil }
    }
    if k != body.count { return nil }
    return Double(sign + String(decoding: clean, as: UTF8.self))
}

// MARK: - Conversions used by the constructors

/// `int(v)` for one argument.
func intFromValue(_ u: Unit, _ v: Value) throws -> Int {
    switch v {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    case .float(let d): return try doubleToInt(d)
    case .obj(let o):
        if let b = o as? PyBoxedNumber {
            // An int or float subclass: its own __int__ if it has one (int and float have
            // one, so a subclass's __index__ or __trunc__ is not asked), else the number's.
            if let m = u.userMethod(v, "__int__") { return try integerResult(u, try u.call(m, []), "__int__") }
            return try intFromValue(u, b.number)
        }
        if let s = o as? PyStr {
            // A str subclass's own __int__ (or __index__) comes before the parsing, as in CPython.
            if o.extendsBuiltinType {
                for name in ["__int__", "__index__"] {
                    if let m = u.userMethod(v, name) { return try integerResult(u, try u.call(m, []), name) }
                }
            }
            guard let i = try parseIntLiteral(asciiNumberText(s.value), base: 10) else {
                throw valueError("invalid literal for int() with base 10: \(shownLiteral(u, v, strRepr(s.value)))")
            }
            return i
        }
        if let b = o as? PyBytes {
            guard let i = try parseIntLiteral(b.snapshot, base: 10) else {
                throw valueError("invalid literal for int() with base 10: \(bytesRepr(b.snapshot))")
            }
            return i
        }
        for name in ["__int__", "__index__"] {
            if let m = u.lookupSpecial(v, name) { return try integerResult(u, try u.call(m, []), name) }
        }
        if let m = u.lookupSpecial(v, "__trunc__") {
            // __trunc__ may return any Integral: one that is not an int goes through __index__.
            try u.warnDeprecated("The delegation of int() to __trunc__ is deprecated.")
            let r = try u.call(m, [])
            // (An int subclass, True included, is taken as it is: only the delegation warns.)
            if r.type.isSubtype(of: Types.int), let i = r.unboxedNumber.intLike { return i }
            guard let index = u.lookupSpecial(r, "__index__") else {
                throw typeError("__trunc__ returned non-Integral (type \(r.typeName))")
            }
            return try integerResult(u, try u.call(index, []), "__index__")
        }
    default: break
    }
    throw typeError("int() argument must be a string, a bytes-like object or a real number, not '\(v.typeName)'")
}

/// What `__int__`/`__index__` returned, which must be an int (an instance of a strict
/// subclass is taken with CPython's DeprecationWarning).
private func integerResult(_ u: Unit, _ r: Value, _ name: String) throws -> Int {
    if case .int(let i) = r { return i }
    if r.type.isSubtype(of: Types.int), let i = r.unboxedNumber.intLike {
        try u.warnStrictSubclassResult(name, r)
        return i
    }
    throw typeError("\(name) returned non-int (type \(r.typeName))")
}

/// `float(v)` for one argument.
func floatFromValue(_ u: Unit, _ v: Value) throws -> Double {
    switch v {
    case .float(let d): return d
    case .int(let i): return Double(i)
    case .bool(let b): return b ? 1 : 0
    case .obj(let o):
        if let b = o as? PyBoxedNumber {
            if let m = u.userMethod(v, "__float__") { return try u.floatResult(of: v, try u.call(m, [])) }
            return try floatFromValue(u, b.number)
        }
        if let s = o as? PyStr {
            // A str subclass's own __float__ comes before the parsing, as in CPython.
            if o.extendsBuiltinType, let m = u.userMethod(v, "__float__") { return try u.floatResult(of: v, try u.call(m, [])) }
            if let d = simpleDecimal(s.value) { return d }
            guard let d = parseFloatLiteral(asciiNumberText(s.value)) else {
                throw valueError("could not convert string to float: \(shownLiteral(u, v, strRepr(s.value)))")
            }
            return d
        }
        if let b = o as? PyBytes {
            guard let d = parseFloatLiteral(b.snapshot) else {
                // CPython shows the object: b'x' for bytes, bytearray(b'x') for a bytearray.
                throw valueError("could not convert string to float: \(b.isMutable ? "bytearray(\(bytesRepr(b.snapshot)))" : bytesRepr(b.snapshot))")
            }
            return d
        }
        if let m = u.lookupSpecial(v, "__float__") { return try u.floatResult(of: v, try u.call(m, [])) }
        if u.lookupSpecial(v, "__index__") != nil { return Double(try u.toIndex(v)) }
    default: break
    }
    throw typeError("float() argument must be a string or a real number, not '\(v.typeName)'")
}

// MARK: - Rounding

/// ``floatRound(_:_:)``, with CPython's OverflowError when a finite value rounds past
/// the largest float (`round(1.6e308, -308)`).
func checkedFloatRound(_ x: Double, _ ndigits: Int) throws -> Double {
    let r = floatRound(x, ndigits)
    if r.isInfinite && x.isFinite { throw overflowError("rounded value too large to represent") }
    return r
}

/// `round(x, ndigits)` for a float (correctly rounded, half to even, as CPython).
func floatRound(_ x: Double, _ ndigits: Int) -> Double {
    if !x.isFinite || x == 0 { return x }
    if ndigits > 323 { return x }
    if ndigits < -308 { return 0 * x }
    if ndigits >= 0 {
        return Double(doubleToString(x, UInt8(ascii: "f"), ndigits, [])) ?? x
    }
    let k = -ndigits
    let mag = x.magnitude
    var digits: [UInt8]
    if mag < 9007199254740992.0 {
        if k > 18 { return 0 * x }
        let m = intPow10(k)
        let q = Int(mag.rounded(.down))
        let frac = mag - Double(q)
        let r = q % m
        var base = q - r
        let twice = Double(2 * r) + 2 * frac
        if twice > Double(m) || (twice == Double(m) && (base / m) % 2 == 1) { base += m }
        return x.sign == .minus ? -Double(base) : Double(base)
    }
    // No fraction: round the exact integer digits.
    digits = Array(doubleToString(mag, UInt8(ascii: "f"), 0, []).utf8)
    let len = digits.count
    if k > len { return 0 * x }
    let keep = len - k
    let rest = digits[keep...]
    let half: Int  // compare rest with 5000…
    if rest.first! > 53 { half = 1 } else if rest.first! < 53 { half = -1 } else {
        half = rest.dropFirst().allSatisfy { $0 == 48 } ? 0 : 1
    }
    var kept = Array(digits[..<keep])
    let roundUp = half > 0 || (half == 0 && (kept.last.map { ($0 - 48) % 2 == 1 } ?? false))
    if roundUp {
        var j = kept.count - 1
        while j >= 0 && kept[j] == 57 { kept[j] = 48; j -= 1 }
        if j >= 0 { kept[j] += 1 } else { kept.insert(49, at: 0) }
    }
    if kept.isEmpty { kept = [48] }
    let text = String(decoding: kept, as: UTF8.self) + String(repeating: "0", count: k)
    let r = Double(text) ?? .infinity
    return x.sign == .minus ? -r : r
}

private func intPow10(_ k: Int) -> Int {
    var m = 1
    for _ in 0..<k { m *= 10 }
    return m
}

/// `round(i, ndigits)` for an int: multiples of 10**-ndigits, half to even.
func intRound(_ x: Int, _ ndigits: Int) throws -> Int {
    if ndigits >= 0 { return x }
    let k = ndigits == .min ? Int.max : -ndigits  // (-Int.min overflows; any k >= 19 acts alike)
    let mag = x.magnitude
    if k >= 19 {
        // 10**19 exceeds Int64: the result is 0, or out of range above half of it.
        if k == 19 && mag > 5_000_000_000_000_000_000 { throw overflowError(intOverflowMessage) }
        return 0
    }
    let m = intPow10(k)
    let um = UInt(m)
    let r = mag % um
    var base = mag - r
    if r * 2 > um || (r * 2 == um && (base / um) % 2 == 1) {
        let (s, o) = base.addingReportingOverflow(um)
        if o { throw overflowError(intOverflowMessage) }
        base = s
    }
    if x < 0 {
        guard base <= UInt(Int.max) + 1 else { throw overflowError(intOverflowMessage) }
        return base == UInt(Int.max) + 1 ? Int.min : -Int(base)
    }
    guard base <= UInt(Int.max) else { throw overflowError(intOverflowMessage) }
    return Int(base)
}

// MARK: - float.hex / fromhex

/// `x.hex()`.
func floatHex(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    let sign = x.sign == .minus ? "-" : ""
    if x == 0 { return sign + "0x0.0p+0" }
    let bits = x.significandBitPattern
    var frac = String(bits, radix: 16)
    frac = String(repeating: "0", count: 13 - frac.utf8.count) + frac
    let (lead, exp) = x.isNormal ? ("1", Int(x.exponent)) : ("0", -1022)
    return "\(sign)0x\(lead).\(frac)p\(exp >= 0 ? "+" : "-")\(exp.magnitude)"
}

/// `float.fromhex(s)`.
func floatFromHex(_ s: String) throws -> Double {
    let invalid = valueError("invalid hexadecimal floating-point string")
    var t = Array(s.utf8)[...]
    while let f = t.first, isASCIISpace(f) { t = t.dropFirst() }
    while let l = t.last, isASCIISpace(l) { t = t.dropLast() }
    var negative = false
    if let f = t.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { negative = f == UInt8(ascii: "-"); t = t.dropFirst() }
    let lower = String(decoding: t.map { $0 | 0x20 }, as: UTF8.self)
    if lower == "inf" || lower == "infinity" { return negative ? -.infinity : .infinity }
    if lower == "nan" { return .nan }
    var body = Array(t)
    if body.count >= 2 && body[0] == UInt8(ascii: "0") && (body[1] | 0x20) == UInt8(ascii: "x") { body.removeFirst(2) }
    func isHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102) }
    var k = 0, mantissaDigits = 0
    while k < body.count && isHex(body[k]) { k += 1; mantissaDigits += 1 }
    if k < body.count && body[k] == UInt8(ascii: ".") {
        k += 1
        while k < body.count && isHex(body[k]) { k += 1; mantissaDigits += 1 }
    }
    if mantissaDigits == 0 { throw invalid }
    let digitsEnd = k
    var exponent = 0
    if k < body.count {
        guard (body[k] | 0x20) == UInt8(ascii: "p") else { throw invalid }
        k += 1
        var expNegative = false
        if k < body.count && (body[k] == UInt8(ascii: "+") || body[k] == UInt8(ascii: "-")) {
            expNegative = body[k] == UInt8(ascii: "-"); k += 1
        }
        let digitStart = k
        // Clamped far beyond any float's range, so that a huge exponent cannot overflow.
        while k < body.count && body[k] >= 48 && body[k] <= 57 { exponent = min(exponent * 10 + Int(body[k] - 48), 1 << 40); k += 1 }
        if k == digitStart || k != body.count { throw invalid }
        if expNegative { exponent = -exponent }
    }
    let d = try roundedHexValue(body[..<digitsEnd], exponent)
    return negative ? -d : d
}

/// The float nearest to the hex digits `text` (with at most one '.') times 2**`exponent`,
/// ties to even, subnormals included, as CPython's float.fromhex rounds. (glibc's strtod
/// truncates some hex subnormals: 0x0.ffffffffffffecp-1022.)
private func roundedHexValue(_ text: ArraySlice<UInt8>, _ exponent: Int) throws -> Double {
    func hexDigit(_ c: UInt8) -> UInt64 { c <= 57 ? UInt64(c - 48) : UInt64((c | 0x20) - 87) }
    var mantissa: UInt64 = 0, kept = 0, sticky = false, scale = exponent, seenPoint = false
    for c in text {
        if c == UInt8(ascii: ".") { seenPoint = true; continue }
        let digit = hexDigit(c)
        if kept == 0 && digit == 0 {                 // a leading zero
            if seenPoint { scale -= 4 }
            continue
        }
        if kept < 15 {                               // 60 bits of mantissa
            mantissa = mantissa << 4 | digit; kept += 1
            if seenPoint { scale -= 4 }
        } else {
            if digit != 0 { sticky = true }
            if !seenPoint { scale += 4 }
        }
    }
    if mantissa == 0 { return 0 }
    let bitLength = 64 - mantissa.leadingZeroBitCount
    let top = scale + bitLength - 1                  // the value is in [2**top, 2**(top+1))
    if top > 1024 { throw overflowError("hexadecimal value too large to represent as a float") }
    let precision = top >= -1022 ? 53 : top + 1075   // fewer bits for a subnormal
    if precision < 0 { return 0 }
    var result = mantissa, resultScale = scale
    let shift = bitLength - precision
    if shift > 0 {
        result = mantissa >> UInt64(shift)
        let rest = mantissa & ((1 << UInt64(shift)) - 1), half: UInt64 = 1 << UInt64(shift - 1)
        if rest > half || (rest == half && (sticky || result & 1 == 1)) { result += 1 }
        resultScale += shift
    }
    let d = Double(sign: .plus, exponent: resultScale, significand: Double(result))
    if d.isInfinite { throw overflowError("hexadecimal value too large to represent as a float") }
    return d
}

// MARK: - int methods

@inline(__always) private func intRecv(_ v: Value, _ name: String) throws -> Int {
    switch v.unboxedNumber {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    default: throw typeError("descriptor '\(name)' for 'int' objects doesn't apply to a '\(v.typeName)' object")
    }
}

private func byteOrderArg(_ v: Value?, _ fn: String) throws -> Bool {
    guard let v else { return false }
    guard let s = v.asStr else { throw typeError("\(fn)() argument 'byteorder' must be str, not \(v.argTypeName)") }
    switch s.value {
    case "big": return false
    case "little": return true
    default: throw valueError("byteorder must be either 'little' or 'big'")
    }
}

func installIntMethods(_ t: PyType) {
    t.constructor = { u, type, a in
        let r = try intConstructor(u, a)
        return type === Types.int ? r : .obj(PyBoxedNumber(r, type: type))
    }
    t.constructor1 = { u, x in .int(try intFromValue(u, x)) }
    func intConstructor(_ u: Unit, _ a: Args) throws -> Value {
        if a.count + a.keywords.count > 2 {
            throw typeError("int() takes at most 2 arguments (\(a.count + a.keywords.count) given)")
        }
        var baseValue: Value? = a.count == 2 ? a[1] : nil
        for (k, v) in a.keywords {
            guard k == "base" else { throw typeError("'\(k)' is an invalid keyword argument for int()") }
            if baseValue != nil { throw typeError("argument for int() given by name ('base') and position (2)") }
            baseValue = v
        }
        guard let baseValue else { return a.count == 0 ? .int(0) : .int(try intFromValue(u, a[0])) }
        guard a.count >= 1 else { throw typeError("int() missing string argument") }
        let base = try u.toIndex(baseValue)
        guard base == 0 || (base >= 2 && base <= 36) else { throw valueError("int() base must be >= 2 and <= 36, or 0") }
        let x = a[0]
        let text: [UInt8], shown: String
        if let s = x.asStr { text = asciiNumberText(s.value); shown = shownLiteral(u, x, strRepr(s.value)) }
        else if case .obj(let o) = x, let b = o as? PyBytes { text = b.snapshot; shown = bytesRepr(b.snapshot) }
        else { throw typeError("int() can't convert non-string with explicit base") }
        guard let i = try parseIntLiteral(text, base: base) else {
            throw valueError("invalid literal for int() with base \(base): \(shown)")
        }
        return .int(i)
    }
    t.method("bit_length") { _, v, a in
        let i = try intRecv(v, "bit_length"); try ContainerArgs.none(a, "int.bit_length")
        return .int(Int.bitWidth - i.magnitude.leadingZeroBitCount)
    }
    t.method("bit_count") { _, v, a in
        let i = try intRecv(v, "bit_count"); try ContainerArgs.none(a, "int.bit_count")
        return .int(i.magnitude.nonzeroBitCount)
    }
    t.method("conjugate") { _, v, a in
        let i = try intRecv(v, "conjugate"); try ContainerArgs.none(a, "int.conjugate")
        return .int(i)
    }
    t.method("as_integer_ratio") { _, v, a in
        let i = try intRecv(v, "as_integer_ratio"); try ContainerArgs.none(a, "int.as_integer_ratio")
        return .obj(PyTuple([.int(i), .int(1)]))
    }
    t.method("__index__") { _, v, a in
        let i = try intRecv(v, "__index__"); try ContainerArgs.none(a, "int.__index__")
        return .int(i)
    }
    t.method("__int__") { _, v, a in
        let i = try intRecv(v, "__int__"); try ContainerArgs.none(a, "int.__int__")
        return .int(i)
    }
    t.method("__float__") { _, v, a in
        let i = try intRecv(v, "__float__"); try ContainerArgs.none(a, "int.__float__")
        return .float(Double(i))
    }
    t.method("__round__") { u, v, a in
        let i = try intRecv(v, "__round__")
        try TextArgs.range(a, "int.__round__", 0, 1)
        if a.count == 0 || a[0].isNone { return .int(i) }
        return .int(try intRound(i, try u.toIndex(a[0])))
    }
    t.method("__format__") { _, v, a in
        let i = try intRecv(v, "__format__")
        let arg = try ContainerArgs.one(a, "int.__format__")
        guard let spec = arg.asStr else { throw typeError("__format__() argument must be str, not \(arg.argTypeName)") }
        return .str(try formatScalar(v.isBoolValue ? v : .int(i), spec.value, typeName: v.typeName) ?? "")
    }
    t.getter("real") { _, v in .int(try intRecv(v, "real")) }
    t.getter("imag") { _, v in _ = try intRecv(v, "imag"); return .int(0) }
    t.getter("numerator") { _, v in .int(try intRecv(v, "numerator")) }
    t.getter("denominator") { _, v in _ = try intRecv(v, "denominator"); return .int(1) }
    t.method("to_bytes") { u, v, a in
        let i = try intRecv(v, "to_bytes")
        try a.expectClinic("to_bytes", ["length", "byteorder", "signed"], required: 0, maxPositional: 2)
        let length = try a.argument(0, "length").map { try u.toIndex($0) } ?? 1
        let little = try byteOrderArg(a.argument(1, "byteorder"), "to_bytes")
        let signed = try a.keyword("signed").map { try u.isTruthy($0) } ?? false
        if length < 0 { throw valueError("length argument must be non-negative") }
        if i < 0 && !signed { throw overflowError("can't convert negative int to unsigned") }
        // The value must be recoverable from `length` bytes.
        let bitsNeeded: Int
        if i == 0 || (i == -1 && signed) { bitsNeeded = 0 }
        else if !signed { bitsNeeded = Int.bitWidth - i.leadingZeroBitCount }
        else { bitsNeeded = Int.bitWidth - (i < 0 ? (~i).leadingZeroBitCount : i.leadingZeroBitCount) + 1 }
        if length > 1 << 40 { throw overflowError("byte string is too large") }
        if bitsNeeded > length * 8 { throw overflowError("int too big to convert") }
        try checkBuildSize(length)
        var out = [UInt8](repeating: i < 0 ? 0xff : 0, count: length)
        for k in 0..<min(length, 8) { out[length - 1 - k] = UInt8(truncatingIfNeeded: i >> (8 * k)) }
        return .obj(PyBytes(little ? out.reversed() : out))
    }
    t.classFunction("from_bytes") { u, all in
        // On a subclass (bool.from_bytes), the class is called with the int, as in CPython.
        var a = all
        let cls = a.positional.removeFirst()
        let value = try intFromBytes(u, a)
        if case .obj(let c) = cls, c === Types.int { return value }
        return try u.call(cls, [value])
    }
    /// int.from_bytes's conversion.
    func intFromBytes(_ u: Unit, _ a: Args) throws -> Value {
        try a.expectClinic("from_bytes", ["bytes", "byteorder", "signed"], required: 1, maxPositional: 2)
        let source = a.argument(0, "bytes")!
        let little = try byteOrderArg(a.argument(1, "byteorder"), "from_bytes")
        let signed = try a.keyword("signed").map { try u.isTruthy($0) } ?? false
        var bytes: [UInt8]
        if case .obj(let o) = source, let b = o as? PyBytes { bytes = b.snapshot } else {
            if source.asStr != nil { throw typeError("cannot convert 'str' object to bytes") }
            let items: [Value]
            do { items = try u.toArray(source) } catch let e as PyBaseException where e.type.isSubtype(of: Exc.typeError) {
                throw typeError("cannot convert '\(source.typeName)' object to bytes")
            }
            bytes = try items.map { x in
                let k = try u.toIndex(x)
                guard k >= 0 && k < 256 else { throw valueError("bytes must be in range(0, 256)") }
                return UInt8(k)
            }
        }
        if little { bytes.reverse() }
        let negative = signed && (bytes.first ?? 0) >= 0x80
        var value: UInt = 0
        var significant = false
        for b in bytes {
            let v = negative ? ~b : b
            if !significant && v == 0 { continue }
            significant = true
            if value >> 56 != 0 { throw overflowError(intOverflowMessage) }
            value = value << 8 | UInt(v)
        }
        if negative {
            // value holds ~x; x = -(value) - 1
            guard value <= UInt(Int.max) else { throw overflowError(intOverflowMessage) }
            return .int(-Int(value) - 1)
        }
        guard value <= UInt(Int.max) else { throw overflowError(intOverflowMessage) }
        return .int(Int(value))
    }
}

// MARK: - float methods

@inline(__always) private func floatRecv(_ v: Value, _ name: String) throws -> Double {
    if case .float(let d) = v.unboxedNumber { return d }
    throw typeError("descriptor '\(name)' for 'float' objects doesn't apply to a '\(v.typeName)' object")
}

func installFloatMethods(_ t: PyType) {
    t.constructor = { u, type, a in
        try TextArgs.range(a, "float", 0, 1)
        let r: Value = a.count == 0 ? .float(0) : .float(try floatFromValue(u, a[0]))
        return type === Types.float ? r : .obj(PyBoxedNumber(r, type: type))
    }
    t.constructor1 = { u, x in .float(try floatFromValue(u, x)) }
    t.method("is_integer") { _, v, a in
        let d = try floatRecv(v, "is_integer"); try ContainerArgs.none(a, "float.is_integer")
        return .bool(d.isFinite && d == d.rounded(.towardZero))
    }
    t.method("as_integer_ratio") { _, v, a in
        let d = try floatRecv(v, "as_integer_ratio"); try ContainerArgs.none(a, "float.as_integer_ratio")
        if d.isNaN { throw valueError("cannot convert NaN to integer ratio") }
        if d.isInfinite { throw overflowError("cannot convert Infinity to integer ratio") }
        if d == 0 { return .obj(PyTuple([.int(0), .int(1)])) }
        // d = significand * 2^exp with an odd integer significand.
        var m = d.significandBitPattern | (d.isNormal ? 1 << 52 : 0)
        var e = (d.isNormal ? Int(d.exponent) : -1022) - 52
        let tz = m.trailingZeroBitCount
        m >>= UInt64(tz); e += tz
        let sign = d < 0 ? -1 : 1
        if e >= 0 {
            guard (64 - m.leadingZeroBitCount) + e <= 63 else { throw overflowError(intOverflowMessage) }
            return .obj(PyTuple([.int(sign * Int(m << UInt64(e))), .int(1)]))
        }
        guard -e <= 62 else { throw overflowError(intOverflowMessage) }
        return .obj(PyTuple([.int(sign * Int(m)), .int(1 << -e)]))
    }
    t.method("hex") { _, v, a in
        let d = try floatRecv(v, "hex"); try ContainerArgs.none(a, "float.hex")
        return .str(floatHex(d))
    }
    t.classFunction("fromhex") { u, a in
        // A class method, as in CPython: `F.fromhex(s)` of a subclass returns `F(value)`.
        guard a.count == 2 else { throw typeError("float.fromhex() takes exactly one argument (\(max(a.count - 1, 0)) given)") }
        if !a.keywords.isEmpty { throw typeError("float.fromhex() takes no keyword arguments") }
        guard let s = a[1].asStr else { throw typeError("bad argument type for built-in operation") }  // CPython's words
        let d = Value.float(try floatFromHex(s.value))
        guard case .obj(let o) = a[0], let cls = o as? PyType, cls !== Types.float else { return d }
        return try u.call(a[0], [d])
    }
    t.method("conjugate") { _, v, a in
        let d = try floatRecv(v, "conjugate"); try ContainerArgs.none(a, "float.conjugate")
        return .float(d)
    }
    t.getter("real") { _, v in .float(try floatRecv(v, "real")) }
    t.getter("imag") { _, v in _ = try floatRecv(v, "imag"); return .float(0) }
    t.method("__int__") { _, v, a in
        let d = try floatRecv(v, "__int__"); try ContainerArgs.none(a, "float.__int__")
        return .int(try doubleToInt(d))
    }
    t.method("__trunc__") { _, v, a in
        let d = try floatRecv(v, "__trunc__"); try ContainerArgs.none(a, "float.__trunc__")
        return .int(try doubleToInt(d))
    }
    t.method("__floor__") { _, v, a in
        let d = try floatRecv(v, "__floor__"); try ContainerArgs.none(a, "float.__floor__")
        return .int(try doubleToInt(d.rounded(.down)))
    }
    t.method("__ceil__") { _, v, a in
        let d = try floatRecv(v, "__ceil__"); try ContainerArgs.none(a, "float.__ceil__")
        return .int(try doubleToInt(d.rounded(.up)))
    }
    t.method("__float__") { _, v, a in
        let d = try floatRecv(v, "__float__"); try ContainerArgs.none(a, "float.__float__")
        return .float(d)
    }
    t.method("__round__") { u, v, a in
        let d = try floatRecv(v, "__round__")
        try TextArgs.range(a, "float.__round__", 0, 1)
        if a.count == 0 || a[0].isNone { return .int(try doubleToInt(d.rounded(.toNearestOrEven))) }
        return .float(try checkedFloatRound(d, try u.toIndex(a[0])))
    }
    t.method("__format__") { _, v, a in
        let d = try floatRecv(v, "__format__")
        let arg = try ContainerArgs.one(a, "float.__format__")
        guard let spec = arg.asStr else { throw typeError("__format__() argument must be str, not \(arg.argTypeName)") }
        return .str(try formatScalar(.float(d), spec.value, typeName: v.typeName) ?? "")
    }
}

// MARK: - bool

func installBoolMethods(_ t: PyType) {
    t.constructor = { u, _, a in
        try TextArgs.range(a, "bool", 0, 1)
        return .bool(a.count == 1 ? try u.isTruthy(a[0]) : false)
    }
}

private extension Value {
    var isBoolValue: Bool { if case .bool = self { return true }; return false }
}

/// How CPython shows the argument of int()/float() in "invalid literal" messages: its
/// repr, so a str subclass's own __repr__ (`S('x')`); `plain` for a plain str or bytes.
func shownLiteral(_ u: Unit, _ v: Value, _ plain: String) -> String {
    if case .obj(let o) = v, o.extendsBuiltinType, let r = try? u.repr(v) { return r }
    return plain
}
