// Attribute access, subscription, slices and the target forms that unpack.
import ConcSyntax

/// `obj.name`.
final class AttributeNode: ExprNode {
    let object: ExprNode
    let name: String
    let hash: Int
    init(_ o: ExprNode, _ name: String, _ loc: SourceLoc) { object = o; self.name = name; hash = nameHash(name); super.init(loc) }
    // Inline caches (TODO(#4): make them safe to update from several threads at once).
    /// Load: instances of `loadShapes[i]` keep this attribute in slot `loadSlots[i]`
    /// (valid in `loadEpoch`). Four entries cover the polymorphic sites of class hierarchies.
    private var loadShapes: (Shape?, Shape?, Shape?, Shape?) = (nil, nil, nil, nil)
    private var loadSlots: (Int, Int, Int, Int) = (0, 0, 0, 0)
    private var loadNext = 0
    private var loadEpoch = -1
    /// Store: instances of `storeShape` get the value in `storeSlot`, then have shape `storeResult`.
    private var storeShape: Shape?
    private var storeResult: Shape?
    private var storeSlot = 0
    private var storeEpoch = -1

    override func eval(_ f: Frame) throws -> Value { try load(try object.eval(f), f) }

    /// Reads the attribute of an already evaluated object (also used by augmented assignment).
    @inline(__always) func load(_ o: Value, _ f: Frame) throws -> Value {
        if case .obj(let x) = o, let inst = x as? PyInstance {
            let shape = inst.shape
            let epoch = f.unit.engine.classEpoch
            if loadEpoch == epoch {
                var slot = -1
                if shape === loadShapes.0 { slot = loadSlots.0 }
                else if shape === loadShapes.1 { slot = loadSlots.1 }
                else if shape === loadShapes.2 { slot = loadSlots.2 }
                else if shape === loadShapes.3 { slot = loadSlots.3 }
                if slot >= 0 {
                    let v = inst.slots[slot]
                    if !v.isUnbound { return v }
                }
            }
            if let i = shape.index.get(name, hash: hash), !inst.slots[i].isUnbound, !hasDataDescriptor(inst.type, epoch) {
                remember(shape, i, epoch)
                return inst.slots[i]
            }
        }
        do { return try f.unit.getAttr(o, name) } catch { throw located(error, f, loc) }
    }
    private func remember(_ shape: Shape, _ slot: Int, _ epoch: Int) {
        if loadEpoch != epoch { loadShapes = (nil, nil, nil, nil); loadNext = 0; loadEpoch = epoch }
        switch loadNext & 3 {
        case 0: loadShapes.0 = shape; loadSlots.0 = slot
        case 1: loadShapes.1 = shape; loadSlots.1 = slot
        case 2: loadShapes.2 = shape; loadSlots.2 = slot
        default: loadShapes.3 = shape; loadSlots.3 = slot
        }
        loadNext &+= 1
    }

    /// True when the class defines `name` as a property or a setter-less native attribute,
    /// or overrides attribute access (then the instance slot must not be used directly).
    private func hasDataDescriptor(_ t: PyType, _ epoch: Int) -> Bool {
        if t.creationHooks(epoch).overridesGetattribute { return true }
        guard let a = t.lookup(name, hash: hash), case .obj(let d) = a else { return false }
        return d is PyProperty || d is PyNativeProperty
    }
    override func assign(_ f: Frame, _ v: Value) throws { try store(try object.eval(f), v, f) }

    /// Writes the attribute of an already evaluated object.
    @inline(__always) func store(_ o: Value, _ v: Value, _ f: Frame) throws {
        if case .obj(let x) = o, let inst = x as? PyInstance, !(inst is PyBaseException) {
            let shape = inst.shape
            let epoch = f.unit.engine.classEpoch
            if shape === storeShape && storeEpoch == epoch {
                if let r = storeResult { inst.shape = r; inst.slots.append(v) } else { inst.slots[storeSlot] = v }
                return
            }
            if !hasDataDescriptor(inst.type, epoch) && !inst.type.creationHooks(epoch).overridesSetattr {
                if let i = shape.index.get(name, hash: hash) {
                    inst.slots[i] = v
                    storeShape = shape; storeResult = nil; storeSlot = i; storeEpoch = epoch
                } else {
                    let next = shape.adding(name)
                    inst.shape = next
                    inst.slots.append(v)
                    storeShape = shape; storeResult = next; storeEpoch = epoch
                }
                return
            }
        }
        do { try f.unit.setAttr(o, name, v) } catch { throw located(error, f, loc) }
    }
    override func delete(_ f: Frame) throws {
        let o = try object.eval(f)
        do { try f.unit.delAttr(o, name) } catch { throw located(error, f, loc) }
    }
}

/// `obj[index]`.
final class SubscriptNode: ExprNode {
    let object: ExprNode
    let index: ExprNode
    init(_ o: ExprNode, _ i: ExprNode, _ loc: SourceLoc) { object = o; index = i; super.init(loc) }
    var marker: TracebackEntry.Marker {
        object.loc.endLine == loc.line ? .subscript(valueEnd: object.loc.endCol, indexEnd: index.loc.endCol + 1) : .span
    }
    override func eval(_ f: Frame) throws -> Value {
        let o = try object.eval(f)
        let i = try index.eval(f)
        do { return try f.unit.getItem(o, i) } catch { throw located(error, f, loc, marker) }
    }
    override func assign(_ f: Frame, _ v: Value) throws {
        let o = try object.eval(f)
        let i = try index.eval(f)
        do { try f.unit.setItem(o, i, v) } catch { throw located(error, f, loc, marker) }
    }
    override func delete(_ f: Frame) throws {
        let o = try object.eval(f)
        let i = try index.eval(f)
        do { try f.unit.delItem(o, i) } catch { throw located(error, f, loc, marker) }
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
        let items: [Value]
        do { items = try u.toArray(v) } catch let e as PyBaseException where e.type === Exc.typeError && !(v.type.lookup("__iter__") != nil) {
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
