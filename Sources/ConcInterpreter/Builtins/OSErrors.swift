// The OSError family as CPython 3.11 builds it: the subclass an errno selects, OSError
// objects a program makes, and the errors the interpreter raises for failed system calls.
#if canImport(Glibc)
import Glibc
#endif

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
/// `path2`: the second path of a two-path call (`os.rename`), shown after " -> ".
func osError(_ code: Int32, path: Value? = nil, path2: Value? = nil) -> PyBaseException {
    let type = osErrorType(Int(code))
    let e = PyBaseException(type: type, args: [.int(Int(code)), .str(String(cString: strerror(code)))])
    e.setInstanceAttribute("errno", .int(Int(code)))
    e.setInstanceAttribute("strerror", .str(String(cString: strerror(code))))
    if let p = path { e.setInstanceAttribute("filename", p) }
    if let p = path2 { e.setInstanceAttribute("filename2", p) }
    return e
}
