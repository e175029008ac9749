// Process-shareable concurrency primitives: an arena in shared memory and the locks,
// semaphores, events, conditions and queues that live in it. Threads of one process and
// processes forked after the arena was created all use the same objects.
//
// Blocking is NOT done here: every primitive offers non-blocking "try" operations and a
// futex word (`seq`). The caller's one park loop (or ``conc_block``) waits on that word.
//
// Every object is opaque: Swift only ever holds pointers (the structs contain pthread types).
// All primitive pointers (conc_lock *, conc_queue *, ...) start with a common header, so they
// can be passed wherever a `conc_prim *` is expected (C callers cast; in Swift they are all
// OpaquePointer and pass directly).
#ifndef CCONCSHARED_H
#define CCONCSHARED_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#pragma clang assume_nonnull begin

/* {======================================================
** Results
** ======================================================= */

typedef enum conc_result {
    CONC_OK = 0,
    CONC_TIMEOUT,       ///< the deadline passed
    CONC_INTERRUPTED,   ///< should_stop said so (Ctrl-C) or a signal interrupted a wait
    CONC_BUSY,          ///< a try operation could not proceed now (lock held, no permit, not set)
    CONC_NOT_HELD,      ///< release of a lock nobody holds
    CONC_NOT_OWNER,     ///< release of a lock held by another unit
    CONC_OVER_RELEASE,  ///< bounded semaphore above its maximum; task_done() too often
    CONC_EMPTY,         ///< queue get: nothing there
    CONC_FULL,          ///< queue put: maxsize reached
    CONC_CLOSED,        ///< queue closed (put always; get once drained)
    CONC_OWNER_DIED,    ///< acquired, but the previous holder's process had died
    CONC_NO_MEMORY,     ///< the arena (or malloc) is exhausted
} conc_result;

/// True for the results of a try operation that mean "wait and try again".
static inline int conc_would_block(conc_result r) {
    return r == CONC_BUSY || r == CONC_EMPTY || r == CONC_FULL;
}

/* }====================================================== */

/* {======================================================
** Units: ((pid << 32) | per-process unit number), never 0
** ======================================================= */

static inline uint64_t conc_unit_make(pid_t pid, uint32_t number) {
    return ((uint64_t)(uint32_t)pid << 32) | number;
}
static inline pid_t conc_unit_pid(uint64_t unit) { return (pid_t)(uint32_t)(unit >> 32); }
static inline uint32_t conc_unit_number(uint64_t unit) { return (uint32_t)unit; }

/* }====================================================== */

/* {======================================================
** Arena: one MAP_SHARED region, created before any fork
** ======================================================= */

typedef struct conc_arena conc_arena;

/// Maps `reserve_bytes` (rounded up to pages; e.g. 256 MiB) shared, anonymous, lazily touched.
/// Returns NULL (errno set) on failure.
conc_arena *_Nullable conc_arena_create(size_t reserve_bytes);
/// The same allocator over a MAP_PRIVATE mapping: a forked child gets a copy of it (and of
/// the primitives in it) instead of sharing it. For objects CPython copies at a fork
/// (threading's locks, queue.Queue).
conc_arena *_Nullable conc_arena_create_private(size_t reserve_bytes);
int conc_arena_is_private(conc_arena *a);
/// 16-byte aligned, zeroed memory; NULL when the arena is exhausted. Thread- and process-safe.
void *_Nullable conc_arena_alloc(conc_arena *a, size_t size);
/// Returns a block from ``conc_arena_alloc``. NULL is ignored.
void conc_arena_free(conc_arena *a, void *_Nullable p);
/// Bytes currently allocated (block sizes including headers).
size_t conc_arena_in_use(conc_arena *a);
/// Bytes reserved.
size_t conc_arena_capacity(conc_arena *a);
/// Unmaps the arena in the calling process. Every pointer into it becomes invalid.
void conc_arena_destroy(conc_arena *a);

/* }====================================================== */

/* {======================================================
** Futex and sleeping
** ======================================================= */

/// Sleeps while `*word == expected`, at most `timeout_ns` (relative; < 0 = forever).
/// Shared futex (works across processes). Does not retry on EINTR.
/// - Returns: 0 (woken, or the value already differed), ETIMEDOUT or EINTR.
int conc_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/// Wakes up to `n` waiters on `word` (INT_MAX = all).
void conc_futex_wake(uint32_t *word, int n);
/// Sleeps `ns` nanoseconds. Returns 0, or EINTR when a signal cut it short (no retry).
int conc_sleep_ns(int64_t ns);
/// CLOCK_MONOTONIC in nanoseconds.
int64_t conc_now_ns(void);

/* }====================================================== */

/* {======================================================
** Common header: kind, seq word, waiters, refcount, creation info
** ======================================================= */

typedef struct conc_prim conc_prim;

typedef enum conc_kind {
    CONC_KIND_LOCK = 1,
    CONC_KIND_RLOCK,
    CONC_KIND_SEMAPHORE,
    CONC_KIND_EVENT,
    CONC_KIND_CONDITION,
    CONC_KIND_QUEUE,
} conc_kind;

/// Capacity of the "file:line" buffers (including the terminating NUL).
#define CONC_WHERE_LEN 96
/// Longest single futex sleep of ``conc_block`` (so it notices dead holders and should_stop).
#define CONC_WAIT_SLICE_NS 50000000LL

/* The caller's park loop (what conc_block does; the interpreter's own loop must keep the
 * same order, or a wake-up can be lost):
 *
 *     for (;;) {
 *         uint32_t s = conc_prim_load_seq(p);        // 1. BEFORE the attempt
 *         if (!conc_would_block(r = try_op())) return r;
 *         (optional: poll conc_prim_load_seq(p) != s a few hundred times with a pause)
 *         conc_prim_wait_begin(p);                   // 2. announce
 *         if (!conc_would_block(r = try_op())) { conc_prim_wait_end(p); return r; }
 *         conc_prim_wait(p, s, min(remaining, CONC_WAIT_SLICE_NS));   // 3. sleep
 *         conc_prim_wait_end(p);
 *         check Ctrl-C / deadline;
 *     }
 *
 * Sleep in slices: a lock holder whose process died never bumps seq; the next attempt
 * after a slice notices it (CONC_OWNER_DIED). */

conc_kind conc_prim_kind(conc_prim *p);
/// The futex word: bumped after every state change that may let a waiter proceed.
uint32_t *conc_prim_seq(conc_prim *p);
/// Atomic (seq_cst) load of the seq word.
uint32_t conc_prim_load_seq(conc_prim *p);
/// Announce / withdraw a waiter (changers only issue a wake when the count is > 0).
void conc_prim_wait_begin(conc_prim *p);
void conc_prim_wait_end(conc_prim *p);
/// Number of announced waiters (diagnostics).
uint32_t conc_prim_waiters(conc_prim *p);
/// Sleeps on the primitive's seq word while it equals `seen_seq` (results as
/// ``conc_futex_wait``). Parking loops must use this, not conc_futex_wait on
/// ``conc_prim_seq``: it also registers the sleeper, which wake-all changers rely on.
int conc_prim_wait(conc_prim *p, uint32_t seen_seq, int64_t timeout_ns);

/// Reference counting (atomic; shared by every process). At zero the primitive and
/// everything it owns in the arena are freed.
void conc_prim_retain(conc_prim *p);
void conc_prim_release(conc_prim *p);
uint32_t conc_prim_refcount(conc_prim *p);
/// How often the state was repaired because a process died inside an operation holding
/// the primitive's internal mutex (queues and conditions; 0 for the others).
uint32_t conc_prim_recoveries(conc_prim *p);

/// Lives in a private arena (``conc_arena_create_private``): each process has its own copy.
int conc_prim_is_private(conc_prim *p);
/// Around a fork, for a primitive in a private arena: `prepare` (before the fork) takes its
/// internal mutex, if it has one, so the child's copy is not taken mid-update; `parent`
/// gives it back; `child` re-creates it in the copy (the holder was the parent's thread)
/// and, for a lock or rlock, moves a hold of unit `forker` (the unit that forked, of
/// process `parent_pid`) to `forker_in_child`; a hold by any other unit of the parent
/// becomes CONC_UNIT_ENDED_HOLDING: that thread does not exist in the child, and the copy
/// stays taken, as CPython's does.
void conc_prim_fork_prepare(conc_prim *p);
void conc_prim_fork_parent(conc_prim *p);
void conc_prim_fork_child(conc_prim *p, uint64_t forker, uint64_t forker_in_child);

/// "file:line" of creation: copied in (truncated) / out (always NUL-terminated).
void conc_prim_set_created_at(conc_prim *p, const char *where);
void conc_prim_created_at(conc_prim *p, char *buf, size_t buflen);
/// Locks, rlocks, semaphores: where the current (last) holder acquired it. The holder sets it
/// right after a successful acquire. Reading it while another unit writes can give a
/// mixed string (diagnostics only; always NUL-terminated).
void conc_prim_set_acquired_at(conc_prim *p, const char *where);
void conc_prim_acquired_at(conc_prim *p, char *buf, size_t buflen);
/// The unit that holds it (lock/rlock) or acquired it last (semaphore); 0 if none/other kinds.
uint64_t conc_prim_holder(conc_prim *p);

/* }====================================================== */

/* {======================================================
** The blocking loop (for tests and callers without their own park mechanism)
** ======================================================= */

/// Calls `attempt(ctx)` until it returns something other than a would-block result
/// (CONC_BUSY/EMPTY/FULL), which is then returned (CONC_OK, CONC_OWNER_DIED, CONC_CLOSED, ...).
/// Between attempts it sleeps on `prim`'s seq word. `timeout_ns` < 0 = forever.
/// `should_stop(ctx2)` (may be NULL) is checked after every wake-up, including EINTR.
/// - Returns: the attempt's result, CONC_TIMEOUT or CONC_INTERRUPTED.
conc_result conc_block(conc_prim *prim, conc_result (*attempt)(void *_Nullable ctx),
                       void *_Nullable ctx, int64_t timeout_ns,
                       int (*_Nullable should_stop)(void *_Nullable ctx2), void *_Nullable ctx2);

/* }====================================================== */

/* {======================================================
** Lock (owned mutex) and RLock
** ======================================================= */

typedef struct conc_lock conc_lock;

/// `unowned` != 0: any unit may release it (Python's threading.Lock).
conc_lock *_Nullable conc_lock_create(conc_arena *a, int unowned);
/// CONC_OK, CONC_BUSY, or CONC_OWNER_DIED (taken over from a dead process).
conc_result conc_lock_try_acquire(conc_lock *l, uint64_t unit);
/// CONC_OK, CONC_NOT_HELD, CONC_NOT_OWNER (owned locks only).
conc_result conc_lock_release(conc_lock *l, uint64_t unit);
int conc_lock_locked(conc_lock *l);
uint64_t conc_lock_owner(conc_lock *l);
/// The holder of an unowned lock whose holding process ended normally: no unit, never
/// dead, so the lock stays taken until some unit releases it (``conc_lock_holder_ended``).
#define CONC_UNIT_ENDED_HOLDING ((uint64_t)1)
/// The unit number of a holder whose process has ended (``conc_lock_holder_ended``):
/// conc_unit_dead says so at once, before the process is gone from the system.
#define CONC_UNIT_NUMBER_ENDED ((uint32_t)0xFFFFFFFF)
/// For process `pid` ending (before it leaves its family): if `p` (a lock or an rlock) is
/// held by one of its units, the holder becomes "ended in pid", which the next attempt
/// takes over at once; a waiter's "still blocked?" says no from then on, so no deadlock
/// round confirms on a holder about to vanish. An unowned lock (threading.Lock,
/// multiprocessing.Lock) of a process ending normally (`normal_end`) instead passes to
/// CONC_UNIT_ENDED_HOLDING and stays taken, as CPython's (a semaphore) does: any unit may
/// release it. 1 when the holder was changed.
int conc_lock_holder_ended(conc_prim *p, pid_t pid, int normal_end);

typedef struct conc_rlock conc_rlock;

conc_rlock *_Nullable conc_rlock_create(conc_arena *a);
/// CONC_OK (also re-entry by the owner), CONC_BUSY, CONC_OWNER_DIED.
conc_result conc_rlock_try_acquire(conc_rlock *r, uint64_t unit);
/// One level. CONC_OK, CONC_NOT_HELD, CONC_NOT_OWNER.
conc_result conc_rlock_release(conc_rlock *r, uint64_t unit);
/// Releases every level (for Condition.wait); the count goes to `*saved_count`.
conc_result conc_rlock_release_all(conc_rlock *r, uint64_t unit, uint32_t *saved_count);
/// Re-acquires with the saved count: CONC_OK, CONC_BUSY, CONC_OWNER_DIED.
conc_result conc_rlock_try_restore(conc_rlock *r, uint64_t unit, uint32_t count);
uint64_t conc_rlock_owner(conc_rlock *r);
uint32_t conc_rlock_count(conc_rlock *r);

/* }====================================================== */

/* {======================================================
** Semaphore and Event
** ======================================================= */

typedef struct conc_sem conc_sem;

/// `bounded` != 0: release beyond `value` (the initial value) is CONC_OVER_RELEASE.
conc_sem *_Nullable conc_sem_create(conc_arena *a, uint32_t value, int bounded);
/// CONC_OK or CONC_BUSY. `unit` is recorded as the last acquirer.
conc_result conc_sem_try_acquire(conc_sem *s, uint64_t unit);
/// CONC_OK or CONC_OVER_RELEASE (nothing changed).
conc_result conc_sem_release(conc_sem *s, uint32_t n);
uint32_t conc_sem_value(conc_sem *s);

typedef struct conc_event conc_event;

conc_event *_Nullable conc_event_create(conc_arena *a);
void conc_event_set(conc_event *e);
void conc_event_clear(conc_event *e);
int conc_event_is_set(conc_event *e);
/// How many times conc_event_set ran (wrapping): a waiter compares it with the count it
/// saw when it began, so a set() followed at once by clear() still releases it.
uint32_t conc_event_sets(conc_event *e);
/// The attempt for a waiter: CONC_OK when set, else CONC_BUSY.
conc_result conc_event_try_wait(conc_event *e);

/* }====================================================== */

/* {======================================================
** Condition
** ======================================================= */

typedef struct conc_cond conc_cond;
typedef struct conc_cond_waiter conc_cond_waiter;

/// `lock` is a conc_lock or conc_rlock (retained by the condition).
conc_cond *_Nullable conc_cond_create(conc_arena *a, conc_prim *lock);
conc_prim *conc_cond_lock(conc_cond *c);
/// Adds a waiter record at the tail (call while holding the lock, then release it fully).
/// NULL when the arena is exhausted.
conc_cond_waiter *_Nullable conc_cond_enlist(conc_cond *c, uint64_t unit);
/// The attempt in the blocking loop: CONC_OK once notified, else CONC_BUSY.
conc_result conc_cond_waiter_notified(conc_cond_waiter *w);
/// Removes and frees the record (after a wake, timeout or interrupt).
/// - Returns: 1 when it had been notified (also when that raced with a timeout), else 0.
int conc_cond_delist(conc_cond *c, conc_cond_waiter *w);
/// Marks the `n` oldest un-notified waiters notified; returns how many were marked.
uint32_t conc_cond_notify(conc_cond *c, uint32_t n);
uint32_t conc_cond_notify_all(conc_cond *c);
/// Waiters enlisted and not yet notified.
uint32_t conc_cond_pending(conc_cond *c);
/// TESTS ONLY, in a fork()ed child: marks the oldest waiter notified and _exit()s while
/// holding the condition's mutex, before unlinking it.
void conc_cond_test_die_in_notify(conc_cond *c);

/* }====================================================== */

/* {======================================================
** Queue of byte strings
** ======================================================= */

typedef struct conc_queue conc_queue;

/// `maxsize` 0 = unbounded.
conc_queue *_Nullable conc_queue_create(conc_arena *a, uint64_t maxsize);
/// Copies `len` bytes into the arena: CONC_OK, CONC_FULL, CONC_CLOSED, CONC_NO_MEMORY.
conc_result conc_queue_try_put(conc_queue *q, const void *_Nullable bytes, size_t len);
/// CONC_OK: `*out` is malloc'd in this process (caller frees; non-NULL even for len 0).
/// CONC_EMPTY, or CONC_CLOSED once closed and drained, or CONC_NO_MEMORY (item kept).
conc_result conc_queue_try_get(conc_queue *q, void *_Nullable *_Nonnull out, size_t *out_len);
/// A waiting getter's or putter's place in line: units that wait are served in the order
/// they began to wait, getters and putters each in their own line.
typedef struct conc_queue_turn conc_queue_turn;
typedef enum conc_queue_role { CONC_QUEUE_GETTER, CONC_QUEUE_PUTTER } conc_queue_role;
/// Puts `unit` at the back of `role`'s line; NULL if the arena is full.
conc_queue_turn *_Nullable conc_queue_enlist(conc_queue *q, conc_queue_role role, uint64_t unit);
/// As conc_queue_try_get, but CONC_EMPTY while the items there are due to getters listed
/// ahead of `t`. On CONC_OK `t` has left the line (still call conc_queue_delist).
conc_result conc_queue_try_get_in_turn(conc_queue *q, conc_queue_turn *t,
                                       void *_Nullable *_Nonnull out, size_t *out_len);
/// As conc_queue_try_put, but CONC_FULL while the free places are due to putters listed
/// ahead of `t`. On CONC_OK `t` has left the line (still call conc_queue_delist).
conc_result conc_queue_try_put_in_turn(conc_queue *q, conc_queue_turn *t, const void *_Nullable bytes,
                                       size_t len);
/// Leaves the line (if still in it) and frees `t`.
void conc_queue_delist(conc_queue *q, conc_queue_turn *t);
uint64_t conc_queue_qsize(conc_queue *q);
int conc_queue_empty(conc_queue *q);
int conc_queue_full(conc_queue *q);
/// CONC_OK or CONC_OVER_RELEASE (more task_done() calls than items put), or CONC_CLOSED
/// once the queue is retired (the caller then counts the call where the items went).
conc_result conc_queue_task_done(conc_queue *q);
/// Items put and not yet task_done()'d (join waits until 0).
uint64_t conc_queue_unfinished(conc_queue *q);
/// After close, put is CONC_CLOSED and get is CONC_CLOSED once drained. Wakes every waiter.
void conc_queue_close(conc_queue *q);
int conc_queue_closed(conc_queue *q);
/// Closes the queue for good because its items move elsewhere (queue.Queue leaving its
/// native engine): from now on task_done() is CONC_CLOSED too. Returns the unfinished
/// count, read under the mutex, so that every task_done() either counted before it or
/// answers CONC_CLOSED after it. Wakes every waiter.
uint64_t conc_queue_retire(conc_queue *q);
int conc_queue_retired(conc_queue *q);
/// TESTS ONLY, in a fork()ed child: performs a put (resp. get) up to its commit store and
/// then _exit()s while holding the queue's mutex, leaving the bookkeeping behind.
void conc_queue_test_die_in_put(conc_queue *q, const void *_Nullable bytes, size_t len);
void conc_queue_test_die_in_get(conc_queue *q);

/* }====================================================== */

/* {======================================================
** The process family: one slot per live process sharing the arena (deadlock detection
** across processes; see family.c and docs/design.md)
** ======================================================= */

#define CONC_FAMILY_SLOTS 64
#define CONC_FAMILY_EDGES 16
#define CONC_FAMILY_NAME 64
#define CONC_FAMILY_TEXT 2048

typedef struct conc_family conc_family;

/// The table, allocated in the arena (once, by the process that creates the arena).
conc_family *_Nullable conc_family_create(conc_arena *a);
/// Claims a free slot for `pid` (0: a child being forked): its index, or -1 when the table
/// is full (which makes the family untracked for good); -2 the first time it is found full.
int conc_family_claim(conc_family *f, pid_t pid);
void conc_family_set_pid(conc_family *f, int slot, pid_t pid);
void conc_family_set_name(conc_family *f, int slot, const char *name);
/// Frees the slot if it still belongs to `pid`.
void conc_family_release(conc_family *f, int slot, pid_t pid);
/// Whether the slot is claimed, and by which pid (0 while its fork is under way).
int conc_family_used(conc_family *f, int slot);
pid_t conc_family_pid(conc_family *f, int slot);
/// The slot's sequence number: odd while its process is quiescent.
uint32_t conc_family_seq(conc_family *f, int slot);
/// Makes the seq odd (quiescent) or even (running); bumps it only on a change.
void conc_family_set_quiescent(conc_family *f, int slot, int quiescent);
/// The checker's round; a new one asks every quiescent process to confirm again.
uint32_t conc_family_round(conc_family *f);
uint32_t conc_family_new_round(conc_family *f);
int conc_family_untracked(conc_family *f);
/// Confirms `round` for the quiescent period `seq`, with the blocked units in words and
/// the wait-for edges ((kind << 32) | pid).
void conc_family_confirm(conc_family *f, int slot, uint32_t round, uint32_t seq, const char *text,
                         const uint64_t *_Nullable edges, uint32_t nedges);
int conc_family_confirmed(conc_family *f, int slot, uint32_t round, uint32_t seq);
uint32_t conc_family_confirmed_round(conc_family *f, int slot);
void conc_family_read(conc_family *f, int slot, char *name, size_t namelen, char *text, size_t textlen,
                      uint64_t *edges, uint32_t *nedges);
/// Marks the slot's process as reported in a family deadlock (its units stay blocked).
void conc_family_freeze(conc_family *f, int slot);
int conc_family_frozen(conc_family *f, int slot);
/// Lets every process of the family go on again (the reporting process caught its
/// DeadlockError): their parked units try again at their next nap.
void conc_family_thaw(conc_family *f);
/// False when `pid` has exited (also while it is a zombie).
int conc_process_alive(pid_t pid);
/// PR_SET_CHILD_SUBREAPER on (1) or off (0): orphaned descendants become this process's
/// children, so it can reap them. 0 or -1 (errno).
int conc_set_child_subreaper(int on);
/// True when the process of `unit` (not this one) has exited. A "not dead" answer about
/// a pid may be up to 10 ms old (see prim.c).
int conc_unit_dead(uint64_t unit);
/// conc_unit_dead asked now, for a confirmation that must not be stale (a deadlock
/// round's "still blocked?").
int conc_unit_dead_now(uint64_t unit);

/* }====================================================== */

#pragma clang assume_nonnull end
#endif
