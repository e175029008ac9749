// The format-spec mini-language (`format(x, spec)`, f-string `{x:spec}`, `str.format`) for
// the builtin scalar types, and the float-to-text conversion every formatting style shares
// (CPython's PyOS_double_to_string, with correctly rounded digits).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Entry points

/// `format(v, spec)` for int, float, bool, str and None; nil for every other value (the
/// caller then uses `__format__` or `str()`).
func formatBuiltin(_ u: Unit, _ v: Value, _ spec: String) throws -> String? {
    try formatScalar(v, spec)
}

/// The Unit-free core of ``formatBuiltin``. `typeName` names the value's class in errors
/// when it is a subclass of int or float (`Unknown format code 's' for object of type 'I'`).
func formatScalar(_ v: Value, _ spec: String, typeName: String? = nil) throws -> String? {
    switch v {
    case .int(let i):
        if spec.isEmpty { return decimalString(i) }
        let name = typeName ?? "int"
        return try formatInt(i, try FormatSpec(spec, defaultAlign: ">", defaultType: "d", typeName: name), typeName: name)
    case .bool(let b):
        if spec.isEmpty { return b ? "True" : "False" }
        return try formatInt(b ? 1 : 0, try FormatSpec(spec, defaultAlign: ">", defaultType: "d", typeName: "bool"), typeName: "bool")
    case .float(let d):
        if spec.isEmpty { return floatRepr(d) }
        let name = typeName ?? "float"
        return try formatFloat(d, try FormatSpec(spec, defaultAlign: ">", defaultType: noFormatType, typeName: name), typeName: name)
    case .none:
        if spec.isEmpty { return "None" }
        throw typeError("unsupported format string passed to NoneType.__format__")
    case .obj(let o):
        guard let s = o as? PyStr else { return nil }
        if spec.isEmpty { return s.value }
        return try formatString(s.value, try FormatSpec(spec, defaultAlign: "<", defaultType: "s", typeName: o.type.name),
                                typeName: o.type.name, scalarCount: s.count)
    case .unbound:
        return nil
    }
}

// MARK: - The parsed specifier

/// `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`, parsed as CPython's
/// `parse_internal_render_format_spec` does (same checks, same order, same messages).
struct FormatSpec {
    var fill: Unicode.Scalar = " "
    var align: UInt8
    var sign: UInt8 = 0
    var noNegZero = false
    var alternate = false
    var width = -1
    /// `,` or `_` (0 for none).
    var grouping: UInt8 = 0
    /// Digits per group: 3, or 4 for `_` with b/o/x/X.
    var groupSize = 3
    var precision = -1
    /// The presentation type (`d`, `f`, ...); ``noFormatType`` when the spec has none and the
    /// type has no default (float).
    var type: Unicode.Scalar

    init(_ spec: String, defaultAlign: Unicode.Scalar, defaultType: Unicode.Scalar, typeName: String) throws {
        align = UInt8(defaultAlign.value)
        type = defaultType
        // An ASCII spec (nearly all) is read from its bytes: the scalar view's indexing
        // costs several times more.
        let s: [Unicode.Scalar] = withUTF8(spec) { bytes in
            bytes.allSatisfy { $0 < 0x80 } ? bytes.map { Unicode.Scalar($0) } : Array(spec.unicodeScalars)
        }
        var pos = 0
        let end = s.count
        func isAlign(_ c: Unicode.Scalar) -> Bool { c == "<" || c == ">" || c == "=" || c == "^" }
        var fillSpecified = false, alignSpecified = false
        if end - pos >= 2 && isAlign(s[pos + 1]) {
            align = UInt8(s[pos + 1].value); fill = s[pos]
            fillSpecified = true; alignSpecified = true
            pos += 2
        } else if end - pos >= 1 && isAlign(s[pos]) {
            align = UInt8(s[pos].value); alignSpecified = true
            pos += 1
        }
        if pos < end && (s[pos] == "+" || s[pos] == "-" || s[pos] == " ") {
            sign = UInt8(s[pos].value); pos += 1
        }
        if pos < end && s[pos] == "z" { noNegZero = true; pos += 1 }
        if pos < end && s[pos] == "#" { alternate = true; pos += 1 }
        if !fillSpecified && pos < end && s[pos] == "0" {
            fill = "0"
            if !alignSpecified && defaultAlign == ">" { align = UInt8(ascii: "=") }
            pos += 1
        }
        func integer() throws -> Int? {
            var n = 0, digits = 0
            while pos < end, let d = asciiDigit(s[pos]) {
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(d)
                if o1 || o2 || a > Int(Int32.max) { throw valueError("Too many decimal digits in format string") }
                n = a; digits += 1; pos += 1
            }
            return digits == 0 ? nil : n
        }
        if let w = try integer() { width = w }
        if pos < end && s[pos] == "," { grouping = UInt8(ascii: ","); pos += 1 }
        if pos < end && s[pos] == "_" {
            if grouping != 0 { throw valueError("Cannot specify both ',' and '_'.") }
            grouping = UInt8(ascii: "_"); pos += 1
        }
        if pos < end && s[pos] == "," && grouping == UInt8(ascii: "_") {
            throw valueError("Cannot specify both ',' and '_'.")
        }
        if pos < end && s[pos] == "." {
            pos += 1
            guard let p = try integer() else { throw valueError("Format specifier missing precision") }
            precision = p
        }
        if end - pos > 1 {
            throw valueError("Invalid format specifier '\(spec)' for object of type '\(typeName)'")
        }
        if end - pos == 1 { type = s[pos] }
        if grouping != 0 {
            switch type {
            case "d", "e", "f", "g", "E", "G", "%", "F", noFormatType: break
            case "b", "o", "x", "X":
                guard grouping == UInt8(ascii: "_") else { fallthrough }
                groupSize = 4
            default:
                let t = type.value >= 32 && type.value < 128 ? String(type) : "\\x" + String(type.value, radix: 16)
                throw valueError("Cannot specify '\(Character(Unicode.Scalar(grouping)))' with '\(t)'.")
            }
        }
    }
}

/// The presentation type of a spec that has none (floats default to it).
let noFormatType = Unicode.Scalar(UInt8(0))

@inline(__always) func asciiDigit(_ c: Unicode.Scalar) -> Int? {
    c.value >= 48 && c.value <= 57 ? Int(c.value - 48) : nil
}

private func unknownFormatCode(_ type: Unicode.Scalar, _ typeName: String) -> PyBaseException {
    if type.value > 32 && type.value < 128 {
        return valueError("Unknown format code '\(Character(type))' for object of type '\(typeName)'")
    }
    return valueError("Unknown format code '\\x\(String(type.value, radix: 16))' for object of type '\(typeName)'")
}

// MARK: - str

/// `format(s, spec)` for a str (CPython's `format_string_internal`).
func formatString(_ s: String, _ spec: FormatSpec, typeName: String = "str", scalarCount: Int? = nil) throws -> String {
    guard spec.type == "s" else { throw unknownFormatCode(spec.type, typeName) }
    if spec.sign != 0 {
        throw valueError(spec.sign == UInt8(ascii: " ") ? "Space not allowed in string format specifier"
                                                        : "Sign not allowed in string format specifier")
    }
    if spec.noNegZero { throw valueError("Negative zero coercion (z) not allowed in string format specifier") }
    if spec.alternate { throw valueError("Alternate form (#) not allowed in string format specifier") }
    if spec.align == UInt8(ascii: "=") { throw valueError("'=' alignment not allowed in string format specifier") }
    var text = s
    var len = scalarCount ?? s.unicodeScalars.count
    if spec.precision >= 0 && len > spec.precision {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: s.unicodeScalars.prefix(spec.precision))
        text = String(scalars)
        len = spec.precision
    }
    return pad(text, len, spec)
}

/// Pads `text` (of `len` scalars) to the spec's width with its fill and alignment.
private func pad(_ text: String, _ len: Int, _ spec: FormatSpec) -> String {
    guard spec.width > len else { return text }
    let total = spec.width - len
    let left: Int
    switch spec.align {
    case UInt8(ascii: ">"): left = total
    case UInt8(ascii: "^"): left = total / 2
    default: left = 0
    }
    if spec.fill.isASCII {
        // One copy into the result's storage.
        let fill = UInt8(spec.fill.value)
        return withUTF8(text) { t in
            String(unsafeUninitializedCapacity: t.count + total) { out in
                var k = 0
                for _ in 0..<left { out[k] = fill; k += 1 }
                for b in t { out[k] = b; k += 1 }
                for _ in 0..<(total - left) { out[k] = fill; k += 1 }
                return k
            }
        }
    }
    let fill = String(Character(spec.fill))
    return String(repeating: fill, count: left) + text + String(repeating: fill, count: total - left)
}

// MARK: - int

/// `format(i, spec)` for an int or bool (CPython's `format_long_internal`, plus the float
/// presentation types that convert to float first).
func formatInt(_ value: Int, _ spec: FormatSpec, typeName: String) throws -> String {
    switch spec.type {
    case "b", "c", "d", "o", "x", "X", "n": break
    case "e", "E", "f", "F", "g", "G", "%": return try formatFloat(Double(value), spec, typeName: typeName)
    default: throw unknownFormatCode(spec.type, typeName)
    }
    if spec.precision >= 0 { throw valueError("Precision not allowed in integer format specifier") }
    if spec.noNegZero { throw valueError("Negative zero coercion (z) not allowed in integer format specifier") }
    if spec.type == "d" && spec.grouping == 0 && spec.sign == 0 && spec.align != UInt8(ascii: "=") {
        // No sign, prefix or grouping to place: the digits padded as a string would be.
        let text = String(value)
        return pad(text, text.utf8.count, spec)
    }
    if spec.type == "c" {
        if spec.sign != 0 { throw valueError("Sign not allowed with integer format specifier 'c'") }
        if spec.alternate { throw valueError("Alternate form (#) not allowed with integer format specifier 'c'") }
        guard value >= 0 && value <= 0x10ffff else { throw overflowError("%c arg not in range(0x110000)") }
        let ch = Unicode.Scalar(UInt32(value)).map { String(Character($0)) } ?? "\u{FFFD}"
        return layoutNumber(negative: false, prefix: "", digits: [], remainder: ch, remainderCount: 1, spec: spec)
    }
    var radix = 10, prefix = ""
    switch spec.type {
    case "b": radix = 2; prefix = "0b"
    case "o": radix = 8; prefix = "0o"
    case "x": radix = 16; prefix = "0x"
    case "X": radix = 16; prefix = "0X"
    default: break
    }
    if !spec.alternate { prefix = "" }
    var spec = spec
    if spec.type == "n" { spec.grouping = 0 }  // the C locale has no grouping
    let digits = Array(String(value.magnitude, radix: radix, uppercase: spec.type == "X").utf8)
    return layoutNumber(negative: value < 0, prefix: prefix, digits: digits, remainder: "", remainderCount: 0, spec: spec)
}

// MARK: - float

/// `format(d, spec)` for a float (CPython's `format_float_internal`).
func formatFloat(_ value: Double, _ spec: FormatSpec, typeName: String) throws -> String {
    var type = spec.type
    var flags: DoubleFormatFlags = []
    var defaultPrecision = 6
    switch type {
    case noFormatType, "e", "E", "f", "F", "g", "G", "n", "%": break
    default: throw unknownFormatCode(type, typeName)
    }
    if spec.type == "n" && spec.grouping != 0 {
        throw valueError("Cannot specify '\(Character(Unicode.Scalar(spec.grouping)))' with 'n'.")
    }
    if spec.alternate { flags.insert(.alt) }
    if spec.noNegZero { flags.insert(.noNegZero) }
    if type.value == 0 { flags.insert(.addDot0); type = "r"; defaultPrecision = 0 }
    if type == "n" { type = "g" }
    var val = value
    var addPercent = false
    if type == "%" { type = "f"; val *= 100; addPercent = true }
    var precision = spec.precision
    if precision < 0 { precision = defaultPrecision } else if type == "r" { type = "g" }
    var text = doubleToString(val, UInt8(type.value), precision, flags)
    if addPercent { text += "%" }
    if spec.sign != UInt8(ascii: "+") && spec.sign != UInt8(ascii: " ") && spec.grouping == 0 {
        if spec.width == -1 { return text }
        // No sign to add and no grouping: the text padded as a string would be (it is ASCII).
        if spec.align != UInt8(ascii: "=") { return pad(text, text.utf8.count, spec) }
    }
    var bytes = Array(text.utf8)[...]
    var negative = false
    if bytes.first == UInt8(ascii: "-") { negative = true; bytes = bytes.dropFirst() }
    let digitEnd = bytes.firstIndex { $0 < 48 || $0 > 57 } ?? bytes.endIndex
    let digits = Array(bytes[..<digitEnd])
    let rest = bytes[digitEnd...]
    var spec = spec
    if spec.type == "n" { spec.grouping = 0 }
    return layoutNumber(negative: negative, prefix: "", digits: digits,
                        remainder: String(decoding: rest, as: UTF8.self), remainderCount: rest.count, spec: spec)
}

// MARK: - Number layout

/// Assembles `<lpad><sign><prefix><spad><grouped digits><remainder><rpad>` as CPython's
/// `calc_number_widths` + `fill_number` do, including zero padding through the grouping
/// (`format(1234, '010,')` is `'00,001,234'`).
func layoutNumber(negative: Bool, prefix: String, digits: [UInt8], remainder: String, remainderCount: Int,
                  spec: FormatSpec) -> String {
    var signChar: String = ""
    switch spec.sign {
    case UInt8(ascii: "+"): signChar = negative ? "-" : "+"
    case UInt8(ascii: " "): signChar = negative ? "-" : " "
    default: signChar = negative ? "-" : ""
    }
    let nonDigit = signChar.utf8.count + prefix.utf8.count + remainderCount
    let minWidth = spec.fill == "0" && spec.align == UInt8(ascii: "=") ? spec.width - nonDigit : 0
    let grouped: [UInt8]
    if digits.isEmpty {
        grouped = []
    } else {
        grouped = groupDigits(digits, minWidth: minWidth, separator: spec.grouping, size: spec.groupSize)
    }
    let padding = spec.width - (nonDigit + grouped.count)
    var lpad = 0, spad = 0, rpad = 0
    if padding > 0 {
        switch spec.align {
        case UInt8(ascii: "<"): rpad = padding
        case UInt8(ascii: "^"): lpad = padding / 2; rpad = padding - lpad
        case UInt8(ascii: "="): spad = padding
        default: lpad = padding
        }
    }
    let fill = String(Character(spec.fill))
    var out = ""
    if lpad > 0 { out += String(repeating: fill, count: lpad) }
    out += signChar
    out += prefix
    if spad > 0 { out += String(repeating: fill, count: spad) }
    out += String(decoding: grouped, as: UTF8.self)
    out += remainder
    if rpad > 0 { out += String(repeating: fill, count: rpad) }
    return out
}

/// CPython's `_PyUnicode_InsertThousandsGrouping` for a repeating group size: inserts
/// `separator` (0 for none) every `size` digits and pads with zeros (through the separators)
/// up to `minWidth` characters.
func groupDigits(_ digits: [UInt8], minWidth: Int, separator: UInt8, size: Int) -> [UInt8] {
    var out: [UInt8] = []  // built right to left
    out.reserveCapacity(max(digits.count * 2, minWidth))
    var remaining = digits.count
    var minWidth = minWidth
    var pos = digits.count
    func emit(_ l: Int, _ useSep: Bool) {
        let zeros = max(0, l - remaining)
        let chars = max(0, min(remaining, l))
        if useSep { out.append(separator) }
        for i in 0..<chars { out.append(digits[pos - 1 - i]) }
        pos -= chars
        for _ in 0..<zeros { out.append(UInt8(ascii: "0")) }
        remaining -= chars
    }
    if separator == 0 {
        emit(max(remaining, minWidth, 1), false)
    } else {
        var useSep = false
        while true {
            let l = min(size, max(remaining, minWidth, 1))
            emit(l, useSep)
            useSep = true
            minWidth -= l
            if remaining <= 0 && minWidth <= 0 { break }
            minWidth -= 1
        }
    }
    return out.reversed()
}

// MARK: - Double to text (PyOS_double_to_string)

struct DoubleFormatFlags: OptionSet {
    let rawValue: Int
    static let alwaysSign = DoubleFormatFlags(rawValue: 1)
    static let addDot0 = DoubleFormatFlags(rawValue: 2)
    static let alt = DoubleFormatFlags(rawValue: 4)
    static let noNegZero = DoubleFormatFlags(rawValue: 8)
}

/// CPython's `PyOS_double_to_string`: `code` is one of `e E f F g G r`; `r` gives the
/// shortest repr digits. Digits are correctly rounded (half-even on exact ties), as CPython's.
func doubleToString(_ value: Double, _ code: UInt8, _ precision: Int, _ flags: DoubleFormatFlags) -> String {
    var code = code
    var precision = precision
    var upper = false
    switch code {
    case UInt8(ascii: "E"): upper = true; code = UInt8(ascii: "e"); precision += 1
    case UInt8(ascii: "e"): precision += 1
    case UInt8(ascii: "F"): upper = true; code = UInt8(ascii: "f")
    case UInt8(ascii: "G"): upper = true; code = UInt8(ascii: "g"); if precision == 0 { precision = 1 }
    case UInt8(ascii: "g"): if precision == 0 { precision = 1 }
    default: break
    }
    if code == UInt8(ascii: "f") && flags.isEmpty, let text = fixedPointExact(value, precision) { return text }
    var out = ""
    if value.isNaN {
        if flags.contains(.alwaysSign) { out += "+" }
        return out + (upper ? "NAN" : "nan")
    }
    if value.isInfinite {
        if value < 0 { out += "-" } else if flags.contains(.alwaysSign) { out += "+" }
        return out + (upper ? "INF" : "inf")
    }
    let (digits, decpt0) = decimalDigits(value.magnitude, code: code, precision: precision)
    var decpt = decpt0
    var negative = value.sign == .minus
    if flags.contains(.noNegZero) && negative && (digits.isEmpty || digits == [UInt8(ascii: "0")]) {
        negative = false
    }
    if negative { out += "-" } else if flags.contains(.alwaysSign) { out += "+" }

    let addDot0 = flags.contains(.addDot0)
    let alt = flags.contains(.alt)
    var useExp = false
    var vdigitsEnd = digits.count
    switch code {
    case UInt8(ascii: "e"): useExp = true; vdigitsEnd = precision
    case UInt8(ascii: "f"): vdigitsEnd = decpt + precision
    case UInt8(ascii: "g"):
        if decpt <= -4 || decpt > (addDot0 ? precision - 1 : precision) { useExp = true }
        if alt { vdigitsEnd = precision }
    default:  // "r"
        if decpt <= -4 || decpt > 16 { useExp = true }
    }
    var exp = 0
    if useExp { exp = decpt - 1; decpt = 1 }
    let vdigitsStart = decpt <= 0 ? decpt - 1 : 0
    if !useExp && addDot0 {
        vdigitsEnd = max(vdigitsEnd, decpt + 1)
    } else {
        vdigitsEnd = max(vdigitsEnd, decpt)
    }
    var buf: [UInt8] = []
    buf.reserveCapacity(vdigitsEnd - vdigitsStart + 8)
    let zero = UInt8(ascii: "0"), dot = UInt8(ascii: ".")
    if decpt <= 0 {
        buf.append(contentsOf: repeatElement(zero, count: decpt - vdigitsStart))
        buf.append(dot)
        buf.append(contentsOf: repeatElement(zero, count: -decpt))
    } else {
        buf.append(contentsOf: repeatElement(zero, count: -vdigitsStart))
    }
    if 0 < decpt && decpt <= digits.count {
        buf.append(contentsOf: digits[0..<decpt])
        buf.append(dot)
        buf.append(contentsOf: digits[decpt...])
    } else {
        buf.append(contentsOf: digits)
    }
    if digits.count < decpt {
        buf.append(contentsOf: repeatElement(zero, count: decpt - digits.count))
        buf.append(dot)
        buf.append(contentsOf: repeatElement(zero, count: vdigitsEnd - decpt))
    } else {
        buf.append(contentsOf: repeatElement(zero, count: vdigitsEnd - digits.count))
    }
    if buf.last == dot && !alt { buf.removeLast() }
    out += String(decoding: buf, as: UTF8.self)
    if useExp {
        out += upper ? "E" : "e"
        out += exp < 0 ? "-" : "+"
        let e = String(exp.magnitude)
        if e.utf8.count < 2 { out += "0" }
        out += e
    }
    return out
}

/// Exact powers of ten 10^0 ... 10^15 (every one is a double exactly).
private let exactPowersOfTen: [Double] = (0...15).map { p in (0..<p).reduce(1.0) { v, _ in v * 10 } }

/// `%.{precision}f` of `value` computed exactly in double arithmetic, or nil when it cannot
/// be (precision above 15, or |value| × 10^precision not below 2^52): the scaled value
/// x·10^p is hi + lo exactly (lo from a fused multiply-add), so rounding hi to the nearest
/// integer, corrected by the sign of lo at a half-way hi, rounds the exact value correctly,
/// half-even on exact ties as CPython's dtoa does. The sign is kept for -0.0 and values
/// that round to zero, as in CPython (`'%.1f' % -0.01` is `'-0.0'`).
private func fixedPointExact(_ value: Double, _ precision: Int) -> String? {
    guard precision >= 0 && precision <= 15 && value.isFinite else { return nil }
    let scale = exactPowersOfTen[precision]
    let x = value.magnitude
    let hi = x * scale
    guard hi < 4503599627370496.0 else { return nil }  // 2^52: integers and halves are exact
    let lo = (-hi).addingProduct(x, scale)  // x * scale - hi, exactly
    var n = hi.rounded(.toNearestOrEven)
    let d = hi - n  // exact (Sterbenz)
    if d == 0.5 && lo > 0 { n += 1 } else if d == -0.5 && lo < 0 { n -= 1 }
    var k = UInt64(n)
    let negative = value.sign == .minus
    // sign + up to 16 integer digits + point + 15 decimals
    return String(unsafeUninitializedCapacity: 40) { buf in
        var end = 40
        var written = 0
        func put(_ b: UInt8) { end -= 1; buf[end] = b }
        while written < precision { put(UInt8(48 + k % 10)); k /= 10; written += 1 }
        if precision > 0 { put(UInt8(ascii: ".")) }
        repeat { put(UInt8(48 + k % 10)); k /= 10 } while k > 0
        if negative { put(UInt8(ascii: "-")) }
        let count = 40 - end
        UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: buf.baseAddress! + end, byteCount: count)  // memmove
        return count
    }
}

/// Decimal digits of a finite non-negative double, as David Gay's `_Py_dg_dtoa` returns them:
/// no trailing zeros, `decpt` the position of the decimal point (value = 0.d1d2… × 10^decpt).
/// `code` `r`: shortest round-trip digits; `e`/`g`: `precision` significant digits; `f`:
/// `precision` digits after the point (possibly none at all, with decpt = -precision).
func decimalDigits(_ x: Double, code: UInt8, precision: Int) -> (digits: [UInt8], decpt: Int) {
    if x == 0 { return ([UInt8(ascii: "0")], 1) }
    let shortest = parseExponential(Array(x.description.utf8))
    switch code {
    case UInt8(ascii: "f"):
        if let r = roundShortest(x, shortest, keep: shortest.decpt + precision, fixedPrecision: precision) { return r }
        return fixedDigits(cFormat(x, fixed: true, precision), precision)
    case UInt8(ascii: "e"), UInt8(ascii: "g"):
        let n = max(precision, 1)
        if let r = roundShortest(x, shortest, keep: n, fixedPrecision: nil) { return r }
        return parseExponential(cFormat(x, fixed: false, n - 1))
    default:
        return shortest
    }
}

/// Rounds the shortest round-trip digits S of `x` to `keep` digits when that provably equals
/// rounding the exact binary value v; nil when it may not (the caller then asks the C library).
///
/// Dropping digits: S lies within half an ulp of v and is the shortest, then closest, decimal
/// there. A rounding boundary B strictly between v and S would also lie in that interval, be
/// at most as long as S and closer to v, so S would have been B. Hence v and S round the same
/// way, unless S is B itself (the dropped digits are exactly "5").
/// Keeping every digit: S is the answer only if no other `keep`-digit decimal is nearer to v,
/// which holds when an ulp is below half a unit of the last kept digit.
private func roundShortest(_ x: Double, _ s: (digits: [UInt8], decpt: Int), keep: Int,
                           fixedPrecision: Int?) -> (digits: [UInt8], decpt: Int)? {
    let digits = s.digits
    if keep >= digits.count {
        let unit = pow(10.0, Double(s.decpt - keep))
        return x.ulp < 0.5 * unit ? s : nil
    }
    if keep < 0 { return fixedPrecision.map { ([], -$0) } ?? nil }
    let first = digits[keep]
    if first == UInt8(ascii: "5") && keep + 1 == digits.count { return nil }
    var kept = Array(digits[..<keep])
    var decpt = s.decpt
    if first >= UInt8(ascii: "5") {
        var j = kept.count - 1
        while j >= 0 && kept[j] == UInt8(ascii: "9") { kept[j] = UInt8(ascii: "0"); j -= 1 }
        if j >= 0 { kept[j] += 1 } else { kept.insert(UInt8(ascii: "1"), at: 0); decpt += 1 }
    }
    while let l = kept.last, l == UInt8(ascii: "0") { kept.removeLast() }
    if kept.isEmpty {
        // Rounded to zero (only possible in fixed mode).
        guard let p = fixedPrecision else { return nil }
        return ([], -p)
    }
    return (kept, decpt)
}

/// Digits and decimal point of `printf("%.*f")` output (dtoa's mode-3 conventions).
private func fixedDigits(_ text: [UInt8], _ precision: Int) -> (digits: [UInt8], decpt: Int) {
    var digits: [UInt8] = []
    digits.reserveCapacity(text.count)
    var decpt = -1
    for c in text {
        if c >= 48 && c <= 57 { digits.append(c) } else if decpt < 0 { decpt = digits.count }
    }
    if decpt < 0 { decpt = digits.count }
    var lead = 0
    while lead < digits.count && digits[lead] == 48 { lead += 1 }
    if lead == digits.count { return ([], -precision) }
    decpt -= lead
    var end = digits.count
    while end > lead && digits[end - 1] == 48 { end -= 1 }
    return (Array(digits[lead..<end]), decpt)
}

/// Digits and decimal-point position of `d[.ddd][e±XX]` text (no sign), trailing zeros removed.
private func parseExponential(_ text: [UInt8]) -> (digits: [UInt8], decpt: Int) {
    var digits: [UInt8] = []
    digits.reserveCapacity(text.count)
    var pointAt = -1
    var i = 0
    while i < text.count {
        let c = text[i]
        if c >= 48 && c <= 57 { digits.append(c) }
        else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { break }
        else if pointAt < 0 { pointAt = digits.count }
        i += 1
    }
    if pointAt < 0 { pointAt = digits.count }
    var exp = 0
    if i < text.count {
        i += 1
        var negative = false
        if i < text.count && (text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+")) {
            negative = text[i] == UInt8(ascii: "-"); i += 1
        }
        while i < text.count { exp = exp * 10 + Int(text[i] - 48); i += 1 }
        if negative { exp = -exp }
    }
    var lead = 0
    while lead < digits.count && digits[lead] == 48 { lead += 1 }
    if lead == digits.count { return ([UInt8(ascii: "0")], 1) }
    var end = digits.count
    while end > lead && digits[end - 1] == 48 { end -= 1 }
    return (Array(digits[lead..<end]), pointAt - lead + exp)
}

/// `printf("%.*f")` or `printf("%.*e")` of a finite double through the C library, whose
/// conversions are exact (correctly rounded for any precision).
private func cFormat(_ x: Double, fixed: Bool, _ precision: Int) -> [UInt8] {
    let prec = Int32(clamping: precision)
    var size = 64
    while true {
        var buf = [CChar](repeating: 0, count: size)
        let n = buf.withUnsafeMutableBufferPointer { p -> Int32 in
            withVaList([prec, x]) { va in vsnprintf(p.baseAddress, size, fixed ? "%.*f" : "%.*e", va) }
        }
        if n < 0 { return [] }
        if Int(n) < size { return buf[0..<Int(n)].map { UInt8(bitPattern: $0) } }
        size = Int(n) + 1
    }
}
