// Parser tests: AST dumps for every construct, Conc's own syntax, and node locations.
import Testing
@testable import ConcSyntax

/// Parses `source` and renders the module with ``dump(_:)``.
func parsed(_ source: String) throws -> String {
    try dump(Parser.parseModule(SourceFile(name: "x.conc", text: source)))
}

/// What parsing `source` gives: the dump, or "Kind: message @ line:column".
func outcome(_ source: String) -> String {
    do {
        _ = try Parser.parseModule(SourceFile(name: "x", text: source))
        return "OK"
    } catch let e as SyntaxError {
        return "\(e.kind): \(e.message) @ \(e.line):\(e.column)"
    } catch {
        return "unexpected \(error)"
    }
}

@Test(arguments: cpythonDumpCases)
func parsesLikeCPython(source: String, expected: String) throws {
    #expect(try parsed(source) == expected)
}

/// Conc's own forms (LANGUAGE.md §3) and the places where the AST differs from CPython's.
let concDumpCases: [(String, String)] = [
    ("h = spawn worker(q, 1) with name=\"w1\", daemon=True",
     "(= h (spawn (call worker q 1) (name 'w1') (daemon True)))"),
    ("t = thread f(x)", "(= t (thread (call f x)))"),
    ("go fetch(url)", "(go (call fetch url))"),
    ("go obj.method(1)", "(go (call (. obj method) 1))"),
    ("r = await go f()", "(= r (await (go (call f))))"),
    ("thread = 1", "(= thread 1)"),
    ("x.thread", "(. x thread)"),
    ("gevent.spawn(f)", "(call (. gevent spawn) f)"),
    ("go(1)", "(call go 1)"),
    ("print(thread)", "(call print thread)"),
    ("spawn + 1", "(+ spawn 1)"),
    ("x = [thread f(i) for i in r]", "(= x (listcomp (thread (call f i)) (for i r)))"),
    ("select = 3", "(= select 3)"),
    ("select.select([a], [], [])", "(call (. select select) (list a) (list) (list))"),
    ("case = 1\ndefault = 2", "(= case 1)\n(= default 2)"),
    ("select:\n    case item = jobs.get():\n        handle(item)\n    case results.put(x):\n        pass\n",
     "(select (case item (call (. jobs get)) (body (call handle item))) (case (call (. results put) x) (body pass)))"),
    ("select:\n    case a, b = c.recv(1):\n        pass\n    case timeout(0.5):\n        print('idle')\n    default:\n        pass\n",
     "(select (case (tuple a b) (call (. c recv) 1) (body pass)) (timeout 0.5 (body (call print 'idle'))) (default (body pass)))"),
    ("while 1:\n    select:\n        case done.wait(): break\n",
     "(while 1 (body (select (case (call (. done wait)) (body break)))))"),
    ("match = re.match(p, s)", "(= match (call (. re match) p s))"),
    ("match(x)", "(call match x)"),
    ("match x:\n    case [1, *rest] if rest:\n        pass\n    case {'k': v} | Point(0, y=v) as p:\n        pass\n",
     "(match x (case (seq (value 1) *rest) (if rest) (body pass)) (case (as (or (map (item 'k' v)) (class Point (value 0) y=v)) p) (body pass)))"),
    ("match a, *b:\n    case (None, -1 | 2.5, _):\n        pass\n",
     "(match (tuple a (* b)) (case (seq (singleton None) (or (value (- 1)) (value 2.5)) _) (body pass)))"),
    ("x = await f()", "(= x (await (call f)))"),
    ("f'{x=}'", "(f (fmt x !r (= 'x=')))"),
    ("f'{x = }'", "(f (fmt x !r (= 'x = ')))"),
    ("f'{x=:>4}'", "(f (fmt x (spec '>4') (= 'x=')))"),
    ("f'{x=!s}'", "(f (fmt x !s (= 'x=')))"),
    ("f(a, k=1, *b)", "(call f a (kw k 1) (* b))"),
    ("class C(A, *bs, **kw): pass", "(class C (bases A (* bs)) (keywords (** kw)) (body pass))"),
    ("def f():\n    with (yield): pass", "(def f (params) (body (with (item (yield)) (body pass))))"),
    ("with (a, b) as c: pass", "(with (item (tuple a b) c) (body pass))"),
    ("b'\\xff\\x00'", "b'\u{FFFD}\u{0}'"),
    ("#!/usr/bin/env conc\nx = 1", "(= x 1)"),
    ("x = 1\r\ny = 2\r\n", "(= x 1)\n(= y 2)"),
    ("x = 1if y else 2", "(= x (ifexp y 1 2))"),
    ("x = 9223372036854775807", "(= x 9223372036854775807)"),
    ("x = 0xFFFF_FFFF", "(= x 4294967295)"),
    ("f'{a[\"k\"]!r:{w}}'", "(f (fmt ([] a 'k') !r (spec (fmt w))))"),
    ("f'''{\nx\n}'''", "(f (fmt x))"),
]

@Test(arguments: concDumpCases)
func parsesConcForms(source: String, expected: String) throws {
    #expect(try parsed(source) == expected)
}

@Test(arguments: [
    ("a + b", "1:0-1:5"),
    ("(a + b)", "1:1-1:6"),
    ("(a) + b", "1:0-1:7"),
    ("f(x)(y)", "1:0-1:7"),
    ("a.b.c", "1:0-1:5"),
    ("x[1:2]", "1:0-1:6"),
    ("f(x for x in y)", "1:0-1:15"),
    ("(1, 2)", "1:0-1:6"),
    ("1, 2", "1:0-1:4"),
    ("not a", "1:0-1:5"),
    ("a if b else c", "1:0-1:13"),
    ("lambda: 1", "1:0-1:9"),
    ("'a' \\\n'b'", "1:0-2:3"),
    ("[x,\n y]", "1:0-2:3"),
    ("thread f(x) with name='w'", "1:0-1:25"),
    ("é + ü", "1:0-1:5"),
])
func expressionLocations(source: String, expected: String) throws {
    let module = try Parser.parseModule(SourceFile(name: "x", text: source))
    guard case .expr(let e) = module.body[0].kind else {
        Issue.record("not an expression statement"); return
    }
    #expect("\(e.loc.line):\(e.loc.col)-\(e.loc.endLine):\(e.loc.endCol)" == expected)
}

@Test(arguments: [
    ("x = 1", "1:0"),
    ("if a:\n    pass\nelse:\n    b = 2", "1:0"),
    ("def f():\n    return 1", "1:0"),
    ("@d\ndef f(): pass", "2:0"),
])
func statementLocations(source: String, expected: String) throws {
    let module = try Parser.parseModule(SourceFile(name: "x", text: source))
    let l = module.body[0].loc
    #expect("\(l.line):\(l.col)" == expected)
}

@Test(arguments: [
    ("1 + 2 * 3", "(+ 1 (* 2 3))"),
    ("x\n\n", "x"),
    ("a, b", "(tuple a b)"),
    ("[i for i in range(3)]", "(listcomp i (for i (call range 3)))"),
])
func parsesEvalInput(source: String, expected: String) throws {
    #expect(dump(try Parser.parseExpression(SourceFile(name: "<eval>", text: source))) == expected)
}

@Test func parsesEvalInputRejectsStatements() {
    #expect(throws: SyntaxError.self) { try Parser.parseExpression(SourceFile(name: "e", text: "x = 1")) }
}
