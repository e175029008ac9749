// Stack bounds via the GNU extension pthread_getattr_np (not visible from Swift's Glibc).
#include "CConcSys.h"
#include <pthread.h>

uintptr_t CConcSys_thread_stack_low(void) {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
    void *addr = NULL; size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    return (uintptr_t)addr;
}
