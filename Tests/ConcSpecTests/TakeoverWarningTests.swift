// A multiprocessing.Lock whose holder process was killed is taken over by the next process
// that acquires it, with a warning naming that process (its main unit alone, "MainThread",
// would not say which). The warning carries the dead holder's pid, which a spec file's
// exact stderr lines cannot match, hence this test.
import Foundation
import Testing

@Suite("lock taken over from a killed process")
struct TakeoverWarningTests {
    @Test("the warning names the process that takes the lock over")
    func warningNamesTheTakingProcess() throws {
        let program = """
            import multiprocessing as mp, time
            def holder(l, ev):
                l.acquire()
                ev.set()
                time.sleep(60)
            def waiter(l):
                with l:
                    print("waiter got the lock", flush=True)
            if __name__ == "__main__":
                l = mp.Lock()
                ev = mp.Event()
                h = mp.Process(target=holder, args=(l, ev))
                h.start()
                ev.wait()
                h.kill()
                h.join()
                w = mp.Process(target=waiter, args=(l,), name="Waiter")
                w.start()
                w.join()
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: SpecRunner.binaryPath)
        p.arguments = ["-c", program]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "stderr: \(stderr)")
        #expect(stdout == "waiter got the lock\n")
        #expect(stderr.contains("when it died; MainThread in process Waiter takes it over"), "stderr: \(stderr)")
    }
}
