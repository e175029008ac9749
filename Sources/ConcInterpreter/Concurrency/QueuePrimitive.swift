// `queue(maxsize=0)`: a FIFO of copies, in the shared arena.
import CConcShared
#if canImport(Glibc)
import Glibc
#endif

/// `queue()`: items are encoded by ``ValueEncoder`` at put and decoded at get, so the
/// receiver always gets its own copy.
final class PyQueue: PySharedPrimitive, @unchecked Sendable {  // see PySharedPrimitive
    init(_ u: Unit, maxsize: Int) throws {
        guard let prim = conc_queue_create(u.engine.arena, UInt64(max(0, maxsize))) else { throw arenaExhausted() }
        super.init(prim: prim, type: Types.queue, createdAt: u.currentLocation(), forkEpoch: u.engine.forkEpoch)
    }

    init(adopting prim: OpaquePointer, createdAt: String) {
        super.init(prim: prim, type: Types.queue, createdAt: createdAt, forkEpoch: -1)
    }

    /// `put(item, block, timeout)`.
    func put(_ u: Unit, _ item: Value, block: Bool, timeout: Double?) throws {
        var encoder = ValueEncoder(u)
        try encoder.encode(item)
        let bytes = encoder.bytes
        var r = bytes.withUnsafeBytes { conc_queue_try_put(prim, $0.baseAddress, $0.count) }
        if r == CONC_FULL && block {
            let reason = BlockReason(describe: { [unowned self, engine = u.engine] in "waits to put into \(self.described(engine)), which is full" }, holder: { nil },
                                     stillBlocked: { [prim] in conc_queue_full(prim) != 0 }, word: seqWord)
            _ = try u.park(word: seqWord, waiters: .primitive(prim), timeout: timeout, crossProcess: isShared(u.engine), reason: reason) {
                r = bytes.withUnsafeBytes { conc_queue_try_put(prim, $0.baseAddress, $0.count) }
                return r != CONC_FULL
            }
        }
        switch r {
        case CONC_OK: return
        case CONC_FULL: throw PyBaseException(type: Exc.queueFull, args: [])
        case CONC_CLOSED: throw valueError("put() on a closed queue()")
        default: throw arenaExhausted()
        }
    }

    /// `get(block, timeout)`.
    func get(_ u: Unit, block: Bool, timeout: Double?) throws -> Value {
        var out: UnsafeMutableRawPointer? = nil
        var length = 0
        var r = conc_queue_try_get(prim, &out, &length)
        if r == CONC_EMPTY && block {
            let reason = BlockReason(describe: { [unowned self, engine = u.engine] in "waits to get from \(self.described(engine)), which is empty" }, holder: { nil },
                                     stillBlocked: { [prim] in conc_queue_empty(prim) != 0 && conc_queue_closed(prim) == 0 }, word: seqWord)
            _ = try u.park(word: seqWord, waiters: .primitive(prim), timeout: timeout, crossProcess: isShared(u.engine), reason: reason) {
                r = conc_queue_try_get(prim, &out, &length)
                return r != CONC_EMPTY
            }
        }
        switch r {
        case CONC_OK:
            defer { free(out) }
            var decoder = ValueDecoder(UnsafeRawBufferPointer(start: out, count: length), u)
            return try decoder.decode()
        case CONC_EMPTY: throw PyBaseException(type: Exc.queueEmpty, args: [])
        case CONC_CLOSED: throw valueError("get() on a closed and empty queue()")
        default: throw arenaExhausted()
        }
    }

    /// `join()`: waits until every item put has been marked done.
    func join(_ u: Unit) throws {
        let reason = BlockReason(describe: { [unowned self, engine = u.engine] in "waits in join() of \(self.described(engine)) for task_done() calls" }, holder: { nil },
                                 stillBlocked: { [prim] in conc_queue_unfinished(prim) != 0 }, word: seqWord)
        _ = try u.park(word: seqWord, waiters: .primitive(prim), timeout: nil, crossProcess: isShared(u.engine), reason: reason) { [prim] in
            conc_queue_unfinished(prim) == 0
        }
    }
}
