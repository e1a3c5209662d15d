/*
 * test_analytics.c -- the analytics metrics on small hand-computed
 * fixtures (docs/metrics.md): every expected value below was worked out by
 * hand (or, for square roots and logarithms, by a formula written out in
 * the comment next to it), never produced by the code under test.
 * Degenerate inputs (empty windows, single points, gaps, zero variance)
 * must give an error code, never NaN.  Constructors and every function
 * that allocates run under the allocation-failure loop.
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
#include "stampede/clock.h"
#include "testalloc.h"

#define P(x)  ((int64_t)((x)*100000000LL)) /* integer price -> scale 1e-8 */
#define DAY   SP_AN_NS_PER_DAY
#define SEC   SP_AN_NS_PER_SEC
#define EPS   1e-12
#define D2026 INT64_C(20490) /* 2026-02-06 is day 20490 since 1970-01-01 */

static void assert_near(double got, double want, double eps)
{
    if (!(fabs(got - want) <= eps))
        fail_msg("got %.17g, want %.17g (eps %g)", got, want, eps);
}

/* Four daily bars: the crash fixture used by the price tests. */
static const sp_an_bar bars4[] = {
    {0 * DAY, 1 * DAY, P(100), P(110), P(90), P(105), P(1)},
    {1 * DAY, 2 * DAY, P(105), P(120), P(100), P(110), P(2)},
    {2 * DAY, 3 * DAY, P(110), P(115), P(60), P(80), P(3)},
    {3 * DAY, 4 * DAY, P(80), P(90), P(70), P(88), P(4)},
};

static void test_extremes(void **state)
{
    (void)state;
    sp_an_extremes x;
    assert_int_equal(sp_an_extremes_of(bars4, 4, 0, 4 * DAY, &x), SP_OK);
    assert_int_equal(x.high, P(120));
    assert_int_equal(x.high_ns, 1 * DAY);
    assert_int_equal(x.low, P(60));
    assert_int_equal(x.low_ns, 2 * DAY);
    assert_int_equal(x.bars, 4);
    assert_int_equal(sp_an_extremes_of(bars4, 4, 2 * DAY, 4 * DAY, &x), SP_OK);
    assert_int_equal(x.high, P(115));
    assert_int_equal(x.bars, 2);
    /* the window is half-open: [4 days, 5 days) holds nothing */
    assert_int_equal(sp_an_extremes_of(bars4, 4, 4 * DAY, 5 * DAY, &x), SP_ENOTFOUND);
    assert_int_equal(sp_an_extremes_of(bars4, 0, 0, 5 * DAY, &x), SP_ENOTFOUND);
}

static void test_drawdown(void **state)
{
    (void)state;
    sp_an_series s;
    sp_an_drawdown w;
    sp_an_series_init(&s);
    assert_int_equal(sp_an_drawdown_of(bars4, 4, &s, &w), SP_OK);
    /* running highs 110, 120, 120, 120 against lows 90, 100, 60, 70 */
    assert_int_equal(s.n, 4);
    assert_near(s.p[0].v, 90.0 / 110 - 1, EPS);
    assert_near(s.p[1].v, 100.0 / 120 - 1, EPS);
    assert_near(s.p[2].v, -0.5, EPS);
    assert_near(s.p[3].v, 70.0 / 120 - 1, EPS);
    assert_near(w.dd, -0.5, EPS);
    assert_int_equal(w.peak, P(120));
    assert_int_equal(w.peak_ns, 1 * DAY);
    assert_int_equal(w.trough, P(60));
    assert_int_equal(w.trough_ns, 2 * DAY);
    /* one bar: drawdown of its own low from its own high */
    assert_int_equal(sp_an_drawdown_of(bars4, 1, NULL, &w), SP_OK);
    assert_near(w.dd, 90.0 / 110 - 1, EPS);
    assert_int_equal(sp_an_drawdown_of(bars4, 0, NULL, &w), SP_ENOTFOUND);
    sp_an_series_fini(&s);
}

static void test_change(void **state)
{
    (void)state;
    double c = 7;
    assert_int_equal(sp_an_change(bars4, 4, 4 * DAY, DAY, &c), SP_OK);
    assert_near(c, 88.0 / 80 - 1, EPS); /* +10% */
    assert_int_equal(sp_an_change(bars4, 4, 4 * DAY, 2 * DAY, &c), SP_OK);
    assert_near(c, 88.0 / 110 - 1, EPS); /* -20% */
    /* no bar closes at the start (0) or at day 10: not found, c untouched */
    c = 7;
    assert_int_equal(sp_an_change(bars4, 4, 4 * DAY, 4 * DAY, &c), SP_ENOTFOUND);
    assert_int_equal(sp_an_change(bars4, 4, 10 * DAY, DAY, &c), SP_ENOTFOUND);
    assert_near(c, 7, 0);
}

static void test_realised_vol(void **state)
{
    (void)state;
    sp_an_vol v;
    /* returns ln(110/105), ln(80/110), ln(88/80); sample stdev (n-1 = 2) */
    assert_int_equal(sp_an_realised_vol(bars4, 4, 0, 4 * DAY, 365, &v), SP_OK);
    assert_int_equal(v.returns, 3);
    assert_near(v.stdev, 0.22612197664133074, 1e-13);
    assert_near(v.annualised, 0.22612197664133074 * sqrt(365.0), 1e-12);
    /* a gap (bar 2 missing): 105->110 is the only adjacent pair left; 110->88 spans the gap */
    sp_an_bar gap[3] = {bars4[0], bars4[1], bars4[3]};
    assert_int_equal(sp_an_realised_vol(gap, 3, 0, 4 * DAY, 365, &v), SP_ERANGE);
    /* single point, empty window */
    assert_int_equal(sp_an_realised_vol(bars4, 1, 0, 4 * DAY, 365, &v), SP_ERANGE);
    assert_int_equal(sp_an_realised_vol(bars4, 4, 10 * DAY, 20 * DAY, 365, &v), SP_ERANGE);
}

static void test_pearson(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3, 4}, up[] = {2, 4, 6, 8}, down[] = {8, 6, 4, 2};
    const double x3[] = {1, 2, 3}, y3[] = {1, 3, 2}, flat[] = {5, 5, 5, 5};
    double r;
    assert_int_equal(sp_an_pearson(x, up, 4, &r), SP_OK);
    assert_near(r, 1, 0);
    assert_int_equal(sp_an_pearson(x, down, 4, &r), SP_OK);
    assert_near(r, -1, 0);
    /* centred: x = -1,0,1; y = -1,1,0 -> sxy 1, sxx 2, syy 2 -> 0.5 */
    assert_int_equal(sp_an_pearson(x3, y3, 3, &r), SP_OK);
    assert_near(r, 0.5, EPS);
    assert_int_equal(sp_an_pearson(x, flat, 4, &r), SP_EDIVZERO);
    assert_int_equal(sp_an_pearson(x, up, 2, &r), SP_ERANGE);
}

/* a on days 0..5; b has no day 2 (a holiday) and two samples on day 3 */
static const sp_an_point ca[] = {{0 * DAY, 100}, {1 * DAY, 102}, {2 * DAY, 101},
                                 {3 * DAY, 105}, {4 * DAY, 107}, {5 * DAY, 104}};
static const sp_an_point cb[] = {{0 * DAY + 5, 50}, {1 * DAY, 51},     {3 * DAY, 99},
                                 {3 * DAY + 9, 52}, {4 * DAY + 1, 54}, {5 * DAY, 53}};

static void test_corr(void **state)
{
    (void)state;
    double r;
    size_t used = 0;
    /*
     * Common days 0,1,3,4,5 (day 3's last sample of b counts): a = 100,102,
     * 105,107,104, b = 50,51,52,54,53.  Expected values are Pearson of the
     * 4 log / simple returns or of the 5 levels, computed by hand-written
     * formulas outside the code (python statistics.correlation).
     */
    assert_int_equal(sp_an_corr(ca, 6, cb, 6, 4, SP_AN_RET_LOG, 5 * DAY, &r, &used), SP_OK);
    assert_int_equal(used, 4);
    assert_near(r, 0.8813197447474365, 1e-12);
    assert_int_equal(sp_an_corr(ca, 6, cb, 6, 4, SP_AN_RET_SIMPLE, 5 * DAY, &r, NULL), SP_OK);
    assert_near(r, 0.8758419610487923, 1e-12);
    assert_int_equal(sp_an_corr(ca, 6, cb, 6, 5, SP_AN_RET_LEVEL, 5 * DAY + 3, &r, NULL), SP_OK);
    assert_near(r, 0.9363291775690445, 1e-12);
    /* window 3: the last three returns only */
    assert_int_equal(sp_an_corr(ca, 6, cb, 6, 3, SP_AN_RET_LOG, 5 * DAY, &r, NULL), SP_OK);
    assert_near(r, 0.8824913389281275, 1e-12);
    /* ending on day 4: only 3 returns exist -> a window of 4 is too long */
    assert_int_equal(sp_an_corr(ca, 6, cb, 6, 4, SP_AN_RET_LOG, 4 * DAY, &r, NULL), SP_ERANGE);
    assert_int_equal(sp_an_corr(ca, 6, cb, 6, 2, SP_AN_RET_LOG, 5 * DAY, &r, NULL), SP_ERANGE);
    assert_int_equal(sp_an_corr(ca, 0, cb, 6, 3, SP_AN_RET_LOG, 5 * DAY, &r, NULL), SP_ERANGE);
    /* rolling window 3: points on days 4 and 5 */
    sp_an_series s;
    sp_an_series_init(&s);
    assert_int_equal(sp_an_corr_rolling(ca, 6, cb, 6, 3, SP_AN_RET_LOG, &s), SP_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.p[0].ts_ns, 4 * DAY);
    assert_int_equal(s.p[1].ts_ns, 5 * DAY);
    assert_near(s.p[1].v, 0.8824913389281275, 1e-12);
    sp_an_series_fini(&s);
    assert_int_equal(sp_an_ret_from_name("simple"), SP_AN_RET_SIMPLE);
    assert_int_equal(sp_an_ret_from_name("bogus"), -1);
    assert_string_equal(sp_an_ret_name(SP_AN_RET_LEVEL), "level");
}

static void test_series_rejects_nan(void **state)
{
    (void)state;
    sp_an_series s;
    sp_an_series_init(&s);
    assert_int_equal(sp_an_series_push(&s, 0, NAN), SP_EINVAL);
    assert_int_equal(sp_an_series_push(&s, 0, INFINITY), SP_EINVAL);
    assert_int_equal(s.n, 0);
    sp_an_series_fini(&s);
}

static sp_event ev_at(uint8_t kind, int64_t ts, int64_t px)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    e.kind = kind;
    e.venue = SP_VENUE_BINANCE_UM;
    e.symbol_id = 1;
    e.exch_ts_ns = ts;
    e.px = px;
    return e;
}

static void test_funding_daily(void **state)
{
    (void)state;
    /* PROVENANCE.md §2: BTC settlements of 2026-02-06, with calc_time jitter */
    int64_t d = D2026 * DAY, ms = INT64_C(1000000);
    sp_event ev[6] = {
        ev_at(SP_EV_FUNDING, d - 8 * SP_AN_NS_PER_HOUR, 100000000), /* 02-05 16:00, 0.0001 */
        ev_at(SP_EV_FUNDING, d + 4 * ms, -15970000),                /* 00:00:00.004 */
        ev_at(SP_EV_FUNDING, d + 8 * SP_AN_NS_PER_HOUR, -136880000),
        ev_at(SP_EV_FUNDING, d + 8 * SP_AN_NS_PER_HOUR + 2 * ms, -136880000), /* duplicate */
        ev_at(SP_EV_FUNDING, d + 16 * SP_AN_NS_PER_HOUR, -134780000),
        ev_at(SP_EV_KLINE, d + 17 * SP_AN_NS_PER_HOUR, 5), /* not funding: ignored */
    };
    for (int i = 0; i < 5; i++)
        ev[i].aux[1] = 8;
    sp_an_funding_day days[4];
    size_t n = 0;
    assert_int_equal(sp_an_funding_daily(ev, 6, days, 4, &n), SP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(days[0].day_ns, d - DAY);
    assert_int_equal(days[0].settles, 1);
    assert_near(days[0].mean, 0.0001, 1e-18);
    assert_near(days[0].annualised, 0.0001 * 3 * 365, 1e-15);
    assert_int_equal(days[1].day_ns, d);
    assert_int_equal(days[1].settles, 3);
    assert_int_equal(days[1].sum_e12, -287630000);
    /* mean -287630000e-12 / 3 = -9.5876666...e-05 (lukmol: -9.5877e-05) */
    assert_near(days[1].mean, -287630000e-12 / 3, 1e-18);
    assert_near(days[1].mean_abs, 287630000e-12 / 3, 1e-18);
    assert_near(days[1].annualised, -0.10498495, 1e-12);
    assert_int_equal(days[1].interval_h, 8);
    /* too small an output array */
    assert_int_equal(sp_an_funding_daily(ev, 6, days, 1, &n), SP_ETOOBIG);
    assert_near(sp_an_funding_annualise(0.0001, 4), 0.0001 * 6 * 365, 1e-15);
    assert_near(sp_an_funding_annualise(0.0001, 0), 0, 0);
}

static void test_flow_months(void **state)
{
    (void)state;
    int64_t nov3, dec1;
    assert_int_equal(sp_date_to_days(2025, 11, 3, &nov3), SP_OK);
    assert_int_equal(sp_date_to_days(2025, 12, 1, &dec1), SP_OK);
    sp_event ev[4] = {
        ev_at(SP_EV_SERIES, nov3 * DAY, P(100.5)),
        ev_at(SP_EV_SERIES, (nov3 + 1) * DAY, -P(50.25)),
        ev_at(SP_EV_SERIES, (nov3 + 2) * DAY, -P(200)),
        ev_at(SP_EV_SERIES, dec1 * DAY, -P(10)),
    };
    sp_an_flow_month m[3];
    size_t n;
    assert_int_equal(sp_an_flow_months(ev, 4, m, 3, &n), SP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(m[0].year, 2025);
    assert_int_equal(m[0].month, 11);
    assert_int_equal(m[0].net, -P(149.75));
    assert_int_equal(m[0].inflow, P(100.5));
    assert_int_equal(m[0].outflow, -P(250.25));
    assert_int_equal(m[0].largest_out, -P(200));
    assert_int_equal(m[0].largest_out_ns, (nov3 + 2) * DAY);
    assert_int_equal(m[0].days, 3);
    assert_int_equal(m[1].month, 12);
    assert_int_equal(m[1].net, -P(10));
    /* the same day twice (two funds mixed up) is refused */
    ev[1].exch_ts_ns = nov3 * DAY;
    assert_int_equal(sp_an_flow_months(ev, 4, m, 3, &n), SP_EINVAL);
    assert_int_equal(sp_an_flow_months(ev, 0, m, 3, &n), SP_OK);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_drawdown),
        cmocka_unit_test(test_change),
        cmocka_unit_test(test_realised_vol),
        cmocka_unit_test(test_pearson),
        cmocka_unit_test(test_corr),
        cmocka_unit_test(test_series_rejects_nan),
        cmocka_unit_test(test_funding_daily),
        cmocka_unit_test(test_flow_months),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
