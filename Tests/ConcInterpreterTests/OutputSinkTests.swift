// The output sink's interceptor, which the REPL uses to show other units' output above the
// prompt: text written from another thread arrives through the hook in whole lines.
import Testing
@testable import ConcInterpreter
#if canImport(Glibc)
import Glibc
#endif

/// Collects what a hook or a closure target receives (from any thread).
private final class Received: @unchecked Sendable {  // `parts` is guarded by `lock`
    private var lock = pthread_mutex_t()
    private var parts: [String] = []
    init() { pthread_mutex_init(&lock, nil) }
    func append(_ s: String) { pthread_mutex_lock(&lock); parts.append(s); pthread_mutex_unlock(&lock) }
    var all: [String] { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; return parts }
}

/// Runs `body` on a new pthread and waits for it.
private func onOtherThread(_ body: @escaping () -> Void) {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
    var tid = pthread_t()
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    pthread_create(&tid, nil, { arg in
        Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
        return nil
    }, box)
    pthread_join(tid, nil)
}

@Test func interceptedOutputArrivesInWholeLinesFromAnotherThread() {
    let target = Received(), hooked = Received()
    let sink = OutputSink(.closure({ target.append($0) }))
    sink.write("before\n")
    sink.intercept { hooked.append($0) }
    onOtherThread {
        sink.write("par")
        sink.write("tial\nsecond line\nthird ")
        sink.flush()  // a flush must not push out the partial line while intercepted
        sink.write("line\n")
        sink.write("tail")
    }
    #expect(hooked.all == ["partial\nsecond line\n", "third line\n"])
    sink.intercept(nil)
    // The partial last line goes to the target once the hook is removed.
    #expect(target.all == ["before\n", "tail"])
    sink.write("after\n")
    #expect(hooked.all.count == 2)
    #expect(target.all.last == "after\n")
}

@Test func interceptingAnFdSinkFlushesWhatWasBufferedFirst() {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    defer { close(fds[0]) }
    let hooked = Received()
    let sink = OutputSink(.fd(fds[1]), lineBuffered: false)
    sink.write("buffered ")
    sink.intercept { hooked.append($0) }
    onOtherThread { sink.write("from a thread\n") }
    sink.intercept(nil)
    close(fds[1])
    var buf = [UInt8](repeating: 0, count: 64)
    let n = read(fds[0], &buf, 64)
    #expect(String(decoding: buf[0..<max(n, 0)], as: UTF8.self) == "buffered ")
    #expect(hooked.all == ["from a thread\n"])
}
