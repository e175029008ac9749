// The per-thread set-up of unit threads: signal mask and kernel thread id.
#include "CConcSys.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
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
