// C shims for what Swift cannot express cleanly: signals, wait-status macros, fork, stack bounds.
#ifndef CCONCSYS_H
#define CCONCSYS_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#pragma clang assume_nonnull begin

/* {======================================================
** Stack bounds
** ======================================================= */

/// The current stack pointer (approximately): the frame address of this inline function.
static inline uintptr_t CConcSys_current_sp(void) { return (uintptr_t)__builtin_frame_address(0); }

/// Lowest usable address of the calling thread's stack (0 when unknown).
uintptr_t CConcSys_thread_stack_low(void);

/* }====================================================== */

/* {======================================================
** SIGINT as a flag
**
** The handler only sets a flag; the interpreter polls it between statements and turns it
** into KeyboardInterrupt. It is installed WITHOUT SA_RESTART, so a blocking read, sleep or
** wait returns EINTR and the caller gets a chance to look at the flag.
** ======================================================= */

/// Installs the flag-setting SIGINT handler (no SA_RESTART). Idempotent.
///
/// - Returns: 0 on success, -1 with `errno` set on failure.
int CConcSys_install_sigint_handler(void);

/// Nonzero when a SIGINT arrived since the last ``CConcSys_sigint_clear``.
int CConcSys_sigint_pending(void);

/// Makes the SIGINT handler also store 1 into `flag` (an interpreter's interrupt flag),
/// which the evaluator polls at loop back-edges and calls. NULL detaches it.
void CConcSys_set_interrupt_target(int32_t *_Nullable flag);

/// Clears the SIGINT flag.
void CConcSys_sigint_clear(void);

/// Makes the SIGINT handler also write one byte to `fd` (a pipe's write end, non-blocking),
/// waking a poll() on another thread; -1 turns it off.
void CConcSys_set_sigint_wakeup_fd(int fd);

/// Installs a SIGWINCH handler (SA_RESTART) that records the resize and writes a byte to
/// the wake-up fd of ``CConcSys_set_sigint_wakeup_fd``.
int CConcSys_install_sigwinch_handler(void);

/// Nonzero once per terminal resize since the last call.
int CConcSys_take_sigwinch(void);

/// Blocks (`block` nonzero) or unblocks SIGINT for the calling thread only.
void CConcSys_block_sigint(int block);

/// Terminal columns of one Unicode scalar (wcwidth); -1 for control characters.
int CConcSys_wcwidth(uint32_t c);

/* }====================================================== */

/* {======================================================
** Wait status (the W* macros, which Swift cannot import)
** ======================================================= */

/// Nonzero when `status` (from waitpid) means the child exited normally.
int CConcSys_wifexited(int status);
/// The exit code (0–255) of a child for which ``CConcSys_wifexited`` is true.
int CConcSys_wexitstatus(int status);
/// Nonzero when `status` means the child was killed by a signal.
int CConcSys_wifsignaled(int status);
/// The signal number of a child for which ``CConcSys_wifsignaled`` is true.
int CConcSys_wtermsig(int status);

/* }====================================================== */

/* {======================================================
** Processes and terminals
** ======================================================= */

/// Flushes every C stdio stream, then forks.
///
/// The flush stops buffered output from being written twice (once by each process).
/// - Returns: as fork(2): 0 in the child, the child's pid in the parent, -1 on error.
pid_t CConcSys_fork(void);

/// Nonzero when `fd` refers to a terminal.
int CConcSys_isatty(int fd);

/// Writes all `count` bytes of `bytes` to `fd`, retrying after EINTR and short writes.
/// - Returns: 0, or -1 with `errno` set when a write failed.
int CConcSys_write_all(int fd, const void *_Nullable bytes, size_t count);

/* }====================================================== */


/* {======================================================
** Atomics and futexes for the interpreter's flag words
**
** Swift's Synchronization.Atomic cannot be placed at a C-visible address, and the
** interrupt flag is written by a signal handler, so flag words are plain int32 cells
** manipulated only through these functions.
** ======================================================= */

/// Atomically ORs `bits` into `*word` (sequentially consistent); returns the old value.
static inline int32_t CConcSys_atomic_or(int32_t *word, int32_t bits) { return __atomic_fetch_or(word, bits, __ATOMIC_SEQ_CST); }
/// Atomically clears `bits` in `*word`; returns the old value.
static inline int32_t CConcSys_atomic_and_not(int32_t *word, int32_t bits) { return __atomic_fetch_and(word, ~bits, __ATOMIC_SEQ_CST); }
/// Atomic load (acquire).
static inline int32_t CConcSys_atomic_load(const int32_t *word) { return __atomic_load_n(word, __ATOMIC_ACQUIRE); }
/// Atomic store (release).
static inline void CConcSys_atomic_store(int32_t *word, int32_t v) { __atomic_store_n(word, v, __ATOMIC_RELEASE); }
/// Atomic add; returns the new value.
static inline int32_t CConcSys_atomic_add(int32_t *word, int32_t v) { return __atomic_add_fetch(word, v, __ATOMIC_SEQ_CST); }

/// The calling thread's kernel thread id (`threading.get_native_id()`).
int64_t CConcSys_gettid(void);

/* }====================================================== */

#pragma clang assume_nonnull end
#endif
