// File objects: `open()` for text and binary files, and sys.stdin/stdout/stderr.
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

/// An open file (or a standard stream).
///
/// Real files are read whole on open (for reading) and written through an in-memory buffer
/// flushed on `flush()`/`close()`. Units share file objects: every method touches the
/// buffers, positions and `isClosed` inside `locked` (reading stdin, which blocks, happens
/// outside it).
final class PyFile: PyObject {
    enum Backing { case fd(Int32), sink(OutputSink), stdin }
    var backing: Backing
    let name: Value
    let mode: String
    let isBinary: Bool
    let isReadable: Bool
    let isWritable: Bool
    var isClosed = false
    /// Unread content (readable files).
    var readBuffer: [UInt8] = []
    var readPosition = 0
    /// Pending output (writable real files).
    var writeBuffer: [UInt8] = []

    init(backing: Backing, name: Value, mode: String) {
        self.backing = backing; self.name = name; self.mode = mode
        isBinary = mode.contains("b")
        isReadable = mode.contains("r") || mode.contains("+")
        isWritable = mode.contains("w") || mode.contains("a") || mode.contains("x") || mode.contains("+")
        super.init(type: Types.file)
    }

    deinit { if case .fd(let fd) = backing, !isClosed { flushBufferLocked(); close(fd) } }

    func flushBuffer() { locked { flushBufferLocked() } }

    private func flushBufferLocked() {
        switch backing {
        case .fd(let fd):
            _ = writeBuffer.withUnsafeBytes { CConcSys_write_all(fd, $0.baseAddress, $0.count) }
            writeBuffer.removeAll()
        case .sink(let s): s.flush()
        case .stdin: break
        }
    }

    func checkOpen() throws { if isClosed { throw valueError("I/O operation on closed file.") } }

    /// Reads up to `n` bytes (all when n < 0).
    func readBytes(_ n: Int, _ u: Unit) throws -> [UInt8] {
        if case .stdin = backing {
            var out: [UInt8] = []
            while n < 0 || out.count < n, let line = u.blockingCall({ u.engine.options.readLine() }) { out.append(contentsOf: line.utf8) }
            return out
        }
        return locked {
            let available = readBuffer.count - readPosition
            let k = n < 0 ? available : min(n, available)
            defer { readPosition += k }
            return Array(readBuffer[readPosition..<(readPosition + k)])
        }
    }

    func readLine(_ u: Unit) -> [UInt8] {
        if case .stdin = backing { return Array((u.blockingCall { u.engine.options.readLine() } ?? "").utf8) }
        return locked {
            var end = readPosition
            while end < readBuffer.count && readBuffer[end] != 10 { end += 1 }
            if end < readBuffer.count { end += 1 }
            defer { readPosition = end }
            return Array(readBuffer[readPosition..<end])
        }
    }
}

/// The OSError subclass CPython 3.11 gives errno `code` (`OSError(2, "x")` is a
/// FileNotFoundError; PEP 3151's table).
func osErrorType(_ code: Int) -> PyType {
    guard let c = Int32(exactly: code) else { return Exc.osError }
    switch c {
    case ENOENT: return Exc.fileNotFoundError
    case EEXIST: return Exc.fileExistsError
    case EISDIR: return Exc.isADirectoryError
    case ENOTDIR: return Exc.notADirectoryError
    case EACCES, EPERM: return Exc.permissionError
    case ESRCH: return Exc.processLookupError
    case ECHILD: return Exc.childProcessError
    case EINTR: return Exc.interruptedError
    case EPIPE, ESHUTDOWN: return Exc.brokenPipeError
    case ECONNABORTED: return Exc.connectionAbortedError
    case ECONNREFUSED: return Exc.connectionRefusedError
    case ECONNRESET: return Exc.connectionResetError
    case EAGAIN, EALREADY, EINPROGRESS: return Exc.blockingIOError
    case ETIMEDOUT: return Exc.timeoutError
    default: return Exc.osError
    }
}

/// `OSError(errno, strerror[, filename[, winerror[, filename2]]])` made by a program: the
/// subclass for errno when the class is OSError itself, with errno, strerror, filename and
/// filename2 set and args cut to (errno, strerror), as CPython's OSError.__new__ does.
func makeOSError(_ cls: PyType, _ args: [Value]) -> PyBaseException {
    guard (2...5).contains(args.count) else { return PyBaseException(type: cls, args: args) }
    var type = cls
    if cls === Exc.osError, case .int(let code) = args[0] { type = osErrorType(code) }
    let e = PyBaseException(type: type, args: args.count > 2 ? Array(args[0..<2]) : args)
    e.setInstanceAttribute("errno", args[0])
    e.setInstanceAttribute("strerror", args[1])
    if args.count > 2 { e.setInstanceAttribute("filename", args[2]) }
    if args.count > 4 { e.setInstanceAttribute("filename2", args[4]) }
    return e
}

/// Makes an OSError subclass for errno `code` about `path`.
func osError(_ code: Int32, path: Value? = nil) -> PyBaseException {
    let type = osErrorType(Int(code))
    let e = PyBaseException(type: type, args: [.int(Int(code)), .str(String(cString: strerror(code)))])
    e.setInstanceAttribute("errno", .int(Int(code)))
    e.setInstanceAttribute("strerror", .str(String(cString: strerror(code))))
    if let p = path { e.setInstanceAttribute("filename", p) }
    return e
}

/// `open(file, mode='r', encoding=None, ...)`.
func openFile(_ u: Unit, _ a: Args) throws -> Value {
    try a.expect("open", 1, 3, keywords: ["mode", "encoding", "buffering", "errors", "newline", "file"])
    guard let pathValue = a.argument(0, "file"), let path = pathValue.asStr?.value else {
        throw typeError("expected str, bytes or os.PathLike object, not \(a.argument(0, "file")?.typeName ?? "NoneType")")
    }
    let mode = try a.argument(1, "mode").map { try u.stringArg($0, "open() argument 'mode'") } ?? "r"
    let valid = Set("rwxab+t")
    guard !mode.isEmpty, mode.allSatisfy({ valid.contains($0) }),
          mode.filter({ "rwxa".contains($0) }).count == 1 else { throw valueError("invalid mode: '\(mode)'") }
    var flags: Int32 = 0
    if mode.contains("+") { flags = O_RDWR } else if mode.contains("r") { flags = O_RDONLY } else { flags = O_WRONLY }
    if mode.contains("w") { flags |= O_CREAT | O_TRUNC }
    if mode.contains("a") { flags |= O_CREAT | O_APPEND }
    if mode.contains("x") { flags |= O_CREAT | O_EXCL }
    let fd = open(path, flags | O_CLOEXEC, 0o666)
    if fd < 0 { throw osError(errno, path: pathValue) }
    var st = stat()
    if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { close(fd); throw osError(EISDIR, path: pathValue) }
    let file = PyFile(backing: .fd(fd), name: pathValue, mode: mode)
    if file.isReadable && !mode.contains("w") {
        file.readBuffer = readFileBytes(path) ?? []
    }
    return .obj(file)
}

func installFileMethods(_ t: PyType) {
    func file(_ v: Value) -> PyFile { v.object as! PyFile }
    func decode(_ f: PyFile, _ b: [UInt8]) -> Value {
        f.isBinary ? .obj(PyBytes(b)) : .str(String(decoding: b, as: UTF8.self))
    }
    t.method("read") { u, s, a in
        let f = file(s); try f.checkOpen()
        guard f.isReadable else { throw pyError(Exc.osError, "not readable") }
        let n = try a.argument(0, "size").flatMap { $0.isNone ? nil : try u.toIndex($0) } ?? -1
        if !f.isBinary && n >= 0 {
            // n counts characters: take bytes until n scalars are complete
            var out: [UInt8] = []
            var scalars = 0
            while scalars < n {
                let b = try f.readBytes(1, u)
                guard let byte = b.first else { break }
                out.append(byte)
                if byte & 0xC0 != 0x80 { scalars += 1 }
                f.locked {
                    while f.readPosition < f.readBuffer.count, f.readBuffer[f.readPosition] & 0xC0 == 0x80 {
                        out.append(f.readBuffer[f.readPosition]); f.readPosition += 1
                    }
                }
            }
            return decode(f, out)
        }
        return decode(f, try f.readBytes(n, u))
    }
    t.method("readline") { u, s, _ in let f = file(s); try f.checkOpen(); return decode(f, f.readLine(u)) }
    t.method("readlines") { u, s, _ in
        let f = file(s); try f.checkOpen()
        var lines: [Value] = []
        while true { let l = f.readLine(u); if l.isEmpty { break }; lines.append(decode(f, l)) }
        return .obj(PyList(lines))
    }
    t.method("write") { u, s, a in
        let f = file(s); try f.checkOpen()
        try a.expect("write", 1, 1)
        guard f.isWritable else { throw pyError(Exc.osError, "not writable") }
        let bytes: [UInt8]
        if f.isBinary {
            guard case .obj(let o) = a[0], let b = o as? PyBytes else { throw typeError("a bytes-like object is required, not '\(a[0].typeName)'") }
            bytes = b.snapshot
        } else {
            guard let str = a[0].asStr else { throw typeError("write() argument must be str, not \(a[0].typeName)") }
            if case .sink(let sink) = f.backing { sink.write(str.value, unit: u.number); return .int(str.count) }
            bytes = Array(str.value.utf8)
        }
        try f.locked {
            try f.checkOpen()
            f.writeBuffer.append(contentsOf: bytes)
            if f.writeBuffer.count > 65536 { f.flushBuffer() }
        }
        return .int(f.isBinary ? bytes.count : a[0].asStr!.count)
    }
    t.method("writelines") { u, s, a in
        for line in try u.toArray(a[0]) { _ = try u.callMethod(s, "write", [line]) }
        return .none
    }
    t.method("flush") { _, s, _ in file(s).flushBuffer(); return .none }
    t.method("close") { _, s, _ in
        let f = file(s)
        f.locked {
            if f.isClosed { return }
            f.flushBuffer()
            if case .fd(let fd) = f.backing { close(fd) }
            f.isClosed = true
        }
        return .none
    }
    t.method("fileno") { _, s, _ in
        switch file(s).backing { case .fd(let fd): return .int(Int(fd)); case .sink: return .int(1); case .stdin: return .int(0) }
    }
    t.method("isatty") { _, s, _ in
        if case .fd(let fd) = file(s).backing { return .bool(isatty(fd) != 0) }
        return .bool(false)
    }
    t.method("__enter__") { _, s, _ in try file(s).checkOpen(); return s }
    t.method("__exit__") { u, s, _ in _ = try u.callMethod(s, "close", []); return .bool(false) }
    t.method("__iter__") { _, s, _ in try file(s).checkOpen(); return s }
    t.method("__next__") { u, s, _ in
        let l = file(s).readLine(u)
        if l.isEmpty { throw PyBaseException(type: Exc.stopIteration, args: []) }
        return decode(file(s), l)
    }
    t.method("seek") { u, s, a in
        let f = file(s); try f.checkOpen()
        let offset = try u.toIndex(a[0])
        let whence = a.count > 1 ? try u.toIndex(a[1]) : 0
        return try f.locked {
            f.flushBuffer()
            guard case .fd(let fd) = f.backing else { throw pyError(Exc.osError, "underlying stream is not seekable") }
            if f.isReadable && !f.mode.contains("w") {
                let base = whence == 0 ? 0 : whence == 1 ? f.readPosition : f.readBuffer.count
                f.readPosition = max(0, min(base + offset, f.readBuffer.count))
                return .int(f.readPosition)
            }
            return .int(Int(lseek(fd, off_t(offset), Int32(whence))))
        }
    }
    t.method("tell") { _, s, _ in
        let f = file(s); try f.checkOpen()
        return f.locked {
            if f.isReadable && !f.mode.contains("w") { return .int(f.readPosition) }
            guard case .fd(let fd) = f.backing else { return .int(0) }
            return .int(Int(lseek(fd, 0, SEEK_CUR)) + f.writeBuffer.count)
        }
    }
    t.method("readable") { _, s, _ in .bool(file(s).isReadable) }
    t.method("writable") { _, s, _ in .bool(file(s).isWritable) }
    t.getter("name") { _, s in file(s).name }
    t.getter("mode") { _, s in .str(file(s).mode) }
    t.getter("closed") { _, s in .bool(file(s).isClosed) }
}
