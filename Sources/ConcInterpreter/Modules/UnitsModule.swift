// `_units`: what the Conc-written `threading` module needs to know about units (the
// current one, the main one, the live ones, thread ids). Not meant for learners' code.
import CConcShared
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

extension Unit {
    /// This unit's handle; the main unit gets one on first use (it never finishes).
    func ownHandle() -> PyUnitHandle {
        if let h = handle { return h }
        let h = PyUnitHandle(kind: .thread, name: name, daemon: false)
        h.ident = threadIdent
        h.nativeID = nativeID
        __atomicStore(h.started, 1)
        h.unitNumber = number
        handle = h
        return h
    }
}

extension Engine {
    func makeUnitsModule() -> PyModule {
        nativeModule("_units", [
            // The stdlib's mark on a function or class standing for one CPython writes in C
            // (functools.reduce, OrderedDict): its frames are left out of tracebacks, as C
            // frames are. Returns its first argument, so it also serves as a decorator.
            native("stands_for_c") { _, a in
                for v in a.positional { markStandingForC(v) }
                return a.count > 0 ? a[0] : .none
            },
            // A float as a C float holds it (multiprocessing's Value('f', 0.1) and
            // Array('f'): 0.10000000149011612, as ctypes' c_float gives it back).
            native("float32") { _, a in
                try a.expect("float32", 1, 1)
                guard case .float(let d) = a[0] else { throw typeError("float32() takes a float") }
                return .float(Double(Float(d)))
            },
            // Handles are read (and the main unit's made) under the unit registry's lock: a
            // unit lets go of its handle once it has left the registry (Threads.swift).
            native("current") { u, a in try a.expect("current", 0, 0); return .obj(u.engine.units.withLock { u.ownHandle() }) },
            native("main") { u, a in
                try a.expect("main", 0, 0)
                return .obj(u.engine.units.withLock { u.engine.mainUnit.ownHandle() })
            },
            // multiprocessing's atexit callback (CPython's util._exit_function): the end of
            // the child processes, where it comes among the callbacks. What it raises is
            // reported by the program's end, after the other callbacks.
            native("end_child_processes") { u, a in
                try a.expect("end_child_processes", 0, 0)
                guard u.isMain else { return .none }
                do { try u.engine.finishChildProcesses() } catch let e as PyBaseException { u.engine.childProcessesError = e }
                return .none
            },
            native("live") { u, a in
                try a.expect("live", 0, 0)
                return .obj(PyList(u.engine.units.liveHandles().map { .obj($0) }))
            },
            // The primitives of the threading and queue modules are private to a process
            // (``Engine/privateArena``): a forked child gets its own copies, as in CPython,
            // where a threading.Lock handed to a Process guards nothing across processes.
            reexported("unowned_lock", as: "allocate_lock", in: "_thread") { u, a in
                // threading.Lock: any unit may release it; its holder acquiring again blocks.
                try a.expect("allocate_lock", 0, 0)
                return .obj(try PyLock(u, reentrant: false, isThreading: true, local: true))
            },
            native("shared_unowned_lock") { u, a in
                // multiprocessing.Lock: threading.Lock's semantics, shared with the children.
                try a.expect("shared_unowned_lock", 0, 0)
                return .obj(try PyLock(u, reentrant: false, isThreading: true))
            },
            ("thread_local", .obj(Types.threadLocal)),
            reexported("threading_rlock", as: "RLock", in: "threading") { u, a in
                // threading.RLock: the builtin rlock(), printed as CPython's _thread.RLock.
                try a.expect("RLock", 0, 0)
                return .obj(try PyLock(u, reentrant: true, isThreading: true, local: true))
            },
            native("set_role") { u, a in
                // The stdlib's name for what a primitive is for, in deadlock reports.
                try a.expect("set_role", 2, 2)
                guard case .obj(let o) = a[0], let p = o as? PySharedPrimitive, let role = a[1].asStr?.value else {
                    throw typeError("set_role() takes a primitive and a str")
                }
                p.role = role
                return .none
            },
            native("local_lock") { u, a in
                try a.expect("local_lock", 0, 0)
                return .obj(try PyLock(u, reentrant: false, local: true))
            },
            native("local_semaphore") { u, a in
                try a.expect("local_semaphore", 1, 2)
                return .obj(try PySemaphore(u, value: try u.toIndex(a[0]), bounded: a.count > 1 ? try u.isTruthy(a[1]) : false, local: true))
            },
            native("local_event") { u, a in
                try a.expect("local_event", 0, 0)
                return .obj(try PyEvent(u, local: true))
            },
            native("local_condition") { u, a in
                try a.expect("local_condition", 0, 1)
                let lock: PyLock?
                if a.count == 0 || a[0].isNone { lock = nil } else {
                    guard case .obj(let o) = a[0], let l = o as? PyLock else { throw typeError("local_condition() takes a lock") }
                    lock = l
                }
                return .obj(try PyCondition(u, lock: lock, local: true))
            },
            native("ref_queue") { u, a in
                // queue.Queue's engine: a queue() that passes references, within one process.
                try a.expect("ref_queue", 0, 1)
                return .obj(try PyQueue(u, maxsize: try a.argument(0, "maxsize").map { try u.toIndex($0) } ?? 0, byReference: true))
            },
            native("queue_retire") { u, a in
                // queue.Queue leaving its native engine for its Conc code: (items, unfinished).
                try a.expect("queue_retire", 2, 2)
                guard case .obj(let o) = a[0], let q = o as? PyQueue, q.byReference, case .obj(let successor) = a[1] else {
                    throw typeError("queue_retire() takes queue.Queue's engine and the queue.Queue")
                }
                let (items, unfinished) = q.retire(to: successor)
                return .obj(PyTuple([.obj(PyList(items)), .int(unfinished)]))
            },
            native("format_exception") { u, a in
                // The report the runtime prints for an uncaught exception (threading's
                // "Exception in threading.excepthook:").
                // A second argument is traceback's `limit`: how many frames of each
                // exception to show, the outermost ones (the innermost for a negative one).
                // A true third one asks for the list of pieces traceback.format_exception gives.
                // A true fourth one lays frames out as the traceback module does (source lines
                // stripped at both ends); without it, as the interpreter reports an uncaught one.
                try a.expect("format_exception", 1, 4)
                guard case .obj(let o) = a[0], let e = o as? PyBaseException else {
                    throw typeError("format_exception() takes an exception")
                }
                let limit = a.count > 1 && !a[1].isNone ? try u.toIndex(a[1]) : nil
                let moduleLayout = a.count > 3 ? try u.isTruthy(a[3]) : false
                let pieces = u.formatException(e, limit: limit, moduleLayout: moduleLayout)
                if a.count > 2, try u.isTruthy(a[2]) { return .obj(PyList(pieces.map { .str($0) })) }
                return .str(pieces.joined())
            },
            native("unraisable") { u, a in
                // _thread and atexit: report an exception through sys.unraisablehook.
                try a.expect("unraisable", 3, 3)
                guard case .obj(let o) = a[0], let e = o as? PyBaseException else {
                    throw typeError("unraisable() takes an exception")
                }
                u.reportUnraisable(e, message: try u.str(a[1]), object: a[2])
                return .none
            },
            native("count_elements") { u, a in
                // collections.Counter's counting loop (CPython's C _count_elements): each
                // count one step when the mapping is a dict whose get and __setitem__ are
                // dict's, so threads counting into one Counter lose no count.
                try a.expect("count_elements", 2, 2)
                let mapping = a[0]
                var plain: PyDict? = nil
                if case .obj(let o) = mapping, let d = o as? PyDict,
                   let g = o.type.lookup("get"), let dg = Types.dict.lookup("get"), isSame(g, dg),
                   let si = o.type.lookup("__setitem__"), let dsi = Types.dict.lookup("__setitem__"), isSame(si, dsi) {
                    plain = d
                }
                let it = try u.iterate(a[1])
                while let elem = try it.next(u) {
                    if let d = plain, try d.incrementCount(u, elem) { continue }
                    let old = try u.call(try u.getAttr(mapping, "get"), [elem, .int(0)])
                    try u.setItem(mapping, elem, try u.binary(.add, old, .int(1)))
                }
                return .none
            },
            native("dict_move_to_end") { u, a in
                // OrderedDict.move_to_end(key, last) as one step: true if the key was there.
                try a.expect("dict_move_to_end", 3, 3)
                guard case .obj(let o) = a[0], let d = o as? PyDict else { throw typeError("dict_move_to_end() takes a dict") }
                return .bool(try u.isTruthy(a[2]) ? d.moveToEnd(u, a[1]) : d.moveToFront(u, a[1]))
            },
            native("dict_remove_if_is") { u, a in
                // del d[k] if d[k] is v, as one step (weakref's _remove_dead_weakref).
                try a.expect("dict_remove_if_is", 3, 3)
                guard case .obj(let o) = a[0], let d = o as? PyDict else { throw typeError("dict_remove_if_is() takes a dict") }
                return .bool(try d.removeIfIdentical(u, a[1], a[2]))
            },
            native("take_turns") { _, a in
                // itertools: its generators stand for CPython's C iterators, which threads
                // may share (each item goes to one of them).
                try a.expect("take_turns", 1, 1)
                guard case .obj(let o) = a[0], let g = o as? PyGenerator else {
                    throw typeError("take_turns() takes a generator")
                }
                g.takesTurns = true
                return a[0]
            },
            reexported("get_ident", as: "get_ident", in: "_thread") { _, a in try a.expect("get_ident", 0, 0); return .int(Int(bitPattern: UInt(pthread_self()))) },
            reexported("get_native_id", as: "get_native_id", in: "_thread") { u, a in
                try a.expect("get_native_id", 0, 0)
                u.handle?.nativeIDSeen.store(true, ordering: .relaxed)
                return .int(u.nativeID)
            },
            native("tb_entries") { u, a in
                // traceback.extract_tb/format_tb: (filename, lineno, name, line, the entry
                // as the runtime prints it) from `tb` inwards, outermost first.
                try a.expect("tb_entries", 1, 1)
                guard case .obj(let o) = a[0], let tb = o as? PyTraceback else { return .obj(PyList([])) }
                var rows: [Value] = []
                for index in stride(from: tb.entries.count - 1 - tb.position, through: 0, by: -1) {
                    let e = tb.entries[index]
                    rows.append(.obj(PyTuple([.str(e.file.name), .int(e.loc.line), .str(e.function), .str(e.file.line(e.loc.line)),
                                              .str(u.formatEntry(e, moduleLayout: true))])))
                }
                return .obj(PyList(rows))
            },
            native("frame_line") { u, a in
                // Line `lineno` of the source a frame object runs, from the code itself
                // (also for code that is not a file: -c, the REPL, the bundled stdlib).
                try a.expect("frame_line", 2, 2)
                guard case .obj(let o) = a[0], let f = o as? PyFrameObject else { return .none }
                return .str(f.snapshot.code.file.line(try u.toIndex(a[1])))
            },
        ])
    }
}

/// A `_units` entry that `threading` or `_thread` hands out under CPython's name: its
/// `__name__` and `__module__` are those (CPython's test of `threading.__all__` goes by
/// `__module__`).
private func reexported(_ key: String, as name: String, in module: String,
                        _ fn: @escaping NativeFunction) -> (String, Value) {
    let f = PyBuiltinFunction(name, fn)
    f.module = module
    return (key, .obj(f))
}

/// Marks the code of a function, or of every function in a class's namespace (methods,
/// static and class methods, property accessors), as standing for C code.
private func markStandingForC(_ v: Value) {
    guard case .obj(let o) = v else { return }
    switch o {
    case let f as PyFunction: f.code.hideFrames()
    case let s as PyStaticMethod: markStandingForC(s.function)
    case let c as PyClassMethod: markStandingForC(c.function)
    case let p as PyProperty: for accessor in [p.getter, p.setter, p.deleter] { markStandingForC(accessor) }
    case let t as PyType:
        // Its methods; not a class kept as an attribute (which may even be itself).
        for (_, member) in t.dict where !(member.object is PyType) { markStandingForC(member) }
        // Error messages name a C type with its module, as CPython's tp_name does
        // ("'collections.deque' object has no attribute 'x'").
        if let module = t.dict["__module__"]?.asStr?.value, module != "builtins" {
            t.messageNameStorage = module + "." + t.name
        }
    default: break
    }
}
