// Attributes and methods of BaseException and its subclasses.

func installExceptionMethods(_ t: PyType) {
    func exc(_ v: Value) -> PyBaseException { v.object as! PyBaseException }
    t.method("__init__") { _, s, a in exc(s).args = a.positional; return .none }
    t.method("__str__") { u, s, _ in .str(try u.exceptionStr(exc(s))) }
    t.method("__repr__") { u, s, _ in
        let e = exc(s)
        let inner = e.args.count == 1 ? try u.repr(e.args[0]) : try e.args.map { try u.repr($0) }.joined(separator: ", ")
        return .str("\(e.type.name)(\(inner))")
    }
    t.method("with_traceback") { _, s, a in
        try a.expect("with_traceback", 1, 1)
        try setTraceback(exc(s), a[0])
        return s
    }
    t.getter("args") { _, s in .obj(PyTuple(exc(s).args)) }
    t.getter("__cause__") { _, s in exc(s).cause.map { .obj($0) } ?? .none }
    t.getter("__context__") { _, s in exc(s).context.map { .obj($0) } ?? .none }
    t.getter("__suppress_context__") { _, s in .bool(exc(s).suppressContext) }
    t.getter("__traceback__") { _, s in exc(s).traceback.isEmpty ? .none : .obj(PyTraceback(exc(s))) }
    t.getter("value") { u, s in
        let e = exc(s)
        if let v = e.instanceAttribute("value") { return v }
        return e.type.isSubtype(of: Exc.stopIteration) && !e.args.isEmpty ? e.args[0] : .none
    }
    t.getter("code") { _, s in
        let e = exc(s)
        if let v = e.instanceAttribute("code") { return v }
        return e.args.isEmpty ? .none : e.args.count == 1 ? e.args[0] : .obj(PyTuple(e.args))
    }
    t.getter("errno") { _, s in exc(s).instanceAttribute("errno") ?? (exc(s).args.count >= 2 ? exc(s).args[0] : .none) }
    t.getter("strerror") { _, s in exc(s).instanceAttribute("strerror") ?? (exc(s).args.count >= 2 ? exc(s).args[1] : .none) }
    t.getter("filename") { _, s in exc(s).instanceAttribute("filename") ?? .none }
    t.getter("filename2") { _, s in exc(s).instanceAttribute("filename2") ?? .none }
    t.getter("msg") { _, s in exc(s).instanceAttribute("msg") ?? (exc(s).args.first ?? .none) }
    t.getter("lineno") { _, s in exc(s).instanceAttribute("lineno") ?? .none }
    t.getter("name") { _, s in exc(s).instanceAttribute("name") ?? .none }
}

extension Unit {
    /// Handles assignments to exception attributes stored outside `attrs`.
    func setExceptionAttribute(_ e: PyBaseException, _ name: String, _ value: Value) throws -> Bool {
        switch name {
        case "args": e.args = try toArray(value); return true
        case "__cause__":
            e.cause = value.isNone ? nil : try makeException(value, self); e.suppressContext = true; return true
        case "__context__": e.context = value.isNone ? nil : try makeException(value, self); return true
        case "__suppress_context__": e.suppressContext = try isTruthy(value); return true
        case "__traceback__": try setTraceback(e, value); return true
        default: return false
        }
    }
}

/// `e.__traceback__ = tb` / `e.with_traceback(tb)`: the entries of `tb` (from its frame
/// inward), or none for None.
private func setTraceback(_ e: PyBaseException, _ tb: Value) throws {
    if tb.isNone { e.traceback = []; e.needsLocation = true; return }
    guard case .obj(let o) = tb, let t = o as? PyTraceback else {
        throw typeError("__traceback__ must be a traceback or None")
    }
    e.traceback = Array(t.entries[..<(t.entries.count - t.position)])
    e.needsLocation = e.traceback.isEmpty
}

/// `tb.tb_lineno`, `tb.tb_next`, `tb.tb_lasti`, `tb.tb_frame` (None: Conc keeps no frame
/// objects).
func installTracebackAttributes(_ t: PyType) {
    func tb(_ v: Value) -> PyTraceback { v.object as! PyTraceback }
    t.getter("tb_lineno") { _, s in .int(tb(s).entry.loc.line) }
    t.getter("tb_next") { _, s in
        let t = tb(s)
        return t.position + 1 < t.entries.count ? .obj(PyTraceback(entries: t.entries, position: t.position + 1)) : .none
    }
    t.getter("tb_lasti") { _, _ in .int(0) }
    t.getter("tb_frame") { _, _ in .none }
}
