// Argument checking for native functions, with CPython's wording.

extension Args {
    /// Checks the positional count and that no keywords were passed. A function of a
    /// `module` other than builtins is named with it where CPython's METH_O/METH_NOARGS
    /// checks name it ("math.sqrt() takes exactly one argument"), not in its argument-count
    /// checks ("atan2 expected 2 arguments"). `allowed` keywords name the positional
    /// parameters in order when there are at least `max` of them; fewer are keyword-only
    /// or name later positions (`wait_for(predicate, timeout)` allows just "timeout").
    func expect(_ name: String, _ min: Int, _ max: Int, keywords allowed: [String] = [], module: String? = nil) throws {
        let full = module.map { "\($0).\(name)" } ?? name
        for (k, _) in keywords where !allowed.contains(k) {
            if allowed.isEmpty { throw typeError("\(full)() takes no keyword arguments") }
            throw typeError("\(name)() got an unexpected keyword argument '\(k)'")
        }
        let n = count
        if n >= min && n <= max {
            // Names that cover every position (`acquire(blocking, timeout)`) are the
            // positional parameters in order: one given both ways is an error, not a choice.
            if !keywords.isEmpty && allowed.count >= max {
                for (i, k) in allowed.prefix(n).enumerated() where keyword(k) != nil {
                    throw typeError("argument for \(name)() given by name ('\(k)') and position (\(i + 1))")
                }
            }
            return
        }
        if min == max {
            if min == 1 { throw typeError("\(full)() takes exactly one argument (\(n) given)") }
            if min == 0 { throw typeError("\(full)() takes no arguments (\(n) given)") }
            throw typeError("\(name) expected \(min) arguments, got \(n)")
        }
        if n < min { throw typeError("\(name) expected at least \(min) argument\(min == 1 ? "" : "s"), got \(n)") }
        throw typeError("\(name) expected at most \(max) argument\(max == 1 ? "" : "s"), got \(n)")
    }

    /// Like ``expect(_:_:_:keywords:)`` for a function whose parameters `names` (in order)
    /// may each be passed by position or by keyword (`compile(source='1', filename='?',
    /// mode='eval')`): the first `min` must be given one way or the other, none both ways.
    func expectNamed(_ name: String, _ min: Int, _ max: Int, names: [String]) throws {
        try expect(name, Swift.min(count, min), max, keywords: names)
        for (i, k) in names.enumerated() where keyword(k) != nil {
            if i < count { throw typeError("argument for \(name)() given by name ('\(k)') and position (\(i + 1))") }
        }
        for i in count..<Swift.max(count, min) where keyword(names[i]) == nil {
            throw typeError("\(name)() missing required argument '\(names[i])' (pos \(i + 1))")
        }
    }

    /// CPython's argument-clinic checks (`_PyArg_UnpackKeywords`), in its order and
    /// wording, for a builtin whose parameters are `names`: the first `posOnly` only by
    /// position, the first `required` required, at most `maxPositional` by position
    /// (the rest keyword-only). `round(num=1.5)` is "missing required argument 'number'
    /// (pos 1)", `enumerate([], begin=1)` "'begin' is an invalid keyword argument for
    /// enumerate()". Read the values with ``argument(_:_:)`` afterwards.
    func expectClinic(_ fname: String, _ names: [String], posOnly: Int = 0, required: Int,
                      maxPositional: Int? = nil) throws {
        let maxArgs = names.count, maxPos = maxPositional ?? names.count
        let nargs = count, nkw = keywords.count
        func plural(_ n: Int) -> String { n == 1 ? "" : "s" }
        if nargs + nkw > maxArgs {
            throw typeError("\(fname)() takes at most \(maxArgs) \(nargs == 0 ? "keyword " : "")argument\(plural(maxArgs)) (\(nargs + nkw) given)")
        }
        if nargs > maxPos {
            if maxPos == 0 { throw typeError("\(fname)() takes no positional arguments") }
            throw typeError("\(fname)() takes \(required < maxPos ? "at most" : "exactly") \(maxPos) positional argument\(plural(maxPos)) (\(nargs) given)")
        }
        let minPosOnly = Swift.min(posOnly, required)
        if nargs < minPosOnly {
            throw typeError("\(fname)() takes \(minPosOnly < maxPos ? "at least" : "exactly") \(minPosOnly) positional argument\(plural(minPosOnly)) (\(nargs) given)")
        }
        var unmatched = nkw
        for i in Swift.max(nargs, posOnly)..<Swift.max(maxArgs, Swift.max(nargs, posOnly)) {
            if unmatched > 0, keyword(names[i]) != nil { unmatched -= 1; continue }
            if i < required { throw typeError("\(fname)() missing required argument '\(names[i])' (pos \(i + 1))") }
            if unmatched == 0 { break }
        }
        guard unmatched > 0 else { return }
        for i in posOnly..<Swift.max(posOnly, nargs) where i < maxArgs && keyword(names[i]) != nil {
            throw typeError("argument for \(fname)() given by name ('\(names[i])') and position (\(i + 1))")
        }
        for (k, _) in keywords where !names[posOnly...].contains(k) {
            throw typeError("'\(k)' is an invalid keyword argument for \(fname)()")
        }
    }

    /// Positional argument `i`, or keyword `name`, or nil.
    func argument(_ i: Int, _ name: String) -> Value? {
        if i < count { return self[i] }
        return keyword(name)
    }
}

extension Unit {
    /// A str argument or TypeError.
    func stringArg(_ v: Value, _ what: String) throws -> String {
        guard let s = v.asStr else {
            // CPython's argument-clinic messages ("f() argument 2 must be str, not None")
            // name None by its value.
            throw typeError("\(what) must be str, not \(what.contains("() argument") ? v.argTypeName : v.typeName)")
        }
        return s.value
    }
    /// A float-compatible argument (int, bool, float, or `__float__`).
    func floatArg(_ v: Value, _ what: String = "must be real number") throws -> Double {
        if let d = numericDouble(v) { return d }
        // CPython's PyFloat_AsDouble: the class's __float__, else its __index__.
        if case .obj(let o) = v, !o.typeIsBuiltin {
            if let m = lookupSpecial(v, "__float__") { return try floatResult(of: v, try call(m, [])) }
            if lookupSpecial(v, "__index__") != nil { return Double(try toIndex(v)) }
        }
        throw typeError("\(what), not \(v.typeName)")
    }
}

/// Shorthand for building a module's function table.
func native(_ name: String, _ fn: @escaping NativeFunction) -> (String, Value) {
    (name, .obj(PyBuiltinFunction(name, fn)))
}

/// A builtin function of no arguments; `qualified` names it in the count error as CPython
/// does (`time.time() takes no arguments (1 given)`, `posix.getpid() ...`).
func native0(_ name: String, qualified: String, _ body: @escaping (Unit) throws -> Value) -> (String, Value) {
    native(name) { u, a in
        try ContainerArgs.none(a, qualified)
        return try body(u)
    }
}

/// The count check of a C function taking at most `max` arguments, none by keyword
/// (`ctime() takes at most 1 argument (2 given)`).
func expectAtMost(_ a: Args, _ name: String, _ max: Int) throws {
    if !a.keywords.isEmpty { throw typeError("\(name)() takes no keyword arguments") }
    if a.count > max { throw typeError("\(name)() takes at most \(max) argument\(max == 1 ? "" : "s") (\(a.count) given)") }
}

/// A builtin function of exactly one argument: `body` serves the fixed-arity entry, and
/// the general one after checking the arguments (`len() takes exactly one argument (2 given)`).
/// `expectedStyle`: the count error reads "NAME expected 1 argument, got N", as CPython's
/// for reversed() and a few others, rather than "NAME() takes exactly one argument".
/// `methO`: counted as CPython counts a METH_O builtin (``countedLikeMethO(_:)``).
func native1(_ name: String, expectedStyle: Bool = false, methO: Bool = false, _ body: @escaping Native1) -> (String, Value) {
    let body = methO ? countedLikeMethO(body) : body
    return native(name, one: body) { u, a in
        if expectedStyle && a.count != 1 && a.keywords.isEmpty { throw typeError("\(name) expected 1 argument, got \(a.count)") }
        try a.expect(name, 1, 1)
        return try body(u, a[0])
    }
}

/// `body` counted as one level of C recursion when its argument is an object: CPython
/// 3.11 calls a METH_O builtin (repr, hash, abs, any...) inside _Py_EnterRecursiveCall,
/// so a `__repr__` calling repr(self) recurses a third less deep than a plain function,
/// and the limit may be met right at the call.
func countedLikeMethO(_ body: @escaping Native1) -> Native1 {
    { u, x in
        guard case .obj = x else { return try body(u, x) }
        try u.enterNested(" while calling a Python object")
        defer { u.leaveNested() }
        return try body(u, x)
    }
}

/// A builtin function of exactly two arguments, as ``native1(_:_:)``.
func native2(_ name: String, _ body: @escaping Native2) -> (String, Value) {
    native(name, one: nil, two: body) { u, a in try a.expect(name, 2, 2); return try body(u, a[0], a[1]) }
}

/// A builtin function with fixed-arity entries (``Native1``) beside its general one.
func native(_ name: String, one: Native1?, two: Native2? = nil, _ fn: @escaping NativeFunction) -> (String, Value) {
    (name, .obj(PyBuiltinFunction(name, one: one, two: two, fn)))
}

extension Unit {
    /// An argument CPython converts to a C `int` (Argument Clinic's `int`: file
    /// descriptors, modes, flags): OverflowError outside its range, never a trap.
    func cIntArg(_ v: Value) throws -> Int32 {
        guard let i = Int32(exactly: try toIndex(v)) else { throw overflowError("Python int too large to convert to C int") }
        return i
    }

    /// A `pid_t` (or an `i`-format int: waitpid's options, killpg's signal), with
    /// CPython's words for a value outside the C int range.
    func pidArg(_ v: Value) throws -> Int32 {
        let n = try toIndex(v)
        if n > Int(Int32.max) { throw overflowError("signed integer is greater than maximum") }
        if n < Int(Int32.min) { throw overflowError("signed integer is less than minimum") }
        return Int32(n)
    }
}
