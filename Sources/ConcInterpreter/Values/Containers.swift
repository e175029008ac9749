// Payload classes of the builtin containers: str, bytes, list, tuple, range, slice.
import Glibc
import Synchronization

/// An immutable Unicode string. Indexing is by Unicode scalar, as in Python.
public final class PyStr: PyObject, SubclassAttributes {
    /// Attributes of an instance of a str subclass (`self.tag = 1` in its `__init__`); nil
    /// for every plain str, which is why it is held unmanaged (a trivial field: creating
    /// and freeing the millions of plain strs costs nothing more) and released in `deinit`.
    /// Only under `locked` (``SubclassAttributes``).
    private var attributesRef: Unmanaged<PyDict>?
    var subclassAttributes: PyDict? {
        get { attributesRef?.takeUnretainedValue() }
        set {
            let old = attributesRef
            attributesRef = newValue.map { Unmanaged.passRetained($0) }
            old?.release()  // after the retain: storing the same dict again must not free it
        }
    }
    deinit {
        if !typeIsBuiltin { queueFinalizerIfAny() }
        attributesRef?.release()
        let crumbs = breadcrumbBits.load(ordering: .relaxed)
        if crumbs != 0 { UnsafeMutablePointer<Int>(bitPattern: crumbs)?.deallocate() }
    }
    /// From the deinit of a str subclass's instance: when its class has `__del__`, a
    /// stand-in holding the same text and attributes is queued for it. Kept out of the
    /// deinit, which every plain str runs.
    @inline(never) private func queueFinalizerIfAny() {
        guard Finalizers.wantsStandIn(self) else { return }
        let standIn = PyStr(value, type: type)
        standIn.attributesRef = attributesRef
        attributesRef = nil
        Finalizers.queue(standIn: standIn)
    }
    /// For a long non-ASCII text: the UTF-8 offset of every 64th scalar, made at the first
    /// index far from the start (a pointer's bits; 0 until then), so `s[i]` and slices cost
    /// O(64) instead of O(i) (a loop over the indexes of a Chinese text was quadratic).
    /// Published once by compare-exchange (a losing builder frees its own copy); freed in
    /// deinit, or when ``appendInPlace(_:)`` changes the text (no other reference exists then).
    private let breadcrumbBits = Atomic<Int>(0)
    /// The text. Immutable once a second reference exists: only ``appendInPlace(_:)``
    /// changes it, for a str that one frame slot alone holds (``LocalStrAppendNode``).
    public private(set) var value: String
    /// Cached `hash(s)`; 0 until computed (a real hash of 0 is just recomputed). Threads
    /// may race to fill it: both compute the same value from the immutable text. Relaxed
    /// atomic loads and stores (plain moves on x86-64 and arm64) so the race is a defined
    /// one, which ThreadSanitizer does not report.
    private let hashCache = Atomic<Int>(0)
    /// Runs `body` on the text's UTF-8 bytes. A small text (at most 15 bytes, held inline
    /// in the String: see ``smallString(_:)``) lends a copy of its two words read straight
    /// from the field; passing `value` to ``withUTF8(_:_:)`` would copy the String first,
    /// a `swift_bridgeObjectRetain`/`Release` pair per use. (Only ``appendInPlace(_:)``
    /// writes the field, and only while one frame slot alone holds this str.)
    @inline(__always) func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let r = try withSmallStringBytes(valueWords, body) { return r }
        return try withUTF8(value, body)
    }

    /// The two words of `value` as stored, read without copying the String (which would
    /// retain a large one's storage): for tests of the small form (``withBytes(_:)``).
    @inline(__always) var valueWords: (UInt64, UInt64) {
        #if CONC_TSAN
        // ThreadSanitizer takes the `&value` below for a write, and reported every pair of
        // threads reading one str (a dict key, a shared global's name) as a race.
        return unsafeBitCast(value, to: (UInt64, UInt64).self)
        #else
        return withUnsafeMutablePointer(to: &value) { UnsafeRawPointer($0).load(as: (UInt64, UInt64).self) }
        #endif
    }

    /// `hash(s)`, computed once.
    var hash: Int {
        let cached = hashCache.load(ordering: .relaxed)
        if cached != 0 { return cached }
        let h = withBytes { strHash($0) }
        hashCache.store(h, ordering: .relaxed)
        return h
    }

    /// `self == other` as CPython compares strs: the same code points, so the same UTF-8
    /// bytes. (Swift's `==` on String would also equate canonically equivalent texts,
    /// such as a precomposed and a decomposed "é", which are different strs in Python.)
    @inline(__always) func equals(_ other: PyStr) -> Bool {
        if self === other { return true }
        // The same bits are the same text: a small string (up to 15 bytes) is held inline
        // in canonical form, a large one by its storage. Dict probes of short keys end here.
        let x = unsafeBitCast(value, to: (UInt64, UInt64).self)
        let y = unsafeBitCast(other.value, to: (UInt64, UInt64).self)
        if x == y { return true }
        let n = value.utf8.count
        if n != other.value.utf8.count { return false }
        let h1 = hashCache.load(ordering: .relaxed), h2 = other.hashCache.load(ordering: .relaxed)
        if h1 != 0 && h2 != 0 && h1 != h2 { return false }
        return withBytes { a in other.withBytes { b in memcmp(a.baseAddress!, b.baseAddress!, n) == 0 } }
    }
    /// Cached number of Unicode scalars; -1 until computed. Threads may race to fill it
    /// with the same value: relaxed atomics, as for ``hashCache``.
    private let scalarCountCache: Atomic<Int>

    public init(_ v: String) { value = v; scalarCountCache = Atomic(-1); super.init(typeBits: Types.strBits) }
    /// The empty str: shared and immortal (its large reference count also keeps
    /// `LocalStrAppendNode` from ever appending to it in place).
    static let empty: PyStr = { let s = PyStr("", scalarCount: 0); Immortal.make(s); return s }()
    /// A str whose number of scalars the creator already knows (a slice, a concatenation),
    /// so `len(s)` and the methods that need it do not scan the text.
    init(_ v: String, scalarCount: Int) {
        value = v; scalarCountCache = Atomic(scalarCount)
        super.init(typeBits: Types.strBits)
    }
    /// `self += other` on a str nothing else references (the caller checked): nobody can
    /// see the text change, so the cached hash and length are simply brought up to date.
    func appendInPlace(_ other: PyStr) {
        let known = knownCount.flatMap { a in other.knownCount.map { a + $0 } }
        value.append(other.value)
        hashCache.store(0, ordering: .relaxed)
        let crumbs = breadcrumbBits.exchange(0, ordering: .relaxed)
        if crumbs != 0 { UnsafeMutablePointer<Int>(bitPattern: crumbs)?.deallocate() }
        scalarCountCache.store(known ?? -1, ordering: .relaxed)
    }
    /// The number of scalars if it is already known.
    var knownCount: Int? {
        let n = scalarCountCache.load(ordering: .relaxed)
        return n >= 0 ? n : nil
    }
    init(_ v: String, type: PyType) { value = v; scalarCountCache = Atomic(-1); super.init(type: type) }

    /// `len(s)`.
    var count: Int {
        let cached = scalarCountCache.load(ordering: .relaxed)
        if cached >= 0 { return cached }
        let n: Int = withUTF8(value) { buf in
            if allASCII(buf) { return buf.count }
            var k = 0
            for b in buf where b & 0xC0 != 0x80 { k += 1 }
            return k
        }
        scalarCountCache.store(n, ordering: .relaxed)
        return n
    }
    /// True when every scalar is ASCII, so scalar i is utf8 byte i.
    var isASCII: Bool { count == value.utf8.count }

    /// The scalars as an array (O(n)); used by indexing and slicing of non-ASCII strings.
    var scalars: [Unicode.Scalar] { Array(value.unicodeScalars) }

    /// Scalar at index `i` (already normalised to 0..<count).
    func scalar(at i: Int) -> Unicode.Scalar {
        withBytes { buf in
            if isASCII { return Unicode.Scalar(buf[i]) }
            return decodeScalar(buf, at: byteOffset(ofScalar: i, in: buf))
        }
    }

    /// The UTF-8 offset in `buf` (this text's bytes) where scalar `i` starts (the end for
    /// i == count).
    func byteOffset(ofScalar i: Int, in buf: UnsafeBufferPointer<UInt8>) -> Int {
        if i < 128 || isASCII { return isASCII ? min(i, buf.count) : utf8Offset(buf, scalar: i) }
        let crumbs = breadcrumbs(buf)
        let base = crumbs[i >> 6]
        return base + utf8Offset(UnsafeBufferPointer(rebasing: buf[base...]), scalar: i & 63)
    }

    /// ``breadcrumbBits``, made on first use.
    private func breadcrumbs(_ buf: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<Int> {
        let known = breadcrumbBits.load(ordering: .acquiring)
        if known != 0 { return UnsafeMutablePointer<Int>(bitPattern: known)! }
        let made = UnsafeMutablePointer<Int>.allocate(capacity: count / 64 + 1)
        var scalars = 0
        for k in 0..<buf.count where buf[k] & 0xC0 != 0x80 {
            if scalars & 63 == 0 { made[scalars >> 6] = k }
            scalars += 1
        }
        if scalars & 63 == 0 { made[scalars >> 6] = buf.count }  // i == count lands here
        let (won, current) = breadcrumbBits.compareExchange(expected: 0, desired: Int(bitPattern: made),
                                                             successOrdering: .acquiringAndReleasing, failureOrdering: .acquiring)
        if won { return made }
        made.deallocate()
        return UnsafeMutablePointer<Int>(bitPattern: current)!
    }
}

/// An immutable byte string (`bytes`) or a mutable one (`bytearray`).
public final class PyBytes: PyObject, SubclassAttributes {
    /// The bytes. Mutated only for `bytearray` instances, which units may share: touch a
    /// bytearray's bytes only inside `locked { }` (one critical section for a check and the
    /// access it guards), or through ``snapshot`` and ``withBytes(_:)``.
    private var bytes: [UInt8]
    let isMutable: Bool
    /// Attributes of an instance of a bytes/bytearray subclass; nil otherwise. Only under
    /// `locked` (``SubclassAttributes``).
    var subclassAttributes: PyDict?
    init(_ b: [UInt8], mutable: Bool = false) {
        bytes = b; isMutable = mutable
        super.init(type: mutable ? Types.bytearray : Types.bytes)
    }
    /// An instance of `type`, a subclass of bytes or bytearray.
    init(_ b: [UInt8], mutable: Bool, type: PyType) {
        bytes = b; isMutable = mutable
        super.init(type: type)
    }
    deinit {
        guard Finalizers.wantsStandIn(self) else { return }
        let standIn = PyBytes(bytes, mutable: isMutable, type: type)
        standIn.subclassAttributes = subclassAttributes
        Finalizers.queue(standIn: standIn)
    }
    /// A copy of the bytes (O(1), copy-on-write), taken under the lock for a bytearray.
    @inline(__always) var snapshot: [UInt8] {
        #if CONC_TSAN
        isMutable ? locked { freshCopy(bytes) } : bytes
        #else
        isMutable ? locked { bytes } : bytes
        #endif
    }
    /// `len(b)`.
    @inline(__always) var count: Int { isMutable ? locked { bytes.count } : bytes.count }
    /// Runs `body` on the bytes in place, holding the lock: one atomic step of a bytearray
    /// method. `body` must not run Conc code (see ``PyObject/locked(_:)``).
    @inline(__always) func withBytes<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        try locked { try body(&bytes) }
    }
}

/// A mutable list. `items` is mutated in place by list methods.
/// A builtin container whose subclass instances keep their own attributes
/// (`class Stack(list)` setting `self.name` in `__init__`).
protocol SubclassAttributes: PyObject {
    /// The instance's attributes; nil until one is set (plain lists never have any).
    var subclassAttributes: PyDict? { get set }
}

public final class PyList: PyObject, SubclassAttributes {
    var subclassAttributes: PyDict?
    /// The elements. Units running in parallel may share a list, so every read or write
    /// happens inside `locked { }`, a bounds check in the same critical section as the access
    /// it guards; usually through the helpers below. Inside the lock run no Conc code
    /// (`__eq__`, `__repr__`, keys, other iterators), block, or lock another object: take a
    /// ``snapshot`` (O(1)), work on it unlocked, and store back under the lock. Items a
    /// mutation drops are handed out of the lock, so their release (a generator's `close`
    /// runs Conc code) happens after it.
    private var items: [Value]
    init(_ items: [Value] = []) { self.items = items; super.init(typeBits: Types.listBits) }
    init(_ items: [Value], type: PyType) { self.items = items; super.init(type: type) }
    deinit {
        WeakReferents.noteDeath(self)  // a list subclass's instance may have weak references
        if Finalizers.wantsStandIn(self) {
            let standIn = PyList(items, type: type)
            standIn.subclassAttributes = subclassAttributes
            items = []
            Finalizers.queue(standIn: standIn)
        }
        Trashcan.releaseSequence(&items)
    }

    /// A copy of the items at one instant (O(1), copy-on-write).
    @inline(__always) var snapshot: [Value] {
        #if CONC_TSAN
        locked { freshCopy(items) }
        #else
        locked { items }
        #endif
    }
    /// `len(l)`.
    @inline(__always) var count: Int { locked { items.count } }
    /// The item at `i` in `0..<count`, nil when out of range (iterators).
    @inline(__always) func item(at i: Int) -> Value? {
        locked { i >= 0 && i < items.count ? items[i] : nil }
    }
    /// `l[i]` with negative `i` counting from the end; nil when out of range.
    @inline(__always) func item(normalizing i: Int) -> Value? {
        locked {
            let j = i < 0 ? i + items.count : i
            return j >= 0 && j < items.count ? items[j] : nil
        }
    }
    /// `l[i] = v` with negative `i` counting from the end; the replaced item, nil (and no
    /// change) when out of range.
    @inline(__always) func setItem(normalizing i: Int, _ v: Value) -> Value? {
        locked {
            let j = i < 0 ? i + items.count : i
            guard j >= 0 && j < items.count else { return nil }
            let old = items[j]
            items[j] = v
            return old
        }
    }
    /// `l.append(v)`.
    @inline(__always) func append(_ v: Value) { locked { items.append(v) } }
    /// Replaces all the items; returns the old ones (release them after the lock).
    @discardableResult func replaceAll(_ new: [Value]) -> [Value] {
        locked {
            let old = items
            items = new
            return old
        }
    }
    /// Runs `body` on the items in place, holding the lock: one atomic step of a list
    /// method. `body` must not run Conc code; it returns what it removes, if anything, so
    /// that the release happens after the lock.
    @inline(__always) func withItems<R>(_ body: (inout [Value]) throws -> R) rethrows -> R {
        try locked { try body(&items) }
    }
}

/// An immutable tuple.
public final class PyTuple: PyObject, SubclassAttributes {
    var subclassAttributes: PyDict?
    /// The elements. Never mutated after creation (but by deinit).
    private(set) var items: [Value]
    init(_ items: [Value]) { self.items = items; super.init(typeBits: Types.tupleBits) }
    init(_ items: [Value], type: PyType) { self.items = items; super.init(type: type) }
    deinit {
        if Finalizers.wantsStandIn(self) {
            let standIn = PyTuple(items, type: type)
            standIn.subclassAttributes = subclassAttributes
            items = []
            Finalizers.queue(standIn: standIn)
        }
        Trashcan.releaseSequence(&items)
    }
    static let empty = PyTuple([])
}

/// `range(start, stop, step)`.
public final class PyRange: PyObject {
    let start: Int, stop: Int, step: Int
    init(_ start: Int, _ stop: Int, _ step: Int) {
        self.start = start; self.stop = stop; self.step = step
        super.init(type: Types.range)
    }
    /// Number of elements: counted in unsigned arithmetic, because the distance between the
    /// bounds may exceed Int.max (range(-M, M, 2)) and the step may be Int.min;
    /// ``checkedRange(_:_:_:)`` made sure the count itself fits.
    var count: Int { Int(truncatingIfNeeded: unsignedCount) }
    /// The number of elements, which may exceed Int.max (``checkedRange(_:_:_:)`` refuses those).
    var unsignedCount: UInt {
        if step > 0 { return start < stop ? (UInt(bitPattern: stop &- start) - 1) / UInt(step) + 1 : 0 }
        return start > stop ? (UInt(bitPattern: start &- stop) - 1) / step.magnitude + 1 : 0
    }
}

/// `slice(start, stop, step)`: the object behind `a[1:2:3]`.
public final class PySlice: PyObject {
    /// Fixed by init; `var` only so that deinit releases them in the trashcan's bracket.
    private(set) var start: Value, stop: Value, step: Value
    init(_ start: Value, _ stop: Value, _ step: Value) {
        self.start = start; self.stop = stop; self.step = step
        super.init(type: Types.slice)
    }
    deinit {
        Trashcan.releaseFields([start, stop, step]) { start = .none; stop = .none; step = .none }
    }
}

/// A module object: its globals plus identity.
public final class PyModule: PyObject {
    /// `__name__`.
    let name: String
    /// The module's global variables. Compiled code holds these cells directly.
    let globals: Globals
    /// Names a native module's `__getattr__` loads from Conc code on first use (time's
    /// strptime), for `dir()`. Set by the module's builder before it is published.
    var lazyNames: [String] = []
    init(name: String, globals: Globals) {
        self.name = name; self.globals = globals
        super.init(type: Types.module)
    }
    deinit { WeakReferents.noteDeath(self) }
}

/// The global variables of one module: a name → cell table.
///
/// Compiled nodes keep direct references to the cells, so a global load is one pointer read.
/// Cells are created (unbound) when code referring to them is compiled.
/// Free-threaded evaluation: `cells` and `order` are guarded by this object's striped lock
/// (``withObjectLock(_:_:)``), never held together with a cell's lock: a cell is looked up
/// under it, then read or written under its own.
public final class Globals {
    /// Name → cell. Grows while compiling and when `setattr(module, …)` adds names.
    private var cells: [String: Cell] = [:]
    /// Names in order of first binding, for `dir()` and `globals()`.
    private var order: [String] = []

    /// The cell for `name`, created unbound if missing.
    func cell(_ name: String) -> Cell {
        withObjectLock(self) {
            if let c = cells[name] { return c }
            let c = Cell()
            c.countsPresence = true
            Immortal.make(c)  // read by every unit's global loads
            cells[name] = c
            order.append(name)
            return c
        }
    }
    /// Counts every change of a module global between bound and unbound, in any module
    /// (rare: a name's first binding, `del`): a `globals()` dict refilled from a list of
    /// bound names read before this count moved would bring back a stale set of keys
    /// (``PyDict/takeInVariables(_:)``).
    static let presenceEpoch = Atomic<Int>(0)
    static func presenceChanged() { presenceEpoch.add(1, ordering: .sequentiallyConsistent) }

    /// The cell for `name`, if one exists.
    func existingCell(_ name: String) -> Cell? { withObjectLock(self) { cells[name] } }
    /// The bound value of `name`, or nil.
    func get(_ name: String) -> Value? {
        guard let c = existingCell(name) else { return nil }
        let v = c.value
        return v.isUnbound ? nil : v
    }
    func set(_ name: String, _ v: Value) {
        if builtinNames != nil { noteRebinding(name) }
        cell(name).value = v
    }
    /// The value of `name`, or `v` after binding it, as one step.
    func setDefault(_ name: String, _ v: Value) -> Value {
        if builtinNames != nil { noteRebinding(name) }
        return cell(name).bindIfUnbound(v)
    }
    /// Unbinds `name` (`del globals()[name]`); false if it was not bound.
    func unbind(_ name: String) -> Bool {
        if builtinNames != nil { noteRebinding(name) }
        guard let c = existingCell(name) else { return false }
        return !c.take().isUnbound
    }

    /// For the builtins module only: the names of the builtins compiled code was given
    /// (set once, after the module is filled, before anyone sees it); nil for other modules.
    /// Every write goes through ``set(_:_:)``, ``setDefault(_:_:)`` or ``unbind(_:)``
    /// (nothing compiles code against the builtins module's own cells).
    var builtinNames: Set<String>? = nil
    /// Set once a program replaces or deletes one of ``builtinNames`` (`builtins.print =
    /// log`): until then a global name its module never binds is the builtin found at
    /// compile time (``GlobalNode``); from then on it is looked up here on each load. A unit
    /// that reads it late uses the old builtin a moment longer, as a race would.
    private let rebound = Atomic<Bool>(false)
    var hasReboundBuiltin: Bool { rebound.load(ordering: .relaxed) }
    /// ``hasReboundBuiltin`` of the builtins module compiled code holds unretained (false
    /// for none: a fixed `__builtins__` dict).
    @inline(__always) static func hasReboundBuiltin(_ module: Unmanaged<Globals>?) -> Bool {
        module?._withUnsafeGuaranteedRef { $0.hasReboundBuiltin } ?? false
    }
    private func noteRebinding(_ name: String) {
        if builtinNames?.contains(name) == true { rebound.store(true, ordering: .relaxed) }
    }
    /// The dict `globals()` returns for this module: one object (so `globals() is
    /// globals()`), refilled at every `globals()` call, whose stores and deletions of str
    /// keys go through to the variables and whose lookups read them (``PyDict/globalsOf``).
    /// Made once, under this object's lock, and linked to this module before anyone sees it.
    private var mirrorDict: PyDict?
    var mirror: PyDict {
        withObjectLock(self) {
            if let d = mirrorDict { return d }
            let d = PyDict()
            d.globalsOf = self
            mirrorDict = d
            return d
        }
    }
    /// True for the variables exec()/eval() made for a plain dict, which is their mirror
    /// from then on (``adoptMirror(_:)``); set once, before the code runs.
    private(set) var isExecNamespace = false
    /// Makes `d` (a plain dict given to exec() or eval()) this namespace's mirror: stores and
    /// lookups through it reach the variables, functions the code defined keep seeing it,
    /// and the next exec() with it runs in the same variables, as CPython's exec uses the dict itself.
    func adoptMirror(_ d: PyDict) {
        withObjectLock(self) {
            mirrorDict = d
            isExecNamespace = true
        }
        d.globalsOf = self
    }
    /// Bound names in definition order.
    var boundNames: [String] {
        let entries: [(String, Cell)] = withObjectLock(self) { order.map { ($0, cells[$0]!) } }
        return entries.filter { !$0.1.value.isUnbound }.map { $0.0 }
    }
}

/// True when every byte is below 0x80, eight bytes per test.
@inline(__always) func allASCII(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = buf.baseAddress else { return true }
    let raw = UnsafeRawPointer(base), n = buf.count
    var i = 0
    while i + 8 <= n {
        if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
        i += 8
    }
    while i < n { if base[i] >= 0x80 { return false }; i += 1 }
    return true
}

/// The per-process seed of str hashes: random, like CPython's, unless PYTHONHASHSEED
/// names a number (then hashes, and so set and dict iteration of strs, repeat across runs).
private let strHashSeedOnce: UInt64 = {
    let seed: UInt64
    if let text = getenv("PYTHONHASHSEED").map({ String(cString: $0) }), let n = UInt64(text) {
        seed = n &* 0x9E37_79B9_7F4A_7C15
    } else {
        var h = Hasher()
        h.combine(0x636f_6e63)
        seed = UInt64(bitPattern: Int64(h.finalize()))
    }
    publishedHashSeed = seed
    return seed
}()
/// ``strHashSeedOnce`` published as a plain global (see `publishedStr` in Types.swift for
/// why). nonisolated(unsafe): written once, inside that one-time initialisation, which
/// `Types.ready` runs when the first engine starts, before any other thread exists.
nonisolated(unsafe) private var publishedHashSeed: UInt64? = nil
/// The per-process seed of str hashes.
var strHashSeed: UInt64 { @inline(__always) get { publishedHashSeed ?? strHashSeedOnce } }

/// `hash(s)` of a str's UTF-8 bytes: eight bytes per multiply, then a full avalanche
/// (MurmurHash3's finaliser), so the low bits that pick a hash-table slot depend on every
/// byte. Several times cheaper than SipHash on the short keys dicts mostly hold; like
/// CPython, never -1. bytes hash the same way, so an ASCII str and its bytes hash alike.
func strHash(_ p: UnsafeBufferPointer<UInt8>) -> Int {
    let n = p.count
    if n == 0 { return 0 }  // CPython's hash('') and hash(b'')
    var h = strHashSeed ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
    var i = 0
    if let base = p.baseAddress {
        let raw = UnsafeRawPointer(base)
        while i + 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xbf58_476d_1ce4_e5b9
            h ^= h >> 31
            i += 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n { w |= UInt64(base[i]) << shift; shift += 8; i += 1 }
            h = (h ^ w) &* 0xbf58_476d_1ce4_e5b9
            h ^= h >> 31
        }
    }
    h ^= h >> 33; h = h &* 0xff51_afd7_ed55_8ccd
    h ^= h >> 33; h = h &* 0xc4ce_b9fe_1a85_ec53
    h ^= h >> 33
    let r = Int(bitPattern: UInt(h))
    return r == -1 ? -2 : r
}

/// The scalar whose UTF-8 encoding starts at `k` in valid UTF-8 `buf`.
@inline(__always) func decodeScalar(_ buf: UnsafeBufferPointer<UInt8>, at k: Int) -> Unicode.Scalar {
    let b0 = UInt32(buf[k])
    if b0 < 0x80 { return Unicode.Scalar(b0)! }
    if b0 < 0xE0 { return Unicode.Scalar(((b0 & 0x1F) << 6) | (UInt32(buf[k + 1]) & 0x3F)) ?? "\u{FFFD}" }
    if b0 < 0xF0 {
        return Unicode.Scalar(((b0 & 0x0F) << 12) | ((UInt32(buf[k + 1]) & 0x3F) << 6) | (UInt32(buf[k + 2]) & 0x3F)) ?? "\u{FFFD}"
    }
    let v = ((b0 & 0x07) << 18) | ((UInt32(buf[k + 1]) & 0x3F) << 12) | ((UInt32(buf[k + 2]) & 0x3F) << 6) | (UInt32(buf[k + 3]) & 0x3F)
    return Unicode.Scalar(v) ?? "\u{FFFD}"
}
