/*
 * event.c -- names of event kinds, venues and kline intervals.
 *
 * Generated from the X-macro lists in event.h so codes and names cannot
 * drift apart; the names are the stable spelling used in the store, the
 * CLI, JSON output and golden files.  Also the one definition of a
 * liquidation's notional, a property of the event that the analytics and
 * the store's roll-ups both need.
 */
#include <string.h>

#include "stampede/event.h"
#include "stampede/fixed.h"

static const char *const kind_names[] = {
#define KN_(name, value, text) [value] = text,
    SP_EVENT_KIND_MAP(KN_)
#undef KN_
};

static const char *const venue_names[] = {
#define VN_(name, value, text) [value] = text,
    SP_VENUE_MAP(VN_)
#undef VN_
};

static const struct {
    const char *name;
    int64_t secs;
} kline_intervals[] = {
#define KI_(name, value, text, secs) [value] = {text, secs},
    SP_KLINE_MAP(KI_)
#undef KI_
};

const char *sp_event_kind_name(unsigned kind)
{
    return kind < SP_COUNTOF(kind_names) && kind_names[kind] ? kind_names[kind] : "?";
}

sp_event_kind sp_event_kind_from_name(const char *s)
{
    for (unsigned k = 1; k < SP_COUNTOF(kind_names); k++) {
        if (kind_names[k] && strcmp(kind_names[k], s) == 0)
            return (sp_event_kind)k;
    }
    return SP_EV_NONE;
}

const char *sp_venue_name(unsigned venue)
{
    return venue < SP_COUNTOF(venue_names) && venue_names[venue] ? venue_names[venue] : "?";
}

sp_venue sp_venue_from_name(const char *s)
{
    for (unsigned v = 1; v < SP_COUNTOF(venue_names); v++) {
        if (venue_names[v] && strcmp(venue_names[v], s) == 0)
            return (sp_venue)v;
    }
    return SP_VENUE_NONE;
}

const char *sp_kline_interval_name(unsigned code)
{
    return code < SP_COUNTOF(kline_intervals) && kline_intervals[code].name
               ? kline_intervals[code].name
               : "?";
}

int64_t sp_kline_interval_secs(unsigned code)
{
    return code < SP_COUNTOF(kline_intervals) ? kline_intervals[code].secs : 0;
}

unsigned sp_kline_interval_from_name(const char *s)
{
    for (unsigned c = 1; c < SP_COUNTOF(kline_intervals); c++) {
        if (kline_intervals[c].name && strcmp(kline_intervals[c].name, s) == 0)
            return c;
    }
    return 0;
}

sp_err sp_event_liq_notional(const sp_event *ev, const char *symbol, int64_t *out)
{
    if (ev->aux[2] != 0) {
        *out = ev->aux[2];
        return SP_OK;
    }
    int64_t q = ev->aux[1] != 0 ? ev->aux[1] : ev->qty;
    if (ev->venue == SP_VENUE_BINANCE_CM) {
        /*
         * COIN-M quantities are contracts of a fixed US$ face value: 100 for
         * BTCUSD perpetual and quarterlies, 10 for every other coin
         * (Binance COIN-M contract specifications; PROVENANCE.md §3).
         */
        int64_t face = symbol && strncmp(symbol, "BTCUSD", 6) == 0 ? 100 : 10;
        return sp_mul_checked(q, face, out);
    }
    int64_t px = ev->aux[0] != 0 ? ev->aux[0] : ev->px;
    /* px (1e-8) * qty (1e-8) / 1e8 = quote at 1e-8. */
    return sp_mul_div(px, q, INT64_C(100000000), SP_RND_HALF_EVEN, out);
}
