// The builtin types, created once per process on first use and immutable afterwards.
// Each type's methods are installed by the `install…Methods` function of its own file.

import ConcSyntax

// The most used builtin types, published as plain globals by their own one-time
// initialisation: a read of a lazily initialised static costs a `swift_once` call, and
// these are read at every str/list/tuple/dict creation and every `hasType` test of them.
// nil until the type exists (readers then take the static, which makes it). Globals with a
// constant initialiser are statically initialised, so reading them is a plain load.
// nonisolated(unsafe): each is written once, inside the type's own `swift_once`, before
// the type is reachable from anything; afterwards it is only read (an aligned word).
nonisolated(unsafe) private var publishedStr: Unmanaged<PyType>? = nil
nonisolated(unsafe) private var publishedList: Unmanaged<PyType>? = nil
nonisolated(unsafe) private var publishedTuple: Unmanaged<PyType>? = nil
nonisolated(unsafe) private var publishedDict: Unmanaged<PyType>? = nil

/// The registry of builtin types. Every member is a lazily initialised, thread-safe constant.
public enum Types {
    static func builtin(_ name: String, base: PyType? = nil) -> PyType {
        PyType(name: name, bases: base.map { [$0] } ?? (name == "object" ? [] : [object]), builtin: true)
    }
    static func make(_ name: String, base: PyType? = nil, _ install: (PyType) -> Void) -> PyType {
        let t = builtin(name, base: base)
        t.layout = nil
        install(t)
        return t
    }

    // `object` and `type` are created bare: their methods are descriptor objects whose own
    // types derive from `object`, so installing them inside these initialisers would
    // re-enter the same lazy initialisation. ``ready`` installs them afterwards.
    public static let object: PyType = builtin("object")
    public static let type: PyType = builtin("type")
    /// Installs the methods of `object` and `type`; touched once by every Engine.
    static let ready: Bool = {
        installObjectMethods(object)
        installTypeMethods(type)
        // CPython's value types have their own `__doc__` (dir() lists it); Conc's carry no
        // docstring, and must not show object's. (Not for types whose instances answer
        // `__doc__` themselves: bound methods give their function's.)
        for t in [bool, int, float, str, bytes, bytearray, list, tuple, dict, set, frozenset, range, slice]
        where t.dict["__doc__"] == nil {
            t.dict["__doc__"] = Value.none
        }
        installGetSetDescriptorMethods(getSetDescriptor)
        installEqualitySlots()
        // Publish the plain-global copies (`publishedStr`, the str hash seed) while the
        // process has one thread.
        _ = (str, list, tuple, dict, strHashSeed)
        // Every builtin type now, not on first use: a type's making takes its own lock, and
        // a first use inside another object's lock (a new `Cell` under a module's lock)
        // while another thread waits for that type's `swift_once` holding a lock the first
        // needs would deadlock, as two engines starting at once did.
        let every: [PyType] = [
            noneType, unionType, genericAlias, regexProgram, bool, int, float, str, bytes,
            bytearray, list, tuple, dict, set, frozenset, range, slice, function,
            builtinFunction, methodDescriptor, getSetDescriptor, memberDescriptor, method, staticmethod,
            classmethod, property, module, cell, iterator, listIterator, listReverseIterator,
            tupleIterator, strIterator, strASCIIIterator, bytesIterator, bytearrayIterator,
            setIterator, rangeIterator, itertoolsProduct, itertoolsPermutations, itertoolsCombinations,
            itertoolsCombinationsWithReplacement, dictKeyIterator, dictValueIterator, dictItemIterator,
            dictReverseKeyIterator, dictReverseValueIterator, dictReverseItemIterator,
            callableIterator, reversedIterator, generator, coroutine, dictKeys, dictValues,
            dictItems, mappingProxy, file, ellipsis, notImplementedType, superType, traceback, code, frame,
            enumerateIterator, zipIterator, mapIterator, filterIterator, unitHandle, structTime,
            versionInfo, sysFlags, sysImplementation, statResult, unameResult, timesResult, structRusage, waitidResult, terminalSize, floatInfo, threadInfo, intInfo, hashInfo, threadLocal, weakref,
            unraisableHookArgs, regexMatch, mersenneTwister, lock, rlock, threadingLock,
            threadingRLock, semaphore, event, condition, queue, Exc.queueEmpty, Exc.queueFull
        ]
        _ = (every, itertoolsClasses)
        _ = (Exc.all, Singletons.ellipsis, Singletons.notImplemented)
        return true
    }()
    static let noneType = make("NoneType") { t in
        t.method("__bool__") { _, _, a in try a.expect("__bool__", 0, 0); return .bool(false) }
        singletonConstructor(t, "NoneType", Value.none)
    }
    static let unionType: PyType = make("UnionType") { installUnionMethods($0) }
    static let genericAlias: PyType = make("GenericAlias") { installGenericAliasMethods($0); $0.module = "types" }
    /// A compiled `re` pattern of the `_re` engine (re.Pattern wraps it).
    static let regexProgram: PyType = make("_re.Program") { _ in }
    static let bool: PyType = make("bool", base: int) { installBoolMethods($0) }
    static let int: PyType = make("int") { installIntMethods($0); installNumberOperatorSlots($0, isFloat: false); ownSlots($0, hash: true) }
    static let float: PyType = make("float") { installFloatMethods($0); installNumberOperatorSlots($0, isFloat: true); ownSlots($0, hash: true) }
    static let str: PyType = published(make("str") { installStrMethods($0); installSequenceOperatorSlots($0); ownSlots($0, hash: true, str: true) }) {
        publishedStr = $0
    }
    /// The identity of `str`, for ``PyObject/hasType(_:)`` tests that retain nothing.
    static var strID: ObjectIdentifier { @inline(__always) get { identity(strBits) } }
    /// `str`, `list`, `tuple` and `dict` unmanaged, for the constructors of new objects: a
    /// class passed as a strong reference was retained and released around every creation
    /// (an atomic read-modify-write on a word every unit shares, for each new string).
    /// Read from the published copies (below), which cost no `swift_once` call.
    static var strBits: Unmanaged<PyType> { @inline(__always) get { publishedStr ?? .passUnretained(str) } }
    static var listBits: Unmanaged<PyType> { @inline(__always) get { publishedList ?? .passUnretained(list) } }
    static var tupleBits: Unmanaged<PyType> { @inline(__always) get { publishedTuple ?? .passUnretained(tuple) } }
    static var dictBits: Unmanaged<PyType> { @inline(__always) get { publishedDict ?? .passUnretained(dict) } }
    @inline(__always) private static func identity(_ t: Unmanaged<PyType>) -> ObjectIdentifier {
        ObjectIdentifier(t.takeUnretainedValue())
    }
    /// Runs `publish` with the new type `t` (inside its one-time initialisation), then
    /// returns it.
    private static func published(_ t: PyType, _ publish: (Unmanaged<PyType>) -> Void) -> PyType {
        publish(.passUnretained(t))
        return t
    }
    static let bytes: PyType = make("bytes") { installBytesMethods($0); installBytesOrderingSlots($0); ownSlots($0, hash: true, str: true) }
    static let bytearray: PyType = make("bytearray") {
        installBytearrayMethods($0); installBytesOrderingSlots($0); unhashable($0); ownSlots($0, hash: false)
    }
    static let list: PyType = published(make("list") { installListMethods($0); installSequenceOperatorSlots($0); unhashable($0); ownSlots($0, hash: false) }) {
        publishedList = $0
    }
    /// The identity of `list`, for ``PyObject/hasType(_:)``.
    static var listID: ObjectIdentifier { @inline(__always) get { identity(listBits) } }
    static let tuple: PyType = published(make("tuple") { installTupleMethods($0); installSequenceOperatorSlots($0); ownSlots($0, hash: true) }) {
        publishedTuple = $0
    }
    static var tupleID: ObjectIdentifier { @inline(__always) get { identity(tupleBits) } }
    static let dict: PyType = published(make("dict") { installDictMethods($0); installDictOperatorSlots($0); unhashable($0); ownSlots($0, hash: false) }) {
        publishedDict = $0
    }
    static var dictID: ObjectIdentifier { @inline(__always) get { identity(dictBits) } }
    static let set: PyType = make("set") { installSetMethods($0, frozen: false); installSetOperatorSlots($0); unhashable($0); ownSlots($0, hash: false) }
    static let frozenset: PyType = make("frozenset") { installSetMethods($0, frozen: true); installSetOperatorSlots($0); ownSlots($0, hash: true) }
    static let range: PyType = make("range") { installRangeMethods($0) }
    static let slice: PyType = make("slice") { installSliceMethods($0); unhashable($0) }
    static let function = make("function") { installFunctionMethods($0) }
    static let builtinFunction = make("builtin_function_or_method") { installBuiltinFunctionAttributes($0) }
    static let methodDescriptor = make("method_descriptor") { installMethodDescriptorAttributes($0) }
    /// Its methods are installed by ``ready``: they are method descriptors, whose type's
    /// getters are getset descriptors (installing them here would re-enter this initialiser).
    static let getSetDescriptor = make("getset_descriptor") { _ in }
    static let memberDescriptor = make("member_descriptor") { installMemberDescriptorMethods($0) }
    static let method = make("method") { installBoundMethodAttributes($0) }
    static let staticmethod: PyType = make("staticmethod") { installDescriptorTypes($0) }
    static let classmethod: PyType = make("classmethod") { installDescriptorTypes($0) }
    static let property: PyType = make("property") { installPropertyMethods($0) }
    static let module = make("module") { t in
        // types.ModuleType(name, doc=None): an empty module made by the program.
        t.constructor = { u, _, a in
            try a.expect("module", 1, 2, keywords: ["name", "doc"])
            guard let nameValue = a.argument(0, "name"), let name = nameValue.asStr?.value else {
                throw typeError("module.__init__() argument 'name' must be str, not \((a.argument(0, "name") ?? .none).typeName)")
            }
            let g = Globals()
            g.set("__name__", .str(name))
            g.set("__doc__", a.argument(1, "doc") ?? .none)
            return .obj(PyModule(name: name, globals: g))
        }
    }
    static let cell = make("cell") { t in
        // types.CellType(contents): a cell made by the program (empty without an argument).
        t.constructor = { _, _, a in
            if !a.keywords.isEmpty { throw typeError("cell() takes no keyword arguments") }
            if a.count > 1 { throw typeError("cell expected at most 1 argument, got \(a.count)") }
            return .obj(Cell(a.count == 1 ? a[0] : .unbound))
        }
        // Cells compare by their contents (Unit.compare); unhashable, as CPython's.
        for (dunder, op) in [("__eq__", CompareOp.eq), ("__ne__", .ne), ("__lt__", .lt), ("__le__", .le),
                             ("__gt__", .gt), ("__ge__", .ge)] {
            t.method(dunder) { u, s, a in
                try a.expect(dunder, 1, 1)
                guard s.object is Cell, a[0].object is Cell else { return .obj(Singletons.notImplemented) }
                return try u.compare(op, s, a[0])
            }
        }
        unhashable(t)
        t.getter("cell_contents") { _, s in
            let v = (s.object as! Cell).value
            if v.isUnbound { throw valueError("Cell is empty") }
            return v
        }
    }
    static let iterator = make("iterator") { installIteratorMethods($0) }
    // The builtin containers' iterators, named as CPython 3.11 names them.
    static let listIterator = make("list_iterator") { installIteratorMethods($0); installLengthHint($0) }
    static let listReverseIterator = make("list_reverseiterator") { installIteratorMethods($0); installLengthHint($0) }
    static let tupleIterator = make("tuple_iterator") { installIteratorMethods($0); installLengthHint($0) }
    static let strIterator = make("str_iterator") { installIteratorMethods($0); installLengthHint($0) }
    static let strASCIIIterator = make("str_ascii_iterator") { installIteratorMethods($0); installLengthHint($0) }
    static let bytesIterator = make("bytes_iterator") { installIteratorMethods($0); installLengthHint($0) }
    static let bytearrayIterator = make("bytearray_iterator") { installIteratorMethods($0); installLengthHint($0) }
    static let setIterator = make("set_iterator") { installIteratorMethods($0); installLengthHint($0) }
    static let rangeIterator = make("range_iterator") { installIteratorMethods($0); installLengthHint($0) }
    /// The combinatoric iterators of itertools (``PyCombinatoric``), named as CPython's.
    static let itertoolsProduct = itertoolsType("product")
    static let itertoolsPermutations = itertoolsType("permutations")
    static let itertoolsCombinations = itertoolsType("combinations")
    static let itertoolsCombinationsWithReplacement = itertoolsType("combinations_with_replacement")
    /// The other classes of itertools (ItertoolsIterators.swift), with their constructors;
    /// `_itertools` exports them by name.
    static let itertoolsClasses: [PyType] = [
        ("count", installItertoolsCount), ("cycle", installItertoolsCycle), ("repeat", installItertoolsRepeat),
        ("accumulate", installItertoolsAccumulate), ("chain", installItertoolsChain),
        ("compress", installItertoolsCompress), ("dropwhile", installItertoolsDropwhile),
        ("takewhile", installItertoolsTakewhile), ("filterfalse", installItertoolsFilterfalse),
        ("starmap", installItertoolsStarmap), ("pairwise", installItertoolsPairwise),
        ("zip_longest", installItertoolsZipLongest), ("islice", installItertoolsIslice),
    ].map { name, install in make(name, install) }
    private static func itertoolsType(_ name: String) -> PyType {
        make(name) { installIteratorMethods($0); $0.module = "itertools"; $0.messageNameStorage = "itertools." + name }
    }
    static let dictKeyIterator = make("dict_keyiterator") { installIteratorMethods($0); installLengthHint($0) }
    static let dictValueIterator = make("dict_valueiterator") { installIteratorMethods($0); installLengthHint($0) }
    static let dictItemIterator = make("dict_itemiterator") { installIteratorMethods($0); installLengthHint($0) }
    static let dictReverseKeyIterator = make("dict_reversekeyiterator") { installIteratorMethods($0); installLengthHint($0) }
    static let dictReverseValueIterator = make("dict_reversevalueiterator") { installIteratorMethods($0); installLengthHint($0) }
    static let dictReverseItemIterator = make("dict_reverseitemiterator") { installIteratorMethods($0); installLengthHint($0) }
    static let callableIterator = make("callable_iterator") { installIteratorMethods($0) }
    static let reversedIterator = make("reversed") { installIteratorMethods($0); installLengthHint($0) }
    static let generator: PyType = make("generator") { installGeneratorMethods($0) }
    static let coroutine: PyType = make("coroutine") { installCoroutineMethods($0) }
    static let dictKeys = make("dict_keys") { installDictViewMethods($0); unhashable($0) }
    static let dictValues = make("dict_values") { installDictViewMethods($0) }
    static let dictItems = make("dict_items") { installDictViewMethods($0); unhashable($0) }
    static let mappingProxy = make("mappingproxy") { installMappingProxyMethods($0) }
    static let file = fileType("TextIOWrapper", .text)
    // What open() returns in binary mode, as CPython's classes are named: "rb", "wb" (and
    // "ab", "xb"), "rb+" and the like, and buffering=0.
    static let bufferedReader = fileType("BufferedReader", .reader)
    static let bufferedWriter = fileType("BufferedWriter", .writer)
    static let bufferedRandom = fileType("BufferedRandom", .random)
    static let fileIO = fileType("FileIO", .raw)
    private static func fileType(_ name: String, _ kind: FileClass) -> PyType {
        make(name) { installFileMethods($0, kind); $0.module = "_io"; $0.messageNameStorage = "_io." + name }
    }
    static let ellipsis: PyType = make("ellipsis") { singletonConstructor($0, "EllipsisType", .obj(Singletons.ellipsis)) }
    static let notImplementedType: PyType = make("NotImplementedType") {
        singletonConstructor($0, "NotImplementedType", .obj(Singletons.notImplemented))
    }
    static let superType: PyType = make("super") { installSuperConstructor($0) }
    static let traceback = make("traceback") { installTracebackAttributes($0) }
    static let code = make("code") { installCodeAttributes($0) }
    static let frame = make("frame") { installFrameAttributes($0) }
    static let enumerateIterator: PyType = make("enumerate") { installIteratorMethods($0) }
    static let zipIterator: PyType = make("zip") { installIteratorMethods($0) }
    static let mapIterator: PyType = make("map") { installIteratorMethods($0) }
    static let filterIterator: PyType = make("filter") { installIteratorMethods($0) }
    static let unitHandle: PyType = make("unit_handle") { installUnitHandleMethods($0) }
    static let structTime: PyType = make("struct_time", base: tuple) {
        installStructTime($0); $0.module = "time"; $0.messageNameStorage = "time.struct_time"
    }
    static let versionInfo: PyType = make("version_info", base: tuple) { installStructSequence($0, versionInfoFields) }
    static let sysFlags: PyType = make("flags", base: tuple) { installStructSequence($0, sysFlagsFields) }
    static let sysImplementation: PyType = make("implementation", base: tuple) { installStructSequence($0, sysImplementationFields) }
    static let statResult: PyType = make("stat_result", base: tuple) { installStatResult($0) }
    static let unameResult: PyType = make("uname_result", base: tuple) { installStructSequence($0, unameResultFields); $0.module = "posix" }
    static let timesResult: PyType = make("times_result", base: tuple) { installStructSequence($0, timesResultFields); $0.module = "posix" }
    static let structRusage: PyType = make("struct_rusage", base: tuple) { installStructSequence($0, structRusageFields); $0.module = "resource" }
    static let waitidResult: PyType = make("waitid_result", base: tuple) { installStructSequence($0, waitidResultFields); $0.module = "posix" }
    static let terminalSize: PyType = make("terminal_size", base: tuple) { installTerminalSize($0) }
    static let floatInfo: PyType = make("float_info", base: tuple) { installStructSequence($0, floatInfoFields) }
    static let threadInfo: PyType = make("thread_info", base: tuple) { installStructSequence($0, threadInfoFields) }
    static let intInfo: PyType = make("int_info", base: tuple) { installStructSequence($0, intInfoFields) }
    static let hashInfo: PyType = make("hash_info", base: tuple) { installStructSequence($0, hashInfoFields) }
    static let threadLocal: PyType = make("_local") { installThreadLocalMethods($0); $0.module = "_thread"; $0.messageNameStorage = "_thread._local" }
    static let weakref: PyType = make("ReferenceType") { installWeakRefMethods($0); $0.module = "weakref"; $0.messageNameStorage = "weakref.ReferenceType" }
    static let unraisableHookArgs: PyType = make("UnraisableHookArgs", base: tuple) {
        installStructSequence($0, unraisableHookArgsFields)
    }
}

/// Singletons that are objects (not scalars).
enum Singletons {
    static let ellipsis: PyObjectSingleton = PyObjectSingleton(type: Types.ellipsis, repr: "Ellipsis")
    static let notImplemented: PyObjectSingleton = PyObjectSingleton(type: Types.notImplementedType, repr: "NotImplemented")
}

/// An object with no state beyond its identity (`Ellipsis`, `NotImplemented`).
final class PyObjectSingleton: PyObject {
    let repr: String
    init(type: PyType, repr: String) { self.repr = repr; super.init(type: type) }
}

/// The mutable builtins, whose `__hash__` is None as in CPython (`list.__hash__ is None`;
/// hash() refuses them natively before looking).
private func unhashable(_ t: PyType) { t.dict["__hash__"] = Value.none }

/// `__repr__` (and `__hash__`, `__str__` where given) in a builtin type's own dict, as
/// CPython's types have them: in `class Weekday(int, Enum)` int's come before the
/// mixin's in the MRO, and `int.__repr__` is not `object.__repr__`.
private func ownSlots(_ t: PyType, hash: Bool, str: Bool = false) {
    t.method("__repr__") { u, s, a in try a.expect("__repr__", 0, 0); return .str(try u.builtinRepr(s)) }
    if hash { t.method("__hash__") { u, s, a in try a.expect("__hash__", 0, 0); return .int(try u.builtinHash(s)) } }
    if str { t.method("__str__") { u, s, a in try a.expect("__str__", 0, 0); return .str(try u.builtinStr(s)) } }
}

/// `type(None)()` is None (and so for Ellipsis and NotImplemented): the type of a singleton
/// gives back the singleton, with CPython's message when given arguments.
private func singletonConstructor(_ t: PyType, _ name: String, _ value: @escaping @autoclosure () -> Value) {
    t.constructor = { _, _, a in
        if a.count > 0 || !a.keywords.isEmpty { throw typeError("\(name) takes no arguments") }
        return value()
    }
}

extension PyType {
    /// enumerate, zip, map, filter, reversed: builtin classes whose constructor takes the
    /// arguments (as their `__new__` does) when a user subclass is called.
    var isIterationClass: Bool {
        self === Types.enumerateIterator || self === Types.zipIterator || self === Types.mapIterator
            || self === Types.filterIterator || self === Types.reversedIterator
            || (constructor != nil && module == "itertools")
    }
    /// An immutable builtin (int, float, str, tuple, bytes, frozenset, type, the iteration
    /// classes) whose constructor takes the arguments, as its `__new__` does; a mutable
    /// one (list, dict, set, bytearray) is filled by its `__init__`.
    var isFilledByConstructor: Bool {
        self === Types.int || self === Types.float || self === Types.str || self === Types.tuple
            || self === Types.bytes || self === Types.frozenset || self === Types.type || isIterationClass
            || self === Types.threadLocal  // keeps the arguments for each thread's __init__
    }
    /// list, dict, set, bytearray: their `__new__` ignores its arguments (`__init__` takes
    /// them), so `list.__new__(C, 5)` is an empty C.
    var newIgnoresArguments: Bool {
        self === Types.list || self === Types.dict || self === Types.set || self === Types.bytearray
    }
    /// float, tuple, frozenset, map, filter and reversed, whose `__new__` ignores keywords when
    /// a subclass's own `__init__` takes them (CPython checks for none only with the base's init).
    var leavesKeywordsToInit: Bool {
        self === Types.float || self === Types.tuple || self === Types.frozenset || self === Types.mapIterator
            || self === Types.filterIterator || self === Types.reversedIterator
    }
}
