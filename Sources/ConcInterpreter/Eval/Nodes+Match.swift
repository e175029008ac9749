// The `match` statement (PEP 634): the subject is tested against each case's pattern in
// turn; the names a pattern captures are bound once the whole pattern matched, then the
// guard decides, as in CPython 3.11.
import ConcSyntax

/// `match subject:` with its cases.
final class MatchNode: StmtNode {
    struct Case {
        let pattern: PatternNode
        let guardTest: ExprNode?
        let body: StmtNode
    }
    let subject: ExprNode
    let cases: [Case]
    init(_ subject: ExprNode, _ cases: [Case], _ loc: SourceLoc) { self.subject = subject; self.cases = cases; super.init(loc) }

    override func exec(_ f: Frame) throws -> Completion {
        let v = try subject.eval(f)
        var bindings: [(ExprNode, Value)] = []
        for c in cases {
            bindings.removeAll(keepingCapacity: true)
            f.line = c.pattern.loc.line
            let matched: Bool
            do { matched = try c.pattern.match(v, f, &bindings) } catch { throw located(error, f, c.pattern.loc) }
            guard matched else { continue }
            for (target, value) in bindings { try target.assign(f, value) }
            if let g = c.guardTest {
                f.line = g.loc.line
                guard try truth(try g.eval(f), f) else { continue }
            }
            return try c.body.exec(f)
        }
        return .normal
    }
}

/// A compiled pattern. `match` tests a value, adding the names it captures to `bindings`
/// (assigned by the caller only when the whole case pattern matched).
class PatternNode {
    let loc: SourceLoc
    init(_ loc: SourceLoc) { self.loc = loc; Immortal.make(self) }
    func match(_ v: Value, _ f: Frame, _ bindings: inout [(ExprNode, Value)]) throws -> Bool { fatalError("match not implemented") }
    /// `_`: matches anything, binds nothing; a sequence pattern does not read its item.
    var isWildcard: Bool { false }
    /// Runs `body`, locating what it raises at this pattern (an inner pattern's own error
    /// was located first: the traceback marks the innermost, as CPython's does).
    final func locating(_ f: Frame, _ body: () throws -> Bool) throws -> Bool {
        do { return try body() } catch { throw located(error, f, loc) }
    }
}

/// A literal or dotted name: `subject == value`.
final class ValuePatternNode: PatternNode {
    let value: ExprNode
    init(_ value: ExprNode, _ loc: SourceLoc) { self.value = value; super.init(loc) }
    override func match(_ v: Value, _ f: Frame, _ bindings: inout [(ExprNode, Value)]) throws -> Bool {
        try locating(f) {
            let expected = try value.eval(f)
            // `subject == value`, as written: the subject's __eq__ sees the value itself (an
            // IntEnum member stays one).
            return try f.withUnit { try $0.isTruthy(try $0.compare(.eq, v, expected)) }
        }
    }
}

/// `None`, `True` or `False`: `subject is value`.
final class SingletonPatternNode: PatternNode {
    let value: Value
    init(_ value: Value, _ loc: SourceLoc) { self.value = value; super.init(loc) }
    override func match(_ v: Value, _ f: Frame, _ bindings: inout [(ExprNode, Value)]) throws -> Bool { isSame(v, value) }
}

/// A name (or `_`, with no target): matches anything.
final class CapturePatternNode: PatternNode {
    let target: ExprNode?
    init(_ target: ExprNode?, _ loc: SourceLoc) { self.target = target; super.init(loc) }
    override var isWildcard: Bool { target == nil }
    override func match(_ v: Value, _ f: Frame, _ bindings: inout [(ExprNode, Value)]) throws -> Bool {
        if let t = target { bindings.append((t, v)) }
        return true
    }
}

/// `p as name`.
final class AsPatternNode: PatternNode {
    let inner: PatternNode
    let target: ExprNode
    init(_ inner: PatternNode, _ target: ExprNode, _ loc: SourceLoc) { self.inner = inner; self.target = target; super.init(loc) }
    override func match(_ v: Value, _ f: Frame, _ bindings: inout [(ExprNode, Value)]) throws -> Bool {
        guard try inner.match(v, f, &bindings) else { return false }
        bindings.append((target, v))
        return true
    }
}

/// `p | q | ...`: the first alternative that matches, with its captures only.
final class OrPatternNode: PatternNode {
    let alternatives: [PatternNode]
    init(_ alternatives: [PatternNode], _ loc: SourceLoc) { self.alternatives = alternatives; super.init(loc) }
    override func match(_ v: Value, _ f: Frame, _ bindings: inout [(ExprNode, Value)]) throws -> Bool {
        let before = bindings.count
        for a in alternatives {
            if try a.match(v, f, &bindings) { return true }
            bindings.removeSubrange(before...)
        }
        return false
    }
}

/// `[a, b, *rest]` / `(a, b)`: a sequence (list, tuple, range, a registered
/// `collections.abc.Sequence`; never str, bytes or bytearray) of the right length.
final class SequencePatternNode: PatternNode {
    let items: [PatternNode]
    /// Where the `*name` item is, or -1; its target (nil for `*_`).
    let starIndex: Int
    let starTarget: ExprNode?
    /// `items` without the star's placeholder: what the picked values are matched against.
    let patterns: [PatternNode]
    init(_ items: [PatternNode], starIndex: Int, starTarget: ExprNode?, _ loc: SourceLoc) {
        self.items = items; self.starIndex = starIndex; self.starTarget = starTarget
        patterns = starIndex < 0 ? items : Array(items[..<starIndex]) + Array(items[(starIndex + 1)...])
        super.init(loc)
    }
    override func match(_ v: Value, _ f: Frame, _ bindings: inout [(ExprNode, Value)]) throws -> Bool {
        try locating(f) {
            // CPython's steps, which decide what of the subject is read (`len()`, items):
            let u = f.unit
            guard try isMatchSequence(v, u) else { return false }
            let fixed = items.count - (starIndex >= 0 ? 1 : 0)
            let starIsWildcard = starIndex >= 0 && starTarget == nil
            // The length: exactly `fixed` without a star; at least `fixed` with one (no len()
            // at all for `[*_]` or `[*rest]`).
            if starIndex < 0 {
                guard try u.length(v) == fixed else { return false }
            } else if fixed > 0 {
                guard try u.length(v) >= fixed else { return false }
            }
            // `[]`, `[_, _]`, `[_, *_]`: nothing more is read (a named star still binds).
            if starTarget == nil && patterns.allSatisfy(\.isWildcard) { return true }
            if starIsWildcard {
                // `[first, *_, last]`: only the items named, by index (a huge range is not
                // read whole); those after the star at len() - k, as the subject may not
                // take negative indices.
                for (i, p) in items.enumerated() where i != starIndex && !p.isWildcard {
                    let index = i < starIndex ? i : try u.length(v) - (items.count - i)
                    guard try p.match(try u.getItem(v, .int(index)), f, &bindings) else { return false }
                }
                return true
            }
            // Otherwise the sequence is unpacked (iterated), as CPython's UNPACK_SEQUENCE /
            // UNPACK_EX do, with their errors when it yields another count than len() said.
            // Without a star, no more than one item past the count is read (a subject
            // whose __getitem__ never ends is too long, not read forever).
            let elements = starIndex < 0 ? try readAtMost(fixed + 1, of: v, u) : try u.toArray(v)
            let m = elements.count
            let values: [Value]
            if starIndex < 0 {
                if m < fixed { throw valueError("not enough values to unpack (expected \(fixed), got \(m))") }
                if m > fixed { throw valueError("too many values to unpack (expected \(fixed))") }
                values = elements
            } else {
                if m < fixed { throw valueError("not enough values to unpack (expected at least \(fixed), got \(m))") }
                let after = items.count - starIndex - 1
                if let t = starTarget { bindings.append((t, .obj(PyList(Array(elements[starIndex..<(m - after)]))))) }
                values = Array(elements[..<starIndex]) + Array(elements[(m - after)...])
            }
            for (p, x) in zip(patterns, values) where !(try p.match(x, f, &bindings)) { return false }
            return true
        }
    }
}

/// The first `limit` items of iterating `v` (fewer when it ends first).
private func readAtMost(_ limit: Int, of v: Value, _ u: Unit) throws -> [Value] {
    if case .obj(let o) = v, let list = o as? PyList, o.typeIsBuiltin { return Array(list.snapshot.prefix(limit)) }
    if case .obj(let o) = v, let tuple = o as? PyTuple, o.typeIsBuiltin { return Array(tuple.items.prefix(limit)) }
    let it = try u.iterate(v)
    var out: [Value] = []
    while out.count < limit, let x = try it.next(u) { out.append(x) }
    return out
}

/// `{key: p, **rest}`: a mapping (a dict, or a registered `collections.abc.Mapping`) with
/// every key, whose values match; `rest` gets the other items as a new dict.
final class MappingPatternNode: PatternNode {
    let keys: [ExprNode]
    let values: [PatternNode]
    let rest: ExprNode?
    init(keys: [ExprNode], values: [PatternNode], rest: ExprNode?, _ loc: SourceLoc) {
        self.keys = keys; self.values = values; self.rest = rest; super.init(loc)
    }
    override func match(_ v: Value, _ f: Frame, _ bindings: inout [(ExprNode, Value)]) throws -> Bool {
        try locating(f) {
            let u = f.unit
            guard try isMatchMapping(v, u) else { return false }
            if !keys.isEmpty, try u.length(v) < keys.count { return false }  // `{}` and `{**r}` ask no len()
            var keyValues: [Value] = []
            for k in keys {
                let key = try k.eval(f)
                for seen in keyValues where try u.equals(seen, key) {
                    throw valueError("mapping pattern checks duplicate key (\(try u.repr(key)))")
                }
                keyValues.append(key)
            }
            // CPython asks `subject.get(key, <missing>)` for every key before matching any
            // value; an exact dict is read directly.
            let exactDict = v.object.map { $0.hasType(Types.dictID) } ?? false
            let missing = Value.obj(PyInstance(cls: Types.object))
            let get = exactDict || keyValues.isEmpty ? nil : try u.getAttr(v, "get")  // none read for `{}` or `{**r}`
            var found: [Value] = []
            for key in keyValues {
                if let d = v.object as? PyDict, exactDict {
                    guard let x = try d.get(u, key) else { return false }
                    found.append(x)
                } else {
                    let x = try u.call(get!, [key, missing])
                    if isSame(x, missing) { return false }
                    found.append(x)
                }
            }
            for (x, p) in zip(found, values) where !(try p.match(x, f, &bindings)) { return false }
            if let r = rest {
                // CPython's `{}.update(subject)`: by its keys() unless it is a dict.
                if !(v.object is PyDict), try attributeOrNil(u, v, "keys") == nil {
                    throw typeError("'\(v.typeName)' object is not a mapping")
                }
                let copy = try u.call(.obj(Types.dict), [v])
                guard let d = copy.object as? PyDict else { return false }
                for key in keyValues { _ = try d.remove(u, key) }
                bindings.append((r, copy))
            }
            return true
        }
    }
}

/// `Cls(p, q, attr=r)`: an instance of `Cls` whose attributes match, the positional ones
/// named by `Cls.__match_args__` (for bool, int, float, str, bytes, bytearray, list, tuple,
/// dict, set and frozenset and their subclasses without one, a single one is the subject).
final class ClassPatternNode: PatternNode {
    let cls: ExprNode
    let positional: [PatternNode]
    let keywordNames: [String]
    let keywordPatterns: [PatternNode]
    init(cls: ExprNode, positional: [PatternNode], keywordNames: [String], keywordPatterns: [PatternNode], _ loc: SourceLoc) {
        self.cls = cls; self.positional = positional; self.keywordNames = keywordNames; self.keywordPatterns = keywordPatterns
        super.init(loc)
    }
    override func match(_ v: Value, _ f: Frame, _ bindings: inout [(ExprNode, Value)]) throws -> Bool {
        try locating(f) {
            let u = f.unit
            let c = try cls.eval(f)
            guard case .obj(let o) = c, let type = o as? PyType else { throw typeError("called match pattern must be a type") }
            guard try isInstance(u, v, c) else { return false }
            var names: [String] = []
            if !positional.isEmpty {
                if let args = try attributeOrNil(u, c, "__match_args__") {
                    guard let tuple = args.object as? PyTuple, args.type.isSubtype(of: Types.tuple) else {
                        throw typeError("\(type.messageName).__match_args__ must be a tuple (got \(args.typeName))")
                    }
                    if positional.count > tuple.items.count {
                        throw tooMany(type, tuple.items.count)
                    }
                    for a in tuple.items.prefix(positional.count) {
                        guard let s = a.asStr else { throw typeError("__match_args__ elements must be strings (got \(a.typeName))") }
                        names.append(s.value)
                    }
                } else if Self.matchesSelf(type) {
                    if positional.count > 1 { throw tooMany(type, 1) }
                    guard try positional[0].match(v, f, &bindings) else { return false }
                } else {
                    throw tooMany(type, 0)
                }
            }
            // Every attribute is read, in order and each checked for a repeat just before, until
            // one is missing; then the sub-patterns are matched, as CPython's MATCH_CLASS does.
            let allNames = names + keywordNames
            var attributes: [Value] = []
            for (i, name) in allNames.enumerated() {
                if allNames[..<i].contains(name) {
                    throw typeError("\(type.messageName)() got multiple sub-patterns for attribute '\(name)'")
                }
                guard let x = try attributeOrNil(u, v, name) else { return false }
                attributes.append(x)
            }
            for (x, p) in zip(attributes, names.indices.map { positional[$0] } + keywordPatterns) where !(try p.match(x, f, &bindings)) {
                return false
            }
            return true
        }
    }

    private func tooMany(_ type: PyType, _ accepted: Int) -> PyBaseException {
        typeError("\(type.messageName)() accepts \(accepted) positional sub-pattern\(accepted == 1 ? "" : "s") (\(positional.count) given)")
    }

    /// The builtin classes whose instances a single positional sub-pattern matches whole
    /// (CPython's `_Py_TPFLAGS_MATCH_SELF`, which their subclasses inherit).
    static func matchesSelf(_ t: PyType) -> Bool {
        [Types.bool, Types.bytearray, Types.bytes, Types.dict, Types.float, Types.frozenset, Types.int,
         Types.list, Types.set, Types.str, Types.tuple].contains { t.isSubtype(of: $0) }
    }
}

/// Whether a sequence pattern may match `v` (CPython's `Py_TPFLAGS_SEQUENCE`): lists,
/// tuples, ranges and their subclasses, and classes that inherit the flag of
/// `collections.abc.Sequence` or were registered with it (deque among them); never str,
/// bytes or bytearray. With both flags in its MRO a class has the first one, as CPython's
/// inherits its first base's.
private func isMatchSequence(_ v: Value, _ u: Unit) throws -> Bool {
    guard case .obj(let o) = v else { return false }
    if o is PyList || o is PyTuple || o.type.isSubtype(of: Types.range) { return true }
    if o is PyStr || o is PyBytes || o is PyDict || o is PySet { return false }
    return abcCollectionFlags(o) == sequenceFlag
}

/// Whether a mapping pattern may match `v` (CPython's `Py_TPFLAGS_MAPPING`): dicts and
/// their subclasses, and classes that inherit `collections.abc.Mapping`'s flag or were
/// registered with it.
private func isMatchMapping(_ v: Value, _ u: Unit) throws -> Bool {
    guard case .obj(let o) = v else { return false }
    if o is PyDict { return true }
    if o is PyStr || o is PyBytes || o is PyList || o is PyTuple || o is PySet { return false }
    return abcCollectionFlags(o) == mappingFlag
}

private let sequenceFlag = 1 << 5, mappingFlag = 1 << 6

/// The `__abc_tpflags__` collections.abc's Sequence and Mapping set (abc's register passes
/// it to a registered class): the first in the MRO of `o`'s class.
private func abcCollectionFlags(_ o: PyObject) -> Int {
    guard let f = o.type.lookup("__abc_tpflags__"), case .int(let n) = f else { return 0 }
    return n & (sequenceFlag | mappingFlag)
}
