// Turns the parser's AST into the executable node tree, using the resolver's scopes to
// pick a node for every name (local slot, cell, free variable, class-body name or global).
import ConcSyntax

/// Compiles one module's AST against that module's globals.
struct Compiler {
    let file: SourceFile
    let globals: Globals
    let builtins: [String: Value]
    /// The interpreter's builtins module when `builtins` is its contents (nil for the
    /// `__builtins__` dict given to exec()/eval(), fixed at compile time): names fall back
    /// to it once a program rebinds a builtin there.
    let builtinsModule: Globals?
    var analyzer: ScopeAnalyzer
    /// True for REPL input: top-level expression statements echo their value.
    let isInteractive: Bool
    /// Current nesting of `expr` calls; bounded so deep operator chains cannot overflow the
    /// stack of the compiler, the resolver or the evaluator (CPython gives up near 3000 too).
    var exprDepth = 0
    static let maxExpressionDepth = 2000
    /// What ``checkIdentityComparison(_:_:)`` and its siblings found, for the caller to
    /// show before running the code (``Unit/showCompileWarnings(_:file:)``).
    var warnings: [CompileWarning] = []

    /// This compilation's shared constants (equal literals are one object).
    let constants: ConstantPool

    init(file: SourceFile, globals: Globals, builtins: [String: Value], builtinsModule: Globals?,
         isInteractive: Bool = false, interned: InternedStrings? = nil) {
        self.file = file; self.globals = globals; self.builtins = builtins; self.builtinsModule = builtinsModule
        self.analyzer = ScopeAnalyzer(file: file); self.isInteractive = isInteractive
        self.constants = ConstantPool(interned: interned)
    }

    /// Compiles a module body into its code object.
    mutating func compileModule(_ body: [Stmt]) throws -> CodeInfo {
        let scope = Scope(kind: .module, name: "<module>", qualname: "<module>", parent: nil)
        try analyzer.analyze(body, module: scope)
        let code = makeCode(scope, loc: body.first?.loc ?? .unknown, params: Parameters())
        var node = withAnnotationsSetup(try block(body, scope, topLevel: true), body, scope)
        // A module's docstring is its `__doc__`, set before the body runs, as CPython does
        // (not at the REPL, where a string is just echoed).
        if !isInteractive, case .expr(let first)? = body.first?.kind, case .constant(.string(let d)) = first.kind {
            let setDoc = AssignNode([name("__doc__", scope, first.loc)], ConstNode(.str(d), first.loc), first.loc)
            node = BlockNode([setDoc, node], first.loc)
        }
        code.body = node
        return code
    }

    /// Prefixes a module or class body that annotates names with `__annotations__ = {}`.
    func withAnnotationsSetup(_ node: StmtNode, _ body: [Stmt], _ s: Scope) -> StmtNode {
        guard Compiler.hasAnnotations(body) else { return node }
        let setup = AssignNode([name("__annotations__", s, node.loc)], DictNode([], node.loc), node.loc)
        return BlockNode([setup, node], node.loc)
    }

    /// Whether `body` has an annotated assignment outside nested functions and classes.
    static func hasAnnotations(_ body: [Stmt]) -> Bool {
        body.contains { st in
            switch st.kind {
            case .annAssign: return true
            case .if(_, let b, let e), .while(_, let b, let e), .for(_, _, let b, let e, _):
                return hasAnnotations(b) || hasAnnotations(e)
            case .with(_, let b, _): return hasAnnotations(b)
            case .match(_, let cases): return cases.contains { hasAnnotations($0.body) }
            case .try(let b, let hs, let e, let fin):
                return hasAnnotations(b) || hs.contains { hasAnnotations($0.body) } || hasAnnotations(e) || hasAnnotations(fin)
            default: return false
            }
        }
    }

    /// Compiles `exec`/`eval` source that runs over a namespace dict (the frame's
    /// `classNamespace`): its names are read from the dict, then the globals and builtins,
    /// and stored into the dict, as a class body's are. `expression` is eval's.
    mutating func compileNamespaceCode(_ body: [Stmt], expression: Expr?, loc: SourceLoc) throws -> CodeInfo {
        let module = Scope(kind: .module, name: "<module>", qualname: "<module>", parent: nil)
        let ns = Scope(kind: .classBody, name: "<module>", qualname: "", parent: module)
        try analyzer.analyzeNamespace(expression.map { [Stmt(.expr($0), $0.loc)] } ?? body, ns, module: module)
        let code = makeCode(ns, loc: loc, params: Parameters())
        if let e = expression { code.expression = try expr(e, ns) } else { code.body = try block(body, ns, topLevel: true) }
        return code
    }

    /// Compiles a single expression (for `eval`-style embedding).
    mutating func compileExpression(_ e: Expr) throws -> CodeInfo {
        let scope = Scope(kind: .module, name: "<module>", qualname: "<module>", parent: nil)
        try analyzer.analyze([Stmt(.expr(e), e.loc)], module: scope)
        let code = makeCode(scope, loc: e.loc, params: Parameters())
        code.expression = try expr(e, scope)
        return code
    }

    func makeCode(_ s: Scope, loc: SourceLoc, params: Parameters) -> CodeInfo {
        let npos = params.positional.count, nkw = params.keywordOnly.count
        var varArgs = -1, varKw = -1
        if let v = params.varArgs { varArgs = s.slots[v] ?? (npos + nkw) }
        if let k = params.varKeywords { varKw = s.slots[k] ?? (npos + nkw + (varArgs >= 0 ? 1 : 0)) }
        let positional = s.kind == .comprehension ? [".0"] : params.positional.map { $0.name }
        return CodeInfo(name: s.name, qualname: s.qualname, file: file, loc: loc,
                        positional: positional, positionalOnlyCount: params.positionalOnlyCount,
                        keywordOnly: params.keywordOnly.map { $0.name }, varArgsSlot: varArgs, varKeywordsSlot: varKw,
                        localNames: s.localNames, cellSlots: s.cells.compactMap { s.slots[$0] }.sorted(),
                        freeNames: s.frees, isGenerator: s.hasYield, isAsync: s.isAsync,
                        usesClassCell: s.mentionsClassCell)
    }

    // MARK: - Names

    func global(_ n: String, _ loc: SourceLoc) -> ExprNode {
        // REPL input: `_` is the last echoed value, kept in the builtins module (as CPython
        // does) and changing at run time, so it is looked up there on every load.
        if isInteractive && n == "_" { return LastValueNode(globals.cell(n), loc) }
        return GlobalNode(globals.cell(n), n, builtin: builtins[n], builtinsModule: builtinsModule, loc)
    }

    /// The node for name `n` as seen from scope `s`.
    func name(_ n: String, _ s: Scope, _ loc: SourceLoc) -> ExprNode {
        switch s.kind {
        case .module: return global(n, loc)
        case .classBody:
            if s.declaredGlobal.contains(n) { return global(n, loc) }
            if s.declaredNonlocal.contains(n), let i = s.freeIndex[n] { return FreeNode(i, n, loc) }
            // A name the body binds is the body's own (CPython's LOAD_NAME: then the globals),
            // even when a method takes it from the enclosing function; only a name the body
            // just reads falls back to the enclosing function's cell (LOAD_CLASSDEREF).
            let fallback: ExprNode = s.isClassLocal(n) ? global(n, loc) : s.freeIndex[n].map { FreeNode($0, n, loc) } ?? global(n, loc)
            return ClassBodyNameNode(n, fallback: fallback, loc)
        case .function, .comprehension:
            if s.declaredGlobal.contains(n) { return global(n, loc) }
            if let slot = s.slots[n], !s.declaredNonlocal.contains(n) {
                return s.cells.contains(n) ? CellNode(slot, n, loc) : LocalNode(slot, n, loc)
            }
            if let i = s.freeIndex[n] { return FreeNode(i, n, loc) }
            // `__class__` in a method: the class it was defined in (CPython's implicit cell).
            if n == "__class__" && s.isInsideClassBody { return ClassCellNode(loc) }
            return global(n, loc)
        }
    }

    func closureSources(for child: Scope, in s: Scope) -> [ClosureSource] {
        child.frees.map { n in
            if s.cells.contains(n), let slot = s.slots[n] { return .cell(slot: slot) }
            return .free(index: s.freeIndex[n]!)
        }
    }

    /// CPython's error for expressions nested too deeply to compile.
    func compilationTooDeep() -> PyBaseException {
        pyError(Exc.recursionError, "maximum recursion depth exceeded during compilation")
    }

    func syntaxError(_ message: String, _ loc: SourceLoc) -> SyntaxError {
        SyntaxError(message: message, file: file.name, line: loc.line, column: loc.col + 1, text: file.line(loc.line),
                    endLine: loc.endLine, endColumn: loc.endCol + 1)
    }

    // MARK: - Statements

    mutating func block(_ stmts: [Stmt], _ s: Scope, topLevel: Bool = false) throws -> StmtNode {
        var nodes: [StmtNode] = []
        for st in stmts { nodes.append(try stmt(st, s, topLevel: topLevel)) }
        let loc = stmts.first?.loc ?? .unknown
        return BlockNode(nodes, loc)
    }

    mutating func optionalBlock(_ stmts: [Stmt], _ s: Scope, topLevel: Bool = false) throws -> StmtNode? {
        stmts.isEmpty ? nil : try block(stmts, s, topLevel: topLevel)
    }

    mutating func stmt(_ st: Stmt, _ s: Scope, topLevel: Bool = false) throws -> StmtNode {
        let loc = st.loc
        switch st.kind {
        case .expr(let e):
            if topLevel && isInteractive { return EchoStmtNode(try expr(e, s), loc) }
            return ExprStmtNode(try expr(e, s), loc)
        case .assign(let targets, let value):
            let v = try expr(value, s)
            if targets.count == 1 {
                let t = try target(targets[0], s)
                if let l = t as? LocalNode { return AssignLocalNode(l.slot, v, loc) }
                return AssignOneNode(t, v, loc)
            }
            return AssignNode(try targets.map { try target($0, s) }, v, loc)
        case .augAssign(let t, let op, let v):
            let tn = try target(t, s)
            let vn = try expr(v, s)
            if let a = tn as? AttributeNode { return AttributeAugAssignNode(op, a, vn, loc) }
            let general = AugAssignNode(op, tn, vn, loc)
            if op == .add || op == .sub, let k = intConstant(vn), tn is LocalNode || tn is GlobalNode {
                return NameAugAssignIntNode(general, constant: k)
            }
            if op == .add, let l = tn as? LocalNode, bindsNoName(v) {
                return LocalStrAppendNode(general, slot: l.slot)
            }
            return general
        case .annAssign(let t, let ann, let v, let simple):
            let assign = try v.map { AssignNode([try target(t, s)], try expr($0, s), loc) }
            // Annotations are evaluated only in modules and class bodies; a plain name's is
            // stored in `__annotations__` (CPython 3.11, without the annotations future).
            guard s.kind == .module || s.kind == .classBody else { return assign ?? PassNode(loc) }
            var store: (annotations: ExprNode, key: String)? = nil
            if simple, case .name(let n) = t.kind { store = (name("__annotations__", s, loc), n) }
            return AnnotatedAssignNode(assign: assign, annotation: try expr(ann, s), store: store, loc)
        // `topLevel` passes into compound statements (not def/class bodies): at the REPL,
        // `for x in r: x` echoes every x, as CPython's 'single' mode does.
        case .if(let test, let body, let orElse):
            return IfNode(try expr(test, s), try block(body, s, topLevel: topLevel), try optionalBlock(orElse, s, topLevel: topLevel), loc)
        case .while(let test, let body, let orElse):
            return WhileNode(try expr(test, s), try block(body, s, topLevel: topLevel), try optionalBlock(orElse, s, topLevel: topLevel), loc)
        case .for(let t, let iter, let body, let orElse, _):
            return ForNode(try target(t, s), try expr(iter, s), try block(body, s, topLevel: topLevel), try optionalBlock(orElse, s, topLevel: topLevel), loc)
        case .break: return BreakNode(loc)
        case .continue: return ContinueNode(loc)
        case .pass: return PassNode(loc)
        case .return(let e): return ReturnNode(try e.map { try expr($0, s) }, loc)
        case .functionDef(let def):
            let make = try function(st, name: def.name, params: def.params, body: def.body, s, loc: loc)
            return DefNode(make, decorators: try def.decorators.map { try expr($0, s) }, target: name(def.boundName, s, loc), loc)
        case .classDef(let c): return try classDef(st, c, s)
        case .try(let body, let handlers, let orElse, let fin):
            let hs = try handlers.map { h in
                HandlerNode(type: try h.type.map { try expr($0, s) }, target: h.name.map { name($0, s, h.loc) },
                            body: try block(h.body, s, topLevel: topLevel), loc: h.loc)
            }
            let kind: TryNode.Type = handlers.first?.isStar == true ? TryStarNode.self : TryNode.self
            return kind.init(try block(body, s, topLevel: topLevel), hs, try optionalBlock(orElse, s, topLevel: topLevel),
                             try optionalBlock(fin, s, topLevel: topLevel), loc)
        case .raise(let e, let c): return RaiseNode(try e.map { try expr($0, s) }, try c.map { try expr($0, s) }, loc)
        case .with(let items, let body, _):
            let its = try items.map { (context: try expr($0.context, s), target: try $0.target.map { try target($0, s) }) }
            return WithNode(its, try block(body, s, topLevel: topLevel), loc)
        case .global, .nonlocal: return PassNode(loc)
        case .delete(let targets): return DeleteNode(try targets.map { try target($0, s) }, loc)
        case .assert(let t, let m):
            checkAssertion(t)
            return AssertNode(try expr(t, s), try m.map { try expr($0, s) }, loc)
        case .import(let aliases):
            return ImportNode(aliases.map { a in
                let bindName = a.asName ?? String(a.name.split(separator: ".")[0])
                return (module: a.name, target: name(bindName, s, a.loc), bindsTop: a.asName == nil)
            }, loc)
        case .importFrom(let module, let names, let level):
            let m: String
            switch resolveRelative(module, level: level) {
            case .module(let name): m = name
            case .failure(let message): return RaiseImportErrorNode(message, loc)
            }
            let isStar = names.count == 1 && names[0].name == "*"
            return ImportFromNode(m, names.filter { $0.name != "*" }.map { (name: $0.name, target: name($0.asName ?? $0.name, s, $0.loc)) },
                                  isStar: isStar, loc)
        case .select:
            return UnsupportedStmtNode("select statements arrive with the concurrency runtime", loc)
        case .match(let subject, let cases):
            return MatchNode(try expr(subject, s), try cases.map { c in
                MatchNode.Case(pattern: try pattern(c.pattern, s), guardTest: try c.guardTest.map { try expr($0, s) },
                               body: try block(c.body, s, topLevel: topLevel))
            }, loc)
        }
    }

    /// Resolves a relative import against the module's `__package__` (see
    /// ``relativeImportTarget(_:package:level:)``). A script (or a top-level module) has no
    /// package: there `from .a import b` names the sibling module `a`, Conc's leniency for
    /// scripts that were written as parts of a package.
    func resolveRelative(_ module: String?, level: Int) -> RelativeImport {
        guard level > 0 else { return .module(module ?? "") }
        var package = ""
        if case .obj(let o)? = globals.get("__package__"), let p = (o as? PyStr)?.value { package = p }
        if package.isEmpty, let m = module { return .module(m) }
        return relativeImportTarget(module, package: package, level: level)
    }

    mutating func function(_ node: AnyObject, name fname: String, params: Parameters, body: [Stmt], _ s: Scope, loc: SourceLoc) throws -> ExprNode {
        guard let fs = analyzer.scopes[ObjectIdentifier(node)] else { throw syntaxError("internal: no scope for function", loc) }
        let code = makeCode(fs, loc: loc, params: params)
        var doc: Value = .none
        if case .expr(let first)? = body.first?.kind, case .constant(.string(let d)) = first.kind { doc = .str(d) }
        if node is Expr, !fs.hasYield, case .return(let e?)? = body.first?.kind, body.count == 1 {
            code.expression = try expr(e, fs)
        } else {
            code.body = try block(body, fs)
        }
        let defaults = try params.positional.compactMap { try $0.defaultValue.map { try expr($0, s) } }
        let kwDefaults = try params.keywordOnly.compactMap { p in try p.defaultValue.map { (p.name, try expr($0, s)) } }
        let annotations = try params.annotations.map { ($0.name, try expr($0.value, s)) }
        return MakeFunctionNode(code, defaults: defaults, kwDefaults: kwDefaults, annotations: annotations,
                                closure: closureSources(for: fs, in: s), doc: doc, loc)
    }

    mutating func classDef(_ st: Stmt, _ c: ClassDef, _ s: Scope) throws -> StmtNode {
        guard let cs = analyzer.scopes[ObjectIdentifier(st)] else { throw syntaxError("internal: no scope for class", st.loc) }
        let code = makeCode(cs, loc: st.loc, params: Parameters())
        code.body = withAnnotationsSetup(try block(c.body, cs), c.body, cs)
        var doc: String? = nil
        if case .expr(let first)? = c.body.first?.kind, case .constant(.string(let d)) = first.kind { doc = d }
        var starredBases = Set<Int>()
        let bases = try c.bases.enumerated().map { (i, b) -> ExprNode in
            guard case .starred(let inner) = b.kind else { return try expr(b, s) }
            starredBases.insert(i)
            return try expr(inner, s)
        }
        return ClassDefNode(name: c.name, qualname: cs.qualname, doc: doc, bases: bases, starredBases: starredBases,
                            keywords: try c.keywords.map { ($0.name, try expr($0.value, s)) }, bodyCode: code,
                            closure: closureSources(for: cs, in: s), decorators: try c.decorators.map { try expr($0, s) },
                            target: name(c.boundName, s, st.loc), st.loc)
    }

    // MARK: - Patterns

    /// A `case` pattern as a ``PatternNode``; the names it captures are assignment targets.
    mutating func pattern(_ p: Pattern, _ s: Scope) throws -> PatternNode {
        switch p.kind {
        case .value(let e): return ValuePatternNode(try expr(e, s), p.loc)
        case .singleton(let c): return SingletonPatternNode(c == .none ? .none : .bool(c == .true), p.loc)
        case .capture(let n): return CapturePatternNode(n.map { name($0, s, p.loc) }, p.loc)
        case .star: throw syntaxError("can't use starred pattern here", p.loc)
        case .sequence(let items):
            var nodes: [PatternNode] = []
            var star = -1
            var starTarget: ExprNode? = nil
            for (i, item) in items.enumerated() {
                if case .star(let n) = item.kind {
                    star = i
                    starTarget = n.map { name($0, s, item.loc) }
                    nodes.append(CapturePatternNode(nil, item.loc))  // a placeholder, never run
                } else {
                    nodes.append(try pattern(item, s))
                }
            }
            return SequencePatternNode(nodes, starIndex: star, starTarget: starTarget, p.loc)
        case .mapping(let keys, let values, let rest):
            return MappingPatternNode(keys: try keys.map { try expr($0, s) }, values: try values.map { try pattern($0, s) },
                                      rest: rest.map { name($0, s, p.loc) }, p.loc)
        case .classPattern(let cls, let positional, let keywords):
            return ClassPatternNode(cls: try expr(cls, s), positional: try positional.map { try pattern($0, s) },
                                    keywordNames: keywords.map(\.name), keywordPatterns: try keywords.map { try pattern($0.pattern, s) }, p.loc)
        case .or(let alternatives): return OrPatternNode(try alternatives.map { try pattern($0, s) }, p.loc)
        case .asPattern(let inner, let n): return AsPatternNode(try pattern(inner, s), name(n, s, p.loc), p.loc)
        }
    }

    // MARK: - Targets

    mutating func target(_ e: Expr, _ s: Scope) throws -> ExprNode {
        switch e.kind {
        case .name(let n): return name(n, s, e.loc)
        case .attribute(let o, let n): return AttributeNode(try expr(o, s), n, attributeLocation(e.loc, n))
        case .subscript(let o, let i): return SubscriptNode(try expr(o, s), try expr(i, s), e.loc)
        case .tuple(let items), .list(let items):
            var star = -1
            var nodes: [ExprNode] = []
            for (i, item) in items.enumerated() {
                if case .starred(let inner) = item.kind {
                    if star >= 0 { throw syntaxError("multiple starred expressions in assignment", e.loc) }  // the whole target, as CPython
                    star = i
                    nodes.append(StarTargetNode(try target(inner, s), item.loc))
                } else {
                    nodes.append(try target(item, s))
                }
            }
            let isList: Bool = { if case .list = e.kind { return true }; return false }()
            return UnpackTargetNode(nodes, starIndex: star, isList: isList, e.loc)
        case .starred:
            throw syntaxError("starred assignment target must be in a list or tuple", e.loc)
        default:
            throw syntaxError("cannot assign to expression", e.loc)
        }
    }
}

/// A statement form the runtime does not support yet: raises NotImplementedError when run.
/// What `from .name import ...` (`level` dots) names: the module, or the ImportError to
/// raise when the import runs.
enum RelativeImport {
    case module(String)
    case failure(String)
}

/// The absolute name of a relative import in `package`, as CPython resolves it: in package
/// `p.q`, `from . import a` names `p.q.a` and `from ..b import c` names `p.b` (for the
/// `from` statement and for `__import__` with a level).
func relativeImportTarget(_ module: String?, package: String, level: Int) -> RelativeImport {
    if package.isEmpty { return .failure("attempted relative import with no known parent package") }
    var parts = package.split(separator: ".").map(String.init)
    guard level - 1 < parts.count else { return .failure("attempted relative import beyond top-level package") }
    parts.removeLast(level - 1)
    let base = parts.joined(separator: ".")
    guard let module, !module.isEmpty else { return .module(base) }
    return .module(base + "." + module)
}

/// A relative import that cannot be resolved (no parent package, or beyond the top-level
/// one): ImportError when it runs, as in CPython.
final class RaiseImportErrorNode: StmtNode {
    let message: String
    init(_ m: String, _ loc: SourceLoc) { message = m; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion { throw pyError(Exc.importError, message) }
}

final class UnsupportedStmtNode: StmtNode {
    let message: String
    init(_ m: String, _ loc: SourceLoc) { message = m; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion { throw pyError(Exc.notImplementedError, message) }
}

/// Whether evaluating `e` surely binds no name of the running scope: it holds no `:=`
/// (checked on a whitelist of forms, so anything new counts as binding). A callee cannot
/// bind its caller's locals.
func bindsNoName(_ e: Expr) -> Bool {
    switch e.kind {
    case .name, .constant: return true
    case .attribute(let o, _): return bindsNoName(o)
    case .subscript(let o, let i): return bindsNoName(o) && bindsNoName(i)
    case .slice(let lo, let hi, let step):
        return [lo, hi, step].allSatisfy { $0.map(bindsNoName) ?? true }
    case .unary(_, let x): return bindsNoName(x)
    case .binary(_, let l, let r): return bindsNoName(l) && bindsNoName(r)
    case .tuple(let xs), .list(let xs): return xs.allSatisfy(bindsNoName)
    case .call(let fn, let args):
        return bindsNoName(fn) && args.allSatisfy {
            switch $0 {
            case .positional(let x), .star(let x), .keyword(_, let x), .doubleStar(let x): return bindsNoName(x)
            }
        }
    case .fstring(let parts): return fstringBindsNoName(parts)
    default: return false
    }
}

private func fstringBindsNoName(_ parts: [FStringPart]) -> Bool {
    parts.allSatisfy {
        if case .field(let x, _, let spec, _) = $0 { return bindsNoName(x) && (spec.map(fstringBindsNoName) ?? true) }
        return true
    }
}
