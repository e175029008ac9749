// printf-style formatting: `"%s %5.2f" % args` (CPython's PyUnicode_Format), and the hooks
// through which the formatting styles reach the interpreter.

/// What `%`-formatting and `str.format` need from the interpreter. A Unit provides it; so does
/// ``FormatHooks`` (closures), which lets the scalar cases run and be tested without a Unit.
/// The formatters are generic over it, so the Unit path costs no closure allocations.
protocol FormatContext {
    /// `repr(v)`.
    func repr(_ v: Value) throws -> String
    /// `str(v)`.
    func str(_ v: Value) throws -> String
    /// `format(v, spec)`.
    func format(_ v: Value, spec: String) throws -> String
    /// `v.name`.
    func getAttr(_ v: Value, _ name: String) throws -> Value
    /// `v[key]`.
    func getItem(_ container: Value, _ index: Value) throws -> Value
    /// `int(v)` for `%d` of a non-builtin value (`__int__`/`__index__`), nil when it has none.
    func formatIntArgument(_ v: Value) throws -> Int?
    /// `operator.index(v)` for `%x`/`%o` of a non-builtin value, nil when it has no `__index__`.
    func formatIndexArgument(_ v: Value) throws -> Int?
    /// `float(v)` for `%f` of a non-builtin value (`__float__`/`__index__`), nil when it has none.
    func formatFloatArgument(_ v: Value) throws -> Double?
    /// The bytes `%s`/`%b` of a bytes format inserts (bytes, bytearray, `__bytes__`), or nil.
    func formatBytesArgument(_ v: Value) throws -> [UInt8]?
}

extension Unit: FormatContext {
    func formatIntArgument(_ v: Value) throws -> Int? {
        if case .int(let i) = v.unboxedNumber { return i }  // an int subclass is an int (its __int__ unasked)
        let intMethod = lookupSpecial(v, "__int__")
        guard let m = intMethod ?? lookupSpecial(v, "__index__") else { return nil }
        let r = try call(m, [])
        if case .int(let i) = r { return i }
        if r.type.isSubtype(of: Types.int), let i = intValue(r) {
            try warnStrictSubclassResult(intMethod == nil ? "__index__" : "__int__", r)
            return i
        }
        throw typeError("__int__ returned non-int (type \(r.typeName))")
    }
    func formatIndexArgument(_ v: Value) throws -> Int? {
        lookupSpecial(v, "__index__") == nil ? nil : try toIndex(v)
    }
    func formatFloatArgument(_ v: Value) throws -> Double? {
        if let m = lookupSpecial(v, "__float__") {
            return try floatResult(of: v, try call(m, []))
        }
        if lookupSpecial(v, "__index__") != nil { return Double(try toIndex(v)) }
        return nil
    }
    func formatBytesArgument(_ v: Value) throws -> [UInt8]? {
        guard case .obj(let o) = v else { return nil }
        if let b = o as? PyBytes { return b.snapshot }
        guard let m = lookupSpecial(v, "__bytes__") else { return nil }
        let r = try call(m, [])
        guard case .obj(let ro) = r, let rb = ro as? PyBytes, !rb.isMutable else {
            throw typeError("__bytes__ returned non-bytes (type \(r.typeName))")
        }
        return rb.snapshot
    }
}

/// A ``FormatContext`` made of closures (tests, and callers without a Unit).
struct FormatHooks: FormatContext {
    private let reprFn: (Value) throws -> String
    private let strFn: (Value) throws -> String
    private let formatFn: (Value, String) throws -> String
    private let getAttrFn: (Value, String) throws -> Value
    private let getItemFn: (Value, Value) throws -> Value
    private let toIntFn: (Value) throws -> Int?
    private let toIndexFn: (Value) throws -> Int?
    private let toFloatFn: (Value) throws -> Double?

    init(repr: @escaping (Value) throws -> String, str: @escaping (Value) throws -> String,
         format: @escaping (Value, String) throws -> String,
         getAttr: @escaping (Value, String) throws -> Value, getItem: @escaping (Value, Value) throws -> Value,
         toInt: @escaping (Value) throws -> Int? = { _ in nil }, toIndex: @escaping (Value) throws -> Int? = { _ in nil },
         toFloat: @escaping (Value) throws -> Double? = { _ in nil }) {
        reprFn = repr; strFn = str; formatFn = format; getAttrFn = getAttr
        getItemFn = getItem; toIntFn = toInt; toIndexFn = toIndex; toFloatFn = toFloat
    }

    func repr(_ v: Value) throws -> String { try reprFn(v) }
    func str(_ v: Value) throws -> String { try strFn(v) }
    func format(_ v: Value, spec: String) throws -> String { try formatFn(v, spec) }
    func getAttr(_ v: Value, _ name: String) throws -> Value { try getAttrFn(v, name) }
    func getItem(_ container: Value, _ index: Value) throws -> Value { try getItemFn(container, index) }
    func formatIntArgument(_ v: Value) throws -> Int? { try toIntFn(v) }
    func formatIndexArgument(_ v: Value) throws -> Int? { try toIndexFn(v) }
    func formatFloatArgument(_ v: Value) throws -> Double? { try toFloatFn(v) }
    func formatBytesArgument(_ v: Value) throws -> [UInt8]? {
        if case .obj(let o) = v, let b = o as? PyBytes { return b.snapshot }
        return nil
    }
}

/// `format % args` for str.
func percentFormat(_ u: Unit, _ format: String, _ args: Value) throws -> String {
    try percentFormat(format, args, u)
}

/// `s % args` for a str (or str subclass) `s`: a format without any `%` gives back `s`
/// itself once the arguments are checked, as CPython's (so `S('x') % ()` is still an S).
func strModulo(_ u: Unit, _ s: PyStr, _ args: Value) throws -> Value {
    let r = try percentFormat(u, s.value, args)
    if !s.value.utf8.contains(UInt8(ascii: "%")) { return .obj(s) }
    return .str(r)
}

/// `format % args` for bytes and bytearray (CPython's `_PyBytes_FormatEx`): the result's
/// bytes.
func percentFormatBytes(_ u: Unit, _ format: [UInt8], _ args: Value) throws -> [UInt8] {
    try format.withUnsafeBufferPointer { f in
        var p = PercentFormatter(f, args, u, bytes: true)
        try p.run()
        return p.out
    }
}

/// True when `%` treats `v` as a mapping for `%(key)s` (CPython: has `__getitem__` and is not
/// a tuple or str; for a bytes format, not bytes either).
private func isPercentMapping(_ v: Value, bytes: Bool) -> Bool {
    guard case .obj(let o) = v else { return false }
    switch o {
    case is PyTuple, is PyStr: return false
    case is PyBytes: return !bytes
    case is PyDict, is PyList, is PyRange, is PyMappingProxy: return true
    case is PyInstance: return o.type.lookup("__getitem__") != nil
    default: return false
    }
}

/// The Unit-free core of ``percentFormat(_:_:_:)``.
func percentFormat<C: FormatContext>(_ format: String, _ args: Value, _ h: C) throws -> String {
    var fmt = format
    return try fmt.withUTF8 { f in
        var p = PercentFormatter(f, args, h, bytes: false)
        try p.run()
        return String(decoding: p.out, as: UTF8.self)
    }
}

private struct PercentFormatter<C: FormatContext> {
    let f: UnsafeBufferPointer<UInt8>
    let h: C
    let tupleItems: [Value]
    var current: Value
    var argLength: Int
    var argIndex: Int
    let dict: Value?
    /// Formatting bytes: `f` is the raw format, `%s` takes bytes, keys are bytes.
    let bytesMode: Bool
    var out: [UInt8] = []

    init(_ f: UnsafeBufferPointer<UInt8>, _ args: Value, _ h: C, bytes: Bool) {
        self.f = f; self.h = h; self.bytesMode = bytes
        if case .obj(let o) = args, let t = o as? PyTuple {
            tupleItems = t.items; argLength = t.items.count; argIndex = 0
        } else {
            tupleItems = []; argLength = -1; argIndex = -2
        }
        current = args
        dict = isPercentMapping(args, bytes: bytes) ? args : nil
        out.reserveCapacity(f.count + 16)
    }

    mutating func nextArg() throws -> Value {
        if argIndex < argLength {
            argIndex += 1
            return argLength < 0 ? current : tupleItems[argIndex - 1]
        }
        throw typeError("not enough arguments for format string")
    }

    /// Scalar index of byte offset `i` (for error messages).
    func scalarIndex(_ i: Int) -> Int {
        if bytesMode { return i }
        var n = 0
        for k in 0..<i where f[k] & 0xC0 != 0x80 { n += 1 }
        return n
    }

    func unsupported(_ at: Int) -> PyBaseException {
        if bytesMode {
            let c = f[at]
            let shown = c >= 32 && c < 127 ? String(Character(Unicode.Scalar(c))) : "?"
            return valueError("unsupported format character '\(shown)' (0x\(String(c, radix: 16))) at index \(at)")
        }
        var s = String(decoding: UnsafeBufferPointer(rebasing: f[at...]), as: UTF8.self)
        let c = s.unicodeScalars.first!.value
        s = c >= 32 && c < 127 ? String(Character(Unicode.Scalar(c)!)) : "?"
        return valueError("unsupported format character '\(s)' (0x\(String(c, radix: 16))) at index \(scalarIndex(at))")
    }

    mutating func run() throws {
        let n = f.count
        var i = 0
        let percent = UInt8(ascii: "%")
        while i < n {
            var j = i
            while j < n && f[j] != percent { j += 1 }
            if j > i { out.append(contentsOf: UnsafeBufferPointer(rebasing: f[i..<j])) }
            if j >= n { break }
            i = j + 1
            if i >= n { throw valueError("incomplete format") }
            if f[i] == percent { out.append(percent); i += 1; continue }
            try conversion(&i)
        }
        if argIndex < argLength && dict == nil {
            throw typeError("not all arguments converted during \(bytesMode ? "bytes" : "string") formatting")
        }
    }

    /// Parses and renders one conversion; `i` is just after the `%`.
    mutating func conversion(_ i: inout Int) throws {
        let n = f.count
        if f[i] == UInt8(ascii: "(") {
            guard let dict else { throw typeError("format requires a mapping") }
            i += 1
            var depth = 1
            let keyStart = i
            while depth > 0 && i < n {
                if f[i] == UInt8(ascii: ")") { depth -= 1 } else if f[i] == UInt8(ascii: "(") { depth += 1 }
                i += 1
            }
            if depth > 0 { throw valueError("incomplete format key") }
            let raw = Array(UnsafeBufferPointer(rebasing: f[keyStart..<(i - 1)]))
            current = try h.getItem(dict, bytesMode ? .obj(PyBytes(raw)) : .str(String(decoding: raw, as: UTF8.self)))
            argLength = -1; argIndex = -2
        }
        var ljust = false, plus = false, blank = false, alt = false, zero = false
        flags: while i < n {
            switch f[i] {
            case UInt8(ascii: "-"): ljust = true
            case UInt8(ascii: "+"): plus = true
            case UInt8(ascii: " "): blank = true
            case UInt8(ascii: "#"): alt = true
            case UInt8(ascii: "0"): zero = true
            default: break flags
            }
            i += 1
        }
        var width = -1, precision = -1
        if i < n && f[i] == UInt8(ascii: "*") {
            let v = try nextArg()
            guard let w = intOf(v) else { throw typeError("* wants int") }
            width = w
            if width < 0 { ljust = true; width = width == Int.min ? Int.max : -width }
            try checkBuildSize(width)
            i += 1
        } else if i < n, f[i] >= 48 && f[i] <= 57 {
            width = try number(&i, "width too big")
        }
        if i < n && f[i] == UInt8(ascii: ".") {
            i += 1
            precision = 0
            if i < n && f[i] == UInt8(ascii: "*") {
                let v = try nextArg()
                guard let p = intOf(v) else { throw typeError("* wants int") }
                try checkCInt(p)
                precision = max(p, 0)
                try checkBuildSize(precision)
                i += 1
            } else if i < n, f[i] >= 48 && f[i] <= 57 {
                precision = try number(&i, "precision too big")
                try checkBuildSize(precision)
            }
        }
        if i < n && (f[i] == UInt8(ascii: "h") || f[i] == UInt8(ascii: "l") || f[i] == UInt8(ascii: "L")) { i += 1 }
        if i >= n { throw valueError("incomplete format") }
        let at = i
        let ch = f[i]
        i += 1
        let v = try nextArg()
        if bytesMode, try bytesConversion(ch, v, precision, width, ljust) { return }
        switch ch {
        case UInt8(ascii: "s"), UInt8(ascii: "r"), UInt8(ascii: "a"):
            if ch == UInt8(ascii: "s"), case .obj(let o) = v, o.hasType(Types.strID) {
                // `%s` of a plain str: its bytes and its (cached) length, no String copy.
                let str = unsafeDowncast(o, to: PyStr.self)
                let len = str.count
                if precision < 0 || len <= precision {
                    let pad = max(width - len, 0)
                    if !ljust && pad > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad)) }
                    str.withBytes { out.append(contentsOf: $0) }
                    if ljust && pad > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad)) }
                    return
                }
            }
            var s = ch == UInt8(ascii: "s") ? try h.str(v) : try h.repr(v)
            if ch == UInt8(ascii: "a") { s = asciiEscaped(s) }
            var len = s.unicodeScalars.count
            if precision >= 0 && len > precision {
                var t = String.UnicodeScalarView()
                t.append(contentsOf: s.unicodeScalars.prefix(precision))
                s = String(t); len = precision
            }
            emitText(s, len, width, ljust)
        case UInt8(ascii: "c"):
            let s: String
            switch v {
            case .int(let c):
                guard c >= 0 && c <= 0x10ffff else { throw overflowError("%c arg not in range(0x110000)") }
                s = String(Character(Unicode.Scalar(UInt32(c)) ?? "\u{FFFD}"))
            case .bool(let b): s = b ? "\u{1}" : "\u{0}"
            default:
                if let str = v.asStr, str.count == 1 {
                    s = str.value
                } else if let c = try typeErrorsAs(typeError("%c requires int or char"), { try h.formatIndexArgument(v) }) {
                    // An object with __index__, as CPython takes it.
                    guard c >= 0 && c <= 0x10ffff else { throw overflowError("%c arg not in range(0x110000)") }
                    s = String(Character(Unicode.Scalar(UInt32(c)) ?? "\u{FFFD}"))
                } else {
                    throw typeError("%c requires int or char")
                }
            }
            emitText(s, 1, width, ljust)
        case UInt8(ascii: "d"), UInt8(ascii: "i"), UInt8(ascii: "u"):
            let x: Int
            switch v {
            case .int(let k): x = k
            case .bool(let b): x = b ? 1 : 0
            case .float(let d): x = try doubleToInt(d)
            default:
                // Any TypeError of the conversion (an __int__ returning a str) is the
                // format's own, as in CPython.
                let message = "%\(Character(Unicode.Scalar(ch))) format: a real number is required, not \(v.typeName)"
                guard let k = try typeErrorsAs(typeError(message), { try h.formatIntArgument(v) }) else { throw typeError(message) }
                x = k
            }
            emitInt(x, 10, "", precision, width, ljust, plus, blank, zero, upper: false)
        case UInt8(ascii: "o"), UInt8(ascii: "x"), UInt8(ascii: "X"):
            let x: Int
            switch v {
            case .int(let k): x = k
            case .bool(let b): x = b ? 1 : 0
            default:
                let message = "%\(Character(Unicode.Scalar(ch))) format: an integer is required, not \(v.typeName)"
                if case .float = v { throw typeError(message) }
                guard let k = try typeErrorsAs(typeError(message), { try h.formatIndexArgument(v) }) else { throw typeError(message) }
                x = k
            }
            let radix = ch == UInt8(ascii: "o") ? 8 : 16
            let prefix = !alt ? "" : ch == UInt8(ascii: "o") ? "0o" : ch == UInt8(ascii: "x") ? "0x" : "0X"
            emitInt(x, radix, prefix, precision, width, ljust, plus, blank, zero, upper: ch == UInt8(ascii: "X"))
        case UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "f"), UInt8(ascii: "F"),
             UInt8(ascii: "g"), UInt8(ascii: "G"):
            let d: Double
            switch v {
            case .float(let x): d = x
            case .int(let k): d = Double(k)
            case .bool(let b): d = b ? 1 : 0
            default:
                guard let x = try h.formatFloatArgument(v) else { throw typeError("must be real number, not \(v.typeName)") }
                d = x
            }
            var text = doubleToString(d, ch, precision < 0 ? 6 : precision, alt ? .alt : [])
            var negative = false
            if text.hasPrefix("-") { negative = true; text.removeFirst() }
            emitNumber(negative, "", text, width, ljust, plus, blank, zero)
        default:
            throw unsupported(at)
        }
    }

    /// The conversions that differ in a bytes format (`%s`/`%b` take bytes, `%r`/`%a` give
    /// ASCII, `%c` one byte); false for the numeric ones, which are shared.
    mutating func bytesConversion(_ ch: UInt8, _ v: Value, _ precision: Int, _ width: Int, _ ljust: Bool) throws -> Bool {
        var raw: [UInt8]
        switch ch {
        case UInt8(ascii: "s"), UInt8(ascii: "b"):
            guard let b = try h.formatBytesArgument(v) else {
                throw typeError("%b requires a bytes-like object, or an object that implements __bytes__, not '\(v.typeName)'")
            }
            raw = b
        case UInt8(ascii: "r"), UInt8(ascii: "a"):
            raw = Array(asciiEscaped(try h.repr(v)).utf8)
        case UInt8(ascii: "c"):
            switch v {
            case .int(let c):
                guard c >= 0 && c < 256 else { throw overflowError("%c arg not in range(256)") }
                raw = [UInt8(c)]
            case .bool(let b): raw = [b ? 1 : 0]
            default:
                guard case .obj(let o) = v, let b = o as? PyBytes, b.count == 1 else {
                    throw typeError("%c requires an integer in range(256) or a single byte")
                }
                raw = b.snapshot
            }
            let pad = max(width - 1, 0)
            if !ljust && pad > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad)) }
            out.append(contentsOf: raw)
            if ljust && pad > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad)) }
            return true
        default: return false
        }
        if precision >= 0 && raw.count > precision { raw = Array(raw.prefix(precision)) }
        let pad = max(width - raw.count, 0)
        if !ljust && pad > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad)) }
        out.append(contentsOf: raw)
        if ljust && pad > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad)) }
        return true
    }

    /// A `*` precision must fit a C int, as CPython's does (a width is a Py_ssize_t).
    func checkCInt(_ x: Int) throws {
        if x > Int(Int32.max) { throw overflowError("Python int too large to convert to C int") }
        if x < Int(Int32.min) { throw overflowError("Python int too small to convert to C int") }
    }

    func intOf(_ v: Value) -> Int? {
        switch v {
        case .int(let k): return k
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    func number(_ i: inout Int, _ overflowMessage: String) throws -> Int {
        var x = 0
        while i < f.count && f[i] >= 48 && f[i] <= 57 {
            let (m, o1) = x.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(f[i] - 48))
            if o1 || o2 || a > Int(Int32.max) { throw valueError(overflowMessage) }
            x = a; i += 1
        }
        return x
    }

    /// Appends the UTF-8 of `s` in one copy (appending `s.utf8` goes byte by byte).
    @inline(__always) mutating func appendUTF8(_ s: String) {
        if s.isEmpty { return }
        withUTF8(s) { out.append(contentsOf: $0) }
    }

    mutating func emitText(_ s: String, _ len: Int, _ width: Int, _ ljust: Bool) {
        let pad = max(width - len, 0)
        if !ljust && pad > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad)) }
        appendUTF8(s)
        if ljust && pad > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad)) }
    }

    mutating func emitInt(_ x: Int, _ radix: Int, _ prefix: String, _ precision: Int, _ width: Int,
                          _ ljust: Bool, _ plus: Bool, _ blank: Bool, _ zero: Bool, upper: Bool) {
        var digits = radix == 10 && x != .min ? decimalString(abs(x)) : String(x.magnitude, radix: radix, uppercase: upper)
        if precision > digits.utf8.count { digits = String(repeating: "0", count: precision - digits.utf8.count) + digits }
        emitNumber(x < 0, prefix, digits, width, ljust, plus, blank, zero)
    }

    /// `<sign><prefix><body>` padded as CPython's `unicode_format_arg_output` does: zero fill
    /// goes between the prefix and the body.
    mutating func emitNumber(_ negative: Bool, _ prefix: String, _ body: String, _ width: Int,
                             _ ljust: Bool, _ plus: Bool, _ blank: Bool, _ zero: Bool) {
        let sign = negative ? "-" : plus ? "+" : blank ? " " : ""
        let len = sign.utf8.count + prefix.utf8.count + body.utf8.count
        let pad = max(width - len, 0)
        if ljust {
            appendUTF8(sign); appendUTF8(prefix); appendUTF8(body)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad))
        } else if zero {
            appendUTF8(sign); appendUTF8(prefix)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: pad))
            appendUTF8(body)
        } else {
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad))
            appendUTF8(sign); appendUTF8(prefix); appendUTF8(body)
        }
    }
}

/// `int(d)` for a float: truncation, with CPython's errors (and Conc's 64-bit limit).
func doubleToInt(_ d: Double) throws -> Int {
    if d.isNaN { throw valueError("cannot convert float NaN to integer") }
    if d.isInfinite { throw overflowError("cannot convert float infinity to integer") }
    let t = d.rounded(.towardZero)
    guard t >= -9223372036854775808.0 && t < 9223372036854775808.0 else {
        throw overflowError(intOverflowMessage)
    }
    return Int(t)
}

/// `body`'s result, with any TypeError it raises replaced by `replacement`: CPython's
/// %-formatting reports a failed conversion of its argument in its own words.
private func typeErrorsAs<R>(_ replacement: @autoclosure () -> PyBaseException, _ body: () throws -> R) throws -> R {
    do { return try body() } catch let e as PyBaseException where e.type.isSubtype(of: Exc.typeError) { throw replacement() }
}
