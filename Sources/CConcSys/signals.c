// SIGINT as a flag: a handler that only records the signal, installed without SA_RESTART.
#include "CConcSys.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <errno.h>

/* Set by the handler, read and cleared by any thread. A lock-free atomic is
** async-signal-safe, and unlike a plain volatile sig_atomic_t it is also safe to read
** from a thread other than the one the signal was delivered to. */
static atomic_int sigint_flag = 0;
/* An interpreter's interrupt flag to raise as well (set by CConcSys_set_interrupt_target). */
static int32_t *_Atomic interrupt_target = NULL;

/* A pipe to write a byte to, so a thread waiting in poll() (the REPL) wakes up even when
** the signal was delivered to another thread. */
static atomic_int wakeup_fd = -1;

/* Signals caught for a Conc handler (signal.signal) and not yet handled: bit signo-1. */
static _Atomic uint64_t pending_signals = 0;
/* Nonzero while a Conc handler is installed for SIGINT (it replaces KeyboardInterrupt). */
static atomic_int sigint_to_handler = 0;

/* Async-signal-safe: atomics only. The handler runs later in the main unit. */
static void record_signal(int signo) {
    atomic_fetch_or(&pending_signals, (uint64_t)1 << (signo - 1));
    int32_t *target = atomic_load(&interrupt_target);
    if (target) __atomic_fetch_or(target, CONC_INTERRUPT_SIGNAL, __ATOMIC_SEQ_CST);
}

static void on_signal(int signo) {
    int saved = errno;
    record_signal(signo);
    errno = saved;
}

static void on_sigint(int signo) {
    (void)signo;
    int saved = errno;
    atomic_store(&sigint_flag, 1);
    if (atomic_load(&sigint_to_handler)) {
        record_signal(SIGINT);
    } else {
        int32_t *target = atomic_load(&interrupt_target);
        if (target) __atomic_fetch_or(target, 1, __ATOMIC_SEQ_CST);
    }
    int fd = atomic_load(&wakeup_fd);
    if (fd >= 0) { char b = 'i'; ssize_t n = write(fd, &b, 1); (void)n; }
    errno = saved;
}

void CConcSys_set_sigint_wakeup_fd(int fd) { atomic_store(&wakeup_fd, fd); }

void CConcSys_block_sigint(int block) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
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

void CConcSys_clear_interrupt_target(int32_t *flag) {
    int32_t *expected = flag;
    atomic_compare_exchange_strong(&interrupt_target, &expected, NULL);
}

/* {======================================================
** signal.signal: dispositions and the pending set
** ======================================================= */

static void add_async_signals(sigset_t *set) {
    sigemptyset(set);
    int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaddset(set, signals[i]);
}

void CConcSys_block_async_signals(int block) {
    sigset_t set;
    add_async_signals(&set);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

int CConcSys_signal_set(int signo, int mode) {
    if (signo < 1 || signo > 64) { errno = EINVAL; return -1; }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    /* No SA_RESTART (as CPython): a blocked main unit must be woken (EINTR) to run it. */
    action.sa_flags = 0;
    switch (mode) {
    case CONC_SIGNAL_DEFAULT: action.sa_handler = SIG_DFL; break;
    case CONC_SIGNAL_IGNORE: action.sa_handler = SIG_IGN; break;
    case CONC_SIGNAL_HANDLER: action.sa_handler = signo == SIGINT ? on_sigint : on_signal; break;
    case CONC_SIGNAL_KEYBOARD:
        if (signo != SIGINT) { errno = EINVAL; return -1; }
        action.sa_handler = on_sigint;
        break;
    default: errno = EINVAL; return -1;
    }
    /* The routing flag first, so a SIGINT never finds the new handler with the old mode. */
    if (signo == SIGINT) atomic_store(&sigint_to_handler, mode == CONC_SIGNAL_HANDLER);
    if (sigaction(signo, &action, NULL) != 0) return -1;
    if (mode == CONC_SIGNAL_DEFAULT || mode == CONC_SIGNAL_IGNORE)
        atomic_fetch_and(&pending_signals, ~((uint64_t)1 << (signo - 1)));
    return 0;
}

int CConcSys_signal_get(int signo) {
    struct sigaction current;
    if (signo < 1 || signo > 64 || sigaction(signo, NULL, &current) != 0) return -1;
    if (current.sa_handler == SIG_DFL) return CONC_SIGNAL_DEFAULT;
    if (current.sa_handler == SIG_IGN) return CONC_SIGNAL_IGNORE;
    if (current.sa_handler == on_signal) return CONC_SIGNAL_HANDLER;
    if (current.sa_handler == on_sigint) return atomic_load(&sigint_to_handler) ? CONC_SIGNAL_HANDLER : CONC_SIGNAL_KEYBOARD;
    return -1;
}

int CConcSys_signal_on_the_way(void) {
    if (atomic_load(&pending_signals)) return 1;
    /* A Ctrl-C the interpreter has not yet turned into KeyboardInterrupt (not sigint_flag:
    ** that one stays set for the REPL's line editor, long after the interrupt was raised). */
    int32_t *target = atomic_load(&interrupt_target);
    if (target && (__atomic_load_n(target, __ATOMIC_SEQ_CST) & 1)) return 1;
    /* Sent (e.g. by a thread that then ended) but not yet delivered to the main thread. */
    sigset_t pending;
    if (sigpending(&pending) != 0) return 0;
    int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (sigismember(&pending, signals[i]) == 1) return 1;
    return 0;
}

uint64_t CConcSys_take_pending_signals(void) { return atomic_exchange(&pending_signals, 0); }

void CConcSys_repost_signals(uint64_t mask) {
    if (!mask) return;
    atomic_fetch_or(&pending_signals, mask);
    int32_t *target = atomic_load(&interrupt_target);
    if (target) __atomic_fetch_or(target, CONC_INTERRUPT_SIGNAL, __ATOMIC_SEQ_CST);
}

/* SIGWINCH while the REPL edits a line: remember it and wake the REPL's poll. */
static atomic_int sigwinch_flag = 0;

static void on_sigwinch(int signo) {
    (void)signo;
    int saved = errno;
    atomic_store(&sigwinch_flag, 1);
    int fd = atomic_load(&wakeup_fd);
    if (fd >= 0) { char b = 'w'; ssize_t n = write(fd, &b, 1); (void)n; }
    errno = saved;
}

int CConcSys_install_sigwinch_handler(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigwinch;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(SIGWINCH, &action, NULL);
}

int CConcSys_take_sigwinch(void) { return atomic_exchange(&sigwinch_flag, 0); }
