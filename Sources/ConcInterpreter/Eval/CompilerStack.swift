// Parsing and compiling recurse once per nesting level of the source, using far more
// machine stack per level than evaluation does. A generator's body runs on a 1 MiB
// coroutine stack and a thread's on 16 MiB, so eval(), exec(), compile() and imports
// there compile deeply nested source on a fresh thread with a large stack instead.
import CConcSys
#if canImport(Glibc)
import Glibc
#endif

extension Unit {
    /// Stack the compiler may need for source of any nesting the parser accepts.
    static let compilerStackRoom: UInt = 64 << 20

    /// Runs `body` (a parse and compile of `source`) here when this stack has room for it
    /// (or the source is too shallow to need it), else on a fresh thread with a large stack,
    /// waiting for it. `body` must not run Conc code.
    func withCompilerStack<T>(for source: String, _ body: () throws -> T) throws -> T {
        let sp = UInt(CConcSys_current_sp())
        if sp > stackLimit && sp - stackLimit >= Unit.compilerStackRoom { return try body() }
        if !Unit.mayNestDeeply(source) { return try body() }
        return try withoutActuallyEscaping(body) { escapable in
            var result: Result<T, Error>? = nil
            runOnFreshStack(1 << 30) { result = Result { try escapable() } }
            return try result!.get()
        }
    }

    /// False for source that cannot nest more than a few levels (most eval() strings): it
    /// compiles on any stack.
    private static func mayNestDeeply(_ source: String) -> Bool {
        if source.utf8.count > 2048 { return true }
        var depth = 0, deepest = 0
        for c in source.utf8 {
            switch c {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; deepest = max(deepest, depth)
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest > 8
    }
}

/// Runs `body` on a new thread with a `size`-byte stack (lazily committed) and waits for
/// it; runs it here if no thread can be made. While waiting, the calling thread blocks
/// SIGINT, so Ctrl-C lands on the new thread (the interpreter's, when the CLI starts it).
public func runOnFreshStack(_ size: Int, _ body: @escaping () -> Void) {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setstacksize(&attr, size)
    var tid = pthread_t()
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    let rc = pthread_create(&tid, &attr, { arg in
        Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
        return nil
    }, box)
    if rc != 0 {
        Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()
        return
    }
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    var old = sigset_t()
    pthread_sigmask(SIG_BLOCK, &set, &old)
    pthread_join(tid, nil)
    pthread_sigmask(SIG_SETMASK, &old, nil)
}
