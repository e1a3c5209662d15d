/*
 * test_analytics_liq.c -- liquidation statistics, the traders estimator,
 * our Fear & Greed index, index agreement and the heatmap model on small
 * hand-computed fixtures (docs/metrics.md §6-§8), with allocation-failure
 * loops for the functions that allocate.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/alloc.h"
#include "stampede/analytics.h"
#include "test_store_util.h"
#include "testalloc.h"

#define P(x) ((int64_t)((x)*100000000LL))
#define SEC  SP_AN_NS_PER_SEC
#define MS   INT64_C(1000000)
#define DAY  SP_AN_NS_PER_DAY

static void assert_near(double got, double want, double eps)
{
    if (!(fabs(got - want) <= eps))
        fail_msg("got %.17g, want %.17g (eps %g)", got, want, eps);
}

#define liq tsu_liq /* (venue, sym, ts, long_liq, notional) */

static void test_liq_notional(void **state)
{
    (void)state;
    int64_t n;
    sp_event e = liq(SP_VENUE_BINANCE_UM, 1, 0, true, 0);
    e.px = P(61000);
    e.aux[0] = P(60000); /* average price wins over the order price */
    e.aux[1] = P(0.5);
    assert_int_equal(sp_an_liq_notional(&e, "BTCUSDT", &n), SP_OK);
    assert_int_equal(n, P(30000));
    /* COIN-M: 7 contracts of US$ 100 (PROVENANCE.md §3 first row) */
    sp_event c = liq(SP_VENUE_BINANCE_CM, 1, 0, false, 0);
    c.px = P(63661.4);
    c.qty = P(7);
    c.aux[0] = P(63425.1);
    c.aux[1] = P(7);
    assert_int_equal(sp_an_liq_notional(&c, "BTCUSD_PERP", &n), SP_OK);
    assert_int_equal(n, P(700));
    assert_int_equal(sp_an_liq_notional(&c, "ETHUSD_PERP", &n), SP_OK);
    assert_int_equal(n, P(70));
    /* decoder-given notional is used as is */
    sp_event g = liq(SP_VENUE_OKX, 1, 0, true, P(123.45));
    assert_int_equal(sp_an_liq_notional(&g, NULL, &n), SP_OK);
    assert_int_equal(n, P(123.45));
    /* overflow is reported, never wrapped */
    sp_event o = liq(SP_VENUE_BINANCE_UM, 1, 0, true, 0);
    o.aux[0] = INT64_MAX;
    o.aux[1] = INT64_MAX;
    assert_int_equal(sp_an_liq_notional(&o, NULL, &n), SP_EOVERFLOW);
}

static void test_liq_aggregate(void **state)
{
    (void)state;
    sp_event ev[6] = {
        liq(SP_VENUE_BINANCE_UM, 1, 100 * MS, true, P(1000)),
        liq(SP_VENUE_BINANCE_UM, 1, 500 * MS, true, 0), /* 60,000 x 0.5 */
        liq(SP_VENUE_BINANCE_UM, 1, 1200 * MS, false, P(500)),
        liq(SP_VENUE_OKX, 2, 2 * SEC, true, P(2000)),
        liq(SP_VENUE_OKX, 2, 10 * SEC, true, P(99999)), /* outside [0, 10 s) */
        liq(SP_VENUE_OKX, 2, 3 * SEC, true, P(5)),
    };
    ev[1].aux[0] = P(60000);
    ev[1].aux[1] = P(0.5);
    ev[5].kind = SP_EV_TRADE; /* not a liquidation */
    sp_an_liq_group g[4];
    size_t n = 0;
    sp_an_liq_total t;
    assert_int_equal(sp_an_liq_aggregate(ev, 6, NULL, 0, 10 * SEC, g, 4, &n, &t), SP_OK);
    assert_int_equal(t.count, 4);
    assert_int_equal(t.notional, P(33500));
    assert_int_equal(t.long_notional, P(33000));
    assert_int_equal(t.short_notional, P(500));
    assert_int_equal(t.largest, P(30000));
    assert_int_equal(t.largest_ns, 500 * MS);
    assert_int_equal(t.largest_venue, SP_VENUE_BINANCE_UM);
    assert_int_equal(n, 3);
    /* largest group first */
    assert_int_equal(g[0].venue, SP_VENUE_BINANCE_UM);
    assert_true(g[0].long_side);
    assert_int_equal(g[0].count, 2);
    assert_int_equal(g[0].notional, P(31000));
    assert_int_equal(g[1].venue, SP_VENUE_OKX);
    assert_int_equal(g[1].notional, P(2000));
    assert_false(g[2].long_side);
    assert_int_equal(g[2].notional, P(500));
    /* an empty window is a valid zero, not an error */
    assert_int_equal(sp_an_liq_aggregate(ev, 6, NULL, 20 * SEC, 30 * SEC, g, 4, &n, &t), SP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(t.count, 0);
    assert_int_equal(t.notional, 0);
    /* too many groups for the output array */
    assert_int_equal(sp_an_liq_aggregate(ev, 6, NULL, 0, 10 * SEC, g, 2, &n, &t), SP_ETOOBIG);
}

static void test_traders(void **state)
{
    (void)state;
    sp_event ev[40];
    size_t k = 0;
    /* Binance BTCUSDT: 3 events in 2 distinct 1 s slots of minute 0 */
    ev[k++] = liq(SP_VENUE_BINANCE_UM, 1, 100 * MS, true, P(1));
    ev[k++] = liq(SP_VENUE_BINANCE_UM, 1, 500 * MS, true, P(1));
    ev[k++] = liq(SP_VENUE_BINANCE_UM, 1, 1200 * MS, true, P(1));
    /* Binance ETHUSDT: 30 distinct slots of 60 -> 60 ln 2 orders */
    for (int i = 0; i < 30; i++)
        ev[k++] = liq(SP_VENUE_BINANCE_UM, 2, 2 * i * SEC + 7 * MS, false, P(1));
    /* OKX: one order per event, counted */
    ev[k++] = liq(SP_VENUE_OKX, 3, 5 * SEC, true, P(1));
    sp_an_traders t;
    assert_int_equal(sp_an_liq_traders(ev, k, 0, 60 * SEC, &t), SP_OK);
    assert_int_equal(t.counted, 1);
    assert_int_equal(t.observed, 33);
    assert_int_equal(t.saturated, 0);
    /*
     * BTC cell: k=2 of W=60 -> 60 * -ln(1 - 2/60) = 2.034 < 3 events -> 3;
     * ETH cell: 60 ln 2 = 41.5888...; plus the OKX order.
     * Var: 60 * (2/60) / (58/60) + 60 * 0.5 / 0.5.
     */
    assert_near(t.estimate, 60 * log(2.0) + 3 + 1, 1e-9);
    assert_near(t.stderr_est, sqrt(60.0 * (2.0 / 60) / (58.0 / 60) + 60.0), 1e-9);
    assert_true(t.estimate >= (double)(t.counted + t.observed));
    /* Bybit: every 500 ms slot of one minute occupied -> saturated lower bound */
    sp_event by[120];
    for (int i = 0; i < 120; i++)
        by[i] = liq(SP_VENUE_BYBIT, 4, i * 500 * MS + MS, true, P(1));
    assert_int_equal(sp_an_liq_traders(by, 120, 0, 60 * SEC, &t), SP_OK);
    assert_int_equal(t.saturated, 1);
    assert_near(t.estimate, 120 * log(240.0), 1e-9); /* k = W - 1/2 */
    /* nothing in the window */
    assert_int_equal(sp_an_liq_traders(by, 120, 100 * SEC, 200 * SEC, &t), SP_OK);
    assert_near(t.estimate, 0, 0);
    assert_near(t.stderr_est, 0, 0);
    int64_t slot;
    assert_true(sp_an_venue_is_throttled(SP_VENUE_BINANCE_UM, &slot));
    assert_int_equal(slot, 1000 * MS);
    assert_false(sp_an_venue_is_throttled(SP_VENUE_HYPERLIQUID, &slot));
}

static void test_fg_labels(void **state)
{
    (void)state;
    /* PROVENANCE.md §8: 25 Extreme Fear, 46 Fear, 47 Neutral */
    assert_string_equal(sp_an_fg_label(25), "Extreme Fear");
    assert_string_equal(sp_an_fg_label(26), "Fear");
    assert_string_equal(sp_an_fg_label(46), "Fear");
    assert_string_equal(sp_an_fg_label(47), "Neutral");
    assert_string_equal(sp_an_fg_label(55), "Greed");
    assert_string_equal(sp_an_fg_label(76), "Extreme Greed");
}

/*
 * Closes 100 + i rise linearly, so the momentum raw value 14.5 / (85.5 + i)
 * falls every day: each day's value is below all of its history -> score 0
 * from the first day with 90 previous values (day 29 + 90 = 119).  A jump
 * to 1000 on day 125 is above its whole history -> score 100.
 */
static void fill_linear(sp_an_point *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c[i].ts_ns = (int64_t)i * DAY;
        c[i].v = 100.0 + (double)i;
    }
    c[n - 1].v = 1000;
}

static void test_fg_index(void **state)
{
    (void)state;
    sp_an_point c[126];
    fill_linear(c, 126);
    sp_an_fg_weights w = {0, 1, 0, 0};
    sp_an_series s;
    sp_an_series_init(&s);
    assert_int_equal(sp_an_fg_index(c, NULL, 126, NULL, 0, &w, &s), SP_OK);
    assert_int_equal(s.n, 7);
    assert_int_equal(s.p[0].ts_ns, 119 * DAY);
    for (size_t i = 0; i < 6; i++)
        assert_near(s.p[i].v, 0, 0);
    assert_near(s.p[6].v, 100, 0);
    sp_an_series_fini(&s);
    /* funding weight with no funding data: renormalised away, same result */
    sp_an_fg_weights w2 = {0, 1, 0, 1};
    assert_int_equal(sp_an_fg_index(c, NULL, 126, NULL, 0, &w2, &s), SP_OK);
    assert_int_equal(s.n, 7);
    assert_near(s.p[6].v, 100, 0);
    sp_an_series_fini(&s);
    /* constant funding every day: every rank is a tie -> 50; index (0 + 50) / 2 */
    sp_an_point f[126];
    for (size_t i = 0; i < 126; i++) {
        f[i].ts_ns = (int64_t)i * DAY + 3600;
        f[i].v = 0.0001;
    }
    assert_int_equal(sp_an_fg_index(c, NULL, 126, f, 126, &w2, &s), SP_OK);
    assert_true(s.n >= 7);
    assert_near(s.p[s.n - 2].v, 25, 1e-12);
    assert_near(s.p[s.n - 1].v, 75, 1e-12);
    sp_an_series_fini(&s);
    /* bad weights, non-positive price */
    sp_an_fg_weights bad = {-1, 1, 0, 0}, zero = {0, 0, 0, 0};
    assert_int_equal(sp_an_fg_index(c, NULL, 126, NULL, 0, &bad, &s), SP_EINVAL);
    assert_int_equal(sp_an_fg_index(c, NULL, 126, NULL, 0, &zero, &s), SP_EINVAL);
    c[3].v = 0;
    assert_int_equal(sp_an_fg_index(c, NULL, 126, NULL, 0, &w, &s), SP_EINVAL);
    assert_int_equal(s.n, 0);
    /* too short a history: no point at all, and no error */
    fill_linear(c, 126);
    assert_int_equal(sp_an_fg_index(c, NULL, 100, NULL, 0, &w, &s), SP_OK);
    assert_int_equal(s.n, 0);
    sp_an_fg_weights d = sp_an_fg_default_weights();
    assert_near(d.volatility + d.momentum + d.volume + d.funding, 1, 1e-15);
}

static void test_agreement(void **state)
{
    (void)state;
    const sp_an_point a[] = {{0, 10}, {DAY, 20}, {2 * DAY, 30}, {3 * DAY + 5, 40}};
    const sp_an_point b[] = {{0, 12}, {DAY, 18}, {2 * DAY, 33}, {3 * DAY, 44}, {4 * DAY, 1}};
    sp_an_agreement g;
    assert_int_equal(sp_an_agreement_of(a, 4, b, 5, &g), SP_OK);
    assert_int_equal(g.days, 4);
    assert_near(g.mad, (2 + 2 + 3 + 4) / 4.0, 1e-15);
    assert_near(g.corr, 0.9882785090322375, 1e-12);
    assert_int_equal(sp_an_agreement_of(a, 2, b, 5, &g), SP_ERANGE);
}

static void test_heatmap(void **state)
{
    (void)state;
    /* bar 0 opens US$ 1000 at close 100 with 10x only, 50/50, mmr 0 */
    const sp_an_bar b[3] = {
        {0, DAY, P(100), P(101), P(99), P(100), 0},
        {DAY, 2 * DAY, P(100), P(105), P(95), P(100), 0},     /* touches neither 90 nor 110 */
        {2 * DAY, 3 * DAY, P(100), P(112), P(98), P(111), 0}, /* high 112 >= 110: shorts go */
    };
    const double opened[3] = {1000, 0, -250};
    const sp_an_lev_bucket mix[1] = {{10, 1}};
    sp_an_heat_opts o = {mix, 1, 0, 0.5, 0, 200, 20};
    sp_an_heatmap h;
    assert_int_equal(sp_an_heatmap_build(b, opened, 3, &o, &h), SP_OK);
    assert_int_equal(h.steps, 3);
    assert_near(h.band_w, 10, 0);
    /* long level 90 -> band 9, short level 110 -> band 11 */
    assert_near(h.longs[0 * 20 + 9], 500, 0);
    assert_near(h.shorts[0 * 20 + 11], 500, 0);
    assert_near(h.longs[1 * 20 + 9], 500, 0);
    assert_near(h.hit[1], 0, 0);
    /* bar 2: the short level is hit (500); then -250 closes half of the 500 left */
    assert_near(h.hit[2], 500, 0);
    assert_near(h.shorts[2 * 20 + 11], 0, 0);
    assert_near(h.longs[2 * 20 + 9], 250, 1e-12);
    assert_int_equal(h.ts_ns[2], 2 * DAY);
    sp_an_heatmap_fini(&h);
    sp_an_heat_opts bad = o;
    bad.bands = 0;
    assert_int_equal(sp_an_heatmap_build(b, opened, 3, &bad, &h), SP_EINVAL);
}

/* ---- allocation failure ------------------------------------------------- */

static sp_err heat_once(void *ctx)
{
    (void)ctx;
    const sp_an_bar b[2] = {{0, DAY, P(100), P(101), P(99), P(100), 0},
                            {DAY, 2 * DAY, P(100), P(105), P(95), P(100), 0}};
    const double opened[2] = {1000, 10};
    sp_an_heat_opts o = {NULL, 0, 0.005, 0.5, 0, 200, 20};
    sp_an_heatmap h;
    sp_err rc = sp_an_heatmap_build(b, opened, 2, &o, &h);
    if (rc == SP_OK)
        sp_an_heatmap_fini(&h);
    return rc;
}

static sp_err fg_once(void *ctx)
{
    (void)ctx;
    sp_an_point c[126];
    fill_linear(c, 126);
    sp_an_fg_weights w = sp_an_fg_default_weights();
    sp_an_series s;
    sp_an_series_init(&s);
    sp_err rc = sp_an_fg_index(c, NULL, 126, NULL, 0, &w, &s);
    sp_an_series_fini(&s);
    return rc;
}

static sp_err traders_once(void *ctx)
{
    (void)ctx;
    sp_event ev[2] = {liq(SP_VENUE_BINANCE_UM, 1, 0, true, P(1)),
                      liq(SP_VENUE_BINANCE_UM, 1, 2 * SEC, true, P(1))};
    sp_an_traders t;
    return sp_an_liq_traders(ev, 2, 0, 60 * SEC, &t);
}

static sp_err corr_once(void *ctx)
{
    (void)ctx;
    const sp_an_point a[] = {{0, 1}, {DAY, 2}, {2 * DAY, 4}, {3 * DAY, 3}, {4 * DAY, 5}};
    const sp_an_point b[] = {{0, 2}, {DAY, 3}, {2 * DAY, 5}, {3 * DAY, 4}, {4 * DAY, 4}};
    sp_an_series s;
    sp_an_series_init(&s);
    sp_err rc = sp_an_corr_rolling(a, 5, b, 5, 3, SP_AN_RET_LOG, &s);
    sp_an_series_fini(&s);
    double r;
    if (rc == SP_OK)
        rc = sp_an_corr(a, 5, b, 5, 3, SP_AN_RET_LOG, 4 * DAY, &r, NULL);
    return rc;
}

static void test_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(heat_once, NULL, 50) > 1);
    assert_true(sp_test_enomem_loop(fg_once, NULL, 50) > 1);
    assert_true(sp_test_enomem_loop(traders_once, NULL, 50) > 1);
    assert_true(sp_test_enomem_loop(corr_once, NULL, 50) > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_liq_notional), cmocka_unit_test(test_liq_aggregate),
        cmocka_unit_test(test_traders),      cmocka_unit_test(test_fg_labels),
        cmocka_unit_test(test_fg_index),     cmocka_unit_test(test_agreement),
        cmocka_unit_test(test_heatmap),      cmocka_unit_test(test_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
