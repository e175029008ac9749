// The `class` statement: run the body in a fresh namespace, then build the class.
import ConcSyntax

final class ClassDefNode: StmtNode {
    let name: String
    let qualname: String
    /// The docstring (the body's first statement, a string), for `__doc__`.
    let doc: String?
    let bases: [ExprNode]
    /// The positions in `bases` written `*expr` (each item of the iterable is a base).
    let starredBases: Set<Int>
    let keywords: [(String, ExprNode)]
    /// The class body, compiled as a code object whose names live in the namespace dict.
    let bodyCode: CodeInfo
    let closure: [ClosureSource]
    let decorators: [ExprNode]
    let target: ExprNode
    init(name: String, qualname: String, doc: String?, bases: [ExprNode], starredBases: Set<Int> = [],
         keywords: [(String, ExprNode)], bodyCode: CodeInfo,
         closure: [ClosureSource], decorators: [ExprNode], target: ExprNode, _ loc: SourceLoc) {
        self.name = name; self.qualname = qualname; self.doc = doc; self.bases = bases; self.keywords = keywords
        self.starredBases = starredBases
        self.bodyCode = bodyCode; self.closure = closure; self.decorators = decorators; self.target = target
        super.init(loc)
    }

    override func exec(_ f: Frame) throws -> Completion {
        let u = f.unit
        let decos = try decorators.map { try $0.eval(f) }
        var baseValues: [(Value, SourceLoc)] = []
        for (i, b) in bases.enumerated() {
            let v = try b.eval(f)
            if starredBases.contains(i) {
                do { baseValues += try u.toArray(v).map { ($0, b.loc) } } catch { throw located(error, f, b.loc) }
            } else {
                baseValues.append((v, b.loc))
            }
        }
        // A base that is not a class names its replacements with __mro_entries__ (PEP 560:
        // `class Stack(Generic[T])`); the class then keeps the originals in __orig_bases__.
        var originalBases: PyTuple? = nil
        var baseTypes: [PyType] = []
        // Every base as written (after __mro_entries__); when one is not a class, as
        // CPython's __build_class__, the type of a base chooses the metaclass (`class A(0)`
        // calls int("A", (0,), namespace)) and no class is made here.
        var allBases: [Value] = []
        func addBase(_ v: Value, _ at: SourceLoc) throws {
            allBases.append(v)
            guard case .obj(let o) = v, let t = o as? PyType else { return }
            baseTypes.append(t)
        }
        for (v, at) in baseValues {
            if case .obj(let o) = v, o is PyType {
                try addBase(v, at)
                continue
            }
            let entries: Value
            do {
                guard let hook = try u.getAttrOrNil(v, "__mro_entries__") else {
                    try addBase(v, at)
                    continue
                }
                if originalBases == nil { originalBases = PyTuple(baseValues.map { $0.0 }) }
                entries = try u.call(hook, [.obj(originalBases!)])
            } catch { throw located(error, f, at) }
            guard case .obj(let e) = entries, let replacement = e as? PyTuple, e.type === Types.tuple else {
                throw located(typeError("__mro_entries__ must return a tuple"), f, at)
            }
            for r in replacement.items { try addBase(r, at) }
        }
        let sawNonTypeBase = allBases.count != baseTypes.count
        // (Bases that cannot be combined, or a base class that cannot be one, are type's
        // complaint when it makes the class, after `__prepare__` and the body ran.)
        // `metaclass=` chooses the class of the class; the other keywords go to the
        // metaclass call and from there to the base's __init_subclass__.
        var explicitMetaclass: Value? = nil
        var classKeywords: [(name: String, value: Value)] = []
        for (k, e) in keywords {
            let v = try e.eval(f)
            if k == "metaclass" {
                explicitMetaclass = v
            } else if k == "**" {
                guard case .obj(let o) = v, let d = o as? PyDict else {
                    throw located(typeError("argument after ** must be a mapping, not \(v.typeName)"), f, e.loc)
                }
                for (dk, dv) in d.pairs {
                    if dk.asStr?.value == "metaclass" { explicitMetaclass = dv } else { classKeywords.append((try u.str(dk), dv)) }
                }
            } else {
                classKeywords.append((k, v))
            }
        }
        let module = u.engine.moduleName(of: f.globals)
        var metaclass: PyType? = Types.type
        do {
            if let m = explicitMetaclass, !(m.object is PyType) {
                metaclass = nil
            } else if sawNonTypeBase {
                metaclass = try PyType.winningMetaclass(explicitMetaclass?.object as? PyType ?? allBases[0].type,
                                                        metaclassesOf: allBases.map { $0.type })
            } else if let m = explicitMetaclass?.object as? PyType {
                metaclass = try PyType.winningMetaclass(m, baseTypes)
            } else {
                metaclass = try PyType.winningMetaclass(Types.type, baseTypes)
            }
        } catch { throw located(error, f, loc, .statement) }
        let basesTuple = Value.obj(PyTuple(allBases))
        let namespace: PyDict
        if let meta = metaclass, meta !== Types.type, let prepare = meta.lookup("__prepare__") {
            let made: Value
            do {
                made = try u.call(u.bindClassAttribute(prepare, to: .obj(meta)), Args([.str(name), basesTuple], keywords: classKeywords))
            } catch { throw located(error, f, loc, .statement) }
            guard case .obj(let o) = made, let d = o as? PyDict else {
                throw located(typeError("\(meta.name).__prepare__() must return a mapping, not \(made.typeName)"), f, loc, .statement)
            }
            namespace = d
        } else {
            namespace = PyDict()
        }
        do {
            try u.namespaceSet(namespace, .str("__module__"), .str(module))
            try u.namespaceSet(namespace, .str("__qualname__"), .str(qualname))
            if let d = doc { try u.namespaceSet(namespace, .str("__doc__"), .str(d)) }  // type() adds None when absent
        } catch { throw located(error, f, loc, .statement) }
        let defined = try runBody(namespace, f)
        if let originals = originalBases {
            do { try u.namespaceSet(namespace, .str("__orig_bases__"), .obj(originals)) } catch { throw located(error, f, loc, .statement) }
        }
        var cls: Value
        do {
            if let meta = metaclass, meta === Types.type, !sawNonTypeBase {
                cls = .obj(try u.createClass(metaclass: meta, name: name, bases: baseTypes, namespace: namespace,
                                             keywords: classKeywords, module: module))
            } else {
                // A metaclass (or any callable given as one) makes the class:
                // `metaclass(name, bases, namespace, **keywords)`.
                let callee = metaclass.map { Value.obj($0) } ?? explicitMetaclass!
                cls = try u.call(callee, Args([.str(name), basesTuple, .obj(namespace)], keywords: classKeywords))
            }
            // Before the decorators, as CPython's type.__new__ fills the `__class__` cell.
            if case .obj(let o) = cls, let t = o as? PyType { for fn in defined { fn.claim(by: t) } }
            for i in decos.indices.reversed() {
                do { cls = try u.call(decos[i], [cls]) } catch { throw located(error, f, decorators[i].loc) }
            }
        } catch { throw located(error, f, loc, .statement) }
        try target.assign(f, cls)
        return .normal
    }

    /// Runs the class body in `ns`; returns the functions it defined.
    private func runBody(_ ns: PyDict, _ f: Frame) throws -> [PyFunction] {
        let u = f.unit
        let fn = PyFunction(code: bodyCode, globals: f.globals, moduleName: "", closure: collectClosure(closure, f), defaults: [], kwDefaults: [:])
        try u.checkRecursion()
        let n = bodyCode.localCount
        let base = u.stackTop
        let locals = u.stack + base
        locals.initialize(repeating: .unbound, count: n)
        u.stackTop = base + n
        defer { locals.deinitialize(count: n); u.stackTop = base }
        let frame = u.frame(locals: locals, code: bodyCode, globals: f.globals)
        frame.function = fn
        frame.classNamespace = ns
        frame.classBodyFunctions = []
        u.depth += 1
        let caller = u.enterFrame(frame)
        defer { u.depth -= 1; u.leaveFrame(caller); frame.classNamespace = nil; frame.classBodyFunctions = nil }
        do { _ = try bodyCode.body.exec(frame) } catch let e as PyBaseException { e.needsLocation = true; throw e }
        return frame.classBodyFunctions ?? []
    }
}
