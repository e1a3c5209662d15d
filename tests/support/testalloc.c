/*
 * testalloc.c -- the fault-injecting allocator of testalloc.h.
 *
 * Each block carries a 16-byte header with its size so realloc and free
 * can keep the live count exact without a table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/alloc.h"
#include "testalloc.h"

typedef struct {
    size_t size;
    size_t pad;
} hdr;

static uint64_t fail_at_;
static uint64_t calls_;
static int64_t live_;
static int failed_;

static int should_fail(void)
{
    calls_++;
    if (fail_at_ != 0 && calls_ == fail_at_) {
        failed_ = 1;
        return 1;
    }
    return 0;
}

static void *t_malloc(void *ctx, size_t size)
{
    (void)ctx;
    if (should_fail())
        return NULL;
    hdr *h = malloc(sizeof(hdr) + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    live_++;
    return h + 1;
}

static void *t_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (ptr == NULL)
        return t_malloc(ctx, size);
    if (should_fail())
        return NULL;
    hdr *h = (hdr *)ptr - 1;
    hdr *n = realloc(h, sizeof(hdr) + size);
    if (n == NULL)
        return NULL;
    n->size = size;
    return n + 1;
}

static void t_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (ptr == NULL)
        return;
    live_--;
    free((hdr *)ptr - 1);
}

void sp_testalloc_install(uint64_t fail_at)
{
    fail_at_ = fail_at;
    calls_ = 0;
    live_ = 0;
    failed_ = 0;
    sp_allocator a = {t_malloc, t_realloc, t_free, NULL};
    sp_set_allocator(&a);
}

void sp_testalloc_uninstall(void)
{
    sp_set_allocator(NULL);
}

int64_t sp_testalloc_live(void)
{
    return live_;
}

uint64_t sp_testalloc_calls(void)
{
    return calls_;
}

int sp_testalloc_failed(void)
{
    return failed_;
}

uint64_t sp_test_enomem_loop(sp_err (*fn)(void *ctx), void *ctx, uint64_t max_steps)
{
    for (uint64_t k = 1; k <= max_steps; k++) {
        sp_testalloc_install(k);
        sp_err rc = fn(ctx);
        int64_t live = sp_testalloc_live();
        int failed = sp_testalloc_failed();
        sp_testalloc_uninstall();
        if (live != 0)
            fail_msg("allocation fault %llu: %lld block(s) leaked (rc %s)", (unsigned long long)k,
                     (long long)live, sp_errname(rc));
        if (rc == SP_OK) {
            if (failed)
                fail_msg("allocation fault %llu was swallowed: call returned SP_OK",
                         (unsigned long long)k);
            return k;
        }
        if (rc != SP_ENOMEM)
            fail_msg("allocation fault %llu: expected SP_ENOMEM, got %s", (unsigned long long)k,
                     sp_errname(rc));
    }
    fail_msg("no success within %llu allocation faults", (unsigned long long)max_steps);
    return 0;
}

const char *sp_test_path(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("SP_SOURCE_DIR");
    if (root == NULL)
        root = SP_SOURCE_DIR;
    snprintf(buf, sizeof(buf), "%s/%s", root, rel);
    return buf;
}

char *sp_test_slurp(const char *rel, size_t *n)
{
    const char *path = sp_test_path(rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(sz >= 0);
    char *b = malloc((size_t)sz + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    b[sz] = '\0';
    *n = (size_t)sz;
    return b;
}
