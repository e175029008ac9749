// The methods and attributes of file objects (what open() returns, and sys.std*).
#if canImport(Glibc)
import Glibc
#endif

/// Which of CPython's io classes a file type stands for.
enum FileClass {
    case text, reader, writer, random, raw
}

/// The methods of file objects of class `kind`.
func installFileMethods(_ t: PyType, _ kind: FileClass) {
    func file(_ v: Value) -> PyFile { v.object as! PyFile }
    /// A size argument: -1 (everything) for a missing one or None.
    func size(_ u: Unit, _ a: Args, _ key: String) throws -> Int {
        guard let v = a.argument(0, key), !v.isNone else { return -1 }
        return try u.toIndex(v)
    }

    // read(size) and readline(size): bytes or text as the mode says, under the file's lock.
    for (name, binary, text) in [("read", PyFile.readBytes, PyFile.readText), ("readline", PyFile.readByteLine, PyFile.readTextLine)] {
        t.method(name) { u, s, a in
            let f = file(s)
            try a.expect(name, 0, 1, keywords: ["size"])
            let n = try size(u, a, "size")
            return try f.withLock(u) {
                try f.checkReadable(name)
                return f.isBinary ? .obj(PyBytes(try binary(f)(n, u))) : .str(try text(f)(n, u))
            }
        }
    }
    t.method("readlines") { u, s, a in
        let f = file(s)
        try a.expect("readlines", 0, 1, keywords: ["hint"])
        let hint = try size(u, a, "hint")
        return try f.withLock(u) {
            try f.checkReadable("readlines")
            // As CPython's IOBase.readlines: stop once the lines read so far exceed `hint`
            // characters or bytes.
            var lines: [Value] = []
            var total = 0
            while hint <= 0 || total <= hint {
                let (line, length) = try f.nextLine(u)
                if length == 0 { break }
                total += length; lines.append(line)
            }
            return .obj(PyList(lines))
        }
    }
    t.method("write") { u, s, a in
        let f = file(s)
        try a.expect("write", 1, 1)
        if f.isBinary {
            // (A buffered file refuses before it looks at the argument, FileIO after.)
            if !f.isWritable && !f.isRaw { throw unsupportedOperation("write") }
            guard case .obj(let o) = a[0], let b = o as? PyBytes else {
                throw typeError("a bytes-like object is required, not '\(a[0].typeName)'")
            }
            let bytes = b.snapshot
            try f.withLock(u) { try f.checkWritable(); try f.writeBytes(bytes) }
            return .int(bytes.count)
        }
        guard let str = a[0].asStr else { throw typeError("write() argument must be str, not \(a[0].argTypeName)") }
        if case .sink(let sink) = f.backing {
            try f.withLock(u) { try f.checkWritable() }
            sink.write(str.value)
            return .int(str.count)
        }
        try f.withLock(u) {
            try f.checkWritable()
            try f.writeBytes(try f.encodeText(str.value))
        }
        return .int(str.count)
    }
    t.method("writelines") { u, s, a in
        try a.expect("writelines", 1, 1)
        let f = file(s)
        try f.withLock(u) { try f.checkOpen("writelines") }   // IOBase's check, before any line
        let it = try u.iterate(a[0])
        while let line = try it.next(u) { _ = try u.callMethod(s, "write", [line]) }
        return .none
    }
    t.method("flush") { u, s, _ in
        let f = file(s)
        try f.withLock(u) { try f.checkOpen("flush"); try f.flushWritesLocked() }
        return .none
    }
    t.method("close") { u, s, _ in
        let f = file(s)
        try f.withLock(u) { try f.closeLocked() }
        return .none
    }
    t.method("fileno") { u, s, _ in
        let f = file(s)
        try f.withLock(u) { try f.checkOpen("fileno") }
        switch f.backing {
        case .fd(let fd): return .int(Int(fd))
        case .sink(let sink): return .int(Int(sink.descriptor ?? 1))
        case .stdin: return .int(0)
        }
    }
    t.method("isatty") { u, s, _ in
        let f = file(s)
        try f.withLock(u) { try f.checkOpen("isatty") }
        switch f.backing {
        case .fd(let fd): return .bool(isatty(fd) != 0)
        case .sink(let sink): return .bool(sink.descriptor.map { isatty($0) != 0 } ?? false)
        case .stdin: return .bool(isatty(0) != 0)
        }
    }
    t.method("__enter__") { u, s, _ in
        let f = file(s)
        try f.withLock(u) { try f.checkOpen() }
        return s
    }
    t.method("__exit__") { u, s, _ in _ = try u.callMethod(s, "close", []); return .none }
    t.method("__iter__") { u, s, _ in
        let f = file(s)
        try f.withLock(u) { try f.checkOpen() }
        return s
    }
    t.method("__next__") { u, s, _ in
        let f = file(s)
        let (line, length) = try f.withLock(u) { try f.checkReadable("readline"); return try f.nextLine(u) }
        if length == 0 { throw PyBaseException(type: Exc.stopIteration, args: []) }
        return line
    }
    t.method("seek") { u, s, a in
        let f = file(s)
        try a.expect("seek", 1, 2, keywords: ["cookie", "whence"])
        let offset = try u.toIndex(a[0])
        let whence = try a.argument(1, "whence").map { try u.toIndex($0) } ?? 0
        return try f.withLock(u) {
            try f.checkOpen("seek")
            guard (0...2).contains(whence) else {
                throw valueError(f.isBinary ? "whence value \(whence) unsupported" : "invalid whence (\(whence), should be 0, 1 or 2)")
            }
            if !f.isBinary {
                // CPython's text files take only positions tell() gave, or 0 from the
                // current position or the end.
                if whence == 1 && offset != 0 { throw unsupportedOperation("can't do nonzero cur-relative seeks") }
                if whence == 2 && offset != 0 { throw unsupportedOperation("can't do nonzero end-relative seeks") }
                if offset < 0 { throw valueError("negative seek position \(offset)") }
            }
            if case .fd = f.backing {} else { throw unsupportedOperation("underlying stream is not seekable") }
            return .int(try f.seek(offset, Int32(whence)))
        }
    }
    t.method("tell") { u, s, _ in
        let f = file(s)
        return try f.withLock(u) {
            try f.checkOpen("tell")
            if case .fd = f.backing {} else { throw unsupportedOperation("underlying stream is not seekable") }
            return .int(try f.position())
        }
    }
    t.method("truncate") { u, s, a in
        let f = file(s)
        try a.expect("truncate", 0, 1, keywords: ["size"])
        let n = try a.argument(0, "size").flatMap { $0.isNone ? nil : try u.toIndex($0) }
        return try f.withLock(u) {
            try f.checkWritable("truncate")
            return .int(try f.truncate(n))
        }
    }
    t.method("readable") { u, s, _ in
        let f = file(s)
        // (Closed: an error only where the mode reads; CPython's other layer says False.)
        return try f.withLock(u) { if f.isReadable || f.isRaw { try f.checkOpen("readable") }; return .bool(f.isReadable) }
    }
    t.method("writable") { u, s, _ in
        let f = file(s)
        return try f.withLock(u) { if f.isWritable || f.isRaw { try f.checkOpen("writable") }; return .bool(f.isWritable) }
    }
    t.method("seekable") { u, s, _ in
        let f = file(s)
        return try f.withLock(u) {
            try f.checkOpen("seekable")
            guard case .fd(let fd) = f.backing else { return .bool(false) }
            return .bool(lseek(fd, 0, SEEK_CUR) >= 0)
        }
    }
    t.getter("name") { _, s in file(s).name }
    t.getter("mode") { _, s in .str(file(s).mode) }
    t.getter("closed") { u, s in
        let f = file(s)
        return f.withLock(u) { .bool(f.isClosed) }
    }
    if kind != .text {
        installBinaryFileMethods(t, kind)
        return
    }
    t.getter("encoding") { _, s in .str(file(s).text.encodingName) }
    t.getter("errors") { _, s in .str(file(s).text.errors) }
    t.getter("newlines") { _, _ in .none }
    t.getter("line_buffering") { _, s in .bool(file(s).lineBuffered) }
    t.getter("buffer") { u, s in .obj(file(s).binaryLayer(u)) }
}

/// What only the binary classes have: readinto; read1 and peek (the buffered ones);
/// readall and closefd (FileIO).
private func installBinaryFileMethods(_ t: PyType, _ kind: FileClass) {
    func file(_ v: Value) -> PyFile { v.object as! PyFile }
    if kind == .raw {
        t.method("readall") { u, s, a in
            let f = file(s)
            try a.expect("readall", 0, 0)
            return try f.withLock(u) {
                try f.checkOpen("readall")
                if !f.isReadable { throw osError(EBADF) }   // the read(2) fails, as CPython's does
                return .obj(PyBytes(try f.readBytes(-1, u)))
            }
        }
        t.getter("closefd") { _, s in .bool(file(s).core.closesDescriptor) }
    }
    t.method("readinto") { u, s, a in
        let f = file(s)
        try a.expect("readinto", 1, 1)
        guard case .obj(let o) = a[0], let target = o as? PyBytes, target.isMutable else {
            throw typeError("readinto() argument must be read-write bytes-like object, not \(a[0].typeName)")
        }
        let wanted = target.count
        let got = try f.withLock(u) { () -> [UInt8] in
            try f.checkReadable("readinto")
            return try f.readBytes(wanted, u)
        }
        // (The target may have shrunk meanwhile: another unit shares it.)
        target.withBytes { b in
            let n = min(got.count, b.count)
            b.replaceSubrange(0..<n, with: got[0..<n])
        }
        return .int(got.count)
    }
    if kind == .raw { return }
    t.method("read1") { u, s, a in
        let f = file(s)
        try a.expect("read1", 0, 1, keywords: ["size"])
        let n = try a.argument(0, "size").flatMap { $0.isNone ? nil : try u.toIndex($0) } ?? -1
        return try f.withLock(u) {
            try f.checkReadable("read1")
            try f.flushWritesLocked()
            // At most one read of the source, as CPython's read1.
            if f.unread == 0 && n != 0 { _ = try f.fill(u) }
            return .obj(PyBytes(Array(f.take(n < 0 ? f.unread : min(n, f.unread)))))
        }
    }
    if kind == .writer { return }
    t.method("peek") { u, s, a in
        let f = file(s)
        try a.expect("peek", 0, 1, keywords: ["size"])
        return try f.withLock(u) {
            try f.checkReadable("peek")
            try f.flushWritesLocked()
            if f.unread == 0 { _ = try f.fill(u) }
            return .obj(PyBytes(Array(f.core.readBuffer[f.core.readPosition...])))
        }
    }
}

extension PyFile {
    /// The next whole line as bytes or str, and its length in bytes or characters (0 at
    /// the end); mutex held.
    func nextLine(_ u: Unit) throws -> (Value, Int) {
        if isBinary {
            let l = try readByteLine(-1, u)
            return (.obj(PyBytes(l)), l.count)
        }
        let l = try readTextLine(-1, u)
        return (.str(l), l.unicodeScalars.count)
    }

    /// CPython's repr: `<_io.TextIOWrapper name='out.txt' mode='w' encoding='UTF-8'>`, or
    /// the buffered binary class's.
    var reprText: String {
        let nameRepr: String
        if let s = name.asStr?.value { nameRepr = "'" + s + "'" }
        else if case .int(let i) = name { nameRepr = String(i) }
        else { nameRepr = "..." }
        if isBinary {
            if isRaw && isClosed { return "<_io.FileIO [closed]>" }
            if isRaw { return "<_io.FileIO name=\(nameRepr) mode='\(mode)' closefd=\(core.closesDescriptor ? "True" : "False")>" }
            return "<_io.\(type.name) name=\(nameRepr)>"
        }
        return "<_io.TextIOWrapper name=\(nameRepr) mode='\(mode)' encoding='\(text.encodingName)'>"
    }
}
