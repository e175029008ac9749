// The per-thread set-up of unit threads: signal mask and kernel thread id.
#include "CConcSys.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t CConcSys_gettid(void) { return (int64_t)syscall(SYS_gettid); }
