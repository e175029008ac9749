// repr() and str() of every kind of value.
import ConcSyntax

extension Unit {
    /// `repr(v)`.
    public func repr(_ v: Value) throws -> String {
        switch v {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return decimalString(i)
        case .float(let d): return floatRepr(d)
        case .unbound: return "<unbound>"
        case .obj(let o):
            // Every object's repr is one level of nesting (as CPython's PyObject_Repr), so a
            // deep structure ends in RecursionError, also on a generator's small stack.
            try enterNested(" while getting the repr of an object")
            defer { leaveNested() }
            return try objectRepr(v, o)
        }
    }

    /// `object.__repr__(v)` / `list.__repr__(v)`: the builtin repr, even for an instance
    /// of a subclass that defines its own `__repr__` (which is how that one calls up).
    func builtinRepr(_ v: Value) throws -> String {
        guard case .obj(let o) = v else { return try repr(v) }
        if o.isPlainInstance { return "<\(qualifiedTypeName(o.type)) object at \(address(o))>" }
        return try objectRepr(v, o, honourSubclass: false)
    }

    /// `object.__repr__(v)` called for itself: CPython's generic `<module.qualname object at
    /// 0x…>`, for any value. Builtin types that have no `__repr__` entry of their own
    /// (range, type, function...) reach this one for their builtin repr, for their
    /// subclasses too (a metaclass's `super().__repr__()`).
    func objectDunderRepr(_ v: Value) throws -> String {
        let t = v.type
        if case .obj(let o) = v, !o.isPlainInstance, let base = t.mro.first(where: { $0.isBuiltin }), base !== Types.object,
           let inherited = base.lookup("__repr__"), let objects = Types.object.ownAttribute("__repr__", hash: nameHash("__repr__")),
           isSame(inherited, objects) {
            return try builtinRepr(v)
        }
        return "<\(qualifiedTypeName(t)) object at 0x\(String(UInt(bitPattern: try identity(v)), radix: 16))>"
    }

    /// `object.__str__(v)`: like ``builtinRepr(_:)`` for str.
    func builtinStr(_ v: Value) throws -> String {
        // CPython's object.__str__ is the type's repr: a user __repr__ if there is one (a
        // user __str__ calling super().__str__() must not come back to itself).
        if case .obj(let o) = v, o.isPlainInstance { return try repr(v) }
        if case .obj(let o) = v, !o.typeIsBuiltin && !(o is PyInstance) {
            if let s = o as? PyStr { return s.value }
            return try builtinRepr(v)
        }
        return try str(v)
    }

    /// `str(v)`.
    public func str(_ v: Value) throws -> String {
        if case .obj(let o) = v {
            if let s = o as? PyStr {
                // A str subclass may define __str__ (`class Loud(str)`), as in CPython.
                if !o.typeIsBuiltin, let m = userMethod(v, "__str__") { return try stringResult(try call(m, []), "__str__") }
                return s.value
            }
            if let e = o as? PyBaseException, e.type.lookup("__str__").map { isNativeSlot($0, "__str__") } ?? true {
                // str(ValueError(ValueError(...))) nests: one level each, as repr does.
                try enterNested(" while getting the str of an object")
                defer { leaveNested() }
                return try exceptionStr(e)
            }
            if let p = o as? PyMappingProxy, o.typeIsBuiltin { return try str(p.viewed(self)) }
            if o is PyInstance, let m = lookupSpecial(v, "__str__"), !(o.type.lookup("__str__").map { isNativeSlot($0, "__str__") } ?? true) {
                // PyObject_Str's level of C recursion, as CPython counts it.
                try enterNested(" while getting the str of an object")
                defer { leaveNested() }
                return try stringResult(try call(m, []), "__str__")
            }
            if !o.typeIsBuiltin && !(o is PyInstance) {
                if let m = userMethod(v, "__str__") { return try stringResult(try call(m, []), "__str__") }
                // Another native slot made the class's __str__ (IntEnum's `__str__ = int.__repr__`).
                if case .obj(let d)? = o.type.lookup("__str__"), let slot = d as? PyMethodDescriptor, slot.name != "__str__" {
                    return try stringResult(try slot.fn(self, v, Args()), "__str__")
                }
            }
            // object.__str__ calls the class's __repr__ and str() checks what comes back:
            // a __repr__ that forgot its `return` is "__str__ returned non-string", as in
            // CPython.
            if !o.typeIsBuiltin, let m = userMethod(v, "__repr__") { return try stringResult(try call(m, []), "__str__") }
        }
        return try repr(v)
    }

    /// True when `v` is the builtin method `slot` itself (a class's inherited `__repr__`),
    /// not another builtin method put in its place (`Foo.__repr__ = Foo.__str__`, which
    /// is called: object.__str__ asks for the repr, and so recurses, as in CPython).
    private func isNativeSlot(_ v: Value, _ slot: String) -> Bool {
        if case .obj(let o) = v, let d = o as? PyMethodDescriptor { return d.name == slot }
        return false
    }

    private func stringResult(_ r: Value, _ method: String) throws -> String {
        guard let s = r.asStr else { throw typeError("\(method) returned non-string (type \(r.typeName))") }
        return s.value
    }

    /// `str(exception)`: the message CPython prints after the exception's name.
    func exceptionStr(_ e: PyBaseException) throws -> String {
        if let members = e.groupExceptions {
            let n = members.items.count
            return "\(try str(e.groupMessage)) (\(n) sub-exception\(n > 1 ? "s" : ""))"
        }
        if e.type.isSubtype(of: Exc.keyError), e.args.count == 1 { return try repr(e.args[0]) }
        if e.type.isSubtype(of: Exc.syntaxError) { return try syntaxErrorStr(e) }
        if e.type.isSubtype(of: Exc.unicodeError), let m = unicodeErrorMessage(e) { return m }
        if e.type.isSubtype(of: Exc.osError), e.args.count >= 2, e.args.count <= 5 {
            // CPython takes (errno, strerror[, filename[, winerror[, filename2]]]) from 2 to
            // 5 arguments, of any type.
            let base = "[Errno \(try str(e.args[0]))] \(try str(e.args[1]))"
            if let fname = e.instanceAttribute("filename"), !fname.isNone {
                if let other = e.instanceAttribute("filename2"), !other.isNone {
                    return base + ": " + (try repr(fname)) + " -> " + (try repr(other))
                }
                return base + ": " + (try repr(fname))
            }
            return base
        }
        switch e.args.count {
        case 0: return ""
        case 1: return try str(e.args[0])
        default: return try repr(.obj(PyTuple(e.args)))
        }
    }

    /// "msg (file.py, line 3)", as CPython's SyntaxError_str: the file's base name and
    /// the line when they are known.
    private func syntaxErrorStr(_ e: PyBaseException) throws -> String {
        let msg = try str(e.instanceAttribute("msg") ?? e.args.first ?? .none)
        var file: String? = nil
        if let f = e.instanceAttribute("filename")?.asStr?.value { file = f.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? f }
        var line: Int? = nil
        if case .int(let l)? = e.instanceAttribute("lineno") { line = l }
        switch (file, line) {
        case let (f?, l?): return "\(msg) (\(f), line \(l))"
        case let (f?, nil): return "\(msg) (\(f))"
        case let (nil, l?): return "\(msg) (line \(l))"
        default: return msg
        }
    }

    private func objectRepr(_ v: Value, _ o: PyObject, honourSubclass: Bool = true) throws -> String {
        // A subclass of a builtin type (list, dict, str, int...) with its own __repr__.
        if honourSubclass && !o.typeIsBuiltin && !(o is PyInstance), let m = userMethod(v, "__repr__") {
            return try stringResult(try call(m, []), "__repr__")
        }
        switch o {
        case let s as PyStr: return strRepr(s.value)
        case let n as PyBoxedNumber: return try repr(n.number)
        case let l as PyList:
            return try guardRecursion(o, "[...]") { "[" + (try l.snapshot.map { try repr($0) }.joined(separator: ", ")) + "]" }
        case let t as PyTuple:
            if let (name, fields) = structSequenceLayout(t.type), fields.count == t.items.count {
                return name + "(" + (try zip(fields, t.items).map { "\($0)=\(try repr($1))" }.joined(separator: ", ")) + ")"
            }
            return try guardRecursion(o, "(...)") {
                t.items.count == 1 ? "(" + (try repr(t.items[0])) + ",)"
                                   : "(" + (try t.items.map { try repr($0) }.joined(separator: ", ")) + ")"
            }
        case let d as PyDict:
            return try guardRecursion(o, "{...}") {
                "{" + (try d.pairs.map { try repr($0.0) + ": " + repr($0.1) }.joined(separator: ", ")) + "}"
            }
        case let s as PySet:
            let name = s.type.name
            if s.count == 0 { return name + "()" }
            return try guardRecursion(o, name + "(...)") {
                let body = "{" + (try s.elements.map { try repr($0) }.joined(separator: ", ")) + "}"
                return s.isFrozen || s.type !== Types.set ? "\(name)(\(body))" : body
            }
        case let r as PyRange:
            return r.step == 1 ? "range(\(r.start), \(r.stop))" : "range(\(r.start), \(r.stop), \(r.step))"
        case let b as PyBytes:
            return b.isMutable ? bytearrayRepr(b.snapshot, typeName: b.type.name) : bytesRepr(b.snapshot)
        case let s as PySlice:
            return "slice(\(try repr(s.start)), \(try repr(s.stop)), \(try repr(s.step)))"
        case let t as PyType:
            return t.module == "builtins" ? "<class '\(t.name)'>" : "<class '\(t.module).\(t.qualname)'>"
        case let f as PyFunction: return "<function \(f.qualname) at \(address(o))>"
        case let f as PyBuiltinFunction: return "<built-in function \(f.name)>"
        case let m as PyBoundBuiltin:
            return "<built-in method \(m.descriptor.name) of \(m.receiver.typeName) object at \(address(m.receiver.object ?? o))>"
        case let m as PyMethodDescriptor: return "<method '\(m.name)' of '\(m.owner.name)' objects>"
        case let m as PyMemberDescriptor: return "<member '\(m.name)' of '\(m.owner.messageName)' objects>"
        case let p as PyNativeProperty: return "<attribute '\(p.name)' of '\(p.owner.messageName)' objects>"
        case let m as PyBoundMethod:
            // A builtin class method bound to its class (`dict.fromkeys`), as CPython shows it.
            if let b = m.function.object as? PyBuiltinFunction {
                return "<built-in method \(b.name) of \(m.receiver.typeName) object at \(address(m.receiver.object ?? o))>"
            }
            let fname = try (m.function.object as? PyFunction)?.qualname
                ?? (getAttrOrNil(m.function, "__qualname__") ?? getAttrOrNil(m.function, "__name__"))?.asStr?.value ?? "?"
            return "<bound method \(fname) of \(try repr(m.receiver))>"
        case let m as PyModule:
            if engine.isBuiltinModule(m.name) { return "<module '\(m.name)' (built-in)>" }
            // A module loaded from a file names it, as CPython's do.
            if let file = m.globals.get("__file__")?.asStr?.value { return "<module '\(m.name)' from '\(file)'>" }
            return "<module '\(m.name)'>"
        case let s as PyStaticMethod where o.typeIsBuiltin: return "<staticmethod(\(try repr(s.function)))>"
        case let c as PyClassMethod where o.typeIsBuiltin: return "<classmethod(\(try repr(c.function)))>"
        case let s as PySuper:
            // CPython's: the class given, and the type of the object (not its repr).
            let bound = s.object.isNone ? "NULL" : "<\(((s.object.object as? PyType) ?? s.object.type).name) object>"
            return "<super: <class '\(s.start.name)'>, \(bound)>"
        case let s as PyObjectSingleton: return s.repr
        case let union as PyUnion: return try union.repr(self)
        case let alias as PyGenericAlias: return try alias.repr(self)
        case let e as PyBaseException where e.type.lookup("__repr__").map { isNativeSlot($0, "__repr__") } ?? true:
            let inner = e.args.count == 1 ? try repr(e.args[0]) : try e.args.map { try repr($0) }.joined(separator: ", ")
            return "\(e.type.name)(\(inner))"
        case is PyInstance:
            if let m = lookupSpecial(v, "__repr__"), !(o.type.lookup("__repr__").map { isNativeSlot($0, "__repr__") } ?? true) {
                // No "..." guard here: as in CPython, a __repr__ that calls itself recurses
                // (to RecursionError); only containers show themselves as [...].
                return try stringResult(try call(m, []), "__repr__")
            }
            return "<\(qualifiedTypeName(o.type)) object at \(address(o))>"
        case is PyGenerator:
            return "<\(o.type.name) object \((o as! PyGenerator).qualname) at \(address(o))>"
        case let c as Cell:
            let v = c.value
            if v.isUnbound { return "<cell at \(address(o)): empty>" }
            return "<cell at \(address(o)): \(v.type.name) object at 0x\(String(UInt(bitPattern: try identity(v)), radix: 16))>"
        case let p as PyDictView: return try dictViewRepr(p)
        case let h as PyUnitHandle: return h.repr
        case let f as PyFile: return f.reprText
        default:
            // A native type with its own __repr__ (the primitives, re.Match).
            if case .obj(let m)? = o.type.lookup("__repr__"), let d = m as? PyMethodDescriptor, d.owner !== Types.object {
                return try stringResult(try d.fn(self, v, Args()), "__repr__")
            }
            return "<\(o.type.messageName) object at \(address(o))>"
        }
    }

    /// A stable fake address for default reprs (`0x7f…`), derived from the object's identity.
    /// `id(v)`: an object's address; for an int, float, bool or None (not objects in
    /// Conc), a number made from the value, the same for equal values.
    func identity(_ v: Value) throws -> Int {
        if case .obj(let o) = v { return objectID(o) }
        return try hash(v) &* 32 &+ 0x7f00_0000_0000
    }

    func address(_ o: PyObject) -> String {
        "0x" + String(UInt(bitPattern: objectID(o)), radix: 16)
    }

    /// Runs `body` unless `o` is already being repr'd further up (self-containing lists).
    func guardRecursion(_ o: PyObject, _ placeholder: String, _ body: () throws -> String) throws -> String {
        let id = ObjectIdentifier(o)
        if reprInProgress.contains(id) { return placeholder }
        reprInProgress.insert(id)  // (the nesting depth is counted by repr itself)
        defer { reprInProgress.remove(id) }
        return try body()
    }
}

extension String {
    func leftPadded(to n: Int, with c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}

/// `module.Qualname` as default reprs name a class (`__main__.Point`); a builtin's bare name
/// (`<object object at ...>`).
func qualifiedTypeName(_ t: PyType) -> String {
    t.module == "builtins" ? t.qualname : "\(t.module).\(t.qualname)"
}
