// Text helpers behind the str methods: Python's character classes and case mappings
// (CPython's unicodectype.c rules on top of Swift's Unicode properties), repr quoting, and
// byte-level search on UTF-8 (valid for any string: a UTF-8 needle only matches at scalar
// boundaries).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - repr

/// `repr(s)` exactly as CPython: single quotes unless the text has `'` and no `"`; `\n \r \t
/// \\` and the quote escaped; other non-printable characters as `\xNN`, `\uNNNN`, `\UNNNNNNNN`.
func strRepr(_ s: String) -> String {
    var hasSingle = false, hasDouble = false, plain = true
    for b in s.utf8 {
        if b == UInt8(ascii: "'") { hasSingle = true }
        else if b == UInt8(ascii: "\"") { hasDouble = true }
        else if b < 0x20 || b >= 0x7f || b == UInt8(ascii: "\\") { plain = false }
    }
    let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
    if plain && !(hasSingle && hasDouble) { return String(quote) + s + String(quote) }
    var out = String(quote)
    out.reserveCapacity(s.utf8.count + 8)
    for c in s.unicodeScalars {
        switch c {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if c == quote { out += "\\"; out.unicodeScalars.append(c) }
            else if c.value < 0x20 || c.value == 0x7f { out += hexEscape(c.value) }
            else if c.value < 0x7f || pyIsPrintable(c) { out.unicodeScalars.append(c) }
            else { out += hexEscape(c.value) }
        }
    }
    out.unicodeScalars.append(quote)
    return out
}

/// `\xNN`, `\uNNNN` or `\UNNNNNNNN` (lower-case hex), as CPython escapes a code point.
func hexEscape(_ v: UInt32) -> String {
    let (prefix, width) = v <= 0xff ? ("\\x", 2) : v <= 0xffff ? ("\\u", 4) : ("\\U", 8)
    let h = String(v, radix: 16)
    return prefix + String(repeating: "0", count: max(0, width - h.utf8.count)) + h
}

/// `ascii()` applied to a repr: non-ASCII characters escaped.
func asciiEscaped(_ s: String) -> String {
    if s.utf8.allSatisfy({ $0 < 0x80 }) { return s }
    var out = ""
    for c in s.unicodeScalars {
        if c.value < 0x80 { out.unicodeScalars.append(c) } else { out += hexEscape(c.value) }
    }
    return out
}

// MARK: - Character classes (CPython's definitions)

/// True for characters CPython 3.11 (Unicode 14.0) does not know: Swift's Unicode data is
/// newer, and treating later additions as unassigned keeps repr, the predicates and the case
/// mappings identical to CPython's.
@inline(__always) func pyUnassigned(_ c: Unicode.Scalar) -> Bool {
    guard let age = c.properties.age else { return true }
    return age.major > 14 || (age.major == 14 && age.minor > 0)
}

/// Characters whose properties changed after Unicode 14.0 (checked against CPython 3.11 over
/// every code point): their Unicode 14 values.
private let numericSince14: Set<UInt32> = [0x4e24, 0x4eac, 0x4fe9, 0x5006, 0x62d0, 0x6d1e, 0x7695, 0x79ed, 0x920e,
                                           0x94a9, 0x12038, 0x12039, 0x12079, 0x12226, 0x1222b, 0x1230b, 0x1230d, 0x12399]
private let lowercaseSince14: Set<UInt32> = [0x10fc, 0xa7f2, 0xa7f3, 0xa7f4, 0xab69]
private let upperMappingSince14: Set<UInt32> = [0x19b, 0x264, 0xa7d3, 0xa7d5]

/// `str.isspace` for one character: Zs, or bidirectional class WS/B/S.
@inline(__always) func pyIsSpace(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    if v < 0x80 { return (v >= 9 && v <= 13) || (v >= 0x1c && v <= 0x20) }
    switch v {
    case 0x85, 0xa0, 0x1680, 0x2000...0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000: return true
    default: return false
    }
}

/// ASCII whitespace byte (the ASCII part of ``pyIsSpace``).
@inline(__always) func isASCIISpace(_ b: UInt8) -> Bool { (b >= 9 && b <= 13) || (b >= 0x1c && b <= 0x20) }

/// Line boundaries of `str.splitlines`.
@inline(__always) func pyIsLineBreak(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029: return true
    default: return false
    }
}

/// `str.isprintable` for one character: not Cc, Cf, Cs, Co, Cn, Zl, Zp, and no Zs but space.
func pyIsPrintable(_ c: Unicode.Scalar) -> Bool {
    if c.value < 0x7f { return c.value >= 0x20 }
    if c.value < 0xa1 || pyUnassigned(c) { return false }
    switch c.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
         .spaceSeparator:
        return false
    default:
        return true
    }
}

func pyIsAlpha(_ c: Unicode.Scalar) -> Bool {
    if c.value < 0x80 { return (c.value | 0x20) >= 0x61 && (c.value | 0x20) <= 0x7a }
    if pyUnassigned(c) { return false }
    switch c.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return false
    }
}
func pyIsDecimal(_ c: Unicode.Scalar) -> Bool {
    if c.value < 0x80 { return c.value >= 48 && c.value <= 57 }
    return c.properties.numericType == .decimal && !pyUnassigned(c)
}
func pyIsDigit(_ c: Unicode.Scalar) -> Bool {
    if c.value < 0x80 { return c.value >= 48 && c.value <= 57 }
    let t = c.properties.numericType
    return (t == .decimal || t == .digit) && !pyUnassigned(c)
}
func pyIsNumeric(_ c: Unicode.Scalar) -> Bool {
    if c.value < 0x80 { return c.value >= 48 && c.value <= 57 }
    return c.properties.numericType != nil && !pyUnassigned(c) && !numericSince14.contains(c.value)
}
func pyIsAlnum(_ c: Unicode.Scalar) -> Bool { pyIsAlpha(c) || pyIsNumeric(c) }
@inline(__always) func pyIsUpper(_ c: Unicode.Scalar) -> Bool {
    c.value < 0x80 ? (c.value >= 65 && c.value <= 90) : c.properties.isUppercase && !pyUnassigned(c)
}
func pyIsLower(_ c: Unicode.Scalar) -> Bool {
    if c.value < 0x80 { return c.value >= 97 && c.value <= 122 }
    if c.value == 0x295 { return true }
    return c.properties.isLowercase && !pyUnassigned(c) && !lowercaseSince14.contains(c.value)
}
@inline(__always) func pyIsTitle(_ c: Unicode.Scalar) -> Bool {
    c.value >= 0x80 && c.properties.generalCategory == .titlecaseLetter && !pyUnassigned(c)
}
@inline(__always) func pyIsCased(_ c: Unicode.Scalar) -> Bool {
    c.value < 0x80 ? pyIsAlpha(c) : c.value == 0x295 || (c.properties.isCased && !pyUnassigned(c))
}

// MARK: - Case mappings (full mappings, final sigma as CPython)

/// Appends the lower-case mapping of `scalars[i]`, handling the Greek final sigma.
private func appendLower(_ out: inout String.UnicodeScalarView, _ scalars: [Unicode.Scalar], _ i: Int) {
    let c = scalars[i]
    if c.value < 0x80 {
        out.append(c.value >= 65 && c.value <= 90 ? Unicode.Scalar(c.value + 32)! : c)
    } else if c.value == 0x3a3 {
        out.append(isFinalSigma(scalars, i) ? "\u{3c2}" : "\u{3c3}")
    } else if pyUnassigned(c) {
        out.append(c)
    } else {
        out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
    }
}

/// CPython's `handle_capital_sigma`: preceded by a cased letter and not followed by one
/// (skipping case-ignorable characters).
private func isFinalSigma(_ s: [Unicode.Scalar], _ i: Int) -> Bool {
    var j = i - 1
    while j >= 0 && s[j].properties.isCaseIgnorable { j -= 1 }
    let before = j >= 0 && s[j].properties.isCased
    j = i + 1
    while j < s.count && s[j].properties.isCaseIgnorable { j += 1 }
    let after = j < s.count && s[j].properties.isCased
    return before && !after
}

private func appendUpper(_ out: inout String.UnicodeScalarView, _ c: Unicode.Scalar) {
    if c.value < 0x80 {
        out.append(c.value >= 97 && c.value <= 122 ? Unicode.Scalar(c.value - 32)! : c)
    } else if pyUnassigned(c) || upperMappingSince14.contains(c.value) {
        out.append(c)
    } else {
        out.append(contentsOf: c.properties.uppercaseMapping.unicodeScalars)
    }
}

private func appendTitle(_ out: inout String.UnicodeScalarView, _ c: Unicode.Scalar) {
    if c.value < 0x80 || pyUnassigned(c) || upperMappingSince14.contains(c.value) { appendUpper(&out, c) } else {
        out.append(contentsOf: c.properties.titlecaseMapping.unicodeScalars)
    }
}

/// What an ASCII-only byte mapping (fast path of lower/upper/swapcase) made of a string.
enum ASCIIMapping {
    /// The string has non-ASCII characters: the full Unicode mapping is needed.
    case notASCII
    /// Every byte maps to itself (`"word".lower()`).
    case unchanged
    /// The mapped text, all ASCII (so its length in characters is its length in bytes).
    case mapped(String)
}

/// (Inlined, so that `f` is too: called through a closure it cost a call per byte.)
@inline(__always) func mapASCII(_ s: String, _ f: (UInt8) -> UInt8) -> ASCIIMapping {
    withUTF8(s) { src -> ASCIIMapping in
        var changes = false
        for b in src {
            if b >= 0x80 { return .notASCII }
            if f(b) != b { changes = true }
        }
        if !changes { return .unchanged }
        if src.count <= 15 {
            // Built in the small-string form (see ``smallString(_:)``): no allocation.
            var words: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &words) { w in for i in 0..<src.count { w[i] = f(src[i]) } }
            words.1 |= UInt64(0xE0 | src.count) << 56
            return .mapped(unsafeBitCast(words, to: String.self))
        }
        return .mapped(String(unsafeUninitializedCapacity: src.count) { buf in
            for i in 0..<src.count { buf[i] = f(src[i]) }
            return src.count
        })
    }
}

@inline(__always) func asciiLower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }
@inline(__always) func asciiUpper(_ b: UInt8) -> UInt8 { b >= 97 && b <= 122 ? b - 32 : b }
@inline(__always) func asciiSwapcase(_ b: UInt8) -> UInt8 {
    (b >= 65 && b <= 90) || (b >= 97 && b <= 122) ? b ^ 0x20 : b
}

func pyLower(_ s: String) -> String {
    switch mapASCII(s, asciiLower) {
    case .unchanged: return s
    case .mapped(let r): return r
    case .notASCII: break
    }
    let scalars = Array(s.unicodeScalars)
    var out = String.UnicodeScalarView()
    for i in scalars.indices { appendLower(&out, scalars, i) }
    return String(out)
}

func pyUpper(_ s: String) -> String {
    switch mapASCII(s, asciiUpper) {
    case .unchanged: return s
    case .mapped(let r): return r
    case .notASCII: break
    }
    var out = String.UnicodeScalarView()
    for c in s.unicodeScalars { appendUpper(&out, c) }
    return String(out)
}

func pySwapcase(_ s: String) -> String {
    switch mapASCII(s, asciiSwapcase) {
    case .unchanged: return s
    case .mapped(let r): return r
    case .notASCII: break
    }
    let scalars = Array(s.unicodeScalars)
    var out = String.UnicodeScalarView()
    for i in scalars.indices {
        let c = scalars[i]
        if pyIsUpper(c) { appendLower(&out, scalars, i) }
        else if pyIsLower(c) { appendUpper(&out, c) }
        else { out.append(c) }
    }
    return String(out)
}

func pyTitle(_ s: String) -> String {
    let scalars = Array(s.unicodeScalars)
    var out = String.UnicodeScalarView()
    var previousCased = false
    for i in scalars.indices {
        let c = scalars[i]
        if previousCased { appendLower(&out, scalars, i) } else { appendTitle(&out, c) }
        previousCased = pyIsCased(c)
    }
    return String(out)
}

func pyCapitalize(_ s: String) -> String {
    let scalars = Array(s.unicodeScalars)
    var out = String.UnicodeScalarView()
    for i in scalars.indices {
        if i == 0 { appendTitle(&out, scalars[0]) } else { appendLower(&out, scalars, i) }
    }
    return String(out)
}

/// Full case folding, computed as lower(upper(lower(c))) for the characters whose folding
/// differs from their lower-case mapping (exact for Unicode 14 except Cherokee, which folds to
/// upper case).
func pyCasefold(_ s: String) -> String {
    var out = String.UnicodeScalarView()
    for c in s.unicodeScalars {
        if c.value < 0x80 {
            out.append(c.value >= 65 && c.value <= 90 ? Unicode.Scalar(c.value + 32)! : c)
        } else if pyUnassigned(c) {
            out.append(c)
        } else if c.value == 0x1fbe {
            out.append("\u{3b9}")
        } else if (0x13f8...0x13fd).contains(c.value) || (0xab70...0xabbf).contains(c.value) {
            out.append(contentsOf: c.properties.uppercaseMapping.unicodeScalars)
        } else if c.properties.changesWhenCaseFolded || c.properties.uppercaseMapping.unicodeScalars.count > 1 {
            for l in c.properties.lowercaseMapping.unicodeScalars {
                for u in l.properties.uppercaseMapping.unicodeScalars {
                    out.append(contentsOf: u.properties.lowercaseMapping.unicodeScalars)
                }
            }
        } else {
            out.append(c)
        }
    }
    return String(out)
}

func pyIsTitleString(_ s: String) -> Bool {
    var cased = false, previousCased = false
    for c in s.unicodeScalars {
        if pyIsUpper(c) || pyIsTitle(c) {
            if previousCased { return false }
            previousCased = true; cased = true
        } else if pyIsLower(c) {
            if !previousCased { return false }
            previousCased = true; cased = true
        } else {
            previousCased = false
        }
    }
    return cased
}

func pyIsIdentifier(_ s: String) -> Bool {
    var first = true
    for c in s.unicodeScalars {
        if first {
            guard c == "_" || (c.properties.isXIDStart && !pyUnassigned(c)) else { return false }
            first = false
        } else if !c.properties.isXIDContinue || (c.value >= 0x80 && pyUnassigned(c)) {
            return false
        }
    }
    return !first
}

// MARK: - UTF-8 buffers

/// Runs `body` on the UTF-8 bytes of `s` (no copy for native strings).
@inline(__always) func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    // A small string lends a copy of its words: the general path below costs several
    // times more for one short word.
    if let r = try withSmallStringBytes(unsafeBitCast(s, to: (UInt64, UInt64).self), body) { return r }
    // Native strings lend their bytes without a copy of the String (which would retain
    // its storage); only a foreign string is copied to native UTF-8 first.
    if let r = try s.utf8.withContiguousStorageIfAvailable(body) { return r }
    var s = s
    return try s.withUTF8(body)
}

/// Runs `body` on the bytes of the String whose two words are `words` when it is in the
/// small form (at most 15 bytes inline, see ``smallString(_:)``; bit 61 of the second word
/// marks the form), from a copy of the words; nil, without running `body`, otherwise.
@inline(__always) func withSmallStringBytes<R>(_ words: (UInt64, UInt64),
                                               _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
    guard (words.1 >> 61) & 1 == 1 else { return nil }
    var copy = words
    let count = Int((words.1 >> 56) & 0xF)
    return try withUnsafeBytes(of: &copy) { raw in
        try body(UnsafeBufferPointer(start: raw.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self), count: count))
    }
}

/// A string from a byte range of valid UTF-8 cut at scalar boundaries (a slice of a str:
/// every caller cuts at scalars, separators or whitespace found in valid text).
@inline(__always) func utf8String(_ buf: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int) -> String {
    if lo >= hi { return "" }
    if hi - lo <= 15 { return smallString(UnsafeBufferPointer(rebasing: buf[lo..<hi])) }
    return String(decoding: UnsafeBufferPointer(rebasing: buf[lo..<hi]), as: UTF8.self)
}

/// The String of `bytes` (at most 15, valid UTF-8), built in Swift's small-string form: the
/// bytes inline in the two words, the last byte 0xE0 | count (ASCII) or 0xA0 | count.
/// `String(decoding:)` would validate them again and take ~150 instructions; the words of
/// the split of a text are mostly this short. The layout is the 64-bit one Swift has kept
/// since 5.0 (ABI-stable on Apple platforms, the same code on Linux);
/// `SmallStringTests` compares the result with `String(decoding:)` for every length.
@inline(__always) func smallString(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    var words: (UInt64, UInt64) = (0, 0)
    withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
    let ascii = (words.0 | words.1) & 0x8080_8080_8080_8080 == 0
    words.1 |= UInt64((ascii ? 0xE0 : 0xA0) | bytes.count) << 56
    return unsafeBitCast(words, to: String.self)
}

/// Byte offset of scalar number `i` (or the end) in valid UTF-8.
func utf8Offset(_ buf: UnsafeBufferPointer<UInt8>, scalar i: Int) -> Int {
    if i <= 0 { return 0 }
    var n = 0, k = 0
    while k < buf.count {
        if buf[k] & 0xC0 != 0x80 {
            if n == i { return k }
            n += 1
        }
        k += 1
    }
    return buf.count
}

/// Number of scalars that start before byte offset `off`.
func scalarIndex(_ buf: UnsafeBufferPointer<UInt8>, byte off: Int) -> Int {
    var n = 0
    for k in 0..<off where buf[k] & 0xC0 != 0x80 { n += 1 }
    return n
}

/// The scalar starting at byte `i` and its length in bytes.
@inline(__always) func decodeScalar(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> (Unicode.Scalar, Int) {
    let b0 = UInt32(buf[i])
    if b0 < 0x80 { return (Unicode.Scalar(b0)!, 1) }
    if b0 < 0xE0 { return (Unicode.Scalar((b0 & 0x1F) << 6 | UInt32(buf[i + 1] & 0x3F)) ?? "\u{FFFD}", 2) }
    if b0 < 0xF0 {
        let v = (b0 & 0x0F) << 12 | UInt32(buf[i + 1] & 0x3F) << 6 | UInt32(buf[i + 2] & 0x3F)
        return (Unicode.Scalar(v) ?? "\u{FFFD}", 3)
    }
    let v = (b0 & 0x07) << 18 | UInt32(buf[i + 1] & 0x3F) << 12 | UInt32(buf[i + 2] & 0x3F) << 6 | UInt32(buf[i + 3] & 0x3F)
    return (Unicode.Scalar(v) ?? "\u{FFFD}", 4)
}

/// The scalar ending just before byte `end` and its start offset.
@inline(__always) func decodeScalarBefore(_ buf: UnsafeBufferPointer<UInt8>, _ end: Int) -> (Unicode.Scalar, Int) {
    var s = end - 1
    while s > 0 && buf[s] & 0xC0 == 0x80 { s -= 1 }
    return (decodeScalar(buf, s).0, s)
}

// MARK: - Byte search (str on UTF-8, and bytes)

enum ByteSearch {
    /// First offset in `lo..<hi` where `n` occurs entirely inside `lo..<hi`.
    static func find(_ h: UnsafeBufferPointer<UInt8>, _ n: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int) -> Int? {
        let m = n.count
        if m == 0 { return lo <= hi ? lo : nil }
        guard hi - lo >= m, let hb = h.baseAddress, let nb = n.baseAddress else { return nil }
        let first = Int32(n[0])
        var i = lo
        let last = hi - m
        while i <= last {
            guard let p = memchr(hb + i, first, last - i + 1) else { return nil }
            let j = hb.distance(to: p.assumingMemoryBound(to: UInt8.self))
            if m == 1 || memcmp(hb + j + 1, nb + 1, m - 1) == 0 { return j }
            i = j + 1
        }
        return nil
    }

    /// Last offset in `lo..<hi` where `n` occurs entirely inside `lo..<hi`.
    static func rfind(_ h: UnsafeBufferPointer<UInt8>, _ n: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int) -> Int? {
        let m = n.count
        if m == 0 { return lo <= hi ? hi : nil }
        guard hi - lo >= m, let hb = h.baseAddress, let nb = n.baseAddress else { return nil }
        var i = hi - m
        let first = n[0]
        while i >= lo {
            if hb[i] == first && memcmp(hb + i, nb, m) == 0 { return i }
            i -= 1
        }
        return nil
    }

    /// Non-overlapping occurrences of a non-empty `n` in `lo..<hi`, at most `limit`.
    static func count(_ h: UnsafeBufferPointer<UInt8>, _ n: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int,
                      limit: Int = Int.max) -> Int {
        var c = 0, i = lo
        while c < limit, let j = find(h, n, i, hi) { c += 1; i = j + n.count }
        return c
    }
}

/// `str(i)` of an int: digits written backwards into a stack buffer, then one String.
/// About three times cheaper than `String(i)`, which goes through the generic
/// `BinaryInteger` description; every `str(n)`, `f"{n}"` and `"%d" % n` makes one.
func decimalString(_ v: Int) -> String {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
        var n = v.magnitude
        var i = 20
        repeat {
            i -= 1
            buf[i] = UInt8(truncatingIfNeeded: 48 &+ n % 10)
            n /= 10
        } while n != 0
        if v < 0 { i -= 1; buf[i] = 45 }
        return String(decoding: UnsafeBufferPointer(rebasing: buf[i..<20]), as: UTF8.self)
    }
}
