/*
 * test_analytics_data.c -- the analytics on the real shipped data, through
 * the real pipeline: each file is decoded by sp_feed_decode_file, appended
 * to a fresh SQLite store (sp_store_append), and the crash-day report is
 * built from that store.  The expected values are the ones a reader can
 * check in data/PROVENANCE.md (BTC high 126,199.63 on 2025-10-06, low
 * 60,000.00 on 2026-02-06, the perp low 59,800.00 at 00:19, the funding
 * settlements of 2026-02-06, Farside monthly nets, Fear & Greed 9, the
 * BTC/NDX correlation 0.58).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stampede/analytics.h"
#include "stampede/feed.h"
#include "stampede/stampede.h"
#include "test_store_util.h"
#include "testharness.h"
#include "testalloc.h"

#define P(x)     ((int64_t)((x)*100000000LL))
#define DAY      SP_AN_NS_PER_DAY
#define CRASH_NS (INT64_C(20490) * DAY) /* 2026-02-06 00:00 UTC */

static const char *const files[] = {
    "data/binance_spot_klines/BTCUSDT_1d.csv",
    "data/binance_spot_klines/BTCUSDT_4h.csv",
    "data/binance_spot_klines/ETHUSDT_1d.csv",
    "data/binance_spot_klines/ETHUSDT_4h.csv",
    "data/binance_spot_klines/XRPUSDT_4h.csv",
    "data/binance_spot_klines/SOLUSDT_4h.csv",
    "data/binance_spot_klines/DOGEUSDT_4h.csv",
    "data/binance_spot_klines/BNBUSDT_4h.csv",
    "data/binance_um_klines_1m/BTCUSDT-1m-2026-02-05_06.csv",
    "data/binance_um_fundingRate/raw/BTCUSDT-fundingRate-2026-02.csv",
    "data/binance_um_fundingRate/clean/BTCUSDT.csv", /* the same settlements again */
    "data/etf_flows/farside_btc_etf_flows_2024-01_2026-08.json",
    "data/fear_greed/alternative_me_fgi_daily_2018-02_2026-08.csv",
    "data/lukmol_btc_daily/btc_price_volume.csv",
    "data/lukmol_btc_daily/funding_rates.csv",
    "data/yfinance_macro_daily/^NDX.csv",
    "data/yfinance_macro_daily/QQQ.csv",
    "data/yfinance_macro_daily/GC=F.csv",
    "data/yfinance_macro_daily/SI=F.csv",
    "data/binance_vision_format/BTCUSD_PERP-liquidationSnapshot-2024-10-01.head.csv",
};

typedef sp_test_sink ingest;

static char dbdir[256];
static char dburi[320];
static sp_store *store;

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dbdir, sizeof(dbdir), "%s/sp_analytics_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dbdir) == NULL)
        return -1;
    snprintf(dburi, sizeof(dburi), "sqlite:%s/t.db", dbdir);
    sp_diag d = {0};
    ingest g = {0};
    if (sp_store_open(dburi, 0, &g.st, &d) != SP_OK || sp_symtab_new(&g.syms) != SP_OK) {
        fprintf(stderr, "setup: %s\n", d.msg);
        return -1;
    }
    sp_feed_sink sink = {sp_test_sink_events, sp_test_sink_reject, &g};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        sp_err rc = sp_feed_decode_file(sp_test_path(files[i]), NULL, g.syms, &sink, &d);
        if (rc != SP_OK) {
            fprintf(stderr, "setup: %s: %s\n", files[i], d.msg);
            return -1;
        }
    }
    sp_symtab_free(g.syms);
    if (g.rejects != 0) {
        fprintf(stderr, "setup: %llu records rejected\n", (unsigned long long)g.rejects);
        return -1;
    }
    store = g.st;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[400];
    sp_an_plots_cleanup();
    sp_store_close(store);
    const char *sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/t.db%s", dbdir, sfx[i]);
        unlink(p);
    }
    rmdir(dbdir);
    return 0;
}

static sp_an_report rep; /* large: keep it off the stack */

static const sp_an_figure *need(const char *key)
{
    const sp_an_figure *f = sp_an_report_figure(&rep, key);
    if (f == NULL)
        fail_msg("figure %s missing", key);
    if (!f->has_value)
        fail_msg("figure %s has no value: %s", key, f->data);
    return f;
}

static void test_report_crash_day(void **state)
{
    (void)state;
    sp_an_report_opts o = {.day_ns = CRASH_NS};
    sp_diag d = {0};
    assert_int_equal(sp_an_report_build(store, &o, &rep, &d), SP_OK);
    /* PROVENANCE §1: ATH 126,199.63 on 2025-10-06; spot low 60,000.00 */
    const sp_an_figure *f = need("btc_ath");
    assert_true(f->value == 126199.63);
    assert_string_equal(f->data, "126,199.63 on 2025-10-06");
    assert_string_equal(f->article, "126,223");
    f = need("btc_low");
    assert_true(f->value == 60000.0);
    /* PROVENANCE §14: perp low 59,800.00 at 00:19 */
    f = need("btc_low_perp");
    assert_string_equal(f->data, "59,800.00 at 2026-02-06 00:19");
    /* drawdown 60000 / 126199.63 - 1 */
    f = need("btc_drawdown");
    assert_true(fabs(f->value - (60000.0 / 126199.63 - 1) * 100) < 1e-9);
    /* PROVENANCE §1: 2026-02-05 close 62,909.86 against 02-04 (-14.0%); 02-06 close 70,580.26 */
    f = need("btc_dd_day");
    assert_true(fabs(f->value - (70580.26 / 62909.86 - 1) * 100) < 1e-9);
    f = need("btc_dd_prev");
    assert_true(fabs(f->value - (-14.0)) < 0.05);
    /* PROVENANCE §1: 24h at the close of the 04:00 4h bar (08:00) */
    assert_true(fabs(need("eth_24h")->value - (-9.2)) < 0.05);
    assert_true(fabs(need("xrp_24h")->value - (-9.8)) < 0.05);
    assert_true(fabs(need("sol_24h")->value - (-12.1)) < 0.05);
    assert_true(fabs(need("doge_24h")->value - (-10.3)) < 0.05);
    assert_true(fabs(need("bnb_24h")->value - (-9.9)) < 0.05);
    assert_true(rep.coin[0].has_24h);
    assert_true(fabs(rep.coin[0].ch24 * 100 - (-8.3)) < 0.05);
    /* PROVENANCE §2: the three settlements, de-duplicated across raw/ and clean/ */
    assert_true(rep.has_funding);
    assert_int_equal(rep.nsettle, 3);
    assert_int_equal(rep.settle_rate[0], -15970000);
    assert_int_equal(rep.settle_rate[1], -136880000);
    assert_int_equal(rep.settle_rate[2], -134780000);
    assert_int_equal(rep.funding.settles, 3);
    assert_true(fabs(rep.funding.mean - (-9.5877e-05)) < 5e-10);
    /* PROVENANCE §7: Farside nets Nov -3.47, Dec -1.09, Jan -1.60; outflow days -4.77/-2.45/-4.59
     */
    assert_true(fabs(need("etf_nov")->value - (-3.47)) < 0.005);
    assert_true(fabs(need("etf_dec")->value - (-1.09)) < 0.005);
    assert_true(fabs(need("etf_jan")->value - (-1.60)) < 0.005);
    assert_int_equal(rep.nmonth, 4);
    assert_true(fabs((double)rep.month[0].outflow / 1e11 - (-4.77)) < 0.005);
    assert_true(fabs((double)rep.month[2].outflow / 1e11 - (-4.59)) < 0.005);
    /* PROVENANCE §8: 2026-02-06 = 9 */
    f = need("fgi");
    assert_true(f->value == 9);
    assert_string_equal(f->data, "9 (Extreme Fear)");
    /* our index exists on the day and agrees with the published series to some degree */
    f = need("fgi_ours");
    assert_true(f->value >= 0 && f->value <= 100);
    assert_true(rep.has_fg_agree);
    assert_true(rep.fg_agree.days > 2000);
    assert_true(rep.fg_agree.corr > 0.3);
    /* PROVENANCE §9: 30-day BTC/NDX log-return correlation ending 2026-02-06 is 0.58 */
    f = need("btc_ndx_corr");
    assert_true(fabs(f->value - 0.58) < 0.005);
    assert_int_equal(rep.corr[0].used, 30);
    /* no liquidation feed for the day: reported as such, never a made-up number */
    f = sp_an_report_figure(&rep, "liq_total");
    assert_non_null(f);
    assert_false(f->has_value);
    assert_int_equal(rep.liq.count, 0);
}

static void test_report_liq_window(void **state)
{
    (void)state;
    /* the CM liquidationSnapshot head: 2024-10-01, 7 orders after de-duplication */
    sp_an_report_opts o = {.day_ns = INT64_C(19997) * DAY}; /* 2024-10-01 */
    sp_diag d = {0};
    assert_int_equal(sp_an_report_build(store, &o, &rep, &d), SP_OK);
    assert_int_equal(rep.liq.count, 7);
    const sp_an_figure *f = need("liq_total");
    assert_true(f->value > 0);
    /* every notional is a whole number of US$ 100 contracts */
    assert_int_equal(rep.liq.notional % P(100), 0);
    assert_int_equal(rep.traders.observed, 7);
    assert_true(rep.traders.estimate >= 7);
    /* for another day the article column stays empty */
    assert_string_equal(need("btc_ath")->article, "");
}

static void test_metric_on_real_series(void **state)
{
    (void)state;
    /* drawdown series from the store: one point per spot 1d bar, none NaN */
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = {.kind = SP_EV_KLINE, .symbol = "BTCUSDT"};
    assert_int_equal(sp_an_load(store, &f, &e, NULL), SP_OK);
    sp_an_bar *b;
    size_t n;
    assert_int_equal(sp_an_bars_from(&e, SP_VENUE_BINANCE_SPOT, "BTCUSDT", 12, &b, &n), SP_OK);
    assert_int_equal(n, 735); /* PROVENANCE §1: 735 rows */
    sp_an_series s;
    sp_an_series_init(&s);
    sp_an_drawdown w;
    assert_int_equal(sp_an_drawdown_of(b, n, &s, &w), SP_OK);
    assert_int_equal(s.n, n);
    for (size_t i = 0; i < s.n; i++)
        assert_true(isfinite(s.p[i].v) && s.p[i].v <= 0);
    assert_int_equal(w.peak, P(126199.63));
    sp_an_series_fini(&s);
    sp_free(b);
    /* 1m perp bars: 2,880 with no gap */
    assert_int_equal(sp_an_bars_from(&e, SP_VENUE_BINANCE_UM, "BTCUSDT", 1, &b, &n), SP_OK);
    assert_int_equal(n, 2880);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(b[i].open_ns, b[i - 1].close_ns);
    sp_free(b);
    assert_int_equal(sp_an_bars_from(&e, SP_VENUE_BINANCE_UM, "NOPE", 1, &b, &n), SP_ENOTFOUND);
    sp_an_events_fini(&e);
}

static sp_err report_once(void *ctx)
{
    (void)ctx;
    static sp_an_report r;
    sp_an_report_opts o = {.day_ns = CRASH_NS};
    return sp_an_report_build(store, &o, &r, NULL);
}

/* Every allocation of the report (loading, bars, series, the index) may fail cleanly. */
static void test_report_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(report_once, NULL, 2000) > 10);
}

static void test_plots(void **state)
{
    (void)state;
    sp_an_report_opts o = {.day_ns = CRASH_NS};
    assert_int_equal(sp_an_report_build(store, &o, &rep, NULL), SP_OK);
    char dir[400], p[500];
    snprintf(dir, sizeof(dir), "%s/plots", dbdir);
    sp_diag d = {0};
    sp_err rc = sp_an_plots_write(store, &rep, dir, &d);
    if (rc == SP_EUNSUPPORTED)
        skip(); /* built without cairo */
    assert_int_equal(rc, SP_OK);
    static const char *const names[] = {"price_liquidations", "heatmap", "correlation", "etf_flows",
                                        "fear_greed"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s/%s.png", dir, names[i]);
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        unsigned char sig[24];
        assert_int_equal(fread(sig, 1, sizeof(sig), f), sizeof(sig));
        fclose(f);
        unlink(p);
        assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
        /* IHDR width and height (big-endian) at bytes 16..23: 1000 x 520 */
        assert_int_equal((sig[16] << 24) | (sig[17] << 16) | (sig[18] << 8) | sig[19], 1000);
        assert_int_equal((sig[20] << 24) | (sig[21] << 16) | (sig[22] << 8) | sig[23], 520);
    }
    rmdir(dir);
    /* a directory that cannot be created is an I/O error with a message */
    assert_int_equal(sp_an_plots_write(store, &rep, "/proc/no/such/dir", &d), SP_EIO);
    assert_true(strstr(d.msg, "cannot create") != NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_crash_day),      cmocka_unit_test(test_report_liq_window),
        cmocka_unit_test(test_metric_on_real_series), cmocka_unit_test(test_plots),
        cmocka_unit_test(test_report_enomem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
