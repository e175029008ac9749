// `__del__`: run at the next safe point after an instance died, never inside its deinit.
//
// A Swift deinit runs wherever the last reference goes: in the middle of a dict store, a
// list's sort, a unit's teardown. Running Conc code there could re-enter the very object
// being changed. So an instance whose class defines `__del__` hands its attributes to a
// stand-in (a fresh instance of the same class, which Conc code may keep: resurrection is
// harmless) and queues it on its thread; the statement loop of the unit on that thread
// calls the stand-ins' `__del__` at the next safe point: the end of the current statement
// (BlockNode), the return of a Conc function, a call of print (so that output comes in
// CPython's order); the end of the program runs what is left. Each object is finalised once, as CPython's PEP 442 says:
// a stand-in is never finalised again. The same queue closes suspended generators dropped
// on another thread than the one that last ran them (Generator.swift).
import CConcSys
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

enum Finalizers {
    /// Set for good once any class defines `__del__` (in any interpreter of the process):
    /// until then an instance's deinit checks nothing else.
    static let inUse = Atomic<Bool>(false)

    /// Empties `items`, the elements of a dying list or tuple, last first when some class
    /// has `__del__`: CPython's list and tuple deallocs release them in that order, which
    /// the order of their `__del__` calls shows.
    @inline(__always) static func releaseLastFirst(_ items: inout [Value]) {
        guard inUse.load(ordering: .relaxed) else { return }
        while items.popLast() != nil {}
    }

    /// Called by the deinit of an instance of a class with `__del__`: takes over its
    /// attributes in a stand-in and queues it on this thread.
    static func queue(attributesOf dying: PyInstance) {
        let standIn = PyInstance(cls: dying.type)
        dying.moveAttributes(to: standIn)
        queue(standIn: standIn)
    }

    /// For the deinit of an instance of a builtin kind (str, bytes, list, tuple, dict, set,
    /// an int or float subclass, an exception): true when its class is a user class with
    /// `__del__`, so the deinit should hand its contents to a stand-in (``queue(standIn:)``).
    /// A stand-in's own death answers false (each object is finalised once).
    @inline(__always) static func wantsStandIn(_ dying: PyObject) -> Bool {
        // The class first: a plain str or list is told apart by two loads, with no access
        // to the global.
        guard !dying.typeIsBuiltin, inUse.load(ordering: .relaxed) else { return false }
        return wantsStandInSlow(dying)
    }
    @inline(never) private static func wantsStandInSlow(_ dying: PyObject) -> Bool {
        // The mark goes whatever the class now says: the address may be reused.
        if unmark(dying) { return false }
        return !(dying is PyType) && dying.type.lookup("__del__") != nil
    }

    /// Queues `standIn`, a new object of a builtin kind that took over a dying one's
    /// contents and class, for its class's `__del__` on this thread.
    static func queue(standIn: PyObject) {
        mark(standIn)
        bin.standIns.append(standIn)
        CConcSys_set_finalizers_pending(1)
    }

    /// Objects of builtin kinds that were finalised and are still alive (the stand-ins, and
    /// those finalised at the end of the program): a ``PyInstance`` keeps this as its
    /// `wasFinalized`; these have no field for it. ``count`` spares dying objects the lock
    /// while the set is empty.
    private static let finalized = PosixMutex<Set<ObjectIdentifier>>([])
    private static let finalizedCount = Atomic<Int>(0)

    /// Records that `o` was finalised (its death calls no `__del__`).
    static func mark(_ o: PyObject) {
        if let i = o as? PyInstance { i.wasFinalized = true; return }
        if finalized.withLock({ $0.insert(ObjectIdentifier(o)).inserted }) {
            finalizedCount.add(1, ordering: .relaxed)
        }
    }
    /// Whether `o` was finalised already.
    static func isMarked(_ o: PyObject) -> Bool {
        if let i = o as? PyInstance { return i.wasFinalized }
        guard finalizedCount.load(ordering: .relaxed) > 0 else { return false }
        return finalized.withLock { $0.contains(ObjectIdentifier(o)) }
    }
    /// Forgets `o`'s mark (it is dying); true if it had one.
    private static func unmark(_ o: PyObject) -> Bool {
        guard finalizedCount.load(ordering: .relaxed) > 0,
              finalized.withLock({ $0.remove(ObjectIdentifier(o)) != nil }) else { return false }
        finalizedCount.subtract(1, ordering: .relaxed)
        return true
    }

    /// Called by the deinit of a suspended generator dropped on another thread than the one
    /// that last ran it: `standIn` (a generator over the same state) is closed by this
    /// thread's unit, so the `finally` blocks run and the stack is freed.
    static func queue(closing standIn: PyGenerator) {
        bin.generators.append(standIn)
        CConcSys_set_finalizers_pending(1)
    }

    /// Called by the deinit of a coroutine that never ran, dropped while units run in
    /// parallel: its RuntimeWarning is given by this thread's unit after the current
    /// statement.
    static func queue(warning: NeverAwaited) {
        bin.neverAwaited.append(warning)
        CConcSys_set_finalizers_pending(1)
    }

    /// Called when the referent of `ref`, a weak reference with a callback, died on this
    /// thread: the callback is called with `ref` after the current statement.
    static func queue(callback ref: PyWeakRef) {
        bin.weakCallbacks.append(ref)
        CConcSys_set_finalizers_pending(1)
    }

    /// Drops this thread's queue, as the thread's end would. A pooled OS thread calls it
    /// between units, so a unit never runs what the one before it (maybe of another
    /// interpreter) queued after its last statement. (Dropping may queue more: a few rounds.)
    static func dropQueued(rounds: Int = 4) {
        var left = rounds
        while left > 0 && CConcSys_finalizers_pending() != 0 { _ = takeQueued(); left -= 1 }
    }

    /// Takes this thread's queued stand-ins and weak references, oldest first.
    static func takeQueued() -> (instances: [PyObject], generators: [PyGenerator], weakCallbacks: [PyWeakRef],
                                 warnings: [NeverAwaited]) {
        CConcSys_set_finalizers_pending(0)
        let b = bin
        let taken = (b.standIns, b.generators, b.weakCallbacks, b.neverAwaited)
        b.standIns = []
        b.generators = []
        b.weakCallbacks = []
        b.neverAwaited = []
        return taken
    }

    /// This thread's queue. Only its own thread touches it.
    private final class Bin {
        /// Instances of user classes, and objects of builtin kinds whose class is one.
        var standIns: [PyObject] = []
        var generators: [PyGenerator] = []
        var weakCallbacks: [PyWeakRef] = []
        var neverAwaited: [NeverAwaited] = []
    }

    private static var bin: Bin { bins.current }
    /// A thread that ends drops its queue (whose stand-ins then die unfinalised, as objects
    /// of a thread that is gone).
    private static let bins = PerThread { Bin() }
}

extension Unit {
    /// Calls `__del__` of the instances that died on this thread since the last call, and
    /// the callbacks of weak references whose referents did. An exception in one is
    /// reported as CPython does ("Exception ignored in: ...") and the others still run.
    @inline(never) func runPendingFinalizers() {
        // An embedding's timeout stops the program before any more of its code runs: what
        // is left of a batch is dropped (each __del__ would time out in turn, be reported
        // and swallowed, and a long queue would outlast the deadline).
        while CConcSys_finalizers_pending() != 0 && !engine.timeoutPending {
            let (instances, generators, weakCallbacks, warnings) = Finalizers.takeQueued()
            for w in warnings { warnNeverAwaited(w) }
            for standIn in instances where !engine.timeoutPending {
                guard let del = standIn.type.lookup("__del__") else { continue }
                callFinalizer(del, on: standIn)
            }
            for g in generators where !engine.timeoutPending { closeAtExit(g) }
            for r in weakCallbacks where !engine.timeoutPending {
                do { _ = try call(r.callback, [.obj(r)]) } catch let e as PyBaseException {
                    reportUnraisable(e, object: r.callback)
                } catch {}
            }
        }
        // The rest is dropped without its __del__ (stand-ins are marked finalised, so they
        // are not queued again): left queued on this thread, it would be run by whatever
        // engine runs here next, with that engine's output and deadline. Each dropped
        // stand-in may free the next link of a chain and queue it: many rounds.
        if engine.timeoutPending { engine.discardQueuedFinalizers() }
    }

    /// A statement's end with finalizers queued: runs them, then raises an embedding's
    /// timeout that arrived meanwhile (their code could not: see reportUnraisable), so the
    /// run stops here even if no loop or call polls again.
    @inline(never) func finalizeAtStatementEnd() throws {
        runPendingFinalizers()
        if engine.timeoutPending { try checkInterrupt() }
    }

    /// Closes a suspended generator that nothing will resume; an exception is reported as
    /// CPython does ("Exception ignored in: <generator object ...>").
    func closeAtExit(_ g: PyGenerator) {
        do { _ = try g.close(self) } catch let e as PyBaseException {
            reportUnraisable(e, object: .obj(g))
        } catch {}
    }

    /// Calls `del` (a class's `__del__`) on `instance`; an exception is reported as
    /// CPython does ("Exception ignored in: ...").
    func callFinalizer(_ del: Value, on instance: PyObject) {
        do {
            _ = try call(bindClassAttribute(del, to: .obj(instance)), [])
        } catch let e as PyBaseException {
            reportUnraisable(e, object: del)
        } catch {
            writeErrorOutput("Exception ignored in __del__: internal error: \(error)\n")
        }
    }
}

extension Engine {
    /// Runs the functions registered with `atexit` (the last first), when the program
    /// imported it. An exception in one goes to sys.unraisablehook, as in CPython (the
    /// default prints "Exception ignored in atexit callback: ..." and its traceback from
    /// the function down), and the rest still run; a KeyboardInterrupt stops them.
    public func runAtExitFunctions() {
        guard let u = mainUnit, let m = modules["atexit"], let pop = m.globals.get("_pop"),
              let count = m.globals.get("_ncallbacks").flatMap({ callNoting(u, $0, []) }).flatMap({ u.intValue($0) }) else { return }
        // Only the functions registered before the end began, newest first (CPython's order).
        var left = count
        while left > 0, let entry = callNoting(u, pop, [.int(left)]), case .obj(let o) = entry, let t = o as? PyTuple, t.items.count == 3 {
            left -= 1
            let (function, args, kwargs) = (t.items[0], t.items[1], t.items[2])
            do {
                guard case .obj(let a) = args, let positional = a as? PyTuple,
                      case .obj(let k) = kwargs, let keywords = k as? PyDict else { continue }
                let named = keywords.pairs.compactMap { key, value in key.asStringValue.map { ($0, value) } }
                _ = try u.call(function, Args(positional.items, keywords: named))
            } catch let e as PyBaseException {
                if e.isKeyboardInterrupt { childProcessesError = childProcessesError ?? e; return }
                u.reportUnraisable(e, message: "Exception ignored in atexit callback", object: function)
            } catch {
                return
            }
        }
    }

    /// `u.call(f, args)` for the atexit machinery's own calls: nil when it raises; a Ctrl-C
    /// that lands there is kept for the program's end to report (and to stop the children
    /// on), as one in a callback is, rather than lost.
    private func callNoting(_ u: Unit, _ f: Value, _ args: [Value]) -> Value? {
        do { return try u.call(f, args) } catch let e as PyBaseException {
            if e.isKeyboardInterrupt { childProcessesError = childProcessesError ?? e }
            return nil
        } catch { return nil }
    }

    /// The end of a program (after every non-daemon unit was waited for), as CPython's
    /// shutdown does for `__main__`: queued `__del__` calls run; then, when no other unit is
    /// alive to see it, every object still reachable from the main module whose class has
    /// `__del__` is finalised while the module's variables are all still bound (CPython's
    /// collector finalises the module's garbage before clearing any of it, PEP 442), in
    /// the order the variables reach them (definition order, depth first); then the
    /// variables are set to None one by one, and those objects die without a second
    /// `__del__`. Nothing happens in a program whose classes define no `__del__`.
    public func runFinalizersAtExit() {
        guard let u = mainUnit else { return }
        isFinalizing = true
        u.runPendingFinalizers()
        guard units.liveUnits.allSatisfy({ $0 === u }) else { return }
        let withDel = Finalizers.inUse.load(ordering: .relaxed)
        let names = mainGlobals.boundNames.filter { $0 != "__builtins__" }
        // Suspended generators are closed too (their `finally` blocks run), as CPython's
        // collector finalises them.
        for o in Finalizers.reachable(from: names.compactMap { mainGlobals.get($0) }) {
            if let g = o as? PyGenerator {
                if g.isSuspended { u.closeAtExit(g) }
                // A coroutine never awaited gets its RuntimeWarning, as CPython's shutdown
                // gives it when the module's variables are cleared (at `sys:1`: no frame runs).
                if let w = g.takeNeverAwaited() { u.warnNeverAwaited(w) }
                continue
            }
            guard withDel, !Finalizers.isMarked(o), let del = o.type.lookup("__del__") else { continue }
            Finalizers.mark(o)
            u.callFinalizer(del, on: o)
            u.runPendingFinalizers()
        }
        guard withDel else { return }
        for name in names {
            mainGlobals.set(name, .none)
            u.runPendingFinalizers()
        }
    }
}

extension Finalizers {
    /// The instances and generators reachable from `roots` through instance attributes,
    /// lists, tuples, dicts and sets, depth first in order (at most a million values are
    /// looked at). Only at the end of the program, when no other unit runs.
    static func reachable(from roots: [Value]) -> [PyObject] {
        var seen = Set<ObjectIdentifier>()
        var found: [PyObject] = []
        var stack = Array(roots.reversed())
        var budget = 1_000_000
        while let v = stack.popLast(), budget > 0 {
            budget -= 1
            guard case .obj(let o) = v, seen.insert(ObjectIdentifier(o)).inserted else { continue }
            var children: [Value] = []
            // An instance of a user class, or of a user subclass of a builtin kind
            // (`class Stack(list)`).
            if !o.typeIsBuiltin && !(o is PyType) && !(o is PyGenerator) { found.append(o) }
            switch o {
            case let g as PyGenerator: found.append(g)
            case let i as PyInstance: children = i.attributeValues
            case let l as PyList: children = l.snapshot
            case let t as PyTuple: children = t.items
            case let d as PyDict: children = zip(d.keys, d.values).flatMap { [$0, $1] }
            case let s as PySet: children = s.elements
            default: break
            }
            stack.append(contentsOf: children.reversed())
        }
        return found
    }
}

extension Engine {
    /// `gc`: Conc frees an object when its last reference goes (reference counting, as
    /// CPython does first) and has no cycle collector, so `collect()` only runs the
    /// `__del__` calls queued on this thread and reports 0 objects collected.
    func makeGcModule() -> PyModule {
        final class Switch: @unchecked Sendable { var enabled = true }  // a flag nothing else reads: a torn read cannot happen to a Bool
        let state = Switch()
        return nativeModule("gc", [
            native("collect") { u, a in
                try a.expect("collect", 0, 1)
                u.runPendingFinalizers()
                return .int(0)
            },
            native("enable") { _, a in try a.expect("enable", 0, 0); state.enabled = true; return .none },
            native("disable") { _, a in try a.expect("disable", 0, 0); state.enabled = false; return .none },
            native("isenabled") { _, a in try a.expect("isenabled", 0, 0); return .bool(state.enabled) },
        ])
    }
}
