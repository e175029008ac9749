// The activation record of one running function, class body or module body.
import CConcSys
import ConcSyntax

/// One activation: where its locals are and what it is running.
///
/// Frames of ordinary calls are pooled by the unit (one per call depth) and reused; a
/// generator owns its frame for its whole life. Only the unit running the frame touches it.
final class Frame {
    /// The unit running this frame, held unmanaged: the unit outlives every frame it runs
    /// (frames die with it or with their generator, which is resumed only by a live unit).
    private var unitRef: Unmanaged<Unit>
    /// The unit running this frame. A generator's frame is re-pointed when another unit
    /// resumes it. Read without a retain (an `unowned(unsafe)` field would still be retained and
    /// released around each use, on every node that touches its unit); this accessor lets
    /// the compiler borrow it.
    var unit: Unit {
        @inline(__always) get { unitRef._withUnsafeGuaranteedRef { $0 } }
        @inline(__always) set { unitRef = .passUnretained(newValue) }
    }
    /// Runs `body` with the unit borrowed: no retain around the calls it makes, which
    /// ``unit`` cannot promise when the unit is passed to a function the compiler cannot see.
    @inline(__always) func withUnit<R>(_ body: (Unit) throws -> R) rethrows -> R {
        try unitRef._withUnsafeGuaranteedRef(body)
    }
    /// The local slots: on the unit's value stack, or in a generator's own buffer.
    var locals: UnsafeMutablePointer<Value>
    /// The code being run (a module body has a synthetic CodeInfo).
    /// Read without a retain, like ``unit``: code objects are immortal.
    var code: CodeInfo {
        @inline(__always) get { codeRef._withUnsafeGuaranteedRef { $0 } }
        set { codeRef = .passUnretained(newValue) }
    }
    private var codeRef: Unmanaged<CodeInfo>
    /// The function object for calls (closure, owner class); nil for module and class bodies.
    var function: PyFunction?
    /// The value of the last `return`, read by the caller right after the body completes.
    var returnValue: Value = .none
    /// The class namespace while running a class body; nil otherwise.
    var classNamespace: PyDict?
    /// The dict `locals()` returned in this call, refreshed and returned again by later
    /// calls (CPython's f_locals): names `exec()` added to it stay. Reset when the pooled
    /// frame is reused. Touched only by the unit running the frame.
    var localsSnapshot: PyDict?
    /// While running a class body: the functions its `def`s and lambdas made, which the
    /// class will claim for zero-argument `super()` and `__class__` (decorated ones too,
    /// as CPython's `__class__` cell reaches them); nil otherwise.
    var classBodyFunctions: [PyFunction]?
    /// The module globals (for `globals()` and class bodies' name lookups).
    var globals: Globals
    /// The generator this frame belongs to, if it is a generator's frame. Unowned: the
    /// state owns the frame.
    unowned(unsafe) var generator: GeneratorState? = nil
    /// The frame that was running when this one started (``Unit/currentFrameRef``): valid
    /// only while this frame runs, when every frame down the chain is running too.
    var callerRef: Unmanaged<Frame>?
    /// The line of the statement running now (for deadlock reports and where a primitive
    /// was created or acquired); written by ``BlockNode`` before each statement.
    var line = 0

    /// The engine's class epoch word (``Unit/classEpochWord``; the same for every unit of an
    /// engine, so it survives a generator frame's move to another unit). Inline caches read
    /// it here: going through `unit` would retain and release the unit at every access.
    let classEpochWord: UnsafeMutablePointer<Int>

    init(unit: Unit, locals: UnsafeMutablePointer<Value>, code: CodeInfo, globals: Globals) {
        self.unitRef = .passUnretained(unit); self.locals = locals; self.codeRef = .passUnretained(code); self.globals = globals
        self.classEpochWord = unit.classEpochWord
    }

    /// The engine's current class epoch (one atomic load), as ``Unit/classEpoch``.
    @inline(__always) var classEpoch: Int { CConcSys_atomic_load_word(classEpochWord) }

    /// The closure cell for free variable `i`.
    @inline(__always) func freeCell(_ i: Int) -> Cell { function!.closure[i] }
    /// Runs `body` with closure cell `i`, unretained: the running function keeps its
    /// closure (fixed at its creation) alive, and this frame keeps the function.
    @inline(__always) func withFreeCell<R>(_ i: Int, _ body: (Cell) throws -> R) rethrows -> R {
        try Unmanaged.passUnretained(function.unsafelyUnwrapped)._withUnsafeGuaranteedRef { fn in
            try fn.closure.withUnsafeBufferPointer { b in
                try b.withMemoryRebound(to: Unmanaged<Cell>.self) { try $0[i]._withUnsafeGuaranteedRef(body) }
            }
        }
    }
}

/// What a statement did: fall through, or leave its block.
enum Completion {
    case normal
    case breakLoop
    case continueLoop
    /// `return`: the value is in `Frame.returnValue`.
    case returned
}
