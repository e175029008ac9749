// `resource`: what a process costs (getrusage, and the struct_rusage os.wait3/wait4 give)
// and the limits it runs under (getrlimit/setrlimit), as CPython's module on Linux.
import Glibc

let structRusageFields = ["ru_utime", "ru_stime", "ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss", "ru_minflt",
                          "ru_majflt", "ru_nswap", "ru_inblock", "ru_oublock", "ru_msgsnd", "ru_msgrcv",
                          "ru_nsignals", "ru_nvcsw", "ru_nivcsw"]

/// `resource.struct_rusage` of `r`: the two times in seconds, then the counters.
func rusageValue(_ r: rusage) -> Value {
    func seconds(_ t: timeval) -> Value { .float(Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000) }
    let counters = [r.ru_maxrss, r.ru_ixrss, r.ru_idrss, r.ru_isrss, r.ru_minflt, r.ru_majflt, r.ru_nswap,
                    r.ru_inblock, r.ru_oublock, r.ru_msgsnd, r.ru_msgrcv, r.ru_nsignals, r.ru_nvcsw, r.ru_nivcsw]
    return .obj(PyTuple([seconds(r.ru_utime), seconds(r.ru_stime)] + counters.map { .int(Int($0)) },
                        type: Types.structRusage))
}

extension Engine {
    /// Linux's resource numbers, in CPython's names.
    static let resourceLimits: [(String, Int)] = [
        ("RLIMIT_CPU", 0), ("RLIMIT_FSIZE", 1), ("RLIMIT_DATA", 2), ("RLIMIT_STACK", 3), ("RLIMIT_CORE", 4),
        ("RLIMIT_RSS", 5), ("RLIMIT_NPROC", 6), ("RLIMIT_NOFILE", 7), ("RLIMIT_MEMLOCK", 8), ("RLIMIT_AS", 9),
        ("RLIMIT_LOCKS", 10), ("RLIMIT_SIGPENDING", 11), ("RLIMIT_MSGQUEUE", 12), ("RLIMIT_NICE", 13),
        ("RLIMIT_RTPRIO", 14), ("RLIMIT_RTTIME", 15),
    ]

    func makeResourceModule() -> PyModule {
        var entries: [(String, Value)] = Engine.resourceLimits.map { ($0.0, .int($0.1)) }
        entries += [
            ("RLIM_NLIMITS", .int(16)),
            // rlim_t's infinity read as a signed number, as CPython shows it.
            ("RLIM_INFINITY", .int(-1)),
            ("RUSAGE_SELF", .int(Int(RUSAGE_SELF.rawValue))), ("RUSAGE_CHILDREN", .int(Int(RUSAGE_CHILDREN.rawValue))),
            ("RUSAGE_THREAD", .int(1)),
            ("error", .obj(Exc.osError)),
            ("struct_rusage", .obj(Types.structRusage)),
            native("getrusage") { u, a in
                try a.expect("getrusage", 1, 1)
                let who = try u.cIntArg(a[0])
                var r = rusage()
                guard getrusage(__rusage_who_t(who), &r) == 0 else {
                    if errno == EINVAL { throw valueError("invalid who parameter") }
                    throw osError(errno)
                }
                return rusageValue(r)
            },
            native("getrlimit") { u, a in
                try a.expect("getrlimit", 1, 1)
                let which = try resourceNumber(u, a[0])
                var limit = rlimit()
                guard getrlimit(__rlimit_resource_t(which), &limit) == 0 else { throw osError(errno) }
                return .obj(PyTuple([limitValue(limit.rlim_cur), limitValue(limit.rlim_max)]))
            },
            native("setrlimit") { u, a in
                try a.expect("setrlimit", 2, 2)
                let which = try resourceNumber(u, a[0])
                let pair = try u.toArray(a[1])
                guard pair.count == 2 else { throw valueError("expected a tuple of 2 integers") }
                var limit = rlimit(rlim_cur: try limitArgument(u, pair[0]), rlim_max: try limitArgument(u, pair[1]))
                guard setrlimit(__rlimit_resource_t(which), &limit) == 0 else {
                    if errno == EINVAL { throw valueError("current limit exceeds maximum limit") }
                    if errno == EPERM { throw valueError("not allowed to raise maximum limit") }
                    throw osError(errno)
                }
                return .none
            },
            native("getpagesize") { _, a in
                try a.expect("getpagesize", 0, 0)
                return .int(Int(sysconf(Int32(_SC_PAGESIZE))))
            },
        ]
        return nativeModule("resource", entries)
    }
}

/// A resource number getrlimit/setrlimit accept.
private func resourceNumber(_ u: Unit, _ v: Value) throws -> Int32 {
    let n = try u.cIntArg(v)
    guard n >= 0 && n < 16 else { throw valueError("invalid resource specified") }
    return n
}

/// A limit as CPython shows it: RLIM_INFINITY (rlim_t.max) is -1.
private func limitValue(_ l: rlim_t) -> Value { l == rlim_t.max ? .int(-1) : .int(Int(l)) }

/// A limit given to setrlimit: -1 (RLIM_INFINITY) or a count.
private func limitArgument(_ u: Unit, _ v: Value) throws -> rlim_t {
    let n = try u.toIndex(v)
    return n < 0 ? rlim_t.max : rlim_t(n)  // rlim_t.max: RLIM_INFINITY
}
