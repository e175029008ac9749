// The rest of `os` a learner reaches for next to fork(): file descriptors and pipes
// (the first IPC lesson), stat, makedirs/removedirs, permissions, process groups and
// sessions (daemons), system(), and the constants that go with them. `os.walk` and
// `os.fdopen` are Conc code (stdlib/_os_extras.conc), found through the module's
// __getattr__ on first use so that `import os` stays instant.
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// The fields of `os.stat_result` that are also its tuple items, in order.
let statResultFields = ["st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size",
                        "st_atime", "st_mtime", "st_ctime"]

/// The fields of `os.uname_result`.
let unameResultFields = ["sysname", "nodename", "release", "version", "machine"]

/// `os.stat_result`: a 10-item tuple (times as whole seconds) whose attributes also give
/// the times as floats and in nanoseconds, and st_blksize, st_blocks, st_rdev. The extra
/// values live in the tuple's attribute dict, written once before it is returned.
func installStatResult(_ t: PyType) {
    for (i, n) in statResultFields.enumerated() where i < 7 {
        t.getter(n) { _, s in (s.object as! PyTuple).items[i] }
    }
    for n in ["st_atime", "st_mtime", "st_ctime", "st_atime_ns", "st_mtime_ns", "st_ctime_ns", "st_blksize", "st_blocks", "st_rdev"] {
        t.getter(n) { u, s in try (s.object as! PyTuple).subclassAttributes?.get(u, .str(n)) ?? .none }
    }
}

/// An `os.stat_result` from a C `stat`.
func statResult(_ u: Unit, _ st: stat) -> Value {
    func seconds(_ t: timespec) -> Double { Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }
    func nanoseconds(_ t: timespec) -> Int { Int(t.tv_sec) * 1_000_000_000 + Int(t.tv_nsec) }
    let items: [Value] = [.int(Int(st.st_mode)), .int(Int(st.st_ino)), .int(Int(st.st_dev)), .int(Int(st.st_nlink)),
                          .int(Int(st.st_uid)), .int(Int(st.st_gid)), .int(Int(st.st_size)),
                          .int(Int(st.st_atim.tv_sec)), .int(Int(st.st_mtim.tv_sec)), .int(Int(st.st_ctim.tv_sec))]
    let r = PyTuple(items, type: Types.statResult)
    let extra = PyDict()
    let pairs: [(String, Value)] = [
        ("st_atime", .float(seconds(st.st_atim))), ("st_mtime", .float(seconds(st.st_mtim))), ("st_ctime", .float(seconds(st.st_ctim))),
        ("st_atime_ns", .int(nanoseconds(st.st_atim))), ("st_mtime_ns", .int(nanoseconds(st.st_mtim))),
        ("st_ctime_ns", .int(nanoseconds(st.st_ctim))), ("st_blksize", .int(Int(st.st_blksize))),
        ("st_blocks", .int(Int(st.st_blocks))), ("st_rdev", .int(Int(st.st_rdev))),
    ]
    for (k, v) in pairs { extra.set(u, k, v) }
    r.subclassAttributes = extra
    return .obj(r)
}

extension Engine {
    /// The descriptor, file-system and process-group functions and constants of `os`.
    func osFileFunctions() -> [(String, Value)] {
        func fd(_ u: Unit, _ v: Value) throws -> Int32 { try u.cIntArg(v) }
        /// Retries `call` while it fails with EINTR (polling for Ctrl-C between tries).
        func retrying<T: BinaryInteger>(_ u: Unit, _ call: () -> T) throws -> T {
            while true {
                let r = call()
                if r >= 0 { return r }
                if errno == EINTR { try u.checkInterrupt(); continue }
                throw osError(errno)
            }
        }
        func statOf(_ u: Unit, _ a: Args, _ name: String, follow: Bool) throws -> Value {
            try a.expect(name, 1, 1, keywords: ["path", "dir_fd", "follow_symlinks"])
            guard let target = a.argument(0, "path") else { throw typeError("\(name)() missing required argument 'path' (pos 1)") }
            let followLinks = try follow && (a.argument(2, "follow_symlinks").map { try u.isTruthy($0) } ?? true)
            var st = Glibc.stat()
            if target.asStr == nil, case .int = target {
                if fstat(try fd(u, target), &st) != 0 { throw osError(errno) }
                return statResult(u, st)
            }
            let path = try u.osPath(target, name, fd: true)
            let r = followLinks ? stat(path, &st) : lstat(path, &st)
            if r != 0 { throw osError(errno, path: target) }
            return statResult(u, st)
        }
        return [
            ("stat_result", .obj(Types.statResult)),
            native("stat") { u, a in try statOf(u, a, "stat", follow: true) },
            native("lstat") { u, a in try statOf(u, a, "lstat", follow: false) },
            native("fstat") { u, a in
                try a.expect("fstat", 1, 1)
                var st = Glibc.stat()
                if fstat(try fd(u, a[0]), &st) != 0 { throw osError(errno) }
                return statResult(u, st)
            },
            native("makedirs") { u, a in
                try a.expect("makedirs", 1, 3, keywords: ["name", "mode", "exist_ok"])
                guard let nameArg = a.argument(0, "name") else { throw typeError("makedirs() missing 1 required positional argument: 'name'") }
                let path = try u.osPath(nameArg, "makedirs")
                let mode = mode_t(truncatingIfNeeded: try a.argument(1, "mode").map { try u.toIndex($0) } ?? 0o777)
                let existOK = try a.argument(2, "exist_ok").map { try u.isTruthy($0) } ?? false
                // Each missing folder on the way, then the leaf, as CPython's makedirs.
                var prefix = path.hasPrefix("/") ? "/" : ""
                let parts = path.split(separator: "/").map(String.init)
                var made = false
                for (i, part) in parts.enumerated() {
                    prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
                    let isLeaf = i == parts.count - 1
                    // `new/.` exists once `new` was made here; `.` alone, or under folders
                    // that were there, is an existing folder (FileExistsError), as CPython's.
                    let err: Int32
                    if part == "." || part == ".." {
                        if !isLeaf || made { continue }
                        err = EEXIST
                    } else if mkdir(prefix, isLeaf ? mode : 0o777) == 0 {
                        made = true
                        continue
                    } else {
                        err = errno
                    }
                    var st = Glibc.stat()
                    let isDirectory = stat(prefix, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
                    if err == EEXIST && isDirectory && (!isLeaf || existOK) { continue }
                    throw osError(err, path: isLeaf ? nameArg : .str(prefix))
                }
                return .none
            },
            native("removedirs") { u, a in
                try a.expect("removedirs", 1, 1, keywords: ["name"])
                guard let nameArg = a.argument(0, "name") else { throw typeError("removedirs() missing 1 required positional argument: 'name'") }
                var path = try u.osPath(nameArg, "removedirs")
                if rmdir(path) != 0 { throw osError(errno, path: nameArg) }
                // Then each parent that is now empty, until one is not.
                while let slash = path.lastIndex(of: "/"), slash != path.startIndex {
                    path = String(path[..<slash])
                    if rmdir(path) != 0 { break }
                }
                return .none
            },
            native("replace") { u, a in
                try a.expect("replace", 2, 2)
                if rename(try u.osPath(a[0], "replace", "src"), try u.osPath(a[1], "replace", "dst")) != 0 { throw osError(errno, path: a[0], path2: a[1]) }
                return .none
            },
            native("symlink") { u, a in
                try a.expect("symlink", 2, 3, keywords: ["src", "dst", "target_is_directory"])
                if symlink(try u.osPath(a[0], "symlink", "src"), try u.osPath(a[1], "symlink", "dst")) != 0 { throw osError(errno, path: a[0], path2: a[1]) }
                return .none
            },
            native("link") { u, a in
                try a.expect("link", 2, 2, keywords: ["src", "dst"])
                if link(try u.osPath(a[0], "link", "src"), try u.osPath(a[1], "link", "dst")) != 0 { throw osError(errno, path: a[0], path2: a[1]) }
                return .none
            },
            native("readlink") { u, a in
                try a.expect("readlink", 1, 1, keywords: ["path"])
                let path = try u.osPath(a[0], "readlink")
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(path, &buffer, buffer.count - 1)
                if n < 0 { throw osError(errno, path: a[0]) }
                let target = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if case .obj(let o) = a[0], o is PyBytes { return .obj(PyBytes(Array(target.utf8))) }
                return .str(target)
            },
            native("truncate") { u, a in
                try a.expect("truncate", 2, 2, keywords: ["path", "length"])
                let length = off_t(try u.toIndex(a[1]))
                let r: Int32
                if case .int = a[0] { r = ftruncate(try fd(u, a[0]), length) } else { r = truncate(try u.osPath(a[0], "truncate"), length) }
                if r != 0 { throw osError(errno, path: a[0]) }
                return .none
            },
            native("utime") { u, a in
                // utime(path, times=None): (atime, mtime) in seconds, or now.
                try a.expect("utime", 1, 2, keywords: ["path", "times", "ns"])
                let path = try u.osPath(a[0], "utime")
                let now = timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1)  // UTIME_NOW (not imported)
                var spec = [now, now]
                let times = a.argument(1, "times").flatMap { $0.isNone ? nil : $0 }
                if let ns = a.keyword("ns") {
                    if times != nil { throw valueError("utime: you may specify either 'times' or 'ns' but not both") }
                    guard case .obj(let o) = ns, let t = o as? PyTuple, t.items.count == 2 else {
                        throw typeError("utime: 'ns' must be a tuple of two ints")
                    }
                    for i in 0..<2 {
                        let n = try u.toIndex(t.items[i])
                        spec[i] = timespec(tv_sec: n / 1_000_000_000, tv_nsec: n % 1_000_000_000)
                    }
                }
                if let times {
                    guard case .obj(let o) = times, let t = o as? PyTuple, t.items.count == 2 else {
                        throw typeError("utime: 'times' must be either a tuple of two ints or None")
                    }
                    for i in 0..<2 {
                        let seconds = try u.floatArg(t.items[i])
                        let whole = seconds.rounded(.down)
                        spec[i] = timespec(tv_sec: Int(whole), tv_nsec: Int(((seconds - whole) * 1e9).rounded()))
                    }
                }
                if utimensat(AT_FDCWD, path, &spec, 0) != 0 { throw osError(errno, path: a[0]) }
                return .none
            },
            native("access") { u, a in
                try a.expect("access", 2, 2, keywords: ["path", "mode"])
                return .bool(access(try u.osPath(a[0], "access"), try u.cIntArg(a[1])) == 0)
            },
            native("chmod") { u, a in
                try a.expect("chmod", 2, 2, keywords: ["path", "mode"])
                if chmod(try u.osPath(a[0], "chmod", fd: true), mode_t(truncatingIfNeeded: try u.toIndex(a[1]))) != 0 { throw osError(errno, path: a[0]) }
                return .none
            },
            native("umask") { u, a in
                try a.expect("umask", 1, 1)
                return .int(Int(umask(mode_t(bitPattern: try u.cIntArg(a[0])))))
            },
            native("pipe") { _, a in
                try a.expect("pipe", 0, 0)
                var fds: [Int32] = [0, 0]
                if pipe(&fds) != 0 { throw osError(errno) }
                // Not inherited by programs os.system() runs, as CPython's (PEP 446).
                for d in fds { _ = fcntl(d, F_SETFD, FD_CLOEXEC) }
                return .obj(PyTuple([.int(Int(fds[0])), .int(Int(fds[1]))]))
            },
            native("read") { u, a in
                try a.expect("read", 2, 2)
                let descriptor = try fd(u, a[0])
                let n = try u.toIndex(a[1])
                if n < 0 { throw valueError("negative count") }   // CPython: "negative count"
                try checkBuildSize(n)
                var buffer = [UInt8](repeating: 0, count: n)
                // A read may wait for the other end of a pipe: it blocks this unit only.
                let got = try retrying(u) { u.blockingCall { buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, n) } } }
                return .obj(PyBytes(Array(buffer[..<got])))
            },
            native("write") { u, a in
                try a.expect("write", 2, 2)
                let descriptor = try fd(u, a[0])
                guard case .obj(let o) = a[1], let data = o as? PyBytes else {
                    throw typeError("a bytes-like object is required, not '\(a[1].typeName)'")
                }
                let bytes = data.snapshot
                let wrote = try retrying(u) { u.blockingCall { bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, bytes.count) } } }
                return .int(wrote)
            },
            native("close") { u, a in
                try a.expect("close", 1, 1)
                if Glibc.close(try fd(u, a[0])) != 0 { throw osError(errno) }
                return .none
            },
            native("open") { u, a in
                try a.expect("open", 2, 3, keywords: ["path", "flags", "mode"])
                let path = try u.osPath(a[0], "open")
                let flags = try u.cIntArg(a[1]) | Int32(O_CLOEXEC)
                let mode = mode_t(truncatingIfNeeded: try a.argument(2, "mode").map { try u.toIndex($0) } ?? 0o777)
                let r = try retrying(u) { u.blockingCall { Glibc.open(path, flags, mode) } }
                return .int(Int(r))
            },
            native("dup") { u, a in
                try a.expect("dup", 1, 1)
                let r = fcntl(try fd(u, a[0]), F_DUPFD_CLOEXEC, 0)
                if r < 0 { throw osError(errno) }
                return .int(Int(r))
            },
            native("dup2") { u, a in
                try a.expect("dup2", 2, 3, keywords: ["fd", "fd2", "inheritable"])
                let r = dup2(try fd(u, a[0]), try fd(u, a[1]))
                if r < 0 { throw osError(errno) }
                return .int(Int(r))
            },
            native("lseek") { u, a in
                try a.expect("lseek", 3, 3)
                let r = lseek(try fd(u, a[0]), off_t(try u.toIndex(a[1])), try u.cIntArg(a[2]))
                if r < 0 { throw osError(errno) }
                return .int(Int(r))
            },
            native("isatty") { u, a in
                try a.expect("isatty", 1, 1)
                return .bool(isatty(try fd(u, a[0])) == 1)
            },
            native("fsync") { u, a in
                try a.expect("fsync", 1, 1)
                var descriptor: Int32
                if case .obj = a[0], let fileno = try u.getAttrOrNil(a[0], "fileno") {
                    descriptor = try fd(u, try u.call(fileno, []))
                } else {
                    descriptor = try fd(u, a[0])
                }
                if fsync(descriptor) != 0 { throw osError(errno) }
                return .none
            },
            native("strerror") { u, a in
                try a.expect("strerror", 1, 1)
                return .str(String(cString: Glibc.strerror(try u.cIntArg(a[0]))))
            },
            native0("getuid", qualified: "posix.getuid") { _ in .int(Int(getuid())) },
            native0("geteuid", qualified: "posix.geteuid") { _ in .int(Int(geteuid())) },
            native0("getgid", qualified: "posix.getgid") { _ in .int(Int(getgid())) },
            native0("getegid", qualified: "posix.getegid") { _ in .int(Int(getegid())) },
            native0("getpgrp", qualified: "posix.getpgrp") { _ in .int(Int(getpgrp())) },
            native("getpgid") { u, a in
                try a.expect("getpgid", 1, 1)
                let r = getpgid(try u.pidArg(a[0]))
                if r < 0 { throw osError(errno) }
                return .int(Int(r))
            },
            native("getsid") { u, a in
                try a.expect("getsid", 1, 1)
                let r = getsid(try u.pidArg(a[0]))
                if r < 0 { throw osError(errno) }
                return .int(Int(r))
            },
            native("setsid") { _, a in
                try a.expect("setsid", 0, 0)
                if setsid() < 0 { throw osError(errno) }
                return .none
            },
            native("setpgrp") { _, a in
                try a.expect("setpgrp", 0, 0)
                if setpgid(0, 0) != 0 { throw osError(errno) }
                return .none
            },
            native("killpg") { u, a in
                try a.expect("killpg", 2, 2)
                if killpg(try u.pidArg(a[0]), try u.pidArg(a[1])) != 0 { throw osError(errno) }
                try u.checkInterrupt()
                return .none
            },
            native("getloadavg") { _, a in
                try a.expect("getloadavg", 0, 0)
                var loads = [Double](repeating: 0, count: 3)
                if getloadavg(&loads, 3) != 3 { throw pyError(Exc.osError, "Load averages are unobtainable") }
                return .obj(PyTuple(loads.map { .float($0) }))
            },
            native0("sched_yield", qualified: "posix.sched_yield") { _ in sched_yield(); return .none },
            // The CPUs the process may run on (len() of it is the usable CPU count).
            native("sched_getaffinity") { u, a in
                let pid = try u.pidArg(try ContainerArgs.one(a, "posix.sched_getaffinity"))
                var cpus = [Int32](repeating: 0, count: 1024)
                let n = CConcSys_sched_getaffinity(pid, &cpus, Int32(cpus.count))
                if n < 0 { throw osError(errno) }
                let s = PySet()
                for cpu in cpus[0..<Int(n)] { try s.add(u, .int(Int(cpu))) }
                return .obj(s)
            },
            native("uname") { _, a in
                try a.expect("uname", 0, 0)
                var info = utsname()
                if Glibc.uname(&info) != 0 { throw osError(errno) }
                func field<T>(_ value: T) -> Value {
                    withUnsafeBytes(of: value) { .str(String(cString: $0.bindMemory(to: CChar.self).baseAddress!)) }
                }
                return .obj(PyTuple([field(info.sysname), field(info.nodename), field(info.release), field(info.version),
                                     field(info.machine)], type: Types.unameResult))
            },
            native("system") { u, a in
                try a.expect("system", 1, 1, keywords: ["command"])
                let command = try u.stringArg(a[0], "command")
                // No flush, as CPython's: piped output printed before may come after the command's.
                return .int(Int(try u.runShellCommand(command)))
            },
            ("O_RDONLY", .int(Int(O_RDONLY))), ("O_WRONLY", .int(Int(O_WRONLY))), ("O_RDWR", .int(Int(O_RDWR))),
            ("O_CREAT", .int(Int(O_CREAT))), ("O_EXCL", .int(Int(O_EXCL))), ("O_TRUNC", .int(Int(O_TRUNC))),
            ("O_APPEND", .int(Int(O_APPEND))), ("O_NONBLOCK", .int(Int(O_NONBLOCK))), ("O_CLOEXEC", .int(Int(O_CLOEXEC))),
            ("F_OK", .int(Int(F_OK))), ("R_OK", .int(Int(R_OK))), ("W_OK", .int(Int(W_OK))), ("X_OK", .int(Int(X_OK))),
            ("SEEK_SET", .int(Int(SEEK_SET))), ("SEEK_CUR", .int(Int(SEEK_CUR))), ("SEEK_END", .int(Int(SEEK_END))),
            ("devnull", .str("/dev/null")), ("pathsep", .str(":")), ("extsep", .str(".")), ("altsep", .none),
            ("defpath", .str("/bin:/usr/bin")), ("error", .obj(Exc.osError)),
        ]
    }
}

extension Unit {
    /// `os.system(command)`: runs `/bin/sh -c command` (posix_spawn, safe with other
    /// threads running) and waits for it without holding up other units; the wait
    /// status, as CPython returns it.
    func runShellCommand(_ command: String) throws -> Int32 {
        var pid: pid_t = 0
        let args = ["/bin/sh", "-c", command]
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        let r = posix_spawn(&pid, "/bin/sh", nil, nil, &cArgs, environ)
        if r != 0 { throw osError(r) }
        return try waitForChild(pid, options: 0).1   // os.waitpid's wait: EINTR, Ctrl-C
    }
}
