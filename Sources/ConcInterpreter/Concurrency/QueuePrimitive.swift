// `queue(maxsize=0)`: a FIFO of copies, in the shared arena.
import CConcShared
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `queue()`: items are encoded by ``ValueEncoder`` at put and decoded at get, so the
/// receiver always gets its own copy.
final class PyQueue: PySharedPrimitive, @unchecked Sendable {  // see PySharedPrimitive
    /// True for the engine of `queue.Queue`: items are references to the very objects put
    /// (retained while queued), usable only inside this process.
    let byReference: Bool
    /// The maxsize given at creation (0: unbounded); -1 for one adopted from another process.
    let maxsize: Int
    /// The Conc `queue.Queue` that took this engine's items when the program first touched
    /// the queue's internals (``retire(to:)``, stdlib/queue.conc). Set once, before the C
    /// queue is retired; read by calls that find it retired, which then go there instead.
    private let successor = Mutex<PyObject?>(nil)

    init(_ u: Unit, maxsize: Int, byReference: Bool = false) throws {
        self.byReference = byReference
        self.maxsize = max(0, maxsize)
        // queue.Queue's engine is private: a forked child gets a copy holding the same
        // references (to its copies of the objects), as CPython's child gets a copy.
        guard let prim = conc_queue_create(u.engine.arena(local: byReference), UInt64(max(0, maxsize))) else { throw arenaExhausted() }
        super.init(prim: prim, type: Types.queue, createdAt: u.currentLocation(), forkEpoch: u.engine.forkEpoch, registry: u.engine.primitives)
    }

    init(adopting prim: OpaquePointer, createdAt: String, registry: PrimitiveRegistry) {
        byReference = false
        maxsize = -1
        super.init(prim: prim, type: Types.queue, createdAt: createdAt, forkEpoch: -1, registry: registry)
    }

    deinit {
        // Queued references were retained by put: give them back (unless another process
        // still shares the queue).
        guard byReference, conc_prim_refcount(prim) == 1 else { return }
        var out: UnsafeMutableRawPointer? = nil
        var length = 0
        while conc_queue_try_get(prim, &out, &length) == CONC_OK {
            _ = ReferenceCodec.decode(UnsafeRawBufferPointer(start: out, count: length))
            free(out)
        }
    }

    /// `put(item, block, timeout)`.
    func put(_ u: Unit, _ item: Value, block: Bool, timeout: Double?) throws {
        let started = timeout == nil ? 0 : monotonicSeconds()
        let bytes: [UInt8]
        if byReference {
            bytes = ReferenceCodec.encode(item)
        } else {
            var encoder = ValueEncoder(u)
            try encoder.encode(item)
            bytes = encoder.bytes
        }
        var r = bytes.withUnsafeBytes { conc_queue_try_put(prim, $0.baseAddress, $0.count) }
        if r == CONC_FULL && block && (timeout ?? 1) > 0, u.spinBeforeParking({
            r = bytes.withUnsafeBytes { conc_queue_try_put(prim, $0.baseAddress, $0.count) }
            return r != CONC_FULL
        }) {
            // Room came within the short spin (most waits end there): no place in line needed.
        } else if r == CONC_FULL && block {
            // Waiting putters are served oldest first, as CPython's are: take a place in line.
            let turn = conc_queue_enlist(prim, CONC_QUEUE_PUTTER, u.unitID)
            defer { if let t = turn { conc_queue_delist(prim, t) } }
            _ = try park(u, timeout: timeout, waits: { "waits to put into \(self.described($0)), which is full" },
                         stillBlocked: { [prim] in conc_queue_full(prim) != 0 && conc_queue_closed(prim) == 0 }, spins: false) {
                r = bytes.withUnsafeBytes {
                    if let t = turn { return conc_queue_try_put_in_turn(prim, t, $0.baseAddress, $0.count) }
                    return conc_queue_try_put(prim, $0.baseAddress, $0.count)
                }
                return r != CONC_FULL
            }
        }
        // An item that did not go in gives its retain back.
        if byReference && r != CONC_OK { _ = bytes.withUnsafeBytes { ReferenceCodec.decode($0) } }
        switch r {
        case CONC_OK: return
        case CONC_FULL: throw PyBaseException(type: Exc.queueFull, args: [])
        case CONC_CLOSED where isRetired:
            _ = try forward(u, "put", [item, .bool(block), remaining(timeout, since: started)])
        case CONC_CLOSED: throw valueError("put() on a closed queue()")
        default: throw arenaExhausted()
        }
    }

    /// `get(block, timeout)`.
    func get(_ u: Unit, block: Bool, timeout: Double?) throws -> Value {
        let started = timeout == nil ? 0 : monotonicSeconds()
        var out: UnsafeMutableRawPointer? = nil
        var length = 0
        var r = conc_queue_try_get(prim, &out, &length)
        if r == CONC_EMPTY && block && (timeout ?? 1) > 0, u.spinBeforeParking({
            r = conc_queue_try_get(prim, &out, &length)
            return r != CONC_EMPTY
        }) {
            // An item came within the short spin (most waits end there): no place in line
            // needed, which would cost two trips through the queue's mutex.
        } else if r == CONC_EMPTY && block {
            // Waiting getters are served oldest first, as CPython's are: take a place in line.
            let turn = conc_queue_enlist(prim, CONC_QUEUE_GETTER, u.unitID)
            defer { if let t = turn { conc_queue_delist(prim, t) } }
            _ = try park(u, timeout: timeout, waits: { "waits to get from \(self.described($0)), which is empty" },
                         stillBlocked: { [prim] in conc_queue_empty(prim) != 0 && conc_queue_closed(prim) == 0 }, spins: false) {
                if let t = turn { r = conc_queue_try_get_in_turn(prim, t, &out, &length) } else { r = conc_queue_try_get(prim, &out, &length) }
                return r != CONC_EMPTY
            }
        }
        switch r {
        case CONC_OK:
            defer { free(out) }
            if byReference {
                return ReferenceCodec.decode(UnsafeRawBufferPointer(start: out, count: length))
            }
            var decoder = ValueDecoder(UnsafeRawBufferPointer(start: out, count: length), u)
            return try decoder.decode()
        case CONC_EMPTY: throw PyBaseException(type: Exc.queueEmpty, args: [])
        case CONC_CLOSED where isRetired: return try forward(u, "get", [.bool(block), remaining(timeout, since: started)])
        case CONC_CLOSED: throw valueError("get() on a closed and empty queue()")
        default: throw arenaExhausted()
        }
    }

    /// `join()`: waits until every item put has been marked done.
    func join(_ u: Unit) throws {
        _ = try park(u, timeout: nil, waits: { "waits in join() of \(self.described($0)) for task_done() calls" },
                     stillBlocked: { [prim] in conc_queue_unfinished(prim) != 0 && conc_queue_retired(prim) == 0 }) { [prim] in
            conc_queue_unfinished(prim) == 0 || conc_queue_retired(prim) != 0
        }
        if isRetired { _ = try forward(u, "join", []) }
    }

    /// `task_done()`.
    func taskDone(_ u: Unit) throws {
        switch conc_queue_task_done(prim) {
        case CONC_OVER_RELEASE: throw valueError("task_done() called too many times")
        case CONC_CLOSED: _ = try forward(u, "task_done", [])
        default: return
        }
    }

    // MARK: Handing over to queue.Queue's Conc implementation

    /// True once ``retire(to:)`` ran: every call goes to the successor.
    var isRetired: Bool { conc_queue_retired(prim) != 0 }

    /// Retires this engine in favour of `queue` (a `queue.Queue` about to run on its Conc
    /// code) and returns the items still queued, oldest first, and the unfinished count.
    /// Units blocked in put/get/join wake and repeat their call on `queue`, as does every
    /// later call through the engine's bound methods.
    func retire(to queue: PyObject) -> (items: [Value], unfinished: Int) {
        precondition(byReference, "only queue.Queue's engine hands over")
        successor.withLock { $0 = queue }
        let unfinished = Int(conc_queue_retire(prim))
        var items: [Value] = []
        var out: UnsafeMutableRawPointer? = nil
        var length = 0
        while conc_queue_try_get(prim, &out, &length) == CONC_OK {
            items.append(ReferenceCodec.decode(UnsafeRawBufferPointer(start: out, count: length)))
            free(out)
        }
        return (items, unfinished)
    }

    /// Calls the successor's own `name` (its class's method: the instance may still carry
    /// this engine's bound method under that name).
    func forward(_ u: Unit, _ name: String, _ args: [Value]) throws -> Value {
        guard let queue = successor.withLock({ $0 }), let method = queue.type.lookup(name) else {
            // Retired in another process that shares the C queue since a fork.
            throw runtimeError("queue.Queue passes references within one process: use multiprocessing.Queue or queue() between processes")
        }
        return try u.call(method, [.obj(queue)] + args)
    }

    /// What is left of `timeout` (None for no timeout) after the part already waited here.
    private func remaining(_ timeout: Double?, since started: Double) -> Value {
        guard let t = timeout else { return .none }
        return .float(max(0, t - (monotonicSeconds() - started)))
    }
}

/// Items of a by-reference queue: scalars inline, objects as a retained pointer tagged with
/// the pid of the process that put them.
enum ReferenceCodec {
    static func encode(_ v: Value) -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(13)
        func u64(_ x: UInt64) { withUnsafeBytes(of: x.littleEndian) { b.append(contentsOf: $0) } }
        switch v {
        case .none, .unbound: b.append(0)
        case .bool(let x): b.append(x ? 2 : 1)
        case .int(let i): b.append(3); u64(UInt64(bitPattern: Int64(i)))
        case .float(let d): b.append(4); u64(d.bitPattern)
        case .obj(let o):
            b.append(5)
            u64(UInt64(UInt(bitPattern: Unmanaged.passRetained(o).toOpaque())))
        }
        return b
    }

    /// The value, taking over the retain of an object. (The queue is private to the
    /// process, ``PyQueue/init(_:maxsize:byReference:)``: an address in it is one of this
    /// process's objects, or of its copy of the parent's when it was put before a fork.)
    static func decode(_ b: UnsafeRawBufferPointer) -> Value {
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        switch b[0] {
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .int(Int(Int64(bitPattern: u64(1))))
        case 4: return .float(Double(bitPattern: u64(1)))
        case 5:
            // (Never null: encode stored a retained object's address.)
            let p = UnsafeRawPointer(bitPattern: UInt(u64(1))).unsafelyUnwrapped
            return .obj(Unmanaged<PyObject>.fromOpaque(p).takeRetainedValue())
        default: return .none
        }
    }
}
