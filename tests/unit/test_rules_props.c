/*
 * test_rules_props.c -- property tests of the rule sets on random
 * positions (fixed seed, so every run checks the same positions):
 *   - the liquidation price lies strictly between entry and bankruptcy;
 *   - it moves monotonically with margin and with leverage;
 *   - substituting the (rounded) liquidation price back into the venue's
 *     trigger condition gives equity = requirement within one rounding
 *     step of PnL;
 *   - with tier tables, the tier used contains the notional at the exact
 *     liquidation price (the §9 re-solve is self-consistent).
 * Linear venues are checked exactly (128-bit); the inverse check uses
 * long double for the tolerance only.
 */
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

#define ONE  100000000LL
#define NPOS 20000

static sp_rules_db *db;

static int setup(void **state)
{
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
    sp_rules_db_free(db);
    return 0;
}

typedef struct gen {
    const char *venue_sym;
    sp_venue venue;
    const char *symbol;
    bool tiers;
    int64_t px_lo, px_hi; /* entry range, whole units */
    int64_t max_lev;
} gen;

static const gen gens[] = {
    {"binance BTCUSDT", SP_VENUE_BINANCE_UM, "BTCUSDT", true, 10000, 120000, 50},
    {"binance ETHUSDT", SP_VENUE_BINANCE_UM, "ETHUSDT", true, 500, 5000, 50},
    {"bybit BTCUSDT", SP_VENUE_BYBIT, "BTCUSDT", true, 10000, 120000, 50},
    {"okx BTC-USDT-SWAP", SP_VENUE_OKX, "BTC-USDT-SWAP", false, 10000, 120000, 100},
    {"bybit BTCUSD", SP_VENUE_BYBIT, "BTCUSD", false, 10000, 120000, 100},
    {"bitmex XBTUSD", SP_VENUE_BITMEX, "XBTUSD", false, 10000, 120000, 100},
};

/* A random position of generator g at leverage lev (margin = entry value / lev). */
static void make_pos(const gen *g, sp_rng *r, sp_rules_pos *p, int64_t *lev)
{
    memset(p, 0, sizeof(*p));
    p->inst = sp_rules_db_instrument(db, g->venue, g->symbol);
    assert_non_null(p->inst);
    p->mode = sp_rng_below(r, 4) == 0 ? SP_MARGIN_CROSS : SP_MARGIN_ISOLATED;
    p->side = sp_rng_below(r, 2) ? 1 : -1;
    p->entry_px =
        (int64_t)(g->px_lo + (int64_t)sp_rng_below(r, (uint64_t)(g->px_hi - g->px_lo))) * ONE +
        (int64_t)sp_rng_below(r, 100) * (ONE / 100);
    *lev = 1 + (int64_t)sp_rng_below(r, (uint64_t)g->max_lev);
    if (g->tiers)
        p->tiers = sp_rules_db_tiers(db, g->venue, g->symbol, 99991231, false);
    else
        p->mmr = 200000 + (int64_t)sp_rng_below(r, 600000); /* 0.2% .. 0.8% */
    if (p->inst->contract == SP_CONTRACT_INVERSE) {
        p->qty = (1 + (int64_t)sp_rng_below(r, 2000000)) * ONE; /* 1 .. 2M USD */
        /* margin (coin) = Q / EP / L, rounded up so equity covers IM */
        assert_int_equal(sp_mul_div(p->qty, ONE, p->entry_px * *lev, SP_RND_UP, &p->margin), SP_OK);
        p->fee_rate = sp_rng_below(r, 2) ? 75000 : 0;
    } else {
        /* notional up to 2.5M (Binance brackets 1..3, Bybit tiers 1..2) */
        int64_t qmax = 2500000 * ONE / (p->entry_px / ONE);
        if (p->inst->qty_in_contracts) /* whole contracts of ct_val */
            p->qty = (1 + (int64_t)sp_rng_below(r, (uint64_t)(qmax / p->inst->ct_val))) * ONE;
        else
            p->qty = (1 + (int64_t)sp_rng_below(r, (uint64_t)(qmax / 1000))) * 1000;
        int64_t q = p->qty;
        if (p->inst->qty_in_contracts)
            assert_int_equal(sp_mul_div(p->qty, p->inst->ct_val, ONE, SP_RND_EXACT, &q), SP_OK);
        assert_int_equal(sp_mul_div(q, p->entry_px, ONE * *lev, SP_RND_UP, &p->margin), SP_OK);
        if (p->inst->venue == SP_VENUE_OKX)
            p->fee_rate = 50000;
    }
}

/* Compare the exact prices a/b and c/d (b, d > 0). */
static int cmp_px(i128 a, i128 b, i128 c, i128 d)
{
    return sp__rules_cmp_mul(a, d, c, b);
}

static void test_between_entry_and_bankruptcy(void **state)
{
    sp_rng r;
    sp_rng_seed(&r, 20260206);
    for (size_t gi = 0; gi < SP_COUNTOF(gens); gi++) {
        int checked = 0;
        for (int i = 0; i < NPOS; i++) {
            sp_rules_pos p;
            int64_t lev;
            make_pos(&gens[gi], &r, &p, &lev);
            sp_rules_out o;
            sp_err e = sp_rules_liq(&p, &o);
            if (e != SP_OK)
                fail_msg("%s #%d: %s", gens[gi].venue_sym, i, sp_errname(e));
            if (!o.has_bk) {
                /* 1x: a linear long goes bankrupt at 0, an inverse short never (coin hedge) */
                assert_int_equal(lev, 1);
                assert_int_equal(p.side, p.inst->contract == SP_CONTRACT_LINEAR ? 1 : -1);
                continue;
            }
            if (!o.has_liq)
                continue; /* a deep-margin long: no positive LP */
            int s = p.side;
            /* long: BP < LP < EP; short: EP < LP < BP (all exact) */
            assert_int_equal(cmp_px(o.liq_num, o.liq_den, p.entry_px, 1), -s);
            assert_int_equal(cmp_px(o.liq_num, o.liq_den, o.bk_num, o.bk_den), s);
            /* and the rounded prices keep the order (rounding is toward entry or nearest) */
            assert_true(s > 0 ? o.liq_px <= p.entry_px : o.liq_px >= p.entry_px);
            assert_true(s > 0 ? o.liq_px >= o.bk_px : o.liq_px <= o.bk_px);
            checked++;
        }
        print_message("%s: %d/%d positions ordered BP < LP < EP\n", gens[gi].venue_sym, checked,
                      NPOS);
        assert_true(checked > NPOS / 2);
    }
}

static void test_monotone(void **state)
{
    sp_rng r;
    sp_rng_seed(&r, 6022026);
    for (size_t gi = 0; gi < SP_COUNTOF(gens); gi++) {
        for (int i = 0; i < NPOS / 4; i++) {
            sp_rules_pos p;
            int64_t lev;
            make_pos(&gens[gi], &r, &p, &lev);
            sp_rules_out o1, o2;
            assert_int_equal(sp_rules_liq(&p, &o1), SP_OK);
            /* more margin: LP moves away from entry (long down, short up), never toward */
            sp_rules_pos p2 = p;
            p2.margin += p.margin / 7 + 1;
            assert_int_equal(sp_rules_liq(&p2, &o2), SP_OK);
            if (o1.has_liq && o2.has_liq) {
                int c = cmp_px(o2.liq_num, o2.liq_den, o1.liq_num, o1.liq_den);
                if (c != -p.side)
                    fail_msg("%s #%d side %d lev %lld: more margin moved LP the wrong way",
                             gens[gi].venue_sym, i, p.side, (long long)lev);
            }
            /* only a linear long (price floor 0) or an inverse short (loss capped at Q/EP in
             * coin) can be margined out of liquidation entirely */
            if (o1.has_liq && !o2.has_liq)
                assert_int_equal(p.side, p.inst->contract == SP_CONTRACT_LINEAR ? 1 : -1);
            /* higher leverage at the same size (less margin): LP toward entry */
            if (lev < gens[gi].max_lev) {
                sp_rules_pos p3 = p;
                p3.margin = p.margin * lev / (lev + 1);
                sp_rules_out o3;
                assert_int_equal(sp_rules_liq(&p3, &o3), SP_OK);
                if (o1.has_liq) {
                    assert_true(o3.has_liq);
                    if (cmp_px(o3.liq_num, o3.liq_den, o1.liq_num, o1.liq_den) != p.side)
                        fail_msg("%s #%d side %d lev %lld margin %lld -> %lld: LP %lld -> %lld",
                                 gens[gi].venue_sym, i, p.side, (long long)lev, (long long)p.margin,
                                 (long long)p3.margin, (long long)o1.liq_px, (long long)o3.liq_px);
                }
            }
        }
    }
}

static void test_trigger_substitution(void **state)
{
    sp_rng r;
    sp_rng_seed(&r, 424242);
    for (size_t gi = 0; gi < SP_COUNTOF(gens); gi++) {
        long double worst = 0;
        for (int i = 0; i < NPOS / 2; i++) {
            sp_rules_pos p;
            int64_t lev;
            make_pos(&gens[gi], &r, &p, &lev);
            sp_rules_out o;
            assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
            if (!o.has_liq)
                continue;
            int64_t req;
            int tier;
            assert_int_equal(sp_rules_maint_margin(&p, o.liq_px, &req, &tier), SP_OK);
            i128 wb = (i128)p.margin - p.other_mm + p.other_upnl;
            const int64_t step = p.inst->liq_round_step;
            if (p.inst->contract == SP_CONTRACT_LINEAR) {
                int64_t q = p.qty;
                if (p.inst->qty_in_contracts)
                    sp_mul_div(p.qty, p.inst->ct_val, ONE, SP_RND_EXACT, &q);
                /* equity at scale 16: WB' 1e8 + s q (LP - EP) */
                i128 eq16 = wb * ONE + (i128)p.side * q * ((i128)o.liq_px - p.entry_px);
                i128 diff = eq16 - (i128)req * ONE;
                if (diff < 0)
                    diff = -diff;
                /* one rounding step of PnL (q x step, scale 16) plus the MM rounding */
                i128 tol = (i128)q * step * 11 / 10 + 2 * (i128)ONE;
                if (diff > tol)
                    fail_msg("%s #%d: |equity - requirement| = %lld (scale 16) > %lld",
                             gens[gi].venue_sym, i, (long long)diff, (long long)tol);
                long double rel = (long double)diff / (long double)((i128)q * step);
                if (rel > worst)
                    worst = rel;
            } else {
                /* inverse, coin: WB' + s Q (1/EP - 1/LP) against MMR Q/EP + fee Q/BP */
                long double Q = (long double)p.qty / ONE, ep = (long double)p.entry_px / ONE;
                long double lp = (long double)o.liq_px / ONE, w = (long double)wb / ONE;
                long double eq = w + p.side * Q * (1.0L / ep - 1.0L / lp);
                long double d = eq - (long double)req / ONE;
                long double tol = Q * ((long double)step / ONE) / (lp * lp) * 1.1L + 3e-8L;
                if (d < 0)
                    d = -d;
                if (d > tol)
                    fail_msg("%s #%d: |equity - requirement| = %.12Lg > %.12Lg", gens[gi].venue_sym,
                             i, d, tol);
                if (d / tol > worst)
                    worst = d / tol;
            }
        }
        print_message("%s: worst |equity - requirement| = %.3Lf of the tolerance\n",
                      gens[gi].venue_sym, worst);
    }
}

static void test_tier_consistent(void **state)
{
    sp_rng r;
    sp_rng_seed(&r, 77);
    int resolved = 0;
    for (int i = 0; i < NPOS; i++) {
        sp_rules_pos p;
        int64_t lev;
        make_pos(&gens[i % 2], &r, &p, &lev);
        /* bigger notionals too: up to 60M so brackets 1..5 all occur */
        p.qty *= 1 + (int64_t)sp_rng_below(&r, 20);
        sp_rules_out o;
        sp_err e = sp_rules_liq(&p, &o);
        if (e == SP_ERANGE)
            continue;
        assert_int_equal(e, SP_OK);
        if (!o.has_liq)
            continue;
        const sp_tier *t = &p.tiers->tier[o.tier - 1];
        /* notional at the exact LP: q x liq_num / (liq_den x 1e8), scale 8 */
        i128 den8 = o.liq_den * ONE;
        assert_true(sp__rules_cmp_mul(p.qty, o.liq_num, t->cap, den8) <= 0);
        assert_true(o.tier == 1 || sp__rules_cmp_mul(p.qty, o.liq_num, t->floor, den8) > 0);
        assert_int_equal(o.mmr, t->mmr);
        resolved += o.resolves > 0;
    }
    print_message("tier re-solves needed in %d of %d positions\n", resolved, NPOS);
    assert_true(resolved > 0);
}

/* The Binance one-leg fast path and the general multi-leg solve agree exactly. */
static void test_fast_path_matches_general(void **state)
{
    sp_rng r;
    sp_rng_seed(&r, 1234);
    for (int i = 0; i < NPOS; i++) {
        sp_rules_pos p;
        int64_t lev;
        make_pos(&gens[i % 2], &r, &p, &lev);
        p.qty *= 1 + (int64_t)sp_rng_below(&r, 20);
        if (p.mode == SP_MARGIN_CROSS) {
            p.other_mm = (int64_t)sp_rng_below(&r, 1000) * ONE;
            p.other_upnl = ((int64_t)sp_rng_below(&r, 2000) - 1000) * ONE;
        }
        if (i % 3 == 0) {
            p.tiers = NULL;
            p.mmr = 400000;
            p.maint_amount = (int64_t)sp_rng_below(&r, 100) * ONE;
        }
        sp_rules_out a, b;
        sp_err ea = sp_rules_liq(&p, &a);
        p.flags = SP__RULES_GENERAL;
        sp_err eb = sp_rules_liq(&p, &b);
        assert_int_equal(ea, eb);
        if (ea != SP_OK)
            continue;
        assert_int_equal(a.has_liq, b.has_liq);
        assert_int_equal(a.has_bk, b.has_bk);
        assert_int_equal(a.liq_px, b.liq_px);
        assert_int_equal(a.bk_px, b.bk_px);
        assert_int_equal(a.tier, b.tier);
        assert_int_equal(a.resolves, b.resolves);
        if (a.has_liq)
            assert_int_equal(sp__rules_cmp_mul(a.liq_num, b.liq_den, b.liq_num, a.liq_den), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_between_entry_and_bankruptcy), cmocka_unit_test(test_monotone),
        cmocka_unit_test(test_trigger_substitution),         cmocka_unit_test(test_tier_consistent),
        cmocka_unit_test(test_fast_path_matches_general),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
