// Displays: tuples, lists, sets, dicts (with unpacking), and f-strings.
import ConcSyntax

/// An element of a display: a value or a `*iterable` to splice.
enum ElementNode {
    case single(ExprNode)
    case splice(ExprNode)
}

/// The values of a display's elements. `sequenceDisplay`: a tuple or list display, whose
/// `*x` of a non-iterable reads "Value after * must be an iterable" in CPython (a set
/// display keeps the plain "is not iterable").
/// `display` is the display's location, where a failed splice is marked (`[*n]` → `^^^^`).
@inline(__always) func evaluateElements(_ elements: [ElementNode], _ f: Frame, sequenceDisplay: Bool = false,
                                        display: SourceLoc? = nil) throws -> [Value] {
    var out: [Value] = []
    out.reserveCapacity(elements.count)
    for e in elements {
        switch e {
        case .single(let x): out.append(try x.eval(f))
        case .splice(let x):
            let v = try x.eval(f)
            do {
                out.append(contentsOf: try f.unit.toArray(v, lengthHint: sequenceDisplay))
            } catch let e as PyBaseException where sequenceDisplay && e.type === Exc.typeError && !f.unit.isIterableShape(v) {
                let error = typeError("Value after * must be an iterable, not \(v.typeName)")
                throw display.map { located(error, f, $0) } ?? error
            } catch {
                throw display.map { located(error, f, $0) } ?? error
            }
        }
    }
    return out
}

final class TupleNode: ExprNode {
    let elements: [ElementNode]
    init(_ e: [ElementNode], _ loc: SourceLoc) { elements = e; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        if elements.isEmpty { return .obj(PyTuple.empty) }  // `()` is one object, as in CPython
        return .obj(PyTuple(try evaluateElements(elements, f, sequenceDisplay: true, display: loc)))
    }
}

final class ListNode: ExprNode {
    let elements: [ElementNode]
    init(_ e: [ElementNode], _ loc: SourceLoc) { elements = e; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value { .obj(PyList(try evaluateElements(elements, f, sequenceDisplay: true, display: loc))) }
}

final class SetNode: ExprNode {
    let elements: [ElementNode]
    /// For three or more constants (`{10, 20, 30}`), which CPython compiles to a frozenset
    /// constant copied into a new set: that frozenset, built from the constants in order,
    /// then built again from that one's order (its constant merging does). Made at the
    /// first evaluation; the same for every unit, so kept under a lock (an immutable
    /// frozenset once made). Nil for other displays.
    private let template: PosixMutex<PySet?>?
    init(_ e: [ElementNode], _ loc: SourceLoc) {
        elements = e
        let constants = e.count > 2 && e.allSatisfy { if case .single(let n) = $0 { return n is ConstNode }; return false }
        template = constants ? PosixMutex(nil) : nil
        super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        let s = PySet()
        do {
            if let template {
                s.becomeCopy(of: try constantTemplate(template, f))
                return .obj(s)
            }
            for v in try evaluateElements(elements, f) { try s.add(f.unit, v) }
        } catch { throw located(error, f, loc) }
        return .obj(s)
    }
    private func constantTemplate(_ template: PosixMutex<PySet?>, _ f: Frame) throws -> PySet {
        if let t = template.withLock({ $0 }) { return t }
        let first = PySet(frozen: true)
        for v in try evaluateElements(elements, f) { try first.add(f.unit, v) }
        let second = PySet(frozen: true)
        for (v, h) in first.hashedElements { try second.add(f.unit, v, hash: h) }
        return template.withLock { t in
            if let made = t { return made }
            t = second
            return second
        }
    }
}

final class DictNode: ExprNode {
    /// (key, value); a nil key means `**value`.
    let entries: [(ExprNode?, ExprNode)]
    /// How CPython's compiler groups the entries (compiler_dict): runs of up to 15 pairs
    /// are all evaluated before the first is hashed (an unhashable key is reported after
    /// the later pairs ran); a longer run hashes each pair as it comes; `**m` stands alone.
    private enum Group { case evaluateThenInsert(Range<Int>), insertEach(Range<Int>), unpack(Int) }
    private let groups: [Group]
    init(_ e: [(ExprNode?, ExprNode)], _ loc: SourceLoc) {
        entries = e
        var groups: [Group] = []
        func run(_ r: Range<Int>) -> Group { r.count * 2 > 30 ? .insertEach(r) : .evaluateThenInsert(r) }
        var pending = 0   // pairs since the last group ended
        for i in e.indices {
            if e[i].0 == nil {
                if pending > 0 { groups.append(run(i - pending..<i)); pending = 0 }
                groups.append(.unpack(i))
            } else if pending * 2 > 30 {
                groups.append(run(i - pending..<i + 1)); pending = 0
            } else {
                pending += 1
            }
        }
        if pending > 0 { groups.append(run(e.count - pending..<e.count)) }
        self.groups = groups
        super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        let d = PyDict()
        let u = f.unit
        do {
            for g in groups {
                switch g {
                case .evaluateThenInsert(let r):
                    try withUnsafeTemporaryAllocation(of: Value.self, capacity: r.count * 2) { buffer in
                        var made = 0
                        defer { buffer.baseAddress!.deinitialize(count: made) }
                        for i in r {
                            buffer.initializeElement(at: made, to: try entries[i].0!.eval(f)); made += 1
                            buffer.initializeElement(at: made, to: try entries[i].1.eval(f)); made += 1
                        }
                        for j in stride(from: 0, to: made, by: 2) { try d.set(u, buffer[j], buffer[j + 1]) }
                    }
                case .insertEach(let r):
                    for i in r {
                        let key = try entries[i].0!.eval(f)
                        try d.set(u, key, try entries[i].1.eval(f))
                    }
                case .unpack(let i):
                    let m = try entries[i].1.eval(f)
                    if case .obj(let o) = m, o.hasType(Types.dictID), let src = o as? PyDict {
                        try d.merge(u, from: src)
                        continue
                    }
                    guard let pairs = try u.mappingPairs(m) else {
                        throw typeError("'\(m.typeName)' object is not a mapping")
                    }
                    for (k2, v2) in pairs { try d.set(u, k2, v2) }
                }
            }
        } catch { throw located(error, f, loc) }
        return .obj(d)
    }
}

/// One part of an f-string.
enum FPartNode {
    case literal(String)
    case field(ExprNode, conversion: Character?, spec: [FPartNode]?, prefix: String?)
}

/// `f"..."`.
final class FStringNode: ExprNode {
    let parts: [FPartNode]
    /// For each part, its format spec when that is constant (no replacement fields in it),
    /// parsed once here instead of at every evaluation.
    private let constantSpecs: [ConstantFormatSpec?]
    /// Bytes of the literal parts plus a guess per field: the capacity to reserve for the
    /// result when it will not fit a small string anyway.
    private let expectedLength: Int
    init(_ p: [FPartNode], _ loc: SourceLoc) {
        parts = p
        constantSpecs = p.map { part in
            guard case .field(_, _, let spec?, _) = part else { return nil }
            var text = ""
            for s in spec {
                guard case .literal(let l) = s else { return nil }
                text += l
            }
            return ConstantFormatSpec(text)
        }
        expectedLength = p.reduce(0) { n, part in
            if case .literal(let l) = part { return n + l.utf8.count }
            return n + 8
        }
        super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        do {
            var out = UTF8Builder(capacity: max(32, expectedLength + expectedLength / 2))
            try FStringNode.render(parts, constantSpecs, f, into: &out)
            return .str(out.string())
        } catch { throw located(error, f, loc) }
    }
    static func render(_ parts: [FPartNode], _ f: Frame) throws -> String {
        var out = UTF8Builder(capacity: 16)
        try render(parts, nil, f, into: &out)
        return out.string()
    }
    private static func render(_ parts: [FPartNode], _ constantSpecs: [ConstantFormatSpec?]?, _ f: Frame,
                               into out: inout UTF8Builder) throws {
        let u = f.unit
        for (i, p) in parts.enumerated() {
            switch p {
            case .literal(let s): out.append(s)
            case .field(let e, let conv, let specParts, let prefix):
                var v = try e.eval(f)
                if let p = prefix { out.append(p) }
                let conversion = conv ?? (prefix != nil && specParts == nil ? "r" : nil)
                if conversion != nil && specParts == nil {
                    // `{x!r}`, `{x!s}`: the converted text is the result.
                    switch conversion {
                    case "r": out.append(try u.repr(v))
                    case "s": out.append(try u.str(v))
                    default: out.append(asciiEscaped(try u.repr(v)))
                    }
                    continue
                }
                switch conversion {
                case "r": v = .str(try u.repr(v))
                case "s": v = .str(try u.str(v))
                case "a": v = .str(asciiEscaped(try u.repr(v)))
                default: break
                }
                if let constant = constantSpecs?[i] {
                    out.append(try constant.format(v, u))
                    continue
                }
                let spec = try specParts.map { try render($0, f) } ?? ""
                if spec.isEmpty, let s = v.asStr, s.hasType(Types.strID) { out.append(s.value) } else { out.append(try u.format(v, spec: spec)) }
            }
        }
    }
}

/// Text built from pieces as UTF-8 bytes, made a String once at the end: appending to a
/// String costs ~300 instructions a piece (uniqueness, capacity and ASCII-flag upkeep),
/// appending bytes a copy. The pieces are Strings, so the bytes are valid UTF-8.
struct UTF8Builder {
    private var bytes: [UInt8] = []
    init(capacity: Int) { bytes.reserveCapacity(capacity) }
    @inline(__always) mutating func append(_ s: String) {
        withUTF8(s) { bytes.append(contentsOf: $0) }
    }
    func string() -> String {
        bytes.withUnsafeBufferPointer { utf8String($0, 0, $0.count) }
    }
}

/// A constant format spec (`{x:8.3f}`), parsed once for the builtin types that format
/// themselves; a spec that does not parse for a type is left to ``Unit/format(_:spec:)``,
/// which raises the error. (A class: the node's array hands it out by reference, where a
/// struct of four fields would be copied at every field rendered.)
final class ConstantFormatSpec {
    let text: String
    let forInt: FormatSpec?
    let forFloat: FormatSpec?
    let forStr: FormatSpec?
    init(_ text: String) {
        self.text = text
        forInt = try? FormatSpec(text, defaultAlign: ">", defaultType: "d", typeName: "int")
        forFloat = try? FormatSpec(text, defaultAlign: ">", defaultType: noFormatType, typeName: "float")
        forStr = try? FormatSpec(text, defaultAlign: "<", defaultType: "s", typeName: "str")
        Immortal.make(self)  // lives as long as its node, which every unit reads
    }

    /// `format(v, text)`.
    func format(_ v: Value, _ u: Unit) throws -> String {
        if !text.isEmpty {
            switch v {
            case .int(let i): if let s = forInt { return try formatInt(i, s, typeName: "int") }
            case .float(let d): if let s = forFloat { return try formatFloat(d, s, typeName: "float") }
            case .obj(let o):
                if o.hasType(Types.strID), let str = o as? PyStr, let s = forStr { return try formatString(str.value, s, scalarCount: str.count) }
            default: break
            }
        } else if let s = v.asStr, s.hasType(Types.strID) {
            return s.value
        }
        return try u.format(v, spec: text)
    }
}

