// The clocks and time-zone values of `time` beyond time()/monotonic()/perf_counter():
// the *_ns variants, thread_time, clock_gettime/clock_getres/clock_settime with the CLOCK_* ids, and
// timezone/altzone/daylight/tzname (computed as CPython does, from January and July of
// this year). get_clock_info and strptime are Conc code (_time_extras.conc).
#if canImport(Glibc)
import Glibc
#endif

/// Reads `clock` (a CLOCK_* id), or raises CPython's OSError for a bad id.
func readClock(_ clock: clockid_t) throws -> timespec {
    var ts = timespec()
    if clock_gettime(clock, &ts) != 0 { throw osError(errno) }
    return ts
}

/// A clock reading as time_ns() and friends give it: an int of nanoseconds.
func nanosecondsValue(_ ts: timespec) -> Value { .int(ts.tv_sec * 1_000_000_000 + ts.tv_nsec) }
/// A clock reading as time() and friends give it: float seconds.
func secondsValue(_ ts: timespec) -> Value { .float(Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9) }

extension Engine {
    func timeClockEntries() -> [(String, Value)] {
        func clockArg(_ u: Unit, _ a: Args, _ name: String) throws -> clockid_t {
            if !a.keywords.isEmpty { throw typeError("\(name)() takes no keyword arguments") }
            if a.count != 1 { throw typeError("time.\(name)() takes exactly one argument (\(a.count) given)") }
            return clockid_t(truncatingIfNeeded: try u.toIndex(a[0]))
        }
        var entries: [(String, Value)] = [
            native0("perf_counter_ns", qualified: "time.perf_counter_ns") { _ in nanosecondsValue(try readClock(CLOCK_MONOTONIC)) },
            native0("monotonic_ns", qualified: "time.monotonic_ns") { _ in nanosecondsValue(try readClock(CLOCK_MONOTONIC)) },
            native0("process_time_ns", qualified: "time.process_time_ns") { _ in nanosecondsValue(try readClock(CLOCK_PROCESS_CPUTIME_ID)) },
            // The CPU time of the calling OS thread (the GIL lesson's measure of who ran).
            native0("thread_time", qualified: "time.thread_time") { _ in secondsValue(try readClock(CLOCK_THREAD_CPUTIME_ID)) },
            native0("thread_time_ns", qualified: "time.thread_time_ns") { _ in nanosecondsValue(try readClock(CLOCK_THREAD_CPUTIME_ID)) },
            native("clock_gettime") { u, a in secondsValue(try readClock(try clockArg(u, a, "clock_gettime"))) },
            native("clock_gettime_ns") { u, a in nanosecondsValue(try readClock(try clockArg(u, a, "clock_gettime_ns"))) },
            native("clock_getres") { u, a in
                var ts = timespec()
                if clock_getres(try clockArg(u, a, "clock_getres"), &ts) != 0 { throw osError(errno) }
                return secondsValue(ts)
            },
            // Setting a clock (root only for CLOCK_REALTIME; the others refuse with EINVAL).
            native("clock_settime") { u, a in
                try a.expect("clock_settime", 2, 2)
                let clock = clockid_t(truncatingIfNeeded: try u.toIndex(a[0]))
                let seconds: Double
                if case .float(let d) = a[1].unboxedNumber { seconds = d } else { seconds = Double(try u.toIndex(a[1])) }
                guard seconds.isFinite, abs(seconds) < 9.2e9 else { throw overflowError("timestamp too large to convert to C _PyTime_t") }
                let whole = seconds.rounded(.down)
                var ts = timespec(tv_sec: Int(whole), tv_nsec: Int(((seconds - whole) * 1e9).rounded(.down)))
                if clock_settime(clock, &ts) != 0 { throw osError(errno) }
                return .none
            },
            native("clock_settime_ns") { u, a in
                try a.expect("clock_settime_ns", 2, 2)
                let clock = clockid_t(truncatingIfNeeded: try u.toIndex(a[0]))
                guard case .int(let ns) = a[1].unboxedNumber else { throw typeError("expect int, got \(a[1].typeName)") }
                let (q, r) = ns.quotientAndRemainder(dividingBy: 1_000_000_000)
                var ts = r < 0 ? timespec(tv_sec: q - 1, tv_nsec: r + 1_000_000_000) : timespec(tv_sec: q, tv_nsec: r)
                if clock_settime(clock, &ts) != 0 { throw osError(errno) }
                return .none
            },
            native0("tzset", qualified: "time.tzset") { u in
                tzset()
                // The module's values follow the new zone, as CPython's tzset() updates them.
                if let m = u.engine.modules["time"] {
                    for (k, v) in timeZoneValues() { m.globals.set(k, v) }
                }
                return .none
            },
        ]
        for (name, id) in [("CLOCK_REALTIME", CLOCK_REALTIME), ("CLOCK_MONOTONIC", CLOCK_MONOTONIC),
                           ("CLOCK_MONOTONIC_RAW", CLOCK_MONOTONIC_RAW), ("CLOCK_PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID),
                           ("CLOCK_THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID), ("CLOCK_BOOTTIME", CLOCK_BOOTTIME),
                           ("CLOCK_TAI", CLOCK_TAI)] {
            entries.append((name, .int(Int(id))))
        }
        tzset()
        return entries + timeZoneValues()
    }
}

/// timezone, altzone, daylight and tzname, from the zone's offsets and names in January
/// and July of the current year (CPython's init_timezone): west of UTC is positive.
private func timeZoneValues() -> [(String, Value)] {
    var now = time(nil)
    var current = tm()
    localtime_r(&now, &current)
    func zone(month: Int32) -> (offset: Int, name: String) {
        var t = tm()
        t.tm_year = current.tm_year
        t.tm_mon = month
        t.tm_mday = 1
        t.tm_hour = 12
        t.tm_isdst = -1
        var seconds = mktime(&t)
        var local = tm()
        localtime_r(&seconds, &local)
        let name = local.tm_zone.map { String(cString: $0) } ?? ""
        return (-local.tm_gmtoff, name)
    }
    let january = zone(month: 0), july = zone(month: 6)
    // In the southern hemisphere summer time is in January.
    let (standard, summer) = january.offset < july.offset ? (july, january) : (january, july)
    return [
        ("timezone", .int(standard.offset)),
        ("altzone", .int(summer.offset)),
        ("daylight", .int(standard.offset != summer.offset ? 1 : 0)),
        ("tzname", .obj(PyTuple([.str(standard.name), .str(summer.name)]))),
    ]
}
