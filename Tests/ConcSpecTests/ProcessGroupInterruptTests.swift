// Ctrl-C typed at a terminal sends SIGINT to the whole foreground process group: the
// program and every child it spawned (LANGUAGE.md §4). Each program below starts children,
// each child says when it is ready, and the test signals the group as a terminal would:
// every child gets KeyboardInterrupt in its main unit (`Process NAME:` and a traceback,
// exit code 1), the parent gets it too, and a second Ctrl-C during the end-of-program wait
// kills the children that are still running. Nothing is left in the group afterwards.
// Events are ordered by the lines the programs print, never by sleeping.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Ctrl-C to a process group with children")
struct ProcessGroupInterruptTests {
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let program: String
        /// Output (stdout and stderr together) to wait for before each Ctrl-C, in order.
        let before: [[String]]
        let status: Int
        /// Text stderr must contain, and text stdout must contain, at the end.
        let stderrHas: [String]
        let stdoutHas: [String]
        var description: String { name }
    }

    /// Two multiprocessing workers that sleep; `handler` is the body of their `except
    /// KeyboardInterrupt` (empty: not caught).
    static func workers(catching handler: String? = nil, parent: String = "for p in ps: p.join()") -> String {
        let body: String
        if let h = handler {
            body = """
                    while True:
                        try:
                            print('child', n, 'ready', flush=True)
                            time.sleep(60)
                        except KeyboardInterrupt:
                            \(h)
                """
        } else {
            body = """
                    print('child', n, 'ready', flush=True)
                    time.sleep(60)
                """
        }
        return """
            import multiprocessing, time
            def work(n):
            \(body)
            if __name__ == '__main__':
                ps = [multiprocessing.Process(target=work, args=(i,)) for i in range(2)]
                for p in ps: p.start()
                print('parent ready', flush=True)
                \(parent)
                print('not reached')
            """
    }

    static let ready = ["child 0 ready", "child 1 ready", "parent ready"]

    static let cases: [Case] = [
        Case(name: "multiprocessing children and the parent all get KeyboardInterrupt",
             program: workers(), before: [ready], status: 130,
             stderrHas: ["Process Process-1:", "Process Process-2:", "in work\n    time.sleep(60)\nKeyboardInterrupt",
                         "for p in ps: p.join()"],
             stdoutHas: []),
        Case(name: "the parent catches it and sees exit code 1 for each child",
             program: workers(parent: """
                try:
                        for p in ps: p.join()
                    except KeyboardInterrupt:
                        for p in ps: p.join()
                        print('exitcodes', [p.exitcode for p in ps])
                        raise SystemExit(0)
                """),
             before: [ready], status: 0,
             stderrHas: ["Process Process-1:", "Process Process-2:"], stdoutHas: ["exitcodes [1, 1]"]),
        Case(name: "spawn children get KeyboardInterrupt in their main unit",
             program: """
                import time
                def work(n):
                    print('child', n, 'ready', flush=True)
                    time.sleep(60)
                hs = [spawn work(i) with name='w%d' % i for i in range(2)]
                print('parent ready', flush=True)
                for h in hs: h.join()
                """,
             before: [ready], status: 130,
             stderrHas: ["Exception in process w0:", "Exception in process w1:", "for h in hs: h.join()"], stdoutHas: []),
        Case(name: "a Manager's server ignores it, so the parent can still read its proxies",
             program: """
                import multiprocessing, time
                def work(d, n):
                    d[n] = n * n
                    print('child', n, 'ready', flush=True)
                    try:
                        time.sleep(60)
                    except KeyboardInterrupt:
                        pass
                if __name__ == '__main__':
                    with multiprocessing.Manager() as m:
                        d = m.dict()
                        ps = [multiprocessing.Process(target=work, args=(d, i)) for i in range(2)]
                        for p in ps: p.start()
                        print('parent ready', flush=True)
                        try:
                            for p in ps: p.join()
                        except KeyboardInterrupt:
                            for p in ps: p.join()
                            print('partial', sorted(d.items()), flush=True)
                """,
             before: [ready], status: 0, stderrHas: [], stdoutHas: ["partial [(0, 0), (1, 1)]"]),
        Case(name: "a second Ctrl-C during the end-of-program wait kills children that go on",
             program: workers(catching: "print('child', n, 'goes on', flush=True)"),
             before: [ready, ["child 0 goes on", "child 1 goes on", "KeyboardInterrupt"]], status: 130,
             stderrHas: ["for p in ps: p.join()"], stdoutHas: []),
    ]

    @Test("Ctrl-C to the group", arguments: cases)
    func interruptGroup(_ c: Case) throws {
        let r = try runAndInterruptGroup(c.program, before: c.before)
        #expect(r.status == c.status, "exit status \(r.status); stdout: \(r.stdout); stderr: \(r.stderr)")
        for s in c.stderrHas { #expect(r.stderr.contains(s), "stderr lacks \(s): \(r.stderr)") }
        for s in c.stdoutHas { #expect(r.stdout.contains(s), "stdout lacks \(s): \(r.stdout)") }
        #expect(!r.stdout.contains("not reached"))
        #expect(r.leftInGroup.isEmpty, "processes left in the group: \(r.leftInGroup)")
        #expect(r.seconds < 8, "took \(r.seconds) s")
    }

    struct Outcome {
        var status: Int
        var stdout: String
        var stderr: String
        var leftInGroup: [pid_t]
        var seconds: Double
    }

    /// Runs `conc -c program` as the leader of its own process group; for each list in
    /// `before`, waits until all its texts appeared on stdout or stderr, then sends SIGINT
    /// to the group. Then waits for the end (10 s at most).
    func runAndInterruptGroup(_ program: String, before: [[String]]) throws -> Outcome {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw SpawnError(call: "pipe", code: errno) }
        let devNull = open("/dev/null", O_RDONLY)
        // A file, not `-c`: tracebacks of `-c` code show no source lines (as CPython's), and
        // the cases check which line each unit was interrupted at.
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("conc-group-\(UUID().uuidString).conc")
        try program.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let request = RunRequest(executable: SpecRunner.binaryPath, arguments: [script.path],
                                 workingDirectory: FileManager.default.currentDirectoryPath,
                                 environment: ProcessInfo.processInfo.environment, stdin: Data(), timeout: 20)
        let pid = try ChildRegistry.spawn(request, stdin: devNull, stdout: outPipe[1], stderr: errPipe[1])
        close(devNull); close(outPipe[1]); close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        var out = Data(), err = Data()
        let start = Date()
        var exited = false
        /// Reads what is there (up to `ms` of waiting); false at end of both streams.
        func pump(_ ms: Int32) -> Bool {
            var fds = [pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
                       pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, ms) > 0 else { return true }
            var open = 0
            for (i, f) in fds.enumerated() where f.revents != 0 {
                var buf = [UInt8](repeating: 0, count: 65536)
                let n = read(f.fd, &buf, buf.count)
                if n > 0 { if i == 0 { out.append(contentsOf: buf[0..<n]) } else { err.append(contentsOf: buf[0..<n]) } ; open += 1 }
            }
            return open > 0 || fds.allSatisfy { $0.revents == 0 }
        }
        func seen(_ texts: [String]) -> Bool {
            let all = String(decoding: out, as: UTF8.self) + String(decoding: err, as: UTF8.self)
            return texts.allSatisfy { all.contains($0) }
        }
        for texts in before {
            while !seen(texts) && Date().timeIntervalSince(start) < 10 { if !pump(100) { break } }
            kill(-pid, SIGINT)
        }
        while Date().timeIntervalSince(start) < 15 && pump(100) {}
        // The pipes close when every process holding them ended; the leader is waited for
        // without being reaped, so its pid (the group id) stays reserved for the check.
        var info = siginfo_t()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            info = siginfo_t()
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0 && info._sifields._sigchld.si_pid == pid { exited = true; break }
            usleep(10_000)
        }
        let seconds = Date().timeIntervalSince(start)
        let left = exited ? groupMembers(pid).filter { $0 != pid } : []
        if !exited || !left.isEmpty { kill(-pid, SIGKILL) }
        let status = ChildRegistry.waitForExit(pid)
        ChildRegistry.reap(pid)
        return Outcome(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
                       leftInGroup: exited ? left : [-1], seconds: seconds)
    }

    /// Pids whose process group is `pgid` (from /proc/PID/stat).
    func groupMembers(_ pgid: pid_t) -> [pid_t] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [pid_t] = []
        for name in names {
            guard let p = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm)": state, ppid, pgrp.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 2, pid_t(fields[2]) == pgid { found.append(p) }
        }
        return found
    }
}
