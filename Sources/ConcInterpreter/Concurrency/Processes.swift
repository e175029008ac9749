// `spawn f(args)`: a fork()ed child process running one unit, and what the parent's handle
// needs (pid, join, exitcode, terminate, kill). The child's result or uncaught exception
// comes back through a private queue() in the shared arena.
import CConcShared
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// The parent's side of a spawned process. `status` is written only under `reaping`.
final class ProcessState {
    let pid: pid_t
    /// Carries the child's outcome: one item, `(True, result)` or `(False, exception)`.
    let outcome: PyQueue
    /// The wait status once reaped.
    var status: Int32?
    /// The child's slot in the family table (given back when it is reaped, in case the
    /// child could not do it itself, e.g. after SIGKILL).
    let family: OpaquePointer?
    let familySlot: Int32
    /// The process that spawned it: only that one can wait for it. A sibling that inherited
    /// the handle through a later fork must not reap it (waitpid fails there) or give its
    /// family slot back while it runs.
    let parent = getpid()

    init(pid: pid_t, outcome: PyQueue, family: OpaquePointer?, familySlot: Int32) {
        self.pid = pid; self.outcome = outcome; self.family = family; self.familySlot = familySlot
    }

    /// False in any process but the parent (CPython's "can only join a child process").
    var isOurChild: Bool { getpid() == parent }

    private func reaped(_ s: Int32) {
        status = s
        if let f = family { conc_family_release(f, familySlot, pid) }
    }

    /// Serialises reaping: two units may reap at once (a join, and the next spawn's sweep
    /// of ended children), and the one whose waitpid finds the child gone (ECHILD) must
    /// not overwrite the status the other one got.
    private let reaping = PosixMutex(())

    /// Reaps the child if it has exited (without blocking unless `wait`).
    func reap(wait: Bool) -> Bool {
        if status != nil { return true }
        guard isOurChild else { return false }
        return reaping.withLock { _ in
            if status != nil { return true }
            var s: Int32 = 0
            while true {
                let r = waitpid(pid, &s, wait ? 0 : WNOHANG)
                if r == pid { reaped(s); return true }
                if r == -1 && errno == EINTR { if wait { continue }; return false }
                if r == -1 && errno == ECHILD { reaped(0); return true }
                return false
            }
        }
    }

    /// `exitcode`: nil while running, n after exit(n), -N after signal N.
    var exitCode: Int? {
        guard let s = status else { return nil }
        if CConcSys_wifsignaled(s) != 0 { return -Int(CConcSys_wtermsig(s)) }
        return Int(CConcSys_wexitstatus(s))
    }
}

extension Unit {
    /// Starts `callee(args)` in a forked child process and returns its handle.
    func startProcess(_ callee: Value, _ args: Args, name: String?, daemon: Bool?) throws -> PyUnitHandle {
        if engine.isDaemonProcess {
            throw pyError(Exc.assertionError, "daemonic processes are not allowed to have children")
        }
        // Children that have ended are reaped now, as CPython's multiprocessing does at each
        // start: a program that never joins its finished children leaves no zombies
        // piling up while it runs (their handles keep the outcome and exit status).
        for h in engine.children { _ = h.process?.reap(wait: false) }
        engine.forgetChildren()
        let processName = name ?? "Process-\(engine.units.nextProcessNumber())"
        let outcome = try PyQueue(self, maxsize: 0)
        let handle = PyUnitHandle(kind: .process, name: processName, daemon: daemon ?? false)
        let pid = try forkSafely(childName: processName, daemon: handle.daemon) { pid, slot in
            handle.process = ProcessState(pid: pid, outcome: outcome, family: engine.familyStorage, familySlot: slot)
            handle.ident = Int(pid)
            engine.addChild(handle)
        }
        if pid == 0 { runChildProcess(callee, args, name: processName, outcome: outcome) }
        return handle
    }

    /// The fork of `spawn` and `os.fork()`. Returns 0 in the child, which is by then this
    /// unit's process alone (``Engine/becomeChildProcess(of:name:daemon:)``, its family
    /// slot taken), and the child's pid in the parent, after `registerChild(pid, slot)` ran
    /// while the other units were still stopped.
    func forkSafely(childName: String, daemon: Bool, registerChild: (pid_t, Int32) -> Void) throws -> pid_t {
        runForkHooks(\.before)
        // Fork safety: every other unit steps out of the interpreter first (to a poll point,
        // a park or a blocking call), so the child copies no half-done mutation, no held
        // object, registry or sink lock, and no output another unit printed after the flush.
        engine.gil.stopTheWorld()
        engine.flushOutput()
        engine.forkEpoch += 1
        // The child's copies of every wrapper will release their primitive when dropped:
        // take those references now, before the parent can drop its own.
        let forChild = engine.primitives.retainForChild()
        let slot = engine.claimFamilySlots()
        let forker = unitID
        engine.primitives.forkBegins()
        let pid = CConcSys_fork()
        if pid == 0 {
            engine.becomeChildProcess(of: self, name: childName, daemon: daemon)
            engine.primitives.forkEndedInChild(forker: forker, forkerInChild: unitID)
            engine.joinFamily(slot: slot, name: childName)
            runForkHooks(\.afterInChild)  // e.g. random reseeds: children draw apart
            return 0
        }
        engine.primitives.forkEnded()
        if let f = engine.familyStorage, slot >= 0 {
            if pid > 0 { conc_family_set_pid(f, slot, pid) } else { conc_family_release(f, slot, 0) }
        }
        if pid > 0 {
            registerChild(pid, slot)
            engine.units.markWaitsReachableByChild()
        }
        engine.gil.resumeTheWorld()
        let failure = errno
        runForkHooks(\.afterInParent)
        if pid < 0 { engine.primitives.release(forChild); throw osError(failure) }
        return pid
    }

    /// The child's whole life: become the only unit of a fresh process, run the call,
    /// report, flush and `_exit`. Never returns.
    private func runChildProcess(_ callee: Value, _ args: Args, name: String, outcome outcomeQueue: PyQueue) -> Never {
        var status: Int32 = 0
        // LANGUAGE.md §3's heading for a unit's uncaught exception; multiprocessing's
        // processes (started through the stdlib's bootstrap) keep CPython's `Process NAME:`.
        let startedByStdlib = (callee.object as? PyFunction)?.code.isStdlib ?? false
        let heading = startedByStdlib ? "Process \(name):" : "Exception in process \(name):"
        var outcome: Value
        do {
            outcome = .obj(PyTuple([.bool(true), try runUnitBody(callee, args)]))
        } catch let e as PyBaseException {
            if e.isSystemExit {
                status = exceptionInfo(e, self).exitStatus
                if let msg = e.systemExitMessage(self) { writeErrorOutput(msg + "\n") }
            } else {
                status = 1
                engine.flushOutput()
                // (multiprocessing prints it with traceback.print_exc(): the module's layout.)
                writeErrorOutput(heading + "\n" + formatException(e, limit: nil, moduleLayout: startedByStdlib).joined())
            }
            outcome = .obj(PyTuple([.bool(false), .obj(e)]))
        } catch {
            status = 1
            engine.stderr.write(heading + "\ninternal error: \(error)\n")
            outcome = .obj(PyTuple([.bool(true), .none]))
        }
        // The child's own units end as a program's do.
        do { try engine.waitForUnits() } catch {}
        // Before the outcome is posted, so that a joiner finds the locks so.
        engine.primitives.markLocksOfEndingProcess(getpid(), normalEnd: status == 0)
        engine.flushOutput()
        // Last, so that a joiner woken by it finds the child exiting (it then reaps with a
        // blocking waitpid). A result that cannot be copied to the parent (too large for
        // the shared arena, an object of this process only) fails the process with that
        // error, which join() raises (a shorter stand-in if the error cannot go either).
        do { try outcomeQueue.put(self, outcome, block: false, timeout: nil) }
        catch let e as PyBaseException {
            // Said as the result's problem (the queue the outcome travels by is internal).
            let why = (e.args.first?.asStr?.value).map { ": " + $0 } ?? ""
            let error = PyBaseException(type: e.type.isBuiltin ? e.type : Exc.runtimeError,
                                        args: [.str("the result of process \(name) cannot be sent to its parent\(why)")])
            engine.flushOutput()
            writeErrorOutput(heading + "\n" + formatException(error))
            if status == 0 { status = 1 }
            try? outcomeQueue.put(self, .obj(PyTuple([.bool(false), .obj(error)])), block: false, timeout: nil)
        } catch {
            try? outcomeQueue.put(self, .obj(PyTuple([.bool(true), .none])), block: false, timeout: nil)
        }
        // Only now: until the outcome is posted, a parent joining this process is rightly
        // blocked on it, and the family must still count this process as running.
        engine.leaveFamily()
        _exit(status)
    }
}

extension Engine {
    /// Resets per-process state in a freshly forked child: `u` (the spawning unit) becomes
    /// the main and only unit, the GIL is idle, locks another thread might have held at the
    /// fork are re-initialised, ownership ids take the new pid.
    func becomeChildProcess(of u: Unit, name: String, daemon: Bool) {
        units.resetAfterFork(keeping: u)
        primitives.resetAfterFork()
        gil.resetAfterFork()
        stdout.resetAfterFork()
        stderr.resetAfterFork()
        resetImportsAfterFork(keeping: u)
        setMainUnit(u)
        // The forking thread is the child's main thread: its kernel id is the child's pid.
        u.nativeID = Int(getpid())
        u.handle?.nativeID = u.nativeID
        u.holdsGIL = false
        u.isDaemon = false
        u.unitID = (UInt64(UInt32(bitPattern: getpid())) << 32) | UInt64(u.number)
        isDaemonProcess = daemon
        processName = name
        parentPid = getppid()
        forgetChildren(all: true)
        // Signals caught before the fork are the parent's to handle; the handlers stay.
        _ = CConcSys_atomic_and_not(interruptFlag, InterruptBits.gilDrop | InterruptBits.deadlock | InterruptBits.signal)
        _ = CConcSys_take_pending_signals()
        // A unit thread blocks SIGINT and the other handled signals; as the child's main
        // unit it must receive them.
        CConcSys_block_async_signals(0)
    }

    /// After a Ctrl-C during the end-of-program wait: SIGKILL every child still running and
    /// reap it, so the program can exit at once leaving nothing behind.
    public func killChildren() {
        for h in children {
            guard let p = h.process, p.status == nil else { continue }
            kill(p.pid, SIGKILL)
            _ = p.reap(wait: true)
        }
        forgetChildren(all: true)
    }

    /// At the end of the main program: SIGTERM to daemon children, as LANGUAGE.md §4 says
    /// (and reap them); non-daemon ones are joined by ``waitForUnits``.
    func terminateDaemonChildren() {
        for h in children where h.daemon {
            guard let p = h.process, p.status == nil else { continue }
            kill(p.pid, SIGTERM)
            _ = p.reap(wait: true)
        }
    }
}
