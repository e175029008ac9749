// C shims for what Swift cannot express cleanly: signals, wait-status macros, fork, stack bounds.
#ifndef CCONCSYS_H
#define CCONCSYS_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <pthread.h>
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

/// Detaches `flag` if it is the current target (an engine going away).
void CConcSys_clear_interrupt_target(int32_t *flag);

/// The interrupt-flag bit a caught signal sets (``InterruptBits.signal``): the main unit
/// takes the pending set (``CConcSys_take_pending_signals``) and runs the Conc handlers.
#define CONC_INTERRUPT_SIGNAL 16

/// Dispositions for ``CConcSys_signal_set``.
enum {
    CONC_SIGNAL_DEFAULT = 0,   ///< SIG_DFL
    CONC_SIGNAL_IGNORE = 1,    ///< SIG_IGN
    CONC_SIGNAL_HANDLER = 2,   ///< a Conc handler: record the signal, run it in the main unit
    CONC_SIGNAL_KEYBOARD = 3,  ///< SIGINT only: KeyboardInterrupt (signal.default_int_handler)
};

/// Sets the OS disposition of `signo` (1–64) to one of the CONC_SIGNAL_* modes (no
/// SA_RESTART). Returns 0, or -1 with errno set (EINVAL for SIGKILL/SIGSTOP).
int CConcSys_signal_set(int signo, int mode);
/// The current disposition as a CONC_SIGNAL_* mode; -1 for a handler Conc did not install.
int CConcSys_signal_get(int signo);
/// Takes (and clears) the set of caught signals not yet handled: bit signo-1.
uint64_t CConcSys_take_pending_signals(void);
/// True while a signal is recorded but not yet handled, or sent to the process and not yet
/// delivered: the main unit is about to be interrupted, so it is not blocked for good.
int CConcSys_signal_on_the_way(void);
/// Puts signals back into the pending set (a handler raised before the others ran).
void CConcSys_repost_signals(uint64_t mask);
/// Blocks (nonzero) or unblocks, for the calling thread only, the asynchronous signals a
/// Conc program may handle (INT, TERM, HUP, QUIT, USR1, USR2, ALRM, CHLD), so that they
/// land on the main unit's thread and cut its waits short.
void CConcSys_block_async_signals(int block);

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

/// What waitid() reports about one child (siginfo_t's fields, in unions Swift cannot read).
typedef struct {
    int pid, uid, signo, status, code;
} CConcSys_waitid_info;
/// waitid(idtype, id, &info, options): 0 or -1 with errno (EINTR included). `info->pid` is
/// 0 when WNOHANG found no child in a state to report.
int CConcSys_waitid(int idtype, int id, int options, CConcSys_waitid_info *info);

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

/// Ignores SIGPIPE for the whole process (the `conc` command, as CPython does): a write to
/// a pipe with no reader fails with EPIPE instead of killing the process.
void CConcSys_ignore_sigpipe(void);

/// Writes all `count` bytes of `bytes` to `fd`, retrying after EINTR and short writes.
/// EPIPE on fd 1 or 2 ends the process by SIGPIPE (see process.c).
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

/// Atomic load of a counter word (acquire): the engine's class epoch.
static inline intptr_t CConcSys_atomic_load_word(const intptr_t *word) { return __atomic_load_n(word, __ATOMIC_ACQUIRE); }
/// Atomic store of a word (release): publishing an inline-cache entry.
static inline void CConcSys_atomic_store_word(intptr_t *word, intptr_t v) { __atomic_store_n(word, v, __ATOMIC_RELEASE); }
/// Atomic increment of a counter word (sequentially consistent); returns the new value.
static inline intptr_t CConcSys_atomic_increment_word(intptr_t *word) { return __atomic_add_fetch(word, 1, __ATOMIC_SEQ_CST); }

/// The calling thread's kernel thread id (`threading.get_native_id()`).
int64_t CConcSys_gettid(void);
/// os.sched_getaffinity: the CPU numbers `pid` may run on (at most `max`), their count or -1.
int CConcSys_sched_getaffinity(int pid, int32_t *cpus, int max);

/// Runs `job(arg)` on a thread of the process-wide pool of finished unit threads, or on
/// a new detached pthread of `stack_size` bytes when none is idle; `*thread` gets its
/// pthread id. Returns 0 or pthread_create's error. A thread whose job returns waits up
/// to a few seconds for the next one before it exits (at most 256 wait), so a program
/// that starts threads in waves pays for the kernel's clone and stack mapping once per
/// OS thread, not once per `thread`. The job must leave the thread as it found it
/// (signal mask aside): no lock held, nothing in its thread-local storage that the next
/// job could mistake for its own. The pool is emptied in a fork()ed child.
int CConcSys_thread_start(void (*job)(void *), void *arg, size_t stack_size, pthread_t *thread);
/// Called from a job: its thread exits when the job returns instead of waiting for another.
void CConcSys_thread_leave_pool(void);

/* }====================================================== */

/* {======================================================
** Object locks for free-threaded evaluation
**
** While units evaluate Conc code in parallel (threads without the GIL), every access to a
** mutable object's storage (list items, dict tables, instance slots, cells) happens under
** that object's lock. An object's lock is one of CONC_STRIPE_COUNT striped locks chosen
** by its address: no word is added to any object, and unrelated objects rarely share one.
** The locks are recursive (by pthread), spin briefly, then sleep on a futex. They are
** off (not even touched) until the process first runs two units in parallel.
** Rule for callers: never run Conc code or block while holding one.
** ======================================================= */


#define CONC_STRIPE_BITS 10
#define CONC_STRIPE_COUNT (1 << CONC_STRIPE_BITS)

/// One striped lock, alone on its cache line. `state`: 0 free, 1 held, 2 held with
/// sleepers. `owner` and `depth` are written only by the holder.
typedef struct {
    uint32_t state;
    uint32_t depth;
    uintptr_t owner;
    char padding[48];
} __attribute__((aligned(64))) CConcSys_stripe;

extern CConcSys_stripe CConcSys_stripes[CONC_STRIPE_COUNT];
/// Nonzero once units of this process may evaluate in parallel.
extern int32_t CConcSys_objects_shared_flag;

void CConcSys_stripe_lock_slow(CConcSys_stripe *s);
void CConcSys_stripe_wake(CConcSys_stripe *s);
/// Turns object locking on (before the first parallel unit starts).
void CConcSys_objects_shared_enable(void);
/// In a fork()ed child (one thread, which held no object lock): locking off, all free.
void CConcSys_objects_shared_reset_after_fork(void);

/// A spin-wait hint to the CPU (PAUSE on x86-64, YIELD on arm64).
static inline void CConcSys_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/// Nonzero once the process made a weak reference (weakref.ref): from then on the
/// deinits of objects that accept weak references look their address up (WeakRef.swift).
extern int32_t CConcSys_weakrefs_used_flag;
static inline int CConcSys_weakrefs_used(void) { return __atomic_load_n(&CConcSys_weakrefs_used_flag, __ATOMIC_RELAXED) != 0; }
static inline void CConcSys_set_weakrefs_used(void) { __atomic_store_n(&CConcSys_weakrefs_used_flag, 1, __ATOMIC_RELAXED); }

/// Whether object locks are in use.
static inline int CConcSys_objects_shared(void) { return __atomic_load_n(&CConcSys_objects_shared_flag, __ATOMIC_RELAXED) != 0; }

/// A word that identifies the calling OS thread while it lives: its thread pointer, which
/// glibc's pthread_self() also returns, read inline rather than through a PLT call (every
/// object lock takes it). Volatile: a green thread may resume on another OS thread.
static inline uintptr_t CConcSys_thread_word(void) {
#if defined(__x86_64__)
    uintptr_t t;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(t));
    return t;
#elif defined(__aarch64__)
    uintptr_t t;
    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(t));
    return t;
#else
    return (uintptr_t)pthread_self();
#endif
}

static inline CConcSys_stripe *CConcSys_stripe_for(const void *object) {
    uintptr_t h = ((uintptr_t)object >> 4) * (uintptr_t)0x9E3779B97F4A7C15ull;
    return &CConcSys_stripes[h >> (sizeof(uintptr_t) * 8 - CONC_STRIPE_BITS)];
}

/// Takes `object`'s lock (recursively).
static inline void CConcSys_object_lock(const void *object) {
    CConcSys_stripe *s = CConcSys_stripe_for(object);
    uintptr_t me = CConcSys_thread_word();
    if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) == me) { s->depth++; return; }
    uint32_t expected = 0;
    if (!__atomic_compare_exchange_n(&s->state, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        CConcSys_stripe_lock_slow(s);
    __atomic_store_n(&s->owner, me, __ATOMIC_RELAXED);
    s->depth = 1;
}

/// Releases `object`'s lock, taken by the calling thread.
static inline void CConcSys_object_unlock(const void *object) {
    CConcSys_stripe *s = CConcSys_stripe_for(object);
    if (--s->depth != 0) return;
    __atomic_store_n(&s->owner, 0, __ATOMIC_RELAXED);
    if (__atomic_exchange_n(&s->state, 0, __ATOMIC_RELEASE) == 2) CConcSys_stripe_wake(s);
}

/// After `_swift_stdlib_immortalize(object)`: if its refcount word (the second word of a
/// Swift object) is the runtime's immortal pattern with a zero strong count, give it a
/// strong count of 2^29 so that releases, like retains, see an immortal object without
/// writing. (64-bit layout: UseSlowRC bit 63, strong extra count bits 33-62, immortal
/// mask bits 0-31.)
static inline void CConcSys_settle_immortal(void *object) {
    uint64_t *word = (uint64_t *)((char *)object + sizeof(void *));
    uint64_t expected = 0x80000000FFFFFFFFull;
    __atomic_compare_exchange_n(word, &expected, 0xC0000000FFFFFFFFull, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/// Whether `object`'s refcount word is one of the two immortal patterns above: it is never
/// freed, and retaining or releasing it writes nothing.
static inline int CConcSys_object_is_immortal(const void *object) {
    uint64_t word = __atomic_load_n((const uint64_t *)((const char *)object + sizeof(void *)), __ATOMIC_RELAXED);
    return word == 0xC0000000FFFFFFFFull || word == 0x80000000FFFFFFFFull;
}

/// For a seqlock reader (`Cell` in Values/PyObject.swift): the two parts of the Swift
/// `Value` at `value` (8 payload bytes, then its case's tag byte), read with relaxed atomic
/// loads, as a writer may be storing them meanwhile.
static inline void CConcSys_read_value_words(const void *value, uint64_t *payload, uint8_t *tag) {
    *payload = __atomic_load_n((const uint64_t *)value, __ATOMIC_RELAXED);
    *tag = __atomic_load_n((const uint8_t *)value + 8, __ATOMIC_RELAXED);
}

/* }====================================================== */

/* {======================================================
** Deallocation depth (the trashcan)
**
** Freeing a long chain (a linked list of instances, a list nested 100000 deep) releases
** each link from the previous one's deinit: machine recursion as deep as the chain. Each
** thread counts the deinits in progress; past a limit the children are parked and freed
** iteratively by the outermost one (Values/Trashcan.swift), as CPython's trashcan does.
** ======================================================= */

extern __thread int CConcSys_trash_depth_storage;
extern __thread int CConcSys_trash_parked_storage;

/// One more deinit in progress on this thread; returns the new depth.
static inline int CConcSys_trash_enter(void) { return ++CConcSys_trash_depth_storage; }
/// One deinit fewer; returns the new depth.
static inline int CConcSys_trash_leave(void) { return --CConcSys_trash_depth_storage; }
/// Whether this thread has parked children waiting to be freed.
static inline int CConcSys_trash_parked(void) { return CConcSys_trash_parked_storage; }
static inline void CConcSys_trash_set_parked(int parked) { CConcSys_trash_parked_storage = parked; }

/* }====================================================== */

/* {======================================================
** Pending finalizers
**
** An instance whose class defines __del__ is not finalised inside its Swift deinit (which
** may run in the middle of any container operation): its attributes move to a stand-in
** queued on this thread (Values/Finalizers.swift), and this flag tells the statement loop
** to run the queued __del__ methods after the current statement.
** ======================================================= */

/* Out of line on purpose: the statement loop reads the flag after every statement, and a
** statement may yield a generator's coroutine, which can be resumed on another OS thread.
** Inline, the compiler computes this thread's TLS address once before the loop and keeps
** it across the switch: after a migration it read the first thread's (possibly exited and
** freed) TLS block, a segfault seen with generators shared by threads. A call computes the
** address afresh on the thread that runs it. */
int CConcSys_finalizers_pending(void);
void CConcSys_set_finalizers_pending(int pending);

/* }====================================================== */

#pragma clang assume_nonnull end
#endif
