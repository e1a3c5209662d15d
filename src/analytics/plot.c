/*
 * plot.c -- the report's PNG charts, drawn with cairo (docs/metrics.md
 * §10): BTC price with liquidation bars, the liquidation heatmap model,
 * the rolling BTC/Nasdaq-100 correlation, ETF daily flows, and Fear &
 * Greed (published and ours).
 *
 * Each chart is drawn from the same arrays the metrics return (bars,
 * series, heatmap grid), loaded from the store like the report, so what
 * the picture shows is what the tables print.  A small private chart
 * helper maps (time, value) to pixels and draws the frame, the date and
 * value ticks and the title; everything else is a few cairo calls.
 */
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "analytics/analytics_int.h"
#include "stampede/alloc.h"
#include "stampede/clock.h"

#define W  1000
#define H  520
#define ML 80.0 /* margins, px */
#define MR 20.0
#define MT 40.0
#define MB 50.0

typedef struct chart {
    cairo_surface_t *sf;
    cairo_t *cr;
    int64_t t0, t1; /* x range, ns */
    double y0, y1;  /* y range */
} chart;

static double cx(const chart *c, int64_t t)
{
    return ML + (double)(t - c->t0) / (double)(c->t1 - c->t0) * (W - ML - MR);
}

static double cy(const chart *c, double v)
{
    return MT + (1 - (v - c->y0) / (c->y1 - c->y0)) * (H - MT - MB);
}

/* Nice tick step for a range. */
static double tick_step(double span)
{
    double raw = span / 6, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static sp_err chart_begin(chart *c, const char *title, int64_t t0, int64_t t1, double y0, double y1)
{
    memset(c, 0, sizeof(*c));
    if (t1 <= t0)
        t1 = t0 + SP_AN_NS_PER_DAY;
    if (!(y1 > y0)) {
        y0 -= 1;
        y1 += 1;
    }
    c->t0 = t0;
    c->t1 = t1;
    c->y0 = y0;
    c->y1 = y1;
    c->sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    c->cr = cairo_create(c->sf);
    if (cairo_status(c->cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(c->cr);
        cairo_surface_destroy(c->sf);
        return SP_ENOMEM;
    }
    cairo_t *cr = c->cr;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 15);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, ML, 24);
    cairo_show_text(cr, title);
    cairo_set_font_size(cr, 11);
    cairo_set_line_width(cr, 1);
    /* y ticks and grid */
    double st = tick_step(y1 - y0);
    char t[48];
    for (double v = ceil(y0 / st) * st; v <= y1 + st * 1e-9; v += st) {
        if (fabs(v) < st * 1e-6)
            v = 0; /* no "-0.0" label */
        double y = cy(c, v);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, ML, y);
        cairo_line_to(cr, W - MR, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        snprintf(t, sizeof(t), fabs(st) >= 1 ? "%.0f" : fabs(st) >= 0.1 ? "%.1f" : "%.2f", v);
        cairo_move_to(cr, 6, y + 4);
        cairo_show_text(cr, t);
    }
    /* x ticks: about 8 dates */
    int64_t span = t1 - t0, step = span / 8;
    int64_t dstep = step >= SP_AN_NS_PER_DAY ? step / SP_AN_NS_PER_DAY * SP_AN_NS_PER_DAY : step;
    if (dstep <= 0)
        dstep = 1;
    for (int64_t x = t0 - (t0 % dstep) + dstep; x < t1; x += dstep) {
        char iso[40];
        sp_time_format_iso(x, iso, sizeof(iso));
        double px = cx(c, x);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, px, MT);
        cairo_line_to(cr, px, H - MB);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        if (span > 3 * SP_AN_NS_PER_DAY)
            snprintf(t, sizeof(t), "%.10s", iso);
        else
            snprintf(t, sizeof(t), "%.5s %.5s", iso + 5, iso + 11);
        cairo_move_to(cr, px - 30, H - MB + 16);
        cairo_show_text(cr, t);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
    cairo_stroke(cr);
    return SP_OK;
}

static void legend(chart *c, int row, double r, double g, double b, const char *text)
{
    cairo_set_source_rgb(c->cr, r, g, b);
    cairo_rectangle(c->cr, ML + 10, MT + 10 + 16 * row, 12, 10);
    cairo_fill(c->cr);
    cairo_set_source_rgb(c->cr, 0, 0, 0);
    cairo_move_to(c->cr, ML + 28, MT + 19 + 16 * row);
    cairo_show_text(c->cr, text);
}

static void line(chart *c, const sp_an_point *p, size_t n, double r, double g, double b)
{
    cairo_set_source_rgb(c->cr, r, g, b);
    cairo_set_line_width(c->cr, 1.5);
    for (size_t i = 0; i < n; i++) {
        if (i == 0)
            cairo_move_to(c->cr, cx(c, p[i].ts_ns), cy(c, p[i].v));
        else
            cairo_line_to(c->cr, cx(c, p[i].ts_ns), cy(c, p[i].v));
    }
    cairo_stroke(c->cr);
    cairo_set_line_width(c->cr, 1);
}

static sp_err chart_end(chart *c, const char *dir, const char *name, sp_diag *d)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    cairo_status_t st = cairo_surface_write_to_png(c->sf, path);
    cairo_destroy(c->cr);
    cairo_surface_destroy(c->sf);
    if (st != CAIRO_STATUS_SUCCESS)
        return sp_diag_set(d, SP_EIO, "plots: cannot write %s: %s", path,
                           cairo_status_to_string(st));
    return SP_OK;
}

static void range_of(const sp_an_point *p, size_t n, double *lo, double *hi)
{
    *lo = n ? p[0].v : 0;
    *hi = n ? p[0].v : 1;
    for (size_t i = 1; i < n; i++) {
        *lo = p[i].v < *lo ? p[i].v : *lo;
        *hi = p[i].v > *hi ? p[i].v : *hi;
    }
}

/* price.png: BTC (USD-M 1m if present, else spot 4h) around the day, liquidation bars. */
static sp_err plot_price(const sp_an_events *e, const sp_an_report *r, const char *dir, sp_diag *d)
{
    const int64_t t0 = r->opts.day_ns - SP_AN_NS_PER_DAY, t1 = r->opts.day_ns + SP_AN_NS_PER_DAY;
    sp_an_bar *b = NULL;
    size_t n = 0;
    bool perp = sp_an_bars_from(e, SP_VENUE_BINANCE_UM, "BTCUSDT", 1, &b, &n) == SP_OK;
    if (!perp && sp_an_bars_from(e, SP_VENUE_BINANCE_SPOT, "BTCUSDT", 8, &b, &n) != SP_OK)
        n = 0;
    sp_an_series s;
    sp_an_series_init(&s);
    sp_err rc = SP_OK;
    for (size_t i = 0; i < n && rc == SP_OK; i++) {
        if (b[i].open_ns >= t0 && b[i].open_ns < t1)
            rc = sp_an_series_push(&s, b[i].close_ns, sp__an_px(b[i].close));
    }
    sp_free(b);
    /* liquidation notional per hour */
    double liq[48] = {0}, lmax = 0;
    for (size_t i = 0; i < e->n; i++) {
        const sp_event *v = &e->ev[i];
        int64_t nt;
        if (v->kind != SP_EV_LIQUIDATION || v->exch_ts_ns < t0 || v->exch_ts_ns >= t1 ||
            sp_an_liq_notional(v, sp_symtab_name(e->syms, v->symbol_id), &nt) != SP_OK)
            continue;
        size_t h = (size_t)((v->exch_ts_ns - t0) / SP_AN_NS_PER_HOUR);
        liq[h] += sp__an_px(nt);
        lmax = liq[h] > lmax ? liq[h] : lmax;
    }
    chart c;
    double lo, hi;
    range_of(s.p, s.n, &lo, &hi);
    if (rc == SP_OK)
        rc = chart_begin(&c,
                         perp ? "BTCUSDT USD-M perpetual, 1-minute close, with liquidations "
                                "per hour"
                              : "BTCUSDT spot, 4h close, with liquidations per hour",
                         t0, t1, lo * 0.98, hi * 1.02);
    if (rc != SP_OK) {
        sp_an_series_fini(&s);
        return rc;
    }
    for (size_t h = 0; h < 48 && lmax > 0; h++) {
        double top = cy(&c, c.y0 + (c.y1 - c.y0) * 0.4 * liq[h] / lmax);
        cairo_set_source_rgb(c.cr, 0.85, 0.3, 0.3);
        cairo_rectangle(c.cr, cx(&c, t0 + (int64_t)h * SP_AN_NS_PER_HOUR), top,
                        (W - ML - MR) / 48.0 - 1, H - MB - top);
        cairo_fill(c.cr);
    }
    line(&c, s.p, s.n, 0.1, 0.3, 0.7);
    legend(&c, 0, 0.1, 0.3, 0.7, "close (USDT, left axis)");
    legend(&c, 1, 0.85, 0.3, 0.3,
           lmax > 0 ? "liquidation notional per hour (scaled)"
                    : "liquidations: none in the store for these hours (no feed shipped)");
    sp_an_series_fini(&s);
    return chart_end(&c, dir, "price_liquidations.png", d);
}

/* heatmap.png: 4h spot bars of the 30 days to the day, model from OI or a volume proxy. */
static sp_err plot_heatmap(const sp_an_events *e, const sp_an_report *r, const char *dir,
                           sp_diag *d)
{
    const int64_t t0 = r->opts.day_ns - 30 * SP_AN_NS_PER_DAY,
                  t1 = r->opts.day_ns + SP_AN_NS_PER_DAY;
    sp_an_bar *all = NULL;
    size_t na = 0;
    if (sp_an_bars_from(e, SP_VENUE_BINANCE_SPOT, "BTCUSDT", 8, &all, &na) != SP_OK)
        return SP_OK; /* no bars: no chart */
    size_t i0 = 0, i1 = 0;
    while (i0 < na && all[i0].open_ns < t0)
        i0++;
    i1 = i0;
    while (i1 < na && all[i1].open_ns < t1)
        i1++;
    size_t n = i1 - i0;
    if (n < 2) {
        sp_free(all);
        return SP_OK;
    }
    const sp_an_bar *b = all + i0;
    double *opened = sp_calloc(n, sizeof(*opened));
    if (opened == NULL) {
        sp_free(all);
        return SP_ENOMEM;
    }
    size_t from_oi = 0;
    sp_an_heatmap_opened(b, n, e, 0.01, opened, &from_oi);
    sp_an_extremes x;
    sp_an_extremes_of(b, n, INT64_MIN, INT64_MAX, &x);
    double lo = sp__an_px(x.low) * 0.85, hi = sp__an_px(x.high) * 1.15;
    sp_an_heat_opts o = {NULL, 0, 0.005, 0.5, lo, hi, 60};
    sp_an_heatmap h;
    sp_err rc = sp_an_heatmap_build(b, opened, n, &o, &h);
    sp_free(opened);
    chart c;
    if (rc == SP_OK)
        rc = chart_begin(&c,
                         from_oi == n ? "Liquidation heatmap model (open interest), BTCUSDT 4h"
                                      : "Liquidation heatmap model, BTCUSDT 4h -- PROXY: 1% of "
                                        "quote volume opens (no OI history shipped)",
                         b[0].open_ns, b[n - 1].close_ns, lo, hi);
    if (rc != SP_OK) {
        sp_an_heatmap_fini(&h);
        sp_free(all);
        return rc;
    }
    double vmax = 0;
    for (size_t k = 0; k < h.steps * h.bands; k++) {
        double v = h.longs[k] + h.shorts[k];
        vmax = v > vmax ? v : vmax;
    }
    for (size_t t = 0; t < h.steps && vmax > 0; t++) {
        for (size_t k = 0; k < h.bands; k++) {
            double v = (h.longs[t * h.bands + k] + h.shorts[t * h.bands + k]) / vmax;
            if (v <= 0)
                continue;
            double s = sqrt(v); /* perceptual boost for the small cells */
            cairo_set_source_rgb(c.cr, 1, 1 - 0.8 * s, 1 - s);
            double xa = cx(&c, b[t].open_ns), xb = cx(&c, b[t].close_ns);
            double ya = cy(&c, h.band_lo + h.band_w * (double)(k + 1)),
                   yb = cy(&c, h.band_lo + h.band_w * (double)k);
            cairo_rectangle(c.cr, xa, ya, xb - xa + 0.5, yb - ya + 0.5);
            cairo_fill(c.cr);
        }
    }
    sp_an_series s;
    sp_an_series_init(&s);
    for (size_t t = 0; t < n && rc == SP_OK; t++)
        rc = sp_an_series_push(&s, b[t].close_ns, sp__an_px(b[t].close));
    line(&c, s.p, s.n, 0.1, 0.1, 0.1);
    legend(&c, 0, 0.1, 0.1, 0.1, "close (USDT)");
    legend(&c, 1, 1, 0.3, 0.1, "resting liquidation notional per price band (darker = more)");
    sp_an_series_fini(&s);
    sp_an_heatmap_fini(&h);
    sp_free(all);
    if (rc != SP_OK) {
        cairo_destroy(c.cr);
        cairo_surface_destroy(c.sf);
        return rc;
    }
    return chart_end(&c, dir, "heatmap.png", d);
}

/* corr.png: rolling BTC / ^NDX and / GC=F correlation. */
static sp_err plot_corr(const sp_an_events *e, const sp_an_report *r, const char *dir, sp_diag *d)
{
    static const char *const other[2] = {"^NDX", "GC=F"};
    sp_an_series btc, m, roll[2];
    sp_an_series_init(&btc);
    sp_an_series_init(&m);
    sp_an_series_init(&roll[0]);
    sp_an_series_init(&roll[1]);
    sp_an_bar *b = NULL;
    size_t n = 0;
    sp_err rc = SP_OK;
    if (sp_an_bars_from(e, SP_VENUE_BINANCE_SPOT, "BTCUSDT", 12, &b, &n) == SP_OK) {
        for (size_t i = 0; i < n && rc == SP_OK; i++)
            if (b[i].open_ns <= r->opts.day_ns)
                rc = sp_an_series_push(&btc, b[i].open_ns, sp__an_px(b[i].close));
    }
    sp_free(b);
    for (size_t k = 0; k < 2 && rc == SP_OK; k++) {
        m.n = 0;
        if (sp_an_bars_from(e, SP_VENUE_EXTERNAL, other[k], 12, &b, &n) == SP_OK) {
            for (size_t i = 0; i < n && rc == SP_OK; i++)
                rc = sp_an_series_push(&m, b[i].open_ns, sp__an_px(b[i].close));
        }
        sp_free(b);
        if (rc == SP_OK) {
            sp_err c2 = sp_an_corr_rolling(btc.p, btc.n, m.p, m.n, r->opts.corr_window,
                                           r->opts.corr_ret, &roll[k]);
            rc = c2 == SP_ENOMEM ? c2 : SP_OK;
        }
    }
    chart c;
    int64_t t0 = roll[0].n ? roll[0].p[0].ts_ns : r->opts.day_ns - SP_AN_NS_PER_DAY;
    if (rc == SP_OK) {
        char title[128];
        snprintf(title, sizeof(title), "Rolling %zu-day correlation of BTC %s returns",
                 r->opts.corr_window, sp_an_ret_name(r->opts.corr_ret));
        rc = chart_begin(&c, title, t0, r->opts.day_ns + SP_AN_NS_PER_DAY, -1, 1);
    }
    if (rc == SP_OK) {
        line(&c, roll[0].p, roll[0].n, 0.1, 0.3, 0.7);
        line(&c, roll[1].p, roll[1].n, 0.8, 0.6, 0.1);
        legend(&c, 0, 0.1, 0.3, 0.7, "BTC vs Nasdaq-100 (^NDX)");
        legend(&c, 1, 0.8, 0.6, 0.1, "BTC vs gold futures (GC=F)");
        rc = chart_end(&c, dir, "correlation.png", d);
    }
    sp_an_series_fini(&btc);
    sp_an_series_fini(&m);
    sp_an_series_fini(&roll[0]);
    sp_an_series_fini(&roll[1]);
    return rc;
}

/* etf.png: daily total flows of the loaded months (bars, US$ m). */
static sp_err plot_etf(const sp_an_events *e, const sp_an_report *r, const char *dir, sp_diag *d)
{
    uint32_t sid = e->syms ? sp_symtab_find(e->syms, "ETF:TOTAL", 9) : 0;
    int64_t t0 = INT64_MAX, t1 = r->opts.day_ns + SP_AN_NS_PER_DAY;
    double lo = 0, hi = 0;
    for (size_t i = 0; i < e->n; i++) {
        const sp_event *v = &e->ev[i];
        if (v->kind == SP_EV_SERIES && v->symbol_id == sid && sid && v->exch_ts_ns < t1) {
            t0 = v->exch_ts_ns < t0 ? v->exch_ts_ns : t0;
            lo = sp__an_px(v->px) < lo ? sp__an_px(v->px) : lo;
            hi = sp__an_px(v->px) > hi ? sp__an_px(v->px) : hi;
        }
    }
    if (t0 == INT64_MAX)
        return SP_OK;
    chart c;
    sp_err rc = chart_begin(&c, "US spot BTC ETF daily net flows (Farside total, US$ m)", t0, t1,
                            lo * 1.1, hi * 1.1);
    if (rc != SP_OK)
        return rc;
    double bw = (W - ML - MR) * (double)SP_AN_NS_PER_DAY / (double)(t1 - t0) * 0.8;
    for (size_t i = 0; i < e->n; i++) {
        const sp_event *v = &e->ev[i];
        if (!(v->kind == SP_EV_SERIES && v->symbol_id == sid && v->exch_ts_ns < t1))
            continue;
        double val = sp__an_px(v->px), y0 = cy(&c, 0), y1 = cy(&c, val);
        cairo_set_source_rgb(c.cr, val < 0 ? 0.85 : 0.2, val < 0 ? 0.25 : 0.6, 0.25);
        cairo_rectangle(c.cr, cx(&c, v->exch_ts_ns), y1 < y0 ? y1 : y0, bw < 1 ? 1 : bw,
                        fabs(y1 - y0));
        cairo_fill(c.cr);
    }
    legend(&c, 0, 0.2, 0.6, 0.25, "inflow day");
    legend(&c, 1, 0.85, 0.25, 0.25, "outflow day");
    return chart_end(&c, dir, "etf_flows.png", d);
}

/* fear_greed.png: published and ours, 2018 to the day. */
static sp_err plot_fg(const sp_an_events *e, const sp_an_report *r, const char *dir, sp_diag *d)
{
    sp_an_series pub, ours;
    sp_an_series_init(&pub);
    sp_an_series_init(&ours);
    sp_an_fg_weights w = sp_an_fg_default_weights();
    sp_err rc = sp_an_fg_from_events(e, r->opts.day_ns, &w, &pub, &ours);
    chart c;
    if (rc == SP_OK && pub.n > 0) {
        char title[160];
        if (r->has_fg_agree)
            snprintf(
                title, sizeof(title),
                "Fear & Greed: alternative.me vs ours (corr %.2f, mean abs diff %.1f, %zu days)",
                r->fg_agree.corr, r->fg_agree.mad, r->fg_agree.days);
        else
            snprintf(title, sizeof(title), "Fear & Greed: alternative.me vs ours");
        rc = chart_begin(&c, title, pub.p[0].ts_ns, r->opts.day_ns + SP_AN_NS_PER_DAY, 0, 100);
        if (rc == SP_OK) {
            /* ours starts before the published series: draw only the common span */
            size_t o = 0;
            while (o < ours.n && ours.p[o].ts_ns < pub.p[0].ts_ns)
                o++;
            line(&c, pub.p, pub.n, 0.1, 0.3, 0.7);
            line(&c, ours.p + o, ours.n - o, 0.85, 0.4, 0.1);
            legend(&c, 0, 0.1, 0.3, 0.7, "alternative.me (published)");
            legend(&c, 1, 0.85, 0.4, 0.1, "ours (docs/metrics.md 7.2)");
            rc = chart_end(&c, dir, "fear_greed.png", d);
        }
    }
    sp_an_series_fini(&pub);
    sp_an_series_fini(&ours);
    return rc;
}

sp_err sp_an_plots_write(sp_store *s, const sp_an_report *r, const char *dir, sp_diag *d)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return sp_diag_set(d, SP_EIO, "plots: cannot create %s: %s", dir, strerror(errno));
    const int64_t day = r->opts.day_ns, end = day + SP_AN_NS_PER_DAY;
    sp_an_events e;
    sp_an_events_init(&e);
    static const struct {
        unsigned kind;
        const char *sym;
        int64_t back_days; /* -1 = all history */
    } q[] = {
        {SP_EV_KLINE, "BTCUSDT", -1},  {SP_EV_KLINE, "^NDX", -1},
        {SP_EV_KLINE, "GC=F", -1},     {SP_EV_SERIES, "ETF:TOTAL", 150},
        {SP_EV_SERIES, "FGI", -1},     {SP_EV_SERIES, "BTC-USD", -1},
        {SP_EV_SERIES, "BTCUSDT", -1}, {SP_EV_OPEN_INTEREST, "BTCUSDT", 40},
        {SP_EV_LIQUIDATION, NULL, 2},
    };
    sp_err rc = SP_OK;
    for (size_t i = 0; i < SP_COUNTOF(q) && rc == SP_OK; i++) {
        sp_store_filter f;
        memset(&f, 0, sizeof(f));
        f.kind = q[i].kind;
        f.symbol = q[i].sym;
        f.has_to = 1;
        f.to_ns = end + SP_AN_NS_PER_DAY;
        if (q[i].back_days >= 0) {
            f.has_from = 1;
            f.from_ns = day - q[i].back_days * SP_AN_NS_PER_DAY;
        }
        rc = sp_an_load(s, &f, &e, d);
    }
    if (rc == SP_OK)
        rc = plot_price(&e, r, dir, d);
    if (rc == SP_OK)
        rc = plot_heatmap(&e, r, dir, d);
    if (rc == SP_OK)
        rc = plot_corr(&e, r, dir, d);
    if (rc == SP_OK)
        rc = plot_etf(&e, r, dir, d);
    if (rc == SP_OK)
        rc = plot_fg(&e, r, dir, d);
    sp_an_events_fini(&e);
    return rc;
}

void sp_an_plots_cleanup(void)
{
    /*
     * cairo keeps font and surface caches in static data, and fontconfig a
     * global configuration that LeakSanitizer reports as leaked at exit;
     * both libraries provide these calls for memory checkers.
     */
    cairo_debug_reset_static_data();
    FcFini();
}
