// Base classes of the executable tree the compiler builds from the AST (design "class nodes
// with virtual eval": see docs/design.md). Nodes are immutable after compilation and shared
// by all units; per-run state lives in frames.
import CConcSys
import ConcSyntax

/// An executable expression.
class ExprNode {
    /// Source span, for tracebacks and carets.
    let loc: SourceLoc
    init(_ loc: SourceLoc) { self.loc = loc; Immortal.make(self) }
    /// Evaluates the expression.
    func eval(_ f: Frame) throws -> Value { fatalError("eval not implemented for \(Swift.type(of: self))") }
    /// Stores `v` into this expression as an assignment target.
    func assign(_ f: Frame, _ v: Value) throws { fatalError("not an assignment target") }
    /// `del` of this expression as a target.
    func delete(_ f: Frame) throws { fatalError("not a deletion target") }
}

/// An executable statement.
class StmtNode {
    let loc: SourceLoc
    init(_ loc: SourceLoc) { self.loc = loc; Immortal.make(self) }
    func exec(_ f: Frame) throws -> Completion { fatalError("exec not implemented") }
}

/// Records where an exception passed, once per frame: the innermost expression that saw it.
@inline(never)
func located(_ error: Error, _ f: Frame, _ loc: SourceLoc, _ marker: TracebackEntry.Marker = .span) -> Error {
    if let e = error as? PyBaseException, e.needsLocation {
        // A module standing for C code: no entry, and the caller's frame records where.
        if f.code.hidesFrames { return error }
        e.traceback.append(TracebackEntry(in: f, at: loc, marker: marker))
        e.needsLocation = false
    }
    return error
}

/// A sequence of statements.
final class BlockNode: StmtNode {
    /// The statements, in memory owned by this (immortal) node: never freed. An array's
    /// buffer would be retained and released by every execution, from every unit, and that
    /// one shared refcount word costs two threads of the same loop most of their speed.
    /// Unmanaged: the statements are immortal nodes, so running one needs no retain of it
    /// (a strong load from a buffer costs a retain and a release per statement run).
    let body: UnsafeMutableBufferPointer<Unmanaged<StmtNode>>
    init(_ body: [StmtNode], _ loc: SourceLoc) {
        self.body = .allocate(capacity: body.count)
        _ = self.body.initialize(from: body.map { Unmanaged.passRetained($0) })  // never released: a block lives as long as its code
        super.init(loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        for s in body {
            let c = try s._withUnsafeGuaranteedRef { s in
                f.line = s.loc.line
                do { return try s.exec(f) } catch { throw located(error, f, s.loc, .span) }
            }
            // Instances that died in the statement run their __del__ now (Finalizers.swift).
            if CConcSys_finalizers_pending() != 0 { try f.unit.finalizeAtStatementEnd() }
            if case .normal = c { continue }
            return c
        }
        return .normal
    }
}

/// A constant.
final class ConstNode: ExprNode {
    let value: Value
    /// The object of an object constant, unmanaged: it is immortal, so each evaluation
    /// hands it out without a retain (the release its user will make is a no-op too).
    private let immortalObject: Unmanaged<PyObject>?
    init(_ v: Value, _ loc: SourceLoc) {
        value = v
        // A literal str or bytes lives as long as its node (nodes are immortal); made
        // immortal too, no unit ever writes its reference count.
        if case .obj(let o) = v { Immortal.make(o); immortalObject = .passUnretained(o) } else { immortalObject = nil }
        super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        // takeRetainedValue: an owned reference without a retain, balanced by nothing;
        // right only because retain and release of an immortal object change nothing.
        if let o = immortalObject { return .obj(o.takeRetainedValue()) }
        return value
    }
}
