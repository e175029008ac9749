// Table-driven tests of the container builtins: slice arithmetic, list indexing and
// methods, sorting, set operators, range slicing, dict and tuple helpers. Expected values
// were produced by CPython 3.11.
import Testing
@testable import ConcInterpreter

// MARK: - Helpers

/// A unit to run native code with (one engine per test process is enough).
private func makeUnit() -> Unit { Engine().mainUnit }

private func ints(_ xs: [Int]) -> [Value] { xs.map { .int($0) } }

private func bound(_ i: Int?) -> Value { i.map { .int($0) } ?? .none }

/// A compact rendering of ints, None, bools, strs and containers (`[1,2]`, no spaces).
private func render(_ v: Value) -> String {
    switch v {
    case .none: return "None"
    case .bool(let b): return b ? "True" : "False"
    case .int(let i): return String(i)
    case .float(let d): return String(d)
    case .unbound: return "<unbound>"
    case .obj(let o):
        switch o {
        case let s as PyStr: return "'\(s.value)'"
        case let l as PyList: return "[" + l.snapshot.map(render).joined(separator: ",") + "]"
        case let t as PyTuple:
            return t.items.count == 1 ? "(\(render(t.items[0])),)" : "(" + t.items.map(render).joined(separator: ",") + ")"
        case let d as PyDict: return "{" + d.pairs.map { render($0.0) + ":" + render($0.1) }.joined(separator: ",") + "}"
        case let s as PySet: return "{" + s.elements.map(render).joined(separator: ",") + "}"
        case let r as PyRange: return "range(\(r.start),\(r.stop),\(r.step))"
        default: return "<\(o.type.name)>"
        }
    }
}

/// `Type: message` of a Conc exception, or the error's description.
private func describe(_ error: Error) -> String {
    guard let e = error as? PyBaseException else { return "\(error)" }
    let message = e.args.first.map { v in v.asStr.map { e.type === Exc.keyError ? "'\($0.value)'" : $0.value } ?? render(v) } ?? ""
    return "\(e.typeName): \(message)"
}

/// Runs `body`, rendering its result or its exception.
private func outcome(_ body: () throws -> Value) -> String {
    do { return render(try body()) } catch { return describe(error) }
}

/// Calls native method `name` of builtin type `t` on `receiver`.
private func callNative(_ u: Unit, _ t: PyType, _ name: String, _ receiver: Value, _ args: Args) throws -> Value {
    guard case .obj(let o)? = t.dict[name], let d = o as? PyMethodDescriptor else {
        Issue.record("\(t.name).\(name) is not a native method")
        return .none
    }
    return try d.fn(u, receiver, args)
}

private func list(_ xs: [Int]) -> PyList { PyList(ints(xs)) }

private func set(_ u: Unit, _ xs: [Int]) throws -> PySet {
    let s = PySet()
    for x in xs { try s.add(u, .int(x)) }
    return s
}

// MARK: - Slice arithmetic

struct AdjustCase: Sendable, CustomTestStringConvertible {
    let start: Int?, stop: Int?, step: Int?, length: Int
    let expect: (Int, Int, Int, Int)
    init(_ a: Int?, _ b: Int?, _ c: Int?, length: Int, expect: (Int, Int, Int, Int)) {
        start = a; stop = b; step = c; self.length = length; self.expect = expect
    }
    var testDescription: String { "slice(\(start.map(String.init) ?? "None"), \(stop.map(String.init) ?? "None"), \(step.map(String.init) ?? "None")) of \(length)" }
}

private let adjustCases: [AdjustCase] = [
    AdjustCase(1, -100, 3, length: 5, expect: (1, 0, 3, 0)),
    AdjustCase(-1, -3, 3, length: 1, expect: (0, 0, 3, 0)),
    AdjustCase(-3, -100, 2, length: 7, expect: (4, 0, 2, 0)),
    AdjustCase(100, -1, -1, length: 5, expect: (4, 4, -1, 0)),
    AdjustCase(-3, 0, nil, length: 7, expect: (4, 0, 1, 0)),
    AdjustCase(-3, 0, -1, length: 1, expect: (-1, 0, -1, 0)),
    AdjustCase(5, 100, -5, length: 1, expect: (0, 0, -5, 0)),
    AdjustCase(-3, 1, 3, length: 1, expect: (0, 1, 3, 1)),
    AdjustCase(-3, 5, 2, length: 5, expect: (2, 5, 2, 2)),
    AdjustCase(-1, nil, -2, length: 7, expect: (6, -1, -2, 4)),
    AdjustCase(1, -100, 2, length: 5, expect: (1, 0, 2, 0)),
    AdjustCase(2, 2, -1, length: 7, expect: (2, 2, -1, 0)),
    AdjustCase(1, 2, -2, length: 7, expect: (1, 2, -2, 0)),
    AdjustCase(100, -100, -5, length: 7, expect: (6, -1, -5, 2)),
    AdjustCase(nil, 100, -2, length: 0, expect: (-1, -1, -2, 0)),
    AdjustCase(0, 1, -1, length: 0, expect: (-1, -1, -1, 0)),
    AdjustCase(1, -100, 2, length: 0, expect: (0, 0, 2, 0)),
    AdjustCase(100, -100, -5, length: 0, expect: (-1, -1, -5, 0)),
    AdjustCase(5, 0, nil, length: 5, expect: (5, 0, 1, 0)),
    AdjustCase(-3, 0, nil, length: 5, expect: (2, 0, 1, 0)),
    AdjustCase(100, 0, 2, length: 1, expect: (1, 0, 2, 0)),
    AdjustCase(nil, 1, -2, length: 5, expect: (4, 1, -2, 2)),
    AdjustCase(-3, -1, nil, length: 7, expect: (4, 6, 1, 2)),
    AdjustCase(0, 100, 3, length: 1, expect: (0, 1, 3, 1)),
    AdjustCase(5, nil, 2, length: 5, expect: (5, 5, 2, 0)),
    AdjustCase(2, -1, 2, length: 7, expect: (2, 6, 2, 2)),
    AdjustCase(-3, -1, 1, length: 1, expect: (0, 0, 1, 0)),
    AdjustCase(1, -1, 2, length: 7, expect: (1, 6, 2, 3)),
    AdjustCase(5, -3, -1, length: 0, expect: (-1, -1, -1, 0)),
    AdjustCase(1, -100, 1, length: 1, expect: (1, 0, 1, 0)),
    AdjustCase(-3, -3, nil, length: 1, expect: (0, 0, 1, 0)),
    AdjustCase(2, -100, 2, length: 0, expect: (0, 0, 2, 0)),
    AdjustCase(-1, nil, -1, length: 1, expect: (0, -1, -1, 1)),
    AdjustCase(nil, -3, 2, length: 1, expect: (0, 0, 2, 0)),
    AdjustCase(-1, 100, -1, length: 7, expect: (6, 6, -1, 0)),
    AdjustCase(-1, 100, 3, length: 5, expect: (4, 5, 3, 1)),
    AdjustCase(-100, 0, nil, length: 7, expect: (0, 0, 1, 0)),
    AdjustCase(-100, -100, -1, length: 1, expect: (-1, -1, -1, 0)),
    AdjustCase(2, -100, -1, length: 0, expect: (-1, -1, -1, 0)),
    AdjustCase(-100, -3, 1, length: 7, expect: (0, 4, 1, 4)),
    AdjustCase(5, 5, 3, length: 0, expect: (0, 0, 3, 0)),
    AdjustCase(100, nil, nil, length: 7, expect: (7, 7, 1, 0)),
    AdjustCase(1, -100, -2, length: 7, expect: (1, -1, -2, 1)),
    AdjustCase(2, nil, nil, length: 0, expect: (0, 0, 1, 0)),
    AdjustCase(-3, 5, -1, length: 5, expect: (2, 4, -1, 0)),
    AdjustCase(5, 1, 2, length: 5, expect: (5, 1, 2, 0)),
    AdjustCase(-100, -1, -5, length: 5, expect: (-1, 4, -5, 0)),
    AdjustCase(-1, nil, nil, length: 1, expect: (0, 1, 1, 1)),
    AdjustCase(-1, -100, 3, length: 7, expect: (6, 0, 3, 0)),
    AdjustCase(1, 2, -5, length: 1, expect: (0, 0, -5, 0)),
    AdjustCase(nil, 5, nil, length: 7, expect: (0, 5, 1, 5)),
    AdjustCase(nil, -1, 2, length: 7, expect: (0, 6, 2, 3)),
    AdjustCase(0, 2, 3, length: 7, expect: (0, 2, 3, 1)),
    AdjustCase(100, -1, 2, length: 0, expect: (0, 0, 2, 0)),
    AdjustCase(nil, 5, -5, length: 5, expect: (4, 4, -5, 0)),
    AdjustCase(2, nil, -1, length: 0, expect: (-1, -1, -1, 0)),
    AdjustCase(-100, 0, -1, length: 7, expect: (-1, 0, -1, 0)),
    AdjustCase(5, -1, -2, length: 7, expect: (5, 6, -2, 0)),
    AdjustCase(100, -3, 3, length: 7, expect: (7, 4, 3, 0)),
    AdjustCase(1, -1, -5, length: 5, expect: (1, 4, -5, 0)),
    AdjustCase(5, -100, 1, length: 5, expect: (5, 0, 1, 0)),
    AdjustCase(-1, -3, -2, length: 5, expect: (4, 2, -2, 1)),
    AdjustCase(5, 1, 1, length: 1, expect: (1, 1, 1, 0)),
    AdjustCase(nil, 100, 2, length: 0, expect: (0, 0, 2, 0)),
    AdjustCase(-100, 2, 1, length: 5, expect: (0, 2, 1, 2)),
    AdjustCase(nil, -3, 1, length: 1, expect: (0, 0, 1, 0)),
    AdjustCase(1, 0, 2, length: 0, expect: (0, 0, 2, 0)),
    AdjustCase(1, 2, -2, length: 0, expect: (-1, -1, -2, 0)),
    AdjustCase(100, 0, -1, length: 1, expect: (0, 0, -1, 0)),
    AdjustCase(1, 5, 2, length: 5, expect: (1, 5, 2, 2)),
    AdjustCase(nil, nil, nil, length: 5, expect: (0, 5, 1, 5)),
    AdjustCase(nil, nil, -1, length: 5, expect: (4, -1, -1, 5)),
    AdjustCase(-100, 100, 2, length: 10, expect: (0, 10, 2, 5)),
    AdjustCase(9223372036854775807, nil, -1, length: 4, expect: (3, -1, -1, 4)),
    AdjustCase(nil, -9223372036854775808, -1, length: 4, expect: (3, -1, -1, 4)),
    AdjustCase(nil, nil, -9223372036854775808, length: 6, expect: (5, -1, -9223372036854775807, 1)),
]

@Test(arguments: adjustCases)
func adjustSliceMatchesCPython(_ c: AdjustCase) {
    let r = adjustSlice(start: c.start, stop: c.stop, step: c.step ?? 1, length: c.length)
    #expect(r.start == c.expect.0 && r.stop == c.expect.1 && r.step == c.expect.2 && r.count == c.expect.3)
}

@Test(arguments: adjustCases)
func sliceIndicesMatchesCPython(_ c: AdjustCase) throws {
    let u = makeUnit()
    let r = try sliceIndices(PySlice(bound(c.start), bound(c.stop), bound(c.step)), length: c.length, u)
    #expect(r.start == c.expect.0 && r.stop == c.expect.1 && r.step == c.expect.2 && r.count == c.expect.3)
}

@Test func sliceIndicesRejectsZeroStepAndBadBounds() {
    let u = makeUnit()
    #expect(outcome { _ = try sliceIndices(PySlice(.none, .none, .int(0)), length: 3, u); return .none }
        == "ValueError: slice step cannot be zero")
    #expect(outcome { _ = try sliceIndices(PySlice(.str("a"), .none, .none), length: 3, u); return .none }
        == "TypeError: slice indices must be integers or None or have an __index__ method")
    #expect(outcome { _ = try sliceIndices(PySlice(.bool(true), .float(2), .none), length: 3, u); return .none }
        == "TypeError: slice indices must be integers or None or have an __index__ method")
}

// MARK: - List subscripts

struct GetSliceCase: Sendable {
    let start: Int?, stop: Int?, step: Int?, expect: String
    init(_ a: Int?, _ b: Int?, _ c: Int?, expect: String) { start = a; stop = b; step = c; self.expect = expect }
}

@Test(arguments: [
    GetSliceCase(nil, nil, nil, expect: "[0,1,2,3,4,5,6]"),
    GetSliceCase(1, nil, nil, expect: "[1,2,3,4,5,6]"),
    GetSliceCase(nil, -2, nil, expect: "[0,1,2,3,4]"),
    GetSliceCase(nil, nil, 2, expect: "[0,2,4,6]"),
    GetSliceCase(nil, nil, -1, expect: "[6,5,4,3,2,1,0]"),
    GetSliceCase(5, 1, -2, expect: "[5,3]"),
    GetSliceCase(-100, 100, 3, expect: "[0,3,6]"),
    GetSliceCase(3, 3, nil, expect: "[]"),
    GetSliceCase(6, 0, -3, expect: "[6,3]"),
    GetSliceCase(100, nil, -1, expect: "[6,5,4,3,2,1,0]"),
])
func listSliceGet(_ c: GetSliceCase) {
    let u = makeUnit()
    let l = list(Array(0..<7))
    #expect(outcome { try listGetItem(l, .obj(PySlice(bound(c.start), bound(c.stop), bound(c.step))), u) } == c.expect)
}

struct SetSliceCase: Sendable {
    let start: Int?, stop: Int?, step: Int?, values: [Int], expect: String
    init(_ a: Int?, _ b: Int?, _ c: Int?, _ v: [Int], expect: String) {
        start = a; stop = b; step = c; values = v; self.expect = expect
    }
}

@Test(arguments: [
    SetSliceCase(1, 3, nil, [], expect: "[0,3,4]"),
    SetSliceCase(1, 3, nil, [9], expect: "[0,9,3,4]"),
    SetSliceCase(1, 3, nil, [8, 9], expect: "[0,8,9,3,4]"),
    SetSliceCase(1, 3, nil, [7, 8, 9], expect: "[0,7,8,9,3,4]"),
    SetSliceCase(nil, nil, nil, [], expect: "[]"),
    SetSliceCase(nil, nil, nil, [9], expect: "[9]"),
    SetSliceCase(nil, nil, nil, [8, 9], expect: "[8,9]"),
    SetSliceCase(nil, nil, nil, [7, 8, 9], expect: "[7,8,9]"),
    SetSliceCase(5, 1, nil, [], expect: "[0,1,2,3,4]"),
    SetSliceCase(5, 1, nil, [9], expect: "[0,1,2,3,4,9]"),
    SetSliceCase(5, 1, nil, [8, 9], expect: "[0,1,2,3,4,8,9]"),
    SetSliceCase(5, 1, nil, [7, 8, 9], expect: "[0,1,2,3,4,7,8,9]"),
    SetSliceCase(nil, nil, 2, [], expect: "ValueError: attempt to assign sequence of size 0 to extended slice of size 3"),
    SetSliceCase(nil, nil, 2, [9], expect: "ValueError: attempt to assign sequence of size 1 to extended slice of size 3"),
    SetSliceCase(nil, nil, 2, [8, 9], expect: "ValueError: attempt to assign sequence of size 2 to extended slice of size 3"),
    SetSliceCase(nil, nil, 2, [7, 8, 9], expect: "[7,1,8,3,9]"),
    SetSliceCase(nil, nil, -1, [], expect: "ValueError: attempt to assign sequence of size 0 to extended slice of size 5"),
    SetSliceCase(nil, nil, -1, [9], expect: "ValueError: attempt to assign sequence of size 1 to extended slice of size 5"),
    SetSliceCase(nil, nil, -1, [8, 9], expect: "ValueError: attempt to assign sequence of size 2 to extended slice of size 5"),
    SetSliceCase(nil, nil, -1, [7, 8, 9], expect: "ValueError: attempt to assign sequence of size 3 to extended slice of size 5"),
    SetSliceCase(nil, nil, -2, [], expect: "ValueError: attempt to assign sequence of size 0 to extended slice of size 3"),
    SetSliceCase(nil, nil, -2, [9], expect: "ValueError: attempt to assign sequence of size 1 to extended slice of size 3"),
    SetSliceCase(nil, nil, -2, [8, 9], expect: "ValueError: attempt to assign sequence of size 2 to extended slice of size 3"),
    SetSliceCase(nil, nil, -2, [7, 8, 9], expect: "[9,1,8,3,7]"),
    SetSliceCase(1, nil, 2, [], expect: "ValueError: attempt to assign sequence of size 0 to extended slice of size 2"),
    SetSliceCase(1, nil, 2, [9], expect: "ValueError: attempt to assign sequence of size 1 to extended slice of size 2"),
    SetSliceCase(1, nil, 2, [8, 9], expect: "[0,8,2,9,4]"),
    SetSliceCase(1, nil, 2, [7, 8, 9], expect: "ValueError: attempt to assign sequence of size 3 to extended slice of size 2"),
    SetSliceCase(0, 0, nil, [], expect: "[0,1,2,3,4]"),
    SetSliceCase(0, 0, nil, [9], expect: "[9,0,1,2,3,4]"),
    SetSliceCase(0, 0, nil, [8, 9], expect: "[8,9,0,1,2,3,4]"),
    SetSliceCase(0, 0, nil, [7, 8, 9], expect: "[7,8,9,0,1,2,3,4]"),
    SetSliceCase(-2, nil, nil, [], expect: "[0,1,2]"),
    SetSliceCase(-2, nil, nil, [9], expect: "[0,1,2,9]"),
    SetSliceCase(-2, nil, nil, [8, 9], expect: "[0,1,2,8,9]"),
    SetSliceCase(-2, nil, nil, [7, 8, 9], expect: "[0,1,2,7,8,9]"),
    SetSliceCase(4, 0, -1, [], expect: "ValueError: attempt to assign sequence of size 0 to extended slice of size 4"),
    SetSliceCase(4, 0, -1, [9], expect: "ValueError: attempt to assign sequence of size 1 to extended slice of size 4"),
    SetSliceCase(4, 0, -1, [8, 9], expect: "ValueError: attempt to assign sequence of size 2 to extended slice of size 4"),
    SetSliceCase(4, 0, -1, [7, 8, 9], expect: "ValueError: attempt to assign sequence of size 3 to extended slice of size 4"),
])
func listSliceAssign(_ c: SetSliceCase) {
    let u = makeUnit()
    let l = list(Array(0..<5))
    let result = outcome {
        try listSetItem(l, .obj(PySlice(bound(c.start), bound(c.stop), bound(c.step))), .obj(list(c.values)), u)
        return .obj(l)
    }
    #expect(result == c.expect)
}

struct DelSliceCase: Sendable {
    let start: Int?, stop: Int?, step: Int?, expect: String
    init(_ a: Int?, _ b: Int?, _ c: Int?, expect: String) { start = a; stop = b; step = c; self.expect = expect }
}

@Test(arguments: [
    DelSliceCase(1, 3, nil, expect: "[0,3,4,5,6]"),
    DelSliceCase(nil, nil, nil, expect: "[]"),
    DelSliceCase(5, 1, nil, expect: "[0,1,2,3,4,5,6]"),
    DelSliceCase(nil, nil, 2, expect: "[1,3,5]"),
    DelSliceCase(nil, nil, -1, expect: "[]"),
    DelSliceCase(nil, nil, -2, expect: "[1,3,5]"),
    DelSliceCase(1, nil, 2, expect: "[0,2,4,6]"),
    DelSliceCase(0, 0, nil, expect: "[0,1,2,3,4,5,6]"),
    DelSliceCase(-2, nil, nil, expect: "[0,1,2,3,4]"),
    DelSliceCase(4, 0, -1, expect: "[0,5,6]"),
    DelSliceCase(nil, nil, 3, expect: "[1,2,4,5]"),
    DelSliceCase(-1, nil, -3, expect: "[1,2,4,5]"),
])
func listSliceDelete(_ c: DelSliceCase) {
    let u = makeUnit()
    let l = list(Array(0..<7))
    #expect(outcome { try listDelItem(l, .obj(PySlice(bound(c.start), bound(c.stop), bound(c.step))), u); return .obj(l) } == c.expect)
}

@Test(arguments: [
    (3, "3"), (-1, "3"), (-3, "2"), (4, "IndexError: list index out of range"),
    (-5, "IndexError: list index out of range"),
] as [(Int, String)])
func listIndexGet(_ index: Int, _ expect: String) {
    let u = makeUnit()
    #expect(outcome { try listGetItem(list([1, 2, 3, 3]), .int(index), u) } == expect)
}

@Test func listSubscriptErrors() {
    let u = makeUnit()
    let l = list([1, 2, 3])
    #expect(outcome { try listGetItem(l, .str("a"), u) } == "TypeError: list indices must be integers or slices, not str")
    #expect(outcome { try listGetItem(l, .float(1), u) } == "TypeError: list indices must be integers or slices, not float")
    #expect(outcome { try listGetItem(l, .bool(true), u) } == "2")
    #expect(outcome { try listSetItem(l, .int(5), .int(0), u); return .none } == "IndexError: list assignment index out of range")
    #expect(outcome { try listDelItem(l, .int(-4), u); return .none } == "IndexError: list assignment index out of range")
    #expect(outcome { try listSetItem(l, .obj(PySlice(.none, .none, .int(2))), .int(5), u); return .none }
        == "TypeError: must assign iterable to extended slice")
    #expect(outcome { try listSetItem(l, .obj(PySlice(.int(0), .int(1), .none)), .int(5), u); return .none }
        == "TypeError: can only assign an iterable")
    #expect(outcome { try listSetItem(l, .obj(PySlice(.none, .none, .none)), .obj(l), u); return .obj(l) } == "[1,2,3]")
}

// MARK: - List methods

struct MethodCase: Sendable, CustomTestStringConvertible {
    let items: [Int], method: String, args: [Int], returns: String, after: String
    init(_ items: [Int], _ m: String, _ args: [Int], returns: String, after: String) {
        self.items = items; method = m; self.args = args; self.returns = returns; self.after = after
    }
    var testDescription: String { "\(items).\(method)(\(args))" }
}

@Test(arguments: [
    MethodCase([1, 2, 3], "pop", [], returns: "3", after: "[1,2]"),
    MethodCase([1, 2, 3], "pop", [0], returns: "1", after: "[2,3]"),
    MethodCase([1, 2, 3], "pop", [-1], returns: "3", after: "[1,2]"),
    MethodCase([1, 2, 3], "pop", [3], returns: "IndexError: pop index out of range", after: "[1,2,3]"),
    MethodCase([1, 2, 3], "pop", [-4], returns: "IndexError: pop index out of range", after: "[1,2,3]"),
    MethodCase([], "pop", [], returns: "IndexError: pop from empty list", after: "[]"),
    MethodCase([1, 2, 3], "pop", [1, 2], returns: "TypeError: pop expected at most 1 argument, got 2", after: "[1,2,3]"),
    MethodCase([1, 2, 3], "insert", [-10, 0], returns: "None", after: "[0,1,2,3]"),
    MethodCase([1, 2, 3], "insert", [100, 9], returns: "None", after: "[1,2,3,9]"),
    MethodCase([1, 2, 3], "insert", [1, 7], returns: "None", after: "[1,7,2,3]"),
    MethodCase([1, 2, 3], "insert", [1], returns: "TypeError: insert expected 2 arguments, got 1", after: "[1,2,3]"),
    MethodCase([1, 2, 3, 2], "remove", [2], returns: "None", after: "[1,3,2]"),
    MethodCase([1, 2, 3], "remove", [5], returns: "ValueError: list.remove(x): x not in list", after: "[1,2,3]"),
    MethodCase([1, 2, 3, 2], "index", [2], returns: "1", after: "[1,2,3,2]"),
    MethodCase([1, 2, 3, 2], "index", [2, 2], returns: "3", after: "[1,2,3,2]"),
    MethodCase([1, 2, 3, 2], "index", [2, -1], returns: "3", after: "[1,2,3,2]"),
    MethodCase([1, 2, 3], "index", [1, 1], returns: "ValueError: 1 is not in list", after: "[1,2,3]"),
    MethodCase([1, 2, 3], "index", [3, 0, 2], returns: "ValueError: 3 is not in list", after: "[1,2,3]"),
    MethodCase([1, 2, 3], "index", [], returns: "TypeError: index expected at least 1 argument, got 0", after: "[1,2,3]"),
    MethodCase([1, 2, 1, 1], "count", [1], returns: "3", after: "[1,2,1,1]"),
    MethodCase([1, 2, 3], "count", [], returns: "TypeError: list.count() takes exactly one argument (0 given)", after: "[1,2,3]"),
    MethodCase([1, 2, 3], "reverse", [], returns: "None", after: "[3,2,1]"),
    MethodCase([1, 2, 3], "clear", [], returns: "None", after: "[]"),
    MethodCase([1, 2, 3], "copy", [], returns: "[1,2,3]", after: "[1,2,3]"),
    MethodCase([1, 2, 3], "copy", [1], returns: "TypeError: list.copy() takes no arguments (1 given)", after: "[1,2,3]"),
    MethodCase([1, 2, 3], "append", [4], returns: "None", after: "[1,2,3,4]"),
    MethodCase([1], "append", [], returns: "TypeError: list.append() takes exactly one argument (0 given)", after: "[1]"),
    MethodCase([1], "append", [1, 2], returns: "TypeError: list.append() takes exactly one argument (2 given)", after: "[1]"),
    MethodCase([1, 2, 3], "extend", [5], returns: "TypeError: 'int' object is not iterable", after: "[1,2,3]"),
])
func listMethod(_ c: MethodCase) {
    let u = makeUnit()
    let l = list(c.items)
    #expect(outcome { try callNative(u, Types.list, c.method, .obj(l), Args(ints(c.args))) } == c.returns)
    #expect(render(.obj(l)) == c.after)
}

@Test func listMethodKeywordsAndConstructor() {
    let u = makeUnit()
    let l = list([1])
    #expect(outcome { try callNative(u, Types.list, "append", .obj(l), Args([.int(1)], keywords: [("x", .int(1))])) }
        == "TypeError: list.append() takes no keyword arguments")
    #expect(outcome { try callNative(u, Types.list, "sort", .obj(l), Args([.int(1)])) }
        == "TypeError: sort() takes no positional arguments")
    #expect(outcome { try callNative(u, Types.list, "sort", .obj(l), Args([], keywords: [("foo", .int(1))])) }
        == "TypeError: 'foo' is an invalid keyword argument for sort()")
    #expect(outcome { try callNative(u, Types.list, "extend", .obj(l), Args([.obj(l)])) } == "None")
    #expect(render(.obj(l)) == "[1,1]")
    let ctor = Types.list.constructor!
    #expect(outcome { try ctor(u, Types.list, Args([.obj(PyTuple(ints([1, 2])))])) } == "[1,2]")
    #expect(outcome { try ctor(u, Types.list, Args([.int(1), .int(2)])) } == "TypeError: list expected at most 1 argument, got 2")
    #expect(outcome { try ctor(u, Types.list, Args([], keywords: [("x", .int(1))])) } == "TypeError: list() takes no keyword arguments")
    #expect(outcome { try ctor(u, Types.list, Args([])) } == "[]")
}

// MARK: - Sorting

struct SortCase: Sendable {
    let values: [Int], keyMod: Int?, reverse: Bool, expect: String
    init(_ v: [Int], keyMod: Int?, reverse: Bool, expect: String) {
        values = v; self.keyMod = keyMod; self.reverse = reverse; self.expect = expect
    }
}

private func modKey(_ m: Int) -> Value {
    .obj(PyBuiltinFunction("key") { _, args in
        guard case .int(let x) = args[0] else { return .none }
        return .int(x % m)
    })
}

@Test(arguments: [
    SortCase([3, 1, 2], keyMod: nil, reverse: false, expect: "[1,2,3]"),
    SortCase([3, 1, 2], keyMod: nil, reverse: true, expect: "[3,2,1]"),
    SortCase([5, 3, 1, 4, 2, 0, 6, 9, 7], keyMod: 3, reverse: false, expect: "[3,0,6,9,1,4,7,5,2]"),
    SortCase([5, 3, 1, 4, 2, 0, 6, 9, 7], keyMod: 3, reverse: true, expect: "[5,2,1,4,7,3,0,6,9]"),
    SortCase([], keyMod: nil, reverse: false, expect: "[]"),
    SortCase([1], keyMod: 2, reverse: true, expect: "[1]"),
    SortCase([2, 2, 1, 1], keyMod: nil, reverse: true, expect: "[2,2,1,1]"),
])
func sortIsStableLikeCPython(_ c: SortCase) throws {
    let u = makeUnit()
    var items = ints(c.values)
    try sortValues(u, &items, key: c.keyMod.map(modKey), reverse: c.reverse)
    #expect(render(.obj(PyList(items))) == c.expect)
}

@Test(arguments: [0, 1, 2, 63, 64, 65, 200, 1000, 5000])
func sortLongListsStably(_ n: Int) throws {
    let u = makeUnit()
    var seed: UInt64 = 12345
    let values: [Int] = (0..<n).map { _ in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Int(seed >> 33) % 1000
    }
    for reverse in [false, true] {
        var items = ints(values)
        try sortValues(u, &items, key: modKey(10), reverse: reverse)
        let expected = values.enumerated().sorted { a, b in
            let (ka, kb) = (a.element % 10, b.element % 10)
            return ka != kb ? (reverse ? ka > kb : ka < kb) : a.offset < b.offset
        }.map { Value.int($0.element) }
        #expect(render(.obj(PyList(items))) == render(.obj(PyList(expected))))
    }
}

@Test func sortReportsIncomparableItemsAndModification() {
    let u = makeUnit()
    var items: [Value] = [.int(3), .str("a")]
    #expect(outcome { try sortValues(u, &items, key: nil, reverse: false); return .none }
        == "TypeError: '<' not supported between instances of 'str' and 'int'")
    #expect(render(.obj(PyList(items))) == "[3,'a']")
    let l = list([3, 1, 2])
    let meddler: Value = .obj(PyBuiltinFunction("key") { _, args in
        l.append(.int(0))
        return args[0]
    })
    #expect(outcome { try sortList(l, key: meddler, reverse: false, u); return .none } == "ValueError: list modified during sort")
    #expect(render(.obj(l)) == "[1,2,3]")
}

// MARK: - Sets

struct SetOpCase: Sendable {
    let a: [Int], op: String, b: [Int], expect: [Int]
    init(_ a: [Int], _ op: String, _ b: [Int], expect: [Int]) { self.a = a; self.op = op; self.b = b; self.expect = expect }
}
struct SetCompareCase: Sendable {
    let a: [Int], op: String, b: [Int], expect: Bool
    init(_ a: [Int], _ op: String, _ b: [Int], expect: Bool) { self.a = a; self.op = op; self.b = b; self.expect = expect }
}

@Test(arguments: [
    SetOpCase([1, 2, 3], "|", [2, 3, 4], expect: [1, 2, 3, 4]),
    SetOpCase([1, 2, 3], "&", [2, 3, 4], expect: [2, 3]),
    SetOpCase([1, 2, 3], "-", [2, 3, 4], expect: [1]),
    SetOpCase([1, 2, 3], "^", [2, 3, 4], expect: [1, 4]),
    SetOpCase([], "|", [1], expect: [1]),
    SetOpCase([], "&", [1], expect: []),
    SetOpCase([], "-", [1], expect: []),
    SetOpCase([], "^", [1], expect: [1]),
    SetOpCase([1, 2], "|", [1, 2], expect: [1, 2]),
    SetOpCase([1, 2], "&", [1, 2], expect: [1, 2]),
    SetOpCase([1, 2], "-", [1, 2], expect: []),
    SetOpCase([1, 2], "^", [1, 2], expect: []),
    SetOpCase([1], "|", [], expect: [1]),
    SetOpCase([1], "&", [], expect: []),
    SetOpCase([1], "-", [], expect: [1]),
    SetOpCase([1], "^", [], expect: [1]),
])
func setOperator(_ c: SetOpCase) throws {
    let u = makeUnit()
    guard case .obj(let o) = try setBinary(c.op, try set(u, c.a), try set(u, c.b), u), let r = o as? PySet else {
        Issue.record("not a set"); return
    }
    #expect(r.elements.compactMap { if case .int(let i) = $0 { return i } else { return nil } }.sorted() == c.expect)
    #expect(!r.isFrozen)
}

@Test(arguments: [
    SetCompareCase([1, 2, 3], "<", [2, 3, 4], expect: false),
    SetCompareCase([1, 2, 3], "<=", [2, 3, 4], expect: false),
    SetCompareCase([1, 2, 3], ">", [2, 3, 4], expect: false),
    SetCompareCase([1, 2, 3], ">=", [2, 3, 4], expect: false),
    SetCompareCase([1, 2, 3], "==", [2, 3, 4], expect: false),
    SetCompareCase([1, 2, 3], "!=", [2, 3, 4], expect: true),
    SetCompareCase([], "<", [1], expect: true),
    SetCompareCase([], "<=", [1], expect: true),
    SetCompareCase([], ">", [1], expect: false),
    SetCompareCase([], ">=", [1], expect: false),
    SetCompareCase([], "==", [1], expect: false),
    SetCompareCase([], "!=", [1], expect: true),
    SetCompareCase([1, 2], "<", [1, 2], expect: false),
    SetCompareCase([1, 2], "<=", [1, 2], expect: true),
    SetCompareCase([1, 2], ">", [1, 2], expect: false),
    SetCompareCase([1, 2], ">=", [1, 2], expect: true),
    SetCompareCase([1, 2], "==", [1, 2], expect: true),
    SetCompareCase([1, 2], "!=", [1, 2], expect: false),
    SetCompareCase([1], "<", [], expect: false),
    SetCompareCase([1], "<=", [], expect: false),
    SetCompareCase([1], ">", [], expect: true),
    SetCompareCase([1], ">=", [], expect: true),
    SetCompareCase([1], "==", [], expect: false),
    SetCompareCase([1], "!=", [], expect: true),
])
func setComparison(_ c: SetCompareCase) throws {
    let u = makeUnit()
    let r = try setCompare(c.op, try set(u, c.a), try set(u, c.b), u)
    #expect(render(r) == (c.expect ? "True" : "False"))
}

@Test func setMethodsAndErrors() throws {
    let u = makeUnit()
    let s = try set(u, [1, 2, 3])
    #expect(outcome { try callNative(u, Types.set, "remove", .obj(s), Args([.int(9)])) } == "KeyError: 9")
    #expect(outcome { try callNative(u, Types.set, "discard", .obj(s), Args([.int(9)])) } == "None")
    #expect(outcome { try callNative(u, Types.set, "intersection", .obj(s), Args([.obj(list([2, 3, 4])), .obj(list([3]))])) } == "{3}")
    #expect(outcome { try callNative(u, Types.set, "issubset", .obj(s), Args([.obj(list([1, 2, 3, 4]))])) } == "True")
    #expect(outcome { try callNative(u, Types.set, "union", .obj(s), Args([.int(1)])) } == "TypeError: 'int' object is not iterable")
    #expect(outcome { try callNative(u, Types.set, "symmetric_difference_update", .obj(s), Args([.obj(list([3, 4]))])) } == "None")
    #expect(render(.obj(s)) == "{1,2,4}")
    let empty = PySet()
    #expect(outcome { try callNative(u, Types.set, "pop", .obj(empty), Args()) } == "KeyError: 'pop from an empty set'")
    #expect(Types.frozenset.dict["add"] == nil)
    let f = PySet(frozen: true)
    #expect(outcome { try callNative(u, Types.frozenset, "copy", .obj(f), Args()) } == "{}")
    guard case .obj(let fo) = try setBinary("|", f, s, u), let fr = fo as? PySet else { return }
    #expect(fr.isFrozen)
}

// MARK: - Dicts

@Test func dictUpdateAndErrors() throws {
    let u = makeUnit()
    let d = PyDict()
    let pairs: Value = .obj(PyList([.obj(PyTuple(ints([1, 2]))), .obj(PyList(ints([3, 4])))]))
    try dictUpdate(d, from: pairs, u)
    #expect(render(.obj(d)) == "{1:2,3:4}")
    #expect(outcome { try dictUpdate(d, from: .obj(PyList([.int(1)])), u); return .none }
        == "TypeError: cannot convert dictionary update sequence element #0 to a sequence")
    #expect(outcome { try dictUpdate(d, from: .obj(PyList([.obj(PyTuple([])), .obj(PyTuple(ints([1])))])), u); return .none }
        == "ValueError: dictionary update sequence element #0 has length 0; 2 is required")
    #expect(outcome { try callNative(u, Types.dict, "pop", .obj(d), Args([.int(9)])) } == "KeyError: 9")
    #expect(outcome { try callNative(u, Types.dict, "pop", .obj(d), Args([.int(9), .int(0)])) } == "0")
    #expect(outcome { try callNative(u, Types.dict, "get", .obj(d), Args([])) } == "TypeError: get expected at least 1 argument, got 0")
    #expect(outcome { try callNative(u, Types.dict, "setdefault", .obj(d), Args([.int(5)])) } == "None")
    #expect(outcome { try callNative(u, Types.dict, "popitem", .obj(d), Args()) } == "(5,None)")
    #expect(outcome { try callNative(u, Types.dict, "clear", .obj(d), Args()) } == "None")
    #expect(outcome { try callNative(u, Types.dict, "popitem", .obj(d), Args()) } == "KeyError: 'popitem(): dictionary is empty'")
    let ctor = Types.dict.constructor!
    #expect(outcome { try ctor(u, Types.dict, Args([.obj(d), .obj(d)])) } == "TypeError: dict expected at most 1 argument, got 2")
    #expect(outcome { try ctor(u, Types.dict, Args([.obj(PyList([.obj(PyTuple(ints([1, 2])))]))], keywords: [("a", .int(3))])) } == "{1:2,'a':3}")
}

@Test func dictViewsAreLive() throws {
    let u = makeUnit()
    let d = PyDict()
    try d.set(u, .int(1), .int(10))
    let keys = try callNative(u, Types.dict, "keys", .obj(d), Args())
    let items = try callNative(u, Types.dict, "items", .obj(d), Args())
    try d.set(u, .int(2), .int(20))
    guard case .obj(let ko) = keys, let kv = ko as? PyDictView, case .obj(let io) = items, let iv = io as? PyDictView else {
        Issue.record("not views"); return
    }
    #expect(kv.type === Types.dictKeys && iv.type === Types.dictItems)
    #expect(render(.obj(PyList(kv.elements))) == "[1,2]")
    #expect(try dictViewContains(iv, .obj(PyTuple(ints([2, 20]))), u))
    #expect(!(try dictViewContains(iv, .obj(PyTuple(ints([2, 21]))), u)))
    #expect(outcome { try dictViewBinary("&", keys, .obj(list([2, 3])), u) ?? .none } == "{2}")
    #expect(try dictViewEquals(kv, .obj(try set(u, [1, 2])), u) == true)
}

// MARK: - Tuples and ranges

@Test func tupleIndexing() {
    let u = makeUnit()
    let t = PyTuple(ints([1, 2, 3]))
    #expect(outcome { try tupleGetItem(t, .int(-1), u) } == "3")
    #expect(outcome { try tupleGetItem(t, .int(3), u) } == "IndexError: tuple index out of range")
    #expect(outcome { try tupleGetItem(t, .str("a"), u) } == "TypeError: tuple indices must be integers or slices, not str")
    #expect(outcome { try tupleGetItem(t, .obj(PySlice(.none, .none, .int(-2))), u) } == "(3,1)")
    #expect(outcome { try callNative(u, Types.tuple, "index", .obj(t), Args([.int(1), .int(1)])) } == "ValueError: tuple.index(x): x not in tuple")
}

struct RangeSliceCase: Sendable {
    let range: (Int, Int, Int), start: Int?, stop: Int?, step: Int?, expect: (Int, Int, Int)
    init(_ r: (Int, Int, Int), _ a: Int?, _ b: Int?, _ c: Int?, expect: (Int, Int, Int)) {
        range = r; start = a; stop = b; step = c; self.expect = expect
    }
}

@Test(arguments: [
    RangeSliceCase((0, 10, 1), nil, nil, nil, expect: (0, 10, 1)),
    RangeSliceCase((0, 10, 1), nil, nil, -1, expect: (9, -1, -1)),
    RangeSliceCase((0, 10, 1), 2, nil, nil, expect: (2, 10, 1)),
    RangeSliceCase((0, 10, 1), 1, -1, 2, expect: (1, 9, 2)),
    RangeSliceCase((0, 10, 1), 100, nil, nil, expect: (10, 10, 1)),
    RangeSliceCase((0, 10, 1), nil, nil, 3, expect: (0, 10, 3)),
    RangeSliceCase((0, 10, 1), -2, nil, -2, expect: (8, -1, -2)),
    RangeSliceCase((0, 10, 3), nil, nil, nil, expect: (0, 12, 3)),
    RangeSliceCase((0, 10, 3), nil, nil, -1, expect: (9, -3, -3)),
    RangeSliceCase((0, 10, 3), 2, nil, nil, expect: (6, 12, 3)),
    RangeSliceCase((0, 10, 3), 1, -1, 2, expect: (3, 9, 6)),
    RangeSliceCase((0, 10, 3), 100, nil, nil, expect: (12, 12, 3)),
    RangeSliceCase((0, 10, 3), nil, nil, 3, expect: (0, 12, 9)),
    RangeSliceCase((0, 10, 3), -2, nil, -2, expect: (6, -3, -6)),
    RangeSliceCase((5, 1, -1), nil, nil, nil, expect: (5, 1, -1)),
    RangeSliceCase((5, 1, -1), nil, nil, -1, expect: (2, 6, 1)),
    RangeSliceCase((5, 1, -1), 2, nil, nil, expect: (3, 1, -1)),
    RangeSliceCase((5, 1, -1), 1, -1, 2, expect: (4, 2, -2)),
    RangeSliceCase((5, 1, -1), 100, nil, nil, expect: (1, 1, -1)),
    RangeSliceCase((5, 1, -1), nil, nil, 3, expect: (5, 1, -3)),
    RangeSliceCase((5, 1, -1), -2, nil, -2, expect: (3, 6, 2)),
    RangeSliceCase((-5, 5, 2), nil, nil, nil, expect: (-5, 5, 2)),
    RangeSliceCase((-5, 5, 2), nil, nil, -1, expect: (3, -7, -2)),
    RangeSliceCase((-5, 5, 2), 2, nil, nil, expect: (-1, 5, 2)),
    RangeSliceCase((-5, 5, 2), 1, -1, 2, expect: (-3, 3, 4)),
    RangeSliceCase((-5, 5, 2), 100, nil, nil, expect: (5, 5, 2)),
    RangeSliceCase((-5, 5, 2), nil, nil, 3, expect: (-5, 5, 6)),
    RangeSliceCase((-5, 5, 2), -2, nil, -2, expect: (1, -7, -4)),
    RangeSliceCase((10, 0, -3), nil, nil, nil, expect: (10, -2, -3)),
    RangeSliceCase((10, 0, -3), nil, nil, -1, expect: (1, 13, 3)),
    RangeSliceCase((10, 0, -3), 2, nil, nil, expect: (4, -2, -3)),
    RangeSliceCase((10, 0, -3), 1, -1, 2, expect: (7, 1, -6)),
    RangeSliceCase((10, 0, -3), 100, nil, nil, expect: (-2, -2, -3)),
    RangeSliceCase((10, 0, -3), nil, nil, 3, expect: (10, -2, -9)),
    RangeSliceCase((10, 0, -3), -2, nil, -2, expect: (4, 13, 6)),
    RangeSliceCase((0, 0, 1), nil, nil, nil, expect: (0, 0, 1)),
    RangeSliceCase((0, 0, 1), nil, nil, -1, expect: (-1, -1, -1)),
    RangeSliceCase((0, 0, 1), 2, nil, nil, expect: (0, 0, 1)),
    RangeSliceCase((0, 0, 1), 1, -1, 2, expect: (0, 0, 2)),
    RangeSliceCase((0, 0, 1), 100, nil, nil, expect: (0, 0, 1)),
    RangeSliceCase((0, 0, 1), nil, nil, 3, expect: (0, 0, 3)),
    RangeSliceCase((0, 0, 1), -2, nil, -2, expect: (-1, -1, -2)),
])
func rangeSlicing(_ c: RangeSliceCase) throws {
    let u = makeUnit()
    let r = PyRange(c.range.0, c.range.1, c.range.2)
    let v = try rangeGetItem(r, .obj(PySlice(bound(c.start), bound(c.stop), bound(c.step))), u)
    #expect(render(v) == "range(\(c.expect.0),\(c.expect.1),\(c.expect.2))")
}

@Test func rangeConstructionAndSearch() throws {
    let u = makeUnit()
    let ctor = Types.range.constructor!
    #expect(outcome { try ctor(u, Types.range, Args(ints([1, 2, 0]))) } == "ValueError: range() arg 3 must not be zero")
    #expect(outcome { try ctor(u, Types.range, Args([.float(1.5)])) } == "TypeError: 'float' object cannot be interpreted as an integer")
    #expect(outcome { try ctor(u, Types.range, Args([])) } == "TypeError: range expected at least 1 argument, got 0")
    #expect(outcome { try ctor(u, Types.range, Args(ints([5]))) } == "range(0,5,1)")
    let r = PyRange(-5, 5, 2)
    #expect(outcome { try rangeGetItem(r, .int(10), u) } == "IndexError: range object index out of range")
    #expect(outcome { try callNative(u, Types.range, "index", .obj(r), Args([.int(3)])) } == "4")
    #expect(outcome { try callNative(u, Types.range, "index", .obj(r), Args([.int(4)])) } == "ValueError: 4 is not in range")
    #expect(try rangeContains(r, .float(-1.0), u))
    #expect(!(try rangeContains(r, .int(0), u)))
    let huge = PyRange(Int.min, Int.max, 3)
    #expect(try rangeContains(huge, .int(Int.min + 3000), u))
    #expect(!(try rangeContains(huge, .int(Int.min + 3001), u)))
    #expect(!(try rangeContains(huge, .int(Int.max - 1), u)))
    #expect(outcome { try ctor(u, Types.range, Args([.int(Int.min), .int(Int.max)])) }
        == "OverflowError: Python int too large to convert to C ssize_t")
}

@Test func sliceObjects() {
    let u = makeUnit()
    let s = PySlice(.none, .none, .int(-1))
    #expect(outcome { try callNative(u, Types.slice, "indices", .obj(s), Args(ints([5]))) } == "(4,-1,-1)")
    #expect(outcome { try callNative(u, Types.slice, "indices", .obj(s), Args(ints([-1]))) } == "ValueError: length should not be negative")
    #expect(outcome { try Types.slice.constructor!(u, Types.slice, Args(ints([3]))) } == "<slice>")
}
