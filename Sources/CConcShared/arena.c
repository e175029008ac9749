// The shared arena: one MAP_SHARED|MAP_ANONYMOUS region mapped before any fork, so every
// later-forked process sees it at the same address and raw pointers into it are valid
// everywhere. Allocation: power-of-two size classes (32 B .. 1 GiB) with a lock-free free
// list (Treiber stack) each, fed by a lock-free bump pointer.
//
// Why lock-free rather than a robust mutex: a queue item costs one alloc (producer) and one
// free (consumer); with a mutex those two threads fight over it on every item. Lock-free
// also makes robustness trivial: every operation commits with one CAS, so a process killed
// at any instruction leaks at most the one block it was handling and corrupts nothing.
#include "internal.h"
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum {
    MIN_SHIFT = 5,           ///< smallest block: 32 bytes (16 header + 16 payload)
    MAX_SHIFT = 30,          ///< largest block: 1 GiB
    NCLASS = MAX_SHIFT - MIN_SHIFT + 1,
    HDR = 16,                ///< block header; keeps the payload 16-byte aligned
    BLOCK_MAGIC = 0x436f6e63 ///< "Conc": the block is allocated
};

/// Precedes every payload. Blocks are 16-byte aligned, so an offset from the arena start
/// fits in 32 bits as offset/16 (arenas up to 64 GiB).
typedef struct block_hdr {
    /// Size class index. Written by the allocating unit before handing the block out.
    uint32_t cls;
    /// BLOCK_MAGIC while allocated, 0 while free. Freeing CASes it to 0, so a double free
    /// (or a foreign pointer) is ignored instead of corrupting a list.
    _Atomic uint32_t magic;
    /// While on a free list: offset/16 of the next free block (0 = none). Written by the
    /// pusher before its publishing CAS; read by poppers (possibly stale: the CAS then fails).
    _Atomic uint32_t next;
    uint32_t pad;
} block_hdr;

/// Lives at the start of the mapping.
struct conc_arena {
    /// Total mapping size. Immutable.
    size_t size;
    /// Offset of the first never-used byte. Any unit, by CAS.
    _Atomic size_t bump;
    /// Bytes in allocated blocks. Any unit, atomically.
    _Atomic size_t in_use;
    /// Nonzero for a MAP_PRIVATE arena (``conc_arena_create_private``). Immutable.
    int is_private;
    /// Free-list heads per class: (ABA tag << 32) | (offset/16 of the first block, 0 = empty).
    /// Any unit, by CAS. The tag changes on every push and pop, so a popper that read a
    /// stale `next` cannot succeed after the list changed under it.
    _Atomic uint64_t free_head[NCLASS];
};

static inline block_hdr *at(conc_arena *a, uint32_t off16) { return (block_hdr *)((char *)a + ((size_t)off16 << 4)); }
static inline uint32_t off16_of(conc_arena *a, block_hdr *h) { return (uint32_t)(((char *)h - (char *)a) >> 4); }

static conc_arena *create(size_t reserve_bytes, int flags) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (reserve_bytes + page - 1) / page * page;
    if (size < page * 4) size = page * 4;
    if (size > ((size_t)1 << 36)) { errno = EINVAL; return NULL; } /* offsets/16 in 32 bits */
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return NULL;
    conc_arena *a = m;
    a->size = size;
    a->is_private = (flags & MAP_PRIVATE) != 0;
    atomic_init(&a->bump, (sizeof(conc_arena) + 15) & ~(size_t)15);
    atomic_init(&a->in_use, 0);
    return a;
}

conc_arena *conc_arena_create(size_t reserve_bytes) { return create(reserve_bytes, MAP_SHARED); }

/* A private arena is copied (copy-on-write) into a forked child with everything in it, as
 * the rest of the process's memory is: the child's primitives are its own, in the state
 * they had at the fork. Allocation is lock-free, so a copy taken while another thread
 * allocated is consistent (that block is at worst leaked in the child). */
conc_arena *conc_arena_create_private(size_t reserve_bytes) { return create(reserve_bytes, MAP_PRIVATE); }
int conc_arena_is_private(conc_arena *a) { return a->is_private; }

void conc_arena_destroy(conc_arena *a) { munmap(a, a->size); }
size_t conc_arena_in_use(conc_arena *a) { return atomic_load_explicit(&a->in_use, memory_order_relaxed); }
size_t conc_arena_capacity(conc_arena *a) { return a->size; }

static inline int class_of(size_t size) {
    size_t total = size + HDR;
    if (total <= ((size_t)1 << MIN_SHIFT)) return 0;
    int shift = 64 - __builtin_clzll((unsigned long long)(total - 1));
    return shift > MAX_SHIFT ? -1 : shift - MIN_SHIFT;
}

static block_hdr *pop(conc_arena *a, int cls) {
    _Atomic uint64_t *head = &a->free_head[cls];
    /* acquire: pairs with the pusher's release, so `next` as written by it is visible. */
    uint64_t old = atomic_load_explicit(head, memory_order_acquire);
    for (;;) {
        uint32_t off = (uint32_t)old;
        if (!off) return NULL;
        block_hdr *h = at(a, off);
        /* May be stale if another unit popped h meanwhile; then the tag differs and the
         * CAS fails. The memory stays mapped, so reading it is harmless. */
        uint32_t next = atomic_load_explicit(&h->next, memory_order_relaxed);
        uint64_t new = (((old >> 32) + 1) << 32) | next;
        if (atomic_compare_exchange_weak_explicit(head, &old, new, memory_order_acquire,
                                                  memory_order_acquire))
            return h;
    }
}

static void push(conc_arena *a, int cls, block_hdr *h) {
    _Atomic uint64_t *head = &a->free_head[cls];
    uint32_t me = off16_of(a, h);
    uint64_t old = atomic_load_explicit(head, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(&h->next, (uint32_t)old, memory_order_relaxed);
        uint64_t new = (((old >> 32) + 1) << 32) | me;
        /* release: the block's contents and `next` are visible to the next popper. */
        if (atomic_compare_exchange_weak_explicit(head, &old, new, memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

void *conc_arena_alloc(conc_arena *a, size_t size) {
    if (size > ((size_t)1 << MAX_SHIFT)) return NULL;
    int cls = class_of(size);
    if (cls < 0) return NULL;
    size_t bsize = (size_t)1 << (cls + MIN_SHIFT);
    block_hdr *h = pop(a, cls);
    int fresh = 0;
    if (!h) {
        size_t off = atomic_load_explicit(&a->bump, memory_order_relaxed);
        do {
            if (off + bsize > a->size || off + bsize < off) return NULL;
        } while (!atomic_compare_exchange_weak_explicit(&a->bump, &off, off + bsize,
                                                        memory_order_relaxed, memory_order_relaxed));
        h = (block_hdr *)((char *)a + off);
        fresh = 1;
    }
    h->cls = (uint32_t)cls;
    atomic_store_explicit(&h->magic, BLOCK_MAGIC, memory_order_relaxed);
    atomic_fetch_add_explicit(&a->in_use, bsize, memory_order_relaxed);
    void *p = (char *)h + HDR;
    /* Never-used memory from the mapping is already zero (and stays lazily backed). */
    if (!fresh) memset(p, 0, size);
    return p;
}

void conc_arena_free(conc_arena *a, void *p) {
    if (!p) return;
    block_hdr *h = (block_hdr *)((char *)p - HDR);
    uint32_t expect = BLOCK_MAGIC;
    if (!atomic_compare_exchange_strong_explicit(&h->magic, &expect, 0, memory_order_relaxed,
                                                 memory_order_relaxed))
        return; /* not an allocated block: a double free or a foreign pointer */
    if (h->cls >= NCLASS) return;
    atomic_fetch_sub_explicit(&a->in_use, (size_t)1 << (h->cls + MIN_SHIFT), memory_order_relaxed);
    push(a, (int)h->cls, h);
}
