// Operator expressions: arithmetic with int fast paths, comparisons, boolean logic.
import ConcSyntax

/// `a op b`.
final class BinaryNode: ExprNode {
    let op: BinaryOp
    let left: ExprNode
    let right: ExprNode
    init(_ op: BinaryOp, _ l: ExprNode, _ r: ExprNode, _ loc: SourceLoc) { self.op = op; left = l; right = r; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let a = try left.eval(f)
        let b = try right.eval(f)
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case .add: let (r, o) = x.addingReportingOverflow(y); if !o { return .int(r) }
            case .sub: let (r, o) = x.subtractingReportingOverflow(y); if !o { return .int(r) }
            case .mul: let (r, o) = x.multipliedReportingOverflow(by: y); if !o { return .int(r) }
            case .mod: if y > 0 && x >= 0 { return .int(x % y) }
            case .floorDiv: if y > 0 && x >= 0 { return .int(x / y) }
            case .bitAnd: return .int(x & y)
            default: break
            }
        }
        do { return try f.withUnit { try $0.binary(op, a, b) } } catch {
            throw located(error, f, loc, .binary(leftEnd: left.loc.endCol, rightStart: right.loc.col))
        }
    }
}

/// `x op k` for an int constant `k` (`n - 1`, `i % 7`): one child to evaluate, not two.
final class BinaryIntConstNode: ExprNode {
    let op: BinaryOp
    let left: ExprNode
    let constant: Int
    /// Where the constant is, for the caret of an error.
    let rightLoc: SourceLoc
    init(_ op: BinaryOp, _ l: ExprNode, _ k: Int, rightLoc: SourceLoc, _ loc: SourceLoc) {
        self.op = op; left = l; constant = k; self.rightLoc = rightLoc; super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        let a = try left.eval(f)
        let y = constant
        if case .int(let x) = a {
            switch op {
            case .add: let (r, o) = x.addingReportingOverflow(y); if !o { return .int(r) }
            case .sub: let (r, o) = x.subtractingReportingOverflow(y); if !o { return .int(r) }
            case .mul: let (r, o) = x.multipliedReportingOverflow(by: y); if !o { return .int(r) }
            case .mod: if y > 0 && x >= 0 { return .int(x % y) }
            case .floorDiv: if y > 0 && x >= 0 { return .int(x / y) }
            case .bitAnd: return .int(x & y)
            default: break
            }
        }
        do { return try f.withUnit { try $0.binary(op, a, .int(y)) } } catch {
            throw located(error, f, loc, .binary(leftEnd: left.loc.endCol, rightStart: rightLoc.col))
        }
    }
}

/// `-x`, `+x`, `~x`, `not x`.
final class UnaryNode: ExprNode {
    let op: UnaryOp
    let operand: ExprNode
    init(_ op: UnaryOp, _ e: ExprNode, _ loc: SourceLoc) { self.op = op; operand = e; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let v = try operand.eval(f)
        switch (op, v) {
        case (.not, .bool(let b)): return .bool(!b)
        case (.neg, .int(let i)) where i != Int.min: return .int(-i)
        default:
            do { return try f.withUnit { try $0.unary(op, v) } } catch { throw located(error, f, loc) }
        }
    }
}

/// `a and b and c` / `a or b`.
final class BoolOpNode: ExprNode {
    let isAnd: Bool
    let operands: [ExprNode]
    /// True when this is (part of) the condition of an `if`, `while`, conditional
    /// expression or comprehension `if`: CPython compiles it to jumps, and a failing truth
    /// test is marked where that statement or expression says, not at this span. Set once
    /// by ``markJumpConditions(_:)`` while the code is compiled, read-only afterwards.
    private(set) var isJumpCondition = false
    init(isAnd: Bool, _ ops: [ExprNode], _ loc: SourceLoc) { self.isAnd = isAnd; operands = ops; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        var v: Value = .none
        for (i, e) in operands.enumerated() {
            v = try e.eval(f)
            if i == operands.count - 1 { break }
            let t: Bool
            do { t = try truth(v, f) } catch { throw isJumpCondition ? error : located(error, f, loc) }
            if isAnd ? !t : t { return v }
        }
        return v
    }

    /// Marks the `and`/`or` nodes of the condition `e` (through `not` and nested ones).
    static func markJumpConditions(_ e: ExprNode) {
        if let u = e as? UnaryNode, u.op == .not { markJumpConditions(u.operand) }
        guard let b = e as? BoolOpNode else { return }
        b.isJumpCondition = true
        b.operands.forEach(markJumpConditions)
    }
}

/// Truth test with the fast cases inline.
@inline(__always) func truth(_ v: Value, _ f: Frame) throws -> Bool {
    switch v {
    case .bool(let b): return b
    case .int(let i): return i != 0
    case .none: return false
    default: return try f.withUnit { try $0.isTruthy(v) }
    }
}

/// The truth of the value in local `slot`, taken in place: the object is borrowed from the
/// slot, which keeps it alive (a `__bool__` or `__len__` it runs is another frame's code,
/// which cannot store into this frame's plain locals). An unbound slot raises through
/// `local`'s own read.
@inline(__always) func truthOfLocal(_ f: Frame, _ slot: Int, _ local: ExprNode) throws -> Bool {
    let p = f.locals + slot
    switch p.pointee {
    case .bool(let b): return b
    case .int(let i): return i != 0
    case .none: return false
    case .float(let d): return d != 0
    case .unbound: return try truth(try local.eval(f), f)
    case .obj:
        return try p.unretainedObject!._withUnsafeGuaranteedRef { o in try f.withUnit { try $0.isTruthy(.obj(o)) } }
    }
}

/// `a < b`, `a == b`, `x in y`... with chains `a < b < c` evaluating b once.
final class CompareNode: ExprNode {
    let first: ExprNode
    let ops: [CompareOp]
    let rest: [ExprNode]
    init(_ first: ExprNode, _ ops: [CompareOp], _ rest: [ExprNode], _ loc: SourceLoc) {
        self.first = first; self.ops = ops; self.rest = rest; super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        var a = try first.eval(f)
        var result: Value = .bool(true)
        for i in 0..<ops.count {
            let b = try rest[i].eval(f)
            result = try compareOnce(ops[i], a, b, f)
            if i < ops.count - 1 {
                if !(try truth(result, f)) { return result }
                a = b
            }
        }
        return result
    }
    @inline(__always) private func compareOnce(_ op: CompareOp, _ a: Value, _ b: Value, _ f: Frame) throws -> Value {
        if case .int(let x) = a, case .int(let y) = b, let r = compareInts(op, x, y) { return r }
        do { return try f.withUnit { try $0.compare(op, a, b) } } catch { throw located(error, f, loc) }
    }
}

/// `body if test else orElse`.
final class IfExpNode: ExprNode {
    let test: ExprNode, body: ExprNode, orElse: ExprNode
    init(_ t: ExprNode, _ b: ExprNode, _ o: ExprNode, _ loc: SourceLoc) {
        test = t; body = b; orElse = o; super.init(loc)
        BoolOpNode.markJumpConditions(t)
    }
    override func eval(_ f: Frame) throws -> Value {
        let holds: Bool
        // A failing truth test is marked at the whole conditional expression.
        do { holds = try truth(try test.eval(f), f) } catch { throw located(error, f, loc) }
        return holds ? try body.eval(f) : try orElse.eval(f)
    }
}

/// `target := value`.
final class NamedExprNode: ExprNode {
    let target: ExprNode, value: ExprNode
    init(_ t: ExprNode, _ v: ExprNode, _ loc: SourceLoc) { target = t; value = v; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let v = try value.eval(f)
        try target.assign(f, v)
        return v
    }
}

/// A comparison with one operator (`a < b`): the common case, without the chain machinery.
final class Compare1Node: ExprNode {
    let op: CompareOp
    let left: ExprNode
    let right: ExprNode
    /// For `x in c` / `x not in c` with `c` a plain local: its slot, else -1. The container
    /// is then used in place, without a retain (it is loaded after `x`, as in CPython, and
    /// the slot keeps it alive during the test).
    let containerSlot: Int
    init(_ op: CompareOp, _ l: ExprNode, _ r: ExprNode, _ loc: SourceLoc) {
        self.op = op; left = l; right = r
        containerSlot = op == .in || op == .notIn ? (r as? LocalNode)?.slot ?? -1 : -1
        super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        let a = try left.eval(f)
        if containerSlot >= 0, let c = (f.locals + containerSlot).unretainedObject {
            do {
                let found = try c._withUnsafeGuaranteedRef { o in try f.withUnit { try $0.contains(.obj(o), a) } }
                return .bool(op == .in ? found : !found)
            } catch { throw located(error, f, loc) }
        }
        let b = try right.eval(f)
        if case .int(let x) = a, case .int(let y) = b, let r = compareInts(op, x, y) { return r }
        do { return try f.withUnit { try $0.compare(op, a, b) } } catch { throw located(error, f, loc) }
    }
}

/// `x op k` for an int constant `k` and an ordering or equality operator (`n < 2`).
final class CompareIntConstNode: ExprNode {
    let op: CompareOp
    let left: ExprNode
    let constant: Int
    init(_ op: CompareOp, _ l: ExprNode, _ k: Int, _ loc: SourceLoc) { self.op = op; left = l; constant = k; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let a = try left.eval(f)
        if case .int(let x) = a, let r = compareInts(op, x, constant) { return r }
        do { return try f.withUnit { try $0.compare(op, a, .int(constant)) } } catch { throw located(error, f, loc) }
    }
}

/// `x op y` for two ints, or nil for `in`/`is` and friends (the comparison nodes' fast path).
@inline(__always) func compareInts(_ op: CompareOp, _ x: Int, _ y: Int) -> Value? {
    switch op {
    case .lt: return .bool(x < y)
    case .le: return .bool(x <= y)
    case .gt: return .bool(x > y)
    case .ge: return .bool(x >= y)
    case .eq: return .bool(x == y)
    case .ne: return .bool(x != y)
    default: return nil
    }
}
