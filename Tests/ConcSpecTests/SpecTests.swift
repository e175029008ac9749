// The spec suite: every Tests/spec/**/*.conc file is one case, run on the built `conc`.
import Foundation
import Testing

@Suite("Spec files")
struct SpecTests {
    /// Runs one spec file (each chunk, on each unit kind) and reports every mismatch.
    @Test("spec", arguments: SpecFile.all)
    func spec(_ file: SpecFile) async throws {
        if let reason = file.skipReason {
            Issue.record(
                "\(file.displayPath): skipped: \(reason)", severity: .warning,
                sourceLocation: file.location(line: 1))
            SpecResults.record(.skipped, file)
            try Test.cancel("skip: \(reason)")
        }
        for problem in file.annotations.problems {
            Issue.record(
                "\(file.displayPath):\(problem.line): malformed annotation: \(problem.message)",
                sourceLocation: file.location(line: problem.line))
        }
        guard file.annotations.problems.isEmpty, SpecRunner.binaryExists else {
            if !SpecRunner.binaryExists { Issue.record("\(SpecRunner.missingBinaryMessage)") }
            SpecResults.record(.failed, file)
            return
        }
        let reports = await SpecExecution(file: file).run()
        SpecResults.record(
            SpecResults.outcome(failed: !reports.isEmpty, pending: file.pending != nil), file)
        guard let pending = file.pending else {
            for report in reports { Issue.record(report.comment, sourceLocation: report.location) }
            return
        }
        if reports.isEmpty {
            let entry = "listed in Tests/spec/PENDING (\(pending.reason))"
            Issue.record(
                "\(file.displayPath) passes but is \(entry): remove it from PENDING",
                sourceLocation: file.location(line: 1))
            return
        }
        withKnownIssue("pending: \(pending.reason)") {
            for report in reports { Issue.record(report.comment, sourceLocation: report.location) }
        }
    }

    /// The corpus is where the harness looks for it.
    @Test func corpusIsFound() {
        #expect(!SpecFile.allRelativePaths().isEmpty, "no .conc files under \(SpecFile.root)")
    }

    /// `CONC_SPEC`, when set, selects at least one file.
    @Test func specFilterSelectsSomething() {
        let filter = ProcessInfo.processInfo.environment["CONC_SPEC"] ?? ""
        #expect(filter.isEmpty || !SpecFile.all.isEmpty, "CONC_SPEC=\(filter) matches no spec file")
    }

    /// Every PENDING entry names an existing spec file.
    @Test func pendingEntriesNameSpecFiles() {
        let paths = Set(SpecFile.allRelativePaths())
        for entry in SpecFile.pendingEntries where !paths.contains(entry.path) {
            Issue.record("Tests/spec/PENDING names \(entry.path), which does not exist")
        }
    }

    /// The binary exists (each case also requires it; this says it once).
    @Test func binaryIsBuilt() {
        #expect(
            SpecRunner.binaryExists,
            "\(SpecRunner.missingBinaryMessage); looked at \(SpecRunner.binaryPath)")
    }
}

extension SpecFile {
    /// Why this file is not run: its `# skip:` reason, or `# conc-only` while
    /// `CONC_SPEC_SKIP_CONC_ONLY=1` (checking the corpus against CPython).
    var skipReason: String? {
        if let reason = annotations.skipReason { return reason }
        let skipConcOnly = ProcessInfo.processInfo.environment["CONC_SPEC_SKIP_CONC_ONLY"] == "1"
        return annotations.isConcOnly && skipConcOnly
            ? "conc-only (CONC_SPEC_SKIP_CONC_ONLY=1)" : nil
    }
}

// MARK: - Results file

/// One line per spec file in the file named by `CONC_SPEC_RESULTS` (when set), read by
/// `scripts/test` for its summary: `passed|failed|skipped|pending PATH`.
enum SpecResults {
    /// How a spec file ended.
    enum Outcome: String {
        case passed, failed, skipped
        /// A PENDING file that failed, as expected.
        case pending
    }

    /// The outcome of a run: a PENDING file that passes is a failure (a strict xfail).
    static func outcome(failed: Bool, pending: Bool) -> Outcome {
        switch (failed, pending) {
        case (false, false): return .passed
        case (true, false), (false, true): return .failed
        case (true, true): return .pending
        }
    }

    /// Guards appends to the file.
    private static let lock = NSLock()

    /// Appends the outcome of `file`; does nothing when `CONC_SPEC_RESULTS` is unset.
    static func record(_ outcome: Outcome, _ file: SpecFile) {
        guard let path = ProcessInfo.processInfo.environment["CONC_SPEC_RESULTS"], !path.isEmpty
        else { return }
        lock.withLock {
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            guard let handle = FileHandle(forWritingAtPath: path) else { return }
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data("\(outcome.rawValue) \(file.relativePath)\n".utf8))
        }
    }
}

// MARK: - Running one file

/// A failed run of one program, ready to record as an issue.
struct RunReport: Sendable {
    /// The failures, the run's label, and its full stdout and stderr.
    var comment: Comment
    /// The spec line of the first failure.
    var location: SourceLocation
}

/// Runs every program of one spec file on every unit kind it names.
struct SpecExecution {
    /// The file being run.
    var file: SpecFile

    /// One report per failed run, in file order; empty when everything passed.
    func run() async -> [RunReport] {
        let units: [String?] = file.annotations.units.isEmpty ? [nil] : file.annotations.units
        let jobs = file.annotations.programs.flatMap { program in units.map { (program, $0) } }
        return await withTaskGroup(of: (Int, RunReport?).self) { group in
            for (order, job) in jobs.enumerated() {
                group.addTask { (order, await runOne(job.0, unit: job.1)) }
            }
            var reports: [(Int, RunReport)] = []
            for await (order, report) in group { if let report { reports.append((order, report)) } }
            return reports.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Runs one program once, checks it, and reports what failed.
    private func runOne(_ program: SpecProgram, unit: String?) async -> RunReport? {
        let check = SpecCheck(
            displayPath: file.displayPath, fileName: file.fileName, program: program,
            timeout: file.annotations.timeout)
        var failures: [SpecFailure]
        var result = RunResult(stdout: "", stderr: "", exitStatus: -1)
        do {
            result = try await withProgramFile(program) { folder in
                Self.relativeToFolder(
                    try await SpecRunner.run(request(program, folder: folder, unit: unit)), folder)
            }
            failures = check.failures(of: result)
        } catch {
            failures = [
                SpecFailure(path: file.displayPath, line: program.firstLine, message: "\(error)")
            ]
        }
        let zombies = await ChildRegistry.lingeringZombies()
        if !zombies.isEmpty {
            failures.append(
                SpecFailure(
                    path: file.displayPath, line: program.firstLine,
                    message: "zombie children of the test process remain: pids \(zombies.sorted())")
            )
        }
        guard let first = failures.first else { return nil }
        return report(failures, first: first, result: result, label: label(program, unit))
    }

    /// The run's output with the folder it ran in left out of paths: the script goes by its
    /// absolute path (`File "/…/spec/x.conc", line 3`), as CPython's does, and a spec file
    /// expects `File "x.conc", line 3` wherever the checkout is.
    static func relativeToFolder(_ result: RunResult, _ folder: String) -> RunResult {
        var prefixes = [folder.hasSuffix("/") ? folder : folder + "/"]
        if let real = realpath(folder, nil) {
            prefixes.append(String(cString: real) + "/")
            free(real)
        }
        var r = result
        for p in prefixes where p != "/" {
            r.stdout = r.stdout.replacingOccurrences(of: p, with: "")
            r.stderr = r.stderr.replacingOccurrences(of: p, with: "")
        }
        return r
    }

    /// Calls `body` with the folder to run in: the file's own, or a temporary one holding
    /// the chunk under the file's name.
    private func withProgramFile<T>(
        _ program: SpecProgram, _ body: (String) async throws -> T
    ) async throws -> T {
        guard file.annotations.isChunked else { return try await body(file.folder) }
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("conc-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try program.source.write(
            to: folder.appendingPathComponent(file.fileName), atomically: true, encoding: .utf8)
        return try await body(folder.path)
    }

    /// The request for one run: the file's name as argument, in `folder`.
    private func request(_ program: SpecProgram, folder: String, unit: String?) -> RunRequest {
        var environment = ProcessInfo.processInfo.environment
        // Output piped to the harness is block-buffered, as CPython's is, whatever the shell
        // exports (a spec file that wants otherwise says `# env: PYTHONUNBUFFERED=1`).
        environment["PYTHONUNBUFFERED"] = nil
        var searchPath = [SpecFile.root + "/lib"]
        if file.annotations.isChunked { searchPath.insert(file.folder, at: 0) }
        if let existing = environment["CONC_PATH"], !existing.isEmpty {
            searchPath.append(existing)
        }
        environment["CONC_PATH"] = searchPath.joined(separator: ":")
        // `thread-gil` is the `thread` suite run under the global interpreter lock.
        environment["CONC_TEST_UNIT"] = unit == "thread-gil" ? "thread" : unit
        if unit == "thread-gil" { environment["CONC_GIL"] = "1" }
        environment.merge(file.annotations.environment) { _, new in new }
        let stdin = program.stdin.isEmpty ? "" : program.stdin.joined(separator: "\n") + "\n"
        return RunRequest(
            executable: SpecRunner.binaryPath, arguments: [file.fileName] + program.args,
            workingDirectory: folder, environment: environment, stdin: Data(stdin.utf8),
            timeout: file.annotations.timeout)
    }

    /// Names the run within the file: which chunk, which unit kind.
    private func label(_ program: SpecProgram, _ unit: String?) -> String {
        var parts: [String] = []
        if file.annotations.isChunked {
            parts.append("chunk \(program.chunk), lines \(program.firstLine)–\(program.lastLine)")
        }
        if let unit { parts.append("unit \(unit)") }
        return parts.isEmpty ? "" : "[\(parts.joined(separator: "; "))] "
    }

    /// `text` as lines ending in a newline, the middle left out past ``excerptLines`` lines.
    static func excerpt(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard lines.count > excerptLines else { return lines.map { $0 + "\n" }.joined() }
        let half = excerptLines / 2
        let omitted = "… \(lines.count - 2 * half) lines left out …"
        return (lines.prefix(half) + [Substring(omitted)] + lines.suffix(half)).map { $0 + "\n" }
            .joined()
    }

    /// How many lines of stdout or stderr a failure shows in full.
    static let excerptLines = 200

    /// The issue text: the failures, then the full stdout and stderr.
    private func report(
        _ failures: [SpecFailure], first: SpecFailure, result: RunResult, label: String
    ) -> RunReport {
        let text =
            label + failures.map(\.description).joined(separator: "\n")
            + "\n--- stdout ---\n" + Self.excerpt(result.stdout)
            + "--- stderr ---\n" + Self.excerpt(result.stderr)
        return RunReport(
            comment: Comment(rawValue: text), location: file.location(line: first.line))
    }
}
