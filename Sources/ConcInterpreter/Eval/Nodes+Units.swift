// `spawn f(a)`, `thread f(a)`, `go f(a)`: evaluate the callee and arguments here, start the
// unit, return its handle.
import ConcSyntax

/// `thread f(args) with name=..., daemon=...` (and `spawn`, `go`).
final class StartUnitNode: ExprNode {
    let kind: UnitKind
    let callee: ExprNode
    let args: [ArgNode]
    let options: [(String, ExprNode)]
    init(_ kind: UnitKind, callee: ExprNode, _ args: [ArgNode], options: [(String, ExprNode)], _ loc: SourceLoc) {
        self.kind = kind; self.callee = callee; self.args = args; self.options = options
        super.init(loc)
    }

    override func eval(_ f: Frame) throws -> Value {
        let u = f.unit
        do {
            let c = try callee.eval(f)
            let a = try evaluateArguments(args, f, callee: c)
            var name: String? = nil
            var daemon: Bool? = nil
            for (key, node) in options {
                let v = try node.eval(f)
                switch key {
                case "name": name = try u.str(v)
                case "daemon": daemon = try u.isTruthy(v)
                default: throw typeError("'\(kind.rawValue)' got an unexpected option '\(key)' (options: name, daemon)")
                }
            }
            switch kind {
            case .thread: return .obj(try u.startThread(c, a, name: name, daemon: daemon))
            case .spawn: return .obj(try u.startProcess(c, a, name: name, daemon: daemon))
            case .go:
                throw pyError(Exc.notImplementedError, "'go' arrives with the green-threads runtime; use 'thread' for now")
            }
        } catch { throw located(error, f, loc) }
    }
}
