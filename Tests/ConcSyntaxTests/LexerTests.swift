// Lexer tests: token streams, including INDENT/DEDENT and NEWLINE placement.
import Testing
@testable import ConcSyntax

func tokens(_ source: String) -> String {
    var lexer = Lexer(SourceFile(name: "x", text: source))
    return lexer.tokenize().map(\.description).joined(separator: " ")
}

@Test(arguments: [
    ("if x:\n    y\n", "NAME:if NAME:x OP:: NEWLINE INDENT NAME:y NEWLINE DEDENT ENDMARKER"),
    ("x", "NAME:x NEWLINE ENDMARKER"),
    ("", "ENDMARKER"),
    ("\n\n# c\n", "ENDMARKER"),
    ("a\n  # c\nb", "NAME:a NEWLINE NAME:b NEWLINE ENDMARKER"),
    ("if a:\n  if b:\n    c\nd\n",
     "NAME:if NAME:a OP:: NEWLINE INDENT NAME:if NAME:b OP:: NEWLINE INDENT NAME:c NEWLINE DEDENT DEDENT NAME:d NEWLINE ENDMARKER"),
    ("if a:\n    b\n\n    c\n", "NAME:if NAME:a OP:: NEWLINE INDENT NAME:b NEWLINE NAME:c NEWLINE DEDENT ENDMARKER"),
    ("if a:\n\tb\n        c\n", "NAME:if NAME:a OP:: NEWLINE INDENT NAME:b NEWLINE ERRORTOKEN"),
    ("(a,\n b)", "OP:( NAME:a OP:, NAME:b OP:) NEWLINE ENDMARKER"),
    ("a = \\\n  1", "NAME:a OP:= NUMBER:1 NEWLINE ENDMARKER"),
    ("a; b", "NAME:a OP:; NAME:b NEWLINE ENDMARKER"),
    ("x := 1 -> y", "NAME:x OP::= NUMBER:1 OP:-> NAME:y NEWLINE ENDMARKER"),
    ("a **= b //= c >>= d <<= e", "NAME:a OP:**= NAME:b OP://= NAME:c OP:>>= NAME:d OP:<<= NAME:e NEWLINE ENDMARKER"),
    ("a != b == c <= d >= e", "NAME:a OP:!= NAME:b OP:== NAME:c OP:<= NAME:d OP:>= NAME:e NEWLINE ENDMARKER"),
    ("...", "OP:... NEWLINE ENDMARKER"),
    ("a.b", "NAME:a OP:. NAME:b NEWLINE ENDMARKER"),
    ("1 0x1F 0o7 0b1 1_0 1.5 .5 5. 1e3 2j", "NUMBER:1 NUMBER:0x1F NUMBER:0o7 NUMBER:0b1 NUMBER:1_0 NUMBER:1.5 NUMBER:.5 NUMBER:5. NUMBER:1e3 NUMBER:2j NEWLINE ENDMARKER"),
    ("r'a' b\"b\" Rb'c' f'{x}' rf'd' u'e'", "STRING:r'a' STRING:b\"b\" STRING:Rb'c' STRING:f'{x}' STRING:rf'd' STRING:u'e' NEWLINE ENDMARKER"),
    ("'''a\nb'''", "STRING:'''a\nb''' NEWLINE ENDMARKER"),
    ("rb = 1", "NAME:rb OP:= NUMBER:1 NEWLINE ENDMARKER"),
    ("λ = 1", "NAME:λ OP:= NUMBER:1 NEWLINE ENDMARKER"),
    ("x = 'abc", "NAME:x OP:= ERRORTOKEN"),
])
func tokenizes(source: String, expected: String) {
    #expect(tokens(source) == expected)
}

@Test(arguments: [
    ("'a\\tb\\n'", Constant.string("a\tb\n")),
    ("'\\033[0m'", Constant.string("\u{1B}[0m")),
    ("'\\x41\\101\\u00e9\\U0001F600'", Constant.string("AAé😀")),
    ("'\\q'", Constant.string("\\q")),
    ("r'\\n'", Constant.string("\\n")),
    ("'a\\\nb'", Constant.string("ab")),
    ("b'\\x00\\xff'", Constant.bytes([0, 255])),
    ("b'\\u1234'", Constant.bytes(Array("\\u1234".utf8))),
    ("0xff", Constant.int(255)),
    ("1_000", Constant.int(1000)),
    ("1.5e3", Constant.float(1500)),
    ("3j", Constant.imaginary(3)),
])
func decodesLiterals(source: String, expected: Constant) {
    var lexer = Lexer(SourceFile(name: "x", text: source))
    #expect(lexer.tokenize().first?.value == expected)
}

@Test func tokenPositions() {
    var lexer = Lexer(SourceFile(name: "x", text: "if x:\n    yé = 'a'\n"))
    let toks = lexer.tokenize()
    let s = toks.filter { $0.kind == .string }.first!
    #expect((s.line, s.col, s.endLine, s.endCol) == (2, 9, 2, 12))
}
