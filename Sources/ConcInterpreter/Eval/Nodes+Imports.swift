// import statements.
import ConcSyntax

final class ImportNode: StmtNode {
    /// (dotted module name, binding target, bind the top-level package instead of the leaf)
    let names: [(module: String, target: ExprNode, bindsTop: Bool)]
    init(_ names: [(module: String, target: ExprNode, bindsTop: Bool)], _ loc: SourceLoc) { self.names = names; super.init(loc) }
    override func exec(_ f: Frame) throws -> Completion {
        let u = f.unit
        for (module, target, bindsTop) in names {
            let m = try u.engine.importModule(module, u)
            if bindsTop, let top = module.split(separator: ".").first.map(String.init), top != module {
                try target.assign(f, try u.engine.importModule(top, u))
            } else {
                try target.assign(f, m)
            }
        }
        return .normal
    }
}

final class ImportFromNode: StmtNode {
    let module: String
    /// (name, target); name "*" imports every public name into `starTarget`'s namespace.
    let names: [(name: String, target: ExprNode)]
    let isStar: Bool
    init(_ module: String, _ names: [(name: String, target: ExprNode)], isStar: Bool, _ loc: SourceLoc) {
        self.module = module; self.names = names; self.isStar = isStar; super.init(loc)
    }
    override func exec(_ f: Frame) throws -> Completion {
        let u = f.unit
        let m = try u.engine.importModule(module, u)
        if isStar {
            guard let pm = m.object as? PyModule else { return .normal }
            var exported = pm.globals.boundNames.filter { !$0.hasPrefix("_") }
            if let all = pm.globals.get("__all__") { exported = try u.toArray(all).map { try u.str($0) } }
            for n in exported {
                guard let v = pm.globals.get(n) else { continue }
                if let ns = f.classNamespace { try u.namespaceSet(ns, .str(n), v) } else { f.globals.set(n, v) }
            }
            return .normal
        }
        for (name, target) in names {
            // An AttributeError from a PEP 562 __getattr__ means "not there": try the submodule.
            let found: Value?
            do { found = try u.getAttrOrNil(m, name) } catch let e as PyBaseException where e.type.isSubtype(of: Exc.attributeError) { found = nil }
            var sub: Value? = nil
            if found == nil {
                // A submodule that is not there is "cannot import name"; an error raised
                // while running one that is (or by its own imports) goes on as itself.
                let full = module + "." + name
                do { sub = try u.engine.importModule(full, u) } catch let e as PyBaseException
                    where e.type === Exc.moduleNotFoundError && e.instanceAttribute("name")?.asStr?.value == full { sub = nil }
            }
            if let v = found {
                try target.assign(f, v)
            } else if let sub {
                try target.assign(f, sub)
            } else {
                let path = Engine.cpythonBuiltinModules.contains(module) ? nil
                    : (m.object as? PyModule).flatMap { u.engine.modulePath($0) }
                let suffix = path.map { " (\($0))" } ?? " (unknown location)"
                let e = pyError(Exc.importError, "cannot import name '\(name)' from '\(module)'\(suffix)")
                e.setInstanceAttribute("name", .str(module))  // as CPython's: the module's name and file
                e.setInstanceAttribute("path", path.map { .str($0) } ?? .none)
                throw e
            }
        }
        return .normal
    }
}
