// The shared arena: sizes, alignment, zeroing, reuse, exhaustion, threads and fork.
import CConcShared
import CConcSharedTestSupport
import XCTest

final class ArenaTests: XCTestCase {
    func testAllocFreeManySizes() throws {
        let a = try XCTUnwrap(conc_arena_create(arenaReserve))
        defer { conc_arena_destroy(a) }
        let sizes = [0, 1, 15, 16, 17, 31, 100, 1000, 4096, 4097, 65536, 1 << 20, 5 << 20]
        for round in 0..<3 {
            var blocks: [(UnsafeMutableRawPointer, Int)] = []
            for size in sizes {
                let p = try XCTUnwrap(conc_arena_alloc(a, size), "size \(size)")
                XCTAssertEqual(Int(bitPattern: p) % 16, 0, "alignment, size \(size)")
                let bytes = p.assumingMemoryBound(to: UInt8.self)
                for i in 0..<min(size, 4096) {
                    if bytes[i] != 0 { XCTFail("not zeroed: size \(size) round \(round)"); break }
                }
                if size > 0 { memset(p, 0xAB, size) }  // dirty it so reuse must re-zero
                blocks.append((p, size))
            }
            XCTAssertGreaterThan(conc_arena_in_use(a), sizes.reduce(0, +))
            for (p, _) in blocks { conc_arena_free(a, p) }
            XCTAssertEqual(conc_arena_in_use(a), 0)
        }
    }

    func testFreedBlockIsReused() throws {
        let a = try XCTUnwrap(conc_arena_create(arenaReserve))
        defer { conc_arena_destroy(a) }
        let p = try XCTUnwrap(conc_arena_alloc(a, 100))
        conc_arena_free(a, p)
        let q = try XCTUnwrap(conc_arena_alloc(a, 90))  // same size class
        XCTAssertEqual(p, q)
        conc_arena_free(a, q)
        conc_arena_free(a, q)  // a double free is ignored
        XCTAssertEqual(conc_arena_in_use(a), 0)
    }

    func testExhaustionReturnsNull() throws {
        let a = try XCTUnwrap(conc_arena_create(1 << 20))
        defer { conc_arena_destroy(a) }
        var blocks: [UnsafeMutableRawPointer] = []
        while let p = conc_arena_alloc(a, 60_000) { blocks.append(p) }
        XCTAssertGreaterThanOrEqual(blocks.count, 10)
        XCTAssertLessThanOrEqual(blocks.count, 16)
        XCTAssertNil(conc_arena_alloc(a, 2 << 20))
        XCTAssertNil(conc_arena_alloc(a, Int.max))
        for p in blocks { conc_arena_free(a, p) }
        XCTAssertNotNil(conc_arena_alloc(a, 60_000), "freed memory is usable again")
    }

    func testConcurrentThreads() throws {
        let a = try XCTUnwrap(conc_arena_create(arenaReserve))
        defer { conc_arena_destroy(a) }
        let threads = (0..<4).map { t in
            spawn {
                var live: [UnsafeMutableRawPointer] = []
                for i in 0..<20_000 {
                    let size = 16 << ((i + t) % 6)
                    guard let p = conc_arena_alloc(a, size) else { continue }
                    p.storeBytes(of: UInt64(i), as: UInt64.self)
                    live.append(p)
                    if live.count > 50 { conc_arena_free(a, live.removeFirst()) }
                }
                for p in live { conc_arena_free(a, p) }
            }
        }
        join(threads)
        XCTAssertEqual(conc_arena_in_use(a), 0)
    }

    func testChildAllocationIsVisibleToParent() throws {
        let a = try XCTUnwrap(conc_arena_create(arenaReserve))
        defer { conc_arena_destroy(a) }
        let before = conc_arena_in_use(a)
        assertChildOK(ct_fork_arena_alloc(a, 1000, 10))
        XCTAssertEqual(conc_arena_in_use(a) - before, 10 * 1024)
        // The parent's next allocation does not overlap the child's blocks.
        let p = try XCTUnwrap(conc_arena_alloc(a, 1000))
        XCTAssertEqual(conc_arena_in_use(a) - before, 11 * 1024)
        conc_arena_free(a, p)
    }
}
