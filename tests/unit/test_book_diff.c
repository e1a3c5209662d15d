/*
 * test_book_diff.c -- differential test: book.c (SP_BOOK_FAST) against the
 * reference book_ref.c (SP_BOOK_REF) on random command streams.
 *
 * Every command kind goes in: limit GTC / IOC / FOK, post-only and
 * reduce-only, market IOC / FOK, cancels of live, filled and never-seen
 * ids, amends (down in place, up, re-priced, crossing), loaded depth
 * (set_level, including crossing updates and removals), invalid commands
 * (zero and negative quantities, bad prices, id 0, bad types) and the odd
 * clear.  The configuration is small so the pool limit (3004) and the
 * window limit (3005) are hit too.  After every command both books must
 * have emitted byte-identical event streams and results, both must pass
 * sp_book_check, and their state hashes must agree.  At the end each book
 * is drained through sp_book_cancel / sp_book_set_level and must be empty.
 * test_diff_no_sink runs two more streams on books without a sink, which
 * take other branches of book.c's hot paths (no event is built): results,
 * checks, level-2 views and state hashes must still agree.
 * test_diff_random_ids uses random 64-bit order ids, which collide in the
 * fast book's id index (sequential ids almost never do).  These three add
 * 300 k operations (30 k under AddressSanitizer).
 *
 * Size: SP_BOOK_DIFF_OPS (environment) operations per seed, default 200 k
 * per seed over 8 seeds plus 100 k on the smallest window (1.7 M in total) in
 * a normal build, and a tenth of it
 * under AddressSanitizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/book.h"
#include "stampede/rng.h"
#include "testalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define DIFF_SCALE 10
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DIFF_SCALE 10
#endif
#endif
#ifndef DIFF_SCALE
#define DIFF_SCALE 1
#endif

#define REC_CAP 8192

typedef struct rec {
    sp_book_ev ev[REC_CAP];
    size_t n;
    int overflow;
} rec;

static void rec_fn(void *ctx, const sp_book_ev *ev)
{
    rec *r = ctx;
    if (r->n < REC_CAP)
        r->ev[r->n++] = *ev;
    else
        r->overflow = 1;
}

typedef struct pair {
    sp_book *b[2];
    rec *r[2];
    uint64_t ops;
    uint64_t kinds[8];   /* events seen, by kind */
    uint64_t reasons[8]; /* rejects / cancels by reason band index (see tally) */
} pair;

/* Index of a reason code in pair.reasons (the codes the streams must reach). */
static int reason_slot(uint16_t r)
{
    switch (r) {
    case SP_BREASON_DUP_ID:
        return 0;
    case SP_BREASON_UNKNOWN_ID:
        return 1;
    case SP_BREASON_POST_ONLY:
        return 2;
    case SP_BREASON_FOK_UNFILLED:
        return 3;
    case SP_BREASON_IOC_REMAINDER:
        return 4;
    case SP_BREASON_BOOK_FULL:
        return 5;
    case SP_BREASON_PX_SPAN:
        return 6;
    default:
        return 7;
    }
}

static void compare(pair *p, const char *what, uint64_t op)
{
    sp_diag d[2];
    memset(d, 0, sizeof(d));
    for (int k = 0; k < 2; k++) {
        sp_err e = sp_book_check(p->b[k], &d[k]);
        if (e != SP_OK)
            fail_msg("op %llu (%s): check of book %d failed: %s", (unsigned long long)op, what, k,
                     d[k].msg);
        assert_int_equal(p->r[k]->overflow, 0);
    }
    if (p->r[0]->n != p->r[1]->n ||
        memcmp(p->r[0]->ev, p->r[1]->ev, p->r[0]->n * sizeof(sp_book_ev)) != 0) {
        size_t n = p->r[0]->n > p->r[1]->n ? p->r[0]->n : p->r[1]->n;
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < 2; k++) {
                if (i < p->r[k]->n) {
                    const sp_book_ev *e = &p->r[k]->ev[i];
                    print_message("  %s ev %zu: kind %u side %u reason %u id %llu maker %llu "
                                  "px %lld qty %lld leaves %lld\n",
                                  k ? "ref " : "fast", i, e->kind, e->side, e->reason,
                                  (unsigned long long)e->id, (unsigned long long)e->maker_id,
                                  (long long)e->px, (long long)e->qty, (long long)e->leaves);
                }
            }
        }
        fail_msg("op %llu (%s): event streams differ (%zu vs %zu events)", (unsigned long long)op,
                 what, p->r[0]->n, p->r[1]->n);
    }
    for (size_t i = 0; i < p->r[0]->n; i++) {
        const sp_book_ev *e = &p->r[0]->ev[i];
        p->kinds[e->kind & 7]++;
        if (e->reason)
            p->reasons[reason_slot(e->reason)]++;
    }
    assert_int_equal(sp_book_count(p->b[0]), sp_book_count(p->b[1]));
    /* The level-2 views, which read the books through a different path. */
    sp_book_level l0[6], l1[6];
    for (int sd = 0; sd < 2; sd++) {
        memset(l0, 0, sizeof(l0)); /* padding compares equal */
        memset(l1, 0, sizeof(l1));
        size_t n0 = sp_book_depth(p->b[0], (sp_side)sd, 6, l0);
        assert_int_equal(n0, sp_book_depth(p->b[1], (sp_side)sd, 6, l1));
        assert_memory_equal(l0, l1, n0 * sizeof(l0[0]));
        if (n0 > 0) { /* next() from a price between levels */
            int64_t px = l0[0].px + (sd == SP_BUY ? -1 : 1);
            bool h0 = sp_book_next_level(p->b[0], (sp_side)sd, px, &l0[0]);
            assert_int_equal(h0, sp_book_next_level(p->b[1], (sp_side)sd, px, &l1[0]));
            if (h0)
                assert_memory_equal(&l0[0], &l1[0], sizeof(l0[0]));
        }
        sp_book_sweep_out s0, s1;
        assert_int_equal(sp_book_sweep(p->b[0], (sp_side)sd, 75, SP_RND_HALF_EVEN, &s0), SP_OK);
        assert_int_equal(sp_book_sweep(p->b[1], (sp_side)sd, 75, SP_RND_HALF_EVEN, &s1), SP_OK);
        assert_memory_equal(&s0, &s1, sizeof(s0));
    }
    int64_t q0 = -1, q1 = -2;
    sp_err e0 = sp_book_depth_within(p->b[0], SP_BUY, 50, &q0, NULL);
    assert_int_equal(e0, sp_book_depth_within(p->b[1], SP_BUY, 50, &q1, NULL));
    if (e0 == SP_OK)
        assert_int_equal(q0, q1);
    if (sp_book_state_hash(p->b[0]) != sp_book_state_hash(p->b[1]))
        fail_msg("op %llu (%s): state hashes differ", (unsigned long long)op, what);
    p->r[0]->n = p->r[1]->n = 0;
}

/* Set by test_diff_no_sink: books get no sink, outcomes are tallied from the results. */
static bool g_no_sink;
/* Set by test_diff_random_ids: order ids are random 64-bit values instead of 1, 2, 3, ... */
static bool g_random_ids;

/* What a result says, tallied like the events it stands for (no-sink runs). */
static void tally_res(pair *p, const sp_book_result *r)
{
    if (r->fills > 0)
        p->kinds[SP_BOOK_EV_FILL]++;
    if (r->status == SP_BOOK_REJECTED)
        p->kinds[SP_BOOK_EV_REJECT]++;
    else if (r->status == SP_BOOK_CANCELLED)
        p->kinds[SP_BOOK_EV_CANCEL]++;
    else if (r->status == SP_BOOK_RESTING)
        p->kinds[SP_BOOK_EV_REST]++;
    else if (r->status == SP_BOOK_AMENDED)
        p->kinds[SP_BOOK_EV_AMEND]++;
    if ((r->status == SP_BOOK_REJECTED || r->status == SP_BOOK_CANCELLED) && r->reason)
        p->reasons[reason_slot(r->reason)]++;
}

static void compare_res(const sp_book_result *a, const sp_book_result *b, uint64_t op)
{
    if (a->status != b->status || a->reason != b->reason || a->fills != b->fills ||
        a->filled != b->filled || a->leaves != b->leaves)
        fail_msg("op %llu: results differ: status %u/%u reason %u/%u fills %u/%u filled "
                 "%lld/%lld leaves %lld/%lld",
                 (unsigned long long)op, a->status, b->status, a->reason, b->reason, a->fills,
                 b->fills, (long long)a->filled, (long long)b->filled, (long long)a->leaves,
                 (long long)b->leaves);
}

static void collect_ids(void *ctx, const sp_book_order_info *o)
{
    uint64_t **w = ctx;
    if (o->id != 0)
        *(*w)++ = o->id;
}

typedef struct lvl_list {
    int64_t px[4096];
    size_t n;
} lvl_list;

static void collect_depth(void *ctx, const sp_book_order_info *o)
{
    lvl_list *l = ctx;
    if (o->id == 0 && l->n < 4096)
        l->px[l->n++] = o->px;
}

/* Cancel every order and remove every depth level through the public API; both must end empty. */
static void drain(pair *p)
{
    static uint64_t ids[1 << 16];
    static lvl_list lv;
    for (int sd = 0; sd < 2; sd++) {
        uint64_t *w = ids;
        sp_book_walk(p->b[0], (sp_side)sd, collect_ids, &w);
        for (uint64_t *i = ids; i < w; i++) {
            sp_book_result r0, r1;
            sp_book_cancel(p->b[0], *i, &r0);
            sp_book_cancel(p->b[1], *i, &r1);
            assert_int_equal(r0.status, SP_BOOK_CANCELLED);
            compare_res(&r0, &r1, p->ops);
        }
        lv.n = 0;
        sp_book_walk(p->b[0], (sp_side)sd, collect_depth, &lv);
        for (size_t i = 0; i < lv.n; i++) {
            assert_int_equal(sp_book_set_level(p->b[0], (sp_side)sd, lv.px[i], 0), SP_OK);
            assert_int_equal(sp_book_set_level(p->b[1], (sp_side)sd, lv.px[i], 0), SP_OK);
        }
        compare(p, "drain", p->ops);
    }
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sp_book_count(p->b[k]), 0);
        assert_false(sp_book_best(p->b[k], SP_BUY, NULL, NULL));
        assert_false(sp_book_best(p->b[k], SP_SELL, NULL, NULL));
    }
}

static uint64_t env_ops(uint64_t dflt)
{
    const char *s = getenv("SP_BOOK_DIFF_OPS");
    if (s && *s) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (*end == '\0' && v > 0)
            return v;
    }
    return dflt / DIFF_SCALE;
}

/* One random stream of n ops from seed against a fresh pair of books. */
static void run_stream(uint64_t seed, uint64_t n, uint32_t max_orders, uint32_t window,
                       bool expect_full)
{
    sp_book_config cfg = sp_book_config_default();
    cfg.max_orders = max_orders;
    cfg.window_ticks = window;
    cfg.px_min_ticks = 100;
    cfg.px_max_ticks = 1000000;
    cfg.qty_max_lots = 1000;
    cfg.level_events = true;
    pair p;
    memset(&p, 0, sizeof(p));
    for (int k = 0; k < 2; k++) {
        p.r[k] = calloc(1, sizeof(rec));
        assert_non_null(p.r[k]);
        sp_book_sink sink = {rec_fn, p.r[k]};
        assert_int_equal(sp_book_new(k == 0 ? SP_BOOK_FAST : SP_BOOK_REF, &cfg,
                                     g_no_sink ? NULL : &sink, &p.b[k]),
                         SP_OK);
    }
    sp_rng g;
    sp_rng_seed(&g, seed);
    int64_t mid = 50000;
    uint64_t next_id = 1;
    uint64_t *issued = calloc(1 << 16, sizeof(uint64_t));
    assert_non_null(issued);
    size_t nissued = 0;
    for (uint64_t op = 0; op < n; op++) {
        p.ops = op;
        if (sp_rng_below(&g, 16) == 0)
            mid += (int64_t)sp_rng_below(&g, 21) - 10;
        if (mid < 2000 || mid > 900000)
            mid = 50000;
        uint64_t u = sp_rng_below(&g, 1000);
        sp_book_result r0, r1;
        memset(&r0, 0xAA, sizeof(r0));
        memset(&r1, 0xAA, sizeof(r1));
        const char *what;
        if (u < 450) { /* new order of any kind */
            sp_book_order o;
            memset(&o, 0, sizeof(o));
            o.id = next_id++;
            if (g_random_ids)
                o.id = sp_rng_next(&g) | 1;
            o.side = (uint8_t)sp_rng_below(&g, 2);
            o.qty = 1 + (int64_t)sp_rng_below(&g, 50);
            int64_t off = (int64_t)sp_rng_below(&g, 40) * (int64_t)sp_rng_below(&g, 16);
            if (sp_rng_below(&g, 100) < 15)
                off = -(int64_t)sp_rng_below(&g, 30); /* crossing */
            if (sp_rng_below(&g, 200) == 0)
                off = (int64_t)sp_rng_below(&g, 4 * window); /* far: window limit */
            o.px = o.side == SP_BUY ? mid - off : mid + 1 + off;
            uint64_t t = sp_rng_below(&g, 100);
            o.type = t < 12 ? SP_ORD_MARKET : SP_ORD_LIMIT;
            o.tif = t < 70 ? SP_TIF_GTC : (t < 85 ? SP_TIF_IOC : SP_TIF_FOK);
            if (o.type == SP_ORD_MARKET && t >= 8)
                o.tif = SP_TIF_FOK;
            if (o.type == SP_ORD_LIMIT && o.tif == SP_TIF_GTC && sp_rng_below(&g, 8) == 0)
                o.flags |= SP_ORDF_POST_ONLY;
            if (sp_rng_below(&g, 10) == 0)
                o.flags |= SP_ORDF_REDUCE_ONLY;
            if (sp_rng_below(&g, 100) == 0) { /* invalid in one way or another */
                switch (sp_rng_below(&g, 6)) {
                case 0:
                    o.qty = 0;
                    break;
                case 1:
                    o.qty = -5;
                    break;
                case 2:
                    o.px = -o.px;
                    o.type = SP_ORD_LIMIT;
                    break;
                case 3:
                    o.px = 50;
                    o.type = SP_ORD_LIMIT;
                    break;
                case 4:
                    o.id = 0;
                    break;
                default:
                    o.tif = 7;
                    break;
                }
            }
            if (sp_rng_below(&g, 50) == 0 && nissued > 0) /* duplicate of a maybe-live id */
                o.id = issued[sp_rng_below(&g, nissued)];
            /* A ring of recent ids: most cancels and amends then hit live orders. */
            if (nissued < 600)
                issued[nissued++] = o.id;
            else
                issued[(o.id + op) % 600] = o.id;
            sp_book_add(p.b[0], &o, &r0);
            sp_book_add(p.b[1], &o, &r1);
            what = "add";
        } else if (u < 750) { /* cancel */
            uint64_t id = nissued && sp_rng_below(&g, 10) ? issued[sp_rng_below(&g, nissued)]
                                                          : next_id + 1000;
            sp_book_cancel(p.b[0], id, &r0);
            sp_book_cancel(p.b[1], id, &r1);
            what = "cancel";
        } else if (u < 900) { /* amend */
            uint64_t id = nissued ? issued[sp_rng_below(&g, nissued)] : 1;
            sp_book_order_info info;
            bool live = sp_book_get(p.b[1], id, &info);
            int64_t qty = 1 + (int64_t)sp_rng_below(&g, 60);
            bool keep = sp_rng_below(&g, 2) == 0;
            int64_t px = live ? info.px + (int64_t)sp_rng_below(&g, 41) - 20 : mid;
            if (live && keep && sp_rng_below(&g, 2))
                qty = 1 + (int64_t)sp_rng_below(&g, (uint64_t)info.qty);
            if (sp_rng_below(&g, 100) == 0)
                qty = 0;
            sp_book_amend(p.b[0], id, keep, px, qty, &r0);
            sp_book_amend(p.b[1], id, keep, px, qty, &r1);
            what = "amend";
        } else if (u < 999) { /* loaded depth */
            sp_side side = (sp_side)sp_rng_below(&g, 2);
            int64_t off = (int64_t)sp_rng_below(&g, 30) - 3;
            int64_t px = side == SP_BUY ? mid - off : mid + 1 + off;
            int64_t qty = sp_rng_below(&g, 3) == 0 ? 0 : 1 + (int64_t)sp_rng_below(&g, 200);
            sp_err e0 = sp_book_set_level(p.b[0], side, px, qty);
            sp_err e1 = sp_book_set_level(p.b[1], side, px, qty);
            if (e0 != e1)
                fail_msg("op %llu: set_level %d vs %d", (unsigned long long)op, e0, e1);
            memset(&r0, 0, sizeof(r0));
            memset(&r1, 0, sizeof(r1));
            what = "set_level";
        } else {
            sp_book_clear(p.b[0]);
            sp_book_clear(p.b[1]);
            memset(&r0, 0, sizeof(r0));
            memset(&r1, 0, sizeof(r1));
            what = "clear";
        }
        compare_res(&r0, &r1, op);
        if (g_no_sink)
            tally_res(&p, &r0);
        compare(&p, what, op);
    }
    drain(&p);
    print_message("seed %llu: %llu ops, events fill %llu cancel %llu reject %llu rest %llu amend "
                  "%llu level %llu; reasons dup %llu unknown %llu post %llu fok %llu ioc %llu "
                  "full %llu span %llu other %llu\n",
                  (unsigned long long)seed, (unsigned long long)n,
                  (unsigned long long)p.kinds[SP_BOOK_EV_FILL],
                  (unsigned long long)p.kinds[SP_BOOK_EV_CANCEL],
                  (unsigned long long)p.kinds[SP_BOOK_EV_REJECT],
                  (unsigned long long)p.kinds[SP_BOOK_EV_REST],
                  (unsigned long long)p.kinds[SP_BOOK_EV_AMEND],
                  (unsigned long long)p.kinds[SP_BOOK_EV_LEVEL], (unsigned long long)p.reasons[0],
                  (unsigned long long)p.reasons[1], (unsigned long long)p.reasons[2],
                  (unsigned long long)p.reasons[3], (unsigned long long)p.reasons[4],
                  (unsigned long long)p.reasons[5], (unsigned long long)p.reasons[6],
                  (unsigned long long)p.reasons[7]);
    /* The stream must reach every outcome, or the comparison proves little. */
    for (int k = SP_BOOK_EV_FILL; k <= SP_BOOK_EV_LEVEL; k++)
        assert_true(p.kinds[k] > 0 || (g_no_sink && k == SP_BOOK_EV_LEVEL));
    for (int k = 0; k < 8; k++) {
        if (k == 5 && !expect_full)
            continue; /* a roomy pool need not fill up */
        assert_true(p.reasons[k] > 0);
    }
    for (int k = 0; k < 2; k++) {
        sp_book_free(p.b[k]);
        free(p.r[k]);
    }
    free(issued);
}

static void test_diff_streams(void **state)
{
    uint64_t n = env_ops(200000);
    static const uint64_t seeds[] = {1, 2, 3, 42, 2026, 77, 1234567, 0xDEADBEEF};
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        /* Alternate a tight pool (3004) with a roomy one. */
        run_stream(seeds[i], n, i % 2 ? 300 : 1000, i % 4 < 2 ? 1024 : 4096, i % 2 == 1);
    }
}

/* A stream on the smallest window, so that wrap-around of the circular level array is exercised. */
static void test_diff_small_window(void **state)
{
    run_stream(99, env_ops(100000), 200, 64, false);
}

/* Two more streams on books without a sink (half the ops of one stream each). */
static void test_diff_no_sink(void **state)
{
    g_no_sink = true;
    run_stream(5, env_ops(100000), 300, 1024, true);
    run_stream(6, env_ops(100000), 1000, 64, false);
    g_no_sink = false;
}

/*
 * Random ids collide in the id index far more often than sequential ones
 * (golden-ratio hashing spreads 1, 2, 3, ... almost perfectly), so probe
 * runs form and a taker's duplicate probe can end behind makers it then
 * fills: book.c must not reuse that probe's empty bucket after matching
 * removed ids (its HOLE_UNKNOWN case).  A dense pool (max_orders 500 in a
 * 1024-bucket index) makes such runs common.
 */
static void test_diff_random_ids(void **state)
{
    g_random_ids = true;
    run_stream(7, env_ops(100000), 500, 1024, true);
    g_random_ids = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_streams),
        cmocka_unit_test(test_diff_small_window),
        cmocka_unit_test(test_diff_no_sink),
        cmocka_unit_test(test_diff_random_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
