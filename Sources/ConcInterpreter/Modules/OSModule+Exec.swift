// os.execv and os.execve (the rest of the exec family, execl...execvpe and get_exec_path,
// is Conc code in stdlib/_os_extras.conc), os.times, os.nice and the priorities, process
// groups, getlogin and get_terminal_size: what a learner reaches for around fork() to run
// and watch other programs.
import CConcSys
import Glibc

let timesResultFields = ["user", "system", "children_user", "children_system", "elapsed"]
let terminalSizeFields = ["columns", "lines"]

/// `os.terminal_size((columns, lines))`, what get_terminal_size returns.
func installTerminalSize(_ t: PyType) {
    installStructSequence(t, terminalSizeFields)
    t.module = "os"
    t.constructor = { u, type, a in
        try a.expect("terminal_size", 1, 1, keywords: ["sequence"])
        guard let sequence = a.argument(0, "sequence") else { throw typeError("terminal_size() missing required argument 'sequence' (pos 1)") }
        let items = try u.toArray(sequence)
        guard items.count == 2 else { throw typeError("os.terminal_size() takes a 2-sequence (\(items.count)-sequence given)") }
        return .obj(PyTuple(items, type: type))
    }
}

extension Engine {
    func osExecFunctions() -> [(String, Value)] {
        [
            native("execv") { u, a in
                try a.expect("execv", 2, 2)
                try u.replaceProcess(path: a[0], argv: a[1], env: nil, function: "execv")
            },
            native("execve") { u, a in
                try a.expect("execve", 3, 3, keywords: ["path", "argv", "env"])
                guard let path = a.argument(0, "path"), let argv = a.argument(1, "argv"), let env = a.argument(2, "env") else {
                    throw typeError("execve() missing required argument")
                }
                try u.replaceProcess(path: path, argv: argv, env: env, function: "execve")
            },
            native0("times", qualified: "posix.times") { _ in
                var t = tms()
                let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
                let elapsed = Glibc.times(&t)
                if elapsed == -1 { throw osError(errno) }
                let fields = [t.tms_utime, t.tms_stime, t.tms_cutime, t.tms_cstime, elapsed]
                return .obj(PyTuple(fields.map { .float(Double($0) / ticks) }, type: Types.timesResult))
            },
            native("setpgid") { u, a in
                try a.expect("setpgid", 2, 2)
                if setpgid(try u.pidArg(a[0]), try u.pidArg(a[1])) != 0 {
                    throw osError(errno)
                }
                return .none
            },
            native("getpriority") { u, a in
                try a.expect("getpriority", 2, 2)
                let (which, who) = (try u.cIntArg(a[0]), try u.cIntArg(a[1]))
                errno = 0  // -1 is also a valid priority
                let r = Glibc.getpriority(__priority_which_t(UInt32(bitPattern: which)), id_t(bitPattern: who))
                if r == -1 && errno != 0 { throw osError(errno) }
                return .int(Int(r))
            },
            native("setpriority") { u, a in
                try a.expect("setpriority", 3, 3)
                let (which, who, prio) = (try u.cIntArg(a[0]), try u.cIntArg(a[1]), try u.cIntArg(a[2]))
                if Glibc.setpriority(__priority_which_t(UInt32(bitPattern: which)), id_t(bitPattern: who), prio) != 0 {
                    throw osError(errno)
                }
                return .none
            },
            ("PRIO_PROCESS", .int(Int(PRIO_PROCESS.rawValue))), ("PRIO_PGRP", .int(Int(PRIO_PGRP.rawValue))),
            ("PRIO_USER", .int(Int(PRIO_USER.rawValue))),
            native0("getlogin", qualified: "posix.getlogin") { _ in
                guard let name = Glibc.getlogin() else { throw osError(errno == 0 ? ENXIO : errno) }
                return .str(String(cString: name))
            },
            ("terminal_size", .obj(Types.terminalSize)),
            native("get_terminal_size") { u, a in
                try a.expect("get_terminal_size", 0, 1)
                let fd = a.count > 0 ? try u.cIntArg(a[0]) : 1
                var size = winsize()
                if ioctl(fd, UInt(TIOCGWINSZ), &size) != 0 { throw osError(errno) }
                return .obj(PyTuple([.int(Int(size.ws_col)), .int(Int(size.ws_row))], type: Types.terminalSize))
            },
            native("nice") { u, a in
                let increment = try u.cIntArg(try ContainerArgs.one(a, "posix.nice"))
                // -1 is also a valid niceness: errno tells a failure apart.
                errno = 0
                let r = Glibc.nice(increment)
                if r == -1 && errno != 0 { throw osError(errno) }
                return .int(Int(r))
            },
        ]
    }
}

extension Unit {
    /// A path argument of the exec functions: str, bytes or an object with `__fspath__`.
    /// A path argument of an `os` function, as CPython's path_converter takes it (str,
    /// bytes or os.PathLike) and words its TypeError: "mkdir: path should be string, bytes
    /// or os.PathLike, not NoneType" (", integer" where a descriptor would do, "or None"
    /// where None would).
    func osPath(_ v: Value, _ function: String, _ argument: String = "path", fd: Bool = false, none: Bool = false) throws -> String {
        if fd, case .int = v { throw typeError("\(function): Conc takes a path here, not a file descriptor") }
        return try withoutNUL(fileSystemPath(v, {
            let kinds = ["string", "bytes", "os.PathLike"] + (fd ? ["integer"] : []) + (none ? ["None"] : [])
            let listed = kinds.count == 3 ? "string, bytes or os.PathLike"
                : kinds.dropLast().joined(separator: ", ") + " or " + kinds.last!
            return "\(function): \(argument) should be \(listed), not \(v.typeName)"
        }()))
    }

    /// A string for the C library, which would read it only up to a NUL: refused instead
    /// (CPython's ValueError), so `os.mkdir("a\0b")` does not make "a".
    func withoutNUL(_ s: String, _ message: String = "embedded null byte") throws -> String {
        if s.utf8.contains(0) { throw valueError(message) }
        return s
    }

    /// A path argument of an `os.path` function (posixpath's `os.fspath(p)`). Bytes are
    /// refused: Conc's os.path answers in str, where CPython's would answer in bytes.
    func fspathArg(_ v: Value) throws -> String {
        if case .obj(let o) = v, o is PyBytes { throw typeError("Conc's os.path functions take str paths, not \(v.typeName)") }
        return try fileSystemPath(v, "expected str, bytes or os.PathLike object, not \(v.typeName)")
    }

    func fileSystemPath(_ v: Value, _ complaint: @autoclosure () -> String) throws -> String {
        if let s = v.asStringValue { return s }
        if case .obj(let o) = v {
            if let b = o as? PyBytes, !b.isMutable { return String(decoding: b.snapshot, as: UTF8.self) }
            if let f = lookupSpecial(v, "__fspath__") {
                let p = try call(f, [])
                if let s = p.asStringValue { return s }
                if case .obj(let po) = p, let b = po as? PyBytes, !b.isMutable { return String(decoding: b.snapshot, as: UTF8.self) }
                throw typeError("expected \(v.typeName).__fspath__() to return str or bytes, not \(p.typeName)")
            }
        }
        throw typeError(complaint())
    }

    /// `os.execv(path, argv)` / `os.execve(path, argv, env)`: this process becomes the
    /// program at `path`, as in CPython. Conc's output is written out first (CPython's
    /// buffers would be lost; a learner's last prints should not be), and the signals
    /// Conc's threads keep blocked are unblocked, since the new program inherits the mask.
    /// Returns only by throwing: the arguments were wrong or the exec failed.
    func replaceProcess(path pathValue: Value, argv argvValue: Value, env envValue: Value?, function: String) throws -> Never {
        let path = try withoutNUL(fileSystemPath(pathValue, "\(function): path should be string, bytes or os.PathLike, not \(pathValue.typeName)"))
        let items: [Value]
        switch argvValue {
        case .obj(let o as PyTuple): items = o.items
        case .obj(let o as PyList): items = o.snapshot
        default: throw typeError("\(function)() arg 2 must be a tuple or list")
        }
        if items.isEmpty { throw valueError("\(function)() arg 2 must not be empty") }
        let argv = try items.map { try withoutNUL(fileSystemPath($0, "expected str, bytes or os.PathLike object, not \($0.typeName)")) }
        if argv[0].isEmpty { throw valueError("\(function)() arg 2 first element cannot be empty") }
        var environment: [String]? = nil
        if let envValue {
            guard lookupSpecial(envValue, "__getitem__") != nil else { throw typeError("\(function): environment must be a mapping object") }
            var entries: [String] = []
            for key in try toArray(try callMethod(envValue, "keys", [])) {
                let value = try getItem(envValue, key)
                let k = try withoutNUL(fileSystemPath(key, "expected str, bytes or os.PathLike object, not \(key.typeName)"))
                let v = try withoutNUL(fileSystemPath(value, "expected str, bytes or os.PathLike object, not \(value.typeName)"))
                if k.isEmpty || k.contains("=") { throw valueError("illegal environment variable name") }
                entries.append(k + "=" + v)
            }
            environment = entries
        }
        // No flush, as CPython's exec*: what is still buffered is lost.
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup($0) } + [nil] }
        defer { for p in cArgs { free(p) }; for p in cEnv ?? [] { free(p) } }
        var everything = sigset_t(), previous = sigset_t()
        sigemptyset(&everything)
        pthread_sigmask(SIG_SETMASK, &everything, &previous)
        if cEnv != nil { execve(path, &cArgs, &cEnv!) } else { execv(path, &cArgs) }
        let failure = errno
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        throw osError(failure)
    }
}
