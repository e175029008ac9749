// Counting semaphore (optionally bounded: release above the initial value is an error).
// The value is one atomic word updated by CAS, so no internal mutex is needed.
#include "internal.h"

struct conc_sem {
    conc_prim h; ///< holder = last acquirer (diagnostics)
    /// Available permits. Any unit, by CAS.
    _Atomic uint32_t value;
    /// Nonzero: value may not exceed `max`. Immutable.
    uint32_t bounded;
    /// The initial value (the bound). Immutable.
    uint32_t max;
};

conc_sem *conc_sem_create(conc_arena *a, uint32_t value, int bounded) {
    conc_sem *s = conc_arena_alloc(a, sizeof *s);
    if (!s) return NULL;
    conc_prim_init(&s->h, a, CONC_KIND_SEMAPHORE);
    atomic_init(&s->value, value);
    s->bounded = bounded != 0;
    s->max = value;
    return s;
}

conc_result conc_sem_try_acquire(conc_sem *s, uint64_t unit) {
    uint32_t v = atomic_load_explicit(&s->value, memory_order_relaxed);
    while (v > 0) {
        if (atomic_compare_exchange_weak_explicit(&s->value, &v, v - 1,
                                                  memory_order_seq_cst, memory_order_relaxed)) {
            atomic_store_explicit(&s->h.holder, unit, memory_order_relaxed);
            return CONC_OK;
        }
    }
    return CONC_BUSY;
}

conc_result conc_sem_release(conc_sem *s, uint32_t n) {
    uint32_t v = atomic_load_explicit(&s->value, memory_order_relaxed);
    for (;;) {
        uint64_t nv = (uint64_t)v + n;
        if ((s->bounded && nv > s->max) || nv > UINT32_MAX) return CONC_OVER_RELEASE;
        if (atomic_compare_exchange_weak_explicit(&s->value, &v, (uint32_t)nv,
                                                  memory_order_seq_cst, memory_order_relaxed))
            break;
    }
    if (n) conc_prim_signal(&s->h, n >= INT_MAX ? INT_MAX : (int)n);
    return CONC_OK;
}

uint32_t conc_sem_value(conc_sem *s) { return atomic_load_explicit(&s->value, memory_order_relaxed); }
