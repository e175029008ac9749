// Condition variable over a conc lock or rlock. Each waiter has a record in the arena on a
// FIFO list; notify(n) marks the n oldest notified and unlinks them, then wakes everybody on
// seq (each waiter checks its own record). Because the notifier marks records, a waiter
// that times out unmarked takes nothing with it, and waiters enlisted after a notify are
// not on the list the notify walked, so they cannot take it. Records of waiters whose
// process died are skipped (and freed) by notify.
#include "internal.h"
#include <unistd.h>

struct conc_cond_waiter {
    /// The waiting unit (diagnostics). Immutable.
    uint64_t unit;
    /// 0 → 1 by a notifier, under the condition's mutex; read by the waiter with acquire.
    _Atomic uint32_t notified;
    /// Nonzero while on the list. Under the condition's mutex.
    uint32_t listed;
    /// List links. Under the condition's mutex.
    conc_cond_waiter *_Nullable prev, *_Nullable next;
};

struct conc_cond {
    conc_prim h;
    /// Robust, process-shared; guards the list and `pending`.
    pthread_mutex_t m;
    /// The lock or rlock (retained). Immutable.
    conc_prim *lock;
    /// Un-notified waiters, oldest first. Under `m`.
    conc_cond_waiter *_Nullable head, *_Nullable tail;
    /// Length of the list. Under `m` (read racily by conc_cond_pending).
    _Atomic uint32_t pending;
};

/* Robustness: a unit killed mid-update could leave the list half-changed. On EOWNERDEAD
 * the list is rebuilt from `head` following `next` (the forward chain is the truth: every
 * change commits with one forward-link store), dropping records already marked notified,
 * and prev links, tail, `listed` and `pending` are recomputed. */
static void repair(conc_cond *c) {
    conc_cond_waiter *prev = NULL;
    uint32_t n = 0;
    for (conc_cond_waiter *w = c->head; w; w = w->next) {
        if (atomic_load_explicit(&w->notified, memory_order_relaxed)) {
            /* Was being notified: drop it from the chain. */
            if (prev) prev->next = w->next; else c->head = w->next;
            w->listed = 0;
            continue;
        }
        w->prev = prev;
        w->listed = 1;
        prev = w;
        n++;
    }
    c->tail = prev;
    atomic_store_explicit(&c->pending, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->h.recoveries, 1, memory_order_relaxed);
}

static void lock_cond(conc_cond *c) {
    if (conc_mutex_lock(&c->m)) repair(c);
}

conc_cond *conc_cond_create(conc_arena *a, conc_prim *lock) {
    conc_cond *c = conc_arena_alloc(a, sizeof *c);
    if (!c) return NULL;
    conc_prim_init(&c->h, a, CONC_KIND_CONDITION);
    if (conc_mutex_init(&c->m) != 0) { conc_arena_free(a, c); return NULL; }
    c->lock = lock;
    conc_prim_retain(lock);
    return c;
}

conc_prim *conc_cond_lock(conc_cond *c) { return c->lock; }

conc_cond_waiter *conc_cond_enlist(conc_cond *c, uint64_t unit) {
    conc_cond_waiter *w = conc_arena_alloc(c->h.arena, sizeof *w);
    if (!w) return NULL;
    w->unit = unit;
    lock_cond(c);
    w->prev = c->tail;
    w->next = NULL;
    w->listed = 1;
    CONC_STEP();
    /* The single linking store: the record was fully written above. */
    if (c->tail) c->tail->next = w; else c->head = w;
    CONC_STEP();
    c->tail = w;
    atomic_fetch_add_explicit(&c->pending, 1, memory_order_relaxed);
    conc_mutex_unlock(&c->m);
    return w;
}

conc_result conc_cond_waiter_notified(conc_cond_waiter *w) {
    return atomic_load_explicit(&w->notified, memory_order_seq_cst) ? CONC_OK : CONC_BUSY;
}

/* Order matters for repair: `listed` is cleared first (repair sets it again for every
 * record still on the forward chain), then the forward link is cut (the commit), then the
 * back link and the count (repair recomputes both). */
static void unlink_waiter(conc_cond *c, conc_cond_waiter *w) {
    w->listed = 0;
    CONC_STEP();
    if (w->prev) w->prev->next = w->next; else c->head = w->next;
    CONC_STEP();
    if (w->next) w->next->prev = w->prev; else c->tail = w->prev;
    atomic_fetch_sub_explicit(&c->pending, 1, memory_order_relaxed);
}

int conc_cond_delist(conc_cond *c, conc_cond_waiter *w) {
    lock_cond(c);
    /* Under `m`: a notify either marked (and unlinked) it before, or will never see it. */
    int was = atomic_load_explicit(&w->notified, memory_order_relaxed) != 0;
    if (w->listed) unlink_waiter(c, w);
    conc_mutex_unlock(&c->m);
    conc_arena_free(c->h.arena, w);
    return was;
}

uint32_t conc_cond_notify(conc_cond *c, uint32_t n) {
    uint32_t marked = 0;
    lock_cond(c);
    while (marked < n && c->head) {
        conc_cond_waiter *w = c->head;
        /* A waiter whose process died (killed while waiting) never delists; giving it the
         * notification would lose it. Its record is dropped instead (nobody else will).
         * One kill(2) per record of another process, none for this process's units. */
        if (conc_unit_dead(w->unit)) {
            unlink_waiter(c, w);
            conc_arena_free(c->h.arena, w);
            continue;
        }
        /* Mark first, then unlink: if this process dies in between, repair drops marked
         * records from the list, and the waiter still sees its notification. (Unlinking
         * first could leave a live waiter off the list and unmarked: a lost notify.) */
        atomic_store_explicit(&w->notified, 1, memory_order_seq_cst);
        CONC_STEP();
        unlink_waiter(c, w);
        marked++;
    }
    conc_mutex_unlock(&c->m);
    /* Waiters of one condition share seq, so wake them all; each checks its own record. */
    if (marked) conc_prim_signal(&c->h, INT_MAX);
    return marked;
}

uint32_t conc_cond_notify_all(conc_cond *c) { return conc_cond_notify(c, UINT32_MAX); }

uint32_t conc_cond_pending(conc_cond *c) { return atomic_load_explicit(&c->pending, memory_order_relaxed); }

/// Frees every waiter record and empties the list (their units are gone).
static void drop_waiters(conc_cond *c) {
    for (conc_cond_waiter *w = c->head, *next; w; w = next) {
        next = w->next;
        conc_arena_free(c->h.arena, w);
    }
    c->head = c->tail = NULL;
}

void conc_cond_teardown(conc_cond *c) {
    /* Records still listed belong to waiters that never delisted (their process died). */
    drop_waiters(c);
    pthread_mutex_destroy(&c->m);
    conc_prim_release(c->lock);
}

/* Test hook: die (without unlocking) in notify after marking the oldest waiter and before
 * unlinking it. Only for tests, in a fork()ed child. */
void conc_cond_test_die_in_notify(conc_cond *c) {
    lock_cond(c);
    if (c->head) atomic_store_explicit(&c->head->notified, 1, memory_order_seq_cst);
    _exit(0);
}

pthread_mutex_t *conc_cond_mutex(conc_cond *c) { return &c->m; }

/* In a forked child's copy of a private condition: its waiters were the parent's other
 * threads, which do not exist here; a notify() must not be spent on them. */
void conc_cond_fork_child(conc_cond *c) {
    drop_waiters(c);
    atomic_store_explicit(&c->pending, 0, memory_order_relaxed);
    conc_mutex_init(&c->m);
}
