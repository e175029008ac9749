// Conc exceptions: the instance class that carries a traceback through Swift `throw`,
// and the builtin exception hierarchy (CPython 3.11's, plus Conc's DeadlockError).
import ConcSyntax

/// One line of a traceback: `File "x.conc", line 12, in task`, plus the source span.
struct TracebackEntry {
    /// How CPython 3.11 would underline the failing expression.
    enum Marker {
        /// `^^^^` under the span (omitted when the span is the whole line).
        case span
        /// No markers: a `for` statement's iteration, which CPython 3.11 marks none of even
        /// on a one-line loop.
        case statement
        /// `~~~^~~~`: the operator of a binary operation between two operand spans.
        case binary(leftEnd: Int, rightStart: Int)
        /// `~~~^^^^`: a subscript's value then its bracket.
        case `subscript`(valueEnd: Int, indexEnd: Int)
    }
    let file: SourceFile
    let function: String
    let loc: SourceLoc
    var marker: Marker = .span
    /// The frame's code and module, for `tb.tb_frame`; nil for an entry that came from
    /// another process. The code unmanaged: compiled code is immortal (no refcounting on
    /// the exception path).
    var codeRef: Unmanaged<CodeInfo>? = nil
    var globals: Globals? = nil
    /// The frame and its locals while it ran, only compared (never followed) to tell
    /// whether it still runs: then `tb_frame` reads its line and locals live.
    var frame: Unmanaged<Frame>? = nil
    var locals: UnsafeMutablePointer<Value>? = nil
    /// The line the frame was last at when the exception left it (after its `except`
    /// tests and `finally` blocks ran): the frame's `f_lineno`. 0 when not recorded.
    var lastLine = 0
}

extension TracebackEntry {
    /// An entry for `code` (its file and name) of module `globals`, at `loc`.
    @inline(__always) init(_ code: CodeInfo, globals: Globals, at loc: SourceLoc, marker: Marker) {
        self.init(file: code.file, function: code.name, loc: loc, marker: marker,
                  codeRef: Unmanaged.passUnretained(code), globals: globals)
    }
    /// An entry for the running frame `f` at `loc`, which `tb_frame` reads live while `f`
    /// still runs.
    @inline(__always) init(in f: Frame, at loc: SourceLoc, marker: Marker) {
        self.init(f.code, globals: f.globals, at: loc, marker: marker)
        frame = Unmanaged.passUnretained(f)
        locals = f.locals
    }
}


/// An exception instance. It is also the Swift error thrown while it propagates.
///
/// Its fields are written by the unit that raised or is handling it; an exception object
/// moves between units only through `join()` re-raising, which happens after the raiser ended.
public final class PyBaseException: PyInstance, Error, @unchecked Sendable {
    /// `args`.
    public internal(set) var args: [Value]
    /// Innermost entry first. Appended as the exception leaves each expression and frame.
    var traceback: [TracebackEntry] = []
    /// True while no traceback entry has been recorded for the current frame yet.
    var needsLocation = true
    /// `__cause__` (from `raise X from Y`).
    var cause: PyBaseException?
    /// `__context__`: the exception being handled when this one was raised.
    var context: PyBaseException?
    /// True once `context` was decided for good: by a `raise` statement (which links the
    /// exception being handled, or none) or by the program assigning `__context__`. An
    /// exception the interpreter raised is linked where it is caught instead (see
    /// TryNode.takeContext), and only while this is false.
    var contextSettled = false
    /// The front-end error behind a SyntaxError raised by an import.
    var syntaxError: SyntaxError?
    /// True for the TimeoutError an embedding's timeout raises: it stops the program, so
    /// the paths that report and swallow exceptions (a `__del__`'s) hand it on instead.
    var endsTheRun = false
    /// `__suppress_context__`.
    var suppressContext = false
    /// The object `__traceback__` last gave (or was assigned), with the traceback length
    /// it stood for: the same object again while the traceback has not grown
    /// (`e.__traceback__ is e.__traceback__`), and the inner part of the next one once it
    /// has (a re-raise: `tb.tb_next is` the old object, as in CPython). Under the object's
    /// lock (``PyObject/locked(_:)``).
    private var tracebackObject: (length: Int, object: PyTraceback)?
    /// For a BaseExceptionGroup: its `message` and `exceptions`, fixed when it is made
    /// (``makeExceptionGroup(_:_:_:)``); nil `groupExceptions` for any other exception.
    var groupMessage: Value = .none
    var groupExceptions: PyTuple?
    /// For a NameError or AttributeError the interpreter raised: the missing name and
    /// where to look for a close match when the error is printed (Suggestions.swift).
    var suggestionName: String?
    var suggestionSource: SuggestionSource?

    init(type: PyType, args: [Value]) {
        self.args = args
        super.init(cls: type)
    }

    deinit {
        // An instance of a user exception class with `__del__` (PyInstance's deinit handles
        // plain instances only): a stand-in takes over what `__del__` may read.
        if Finalizers.inUse.load(ordering: .relaxed), !wasFinalized, !typeIsBuiltin, type.lookup("__del__") != nil {
            let standIn = PyBaseException(type: type, args: args)
            standIn.traceback = traceback
            standIn.cause = cause
            standIn.context = context
            standIn.contextSettled = contextSettled
            standIn.suppressContext = suppressContext
            moveAttributes(to: standIn)
            wasFinalized = true
            Finalizers.queue(standIn: standIn)
        }
        // A chain through args, `__cause__` or `__context__` (`ValueError(previous)`)
        // frees its links inside the trashcan's bracket.
        Trashcan.releaseFields(reference: (args, cause as Any, context as Any, groupExceptions as Any, tracebackObject as Any)) {
            args = []; cause = nil; context = nil; groupExceptions = nil; tracebackObject = nil
        }
    }

    /// `__traceback__`: None before the exception was raised.
    var tracebackValue: Value {
        var inner: (object: PyTraceback, depth: Int)? = nil
        let made: PyTraceback? = locked {
            if traceback.isEmpty { return nil }
            if let t = tracebackObject, t.length == traceback.count { return t.object }
            let t = PyTraceback(self)
            // The traceback only grew outward since (frames are appended as it unwinds).
            if let old = tracebackObject, old.length < traceback.count { inner = (old.object, traceback.count - old.length) }
            tracebackObject = (traceback.count, t)
            return t
        }
        guard let t = made else { return .none }
        // Linked after this lock (linking takes the tracebacks' own locks).
        if let (object, depth) = inner { t.link(object, at: depth) }
        return .obj(t)
    }

    /// `e.__traceback__ = tb` / `e.with_traceback(tb)`: the frames of `tb` (from its frame
    /// inward) become the traceback, and `tb` itself what `__traceback__` gives; nil for None.
    func setTraceback(_ tb: PyTraceback?) {
        let frames = tb.map { Array($0.entries[..<($0.entries.count - $0.position)]) } ?? []
        traceback = frames
        needsLocation = frames.isEmpty
        locked { tracebackObject = tb.map { (frames.count, $0) } }
    }

    /// Takes `other`'s traceback: the same entries and the same `__traceback__` object
    /// (the parts of a split exception group share their group's).
    func shareTraceback(with other: PyBaseException) {
        traceback = other.traceback
        needsLocation = other.needsLocation
        _ = other.tracebackValue  // made now, so that both give this one object
        let shared = other.locked { other.tracebackObject }
        locked { tracebackObject = shared }
    }

    var typeName: String { type.name }
}

/// The builtin exception classes.
enum Exc {
    /// `attributes` installs what only this class and its subclasses have (OSError's
    /// errno, SyntaxError's lineno...).
    static func make(_ name: String, _ base: PyType?, _ attributes: ((PyType) -> Void)? = nil) -> PyType {
        let t = PyType(name: name, bases: [base ?? Types.object], builtin: true)
        t.layout = baseException
        attributes?(t)
        return t
    }
    /// A class with two exception bases.
    static func make(_ name: String, bases: [PyType], module: String = "builtins") -> PyType {
        let t = PyType(name: name, bases: bases, builtin: true, module: module)
        t.layout = baseException
        return t
    }
    static let baseException: PyType = {
        let t = PyType(name: "BaseException", bases: [Types.object], builtin: true)
        installExceptionMethods(t)
        return t
    }()
    static let exception = make("Exception", baseException)
    static let systemExit = make("SystemExit", baseException, installSystemExitAttributes)
    static let baseExceptionGroup = make("BaseExceptionGroup", baseException, installExceptionGroupMethods)
    /// Both a BaseExceptionGroup and an Exception, as in CPython.
    static let exceptionGroup = make("ExceptionGroup", bases: [baseExceptionGroup, exception])
    static let keyboardInterrupt = make("KeyboardInterrupt", baseException)
    static let generatorExit = make("GeneratorExit", baseException)
    static let arithmeticError = make("ArithmeticError", exception)
    static let overflowError = make("OverflowError", arithmeticError)
    static let zeroDivisionError = make("ZeroDivisionError", arithmeticError)
    static let floatingPointError = make("FloatingPointError", arithmeticError)
    static let assertionError = make("AssertionError", exception)
    static let attributeError = make("AttributeError", exception, installAttributeErrorAttributes)
    static let bufferError = make("BufferError", exception)
    static let eofError = make("EOFError", exception)
    static let importError = make("ImportError", exception, installImportErrorAttributes)
    static let moduleNotFoundError = make("ModuleNotFoundError", importError)
    static let lookupError = make("LookupError", exception)
    static let indexError = make("IndexError", lookupError)
    static let keyError = make("KeyError", lookupError)
    static let memoryError = make("MemoryError", exception)
    static let nameError = make("NameError", exception, installNameAttribute)
    static let unboundLocalError = make("UnboundLocalError", nameError)
    static let osError = make("OSError", exception, installOSErrorAttributes)
    static let blockingIOError = make("BlockingIOError", osError)
    static let childProcessError = make("ChildProcessError", osError)
    static let connectionError = make("ConnectionError", osError)
    static let brokenPipeError = make("BrokenPipeError", connectionError)
    static let connectionAbortedError = make("ConnectionAbortedError", connectionError)
    static let connectionRefusedError = make("ConnectionRefusedError", connectionError)
    static let connectionResetError = make("ConnectionResetError", connectionError)
    static let fileExistsError = make("FileExistsError", osError)
    static let fileNotFoundError = make("FileNotFoundError", osError)
    /// `io.UnsupportedOperation`: both an OSError and a ValueError, as in CPython.
    static let unsupportedOperation = make("UnsupportedOperation", bases: [osError, valueError], module: "io")
    static let interruptedError = make("InterruptedError", osError)
    static let isADirectoryError = make("IsADirectoryError", osError)
    static let notADirectoryError = make("NotADirectoryError", osError)
    static let permissionError = make("PermissionError", osError)
    static let processLookupError = make("ProcessLookupError", osError)
    static let timeoutError = make("TimeoutError", osError)
    static let referenceError = make("ReferenceError", exception)
    static let runtimeError = make("RuntimeError", exception)
    static let notImplementedError = make("NotImplementedError", runtimeError)
    static let recursionError = make("RecursionError", runtimeError)
    static let deadlockError = make("DeadlockError", runtimeError)
    static let stopIteration = make("StopIteration", exception, installStopIterationAttributes)
    static let stopAsyncIteration = make("StopAsyncIteration", exception)
    static let syntaxError = make("SyntaxError", exception, installSyntaxErrorAttributes)
    static let indentationError = make("IndentationError", syntaxError)
    static let tabError = make("TabError", indentationError)
    static let systemError = make("SystemError", exception)
    static let typeError = make("TypeError", exception)
    static let valueError = make("ValueError", exception)
    static let unicodeError = make("UnicodeError", valueError)
    static let unicodeDecodeError = make("UnicodeDecodeError", unicodeError, installUnicodeErrorAttributes)
    static let unicodeEncodeError = make("UnicodeEncodeError", unicodeError, installUnicodeErrorAttributes)
    static let unicodeTranslateError = make("UnicodeTranslateError", unicodeError)
    static let warning = make("Warning", exception)
    static let userWarning = make("UserWarning", warning)
    static let deprecationWarning = make("DeprecationWarning", warning)
    static let pendingDeprecationWarning = make("PendingDeprecationWarning", warning)
    static let runtimeWarning = make("RuntimeWarning", warning)
    static let syntaxWarning = make("SyntaxWarning", warning)
    static let futureWarning = make("FutureWarning", warning)
    static let importWarning = make("ImportWarning", warning)
    static let unicodeWarning = make("UnicodeWarning", warning)
    static let bytesWarning = make("BytesWarning", warning)
    static let resourceWarning = make("ResourceWarning", warning)
    static let encodingWarning = make("EncodingWarning", warning)

    /// Every builtin exception class, for the builtins module.
    static var all: [PyType] {
        [baseException, exception, baseExceptionGroup, exceptionGroup, systemExit, keyboardInterrupt, generatorExit, arithmeticError,
         overflowError, zeroDivisionError, floatingPointError, assertionError, attributeError,
         bufferError, eofError, importError, moduleNotFoundError, lookupError, indexError, keyError,
         memoryError, nameError, unboundLocalError, osError, blockingIOError, childProcessError,
         connectionError, brokenPipeError, connectionAbortedError, connectionRefusedError,
         connectionResetError, fileExistsError, fileNotFoundError, interruptedError,
         isADirectoryError, notADirectoryError, permissionError, processLookupError, timeoutError,
         referenceError, runtimeError, notImplementedError, recursionError, deadlockError,
         stopIteration, stopAsyncIteration, syntaxError, indentationError, tabError, systemError,
         typeError, valueError, unicodeError, unicodeDecodeError, unicodeEncodeError, unicodeTranslateError,
         warning, userWarning, deprecationWarning, pendingDeprecationWarning, runtimeWarning, syntaxWarning,
         futureWarning, importWarning, unicodeWarning, bytesWarning, resourceWarning, encodingWarning]
    }
}

/// Creates an exception of builtin class `type` with one string argument.
func pyError(_ type: PyType, _ message: String) -> PyBaseException {
    PyBaseException(type: type, args: [.str(message)])
}
func typeError(_ m: String) -> PyBaseException { pyError(Exc.typeError, m) }
func valueError(_ m: String) -> PyBaseException { pyError(Exc.valueError, m) }
func indexError(_ m: String) -> PyBaseException { pyError(Exc.indexError, m) }
func attributeError(_ m: String) -> PyBaseException { pyError(Exc.attributeError, m) }
func overflowError(_ m: String) -> PyBaseException { pyError(Exc.overflowError, m) }
func zeroDivision(_ m: String) -> PyBaseException { pyError(Exc.zeroDivisionError, m) }
func runtimeError(_ m: String) -> PyBaseException { pyError(Exc.runtimeError, m) }

/// The object passed as `tb` to `__exit__` and returned by `e.__traceback__`: the
/// exception's traceback entries as they were then (assigning it back to `__traceback__`
/// restores them, as contextlib does), seen from frame `position` (0 = the outermost, as
/// CPython's traceback object starts; `tb_next` goes inward).
final class PyTraceback: PyObject {
    /// Innermost first, as ``PyBaseException/traceback``.
    let entries: [TracebackEntry]
    let position: Int
    /// The frame objects made for these entries, shared by the objects of one `tb_next`
    /// chain, so that `tb.tb_frame.f_back is tb_outer.tb_frame`.
    private let frames: TracebackFrames
    init(_ e: PyBaseException) {
        entries = e.traceback; position = 0; frames = TracebackFrames()
        super.init(type: Types.traceback)
    }
    init(entries: [TracebackEntry], position: Int) {
        self.entries = entries; self.position = position; frames = TracebackFrames()
        super.init(type: Types.traceback)
    }
    private init(entries: [TracebackEntry], position: Int, frames: TracebackFrames) {
        self.entries = entries; self.position = position; self.frames = frames
        super.init(type: Types.traceback)
    }
    /// The frame this object stands for.
    var entry: TracebackEntry { entries[entries.count - 1 - position] }
    /// `tb_next` once made (so `tb.tb_next is tb.tb_next`), or linked in by ``link(_:at:)``.
    /// Under this object's lock.
    private var nextObject: PyTraceback?
    /// `tb_frame`: the frame this entry stands for (its code, module and line; its caller,
    /// `f_back`, the next entry outward), nil when the entry does not know its code. A
    /// frame still running (the one that caught the exception) reads its line and locals
    /// live; a finished one has the line it was left at and no locals (Conc keeps none).
    var frame: PyFrameObject? { frames.object(entries, entries.count - 1 - position) }

    /// `tb_next`: the object for the next frame inward; nil at the innermost.
    var next: PyTraceback? {
        guard position + 1 < entries.count else { return nil }
        return locked {
            if let n = nextObject { return n }
            let n = PyTraceback(entries: entries, position: position + 1, frames: frames)
            nextObject = n
            return n
        }
    }

    /// Makes `inner`, an earlier traceback object for this one's innermost frames, the
    /// object found `depth` steps down the `tb_next` chain.
    func link(_ inner: PyTraceback, at depth: Int) {
        var t: PyTraceback = self
        for _ in 1..<depth { guard let n = t.next else { return }; t = n }
        t.locked { t.nextObject = inner }
    }
}

/// The frame objects of one traceback's entries, made on first use (by index into the
/// entries, innermost first) and kept for identity; any thread may ask, under `mutex`.
final class TracebackFrames: @unchecked Sendable {  // `made` is only touched under `mutex`
    private let made = PosixMutex<[Int: PyFrameObject]>([:])

    /// The frame object of entry `i`, whose `f_back` is entry `i + 1`'s.
    func object(_ entries: [TracebackEntry], _ i: Int) -> PyFrameObject? {
        made.withLock { made in make(entries, i, &made) }
    }

    private func make(_ entries: [TracebackEntry], _ i: Int, _ made: inout [Int: PyFrameObject]) -> PyFrameObject? {
        if let f = made[i] { return f }
        guard i < entries.count else { return nil }
        var shots: [FrameSnapshot] = []
        for e in entries[i...] {
            guard let code = e.codeRef?.takeUnretainedValue(), let globals = e.globals else { break }
            shots.append(FrameSnapshot(code: code, line: e.lastLine > 0 ? e.lastLine : e.loc.line, globals: globals,
                                       function: nil, frame: e.frame, locals: e.locals))
        }
        guard !shots.isEmpty else { return nil }
        let f = PyFrameObject(stack: shots, position: 0)
        f.backObject = make(entries, i + 1, &made)
        made[i] = f
        return f
    }
}

extension PyBaseException {
    /// Records, in the traceback entry of `frame` (the last one: the frame the exception is
    /// leaving), the line the frame was last at, for `tb_frame.f_lineno`.
    @inline(__always) func noteFrameLeft(_ frame: Frame) {
        guard !frame.code.hidesFrames, let i = traceback.indices.last, traceback[i].codeRef?.toOpaque() == Unmanaged.passUnretained(frame.code).toOpaque() else { return }
        traceback[i].lastLine = frame.line
    }

    /// Sets `__context__` to `ctx` as CPython does, first cutting the link that would make
    /// the chain a cycle: if `self` is already in `ctx`'s context chain, the exception
    /// pointing at it loses its context (so `while e: e = e.__context__` ends).
    func chain(to ctx: PyBaseException) {
        var o: PyBaseException? = ctx
        var steps = 0
        while let x = o, steps < 10_000 {  // bounded: a chain made cyclic by assignment
            if x.context === self { x.context = nil; break }
            o = x.context
            steps += 1
        }
        context = ctx
    }
}
