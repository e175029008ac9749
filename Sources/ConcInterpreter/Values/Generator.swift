// Generators run their body on a stackful coroutine (CConcCoro): `yield` switches back to
// whoever called next()/send(), with every Swift frame of the body kept intact on the
// generator's own stack. This keeps the evaluator a plain recursive tree-walker.
import CConcCoro
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

/// The running state of one generator, referenced by its coroutine's body.
///
/// Kept apart from ``PyGenerator`` so the coroutine never retains the generator object
/// itself: the generator's deinit can then close a suspended body safely.
/// Touched only by the unit currently resuming the generator (one at a time: `isRunning`).
/// Free-threaded evaluation: `isRunning`, `isStarted` and `isFinished` are checked and set
/// under the owning ``PyGenerator``'s lock when a resume claims the generator, so two
/// threads resuming it at once get "generator already executing" instead of running one
/// coroutine on two stacks; everything else belongs to the claiming unit until it releases
/// the claim (`isRunning = false`, under the lock again).
final class GeneratorState {
    let function: PyFunction
    /// The generator's own local slots (heap, owned by this state).
    let locals: UnsafeMutablePointer<Value>
    let localCount: Int
    /// The generator's frame; `frame.unit` is re-pointed at each resume.
    let frame: Frame
    /// The coroutine; nil once finished and freed.
    var coroutine: OpaquePointer?
    /// Value passed across the switch: the yielded value out, the sent value in.
    var transfer: Value = .none
    /// An exception to raise at the `yield` when resumed (throw()/close()).
    var thrown: PyBaseException?
    /// What the last `yield` raised because it was thrown in, until `yield from` asks
    /// (``Unit/wasThrownIn(_:_:)``). Touched only by the unit running the body.
    var lastThrown: PyBaseException?
    /// The exception that escaped the body, handed to the resumer.
    var escaped: PyBaseException?
    var returnValue: Value = .none
    /// The iterator a `yield from` is delegating to (`gi_yieldfrom`), else None. Written by
    /// the body and read by anyone, under `withObjectLock(self)`.
    var delegateStorage: Value = .none
    var delegate: Value {
        get { withObjectLock(self) { delegateStorage } }
        set { let old: Value = withObjectLock(self) { let o = delegateStorage; delegateStorage = newValue; return o }; _ = old }
    }
    var isStarted = false
    var isFinished = false
    var isRunning = false
    /// The OS thread of the resume holding the claim (meaningful while `isRunning`).
    var runningThread = pthread_self()
    /// Exceptions the body was handling when it yielded (restored on resume).
    var savedHandling: [PyBaseException] = []
    /// The OS thread of the last resume (whose unit `frame.unit` is).
    var lastThread = pthread_self()

    static let stackSize = 1 << 20

    init(function: PyFunction, locals: UnsafeMutablePointer<Value>, count: Int, unit: Unit) {
        self.function = function
        self.localCount = count
        self.locals = locals
        self.frame = Frame(unit: unit, locals: locals, code: function.code, globals: function.globals)
        frame.function = function
        frame.generator = self
    }

    deinit {
        if let c = coroutine, !isStarted || isFinished { CConcCoro_free(c) }
        // A chain of generators, each holding the next in a local (`for y in it: yield y`
        // applied 100000 times), frees its links one inside the other: past the trashcan's
        // depth the locals wait for the outermost deinit (a coroutine's stack is small).
        if !Trashcan.enter() { Trashcan.park(Array(UnsafeBufferPointer(start: locals, count: localCount))) }
        locals.deinitialize(count: localCount)
        Trashcan.leave()
        locals.deallocate()
    }

    /// Runs on the coroutine: the generator body from start to finish.
    func runBody() {
        do {
            if let t = thrown { thrown = nil; throw t }
            if case .returned = try function.code.body.exec(frame) {
                returnValue = frame.returnValue
                frame.returnValue = .none
            }
        } catch let e as PyBaseException {
            escaped = e
        } catch {
            escaped = runtimeError("internal error in generator: \(error)")
        }
        isFinished = true
    }
}

/// A generator object (also used for coroutines of `async def`).
public final class PyGenerator: PyIter {
    let state: GeneratorState
    /// Set (before the generator is shared) for itertools' generators, which stand for
    /// CPython's C iterators: a thread resuming it while another thread runs it waits for
    /// its turn instead of getting "generator already executing" (`_units.take_turns`).
    var takesTurns = false
    var code: CodeInfo { state.function.code }
    /// `__name__` and `__qualname__` as the program assigned them, by attribute (nil until
    /// then: the function's; one word, as generators are made often). Under `locked`.
    private var renamed: [String: String]?
    var name: String { locked { renamed?["__name__"] } ?? code.name }
    var qualname: String { locked { renamed?["__qualname__"] } ?? code.qualname }
    /// `gen.__name__ = s` / `gen.__qualname__ = s`.
    func rename(_ attribute: String, _ value: Value) throws {
        guard let s = value.asStr?.value else { throw typeError("\(attribute) must be set to a string object") }
        locked { renamed = (renamed ?? [:]).merging([attribute: s]) { $1 } }
    }
    /// The value the body returned, for the resume that saw it end. Read under the lock:
    /// a resume of the exhausted generator on another thread clears it (``resume``).
    var returnValue: Value { locked { state.returnValue } }

    init(state: GeneratorState, isCoroutine: Bool) {
        self.state = state
        // A renamed function's generators carry its names as they are now (as CPython's).
        let fn = state.function
        if fn.renamed.load(ordering: .acquiring) { renamed = ["__name__": fn.name, "__qualname__": fn.qualname] }
        super.init(type: isCoroutine ? Types.coroutine : Types.generator)
    }

    deinit {
        WeakReferents.noteDeath(self)
        // An abandoned suspended generator is closed so its `finally` blocks run and its
        // stack is unwound (never freed while suspended: that would corrupt the runtime).
        // Closing now runs the body on the unit that last resumed it, so only on that
        // unit's own thread. Dropped by another thread (that unit may be running right
        // now, or have ended: a generator a thread returned), a stand-in over the same
        // state is queued on this thread instead, whose unit closes it after the current
        // statement, as a resume from this thread (Finalizers.swift).
        if type === Types.coroutine && !state.isStarted && !state.isFinished {
            // An `async def` called without `await`: CPython's RuntimeWarning, where the
            // coroutine is dropped. The warning runs Conc code: on the coroutine's unit
            // while one unit runs; else on this thread's unit, after its statement.
            state.isFinished = true  // the stand-in is a closed coroutine, not warned about again
            let standIn = PyGenerator(state: state, isCoroutine: true)
            let warning = NeverAwaited(coroutine: standIn, qualname: qualname, address: addressOf(self))
            if !ObjectLocks.active { state.frame.unit.warnNeverAwaited(warning) } else { Finalizers.queue(warning: warning) }
            return
        }
        guard state.isStarted && !state.isFinished && !state.isRunning else { return }
        if pthread_equal(state.lastThread, pthread_self()) != 0 {
            let u = state.frame.unit
            do { _ = try close(u) } catch let e as PyBaseException {
                // As CPython's unraisable hook: the generator (named without a repr call on
                // an object being destroyed), the stack where it was dropped, the error. A
                // program's hook gets a stand-in over the same state, unless the state is
                // still suspended (it ignored GeneratorExit): that one would be closed again
                // when dropped.
                let kind = type === Types.coroutine ? "coroutine" : "generator"
                let standIn: Value = state.isFinished ? .obj(PyGenerator(state: state, isCoroutine: type === Types.coroutine)) : .none
                u.reportUnraisable(e, object: standIn,
                                   objectRepr: "<\(kind) object \(qualname) at \(u.address(self))>")
            } catch {}
        } else {
            Finalizers.queue(closing: PyGenerator(state: state, isCoroutine: type === Types.coroutine))
        }
    }

    /// For a coroutine that never ran: marks it finished (it will not be warned about
    /// again) and returns its warning; nil for anything else.
    func takeNeverAwaited() -> NeverAwaited? {
        let st = state
        let fresh: Bool = locked {
            guard type === Types.coroutine, !st.isStarted, !st.isFinished, !st.isRunning else { return false }
            st.isFinished = true
            return true
        }
        guard fresh else { return nil }
        return NeverAwaited(coroutine: self, qualname: qualname, address: addressOf(self))
    }

    override func next(_ u: Unit) throws -> Value? { try resume(u, send: .none) }

    /// Started, not finished, and not running now: paused at a `yield`.
    var isSuspended: Bool { locked { state.isStarted && !state.isFinished && !state.isRunning } }

    /// What a resume found when it tried to claim the generator.
    private enum Claim { case claimed, running, runningElsewhere, finished, notStarted }

    /// Runs the body until its next `yield` (returning the value) or its end (returning nil).
    /// `throwing`, if given, is raised at the `yield` the body is suspended at.
    func resume(_ u: Unit, send: Value, throwing: PyBaseException? = nil) throws -> Value? {
        let st = state
        // Check-and-set in one critical section (the running check comes first: the body
        // writes `isFinished` while the generator is claimed).
        let me = pthread_self()
        func tryClaim() -> Claim {
            locked {
                if st.isRunning {
                    return takesTurns && pthread_equal(st.runningThread, me) == 0 ? .runningElsewhere : .running
                }
                // The return value goes with the StopIteration of the resume that ended the
                // body; later resumes of the exhausted generator report None.
                if st.isFinished { st.returnValue = .none; return .finished }
                if throwing != nil && !st.isStarted { st.isFinished = true; return .notStarted }
                st.isRunning = true
                st.runningThread = me
                return .claimed
            }
        }
        var claim = tryClaim()
        if claim == .runningElsewhere {
            try waitForTurn(u) { claim = tryClaim(); return claim != .runningElsewhere }
        }
        switch claim {
        case .running, .runningElsewhere: throw valueError("generator already executing")
        case .finished:
            // throw() into an exhausted generator raises what was thrown, as in CPython
            // (from the caller's line, even when it was raised before).
            if let t = throwing { t.needsLocation = true; throw t }
            return nil
        case .notStarted:
            // Raised at the start of the body (its `def` line joins the traceback), so it
            // leaves the body: PEP 479 applies.
            let t = throwing!
            let code = st.frame.code
            if !code.hidesFrames {
                let line = SourceLoc(line: code.loc.line, col: code.loc.col, endLine: code.loc.line, endCol: code.loc.col)
                t.traceback.append(TracebackEntry(code, globals: st.frame.globals, at: line, marker: .statement))
            }
            let out = Self.escaping(t)
            out.needsLocation = true
            throw out
        case .claimed: break
        }
        var released = false
        defer { if !released { locked { st.isRunning = false } } }
        if !st.isStarted {
            if !send.isNone { throw typeError("can't send non-None value to a just-started generator") }
            // A body that cannot even start (recursion too deep) is over, as CPython's frame
            // that fails its entry check: closing it later runs nothing.
            do { try u.checkRecursion() } catch {
                locked { st.isFinished = true }
                for i in 0..<st.localCount { st.locals[i] = .unbound }
                throw error
            }
            guard let c = CConcCoro_new(GeneratorState.stackSize, { arg in
                Unmanaged<GeneratorState>.fromOpaque(arg!).takeUnretainedValue().runBody()
            }, Unmanaged.passUnretained(st).toOpaque()) else { throw pyError(Exc.memoryError, "cannot allocate generator stack") }
            st.coroutine = c
            locked { st.isStarted = true }
        }
        try u.checkRecursion()
        st.thrown = throwing
        st.transfer = send
        st.frame.unit = u
        st.lastThread = pthread_self()
        let savedLimit = u.stackLimit
        let handlingBase = u.handling.count
        u.handling.append(contentsOf: st.savedHandling)
        st.savedHandling = []
        u.stackLimit = UInt(CConcCoro_stack_low(st.coroutine!)) + Unit.generatorRedZone
        u.depth += 1
        let caller = u.enterFrame(st.frame)
        CConcCoro_resume(st.coroutine!)
        u.leaveFrame(caller)
        u.depth -= 1
        u.stackLimit = savedLimit
        if u.handling.count > handlingBase {
            st.savedHandling = Array(u.handling[handlingBase...])
            u.handling.removeLast(u.handling.count - handlingBase)
        }
        // Copy out what this resume returns, then release the claim: from then on another
        // unit may resume the generator.
        let finished = st.isFinished
        let escaped = st.escaped
        let out = st.transfer
        st.escaped = nil
        st.transfer = .none
        if finished {
            CConcCoro_free(st.coroutine)
            st.coroutine = nil
            // A finished body's variables go now (as CPython clears a finished frame), not
            // when the generator object does.
            for i in 0..<st.localCount { st.locals[i] = .unbound }
        }
        released = true
        locked { st.isRunning = false }
        if finished {
            if let e = escaped {
                let out = Self.escaping(e)
                if out === e { e.needsLocation = true }
                throw out
            }
            return nil
        }
        return out
    }

    /// What the caller sees of exception `e` leaving the body: a StopIteration becomes
    /// RuntimeError (PEP 479), anything else goes through.
    private static func escaping(_ e: PyBaseException) -> PyBaseException {
        guard e.type.isSubtype(of: Exc.stopIteration) else { return e }
        let r = runtimeError("generator raised StopIteration")
        r.cause = e; r.context = e; r.suppressContext = true
        return r
    }

    /// `gen.throw(exc)`.
    func throwInto(_ u: Unit, _ e: PyBaseException) throws -> Value? {
        try resume(u, send: .none, throwing: e)
    }

    /// `gen.close()`.
    func close(_ u: Unit) throws -> Value {
        let st = state
        let open: Bool? = locked {
            if st.isRunning { return nil }
            if st.isStarted && !st.isFinished { return true }
            st.isFinished = true
            return false
        }
        guard let isOpen = open else { throw valueError("generator already executing") }
        guard isOpen else { return .none }
        do {
            if try throwInto(u, PyBaseException(type: Exc.generatorExit, args: [])) != nil {
                throw runtimeError("generator ignored GeneratorExit")
            }
        } catch let e as PyBaseException where e.type.isSubtype(of: Exc.generatorExit) || e.type.isSubtype(of: Exc.stopIteration) {
        }
        return .none
    }
}

/// A coroutine that was dropped without ever running, for its RuntimeWarning: a stand-in
/// over its (now finished) state, its name and the dropped object's address.
struct NeverAwaited {
    let coroutine: PyGenerator
    let qualname: String
    let address: UInt
}

extension Unit {
    /// `RuntimeWarning: coroutine 'f' was never awaited`, through `warnings` so its filters
    /// apply, with the stand-in as its source (the coroutine itself is being destroyed). A
    /// warning turned into an error is reported as unraisable.
    func warnNeverAwaited(_ w: NeverAwaited) {
        let message = "coroutine '\(w.qualname)' was never awaited"
        do {
            let warnings = try engine.importModule("warnings", self)
            _ = try call(try getAttr(warnings, "warn"),
                         Args([.str(message), .obj(Exc.runtimeWarning), .int(1), .obj(w.coroutine)]))
        } catch let e as PyBaseException {
            reportUnraisable(e, object: .obj(w.coroutine),
                             objectRepr: "<coroutine object \(w.qualname) at 0x\(String(w.address, radix: 16))>")
        } catch {}
    }

    /// Red zone for generator stacks: enough for native code below the last Conc frame.
    static let generatorRedZone: UInt = 192 * 1024

    /// Makes the generator for a call of a generator function; takes over the bound locals.
    func makeGenerator(_ fn: PyFunction, _ locals: UnsafeMutablePointer<Value>) throws -> Value {
        let n = fn.code.localCount
        let own = UnsafeMutablePointer<Value>.allocate(capacity: max(n, 1))
        own.initialize(from: locals, count: n)
        let st = GeneratorState(function: fn, locals: own, count: n, unit: self)
        return .obj(PyGenerator(state: st, isCoroutine: fn.code.isAsync && !fn.code.isGenerator))
    }

    /// `yield v` from the generator running in frame `f`: suspends, returns the sent value
    /// (or raises what `throw()` threw in, remembered in `lastThrown` for `yield from`).
    /// `v` is consumed: while the generator is suspended, nothing of it keeps the value it
    /// yielded (the consumer's reference is the only one, so `del x` frees it, as in CPython).
    func yieldFromGenerator(_ v: consuming Value, _ f: Frame) throws -> Value {
        guard let g = f.generator, let c = g.coroutine else { throw runtimeError("'yield' outside a running generator") }
        g.transfer = consume v
        CConcCoro_yield(c)
        if let t = g.thrown {
            g.thrown = nil; g.lastThrown = t
            t.needsLocation = true  // raised anew here: the yield's line joins its traceback
            throw t
        }
        g.lastThrown = nil
        return g.transfer
    }

    /// True when `e`, raised by the last yield of frame `f`'s generator, was thrown in by
    /// `throw()` (or `close()`), not raised while suspending.
    func wasThrownIn(_ e: PyBaseException, _ f: Frame) -> Bool {
        guard let g = f.generator, let t = g.lastThrown else { return false }
        g.lastThrown = nil
        return t === e
    }
}
