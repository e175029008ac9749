// The `class` statement: run the body in a fresh namespace, then build the class.
import ConcSyntax

final class ClassDefNode: StmtNode {
    let name: String
    let qualname: String
    /// The docstring (the body's first statement, a string), for `__doc__`.
    let doc: String?
    let bases: [ExprNode]
    let keywords: [(String, ExprNode)]
    /// The class body, compiled as a code object whose names live in the namespace dict.
    let bodyCode: CodeInfo
    let closure: [ClosureSource]
    let decorators: [ExprNode]
    let target: ExprNode
    init(name: String, qualname: String, doc: String?, bases: [ExprNode], keywords: [(String, ExprNode)], bodyCode: CodeInfo,
         closure: [ClosureSource], decorators: [ExprNode], target: ExprNode, _ loc: SourceLoc) {
        self.name = name; self.qualname = qualname; self.doc = doc; self.bases = bases; self.keywords = keywords
        self.bodyCode = bodyCode; self.closure = closure; self.decorators = decorators; self.target = target
        super.init(loc)
    }

    override func exec(_ f: Frame) throws -> Completion {
        let u = f.unit
        let decos = try decorators.map { try $0.eval(f) }
        var baseTypes: [PyType] = []
        for b in bases {
            let v = try b.eval(f)
            guard case .obj(let o) = v, let t = o as? PyType else {
                throw located(typeError("bases must be types"), f, b.loc)
            }
            // Primitives and handles are C-backed objects with no room for a subclass's
            // attributes (CPython refuses bool the same way).
            if Types.primitives.contains(where: { $0 === t }) || t === Types.unitHandle {
                throw located(typeError("type '\(t.name)' is not an acceptable base type (keep one as an attribute of your class instead)"), f, b.loc)
            }
            // As in CPython: True and False are the only bools; None, ranges, slices and
            // functions have no subclasses either.
            if t === Types.bool || t === Types.noneType || t === Types.range || t === Types.slice || t === Types.function {
                throw located(typeError("type '\(t.name)' is not an acceptable base type"), f, b.loc)
            }
            baseTypes.append(t)
        }
        if let problem = PyType.basesConflict(baseTypes) { throw located(typeError(problem), f, loc) }
        // Class keywords other than `metaclass` go to the base's __init_subclass__.
        var classKeywords: [(name: String, value: Value)] = []
        for (k, e) in keywords where k != "metaclass" {
            let v = try e.eval(f)
            if k == "**" {
                guard case .obj(let o) = v, let d = o as? PyDict else {
                    throw located(typeError("argument after ** must be a mapping, not \(v.typeName)"), f, e.loc)
                }
                for (dk, dv) in d.pairs { classKeywords.append((try u.str(dk), dv)) }
            } else {
                classKeywords.append((k, v))
            }
        }
        let namespace = PyDict()
        namespace.set(u, "__module__", .str(u.engine.moduleName(of: f.globals)))
        namespace.set(u, "__qualname__", .str(qualname))
        namespace.set(u, "__doc__", doc.map { .str($0) } ?? .none)
        try runBody(namespace, f)
        let made = try makeClass(u, namespace, baseTypes, module: u.engine.moduleName(of: f.globals))
        do { try announce(made, u, classKeywords) } catch { throw located(error, f, loc) }
        var cls: Value = .obj(made)
        do { for d in decos.reversed() { cls = try u.call(d, [cls]) } } catch { throw located(error, f, loc) }
        try target.assign(f, cls)
        return .normal
    }

    private func runBody(_ ns: PyDict, _ f: Frame) throws {
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
        u.depth += 1
        defer { u.depth -= 1; frame.classNamespace = nil }
        do { _ = try bodyCode.body.exec(frame) } catch let e as PyBaseException { e.needsLocation = true; throw e }
    }

    /// Builds the class object from the executed namespace.
    private func makeClass(_ u: Unit, _ ns: PyDict, _ bases: [PyType], module: String) throws -> PyType {
        let cls = PyType(name: name, bases: bases.isEmpty ? [Types.object] : bases, builtin: false, module: module)
        cls.qualname = qualname
        for (k, v) in ns.pairs {
            guard let key = k.asStr?.value else { continue }
            // As in CPython, these two are class methods without the decorator.
            if key == "__init_subclass__" || key == "__class_getitem__", case .obj(let o) = v, o is PyFunction {
                cls.dict[key] = .obj(PyClassMethod(v))
            } else {
                cls.dict[key] = v
            }
            claimMethod(v, cls)
        }
        if cls.dict["__eq__"] != nil && cls.dict["__hash__"] == nil { cls.dict["__hash__"] = Value.none }
        return cls
    }

    /// What CPython does once the class exists: `__set_name__(cls, name)` on each attribute
    /// whose class defines it, then the nearest base's `__init_subclass__(**keywords)`.
    private func announce(_ cls: PyType, _ u: Unit, _ keywords: [(name: String, value: Value)]) throws {
        for (name, v) in cls.namespacePairs {
            guard case .obj(let o) = v, !o.typeIsBuiltin, let setName = o.type.lookup("__set_name__") else { continue }
            _ = try u.call(u.bindClassAttribute(setName, to: v), [.obj(cls), .str(name)])
        }
        for t in cls.mro.dropFirst() {
            guard let hook = t.ownAttribute("__init_subclass__", hash: nameHash("__init_subclass__")) else { continue }
            let bound = u.bindClassAttribute(hook, to: .obj(cls))
            _ = try u.call(bound, Args([], keywords: keywords))
            return
        }
    }

    /// Remembers which class defined each function (zero-argument `super()` needs it).
    private func claimMethod(_ v: Value, _ cls: PyType) {
        guard case .obj(let o) = v else { return }
        switch o {
        case let fn as PyFunction: fn.claim(by: cls)
        case let s as PyStaticMethod: claimMethod(s.function, cls)
        case let c as PyClassMethod: claimMethod(c.function, cls)
        case let p as PyProperty: claimMethod(p.getter, cls); claimMethod(p.setter, cls); claimMethod(p.deleter, cls)
        default: break
        }
    }
}
