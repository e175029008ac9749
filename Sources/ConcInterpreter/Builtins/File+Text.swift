// Text files: characters from and to bytes (the codec and its error handler), and the
// newline modes of CPython's TextIOWrapper (universal newlines by default).

/// How a text file turns bytes into characters and where its lines end.
struct TextOptions {
    /// The codec (UTF-8, ASCII or Latin-1: all keep ASCII bytes as they are, so lines and
    /// newlines can be found in the bytes).
    var codec: TextCodec = .utf8
    /// `f.encoding`: as given to open(), or CPython's default "UTF-8".
    var encodingName = "UTF-8"
    /// The error handler (`strict` unless given).
    var errors = "strict"
    /// nil: universal newlines (read "\r\n" and "\r" as "\n"; write "\n"). "": lines end at
    /// any of the three, kept as they are. "\n", "\r", "\r\n": lines end there only, and
    /// "\n" is written as it.
    var newline: String? = nil
    /// utf-8-sig: a byte-order mark is skipped at the start and written first.
    var byteOrderMark = false

    init() {}

    init(encoding: String?, errors: String?, newline: String?) throws {
        if let e = encoding {
            var base = e
            let lowered = String(e.lowercased().map { $0 == "_" ? "-" : $0 })
            if lowered == "utf-8-sig" || lowered == "utf8-sig" { base = "utf-8"; byteOrderMark = true }
            codec = try TextCodec(base)
            encodingName = e
        }
        if let x = errors { self.errors = x }
        self.newline = newline
    }
}

extension PyFile {
    /// Up to `n` characters (all when n < 0), newlines translated (mutex held).
    func readText(_ n: Int, _ u: Unit) throws -> String {
        try flushWritesLocked()
        try skipByteOrderMark(u)
        var out: [UInt8] = []
        if n < 0 {
            while try fill(u) {}
            out = Array(take(unread))
            if text.newline == nil { out = translatedNewlines(out) }
            return try decode(out)
        }
        var chars = 0
        while chars < n, try ensure(1, u) > 0 {
            let lead = core.readBuffer[core.readPosition]
            if lead == 13 && text.newline == nil {
                // "\r\n" or a lone "\r": one "\n".
                _ = take(1)
                if try ensure(1, u) > 0 && core.readBuffer[core.readPosition] == 10 { _ = take(1) }
                out.append(10)
            } else {
                let width = min(try ensure(characterWidth(lead), u), characterWidth(lead))
                out.append(contentsOf: take(width))
            }
            chars += 1
        }
        return try decode(out)
    }

    /// The next line (at most `limit` characters when limit >= 0), its ending translated
    /// in universal-newline mode; "" at the end (mutex held).
    func readTextLine(_ limit: Int, _ u: Unit) throws -> String {
        try flushWritesLocked()
        try skipByteOrderMark(u)
        var out: [UInt8] = []
        var chars = 0
        while limit < 0 || chars < limit {
            guard try ensure(1, u) > 0 else { break }
            let b = core.readBuffer[core.readPosition]
            switch text.newline {
            case nil, "":
                if b == 10 { out.append(contentsOf: take(1)); return try decode(out) }
                if b == 13 {
                    _ = take(1)
                    let crlf = try ensure(1, u) > 0 && core.readBuffer[core.readPosition] == 10
                    if crlf { _ = take(1) }
                    if text.newline == nil { out.append(10) } else { out.append(contentsOf: crlf ? [13, 10] : [13]) }
                    return try decode(out)
                }
            case "\r":
                if b == 13 { out.append(contentsOf: take(1)); return try decode(out) }
            case "\r\n":
                if b == 13, try ensure(2, u) >= 2, core.readBuffer[core.readPosition + 1] == 10 {
                    out.append(contentsOf: take(2)); return try decode(out)
                }
            default:
                if b == 10 { out.append(contentsOf: take(1)); return try decode(out) }
            }
            let width = min(try ensure(characterWidth(b), u), characterWidth(b))
            out.append(contentsOf: take(width))
            chars += 1
        }
        return try decode(out)
    }

    /// Encodes `s` for writing: newlines as the mode says, the byte-order mark first.
    func encodeText(_ s: String) throws -> [UInt8] {
        var bytes = text.codec == .utf8 && text.errors == "strict" ? Array(s.utf8)
            : try encodeString(s, encoding: text.codec.name, errors: text.errors)
        if let nl = text.newline, nl == "\r" || nl == "\r\n", bytes.contains(10) {
            var translated: [UInt8] = []
            translated.reserveCapacity(bytes.count + 16)
            for b in bytes { if b == 10 { translated.append(contentsOf: nl.utf8) } else { translated.append(b) } }
            bytes = translated
        }
        if text.byteOrderMark && !core.bomHandled {
            core.bomHandled = true
            if case .fd = backing, (try? position()) == 0 { bytes.insert(contentsOf: [0xEF, 0xBB, 0xBF], at: 0) }
        }
        return bytes
    }

    /// The bytes of one character starting with `lead` (1 for single-byte codecs and for
    /// a byte that cannot start a UTF-8 sequence: the decoder then reports it).
    private func characterWidth(_ lead: UInt8) -> Int {
        guard text.codec == .utf8 else { return 1 }
        switch lead {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 1
        }
    }

    private func decode(_ bytes: [UInt8]) throws -> String {
        if text.codec == .utf8 && bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return try decodeBytes(bytes, encoding: text.codec.name, errors: text.errors)
    }

    /// Skips a utf-8-sig file's byte-order mark at the start of the file.
    private func skipByteOrderMark(_ u: Unit) throws {
        guard text.byteOrderMark && !core.bomHandled else { return }
        core.bomHandled = true
        guard case .fd = backing, (try? position()) == 0 else { return }
        if try ensure(3, u) >= 3, core.readBuffer[core.readPosition..<(core.readPosition + 3)].elementsEqual([0xEF, 0xBB, 0xBF]) { _ = take(3) }
    }
}

/// `bytes` with "\r\n" and lone "\r" turned into "\n" (universal newlines).
private func translatedNewlines(_ bytes: [UInt8]) -> [UInt8] {
    guard bytes.contains(13) else { return bytes }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
        if bytes[i] == 13 {
            out.append(10)
            if i + 1 < bytes.count && bytes[i + 1] == 10 { i += 1 }
        } else {
            out.append(bytes[i])
        }
        i += 1
    }
    return out
}
