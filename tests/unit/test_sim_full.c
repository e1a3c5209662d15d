/*
 * test_sim_full.c -- fast mode against full fidelity: the same small
 * scenarios run through the simulator's fast loop and through the exchange
 * core (sp_sim_run_full: engine accounts, orders in its book, its
 * liquidation engine), which must agree on every wave: positions
 * liquidated, quantity, the mark after the wave, and the totals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/stampede.h"
#include "stampede/sim.h"
#include "testalloc.h"

#define ONE 100000000LL

/* n positions from 1000.0 (+-0.5%), leverage 10..50, sizes 0.5..5 BTC, mostly long. */
static sp_sim_pop *small_pop(size_t n, uint64_t seed)
{
    sp_sim_pos pos[64];
    static const int32_t lev[5] = {10, 20, 25, 40, 50};
    sp_rng r;
    sp_rng_seed(&r, seed);
    assert_true(n <= 64);
    memset(pos, 0, sizeof(pos));
    for (size_t i = 0; i < n; i++) {
        pos[i].side = sp_rng_below(&r, 10) < 8 ? 1 : -1;
        pos[i].entry_px = (9950 + (int64_t)sp_rng_below(&r, 101)) * 10000000; /* 995.0..1005.0 */
        pos[i].qty = (500 + (int64_t)sp_rng_below(&r, 4501)) * 100000;        /* 0.5..5 BTC */
        pos[i].leverage = lev[sp_rng_below(&r, 5)];
    }
    sp_sim_pop *p = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_pop_from(pos, n, sp_sim_venue_builtin(), &p, &d), SP_OK);
    return p;
}

/* Bids every 1.0 from 999.0 down to 850.0, `q` BTC each; one ask level. */
static sp_sim_market *small_market(int64_t q)
{
    static sp_sim_level bids[150];
    static sp_sim_level asks[150];
    for (int i = 0; i < 150; i++) {
        bids[i].px = (999 - i) * ONE;
        bids[i].qty = q;
        asks[i].px = (1001 + i) * ONE;
        asks[i].qty = q;
    }
    sp_sim_market_cfg c = sp_sim_market_cfg_default();
    c.mid_px = 1000 * ONE;
    c.bids = bids;
    c.nbids = 150;
    c.asks = asks;
    c.nasks = 150;
    c.depth_1pct_usd = 0;
    sp_sim_market *m = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_market_new(&c, &m, &d), SP_OK);
    return m;
}

static void agree(const sp_sim_pop *p, const sp_sim_market *m, int32_t move_bp, uint32_t thin)
{
    sp_sim_shock s = sp_sim_shock_default();
    s.move_bp = move_bp;
    s.thin_bp = thin;
    s.insurance_usd = 1000000 * ONE;
    sp_sim_wave wf[32], wx[32];
    sp_sim_result rf, rx;
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_sim_run(p, m, &s, wf, 32, &rf, &d), SP_OK);
    sp_err rc = sp_sim_run_full(p, m, &s, sp_sim_venue_builtin(), wx, 32, &rx, &d);
    if (rc != SP_OK)
        fail_msg("full fidelity: %s", d.msg);
    print_message("move %d bp thin %u: fast %u waves %llu liquidated final %lld; full %u waves "
                  "%llu liquidated final %lld\n",
                  move_bp, thin, rf.waves, (unsigned long long)rf.n_liq, (long long)rf.final_px,
                  rx.waves, (unsigned long long)rx.n_liq, (long long)rx.final_px);
    assert_int_equal(rx.shock_px, rf.shock_px);
    assert_int_equal(rx.waves, rf.waves);
    assert_int_equal(rx.n_liq, rf.n_liq);
    assert_int_equal(rx.qty, rf.qty);
    assert_int_equal(rx.sold_qty, rf.sold_qty);
    assert_int_equal(rx.adl_qty, rf.adl_qty);
    assert_int_equal(rx.final_px, rf.final_px);
    assert_int_equal(rx.extreme_px, rf.extreme_px);
    for (uint32_t i = 0; i < rf.waves && i < 32; i++) {
        assert_int_equal(wx[i].n, wf[i].n);
        assert_int_equal(wx[i].qty, wf[i].qty);
        assert_int_equal(wx[i].px_trigger, wf[i].px_trigger);
        assert_int_equal(wx[i].px_after, wf[i].px_after);
        assert_int_equal(wx[i].vwap, wf[i].vwap);
    }
}

static void test_fast_agrees_with_engine(void **state)
{
    sp_sim_pop *p = small_pop(40, 3);
    sp_sim_market *m = small_market(2 * ONE);
    agree(p, m, -200, 0);    /* a cascade of several waves */
    agree(p, m, -150, 5000); /* half the depth withdrawn */
    agree(p, m, -50, 0);     /* too small: nobody */
    sp_sim_pop_free(p);
    p = small_pop(60, 4);
    agree(p, m, -300, 2000);
    agree(p, m, 250, 0); /* a rise: shorts */
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

static void test_full_unsupported(void **state)
{
    sp_sim_pop *p = small_pop(5, 1);
    sp_sim_market *m = small_market(ONE);
    sp_sim_shock s = sp_sim_shock_default();
    s.resilience_bp = 100;
    sp_sim_result r;
    sp_diag d;
    assert_int_equal(sp_sim_run_full(p, m, &s, sp_sim_venue_builtin(), NULL, 0, &r, &d),
                     SP_EUNSUPPORTED);
    s = sp_sim_shock_default();
    s.kind = SP_SIM_SHOCK_SELL;
    s.notional = -ONE;
    assert_int_equal(sp_sim_run_full(p, m, &s, sp_sim_venue_builtin(), NULL, 0, &r, &d),
                     SP_EUNSUPPORTED);
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_agrees_with_engine),
        cmocka_unit_test(test_full_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
