// eval() and exec(): source text compiled and run in the caller's variables, or in dicts.
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    func evalBuiltins() -> [(String, Value)] {
        [
            native("eval") { u, a in try u.evalOrExec(a, "eval") },
            native("exec") { u, a in _ = try u.evalOrExec(a, "exec"); return .none },
            native("compile") { u, a in try u.compileBuiltin(a) },
        ]
    }
}

/// What `compile()` returns: source checked for syntax errors now and compiled again by
/// exec()/eval() for the variables they run in (Conc resolves names to slots when it
/// compiles, so the code depends on where it runs).
final class PyCode: PyObject {
    let source: String
    let filename: String
    /// "exec", "eval" or "single".
    let mode: String
    init(source: String, filename: String, mode: String) {
        self.source = source; self.filename = filename; self.mode = mode
        super.init(type: Types.code)
    }
}

/// A function's `__code__`: CPython's code-object attributes read from the function's
/// compiled form (the names, counts and flags that introspection uses). Immutable.
final class PyFunctionCode: PyObject {
    let info: CodeInfo
    init(_ info: CodeInfo) {
        self.info = info
        super.init(type: Types.code)
    }

    /// co_varnames: the parameters (positional, keyword-only, *args, **kwargs), then the
    /// other local variables but those an inner function captures (co_cellvars), as CPython.
    var varNames: [String] {
        var names = info.positional + info.keywordOnly
        if info.varArgsSlot >= 0 { names.append(info.localNames[info.varArgsSlot]) }
        if info.varKeywordsSlot >= 0 { names.append(info.localNames[info.varKeywordsSlot]) }
        let captured = Set(info.cellSlots.map { info.localNames[$0] })
        for n in info.localNames where !names.contains(n) && !captured.contains(n) { names.append(n) }
        return names
    }

    /// co_flags: OPTIMIZED | NEWLOCALS, VARARGS 4, VARKEYWORDS 8, NESTED 16, GENERATOR 32,
    /// COROUTINE 128, ASYNC_GENERATOR 512.
    var flags: Int {
        var f = 3
        if info.varArgsSlot >= 0 { f |= 4 }
        if info.varKeywordsSlot >= 0 { f |= 8 }
        if !info.freeNames.isEmpty { f |= 16 }
        if info.isAsync { f |= info.isGenerator ? 512 : 128 } else if info.isGenerator { f |= 32 }
        return f
    }
}

func installCodeAttributes(_ t: PyType) {
    // A function's code (``PyFunctionCode``) answers from its CodeInfo; compile()'s
    // (``PyCode``) is module code, with the defaults of a `<module>`.
    func fn(_ v: Value) -> CodeInfo? { (v.object as? PyFunctionCode)?.info }
    func strs(_ a: [String]) -> Value { .obj(PyTuple(a.map { .str($0) })) }
    func filename(_ v: Value) -> String { fn(v)?.file.name ?? (v.object as? PyCode)?.filename ?? "" }
    t.getter("co_filename") { _, s in .str(filename(s)) }
    t.getter("co_name") { _, s in .str(fn(s)?.name ?? "<module>") }
    t.getter("co_qualname") { _, s in .str(fn(s)?.qualname ?? "<module>") }
    // A module's code starts at line 1 whatever its first statement's line, as in CPython.
    t.getter("co_firstlineno") { _, s in .int(fn(s).map { $0.name == "<module>" ? 1 : $0.loc.line } ?? 1) }
    t.getter("co_argcount") { _, s in .int(fn(s)?.positional.count ?? 0) }
    t.getter("co_posonlyargcount") { _, s in .int(fn(s)?.positionalOnlyCount ?? 0) }
    t.getter("co_kwonlyargcount") { _, s in .int(fn(s)?.keywordOnly.count ?? 0) }
    t.getter("co_varnames") { _, s in strs((s.object as? PyFunctionCode)?.varNames ?? []) }
    t.getter("co_nlocals") { _, s in .int((s.object as? PyFunctionCode)?.varNames.count ?? 0) }
    t.getter("co_freevars") { _, s in strs(fn(s)?.freeNames ?? []) }
    t.getter("co_cellvars") { _, s in strs(fn(s).map { c in c.cellSlots.map { c.localNames[$0] } } ?? []) }
    t.getter("co_flags") { _, s in .int((s.object as? PyFunctionCode)?.flags ?? 0) }
    t.getter("co_consts") { _, _ in .obj(PyTuple([])) }
    t.getter("co_names") { _, _ in .obj(PyTuple([])) }
    t.method("__repr__") { u, s, _ in
        .str("<code object \(fn(s)?.name ?? "<module>") at \(u.address(s.object!)), file \"\(filename(s))\", line \(fn(s)?.loc.line ?? 1)>")
    }
}

extension Unit {
    /// `eval(source, globals=None, locals=None)` / `exec(...)`, as CPython runs them:
    /// - no dicts: in the caller's module, reading (eval) the caller's local variables
    ///   through a snapshot dict when called inside a function (exec's assignments there go
    ///   to that dict, as CPython's do);
    /// - a `globals` dict: its entries are the module variables (written back afterwards),
    ///   and `locals` (if given, another dict) comes first for names, as a class body's.
    func evalOrExec(_ a: Args, _ name: String) throws -> Value {
        // eval takes its three by position only; exec adds a keyword-only `closure`
        // (only None: Conc's code objects have no free variables to fill).
        if name == "eval" { try a.expect(name, 1, 3) } else {
            try a.expectClinic(name, ["source", "globals", "locals", "closure"], posOnly: 3, required: 1, maxPositional: 3)
        }
        var text: String
        var filename = "<string>"
        var mode = name
        var compiledBefore = false   // compile() showed the warnings already
        switch a[0] {
        case .obj(let o as PyStr): text = o.value
        case .obj(let o as PyBytes): text = try decodeSourceArgument(o, filename)
        case .obj(let c as PyCode):
            text = c.source; filename = c.filename; mode = c.mode; compiledBefore = true
        default: throw typeError("\(name)() arg 1 must be a string, bytes or code object")
        }
        if let closure = a.keyword("closure"), !closure.isNone {
            throw typeError(compiledBefore ? "cannot use a closure with this code object"
                                           : "closure can only be used when source is a code object")
        }
        let globalsArg = a.argument(1, "globals").flatMap { $0.isNone ? nil : $0 }
        let localsArg = a.argument(2, "locals").flatMap { $0.isNone ? nil : $0 }
        var globalsDict: PyDict? = nil
        if let g = globalsArg {
            guard case .obj(let o) = g, let d = o as? PyDict else {
                throw typeError("\(name)() globals must be a dict, not \(g.typeName)")
            }
            globalsDict = d
        }
        var namespace: PyDict? = nil
        if let l = localsArg {
            guard case .obj(let o) = l, let d = o as? PyDict else {
                throw typeError("locals must be a mapping")
            }
            namespace = d
        }
        // The module variables the code sees.
        let caller = currentFrame
        var globals = caller?.globals ?? engine.mainGlobals
        var copyBack: PyDict? = nil
        if let d = globalsDict {
            if let g = d.globalsOf {
                globals = g  // globals() of a module, or a dict an earlier exec() adopted
                if g.isExecNamespace { copyBack = d }
            } else {
                // Only `__builtins__`, as CPython's exec adds to the dict; `__name__` is what
                // CPython's lookup finds there: the builtins module's own name.
                let g = Globals()
                g.set("__name__", .str("builtins"))
                g.set("__builtins__", .obj(engine.builtinsModule))
                for (k, v) in d.pairs { if let s = k.asStr?.value { g.set(s, v) } }
                g.adoptMirror(d)
                globals = g
                copyBack = d
            }
            if namespace === globalsDict { namespace = nil }
        } else if namespace == nil, let f = caller {
            // The caller's local variables: a class body's namespace, or a snapshot of a
            // function's (CPython's exec cannot rebind them either).
            if let ns = f.classNamespace {
                namespace = ns
            } else if f.function != nil {
                namespace = callerLocals()  // its locals and the free variables it uses
            }
        }
        // A `__builtins__` dict in the globals replaces the builtins (CPython's sandbox idiom,
        // `eval(s, {"__builtins__": {}})`); the builtins module, or none, means the usual ones.
        var builtins = engine.builtins
        var builtinsModule: Globals? = engine.builtinsModule.globals
        if let d = globalsDict, d.globalsOf?.isExecNamespace ?? true, let b = try d.get(self, .str("__builtins__")),
           case .obj(let o) = b, let table = o as? PyDict {
            builtins = [:]
            builtinsModule = nil
            for (k, v) in table.pairs { if let n = k.asStr?.value { builtins[n] = v } }
        }
        do {
            return try compileAndRunDynamic(text, filename: filename, mode: mode, globals: globals, builtins: builtins,
                                            builtinsModule: builtinsModule, namespace: namespace, copyBack: copyBack, showWarnings: !compiledBefore)
        } catch let s as SyntaxError {
            throw engine.syntaxErrorException(s, evalSource: mode == "exec" ? nil : text)  // catchable, as CPython's
        }
    }

    /// The text of bytes given as source: PEP 263's coding comment, else UTF-8; a
    /// catchable SyntaxError when they do not decode.
    private func decodeSourceArgument(_ b: PyBytes, _ filename: String) throws -> String {
        do {
            return try decodeSource(b.snapshot, fileName: filename, origin: .compiled)
        } catch let s as SyntaxError {
            throw engine.syntaxErrorException(s)
        }
    }

    /// `mode`: "eval" (an expression, whose value is returned), "exec" (statements) or
    /// "single" (statements echoing their expressions' values, as the REPL does).
    private func compileAndRunDynamic(_ text: String, filename: String, mode: String, globals: Globals,
                                      builtins: [String: Value], builtinsModule: Globals?, namespace: PyDict?, copyBack: PyDict?,
                                      showWarnings: Bool) throws -> Value {
        let isEval = mode == "eval"
        // eval's source may start with spaces or tabs, which CPython strips.
        let file = SourceFile(name: filename, text: isEval ? String(text.drop(while: { $0 == " " || $0 == "\t" })) : text,
                              linesInTracebacks: namesAFile(filename))
        var warnings: [CompileWarning] = []
        let code: CodeInfo = try withCompilerStack(for: text) {
            var compiler = Compiler(file: file, globals: globals, builtins: builtins, builtinsModule: builtinsModule,
                                    isInteractive: mode == "single",
                                    interned: engine.internedStrings)
            defer { warnings = compiler.warnings }
            if isEval {
                let e = try Parser.parseExpression(file)
                return namespace == nil ? try compiler.compileExpression(e)
                    : try compiler.compileNamespaceCode([], expression: e, loc: e.loc)
            }
            let module = try Parser.parseModule(file)
            return namespace == nil ? try compiler.compileModule(module.body)
                : try compiler.compileNamespaceCode(module.body, expression: nil, loc: module.body.first?.loc ?? .unknown)
        }
        if showWarnings { try showCompileWarnings(warnings, file: file) }
        defer {
            if let d = copyBack {
                for n in globals.boundNames where n != "__name__" && n != "__file__" {
                    // A fresh module's `__doc__ = None` is not the code's: CPython's exec adds
                    // only `__builtins__` to the dict.
                    if n == "__doc__", globals.get(n)?.isNone == true { continue }
                    if let v = globals.get(n) { d.set(self, n, v) }
                }
                // Names the code deleted (`del x`) leave the dict too, as CPython's exec
                // deletes from the dict itself.
                for k in d.keys {
                    if let n = k.asStr?.value, globals.get(n) == nil { _ = try? d.remove(self, k) }
                }
            }
        }
        return try runDynamic(code, globals: globals, namespace: namespace)
    }

    /// `compile(source, filename, mode, flags=0, dont_inherit=False, optimize=-1)`: checks
    /// the source now (a SyntaxError names `filename`) and returns a code object for
    /// exec() and eval().
    func compileBuiltin(_ a: Args) throws -> Value {
        try a.expectNamed("compile", 3, 6, names: ["source", "filename", "mode", "flags", "dont_inherit", "optimize", "_feature_version"])
        guard let src = a.argument(0, "source"), let fn = a.argument(1, "filename"), let m = a.argument(2, "mode") else {
            throw typeError("compile() missing required argument 'source' (pos 1)")
        }
        guard let filename = fn.asStr?.value else {
            throw typeError("expected str, bytes or os.PathLike object, not \(fn.typeName)")
        }
        let text: String
        switch src {
        case .obj(let o as PyStr): text = o.value
        case .obj(let o as PyBytes): text = try decodeSourceArgument(o, filename)
        case .obj(let c as PyCode): return .obj(c)
        default: throw typeError("compile() arg 1 must be a string, bytes or AST object")
        }
        guard let mode = m.asStr?.value else { throw typeError("compile() argument 'mode' must be str, not \(m.argTypeName)") }
        guard ["exec", "eval", "single"].contains(mode) else {
            throw valueError("compile() mode must be 'exec', 'eval' or 'single'")
        }
        if let flags = a.argument(3, "flags"), case .int(let f) = flags, f != 0, f & 0x2000_0000 == 0 {
            // Only `from __future__` flags mean anything to Conc; the AST flags need `ast`.
            throw valueError("compile(): unrecognised flags")
        }
        var warnings: [CompileWarning] = []
        let file = SourceFile(name: filename, text: mode == "eval" ? String(text.drop(while: { $0 == " " || $0 == "\t" })) : text,
                              linesInTracebacks: namesAFile(filename))
        do {
          try withCompilerStack(for: text) {
            // Compiled once here, for the errors the compiler finds too (scopes, `:=` in
            // comprehensions...); exec()/eval() compile again for their variables.
            var compiler = Compiler(file: file, globals: engine.newGlobals(name: "__main__", file: nil), builtins: engine.builtins,
                                    builtinsModule: nil)
            defer { warnings = compiler.warnings }
            if mode == "eval" { _ = try compiler.compileExpression(try Parser.parseExpression(file)) } else {
                let module = try Parser.parseModule(file)
                _ = try compiler.compileModule(module.body)
                // One interactive statement: a compound statement, or simple statements on
                // one line (`a = 1; print(a)`), as CPython's single_input.
                if mode == "single", let first = module.body.first,
                   module.body.dropFirst().contains(where: { $0.loc.line != first.loc.line }) {
                    let line = module.body[0].loc.line
                    let text = file.line(line)
                    throw SyntaxError(message: "multiple statements found while compiling a single statement", file: filename,
                                      line: line, column: text.unicodeScalars.count + 1, text: text)
                }
            }
          }
        } catch let s as SyntaxError {
            throw engine.syntaxErrorException(s, evalSource: mode == "exec" ? nil : text)
        }
        try showCompileWarnings(warnings, file: file)
        return .obj(PyCode(source: text, filename: filename, mode: mode))
    }

    /// Runs eval/exec code in a frame of its own (locals reserved on the unit's stack).
    private func runDynamic(_ code: CodeInfo, globals: Globals, namespace: PyDict?) throws -> Value {
        try checkRecursion()
        let n = code.localCount
        let base = stackTop
        let locals = stack + base
        locals.initialize(repeating: .unbound, count: n)
        stackTop = base + n
        defer { locals.deinitialize(count: n); stackTop = base }
        let f = frame(locals: locals, code: code, globals: globals)
        f.function = nil
        f.classNamespace = namespace
        f.line = code.loc.line  // an expression sets no line of its own (the frame is pooled)
        depth += 1
        let caller = enterFrame(f)
        defer { depth -= 1; leaveFrame(caller); f.classNamespace = nil }
        do {
            if let e = code.expression { return try e.eval(f) }
            _ = try code.body.exec(f)
            return .none
        } catch let e as PyBaseException {
            e.needsLocation = true
            throw e
        }
    }
}

/// Whether `exec`/`compile` code named `filename` gets source lines in tracebacks: as in
/// CPython, only when a file of that name exists (linecache reads lines from it; Conc shows
/// the compiled text's own).
private func namesAFile(_ filename: String) -> Bool {
    !filename.hasPrefix("<") && access(filename, F_OK) == 0
}
