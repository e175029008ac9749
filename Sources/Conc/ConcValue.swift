// Swift-facing values: what `evaluate` returns and what native functions receive.
import ConcInterpreter

/// A Conc value converted to plain Swift data.
public enum ConcValue: Equatable, Sendable, CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([ConcValue])
    case tuple([ConcValue])
    case dict([ConcPair])
    case set([ConcValue])
    /// Any other object, by its repr.
    case object(repr: String)

    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return String(d)
        case .string(let s): return s
        case .bytes(let b): return "\(b)"
        case .list(let l): return "\(l)"
        case .tuple(let t): return "\(t)"
        case .dict(let d): return "\(d)"
        case .set(let s): return "\(s)"
        case .object(let r): return r
        }
    }
}

/// A key/value pair of a dict, in insertion order.
public struct ConcPair: Equatable, Sendable {
    public let key: ConcValue
    public let value: ConcValue
    public init(_ key: ConcValue, _ value: ConcValue) { self.key = key; self.value = value }
}

extension ConcValue {
    init(_ v: Value, _ u: Unit) {
        switch v {
        case .none, .unbound: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .float(let d): self = .float(d)
        case .obj(let o):
            let bridged = bridgeObject(o, u)
            self = bridged ?? .object(repr: (try? u.repr(v)) ?? "<object>")
        }
    }

    /// The Conc value for this Swift value.
    var conc: Value {
        switch self {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        case .string(let s): return makeStr(s)
        case .bytes(let b): return makeBytes(b)
        case .list(let l): return makeList(l.map { $0.conc })
        case .tuple(let t): return makeTuple(t.map { $0.conc })
        case .dict(let d): return makeDict(d.map { ($0.key.conc, $0.value.conc) })
        case .set(let s): return makeSet(s.map { $0.conc })
        case .object: return .none
        }
    }
}

private func bridgeObject(_ o: PyObject, _ u: Unit) -> ConcValue? {
    switch bridgeKind(o) {
    case .string(let s): return .string(s)
    case .bytes(let b): return .bytes(b)
    case .list(let items): return .list(items.map { ConcValue($0, u) })
    case .tuple(let items): return .tuple(items.map { ConcValue($0, u) })
    case .dict(let pairs): return .dict(pairs.map { ConcPair(ConcValue($0.0, u), ConcValue($0.1, u)) })
    case .set(let items): return .set(items.map { ConcValue($0, u) })
    case .other: return nil
    }
}
