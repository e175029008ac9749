// Where a program's stdout/stderr go: a file descriptor (buffered like CPython's streams)
// or a Swift closure (embedding captures output).
#if canImport(Glibc)
import Glibc
#endif

/// A text output stream shared by every unit of one interpreter.
///
/// `write` is atomic per call: a whole `print` line is written in one call, so lines from
/// different units never interleave mid-line. Guarded by `lock`.
public final class OutputSink: @unchecked Sendable {  // all mutable state is guarded by `lock`
    public enum Target {
        case fd(Int32)
        case closure(@Sendable (String) -> Void)
    }
    private let target: Target
    private var buffer: [UInt8] = []
    private var lock = pthread_mutex_t()
    /// Flush after every newline (a terminal) or only when the buffer fills (pipes, files).
    public var lineBuffered: Bool

    public init(_ target: Target, lineBuffered: Bool? = nil) {
        self.target = target
        if case .fd(let fd) = target { self.lineBuffered = lineBuffered ?? (isatty(fd) != 0) }
        else { self.lineBuffered = true }
        pthread_mutex_init(&lock, nil)
    }

    public func write(_ s: String) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        switch target {
        case .closure(let f):
            f(s)
        case .fd:
            buffer.append(contentsOf: s.utf8)
            if buffer.count >= 8192 || (lineBuffered && s.utf8.contains(10)) { flushLocked() }
        }
    }

    /// In a forked child: the mutex may have been held by a thread that does not exist
    /// there; the buffer was flushed before the fork.
    public func resetAfterFork() {
        pthread_mutex_init(&lock, nil)
        buffer.removeAll(keepingCapacity: true)
    }

    public func flush() {
        pthread_mutex_lock(&lock)
        flushLocked()
        pthread_mutex_unlock(&lock)
    }

    private func flushLocked() {
        guard case .fd(let fd) = target, !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; break }
                off += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
