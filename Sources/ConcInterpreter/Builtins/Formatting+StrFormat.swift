// `str.format` and `str.format_map` (CPython's Objects/stringlib/unicode_format.h): literal
// text with `{{`/`}}` escapes, replacement fields `{name.attr[key]!conv:spec}` with automatic
// or manual numbering, and format specs that contain nested fields (`{:{width}}`).

/// `format.format(*args, **kwargs)`.
func strFormat(_ u: Unit, _ format: String, _ args: Args) throws -> String {
    try strFormat(format, positional: args.positional, keywords: args.keywords, u)
}

/// `format.format_map(mapping)`.
func strFormatMap(_ u: Unit, _ format: String, _ mapping: Value) throws -> String {
    try withUTF8(format) { bytes in
        var f = MarkupFormatter(bytes, positional: nil, keyword: { try u.getItem(mapping, .str($0)) }, u)
        return try f.build(0, f.b.count, depth: 2)
    }
}

/// The Unit-free core of ``strFormat(_:_:_:)``.
func strFormat<C: FormatContext>(_ format: String, positional: [Value], keywords: [(name: String, value: Value)],
                                  _ h: C) throws -> String {
    let lookup: (String) throws -> Value = { name in
        for (k, v) in keywords where k == name { return v }
        throw PyBaseException(type: Exc.keyError, args: [.str(name)])
    }
    return try withUTF8(format) { bytes in
        var f = MarkupFormatter(bytes, positional: positional, keyword: lookup, h)
        return try f.build(0, f.b.count, depth: 2)
    }
}

private struct MarkupFormatter<C: FormatContext> {
    /// The format string's UTF-8 bytes (every syntax character is ASCII), lent by the
    /// caller for the formatter's lifetime.
    let b: UnsafeBufferPointer<UInt8>
    /// Positional arguments; nil for `format_map` (positional fields are an error there).
    let positional: [Value]?
    /// Looks a keyword field up (raises KeyError when missing).
    let keyword: (String) throws -> Value
    let h: C
    enum Numbering { case unset, automatic, manual }
    var numbering = Numbering.unset
    var nextAuto = 0

    init(_ b: UnsafeBufferPointer<UInt8>, positional: [Value]?, keyword: @escaping (String) throws -> Value, _ h: C) {
        self.b = b; self.positional = positional; self.keyword = keyword; self.h = h
    }

    /// The text of `b[start..<end]`, a run cut at ASCII delimiters (so valid UTF-8).
    func text(_ start: Int, _ end: Int) -> String { utf8String(b, start, end) }

    /// Renders `b[start..<end]` (CPython's `build_string` + `do_markup`).
    mutating func build(_ start: Int, _ end: Int, depth: Int) throws -> String {
        if depth <= 0 { throw valueError("Max string recursion exceeded") }
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        var out: [UInt8] = []
        out.reserveCapacity(end - start + 16)
        var pos = start
        while pos < end {
            // Literal text up to the next brace.
            let literalStart = pos
            var c: UInt8 = 0
            var markup = false
            while pos < end {
                c = b[pos]; pos += 1
                if c == open || c == close { markup = true; break }
            }
            let atEnd = pos >= end
            var len = pos - literalStart
            if c == close && markup && (atEnd || b[pos] != close) {
                throw valueError("Single '}' encountered in format string")
            }
            if atEnd && c == open && markup { throw valueError("Single '{' encountered in format string") }
            if !atEnd && markup {
                if b[pos] == c { pos += 1; markup = false } else { len -= 1 }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[literalStart..<(literalStart + len)]))
            if !markup { continue }

            // The field: name, conversion, spec.
            let nameStart = pos
            c = 0
            var nameEnd = pos
            var terminated = false
            while pos < end {
                c = b[pos]; pos += 1
                if c == open { throw valueError("unexpected '{' in field name") }
                if c == UInt8(ascii: "[") {
                    while pos < end && b[pos] != UInt8(ascii: "]") { pos += 1 }
                    continue
                }
                if c == close || c == UInt8(ascii: ":") || c == UInt8(ascii: "!") { terminated = true; break }
            }
            nameEnd = pos - 1
            var conversion: Unicode.Scalar? = nil
            var specStart = pos, specEnd = pos
            var expand = false
            if terminated && (c == UInt8(ascii: "!") || c == UInt8(ascii: ":")) {
                var specFollows = true
                if c == UInt8(ascii: "!") {
                    if pos >= end { throw valueError("end of string while looking for conversion specifier") }
                    let scalar = text(pos, end).unicodeScalars.first!
                    conversion = scalar
                    pos += String(scalar).utf8.count
                    if pos < end {
                        let d = b[pos]; pos += 1
                        if d == close { specFollows = false }
                        else if d != UInt8(ascii: ":") { throw valueError("expected ':' after conversion specifier") }
                    }
                }
                if specFollows {
                    specStart = pos
                    var count = 1
                    var closed = false
                    while pos < end {
                        let d = b[pos]; pos += 1
                        if d == open { expand = true; count += 1 }
                        else if d == close {
                            count -= 1
                            if count == 0 { specEnd = pos - 1; closed = true; break }
                        }
                    }
                    if !closed { throw valueError("unmatched '{' in format spec") }
                } else {
                    specStart = pos; specEnd = pos
                }
            } else if !(terminated && c == close) {
                throw valueError("expected '}' before end of string")
            }

            var obj = try fieldObject(nameStart, nameEnd)
            if let conv = conversion {
                switch conv {
                case "r": obj = .str(try h.repr(obj))
                case "s": obj = .str(try h.str(obj))
                case "a": obj = .str(asciiEscaped(try h.repr(obj)))
                default:
                    if conv.value > 32 && conv.value < 127 {
                        throw valueError("Unknown conversion specifier \(Character(conv))")
                    }
                    throw valueError("Unknown conversion specifier \\x\(String(conv.value, radix: 16))")
                }
            }
            let spec = expand ? try build(specStart, specEnd, depth: depth - 1) : text(specStart, specEnd)
            withUTF8(try h.format(obj, spec: spec)) { out.append(contentsOf: $0) }
        }
        return out.withUnsafeBufferPointer { utf8String($0, 0, $0.count) }
    }

    /// CPython's `get_integer`: the decimal value of `b[start..<end]`, or nil when empty or
    /// not all decimal digits.
    func integer(_ start: Int, _ end: Int) throws -> Int? {
        if start >= end { return nil }
        if end - start <= 18 && b[start..<end].allSatisfy({ $0 < 0x80 }) {
            // ASCII, too short to overflow: decimal digits or not a number.
            var acc = 0
            for d in b[start..<end] {
                guard d >= 48 && d <= 57 else { return nil }
                acc = acc * 10 + Int(d - 48)
            }
            return acc
        }
        var acc = 0
        for s in text(start, end).unicodeScalars {
            guard let d = decimalDigitValue(s) else { return nil }
            if acc > (Int.max - d) / 10 { throw valueError("Too many decimal digits in format string") }
            acc = acc * 10 + d
        }
        return acc
    }

    /// The object a field name designates (CPython's `get_field_object`).
    mutating func fieldObject(_ start: Int, _ end: Int) throws -> Value {
        var i = start
        while i < end && b[i] != UInt8(ascii: ".") && b[i] != UInt8(ascii: "[") { i += 1 }
        var index = try integer(start, i)
        let isEmpty = i == start
        if isEmpty || index != nil {
            if numbering == .unset { numbering = isEmpty ? .automatic : .manual }
            if numbering == .manual && isEmpty {
                throw valueError("cannot switch from manual field specification to automatic field numbering")
            }
            if numbering != .manual && !isEmpty {
                throw valueError("cannot switch from automatic field numbering to manual field specification")
            }
            if isEmpty { index = nextAuto; nextAuto += 1 }
        }
        var obj: Value
        if let index {
            guard let positional else { throw valueError("Format string contains positional fields") }
            guard index < positional.count else {
                throw indexError("Replacement index \(index) out of range for positional args tuple")
            }
            obj = positional[index]
        } else {
            obj = try keyword(text(start, i))
        }
        while i < end {
            let c = b[i]; i += 1
            let nameStart = i
            if c == UInt8(ascii: ".") {
                while i < end && b[i] != UInt8(ascii: ".") && b[i] != UInt8(ascii: "[") { i += 1 }
                if i == nameStart { throw valueError("Empty attribute in format string") }
                obj = try h.getAttr(obj, text(nameStart, i))
            } else if c == UInt8(ascii: "[") {
                while i < end && b[i] != UInt8(ascii: "]") { i += 1 }
                if i >= end { throw valueError("Missing ']' in format string") }
                let nameEnd = i
                i += 1
                if nameEnd == nameStart { throw valueError("Empty attribute in format string") }
                if let k = try integer(nameStart, nameEnd) {
                    obj = try h.getItem(obj, .int(k))
                } else {
                    obj = try h.getItem(obj, .str(text(nameStart, nameEnd)))
                }
            } else {
                throw valueError("Only '.' or '[' may follow ']' in format field specifier")
            }
        }
        return obj
    }
}

/// The value of a Unicode decimal digit (`'7'`, `'٣'`), or nil.
func decimalDigitValue(_ s: Unicode.Scalar) -> Int? {
    if s.value >= 48 && s.value <= 57 { return Int(s.value - 48) }
    if s.value < 128 { return nil }
    guard s.properties.numericType == .decimal, let v = s.properties.numericValue else { return nil }
    return Int(v)
}
