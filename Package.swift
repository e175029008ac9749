// swift-tools-version:6.0
// Conc: a small Python-like language for learning concurrency.
import PackageDescription
import Foundation

/// The `conc` binary links mimalloc (Debian's libmimalloc-dev, which scripts/ install when
/// they can) when it is on the machine: it replaces malloc for the whole process, and Conc
/// allocates an object per string, list and instance; the benchmarks spend 11-15 % less
/// time with it (docs/performance.md). Without it the build uses the C library's malloc.
/// `CONC_MALLOC=system` forces that (scripts/tsan: the sanitizer brings its own malloc).
let mimallocLinked: Bool = {
    if Context.environment["CONC_MALLOC"] == "system" { return false }
    let dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"]
    return dirs.contains { FileManager.default.fileExists(atPath: $0 + "/libmimalloc.so") }
}()

let package = Package(
    name: "Conc",
    products: [
        .executable(name: "conc", targets: ["ConcCLI"]),
        .library(name: "Conc", targets: ["Conc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - C shims
        .target(name: "CConcSys", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "CConcCoro"),
        // Process-shareable primitives (arena, futex waits, locks, queues) for threads and
        // fork()ed processes. Not yet used by the interpreter.
        .target(name: "CConcShared", cSettings: [.define("_GNU_SOURCE")]),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),

        // MARK: - Front end: source text → AST (no dependencies)
        .target(name: "ConcSyntax", exclude: ["STATUS.txt"]),

        // MARK: - The language: values, compiler, evaluator, builtins, modules
        // Exclusivity checking is off for the evaluator: it costs ~10% in runtime calls on
        // every class-property access, and the evaluator never holds overlapping accesses
        // (values are copied out before any call back into Conc code).
        .target(
            name: "ConcInterpreter", dependencies: ["ConcSyntax", "CConcSys", "CConcCoro", "CConcShared"],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),

        // MARK: - Public embedding API
        .target(name: "Conc", dependencies: ["ConcInterpreter", "ConcSyntax"]),

        // MARK: - The `conc` command
        .executableTarget(
            name: "ConcCLI",
            dependencies: [
                "Conc", "CEditLine", "CConcSys",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: mimallocLinked ? [.linkedLibrary("mimalloc")] : []),

        // MARK: - Tests
        .testTarget(name: "ConcSyntaxTests", dependencies: ["ConcSyntax"]),
        // The fuzz test drives the public API (Conc) as an embedder would.
        .testTarget(name: "ConcInterpreterTests", dependencies: ["ConcInterpreter", "ConcSyntax", "Conc"]),
        .testTarget(name: "ConcEmbeddingTests", dependencies: ["Conc"]),
        .testTarget(name: "ConcSpecTests", dependencies: [], exclude: []),
        // C helpers the shared-primitive tests run in fork()ed children (C only after fork).
        .target(
            name: "CConcSharedTestSupport", dependencies: ["CConcShared"],
            path: "Tests/CConcSharedTestSupport", cSettings: [.define("_GNU_SOURCE")]),
        .testTarget(name: "ConcSharedTests", dependencies: ["CConcShared", "CConcSharedTestSupport"]),
        // Drives the release `conc` binary (CONC_BIN) through a pseudo-terminal.
        .testTarget(name: "ConcREPLTests", dependencies: []),
    ]
)
