// The process family's table: one slot per live process that shares this arena (the
// process that created it and every process forked from it, directly or not). Each
// process says in its slot whether all of its units are parked with no timeout
// ("quiescent", odd seq), and, when a checker asks (a round), confirms that every one of
// those waits still cannot proceed and writes what they wait for in words. The deadlock
// detector of the whole family (ConcInterpreter's FamilyDeadlock.swift) is built on it.
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/// One process. Lives in the arena (every process sees the same one).
struct conc_family_slot {
    /// 0 = free; else (1 << 32) | pid (pid 0 while the fork is under way). CAS.
    _Atomic uint64_t owner;
    /// Odd while every unit of the process is parked with no timeout. Written only by the
    /// process itself (under its unit registry's lock); bumped at every change.
    _Atomic uint32_t seq;
    /// The last round this process confirmed, and the seq it was confirmed for. Written by
    /// the process itself; `confirmed_round` is stored last (release).
    _Atomic uint32_t confirmed_seq;
    _Atomic uint32_t confirmed_round;
    /// Set by the checker that reported this process in a family deadlock: its units never
    /// proceed again (until it is terminated), whatever the reporting process's unwinding
    /// releases.
    _Atomic uint32_t frozen;
    /// Edges of the wait-for graph: (kind << 32) | pid of a process that could end a wait
    /// (kind 1: join of that process, 2: a lock it holds). Written before the confirmation.
    _Atomic uint32_t nedges;
    _Atomic uint64_t edges[CONC_FAMILY_EDGES];
    /// The process's name ("MainProcess", "Process-1").
    char name[CONC_FAMILY_NAME];
    /// Its blocked units in words, one per line. Written before the confirmation.
    char text[CONC_FAMILY_TEXT];
};

struct conc_family {
    /// The checker's current round: bumped to ask every process to confirm again.
    _Atomic uint32_t round;
    /// Sticky: some process could not get a slot, so the table does not know the whole
    /// family and no family deadlock is ever reported.
    _Atomic uint32_t untracked;
    struct conc_family_slot slots[CONC_FAMILY_SLOTS];
};

conc_family *conc_family_create(conc_arena *a) { return conc_arena_alloc(a, sizeof(conc_family)); }

static void put_bytes(char *dst, size_t cap, const char *src) {
    size_t i = 0;
    for (; i + 1 < cap && src[i]; i++) atomic_store_explicit((_Atomic char *)&dst[i], src[i], memory_order_relaxed);
    atomic_store_explicit((_Atomic char *)&dst[i], 0, memory_order_relaxed);
}
static void get_bytes(const char *src, size_t cap, char *buf, size_t buflen) {
    if (buflen == 0) return;
    size_t i = 0;
    for (; i + 1 < buflen && i + 1 < cap; i++) {
        char c = atomic_load_explicit((_Atomic char *)&src[i], memory_order_relaxed);
        if (!c) break;
        buf[i] = c;
    }
    buf[i] = 0;
}

int conc_family_claim(conc_family *f, pid_t pid) {
    uint64_t want = ((uint64_t)1 << 32) | (uint32_t)pid;
    for (int i = 0; i < CONC_FAMILY_SLOTS; i++) {
        struct conc_family_slot *s = &f->slots[i];
        uint64_t expect = 0;
        if (atomic_load_explicit(&s->owner, memory_order_relaxed) != 0) continue;
        if (!atomic_compare_exchange_strong_explicit(&s->owner, &expect, want, memory_order_seq_cst, memory_order_relaxed))
            continue;
        /* Running (even seq), nothing confirmed. */
        uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
        atomic_store_explicit(&s->seq, (q | 1) + 1, memory_order_seq_cst);
        atomic_store_explicit(&s->confirmed_round, 0, memory_order_relaxed);
        atomic_store_explicit(&s->frozen, 0, memory_order_relaxed);
        atomic_store_explicit(&s->nedges, 0, memory_order_relaxed);
        put_bytes(s->text, CONC_FAMILY_TEXT, "");
        put_bytes(s->name, CONC_FAMILY_NAME, "");
        return i;
    }
    return atomic_exchange_explicit(&f->untracked, 1, memory_order_seq_cst) ? -1 : -2;
}

void conc_family_set_pid(conc_family *f, int slot, pid_t pid) {
    if (slot < 0 || slot >= CONC_FAMILY_SLOTS) return;
    atomic_store_explicit(&f->slots[slot].owner, ((uint64_t)1 << 32) | (uint32_t)pid, memory_order_seq_cst);
}

void conc_family_set_name(conc_family *f, int slot, const char *name) {
    if (slot < 0 || slot >= CONC_FAMILY_SLOTS) return;
    put_bytes(f->slots[slot].name, CONC_FAMILY_NAME, name);
}

void conc_family_release(conc_family *f, int slot, pid_t pid) {
    if (slot < 0 || slot >= CONC_FAMILY_SLOTS) return;
    uint64_t expect = ((uint64_t)1 << 32) | (uint32_t)pid;
    atomic_compare_exchange_strong_explicit(&f->slots[slot].owner, &expect, 0, memory_order_seq_cst, memory_order_relaxed);
}

pid_t conc_family_pid(conc_family *f, int slot) {
    return (pid_t)(uint32_t)atomic_load_explicit(&f->slots[slot].owner, memory_order_seq_cst);
}
int conc_family_used(conc_family *f, int slot) {
    return atomic_load_explicit(&f->slots[slot].owner, memory_order_seq_cst) != 0;
}

uint32_t conc_family_seq(conc_family *f, int slot) {
    return atomic_load_explicit(&f->slots[slot].seq, memory_order_seq_cst);
}

void conc_family_set_quiescent(conc_family *f, int slot, int quiescent) {
    if (slot < 0 || slot >= CONC_FAMILY_SLOTS) return;
    _Atomic uint32_t *w = &f->slots[slot].seq;
    uint32_t q = atomic_load_explicit(w, memory_order_relaxed);
    if ((int)(q & 1) != (quiescent != 0)) atomic_store_explicit(w, q + 1, memory_order_seq_cst);
}

uint32_t conc_family_round(conc_family *f) { return atomic_load_explicit(&f->round, memory_order_seq_cst); }
uint32_t conc_family_new_round(conc_family *f) {
    uint32_t r = atomic_fetch_add_explicit(&f->round, 1, memory_order_seq_cst) + 1;
    if (r == 0) r = atomic_fetch_add_explicit(&f->round, 1, memory_order_seq_cst) + 1; /* 0 means "never" */
    return r;
}
int conc_family_untracked(conc_family *f) { return atomic_load_explicit(&f->untracked, memory_order_seq_cst) != 0; }

void conc_family_confirm(conc_family *f, int slot, uint32_t round, uint32_t seq, const char *text,
                         const uint64_t *edges, uint32_t nedges) {
    if (slot < 0 || slot >= CONC_FAMILY_SLOTS) return;
    struct conc_family_slot *s = &f->slots[slot];
    put_bytes(s->text, CONC_FAMILY_TEXT, text);
    if (nedges > CONC_FAMILY_EDGES) nedges = CONC_FAMILY_EDGES;
    for (uint32_t i = 0; i < nedges; i++) atomic_store_explicit(&s->edges[i], edges[i], memory_order_relaxed);
    atomic_store_explicit(&s->nedges, nedges, memory_order_relaxed);
    atomic_store_explicit(&s->confirmed_seq, seq, memory_order_relaxed);
    atomic_store_explicit(&s->confirmed_round, round, memory_order_seq_cst);
}

int conc_family_confirmed(conc_family *f, int slot, uint32_t round, uint32_t seq) {
    struct conc_family_slot *s = &f->slots[slot];
    if (atomic_load_explicit(&s->confirmed_round, memory_order_seq_cst) != round) return 0;
    return atomic_load_explicit(&s->confirmed_seq, memory_order_relaxed) == seq;
}

uint32_t conc_family_confirmed_round(conc_family *f, int slot) {
    return atomic_load_explicit(&f->slots[slot].confirmed_round, memory_order_seq_cst);
}

void conc_family_read(conc_family *f, int slot, char *name, size_t namelen, char *text, size_t textlen,
                      uint64_t *edges, uint32_t *nedges) {
    struct conc_family_slot *s = &f->slots[slot];
    get_bytes(s->name, CONC_FAMILY_NAME, name, namelen);
    get_bytes(s->text, CONC_FAMILY_TEXT, text, textlen);
    uint32_t n = atomic_load_explicit(&s->nedges, memory_order_relaxed);
    if (n > CONC_FAMILY_EDGES) n = CONC_FAMILY_EDGES;
    for (uint32_t i = 0; i < n; i++) edges[i] = atomic_load_explicit(&s->edges[i], memory_order_relaxed);
    *nedges = n;
}

void conc_family_freeze(conc_family *f, int slot) {
    if (slot < 0 || slot >= CONC_FAMILY_SLOTS) return;
    atomic_store_explicit(&f->slots[slot].frozen, 1, memory_order_seq_cst);
}
void conc_family_thaw(conc_family *f) {
    for (int i = 0; i < CONC_FAMILY_SLOTS; i++) atomic_store_explicit(&f->slots[i].frozen, 0, memory_order_seq_cst);
}
int conc_family_frozen(conc_family *f, int slot) {
    if (slot < 0 || slot >= CONC_FAMILY_SLOTS) return 0;
    return atomic_load_explicit(&f->slots[slot].frozen, memory_order_seq_cst) != 0;
}

int conc_process_alive(pid_t pid) {
    if (pid <= 0) return 1;
    if (kill(pid, 0) == -1 && errno == ESRCH) return 0;
    /* A zombie (exited, not yet reaped) still answers kill(pid, 0). */
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : 1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 1;
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    if (!rp || rp[1] != ' ') return 1;
    char st = rp[2];
    return !(st == 'Z' || st == 'X' || st == 'x');
}

#include <sys/prctl.h>

int conc_set_child_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0); }
