// SIGINT as a flag: a handler that only records the signal, installed without SA_RESTART.
#include "CConcSys.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* Set by the handler, read and cleared by any thread. A lock-free atomic is
** async-signal-safe, and unlike a plain volatile sig_atomic_t it is also safe to read
** from a thread other than the one the signal was delivered to. */
static atomic_int sigint_flag = 0;
/* An interpreter's interrupt flag to raise as well (set by CConcSys_set_interrupt_target). */
static int32_t *_Atomic interrupt_target = NULL;

static void on_sigint(int signo) {
    (void)signo;
    atomic_store(&sigint_flag, 1);
    int32_t *target = atomic_load(&interrupt_target);
    if (target) __atomic_fetch_or(target, 1, __ATOMIC_SEQ_CST);
}

int CConcSys_install_sigint_handler(void) {
    /* A SIGINT ignored at start-up (a background job of a non-interactive shell, nohup)
    ** stays ignored, as in CPython. */
    struct sigaction current;
    if (sigaction(SIGINT, NULL, &current) == 0 && current.sa_handler == SIG_IGN) return 0;
    /* A SIGINT blocked by whoever started us would never reach the handler: the thread
    ** running the main unit must receive it (unit threads block it themselves). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    /* No SA_RESTART: blocking calls must fail with EINTR so the waiter can notice. */
    action.sa_flags = 0;
    return sigaction(SIGINT, &action, NULL);
}

int CConcSys_sigint_pending(void) { return atomic_load(&sigint_flag); }

void CConcSys_sigint_clear(void) { atomic_store(&sigint_flag, 0); }

void CConcSys_set_interrupt_target(int32_t *_Nullable flag) { atomic_store(&interrupt_target, flag); }
