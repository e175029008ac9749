// sys's interpreter facts and hooks beyond the core module: displayhook (what the REPL
// and compile(..., "single") code call to show a value), breakpointhook, the text
// encodings, thread_info, stdlib_module_names, call_tracing, and intern's table.
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// Entries appended to the sys module (``makeSysModule()``).
    func sysInterpreterEntries() -> [(String, Value)] {
        let displayhook = native("displayhook") { u, a in
            if !a.keywords.isEmpty { throw typeError("sys.displayhook() takes no keyword arguments") }
            if a.count != 1 { throw typeError("sys.displayhook() takes exactly one argument (\(a.count) given)") }
            try u.engine.display(u, a[0])
            return .none
        }
        // What breakpoint() calls, as CPython's: $PYTHONBREAKPOINT names the callable ("0"
        // turns breakpoints off; unset means pdb.set_trace). One that cannot be imported is
        // a RuntimeWarning and nothing else: Conc has no pdb, so that is the default.
        let breakpointhook = native("breakpointhook") { u, a in
            let setting = getenv("PYTHONBREAKPOINT").map { String(cString: $0) } ?? ""
            if setting == "0" { return .none }
            let target = setting.isEmpty ? "pdb.set_trace" : setting
            let dot = target.lastIndex(of: ".")
            let moduleName = dot.map { String(target[..<$0]) } ?? "builtins"
            let name = dot.map { String(target[target.index(after: $0)...]) } ?? target
            let hook: Value
            do {
                hook = try u.getAttr(try u.engine.importModule(moduleName, u), name)
            } catch let e as PyBaseException where e.type.isSubtype(of: Exc.importError) || e.type.isSubtype(of: Exc.attributeError) {
                let warnings = try u.engine.importModule("warnings", u)
                _ = try u.call(try u.getAttr(warnings, "warn"),
                               Args([.str("Ignoring unimportable $PYTHONBREAKPOINT: \"\(target)\""), .obj(Exc.runtimeWarning)]))
                return .none
            }
            return try u.call(hook, a)
        }
        // Strings interned by sys.intern beyond the compiled literals: one object per text,
        // for `sys.intern(a) is sys.intern(b)`.
        let interned = PosixMutex<[String: Value]>([:])
        return [
            displayhook, ("__displayhook__", displayhook.1),
            breakpointhook, ("__breakpointhook__", breakpointhook.1),
            native0("getdefaultencoding", qualified: "sys.getdefaultencoding") { _ in .str("utf-8") },
            native0("getfilesystemencoding", qualified: "sys.getfilesystemencoding") { _ in .str("utf-8") },
            native0("getfilesystemencodeerrors", qualified: "sys.getfilesystemencodeerrors") { _ in .str("surrogateescape") },
            ("api_version", .int(1013)),
            ("builtin_module_names", .obj(PyTuple(Set(nativeModules.keys.filter { !$0.contains(".") } + ["builtins", "sys"])
                .sorted().map { .str($0) }))),
            ("copyright", .str("Conc: a concurrency-teaching language after Python 3.11.")),
            ("prefix", .str(installPrefix)), ("base_prefix", .str(installPrefix)),
            ("exec_prefix", .str(installPrefix)), ("base_exec_prefix", .str(installPrefix)),
            ("platlibdir", .str("lib")),
            // CPython's int facts (Conc's ints are 64-bit; int() of text keeps CPython's
            // digit limit) and hash facts (Conc's numbers hash as CPython's; its str hash
            // is its own, named "conc").
            ("int_info", .obj(PyTuple([.int(30), .int(4), .int(4300), .int(640)], type: Types.intInfo))),
            ("hash_info", .obj(PyTuple([.int(64), .int(2305843009213693951), .int(314159), .int(0), .int(1000003),
                                        .str("conc"), .int(64), .int(64), .int(0)], type: Types.hashInfo))),
            ("orig_argv", .obj(PyList(CommandLine.arguments.map { .str($0) }))),
            ("float_repr_style", .str("short")),
            ("abiflags", .str("")),
            ("thread_info", .obj(PyTuple([.str("pthread"), .str("semaphore"), .none], type: Types.threadInfo))),
            ("meta_path", .obj(PyList([]))),
            ("path_hooks", .obj(PyList([]))),
            ("path_importer_cache", .obj(PyDict())),
            ("stdlib_module_names", .obj(frozenSetOfStrings(stdlibModuleNames))),
            ("_stdlib_dir", options.stdlibPath.map { Value.str($0) } ?? .none),
            native("call_tracing") { u, a in
                try a.expect("call_tracing", 2, 2)
                guard case .obj(let o) = a[1], o is PyTuple else {
                    throw typeError("call_tracing(): argument 2 must be tuple, not \(a[1].typeName)")
                }
                return try u.call(a[0], Args((o as! PyTuple).items))
            },
            native("intern") { u, a in
                let s = try ContainerArgs.one(a, "sys.intern")
                guard case .obj(let o) = s, let text = o as? PyStr else { throw typeError("intern() argument must be str, not \(s.typeName)") }
                if !o.typeIsBuiltin { throw typeError("can't intern \(o.type.name)") }
                // A literal's str first: `sys.intern("ab" + "c") is "abc"`, as in CPython.
                if let literal = u.engine.internedStrings.existing(text.value) { return literal }
                return interned.withLock { table in
                    if let known = table[text.value] { return known }
                    table[text.value] = s
                    return s
                }
            },
        ]
    }

    /// What `sys.__displayhook__` does with `v`: nothing for None; else `builtins._` is
    /// set to None, `repr(v)` and a newline go to `sys.stdout` (RuntimeError when the
    /// program deleted it or set it to None), then `builtins._` is `v`.
    func display(_ u: Unit, _ v: Value) throws {
        if v.isNone { return }
        builtinsModule.globals.set("_", .none)
        let text = try u.repr(v) + "\n"
        if let sys = sysGlobals.load(ordering: .acquiring)?.takeUnretainedValue() {
            guard let out = sys.get("stdout"), !out.isNone else { throw runtimeError("lost sys.stdout") }
            if let original = sys.get("__stdout__"), isSame(out, original) {
                stdout.write(text)
            } else {
                _ = try u.callMethod(out, "write", [.str(text)])
            }
        } else {
            stdout.write(text)  // sys not imported yet: nothing can have replaced stdout
        }
        builtinsModule.globals.set("_", v)
    }

    /// An expression statement's value at the REPL (and in compile(..., "single") code):
    /// shown by `sys.displayhook`, the program's own when it replaced it.
    func echo(_ u: Unit, _ v: Value) throws {
        let sys = sysGlobals.load(ordering: .acquiring)?.takeUnretainedValue()
        guard let sys else { return try display(u, v) }
        guard let hook = sys.get("displayhook") else { throw runtimeError("lost sys.displayhook") }
        if let original = sys.get("__displayhook__"), isSame(hook, original) { return try display(u, v) }
        _ = try u.call(hook, [v])
    }
}

/// A frozenset of `strings` (made before any unit runs: str hashes need none).
func frozenSetOfStrings(_ strings: [String]) -> PySet {
    let set = PySet(frozen: true)
    for text in strings {
        let s = PyStr(text)
        set.table.insertAbsent(.obj(s), .none, hash: s.hash)
    }
    return set
}

let threadInfoFields = ["name", "lock", "version"]
let intInfoFields = ["bits_per_digit", "sizeof_digit", "default_max_str_digits", "str_digits_check_threshold"]
let hashInfoFields = ["width", "modulus", "inf", "nan", "imag", "algorithm", "hash_bits", "seed_bits", "cutoff"]

/// `sys.prefix`: the folder above the one holding the running binary (`/usr` for
/// `/usr/bin/conc`), as CPython's for an installed interpreter.
var installPrefix: String {
    let path = CommandLine.arguments.first ?? ""
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    guard path.hasPrefix("/"), parts.count >= 3 else { return "/usr/local" }
    let joined = parts.dropLast(2).joined(separator: "/")
    return joined.isEmpty ? "/" : joined
}

/// CPython 3.11's `sys.stdlib_module_names`.
let stdlibModuleNames: [String] = [
    "__future__", "_abc", "_aix_support", "_ast", "_asyncio", "_bisect", "_blake2", "_bootsubprocess", "_bz2",
    "_codecs", "_codecs_cn", "_codecs_hk", "_codecs_iso2022", "_codecs_jp", "_codecs_kr", "_codecs_tw",
    "_collections", "_collections_abc", "_compat_pickle", "_compression", "_contextvars", "_crypt", "_csv",
    "_ctypes", "_curses", "_curses_panel", "_datetime", "_dbm", "_decimal", "_elementtree",
    "_frozen_importlib", "_frozen_importlib_external", "_functools", "_gdbm", "_hashlib", "_heapq", "_imp",
    "_io", "_json", "_locale", "_lsprof", "_lzma", "_markupbase", "_md5", "_msi", "_multibytecodec",
    "_multiprocessing", "_opcode", "_operator", "_osx_support", "_overlapped", "_pickle", "_posixshmem",
    "_posixsubprocess", "_py_abc", "_pydecimal", "_pyio", "_queue", "_random", "_scproxy", "_sha1", "_sha256",
    "_sha3", "_sha512", "_signal", "_sitebuiltins", "_socket", "_sqlite3", "_sre", "_ssl", "_stat",
    "_statistics", "_string", "_strptime", "_struct", "_symtable", "_thread", "_threading_local", "_tkinter",
    "_tokenize", "_tracemalloc", "_typing", "_uuid", "_warnings", "_weakref", "_weakrefset", "_winapi",
    "_zoneinfo", "abc", "aifc", "antigravity", "argparse", "array", "ast", "asynchat", "asyncio", "asyncore",
    "atexit", "audioop", "base64", "bdb", "binascii", "bisect", "builtins", "bz2", "cProfile", "calendar",
    "cgi", "cgitb", "chunk", "cmath", "cmd", "code", "codecs", "codeop", "collections", "colorsys",
    "compileall", "concurrent", "configparser", "contextlib", "contextvars", "copy", "copyreg", "crypt", "csv",
    "ctypes", "curses", "dataclasses", "datetime", "dbm", "decimal", "difflib", "dis", "distutils", "doctest",
    "email", "encodings", "ensurepip", "enum", "errno", "faulthandler", "fcntl", "filecmp", "fileinput",
    "fnmatch", "fractions", "ftplib", "functools", "gc", "genericpath", "getopt", "getpass", "gettext", "glob",
    "graphlib", "grp", "gzip", "hashlib", "heapq", "hmac", "html", "http", "idlelib", "imaplib", "imghdr",
    "imp", "importlib", "inspect", "io", "ipaddress", "itertools", "json", "keyword", "lib2to3", "linecache",
    "locale", "logging", "lzma", "mailbox", "mailcap", "marshal", "math", "mimetypes", "mmap", "modulefinder",
    "msilib", "msvcrt", "multiprocessing", "netrc", "nis", "nntplib", "nt", "ntpath", "nturl2path", "numbers",
    "opcode", "operator", "optparse", "os", "ossaudiodev", "pathlib", "pdb", "pickle", "pickletools", "pipes",
    "pkgutil", "platform", "plistlib", "poplib", "posix", "posixpath", "pprint", "profile", "pstats", "pty",
    "pwd", "py_compile", "pyclbr", "pydoc", "pydoc_data", "pyexpat", "queue", "quopri", "random", "re",
    "readline", "reprlib", "resource", "rlcompleter", "runpy", "sched", "secrets", "select", "selectors",
    "shelve", "shlex", "shutil", "signal", "site", "smtpd", "smtplib", "sndhdr", "socket", "socketserver",
    "spwd", "sqlite3", "sre_compile", "sre_constants", "sre_parse", "ssl", "stat", "statistics", "string",
    "stringprep", "struct", "subprocess", "sunau", "symtable", "sys", "sysconfig", "syslog", "tabnanny",
    "tarfile", "telnetlib", "tempfile", "termios", "textwrap", "this", "threading", "time", "timeit",
    "tkinter", "token", "tokenize", "tomllib", "trace", "traceback", "tracemalloc", "tty", "turtle",
    "turtledemo", "types", "typing", "unicodedata", "unittest", "urllib", "uu", "uuid", "venv", "warnings",
    "wave", "weakref", "webbrowser", "winreg", "winsound", "wsgiref", "xdrlib", "xml", "xmlrpc", "zipapp",
    "zipfile", "zipimport", "zlib", "zoneinfo"
]
