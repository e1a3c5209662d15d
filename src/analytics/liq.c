/*
 * liq.c -- liquidation statistics (docs/metrics.md §6): notional, count and
 * largest order by venue, symbol and side over a window, and the number of
 * forced orders ("traders liquidated") counted or estimated.
 *
 * Side convention.  Decoders normalise every venue's convention into the
 * SP_EVF_SELL bit: set = the forced order sells = a LONG was liquidated
 * (Binance forceOrder "S":"SELL"; Bybit allLiquidation "S":"Buy", the
 * opposite wording -- PROVENANCE.md "Format notes").  This file only reads
 * the bit.
 *
 * Throttled venues.  Binance pushes at most one liquidation snapshot per
 * symbol per 1000 ms and Bybit's allLiquidation batches every 500 ms, so
 * their event counts are lower bounds of the orders.  The estimator treats
 * each (symbol, UTC minute) cell as W slots of which k are occupied; with
 * Poisson arrivals at rate lambda per slot P(occupied) = 1 - e^-lambda, so
 * lambda = -ln(1 - k/W) and the cell holds about W * lambda orders; the
 * delta method gives Var = W p / (1 - p).  A full cell has no finite
 * estimate; it is taken at k = W - 1/2 and flagged as a lower bound.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics_int.h"
#include "stampede/alloc.h"
#include "stampede/fixed.h"

sp_err sp_an_liq_notional(const sp_event *e, const char *symbol, int64_t *out)
{
    if (e->aux[2] != 0) {
        *out = e->aux[2];
        return SP_OK;
    }
    int64_t q = e->aux[1] != 0 ? e->aux[1] : e->qty;
    if (e->venue == SP_VENUE_BINANCE_CM) {
        /*
         * COIN-M quantities are contracts of a fixed US$ face value: 100 for
         * BTCUSD perpetual and quarterlies, 10 for every other coin
         * (Binance COIN-M contract specifications; PROVENANCE.md §3).
         */
        int64_t face = symbol && strncmp(symbol, "BTCUSD", 6) == 0 ? 100 : 10;
        return sp_mul_checked(q, face, out);
    }
    int64_t px = e->aux[0] != 0 ? e->aux[0] : e->px;
    /* px (1e-8) * qty (1e-8) / 1e8 = quote at 1e-8. */
    return sp_mul_div(px, q, INT64_C(100000000), SP_RND_HALF_EVEN, out);
}

static int cmp_group(const void *pa, const void *pb)
{
    const sp_an_liq_group *a = pa, *b = pb;
    if (a->notional != b->notional)
        return a->notional > b->notional ? -1 : 1;
    if (a->venue != b->venue)
        return a->venue < b->venue ? -1 : 1;
    if (a->symbol_id != b->symbol_id)
        return a->symbol_id < b->symbol_id ? -1 : 1;
    return (int)a->long_side - (int)b->long_side;
}

/* Slots of the group index (a power of two, > 2 x the most groups we keep). */
#define GROUP_SLOTS 4096u

static uint32_t group_hash(uint8_t venue, uint32_t symbol_id, bool lng)
{
    uint64_t k = ((uint64_t)symbol_id << 9) ^ ((uint64_t)venue << 1) ^ (lng ? 1u : 0u);
    k *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(k >> 52) & (GROUP_SLOTS - 1);
}

sp_err sp_an_liq_aggregate(const sp_event *ev, size_t n, const sp_symtab *syms, int64_t from_ns,
                           int64_t to_ns, sp_an_liq_group *groups, size_t cap, size_t *n_groups,
                           sp_an_liq_total *total)
{
    size_t k = 0;
    sp_an_liq_total t = {0};
    /* Open-addressing index: slot -> group + 1 (0 = empty); 16 KB on the stack. */
    uint32_t slot[GROUP_SLOTS];
    memset(slot, 0, sizeof(slot));
    if (cap > GROUP_SLOTS / 2)
        cap = GROUP_SLOTS / 2;
    *n_groups = 0;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        if (e->kind != SP_EV_LIQUIDATION || e->exch_ts_ns < from_ns || e->exch_ts_ns >= to_ns)
            continue;
        int64_t nt;
        const char *sym = NULL;
        if (e->venue == SP_VENUE_BINANCE_CM && syms != NULL)
            sym = sp_symtab_name(syms, e->symbol_id);
        sp_err rc = sp_an_liq_notional(e, sym, &nt);
        if (rc != SP_OK)
            return rc;
        bool lng = (e->flags & SP_EVF_SELL) != 0;
        uint32_t h = group_hash(e->venue, e->symbol_id, lng);
        size_t g;
        for (;;) {
            if (slot[h] == 0) {
                if (k == cap)
                    return SP_ETOOBIG;
                memset(&groups[k], 0, sizeof(groups[k]));
                groups[k].venue = e->venue;
                groups[k].symbol_id = e->symbol_id;
                groups[k].long_side = lng;
                slot[h] = (uint32_t)++k;
                g = k - 1;
                break;
            }
            g = slot[h] - 1;
            if (groups[g].venue == e->venue && groups[g].symbol_id == e->symbol_id &&
                groups[g].long_side == lng)
                break;
            h = (h + 1) & (GROUP_SLOTS - 1);
        }
        sp_an_liq_group *gr = &groups[g];
        if (sp_add_checked(gr->notional, nt, &gr->notional) != SP_OK ||
            sp_add_checked(t.notional, nt, &t.notional) != SP_OK)
            return SP_EOVERFLOW;
        int64_t *side = lng ? &t.long_notional : &t.short_notional;
        if (sp_add_checked(*side, nt, side) != SP_OK)
            return SP_EOVERFLOW;
        gr->count++;
        t.count++;
        if (gr->count == 1 || nt > gr->largest) {
            gr->largest = nt;
            gr->largest_ns = e->exch_ts_ns;
        }
        if (t.count == 1 || nt > t.largest) {
            t.largest = nt;
            t.largest_ns = e->exch_ts_ns;
            t.largest_symbol_id = e->symbol_id;
            t.largest_venue = e->venue;
        }
    }
    qsort(groups, k, sizeof(*groups), cmp_group);
    *n_groups = k;
    *total = t;
    return SP_OK;
}

bool sp_an_venue_is_throttled(unsigned venue, int64_t *slot_ns)
{
    /*
     * Binance USD-M / COIN-M "Liquidation Order Streams": "only the latest
     * one liquidation order within 1000ms will be pushed as the snapshot";
     * Bybit v5 allLiquidation: "Push frequency: 500ms".
     */
    switch (venue) {
    case SP_VENUE_BINANCE_UM:
    case SP_VENUE_BINANCE_CM:
        *slot_ns = 1000 * INT64_C(1000000);
        return true;
    case SP_VENUE_BYBIT:
        *slot_ns = 500 * INT64_C(1000000);
        return true;
    default:
        *slot_ns = 0;
        return false;
    }
}

/*
 * One (venue, symbol, UTC minute) cell of a throttled venue: which of its
 * W <= 128 slots hold an event (a bitmap) and how many events it holds.
 */
typedef struct cell {
    int64_t minute;     /* minutes since the epoch */
    uint32_t symbol_id; /* event symbol */
    uint8_t venue;      /* 0 = empty table entry (throttled venues are never 0) */
    uint32_t events;    /* events seen in the cell */
    uint64_t bits[2];   /* occupied slots */
} cell;

typedef struct cell_table {
    cell *c;
    size_t cap; /* power of two */
    size_t n;
} cell_table;

static size_t cell_hash(uint8_t venue, uint32_t sym, int64_t minute, size_t cap)
{
    uint64_t k = (uint64_t)minute * 0x9E3779B97F4A7C15ull ^ ((uint64_t)sym << 8) ^ venue;
    k ^= k >> 31;
    k *= 0xBF58476D1CE4E5B9ull;
    k ^= k >> 29;
    return (size_t)k & (cap - 1);
}

/* The cell of (venue, sym, minute), inserted if new; NULL on SP_ENOMEM. */
static cell *cell_get(cell_table *t, uint8_t venue, uint32_t sym, int64_t minute)
{
    if (2 * (t->n + 1) > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 1024;
        cell *nc = sp_calloc(ncap, sizeof(*nc));
        if (nc == NULL)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (t->c[i].venue == 0)
                continue;
            size_t h = cell_hash(t->c[i].venue, t->c[i].symbol_id, t->c[i].minute, ncap);
            while (nc[h].venue != 0)
                h = (h + 1) & (ncap - 1);
            nc[h] = t->c[i];
        }
        sp_free(t->c);
        t->c = nc;
        t->cap = ncap;
    }
    size_t h = cell_hash(venue, sym, minute, t->cap);
    while (t->c[h].venue != 0) {
        cell *c = &t->c[h];
        if (c->venue == venue && c->symbol_id == sym && c->minute == minute)
            return c;
        h = (h + 1) & (t->cap - 1);
    }
    cell *c = &t->c[h];
    c->venue = venue;
    c->symbol_id = sym;
    c->minute = minute;
    t->n++;
    return c;
}

/* Add the estimate of one cell with k of w slots occupied and `events` events. */
static void add_cell(sp_an_traders *t, double *var, uint64_t k, uint64_t events, uint64_t w)
{
    double kk = (double)k;
    if (k >= w) {
        kk = (double)w - 0.5;
        t->saturated++;
    }
    double p = kk / (double)w;
    double est = (double)w * -log1p(-p);
    /* Never below what was seen (two events in one slot: not throttled there). */
    t->estimate += est > (double)events ? est : (double)events;
    *var += (double)w * p / (1.0 - p);
}

sp_err sp_an_liq_traders(const sp_event *ev, size_t n, int64_t from_ns, int64_t to_ns,
                         sp_an_traders *out)
{
    sp_an_traders t = {0};
    cell_table tab = {0};
    const int64_t minute_ns = 60 * SP_AN_NS_PER_SEC;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        int64_t slot_ns;
        if (e->kind != SP_EV_LIQUIDATION || e->exch_ts_ns < from_ns || e->exch_ts_ns >= to_ns)
            continue;
        if (!sp_an_venue_is_throttled(e->venue, &slot_ns)) {
            t.counted++;
            continue;
        }
        t.observed++;
        int64_t minute = e->exch_ts_ns / minute_ns;
        if (e->exch_ts_ns < 0 && minute * minute_ns != e->exch_ts_ns)
            minute--;
        uint64_t slot = (uint64_t)((e->exch_ts_ns - minute * minute_ns) / slot_ns);
        cell *c = cell_get(&tab, e->venue, e->symbol_id, minute);
        if (c == NULL) {
            sp_free(tab.c);
            return SP_ENOMEM;
        }
        c->bits[slot >> 6] |= UINT64_C(1) << (slot & 63);
        c->events++;
    }
    double var = 0;
    for (size_t i = 0; i < tab.cap; i++) {
        const cell *c = &tab.c[i];
        int64_t slot_ns;
        if (c->venue == 0 || !sp_an_venue_is_throttled(c->venue, &slot_ns))
            continue;
        uint64_t k =
            (uint64_t)__builtin_popcountll(c->bits[0]) + (uint64_t)__builtin_popcountll(c->bits[1]);
        add_cell(&t, &var, k, c->events, (uint64_t)(minute_ns / slot_ns));
    }
    sp_free(tab.c);
    t.estimate += (double)t.counted;
    t.stderr_est = sqrt(var);
    *out = t;
    return SP_OK;
}
