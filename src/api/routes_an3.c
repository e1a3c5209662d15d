/*
 * routes_an3.c -- the price metrics of docs/metrics.md §2 as routes:
 * extremes (§2.1), drawdown from the running high (§2.2), close-to-close
 * change over a window (§2.3) and realised volatility (§2.4), each the
 * library call `stampede metric extremes|drawdown|change|vol` makes over
 * the same bars.  Prices are exact decimals, ratios doubles.
 */
#include <string.h>

#include "api/api_int.h"
#include "stampede/alloc.h"
#include "stampede/feed.h"

#define DAY       SP_AN_NS_PER_DAY
#define CRASH_DAY (INT64_C(20490) * DAY) /* 2026-02-06 00:00 UTC */

static const char *const P_BARS[] = {"symbol", "venue", "interval", "from", "to", NULL};

/* What a bar route read: its parameters and the bars (b: sp_free). */
typedef struct route_bars {
    const char *sym;
    unsigned venue, iv;
    int64_t to;
    sp_an_bar *b;
    size_t n;
} route_bars;

/* Parameters symbol / venue / interval ("1d") / window of a bar route and its bars.  false after an
 * error (written to o). */
static bool bars(sp__api_req *r, sp__api_out *o, int64_t dfrom, int64_t dto, route_bars *x)
{
    int64_t from;
    return sp__api_p_only(r, o, P_BARS) && sp__api_p_sym(r, o, "symbol", "BTCUSDT", &x->sym) &&
           sp__api_venue_iv(r, o, "binance_spot", "1d", &x->venue, &x->iv) &&
           sp__api_window(r, o, dfrom, dto, &from, &x->to) &&
           sp__api_load_bars(r, o, x->venue, x->sym, x->iv, from, x->to, &x->b, &x->n);
}

static void head_of(sp__json *j, const char *metric, const char *sym, unsigned venue, unsigned iv)
{
    sp__api_jfmt(j, "{\"metric\":\"%s\",\"symbol\":", metric);
    sp__api_jstr(j, sym);
    sp__api_jfmt(j, ",\"venue\":\"%s\",\"interval\":\"%s\"", sp_venue_name(venue),
                 sp_kline_interval_name(iv));
}

static void head(sp__json *j, const char *metric, const route_bars *x)
{
    head_of(j, metric, x->sym, x->venue, x->iv);
}

/* GET /api/v1/extremes: highest high and lowest low of the bars in the window (§2.1). */
void sp__api_route_extremes(sp__api_req *r, sp__api_out *o)
{
    route_bars q;
    if (!bars(r, o, CRASH_DAY - 400 * DAY, CRASH_DAY + DAY, &q))
        return;
    sp_an_extremes x;
    sp_an_extremes_of(q.b, q.n, INT64_MIN, INT64_MAX, &x); /* n > 0 here */
    sp_free(q.b);
    sp__json j = {&o->body, SP_OK};
    head(&j, "extremes", &q);
    sp__api_jfmt(&j, ",\"bars\":%zu,\"high\":", x.bars);
    sp__api_jdec(&j, x.high, SP_EV_PX_SCALE);
    sp__api_jraw(&j, ",\"high_time\":");
    sp__api_jtime(&j, x.high_ns);
    sp__api_jraw(&j, ",\"low\":");
    sp__api_jdec(&j, x.low, SP_EV_PX_SCALE);
    sp__api_jraw(&j, ",\"low_time\":");
    sp__api_jtime(&j, x.low_ns);
    sp__api_jraw(&j, "}");
    sp__api_finish(r, o, &j, q.to);
}

/* GET /api/v1/drawdown: the deepest drawdown from the running high, and its series (§2.2). */
void sp__api_route_drawdown(sp__api_req *r, sp__api_out *o)
{
    route_bars q;
    if (!bars(r, o, CRASH_DAY - 400 * DAY, CRASH_DAY + DAY, &q))
        return;
    sp_an_series s;
    sp_an_series_init(&s);
    sp_an_drawdown w;
    sp_err e = sp_an_drawdown_of(q.b, q.n, &s, &w);
    sp_free(q.b);
    if (e != SP_OK) {
        sp_an_series_fini(&s);
        sp__api_error(o, e == SP_ENOMEM ? 503 : 404, e == SP_ENOMEM ? "unavailable" : "no_data",
                      NULL, sp_strerror(e));
        return;
    }
    sp__json j = {&o->body, SP_OK};
    head(&j, "drawdown", &q);
    sp__api_jraw(&j, ",\"drawdown\":");
    sp__api_jnum(&j, w.dd);
    sp__api_jraw(&j, ",\"peak\":");
    sp__api_jdec(&j, w.peak, SP_EV_PX_SCALE);
    sp__api_jraw(&j, ",\"peak_time\":");
    sp__api_jtime(&j, w.peak_ns);
    sp__api_jraw(&j, ",\"trough\":");
    sp__api_jdec(&j, w.trough, SP_EV_PX_SCALE);
    sp__api_jraw(&j, ",\"trough_time\":");
    sp__api_jtime(&j, w.trough_ns);
    sp__api_jraw(&j, ",\"series\":");
    sp__api_jseries(&j, s.p, s.n);
    sp__api_jraw(&j, "}");
    sp_an_series_fini(&s);
    sp__api_finish(r, o, &j, q.to);
}

/* GET /api/v1/change: close-to-close change over `window` ending at `at` (§2.3). */
void sp__api_route_change(sp__api_req *r, sp__api_out *o)
{
    static const char *const allowed[] = {"symbol", "venue", "interval", "at", "window", NULL};
    const char *sym;
    unsigned venue, iv;
    int64_t at, w;
    if (!sp__api_p_only(r, o, allowed) || !sp__api_p_sym(r, o, "symbol", "BTCUSDT", &sym) ||
        !sp__api_venue_iv(r, o, "binance_spot", "4h", &venue, &iv) ||
        !sp__api_p_time(r, o, "at", CRASH_DAY + 8 * SP_AN_NS_PER_HOUR, &at) ||
        !sp__api_p_dur(r, o, "window", DAY, &w))
        return;
    sp_an_bar *b;
    size_t n;
    if (!sp__api_load_bars(r, o, venue, sym, iv, at - w - DAY, at + DAY, &b, &n))
        return;
    double c;
    sp_err e = sp_an_change(b, n, at, w, &c);
    sp_free(b);
    if (e != SP_OK) {
        sp__api_error(o, 404, "no_data", "at",
                      "no bar closes at `at` or `window` before it (no interpolation, §2.3)");
        return;
    }
    sp__json j = {&o->body, SP_OK};
    head_of(&j, "change", sym, venue, iv);
    sp__api_jraw(&j, ",\"at\":");
    sp__api_jtime(&j, at);
    sp__api_jfmt(&j, ",\"window_s\":%lld,\"change\":", (long long)(w / SP_AN_NS_PER_SEC));
    sp__api_jnum(&j, c);
    sp__api_jraw(&j, "}");
    sp__api_finish(r, o, &j, at + DAY);
}

/* GET /api/v1/volatility: realised volatility of log returns, annualised (§2.4). */
void sp__api_route_volatility(sp__api_req *r, sp__api_out *o)
{
    route_bars q;
    if (!bars(r, o, CRASH_DAY - 30 * DAY, CRASH_DAY + DAY, &q))
        return;
    int64_t ivs = q.b[0].close_ns - q.b[0].open_ns;
    double ppy = (double)(365 * DAY) / (double)ivs;
    sp_an_vol v;
    sp_err e = sp_an_realised_vol(q.b, q.n, INT64_MIN, INT64_MAX, ppy, &v);
    sp_free(q.b);
    if (e != SP_OK) {
        sp__api_error(o, 404, "no_data", "from", "fewer than 2 adjacent returns in the window");
        return;
    }
    sp__json j = {&o->body, SP_OK};
    head(&j, "volatility", &q);
    sp__api_jfmt(&j, ",\"returns\":%zu,\"stdev\":", v.returns);
    sp__api_jnum(&j, v.stdev);
    sp__api_jraw(&j, ",\"annualised\":");
    sp__api_jnum(&j, v.annualised);
    sp__api_jraw(&j, ",\"periods_per_year\":");
    sp__api_jnum(&j, ppy);
    sp__api_jraw(&j, "}");
    sp__api_finish(r, o, &j, q.to);
}
