// A compact, stable S-expression rendering of the AST, for tests and debugging.
//
//     a + b * c            (+ a (* b c))
//     f(a, x=1)            (call f a (kw x 1))
//     if a < b: pass       (if (< a b) (body pass))

/// Renders an expression as an S-expression.
public func dump(_ e: Expr) -> String {
    switch e.kind {
    case .name(let n): return n
    case .constant(let c): return dump(c)
    case .fstring(let parts): return sexp("f", parts.map(dump))
    case .tuple(let elts): return sexp("tuple", elts.map(dump))
    case .list(let elts): return sexp("list", elts.map(dump))
    case .set(let elts): return sexp("set", elts.map(dump))
    case .dict(let entries):
        return sexp("dict", entries.map { entry in
            entry.key.map { "(\(dump($0)) \(dump(entry.value)))" } ?? "(** \(dump(entry.value)))"
        })
    case .starred(let v): return "(* \(dump(v)))"
    case .unary(let op, let v): return "(\(op.rawValue) \(dump(v)))"
    case .binary(let op, let a, let b): return "(\(op.rawValue) \(dump(a)) \(dump(b)))"
    case .boolOp(let op, let vs): return sexp(op.rawValue, vs.map(dump))
    case .compare(let first, let pairs): return dumpCompare(first, pairs)
    case .ifExp(let test, let body, let orElse): return "(ifexp \(dump(test)) \(dump(body)) \(dump(orElse)))"
    case .lambda(let params, let body): return "(lambda \(dump(params)) \(dump(body)))"
    case .call(let f, let args): return sexp("call", [dump(f)] + args.map(dump))
    case .attribute(let v, let name): return "(. \(dump(v)) \(name))"
    case .subscript(let v, let i): return "([] \(dump(v)) \(dump(i)))"
    case .slice(let lo, let hi, let step): return "(slice \(opt(lo)) \(opt(hi)) \(opt(step)))"
    case .listComp(let elt, let cs): return sexp("listcomp", [dump(elt)] + cs.map(dump))
    case .setComp(let elt, let cs): return sexp("setcomp", [dump(elt)] + cs.map(dump))
    case .dictComp(let k, let v, let cs): return sexp("dictcomp", [dump(k), dump(v)] + cs.map(dump))
    case .generatorExp(let elt, let cs): return sexp("genexp", [dump(elt)] + cs.map(dump))
    case .yield(let v): return v.map { "(yield \(dump($0)))" } ?? "(yield)"
    case .yieldFrom(let v): return "(yield-from \(dump(v)))"
    case .await(let v): return "(await \(dump(v)))"
    case .namedExpr(let t, let v): return "(:= \(dump(t)) \(dump(v)))"
    case .startUnit(let kind, let call, let options):
        return sexp(kind.rawValue, [dump(call)] + options.map { "(\($0.name) \(dump($0.value)))" })
    }
}

/// Renders a statement as an S-expression.
public func dump(_ s: Stmt) -> String {
    switch s.kind {
    case .expr(let e): return dump(e)
    case .assign(let targets, let value): return sexp("=", targets.map(dump) + [dump(value)])
    case .augAssign(let t, let op, let v): return "(\(op.rawValue)= \(dump(t)) \(dump(v)))"
    case .annAssign(let t, let ann, let v, _): return sexp("ann", [dump(t), dump(ann)] + (v.map { [dump($0)] } ?? []))
    case .if(let test, let body, let orElse): return sexp("if", [dump(test), block("body", body)] + elseBlock(orElse))
    case .while(let test, let body, let orElse): return sexp("while", [dump(test), block("body", body)] + elseBlock(orElse))
    case .for(let t, let iter, let body, let orElse, let isAsync):
        return sexp(isAsync ? "async-for" : "for", [dump(t), dump(iter), block("body", body)] + elseBlock(orElse))
    case .break: return "break"
    case .continue: return "continue"
    case .pass: return "pass"
    case .return(let v): return v.map { "(return \(dump($0)))" } ?? "(return)"
    case .functionDef(let f): return dump(f)
    case .classDef(let c): return dump(c)
    case .try(let body, let handlers, let orElse, let final): return dumpTry(body, handlers, orElse, final)
    case .raise(let exc, let cause):
        return sexp("raise", (exc.map { [dump($0)] } ?? []) + (cause.map { ["from", dump($0)] } ?? []))
    case .with(let items, let body, let isAsync):
        let parts = items.map { sexp("item", [dump($0.context)] + ($0.target.map { [dump($0)] } ?? [])) }
        return sexp(isAsync ? "async-with" : "with", parts + [block("body", body)])
    case .global(let names): return sexp("global", names)
    case .nonlocal(let names): return sexp("nonlocal", names)
    case .delete(let targets): return sexp("del", targets.map(dump))
    case .assert(let test, let msg): return sexp("assert", [dump(test)] + (msg.map { [dump($0)] } ?? []))
    case .import(let aliases): return sexp("import", aliases.map(dump))
    case .importFrom(let module, let names, let level):
        return sexp("from", [String(repeating: ".", count: level) + (module ?? "")] + names.map(dump))
    case .select(let arms): return sexp("select", arms.map(dump))
    case .match(let subject, let cases):
        return sexp("match", [dump(subject)] + cases.map { c in
            sexp("case", [dump(c.pattern)] + (c.guardTest.map { [sexp("if", [dump($0)])] } ?? []) + [block("body", c.body)])
        })
    }
}

/// Renders a pattern of a `case` clause.
public func dump(_ p: Pattern) -> String {
    switch p.kind {
    case .value(let e): return sexp("value", [dump(e)])
    case .singleton(let c): return sexp("singleton", [c == .none ? "None" : c == .true ? "True" : "False"])
    case .capture(let n): return n ?? "_"
    case .star(let n): return "*" + (n ?? "_")
    case .sequence(let items): return sexp("seq", items.map(dump))
    case .mapping(let keys, let values, let rest):
        return sexp("map", zip(keys, values).map { sexp("item", [dump($0), dump($1)]) } + (rest.map { ["**" + $0] } ?? []))
    case .classPattern(let cls, let positional, let keywords):
        return sexp("class", [dump(cls)] + positional.map(dump) + keywords.map { "\($0.name)=" + dump($0.pattern) })
    case .or(let alternatives): return sexp("or", alternatives.map(dump))
    case .asPattern(let inner, let name): return sexp("as", [dump(inner), name])
    }
}

/// Renders a module: one statement per line.
public func dump(_ m: Module) -> String {
    m.body.map(dump).joined(separator: "\n")
}

// MARK: - Pieces

private func sexp(_ head: String, _ items: [String]) -> String {
    items.isEmpty ? "(\(head))" : "(\(head) \(items.joined(separator: " ")))"
}

private func opt(_ e: Expr?) -> String { e.map(dump) ?? "_" }

private func block(_ head: String, _ body: [Stmt]) -> String { sexp(head, body.map(dump)) }

private func elseBlock(_ body: [Stmt]) -> [String] { body.isEmpty ? [] : [block("else", body)] }

private func dump(_ c: Constant) -> String {
    switch c {
    case .none: return "None"
    case .true: return "True"
    case .false: return "False"
    case .ellipsis: return "..."
    case .int(let v): return String(v)
    case .float(let v): return String(v)
    case .imaginary(let v): return "\(v)j"
    case .string(let s): return quote(s)
    case .bytes(let b): return "b" + quote(String(decoding: b, as: UTF8.self))
    }
}

/// A string in single quotes with `\n`, `\t`, `\\` and `\'` escaped.
private func quote(_ s: String) -> String {
    var out = "'"
    for c in s.unicodeScalars {
        switch c {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\\": out += "\\\\"
        case "'": out += "\\'"
        default: out.unicodeScalars.append(c)
        }
    }
    return out + "'"
}

private func dumpCompare(_ first: Expr, _ pairs: [(op: CompareOp, right: Expr)]) -> String {
    if pairs.count == 1 { return "(\(pairs[0].op.rawValue) \(dump(first)) \(dump(pairs[0].right)))" }
    return sexp("cmp", [dump(first)] + pairs.flatMap { [$0.op.rawValue, dump($0.right)] })
}

private func dump(_ part: FStringPart) -> String {
    switch part {
    case .literal(let s): return quote(s)
    case .field(let e, let conv, let spec, let selfDoc):
        var items = [dump(e)]
        if let c = conv { items.append("!\(c)") }
        if let s = spec { items.append(sexp("spec", s.map(dump))) }
        if let d = selfDoc { items.append("(= \(quote(d)))") }
        return sexp("fmt", items)
    }
}

private func dump(_ a: Argument) -> String {
    switch a {
    case .positional(let e): return dump(e)
    case .star(let e): return "(* \(dump(e)))"
    case .keyword(let k, let v): return "(kw \(k) \(dump(v)))"
    case .doubleStar(let e): return "(** \(dump(e)))"
    }
}

private func dump(_ c: Comprehension) -> String {
    sexp(c.isAsync ? "async-for" : "for", [dump(c.target), dump(c.iter)] + c.ifs.map { "(if \(dump($0)))" })
}

/// `(params a b=1 / c *args d e=2 **kw)`
private func dump(_ p: Parameters) -> String {
    var items: [String] = []
    for (i, param) in p.positional.enumerated() {
        if i == p.positionalOnlyCount && i > 0 { items.append("/") }
        items.append(dump(param))
    }
    if p.positionalOnlyCount == p.positional.count && p.positionalOnlyCount > 0 { items.append("/") }
    if let v = p.varArgs { items.append("*" + v) } else if !p.keywordOnly.isEmpty { items.append("*") }
    items += p.keywordOnly.map(dump)
    if let k = p.varKeywords { items.append("**" + k) }
    return sexp("params", items)
}

private func dump(_ p: Param) -> String {
    p.defaultValue.map { "\(p.name)=\(dump($0))" } ?? p.name
}

private func dump(_ f: FunctionDef) -> String {
    var items = [f.name, dump(f.params)]
    if !f.decorators.isEmpty { items.append(sexp("decorators", f.decorators.map(dump))) }
    items.append(block("body", f.body))
    return sexp(f.isAsync ? "async-def" : "def", items)
}

private func dump(_ c: ClassDef) -> String {
    var items = [c.name]
    if !c.bases.isEmpty { items.append(sexp("bases", c.bases.map(dump))) }
    if !c.keywords.isEmpty { items.append(sexp("keywords", c.keywords.map { "(\($0.name) \(dump($0.value)))" })) }
    if !c.decorators.isEmpty { items.append(sexp("decorators", c.decorators.map(dump))) }
    items.append(block("body", c.body))
    return sexp("class", items)
}

private func dumpTry(_ body: [Stmt], _ handlers: [ExceptHandler], _ orElse: [Stmt], _ final: [Stmt]) -> String {
    var items = [block("body", body)]
    for h in handlers {
        var parts: [String] = []
        if let t = h.type { parts.append(dump(t)) }
        if let n = h.name { parts.append("as " + n) }
        parts.append(block("body", h.body))
        items.append(sexp("except", parts))
    }
    items += elseBlock(orElse)
    if !final.isEmpty { items.append(block("finally", final)) }
    return sexp("try", items)
}

private func dump(_ a: ImportAlias) -> String {
    a.asName.map { "(\(a.name) as \($0))" } ?? a.name
}

private func dump(_ arm: SelectCase) -> String {
    switch arm {
    case .operation(let target, let op, let body, _):
        return sexp("case", (target.map { [dump($0)] } ?? []) + [dump(op), block("body", body)])
    case .timeout(let s, let body, _): return sexp("timeout", [dump(s), block("body", body)])
    case .default(let body, _): return sexp("default", [block("body", body)])
    }
}
