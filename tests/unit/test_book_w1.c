/*
 * test_book_w1.c -- the W1 oracle of docs/specs/perf-anchors.md §1.2 at
 * 1 M operations, on both book implementations.
 *
 * The workload is generated here from the spec (sp_book_w1_generate), its
 * bytes are checked against the spec's SHA-256 (nettle's sha256: the
 * generator is right to the bit), then replayed through the public API on
 * the fast and the reference book, and the outcome must equal the spec's
 * table exactly: 220,769 fills, 5,628,861 lots filled, 322,473 cancels
 * accepted, 117,362 rejected, 14,689 orders resting at the end.  Both books
 * must end in the same state (hash); sp_book_check runs every 4,096
 * operations and at the end (after every operation it would cost
 * O(15 k resting orders) per step: the differential test does the
 * per-operation checks on smaller books), and the books are drained.
 * Under AddressSanitizer only the fast book runs the full 1 M; the
 * reference replays the first 200 k and must match the fast book there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/sha2.h>

#include "stampede/alloc.h"
#include "stampede/book.h"
#include "testalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define W1_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define W1_ASAN 1
#endif
#endif
#ifndef W1_ASAN
#define W1_ASAN 0
#endif

#define W1_N 1000000

static sp_book_w1_rec *w1;

static int setup(void **state)
{
    return sp_book_w1_generate(W1_N, 42, &w1) == SP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    sp_free(w1);
    return 0;
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_w1_sha256(void **state)
{
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    char h[2 * SHA256_DIGEST_SIZE + 1];
    sha256_init(&c);
    sha256_update(&c, (size_t)W1_N * sizeof(*w1), (const uint8_t *)w1);
    sha256_digest(&c, sizeof(d), d);
    hex(d, sizeof(d), h);
    assert_string_equal(h, "b601d977908cb7ee23ddacbd3da8a4e20c4bf2d208ea3b53f32df57789446d11");
    /* And the mix the spec implies: no record outside the three types. */
    uint64_t n[3] = {0, 0, 0};
    for (size_t i = 0; i < W1_N; i++) {
        assert_true(w1[i].type <= 2);
        n[w1[i].type]++;
    }
    assert_int_equal(n[0] + n[1] + n[2], W1_N);
}

static void collect(void *ctx, const sp_book_order_info *o)
{
    uint64_t **w = ctx;
    *(*w)++ = o->id;
}

/* Cancel every resting order through the API and check the book is empty. */
static void drain(sp_book *b)
{
    size_t n = sp_book_count(b);
    uint64_t *ids = calloc(n + 1, sizeof(*ids)), *w = ids;
    assert_non_null(ids);
    sp_book_walk(b, SP_BUY, collect, &w);
    sp_book_walk(b, SP_SELL, collect, &w);
    assert_int_equal((size_t)(w - ids), n);
    for (uint64_t *i = ids; i < w; i++) {
        sp_book_result r;
        sp_book_cancel(b, *i, &r);
        assert_int_equal(r.status, SP_BOOK_CANCELLED);
    }
    free(ids);
    assert_int_equal(sp_book_count(b), 0);
    assert_int_equal(sp_book_check(b, NULL), SP_OK);
    assert_false(sp_book_best(b, SP_BUY, NULL, NULL));
    assert_false(sp_book_best(b, SP_SELL, NULL, NULL));
}

/* Replay the first n records on a book of kind, checking every 4096 ops. */
static sp_book *replay(sp_book_kind kind, size_t n, sp_book_w1_stats *st)
{
    sp_book_config cfg = sp_book_config_default();
    cfg.max_orders = 1 << 16;
    cfg.window_ticks = 1 << 16;
    sp_book *b = NULL;
    assert_int_equal(sp_book_new(kind, &cfg, NULL, &b), SP_OK);
    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i < n; i++) {
        sp_book_w1_step(b, &w1[i], st);
        if ((i & 4095) == 0) {
            sp_diag d;
            memset(&d, 0, sizeof(d));
            if (sp_book_check(b, &d) != SP_OK)
                fail_msg("op %zu: %s", i, d.msg);
        }
    }
    assert_int_equal(sp_book_check(b, NULL), SP_OK);
    return b;
}

static void check_oracle(const sp_book_w1_stats *st, size_t resting)
{
    assert_int_equal(st->limits + st->markets + st->cancels, W1_N);
    assert_int_equal(st->fills, 220769);
    assert_int_equal(st->filled_lots, 5628861);
    assert_int_equal(st->cancels_ok, 322473);
    assert_int_equal(st->cancels_rejected, 117362);
    assert_int_equal(st->other_rejects, 0);
    assert_int_equal(resting, 14689);
}

static void test_w1_oracle(void **state)
{
    sp_book_w1_stats sf, sr;
    sp_book *f = replay(SP_BOOK_FAST, W1_N, &sf);
    check_oracle(&sf, sp_book_count(f));
    size_t nref = W1_ASAN ? 200000 : W1_N;
    sp_book *r = replay(SP_BOOK_REF, nref, &sr);
    if (nref == W1_N) {
        check_oracle(&sr, sp_book_count(r));
        assert_true(sp_book_state_hash(f) == sp_book_state_hash(r));
    } else {
        sp_book_w1_stats s2;
        sp_book *f2 = replay(SP_BOOK_FAST, nref, &s2);
        assert_memory_equal(&s2, &sr, sizeof(sr));
        assert_true(sp_book_state_hash(f2) == sp_book_state_hash(r));
        drain(f2);
        sp_book_free(f2);
    }
    drain(f);
    drain(r);
    sp_book_free(f);
    sp_book_free(r);
}

static sp_err gen_step(void *ctx)
{
    sp_book_w1_rec *w = NULL;
    sp_err rc = sp_book_w1_generate(50000, 42, &w);
    if (rc == SP_OK) {
        /* The prefix of a longer run is the same stream (the generator has no lookahead). */
        assert_memory_equal(w, w1, 50000 * sizeof(*w));
        sp_free(w);
    }
    return rc;
}

static void test_w1_generate_errors(void **state)
{
    sp_book_w1_rec *w = NULL;
    sp_book_w1_stats st;
    assert_int_equal(sp_book_w1_generate(0, 42, &w), SP_EINVAL);
    assert_int_equal(sp_book_w1_generate(10, 42, NULL), SP_EINVAL);
    assert_null(w);
    assert_int_equal(sp_book_w1_run(NULL, w1, 1, &st), SP_EINVAL);
    assert_true(sp_test_enomem_loop(gen_step, NULL, 16) >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_w1_sha256),
        cmocka_unit_test(test_w1_oracle),
        cmocka_unit_test(test_w1_generate_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
