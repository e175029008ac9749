// `threading.local` (CPython's `_thread._local`): one object whose attributes each thread
// sees separately. Native, because the attribute lookup of a Conc class with its own
// `__getattribute__` cost about a hundred times a plain attribute's.
import Synchronization

/// Numbers the threads of the process, never reusing one (a finished thread's
/// `pthread_self()` value is given to the next thread, and a pooled OS thread runs one
/// unit after another): the key of a thread's attributes.
enum ThreadSerial {
    private final class Box {
        let serial: Int
        /// The `threading.local` objects this thread has a dict in, so that its end can drop
        /// them (weakly: a local the program dropped is gone already). Only its thread
        /// touches it.
        var touched: [Weak] = []
        init() {
            serial = ThreadSerial.counter.add(1, ordering: .relaxed).newValue
            ThreadSerial.live.withLock { _ = $0.insert(serial) }
        }
        // Runs when the thread ends (PerThread's key destructor).
        deinit { let s = serial; ThreadSerial.live.withLock { _ = $0.remove(s) } }
    }
    private static let counter = Atomic<Int>(0)
    /// Serials of the threads still running.
    private static let live = PosixMutex<Set<Int>>([])
    private static let boxes = PerThread { Box() }

    /// The calling thread's serial.
    static var current: Int { boxes.current.serial }
    /// Ends the calling thread's serial, as its end would: a unit thread calls this when
    /// its unit finishes, since the pool may give the OS thread to another unit.
    static func retire() { boxes.clear() }
    /// Whether the thread numbered `serial` is still running.
    static func isLive(_ serial: Int) -> Bool { live.withLock { $0.contains(serial) } }

    struct Weak { weak var local: PyThreadLocal? }
    /// Notes that the calling thread now has a dict in `local`.
    static func touched(_ local: PyThreadLocal) {
        let box = boxes.current
        box.touched.removeAll { $0.local == nil }
        box.touched.append(Weak(local: local))
    }
    /// Drops the calling thread's values from every `threading.local`, as CPython does when
    /// a thread ends: their `__del__` runs before a `join()` of the thread returns. A unit
    /// thread calls this while it may still run Conc code (the finalizers), before it
    /// finishes; `retire()` follows.
    static func dropLocalValues() {
        let box = boxes.current
        let locals = box.touched.compactMap { $0.local }
        box.touched = []
        for local in locals { local.dropValues(ofThread: box.serial) }
    }
}

/// An instance of `threading.local` or of a subclass: its attribute dict is the calling
/// thread's (``SubclassAttributes``). `dicts` is read and written only under `locked`.
final class PyThreadLocal: PyObject, SubclassAttributes {
    /// Each thread's attributes, by ``ThreadSerial``.
    private var dicts: [Int: PyDict] = [:]
    /// The constructor's arguments: a subclass's `__init__` runs again with them the
    /// first time another thread touches the object, as in CPython. Set once.
    let initArguments: Args
    /// Values of the names a subclass lists in `__slots__`: every thread sees the same
    /// ones, as CPython keeps slots in the object itself (``installSharedSlots``). Under
    /// `locked`.
    private var slotValues: [String: Value] = [:]

    init(type: PyType, arguments: Args) {
        initArguments = arguments
        super.init(type: type)
        dicts[ThreadSerial.current] = PyDict()  // the creating thread's (its __init__ follows)
        ThreadSerial.touched(self)
    }

    /// Forgets the attributes of the thread numbered `serial` (it is ending).
    func dropValues(ofThread serial: Int) {
        let dropped: PyDict? = locked { dicts.removeValue(forKey: serial) }
        _ = dropped  // released here, unlocked: their values' deinits may run Conc code
    }

    /// The calling thread's attributes (callers hold the lock).
    var subclassAttributes: PyDict? {
        get { dicts[ThreadSerial.current] }
        set { dicts[ThreadSerial.current] = newValue }
    }

    /// Before any attribute access: gives a thread that touches the object for the first
    /// time its own dict, dropping those of finished threads, and runs the class's
    /// `__init__` on it (the dict goes again if that raises, so the next access retries).
    /// `changing` names an attribute about to be set or deleted: `__dict__` is read-only.
    func prepare(_ u: Unit, _ me: Value, changing name: String? = nil) throws {
        if name == "__dict__" { throw attributeError("'\(type.messageName)' object attribute '__dict__' is read-only") }
        let serial = ThreadSerial.current
        var dropped: [PyDict] = []
        let isNew: Bool = locked {
            if dicts[serial] != nil { return false }
            for key in dicts.keys where !ThreadSerial.isLive(key) { dropped.append(dicts.removeValue(forKey: key)!) }
            dicts[serial] = PyDict()
            return true
        }
        dropped = []  // released here, unlocked: their values' deinits may run Conc code
        if isNew { ThreadSerial.touched(self) }
        guard isNew, let initFn = type.lookup("__init__"), case .obj(let f) = initFn, f is PyFunction else { return }
        var a = initArguments
        a.positional.insert(me, at: 0)
        do {
            _ = try u.call(initFn, a)
        } catch {
            let failed: PyDict? = locked { dicts.removeValue(forKey: serial) }
            _ = failed
            throw error
        }
    }
}

func installThreadLocalMethods(_ t: PyType) {
    t.constructor = { u, cls, a in
        // As CPython: arguments only for a subclass with its own __init__ to take them.
        if a.count > 0 || !a.keywords.isEmpty, case .obj(let f)? = cls.lookup("__init__"), !(f is PyFunction) {
            throw typeError("Initialization arguments are not supported")
        }
        return .obj(PyThreadLocal(type: cls, arguments: a))
    }
}

extension PyThreadLocal {
    /// A slot's value; nil while unset.
    func slotValue(_ name: String) -> Value? { locked { slotValues[name] } }
    /// Sets (or, with nil, deletes) a slot; false when deleting an unset one.
    func setSlotValue(_ name: String, _ value: Value?) -> Bool {
        let old: Value?? = locked {
            if let v = value { return .some(slotValues.updateValue(v, forKey: name)) }
            return slotValues.removeValue(forKey: name).map { .some($0) }
        }
        if value == nil, old == nil { return false }
        _ = old  // released here, unlocked
        return true
    }

    /// A class deriving from threading.local that lists `names` in `__slots__` gets a data
    /// descriptor for each (CPython's member descriptors), storing in the object, shared by
    /// all threads, where other attributes are per thread.
    static func installSharedSlots(_ names: [String], in cls: PyType) {
        for name in names {
            let get = PyBuiltinFunction("__get__") { _, a in
                guard let l = a.positional.first?.object as? PyThreadLocal, let v = l.slotValue(name) else {
                    throw attributeError("'\(a.positional.first?.typeName ?? cls.name)' object has no attribute '\(name)'")
                }
                return v
            }
            let set = PyBuiltinFunction("__set__") { _, a in
                guard a.positional.count == 2, let l = a.positional[0].object as? PyThreadLocal else { return .none }
                _ = l.setSlotValue(name, a.positional[1])
                return .none
            }
            let delete = PyBuiltinFunction("__delete__") { _, a in
                guard let l = a.positional.first?.object as? PyThreadLocal, l.setSlotValue(name, nil) else {
                    throw attributeError(name)
                }
                return .none
            }
            let p = PyProperty(get: .obj(get), set: .obj(set), delete: .obj(delete))
            p.name = name
            cls.dict[name] = .obj(p)
        }
    }
}
