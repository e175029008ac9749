// Event: a flag and a set() count in one word; waiters loop on conc_event_try_wait, and
// set() raises the flag, bumps the count and wakes all.
#include "internal.h"

struct conc_event {
    conc_prim h;
    /// Bit 0: the flag. Bits 1...: how many times set() ran (wrapping). One word, so that
    /// set() raises the flag and counts in one atomic step: a waiter that saw the flag
    /// raised always sees the count of that set(), and a count change always comes with
    /// the flag (two separate stores let a waiter of the next round see the previous
    /// set()'s late count bump and return True with the flag down). A waiter that saw
    /// another count than when it started returns True even if the flag was cleared again
    /// since, as CPython's do. Any unit, atomically (seq_cst).
    _Atomic uint32_t word;
};

conc_event *conc_event_create(conc_arena *a) {
    conc_event *e = conc_arena_alloc(a, sizeof *e);
    if (!e) return NULL;
    conc_prim_init(&e->h, a, CONC_KIND_EVENT);
    return e;
}

void conc_event_set(conc_event *e) {
    uint32_t old = atomic_load_explicit(&e->word, memory_order_seq_cst);
    while (!atomic_compare_exchange_weak_explicit(&e->word, &old, (old + 2u) | 1u,
                                                  memory_order_seq_cst, memory_order_seq_cst)) {
    }
    conc_prim_signal(&e->h, INT_MAX);
}

/* No signal: clearing never lets a waiter proceed. */
void conc_event_clear(conc_event *e) { atomic_fetch_and_explicit(&e->word, ~1u, memory_order_seq_cst); }

uint32_t conc_event_sets(conc_event *e) { return atomic_load_explicit(&e->word, memory_order_seq_cst) >> 1; }

int conc_event_is_set(conc_event *e) { return (atomic_load_explicit(&e->word, memory_order_seq_cst) & 1u) != 0; }

conc_result conc_event_try_wait(conc_event *e) { return conc_event_is_set(e) ? CONC_OK : CONC_BUSY; }
