// File objects: `open()` for text and binary files, and sys.stdin/stdout/stderr. The
// byte-level buffering and positions live here; text decoding and newline translation in
// File+Text.swift; the methods programs call in File+Methods.swift.
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// An open file (or a standard stream) as a program sees it: CPython's TextIOWrapper, or one
/// of its binary classes (BufferedReader, BufferedWriter, BufferedRandom, FileIO).
///
/// The bytes, positions and the open/closed state live in a ``FileCore``. A text file's
/// `buffer` attribute is a second PyFile, binary, over the same core: both layers see one
/// read-ahead and one pending write, so mixing `f.readline()` and `f.buffer.read()` (or
/// `print` and `sys.stdout.buffer.write`) keeps the order of the calls, and closing either
/// closes both.
final class PyFile: PyObject {
    let core: FileCore
    var backing: FileCore.Backing { core.backing }
    let name: Value
    let mode: String
    let isBinary: Bool
    let isReadable: Bool
    let isWritable: Bool
    /// Opened with "a": every write goes to the end.
    let isAppending: Bool
    /// Text files: how characters become bytes and lines end.
    let text: TextOptions
    /// Writes go out at each newline (a terminal, or `buffering=1`).
    let lineBuffered: Bool
    /// `open(..., buffering=0)`: CPython's FileIO, every write sent at once.
    let isRaw: Bool
    /// A text file's binary layer (`f.buffer`), made on first use and kept: `f.buffer is
    /// f.buffer`. Written once under the core's mutex.
    private(set) var bufferLayer: PyFile?

    convenience init(backing: FileCore.Backing, name: Value, mode: String, text: TextOptions = TextOptions(),
         lineBuffered: Bool = false, closesDescriptor: Bool = true, registry: OpenFiles? = nil,
         unbuffered: Bool = false) {
        let core = FileCore(backing: backing, closesDescriptor: closesDescriptor, registry: registry)
        self.init(core: core, name: name, mode: mode, text: text, lineBuffered: lineBuffered, unbuffered: unbuffered)
        if isWritable, case .fd = backing { registry?.add(core) }
    }

    /// A file over `core` (a new file's own, or a text file's for its binary layer).
    private init(core: FileCore, name: Value, mode: String, text: TextOptions, lineBuffered: Bool, unbuffered: Bool) {
        self.core = core; self.name = name; self.mode = mode; self.text = text
        isBinary = mode.contains("b")
        isReadable = mode.contains("r") || mode.contains("+")
        isWritable = mode.contains("w") || mode.contains("a") || mode.contains("x") || mode.contains("+")
        isAppending = mode.contains("a")
        self.lineBuffered = lineBuffered
        isRaw = unbuffered
        let type: PyType
        if !isBinary { type = Types.file }
        else if unbuffered { type = Types.fileIO }
        else if mode.contains("+") { type = Types.bufferedRandom }
        else { type = isReadable ? Types.bufferedReader : Types.bufferedWriter }
        super.init(type: type)
    }

    deinit { WeakReferents.noteDeath(self) }

    /// `f.buffer`: the binary layer under a text file, over the same core. Its mode is the
    /// text mode's binary form ("r" → "rb", "w" → "wb", "r+" → "rb+").
    func binaryLayer(_ u: Unit) -> PyFile {
        core.withLock(u) {
            if let b = bufferLayer { return b }
            let plus = mode.contains("+") ? "+" : ""
            let binaryMode = isAppending ? "ab" + plus : mode.contains("x") ? "xb" + plus
                : mode.contains("w") && plus.isEmpty ? "wb" : "rb" + plus
            let b = PyFile(core: core, name: name, mode: binaryMode, text: TextOptions(), lineBuffered: lineBuffered, unbuffered: false)
            bufferLayer = b
            return b
        }
    }

    var isClosed: Bool { core.isClosed }

    /// Runs `body` holding the core's mutex (see ``FileCore/withLock(_:_:)``).
    func withLock<R>(_ u: Unit?, _ body: () throws -> R) rethrows -> R { try core.withLock(u, body) }

    /// Runs `body` holding the mutex if it is free right now.
    func ifUnlocked(_ body: () -> Void) { core.ifUnlocked(body) }

    /// The file must be open for `op`, in the words of CPython's layer that checks: a text
    /// file's "I/O operation on closed file.", a binary file's buffered layer's "read of
    /// closed file", "write to closed file"..., and the raw layer's period-less one for
    /// the queries (tell, fileno, isatty, seekable, readable, writable).
    func checkOpen(_ op: String = "") throws {
        guard isClosed else { return }
        let raw = "I/O operation on closed file"
        // FileIO is the raw layer: its own operations say it without a period; what comes
        // from IOBase (flush, iteration, readlines, writelines, `with`) with one.
        if isRaw { throw valueError(["", "flush", "readlines", "writelines"].contains(op) ? raw + "." : raw) }
        if ["tell", "fileno", "isatty", "seekable", "readable", "writable"].contains(op) && (isBinary || op != "tell") {
            throw valueError(raw)
        }
        guard isBinary else { throw valueError(raw + ".") }
        switch op {
        case "read", "readline", "readinto", "peek", "seek", "truncate": throw valueError("\(op) of closed file")
        case "read1": throw valueError("read of closed file")
        case "write": throw valueError("write to closed file")
        case "flush" where isWritable: throw valueError("flush of closed file")
        default: throw valueError(raw + ".")
        }
    }

    /// Open and readable for `op`: a binary file refuses an op it cannot do before it
    /// looks at being closed ("read"), a text file after ("not readable").
    /// (readlines, through IOBase, looks at being closed first.)
    func checkReadable(_ op: String = "read") throws {
        if isRaw {
            try checkOpen(op)
            if !isReadable { throw unsupportedOperation("File not open for reading") }
            return
        }
        if isBinary && !isReadable && op != "readlines" { throw unsupportedOperation(op == "read1" ? op : "read") }
        try checkOpen(op)
        if !isReadable { throw unsupportedOperation(isBinary ? "read" : "not readable") }
    }

    /// Open and writable for `op` (`write` or `truncate`), in the same order and words.
    /// (A binary file's truncate looks at being closed first.)
    func checkWritable(_ op: String = "write") throws {
        if isRaw {
            try checkOpen(op)
            if !isWritable { throw unsupportedOperation("File not open for writing") }
            return
        }
        if isBinary && !isWritable && op != "truncate" { throw unsupportedOperation(op) }
        try checkOpen(op)
        if !isWritable { throw unsupportedOperation(isBinary || op == "truncate" ? op : "not writable") }
    }

    // MARK: - Bytes, through the core (mutex held)

    var unread: Int { core.unread }
    func fill(_ u: Unit) throws -> Bool { try core.fill(u, chunk: isBinary ? 65536 : 8192) }
    @discardableResult
    func ensure(_ n: Int, _ u: Unit) throws -> Int {
        while core.unread < n { if try !fill(u) { break } }
        return core.unread
    }
    func take(_ n: Int) -> ArraySlice<UInt8> { core.take(n) }

    /// Up to `n` bytes (all that remain when n < 0).
    func readBytes(_ n: Int, _ u: Unit) throws -> [UInt8] {
        try flushWritesLocked()
        if n < 0 { while try fill(u) {} } else { try ensure(n, u) }
        return Array(take(n < 0 ? unread : min(n, unread)))
    }

    /// The bytes up to and including the next b"\n" (at most `limit` when limit >= 0).
    func readByteLine(_ limit: Int, _ u: Unit) throws -> [UInt8] {
        try flushWritesLocked()
        var scanned = 0
        while true {
            if limit >= 0 && scanned >= limit { return Array(take(limit)) }
            if scanned >= unread, try ensure(scanned + 1, u) <= scanned { return Array(take(unread)) }
            if core.readBuffer[core.readPosition + scanned] == 10 { return Array(take(scanned + 1)) }
            scanned += 1
        }
    }

    /// Appends `bytes` at the logical position (sent when the buffer fills, at a newline of
    /// a line-buffered file, or at flush/close/exit). A binary layer over a standard
    /// stream writes to its sink, after whatever the text layer wrote.
    func writeBytes(_ bytes: [UInt8]) throws {
        if case .sink(let sink) = backing { sink.write(bytes: bytes); return }
        try core.writeBytes(bytes, stepBack: isBinary, flushAtNewline: lineBuffered)
        if isRaw { try core.flushWritesLocked() }
    }

    func flushWritesLocked() throws { try core.flushWritesLocked() }
    func position() throws -> Int { try core.position() }
    func seek(_ offset: Int, _ whence: Int32) throws -> Int { try core.seek(offset, whence) }
    func truncate(_ size: Int?) throws -> Int { try core.truncate(size) }
    func closeLocked() throws { try core.closeLocked() }
}

/// The state of one open file, shared by its text and binary layers (``PyFile``):
/// CPython's buffered object and raw file in one.
///
/// A file over a descriptor keeps bytes read ahead (`readBuffer` from `readPosition`) and
/// bytes written but not yet sent (`writeBuffer`); only one of them holds data at a time:
/// a write first steps the descriptor back over unread bytes, and a read first flushes.
/// The logical position is the descriptor's offset, less what is unread, plus what is
/// pending. sys.stdout/stderr write through an ``OutputSink``; sys.stdin reads lines from
/// the engine's line reader into the same read buffer.
///
/// Units share file objects: every `var` below is read and written only inside
/// ``withLock(_:_:)``. The mutex (not the striped object lock) is held across the read and
/// write system calls, and a unit waiting for it does so as a blocking call.
final class FileCore: @unchecked Sendable {  // mutable state guarded by `mutex`
    enum Backing { case fd(Int32), sink(OutputSink), stdin }
    let backing: Backing
    /// Closing closes the descriptor (false for `open(fd, closefd=False)`).
    let closesDescriptor: Bool
    /// Where the engine lists files with pending output, flushed at the program's end.
    let registry: OpenFiles?

    private var mutex = pthread_mutex_t()
    // Guarded by `mutex`:
    private(set) var isClosed = false
    var readBuffer: [UInt8] = []
    var readPosition = 0
    /// The source has no more bytes (a pipe or stdin at its end; a regular file is asked
    /// again, since it may have grown).
    var sawEnd = false
    var writeBuffer: [UInt8] = []
    /// A utf-8-sig file's byte-order mark has been dealt with (skipped or written).
    var bomHandled = false

    init(backing: Backing, closesDescriptor: Bool, registry: OpenFiles?) {
        self.backing = backing; self.closesDescriptor = closesDescriptor; self.registry = registry
        pthread_mutex_init(&mutex, nil)
    }

    /// The last layer has gone: pending bytes go out and the descriptor is closed.
    deinit {
        if case .fd(let fd) = backing, !isClosed {
            _ = try? flushWritesLocked()
            if closesDescriptor { Glibc.close(fd) }
        }
        registry?.remove(self)
        pthread_mutex_destroy(&mutex)
    }

    /// Runs `body` holding the mutex. A unit that has to wait for it (another unit is in a
    /// read or write) waits as a blocking call, so the GIL and the deadlock detector let the
    /// holder finish.
    func withLock<R>(_ u: Unit?, _ body: () throws -> R) rethrows -> R {
        if pthread_mutex_trylock(&mutex) != 0 {
            if let u = u { u.blockingCall { _ = pthread_mutex_lock(&mutex) } } else { pthread_mutex_lock(&mutex) }
        }
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Runs `body` holding the mutex if it is free right now.
    func ifUnlocked(_ body: () -> Void) {
        guard pthread_mutex_trylock(&mutex) == 0 else { return }
        defer { pthread_mutex_unlock(&mutex) }
        body()
    }

    // MARK: - Reading bytes (mutex held)

    /// Bytes read ahead and not yet consumed.
    var unread: Int { readBuffer.count - readPosition }

    /// Reads more bytes into the buffer (at most `chunk`: text files read CPython's 8 KiB
    /// chunks, where a write after a read lands); false at the end of the source.
    func fill(_ u: Unit, chunk: Int) throws -> Bool {
        if readPosition > 0 && readPosition >= readBuffer.count / 2 {
            readBuffer.removeFirst(readPosition)
            readPosition = 0
        }
        switch backing {
        case .fd(let fd):
            if sawEnd { return false }
            return try readChunk(fd, u, size: chunk, blocking: false)
        case .stdin:
            if sawEnd { return false }
            // The process's own stdin is read with read(2), which Ctrl-C interrupts (stdio's
            // getline would go on waiting); an embedder's reader is asked for a line.
            guard let readLine = u.engine.options.readLine else { return try readChunk(0, u, size: chunk, blocking: true) }
            if let line = u.blockingCall({ readLine() }) {
                readBuffer.append(contentsOf: line.utf8)
                return true
            }
            // Ctrl-C ends the read with nothing (EINTR): KeyboardInterrupt, not the end.
            try u.checkInterrupt()
            sawEnd = true
            return false
        case .sink:
            return false
        }
    }

    /// Appends what one read(2) of `fd` gives; false at its end. `blocking`: the read may
    /// wait for another process (a pipe, a terminal), so other units run meanwhile.
    private func readChunk(_ fd: Int32, _ u: Unit, size: Int, blocking: Bool) throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: size)
        while true {
            let n = blocking ? u.blockingCall { chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
                : chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 { readBuffer.append(contentsOf: chunk[0..<n]); return true }
            if n == 0 { return false }
            if errno == EINTR { try u.checkInterrupt(); continue }
            throw osError(errno)
        }
    }

    /// Consumes and returns the next `n` unread bytes (n <= unread).
    func take(_ n: Int) -> ArraySlice<UInt8> {
        defer { readPosition += n }
        return readBuffer[readPosition..<(readPosition + n)]
    }

    // MARK: - Writing bytes (mutex held)

    /// Appends `bytes` at the logical position. Unread bytes put the descriptor ahead of
    /// that position: a binary layer steps back over them (`stepBack`, CPython's
    /// BufferedRandom); a text layer drops them and writes where its last 8 KiB chunk read
    /// ended, as CPython's TextIOWrapper does (`r+`: read(5) then write() appends to a
    /// short file).
    func writeBytes(_ bytes: [UInt8], stepBack: Bool, flushAtNewline: Bool) throws {
        if case .fd(let fd) = backing, unread > 0 {
            if stepBack { _ = lseek(fd, off_t(-unread), SEEK_CUR) }
            readBuffer.removeAll(keepingCapacity: true); readPosition = 0
        }
        sawEnd = false
        writeBuffer.append(contentsOf: bytes)
        if writeBuffer.count >= 65536 || (flushAtNewline && bytes.contains(10)) { try flushWritesLocked() }
    }

    /// Sends the pending bytes to the descriptor (or flushes the sink).
    func flushWritesLocked() throws {
        switch backing {
        case .fd(let fd):
            guard !writeBuffer.isEmpty else { return }
            let ok = writeBuffer.withUnsafeBytes { CConcSys_write_all(fd, $0.baseAddress, $0.count) }
            writeBuffer.removeAll(keepingCapacity: true)
            if ok < 0 { throw osError(errno) }
        case .sink(let s): s.flush()
        case .stdin: break
        }
    }

    // MARK: - Positions (mutex held)

    /// The logical position (`tell()`); OSError for a pipe or terminal.
    func position() throws -> Int {
        guard case .fd(let fd) = backing else { throw osError(ESPIPE) }
        try flushWritesLocked()
        let at = lseek(fd, 0, SEEK_CUR)
        if at < 0 { throw osError(errno) }
        return Int(at) - unread
    }

    /// Moves to `offset` from the start, the current position or the end (`seek()`).
    func seek(_ offset: Int, _ whence: Int32) throws -> Int {
        guard case .fd(let fd) = backing else { throw osError(ESPIPE) }
        try flushWritesLocked()
        let adjusted = whence == SEEK_CUR ? offset - unread : offset
        let at = lseek(fd, off_t(adjusted), whence)
        if at < 0 { throw osError(errno) }
        readBuffer.removeAll(keepingCapacity: true); readPosition = 0
        sawEnd = false
        return Int(at)
    }

    /// Cuts the file to `size` bytes (the logical position when nil); the position stays.
    func truncate(_ size: Int?) throws -> Int {
        guard case .fd(let fd) = backing else { throw osError(ESPIPE) }
        let target = try size ?? position()
        if target < 0 { throw osError(EINVAL) }
        let here = try position()
        _ = try seek(here, SEEK_SET)
        if ftruncate(fd, off_t(target)) != 0 { throw osError(errno) }
        return target
    }

    /// Flushes and closes (again: nothing).
    func closeLocked() throws {
        if isClosed { return }
        defer {
            isClosed = true
            if case .fd(let fd) = backing, closesDescriptor { Glibc.close(fd) }
            registry?.remove(self)
        }
        try flushWritesLocked()
    }
}

/// `io.UnsupportedOperation` (an OSError and a ValueError, as in CPython).
func unsupportedOperation(_ message: String) -> PyBaseException {
    PyBaseException(type: Exc.unsupportedOperation, args: [.str(message)])
}

/// The files of one engine that have output pending: flushed when the program (or a
/// spawned child) ends and before a fork, as CPython flushes its buffered files at exit.
/// Weak: a file dropped by the program flushes itself as it goes.
final class OpenFiles: @unchecked Sendable {  // `files` is guarded by `mutex`
    private final class Entry { weak var file: FileCore?; init(_ f: FileCore) { file = f } }
    private var mutex = pthread_mutex_t()
    private var files: [ObjectIdentifier: Entry] = [:]

    init() { pthread_mutex_init(&mutex, nil) }

    func add(_ f: FileCore) {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        files[ObjectIdentifier(f)] = Entry(f)
    }

    func remove(_ f: FileCore) {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        files.removeValue(forKey: ObjectIdentifier(f))
    }

    /// Sends every open file's pending output (errors are dropped, as at CPython's exit).
    /// A file whose mutex another unit holds is skipped: that unit may be stopped for a
    /// fork, or blocked, and it flushes its own writes.
    func flushAll() {
        pthread_mutex_lock(&mutex)
        let live = files.values.compactMap { $0.file }
        pthread_mutex_unlock(&mutex)
        for f in live { f.ifUnlocked { _ = try? f.flushWritesLocked() } }
    }
}

/// `open(file, mode='r', buffering=-1, encoding=None, errors=None, newline=None,
/// closefd=True, opener=None)`.
func openFile(_ u: Unit, _ a: Args) throws -> Value {
    try a.expectClinic("open", ["file", "mode", "buffering", "encoding", "errors", "newline", "closefd", "opener"], required: 1)
    let target = a.argument(0, "file")!   // (required: checked above)
    let mode = try a.argument(1, "mode").map { try u.stringArg($0, "open() argument 'mode'") } ?? "r"
    let buffering = try a.argument(2, "buffering").map { try u.toIndex($0) } ?? -1
    func optionalString(_ i: Int, _ key: String) throws -> String? {
        guard let v = a.argument(i, key), !v.isNone else { return nil }
        guard let s = v.asStr?.value else { throw typeError("open() argument '\(key)' must be str or None, not \(v.typeName)") }
        return s
    }
    let encoding = try optionalString(3, "encoding")
    let errors = try optionalString(4, "errors")
    let newline = try optionalString(5, "newline")
    let closefd = try a.argument(6, "closefd").map { try u.isTruthy($0) } ?? true
    if let opener = a.argument(7, "opener"), !opener.isNone { throw valueError("open(): opener= is not supported by Conc") }

    // In CPython's order: the path's type, the mode, the file itself (FileNotFoundError,
    // FileExistsError), and only then the text layer's newline and encoding.
    var path = ""
    if case .int = target {} else {
        path = try u.fileSystemPath(target, "expected str, bytes or os.PathLike object, not \(target.typeName)")
    }
    var seen = Set<Character>()
    for c in mode {
        guard "rwxabt+".contains(c), seen.insert(c).inserted else { throw valueError("invalid mode: '\(mode)'") }
    }
    if mode.filter({ "rwxa".contains($0) }).count != 1 {
        throw valueError("must have exactly one of create/read/write/append mode")
    }
    let binary = seen.contains("b")
    if binary && seen.contains("t") { throw valueError("can't have text and binary mode at once") }
    if binary {
        if encoding != nil { throw valueError("binary mode doesn't take an encoding argument") }
        if errors != nil { throw valueError("binary mode doesn't take an errors argument") }
        if newline != nil { throw valueError("binary mode doesn't take a newline argument") }
    } else if buffering == 0 {
        throw valueError("can't have unbuffered text I/O")
    }

    let fd: Int32
    if case .int(let n) = target {
        guard let d = Int32(exactly: n), d >= 0 else { throw valueError("negative file descriptor") }
        fd = d
    } else {
        if !closefd { throw valueError("Cannot use closefd=False with file name") }
        if path.utf8.contains(0) { throw valueError("embedded null byte") }
        var flags: Int32 = seen.contains("+") ? O_RDWR : seen.contains("r") ? O_RDONLY : O_WRONLY
        if seen.contains("w") { flags |= O_CREAT | O_TRUNC }
        if seen.contains("a") { flags |= O_CREAT | O_APPEND }
        if seen.contains("x") { flags |= O_CREAT | O_EXCL }
        let opened = u.blockingCall { Glibc.open(path, flags | O_CLOEXEC, 0o666) }  // a FIFO's open blocks
        if opened < 0 { throw osError(errno, path: target) }
        var st = stat()
        if fstat(opened, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { Glibc.close(opened); throw osError(EISDIR, path: target) }
        fd = opened
    }
    let text: TextOptions
    do {
        if let n = newline, !["", "\n", "\r", "\r\n"].contains(n) { throw valueError("illegal newline value: \(n)") }
        text = binary ? TextOptions() : try TextOptions(encoding: encoding, errors: errors, newline: newline)
    } catch {
        if closefd { Glibc.close(fd) }
        throw error
    }
    // As CPython: an appending file starts at the end (tell() is its size).
    if seen.contains("a") { _ = lseek(fd, 0, SEEK_END) }
    // A binary file's mode reads as CPython's FileIO shows it ('br' is 'rb', 'w+b' 'rb+').
    let plus = seen.contains("+") ? "+" : ""
    let shownMode = !binary ? mode : seen.contains("x") ? "xb" + plus : seen.contains("a") ? "ab" + plus
        : seen.contains("r") || seen.contains("+") ? "rb" + plus : "wb"
    let file = PyFile(backing: .fd(fd), name: target, mode: shownMode, text: text,
                      lineBuffered: buffering == 1 || isatty(fd) != 0, closesDescriptor: closefd,
                      registry: u.engine.openFiles, unbuffered: buffering == 0)
    return .obj(file)
}
