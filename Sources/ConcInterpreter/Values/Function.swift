// Functions defined in Conc: the compiled code shared by every function object made from
// one `def`, and the function object itself.
import ConcSyntax
import Synchronization

/// The compiled form of one `def`, `lambda` or comprehension. Immutable after compilation,
/// shared by every function object and every unit that runs it.
final class CodeInfo {
    /// `__name__` of functions made from this code (`<lambda>`, `<listcomp>` for comprehensions).
    let name: String
    /// `__qualname__` (`Outer.method`).
    let qualname: String
    /// The file, for tracebacks.
    let file: SourceFile
    /// True for code of the bundled stdlib (deadlock reports point past it, at the
    /// learner's line).
    let isStdlib: Bool
    /// Frames of this code are left out of tracebacks: its module stands for one CPython
    /// writes in C (``SourceFile/hidesFrames``), or the stdlib marked the function as
    /// standing for a C one (`_units.stands_for_c`: functools.reduce, OrderedDict...).
    /// Set once, while the stdlib module defining the function is being imported, before
    /// any other unit can call it.
    private(set) var hidesFrames: Bool
    func hideFrames() { hidesFrames = true }
    /// Where the `def` is.
    let loc: SourceLoc
    /// Positional parameter names, in order (their slots are 0..<positional.count).
    let positional: [String]
    let positionalOnlyCount: Int
    /// Keyword-only parameter names; slots follow the positional ones.
    let keywordOnly: [String]
    /// Slot of `*args`, or -1.
    let varArgsSlot: Int
    /// Slot of `**kwargs`, or -1.
    let varKeywordsSlot: Int
    /// Total local slots (parameters first).
    let localCount: Int
    /// Slots whose variable is captured by an inner function (they hold a ``Cell``).
    let cellSlots: [Int]
    /// Names of the free variables, in closure order.
    let freeNames: [String]
    /// Slot → name, for error messages and `locals()`.
    let localNames: [String]
    /// True when the body contains `yield` (calling it makes a generator).
    let isGenerator: Bool
    /// True for `async def` (calling it makes a coroutine).
    let isAsync: Bool
    /// True when the body (or a function nested in it) names `super` or `__class__`: only
    /// then does a function made inside a method take the method's class.
    let usesClassCell: Bool
    /// The most positional arguments a call may bind straight into the slots
    /// (`PyFunction.canCallDirect`): all the positional parameters, or -1 when there are
    /// keyword-only parameters, `*args` or `**kwargs`. Precomputed: every call checks it.
    let directArgumentLimit: Int
    /// The body. Set once by the compiler right after creation.
    var body: StmtNode! {
        get { bodyRef?.takeUnretainedValue() }
        set { bodyRef = newValue.map { .passRetained($0) } }  // nodes are immortal: never released
    }
    /// For lambdas/comprehensions: the body is a single expression stored here instead.
    var expression: ExprNode? {
        get { expressionRef?.takeUnretainedValue() }
        set { expressionRef = newValue.map { .passRetained($0) } }
    }
    /// ``body`` and ``expression`` as calls read them: without a retain (nodes are immortal).
    private(set) var bodyRef: Unmanaged<StmtNode>?
    private(set) var expressionRef: Unmanaged<ExprNode>?

    init(name: String, qualname: String, file: SourceFile, loc: SourceLoc, positional: [String],
         positionalOnlyCount: Int, keywordOnly: [String], varArgsSlot: Int, varKeywordsSlot: Int,
         localNames: [String], cellSlots: [Int], freeNames: [String], isGenerator: Bool, isAsync: Bool,
         usesClassCell: Bool = false) {
        self.name = name; self.qualname = qualname; self.file = file; self.loc = loc
        self.isStdlib = file.isStdlib
        self.hidesFrames = file.hidesFrames
        self.positional = positional; self.positionalOnlyCount = positionalOnlyCount
        self.keywordOnly = keywordOnly; self.varArgsSlot = varArgsSlot
        self.varKeywordsSlot = varKeywordsSlot; self.localCount = localNames.count
        self.localNames = localNames; self.cellSlots = cellSlots; self.freeNames = freeNames
        self.isGenerator = isGenerator; self.isAsync = isAsync; self.usesClassCell = usesClassCell
        self.directArgumentLimit = keywordOnly.isEmpty && varArgsSlot < 0 && varKeywordsSlot < 0 ? positional.count : -1
        Immortal.make(self)  // compiled code, like the nodes, lives as long as the program
    }
}

/// A function object made by executing a `def` or `lambda`.
public final class PyFunction: PyObject {
    deinit {
        WeakReferents.noteDeath(self)
        // A chain through defaults, cells or attributes (`def f(a=prev)`, `f.prev = g`)
        // frees its links inside the trashcan's bracket.
        Trashcan.releaseFields(reference: (closure, initialDefaults, initialKwDefaults, replacedDefaults,
                                           replacedKwDefaults, attrsStorage, docStorage, moduleStorage)) {
            closure = []; initialDefaults = []; initialKwDefaults = [:]; replacedDefaults = []
            replacedKwDefaults = [:]; attrsStorage = [:]; docStorage = .none; moduleStorage = .none
        }
    }
    let code: CodeInfo
    /// Made immortal (a module- or class-level `def`): set once, before the function is
    /// stored anywhere another unit can see it.
    var isImmortal = false
    /// The module globals the function's code reads and writes.
    let globals: Globals
    /// Captured cells, one per `code.freeNames`. Fixed by init (`var` only so that deinit
    /// releases them in the trashcan's bracket, as the defaults).
    private(set) var closure: [Cell]
    /// The defaults the `def` evaluated. Direct calls read these without a lock; once
    /// `__defaults__` or `__kwdefaults__` is assigned, direct calls stop
    /// (``directArgumentMinimum`` becomes `Int.max`) and calls read ``defaults``.
    private(set) var initialDefaults: [Value]
    private(set) var initialKwDefaults: [String: Value]
    /// Set (never cleared) when `__defaults__`/`__kwdefaults__` was assigned: the
    /// current defaults are then the replaced ones, read under the function's lock.
    private let defaultsReplaced = Atomic<Bool>(false)
    private var replacedDefaults: [Value] = []
    private var replacedKwDefaults: [String: Value] = [:]
    /// Default values of the last positional parameters (`__defaults__`).
    var defaults: [Value] {
        defaultsReplaced.load(ordering: .acquiring) ? locked { replacedDefaults } : initialDefaults
    }
    /// Defaults of keyword-only parameters (`__kwdefaults__`).
    var kwDefaults: [String: Value] {
        defaultsReplaced.load(ordering: .acquiring) ? locked { replacedKwDefaults } : initialKwDefaults
    }
    /// Replaces the defaults (`f.__defaults__ = ...`, `f.__kwdefaults__ = ...`; nil keeps
    /// that kind as it is). A direct call that checked ``canCallDirect`` just before
    /// still uses the `def`'s defaults: it is ordered before the assignment.
    func replaceDefaults(positional: [Value]?, keywords: [String: Value]?) {
        let old: ([Value], [String: Value]) = locked {
            let wasReplaced = defaultsReplaced.load(ordering: .relaxed)
            let old = (replacedDefaults, replacedKwDefaults)
            replacedDefaults = positional ?? (wasReplaced ? replacedDefaults : initialDefaults)
            replacedKwDefaults = keywords ?? (wasReplaced ? replacedKwDefaults : initialKwDefaults)
            defaultsReplaced.store(true, ordering: .releasing)
            directMinimum.store(Int.max, ordering: .relaxed)
            return old
        }
        _ = old  // released outside the lock (a default's deinit may run arbitrary code)
    }
    /// The fewest positional arguments a direct call may pass (the parameters without a
    /// default; see ``CodeInfo/directArgumentLimit``); `Int.max` once defaults were replaced.
    private let directMinimum: Atomic<Int>
    var directArgumentMinimum: Int { directMinimum.load(ordering: .relaxed) }
    // The assignable fields below are stored privately and read and written under the
    // function's lock (free-threaded evaluation: a String or Value written by one thread
    // while another reads it is a torn read).
    private var attrsStorage: [String: Value] = [:]
    private var ownerClassStorage: PyType?  // strong: a class and its methods live and die together (a weak ref would slow every retain of the class)
    private var nameStorage: String
    private var qualnameStorage: String
    private var docStorage: Value = .none
    private var moduleStorage: Value
    /// `__dict__` of the function (rarely used: decorators that tag functions).
    var attrs: [String: Value] {
        get { locked { attrsStorage } }
        _modify {
            let held = lockForModify()
            defer { unlockAfterModify(held) }
            yield &attrsStorage
        }
    }
    /// The `__dict__` entry `name`, read under the lock.
    func attribute(_ name: String) -> Value? { locked { attrsStorage[name] } }
    /// The `__dict__` entries, collected under the lock.
    var attributePairs: [(String, Value)] { locked { attrsStorage.map { ($0.key, $0.value) } } }
    /// The class whose body defined this function (for zero-argument `super()`).
    var ownerClass: PyType? {
        get { locked { ownerClassStorage } }
        set { locked { ownerClassStorage = newValue } }
    }
    /// Sets the owner class unless one is set already (in one critical section).
    func claim(by cls: PyType) { locked { if ownerClassStorage == nil { ownerClassStorage = cls } } }
    /// `__name__` (assignable).
    var name: String {
        get { locked { nameStorage } }
        set { locked { nameStorage = newValue }; renamed.store(true, ordering: .releasing) }
    }
    var qualname: String {
        get { locked { qualnameStorage } }
        set { locked { qualnameStorage = newValue }; renamed.store(true, ordering: .releasing) }
    }
    /// True once `__name__` or `__qualname__` was assigned: the generators the function
    /// makes from then on take its names (one atomic load per generator made).
    let renamed = Atomic<Bool>(false)
    var doc: Value {
        get { locked { docStorage } }
        set { let old: Value = locked { let o = docStorage; docStorage = newValue; return o }; _ = old }
    }
    /// `__module__`: the defining module's name unless reassigned (any object).
    var module: Value {
        get { locked { moduleStorage } }
        set { let old: Value = locked { let o = moduleStorage; moduleStorage = newValue; return o }; _ = old }
    }
    /// `__module__` as text (pickling a function by reference, reprs).
    var moduleName: String { module.asStr?.value ?? "" }

    init(code: CodeInfo, globals: Globals, moduleName: String, closure: [Cell], defaults: [Value], kwDefaults: [String: Value]) {
        self.code = code; self.globals = globals; self.moduleStorage = .str(moduleName)
        self.closure = closure; self.initialDefaults = defaults; self.initialKwDefaults = kwDefaults
        self.directMinimum = Atomic(code.positional.count - defaults.count)
        self.nameStorage = code.name; self.qualnameStorage = code.qualname
        super.init(type: Types.function)
    }
}

/// A function's `__dict__` writes through to its attributes (`wraps` copies into it).
extension PyFunction: AttributeOwner {
    func instanceAttribute(_ name: String) -> Value? { attribute(name) }
    func attributeSetThroughDict(_ name: String, _ v: Value) { attrs[name] = v }
    func attributeRemovedThroughDict(_ name: String) { attrs.removeValue(forKey: name) }
}
