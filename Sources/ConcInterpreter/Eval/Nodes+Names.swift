// Loads, stores and deletes of variables, one node class per binding kind the resolver found.
import ConcSyntax

func unboundLocal(_ name: String) -> PyBaseException {
    pyError(Exc.unboundLocalError, "cannot access local variable '\(name)' where it is not associated with a value")
}
func nameNotDefined(_ name: String) -> PyBaseException {
    let e = pyError(Exc.nameError, "name '\(name)' is not defined")
    e.setInstanceAttribute("name", .str(name))
    return e
}
/// The NameError of a failed lookup by code running in `f`, which may suggest a close name.
func nameNotDefined(_ name: String, in f: Frame) -> PyBaseException {
    let e = nameNotDefined(name)
    e.suggestionName = name
    e.suggestionSource = .name(f.code, f.globals)
    return e
}

/// A function local in a value-stack slot.
final class LocalNode: ExprNode {
    let slot: Int
    let name: String
    init(_ slot: Int, _ name: String, _ loc: SourceLoc) { self.slot = slot; self.name = name; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let v = f.locals[slot]
        if case .unbound = v { throw unboundError(f) }
        return v
    }
    /// The error for reading the unbound local, out of line: inlined, building it made
    /// every read save and restore registers it does not need.
    @inline(never) private func unboundError(_ f: Frame) -> Error { located(unboundLocal(name), f, loc) }
    override func assign(_ f: Frame, _ v: Value) throws { f.locals[slot] = v }
    override func delete(_ f: Frame) throws {
        if case .unbound = f.locals[slot] { throw unboundLocal(name) }
        f.locals[slot] = .unbound
    }
}

/// A local captured by an inner function: its slot holds a ``Cell``.
final class CellNode: ExprNode {
    let slot: Int
    let name: String
    init(_ slot: Int, _ name: String, _ loc: SourceLoc) { self.slot = slot; self.name = name; super.init(loc) }
    @inline(__always) func cell(_ f: Frame) -> Cell {
        if case .obj(let o) = f.locals[slot] { return unsafeDowncast(o, to: Cell.self) }
        fatalError("cell slot without a cell")
    }
    /// Runs `body` with the cell, unretained: the slot keeps it for the frame's life.
    @inline(__always) func withCell<R>(_ f: Frame, _ body: (Cell) throws -> R) rethrows -> R {
        try (f.locals + slot).unretainedObject.unsafelyUnwrapped._withUnsafeGuaranteedRef {
            try body(unsafeDowncast($0, to: Cell.self))
        }
    }
    override func eval(_ f: Frame) throws -> Value {
        let v = withCell(f) { $0.value }
        if case .unbound = v { throw located(unboundLocal(name), f, loc) }
        return v
    }
    override func assign(_ f: Frame, _ v: Value) throws { withCell(f) { $0.value = v } }
    override func delete(_ f: Frame) throws {
        if case .unbound = cell(f).take() { throw unboundLocal(name) }
    }
}

/// A variable of an enclosing function, reached through the closure.
final class FreeNode: ExprNode {
    let index: Int
    let name: String
    init(_ index: Int, _ name: String, _ loc: SourceLoc) { self.index = index; self.name = name; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let v = f.withFreeCell(index) { $0.value }
        if case .unbound = v { throw unboundError(f) }
        return v
    }
    /// CPython's NameError for the free variable not yet bound in its scope: it carries the
    /// name (so a close one may be suggested) and passes through this frame at the name.
    @inline(never) private func unboundError(_ f: Frame) -> Error {
        let e = pyError(Exc.nameError, "cannot access free variable '\(name)' where it is not associated with a value in enclosing scope")
        e.setInstanceAttribute("name", .str(name))
        e.suggestionName = name
        e.suggestionSource = .name(f.code, f.globals)
        return located(e, f, loc)
    }
    override func assign(_ f: Frame, _ v: Value) throws { f.withFreeCell(index) { $0.value = v } }
    override func delete(_ f: Frame) throws { f.freeCell(index).value = .unbound }
}

/// A module global (falling back to builtins on load). Loads and stores go through
/// ``Cell/value``: one branch, plus the cell's lock while units run in parallel.
final class GlobalNode: ExprNode {
    let cell: Cell
    let name: String
    /// The builtin of the same name, if any, looked up once at compile time.
    let builtin: Value?
    /// The builtins module `builtin` came from (nil for a fixed `__builtins__` dict of
    /// exec()/eval()): read instead once a program has rebound one of its builtins.
    /// Unmanaged: the engine keeps it as long as its code runs, and a counted reference
    /// would be retained at every builtin load, by every unit, on one shared object.
    let builtinsModule: Unmanaged<Globals>?
    init(_ cell: Cell, _ name: String, builtin: Value?, builtinsModule: Globals?, _ loc: SourceLoc) {
        self.cell = cell; self.name = name; self.builtin = builtin
        self.builtinsModule = builtinsModule.map { .passUnretained($0) }
        super.init(loc)
    }
    /// True while ``builtin`` is still what the name falls back to.
    @inline(__always) var builtinIsCurrent: Bool { !Globals.hasReboundBuiltin(builtinsModule) }
    override func eval(_ f: Frame) throws -> Value {
        let v = cell.value
        if case .unbound = v {
            if let b = builtin, builtinIsCurrent { return b }
            return try builtinNow(f)
        }
        return v
    }
    /// The name's builtin as the builtins module holds it now (`builtins.x = 1` adds one),
    /// else NameError.
    @inline(never) private func builtinNow(_ f: Frame) throws -> Value {
        if let m = builtinsModule {
            if let b = m._withUnsafeGuaranteedRef({ $0.get(name) }) { return b }
        } else if let b = builtin {
            return b
        }
        throw located(nameNotDefined(name, in: f), f, loc)
    }
    override func assign(_ f: Frame, _ v: Value) throws { cell.value = v }
    override func delete(_ f: Frame) throws {
        if case .unbound = cell.take() { throw nameNotDefined(name, in: f) }
    }
}

/// A name inside a class body: the class namespace first, then the enclosing binding.
final class ClassBodyNameNode: ExprNode {
    let name: String
    let key: Value
    let fallback: ExprNode
    init(_ name: String, fallback: ExprNode, _ loc: SourceLoc) {
        self.name = name; self.key = .str(name); self.fallback = fallback; super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        if let ns = f.classNamespace, let v = try f.unit.namespaceGet(ns, key) { return v }
        return try fallback.eval(f)
    }
    override func assign(_ f: Frame, _ v: Value) throws { try f.unit.namespaceSet(f.classNamespace!, key, v) }
    override func delete(_ f: Frame) throws {
        if try !f.unit.namespaceDelete(f.classNamespace!, key) { throw nameNotDefined(name, in: f) }
    }
}

extension Unit {
    /// A name read from a class body's (or exec's) namespace; nil when it has none. A dict
    /// subclass (from a metaclass's `__prepare__`) is asked through its own `__getitem__`
    /// (and `__missing__`), as CPython's LOAD_NAME does for anything but an exact dict.
    func namespaceGet(_ ns: PyDict, _ key: Value) throws -> Value? {
        if ns.typeIsBuiltin { return try ns.get(self, key) }
        do { return try getItem(.obj(ns), key) }
        catch let e as PyBaseException where e.type.isSubtype(of: Exc.keyError) { return nil }
    }
    /// A name bound in a class body's namespace (through a dict subclass's `__setitem__`).
    func namespaceSet(_ ns: PyDict, _ key: Value, _ v: Value) throws {
        if ns.typeIsBuiltin { try ns.set(self, key, v) } else { try setItem(.obj(ns), key, v) }
    }
    /// A name deleted from a class body's namespace; false when it had none.
    func namespaceDelete(_ ns: PyDict, _ key: Value) throws -> Bool {
        if ns.typeIsBuiltin { return try ns.remove(self, key) != nil }
        do { try delItem(.obj(ns), key); return true }
        catch let e as PyBaseException where e.type.isSubtype(of: Exc.keyError) { return false }
    }
}

/// `_` in REPL input: a global `_` the user assigned, else the last echoed value (which the
/// echo stores in the builtins module), else NameError.
final class LastValueNode: ExprNode {
    let cell: Cell
    init(_ cell: Cell, _ loc: SourceLoc) { self.cell = cell; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let v = cell.value
        if case .unbound = v {
            if let b = f.unit.engine.builtinsModule.globals.get("_") { return b }
            throw located(nameNotDefined("_"), f, loc)
        }
        return v
    }
    override func assign(_ f: Frame, _ v: Value) throws { cell.value = v }
    override func delete(_ f: Frame) throws {
        if case .unbound = cell.take() { throw nameNotDefined("_") }
    }
}
