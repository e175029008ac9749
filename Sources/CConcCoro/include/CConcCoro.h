/* Stackful coroutines: mmap'd stacks and a context switch (hand-written on x86-64,
 * ucontext elsewhere). Used for generators now and green threads later. Nothing else. */
#ifndef CCONCCORO_H
#define CCONCCORO_H
#include <stddef.h>
#include <stdint.h>
#pragma clang assume_nonnull begin

typedef void (*CConcCoro_fn)(void *_Nullable arg);
typedef struct CConcCoro CConcCoro;

/* Creates a coroutine with a stack of `stack_size` bytes (lazily committed, no guard page:
 * callers check the stack pointer against CConcCoro_stack_low). NULL on failure. */
CConcCoro *_Nullable CConcCoro_new(size_t stack_size, CConcCoro_fn fn, void *_Nullable arg);
/* Frees a coroutine that has finished or never started. Accepts NULL. */
void CConcCoro_free(CConcCoro *_Nullable co);
/* Runs the coroutine until it yields or finishes. */
void CConcCoro_resume(CConcCoro *co);
/* From inside the coroutine: switch back to whoever resumed it. */
void CConcCoro_yield(CConcCoro *co);
/* 1 once fn has returned. */
int CConcCoro_done(CConcCoro *co);
/* Lowest address of the coroutine's stack. */
uintptr_t CConcCoro_stack_low(CConcCoro *co);

#pragma clang assume_nonnull end
#endif
