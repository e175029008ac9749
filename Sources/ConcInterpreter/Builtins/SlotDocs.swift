// The docstrings CPython 3.11 gives the special methods of its builtin types (its "slot
// wrappers": `[].__len__.__doc__` is 'Return len(self).'), by method name. Other native
// methods have no docstring in Conc (None).

/// `__doc__` of a builtin type's special method named `name`, or nil.
func slotDoc(_ name: String) -> String? { slotDocs[name] }

private let slotDocs: [String: String] = {
    var d: [String: String] = [
        "__repr__": "Return repr(self).", "__str__": "Return str(self).", "__hash__": "Return hash(self).",
        "__len__": "Return len(self).", "__iter__": "Implement iter(self).", "__next__": "Implement next(self).",
        "__call__": "Call self as a function.", "__bool__": "True if self else False",
        "__getattribute__": "Return getattr(self, name).", "__setattr__": "Implement setattr(self, name, value).",
        "__delattr__": "Implement delattr(self, name).",
        "__init__": "Initialize self.  See help(type(self)) for accurate signature.",
        "__getitem__": "Return self[key].", "__setitem__": "Set self[key] to value.", "__delitem__": "Delete self[key].",
        "__contains__": "Return key in self.",
        "__get__": "Return an attribute of instance, which is of type owner.",
        "__set__": "Set an attribute of instance to value.", "__delete__": "Delete an attribute of instance.",
        "__neg__": "-self", "__pos__": "+self", "__abs__": "abs(self)", "__invert__": "~self",
        "__int__": "int(self)", "__float__": "float(self)",
        "__index__": "Return self converted to an integer, if self is suitable for use as an index into a list.",
        "__divmod__": "Return divmod(self, value).", "__rdivmod__": "Return divmod(value, self).",
        "__pow__": "Return pow(self, value, mod).", "__rpow__": "Return pow(value, self, mod).",
        "__await__": "Return an iterator to be used in await expression.",
    ]
    for (name, op) in [("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("floordiv", "//"),
                       ("mod", "%"), ("lshift", "<<"), ("rshift", ">>"), ("and", "&"), ("or", "|"),
                       ("xor", "^"), ("matmul", "@")] {
        d["__\(name)__"] = "Return self\(op)value."
        d["__r\(name)__"] = "Return value\(op)self."
        d["__i\(name)__"] = "Return self\(op)=value."  // (list's += and *= say "Implement")
    }
    for (name, op) in [("lt", "<"), ("le", "<="), ("eq", "=="), ("ne", "!="), ("gt", ">"), ("ge", ">=")] {
        d["__\(name)__"] = "Return self\(op)value."
    }
    return d
}()
