// The methods of `str` (CPython 3.11 semantics, indices by Unicode scalar), its constructor,
// and the subscript/containment/repetition operations the evaluator calls.
//
// Most work happens on the UTF-8 bytes: substring search is exact there, and for ASCII text
// (the common case) byte offsets are scalar indices.

// MARK: - Argument helpers shared by str and bytes methods

enum TextArgs {
    /// Old-style checks: `find() takes at least 1 argument (0 given)`.
    /// (`qualified` is an autoclosure: callers pass `"str.\(name)"`, which would otherwise
    /// build a string on every call.)
    @inline(__always) static func classic(_ a: Args, _ qualified: @autoclosure () -> String, _ min: Int, _ max: Int) throws {
        if a.keywords.isEmpty && a.count >= min && a.count <= max { return }
        try classicFailure(a, qualified(), min, max)
    }

    /// The error ``classic(_:_:_:_:)`` raises.
    private static func classicFailure(_ a: Args, _ qualified: String, _ min: Int, _ max: Int) throws {
        if !a.keywords.isEmpty { throw typeError("\(qualified)() takes no keyword arguments") }
        if a.count < min {
            throw typeError("\(shortName(qualified))() takes at least \(min) argument\(min == 1 ? "" : "s") (\(a.count) given)")
        }
        if a.count > max {
            throw typeError("\(shortName(qualified))() takes at most \(max) argument\(max == 1 ? "" : "s") (\(a.count) given)")
        }
    }

    /// Argument Clinic checks: `center expected at least 1 argument, got 0` (as
    /// `ContainerArgs.range`, with the messages built only on failure).
    @inline(__always) static func range(_ a: Args, _ qualified: @autoclosure () -> String, _ min: Int, _ max: Int) throws {
        if a.keywords.isEmpty && a.count >= min && a.count <= max { return }
        try ContainerArgs.range(a, qualified(), min, max)
    }

    /// `find` for `str.find`.
    static func shortName(_ qualified: String) -> String {
        qualified.split(separator: ".").last.map(String.init) ?? qualified
    }

    /// Binds positional-or-keyword parameters (`split(sep=None, maxsplit=-1)`); nil for the
    /// ones not given.
    static func bind(_ a: Args, _ name: String, _ params: [String], required: Int = 0) throws -> [Value?] {
        if a.count > params.count {
            throw typeError("\(name)() takes at most \(params.count) argument\(params.count == 1 ? "" : "s") (\(a.count) given)")
        }
        var r: [Value?] = Array(repeating: nil, count: params.count)
        for i in 0..<a.count { r[i] = a[i] }
        for (k, v) in a.keywords {
            guard let i = params.firstIndex(of: k) else {
                throw typeError("'\(k)' is an invalid keyword argument for \(name)()")
            }
            if r[i] != nil { throw typeError("argument for \(name)() given by name ('\(k)') and position (\(i + 1))") }
            r[i] = v
        }
        for i in 0..<required where r[i] == nil {
            throw typeError("\(name)() missing required argument '\(params[i])' (pos \(i + 1))")
        }
        return r
    }

    /// `start`/`end` arguments (None allowed) fitted to `len` as CPython's ADJUST_INDICES.
    static func bounds(_ a: Args, from k: Int, _ len: Int, _ u: Unit) throws -> (Int, Int) {
        var start = 0, end = len
        if a.count > k, let s = try sliceBound(a[k], u) { start = s }
        if a.count > k + 1, let e = try sliceBound(a[k + 1], u) { end = e }
        if end > len { end = len } else if end < 0 { end += len; if end < 0 { end = 0 } }
        if start < 0 { start += len; if start < 0 { start = 0 } }
        return (start, end)
    }
}

/// The receiver of a str method.
@inline(__always) private func recv(_ v: Value, _ name: String) throws -> PyStr {
    if case .obj(let o) = v, let s = o as? PyStr { return s }
    throw typeError("descriptor '\(name)' for 'str' objects doesn't apply to a '\(v.typeName)' object")
}

/// A str argument, or TypeError `message`.
@inline(__always) private func strArg(_ v: Value, _ message: @autoclosure () -> String) throws -> PyStr {
    if case .obj(let o) = v, let s = o as? PyStr { return s }
    throw typeError(message())
}

/// The result of a method that may return its receiver unchanged (CPython returns the same
/// object for exact str).
@inline(__always) private func sameOrNew(_ s: PyStr, _ text: String, changed: Bool) -> Value {
    !changed && s.hasType(Types.strID) ? .obj(s) : .str(text)
}

/// ``sameOrNew(_:_:changed:)`` for a method that changed nothing, reading the text only
/// for a subclass instance (a read of `value` copies the String).
@inline(__always) private func unchanged(_ s: PyStr) -> Value {
    s.hasType(Types.strID) ? .obj(s) : .str(s.value)
}

/// One-character strings for ASCII, shared (CPython caches them too); immortal, since
/// every unit's iteration over a string hands them out.
let asciiCharStrings: [PyStr] = (0..<128).map { let s = PyStr(String(Unicode.Scalar(UInt8($0)))); Immortal.make(s); return s }

@inline(__always) func charValue(_ c: Unicode.Scalar) -> Value {
    c.value < 128 ? .obj(asciiCharStrings[Int(c.value)]) : .str(String(c))
}

// MARK: - Operations the evaluator calls

/// `s[index]`: int (negative counts from the end) or slice.
func strGetItem(_ s: PyStr, _ index: Value, _ u: Unit) throws -> Value {
    if case .obj(let o) = index, let sl = o as? PySlice {
        let n = s.count
        let (start, _, step, count) = try sliceIndices(sl, length: n, u)
        if count <= 0 { return .str("") }
        if step == 1 && count == n && s.hasType(Types.strID) { return .obj(s) }
        if step == 1 { return strSubstring(s, start, start + count) }
        return .str(s.withBytes { buf -> String in
            if s.isASCII {
                return String(unsafeUninitializedCapacity: count) { out in
                    var i = start
                    for k in 0..<count { out[k] = buf[i]; i &+= step }
                    return count
                }
            }
            let scalars = Array(s.value.unicodeScalars)
            var out = String.UnicodeScalarView()
            var i = start
            for _ in 0..<count { out.append(scalars[i]); i &+= step }
            return String(out)
        }, scalarCount: count)
    }
    guard let i = try indexValue(index, u) else {
        throw typeError("string indices must be integers, not '\(index.typeName)'")
    }
    let n = s.count
    let j = i < 0 ? i + n : i
    guard j >= 0 && j < n else { throw indexError("string index out of range") }
    return charValue(s.scalar(at: j))
}

/// `s[start:end]` for 0 <= start < end <= len(s), as a plain str.
func strSubstring(_ s: PyStr, _ start: Int, _ end: Int) -> Value {
    let count = end - start
    return .str(s.withBytes { buf -> String in
        if s.isASCII { return utf8String(buf, start, end) }
        let lo = s.byteOffset(ofScalar: start, in: buf)
        let hi = count > 128 ? s.byteOffset(ofScalar: end, in: buf)
            : lo + utf8Offset(UnsafeBufferPointer(rebasing: buf[lo...]), scalar: count)
        return utf8String(buf, lo, hi)
    }, scalarCount: count)
}

/// `item in s`.
func strContains(_ s: PyStr, _ item: Value) throws -> Bool {
    guard let t = item.asStr else {
        throw typeError("'in <string>' requires string as left operand, not \(item.typeName)")
    }
    if t.value.isEmpty { return true }
    return s.withBytes { h in t.withBytes { n in ByteSearch.find(h, n, 0, h.count) != nil } }
}

/// `s * n` (n already clamped to >= 0 by the caller; negative gives '').
func strMultiply(_ s: PyStr, _ n: Int) throws -> Value {
    if n <= 0 || s.value.isEmpty { return .str("") }
    if n == 1 && s.hasType(Types.strID) { return .obj(s) }
    if s.value.unicodeScalars.count > Int.max / n { throw overflowError("repeated string is too long") }
    try checkBuildSize(s.value.utf8.count, times: n)
    return .str(repeatedText(s.value, n))
}

/// `text` `count` times over, by doubling copies of its UTF-8 bytes: Swift's
/// `String(repeating:count:)` appends one copy at a time (`'a' * 2**26` took 2.3 s,
/// CPython 0.1 s).
func repeatedText(_ text: String, _ count: Int) -> String {
    var text = text
    let unit = text.utf8.count
    if count <= 0 || unit == 0 { return "" }
    if count == 1 { return text }
    let total = unit * count
    return text.withUTF8 { source in
        String(unsafeUninitializedCapacity: total) { buffer in
            let base = buffer.baseAddress!
            base.initialize(from: source.baseAddress!, count: unit)
            var filled = unit
            while filled < total {
                let chunk = min(filled, total - filled)
                (base + filled).initialize(from: base, count: chunk)
                filled += chunk
            }
            return total
        }
    }
}

/// Largest text or buffer, in bytes, that Conc builds: past it MemoryError, as CPython
/// raises when its allocation fails (Swift traps on a failed allocation instead).
let maxBuildBytes = 1 << 34

/// Throws MemoryError when `count` items of `size` units would pass `limit`.
func checkBuildSize(_ size: Int, times count: Int = 1, limit: Int = maxBuildBytes) throws {
    let (total, overflow) = size.multipliedReportingOverflow(by: count)
    if overflow || total > limit { throw pyError(Exc.memoryError, "") }
}

// MARK: - Search helpers

/// Scalar range lo..<hi of `s` (lo <= hi <= count) as a UTF-8 byte range.
private func byteRange(_ s: PyStr, _ buf: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int) -> (Int, Int) {
    if s.isASCII { return (lo, hi) }
    let a = s.byteOffset(ofScalar: lo, in: buf)
    if hi == s.count { return (a, buf.count) }
    let b = hi - lo > 128 ? s.byteOffset(ofScalar: hi, in: buf) : a + utf8Offset(UnsafeBufferPointer(rebasing: buf[a...]), scalar: hi - lo)
    return (a, b)
}

/// find/rfind/index/rindex: scalar index or -1.
private func strFind(_ u: Unit, _ sv: Value, _ a: Args, _ name: String, reverse: Bool) throws -> Int {
    let s = try recv(sv, name)
    try TextArgs.classic(a, "str.\(name)", 1, 3)
    // The bounds are converted before the substring is checked, as in CPython.
    let (start, end) = try TextArgs.bounds(a, from: 1, s.count, u)
    return try strFind(s, a[0], start, end, reverse: reverse)
}

/// find/rfind of `subArg` in scalars start..<end of `s` (bounds already fitted).
@inline(__always) private func strFind(_ s: PyStr, _ subArg: Value, _ start: Int, _ end: Int, reverse: Bool) throws -> Int {
    let sub = try strArg(subArg, "must be str, not \(subArg.typeName)")
    let subLen = sub.count
    if end - start < subLen { return -1 }
    if subLen == 0 { return reverse ? end : start }
    return s.withBytes { h in
        sub.withBytes { n in
            let (lo, hi) = byteRange(s, h, start, end)
            guard let j = reverse ? ByteSearch.rfind(h, n, lo, hi) : ByteSearch.find(h, n, lo, hi) else { return -1 }
            return s.isASCII ? j : scalarIndex(h, byte: j)
        }
    }
}

/// startswith/endswith.
private func strTailMatch(_ u: Unit, _ sv: Value, _ a: Args, _ name: String, suffix: Bool) throws -> Bool {
    let s = try recv(sv, name)
    try TextArgs.classic(a, "str.\(name)", 1, 3)
    let (start, end) = try TextArgs.bounds(a, from: 1, s.count, u)
    return try strTailMatch(s, a[0], start, end, name, suffix: suffix)
}

/// startswith/endswith of `pattern` (a str or a tuple of strs) on scalars start..<end of
/// `s` (bounds already fitted).
@inline(__always) private func strTailMatch(_ s: PyStr, _ pattern: Value, _ start: Int, _ end: Int, _ name: String,
                                            suffix: Bool) throws -> Bool {
    func match(_ p: PyStr) -> Bool {
        let pl = p.count
        if end - pl < start { return false }
        if pl == 0 { return true }
        return s.withBytes { h in
            p.withBytes { n in
                let (lo, hi) = byteRange(s, h, start, end)
                if hi - lo < n.count { return false }
                let at = suffix ? hi - n.count : lo
                for k in 0..<n.count where h[at + k] != n[k] { return false }
                return true
            }
        }
    }
    if case .obj(let o) = pattern, let t = o as? PyTuple {
        for item in t.items {
            let p = try strArg(item, "tuple for \(name) must only contain str, not \(item.typeName)")
            if match(p) { return true }
        }
        return false
    }
    let p = try strArg(pattern, "\(name) first arg must be str or a tuple of str, not \(pattern.typeName)")
    return match(p)
}

@inline(__always) private func charLength(_ b: UInt8) -> Int { b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4 }

/// Byte length of the whitespace character at `i`, or 0.
@inline(__always) private func spaceAt(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    let b = buf[i]
    if b < 0x80 { return isASCIISpace(b) ? 1 : 0 }
    return unicodeSpaceAt(buf, i)
}
/// ``spaceAt(_:_:)`` for a non-ASCII character: kept out of line so that the ASCII test
/// inlines into the scanning loops.
@inline(never) private func unicodeSpaceAt(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    let (c, l) = decodeScalar(buf, i)
    return pyIsSpace(c) ? l : 0
}

/// Byte length of the whitespace character ending at `end`, or 0.
@inline(__always) private func spaceBefore(_ buf: UnsafeBufferPointer<UInt8>, _ end: Int) -> Int {
    let b = buf[end - 1]
    if b < 0x80 { return isASCIISpace(b) ? 1 : 0 }
    return unicodeSpaceBefore(buf, end)
}
/// `lower`/`upper`/`swapcase`: ASCII text maps byte by byte, keeping its known length, and
/// text with nothing to change is the receiver itself (exact str), as for `strip`.
/// `flipping` (lower: A...Z, upper: a...z) lets a short ASCII text change eight bytes at
/// a time (``smallASCIICaseFlip(_:_:_:)``).
@inline(__always) private func caseMapped(_ s: PyStr, _ ascii: (UInt8) -> UInt8, flipping: ClosedRange<UInt8>? = nil,
                                          _ full: (String) -> String) -> Value {
    if let flipping, let (r, count) = smallASCIICaseFlip(s.valueWords, flipping.lowerBound, flipping.upperBound) {
        return count < 0 ? unchanged(s) : .str(r, scalarCount: count)
    }
    switch mapASCII(s.value, ascii) {
    case .unchanged: return sameOrNew(s, s.value, changed: false)
    case .mapped(let r): return .str(r, scalarCount: r.utf8.count)
    case .notASCII: return .str(full(s.value))
    }
}

/// The String whose two words are `words` (``PyStr/valueWords``), when it is an ASCII
/// text in Swift's small form (at most 15 bytes inline, see ``smallString(_:)``), with the
/// letters `lo...hi` switched to the other case (bit 0x20), eight bytes at a time; with its
/// length, or ("", -1) when nothing changed. Nil when it is not a small ASCII string.
@inline(__always) func smallASCIICaseFlip(_ words: (UInt64, UInt64), _ lo: UInt8, _ hi: UInt8) -> (String, Int)? {
    let (w0, w1) = words
    guard w1 >> 60 == 0xE else { return nil }  // the small, ASCII discriminator
    let ones: UInt64 = 0x0101_0101_0101_0101
    // Every byte is below 0x80 (the padding is 0), so adding at most 0x7F sets a byte's
    // high bit exactly when it reached the bound, with no carry into the next byte.
    @inline(__always) func flip(_ w: UInt64) -> UInt64 {
        let atLeastLo = w &+ ones &* UInt64(0x80 - lo)
        let aboveHi = w &+ ones &* UInt64(0x7F - hi)
        return w ^ ((atLeastLo & ~aboveHi & (ones &* 0x80)) >> 2)
    }
    let discriminator = w1 & 0xFF00_0000_0000_0000
    let r0 = flip(w0), r1 = flip(w1 ^ discriminator)
    if r0 == w0 && r1 == w1 ^ discriminator { return ("", -1) }
    return (unsafeBitCast((r0, r1 | discriminator), to: String.self), Int((w1 >> 56) & 0xF))
}

/// ``spaceBefore(_:_:)`` for a non-ASCII character, out of line like ``unicodeSpaceAt``.
@inline(never) private func unicodeSpaceBefore(_ buf: UnsafeBufferPointer<UInt8>, _ end: Int) -> Int {
    let (c, start) = decodeScalarBefore(buf, end)
    return pyIsSpace(c) ? end - start : 0
}

/// `split`/`rsplit`.
private func strSplit(_ u: Unit, _ sv: Value, _ a: Args, _ name: String, reverse: Bool) throws -> Value {
    let s = try recv(sv, name)
    let p: [Value?] = a.keywords.isEmpty && a.count <= 2
        ? [a.count > 0 ? a[0] : nil, a.count > 1 ? a[1] : nil]
        : try TextArgs.bind(a, name, ["sep", "maxsplit"])
    var maxsplit = -1
    if let v = p[1] { maxsplit = try u.toIndex(v) }
    return try strSplit(s, p[0] ?? .none, maxsplit: maxsplit, name, reverse: reverse)
}

/// `split`/`rsplit` of `s` by `sepArg` (None: runs of whitespace), at most `maxsplit`
/// times (negative: no limit).
private func strSplit(_ s: PyStr, _ sepArg: Value, maxsplit limit: Int, _ name: String, reverse: Bool) throws -> Value {
    var sep: PyStr? = nil
    if !sepArg.isNone { sep = try strArg(sepArg, "must be str or None, not \(sepArg.typeName)") }
    let maxsplit = limit < 0 ? Int.max : limit
    let parts: [Value] = try s.withBytes { h -> [Value] in
        let n = h.count
        // Parts of an all-ASCII string (known without a scan when its length is cached)
        // are made with their length, so len() and the methods on them need not count.
        let ascii = s.knownCount == n
        func part(_ lo: Int, _ hi: Int) -> Value {
            ascii ? .str(utf8String(h, lo, hi), scalarCount: hi - lo) : .str(utf8String(h, lo, hi))
        }
        var out: [Value] = []
        out.reserveCapacity(min(n / 8 + 4, maxsplit == Int.max ? Int.max : maxsplit + 1))
        if let sep {
            if sep.value.isEmpty { throw valueError("empty separator") }
            return sep.withBytes { sb -> [Value] in
                let m = sb.count
                if !reverse {
                    var i = 0
                    while out.count < maxsplit, let j = ByteSearch.find(h, sb, i, n) {
                        out.append(part(i, j)); i = j + m
                    }
                    if i == 0 && s.hasType(Types.strID) { out.append(.obj(s)) } else { out.append(part(i, n)) }
                } else {
                    var e = n
                    while out.count < maxsplit, let j = ByteSearch.rfind(h, sb, 0, e) {
                        out.append(part(j + m, e)); e = j
                    }
                    out.append(part(0, e))
                    out.reverse()
                }
                return out
            }
        }
        if !reverse {
            var i = 0
            while i < n { let l = spaceAt(h, i); if l == 0 { break }; i += l }
            while i < n {
                if out.count >= maxsplit {
                    out.append(part(i, n))
                    break
                }
                var j = i
                while j < n && spaceAt(h, j) == 0 { j += charLength(h[j]) }
                out.append(part(i, j))
                i = j
                while i < n { let l = spaceAt(h, i); if l == 0 { break }; i += l }
            }
        } else {
            var e = n
            while e > 0 { let l = spaceBefore(h, e); if l == 0 { break }; e -= l }
            while e > 0 {
                if out.count >= maxsplit {
                    out.append(part(0, e))
                    break
                }
                var j = e
                while j > 0 && spaceBefore(h, j) == 0 { j = decodeScalarBefore(h, j).1 }
                out.append(part(j, e))
                e = j
                while e > 0 { let l = spaceBefore(h, e); if l == 0 { break }; e -= l }
            }
            out.reverse()
        }
        return out
    }
    return .obj(PyList(parts))
}

/// `strip`/`lstrip`/`rstrip`.
private func strStrip(_ sv: Value, _ a: Args, _ name: String, left: Bool, right: Bool) throws -> Value {
    try TextArgs.range(a, "str.\(name)", 0, 1)
    return try strStrip(sv, a.count == 1 ? a[0] : .none, name, left: left, right: right)
}

/// `strip`/`lstrip`/`rstrip` of `sv` by the characters `charsArg` (None: whitespace).
@inline(__always) private func strStrip(_ sv: Value, _ charsArg: Value, _ name: String, left: Bool, right: Bool) throws -> Value {
    let s = try recv(sv, name)
    // What to strip, decided before the text is scanned: whitespace (None), a 128-bit set
    // of ASCII characters, or (when `chars` is not all ASCII) a set of scalars.
    var bitmap: (low: UInt64, high: UInt64)? = nil
    var scalars: Set<UInt32>? = nil
    if !charsArg.isNone {
        let chars = try strArg(charsArg, "\(name) arg must be None or str")
        bitmap = chars.withBytes { cb -> (UInt64, UInt64)? in
            var low: UInt64 = 0, high: UInt64 = 0
            for b in cb {
                if b >= 0x80 { return nil }
                if b < 64 { low |= 1 << b } else { high |= 1 << (b - 64) }
            }
            return (low, high)
        }
        if bitmap == nil { scalars = Set(chars.value.unicodeScalars.map { $0.value }) }
    }
    return s.withBytes { h -> Value in
        var lo = 0, hi = h.count
        if let (low, high) = bitmap {
            @inline(__always) func member(_ b: UInt8) -> Bool {
                b < 64 ? low & (1 << b) != 0 : b < 128 && high & (1 << (b - 64)) != 0
            }
            if left { while lo < hi && member(h[lo]) { lo += 1 } }
            if right { while hi > lo && member(h[hi - 1]) { hi -= 1 } }
        } else if let set = scalars {
            if left {
                while lo < hi { let (c, l) = decodeScalar(h, lo); if !set.contains(c.value) { break }; lo += l }
            }
            if right {
                while hi > lo { let (c, st) = decodeScalarBefore(h, hi); if !set.contains(c.value) { break }; hi = st }
            }
        } else {
            if left { while lo < hi { let l = spaceAt(h, lo); if l == 0 { break }; lo += l } }
            if right { while hi > lo { let l = spaceBefore(h, hi); if l == 0 { break }; hi -= l } }
        }
        if lo == 0 && hi == h.count { return unchanged(s) }
        // An all-ASCII text (known when its length is cached) keeps that knowledge.
        return s.knownCount == h.count ? .str(utf8String(h, lo, hi), scalarCount: hi - lo) : .str(utf8String(h, lo, hi))
    }
}

/// `center`/`ljust`/`rjust`: `left` is the number of fill characters before the text.
private func strPad(_ u: Unit, _ sv: Value, _ a: Args, _ name: String,
                    _ left: (_ margin: Int, _ width: Int) -> Int) throws -> Value {
    let s = try recv(sv, name)
    try TextArgs.range(a, "str.\(name)", 1, 2)
    let width = try u.toIndex(a[0])
    var fill = " "
    if a.count == 2 {
        let f = try strArg(a[1], "The fill character must be a unicode character, not \(a[1].typeName)")
        guard f.count == 1 else { throw typeError("The fill character must be exactly one character long") }
        fill = f.value
    }
    let len = s.count
    if len >= width { return sameOrNew(s, s.value, changed: false) }
    let margin = width - len
    try checkBuildSize(fill.utf8.count, times: margin)
    let l = left(margin, width)
    return .str(String(repeating: fill, count: l) + s.value + String(repeating: fill, count: margin - l))
}

/// The text of `items` (all str) with `separator` between them, `byteCount` UTF-8 bytes in
/// all, copied straight into the new string's storage.
private func joinUTF8(_ items: [Value], separator: String, byteCount: Int) -> String {
    withUTF8(separator) { sep in
        String(unsafeUninitializedCapacity: byteCount) { out in
            var at = 0
            for (i, item) in items.enumerated() {
                if i > 0 && sep.count > 0 {
                    UnsafeMutableRawPointer(out.baseAddress! + at).copyMemory(from: sep.baseAddress!, byteCount: sep.count)
                    at += sep.count
                }
                withUTF8(item.asStr!.value) { part in
                    if part.count > 0 {
                        UnsafeMutableRawPointer(out.baseAddress! + at).copyMemory(from: part.baseAddress!, byteCount: part.count)
                        at += part.count
                    }
                }
            }
            return at
        }
    }
}

// MARK: - install

func installStrMethods(_ t: PyType) {
    /// `str(x)`.
    func strOf(_ u: Unit, _ x: Value) throws -> Value {
        if let s = x.asStr, s.hasType(Types.strID) { return x }
        if case .int(let i) = x { let text = decimalString(i); return .str(text, scalarCount: text.utf8.count) }
        return .str(try u.str(x))
    }
    t.constructor1 = strOf
    t.constructor = { u, type, a in
        if a.keywords.isEmpty && a.count == 1 && type === Types.str { return try strOf(u, a[0]) }
        let p = try TextArgs.bind(a, "str", ["object", "encoding", "errors"])
        let text: String
        if p[1] == nil && p[2] == nil {
            text = try p[0].map { try u.str($0) } ?? ""
        } else {
            let encoding = try p[1].map { try strArg($0, "str() argument 'encoding' must be str, not \($0.argTypeName)").value } ?? "utf-8"
            let errors = try p[2].map { try strArg($0, "str() argument 'errors' must be str, not \($0.argTypeName)").value } ?? "strict"
            // CPython converts both to C strings first.
            if encoding.utf8.contains(0) || errors.utf8.contains(0) { throw valueError("embedded null character") }
            guard let obj = p[0] else { return .str("") }
            guard case .obj(let o) = obj, let b = o as? PyBytes else {
                if obj.asStr != nil { throw typeError("decoding str is not supported") }
                throw typeError("decoding to str: need a bytes-like object, \(obj.typeName) found")
            }
            text = try decodeBytes(b.snapshot, encoding: encoding, errors: errors)
        }
        return type === Types.str ? .str(text) : .obj(PyStr(text, type: type))
    }

    // Case
    t.method0("lower", qualified: "str.lower") { _, v in caseMapped(try recv(v, "lower"), asciiLower, flipping: 65...90, pyLower) }
    t.method0("upper", qualified: "str.upper") { _, v in caseMapped(try recv(v, "upper"), asciiUpper, flipping: 97...122, pyUpper) }
    t.method0("swapcase", qualified: "str.swapcase") { _, v in caseMapped(try recv(v, "swapcase"), asciiSwapcase, pySwapcase) }
    t.method("title") { _, v, a in
        let s = try recv(v, "title"); try ContainerArgs.none(a, "str.title")
        return .str(pyTitle(s.value))
    }
    t.method("capitalize") { _, v, a in
        let s = try recv(v, "capitalize"); try ContainerArgs.none(a, "str.capitalize")
        return .str(pyCapitalize(s.value))
    }
    t.method("casefold") { _, v, a in
        let s = try recv(v, "casefold"); try ContainerArgs.none(a, "str.casefold")
        return .str(pyCasefold(s.value))
    }

    // Predicates
    func predicate(_ name: String, empty: Bool = false, ascii: ((UInt8) -> Bool)? = nil,
                   _ f: @escaping (Unicode.Scalar) -> Bool) {
        // The ASCII characters that satisfy the predicate, as a 128-bit set (bit b of
        // `low` for b < 64, of `high` for the rest): tested per byte without a call.
        var low: UInt64 = 0, high: UInt64 = 0
        if let ascii {
            for b in UInt8(0)..<128 where ascii(b) { if b < 64 { low |= 1 << b } else { high |= 1 << (b - 64) } }
        }
        let hasASCIISet = ascii != nil
        let (lowSet, highSet) = (low, high)  // captured as constants, not boxed variables
        t.method0(name, qualified: "str.\(name)") { _, v in
            let s = try recv(v, name)
            if s.value.isEmpty { return .bool(empty) }
            if hasASCIISet {
                // 1 when every byte is ASCII and in the set, 0 when an ASCII byte is not,
                // -1 when the text is not all ASCII (then scalars decide).
                let verdict = s.withBytes { h -> Int in
                    for b in h {
                        if b >= 0x80 { return -1 }
                        let inSet = b < 64 ? (lowSet >> b) & 1 : (highSet >> (b &- 64)) & 1
                        if inSet == 0 { return 0 }
                    }
                    return 1
                }
                if verdict >= 0 { return .bool(verdict == 1) }
            }
            return .bool(s.value.unicodeScalars.allSatisfy(f))
        }
    }
    predicate("isalpha", ascii: { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7a }, pyIsAlpha)
    predicate("isalnum", ascii: { ($0 >= 48 && $0 <= 57) || (($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7a) }, pyIsAlnum)
    predicate("isdecimal", ascii: { $0 >= 48 && $0 <= 57 }, pyIsDecimal)
    predicate("isdigit", ascii: { $0 >= 48 && $0 <= 57 }, pyIsDigit)
    predicate("isnumeric", ascii: { $0 >= 48 && $0 <= 57 }, pyIsNumeric)
    predicate("isspace", ascii: isASCIISpace, pyIsSpace)
    predicate("isprintable", empty: true, pyIsPrintable)
    predicate("isascii", empty: true) { $0.value < 128 }
    t.method("isidentifier") { _, v, a in
        let s = try recv(v, "isidentifier"); try ContainerArgs.none(a, "str.isidentifier")
        return .bool(pyIsIdentifier(s.value))
    }
    t.method("istitle") { _, v, a in
        let s = try recv(v, "istitle"); try ContainerArgs.none(a, "str.istitle")
        return .bool(pyIsTitleString(s.value))
    }
    t.method("isupper") { _, v, a in
        let s = try recv(v, "isupper"); try ContainerArgs.none(a, "str.isupper")
        var cased = false
        for c in s.value.unicodeScalars {
            if pyIsLower(c) || pyIsTitle(c) { return .bool(false) }
            if !cased && pyIsUpper(c) { cased = true }
        }
        return .bool(cased)
    }
    t.method("islower") { _, v, a in
        let s = try recv(v, "islower"); try ContainerArgs.none(a, "str.islower")
        var cased = false
        for c in s.value.unicodeScalars {
            if pyIsUpper(c) || pyIsTitle(c) { return .bool(false) }
            if !cased && pyIsLower(c) { cased = true }
        }
        return .bool(cased)
    }

    // Search
    t.method("find", oneArg: { _, v, sub in
        let s = try recv(v, "find"); return .int(try strFind(s, sub, 0, s.count, reverse: false))
    }) { u, v, a in .int(try strFind(u, v, a, "find", reverse: false)) }
    t.method("rfind", oneArg: { _, v, sub in
        let s = try recv(v, "rfind"); return .int(try strFind(s, sub, 0, s.count, reverse: true))
    }) { u, v, a in .int(try strFind(u, v, a, "rfind", reverse: true)) }
    t.method("index") { u, v, a in
        let i = try strFind(u, v, a, "index", reverse: false)
        if i < 0 { throw valueError("substring not found") }
        return .int(i)
    }
    t.method("rindex") { u, v, a in
        let i = try strFind(u, v, a, "rindex", reverse: true)
        if i < 0 { throw valueError("substring not found") }
        return .int(i)
    }
    /// `s.count(sub)` in scalars start..<end (bounds already fitted).
    func count(_ s: PyStr, _ subArg: Value, _ start: Int, _ end: Int) throws -> Value {
        let sub = try strArg(subArg, "must be str, not \(subArg.typeName)")
        if end < start { return .int(0) }
        if sub.value.isEmpty { return .int(end - start + 1) }
        return .int(s.withBytes { h in
            sub.withBytes { n in
                let (lo, hi) = byteRange(s, h, start, end)
                return ByteSearch.count(h, n, lo, hi)
            }
        })
    }
    t.method("count", oneArg: { _, v, sub in
        let s = try recv(v, "count"); return try count(s, sub, 0, s.count)
    }) { u, v, a in
        let s = try recv(v, "count")
        try TextArgs.classic(a, "str.count", 1, 3)
        let (start, end) = try TextArgs.bounds(a, from: 1, s.count, u)
        return try count(s, a[0], start, end)
    }
    t.method("startswith", oneArg: { _, v, p in
        let s = try recv(v, "startswith"); return .bool(try strTailMatch(s, p, 0, s.count, "startswith", suffix: false))
    }) { u, v, a in .bool(try strTailMatch(u, v, a, "startswith", suffix: false)) }
    t.method("endswith", oneArg: { _, v, p in
        let s = try recv(v, "endswith"); return .bool(try strTailMatch(s, p, 0, s.count, "endswith", suffix: true))
    }) { u, v, a in .bool(try strTailMatch(u, v, a, "endswith", suffix: true)) }

    // Splitting and joining
    t.method("split", noArgs: { _, v in try strSplit(try recv(v, "split"), .none, maxsplit: -1, "split", reverse: false) },
             oneArg: { _, v, sep in try strSplit(try recv(v, "split"), sep, maxsplit: -1, "split", reverse: false) }) { u, v, a in
        try strSplit(u, v, a, "split", reverse: false)
    }
    t.method("rsplit", noArgs: { _, v in try strSplit(try recv(v, "rsplit"), .none, maxsplit: -1, "rsplit", reverse: true) },
             oneArg: { _, v, sep in try strSplit(try recv(v, "rsplit"), sep, maxsplit: -1, "rsplit", reverse: true) }) { u, v, a in
        try strSplit(u, v, a, "rsplit", reverse: true)
    }
    t.method("splitlines") { u, v, a in
        let s = try recv(v, "splitlines")
        let p = try TextArgs.bind(a, "splitlines", ["keepends"])
        let keep = try p[0].map { try u.toIndex($0) != 0 } ?? false
        var out: [Value] = []
        s.withBytes { h in
            var i = 0, start = 0
            let n = h.count
            while i < n {
                let b = h[i]
                var brk = 0
                if b < 0x80 {
                    if b == 13 { brk = i + 1 < n && h[i + 1] == 10 ? 2 : 1 }
                    else if b == 10 || b == 11 || b == 12 || b == 0x1c || b == 0x1d || b == 0x1e { brk = 1 }
                } else {
                    let (c, l) = decodeScalar(h, i)
                    if pyIsLineBreak(c) { brk = l }
                    else { i += l; continue }
                }
                if brk == 0 { i += 1; continue }
                out.append(.str(utf8String(h, start, keep ? i + brk : i)))
                i += brk
                start = i
            }
            if start < n { out.append(.str(utf8String(h, start, n))) }
        }
        return .obj(PyList(out))
    }
    /// `s.join(arg)`.
    func join(_ u: Unit, _ v: Value, _ arg: Value) throws -> Value {
        let s = try recv(v, "join")
        let items = try iterableItems(arg, u, orTypeError: "can only join an iterable")
        var total = 0
        for (i, item) in items.enumerated() {
            guard let p = item.asStr else {
                throw typeError("sequence item \(i): expected str instance, \(item.typeName) found")
            }
            total += p.value.utf8.count
        }
        if items.count == 1, let only = items[0].asStr, only.hasType(Types.strID) { return .obj(only) }
        if items.isEmpty { return .str("") }
        return .str(joinUTF8(items, separator: s.value, byteCount: total + s.value.utf8.count * (items.count - 1)))
    }
    t.method("join", oneArg: join) { u, v, a in try join(u, v, try ContainerArgs.one(a, "str.join")) }
    t.method("partition") { _, v, a in
        let s = try recv(v, "partition")
        let sep = try strArg(try ContainerArgs.one(a, "str.partition"), "must be str, not \(a[0].typeName)")
        if sep.value.isEmpty { throw valueError("empty separator") }
        let r: [Value] = s.withBytes { h in
            sep.withBytes { n in
                guard let j = ByteSearch.find(h, n, 0, h.count) else { return [.obj(s), .str(""), .str("")] }
                return [.str(utf8String(h, 0, j)), .obj(sep), .str(utf8String(h, j + n.count, h.count))]
            }
        }
        return .obj(PyTuple(r))
    }
    t.method("rpartition") { _, v, a in
        let s = try recv(v, "rpartition")
        let sep = try strArg(try ContainerArgs.one(a, "str.rpartition"), "must be str, not \(a[0].typeName)")
        if sep.value.isEmpty { throw valueError("empty separator") }
        let r: [Value] = s.withBytes { h in
            sep.withBytes { n in
                guard let j = ByteSearch.rfind(h, n, 0, h.count) else { return [.str(""), .str(""), .obj(s)] }
                return [.str(utf8String(h, 0, j)), .obj(sep), .str(utf8String(h, j + n.count, h.count))]
            }
        }
        return .obj(PyTuple(r))
    }

    // Stripping and padding
    t.method("strip", noArgs: { _, v in try strStrip(v, .none, "strip", left: true, right: true) },
             oneArg: { _, v, c in try strStrip(v, c, "strip", left: true, right: true) }) { _, v, a in
        try strStrip(v, a, "strip", left: true, right: true)
    }
    t.method("lstrip", noArgs: { _, v in try strStrip(v, .none, "lstrip", left: true, right: false) },
             oneArg: { _, v, c in try strStrip(v, c, "lstrip", left: true, right: false) }) { _, v, a in
        try strStrip(v, a, "lstrip", left: true, right: false)
    }
    t.method("rstrip", noArgs: { _, v in try strStrip(v, .none, "rstrip", left: false, right: true) },
             oneArg: { _, v, c in try strStrip(v, c, "rstrip", left: false, right: true) }) { _, v, a in
        try strStrip(v, a, "rstrip", left: false, right: true)
    }
    t.method("center") { u, v, a in try strPad(u, v, a, "center") { m, w in m / 2 + (m & w & 1) } }
    t.method("ljust") { u, v, a in try strPad(u, v, a, "ljust") { _, _ in 0 } }
    t.method("rjust") { u, v, a in try strPad(u, v, a, "rjust") { m, _ in m } }
    t.method("zfill") { u, v, a in
        let s = try recv(v, "zfill")
        let width = try u.toIndex(try ContainerArgs.one(a, "str.zfill"))
        if width <= s.count { return sameOrNew(s, s.value, changed: false) }
        let fill = width - s.count
        try checkBuildSize(fill)
        var body = Substring(s.value)
        var sign = ""
        if let f = body.unicodeScalars.first, f == "+" || f == "-" { sign = String(f); body = body.dropFirst() }
        return .str(sign + String(repeating: "0", count: fill) + body)
    }
    t.method("expandtabs") { u, v, a in
        let s = try recv(v, "expandtabs")
        let p = try TextArgs.bind(a, "expandtabs", ["tabsize"])
        let tab = try p[0].map { try u.toIndex($0) } ?? 8
        // CPython takes the size as a C int.
        guard tab <= Int(Int32.max) && tab >= Int(Int32.min) else { throw overflowError("Python int too large to convert to C int") }
        if !s.value.utf8.contains(9) { return sameOrNew(s, s.value, changed: false) }
        var out = String.UnicodeScalarView()
        var col = 0
        for c in s.value.unicodeScalars {
            if c == "\t" {
                if tab > 0 {
                    let n = tab - col % tab
                    try checkBuildSize(out.count + n)
                    out.append(contentsOf: repeatElement(" ", count: n))
                    col += n
                }
            } else {
                out.append(c)
                col = c == "\n" || c == "\r" ? 0 : col + 1
            }
        }
        return .str(String(out))
    }

    // Replacing
    /// `s.replace(old, new, count)` (count negative: every occurrence).
    func replace(_ v: Value, _ oldArg: Value, _ newArg: Value, _ limit: () throws -> Int) throws -> Value {
        let s = try recv(v, "replace")
        let old = try strArg(oldArg, "replace() argument 1 must be str, not \(oldArg.argTypeName)")
        let new = try strArg(newArg, "replace() argument 2 must be str, not \(newArg.argTypeName)")
        var count = try limit()
        if count < 0 { count = Int.max }
        if count == 0 { return sameOrNew(s, s.value, changed: false) }
        if old.value.isEmpty {
            var out = ""
            var n = 0
            for c in s.value.unicodeScalars {
                if n < count { out += new.value; n += 1 }
                out.unicodeScalars.append(c)
            }
            if n < count { out += new.value }
            return .str(out)
        }
        let result: String? = s.withBytes { h in
            old.withBytes { o in
                var i = 0, n = 0
                var out: [UInt8] = []
                while n < count, let j = ByteSearch.find(h, o, i, h.count) {
                    if n == 0 { out.reserveCapacity(h.count + 16) }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: h[i..<j]))
                    out.append(contentsOf: new.value.utf8)
                    i = j + o.count; n += 1
                }
                if n == 0 { return nil }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: h[i...]))
                return String(decoding: out, as: UTF8.self)
            }
        }
        guard let result else { return sameOrNew(s, s.value, changed: false) }
        return .str(result)
    }
    t.method("replace", twoArgs: { _, v, old, new in try replace(v, old, new) { -1 } }) { u, v, a in
        _ = try recv(v, "replace")
        try TextArgs.range(a, "str.replace", 2, 3)
        return try replace(v, a[0], a[1]) { a.count == 3 ? try u.toIndex(a[2]) : -1 }
    }
    t.method("removeprefix") { _, v, a in
        let s = try recv(v, "removeprefix")
        let arg = try ContainerArgs.one(a, "str.removeprefix")
        let p = try strArg(arg, "removeprefix() argument must be str, not \(arg.argTypeName)")
        let pu = p.value.utf8
        if !p.value.isEmpty && s.value.utf8.starts(with: pu) {
            return .str(s.withBytes { utf8String($0, pu.count, $0.count) })
        }
        return sameOrNew(s, s.value, changed: false)
    }
    t.method("removesuffix") { _, v, a in
        let s = try recv(v, "removesuffix")
        let arg = try ContainerArgs.one(a, "str.removesuffix")
        let p = try strArg(arg, "removesuffix() argument must be str, not \(arg.argTypeName)")
        let pu = p.value.utf8, su = s.value.utf8
        if !p.value.isEmpty && su.count >= pu.count && su.reversed().starts(with: pu.reversed()) {
            return .str(s.withBytes { utf8String($0, 0, $0.count - pu.count) })
        }
        return sameOrNew(s, s.value, changed: false)
    }
    t.method("translate") { u, v, a in
        let s = try recv(v, "translate")
        let table = try ContainerArgs.one(a, "str.translate")
        var out = String.UnicodeScalarView()
        for c in s.value.unicodeScalars {
            let key = Value.int(Int(c.value))
            var mapped: Value?
            if case .obj(let o) = table, let d = o as? PyDict, d.hasType(Types.dictID) {
                mapped = try d.get(u, key)
            } else {
                do {
                    mapped = try u.getItem(table, key)
                } catch let e as PyBaseException where e.type.isSubtype(of: Exc.lookupError) {
                    mapped = nil
                }
            }
            guard let m = mapped else { out.append(c); continue }
            switch m {
            case .none: continue
            case .int(let i):
                guard i >= 0 && i < 0x110000 else { throw valueError("character mapping must be in range(0x110000)") }
                out.append(Unicode.Scalar(UInt32(i)) ?? "\u{FFFD}")
            default:
                guard let r = m.asStr else { throw typeError("character mapping must return integer, None or str") }
                out.append(contentsOf: r.value.unicodeScalars)
            }
        }
        return .str(String(out))
    }
    t.staticFunction("maketrans") { u, a in
        try TextArgs.range(a, "str.maketrans", 1, 3)
        let d = PyDict()
        if a.count == 1 {
            guard case .obj(let o) = a[0], let src = o as? PyDict else {
                throw typeError("if you give only one argument to maketrans it must be a dict")
            }
            for (k, val) in src.pairs {
                switch k {
                case .int, .bool: try d.set(u, k, val)
                default:
                    guard let ks = k.asStr else { throw typeError("keys in translate table must be strings or integers") }
                    guard ks.count == 1 else { throw valueError("string keys in translate table must be of length 1") }
                    try d.set(u, .int(Int(ks.value.unicodeScalars.first!.value)), val)
                }
            }
            return .obj(d)
        }
        let x = try strArg(a[0], "first maketrans argument must be a string if there is a second argument")
        let y = try strArg(a[1], "maketrans() argument 2 must be str, not \(a[1].argTypeName)")
        guard x.count == y.count else { throw valueError("the first two maketrans arguments must have equal length") }
        for (p, q) in zip(x.value.unicodeScalars, y.value.unicodeScalars) {
            try d.set(u, .int(Int(p.value)), .int(Int(q.value)))
        }
        if a.count == 3 {
            let z = try strArg(a[2], "maketrans() argument 3 must be str, not \(a[2].argTypeName)")
            for c in z.value.unicodeScalars { try d.set(u, .int(Int(c.value)), .none) }
        }
        return .obj(d)
    }

    // Encoding and formatting
    t.method("encode") { _, v, a in
        let s = try recv(v, "encode")
        let p = try TextArgs.bind(a, "encode", ["encoding", "errors"])
        let encoding = try p[0].map { try strArg($0, "encode() argument 'encoding' must be str, not \($0.argTypeName)").value } ?? "utf-8"
        let errors = try p[1].map { try strArg($0, "encode() argument 'errors' must be str, not \($0.argTypeName)").value } ?? "strict"
        return .obj(PyBytes(try encodeString(s.value, encoding: encoding, errors: errors)))
    }
    t.method("format") { u, v, a in .str(try strFormat(u, try recv(v, "format").value, a)) }
    t.method("format_map") { u, v, a in
        let s = try recv(v, "format_map")
        return .str(try strFormatMap(u, s.value, try ContainerArgs.one(a, "str.format_map")))
    }
    t.method("__format__") { _, v, a in
        let s = try recv(v, "__format__")
        let arg = try ContainerArgs.one(a, "str.__format__")
        let spec = try strArg(arg, "__format__() argument must be str, not \(arg.argTypeName)")
        if spec.value.isEmpty { return .str(s.value) }
        let r = try formatString(s.value, try FormatSpec(spec.value, defaultAlign: "<", defaultType: "s", typeName: "str"))
        return r == s.value ? v : .str(r)  // unchanged: the object itself, as CPython's
    }
    t.method("__len__") { _, v, a in
        let s = try recv(v, "__len__"); try ContainerArgs.none(a, "str.__len__")
        return .int(s.count)
    }
    t.method("__contains__") { _, v, a in
        .bool(try strContains(try recv(v, "__contains__"), try ContainerArgs.one(a, "str.__contains__")))
    }
    t.method("__getitem__") { u, v, a in
        try strGetItem(try recv(v, "__getitem__"), try ContainerArgs.one(a, "str.__getitem__"), u)
    }
    t.method("__iter__") { u, v, a in
        try ContainerArgs.none(a, "str.__iter__")
        return .obj(PyStrIterator(try recv(v, "__iter__")))
    }
    t.method("__rmod__") { u, v, a in
        _ = try recv(v, "__rmod__")
        _ = try ContainerArgs.one(a, "str.__rmod__")
        return .obj(Singletons.notImplemented)
    }
    t.method("__mod__") { u, v, a in
        try strModulo(u, try recv(v, "__mod__"), try ContainerArgs.one(a, "str.__mod__"))
    }
}
