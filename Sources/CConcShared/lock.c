// Lock (owned mutex, optionally "unowned" like Python's threading.Lock) and RLock.
// State is atomics only: `holder` (in the common header) is CAS'd 0 <-> unit, so there is
// no internal mutex to be left locked by a dying process. A holder whose process died is
// detected on the slow path (lock busy) and the lock is taken over: CONC_OWNER_DIED.
#include "internal.h"
#include <stdlib.h>

struct conc_lock {
    conc_prim h; ///< holder = owning unit (0 = free)
    /// Nonzero: any unit may release. Immutable after creation.
    uint32_t unowned;
};

struct conc_rlock {
    conc_prim h; ///< holder = owning unit (0 = free)
    /// Recursion depth. Written only by the owner while it holds the lock (atomic relaxed so
    /// other units may read it for diagnostics). Handed over through the holder CAS/store
    /// (acquire/release), so the next owner sees the final value.
    _Atomic uint32_t count;
};

/* ---- common to both: the holder word ---- */

/// Acquires the holder word for `unit`: CONC_OK, CONC_BUSY, or CONC_OWNER_DIED.
static conc_result take(conc_prim *p, uint64_t unit) {
    uint64_t expect = 0;
    /* seq_cst, also on failure: the acquire pairs with the releasing store, and a waiter's
     * last attempt before sleeping must be ordered after its announcement in the waiters
     * counter (see conc_prim_signal_lock_freed). */
    if (atomic_compare_exchange_strong_explicit(&p->holder, &expect, unit,
                                                memory_order_seq_cst, memory_order_seq_cst))
        return CONC_OK;
    /* Slow path only: is the holder's process gone? (one kill(2), no lock) */
    if (expect != 0 && expect != unit && conc_unit_dead(expect)) {
        if (atomic_compare_exchange_strong_explicit(&p->holder, &expect, unit,
                                                    memory_order_seq_cst, memory_order_relaxed))
            return CONC_OWNER_DIED;
    }
    return CONC_BUSY;
}

/// Frees the holder word (which `unit` holds or may release) and wakes one waiter.
static void give(conc_prim *p) {
    atomic_store_explicit(&p->holder, 0, memory_order_seq_cst);
    conc_prim_signal_lock_freed(p);
}

/* ---- Lock ---- */

conc_lock *conc_lock_create(conc_arena *a, int unowned) {
    conc_lock *l = conc_arena_alloc(a, sizeof *l);
    if (!l) return NULL;
    conc_prim_init(&l->h, a, CONC_KIND_LOCK);
    l->unowned = unowned != 0;
    return l;
}

conc_result conc_lock_try_acquire(conc_lock *l, uint64_t unit) { return take(&l->h, unit); }

conc_result conc_lock_release(conc_lock *l, uint64_t unit) {
    uint64_t cur = atomic_load_explicit(&l->h.holder, memory_order_relaxed);
    for (;;) {
        if (cur == 0) return CONC_NOT_HELD;
        if (cur != unit && !l->unowned) return CONC_NOT_OWNER;
        /* CAS, not a plain store: two units releasing an unowned lock at once must not
         * both succeed. */
        if (atomic_compare_exchange_weak_explicit(&l->h.holder, &cur, 0,
                                                  memory_order_seq_cst, memory_order_relaxed))
            break;
    }
    conc_prim_signal_lock_freed(&l->h);
    return CONC_OK;
}

int conc_lock_holder_ended(conc_prim *p, pid_t pid, int normal_end) {
    conc_kind kind = conc_prim_kind(p);
    if (kind != CONC_KIND_LOCK && kind != CONC_KIND_RLOCK) return 0;
    uint64_t cur = atomic_load_explicit(&p->holder, memory_order_relaxed);
    if (cur == 0 || cur == CONC_UNIT_ENDED_HOLDING || conc_unit_pid(cur) != pid) return 0;
    int hand_off = normal_end && kind == CONC_KIND_LOCK && ((conc_lock *)p)->unowned;
    uint64_t next = hand_off ? CONC_UNIT_ENDED_HOLDING : conc_unit_make(pid, CONC_UNIT_NUMBER_ENDED);
    /* A CAS: a unit of another process may release an unowned lock at this moment. */
    if (!atomic_compare_exchange_strong_explicit(&p->holder, &cur, next, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return 0;
    /* A handed-off lock stays taken: nobody to wake. Waiters of an ended holder's lock try
     * again now, and take it over. */
    if (!hand_off) conc_prim_signal_lock_freed(p);
    return 1;
}

int conc_lock_locked(conc_lock *l) { return atomic_load_explicit(&l->h.holder, memory_order_relaxed) != 0; }
uint64_t conc_lock_owner(conc_lock *l) { return atomic_load_explicit(&l->h.holder, memory_order_relaxed); }

/* ---- RLock ---- */

conc_rlock *conc_rlock_create(conc_arena *a) {
    conc_rlock *r = conc_arena_alloc(a, sizeof *r);
    if (!r) return NULL;
    conc_prim_init(&r->h, a, CONC_KIND_RLOCK);
    return r;
}

conc_result conc_rlock_try_acquire(conc_rlock *r, uint64_t unit) {
    /* Only `unit` itself can have stored `unit` into holder, so this check is stable. */
    if (atomic_load_explicit(&r->h.holder, memory_order_relaxed) == unit) {
        atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
        return CONC_OK;
    }
    conc_result res = take(&r->h, unit);
    if (res != CONC_BUSY) atomic_store_explicit(&r->count, 1, memory_order_relaxed);
    return res;
}

static conc_result check_owner(conc_rlock *r, uint64_t unit) {
    uint64_t cur = atomic_load_explicit(&r->h.holder, memory_order_relaxed);
    if (cur == 0) return CONC_NOT_HELD;
    return cur == unit ? CONC_OK : CONC_NOT_OWNER;
}

conc_result conc_rlock_release(conc_rlock *r, uint64_t unit) {
    conc_result res = check_owner(r, unit);
    if (res != CONC_OK) return res;
    uint32_t c = atomic_load_explicit(&r->count, memory_order_relaxed);
    if (c > 1) {
        atomic_store_explicit(&r->count, c - 1, memory_order_relaxed);
        return CONC_OK;
    }
    atomic_store_explicit(&r->count, 0, memory_order_relaxed);
    give(&r->h);
    return CONC_OK;
}

conc_result conc_rlock_release_all(conc_rlock *r, uint64_t unit, uint32_t *saved_count) {
    conc_result res = check_owner(r, unit);
    if (res != CONC_OK) return res;
    *saved_count = atomic_load_explicit(&r->count, memory_order_relaxed);
    atomic_store_explicit(&r->count, 0, memory_order_relaxed);
    give(&r->h);
    return CONC_OK;
}

conc_result conc_rlock_try_restore(conc_rlock *r, uint64_t unit, uint32_t count) {
    conc_result res = take(&r->h, unit);
    if (res != CONC_BUSY) atomic_store_explicit(&r->count, count ? count : 1, memory_order_relaxed);
    return res;
}

uint64_t conc_rlock_owner(conc_rlock *r) { return atomic_load_explicit(&r->h.holder, memory_order_relaxed); }
uint32_t conc_rlock_count(conc_rlock *r) {
    return atomic_load_explicit(&r->h.holder, memory_order_relaxed) ? atomic_load_explicit(&r->count, memory_order_relaxed) : 0;
}
