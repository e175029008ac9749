// Making functions and classes, and comprehensions (which run as hidden functions).
import ConcSyntax

/// Where a new function's closure cell comes from in the defining frame.
enum ClosureSource {
    /// A cell local of the defining frame.
    case cell(slot: Int)
    /// A free variable of the defining frame.
    case free(index: Int)
}

@inline(__always) func collectClosure(_ sources: [ClosureSource], _ f: Frame) -> [Cell] {
    sources.map { s in
        switch s {
        case .cell(let slot):
            if case .obj(let o) = f.locals[slot], let c = o as? Cell { return c }
            fatalError("closure source slot holds no cell")
        case .free(let i): return f.freeCell(i)
        }
    }
}

/// Creates a function object from compiled code (`def` and `lambda`).
final class MakeFunctionNode: ExprNode {
    let code: CodeInfo
    let defaults: [ExprNode]
    let kwDefaults: [(String, ExprNode)]
    /// Parameter annotations and `return`, evaluated after the defaults, as CPython does.
    let annotations: [(String, ExprNode)]
    let closure: [ClosureSource]
    let doc: Value
    init(_ code: CodeInfo, defaults: [ExprNode], kwDefaults: [(String, ExprNode)], annotations: [(String, ExprNode)] = [],
         closure: [ClosureSource], doc: Value, _ loc: SourceLoc) {
        self.code = code; self.defaults = defaults; self.kwDefaults = kwDefaults; self.annotations = annotations
        self.closure = closure; self.doc = doc; super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        // Positional defaults first, then keyword-only ones, as CPython evaluates them.
        let positional = try defaults.map { try $0.eval(f) }
        var kw: [String: Value] = [:]
        for (n, e) in kwDefaults { kw[n] = try e.eval(f) }
        let fn = PyFunction(code: code, globals: f.globals, moduleName: f.unit.engine.moduleName(of: f.globals),
                            closure: collectClosure(closure, f), defaults: positional, kwDefaults: kw)
        fn.doc = doc
        if !annotations.isEmpty {
            let d = PyDict()
            for (n, e) in annotations { try d.set(f.unit, .str(n), try e.eval(f)) }
            fn.attrs["__annotations__"] = .obj(d)
        }
        // Functions of modules and classes are called from every unit and live as long as
        // the program: immortal, so parallel callers don't bounce their refcount. (Nested
        // functions and closures, made again and again, stay ordinary.)
        if f.function == nil || f.classNamespace != nil { Immortal.make(fn); fn.isImmortal = true }
        // The class a function's `super()` and `__class__` mean is the one lexically around
        // it: the class being defined, or the enclosing method's.
        if f.classNamespace != nil {
            f.classBodyFunctions?.append(fn)
        } else if code.usesClassCell, let owner = f.function?.ownerClass {
            fn.claim(by: owner)
        }
        return .obj(fn)
    }
}

/// A list/set/dict comprehension or generator expression: evaluates the first iterable here
/// and runs the rest as a hidden function taking the iterator.
final class ComprehensionNode: ExprNode {
    let code: CodeInfo
    let firstIterable: ExprNode
    let closure: [ClosureSource]
    init(_ code: CodeInfo, firstIterable: ExprNode, closure: [ClosureSource], _ loc: SourceLoc) {
        self.code = code; self.firstIterable = firstIterable; self.closure = closure; super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        let u = f.unit
        let iterable = try firstIterable.eval(f)
        do {
            let it = try u.iterate(iterable)
            let fn = PyFunction(code: code, globals: f.globals, moduleName: "", closure: collectClosure(closure, f), defaults: [], kwDefaults: [:])
            if code.usesClassCell, f.classNamespace == nil, let owner = f.function?.ownerClass { fn.claim(by: owner) }  // `__class__` inside
            return try u.callFunction(fn, Args([.obj(it)]))
        } catch { throw located(error, f, loc) }
    }
}

/// One `for target in iter if cond...` level inside a comprehension body.
struct ComprehensionLoop {
    let target: ExprNode
    let iterable: ExprNode
    /// The `if` conditions, compiled to CPython's jumps (``Condition``).
    let conditions: [Condition]
    init(target: ExprNode, iterable: ExprNode, conditions: [ExprNode], comprehensionLoc: SourceLoc) {
        self.target = target; self.iterable = iterable
        // A failing truth test passes through the comprehension's frame at its span.
        self.conditions = conditions.map { Condition($0, failure: (comprehensionLoc, .span)) }
    }
}

/// The body of a comprehension's hidden function: runs the loops and collects results.
final class ComprehensionBodyNode: ExprNode {
    enum Kind { case list, set, dict, generator }
    let kind: Kind
    let loops: [ComprehensionLoop]
    let element: ExprNode
    /// The value expression of a dict comprehension.
    let value: ExprNode?
    init(_ kind: Kind, loops: [ComprehensionLoop], element: ExprNode, value: ExprNode?, _ loc: SourceLoc) {
        self.kind = kind; self.loops = loops; self.element = element; self.value = value; super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        switch kind {
        case .list:
            let l = PyList()
            try run(0, f) { v in l.append(v) }
            return .obj(l)
        case .set:
            let s = PySet()
            try run(0, f) { v in try s.add(f.unit, v) }
            return .obj(s)
        case .dict:
            let d = PyDict()
            try run(0, f) { k in try d.set(f.unit, k, try self.value!.eval(f)) }
            return .obj(d)
        case .generator:
            try run(0, f) { v in _ = try f.unit.yieldFromGenerator(consume v, f) }
            return .none
        }
    }
    /// `emit` owns each element (a generator expression hands it on without keeping it).
    private func run(_ level: Int, _ f: Frame, _ emit: (consuming Value) throws -> Void) throws {
        let loop = loops[level]
        let source = try loop.iterable.eval(f)
        let slot = (loop.target as? LocalNode)?.slot ?? -1
        // The hot shapes without an iterator's virtual calls: a range (an inner loop's
        // `for b in range(60)`) and a list's iterator (what the first loop is given).
        if case .obj(let o) = source {
            if slot >= 0, Swift.type(of: o) == PyRange.self {
                let r = unsafeDowncast(o, to: PyRange.self)
                var i = r.start
                for _ in 0..<r.count {
                    f.locals[slot] = .int(i)
                    try visit(level, loop, f, emit)
                    i &+= r.step
                }
                return
            }
            if Swift.type(of: o) == PyListIterator.self {
                let it = unsafeDowncast(o, to: PyListIterator.self)
                while let v = it.nextItem() {
                    if slot >= 0 { f.locals[slot] = consume v } else { try loop.target.assign(f, v) }
                    try visit(level, loop, f, emit)
                }
                return
            }
        }
        let it: PyIter
        if case .obj(let o) = source, let i = o as? PyIter { it = i } else { it = try f.unit.iterate(source) }
        while let v = try nextItem(it, f) {
            try loop.target.assign(f, v)
            try visit(level, loop, f, emit)
        }
    }
    /// The iterator's next item; what it raises (a generator's error) passes through this
    /// frame (`<listcomp>`...) at the comprehension, as CPython's traceback shows it.
    private func nextItem(_ it: PyIter, _ f: Frame) throws -> Value? {
        do { return try it.next(f.unit) } catch { throw located(error, f, loc) }
    }
    /// One item of `loop` bound: its conditions, then the next loop or the element.
    @inline(__always) private func visit(_ level: Int, _ loop: ComprehensionLoop, _ f: Frame,
                                         _ emit: (consuming Value) throws -> Void) throws {
        for c in loop.conditions where !(try c.holds(f)) {
            try f.unit.checkInterrupt()
            return
        }
        if level + 1 < loops.count { try run(level + 1, f, emit) } else { try emit(try element.eval(f)) }
        try f.unit.checkInterrupt()
    }
}

/// `yield value` inside a generator.
final class YieldNode: ExprNode {
    let value: ExprNode?
    init(_ v: ExprNode?, _ loc: SourceLoc) { value = v; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let v = try value?.eval(f) ?? .none
        // An exception thrown in (throw()) is raised here: the traceback marks this yield.
        do { return try f.unit.yieldFromGenerator(consume v, f) } catch { throw located(error, f, loc) }
    }
}

/// `yield from iterable` inside a generator.
final class YieldFromNode: ExprNode {
    let iterable: ExprNode
    init(_ e: ExprNode, _ loc: SourceLoc) { iterable = e; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        // What the delegate raises (an exception thrown in included) marks this expression.
        do { return try delegateTo(f) } catch { throw located(error, f, loc) }
    }

    /// PEP 380's delegation to the iterable, as the frame `f` runs it.
    private func delegateTo(_ f: Frame) throws -> Value {
        let source = try iterable.eval(f)
        let state = f.generator
        state?.delegate = source  // gi_yieldfrom, while delegating
        defer { state?.delegate = .none }
        // The unit is read again after every yield: another unit (thread) may resume this
        // generator, and the frame's unit is then that one (keeping the first would run
        // the delegate on another thread's unit, its stack and its limits).
        if case .obj(let o) = source, let g = o as? PyGenerator {
            // PEP 380: what is sent or thrown into this generator goes to the delegate;
            // GeneratorExit closes the delegate, then goes on out of this one.
            var sent: Value = .none
            var thrown: PyBaseException? = nil
            while true {
                let next: Value?
                if let e = thrown {
                    thrown = nil
                    if e.type.isSubtype(of: Exc.generatorExit) { _ = try g.close(f.unit); throw e }
                    next = try g.throwInto(f.unit, e)
                } else {
                    next = try g.resume(f.unit, send: sent)
                }
                guard let v = next else { return g.returnValue }
                _ = consume next  // suspended, this frame keeps nothing of what it passed on
                sent = .none
                do { sent = try f.unit.yieldFromGenerator(consume v, f) } catch let e as PyBaseException where f.unit.wasThrownIn(e, f) { thrown = e }
            }
        }
        // Any other iterator, as PEP 380 says: a value sent in goes to its send(), an
        // exception thrown in to its throw(), close() to its close(), when it has them
        // (sending to one without send() is the AttributeError CPython raises).
        let it = try f.unit.iterate(source)
        let target: Value = (it as? PyUserIterator)?.target ?? .obj(it)
        var sent: Value = .none
        var thrown: PyBaseException? = nil
        while true {
            let u = f.unit
            let next: Value?
            // A thrown exception the delegate cannot take (no throw()) is raised right here,
            // as itself: a StopIteration does not end the delegation (PEP 479 makes it a
            // RuntimeError once it leaves the generator).
            var throwMethod: Value? = nil
            if let e = thrown {
                if e.type.isSubtype(of: Exc.generatorExit) {
                    thrown = nil
                    // As CPython's gen_close_iter: an error looking close() up is reported as
                    // unraisable and the closing goes on; one raised by close() propagates.
                    var close: Value? = nil
                    do { close = try u.getAttrOrNil(target, "close") } catch let lookup as PyBaseException {
                        u.reportUnraisable(lookup, object: target)
                    }
                    if let close { _ = try u.call(close, []) }
                    throw e
                }
                guard let m = try u.getAttrOrNil(target, "throw") else { throw e }
                throwMethod = m
            }
            do {
                if let e = thrown, let m = throwMethod {
                    thrown = nil
                    // What the outer throw() was given, as CPython 3.11 passes it on.
                    let given = u.throwArguments.flatMap { $0.exception == ObjectIdentifier(e) ? $0.arguments : nil }
                    next = try u.call(m, given ?? [.obj(e)])
                } else if case .none = sent {
                    next = try it.next(u)
                } else {
                    next = try u.call(try u.getAttr(target, "send"), [sent])
                }
            } catch let e as PyBaseException where e.type.isSubtype(of: Exc.stopIteration) {
                return e.args.first ?? .none
            }
            guard let v = next else { return (it as? PyUserIterator)?.stopValue ?? .none }
            _ = consume next
            sent = .none
            do { sent = try u.yieldFromGenerator(consume v, f) } catch let e as PyBaseException where u.wasThrownIn(e, f) { thrown = e }
        }
    }
}
