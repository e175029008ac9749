import CConcShared
#if canImport(Glibc)
import Glibc
#endif
// The methods and attributes of unit handles (`h = thread f()`): join, is_alive, name...

extension PyUnitHandle {
    /// `<thread Thread-1 running>`, `<thread Thread-1 done>`.
    var repr: String {
        let state = isDone ? "done" : "running"
        return "<\(kind.rawValue) \(name)\(daemon ? " daemon" : "") \(state)>"
    }
}

/// A process handle used in a process that did not spawn it (a sibling's copy, inherited
/// through a later fork): CPython's AssertionError, and what to do instead.
private func notOurChild(_ h: PyUnitHandle, _ verb: String) -> PyBaseException {
    pyError(Exc.assertionError, "can only \(verb) a child process (\(h.name) was spawned by another process: "
                                + "only that one can \(verb == "join" ? "join" : "ask after") it; to hear from it here, share an event() or a queue())")
}

func installUnitHandleMethods(_ t: PyType) {
    func handle(_ v: Value) -> PyUnitHandle { v.object as! PyUnitHandle }
    t.method("join") { u, s, a in
        try a.expect("join", 0, 1, keywords: ["timeout"])
        let h = handle(s)
        if h.process == nil && h.unitNumber == u.number { throw runtimeError("cannot join current thread") }
        if let p = h.process, !p.isOurChild { throw notOurChild(h, "join") }
        var timeout: Double? = nil
        if let t = a.argument(0, "timeout"), !t.isNone {
            let d = try u.floatArg(t)
            if d.isNaN { throw valueError("Invalid value NaN (not a number)") }
            timeout = max(0, d)
        }
        guard try h.wait(u, timeout: timeout) else { return .none }
        // A Ctrl-C (or interrupt_main()) that came while joining is raised by the join, as
        // CPython's is, even when the unit ended meanwhile (it may be what sent it); the
        // join can be repeated.
        try u.checkInterrupt()
        try h.takeProcessOutcome(u)
        if let e = h.error {
            if e.isSystemExit { return .none }
            throw e
        }
        return h.result
    }
    t.method("is_alive") { _, s, a in
        try a.expect("is_alive", 0, 0)
        if let p = handle(s).process, !p.isOurChild { throw notOurChild(handle(s), "test") }
        return .bool(!handle(s).isDone)
    }
    t.getter("name") { _, s in .str(handle(s).name) }
    t.getter("daemon") { _, s in .bool(handle(s).daemon) }
    t.getter("ident") { _, s in .int(handle(s).ident) }
    t.getter("native_id") { _, s in
        let h = handle(s)
        h.nativeIDSeen.store(true, ordering: .relaxed)
        return .int(h.nativeID)
    }
    t.getter("kind") { _, s in .str(handle(s).kind.rawValue) }
    t.getter("pid") { _, s in
        guard let p = handle(s).process else { return .int(Int(getpid())) }
        return .int(Int(p.pid))
    }
    t.getter("exitcode") { _, s in
        guard let p = handle(s).process else { return .none }
        _ = p.reap(wait: false)
        return p.exitCode.map { .int($0) } ?? .none
    }
    t.method("terminate") { _, s, a in
        try a.expect("terminate", 0, 0)
        guard let p = handle(s).process else { throw typeError("terminate() is for processes started with spawn") }
        if p.status == nil { kill(p.pid, SIGTERM) }
        return .none
    }
    t.method("kill") { _, s, a in
        try a.expect("kill", 0, 0)
        guard let p = handle(s).process else { throw typeError("kill() is for processes started with spawn") }
        if p.status == nil { kill(p.pid, SIGKILL) }
        return .none
    }
}
