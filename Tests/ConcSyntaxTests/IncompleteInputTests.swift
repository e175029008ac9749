// isIncompleteInput: whether the REPL should read another line.
import Testing
@testable import ConcSyntax

@Test(arguments: [
    ("x = 1", false),
    ("x = 1\n", false),
    ("if x:", true),
    ("if x:\n", true),
    ("if x:\n    y = 1", true),
    ("if x:\n    y = 1\n", false),
    ("if x:\n    y = 1\n    ", false),
    ("x = ", false),
    ("a and", false),
    ("for x in", false),
    ("print(1", true),
    ("if x:\n    y = 1\n\n", false),
    ("def f():\n    return 1\n\n", false),
    ("for i in r:\n", true),
    ("x = (1,", true),
    ("x = [1,\n2", true),
    ("f(a,\n", true),
    ("s = '''abc", true),
    ("s = '''abc\n", true),
    ("s = '''abc'''", false),
    ("x = 1 + \\", true),
    ("@dec", true),
    ("class C:", true),
    ("x = 'abc", false),
    ("x = )", false),
    ("x y", false),
    ("if x: pass", false),
    ("try:\n    pass\n", true),
    ("", false),
    ("select:\n", true),
    ("match x:\n", true),
    ("match x:\n    case 1:\n", true),
    ("match x:\n    case 1:\n        pass", true),
    ("match x:\n    case 1:\n        pass\n", false),
    ("def f(:", false),
    ("print(1,\n", true),
    ("x = {'a': [1,\n2", true),
    ("f(x for x in", true),
])
func detectsIncompleteInput(text: String, expected: Bool) {
    #expect(Parser.isIncompleteInput(text) == expected)
}
