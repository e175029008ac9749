// The shared arena: one MAP_SHARED|MAP_ANONYMOUS region mapped before any fork, so every
// later-forked process sees it at the same address and raw pointers into it are valid
// everywhere. Allocation: power-of-two size classes (32 B .. 2^30) with a free list each,
// fed by a bump pointer; one robust process-shared mutex guards it.
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
    ARENA_MAGIC = 0x436f6e63 ///< "Conc"
};

/// Precedes every payload.
typedef struct block_hdr {
    /// Size class index. Written by the allocator under `lock`; immutable while allocated.
    uint32_t cls;
    /// ARENA_MAGIC while allocated, 0 while free (catches double frees).
    uint32_t magic;
    uint64_t pad;
} block_hdr;

/// A free block's payload: the next free block of the same class.
typedef struct free_block { struct free_block *next; } free_block;

/// Lives at the start of the mapping.
struct conc_arena {
    /// Robust, process-shared. Guards everything below.
    pthread_mutex_t lock;
    /// Total mapping size. Immutable.
    size_t size;
    /// Offset of the first never-used byte. Under `lock`.
    size_t bump;
    /// Bytes in allocated blocks. Under `lock` for writers; read racily by in_use.
    _Atomic size_t in_use;
    /// Free lists per class. Under `lock`.
    free_block *free_list[NCLASS];
};

/* Robustness: every mutation below is one store that publishes a fully prepared state
 * (pop: free_list = next; push: next is written first, then free_list = block; bump:
 * header written, then bump advanced... ordering within one process is enough because a
 * dead process's stores are all visible to the next locker). An interrupted operation
 * leaks at most one block; it never links a half-made one. */

conc_arena *conc_arena_create(size_t reserve_bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (reserve_bytes + page - 1) / page * page;
    if (size < page * 4) size = page * 4;
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return NULL;
    conc_arena *a = m;
    if (conc_mutex_init(&a->lock) != 0) { munmap(m, size); return NULL; }
    a->size = size;
    a->bump = (sizeof(conc_arena) + 15) & ~(size_t)15;
    atomic_init(&a->in_use, 0);
    return a;
}

void conc_arena_destroy(conc_arena *a) { munmap(a, a->size); }
size_t conc_arena_in_use(conc_arena *a) { return atomic_load_explicit(&a->in_use, memory_order_relaxed); }
size_t conc_arena_capacity(conc_arena *a) { return a->size; }

static inline int class_of(size_t size) {
    size_t total = size + HDR;
    if (total <= ((size_t)1 << MIN_SHIFT)) return 0;
    int shift = 64 - __builtin_clzll((unsigned long long)(total - 1));
    return shift > MAX_SHIFT ? -1 : shift - MIN_SHIFT;
}

void *conc_arena_alloc(conc_arena *a, size_t size) {
    if (size > ((size_t)1 << MAX_SHIFT)) return NULL;
    int cls = class_of(size);
    if (cls < 0) return NULL;
    size_t bsize = (size_t)1 << (cls + MIN_SHIFT);
    block_hdr *h;
    int fresh = 0;
    conc_mutex_lock(&a->lock);
    free_block *f = a->free_list[cls];
    if (f) {
        a->free_list[cls] = f->next;
        h = (block_hdr *)((char *)f - HDR);
    } else {
        if (a->bump + bsize > a->size || a->bump + bsize < a->bump) {
            conc_mutex_unlock(&a->lock);
            return NULL;
        }
        h = (block_hdr *)((char *)a + a->bump);
        a->bump += bsize;
        fresh = 1;
    }
    h->cls = (uint32_t)cls;
    h->magic = ARENA_MAGIC;
    atomic_fetch_add_explicit(&a->in_use, bsize, memory_order_relaxed);
    conc_mutex_unlock(&a->lock);
    void *p = (char *)h + HDR;
    /* Fresh memory from the mapping is already zero (and stays untouched: lazily backed). */
    if (!fresh) memset(p, 0, size < sizeof(free_block) ? sizeof(free_block) : size);
    return p;
}

void conc_arena_free(conc_arena *a, void *p) {
    if (!p) return;
    block_hdr *h = (block_hdr *)((char *)p - HDR);
    conc_mutex_lock(&a->lock);
    if (h->magic != ARENA_MAGIC || h->cls >= NCLASS) { /* not ours, or a double free */
        conc_mutex_unlock(&a->lock);
        return;
    }
    size_t bsize = (size_t)1 << (h->cls + MIN_SHIFT);
    h->magic = 0;
    free_block *f = p;
    f->next = a->free_list[h->cls];
    a->free_list[h->cls] = f;
    atomic_fetch_sub_explicit(&a->in_use, bsize, memory_order_relaxed);
    conc_mutex_unlock(&a->lock);
}
