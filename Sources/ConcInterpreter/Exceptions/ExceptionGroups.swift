// BaseExceptionGroup and ExceptionGroup (PEP 654, CPython 3.11): making them, their
// message and exceptions, split/subgroup/derive, and the matching and re-raising that
// `except*` does (TryStarNode, Nodes+Exceptions.swift).
import CConcSys
import ConcSyntax

extension PyBaseException {
    /// True for an instance of BaseExceptionGroup or a subclass.
    var isGroup: Bool { groupExceptions != nil }
}

extension Unit {
    /// An instance of exception class `cls` made from `args`, as its `__new__` makes it
    /// (OSError picks its subclass by errno; an exception group checks its members).
    func newException(_ cls: PyType, _ args: [Value]) throws -> PyBaseException {
        if cls.isSubtype(of: Exc.osError) { return makeOSError(cls, args) }
        if cls.isSubtype(of: Exc.baseExceptionGroup) { return try makeExceptionGroup(cls, args, self) }
        return PyBaseException(type: cls, args: args)
    }
}

/// `BaseExceptionGroup.__new__(cls, message, exceptions)`: CPython's checks and words. A
/// BaseExceptionGroup of Exceptions only is made an ExceptionGroup; an ExceptionGroup
/// refuses a BaseException that is not an Exception.
func makeExceptionGroup(_ cls: PyType, _ args: [Value], _ u: Unit) throws -> PyBaseException {
    guard args.count == 2 else {
        throw typeError("BaseExceptionGroup.__new__() takes exactly 2 arguments (\(args.count) given)")
    }
    guard args[0].asStr != nil else { throw typeError("BaseExceptionGroup.__new__() argument 1 must be str, not \(args[0].argTypeName)") }
    // A sequence: a list, a tuple, or what has __getitem__ and __len__ and is no mapping or set.
    guard case .obj(let o) = args[1], o is PyList || o is PyTuple
            || (!(o is PyDict) && !(o is PySet) && u.lookupSpecial(args[1], "__getitem__") != nil
                && u.lookupSpecial(args[1], "__len__") != nil) else {
        throw typeError("second argument (exceptions) must be a sequence")
    }
    let items = try u.toArray(args[1])
    if items.isEmpty { throw valueError("second argument (exceptions) must be a non-empty sequence") }
    var nestsBaseExceptions = false
    for (i, item) in items.enumerated() {
        guard case .obj(let o) = item, let e = o as? PyBaseException else {
            throw valueError("Item \(i) of second argument (exceptions) is not an exception")
        }
        if !e.type.isSubtype(of: Exc.exception) { nestsBaseExceptions = true }
    }
    var type = cls
    if cls === Exc.baseExceptionGroup {
        if !nestsBaseExceptions { type = Exc.exceptionGroup }
    } else if cls === Exc.exceptionGroup {
        if nestsBaseExceptions { throw typeError("Cannot nest BaseExceptions in an ExceptionGroup") }
    } else if nestsBaseExceptions && cls.isSubtype(of: Exc.exception) {
        throw typeError("Cannot nest BaseExceptions in '\(cls.name)'")
    }
    let g = PyBaseException(type: type, args: args)
    g.groupMessage = args[0]
    g.groupExceptions = PyTuple(items)
    return g
}

func installExceptionGroupMethods(_ t: PyType) {
    func group(_ v: Value, _ what: String) throws -> PyBaseException {
        guard case .obj(let o) = v, let g = o as? PyBaseException, g.isGroup else {
            throw typeError("descriptor '\(what)' requires a 'BaseExceptionGroup' object but received a '\(v.typeName)'")
        }
        return g
    }
    t.getter("message") { _, s in try group(s, "message").groupMessage }
    t.getter("exceptions") { _, s in .obj(try group(s, "exceptions").groupExceptions!) }
    t.method("derive") { u, s, a in
        try ContainerArgs.range(a, "derive", 1, 1)
        return try u.call(.obj(Exc.baseExceptionGroup), [try group(s, "derive").groupMessage, a[0]])
    }
    t.method("split") { u, s, a in
        try ContainerArgs.range(a, "split", 1, 1)
        let g = try group(s, "split")
        let (match, rest) = try u.splitExceptionGroup(g, try ExceptionMatcher(a[0], u), constructRest: true)
        return .obj(PyTuple([match.map { .obj($0) } ?? .none, rest.map { .obj($0) } ?? .none]))
    }
    t.method("subgroup") { u, s, a in
        try ContainerArgs.range(a, "subgroup", 1, 1)
        let g = try group(s, "subgroup")
        return try u.splitExceptionGroup(g, try ExceptionMatcher(a[0], u), constructRest: false).match.map { .obj($0) } ?? .none
    }
    t.classFunction("__class_getitem__") { _, a in
        try a.expect("__class_getitem__", 2, 2)
        return .obj(PyGenericAlias(origin: a[0], index: a[1]))
    }
}

/// What split() and subgroup() keep: instances of a class (or of a tuple's classes),
/// what a predicate accepts, or (for `except*`'s re-raise) given leaf exceptions.
enum ExceptionMatcher {
    case types(Value)
    case predicate(Value)
    case leaves(Set<ObjectIdentifier>)

    init(_ condition: Value, _ u: Unit) throws {
        if ExceptionMatcher.isExceptionClassSpec(condition) {
            self = .types(condition)
        } else if case .obj(let o) = condition, !(o is PyType), isCallable(u, condition) {
            self = .predicate(condition)
        } else {
            throw typeError("expected a function, exception type or tuple of exception types")
        }
    }

    /// An exception class, or a tuple of exception classes.
    static func isExceptionClassSpec(_ v: Value) -> Bool {
        guard case .obj(let o) = v else { return false }
        if let t = o as? PyType { return t.isSubtype(of: Exc.baseException) }
        if let tuple = o as? PyTuple { return tuple.items.allSatisfy { ($0.object as? PyType)?.isSubtype(of: Exc.baseException) == true } }
        return false
    }

    func matches(_ e: PyBaseException, _ u: Unit) throws -> Bool {
        switch self {
        case .types(let spec): return try exceptionMatches(e, spec, u)
        case .predicate(let f): return try u.isTruthy(try u.call(f, [.obj(e)]))
        case .leaves(let ids): return ids.contains(ObjectIdentifier(e))
        }
    }
}

extension Unit {
    /// CPython's exceptiongroup_split_recursive: the part of `e` that matches and (with
    /// `constructRest`) the part that does not, each made with `derive()` and given `e`'s
    /// traceback, cause, context and notes; `e` itself when all of it is one part.
    func splitExceptionGroup(_ e: PyBaseException, _ matcher: ExceptionMatcher, constructRest: Bool, depth: Int = 0) throws
        -> (match: PyBaseException?, rest: PyBaseException?) {
        // Groups nested thousands deep: a RecursionError, as CPython's C recursion limit gives.
        if depth > engine.recursionLimit || UInt(CConcSys_current_sp()) < stackLimit {
            throw pyError(Exc.recursionError, "maximum recursion depth exceeded")
        }
        if try matcher.matches(e, self) { return (e, nil) }
        guard e.isGroup else { return (nil, constructRest ? e : nil) }
        var matched: [Value] = []
        var rest: [Value] = []
        for item in e.groupExceptions!.items {
            guard case .obj(let o) = item, let member = o as? PyBaseException else { continue }
            let (m, r) = try splitExceptionGroup(member, matcher, constructRest: constructRest, depth: depth + 1)
            if let m { matched.append(.obj(m)) }
            if constructRest, let r { rest.append(.obj(r)) }
        }
        return (try subset(of: e, matched), constructRest ? try subset(of: e, rest) : nil)
    }

    /// `e.derive(items)` carrying `e`'s traceback, cause, context and (a copy of) its
    /// notes; nil for no items.
    private func subset(of e: PyBaseException, _ items: [Value]) throws -> PyBaseException? {
        if items.isEmpty { return nil }
        let made = try callMethod(.obj(e), "derive", [.obj(PyList(items))])
        guard case .obj(let o) = made, let g = o as? PyBaseException, g.isGroup else {
            throw typeError("derive must return an instance of BaseExceptionGroup")
        }
        g.shareTraceback(with: e)
        g.cause = e.cause
        g.context = e.context
        g.suppressContext = e.suppressContext
        // A sequence of notes is copied (each part gets its own list); anything else is not.
        if let notes = e.instanceAttribute("__notes__"), case .obj(let n) = notes, !(n is PyDict),
           n is PyList || n is PyTuple || lookupSpecial(notes, "__getitem__") != nil {
            g.setInstanceAttribute("__notes__", .obj(PyList(try toArray(notes))))
        }
        return g
    }

    /// What one `except* T` clause takes from `e`: (match, rest). A bare exception that
    /// matches is wrapped in an ExceptionGroup with an empty message.
    func exceptStarMatch(_ e: PyBaseException, _ spec: Value) throws -> (match: PyBaseException?, rest: PyBaseException?) {
        if try exceptionMatches(e, spec, self) {
            if e.isGroup { return (e, nil) }
            // (With no traceback of its own while handled, as in CPython.)
            let wrapped = try makeExceptionGroup(Exc.baseExceptionGroup, [.str(""), .obj(PyTuple([.obj(e)]))], self)
            wrapped.needsLocation = false
            return (wrapped, nil)
        }
        if e.isGroup { return try splitExceptionGroup(e, .types(spec), constructRest: true) }
        return (nil, e)
    }

    /// CPython's _PyExc_PrepReraiseStar: after the `except*` clauses of a `try` that caught
    /// `original`, what to raise from `raised` (exceptions the handlers raised, then the
    /// part no clause matched; nil entries are nothing). Exceptions re-raised unchanged
    /// (a bare `raise`, the unmatched rest) go back in the shape of `original`; new ones
    /// join them in a new group. nil: nothing to raise.
    func exceptStarReraise(_ original: PyBaseException, _ raised: [PyBaseException?]) throws -> PyBaseException? {
        guard original.isGroup else { return raised.first ?? nil }
        var new: [PyBaseException] = []
        var reraised: [PyBaseException] = []
        for case let e? in raised {
            if sameMetadata(e, original) { reraised.append(e) } else { new.append(e) }
        }
        var leaves = Set<ObjectIdentifier>()
        for e in reraised { collectLeaves(e, &leaves) }
        let kept = leaves.isEmpty ? nil : try splitExceptionGroup(original, .leaves(leaves), constructRest: false).match
        if new.isEmpty { return kept }
        // One new exception and nothing re-raised escapes alone (gh-103590, in 3.11.4).
        if new.count == 1 && kept == nil { return new[0] }
        let members = new.map { Value.obj($0) } + (kept.map { [.obj($0)] } ?? [])
        let g = try makeExceptionGroup(Exc.baseExceptionGroup, [.str(""), .obj(PyList(members))], self)
        g.needsLocation = false
        return g
    }

    /// Whether `a` is `b` or a part of it split off unchanged (same traceback, cause and
    /// context; the parts' notes are copies, so notes are not compared).
    private func sameMetadata(_ a: PyBaseException, _ b: PyBaseException) -> Bool {
        a.cause === b.cause && a.context === b.context && a.traceback.count == b.traceback.count
            && zip(a.traceback, b.traceback).allSatisfy { $0.loc == $1.loc && $0.file === $1.file }
    }

    /// The exceptions of `e` that are not groups, however deep (a work list: no recursion).
    private func collectLeaves(_ e: PyBaseException, _ into: inout Set<ObjectIdentifier>) {
        var pending = [e]
        while let x = pending.popLast() {
            guard let members = x.groupExceptions else { into.insert(ObjectIdentifier(x)); continue }
            for case .obj(let o) in members.items { if let m = o as? PyBaseException { pending.append(m) } }
        }
    }
}
