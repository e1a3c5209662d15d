/*
 * arena.h -- bump allocator for scratch memory of one request or batch.
 *
 * An arena hands out memory from blocks it allocates with sp_malloc and
 * frees everything at once (sp_arena_reset keeps the first block for
 * reuse, sp_arena_fini frees all).  It has a hard ceiling on the total
 * bytes it may hold: past it, sp_arena_alloc returns SP_ETOOBIG instead of
 * growing.  Not thread-safe; one arena per thread or request.
 */
#ifndef STAMPEDE_ARENA_H
#define STAMPEDE_ARENA_H

#include <stddef.h>

#include "stampede/common.h"
#include "stampede/error.h"

SP_BEGIN_DECLS

typedef struct sp_arena_block sp_arena_block;

/* Caller-allocated; fields are private. */
typedef struct sp_arena {
    sp_arena_block *head; /* private: newest block first */
    size_t block_size;    /* private: default block payload size, bytes */
    size_t limit;         /* private: ceiling on total block bytes held */
    size_t held;          /* private: bytes of blocks currently held */
} sp_arena;

/*
 * Initialise a with blocks of block_size bytes (0 = 64 KiB) and a ceiling of
 * limit bytes in total (0 = SP_BUF_DEFAULT_MAX).  Allocates nothing.
 */
SP_API void sp_arena_init(sp_arena *a, size_t block_size, size_t limit);

/*
 * Allocate size bytes aligned to align (a power of two <= 64; 0 = 16).
 * OUT: *out, valid until the next reset or fini.  Returns SP_OK,
 * SP_EINVAL (bad align), SP_ETOOBIG (past the ceiling) or SP_ENOMEM.
 */
SP_API sp_err sp_arena_alloc(sp_arena *a, size_t size, size_t align, void **out);

/* A NUL-terminated copy of n bytes of s in the arena.  OUT: *out. */
SP_API sp_err sp_arena_strndup(sp_arena *a, const char *s, size_t n, char **out);

/* Forget every allocation; keep one block for reuse. */
SP_API void sp_arena_reset(sp_arena *a);

/* Free every block.  a may be reused after sp_arena_init. */
SP_API void sp_arena_fini(sp_arena *a);

/* Bytes of blocks currently held (for tests and accounting). */
SP_API size_t sp_arena_held(const sp_arena *a);

SP_END_DECLS

#endif /* STAMPEDE_ARENA_H */
