// Syntax errors: CPython's messages and positions, Conc's own errors, and rendering.
import Testing
@testable import ConcSyntax

@Test(arguments: cpythonErrorCases)
func reportsErrorsLikeCPython(source: String, expected: String) {
    #expect(outcome(source) == expected)
}

/// Where Conc deliberately differs from CPython (64-bit ints, \N{}, top-level await)
/// or has errors of its own.
let concErrorCases: [(String, String)] = [
    ("x = 9223372036854775808", "SyntaxError: integer literal too large (Conc integers are 64-bit) @ 1:5"),
    ("x = 0x1_0000_0000_0000_0000", "SyntaxError: integer literal too large (Conc integers are 64-bit) @ 1:5"),
    ("x = '\\N{DASH}'", "SyntaxError: (unicode error) \\N{...} escapes are not supported in Conc @ 1:15"),
    ("await f()", "OK"),
    ("x = [await z for z in y]", "OK"),
    ("def f():\n    await z", "SyntaxError: 'await' outside async function @ 2:5"),
    ("h = thread f", "SyntaxError: expected a call after 'thread', as in thread f(x) @ 1:12"),
    ("select:\n    x = 1\n", "SyntaxError: expected 'case' or 'default' in a select statement @ 2:5"),
    ("select:\n    case q.get:\n        pass\n",
     "SyntaxError: a select case must be an operation call, such as q.get() or timeout(1) @ 2:10"),
    ("select:\nx = 1\n", "IndentationError: expected an indented block after 'select' statement on line 1 @ 2:1"),
    ("select:\n    case q.get():\n    pass\n",
     "IndentationError: expected an indented block after 'case' arm on line 2 @ 3:5"),
    ("f'{a b}'", "SyntaxError: f-string: invalid syntax. Perhaps you forgot a comma? @ 1:4"),
    ("f'{x:{y:{z}}}'", "SyntaxError: f-string: expressions nested too deeply @ 1:15"),
    ("yield x", "SyntaxError: 'yield' outside function @ 1:1"),
    ("class C:\n    yield", "SyntaxError: 'yield' outside function @ 2:5"),
    ("x = 1\nreturn\nx = (", "SyntaxError: '(' was never closed @ 3:5"),
    ("return\nx y", "SyntaxError: invalid syntax @ 2:3"),
]

@Test(arguments: concErrorCases)
func reportsConcErrors(source: String, expected: String) {
    #expect(outcome(source) == expected)
}

@Test(arguments: [
    ("x = 1\nif x\n    pass\n", "  File \"x.conc\", line 2\n    if x\n        ^\nSyntaxError: expected ':'"),
    ("def f():\n        if x\n            pass\n",
     "  File \"x.conc\", line 2\n    if x\n        ^\nSyntaxError: expected ':'"),
    ("if x:\npass\n",
     "  File \"x.conc\", line 2\n    pass\n    ^\nIndentationError: expected an indented block after 'if' statement on line 1"),
    ("x = (1,\n 2]\n",
     "  File \"x.conc\", line 2\n    2]\n     ^\nSyntaxError: closing parenthesis ']' does not match opening parenthesis '(' on line 1"),
])
func rendersLikeCPython(source: String, expected: String) {
    do {
        _ = try Parser.parseModule(SourceFile(name: "x.conc", text: source))
        Issue.record("no error")
    } catch let e as SyntaxError {
        #expect(e.rendered() == expected)
    } catch {
        Issue.record("unexpected \(error)")
    }
}

@Test func rendersWithoutSourceLine() {
    let e = SyntaxError(message: "invalid syntax", file: "<stdin>", line: 1, column: 1, text: "")
    #expect(e.rendered() == "  File \"<stdin>\", line 1\nSyntaxError: invalid syntax")
}
