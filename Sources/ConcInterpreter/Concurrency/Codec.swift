// The value codec of `queue()`: items travel between units as bytes, so the receiver gets
// a copy (message passing), whichever kind of unit (thread, process, green thread) it is.
// Containers keep their sharing and cycles; classes, functions and primitives travel as
// references (by address inside one process, by module and name across processes).
import CConcShared
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

/// Tags of the encoding (one byte each).
private enum Tag: UInt8 {
    case none = 0, false_, true_, int, float, str, bytes, bytearray
    case list, tuple, dict, set, frozenset, backref, instance, exception
    case classRef, functionRef, builtinRef, moduleRef, primitive, range, boundMethod, ellipsis
    case subclassed, slice, enumMember
}

/// Encodes values for a queue; `TypeError` for what cannot be copied (files, handles,
/// generators...), raised in the sender at put time.
struct ValueEncoder {
    var bytes: [UInt8] = []
    private var memo: [ObjectIdentifier: UInt32] = [:]
    private var memoCount: UInt32 = 0
    let unit: Unit

    init(_ u: Unit) { unit = u; bytes.reserveCapacity(32) }

    private mutating func tag(_ t: Tag) { bytes.append(t.rawValue) }
    private mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    private mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    private mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { b in u32(UInt32(b.count)); bytes.append(contentsOf: b) }
    }
    /// Registers a container; false when it was seen before (a back-reference was written).
    private mutating func remember(_ o: PyObject) -> Bool {
        let id = ObjectIdentifier(o)
        if let i = memo[id] { tag(.backref); u32(i); return false }
        memo[id] = memoCount
        memoCount += 1
        return true
    }
    /// A same-process reference: the object's address, retained until the receiver takes it.
    private mutating func reference(_ o: PyObject) {
        u64(UInt64(getpid()))
        u64(UInt64(UInt(bitPattern: Unmanaged.passRetained(o).toOpaque())))
    }

    mutating func encode(_ v: Value) throws {
        switch v {
        case .none: tag(.none)
        case .bool(let b): tag(b ? .true_ : .false_)
        case .int(let i): tag(.int); u64(UInt64(bitPattern: Int64(i)))
        case .float(let d): tag(.float); u64(d.bitPattern)
        case .unbound: tag(.none)
        case .obj(let o): try encodeObject(o)
        }
    }

    private mutating func encodeObject(_ o: PyObject, asBase: Bool = false) throws {
        // An instance of a class deriving from str, tuple, list, dict or set (a namedtuple,
        // a Counter, an OrderedDict) keeps its class, as pickling keeps it: the class, the
        // builtin content, then its attributes.
        if !asBase, o.extendsBuiltinType, o is PyStr || o is PyTuple || o is PyList || o is PyDict || o is PySet {
            tag(.subclassed); try encodeClass(o.type)
            try encodeObject(o, asBase: true)
            if let sub = o as? SubclassAttributes, let attributes = sub.subclassAttributes {
                try encode(.obj(attributes))
            } else {
                tag(.none)
            }
            return
        }
        switch o {
        case let s as PyStr: tag(.str); string(s.value)
        case let b as PyBytes:
            let data = b.snapshot
            tag(b.isMutable ? .bytearray : .bytes); u32(UInt32(data.count)); bytes.append(contentsOf: data)
        case let t as PyTuple:
            tag(.tuple); u32(UInt32(t.items.count))
            try unit.enterNested(" while copying a queue item"); defer { unit.leaveNested() }
            for x in t.items { try encode(x) }
        case let l as PyList:
            guard remember(l) else { return }
            let items = l.snapshot
            tag(.list); u32(UInt32(items.count))
            try unit.enterNested(" while copying a queue item"); defer { unit.leaveNested() }
            for x in items { try encode(x) }
        case let d as PyDict:
            guard remember(d) else { return }
            let pairs = d.pairs
            tag(.dict); u32(UInt32(pairs.count))
            try unit.enterNested(" while copying a queue item"); defer { unit.leaveNested() }
            for (k, x) in pairs { try encode(k); try encode(x) }
        case let s as PySet:
            guard remember(s) else { return }
            let elements = s.elements
            tag(s.isFrozen ? .frozenset : .set); u32(UInt32(elements.count))
            try unit.enterNested(" while copying a queue item"); defer { unit.leaveNested() }
            for x in elements { try encode(x) }
        case let r as PyRange: tag(.range); u64(UInt64(bitPattern: Int64(r.start))); u64(UInt64(bitPattern: Int64(r.stop))); u64(UInt64(bitPattern: Int64(r.step)))
        case let s as PySlice: tag(.slice); try encode(s.start); try encode(s.stop); try encode(s.step)
        case let p as PySharedPrimitive:
            // threading's and queue's primitives are this process's own (CPython cannot
            // pickle them either: they all come down to a _thread lock).
            if p.isPrivate {
                throw typeError("cannot pickle '_thread.\((p as? PyLock)?.reentrant == true ? "RLock" : "lock")' object")
            }
            p.sentInQueue.store(true, ordering: .relaxed)
            conc_prim_retain(p.prim)
            tag(.primitive); reference(p)
            u64(UInt64(UInt(bitPattern: UnsafeRawPointer(p.prim))))
            bytes.append((p as? PyLock)?.isThreading == true ? 1 : 0)
        case let t as PyType:
            tag(t.isBuiltin ? .builtinRef : .classRef); reference(t); string(t.module); string(t.qualname)
        case let f as PyFunction: tag(.functionRef); reference(f); string(f.moduleName); string(f.qualname)
        case let f as PyBuiltinFunction:
            // `math.sqrt`, `dict.fromkeys`: found again by module and name, as CPython pickles them.
            tag(.builtinRef); reference(f); string(f.module ?? "builtins"); string(f.ownerName.map { $0 + "." + f.name } ?? f.name)
        case let m as PyBoundBuiltin where m.descriptor.owner.isBuiltin:
            // `"abc".upper`: the receiver and the method, as CPython's (getattr, (obj, name)).
            tag(.boundMethod); try encode(m.receiver); try encode(.obj(m.descriptor))
        case let m as PyMethodDescriptor where m.owner.isBuiltin:
            // `str.upper`: found again through its builtin type, as CPython pickles it.
            tag(.builtinRef); reference(m); string("builtins"); string(m.owner.name + "." + m.name)
        case let m as PyModule: tag(.moduleRef); string(m.name)
        case let m as PyBoundMethod: tag(.boundMethod); try encode(m.receiver); try encode(m.function)
        case is PyObjectSingleton where o === Singletons.ellipsis: tag(.ellipsis)
        case let e as PyBaseException:
            guard remember(e) else { return }
            tag(.exception); try encodeClass(e.type)
            u32(UInt32(e.args.count))
            for x in e.args { try encode(x) }
            try encodeAttributes(e)
            encodeTraceback(e.traceback)
        case let i as PyInstance where type(of: i) == PyInstance.self && isEnumMember(i):
            // As pickle does (Enum.__reduce_ex__): the class and the value, so the copy is
            // the receiver's own member (`got is Color.RED`), not a second object.
            tag(.enumMember); try encodeClass(i.type); try encode(i.instanceAttribute("_value_") ?? .none)
        case let i as PyInstance where type(of: i) == PyInstance.self:
            guard remember(i) else { return }
            tag(.instance); try encodeClass(i.type)
            try unit.enterNested(" while copying a queue item"); defer { unit.leaveNested() }
            try encodeAttributes(i)
        default:
            throw typeError("cannot put a '\(o.type.name)' object in a queue(): items travel as copies, and only numbers, strings, bytes, containers, instances, functions, classes and the synchronisation primitives can be copied")
        }
    }

    private mutating func encodeClass(_ t: PyType) throws { try encode(.obj(t)) }

    /// A member of an Enum class (the enum module's classes keep `_member_map_`).
    private func isEnumMember(_ i: PyInstance) -> Bool {
        i.type.lookup("_member_map_") != nil && i.instanceAttribute("_value_") != nil
    }

    /// The traceback travels with the exception (file names, spans, markers and the source
    /// lines shown), so a re-raise in another process prints the unit's frames.
    private mutating func encodeTraceback(_ entries: [TracebackEntry]) {
        u32(UInt32(entries.count))
        for t in entries {
            string(t.file.name)
            string(t.function)
            for n in [t.loc.line, t.loc.col, t.loc.endLine, t.loc.endCol] { u64(UInt64(bitPattern: Int64(n))) }
            switch t.marker {
            case .span: bytes.append(0); u64(0); u64(0)
            case .statement: bytes.append(1); u64(0); u64(0)
            case .binary(let a, let b): bytes.append(2); u64(UInt64(bitPattern: Int64(a))); u64(UInt64(bitPattern: Int64(b)))
            case .subscript(let a, let b): bytes.append(3); u64(UInt64(bitPattern: Int64(a))); u64(UInt64(bitPattern: Int64(b)))
            }
            let first = max(1, t.loc.line), last = max(first, t.loc.endLine)
            u32(UInt32(last - first + 1))
            for n in first...last { string(t.file.linesInTracebacks ? t.file.line(n) : "") }
        }
    }

    private mutating func encodeAttributes(_ i: PyInstance) throws {
        // A consistent snapshot: shape and slots under the instance's lock, encoded after.
        let (names, values) = i.locked { (i.shape.names, i.slotValues) }
        u32(UInt32(names.count))
        for (k, name) in names.enumerated() { string(name); try encode(values[k]) }
    }
}

/// Decodes what ``ValueEncoder`` wrote.
struct ValueDecoder {
    let bytes: UnsafeRawBufferPointer
    var at = 0
    private var memo: [PyObject] = []
    let unit: Unit

    init(_ b: UnsafeRawBufferPointer, _ u: Unit) { bytes = b; unit = u }

    private mutating func u8() -> UInt8 { defer { at += 1 }; return bytes[at] }
    private mutating func u32() -> UInt32 {
        var v: UInt32 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[at..<at + 4])) }
        at += 4
        return UInt32(littleEndian: v)
    }
    private mutating func u64() -> UInt64 {
        var v: UInt64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[at..<at + 8])) }
        at += 8
        return UInt64(littleEndian: v)
    }
    private mutating func string() -> String {
        let n = Int(u32())
        defer { at += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[at..<at + n]), as: UTF8.self)
    }
    /// A reference written by the encoder: the object itself when in the same process.
    private mutating func reference() -> PyObject? {
        let pid = u64()
        let address = UInt(u64())
        guard pid == UInt64(getpid()), let raw = UnsafeRawPointer(bitPattern: address) else { return nil }
        return Unmanaged<PyObject>.fromOpaque(raw).takeRetainedValue()
    }
    /// Looks `qualname` up in module `module` (for references from another process).
    private func lookup(_ module: String, _ qualname: String) throws -> Value {
        var v: Value
        if module == "builtins", let b = unit.engine.builtins[qualname] { return b }
        if let m = unit.engine.modules[module] { v = .obj(m) } else { v = try unit.engine.importModule(module, unit) }
        for part in qualname.split(separator: ".") {
            guard let next = try unit.getAttrOrNil(v, String(part)) else {
                throw pyError(Exc.attributeError, "Can't get attribute '\(qualname)' on module '\(module)' for a queue item")
            }
            v = next
        }
        return v
    }

    mutating func decode() throws -> Value {
        guard let t = Tag(rawValue: u8()) else { throw runtimeError("corrupt queue item") }
        switch t {
        case .none: return .none
        case .false_: return .bool(false)
        case .true_: return .bool(true)
        case .int: return .int(Int(Int64(bitPattern: u64())))
        case .float: return .float(Double(bitPattern: u64()))
        case .str: return .str(string())
        case .bytes, .bytearray:
            let n = Int(u32())
            defer { at += n }
            return .obj(PyBytes(Array(UnsafeRawBufferPointer(rebasing: bytes[at..<at + n])), mutable: t == .bytearray))
        case .tuple:
            let n = Int(u32())
            var items: [Value] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try decode()) }
            return .obj(PyTuple(items))
        case .list:
            let n = Int(u32())
            let l = PyList([])
            memo.append(l)
            l.withItems { $0.reserveCapacity(n) }
            for _ in 0..<n { l.append(try decode()) }
            return .obj(l)
        case .dict:
            let n = Int(u32())
            let d = PyDict()
            memo.append(d)
            for _ in 0..<n { let k = try decode(); try d.set(unit, k, try decode()) }
            return .obj(d)
        case .set, .frozenset:
            let n = Int(u32())
            let s = PySet(frozen: t == .frozenset)
            memo.append(s)
            for _ in 0..<n { try s.add(unit, try decode()) }
            return .obj(s)
        case .backref: return .obj(memo[Int(u32())])
        case .range:
            let a = Int(Int64(bitPattern: u64())), b = Int(Int64(bitPattern: u64())), c = Int(Int64(bitPattern: u64()))
            return .obj(PyRange(a, b, c))
        case .slice:
            let start = try decode(), stop = try decode()
            return .obj(PySlice(start, stop, try decode()))
        case .enumMember:
            let cls = try decode()
            return try unit.call(cls, [try decode()])  // Color(1) is Color.RED
        case .ellipsis: return .obj(Singletons.ellipsis)
        case .classRef, .functionRef, .builtinRef:
            let same = reference()
            let module = string(), qualname = string()
            if let o = same { return .obj(o) }
            let found = try lookup(module, qualname)
            // A classmethod's function is found through its class as a bound method: the
            // function itself is what was sent (a bound method's receiver travels apart).
            if t == .functionRef, case .obj(let o) = found, let m = o as? PyBoundMethod { return m.function }
            return found
        case .moduleRef: return try unit.engine.importModule(string(), unit)
        case .boundMethod:
            let receiver = try decode()
            let function = try decode()
            if case .obj(let o) = function, let d = o as? PyMethodDescriptor { return .obj(PyBoundBuiltin(receiver, d)) }
            // A class function found again by name (`dict.fromkeys`) comes back bound to its
            // class: bind the function itself to the receiver sent.
            if case .obj(let o) = function, let b = o as? PyBoundMethod { return .obj(PyBoundMethod(receiver, b.function)) }
            return .obj(PyBoundMethod(receiver, function))
        case .primitive:
            let same = reference()
            let raw = OpaquePointer(bitPattern: UInt(u64()))!
            let isThreading = u8() != 0
            if let o = same { conc_prim_release(raw); return .obj(o) }
            return .obj(try adoptPrimitive(raw, isThreading: isThreading))
        case .exception:
            guard case .obj(let o) = try decode(), let cls = o as? PyType else { throw runtimeError("corrupt queue item") }
            let e = PyBaseException(type: cls, args: [])
            memo.append(e)
            let n = Int(u32())
            var args: [Value] = []
            for _ in 0..<n { args.append(try decode()) }
            e.args = args
            try decodeAttributes(e)
            e.traceback = decodeTraceback()
            return .obj(e)
        case .subclassed:
            guard case .obj(let c) = try decode(), let cls = c as? PyType, case .obj(let base) = try decode() else {
                throw runtimeError("corrupt queue item")
            }
            let made: PyObject
            switch base {
            case let s as PyStr: made = PyStr(s.value, type: cls)
            case let t as PyTuple: made = PyTuple(t.items, type: cls)
            case let l as PyList: made = PyList(l.snapshot, type: cls)
            case let d as PyDict:
                let copy = PyDict(type: cls)
                for (k, v) in d.pairs { try copy.set(unit, k, v) }
                made = copy
            case let s as PySet:
                let copy = PySet(frozen: s.isFrozen, type: cls)
                for e in s.elements { try copy.add(unit, e) }
                made = copy
            default: throw runtimeError("corrupt queue item")
            }
            if case .obj(let a) = try decode(), let attributes = a as? PyDict, let sub = made as? SubclassAttributes {
                sub.subclassAttributes = attributes
            }
            return .obj(made)
        case .instance:
            guard case .obj(let o) = try decode(), let cls = o as? PyType else { throw runtimeError("corrupt queue item") }
            let i = PyInstance(cls: cls)
            memo.append(i)
            try decodeAttributes(i)
            return .obj(i)
        }
    }

    private mutating func decodeTraceback() -> [TracebackEntry] {
        let n = Int(u32())
        var entries: [TracebackEntry] = []
        for _ in 0..<n {
            let file = string(), function = string()
            let line = Int(Int64(bitPattern: u64())), col = Int(Int64(bitPattern: u64()))
            let endLine = Int(Int64(bitPattern: u64())), endCol = Int(Int64(bitPattern: u64()))
            let kind = u8()
            let a = Int(Int64(bitPattern: u64())), b = Int(Int64(bitPattern: u64()))
            let count = Int(u32())
            var lines: [String] = []
            for _ in 0..<count { lines.append(string()) }
            // A stand-in source file holding just the lines the entry shows, where they were.
            let text = String(repeating: "\n", count: max(0, line - 1)) + lines.joined(separator: "\n")
            var entry = TracebackEntry(file: SourceFile(name: file, text: text), function: function,
                                       loc: SourceLoc(line: line, col: col, endLine: endLine, endCol: endCol))
            switch kind {
            case 1: entry.marker = .statement
            case 2: entry.marker = .binary(leftEnd: a, rightStart: b)
            case 3: entry.marker = .subscript(valueEnd: a, indexEnd: b)
            default: entry.marker = .span
            }
            entries.append(entry)
        }
        return entries
    }

    private mutating func decodeAttributes(_ i: PyInstance) throws {
        let n = Int(u32())
        for _ in 0..<n { let name = string(); i.setInstanceAttribute(name, try decode()) }
    }

    /// A wrapper for a primitive that arrived from another process (the encoder's
    /// reference becomes the wrapper's).
    private func adoptPrimitive(_ p: OpaquePointer, isThreading: Bool) throws -> PyObject {
        var buf = [CChar](repeating: 0, count: Int(CONC_WHERE_LEN))
        conc_prim_created_at(p, &buf, buf.count)
        let created = String(cString: buf)
        return try PySharedPrimitive.adopt(p, unit: unit, createdAt: created, isThreading: isThreading)
    }
}
