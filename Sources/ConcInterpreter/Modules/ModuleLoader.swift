// `import`: finds a module in the script's folder, then CONC_PATH, then the bundled stdlib
// (on disk next to the build, or the copy embedded in the binary), and runs it once.
import ConcSyntax
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// Imports `name` (dotted for packages) and returns the module object.
    func importModule(_ name: String, _ u: Unit) throws -> Value {
        if let m = modules[name] { return .obj(m) }
        if let build = nativeModules[name] {
            let m = build(self)
            modules[name] = m
            return .obj(m)
        }
        let parts = name.split(separator: ".").map(String.init)
        if parts.count > 1 {
            let parent = try importModule(parts.dropLast().joined(separator: "."), u)
            if let m = modules[name] { return .obj(m) }
            if let sub = try u.getAttrOrNil(parent, parts.last!), case .obj(let o) = sub, o is PyModule { return sub }
        }
        guard let (source, path) = findSource(parts) else {
            throw pyError(Exc.moduleNotFoundError, "No module named '\(name)'")
        }
        return .obj(try loadSourceModule(name, source: source, path: path, u))
    }

    /// Parses and runs a source module, registering it first so circular imports see it.
    func loadSourceModule(_ name: String, source: String, path: String, _ u: Unit) throws -> PyModule {
        let globals = newGlobals(name: name, file: path)
        let module = PyModule(name: name, globals: globals)
        modules[name] = module
        modulePaths[name] = path
        do {
            let code = try compile(SourceFile(name: path, text: source), globals: globals)
            try execute(code, globals: globals, unit: u)
        } catch {
            modules[name] = nil
            if let s = error as? SyntaxError { throw syntaxErrorException(s) }
            throw error
        }
        if name.contains("."), let parentName = name.split(separator: ".").dropLast().joined(separator: ".") as String?,
           let parent = modules[parentName] {
            parent.globals.set(String(name.split(separator: ".").last!), .obj(module))
        }
        return module
    }

    /// A SyntaxError raised at run time (in an imported module) as a Conc exception.
    func syntaxErrorException(_ s: SyntaxError) -> PyBaseException {
        let type: PyType = s.kind == "IndentationError" ? Exc.indentationError : s.kind == "TabError" ? Exc.tabError : Exc.syntaxError
        let e = PyBaseException(type: type, args: [.str(s.message)])
        e.setInstanceAttribute("msg", .str(s.message))
        e.setInstanceAttribute("lineno", .int(s.line))
        e.setInstanceAttribute("offset", .int(s.column))
        e.setInstanceAttribute("filename", .str(s.file))
        e.setInstanceAttribute("text", .str(s.text))
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

    /// Finds `a/b/c.conc` or `a/b/c/__init__.conc` in the search folders, then the embedded stdlib.
    func findSource(_ parts: [String]) -> (String, String)? {
        let rel = parts.joined(separator: "/")
        for folder in searchFolders {
            let prefix = folder == "." ? "" : folder + "/"
            for candidate in ["\(prefix)\(rel).conc", "\(prefix)\(rel)/__init__.conc"] {
                if let text = readTextFile(candidate) { return (text, candidate) }
            }
        }
        if let text = EmbeddedStdlib.sources[rel + ".conc"] { return (text, "<stdlib>/\(rel).conc") }
        if let text = EmbeddedStdlib.sources[rel + "/__init__.conc"] { return (text, "<stdlib>/\(rel)/__init__.conc") }
        return nil
    }
}

/// Reads a whole UTF-8 file, or nil if it cannot be opened.
func readTextFile(_ path: String) -> String? {
    guard let bytes = readFileBytes(path) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
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
