// Queue of byte strings: FIFO, maxsize, task_done/join, close, throughput between threads
// and processes, and a producer killed while flooding the queue.
import CConcShared
import CConcSharedTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// try_get (try_get_in_turn with a `turn`) → the item as a String (nil unless CONC_OK),
/// plus the result.
func getString(_ q: OpaquePointer, inTurn turn: OpaquePointer? = nil) -> (conc_result, String?) {
    var out: UnsafeMutableRawPointer? = nil
    var len = 0
    let r = turn.map { conc_queue_try_get_in_turn(q, $0, &out, &len) } ?? conc_queue_try_get(q, &out, &len)
    guard r == CONC_OK, let p = out else { return (r, nil) }
    defer { free(p) }
    return (r, String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self))
}

/// try_put (try_put_in_turn with a `turn`) of a String.
func put(_ q: OpaquePointer, _ s: String, inTurn turn: OpaquePointer? = nil) -> conc_result {
    var s = s
    return s.withUTF8 { b in
        turn.map { conc_queue_try_put_in_turn(q, $0, b.baseAddress, b.count) } ?? conc_queue_try_put(q, b.baseAddress, b.count)
    }
}

final class QueueTests: XCTestCase {
    var arena: OpaquePointer!
    override func setUpWithError() throws { arena = try XCTUnwrap(conc_arena_create(arenaReserve)) }
    override func tearDown() { conc_arena_destroy(arena) }

    func testFifoOrderAndContents() throws {
        let q = try XCTUnwrap(conc_queue_create(arena, 0))
        let items = ["a", "", "hello world", String(repeating: "z", count: 10_000), "last"]
        for s in items { XCTAssertEqual(put(q, s), CONC_OK) }
        XCTAssertEqual(conc_queue_qsize(q), UInt64(items.count))
        for s in items {
            let (r, got) = getString(q)
            XCTAssertEqual(r, CONC_OK)
            XCTAssertEqual(got, s)
        }
        XCTAssertEqual(getString(q).0, CONC_EMPTY)
        XCTAssertEqual(conc_queue_empty(q), 1)
        conc_prim_release(q)
        XCTAssertEqual(conc_arena_in_use(arena), 0)
    }

    func testMaxsizeTaskDoneAndClose() throws {
        let q = try XCTUnwrap(conc_queue_create(arena, 2))
        // (operation, expected result)
        let steps: [(String, () -> conc_result, conc_result)] = [
            ("put 1", { put(q, "1") }, CONC_OK),
            ("put 2", { put(q, "2") }, CONC_OK),
            ("put 3 (full)", { put(q, "3") }, CONC_FULL),
            ("get", { getString(q).0 }, CONC_OK),
            ("put 3", { put(q, "3") }, CONC_OK),
            ("task_done 1", { conc_queue_task_done(q) }, CONC_OK),
            ("task_done 2", { conc_queue_task_done(q) }, CONC_OK),
            ("task_done 3", { conc_queue_task_done(q) }, CONC_OK),
            ("task_done 4 (over)", { conc_queue_task_done(q) }, CONC_OVER_RELEASE),
        ]
        for (name, op, expected) in steps { XCTAssertEqual(op(), expected, name) }
        XCTAssertEqual(conc_queue_unfinished(q), 0)
        XCTAssertEqual(conc_queue_qsize(q), 2)
        XCTAssertEqual(conc_queue_full(q), 1)
        conc_queue_close(q)
        XCTAssertEqual(conc_queue_closed(q), 1)
        XCTAssertEqual(put(q, "x"), CONC_CLOSED)
        XCTAssertEqual(getString(q).1, "2", "close keeps the items")
        XCTAssertEqual(getString(q).1, "3")
        XCTAssertEqual(getString(q).0, CONC_CLOSED, "closed and drained")
    }

    func testJoinWaitsForTaskDone() throws {
        let q = try XCTUnwrap(conc_queue_create(arena, 0))
        for i in 0..<100 { XCTAssertEqual(put(q, "\(i)"), CONC_OK) }
        let worker = spawn {
            for _ in 0..<100 {
                var out: UnsafeMutableRawPointer? = nil
                var len = 0
                guard ct_queue_get(q, &out, &len, tenSeconds) == CONC_OK else { return }
                free(out)
                _ = conc_queue_task_done(q)
            }
        }
        XCTAssertEqual(ct_queue_join(q, tenSeconds), CONC_OK)
        XCTAssertEqual(conc_queue_unfinished(q), 0)
        join([worker])
    }

    func testCloseWakesBlockedGetter() throws {
        let q = try XCTUnwrap(conc_queue_create(arena, 0))
        var result = CONC_OK
        let t = spawn {
            var out: UnsafeMutableRawPointer? = nil
            var len = 0
            result = ct_queue_get(q, &out, &len, tenSeconds)
        }
        XCTAssertTrue(eventually { conc_prim_waiters(q) > 0 })
        conc_queue_close(q)
        join([t])
        XCTAssertEqual(result, CONC_CLOSED)
    }

    func testThreadToThreadThroughput() throws {
        let q = try XCTUnwrap(conc_queue_create(arena, 0))
        let n = 200_000
        var received = 0, inOrder = true
        let start = conc_now_ns()
        let consumer = spawn {
            for i in 0..<n {
                var out: UnsafeMutableRawPointer? = nil
                var len = 0
                guard ct_queue_get(q, &out, &len, tenSeconds) == CONC_OK, let p = out else { return }
                if len != 16 || p.load(as: Int.self) != i { inOrder = false }
                free(p)
                received += 1
            }
        }
        var item = (0, 0x1234_5678)  // 16 bytes: index + filler
        for i in 0..<n {
            item.0 = i
            let r = withUnsafeBytes(of: &item) { ct_queue_put(q, $0.baseAddress, 16, tenSeconds) }
            if r != CONC_OK { XCTFail("put \(i): \(r)"); break }
        }
        join([consumer])
        let ns = Double(conc_now_ns() - start) / Double(n)
        print("[measure] queue thread->thread, 200k x 16 B: \(String(format: "%.0f", ns)) ns/item")
        XCTAssertEqual(received, n)
        XCTAssertTrue(inOrder)
        conc_prim_release(q)
        XCTAssertEqual(conc_arena_in_use(arena), 0)
    }

    func testThroughputMeasuredInC() throws {
        // (label, benchmark, maxsize)
        let cases: [(String, (OpaquePointer, Int32) -> Double, UInt64)] = [
            ("threads, unbounded", ct_bench_queue_threads, 0),
            ("threads, maxsize 1000", ct_bench_queue_threads, 1000),
            ("processes, unbounded", ct_bench_queue_processes, 0),
            ("processes, maxsize 1000", ct_bench_queue_processes, 1000),
        ]
        for (label, bench, maxsize) in cases {
            let q = try XCTUnwrap(conc_queue_create(arena, maxsize))
            let ns = bench(q, 200_000)
            XCTAssertGreaterThan(ns, 0, label)
            print("[measure] queue \(label), 200k x 16 B, C loop: \(String(format: "%.0f", ns)) ns/item")
            conc_prim_release(q)
        }
        XCTAssertEqual(conc_arena_in_use(arena), 0)
    }

    func testChildProducesParentConsumes() throws {
        let q = try XCTUnwrap(conc_queue_create(arena, 1000))
        let n = 100_000
        let start = conc_now_ns()
        let pid = ct_fork_queue_producer(q, Int32(n), 1)
        var i = 0
        while true {
            var out: UnsafeMutableRawPointer? = nil
            var len = 0
            let r = ct_queue_get(q, &out, &len, tenSeconds)
            if r == CONC_CLOSED { break }
            guard r == CONC_OK, let p = out else { XCTFail("get: \(r)"); break }
            let s = String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
            free(p)
            if s != "item \(i)" { XCTFail("item \(i) was \(s)"); break }
            i += 1
        }
        let ns = Double(conc_now_ns() - start) / Double(n)
        print("[measure] queue child process->parent, 100k items (maxsize 1000): \(String(format: "%.0f", ns)) ns/item")
        XCTAssertEqual(i, n)
        assertChildOK(pid)
    }

    func testProducerKilledWhileFloodingLeavesConsistentQueue() throws {
        // Several rounds: each kill lands at a random point, now and then inside the queue's
        // critical section (the robust mutex then hands EOWNERDEAD to the next locker, which
        // repairs) or in the middle of an arena operation (which leaks at most one block).
        var recoveries: UInt32 = 0
        for round in 0..<8 {
            let q = try XCTUnwrap(conc_queue_create(arena, 0))
            let baseline = conc_arena_in_use(arena)
            let pid = ct_fork_queue_flood(q)
            let threshold = UInt64(2000 + round * 1500)
            XCTAssertEqual(block(q, timeout: tenSeconds) { conc_queue_qsize(q) >= threshold ? CONC_OK : CONC_BUSY }, CONC_OK)
            kill(pid, SIGKILL)
            XCTAssertFalse(reap(pid).exited)
            XCTAssertEqual(put(q, "after"), CONC_OK, "round \(round)")  // takes the mutex: repairs if needed
            let size = conc_queue_qsize(q)
            XCTAssertGreaterThan(size, threshold)
            for i in 0..<(size - 1) {
                let (r, s) = getString(q)
                guard r == CONC_OK, s == "\(i)" else { XCTFail("round \(round): item \(i) was \(s ?? "\(r)")"); break }
            }
            XCTAssertEqual(getString(q).1, "after", "round \(round)")
            XCTAssertEqual(getString(q).0, CONC_EMPTY, "round \(round)")
            XCTAssertEqual(conc_queue_qsize(q), 0)
            // At most the node being written when the child died leaks.
            XCTAssertLessThanOrEqual(conc_arena_in_use(arena) - baseline, 64, "round \(round)")
            recoveries += conc_prim_recoveries(q)
            conc_prim_release(q)
        }
        print("[info] flood kills that landed inside the queue mutex: \(recoveries) of 8")
    }

    func testProcessDyingInsidePutOrGetIsRepaired() throws {
        // (what dies, items before, expected items afterwards)
        let cases: [(String, (OpaquePointer) -> pid_t, [String])] = [
            ("put into empty", { q in ct_fork_die_in_put(q, "dead") }, ["dead"]),
            ("put after items", { q in ct_fork_die_in_put(q, "dead") }, ["a", "b", "dead"]),
            ("get of the only item", { q in ct_fork_die_in_get(q) }, []),
            ("get of the first item", { q in ct_fork_die_in_get(q) }, ["b"]),
        ]
        let before: [[String]] = [[], ["a", "b"], ["a"], ["a", "b"]]
        for ((name, die, expected), initial) in zip(cases, before) {
            let q = try XCTUnwrap(conc_queue_create(arena, 0))
            for s in initial { XCTAssertEqual(put(q, s), CONC_OK, name) }
            let r = reap(die(q))
            XCTAssertTrue(r.exited && r.code == 0, name)
            // The first operation that takes the mutex repairs.
            XCTAssertEqual(put(q, "next"), CONC_OK, name)
            XCTAssertEqual(conc_prim_recoveries(q), 1, name)
            XCTAssertEqual(conc_queue_qsize(q), UInt64(expected.count + 1), name)
            var got: [String] = []
            while case (CONC_OK, let s?) = getString(q) { got.append(s) }
            XCTAssertEqual(got, expected + ["next"], name)
            XCTAssertEqual(conc_queue_qsize(q), 0, name)
            conc_prim_release(q)
        }
    }

    /// An unbounded queue and two getters in line: a (unit 1), then b (unit 2).
    private func queueWithTwoGetters() throws -> (OpaquePointer, OpaquePointer, OpaquePointer) {
        let q = try XCTUnwrap(conc_queue_create(arena, 0))
        let a = try XCTUnwrap(conc_queue_enlist(q, CONC_QUEUE_GETTER, unit(1)))
        let b = try XCTUnwrap(conc_queue_enlist(q, CONC_QUEUE_GETTER, unit(2)))
        return (q, a, b)
    }

    func testWaitingGettersAreServedInTheOrderTheyCame() throws {
        let (q, a, b) = try queueWithTwoGetters()
        XCTAssertEqual(getString(q, inTurn: a).0, CONC_EMPTY)
        XCTAssertEqual(put(q, "x"), CONC_OK)
        XCTAssertEqual(getString(q, inTurn: b).0, CONC_EMPTY, "the one item is a's")
        XCTAssertEqual(getString(q, inTurn: a).1, "x")
        XCTAssertEqual(put(q, "y"), CONC_OK)
        XCTAssertEqual(getString(q, inTurn: b).1, "y", "a has left the line")
        conc_queue_delist(q, a)
        conc_queue_delist(q, b)
        // Two items for two waiting getters: the second need not wait for the first.
        let c = try XCTUnwrap(conc_queue_enlist(q, CONC_QUEUE_GETTER, unit(3)))
        let d = try XCTUnwrap(conc_queue_enlist(q, CONC_QUEUE_GETTER, unit(4)))
        XCTAssertEqual(put(q, "1"), CONC_OK)
        XCTAssertEqual(put(q, "2"), CONC_OK)
        XCTAssertEqual(getString(q, inTurn: d).1, "1")
        XCTAssertEqual(getString(q, inTurn: c).1, "2")
        conc_queue_delist(q, c)
        conc_queue_delist(q, d)
        XCTAssertEqual(conc_queue_qsize(q), 0)
        conc_prim_release(q)
    }

    func testGetterLeavingTheLinePassesItsTurnOn() throws {
        let (q, a, b) = try queueWithTwoGetters()
        XCTAssertEqual(put(q, "x"), CONC_OK)
        XCTAssertEqual(getString(q, inTurn: b).0, CONC_EMPTY)
        let seq = conc_prim_load_seq(q)
        conc_queue_delist(q, a)  // a timed out
        XCTAssertNotEqual(conc_prim_load_seq(q), seq, "b must be woken to look again")
        XCTAssertEqual(getString(q, inTurn: b).1, "x")
        conc_queue_delist(q, b)
        conc_prim_release(q)
    }

    func testGetterNotInLineAndClosedQueuesIgnoreTurns() throws {
        let (q, a, b) = try queueWithTwoGetters()
        XCTAssertEqual(put(q, "x"), CONC_OK)
        XCTAssertEqual(getString(q).1, "x", "a first try (get_nowait) may take it, as in CPython")
        XCTAssertEqual(put(q, "y"), CONC_OK)
        conc_queue_close(q)
        XCTAssertEqual(getString(q, inTurn: b).1, "y", "a closed queue is drained by whoever asks")
        XCTAssertEqual(getString(q, inTurn: a).0, CONC_CLOSED)
        conc_queue_delist(q, a)
        conc_queue_delist(q, b)
        conc_prim_release(q)
    }

    func testGetterOfADeadProcessLosesItsTurn() throws {
        let q = try XCTUnwrap(conc_queue_create(arena, 0))
        let child = fork()
        if child == 0 { _exit(0) }
        XCTAssertTrue(reap(child).exited)
        let baseline = conc_arena_in_use(arena)
        // Listed by a unit of a process that no longer exists (killed while waiting).
        _ = try XCTUnwrap(conc_queue_enlist(q, CONC_QUEUE_GETTER, conc_unit_make(child, 1)))
        let b = try XCTUnwrap(conc_queue_enlist(q, CONC_QUEUE_GETTER, unit(2)))
        XCTAssertEqual(put(q, "x"), CONC_OK)
        XCTAssertEqual(getString(q, inTurn: b).1, "x")
        conc_queue_delist(q, b)
        XCTAssertLessThanOrEqual(conc_arena_in_use(arena), baseline, "the dead getter's record is freed")
        conc_prim_release(q)
    }

    func testWaitingPuttersAreServedInTheOrderTheyCame() throws {
        let q = try XCTUnwrap(conc_queue_create(arena, 1))
        XCTAssertEqual(put(q, "first"), CONC_OK)
        let a = try XCTUnwrap(conc_queue_enlist(q, CONC_QUEUE_PUTTER, unit(1)))
        let b = try XCTUnwrap(conc_queue_enlist(q, CONC_QUEUE_PUTTER, unit(2)))
        XCTAssertEqual(put(q, "a", inTurn: a), CONC_FULL)
        XCTAssertEqual(getString(q).1, "first")
        XCTAssertEqual(put(q, "b", inTurn: b), CONC_FULL, "the free place is a's")
        XCTAssertEqual(put(q, "a", inTurn: a), CONC_OK)
        XCTAssertEqual(getString(q).1, "a")
        XCTAssertEqual(put(q, "b", inTurn: b), CONC_OK, "a has left the line")
        XCTAssertEqual(getString(q).1, "b")
        conc_queue_delist(q, a)
        conc_queue_delist(q, b)
        conc_prim_release(q)
    }
}
