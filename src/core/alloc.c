/*
 * alloc.c -- the replaceable allocator behind sp_malloc and friends.
 *
 * The default forwards to libc.  sp_set_allocator() swaps in another set
 * of functions, typically the failing allocator of tests/support, which is
 * how every constructor's SP_ENOMEM path is exercised.  This file is the
 * only one in src/ allowed to call malloc/realloc/free (checksrc.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stampede/alloc.h"

static void *libc_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void *libc_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return realloc(ptr, size);
}

static void libc_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static sp_allocator current = {libc_malloc, libc_realloc, libc_free, NULL};

void sp_set_allocator(const sp_allocator *a)
{
    if (a == NULL) {
        current.malloc_fn = libc_malloc;
        current.realloc_fn = libc_realloc;
        current.free_fn = libc_free;
        current.ctx = NULL;
        return;
    }
    current = *a;
}

void *sp_malloc(size_t size)
{
    return current.malloc_fn(current.ctx, size);
}

void *sp_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return NULL;
    void *p = current.malloc_fn(current.ctx, total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *sp_realloc(void *ptr, size_t size)
{
    return current.realloc_fn(current.ctx, ptr, size);
}

void *sp_reallocarray(void *ptr, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return NULL;
    return current.realloc_fn(current.ctx, ptr, total);
}

void sp_free(void *ptr)
{
    if (ptr)
        current.free_fn(current.ctx, ptr);
}

char *sp_strndup(const char *s, size_t n)
{
    char *p = sp_malloc(n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sp_strdup(const char *s)
{
    return sp_strndup(s, strlen(s));
}
