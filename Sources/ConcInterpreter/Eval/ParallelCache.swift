// Inline caches that units may fill while they run in parallel. A node's ordinary cache
// fields are several words and are written only while units run one at a time; while they
// run in parallel, a node instead publishes an immutable entry through one atomic word.
// Entries are immortal (never freed), so a unit may use one while another unit replaces
// it, and retaining or releasing one writes nothing; as they are never freed, a node
// publishes at most `ParallelCacheWord.limit` of them (a site whose entries keep going
// stale, e.g. because a loop keeps assigning class attributes, stops caching).
import CConcSys

/// `obj.name` loads and stores: instances of `shape` keep the attribute in `slot`; a store
/// to them then gives them shape `result` (nil: the slot exists already).
final class AttributeCacheEntry {
    let epoch: Int
    let shape: Shape
    let slot: Int
    let result: Shape?
    init(epoch: Int, shape: Shape, slot: Int, result: Shape?) {
        self.epoch = epoch; self.shape = shape; self.slot = slot; self.result = result
        Immortal.make(self)
    }
}

/// `obj.name(...)`: receivers whose layout is `key` (an instance shape or a builtin type)
/// resolve `name` to `method`.
final class MethodCacheEntry {
    let epoch: Int
    let key: AnyObject
    let method: PyObject
    init(epoch: Int, key: AnyObject, method: PyObject) {
        self.epoch = epoch; self.key = key; self.method = method
        Immortal.make(self)
    }
}

/// One node's published entry: word 0 holds the entry's address (0 for none), word 1 how
/// many entries the node published. The words live outside the (immortal) node.
struct ParallelCacheWord {
    static let limit = 8
    private let words: UnsafeMutablePointer<Int>
    init() {
        words = .allocate(capacity: 2)
        words.initialize(repeating: 0, count: 2)
    }
    /// The published entry, if any (acquire: its fields were written before publication).
    @inline(__always) func entry<T: AnyObject>(_: T.Type) -> T? {
        let raw = CConcSys_atomic_load_word(words)
        guard raw != 0, let p = UnsafeRawPointer(bitPattern: raw) else { return nil }
        return Unmanaged<T>.fromOpaque(p).takeUnretainedValue()
    }
    /// Whether the node may still publish (checked before making an entry, which is never
    /// freed).
    @inline(__always) var canPublish: Bool { CConcSys_atomic_load_word(words + 1) < ParallelCacheWord.limit }
    /// Publishes `e` (made immortal by its initialiser).
    func publish(_ e: AnyObject) {
        guard CConcSys_atomic_increment_word(words + 1) <= ParallelCacheWord.limit else { return }
        CConcSys_atomic_store_word(words, Int(bitPattern: Unmanaged.passUnretained(e).toOpaque()))
    }
}
