// Runs the built `conc` binary as a subprocess: stdin, arguments, environment, timeout,
// captured stdout and stderr, and a check that no zombie child of the test process remains.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Requests and results

/// How to run one program.
struct RunRequest: Sendable {
    /// The absolute path of the binary.
    var executable: String
    /// The arguments after the binary's name.
    var arguments: [String]
    /// The working directory of the child.
    var workingDirectory: String
    /// The complete environment of the child.
    var environment: [String: String]
    /// Bytes fed to the child's stdin, which is then closed.
    var stdin: Data
    /// The wall-clock limit in seconds.
    var timeout: Double
}

/// What one run produced.
struct RunResult: Sendable {
    /// Everything written to stdout, decoded as UTF-8 (invalid bytes replaced).
    var stdout: String
    /// Everything written to stderr, decoded as UTF-8 (invalid bytes replaced).
    var stderr: String
    /// The exit status; 128 + N when the child was killed by signal N (as a shell reports it).
    var exitStatus: Int
    /// True when the child ran past its timeout and its process group was killed.
    var timedOut = false
    /// True when the child exited but a process it started kept stdout or stderr open.
    var outputHeldOpen = false
}

// MARK: - Runner

/// Runs programs, at most ``jobs`` at a time.
enum SpecRunner {
    /// How many programs may run at once: `CONC_SPEC_JOBS`, else twice the core count.
    static let jobs: Int = {
        let requested = ProcessInfo.processInfo.environment["CONC_SPEC_JOBS"].flatMap { Int($0) }
        if let requested, requested > 0 { return requested }
        return max(2, 2 * ProcessInfo.processInfo.activeProcessorCount)
    }()

    private static let slots = ProcessSlots(limit: jobs)

    /// The sentence shown when the binary is missing.
    static let missingBinaryMessage =
        "build conc first: swift build -c release (or set CONC_BIN to a built conc binary)"

    /// The binary under test: `CONC_BIN`, else `<repo>/.build/release/conc`.
    static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["CONC_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path).standardizedFileURL.path
        }
        return SpecFile.repositoryRoot + "/.build/release/conc"
    }

    /// True when ``binaryPath`` names an executable file.
    static var binaryExists: Bool { FileManager.default.isExecutableFile(atPath: binaryPath) }

    /// Runs `request` once a slot is free.
    ///
    /// - Throws: ``SpawnError`` when the binary cannot be started.
    static func run(_ request: RunRequest) async throws -> RunResult {
        await slots.acquire()
        do {
            let result = try await runNow(request)
            await slots.release()
            return result
        } catch {
            await slots.release()
            throw error
        }
    }

    /// Starts the child, feeds stdin, and waits for it and for both output pipes.
    private static func runNow(_ request: RunRequest) async throws -> RunResult {
        let input = try Spawn.pipe()
        defer { close(input.read) }
        let written = Result { try Spawn.writeAll(request.stdin, to: input.write) }
        close(input.write)
        try written.get()
        let output = try Spawn.pipe()
        let errors = try Spawn.pipe()
        let child = ChildRun(timeout: request.timeout)
        let pid: pid_t
        do {
            pid = try ChildRegistry.spawn(
                request, stdin: input.read, stdout: output.write, stderr: errors.write)
        } catch {
            for fd in [output.read, output.write, errors.read, errors.write] { close(fd) }
            throw error
        }
        close(output.write)
        close(errors.write)
        let result = await withCheckedContinuation { continuation in
            child.start(
                pid: pid, output: output.read, errors: errors.read, continuation: continuation)
        }
        // Whatever the program left behind in its process group goes too. The child is reaped
        // only after this, so its pid (the group's id) cannot have been reused meanwhile.
        killpg(pid, SIGKILL)
        ChildRegistry.reap(pid)
        return result
    }
}

// MARK: - One child

/// The state of one running child: its exit, its two output pipes, its deadline.
///
/// Every stored property is guarded by `lock`; the continuation is resumed exactly once.
/// That lock is what makes `@unchecked Sendable` safe.
private final class ChildRun: @unchecked Sendable {
    /// Guards every field below.
    private let lock = NSLock()
    /// The wall-clock limit in seconds.
    private let timeout: Double
    /// Resumed once, with the result, when everything is done or given up on.
    private var continuation: CheckedContinuation<RunResult, Never>?
    /// The child's pid, which is also its process group id (`POSIX_SPAWN_SETPGROUP`).
    private var pid: pid_t = 0
    /// The exit status (128 + N after signal N), set once the child has ended.
    private var exitStatus: Int?
    /// Output read so far from stdout and stderr.
    private var output = Data(), errors = Data()
    /// True once that pipe reached end of file.
    private var outputClosed = false, errorsClosed = false
    /// Set when the deadline killed a running child, or found a pipe still held open.
    private var timedOut = false, heldOpen = false

    init(timeout: Double) { self.timeout = timeout }

    /// Starts the reader and waiter threads and arms the deadline.
    func start(
        pid: pid_t, output: Int32, errors: Int32,
        continuation: CheckedContinuation<RunResult, Never>
    ) {
        lock.withLock {
            self.pid = pid
            self.continuation = continuation
        }
        read(output, isErrors: false)
        read(errors, isErrors: true)
        Thread { self.markExited(ChildRegistry.waitForExit(pid)) }.start()
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { self.deadlinePassed() }
    }

    /// Records the exit status; gives the pipes a short grace period to reach end of file.
    private func markExited(_ status: Int) {
        lock.withLock {
            exitStatus = status
            finishIfDone()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) { self.deadlinePassed() }
    }

    /// Reads `fd` to end of file on a thread of its own, then closes it.
    private func read(_ fd: Int32, isErrors: Bool) {
        Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes {
                    Glibc.read(fd, $0.baseAddress, $0.count)
                }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                self.lock.withLock {
                    if isErrors {
                        self.errors.append(contentsOf: buffer[..<count])
                    } else {
                        self.output.append(contentsOf: buffer[..<count])
                    }
                }
            }
            close(fd)
            self.lock.withLock {
                if isErrors { self.errorsClosed = true } else { self.outputClosed = true }
                self.finishIfDone()
            }
        }.start()
    }

    /// Kills the child's process group if it still runs or still holds a pipe open.
    private func deadlinePassed() {
        let target: pid_t? = lock.withLock {
            if continuation == nil { return nil }
            if exitStatus == nil { timedOut = true } else { heldOpen = true }
            return pid
        }
        guard let target else { return }
        killpg(target, SIGKILL)
        // A process outside the group may still hold a pipe: stop waiting for it.
        DispatchQueue.global().asyncAfter(deadline: .now() + 3) {
            self.lock.withLock { self.resume() }
        }
    }

    /// Resumes when the child has ended and both pipes are closed. Call with `lock` held.
    private func finishIfDone() {
        if exitStatus != nil && outputClosed && errorsClosed { resume() }
    }

    /// Resumes the waiter with what is known now. Call with `lock` held.
    private func resume() {
        guard let continuation else { return }
        self.continuation = nil
        var result = RunResult(
            stdout: String(decoding: output, as: UTF8.self),
            stderr: String(decoding: errors, as: UTF8.self),
            exitStatus: exitStatus ?? -1)
        result.timedOut = timedOut
        result.outputHeldOpen = heldOpen && !timedOut
        continuation.resume(returning: result)
    }
}

// MARK: - posix_spawn

/// Starting a child with `posix_spawn`.
///
/// Not Foundation's `Process`: the child must start with an empty signal mask and default
/// signal dispositions (the test process runs on Dispatch threads that block most signals,
/// and a blocked mask survives exec, so `os.kill(pid, SIGTERM)` would do nothing), in a
/// process group of its own (so a timeout can kill everything it started), and it must
/// not inherit the pipes of children started at the same moment on other threads.
/// Foundation also reports a child's exit only once every inheritor of its pipes is gone.
enum Spawn {
    private typealias AddChdir =
        @convention(c) (
            UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
        ) -> Int32
    private typealias AddClosefrom =
        @convention(c) (
            UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32
        ) -> Int32
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    // These GNU extensions are hidden from Swift's Glibc module (no _GNU_SOURCE), so they
    // are looked up at run time. Immutable function pointers: safe to share.
    nonisolated(unsafe) private static let addChdir: AddChdir =
        symbol("posix_spawn_file_actions_addchdir_np")
    nonisolated(unsafe) private static let addClosefrom: AddClosefrom =
        symbol("posix_spawn_file_actions_addclosefrom_np")
    nonisolated(unsafe) private static let pipe2: Pipe2 = symbol("pipe2")

    private static func symbol<T>(_ name: String) -> T {
        guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
            fatalError("the C library lacks \(name)")
        }
        return unsafeBitCast(address, to: T.self)
    }

    /// A pipe whose two ends are closed on exec.
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if pipe2(&fds, O_CLOEXEC) != 0 { throw SpawnError(call: "pipe2", code: errno) }
        return (fds[0], fds[1])
    }

    /// Writes all of `data` to `fd`; it must fit in the pipe's buffer (64 KiB), because no
    /// one reads it until the child starts.
    static func writeAll(_ data: Data, to fd: Int32) throws {
        precondition(data.count < 60_000, "# stdin: input too large for the harness")
        var rest = data[...]
        while !rest.isEmpty {
            let written = rest.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written < 0 { throw SpawnError(call: "write", code: errno) }
            rest = rest.dropFirst(written)
        }
    }

    /// Starts `request` with the given descriptors as its fds 0, 1 and 2.
    static func start(_ request: RunRequest, stdin: Int32, stdout: Int32, stderr: Int32) throws
        -> pid_t
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        _ = addChdir(&actions, request.workingDirectory)
        _ = addClosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = [request.executable] + request.arguments
        let envp = request.environment.map { "\($0.key)=\($0.value)" }
        var pid = pid_t()
        let code = withCStrings(argv) { argv in
            withCStrings(envp) { envp in
                posix_spawn(&pid, request.executable, &actions, &attributes, argv, envp)
            }
        }
        if code != 0 { throw SpawnError(call: "posix_spawn \(request.executable)", code: code) }
        return pid
    }

    /// Calls `body` with a NULL-terminated array of C strings.
    private static func withCStrings<T>(
        _ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T
    ) -> T {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}

/// A failed system call while starting a child.
struct SpawnError: Error, CustomStringConvertible {
    /// The call that failed.
    var call: String
    /// Its errno.
    var code: Int32

    var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
}

// MARK: - Slots

/// A counting semaphore for async code: at most `limit` holders at once.
private actor ProcessSlots {
    /// Slots not held.
    private var free: Int
    /// Callers waiting for a slot, first come first served.
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { free = limit }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { free += 1 } else { waiters.removeFirst().resume() }
    }
}

// MARK: - Children and zombies

/// The children this harness started and has not yet seen reaped, and the zombie check.
///
/// Spawning and scanning share one lock, so a scan never sees a child that exists but is
/// not yet registered; a child is unregistered only after `waitpid` has reaped it. A
/// registered child is a zombie from its exit until the harness has finished with it.
enum ChildRegistry {
    /// Guards `running`.
    private static let lock = NSLock()
    /// Pids started and not yet reaped.
    nonisolated(unsafe) private static var running: Set<pid_t> = []

    /// Starts `request` and registers its pid.
    static func spawn(_ request: RunRequest, stdin: Int32, stdout: Int32, stderr: Int32) throws
        -> pid_t
    {
        try lock.withLock {
            let pid = try Spawn.start(request, stdin: stdin, stdout: stdout, stderr: stderr)
            running.insert(pid)
            return pid
        }
    }

    /// Waits for `pid` to end without reaping it, and returns its exit status (128 + N
    /// after signal N, -1 when it could not be waited for).
    ///
    /// Left a zombie, the child keeps its pid, and so its process group id, reserved:
    /// the harness can still signal the group safely.
    static func waitForExit(_ pid: pid_t) -> Int {
        var info = siginfo_t()
        var result: Int32
        repeat {
            result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
        } while result < 0 && errno == EINTR
        if result < 0 { return -1 }
        let status = Int(info._sifields._sigchld.si_status)
        return info.si_code == CLD_EXITED ? status : 128 + status
    }

    /// Reaps `pid` (waiting for it if needed) and unregisters it.
    static func reap(_ pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        lock.withLock { _ = running.remove(pid) }
    }

    /// Zombie children of the test process that the harness is not about to reap.
    static func unexpectedZombies() -> Set<pid_t> {
        lock.withLock { zombieChildren().subtracting(running) }
    }

    /// Zombies that stay zombies for about a second: a child of other code in this test
    /// process (an embedding test that forks, say) is reaped well within that.
    static func lingeringZombies() async -> Set<pid_t> {
        var zombies = unexpectedZombies()
        var attempts = 0
        while !zombies.isEmpty && attempts < 10 {
            try? await Task.sleep(nanoseconds: 100_000_000)
            zombies.formIntersection(unexpectedZombies())
            attempts += 1
        }
        return zombies
    }

    /// Children of this process in state Z, from `/proc/*/stat`.
    static func zombieChildren() -> Set<pid_t> {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var zombies: Set<pid_t> = []
        for entry in entries {
            guard let pid = pid_t(entry),
                let stat = try? String(
                    contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)
            else { continue }
            if let (state, parent) = parseStat(stat), state == "Z", parent == me {
                zombies.insert(pid)
            }
        }
        return zombies
    }

    /// The state letter and parent pid of a `/proc/PID/stat` line.
    ///
    /// The command name is in parentheses and may itself contain spaces and parentheses,
    /// so the fields are read after the last `)`.
    static func parseStat(_ stat: String) -> (state: Character, parent: pid_t)? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count >= 2, let state = fields[0].first, let parent = pid_t(fields[1])
        else { return nil }
        return (state, parent)
    }
}
