// Where a program's stdout/stderr go: a file descriptor (buffered like CPython's streams)
// or a Swift closure (embedding captures output).
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// A text output stream shared by every unit of one interpreter.
///
/// `write` is atomic per call: one `print` is written whole, so two units' prints never
/// split each other (LANGUAGE.md §4). Text goes out in the order of the calls, as
/// CPython's shared stream does: threads that take turns building one line
/// (`print("ping", end=" ")`, then the other's "pong") show it in their order. Guarded by
/// `lock`.
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
    /// While set (the REPL waits for a line), receives the text written instead of the
    /// target, in whole lines: a partial line waits in `buffer` for its newline.
    private var interceptor: (@Sendable (String) -> Void)?
    /// False after text that did not end with a newline (the REPL then starts its prompt
    /// on a new line). `input()` sets it again: the user's Enter ended the line.
    private var endsLine = true

    /// The descriptor written to, or nil for a closure (`sys.stdout.fileno()`).
    public var descriptor: Int32? {
        if case .fd(let fd) = target { return fd }
        return nil
    }

    public init(_ target: Target, lineBuffered: Bool? = nil) {
        self.target = target
        // PYTHONUNBUFFERED (non-empty), as CPython reads it: every line goes out at once,
        // so a program killed later has still written what it printed.
        if case .fd(let fd) = target { self.lineBuffered = lineBuffered ?? (isatty(fd) != 0 || OutputSink.unbufferedByEnvironment) }
        else { self.lineBuffered = true }
        pthread_mutex_init(&lock, nil)
    }

    /// True when the environment asks for unbuffered output (`PYTHONUNBUFFERED=1`).
    static let unbufferedByEnvironment: Bool = {
        guard let v = getenv("PYTHONUNBUFFERED") else { return false }
        return v.pointee != 0
    }()

    /// Writes `s` (a whole `print`, a `write` call, a traceback) in one step.
    public func write(_ s: String) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        writeLocked(s)
    }

    /// Writes raw bytes (`sys.stdout.buffer.write`), in order with the text written; a
    /// closure target gets them decoded as UTF-8 (invalid bytes replaced).
    public func write(bytes: [UInt8]) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        writeLocked(bytes, text: nil)
    }

    private func writeLocked(_ s: String) { writeLocked(s.utf8, text: s) }

    /// `bytes`, which are `text` when it is given (a closure target takes the String).
    private func writeLocked<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes, text: String?) {
        guard let last = bytes.last else { return }
        endsLine = last == 10
        if let hook = interceptor {
            buffer.append(contentsOf: bytes)
            guard let end = buffer.lastIndex(of: 10) else { return }
            let lines = String(decoding: buffer[...end], as: UTF8.self)
            buffer.removeSubrange(...end)
            hook(lines)
            return
        }
        switch target {
        case .closure(let f):
            f(text ?? String(decoding: bytes, as: UTF8.self))
        case .fd:
            buffer.append(contentsOf: bytes)
            if buffer.count >= 8192 || (lineBuffered && bytes.contains(10)) { flushLocked() }
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
        if interceptor == nil { flushLocked() }
        pthread_mutex_unlock(&lock)
    }

    /// True unless the last text written did not end with a newline.
    public var isAtLineStart: Bool {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return endsLine
    }

    /// Records that the terminal's cursor is at the start of a line (after input()).
    public func markLineStart() {
        pthread_mutex_lock(&lock)
        endsLine = true
        pthread_mutex_unlock(&lock)
    }

    /// Sends whole lines written from now on to `hook` (called with the sink's lock held,
    /// on the writing thread: it must only queue the text) until `intercept(nil)`. Text
    /// already buffered is written out first. Removing the hook keeps a partial last line
    /// buffered for the next flush.
    public func intercept(_ hook: (@Sendable (String) -> Void)?) {
        pthread_mutex_lock(&lock)
        if hook != nil && interceptor == nil { flushLocked() }
        interceptor = hook
        if hook == nil, case .closure(let f) = target, !buffer.isEmpty {
            f(String(decoding: buffer, as: UTF8.self))
            buffer.removeAll()
        }
        pthread_mutex_unlock(&lock)
    }

    private func flushLocked() {
        guard case .fd(let fd) = target, !buffer.isEmpty else { return }
        _ = buffer.withUnsafeBytes { CConcSys_write_all(fd, $0.baseAddress, $0.count) }
        buffer.removeAll(keepingCapacity: true)
    }
}
