/*
 * test_sim_cascade.c -- the cascade loop and its decomposition: a scenario
 * worked out by hand, fast against naive on random scenarios, the
 * validation properties of issue 9 (monotonic in shock and in depth,
 * conservation, no liquidation below the smallest distance, the
 * counterfactual without forced orders), the market model (re-centring,
 * square-root tail, bad input), the replay of a path, and loading the
 * shipped snapshots and klines through the feed and book modules.
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

static sp_sim_bar bars[12];

static sp_sim_pop *gen(uint64_t n, uint64_t seed, int64_t mark)
{
    for (int i = 0; i < 12; i++) {
        bars[i].open_ms = 1769000000000LL + i * 14400000LL;
        bars[i].low = (68000 + i * 700) * ONE;
        bars[i].high = (69500 + i * 800) * ONE;
        bars[i].close = (69000 + i * 750) * ONE;
        bars[i].quote_vol = (int64_t)(900 + 50 * i) * 1000000 * ONE;
    }
    sp_sim_pop_cfg c = sp_sim_pop_cfg_default();
    c.n = n;
    c.oi_usd = 3000000000LL * ONE;
    c.bars = bars;
    c.nbars = 12;
    c.mark_px = mark;
    c.seed = seed;
    sp_sim_pop *p = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_OK);
    return p;
}

static sp_sim_market *model_market(int64_t mid, int64_t depth_usd)
{
    sp_sim_market_cfg m = sp_sim_market_cfg_default();
    m.mid_px = mid;
    m.depth_1pct_usd = depth_usd * ONE;
    sp_sim_market *mk = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_market_new(&m, &mk, &d), SP_OK);
    return mk;
}

/* ---- a scenario by hand --------------------------------------------------------- */

static void test_hand_scenario(void **state)
{
    /* three longs from 100 USDT: 50x, 40x, 20x */
    sp_sim_pos pos[3];
    memset(pos, 0, sizeof(pos));
    int32_t lev[3] = {50, 40, 20};
    for (int i = 0; i < 3; i++) {
        pos[i].side = 1;
        pos[i].entry_px = 100 * ONE;
        pos[i].qty = (i + 1) * ONE; /* 1, 2, 3 BTC */
        pos[i].leverage = lev[i];
    }
    sp_sim_pop *p = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_pop_from(pos, 3, sp_sim_venue_builtin(), &p, &d), SP_OK);
    int64_t la = sp_sim_pop_at(p, 0)->liq_px, lb = sp_sim_pop_at(p, 1)->liq_px,
            lc = sp_sim_pop_at(p, 2)->liq_px;
    assert_true(la > lb && lb > lc);
    /* bids: 0.9 BTC at a price between A and B, then 10 BTC just below B, then deep at 80 */
    int64_t p1 = (la + lb) / 2 / 10000000 * 10000000, p2 = (lb - 10000000) / 10000000 * 10000000;
    assert_true(p1 < la && p1 > lb && p2 > lc);
    sp_sim_level bids[3] = {{p1, 90000000}, {p2, 10 * ONE}, {80 * ONE, 1000 * ONE}};
    /* the ask mirrors p1, so the snapshot's mid is exactly 100 and nothing is re-centred */
    sp_sim_level asks[1] = {{200 * ONE - p1, ONE}};
    sp_sim_market_cfg mc = sp_sim_market_cfg_default();
    mc.mid_px = 100 * ONE;
    mc.bids = bids;
    mc.nbids = 3;
    mc.asks = asks;
    mc.nasks = 1;
    mc.depth_1pct_usd = 0; /* the snapshot only */
    sp_sim_market *m = NULL;
    assert_int_equal(sp_sim_market_new(&mc, &m, &d), SP_OK);
    /* shock: the mark falls exactly to A's trigger */
    sp_sim_shock s = sp_sim_shock_default();
    s.move_bp = -(int32_t)((100 * ONE - la) * 10000 / (100 * ONE)) - 1;
    s.insurance_usd = 0;
    sp_sim_wave w[8];
    sp_sim_result r;
    assert_int_equal(sp_sim_run(p, m, &s, w, 8, &r, &d), SP_OK);
    /* the shock target sits below p1?  It sits in [lb, la]: only A is crossed first */
    assert_true(r.shock_px <= la && r.shock_px > lb);
    /* p1 is better than the target only if p1 > target; either way A sells 1 BTC:
     * 0.9 at p1 (if still there) and the rest at p2 <= lb, so B is crossed; B sells 2 BTC
     * at p2; C (lc < p2) is never reached. */
    assert_int_equal(r.waves, 2);
    assert_int_equal(r.n_liq, 2);
    assert_int_equal(w[0].n, 1);
    assert_int_equal(w[0].qty, ONE);
    assert_int_equal(w[1].n, 1);
    assert_int_equal(w[1].qty, 2 * ONE);
    assert_int_equal(w[1].px_trigger, p2);
    assert_int_equal(r.final_px, p2);
    assert_int_equal(r.extreme_px, p2);
    /* fills: wave 1 = (0.9 x p1 + 0.1 x p2) if p1 was left by the shock, else 1 x p2 */
    bool p1_left = p1 <= r.shock_px;
    int64_t fill1 =
        p1_left ? (int64_t)((__int128)90000000 * p1 / ONE + (__int128)10000000 * p2 / ONE) : p2;
    assert_int_equal(w[0].vwap, fill1);
    assert_int_equal(w[1].vwap, p2);
    /* the fund: fills minus bankruptcy values */
    int64_t bka = sp_sim_pop_at(p, 0)->bk_px, bkb = sp_sim_pop_at(p, 1)->bk_px;
    assert_int_equal(w[0].fund_delta, fill1 - bka);
    assert_int_equal(w[1].fund_delta, 2 * p2 - 2 * bkb);
    assert_int_equal(r.fund_end, w[0].fund_delta + w[1].fund_delta);
    assert_int_equal(r.sold_qty, 3 * ONE);
    assert_int_equal(r.notional_entry, 300 * ONE);
    /* naive agrees to the unit */
    sp_sim_wave wn[8];
    sp_sim_result rn;
    assert_int_equal(sp_sim_run_naive(p, m, &s, wn, 8, &rn, &d), SP_OK);
    assert_memory_equal(&r, &rn, sizeof(r));
    assert_memory_equal(w, wn, 2 * sizeof(w[0]));
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

/* ---- fast against naive ------------------------------------------------------------ */

static void test_fast_equals_naive(void **state)
{
    int64_t mark = 72000 * ONE;
    sp_sim_pop *p = gen(20000, 5, mark);
    sp_sim_market *m = model_market(mark, 30000000);
    sp_rng r;
    sp_rng_seed(&r, 99);
    for (int t = 0; t < 40; t++) {
        sp_sim_shock s = sp_sim_shock_default();
        int32_t mag = 50 + (int32_t)sp_rng_below(&r, 1500);
        s.move_bp = sp_rng_below(&r, 2) ? mag : -mag;
        s.thin_bp = (uint32_t)sp_rng_below(&r, 9000);
        s.resilience_bp = (uint32_t)sp_rng_below(&r, 3) * 2500;
        s.insurance_usd = (int64_t)sp_rng_below(&r, 100000000) * ONE;
        if (t % 5 == 4) {
            s.kind = SP_SIM_SHOCK_SELL;
            s.notional = (int64_t)(sp_rng_below(&r, 500000000) + 1) * ONE * (t % 2 ? 1 : -1);
        }
        sp_sim_wave wf[64], wn[64];
        sp_sim_result rf, rn;
        sp_diag d;
        assert_int_equal(sp_sim_run(p, m, &s, wf, 64, &rf, &d), SP_OK);
        assert_int_equal(sp_sim_run_naive(p, m, &s, wn, 64, &rn, &d), SP_OK);
        assert_memory_equal(&rf, &rn, sizeof(rf));
        size_t k = rf.waves < 64 ? rf.waves : 64;
        assert_memory_equal(wf, wn, k * sizeof(wf[0]));
    }
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

/* ---- validation properties ---------------------------------------------------------- */

static void test_monotonic_in_shock(void **state)
{
    int64_t mark = 72000 * ONE;
    sp_sim_pop *p = gen(20000, 8, mark);
    sp_sim_market *m = model_market(mark, 20000000);
    for (int dir = -1; dir <= 1; dir += 2) {
        uint64_t prev_n = 0;
        int64_t prev_notional = 0, prev_move = 0, prev_qty = 0;
        for (int32_t bp = 25; bp <= 2000; bp += 25) {
            sp_sim_shock s = sp_sim_shock_default();
            s.move_bp = dir * bp;
            sp_sim_decomp dc;
            sp_diag d;
            assert_int_equal(sp_sim_decompose(p, m, &s, NULL, 0, &dc, &d), SP_OK);
            assert_true(dc.with.n_liq >= prev_n);
            /* quantity and entry notional grow with the shock (the notional at the
             * trigger mark need not: later liquidations happen at lower marks) */
            assert_true(dc.with.qty >= prev_qty);
            assert_true(dc.with.notional_entry >= prev_notional);
            assert_true(dc.move_total_bp >= prev_move);
            assert_true(dc.with.n_liq >= dc.without.n_liq);
            prev_n = dc.with.n_liq;
            prev_notional = dc.with.notional_entry;
            prev_qty = dc.with.qty;
            prev_move = dc.move_total_bp;
        }
        assert_true(prev_n > 0);
    }
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

static void test_monotonic_in_depth(void **state)
{
    int64_t mark = 72000 * ONE;
    sp_sim_pop *p = gen(20000, 9, mark);
    sp_sim_market *m = model_market(mark, 40000000);
    for (int32_t bp = 200; bp <= 1200; bp += 200) {
        int64_t prev_amp = 0, prev_ext = INT64_MAX;
        for (uint32_t thin = 0; thin <= 9000; thin += 1000) {
            sp_sim_shock s = sp_sim_shock_default();
            s.move_bp = -bp;
            s.thin_bp = thin;
            sp_sim_decomp dc;
            sp_diag d;
            assert_int_equal(sp_sim_decompose(p, m, &s, NULL, 0, &dc, &d), SP_OK);
            /* a thinner book never amplifies less, never stops higher */
            assert_true(dc.amplification_milli >= prev_amp);
            assert_true(dc.with.extreme_px <= prev_ext);
            prev_amp = dc.amplification_milli;
            prev_ext = dc.with.extreme_px;
        }
    }
    /* and a deeper model book never amplifies more */
    int64_t prev = INT64_MAX;
    for (int64_t depth = 5000000; depth <= 400000000; depth *= 2) {
        sp_sim_market *mk = model_market(mark, depth);
        sp_sim_decomp dc;
        sp_sim_shock s = sp_sim_shock_default();
        sp_diag d;
        assert_int_equal(sp_sim_decompose(p, mk, &s, NULL, 0, &dc, &d), SP_OK);
        assert_true(dc.amplification_milli <= prev);
        prev = dc.amplification_milli;
        sp_sim_market_free(mk);
    }
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

static void test_conservation(void **state)
{
    int64_t mark = 72000 * ONE;
    sp_sim_pop *p = gen(20000, 10, mark);
    sp_sim_market *m = model_market(mark, 10000000);
    for (int k = 0; k < 6; k++) {
        sp_sim_shock s = sp_sim_shock_default();
        s.move_bp = k % 2 ? 300 + 200 * k : -300 - 200 * k;
        s.thin_bp = (uint32_t)k * 1500;
        sp_sim_result r;
        sp_diag d;
        assert_int_equal(sp_sim_run(p, m, &s, NULL, 0, &r, &d), SP_OK);
        /* forced quantity sold (or deleveraged) = quantity of the liquidated positions */
        assert_int_equal(r.sold_qty + r.adl_qty, r.qty);
        /* the liquidated set is exactly the positions whose trigger the extreme mark crossed */
        uint64_t n = 0;
        int64_t q = 0;
        __int128 ent = 0;
        uint64_t bucket_n = 0;
        for (size_t i = 0; i < sp_sim_pop_count(p); i++) {
            const sp_sim_pos *x = sp_sim_pop_at(p, i);
            bool hit = r.dir < 0 ? (x->side > 0 && x->liq_px >= r.extreme_px)
                                 : (x->side < 0 && x->liq_px <= r.extreme_px);
            if (hit) {
                n++;
                q += x->qty;
                ent += (__int128)x->qty * x->entry_px / ONE;
            }
        }
        for (int b = 0; b < SP_SIM_LEV_REPORT_BUCKETS; b++)
            bucket_n += r.lev[b].n;
        assert_int_equal(r.n_liq, n);
        assert_int_equal(r.qty, q);
        assert_int_equal(r.notional_entry, (int64_t)ent);
        assert_int_equal(bucket_n, r.n_liq);
        assert_true(r.largest <= r.notional);
        if (r.n_liq)
            assert_true(r.dir < 0 ? r.half_px >= r.extreme_px : r.half_px <= r.extreme_px);
    }
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

static void test_no_liquidation_below_smallest_distance(void **state)
{
    int64_t mark = 72000 * ONE;
    sp_sim_pop *p = gen(20000, 12, mark);
    sp_sim_market *m = model_market(mark, 50000000);
    sp_sim_pop_info in;
    sp_sim_pop_info_get(p, &in);
    /* the smallest distance to a long trigger, in whole bp rounded down */
    int32_t dist = (int32_t)((mark - in.nearest_long) * 10000 / mark);
    sp_sim_shock s = sp_sim_shock_default();
    sp_sim_result r;
    sp_diag d;
    if (dist > 0) {
        s.move_bp = -dist; /* target stays above the nearest trigger (or on it if exact) */
        assert_int_equal(sp_sim_run(p, m, &s, NULL, 0, &r, &d), SP_OK);
        if (r.shock_px > in.nearest_long) {
            assert_int_equal(r.n_liq, 0);
            assert_int_equal(r.waves, 0);
            assert_int_equal(r.final_px, r.shock_px);
        }
    }
    s.move_bp = -(dist + 1);
    assert_int_equal(sp_sim_run(p, m, &s, NULL, 0, &r, &d), SP_OK);
    assert_true(r.n_liq >= 1);
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

static void test_without_forced_orders(void **state)
{
    int64_t mark = 72000 * ONE;
    sp_sim_pop *p = gen(10000, 13, mark);
    sp_sim_market *m = model_market(mark, 20000000);
    sp_sim_shock s = sp_sim_shock_default();
    s.move_bp = -600;
    sp_sim_decomp dc;
    sp_diag d;
    assert_int_equal(sp_sim_decompose(p, m, &s, NULL, 0, &dc, &d), SP_OK);
    assert_int_equal(dc.without.extreme_px, dc.without.shock_px);
    assert_int_equal(dc.without.waves, dc.without.n_liq ? 1 : 0);
    assert_int_equal(dc.without.fund_end, dc.without.fund_start);
    assert_int_equal(dc.with.shock_px, dc.without.shock_px);
    assert_true(dc.with.extreme_px < dc.without.extreme_px);
    assert_true(dc.amplification_milli > 1000);
    assert_true(dc.endogenous_bp > 0 && dc.endogenous_bp < 10000);
    /* amplification = total move / exogenous move */
    int64_t tot = mark - dc.with.extreme_px, exo = mark - dc.without.shock_px;
    assert_int_equal(dc.amplification_milli, tot * 1000 / exo);
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

static void test_bad_shocks(void **state)
{
    int64_t mark = 72000 * ONE;
    sp_sim_pop *p = gen(100, 1, mark);
    sp_sim_market *m = model_market(mark, 20000000);
    sp_sim_result r;
    sp_diag d;
    sp_sim_shock s = sp_sim_shock_default();
    s.move_bp = -10000;
    assert_int_equal(sp_sim_run(p, m, &s, NULL, 0, &r, &d), SP_EINVAL);
    s.move_bp = 0;
    assert_int_equal(sp_sim_run(p, m, &s, NULL, 0, &r, &d), SP_EINVAL);
    s = sp_sim_shock_default();
    s.thin_bp = 9901;
    assert_int_equal(sp_sim_run(p, m, &s, NULL, 0, &r, &d), SP_EINVAL);
    s = sp_sim_shock_default();
    s.kind = SP_SIM_SHOCK_SELL;
    s.notional = 0;
    assert_int_equal(sp_sim_run(p, m, &s, NULL, 0, &r, &d), SP_EINVAL);
    s = sp_sim_shock_default();
    s.insurance_usd = -1;
    assert_int_equal(sp_sim_run(p, m, &s, NULL, 0, &r, &d), SP_EINVAL);
    sp_sim_market_free(m);
    sp_sim_pop_free(p);
}

/* ---- market model ------------------------------------------------------------------- */

static void test_market_model(void **state)
{
    int64_t mid = 50000 * ONE;
    sp_sim_market *m = model_market(mid, 100000000);
    /* square-root law: depth within 1% = 100 M USDT (within a tick's rounding) */
    int64_t q, n;
    sp_sim_market_depth(m, 0, 100, &q, &n);
    assert_true(n > 99000000 * ONE && n <= 100000000 * ONE);
    /* within 2%: four times the quantity */
    int64_t q2;
    sp_sim_market_depth(m, 0, 200, &q2, NULL);
    assert_true(q2 > 4 * q - q / 100 && q2 < 4 * q + q / 100);
    size_t nl;
    const sp_sim_level *lv = sp_sim_market_levels(m, 0, &nl);
    assert_int_equal(nl, 9900);
    for (size_t i = 1; i < nl; i++)
        assert_true(lv[i].px < lv[i - 1].px);
    sp_sim_market_free(m);
    /* re-centring keeps relative distance: a snapshot at mid 100 onto mid 200 */
    sp_sim_level b[2] = {{99 * ONE, ONE}, {98 * ONE, 2 * ONE}}, a[1] = {{101 * ONE, ONE}};
    sp_sim_market_cfg c = sp_sim_market_cfg_default();
    c.mid_px = 200 * ONE;
    c.bids = b;
    c.nbids = 2;
    c.asks = a;
    c.nasks = 1;
    c.depth_1pct_usd = 0;
    sp_diag d;
    assert_int_equal(sp_sim_market_new(&c, &m, &d), SP_OK);
    lv = sp_sim_market_levels(m, 0, &nl);
    assert_int_equal(nl, 2);
    assert_int_equal(lv[0].px, 198 * ONE);
    assert_int_equal(lv[1].px, 196 * ONE);
    assert_int_equal(lv[1].qty, 2 * ONE);
    sp_sim_market_free(m);
    /* bad input */
    sp_sim_market *x = NULL;
    c.asks = b; /* crossed: asks at 99 below bids at 99 */
    assert_int_equal(sp_sim_market_new(&c, &x, &d), SP_EINVAL);
    c.asks = NULL;
    c.nasks = 0;
    c.bids = NULL;
    c.nbids = 0;
    assert_int_equal(sp_sim_market_new(&c, &x, &d), SP_EINVAL); /* empty book */
    assert_non_null(strstr(d.msg, "empty book"));
    c = sp_sim_market_cfg_default();
    c.mid_px = 0;
    assert_int_equal(sp_sim_market_new(&c, &x, &d), SP_EINVAL);
    assert_null(x);
}

static sp_err market_once(void *ctx)
{
    (void)ctx;
    sp_sim_market_cfg c = sp_sim_market_cfg_default();
    c.mid_px = 60000 * ONE;
    c.tail_span_bp = 500;
    sp_sim_market *m = NULL;
    sp_err rc = sp_sim_market_new(&c, &m, NULL);
    sp_sim_market_free(m);
    return rc;
}

static void test_market_enomem(void **state)
{
    assert_true(sp_test_enomem_loop(market_once, NULL, 50) > 1);
}

/* ---- replay ------------------------------------------------------------------------- */

static void test_replay(void **state)
{
    int64_t mark = 72000 * ONE;
    sp_sim_pop *p = gen(10000, 14, mark);
    sp_sim_bar path[3] = {
        {0, 71000 * ONE, 72500 * ONE, 71500 * ONE, 0},
        {60000, 66000 * ONE, 71600 * ONE, 67000 * ONE, 0},
        {120000, 66500 * ONE, 76000 * ONE, 75000 * ONE, 0},
    };
    int64_t per[3];
    sp_sim_result r;
    sp_diag d;
    assert_int_equal(sp_sim_replay(p, path, 3, per, &r, &d), SP_OK);
    uint64_t n = 0;
    for (size_t i = 0; i < sp_sim_pop_count(p); i++) {
        const sp_sim_pos *x = sp_sim_pop_at(p, i);
        if ((x->side > 0 && x->liq_px >= 66000 * ONE) || (x->side < 0 && x->liq_px <= 76000 * ONE))
            n++;
    }
    assert_int_equal(r.n_liq, n);
    assert_int_equal(per[0] + per[1] + per[2], r.notional);
    assert_true(per[1] > 0 && per[2] > 0);
    assert_int_equal(sp_sim_replay(p, path, 0, NULL, &r, &d), SP_EINVAL);
    sp_sim_pop_free(p);
}

/* ---- real data through feed and book -------------------------------------------------- */

static void test_load_shipped(void **state)
{
    sp_sim_level *b = NULL, *a = NULL;
    size_t nb = 0, na = 0;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = sp_sim_load_snapshot(sp_test_path("data/cryptofeed_bybit_v5_raw/BYBIT.jsonl"),
                                     "BTCUSDT", &b, &nb, &a, &na, &d);
    if (rc != SP_OK)
        fail_msg("bybit snapshot: %s", d.msg);
    assert_int_equal(nb, 200);
    assert_int_equal(na, 200);
    assert_true(b[0].px < a[0].px);
    assert_true(b[0].px > 60000 * ONE && a[0].px < 70000 * ONE);
    for (size_t i = 1; i < nb; i++)
        assert_true(b[i].px < b[i - 1].px);
    sp_free(b);
    sp_free(a);
    rc = sp_sim_load_snapshot(sp_test_path("data/lasota_binance_l2/"
                                           "test_positive_binance_depth_snapshot_spot_btcusdt_"
                                           "14-04-2025.csv"),
                              "BTCUSDT", &b, &nb, &a, &na, &d);
    if (rc != SP_OK)
        fail_msg("lasota snapshot: %s", d.msg);
    assert_int_equal(nb, 5000);
    assert_int_equal(na, 5000);
    sp_free(b);
    sp_free(a);
    assert_int_equal(sp_sim_load_snapshot(sp_test_path("data/cryptofeed_bybit_v5_raw/BYBIT.jsonl"),
                                          "NOPEUSDT", &b, &nb, &a, &na, &d),
                     SP_ENOTFOUND);
    sp_sim_bar *k = NULL;
    size_t nk = 0;
    /* 5 Feb 2026 00:00 .. 6 Feb 00:00 UTC: 1,440 one-minute bars */
    rc = sp_sim_load_bars(sp_test_path("data/binance_um_klines_1m/BTCUSDT-1m-2026-02-05_06.csv"),
                          1770249600000LL, 1770336000000LL, &k, &nk, &d);
    if (rc != SP_OK)
        fail_msg("klines: %s", d.msg);
    assert_int_equal(nk, 1440);
    assert_int_equal(k[0].close, 7313600000000LL); /* 73,136.0 */
    sp_free(k);
    assert_int_equal(sp_sim_load_bars(sp_test_path("data/none.csv"), 0, 1, &k, &nk, &d), SP_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_scenario),
        cmocka_unit_test(test_fast_equals_naive),
        cmocka_unit_test(test_monotonic_in_shock),
        cmocka_unit_test(test_monotonic_in_depth),
        cmocka_unit_test(test_conservation),
        cmocka_unit_test(test_no_liquidation_below_smallest_distance),
        cmocka_unit_test(test_without_forced_orders),
        cmocka_unit_test(test_bad_shocks),
        cmocka_unit_test(test_market_model),
        cmocka_unit_test(test_market_enomem),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_load_shipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
