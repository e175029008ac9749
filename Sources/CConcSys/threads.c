// The threads units run on: their pool, per-thread set-up, kernel thread id, object locks.
#include "CConcSys.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t CConcSys_gettid(void) { return (int64_t)syscall(SYS_gettid); }

// ---- Object locks (see CConcSys.h) ----

CConcSys_stripe CConcSys_stripes[CONC_STRIPE_COUNT];
int32_t CConcSys_objects_shared_flag;
int32_t CConcSys_weakrefs_used_flag;

void CConcSys_objects_shared_enable(void) { __atomic_store_n(&CConcSys_objects_shared_flag, 1, __ATOMIC_SEQ_CST); }

void CConcSys_objects_shared_reset_after_fork(void) {
    memset(CConcSys_stripes, 0, sizeof CConcSys_stripes);
    __atomic_store_n(&CConcSys_objects_shared_flag, 0, __ATOMIC_SEQ_CST);
}

void CConcSys_stripe_lock_slow(CConcSys_stripe *s) {
    // Spin a little: critical sections are a few hundred instructions at most.
    for (int i = 0; i < 200; i++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ volatile("yield");
#endif
        uint32_t expected = 0;
        if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&s->state, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
    }
    // Then sleep (Drepper's mutex: 2 marks "someone may sleep").
    while (__atomic_exchange_n(&s->state, 2, __ATOMIC_ACQUIRE) != 0)
        syscall(SYS_futex, &s->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

void CConcSys_stripe_wake(CConcSys_stripe *s) {
    syscall(SYS_futex, &s->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* The trashcan's per-thread counters (CConcSys.h). */
__thread int CConcSys_trash_depth_storage;
__thread int CConcSys_trash_parked_storage;
/* Whether this thread has queued __del__ calls (CConcSys.h: why these are not inline). */
static __thread int CConcSys_finalizers_pending_storage;
int CConcSys_finalizers_pending(void) { return CConcSys_finalizers_pending_storage; }
void CConcSys_set_finalizers_pending(int pending) { CConcSys_finalizers_pending_storage = pending; }

/* ---- The pool of unit threads (CConcSys.h: CConcSys_thread_start) ----
 *
 * An idle thread waits on the `assigned` word of its own `pool_worker`, which lives on its
 * own stack and is linked into `idle` while it waits. A starter pops one under `pool_lock`,
 * fills in the job, sets `assigned` and wakes it. A waiter that times out takes itself
 * off the list under the lock, unless a starter got there first (then it runs that job). */

enum { POOL_IDLE_MAX = 256, POOL_IDLE_SECONDS = 5 };

typedef struct pool_worker {
    struct pool_worker *next;
    void (*job)(void *);
    void *arg;
    pthread_t self;
    uintptr_t stack_low;  /* lowest address of its stack (0 when unknown) */
    uint32_t assigned;  /* futex word: 0 while idle, 1 once job/arg are set */
} pool_worker;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pool_worker *pool_idle;  /* under pool_lock */
static int pool_idle_count;     /* under pool_lock */
/* Set in a fork()ed child once the thread that forked has finished its job: from then on
 * no thread waits in the pool. Under pool_lock. */
static int pool_draining;
/* In a fork()ed child, set on the one thread there is, the one that called fork(). */
static __thread int pool_forked_here;
/* Set by the job (CConcSys_thread_leave_pool): this thread exits after it. */
static __thread int pool_leave;
void CConcSys_thread_leave_pool(void) { pool_leave = 1; }
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* fork() with the lock held by the forking thread: the child then has none of the idle
 * threads (only the caller survives), so it forgets them and starts afresh. */
static void pool_prepare(void) { pthread_mutex_lock(&pool_lock); }
static void pool_parent(void) { pthread_mutex_unlock(&pool_lock); }
static void pool_child(void) {
    pool_idle = NULL;
    pool_idle_count = 0;
    pool_forked_here = 1;
    pthread_mutex_init(&pool_lock, NULL);
}
static void pool_register(void) { pthread_atfork(pool_prepare, pool_parent, pool_child); }

/* Gives the kernel back the stack pages a deep recursion of the last job left committed,
 * keeping the top POOL_STACK_KEEP bytes (what a job commonly uses): an idle thread would
 * otherwise hold up to its whole stack in memory. */
enum { POOL_STACK_KEEP = 256 << 10 };
static void pool_trim_stack(pool_worker *w) {
    char here;
    uintptr_t sp = (uintptr_t)&here;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (w->stack_low == 0 || sp - w->stack_low <= POOL_STACK_KEEP + page) return;
    uintptr_t end = (sp - POOL_STACK_KEEP) & ~(page - 1);
    madvise((void *)w->stack_low, end - w->stack_low, MADV_DONTNEED);
}

/* Waits for the next job; 0 when the thread should exit (pool full or idle too long). */
static int pool_wait(pool_worker *w) {
    if (!pool_leave) pool_trim_stack(w);
    pthread_mutex_lock(&pool_lock);
    if (pool_forked_here) {
        /* A child forked from a unit thread ends, as in CPython, when its last thread
         * does: so this thread does not wait, and neither may the idle ones. */
        pool_draining = 1;
        for (pool_worker *i = pool_idle, *next; i; i = next) {
            next = i->next;
            i->job = NULL;
            __atomic_store_n(&i->assigned, 1, __ATOMIC_RELEASE);
            syscall(SYS_futex, &i->assigned, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
        pool_idle = NULL;
        pool_idle_count = 0;
    }
    if (pool_leave || pool_draining || pool_idle_count >= POOL_IDLE_MAX) {
        pthread_mutex_unlock(&pool_lock);
        return 0;
    }
    __atomic_store_n(&w->assigned, 0, __ATOMIC_RELAXED);
    w->next = pool_idle;
    pool_idle = w;
    pool_idle_count++;
    pthread_mutex_unlock(&pool_lock);

    struct timespec now, deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += POOL_IDLE_SECONDS;
    while (__atomic_load_n(&w->assigned, __ATOMIC_ACQUIRE) == 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec left = { deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec };
        if (left.tv_nsec < 0) { left.tv_sec -= 1; left.tv_nsec += 1000000000L; }
        if (left.tv_sec < 0) {
            pthread_mutex_lock(&pool_lock);
            if (__atomic_load_n(&w->assigned, __ATOMIC_ACQUIRE) != 0) {  /* a starter popped us */
                pthread_mutex_unlock(&pool_lock);
                break;
            }
            pool_worker **p = &pool_idle;
            while (*p != w) p = &(*p)->next;
            *p = w->next;
            pool_idle_count--;
            pthread_mutex_unlock(&pool_lock);
            return 0;
        }
        /* EINTR and spurious wake-ups just loop; the word says whether a job came. */
        syscall(SYS_futex, &w->assigned, FUTEX_WAIT_PRIVATE, 0, &left, NULL, 0);
    }
    if (w->job == NULL) {  /* dismissed: leave once the dismisser is done with `w` */
        pthread_mutex_lock(&pool_lock);
        pthread_mutex_unlock(&pool_lock);
    }
    return 1;
}

static void *pool_thread_main(void *first) {
    pool_worker w = { NULL, NULL, NULL, pthread_self(), CConcSys_thread_stack_low(), 1 };
    pool_worker *start = first;  /* the job it was created for, in a malloc'd box */
    w.job = start->job;
    w.arg = start->arg;
    free(start);
    do {
        w.job(w.arg);
    } while (pool_wait(&w) && w.job);  /* no job: dismissed (pool_wait) */
    return NULL;
}

int CConcSys_thread_start(void (*job)(void *), void *arg, size_t stack_size, pthread_t *thread) {
    pthread_once(&pool_once, pool_register);
    pthread_mutex_lock(&pool_lock);
    pool_worker *w = pool_idle;
    if (w) {
        pool_idle = w->next;
        pool_idle_count--;
        w->job = job;
        w->arg = arg;
        *thread = w->self;
        __atomic_store_n(&w->assigned, 1, __ATOMIC_RELEASE);
        /* Woken under the lock: until then `w` (on its thread's stack) cannot go away,
         * since a thread leaves the pool only through pool_wait, under this lock. */
        syscall(SYS_futex, &w->assigned, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        pthread_mutex_unlock(&pool_lock);
        return 0;
    }
    pthread_mutex_unlock(&pool_lock);

    pool_worker *start = malloc(sizeof *start);
    if (!start) return ENOMEM;
    start->job = job;
    start->arg = arg;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack_size);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(thread, &attr, pool_thread_main, start);
    pthread_attr_destroy(&attr);
    if (rc != 0) free(start);
    return rc;
}
