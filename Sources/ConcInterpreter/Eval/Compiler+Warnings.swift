// The SyntaxWarnings CPython 3.11's compiler gives for code that runs but is almost surely
// a mistake: `x is 1`, `assert (x, "msg")`, and a literal called or indexed where a comma
// is missing (`[(1, 2) (3, 4)]`).
import ConcSyntax

/// A warning found while compiling, shown (through `warnings` when it is loaded) before
/// the code runs.
struct CompileWarning {
    let message: String
    let line: Int
}

extension Compiler {
    /// `a is b` / `a is not b` with a literal operand (a number, string, bytes or tuple of
    /// constants; None, True, False and ... are fine).
    mutating func checkIdentityComparison(_ left: Expr, _ rest: [(op: CompareOp, right: Expr)]) {
        var previous = left
        for (op, right) in rest {
            if op == .is || op == .isNot, Compiler.isLiteralForIdentity(previous) || Compiler.isLiteralForIdentity(right) {
                let (word, instead) = op == .is ? ("is", "==") : ("is not", "!=")
                warn("\"\(word)\" with a literal. Did you mean \"\(instead)\"?", at: right.loc.line)
            }
            previous = right
        }
    }

    /// `assert (test, message)`: a non-empty tuple is always true.
    mutating func checkAssertion(_ test: Expr) {
        if case .tuple(let items) = test.kind, !items.isEmpty {
            warn("assertion is always true, perhaps remove parentheses?", at: test.loc.line)
        }
    }

    /// A display or literal called: `"a" (1, 2)`, `[1, 2] (3)`.
    mutating func checkCallee(_ callee: Expr) {
        if case .lambda = callee.kind { return }   // callable: `(lambda: 1)()`
        if let n = Compiler.inferredType(callee) {
            warn("'\(n)' object is not callable; perhaps you missed a comma?", at: callee.loc.line)
        }
    }

    /// A literal that cannot be indexed, or a sequence literal indexed by a literal that is
    /// not an integer: `[1, 2] ["a"]`.
    mutating func checkSubscript(_ value: Expr, _ index: Expr) {
        switch value.kind {
        case .constant(let c):
            switch c {
            case .none, .ellipsis, .true, .false, .int, .float, .imaginary:
                warn("'\(Compiler.typeName(of: c))' object is not subscriptable; perhaps you missed a comma?", at: value.loc.line)
                return
            case .string, .bytes: break
            }
        case .set, .setComp: warn("'set' object is not subscriptable; perhaps you missed a comma?", at: value.loc.line); return
        case .generatorExp: warn("'generator' object is not subscriptable; perhaps you missed a comma?", at: value.loc.line); return
        case .lambda: warn("'function' object is not subscriptable; perhaps you missed a comma?", at: value.loc.line); return
        case .tuple, .list, .listComp, .fstring: break
        default: return
        }
        let sequence: String
        switch value.kind {
        case .constant(.bytes): sequence = "bytes"
        case .constant, .fstring: sequence = "str"
        case .tuple: sequence = "tuple"
        default: sequence = "list"
        }
        guard let indexType = Compiler.inferredType(index), !["int", "bool", "slice"].contains(indexType) else { return }
        warn("\(sequence) indices must be integers or slices, not \(indexType); perhaps you missed a comma?", at: value.loc.line)
    }

    private mutating func warn(_ message: String, at line: Int) {
        warnings.append(CompileWarning(message: message, line: line))
    }

    /// True for what CPython's constant folding turns into a constant other than None,
    /// True, False or Ellipsis.
    static func isLiteralForIdentity(_ e: Expr) -> Bool {
        switch e.kind {
        case .constant(.none), .constant(.true), .constant(.false), .constant(.ellipsis): return false
        default: return isConstant(e)
        }
    }

    /// A constant after folding: literals, tuples of them, signed numbers.
    private static func isConstant(_ e: Expr) -> Bool {
        switch e.kind {
        case .constant: return true
        case .tuple(let items): return items.allSatisfy(isConstant)
        case .unary(let op, let x) where op != .not:
            if case .constant(let c) = x.kind, isNumber(c) { return true }
            return false
        default: return false
        }
    }

    private static func isNumber(_ c: Constant) -> Bool {
        switch c {
        case .int, .float, .imaginary: return true
        default: return false
        }
    }

    static func typeName(of c: Constant) -> String {
        switch c {
        case .none: return "NoneType"
        case .true, .false: return "bool"
        case .ellipsis: return "ellipsis"
        case .int: return "int"
        case .float: return "float"
        case .imaginary: return "complex"
        case .string: return "str"
        case .bytes: return "bytes"
        }
    }

    /// The type of a literal or display, as CPython's compiler infers it; nil when it
    /// cannot tell.
    static func inferredType(_ e: Expr) -> String? {
        switch e.kind {
        case .constant(let c): return typeName(of: c)
        case .tuple: return "tuple"
        case .list, .listComp: return "list"
        case .dict, .dictComp: return "dict"
        case .set, .setComp: return "set"
        case .generatorExp: return "generator"
        case .lambda: return "function"
        case .fstring: return "str"
        case .slice: return "slice"
        default: return nil
        }
    }
}

extension Unit {
    /// Shows what the compiler warned about `file`, as CPython does before the code runs:
    /// through `warnings.warn_explicit` when the program imported `warnings` (so its
    /// filters apply), else straight to stderr. The bundled stdlib is not reported on.
    func showCompileWarnings(_ warnings: [CompileWarning], file: SourceFile) throws {
        guard !warnings.isEmpty, !file.isStdlib else { return }
        for w in warnings {
            if let module = engine.modules["warnings"], let warnExplicit = module.globals.get("warn_explicit") {
                _ = try call(warnExplicit, [.str(w.message), .obj(Exc.syntaxWarning), .str(file.name), .int(w.line)])
                continue
            }
            var text = "\(file.name):\(w.line): SyntaxWarning: \(w.message)\n"
            // Like linecache, which has no lines for code that is not a file.
            if !(file.name.hasPrefix("<") && file.name.hasSuffix(">")) {
                let line = file.line(w.line).drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
                let source = String(line).trimmingTrailingWhitespace()
                if !source.isEmpty { text += "  \(source)\n" }
            }
            writeErrorOutput(text)
        }
    }
}
