// Private to CConcShared: the common header every primitive starts with, robust-mutex
// helpers, and the "state changed" signal that bumps seq and wakes waiters.
#ifndef CCONCSHARED_INTERNAL_H
#define CCONCSHARED_INTERNAL_H
#include "CConcShared.h"
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

/// First member of every primitive. Lives in the arena, so every process sees the same one.
struct conc_prim {
    /// conc_kind. Written once by the creator before the pointer is published; read by anyone.
    uint32_t kind;
    /// Futex word. Any unit, atomically: changers bump it (seq_cst) after a state change
    /// that may let a waiter proceed; waiters load it before their attempt.
    _Atomic uint32_t seq;
    /// Units currently parked (or about to park) on `seq`. Any unit, atomically (seq_cst).
    /// Wake-one changers wake only when it is > 0; also read by diagnostics.
    _Atomic uint32_t waiters;
    /// Wake-all bookkeeping (see conc_prim_signal): 0, or (1 << 32) | the newest seq value a
    /// sleeper registered on. Set by sleepers, cleared by wake-all changers; CAS, seq_cst.
    _Atomic uint64_t sleepers;
    /// References held by units/processes; at zero the primitive is freed. Atomic.
    _Atomic uint32_t refcount;
    /// The arena the primitive lives in (same address in every process). Immutable.
    conc_arena *arena;
    /// Lock/rlock: holder unit (0 = free), CAS'd atomically. Semaphore: last acquirer
    /// (relaxed store by the acquirer). Unused by the other kinds.
    _Atomic uint64_t holder;
    /// How often the primitive's state was repaired after a process died holding its
    /// internal mutex (queue, condition). Atomic.
    _Atomic uint32_t recoveries;
    /// "file:line" of creation. Written by the creator (setter), read by anyone.
    char created_at[CONC_WHERE_LEN];
    /// "file:line" of the holder's acquire. Written only by the unit that just acquired;
    /// read racily by deadlock reports (byte-wise relaxed atomics, so no UB, maybe mixed).
    char acquired_at[CONC_WHERE_LEN];
};

/// Fills in the header of a freshly allocated (zeroed) primitive.
void conc_prim_init(conc_prim *p, conc_arena *a, conc_kind kind);

/// Sleeps on p->seq while it equals `seen`, after registering in `sleepers`. Every sleep on
/// a primitive's seq word must go through here (conc_prim_wait, conc_block).
static inline int conc_prim_sleep(conc_prim *p, uint32_t seen, int64_t timeout_ns) {
    /* Registration: sleepers = (1 << 32) | the newest seq value anybody sleeps on.
     * A seq_cst RMW even when the value does not change, for the Dekker pairing below. */
    uint64_t old = atomic_load_explicit(&p->sleepers, memory_order_relaxed), nw;
    do {
        uint32_t newest = (uint32_t)old;
        nw = (old >> 32) && (int32_t)(newest - seen) >= 0 ? old : ((uint64_t)1 << 32) | seen;
    } while (!atomic_compare_exchange_weak_explicit(&p->sleepers, &old, nw,
                                                    memory_order_seq_cst, memory_order_relaxed));
    return conc_futex_wait((uint32_t *)&p->seq, seen, timeout_ns);
}

/// Called by a changer AFTER it changed the state: bumps seq, then wakes `n` waiters
/// (INT_MAX = all) if there may be any.
///
/// Why no wake-up is lost: a waiter does  s = load(seq); attempt; waiters++; attempt;
/// register in sleepers; futex_wait(seq, s). The changer does  change; seq++; then looks at
/// waiters (wake one) or sleepers (wake all). All these operations are seq_cst, and the
/// kernel compares *seq with s with a full barrier after queueing the waiter. This is the
/// store-buffering (Dekker) pattern:
///  - if the kernel's compare sees the bumped seq, futex_wait returns at once;
///  - otherwise the changer's seq++ comes after the compare in the seq_cst order, so after
///    waiters++ and the registration too, and the changer sees them and wakes the waiter
///    (already queued in the kernel).
/// Loading s BEFORE the first attempt matters: a change landing between a failed attempt
/// and the futex_wait has bumped seq past s, so the wait returns immediately. And a change
/// whose seq++ came before the load of s was visible to the attempt (the load of s read it,
/// and synchronises with it), so the waiter never needs a wake from it.
///
/// Wake-all avoids redundant system calls: a producer putting many items while the woken
/// consumer has not run yet (one CPU) would otherwise call futex_wake on every item, since
/// `waiters` only drops when the consumer runs. The first wake-all clears `sleepers`; later
/// ones find it clear and skip, until somebody registers again. Clearing is safe only when
/// every registered sleeper slept on a seq value older than ours (so our wake-all covers
/// it: its compare either saw our seq++ or it was queued before our wake); a sleeper
/// registered on our value or newer needs a later change, so then `sleepers` is left set.
/// Wake-one cannot clear (others may still sleep), so it keeps the plain `waiters` test.
static inline void conc_prim_signal(conc_prim *p, int n) {
    uint32_t v = atomic_fetch_add_explicit(&p->seq, 1, memory_order_seq_cst) + 1;
    if (n != INT_MAX) {
        if (atomic_load_explicit(&p->waiters, memory_order_seq_cst) > 0)
            conc_futex_wake((uint32_t *)&p->seq, n);
        return;
    }
    uint64_t reg = atomic_load_explicit(&p->sleepers, memory_order_seq_cst);
    if (!(reg >> 32)) return;
    if ((int32_t)(v - (uint32_t)reg) > 0)
        atomic_compare_exchange_strong_explicit(&p->sleepers, &reg, 0, memory_order_seq_cst,
                                                memory_order_relaxed);
    conc_futex_wake((uint32_t *)&p->seq, INT_MAX);
}

/// After a lock or rlock is freed: wakes one sleeper, and bumps seq only when some unit has
/// announced itself as a waiter. A lock taken and freed in a loop then costs one atomic
/// read-modify-write less per round, on a cache line the other cores want. This is safe
/// because lock waiters keep the documented order (announce, *then* attempt once more,
/// then sleep on the seq read before the first attempt) and the attempt is a seq_cst
/// compare-and-swap: either this load sees the announcement, or that attempt sees the lock
/// free. (Semaphores and queues keep conc_prim_signal: their attempts start with a
/// relaxed load, and spinners in conc_block watch seq.)
static inline void conc_prim_signal_lock_freed(conc_prim *p) {
    if (atomic_load_explicit(&p->waiters, memory_order_seq_cst) > 0) {
        atomic_fetch_add_explicit(&p->seq, 1, memory_order_seq_cst);
        conc_futex_wake((uint32_t *)&p->seq, 1);
    }
}

/// A spin-wait hint to the CPU.
static inline void conc_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Compiler barrier between the steps of a critical section whose crash repair depends on
/// which step came last. A SIGKILLed process's retired stores all reach memory (and are
/// visible to the next owner of the robust mutex, which the kernel hands over with full
/// barriers), so what survives is a prefix of the stores in the order the compiler
/// emitted them; this keeps that order equal to the source order. Costs no instruction.
#define CONC_STEP() atomic_signal_fence(memory_order_seq_cst)

/// Initialises a PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST mutex. 0 or an errno.
int conc_mutex_init(pthread_mutex_t *m);
/// Locks; on EOWNERDEAD marks it consistent and returns 1 (the caller may repair state),
/// else 0.
int conc_mutex_lock(pthread_mutex_t *m);
static inline void conc_mutex_unlock(pthread_mutex_t *m) { pthread_mutex_unlock(m); }

/// True when `unit`'s process no longer exists (and is not this process).
int conc_unit_dead(uint64_t unit);

/// Kind-specific teardown called by conc_prim_release at refcount zero (before freeing).
void conc_cond_teardown(conc_cond *c);
void conc_queue_teardown(conc_queue *q);
/// The internal mutex, and the re-making of a private copy in a forked child
/// (``conc_prim_fork_child``).
pthread_mutex_t *conc_queue_mutex(conc_queue *q);
pthread_mutex_t *conc_cond_mutex(conc_cond *c);
void conc_queue_fork_child(conc_queue *q);
void conc_cond_fork_child(conc_cond *c);

#endif
