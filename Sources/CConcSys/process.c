// Wait-status macros as functions, fork with a stdio flush, isatty.
#include "CConcSys.h"
#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int CConcSys_wifexited(int status) { return WIFEXITED(status); }
int CConcSys_wexitstatus(int status) { return WEXITSTATUS(status); }
int CConcSys_wifsignaled(int status) { return WIFSIGNALED(status); }
int CConcSys_wtermsig(int status) { return WTERMSIG(status); }

pid_t CConcSys_fork(void) {
    /* Buffered C output would otherwise be written once by each process. */
    fflush(NULL);
    return fork();
}

int CConcSys_isatty(int fd) { return isatty(fd); }

int CConcSys_write_all(int fd, const void *bytes, size_t count) {
    const char *p = bytes;
    while (count > 0) {
        ssize_t n = write(fd, p, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        count -= (size_t)n;
    }
    return 0;
}
