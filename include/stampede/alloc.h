/*
 * alloc.h -- replaceable allocator.
 *
 * All library allocation goes through sp_malloc / sp_calloc / sp_realloc /
 * sp_free (raw malloc is banned in src/ by scripts/checksrc.sh), so tests
 * can install an allocator that fails the Nth call and prove that every
 * constructor returns SP_ENOMEM cleanly and leaks nothing.
 *
 * The allocator is process-global.  Install it before any other stampede
 * call and never while another thread may allocate through the library.
 */
#ifndef STAMPEDE_ALLOC_H
#define STAMPEDE_ALLOC_H

#include <stddef.h>

#include "stampede/common.h"

SP_BEGIN_DECLS

/* An allocator: three functions with the libc contracts, plus a context. */
typedef struct sp_allocator {
    void *(*malloc_fn)(void *ctx, size_t size);
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size);
    void (*free_fn)(void *ctx, void *ptr);
    void *ctx; /* passed to each function; borrowed */
} sp_allocator;

/*
 * Install a (copied into library state), or the libc allocator when a is
 * NULL.  Not thread-safe (see above).
 */
SP_API void sp_set_allocator(const sp_allocator *a);

/* malloc; size 0 returns a unique pointer or NULL like libc. */
SP_API void *sp_malloc(size_t size);

/* n * size bytes, zeroed; NULL (no allocation attempted) if n * size overflows. */
SP_API void *sp_calloc(size_t n, size_t size);

/* realloc; on failure the old block is untouched and NULL is returned. */
SP_API void *sp_realloc(void *ptr, size_t size);

/* realloc to n * size bytes; NULL (old block untouched) if n * size overflows. */
SP_API void *sp_reallocarray(void *ptr, size_t n, size_t size);

/* free; sp_free(NULL) is a no-op. */
SP_API void sp_free(void *ptr);

/* A copy of the NUL-terminated s, freed with sp_free; NULL on ENOMEM. */
SP_API char *sp_strdup(const char *s);

/* A NUL-terminated copy of the n bytes at s, freed with sp_free. */
SP_API char *sp_strndup(const char *s, size_t n);

SP_END_DECLS

#endif /* STAMPEDE_ALLOC_H */
