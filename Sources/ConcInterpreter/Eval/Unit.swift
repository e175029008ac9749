// A unit of execution (LANGUAGE.md §3): the per-thread-of-execution state the evaluator
// needs. Every OS thread that evaluates Conc code has its own Unit; nothing here is shared.
import CConcSys
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

/// The state of one running unit: its value stack, frame pool, recursion accounting and the
/// exceptions it is handling.
///
/// Only the OS thread currently running the unit touches it.
public final class Unit {
    /// The interpreter this unit belongs to.
    public let engine: Engine
    /// The engine's interrupt flag word, polled here without touching the engine object
    /// (whose refcount every unit would otherwise bounce between cores at each poll).
    let interruptFlag: UnsafeMutablePointer<Int32>
    /// The engine's class epoch word (see ``Engine/classEpoch``), for the same reason.
    let classEpochWord: UnsafeMutablePointer<Int>
    /// Base of the value stack that holds locals of ordinary calls.
    let stack: UnsafeMutablePointer<Value>
    /// Number of slots in `stack`.
    let stackCapacity: Int
    /// Index of the first free slot.
    var stackTop = 0
    /// Frames by call depth, reused across calls. Append through ``addToPool(_:)`` only.
    private(set) var framePool: [Frame] = []
    /// The frames of ``framePool``, unretained, so that a call takes its frame without
    /// retaining it; `frameSlotCapacity` slots, the first `framePool.count` in use.
    private var frameSlots = UnsafeMutablePointer<Unmanaged<Frame>>.allocate(capacity: 0)
    private var frameSlotCapacity = 0
    /// Current call depth (Conc-level frames).
    var depth = 0
    /// The innermost running frame (a call's, a generator's, a class or module body's), nil
    /// before the first; the chain through ``Frame/callerRef`` is the unit's stack, which
    /// `sys._getframe`, `locals()` and `globals()` read. Unretained: a running frame is kept
    /// alive by the pool or by its generator, which is being resumed.
    private(set) var currentFrameRef: Unmanaged<Frame>?
    /// Lowest stack address the evaluator may use before raising RecursionError.
    var stackLimit: UInt = 0
    /// Exceptions being handled by enclosing `except` blocks, innermost last (for bare
    /// `raise` and `__context__`).
    var handling: [PyBaseException] = []
    /// The arguments of the `gen.throw(...)` call running on this unit, with the exception
    /// made of them: `yield from` passes them on to a delegate's own throw() as given.
    var throwArguments: (exception: ObjectIdentifier, arguments: [Value])?
    /// Objects whose repr is being computed (guards against self-containing containers).
    var reprInProgress = Set<ObjectIdentifier>()
    /// The engine's recursion limit word (``Engine/recursionLimitWord``), cached here.
    let recursionLimitWord: UnsafeMutablePointer<Int>
    /// The engine's recursion limit (one atomic load: another unit may change it).
    @inline(__always) var recursionLimit: Int { CConcSys_atomic_load_word(recursionLimitWord) }
    /// The unit's display name (`MainThread`, `Thread-1`).
    public var name: String
    /// True for the engine's main unit (the one that gets KeyboardInterrupt and DeadlockError).
    public internal(set) var isMain = false
    /// True while this unit's OS thread holds the engine's GIL. Touched only by that thread.
    var holdsGIL = false
    /// For a thread unit just started in free-threaded mode: the futex word its starter
    /// waits on (``UnitHandle/handedOff``), posted when this unit first blocks or ends;
    /// nil after that. Only this unit touches the field.
    var handoff: UnsafeMutablePointer<UInt32>? = nil
    /// A deadlock report left for this (main) unit by another unit's detection; guarded by
    /// the engine's unit registry lock, raised as DeadlockError at the next poll.
    var pendingDeadlock: String?
    /// Set (under the unit registry's lock) when a deadlock report named this unit: its
    /// park never attempts again, so it stays blocked as reported.
    var frozenByDeadlock = false
    /// The handle Conc code holds for this unit (the main unit gets one on first use).
    var handle: PyUnitHandle?
    /// Whether units started by this one are daemons by default (inherited, as in CPython).
    var isDaemon = false
    /// The kernel thread id of the OS thread running the unit.
    var nativeID: Int = 0
    /// `pthread_self()` of the OS thread running the unit (`ident`).
    var threadIdent: Int = 0
    /// This unit's number within its process (the low half of ``unitID``; never 0).
    let number: UInt32
    /// Identity for primitive ownership: pid in the high half, ``number`` low (re-stamped
    /// in a forked child).
    var unitID: UInt64

    /// Bytes of machine stack kept free below `stackLimit` for native code.
    static let stackRedZone: UInt = 256 * 1024

    init(engine: Engine, name: String, stackCapacity: Int = 1 << 20) {
        self.engine = engine
        self.interruptFlag = engine.interruptFlag
        self.classEpochWord = engine.classEpochWord
        self.recursionLimitWord = engine.recursionLimitWord
        self.name = name
        self.number = engine.units.nextUnitNumber()
        self.unitID = (UInt64(UInt32(bitPattern: getpid())) << 32) | UInt64(number)
        self.stackCapacity = stackCapacity
        self.stack = .allocate(capacity: stackCapacity)
        // The stack bounds are read on the OS thread that will run the unit
        // (``setStackLimitFromThread()``), not here.
    }

    deinit { stack.deallocate(); frameSlots.deallocate() }

    /// Reads the calling OS thread's stack bounds; called when the unit starts on its thread.
    func setStackLimitFromThread() {
        threadIdent = Int(bitPattern: UInt(pthread_self()))
        // The main unit is the process's main thread for a program (CPython's main thread's
        // native_id is the pid), though it runs on a large-stack thread of its own.
        nativeID = isMain ? Int(getpid()) : Int(CConcSys_gettid())
        let low = UInt(CConcSys_thread_stack_low())
        stackLimit = low == 0 ? 0 : low + Unit.stackRedZone
    }

    /// The pooled frame for running `fn` at the current depth; fields are written only
    /// when they differ from the frame's previous use (recursion reuses them unchanged).
    @inline(__always) func frame(for fn: PyFunction, locals: UnsafeMutablePointer<Value>) -> Frame {
        pooledFrame(for: fn, locals: locals).takeUnretainedValue()
    }

    /// ``frame(for:locals:)`` unretained, for calls: the pool keeps every frame alive for
    /// the unit's life, and the call uses it only while it runs.
    @inline(__always) func pooledFrame(for fn: PyFunction, locals: UnsafeMutablePointer<Value>) -> Unmanaged<Frame> {
        if depth < framePool.count {
            let ref = frameSlots[depth]
            ref._withUnsafeGuaranteedRef { f in
                f.locals = locals
                if f.function !== fn {
                    f.function = fn
                    f.code = fn.code
                    // Usually the same module: an identity test costs no retain and release.
                    if f.globals !== fn.globals { f.globals = fn.globals }
                }
                if f.classNamespace != nil { f.classNamespace = nil }
                if f.localsSnapshot != nil { f.localsSnapshot = nil }
            }
            return ref
        }
        let f = Frame(unit: self, locals: locals, code: fn.code, globals: fn.globals)
        f.function = fn
        addToPool(f)
        return .passUnretained(f)
    }

    /// Empties the frame pool of a unit whose body has returned: pooled frames keep the
    /// function they last ran (a call at the same depth reuses it unchanged), which would
    /// otherwise stay alive until the unit itself is freed, after it can run what the
    /// function's death queues (weakref callbacks).
    func dropFramePool() {
        framePool = []
    }

    /// Appends `f` to the pool (the array owns it; ``frameSlots`` mirrors it unretained).
    private func addToPool(_ f: Frame) {
        framePool.append(f)
        if framePool.count > frameSlotCapacity {
            let capacity = max(64, frameSlotCapacity * 2)
            let slots = UnsafeMutablePointer<Unmanaged<Frame>>.allocate(capacity: capacity)
            slots.initialize(from: frameSlots, count: frameSlotCapacity)
            frameSlots.deallocate()
            frameSlots = slots
            frameSlotCapacity = capacity
        }
        frameSlots[framePool.count - 1] = .passUnretained(f)
    }

    /// Makes `f` the innermost running frame, linked to the one running now, which it
    /// returns for ``leaveFrame(_:)``.
    @inline(__always) func enterFrame(_ f: Unmanaged<Frame>) -> Unmanaged<Frame>? {
        let caller = currentFrameRef
        f._withUnsafeGuaranteedRef { $0.callerRef = caller }
        currentFrameRef = f
        return caller
    }
    @inline(__always) func enterFrame(_ f: Frame) -> Unmanaged<Frame>? { enterFrame(.passUnretained(f)) }

    /// Makes `caller` (what ``enterFrame(_:)`` returned) the innermost frame again.
    @inline(__always) func leaveFrame(_ caller: Unmanaged<Frame>?) { currentFrameRef = caller }

    /// The innermost running frame.
    var currentFrame: Frame? { currentFrameRef?.takeUnretainedValue() }

    /// A frame for depth `depth`, from the pool.
    @inline(__always) func frame(locals: UnsafeMutablePointer<Value>, code: CodeInfo, globals: Globals) -> Frame {
        if depth < framePool.count {
            let f = framePool[depth]
            f.locals = locals; f.code = code; f.globals = globals
            return f
        }
        let f = Frame(unit: self, locals: locals, code: code, globals: globals)
        addToPool(f)
        return f
    }

    /// Raises RecursionError when the call depth or the machine stack is exhausted.
    @inline(__always) func checkRecursion() throws {
        if depth >= recursionLimit || UInt(CConcSys_current_sp()) < stackLimit {
            throw pyError(Exc.recursionError, "maximum recursion depth exceeded")
        }
    }

    /// Counts one level of native recursion (repr, ==, < of nested containers) against the
    /// recursion limit and the machine stack, as CPython's Py_EnterRecursiveCall does.
    /// Pair with ``leaveNested()``.
    @inline(__always) func enterNested(_ context: String) throws {
        if depth >= recursionLimit || UInt(CConcSys_current_sp()) < stackLimit {
            throw pyError(Exc.recursionError, "maximum recursion depth exceeded" + context)
        }
        depth += 1
    }
    @inline(__always) func leaveNested() { depth -= 1 }
    /// The machine-stack half of ``enterNested(_:)`` alone, for native recursion CPython
    /// does not count against the limit (map(f, map(f, ...)) pulling through its links).
    @inline(__always) func checkStackRoom(_ context: String) throws {
        if UInt(CConcSys_current_sp()) < stackLimit {
            throw pyError(Exc.recursionError, "maximum recursion depth exceeded" + context)
        }
    }

    /// Polls for an interrupt (Ctrl-C, embedding interrupt or timeout) and raises it.
    @inline(__always) func checkInterrupt() throws {
        if interruptRequested { try engine.raisePendingInterrupt(self) }
    }
    /// The engine's current class epoch (one atomic load).
    @inline(__always) var classEpoch: Int { CConcSys_atomic_load_word(classEpochWord) }
    /// Whether the interrupt flag has any bit set (one load).
    @inline(__always) var interruptRequested: Bool { CConcSys_atomic_load(interruptFlag) != 0 }
}
