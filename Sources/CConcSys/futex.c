// Futex waits on the interpreter's flag words (unit completion, GIL hand-off), and the
// per-thread signal set-up of unit threads.
#include "CConcSys.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int CConcSys_futex_wait(int32_t *word, int32_t expected, int64_t timeout_ns) {
    struct timespec ts, *tp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tp = &ts;
    }
    long rc = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, tp, NULL, 0);
    if (rc == 0) return 0;
    if (errno == EAGAIN) return 0;   /* the value had already changed */
    return errno;                    /* ETIMEDOUT or EINTR: the caller decides */
}

void CConcSys_futex_wake(int32_t *word, int32_t n) {
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

void CConcSys_block_sigint(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int64_t CConcSys_gettid(void) { return (int64_t)syscall(SYS_gettid); }
