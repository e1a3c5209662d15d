/*
 * routes_an2.c -- more analytics routes: the liquidation heatmap model,
 * the rolling correlation, funding with open interest, ETF flows and Fear
 * & Greed.  Same conventions as routes_an.c (which has the report,
 * prices and liquidations): the library computes, this file reads the
 * parameters and writes JSON.
 */
#include <string.h>

#include "api/api_int.h"
#include "stampede/alloc.h"
#include "stampede/feed.h"

#define DAY       SP_AN_NS_PER_DAY
#define CRASH_DAY (INT64_C(20490) * DAY) /* 2026-02-06 00:00 UTC */
#define MS        INT64_C(1000000)

static void no_data(sp__api_out *o, const char *field, const char *what)
{
    sp__api_error(o, 404, "no_data", field, what);
}

/* ---- /api/v1/heatmap (docs/metrics.md §8) ---------------------------------------------- */

void sp__api_route_heatmap(sp__api_req *r, sp__api_out *o)
{
    static const char *const allowed[] = {"symbol", "venue", "interval", "from",
                                          "to",     "bands", "proxy",    NULL};
    const char *sym;
    int64_t from, to, bands, proxy_e4;
    if (!sp__api_p_only(r, o, allowed) || !sp__api_p_sym(r, o, "symbol", "BTCUSDT", &sym) ||
        !sp__api_window(r, o, CRASH_DAY - 14 * DAY, CRASH_DAY + 2 * DAY, &from, &to) ||
        !sp__api_p_int(r, o, "bands", 2, 200, 40, &bands) ||
        !sp__api_p_int(r, o, "proxy", 0, 10000, 500, &proxy_e4))
        return;
    unsigned venue, iv;
    if (!sp__api_venue_iv(r, o, "binance_spot", "4h", &venue, &iv))
        return;
    sp_an_events e, oi;
    sp_an_events_init(&e);
    sp_an_events_init(&oi);
    sp_an_bar *b = NULL;
    size_t n = 0, from_oi = 0;
    double *opened = NULL;
    sp_an_heatmap h;
    memset(&h, 0, sizeof(h));
    sp_store_filter f = sp__api_filter(SP_EV_KLINE, venue, sym, from, to);
    if (!sp__api_load(r, o, &f, &e))
        goto out;
    if (sp_an_bars_from(&e, venue, sym, iv, &b, &n) != SP_OK || n < 2 || n > 5000) {
        no_data(o, "symbol",
                n > 5000 ? "more than 5000 bars: narrow the window"
                         : "fewer than 2 bars of that symbol, venue and interval");
        goto out;
    }
    f = sp__api_filter(SP_EV_OPEN_INTEREST, 0, sym, from, to);
    if (!sp__api_load(r, o, &f, &oi))
        goto out;
    opened = sp_calloc(n, sizeof(*opened));
    if (opened == NULL) {
        sp__api_error(o, 503, "unavailable", NULL, "out of memory");
        goto out;
    }
    sp_an_heatmap_opened(b, n, &oi, (double)proxy_e4 / 10000.0, opened, &from_oi);
    if (from_oi == 0 && proxy_e4 == 0) {
        no_data(o, "proxy", "no open interest for these bars; give proxy (volume share x 1e4)");
        goto out;
    }
    sp_an_extremes x;
    sp_an_extremes_of(b, n, INT64_MIN, INT64_MAX, &x);
    sp_an_heat_opts ho = {
        NULL, 0, 0.005, 0.5, (double)x.low / 1e8 * 0.8, (double)x.high / 1e8 * 1.2, (size_t)bands};
    if (sp_an_heatmap_build(b, opened, n, &ho, &h) != SP_OK) {
        sp__api_error(o, 503, "unavailable", NULL, "heatmap model failed");
        goto out;
    }
    sp__json j = {&o->body, SP_OK};
    sp__api_jraw(&j, "{\"symbol\":");
    sp__api_jstr(&j, sym);
    sp__api_jfmt(&j, ",\"venue\":\"%s\",\"interval\":\"%s\",\"steps\":%zu,\"bands\":%zu,",
                 sp_venue_name(venue), sp_kline_interval_name(iv), h.steps, h.bands);
    sp__api_jfmt(&j, "\"bars_from_oi\":%zu,\"proxy\":%s,\"band_lo\":", from_oi,
                 from_oi < h.steps ? "true" : "false");
    sp__api_jnum(&j, h.band_lo);
    sp__api_jraw(&j, ",\"band_width\":");
    sp__api_jnum(&j, h.band_w);
    sp__api_jraw(&j, ",\"ts\":[");
    for (size_t t = 0; t < h.steps; t++)
        sp__api_jfmt(&j, "%s%lld", t ? "," : "", (long long)(h.ts_ns[t] / MS));
    sp__api_jraw(&j, "],\"close\":[");
    for (size_t t = 0; t < n; t++) {
        sp__api_jraw(&j, t ? "," : "");
        sp__api_jdecnum(&j, b[t].close, SP_EV_PX_SCALE);
    }
    sp__api_jraw(&j, "],\"hit\":[");
    for (size_t t = 0; t < h.steps; t++) {
        sp__api_jraw(&j, t ? "," : "");
        sp__api_jnum(&j, h.hit[t]);
    }
    static const char *const side[2] = {"longs", "shorts"};
    for (int s = 0; s < 2; s++) {
        const double *m = s ? h.shorts : h.longs;
        sp__api_jfmt(&j, "],\"%s\":[", side[s]);
        for (size_t t = 0; t < h.steps && j.e == SP_OK; t++) {
            sp__api_jraw(&j, t ? ",[" : "[");
            for (size_t k = 0; k < h.bands; k++) {
                sp__api_jraw(&j, k ? "," : "");
                sp__api_jfmt(&j, "%.0f", m[t * h.bands + k]);
            }
            sp__api_jraw(&j, "]");
        }
    }
    sp__api_jraw(&j, "]}");
    sp__api_finish(r, o, &j, to);
out:
    sp_an_heatmap_fini(&h);
    sp_free(opened);
    sp_free(b);
    sp_an_events_fini(&oi);
    sp_an_events_fini(&e);
}

/* ---- /api/v1/correlation (§3) ------------------------------------------------------------ */

/* Daily closes of symbol (1d bars of venue, 0 = any) in [from, to) appended to out. */
static bool closes(sp__api_req *r, sp__api_out *o, const char *sym, unsigned venue, int64_t from,
                   int64_t to, sp_an_series *out)
{
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = sp__api_filter(SP_EV_KLINE, venue, sym, from, to);
    bool ok = sp__api_load(r, o, &f, &e);
    sp_an_bar *b = NULL;
    size_t n = 0;
    sp_err rc = SP_OK;
    if (ok)
        rc = sp_an_bars_from(&e, venue, sym, sp_kline_interval_from_name("1d"), &b, &n);
    for (size_t i = 0; ok && rc == SP_OK && i < n; i++)
        rc = sp_an_series_push(out, b[i].open_ns, (double)b[i].close / 1e8);
    sp_free(b);
    sp_an_events_fini(&e);
    if (ok && rc != SP_OK) {
        char why[96];
        snprintf(why, sizeof(why), "no daily closes of %s in the store", sym);
        no_data(o, rc == SP_ENOTFOUND ? "symbol" : NULL, why);
        return false;
    }
    return ok;
}

void sp__api_route_correlation(sp__api_req *r, sp__api_out *o)
{
    static const char *const allowed[] = {"symbol", "venue", "against", "window",
                                          "ret",    "from",  "to",      NULL};
    const char *sym, *other, *ret = sp_api_query_get(&r->q, "ret");
    int64_t from, to, win;
    if (!sp__api_p_only(r, o, allowed) || !sp__api_p_sym(r, o, "symbol", "BTCUSDT", &sym) ||
        !sp__api_p_sym(r, o, "against", "^NDX", &other) ||
        !sp__api_window(r, o, CRASH_DAY - 365 * DAY, CRASH_DAY + DAY, &from, &to) ||
        !sp__api_p_int(r, o, "window", 3, 3650, 30, &win))
        return;
    int rt = sp_an_ret_from_name(ret ? ret : "log");
    const char *vn = sp_api_query_get(&r->q, "venue");
    unsigned venue = sp_venue_from_name(vn ? vn : "binance_spot");
    if (rt < 0 || venue == SP_VENUE_NONE) {
        sp__api_error(o, 400, "bad_parameter", rt < 0 ? "ret" : "venue",
                      rt < 0 ? "want log, simple or level" : "unknown venue");
        return;
    }
    sp_an_series a, b, s;
    sp_an_series_init(&a);
    sp_an_series_init(&b);
    sp_an_series_init(&s);
    /* the first window needs `win` returns before from */
    int64_t lead = (win * 2 + 10) * DAY;
    if (!closes(r, o, sym, venue, from - lead, to, &a) ||
        !closes(r, o, other, 0, from - lead, to, &b))
        goto out;
    double rr = 0;
    size_t used = 0;
    sp_err rc = sp_an_corr(a.p, a.n, b.p, b.n, (size_t)win, (sp_an_ret)rt, to - 1, &rr, &used);
    if (rc == SP_OK)
        rc = sp_an_corr_rolling(a.p, a.n, b.p, b.n, (size_t)win, (sp_an_ret)rt, &s);
    if (rc != SP_OK) {
        no_data(o, "window", "too few common days (or a constant series) for the window");
        goto out;
    }
    size_t k = 0;
    while (k < s.n && s.p[k].ts_ns < from)
        k++;
    sp__json j = {&o->body, SP_OK};
    sp__api_jraw(&j, "{\"a\":");
    sp__api_jstr(&j, sym);
    sp__api_jraw(&j, ",\"b\":");
    sp__api_jstr(&j, other);
    sp__api_jfmt(&j, ",\"window\":%lld,\"returns\":\"%s\",\"r\":", (long long)win,
                 sp_an_ret_name((sp_an_ret)rt));
    sp__api_jnum(&j, rr);
    sp__api_jfmt(&j, ",\"n\":%zu,\"rolling\":", used);
    sp__api_jseries(&j, s.p + k, s.n - k);
    sp__api_jraw(&j, "}");
    sp__api_finish(r, o, &j, to);
out:
    sp_an_series_fini(&a);
    sp_an_series_fini(&b);
    sp_an_series_fini(&s);
}

/* ---- /api/v1/funding (§4) with open interest ---------------------------------------------- */

void sp__api_route_funding(sp__api_req *r, sp__api_out *o)
{
    static const char *const allowed[] = {"symbol", "venue", "from", "to", NULL};
    const char *sym;
    int64_t from, to;
    if (!sp__api_p_only(r, o, allowed) || !sp__api_p_sym(r, o, "symbol", "BTCUSDT", &sym) ||
        !sp__api_window(r, o, CRASH_DAY - 30 * DAY, CRASH_DAY + 3 * DAY, &from, &to))
        return;
    unsigned venue;
    if (!sp__api_venue_iv(r, o, "binance", NULL, &venue, NULL))
        return;
    sp_an_events e, oi;
    sp_an_events_init(&e);
    sp_an_events_init(&oi);
    sp_an_funding_day *days = NULL;
    sp_store_filter f = sp__api_filter(SP_EV_FUNDING, venue, sym, from, to);
    if (!sp__api_load(r, o, &f, &e))
        goto out;
    f = sp__api_filter(SP_EV_OPEN_INTEREST, venue, sym, from, to);
    if (!sp__api_load(r, o, &f, &oi))
        goto out;
    size_t cap = e.n ? e.n : 1, n = 0;
    days = sp_calloc(cap, sizeof(*days));
    if (days == NULL || sp_an_funding_daily(e.ev, e.n, days, cap, &n) != SP_OK) {
        sp__api_error(o, 503, "unavailable", NULL, "funding aggregation failed");
        goto out;
    }
    if (n == 0 && oi.n == 0) {
        no_data(o, "symbol", "no funding settlements or open interest in the window");
        goto out;
    }
    sp__json j = {&o->body, SP_OK};
    sp__api_jraw(&j, "{\"symbol\":");
    sp__api_jstr(&j, sym);
    sp__api_jfmt(&j, ",\"venue\":\"%s\",\"daily\":[", sp_venue_name(venue));
    for (size_t i = 0; i < n && j.e == SP_OK; i++) {
        sp__api_jfmt(&j, "%s{\"day\":", i ? "," : "");
        sp__api_jday(&j, days[i].day_ns);
        sp__api_jfmt(&j, ",\"ms\":%lld,\"settles\":%u,\"mean\":", (long long)(days[i].day_ns / MS),
                     days[i].settles);
        sp__api_jnum(&j, days[i].mean);
        sp__api_jraw(&j, ",\"annualised\":");
        sp__api_jnum(&j, days[i].annualised);
        sp__api_jraw(&j, ",\"sum\":");
        sp__api_jdec(&j, days[i].sum_e12, SP_EV_RATE_SCALE);
        sp__api_jraw(&j, "}");
    }
    sp__api_jraw(&j, "],\"settlements\":[");
    for (size_t i = 0, k = 0; i < e.n && j.e == SP_OK; i++) {
        if (e.ev[i].kind != SP_EV_FUNDING)
            continue;
        sp__api_jfmt(&j, "%s[%lld,", k++ ? "," : "", (long long)(e.ev[i].exch_ts_ns / MS));
        sp__api_jdecnum(&j, e.ev[i].px, SP_EV_RATE_SCALE);
        sp__api_jraw(&j, "]");
    }
    sp__api_jraw(&j, "],\"open_interest\":[");
    for (size_t i = 0, k = 0; i < oi.n && j.e == SP_OK; i++) {
        if (oi.ev[i].kind != SP_EV_OPEN_INTEREST)
            continue;
        sp__api_jfmt(&j, "%s[%lld,", k++ ? "," : "", (long long)(oi.ev[i].exch_ts_ns / MS));
        sp__api_jdecnum(&j, oi.ev[i].qty, SP_EV_QTY_SCALE);
        sp__api_jraw(&j, ",");
        sp__api_jdecnum(&j, oi.ev[i].aux[0], SP_EV_PX_SCALE);
        sp__api_jraw(&j, "]");
    }
    sp__api_jraw(&j, "]}");
    sp__api_finish(r, o, &j, to);
out:
    sp_free(days);
    sp_an_events_fini(&oi);
    sp_an_events_fini(&e);
}

/* ---- /api/v1/etf-flows (§5) --------------------------------------------------------------- */

void sp__api_route_etf(sp__api_req *r, sp__api_out *o)
{
    static const char *const allowed[] = {"fund", "from", "to", NULL};
    const char *fund;
    int64_t from, to;
    if (!sp__api_p_only(r, o, allowed) || !sp__api_p_sym(r, o, "fund", "TOTAL", &fund) ||
        !sp__api_window(r, o, CRASH_DAY - 120 * DAY, CRASH_DAY + 3 * DAY, &from, &to))
        return;
    char sym[48];
    snprintf(sym, sizeof(sym), "ETF:%s", fund);
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = sp__api_filter(SP_EV_SERIES, 0, sym, from, to);
    if (!sp__api_load(r, o, &f, &e)) {
        sp_an_events_fini(&e);
        return;
    }
    sp_an_flow_month mo[130];
    size_t n = 0;
    sp_err rc = sp_an_flow_months(e.ev, e.n, mo, SP_COUNTOF(mo), &n);
    if (rc != SP_OK || n == 0) {
        sp_an_events_fini(&e);
        no_data(o, "fund", rc != SP_OK ? sp_strerror(rc) : "no flows of that fund in the window");
        return;
    }
    sp__json j = {&o->body, SP_OK};
    sp__api_jraw(&j, "{\"fund\":");
    sp__api_jstr(&j, fund);
    sp__api_jraw(&j, ",\"unit\":\"US$ m\",\"months\":[");
    for (size_t i = 0; i < n; i++) {
        sp__api_jfmt(&j, "%s{\"month\":\"%04d-%02d\",\"days\":%u,\"net\":", i ? "," : "",
                     mo[i].year, mo[i].month, mo[i].days);
        sp__api_jdec(&j, mo[i].net, SP_EV_PX_SCALE);
        sp__api_jraw(&j, ",\"inflow\":");
        sp__api_jdec(&j, mo[i].inflow, SP_EV_PX_SCALE);
        sp__api_jraw(&j, ",\"outflow\":");
        sp__api_jdec(&j, mo[i].outflow, SP_EV_PX_SCALE);
        sp__api_jraw(&j, ",\"largest_outflow\":");
        sp__api_jdec(&j, mo[i].largest_out, SP_EV_PX_SCALE);
        sp__api_jraw(&j, "}");
    }
    sp__api_jraw(&j, "],\"daily\":[");
    for (size_t i = 0, k = 0; i < e.n && j.e == SP_OK; i++) {
        if (e.ev[i].kind != SP_EV_SERIES)
            continue;
        sp__api_jfmt(&j, "%s[%lld,", k++ ? "," : "", (long long)(e.ev[i].exch_ts_ns / MS));
        sp__api_jdecnum(&j, e.ev[i].px, SP_EV_PX_SCALE);
        sp__api_jraw(&j, "]");
    }
    sp__api_jraw(&j, "]}");
    sp_an_events_fini(&e);
    sp__api_finish(r, o, &j, to);
}

/* ---- /api/v1/fear-greed (§7) --------------------------------------------------------------- */

void sp__api_route_fg(sp__api_req *r, sp__api_out *o)
{
    static const char *const allowed[] = {"from", "to", NULL};
    int64_t from, to;
    if (!sp__api_p_only(r, o, allowed) ||
        !sp__api_window(r, o, CRASH_DAY - 90 * DAY, CRASH_DAY + DAY, &from, &to))
        return;
    sp_an_events e;
    sp_an_events_init(&e);
    sp_an_series pub, ours;
    sp_an_series_init(&pub);
    sp_an_series_init(&ours);
    static const char *const syms[3] = {"FGI", "BTC-USD", "BTCUSDT"};
    for (size_t i = 0; i < 3; i++) {
        /* the index needs a year of history before from (docs/metrics.md §7.2) */
        sp_store_filter f = sp__api_filter(SP_EV_SERIES, 0, syms[i], from - 400 * DAY, to);
        if (!sp__api_load(r, o, &f, &e))
            goto out;
    }
    sp_an_fg_weights w = sp_an_fg_default_weights();
    if (sp_an_fg_from_events(&e, to - 1, &w, &pub, &ours) != SP_OK) {
        sp__api_error(o, 503, "unavailable", NULL, "Fear & Greed failed");
        goto out;
    }
    size_t po = 0, oo = 0;
    while (po < pub.n && pub.p[po].ts_ns < from)
        po++;
    while (oo < ours.n && ours.p[oo].ts_ns < from)
        oo++;
    if (po == pub.n) {
        no_data(o, "from", "no published Fear & Greed values in the window");
        goto out;
    }
    const sp_an_point *last = &pub.p[pub.n - 1];
    sp__json j = {&o->body, SP_OK};
    sp__api_jraw(&j, "{\"last_day\":");
    sp__api_jday(&j, last->ts_ns);
    sp__api_jraw(&j, ",\"published\":");
    sp__api_jnum(&j, last->v);
    sp__api_jraw(&j, ",\"label\":");
    sp__api_jstr(&j, sp_an_fg_label(last->v));
    sp__api_jraw(&j, ",\"ours\":");
    if (ours.n > oo && ours.p[ours.n - 1].ts_ns / DAY == last->ts_ns / DAY)
        sp__api_jnum(&j, ours.p[ours.n - 1].v);
    else
        sp__api_jraw(&j, "null");
    sp__api_jraw(&j, ",\"series_published\":");
    sp__api_jseries(&j, pub.p + po, pub.n - po);
    sp__api_jraw(&j, ",\"series_ours\":");
    sp__api_jseries(&j, ours.p + oo, ours.n - oo);
    sp__api_jraw(&j, "}");
    sp__api_finish(r, o, &j, to);
out:
    sp_an_series_fini(&pub);
    sp_an_series_fini(&ours);
    sp_an_events_fini(&e);
}
