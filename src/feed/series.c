/*
 * series.c -- the external daily series the analytics need (cold formats):
 * Yahoo Finance daily OHLC, alternative.me Fear & Greed, Farside ETF flows
 * (JSON and the two CSV scrapes), CoinGecko top-100 snapshots,
 * the lukmol daily BTC price/volume and funding means, Hyperliquid's
 * official liquidation list and the third-party ADL aggregates.  The two
 * JSON documents are read with the scanner of json.c rather than jansson
 * because jansson turns their numbers into binary doubles.
 * data/PROVENANCE.md §7-§13 describes each file and its quirks.
 *
 * Most of these sources were written by Python from binary floats (e.g.
 * yfinance "273.8999938964844", CoinGecko "1.2e-05"): they are not exact
 * decimals to begin with, so their values are rounded half-even to the
 * event scale (and exponents are accepted) instead of being rejected for
 * too many places.  Exchange-published values (Hyperliquid's notionals,
 * Farside's one-decimal US$ m) are still parsed the same way; none of them
 * has more than 8 places.  Each series event is venue SP_VENUE_EXTERNAL
 * (Hyperliquid: SP_VENUE_HYPERLIQUID) with sub = SP_SERIES_* (feed.h).
 */
#include <stdio.h>
#include <string.h>

#include "feed/feed_int.h"
#include "stampede/fixed.h"
#include "stampede/limits.h"

#define RND SP_DEC_ROUND

typedef struct series_state {
    bool started;
    uint32_t sym;
    uint32_t cols[SP__CSV_COLS_MAX]; /* farside CSV: symbol per fund column */
    size_t ncols;
} series_state;

static sp_err day_of(const sp__csv_row *row, size_t i, const char *name, int64_t *ns, sp_diag *d)
{
    if (sp__feed_parse_time(row->f[i], row->n[i], ns) == SP_OK)
        return SP_OK;
    d->column = row->off[i] + 1;
    sp_diag_field(d, name);
    return sp_diag_set(d, SP_EPARSE, "expected a date YYYY-MM-DD (or an ISO date-time)");
}

static sp_err intern_str(sp__feed_run *r, const char *prefix, const char *p, size_t n, uint32_t *id,
                         sp_diag *d)
{
    char name[SP_SYMBOL_MAX + 1];
    size_t pl = strlen(prefix);
    if (pl + n > SP_SYMBOL_MAX) {
        sp_diag_field(d, "symbol");
        return sp_diag_set(d, SP_EINVAL, "symbol \"%s%.*s\" too long", prefix,
                           (int)(n > 40 ? 40 : n), p);
    }
    memcpy(name, prefix, pl);
    memcpy(name + pl, p, n);
    sp_err rc = sp_symtab_intern(sp__feed_syms(r), name, pl + n, id);
    if (rc != SP_OK) {
        sp_diag_field(d, "symbol");
        return sp_diag_set(d, rc, "bad symbol \"%.*s\"", (int)(pl + n), name);
    }
    return SP_OK;
}

static sp_event series_ev(uint8_t venue, unsigned sub, uint32_t sym, int64_t ts)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    e.kind = SP_EV_SERIES;
    e.venue = venue;
    e.sub = (uint8_t)sub;
    e.symbol_id = sym;
    e.exch_ts_ns = ts;
    return e;
}

/* Split and check the column count; skip line 1 (the header, already matched by detection). */
static sp_err row_of(const char *line, size_t n, size_t cols, sp__csv_row *row, sp_diag *d)
{
    sp_err rc = sp__csv_split(line, n, row, d);
    return rc == SP_OK ? sp__csv_cols(row, cols, d) : rc;
}

/* Symbol from the file name ("^NDX.csv" -> "^NDX"), once. */
static sp_err name_sym(sp__feed_run *r, series_state *st, sp_diag *d, bool *fatal)
{
    if (st->started)
        return SP_OK;
    sp_err rc = sp__feed_name_symbol(r, ".", &st->sym, d);
    *fatal = rc != SP_OK;
    st->started = rc == SP_OK;
    return rc;
}

/* Yahoo daily OHLC (no volume) -> KLINE 1d, venue EXTERNAL. */
static sp_err yfinance_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                            sp_diag *d, bool *fatal)
{
    series_state *st = sp__feed_state(r);
    sp_err rc = name_sym(r, st, d, fatal);
    if (rc != SP_OK || lineno == 1)
        return rc;
    sp__csv_row row;
    sp_event e = series_ev(SP_VENUE_EXTERNAL, 0, st->sym, 0);
    if ((rc = row_of(line, n, 5, &row, d)) != SP_OK ||
        (rc = day_of(&row, 0, "Date", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 1, "Open", SP_EV_PX_SCALE, RND, &e.aux[0], d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 2, "High", SP_EV_PX_SCALE, RND, &e.aux[1], d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 3, "Low", SP_EV_PX_SCALE, RND, &e.aux[2], d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 4, "Close", SP_EV_PX_SCALE, RND, &e.px, d)) != SP_OK)
        return rc;
    e.kind = SP_EV_KLINE;
    e.sub = 12; /* 1d */
    e.flags = SP_EVF_CLOSED;
    return sp__feed_emit(r, &e, 1);
}

static sp_err fgi_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno, sp_diag *d,
                       bool *fatal)
{
    (void)fatal;
    series_state *st = sp__feed_state(r);
    if (lineno == 1)
        return intern_str(r, "", "FGI", 3, &st->sym, d);
    sp__csv_row row;
    sp_event e = series_ev(SP_VENUE_EXTERNAL, SP_SERIES_FEAR_GREED, st->sym, 0);
    sp_err rc;
    if ((rc = row_of(line, n, 2, &row, d)) != SP_OK ||
        (rc = day_of(&row, 0, "date", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 1, "FGI", SP_EV_PX_SCALE, &e.px, d)) != SP_OK)
        return rc;
    if (e.px < 0 || e.px > 100 * sp_pow10(SP_EV_PX_SCALE)) {
        d->column = row.off[1] + 1;
        sp_diag_field(d, "FGI");
        return sp_diag_set(d, SP_ERANGE, "index outside 0..100");
    }
    return sp__feed_emit(r, &e, 1);
}

/* date,IBIT,...,total_musd: one ETF_FLOW event per fund column. */
static sp_err farside_csv_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                               sp_diag *d, bool *fatal)
{
    series_state *st = sp__feed_state(r);
    sp__csv_row row;
    sp_err rc = sp__csv_split(line, n, &row, d);
    if (rc != SP_OK)
        return rc;
    if (lineno == 1) {
        for (size_t i = 1; i < row.cols; i++) {
            bool total = sp__csv_is(&row, i, "total_musd");
            if ((rc = intern_str(r, "ETF:", total ? "TOTAL" : row.f[i], total ? 5 : row.n[i],
                                 &st->cols[i], d)) != SP_OK) {
                *fatal = true;
                return rc;
            }
        }
        st->ncols = row.cols;
        return SP_OK;
    }
    if ((rc = sp__csv_cols(&row, st->ncols, d)) != SP_OK)
        return rc;
    sp_event ev[SP__CSV_COLS_MAX];
    int64_t ts;
    if ((rc = day_of(&row, 0, "date", &ts, d)) != SP_OK)
        return rc;
    for (size_t i = 1; i < row.cols; i++) {
        ev[i - 1] = series_ev(SP_VENUE_EXTERNAL, SP_SERIES_ETF_FLOW, st->cols[i], ts);
        if ((rc = sp__csv_dec(&row, i, "flow_musd", SP_EV_PX_SCALE, &ev[i - 1].px, d)) != SP_OK)
            return rc;
    }
    return sp__feed_emit(r, ev, row.cols - 1);
}

/* "11 Jan 2024" -> ns. */
static sp_err dmy(const char *p, size_t n, int64_t *ns)
{
    static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (n != 11 || p[2] != ' ' || p[6] != ' ')
        return SP_EPARSE;
    unsigned m = 0;
    for (unsigned i = 0; i < 12; i++) {
        if (memcmp(p + 3, mon + 3 * i, 3) == 0)
            m = i + 1;
    }
    char iso[11] = {p[7], p[8], p[9], p[10], '-', (char)('0' + m / 10), (char)('0' + m % 10),
                    '-',  p[0], p[1], 0};
    if (m == 0)
        return SP_EPARSE;
    return sp__feed_parse_time(iso, 10, ns);
}

/* Date,Total with "1,045.00" thousands and trailing summary rows. */
static sp_err farside_total_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                 sp_diag *d, bool *fatal)
{
    (void)fatal;
    series_state *st = sp__feed_state(r);
    if (lineno == 1)
        return intern_str(r, "", "ETF:TOTAL", 9, &st->sym, d);
    sp__csv_row row;
    sp_err rc;
    if ((rc = row_of(line, n, 2, &row, d)) != SP_OK)
        return rc;
    sp_event e = series_ev(SP_VENUE_EXTERNAL, SP_SERIES_ETF_FLOW, st->sym, 0);
    if (dmy(row.f[0], row.n[0], &e.exch_ts_ns) != SP_OK) {
        d->column = 1;
        sp_diag_field(d, "Date");
        bool summary = sp__csv_is(&row, 0, "Total") || sp__csv_is(&row, 0, "Average") ||
                       sp__csv_is(&row, 0, "Maximum") || sp__csv_is(&row, 0, "Minimum");
        return sp_diag_set(d, summary ? SP_EUNKNOWN_KIND : SP_EPARSE,
                           summary ? "summary row, not a trading day"
                                   : "expected a date like \"11 Jan 2024\"");
    }
    /* drop the thousands separators of a quoted value */
    char num[64];
    size_t k = 0;
    for (size_t i = 0; i < row.n[1]; i++) {
        if (row.f[1][i] == ',')
            continue;
        if (k == sizeof(num) - 1)
            break;
        num[k++] = row.f[1][i];
    }
    sp_diag tmp;
    sp_diag_clear(&tmp);
    if ((rc = sp_dec_parse(num, k, SP_EV_PX_SCALE, &e.px, &tmp)) != SP_OK) {
        d->column = row.off[1] + 1;
        sp_diag_field(d, "Total");
        return sp_diag_set(d, rc, "%s", tmp.msg);
    }
    return sp__feed_emit(r, &e, 1);
}

static sp_err coingecko_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                             sp_diag *d, bool *fatal)
{
    (void)fatal;
    if (lineno == 1)
        return SP_OK;
    sp__csv_row row;
    sp_event e = series_ev(SP_VENUE_EXTERNAL, SP_SERIES_PRICE, 0, 0);
    sp_err rc;
    if ((rc = row_of(line, n, 5, &row, d)) != SP_OK ||
        (rc = day_of(&row, 0, "date", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_int(&row, 1, "rank", &e.aux[1], d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 4, "price", SP_EV_PX_SCALE, RND, &e.px, d)) != SP_OK)
        return rc;
    /* snapshots are taken about 12:00 UTC (PROVENANCE §11): the day is what the file says */
    if ((rc = intern_str(r, "CG:", row.f[3], row.n[3], &e.symbol_id, d)) != SP_OK) {
        d->column = row.off[3] + 1;
        return rc;
    }
    return sp__feed_emit(r, &e, 1);
}

static sp_err daily_funding_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                 sp_diag *d, bool *fatal)
{
    (void)fatal;
    series_state *st = sp__feed_state(r);
    if (lineno == 1)
        return intern_str(r, "", "BTCUSDT", 7, &st->sym, d);
    sp__csv_row row;
    sp_event e = series_ev(SP_VENUE_BINANCE_UM, SP_SERIES_FUNDING_MEAN, st->sym, 0);
    sp_err rc;
    if ((rc = row_of(line, n, 3, &row, d)) != SP_OK ||
        (rc = day_of(&row, 0, "date", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 1, "funding_mean", SP_EV_RATE_SCALE, RND, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 2, "funding_abs", SP_EV_RATE_SCALE, RND, &e.aux[0], d)) != SP_OK)
        return rc;
    e.flags = SP_EVF_DERIVED;
    return sp__feed_emit(r, &e, 1);
}

static sp_err daily_price_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                               sp_diag *d, bool *fatal)
{
    (void)fatal;
    series_state *st = sp__feed_state(r);
    if (lineno == 1)
        return intern_str(r, "", "BTC-USD", 7, &st->sym, d);
    sp__csv_row row;
    sp_event e = series_ev(SP_VENUE_EXTERNAL, SP_SERIES_PRICE, st->sym, 0);
    sp_err rc;
    if ((rc = row_of(line, n, 3, &row, d)) != SP_OK ||
        (rc = day_of(&row, 0, "date", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 1, "price", SP_EV_PX_SCALE, RND, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 2, "volume", 0, RND, &e.aux[0], d)) != SP_OK)
        return rc;
    return sp__feed_emit(r, &e, 1);
}

static sp_err hl_liq_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno, sp_diag *d,
                          bool *fatal)
{
    (void)fatal;
    if (lineno == 1)
        return SP_OK;
    sp__csv_row row;
    sp_event e = series_ev(SP_VENUE_HYPERLIQUID, SP_SERIES_LIQ_ACCOUNT, 0, 0);
    sp_err rc;
    if ((rc = row_of(line, n, 5, &row, d)) != SP_OK ||
        (rc = day_of(&row, 0, "time", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 2, "liquidated_ntl_pos", SP_EV_PX_SCALE, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 3, "liquidated_account_value", SP_EV_PX_SCALE, &e.qty, d)) != SP_OK)
        return rc;
    if (sp__csv_is(&row, 4, "Cross")) {
        e.aux[0] = 1;
    } else if (sp__csv_is(&row, 4, "Isolated")) {
        e.aux[0] = 2;
    } else {
        d->column = row.off[4] + 1;
        sp_diag_field(d, "leverage_type");
        return sp_diag_set(d, SP_EPARSE, "leverage_type must be Cross or Isolated");
    }
    if (row.n[1] < 3 || row.f[1][0] != '0' || row.f[1][1] != 'x') {
        d->column = row.off[1] + 1;
        sp_diag_field(d, "user");
        return sp_diag_set(d, SP_EPARSE, "user must be a 0x address");
    }
    size_t un = row.n[1] > SP_SYMBOL_MAX ? SP_SYMBOL_MAX : row.n[1];
    if ((rc = intern_str(r, "", row.f[1], un, &e.symbol_id, d)) != SP_OK)
        return rc;
    return sp__feed_emit(r, &e, 1);
}

static sp_err adl_net_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno, sp_diag *d,
                           bool *fatal)
{
    (void)fatal;
    if (lineno == 1)
        return SP_OK;
    sp__csv_row row;
    /* the cascade of 2025-10-10 21:15-21:27 UTC (PROVENANCE §13): stamped at its start */
    sp_event e = series_ev(SP_VENUE_HYPERLIQUID, SP_SERIES_ADL, 0,
                           (sp__feed_days_from_civil(2025, 10, 10) * 86400 + 21 * 3600 + 15 * 60) *
                               1000000000);
    sp_err rc;
    if ((rc = row_of(line, n, 6, &row, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 1, "net_volume", SP_EV_QTY_SCALE, RND, &e.qty, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 2, "net_notional_usd", SP_EV_PX_SCALE, RND, &e.aux[0], d)) !=
            SP_OK ||
        (rc = sp__csv_dec_ex(&row, 3, "total_pnl", SP_EV_PX_SCALE, RND, &e.aux[1], d)) != SP_OK ||
        (rc = sp__csv_int(&row, 4, "num_adl_events", &e.aux[2], d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 5, "avg_price", SP_EV_PX_SCALE, RND, &e.px, d)) != SP_OK ||
        (rc = intern_str(r, "HL:", row.f[0], row.n[0], &e.symbol_id, d)) != SP_OK)
        return rc;
    e.flags = SP_EVF_DERIVED;
    return sp__feed_emit(r, &e, 1);
}

static sp_err adl_coin_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                            sp_diag *d, bool *fatal)
{
    (void)fatal;
    if (lineno == 1)
        return SP_OK;
    sp__csv_row row;
    sp_event e = series_ev(SP_VENUE_HYPERLIQUID, SP_SERIES_ADL_ACCOUNT, 0,
                           (sp__feed_days_from_civil(2025, 10, 10) * 86400 + 21 * 3600 + 15 * 60) *
                               1000000000);
    int64_t lev, pct;
    sp_err rc;
    if ((rc = row_of(line, n, 8, &row, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 1, "adl_notional", SP_EV_PX_SCALE, RND, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 2, "closed_pnl", SP_EV_PX_SCALE, RND, &e.qty, d)) != SP_OK ||
        (rc = sp__csv_dec_ex(&row, 3, "leverage_realtime", SP_EV_PX_SCALE, RND, &lev, d)) !=
            SP_OK ||
        (rc = sp__csv_dec_ex(&row, 4, "pnl_percent", SP_EV_PX_SCALE, RND, &pct, d)) != SP_OK ||
        (rc = sp__csv_int(&row, 5, "is_negative_equity", &e.aux[2], d)) != SP_OK ||
        (rc = sp__csv_int(&row, 6, "num_users", &e.aux[0], d)) != SP_OK ||
        (rc = sp__csv_int(&row, 7, "num_events", &e.aux[1], d)) != SP_OK ||
        (rc = intern_str(r, "HL:", row.f[0], row.n[0], &e.symbol_id, d)) != SP_OK)
        return rc;
    e.flags = SP_EVF_DERIVED;
    return sp__feed_emit(r, &e, 1);
}

/* ---- JSON documents ---------------------------------------------------- */

/*
 * These documents are small (400 KB) and cold, but their numbers are JSON
 * reals: a tree library (jansson) would hand them back as binary doubles.
 * The scanner of json.c keeps each number's text, which is parsed exactly.
 */

/* A JSON number member as a decimal at scale (rounded half-even past it). */
static sp_err num_span(sp__js *s, const sp__jsf *f, const char *field, unsigned scale, int64_t *out)
{
    if (f == NULL || f->type != JS_NUM)
        return sp__js_fail(s, f ? f->v : s->base, field, f ? SP_EPARSE : SP_ENOTFOUND,
                           "\"%s\" must be a number", field);
    sp_diag tmp;
    sp_diag_clear(&tmp);
    sp__csv_row row = {{f->v}, {f->vn}, {0}, 1};
    sp_err rc = sp__csv_dec_ex(&row, 0, field, scale, SP_DEC_ROUND, out, &tmp);
    if (rc != SP_OK)
        return sp__js_fail(s, f->v, field, rc, "%s", tmp.msg);
    return SP_OK;
}

/* One element of "days": date, total_musd, funds{...}. */
static sp_err farside_day(sp__feed_run *r, sp__js *s, const sp__jsobj *day)
{
    const char *date;
    size_t dn;
    int64_t ts;
    sp_err rc = sp__js_str(s, day, "date", &date, &dn);
    if (rc != SP_OK)
        return rc;
    if (sp__feed_parse_time(date, dn, &ts) != SP_OK)
        return sp__js_fail(s, date, "date", SP_EPARSE, "expected YYYY-MM-DD");
    const sp__jsf *funds = sp__js_get(day, "funds");
    if (funds == NULL || funds->type != JS_OBJ)
        return sp__js_fail(s, funds ? funds->v : date, "funds", funds ? SP_EPARSE : SP_ENOTFOUND,
                           "\"funds\" must be an object");
    sp__js in;
    sp__jsobj fo;
    sp__js_obj_init(&fo);
    sp__js_sub(s, funds, &in);
    if ((rc = sp__js_obj(&in, &fo)) != SP_OK)
        return rc;
    sp_event ev[SP__JS_FIELDS_MAX + 1];
    for (size_t i = 0; i < fo.n; i++) {
        ev[i] = series_ev(SP_VENUE_EXTERNAL, SP_SERIES_ETF_FLOW, 0, ts);
        if ((rc = num_span(s, &fo.f[i], "funds", SP_EV_PX_SCALE, &ev[i].px)) != SP_OK)
            return rc;
        sp_diag tmp;
        sp_diag_clear(&tmp);
        if (intern_str(r, "ETF:", fo.f[i].k, fo.f[i].kn, &ev[i].symbol_id, &tmp) != SP_OK)
            return sp__js_fail(s, fo.f[i].k, "funds", SP_EINVAL, "%s", tmp.msg);
    }
    ev[fo.n] = series_ev(SP_VENUE_EXTERNAL, SP_SERIES_ETF_FLOW, 0, ts);
    if ((rc = num_span(s, sp__js_get(day, "total_musd"), "total_musd", SP_EV_PX_SCALE,
                       &ev[fo.n].px)) != SP_OK)
        return rc;
    sp_diag tmp;
    sp_diag_clear(&tmp);
    if (intern_str(r, "", "ETF:TOTAL", 9, &ev[fo.n].symbol_id, &tmp) != SP_OK)
        return sp__js_fail(s, date, "total_musd", SP_ENOMEM, "%s", tmp.msg);
    return sp__feed_emit(r, ev, fo.n + 1);
}

/* Line number of byte p in data (1-based), for reject positions. */
static uint64_t line_of(const char *data, const char *p)
{
    uint64_t l = 1;
    for (const char *q = data; q < p; q++)
        l += *q == '\n';
    return l;
}

static sp_err farside_json_doc(sp__feed_run *r, const char *data, size_t n, sp_diag *d)
{
    sp__js s;
    sp__jsobj root;
    sp__js_obj_init(&root);
    sp__js_init(&s, data, n, d);
    sp_err rc = sp__js_obj(&s, &root);
    if (rc == SP_OK)
        rc = sp__js_end(&s);
    if (rc != SP_OK) {
        d->offset = d->column ? d->column - 1 : 0;
        d->line = line_of(data, data + d->offset);
        return rc; /* the document as a whole is unreadable */
    }
    const sp__jsf *days = sp__js_get(&root, "days");
    if (days == NULL || days->type != JS_ARR) {
        sp_diag_field(d, "days");
        return sp_diag_set(d, SP_EPARSE, "no \"days\" array: not a Farside flows document");
    }
    sp__js in;
    sp__js_sub(&s, days, &in);
    in.p++; /* '[' */
    for (;;) {
        sp__js_ws(&in);
        if (*in.p == ']')
            return SP_OK;
        if (*in.p == ',') {
            in.p++;
            continue;
        }
        const char *start = in.p;
        sp_diag rj;
        sp_diag_clear(&rj);
        sp__js one = in;
        one.d = &rj;
        sp__jsobj day;
        sp__js_obj_init(&day);
        rc = sp__js_obj(&one, &day); /* fails for an element that is not an object */
        if (rc != SP_OK) {
            /* step over the element whatever it is (the array was validated whole) */
            sp__js skip = in;
            sp__jsf any;
            skip.d = NULL;
            if (sp__js_value(&skip, &any) != SP_OK || skip.p == in.p)
                return sp_diag_set(d, SP_EPARSE, "\"days\" array could not be walked");
            one.p = skip.p;
        }
        in.p = one.p;
        if (rc == SP_OK)
            rc = farside_day(r, &one, &day);
        if (rc == SP_OK)
            continue;
        if (rj.code == SP_OK) /* a sink error, not a bad record */
            return rc;
        rj.offset = rj.column ? rj.column - 1 : (uint64_t)(start - data);
        rj.line = line_of(data, data + rj.offset);
        rj.column = 0;
        sp__feed_reject(r, &rj);
    }
}

/* The ADL analysis summary: the total ADL notional and event count (PROVENANCE §13). */
static sp_err adl_summary_doc(sp__feed_run *r, const char *data, size_t n, sp_diag *d)
{
    sp__js s;
    sp__jsobj root, kf;
    sp__js_obj_init(&root);
    sp__js_obj_init(&kf);
    sp__js_init(&s, data, n, d);
    sp_err rc = sp__js_obj(&s, &root);
    if (rc == SP_OK)
        rc = sp__js_end(&s);
    if (rc != SP_OK)
        return rc;
    const sp__jsf *k = sp__js_get(&root, "key_findings");
    if (k == NULL || k->type != JS_OBJ)
        return sp__js_fail(&s, data, "key_findings", SP_EPARSE, "no \"key_findings\" object");
    sp__js in;
    sp__js_sub(&s, k, &in);
    if ((rc = sp__js_obj(&in, &kf)) != SP_OK)
        return rc;
    sp_event e = series_ev(SP_VENUE_HYPERLIQUID, SP_SERIES_ADL, 0,
                           (sp__feed_days_from_civil(2025, 10, 10) * 86400 + 21 * 3600 + 15 * 60) *
                               1000000000);
    if ((rc = num_span(&s, sp__js_get(&kf, "total_adl_notional"), "total_adl_notional",
                       SP_EV_PX_SCALE, &e.aux[0])) != SP_OK ||
        (rc = sp__js_int(&s, &root, "adl_events_analyzed", &e.aux[2])) != SP_OK ||
        (rc = intern_str(r, "", "HL:ALL", 6, &e.symbol_id, d)) != SP_OK)
        return rc;
    e.flags = SP_EVF_DERIVED;
    return sp__feed_emit(r, &e, 1);
}

#define LINE_FMT(name, help, fn)                               \
    {                                                          \
        name, help, fn, NULL, sizeof(series_state), NULL, NULL \
    }
#define DOC_FMT(name, help, fn)             \
    {                                       \
        name, help, NULL, fn, 0, NULL, NULL \
    }

const sp__feed_format sp__feed_fmt_series[] = {
    LINE_FMT("yfinance-csv",
             "Yahoo Finance daily OHLC (Date,Open,High,Low,Close; symbol = file name)",
             yfinance_line),
    LINE_FMT("fear-greed-csv", "alternative.me Fear & Greed daily values (date,FGI)", fgi_line),
    LINE_FMT("farside-etf-csv", "Farside BTC ETF flows per fund, US$ m (date,IBIT,...,total_musd)",
             farside_csv_line),
    LINE_FMT("farside-etf-total-csv", "Farside BTC ETF total flows, US$ m (Date,Total)",
             farside_total_line),
    DOC_FMT("farside-etf-json", "Farside BTC ETF flows JSON ({meta, days: [...]})",
            farside_json_doc),
    LINE_FMT("coingecko-csv", "CoinGecko top-100 daily snapshots (date,rank,name,symbol,price)",
             coingecko_line),
    LINE_FMT("daily-funding-mean-csv", "daily mean BTCUSDT funding (date,funding_mean,funding_abs)",
             daily_funding_line),
    LINE_FMT("daily-price-volume-csv", "daily BTC-USD close and volume (date,price,volume)",
             daily_price_line),
    LINE_FMT("hyperliquid-liquidations-csv", "Hyperliquid official liquidations.csv", hl_liq_line),
    LINE_FMT("hyperliquid-adl-net-csv", "Hyperliquid 2025-10-10 ADL net volume per coin",
             adl_net_line),
    LINE_FMT("hyperliquid-adl-coin-csv", "Hyperliquid 2025-10-10 ADL per coin (accounts view)",
             adl_coin_line),
    DOC_FMT("hyperliquid-adl-summary-json", "Hyperliquid 2025-10-10 ADL analysis summary JSON",
            adl_summary_doc),
    {NULL, NULL, NULL, NULL, 0, NULL, NULL},
};
