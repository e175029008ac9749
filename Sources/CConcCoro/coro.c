/* Coroutine core. The initial stack frame layout matches what CConcCoro_switch pops:
 * [mxcsr|fcw][r15][r14][r13=co][r12=entry][rbx][rbp][ret=trampoline]. */
#define _GNU_SOURCE
#include "CConcCoro.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Under ThreadSanitizer, each coroutine is a TSan "fiber", so that switching stacks does not
 * look like one thread's memory being touched by another without synchronisation. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONC_TSAN 1
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif
#endif
#ifdef CONC_TSAN
#define TSAN_TO_COROUTINE(co) do { (co)->tsan_caller = __tsan_get_current_fiber(); __tsan_switch_to_fiber((co)->tsan_fiber, 0); } while (0)
#define TSAN_TO_CALLER(co) __tsan_switch_to_fiber((co)->tsan_caller, 0)
#else
#define TSAN_TO_COROUTINE(co) ((void)0)
#define TSAN_TO_CALLER(co) ((void)0)
#endif

struct CConcCoro {
    void *sp;          /* saved stack pointer of the coroutine while suspended */
    void *caller_sp;   /* saved stack pointer of the resumer while the coroutine runs */
    void *stack;
    size_t size;
    CConcCoro_fn fn;
    void *arg;
    int done;
#ifdef CONC_TSAN
    void *tsan_fiber;
    void *tsan_caller;
#endif
};

#if defined(__x86_64__)
void CConcCoro_switch(void **save, void *load);
void CConcCoro_trampoline(void);

static void coro_main(CConcCoro *co) {
    co->fn(co->arg);
    co->done = 1;
    TSAN_TO_CALLER(co);
    CConcCoro_switch(&co->sp, co->caller_sp);
    abort(); /* a finished coroutine is never resumed */
}

CConcCoro *CConcCoro_new(size_t stack_size, CConcCoro_fn fn, void *arg) {
    CConcCoro *co = calloc(1, sizeof *co);
    if (!co) return NULL;
    void *st = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (st == MAP_FAILED) { free(co); return NULL; }
    co->stack = st; co->size = stack_size; co->fn = fn; co->arg = arg;
    uintptr_t top = ((uintptr_t)st + stack_size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 80);
    uint32_t mxcsr; uint16_t fcw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    sp[0] = (uint64_t)mxcsr | ((uint64_t)fcw << 32);
    sp[1] = 0; sp[2] = 0;                       /* r15, r14 */
    sp[3] = (uint64_t)(uintptr_t)co;           /* r13: argument */
    sp[4] = (uint64_t)(uintptr_t)coro_main;    /* r12: entry */
    sp[5] = 0; sp[6] = 0;                       /* rbx, rbp (0 ends backtraces) */
    sp[7] = (uint64_t)(uintptr_t)CConcCoro_trampoline;
    co->sp = sp;
#ifdef CONC_TSAN
    co->tsan_fiber = __tsan_create_fiber(0);
#endif
    return co;
}

void CConcCoro_resume(CConcCoro *co) { TSAN_TO_COROUTINE(co); CConcCoro_switch(&co->caller_sp, co->sp); }
void CConcCoro_yield(CConcCoro *co) { TSAN_TO_CALLER(co); CConcCoro_switch(&co->sp, co->caller_sp); }

#else
#include <ucontext.h>
/* Portable fallback: ucontext (a syscall per switch, ~200 ns). */
typedef struct { ucontext_t co, caller; } ctx_pair;
static void uc_entry(unsigned hi, unsigned lo) {
    CConcCoro *co = (CConcCoro *)(((uintptr_t)hi << 32) | lo);
    co->fn(co->arg);
    co->done = 1;
    ctx_pair *p = co->sp;
    swapcontext(&p->co, &p->caller);
}
CConcCoro *CConcCoro_new(size_t stack_size, CConcCoro_fn fn, void *arg) {
    CConcCoro *co = calloc(1, sizeof *co);
    if (!co) return NULL;
    void *st = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (st == MAP_FAILED) { free(co); return NULL; }
    ctx_pair *p = calloc(1, sizeof *p);
    co->stack = st; co->size = stack_size; co->fn = fn; co->arg = arg; co->sp = p;
    getcontext(&p->co);
    p->co.uc_stack.ss_sp = st; p->co.uc_stack.ss_size = stack_size; p->co.uc_link = NULL;
    uintptr_t v = (uintptr_t)co;
    makecontext(&p->co, (void (*)(void))uc_entry, 2, (unsigned)(v >> 32), (unsigned)v);
    return co;
}
void CConcCoro_resume(CConcCoro *co) { ctx_pair *p = co->sp; swapcontext(&p->caller, &p->co); }
void CConcCoro_yield(CConcCoro *co) { ctx_pair *p = co->sp; swapcontext(&p->co, &p->caller); }
#endif

void CConcCoro_free(CConcCoro *co) {
    if (!co) return;
    munmap(co->stack, co->size);
#ifdef CONC_TSAN
    if (co->tsan_fiber) __tsan_destroy_fiber(co->tsan_fiber);
#endif
#if !defined(__x86_64__)
    free(co->sp);
#endif
    free(co);
}
int CConcCoro_done(CConcCoro *co) { return co->done; }
uintptr_t CConcCoro_stack_low(CConcCoro *co) { return (uintptr_t)co->stack; }
