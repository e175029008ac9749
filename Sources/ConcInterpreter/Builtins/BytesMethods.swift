// The methods of `bytes` and `bytearray` (ASCII semantics for case and character classes,
// as CPython), their constructors, repr and subscripts.

// MARK: - repr and subscripts

/// `repr(b)` exactly as CPython: `b'...'`, double quotes when the bytes contain `'` and no `"`,
/// `\t \n \r \\` and the quote escaped, other bytes outside 0x20–0x7e as `\xNN`.
func bytesRepr(_ b: [UInt8], prefix: String = "b") -> String {
    bytesRepr(b, prefix: prefix, alwaysEscapeSingleQuote: false)
}

/// `repr(bytearray)`: `bytearray(b'...')`. CPython's bytearray repr escapes `'` even inside
/// double quotes (`bytearray(b"it\'s")`), unlike bytes.
/// A subclass's instances show its name (`BA(b'..')`).
func bytearrayRepr(_ b: [UInt8], typeName: String = "bytearray") -> String {
    typeName + "(" + bytesRepr(b, prefix: "b", alwaysEscapeSingleQuote: true) + ")"
}

private func bytesRepr(_ b: [UInt8], prefix: String, alwaysEscapeSingleQuote: Bool) -> String {
    let quote: UInt8 = b.contains(UInt8(ascii: "'")) && !b.contains(UInt8(ascii: "\"")) ? UInt8(ascii: "\"") : UInt8(ascii: "'")
    var out: [UInt8] = Array(prefix.utf8)
    out.reserveCapacity(b.count + 3 + prefix.utf8.count)
    out.append(quote)
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    for x in b {
        switch x {
        case quote, UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(x)
        case UInt8(ascii: "'") where alwaysEscapeSingleQuote: out.append(UInt8(ascii: "\\")); out.append(x)
        case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x20..<0x7f: out.append(x)
        default: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(x >> 4)], hex[Int(x & 15)]])
        }
    }
    out.append(quote)
    return String(decoding: out, as: UTF8.self)
}

/// `b[index]`: an int for an index, a new bytes/bytearray for a slice.
func bytesGetItem(_ b: PyBytes, _ index: Value, _ u: Unit) throws -> Value {
    let kind = b.isMutable ? "bytearray" : "bytes"
    if case .obj(let o) = index, let sl = o as? PySlice {
        let (start, stop, step) = try sliceUnpack(sl, u)
        let data = b.snapshot
        let r = adjustSlice(start: start, stop: stop, step: step, length: data.count)
        return .obj(PyBytes(sliceElements(data, r.start, r.step, r.count), mutable: b.isMutable))
    }
    guard let i = try indexValue(index, u) else {
        throw typeError("\(kind == "bytes" ? "byte" : kind) indices must be integers or slices, not \(index.typeName)")
    }
    let data = b.snapshot
    guard let j = normalizedIndex(i, data.count) else {
        throw indexError(b.isMutable ? "bytearray index out of range" : "index out of range")
    }
    return .int(Int(data[j]))
}

// MARK: - Helpers

@inline(__always) private func bytesOf(_ v: Value) -> [UInt8]? {
    if case .obj(let o) = v, let b = o as? PyBytes { return b.snapshot }
    return nil
}

private func bytesArg(_ v: Value) throws -> [UInt8] {
    if let b = bytesOf(v) { return b }
    throw typeError("a bytes-like object is required, not '\(v.typeName)'")
}

/// The needle of find/count/index: bytes, or an int naming one byte.
private func needleArg(_ v: Value, _ u: Unit) throws -> [UInt8] {
    if let b = bytesOf(v) { return b }
    if let i = try indexValue(v, u) {
        guard i >= 0 && i < 256 else { throw valueError("byte must be in range(0, 256)") }
        return [UInt8(i)]
    }
    throw typeError("argument should be integer or bytes-like object, not '\(v.typeName)'")
}

/// Bytes whitespace (`Py_ISSPACE`): space, \t \n \v \f \r.
@inline(__always) private func isByteSpace(_ b: UInt8) -> Bool { b == 32 || (b >= 9 && b <= 13) }
@inline(__always) private func isByteLower(_ b: UInt8) -> Bool { b >= 97 && b <= 122 }
@inline(__always) private func isByteUpper(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
@inline(__always) private func isByteAlpha(_ b: UInt8) -> Bool { isByteLower(b) || isByteUpper(b) }
@inline(__always) private func isByteDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
@inline(__always) private func byteLower(_ b: UInt8) -> UInt8 { isByteUpper(b) ? b + 32 : b }
@inline(__always) private func byteUpper(_ b: UInt8) -> UInt8 { isByteLower(b) ? b - 32 : b }

/// Byte search on arrays.
private func search(_ h: [UInt8], _ n: [UInt8], _ lo: Int, _ hi: Int, reverse: Bool) -> Int? {
    h.withUnsafeBufferPointer { hb in
        n.withUnsafeBufferPointer { nb in
            reverse ? ByteSearch.rfind(hb, nb, lo, hi) : ByteSearch.find(hb, nb, lo, hi)
        }
    }
}

private func countOccurrences(_ h: [UInt8], _ n: [UInt8], _ lo: Int, _ hi: Int, limit: Int = Int.max) -> Int {
    h.withUnsafeBufferPointer { hb in n.withUnsafeBufferPointer { nb in ByteSearch.count(hb, nb, lo, hi, limit: limit) } }
}

/// The shared methods of bytes (`mutable` false) and bytearray (true).
private func installCommonBytesMethods(_ t: PyType, mutable: Bool) {
    let kind = mutable ? "bytearray" : "bytes"
    func recv(_ v: Value, _ name: String) throws -> PyBytes {
        if case .obj(let o) = v, let b = o as? PyBytes, b.isMutable == mutable { return b }
        throw typeError("descriptor '\(name)' for '\(kind)' objects doesn't apply to a '\(v.typeName)' object")
    }
    func make(_ b: [UInt8]) -> Value { .obj(PyBytes(b, mutable: mutable)) }
    func method(_ name: String, _ body: @escaping (Unit, PyBytes, Args) throws -> Value) {
        t.method(name) { u, v, a in try body(u, try recv(v, name), a) }
    }
    func noArgs(_ name: String, _ body: @escaping ([UInt8]) -> Value) {
        method(name) { _, b, a in try ContainerArgs.none(a, "\(kind).\(name)"); return body(b.snapshot) }
    }

    // Search
    func find(_ u: Unit, _ b: PyBytes, _ a: Args, _ name: String, reverse: Bool) throws -> Int {
        try TextArgs.classic(a, "\(kind).\(name)", 1, 3)
        let n = try needleArg(a[0], u)
        let h = b.snapshot
        let (start, end) = try TextArgs.bounds(a, from: 1, h.count, u)
        if end - start < n.count { return -1 }
        if n.isEmpty { return reverse ? end : start }
        return search(h, n, start, end, reverse: reverse) ?? -1
    }
    method("find") { u, b, a in .int(try find(u, b, a, "find", reverse: false)) }
    method("rfind") { u, b, a in .int(try find(u, b, a, "rfind", reverse: true)) }
    method("index") { u, b, a in
        let i = try find(u, b, a, "index", reverse: false)
        if i < 0 { throw valueError("subsection not found") }
        return .int(i)
    }
    method("rindex") { u, b, a in
        let i = try find(u, b, a, "rindex", reverse: true)
        if i < 0 { throw valueError("subsection not found") }
        return .int(i)
    }
    method("count") { u, b, a in
        try TextArgs.classic(a, "\(kind).count", 1, 3)
        let n = try needleArg(a[0], u)
        let h = b.snapshot
        let (start, end) = try TextArgs.bounds(a, from: 1, h.count, u)
        if end < start { return .int(0) }
        if n.isEmpty { return .int(end - start + 1) }
        return .int(countOccurrences(h, n, start, end))
    }
    func tailMatch(_ u: Unit, _ b: PyBytes, _ a: Args, _ name: String, suffix: Bool) throws -> Bool {
        try TextArgs.classic(a, "\(kind).\(name)", 1, 3)
        let h = b.snapshot
        let (start, end) = try TextArgs.bounds(a, from: 1, h.count, u)
        func match(_ p: [UInt8]) -> Bool {
            if end - p.count < start { return false }
            let at = suffix ? end - p.count : start
            for k in 0..<p.count where h[at + k] != p[k] { return false }
            return true
        }
        if case .obj(let o) = a[0], let tup = o as? PyTuple {
            for item in tup.items where match(try bytesArg(item)) { return true }
            return false
        }
        guard let p = bytesOf(a[0]) else {
            throw typeError("\(name) first arg must be bytes or a tuple of bytes, not \(a[0].typeName)")
        }
        return match(p)
    }
    method("startswith") { u, b, a in .bool(try tailMatch(u, b, a, "startswith", suffix: false)) }
    method("endswith") { u, b, a in .bool(try tailMatch(u, b, a, "endswith", suffix: true)) }

    // Split and join
    func split(_ u: Unit, _ b: PyBytes, _ a: Args, _ name: String, reverse: Bool) throws -> Value {
        let p = try TextArgs.bind(a, name, ["sep", "maxsplit"])
        var sep: [UInt8]? = nil
        if let v = p[0], !v.isNone { sep = try bytesArg(v) }
        var maxsplit = try p[1].map { try u.toIndex($0) } ?? -1
        if maxsplit < 0 { maxsplit = Int.max }
        let h = b.snapshot, n = h.count
        var out: [Value] = []
        if let sep {
            if sep.isEmpty { throw valueError("empty separator") }
            if !reverse {
                var i = 0
                while out.count < maxsplit, let j = search(h, sep, i, n, reverse: false) {
                    out.append(make(Array(h[i..<j]))); i = j + sep.count
                }
                out.append(make(Array(h[i...])))
            } else {
                var e = n
                while out.count < maxsplit, let j = search(h, sep, 0, e, reverse: true) {
                    out.append(make(Array(h[(j + sep.count)..<e]))); e = j
                }
                out.append(make(Array(h[..<e])))
                out.reverse()
            }
        } else if !reverse {
            var i = 0
            while i < n && isByteSpace(h[i]) { i += 1 }
            while i < n {
                if out.count >= maxsplit { out.append(make(Array(h[i..<n]))); break }
                var j = i
                while j < n && !isByteSpace(h[j]) { j += 1 }
                out.append(make(Array(h[i..<j])))
                i = j
                while i < n && isByteSpace(h[i]) { i += 1 }
            }
        } else {
            var e = n
            while e > 0 && isByteSpace(h[e - 1]) { e -= 1 }
            while e > 0 {
                if out.count >= maxsplit { out.append(make(Array(h[0..<e]))); break }
                var j = e
                while j > 0 && !isByteSpace(h[j - 1]) { j -= 1 }
                out.append(make(Array(h[j..<e])))
                e = j
                while e > 0 && isByteSpace(h[e - 1]) { e -= 1 }
            }
            out.reverse()
        }
        return .obj(PyList(out))
    }
    method("split") { u, b, a in try split(u, b, a, "split", reverse: false) }
    method("rsplit") { u, b, a in try split(u, b, a, "rsplit", reverse: true) }
    method("splitlines") { u, b, a in
        let p = try TextArgs.bind(a, "splitlines", ["keepends"])
        let keep = try p[0].map { try u.toIndex($0) != 0 } ?? false
        let h = b.snapshot, n = h.count
        var out: [Value] = []
        var i = 0, start = 0
        while i < n {
            var brk = 0
            if h[i] == 13 { brk = i + 1 < n && h[i + 1] == 10 ? 2 : 1 } else if h[i] == 10 { brk = 1 }
            if brk == 0 { i += 1; continue }
            out.append(make(Array(h[start..<(keep ? i + brk : i)])))
            i += brk; start = i
        }
        if start < n { out.append(make(Array(h[start...]))) }
        return .obj(PyList(out))
    }
    method("join") { u, b, a in
        let arg = try ContainerArgs.one(a, "\(kind).join")
        let items = try iterableItems(arg, u, orTypeError: "can only join an iterable")
        let glue = b.snapshot
        var out: [UInt8] = []
        for (i, item) in items.enumerated() {
            guard let p = bytesOf(item) else {
                throw typeError("sequence item \(i): expected a bytes-like object, \(item.typeName) found")
            }
            if i > 0 { out.append(contentsOf: glue) }
            out.append(contentsOf: p)
        }
        return make(out)
    }
    func partition(_ b: PyBytes, _ a: Args, _ name: String, reverse: Bool) throws -> Value {
        let sep = try bytesArg(try ContainerArgs.one(a, "\(kind).\(name)"))
        if sep.isEmpty { throw valueError("empty separator") }
        let h = b.snapshot
        guard let j = search(h, sep, 0, h.count, reverse: reverse) else {
            let empty = make([])
            return .obj(PyTuple(reverse ? [empty, make([]), make(h)] : [make(h), empty, make([])]))
        }
        // bytes returns the separator object itself (CPython does); bytearray copies it.
        let sepValue = mutable ? make(sep) : a[0]
        return .obj(PyTuple([make(Array(h[..<j])), sepValue, make(Array(h[(j + sep.count)...]))]))
    }
    method("partition") { _, b, a in try partition(b, a, "partition", reverse: false) }
    method("rpartition") { _, b, a in try partition(b, a, "rpartition", reverse: true) }

    // Strip, pad, replace
    func strip(_ b: PyBytes, _ a: Args, _ name: String, left: Bool, right: Bool) throws -> Value {
        try TextArgs.range(a, "\(kind).\(name)", 0, 1)
        var set = [Bool](repeating: false, count: 256)
        if a.count == 1 && !a[0].isNone {
            for x in try bytesArg(a[0]) { set[Int(x)] = true }
        } else {
            for x: UInt8 in [32, 9, 10, 11, 12, 13] { set[Int(x)] = true }
        }
        let h = b.snapshot
        var lo = 0, hi = h.count
        if left { while lo < hi && set[Int(h[lo])] { lo += 1 } }
        if right { while hi > lo && set[Int(h[hi - 1])] { hi -= 1 } }
        return make(Array(h[lo..<hi]))
    }
    method("strip") { _, b, a in try strip(b, a, "strip", left: true, right: true) }
    method("lstrip") { _, b, a in try strip(b, a, "lstrip", left: true, right: false) }
    method("rstrip") { _, b, a in try strip(b, a, "rstrip", left: false, right: true) }
    func pad(_ u: Unit, _ b: PyBytes, _ a: Args, _ name: String, _ left: @escaping (Int, Int) -> Int) throws -> Value {
        try TextArgs.range(a, "\(kind).\(name)", 1, 2)
        let width = try u.toIndex(a[0])
        var fill: UInt8 = 32
        if a.count == 2 {
            guard let f = bytesOf(a[1]), f.count == 1 else {
                throw typeError("\(name)() argument 2 must be a byte string of length 1, not \(a[1].argTypeName)")
            }
            fill = f[0]
        }
        let h = b.snapshot, n = h.count
        if n >= width { return make(h) }
        try checkBuildSize(width)
        let margin = width - n, l = left(margin, width)
        return make(Array(repeating: fill, count: l) + h + Array(repeating: fill, count: margin - l))
    }
    method("center") { u, b, a in try pad(u, b, a, "center") { m, w in m / 2 + (m & w & 1) } }
    method("ljust") { u, b, a in try pad(u, b, a, "ljust") { _, _ in 0 } }
    method("rjust") { u, b, a in try pad(u, b, a, "rjust") { m, _ in m } }
    method("zfill") { u, b, a in
        let width = try u.toIndex(try ContainerArgs.one(a, "\(kind).zfill"))
        let h = b.snapshot
        let fill = width - h.count
        if fill <= 0 { return make(h) }
        try checkBuildSize(width)
        var out = Array(repeating: UInt8(ascii: "0"), count: fill) + h
        if fill < out.count && (out[fill] == UInt8(ascii: "+") || out[fill] == UInt8(ascii: "-")) {
            out[0] = out[fill]; out[fill] = 48
        }
        return make(out)
    }
    method("replace") { u, b, a in
        try TextArgs.range(a, "\(kind).replace", 2, 3)
        let old = try bytesArg(a[0]), new = try bytesArg(a[1])
        var count = a.count == 3 ? try u.toIndex(a[2]) : -1
        if count < 0 { count = Int.max }
        let h = b.snapshot
        var out: [UInt8] = []
        if old.isEmpty {
            var n = 0
            for x in h {
                if n < count { out.append(contentsOf: new); n += 1 }
                out.append(x)
            }
            if n < count { out.append(contentsOf: new) }
            return make(out)
        }
        var i = 0, n = 0
        while n < count, let j = search(h, old, i, h.count, reverse: false) {
            out.append(contentsOf: h[i..<j]); out.append(contentsOf: new)
            i = j + old.count; n += 1
        }
        out.append(contentsOf: h[i...])
        return make(out)
    }
    method("removeprefix") { _, b, a in
        let p = try bytesArg(try ContainerArgs.one(a, "\(kind).removeprefix"))
        let h = b.snapshot
        return make(h.starts(with: p) ? Array(h[p.count...]) : h)
    }
    method("removesuffix") { _, b, a in
        let p = try bytesArg(try ContainerArgs.one(a, "\(kind).removesuffix"))
        let h = b.snapshot
        let has = !p.isEmpty && h.count >= p.count && Array(h[(h.count - p.count)...]) == p
        return make(has ? Array(h[..<(h.count - p.count)]) : h)
    }
    method("expandtabs") { u, b, a in
        let p = try TextArgs.bind(a, "expandtabs", ["tabsize"])
        let tab = Int(try p[0].map { try u.cIntArg($0) } ?? 8)
        var out: [UInt8] = [], col = 0
        for x in b.snapshot {
            if x == 9 {
                if tab > 0 {
                    let n = tab - col % tab
                    try checkBuildSize(out.count + n)
                    out.append(contentsOf: repeatElement(32, count: n)); col += n
                }
            } else {
                out.append(x)
                col = x == 10 || x == 13 ? 0 : col + 1
            }
        }
        return make(out)
    }

    // Case and classes (ASCII only)
    noArgs("lower") { make($0.map(byteLower)) }
    noArgs("upper") { make($0.map(byteUpper)) }
    noArgs("swapcase") { make($0.map { isByteAlpha($0) ? $0 ^ 0x20 : $0 }) }
    noArgs("capitalize") { h in make(h.enumerated().map { $0.offset == 0 ? byteUpper($0.element) : byteLower($0.element) }) }
    noArgs("title") { h in
        var prevCased = false
        return make(h.map { x in
            let r = prevCased ? byteLower(x) : byteUpper(x)
            prevCased = isByteAlpha(x)
            return r
        })
    }
    noArgs("isdigit") { .bool(!$0.isEmpty && $0.allSatisfy(isByteDigit)) }
    noArgs("isalpha") { .bool(!$0.isEmpty && $0.allSatisfy(isByteAlpha)) }
    noArgs("isalnum") { .bool(!$0.isEmpty && $0.allSatisfy { isByteAlpha($0) || isByteDigit($0) }) }
    noArgs("isspace") { .bool(!$0.isEmpty && $0.allSatisfy(isByteSpace)) }
    noArgs("isascii") { .bool($0.allSatisfy { $0 < 128 }) }
    noArgs("islower") { .bool($0.contains(where: isByteLower) && !$0.contains(where: isByteUpper)) }
    noArgs("isupper") { .bool($0.contains(where: isByteUpper) && !$0.contains(where: isByteLower)) }
    noArgs("istitle") { h in
        var cased = false, prev = false
        for x in h {
            if isByteUpper(x) { if prev { return .bool(false) }; prev = true; cased = true }
            else if isByteLower(x) { if !prev { return .bool(false) }; prev = true; cased = true }
            else { prev = false }
        }
        return .bool(cased)
    }

    // Conversions
    method("decode") { _, b, a in
        let p = try TextArgs.bind(a, "decode", ["encoding", "errors"])
        let encoding = try p[0].map { v -> String in
            guard let s = v.asStr else { throw typeError("decode() argument 'encoding' must be str, not \(v.argTypeName)") }
            return s.value
        } ?? "utf-8"
        let errors = try p[1].map { v -> String in
            guard let s = v.asStr else { throw typeError("decode() argument 'errors' must be str, not \(v.argTypeName)") }
            return s.value
        } ?? "strict"
        return .str(try decodeBytes(b.snapshot, encoding: encoding, errors: errors))
    }
    method("hex") { u, b, a in
        let p = try TextArgs.bind(a, "hex", ["sep", "bytes_per_sep"])
        let perSep = try p[1].map { try u.toIndex($0) } ?? 1
        // A C int in CPython: past it, OverflowError (and no magnitude to overflow here).
        guard perSep >= Int(Int32.min) && perSep <= Int(Int32.max) else { throw overflowError("Python int too large to convert to C int") }
        return .str(try bytesHex(b.snapshot, sep: p[0], perSep: perSep, u))
    }
    t.staticFunction("maketrans") { u, a in
        try a.expect("maketrans", 2, 2)
        func bytesArg(_ v: Value) throws -> [UInt8] {
            guard case .obj(let o) = v, let b = o as? PyBytes else { throw typeError("a bytes-like object is required, not '\(v.typeName)'") }
            return b.snapshot
        }
        let from = try bytesArg(a[0]), to = try bytesArg(a[1])
        if from.count != to.count { throw valueError("maketrans arguments must have same length") }
        var table = (0...255).map { UInt8($0) }
        for (x, y) in zip(from, to) { table[Int(x)] = y }
        return .obj(PyBytes(table))
    }
    method("translate") { u, b, a in
        try a.expect("translate", 1, 2, keywords: ["delete"])
        let tableArg = a[0]
        var table: [UInt8]? = nil
        if !tableArg.isNone {
            guard case .obj(let o) = tableArg, let t = o as? PyBytes else {
                throw typeError("a bytes-like object is required, not '\(tableArg.typeName)'")
            }
            table = t.snapshot
            if table!.count != 256 { throw valueError("translation table must be 256 characters long") }
        }
        var delete = Set<UInt8>()
        if let d = a.argument(1, "delete") {
            guard case .obj(let o) = d, let db = o as? PyBytes else { throw typeError("a bytes-like object is required, not '\(d.typeName)'") }
            delete = Set(db.snapshot)
        }
        var out: [UInt8] = []
        for x in b.snapshot where !delete.contains(x) { out.append(table?[Int(x)] ?? x) }
        return make(out)
    }
    t.classFunction("fromhex") { u, a in
        // A class method, as in CPython: `B.fromhex(s)` of a subclass returns `B(value)`.
        try ContainerArgs.noKeywords(a, "\(kind).fromhex")
        guard a.count == 2 else { throw typeError("\(kind).fromhex() takes exactly one argument (\(max(a.count - 1, 0)) given)") }
        guard let s = a[1].asStr else { throw typeError("fromhex() argument must be str, not \(a[1].argTypeName)") }
        let value = make(try bytesFromHex(s.value))
        guard case .obj(let o) = a[0], let cls = o as? PyType, cls !== t else { return value }
        return try u.call(a[0], [value])
    }
    method("__len__") { _, b, a in try ContainerArgs.none(a, "\(kind).__len__"); return .int(b.count) }
    // The operator methods (explicit calls, super() in a subclass, hasattr): computed on
    // the receiver's bytes, never through the operator dispatch a subclass may override.
    method("__iter__") { _, b, a in
        try ContainerArgs.none(a, "\(kind).__iter__")
        return .obj(PyArrayIterator(b.snapshot.map { .int(Int($0)) }, type: Types.bytesIterator))
    }
    method("__add__") { u, b, a in
        let y = try ContainerArgs.one(a, "\(kind).__add__")
        guard let other = bytesOf(y) else { throw typeError("can't concat \(y.typeName) to \(kind)") }
        return make(b.snapshot + other)
    }
    func times(_ u: Unit, _ b: PyBytes, _ n: Value) throws -> Value {
        guard let count = try indexValue(n, u) else {
            throw typeError("can't multiply sequence by non-int of type '\(n.typeName)'")
        }
        return try u.repeatSequence(make(b.snapshot), count) ?? .obj(Singletons.notImplemented)
    }
    method("__mul__") { u, b, a in try times(u, b, try ContainerArgs.one(a, "\(kind).__mul__")) }
    method("__rmul__") { u, b, a in try times(u, b, try ContainerArgs.one(a, "\(kind).__rmul__")) }
    method("__mod__") { u, b, a in make(try percentFormatBytes(u, b.snapshot, try ContainerArgs.one(a, "\(kind).__mod__"))) }
    method("__rmod__") { _, _, a in _ = try ContainerArgs.one(a, "\(kind).__rmod__"); return .obj(Singletons.notImplemented) }
    if !mutable {
        method("__bytes__") { _, b, a in
            try ContainerArgs.none(a, "bytes.__bytes__")
            return b.type === Types.bytes ? .obj(b) : make(b.snapshot)
        }
    }
    method("__getitem__") { u, b, a in try bytesGetItem(b, try ContainerArgs.one(a, "\(kind).__getitem__"), u) }
    method("__contains__") { u, b, a in
        let x = try ContainerArgs.one(a, "\(kind).__contains__")
        if x.asStr != nil { throw typeError("a bytes-like object is required, not 'str'") }
        let n = try needleArg(x, u)
        let h = b.snapshot
        return .bool(n.isEmpty || search(h, n, 0, h.count, reverse: false) != nil)
    }
}

/// `b.hex(sep, bytes_per_sep)`.
private func bytesHex(_ b: [UInt8], sep: Value?, perSep: Int, _ u: Unit) throws -> String {
    let digits = Array("0123456789abcdef".utf8)
    var sepByte: UInt8? = nil
    if let sep, !sep.isNone {
        let text: [UInt8]
        if let s = sep.asStr { text = Array(s.value.utf8) } else if let x = bytesOf(sep) { text = x } else {
            throw typeError("object of type '\(sep.typeName)' has no len()")
        }
        guard text.count == 1 else { throw valueError("sep must be length 1.") }
        guard text[0] < 128 else { throw valueError("sep must be ASCII.") }
        sepByte = text[0]
    }
    var out: [UInt8] = []
    out.reserveCapacity(b.count * 3)
    let group = max(perSep.magnitude, 1)
    for (i, x) in b.enumerated() {
        if let s = sepByte, i > 0, perSep != 0 {
            // Groups count from the right for positive bytes_per_sep, from the left otherwise.
            let boundary = perSep > 0 ? (b.count - i) % Int(group) == 0 : i % Int(group) == 0
            if boundary { out.append(s) }
        }
        out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// `bytes.fromhex(s)`: pairs of hex digits, whitespace allowed between pairs.
private func bytesFromHex(_ s: String) throws -> [UInt8] {
    let scalars = Array(s.unicodeScalars)
    func hexValue(_ c: Unicode.Scalar) -> UInt8? {
        switch c.value {
        case 48...57: return UInt8(c.value - 48)
        case 97...102: return UInt8(c.value - 87)
        case 65...70: return UInt8(c.value - 55)
        default: return nil
        }
    }
    var out: [UInt8] = []
    var i = 0
    while i < scalars.count {
        let c = scalars[i]
        if c.value < 128 && isByteSpace(UInt8(c.value)) { i += 1; continue }
        guard let hi = hexValue(c) else {
            throw valueError("non-hexadecimal number found in fromhex() arg at position \(i)")
        }
        i += 1
        guard i < scalars.count, let lo = hexValue(scalars[i]) else {
            throw valueError("non-hexadecimal number found in fromhex() arg at position \(i)")
        }
        i += 1
        out.append(hi << 4 | lo)
    }
    return out
}

/// `bytes(x, encoding, errors)` / `bytearray(...)` contents.
private func bytesConstructorContents(_ u: Unit, _ a: Args, _ kind: String) throws -> [UInt8] {
    let p = try TextArgs.bind(a, kind, ["source", "encoding", "errors"])
    func strParam(_ v: Value?, _ name: String) throws -> String? {
        guard let v else { return nil }
        guard let s = v.asStr else { throw typeError("\(kind)() argument '\(name)' must be str, not \(v.argTypeName)") }
        return s.value
    }
    let encoding = try strParam(p[1], "encoding"), errors = try strParam(p[2], "errors")
    guard let src = p[0] else {
        if encoding != nil || errors != nil {
            throw typeError(encoding != nil ? "encoding without a string argument" : "errors without a string argument")
        }
        return []
    }
    // bytes() asks __bytes__ first, even of a str subclass, when no encoding is given
    // (bytearray() does not use it); a class that sets __bytes__ = None refuses.
    if kind == "bytes", encoding == nil, errors == nil, case .obj(let o) = src, !o.typeIsBuiltin, let hook = o.type.lookup("__bytes__") {
        if hook.isNone { throw typeError("'NoneType' object is not callable") }  // as CPython says it
        if let m = u.lookupSpecial(src, "__bytes__") {
            let r = try u.call(m, [])
            guard let b = bytesOf(r) else { throw typeError("__bytes__ returned non-bytes (type \(r.typeName))") }
            return b
        }
    }
    if let s = src.asStr {
        guard let encoding else { throw typeError("string argument without an encoding") }
        return try encodeString(s.value, encoding: encoding, errors: errors ?? "strict")
    }
    if encoding != nil { throw typeError("encoding without a string argument") }
    if errors != nil { throw typeError("errors without a string argument") }
    if let b = bytesOf(src) { return b }
    if let n = try indexValue(src, u) {
        if n < 0 { throw valueError("negative count") }
        if n > 1 << 34 { throw pyError(Exc.memoryError, "") }
        return Array(repeating: 0, count: n)
    }
    let items: PyIter
    do {
        items = try u.iterate(src)
    } catch let e as PyBaseException where e.type.isSubtype(of: Exc.typeError) {
        throw typeError("cannot convert '\(src.typeName)' object to \(kind)")
    }
    return try byteValues(items, u, rangeMessage: kind == "bytes" ? "bytes must be in range(0, 256)" : "byte must be in range(0, 256)")
}

/// The bytes an iterator of ints gives, each checked as it comes (an endless iterator of
/// a wrong item fails at once, as in CPython).
private func byteValues(_ items: PyIter, _ u: Unit, rangeMessage: String) throws -> [UInt8] {
    var out: [UInt8] = []
    if let n = items.lengthHint, n > 0 { out.reserveCapacity(min(n, 1 << 20)) }
    while let x = try items.next(u) {
        let i = try u.toIndex(x)
        guard i >= 0 && i < 256 else { throw valueError(rangeMessage) }
        out.append(UInt8(i))
    }
    return out
}

// MARK: - install

func installBytesMethods(_ t: PyType) {
    t.constructor = { u, type, a in
        let contents = try bytesConstructorContents(u, a, "bytes")
        return .obj(type === Types.bytes ? PyBytes(contents) : PyBytes(contents, mutable: false, type: type))
    }
    installCommonBytesMethods(t, mutable: false)
}

func installBytearrayMethods(_ t: PyType) {
    t.constructor = { u, type, a in
        let contents = try bytesConstructorContents(u, a, "bytearray")
        return .obj(type === Types.bytearray ? PyBytes(contents, mutable: true) : PyBytes(contents, mutable: true, type: type))
    }
    installCommonBytesMethods(t, mutable: true)
    func recv(_ v: Value, _ name: String) throws -> PyBytes {
        if case .obj(let o) = v, let b = o as? PyBytes, b.isMutable { return b }
        throw typeError("descriptor '\(name)' for 'bytearray' objects doesn't apply to a '\(v.typeName)' object")
    }
    func byteValue(_ v: Value, _ u: Unit) throws -> UInt8 {
        let i = try u.toIndex(v)
        guard i >= 0 && i < 256 else { throw valueError("byte must be in range(0, 256)") }
        return UInt8(i)
    }
    // bytearray.__init__ refills the array (a subclass's __init__ calling the base's).
    t.method("__init__") { u, v, a in
        let b = try recv(v, "__init__")
        let contents = try bytesConstructorContents(u, a, "bytearray")
        b.withBytes { $0 = contents }
        return .none
    }
    t.method("__iadd__") { u, v, a in
        let b = try recv(v, "__iadd__")
        let y = try ContainerArgs.one(a, "bytearray.__iadd__")
        guard case .obj(let o) = y, let other = o as? PyBytes else { throw typeError("can't concat \(y.typeName) to bytearray") }
        let extra = other.snapshot
        b.withBytes { $0.append(contentsOf: extra) }
        return v
    }
    t.method("__imul__") { u, v, a in
        let b = try recv(v, "__imul__")
        let n = try ContainerArgs.one(a, "bytearray.__imul__")
        guard let count = try indexValue(n, u) else {
            throw typeError("can't multiply sequence by non-int of type '\(n.typeName)'")
        }
        try b.withBytes { try repeatInPlace(&$0, count, itemSize: 1) }
        return v
    }
    t.method("__setitem__") { u, v, a in
        try a.expect("__setitem__", 2, 2)
        _ = try recv(v, "__setitem__")
        try u.setItem(v, a[0], a[1])
        return .none
    }
    t.method("__delitem__") { u, v, a in
        try a.expect("__delitem__", 1, 1)
        try bytearrayDelItem(try recv(v, "__delitem__"), a[0], u)
        return .none
    }
    t.method("append") { u, v, a in
        let b = try recv(v, "append")
        let x = try byteValue(try ContainerArgs.one(a, "bytearray.append"), u)
        b.withBytes { $0.append(x) }
        return .none
    }
    t.method("extend") { u, v, a in
        let b = try recv(v, "extend")
        let x = try ContainerArgs.one(a, "bytearray.extend")
        if let more = bytesOf(x) { b.withBytes { $0.append(contentsOf: more) }; return .none }
        if x.asStr != nil { throw typeError("'str' object cannot be interpreted as an integer") }
        let items: PyIter
        do {
            items = try u.iterate(x)
        } catch let e as PyBaseException where e.type.isSubtype(of: Exc.typeError) {
            throw typeError("can't extend bytearray with \(x.typeName)")
        }
        let new = try byteValues(items, u, rangeMessage: "byte must be in range(0, 256)")
        b.withBytes { $0.append(contentsOf: new) }
        return .none
    }
    t.method("pop") { u, v, a in
        let b = try recv(v, "pop")
        try TextArgs.range(a, "bytearray.pop", 0, 1)
        if b.count == 0 { throw indexError("pop from empty bytearray") }
        let i = a.count == 1 ? try u.toIndex(a[0]) : -1
        let popped = b.withBytes { bytes -> UInt8? in
            guard let j = normalizedIndex(i, bytes.count) else { return nil }
            return bytes.remove(at: j)
        }
        guard let x = popped else {
            throw indexError(b.count == 0 ? "pop from empty bytearray" : "pop index out of range")
        }
        return .int(Int(x))
    }
    t.method("insert") { u, v, a in
        let b = try recv(v, "insert")
        try TextArgs.range(a, "bytearray.insert", 2, 2)
        let index = try u.toIndex(a[0])
        let x = try byteValue(a[1], u)
        b.withBytes { bytes in
            var i = index
            let n = bytes.count
            if i < 0 { i = max(i + n, 0) } else if i > n { i = n }
            bytes.insert(x, at: i)
        }
        return .none
    }
    t.method("remove") { u, v, a in
        let b = try recv(v, "remove")
        let x = try byteValue(try ContainerArgs.one(a, "bytearray.remove"), u)
        let found = b.withBytes { bytes -> Bool in
            guard let i = bytes.firstIndex(of: x) else { return false }
            bytes.remove(at: i)
            return true
        }
        guard found else { throw valueError("value not found in bytearray") }
        return .none
    }
    t.method("clear") { _, v, a in
        let b = try recv(v, "clear"); try ContainerArgs.none(a, "bytearray.clear")
        b.withBytes { $0.removeAll() }
        return .none
    }
    t.method("reverse") { _, v, a in
        let b = try recv(v, "reverse"); try ContainerArgs.none(a, "bytearray.reverse")
        b.withBytes { $0.reverse() }
        return .none
    }
    t.method("copy") { _, v, a in
        let b = try recv(v, "copy"); try ContainerArgs.none(a, "bytearray.copy")
        return .obj(PyBytes(b.snapshot, mutable: true))
    }
}
