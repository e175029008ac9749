// Attributes and methods of BaseException and its subclasses.
import ConcSyntax

@inline(__always) private func exc(_ v: Value) -> PyBaseException { v.object as! PyBaseException }

func installExceptionMethods(_ t: PyType) {
    t.method("__init__") { u, s, a in
        let e = exc(s)
        try setExceptionKeywords(e, a.keywords, reset: true)
        e.args = a.positional
        if e.type.isSubtype(of: Exc.syntaxError) { try u.initSyntaxErrorDetails(e) }
        if e.type.isSubtype(of: Exc.unicodeError) { try u.checkUnicodeErrorArguments(e) }
        return .none
    }
    t.method("__str__") { u, s, _ in .str(try u.exceptionStr(exc(s))) }
    t.method("__repr__") { u, s, _ in
        let e = exc(s)
        let inner = e.args.count == 1 ? try u.repr(e.args[0]) : try e.args.map { try u.repr($0) }.joined(separator: ", ")
        return .str("\(e.type.name)(\(inner))")
    }
    // 3.11's notes: printed after the exception's line.
    t.method("add_note") { _, s, a in
        _ = try ContainerArgs.one(a, "BaseException.add_note")
        guard a[0].asStr != nil else { throw typeError("note must be a str, not '\(a[0].typeName)'") }
        let e = exc(s)
        guard let notes = e.instanceAttribute("__notes__") else {
            e.setInstanceAttribute("__notes__", .obj(PyList([a[0]])))
            return .none
        }
        guard case .obj(let o) = notes, let list = o as? PyList else { throw typeError("Cannot add note: __notes__ is not a list") }
        list.append(a[0])
        return .none
    }
    // For copy and deepcopy: the class and its arguments (an OSError's with its file names,
    // as CPython's OSError.__reduce__), then the other attributes, if any.
    t.method("__reduce__") { u, s, a in
        try a.expect("__reduce__", 0, 0)
        let e = exc(s)
        var args = e.args
        var state = try u.getAttr(s, "__dict__")
        if e.type.isSubtype(of: Exc.osError), let d = state.object as? PyDict {
            let fields = ["errno", "strerror", "filename", "filename2", "winerror", "characters_written"]
            let filename = try d.get(u, .str("filename")) ?? .none
            let filename2 = try d.get(u, .str("filename2")) ?? .none
            if args.count == 2, !filename.isNone {
                args += filename2.isNone ? [filename] : [filename, .none, filename2]
            }
            let rest = PyDict()
            for (k, v) in d.pairs where !(k.asStr.map { fields.contains($0.value) } ?? false) { try rest.set(u, k, v) }
            return .obj(PyTuple([.obj(e.type), .obj(PyTuple(args)), .obj(rest)]))
        }
        if let d = state.object as? PyDict, d.count == 0 { state = .none }
        return .obj(PyTuple(state.isNone ? [.obj(e.type), .obj(PyTuple(args))] : [.obj(e.type), .obj(PyTuple(args)), state]))
    }
    t.method("with_traceback") { _, s, a in
        try a.expect("with_traceback", 1, 1)
        try setTraceback(exc(s), a[0])
        return s
    }
    t.getter("args") { _, s in .obj(PyTuple(exc(s).args)) }
    t.getter("__cause__") { _, s in exc(s).cause.map { .obj($0) } ?? .none }
    t.getter("__context__") { _, s in exc(s).context.map { .obj($0) } ?? .none }
    t.getter("__suppress_context__") { _, s in .bool(exc(s).suppressContext) }
    t.getter("__traceback__") { _, s in exc(s).tracebackValue }
}

/// The keyword arguments an exception type's `__init__` takes: ImportError `name=` and
/// `path=`, NameError `name=`, AttributeError `name=` and `obj=`; none for the others.
private func exceptionKeywordNames(_ t: PyType) -> [String] {
    t.isSubtype(of: Exc.importError) ? ["name", "path"]
        : t.isSubtype(of: Exc.nameError) ? ["name"] : t.isSubtype(of: Exc.attributeError) ? ["name", "obj"] : []
}

/// Stores an exception's keyword arguments as its fields, or raises TypeError for one its
/// type does not take. With `reset` (an explicit `__init__` call), the fields not given
/// become None, as CPython's ImportError.__init__ and AttributeError.__init__ do.
func setExceptionKeywords(_ e: PyBaseException, _ keywords: [(String, Value)], reset: Bool) throws {
    let allowed = exceptionKeywordNames(e.type)
    for (k, _) in keywords where !allowed.contains(k) {
        throw typeError(allowed.isEmpty ? "\(e.type.name)() takes no keyword arguments"
                                        : "'\(k)' is an invalid keyword argument for \(e.type.name)()")
    }
    if reset {
        for name in allowed { e.setInstanceAttribute(name, .none) }
    }
    for (k, v) in keywords { e.setInstanceAttribute(k, v) }
}

/// An attribute of the instance, else `fallback` (what CPython's C-level field holds
/// when nothing was given).
private func field(_ t: PyType, _ name: String, _ fallback: @escaping (PyBaseException) -> Value = { _ in .none }) {
    t.getter(name) { _, s in exc(s).instanceAttribute(name) ?? fallback(exc(s)) }
}

func installStopIterationAttributes(_ t: PyType) {
    field(t, "value") { $0.args.first ?? .none }
}

func installSystemExitAttributes(_ t: PyType) {
    field(t, "code") { $0.args.isEmpty ? .none : $0.args.count == 1 ? $0.args[0] : .obj(PyTuple($0.args)) }
}

func installOSErrorAttributes(_ t: PyType) {
    field(t, "errno") { (2...5).contains($0.args.count) ? $0.args[0] : .none }
    field(t, "strerror") { (2...5).contains($0.args.count) ? $0.args[1] : .none }
    field(t, "filename")
    field(t, "filename2")
}

func installImportErrorAttributes(_ t: PyType) {
    field(t, "msg") { $0.args.count == 1 ? $0.args[0] : .none }
    field(t, "name")
    field(t, "path")
}

/// NameError's and AttributeError's `name`.
func installNameAttribute(_ t: PyType) { field(t, "name") }

/// UnicodeEncodeError's and UnicodeDecodeError's fields: their five arguments.
func installUnicodeErrorAttributes(_ t: PyType) {
    for (i, name) in ["encoding", "object", "start", "end", "reason"].enumerated() {
        field(t, name) { $0.args.count == 5 ? $0.args[i] : .none }
    }
}

/// AttributeError's `name` and `obj`: given as keywords, or (for a failed lookup the
/// interpreter raised) the missing name and the object searched, as in CPython 3.11.
func installAttributeErrorAttributes(_ t: PyType) {
    field(t, "name") { e in e.suggestionName.map { .str($0) } ?? .none }
    field(t, "obj") { e in
        if case .attribute(let v) = e.suggestionSource { return v }
        return .none
    }
}

/// SyntaxError's location fields, set from `args[1]` by ``Unit/initSyntaxErrorDetails(_:)``
/// or by the parser's error (``Engine/syntaxErrorException(_:)``).
func installSyntaxErrorAttributes(_ t: PyType) {
    field(t, "msg") { $0.args.first ?? .none }
    for name in ["filename", "lineno", "offset", "text", "end_lineno", "end_offset", "print_file_and_line"] {
        field(t, name)
    }
}

extension Unit {
    /// The arguments CPython's UnicodeEncodeError, UnicodeDecodeError (encoding, object,
    /// start, end, reason) and UnicodeTranslateError (object, start, end, reason) insist on,
    /// in its words ("function takes exactly 5 arguments (1 given)").
    func checkUnicodeErrorArguments(_ e: PyBaseException) throws {
        let translate = e.type.isSubtype(of: Exc.unicodeTranslateError)
        let decode = e.type.isSubtype(of: Exc.unicodeDecodeError)
        guard translate || decode || e.type.isSubtype(of: Exc.unicodeEncodeError) else { return }
        let a = e.args
        let count = translate ? 4 : 5
        guard a.count == count else { throw typeError("function takes exactly \(count) arguments (\(a.count) given)") }
        func requireStr(_ i: Int) throws {
            guard a[i].asStr != nil else { throw typeError("argument \(i + 1) must be str, not \(a[i].argTypeName)") }
        }
        let object = translate ? 0 : 1
        if !translate { try requireStr(0) }
        if decode {
            guard case .obj(let o) = a[object], o is PyBytes else {
                throw typeError("a bytes-like object is required, not '\(a[object].typeName)'")
            }
        } else {
            try requireStr(object)
        }
        _ = try toIndex(a[object + 1])
        _ = try toIndex(a[object + 2])
        try requireStr(object + 3)
    }

    /// `SyntaxError(msg, (filename, lineno, offset, text[, end_lineno, end_offset]))`:
    /// the details become attributes, and (with a file and a line) the location shown
    /// when the error is printed, as CPython's SyntaxError.__init__ does.
    func initSyntaxErrorDetails(_ e: PyBaseException) throws {
        guard e.args.count == 2 else {
            if let m = e.args.first { e.setInstanceAttribute("msg", m) }
            return
        }
        let info = try toArray(e.args[1])
        guard info.count >= 4 else { throw typeError("function takes at least 4 arguments (\(info.count) given)") }
        guard info.count <= 6 else { throw typeError("function takes at most 6 arguments (\(info.count) given)") }
        if info.count == 5 { throw typeError("end_offset must be provided when end_lineno is provided") }
        e.setInstanceAttribute("msg", e.args[0])
        let names = ["filename", "lineno", "offset", "text", "end_lineno", "end_offset"]
        for (i, v) in info.enumerated() { e.setInstanceAttribute(names[i], v) }
        guard let file = info[0].asStr?.value, case .int(let line) = info[1] else { e.syntaxError = nil; return }
        var column = 0
        if case .int(let c) = info[2] { column = c }
        var endLine = 0, endColumn = 0
        if info.count == 6, case .int(let l) = info[4], case .int(let c) = info[5] { endLine = l; endColumn = c }
        var text = info[3].asStr?.value ?? ""
        if text.hasSuffix("\n") { text.removeLast() }
        let kind = e.type.isSubtype(of: Exc.tabError) ? "TabError" : e.type.isSubtype(of: Exc.indentationError) ? "IndentationError" : "SyntaxError"
        e.syntaxError = SyntaxError(kind: kind, message: (try? str(e.args[0])) ?? "", file: file, line: line,
                                    column: column, text: text, endLine: endLine, endColumn: endColumn)
    }

    /// What may be stored in `__cause__`/`__context__`: None or an exception instance.
    private func linkedException(_ value: Value, _ what: String) throws -> PyBaseException? {
        if value.isNone { return nil }
        guard case .obj(let o) = value, let x = o as? PyBaseException else {
            throw typeError("exception \(what) must be None or derive from BaseException")
        }
        return x
    }

    /// Handles assignments to exception attributes stored outside `attrs`.
    func setExceptionAttribute(_ e: PyBaseException, _ name: String, _ value: Value) throws -> Bool {
        switch name {
        case "args": e.args = try toArray(value); return true
        case "message", "exceptions" where e.isGroup: throw attributeError("readonly attribute")
        case "__cause__":
            e.cause = try linkedException(value, "cause"); e.suppressContext = true; return true
        case "__context__":
            e.context = try linkedException(value, "context")
            e.contextSettled = true
            return true
        case "__suppress_context__": e.suppressContext = try isTruthy(value); return true
        case "__traceback__": try setTraceback(e, value); return true
        default: return false
        }
    }
}

/// `e.__traceback__ = tb` / `e.with_traceback(tb)`.
private func setTraceback(_ e: PyBaseException, _ tb: Value) throws {
    if tb.isNone { e.setTraceback(nil); return }
    guard case .obj(let o) = tb, let t = o as? PyTraceback else {
        throw typeError("__traceback__ must be a traceback or None")
    }
    e.setTraceback(t)
}

/// `tb.tb_lineno`, `tb.tb_next`, `tb.tb_lasti`, `tb.tb_frame` (``PyTraceback/frame``).
func installTracebackAttributes(_ t: PyType) {
    func tb(_ v: Value) -> PyTraceback { v.object as! PyTraceback }
    t.getter("tb_lineno") { _, s in .int(tb(s).entry.loc.line) }
    t.getter("tb_next") { _, s in tb(s).next.map { .obj($0) } ?? .none }
    t.getter("tb_lasti") { _, _ in .int(0) }
    t.getter("tb_frame") { _, s in tb(s).frame.map { .obj($0) } ?? .none }
}
