// FIFO queue of byte strings in the arena (the interpreter serialises values). Each item is
// one arena node holding its bytes. put copies into a node outside the mutex and links it
// under the mutex with a single store; get unlinks under the mutex and copies out after.
// put and get bump seq (getters wait for items, putters for room); task_done bumps it when
// the unfinished count reaches 0 (join). A wake syscall happens only if someone waits.
//
// Getters and putters that have to wait are served in the order they began to wait, as
// CPython's Queue serves them (its Conditions wake waiters oldest first): a blocking getter
// (putter) enlists a record on its role's FIFO line, and a listed getter may take an item
// only while there are more items than live getters listed ahead of it (a putter: more
// free places than putters ahead). Every waiter is still woken on every change (they share
// seq); the lines decide who goes. A unit that has not enlisted (a first try, get_nowait)
// goes at once if it can, as a newcomer can in CPython.
#include "internal.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct qnode {
    /// Next (newer) node. Written under the queue mutex (by put, when linking after it).
    struct qnode *_Nullable next;
    /// Payload length. Written by the putter before linking; immutable after.
    size_t len;
    /// Payload (len bytes), written before linking.
    unsigned char bytes[];
} qnode;

struct conc_queue_turn {
    /// The waiting unit (its process may die while listed). Immutable.
    uint64_t unit;
    /// CONC_QUEUE_GETTER or CONC_QUEUE_PUTTER: which line. Immutable.
    uint32_t role;
    /// Nonzero while on the line. Under the queue mutex.
    uint32_t listed;
    /// Line links, oldest first. Under the queue mutex.
    conc_queue_turn *_Nullable prev, *_Nullable next;
};

/// One role's waiting units, oldest first.
typedef struct { conc_queue_turn *_Nullable head, *_Nullable tail; } turn_line;

struct conc_queue {
    conc_prim h;
    /// Robust, process-shared; guards everything below that is not marked otherwise.
    pthread_mutex_t m;
    /// Oldest and newest node (NULL when empty). Under `m`; `head` is also read without
    /// the mutex (relaxed, by try_get's empty check), so it is stored with HEAD_SET.
    qnode *_Nullable head, *_Nullable tail;
    /// Totals since creation: items linked, items unlinked, task_done calls. Under `m` for
    /// writers; atomic so qsize/unfinished/full can read them without the mutex.
    _Atomic uint64_t puts, gets, dones;
    /// 0 = unbounded. Immutable.
    uint64_t maxsize;
    /// Set once by close or retire. Atomic.
    _Atomic uint32_t closed;
    /// Set once by retire, under `m` (task_done reads it there). Atomic.
    _Atomic uint32_t retired;
    /// Getters and putters waiting their turn, indexed by role. Under `m`.
    turn_line lines[2];
};

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)
#define HEAD_SET(q, v) __atomic_store_n(&(q)->head, (v), __ATOMIC_RELAXED)
#define HEAD_PEEK(q) __atomic_load_n(&(q)->head, __ATOMIC_RELAXED)

/* Robustness. Linking a node (`tail->next = n` or `head = n`) is the commit point of put;
 * unlinking (`head = head->next`) is the commit point of get. A process killed after the
 * commit but before updating tail/counters leaves them stale, so on EOWNERDEAD the list
 * (the truth) is walked: tail is recomputed and the counters made to agree with it. */
static void repair(conc_queue *q) {
    uint64_t n = 0;
    qnode *last = NULL;
    for (qnode *p = q->head; p; p = p->next) { last = p; n++; }
    q->tail = last;
    atomic_fetch_add_explicit(&q->h.recoveries, 1, memory_order_relaxed);
    uint64_t puts = LD(q->puts), gets = LD(q->gets);
    if (puts - gets < n) ST(q->puts, gets + n);      /* linked, not yet counted */
    else if (puts - gets > n) ST(q->gets, puts - n); /* unlinked, not yet counted */
    if (LD(q->dones) > LD(q->puts)) ST(q->dones, LD(q->puts));
    /* The lines' forward chains are the truth too (one store links or unlinks a record). */
    for (int role = 0; role < 2; role++) {
        conc_queue_turn *prev = NULL;
        for (conc_queue_turn *t = q->lines[role].head; t; t = t->next) { t->prev = prev; t->listed = 1; prev = t; }
        q->lines[role].tail = prev;
    }
}

static inline void lock_q(conc_queue *q) {
    if (__builtin_expect(conc_mutex_lock(&q->m), 0)) repair(q);
}

conc_queue *conc_queue_create(conc_arena *a, uint64_t maxsize) {
    conc_queue *q = conc_arena_alloc(a, sizeof *q);
    if (!q) return NULL;
    conc_prim_init(&q->h, a, CONC_KIND_QUEUE);
    if (conc_mutex_init(&q->m) != 0) { conc_arena_free(a, q); return NULL; }
    q->maxsize = maxsize;
    return q;
}

/* A node holding a copy of the item, allocated outside the mutex. */
static qnode *new_node(conc_queue *q, const void *bytes, size_t len) {
    qnode *n = conc_arena_alloc(q->h.arena, sizeof(qnode) + len);
    if (!n) return NULL;
    n->next = NULL;
    n->len = len;
    if (len) memcpy(n->bytes, bytes, len);
    return n;
}

/* Links `n` under `m` (the caller checked there is room) and unlocks. */
static void link_and_unlock(conc_queue *q, qnode *n) {
    if (q->tail) q->tail->next = n; else HEAD_SET(q, n); /* commit */
    CONC_STEP(); /* the counters must not be stored before the commit */
    q->tail = n;
    ST(q->puts, LD(q->puts) + 1);
    conc_mutex_unlock(&q->m);
    conc_prim_signal(&q->h, INT_MAX); /* getters, putters and joiners share seq */
}

static inline int is_full(conc_queue *q) { return q->maxsize && LD(q->puts) - LD(q->gets) >= q->maxsize; }

static int my_turn(conc_queue *q, conc_queue_turn *t, uint64_t available);

/* try_put, and try_put_in_turn when `t` is not NULL. */
static conc_result put_item(conc_queue *q, conc_queue_turn *_Nullable t, const void *bytes, size_t len) {
    if (LD(q->closed)) return CONC_CLOSED;
    /* Cheap early answer without allocating; re-checked under the mutex. */
    if (is_full(q)) return CONC_FULL;
    qnode *n = new_node(q, bytes, len);
    if (!n) return CONC_NO_MEMORY;
    lock_q(q);
    conc_result r = LD(q->closed) ? CONC_CLOSED : is_full(q) ? CONC_FULL : CONC_OK;
    if (r == CONC_OK && t && q->maxsize && !my_turn(q, t, q->maxsize - (LD(q->puts) - LD(q->gets)))) r = CONC_FULL;
    if (r == CONC_OK) { link_and_unlock(q, n); return CONC_OK; }
    conc_mutex_unlock(&q->m);
    conc_arena_free(q->h.arena, n);
    return r;
}

conc_result conc_queue_try_put(conc_queue *q, const void *bytes, size_t len) { return put_item(q, NULL, bytes, len); }

/* Unlinks the head item under `m` (the caller checked it exists) and copies it out after
 * unlocking. Returns with `m` released. */
static conc_result take_head_and_unlock(conc_queue *q, void **out, size_t *out_len) {
    qnode *n = q->head;
    void *buf = malloc(n->len ? n->len : 1);
    if (!buf) { conc_mutex_unlock(&q->m); return CONC_NO_MEMORY; }
    HEAD_SET(q, n->next); /* commit */
    CONC_STEP();
    if (!q->head) q->tail = NULL;
    ST(q->gets, LD(q->gets) + 1);
    conc_mutex_unlock(&q->m);
    /* The node is ours now: copy out and free it outside the mutex. */
    if (n->len) memcpy(buf, n->bytes, n->len);
    *out = buf;
    *out_len = n->len;
    conc_arena_free(q->h.arena, n);
    conc_prim_signal(&q->h, INT_MAX); /* getters, putters and joiners share seq */
    return CONC_OK;
}

/* try_get, and try_get_in_turn when `t` is not NULL. */
static conc_result get_item(conc_queue *q, conc_queue_turn *_Nullable t, void **out, size_t *out_len) {
    /* Peek without the mutex: an empty queue costs no lock (a consumer polling in
     * conc_block would otherwise fight the producer for it). The head check matters after
     * a putter died between linking and counting: the counters say empty, the list does
     * not, and only taking the mutex (which repairs) brings them back in line. */
    if (LD(q->puts) == LD(q->gets) && HEAD_PEEK(q) == NULL)
        return LD(q->closed) ? CONC_CLOSED : CONC_EMPTY;
    lock_q(q);
    if (!q->head) {
        conc_mutex_unlock(&q->m);
        return LD(q->closed) ? CONC_CLOSED : CONC_EMPTY;
    }
    if (t && !my_turn(q, t, LD(q->puts) - LD(q->gets))) { conc_mutex_unlock(&q->m); return CONC_EMPTY; }
    return take_head_and_unlock(q, out, out_len);
}

conc_result conc_queue_try_get(conc_queue *q, void **out, size_t *out_len) { return get_item(q, NULL, out, out_len); }

/* Order matters for repair (as in condition.c): `listed` first, then the forward link
 * (the commit), then the back link. */
static void unlink_turn(conc_queue *q, conc_queue_turn *t) {
    turn_line *line = &q->lines[t->role];
    t->listed = 0;
    CONC_STEP();
    if (t->prev) t->prev->next = t->next; else line->head = t->next;
    CONC_STEP();
    if (t->next) t->next->prev = t->prev; else line->tail = t->prev;
}

conc_queue_turn *conc_queue_enlist(conc_queue *q, conc_queue_role role, uint64_t unit) {
    conc_queue_turn *t = conc_arena_alloc(q->h.arena, sizeof *t);
    if (!t) return NULL;
    t->unit = unit;
    t->role = role == CONC_QUEUE_PUTTER;
    turn_line *line = &q->lines[t->role];
    lock_q(q);
    t->prev = line->tail;
    t->next = NULL;
    t->listed = 1;
    CONC_STEP();
    if (line->tail) line->tail->next = t; else line->head = t; /* commit */
    CONC_STEP();
    line->tail = t;
    conc_mutex_unlock(&q->m);
    return t;
}

/* Under `m`: true when `t` may go now, `available` (items, or free places) being what
 * its role needs. It may while fewer live units are listed ahead of it; a unit whose
 * process died never delists, so its record is dropped here (nobody else will), as
 * condition.c's notify does. A closed queue (drained, or its items moved on) has no
 * turns. On true, `t` has left the line. */
static int my_turn(conc_queue *q, conc_queue_turn *t, uint64_t available) {
    if (!t->listed) return 1;
    if (!LD(q->closed)) {
        uint64_t ahead = 0;
        for (conc_queue_turn *o = q->lines[t->role].head, *next; o && o != t; o = next) {
            next = o->next;
            if (conc_unit_dead(o->unit)) { unlink_turn(q, o); conc_arena_free(q->h.arena, o); continue; }
            if (++ahead >= available) return 0;
        }
    }
    unlink_turn(q, t);
    return 1;
}

conc_result conc_queue_try_get_in_turn(conc_queue *q, conc_queue_turn *t, void **out, size_t *out_len) {
    return get_item(q, t, out, out_len);
}

conc_result conc_queue_try_put_in_turn(conc_queue *q, conc_queue_turn *t, const void *bytes, size_t len) {
    return put_item(q, t, bytes, len);
}

void conc_queue_delist(conc_queue *q, conc_queue_turn *t) {
    lock_q(q);
    int was = t->listed;
    if (was) unlink_turn(q, t);
    conc_mutex_unlock(&q->m);
    conc_arena_free(q->h.arena, t);
    /* Leaving the line without going (a timeout, Ctrl-C) may let the next one go. */
    if (was) conc_prim_signal(&q->h, INT_MAX);
}

uint64_t conc_queue_qsize(conc_queue *q) {
    uint64_t g = LD(q->gets), p = LD(q->puts); /* gets first: a concurrent get cannot make p < g */
    return p >= g ? p - g : 0;
}
int conc_queue_empty(conc_queue *q) { return conc_queue_qsize(q) == 0; }
int conc_queue_full(conc_queue *q) { return q->maxsize && conc_queue_qsize(q) >= q->maxsize; }

conc_result conc_queue_task_done(conc_queue *q) {
    lock_q(q);
    if (LD(q->retired)) { conc_mutex_unlock(&q->m); return CONC_CLOSED; }
    uint64_t puts = LD(q->puts), dones = LD(q->dones);
    if (dones >= puts) { conc_mutex_unlock(&q->m); return CONC_OVER_RELEASE; }
    ST(q->dones, dones + 1);
    conc_mutex_unlock(&q->m);
    if (dones + 1 == puts) conc_prim_signal(&q->h, INT_MAX); /* join() waiters */
    return CONC_OK;
}

uint64_t conc_queue_unfinished(conc_queue *q) {
    uint64_t d = LD(q->dones), p = LD(q->puts);
    return p >= d ? p - d : 0;
}

void conc_queue_close(conc_queue *q) {
    atomic_store_explicit(&q->closed, 1, memory_order_seq_cst);
    conc_prim_signal(&q->h, INT_MAX);
}

int conc_queue_closed(conc_queue *q) { return LD(q->closed) != 0; }

uint64_t conc_queue_retire(conc_queue *q) {
    lock_q(q);
    ST(q->retired, 1);
    atomic_store_explicit(&q->closed, 1, memory_order_seq_cst);
    uint64_t unfinished = conc_queue_unfinished(q);
    conc_mutex_unlock(&q->m);
    conc_prim_signal(&q->h, INT_MAX); /* getters, putters and joiners go where the items went */
    return unfinished;
}

int conc_queue_retired(conc_queue *q) { return LD(q->retired) != 0; }

/* Test hooks: die (without unlocking) right after the commit store of a put or a get,
 * the worst moment for the bookkeeping. Only for tests, in a fork()ed child. */
void conc_queue_test_die_in_put(conc_queue *q, const void *bytes, size_t len) {
    qnode *n = conc_arena_alloc(q->h.arena, sizeof(qnode) + len);
    if (!n) _exit(3);
    n->len = len;
    if (len) memcpy(n->bytes, bytes, len);
    lock_q(q);
    if (q->tail) q->tail->next = n; else HEAD_SET(q, n);
    _exit(0);
}

void conc_queue_test_die_in_get(conc_queue *q) {
    lock_q(q);
    qnode *n = q->head;
    if (n) HEAD_SET(q, n->next);
    _exit(0);
}

/// Frees every record on both waiting lines and empties them (their units are gone).
static void drop_turns(conc_queue *q) {
    for (int role = 0; role < 2; role++) {
        for (conc_queue_turn *t = q->lines[role].head, *next; t; t = next) {
            next = t->next;
            conc_arena_free(q->h.arena, t);
        }
        q->lines[role].head = q->lines[role].tail = NULL;
    }
}

void conc_queue_teardown(conc_queue *q) {
    for (qnode *n = q->head, *next; n; n = next) {
        next = n->next;
        conc_arena_free(q->h.arena, n);
    }
    q->head = q->tail = NULL;
    /* Records still listed belong to units that never delisted (their process died). */
    drop_turns(q);
    pthread_mutex_destroy(&q->m);
}

pthread_mutex_t *conc_queue_mutex(conc_queue *q) { return &q->m; }

/* In a forked child's copy of a private queue: the units on the waiting lines were the
 * parent's other threads, which do not exist here (the forking unit was not waiting), so
 * their records go; the mutex, taken by the parent around the fork, is made anew. The
 * items stay: the child has the queue as it was. */
void conc_queue_fork_child(conc_queue *q) {
    drop_turns(q);
    conc_mutex_init(&q->m);
}
