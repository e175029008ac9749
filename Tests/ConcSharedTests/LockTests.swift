// Lock, RLock, Semaphore, Event: result codes, contention across threads and processes,
// and a holder process killed while holding.
import CConcShared
import CConcSharedTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class LockTests: XCTestCase {
    var arena: OpaquePointer!
    override func setUpWithError() throws { arena = try XCTUnwrap(conc_arena_create(arenaReserve)) }
    override func tearDown() { conc_arena_destroy(arena) }

    func testOwnedLockResultCodes() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let (u1, u2) = (unit(1), unit(2))
        // (operation, expected result, owner afterwards)
        let steps: [(String, () -> conc_result, conc_result, UInt64)] = [
            ("release unheld", { conc_lock_release(l, u1) }, CONC_NOT_HELD, 0),
            ("u1 acquires", { conc_lock_try_acquire(l, u1) }, CONC_OK, u1),
            ("u2 tries", { conc_lock_try_acquire(l, u2) }, CONC_BUSY, u1),
            ("u1 tries again (not reentrant)", { conc_lock_try_acquire(l, u1) }, CONC_BUSY, u1),
            ("u2 releases", { conc_lock_release(l, u2) }, CONC_NOT_OWNER, u1),
            ("u1 releases", { conc_lock_release(l, u1) }, CONC_OK, 0),
            ("u2 acquires", { conc_lock_try_acquire(l, u2) }, CONC_OK, u2),
            ("u2 releases", { conc_lock_release(l, u2) }, CONC_OK, 0),
        ]
        for (name, op, expected, owner) in steps {
            XCTAssertEqual(op(), expected, name)
            XCTAssertEqual(conc_lock_owner(l), owner, name)
            XCTAssertEqual(conc_lock_locked(l) != 0, owner != 0, name)
        }
        conc_prim_release(l)
    }

    func testUnownedLockMayBeReleasedByAnyUnit() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 1))
        XCTAssertEqual(conc_lock_try_acquire(l, unit(1)), CONC_OK)
        XCTAssertEqual(conc_lock_release(l, unit(2)), CONC_OK)
        XCTAssertEqual(conc_lock_release(l, unit(2)), CONC_NOT_HELD)
        conc_prim_release(l)
        XCTAssertEqual(conc_arena_in_use(arena), 0)
    }

    func testCreationAndAcquireInfo() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        conc_prim_set_created_at(l, "main.conc:3")
        XCTAssertEqual(conc_lock_try_acquire(l, unit(7)), CONC_OK)
        conc_prim_set_acquired_at(l, String(repeating: "x", count: 200))
        var buf = [CChar](repeating: 0, count: 256)
        conc_prim_created_at(l, &buf, buf.count)
        XCTAssertEqual(cstr(buf), "main.conc:3")
        conc_prim_acquired_at(l, &buf, buf.count)
        XCTAssertEqual(cstr(buf), String(repeating: "x", count: Int(CONC_WHERE_LEN) - 1))
        var small = [CChar](repeating: 0, count: 5)
        conc_prim_created_at(l, &small, small.count)
        XCTAssertEqual(cstr(small), "main")
        XCTAssertEqual(conc_prim_holder(l), unit(7))
        XCTAssertEqual(conc_prim_kind(l), CONC_KIND_LOCK)
    }

    func testRefcountFreesAtZero() throws {
        let makers: [(String, () -> OpaquePointer?)] = [
            ("lock", { conc_lock_create(self.arena, 0) }),
            ("rlock", { conc_rlock_create(self.arena) }),
            ("semaphore", { conc_sem_create(self.arena, 1, 1) }),
            ("event", { conc_event_create(self.arena) }),
            ("queue", { conc_queue_create(self.arena, 0) }),
        ]
        for (name, make) in makers {
            let p = try XCTUnwrap(make(), name)
            XCTAssertEqual(conc_prim_refcount(p), 1, name)
            conc_prim_retain(p)
            conc_prim_release(p)
            XCTAssertGreaterThan(conc_arena_in_use(arena), 0, "\(name): still referenced")
            conc_prim_release(p)
            XCTAssertEqual(conc_arena_in_use(arena), 0, "\(name): freed at zero")
        }
    }

    func testUncontendedAcquireReleaseCost() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let u = unit(1)
        let n = 2_000_000
        let start = conc_now_ns()
        for _ in 0..<n {
            _ = conc_lock_try_acquire(l, u)
            _ = conc_lock_release(l, u)
        }
        let ns = Double(conc_now_ns() - start) / Double(n)
        print("[measure] uncontended lock try_acquire+release: \(String(format: "%.1f", ns)) ns")
        XCTAssertFalse(conc_lock_locked(l) != 0)
    }

    func testContendedCounterFourThreads() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let counter = try XCTUnwrap(conc_arena_alloc(arena, 8)).assumingMemoryBound(to: UInt64.self)
        let perThread = 200_000
        let start = conc_now_ns()
        let threads = (1...4).map { t in
            spawn {
                let u = unit(UInt32(t))
                for _ in 0..<perThread {
                    guard ct_lock_acquire(l, u, forever) == CONC_OK else { return }
                    counter.pointee += 1
                    _ = conc_lock_release(l, u)
                }
            }
        }
        join(threads)
        print("[measure] 4 threads x 200k contended lock increments: \(String(format: "%.3f", since(start))) s")
        XCTAssertEqual(counter.pointee, UInt64(4 * perThread))
        XCTAssertEqual(conc_prim_waiters(l), 0)
    }

    func testContendedCounterThreeProcesses() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let counter = try XCTUnwrap(conc_arena_alloc(arena, 8)).assumingMemoryBound(to: UInt64.self)
        let start = conc_now_ns()
        let pids = (0..<3).map { _ in ct_fork_lock_counter(l, counter, 100_000) }
        for pid in pids { assertChildOK(pid) }
        print("[measure] 3 processes x 100k contended lock increments: \(String(format: "%.3f", since(start))) s")
        XCTAssertEqual(counter.pointee, 300_000)
        XCTAssertEqual(conc_lock_locked(l), 0)
    }

    func testHolderProcessKilledWhileHolding() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let ready = try XCTUnwrap(conc_event_create(arena))
        let pid = ct_fork_lock_hold(l, ready)
        XCTAssertGreaterThan(pid, 0)
        XCTAssertEqual(ct_event_wait(ready, tenSeconds), CONC_OK)
        XCTAssertEqual(conc_unit_pid(conc_lock_owner(l)), pid)
        XCTAssertEqual(conc_lock_try_acquire(l, unit(1)), CONC_BUSY, "holder still alive")
        kill(pid, SIGKILL)
        let r = reap(pid)
        XCTAssertFalse(r.exited)
        XCTAssertEqual(ct_lock_acquire(l, unit(1), tenSeconds), CONC_OWNER_DIED)
        XCTAssertEqual(conc_lock_owner(l), unit(1))
        XCTAssertEqual(conc_lock_release(l, unit(1)), CONC_OK)
        XCTAssertEqual(conc_lock_try_acquire(l, unit(2)), CONC_OK, "works normally afterwards")
        XCTAssertEqual(conc_lock_release(l, unit(2)), CONC_OK)
    }

    func testWaiterBlockedOnDeadHolderTakesOver() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let ready = try XCTUnwrap(conc_event_create(arena))
        let pid = ct_fork_lock_hold(l, ready)
        XCTAssertEqual(ct_event_wait(ready, tenSeconds), CONC_OK)
        var result = CONC_OK
        let t = spawn { result = ct_lock_acquire(l, unit(1), tenSeconds) }
        XCTAssertTrue(eventually { conc_prim_waiters(l) > 0 }, "waiter parked")
        kill(pid, SIGKILL)
        _ = reap(pid)
        join([t])  // the slice-limited wait notices the dead holder
        XCTAssertEqual(result, CONC_OWNER_DIED)
    }

    func testWaiterTakesOverFromAnUnreapedHolder() throws {
        // The holder is killed but not reaped: a zombie, which kill(pid, 0) still finds.
        // The waiter (here, as often, its parent) must not wait for its own join.
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let ready = try XCTUnwrap(conc_event_create(arena))
        let pid = ct_fork_lock_hold(l, ready)
        XCTAssertEqual(ct_event_wait(ready, tenSeconds), CONC_OK)
        var result = CONC_OK
        let t = spawn { result = ct_lock_acquire(l, unit(1), tenSeconds) }
        XCTAssertTrue(eventually { conc_prim_waiters(l) > 0 }, "waiter parked")
        kill(pid, SIGKILL)
        join([t])
        XCTAssertEqual(result, CONC_OWNER_DIED)
        XCTAssertEqual(conc_lock_owner(l), unit(1))
        _ = reap(pid)
    }

    func testRLockCountsAndRestore() throws {
        let r = try XCTUnwrap(conc_rlock_create(arena))
        let (u1, u2) = (unit(1), unit(2))
        XCTAssertEqual(conc_rlock_release(r, u1), CONC_NOT_HELD)
        for depth in 1...3 {
            XCTAssertEqual(conc_rlock_try_acquire(r, u1), CONC_OK)
            XCTAssertEqual(conc_rlock_count(r), UInt32(depth))
        }
        XCTAssertEqual(conc_rlock_try_acquire(r, u2), CONC_BUSY)
        XCTAssertEqual(conc_rlock_release(r, u2), CONC_NOT_OWNER)
        XCTAssertEqual(conc_rlock_release(r, u1), CONC_OK)
        XCTAssertEqual(conc_rlock_count(r), 2)
        XCTAssertEqual(conc_rlock_owner(r), u1)

        var saved: UInt32 = 0
        XCTAssertEqual(conc_rlock_release_all(r, u2, &saved), CONC_NOT_OWNER)
        XCTAssertEqual(conc_rlock_release_all(r, u1, &saved), CONC_OK)
        XCTAssertEqual(saved, 2)
        XCTAssertEqual(conc_rlock_owner(r), 0)
        XCTAssertEqual(conc_rlock_count(r), 0)
        XCTAssertEqual(conc_rlock_try_acquire(r, u2), CONC_OK)
        XCTAssertEqual(conc_rlock_try_restore(r, u1, saved), CONC_BUSY)
        XCTAssertEqual(conc_rlock_release(r, u2), CONC_OK)
        XCTAssertEqual(conc_rlock_try_restore(r, u1, saved), CONC_OK)
        XCTAssertEqual(conc_rlock_count(r), 2)
        XCTAssertEqual(conc_rlock_release(r, u1), CONC_OK)
        XCTAssertEqual(conc_rlock_release(r, u1), CONC_OK)
        XCTAssertEqual(conc_rlock_release(r, u1), CONC_NOT_HELD)
    }

    func testSemaphoreResultCodes() throws {
        // (bounded, initial, operations as (acquire? / release n), expected results, final value)
        struct Case { let bounded: Int32; let initial: UInt32; let ops: [Int]; let expect: [conc_result]; let final: UInt32 }
        // op 0 = try_acquire, op n > 0 = release(n)
        let cases = [
            Case(bounded: 1, initial: 2, ops: [0, 0, 0, 1, 2, 1], expect: [CONC_OK, CONC_OK, CONC_BUSY, CONC_OK, CONC_OVER_RELEASE, CONC_OK], final: 2),
            Case(bounded: 1, initial: 1, ops: [1], expect: [CONC_OVER_RELEASE], final: 1),
            Case(bounded: 0, initial: 1, ops: [5, 0], expect: [CONC_OK, CONC_OK], final: 5),
            Case(bounded: 0, initial: 0, ops: [0, 1, 0, 0], expect: [CONC_BUSY, CONC_OK, CONC_OK, CONC_BUSY], final: 0),
        ]
        for (i, c) in cases.enumerated() {
            let s = try XCTUnwrap(conc_sem_create(arena, c.initial, c.bounded))
            for (op, want) in zip(c.ops, c.expect) {
                let got = op == 0 ? conc_sem_try_acquire(s, unit(1)) : conc_sem_release(s, UInt32(op))
                XCTAssertEqual(got, want, "case \(i) op \(op)")
            }
            XCTAssertEqual(conc_sem_value(s), c.final, "case \(i)")
            conc_prim_release(s)
        }
    }

    func testSemaphoreWakesBlockedThread() throws {
        let s = try XCTUnwrap(conc_sem_create(arena, 0, 0))
        var result = CONC_BUSY
        let t = spawn { result = ct_sem_acquire(s, unit(1), tenSeconds) }
        XCTAssertTrue(eventually { conc_prim_waiters(s) > 0 })
        XCTAssertEqual(conc_sem_release(s, 1), CONC_OK)
        join([t])
        XCTAssertEqual(result, CONC_OK)
        XCTAssertEqual(conc_prim_holder(s), unit(1))
    }

    func testEventWakesWaiterFromThread() throws {
        let e = try XCTUnwrap(conc_event_create(arena))
        XCTAssertEqual(conc_event_try_wait(e), CONC_BUSY)
        let t = spawn {
            while conc_prim_waiters(e) == 0 { sched_yield() }
            conc_event_set(e)
        }
        XCTAssertEqual(ct_event_wait(e, tenSeconds), CONC_OK)
        join([t])
        XCTAssertEqual(conc_event_is_set(e), 1)
        conc_event_clear(e)
        XCTAssertEqual(conc_event_is_set(e), 0)
    }

    func testEventWakesWaiterFromProcess() throws {
        let e = try XCTUnwrap(conc_event_create(arena))
        let pid = ct_fork_event_setter(e)
        let start = conc_now_ns()
        XCTAssertEqual(ct_event_wait(e, tenSeconds), CONC_OK)
        XCTAssertLessThan(since(start), 5)
        assertChildOK(pid)
    }
}
