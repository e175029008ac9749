// Attribute access, subscription, slices and the target forms that unpack.
import ConcSyntax

/// `obj.name`.
final class AttributeNode: ExprNode {
    let object: ExprNode
    let name: String
    let hash: Int
    /// The slot of `object` when it is a plain local (`self.x`), else -1. While one unit
    /// runs, a cached access then reads the receiver in place in the frame instead of
    /// copying it out (which costs a retain and a release per access).
    private let localSlot: Int
    init(_ o: ExprNode, _ name: String, _ loc: SourceLoc) {
        object = o; self.name = name; hash = nameHash(name)
        localSlot = (o as? LocalNode)?.slot ?? -1
        super.init(loc)
    }
    // Inline caches. Free-threaded evaluation: nodes are shared by every unit, and these
    // entries are several words, so they are written only while units do not run in
    // parallel (`!ObjectLocks.active`); entries written before are still read. While units
    // run in parallel, the node publishes immutable entries through `parallelLoad` and
    // `parallelStore` instead (ParallelCache.swift). Every use is validated (shape identity
    // and epoch) against the instance's shape and slots read together under its lock.
    /// Load: instances of `loadShapes[i]` keep this attribute in slot `loadSlots[i]`
    /// (valid in `loadEpoch`). Four entries cover the polymorphic sites of class hierarchies.
    private var loadShapes: (ShapeID?, ShapeID?, ShapeID?, ShapeID?) = (nil, nil, nil, nil)
    private var loadSlots: (Int, Int, Int, Int) = (0, 0, 0, 0)
    private var loadNext = 0
    private var loadEpoch = -1
    /// Store: instances of `storeShapes[i]` get the value in `storeSlots[i]`, then have
    /// shape `storeResults[i]` (nil: unchanged), in `storeEpoch`. Four entries, as for
    /// loads: `self.x = x` in a base class's `__init__` sees one root shape per subclass.
    private var storeShapes: (ShapeID?, ShapeID?, ShapeID?, ShapeID?) = (nil, nil, nil, nil)
    private var storeResults: (Unmanaged<Shape>?, Unmanaged<Shape>?, Unmanaged<Shape>?, Unmanaged<Shape>?) = (nil, nil, nil, nil)
    private var storeSlots: (Int, Int, Int, Int) = (0, 0, 0, 0)
    private var storeNext = 0
    private var storeEpoch = -1
    private let parallelLoad = ParallelCacheWord()
    private let parallelStore = ParallelCacheWord()

    override func eval(_ f: Frame) throws -> Value {
        if localSlot >= 0 && !ObjectLocks.active, let receiver = (f.locals + localSlot).unretainedObject {
            let epoch = f.classEpoch
            let hit = receiver._withUnsafeGuaranteedRef { x in x.asInstance.flatMap { cachedValue($0, epoch) } }
            if let v = hit { return v }
        }
        return try load(try object.eval(f), f)
    }

    /// The attribute from the load cache, read without the lock (only while one unit runs:
    /// nothing can change the instance meanwhile); nil when the cache does not apply.
    @inline(__always) private func cachedValue(_ inst: PyInstance, _ epoch: Int) -> Value? {
        let slot = cachedLoadSlot(inst.shapeID, epoch)
        if slot < 0 { return nil }
        let v = inst.slot(slot)
        return v.isUnbound ? nil : v
    }

    /// The slot of this attribute for instances of `shape`, if the load cache knows it.
    @inline(__always) private func cachedLoadSlot(_ shape: ShapeID, _ epoch: Int) -> Int {
        if loadEpoch == epoch {
            if shape == loadShapes.0 { return loadSlots.0 }
            if shape == loadShapes.1 { return loadSlots.1 }
            if shape == loadShapes.2 { return loadSlots.2 }
            if shape == loadShapes.3 { return loadSlots.3 }
        }
        if let e = parallelLoad.entry(AttributeCacheEntry.self), e.epoch == epoch, e.shape.id == shape { return e.slot }
        return -1
    }

    /// Reads the attribute of an already evaluated object (also used by augmented assignment).
    @inline(__always) func load(_ o: Value, _ f: Frame) throws -> Value {
        // A plain instance while one unit runs: the cache, on the object unretained (`o`
        // keeps it; `asInstance`, an optional, would retain it).
        if !ObjectLocks.active, let u = o.unretainedObject {
            let epoch = f.classEpoch
            let hit = u._withUnsafeGuaranteedRef { x in
                x.isPlainInstance ? cachedValue(unsafeDowncast(x, to: PyInstance.self), epoch) : nil
            }
            if let v = hit { return v }
        }
        if case .obj(let x) = o, let inst = x.asInstance {
            let epoch = f.classEpoch
            if !ObjectLocks.active, let v = cachedValue(inst, epoch) { return v }
            return try loadUncached(inst, o, f, epoch)
        }
        if let v = moduleAttribute.value(of: o) { return v }
        return try loadOther(o, f)
    }

    /// ``load(_:_:)`` of anything but an instance: `getattr`; a module's cell for the name
    /// is remembered for the next load (`math.pi`, `sys.argv`).
    @inline(never) private func loadOther(_ o: Value, _ f: Frame) throws -> Value {
        if let (v, cache) = ModuleAttributeCache.lookUp(o, name) {
            if let cache { moduleAttribute = cache }
            return v
        }
        do { return try f.withUnit { try $0.getAttr(o, name) } } catch { throw located(error, f, loc) }
    }
    /// A module's attribute read here (`math.pi`).
    private var moduleAttribute = ModuleAttributeCache()

    /// ``load(_:_:)`` of an instance when the lock-free cache lookup did not apply.
    private func loadUncached(_ inst: PyInstance, _ o: Value, _ f: Frame, _ epoch: Int) throws -> Value {
        do {
            // Shape and slot in one critical section; the cache is only read here.
            let (shape, hit): (Shape, Value) = inst.locked {
                let shape = inst.shape
                let slot = cachedLoadSlot(shape.id, epoch)
                return (shape, slot >= 0 ? inst.slot(slot) : .unbound)
            }
            if !hit.isUnbound { return hit }
            if let i = shape.index.get(name, hash: hash), !hasDataDescriptor(inst.type, epoch) {
                // Read again under the lock: the attribute may have been deleted (or the
                // instance grown) meanwhile; `shape` is still valid for slot `i` as slots
                // are never removed.
                let v = inst.locked { inst.slot(i) }
                if !v.isUnbound {
                    if !ObjectLocks.active { remember(shape, i, epoch) }
                    else if parallelLoad.canPublish {
                        parallelLoad.publish(AttributeCacheEntry(epoch: epoch, shape: shape, slot: i, result: nil))
                    }
                    return v
                }
            }
        }
        do { return try f.withUnit { try $0.getAttr(o, name) } } catch { throw located(error, f, loc) }
    }
    private func remember(_ shape: Shape, _ slot: Int, _ epoch: Int) {
        if loadEpoch != epoch { loadShapes = (nil, nil, nil, nil); loadNext = 0; loadEpoch = epoch }
        switch loadNext & 3 {
        case 0: loadShapes.0 = shape.id; loadSlots.0 = slot
        case 1: loadShapes.1 = shape.id; loadSlots.1 = slot
        case 2: loadShapes.2 = shape.id; loadSlots.2 = slot
        default: loadShapes.3 = shape.id; loadSlots.3 = slot
        }
        loadNext &+= 1
    }

    /// The cached store for instances of `shape` in `epoch`: the slot (-1 if none) and the
    /// shape the instance has afterwards (nil: unchanged).
    @inline(__always) private func cachedStore(_ shape: ShapeID, _ epoch: Int) -> (slot: Int, result: Unmanaged<Shape>?) {
        if storeEpoch == epoch {
            if shape == storeShapes.0 { return (storeSlots.0, storeResults.0) }
            if shape == storeShapes.1 { return (storeSlots.1, storeResults.1) }
            if shape == storeShapes.2 { return (storeSlots.2, storeResults.2) }
            if shape == storeShapes.3 { return (storeSlots.3, storeResults.3) }
        }
        if let e = parallelStore.entry(AttributeCacheEntry.self), e.epoch == epoch, e.shape.id == shape {
            return (e.slot, e.result.map { Unmanaged.passUnretained($0) })
        }
        return (-1, nil)
    }
    private func rememberStore(_ shape: Shape, _ slot: Int, _ result: Shape?, _ epoch: Int) {
        let result = result.map { Unmanaged.passUnretained($0) }
        if storeEpoch != epoch { storeShapes = (nil, nil, nil, nil); storeResults = (nil, nil, nil, nil); storeNext = 0; storeEpoch = epoch }
        switch storeNext & 3 {
        case 0: storeShapes.0 = shape.id; storeSlots.0 = slot; storeResults.0 = result
        case 1: storeShapes.1 = shape.id; storeSlots.1 = slot; storeResults.1 = result
        case 2: storeShapes.2 = shape.id; storeSlots.2 = slot; storeResults.2 = result
        default: storeShapes.3 = shape.id; storeSlots.3 = slot; storeResults.3 = result
        }
        storeNext &+= 1
    }

    /// True when the class defines `name` as a property or a setter-less native attribute,
    /// or overrides attribute access (then the instance slot must not be used directly).
    private func hasDataDescriptor(_ t: PyType, _ epoch: Int) -> Bool {
        if t.overridesGetattribute(epoch) { return true }
        guard let a = t.lookup(name, hash: hash), case .obj(let d) = a else { return false }
        return (d as? PyProperty)?.isPlainDescriptor == true || d is PyNativeProperty || UserDescriptor(d)?.isData == true
    }
    override func assign(_ f: Frame, _ v: Value) throws {
        if localSlot >= 0 && !ObjectLocks.active, let receiver = (f.locals + localSlot).unretainedObject {
            let epoch = f.classEpoch
            let done = receiver._withUnsafeGuaranteedRef { x in
                x.isPlainInstance && applyCachedStore(unsafeDowncast(x, to: PyInstance.self), v, epoch)
            }
            if done { return }
        }
        try store(try object.eval(f), v, f)
    }

    /// `obj.name += value` for a local receiver, an int attribute and an int `value` that
    /// runs no code when evaluated (a constant or a local), through the caches while one
    /// unit runs. Returns false (having changed nothing) when any of that does not hold.
    @inline(__always) func addIntInPlace(_ value: ExprNode, _ f: Frame) throws -> Bool {
        guard localSlot >= 0 && !ObjectLocks.active, let receiver = (f.locals + localSlot).unretainedObject else { return false }
        let epoch = f.classEpoch
        return try receiver._withUnsafeGuaranteedRef { x in
            guard x.isPlainInstance else { return false }
            let inst = unsafeDowncast(x, to: PyInstance.self)
            guard case .int(let a)? = cachedValue(inst, epoch), case .int(let b) = try value.eval(f) else { return false }
            let (r, overflow) = a.addingReportingOverflow(b)
            return !overflow && applyCachedStore(inst, .int(r), epoch)
        }
    }

    /// Applies the cached store to a plain instance without the lock (only while one unit
    /// runs); false when the cache does not apply. A replaced value is released here, after
    /// the slot holds the new one.
    @inline(__always) private func applyCachedStore(_ inst: PyInstance, _ v: Value, _ epoch: Int) -> Bool {
        let (slot, result) = cachedStore(inst.shapeID, epoch)
        // An instance whose `__dict__` was handed out stores through Unit.setAttr, which
        // makes the change in the dict too.
        if slot < 0 || inst.keptDict != nil { return false }
        if let r = result {
            inst.setShape(r)
            inst.appendSlot(v)
        } else {
            _ = inst.exchangeSlot(slot, v)
        }
        return true
    }

    /// Writes the attribute of an already evaluated object.
    @inline(__always) func store(_ o: Value, _ v: Value, _ f: Frame) throws {
        if case .obj(let x) = o, x.isPlainInstance {
            let inst = unsafeDowncast(x, to: PyInstance.self)
            let epoch = f.classEpoch
            if !ObjectLocks.active && applyCachedStore(inst, v, epoch) { return }
            try storeUncached(inst, o, v, f, epoch)
            return
        }
        do { try f.withUnit { try $0.setAttr(o, name, v) } } catch { throw located(error, f, loc) }
    }

    /// ``store(_:_:_:)`` to a plain instance when the lock-free cached store did not apply.
    private func storeUncached(_ inst: PyInstance, _ o: Value, _ v: Value, _ f: Frame, _ epoch: Int) throws {
        do {
            // The cached store, checked and applied in one critical section. `replaced` is
            // the old value (released after the lock); nil when the cache did not apply.
            let replaced: Value? = inst.locked {
                let (slot, result) = cachedStore(inst.shapeID, epoch)
                if slot < 0 || inst.keptDict != nil { return nil }
                if let r = result { inst.setShape(r); inst.appendSlot(v); return .unbound }
                return inst.exchangeSlot(slot, v)
            }
            if replaced != nil { return }
            let t = inst.type
            if !hasDataDescriptor(t, epoch) && !t.overridesSetattr(epoch) && t !== Types.object && name != "__dict__"
                && (!t.hasSlotLimits(epoch) || t.creationHooks(epoch).slotNames?.contains(name) == true)
                && inst.locked({ inst.attributeDict }) == nil {
                // The slow store: the shape is read again, as another unit may have added
                // attributes since; the cache is written only while units run one at a time.
                let (from, slot, added, old): (Shape, Int, Shape?, Value) = inst.locked {
                    let now = inst.shape
                    if let i = now.index.get(name, hash: hash) {
                        return (now, i, nil, inst.exchangeSlot(i, v))
                    }
                    let next = now.adding(name)  // the shape's leaf lock
                    inst.shape = next
                    inst.appendSlot(v)
                    return (now, 0, next, .unbound)
                }
                _ = old
                if !ObjectLocks.active { rememberStore(from, slot, added, epoch) }
                else if parallelStore.canPublish {
                    parallelStore.publish(AttributeCacheEntry(epoch: epoch, shape: from, slot: slot, result: added))
                }
                return
            }
        }
        do { try f.withUnit { try $0.setAttr(o, name, v) } } catch { throw located(error, f, loc) }
    }
    override func delete(_ f: Frame) throws {
        let o = try object.eval(f)
        do { try f.withUnit { try $0.delAttr(o, name) } } catch { throw located(error, f, loc) }
    }
}

/// Whether evaluating `n` can never store into a local slot of the running frame: only
/// an assignment expression (`:=`, maybe inside a comprehension) in the code of the
/// frame itself can, so locals, constants, globals and int arithmetic on them qualify.
func isRebindFree(_ n: ExprNode) -> Bool {
    switch n {
    case is LocalNode, is ConstNode, is GlobalNode, is CellNode: return true
    case let b as BinaryIntConstNode: return isRebindFree(b.left)
    default: return false
    }
}

extension UnsafeMutablePointer where Pointee == Value {
    /// The object in this slot, not retained (nil for a scalar or an unbound slot): a
    /// cached attribute access on a local receiver uses it in place. Only while the slot
    /// keeps its value: the caller runs no code that could store into it meanwhile.
    @inline(__always) var unretainedObject: Unmanaged<PyObject>? {
        if case .obj(let o) = pointee { return .passUnretained(o) }
        return nil
    }
}

/// `obj[index]`.
final class SubscriptNode: ExprNode {
    let object: ExprNode
    let index: ExprNode
    /// The local slot of `object` when it is a plain local and `index` cannot rebind it
    /// (see ``isRebindFree(_:)``), else -1: the container is then used in place, without
    /// a retain, as the slot keeps it alive until the access is over.
    let objectSlot: Int
    /// The local slot of `index` when it is a plain local, else -1: its value is then lent
    /// to the access in place (nothing is evaluated after it), as call arguments are
    /// (``Frame/withArgument(_:slot:_:)``). `d[k]` with an existing key then costs no
    /// retain of `k`.
    let indexSlot: Int
    private let indexRef: Unmanaged<ExprNode>
    init(_ o: ExprNode, _ i: ExprNode, _ loc: SourceLoc) {
        object = o; index = i
        objectSlot = (o as? LocalNode).flatMap { isRebindFree(i) ? $0.slot : nil } ?? -1
        indexSlot = (i as? LocalNode)?.slot ?? -1
        indexRef = .passUnretained(i)
        super.init(loc)
    }
    var marker: TracebackEntry.Marker {
        object.loc.endLine == loc.line ? .subscript(valueEnd: object.loc.endCol, indexEnd: index.loc.endCol + 1) : .span
    }
    override func eval(_ f: Frame) throws -> Value {
        if objectSlot >= 0, let c = (f.locals + objectSlot).unretainedObject {
            return try f.withArgument(indexRef, slot: indexSlot) { i in
                do {
                    if let v = try c._withUnsafeGuaranteedRef({ try fastItem($0, i, f) }) { return v }
                    return try f.withUnit { try $0.getItem(.obj(c.takeUnretainedValue()), i) }
                } catch { throw located(error, f, loc, marker) }
            }
        }
        let o = try object.eval(f)
        let i = try index.eval(f)
        do {
            if case .obj(let c) = o, let v = try fastItem(c, i, f) { return v }
            return try f.withUnit { try $0.getItem(o, i) }
        } catch { throw located(error, f, loc, marker) }
    }
    /// `l[i]` and `d[k]` on a plain list or dict, without the general dispatch; nil when
    /// this does not apply (or the list index is out of range: the general path raises).
    @inline(__always) private func fastItem(_ c: PyObject, _ i: Value, _ f: Frame) throws -> Value? {
        guard c.typeIsBuiltin else { return nil }
        if Swift.type(of: c) == PyList.self, case .int(let n) = i {
            return unsafeDowncast(c, to: PyList.self).item(normalizing: n)
        }
        if Swift.type(of: c) == PyDict.self, c.hasType(Types.dictID) {
            if let v = try f.withUnit({ try unsafeDowncast(c, to: PyDict.self).get($0, i) }) { return v }
            throw PyBaseException(type: Exc.keyError, args: [i])
        }
        return nil
    }
    override func assign(_ f: Frame, _ v: Value) throws {
        if objectSlot >= 0, let c = (f.locals + objectSlot).unretainedObject {
            try f.withArgument(indexRef, slot: indexSlot) { i in
                do {
                    if try c._withUnsafeGuaranteedRef({ try fastStore($0, i, v, f) }) { return }
                    try f.withUnit { try $0.setItem(.obj(c.takeUnretainedValue()), i, v) }
                } catch { throw located(error, f, loc, marker) }
            }
            return
        }
        let o = try object.eval(f)
        let i = try index.eval(f)
        do {
            if case .obj(let c) = o, try fastStore(c, i, v, f) { return }
            try f.withUnit { try $0.setItem(o, i, v) }
        } catch { throw located(error, f, loc, marker) }
    }
    /// `l[i] = v` and `d[k] = v` on a plain list or dict; false when this does not apply.
    @inline(__always) private func fastStore(_ c: PyObject, _ i: Value, _ v: Value, _ f: Frame) throws -> Bool {
        guard c.typeIsBuiltin else { return false }
        if Swift.type(of: c) == PyList.self, case .int(let n) = i {
            return unsafeDowncast(c, to: PyList.self).setItem(normalizing: n, v) != nil
        }
        if Swift.type(of: c) == PyDict.self {
            try f.withUnit { try unsafeDowncast(c, to: PyDict.self).set($0, i, v) }
            return true
        }
        return false
    }
    override func delete(_ f: Frame) throws {
        let o = try object.eval(f)
        let i = try index.eval(f)
        do { try f.withUnit { try $0.delItem(o, i) } } catch { throw located(error, f, loc, marker) }
    }
}

/// `lower:upper:step` inside a subscript.
final class SliceNode: ExprNode {
    let lower: ExprNode?, upper: ExprNode?, step: ExprNode?
    init(_ l: ExprNode?, _ u: ExprNode?, _ s: ExprNode?, _ loc: SourceLoc) { lower = l; upper = u; step = s; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        .obj(PySlice(try lower?.eval(f) ?? .none, try upper?.eval(f) ?? .none, try step?.eval(f) ?? .none))
    }
}

/// `a, b = ...` / `[a, *rest] = ...` as an assignment target (also evaluates as a tuple/list display).
final class UnpackTargetNode: ExprNode {
    let targets: [ExprNode]
    /// Index of the starred target, or -1.
    let starIndex: Int
    let isList: Bool
    init(_ targets: [ExprNode], starIndex: Int, isList: Bool, _ loc: SourceLoc) {
        self.targets = targets; self.starIndex = starIndex; self.isList = isList; super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        let items = try targets.map { try $0.eval(f) }
        return isList ? .obj(PyList(items)) : .obj(PyTuple(items))
    }
    override func assign(_ f: Frame, _ v: Value) throws {
        let items: [Value]
        do { items = try unpackValues(f.unit, v) } catch { throw located(error, f, loc) }
        if starIndex < 0 {
            for (t, x) in zip(targets, items) { try t.assign(f, x) }
            return
        }
        let after = targets.count - starIndex - 1
        for i in 0..<starIndex { try targets[i].assign(f, items[i]) }
        try targets[starIndex].assign(f, .obj(PyList(Array(items[starIndex..<(items.count - after)]))))
        for j in 0..<after { try targets[starIndex + 1 + j].assign(f, items[items.count - after + j]) }
    }
    private func unpackValues(_ u: Unit, _ v: Value) throws -> [Value] {
        var items: [Value]
        do {
            if starIndex >= 0 || v.object is PyTuple || v.object is PyList {
                items = try u.toArray(v)
            } else {
                // As CPython: one item more than the targets at most, so an endless
                // iterator gives "too many values" and a generator runs no further.
                let it = try u.iterate(v)
                items = []
                while items.count <= targets.count, let x = try it.next(u) { items.append(x) }
            }
        } catch let e as PyBaseException where e.type === Exc.typeError && !(v.type.lookup("__iter__") != nil) {
            throw typeError("cannot unpack non-iterable \(v.typeName) object")
        }
        if starIndex < 0 {
            if items.count > targets.count { throw valueError("too many values to unpack (expected \(targets.count))") }
            if items.count < targets.count { throw valueError("not enough values to unpack (expected \(targets.count), got \(items.count))") }
        } else if items.count < targets.count - 1 {
            throw valueError("not enough values to unpack (expected at least \(targets.count - 1), got \(items.count))")
        }
        return items
    }
    override func delete(_ f: Frame) throws { for t in targets { try t.delete(f) } }
}

/// `*x` inside a target list (only meaningful inside ``UnpackTargetNode``).
final class StarTargetNode: ExprNode {
    let inner: ExprNode
    init(_ inner: ExprNode, _ loc: SourceLoc) { self.inner = inner; super.init(loc) }
    override func assign(_ f: Frame, _ v: Value) throws { try inner.assign(f, v) }
    override func eval(_ f: Frame) throws -> Value { try inner.eval(f) }
}

/// A node's cache of one module attribute (`math.pi`, `random.random()`): the module it was
/// read from and that module's cell for the name. A module's cell for a name never changes
/// (rebinding changes its value) and cells are immortal, so the cell is held without
/// reference counting; the module is kept alive, so its identity is never reused. Written
/// only while units do not run in parallel (its fields would be torn); read always.
struct ModuleAttributeCache {
    private var module: ObjectIdentifier? = nil
    private var cell: Unmanaged<Cell>? = nil
    private var keep: PyModule? = nil

    /// The attribute when `recv` is the remembered module and the name is bound there.
    @inline(__always) func value(of recv: Value) -> Value? {
        guard let id = module, case .obj(let o) = recv, ObjectIdentifier(o) == id, let c = cell else { return nil }
        let v = c._withUnsafeGuaranteedRef { $0.value }
        return v.isUnbound ? nil : v
    }

    /// When `recv` is a module that binds `name`: the value, as a module's getattr would
    /// give it (its globals come first), and while one unit runs, the cache to store. (The
    /// caller stores it; a `mutating` method here would count as a write for ThreadSanitizer
    /// and the exclusivity checks at every call, even when it writes nothing.)
    static func lookUp(_ recv: Value, _ name: String) -> (value: Value, cache: ModuleAttributeCache?)? {
        guard case .obj(let o) = recv, let m = o as? PyModule, let c = m.globals.existingCell(name) else { return nil }
        let v = c.value
        if v.isUnbound { return nil }
        if ObjectLocks.active { return (v, nil) }
        return (v, ModuleAttributeCache(module: ObjectIdentifier(m), cell: .passUnretained(c), keep: m))
    }
}
