// Output that other units write while the REPL waits for a line: queued by the writing
// thread, then shown above the prompt by the REPL's own thread, the only one that may
// touch the line editor.
import CConcSys
@preconcurrency import Glibc

/// A queue of (text, isError) pieces plus a self-pipe that wakes the REPL's poll().
/// The pipe's read end is also the SIGINT wake-up fd, so Ctrl-C wakes the same poll.
final class AsyncOutput: @unchecked Sendable {  // `pending` is guarded by `lock`; the fds never change after init
    private var lock = pthread_mutex_t()
    /// Text waiting to be shown, oldest first; `true` marks stderr.
    private var pending: [(String, Bool)] = []
    /// The self-pipe: the REPL polls `readFD`; writers and the SIGINT handler write `writeFD`.
    let readFD: Int32
    let writeFD: Int32

    init() {
        pthread_mutex_init(&lock, nil)
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    /// Queues whole lines from any thread and wakes the REPL.
    func enqueue(_ text: String, isError: Bool) {
        pthread_mutex_lock(&lock)
        pending.append((text, isError))
        pthread_mutex_unlock(&lock)
        var b: UInt8 = 1
        _ = Glibc.write(writeFD, &b, 1)
    }

    /// Empties the pipe and returns the queued text.
    func take() -> [(String, Bool)] {
        var buf = [UInt8](repeating: 0, count: 256)
        while Glibc.read(readFD, &buf, buf.count) > 0 {}
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        let out = pending
        pending.removeAll()
        return out
    }
}

/// Writes all of `s` to `fd`, retrying after EINTR.
func writeAll(_ fd: Int32, _ s: String) {
    var s = s
    s.withUTF8 { _ = CConcSys_write_all(fd, $0.baseAddress, $0.count) }
}
