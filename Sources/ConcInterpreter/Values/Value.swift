// The one value type of the evaluator. Small scalars are stored inline: ints, floats,
// bools and None cost no allocation and no reference counting.

/// A Conc value.
///
/// `unbound` is internal: it marks an unassigned local, global or cell and never reaches a
/// Conc program (loading it raises NameError/UnboundLocalError).
public enum Value {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case obj(PyObject)
    case unbound

    /// (The empty str is one shared, immortal object, as in CPython: strip, split and
    /// slicing make many.)
    @inline(__always) static func str(_ s: String) -> Value { s.isEmpty ? .obj(PyStr.empty) : .obj(PyStr(s)) }
    /// A str of `scalarCount` scalars (see ``PyStr/init(_:scalarCount:)``).
    @inline(__always) static func str(_ s: String, scalarCount: Int) -> Value {
        scalarCount == 0 ? .obj(PyStr.empty) : .obj(PyStr(s, scalarCount: scalarCount))
    }

    /// The object behind this value, boxing scalars is never needed: callers switch first.
    @inline(__always) var object: PyObject? {
        if case .obj(let o) = self { return o }
        return nil
    }

    @inline(__always) var isNone: Bool { if case .none = self { return true }; return false }
    @inline(__always) var isUnbound: Bool { if case .unbound = self { return true }; return false }

    /// The Conc type of this value.
    var type: PyType {
        switch self {
        case .none: return Types.noneType
        case .bool: return Types.bool
        case .int: return Types.int
        case .float: return Types.float
        case .obj(let o): return o.type
        case .unbound: return Types.noneType
        }
    }

    /// The type's name as error messages print it (`'int'`, `'Foo'`).
    var typeName: String { type.messageName }
    /// The type name in CPython's argument-checking messages ("argument 1 must be str, not
    /// None"): None is named as itself there.
    var argTypeName: String { isNone ? "None" : type.name }

    @inline(__always) var asStr: PyStr? { if case .obj(let o) = self { return o as? PyStr }; return nil }
    @inline(__always) var asStringValue: String? { asStr?.value }
}

extension Value {
    /// An int, bool or float as a Double (`1 == 1.0 == True`), or nil.
    @inline(__always) var numericDouble: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
    /// An int or bool as an Int, or nil.
    @inline(__always) var intLike: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
}

/// Identity: `is`. Scalars compare by value (CPython caches small ints; Conc makes every
/// int/float/bool identical to an equal one of the same type, which is what learners expect).
func isSame(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.none, .none), (.unbound, .unbound): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.float(let x), .float(let y)): return x.bitPattern == y.bitPattern
    case (.obj(let x), .obj(let y)): return x === y
    default: return false
    }
}

extension Value {
    /// The object of an `.obj` value, unretained (nil for the others): valid while this
    /// value is. Read in place through a pointer, so it costs no retain: binding
    /// `case .obj(let o)` copies the object (a retain and a release) whenever a call the
    /// compiler cannot see follows while `o` is in use, even for a borrowed value.
    @inline(__always) var unretainedObject: Unmanaged<PyObject>? {
        withUnsafePointer(to: self) { p in
            if case .obj(let o) = p.pointee { return .passUnretained(o) }
            return nil
        }
    }
}

extension UnsafeMutablePointer where Pointee == Value {
    /// Deinitialises the first `count` values one at a time. `deinitialize(count:)` goes
    /// through the runtime's generic array destruction (`swift_arrayDestroy`, a witness
    /// call per element), which was a twentieth of the time of call-heavy programs when
    /// calls release their local slots.
    /// Only objects need a release, so the others are skipped without a call.
    @inline(__always) func destroyValues(_ count: Int) {
        for i in 0..<count {
            if case .obj = self[i] { (self + i).deinitialize(count: 1) }
        }
    }
}
