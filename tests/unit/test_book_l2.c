/*
 * test_book_l2.c -- level-2 views and the depth loader, on both book
 * implementations.
 *
 * Views: best bid / ask, top-N depth, depth within a band of basis points
 * around the exact mid (boundaries included, exactly), and the cost of a
 * sweep (lots filled, notional, volume-weighted price with explicit
 * rounding, price reached), on a hand-built book whose answers are worked
 * out in the comments.  Loader: snapshot + deltas through
 * sp_book_set_level and sp_book_apply_event (update, removal, crossing
 * deltas that drop stale depth, refusal when own orders would be crossed,
 * pool / price / window limits), the 1e-8 conversions with their
 * EPRECISION errors, and taking liquidity from loaded depth (maker id 0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/book.h"
#include "testalloc.h"

static sp_book *open_book(void **state, const sp_book_config *cfg)
{
    sp_book *b = NULL;
    assert_int_equal(sp_book_new(*(sp_book_kind *)*state, cfg, NULL, &b), SP_OK);
    return b;
}

static void check(const sp_book *b)
{
    sp_diag d;
    memset(&d, 0, sizeof(d));
    if (sp_book_check(b, &d) != SP_OK)
        fail_msg("check: %s", d.msg);
}

static void set(sp_book *b, sp_side side, int64_t px, int64_t qty)
{
    assert_int_equal(sp_book_set_level(b, side, px, qty), SP_OK);
    check(b);
}

/* Remove all depth and cancel all orders, then the book must be empty; frees it. */
static void drain_free(sp_book *b)
{
    for (int sd = 0; sd < 2; sd++) {
        int64_t px;
        sp_book_level l[1];
        while (sp_book_best(b, (sp_side)sd, &px, NULL)) {
            /* Cancel own orders at the level first (ids 1..99 in these tests). */
            for (uint64_t id = 1; id < 100; id++) {
                sp_book_order_info o;
                if (sp_book_get(b, id, &o) && o.px == px)
                    sp_book_cancel(b, id, NULL);
            }
            if (sp_book_depth(b, (sp_side)sd, 1, l) == 1 && l[0].px == px)
                assert_int_equal(sp_book_set_level(b, (sp_side)sd, px, 0), SP_OK);
            check(b);
        }
    }
    assert_int_equal(sp_book_count(b), 0);
    sp_book_free(b);
}

/*
 * Book used by the view tests:
 *   asks 105 x 4, 103 x 2, 101 x 3      bids 99 x 5, 98 x 1, 90 x 10
 * mid = (99 + 101) / 2 = 100.
 */
static sp_book *sample(void **state)
{
    sp_book *b = open_book(state, NULL);
    set(b, SP_SELL, 105, 4);
    set(b, SP_SELL, 101, 3);
    set(b, SP_SELL, 103, 2);
    set(b, SP_BUY, 98, 1);
    set(b, SP_BUY, 90, 10);
    set(b, SP_BUY, 99, 5);
    return b;
}

static void test_best_and_depth(void **state)
{
    sp_book *b = sample(state);
    int64_t px, qty;
    assert_true(sp_book_best(b, SP_BUY, &px, &qty));
    assert_int_equal(px, 99);
    assert_int_equal(qty, 5);
    assert_true(sp_book_best(b, SP_SELL, &px, NULL));
    assert_int_equal(px, 101);
    sp_book_level l[8];
    assert_int_equal(sp_book_depth(b, SP_SELL, 2, l), 2);
    assert_int_equal(l[0].px, 101);
    assert_int_equal(l[1].px, 103);
    assert_int_equal(sp_book_depth(b, SP_BUY, 8, l), 3);
    assert_int_equal(l[2].px, 90);
    assert_int_equal(l[2].qty, 10);
    assert_int_equal(l[2].n, 1);
    assert_int_equal(sp_book_depth(b, SP_BUY, 0, l), 0);
    drain_free(b);
}

static void test_depth_within(void **state)
{
    sp_book *b = sample(state);
    int64_t q, nt;
    /* 200 bp of 100 = 2: bids >= 98 (99, 98), asks <= 102 (101). Boundary 98 included. */
    assert_int_equal(sp_book_depth_within(b, SP_BUY, 200, &q, &nt), SP_OK);
    assert_int_equal(q, 6);
    assert_int_equal(nt, 99 * 5 + 98 * 1);
    assert_int_equal(sp_book_depth_within(b, SP_SELL, 200, &q, &nt), SP_OK);
    assert_int_equal(q, 3);
    assert_int_equal(nt, 303);
    /* 300 bp: asks <= 103 included exactly. */
    assert_int_equal(sp_book_depth_within(b, SP_SELL, 300, &q, NULL), SP_OK);
    assert_int_equal(q, 5);
    /* 0 bp: nothing (no level at the mid). 10000 bp: everything. */
    assert_int_equal(sp_book_depth_within(b, SP_BUY, 0, &q, NULL), SP_OK);
    assert_int_equal(q, 0);
    assert_int_equal(sp_book_depth_within(b, SP_BUY, 10000, &q, NULL), SP_OK);
    assert_int_equal(q, 16);
    assert_int_equal(sp_book_depth_within(b, SP_BUY, 10001, &q, NULL), SP_EINVAL);
    /* Without 101: bid 99, ask 103, mid 101; 150 bp -> asks <= 102.515: none. */
    set(b, SP_SELL, 101, 0);
    assert_int_equal(sp_book_depth_within(b, SP_SELL, 100, &q, NULL), SP_OK);
    assert_int_equal(q, 0);
    assert_int_equal(sp_book_depth_within(b, SP_SELL, 150, &q, NULL), SP_OK);
    assert_int_equal(q, 0);
    /* Half-tick mid: ask 102 -> mid 100.5; 150 bp -> asks <= 102.0075 includes 102. */
    set(b, SP_SELL, 102, 7);
    assert_int_equal(sp_book_depth_within(b, SP_SELL, 150, &q, NULL), SP_OK);
    assert_int_equal(q, 7);
    drain_free(b);
    /* One-sided book: no mid. */
    b = open_book(state, NULL);
    set(b, SP_BUY, 10, 1);
    assert_int_equal(sp_book_depth_within(b, SP_BUY, 100, &q, NULL), SP_ESTATE);
    drain_free(b);
}

static void test_sweep(void **state)
{
    sp_book *b = sample(state);
    sp_book_sweep_out s;
    /* Buy 6: 3 @ 101 + 2 @ 103 + 1 @ 105 = 614; 614 / 6 = 102.33 -> 102. */
    assert_int_equal(sp_book_sweep(b, SP_BUY, 6, SP_RND_HALF_EVEN, &s), SP_OK);
    assert_int_equal(s.filled, 6);
    assert_int_equal(s.notional, 614);
    assert_int_equal(s.last_px, 105);
    assert_int_equal(s.vwap_px, 102);
    assert_int_equal(s.levels, 3);
    /* Sell 7: 5 @ 99 + 1 @ 98 + 1 @ 90 = 683; 683 / 7 = 97.57: down 97, up 98. */
    assert_int_equal(sp_book_sweep(b, SP_SELL, 7, SP_RND_DOWN, &s), SP_OK);
    assert_int_equal(s.notional, 683);
    assert_int_equal(s.vwap_px, 97);
    assert_int_equal(s.last_px, 90);
    assert_int_equal(sp_book_sweep(b, SP_SELL, 7, SP_RND_UP, &s), SP_OK);
    assert_int_equal(s.vwap_px, 98);
    /* More than the side holds: filled is what exists. */
    assert_int_equal(sp_book_sweep(b, SP_BUY, 100, SP_RND_DOWN, &s), SP_OK);
    assert_int_equal(s.filled, 9);
    assert_int_equal(s.last_px, 105);
    assert_int_equal(sp_book_sweep(b, SP_BUY, 0, SP_RND_DOWN, &s), SP_EINVAL);
    /* The sweep is a view: the book is unchanged, and a real market order agrees. */
    uint64_t h = sp_book_state_hash(b);
    assert_int_equal(sp_book_sweep(b, SP_BUY, 6, SP_RND_DOWN, &s), SP_OK);
    assert_true(sp_book_state_hash(b) == h);
    sp_book_order m = {1, 0, 6, SP_BUY, SP_ORD_MARKET, SP_TIF_IOC, 0};
    sp_book_result r;
    sp_book_add(b, &m, &r);
    assert_int_equal(r.filled, 6);
    assert_int_equal(r.fills, 3);
    int64_t px, qty;
    assert_true(sp_book_best(b, SP_SELL, &px, &qty));
    assert_int_equal(px, 105);
    assert_int_equal(qty, 3);
    check(b);
    drain_free(b);
}

static void test_loader(void **state)
{
    sp_book_config cfg = sp_book_config_default();
    cfg.max_orders = 6;
    cfg.window_ticks = 1024;
    cfg.px_max_ticks = 100000;
    sp_book *b = open_book(state, &cfg);
    set(b, SP_BUY, 1000, 5);
    set(b, SP_SELL, 1002, 5);
    set(b, SP_SELL, 1003, 5);
    /* Update and remove; removing an absent level is a no-op. */
    set(b, SP_BUY, 1000, 7);
    set(b, SP_BUY, 999, 0);
    int64_t px, qty;
    assert_true(sp_book_best(b, SP_BUY, &px, &qty));
    assert_int_equal(qty, 7);
    /* An own order beside loaded depth: depth keeps its place ahead of it. */
    sp_book_order o = {1, 1000, 2, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0};
    sp_book_result r;
    sp_book_add(b, &o, &r);
    assert_int_equal(r.status, SP_BOOK_RESTING);
    set(b, SP_BUY, 1000, 8);
    assert_true(sp_book_best(b, SP_BUY, &px, &qty));
    assert_int_equal(qty, 10);
    sp_book_order m = {2, 0, 9, SP_SELL, SP_ORD_MARKET, SP_TIF_IOC, 0};
    sp_book_add(b, &m, &r);
    assert_int_equal(r.fills, 2);
    sp_book_order_info oi;
    assert_true(sp_book_get(b, 1, &oi));
    assert_int_equal(oi.qty, 1);
    check(b);
    /* A bid delta at 1002 crosses the stale ask depth at 1002: that depth goes. */
    set(b, SP_BUY, 1002, 4);
    assert_true(sp_book_best(b, SP_SELL, &px, NULL));
    assert_int_equal(px, 1003);
    /* An ask at 1000 would cross own order 1 at 1000 (and depth at 1002): refused. */
    uint64_t h = sp_book_state_hash(b);
    assert_int_equal(sp_book_set_level(b, SP_SELL, 1000, 1), SP_ESTATE);
    assert_true(sp_book_state_hash(b) == h);
    /* Limits. */
    assert_int_equal(sp_book_set_level(b, SP_SELL, 1002 + 1024, 1), SP_ERANGE); /* window */
    assert_int_equal(sp_book_set_level(b, SP_SELL, 100001, 1), SP_ERANGE);      /* price */
    assert_int_equal(sp_book_set_level(b, SP_SELL, 0, 1), SP_ERANGE);
    assert_int_equal(sp_book_set_level(b, SP_SELL, 1010, -1), SP_EINVAL);
    assert_int_equal(sp_book_set_level(b, (sp_side)2, 1010, 1), SP_EINVAL);
    assert_int_equal(sp_book_set_level(NULL, SP_SELL, 1010, 1), SP_EINVAL);
    set(b, SP_SELL, 1009, 1);
    set(b, SP_SELL, 1010, 1);
    set(b, SP_SELL, 1011, 1);
    assert_int_equal(sp_book_count(b), 6);
    assert_int_equal(sp_book_set_level(b, SP_SELL, 1012, 1), SP_ETOOBIG); /* pool of 6 */
    set(b, SP_SELL, 1011, 3);                                             /* update is fine */
    check(b);
    drain_free(b);
}

static void test_apply_event_and_conversions(void **state)
{
    /* BTCUSDT-like: tick 0.1 USDT, lot 0.001 BTC. */
    const sp_book_instrument in = {10000000, 100000};
    int64_t v;
    assert_int_equal(sp_book_px_from_e8(&in, 6000010000000, &v), SP_OK);
    assert_int_equal(v, 600001);
    assert_int_equal(sp_book_px_from_e8(&in, 6000010000001, &v), SP_EPRECISION);
    assert_int_equal(sp_book_qty_from_e8(&in, 150000000, &v), SP_OK);
    assert_int_equal(v, 1500);
    assert_int_equal(sp_book_qty_from_e8(&in, 150000001, &v), SP_EPRECISION);
    assert_int_equal(sp_book_px_to_e8(&in, 600001, &v), SP_OK);
    assert_int_equal(v, 6000010000000);
    assert_int_equal(sp_book_qty_to_e8(&in, INT64_MAX / 1000, &v), SP_EOVERFLOW);
    const sp_book_instrument bad = {0, 1};
    assert_int_equal(sp_book_px_from_e8(&bad, 1, &v), SP_EINVAL);

    sp_book *b = open_book(state, NULL);
    sp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = SP_EV_BOOK_LEVEL;
    ev.px = 6000010000000;
    ev.qty = 250000000; /* 2.5 BTC */
    sp_diag d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(sp_book_apply_event(b, &in, &ev, &d), SP_OK);
    ev.kind = SP_EV_DEPTH_UPDATE;
    ev.flags = SP_EVF_SELL;
    ev.px = 6000020000000;
    ev.qty = 100000;
    assert_int_equal(sp_book_apply_event(b, &in, &ev, &d), SP_OK);
    int64_t px, qty;
    assert_true(sp_book_best(b, SP_BUY, &px, &qty));
    assert_int_equal(px, 600001);
    assert_int_equal(qty, 2500);
    assert_true(sp_book_best(b, SP_SELL, &px, &qty));
    assert_int_equal(px, 600002);
    assert_int_equal(qty, 1);
    /* Off-tick price, off-lot quantity, wrong kind: errors that say where. */
    ev.px = 6000025000000;
    assert_int_equal(sp_book_apply_event(b, &in, &ev, &d), SP_EPRECISION);
    assert_string_equal(d.field, "px");
    ev.px = 6000020000000;
    ev.qty = 1;
    assert_int_equal(sp_book_apply_event(b, &in, &ev, &d), SP_EPRECISION);
    assert_string_equal(d.field, "qty");
    ev.kind = SP_EV_TRADE;
    assert_int_equal(sp_book_apply_event(b, &in, &ev, &d), SP_EUNKNOWN_KIND);
    assert_non_null(strstr(d.msg, "trade"));
    /* A delta with quantity 0 removes the level. */
    ev.kind = SP_EV_DEPTH_UPDATE;
    ev.qty = 0;
    assert_int_equal(sp_book_apply_event(b, &in, &ev, NULL), SP_OK);
    assert_false(sp_book_best(b, SP_SELL, NULL, NULL));
    check(b);
    drain_free(b);
}

static void test_clear(void **state)
{
    sp_book *b = sample(state);
    sp_book_order o = {5, 50, 1, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0};
    sp_book_add(b, &o, NULL);
    sp_book_clear(b);
    check(b);
    assert_int_equal(sp_book_count(b), 0);
    sp_book_order_info oi;
    assert_false(sp_book_get(b, 5, &oi));
    /* Usable again, ids free again. */
    sp_book_add(b, &o, NULL);
    assert_int_equal(sp_book_count(b), 1);
    check(b);
    drain_free(b);
}

static sp_book_kind kinds[2] = {SP_BOOK_FAST, SP_BOOK_REF};

#define BOTH(fn) cmocka_unit_test_prestate(fn, &kinds[0]), cmocka_unit_test_prestate(fn, &kinds[1])

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_best_and_depth),
        BOTH(test_depth_within),
        BOTH(test_sweep),
        BOTH(test_loader),
        BOTH(test_apply_event_and_conversions),
        BOTH(test_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
