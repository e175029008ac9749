// Where a program's stdout/stderr go: a file descriptor (buffered like CPython's streams)
// or a Swift closure (embedding captures output).
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// A text output stream shared by every unit of one interpreter.
///
/// `write` is atomic per call, and a unit's unfinished line (`print(x, end="")`) is held
/// back until the unit ends it or a flush asks for it, so lines from different units never
/// interleave mid-line (LANGUAGE.md §4). Guarded by `lock`.
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
    /// Each unit's unfinished last line, by unit number, until its newline or a flush.
    private var partial: [UInt32: [UInt8]] = [:]

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

    /// Writes `s` for unit number `unit`: whole lines go out now, an unfinished last line
    /// waits for the rest of it (or a flush).
    public func write(_ s: String, unit: UInt32) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if partial.isEmpty && s.utf8.last == 10 { writeLocked(s); return }
        var line = partial.removeValue(forKey: unit) ?? []
        line.append(contentsOf: s.utf8)
        if let end = line.lastIndex(of: 10) {
            writeLocked(String(decoding: line[...end], as: UTF8.self))
            line.removeSubrange(...end)
        }
        if !line.isEmpty { partial[unit] = line }
    }

    /// Writes `s` as it is (tracebacks, embedding output, text that is known to be whole).
    public func write(_ s: String) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        writeLocked(s)
    }

    /// Emits every unit's unfinished line, in unit order.
    private func releasePartialLines() {
        guard !partial.isEmpty else { return }
        for key in partial.keys.sorted() { writeLocked(String(decoding: partial[key]!, as: UTF8.self)) }
        partial.removeAll()
    }

    private func writeLocked(_ s: String) {
        if let last = s.utf8.last { endsLine = last == 10 }
        if let hook = interceptor {
            buffer.append(contentsOf: s.utf8)
            guard let end = buffer.lastIndex(of: 10) else { return }
            let lines = String(decoding: buffer[...end], as: UTF8.self)
            buffer.removeSubrange(...end)
            hook(lines)
            return
        }
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
        partial.removeAll()
    }

    public func flush() {
        pthread_mutex_lock(&lock)
        releasePartialLines()
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
