// Stack bounds via the GNU extension pthread_getattr_np (not visible from Swift's Glibc).
#include "CConcSys.h"
#include <wchar.h>
#include <pthread.h>
#include <sched.h>

uintptr_t CConcSys_thread_stack_low(void) {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
    void *addr = NULL; size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    return (uintptr_t)addr;
}

/* Terminal columns of one Unicode scalar (wcwidth needs _XOPEN_SOURCE, which Swift's Glibc
** module does not import). -1 for control characters. */
int CConcSys_wcwidth(uint32_t c) { return wcwidth((wchar_t)c); }

/// The CPUs process `pid` (0: this one) may run on, for os.sched_getaffinity: fills
/// `cpus` with up to `max` CPU numbers and returns how many, or -1 with errno set.
int CConcSys_sched_getaffinity(int pid, int32_t *cpus, int max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity((pid_t)pid, sizeof set, &set) != 0) return -1;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
        if (CPU_ISSET(cpu, &set)) cpus[n++] = cpu;
    return n;
}
