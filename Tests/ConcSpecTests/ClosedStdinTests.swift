// A program started with its standard input closed (`conc prog <&-`, as some service
// managers start programs): sys.stdin is None and input() says it lost it, as CPython's.
// A spec file always gets a stdin pipe, hence this test.
import Foundation
import Testing

@Suite("standard input closed at start")
struct ClosedStdinTests {
    @Test("sys.stdin is None and input() raises RuntimeError")
    func closedStdin() throws {
        let program = """
            import sys
            print(sys.stdin, sys.__stdin__)
            try:
                input()
            except RuntimeError as e:
                print(e)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // `0<&-` closes descriptor 0 for conc only.
        p.arguments = ["-c", "exec \"$0\" -c \"$1\" 0<&-", SpecRunner.binaryPath, program]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "output: \(text)")
        #expect(text == "None None\ninput(): lost sys.stdin\n", "output: \(text)")
    }
}
