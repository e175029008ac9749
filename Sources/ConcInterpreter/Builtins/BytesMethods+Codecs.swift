// The codecs behind `str.encode`, `bytes.decode` and `str(b, encoding)`: UTF-8, ASCII and
// Latin-1 (and UTF-16/32: BytesMethods+WideCodecs.swift) with the error handlers strict, ignore, replace, backslashreplace and
// xmlcharrefreplace, raising CPython's exact UnicodeEncodeError/UnicodeDecodeError messages.

enum TextCodec {
    case utf8, ascii, latin1

    /// Looks a codec up by any of CPython's aliases (case-insensitive, `-`/`_`/space alike).
    init(_ name: String) throws {
        var n = ""
        for c in name.lowercased().unicodeScalars {
            n.unicodeScalars.append(c == "-" || c == " " ? "_" : c)
        }
        switch n {
        case "utf_8", "utf8", "u8", "utf", "utf8_ucs2", "utf8_ucs4", "cp65001": self = .utf8
        case "ascii", "us_ascii", "646", "us", "ansi_x3.4_1968", "ansi_x3_4_1968", "ansi_x3.4_1986", "cp367",
             "csascii", "ibm367", "iso646_us", "iso_646.irv_1991", "iso_ir_6":
            self = .ascii
        case "latin_1", "latin1", "latin", "l1", "iso_8859_1", "iso8859_1", "8859", "cp819", "iso_ir_100",
             "csisolatin1", "ibm819", "iso_8859_1_1987":
            self = .latin1
        default:
            throw pyError(Exc.lookupError, "unknown encoding: \(name)")
        }
    }

    /// The name error messages use.
    var name: String {
        switch self {
        case .utf8: return "utf-8"
        case .ascii: return "ascii"
        case .latin1: return "latin-1"
        }
    }
}

/// The error handlers CPython knows; another name is a LookupError once an error needs it.
let knownErrorHandlers: Set<String> = ["strict", "ignore", "replace", "backslashreplace", "xmlcharrefreplace",
                                       "surrogateescape", "surrogatepass", "namereplace"]

/// The LookupError for an error handler name CPython does not know.
func unknownHandler(_ errors: String) -> PyBaseException {
    pyError(Exc.lookupError, "unknown error handler name '\(errors)'")
}

/// True for utf-8-sig (UTF-8 behind a byte-order mark), which the codecs below handle as
/// UTF-8 plus the mark, as files do (``TextOptions``).
private func isUTF8WithSignature(_ encoding: String) -> Bool {
    let n = String(encoding.lowercased().map { $0 == "_" || $0 == " " ? "-" : $0 })
    return n == "utf-8-sig" || n == "utf8-sig"
}

/// `s.encode(encoding, errors)`.
func encodeString(_ s: String, encoding: String, errors: String) throws -> [UInt8] {
    if isUTF8WithSignature(encoding) { return [0xEF, 0xBB, 0xBF] + Array(s.utf8) }
    if let wide = WideCodec(encoding) { return wide.encode(s) }  // (no lone surrogate to fail on)
    let codec = try TextCodec(encoding)
    if codec == .utf8 { return Array(s.utf8) }
    let limit: UInt32 = codec == .ascii ? 0x80 : 0x100
    if codec == .ascii && s.utf8.allSatisfy({ $0 < 0x80 }) { return Array(s.utf8) }
    let scalars = Array(s.unicodeScalars)
    var out: [UInt8] = []
    out.reserveCapacity(scalars.count)
    var i = 0
    while i < scalars.count {
        let c = scalars[i].value
        if c < limit { out.append(UInt8(c)); i += 1; continue }
        var end = i + 1
        while end < scalars.count && scalars[end].value >= limit { end += 1 }
        switch errors {
        case "strict":
            let reason = "ordinal not in range(\(limit))"
            throw unicodeEncodeError(codec.name, s, i, end, reason)
        case "ignore": break
        case "replace": out.append(contentsOf: repeatElement(UInt8(ascii: "?"), count: end - i))
        case "backslashreplace":
            for k in i..<end { out.append(contentsOf: hexEscape(scalars[k].value).utf8) }
        case "xmlcharrefreplace":
            for k in i..<end { out.append(contentsOf: "&#\(scalars[k].value);".utf8) }
        default:
            if knownErrorHandlers.contains(errors) {
                throw unicodeEncodeError(codec.name, s, i, i + 1, "ordinal not in range(\(limit))")
            }
            throw unknownHandler(errors)
        }
        i = end
    }
    return out
}

/// `b.decode(encoding, errors)`.
func decodeBytes(_ b: [UInt8], encoding: String, errors: String) throws -> String {
    if isUTF8WithSignature(encoding) {
        return try decodeUTF8(b.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(b.dropFirst(3)) : b, errors: errors)
    }
    if let wide = WideCodec(encoding) { return try wide.decode(b, errors: errors) }
    let codec = try TextCodec(encoding)
    switch codec {
    case .latin1:
        var out = String.UnicodeScalarView()
        for x in b { out.append(Unicode.Scalar(x)) }
        return String(out)
    case .ascii:
        if b.allSatisfy({ $0 < 0x80 }) { return String(decoding: b, as: UTF8.self) }
        var out: [UInt8] = []
        for (i, x) in b.enumerated() {
            if x < 0x80 { out.append(x); continue }
            try handleDecodeError(&out, b, i, i + 1, "ordinal not in range(128)", codec, errors)
        }
        return String(decoding: out, as: UTF8.self)
    case .utf8:
        return try decodeUTF8(b, errors: errors)
    }
}

/// Applies the error handler to undecodable bytes `b[start..<end]`.
private func handleDecodeError(_ out: inout [UInt8], _ b: [UInt8], _ start: Int, _ end: Int, _ reason: String,
                               _ codec: TextCodec, _ errors: String) throws {
    switch errors {
    case "strict":
        throw unicodeDecodeError(codec.name, b, start, end, reason)
    case "ignore": break
    case "replace": out.append(contentsOf: [0xEF, 0xBF, 0xBD])
    case "backslashreplace":
        for k in start..<end { out.append(contentsOf: hexEscape(UInt32(b[k])).utf8) }
    case "xmlcharrefreplace", "namereplace":
        // Handlers for encoding only, as CPython says when one is given to decode.
        throw typeError("don't know how to handle UnicodeDecodeError in error callback")
    case "surrogatepass":
        // It passes only encoded surrogates, which Conc strings cannot hold; anything else
        // is an error, as with strict.
        throw unicodeDecodeError(codec.name, b, start, end, reason)
    default:
        if knownErrorHandlers.contains(errors) {
            // surrogateescape needs lone surrogates, which Conc strings cannot hold.
            out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            return
        }
        throw unknownHandler(errors)
    }
}

/// UTF-8 decoding with CPython's error ranges ("invalid start byte", "invalid continuation
/// byte", "unexpected end of data").
private func decodeUTF8(_ b: [UInt8], errors: String) throws -> String {
    // Fast path: valid UTF-8 (Swift validates; CPython's definition is the same).
    if let s = String(validating: b, as: UTF8.self) { return s }
    var out: [UInt8] = []
    out.reserveCapacity(b.count)
    let n = b.count
    var i = 0
    @inline(__always) func isCont(_ x: UInt8) -> Bool { x & 0xC0 == 0x80 }
    while i < n {
        let c = b[i]
        if c < 0x80 { out.append(c); i += 1; continue }
        var need = 0
        if c >= 0xC2 && c < 0xE0 { need = 2 } else if c >= 0xE0 && c < 0xF0 { need = 3 } else if c >= 0xF0 && c < 0xF5 { need = 4 }
        if need == 0 {
            try handleDecodeError(&out, b, i, i + 1, "invalid start byte", .utf8, errors)
            i += 1; continue
        }
        // Validate the continuation bytes that are present.
        var bad = 0  // length of the invalid prefix (0: none found)
        var k = 1
        while k < need && i + k < n {
            let x = b[i + k]
            var ok = isCont(x)
            if k == 1 {
                if c == 0xE0 && x < 0xA0 { ok = false }
                if c == 0xED && x >= 0xA0 { ok = false }
                if c == 0xF0 && x < 0x90 { ok = false }
                if c == 0xF4 && x >= 0x90 { ok = false }
            }
            if !ok { bad = k; break }
            k += 1
        }
        if bad > 0 {
            try handleDecodeError(&out, b, i, i + bad, "invalid continuation byte", .utf8, errors)
            i += bad; continue
        }
        if i + need > n {
            try handleDecodeError(&out, b, i, n, "unexpected end of data", .utf8, errors)
            i = n; continue
        }
        out.append(contentsOf: b[i..<(i + need)])
        i += need
    }
    return String(decoding: out, as: UTF8.self)
}

/// UnicodeEncodeError(encoding, object, start, end, reason), as CPython's codecs raise it:
/// `start..<end` are code-point positions in `text`.
func unicodeEncodeError(_ encoding: String, _ text: String, _ start: Int, _ end: Int, _ reason: String) -> PyBaseException {
    PyBaseException(type: Exc.unicodeEncodeError, args: [.str(encoding), .str(text), .int(start), .int(end), .str(reason)])
}

/// UnicodeDecodeError(encoding, object, start, end, reason): `start..<end` are byte positions.
func unicodeDecodeError(_ encoding: String, _ bytes: [UInt8], _ start: Int, _ end: Int, _ reason: String) -> PyBaseException {
    PyBaseException(type: Exc.unicodeDecodeError, args: [.str(encoding), .obj(PyBytes(bytes)), .int(start), .int(end), .str(reason)])
}

/// CPython's message for a UnicodeEncodeError/DecodeError made of its five fields; nil when
/// the arguments are not those (the error's str() is then the usual one).
func unicodeErrorMessage(_ e: PyBaseException) -> String? {
    guard e.args.count == 5, let encoding = e.args[0].asStr?.value, case .int(let start) = e.args[2],
          case .int(let end) = e.args[3], let reason = e.args[4].asStr?.value else { return nil }
    if e.type.isSubtype(of: Exc.unicodeEncodeError), let text = e.args[1].asStr?.value {
        let scalars = Array(text.unicodeScalars)
        if end == start + 1, start >= 0, start < scalars.count {
            let c = scalars[start].value
            return "'\(encoding)' codec can't encode character '\(hexEscape(c))' in position \(start): \(reason)"
        }
        return "'\(encoding)' codec can't encode characters in position \(start)-\(end - 1): \(reason)"
    }
    if e.type.isSubtype(of: Exc.unicodeDecodeError), case .obj(let o) = e.args[1], let b = o as? PyBytes {
        let bytes = b.snapshot
        if end == start + 1, start >= 0, start < bytes.count {
            let hex = String(bytes[start], radix: 16)
            return "'\(encoding)' codec can't decode byte 0x\(hex.count < 2 ? "0" + hex : hex) in position \(start): \(reason)"
        }
        return "'\(encoding)' codec can't decode bytes in position \(start)-\(end - 1): \(reason)"
    }
    return nil
}
