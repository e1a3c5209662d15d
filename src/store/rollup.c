/*
 * rollup.c -- the per-minute liquidation roll-up cells an append writes
 * beside its events (liq_minute, schema version 3).
 *
 * A backend's insert reports each LIQUIDATION row that was new to the
 * event table here (sp__store_roll_add); the cells of the slice are then
 * merged into liq_minute by the backend in the same transaction, so the
 * roll-ups always describe exactly the stored events: a duplicate
 * re-append adds nothing, a rolled-back batch leaves nothing.  The notional
 * is sp_event_liq_notional (event.c), the one definition the analytics use
 * too.  A cell also records which 500 ms slots of its minute hold an
 * event: the traders estimator of the analytics (docs/metrics.md §6.3)
 * needs per-venue slot occupancy (Bybit 500 ms, Binance 1000 ms = a pair
 * of 500 ms bits), which a count alone cannot give.
 */
#include <string.h>

#include "stampede/alloc.h"
#include "stampede/fixed.h"
#include "store/store_int.h"

int64_t sp__store_minute_of(int64_t ts_ns, unsigned *slot)
{
    int64_t minute = ts_ns / SP_STORE_LIQ_MINUTE_NS;
    if (ts_ns < 0 && minute * SP_STORE_LIQ_MINUTE_NS != ts_ns)
        minute--;
    *slot = (unsigned)((ts_ns - minute * SP_STORE_LIQ_MINUTE_NS) / SP_STORE_LIQ_SLOT_NS);
    return minute;
}

void sp__store_roll_reset(sp_store_roll *r)
{
    if (r->n > 0 && r->idx != NULL)
        memset(r->idx, 0, r->icap * sizeof(*r->idx));
    r->n = 0;
}

void sp__store_roll_fini(sp_store_roll *r)
{
    sp_free(r->cell);
    sp_free(r->idx);
    memset(r, 0, sizeof(*r));
}

static size_t cell_hash(uint8_t venue, uint32_t sym, uint8_t sell, int64_t minute, size_t cap)
{
    uint64_t k = (uint64_t)minute * 0x9E3779B97F4A7C15ull ^ ((uint64_t)sym << 9) ^
                 ((uint64_t)venue << 1) ^ sell;
    k ^= k >> 31;
    k *= 0xBF58476D1CE4E5B9ull;
    k ^= k >> 29;
    return (size_t)k & (cap - 1);
}

/* Grow the cells and rebuild the index so one more cell fits at load <= 1/2. */
static sp_err grow(sp_store_roll *r)
{
    size_t ncap = r->cap ? r->cap * 2 : 256;
    sp_store_liq_minute *nc = sp_reallocarray(r->cell, ncap, sizeof(*nc));
    if (nc == NULL)
        return SP_ENOMEM;
    r->cell = nc;
    r->cap = ncap;
    uint32_t *ni = sp_calloc(ncap * 2, sizeof(*ni));
    if (ni == NULL)
        return SP_ENOMEM;
    sp_free(r->idx);
    r->idx = ni;
    r->icap = ncap * 2;
    for (size_t i = 0; i < r->n; i++) {
        const sp_store_liq_minute *c = &r->cell[i];
        size_t h = cell_hash(c->venue, c->symbol_id, c->sell, c->minute, r->icap);
        while (r->idx[h] != 0)
            h = (h + 1) & (r->icap - 1);
        r->idx[h] = (uint32_t)(i + 1);
    }
    return SP_OK;
}

void sp__store_roll_merge(sp_store_liq_minute *into, const sp_store_liq_minute *c)
{
    into->count += c->count;
    into->bad += c->bad;
    if (sp_add_checked(into->notional, c->notional, &into->notional) != SP_OK)
        into->bad += c->count - c->bad; /* their notional is lost: flag them */
    if (c->largest > into->largest ||
        (c->largest == into->largest && c->largest_ns < into->largest_ns)) {
        into->largest = c->largest;
        into->largest_ns = c->largest_ns;
    }
    if (c->first_ns < into->first_ns)
        into->first_ns = c->first_ns;
    into->slots[0] |= c->slots[0];
    into->slots[1] |= c->slots[1];
}

sp_err sp__store_roll_add(sp_store_roll *r, const sp_event *ev, const char *symbol)
{
    sp_store_liq_minute one;
    memset(&one, 0, sizeof(one));
    unsigned slot;
    one.minute = sp__store_minute_of(ev->exch_ts_ns, &slot);
    one.symbol_id = ev->symbol_id;
    one.venue = ev->venue;
    one.sell = (ev->flags & SP_EVF_SELL) ? 1 : 0;
    one.count = 1;
    one.first_ns = ev->exch_ts_ns;
    one.slots[slot >> 6] = UINT64_C(1) << (slot & 63);
    one.largest = INT64_MIN;
    if (sp_event_liq_notional(ev, symbol, &one.notional) != SP_OK) {
        one.notional = 0;
        one.bad = 1;
    } else {
        one.largest = one.notional;
        one.largest_ns = ev->exch_ts_ns;
    }
    if (2 * (r->n + 1) > r->icap || r->n == r->cap) {
        sp_err rc = grow(r);
        if (rc != SP_OK)
            return rc;
    }
    size_t h = cell_hash(one.venue, one.symbol_id, one.sell, one.minute, r->icap);
    while (r->idx[h] != 0) {
        sp_store_liq_minute *c = &r->cell[r->idx[h] - 1];
        if (c->minute == one.minute && c->symbol_id == one.symbol_id && c->venue == one.venue &&
            c->sell == one.sell) {
            sp__store_roll_merge(c, &one);
            return SP_OK;
        }
        h = (h + 1) & (r->icap - 1);
    }
    r->cell[r->n] = one;
    r->idx[h] = (uint32_t)++r->n;
    return SP_OK;
}
