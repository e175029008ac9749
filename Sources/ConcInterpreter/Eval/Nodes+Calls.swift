// Call expressions. Plain positional calls of Conc functions and method calls take fast
// paths that bind arguments straight into the callee's stack slots.
import ConcSyntax

/// One argument at a call site.
enum ArgNode {
    case positional(ExprNode)
    case star(ExprNode)
    case keyword(String, ExprNode)
    case doubleStar(ExprNode)
}

/// Evaluates plain positional arguments and calls `body` with them: up to three are kept
/// inline in ``Args``, so native calls allocate nothing for their arguments.
@inline(__always)
func withPositionalArguments(_ nodes: ContiguousArray<ExprNode>, _ f: Frame, _ body: (Args) throws -> Value) throws -> Value {
    var a = Args(inline: ())
    for n in nodes { a.append(try n.eval(f)) }
    return try body(a)
}

/// Evaluates call-site arguments into ``Args``.
func evaluateArguments(_ args: [ArgNode], _ f: Frame, prepend: Value? = nil) throws -> Args {
    var positional: [Value] = []
    var keywords: [(name: String, value: Value)] = []
    positional.reserveCapacity(args.count + 1)
    if let p = prepend { positional.append(p) }
    for arg in args {
        switch arg {
        case .positional(let e): positional.append(try e.eval(f))
        case .star(let e):
            let v = try e.eval(f)
            do { positional.append(contentsOf: try f.unit.toArray(v)) }
            catch let err as PyBaseException where err.type === Exc.typeError {
                throw typeError("Value after * must be an iterable, not \(v.typeName)")
            }
        case .keyword(let name, let e): keywords.append((name, try e.eval(f)))
        case .doubleStar(let e):
            let v = try e.eval(f)
            guard case .obj(let o) = v, let d = o as? PyDict else {
                throw typeError("argument after ** must be a mapping, not \(v.typeName)")
            }
            for (k, x) in d.pairs {
                guard let s = k.asStr else { throw typeError("keywords must be strings") }
                keywords.append((s.value, x))
            }
        }
    }
    return Args(positional, keywords: keywords)
}

extension Unit {
    /// Calls `fn` with `receiver` (if any) and positional argument expressions evaluated
    /// directly into its slots. The caller checked `canCallDirect`.
    @inline(__always)
    func callDirect(_ fn: PyFunction, receiver: Value?, _ argNodes: ContiguousArray<ExprNode>, _ f: Frame) throws -> Value {
        let code = fn.code
        let n = code.localCount
        let base = stackTop
        guard base + n <= stackCapacity else { throw pyError(Exc.recursionError, "maximum recursion depth exceeded") }
        let locals = stack + base
        locals.initialize(repeating: .unbound, count: n)
        stackTop = base + n
        defer { locals.deinitialize(count: n); stackTop = base }
        var i = 0
        if let r = receiver { locals[0] = r; i = 1 }
        try argNodes.withUnsafeBufferPointer { nodes in
            for a in nodes { locals[i] = try a.eval(f); i += 1 }
        }
        let npos = code.positional.count
        if i < npos {
            let firstDefault = npos - fn.defaults.count
            while i < npos { locals[i] = fn.defaults[i - firstDefault]; i += 1 }
        }
        return try run(fn, locals)
    }
}

extension PyFunction {
    /// True when a call with `given` positional arguments and nothing else can bind directly.
    @inline(__always) func canCallDirect(_ given: Int) -> Bool {
        let c = code
        return c.hasOnlyPositional && given <= c.positional.count && given >= c.positional.count - defaults.count
    }
}

/// `callee(args...)`.
final class CallNode: ExprNode {
    let callee: ExprNode
    let args: [ArgNode]
    /// The positional argument expressions when every argument is a plain positional one.
    let simpleArgs: ContiguousArray<ExprNode>?
    init(_ callee: ExprNode, _ args: [ArgNode], _ loc: SourceLoc) {
        self.callee = callee; self.args = args
        var simple: ContiguousArray<ExprNode>? = []
        for a in args { if case .positional(let e) = a { simple!.append(e) } else { simple = nil; break } }
        simpleArgs = simple
        super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        let c = try callee.eval(f)
        do {
            if let simple = simpleArgs, case .obj(let o) = c {
                if let fn = o as? PyFunction, fn.canCallDirect(simple.count) {
                    return try f.unit.callDirect(fn, receiver: nil, simple, f)
                }
                if let m = o as? PyBoundMethod, case .obj(let mo) = m.function, let fn = mo as? PyFunction,
                   fn.canCallDirect(simple.count + 1) {
                    return try f.unit.callDirect(fn, receiver: m.receiver, simple, f)
                }
                if let t = o as? PyType, t.constructor == nil, !t.isBuiltin {
                    let hooks = t.creationHooks(f.unit.classEpoch)
                    if hooks.userNew == nil, !hooks.hasBuiltinBase, let initFn = hooks.userInit, initFn.canCallDirect(simple.count + 1),
                       !t.isSubtype(of: Exc.baseException) {
                        let instance: Value = .obj(PyInstance(cls: t))
                        let r = try f.unit.callDirect(initFn, receiver: instance, simple, f)
                        if !r.isNone { throw typeError("__init__() should return None, not '\(r.typeName)'") }
                        return instance
                    }
                }
            }
            if let simple = simpleArgs, case .obj(let o) = c {
                if let b = o as? PyBuiltinFunction {
                    return try withPositionalArguments(simple, f) { try b.fn(f.unit, $0) }
                }
                // `str(x)`, `int(s)`, `float(s)`: a builtin type's native constructor, as
                // `Unit.instantiate` would call it, with inline arguments.
                if let t = o as? PyType, t.isBuiltin, t !== Types.type, let ctor = t.constructor {
                    return try withPositionalArguments(simple, f) { try ctor(f.unit, t, $0) }
                }
            }
            return try f.unit.call(c, try evaluateArguments(args, f))
        } catch { throw located(error, f, loc) }
    }
}

/// `obj.name(args...)`: calls the method without creating a bound-method object.
final class MethodCallNode: ExprNode {
    let object: ExprNode
    let name: String
    let hash: Int
    let args: [ArgNode]
    let simpleArgs: ContiguousArray<ExprNode>?
    /// The span of `obj.name` (where CPython reports a failed method lookup).
    let attributeLoc: SourceLoc
    init(_ object: ExprNode, _ name: String, _ args: [ArgNode], attributeLoc: SourceLoc, _ loc: SourceLoc) {
        self.object = object; self.name = name; self.args = args; self.attributeLoc = attributeLoc
        self.hash = nameHash(name)
        var simple: ContiguousArray<ExprNode>? = []
        for a in args { if case .positional(let e) = a { simple!.append(e) } else { simple = nil; break } }
        simpleArgs = simple
        super.init(loc)
    }
    // Inline cache: receivers whose layout is `cacheKey` (an instance Shape, or a builtin
    // PyType) resolve `name` to `cacheMethod` in `cacheEpoch`. Written only while units do
    // not run in parallel (`!ObjectLocks.active`: three fields written by one unit while
    // another reads them would be torn); read always, validated by key identity and epoch.
    // While units run in parallel the node publishes immutable entries through
    // `parallelCache` instead (ParallelCache.swift).
    private var cacheKey: AnyObject?
    private var cacheMethod: PyObject?
    private var cacheEpoch = -1
    private let parallelCache = ParallelCacheWord()
    // Cache for receivers of a builtin type (`s.strip()`, `xs.append(x)`): builtin types
    // never change, so `builtinMethod` stays right for receivers of exactly `builtinType`
    // in every epoch, and neither is ever freed (builtin types and their method
    // descriptors are immortal), so they are held without reference counting. Written only
    // while units do not run in parallel, like the fields above.
    // (An identifier and an unmanaged reference: an `unowned(unsafe)` field is still
    // retained when loaded into a local.)
    private var builtinType: ObjectIdentifier? = nil
    private var builtinMethod: Unmanaged<PyMethodDescriptor>? = nil

    /// Calls the cached builtin method `d` on `recv` (no closure, so nothing is captured).
    @inline(__always) private func callBuiltin(_ d: PyMethodDescriptor, _ recv: Value, _ f: Frame) throws -> Value {
        guard let simple = simpleArgs else { return try d.fn(f.unit, recv, try evaluateArguments(args, f)) }
        var a = Args(inline: ())
        for n in simple { a.append(try n.eval(f)) }
        return try d.fn(f.unit, recv, a)
    }

    /// The cached method for receivers of layout `key` in `epoch`, if any.
    @inline(__always) private func cachedMethod(_ key: AnyObject, _ epoch: Int) -> PyObject? {
        if key === cacheKey && cacheEpoch == epoch, let m = cacheMethod { return m }
        if let e = parallelCache.entry(MethodCacheEntry.self), e.key === key, e.epoch == epoch { return e.method }
        return nil
    }

    override func eval(_ f: Frame) throws -> Value {
        let recv = try object.eval(f)
        do {
            if let bt = builtinType, case .obj(let o) = recv, o.hasType(bt), let bm = builtinMethod {
                return try callBuiltin(bm.takeUnretainedValue(), recv, f)
            }
        } catch { throw located(error, f, loc) }
        let u = f.unit
        do {
            if case .obj(let o) = recv {
                let key: AnyObject = (o as? PyInstance)?.currentShape ?? o.type
                if let m = cachedMethod(key, u.classEpoch) {
                    if let fn = m as? PyFunction {
                        if let simple = simpleArgs, fn.canCallDirect(simple.count + 1) {
                            return try u.callDirect(fn, receiver: recv, simple, f)
                        }
                        return try u.callFunction(fn, try evaluateArguments(args, f, prepend: recv))
                    }
                    let d = m as! PyMethodDescriptor
                    if let simple = simpleArgs { return try withPositionalArguments(simple, f) { try d.fn(u, recv, $0) } }
                    return try d.fn(u, recv, try evaluateArguments(args, f))
                }
            }
            if case .obj(let o) = recv, !(o is PyType), !(o is PyModule), !(o is PySuper) {
                let inst = o as? PyInstance
                // The shape and whether it has a slot for `name`, in one critical section.
                let (shape, shadowed): (Shape?, Bool) = inst?.locked {
                    let s = inst!.shape
                    guard let i = s.index.get(name, hash: hash) else { return (s, false) }
                    return (s, !inst!.slots[i].isUnbound)
                } ?? (nil, false)
                let epoch = u.classEpoch
                if !shadowed, let attr = o.type.lookup(name, hash: hash), case .obj(let m) = attr {
                    if m is PyFunction || m is PyMethodDescriptor, shape?.index.get(name, hash: hash) == nil {
                        if !ObjectLocks.active {
                            cacheKey = shape ?? o.type
                            cacheMethod = m
                            cacheEpoch = epoch
                            if inst == nil, o.type.isBuiltin, let d = m as? PyMethodDescriptor {
                                builtinMethod = Unmanaged.passUnretained(d)
                                builtinType = ObjectIdentifier(o.type)
                            }
                        } else if parallelCache.canPublish {
                            parallelCache.publish(MethodCacheEntry(epoch: epoch, key: shape ?? o.type, method: m))
                        }
                    }
                    if let fn = m as? PyFunction {
                        if let simple = simpleArgs, fn.canCallDirect(simple.count + 1) {
                            return try u.callDirect(fn, receiver: recv, simple, f)
                        }
                        return try u.callFunction(fn, try evaluateArguments(args, f, prepend: recv))
                    }
                    if let d = m as? PyMethodDescriptor {
                        return try d.fn(u, recv, try evaluateArguments(args, f))
                    }
                }
            } else if case .obj = recv {
                // classes, modules, super(): ordinary attribute lookup
            } else if let attr = recv.type.lookup(name), case .obj(let m) = attr, let d = m as? PyMethodDescriptor {
                return try d.fn(u, recv, try evaluateArguments(args, f))
            }
            let callee: Value
            do { callee = try u.getAttr(recv, name) } catch { throw located(error, f, attributeLoc) }
            if let simple = simpleArgs, case .obj(let o) = callee, let fn = o as? PyFunction, fn.canCallDirect(simple.count) {
                return try u.callDirect(fn, receiver: nil, simple, f)
            }
            return try u.call(callee, try evaluateArguments(args, f))
        } catch { throw located(error, f, loc) }
    }
}

extension CodeInfo {
    /// No keyword-only parameters, `*args` or `**kwargs`.
    var hasOnlyPositional: Bool { keywordOnly.isEmpty && varArgsSlot < 0 && varKeywordsSlot < 0 }
}
