// `os.fork()` and the `os.wait*` family: the notes' first lesson on processes, one level
// below `spawn`. The fork is made the way `spawn` makes it (every other unit stopped at a
// safe point, output flushed, shared primitives retained for the child, a family slot so
// cross-process deadlock checks count the child), but the child then simply goes on with
// the program after the call, getting 0, as in CPython; the parent gets the pid and reaps
// it with os.wait()/os.waitpid() (a child never waited for is a zombie until then, which is
// the lesson; the end of the program reaps the ones that exited).
import CConcShared
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

extension Unit {
    /// `os.fork()`: 0 in the child, the child's pid in the parent.
    func forkProcess() throws -> Int {
        let pid = try forkSafely(childName: engine.processName, daemon: engine.isDaemonProcess) { pid, _ in
            engine.units.withLock { engine.rawChildren.append(pid) }
        }
        if pid == 0 { engine.units.withLock { engine.rawChildren = [] } }  // the parent's children are not this one's
        return Int(pid)
    }

    /// `os.waitpid(pid, options)` (`os.wait()` is pid -1): `(pid, status)`, or `(0, 0)`
    /// under WNOHANG while the child runs. Blocks only this unit, never counted as a
    /// deadlock (the child is another process); Ctrl-C interrupts it.
    /// `usage`, when given, receives the child's resource usage (os.wait3/wait4).
    func waitForChild(_ pid: pid_t, options: Int32, usage: UnsafeMutablePointer<rusage>? = nil) throws -> (pid_t, Int32) {
        var status: Int32 = 0
        while true {
            let r = blockingCall { wait4(pid, &status, options, usage) }
            if r >= 0 {
                if r > 0 {
                    engine.units.withLock { engine.rawChildren.removeAll { $0 == r } }
                    engine.releaseFamilySlot(ofReaped: r)
                }
                return (r, r == 0 ? 0 : status)
            }
            if errno == EINTR { try checkInterrupt(); continue }
            throw osError(errno)
        }
    }
}

/// One `os.register_at_fork(before=, after_in_parent=, after_in_child=)` call.
struct ForkHooks {
    var before: Value?
    var afterInParent: Value?
    var afterInChild: Value?
}

let waitidResultFields = ["si_pid", "si_uid", "si_signo", "si_status", "si_code"]

extension Unit {
    /// `os.wait4(pid, options)` (`os.wait3` is pid -1): `(pid, status, struct_rusage)`.
    func waitWithUsage(_ pid: pid_t, options: Int32) throws -> Value {
        var usage = rusage()
        let (r, s) = try waitForChild(pid, options: options, usage: &usage)
        if r == 0 { usage = rusage() }  // (WNOHANG, no child ready: nothing was filled in)
        return .obj(PyTuple([.int(Int(r)), .int(Int(s)), rusageValue(usage)]))
    }

    /// `os.waitid(idtype, id, options)`: a `waitid_result`, or None under WNOHANG while no
    /// child has a state to report. Blocks only this unit, as waitpid does.
    func waitForChildState(idType: Int32, id: Int32, options: Int32) throws -> Value {
        var info = CConcSys_waitid_info()
        while true {
            let r = blockingCall { CConcSys_waitid(idType, id, options, &info) }
            if r == 0 { break }
            if errno == EINTR { try checkInterrupt(); continue }
            throw osError(errno)
        }
        if info.pid == 0 { return .none }
        // A child that ended and was not left waitable (WNOWAIT) is reaped: not a zombie.
        if options & WNOWAIT == 0 && (1...3).contains(info.code) {
            engine.units.withLock { engine.rawChildren.removeAll { $0 == info.pid } }
            engine.releaseFamilySlot(ofReaped: info.pid)
        }
        return .obj(PyTuple([info.pid, info.uid, info.signo, info.status, info.code].map { .int(Int($0)) },
                            type: Types.waitidResult))
    }

    /// Runs the registered fork hooks of one kind, as CPython does: `before` ones newest
    /// first, the others in registration order. An exception in one is reported as
    /// unraisable ("Exception ignored in: ...") and the others still run.
    func runForkHooks(_ kind: KeyPath<ForkHooks, Value?>) {
        var hooks = engine.units.withLock { engine.forkHooks.compactMap { $0[keyPath: kind] } }
        if kind == \ForkHooks.before { hooks.reverse() }
        for hook in hooks {
            do { _ = try call(hook, []) }
            catch let e as PyBaseException { reportUnraisable(e, object: hook) }
            catch {}
        }
    }
}

extension Engine {
    /// The end of this process's program: its family slot is given back and the children
    /// os.fork() made that have exited are reaped (no zombie outlives the program).
    public func endOfProcess() {
        leaveFamily()
        for pid in units.withLock({ rawChildren }) {
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
        }
    }

    /// The fork and wait functions of `os`.
    func forkFunctions() -> [(String, Value)] {
        func status(_ u: Unit, _ a: Args, _ name: String) throws -> Int32 {
            try a.expect(name, 1, 1)
            return try u.cIntArg(a[0])
        }
        return [
            native("fork") { u, a in
                try a.expect("fork", 0, 0)
                return .int(try u.forkProcess())
            },
            native("register_at_fork") { u, a in
                // Keyword-only, at least one, each callable (CPython's checks and words).
                if a.count > 0 { throw typeError("register_at_fork() takes no positional arguments") }
                var hooks = ForkHooks()
                for (name, value) in a.keywords {
                    guard isCallable(u, value) else { throw typeError("'\(name)' must be callable, not \(value.typeName)") }
                    switch name {
                    case "before": hooks.before = value
                    case "after_in_parent": hooks.afterInParent = value
                    case "after_in_child": hooks.afterInChild = value
                    default: throw typeError("register_at_fork() got an unexpected keyword argument '\(name)'")
                    }
                }
                if hooks.before == nil && hooks.afterInParent == nil && hooks.afterInChild == nil {
                    throw typeError("At least one argument is required.")
                }
                u.engine.units.withLock { u.engine.forkHooks.append(hooks) }
                return .none
            },
            native("wait") { u, a in
                try a.expect("wait", 0, 0)
                let (pid, s) = try u.waitForChild(-1, options: 0)
                return .obj(PyTuple([.int(Int(pid)), .int(Int(s))]))
            },
            native("wait3") { u, a in
                try a.expect("wait3", 1, 1, keywords: ["options"])
                return try u.waitWithUsage(-1, options: try u.cIntArg(a.argument(0, "options") ?? .int(0)))
            },
            native("wait4") { u, a in
                try a.expect("wait4", 2, 2, keywords: ["pid", "options"])
                guard let pidValue = a.argument(0, "pid"), let options = a.argument(1, "options") else {
                    throw typeError("wait4() missing required argument 'options' (pos 2)")
                }
                return try u.waitWithUsage(try u.pidArg(pidValue), options: try u.cIntArg(options))
            },
            native("waitid") { u, a in
                try a.expect("waitid", 3, 3)
                return try u.waitForChildState(idType: try u.cIntArg(a[0]), id: try u.pidArg(a[1]), options: try u.cIntArg(a[2]))
            },
            ("P_WAIT", .int(0)), ("P_NOWAIT", .int(1)), ("P_NOWAITO", .int(1)),  // os.spawn*'s modes
            ("P_ALL", .int(0)), ("P_PID", .int(1)), ("P_PGID", .int(2)), ("P_PIDFD", .int(3)),
            ("WEXITED", .int(Int(WEXITED))), ("WSTOPPED", .int(Int(WSTOPPED))), ("WNOWAIT", .int(Int(WNOWAIT))),
            ("CLD_EXITED", .int(1)), ("CLD_KILLED", .int(2)), ("CLD_DUMPED", .int(3)), ("CLD_TRAPPED", .int(4)),
            ("CLD_STOPPED", .int(5)), ("CLD_CONTINUED", .int(6)),
            native("waitpid") { u, a in
                try a.expect("waitpid", 2, 2)
                let pid = try u.pidArg(a[0])
                let (r, s) = try u.waitForChild(pid, options: try u.cIntArg(a[1]))
                return .obj(PyTuple([.int(Int(r)), .int(Int(s))]))
            },
            ("WNOHANG", .int(Int(WNOHANG))), ("WUNTRACED", .int(Int(WUNTRACED))),
            native("WIFEXITED") { u, a in .bool(CConcSys_wifexited(try status(u, a, "WIFEXITED")) != 0) },
            native("WEXITSTATUS") { u, a in .int(Int(CConcSys_wexitstatus(try status(u, a, "WEXITSTATUS")))) },
            native("WIFSIGNALED") { u, a in .bool(CConcSys_wifsignaled(try status(u, a, "WIFSIGNALED")) != 0) },
            native("WTERMSIG") { u, a in .int(Int(CConcSys_wtermsig(try status(u, a, "WTERMSIG")))) },
            // A stopped or continued child's status (waitpid with WUNTRACED or WCONTINUED).
            native("WIFSTOPPED") { u, a in .bool(try status(u, a, "WIFSTOPPED") & 0xff == 0x7f) },
            native("WSTOPSIG") { u, a in .int(Int((try status(u, a, "WSTOPSIG") >> 8) & 0xff)) },
            native("WIFCONTINUED") { u, a in .bool(try status(u, a, "WIFCONTINUED") == 0xffff) },
            native("WCOREDUMP") { u, a in .bool(try status(u, a, "WCOREDUMP") & 0x80 != 0) },
            ("WCONTINUED", .int(Int(WCONTINUED))),
            native("waitstatus_to_exitcode") { u, a in
                let s = try status(u, a, "waitstatus_to_exitcode")
                if CConcSys_wifexited(s) != 0 { return .int(Int(CConcSys_wexitstatus(s))) }
                if CConcSys_wifsignaled(s) != 0 { return .int(-Int(CConcSys_wtermsig(s))) }
                throw valueError("invalid wait status: \(s)")
            },
        ]
    }
}
