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
    try nodes.forEachUnretained { a.append(try $0.eval(f)) }
    return try body(a)
}

/// Whether the call's positional arguments are exactly one `*iterable`.
private func isLoneStar(_ args: [ArgNode]) -> Bool {
    var stars = 0
    for arg in args {
        switch arg {
        case .positional: return false
        case .star: stars += 1
        default: break
        }
    }
    return stars == 1
}

/// Evaluates call-site arguments into ``Args``. `callee` (what is being called) names the
/// function in errors about the arguments, as CPython does (`__main__.f() got multiple
/// values for keyword argument 'a'`).
func evaluateArguments(_ args: [ArgNode], _ f: Frame, prepend: Value? = nil, callee: Value) throws -> Args {
    var positional: [Value] = []
    var keywords: [(name: String, value: Value)] = []
    positional.reserveCapacity(args.count + 1)
    if let p = prepend { positional.append(p) }
    for arg in args {
        switch arg {
        case .positional(let e): positional.append(try e.eval(f))
        case .star(let e):
            let v = try e.eval(f)
            do { positional.append(contentsOf: try f.unit.toArray(v, lengthHint: true)) }
            catch let err as PyBaseException where err.type === Exc.typeError && !f.unit.isIterableShape(v) {
                // CPython names the function only when `*x` is the call's one positional
                // argument; otherwise the arguments are built as a list first.
                if isLoneStar(args) {
                    throw typeError("\(f.unit.functionDescription(callee)) argument after * must be an iterable, not \(v.typeName)")
                }
                throw typeError("Value after * must be an iterable, not \(v.typeName)")
            }
        case .keyword(let name, let e):
            let v = try e.eval(f)
            if keywords.contains(where: { $0.name == name }) { throw f.unit.multipleValues(callee, name) }
            keywords.append((name, v))
        case .doubleStar(let e):
            let v = try e.eval(f)
            guard let pairs = try f.unit.mappingPairs(v) else {
                throw typeError("\(f.unit.functionDescription(callee)) argument after ** must be a mapping, not \(v.typeName)")
            }
            for (k, x) in pairs {
                guard let s = k.asStr else { throw typeError("keywords must be strings") }
                if keywords.contains(where: { $0.name == s.value }) { throw f.unit.multipleValues(callee, s.value) }
                keywords.append((s.value, x))
            }
        }
    }
    return Args(positional, keywords: keywords)
}

extension Unit {
    /// The (key, value) pairs `**v` unpacks: a dict's, or those of any object with `keys()`
    /// and `__getitem__` (CPython's mapping protocol); nil when `v` has no `keys`.
    func mappingPairs(_ v: Value) throws -> [(Value, Value)]? {
        // A dict subclass too, as CPython merges the dict itself; unless it defines its own
        // __iter__: then, as any mapping, by its keys() and __getitem__.
        if case .obj(let o) = v, let d = o as? PyDict, o.typeIsBuiltin || userMethod(v, "__iter__") == nil { return d.pairs }
        guard case .obj(let o) = v, !(o is PyType), let keys = try getAttrOrNil(v, "keys") else { return nil }
        var pairs: [(Value, Value)] = []
        let it = try iterate(try call(keys, []))
        while let k = try it.next(self) { pairs.append((k, try getItem(v, k))) }
        return pairs
    }

    /// How CPython names a callable in argument errors (`_PyObject_FunctionStr`):
    /// `module.qualname()`, without the module for builtins, or `str(x)` when it has no
    /// `__qualname__`.
    func functionDescription(_ callee: Value) -> String {
        if case .obj(let o) = callee, let b = o as? PyBuiltinFunction {
            return (b.module.map { "\($0)." } ?? "") + "\(b.name)()"
        }
        guard let q = (try? getAttrOrNil(callee, "__qualname__")) ?? nil, let qualname = q.asStringValue else {
            return (try? str(callee)) ?? callee.typeName
        }
        if let m = (try? getAttrOrNil(callee, "__module__")) ?? nil, let module = m.asStringValue, module != "builtins" {
            return "\(module).\(qualname)()"
        }
        return "\(qualname)()"
    }

    /// `f(a=1, **{"a": 2})`: the same keyword twice at the call site.
    func multipleValues(_ callee: Value, _ name: String) -> PyBaseException {
        typeError("\(functionDescription(callee)) got multiple values for keyword argument '\(name)'")
    }
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
        stackTop = base + n
        // Arguments are evaluated straight into their slots (no store over `.unbound`);
        // calls they make use the stack above `base + n`.
        var i = 0
        if let r = receiver { locals.initialize(to: r); i = 1 }
        do {
            try argNodes.forEachUnretained { a in
                (locals + i).initialize(to: try a.eval(f))
                i += 1
            }
        } catch {
            locals.destroyValues(i)
            stackTop = base
            throw error
        }
        let npos = code.positional.count
        if i < npos {
            // The def's own defaults: direct calls stop once they are replaced.
            let firstDefault = npos - fn.initialDefaults.count
            while i < npos { (locals + i).initialize(to: fn.initialDefaults[i - firstDefault]); i += 1 }
        }
        if i < n { (locals + i).initialize(repeating: .unbound, count: n - i) }
        let result: Value
        do { result = try run(fn, locals) } catch {
            locals.destroyValues(n); stackTop = base
            throw error
        }
        locals.destroyValues(n); stackTop = base
        runQueuedFinalizersNow()
        return result
    }
}

extension PyBuiltinFunction {
    /// Calls this native function with the argument expressions `simple` (whose first two
    /// are `leading`): its fixed-arity entry when it has one for that count, else inline
    /// arguments. For call nodes whose callee is known to be this function.
    @inline(__always) func callInline(_ leading: LeadingArguments, _ simple: ContiguousArray<ExprNode>, _ f: Frame) throws -> Value {
        if leading.count == 1, let one = fast1 {
            return try f.withOneArgument(leading) { x in try f.withUnit { try one($0, x) } }
        }
        if leading.count == 2, let two = fast2 {
            return try f.withTwoArguments(leading) { x, y in try f.withUnit { try two($0, x, y) } }
        }
        return try withPositionalArguments(simple, f) { a in try f.withUnit { try fn($0, a) } }
    }
}

/// The leading argument expressions of a call whose arguments are all plain positional
/// ones, kept for the fixed-arity entries of natives (``Native1``): `len(s)`,
/// `s.strip("x")`, `d.get(k, 0)`. Tree nodes are immortal, so they are held unretained.
struct LeadingArguments {
    /// How many arguments the call passes; -1 when they are not all plain positional ones.
    let count: Int
    let first: Unmanaged<ExprNode>?
    let second: Unmanaged<ExprNode>?
    /// The local slot whose object is lent to the native in place of evaluating `first`
    /// (or `second`), or -1: only a plain local that nothing evaluated after it can rebind
    /// (see ``isRebindFree(_:)``). The native runs while this frame waits, and no other
    /// code can store into the frame's plain slots, so the slot keeps the object alive.
    let firstSlot: Int
    let secondSlot: Int

    init(_ simple: ContiguousArray<ExprNode>?) {
        guard let simple else { count = -1; first = nil; second = nil; firstSlot = -1; secondSlot = -1; return }
        count = simple.count
        first = simple.first.map { .passUnretained($0) }
        second = simple.count > 1 ? .passUnretained(simple[1]) : nil
        let laterRebindFree = simple.dropFirst().allSatisfy(isRebindFree)
        firstSlot = laterRebindFree ? (simple.first as? LocalNode)?.slot ?? -1 : -1
        secondSlot = simple.count > 1 && simple.dropFirst(2).allSatisfy(isRebindFree)
            ? (simple[1] as? LocalNode)?.slot ?? -1 : -1
    }
}

extension Frame {
    /// Calls `body` with the value of the argument expression `node`: a plain local's
    /// object lent from slot `slot` without a retain when `slot` >= 0 (see
    /// ``LeadingArguments``), else the evaluated value.
    @inline(__always) func withArgument<R>(_ node: Unmanaged<ExprNode>, slot: Int, _ body: (Value) throws -> R) throws -> R {
        if slot >= 0, let o = (locals + slot).unretainedObject {
            return try o._withUnsafeGuaranteedRef { try body(.obj($0)) }
        }
        let v = try node._withUnsafeGuaranteedRef { try $0.eval(self) }
        return try body(v)
    }

    /// The arguments `a` of a call with one plain positional argument, passed to `body`.
    @inline(__always) func withOneArgument<R>(_ a: LeadingArguments, _ body: (Value) throws -> R) throws -> R {
        try withArgument(a.first.unsafelyUnwrapped, slot: a.firstSlot, body)
    }

    /// The arguments `a` of a call with two plain positional arguments, passed to `body`.
    @inline(__always) func withTwoArguments<R>(_ a: LeadingArguments, _ body: (Value, Value) throws -> R) throws -> R {
        try withArgument(a.first.unsafelyUnwrapped, slot: a.firstSlot) { x in
            try withArgument(a.second.unsafelyUnwrapped, slot: a.secondSlot) { y in try body(x, y) }
        }
    }
}

extension ContiguousArray where Element: AnyObject {
    /// Calls `body` with each element, unretained: for arrays of tree nodes, which are
    /// immortal, so nothing can free one during the call. (A strong load from the buffer
    /// would retain and release each node on every use.)
    @inline(__always) func forEachUnretained(_ body: (Element) throws -> Void) rethrows {
        try withUnsafeBufferPointer { b in
            try b.withMemoryRebound(to: Unmanaged<Element>.self) { refs in
                for r in refs { try r._withUnsafeGuaranteedRef(body) }
            }
        }
    }
}

extension PyFunction {
    /// True when a call with `given` positional arguments and nothing else can bind directly.
    @inline(__always) func canCallDirect(_ given: Int) -> Bool {
        given <= code.directArgumentLimit && given >= directArgumentMinimum
    }
}

/// `callee(args...)`.
final class CallNode: ExprNode {
    let callee: ExprNode
    let args: [ArgNode]
    /// The positional argument expressions when every argument is a plain positional one.
    let simpleArgs: ContiguousArray<ExprNode>?
    /// The first two of them, for natives' fixed-arity entries.
    let leading: LeadingArguments
    /// The cell of a global callee (`f(x)` with `f` a module global), for the call path
    /// that does not retain a module-level function. Unmanaged: `callee`, the GlobalNode
    /// this node holds, keeps the cell alive, and a strong field would be retained and
    /// released around each call.
    let globalCallee: Unmanaged<Cell>?
    init(_ callee: ExprNode, _ args: [ArgNode], _ loc: SourceLoc) {
        self.callee = callee; self.args = args
        var simple: ContiguousArray<ExprNode>? = []
        for a in args { if case .positional(let e) = a { simple!.append(e) } else { simple = nil; break } }
        simpleArgs = simple
        leading = LeadingArguments(simple)
        globalCallee = (callee as? GlobalNode).map { .passUnretained($0.cell) }
        if let g = callee as? GlobalNode, case .obj(let b)? = g.builtin {
            builtinsModule = g.builtinsModule
            if let fn = b as? PyBuiltinFunction { builtinFunction = .passUnretained(fn) }
            if let t = b as? PyType, t.isBuiltin, t !== Types.type, t.constructor != nil { builtinType = .passUnretained(t) }
        }
        super.init(loc)
    }
    /// The builtin function (`len`, `ord`) or builtin type with a native constructor
    /// (`str`, `int`) a global callee names when its module never binds that name: then
    /// the call skips the global load and the callee's type tests. Both are immortal.
    private var builtinFunction: Unmanaged<PyBuiltinFunction>? = nil
    private var builtinType: Unmanaged<PyType>? = nil
    /// The callee's ``GlobalNode/builtinsModule``, unretained as the callee holds it.
    private var builtinsModule: Unmanaged<Globals>? = nil
    private var callsBuiltin: Bool {
        (builtinFunction != nil || builtinType != nil) && !Globals.hasReboundBuiltin(builtinsModule)
    }

    /// The call of ``builtinFunction`` or ``builtinType``; out of line, so that the
    /// function-call path of ``eval(_:)`` keeps its small frame.
    @inline(never) private func callBuiltin(_ simple: ContiguousArray<ExprNode>, _ f: Frame) throws -> Value {
        do {
            if let b = builtinFunction {
                return try b._withUnsafeGuaranteedRef { try $0.callInline(leading, simple, f) }
            }
            return try builtinType!._withUnsafeGuaranteedRef { t in
                if leading.count == 1, let one = t.constructor1 {
                    return try f.withOneArgument(leading) { x in try f.withUnit { try one($0, x) } }
                }
                return try withPositionalArguments(simple, f) { a in try f.withUnit { try t.constructor!($0, t, a) } }
            }
        } catch { throw located(error, f, loc) }
    }

    override func eval(_ f: Frame) throws -> Value {
        if let cellRef = globalCallee, let simple = simpleArgs {
            // `some_function(args)` of a module-level function: called without retaining it.
            if let fnRef = cellRef._withUnsafeGuaranteedRef({ $0.immortalFunction() }) {
                let direct = fnRef._withUnsafeGuaranteedRef { $0.canCallDirect(simple.count) }
                if direct {
                    do {
                        return try fnRef._withUnsafeGuaranteedRef { fn in try f.withUnit { try $0.callDirect(fn, receiver: nil, simple, f) } }
                    } catch { throw located(error, f, loc) }
                }
            } else if callsBuiltin && cellRef._withUnsafeGuaranteedRef({ $0.neverBound }) {
                return try callBuiltin(simple, f)
            }
        }
        let c = try callee.eval(f)
        do {
            if let simple = simpleArgs, case .obj(let o) = c {
                if let fn = o as? PyFunction, fn.canCallDirect(simple.count) {
                    return try f.withUnit { try $0.callDirect(fn, receiver: nil, simple, f) }
                }
                if let m = o as? PyBoundMethod, case .obj(let mo) = m.function, let fn = mo as? PyFunction,
                   fn.canCallDirect(simple.count + 1) {
                    return try f.withUnit { try $0.callDirect(fn, receiver: m.receiver, simple, f) }
                }
                if let t = o as? PyType, !t.isBuiltin {
                    if let initFn = plainInit(t, f.classEpoch), initFn.canCallDirect(simple.count + 1) {
                        let instance: Value = .obj(PyInstance(cls: t))
                        // The class call's level of C recursion, as ``Unit/instantiate(_:_:)``.
                        let r = try f.withUnit { u in
                            try u.enterNested(" while calling a Python object")
                            defer { u.leaveNested() }
                            return try u.callDirect(initFn, receiver: instance, simple, f)
                        }
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
            return try f.withUnit { try $0.call(c, try evaluateArguments(args, f, callee: c)) }
        } catch { throw located(error, f, loc) }
    }

    // Instantiation cache: in `initEpoch`, `cls(...)` of the class whose identity is
    // `initClass` (classes are immortal) makes a plain instance and runs `initFunction`.
    // Written only while one unit runs; read always, validated by identity and epoch.
    private var initClass: UnsafeMutableRawPointer?
    private var initFunction: PyFunction?
    private var initEpoch = -1

    /// The user `__init__` to run on a plain new instance of `t`, or nil when `t(...)`
    /// takes the general path (a `__new__`, a builtin base, an exception class, no
    /// `__init__`).
    @inline(__always) private func plainInit(_ t: PyType, _ epoch: Int) -> PyFunction? {
        let id = Unmanaged.passUnretained(t).toOpaque()
        if initEpoch == epoch && initClass == id { return initFunction }
        let hooks = t.creationHooks(epoch)
        let fn = hooks.makesPlainInstances ? hooks.userInit : nil
        if !ObjectLocks.active && fn != nil { initClass = id; initFunction = fn; initEpoch = epoch }
        return fn
    }
}

/// `obj.name(args...)`: calls the method without creating a bound-method object.
final class MethodCallNode: ExprNode {
    let object: ExprNode
    let name: String
    let hash: Int
    let args: [ArgNode]
    let simpleArgs: ContiguousArray<ExprNode>?
    /// The first two of them, for natives' fixed-arity entries.
    let leading: LeadingArguments
    /// The span of `obj.name` (where CPython reports a failed method lookup).
    let attributeLoc: SourceLoc
    init(_ object: ExprNode, _ name: String, _ args: [ArgNode], attributeLoc: SourceLoc, _ loc: SourceLoc) {
        self.object = object; self.name = name; self.args = args; self.attributeLoc = attributeLoc
        self.hash = nameHash(name)
        var simple: ContiguousArray<ExprNode>? = []
        for a in args { if case .positional(let e) = a { simple!.append(e) } else { simple = nil; break } }
        simpleArgs = simple
        leading = LeadingArguments(simple)
        receiverSlot = (object as? LocalNode).flatMap { l in simple?.allSatisfy(isRebindFree) == true ? l.slot : nil } ?? -1
        super.init(loc)
    }
    /// The local slot of the receiver when it is a plain local and no argument can rebind
    /// it (see ``isRebindFree(_:)``), else -1: a cached builtin method is then called on
    /// the receiver in place, without a retain, as the slot keeps it alive.
    let receiverSlot: Int
    // Inline cache: receivers whose layout is `cacheKeys[i]` (an instance Shape, or a
    // builtin PyType; both immortal, so their identity is never reused) resolve `name` to
    // `cacheMethods[i]` in `cacheEpoch`; four entries, so a call on instances of several
    // classes of a hierarchy (`s.describe()`) stays cached. Written only while units do not
    // run in parallel (`!ObjectLocks.active`: fields written by one unit while another reads
    // them would be torn); read always, validated by key identity and epoch. While units
    // run in parallel the node publishes immutable entries through `parallelCache` instead
    // (ParallelCache.swift).
    private var cacheKeys: (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) = (nil, nil, nil, nil)
    private var cacheMethods: (PyObject?, PyObject?, PyObject?, PyObject?) = (nil, nil, nil, nil)
    // `cacheMethods[i]` again when it is an immortal function (a `def` in a class body),
    // unretained: never freed, it may be called without a reference even if the call
    // itself replaces the entry (a recursive call on another class's instance); nil for
    // a method that must be counted while it runs.
    private var cacheImmortal: (Unmanaged<PyFunction>?, Unmanaged<PyFunction>?, Unmanaged<PyFunction>?, Unmanaged<PyFunction>?) = (nil, nil, nil, nil)
    private var cacheNext = 0
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
    // Cache for a callable kept in an instance attribute (`self.put = engine.put`,
    // `self.callback(x)`): instances of shape `slotShape` hold it in slot `slotIndex`, and
    // in `slotEpoch` their class has no data descriptor of that name (nothing, or a
    // function, which the instance's attribute hides). Written only while units do not run
    // in parallel, like the fields above.
    private var slotShape: UnsafeMutableRawPointer? = nil
    private var slotIndex = 0
    private var slotEpoch = -1
    /// A function called through its module (`random.random()`, `os.getpid()`).
    private var moduleAttribute = ModuleAttributeCache()

    /// Calls the cached builtin method `d` on `recv` (no closure, so nothing is captured).
    @inline(__always) private func callBuiltin(_ d: PyMethodDescriptor, _ recv: Value, _ f: Frame) throws -> Value {
        switch leading.count {
        case 0: if let m = d.fast0 { return try f.withUnit { try m($0, recv) } }
        case 1: if let m = d.fast1 { return try f.withOneArgument(leading) { x in try f.withUnit { try m($0, recv, x) } } }
        case 2: if let m = d.fast2 { return try f.withTwoArguments(leading) { x, y in try f.withUnit { try m($0, recv, x, y) } } }
        default: break
        }
        guard let simple = simpleArgs else { return try d.fn(f.unit, recv, try evaluateArguments(args, f, callee: .obj(d))) }
        var a = Args(inline: ())
        try simple.forEachUnretained { a.append(try $0.eval(f)) }
        return try f.withUnit { try d.fn($0, recv, a) }
    }

    /// The identity of the layout of `v` that the cache is keyed by: an instance's shape,
    /// another object's type; nil for scalars and classes (ordinary attribute lookup).
    /// Not inlined: `v` is then borrowed, where inlined code copied the receiver twice.
    @inline(never) private static func cacheKey(_ v: Value) -> UnsafeMutableRawPointer? {
        // `v` keeps the object alive: looked at unretained, it costs no retain and release.
        guard let u = v.unretainedObject else { return nil }
        return u._withUnsafeGuaranteedRef { o in
            // The common case, a plain instance while one unit runs, tests and downcasts
            // without a cast of the runtime (a cast takes a reference of its own); the other
            // cases are left to a function that may.
            if o.isPlainInstance && !ObjectLocks.active { return unsafeDowncast(o, to: PyInstance.self).shapeID }
            return otherKey(o)
        }
    }
    @inline(never) private static func otherKey(_ o: PyObject) -> UnsafeMutableRawPointer? {
        // Exceptions are instances too, keyed by their shape as well.
        if o.isPlainInstance { return shapeKey(unsafeDowncast(o, to: PyInstance.self)) }
        if let e = o as? PyBaseException { return shapeKey(e) }
        // An instance of a list/dict/set... subclass may keep attributes of its own, which
        // may hide a method of its class: answered from the cache only while it has none.
        if !o.typeIsBuiltin, let c = o as? SubclassAttributes, c.existingAttributeDict != nil { return nil }
        if let t = o.typeAddress { return t }
        return nil
    }
    @inline(__always) private static func shapeKey(_ inst: PyInstance) -> UnsafeMutableRawPointer {
        if !ObjectLocks.active { return inst.shapeID }
        return lockedShapeKey(inst)
    }
    @inline(never) private static func lockedShapeKey(_ inst: PyInstance) -> UnsafeMutableRawPointer {
        inst.locked { inst.shapeID }
    }

    /// The cached immortal function for receivers whose layout is `key` in `epoch`, if any,
    /// read without a retain.
    @inline(__always) private func cachedImmortalMethod(_ key: UnsafeMutableRawPointer, _ epoch: Int) -> Unmanaged<PyFunction>? {
        guard cacheEpoch == epoch else { return nil }
        if key == cacheKeys.0 { return cacheImmortal.0 }
        if key == cacheKeys.1 { return cacheImmortal.1 }
        if key == cacheKeys.2 { return cacheImmortal.2 }
        if key == cacheKeys.3 { return cacheImmortal.3 }
        return nil
    }

    /// The cached method for receivers whose layout is `key` in `epoch`, if any. The key is
    /// compared by identity only, so reading it retains nothing.
    @inline(__always) private func cachedMethod(_ key: UnsafeMutableRawPointer, _ epoch: Int) -> PyObject? {
        if cacheEpoch == epoch {
            if key == cacheKeys.0 { return cacheMethods.0 }
            if key == cacheKeys.1 { return cacheMethods.1 }
            if key == cacheKeys.2 { return cacheMethods.2 }
            if key == cacheKeys.3 { return cacheMethods.3 }
        }
        if let e = parallelCache.entry(MethodCacheEntry.self), Unmanaged.passUnretained(e.key).toOpaque() == key, e.epoch == epoch { return e.method }
        return nil
    }
    private func remember(_ key: AnyObject, _ method: PyObject, _ epoch: Int) {
        if cacheEpoch != epoch {
            cacheKeys = (nil, nil, nil, nil); cacheMethods = (nil, nil, nil, nil); cacheImmortal = (nil, nil, nil, nil)
            cacheNext = 0; cacheEpoch = epoch
        }
        let id = Unmanaged.passUnretained(key).toOpaque()
        let fn = method as? PyFunction
        let immortal = fn.flatMap { $0.isImmortal ? Unmanaged.passUnretained($0) : nil }
        switch cacheNext & 3 {
        case 0: cacheKeys.0 = id; cacheMethods.0 = method; cacheImmortal.0 = immortal
        case 1: cacheKeys.1 = id; cacheMethods.1 = method; cacheImmortal.1 = immortal
        case 2: cacheKeys.2 = id; cacheMethods.2 = method; cacheImmortal.2 = immortal
        default: cacheKeys.3 = id; cacheMethods.3 = method; cacheImmortal.3 = immortal
        }
        cacheNext &+= 1
    }

    override func eval(_ f: Frame) throws -> Value {
        if receiverSlot >= 0, let c = (f.locals + receiverSlot).unretainedObject {
            // The receiver is lent from its slot, not retained: nothing that runs before
            // the call returns can store into the slot (the arguments are rebind-free; the
            // method runs in frames of its own), so the slot keeps it alive.
            return try c._withUnsafeGuaranteedRef { o in try call(on: .obj(o), f) }
        }
        return try call(on: try object.eval(f), f)
    }

    /// The call on the evaluated receiver `recv`.
    @inline(__always) private func call(on recv: Value, _ f: Frame) throws -> Value {
        do {
            if let bt = builtinType, let bm = builtinMethod, let o = recv.unretainedObject,
               o._withUnsafeGuaranteedRef({ $0.hasType(bt) }) {
                return try bm._withUnsafeGuaranteedRef { try callBuiltin($0, recv, f) }
            }
        } catch { throw located(error, f, loc) }
        do {
            if let callee = moduleAttribute.value(of: recv) { return try callAttributeValue(callee, f) }
            if let key = MethodCallNode.cacheKey(recv) {
                let epoch = f.classEpoch
                if let fn = cachedImmortalMethod(key, epoch) {
                    return try fn._withUnsafeGuaranteedRef { try callCachedFunction($0, recv, f) }
                }
                if let m = cachedMethod(key, epoch) { return try callCached(m, recv, f) }
                if key == slotShape, slotEpoch == f.classEpoch, let callee = MethodCallNode.slotValue(recv, slotIndex, key) {
                    return try callAttributeValue(callee, f)
                }
            }
            return try callUncached(recv, f)
        } catch { throw located(error, f, loc) }
    }

    /// Calls `m`, the cached method of `recv`'s layout.
    @inline(__always) private func callCached(_ m: PyObject, _ recv: Value, _ f: Frame) throws -> Value {
        if let fn = m as? PyFunction { return try callCachedFunction(fn, recv, f) }
        let d = m as! PyMethodDescriptor
        let u = f.unit
        if let simple = simpleArgs { return try withPositionalArguments(simple, f) { try d.fn(u, recv, $0) } }
        return try d.fn(u, recv, try evaluateArguments(args, f, callee: .obj(d)))
    }

    /// Calls `fn`, the cached method of `recv`'s layout that is a Conc function.
    @inline(__always) private func callCachedFunction(_ fn: PyFunction, _ recv: Value, _ f: Frame) throws -> Value {
        if let simple = simpleArgs, fn.canCallDirect(simple.count + 1) {
            return try f.withUnit { try $0.callDirect(fn, receiver: recv, simple, f) }
        }
        return try f.withUnit { try $0.callFunction(fn, try evaluateArguments(args, f, prepend: recv, callee: .obj(fn))) }
    }

    /// Slot `i` of instance `recv` if it still has shape `shape` and the slot is bound (read
    /// under the instance's lock while units run in parallel).
    @inline(never) private static func slotValue(_ recv: Value, _ i: Int, _ shape: UnsafeMutableRawPointer) -> Value? {
        guard case .obj(let o) = recv, let inst = o as? PyInstance else { return nil }
        let read = { () -> Value? in
            guard inst.shapeID == shape else { return nil }
            let v = inst.slot(i)
            return v.isUnbound ? nil : v
        }
        return ObjectLocks.active ? inst.locked(read) : read()
    }

    /// Calls `callee`, the value of the attribute `name` of the receiver (not a method of
    /// its class), with the arguments.
    @inline(__always) private func callAttributeValue(_ callee: Value, _ f: Frame) throws -> Value {
        let u = f.unit
        if let simple = simpleArgs, case .obj(let o) = callee {
            if let fn = o as? PyFunction, fn.canCallDirect(simple.count) {
                return try f.withUnit { try $0.callDirect(fn, receiver: nil, simple, f) }
            }
            // A bound method kept in a module or an instance (`random.random`, the module's
            // functions being methods of its hidden generator).
            if let m = o as? PyBoundMethod, case .obj(let mo) = m.function, let fn = mo as? PyFunction,
               fn.canCallDirect(simple.count + 1) {
                return try f.withUnit { try $0.callDirect(fn, receiver: m.receiver, simple, f) }
            }
            // A native function of a module (`math.sqrt(x)`, `time.time()`).
            if let b = o as? PyBuiltinFunction { return try b.callInline(leading, simple, f) }
        }
        return try u.call(callee, try evaluateArguments(args, f, callee: callee))
    }

    /// The call when the cache did not apply: looks the method up (and caches it when it is
    /// a function or a builtin method of the receiver's class), or falls back to `getattr`.
    private func callUncached(_ recv: Value, _ f: Frame) throws -> Value {
        let u = f.unit
        // An instance of a list/dict/set... subclass or a threading.local: its own
        // attribute of that name comes before the class's method.
        var ownAttributes = false
        if case .obj(let o) = recv, !(o is PyInstance), !o.typeIsBuiltin || o is PyThreadLocal, let c = o as? SubclassAttributes {
            if let l = o as? PyThreadLocal { try l.prepare(u, recv) }
            if let d = c.existingAttributeDict {
                ownAttributes = true  // the method found below is not cached for this layout
                if try d.get(u, .str(name)) != nil { return try callAttributeValue(try u.getAttr(recv, name), f) }
            }
        }
        if case .obj(let o) = recv, !(o is PyType), !(o is PyModule), !(o is PySuper),
           o.asInstance == nil || o.typeIsBuiltin || !o.type.overridesGetattribute(f.classEpoch) {
            let inst = o.asInstance
            // The shape and whether it has a slot for `name`, in one critical section.
            let (shape, shadowed, held): (Shape?, Bool, Value) = inst?.locked {
                let s = inst!.shape
                guard let i = s.index.get(name, hash: hash) else { return (s, false, .unbound) }
                let v = inst!.slot(i)
                return (s, !v.isUnbound, v)
            } ?? (nil, false, .unbound)
            let epoch = f.classEpoch
            let classAttribute = o.type.lookup(name, hash: hash)
            if shadowed, let s = shape, let i = s.index.get(name, hash: hash),
               classAttribute == nil || classAttribute?.object is PyFunction {
                // A callable kept in the instance, and nothing of that name in the class
                // that would come first (a function is not a data descriptor).
                if !ObjectLocks.active { slotShape = Unmanaged.passUnretained(s).toOpaque(); slotIndex = i; slotEpoch = epoch }
                return try callAttributeValue(held, f)
            }
            if !shadowed, let attr = classAttribute, case .obj(let m) = attr {
                if m is PyFunction || m is PyMethodDescriptor, shape?.index.get(name, hash: hash) == nil, !ownAttributes {
                    if !ObjectLocks.active {
                        remember(shape ?? o.type, m, epoch)
                        if inst == nil, o.typeIsBuiltin, let d = m as? PyMethodDescriptor {
                            builtinMethod = Unmanaged.passUnretained(d)
                            builtinType = ObjectIdentifier(o.type)
                        }
                    } else if parallelCache.canPublish {
                        parallelCache.publish(MethodCacheEntry(epoch: epoch, key: shape ?? o.type, method: m))
                    }
                }
                if let fn = m as? PyFunction {
                    if let simple = simpleArgs, fn.canCallDirect(simple.count + 1) {
                        return try f.withUnit { try $0.callDirect(fn, receiver: recv, simple, f) }
                    }
                    return try u.callFunction(fn, try evaluateArguments(args, f, prepend: recv, callee: .obj(fn)))
                }
                if let d = m as? PyMethodDescriptor {
                    return try d.fn(u, recv, try evaluateArguments(args, f, callee: .obj(d)))
                }
            }
        } else if case .obj = recv {
            // classes, modules, super(): ordinary attribute lookup; a module's cell for the
            // name is remembered for the next call.
            if let (callee, cache) = ModuleAttributeCache.lookUp(recv, name) {
                if let cache { moduleAttribute = cache }
                return try callAttributeValue(callee, f)
            }
        } else if let attr = recv.type.lookup(name), case .obj(let m) = attr, let d = m as? PyMethodDescriptor {
            return try d.fn(u, recv, try evaluateArguments(args, f, callee: .obj(d)))
        }
        let callee: Value
        do { callee = try u.getAttr(recv, name) } catch { throw located(error, f, attributeLoc) }
        return try callAttributeValue(callee, f)
    }
}

extension CodeInfo {
    /// No keyword-only parameters, `*args` or `**kwargs`.
    var hasOnlyPositional: Bool { keywordOnly.isEmpty && varArgsSlot < 0 && varKeywordsSlot < 0 }
}
