/*
 * util.c -- small helpers shared by the decoders: time conversion (epoch
 * milliseconds, ISO dates and date-times), kline interval names of each
 * venue, checked symbol interning, and the series-code names.
 *
 * Dates are converted with the days-from-civil algorithm (proleptic
 * Gregorian, UTC); no libc time zone state is touched, so decoding is
 * reentrant and independent of TZ.
 */
#include <string.h>

#include "feed/feed_int.h"

const char *sp_series_name(unsigned code)
{
    switch (code) {
#define SP_SERIES_NAME_(name, value, text) \
    case value:                            \
        return text;
        SP_SERIES_MAP(SP_SERIES_NAME_)
#undef SP_SERIES_NAME_
    default:
        return "?";
    }
}

sp_err sp__feed_ms_to_ns(int64_t ms, int64_t *ns)
{
    if (ms > INT64_MAX / 1000000 || ms < INT64_MIN / 1000000)
        return SP_EOVERFLOW;
    *ns = ms * 1000000;
    return SP_OK;
}

sp_err sp__feed_intern(sp__js *s, sp_symtab *syms, const char *p, size_t n, const char *field,
                       uint32_t *id)
{
    sp_err rc = sp_symtab_intern(syms, p, n, id);
    if (rc == SP_OK)
        return SP_OK;
    if (rc == SP_ENOMEM)
        return sp__js_fail(s, p, field, rc, "out of memory interning a symbol");
    return sp__js_fail(s, p, field, rc, "bad symbol \"%.*s\"", (int)(n > 40 ? 40 : n), p);
}

/* Binance interval names (also OKX's lower-case ones); kline interval codes of event.h. */
unsigned sp__feed_interval_binance(const char *p, size_t n)
{
    static const struct {
        const char *s;
        unsigned code;
    } map[] = {
#define SP_KL_(name, code, text, secs) {text, code},
        SP_KLINE_MAP(SP_KL_)
#undef SP_KL_
    };
    for (size_t i = 0; i < SP_COUNTOF(map); i++) {
        if (strlen(map[i].s) == n && memcmp(map[i].s, p, n) == 0)
            return map[i].code;
    }
    return 0;
}

/* Bybit v5 intervals are minutes ("1", "60") or "D", "W", "M". */
unsigned sp__feed_interval_bybit(const char *p, size_t n)
{
    static const struct {
        const char *s;
        unsigned code;
    } map[] = {
        {"1", 1},   {"3", 2},   {"5", 3},    {"15", 4}, {"30", 5}, {"60", 6}, {"120", 7},
        {"240", 8}, {"360", 9}, {"720", 11}, {"D", 12}, {"W", 14}, {"M", 15},
    };
    for (size_t i = 0; i < SP_COUNTOF(map); i++) {
        if (strlen(map[i].s) == n && memcmp(map[i].s, p, n) == 0)
            return map[i].code;
    }
    return 0;
}

int64_t sp__feed_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t mp = (int64_t)m + (m > 2 ? -3 : 9);
    const int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool digits(const char *p, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

sp_err sp__feed_parse_time(const char *p, size_t n, int64_t *ns)
{
    int64_t y, mo, da, h = 0, mi = 0, se = 0, frac = 0;
    if (n < 10 || p[4] != '-' || p[7] != '-' || !digits(p, 4, &y) || !digits(p + 5, 2, &mo) ||
        !digits(p + 8, 2, &da))
        return SP_EPARSE;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || da < 1 || da > (int64_t)mdays[mo - 1] || y < 1970 || y > 2200)
        return SP_EPARSE;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && da == 29 && !leap)
        return SP_EPARSE;
    size_t i = 10;
    if (i < n) {
        if ((p[i] != ' ' && p[i] != 'T') || n < i + 9 || p[i + 3] != ':' || p[i + 6] != ':' ||
            !digits(p + i + 1, 2, &h) || !digits(p + i + 4, 2, &mi) || !digits(p + i + 7, 2, &se))
            return SP_EPARSE;
        if (h > 23 || mi > 59 || se > 60)
            return SP_EPARSE;
        i += 9;
        if (i < n && p[i] == '.') {
            size_t k = 0;
            i++;
            while (i < n && p[i] >= '0' && p[i] <= '9') {
                if (k < 9) {
                    frac = frac * 10 + (p[i] - '0');
                    k++;
                }
                i++;
            }
            if (k == 0)
                return SP_EPARSE;
            while (k < 9) {
                frac *= 10;
                k++;
            }
        }
        if (i < n && p[i] == 'Z') {
            i++;
        } else if (n - i == 6 && memcmp(p + i, "+00:00", 6) == 0) {
            i += 6;
        }
        if (i != n)
            return SP_EPARSE;
    }
    int64_t days = sp__feed_days_from_civil(y, (unsigned)mo, (unsigned)da);
    *ns = ((days * 86400 + h * 3600 + mi * 60 + se) * 1000000000) + frac;
    return SP_OK;
}

int sp_feed_field_scale(const sp_event *e, unsigned field)
{
    const int I = -1, P = SP_EV_PX_SCALE, Q = SP_EV_QTY_SCALE, R = SP_EV_RATE_SCALE;
    if (field > 4)
        return I;
    /* px, qty, aux0, aux1, aux2 per kind (event.h table, docs/internals/event.md) */
    static const int8_t tab[SP_EV_KIND_COUNT_][5] = {
        [SP_EV_TRADE] = {P, Q, -1, -1, -1},      [SP_EV_DEPTH_UPDATE] = {P, Q, -1, -1, -1},
        [SP_EV_BOOK_LEVEL] = {P, Q, -1, -1, -1}, [SP_EV_LIQUIDATION] = {P, Q, P, Q, P},
        [SP_EV_FUNDING] = {R, Q, P, -1, -1},     [SP_EV_MARK] = {P, Q, P, P, R},
        [SP_EV_INDEX] = {P, Q, P, P, P},         [SP_EV_OPEN_INTEREST] = {P, Q, P, P, P},
        [SP_EV_KLINE] = {P, Q, P, P, P},         [SP_EV_TICKER] = {P, Q, P, Q, P},
        [SP_EV_GAP] = {P, Q, -1, -1, -1},        [SP_EV_SERIES] = {P, Q, P, P, P},
        [SP_EV_LONG_SHORT] = {R, Q, R, R, R},
    };
    if (e->kind >= SP_EV_KIND_COUNT_)
        return I;
    if (e->kind == SP_EV_BOOK_LEVEL && e->sub == 1 && field == 2)
        return P; /* bookDepth band: aux0 notional */
    if (e->kind == SP_EV_SERIES) {
        switch (e->sub) {
        case SP_SERIES_FUNDING_MEAN:
            return field == 0 || field == 2 ? R : field == 1 ? Q : I;
        case SP_SERIES_PRICE:
            return field == 2 ? 0 : field == 3 ? I : field == 4 ? P : field == 0 ? P : Q;
        case SP_SERIES_ADL:
            return field == 4 ? I : field == 1 ? Q : P;
        case SP_SERIES_ADL_ACCOUNT:
        case SP_SERIES_LIQ_ACCOUNT:
            return field <= 1 ? P : I;
        default:
            return field == 1 ? Q : P;
        }
    }
    if (e->kind >= SP_EV_FILL && e->kind <= SP_EV_INSURANCE)
        return field == 0 ? P : field == 1 ? Q : I; /* engine events: engine/ documents aux */
    if (e->kind == SP_EV_NONE)
        return I;
    return tab[e->kind][field];
}
