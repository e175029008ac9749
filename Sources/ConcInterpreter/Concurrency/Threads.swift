// `thread f(args)`: a real pthread running a new unit, and the handle Conc code gets back.
import CConcShared
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// What a new thread needs to start: passed through pthread_create as one retained box.
/// The new thread takes `callee` and `args` out (``Unit/runThreadBody(_:)``), so they die
/// while its unit can still run what their deaths queue (`__del__`, weakref callbacks).
private final class ThreadStart {
    let unit: Unit
    var callee: Value
    var args: Args
    let handle: PyUnitHandle
    init(unit: Unit, callee: Value, args: Args, handle: PyUnitHandle) {
        self.unit = unit; self.callee = callee; self.args = args; self.handle = handle
    }
}

extension Unit {
    /// Bytes of machine stack for each thread unit (lazily committed; the recursion guard
    /// checks the real bound).
    static let threadStackSize = 16 << 20

    /// Starts `callee(args)` on a new pthread and returns its handle once the thread runs.
    func startThread(_ callee: Value, _ args: Args, name: String?, daemon: Bool?) throws -> PyUnitHandle {
        let registry = engine.units
        let unitName = name ?? "Thread-\(registry.nextThreadNumber())"
        let handle = PyUnitHandle(kind: .thread, name: unitName, daemon: daemon ?? isDaemon)
        let unit = Unit(engine: engine, name: unitName, stackCapacity: 1 << 16)
        unit.isDaemon = handle.daemon
        unit.handle = handle
        handle.unitNumber = unit.number
        handle.postsLetGo = true
        if !engine.gil.active {
            engine.gil.activate()
            holdsGIL = true
        }
        registry.add(unit)
        // Free-threaded, the starter then lets the new thread run first (below).
        if !engine.gil.exclusive { unit.handoff = handle.handedOff }
        var tid = pthread_t()
        let box = Unmanaged.passRetained(ThreadStart(unit: unit, callee: callee, args: args, handle: handle)).toOpaque()
        // A pooled OS thread if one is idle (CConcSys_thread_start): starting 200 threads
        // in a wave then costs a futex wake each instead of a clone and a stack mapping.
        let rc = CConcSys_thread_start({ arg in
            let letGo: FutexWord
            do {
                let start = Unmanaged<ThreadStart>.fromOpaque(arg).takeRetainedValue()
                letGo = start.handle.letGo
                start.unit.runThreadBody(start)
            }  // the unit and its handle's box are released here
            letGo.post()
            Finalizers.dropQueued()
        }, box, Unit.threadStackSize, &tid)
        if rc != 0 {
            Unmanaged<ThreadStart>.fromOpaque(box).release()
            _ = registry.remove(unit)
            throw pyError(Exc.runtimeError, "can't start new thread (\(String(cString: strerror(rc))))")
        }
        handle.ident = Int(bitPattern: UInt(tid))
        // Wait until the thread runs, as CPython's Thread.start does, so native_id is known.
        // No spin first: a thread takes tens of microseconds to start, and on a small
        // machine the spinning may hold the very core the new thread is waiting for. Not a
        // park, so not interruptible: the thread exists, and a KeyboardInterrupt raised here
        // would lose its handle (threading.Thread.start would never learn it, and join()
        // would wait forever); a pending Ctrl-C is raised at the next check instead. The
        // new thread posts `started` before it needs anything (the GIL included).
        while __atomicLoad(handle.started) == 0 { _ = conc_futex_wait(handle.started, 0, -1) }
        if !engine.gil.exclusive { waitForHandoff(handle) }
        return handle
    }

    /// As CPython's start, where the new thread holds the GIL until it blocks, ends or has
    /// run for a switch interval: waits up to 5 ms for the new unit to block or end, so
    /// that `t.start(); print("main")` prints the thread's first line first, as the notes
    /// show, also when both run in parallel. Any block of the new unit ends the wait, so
    /// it cannot deadlock with its starter.
    private func waitForHandoff(_ handle: PyUnitHandle) {
        blockingCall { FutexWord.wait(on: handle.handedOff, atMost: 0.005) }
    }

    /// What every kind of unit runs: `callee(args)`, and, when that makes a coroutine (an
    /// `async def` function), the coroutine to its end (LANGUAGE.md §3).
    func runUnitBody(_ callee: Value, _ args: Args) throws -> Value {
        let r = try call(callee, args)
        guard case .obj(let o) = r, let g = o as? PyGenerator, g.type === Types.coroutine else { return r }
        while try g.resume(self, send: .none) != nil {}
        return g.returnValue
    }

    /// The body of a thread unit: run the call, report an uncaught exception, finish.
    fileprivate func runThreadBody(_ start: ThreadStart) {
        let handle = start.handle
        var call: (callee: Value, args: Args)? = (start.callee, start.args)
        start.callee = .none
        start.args = Args([])
        CConcSys_block_async_signals(1)  // Ctrl-C and handled signals are for the main unit's thread
        setStackLimitFromThread()
        handle.nativeID = nativeID
        __atomicStore(handle.started, 1)
        conc_futex_wake(handle.started, Int32.max)
        acquireGIL()
        do {
            handle.result = try runUnitBody(call!.callee, call!.args)
        } catch let e as PyBaseException {
            handle.error = e
            if !e.isSystemExit {
                writeErrorOutput("Exception in \(handle.kind.rawValue) \(handle.name):\n" + formatException(e))
            }
        } catch {
            engine.stderr.write("Exception in \(handle.kind.rawValue) \(handle.name):\ninternal error: \(error)\n")
        }
        call = nil
        dropFramePool()
        ThreadSerial.dropLocalValues()  // its threading.local values die with it, as in CPython
        runPendingFinalizers()  // instances that died with the thread's frames, call or locals
        postHandoff()  // (if it never blocked)
        // Finish first: a joiner of this unit must not look deadlocked to the check below.
        handle.finish()
        let found = engine.units.remove(self)
        if let d = found, let main = d.main { engine.postDeadlock(d.report, to: main) }
        // The finished unit lets go of its handle: a generator it left suspended (returned
        // through join) keeps this unit alive from its stack, and through the handle's
        // result it would keep itself alive, never closed (its `finally` never run).
        // Only after leaving the registry: other units read a live unit's handle under the
        // registry's lock (``UnitRegistry/nonDaemonHandle()``), so none is reading it now.
        self.handle = nil
        releaseGIL()
        // The OS thread may run another unit next (the pool): from here on it is a new
        // thread to threading.local, whose values for this one can now be dropped. Unless
        // the program has seen its kernel id: then it ends, and no later unit shows that id.
        ThreadSerial.retire()
        if handle.nativeIDSeen.load(ordering: .relaxed) { CConcSys_thread_leave_pool() }
    }
}
