/*
 * routes_an.c -- the analytics routes of the API: the crash-day report,
 * price bars, liquidations, the liquidation heatmap model, the BTC-macro
 * rolling correlation, funding (with open interest), ETF flows and Fear &
 * Greed.
 *
 * Each route reads its parameters (query.c: a bad one is a 400 naming it),
 * loads what it needs from a pooled read-only store handle with the same
 * library calls `stampede metric` / `stampede report` make (sp_an_load,
 * sp_an_bars_from, sp_an_* metrics; no metric is recomputed here) and
 * writes JSON.  Times are milliseconds since the epoch in series (what
 * chart libraries take) and ISO-8601 text elsewhere; prices and money are
 * exact decimals (numbers written from fixed-point text); ratios are
 * doubles.  Defaults centre every window on the crash day, 2026-02-06.
 * An answer whose window ended before the server started is cacheable.
 */
#include <string.h>

#include "api/api_int.h"
#include "stampede/alloc.h"
#include "stampede/feed.h"

#define DAY       SP_AN_NS_PER_DAY
#define CRASH_DAY (INT64_C(20490) * DAY) /* 2026-02-06 00:00 UTC */
#define MS        INT64_C(1000000)
#define MAX_BARS  20000u

static const char *const P_WINDOW[] = {"symbol", "venue", "interval", "from", "to", NULL};

/* Finish o: 200 with the JSON written (cacheable when the window ended at to_ns before the server
 * started: data of the past), or a 503 when the body could not be built. */
void sp__api_finish(const sp__api_req *r, sp__api_out *o, const sp__json *j, int64_t to_ns)
{
    if (j->e != SP_OK) {
        sp__api_error(o, 503, "unavailable", NULL,
                      j->e == SP_ETOOBIG ? "answer too large; narrow the window" : "out of memory");
        return;
    }
    o->status = 200;
    o->cacheable = to_ns <= r->srv->started_ns;
}

static void store_error(sp__api_out *o, sp_err e, const sp_diag *d)
{
    char msg[512];
    sp_diag_format(d, msg, sizeof(msg));
    sp__api_error(o, e == SP_ETOOBIG ? 400 : 503, e == SP_ETOOBIG ? "too_much_data" : "unavailable",
                  NULL, msg);
}

/* The store filter of kind / venue (0 = any) / symbol (NULL = any) in [from, to). */
sp_store_filter sp__api_filter(unsigned kind, unsigned venue, const char *sym, int64_t from,
                               int64_t to)
{
    sp_store_filter f;
    memset(&f, 0, sizeof(f));
    f.kind = kind;
    f.venue = venue;
    f.symbol = sym;
    f.from_ns = from;
    f.to_ns = to;
    f.has_from = f.has_to = 1;
    return f;
}

/* The window [from, to) of a route: from/to parameters with defaults, checked. */
bool sp__api_window(sp__api_req *r, sp__api_out *o, int64_t dfrom, int64_t dto, int64_t *from,
                    int64_t *to)
{
    if (!sp__api_p_time(r, o, "from", dfrom, from) || !sp__api_p_time(r, o, "to", dto, to))
        return false;
    if (*to <= *from) {
        sp__api_error(o, 400, "bad_parameter", "to", "the window is empty: want from < to");
        return false;
    }
    if (*to - *from > INT64_C(3660) * DAY) {
        sp__api_error(o, 400, "bad_parameter", "to", "window longer than 10 years");
        return false;
    }
    return true;
}

/* Load events f selects (appended to e).  false after writing the error. */
bool sp__api_load(sp__api_req *r, sp__api_out *o, const sp_store_filter *f, sp_an_events *e)
{
    sp_store *st = NULL;
    sp_diag d = {0};
    sp_err rc = sp__api_store_get(r->srv, &st, &d);
    if (rc == SP_OK)
        rc = sp_an_load(st, f, e, &d);
    sp__api_store_put(r->srv, st);
    if (rc != SP_OK) {
        store_error(o, rc, &d);
        return false;
    }
    return true;
}

/* Bars of (venue, symbol, interval) in [from, to).  OUT: *b (sp_free), *n.  false after an error.
 */
bool sp__api_load_bars(sp__api_req *r, sp__api_out *o, unsigned venue, const char *symbol,
                       unsigned iv, int64_t from, int64_t to, sp_an_bar **b, size_t *n)
{
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = sp__api_filter(SP_EV_KLINE, venue, symbol, from, to);
    if (!sp__api_load(r, o, &f, &e)) {
        sp_an_events_fini(&e);
        return false;
    }
    sp_err rc = sp_an_bars_from(&e, venue, symbol, iv, b, n);
    sp_an_events_fini(&e);
    if (rc == SP_ENOTFOUND) {
        char why[160];
        snprintf(why, sizeof(why), "no %s %s bars of %s in the store for the window",
                 sp_kline_interval_name(iv), sp_venue_name(venue), symbol);
        sp__api_error(o, 404, "no_data", "symbol", why);
        return false;
    }
    if (rc != SP_OK) {
        sp__api_error(o, 503, "unavailable", NULL, sp_strerror(rc));
        return false;
    }
    if (*n > MAX_BARS) {
        sp_free(*b);
        sp__api_error(o, 400, "too_much_data", "interval",
                      "more than 20000 bars: narrow the window");
        return false;
    }
    return true;
}

/* A series as [[ms, value], ...]. */
void sp__api_jseries(sp__json *j, const sp_an_point *p, size_t n)
{
    sp__api_jraw(j, "[");
    for (size_t i = 0; i < n && j->e == SP_OK; i++) {
        sp__api_jfmt(j, "%s[%lld,", i ? "," : "", (long long)(p[i].ts_ns / MS));
        sp__api_jnum(j, p[i].v);
        sp__api_jraw(j, "]");
    }
    sp__api_jraw(j, "]");
}

/* venue and interval parameters.  false after a 400. */
bool sp__api_venue_iv(sp__api_req *r, sp__api_out *o, const char *dv, const char *di,
                      unsigned *venue, unsigned *iv)
{
    const char *vn = sp_api_query_get(&r->q, "venue");
    const char *in = sp_api_query_get(&r->q, "interval");
    *venue = sp_venue_from_name(vn ? vn : dv);
    if (*venue == SP_VENUE_NONE) {
        sp__api_error(o, 400, "bad_parameter", "venue",
                      "unknown venue (binance, binance_spot, ...)");
        return false;
    }
    if (iv) {
        *iv = sp_kline_interval_from_name(in ? in : di);
        if (*iv == 0) {
            sp__api_error(o, 400, "bad_parameter", "interval", "unknown interval (1m, 1h, 4h, 1d)");
            return false;
        }
    }
    return true;
}

/* ---- /api/v1/report ------------------------------------------------------------------ */

void sp__api_route_report(sp__api_req *r, sp__api_out *o)
{
    static const char *const allowed[] = {"day",         "window",   "from", "at",
                                          "corr_window", "corr_ret", NULL};
    sp_an_report_opts op;
    memset(&op, 0, sizeof(op));
    int64_t cw;
    if (!sp__api_p_only(r, o, allowed) || !sp__api_p_day(r, o, "day", CRASH_DAY, &op.day_ns) ||
        !sp__api_p_dur(r, o, "window", 0, &op.window_ns) ||
        !sp__api_p_time(r, o, "from", 0, &op.from_ns) ||
        !sp__api_p_time(r, o, "at", 0, &op.at_ns) ||
        !sp__api_p_int(r, o, "corr_window", 3, 3650, 30, &cw))
        return;
    op.corr_window = (size_t)cw;
    const char *ret = sp_api_query_get(&r->q, "corr_ret");
    if (ret) {
        int k = sp_an_ret_from_name(ret);
        if (k < 0) {
            sp__api_error(o, 400, "bad_parameter", "corr_ret", "want log, simple or level");
            return;
        }
        op.corr_ret = (sp_an_ret)k;
    }
    sp_an_report *rep;
    if (sp_arena_alloc(&r->arena, sizeof(*rep), 0, (void **)&rep) != SP_OK) {
        sp__api_error(o, 503, "unavailable", NULL, "out of memory");
        return;
    }
    sp_store *st = NULL;
    sp_diag d = {0};
    sp_err rc = sp__api_store_get(r->srv, &st, &d);
    if (rc == SP_OK)
        rc = sp_an_report_build(st, &op, rep, &d);
    sp__api_store_put(r->srv, st);
    if (rc != SP_OK) {
        if (rc == SP_EINVAL)
            sp__api_error(o, 400, "bad_parameter", d.field[0] ? d.field : NULL, d.msg);
        else
            store_error(o, rc, &d);
        return;
    }
    if (rep->events_read == 0) {
        sp__api_error(
            o, 404, "no_data", "day",
            "the store holds none of the report's series (stampede ingest --all-shipped)");
        return;
    }
    sp_err e = sp_api_report_json(rep, &o->body);
    sp__json j = {&o->body, e};
    int64_t end = rep->opts.from_ns + rep->opts.window_ns;
    sp__api_finish(r, o, &j, end > rep->opts.day_ns + DAY ? end : rep->opts.day_ns + DAY);
}

/* ---- /api/v1/prices ------------------------------------------------------------------ */

void sp__api_route_prices(sp__api_req *r, sp__api_out *o)
{
    const char *sym;
    unsigned venue, iv;
    int64_t from, to;
    if (!sp__api_p_only(r, o, P_WINDOW) || !sp__api_p_sym(r, o, "symbol", "BTCUSDT", &sym) ||
        !sp__api_venue_iv(r, o, "binance", "1m", &venue, &iv) ||
        !sp__api_window(r, o, CRASH_DAY, CRASH_DAY + DAY, &from, &to))
        return;
    sp_an_bar *b;
    size_t n;
    if (!sp__api_load_bars(r, o, venue, sym, iv, from, to, &b, &n))
        return;
    sp__json j = {&o->body, SP_OK};
    sp__api_jraw(&j, "{\"symbol\":");
    sp__api_jstr(&j, sym);
    sp__api_jfmt(&j, ",\"venue\":\"%s\",\"interval\":\"%s\",", sp_venue_name(venue),
                 sp_kline_interval_name(iv));
    sp__api_jraw(&j, "\"columns\":[\"open_ms\",\"open\",\"high\",\"low\",\"close\",\"volume\"],"
                     "\"bars\":[");
    for (size_t i = 0; i < n && j.e == SP_OK; i++) {
        sp__api_jfmt(&j, "%s[%lld,", i ? "," : "", (long long)(b[i].open_ns / MS));
        sp__api_jdecnum(&j, b[i].open, SP_EV_PX_SCALE);
        sp__api_jraw(&j, ",");
        sp__api_jdecnum(&j, b[i].high, SP_EV_PX_SCALE);
        sp__api_jraw(&j, ",");
        sp__api_jdecnum(&j, b[i].low, SP_EV_PX_SCALE);
        sp__api_jraw(&j, ",");
        sp__api_jdecnum(&j, b[i].close, SP_EV_PX_SCALE);
        sp__api_jraw(&j, ",");
        sp__api_jdecnum(&j, b[i].volume, SP_EV_QTY_SCALE);
        sp__api_jraw(&j, "]");
    }
    sp__api_jraw(&j, "]}");
    sp_free(b);
    sp__api_finish(r, o, &j, to);
}

/* ---- /api/v1/liquidations ------------------------------------------------------------ */

void sp__api_route_liquidations(sp__api_req *r, sp__api_out *o)
{
    static const char *const allowed[] = {"symbol", "venue", "from", "to", "bucket", NULL};
    const char *sym = NULL;
    int64_t from, to, bucket;
    if (!sp__api_p_only(r, o, allowed) || !sp__api_p_sym(r, o, "symbol", NULL, &sym) ||
        !sp__api_window(r, o, CRASH_DAY, CRASH_DAY + DAY, &from, &to) ||
        !sp__api_p_dur(r, o, "bucket", SP_AN_NS_PER_HOUR, &bucket))
        return;
    unsigned venue = 0;
    if (sp_api_query_get(&r->q, "venue") && !sp__api_venue_iv(r, o, NULL, NULL, &venue, NULL))
        return;
    if ((to - from) / bucket > 10000) {
        sp__api_error(o, 400, "bad_parameter", "bucket", "more than 10000 buckets in the window");
        return;
    }
    sp_an_events e;
    sp_an_events_init(&e);
    sp_store_filter f = sp__api_filter(SP_EV_LIQUIDATION, venue, sym, from, to);
    if (!sp__api_load(r, o, &f, &e)) {
        sp_an_events_fini(&e);
        return;
    }
    sp_an_liq_group *g;
    size_t ng = 0, nb = (size_t)((to - from + bucket - 1) / bucket);
    sp_an_liq_total t;
    sp_an_traders tr;
    int64_t *lon, *sho;
    sp_err rc = sp_arena_alloc(&r->arena, 256 * sizeof(*g), 0, (void **)&g);
    if (rc == SP_OK)
        rc = sp_arena_alloc(&r->arena, nb * sizeof(int64_t), 0, (void **)&lon);
    if (rc == SP_OK)
        rc = sp_arena_alloc(&r->arena, nb * sizeof(int64_t), 0, (void **)&sho);
    bool truncated = false;
    if (rc == SP_OK) {
        rc = sp_an_liq_aggregate(e.ev, e.n, e.syms, from, to, g, 256, &ng, &t);
        if (rc == SP_ETOOBIG && ng == 256) { /* the 256 largest groups kept; totals exact */
            truncated = true;
            rc = SP_OK;
        }
    }
    if (rc == SP_OK)
        rc = sp_an_liq_traders(e.ev, e.n, from, to, &tr);
    if (rc == SP_OK) {
        memset(lon, 0, nb * sizeof(int64_t));
        memset(sho, 0, nb * sizeof(int64_t));
        for (size_t i = 0; i < e.n && rc == SP_OK; i++) {
            const sp_event *ev = &e.ev[i];
            int64_t x;
            if (ev->kind != SP_EV_LIQUIDATION || ev->exch_ts_ns < from || ev->exch_ts_ns >= to)
                continue;
            rc = sp_an_liq_notional(ev, sp_symtab_name(e.syms, ev->symbol_id), &x);
            size_t k = (size_t)((ev->exch_ts_ns - from) / bucket);
            /* a long is liquidated by a forced sell (SP_EV_SIDE_SELL, docs/metrics.md §6) */
            int64_t *dst = (ev->flags & SP_EVF_SELL) ? &lon[k] : &sho[k];
            if (rc == SP_OK)
                rc = sp_add_checked(*dst, x, dst);
        }
    }
    if (rc != SP_OK) {
        sp_an_events_fini(&e);
        sp__api_error(o, 503, "unavailable", NULL, sp_strerror(rc));
        return;
    }
    sp__json j = {&o->body, SP_OK};
    sp__api_jraw(&j, "{\"from\":");
    sp__api_jtime(&j, from);
    sp__api_jraw(&j, ",\"to\":");
    sp__api_jtime(&j, to);
    sp__api_jfmt(&j, ",\"count\":%llu,\"notional\":", (unsigned long long)t.count);
    sp__api_jdec(&j, t.notional, SP_EV_PX_SCALE);
    sp__api_jraw(&j, ",\"long\":");
    sp__api_jdec(&j, t.long_notional, SP_EV_PX_SCALE);
    sp__api_jraw(&j, ",\"short\":");
    sp__api_jdec(&j, t.short_notional, SP_EV_PX_SCALE);
    sp__api_jraw(&j, ",\"largest\":");
    sp__api_jdec(&j, t.largest, SP_EV_PX_SCALE);
    sp__api_jfmt(&j, ",\"traders\":{\"counted\":%llu,\"observed\":%llu,\"estimate\":",
                 (unsigned long long)tr.counted, (unsigned long long)tr.observed);
    sp__api_jnum(&j, tr.estimate);
    sp__api_jraw(&j, ",\"stderr\":");
    sp__api_jnum(&j, tr.stderr_est);
    sp__api_jraw(&j, "},\"groups\":[");
    for (size_t i = 0; i < ng; i++) {
        sp__api_jfmt(&j, "%s{\"venue\":\"%s\",\"symbol\":", i ? "," : "",
                     sp_venue_name(g[i].venue));
        sp__api_jstr(&j, sp_symtab_name(e.syms, g[i].symbol_id));
        sp__api_jfmt(&j, ",\"side\":\"%s\",\"count\":%llu,\"notional\":",
                     g[i].long_side ? "long" : "short", (unsigned long long)g[i].count);
        sp__api_jdec(&j, g[i].notional, SP_EV_PX_SCALE);
        sp__api_jraw(&j, "}");
    }
    sp__api_jfmt(&j, "],\"groups_truncated\":%s,\"bucket_s\":%lld,\"series\":[",
                 truncated ? "true" : "false", (long long)(bucket / SP_AN_NS_PER_SEC));
    for (size_t k = 0; k < nb && j.e == SP_OK; k++) {
        sp__api_jfmt(&j, "%s[%lld,", k ? "," : "", (long long)((from + (int64_t)k * bucket) / MS));
        sp__api_jdecnum(&j, lon[k], SP_EV_PX_SCALE);
        sp__api_jraw(&j, ",");
        sp__api_jdecnum(&j, sho[k], SP_EV_PX_SCALE);
        sp__api_jraw(&j, "]");
    }
    sp__api_jraw(&j, "]}");
    sp_an_events_fini(&e);
    sp__api_finish(r, o, &j, to);
}
