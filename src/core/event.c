/*
 * event.c -- names of event kinds, venues and kline intervals.
 *
 * Generated from the X-macro lists in event.h so codes and names cannot
 * drift apart; the names are the stable spelling used in the store, the
 * CLI, JSON output and golden files.
 */
#include <string.h>

#include "stampede/event.h"

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
