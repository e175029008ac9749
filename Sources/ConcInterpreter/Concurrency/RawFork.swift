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
    func waitForChild(_ pid: pid_t, options: Int32) throws -> (pid_t, Int32) {
        var status: Int32 = 0
        while true {
            let r = blockingCall { waitpid(pid, &status, options) }
            if r >= 0 {
                if r > 0 { engine.units.withLock { engine.rawChildren.removeAll { $0 == r } } }
                return (r, r == 0 ? 0 : status)
            }
            if errno == EINTR { try checkInterrupt(); continue }
            throw osError(errno)
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
            return Int32(truncatingIfNeeded: try u.toIndex(a[0]))
        }
        return [
            native("fork") { u, a in
                try a.expect("fork", 0, 0)
                return .int(try u.forkProcess())
            },
            native("wait") { u, a in
                try a.expect("wait", 0, 0)
                let (pid, s) = try u.waitForChild(-1, options: 0)
                return .obj(PyTuple([.int(Int(pid)), .int(Int(s))]))
            },
            native("waitpid") { u, a in
                try a.expect("waitpid", 2, 2)
                let pid = pid_t(truncatingIfNeeded: try u.toIndex(a[0]))
                let (r, s) = try u.waitForChild(pid, options: Int32(truncatingIfNeeded: try u.toIndex(a[1])))
                return .obj(PyTuple([.int(Int(r)), .int(Int(s))]))
            },
            ("WNOHANG", .int(Int(WNOHANG))), ("WUNTRACED", .int(Int(WUNTRACED))),
            native("WIFEXITED") { u, a in .bool(CConcSys_wifexited(try status(u, a, "WIFEXITED")) != 0) },
            native("WEXITSTATUS") { u, a in .int(Int(CConcSys_wexitstatus(try status(u, a, "WEXITSTATUS")))) },
            native("WIFSIGNALED") { u, a in .bool(CConcSys_wifsignaled(try status(u, a, "WIFSIGNALED")) != 0) },
            native("WTERMSIG") { u, a in .int(Int(CConcSys_wtermsig(try status(u, a, "WTERMSIG")))) },
            native("waitstatus_to_exitcode") { u, a in
                let s = try status(u, a, "waitstatus_to_exitcode")
                if CConcSys_wifexited(s) != 0 { return .int(Int(CConcSys_wexitstatus(s))) }
                if CConcSys_wifsignaled(s) != 0 { return .int(-Int(CConcSys_wtermsig(s))) }
                throw valueError("invalid wait status: \(s)")
            },
        ]
    }
}
