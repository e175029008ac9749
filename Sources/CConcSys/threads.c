// The per-thread set-up of unit threads: signal mask and kernel thread id.
#include "CConcSys.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void CConcSys_block_sigint(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int64_t CConcSys_gettid(void) { return (int64_t)syscall(SYS_gettid); }
