// The futex word wait/wake (shared, not FUTEX_PRIVATE: waiters may be in other processes),
// sleeping, the clock, and conc_block: the reference blocking loop over a try operation.
#include "internal.h"
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int conc_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000LL);
        ts.tv_nsec = (long)(timeout_ns % 1000000000LL);
        tsp = &ts;
    }
    /* FUTEX_WAIT's timeout is relative. */
    long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, NULL, 0);
    if (r == 0) return 0;
    switch (errno) {
    case ETIMEDOUT: return ETIMEDOUT;
    case EINTR: return EINTR;
    default: return 0; /* EAGAIN: the value had already changed */
    }
}

void conc_futex_wake(uint32_t *word, int n) {
    syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

int conc_sleep_ns(int64_t ns) {
    if (ns <= 0) return 0;
    struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
    return nanosleep(&ts, NULL) == 0 ? 0 : EINTR;
}

int64_t conc_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// How many times conc_block polls seq before announcing itself and sleeping. A short spin
/// lets a queue consumer that is just ahead of its producer pick the next item up without a
/// futex sleep + wake pair (~10 µs) per item. Kept small: the machine may be oversubscribed.
enum { SPIN_POLLS = 256 };

conc_result conc_block(conc_prim *prim, conc_result (*attempt)(void *_Nullable ctx),
                       void *_Nullable ctx, int64_t timeout_ns,
                       int (*_Nullable should_stop)(void *_Nullable ctx2), void *_Nullable ctx2) {
    /* The clock is read only once the first attempt has failed: most calls (a queue get
     * with items waiting) succeed at once, and the clock can cost as much as the get. */
    int64_t deadline = -1;
    int started = 0;
    for (;;) {
        /* Load seq BEFORE the attempt: see conc_prim_signal for why nothing is lost. */
        uint32_t s = atomic_load_explicit(&prim->seq, memory_order_seq_cst);
        conc_result r = attempt(ctx);
        if (!conc_would_block(r)) return r;
        if (timeout_ns == 0) return CONC_TIMEOUT;
        if (!started) {
            started = 1;
            if (timeout_ns > 0) deadline = conc_now_ns() + timeout_ns;
        }
        for (int i = 0; i < SPIN_POLLS; i++) {
            conc_cpu_relax();
            if (atomic_load_explicit(&prim->seq, memory_order_relaxed) != s) break;
        }
        if (atomic_load_explicit(&prim->seq, memory_order_seq_cst) == s) {
            int64_t slice = CONC_WAIT_SLICE_NS;
            if (deadline >= 0) {
                int64_t left = deadline - conc_now_ns();
                if (left <= 0) return CONC_TIMEOUT;
                if (left < slice) slice = left;
            }
            atomic_fetch_add_explicit(&prim->waiters, 1, memory_order_seq_cst);
            r = attempt(ctx);
            if (!conc_would_block(r)) {
                atomic_fetch_sub_explicit(&prim->waiters, 1, memory_order_seq_cst);
                return r;
            }
            conc_prim_sleep(prim, s, slice);
            atomic_fetch_sub_explicit(&prim->waiters, 1, memory_order_seq_cst);
        }
        /* Checked on every round, also when seq keeps changing without the attempt ever
         * succeeding (a busy lock): Ctrl-C and the deadline must still be noticed. */
        if (should_stop && should_stop(ctx2)) return CONC_INTERRUPTED;
        if (deadline >= 0 && conc_now_ns() >= deadline) {
            /* One last try: the state may have changed just as the time ran out. */
            r = attempt(ctx);
            return conc_would_block(r) ? CONC_TIMEOUT : r;
        }
    }
}
