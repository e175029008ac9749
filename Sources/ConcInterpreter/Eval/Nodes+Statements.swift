// Simple and compound statements except try/with/raise (Nodes+Exceptions.swift) and
// import (Nodes+Imports.swift).
import ConcSyntax

final class ExprStmtNode: StmtNode {
    let expr: ExprNode
    init(_ e: ExprNode, _ loc: SourceLoc) { expr = e; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion { _ = try expr.eval(f); return .normal }
}

/// Expression statement at the REPL's top level: prints the repr and binds `_`.
final class EchoStmtNode: StmtNode {
    let expr: ExprNode
    init(_ e: ExprNode, _ loc: SourceLoc) { expr = e; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion {
        let v = try expr.eval(f)
        try f.withUnit { try $0.engine.echo($0, v) }
        return .normal
    }
}

final class AssignNode: StmtNode {
    let targets: [ExprNode]
    let value: ExprNode
    init(_ t: [ExprNode], _ v: ExprNode, _ loc: SourceLoc) { targets = t; value = v; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion {
        let v = try value.eval(f)
        for t in targets { try t.assign(f, v) }
        return .normal
    }
}

/// `target = value` with one target that is not a plain local (`self.x = x`, `a[i] = v`):
/// no loop over a targets array.
final class AssignOneNode: StmtNode {
    let target: ExprNode
    let value: ExprNode
    init(_ t: ExprNode, _ v: ExprNode, _ loc: SourceLoc) { target = t; value = v; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion {
        let v = try value.eval(f)
        try target.assign(f, v)
        return .normal
    }
}

/// `x = value` to a plain local: the commonest statement, without the target indirection.
final class AssignLocalNode: StmtNode {
    let slot: Int
    let value: ExprNode
    init(_ slot: Int, _ v: ExprNode, _ loc: SourceLoc) { self.slot = slot; value = v; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion {
        let v = try value.eval(f)
        f.locals[slot] = v
        return .normal
    }
}

/// `target op= value`; the target's container and index are evaluated once.
final class AugAssignNode: StmtNode {
    let op: BinaryOp
    let target: ExprNode
    let value: ExprNode
    init(_ op: BinaryOp, _ t: ExprNode, _ v: ExprNode, _ loc: SourceLoc) { self.op = op; target = t; value = v; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion {
        switch target {
        case let a as AttributeNode:  // compiled to AttributeAugAssignNode; kept for completeness
            return try AttributeAugAssignNode.run(op, a, value, f, loc)
        case let s as SubscriptNode:
            let o = try s.object.eval(f)
            let i = try s.index.eval(f)
            // Reading and storing the item are marked as the subscript (`~~~~~~^^^`), the
            // operation as the whole statement, as CPython 3.11 locates them.
            let old: Value
            do { old = try f.withUnit { try $0.getItem(o, i) } } catch { throw located(error, f, s.loc, s.marker) }
            let new: Value
            do { new = try f.withUnit { try $0.inPlace(op, old, try value.eval(f)) } } catch { throw located(error, f, loc) }
            do { try f.withUnit { try $0.setItem(o, i, new) } } catch { throw located(error, f, s.loc, s.marker) }
        default:
            let old = try target.eval(f)
            let rhs = try value.eval(f)
            if case .int(let x) = old, case .int(let y) = rhs {
                switch op {
                case .add: let (r, o) = x.addingReportingOverflow(y); if !o { try target.assign(f, .int(r)); return .normal }
                case .sub: let (r, o) = x.subtractingReportingOverflow(y); if !o { try target.assign(f, .int(r)); return .normal }
                default: break
                }
            } else if case .float(let x) = old {
                // `total += x` over floats (and float += int), as BinaryNode's fast path.
                let y: Double? = switch rhs { case .float(let d): d; case .int(let i): Double(i); default: nil }
                if let y {
                    switch op {
                    case .add: try target.assign(f, .float(x + y)); return .normal
                    case .sub: try target.assign(f, .float(x - y)); return .normal
                    case .mul: try target.assign(f, .float(x * y)); return .normal
                    default: break
                    }
                }
            }
            let new: Value
            do { new = try f.withUnit { try $0.inPlace(op, old, rhs) } } catch { throw located(error, f, loc) }
            try target.assign(f, new)
        }
        return .normal
    }
}

/// `s += t` for a local `s` whose right side binds no name (``bindsNoName(_:)``): when `s`
/// holds a str that nothing else references and `t` is a str, the text is appended in
/// place, as CPython does for a str with one reference, so building a string in a loop is
/// linear rather than quadratic. Anything else runs as ``AugAssignNode``.
///
/// In place is safe: a str referenced only by this frame's slot is reachable by no other
/// unit and by no other name, so nobody can see it change. The right side is evaluated
/// before the slot is looked at (it cannot rebind the slot); an unbound slot goes the
/// general way first, so UnboundLocalError still comes before the right side runs.
final class LocalStrAppendNode: StmtNode {
    let general: AugAssignNode
    private let slot: Int
    init(_ general: AugAssignNode, slot: Int) {
        self.general = general; self.slot = slot
        super.init(general.loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        let place = f.locals + slot
        guard let held = place.unretainedObject,
              held._withUnsafeGuaranteedRef({ $0.hasType(Types.strID) }) else { return try general.exec(f) }
        let rhs = try general.value.eval(f)
        if case .obj(let r) = rhs, r.hasType(Types.strID), let now = place.unretainedObject,
           now.toOpaque() == held.toOpaque() {
            // The slot still holds the same str (the right side binds no name).
            let appended = now._withUnsafeGuaranteedRef { o -> Bool in
                // Only this slot holds it (a retain added around the call could only make
                // the count larger, which takes the general way).
                guard _getRetainCount(o) == 1 else { return false }
                unsafeDowncast(o, to: PyStr.self).appendInPlace(unsafeDowncast(r, to: PyStr.self))
                return true
            }
            if appended { return .normal }
        }
        let new: Value
        do { new = try f.withUnit { try $0.inPlace(.add, place.pointee, rhs) } } catch { throw located(error, f, loc) }
        place.pointee = new
        return .normal
    }
}

/// `name += k` / `name -= k` for a local or module global `name` and an int constant `k`
/// (`i += 1`, `counter += 1`): the int case without evaluating a constant node or going
/// through the general operator, anything else through ``AugAssignNode``. A global is
/// read and written in two steps, each under the cell's lock, as CPython's bytecode does
/// between its load and store: threads running it at once lose updates, as they should.
final class NameAugAssignIntNode: StmtNode {
    let general: AugAssignNode
    /// `k`, negated for `-=`.
    private let delta: Int
    /// The local's slot, or -1 for a global.
    private let slot: Int
    /// The global's cell, unmanaged: cells of globals are immortal, so using it needs no
    /// retain (a strong field is retained and released around each use).
    private let cellRef: Unmanaged<Cell>?
    init(_ general: AugAssignNode, constant: Int) {
        self.general = general
        delta = general.op == .sub ? (constant == Int.min ? 0 : -constant) : constant
        slot = (general.target as? LocalNode)?.slot ?? -1
        cellRef = (general.target as? GlobalNode).map { Unmanaged.passUnretained($0.cell) }
        super.init(general.loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        // (`x -= Int.min` has no negation: `delta` is 0 and the general node handles it.)
        if delta != 0 || general.op == .add {
            if slot >= 0 {
                if case .int(let x) = f.locals[slot] {
                    let (r, overflow) = x.addingReportingOverflow(delta)
                    // The old value is an int: overwriting needs no release.
                    if !overflow { (f.locals + slot).initialize(to: .int(r)); return .normal }
                }
            } else if let cellRef {
                let done = cellRef._withUnsafeGuaranteedRef { c -> Bool in
                    // Read and write are two steps, as in CPython: threads racing on a
                    // global counter lose updates, which the lesson on locks shows.
                    guard case .int(let x) = c.value else { return false }
                    let (r, overflow) = x.addingReportingOverflow(delta)
                    if overflow { return false }
                    c.value = .int(r)
                    return true
                }
                if done { return .normal }
            }
        }
        return try general.exec(f)
    }
}

/// `obj.name op= value`: the object is evaluated once, the attribute read and written
/// through the attribute node's caches (what ``AugAssignNode`` does for an attribute
/// target, without finding out the target's kind at every execution).
final class AttributeAugAssignNode: StmtNode {
    let op: BinaryOp
    let target: AttributeNode
    let value: ExprNode
    /// True when `value` is a constant or a plain local: evaluating it runs no code.
    private let pureValue: Bool
    init(_ op: BinaryOp, _ t: AttributeNode, _ v: ExprNode, _ loc: SourceLoc) {
        self.op = op; target = t; value = v
        pureValue = v is ConstNode || v is LocalNode
        super.init(loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        // `self.count += 1`: an int added in place through the caches, with nothing copied.
        // Every step before the store is free of side effects, so when one does not apply
        // the ordinary path starts over.
        if pureValue && op == .add, try target.addIntInPlace(value, f) { return .normal }
        return try AttributeAugAssignNode.run(op, target, value, f, loc)
    }

    @inline(__always)
    static func run(_ op: BinaryOp, _ target: AttributeNode, _ value: ExprNode, _ f: Frame, _ loc: SourceLoc) throws -> Completion {
        let o = try target.object.eval(f)
        let old = try target.load(o, f)
        let rhs = try value.eval(f)
        if case .int(let x) = old, case .int(let y) = rhs, op == .add {
            let (r, overflow) = x.addingReportingOverflow(y)
            if !overflow { try target.store(o, .int(r), f); return .normal }
        }
        let new: Value
        do { new = try f.withUnit { try $0.inPlace(op, old, rhs) } } catch { throw located(error, f, loc) }
        try target.store(o, new, f)
        return .normal
    }
}

final class IfNode: StmtNode {
    let test: Condition
    let body: StmtNode
    let orElse: StmtNode?
    init(_ t: ExprNode, _ b: StmtNode, _ o: StmtNode?, _ loc: SourceLoc) {
        test = Condition(t, statement: loc); body = b; orElse = o; super.init(loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        if try test.holds(f) { return try body.exec(f) }
        if let o = orElse { return try o.exec(f) }
        return .normal
    }
}

/// The condition of an `if`, `while` or a comprehension's `if`, compiled as CPython
/// compiles it to jumps: `not` folded in (`not not x` is x), the `and`/`or` inside marked
/// as jumps (``BoolOpNode/markJumpConditions(_:)``), and a failing truth test (its
/// `__bool__`/`__len__` raising) marked where CPython 3.11 marks it.
struct Condition {
    /// The condition without its leading `not`s, and whether they negate it.
    let test: ExprNode
    let negated: Bool
    /// The slot of `test` when it is a plain local (`if items:`), else -1: its truth is
    /// then taken in place, without a retain and release of the object.
    let slot: Int
    /// Where a failing truth test is marked.
    let failure: (loc: SourceLoc, marker: TracebackEntry.Marker)

    init(_ t: ExprNode, failure: (loc: SourceLoc, marker: TracebackEntry.Marker)) {
        var e = t, negated = false
        while let u = e as? UnaryNode, u.op == .not { e = u.operand; negated.toggle() }
        test = e; self.negated = negated
        slot = (e as? LocalNode)?.slot ?? -1
        self.failure = failure
        BoolOpNode.markJumpConditions(t)
    }

    /// A statement's condition: a failing truth test is marked at the last comparison its
    /// jumps went through (`if a == 1 or b:` fails in b's `__bool__` marked at `a == 1`),
    /// else at the whole statement without carets.
    init(_ t: ExprNode, statement: SourceLoc) {
        self.init(t, failure: AssertNode.comparisonLoc(t, nil).map { ($0, .span) } ?? (statement, .statement))
    }

    @inline(__always) func holds(_ f: Frame) throws -> Bool {
        do {
            let t = try slot >= 0 ? truthOfLocal(f, slot, test) : truth(try test.eval(f), f)
            return t != negated
        } catch { throw located(error, f, failure.loc, failure.marker) }
    }
}

final class WhileNode: StmtNode {
    let test: Condition
    let body: StmtNode
    let orElse: StmtNode?
    init(_ t: ExprNode, _ b: StmtNode, _ o: StmtNode?, _ loc: SourceLoc) {
        test = Condition(t, statement: loc); body = b; orElse = o; super.init(loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        let u = f.unit
        while try test.holds(f) {
            switch try body.exec(f) {
            case .breakLoop: return .normal
            case .returned: return .returned
            default: break
            }
            if u.interruptRequested { try u.engine.raisePendingInterrupt(u) }
        }
        if let o = orElse { return try o.exec(f) }
        return .normal
    }
}

final class ForNode: StmtNode {
    let target: ExprNode
    let iterable: ExprNode
    let body: StmtNode
    let orElse: StmtNode?
    init(_ t: ExprNode, _ i: ExprNode, _ b: StmtNode, _ o: StmtNode?, _ loc: SourceLoc) {
        target = t; iterable = i; body = b; orElse = o; super.init(loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        let u = f.unit
        let source = try iterable.eval(f)
        // Ranges and lists of a local target are the hot loops: no iterator object.
        if case .obj(let o) = source, let r = o as? PyRange, let local = target as? LocalNode {
            var i = r.start
            var n = r.count
            while n > 0 {
                f.locals[local.slot] = .int(i)
                switch try body.exec(f) {
                case .breakLoop: return .normal
                case .returned: return .returned
                default: break
                }
                if u.interruptRequested { try u.engine.raisePendingInterrupt(u) }
                n -= 1
                i &+= r.step
            }
            if let e = orElse { return try e.exec(f) }
            return .normal
        }
        // A list (exactly; a subclass may define __iter__) into a local.
        if case .obj(let o) = source, o.hasType(Types.listID), let local = target as? LocalNode {
            return try runOverList(unsafeDowncast(o, to: PyList.self), into: local.slot, f)
        }
        let it: PyIter
        do { it = try u.iterate(source) } catch { throw located(error, f, loc, .statement) }
        while true {
            let next: Value?
            do { next = try it.next(u) } catch { throw located(error, f, loc, .statement) }
            // Moved into the target: the loop keeps no reference of its own, so `del x` in
            // the body frees the item (its __del__, weakref callbacks) as in CPython.
            guard let v = consume next else { break }
            try target.assign(f, consume v)
            switch try body.exec(f) {
            case .breakLoop: return .normal
            case .returned: return .returned
            default: break
            }
            if u.interruptRequested { try u.engine.raisePendingInterrupt(u) }
        }
        if let e = orElse { return try e.exec(f) }
        return .normal
    }

    /// The loop over a list into a local slot: items read by index, as the list's iterator
    /// would (an item appended meanwhile is visited), without the iterator object and its
    /// two virtual calls per item. Out of line, so the range loop above keeps its code.
    @inline(never) private func runOverList(_ list: PyList, into slot: Int, _ f: Frame) throws -> Completion {
        let u = f.unit
        var i = 0
        while let v = list.item(at: i) {
            i += 1
            f.locals[slot] = consume v  // moved: a plain `= v` copies it and destroys v after the body
            switch try body.exec(f) {
            case .breakLoop: return .normal
            case .returned: return .returned
            default: break
            }
            if u.interruptRequested { try u.engine.raisePendingInterrupt(u) }
        }
        if let e = orElse { return try e.exec(f) }
        return .normal
    }
}

final class BreakNode: StmtNode { override func exec(_ f: Frame) throws -> Completion { .breakLoop } }
final class ContinueNode: StmtNode { override func exec(_ f: Frame) throws -> Completion { .continueLoop } }
/// `target: annotation [= value]` in a module or class body: assigns, then evaluates the
/// annotation and, for a plain name, stores it in `__annotations__` under that name.
final class AnnotatedAssignNode: StmtNode {
    let assign: StmtNode?
    let annotation: ExprNode
    let store: (annotations: ExprNode, key: String)?
    init(assign: StmtNode?, annotation: ExprNode, store: (annotations: ExprNode, key: String)?, _ loc: SourceLoc) {
        self.assign = assign; self.annotation = annotation; self.store = store; super.init(loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        if let a = assign { _ = try a.exec(f) }
        let value = try annotation.eval(f)
        if let (annotations, key) = store { try f.unit.setItem(try annotations.eval(f), .str(key), value) }
        return .normal
    }
}

final class PassNode: StmtNode { override func exec(_ f: Frame) throws -> Completion { .normal } }

final class ReturnNode: StmtNode {
    let value: ExprNode?
    init(_ v: ExprNode?, _ loc: SourceLoc) { value = v; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion {
        f.returnValue = try value?.eval(f) ?? .none
        return .returned
    }
}

final class DeleteNode: StmtNode {
    let targets: [ExprNode]
    init(_ t: [ExprNode], _ loc: SourceLoc) { targets = t; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion {
        // A name's error is located at the name (subscripts and attributes locate their own).
        for t in targets {
            do { try t.delete(f) } catch { throw located(error, f, t.loc) }
        }
        return .normal
    }
}

final class AssertNode: StmtNode {
    let test: ExprNode
    let message: ExprNode?
    /// Where the traceback points: as in CPython 3.11, at the comparison the test turns on
    /// (`assert x == 1`, also under `not` and in `and`/`or`), else at the whole statement
    /// (`assert x`, `assert f()`: no caret line).
    private let failureLoc: SourceLoc
    init(_ t: ExprNode, _ m: ExprNode?, _ loc: SourceLoc) {
        test = t; message = m
        failureLoc = AssertNode.comparisonLoc(t, nil) ?? loc
        super.init(loc)
        BoolOpNode.markJumpConditions(t)
    }
    override func exec(_ f: Frame) throws -> Completion {
        if try truth(try test.eval(f), f) { return .normal }
        let args = try message.map { [try $0.eval(f)] } ?? []
        throw located(PyBaseException(type: Exc.assertionError, args: args), f, failureLoc)
    }

    /// The location CPython's compiler leaves current after the jump on `e` (its
    /// compiler_jump_if): a comparison's own, found through `not` and each operand of
    /// `and`/`or` in turn; any other expression keeps `current`.
    static func comparisonLoc(_ e: ExprNode, _ current: SourceLoc?) -> SourceLoc? {
        switch e {
        case is Compare1Node, is CompareNode, is CompareIntConstNode: return e.loc
        case let u as UnaryNode where u.op == .not: return comparisonLoc(u.operand, current)
        case let b as BoolOpNode: return b.operands.reduce(current) { comparisonLoc($1, $0) }
        default: return current
        }
    }
}

/// `def` (also the statement form of a decorated function): make, decorate, bind.
final class DefNode: StmtNode {
    let make: ExprNode
    let decorators: [ExprNode]
    let target: ExprNode
    init(_ make: ExprNode, decorators: [ExprNode], target: ExprNode, _ loc: SourceLoc) {
        self.make = make; self.decorators = decorators; self.target = target; super.init(loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        let decos = try decorators.map { try $0.eval(f) }
        var v = try make.eval(f)
        // Innermost first; an error is reported at the decorator's line, as CPython's.
        for i in decos.indices.reversed() {
            do { v = try f.withUnit { try $0.call(decos[i], [v]) } } catch { throw located(error, f, decorators[i].loc) }
        }
        try target.assign(f, v)
        return .normal
    }
}
