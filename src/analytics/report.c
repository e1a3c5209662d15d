/*
 * report.c -- the crash-day report (docs/metrics.md §9): loads what it
 * needs from the store, runs the metrics, and lays the article's figures
 * beside the data's, each with its source file, its formula and, where
 * they differ, the reason.
 *
 * The article's numbers are quoted from data/PROVENANCE.md, which already
 * compared them with the shipped data; they are shown only for the
 * reference day 2026-02-06 (for another --day the article column is
 * empty).  Missing data never fails the report: a figure without data
 * says so and keeps has_value false, so the output has no NaN and no
 * invented number.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analytics/analytics_int.h"
#include "stampede/alloc.h"
#include "stampede/clock.h"
#include "stampede/feed.h"
#include "stampede/fixed.h"

#define REF_DAY INT64_C(20490) /* 2026-02-06, days since 1970-01-01 */
#define HOUR    SP_AN_NS_PER_HOUR
#define DAYNS   SP_AN_NS_PER_DAY

static const char *const coins[SP_AN_REPORT_COINS] = {"BTCUSDT", "ETHUSDT",  "XRPUSDT",
                                                      "SOLUSDT", "DOGEUSDT", "BNBUSDT"};
/* The article's 24h moves (PROVENANCE.md §1), same order; "" = not given. */
static const char *const coin_article[SP_AN_REPORT_COINS] = {"",     "-11%", "-8%",
                                                             "-11%", "-11%", "-10%"};
static const char *const macro[SP_AN_REPORT_MACRO] = {"^NDX", "QQQ", "GC=F", "SI=F"};

/* ---- text helpers ------------------------------------------------------- */

/* snprintf into a fixed field; a long text is cut (the fields are for display). */
static void setf(char *dst, size_t cap, const char *fmt, ...) SP_PRINTF(3, 4);
static void setf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* v (scale 1e-8) rounded half-even to `places`, with thousands separators. */
static void fmt_px(int64_t v, unsigned places, char *out, size_t cap)
{
    int64_t r = 0;
    char raw[SP_DEC_FMT_MAX];
    if (sp_rescale(v, 8, places, SP_RND_HALF_EVEN, &r) != SP_OK) {
        snprintf(out, cap, "?");
        return;
    }
    sp_dec_format(r, places, 0, raw, sizeof(raw));
    const char *p = raw;
    size_t o = 0;
    if (*p == '-' && o + 1 < cap) {
        out[o++] = '-';
        p++;
    }
    size_t ilen = strcspn(p, ".");
    for (size_t i = 0; p[i] != '\0' && o + 1 < cap; i++) {
        if (i > 0 && i < ilen && (ilen - i) % 3 == 0 && o + 2 < cap)
            out[o++] = ',';
        out[o++] = p[i];
    }
    out[o] = '\0';
}

static void fmt_day(int64_t ns, char *out, size_t cap)
{
    int y, m, d;
    sp_days_to_date(sp__an_day_of(ns), &y, &m, &d);
    snprintf(out, cap, "%04d-%02d-%02d", y, m, d);
}

static void fmt_time(int64_t ns, char *out, size_t cap)
{
    char iso[40];
    sp_time_format_iso(ns, iso, sizeof(iso));
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ" -> "YYYY-MM-DD HH:MM" */
    iso[10] = ' ';
    iso[16] = '\0';
    snprintf(out, cap, "%s", iso);
}

static void copy(char *dst, size_t cap, const char *src)
{
    setf(dst, cap, "%s", src ? src : "");
}

/* Add a figure; returns it (the last slot is reused when the table is full). */
static sp_an_figure *fig(sp_an_report *r, const char *key, const char *label, const char *unit,
                         const char *source, const char *formula)
{
    size_t i = r->nfig < SP_AN_REPORT_FIGS ? r->nfig++ : SP_AN_REPORT_FIGS - 1;
    sp_an_figure *f = &r->fig[i];
    memset(f, 0, sizeof(*f));
    copy(f->key, sizeof(f->key), key);
    copy(f->label, sizeof(f->label), label);
    copy(f->unit, sizeof(f->unit), unit);
    copy(f->source, sizeof(f->source), source);
    copy(f->formula, sizeof(f->formula), formula);
    copy(f->data, sizeof(f->data), "no data");
    return f;
}

static void set_article(const sp_an_report *r, sp_an_figure *f, const char *text)
{
    if (sp__an_day_of(r->opts.day_ns) == REF_DAY)
        copy(f->article, sizeof(f->article), text);
}

static void set_note(const sp_an_report *r, sp_an_figure *f, const char *text)
{
    if (sp__an_day_of(r->opts.day_ns) == REF_DAY)
        copy(f->note, sizeof(f->note), text);
}

const sp_an_figure *sp_an_report_figure(const sp_an_report *r, const char *key)
{
    for (size_t i = 0; i < r->nfig; i++) {
        if (strcmp(r->fig[i].key, key) == 0)
            return &r->fig[i];
    }
    return NULL;
}

/* ---- loading ------------------------------------------------------------ */

static sp_err load(sp_store *s, sp_an_events *e, unsigned kind, const char *symbol, int64_t from,
                   int64_t to, sp_diag *d)
{
    sp_store_filter f;
    memset(&f, 0, sizeof(f));
    f.kind = kind;
    f.symbol = symbol;
    f.from_ns = from;
    f.to_ns = to;
    f.has_from = from != INT64_MIN;
    f.has_to = 1;
    return sp_an_load(s, &f, e, d);
}

/* Daily closes (ts = the bar's day) of 1d bars, skipping partial bars. */
static sp_err closes_of(const sp_an_bar *b, size_t n, sp_an_series *out)
{
    for (size_t i = 0; i < n; i++) {
        sp_err rc = sp_an_series_push(out, b[i].open_ns, sp__an_px(b[i].close));
        if (rc != SP_OK)
            return rc;
    }
    return SP_OK;
}

/* ---- the sections ------------------------------------------------------- */

static sp_err price_section(sp_an_report *r, const sp_an_events *e)
{
    const int64_t day = r->opts.day_ns, end = day + DAYNS;
    sp_an_bar *b = NULL, *m1 = NULL;
    size_t n = 0, n1 = 0;
    char t1[40], t2[40], t3[40];
    sp_err rc = sp_an_bars_from(e, SP_VENUE_BINANCE_SPOT, "BTCUSDT", 12, &b, &n);
    if (rc != SP_OK && rc != SP_ENOTFOUND)
        return rc;
    /* ATH up to the end of the day */
    sp_an_figure *f = fig(r, "btc_ath", "BTC all-time high (to the day)", "USDT",
                          "binance_spot_klines/BTCUSDT_1d.csv",
                          "max(high) of Binance spot 1d bars opening before the day's end (§2.1)");
    set_article(r, f, "126,223");
    sp_an_extremes x;
    if (n > 0 && sp_an_extremes_of(b, n, INT64_MIN, end, &x) == SP_OK) {
        fmt_px(x.high, 2, t1, sizeof(t1));
        fmt_day(x.high_ns, t2, sizeof(t2));
        setf(f->data, sizeof(f->data), "%s on %s", t1, t2);
        f->value = sp__an_px(x.high);
        f->has_value = true;
        set_note(r, f,
                 "venue: Binance spot prints 23.4 below the article's aggregate / other-venue "
                 "figure (PROVENANCE.md §1)");
    }
    /* The day's low, spot and USD-M perpetual */
    f = fig(r, "btc_low", "BTC low of the day (spot)", "USDT", "binance_spot_klines/BTCUSDT_1d.csv",
            "low of the day's Binance spot 1d bar (§2.1)");
    set_article(r, f, "~59,800");
    sp_an_extremes dl;
    bool have_dl = n > 0 && sp_an_extremes_of(b, n, day, end, &dl) == SP_OK;
    if (have_dl) {
        fmt_px(dl.low, 2, t1, sizeof(t1));
        setf(f->data, sizeof(f->data), "%s", t1);
        f->value = sp__an_px(dl.low);
        f->has_value = true;
        set_note(r, f,
                 "venue: spot bottomed at exactly 60,000.00; the article's 59,800 is the USD-M "
                 "perpetual (next line)");
    }
    rc = sp_an_bars_from(e, SP_VENUE_BINANCE_UM, "BTCUSDT", 1, &m1, &n1);
    if (rc != SP_OK && rc != SP_ENOTFOUND)
        goto out;
    rc = SP_OK;
    f = fig(r, "btc_low_perp", "BTC low of the day (USD-M perp, 1m)", "USDT",
            "binance_um_klines_1m/BTCUSDT-1m-2026-02-05_06.csv",
            "min(low) of Binance USD-M BTCUSDT 1m bars of the day; time of that minute (§2.1)");
    set_article(r, f, "59,800");
    if (n1 > 0 && sp_an_extremes_of(m1, n1, day, end, &x) == SP_OK) {
        fmt_px(x.low, 2, t1, sizeof(t1));
        fmt_time(x.low_ns, t2, sizeof(t2));
        setf(f->data, sizeof(f->data), "%s at %s", t1, t2);
        f->value = sp__an_px(x.low);
        f->has_value = true;
    }
    /* Drawdown from the running high to the day's low */
    f = fig(r, "btc_drawdown", "BTC drawdown from the running high", "%",
            "binance_spot_klines/BTCUSDT_1d.csv",
            "min over 1d bars to the day of low / running max(high) - 1 (§2.2)");
    size_t upto = 0;
    while (upto < n && b[upto].open_ns < end)
        upto++;
    sp_an_drawdown dd;
    if (upto > 0 && sp_an_drawdown_of(b, upto, NULL, &dd) == SP_OK) {
        fmt_px(dd.peak, 2, t1, sizeof(t1));
        fmt_px(dd.trough, 2, t2, sizeof(t2));
        fmt_day(dd.trough_ns, t3, sizeof(t3));
        setf(f->data, sizeof(f->data), "%.2f%% (%s -> %s on %s)", dd.dd * 100, t1, t2, t3);
        f->value = dd.dd * 100;
        f->has_value = true;
    }
    /* Day-over-day close changes of BTC: the day before and the day */
    f = fig(r, "btc_dd_prev", "BTC close-to-close, the day before", "%",
            "binance_spot_klines/BTCUSDT_1d.csv",
            "close(day-1) / close(day-2) - 1, UTC daily bars (§2.3)");
    double c;
    if (n > 0 && sp_an_change(b, n, day, DAYNS, &c) == SP_OK) {
        setf(f->data, sizeof(f->data), "%+.2f%%", c * 100);
        f->value = c * 100;
        f->has_value = true;
    }
    f = fig(r, "btc_dd_day", "BTC close-to-close, the day", "%",
            "binance_spot_klines/BTCUSDT_1d.csv",
            "close(day) / close(day-1) - 1, UTC daily bars (§2.3)");
    if (n > 0 && sp_an_change(b, n, end, DAYNS, &c) == SP_OK) {
        setf(f->data, sizeof(f->data), "%+.2f%%", c * 100);
        f->value = c * 100;
        f->has_value = true;
    }
    /* 30-day realised volatility at the day's close */
    f = fig(r, "btc_vol30", "BTC 30-day realised volatility (annualised)", "%",
            "binance_spot_klines/BTCUSDT_1d.csv",
            "sample stdev of 30 daily log returns ending at the day's close x sqrt(365) (§2.4)");
    sp_an_vol v;
    if (n > 0 && sp_an_realised_vol(b, n, end - 30 * DAYNS, end, 365, &v) == SP_OK) {
        setf(f->data, sizeof(f->data), "%.1f%% (%zu returns)", v.annualised * 100, v.returns);
        f->value = v.annualised * 100;
        f->has_value = true;
    }
out:
    sp_free(b);
    sp_free(m1);
    return rc;
}

static sp_err coins_section(sp_an_report *r, const sp_an_events *e)
{
    const int64_t day = r->opts.day_ns, at = r->opts.at_ns;
    char lbl[64], key[32], tat[40];
    fmt_time(at, tat, sizeof(tat));
    for (size_t i = 0; i < SP_AN_REPORT_COINS; i++) {
        sp_an_coin_move *m = &r->coin[r->ncoin++];
        memset(m, 0, sizeof(*m));
        copy(m->symbol, sizeof(m->symbol), coins[i]);
        sp_an_bar *b1 = NULL, *b4 = NULL;
        size_t n1 = 0, n4 = 0;
        sp_err rc = sp_an_bars_from(e, SP_VENUE_BINANCE_SPOT, coins[i], 12, &b1, &n1);
        if (rc == SP_OK) {
            m->has_dd = sp_an_change(b1, n1, day + DAYNS, DAYNS, &m->dd) == SP_OK;
            sp_an_extremes x;
            if (sp_an_extremes_of(b1, n1, day, day + DAYNS, &x) == SP_OK)
                m->low = x.low;
        }
        sp_free(b1);
        if (rc != SP_OK && rc != SP_ENOTFOUND)
            return rc;
        rc = sp_an_bars_from(e, SP_VENUE_BINANCE_SPOT, coins[i], 8, &b4, &n4);
        if (rc == SP_OK)
            m->has_24h = sp_an_change(b4, n4, at, DAYNS, &m->ch24) == SP_OK;
        sp_free(b4);
        if (rc != SP_OK && rc != SP_ENOTFOUND)
            return rc;
        if (coin_article[i][0] == '\0')
            continue;
        size_t base = strlen(coins[i]) - 4; /* drop "USDT" */
        setf(key, sizeof(key), "%.*s_24h", (int)base, coins[i]);
        for (char *p = key; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        setf(lbl, sizeof(lbl), "%.*s 24h move to %s", (int)base, coins[i], tat);
        sp_an_figure *f =
            fig(r, key, lbl, "%", "binance_spot_klines/<COIN>USDT_4h.csv",
                "close of the 4h bar closing at --at / close 24 h earlier - 1 (§2.3, §9.3)");
        set_article(r, f, coin_article[i]);
        if (m->has_24h) {
            setf(f->data, sizeof(f->data), "%+.1f%%", m->ch24 * 100);
            f->value = m->ch24 * 100;
            f->has_value = true;
        }
        set_note(
            r, f,
            "window: the article's time stamp is not given; its moves fit 24h windows ending "
            "04:00-08:00 UTC on spot; CoinGecko noon-to-noon is close too (PROVENANCE §1, §11)");
    }
    return SP_OK;
}

static sp_err funding_section(sp_an_report *r, const sp_an_events *e)
{
    const int64_t day = r->opts.day_ns;
    uint32_t sid = sp_symtab_find(e->syms, "BTCUSDT", 7);
    sp_event *fe = sp_calloc(e->n ? e->n : 1, sizeof(*fe));
    if (fe == NULL)
        return SP_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++) {
        const sp_event *v = &e->ev[i];
        if (v->kind == SP_EV_FUNDING && v->symbol_id == sid && v->venue == SP_VENUE_BINANCE_UM &&
            sp__an_day_of(v->exch_ts_ns + SP_AN_NS_PER_SEC / 2) == sp__an_day_of(day))
            fe[k++] = *v;
    }
    sp_an_funding_day fd[2];
    size_t nd = 0;
    sp_err rc = sp_an_funding_daily(fe, k, fd, 2, &nd);
    if (rc == SP_OK && nd == 1) {
        r->funding = fd[0];
        r->has_funding = true;
    }
    /* the settlements themselves (de-duplicated on the second) */
    int64_t last = INT64_MIN;
    for (size_t i = 0; i < k && r->nsettle < SP_AN_REPORT_SETTLES; i++) {
        int64_t sec = (fe[i].exch_ts_ns + SP_AN_NS_PER_SEC / 2) / SP_AN_NS_PER_SEC;
        if (sec == last)
            continue;
        last = sec;
        r->settle_ns[r->nsettle] = fe[i].exch_ts_ns;
        r->settle_rate[r->nsettle++] = fe[i].px;
    }
    sp_free(fe);
    if (rc != SP_OK && rc != SP_ETOOBIG)
        return rc;
    sp_an_figure *f = fig(r, "btc_funding", "BTCUSDT funding, mean of the day's settlements", "%",
                          "binance_um_fundingRate/raw/BTCUSDT-fundingRate-2026-02.csv",
                          "mean of the day's settlement rates (calc_time rounded to the second); "
                          "x 3 x 365 annualised (§4)");
    if (r->has_funding) {
        setf(f->data, sizeof(f->data), "%.5f%% per 8h over %u (%.1f%%/yr)", r->funding.mean * 100,
             r->funding.settles, r->funding.annualised * 100);
        f->value = r->funding.mean * 100;
        f->has_value = true;
    }
    return SP_OK;
}

static sp_err etf_section(sp_an_report *r, const sp_an_events *e)
{
    static const char *const art[3] = {"~ -7", "~ -2", "< -3"};
    static const char *const why[3] = {
        "definition: Farside net; outflow days alone give -4.77; the article's ~7 matches neither "
        "(another source, e.g. SoSoValue?) (PROVENANCE §7)",
        "definition: the article's ~2 matches the outflow days only (-2.45), not the net",
        "definition: the article's >3 matches the outflow days only (-4.59), not the net"};
    uint32_t sid = sp_symtab_find(e->syms, "ETF:TOTAL", 9);
    int y, m, dd;
    sp_days_to_date(sp__an_day_of(r->opts.day_ns), &y, &m, &dd);
    /* The three months before the day's month, and the month itself up to the day. */
    int64_t first;
    int fy = m > 3 ? y : y - 1, fm = m > 3 ? m - 3 : m + 9;
    if (sp_date_to_days(fy, fm, 1, &first) != SP_OK)
        return SP_EINVAL;
    sp_event *fe = sp_calloc(e->n ? e->n : 1, sizeof(*fe));
    if (fe == NULL)
        return SP_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++) {
        const sp_event *v = &e->ev[i];
        int64_t vd = sp__an_day_of(v->exch_ts_ns);
        if (v->kind == SP_EV_SERIES && v->sub == SP_SERIES_ETF_FLOW && v->symbol_id == sid &&
            sid != 0 && vd >= first && vd <= sp__an_day_of(r->opts.day_ns) &&
            (k == 0 || sp__an_day_of(fe[k - 1].exch_ts_ns) != vd))
            fe[k++] = *v;
    }
    sp_err rc = sp_an_flow_months(fe, k, r->month, SP_AN_REPORT_MONTHS, &r->nmonth);
    sp_free(fe);
    if (rc != SP_OK)
        return rc;
    static const char *const mname[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (size_t i = 0; i < 3; i++) {
        int mm = (fm - 1 + (int)i) % 12 + 1;
        char key[32], lbl[64], t1[40], t2[40];
        setf(key, sizeof(key), "etf_%s", mname[mm - 1]);
        for (char *p = key; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        setf(lbl, sizeof(lbl), "US spot BTC ETF net flow, %s", mname[mm - 1]);
        sp_an_figure *f =
            fig(r, key, lbl, "US$ bn", "etf_flows/farside_btc_etf_flows_2024-01_2026-08.json",
                "sum of Farside daily total net flows in the calendar month; outflow "
                "days summed apart (§5)");
        const sp_an_flow_month *mo = NULL;
        for (size_t j = 0; j < r->nmonth; j++) {
            if (r->month[j].month == mm)
                mo = &r->month[j];
        }
        if (mo != NULL) {
            /* US$ m at 1e-8 -> US$ bn with 2 places: rescale 1e-8 m = 1e-11 bn */
            fmt_px(mo->net / 1000, 2, t1, sizeof(t1));
            fmt_px(mo->outflow / 1000, 2, t2, sizeof(t2));
            setf(f->data, sizeof(f->data), "%s net (outflow days %s)", t1, t2);
            f->value = (double)mo->net / 1e11;
            f->has_value = true;
        }
        set_article(r, f, art[i]);
        set_note(r, f, why[i]);
    }
    return SP_OK;
}

/* BTC daily closes (spot 1d) and the macro series: correlation ending on the day. */
static sp_err corr_section(sp_an_report *r, const sp_an_events *e)
{
    sp_an_bar *b = NULL;
    size_t n = 0;
    sp_an_series btc, mac;
    sp_an_series_init(&btc);
    sp_an_series_init(&mac);
    sp_err rc = sp_an_bars_from(e, SP_VENUE_BINANCE_SPOT, "BTCUSDT", 12, &b, &n);
    if (rc == SP_OK)
        rc = closes_of(b, n, &btc);
    sp_free(b);
    if (rc != SP_OK && rc != SP_ENOTFOUND)
        goto out;
    rc = SP_OK;
    for (size_t i = 0; i < SP_AN_REPORT_MACRO; i++) {
        sp_an_macro_corr *c = &r->corr[i];
        copy(c->symbol, sizeof(c->symbol), macro[i]);
        sp_an_bar *mb = NULL;
        size_t mn = 0;
        mac.n = 0;
        sp_err mrc = sp_an_bars_from(e, SP_VENUE_EXTERNAL, macro[i], 12, &mb, &mn);
        if (mrc == SP_OK)
            mrc = closes_of(mb, mn, &mac);
        sp_free(mb);
        if (mrc == SP_ENOMEM) {
            rc = mrc;
            goto out;
        }
        if (mrc == SP_OK) {
            mrc = sp_an_corr(btc.p, btc.n, mac.p, mac.n, r->opts.corr_window, r->opts.corr_ret,
                             r->opts.day_ns, &c->r, &c->used);
            if (mrc == SP_ENOMEM) {
                rc = mrc;
                goto out;
            }
            c->ok = mrc == SP_OK;
        }
    }
    char formula[160];
    setf(formula, sizeof(formula),
         "Pearson of the last %zu %s returns on common UTC days ending on the day, Binance "
         "spot close vs ^NDX close (§3)",
         r->opts.corr_window, sp_an_ret_name(r->opts.corr_ret));
    sp_an_figure *f =
        fig(r, "btc_ndx_corr", "BTC / Nasdaq-100 correlation", "",
            "binance_spot_klines/BTCUSDT_1d.csv + yfinance_macro_daily/^NDX.csv", formula);
    set_article(r, f, "0.72");
    if (r->corr[0].ok) {
        setf(f->data, sizeof(f->data), "%.2f (%zu returns)", r->corr[0].r, r->corr[0].used);
        f->value = r->corr[0].r;
        f->has_value = true;
    }
    set_note(r, f,
             "window/method: the article's window and return type are unknown; 20-22-day windows "
             "give 0.60-0.61 and levels 0.65 (PROVENANCE §9)");
out:
    sp_an_series_fini(&btc);
    sp_an_series_fini(&mac);
    return rc;
}

static sp_err fg_section(sp_an_report *r, const sp_an_events *e)
{
    const int64_t day = sp__an_day_of(r->opts.day_ns);
    sp_an_series pub, ours;
    sp_an_series_init(&pub);
    sp_an_series_init(&ours);
    sp_an_fg_weights w = sp_an_fg_default_weights();
    sp_err rc = sp_an_fg_from_events(e, r->opts.day_ns, &w, &pub, &ours);
    if (rc != SP_OK)
        goto out;
    if (pub.n > 0 && sp__an_day_of(pub.p[pub.n - 1].ts_ns) == day) {
        r->has_fg = true;
        r->fg_published = pub.p[pub.n - 1].v;
    }
    if (ours.n > 0 && sp__an_day_of(ours.p[ours.n - 1].ts_ns) == day) {
        r->has_fg_ours = true;
        r->fg_ours = ours.p[ours.n - 1].v;
    }
    sp_err arc = sp_an_agreement_of(ours.p, ours.n, pub.p, pub.n, &r->fg_agree);
    if (arc == SP_ENOMEM) {
        rc = arc;
        goto out;
    }
    r->has_fg_agree = arc == SP_OK;
    sp_an_figure *f = fig(r, "fgi", "Crypto Fear & Greed (alternative.me)", "index",
                          "fear_greed/alternative_me_fgi_daily_2018-02_2026-08.csv",
                          "the published daily value of the day, as ingested (§7.1)");
    set_article(r, f, "10");
    if (r->has_fg) {
        setf(f->data, sizeof(f->data), "%.0f (%s)", r->fg_published,
             sp_an_fg_label(r->fg_published));
        f->value = r->fg_published;
        f->has_value = true;
    }
    set_note(r, f, "rounding: single digits on 6-7 Feb (9, then 6); \"hit 10\" is approximate");
    f = fig(r, "fgi_ours", "Fear & Greed, our index", "index",
            "lukmol_btc_daily/btc_price_volume.csv + lukmol_btc_daily/funding_rates.csv",
            "weighted percentile ranks: volatility .25, momentum .35, volume .15, funding .25 "
            "(§7.2)");
    if (r->has_fg_ours) {
        if (r->has_fg_agree)
            setf(f->data, sizeof(f->data), "%.0f (corr %.2f, MAD %.1f over %zu days)", r->fg_ours,
                 r->fg_agree.corr, r->fg_agree.mad, r->fg_agree.days);
        else
            setf(f->data, sizeof(f->data), "%.0f", r->fg_ours);
        f->value = r->fg_ours;
        f->has_value = true;
    }
out:
    sp_an_series_fini(&pub);
    sp_an_series_fini(&ours);
    return rc;
}

/*
 * The liquidation figures: from the store's per-minute roll-ups when
 * s != NULL (the window is whole minutes), else from the loaded events;
 * both give identical results (test_analytics_rollup).
 */
static sp_err liq_section(sp_an_report *r, const sp_an_events *e, sp_store *s, sp_diag *d)
{
    const int64_t from = r->opts.from_ns, to = from + r->opts.window_ns;
    sp_err rc;
    if (s != NULL)
        rc = sp_an_liq_from_rollups(s, from, to, e->syms, r->group, SP_AN_REPORT_GROUPS, &r->ngroup,
                                    &r->liq, &r->traders, d);
    else
        rc = sp_an_liq_aggregate(e->ev, e->n, e->syms, from, to, r->group, SP_AN_REPORT_GROUPS,
                                 &r->ngroup, &r->liq);
    if (rc == SP_ETOOBIG) /* keep the largest groups we could hold; totals are still exact */
        rc = SP_OK;
    if (rc != SP_OK)
        return rc;
    for (size_t i = 0; i < r->ngroup; i++)
        copy(r->group_symbol[i], sizeof(r->group_symbol[i]),
             sp_symtab_name(e->syms, r->group[i].symbol_id));
    if (s == NULL && (rc = sp_an_liq_traders(e->ev, e->n, from, to, &r->traders)) != SP_OK)
        return rc;
    sp_an_figure *f = fig(r, "liq_total", "Liquidations in the window (all venues in the store)",
                          "US$", "liquidation events in the store (none shipped for the day)",
                          "sum of forced-order notionals with exchange time in [from, from + "
                          "window) (§6.1)");
    if (r->liq.count > 0) {
        char t1[40], t2[40];
        fmt_px(r->liq.notional, 0, t1, sizeof(t1));
        fmt_px(r->liq.long_notional, 0, t2, sizeof(t2));
        setf(f->data, sizeof(f->data), "%s in %llu orders (longs %s)", t1,
             (unsigned long long)r->liq.count, t2);
        f->value = sp__an_px(r->liq.notional);
        f->has_value = true;
    } else {
        copy(f->data, sizeof(f->data), "no liquidation events in the window");
        set_note(r, f,
                 "coverage: no recorded forceOrder / allLiquidation feed of the day exists in the "
                 "shipped data (PROVENANCE 'not found' #1)");
    }
    f = fig(r, "traders", "Traders (forced orders) liquidated", "orders",
            "liquidation events in the store",
            "counted on per-order venues; Poisson slot-occupancy estimate on throttled venues "
            "(§6.3)");
    if (r->liq.count > 0) {
        setf(f->data, sizeof(f->data), "%.0f +- %.0f (%llu seen%s)", r->traders.estimate,
             r->traders.stderr_est, (unsigned long long)(r->traders.counted + r->traders.observed),
             r->traders.saturated ? ", lower bound" : "");
        f->value = r->traders.estimate;
        f->has_value = true;
    }
    return SP_OK;
}

sp_err sp_an_report_build(sp_store *s, const sp_an_report_opts *o, sp_an_report *out, sp_diag *d)
{
    memset(out, 0, sizeof(*out));
    out->opts = *o;
    sp_an_report_opts *op = &out->opts;
    if (op->day_ns % DAYNS != 0)
        return sp_diag_set(d, SP_EINVAL, "report: the day must be 00:00 UTC");
    if (op->window_ns == 0)
        op->window_ns = DAYNS;
    if (op->from_ns == 0)
        op->from_ns = op->day_ns;
    if (op->at_ns == 0)
        op->at_ns = op->day_ns + 8 * HOUR;
    if (op->corr_window == 0)
        op->corr_window = 30;
    if (op->window_ns < 0 || op->corr_window < 3 || op->corr_window > 3650)
        return sp_diag_set(d, SP_EINVAL, "report: bad window");
    const int64_t minute = 60 * SP_AN_NS_PER_SEC;
    bool aligned = op->from_ns % minute == 0 && op->window_ns % minute == 0;
    if (op->liq_source == SP_AN_LIQ_ROLLUPS && !aligned)
        return sp_diag_set(d, SP_EINVAL,
                           "report: liquidation roll-ups need a window of whole UTC minutes");
    if (op->liq_source < SP_AN_LIQ_AUTO || op->liq_source > SP_AN_LIQ_ROLLUPS)
        return sp_diag_set(d, SP_EINVAL, "report: bad liquidation source %d", op->liq_source);
    bool rollups = aligned && op->liq_source != SP_AN_LIQ_EVENTS;
    const int64_t day = op->day_ns, end = day + DAYNS;
    sp_an_events e;
    sp_an_events_init(&e);
    sp_err rc = SP_OK;
    /* What each section reads; each query is by kind and symbol (indexed in the store). */
    rc = load(s, &e, SP_EV_KLINE, "BTCUSDT", INT64_MIN, end + DAYNS, d);
    for (size_t i = 1; i < SP_AN_REPORT_COINS && rc == SP_OK; i++)
        rc = load(s, &e, SP_EV_KLINE, coins[i], day - 3 * DAYNS, end + DAYNS, d);
    for (size_t i = 0; i < SP_AN_REPORT_MACRO && rc == SP_OK; i++)
        rc = load(s, &e, SP_EV_KLINE, macro[i], day - 200 * DAYNS, end, d);
    if (rc == SP_OK)
        rc = load(s, &e, SP_EV_FUNDING, "BTCUSDT", day - DAYNS, end + DAYNS, d);
    if (rc == SP_OK)
        rc = load(s, &e, SP_EV_SERIES, "ETF:TOTAL", day - 160 * DAYNS, end, d);
    if (rc == SP_OK)
        rc = load(s, &e, SP_EV_SERIES, "FGI", INT64_MIN, end, d);
    if (rc == SP_OK)
        rc = load(s, &e, SP_EV_SERIES, "BTC-USD", INT64_MIN, end, d);
    if (rc == SP_OK)
        rc = load(s, &e, SP_EV_SERIES, "BTCUSDT", INT64_MIN, end, d);
    if (rc == SP_OK && !rollups)
        rc = load(s, &e, SP_EV_LIQUIDATION, NULL, op->from_ns, op->from_ns + op->window_ns, d);
    if (rc != SP_OK)
        goto out;
    out->events_read = e.n;
    if ((rc = price_section(out, &e)) != SP_OK || (rc = coins_section(out, &e)) != SP_OK ||
        (rc = funding_section(out, &e)) != SP_OK || (rc = etf_section(out, &e)) != SP_OK ||
        (rc = corr_section(out, &e)) != SP_OK || (rc = fg_section(out, &e)) != SP_OK ||
        (rc = liq_section(out, &e, rollups ? s : NULL, d)) != SP_OK)
        sp_diag_set(d, rc, "report: %s", sp_strerror(rc));
    /* the roll-ups stand for the window's liquidation events: count them as read */
    if (rc == SP_OK && rollups)
        out->events_read += out->liq.count;
out:
    sp_an_events_fini(&e);
    return rc;
}
