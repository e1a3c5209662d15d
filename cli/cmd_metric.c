/*
 * cmd_metric.c -- `stampede metric NAME`: one metric of docs/metrics.md
 * over the store, as a table or JSON.
 *
 * Each metric loads the events it needs from the store (sp_an_load with a
 * kind / symbol / time filter) and calls the library function that
 * computes it; --series prints the per-point series where the metric has
 * one (drawdown, rolling correlation, funding per day, our Fear & Greed).
 * Exit 2 for a usage error, an unusable store or a metric with no data.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stampede/analytics.h"
#include "stampede/feed.h"

static const cli_opt opts[] = {
    {"store", "URI", "store to read (default " SP_STORE_DEFAULT_URI ")"},
    {"symbol", "S", "symbol (default BTCUSDT)"},
    {"venue", "V", "venue of the bars (default binance_spot; funding: binance)"},
    {"interval", "I", "kline interval of the bars (default 1d)"},
    {"from", "T", "window start, UTC date or time (default: everything)"},
    {"to", "T", "window end, exclusive (default: everything)"},
    {"at", "T", "change: end of the window (default: the last bar's close)"},
    {"window", "DUR|N", "change: 24h (default); corr: N returns (default 30); liq: length"},
    {"against", "S", "corr: the other series (default ^NDX)"},
    {"ret", "R", "corr: log (default), simple or level"},
    {"fund", "F", "etf: fund ticker or TOTAL (default TOTAL)"},
    {"proxy-volume", "SHARE", "heatmap: without open interest, SHARE x bar quote volume opens"},
    {"bands", "N", "heatmap: price bands (default 40)"},
    {"series", NULL, "print the per-point series where the metric has one"},
    {"json", NULL, "print JSON"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "metric",
    "NAME [--store URI] [--symbol S] [--from T] [--to T] [--series] [--json]",
    "Compute one metric over the store and print it.  NAME is one of:\n"
    "  extremes  highest high / lowest low of the bars in [from, to)          (metrics.md 2.1)\n"
    "  drawdown  worst drawdown from the running high; --series per bar       (2.2)\n"
    "  change    close-to-close change over --window ending --at              (2.3)\n"
    "  vol       realised volatility of log returns, annualised               (2.4)\n"
    "  corr      correlation with --against over --window returns; --series   (3)\n"
    "  funding   funding per day: mean, annualised, settlements               (4)\n"
    "  etf       ETF flows by month: net, inflow, outflow, largest outflow    (5)\n"
    "  liq       liquidations by venue/symbol/side and traders estimate       (6)\n"
    "  fg        Fear & Greed: published, ours, agreement; --series           (7)\n"
    "  heatmap   liquidation heatmap model from open interest                 (8)",
    opts,
    1,
    1,
};

typedef struct mctx {
    const cli_args *a;
    sp_store *st;
    bool json;
    bool series;
    sp_store_filter f; /* the time window of --from / --to */
} mctx;

static bool parse_time(const char *name, const char *v, int64_t *ns)
{
    if (sp_time_parse_iso(v, strlen(v), ns) == SP_OK)
        return true;
    cli_error("metric", "--%s: not a UTC date or time: \"%s\"", name, v);
    return false;
}

static const char *opt(const mctx *m, const char *name, const char *dflt)
{
    return cli_has(m->a, name) ? cli_get(m->a, name) : dflt;
}

static int fail_load(sp_err rc, const sp_diag *d)
{
    char msg[512];
    cli_error("metric", "%s", sp_diag_format(d, msg, sizeof(msg)));
    return rc == SP_ENOMEM ? CLI_EXIT_PARTIAL : CLI_EXIT_USAGE;
}

static void ts_text(int64_t ns, char *out, size_t cap)
{
    sp_time_format_iso(ns, out, cap);
}

static void jnum(double v)
{
    if (isfinite(v))
        printf("%.10g", v);
    else
        printf("null");
}

static void pdec(int64_t v, unsigned scale)
{
    char t[SP_DEC_FMT_MAX];
    sp_dec_format(v, scale, SP_FMT_TRIM, t, sizeof(t));
    printf("%s", t);
}

/* Print a series as "time value" lines or a JSON array of [time, value]. */
static void print_series(const mctx *m, const char *name, const sp_an_series *s)
{
    char t[40];
    if (m->json) {
        printf(",\"%s\":[", name);
        for (size_t i = 0; i < s->n; i++) {
            ts_text(s->p[i].ts_ns, t, sizeof(t));
            printf("%s[\"%s\",", i ? "," : "", t);
            jnum(s->p[i].v);
            printf("]");
        }
        printf("]");
        return;
    }
    printf("%s:\n", name);
    for (size_t i = 0; i < s->n; i++) {
        ts_text(s->p[i].ts_ns, t, sizeof(t));
        printf("  %.10s  %.6f\n", t, s->p[i].v);
    }
}

/* Load bars of --symbol/--venue/--interval in the window.  OUT: *b (sp_free), *n. */
static int load_bars(mctx *m, const char *symbol, sp_an_bar **b, size_t *n)
{
    const char *vn = opt(m, "venue", "binance_spot");
    unsigned venue = sp_venue_from_name(vn);
    unsigned iv = sp_kline_interval_from_name(opt(m, "interval", "1d"));
    if (venue == SP_VENUE_NONE || iv == 0) {
        cli_error("metric", "unknown --venue \"%s\" or --interval \"%s\"", vn,
                  opt(m, "interval", "1d"));
        return CLI_EXIT_USAGE;
    }
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = m->f;
    f.kind = SP_EV_KLINE;
    f.symbol = symbol;
    f.venue = venue;
    sp_diag d = {0};
    sp_err rc = sp_an_load(m->st, &f, &e, &d);
    if (rc != SP_OK) {
        sp_an_events_fini(&e);
        return fail_load(rc, &d);
    }
    rc = sp_an_bars_from(&e, venue, symbol, iv, b, n);
    sp_an_events_fini(&e);
    if (rc == SP_ENOTFOUND) {
        cli_error("metric", "no %s %s bars of %s in the store for the window",
                  sp_kline_interval_name(iv), sp_venue_name(venue), symbol);
        return CLI_EXIT_USAGE;
    }
    return rc == SP_OK ? -1 : CLI_EXIT_PARTIAL;
}

static int m_extremes(mctx *m, bool dd)
{
    sp_an_bar *b;
    size_t n;
    const char *sym = opt(m, "symbol", "BTCUSDT");
    int rc = load_bars(m, sym, &b, &n);
    if (rc >= 0)
        return rc;
    char t1[40], t2[40];
    if (!dd) {
        sp_an_extremes x;
        sp_an_extremes_of(b, n, INT64_MIN, INT64_MAX, &x); /* n > 0 here */
        ts_text(x.high_ns, t1, sizeof(t1));
        ts_text(x.low_ns, t2, sizeof(t2));
        if (m->json) {
            printf("{\"metric\":\"extremes\",\"symbol\":");
            cli_json_str(stdout, sym);
            printf(",\"bars\":%zu,\"high\":\"", x.bars);
            pdec(x.high, SP_EV_PX_SCALE);
            printf("\",\"high_time\":\"%s\",\"low\":\"", t1);
            pdec(x.low, SP_EV_PX_SCALE);
            printf("\",\"low_time\":\"%s\"}\n", t2);
        } else {
            printf("%s over %zu bars\n  high  ", sym, x.bars);
            cli_print_money(stdout, x.high, SP_EV_PX_SCALE, 2);
            printf("  at %s\n  low   ", t1);
            cli_print_money(stdout, x.low, SP_EV_PX_SCALE, 2);
            printf("  at %s\n", t2);
        }
        sp_free(b);
        return CLI_EXIT_OK;
    }
    sp_an_series s;
    sp_an_series_init(&s);
    sp_an_drawdown w;
    sp_err e = sp_an_drawdown_of(b, n, m->series ? &s : NULL, &w);
    sp_free(b);
    if (e != SP_OK) {
        sp_an_series_fini(&s);
        cli_error("metric", "drawdown: %s", sp_strerror(e));
        return CLI_EXIT_USAGE;
    }
    ts_text(w.peak_ns, t1, sizeof(t1));
    ts_text(w.trough_ns, t2, sizeof(t2));
    if (m->json) {
        printf("{\"metric\":\"drawdown\",\"symbol\":");
        cli_json_str(stdout, sym);
        printf(",\"drawdown\":");
        jnum(w.dd);
        printf(",\"peak\":\"");
        pdec(w.peak, SP_EV_PX_SCALE);
        printf("\",\"peak_time\":\"%s\",\"trough\":\"", t1);
        pdec(w.trough, SP_EV_PX_SCALE);
        printf("\",\"trough_time\":\"%s\"", t2);
        if (m->series)
            print_series(m, "series", &s);
        printf("}\n");
    } else {
        printf("%s worst drawdown %.2f%%\n  peak   ", sym, w.dd * 100);
        cli_print_money(stdout, w.peak, SP_EV_PX_SCALE, 2);
        printf("  bar of %s\n  trough ", t1);
        cli_print_money(stdout, w.trough, SP_EV_PX_SCALE, 2);
        printf("  bar of %s\n", t2);
        if (m->series)
            print_series(m, "drawdown by bar", &s);
    }
    sp_an_series_fini(&s);
    return CLI_EXIT_OK;
}

static int m_change_vol(mctx *m, bool vol)
{
    sp_an_bar *b;
    size_t n;
    const char *sym = opt(m, "symbol", "BTCUSDT");
    int rc = load_bars(m, sym, &b, &n);
    if (rc >= 0)
        return rc;
    int64_t ivs = b[0].close_ns - b[0].open_ns;
    if (vol) {
        sp_an_vol v;
        double ppy = (double)(365 * SP_AN_NS_PER_DAY) / (double)ivs;
        sp_err e = sp_an_realised_vol(b, n, INT64_MIN, INT64_MAX, ppy, &v);
        sp_free(b);
        if (e != SP_OK) {
            cli_error("metric", "vol: %s (fewer than 2 adjacent returns)", sp_strerror(e));
            return CLI_EXIT_USAGE;
        }
        if (m->json) {
            printf("{\"metric\":\"vol\",\"symbol\":");
            cli_json_str(stdout, sym);
            printf(",\"returns\":%zu,\"stdev\":", v.returns);
            jnum(v.stdev);
            printf(",\"annualised\":");
            jnum(v.annualised);
            printf(",\"periods_per_year\":");
            jnum(ppy);
            printf("}\n");
        } else {
            printf("%s realised volatility over %zu log returns: %.4f%% per bar, %.2f%% "
                   "annualised (x sqrt(%.0f))\n",
                   sym, v.returns, v.stdev * 100, v.annualised * 100, ppy);
        }
        return CLI_EXIT_OK;
    }
    int64_t w = SP_AN_NS_PER_DAY, at = b[n - 1].close_ns;
    if (cli_has(m->a, "window") && sp_an_parse_duration(cli_get(m->a, "window"), &w) != SP_OK) {
        sp_free(b);
        cli_error("metric", "--window: want a duration like 24h");
        return CLI_EXIT_USAGE;
    }
    if (cli_has(m->a, "at") && !parse_time("at", cli_get(m->a, "at"), &at)) {
        sp_free(b);
        return CLI_EXIT_USAGE;
    }
    double c;
    sp_err e = sp_an_change(b, n, at, w, &c);
    sp_free(b);
    char t[40];
    ts_text(at, t, sizeof(t));
    if (e != SP_OK) {
        cli_error("metric", "change: no bar closes at %s or %lld s before it", t,
                  (long long)(w / SP_AN_NS_PER_SEC));
        return CLI_EXIT_USAGE;
    }
    if (m->json) {
        printf("{\"metric\":\"change\",\"symbol\":");
        cli_json_str(stdout, sym);
        printf(",\"at\":\"%s\",\"window_s\":%lld,\"change\":", t,
               (long long)(w / SP_AN_NS_PER_SEC));
        jnum(c);
        printf("}\n");
    } else {
        printf("%s change over %s ending %s: %+.2f%%\n", sym, opt(m, "window", "24h"), t, c * 100);
    }
    return CLI_EXIT_OK;
}

/* Daily closes of symbol: KLINE 1d bars of venue (0 = any). */
static sp_err closes(mctx *m, const char *symbol, unsigned venue, sp_an_series *out, sp_diag *d)
{
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = m->f;
    f.kind = SP_EV_KLINE;
    f.symbol = symbol;
    f.venue = venue;
    sp_err rc = sp_an_load(m->st, &f, &e, d);
    sp_an_bar *b = NULL;
    size_t n = 0;
    if (rc == SP_OK)
        rc = sp_an_bars_from(&e, venue, symbol, 12, &b, &n);
    for (size_t i = 0; rc == SP_OK && i < n; i++)
        rc = sp_an_series_push(out, b[i].open_ns, (double)b[i].close / 1e8);
    sp_free(b);
    sp_an_events_fini(&e);
    return rc;
}

static int m_corr(mctx *m)
{
    const char *sym = opt(m, "symbol", "BTCUSDT"), *other = opt(m, "against", "^NDX");
    int64_t win;
    if (!cli_get_int(m->a, "window", 3, 3650, 30, &win))
        return CLI_EXIT_USAGE;
    int ret = sp_an_ret_from_name(opt(m, "ret", "log"));
    if (ret < 0) {
        cli_error("metric", "--ret: want log, simple or level");
        return CLI_EXIT_USAGE;
    }
    sp_an_series a, b, s;
    sp_an_series_init(&a);
    sp_an_series_init(&b);
    sp_an_series_init(&s);
    sp_diag d = {0};
    int out = CLI_EXIT_OK;
    unsigned va = sp_venue_from_name(opt(m, "venue", "binance_spot"));
    sp_err rc = closes(m, sym, va, &a, &d);
    if (rc == SP_OK)
        rc = closes(m, other, 0, &b, &d);
    if (rc != SP_OK) {
        cli_error("metric", "corr: no daily closes of %s or %s in the store (%s)", sym, other,
                  sp_strerror(rc));
        out = CLI_EXIT_USAGE;
        goto done;
    }
    double r;
    size_t used = 0;
    int64_t end = a.p[a.n - 1].ts_ns;
    if (cli_has(m->a, "at") && !parse_time("at", cli_get(m->a, "at"), &end)) {
        out = CLI_EXIT_USAGE;
        goto done;
    }
    rc = sp_an_corr(a.p, a.n, b.p, b.n, (size_t)win, (sp_an_ret)ret, end, &r, &used);
    if (rc != SP_OK) {
        cli_error("metric", "corr: %s (common days too few or constant)", sp_strerror(rc));
        out = CLI_EXIT_USAGE;
        goto done;
    }
    if (m->series &&
        sp_an_corr_rolling(a.p, a.n, b.p, b.n, (size_t)win, (sp_an_ret)ret, &s) != SP_OK) {
        out = CLI_EXIT_PARTIAL;
        goto done;
    }
    char t[40];
    ts_text(end, t, sizeof(t));
    if (m->json) {
        printf("{\"metric\":\"corr\",\"a\":");
        cli_json_str(stdout, sym);
        printf(",\"b\":");
        cli_json_str(stdout, other);
        printf(",\"window\":%lld,\"returns\":\"%s\",\"end\":\"%.10s\",\"r\":", (long long)win,
               sp_an_ret_name((sp_an_ret)ret), t);
        jnum(r);
        printf(",\"n\":%zu", used);
        if (m->series)
            print_series(m, "rolling", &s);
        printf("}\n");
    } else {
        printf("corr(%s, %s) over %lld %s returns ending %.10s: %+.4f\n", sym, other,
               (long long)win, sp_an_ret_name((sp_an_ret)ret), t, r);
        if (m->series)
            print_series(m, "rolling", &s);
    }
done:
    sp_an_series_fini(&a);
    sp_an_series_fini(&b);
    sp_an_series_fini(&s);
    return out;
}

static int m_funding(mctx *m)
{
    const char *sym = opt(m, "symbol", "BTCUSDT");
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = m->f;
    f.kind = SP_EV_FUNDING;
    f.symbol = sym;
    f.venue = sp_venue_from_name(opt(m, "venue", "binance"));
    sp_diag d = {0};
    sp_err rc = sp_an_load(m->st, &f, &e, &d);
    if (rc != SP_OK) {
        sp_an_events_fini(&e);
        return fail_load(rc, &d);
    }
    size_t cap = e.n ? e.n : 1, n = 0;
    sp_an_funding_day *days = sp_calloc(cap, sizeof(*days));
    if (days == NULL || (rc = sp_an_funding_daily(e.ev, e.n, days, cap, &n)) != SP_OK) {
        sp_free(days);
        sp_an_events_fini(&e);
        cli_error("metric", "funding: %s", sp_strerror(days ? rc : SP_ENOMEM));
        return CLI_EXIT_PARTIAL;
    }
    sp_an_events_fini(&e);
    if (n == 0) {
        sp_free(days);
        cli_error("metric", "funding: no %s settlements in the store for the window", sym);
        return CLI_EXIT_USAGE;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += days[i].mean;
    char t[40];
    if (m->json) {
        printf("{\"metric\":\"funding\",\"symbol\":");
        cli_json_str(stdout, sym);
        printf(",\"days\":%zu,\"mean_of_daily_means\":", n);
        jnum(sum / (double)n);
        printf(",\"daily\":[");
        for (size_t i = 0; i < n && m->series; i++) {
            ts_text(days[i].day_ns, t, sizeof(t));
            printf("%s{\"day\":\"%.10s\",\"settles\":%u,\"mean\":", i ? "," : "", t,
                   days[i].settles);
            jnum(days[i].mean);
            printf(",\"mean_abs\":");
            jnum(days[i].mean_abs);
            printf(",\"annualised\":");
            jnum(days[i].annualised);
            printf(",\"sum\":\"");
            pdec(days[i].sum_e12, SP_EV_RATE_SCALE);
            printf("\"}");
        }
        printf("]}\n");
    } else {
        printf("%s funding over %zu days: mean of daily means %.6f%% per interval\n", sym, n,
               sum / (double)n * 100);
        if (m->series || n <= 31) {
            printf("  %-10s %7s %13s %13s %12s\n", "day", "settles", "mean %", "mean |r| %",
                   "annual %");
            for (size_t i = 0; i < n; i++) {
                ts_text(days[i].day_ns, t, sizeof(t));
                printf("  %.10s %7u %13.6f %13.6f %12.2f\n", t, days[i].settles, days[i].mean * 100,
                       days[i].mean_abs * 100, days[i].annualised * 100);
            }
        }
    }
    sp_free(days);
    return CLI_EXIT_OK;
}

static int m_etf(mctx *m)
{
    char sym[64];
    snprintf(sym, sizeof(sym), "ETF:%s", opt(m, "fund", "TOTAL"));
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = m->f;
    f.kind = SP_EV_SERIES;
    f.symbol = sym;
    sp_diag d = {0};
    sp_err rc = sp_an_load(m->st, &f, &e, &d);
    if (rc != SP_OK) {
        sp_an_events_fini(&e);
        return fail_load(rc, &d);
    }
    sp_an_flow_month mo[400];
    size_t n = 0;
    rc = sp_an_flow_months(e.ev, e.n, mo, SP_COUNTOF(mo), &n);
    sp_an_events_fini(&e);
    if (rc != SP_OK || n == 0) {
        cli_error("metric", "etf: %s", rc != SP_OK ? sp_strerror(rc) : "no flows in the store");
        return CLI_EXIT_USAGE;
    }
    const sp_an_flow_month *worst = &mo[0];
    for (size_t i = 1; i < n; i++)
        if (mo[i].largest_out < worst->largest_out)
            worst = &mo[i];
    char t[40];
    if (m->json) {
        printf("{\"metric\":\"etf\",\"symbol\":");
        cli_json_str(stdout, sym);
        printf(",\"unit\":\"US$ m\",\"months\":[");
        for (size_t i = 0; i < n; i++) {
            printf("%s{\"month\":\"%04d-%02d\",\"days\":%u,\"net\":\"", i ? "," : "", mo[i].year,
                   mo[i].month, mo[i].days);
            pdec(mo[i].net, SP_EV_PX_SCALE);
            printf("\",\"inflow\":\"");
            pdec(mo[i].inflow, SP_EV_PX_SCALE);
            printf("\",\"outflow\":\"");
            pdec(mo[i].outflow, SP_EV_PX_SCALE);
            printf("\",\"largest_outflow\":\"");
            pdec(mo[i].largest_out, SP_EV_PX_SCALE);
            printf("\"}");
        }
        ts_text(worst->largest_out_ns, t, sizeof(t));
        printf("],\"largest_outflow\":{\"day\":\"%.10s\",\"value\":\"", t);
        pdec(worst->largest_out, SP_EV_PX_SCALE);
        printf("\"}}\n");
        return CLI_EXIT_OK;
    }
    printf("%s flows by month, US$ m\n  %-7s %4s %12s %12s %12s %14s\n", sym, "month", "days",
           "net", "inflow", "outflow", "largest out");
    for (size_t i = 0; i < n; i++) {
        printf("  %04d-%02d %4u %12.1f %12.1f %12.1f %14.1f\n", mo[i].year, mo[i].month, mo[i].days,
               (double)mo[i].net / 1e8, (double)mo[i].inflow / 1e8, (double)mo[i].outflow / 1e8,
               (double)mo[i].largest_out / 1e8);
    }
    ts_text(worst->largest_out_ns, t, sizeof(t));
    printf("largest single-day outflow: %.1f on %.10s\n", (double)worst->largest_out / 1e8, t);
    return CLI_EXIT_OK;
}

static int m_liq(mctx *m)
{
    sp_store_filter f = m->f;
    f.kind = SP_EV_LIQUIDATION;
    if (cli_has(m->a, "symbol"))
        f.symbol = cli_get(m->a, "symbol");
    if (cli_has(m->a, "window")) {
        int64_t w;
        if (!f.has_from || sp_an_parse_duration(cli_get(m->a, "window"), &w) != SP_OK) {
            cli_error("metric", "liq: --window needs --from and a duration like 4h");
            return CLI_EXIT_USAGE;
        }
        f.to_ns = f.from_ns + w;
        f.has_to = 1;
    }
    sp_an_events e;
    sp_an_events_init(&e);
    sp_diag d = {0};
    sp_err rc = sp_an_load(m->st, &f, &e, &d);
    if (rc != SP_OK) {
        sp_an_events_fini(&e);
        return fail_load(rc, &d);
    }
    sp_an_liq_group g[256];
    size_t ng = 0;
    sp_an_liq_total t;
    sp_an_traders tr;
    rc = sp_an_liq_aggregate(e.ev, e.n, e.syms, INT64_MIN, INT64_MAX, g, SP_COUNTOF(g), &ng, &t);
    if (rc == SP_OK)
        rc = sp_an_liq_traders(e.ev, e.n, INT64_MIN, INT64_MAX, &tr);
    if (rc != SP_OK) {
        sp_an_events_fini(&e);
        cli_error("metric", "liq: %s", sp_strerror(rc));
        return CLI_EXIT_PARTIAL;
    }
    if (m->json) {
        printf("{\"metric\":\"liq\",\"count\":%llu,\"notional\":\"", (unsigned long long)t.count);
        pdec(t.notional, SP_EV_PX_SCALE);
        printf("\",\"long\":\"");
        pdec(t.long_notional, SP_EV_PX_SCALE);
        printf("\",\"short\":\"");
        pdec(t.short_notional, SP_EV_PX_SCALE);
        printf("\",\"largest\":\"");
        pdec(t.largest, SP_EV_PX_SCALE);
        printf("\",\"traders\":{\"counted\":%llu,\"observed\":%llu,\"estimate\":",
               (unsigned long long)tr.counted, (unsigned long long)tr.observed);
        jnum(tr.estimate);
        printf(",\"stderr\":");
        jnum(tr.stderr_est);
        printf(",\"saturated_minutes\":%llu},\"groups\":[", (unsigned long long)tr.saturated);
        for (size_t i = 0; i < ng; i++) {
            printf("%s{\"venue\":\"%s\",\"symbol\":", i ? "," : "", sp_venue_name(g[i].venue));
            cli_json_str(stdout, sp_symtab_name(e.syms, g[i].symbol_id));
            printf(",\"side\":\"%s\",\"count\":%llu,\"notional\":\"",
                   g[i].long_side ? "long" : "short", (unsigned long long)g[i].count);
            pdec(g[i].notional, SP_EV_PX_SCALE);
            printf("\",\"largest\":\"");
            pdec(g[i].largest, SP_EV_PX_SCALE);
            printf("\"}");
        }
        printf("]}\n");
    } else {
        printf("liquidations: %llu events, US$ ", (unsigned long long)t.count);
        cli_print_money(stdout, t.notional, SP_EV_PX_SCALE, 2);
        printf(" (longs ");
        cli_print_money(stdout, t.long_notional, SP_EV_PX_SCALE, 2);
        printf(", shorts ");
        cli_print_money(stdout, t.short_notional, SP_EV_PX_SCALE, 2);
        printf(")\ntraders: %llu counted + %llu throttled events -> %.1f +- %.1f orders%s\n",
               (unsigned long long)tr.counted, (unsigned long long)tr.observed, tr.estimate,
               tr.stderr_est, tr.saturated ? " (lower bound)" : "");
        for (size_t i = 0; i < ng; i++) {
            printf("  %-12s %-16s %-5s %8llu  ", sp_venue_name(g[i].venue),
                   sp_symtab_name(e.syms, g[i].symbol_id), g[i].long_side ? "long" : "short",
                   (unsigned long long)g[i].count);
            cli_print_money(stdout, g[i].notional, SP_EV_PX_SCALE, 2);
            printf("\n");
        }
    }
    sp_an_events_fini(&e);
    return CLI_EXIT_OK;
}

static int m_fg(mctx *m)
{
    sp_an_events e;
    sp_an_events_init(&e);
    sp_diag d = {0};
    static const char *const syms[3] = {"FGI", "BTC-USD", "BTCUSDT"};
    sp_err rc = SP_OK;
    for (size_t i = 0; i < 3 && rc == SP_OK; i++) {
        sp_store_filter f = m->f;
        f.kind = SP_EV_SERIES;
        f.symbol = syms[i];
        f.has_from = 0; /* the index needs a year of history before --from */
        rc = sp_an_load(m->st, &f, &e, &d);
    }
    if (rc != SP_OK) {
        sp_an_events_fini(&e);
        return fail_load(rc, &d);
    }
    sp_an_series pub, ours;
    sp_an_series_init(&pub);
    sp_an_series_init(&ours);
    sp_an_fg_weights w = sp_an_fg_default_weights();
    int out = CLI_EXIT_OK;
    rc = sp_an_fg_from_events(&e, m->f.has_to ? m->f.to_ns - 1 : INT64_MAX, &w, &pub, &ours);
    sp_an_events_fini(&e);
    /* --from trims what is shown and compared, not the history the index needs */
    size_t po = 0, oo = 0;
    while (m->f.has_from && po < pub.n && pub.p[po].ts_ns < m->f.from_ns)
        po++;
    while (m->f.has_from && oo < ours.n && ours.p[oo].ts_ns < m->f.from_ns)
        oo++;
    sp_an_agreement ag;
    sp_err arc = rc == SP_OK
                     ? sp_an_agreement_of(ours.p + oo, ours.n - oo, pub.p + po, pub.n - po, &ag)
                     : rc;
    if (rc != SP_OK || pub.n == po) {
        cli_error("metric", "fg: %s", rc != SP_OK ? sp_strerror(rc) : "no published values");
        out = rc == SP_OK ? CLI_EXIT_USAGE : CLI_EXIT_PARTIAL;
        goto done;
    }
    char t[40];
    const sp_an_point *lp = &pub.p[pub.n - 1];
    ts_text(lp->ts_ns, t, sizeof(t));
    if (m->json) {
        printf("{\"metric\":\"fg\",\"last_day\":\"%.10s\",\"published\":", t);
        jnum(lp->v);
        printf(",\"label\":\"%s\",\"ours\":", sp_an_fg_label(lp->v));
        if (ours.n > oo &&
            ours.p[ours.n - 1].ts_ns / SP_AN_NS_PER_DAY == lp->ts_ns / SP_AN_NS_PER_DAY)
            jnum(ours.p[ours.n - 1].v);
        else
            printf("null");
        printf(",\"weights\":{\"volatility\":%g,\"momentum\":%g,\"volume\":%g,\"funding\":%g}",
               w.volatility, w.momentum, w.volume, w.funding);
        if (arc == SP_OK) {
            printf(",\"agreement\":{\"corr\":");
            jnum(ag.corr);
            printf(",\"mad\":");
            jnum(ag.mad);
            printf(",\"days\":%zu}", ag.days);
        }
        if (m->series) {
            sp_an_series sp = {pub.p + po, pub.n - po, 0}, so = {ours.p + oo, ours.n - oo, 0};
            print_series(m, "published", &sp);
            print_series(m, "ours", &so);
        }
        printf("}\n");
    } else {
        printf("Fear & Greed on %.10s: published %.0f (%s)", t, lp->v, sp_an_fg_label(lp->v));
        if (ours.n > oo)
            printf(", ours %.1f on %.10s", ours.p[ours.n - 1].v, t);
        printf("\nour weights: volatility %.2f, momentum %.2f, volume %.2f, funding %.2f "
               "(docs/metrics.md 7.2)\n",
               w.volatility, w.momentum, w.volume, w.funding);
        if (arc == SP_OK)
            printf("agreement with the published series: corr %.3f, mean abs diff %.2f points, "
                   "%zu common days\n",
                   ag.corr, ag.mad, ag.days);
        if (m->series) {
            sp_an_series sp = {pub.p + po, pub.n - po, 0}, so = {ours.p + oo, ours.n - oo, 0};
            print_series(m, "published", &sp);
            print_series(m, "ours", &so);
        }
    }
done:
    sp_an_series_fini(&pub);
    sp_an_series_fini(&ours);
    return out;
}

static int m_heatmap(mctx *m)
{
    sp_an_bar *b;
    size_t n;
    const char *sym = opt(m, "symbol", "BTCUSDT");
    int rc = load_bars(m, sym, &b, &n);
    if (rc >= 0)
        return rc;
    int64_t bands;
    int64_t share_e8;
    if (!cli_get_int(m->a, "bands", 2, 400, 40, &bands) ||
        !cli_get_dec(m->a, "proxy-volume", 8, 0, &share_e8)) {
        sp_free(b);
        return CLI_EXIT_USAGE;
    }
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = m->f;
    f.kind = SP_EV_OPEN_INTEREST;
    f.symbol = sym;
    sp_diag d = {0};
    sp_err err = sp_an_load(m->st, &f, &e, &d);
    double *opened = sp_calloc(n, sizeof(*opened));
    size_t from_oi = 0;
    sp_an_heatmap h;
    memset(&h, 0, sizeof(h));
    int out = CLI_EXIT_OK;
    if (err != SP_OK || opened == NULL) {
        out = fail_load(err != SP_OK ? err : SP_ENOMEM, &d);
        goto done;
    }
    sp_an_heatmap_opened(b, n, &e, (double)share_e8 / 1e8, opened, &from_oi);
    if (from_oi == 0 && share_e8 <= 0) {
        cli_error("metric",
                  "heatmap: no open interest of %s in the store for these bars; "
                  "--proxy-volume SHARE uses volume instead (docs/metrics.md 8.3)",
                  sym);
        out = CLI_EXIT_USAGE;
        goto done;
    }
    sp_an_extremes x;
    sp_an_extremes_of(b, n, INT64_MIN, INT64_MAX, &x);
    double lo = (double)x.low / 1e8 * 0.7, hi = (double)x.high / 1e8 * 1.3;
    sp_an_heat_opts o = {NULL, 0, 0.005, 0.5, lo, hi, (size_t)bands};
    if ((err = sp_an_heatmap_build(b, opened, n, &o, &h)) != SP_OK) {
        cli_error("metric", "heatmap: %s", sp_strerror(err));
        out = CLI_EXIT_USAGE;
        goto done;
    }
    double hit = 0;
    for (size_t t = 0; t < h.steps; t++)
        hit += h.hit[t];
    const double *L = h.longs + (h.steps - 1) * h.bands, *S = h.shorts + (h.steps - 1) * h.bands;
    if (m->json) {
        printf("{\"metric\":\"heatmap\",\"symbol\":");
        cli_json_str(stdout, sym);
        printf(",\"bars\":%zu,\"bars_from_oi\":%zu,\"proxy\":%s,\"band_lo\":", h.steps, from_oi,
               from_oi < h.steps ? "true" : "false");
        jnum(h.band_lo);
        printf(",\"band_width\":");
        jnum(h.band_w);
        printf(",\"liquidated_total\":");
        jnum(hit);
        printf(",\"last_longs\":[");
        for (size_t k = 0; k < h.bands; k++) {
            printf("%s", k ? "," : "");
            jnum(L[k]);
        }
        printf("],\"last_shorts\":[");
        for (size_t k = 0; k < h.bands; k++) {
            printf("%s", k ? "," : "");
            jnum(S[k]);
        }
        printf("]}\n");
    } else {
        printf("%s liquidation heatmap model over %zu bars (%zu from open interest%s)\n", sym,
               h.steps, from_oi, from_oi < h.steps ? ", the rest a volume PROXY" : "");
        printf("modelled liquidations over the span: US$ %.0f\nresting after the last bar, by "
               "price band (US$):\n  %-23s %16s %16s\n",
               hit, "band", "longs", "shorts");
        for (size_t k = h.bands; k-- > 0;) {
            if (L[k] < 0.5 && S[k] < 0.5)
                continue;
            printf("  %10.2f - %10.2f %16.0f %16.0f\n", h.band_lo + h.band_w * (double)k,
                   h.band_lo + h.band_w * (double)(k + 1), L[k], S[k]);
        }
    }
done:
    sp_an_heatmap_fini(&h);
    sp_free(opened);
    sp_an_events_fini(&e);
    sp_free(b);
    return out;
}

int cmd_metric(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    mctx m;
    memset(&m, 0, sizeof(m));
    m.a = &a;
    m.json = cli_has(&a, "json");
    m.series = cli_has(&a, "series");
    if (cli_has(&a, "from")) {
        if (!parse_time("from", cli_get(&a, "from"), &m.f.from_ns))
            return CLI_EXIT_USAGE;
        m.f.has_from = 1;
    }
    if (cli_has(&a, "to")) {
        if (!parse_time("to", cli_get(&a, "to"), &m.f.to_ns))
            return CLI_EXIT_USAGE;
        m.f.has_to = 1;
    }
    const char *name = a.pos[0];
    static const char *const names[] = {"extremes", "drawdown", "change", "vol", "corr",
                                        "funding",  "etf",      "liq",    "fg",  "heatmap"};
    size_t k = 0;
    while (k < SP_COUNTOF(names) && strcmp(names[k], name) != 0)
        k++;
    if (k == SP_COUNTOF(names)) {
        cli_error("metric", "unknown metric \"%s\" (see stampede metric --help)", name);
        return CLI_EXIT_USAGE;
    }
    const char *uri = opt(&m, "store", SP_STORE_DEFAULT_URI);
    sp_diag d = {0};
    char msg[512];
    if (sp_store_open(uri, SP_STORE_READONLY, &m.st, &d) != SP_OK) {
        cli_error("metric", "%s: %s", uri, sp_diag_format(&d, msg, sizeof(msg)));
        return CLI_EXIT_USAGE;
    }
    switch (k) {
    case 0:
    case 1:
        rc = m_extremes(&m, k == 1);
        break;
    case 2:
    case 3:
        rc = m_change_vol(&m, k == 3);
        break;
    case 4:
        rc = m_corr(&m);
        break;
    case 5:
        rc = m_funding(&m);
        break;
    case 6:
        rc = m_etf(&m);
        break;
    case 7:
        rc = m_liq(&m);
        break;
    case 8:
        rc = m_fg(&m);
        break;
    default:
        rc = m_heatmap(&m);
        break;
    }
    sp_store_close(m.st);
    return rc;
}
