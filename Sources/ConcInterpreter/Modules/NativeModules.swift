// Modules implemented in Swift: sys, os, os.path, time, math (and signal, in SignalModule.swift). They are the primitives the
// stdlib written in Conc builds on.
#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    func registerNativeModules() {
        nativeModules["sys"] = { $0.makeSysModule() }
        nativeModules["os"] = { $0.makeOsModule() }
        nativeModules["os.path"] = { $0.makeOsPathModule() }
        nativeModules["time"] = { $0.makeTimeModule() }
        nativeModules["math"] = { $0.makeMathModule() }
        nativeModules["_signal"] = { $0.makeSignalModule() }  // under stdlib/signal.conc
        nativeModules["resource"] = { $0.makeResourceModule() }
        nativeModules["gc"] = { $0.makeGcModule() }
        nativeModules["_weakref"] = { $0.makeWeakrefModule() }
        nativeModules["builtins"] = { $0.builtinsModule }
        nativeModules["_units"] = { $0.makeUnitsModule() }
        nativeModules["_heapq"] = { $0.makeHeapqModule() }
        nativeModules["_itertools"] = { $0.makeItertoolsModule() }  // under stdlib/itertools.conc
        nativeModules["_random"] = { $0.makeRandomModule() }
        nativeModules["_re"] = { $0.makeRegexModule() }
        nativeModules["unicodedata"] = { $0.makeUnicodeDataModule() }
        nativeModules["_io"] = { e in
            e.nativeModule("_io", [("UnsupportedOperation", .obj(Exc.unsupportedOperation)), ("open", e.builtins["open"]!)])
        }
    }

    func nativeModule(_ name: String, _ entries: [(String, Value)]) -> PyModule {
        let g = Globals()
        g.set("__name__", .str(name))
        g.set("__doc__", .none)
        g.set("__package__", .str(parentPackage(of: name)))
        g.set("__loader__", .none)
        g.set("__spec__", .none)
        for (k, v) in entries {
            if case .obj(let o) = v, let b = o as? PyBuiltinFunction, b.module == nil { b.module = name }
            g.set(k, v)
        }
        return PyModule(name: name, globals: g)
    }

    func makeSysModule() -> PyModule {
        // The Python version Conc follows (sys.version_info, and sys.implementation.version).
        let versionInfo = Value.obj(PyTuple([.int(3), .int(11), .int(0), .str("final"), .int(0)], type: Types.versionInfo))
        let pythonHexVersion = 0x030B00F0
        // sys.excepthook: the default report of an uncaught exception; the program may
        // replace it (``Unit/reportUncaught(_:)`` calls the replacement).
        let excepthook = native("excepthook") { u, a in
            try a.expect("excepthook", 3, 3)
            guard case .obj(let o) = a[1], let e = o as? PyBaseException else {
                u.writeErrorOutput("TypeError: print_exception(): Exception expected for value, \(a[1].typeName) found\n")
                return .none
            }
            u.writeErrorOutput(u.formatException(e))
            return .none
        }
        let unraisablehook = makeUnraisableHook()
        let stdoutFile = PyFile(backing: .sink(stdout), name: .str("<stdout>"), mode: "w")
        let stderrFile = PyFile(backing: .sink(stderr), name: .str("<stderr>"), mode: "w")
        let path = PyList(searchFolders.map { .str($0) })
        // A program started with its stdin closed (`<&-`) has sys.stdin None, as in CPython
        // (input() then says it lost sys.stdin).
        let stdinClosed = options.readLine == nil && fcntl(0, F_GETFD) == -1
        let stdin: Value = stdinClosed ? .none : .obj(stdinFile!)
        let module = nativeModule("sys", [
            ("argv", .obj(PyList(options.argv.map { .str($0) }))),
            ("stdout", .obj(stdoutFile)), ("stderr", .obj(stderrFile)), ("stdin", stdin),
            ("__stdout__", .obj(stdoutFile)), ("__stderr__", .obj(stderrFile)), ("__stdin__", stdin),
            ("path", .obj(path)),
            ("platform", .str("linux")),
            ("maxsize", .int(Int.max)),
            ("maxunicode", .int(0x10FFFF)),
            ("byteorder", .str("little")),
            native("setswitchinterval") { u, a in
                try a.expect("setswitchinterval", 1, 1)
                let d = try u.floatArg(a[0])
                if d <= 0 { throw valueError("switch interval must be strictly positive") }
                u.engine.gil.interval = d
                return .none
            },
            native("getswitchinterval") { u, a in try a.expect("getswitchinterval", 0, 0); return .float(u.engine.gil.interval) },
            ("version", .str("3.11.0 (Conc \(concVersion), a Python 3.11 subset)")),
            ("version_info", versionInfo),
            ("hexversion", .int(pythonHexVersion)),
            ("float_info", .obj(PyTuple(floatInfoValues, type: Types.floatInfo))),
            ("implementation", .obj(PyTuple([.str("conc"), .none, versionInfo, .int(pythonHexVersion)], type: Types.sysImplementation))),
            ("executable", .str(CommandLine.arguments.first ?? "conc")),
            ("modules", .obj(sysModules)),
            ("flags", .obj(PyTuple(sysFlagsValues, type: Types.sysFlags))),
            excepthook, ("__excepthook__", excepthook.1),
            unraisablehook, ("__unraisablehook__", unraisablehook.1),
            native("exit") { _, a in throw try systemExit(a) },
            native0("getrecursionlimit", qualified: "sys.getrecursionlimit") { u in .int(u.engine.recursionLimit) },
            native("_getframe") { u, a in
                try a.expect("_getframe", 0, 1)
                let depth = a.count > 0 ? try u.toIndex(a[0]) : 0
                guard let f = u.captureStack(skip: max(depth, 0)) else { throw valueError("call stack is not deep enough") }
                return .obj(f)
            },
            native("_current_frames") { u, a in
                // Thread ident -> innermost frame, for every unit of the process. The others
                // are stopped first (at their next poll point, a park or a blocking call, as
                // for a fork), so their frame chains hold still while they are read.
                try a.expect("_current_frames", 0, 0)
                var frames: [(Int, PyFrameObject)] = []
                if let f = u.captureStack(skip: 0) { frames.append((u.threadIdent, f)) }
                u.engine.gil.stopTheWorld()
                for other in u.engine.units.liveUnits where other !== u && other.threadIdent != 0 {
                    if let f = other.captureStack(skip: 0) { frames.append((other.threadIdent, f)) }
                }
                u.engine.gil.resumeTheWorld()
                let d = PyDict()
                for (ident, f) in frames { try d.set(u, .int(ident), .obj(f)) }
                return .obj(d)
            },
            native("_current_exceptions") { u, a in
                // Thread ident -> (type, value, traceback) of the exception each unit is
                // handling, (None, None, None) for one handling none; the others stopped
                // while they are read, as for _current_frames.
                try a.expect("_current_exceptions", 0, 0)
                func info(_ unit: Unit) -> Value {
                    guard let e = unit.handling.last else { return .obj(PyTuple([.none, .none, .none])) }
                    let tb = e.tracebackValue
                    // The handler's frame goes on to its callers while they hold still.
                    if case .obj(let t as PyTraceback) = tb { t.frame?.continueWithCallers(of: unit) }
                    return .obj(PyTuple([.obj(e.type), .obj(e), tb]))
                }
                var entries: [(Int, Value)] = [(u.threadIdent, info(u))]
                u.engine.gil.stopTheWorld()
                for other in u.engine.units.liveUnits where other !== u && other.threadIdent != 0 {
                    entries.append((other.threadIdent, info(other)))
                }
                u.engine.gil.resumeTheWorld()
                let d = PyDict()
                for (ident, v) in entries { try d.set(u, .int(ident), v) }
                return .obj(d)
            },
            native("get_int_max_str_digits") { u, a in
                try a.expect("get_int_max_str_digits", 0, 0)
                return .int(u.engine.intMaxStrDigits)
            },
            native("set_int_max_str_digits") { u, a in
                try a.expect("set_int_max_str_digits", 1, 1, keywords: ["maxdigits"])
                guard let v = a.argument(0, "maxdigits") else {
                    throw typeError("set_int_max_str_digits() missing required argument 'maxdigits' (pos 1)")
                }
                let n = try u.toIndex(v)
                if n != 0 && n < 640 { throw valueError("maxdigits must be 0 or larger than 640") }
                u.engine.intMaxStrDigits = n
                return .none
            },
            native("setrecursionlimit") { u, a in
                try a.expect("setrecursionlimit", 1, 1)
                let n = try u.toIndex(a[0])
                if n < 1 { throw valueError("recursion limit must be greater or equal than 1") }
                // As CPython: a limit the calling unit is already at would fail at once.
                // The depth counts this call, as CPython's does.
                let depth = u.depth + 1
                if n <= depth {
                    throw pyError(Exc.recursionError, "cannot set the recursion limit to \(n) at the recursion depth \(depth): the limit is too low")
                }
                u.engine.recursionLimit = n
                return .none
            },
            native0("is_finalizing", qualified: "sys.is_finalizing") { u in .bool(u.engine.isFinalizing) },
            native("getsizeof") { u, a in
                guard let object = a.argument(0, "object") else { throw typeError("getsizeof() missing required argument 'object' (pos 1)") }
                if a.count > 2 { throw typeError("getsizeof() takes at most 2 arguments (\(a.count) given)") }
                return .int(u.cpythonSize(of: object))
            },
            native0("exception", qualified: "sys.exception") { u in u.handling.last.map { .obj($0) } ?? .none },
            native0("exc_info", qualified: "sys.exc_info") { u in
                guard let e = u.handling.last else { return .obj(PyTuple([.none, .none, .none])) }
                return .obj(PyTuple([.obj(e.type), .obj(e), e.tracebackValue]))
            },
        ] + sysInterpreterEntries())
        // Published for print(); an earlier sys module (re-made after being deleted) stays
        // retained, as a unit may still read it.
        sysGlobals.store(Unmanaged.passRetained(module.globals), ordering: .releasing)
        return module
    }

    func makeOsModule() -> PyModule {
        let environ = PyDict()
        var env = environ_ptr()
        while let p = env.pointee {
            let entry = String(cString: p)
            if let eq = entry.firstIndex(of: "=") {
                environ.set(mainUnit, String(entry[..<eq]), .str(String(entry[entry.index(after: eq)...])))
            }
            env += 1
        }
        let m = nativeModule("os", [
            // The environment at start-up; os.environ (stdlib/_os_environ.conc) wraps it.
            ("_environ_data", .obj(environ)),
            ("name", .str("posix")),
            ("sep", .str("/")), ("linesep", .str("\n")), ("curdir", .str(".")), ("pardir", .str("..")),
            native0("getpid", qualified: "posix.getpid") { _ in .int(Int(getpid())) },
            native0("getppid", qualified: "posix.getppid") { _ in .int(Int(getppid())) },
            native0("getcwd", qualified: "posix.getcwd") { _ in
                var buf = [CChar](repeating: 0, count: 4096)
                guard getcwd(&buf, 4096) != nil else { throw osError(errno) }
                return .str(String(cString: buf))
            },
            native("chdir") { u, a in
                let p = try u.osPath(a[0], "chdir", fd: true)
                if chdir(p) != 0 { throw osError(errno, path: a[0]) }
                return .none
            },
            native("listdir") { u, a in
                let p = a.count > 0 && !a[0].isNone ? try u.osPath(a[0], "listdir", fd: true, none: true) : "."
                let asBytes = a.count > 0 && a[0].object is PyBytes
                guard let d = opendir(p) else { throw osError(errno, path: .str(p)) }
                defer { closedir(d) }
                var names: [Value] = []
                while let e = readdir(d) {
                    let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                    // (Names of a bytes path are bytes, as CPython's.)
                    if name != "." && name != ".." { names.append(asBytes ? .obj(PyBytes(Array(name.utf8))) : .str(name)) }
                }
                return .obj(PyList(names))
            },
            native("remove") { u, a in
                let p = try u.osPath(a[0], "remove")
                if unlink(p) != 0 { throw osError(errno, path: a[0]) }
                return .none
            },
            native("unlink") { u, a in
                let p = try u.osPath(a[0], "unlink")
                if unlink(p) != 0 { throw osError(errno, path: a[0]) }
                return .none
            },
            native("mkdir") { u, a in
                let p = try u.osPath(a[0], "mkdir")
                if mkdir(p, 0o777) != 0 { throw osError(errno, path: a[0]) }
                return .none
            },
            native("rmdir") { u, a in
                let p = try u.osPath(a[0], "rmdir")
                if rmdir(p) != 0 { throw osError(errno, path: a[0]) }
                return .none
            },
            native("rename") { u, a in
                try a.expect("rename", 2, 2)
                if rename(try u.osPath(a[0], "rename", "src"), try u.osPath(a[1], "rename", "dst")) != 0 { throw osError(errno, path: a[0], path2: a[1]) }
                return .none
            },
            // As CPython's: os.environ.get(key, default), so changes made through
            // os.environ are seen.
            native("getenv") { u, a in
                try a.expect("getenv", 0, 2, keywords: ["key", "default"])
                guard let key = a.argument(0, "key") else { throw typeError("getenv() missing required argument 'key'") }
                guard key.asStr != nil else { throw typeError("str expected, not \(key.typeName)") }
                return try environ.get(u, key) ?? a.argument(1, "default") ?? .none
            },
            native("putenv") { u, a in
                try a.expect("putenv", 2, 2)
                let name = try u.withoutNUL(u.stringArg(a[0], "putenv() argument 1"))
                let value = try u.withoutNUL(u.stringArg(a[1], "putenv() argument 2"))
                if name.isEmpty || name.contains("=") { throw valueError("illegal environment variable name") }
                setenv(name, value, 1)
                return .none
            },
            native("unsetenv") { u, a in
                try a.expect("unsetenv", 1, 1)
                let name = try u.withoutNUL(u.stringArg(a[0], "unsetenv() argument 1"))
                if name.isEmpty || name.contains("=") { throw valueError("illegal environment variable name") }
                unsetenv(name)
                return .none
            },
            native0("cpu_count", qualified: "posix.cpu_count") { _ in .int(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) },
            native("urandom") { u, a in
                let n = try u.toIndex(try ContainerArgs.one(a, "posix.urandom"))
                if n < 0 { throw valueError("negative argument not allowed") }
                try checkBuildSize(n)
                return .obj(PyBytes(readFileBytesPrefix("/dev/urandom", n)))
            },
            native("_exit") { u, a in
                // No flush, as CPython's: what is still buffered is lost.
                let code = Int32(truncatingIfNeeded: try u.toIndex(a[0]))
                u.engine.leaveFamily()   // (its place in the deadlock detector's table of processes)
                _exit(code)
            },
            native("kill") { u, a in
                try a.expect("kill", 2, 2)
                // The signal as CPython passes it, cut to a C int (2**31 is EINVAL, not a trap).
                if kill(try u.pidArg(a[0]), Int32(truncatingIfNeeded: try u.toIndex(a[1]))) != 0 { throw osError(errno) }
                // A signal sent to this process is delivered before kill returns: its
                // handler runs now, as in CPython.
                try u.checkInterrupt()
                return .none
            },
        ] + forkFunctions() + osFileFunctions() + osExecFunctions())
        installConcExtras(on: m, module: "os", from: [
            ("_os_extras", ["walk", "scandir", "fdopen", "DirEntry", "fspath", "PathLike", "execl", "execle", "execlp", "execlpe",
                            "execvp", "execvpe", "get_exec_path", "popen", "spawnv", "spawnve", "spawnvp",
                            "spawnvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe"]),
            ("_os_environ", ["environ", "_Environ"]),
        ])
        m.globals.set("path", .obj(makeOsPathModule()))
        return m
    }

    /// Gives native module `m` a `__getattr__` (PEP 562) that loads `names` from the Conc
    /// module `extras` on first use, and lists them for dir().
    func installConcExtras(on m: PyModule, module: String, from extras: String, names: Set<String>) {
        installConcExtras(on: m, module: module, from: [(extras, names)])
    }

    /// The same, with names from several Conc modules (each imported only when one of its
    /// names is first used). A loaded name is kept in `m`'s globals, as if `m` had always
    /// had it: later uses do not call `__getattr__`, and it stays the same object.
    func installConcExtras(on m: PyModule, module: String, from sources: [(extras: String, names: Set<String>)]) {
        m.lazyNames = sources.flatMap { $0.names }.sorted()
        m.globals.set("__getattr__", .obj(PyBuiltinFunction("__getattr__") { [weak m] u, a in
            try a.expect("__getattr__", 1, 1)
            let name = try u.stringArg(a[0], "name")
            guard let extras = sources.first(where: { $0.names.contains(name) })?.extras else {
                throw attributeError("module '\(module)' has no attribute '\(name)'")
            }
            let v = try u.getAttr(try u.engine.importModule(extras, u), name)
            m?.globals.set(name, v)
            return v
        }))
    }

    func makeOsPathModule() -> PyModule {
        if let m = modules["os.path"] { return m }
        let m = nativeModule("os.path", [
            ("sep", .str("/")),
            native("join") { u, a in
                if a.count == 0 { throw typeError("join() missing 1 required positional argument: 'a'") }
                var result = ""
                for (i, v) in a.positional.enumerated() {
                    // posixpath: the first through os.fspath, the others named by join().
                    let p: String
                    do { p = try u.fspathArg(v) } catch let e as PyBaseException where e.type === Exc.typeError && i > 0 {
                        throw typeError("join() argument must be str, bytes, or os.PathLike object, not '\(v.typeName)'")
                    }
                    if p.hasPrefix("/") { result = p } else if result.isEmpty || result.hasSuffix("/") { result += p } else { result += "/" + p }
                }
                return .str(result)
            },
            native("exists") { u, a in .bool(try statOfPathArgument(a, "exists") != nil) },
            native("isfile") { u, a in
                .bool(try statOfPathArgument(a, "isfile").map { ($0.st_mode & S_IFMT) == S_IFREG } ?? false)
            },
            native("isdir") { u, a in
                .bool(try statOfPathArgument(a, "isdir").map { ($0.st_mode & S_IFMT) == S_IFDIR } ?? false)
            },
            native("basename") { u, a in
                let p = try u.fspathArg(a[0])
                return .str(p.lastIndex(of: "/").map { String(p[p.index(after: $0)...]) } ?? p)
            },
            native("dirname") { u, a in .str(splitPath(try u.fspathArg(a[0])).head) },
            native("abspath") { u, a in
                var p = try u.fspathArg(a[0])
                if !p.hasPrefix("/") {
                    var buf = [CChar](repeating: 0, count: 4096)
                    _ = getcwd(&buf, 4096)
                    p = String(cString: buf) + "/" + p
                }
                return .str(normalizePath(p))
            },
            native("getsize") { u, a in
                var st = stat()
                if stat(try u.osPath(a[0], "stat", fd: true), &st) != 0 { throw osError(errno, path: a[0]) }
                return .int(Int(st.st_size))
            },
            native("isabs") { u, a in .bool(try u.fspathArg(a[0]).hasPrefix("/")) },
            native("split") { u, a in
                let (head, tail) = splitPath(try u.fspathArg(a[0]))
                return .obj(PyTuple([.str(head), .str(tail)]))
            },
            native("normpath") { u, a in .str(normalizePath(try u.fspathArg(a[0]))) },
            native("realpath") { u, a in
                let p = try u.fspathArg(a[0])
                guard let r = realpath(p, nil) else { return .str(normalizePath(p)) }
                defer { free(r) }
                return .str(String(cString: r))
            },
            native("getmtime") { u, a in
                var st = stat()
                if stat(try u.osPath(a[0], "stat", fd: true), &st) != 0 { throw osError(errno, path: a[0]) }
                return .float(Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
            },
            native("splitext") { u, a in
                // posixpath's rule: the last dot of the last component, unless everything
                // before it there is dots (".bashrc", "..x" have no extension).
                let p = try u.fspathArg(a[0])
                let base = p.lastIndex(of: "/").map { p.index(after: $0) } ?? p.startIndex
                if let dot = p[base...].lastIndex(of: "."), p[base..<dot].contains(where: { $0 != "." }) {
                    return .obj(PyTuple([.str(String(p[..<dot])), .str(String(p[dot...]))]))
                }
                return .obj(PyTuple([.str(p), .str("")]))
            },
        ])
        installConcExtras(on: m, module: "posixpath", from: "_os_extras", names: [  // CPython's os.path is posixpath
            "islink", "lexists", "getatime", "getctime", "samefile", "commonprefix", "commonpath",
            "relpath", "expanduser", "expandvars", "normcase"])
        modules["os.path"] = m
        return m
    }

    func makeTimeModule() -> PyModule {
        let m = nativeModule("time", timeClockEntries() + [
            ("struct_time", .obj(Types.structTime)),
            native0("time", qualified: "time.time") { _ in secondsValue(try readClock(CLOCK_REALTIME)) },
            native0("time_ns", qualified: "time.time_ns") { _ in nanosecondsValue(try readClock(CLOCK_REALTIME)) },
            native0("perf_counter", qualified: "time.perf_counter") { _ in .float(monotonicSeconds()) },
            native0("monotonic", qualified: "time.monotonic") { _ in .float(monotonicSeconds()) },
            native0("process_time", qualified: "time.process_time") { _ in secondsValue(try readClock(CLOCK_PROCESS_CPUTIME_ID)) },
            native("sleep") { u, a in
                try a.expect("sleep", 1, 1)
                try u.sleep(try u.sleepSeconds(a[0]))
                return .none
            },
            native("ctime") { u, a in
                try expectAtMost(a, "ctime", 1)
                var tmv = try brokenDownTime(try timestampArg(u, a), local: true)
                return .str(try asctimeText(&tmv))
            },
            native("gmtime") { u, a in try expectAtMost(a, "gmtime", 1); return try structTime(try brokenDownTime(try timestampArg(u, a), local: false), u) },
            native("localtime") { u, a in try expectAtMost(a, "localtime", 1); return try structTime(try brokenDownTime(try timestampArg(u, a), local: true), u) },
            native("mktime") { u, a in
                try a.expect("mktime", 1, 1)
                var tmv = try cTime(u, a[0], "mktime")
                tmv.tm_wday = -1  // mktime leaves it alone on failure: CPython's error check
                let t = mktime(&tmv)
                if t == -1 && tmv.tm_wday == -1 { throw overflowError("mktime argument out of range") }
                return .float(Double(t))
            },
            native("asctime") { u, a in
                var tmv: tm
                if a.count > 0 { tmv = try cTime(u, a[0], "asctime"); try checkTimeTuple(&tmv) }
                else { tmv = try brokenDownTime(time(nil), local: true) }
                return .str(try asctimeText(&tmv))
            },
            native("strftime") { u, a in
                try a.expect("strftime", 1, 2)
                let fmt = try u.stringArg(a[0], "strftime() argument 1")
                var tmv: tm
                if a.count > 1 {
                    tmv = try cTime(u, a[1], "strftime")
                    try checkTimeTuple(&tmv)
                    tmv.tm_isdst = max(-1, min(1, tmv.tm_isdst))  // as CPython normalises it for %Z
                } else { tmv = try brokenDownTime(time(nil), local: true) }
                if fmt.utf8.contains(0) { throw valueError("embedded null character") }
                // Grow the buffer until the text fits, as CPython does (strftime returns 0 both
                // for "too small" and for an empty result).
                var size = 1024
                while true {
                    var buf = [CChar](repeating: 0, count: size)
                    // A struct_time's own tm_zone names %Z (CPython's gettmarg copies it).
                    let zone = a.count > 1 ? ((a[1].object as? PyTuple)?.subclassAttributes).flatMap { try? $0.get(u, .int(0)) }?.asStr?.value : nil
                    let n = zone.map { z in z.withCString { p in tmv.tm_zone = p; defer { tmv.tm_zone = nil }; return strftime(&buf, size, fmt, &tmv) } }
                        ?? strftime(&buf, size, fmt, &tmv)
                    if n > 0 || size >= 256 * max(fmt.utf8.count, 1) * 16 { return .str(n > 0 ? String(cString: buf) : "") }
                    size *= 4
                }
            },
        ])
        // get_clock_info and strptime are Conc code, loaded on first use.
        installConcExtras(on: m, module: "time", from: "_time_extras", names: ["get_clock_info", "strptime"])
        return m
    }
}

/// The process environment (`environ`), as a pointer walkable from Swift.
func environ_ptr() -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> { environ }

extension String {
    func trimmingTrailingNewline() -> String { hasSuffix("\n") ? String(dropLast()) : self }
}

/// The version printed by `conc --version`.
public let concVersion = "0.1.0"

/// The first `n` bytes of a (device) file.
func readFileBytesPrefix(_ path: String, _ n: Int) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return [UInt8](repeating: 0, count: n) }
    defer { close(fd) }
    var b = [UInt8](repeating: 0, count: n)
    var got = 0
    while got < n {
        let r = b.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, n - got) }
        if r <= 0 { break }
        got += r
    }
    return b
}

/// `os.path.split`: the head (trailing slashes dropped unless it is all slashes) and the
/// last component, as posixpath splits.
func splitPath(_ p: String) -> (head: String, tail: String) {
    guard let i = p.lastIndex(of: "/") else { return ("", p) }
    var head = String(p[...i])
    if head.contains(where: { $0 != "/" }) { while head.hasSuffix("/") { head.removeLast() } }
    return (head, String(p[p.index(after: i)...]))
}

/// `os.path.normpath`: collapses `//`, `.` and `..` components.
func normalizePath(_ p: String) -> String {
    if p.isEmpty { return "." }
    let absolute = p.hasPrefix("/")
    var parts: [Substring] = []
    for c in p.split(separator: "/") {
        if c == "." { continue }
        if c == ".." {
            if let last = parts.last, last != ".." { parts.removeLast() } else if !absolute { parts.append(c) }
            continue
        }
        parts.append(c)
    }
    let body = parts.joined(separator: "/")
    // POSIX leaves the meaning of exactly two leading slashes to the system: kept, as
    // posixpath keeps them.
    if absolute { return (p.hasPrefix("//") && !p.hasPrefix("///") ? "//" : "/") + body }
    return body.isEmpty ? "." : body
}

/// `time.struct_time`: a 9-tuple with named fields.
/// `time.struct_time`: 9 tuple items; made from a 9- to 11-sequence (the extra two are
/// tm_zone and tm_gmtoff, attributes only, kept in the tuple's attribute dict).
func installStructTime(_ t: PyType) {
    installStructSequence(t, structTimeFields)
    for (i, name) in ["tm_zone", "tm_gmtoff"].enumerated() {
        t.getter(name) { u, s in try (s.object as! PyTuple).subclassAttributes?.get(u, .int(i)) ?? .none }
    }
    t.constructor = { u, type, a in
        try a.expect("struct_time", 1, 2, keywords: ["sequence", "dict"])
        guard let sequence = a.argument(0, "sequence") else { throw typeError("struct_time() missing required argument 'sequence' (pos 1)") }
        let items = try u.toArray(sequence)
        if items.count < 9 { throw typeError("time.struct_time() takes an at least 9-sequence (\(items.count)-sequence given)") }
        if items.count > 11 { throw typeError("time.struct_time() takes an at most 11-sequence (\(items.count)-sequence given)") }
        let r = PyTuple(Array(items[..<9]), type: type)
        if items.count > 9 {
            let extra = PyDict()
            for (i, v) in items[9...].enumerated() { try extra.set(u, .int(i), v) }
            r.subclassAttributes = extra
        }
        return .obj(r)
    }
    t.dict["n_fields"] = .int(11)
    t.dict["n_sequence_fields"] = .int(9)
    t.dict["n_unnamed_fields"] = .int(0)
}

let structTimeFields = ["tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday", "tm_isdst"]
let versionInfoFields = ["major", "minor", "micro", "releaselevel", "serial"]
let sysFlagsFields = ["debug", "inspect", "interactive", "optimize", "dont_write_bytecode", "no_user_site",
                      "no_site", "ignore_environment", "verbose", "bytes_warning", "quiet", "hash_randomization",
                      "isolated", "dev_mode", "utf8_mode", "warn_default_encoding", "safe_path", "int_max_str_digits"]
/// `sys.flags`: what a plain `python3.11 FILE` reports (Conc has no such command-line options).
var sysFlagsValues: [Value] { [.int(0), .int(0), .int(0), .int(0), .int(0), .int(0), .int(0), .int(0), .int(0),
                               .int(0), .int(0), .int(1), .int(0), .bool(false), .int(0), .int(0), .bool(false), .int(-1)] }
/// `sys.implementation` (CPython's is a SimpleNamespace; Conc's a struct sequence shown as
/// one): name 'conc', no bytecode cache tag, the Python version it follows.
let sysImplementationFields = ["name", "cache_tag", "version", "hexversion"]
let floatInfoFields = ["max", "max_exp", "max_10_exp", "min", "min_exp", "min_10_exp", "dig", "mant_dig",
                       "epsilon", "radix", "rounds"]
/// `sys.float_info`: the IEEE double's limits, as CPython reports them.
var floatInfoValues: [Value] { [.float(Double.greatestFiniteMagnitude), .int(1024), .int(308),
                                .float(Double.leastNormalMagnitude), .int(-1021), .int(-307), .int(15), .int(53),
                                .float(Double.ulpOfOne), .int(2), .int(1)] }

/// CPython's "struct sequences" (time.struct_time, sys.version_info): tuples whose items
/// are also named attributes.
func installStructSequence(_ t: PyType, _ names: [String]) {
    for (i, n) in names.enumerated() {
        t.getter(n) { _, s in (s.object as! PyTuple).items[i] }
    }
}

/// The repr name and field names of a struct sequence type, or nil for other tuples.
func structSequenceLayout(_ t: PyType) -> (String, [String])? {
    if t === Types.tuple { return nil }
    if t === Types.structTime { return ("time.struct_time", structTimeFields) }
    if t === Types.versionInfo { return ("sys.version_info", versionInfoFields) }
    if t === Types.floatInfo { return ("sys.float_info", floatInfoFields) }
    if t === Types.sysFlags { return ("sys.flags", sysFlagsFields) }
    if t === Types.sysImplementation { return ("namespace", sysImplementationFields) }
    if t === Types.threadInfo { return ("sys.thread_info", threadInfoFields) }
    if t === Types.intInfo { return ("sys.int_info", intInfoFields) }
    if t === Types.hashInfo { return ("sys.hash_info", hashInfoFields) }
    if t === Types.statResult { return ("os.stat_result", statResultFields) }
    if t === Types.unameResult { return ("posix.uname_result", unameResultFields) }
    if t === Types.timesResult { return ("posix.times_result", timesResultFields) }
    if t === Types.structRusage { return ("resource.struct_rusage", structRusageFields) }
    if t === Types.waitidResult { return ("posix.waitid_result", waitidResultFields) }
    if t === Types.terminalSize { return ("os.terminal_size", terminalSizeFields) }
    if t === Types.unraisableHookArgs { return ("UnraisableHookArgs", unraisableHookArgsFields) }
    return nil
}

/// A struct_time from a C `tm`.
func structTime(_ tmv: tm, _ u: Unit) throws -> Value {
    let items: [Value] = [.int(Int(tmv.tm_year) + 1900), .int(Int(tmv.tm_mon) + 1), .int(Int(tmv.tm_mday)),
                          .int(Int(tmv.tm_hour)), .int(Int(tmv.tm_min)), .int(Int(tmv.tm_sec)),
                          .int((Int(tmv.tm_wday) + 6) % 7), .int(Int(tmv.tm_yday) + 1), .int(Int(tmv.tm_isdst))]
    let r = PyTuple(items, type: Types.structTime)
    // tm_zone and tm_gmtoff, as the C library filled them in ("GMT" from gmtime).
    let extra = PyDict()
    try extra.set(u, .int(0), tmv.tm_zone.map { .str(String(cString: $0)) } ?? .none)
    try extra.set(u, .int(1), .int(tmv.tm_gmtoff))
    r.subclassAttributes = extra
    return .obj(r)
}

/// A C `tm` from a struct_time (or any 9-sequence).
func cTime(_ u: Unit, _ v: Value, _ caller: String = "mktime") throws -> tm {
    let items = try u.toArray(v)
    guard items.count == 9 else {
        throw typeError("\(caller)(): illegal time tuple argument")
    }
    /// A field as a C int, with CPython's OverflowError when it does not fit.
    func field(_ i: Int, minus offset: Int = 0) throws -> Int32 {
        let x = try u.toIndex(items[i])
        guard let c = Int32(exactly: x) else {
            throw overflowError(x > 0 ? "signed integer is greater than maximum" : "signed integer is less than minimum")
        }
        guard let shifted = Int32(exactly: Int(c) - offset) else { throw overflowError("year out of range") }
        return shifted
    }
    var tmv = tm()
    tmv.tm_year = try field(0, minus: 1900); tmv.tm_mon = try field(1, minus: 1)
    tmv.tm_mday = try field(2); tmv.tm_hour = try field(3)
    tmv.tm_min = try field(4); tmv.tm_sec = try field(5)
    tmv.tm_wday = (try field(6) + 1) % 7; tmv.tm_yday = try field(7, minus: 1)
    tmv.tm_isdst = try field(8)
    return tmv
}

/// `asctime` text of `t` ("Sun Jun 20 23:21:05 1993"), formatted as CPython does.
func asctimeText(_ t: inout tm) throws -> String {
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    let wday = Int(t.tm_wday), mon = Int(t.tm_mon)
    guard (0..<7).contains(wday), (0..<12).contains(mon) else { throw valueError("unconvertible time") }
    func two(_ x: Int32) -> String { x < 10 ? "0\(x)" : "\(x)" }
    let day = t.tm_mday < 10 ? " \(t.tm_mday)" : "\(t.tm_mday)"
    return "\(days[wday]) \(months[mon]) \(day) \(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) \(Int(t.tm_year) + 1900)"
}

/// The time tuple checks CPython's strftime/asctime make (`checktm`).
/// A month, day of month or day of year given as 0 stands for the first one (CPython
/// accepts zeros from Python code there: `(2000,) + (0,) * 8` is Jan 1).
func checkTimeTuple(_ t: inout tm) throws {
    if t.tm_mon == -1 { t.tm_mon = 0 }
    else if t.tm_mon < 0 || t.tm_mon > 11 { throw valueError("month out of range") }
    if t.tm_mday == 0 { t.tm_mday = 1 }
    else if t.tm_mday < 0 || t.tm_mday > 31 { throw valueError("day of month out of range") }
    if t.tm_hour < 0 || t.tm_hour > 23 { throw valueError("hour out of range") }
    if t.tm_min < 0 || t.tm_min > 59 { throw valueError("minute out of range") }
    if t.tm_sec < 0 || t.tm_sec > 61 { throw valueError("seconds out of range") }
    if t.tm_wday < 0 { throw valueError("day of week out of range") }
    if t.tm_yday == -1 { t.tm_yday = 0 }
    else if t.tm_yday < 0 || t.tm_yday > 365 { throw valueError("day of year out of range") }
}

/// A timestamp argument of gmtime/localtime/ctime as time_t: CPython's floor, with its
/// ValueError for NaN and OverflowError past time_t.
func timestampArg(_ u: Unit, _ a: Args) throws -> time_t {
    guard a.count > 0, !a[0].isNone else { return time(nil) }
    if case .int(let i) = a[0] { return time_t(i) }
    // Not a float: an integer (CPython's _PyLong_AsTime_t: "'str' object cannot be
    // interpreted as an integer").
    if case .float = a[0].unboxedNumber {} else { return time_t(try u.toIndex(a[0])) }
    let d = try u.floatArg(a[0])
    if d.isNaN { throw valueError("Invalid value NaN (not a number)") }
    let f = d.rounded(.down)
    guard f >= -9.2e18 && f <= 9.2e18 else { throw overflowError("timestamp out of range for platform time_t") }
    return time_t(f)
}

/// gmtime_r/localtime_r, with CPython's OSError when the year does not fit.
func brokenDownTime(_ t: time_t, local: Bool) throws -> tm {
    var tv = t
    var tmv = tm()
    let ok = local ? localtime_r(&tv, &tmv) : gmtime_r(&tv, &tmv)
    if ok == nil { throw osError(EOVERFLOW) }
    return tmv
}

/// stat() of the one argument of os.path.exists/isfile/isdir, nil when there is
/// nothing there: a str or bytes path, or an int file descriptor, as CPython takes.
private func statOfPathArgument(_ a: Args, _ name: String) throws -> stat? {
    try a.expect(name, 1, 1)
    var st = stat()
    let v = a[0]
    if let p = v.asStr?.value { return stat(p, &st) == 0 ? st : nil }
    if case .obj(let o) = v, let b = o as? PyBytes, !b.isMutable {
        return stat(String(decoding: b.snapshot, as: UTF8.self), &st) == 0 ? st : nil
    }
    if case .int(let fd) = v {
        guard let d = Int32(exactly: fd) else { return nil }
        return fstat(d, &st) == 0 ? st : nil
    }
    throw typeError("stat: path should be string, bytes, os.PathLike or integer, not \(v.typeName)")
}
