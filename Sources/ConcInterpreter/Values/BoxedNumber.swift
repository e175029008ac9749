// Instances of user subclasses of int and float.

/// An instance of a user subclass of int or float (`class Meters(float)`): the number, with
/// the subclass as its class. Ints and floats are otherwise inline scalars in `Value`; an
/// instance of a subclass must keep its class (`type(x)`, its methods, its attributes), so
/// it is an object. What its class does not override acts on ``number``
/// (``Value/unboxedNumber``), as CPython's int and float slots act on the instance:
/// arithmetic, comparison, hashing, truth, repr, indexing and the int/float methods.
final class PyBoxedNumber: PyObject, SubclassAttributes {
    /// `.int` or `.float`. Immutable.
    let number: Value
    /// Instance attributes (`x.unit = "m"`); only under `locked`, as for other subclasses.
    var subclassAttributes: PyDict?
    init(_ number: Value, type: PyType) { self.number = number; super.init(type: type) }
    deinit {
        guard Finalizers.wantsStandIn(self) else { return }
        let standIn = PyBoxedNumber(number, type: type)
        standIn.subclassAttributes = subclassAttributes
        Finalizers.queue(standIn: standIn)
    }
}

extension Value {
    /// The int or float inside an instance of an int or float subclass; else `self`.
    @inline(__always) var unboxedNumber: Value {
        if case .obj(let o) = self, let b = o as? PyBoxedNumber { return b.number }
        return self
    }
    /// True for an instance of a user subclass of int or float.
    @inline(__always) var isBoxedNumber: Bool {
        if case .obj(let o) = self { return o is PyBoxedNumber }
        return false
    }
}
