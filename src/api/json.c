/*
 * json.c -- the API's JSON writer and the crash-day report as JSON.
 *
 * A tiny append-only writer over a bounded sp_buf (sp__json): the first
 * error (SP_ETOOBIG at the buffer's ceiling, SP_ENOMEM) sticks and later
 * writes do nothing, so a route writes its whole answer and checks once.
 * Strings are escaped for JSON and made valid UTF-8 (a byte that does not
 * start a well-formed sequence becomes U+FFFD), so an error echoing hostile
 * input is still valid JSON.  Fixed-point values are written as exact
 * decimal strings, doubles (analytics ratios only) with 10 significant
 * digits or null when not finite.
 *
 * sp_api_report_json is the one writer of the report's JSON: `stampede
 * report --json` and GET /api/v1/report both call it.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "api/api_int.h"
#include "stampede/clock.h"
#include "stampede/fixed.h"

void sp__api_jraw(sp__json *j, const char *s)
{
    if (j->e == SP_OK)
        j->e = sp_buf_puts(j->b, s);
}

void sp__api_jfmt(sp__json *j, const char *fmt, ...)
{
    if (j->e != SP_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    j->e = sp_buf_vprintf(j->b, fmt, ap);
    va_end(ap);
}

/* Length of the well-formed UTF-8 sequence at s[0..n), 0 if none starts there. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F; /* <= U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

bool sp_api_utf8_is_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_len(p + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

void sp__api_jstrn(sp__json *j, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    sp__api_jraw(j, "\"");
    size_t i = 0;
    while (i < n && j->e == SP_OK) {
        unsigned c = p[i];
        size_t k = utf8_len(p + i, n - i);
        if (k == 0) {
            sp__api_jraw(j, "\\ufffd");
            i++;
            continue;
        }
        if (k > 1) {
            j->e = sp_buf_append(j->b, p + i, k);
            i += k;
            continue;
        }
        i++;
        switch (c) {
        case '"':
            sp__api_jraw(j, "\\\"");
            break;
        case '\\':
            sp__api_jraw(j, "\\\\");
            break;
        case '\n':
            sp__api_jraw(j, "\\n");
            break;
        case '\t':
            sp__api_jraw(j, "\\t");
            break;
        case '\r':
            sp__api_jraw(j, "\\r");
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                sp__api_jfmt(j, "\\u%04x", c);
            else if (j->e == SP_OK)
                j->e = sp_buf_putc(j->b, (char)c);
        }
    }
    sp__api_jraw(j, "\"");
}

void sp__api_jstr(sp__json *j, const char *s)
{
    sp__api_jstrn(j, s, strlen(s));
}

void sp__api_jdec(sp__json *j, int64_t v, unsigned scale)
{
    char t[SP_DEC_FMT_MAX];
    sp_dec_format(v, scale, SP_FMT_TRIM, t, sizeof(t));
    sp__api_jfmt(j, "\"%s\"", t);
}

void sp__api_jdecnum(sp__json *j, int64_t v, unsigned scale)
{
    char t[SP_DEC_FMT_MAX];
    sp_dec_format(v, scale, SP_FMT_TRIM, t, sizeof(t));
    sp__api_jraw(j, t);
}

void sp__api_jtime(sp__json *j, int64_t ns)
{
    char t[40];
    sp_time_format_iso(ns, t, sizeof(t));
    sp__api_jfmt(j, "\"%s\"", t);
}

void sp__api_jday(sp__json *j, int64_t ns)
{
    char t[40];
    sp_time_format_iso(ns, t, sizeof(t));
    sp__api_jfmt(j, "\"%.10s\"", t);
}

/* A double as a JSON number, null when not finite (the library never gives one). */
void sp__api_jnum(sp__json *j, double v)
{
    if (isfinite(v))
        sp__api_jfmt(j, "%.10g", v);
    else
        sp__api_jraw(j, "null");
}

void sp__api_error(sp__api_out *out, unsigned status, const char *error, const char *field,
                   const char *detail)
{
    sp__json j = {&out->body, SP_OK};
    sp_buf_reset(&out->body);
    out->status = status;
    out->ctype = NULL;
    out->cacheable = false;
    sp__api_jraw(&j, "{\"error\":");
    sp__api_jstr(&j, error);
    sp__api_jraw(&j, ",\"field\":");
    if (field)
        sp__api_jstr(&j, field);
    else
        sp__api_jraw(&j, "null");
    sp__api_jraw(&j, ",\"detail\":");
    sp__api_jstr(&j, detail ? detail : "");
    sp__api_jraw(&j, "}");
}

/* "text" or null for an empty optional text. */
static void jopt(sp__json *j, const char *s)
{
    if (s[0])
        sp__api_jstr(j, s);
    else
        sp__api_jraw(j, "null");
}

/* The number v, or null when the value is absent (!has). */
static void jnum_if(sp__json *j, bool has, double v)
{
    if (has)
        sp__api_jnum(j, v);
    else
        sp__api_jraw(j, "null");
}

static void report_figures(sp__json *j, const sp_an_report *r)
{
    for (size_t i = 0; i < r->nfig; i++) {
        const sp_an_figure *f = &r->fig[i];
        sp__api_jraw(j, i ? ",{\"key\":" : "{\"key\":");
        sp__api_jstr(j, f->key);
        sp__api_jraw(j, ",\"label\":");
        sp__api_jstr(j, f->label);
        sp__api_jraw(j, ",\"article\":");
        jopt(j, f->article);
        sp__api_jraw(j, ",\"data\":");
        sp__api_jstr(j, f->data);
        sp__api_jraw(j, ",\"value\":");
        jnum_if(j, f->has_value, f->value);
        sp__api_jraw(j, ",\"unit\":");
        sp__api_jstr(j, f->unit);
        sp__api_jraw(j, ",\"source\":");
        sp__api_jstr(j, f->source);
        sp__api_jraw(j, ",\"formula\":");
        sp__api_jstr(j, f->formula);
        sp__api_jraw(j, ",\"differs\":");
        jopt(j, f->note);
        sp__api_jraw(j, "}");
    }
}

static void report_coins(sp__json *j, const sp_an_report *r)
{
    for (size_t i = 0; i < r->ncoin; i++) {
        const sp_an_coin_move *m = &r->coin[i];
        sp__api_jraw(j, i ? ",{\"symbol\":" : "{\"symbol\":");
        sp__api_jstr(j, m->symbol);
        sp__api_jraw(j, ",\"day_change\":");
        jnum_if(j, m->has_dd, m->dd);
        sp__api_jraw(j, ",\"change_24h\":");
        jnum_if(j, m->has_24h, m->ch24);
        sp__api_jraw(j, ",\"low\":");
        if (m->low > 0)
            sp__api_jdec(j, m->low, SP_EV_PX_SCALE);
        else
            sp__api_jraw(j, "null");
        sp__api_jraw(j, "}");
    }
}

static void report_liq(sp__json *j, const sp_an_report *r)
{
    sp__api_jraw(j, "},\"liquidations\":{\"from\":");
    sp__api_jtime(j, r->opts.from_ns);
    sp__api_jraw(j, ",\"to\":");
    sp__api_jtime(j, r->opts.from_ns + r->opts.window_ns);
    sp__api_jfmt(j, ",\"count\":%llu,\"notional\":", (unsigned long long)r->liq.count);
    sp__api_jdec(j, r->liq.notional, SP_EV_PX_SCALE);
    sp__api_jraw(j, ",\"long\":");
    sp__api_jdec(j, r->liq.long_notional, SP_EV_PX_SCALE);
    sp__api_jraw(j, ",\"short\":");
    sp__api_jdec(j, r->liq.short_notional, SP_EV_PX_SCALE);
    sp__api_jraw(j, ",\"largest\":");
    sp__api_jdec(j, r->liq.largest, SP_EV_PX_SCALE);
    sp__api_jfmt(j, ",\"traders\":{\"counted\":%llu,\"observed\":%llu,\"estimate\":",
                 (unsigned long long)r->traders.counted, (unsigned long long)r->traders.observed);
    sp__api_jnum(j, r->traders.estimate);
    sp__api_jraw(j, ",\"stderr\":");
    sp__api_jnum(j, r->traders.stderr_est);
    sp__api_jfmt(j, ",\"saturated_minutes\":%llu},\"groups\":[",
                 (unsigned long long)r->traders.saturated);
    for (size_t i = 0; i < r->ngroup; i++) {
        const sp_an_liq_group *g = &r->group[i];
        sp__api_jfmt(j, "%s{\"venue\":\"%s\",\"symbol\":", i ? "," : "", sp_venue_name(g->venue));
        sp__api_jstr(j, r->group_symbol[i]);
        sp__api_jfmt(j, ",\"side\":\"%s\",\"count\":%llu,\"notional\":",
                     g->long_side ? "long" : "short", (unsigned long long)g->count);
        sp__api_jdec(j, g->notional, SP_EV_PX_SCALE);
        sp__api_jraw(j, ",\"largest\":");
        sp__api_jdec(j, g->largest, SP_EV_PX_SCALE);
        sp__api_jraw(j, "}");
    }
    sp__api_jraw(j, "]}}");
}

/*
 * The report as JSON: figures, coins, ETF months, funding, correlation,
 * Fear & Greed and liquidations (docs/api.md "report").  Money is exact
 * decimal text, ratios are numbers, absent data is null.
 */
sp_err sp_api_report_json(const sp_an_report *r, sp_buf *b)
{
    sp__json jj = {b, SP_OK}, *j = &jj;
    sp__api_jraw(j, "{\"day\":");
    sp__api_jday(j, r->opts.day_ns);
    sp__api_jfmt(j, ",\"events_read\":%llu,\"figures\":[", (unsigned long long)r->events_read);
    report_figures(j, r);
    sp__api_jraw(j, "],\"coins\":[");
    report_coins(j, r);
    sp__api_jraw(j, "],\"change_24h_at\":");
    sp__api_jtime(j, r->opts.at_ns);
    sp__api_jraw(j, ",\"etf_months_musd\":[");
    for (size_t i = 0; i < r->nmonth; i++) {
        const sp_an_flow_month *m = &r->month[i];
        sp__api_jfmt(j, "%s{\"month\":\"%04d-%02d\",\"days\":%u,\"net\":", i ? "," : "", m->year,
                     m->month, m->days);
        sp__api_jdec(j, m->net, SP_EV_PX_SCALE);
        sp__api_jraw(j, ",\"inflow\":");
        sp__api_jdec(j, m->inflow, SP_EV_PX_SCALE);
        sp__api_jraw(j, ",\"outflow\":");
        sp__api_jdec(j, m->outflow, SP_EV_PX_SCALE);
        sp__api_jraw(j, ",\"largest_outflow\":");
        sp__api_jdec(j, m->largest_out, SP_EV_PX_SCALE);
        sp__api_jraw(j, "}");
    }
    sp__api_jraw(j, "],\"funding\":{\"settlements\":[");
    for (size_t i = 0; i < r->nsettle; i++) {
        sp__api_jraw(j, i ? ",{\"time\":" : "{\"time\":");
        sp__api_jtime(j, r->settle_ns[i]);
        sp__api_jraw(j, ",\"rate\":");
        sp__api_jdec(j, r->settle_rate[i], SP_EV_RATE_SCALE);
        sp__api_jraw(j, "}");
    }
    sp__api_jraw(j, "],\"mean\":");
    jnum_if(j, r->has_funding, r->funding.mean);
    sp__api_jraw(j, ",\"annualised\":");
    jnum_if(j, r->has_funding, r->funding.annualised);
    sp__api_jfmt(j, "},\"correlation\":{\"window\":%zu,\"returns\":\"%s\",\"series\":[",
                 r->opts.corr_window, sp_an_ret_name(r->opts.corr_ret));
    for (size_t i = 0; i < SP_AN_REPORT_MACRO; i++) {
        sp__api_jraw(j, i ? ",{\"symbol\":" : "{\"symbol\":");
        sp__api_jstr(j, r->corr[i].symbol);
        sp__api_jraw(j, ",\"r\":");
        jnum_if(j, r->corr[i].ok, r->corr[i].r);
        sp__api_jfmt(j, ",\"n\":%zu}", r->corr[i].used);
    }
    sp__api_jraw(j, "]},\"fear_greed\":{\"published\":");
    jnum_if(j, r->has_fg, r->fg_published);
    sp__api_jraw(j, ",\"ours\":");
    jnum_if(j, r->has_fg_ours, r->fg_ours);
    if (r->has_fg_agree) {
        sp__api_jraw(j, ",\"agreement\":{\"corr\":");
        sp__api_jnum(j, r->fg_agree.corr);
        sp__api_jraw(j, ",\"mad\":");
        sp__api_jnum(j, r->fg_agree.mad);
        sp__api_jfmt(j, ",\"days\":%zu}", r->fg_agree.days);
    }
    report_liq(j, r);
    return jj.e;
}
