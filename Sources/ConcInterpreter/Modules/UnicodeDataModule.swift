// `unicodedata`: the Unicode character database as the standard library knows it: names
// (both ways), general category, numeric values, combining class, mirroring. No
// normalize(): Conc does not link Foundation, which holds the normalisation tables.
import ConcSyntax

extension Engine {
    func makeUnicodeDataModule() -> PyModule {
        /// The one character of argument 1 (TypeError for any other argument).
        func character(_ a: Args, _ function: String) throws -> Unicode.Scalar {
            guard let s = a[0].asStr else {
                throw typeError("\(function)() argument 1 must be a unicode character, not \(a[0].typeName)")
            }
            var it = s.value.unicodeScalars.makeIterator()
            guard let c = it.next(), it.next() == nil else {
                throw typeError("\(function)() argument 1 must be a unicode character, not str")
            }
            return c
        }
        /// A property with an optional default: the default when `value` is nil, else ValueError.
        func orDefault(_ value: Value?, _ a: Args, _ message: String) throws -> Value {
            if let value { return value }
            if a.count > 1 { return a[1] }
            throw valueError(message)
        }
        return nativeModule("unicodedata", [
            native("lookup") { _, a in
                try a.expect("lookup", 1, 1)
                guard let name = a[0].asStr else {
                    throw typeError("a bytes-like object is required, not '\(a[0].typeName)'")
                }
                guard let c = UnicodeNames.scalar(named: name.value) else {
                    throw PyBaseException(type: Exc.keyError, args: [.str("undefined character name '\(name.value)'")])
                }
                return .str(String(Character(c)))
            },
            native("name") { _, a in
                try a.expect("name", 1, 2)
                return try orDefault(UnicodeNames.name(of: try character(a, "name")).map { .str($0) }, a, "no such name")
            },
            native("category") { _, a in
                try a.expect("category", 1, 1)
                return .str(categoryCode(try character(a, "category").properties.generalCategory))
            },
            native("numeric") { _, a in
                try a.expect("numeric", 1, 2)
                let p = try character(a, "numeric").properties
                return try orDefault(p.numericType != nil ? p.numericValue.map { .float($0) } : nil, a, "not a numeric character")
            },
            native("decimal") { _, a in
                try a.expect("decimal", 1, 2)
                let p = try character(a, "decimal").properties
                return try orDefault(p.numericType == .decimal ? p.numericValue.map { .int(Int($0)) } : nil, a, "not a decimal")
            },
            native("digit") { _, a in
                try a.expect("digit", 1, 2)
                let p = try character(a, "digit").properties
                let isDigit = p.numericType == .decimal || p.numericType == .digit
                return try orDefault(isDigit ? p.numericValue.map { .int(Int($0)) } : nil, a, "not a digit")
            },
            native("combining") { _, a in
                try a.expect("combining", 1, 1)
                return .int(Int(try character(a, "combining").properties.canonicalCombiningClass.rawValue))
            },
            native("mirrored") { _, a in
                try a.expect("mirrored", 1, 1)
                return .int(try character(a, "mirrored").properties.isBidiMirrored ? 1 : 0)
            },
        ])
    }
}

/// The two-letter code of a general category (`Lu`, `Nd`, `Cn`...).
private func categoryCode(_ c: Unicode.GeneralCategory) -> String {
    switch c {
    case .uppercaseLetter: return "Lu"
    case .lowercaseLetter: return "Ll"
    case .titlecaseLetter: return "Lt"
    case .modifierLetter: return "Lm"
    case .otherLetter: return "Lo"
    case .nonspacingMark: return "Mn"
    case .spacingMark: return "Mc"
    case .enclosingMark: return "Me"
    case .decimalNumber: return "Nd"
    case .letterNumber: return "Nl"
    case .otherNumber: return "No"
    case .connectorPunctuation: return "Pc"
    case .dashPunctuation: return "Pd"
    case .openPunctuation: return "Ps"
    case .closePunctuation: return "Pe"
    case .initialPunctuation: return "Pi"
    case .finalPunctuation: return "Pf"
    case .otherPunctuation: return "Po"
    case .mathSymbol: return "Sm"
    case .currencySymbol: return "Sc"
    case .modifierSymbol: return "Sk"
    case .otherSymbol: return "So"
    case .spaceSeparator: return "Zs"
    case .lineSeparator: return "Zl"
    case .paragraphSeparator: return "Zp"
    case .control: return "Cc"
    case .format: return "Cf"
    case .surrogate: return "Cs"
    case .privateUse: return "Co"
    case .unassigned: return "Cn"
    @unknown default: return "Cn"
    }
}
