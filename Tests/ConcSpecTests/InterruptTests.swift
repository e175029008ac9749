// Ctrl-C reaches the main unit wherever it is blocked (LANGUAGE.md §4): each program below
// prints "ready" once it is about to block, the test sends SIGINT, and the program must end
// with KeyboardInterrupt (death by SIGINT, 130 in a shell) within a couple of seconds — or, when it catches
// it, go on with its state intact. A spec file cannot send signals, hence this table.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Ctrl-C while blocked")
struct InterruptTests {
    /// A blocking call and the set-up that makes it block without looking like a deadlock
    /// (a daemon thread that sleeps keeps the program merely slow).
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let setup: String
        let block: String
        var description: String { name }
    }

    static let sleeper = """
        import time
        def sleeper():
            time.sleep(60)
        thread sleeper() with daemon=True
        """

    static let cases: [Case] = [
        Case(name: "sleep", setup: "", block: "sleep(60)"),
        Case(name: "time.sleep", setup: "import time", block: "time.sleep(60)"),
        Case(name: "join", setup: sleeper + "\nh = thread sleeper() with daemon=True", block: "h.join()"),
        Case(name: "lock acquire", setup: """
            import time
            l = lock()
            held = event()
            def holder():
                with l:
                    held.set()
                    time.sleep(60)
            thread holder() with daemon=True
            held.wait()
            """, block: "l.acquire()"),
        Case(name: "semaphore acquire", setup: sleeper + "\ns = semaphore(0)", block: "s.acquire()"),
        Case(name: "event wait", setup: sleeper + "\ne = event()", block: "e.wait()"),
        Case(name: "condition wait", setup: sleeper + "\nc = condition()\nc.acquire()", block: "c.wait()"),
        Case(name: "queue get", setup: sleeper + "\nq = queue()", block: "q.get()"),
        Case(name: "queue put on a full queue", setup: sleeper + "\nq = queue(1)\nq.put(1)", block: "q.put(2)"),
        // stdin is a pipe the test keeps open: the read waits for input that never comes.
        Case(name: "input", setup: "", block: "input()"),
        Case(name: "sys.stdin.readline", setup: "import sys", block: "sys.stdin.readline()"),
    ]

    @Test("Ctrl-C ends the blocked main unit with KeyboardInterrupt", arguments: cases)
    func interruptEndsProgram(_ c: Case) throws {
        let program = c.setup + "\nprint('ready', flush=True)\n" + c.block + "\nprint('not reached')\n"
        let r = try runAndInterrupt(program)
        #expect(r.status == 130, "exit status \(r.status); stderr: \(r.stderr)")
        #expect(r.stderr.contains("KeyboardInterrupt"), "stderr: \(r.stderr)")
        #expect(!r.stdout.contains("not reached"))
        #expect(r.secondsAfterSignal < 3, "took \(r.secondsAfterSignal) s to stop")
    }

    @Test("a caught KeyboardInterrupt leaves the program running with its state")
    func caughtInterruptKeepsState() throws {
        let program = """
            total = 41
            q = queue()
            \(InterruptTests.sleeper)
            print('ready', flush=True)
            try:
                q.get()
            except KeyboardInterrupt:
                total += 1
            print('total', total)
            """
        let r = try runAndInterrupt(program)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("total 42"))
    }

    @Test("a second Ctrl-C ends the wait for non-daemon threads at exit")
    func secondInterruptEndsShutdown() throws {
        let program = """
            import time
            def worker():
                time.sleep(60)
            h = thread worker()
            print('ready', flush=True)
            h.join()
            """
        // The first Ctrl-C interrupts join; the program's end then waits for the
        // non-daemon worker, as CPython does, until the second one.
        let r = try runAndInterrupt(program, signals: 2)
        #expect(r.status == 130, "stderr: \(r.stderr)")
        #expect(r.secondsAfterSignal < 4, "took \(r.secondsAfterSignal) s to stop")
    }

    @Test("the deadlock detector still works after a Ctrl-C the program caught")
    func detectorWorksAfterCaughtInterrupt() throws {
        let program = """
            import threading, time
            print('ready', flush=True)
            try:
                time.sleep(30)
            except KeyboardInterrupt:
                print('caught', flush=True)
            s = threading.Semaphore(0)
            s.acquire()
            """
        let r = try runAndInterrupt(program)
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("caught"))
        #expect(r.stderr.contains("DeadlockError"), "stderr: \(r.stderr)")
        #expect(r.secondsAfterSignal < 3, "took \(r.secondsAfterSignal) s to stop")
    }

    @Test("after an uncaught Ctrl-C, a non-daemon thread that can never finish is explained")
    func stuckThreadAfterInterruptIsExplained() throws {
        let program = """
            import threading, time
            ev = threading.Event()
            def stuck():
                ev.wait()
            threading.Thread(target=stuck, name="Stuck").start()
            print('ready', flush=True)
            time.sleep(30)
            """
        let r = try runAndInterrupt(program)
        #expect(r.stderr.contains("KeyboardInterrupt"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("waits for non-daemon thread Stuck"), "stderr: \(r.stderr)")
        #expect(r.secondsAfterSignal < 3, "took \(r.secondsAfterSignal) s to stop")
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var secondsAfterSignal: Double
    }

    /// Runs `conc -c program`, waits for "ready" on stdout, sends SIGINT, waits for the end.
    func runAndInterrupt(_ program: String, signals: Int = 1) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: SpecRunner.binaryPath)
        p.arguments = ["-c", program]
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        // Read stdout until "ready" (or 10 s pass).
        var seen = Data()
        let fd = out.fileHandleForReading.fileDescriptor
        let start = Date()
        while !String(decoding: seen, as: UTF8.self).contains("ready") && Date().timeIntervalSince(start) < 10 {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 100) > 0 {
                var buf = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &buf, buf.count)
                if n <= 0 { break }
                seen.append(contentsOf: buf[0..<n])
            }
        }
        // Not needed for correctness (a signal that arrives before the call blocks is raised
        // at the call anyway); it only makes the blocked path the one usually exercised.
        usleep(200_000)
        let signalled = Date()
        kill(p.processIdentifier, SIGINT)
        for _ in 1..<max(1, signals) {
            usleep(300_000)
            kill(p.processIdentifier, SIGINT)
        }
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        let elapsed = Date().timeIntervalSince(signalled)
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        seen.append(out.fileHandleForReading.readDataToEndOfFile())
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // Death by a signal reads as a shell shows it (128 + N): an uncaught
        // KeyboardInterrupt ends conc with SIGINT, as it ends CPython.
        let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return Outcome(status: status, stdout: String(decoding: seen, as: UTF8.self),
                       stderr: errText, secondsAfterSignal: elapsed)
    }
}
