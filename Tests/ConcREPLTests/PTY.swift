// A small expect: runs the real `conc` on a pseudo-terminal, types keys into it and waits
// for text to appear, with a deadline per step.
import Foundation
import Glibc

/// A `conc` process whose stdin/stdout/stderr are the slave side of a new pseudo-terminal.
final class PTYSession {
    /// The master side: what we write is typed, what we read is the screen's byte stream.
    let master: Int32
    let pid: pid_t
    /// Everything read so far.
    private(set) var transcript = ""
    /// Where the next `expect` starts looking in `transcript`.
    private var cursor: String.Index

    /// The binary under test: `CONC_BIN`, else `<repo>/.build/release/conc`.
    static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["CONC_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path).standardizedFileURL.path
        }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repo.path + "/.build/release/conc"
    }

    /// Starts `conc args` on a new 24x80 terminal with `environment` (added to a small
    /// clean one: PATH, TERM=xterm).
    init(_ args: [String], environment: [String: String]) throws {
        // Linux's ptmx ioctls (the _IOW/_IOR macros are not visible from Swift).
        let TIOCSPTLCK: UInt = 0x4004_5431, TIOCGPTN: UInt = 0x8004_5430
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw PTYError.setup("open /dev/ptmx: errno \(errno)") }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard ioctl(master, TIOCSPTLCK, &unlock) == 0, ioctl(master, TIOCGPTN, &number) == 0 else {
            throw PTYError.setup("ptmx ioctl: errno \(errno)")
        }
        var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        let slavePath = "/dev/pts/\(number)"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Opened after setsid (below), without O_NOCTTY: it becomes the controlling
        // terminal, so Ctrl-C typed on the master sends SIGINT to conc.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        let POSIX_SPAWN_SETSID: Int16 = 0x80  // glibc's value; the macro is not visible from Swift
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        sigaddset(&defaultSignals, SIGINT)
        posix_spawnattr_setsigdefault(&attr, &defaultSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var env = ["PATH=/usr/bin:/bin", "TERM=xterm"]
        for (k, v) in environment { env.append("\(k)=\(v)") }
        let argv = [PTYSession.binaryPath] + args
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, PTYSession.binaryPath, &actions, &attr, &cArgs, &cEnv)
        guard rc == 0 else { throw PTYError.setup("posix_spawn: \(rc)") }
        pid = child
        cursor = transcript.startIndex
    }

    deinit {
        if pid > 0 && kill(pid, 0) == 0 { kill(pid, SIGKILL); var s: Int32 = 0; waitpid(pid, &s, 0) }
        close(master)
    }

    /// Types `keys` (written to the terminal at once, as a paste or fast typing).
    func send(_ keys: String) {
        var bytes = Array(keys.utf8)
        _ = bytes.withUnsafeMutableBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Waits until `text` appears after the previous match; returns the output up to and
    /// including it. Throws with the transcript when `timeout` seconds pass first.
    @discardableResult
    func expect(_ text: String, timeout: Double = 5) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let r = transcript.range(of: text, range: cursor..<transcript.endIndex) {
                let seen = String(transcript[cursor..<r.upperBound])
                cursor = r.upperBound
                return seen
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 || !readSome(timeout: left) && Date() >= deadline {
                throw PTYError.timeout(expected: text, transcript: transcript)
            }
        }
    }

    /// Reads what is available within `timeout` seconds; false on timeout or end.
    @discardableResult
    func readSome(timeout: Double) -> Bool {
        var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&fds, 1, Int32(max(timeout, 0) * 1000)) > 0 else { return false }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = read(master, &buf, buf.count)
        guard n > 0 else { return false }
        transcript += String(decoding: buf[0..<n], as: UTF8.self)
        return true
    }

    /// Waits for the process to end (reading its output meanwhile); its exit status.
    func waitForExit(timeout: Double = 5) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                while readSome(timeout: 0.05) {}
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
            readSome(timeout: 0.05)
        }
        throw PTYError.timeout(expected: "<exit>", transcript: transcript)
    }
}

enum PTYError: Error, CustomStringConvertible {
    case setup(String)
    case timeout(expected: String, transcript: String)
    var description: String {
        switch self {
        case .setup(let s): return "pty set-up failed: \(s)"
        case .timeout(let e, let t): return "timed out waiting for \(e.debugDescription); transcript:\n\(t.debugDescription)"
        }
    }
}
