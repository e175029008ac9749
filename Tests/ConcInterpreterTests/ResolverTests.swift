// Table-driven tests of the resolver (Scope.swift): which names each scope keeps as local
// slots, cells, free variables, class-body names or globals, and the resolver's own syntax
// errors. Every expectation was produced by CPython 3.11 (`symtable` plus the code objects'
// `co_cellvars` for bindings; `compile()` for errors).
import ConcSyntax
import Testing
@testable import ConcInterpreter

// MARK: - Helpers

/// Parses and resolves `source`, returning its module scope (which owns the whole tree).
private func resolve(_ source: String) throws -> Scope {
    let file = SourceFile(name: "r.conc", text: source)
    let module = try Parser.parseModule(file)
    var analyzer = ScopeAnalyzer(file: file)
    let top = Scope(kind: .module, name: "<module>", qualname: "<module>", parent: nil)
    try analyzer.analyze(module.body, module: top)
    return top
}

/// How scope `s` binds `n`: `local`, `cell`, `free`, `class` (a class-body name) or `global`.
private func binding(_ n: String, in s: Scope) -> String {
    if s.declaredGlobal.contains(n) { return "global" }
    if s.kind == .classBody {
        if s.isClassLocal(n) { return "class" }
        return s.freeIndex[n] != nil ? "free" : "global"
    }
    if s.cells.contains(n) { return "cell" }
    if s.isLocal(n) && !s.declaredNonlocal.contains(n) { return "local" }
    return s.freeIndex[n] != nil ? "free" : "global"
}

/// Every scope below the module as `qualname: name=binding ...` (names sorted), the scopes
/// sorted by qualname and joined with "; ".
private func bindings(_ source: String) -> String {
    let top: Scope
    do { top = try resolve(source) } catch { return "error: \(error)" }
    var parts: [String] = []
    func walk(_ s: Scope) {
        if s.kind != .module {
            let names = s.mentioned.union(s.frees).union(s.slots.keys).union(s.declaredGlobal)
                .filter { !$0.hasPrefix(".") }.sorted()
            let described = names.map { "\($0)=\(binding($0, in: s))" }.joined(separator: " ")
            parts.append(described.isEmpty ? "\(s.qualname):" : "\(s.qualname): \(described)")
        }
        s.children.forEach(walk)
    }
    walk(top)
    return parts.sorted().joined(separator: "; ")
}

/// `message @ line:column` of the resolver's error for `source`, or "OK".
private func resolverError(_ source: String) -> String {
    do {
        _ = try resolve(source)
        return "OK"
    } catch let e as SyntaxError {
        return "\(e.message) @ \(e.line):\(e.column)"
    } catch {
        return "\(error)"
    }
}

// MARK: - Tests

@Suite struct ResolverTests {
    @Test(arguments: [
        ("def f():\n    x = 1\n    def g():\n        return x\n    return g",
         "f.<locals>.g: x=free; f: g=local x=cell"),
        ("def f():\n    x = 1\n    def g():\n        nonlocal x\n        x = 2\n    g()\n    return x",
         "f.<locals>.g: x=free; f: g=local x=cell"),
        ("def f():\n    global x\n    x = 1",
         "f: x=global"),
        ("def f():\n    return len(y)",
         "f: len=global y=global"),
        ("def f(a, b=1, *args, c, d=2, **kw):\n    return a",
         "f: a=local args=local b=local c=local d=local kw=local"),
        ("f = lambda a: a + b",
         "<lambda>: a=local b=global"),
        ("def f(xs, k):\n    return [x * k for x in xs]",
         "f.<locals>.<listcomp>: k=free x=local; f: k=cell xs=local"),
        ("def f():\n    y = 1\n    class C:\n        z = y\n        def m(self):\n            return y\n    return C",
         "f.<locals>.C.m: self=local y=free; f.<locals>.C: m=class y=free z=class; f: C=local y=cell"),
        ("class C:\n    x = 1\n    def m(self):\n        return x",
         "C.m: self=local x=global; C: m=class x=class"),
        ("def a():\n    v = 1\n    def b():\n        def c():\n            return v\n        return c\n    return b",
         "a.<locals>.b.<locals>.c: v=free; a.<locals>.b: c=local v=free; a: b=local v=cell"),
        ("def f(xs):\n    if any((y := x) > 1 for x in xs):\n        return y",
         "f.<locals>.<genexpr>: x=local y=free; f: any=global xs=local y=cell"),
        ("def f():\n    try:\n        pass\n    except E as e:\n        return e",
         "f: E=global e=local"),
        ("def f():\n    import os.path\n    from sys import argv as av\n    return os, av",
         "f: av=local os=local"),
        ("def f():\n    del x",
         "f: x=local"),
        ("def f():\n    n += 1",
         "f: n=local"),
        ("def f():\n    for i, (j, *k) in pairs:\n        with open(i) as fh:\n            pass",
         "f: fh=local i=local j=local k=local open=global pairs=global"),
        ("def f():\n    d = 1\n    def g(a=d):\n        return a\n    return g",
         "f.<locals>.g: a=local; f: d=local g=local"),
        ("def a():\n    x = 0\n    def b():\n        def c():\n            nonlocal x\n            x += 1\n        c()\n    b()",
         "a.<locals>.b.<locals>.c: x=free; a.<locals>.b: c=local x=free; a: b=local x=cell"),
        ("def a():\n    x = 1\n    def b():\n        global x\n        def c():\n            return x\n        return c\n    return b",
         "a.<locals>.b.<locals>.c: x=global; a.<locals>.b: c=local x=global; a: b=local x=local"),
        ("def f():\n    x = 1\n    class C:\n        x = 2\n        def m(self):\n            return x\n    return C",
         "f.<locals>.C.m: self=local x=free; f.<locals>.C: m=class x=class; f: C=local x=cell"),
        ("def f():\n    def g():\n        return h()\n    def h():\n        return g\n    return g",
         "f.<locals>.g: h=free; f.<locals>.h: g=free; f: g=cell h=cell"),
        ("def f(n):\n    return {k: [n for _ in range(k)] for k in range(n)}",
         "f.<locals>.<dictcomp>.<listcomp>: _=local n=free; f.<locals>.<dictcomp>: k=local n=free range=global; f: n=cell range=global"),
        ("def outer():\n    c = 0\n    def inc():\n        nonlocal c\n        c += 1\n        return c\n    return inc",
         "outer.<locals>.inc: c=free; outer: c=cell inc=local"),
        ("def f():\n    x = 1\n    return lambda: lambda: x",
         "f.<locals>.<lambda>.<locals>.<lambda>: x=free; f.<locals>.<lambda>: x=free; f: x=cell"),
        ("class A:\n    class B:\n        def m(self):\n            return B",
         "A.B.m: B=global self=local; A.B: m=class; A: B=class"),
        ("def f():\n    @dec\n    def g():\n        pass\n    class K(Base, metaclass=M):\n        pass",
         "f.<locals>.K:; f.<locals>.g:; f: Base=global K=local M=global dec=global g=local"),
        ("def f(x):\n    def g():\n        print(x)\n        x2 = [x for _ in range(2)]\n    return g",
         "f.<locals>.g.<locals>.<listcomp>: _=local x=free; f.<locals>.g: print=global range=global x=free x2=local; f: g=local x=cell"),
        ("def gen():\n    total = 0\n    while True:\n        total += yield total",
         "gen: total=local"),
        ("def f():\n    print(f'{a!r:>{width}}')",
         "f: a=global print=global width=global"),
    ])
    func bindsLikeCPython(source: String, expected: String) {
        #expect(bindings(source) == expected)
    }

    @Test(arguments: [
        ("def f():\n    x = 1\n    def g():\n        nonlocal y\n", "no binding for nonlocal 'y' found @ 4:9"),
        ("x = 1\ndef f():\n    nonlocal x\n", "no binding for nonlocal 'x' found @ 3:5"),
        ("def f():\n    l = lambda: 1\n    def g():\n        nonlocal l, m\n", "no binding for nonlocal 'm' found @ 4:9"),
        ("def f(x):\n    global x\n", "name 'x' is parameter and global @ 2:5"),
        ("def f(*args, **kw):\n    global kw\n", "name 'kw' is parameter and global @ 2:5"),
        ("def f(x):\n    nonlocal x\n", "name 'x' is parameter and nonlocal @ 2:5"),
        ("def f():\n    x = 1\n    global x\n", "name 'x' is assigned to before global declaration @ 3:5"),
        ("def f():\n    for x in y:\n        pass\n    global x\n",
         "name 'x' is assigned to before global declaration @ 4:5"),
        ("def f():\n    print(x)\n    global x\n", "name 'x' is used prior to global declaration @ 3:5"),
        ("def f():\n    x = 1\n    def g():\n        x = 2\n        nonlocal x\n",
         "name 'x' is assigned to before nonlocal declaration @ 5:9"),
        ("def f():\n    x = 1\n    def g():\n        print(x)\n        nonlocal x\n",
         "name 'x' is used prior to nonlocal declaration @ 5:9"),
        ("def f():\n    x = 1\n    def g():\n        global x\n        nonlocal x\n", "name 'x' is nonlocal and global @ 4:9"),
        ("nonlocal x\n", "nonlocal declaration not allowed at module level @ 1:1"),
        ("def f():\n    def g():\n        nonlocal x\n    x = 1\n", "OK"),
        ("def f():\n    def g():\n        pass\n    class C:\n        def m(self):\n            nonlocal g\n", "OK"),
    ])
    func reportsErrorsLikeCPython(source: String, expected: String) {
        #expect(resolverError(source) == expected)
    }

    /// `nonlocal` in a class body is allowed (it names a variable of an enclosing function);
    /// at module level it finds no binding.
    @Test(arguments: [
        ("def f():\n    x = 1\n    class C:\n        nonlocal x\n        x = 2\n", "OK"),
        ("class C:\n    nonlocal x\n", "no binding for nonlocal 'x' found @ 2:5"),
    ])
    func acceptsNonlocalInClassBodies(source: String, expected: String) {
        #expect(resolverError(source) == expected)
    }

    /// CPython points "nonlocal and global" at the first of the two declarations.
    @Test func nonlocalAfterGlobalPointsAtTheFirstDeclaration() {
        #expect(resolverError("def f():\n    global x\n    nonlocal x\n") == "name 'x' is nonlocal and global @ 2:5")
        #expect(resolverError("def f():\n    y = 1\n    def g():\n        nonlocal y\n        global y\n") == "name 'y' is nonlocal and global @ 4:9")
    }

    /// Slots: parameters first in signature order, then other locals in order of binding.
    @Test(arguments: [
        ("def f(b, a, *r, k, **kw):\n    z = 1\n    y = 2", ["b", "a", "k", "r", "kw", "z", "y"]),
        ("def f():\n    for i in x:\n        j = i\n    def h():\n        pass", ["i", "j", "h"]),
        ("def f(a):\n    global g\n    g = a\n    b = a", ["a", "b"]),
    ])
    func assignsSlotsInOrder(source: String, expected: [String]) throws {
        let f = try #require(try resolve(source).children.first)
        #expect(f.localNames == expected)
        #expect(expected.enumerated().allSatisfy { f.slots[$0.element] == $0.offset })
    }

    /// Free variables are numbered in the order the closure captures them.
    @Test func numbersFreeVariablesInClosureOrder() throws {
        let top = try resolve("def f():\n    a = 1\n    b = 2\n    def g():\n        return b + a\n    return g")
        let g = try #require(top.children.first?.children.first)
        #expect(g.frees.count == 2)
        #expect(Set(g.frees) == ["a", "b"])
        #expect(g.frees.enumerated().allSatisfy { g.freeIndex[$0.element] == $0.offset })
    }

    /// Generators and async functions are recognised while resolving.
    @Test(arguments: [
        ("def f():\n    yield 1", true),
        ("def f():\n    x = (yield)", true),
        ("def f():\n    yield from g()", true),
        ("def f():\n    return (x for x in y)", false),
        ("def f():\n    return 1", false),
    ])
    func marksGenerators(source: String, isGenerator: Bool) throws {
        let f = try #require(try resolve(source).children.first)
        #expect(f.hasYield == isGenerator)
    }
}
