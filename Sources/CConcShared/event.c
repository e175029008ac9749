// Event: a flag; waiters loop on conc_event_try_wait, and set() bumps seq and wakes all.
#include "internal.h"

struct conc_event {
    conc_prim h;
    /// 0/1. Any unit, atomically (seq_cst).
    _Atomic uint32_t flag;
    /// How many times set() ran (wrapping). A waiter that saw another count than when it
    /// started returns True even if the flag was cleared again since, as CPython's do.
    _Atomic uint32_t sets;
};

conc_event *conc_event_create(conc_arena *a) {
    conc_event *e = conc_arena_alloc(a, sizeof *e);
    if (!e) return NULL;
    conc_prim_init(&e->h, a, CONC_KIND_EVENT);
    return e;
}

void conc_event_set(conc_event *e) {
    atomic_store_explicit(&e->flag, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit(&e->sets, 1, memory_order_seq_cst);
    conc_prim_signal(&e->h, INT_MAX);
}

/* No signal: clearing never lets a waiter proceed. */
void conc_event_clear(conc_event *e) { atomic_store_explicit(&e->flag, 0, memory_order_seq_cst); }

uint32_t conc_event_sets(conc_event *e) { return atomic_load_explicit(&e->sets, memory_order_seq_cst); }

int conc_event_is_set(conc_event *e) { return atomic_load_explicit(&e->flag, memory_order_seq_cst) != 0; }

conc_result conc_event_try_wait(conc_event *e) { return conc_event_is_set(e) ? CONC_OK : CONC_BUSY; }
