// `import`: finds a module in the script's folder, then CONC_PATH, then the bundled stdlib
// (on disk next to the build, or the copy embedded in the binary), and runs it once.
import CConcShared
import CConcSys
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

// Free-threaded evaluation: the module table (`modules`, `modulePaths`) and the list of
// modules being initialised are guarded by the engine's recursive `importMutex`, which is
// held only for table work, never while a module body runs. Holding one global lock
// across module bodies (Python 2's import lock) would deadlock a module body that starts a
// thread which imports and then joins it, and would leave a blocked importer invisible to
// the deadlock detector and to fork's stop-the-world. Instead, as CPython does with its
// per-module locks, a unit importing a module whose body another unit is running parks
// (an ordinary `park`, so joins, Ctrl-C and deadlock reports still work) until that body
// ends, then sees the finished module (or, if the body failed, loads it itself). A unit
// that is itself in the middle of importing gets the partial module instead of waiting
// (two threads importing each other's modules would otherwise wait for each other), and
// so does a circular import within one unit.
extension Engine {
    /// What the module table says about a name.
    private enum ImportState {
        case loaded(PyModule)
        /// What the program itself put in `sys.modules` under the name.
        case placed(Value)
        case initializing(by: Unit)
        case absent
    }

    /// Imports `name` (dotted for packages) and returns the module object.
    func importModule(_ name: String, _ u: Unit) throws -> Value {
        while true {
            let state: ImportState = withImportMutex {
                // sys.modules decides: an entry the program placed there is the module; a
                // loaded module the program deleted from it is loaded anew.
                let entry = sysModulesEntry(name, u)
                if let e = entry, !(e.object.map { $0 === moduleTable[name] } ?? false) { return .placed(e) }
                if entry == nil, moduleTable[name] != nil, modulesInitializing[name] == nil {
                    modules[name] = nil
                }
                if let m = moduleTable[name] {
                    if let owner = modulesInitializing[name], owner !== u,
                       !modulesInitializing.values.contains(where: { $0 === u }) {
                        return .initializing(by: owner)
                    }
                    return .loaded(m)
                }
                if let build = nativeModules[name] {
                    // Native builders run Swift only (the mutex is recursive: `os` registers
                    // `os.path` from inside its builder).
                    let m = build(self)
                    modules[name] = m
                    return .loaded(m)
                }
                return .absent
            }
            switch state {
            case .loaded(let m): return .obj(m)
            case .placed(let v):
                if case .none = v {
                    let e = pyError(Exc.moduleNotFoundError, "import of \(name) halted; None in sys.modules")
                    e.setInstanceAttribute("name", .str(name))
                    throw e
                }
                return v
            case .initializing(let owner): try waitForImport(name, by: owner, u); continue
            case .absent: break
            }
            let parts = name.split(separator: ".").map(String.init)
            if parts.count > 1 {
                let parent = try importModule(parts.dropLast().joined(separator: "."), u)
                if withImportMutex({ moduleTable[name] != nil }) { continue }
                // A submodule set on its package by hand; the package's own names only (its
                // PEP 562 __getattr__ may be what is importing this very submodule).
                let sub: Value?
                if let pm = parent.object as? PyModule { sub = pm.globals.get(parts.last!) } else { sub = try u.getAttrOrNil(parent, parts.last!) }
                // (Not the module of this very name that the program deleted from
                // sys.modules: that one is loaded anew, as CPython does.)
                if let sub, case .obj(let o) = sub, let m = o as? PyModule, m.name != name { return sub }
            }
            guard let (source, path, isStdlib) = try findSource(parts) else {
                let e = pyError(Exc.moduleNotFoundError, "No module named '\(name)'")
                e.setInstanceAttribute("name", .str(name))
                throw e
            }
            if let m = try loadSourceModule(name, source: source, path: path, isStdlib: isStdlib, u) { return .obj(m) }
            // Another unit registered the module first: look again (and maybe wait for it).
        }
    }

    /// In a fork()ed child (one thread): the import mutex is made anew (no other thread
    /// holds it at a fork, which stops the world first, but a fresh one costs nothing), and
    /// modules whose body another unit was running stay half-initialised, as after a
    /// circular import: their importer does not exist here, so nobody may wait for it.
    func resetImportsAfterFork(keeping u: Unit) {
        initRecursiveMutex(importMutex)
        modulesInitializing = modulesInitializing.filter { $0.value === u }
    }

    /// Parks `u` until `owner` has finished running the body of module `name`.
    private func waitForImport(_ name: String, by owner: Unit, _ u: Unit) throws {
        let reason = BlockReason(
            describe: { "waits for module '\(name)' to finish importing in \(owner.name)" },
            holder: { owner },
            stillBlocked: { [unowned self] in self.withImportMutex { self.modulesInitializing[name] === owner } },
            word: importWord)
        _ = try u.park(word: importWord, timeout: nil, reason: reason) {
            withImportMutex { modulesInitializing[name] !== owner }
        }
    }

    /// Parses and runs a source module, registering it first so circular imports see it.
    /// Returns nil (and runs nothing) if another unit registered `name` meanwhile.
    func loadSourceModule(_ name: String, source: String, path: String, isStdlib: Bool, _ u: Unit) throws -> PyModule? {
        let globals = newGlobals(name: name, file: path)
        let module = PyModule(name: name, globals: globals)
        let registered: Bool = withImportMutex {
            if moduleTable[name] != nil { return false }
            modules[name] = module
            modulePaths[name] = path
            if isStdlib { stdlibModules.insert(name) }
            modulesInitializing[name] = u
            return true
        }
        guard registered else { return nil }
        var failed = true
        defer {
            withImportMutex {
                modulesInitializing[name] = nil
                if failed && moduleTable[name] === module { modules[name] = nil }
            }
            // Wake every unit waiting for an import to finish.
            _ = CConcSys_atomic_add(UnsafeMutableRawPointer(importWord).assumingMemoryBound(to: Int32.self), 1)
            conc_futex_wake(importWord, Int32.max)
        }
        do {
            let file = SourceFile(name: path, text: source, isStdlib: isStdlib,
                                  hidesFrames: isStdlib && Engine.modulesStandingForC.contains(name))
            var warnings: [CompileWarning] = []
            let code = try u.withCompilerStack(for: source) { try compile(file, globals: globals, warnings: &warnings) }
            try u.showCompileWarnings(warnings, file: file)
            try execute(code, globals: globals, unit: u)
        } catch {
            if let s = error as? SyntaxError { throw syntaxErrorException(s) }
            throw error
        }
        failed = false
        if name.contains("."), let parentName = name.split(separator: ".").dropLast().joined(separator: ".") as String?,
           let parent = modules[parentName] {
            parent.globals.set(String(name.split(separator: ".").last!), .obj(module))
        }
        return module
    }

    /// True for a module of the bundled stdlib (threading, queue, multiprocessing...).
    /// Bundled modules whose CPython counterparts are written in C, so that a traceback
    /// through them shows no frame of theirs (`operator.add(1, "a")` names only the caller).
    static let modulesStandingForC: Set<String> = ["warnings", "operator", "itertools", "heapq", "bisect",
                                                   "_collections", "atexit", "io", "_thread"]

    func isStdlibModule(_ name: String) -> Bool {
        let root = name.split(separator: ".").first.map(String.init) ?? name
        return withImportMutex { stdlibModules.contains(root) }
    }

    /// A SyntaxError raised at run time (in an imported module) as a Conc exception.
    /// `evalSource`: the source of an eval()/compile() in "eval" or "single" mode, whose
    /// last line CPython reports without the newline exec mode adds.
    func syntaxErrorException(_ s: SyntaxError, evalSource: String? = nil) -> PyBaseException {
        let type: PyType = s.kind == "IndentationError" ? Exc.indentationError : s.kind == "TabError" ? Exc.tabError : Exc.syntaxError
        // CPython's fields: the text keeps its newline; with no known end, the error ends
        // where it starts.
        let endLine = s.endLine > 0 ? s.endLine : s.line
        // An unclosed bracket is reported by CPython's tokenizer with end_offset 0.
        let endColumn = s.message.hasSuffix("was never closed") ? 0 : s.endLine > 0 ? s.endColumn : s.column
        var newline = "\n"
        if let source = evalSource, s.line >= source.split(separator: "\n", omittingEmptySubsequences: false).count {
            newline = ""
        }
        let details: [Value] = [.str(s.file), .int(s.line), .int(s.column), .str(s.text + newline), .int(endLine), .int(endColumn)]
        let e = PyBaseException(type: type, args: [.str(s.message), .obj(PyTuple(details))])
        e.setInstanceAttribute("msg", .str(s.message))
        for (name, v) in zip(["filename", "lineno", "offset", "text", "end_lineno", "end_offset"], details) {
            e.setInstanceAttribute(name, v)
        }
        e.syntaxError = s
        return e
    }

    /// The folders searched for modules, in order.
    var searchFolders: [String] {
        var folders: [String] = []
        if let s = scriptFolder { folders.append(s) } else { folders.append(".") }
        folders.append(contentsOf: options.searchPaths)
        if let p = options.stdlibPath { folders.append(p) }
        return folders
    }

    /// The folders an import searches now: the str entries of `sys.path` as the program
    /// left it (`sys.path.insert(0, folder)` works, as in CPython; "" is the current
    /// folder), or the start-up ones before `sys` exists.
    var importFolders: [String] {
        guard let sys = sysGlobals.load(ordering: .acquiring)?.takeUnretainedValue(),
              case .obj(let o)? = sys.get("path"), let list = o as? PyList else { return searchFolders }
        return list.snapshot.compactMap { $0.asStringValue }
    }

    /// Finds `a/b/c.conc` or `a/b/c/__init__.conc` in the folders of `sys.path`, then the
    /// embedded stdlib: (source, path, whether it is the stdlib's). In a folder without
    /// them, `c.py` or `c/__init__.py` will do: a Python program's own modules, retyped
    /// as they are.
    func findSource(_ parts: [String]) throws -> (String, String, Bool)? {
        let rel = parts.joined(separator: "/")
        // A module found through a relative folder ("" or "." included) goes by its
        // absolute path, as CPython's FileFinder makes it.
        var cwd: String? = nil
        for folder in importFolders {
            var base = folder == "." ? "" : folder
            if !base.hasPrefix("/") {
                if cwd == nil, let c = getcwd(nil, 0) { cwd = String(cString: c); free(c) }
                if let c = cwd { base = base.isEmpty ? c : c + "/" + base }
            }
            let prefix = base.isEmpty ? "" : base.hasSuffix("/") ? base : base + "/"
            for candidate in ["\(prefix)\(rel).conc", "\(prefix)\(rel)/__init__.conc", "\(prefix)\(rel).py", "\(prefix)\(rel)/__init__.py"] {
                guard let bytes = readFileBytes(candidate) else { continue }
                do {
                    return (try decodeSource(bytes, fileName: candidate, origin: .compiled), candidate, folder == options.stdlibPath)
                } catch let s as SyntaxError { throw syntaxErrorException(s) }
            }
        }
        if let text = EmbeddedStdlib.sources[rel + ".conc"] { return (text, "<stdlib>/\(rel).conc", true) }
        if let text = EmbeddedStdlib.sources[rel + "/__init__.conc"] { return (text, "<stdlib>/\(rel)/__init__.conc", true) }
        return nil
    }
}

func readFileBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    if fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) == S_IFDIR { return nil }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}
