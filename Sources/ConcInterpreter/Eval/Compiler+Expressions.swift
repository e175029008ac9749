// Expression compilation.
import ConcSyntax

/// The value of `n` when it is an int constant (`n - 1`, `i < 10`): operators with such a
/// right operand get nodes that skip evaluating it.
func intConstant(_ n: ExprNode) -> Int? {
    if let c = n as? ConstNode, case .int(let k) = c.value { return k }
    return nil
}

extension Compiler {
    mutating func expr(_ e: Expr, _ s: Scope) throws -> ExprNode {
        exprDepth += 1
        defer { exprDepth -= 1 }
        if exprDepth > Compiler.maxExpressionDepth { throw compilationTooDeep() }
        let loc = e.loc
        switch e.kind {
        case .name(let n): return name(n, s, loc)
        case .constant(let c): return ConstNode(try constant(c, loc), loc)
        case .fstring(let parts): return FStringNode(try fparts(parts, s), loc)
        case .tuple(let items):
            let nodes = try elements(items, s)
            // A tuple of constants is made once, as CPython folds it (and `is` sees one object).
            if !nodes.isEmpty {
                var values: [Value] = []
                for n in nodes {
                    guard case .single(let e) = n, let c = e as? ConstNode else { break }
                    values.append(c.value)
                }
                if values.count == nodes.count, let t = constants.tuple(values) { return ConstNode(t, loc) }
            }
            return TupleNode(nodes, loc)
        case .list(let items): return ListNode(try elements(items, s), loc)
        case .set(let items): return SetNode(try elements(items, s), loc)
        case .dict(let entries):
            return DictNode(try entries.map { (try $0.key.map { try expr($0, s) }, try expr($0.value, s)) }, loc)
        case .starred: throw syntaxError("can't use starred expression here", loc)
        case .unary(let op, let x):
            let operand = try expr(x, s)
            // `-19`, `+2.5`, `~0` are constants, as CPython folds them (so `{-1, -2, 7}` is a
            // constant set display and `(-1, 2)` a constant tuple).
            if let c = operand as? ConstNode {
                switch (op, c.value) {
                case (.neg, .int(let i)) where i != .min: return ConstNode(.int(-i), loc)
                case (.pos, .int(let i)): return ConstNode(.int(i), loc)
                case (.invert, .int(let i)): return ConstNode(.int(~i), loc)
                case (.neg, .float(let d)): return ConstNode(.float(-d), loc)
                case (.pos, .float(let d)): return ConstNode(.float(d), loc)
                default: break
                }
            }
            return UnaryNode(op, operand, loc)
        case .binary(let op, let a, let b):
            let (l, r) = (try expr(a, s), try expr(b, s))
            if let k = intConstant(r) { return BinaryIntConstNode(op, l, k, rightLoc: r.loc, loc) }
            return BinaryNode(op, l, r, loc)
        case .boolOp(let op, let xs): return BoolOpNode(isAnd: op == .and, try xs.map { try expr($0, s) }, loc)
        case .compare(let a, let rest):
            checkIdentityComparison(a, rest)
            if rest.count == 1 {
                let (l, r) = (try expr(a, s), try expr(rest[0].right, s))
                if let k = intConstant(r), compareInts(rest[0].op, 0, 0) != nil { return CompareIntConstNode(rest[0].op, l, k, loc) }
                return Compare1Node(rest[0].op, l, r, loc)
            }
            return CompareNode(try expr(a, s), rest.map { $0.op }, try rest.map { try expr($0.right, s) }, loc)
        case .ifExp(let t, let b, let o): return IfExpNode(try expr(t, s), try expr(b, s), try expr(o, s), loc)
        case .lambda(let params, let body):
            return try function(e, name: "<lambda>", params: params, body: [Stmt(.return(body), body.loc)], s, loc: loc)
        case .call(let callee, let args): return try call(callee, args, s, loc)
        case .attribute(let o, let n): return AttributeNode(try expr(o, s), n, attributeLocation(loc, n))
        case .subscript(let o, let i):
            checkSubscript(o, i)
            return SubscriptNode(try expr(o, s), try expr(i, s), loc)
        case .slice(let l, let u, let st):
            return SliceNode(try l.map { try expr($0, s) }, try u.map { try expr($0, s) }, try st.map { try expr($0, s) }, loc)
        case .listComp(let elt, let comps): return try comprehension(e, .list, elt, nil, comps, s)
        case .setComp(let elt, let comps): return try comprehension(e, .set, elt, nil, comps, s)
        case .dictComp(let k, let v, let comps): return try comprehension(e, .dict, k, v, comps, s)
        case .generatorExp(let elt, let comps): return try comprehension(e, .generator, elt, nil, comps, s)
        case .yield(let x): return YieldNode(try x.map { try expr($0, s) }, loc)
        case .yieldFrom(let x): return YieldFromNode(try expr(x, s), loc)
        case .await(let x): return AwaitNode(try expr(x, s), loc)
        case .namedExpr(let t, let v):
            var ts = s
            while ts.kind == .comprehension, let p = ts.parent { ts = p }
            guard case .name(let n) = t.kind else { throw syntaxError("cannot use assignment expressions with this target", t.loc) }
            // Inside a comprehension the target lives in the enclosing function: reach it as free.
            let targetNode = ts === s ? name(n, s, t.loc) : name(n, s, t.loc)
            return NamedExprNode(targetNode, try expr(v, s), loc)
        case .startUnit(let kind, let call, let options):
            guard case .call(let callee, let args) = call.kind else { throw syntaxError("expected a call after '\(kind.rawValue)'", call.loc) }
            let argNodes = try argumentNodes(args, s)
            let opts = try options.map { ($0.name, try expr($0.value, s)) }
            return StartUnitNode(kind, callee: try expr(callee, s), argNodes, options: opts, loc)
        }
    }

    func constant(_ c: Constant, _ loc: SourceLoc) throws -> Value {
        switch c {
        case .none: return .none
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .ellipsis: return .obj(Singletons.ellipsis)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        case .imaginary: throw syntaxError("complex numbers are not supported in Conc", loc)
        case .string(let str): return constants.string(str)
        case .bytes(let b): return constants.bytes(b)
        }
    }

    mutating func elements(_ items: [Expr], _ s: Scope) throws -> [ElementNode] {
        try items.map { item in
            if case .starred(let inner) = item.kind { return .splice(try expr(inner, s)) }
            return .single(try expr(item, s))
        }
    }

    mutating func fparts(_ parts: [FStringPart], _ s: Scope) throws -> [FPartNode] {
        try parts.map { p in
            switch p {
            case .literal(let text): return .literal(text)
            case .field(let e, let conv, let spec, let selfDoc):
                return .field(try expr(e, s), conversion: conv, spec: try spec.map { try fparts($0, s) }, prefix: selfDoc)
            }
        }
    }

    /// The argument nodes of a call site.
    mutating func argumentNodes(_ args: [Argument], _ s: Scope) throws -> [ArgNode] {
        try args.map { a in
            switch a {
            case .positional(let x): return .positional(try expr(x, s))
            case .star(let x): return .star(try expr(x, s))
            case .keyword(let n, let x): return .keyword(n, try expr(x, s))
            case .doubleStar(let x): return .doubleStar(try expr(x, s))
            }
        }
    }

    /// Where an error of `obj.name` (spanning `loc`) is reported: from `name` on when the
    /// expression spans lines (`(text\n .strip()\n .missing())` points at `missing`, on its
    /// line), as CPython 3.11 locates attribute operations; `loc` itself otherwise.
    func attributeLocation(_ loc: SourceLoc, _ name: String) -> SourceLoc {
        guard loc.line != loc.endLine, loc.endCol >= name.count else { return loc }
        return SourceLoc(line: loc.endLine, col: loc.endCol - name.count, endLine: loc.endLine, endCol: loc.endCol)
    }

    mutating func call(_ callee: Expr, _ args: [Argument], _ s: Scope, _ loc: SourceLoc) throws -> ExprNode {
        checkCallee(callee)
        let argNodes = try argumentNodes(args, s)
        if case .name("super") = callee.kind, args.isEmpty, s.kind == .comprehension {
            // CPython 3.11 runs a comprehension as a function whose first argument is the
            // iterator (`.0`): where a class's __class__ cell reaches it (any function
            // scope around it inside a class), super() takes that for its object.
            var inMethod = false, sawFunction = false, outer = s.parent
            while let o = outer {
                if o.kind == .classBody { inMethod = sawFunction; break }
                if o.kind == .function { sawFunction = true }
                outer = o.parent
            }
            return SuperNode(name("super", s, callee.loc), firstParam: nil, loc,
                             comprehension: inMethod ? .inMethod : .outsideClass)
        }
        if case .name("super") = callee.kind, args.isEmpty, s.kind == .function {
            let firstParam = s.params.first.map { name($0, s, loc) }
            return SuperNode(name("super", s, callee.loc), firstParam: firstParam, loc)
        }
        if case .attribute(let o, let n) = callee.kind {
            let object = try expr(o, s)
            // A call of `obj.name(...)` spanning lines is reported from `name` on, as the
            // attribute is (CPython 3.11).
            let attribute = attributeLocation(callee.loc, n)
            let callLoc = attribute == callee.loc ? loc
                : SourceLoc(line: attribute.line, col: attribute.col, endLine: loc.endLine, endCol: loc.endCol)
            let call = MethodCallNode(object, n, argNodes, attributeLoc: attribute, callLoc)
            if let sup = object as? SuperNode { return SuperMethodCallNode(sup, call) }
            return call
        }
        return CallNode(try expr(callee, s), argNodes, loc)
    }

    mutating func comprehension(_ node: Expr, _ kind: ComprehensionBodyNode.Kind, _ elt: Expr, _ value: Expr?,
                                _ comps: [Comprehension], _ s: Scope) throws -> ExprNode {
        guard let cs = analyzer.scopes[ObjectIdentifier(node)] else { throw syntaxError("internal: no comprehension scope", node.loc) }
        let code = makeCode(cs, loc: node.loc, params: Parameters())
        var loops: [ComprehensionLoop] = []
        for (i, c) in comps.enumerated() {
            let iterable: ExprNode = i == 0 ? LocalNode(cs.slots[".0"]!, ".0", c.iter.loc) : try expr(c.iter, cs)
            loops.append(ComprehensionLoop(target: try target(c.target, cs), iterable: iterable,
                                           conditions: try c.ifs.map { try expr($0, cs) }, comprehensionLoc: node.loc))
        }
        let body = ComprehensionBodyNode(kind, loops: loops, element: try expr(elt, cs), value: try value.map { try expr($0, cs) }, node.loc)
        if kind == .generator {
            code.body = ExprStmtNode(body, node.loc)
        } else {
            code.expression = body
        }
        return ComprehensionNode(code, firstIterable: try expr(comps[0].iter, s), closure: closureSources(for: cs, in: s), node.loc)
    }
}

/// An expression form the runtime does not support yet.
final class UnsupportedExprNode: ExprNode {
    let message: String
    init(_ m: String, _ loc: SourceLoc) { message = m; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value { throw pyError(Exc.notImplementedError, message) }
}

/// `await x`: runs a coroutine to completion in the current unit (full green-thread
/// semantics arrive with the scheduler).
final class AwaitNode: ExprNode {
    let value: ExprNode
    init(_ v: ExprNode, _ loc: SourceLoc) { value = v; super.init(loc) }
    override func eval(_ f: Frame) throws -> Value {
        let v = try value.eval(f)
        do {
            if case .obj(let o) = v, let g = o as? PyGenerator {
                let state = f.generator
                state?.delegate = v  // cr_await, while awaiting
                defer { state?.delegate = .none }
                while try g.resume(f.unit, send: .none) != nil {}
                return g.returnValue
            }
            throw typeError("object \(v.typeName) can't be used in 'await' expression")
        } catch { throw located(error, f, loc) }
    }
}

/// `super()` with no arguments: the defining class and the first parameter of this frame.
final class SuperNode: ExprNode {
    /// Where a `super()` in a comprehension is: CPython's takes the comprehension's
    /// iterator for its object, so within a method it fails as super(type, obj) does.
    enum InComprehension { case no, inMethod, outsideClass }
    let callee: ExprNode
    let firstParam: ExprNode?
    let comprehension: InComprehension
    init(_ callee: ExprNode, firstParam: ExprNode?, _ loc: SourceLoc, comprehension: InComprehension = .no) {
        self.callee = callee; self.firstParam = firstParam; self.comprehension = comprehension; super.init(loc)
    }
    override func eval(_ f: Frame) throws -> Value {
        let c = try callee.eval(f)
        guard case .obj(let o) = c, o === Types.superType else {
            do { return try f.unit.call(c, []) } catch { throw located(error, f, loc) }
        }
        switch comprehension {
        case .no: break
        case .inMethod: throw located(typeError("super(type, obj): obj must be an instance or subtype of type"), f, loc)
        case .outsideClass: throw located(runtimeError("super(): __class__ cell not found"), f, loc)
        }
        guard let p = firstParam else { throw located(runtimeError("super(): no arguments"), f, loc) }
        guard let cls = f.function?.ownerClass else {
            throw located(runtimeError("super(): __class__ cell not found"), f, loc)
        }
        let obj = try firstArgument(p, f)
        // As super(cls, obj): the method's first argument must be an instance (or, in a
        // classmethod, a subclass) of the class (`A.m(1)` is a TypeError, not a lookup).
        let isSubclass = (obj.object as? PyType)?.isSubtype(of: cls) ?? false
        guard isSubclass || obj.type.isSubtype(of: cls) else {
            throw located(typeError("super(type, obj): obj must be an instance or subtype of type"), f, loc)
        }
        return .obj(PySuper(start: cls, object: obj))
    }

    /// The frame's first argument, `p`'s value; deleted (`del self`), the RuntimeError
    /// CPython's super() raises.
    @inline(__always) func firstArgument(_ p: ExprNode, _ f: Frame) throws -> Value {
        do { return try p.eval(f) } catch let e as PyBaseException where e.type === Exc.unboundLocalError {
            throw located(runtimeError("super(): arg[0] deleted"), f, loc)
        }
    }
}
