// Calling: argument binding for Conc functions, native functions, bound methods and
// instantiation of classes.
import CConcSys
import ConcSyntax

extension Unit {
    /// `callee(*positional)`.
    @inline(__always) func call(_ callee: Value, _ positional: [Value]) throws -> Value {
        try call(callee, Args(positional))
    }

    /// `callee(*args.positional, **args.keywords)`.
    func call(_ callee: Value, _ args: Args) throws -> Value {
        guard case .obj(let o) = callee else { throw notCallable(callee) }
        switch o {
        case let fn as PyFunction: return try callFunction(fn, args)
        case let m as PyBoundMethod:
            var a = args
            a.positional.insert(m.receiver, at: 0)
            return try call(m.function, a)
        case let b as PyBuiltinFunction: return try b.fn(self, args)
        case let b as PyBoundBuiltin: return try b.descriptor.fn(self, b.receiver, args)
        case let d as PyMethodDescriptor:
            guard args.count >= 1 else {
                throw typeError("unbound method \(d.owner.name).\(d.name)() needs an argument")
            }
            guard args[0].type.isSubtype(of: d.owner) else {
                if PyMethodDescriptor.slotWrapperNames.contains(d.name) {
                    throw typeError("descriptor '\(d.name)' requires a '\(d.owner.name)' object but received a '\(args[0].typeName)'")
                }
                throw typeError("descriptor '\(d.name)' for '\(d.owner.name)' objects doesn't apply to a '\(args[0].typeName)' object")
            }
            var rest = args
            rest.positional.removeFirst()
            return try d.fn(self, args[0], rest)
        case let t as PyType: return try instantiate(t, args)
        case let s as PyStaticMethod: return try call(s.function, args)
        case let w as PyWeakRef where w.typeIsBuiltin: return try w.call(args)
        case let g as PyGenericAlias: return try call(g.origin, args)
        case is PyInstance, is PyWeakRef, is SubclassAttributes:
            // (A builtin container has no __call__; its user subclass may: `__call__ = dict.keys`.)
            if let m = lookupSpecial(callee, "__call__") {
                // Counted: a __call__ that is itself a callable instance may lead back here
                // (`A.__call__ = A()`) without any Conc frame in between.
                try enterNested(" while calling a Python object")
                defer { leaveNested() }
                return try call(m, args)
            }
        default: break
        }
        throw notCallable(callee)
    }

    func notCallable(_ v: Value) -> PyBaseException {
        typeError("'\(v.typeName)' object is not callable")
    }

    // MARK: - Conc functions

    /// Calls a Conc function: binds arguments into fresh slots on the value stack and runs it.
    func callFunction(_ fn: PyFunction, _ args: Args) throws -> Value {
        let code = fn.code
        let base = stackTop
        let n = code.localCount
        guard base + n <= stackCapacity else { throw pyError(Exc.recursionError, "maximum recursion depth exceeded") }
        let locals = stack + base
        locals.initialize(repeating: .unbound, count: n)
        stackTop = base + n
        let result: Value
        do {
            try bindArguments(fn, args, locals)
            result = try run(fn, locals)
        } catch {
            locals.destroyValues(n); stackTop = base
            throw error
        }
        locals.destroyValues(n); stackTop = base
        runQueuedFinalizersNow()
        return result
    }

    /// Runs the `__del__` calls queued on this thread (Finalizers.swift), at a safe point
    /// other than a statement's end. Two call it: a Conc function's return, so that
    /// instances that died with its locals are finalised before the caller goes on, as
    /// CPython finalises them when the frame goes (`print(f())` prints what `f`'s garbage
    /// says first; not on the exception path, where CPython's traceback keeps the frame
    /// alive); and `print`, before it writes (temporaries its arguments dropped).
    @inline(__always) func runQueuedFinalizersNow() {
        if CConcSys_finalizers_pending() != 0 { runPendingFinalizers() }
    }

    /// Runs `fn`'s body in a frame over `locals` (already bound), or makes its generator.
    @inline(__always) func run(_ fn: PyFunction, _ locals: UnsafeMutablePointer<Value>) throws -> Value {
        let code = fn.code
        if !code.cellSlots.isEmpty {
            for s in code.cellSlots { locals[s] = .obj(Cell(locals[s])) }
        }
        if code.isGenerator || code.isAsync { return try makeGenerator(fn, locals) }
        try checkRecursion()
        // Calls are polled as loop back-edges are: Ctrl-C must stop recursive code too.
        try checkInterrupt()
        let frameRef = pooledFrame(for: fn, locals: locals)
        depth += 1
        let caller = enterFrame(frameRef)
        defer {
            depth -= 1
            leaveFrame(caller)
            // A closure is usually made for the call that used it: the pooled frame must
            // not keep it (and the values its cells hold) alive until the next call at
            // this depth, so that they are freed (and finalised) when they go, as in CPython.
            if !code.freeNames.isEmpty { frameRef._withUnsafeGuaranteedRef { $0.function = nil } }
        }
        do {
            return try frameRef._withUnsafeGuaranteedRef { f in
                if let e = code.expressionRef {
                    // A lambda has no statements to set the line (tracebacks, deadlock reports).
                    f.line = code.loc.line
                    return try e._withUnsafeGuaranteedRef { try $0.eval(f) }
                }
                if case .returned = try code.bodyRef!._withUnsafeGuaranteedRef({ try $0.exec(f) }) {
                    let r = f.returnValue
                    f.returnValue = .none
                    return r
                }
                return .none
            }
        } catch let e as PyBaseException {
            e.needsLocation = true
            frameRef._withUnsafeGuaranteedRef { e.noteFrameLeft($0) }
            throw e
        }
    }

    /// Binds positional and keyword arguments, defaults, `*args` and `**kwargs` into slots.
    func bindArguments(_ fn: PyFunction, _ args: Args, _ locals: UnsafeMutablePointer<Value>) throws {
        let code = fn.code
        let npos = code.positional.count
        let given = args.positional
        let k = min(given.count, npos)
        for i in 0..<k { locals[i] = given[i] }
        // Keywords before the positional count is checked, as CPython's initialize_locals
        // does: `f(1, 2, 3, zz=4)` is about zz.
        if !args.keywords.isEmpty || code.varKeywordsSlot >= 0 {
            try bindKeywords(fn, args.keywords, locals)
        }
        if given.count > npos {
            guard code.varArgsSlot >= 0 else {
                let keywordOnlyGiven = args.keywords.filter { code.keywordOnly.contains($0.name) }.count
                throw tooManyPositional(fn, given.count, keywordOnlyGiven: keywordOnlyGiven)
            }
            locals[code.varArgsSlot] = .obj(PyTuple(Array(given[npos...])))
        } else if code.varArgsSlot >= 0 {
            locals[code.varArgsSlot] = .obj(PyTuple.empty)
        }
        if given.count < npos || !code.keywordOnly.isEmpty { try fillDefaults(fn, locals) }
    }

    private func bindKeywords(_ fn: PyFunction, _ keywords: [(name: String, value: Value)], _ locals: UnsafeMutablePointer<Value>) throws {
        let code = fn.code
        let kwargs: PyDict? = code.varKeywordsSlot >= 0 ? PyDict() : nil
        for (name, value) in keywords {
            if let i = code.positional.firstIndex(of: name), i >= code.positionalOnlyCount {
                if !locals[i].isUnbound {
                    throw typeError("\(fn.qualname)() got multiple values for argument '\(name)'")
                }
                locals[i] = value
            } else if let j = code.keywordOnly.firstIndex(of: name) {
                locals[code.positional.count + j] = value
            } else if let d = kwargs {
                if try d.get(self, .str(name)) != nil {
                    throw typeError("\(fn.qualname)() got multiple values for keyword argument '\(name)'")
                }
                d.set(self, name, value)
            } else {
                // The first keyword with no parameter: positional-only names passed as
                // keywords are the error if there are any (all of them, in parameter order).
                let passed = code.positional[..<code.positionalOnlyCount].filter { p in keywords.contains { $0.name == p } }
                if !passed.isEmpty {
                    throw typeError("\(fn.qualname)() got some positional-only arguments passed as keyword arguments: "
                                    + "'" + passed.joined(separator: ", ") + "'")
                }
                throw typeError("\(fn.qualname)() got an unexpected keyword argument '\(name)'")
            }
        }
        if let d = kwargs { locals[code.varKeywordsSlot] = .obj(d) }
    }

    private func fillDefaults(_ fn: PyFunction, _ locals: UnsafeMutablePointer<Value>) throws {
        let code = fn.code
        let npos = code.positional.count
        let defaults = fn.defaults  // one read: another thread may assign __defaults__
        let firstDefault = npos - defaults.count
        var missing: [String] = []
        for i in 0..<npos where locals[i].isUnbound {
            if i >= firstDefault { locals[i] = defaults[i - firstDefault] } else { missing.append(code.positional[i]) }
        }
        if !missing.isEmpty { throw missingArguments(fn, missing, kind: "positional") }
        var missingKw: [String] = []
        let kwDefaults = code.keywordOnly.isEmpty ? [:] : fn.kwDefaults
        for (j, name) in code.keywordOnly.enumerated() where locals[npos + j].isUnbound {
            if let d = kwDefaults[name] { locals[npos + j] = d } else { missingKw.append(name) }
        }
        if !missingKw.isEmpty { throw missingArguments(fn, missingKw, kind: "keyword-only") }
    }

    private func missingArguments(_ fn: PyFunction, _ names: [String], kind: String) -> PyBaseException {
        let quoted = names.map { "'\($0)'" }
        let list: String
        switch quoted.count {
        case 1: list = quoted[0]
        case 2: list = quoted[0] + " and " + quoted[1]
        default: list = quoted.dropLast().joined(separator: ", ") + ", and " + quoted.last!
        }
        let plural = names.count == 1 ? "argument" : "arguments"
        return typeError("\(fn.qualname)() missing \(names.count) required \(kind) \(plural): \(list)")
    }

    private func tooManyPositional(_ fn: PyFunction, _ given: Int, keywordOnlyGiven: Int = 0) -> PyBaseException {
        let npos = fn.code.positional.count
        let minimum = npos - fn.defaults.count
        let takes = minimum == npos ? "\(npos) positional argument\(npos == 1 ? "" : "s")"
            : "from \(minimum) to \(npos) positional arguments"
        // CPython's wording when keyword-only arguments came too: "but 1 positional
        // argument (and 1 keyword-only argument) were given".
        let also = keywordOnlyGiven == 0 ? ""
            : " positional argument\(given != 1 ? "s" : "") (and \(keywordOnlyGiven) keyword-only argument\(keywordOnlyGiven != 1 ? "s" : ""))"
        return typeError("\(fn.qualname)() takes \(takes) but \(given)\(also) \(given == 1 && keywordOnlyGiven == 0 ? "was" : "were") given")
    }

    // MARK: - Classes

    /// `cls(*args)`: the metaclass's `__call__` when it defines one, else
    /// ``createInstance(_:_:)``.
    func instantiate(_ t: PyType, _ args: Args) throws -> Value {
        // CPython calls a class of the program through _PyObject_MakeTpCall: one level of C
        // recursion besides the __init__ frame, so `__init__` making another instance of
        // its class recurses half as deep, and the limit may be met right here.
        if !t.isBuiltin {
            try enterNested(" while calling a Python object")
            defer { leaveNested() }
            return try instantiateUncounted(t, args)
        }
        return try instantiateUncounted(t, args)
    }

    private func instantiateUncounted(_ t: PyType, _ args: Args) throws -> Value {
        // Only a class made by a user metaclass (its `typeRef`) can have one: plain classes
        // skip the hooks lookup here (createInstance makes its own).
        if !t.isBuiltin, t.typeRef != nil, let metaCall = t.creationHooks(classEpoch).metaclassCall {
            var a = args
            a.positional.insert(.obj(t), at: 0)
            return try call(metaCall, a)
        }
        return try createInstance(t, args)
    }

    /// `type.__call__(cls, *args)`: creates an instance and runs `__init__`.
    func createInstance(_ t: PyType, _ args: Args) throws -> Value {
        if t === Types.type && args.count == 1 && args.keywords.isEmpty { return .obj(args[0].type) }
        if let ctor = t.constructor { return try ctor(self, t, args) }
        if let base = t.builtinBase, let ctor = base.constructor {
            // A subclass of list/dict/set/tuple...: its own __new__ (which calls e.g.
            // tuple.__new__(cls, ...)) or the builtin constructor makes the object; a user
            // __init__ then runs on it.
            let hooks = t.creationHooks(classEpoch)
            if let newFn = hooks.userNew {
                var a = args
                a.positional.insert(.obj(t), at: 0)
                let obj = try call(newFn, a)
                guard obj.type.isSubtype(of: t) else { return obj }
                var b = args
                b.positional.insert(obj, at: 0)
                if let initFn = hooks.userInit {
                    _ = try callFunction(initFn, b)
                } else if !base.isFilledByConstructor, case .obj(let baseInit)? = base.dict["__init__"] {
                    // The base's __init__ fills what the base's __new__ left empty
                    // (`super().__new__(cls)` of a set is an empty set); list.__init__
                    // ignores keywords when __new__ is overridden, set.__init__ refuses them.
                    if base === Types.list { b.keywords = [] }
                    _ = try call(.obj(baseInit), b)
                }
                return obj
            }
            // An immutable base (int, float, str, tuple, bytes, frozenset) takes the
            // arguments in its constructor, as its __new__ does; a mutable one is filled by
            // __init__ (the user's, which may call the base's).
            let immutable = base.isFilledByConstructor
            var ctorArgs = hooks.userInit == nil || immutable ? args : Args()
            if hooks.userInit != nil && base.leavesKeywordsToInit { ctorArgs.keywords = [] }
            let obj = try ctor(self, t, ctorArgs)
            if let initFn = hooks.userInit {
                var a = args
                a.positional.insert(obj, at: 0)
                _ = try callFunction(initFn, a)
            }
            return obj
        }
        // A builtin kind made only by the runtime (dict_keys, list_iterator, generator...).
        if t.isBuiltin && t !== Types.object && !t.isSubtype(of: Exc.baseException) && t.builtinBase == nil {
            throw typeError("cannot create '\(t.name)' instances")
        }
        let hooks = t.creationHooks(classEpoch)
        var instance: Value
        if let newFn = hooks.userNew ?? hooks.otherNew {
            var a = args
            a.positional.insert(.obj(t), at: 0)
            instance = try call(newFn, a)
            guard instance.type.isSubtype(of: t) else { return instance }
        } else if t.isSubtype(of: Exc.baseException) {
            let e = try newException(t, args.positional)
            if !args.keywords.isEmpty && hooks.userInit == nil {
                try setExceptionKeywords(e, args.keywords, reset: false)
            }
            if hooks.userInit == nil && t.isSubtype(of: Exc.syntaxError) { try initSyntaxErrorDetails(e) }
            if hooks.userInit == nil && t.isSubtype(of: Exc.unicodeError) { try checkUnicodeErrorArguments(e) }
            instance = .obj(e)
        } else {
            instance = .obj(PyInstance(cls: t))
        }
        // The __init__ of what __new__ made, which may be a subclass (CPython's type_call).
        let made = instance.type
        let initHooks = made === t ? hooks : made.creationHooks(classEpoch)
        if let initFn = initHooks.userInit {
            var a = args
            a.positional.insert(instance, at: 0)
            let r = try callFunction(initFn, a)
            if !r.isNone { throw typeError("__init__() should return None, not '\(r.typeName)'") }
        } else if let other = initHooks.otherInit {
            let r = try call(resolveDescriptor(other, instance), args)
            if !r.isNone { throw typeError("__init__() should return None, not '\(r.typeName)'") }
        } else if hooks.userNew != nil || hooks.otherNew != nil, case .obj(let o) = instance,
                  let e = o as? PyBaseException, !made.isSubtype(of: Exc.osError) {
            // BaseException.__init__ runs after the class's own __new__: the call's
            // arguments become `args` (and keywords are refused), as in CPython.
            try setExceptionKeywords(e, args.keywords, reset: false)
            e.args = args.positional
        } else if args.count > 0 || !args.keywords.isEmpty,
                  !t.isSubtype(of: Exc.baseException), hooks.userNew == nil {
            throw typeError("\(t.name)() takes no arguments")
        }
        return instance
    }
}

/// What creating an instance of a class runs, resolved once per class epoch.
struct CreationHooks {
    /// A user-defined `__new__` (as a callable), or nil for the default.
    var userNew: Value?
    /// A user-defined `__init__`, or nil when only builtin initialisers apply.
    var userInit: PyFunction?
    /// What a user class set as `__init__` / `__new__` when it is not a Conc function
    /// (called as it is: a callable object, or a non-callable that raises TypeError).
    var otherInit: Value?
    var otherNew: Value?
    /// The metaclass's own `__call__` (a Conc function), which `cls(...)` runs instead.
    var metaclassCall: Value?
    /// The class (or a base) defines `__getattribute__` / `__setattr__` in Conc.
    var overridesGetattribute = false
    var overridesSetattr = false
    /// The class derives from list/dict/set/...: its instances are made by that type.
    var hasBuiltinBase = false
    /// `cls(...)` makes a plain ``PyInstance`` and runs `userInit` (if any) on it: no native
    /// constructor, no user `__new__`, no builtin base, not an exception class.
    var makesPlainInstances = false
    /// The only attributes instances may have when every class of the MRO (but `object`)
    /// declares `__slots__` without `__dict__`; nil when instances take any attribute.
    var slotNames: Set<String>?
    /// Names some class of the MRO lists in `__slots__` when instances also have a
    /// `__dict__`: they are left out of it, as CPython keeps them in slots.
    var slotsOutsideDict: Set<String> = []
}

extension PyType {
    /// The `__new__`/`__init__` to run for `cls(...)`, cached until classes change.
    /// The cache is read and filled under the type's lock; the MRO lookups in between take
    /// each type's lock in turn, never inside this one.
    /// The class of the MRO that defines `name`, and its value there.
    private func ownLookup(_ name: String) -> (PyType, Value)? {
        let h = nameHash(name)
        for t in mro { if let v = t.ownAttribute(name, hash: h) { return (t, v) } }
        return nil
    }

    /// What a class the program made defines as `name` for this class (a Conc function, or
    /// a builtin one assigned in the class body: `__setattr__ = dict.__setitem__`), when
    /// it comes before any builtin type's in the MRO; nil when the builtin behaviour applies.
    func userOverride(_ name: String) -> Value? {
        guard let (owner, v) = ownLookup(name), !owner.isBuiltin else { return nil }
        return v
    }

    func creationHooks(_ epoch: Int) -> CreationHooks {
        if let h = locked({ hooksEpoch == epoch ? hooks : nil }) { return h }
        var h = CreationHooks()
        if let nv = lookup("__new__"), case .obj(let nf) = nv {
            if nf is PyFunction { h.userNew = nv }
            if let s = nf as? PyStaticMethod, case .obj(let inner) = s.function, inner is PyFunction { h.userNew = s.function }
        }
        if let iv = lookup("__init__"), case .obj(let io) = iv, let fn = io as? PyFunction { h.userInit = fn }
        // Anything else a class of ours sets as __init__ or __new__ (a callable object, or a
        // mistake such as `__init__ = 5`, which then fails as CPython's does when called).
        if h.userInit == nil, let (owner, iv) = ownLookup("__init__"), !owner.isBuiltin { h.otherInit = iv }
        if h.userNew == nil, let (owner, nv) = ownLookup("__new__"), !owner.isBuiltin {
            // A classmethod `__new__` is bound to the class, as CPython's slot_tp_new gets it
            // through the descriptor protocol (it is then called with the class once more).
            if case .obj(let s as PyStaticMethod) = nv { h.otherNew = s.function }
            else if case .obj(let c as PyClassMethod) = nv { h.otherNew = .obj(PyBoundMethod(.obj(self), c.function)) }
            else { h.otherNew = nv }
        }
        if userOverride("__getattribute__") != nil { h.overridesGetattribute = true }
        if userOverride("__setattr__") != nil { h.overridesSetattr = true }
        if let meta = typeRef, !meta.isBuiltin, let c = meta.lookup("__call__"), case .obj(let co) = c, co is PyFunction {
            h.metaclassCall = c
        }
        h.hasBuiltinBase = builtinBase != nil
        h.makesPlainInstances = constructor == nil && h.userNew == nil && !h.hasBuiltinBase && !isSubtype(of: Exc.baseException)
            && h.metaclassCall == nil && h.otherInit == nil && h.otherNew == nil
        if h.makesPlainInstances || h.userNew != nil, !h.hasBuiltinBase {
            let (names, everyClass) = declaredSlots()
            if everyClass { h.slotNames = names } else if !names.isEmpty { h.slotsOutsideDict = names }
        }
        let old: CreationHooks = locked {
            let o = hooks
            hooks = h
            hooksEpoch = epoch
            return o
        }
        _ = old
        return h
    }

    /// The union of the `__slots__` of the classes of the MRO (private names mangled, as
    /// CPython does), and whether every class but `object` declares them without `__dict__`
    /// (only then are instances limited to these names).
    private func declaredSlots() -> (Set<String>, Bool) {
        var names = Set<String>()
        var everyClass = true
        for t in mro where t !== Types.object {
            guard !t.isBuiltin, let s = t.ownAttribute("__slots__", hash: nameHash("__slots__")) else { everyClass = false; continue }
            // Another iterable: accepted, not enforced.
            guard let listed = PyType.slotNamesListed(s) else { everyClass = false; continue }
            for n in listed {
                if n == "__dict__" { everyClass = false } else { names.insert(Parser.mangle(n, inClass: t.name)) }
            }
        }
        return (names, everyClass)
    }

    /// The str names a `__slots__` value lists, unmangled: a str, or a tuple or list of
    /// them; nil for another kind of iterable (which Conc accepts without enforcing).
    static func slotNamesListed(_ slots: Value) -> [String]? {
        let listed: [Value]
        switch slots {
        case .obj(let o as PyStr): listed = [.obj(o)]
        case .obj(let o as PyTuple): listed = o.items
        case .obj(let o as PyList): listed = o.snapshot
        case .obj(let o as PyDict): listed = o.keys  // `__slots__ = {"x": "its doc"}`
        default: return nil
        }
        return listed.compactMap { $0.asStr?.value }
    }

    /// ``attributeFlags`` for `epoch`, refreshed from ``creationHooks(_:)`` when stale.
    @inline(__always) private func attributeFlagWord(_ epoch: Int) -> Int {
        let w = attributeFlags.load(ordering: .relaxed)
        if w >> 3 == epoch { return w }
        let h = creationHooks(epoch)
        let fresh = (epoch << 3) | (h.overridesGetattribute ? 1 : 0) | (h.slotNames != nil ? 2 : 0)
            | (h.overridesSetattr ? 4 : 0)
        attributeFlags.store(fresh, ordering: .relaxed)
        return fresh
    }

    /// The class (or a base) defines `__getattribute__` in Conc (lock-free after the first call
    /// in an epoch).
    @inline(__always) func overridesGetattribute(_ epoch: Int) -> Bool { attributeFlagWord(epoch) & 1 != 0 }

    /// `__slots__` limit the attributes of instances (then see ``CreationHooks/slotNames``).
    @inline(__always) func hasSlotLimits(_ epoch: Int) -> Bool { attributeFlagWord(epoch) & 2 != 0 }

    /// The class (or a base) defines `__setattr__` in Conc.
    @inline(__always) func overridesSetattr(_ epoch: Int) -> Bool { attributeFlagWord(epoch) & 4 != 0 }

    /// The builtin type (other than object and exceptions) a user class derives from, whose
    /// native layout its instances use (`class Stack(list)` makes PyList objects).
    /// A builtin type whose objects its own constructor makes (every builtin but object
    /// that has one, and the exceptions): it has a `__new__` of its own, and
    /// `object.__new__` refuses to make its objects.
    var hasBuiltinNew: Bool {
        isBuiltin && self !== Types.object && (constructor != nil || isSubtype(of: Exc.baseException))
    }

    /// The first builtin exception class in a user class's MRO (nil for other classes).
    var builtinExceptionBase: PyType? {
        guard !isBuiltin else { return nil }
        return mro.first { $0.isBuiltin && $0.isSubtype(of: Exc.baseException) }
    }

    var builtinBase: PyType? {
        guard !isBuiltin else { return nil }
        for t in mro.dropFirst() where t.isBuiltin && t !== Types.object && t.constructor != nil
            && !t.isSubtype(of: Exc.baseException) { return t }
        return nil
    }
}


