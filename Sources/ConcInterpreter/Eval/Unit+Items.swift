// Subscription: `x[i]`, `x[i] = v`, `del x[i]` for every builtin container and user classes.
import ConcSyntax

extension Unit {
    /// `container[index]`.
    /// A special method a user subclass of a builtin container defines in Conc (so that
    /// `L()[0]` calls `L.__getitem__`), bound to `v`; nil when only the builtin one exists.
    func userMethod(_ v: Value, _ name: String) -> Value? {
        guard let m = v.type.lookup(name), case .obj(let f) = m, f is PyFunction else { return nil }
        return bindClassAttribute(m, to: v)
    }

    func getItem(_ container: Value, _ index: Value) throws -> Value {
        if case .obj(let o) = container {
            // A subclass of str, tuple, dict... may define its own __getitem__.
            if o.extendsBuiltinType, !(o is PyList), let m = userMethod(container, "__getitem__") { return try call(m, [index]) }
            switch o {
            case let l as PyList:
                if !l.typeIsBuiltin, let m = userMethod(container, "__getitem__") { return try call(m, [index]) }
                if case .int(let i) = index {
                    guard let v = l.item(normalizing: i) else { throw indexError("list index out of range") }
                    return v
                }
                return try listGetItem(l, index, self)
            case let d as PyDict:
                if !d.typeIsBuiltin, let m = userMethod(container, "__getitem__") { return try call(m, [index]) }
                if let v = try d.get(self, index) { return v }
                if d.type !== Types.dict, let m = lookupSpecial(container, "__missing__") { return try call(m, [index]) }
                throw PyBaseException(type: Exc.keyError, args: [index])
            case let t as PyTuple: return try tupleGetItem(t, index, self)
            case let s as PyStr: return try strGetItem(s, index, self)
            case let r as PyRange: return try rangeGetItem(r, index, self)
            case let b as PyBytes: return try bytesGetItem(b, index, self)
            case is PyInstance:
                if let m = lookupSpecial(container, "__getitem__") { return try call(m, [index]) }
            case let t as PyType:
                if let m = t.lookup("__class_getitem__") { return try call(bindClassAttribute(m, to: container), [index]) }
                // list[int] and friends (and their subclasses'), as type hints: a
                // types.GenericAlias. Other builtin types are not generic.
                if t.mro.contains(where: { Self.genericBuiltins.contains(ObjectIdentifier($0)) }) {
                    return .obj(PyGenericAlias(origin: container, index: index))
                }
                throw typeError("type '\(t.name)' is not subscriptable")
            default:
                // A native type with its own __getitem__ (re.Match).
                if o.typeIsBuiltin, let m = lookupSpecial(container, "__getitem__") { return try call(m, [index]) }
            }
        }
        throw typeError("'\(container.typeName)' object is not subscriptable")
    }

    /// The builtin types CPython 3.11 gives `__class_getitem__` (PEP 585).
    static let genericBuiltins: Set<ObjectIdentifier> = Set([Types.list, Types.tuple, Types.dict, Types.set,
                                                             Types.frozenset, Types.type, Types.mappingProxy].map(ObjectIdentifier.init))

    /// `container[index] = value`.
    func setItem(_ container: Value, _ index: Value, _ value: Value) throws {
        if case .obj(let o) = container {
            switch o {
            case let l as PyList:
                if !l.typeIsBuiltin, let m = userMethod(container, "__setitem__") { _ = try call(m, [index, value]); return }
                if case .int(let i) = index {
                    guard l.setItem(normalizing: i, value) != nil else {
                        throw indexError("list assignment index out of range")
                    }
                    return
                }
                return try listSetItem(l, index, value, self)
            case let d as PyDict:
                if !d.typeIsBuiltin, let m = userMethod(container, "__setitem__") { _ = try call(m, [index, value]); return }
                return try d.set(self, index, value)
            case let b as PyBytes where b.isMutable:
                if case .obj(let io) = index, let sl = io as? PySlice { return try bytearraySetSlice(b, sl, value, self) }
                let i = try toIndex(index)
                guard normalizedIndex(i, b.count) != nil else { throw indexError("bytearray index out of range") }
                let byte = try toIndex(value)
                guard (0...255).contains(byte) else { throw valueError("byte must be in range(0, 256)") }
                // Checked again with the store: another unit may have shrunk it meanwhile.
                let stored = b.withBytes { bytes -> Bool in
                    guard let j = normalizedIndex(i, bytes.count) else { return false }
                    bytes[j] = UInt8(byte)
                    return true
                }
                guard stored else { throw indexError("bytearray index out of range") }
                return
            case is PyInstance:
                if let m = lookupSpecial(container, "__setitem__") { _ = try call(m, [index, value]); return }
                if lookupSpecial(container, "__delitem__") != nil { throw attributeError("__setitem__") }  // (as in deletion)
            default: break
            }
        }
        throw typeError("'\(container.typeName)' object does not support item assignment")
    }

    /// `del container[index]`.
    func delItem(_ container: Value, _ index: Value) throws {
        if case .obj(let o) = container {
            switch o {
            case let l as PyList:
                if !l.typeIsBuiltin, let m = userMethod(container, "__delitem__") { _ = try call(m, [index]); return }
                return try listDelItem(l, index, self)
            case let d as PyDict:
                if !d.typeIsBuiltin, let m = userMethod(container, "__delitem__") { _ = try call(m, [index]); return }
                if try d.remove(self, index) == nil { throw PyBaseException(type: Exc.keyError, args: [index]) }
                return
            case let b as PyBytes where b.isMutable:
                return try bytearrayDelItem(b, index, self)
            case is PyInstance:
                if let m = lookupSpecial(container, "__delitem__") { _ = try call(m, [index]); return }
                // CPython's class has the one slot for both: it looks the method up and fails.
                if lookupSpecial(container, "__setitem__") != nil { throw attributeError("__delitem__") }
            default: break
            }
        }
        // CPython's two wordings: a sequence given an index ("doesn't"; every class the
        // program makes has the sequence slots), anything else.
        if case .obj(let o) = container, o is PyStr || o is PyTuple || o is PyBytes || o is PyRange || o is PySet || o is PyDictView
            || o is PyMappingProxy || !o.typeIsBuiltin,
           (try? indexValue(index, self)) != nil {
            throw typeError("'\(container.typeName)' object doesn't support item deletion")
        }
        throw typeError("'\(container.typeName)' object does not support item deletion")
    }
}

/// `ba[a:b:c] = value` for a bytearray: any bytes-like value or iterable of ints in 0..255
/// (an int is refused, as CPython refuses it); an extended slice takes exactly its size.
func bytearraySetSlice(_ b: PyBytes, _ s: PySlice, _ value: Value, _ u: Unit) throws {
    let new: [UInt8]
    if case .obj(let o) = value, let src = o as? PyBytes {
        new = src.snapshot
    } else if value.intLike != nil || value.asStr != nil {
        throw typeError("can assign only bytes, buffers, or iterables of ints in range(0, 256)")
    } else {
        new = try u.toArray(value).map { v in
            let x = try u.toIndex(v)
            guard (0...255).contains(x) else { throw valueError("byte must be in range(0, 256)") }
            return UInt8(x)
        }
    }
    let (start, stop, step) = try sliceUnpack(s, u)
    let size = b.withBytes { bytes -> Int in
        let r = adjustSlice(start: start, stop: stop, step: step, length: bytes.count)
        if step == 1 {
            bytes.replaceSubrange(r.start..<max(r.start, r.stop), with: new)
            return -1
        }
        guard new.count == r.count else { return r.count }
        var i = r.start
        for x in new { bytes[i] = x; i &+= r.step }
        return -1
    }
    if size >= 0 { throw valueError("attempt to assign bytes of size \(new.count) to extended slice of size \(size)") }
}

/// `del ba[i]` / `del ba[a:b:c]` for a bytearray.
func bytearrayDelItem(_ b: PyBytes, _ index: Value, _ u: Unit) throws {
    if case .obj(let o) = index, let s = o as? PySlice {
        let (start, stop, step) = try sliceUnpack(s, u)
        b.withBytes { bytes in
            let r = adjustSlice(start: start, stop: stop, step: step, length: bytes.count)
            if r.count == 0 { return }
            let doomed = Set(stride(from: r.start, to: r.start + r.count * r.step, by: r.step))
            bytes = bytes.enumerated().filter { !doomed.contains($0.offset) }.map { $0.element }
        }
        return
    }
    let i = try u.toIndex(index)
    let removed = b.withBytes { bytes -> Bool in
        guard let j = normalizedIndex(i, bytes.count) else { return false }
        bytes.remove(at: j)
        return true
    }
    if !removed { throw indexError("bytearray index out of range") }
}
