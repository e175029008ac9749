// Source bytes → text, as CPython decodes a program: UTF-8 by default, or the encoding a
// `# -*- coding: latin-1 -*-` comment on the first two lines declares (PEP 263), a UTF-8
// byte-order mark dropped. Undecodable source is a SyntaxError, never silently replaced.
import ConcSyntax

/// Where the bytes come from: CPython's tokenizer words its errors differently for a
/// script it reads itself (the main file, stdin) and for `compile()`/`exec()` of bytes and
/// imported modules (which go through `compile`).
public enum SourceOrigin: Sendable {
    case script
    case compiled
}

/// Decodes a program's bytes, throwing CPython's SyntaxError when the declared encoding is
/// unknown or the bytes do not decode.
public func decodeSource(_ bytes: [UInt8], fileName: String, origin: SourceOrigin) throws -> String {
    var body = bytes[...]
    let hasBOM = bytes.starts(with: [0xEF, 0xBB, 0xBF])
    if hasBOM { body = body.dropFirst(3) }
    guard let declared = codingCookie(body) else {
        if let text = String(validating: body, as: UTF8.self) { return text }
        throw undecodableUTF8(Array(body), fileName: fileName, origin: origin)
    }
    let name = normalEncodingName(declared)
    // Line 0: a script's error is shown with no place at all (endColumn -1), compile()'s
    // as `File "name", line 0`.
    func unplaced(_ message: String) -> SyntaxError {
        SyntaxError(message: message, file: fileName, line: 0, column: 0, text: "", endColumn: origin == .script ? -1 : 0)
    }
    if hasBOM && name != "utf-8" { throw unplaced("encoding problem: \(name) with BOM") }
    if (try? TextCodec(name)) == .utf8 || name == "utf-8" {
        if let text = String(validating: body, as: UTF8.self) { return text }
        throw undecodableUTF8(Array(body), fileName: fileName, origin: origin)
    }
    do {
        return try decodeBytes(Array(body), encoding: name, errors: "strict")
    } catch let e as PyBaseException {
        if origin == .script { throw unplaced("encoding problem: \(name)") }
        throw unplaced(e.type === Exc.lookupError ? "unknown encoding: \(declared)" : unicodeErrorMessage(e) ?? name)
    }
}

/// The encoding named by a `coding[:=]name` comment on line 1, or on line 2 when line 1 is
/// blank or only a comment (the language reference's rule).
private func codingCookie(_ b: ArraySlice<UInt8>) -> String? {
    var lineStart = b.startIndex
    for lineNumber in 1...2 {
        guard lineStart < b.endIndex else { return nil }
        let lineEnd = b[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? b.endIndex
        let line = b[lineStart..<lineEnd]
        if let name = cookieOnLine(line) { return name }
        let content = line.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0C || $0 == 0x0D }
        if lineNumber == 1, !(content.isEmpty || content.first == UInt8(ascii: "#")) { return nil }
        lineStart = lineEnd == b.endIndex ? lineEnd : lineEnd + 1
    }
    return nil
}

/// `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)` on one line.
private func cookieOnLine(_ line: ArraySlice<UInt8>) -> String? {
    let content = line.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0C }
    guard content.first == UInt8(ascii: "#") else { return nil }
    let text = Array(content)
    let word = "coding".utf8
    var i = 0
    while i + word.count < text.count {
        if text[i..<(i + word.count)].elementsEqual(word), text[i + word.count] == UInt8(ascii: ":") || text[i + word.count] == UInt8(ascii: "=") {
            var k = i + word.count + 1
            while k < text.count, text[k] == 0x20 || text[k] == 0x09 { k += 1 }
            var name: [UInt8] = []
            while k < text.count {
                let c = text[k]
                let isWordByte = (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
                guard isWordByte else { break }
                name.append(c); k += 1
            }
            if !name.isEmpty { return String(decoding: name, as: UTF8.self) }
        }
        i += 1
    }
    return nil
}

/// CPython's `get_normal_name`: the spellings of UTF-8 and Latin-1 it folds together.
private func normalEncodingName(_ s: String) -> String {
    let n = String(String(s.prefix(12)).lowercased().map { $0 == "_" ? "-" : $0 })
    if n == "utf-8" || n.hasPrefix("utf-8-") { return "utf-8" }
    for latin in ["latin-1", "iso-8859-1", "iso-latin-1"] where n == latin || n.hasPrefix(latin + "-") {
        return "iso-8859-1"
    }
    return s
}

/// The error for bytes that are not UTF-8 when no other encoding is declared.
private func undecodableUTF8(_ b: [UInt8], fileName: String, origin: SourceOrigin) -> SyntaxError {
    let bad = firstInvalidUTF8Offset(b)
    let lineStart = (b[..<bad].lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
    let lineNumber = b[..<bad].filter { $0 == UInt8(ascii: "\n") }.count + 1
    if origin == .script {
        let byte = String(b[bad], radix: 16)
        return SyntaxError(message: "Non-UTF-8 code starting with '\\x\(byte.count == 1 ? "0" + byte : byte)' in file \(fileName) on line \(lineNumber), but no encoding declared; see https://peps.python.org/pep-0263/ for details",
                           file: fileName, line: 0, column: 0, text: "", endColumn: -1)
    }
    // compile(): CPython decodes token by token, so a bad byte inside a string literal is
    // reported within the literal's body, with the caret after the literal.
    let lineEnd = b[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? b.count
    let line = Array(b[lineStart..<lineEnd])
    var pieceStart = 0, pieceEnd = line.count, caretAfter = bad - lineStart
    var quote: UInt8? = nil, i = 0
    while i < bad - lineStart {
        let c = line[i]
        if let q = quote {
            if c == UInt8(ascii: "\\") { i += 1 } else if c == q { quote = nil }
        } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            quote = c; pieceStart = i + 1
        } else if c == UInt8(ascii: "#") { break }
        i += 1
    }
    if let q = quote {
        var k = bad - lineStart
        while k < line.count, line[k] != q { k += line[k] == UInt8(ascii: "\\") ? 2 : 1 }
        pieceEnd = min(k, line.count)
        caretAfter = min(k + 1, line.count)
    } else {
        pieceStart = 0
    }
    var message = "(unicode error) 'utf-8' codec can't decode byte 0x\(String(b[bad], radix: 16))"
    do {
        _ = try decodeBytes(Array(line[pieceStart..<pieceEnd]), encoding: "utf-8", errors: "strict")
    } catch let e as PyBaseException {
        if let m = unicodeErrorMessage(e) { message = "(unicode error) " + m }
    } catch {}
    let text = String(decoding: line, as: UTF8.self)
    let column = String(decoding: line[..<caretAfter], as: UTF8.self).unicodeScalars.count + 1
    return SyntaxError(message: message, file: fileName, line: lineNumber, column: column, text: text)
}

/// The offset of the first byte that does not start or continue valid UTF-8.
private func firstInvalidUTF8Offset(_ b: [UInt8]) -> Int {
    var i = 0
    while i < b.count {
        let c = b[i]
        let need = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0
        guard need > 0, i + need <= b.count, String(validating: b[i..<(i + need)], as: UTF8.self) != nil else { return i }
        i += need
    }
    return b.count
}
