// Wait-status macros as functions, fork with a stdio flush, isatty.
#include "CConcSys.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int CConcSys_wifexited(int status) { return WIFEXITED(status); }
int CConcSys_wexitstatus(int status) { return WEXITSTATUS(status); }
int CConcSys_wifsignaled(int status) { return WIFSIGNALED(status); }
int CConcSys_wtermsig(int status) { return WTERMSIG(status); }

int CConcSys_waitid(int idtype, int id, int options, CConcSys_waitid_info *info) {
    siginfo_t si;
    si.si_pid = 0;  /* WNOHANG with nothing to report leaves it as it was (POSIX) */
    if (waitid((idtype_t)idtype, (id_t)id, &si, options) != 0) return -1;
    info->pid = si.si_pid;
    info->uid = (int)si.si_uid;
    info->signo = si.si_signo;
    info->status = si.si_status;
    info->code = si.si_code;
    return 0;
}

pid_t CConcSys_fork(void) {
    /* Buffered C output would otherwise be written once by each process. */
    fflush(NULL);
    return fork();
}

int CConcSys_isatty(int fd) { return isatty(fd); }

/* The program's output went to a pipe whose reader has gone (`conc prog | head -1`):
 * the process ends as it would had SIGPIPE not been ignored, quietly, with status
 * 128 + SIGPIPE. (CPython raises BrokenPipeError from print and reports it; a learner
 * piping into head is better served by the shell's usual ending.) */
static void die_of_sigpipe(void) {
    signal(SIGPIPE, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGPIPE);
    _exit(128 + SIGPIPE);  /* not reached */
}

void CConcSys_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int CConcSys_write_all(int fd, const void *bytes, size_t count) {
    const char *p = bytes;
    while (count > 0) {
        ssize_t n = write(fd, p, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE && (fd == 1 || fd == 2)) die_of_sigpipe();
            return -1;
        }
        p += n;
        count -= (size_t)n;
    }
    return 0;
}
