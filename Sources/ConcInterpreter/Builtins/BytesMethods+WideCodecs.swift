// UTF-16 and UTF-32 for `str.encode` and `bytes.decode` (not for text files, which read
// ASCII-compatible codecs only): with a byte-order mark for "utf-16"/"utf-32" (written
// little-endian, as CPython on this machine; read by the mark), without one for the
// -le/-be variants, and CPython's decode errors ("truncated data", "illegal UTF-16
// surrogate", ...), the codec named as CPython names it ('utf-16-le').

/// A UTF-16 or UTF-32 codec.
struct WideCodec {
    /// 2 or 4 bytes per code unit.
    let width: Int
    /// Big-endian byte order; nil: "utf-16"/"utf-32", which mark the order with a BOM.
    let bigEndian: Bool?

    /// The codec named `name` (any of CPython's aliases), or nil when it is not one of these.
    init?(_ name: String) {
        var n = ""
        for c in name.lowercased().unicodeScalars { n.unicodeScalars.append(c == "-" || c == " " ? "_" : c) }
        switch n {
        case "utf_16", "utf16", "u16": self.init(width: 2, bigEndian: nil)
        case "utf_16_le", "utf_16le", "unicodelittleunmarked": self.init(width: 2, bigEndian: false)
        case "utf_16_be", "utf_16be", "unicodebigunmarked": self.init(width: 2, bigEndian: true)
        case "utf_32", "utf32", "u32": self.init(width: 4, bigEndian: nil)
        case "utf_32_le", "utf_32le": self.init(width: 4, bigEndian: false)
        case "utf_32_be", "utf_32be": self.init(width: 4, bigEndian: true)
        default: return nil
        }
    }
    private init(width: Int, bigEndian: Bool?) { self.width = width; self.bigEndian = bigEndian }

    /// The name in error messages: the byte order the data was read in.
    private func name(bigEndian: Bool) -> String { "utf-\(width * 8)-\(bigEndian ? "be" : "le")" }

    func encode(_ s: String) -> [UInt8] {
        let big = bigEndian ?? false
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * width + width)
        func unit(_ v: UInt32) {
            if width == 2 {
                out.append(contentsOf: big ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)])
            } else {
                let bytes = (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) }
                out.append(contentsOf: big ? bytes.reversed() : bytes)
            }
        }
        if bigEndian == nil { unit(0xFEFF) }
        if width == 2 { for u in s.utf16 { unit(UInt32(u)) } } else { for c in s.unicodeScalars { unit(c.value) } }
        return out
    }

    func decode(_ b: [UInt8], errors: String) throws -> String {
        var big = bigEndian ?? false
        var i = 0
        if bigEndian == nil, b.count >= width {
            // The mark says the order (and is dropped); without one, this machine's order.
            let le: [UInt8] = width == 2 ? [0xFF, 0xFE] : [0xFF, 0xFE, 0, 0]
            if b.starts(with: le) { i = width } else if b.starts(with: le.reversed()) { big = true; i = width }
        }
        let codec = name(bigEndian: big)
        var out = String.UnicodeScalarView()
        func unit(at k: Int) -> UInt32 {
            var v: UInt32 = 0
            for j in 0..<width { v |= UInt32(b[k + (big ? width - 1 - j : j)]) << (8 * UInt32(j)) }
            return v
        }
        func bad(_ start: Int, _ end: Int, _ reason: String) throws {
            switch errors {
            case "strict": throw unicodeDecodeError(codec, b, start, end, reason)
            case "ignore": break
            case "backslashreplace":
                for k in start..<end { out.append(contentsOf: hexEscape(UInt32(b[k])).unicodeScalars) }
            case "replace": out.append("\u{FFFD}")
            case "xmlcharrefreplace", "namereplace":
                throw typeError("don't know how to handle UnicodeDecodeError in error callback")
            case "surrogatepass": throw unicodeDecodeError(codec, b, start, end, reason)
            default:
                // surrogateescape needs lone surrogates, which Conc strings cannot hold.
                guard knownErrorHandlers.contains(errors) else { throw unknownHandler(errors) }
                out.append("\u{FFFD}")
            }
        }
        while i < b.count {
            if b.count - i < width { try bad(i, b.count, "truncated data"); break }
            let v = unit(at: i)
            if width == 4 {
                if v >= 0x110000 { try bad(i, i + 4, "code point not in range(0x110000)") }
                else if (0xD800..<0xE000).contains(v) { try bad(i, i + 4, "code point in surrogate code point range(0xd800, 0xe000)") }
                else { out.append(Unicode.Scalar(v)!) }
                i += 4
                continue
            }
            switch v {
            case 0xD800..<0xDC00:
                guard b.count - i >= 4 else { try bad(i, b.count, b.count - i == 2 ? "unexpected end of data" : "truncated data"); i = b.count; continue }
                let low = unit(at: i + 2)
                if (0xDC00..<0xE000).contains(low) {
                    out.append(Unicode.Scalar(0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00))!)
                    i += 4
                } else {
                    try bad(i, i + 2, "illegal UTF-16 surrogate")
                    i += 2
                }
            case 0xDC00..<0xE000:
                try bad(i, i + 2, "illegal encoding")
                i += 2
            default:
                out.append(Unicode.Scalar(v)!)
                i += 2
            }
        }
        return String(out)
    }
}
