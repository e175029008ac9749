// Numeric literals: decimal, hex, octal and binary ints (with `_`), floats, imaginary.

extension Lexer {
    /// Scans a number starting at a digit or at `.` followed by a digit.
    ///
    ///     NUMBER: decinteger | hexinteger | octinteger | bininteger | floatnumber | imagnumber
    mutating func scanNumber() throws {
        let start = pos
        if src[pos] == "0", pos + 1 < end, let radix = radixOf(src[pos + 1]) {
            pos += 2
            return try scanRadixInteger(start: start, radix: radix)
        }
        var isFloat = false
        try scanDigits(start: start)
        if pos < end, src[pos] == "." {
            isFloat = true
            pos += 1
            if pos < end, isDigit(src[pos]) { try scanDigits(start: start) }
        }
        // `1else`: an `e` that begins a keyword ends the number, as CPython accepts it.
        if pos < end, src[pos] == "e" || src[pos] == "E", !isKeywordAhead() {
            let save = pos
            pos += 1
            var signed = false
            if pos < end, src[pos] == "+" || src[pos] == "-" { pos += 1; signed = true }
            guard pos < end, isDigit(src[pos]) else {
                // CPython's caret: at the sign when one was given (`1e+x`), else at the number.
                let col = signed ? pos - lineStart : start - lineStart + 1
                pos = save
                throw error("invalid decimal literal", col: col)
            }
            try scanDigits(start: start)
            isFloat = true
        }
        try finishDecimal(start: start, isFloat: isFloat)
    }

    private func radixOf(_ c: Unicode.Scalar) -> Int? {
        switch c {
        case "x", "X": return 16
        case "o", "O": return 8
        case "b", "B": return 2
        default: return nil
        }
    }

    /// digits ('_'? digit)*; a trailing or doubled `_` is an invalid decimal literal.
    private mutating func scanDigits(start: Int) throws {
        while pos < end {
            if isDigit(src[pos]) {
                pos += 1
            } else if src[pos] == "_" {
                pos += 1
                guard pos < end, isDigit(src[pos]) else {
                    throw error("invalid decimal literal", col: pos - lineStart)
                }
            } else {
                break
            }
        }
    }

    private mutating func finishDecimal(start: Int, isFloat: Bool) throws {
        var isImaginary = false
        if pos < end, src[pos] == "j" || src[pos] == "J" { pos += 1; isImaginary = true }
        if pos < end, isIdentifierContinue(src[pos]), !isKeywordAhead() {
            throw error("invalid decimal literal", col: pos - lineStart)
        }
        var raw = ""
        raw.unicodeScalars.append(contentsOf: src[start..<pos])
        let digits = String(raw.filter { $0 != "_" && $0 != "j" && $0 != "J" })
        if isImaginary || isFloat {
            let d = Double(digits) ?? .infinity
            return emit(.number, raw, start: start, value: isImaginary ? .imaginary(d) : .float(d))
        }
        if digits.count > 1, digits.first == "0", digits.contains(where: { $0 != "0" }) {
            var e = error("leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
                          col: start - lineStart + 1)
            // CPython underlines up to the first digit that is not a zero.
            var firstNonzero = start
            while src[firstNonzero] == "0" || src[firstNonzero] == "_" { firstNonzero += 1 }
            e.endLine = line; e.endColumn = firstNonzero - lineStart + 1
            throw e
        }
        guard let v = Int(digits) else {
            // 2**63 is too large unless negated: the parser accepts `-9223372036854775808`
            // (Int.min stands for it here; no other literal lexes to Int.min).
            guard digits == "9223372036854775808" else { throw tooLarge(start) }
            return emit(.number, raw, start: start, value: .int(Int.min))
        }
        emit(.number, raw, start: start, value: .int(v))
    }

    private mutating func scanRadixInteger(start: Int, radix: Int) throws {
        let name = radix == 16 ? "hexadecimal" : radix == 8 ? "octal" : "binary"
        func isRadixDigit(_ c: Unicode.Scalar) -> Bool { c.isASCII && Int(String(Character(c)), radix: radix) != nil }
        // A decimal digit the radix lacks (`0b12`, `0o1_8`): CPython names it.
        func invalidDigitHere() -> SyntaxError? {
            guard pos < end, radix != 16, isDigit(src[pos]) else { return nil }
            return error("invalid digit '\(src[pos])' in \(name) literal", col: pos - lineStart + 1)
        }
        // As CPython's tokenizer: groups of digits, each after one optional underscore.
        var digits = ""
        repeat {
            if pos < end && src[pos] == "_" { pos += 1 }
            guard pos < end, isRadixDigit(src[pos]) else {
                throw invalidDigitHere() ?? error("invalid \(name) literal", col: pos - lineStart)
            }
            while pos < end, isRadixDigit(src[pos]) { digits.unicodeScalars.append(src[pos]); pos += 1 }
        } while pos < end && src[pos] == "_"
        if let e = invalidDigitHere() { throw e }
        // `0b1in x` is still accepted (CPython warns); `0b1z` is not.
        if pos < end, isIdentifierContinue(src[pos]), !isKeywordAhead() {
            throw error("invalid \(name) literal", col: pos - lineStart)
        }
        guard let v = Int(digits, radix: radix) else { throw tooLarge(start) }
        var raw = ""
        raw.unicodeScalars.append(contentsOf: src[start..<pos])
        emit(.number, raw, start: start, value: .int(v))
    }

    /// CPython still accepts `1if x else 2` (with a warning): a keyword may follow a number.
    private func isKeywordAhead() -> Bool {
        for kw in ["and", "else", "for", "if", "in", "is", "not", "or"] {
            let k = Array(kw.unicodeScalars)
            if pos + k.count <= end, Array(src[pos..<pos + k.count]) == k,
               pos + k.count == end || !isIdentifierContinue(src[pos + k.count]) {
                return true
            }
        }
        return false
    }

    static let tooLargeMessage = "integer literal too large (Conc integers are 64-bit)"

    private func tooLarge(_ start: Int) -> SyntaxError {
        error(Lexer.tooLargeMessage, col: start - lineStart + 1)
    }
}
