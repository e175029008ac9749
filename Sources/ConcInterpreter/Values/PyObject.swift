// The root of every heap-allocated Conc value, and the type object that describes them.
import Synchronization
import CConcSys
import Glibc

/// Base class of every Conc object that is not an inline scalar.
///
/// Subclasses add their payload. `typeRef` is fixed at creation for builtin kinds; user
/// instances keep their class there. A nil `typeRef` means the object is a class itself
/// (its type is `type`); a class made by a user metaclass keeps the metaclass there.
// @unchecked Sendable: objects are shared between units by design (LANGUAGE.md §3); builtin
// type objects are immutable after `Types` builds them, and the memory safety of mutable
// objects under free-threaded evaluation is the threads issue's (#4) per-object locking.
open class PyObject: @unchecked Sendable {
    /// The object's class, or nil for class objects whose type is `type` (a class made by
    /// a metaclass keeps the metaclass here).
    /// Set at creation; changes only by `obj.__class__ = C` on an instance of a user class
    /// (``PyInstance/changeClass(to:)``), a single word a racing reader sees whole.
    /// Unmanaged: every class is immortal (``PyType/init``), so counting references to it
    /// would only cost a retain or release at each `type` read and at every deallocation.
    /// (An `unowned(unsafe)` field is retained again whenever it is loaded into a local;
    /// an `Unmanaged` lets identity tests such as ``hasType(_:)`` compare bits only.)
    private var typeBits: Unmanaged<PyType>?
    public final var typeRef: PyType? { typeBits?.takeUnretainedValue() }
    /// The class's address, for identity tests that retain nothing; nil for classes.
    @inline(__always) final var typeAddress: UnsafeMutableRawPointer? { typeBits?.toOpaque() }

    init(type: PyType?) { self.typeBits = type.map { Unmanaged.passUnretained($0) } }
    /// `obj.__class__ = t` for an instance of a user subclass of a builtin container (whose
    /// layout the caller checked); an instance of a plain class goes through
    /// ``PyInstance/changeClass(to:)``, which also moves its attributes to `t`'s shapes.
    final func changeType(to t: PyType) { typeBits = .passUnretained(t) }
    /// An object of the (immortal) class `typeBits`, passed without reference counting.
    init(typeBits: Unmanaged<PyType>) { self.typeBits = typeBits }

    /// The object's Conc class.
    public final var type: PyType { typeRef ?? Types.type }

    /// True when the object's class is a builtin one (a class object's class is `type`):
    /// `type.isBuiltin` without the retain and release that reading `type` costs.
    @inline(__always) final var typeIsBuiltin: Bool {
        guard let t = typeBits else { return true }
        return t._withUnsafeGuaranteedRef { $0.isBuiltin }
    }

    /// `self as? PyInstance` without the runtime's cast walk: an instance of a user class
    /// is recognised by its exact Swift class (one pointer compare), and the only subclass,
    /// the final `PyBaseException`, by another. Attribute and method nodes ask this of every
    /// receiver.
    @inline(__always) final var asInstance: PyInstance? {
        if ObjectIdentifier(Swift.type(of: self)) == ObjectIdentifier(PyInstance.self) {
            return unsafeDowncast(self, to: PyInstance.self)
        }
        return self as? PyBaseException
    }

    /// True for a str object (of `str` or a subclass): its exact Swift class, one compare.
    @inline(__always) final var isStrObject: Bool {
        ObjectIdentifier(Swift.type(of: self)) == ObjectIdentifier(PyStr.self)
    }

    /// True for an instance of a user class that is not an exception (exceptions keep some
    /// attributes outside the slots).
    @inline(__always) final var isPlainInstance: Bool {
        ObjectIdentifier(Swift.type(of: self)) == ObjectIdentifier(PyInstance.self)
    }

    /// True for an object of a builtin kind (str, list, dict, ...) whose class is a user
    /// subclass (`class Bag(list)`): its class may define special methods that come before
    /// the builtin behaviour. False for instances of user classes, builtin objects, classes.
    @inline(__always) final var extendsBuiltinType: Bool {
        if typeIsBuiltin { return false }
        return isNotAnInstance
    }
    /// Out of line: inlined, the cast in `asInstance` made callers retain the object even
    /// on the common path (a builtin object), where it is never reached.
    @inline(never) private final var isNotAnInstance: Bool { asInstance == nil }

    /// True when the object's class is the one identified by `id` (an identity test that
    /// does not retain the class).
    @inline(__always) final func hasType(_ id: ObjectIdentifier) -> Bool {
        typeAddress == UnsafeMutableRawPointer(bitPattern: Int(bitPattern: id))
    }
}

/// `id(o)`: the object's address, as CPython's (positive, and what default reprs show).
@inline(__always) func objectID(_ o: PyObject) -> Int { Int(bitPattern: UInt(bitPattern: ObjectIdentifier(o))) }

/// The default `hash(o)` of objects compared by identity: CPython's rotation of the address
/// by 4 bits (allocations are 16-byte aligned, so this is `id(o) >> 4`).
@inline(__always) func identityHash(_ o: PyObject) -> Int {
    let a = UInt(bitPattern: ObjectIdentifier(o))
    return Int(bitPattern: (a >> 4) | (a << 60))
}

/// Arguments of a call into native code: positional values and keyword pairs.
///
/// Up to ``inlineCapacity`` positional values made by a call site (``append(_:)``) are kept
/// inline in the struct, so a native call such as `s.strip("x")` or `ord(c)` puts no array
/// on the heap; an `Args` made from an array keeps that array (no copy). Natives read
/// `count` and `a[i]`; ``positional`` gives the values as an array (building one for
/// inline values).
public struct Args {
    /// How many positional values fit inline.
    static let inlineCapacity = 3
    /// Inline positional values 0, 1 and 2 (`.unbound` when not used); unused when `array`
    /// is set.
    private var v0: Value = .unbound, v1: Value = .unbound, v2: Value = .unbound
    /// The positional values, when there are more than fit inline or the Args was made
    /// from an array.
    private var array: [Value]?
    /// Number of positional values.
    public private(set) var count: Int
    public var keywords: [(name: String, value: Value)]

    public init(_ positional: [Value] = [], keywords: [(name: String, value: Value)] = []) {
        self.array = positional
        self.count = positional.count
        self.keywords = keywords
    }

    /// Empty arguments that keep positional values inline as they are appended.
    @inline(__always) init(inline: ()) {
        count = 0
        keywords = []
    }

    /// The positional values as an array.
    public var positional: [Value] {
        get {
            if let array { return array }
            switch count {
            case 0: return []
            case 1: return [v0]
            case 2: return [v0, v1]
            default: return [v0, v1, v2]
            }
        }
        set {
            v0 = .unbound; v1 = .unbound; v2 = .unbound
            array = newValue
            count = newValue.count
        }
    }

    /// Adds a positional value (inline while there is room).
    @inline(__always) mutating func append(_ v: Value) {
        if array == nil {
            switch count {
            case 0: v0 = v; count = 1; return
            case 1: v1 = v; count = 2; return
            case 2: v2 = v; count = 3; return
            default: array = [v0, v1, v2]; v0 = .unbound; v1 = .unbound; v2 = .unbound
            }
        }
        array!.append(v)
        count += 1
    }

    /// Positional value `i`. A native reads only what its arity check let through; past
    /// the end this is None rather than a trap, so a native missing its check raises a
    /// TypeError about None instead of stopping the interpreter.
    @inline(__always) public subscript(i: Int) -> Value {
        if let array { return i >= 0 && i < array.count ? array[i] : .none }
        guard i >= 0 && i < count else { return .none }
        switch i {
        case 0: return v0
        case 1: return v1
        default: return v2
        }
    }

    /// The value of keyword `name`, if given.
    public func keyword(_ name: String) -> Value? {
        for (k, v) in keywords where k == name { return v }
        return nil
    }
}

/// A native function: `len`, `print`, a module function.
public typealias NativeFunction = (Unit, Args) throws -> Value
/// A native method of a builtin type: receives `self` first.
public typealias NativeMethod = (Unit, Value, Args) throws -> Value

// Fixed-arity entry points: a call site with exactly that many plain positional arguments
// (`len(s)`, `s.strip("x")`, `d.get(k, 0)`) calls one of these with its values borrowed,
// instead of packing them into an ``Args`` (whose making and unmaking cost more than most
// of these natives do). A method's receiver is its first value. Each must behave exactly
// as the general entry does for the same arguments.
/// A native taking one value: `len(x)`, or a method's receiver alone (`s.lower()`).
public typealias Native1 = (Unit, Value) throws -> Value
/// A native taking two values: `isinstance(x, t)`, or receiver and one argument.
public typealias Native2 = (Unit, Value, Value) throws -> Value
/// A native taking three values: a method's receiver and two arguments (`d.get(k, 0)`).
public typealias Native3 = (Unit, Value, Value, Value) throws -> Value

/// A builtin function object (`len`, `math.sqrt`), optionally bound to a receiver.
public final class PyBuiltinFunction: PyObject {
    public let name: String
    let fn: NativeFunction
    /// Entry points for calls with exactly one or two plain positional arguments (see
    /// ``Native1``); nil where the function has none.
    let fast1: Native1?
    let fast2: Native2?
    /// The native module defining it (`math`), nil for builtins and helpers; set once when
    /// the module is made, before anything else can see the function. For error messages.
    var module: String?
    /// The builtin type whose class method this is (`dict.fromkeys`), for `__qualname__`;
    /// set once when the type is made, like ``module``.
    var ownerName: String?
    public init(_ name: String, _ fn: @escaping NativeFunction) {
        self.name = name; self.fn = fn; fast1 = nil; fast2 = nil
        super.init(type: Types.builtinFunction)
        Immortal.make(self)
    }
    init(_ name: String, one: Native1?, two: Native2? = nil, _ fn: @escaping NativeFunction) {
        self.name = name; self.fn = fn; fast1 = one; fast2 = two
        super.init(type: Types.builtinFunction)
        Immortal.make(self)
    }
}

/// A method of a builtin type as stored in the type's dict (`list.append`).
public final class PyMethodDescriptor: PyObject {
    public let name: String
    /// The type that defines the method (for `descriptor 'append' for 'list' objects ...`).
    unowned let owner: PyType
    let fn: NativeMethod
    /// Entry points for calls with no, one or two plain positional arguments, taking the
    /// receiver first (see ``Native1``); nil where the method has none.
    let fast0: Native1?
    let fast1: Native2?
    let fast2: Native3?
    init(_ name: String, owner: PyType, noArgs: Native1? = nil, oneArg: Native2? = nil, twoArgs: Native3? = nil,
         _ fn: @escaping NativeMethod) {
        self.name = name; self.owner = owner; self.fn = fn
        fast0 = noArgs; fast1 = oneArg; fast2 = twoArgs
        super.init(type: Types.methodDescriptor)
        // Made once per builtin type and kept by its never-changing namespace; method-call
        // nodes hold it without reference counting (MethodCallNode.builtinMethod).
        Immortal.make(self)
    }
}

/// A builtin method bound to its receiver (`[].append`).
public final class PyBoundBuiltin: PyObject {
    let receiver: Value
    let descriptor: PyMethodDescriptor
    init(_ receiver: Value, _ descriptor: PyMethodDescriptor) {
        self.receiver = receiver; self.descriptor = descriptor
        super.init(type: Types.builtinFunction)
    }
}

/// A class: builtin (`int`, `list`, `ValueError`) or defined by a Conc `class` statement.
///
/// Builtin types are created once per process and never change after `Types` builds them.
/// User classes belong to one interpreter; their `dict` changes when the program assigns
/// class attributes, which bumps the engine's `classEpoch` so call-site caches notice.
///
/// Free-threaded evaluation: the namespace, the names and the creation-hook cache are
/// read and written under the type's lock (`locked`); `bases`, `mro`, `isBuiltin` and
/// `rootShape` never change after creation. The namespace of a builtin type never changes
/// after `Types` builds it, so lookups through builtin types take no lock.
public final class PyType: PyObject {
    private var nameStorage: String
    private var qualnameStorage: String
    private var moduleStorage: String
    /// `__name__`.
    public internal(set) var name: String {
        get { locked { nameStorage } }
        set { locked { nameStorage = newValue } }
    }
    /// `__qualname__` for user classes (e.g. `Outer.Inner`).
    var qualname: String {
        get { locked { qualnameStorage } }
        set { locked { qualnameStorage = newValue } }
    }
    /// `__module__`.
    var module: String {
        get { locked { moduleStorage } }
        set { locked { moduleStorage = newValue } }
    }
    /// CPython's `tp_name` where it differs from `__name__` (`re.Match`): the name error
    /// messages print. Set only while ``Types`` builds a builtin type, or by
    /// `_units.stands_for_c` while the stdlib module making the class is imported (before
    /// any other unit can see it); read-only afterwards.
    var messageNameStorage: String? = nil
    /// True when the class body defined `__class__` (a proxy's property): isinstance then
    /// also asks the instance. Set while the class is made, read-only afterwards.
    var definesClassAttribute = false
    /// The name in "'re.Match' object has no attribute 'x'".
    var messageName: String { messageNameStorage ?? name }
    /// Direct bases (`__bases__`), first one is the layout base. Set at creation only.
    let bases: [PyType]
    /// Method resolution order, starting with self. Set at creation only.
    private(set) var mro: [PyType] = []
    /// The class namespace, guarded by the type's lock. Mutated only by class creation and
    /// attribute assignment.
    private var namespace = NameTable<Value>()
    /// The class namespace: reading gives a snapshot (an O(1) copy), and an in-place change
    /// (`t.dict[name] = v`, `t.dict.removeValue(forKey:)`) happens under the type's lock.
    var dict: NameTable<Value> {
        get { isBuiltin ? namespace : locked { namespace } }
        _modify {
            let held = lockForModify()
            defer { unlockAfterModify(held) }
            yield &namespace
        }
    }
    /// The namespace's (name, value) pairs, collected under the type's lock.
    var namespacePairs: [(String, Value)] { locked { namespace.map { ($0, $1) } } }
    /// The namespace's names, collected under the type's lock.
    var namespaceKeys: [String] { locked { Array(namespace.liveKeys) } }
    /// `name` in this type's own namespace (not the MRO).
    @inline(__always) func ownAttribute(_ name: String, hash: Int) -> Value? {
        if isBuiltin { return namespace.get(name, hash: hash) }
        return locked { namespace.get(name, hash: hash) }
    }
    /// True for types built into the interpreter (their attributes cannot be assigned).
    let isBuiltin: Bool
    /// Native constructor: called by `type(args)` instead of object creation + `__init__`.
    /// Written only while builtins are set up (before any thread runs).
    var constructor: ((Unit, PyType, Args) throws -> Value)?
    /// The constructor's entry for exactly one plain positional argument (`str(i)`,
    /// `int(s)`), for this exact type only; like ``constructor``, written only while
    /// builtins are set up.
    var constructor1: Native1?
    /// Cached result of ``creationHooks(_:)`` and the class epoch it is valid in; both
    /// guarded by the type's lock (builtin exception classes' caches are filled at run time).
    var hooks = CreationHooks()
    var hooksEpoch = -1
    /// What attribute access must know of ``creationHooks(_:)`` on every read, without the
    /// type's lock (which units reading attributes in parallel would fight over): the class
    /// epoch it holds for, shifted left 3, | 1 when the class defines `__getattribute__` in
    /// Conc, | 2 when `__slots__` limit its instances, | 4 when it defines `__setattr__`.
    /// Any unit may refresh it.
    let attributeFlags = Atomic<Int>(-1)
    /// The empty attribute layout of this class's instances (made eagerly: a lazy property
    /// initialised by two threads at once would hand out two roots and race on its storage).
    /// Unowned: shapes are immortal, and each instance creation reads it.
    unowned(unsafe) let rootShape: Shape
    /// The builtin type whose object layout instances use (list subclasses make PyList...).
    unowned(unsafe) var layout: PyType? = nil  // points to a builtin type, which lives forever

    /// The classes that name this one as a direct base, in creation order
    /// (`__subclasses__()`); under the type's lock. Classes are immortal, so strong is fine.
    private var directSubclasses: [PyType] = []
    var subclasses: [PyType] { locked { directSubclasses } }

    /// `metaclass`: the user class deriving from `type` that makes this class (its
    /// `type(cls)`); nil for `type` itself.
    init(name: String, bases: [PyType], builtin: Bool, module: String = "builtins", metaclass: PyType? = nil) {
        self.nameStorage = name; self.qualnameStorage = name; self.moduleStorage = module
        self.bases = bases; self.isBuiltin = builtin
        let root = Shape()  // immortal
        self.rootShape = root
        super.init(type: metaclass)
        self.mro = PyType.linearize(self, bases)
        Immortal.make(self)  // every instance creation and method lookup touches its class
        for b in bases { b.locked { b.directSubclasses.append(self) } }
    }

    /// Computes the MRO with C3 linearisation, falling back to depth-first order.
    /// Why no class can have `bases` (CPython's TypeError message), or nil: a base listed
    /// twice, or bases whose orders cannot be merged (C3), as in `class X(A, B)` where B
    /// derives from A.
    static func basesConflict(_ bases: [PyType]) -> String? {
        for (i, b) in bases.enumerated() where bases[..<i].contains(where: { $0 === b }) {
            return "duplicate base class \(b.name)"
        }
        var seqs: [[PyType]] = bases.map { $0.mro } + [bases]
        while true {
            seqs = seqs.filter { !$0.isEmpty }
            if seqs.isEmpty { return nil }
            guard let c = seqs.first(where: { s in !seqs.contains(where: { $0.dropFirst().contains { $0 === s[0] } }) })?[0] else {
                var heads: [PyType] = []
                for s in seqs where !heads.contains(where: { $0 === s[0] }) { heads.append(s[0]) }
                return "Cannot create a consistent method resolution\norder (MRO) for bases "
                    + heads.map { $0.name }.joined(separator: ", ")
            }
            seqs = seqs.map { $0.first === c ? Array($0.dropFirst()) : $0 }
        }
    }

    static func linearize(_ t: PyType, _ bases: [PyType]) -> [PyType] {
        var seqs: [[PyType]] = bases.map { $0.mro } + [bases]
        var result: [PyType] = [t]
        while true {
            seqs = seqs.filter { !$0.isEmpty }
            if seqs.isEmpty { return result }
            var candidate: PyType? = nil
            for s in seqs {
                let head = s[0]
                if !seqs.contains(where: { $0.dropFirst().contains { $0 === head } }) {
                    candidate = head; break
                }
            }
            guard let c = candidate else {
                // inconsistent hierarchy: depth-first without duplicates
                for b in bases { for m in b.mro where !result.contains(where: { $0 === m }) { result.append(m) } }
                return result
            }
            result.append(c)
            seqs = seqs.map { $0.first === c ? Array($0.dropFirst()) : $0 }
        }
    }

    /// Looks `name` up along the MRO.
    @inline(__always) func lookup(_ name: String) -> Value? { lookup(name, hash: nameHash(name)) }

    /// Looks `name` (whose ``nameHash`` is `hash`) up along the MRO.
    @inline(__always) func lookup(_ name: String, hash: Int) -> Value? {
        // One type's lock at a time (never nested): a class assignment racing with the
        // walk is seen or not, as in CPython.
        for t in mro { if let v = t.ownAttribute(name, hash: hash) { return v } }
        return nil
    }

    /// True when `self` is `other` or derives from it.
    @inline(__always) func isSubtype(of other: PyType) -> Bool {
        if self === other { return true }
        for t in mro where t === other { return true }
        return false
    }

    /// Defines a native method in a builtin type's dict, with fixed-arity entry points for
    /// the common argument counts where given.
    func method(_ name: String, noArgs: Native1? = nil, oneArg: Native2? = nil, twoArgs: Native3? = nil,
                _ fn: @escaping NativeMethod) {
        dict[name] = .obj(PyMethodDescriptor(name, owner: self, noArgs: noArgs, oneArg: oneArg, twoArgs: twoArgs, fn))
    }

    /// Defines a native method that takes no arguments (`s.lower()`): `body` serves the
    /// fixed-arity entry, and the general one after checking that nothing was passed
    /// (`str.lower() takes no arguments (1 given)`, with `qualified` = "str.lower").
    func method0(_ name: String, qualified: String, _ body: @escaping Native1) {
        method(name, noArgs: body) { u, v, a in
            try ContainerArgs.none(a, qualified)
            return try body(u, v)
        }
    }

    /// Defines a static native function in the type's dict (e.g. `dict.fromkeys` is a classmethod;
    /// `str.maketrans` is static).
    func staticFunction(_ name: String, _ fn: @escaping NativeFunction) {
        let f = PyBuiltinFunction(name, fn)
        f.ownerName = self.name
        dict[name] = .obj(PyStaticMethod(.obj(f)))
    }

    /// Defines a native class method: `fn` gets the class it was called on (a subclass, for
    /// `D.fromkeys(...)`) as its first argument.
    func classFunction(_ name: String, _ fn: @escaping NativeFunction) {
        let f = PyBuiltinFunction(name, fn)
        f.ownerName = self.name
        dict[name] = .obj(PyClassMethod(.obj(f)))
    }

    /// Defines a read-only computed attribute of instances (e.g. `ValueError().args`).
    func getter(_ name: String, _ fn: @escaping (Unit, Value) throws -> Value) {
        dict[name] = .obj(PyNativeProperty(name, owner: self, fn))
    }
}

/// `staticmethod(f)`.
public final class PyStaticMethod: PyObject {
    /// Fixed by init; `var` only so that deinit releases it in the trashcan's bracket.
    private(set) var function: Value
    init(_ f: Value) { function = f; super.init(type: Types.staticmethod) }
    deinit { Trashcan.releaseFields([function]) { function = .none } }
}

/// `classmethod(f)`.
public final class PyClassMethod: PyObject {
    /// Fixed by init; `var` only so that deinit releases it in the trashcan's bracket.
    private(set) var function: Value
    init(_ f: Value) { function = f; super.init(type: Types.classmethod) }
    deinit { Trashcan.releaseFields([function]) { function = .none } }
}

/// `property(fget, fset, fdel)`, or an instance of a subclass of property.
public final class PyProperty: PyObject, SubclassAttributes {
    /// The accessors. Written by the constructor and by `property.__init__` (a subclass's
    /// `__init__` calling `super().__init__(fget)`), before the property is in a class, so
    /// before any other unit can read it.
    private(set) var getter: Value
    private(set) var setter: Value
    private(set) var deleter: Value
    /// A subclass instance's own attributes (nil for plain properties); under `locked`.
    var subclassAttributes: PyDict?
    /// `__doc__`, which a program may replace (`P.x.__doc__ = ...`); under the object's lock.
    private var docStorage: Value
    var doc: Value {
        get { locked { docStorage } }
        set { locked { docStorage = newValue } }
    }
    /// The class attribute name it was first assigned to (CPython's `__set_name__`), for
    /// "property 'x' of 'C' object has no setter"; under the object's lock.
    private var nameStorage: String?
    var name: String? {
        get { locked { nameStorage } }
        set { locked { if nameStorage == nil { nameStorage = newValue } } }
    }
    init(get: Value, set: Value, delete: Value, doc: Value = .none, type: PyType = Types.property) {
        getter = get; setter = set; deleter = delete; docStorage = doc
        super.init(type: type)
    }
    deinit {
        Trashcan.releaseFields([getter, setter, deleter, docStorage]) {
            getter = .none; setter = .none; deleter = .none; docStorage = .none
        }
    }
    /// `property.__init__`.
    func initialize(get: Value, set: Value, delete: Value, doc: Value) {
        getter = get; setter = set; deleter = delete
        self.doc = doc
    }
    /// True when attribute access may call the accessors directly: a plain property, or a
    /// subclass that leaves `__get__`, `__set__` and `__delete__` to property. Otherwise the
    /// subclass's own methods run, as for any descriptor (``UserDescriptor``).
    var isPlainDescriptor: Bool {
        if type === Types.property { return true }
        for name in ["__get__", "__set__", "__delete__"] {
            if case .obj(let f)? = type.lookup(name), f is PyFunction { return false }
        }
        return true
    }
    /// An explicit `__set_name__` call names the property again.
    func rename(_ newName: String?) { locked { nameStorage = newName } }
    /// CPython's "property 'x' of 'C' object has no setter" (`what`: getter, setter or
    /// deleter): the name only when class creation or __set_name__ gave one, and the
    /// qualified name of the object's class.
    func missing(_ what: String, of v: Value) -> PyBaseException {
        attributeError("property \(name.map { "'\($0)' " } ?? "")of '\(v.type.qualname)' object has no \(what)")
    }
}

/// A read-only attribute of a builtin type implemented natively.
/// A native descriptor of one attribute, named and owned by a class (getset and member
/// descriptors): its `__name__`, `__qualname__` and `__objclass__` come from here.
protocol NamedAttributeDescriptor: PyObject {
    var name: String { get }
    var owner: PyType { get }
}

final class PyNativeProperty: PyObject, NamedAttributeDescriptor {
    let name: String
    let get: (Unit, Value) throws -> Value
    /// The class whose instances have the attribute (`__objclass__`, and the repr's
    /// `<attribute '__dict__' of 'C' objects>`). Set once when the class is made. Strong,
    /// as ``PyFunction/ownerClass``: the class and the descriptors in its namespace live
    /// and die together, and a weak reference would slow every retain of the class.
    let owner: PyType
    init(_ name: String, owner: PyType, _ get: @escaping (Unit, Value) throws -> Value) {
        self.name = name; self.get = get; self.owner = owner
        super.init(type: Types.getSetDescriptor)
    }
}

/// The class attribute a name listed in `__slots__` gets (`<member 'x' of 'P' objects>`).
/// The value itself is the instance's attribute, stored as any other; reading it through
/// an instance that has none raises AttributeError instead of giving the descriptor.
final class PyMemberDescriptor: PyObject, NamedAttributeDescriptor {
    let name: String
    /// The class whose `__slots__` listed the name; strong, as ``PyNativeProperty/owner``.
    let owner: PyType
    init(_ name: String, owner: PyType) {
        self.name = name; self.owner = owner
        super.init(type: Types.memberDescriptor)
    }
}

/// A method bound to an instance (`obj.method`).
public final class PyBoundMethod: PyObject {
    /// Fixed by init; `var` only so that deinit releases them in the trashcan's bracket.
    private(set) var receiver: Value
    private(set) var function: Value
    init(_ receiver: Value, _ function: Value) {
        self.receiver = receiver; self.function = function
        super.init(type: Types.method)
    }
    deinit { Trashcan.releaseFields([receiver, function]) { receiver = .none; function = .none } }
}

/// An instance of a user-defined class (or of a builtin exception).
///
/// Attributes live in `slots`, laid out by `shape` (a "hidden class" shared by instances
/// that gained the same attributes in the same order), so attribute nodes can cache
/// shape → slot and skip hashing. A deleted attribute leaves `.unbound` in its slot.
///
/// Free-threaded evaluation: `shape` and `slots` are read and written only under the
/// instance's lock (`locked`), and together: `slots.count == shape.names.count` holds
/// whenever the lock is free. A replaced value is released after the lock is let go (its
/// deinit may run Conc code, e.g. closing a generator).
public class PyInstance: PyObject {
    /// The layout of the slots, held unmanaged: shapes are immortal, and a counted
    /// reference would cost a retain and a release at every cache check.
    private final var shapeRef: Unmanaged<Shape>
    /// The layout of the slots. Changes when an attribute is added.
    final var shape: Shape {
        @inline(__always) get { shapeRef.takeUnretainedValue() }
        @inline(__always) set { shapeRef = .passUnretained(newValue) }
    }
    /// The identity of `shape`, which inline caches compare (a plain word: no counting).
    @inline(__always) final var shapeID: ShapeID { shapeRef.toOpaque() }
    /// Sets the shape from an inline cache's unmanaged reference.
    @inline(__always) final func setShape(_ s: Unmanaged<Shape>) { shapeRef = s }
    /// Attribute values, indexed by `shape.index`: `slotCount` initialised values at the
    /// start of a buffer of `slotCapacity` (nil while there is none). Managed by hand rather
    /// than as an array: every instance has one, and an array's uniqueness checks on each
    /// store, header, growth path and generic destruction were a tenth of the time of
    /// programs that make many small objects.
    private final var slotBase: UnsafeMutablePointer<Value>?
    /// How many slots are in use (`shape.names.count` whenever the lock is free).
    private(set) final var slotCount = 0
    private final var slotCapacity: Int32 = 0
    /// The dict handed out as `__dict__` (nil until first asked for; then the same one
    /// for as long as it lives, as in CPython). The slots stay the truth for the
    /// attributes: the attribute paths of ``Unit`` make each change in the dict too, and
    /// changes made through the dict reach the slots (``PyDict/addOwner(_:excluding:strongly:)``);
    /// while it is set, ``AttributeNode``'s caches never store into the slots directly.
    /// Under `locked`; read it through ``attributeDict``, which drops a dead link.
    final var keptDict: KeptDict?
    /// True once `__del__` was called for this object: for the stand-in that received a
    /// dying instance's attributes, and for an object finalised at the end of the program
    /// while still referenced. Its death calls no `__del__` (each object is finalised once).
    final var wasFinalized = false

    init(cls: PyType) {
        let root = cls.rootShape
        shapeRef = .passUnretained(root)
        // Room for as many attributes as the widest instance of the class had so far, so
        // an `__init__` setting them one by one does not regrow the buffer at each one.
        let expected = root.widestDescendant
        if expected > 0 {
            slotBase = .allocate(capacity: expected)
            slotCapacity = Int32(expected)
        }
        super.init(type: cls)
    }

    deinit {
        WeakReferents.noteDeath(self)
        if Finalizers.inUse.load(ordering: .relaxed) && ObjectIdentifier(Swift.type(of: self)) == ObjectIdentifier(PyInstance.self)
            && !wasFinalized && type.lookup("__del__") != nil {
            Finalizers.queue(attributesOf: self)  // takes the slots: nothing is left to free here
        }
        guard let base = slotBase else { return }
        if Trashcan.enter() {
            for i in 0..<slotCount { _ = (base + i).move() }
        } else {
            // Deep in a chain of deinits: the attributes are freed later, iteratively.
            var parked: [Value] = []
            parked.reserveCapacity(slotCount)
            for i in 0..<slotCount { parked.append((base + i).move()) }
            Trashcan.park(parked)
        }
        Trashcan.leave()
        base.deallocate()
    }

    /// Hands this dying instance's attributes (shape and slots) to `standIn`, a fresh
    /// instance of the same class that `__del__` will see (Finalizers.swift). Only from the
    /// deinit: nothing else can reach either object.
    final func moveAttributes(to standIn: PyInstance) {
        standIn.slotBase?.deallocate()
        standIn.shapeRef = shapeRef
        standIn.slotBase = slotBase; standIn.slotCount = slotCount; standIn.slotCapacity = slotCapacity
        slotBase = nil; slotCount = 0; slotCapacity = 0
        // A viewed dict holds its instance, so only an adopted one can outlive it.
        if let k = keptDict, let d = k.adopted {
            // `__del__` sees the same `__dict__` (this instance's weak entry is gone already).
            standIn.keptDict = k
            keptDict = nil
            d.addOwner(standIn)
        }
    }

    /// `obj.__class__ = cls` once the caller has checked that `cls` lays out its instances
    /// as this one's class does: the attributes keep their slots, under a shape of `cls`'s
    /// tree with the same names (inline caches tie a shape to its class's attributes).
    final func changeClass(to cls: PyType) {
        locked {
            var s = cls.rootShape
            for name in shape.names { s = s.adding(name) }
            shape = s
            changeType(to: cls)
        }
    }

    /// The live dict kept as `__dict__`, else nil; a link to a viewed dict that died is
    /// dropped, so that stores take the cached paths again. Under `locked`.
    final var attributeDict: PyDict? {
        guard let k = keptDict else { return nil }
        if let d = k.dict { return d }
        keptDict = nil
        return nil
    }

    /// The attribute values (deleted ones left out), for the end-of-program finalisation.
    final var attributeValues: [Value] {
        locked { (0..<slotCount).map { slotBase.unsafelyUnwrapped[$0] }.filter { if case .unbound = $0 { return false }; return true } }
    }

    /// Slot `i` (below `slotCount`).
    @inline(__always) final func slot(_ i: Int) -> Value {
        precondition(i >= 0 && i < slotCount, "instance slot out of range")
        return slotBase.unsafelyUnwrapped[i]
    }

    /// Stores `v` in slot `i` (below `slotCount`) and returns what it held, so a caller
    /// holding the instance's lock can release the old value after letting go.
    @inline(__always) final func exchangeSlot(_ i: Int, _ v: Value) -> Value {
        precondition(i >= 0 && i < slotCount, "instance slot out of range")
        let p = slotBase.unsafelyUnwrapped + i
        let old = p.move()
        p.initialize(to: v)
        return old
    }

    /// Adds a slot holding `v` (the instance's shape gains a name at the same time).
    @inline(__always) final func appendSlot(_ v: Value) {
        if slotCount == Int(slotCapacity) { growSlots() }
        (slotBase.unsafelyUnwrapped + slotCount).initialize(to: v)
        slotCount += 1
    }

    private final func growSlots() {
        let capacity = Swift.max(4, Int(slotCapacity) * 2)
        let base = UnsafeMutablePointer<Value>.allocate(capacity: capacity)
        if let old = slotBase {
            base.moveInitialize(from: old, count: slotCount)
            old.deallocate()
        }
        slotBase = base
        slotCapacity = Int32(capacity)
    }

    /// A copy of the slot values, in slot order.
    final var slotValues: [Value] { Array(UnsafeBufferPointer(start: slotBase, count: slotCount)) }

    /// The attributes stored on the instance, in the order they were added (reports).
    final var attributePairs: [(String, Value)] {
        locked { zip(shape.names, UnsafeBufferPointer(start: slotBase, count: slotCount)).filter { !$0.1.isUnbound } }
    }

    /// The attribute `name` stored on the instance, if any.
    @inline(__always) final func instanceAttribute(_ name: String) -> Value? {
        locked {
            guard let i = shape.index[name] else { return nil }
            let v = slot(i)
            return v.isUnbound ? nil : v
        }
    }

    /// The current layout (which may change as soon as the lock is released).
    @inline(__always) final var currentShape: Shape { locked { shape } }

    /// Stores attribute `name` on the instance.
    final func setInstanceAttribute(_ name: String, _ v: Value) {
        let old: Value = locked {
            if let i = shape.index[name] { return exchangeSlot(i, v) }
            shape = shape.adding(name)  // the shape's own leaf lock, never a stripe
            appendSlot(v)
            return .none
        }
        _ = old
    }

    /// Removes attribute `name`; returns whether it existed.
    @discardableResult
    final func removeInstanceAttribute(_ name: String) -> Bool {
        let old: Value = locked {
            guard let i = shape.index[name], !slot(i).isUnbound else { return .unbound }
            return exchangeSlot(i, .unbound)
        }
        return !old.isUnbound
    }

    /// (name, value) of every attribute, in the order they were added.
    final var instanceAttributes: [(String, Value)] {
        // Built under the lock: reading a copied-out `slots` after release is also safe
        // (copy-on-write), but TSan cannot see the uninstrumented runtime's refcount
        // ordering and would report it.
        locked { shape.names.enumerated().compactMap { i, n in slot(i).isUnbound ? nil : (n, slot(i)) } }
    }
}

/// A shape's identity as a plain word, for inline caches (shapes are immortal, so an
/// identity is never reused).
typealias ShapeID = UnsafeMutableRawPointer

/// The attribute layout shared by instances: names in slot order, and the layouts reached by
/// adding one more name. Shapes form a tree rooted at each class's `rootShape`.
///
/// `names` and `index` never change. `transitions` is shared by every thread that adds
/// attributes and is guarded by the shape's own mutex: a leaf lock (nothing else is taken
/// while it is held), so it may be taken while an instance's striped lock is held.
final class Shape: @unchecked Sendable {
    let names: [String]
    let index: NameTable<Int>
    /// Layouts reached by adding a name. Threads creating instances of one class contend
    /// for it: a pthread mutex, which ThreadSanitizer sees (``PosixMutex``).
    private let transitions = PosixMutex<[String: Shape]>([:])
    /// The root of this shape's tree (the class's `rootShape`), nil for a root. Shapes are
    /// immortal, so the reference needs no counting.
    private unowned(unsafe) let parentRoot: Shape?
    /// The root of this shape's tree.
    private var root: Shape { parentRoot ?? self }
    /// On a root: the most names of any shape made in its tree so far, capped at
    /// `Shape.widestCap` (new instances reserve that many slots). Written only when a shape
    /// is made, which is rare.
    private let widest = Atomic<Int>(0)
    /// Instances never reserve more slots than this up front.
    static let widestCap = 16

    /// This shape's identity (see ``ShapeID``).
    @inline(__always) var id: ShapeID { Unmanaged.passUnretained(self).toOpaque() }

    /// A root shape (no names).
    convenience init() { self.init(names: [], root: nil) }

    private init(names: [String], root: Shape?) {
        defer { Immortal.make(self) }  // every instance holds one; shapes are few
        self.names = names
        var idx = NameTable<Int>()
        for (i, n) in names.enumerated() { idx.set(n, i) }
        index = idx
        parentRoot = root
        root?.widest.max(min(names.count, Shape.widestCap))
    }

    /// On a root: how many slots a new instance should reserve.
    @inline(__always) var widestDescendant: Int { widest.load(ordering: .relaxed) }

    func adding(_ name: String) -> Shape {
        transitions.withLock { next in
            if let s = next[name] { return s }
            let s = Shape(names: names + [name], root: root)
            next[name] = s
            return s
        }
    }
}

private extension Atomic where Value == Int {
    /// Raises the stored value to `v` if it is smaller.
    func max(_ v: Int) {
        var current = load(ordering: .relaxed)
        while current < v {
            let (done, now) = compareExchange(expected: current, desired: v, ordering: .relaxed)
            if done { return }
            current = now
        }
    }
}

/// A reference cell for a variable captured by an inner function, or a module global.
///
/// Free-threaded evaluation: the cell is guarded by a seqlock of its own (``seq``) rather
/// than a striped lock, because threads read globals on almost every line (`counter += 1`,
/// `for i in range(N)`, a call of a module-level function). An int, float, bool or None,
/// or an immortal object (a module-level function, a class), is read without writing
/// anything; another object is copied (retained) under the lock, so a store never
/// releases the old value while another thread is loading it. The old value is released
/// after the lock is let go.
final class Cell: PyObject {
    /// The value. Read and written only through the accessors below; the lock-free read
    /// copies its bytes, laid out as ``ValueLayout`` checks.
    private var stored: Value
    /// The seqlock word, while object locks are on: bit 0 is set while a writer stores,
    /// bit 1 while ``stored`` is an immortal object, and the rest counts the writes. A
    /// writer takes it with one compare-and-swap and lets it go with a plain store; a reader
    /// copies ``stored`` between two loads of it and keeps the copy if it did not move.
    /// With object locks off (one unit running) a write just zeroes it, which clears a
    /// stale bit 1 (a fork()ed child that starts threads again must not trust it). Every other unit is stopped at a
    /// safe point before a fork, so no cell is locked in a child.
    private let seq = Atomic<UInt64>(0)
    /// False until the cell is first given a value (see ``neverBound``). A writer sets it
    /// before storing, so a reader seeing false simply reads before the store.
    private let everBound: Atomic<Bool>
    /// True for a module global's cell: a change between bound and unbound is counted in
    /// ``Globals/presenceEpoch`` (after the store), for the `globals()` dicts that show
    /// which names are bound. Set by ``Globals/cell(_:)`` before the cell is published.
    var countsPresence = false
    /// The captured variable's value; `.unbound` until assigned.
    var value: Value {
        @inline(__always) get {
            guard ObjectLocks.active else { return stored }
            if let v = readWithoutLock() { return v }
            return locked { stored }
        }
        @inline(__always) set {
            if !everBound.load(ordering: .relaxed) && !newValue.isUnbound { everBound.store(true, ordering: .releasing) }
            let old: Value = locked { let o = stored; stored = newValue; return o }
            // (A global is unbound by take(), never by storing .unbound: only a binding
            // of an unbound global is counted here.)
            if old.isUnbound && countsPresence { Globals.presenceChanged() }
            _ = old
        }
    }
    /// True while the cell has never been bound (the global of a builtin's name that no
    /// module code assigned): one atomic load, no lock.
    @inline(__always) var neverBound: Bool { !everBound.load(ordering: .acquiring) }
    /// The function this cell holds when it is an immortal one (a module-level `def`),
    /// unretained: a call may run it without a reference, since it is never freed, even
    /// if another unit rebinds the name meanwhile.
    @inline(__always) func immortalFunction() -> Unmanaged<PyFunction>? {
        guard ObjectLocks.active else { return Cell.immortalFunction(in: &stored) }
        guard let copy = snapshot() else { return locked { Cell.immortalFunction(in: &stored) } }
        // Only an immortal object may be looked at unlocked: it cannot have been freed.
        guard copy.tag == ValueLayout.objectTag && copy.word & 2 != 0 else { return nil }
        return Cell.immortalFunction(in: Unmanaged<PyObject>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(copy.payload))!))
    }
    @inline(__always) private static func immortalFunction(in v: inout Value) -> Unmanaged<PyFunction>? {
        guard case .obj(let o) = v else { return nil }
        return immortalFunction(in: Unmanaged.passUnretained(o))
    }
    @inline(__always) private static func immortalFunction(in o: Unmanaged<PyObject>) -> Unmanaged<PyFunction>? {
        o._withUnsafeGuaranteedRef { o in
            guard Swift.type(of: o) == PyFunction.self else { return nil }
            let fn = unsafeDowncast(o, to: PyFunction.self)
            return fn.isImmortal ? .passUnretained(fn) : nil
        }
    }
    /// The bound value, or `v` after binding it, as one step (`globals().setdefault`).
    func bindIfUnbound(_ v: Value) -> Value {
        if !everBound.load(ordering: .relaxed) && !v.isUnbound { everBound.store(true, ordering: .releasing) }
        var bound = false
        let r: Value = locked {
            if !stored.isUnbound { return stored }
            stored = v
            bound = true
            return v
        }
        if bound && countsPresence && !v.isUnbound { Globals.presenceChanged() }
        return r
    }
    /// Unbinds the value; returns what it was (`.unbound` if it was already unbound).
    @inline(__always) func take() -> Value {
        let o: Value = locked { let o = stored; stored = .unbound; return o }
        if countsPresence && !o.isUnbound { Globals.presenceChanged() }
        return o
    }
    init(_ v: Value = .unbound) { stored = v; everBound = Atomic(!v.isUnbound); super.init(type: Types.cell) }
    deinit {
        // A closure's cell holding the previous closure (a chain of them) frees it inside
        // the trashcan's bracket. Nothing else can read the cell now: no lock.
        guard case .obj = stored else { return }
        Trashcan.releaseFields([stored]) { stored = .none }
    }

    /// Runs `body` (which reads or writes ``stored``, and never blocks or runs Conc code)
    /// holding the seqlock when object locks are on; bit 1 of the word then describes what
    /// `body` left stored. (Shadows ``PyObject/locked(_:)``: a cell never takes its striped
    /// lock.)
    @inline(__always) private func locked<R>(_ body: () -> R) -> R {
        guard ObjectLocks.active else {
            // No reader runs in parallel: the word only has to lose a stale immortal bit.
            seq.store(0, ordering: .relaxed)
            return body()
        }
        var s = seq.load(ordering: .relaxed)
        if s & 1 != 0 || !seq.compareExchange(expected: s, desired: s | 1, ordering: .acquiring).exchanged {
            s = lockSlowly()
        }
        // The odd word is visible before any store of the value (see `read`).
        atomicMemoryFence(ordering: .releasing)
        let r = body()
        seq.store(((s & ~3) &+ 4) | (Cell.isImmortalObject(&stored) ? 2 : 0), ordering: .releasing)
        return r
    }
    /// Waits for the writer holding the seqlock (it stores a value and lets go, unless it
    /// was preempted meanwhile), then takes it; returns the word it held before.
    @inline(never) private func lockSlowly() -> UInt64 {
        var spins = 0
        while true {
            let s = seq.load(ordering: .relaxed)
            if s & 1 == 0 && seq.compareExchange(expected: s, desired: s | 1, ordering: .acquiring).exchanged { return s }
            spins += 1
            if spins < 200 { CConcSys_cpu_relax() } else { sched_yield() }
        }
    }
    @inline(__always) private static func isImmortalObject(_ v: inout Value) -> Bool {
        guard case .obj(let o) = v else { return false }
        return CConcSys_object_is_immortal(Unmanaged.passUnretained(o).toOpaque()) != 0
    }
    /// One lock-free attempt to copy ``stored`` into `payload` and `tag`: the seqlock word
    /// seen (even), or 1 when a writer was storing meanwhile.
    @inline(__always) private func read(_ payload: inout UInt64, _ tag: inout UInt8) -> UInt64 {
        #if CONC_TSAN
        // A seqlock's reads race with the writer's plain stores by design, which the
        // sanitizer would report: under it every read takes the lock.
        return 1
        #else
        let s = seq.load(ordering: .acquiring)
        if s & 1 != 0 { return 1 }
        withUnsafeMutablePointer(to: &stored) { CConcSys_read_value_words($0, &payload, &tag) }
        atomicMemoryFence(ordering: .acquiring)
        return seq.load(ordering: .relaxed) == s ? s : 1
        #endif
    }
    /// A consistent copy of ``stored``'s two parts and the seqlock word it was read under,
    /// or nil when writers kept the cell busy for four attempts.
    @inline(__always) private func snapshot() -> (payload: UInt64, tag: UInt8, word: UInt64)? {
        for _ in 0..<4 {
            var payload: UInt64 = 0, tag: UInt8 = 0
            let s = read(&payload, &tag)
            if s & 1 == 0 { return (payload, tag, s) }
        }
        return nil
    }
    /// The value, read without locking, unless it is an object that is not immortal (or
    /// writers kept the cell busy): then nil, and the caller takes the lock.
    @inline(__always) private func readWithoutLock() -> Value? {
        guard let copy = snapshot(), copy.tag != ValueLayout.objectTag || copy.word & 2 != 0 else { return nil }
        // A scalar, or an immortal object whose retain writes nothing.
        var words = (copy.payload, UInt64(copy.tag))
        return withUnsafeBytes(of: &words) { $0.load(as: Value.self) }
    }
}

/// How Swift lays out a ``Value``, which the cells' lock-free reads depend on: the payload
/// in the first 8 bytes, then one tag byte, `.obj` being tag 3 (``ValueLayout/verify()``,
/// which every engine checks when it is made).
enum ValueLayout {
    static let objectTag: UInt8 = 3
    /// Whether the layout is as assumed.
    static func verify() -> Bool {
        func tag(_ v: Value) -> UInt8 { withUnsafeBytes(of: v) { $0[8] } }
        let o: Value = .obj(PyStr.empty)
        let payload = withUnsafeBytes(of: o) { $0.load(as: UInt.self) }
        return MemoryLayout<Value>.size == 9 && tag(o) == objectTag
            && payload == UInt(bitPattern: Unmanaged.passUnretained(PyStr.empty).toOpaque())
            && [Value.none, .bool(true), .int(-1), .float(-1), .unbound].allSatisfy { tag($0) != objectTag }
    }
}

/// An instance's `__dict__` writes through to its attributes (``PyDict/attributesOf``).
extension PyInstance: AttributeOwner {
    func attributeSetThroughDict(_ name: String, _ v: Value) { setInstanceAttribute(name, v) }
    func attributeRemovedThroughDict(_ name: String) { removeInstanceAttribute(name) }
}
