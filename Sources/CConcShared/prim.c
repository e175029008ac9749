// The common header shared by every primitive: seq/waiters accessors, reference counting,
// creation and holder info; plus the robust process-shared mutex helpers.
#include "internal.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

void conc_prim_init(conc_prim *p, conc_arena *a, conc_kind kind) {
    p->kind = kind;
    p->arena = a;
    atomic_init(&p->seq, 0);
    atomic_init(&p->waiters, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->refcount, 1);
    atomic_init(&p->holder, 0);
}

conc_kind conc_prim_kind(conc_prim *p) { return (conc_kind)p->kind; }
uint32_t *conc_prim_seq(conc_prim *p) { return (uint32_t *)&p->seq; }
uint32_t conc_prim_load_seq(conc_prim *p) { return atomic_load_explicit(&p->seq, memory_order_seq_cst); }
void conc_prim_wait_begin(conc_prim *p) { atomic_fetch_add_explicit(&p->waiters, 1, memory_order_seq_cst); }
void conc_prim_wait_end(conc_prim *p) { atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_seq_cst); }
uint32_t conc_prim_waiters(conc_prim *p) { return atomic_load_explicit(&p->waiters, memory_order_relaxed); }
int conc_prim_wait(conc_prim *p, uint32_t seen_seq, int64_t timeout_ns) {
    return conc_prim_sleep(p, seen_seq, timeout_ns);
}

void conc_prim_retain(conc_prim *p) { atomic_fetch_add_explicit(&p->refcount, 1, memory_order_relaxed); }

uint32_t conc_prim_recoveries(conc_prim *p) { return atomic_load_explicit(&p->recoveries, memory_order_relaxed); }

uint32_t conc_prim_refcount(conc_prim *p) { return atomic_load_explicit(&p->refcount, memory_order_relaxed); }

void conc_prim_release(conc_prim *p) {
    /* acq_rel: every use by other units happens-before the teardown by the last one. */
    if (atomic_fetch_sub_explicit(&p->refcount, 1, memory_order_acq_rel) != 1) return;
    switch ((conc_kind)p->kind) {
    case CONC_KIND_CONDITION: conc_cond_teardown((conc_cond *)p); break;
    case CONC_KIND_QUEUE: conc_queue_teardown((conc_queue *)p); break;
    default: break; /* locks, semaphores, events are atomics only: nothing to tear down */
    }
    conc_arena_free(p->arena, p);
}

int conc_prim_is_private(conc_prim *p) { return conc_arena_is_private(p->arena); }

static pthread_mutex_t *_Nullable internal_mutex(conc_prim *p) {
    switch ((conc_kind)p->kind) {
    case CONC_KIND_CONDITION: return conc_cond_mutex((conc_cond *)p);
    case CONC_KIND_QUEUE: return conc_queue_mutex((conc_queue *)p);
    default: return NULL;
    }
}

void conc_prim_fork_prepare(conc_prim *p) {
    pthread_mutex_t *m = internal_mutex(p);
    if (m) conc_mutex_lock(m);
}

void conc_prim_fork_parent(conc_prim *p) {
    pthread_mutex_t *m = internal_mutex(p);
    if (m) conc_mutex_unlock(m);
}

void conc_prim_fork_child(conc_prim *p, uint64_t forker, uint64_t forker_in_child) {
    switch ((conc_kind)p->kind) {
    case CONC_KIND_CONDITION: conc_cond_fork_child((conc_cond *)p); return;
    case CONC_KIND_QUEUE: conc_queue_fork_child((conc_queue *)p); return;
    case CONC_KIND_LOCK:
    case CONC_KIND_RLOCK: {
        /* The child is single-threaded here: plain stores. */
        uint64_t h = atomic_load_explicit(&p->holder, memory_order_relaxed);
        if (h == 0 || h == CONC_UNIT_ENDED_HOLDING) return;
        atomic_store_explicit(&p->holder, h == forker ? forker_in_child : CONC_UNIT_ENDED_HOLDING,
                              memory_order_relaxed);
        return;
    }
    default: return;
    }
}

/* The string buffers are copied byte by byte with relaxed atomics: a deadlock report may
 * read acquired_at while the new holder writes it; that must not be a data race (UB). */
static void put_str(char *dst, const char *src) {
    size_t i = 0;
    for (; i + 1 < CONC_WHERE_LEN && src[i]; i++)
        atomic_store_explicit((_Atomic char *)&dst[i], src[i], memory_order_relaxed);
    atomic_store_explicit((_Atomic char *)&dst[i], 0, memory_order_relaxed);
}
static void get_str(const char *src, char *buf, size_t buflen) {
    if (buflen == 0) return;
    size_t i = 0;
    for (; i + 1 < buflen && i + 1 < CONC_WHERE_LEN; i++) {
        char c = atomic_load_explicit((_Atomic char *)&src[i], memory_order_relaxed);
        if (!c) break;
        buf[i] = c;
    }
    buf[i] = 0;
}

void conc_prim_set_created_at(conc_prim *p, const char *where) { put_str(p->created_at, where); }
void conc_prim_created_at(conc_prim *p, char *buf, size_t buflen) { get_str(p->created_at, buf, buflen); }
void conc_prim_set_acquired_at(conc_prim *p, const char *where) { put_str(p->acquired_at, where); }
void conc_prim_acquired_at(conc_prim *p, char *buf, size_t buflen) { get_str(p->acquired_at, buf, buflen); }

uint64_t conc_prim_holder(conc_prim *p) {
    switch ((conc_kind)p->kind) {
    case CONC_KIND_LOCK: case CONC_KIND_RLOCK: case CONC_KIND_SEMAPHORE:
        return atomic_load_explicit(&p->holder, memory_order_relaxed);
    default: return 0;
    }
}

int conc_mutex_init(pthread_mutex_t *m) {
    pthread_mutexattr_t at;
    int e = pthread_mutexattr_init(&at);
    if (e) return e;
    pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    e = pthread_mutex_init(m, &at);
    pthread_mutexattr_destroy(&at);
    return e;
}

int conc_mutex_lock(pthread_mutex_t *m) {
    /* Critical sections here are a few stores long, and glibc's robust mutexes go straight
     * to a futex sleep on contention; a short trylock spin avoids a sleep/wake pair when a
     * producer and a consumer meet on a queue. */
    int e;
    for (int i = 0; i < 100; i++) {
        e = pthread_mutex_trylock(m);
        if (e != EBUSY) goto got;
        conc_cpu_relax();
    }
    e = pthread_mutex_lock(m);
got:
    if (e == EOWNERDEAD) {
        /* The previous holder's process died inside the critical section. Every critical
         * section in this library is written so that an interruption at any point leaves a
         * usable state (at worst a leaked block, or a repair the caller does): continue. */
        pthread_mutex_consistent(m);
        return 1;
    }
    return 0;
}

/* getpid() is a real system call in current glibc (no cache); the dead-holder check runs
 * on every failed try, so cache it, and forget it in a forked child. */
static _Atomic pid_t cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;
static void forget_pid(void) { atomic_store_explicit(&cached_pid, 0, memory_order_relaxed); }
static void register_atfork(void) { pthread_atfork(NULL, NULL, forget_pid); }

static pid_t my_pid(void) {
    pid_t p = atomic_load_explicit(&cached_pid, memory_order_relaxed);
    if (p) return p;
    pthread_once(&pid_once, register_atfork);
    p = getpid();
    atomic_store_explicit(&cached_pid, p, memory_order_relaxed);
    return p;
}

/// The system-call-cheap half of both checks below: 1 dead, 0 alive, -1 when only /proc
/// can tell (alive to kill(2), but perhaps a zombie); `pid` is set for the last case.
static int dead_without_proc(uint64_t unit, pid_t *pid) {
    if (conc_unit_number(unit) == CONC_UNIT_NUMBER_ENDED) return 1;
    *pid = conc_unit_pid(unit);
    if (*pid <= 0 || *pid == my_pid()) return 0;
    if (kill(*pid, 0) == -1) return errno == ESRCH;
    return -1;
}

int conc_unit_dead_now(uint64_t unit) {
    pid_t pid = 0;
    int dead = dead_without_proc(unit, &pid);
    return dead >= 0 ? dead : !conc_process_alive(pid);
}

int conc_unit_dead(uint64_t unit) {
    pid_t pid = 0;
    int dead = dead_without_proc(unit, &pid);
    if (dead >= 0) return dead;
    /* Perhaps a zombie: a child killed while holding a lock stays one until its parent
     * joins it, and the parent may be the very unit waiting for the lock. Reading /proc
     * (conc_process_alive) costs three system calls, and under contention between
     * processes this runs at every failed try: each thread reuses its last answer about
     * the same pid for 10 ms (a deadlock round's "still blocked?" asks afresh instead,
     * conc_unit_dead_now). */
    static __thread pid_t asked_pid;
    static __thread int asked_dead;
    static __thread int64_t asked_at;
    int64_t now = conc_now_ns();
    if (pid == asked_pid && now - asked_at < 10000000LL) return asked_dead;
    asked_dead = !conc_process_alive(pid);
    asked_pid = pid;
    asked_at = now;
    return asked_dead;
}
