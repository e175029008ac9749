// Condition: notify(n) wakes exactly n earlier waiters, notify_all wakes all, a timed-out
// waiter leaves no notification behind and takes none, producer/consumer.
import CConcShared
import CConcSharedTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class ConditionTests: XCTestCase {
    var arena: OpaquePointer!
    override func setUpWithError() throws { arena = try XCTUnwrap(conc_arena_create(arenaReserve)) }
    override func tearDown() { conc_arena_destroy(arena) }

    /// Starts `n` threads that each take the lock, wait (10 s) and count themselves woken.
    private func startWaiters(_ c: OpaquePointer, _ l: OpaquePointer, _ n: Int,
                              woken: UnsafeMutablePointer<Int>, results: UnsafeMutablePointer<conc_result>) -> [pthread_t] {
        (0..<n).map { i in
            spawn {
                let u = unit(UInt32(i + 1))
                _ = ct_lock_acquire(l, u, forever)
                results[i] = ct_cond_wait(c, l, u, tenSeconds)
                woken.pointee += 1  // under the lock
                _ = conc_lock_release(l, u)
            }
        }
    }

    func testNotifyOneWakesExactlyOneThenNotifyAllTheRest() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let c = try XCTUnwrap(conc_cond_create(arena, l))
        let woken = UnsafeMutablePointer<Int>.allocate(capacity: 1); woken.pointee = 0
        let results = UnsafeMutablePointer<conc_result>.allocate(capacity: 3)
        results.initialize(repeating: CONC_BUSY, count: 3)
        defer { woken.deallocate(); results.deallocate() }
        let threads = startWaiters(c, l, 3, woken: woken, results: results)
        XCTAssertTrue(eventually { conc_cond_pending(c) == 3 })

        let me = unit(100)
        XCTAssertEqual(ct_lock_acquire(l, me, forever), CONC_OK)
        XCTAssertEqual(conc_cond_notify(c, 1), 1)
        XCTAssertEqual(conc_lock_release(l, me), CONC_OK)
        XCTAssertTrue(eventually {
            _ = ct_lock_acquire(l, me, forever); defer { _ = conc_lock_release(l, me) }
            return woken.pointee == 1
        })
        XCTAssertEqual(conc_cond_pending(c), 2, "the other two are still waiting")

        XCTAssertEqual(ct_lock_acquire(l, me, forever), CONC_OK)
        XCTAssertEqual(woken.pointee, 1)
        XCTAssertEqual(conc_cond_notify_all(c), 2)
        XCTAssertEqual(conc_lock_release(l, me), CONC_OK)
        join(threads)
        XCTAssertEqual(woken.pointee, 3)
        for i in 0..<3 { XCTAssertEqual(results[i], CONC_OK, "waiter \(i)") }
        conc_prim_release(c)
        conc_prim_release(l)
        XCTAssertEqual(conc_arena_in_use(arena), 0, "condition, records and lock freed")
    }

    func testNotifyOnlyReachesEarlierWaiters() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let c = try XCTUnwrap(conc_cond_create(arena, l))
        XCTAssertEqual(conc_cond_notify(c, 1), 0, "nobody waiting: the notify is lost, as in Python")
        let w1 = try XCTUnwrap(conc_cond_enlist(c, unit(1)))
        let w2 = try XCTUnwrap(conc_cond_enlist(c, unit(2)))
        XCTAssertEqual(conc_cond_notify(c, 1), 1)
        let w3 = try XCTUnwrap(conc_cond_enlist(c, unit(3)))
        XCTAssertEqual(conc_cond_waiter_notified(w1), CONC_OK, "oldest first")
        XCTAssertEqual(conc_cond_waiter_notified(w2), CONC_BUSY)
        XCTAssertEqual(conc_cond_waiter_notified(w3), CONC_BUSY)
        XCTAssertEqual(conc_cond_notify(c, 5), 2)
        XCTAssertEqual(conc_cond_waiter_notified(w3), CONC_OK)
        for w in [w1, w2, w3] { XCTAssertEqual(conc_cond_delist(c, w), 1) }
        XCTAssertEqual(conc_cond_pending(c), 0)
    }

    func testTimedOutWaiterDoesNotEatNotification() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let c = try XCTUnwrap(conc_cond_create(arena, l))
        // Record level: a waiter that leaves unnotified takes nothing; one notified while
        // timing out still counts as notified.
        let gone = try XCTUnwrap(conc_cond_enlist(c, unit(1)))
        let stays = try XCTUnwrap(conc_cond_enlist(c, unit(2)))
        XCTAssertEqual(conc_cond_delist(c, gone), 0)
        XCTAssertEqual(conc_cond_notify(c, 1), 1)
        XCTAssertEqual(conc_cond_waiter_notified(stays), CONC_OK)
        XCTAssertEqual(conc_cond_delist(c, stays), 1, "notified concurrently with a timeout = notified")

        // Threads: A times out for real, then notify(1) must reach B.
        let me = unit(100)
        var resultA = CONC_BUSY, resultB = CONC_BUSY
        let a = spawn {
            let u = unit(1)
            _ = ct_lock_acquire(l, u, forever)
            resultA = ct_cond_wait(c, l, u, 50_000_000)
            _ = conc_lock_release(l, u)
        }
        let b = spawn {
            let u = unit(2)
            _ = ct_lock_acquire(l, u, forever)
            resultB = ct_cond_wait(c, l, u, tenSeconds)
            _ = conc_lock_release(l, u)
        }
        join([a])
        XCTAssertEqual(resultA, CONC_TIMEOUT)
        XCTAssertTrue(eventually { conc_cond_pending(c) == 1 })
        _ = ct_lock_acquire(l, me, forever)
        XCTAssertEqual(conc_cond_notify(c, 1), 1)
        _ = conc_lock_release(l, me)
        join([b])
        XCTAssertEqual(resultB, CONC_OK)
    }

    func testNotifySkipsWaitersWhoseProcessDied() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let c = try XCTUnwrap(conc_cond_create(arena, l))
        assertChildOK(ct_fork_cond_enlist_and_die(c))  // reaped: its pid no longer exists
        let w = try XCTUnwrap(conc_cond_enlist(c, unit(1)))
        XCTAssertEqual(conc_cond_pending(c), 2)
        XCTAssertEqual(conc_cond_notify(c, 1), 1)
        XCTAssertEqual(conc_cond_waiter_notified(w), CONC_OK, "the live waiter got it")
        XCTAssertEqual(conc_cond_delist(c, w), 1)
        XCTAssertEqual(conc_cond_pending(c), 0)
        conc_prim_release(c)
        conc_prim_release(l)
        XCTAssertEqual(conc_arena_in_use(arena), 0, "the dead waiter's record was freed")
    }

    func testNotifierDyingMidNotifyIsRepaired() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let c = try XCTUnwrap(conc_cond_create(arena, l))
        let w1 = try XCTUnwrap(conc_cond_enlist(c, unit(1)))
        let w2 = try XCTUnwrap(conc_cond_enlist(c, unit(2)))
        assertChildOK(ct_fork_die_in_notify(c))  // marked w1, died holding the mutex
        XCTAssertEqual(conc_cond_waiter_notified(w1), CONC_OK, "the mark survived")
        XCTAssertEqual(conc_cond_notify(c, 1), 1, "repairs, then reaches w2 (w1 is not notified twice)")
        XCTAssertEqual(conc_prim_recoveries(c), 1)
        XCTAssertEqual(conc_cond_waiter_notified(w2), CONC_OK)
        XCTAssertEqual(conc_cond_delist(c, w1), 1)
        XCTAssertEqual(conc_cond_delist(c, w2), 1)
        XCTAssertEqual(conc_cond_pending(c), 0)
        let w3 = try XCTUnwrap(conc_cond_enlist(c, unit(3)))
        XCTAssertEqual(conc_cond_notify(c, 1), 1, "the list works afterwards")
        XCTAssertEqual(conc_cond_delist(c, w3), 1)
    }

    func testConditionOverRLockRestoresRecursionCount() throws {
        let r = try XCTUnwrap(conc_rlock_create(arena))
        let c = try XCTUnwrap(conc_cond_create(arena, r))
        XCTAssertEqual(conc_cond_lock(c), r)
        var observed: (owner: UInt64, count: UInt32) = (0, 0)
        let waiter = spawn {
            let u = unit(1)
            for _ in 0..<3 { _ = conc_rlock_try_acquire(r, u) }  // held 3 levels deep
            // Condition.wait: enlist, release fully, wait, delist, restore.
            let w = conc_cond_enlist(c, u)!
            var saved: UInt32 = 0
            _ = conc_rlock_release_all(r, u, &saved)
            _ = block(c, timeout: tenSeconds) { conc_cond_waiter_notified(w) }
            _ = conc_cond_delist(c, w)
            _ = block(r, timeout: tenSeconds) { conc_rlock_try_restore(r, u, saved) }
            observed = (conc_rlock_owner(r), conc_rlock_count(r))
            for _ in 0..<3 { _ = conc_rlock_release(r, u) }
        }
        // Parked on the condition's seq word: it has released the rlock by then.
        XCTAssertTrue(eventually { conc_prim_waiters(c) > 0 })
        let me = unit(2)
        XCTAssertEqual(conc_rlock_try_acquire(r, me), CONC_OK, "the waiter released all levels")
        XCTAssertEqual(conc_cond_notify(c, 1), 1)
        XCTAssertEqual(conc_rlock_release(r, me), CONC_OK)
        join([waiter])
        XCTAssertEqual(observed.owner, unit(1))
        XCTAssertEqual(observed.count, 3)
        XCTAssertEqual(conc_rlock_owner(r), 0)
    }

    func testProducersAndConsumers() throws {
        let l = try XCTUnwrap(conc_lock_create(arena, 0))
        let c = try XCTUnwrap(conc_cond_create(arena, l))
        let state = try XCTUnwrap(conc_arena_alloc(arena, 16)).assumingMemoryBound(to: Int.self)
        // state[0] = items available, state[1] = items consumed; both under the lock.
        let perProducer = 20_000, producers = 2, consumers = 2
        let total = perProducer * producers
        var threads: [pthread_t] = []
        for p in 0..<producers {
            threads.append(spawn {
                let u = unit(UInt32(1 + p))
                for _ in 0..<perProducer {
                    _ = ct_lock_acquire(l, u, forever)
                    state[0] += 1
                    _ = conc_cond_notify(c, 1)
                    _ = conc_lock_release(l, u)
                }
            })
        }
        for k in 0..<consumers {
            threads.append(spawn {
                let u = unit(UInt32(10 + k))
                _ = ct_lock_acquire(l, u, forever)
                while state[1] < total {
                    if state[0] > 0 {
                        state[0] -= 1
                        state[1] += 1
                        if state[1] == total { _ = conc_cond_notify_all(c) }  // release the other consumer
                    } else {
                        _ = ct_cond_wait(c, l, u, tenSeconds)
                    }
                }
                _ = conc_lock_release(l, u)
            })
        }
        join(threads)
        XCTAssertEqual(state[1], total)
        XCTAssertEqual(state[0], 0)
    }
}
