// Test-only helpers: blocking wrappers over conc_block and fork()ed C-only children.
#include "CConcSharedTestSupport.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

uint64_t ct_unit(uint32_t n) { return conc_unit_make(getpid(), n); }

typedef struct { void *obj; uint64_t unit; const void *bytes; size_t len; void **out; size_t *outlen; uint32_t count; } ctx_t;

static conc_result att_lock(void *c) { ctx_t *x = c; return conc_lock_try_acquire(x->obj, x->unit); }
static conc_result att_sem(void *c) { ctx_t *x = c; return conc_sem_try_acquire(x->obj, x->unit); }
static conc_result att_event(void *c) { ctx_t *x = c; return conc_event_try_wait(x->obj); }
static conc_result att_put(void *c) { ctx_t *x = c; return conc_queue_try_put(x->obj, x->bytes, x->len); }
static conc_result att_get(void *c) { ctx_t *x = c; return conc_queue_try_get(x->obj, x->out, x->outlen); }
static conc_result att_join(void *c) { ctx_t *x = c; return conc_queue_unfinished(x->obj) ? CONC_BUSY : CONC_OK; }
static conc_result att_notified(void *c) { ctx_t *x = c; return conc_cond_waiter_notified(x->obj); }

conc_result ct_lock_acquire(conc_lock *l, uint64_t unit, int64_t t) {
    ctx_t x = {.obj = l, .unit = unit};
    return conc_block((conc_prim *)l, att_lock, &x, t, NULL, NULL);
}
conc_result ct_sem_acquire(conc_sem *s, uint64_t unit, int64_t t) {
    ctx_t x = {.obj = s, .unit = unit};
    return conc_block((conc_prim *)s, att_sem, &x, t, NULL, NULL);
}
conc_result ct_event_wait(conc_event *e, int64_t t) {
    ctx_t x = {.obj = e};
    return conc_block((conc_prim *)e, att_event, &x, t, NULL, NULL);
}
conc_result ct_queue_put(conc_queue *q, const void *bytes, size_t len, int64_t t) {
    ctx_t x = {.obj = q, .bytes = bytes, .len = len};
    return conc_block((conc_prim *)q, att_put, &x, t, NULL, NULL);
}
conc_result ct_queue_get(conc_queue *q, void **out, size_t *len, int64_t t) {
    ctx_t x = {.obj = q, .out = out, .outlen = len};
    return conc_block((conc_prim *)q, att_get, &x, t, NULL, NULL);
}
conc_result ct_queue_join(conc_queue *q, int64_t t) {
    ctx_t x = {.obj = q};
    return conc_block((conc_prim *)q, att_join, &x, t, NULL, NULL);
}

conc_result ct_cond_wait(conc_cond *c, conc_lock *l, uint64_t unit, int64_t t) {
    conc_cond_waiter *w = conc_cond_enlist(c, unit);
    if (!w) return CONC_NO_MEMORY;
    conc_lock_release(l, unit);
    ctx_t x = {.obj = w};
    conc_block((conc_prim *)c, att_notified, &x, t, NULL, NULL);
    int notified = conc_cond_delist(c, w);
    ct_lock_acquire(l, unit, -1);
    return notified ? CONC_OK : CONC_TIMEOUT;
}

int ct_flag_is_set(void *ctx) { return ctx && atomic_load((_Atomic int *)ctx) != 0; }

pid_t ct_fork_lock_counter(conc_lock *l, uint64_t *counter, int iters) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    uint64_t u = ct_unit(1);
    for (int i = 0; i < iters; i++) {
        if (ct_lock_acquire(l, u, -1) != CONC_OK) _exit(2);
        (*(volatile uint64_t *)counter)++;
        if (conc_lock_release(l, u) != CONC_OK) _exit(3);
    }
    _exit(0);
}

pid_t ct_fork_lock_hold(conc_lock *l, conc_event *ready) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (ct_lock_acquire(l, ct_unit(1), -1) != CONC_OK) _exit(2);
    conc_event_set(ready);
    for (;;) pause();
}

pid_t ct_fork_event_setter(conc_event *e) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    while (conc_prim_waiters((conc_prim *)e) == 0) sched_yield();
    conc_event_set(e);
    _exit(0);
}

pid_t ct_fork_arena_alloc(conc_arena *a, size_t size, int count) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    for (int i = 0; i < count; i++)
        if (!conc_arena_alloc(a, size)) _exit(2);
    _exit(0);
}

pid_t ct_fork_queue_producer(conc_queue *q, int n, int close_at_end) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    char buf[64];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "item %d", i);
        if (ct_queue_put(q, buf, (size_t)len, -1) != CONC_OK) _exit(2);
    }
    if (close_at_end) conc_queue_close(q);
    _exit(0);
}

pid_t ct_fork_queue_flood(conc_queue *q) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    char buf[32];
    for (uint64_t i = 0;; ) {
        int len = snprintf(buf, sizeof buf, "%llu", (unsigned long long)i);
        conc_result r = conc_queue_try_put(q, buf, (size_t)len);
        if (r == CONC_OK) i++;
        else if (r != CONC_FULL) _exit(2);
    }
}

pid_t ct_fork_die_in_put(conc_queue *q, const char *item) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    conc_queue_test_die_in_put(q, item, strlen(item));
    _exit(4);
}

pid_t ct_fork_die_in_get(conc_queue *q) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    conc_queue_test_die_in_get(q);
    _exit(4);
}

pid_t ct_fork_cond_enlist_and_die(conc_cond *c) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    _exit(conc_cond_enlist(c, ct_unit(1)) ? 0 : 2);
}

pid_t ct_fork_die_in_notify(conc_cond *c) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    conc_cond_test_die_in_notify(c);
    _exit(4);
}

static void on_usr1(int sig) { (void)sig; }
static uint32_t never_changes;
static _Atomic int waiter_done;
static int waiter_result;

static void *waiter_main(void *arg) {
    (void)arg;
    waiter_result = conc_futex_wait(&never_changes, 0, 10000000000LL);
    atomic_store(&waiter_done, 1);
    return NULL;
}

int ct_futex_wait_interrupted(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    atomic_store(&waiter_done, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, waiter_main, NULL) != 0) return -1;
    /* The signal may land before the thread is inside futex_wait: keep poking. */
    while (!atomic_load(&waiter_done)) {
        pthread_kill(t, SIGUSR1);
        conc_sleep_ns(1000000);
    }
    pthread_join(t, NULL);
    return waiter_result;
}

typedef struct { conc_queue *q; int n; } bench_t;

static int bench_produce(conc_queue *q, int n) {
    uint64_t item[2] = {0, 0x1234567812345678ULL};
    for (int i = 0; i < n; i++) {
        item[0] = (uint64_t)i;
        if (ct_queue_put(q, item, sizeof item, -1) != CONC_OK) return -1;
    }
    return 0;
}

static void *bench_producer_main(void *arg) {
    bench_t *b = arg;
    bench_produce(b->q, b->n);
    return NULL;
}

static int bench_consume(conc_queue *q, int n) {
    for (int i = 0; i < n; i++) {
        void *out = NULL;
        size_t len = 0;
        if (ct_queue_get(q, &out, &len, 10000000000LL) != CONC_OK) return -1;
        uint64_t v;
        memcpy(&v, out, sizeof v);
        free(out);
        if (len != 16 || v != (uint64_t)i) return -1;
    }
    return 0;
}

double ct_bench_queue_threads(conc_queue *q, int n) {
    bench_t b = {q, n};
    pthread_t t;
    int64_t start = conc_now_ns();
    if (pthread_create(&t, NULL, bench_producer_main, &b) != 0) return -1;
    int bad = bench_consume(q, n);
    pthread_join(t, NULL);
    return bad ? -1 : (double)(conc_now_ns() - start) / n;
}

double ct_bench_queue_processes(conc_queue *q, int n) {
    fflush(NULL);
    int64_t start = conc_now_ns();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) _exit(bench_produce(q, n) ? 2 : 0);
    int bad = bench_consume(q, n);
    int status = 0;
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) bad = 1;
    return bad ? -1 : (double)(conc_now_ns() - start) / n;
}

/* The documented park loop, minus the spin: every wait that is not satisfied at once goes
 * to the futex, which is what exercises the no-lost-wake-up argument. */
typedef struct { void *obj; int queue; } chan_t;

static conc_result chan_try(chan_t *c, uint64_t unit) {
    if (!c->queue) return conc_sem_try_acquire(c->obj, unit);
    void *out = NULL;
    size_t len = 0;
    conc_result r = conc_queue_try_get(c->obj, &out, &len);
    free(out);
    return r;
}

static int chan_ready(chan_t *c) {
    return c->queue ? conc_queue_qsize(c->obj) > 0 : conc_sem_value(c->obj) > 0;
}

static void chan_send(chan_t *c) {
    if (c->queue) conc_queue_try_put(c->obj, "x", 1);
    else conc_sem_release(c->obj, 1);
}

static void park_receive(chan_t *c, uint64_t unit, _Atomic int *lost) {
    conc_prim *p = c->obj;
    for (;;) {
        uint32_t seen = conc_prim_load_seq(p);
        if (chan_try(c, unit) == CONC_OK) return;
        conc_prim_wait_begin(p);
        if (chan_try(c, unit) == CONC_OK) { conc_prim_wait_end(p); return; }
        int e = conc_prim_wait(p, seen, 1000000000LL);
        conc_prim_wait_end(p);
        if (e == ETIMEDOUT && chan_ready(c)) atomic_fetch_add(lost, 1);
    }
}

typedef struct { chan_t ping, pong; int rounds; _Atomic int *lost; } pp_t;

static void *pp_partner(void *arg) {
    pp_t *x = arg;
    uint64_t u = ct_unit(2);
    for (int i = 0; i < x->rounds; i++) {
        park_receive(&x->ping, u, x->lost);
        chan_send(&x->pong);
    }
    return NULL;
}

int ct_pingpong_lost_wakeups(conc_arena *a, int rounds, int processes, int queues) {
    _Atomic int *lost = conc_arena_alloc(a, sizeof *lost);
    void *o1 = queues ? (void *)conc_queue_create(a, 0) : (void *)conc_sem_create(a, 0, 0);
    void *o2 = queues ? (void *)conc_queue_create(a, 0) : (void *)conc_sem_create(a, 0, 0);
    if (!lost || !o1 || !o2) return -1;
    pp_t x = {{o1, queues}, {o2, queues}, rounds, lost};
    pthread_t t;
    pid_t pid = -1;
    if (processes) {
        fflush(NULL);
        pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) { pp_partner(&x); _exit(0); }
    } else if (pthread_create(&t, NULL, pp_partner, &x) != 0) return -1;
    uint64_t u = ct_unit(1);
    for (int i = 0; i < rounds; i++) {
        chan_send(&x.ping);
        park_receive(&x.pong, u, lost);
    }
    if (processes) {
        int status;
        while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {}
    } else pthread_join(t, NULL);
    int n = atomic_load(lost);
    conc_prim_release(o1);
    conc_prim_release(o2);
    conc_arena_free(a, (void *)lost);
    return n;
}
