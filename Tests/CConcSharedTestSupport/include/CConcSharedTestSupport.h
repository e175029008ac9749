// Test helpers for ConcSharedTests: blocking wrappers over conc_block, and fork()ed
// children whose whole life is C (no Swift runtime after fork). Each ct_fork_* returns the
// child's pid (or -1); the child _exit()s with 0 on success.
#ifndef CCONCSHAREDTESTSUPPORT_H
#define CCONCSHAREDTESTSUPPORT_H
#include "CConcShared.h"
#pragma clang assume_nonnull begin

/// This process's unit number `n`.
uint64_t ct_unit(uint32_t n);

conc_result ct_lock_acquire(conc_lock *l, uint64_t unit, int64_t timeout_ns);
conc_result ct_sem_acquire(conc_sem *s, uint64_t unit, int64_t timeout_ns);
conc_result ct_event_wait(conc_event *e, int64_t timeout_ns);
conc_result ct_queue_put(conc_queue *q, const void *_Nullable bytes, size_t len, int64_t timeout_ns);
conc_result ct_queue_get(conc_queue *q, void *_Nullable *_Nonnull out, size_t *len, int64_t timeout_ns);
/// Waits (conc_block) until the queue's unfinished count is 0.
conc_result ct_queue_join(conc_queue *q, int64_t timeout_ns);
/// Condition.wait over a conc_lock: enlist, release, block until notified, re-acquire.
/// Returns CONC_OK (notified) or CONC_TIMEOUT.
conc_result ct_cond_wait(conc_cond *c, conc_lock *l, uint64_t unit, int64_t timeout_ns);

/// Child: `iters` times acquire `l`, ++*counter, release.
pid_t ct_fork_lock_counter(conc_lock *l, uint64_t *counter, int iters);
/// Child: acquires `l`, sets `ready`, then sleeps until killed.
pid_t ct_fork_lock_hold(conc_lock *l, conc_event *ready);
/// Child: waits until `e` has a waiter, then sets it.
pid_t ct_fork_event_setter(conc_event *e);
/// Child: allocates `count` blocks of `size` bytes and exits without freeing them.
pid_t ct_fork_arena_alloc(conc_arena *a, size_t size, int count);
/// Child: puts "item <i>" for i in 0..<n (blocking), then closes the queue if asked.
pid_t ct_fork_queue_producer(conc_queue *q, int n, int close_at_end);
/// Child: puts items "<i>" (i = 0, 1, ...) with try_put as fast as it can, forever.
pid_t ct_fork_queue_flood(conc_queue *q);

/// Child: conc_queue_test_die_in_put / _get (dies holding the queue's mutex mid-operation).
pid_t ct_fork_die_in_put(conc_queue *q, const char *item);
pid_t ct_fork_die_in_get(conc_queue *q);

/// Child: enlists on `c` as a waiter, then exits without delisting (a killed waiter).
pid_t ct_fork_cond_enlist_and_die(conc_cond *c);

/// Child: conc_cond_test_die_in_notify.
pid_t ct_fork_die_in_notify(conc_cond *c);

/// Installs a SIGUSR1 handler without SA_RESTART; then starts a thread that does
/// conc_futex_wait on a word that never changes (10 s timeout) and pokes it with
/// pthread_kill(SIGUSR1) until it returns. Returns the futex_wait result (EINTR expected).
int ct_futex_wait_interrupted(void);

/// Throughput benchmarks done entirely in C (no Swift per-item overhead): `n` items of 16
/// bytes from a producer to a consumer through `q`, which must be empty. The consumer checks
/// the order. Returns ns per item, or -1 on an error.
/// Threads: producer is a new thread, the caller consumes.
double ct_bench_queue_threads(conc_queue *q, int n);
/// Processes: producer is a fork()ed child, the caller consumes (and reaps the child).
double ct_bench_queue_processes(conc_queue *q, int n);

/// Lost-wake-up detector: two units ping-pong `rounds` times, each waiting with the
/// documented park loop WITHOUT spinning and with a 1 s slice. A wait that times out and
/// then finds what it waited for means a wake-up was lost. Returns the number of such
/// waits (0 expected), or -1 on an error.
/// `processes` != 0: the partner is a fork()ed child instead of a thread.
/// `queues` != 0: through two queues (wake-all path) instead of two semaphores (wake-one).
int ct_pingpong_lost_wakeups(conc_arena *a, int rounds, int processes, int queues);

/// A should_stop callback: returns *(int *)ctx.
int ct_flag_is_set(void *_Nullable ctx);

#pragma clang assume_nonnull end
#endif
