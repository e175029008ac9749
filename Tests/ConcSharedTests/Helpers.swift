// Shared helpers for the CConcShared tests: threads (plain pthreads, so closures need not be
// Sendable), child reaping, conc_block over Swift closures, timing.
import CConcShared
import CConcSharedTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// 256 MiB reserved, lazily touched.
let arenaReserve = 256 << 20

/// This process's unit `n`.
func unit(_ n: UInt32) -> UInt64 { conc_unit_make(getpid(), n) }

/// Converts a typed primitive pointer into the common-header pointer (both are opaque).
func prim(_ p: OpaquePointer) -> OpaquePointer { p }

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts a pthread running `body`.
func spawn(_ body: @escaping () -> Void) -> pthread_t {
    var t = pthread_t()
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let rc = pthread_create(&t, nil, { p in
        Unmanaged<ThreadBody>.fromOpaque(p!).takeRetainedValue().body()
        return nil
    }, box)
    precondition(rc == 0, "pthread_create failed")
    return t
}

func join(_ threads: [pthread_t]) { for t in threads { pthread_join(t, nil) } }

/// Waits for a child; returns (exited normally, exit code or signal number).
func reap(_ pid: pid_t) -> (exited: Bool, code: Int32) {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let sig = status & 0x7f
    return sig == 0 ? (true, (status >> 8) & 0xff) : (false, sig)
}

func assertChildOK(_ pid: pid_t, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertGreaterThan(pid, 0, "fork failed", file: file, line: line)
    let r = reap(pid)
    XCTAssertTrue(r.exited && r.code == 0, "child: exited=\(r.exited) code=\(r.code)", file: file, line: line)
}

private final class Attempt {
    let f: () -> conc_result
    init(_ f: @escaping () -> conc_result) { self.f = f }
}

/// conc_block over a Swift closure; `stopWhenSet` (an event) plays Ctrl-C.
func block(_ p: OpaquePointer, timeout: Int64, stopWhenSet stop: OpaquePointer? = nil,
           _ attempt: @escaping () -> conc_result) -> conc_result {
    let box = Attempt(attempt)
    return withExtendedLifetime(box) {
        conc_block(
            p, { ctx in Unmanaged<Attempt>.fromOpaque(ctx!).takeUnretainedValue().f() },
            Unmanaged.passUnretained(box).toOpaque(), timeout,
            stop == nil ? nil : { ctx in conc_event_is_set(OpaquePointer(ctx!)) },
            stop.map { UnsafeMutableRawPointer($0) })
    }
}

/// Polls `cond` (yielding) until true or `seconds` pass. For waiting on another unit's
/// progress without guessing a sleep length.
@discardableResult
func eventually(_ seconds: Double = 10, _ cond: () -> Bool) -> Bool {
    let end = conc_now_ns() + Int64(seconds * 1e9)
    while !cond() {
        if conc_now_ns() > end { return false }
        sched_yield()
    }
    return true
}

/// Seconds since `start` (a conc_now_ns value).
func since(_ start: Int64) -> Double { Double(conc_now_ns() - start) / 1e9 }

let forever: Int64 = -1
let tenSeconds: Int64 = 10_000_000_000

/// The NUL-terminated string in `buf`.
func cstr(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
