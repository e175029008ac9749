// String and bytes literals: prefixes, quotes, escapes. F-strings are only delimited here;
// the parser splits their bodies into literal text and replacement fields.

extension Lexer {
    /// Scans a string literal whose prefix (possibly empty) starts at `prefixStart`.
    ///
    ///     STRING: [stringprefix] (shortstring | longstring)
    ///     stringprefix: 'r' | 'u' | 'b' | 'br' | 'rb' | 'f' | 'fr' | 'rf'  (any case)
    mutating func scanString(prefixStart: Int) throws {
        var isRaw = false, isBytes = false, isFormat = false
        while src[pos] != "\"" && src[pos] != "'" {
            switch src[pos] {
            case "r", "R": isRaw = true
            case "b", "B": isBytes = true
            case "f", "F": isFormat = true
            default: break
            }
            pos += 1
        }
        let startLine = line, startCol = prefixStart - lineStart
        let quote = src[pos]
        let isTriple = pos + 2 < end && src[pos + 1] == quote && src[pos + 2] == quote
        pos += isTriple ? 3 : 1
        let bodyStart = pos
        let bodyEnd = try scanStringBody(quote: quote, isTriple: isTriple, startLine: startLine, startCol: startCol)
        var t = Token(kind: .string, text: makeString(prefixStart..<pos), line: startLine, col: startCol,
                      endLine: line, endCol: pos - lineStart)
        t.depth = brackets.count + (isEmbedded ? 1 : 0)
        if isFormat {
            t.fstring = FStringBody(start: bodyStart, end: bodyEnd, isRaw: isRaw)
        } else {
            t.value = try decodeLiteral(bodyStart..<bodyEnd, isRaw: isRaw, isBytes: isBytes, token: t)
        }
        tokens.append(t)
        hasLogicalLine = true
    }

    /// Advances past the body and closing quote(s); returns the index of the closing quote.
    private mutating func scanStringBody(quote: Unicode.Scalar, isTriple: Bool, startLine: Int, startCol: Int) throws -> Int {
        while pos < end {
            let c = src[pos]
            if c == quote {
                if !isTriple { pos += 1; return pos - 1 }
                if pos + 2 < end, src[pos + 1] == quote, src[pos + 2] == quote { pos += 3; return pos - 3 }
                pos += 1
            } else if c == "\\" {
                pos += 1
                if pos < end { advanceOver(src[pos]) }
            } else if c == "\n" || c == "\r" {
                if !isTriple { break }
                advanceOver(c)
            } else {
                pos += 1
            }
        }
        if isTriple {
            let detected = end > 0 && src[end - 1] == "\n" ? line - 1 : line
            let msg = "unterminated triple-quoted string literal (detected at line \(detected))"
            throw failAtEnd(msg, col: startCol + 1, line: startLine)
        }
        throw error("unterminated string literal (detected at line \(line))", col: startCol + 1)
    }

    /// Moves past one scalar of a string body, counting lines.
    private mutating func advanceOver(_ c: Unicode.Scalar) {
        if c == "\r", pos + 1 < end, src[pos + 1] == "\n" { pos += 1 }
        pos += 1
        if c == "\n" || c == "\r" { line += 1; lineStart = pos }
    }

    private func decodeLiteral(_ r: Range<Int>, isRaw: Bool, isBytes: Bool, token t: Token) throws -> Constant {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(r.count)
        if isBytes, src[r].contains(where: { $0.value >= 128 }) {
            throw SyntaxError(message: "bytes can only contain ASCII literal characters", file: file.name,
                              line: t.line, column: t.col + 1, text: file.line(t.line))
        }
        if !isBytes && (isRaw || !src[r].contains("\\")) && !src[r].contains("\r") {
            return .string(makeString(r))
        }
        if let msg = Lexer.decodeEscapes(src[r], isRaw: isRaw, isBytes: isBytes, into: &out) {
            throw SyntaxError(message: msg, file: file.name, line: t.endLine, column: t.endCol + 1,
                              text: file.line(t.endLine))
        }
        if isBytes { return .bytes(out.map { UInt8(truncatingIfNeeded: $0.value) }) }
        var s = ""
        s.unicodeScalars.append(contentsOf: out)
        return .string(s)
    }

    /// Decodes backslash escapes of a literal body into `out`.
    ///
    /// - Returns: nil on success, or the error message.
    static func decodeEscapes(_ s: ArraySlice<Unicode.Scalar>, isRaw: Bool, isBytes: Bool,
                              into out: inout [Unicode.Scalar]) -> String? {
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "\r" {  // newlines inside literals are always \n
                out.append("\n")
                i += (i + 1 < s.endIndex && s[i + 1] == "\n") ? 2 : 1
                continue
            }
            guard c == "\\", !isRaw, i + 1 < s.endIndex else {
                out.append(c); i += 1; continue
            }
            let e = s[i + 1]
            let at = i - s.startIndex
            i += 2
            switch e {
            case "\n": break
            case "\r": if i < s.endIndex, s[i] == "\n" { i += 1 }
            case "\\", "'", "\"": out.append(e)
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var v = e.value - 48
                var n = 1
                while n < 3, i < s.endIndex, s[i].value >= 48, s[i].value <= 55 {
                    v = v * 8 + s[i].value - 48; i += 1; n += 1
                }
                out.append(Unicode.Scalar(isBytes ? v & 0xFF : v)!)
            case "x", "u", "U":
                if isBytes && e != "x" { out.append("\\"); out.append(e); continue }
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                var v: UInt32 = 0
                for k in 0..<width {
                    guard i < s.endIndex, let d = hexValue(s[i]) else {
                        let pattern = e == "x" ? "\\xXX" : e == "u" ? "\\uXXXX" : "\\UXXXXXXXX"
                        return codecError(at, at + 1 + k, "truncated \(pattern) escape", isBytes)
                    }
                    v = v * 16 + d; i += 1
                }
                guard let scalar = Unicode.Scalar(v) else {
                    return codecError(at, at + 1 + width, "illegal Unicode character", isBytes)
                }
                out.append(scalar)
            case "N" where !isBytes:
                // \N{NAME}. The positions in the errors are CPython's (from the backslash
                // to the last character it read).
                let start = s.startIndex
                guard i < s.endIndex, s[i] == "{" else {
                    return codecError(at, i - start - 1, "malformed \\N character escape", false)
                }
                var close = i + 1
                while close < s.endIndex, s[close] != "}" { close += 1 }
                guard close < s.endIndex, close > i + 1 else {
                    return codecError(at, close - start - 1, "malformed \\N character escape", false)
                }
                var name = ""
                name.unicodeScalars.append(contentsOf: s[(i + 1)..<close])
                guard let scalar = UnicodeNames.scalar(named: name) else {
                    return codecError(at, close - start, "unknown Unicode character name", false)
                }
                out.append(scalar)
                i = close + 1
            default:
                out.append("\\"); out.append(e)
            }
        }
        return nil
    }

    private static func codecError(_ a: Int, _ b: Int, _ what: String, _ isBytes: Bool) -> String {
        if isBytes { return "(value error) invalid \\x escape at position \(a)" }
        return "(unicode error) 'unicodeescape' codec can't decode bytes in position \(a)-\(b): \(what)"
    }

    private static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c.value {
        case 48...57: return c.value - 48
        case 65...70: return c.value - 55
        case 97...102: return c.value - 87
        default: return nil
        }
    }
}
