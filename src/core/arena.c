/*
 * arena.c -- bump allocator with a hard ceiling.
 *
 * Blocks are chained newest first.  An allocation that does not fit the
 * head block takes a new block of max(block_size, size + align - 1) bytes, as
 * long as the total held stays under the ceiling.  Reset frees all blocks
 * but the oldest (usually the only one a steady-state request needs).
 */
#include <stdint.h>
#include <string.h>

#include "stampede/alloc.h"
#include "stampede/arena.h"
#include "stampede/limits.h"

struct sp_arena_block {
    sp_arena_block *next; /* older block */
    size_t size;          /* payload bytes */
    size_t used;          /* payload bytes handed out */
    _Alignas(16) unsigned char data[];
};

/* Offset in b at which `size` bytes aligned to `align` fit, or SIZE_MAX.
 * Alignment is of the address, not the offset: blocks come from sp_malloc,
 * which only guarantees 16-byte alignment. */
static size_t fit(const sp_arena_block *b, size_t size, size_t align)
{
    uintptr_t base = (uintptr_t)b->data;
    uintptr_t at = (base + b->used + (align - 1)) & ~(uintptr_t)(align - 1);
    size_t off = (size_t)(at - base);
    return off <= b->size && b->size - off >= size ? off : SIZE_MAX;
}

void sp_arena_init(sp_arena *a, size_t block_size, size_t limit)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64u * 1024u;
    a->limit = limit ? limit : SP_BUF_DEFAULT_MAX;
    a->held = 0;
}

sp_err sp_arena_alloc(sp_arena *a, size_t size, size_t align, void **out)
{
    if (align == 0)
        align = 16;
    if ((align & (align - 1)) != 0 || align > 64)
        return SP_EINVAL;
    if (size == 0)
        size = 1;
    sp_arena_block *b = a->head;
    size_t off;
    if (b && (off = fit(b, size, align)) != SIZE_MAX) {
        b->used = off + size;
        *out = b->data + off;
        return SP_OK;
    }
    size_t want = a->block_size;
    if (size > SIZE_MAX - align)
        return SP_ETOOBIG;
    if (size + align - 1 > want)
        want = size + align - 1; /* room for the worst-case alignment padding */
    if (want > a->limit || a->held > a->limit - want)
        return SP_ETOOBIG;
    b = sp_malloc(sizeof(*b) + want);
    if (b == NULL)
        return SP_ENOMEM;
    b->next = a->head;
    b->size = want;
    b->used = 0;
    a->head = b;
    a->held += want;
    off = fit(b, size, align);
    if (SP_NEVER(off == SIZE_MAX))
        return SP_ETOOBIG;
    b->used = off + size;
    *out = b->data + off;
    return SP_OK;
}

sp_err sp_arena_strndup(sp_arena *a, const char *s, size_t n, char **out)
{
    void *p;
    if (n == SIZE_MAX)
        return SP_ETOOBIG;
    sp_err rc = sp_arena_alloc(a, n + 1, 1, &p);
    if (rc != SP_OK)
        return rc;
    memcpy(p, s, n);
    ((char *)p)[n] = '\0';
    *out = p;
    return SP_OK;
}

void sp_arena_reset(sp_arena *a)
{
    sp_arena_block *b = a->head;
    if (b == NULL)
        return;
    while (b->next) {
        sp_arena_block *next = b->next;
        a->held -= b->size;
        sp_free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
}

void sp_arena_fini(sp_arena *a)
{
    sp_arena_block *b = a->head;
    while (b) {
        sp_arena_block *next = b->next;
        sp_free(b);
        b = next;
    }
    a->head = NULL;
    a->held = 0;
}

size_t sp_arena_held(const sp_arena *a)
{
    return a->held;
}
