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
    init(_ superNode: SuperNode, _ generic: MethodCallNode) {
        self.superNode = superNode; self.generic = generic
        super.init(generic.loc)
    }

    override func eval(_ f: Frame) throws -> Value {
        guard let p = superNode.firstParam, case .obj(let c) = try superNode.callee.eval(f), c === Types.superType,
              let cls = f.function?.ownerClass else { return try generic.eval(f) }
        let receiver = try p.eval(f)
        if case .obj(let r) = receiver, r is PyType { return try generic.eval(f) }
        guard let fn = method(after: cls, in: receiver.type) else { return try generic.eval(f) }
        do {
            if let simple = generic.simpleArgs, fn.canCallDirect(simple.count + 1) {
                return try f.withUnit { try $0.callDirect(fn, receiver: receiver, simple, f) }
            }
            return try f.unit.callFunction(fn, try evaluateArguments(generic.args, f, prepend: receiver))
        } catch { throw located(error, f, loc) }
    }

    /// The first definition of the name after `start` in `type`'s MRO, if it is a plain
    /// function (nil also when `start` is not in the MRO: the generic path reports that).
    @inline(__always) private func method(after start: PyType, in type: PyType) -> PyFunction? {
        let mro = type.mro
        guard let i = mro.firstIndex(where: { $0 === start }) else { return nil }
        for t in mro[(i + 1)...] {
            if let attr = t.ownAttribute(generic.name, hash: generic.hash) {
                if case .obj(let a) = attr, let fn = a as? PyFunction { return fn }
                return nil
            }
        }
        return nil
    }
}
