// try/except/else/finally, raise, and with.
import ConcSyntax

/// One compiled `except` clause.
struct HandlerNode {
    let type: ExprNode?
    let target: ExprNode?
    let body: StmtNode
    let loc: SourceLoc
}

/// `try` with `except` clauses (or only `finally`); ``TryStarNode`` for `except*` ones.
class TryNode: StmtNode {
    let body: StmtNode
    let handlers: [HandlerNode]
    let orElse: StmtNode?
    let finally: StmtNode?
    required init(_ body: StmtNode, _ handlers: [HandlerNode], _ orElse: StmtNode?, _ finally: StmtNode?, _ loc: SourceLoc) {
        self.body = body; self.handlers = handlers; self.orElse = orElse; self.finally = finally; super.init(loc)
    }

    override func exec(_ f: Frame) throws -> Completion {
        var completion: Completion
        do {
            completion = try runBodyAndHandlers(f)
        } catch {
            if let e = error as? PyBaseException { takeContext(e, f.unit) }
            if let fin = finally {
                let saved = f.returnValue
                let c: Completion
                // While `finally` runs for a propagating exception, that exception is the
                // one being handled (sys.exc_info(), the context of a new raise), as in CPython.
                let u = f.unit
                let propagating = error as? PyBaseException
                let depth = u.handling.count
                if let p = propagating { u.handling.append(p) }
                defer {
                    // A generator's finally may have yielded and been resumed by another
                    // unit, which then holds the entry (resume moves them): pop it there.
                    if propagating != nil {
                        let now = f.unit
                        if now === u { u.handling.removeLast(u.handling.count - depth) } else if !now.handling.isEmpty { now.handling.removeLast() }
                    }
                }
                do { c = try fin.exec(f) } catch let inner as PyBaseException {
                    if let outer = error as? PyBaseException {
                        if isSameDeadlock(inner, outer, u) { throw outer }
                        if inner.context == nil, inner !== outer { inner.chain(to: outer) }
                    }
                    throw inner
                }
                if case .normal = c { f.returnValue = saved; throw error }
                return c  // return/break in finally swallows the exception, as in Python
            }
            throw error
        }
        if let fin = finally {
            let saved = f.returnValue
            let c = try fin.exec(f)
            if case .normal = c { f.returnValue = saved } else { completion = c }
        }
        return completion
    }

    /// The body, then the clause that matches what it raised, or the `else` block.
    func runBodyAndHandlers(_ f: Frame) throws -> Completion {
        let c: Completion
        do {
            c = try body.exec(f)
        } catch let e as PyBaseException {
            let u = f.unit
            takeContext(e, u)
            for h in handlers where try matchesWhileHandling(h, e, f) {
                if e.type === Exc.deadlockError, u.isMain { u.engine.deadlockCaught() }
                if let t = h.target { try t.assign(f, .obj(e)) }
                u.handling.append(e)
                defer { f.unit.handling.removeLast() }  // the unit running now (see finally above)
                do {
                    let hc = try h.body.exec(f)
                    if let t = h.target { try? t.delete(f) }
                    return hc
                } catch let inner as PyBaseException {
                    if let t = h.target { try? t.delete(f) }
                    if inner === e && e.type === Exc.deadlockError && u.isMain { u.engine.deadlockReraised() }
                    if inner !== e && inner.context == nil && !inner.contextSettled { inner.chain(to: e) }
                    throw inner
                }
            }
            throw e
        }
        if case .normal = c, let o = orElse { return try o.exec(f) }
        return c
    }

    /// An exception the interpreter raised (not a `raise` statement, which links it
    /// itself) while another was being handled gets that one as its `__context__`, as
    /// CPython links every new exception when it is raised. Done where it is caught: the
    /// exceptions being handled there are those of the point where it was raised.
    @inline(__always) final func takeContext(_ e: PyBaseException, _ u: Unit) {
        if e.context == nil, !e.contextSettled, let handled = u.handling.last, handled !== e { e.chain(to: handled) }
    }

    /// `matches`, with an error raised by the clause's type expression itself (a NameError,
    /// a type that is not an exception class) linked to `e` as its context: `e` is being
    /// handled while the clause is tested, as in CPython.
    private func matchesWhileHandling(_ h: HandlerNode, _ e: PyBaseException, _ f: Frame) throws -> Bool {
        do { return try matches(h, e, f) } catch let inner as PyBaseException {
            if inner !== e && inner.context == nil && !inner.contextSettled { inner.chain(to: e) }
            throw inner
        }
    }

    private func matches(_ h: HandlerNode, _ e: PyBaseException, _ f: Frame) throws -> Bool {
        // The `except` line runs now (f_lineno, the line a frame left by this exception
        // was last at, says so, as CPython's).
        f.line = h.loc.line
        guard let typeExpr = h.type else { return true }
        let t = try typeExpr.eval(f)
        // A class that is not an exception is reported at the `except` line, as CPython does;
        // so is a tuple holding anything but exception classes (a nested tuple included).
        do {
            if case .obj(let o) = t, let tuple = o as? PyTuple, !tuple.items.allSatisfy(isExceptionClass) {
                throw typeError("catching classes that do not inherit from BaseException is not allowed")
            }
            return try exceptionMatches(e, t, f.unit)
        } catch { throw located(error, f, h.loc, .statement) }
    }
}

/// `try` with `except*` clauses (PEP 654): each clause takes the part of the exception
/// (group) its types match, as `split()` would; exceptions the clauses raise and the part
/// none took are raised again after the last clause (``Unit/exceptStarReraise(_:_:)``).
final class TryStarNode: TryNode {
    override func runBodyAndHandlers(_ f: Frame) throws -> Completion {
        let c: Completion
        do {
            c = try body.exec(f)
        } catch let e as PyBaseException {
            let u = f.unit
            takeContext(e, u)
            var rest: PyBaseException? = e
            var outcomes: [PyBaseException?] = []
            for h in handlers {
                guard let current = rest else { break }
                f.line = h.loc.line
                let (match, remaining) = try clauseMatch(h, current, f)
                rest = remaining
                guard let m = match else { continue }
                if let raised = try runClause(h, m, f) { outcomes.append(raised) }
            }
            outcomes.append(rest)
            if let raised = try u.exceptStarReraise(e, outcomes) {
                if raised === e { e.needsLocation = false }
                throw raised
            }
            return .normal
        }
        if case .normal = c, let o = orElse { return try o.exec(f) }
        return c
    }

    /// Runs clause `h` for its part `m`: what it raised, or nil.
    private func runClause(_ h: HandlerNode, _ m: PyBaseException, _ f: Frame) throws -> PyBaseException? {
        if let t = h.target { try t.assign(f, .obj(m)) }
        f.unit.handling.append(m)
        defer {
            f.unit.handling.removeLast()  // the unit running now (see TryNode.exec)
            if let t = h.target { try? t.delete(f) }
        }
        do {
            _ = try h.body.exec(f)  // (no break, continue or return: a syntax error)
            return nil
        } catch let inner as PyBaseException {
            if inner !== m && inner.context == nil && !inner.contextSettled { inner.chain(to: m) }
            return inner
        }
    }

    /// The clause's types, checked as CPython checks them, and what they take from `e`.
    private func clauseMatch(_ h: HandlerNode, _ e: PyBaseException, _ f: Frame) throws
        -> (match: PyBaseException?, rest: PyBaseException?) {
        do {
            let spec = try h.type!.eval(f)
            let classes: [Value]
            if case .obj(let t as PyTuple) = spec { classes = t.items } else { classes = [spec] }
            for c in classes {
                guard case .obj(let o) = c, let t = o as? PyType, t.isSubtype(of: Exc.baseException) else {
                    throw located(typeError("catching classes that do not inherit from BaseException is not allowed"), f, h.loc, .statement)
                }
                if t.isSubtype(of: Exc.baseExceptionGroup) {
                    throw located(typeError("catching ExceptionGroup with except* is not allowed. Use except instead."), f, h.loc, .statement)
                }
            }
            return try f.unit.exceptStarMatch(e, spec)
        } catch let inner as PyBaseException {
            if inner !== e && inner.context == nil && !inner.contextSettled { inner.chain(to: e) }
            throw inner
        }
    }
}

/// Whether exception `e` is an instance of class (or tuple of classes) `spec`.
/// True for a class deriving from BaseException.
func isExceptionClass(_ v: Value) -> Bool {
    if case .obj(let o) = v, let t = o as? PyType { return t.isSubtype(of: Exc.baseException) }
    return false
}

func exceptionMatches(_ e: PyBaseException, _ spec: Value, _ u: Unit) throws -> Bool {
    if case .obj(let o) = spec {
        if let t = o as? PyType, t.isSubtype(of: Exc.baseException) { return e.type.isSubtype(of: t) }
        if let tuple = o as? PyTuple {
            // Every class of the tuple is checked, even after a match, as CPython does.
            var found = false
            for item in tuple.items where try nestedSpec(u, item, "", { try exceptionMatches(e, item, u) }) { found = true }
            return found
        }
    }
    throw typeError("catching classes that do not inherit from BaseException is not allowed")
}

final class RaiseNode: StmtNode {
    let exception: ExprNode?
    let cause: ExprNode?
    init(_ e: ExprNode?, _ c: ExprNode?, _ loc: SourceLoc) { exception = e; cause = c; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion {
        let u = f.unit
        guard let exprNode = exception else {
            guard let current = u.handling.last else { throw runtimeError("No active exception to reraise") }
            current.needsLocation = false
            throw current
        }
        let e = try makeException(try exprNode.eval(f), u)
        if let c = cause {
            let cv = try c.eval(f)
            if cv.isNone {
                e.cause = nil
            } else {
                do { e.cause = try makeException(cv, u) } catch let bad as PyBaseException where bad.type === Exc.typeError {
                    throw typeError("exception causes must derive from BaseException")
                }
            }
            e.suppressContext = true
        }
        // As CPython: `raise X` while handling H makes H the context, even of an exception
        // raised before (re-raising a caught exception object).
        if let h = u.handling.last, h !== e { e.chain(to: h) }
        e.contextSettled = true
        e.needsLocation = true
        throw e
    }
}

/// `raise X`: X may be an exception instance or class.
func makeException(_ v: Value, _ u: Unit) throws -> PyBaseException {
    if case .obj(let o) = v {
        if let e = o as? PyBaseException { return e }
        if let t = o as? PyType, t.isSubtype(of: Exc.baseException) {
            let inst = try u.call(v, [])
            if case .obj(let io) = inst, let e = io as? PyBaseException { return e }
            throw typeError("calling \(try u.repr(v)) should have returned an instance of BaseException, not \(try u.repr(.obj(inst.type)))")
        }
    }
    throw typeError("exceptions must derive from BaseException")
}

/// `with a as x, b as y:` (nested managers, entered left to right).
final class WithNode: StmtNode {
    let items: [(context: ExprNode, target: ExprNode?)]
    let body: StmtNode
    /// The manager of `with EXPR:` (one manager, no `as`), the form `with some_lock:`
    /// takes, run without the general path's array accesses. Unmanaged: nodes are immortal.
    private let soleManager: Unmanaged<ExprNode>?
    init(_ items: [(context: ExprNode, target: ExprNode?)], _ body: StmtNode, _ loc: SourceLoc) {
        self.items = items; self.body = body
        soleManager = items.count == 1 && items[0].target == nil ? Unmanaged.passRetained(items[0].context) : nil
        super.init(loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        guard let m = soleManager else { return try enter(0, f) }
        var manager = try m._withUnsafeGuaranteedRef { try $0.eval(f) }
        // The lock is used unretained: `manager` holds it for the whole block. (Binding it
        // with `case .obj(let o)` retained it once more, and released it after: two atomic
        // writes to a reference count that every thread taking this lock shares.)
        if let o = withUnsafeMutablePointer(to: &manager, { $0.unretainedObject }),
           o._withUnsafeGuaranteedRef({ type(of: $0) == PyLock.self }) {
            return try withExtendedLifetime(manager) {
                try o._withUnsafeGuaranteedRef { try withLock(unsafeDowncast($0, to: PyLock.self), f) }
            }
        }
        return try enter(manager, 0, f)
    }

    /// `with some_lock:`: without method lookups or argument arrays. The release is by the
    /// unit running the frame at the end of the block, which in a generator may be another
    /// thread than the one that acquired (then an rlock refuses, as CPython's does).
    private func withLock(_ l: PyLock, _ f: Frame) throws -> Completion {
        do { try f.withUnit { try l.acquire($0, in: f) } } catch { throw located(error, f, items[0].context.loc) }
        let c: Completion
        do { c = try body.exec(f) } catch {
            try f.withUnit { try l.release($0) }
            throw located(error, f, loc)
        }
        try f.withUnit { try l.release($0) }
        return c
    }

    private func enter(_ i: Int, _ f: Frame) throws -> Completion {
        if i == items.count { return try body.exec(f) }
        let manager = try items[i].context.eval(f)
        if case .obj(let o) = manager, let l = o as? PyLock, items[i].target == nil {
            do { try l.acquire(f.unit, in: f) } catch { throw located(error, f, items[i].context.loc) }
            let c: Completion
            do { c = try enter(i + 1, f) } catch {
                try l.release(f.unit)
                throw located(error, f, loc)
            }
            try l.release(f.unit)
            return c
        }
        return try enter(manager, i, f)
    }

    /// Enters item `i`, whose manager is already evaluated, through `__enter__`/`__exit__`.
    private func enter(_ manager: Value, _ i: Int, _ f: Frame) throws -> Completion {
        let u = f.unit
        let enterFn = manager.type.lookup("__enter__", hash: enterHash)
        guard let enterFn, let exitFn = manager.type.lookup("__exit__", hash: exitHash) else {
            // CPython 3.11 names the missing half only when __enter__ is there.
            let missing = enterFn == nil ? "" : " (missed __exit__ method)"
            // Reported at the `with` line, unmarked, as CPython 3.11 does (BEFORE_WITH).
            throw located(typeError("'\(manager.typeName)' object does not support the context manager protocol\(missing)"), f, loc, .statement)
        }
        let value = try u.callSpecial(enterFn, on: manager, WithNode.noArguments)
        let c: Completion
        do {
            // Binding the target is inside the protected region, as in CPython: if it
            // fails, __exit__ still runs (a lock taken by __enter__ is released).
            if let t = items[i].target { try t.assign(f, value) }
            c = try enter(i + 1, f)
        } catch let e as PyBaseException {
            let e2 = located(e, f, loc) as! PyBaseException
            u.handling.append(e2)
            defer { f.unit.handling.removeLast() }
            let suppress: Value
            // __exit__ runs at the `with` line (f_lineno, as in CPython); the exception it
            // lets through leaves the frame at the line it came from.
            let raisedAt = f.line
            f.line = loc.line
            do {
                suppress = try u.callSpecial(exitFn, on: manager, [.obj(e2.type), .obj(e2), .obj(PyTraceback(e2))])
            } catch let inner as PyBaseException {
                if isSameDeadlock(inner, e2, u) { throw e2 }
                // An error of __exit__ itself happened while e2 was being handled.
                if inner !== e2 && inner.context == nil && !inner.contextSettled { inner.chain(to: e2) }
                throw inner
            }
            if try u.isTruthy(suppress) {
                if e2.type === Exc.deadlockError, u.isMain { u.engine.deadlockCaught() }
                return .normal
            }
            f.line = raisedAt
            throw e2
        }
        f.line = loc.line
        _ = try u.callSpecial(exitFn, on: manager, WithNode.threeNones)
        return c
    }

    let enterHash = nameHash("__enter__")
    let exitHash = nameHash("__exit__")
    nonisolated(unsafe) static let noArguments: [Value] = []  // immutable: never written after initialisation
    nonisolated(unsafe) static let threeNones: [Value] = [.none, .none, .none]  // immutable: never written after initialisation
}

extension Unit {
    /// Calls special method `attr` (found on `receiver`'s class) without making a bound
    /// method object first.
    @inline(__always) func callSpecial(_ attr: Value, on receiver: Value, _ args: [Value]) throws -> Value {
        if case .obj(let o) = attr {
            if let d = o as? PyMethodDescriptor { return try d.fn(self, receiver, Args(args)) }
            if let fn = o as? PyFunction { return try callFunction(fn, Args([receiver] + args)) }
        }
        return try call(try resolveDescriptor(attr, receiver), Args(args))  // a property or other descriptor too
    }
}

/// True when cleanup code (a `finally`, an `__exit__`) run for the main unit's propagating
/// DeadlockError `outer` blocked again and got a DeadlockError `inner`: every other unit is
/// still frozen in the deadlock `outer` reports (nothing caught it), so `inner` is a second
/// report of the same one (e.g. a thread pool's `with` joining its stuck workers). The
/// caller lets `outer` go on alone instead of printing both, chained.
func isSameDeadlock(_ inner: PyBaseException, _ outer: PyBaseException, _ u: Unit) -> Bool {
    inner !== outer && inner.type === Exc.deadlockError && outer.type === Exc.deadlockError
        && u.isMain && u.engine.deadlocked
}
