// `super().name(args...)` inside a method, called without making the super object or a
// bound method.
import ConcSyntax

/// `super().name(args...)` where `super()` has no arguments (a ``SuperNode``).
///
/// When `super` is the builtin, the frame's function has an owner class and the attribute
/// found after it in the MRO of the receiver's class is a plain function, the function is
/// called directly with the receiver (what the bound method `super().name` would do).
/// Every other case (a rebound `super`, a receiver that is a class, a classmethod,
/// staticmethod, property or missing attribute) runs the ordinary method call, whose
/// evaluation of `super()` reads only the `super` name and the first parameter again.
final class SuperMethodCallNode: ExprNode {
    let superNode: SuperNode
    /// The same call as an ordinary method call on `super()`.
    let generic: MethodCallNode
    /// The local slot of the method's first parameter (the receiver) when no argument can
    /// rebind it, else -1: the receiver is then lent from the slot, without a retain.
    private let receiverSlot: Int
    init(_ superNode: SuperNode, _ generic: MethodCallNode) {
        self.superNode = superNode; self.generic = generic
        receiverSlot = (superNode.firstParam as? LocalNode).flatMap { l in
            generic.simpleArgs?.allSatisfy(isRebindFree) == true ? l.slot : nil
        } ?? -1
        super.init(generic.loc)
    }
    // Inline cache: (receiver's class, owner class) → the function found, for two pairs
    // (`super().__init__(...)` in a base class sees each subclass). Classes are immortal,
    // so their identities are never reused. Written only while one unit runs (several
    // words); read always, validated by both identities and the class epoch. While units
    // run in parallel, misses walk the MRO without caching.
    private var cacheTypes: (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) = (nil, nil)
    private var cacheOwners: (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) = (nil, nil)
    private var cacheFunctions: (PyFunction?, PyFunction?) = (nil, nil)
    private var cacheNext = 0
    private var cacheEpoch = -1

    override func eval(_ f: Frame) throws -> Value {
        guard let p = superNode.firstParam, case .obj(let c) = try superNode.callee.eval(f), c === Types.superType,
              let cls = f.function?.ownerClass else { return try generic.eval(f) }
        if receiverSlot >= 0, let r = (f.locals + receiverSlot).unretainedObject {
            // Lent from its slot: nothing before the call returns can store into it.
            return try r._withUnsafeGuaranteedRef { o in try call(receiver: .obj(o), after: cls, f) }
        }
        return try call(receiver: try superNode.firstArgument(p, f), after: cls, f)
    }

    /// The call on `receiver`, the method's first argument, of what follows `cls` in its MRO.
    @inline(__always) private func call(receiver: Value, after cls: PyType, _ f: Frame) throws -> Value {
        if case .obj(let r) = receiver, r is PyType { return try generic.eval(f) }
        guard let fn = cachedMethod(after: cls, in: receiver.type, f.classEpoch) else { return try generic.eval(f) }
        do {
            if let simple = generic.simpleArgs, fn.canCallDirect(simple.count + 1) {
                return try f.withUnit { try $0.callDirect(fn, receiver: receiver, simple, f) }
            }
            return try f.unit.callFunction(fn, try evaluateArguments(generic.args, f, prepend: receiver, callee: .obj(fn)))
        } catch { throw located(error, f, loc) }
    }

    /// ``method(after:in:)`` through the cache.
    @inline(__always) private func cachedMethod(after start: PyType, in type: PyType, _ epoch: Int) -> PyFunction? {
        let t = Unmanaged.passUnretained(type).toOpaque(), o = Unmanaged.passUnretained(start).toOpaque()
        if cacheEpoch == epoch {
            if t == cacheTypes.0 && o == cacheOwners.0, let fn = cacheFunctions.0 { return fn }
            if t == cacheTypes.1 && o == cacheOwners.1, let fn = cacheFunctions.1 { return fn }
        }
        guard let fn = method(after: start, in: type) else { return nil }
        if !ObjectLocks.active {
            if cacheEpoch != epoch { cacheTypes = (nil, nil); cacheOwners = (nil, nil); cacheFunctions = (nil, nil); cacheEpoch = epoch }
            if cacheNext & 1 == 0 { cacheTypes.0 = t; cacheOwners.0 = o; cacheFunctions.0 = fn }
            else { cacheTypes.1 = t; cacheOwners.1 = o; cacheFunctions.1 = fn }
            cacheNext &+= 1
        }
        return fn
    }

    /// The first definition of the name after `start` in `type`'s MRO, if it is a plain
    /// function (nil also when `start` is not in the MRO: the generic path reports that).
    @inline(__always) private func method(after start: PyType, in type: PyType) -> PyFunction? {
        let mro = type.mro
        guard let i = mro.firstIndex(where: { $0 === start }) else { return nil }
        for t in mro[(i + 1)...] {
            if t.isBuiltin, t !== Types.object, generic.name == "__new__" { return nil }  // made on access: the generic path
            if let attr = t.ownAttribute(generic.name, hash: generic.hash) {
                if case .obj(let a) = attr, let fn = a as? PyFunction { return fn }
                return nil
            }
        }
        return nil
    }
}

/// `__class__` inside a method: the class whose body defined the method (what zero-argument
/// `super()` uses), as CPython's implicit `__class__` cell.
final class ClassCellNode: ExprNode {
    override func eval(_ f: Frame) throws -> Value {
        guard let cls = f.function?.ownerClass else {
            throw located(pyError(Exc.nameError, "name '__class__' is not defined"), f, loc)
        }
        return .obj(cls)
    }
}
