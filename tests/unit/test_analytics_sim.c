/*
 * test_analytics_sim.c -- cross-check of the liquidation heatmap model
 * (docs/metrics.md §8) against the cascade simulator's population
 * (src/sim/, sp_sim_pop_generate) built from the same inputs: the 30 days
 * of Binance spot BTCUSDT 4h bars before 2026-02-05 00:00 (decoded from the
 * shipped file), entries weighted by quote volume, the simulator's default
 * leverage mix, 50% long, the same open interest.
 *
 * The two differ on purpose in three ways (listed in metrics.md §8.4):
 * the simulator draws entries uniformly inside a bar and applies Binance's
 * tiered maintenance margin; the model enters at the close with one rate;
 * and the model removes levels that later bars crossed, where the
 * simulator keeps every position not liquidated at the final mark.  So
 * the check is on the shape: the notional-weighted price-band histograms
 * of liquidation levels, side by side, must correlate, and the median long
 * and short levels must be close.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/analytics.h"
#include "stampede/feed.h"
#include "stampede/sim.h"
#include "stampede/stampede.h"
#include "testalloc.h"

#define END_NS (INT64_C(20489) * SP_AN_NS_PER_DAY) /* 2026-02-05 00:00 UTC */
#define NBARS  180                                 /* 30 days of 4h bars */
#define BANDS  40

typedef struct collect {
    sp_an_bar b[8192];
    size_t n;
} collect;

static sp_err on_events(void *ctx, const sp_event *ev, size_t n)
{
    collect *c = ctx;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        if (e->kind != SP_EV_KLINE || e->sub != 8 || c->n == SP_COUNTOF(c->b))
            continue;
        sp_an_bar *b = &c->b[c->n++];
        b->open_ns = e->exch_ts_ns;
        b->close_ns = e->exch_ts_ns + 4 * SP_AN_NS_PER_HOUR;
        b->open = e->aux[0];
        b->high = e->aux[1];
        b->low = e->aux[2];
        b->close = e->px;
        b->volume = e->qty;
    }
    return SP_OK;
}

/* Pearson of two histograms (helper kept apart from the code under test's). */
static double corr(const double *x, const double *y, size_t n)
{
    double r = 0;
    assert_int_equal(sp_an_pearson(x, y, n, &r), SP_OK);
    return r;
}

/* The notional-weighted median level of a histogram, as a band centre. */
static double median_px(const double *h, size_t n, double lo, double w)
{
    double tot = 0, acc = 0;
    for (size_t i = 0; i < n; i++)
        tot += h[i];
    for (size_t i = 0; i < n; i++) {
        acc += h[i];
        if (acc >= tot / 2)
            return lo + w * ((double)i + 0.5);
    }
    return 0;
}

static void test_heatmap_vs_sim_population(void **state)
{
    (void)state;
    static collect c;
    sp_symtab *syms;
    sp_diag d = {0};
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    sp_feed_sink sink = {on_events, NULL, &c};
    assert_int_equal(sp_feed_decode_file(sp_test_path("data/binance_spot_klines/BTCUSDT_4h.csv"),
                                         NULL, syms, &sink, &d),
                     SP_OK);
    sp_symtab_free(syms);
    size_t end = 0;
    while (end < c.n && c.b[end].open_ns < END_NS)
        end++;
    assert_true(end >= NBARS);
    const sp_an_bar *b = c.b + end - NBARS;
    const int64_t mark = b[NBARS - 1].close;

    /* The simulator's population from the same bars (quote volume weights). */
    static sp_sim_bar sb[NBARS];
    for (size_t i = 0; i < NBARS; i++) {
        sb[i].open_ms = b[i].open_ns / 1000000;
        sb[i].low = b[i].low;
        sb[i].high = b[i].high;
        sb[i].close = b[i].close;
        sb[i].quote_vol = (int64_t)((__int128)b[i].volume * b[i].close / 100000000);
    }
    sp_sim_pop_cfg cfg = sp_sim_pop_cfg_default();
    cfg.venue = sp_sim_venue_builtin();
    cfg.n = 20000;
    cfg.bars = sb;
    cfg.nbars = NBARS;
    cfg.mark_px = mark;
    sp_sim_pop *pop;
    assert_int_equal(sp_sim_pop_generate(&cfg, &pop, &d), SP_OK);

    /* The model with the same mix (shares of positions = shares of notional). */
    sp_sim_lev_bucket sm[16];
    size_t nm = sp_sim_lev_mix(0, sm, 16);
    assert_true(nm > 0);
    sp_an_lev_bucket mix[16];
    for (size_t i = 0; i < nm; i++) {
        mix[i].leverage = sm[i].leverage;
        mix[i].share = sm[i].weight;
    }
    double qv = 0, opened[NBARS];
    for (size_t i = 0; i < NBARS; i++)
        qv += (double)sb[i].quote_vol;
    for (size_t i = 0; i < NBARS; i++)
        opened[i] = (double)cfg.oi_usd / 1e8 * (double)sb[i].quote_vol / qv;
    double m = (double)mark / 1e8, lo = m * 0.5, hi = m * 1.5;
    sp_an_heat_opts o = {mix, nm, 0.004, 0.5, lo, hi, BANDS};
    sp_an_heatmap h;
    assert_int_equal(sp_an_heatmap_build(b, opened, NBARS, &o, &h), SP_OK);

    /* Histograms of liquidation notional by band: model (last row) and population. */
    double ml[BANDS], ms[BANDS], pl[BANDS] = {0}, ps[BANDS] = {0};
    memcpy(ml, h.longs + (NBARS - 1) * BANDS, sizeof(ml));
    memcpy(ms, h.shorts + (NBARS - 1) * BANDS, sizeof(ms));
    for (size_t i = 0; i < sp_sim_pop_count(pop); i++) {
        const sp_sim_pos *p = sp_sim_pop_at(pop, i);
        double lp = (double)p->liq_px / 1e8, nt = (double)p->entry_px / 1e8 * (double)p->qty / 1e8;
        double f = (lp - lo) / h.band_w;
        if (p->liq_px <= 0 || f < 0 || f >= BANDS)
            continue;
        (p->side > 0 ? pl : ps)[(size_t)f] += nt;
    }
    double cl = corr(ml, pl, BANDS), cs = corr(ms, ps, BANDS);
    double mdl = median_px(ml, BANDS, lo, h.band_w), pdl = median_px(pl, BANDS, lo, h.band_w);
    double mds = median_px(ms, BANDS, lo, h.band_w), pds = median_px(ps, BANDS, lo, h.band_w);
    print_message("heatmap vs sim population (mark %.2f): corr longs %.3f shorts %.3f; median long "
                  "level %.0f vs %.0f, short %.0f vs %.0f\n",
                  m, cl, cs, mdl, pdl, mds, pds);
    /* Same shape: the histograms correlate and the medians are within 5% of the mark. */
    assert_true(cl > 0.5);
    assert_true(cs > 0.5);
    assert_true(fabs(mdl - pdl) < 0.05 * m);
    assert_true(fabs(mds - pds) < 0.05 * m);
    /* and both sides sit on the right side of the mark */
    assert_true(mdl < m && pdl < m && mds > m && pds > m);
    sp_an_heatmap_fini(&h);
    sp_sim_pop_free(pop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heatmap_vs_sim_population),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
