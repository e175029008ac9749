// Names for the REPL's Tab completion: keywords, builtins and globals; attributes after
// `a.b.` (looked up without running any code, like CPython's rlcompleter minus calls);
// module names after `import` / `from`.
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// The keywords (and Conc's soft keywords) offered by completion.
    static let completionKeywords = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
        "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "go", "if", "import",
        "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "select", "spawn",
        "thread", "try", "while", "with", "yield",
    ]

    /// Completions of `word` (the text before the cursor back to a delimiter; it may hold
    /// dots), given the whole line before the word. Each result replaces `word`.
    public func completions(of word: String, after linePrefix: String) -> [String] {
        let before = linePrefix.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if let first = before.first, first == "import" || (first == "from" && before.count == 1) {
            return moduleNames().filter { $0.hasPrefix(word) }
        }
        if before.count >= 3, before[0] == "from", before[2] == "import" {
            guard let m = modules[before[1]] else { return [] }
            return m.globals.boundNames.filter { $0.hasPrefix(word) && !$0.hasPrefix("_") }.sorted()
        }
        if let dot = word.lastIndex(of: ".") {
            let chain = word[..<dot].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let prefix = String(word[word.index(after: dot)...])
            guard let base = lookUpChain(chain) else { return [] }
            let hidePrivate = !prefix.hasPrefix("_")
            return attributeNames(of: base)
                .filter { $0.hasPrefix(prefix) && !(hidePrivate && $0.hasPrefix("_")) }
                .map { word[...dot] + $0 + (plainAttribute(base, $0).map(isCallable) == true ? "(" : "") }
        }
        // As CPython's rlcompleter: a callable completes with its "(".
        var names = Set(Engine.completionKeywords)
        for name in Set(builtins.keys).union(mainGlobals.boundNames) {
            let v = mainGlobals.get(name) ?? builtins[name]
            names.insert(name + (v.map(isCallable) == true ? "(" : ""))
        }
        return names.filter { $0.hasPrefix(word) && (word.hasPrefix("_") || !$0.hasPrefix("_")) }.sorted()
    }

    /// True for functions, methods and classes (what `callable()` says for those).
    private func isCallable(_ v: Value) -> Bool {
        guard case .obj(let o) = v else { return false }
        return o is PyFunction || o is PyBuiltinFunction || o is PyBoundMethod || o is PyBoundBuiltin
            || o is PyType || o is PyMethodDescriptor
    }

    /// The value of `a.b.c` found by plain lookups (globals, module names, instance
    /// dicts, class dicts), or nil when any step would need to run code (a property,
    /// `__getattr__`) or does not exist.
    func lookUpChain(_ names: [String]) -> Value? {
        guard let first = names.first, !first.isEmpty else { return nil }
        guard var v = mainGlobals.get(first) ?? builtins[first] else { return nil }
        for name in names.dropFirst() {
            guard !name.isEmpty, let next = plainAttribute(v, name) else { return nil }
            v = next
        }
        return v
    }

    private func plainAttribute(_ v: Value, _ name: String) -> Value? {
        if case .obj(let o) = v {
            if let m = o as? PyModule { return m.globals.get(name) }
            if let i = o as? PyInstance, let a = i.instanceAttributes.first(where: { $0.0 == name }) { return a.1 }
            if let t = o as? PyType { return t.lookup(name).flatMap(plainClassAttribute) }
        }
        return v.type.lookup(name).flatMap(plainClassAttribute)
    }

    /// A class attribute usable without calling anything: not a property or other descriptor.
    private func plainClassAttribute(_ v: Value) -> Value? {
        if case .obj(let o) = v, o.type.lookup("__get__") != nil, !(o is PyFunction) { return nil }
        return v
    }

    /// What `dir(v)` lists.
    func attributeNames(of v: Value) -> [String] {
        var names = Set<String>()
        if case .obj(let o) = v {
            // A module's names are its globals only (CPython's module.__dir__).
            if let m = o as? PyModule, m.typeIsBuiltin {
                // The names a native module loads from Conc code on first use count; the
                // `__getattr__` that loads them does not.
                let own = m.globals.boundNames.filter { $0 != "__getattr__" || !(m.globals.get($0)?.object is PyBuiltinFunction) }
                return Set(own + m.lazyNames).sorted()
            }
            if let m = o as? PyModule { names.formUnion(m.globals.boundNames) }
            if let i = o as? PyInstance { names.formUnion(i.instanceAttributes.map { $0.0 }) }
            // An instance of a list/dict/... subclass keeps its attributes in a dict.
            if let c = o as? SubclassAttributes, !(o is PyInstance), let d = c.existingAttributeDict {
                names.formUnion(d.pairs.compactMap { $0.0.asStr?.value })
            }
            if let f = o as? PyFunction { names.formUnion(f.attributePairs.map { $0.0 }) }
            for c in ((o as? PyType) ?? o.type).mro { names.formUnion(c.namespaceKeys) }
        } else {
            for c in v.type.mro { names.formUnion(c.namespaceKeys) }
        }
        return names.sorted()
    }

    /// Every importable module name: native modules, the bundled stdlib, and `.conc`
    /// files (or packages) in the current folder, the script's folder and `CONC_PATH`.
    public func moduleNames() -> [String] {
        var names = Set(nativeModules.keys.filter { !$0.contains(".") })
        // A package's files (`json/__init__.conc`, `concurrent/futures/thread.conc`) give
        // its top-level name.
        for file in EmbeddedStdlib.sources.keys where file.hasSuffix(".conc") {
            names.insert(file.contains("/") ? String(file.prefix(while: { $0 != "/" })) : String(file.dropLast(5)))
        }
        var folders = ["."] + options.searchPaths
        if let s = scriptFolder { folders.append(s) }
        if let s = options.stdlibPath { folders.append(s) }
        for folder in folders {
            guard let dir = opendir(folder) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name.hasSuffix(".conc") && name.count > 5 {
                    names.insert(String(name.dropLast(5)))
                } else if !name.hasPrefix("."), access(folder + "/" + name + "/__init__.conc", F_OK) == 0 {
                    names.insert(name)
                }
            }
        }
        return names.filter { !$0.isEmpty && !$0.contains("-") }.sorted()
    }
}
