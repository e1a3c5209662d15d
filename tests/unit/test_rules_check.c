/*
 * test_rules_check.c -- input validation of sp_rules_liq and
 * sp_rules_maint_margin.  The position checks are written as folded
 * unsigned range tests on the hot path (liq.c check_pos); this file holds
 * the plain form of every rule (side = +-1, qty > 0, entry > 0, MMR and
 * hedge MMR in [0, 1], fee in (-1, 1), hedge leg consistent) and checks
 * that each venue, the Binance one-leg fast path and its general solve
 * reject exactly the positions the plain form rejects, for boundary and
 * random values of every field.  A hand-built instrument with a zero or
 * negative display step is rejected rather than divided by.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules/rules_int.h"
#include "stampede/rng.h"
#include "testalloc.h"

#define ONE 100000000LL

static sp_rules_db *db;

static int setup(void **state)
{
    (void)state;
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_rules_db_new(&db) != SP_OK ||
        sp_rules_db_load_dir(db, sp_test_path("data/rules"), &d) != SP_OK) {
        fprintf(stderr, "load: %s\n", d.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sp_rules_db_free(db);
    return 0;
}

/* The rules of check_pos in their plain form (the reference). */
static bool plain_valid(const sp_rules_pos *p)
{
    if (p->side != 1 && p->side != -1)
        return false;
    if (p->qty <= 0 || p->entry_px <= 0)
        return false;
    if (p->mode == SP_MARGIN_HEDGE &&
        (p->hedge_qty < 0 || (p->hedge_qty > 0 && p->hedge_entry_px <= 0)))
        return false;
    if (p->mmr < 0 || p->mmr > ONE || p->hedge_mmr < 0 || p->hedge_mmr > ONE)
        return false;
    if (p->fee_rate <= -ONE || p->fee_rate >= ONE)
        return false;
    return true;
}

/* A valid position on instrument `in`: 0.5 @ 60,000, 10x, MMR 0.5%. */
static void base_pos(sp_rules_pos *p, const sp_instrument *in, sp_margin_mode mode,
                     const sp_tier_table *t)
{
    memset(p, 0, sizeof(*p));
    p->inst = in;
    p->tiers = t;
    p->mode = mode;
    p->side = 1;
    p->qty = ONE / 2;
    p->entry_px = 60000 * ONE;
    p->margin = 3000 * ONE;
    p->mmr = ONE / 200;
    if (mode == SP_MARGIN_HEDGE) {
        p->hedge_qty = ONE / 4;
        p->hedge_entry_px = 61000 * ONE;
        p->hedge_mmr = ONE / 200;
    }
}

static const int64_t edges64[] = {
    INT64_MIN,
    INT64_MIN + 1,
    -ONE - 1,
    -ONE,
    -ONE + 1,
    -2,
    -1,
    0,
    1,
    2,
    ONE - 1,
    ONE,
    ONE + 1,
    2 * ONE,
    INT64_MAX - ONE,
    INT64_MAX - 1,
    INT64_MAX,
};
static const int edges_side[] = {INT_MIN, -3, -2, -1, 0, 1, 2, 3, INT_MAX};

enum field { F_SIDE, F_QTY, F_ENTRY, F_MMR, F_HMMR, F_FEE, F_HQTY, F_HENTRY, F_N };

static void set_field(sp_rules_pos *p, int f, int64_t v)
{
    switch (f) {
    case F_SIDE:
        p->side = (int)v;
        break;
    case F_QTY:
        p->qty = v;
        break;
    case F_ENTRY:
        p->entry_px = v;
        break;
    case F_MMR:
        p->mmr = v;
        break;
    case F_HMMR:
        p->hedge_mmr = v;
        break;
    case F_FEE:
        p->fee_rate = v;
        break;
    case F_HQTY:
        p->hedge_qty = v;
        break;
    default:
        p->hedge_entry_px = v;
        break;
    }
}

/*
 * One case: the liquidation price and the requirement reject the position
 * (SP_EINVAL) exactly when the plain rules do.  Valid ones may still fail
 * for other reasons (overflow, beyond the last tier), never with EINVAL.
 */
static void check_case(const sp_rules_pos *p, const char *what, int f, int64_t v)
{
    sp_rules_out o;
    int64_t mm;
    int tier;
    bool ok = plain_valid(p);
    sp_err e = sp_rules_liq(p, &o);
    sp_err e2 = sp_rules_maint_margin(p, 60000 * ONE, &mm, &tier);
    if ((e == SP_EINVAL) == ok || (e2 == SP_EINVAL) == ok) {
        fprintf(stderr, "%s: field %d = %lld: plain %s, liq %d, mm %d\n", what, f, (long long)v,
                ok ? "valid" : "invalid", (int)e, (int)e2);
        fail();
    }
}

/* Every field at every edge value, on one base position. */
static void sweep(const sp_rules_pos *base, const char *what)
{
    for (int f = 0; f < F_N; f++) {
        if (f == F_SIDE) {
            for (size_t i = 0; i < SP_COUNTOF(edges_side); i++) {
                sp_rules_pos p = *base;
                set_field(&p, f, edges_side[i]);
                check_case(&p, what, f, edges_side[i]);
            }
            continue;
        }
        for (size_t i = 0; i < SP_COUNTOF(edges64); i++) {
            sp_rules_pos p = *base;
            set_field(&p, f, edges64[i]);
            check_case(&p, what, f, edges64[i]);
        }
    }
}

static void test_edges_every_venue(void **state)
{
    (void)state;
    const sp_instrument *bn = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    const sp_instrument *by = sp_rules_db_instrument(db, SP_VENUE_BYBIT, "BTCUSDT");
    const sp_instrument *ok = sp_rules_db_instrument(db, SP_VENUE_OKX, "BTC-USDT-SWAP");
    const sp_tier_table *t = sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 20241024, true);
    assert_non_null(bn);
    assert_non_null(by);
    assert_non_null(ok);
    assert_non_null(t);
    sp_rules_pos p;
    /* Binance one-leg fast path, with and without a table, isolated and cross */
    base_pos(&p, bn, SP_MARGIN_ISOLATED, t);
    sweep(&p, "binance isolated tiers");
    base_pos(&p, bn, SP_MARGIN_CROSS, NULL);
    sweep(&p, "binance cross explicit");
    /* the general solve: forced, and hedge */
    base_pos(&p, bn, SP_MARGIN_ISOLATED, t);
    p.flags = SP__RULES_GENERAL;
    sweep(&p, "binance general");
    base_pos(&p, bn, SP_MARGIN_HEDGE, t);
    sweep(&p, "binance hedge");
    base_pos(&p, by, SP_MARGIN_ISOLATED, NULL);
    sweep(&p, "bybit");
    base_pos(&p, ok, SP_MARGIN_ISOLATED, NULL);
    sweep(&p, "okx");
}

/* Random values around the bounds, two fields at a time, on the fast path. */
static void test_random_pairs(void **state)
{
    (void)state;
    const sp_instrument *bn = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    assert_non_null(bn);
    sp_rng r;
    sp_rng_seed(&r, 77);
    for (int i = 0; i < 4000; i++) {
        sp_rules_pos p;
        base_pos(&p, bn, i % 2 ? SP_MARGIN_ISOLATED : SP_MARGIN_HEDGE, NULL);
        for (int j = 0; j < 2; j++) {
            int f = (int)sp_rng_below(&r, F_N);
            /* an edge value moved by -2..+2, wrapping at the ends of int64 */
            uint64_t e = (uint64_t)edges64[sp_rng_below(&r, SP_COUNTOF(edges64))];
            int64_t v = f == F_SIDE ? (int64_t)sp_rng_below(&r, 7) - 3
                                    : (int64_t)(e + sp_rng_below(&r, 5) - 2u);
            set_field(&p, f, v);
            check_case(&p, "binance random", f, v);
        }
    }
}

/* A hand-built instrument with no display step is rejected, not divided by zero. */
static void test_zero_step(void **state)
{
    (void)state;
    sp_instrument in = *sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    const sp_tier_table *t = sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 20241024, true);
    sp_rules_pos p;
    sp_rules_out o;
    for (int64_t step = -1; step <= 0; step++) {
        in.liq_round_step = step;
        base_pos(&p, &in, SP_MARGIN_ISOLATED, t);
        assert_int_equal(sp_rules_liq(&p, &o), SP_EINVAL);
        p.flags = SP__RULES_GENERAL;
        assert_int_equal(sp_rules_liq(&p, &o), SP_EINVAL);
        base_pos(&p, &in, SP_MARGIN_HEDGE, t);
        assert_int_equal(sp_rules_liq(&p, &o), SP_EINVAL);
    }
    /* and the same instrument with its step back prices the position */
    in.liq_round_step = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT")->liq_round_step;
    base_pos(&p, &in, SP_MARGIN_ISOLATED, t);
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_true(o.has_liq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges_every_venue),
        cmocka_unit_test(test_random_pairs),
        cmocka_unit_test(test_zero_step),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
