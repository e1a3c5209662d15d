/*
 * test_book.c -- matching and command behaviour of the order book, run on
 * both implementations (every test is registered once per sp_book_kind).
 *
 * Price-time priority and fills at the maker's price, one FILL per
 * maker/taker pair, the four time-in-force / flag outcomes (GTC rests, IOC
 * and market remainders cancelled, FOK all-or-nothing, post-only rejected
 * when it would take), amend (down keeps priority, up or re-price loses
 * it), the pool and window limits, and every reject code for bad commands.
 * Each test checks the exact event stream where it matters, runs
 * sp_book_check after every command and drains the book to empty at the end.
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

#define CAP 256

typedef struct ctx {
    sp_book *b;
    sp_book_ev ev[CAP];
    size_t n;
} ctx;

static void rec_fn(void *c, const sp_book_ev *ev)
{
    ctx *t = c;
    assert_true(t->n < CAP);
    t->ev[t->n++] = *ev;
}

static ctx *open_book(void **state, const sp_book_config *cfg)
{
    static ctx t;
    memset(&t, 0, sizeof(t));
    sp_book_sink sink = {rec_fn, &t};
    assert_int_equal(sp_book_new(*(sp_book_kind *)*state, cfg, &sink, &t.b), SP_OK);
    return &t;
}

static void check(ctx *t)
{
    sp_diag d;
    memset(&d, 0, sizeof(d));
    if (sp_book_check(t->b, &d) != SP_OK)
        fail_msg("check: %s", d.msg);
}

/* Add an order; returns the result; events stay recorded (t->n reset first). */
static sp_book_result add(ctx *t, uint64_t id, sp_side side, uint8_t type, uint8_t tif,
                          uint8_t flags, int64_t px, int64_t qty)
{
    sp_book_order o = {id, px, qty, (uint8_t)side, type, tif, flags};
    sp_book_result r;
    t->n = 0;
    assert_int_equal(sp_book_add(t->b, &o, &r), SP_OK);
    check(t);
    return r;
}

static sp_book_result lim(ctx *t, uint64_t id, sp_side side, int64_t px, int64_t qty)
{
    return add(t, id, side, SP_ORD_LIMIT, SP_TIF_GTC, 0, px, qty);
}

static void expect_ev(const ctx *t, size_t i, uint8_t kind, uint64_t id, uint64_t maker, int64_t px,
                      int64_t qty, uint16_t reason)
{
    assert_true(i < t->n);
    const sp_book_ev *e = &t->ev[i];
    assert_int_equal(e->kind, kind);
    assert_int_equal(e->id, id);
    assert_int_equal(e->maker_id, maker);
    assert_int_equal(e->px, px);
    assert_int_equal(e->qty, qty);
    assert_int_equal(e->reason, reason);
}

static void collect(void *c, const sp_book_order_info *o)
{
    uint64_t **w = c;
    *(*w)++ = o->id;
}

/* Cancel everything (orders by id, depth by level) and assert the book is empty; frees it. */
static void drain_free(ctx *t)
{
    uint64_t ids[4096], *w;
    for (int sd = 0; sd < 2; sd++) {
        w = ids;
        sp_book_walk(t->b, (sp_side)sd, collect, &w);
        for (uint64_t *i = ids; i < w; i++) {
            sp_book_result r;
            if (*i == 0)
                continue;
            sp_book_cancel(t->b, *i, &r);
            assert_int_equal(r.status, SP_BOOK_CANCELLED);
            check(t);
        }
        sp_book_level l;
        while (sp_book_best(t->b, (sp_side)sd, &l.px, NULL))
            assert_int_equal(sp_book_set_level(t->b, (sp_side)sd, l.px, 0), SP_OK);
    }
    assert_int_equal(sp_book_count(t->b), 0);
    check(t);
    sp_book_free(t->b);
}

static void test_price_time_priority(void **state)
{
    ctx *t = open_book(state, NULL);
    lim(t, 1, SP_SELL, 100, 5);
    lim(t, 2, SP_SELL, 100, 5);
    lim(t, 3, SP_SELL, 100, 5);
    lim(t, 4, SP_SELL, 99, 5);
    sp_book_result r = add(t, 10, SP_BUY, SP_ORD_MARKET, SP_TIF_IOC, 0, 0, 12);
    assert_int_equal(r.status, SP_BOOK_FILLED);
    assert_int_equal(r.fills, 3);
    assert_int_equal(r.filled, 12);
    assert_int_equal(t->n, 3);
    expect_ev(t, 0, SP_BOOK_EV_FILL, 10, 4, 99, 5, 0);  /* better price first */
    expect_ev(t, 1, SP_BOOK_EV_FILL, 10, 1, 100, 5, 0); /* then time */
    expect_ev(t, 2, SP_BOOK_EV_FILL, 10, 2, 100, 2, 0);
    assert_int_equal(t->ev[2].leaves, 0);
    sp_book_order_info o;
    assert_true(sp_book_get(t->b, 2, &o));
    assert_int_equal(o.qty, 3);
    assert_false(sp_book_get(t->b, 1, &o));
    /* A limit buy at 101 takes the rest at the makers' price 100 and rests its remainder. */
    r = lim(t, 11, SP_BUY, 101, 10);
    assert_int_equal(r.status, SP_BOOK_RESTING);
    assert_int_equal(r.filled, 8);
    assert_int_equal(r.leaves, 2);
    expect_ev(t, 0, SP_BOOK_EV_FILL, 11, 2, 100, 3, 0);
    expect_ev(t, 1, SP_BOOK_EV_FILL, 11, 3, 100, 5, 0);
    expect_ev(t, 2, SP_BOOK_EV_REST, 11, 0, 101, 2, 0);
    int64_t px, qty;
    assert_true(sp_book_best(t->b, SP_BUY, &px, &qty));
    assert_int_equal(px, 101);
    assert_int_equal(qty, 2);
    assert_false(sp_book_best(t->b, SP_SELL, NULL, NULL));
    drain_free(t);
}

static void test_time_in_force(void **state)
{
    ctx *t = open_book(state, NULL);
    lim(t, 1, SP_SELL, 100, 5);
    lim(t, 2, SP_SELL, 102, 5);
    uint64_t h = sp_book_state_hash(t->b);
    /* FOK that the crossing depth cannot fill: rejected, nothing changes. */
    sp_book_result r = add(t, 3, SP_BUY, SP_ORD_LIMIT, SP_TIF_FOK, 0, 101, 6);
    assert_int_equal(r.status, SP_BOOK_REJECTED);
    assert_int_equal(r.reason, SP_BREASON_FOK_UNFILLED);
    expect_ev(t, 0, SP_BOOK_EV_REJECT, 3, 0, 101, 6, SP_BREASON_FOK_UNFILLED);
    assert_true(sp_book_state_hash(t->b) == h);
    /* Market FOK beyond the book: rejected too. */
    r = add(t, 4, SP_BUY, SP_ORD_MARKET, SP_TIF_FOK, 0, 0, 11);
    assert_int_equal(r.reason, SP_BREASON_FOK_UNFILLED);
    /* IOC: fills what crosses, cancels the rest. */
    r = add(t, 5, SP_BUY, SP_ORD_LIMIT, SP_TIF_IOC, 0, 101, 7);
    assert_int_equal(r.status, SP_BOOK_CANCELLED);
    assert_int_equal(r.reason, SP_BREASON_IOC_REMAINDER);
    assert_int_equal(r.filled, 5);
    expect_ev(t, 1, SP_BOOK_EV_CANCEL, 5, 0, 101, 2, SP_BREASON_IOC_REMAINDER);
    /* FOK that can fill: filled across levels. */
    lim(t, 6, SP_SELL, 103, 5);
    r = add(t, 7, SP_BUY, SP_ORD_LIMIT, SP_TIF_FOK, 0, 103, 8);
    assert_int_equal(r.status, SP_BOOK_FILLED);
    assert_int_equal(r.fills, 2);
    /* Post-only: rejected when it would take, rests when it would not. */
    r = add(t, 8, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, SP_ORDF_POST_ONLY, 103, 1);
    assert_int_equal(r.reason, SP_BREASON_POST_ONLY);
    r = add(t, 9, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, SP_ORDF_POST_ONLY | SP_ORDF_REDUCE_ONLY, 102,
            1);
    assert_int_equal(r.status, SP_BOOK_RESTING);
    sp_book_order_info o;
    assert_true(sp_book_get(t->b, 9, &o));
    assert_int_equal(o.flags, SP_ORDF_POST_ONLY | SP_ORDF_REDUCE_ONLY);
    /* Market into an empty side: the whole quantity is cancelled. */
    r = add(t, 10, SP_SELL, SP_ORD_MARKET, SP_TIF_GTC, 0, 0, 3);
    assert_int_equal(r.status, SP_BOOK_CANCELLED);
    assert_int_equal(r.filled, 1);
    expect_ev(t, 1, SP_BOOK_EV_CANCEL, 10, 0, 0, 2, SP_BREASON_IOC_REMAINDER);
    drain_free(t);
}

static void test_amend(void **state)
{
    ctx *t = open_book(state, NULL);
    lim(t, 1, SP_BUY, 100, 10);
    lim(t, 2, SP_BUY, 100, 10);
    sp_book_result r;
    /* Down in place: keeps priority. */
    t->n = 0;
    sp_book_amend(t->b, 1, true, 0, 4, &r);
    assert_int_equal(r.status, SP_BOOK_AMENDED);
    assert_int_equal(r.leaves, 4);
    expect_ev(t, 0, SP_BOOK_EV_AMEND, 1, 0, 100, 4, 0);
    add(t, 3, SP_SELL, SP_ORD_MARKET, SP_TIF_IOC, 0, 0, 1);
    expect_ev(t, 0, SP_BOOK_EV_FILL, 3, 1, 100, 1, 0);
    /* Up: loses priority (behind order 2). */
    sp_book_amend(t->b, 1, true, 0, 20, &r);
    assert_int_equal(r.status, SP_BOOK_RESTING);
    add(t, 4, SP_SELL, SP_ORD_MARKET, SP_TIF_IOC, 0, 0, 1);
    expect_ev(t, 0, SP_BOOK_EV_FILL, 4, 2, 100, 1, 0);
    /* Re-price across the book: takes liquidity at the maker's price. */
    lim(t, 5, SP_SELL, 103, 5);
    t->n = 0;
    sp_book_amend(t->b, 2, false, 104, 9, &r);
    assert_int_equal(r.status, SP_BOOK_RESTING);
    assert_int_equal(r.filled, 5);
    assert_int_equal(r.leaves, 4);
    expect_ev(t, 0, SP_BOOK_EV_AMEND, 2, 0, 104, 9, 0);
    expect_ev(t, 1, SP_BOOK_EV_FILL, 2, 5, 103, 5, 0);
    expect_ev(t, 2, SP_BOOK_EV_REST, 2, 0, 104, 4, 0);
    /* A post-only order amended into the book is rejected and left as it was. */
    lim(t, 6, SP_SELL, 105, 5);
    add(t, 7, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, SP_ORDF_POST_ONLY, 101, 3);
    uint64_t h = sp_book_state_hash(t->b);
    sp_book_amend(t->b, 7, false, 105, 3, &r);
    assert_int_equal(r.reason, SP_BREASON_POST_ONLY);
    assert_true(sp_book_state_hash(t->b) == h);
    /* Unknown id and bad values. */
    sp_book_amend(t->b, 999, true, 0, 3, &r);
    assert_int_equal(r.reason, SP_BREASON_UNKNOWN_ID);
    sp_book_amend(t->b, 7, true, 0, 0, &r);
    assert_int_equal(r.reason, SP_BREASON_BAD_QTY);
    sp_book_amend(t->b, 7, false, -1, 3, &r);
    assert_int_equal(r.reason, SP_BREASON_BAD_PRICE);
    assert_true(sp_book_state_hash(t->b) == h);
    check(t);
    drain_free(t);
}

static void test_bad_commands(void **state)
{
    sp_book_config cfg = sp_book_config_default();
    cfg.px_min_ticks = 10;
    cfg.px_max_ticks = 1000;
    cfg.qty_max_lots = 500;
    ctx *t = open_book(state, &cfg);
    lim(t, 1, SP_BUY, 100, 5);
    uint64_t h = sp_book_state_hash(t->b);
    static const struct {
        sp_book_order o;
        uint16_t reason;
    } cases[] = {
        {{2, 100, 0, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_BAD_QTY},
        {{2, 100, -3, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_BAD_QTY},
        {{2, 100, 501, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_BAD_QTY},
        {{2, 0, 5, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_BAD_PRICE},
        {{2, -100, 5, SP_SELL, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_BAD_PRICE},
        {{2, 9, 5, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_PX_LIMIT},
        {{2, 1001, 5, SP_SELL, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_PX_LIMIT},
        {{1, 90, 5, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_DUP_ID},
        {{2, 100, 5, 2, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_BAD_TYPE},
        {{2, 100, 5, SP_BUY, 9, SP_TIF_GTC, 0}, SP_BREASON_BAD_TYPE},
        {{2, 100, 5, SP_BUY, SP_ORD_LIMIT, 3, 0}, SP_BREASON_BAD_TYPE},
        {{2, 100, 5, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0x80}, SP_BREASON_BAD_TYPE},
        {{2, 0, 5, SP_BUY, SP_ORD_MARKET, SP_TIF_IOC, SP_ORDF_POST_ONLY}, SP_BREASON_BAD_TYPE},
        {{2, 100, 5, SP_BUY, SP_ORD_LIMIT, SP_TIF_IOC, SP_ORDF_POST_ONLY}, SP_BREASON_BAD_TYPE},
        {{0, 100, 5, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0}, SP_BREASON_ZERO_ID},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sp_book_result r;
        t->n = 0;
        assert_int_equal(sp_book_add(t->b, &cases[i].o, &r), SP_OK);
        assert_int_equal(r.status, SP_BOOK_REJECTED);
        assert_int_equal(r.reason, cases[i].reason);
        assert_int_equal(t->n, 1);
        assert_int_equal(t->ev[0].kind, SP_BOOK_EV_REJECT);
        assert_int_equal(t->ev[0].reason, cases[i].reason);
        assert_true(sp_book_state_hash(t->b) == h);
        check(t);
    }
    /* A market order's price is ignored, even if it would be off limits. */
    sp_book_result r = add(t, 3, SP_SELL, SP_ORD_MARKET, SP_TIF_IOC, 0, -7, 1);
    assert_int_equal(r.status, SP_BOOK_FILLED);
    /* Cancels: unknown, already gone, id 0. */
    sp_book_cancel(t->b, 12345, &r);
    assert_int_equal(r.reason, SP_BREASON_UNKNOWN_ID);
    sp_book_cancel(t->b, 3, &r);
    assert_int_equal(r.reason, SP_BREASON_UNKNOWN_ID);
    sp_book_cancel(t->b, 0, &r);
    assert_int_equal(r.reason, SP_BREASON_ZERO_ID);
    sp_book_amend(t->b, 0, true, 0, 1, &r);
    assert_int_equal(r.reason, SP_BREASON_ZERO_ID);
    /* Programmer errors are sp_err, not events; a NULL result is allowed. */
    assert_int_equal(sp_book_add(NULL, &cases[0].o, &r), SP_EINVAL);
    assert_int_equal(sp_book_add(t->b, NULL, &r), SP_EINVAL);
    assert_int_equal(sp_book_cancel(NULL, 1, &r), SP_EINVAL);
    assert_int_equal(sp_book_amend(NULL, 1, true, 0, 1, &r), SP_EINVAL);
    assert_int_equal(sp_book_add(t->b, &cases[0].o, NULL), SP_OK);
    assert_string_equal(sp_book_reason_text(SP_BREASON_POST_ONLY),
                        "post-only order would take liquidity");
    assert_string_equal(sp_book_reason_text(4242), "?");
    drain_free(t);
}

static void test_pool_and_window(void **state)
{
    sp_book_config cfg = sp_book_config_default();
    cfg.max_orders = 3;
    cfg.window_ticks = 64;
    ctx *t = open_book(state, &cfg);
    /* Prices straddling a multiple of the window: the circular array wraps. */
    lim(t, 1, SP_BUY, 1000, 1);
    lim(t, 2, SP_BUY, 1023, 1);
    lim(t, 3, SP_SELL, 1025, 1);
    sp_book_result r = lim(t, 4, SP_SELL, 1026, 1);
    assert_int_equal(r.status, SP_BOOK_CANCELLED);
    assert_int_equal(r.reason, SP_BREASON_BOOK_FULL);
    expect_ev(t, 0, SP_BOOK_EV_CANCEL, 4, 0, 1026, 1, SP_BREASON_BOOK_FULL);
    /* A crossing order that fills completely needs no slot. */
    r = lim(t, 5, SP_SELL, 1023, 1);
    assert_int_equal(r.status, SP_BOOK_FILLED);
    /* Span: 1000 .. 1064 would be 64 ticks, the window. */
    r = lim(t, 6, SP_SELL, 1064, 1);
    assert_int_equal(r.reason, SP_BREASON_PX_SPAN);
    r = lim(t, 7, SP_SELL, 1063, 1);
    assert_int_equal(r.status, SP_BOOK_RESTING);
    sp_book_level lv[4];
    assert_int_equal(sp_book_depth(t->b, SP_SELL, 4, lv), 2);
    assert_int_equal(lv[0].px, 1025);
    assert_int_equal(lv[1].px, 1063);
    /* Move the whole book up past the old window: old slots are reused. */
    sp_book_cancel(t->b, 1, &r);
    sp_book_cancel(t->b, 3, &r);
    r = lim(t, 8, SP_BUY, 1062, 1);
    assert_int_equal(r.status, SP_BOOK_RESTING);
    r = lim(t, 9, SP_SELL, 1100, 1);
    assert_int_equal(r.status, SP_BOOK_RESTING);
    assert_int_equal(sp_book_depth(t->b, SP_SELL, 4, lv), 2);
    assert_int_equal(lv[1].px, 1100);
    check(t);
    drain_free(t);
}

static void test_config_and_enomem_ctor(void **state)
{
    sp_book_kind kind = *(sp_book_kind *)*state;
    sp_book *b = NULL;
    sp_book_config cfg = sp_book_config_default();
    cfg.window_ticks = 1000; /* not a power of two */
    assert_int_equal(sp_book_new(kind, &cfg, NULL, &b), SP_EINVAL);
    cfg = sp_book_config_default();
    cfg.max_orders = 0;
    assert_int_equal(sp_book_new(kind, &cfg, NULL, &b), SP_EINVAL);
    cfg = sp_book_config_default();
    cfg.px_max_ticks = 0;
    assert_int_equal(sp_book_new(kind, &cfg, NULL, &b), SP_EINVAL);
    assert_int_equal(sp_book_new((sp_book_kind)7, NULL, NULL, &b), SP_EINVAL);
    assert_int_equal(sp_book_new(kind, NULL, NULL, NULL), SP_EINVAL);
    assert_null(b);
    /* Quantities are capped so that a full pool cannot overflow a level total. */
    cfg = sp_book_config_default();
    cfg.max_orders = 4;
    cfg.window_ticks = 64;
    assert_int_equal(sp_book_new(kind, &cfg, NULL, &b), SP_OK);
    const int64_t cap = INT64_MAX / 4;
    sp_book_result r;
    for (uint64_t id = 1; id <= 4; id++) {
        sp_book_order o = {id, 100, cap, SP_SELL, SP_ORD_LIMIT, SP_TIF_GTC, 0};
        sp_book_add(b, &o, &r);
        assert_int_equal(r.status, SP_BOOK_RESTING);
    }
    sp_book_order big = {9, 100, cap + 1, SP_BUY, SP_ORD_LIMIT, SP_TIF_FOK, 0};
    sp_book_add(b, &big, &r);
    assert_int_equal(r.reason, SP_BREASON_BAD_QTY);
    int64_t px, qty;
    assert_true(sp_book_best(b, SP_SELL, &px, &qty));
    assert_int_equal(qty, 4 * cap);
    big.qty = cap;
    sp_book_add(b, &big, &r); /* FOK over the whole level: sums stay in range */
    assert_int_equal(r.status, SP_BOOK_FILLED);
    assert_int_equal(sp_book_check(b, NULL), SP_OK);
    for (uint64_t id = 2; id <= 4; id++)
        sp_book_cancel(b, id, &r);
    assert_int_equal(sp_book_count(b), 0);
    sp_book_free(b);
    b = NULL;
    sp_book_free(NULL);
}

static sp_err ctor_step(void *c)
{
    sp_book_kind kind = *(sp_book_kind *)c;
    sp_book_config cfg = sp_book_config_default();
    cfg.max_orders = 1 << 17; /* large enough for the 2 MiB-aligned path */
    cfg.window_ticks = 1 << 16;
    sp_book *b = NULL;
    sp_err rc = sp_book_new(kind, &cfg, NULL, &b);
    if (rc != SP_OK)
        return rc;
    /* Use it: the reference allocates while it grows. */
    sp_book_order o = {1, 100, 5, SP_BUY, SP_ORD_LIMIT, SP_TIF_GTC, 0};
    sp_book_result r;
    sp_book_add(b, &o, &r);
    sp_book_free(b);
    return r.status == SP_BOOK_RESTING ? SP_OK : SP_ENOMEM;
}

static void test_enomem_ctor(void **state)
{
    uint64_t steps = sp_test_enomem_loop(ctor_step, *state, 64);
    assert_true(steps >= 2);
}

static sp_book_kind kinds[2] = {SP_BOOK_FAST, SP_BOOK_REF};

#define BOTH(fn) cmocka_unit_test_prestate(fn, &kinds[0]), cmocka_unit_test_prestate(fn, &kinds[1])

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_price_time_priority),
        BOTH(test_time_in_force),
        BOTH(test_amend),
        BOTH(test_bad_commands),
        BOTH(test_pool_and_window),
        BOTH(test_config_and_enomem_ctor),
        BOTH(test_enomem_ctor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
