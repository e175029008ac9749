// The blocking loop and the futex layer: timeouts, should_stop, EINTR, sleeping.
import CConcShared
import CConcSharedTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class BlockingTests: XCTestCase {
    var arena: OpaquePointer!
    override func setUpWithError() throws { arena = try XCTUnwrap(conc_arena_create(arenaReserve)) }
    override func tearDown() { conc_arena_destroy(arena) }

    func testBlockTimesOut() throws {
        let e = try XCTUnwrap(conc_event_create(arena))
        for timeout in [0, 1_000_000, 120_000_000] as [Int64] {
            let start = conc_now_ns()
            XCTAssertEqual(block(e, timeout: timeout) { conc_event_try_wait(e) }, CONC_TIMEOUT)
            let took = conc_now_ns() - start
            XCTAssertGreaterThanOrEqual(took, timeout, "timeout \(timeout)")
            XCTAssertLessThan(took, timeout + 2_000_000_000, "timeout \(timeout)")
        }
        XCTAssertEqual(conc_prim_waiters(e), 0)
    }

    func testBlockReturnsAttemptResults() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        XCTAssertEqual(block(l, timeout: 0) { conc_lock_try_acquire(l, unit(1)) }, CONC_OK)
        XCTAssertEqual(block(l, timeout: 0) { conc_lock_try_acquire(l, unit(2)) }, CONC_TIMEOUT)
        XCTAssertEqual(block(l, timeout: forever) { CONC_CLOSED }, CONC_CLOSED, "final results pass through")
    }

    func testShouldStopAborts() throws {
        let never = try XCTUnwrap(conc_event_create(arena))
        let stop = try XCTUnwrap(conc_event_create(arena))
        let t = spawn {
            while conc_prim_waiters(never) == 0 { sched_yield() }
            conc_event_set(stop)
        }
        let start = conc_now_ns()
        XCTAssertEqual(block(never, timeout: tenSeconds, stopWhenSet: stop) { conc_event_try_wait(never) }, CONC_INTERRUPTED)
        XCTAssertLessThan(since(start), 5)
        join([t])
    }

    func testNoWakeUpIsLost() throws {
        // (partner in another process?, through queues (wake-all) or semaphores (wake-one))
        let cases: [(Int32, Int32)] = [(0, 0), (1, 0), (0, 1), (1, 1)]
        for (processes, queues) in cases {
            let label = "\(queues != 0 ? "queue" : "semaphore") ping-pong, \(processes != 0 ? "processes" : "threads")"
            let rounds: Int32 = 20_000
            let start = conc_now_ns()
            let lost = ct_pingpong_lost_wakeups(arena, rounds, processes, queues)
            print("[measure] \(label), futex every time: \(String(format: "%.0f", Double(conc_now_ns() - start) / Double(rounds))) ns/round trip")
            XCTAssertEqual(lost, 0, label)
        }
        XCTAssertEqual(conc_arena_in_use(arena), 0)
    }

    func testFutexWaitResults() throws {
        var word: UInt32 = 7
        XCTAssertEqual(conc_futex_wait(&word, 8, tenSeconds), 0, "value differs: returns at once")
        let start = conc_now_ns()
        XCTAssertEqual(conc_futex_wait(&word, 7, 20_000_000), ETIMEDOUT)
        XCTAssertGreaterThanOrEqual(conc_now_ns() - start, 20_000_000)
        XCTAssertEqual(ct_futex_wait_interrupted(), EINTR)
    }

    func testSleep() {
        let start = conc_now_ns()
        XCTAssertEqual(conc_sleep_ns(10_000_000), 0)
        XCTAssertGreaterThanOrEqual(conc_now_ns() - start, 10_000_000)
        XCTAssertEqual(conc_sleep_ns(-5), 0)
    }

    func testUnitHelpers() {
        let u = conc_unit_make(12345, 7)
        XCTAssertEqual(conc_unit_pid(u), 12345)
        XCTAssertEqual(conc_unit_number(u), 7)
    }
}
