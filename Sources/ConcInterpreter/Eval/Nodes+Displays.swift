// Displays: tuples, lists, sets, dicts (with unpacking), and f-strings.
import ConcSyntax

/// An element of a display: a value or a `*iterable` to splice.
enum ElementNode {
    case single(ExprNode)
    case splice(ExprNode)
}

@inline(__always) func evaluateElements(_ elements: [ElementNode], _ f: Frame) throws -> [Value] {
    var out: [Value] = []
    out.reserveCapacity(elements.count)
    for e in elements {
        switch e {
        case .single(let x): out.append(try x.eval(f))
        case .splice(let x): out.append(contentsOf: try f.unit.toArray(try x.eval(f)))
        }
    }
    return out
}

final class TupleNode: ExprNode {
    let elements: [ElementNode]
    init(_ e: [ElementNode], _ loc: SourceLoc) { elements = e; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value { .obj(PyTuple(try evaluateElements(elements, f))) }
}

final class ListNode: ExprNode {
    let elements: [ElementNode]
    init(_ e: [ElementNode], _ loc: SourceLoc) { elements = e; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value { .obj(PyList(try evaluateElements(elements, f))) }
}

final class SetNode: ExprNode {
    let elements: [ElementNode]
    init(_ e: [ElementNode], _ loc: SourceLoc) { elements = e; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let s = PySet()
        do { for v in try evaluateElements(elements, f) { try s.add(f.unit, v) } } catch { throw located(error, f, loc) }
        return .obj(s)
    }
}

final class DictNode: ExprNode {
    /// (key, value); a nil key means `**value`.
    let entries: [(ExprNode?, ExprNode)]
    init(_ e: [(ExprNode?, ExprNode)], _ loc: SourceLoc) { entries = e; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let d = PyDict()
        let u = f.unit
        do {
            for (k, v) in entries {
                if let k = k {
                    let key = try k.eval(f)
                    try d.set(u, key, try v.eval(f))
                } else {
                    let m = try v.eval(f)
                    guard case .obj(let o) = m, let src = o as? PyDict else {
                        throw typeError("'\(m.typeName)' object is not a mapping")
                    }
                    for (k2, v2) in src.pairs { try d.set(u, k2, v2) }
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
    init(_ p: [FPartNode], _ loc: SourceLoc) { parts = p; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        do { return .str(try FStringNode.render(parts, f)) } catch { throw located(error, f, loc) }
    }
    static func render(_ parts: [FPartNode], _ f: Frame) throws -> String {
        var out = ""
        let u = f.unit
        for p in parts {
            switch p {
            case .literal(let s): out += s
            case .field(let e, let conv, let specParts, let prefix):
                var v = try e.eval(f)
                if let p = prefix { out += p }
                let conversion = conv ?? (prefix != nil && specParts == nil ? "r" : nil)
                switch conversion {
                case "r": v = .str(try u.repr(v))
                case "s": v = .str(try u.str(v))
                case "a": v = .str(asciiEscaped(try u.repr(v)))
                default: break
                }
                let spec = try specParts.map { try render($0, f) } ?? ""
                if spec.isEmpty, let s = v.asStr { out += s.value } else { out += try u.format(v, spec: spec) }
            }
        }
        return out
    }
}

