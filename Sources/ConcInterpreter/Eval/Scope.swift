// The resolver: finds every scope of a module, which names each one binds, and decides for
// every name whether it is a local slot, a cell, a free variable, a class-body name or a
// global (Python's LEGB rules, with comprehensions as their own function scopes).
import ConcSyntax

/// One scope of the program: the module, a function, a lambda, a comprehension or a class body.
final class Scope {
    enum Kind { case module, function, classBody, comprehension }
    let kind: Kind
    let name: String
    let qualname: String
    weak var parent: Scope?
    var children: [Scope] = []
    /// Parameter names in slot order (positional, keyword-only, *args, **kwargs).
    var params: [String] = []
    /// Names bound in this scope, in order of first binding.
    private(set) var bound: [String] = []
    private var boundSet: Set<String> = []
    var used: Set<String> = []
    var declaredGlobal: Set<String> = []
    var declaredNonlocal: Set<String> = []
    /// Names given a simple annotation (`x: T`) in this scope: they may not be declared
    /// global or nonlocal afterwards.
    var annotated: Set<String> = []
    /// Where each `nonlocal` name was declared (for "no binding" errors).
    var nonlocalLocs: [String: SourceLoc] = [:]
    /// Where each `global` name was first declared ("is nonlocal and global" is reported
    /// at the first of the two declarations, as CPython does).
    var globalLocs: [String: SourceLoc] = [:]
    /// True for a function or comprehension defined in a class body, directly or inside
    /// one of its methods (`__class__` there is CPython's implicit cell).
    var isInsideClassBody: Bool {
        var p = parent
        while let q = p {
            switch q.kind {
            case .classBody: return true
            case .module: return false
            case .function, .comprehension: p = q.parent
            }
        }
        return false
    }
    /// True when this scope, or a function scope nested in it, names `super` or `__class__`:
    /// the functions that need their class (CPython gives only those a `__class__` cell).
    var mentionsClassCell: Bool {
        used.contains("super") || used.contains("__class__")
            || children.contains { $0.kind != .classBody && $0.mentionsClassCell }
    }
    /// True once `n` has been bound or used (for "used prior to global declaration").
    func hasSeen(_ n: String) -> Bool { boundSet.contains(n) || used.contains(n) }
    var hasYield = false
    var isAsync = false
    /// A comprehension's iteration variables so far, and the names its `:=` expressions
    /// bind (in the enclosing scope): neither may rebind the other (CPython's rules).
    var iterationNames: Set<String> = []
    var walrusTargets: Set<String> = []

    // Results of resolution.
    /// Slot of every local (functions and comprehensions).
    var slots: [String: Int] = [:]
    var localNames: [String] = []
    /// Locals captured by inner scopes.
    var cells: Set<String> = []
    /// Free variables in closure order.
    var frees: [String] = []
    var freeIndex: [String: Int] = [:]

    init(kind: Kind, name: String, qualname: String, parent: Scope?) {
        self.kind = kind; self.name = name; self.qualname = qualname; self.parent = parent
        parent?.children.append(self)
    }

    func isBoundName(_ n: String) -> Bool { boundSet.contains(n) }

    func bind(_ n: String) {
        if boundSet.insert(n).inserted { bound.append(n) }
    }

    /// True when `n` is a local of this function/comprehension scope.
    func isLocal(_ n: String) -> Bool {
        guard kind == .function || kind == .comprehension else { return false }
        return slots[n] != nil
    }

    /// True when a class body binds `n` in its namespace.
    func isClassLocal(_ n: String) -> Bool {
        kind == .classBody && boundSet.contains(n) && !declaredGlobal.contains(n) && !declaredNonlocal.contains(n)
    }

    /// The qualified-name prefix for scopes nested in this one.
    var childQualPrefix: String {
        switch kind {
        case .module: return ""
        case .classBody: return qualname.isEmpty ? "" : qualname + "."  // "": exec's namespace
        // CPython 3.11 adds ".<locals>" only under functions and lambdas: a lambda in a
        // list comprehension is `<listcomp>.<lambda>`.
        case .comprehension: return qualname + "."
        case .function: return qualname + ".<locals>."
        }
    }

    /// The `__qualname__` of a function or class named `name` defined in this scope: a
    /// name declared `global` here is qualified as at module level, as CPython does.
    func childQualname(_ name: String) -> String {
        kind != .module && declaredGlobal.contains(name) ? name : childQualPrefix + name
    }

    /// Assigns slots: parameters first, then the other bound names.
    func assignSlots() {
        guard kind == .function || kind == .comprehension else { return }
        for p in params where slots[p] == nil { slots[p] = localNames.count; localNames.append(p) }
        for n in bound where !declaredGlobal.contains(n) && !declaredNonlocal.contains(n) && slots[n] == nil {
            slots[n] = localNames.count; localNames.append(n)
        }
    }

    func addFree(_ n: String) {
        if freeIndex[n] == nil { freeIndex[n] = frees.count; frees.append(n) }
    }

    /// Every name this scope mentions.
    var mentioned: Set<String> { used.union(boundSet).union(declaredNonlocal) }
}

/// Builds the scope tree of a module and resolves free variables.
struct ScopeAnalyzer {
    /// Scopes by the identity of the AST node that opens them (def/class statement, lambda or
    /// comprehension expression).
    var scopes: [ObjectIdentifier: Scope] = [:]
    let file: SourceFile
    /// Current expression nesting (see ``Compiler/maxExpressionDepth``).
    var depth = 0
    /// Above 0 while visiting a comprehension's iterable, where `:=` is not allowed.
    var comprehensionIterables = 0

    init(file: SourceFile) { self.file = file }

    mutating func analyze(_ body: [Stmt], module: Scope) throws {
        for s in body { try visit(s, module) }
        resolveAll(module)
        try checkNonlocals(module)
    }

    /// For `exec`/`eval` with a namespace dict: `body` runs in `ns`, a class-body-like scope
    /// (names read from the dict, then globals) inside the empty `module`.
    mutating func analyzeNamespace(_ body: [Stmt], _ ns: Scope, module: Scope) throws {
        for s in body { try visit(s, ns) }
        // CPython's symbol table marks a name declared `global` anywhere in the code as
        // global at its top level too: there it is stored to and read from the globals,
        // not the namespace (exec with separate globals and locals shows the difference).
        func collectGlobals(_ s: Scope) {
            ns.declaredGlobal.formUnion(s.declaredGlobal)
            for c in s.children { collectGlobals(c) }
        }
        for c in ns.children { collectGlobals(c) }
        resolveAll(module)
        try checkNonlocals(module)
    }

    private func resolveAll(_ s: Scope) {
        s.assignSlots()
        for c in s.children { resolveAll(c) }
        if s.kind != .module {
            for n in s.mentioned.sorted() where !s.isLocal(n) && !s.declaredGlobal.contains(n) && !s.isClassLocal(n) || s.declaredNonlocal.contains(n) {
                resolveFree(n, from: s)
            }
        }
    }

    /// Finds the function scope that defines `n` for a use in `s`; marks the cell and the
    /// free variables along the way.
    private func resolveFree(_ n: String, from s: Scope) {
        var chain: [Scope] = [s]
        var p = s.parent
        while let d = p {
            if d.kind == .module { return }
            // A class body's own `global x` is not seen by the functions inside it: they
            // skip class scopes altogether (CPython's rule).
            if d.kind != .classBody && d.declaredGlobal.contains(n) { return }
            if d.kind != .classBody && d.isLocal(n) {
                d.cells.insert(n)
                for c in chain { c.addFree(n) }
                return
            }
            chain.append(d)
            p = d.parent
        }
    }

    private func checkNonlocals(_ s: Scope) throws {
        for n in s.declaredNonlocal.sorted() where s.freeIndex[n] == nil {
            throw scopeError("no binding for nonlocal '\(n)' found", s.nonlocalLocs[n] ?? .unknown)
        }
        for c in s.children { try checkNonlocals(c) }
    }

    /// CPython's checks on a `global`/`nonlocal` declaration of `n` in scope `s`.
    /// `earlier`: where the other kind of declaration of `n` is, if there is one.
    func checkDeclaration(_ n: String, _ kind: String, conflictsWith earlier: SourceLoc?, _ s: Scope, _ loc: SourceLoc) throws {
        if s.params.contains(n) { throw scopeError("name '\(n)' is parameter and \(kind)", loc) }
        if let first = earlier { throw scopeError("name '\(n)' is nonlocal and global", first) }
        if s.annotated.contains(n) { throw scopeError("annotated name '\(n)' can't be \(kind)", loc) }
        // Also when already declared: CPython rejects `global x; x = 1; global x`.
        if s.hasSeen(n) {
            let how = s.used.contains(n) && !s.isBoundName(n) ? "used prior to" : "assigned to before"
            throw scopeError("name '\(n)' is \(how) \(kind) declaration", loc)
        }
    }

    func scopeError(_ message: String, _ loc: SourceLoc) -> SyntaxError {
        SyntaxError(message: message, file: file.name, line: loc.line, column: loc.col + 1, text: file.line(loc.line),
                    endLine: loc.endLine, endColumn: loc.endCol + 1)
    }

    // MARK: - Collecting names

    private mutating func visit(_ stmts: [Stmt], _ s: Scope) throws { for x in stmts { try visit(x, s) } }

    private mutating func visit(_ stmt: Stmt, _ s: Scope) throws {
        switch stmt.kind {
        case .expr(let e): try visit(e, s)
        case .assign(let targets, let value):
            for t in targets { try visitTarget(t, s) }
            try visit(value, s)
        case .augAssign(let t, _, let v):
            try visitTarget(t, s); try visit(t, s); try visit(v, s)
        case .annAssign(let t, let ann, let v, let simple):
            if simple, case .name(let n) = t.kind {
                if s.kind != .module, s.declaredGlobal.contains(n) || s.declaredNonlocal.contains(n) {
                    let kind = s.declaredGlobal.contains(n) ? "global" : "nonlocal"
                    throw scopeError("annotated name '\(n)' can't be \(kind)", stmt.loc)
                }
                s.annotated.insert(n)
            }
            // `x: T` alone still makes x local to a function, as CPython does; `(x): T` does not.
            if let v = v { try visitTarget(t, s); try visit(v, s) } else if case .name(let n) = t.kind { if simple { s.bind(n) } } else { try visit(t, s) }
            if s.kind == .module || s.kind == .classBody { try visit(ann, s) }
        case .if(let test, let body, let orElse), .while(let test, let body, let orElse):
            try visit(test, s); try visit(body, s); try visit(orElse, s)
        case .for(let target, let iter, let body, let orElse, _):
            try visitTarget(target, s); try visit(iter, s); try visit(body, s); try visit(orElse, s)
        case .break, .continue, .pass: break
        case .return(let e): if let e = e { try visit(e, s) }
        case .functionDef(let def):
            s.bind(def.boundName)
            for d in def.decorators { try visit(d, s) }
            try visitFunction(stmt, name: def.name, params: def.params, body: def.body, isAsync: def.isAsync, s)
        case .classDef(let c):
            s.bind(c.boundName)
            for d in c.decorators { try visit(d, s) }
            for b in c.bases { try visit(b, s) }
            for (_, v) in c.keywords { try visit(v, s) }
            let cs = Scope(kind: .classBody, name: c.name, qualname: s.childQualname(c.name), parent: s)
            scopes[ObjectIdentifier(stmt)] = cs
            try visit(c.body, cs)
        case .try(let body, let handlers, let orElse, let fin):
            try visit(body, s)
            for h in handlers {
                if let t = h.type { try visit(t, s) }
                if let n = h.name { s.bind(n) }
                try visit(h.body, s)
            }
            try visit(orElse, s); try visit(fin, s)
        case .raise(let e, let c):
            if let e = e { try visit(e, s) }
            if let c = c { try visit(c, s) }
        case .with(let items, let body, _):
            for i in items {
                try visit(i.context, s)
                if let t = i.target { try visitTarget(t, s) }
            }
            try visit(body, s)
        case .global(let names):
            for n in names {
                try checkDeclaration(n, "global", conflictsWith: s.nonlocalLocs[n], s, stmt.loc)
                s.declaredGlobal.insert(n)
                if s.globalLocs[n] == nil { s.globalLocs[n] = stmt.loc }
            }
        case .nonlocal(let names):
            if s.kind == .module {
                throw scopeError("nonlocal declaration not allowed at module level", stmt.loc)
            }
            for n in names {
                try checkDeclaration(n, "nonlocal", conflictsWith: s.globalLocs[n], s, stmt.loc)
                s.declaredNonlocal.insert(n)
                s.nonlocalLocs[n] = stmt.loc
            }
        case .delete(let targets): for t in targets { try visitTarget(t, s) }
        case .assert(let t, let m):
            try visit(t, s); if let m = m { try visit(m, s) }
        case .import(let aliases):
            for a in aliases { s.bind(a.asName ?? String(a.name.split(separator: ".")[0])) }
        case .importFrom(_, let names, _):
            for a in names where a.name != "*" { s.bind(a.asName ?? a.name) }
        case .match(let subject, let cases):
            try visit(subject, s)
            for c in cases {
                try visitPattern(c.pattern, s)
                if let g = c.guardTest { try visit(g, s) }
                try visit(c.body, s)
            }
        case .select(let cases):
            for c in cases {
                switch c {
                case .operation(let target, let op, let body, _):
                    if let t = target { try visitTarget(t, s) }
                    try visit(op, s); try visit(body, s)
                case .timeout(let e, let body, _): try visit(e, s); try visit(body, s)
                case .default(let body, _): try visit(body, s)
                }
            }
        }
    }

    private mutating func visitFunction(_ node: AnyObject, name: String, params: Parameters, body: [Stmt], isAsync: Bool, _ s: Scope) throws {
        for p in params.positional { if let d = p.defaultValue { try visit(d, s) } }
        for p in params.keywordOnly { if let d = p.defaultValue { try visit(d, s) } }
        for a in params.annotations { try visit(a.value, s) }
        let fs = Scope(kind: .function, name: name, qualname: s.childQualname(name), parent: s)
        fs.isAsync = isAsync
        fs.params = params.positional.map { $0.name } + params.keywordOnly.map { $0.name }
            + (params.varArgs.map { [$0] } ?? []) + (params.varKeywords.map { [$0] } ?? [])
        for p in fs.params { fs.bind(p) }
        scopes[ObjectIdentifier(node)] = fs
        try visit(body, fs)
    }

    /// A pattern of a `case`: the names it captures are bound, the values, classes and keys
    /// it compares with are read.
    private mutating func visitPattern(_ p: Pattern, _ s: Scope) throws {
        switch p.kind {
        case .value(let e): try visit(e, s)
        case .singleton: break
        case .capture(let n), .star(let n): if let n { s.bind(n) }
        case .sequence(let items): for i in items { try visitPattern(i, s) }
        case .mapping(let keys, let values, let rest):
            for k in keys { try visit(k, s) }
            for v in values { try visitPattern(v, s) }
            if let r = rest { s.bind(r) }
        case .classPattern(let cls, let positional, let keywords):
            try visit(cls, s)
            for q in positional { try visitPattern(q, s) }
            for k in keywords { try visitPattern(k.pattern, s) }
        case .or(let alternatives): for a in alternatives { try visitPattern(a, s) }
        case .asPattern(let inner, let n):
            try visitPattern(inner, s)
            s.bind(n)
        }
    }

    /// A name, attribute, subscript or unpacking used as an assignment target.
    private mutating func visitTarget(_ t: Expr, _ s: Scope) throws {
        switch t.kind {
        case .name(let n): s.bind(n)
        case .tuple(let items), .list(let items): for i in items { try visitTarget(i, s) }
        case .starred(let inner): try visitTarget(inner, s)
        default: try visit(t, s)
        }
    }

    private mutating func visit(_ e: Expr, _ s: Scope) throws {
        depth += 1
        defer { depth -= 1 }
        if depth > Compiler.maxExpressionDepth {
            throw pyError(Exc.recursionError, "maximum recursion depth exceeded during compilation")
        }
        switch e.kind {
        case .name(let n): s.used.insert(n)
        case .constant: break
        case .fstring(let parts): try visitFParts(parts, s)
        case .tuple(let items), .list(let items), .set(let items): for i in items { try visit(i, s) }
        case .dict(let entries):
            for en in entries { if let k = en.key { try visit(k, s) }; try visit(en.value, s) }
        case .starred(let x), .unary(_, let x), .await(let x): try visit(x, s)
            if case .await = e.kind { s.isAsync = s.isAsync || false }
        case .binary(_, let a, let b): try visit(a, s); try visit(b, s)
        case .boolOp(_, let xs): for x in xs { try visit(x, s) }
        case .compare(let a, let rest): try visit(a, s); for r in rest { try visit(r.right, s) }
        case .ifExp(let t, let b, let o): try visit(t, s); try visit(b, s); try visit(o, s)
        case .lambda(let params, let body):
            try visitFunction(e, name: "<lambda>", params: params, body: [Stmt(.return(body), body.loc)], isAsync: false, s)
        case .call(let f, let args):
            try visit(f, s)
            for a in args {
                switch a {
                case .positional(let x), .star(let x), .keyword(_, let x), .doubleStar(let x): try visit(x, s)
                }
            }
        case .attribute(let o, _): try visit(o, s)
        case .subscript(let o, let i): try visit(o, s); try visit(i, s)
        case .slice(let l, let u, let st):
            if let l = l { try visit(l, s) }; if let u = u { try visit(u, s) }; if let st = st { try visit(st, s) }
        case .listComp(let elt, let comps), .setComp(let elt, let comps), .generatorExp(let elt, let comps):
            try visitComprehension(e, [elt], comps, isGenerator: { if case .generatorExp = e.kind { return true }; return false }(), s)
        case .dictComp(let k, let v, let comps):
            try visitComprehension(e, [k, v], comps, isGenerator: false, s)
        case .yield(let x):
            try noteYield(e, s)
            if let x = x { try visit(x, s) }
        case .yieldFrom(let x): try noteYield(e, s); try visit(x, s)
        case .namedExpr(let t, let v):
            if s.kind == .comprehension || comprehensionIterables > 0 { try checkWalrusInComprehension(t, s) }
            var target = s
            while target.kind == .comprehension, let p = target.parent { target = p }
            if case .name(let n) = t.kind {
                target.bind(n)
                if target !== s { s.used.insert(n) }
            }
            try visit(v, s)
        case .startUnit(_, let call, let options):
            try visit(call, s)
            for o in options { try visit(o.value, s) }
        }
    }

    private mutating func visitFParts(_ parts: [FStringPart], _ s: Scope) throws {
        for p in parts {
            if case .field(let e, _, let spec, _) = p {
                try visit(e, s)
                if let sp = spec { try visitFParts(sp, s) }
            }
        }
    }

    /// A `yield` makes its function a generator; inside a comprehension (whose code is a
    /// function of its own) it is a SyntaxError, as in CPython.
    private func noteYield(_ e: Expr, _ s: Scope) throws {
        if s.kind == .comprehension {
            let what = s.name == "<genexpr>" ? "generator expression" : s.name.dropFirst().dropLast() == "listcomp" ? "list comprehension"
                : s.name == "<setcomp>" ? "set comprehension" : "dict comprehension"
            throw scopeError("'yield' inside \(what)", e.loc)
        }
        s.hasYield = true
    }

    private mutating func visitComprehension(_ node: Expr, _ elements: [Expr], _ comps: [Comprehension], isGenerator: Bool, _ s: Scope) throws {
        guard let first = comps.first else { return }
        comprehensionIterables += 1
        try visit(first.iter, s)
        comprehensionIterables -= 1
        let cs = Scope(kind: .comprehension, name: comprehensionName(node), qualname: s.childQualPrefix + comprehensionName(node), parent: s)
        cs.params = [".0"]
        cs.bind(".0")
        cs.hasYield = isGenerator
        scopes[ObjectIdentifier(node)] = cs
        for (i, c) in comps.enumerated() {
            if i > 0 {
                comprehensionIterables += 1
                try visit(c.iter, cs)
                comprehensionIterables -= 1
            }
            for n in ScopeAnalyzer.targetNames(c.target) {
                if cs.walrusTargets.contains(n) {
                    throw scopeError("comprehension inner loop cannot rebind assignment expression target '\(n)'", c.target.loc)
                }
                cs.iterationNames.insert(n)
            }
            try visitTarget(c.target, cs)
            for cond in c.ifs { try visit(cond, cs) }
        }
        for e in elements { try visit(e, cs) }
    }

    /// CPython's rules for `name := value` inside a comprehension (kept out of `visit`, whose
    /// stack frame bounds how deeply nested an expression may be).
    @inline(never) private func checkWalrusInComprehension(_ t: Expr, _ s: Scope) throws {
        guard case .name(let n) = t.kind else { return }
        if comprehensionIterables > 0 {
            throw scopeError("assignment expression cannot be used in a comprehension iterable expression", t.loc)
        }
        var c: Scope? = s
        while let scope = c, scope.kind == .comprehension {
            if scope.iterationNames.contains(n) {
                throw scopeError("assignment expression cannot rebind comprehension iteration variable '\(n)'", t.loc)
            }
            scope.walrusTargets.insert(n)
            c = scope.parent
        }
        // The target would be bound in the class namespace, which a comprehension cannot see
        // (exec's separate locals are a namespace of this kind too, but a module's code).
        if let owner = c, owner.kind == .classBody, owner.parent?.kind != .module || owner.name != "<module>" {
            throw scopeError("assignment expression within a comprehension cannot be used in a class body", t.loc)
        }
    }

    /// The names a `for` target binds (`i`, `(k, v)`, `[a, *rest]`).
    static func targetNames(_ e: Expr) -> [String] {
        switch e.kind {
        case .name(let n): return [n]
        case .tuple(let xs), .list(let xs): return xs.flatMap { targetNames($0) }
        case .starred(let x): return targetNames(x)
        default: return []
        }
    }

    func comprehensionName(_ e: Expr) -> String {
        switch e.kind {
        case .listComp: return "<listcomp>"
        case .setComp: return "<setcomp>"
        case .dictComp: return "<dictcomp>"
        default: return "<genexpr>"
        }
    }
}
