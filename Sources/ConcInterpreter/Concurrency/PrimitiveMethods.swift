// The methods of the synchronisation builtins, with CPython's argument rules and messages
import CConcShared
// (threading.Lock/RLock/Semaphore/Event/Condition and queue.Queue are the models).

extension Exc {
    /// `queue.Empty` / `queue.Full`, shared by the builtin `queue()` and the `queue` module.
    static let queueEmpty: PyType = { let t = make("Empty", exception); t.module = "_queue"; return t }()
    static let queueFull: PyType = { let t = make("Full", exception); t.module = "queue"; return t }()
}

extension Types {
    static let lock: PyType = make("lock") { installLockMethods($0, reentrant: false) }
    static let rlock: PyType = make("rlock") { installLockMethods($0, reentrant: true) }
    /// threading.Lock's and threading.RLock's classes: the same locks under CPython's names.
    static let threadingLock: PyType = make("lock") {
        installLockMethods($0, reentrant: false, threading: true)
        $0.module = "_thread"; $0.messageNameStorage = "_thread.lock"
    }
    static let threadingRLock: PyType = make("RLock") {
        installLockMethods($0, reentrant: true, threading: true)
        $0.module = "_thread"; $0.messageNameStorage = "_thread.RLock"
    }
    static let semaphore: PyType = make("semaphore") { installSemaphoreMethods($0) }
    static let event: PyType = make("event") { installEventMethods($0) }
    static let condition: PyType = make("condition") { installConditionMethods($0) }
    static let queue: PyType = make("queue") { installQueueMethods($0) }
    /// The primitive types, as builtins.
    static var primitives: [PyType] { [lock, rlock, semaphore, event, condition, queue] }
}

extension Unit {
    /// `(blocking=True, timeout=-1)` of Lock.acquire → (blocking, timeout or nil for none).
    func lockAcquireArguments(_ a: Args, _ name: String) throws -> (Bool, Double?) {
        try a.expect(name, 0, 2, keywords: ["blocking", "timeout"])
        // As CPython's lock: blocking is an int (a bool, or anything with __index__), and
        // a timeout that is not a number is asked for an int too.
        let blocking = try a.argument(0, "blocking").map { try toIndex($0) != 0 } ?? true
        var timeout: Double? = nil
        if let t = a.argument(1, "timeout") {
            if t.numericDouble == nil, t.intLike == nil { _ = try toIndex(t) }
            let d = try floatArg(t)
            if d.isNaN { throw valueError("Invalid value NaN (not a number)") }
            if !blocking && d != -1 { throw valueError("can't specify a timeout for a non-blocking call") }
            if d < 0 && d != -1 { throw valueError("timeout value must be positive") }
            if d >= 0 { timeout = try boundedTimeout(d) }
        }
        return (blocking, timeout)
    }

    /// `(blocking=True, timeout=None)` of Semaphore.acquire.
    func semaphoreAcquireArguments(_ a: Args) throws -> (Bool, Double?) {
        try a.expect("acquire", 0, 2, keywords: ["blocking", "timeout"])
        let blocking = try a.argument(0, "blocking").map { try isTruthy($0) } ?? true
        var timeout: Double? = nil
        if let t = a.argument(1, "timeout"), !t.isNone {
            if !blocking { throw valueError("can't specify timeout for non-blocking acquire") }
            timeout = try boundedTimeout(try floatArg(t))
        }
        return (blocking, timeout)
    }

    /// An optional `timeout` argument (None = forever; negative counts as 0).
    func optionalTimeout(_ a: Args, _ index: Int, _ name: String = "timeout") throws -> Double? {
        guard let t = a.argument(index, name), !t.isNone else { return nil }
        return try boundedTimeout(try floatArg(t))
    }

    /// A timeout in seconds as CPython accepts it: negative and NaN count as 0 (callers that
    /// refuse them check first), and one past threading.TIMEOUT_MAX is an OverflowError
    /// (it would overflow the deadline).
    func boundedTimeout(_ d: Double) throws -> Double {
        if d.isNaN { return 0 }
        if d > Unit.timeoutMax { throw pyError(Exc.overflowError, "timestamp out of range for platform time_t") }
        return max(0, d)
    }

    /// threading.TIMEOUT_MAX: the largest timeout a wait accepts.
    static let timeoutMax = 9223372036.0

    /// A queue's `timeout` argument: None = forever; negative is an error, as in queue.Queue.
    func queueTimeout(_ a: Args, _ index: Int) throws -> Double? {
        guard let t = a.argument(index, "timeout"), !t.isNone else { return nil }
        let d = try floatArg(t)
        if d < 0 { throw valueError("'timeout' must be a non-negative number") }
        return try boundedTimeout(d)
    }
}

func installLockMethods(_ t: PyType, reentrant: Bool, threading: Bool = false) {
    func lock(_ v: Value) -> PyLock { v.object as! PyLock }
    t.constructor = { u, _, a in
        try a.expect(reentrant ? (threading ? "RLock" : "rlock") : "lock", 0, 0)
        return .obj(try PyLock(u, reentrant: reentrant, isThreading: threading))
    }
    t.method("acquire") { u, s, a in
        let (blocking, timeout) = try u.lockAcquireArguments(a, "acquire")
        return .bool(try lock(s).acquire(u, blocking: blocking, timeout: timeout))
    }
    t.method("__enter__") { u, s, _ in .bool(try lock(s).acquire(u)) }
    t.method("release") { u, s, a in try a.expect("release", 0, 0); try lock(s).release(u); return .none }
    t.method("__exit__") { u, s, _ in try lock(s).release(u); return .none }
    t.method("locked") { _, s, a in try a.expect("locked", 0, 0); return .bool(lock(s).isLocked) }
    t.method("_is_owned") { u, s, _ in .bool(lock(s).owner == u.unitID) }
    if threading && !reentrant {
        // _thread.lock's old spellings, which CPython still carries.
        t.dict["acquire_lock"] = t.dict["acquire"]
        t.dict["release_lock"] = t.dict["release"]
        t.dict["locked_lock"] = t.dict["locked"]
    }
    // CPython's private helpers, which its own lock tests and Condition use.
    t.method("_at_fork_reinit") { _, s, _ in lock(s).forceUnlock(); return .none }
    if reentrant {
        t.method("_recursion_count") { u, s, _ in
            let l = lock(s)
            return .int(l.owner == u.unitID ? Int(conc_rlock_count(l.prim)) : 0)
        }
        t.method("_release_save") { u, s, _ in
            let l = lock(s)
            var count: UInt32 = 0
            guard l.owner == u.unitID, conc_rlock_release_all(l.prim, u.unitID, &count) == CONC_OK else {
                throw runtimeError("cannot release un-acquired lock")
            }
            return .obj(PyTuple([.int(Int(count)), .int(Int(bitPattern: UInt(u.unitID)))]))
        }
        t.method("_acquire_restore") { u, s, a in
            try a.expect("_acquire_restore", 1, 1)
            guard case .obj(let o) = a[0], let state = o as? PyTuple, state.items.count == 2,
                  case .int(let count) = state.items[0], count >= 1 else {
                throw typeError("_acquire_restore() argument must be the state _release_save() returned")
            }
            let l = lock(s)
            for _ in 0..<count { _ = try l.acquire(u) }
            return .none
        }
    }
    t.method("__repr__") { u, s, _ in
        let l = lock(s)
        let state = l.isLocked ? "locked" : "unlocked"
        if l.isThreading {
            // threading's locks print as CPython's, which its own lock tests match.
            guard reentrant else { return .str("<\(state) _thread.lock object at \(u.address(l))>") }
            let holder = l.isLocked ? l.holderUnit(u.engine)?.threadIdent ?? -1 : 0
            let count = l.isLocked ? Int(conc_rlock_count(l.prim)) : 0
            return .str("<\(state) _thread.RLock object owner=\(holder) count=\(count) at \(u.address(l))>")
        }
        let holder = l.isLocked ? " by \(l.holderUnit(u.engine)?.name ?? "another unit")" : ""
        return .str("<\(state) \(reentrant ? "rlock" : "lock")\(holder), created at \(l.createdAt)>")
    }
}

func installSemaphoreMethods(_ t: PyType) {
    func sem(_ v: Value) -> PySemaphore { v.object as! PySemaphore }
    t.constructor = { u, _, a in
        try a.expect("semaphore", 0, 2, keywords: ["value", "bounded"])
        let n = try a.argument(0, "value").map { try u.toIndex($0) } ?? 1
        let bounded = try a.argument(1, "bounded").map { try u.isTruthy($0) } ?? false
        return .obj(try PySemaphore(u, value: n, bounded: bounded))
    }
    t.method("acquire") { u, s, a in
        let (blocking, timeout) = try u.semaphoreAcquireArguments(a)
        return .bool(try sem(s).acquire(u, blocking: blocking, timeout: timeout))
    }
    t.method("__enter__") { u, s, _ in .bool(try sem(s).acquire(u)) }
    t.method("release") { u, s, a in
        try a.expect("release", 0, 1, keywords: ["n"])
        try sem(s).release(try a.argument(0, "n").map { try u.toIndex($0) } ?? 1)
        return .none
    }
    t.method("__exit__") { _, s, _ in try sem(s).release(1); return .none }
    t.getter("value") { _, s in .int(sem(s).value) }
    t.getter("_value") { _, s in .int(sem(s).value) }
    t.method("__repr__") { _, s, _ in
        let x = sem(s)
        return .str("<\(x.bounded ? "bounded " : "")semaphore value=\(x.value), created at \(x.createdAt)>")
    }
}

func installEventMethods(_ t: PyType) {
    func event(_ v: Value) -> PyEvent { v.object as! PyEvent }
    t.constructor = { u, _, a in try a.expect("event", 0, 0); return .obj(try PyEvent(u)) }
    t.method("set") { _, s, a in try a.expect("set", 0, 0); conc_event_set(event(s).prim); return .none }
    t.method("clear") { _, s, a in try a.expect("clear", 0, 0); conc_event_clear(event(s).prim); return .none }
    t.method("is_set") { _, s, a in try a.expect("is_set", 0, 0); return .bool(event(s).isSet) }
    t.method("isSet") { _, s, a in try a.expect("isSet", 0, 0); return .bool(event(s).isSet) }
    t.method("wait") { u, s, a in
        try a.expect("wait", 0, 1, keywords: ["timeout"])
        // A set event returns at once, before the timeout is looked at (as CPython's).
        if event(s).isSet { return .bool(true) }
        return .bool(try event(s).wait(u, timeout: try u.optionalTimeout(a, 0)))
    }
    t.method("__repr__") { _, s, _ in
        let e = event(s)
        return .str("<event \(e.isSet ? "set" : "unset"), created at \(e.createdAt)>")
    }
}

func installConditionMethods(_ t: PyType) {
    func cond(_ v: Value) -> PyCondition { v.object as! PyCondition }
    t.constructor = { u, _, a in
        try a.expect("condition", 0, 1, keywords: ["lock"])
        var l: PyLock? = nil
        if let v = a.argument(0, "lock"), !v.isNone {
            guard case .obj(let o) = v, let lk = o as? PyLock else {
                throw typeError("condition() needs a lock() or rlock(), not '\(v.typeName)'")
            }
            l = lk
        }
        return .obj(try PyCondition(u, lock: l))
    }
    t.method("acquire") { u, s, a in
        let (blocking, timeout) = try u.lockAcquireArguments(a, "acquire")
        return .bool(try cond(s).lock.acquire(u, blocking: blocking, timeout: timeout))
    }
    t.method("__enter__") { u, s, _ in .bool(try cond(s).lock.acquire(u)) }
    t.method("release") { u, s, _ in try cond(s).lock.release(u); return .none }
    t.method("__exit__") { u, s, _ in try cond(s).lock.release(u); return .none }
    t.method("wait") { u, s, a in
        try a.expect("wait", 0, 1, keywords: ["timeout"])
        return .bool(try cond(s).wait(u, timeout: try u.optionalTimeout(a, 0)))
    }
    t.method("wait_for") { u, s, a in
        try a.expect("wait_for", 1, 2, keywords: ["timeout"])
        let c = cond(s)
        let predicate = a[0]
        let timeout = try u.optionalTimeout(a, 1)
        var deadline: Double? = nil
        var result = try u.call(predicate, [])
        // CPython's loop: the first wait happens even with a timeout of 0 (so it checks that
        // the lock is held, and the predicate is asked again after it).
        while !(try u.isTruthy(result)) {
            var wait = timeout
            if let t = timeout {
                if let d = deadline {
                    wait = d - monotonicSeconds()
                    if wait! <= 0 { break }
                } else {
                    deadline = monotonicSeconds() + t
                }
            }
            _ = try c.wait(u, timeout: wait)
            result = try u.call(predicate, [])
        }
        return result
    }
    t.method("notify") { u, s, a in
        try a.expect("notify", 0, 1, keywords: ["n"])
        try cond(s).notify(u, try a.argument(0, "n").map { try u.toIndex($0) } ?? 1)
        return .none
    }
    t.method("notify_all") { u, s, a in try a.expect("notify_all", 0, 0); try cond(s).notifyAll(u); return .none }
    t.method("notifyAll") { u, s, a in try a.expect("notifyAll", 0, 0); try cond(s).notifyAll(u); return .none }
    t.method("__repr__") { u, s, _ in .str("<condition over \(cond(s).lock.described(u.engine)), created at \(cond(s).createdAt)>") }
}

func installQueueMethods(_ t: PyType) {
    func queue(_ v: Value) -> PyQueue { v.object as! PyQueue }
    t.constructor = { u, _, a in
        try a.expect("queue", 0, 1, keywords: ["maxsize"])
        return .obj(try PyQueue(u, maxsize: try a.argument(0, "maxsize").map { try u.toIndex($0) } ?? 0))
    }
    t.dict["Empty"] = .obj(Exc.queueEmpty)
    t.dict["Full"] = .obj(Exc.queueFull)
    t.method("put") { u, s, a in
        try a.expect("put", 0, 3, keywords: ["item", "block", "timeout"])
        guard let item = a.argument(0, "item") else { throw typeError("put() missing required argument 'item' (pos 1)") }
        let block = try a.argument(1, "block").map { try u.isTruthy($0) } ?? true
        let q = queue(s)
        // queue.Queue never waits to put into an unbounded queue, so, as CPython's, it
        // does not look at the timeout then.
        let ignoresTimeout = q.byReference && q.maxsize == 0
        try q.put(u, item, block: block, timeout: block && !ignoresTimeout ? try u.queueTimeout(a, 2) : nil)
        return .none
    }
    t.method("put_nowait") { u, s, a in
        try a.expect("put_nowait", 0, 1, keywords: ["item"])
        guard let item = a.argument(0, "item") else { throw typeError("put_nowait() missing required argument 'item' (pos 1)") }
        try queue(s).put(u, item, block: false, timeout: nil)
        return .none
    }
    t.method("get") { u, s, a in
        try a.expect("get", 0, 2, keywords: ["block", "timeout"])
        let block = try a.argument(0, "block").map { try u.isTruthy($0) } ?? true
        return try queue(s).get(u, block: block, timeout: block ? try u.queueTimeout(a, 1) : nil)
    }
    t.method("get_nowait") { u, s, a in try a.expect("get_nowait", 0, 0); return try queue(s).get(u, block: false, timeout: nil) }
    t.method("qsize") { u, s, a in
        try a.expect("qsize", 0, 0)
        let q = queue(s)
        return q.isRetired ? try q.forward(u, "qsize", []) : .int(Int(conc_queue_qsize(q.prim)))
    }
    t.method("empty") { u, s, a in
        try a.expect("empty", 0, 0)
        let q = queue(s)
        return q.isRetired ? try q.forward(u, "empty", []) : .bool(conc_queue_empty(q.prim) != 0)
    }
    t.method("full") { u, s, a in
        try a.expect("full", 0, 0)
        let q = queue(s)
        return q.isRetired ? try q.forward(u, "full", []) : .bool(conc_queue_full(q.prim) != 0)
    }
    t.method("task_done") { u, s, a in try a.expect("task_done", 0, 0); try queue(s).taskDone(u); return .none }
    t.method("join") { u, s, a in try a.expect("join", 0, 0); try queue(s).join(u); return .none }
    t.method("close") { _, s, a in try a.expect("close", 0, 0); conc_queue_close(queue(s).prim); return .none }
    t.method("__repr__") { _, s, _ in
        let q = queue(s)
        return .str("<queue of \(conc_queue_qsize(q.prim)) items, created at \(q.createdAt)>")
    }
}
