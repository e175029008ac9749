// The tokens the lexer hands to the parser: Python's token kinds, with positions.

/// What kind of token a ``Token`` is.
public enum TokenKind: UInt8, Sendable {
    /// An identifier or keyword (keywords are told apart by the parser).
    case name
    /// A numeric literal; its value is in ``Token/value``.
    case number
    /// One string literal (with prefix and quotes); see ``Token/value`` and ``Token/fstring``.
    case string
    /// An operator or delimiter.
    case op
    /// The end of a logical line.
    case newline
    /// The indentation level grew.
    case indent
    /// The indentation level shrank by one step.
    case dedent
    /// The end of the input.
    case endMarker
    /// The lexer stopped here with an error (see ``Lexer/failure``).
    case error
}

/// Where the raw body of an f-string lives in the source, for the parser to split.
public struct FStringBody: Sendable {
    /// Index of the first scalar after the opening quote(s).
    public let start: Int
    /// Index of the closing quote.
    public let end: Int
    /// True for `rf"..."`: backslashes are literal.
    public let isRaw: Bool
}

/// One token, with its position (1-based lines, 0-based scalar columns, exclusive end).
public struct Token: Sendable, CustomStringConvertible {
    /// The token's kind.
    public var kind: TokenKind
    /// The source text of the token (empty for INDENT/DEDENT/ENDMARKER).
    public var text: String
    /// First line of the token.
    public var line: Int
    /// Column where the token starts.
    public var col: Int
    /// Line where the token ends.
    public var endLine: Int
    /// Column one past the token's last character.
    public var endCol: Int
    /// True for a name that is a hard keyword (`if`, `None`, ...), computed once by the lexer.
    public var isKeyword: Bool = false
    /// How many brackets are open around this token (0 at statement level).
    public var depth: Int = 0
    /// Decoded value of a number or a plain (non-f) string or bytes literal.
    public var value: Constant? = nil
    /// For f-strings: where the body is, to be parsed into parts.
    public var fstring: FStringBody? = nil

    /// A short rendering used by tests: `NAME:x`, `OP:(`, `NEWLINE`, ...
    public var description: String {
        switch kind {
        case .name: return "NAME:\(text)"
        case .number: return "NUMBER:\(text)"
        case .string: return "STRING:\(text)"
        case .op: return "OP:\(text)"
        case .newline: return "NEWLINE"
        case .indent: return "INDENT"
        case .dedent: return "DEDENT"
        case .endMarker: return "ENDMARKER"
        case .error: return "ERRORTOKEN"
        }
    }

    /// True when the token is the name `s` (keyword or soft keyword check).
    @inline(__always) func isName(_ s: String) -> Bool { kind == .name && text == s }
    /// True when the token is the operator `s`.
    @inline(__always) func isOp(_ s: String) -> Bool { kind == .op && text == s }
}

/// Python's hard keywords: never usable as names.
let hardKeywords: Set<String> = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
    "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
    "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
    "return", "try", "while", "with", "yield",
]
