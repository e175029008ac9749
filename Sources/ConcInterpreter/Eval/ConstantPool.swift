// Constants shared the way CPython shares them, so that identity (`is`) behaves as
// learners see it there: equal str, bytes and tuple-of-constant literals of one module are
// one object (CPython merges a module's constants), and identifier-like strings are one
// object across the whole interpreter (CPython interns them), so `a = "hello"` and
// `b = "hello"` typed at two REPL prompts give `a is b`.
#if canImport(Glibc)
import Glibc
#endif

/// The constants of one compilation (a module, an exec() or REPL input), with the
/// engine's interned strings behind them. Used only by the thread compiling.
///
/// Keys are bytes, not Swift strings: Swift's String equality is canonical equivalence
/// ("\u{e9}" == "e\u{301}"), while two Python strs are equal only with the same code points.
final class ConstantPool {
    private var table: [[UInt8]: Value] = [:]
    private let interned: InternedStrings?

    init(interned: InternedStrings?) { self.interned = interned }

    /// The pool's object for a str literal.
    func string(_ s: String) -> Value {
        if let interned, InternedStrings.isIdentifierLike(s) { return interned.string(s) }
        return shared(ConstantPool.stringKey(s)) { .str(s) }
    }

    /// The pool's object for a bytes literal.
    func bytes(_ b: [UInt8]) -> Value {
        shared(ConstantPool.bytesKey(b)) { .obj(PyBytes(b)) }
    }

    /// One tuple object for a tuple display whose items are all constants, or nil when an
    /// item is not a constant the pool knows how to compare (by type and value).
    func tuple(_ items: [Value]) -> Value? {
        guard let key = ConstantPool.tupleKey(items) else { return nil }
        return shared(key) { .obj(PyTuple(items)) }
    }

    private func shared(_ key: [UInt8], _ make: () -> Value) -> Value {
        if let v = table[key] { return v }
        let v = make()
        table[key] = v
        return v
    }

    /// A key telling constants apart as CPython's constant cache does: by type, then
    /// value (1, 1.0 and True are three constants; 0.0 and -0.0 two).
    static func key(_ v: Value) -> [UInt8]? {
        func tagged(_ tag: Character, _ text: String) -> [UInt8] { Array(String(tag).utf8) + Array(text.utf8) }
        switch v {
        case .none: return tagged("N", "")
        case .bool(let b): return tagged("b", b ? "1" : "0")
        case .int(let i): return tagged("i", String(i))
        case .float(let d): return tagged("f", String(d.bitPattern))
        case .obj(let o):
            if o === Singletons.ellipsis { return tagged("E", "") }
            if let s = o as? PyStr, o.type === Types.str { return stringKey(s.value) }
            if let b = o as? PyBytes, o.type === Types.bytes { return bytesKey(b.snapshot) }
            if let t = o as? PyTuple, o.type === Types.tuple { return tupleKey(t.items) }
            return nil
        default: return nil
        }
    }

    // Lengths first, so that no two different constants give the same bytes.
    private static func stringKey(_ s: String) -> [UInt8] { Array("s\(s.utf8.count):".utf8) + Array(s.utf8) }
    private static func bytesKey(_ b: [UInt8]) -> [UInt8] { Array("y\(b.count):".utf8) + b }
    private static func tupleKey(_ items: [Value]) -> [UInt8]? {
        var k = Array("t\(items.count):".utf8)
        for item in items {
            guard let ik = key(item) else { return nil }
            k += Array("L\(ik.count):".utf8) + ik
        }
        return k
    }
}

/// The engine's interned strings: one object per identifier-like literal for the whole
/// interpreter. Compiles run on several threads (imports), so the table is locked.
final class InternedStrings: @unchecked Sendable {  // safe: `table` only under `lock`
    private var table: [String: Value] = [:]
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(lock, nil) }
    deinit { pthread_mutex_destroy(lock); lock.deallocate() }

    func string(_ s: String) -> Value {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if let v = table[s] { return v }
        let v = Value.str(s)
        if case .obj(let o) = v { Immortal.make(o) }   // shared by every unit for good
        table[s] = v
        return v
    }

    /// The interned str for `s`, if code compiled so far has one (for `sys.intern`).
    func existing(_ s: String) -> Value? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return table[s]
    }

    /// CPython interns a literal made only of ASCII letters, digits and underscores.
    static func isIdentifierLike(_ s: String) -> Bool {
        s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }
    }
}
