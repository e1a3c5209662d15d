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
 * The cells' estimates are summed through a histogram of (W, k) in a fixed
 * order, so the double result does not depend on the order cells are met
 * in: the event path and the roll-up path below give identical bits.
 *
 * Two paths, identical results.  sp_an_liq_aggregate / sp_an_liq_traders
 * read events (any window; the oracle of the tests).  sp_an_liq_from_rollups
 * reads the store's per-minute roll-ups (liq_minute, store.h) for a
 * minute-aligned window: ~1,440 x groups rows a day instead of every event.
 * A roll-up cell is (venue, symbol, side, minute) with a 120-bit bitmap of
 * its 500 ms slots; the estimator's cell is (venue, symbol, minute), so the
 * two sides' bitmaps are ORed, and a 1000 ms slot (Binance) is the OR of
 * its two 500 ms bits.  Groups are interned into the caller's symbol table
 * in the order the event path would meet them (first event time, then the
 * store's symbol id), so group ids, the sort and every tie-break agree.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics_int.h"
#include "stampede/alloc.h"
#include "stampede/fixed.h"
#include "stampede/symtab.h"

sp_err sp_an_liq_notional(const sp_event *e, const char *symbol, int64_t *out)
{
    return sp_event_liq_notional(e, symbol, out); /* the definition lives with the event */
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
#define GROUP_MAX   (GROUP_SLOTS / 2)

static uint32_t group_hash(uint8_t venue, uint32_t symbol_id, bool lng)
{
    uint64_t k = ((uint64_t)symbol_id << 9) ^ ((uint64_t)venue << 1) ^ (lng ? 1u : 0u);
    k *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(k >> 52) & (GROUP_SLOTS - 1);
}

/*
 * The groups of one aggregation: the caller's array while they fit, then
 * a heap array of GROUP_MAX (so the largest `cap` can be kept and the
 * totals stay exact), indexed by an open-addressing table.
 */
typedef struct groups_acc {
    sp_an_liq_group *g; /* out (the caller's) or heap */
    size_t n;
    size_t cap;
    sp_an_liq_group *out; /* the caller's array */
    size_t out_cap;
    uint32_t slot[GROUP_SLOTS]; /* slot -> group + 1 (0 = empty) */
} groups_acc;

static void groups_init(groups_acc *a, sp_an_liq_group *out, size_t cap)
{
    memset(a->slot, 0, sizeof(a->slot));
    if (cap > GROUP_MAX)
        cap = GROUP_MAX;
    a->g = out;
    a->n = 0;
    a->cap = cap;
    a->out = out;
    a->out_cap = cap;
}

/* The group of (venue, symbol, side), created if new.  NULL: SP_ENOMEM or > GROUP_MAX (*rc). */
static sp_an_liq_group *group_get(groups_acc *a, uint8_t venue, uint32_t sym, bool lng, sp_err *rc)
{
    uint32_t h = group_hash(venue, sym, lng);
    for (;;) {
        if (a->slot[h] == 0)
            break;
        sp_an_liq_group *g = &a->g[a->slot[h] - 1];
        if (g->venue == venue && g->symbol_id == sym && g->long_side == lng)
            return g;
        h = (h + 1) & (GROUP_SLOTS - 1);
    }
    if (a->n == a->cap) {
        if (a->g != a->out || a->cap == GROUP_MAX) {
            *rc = SP_ETOOBIG;
            return NULL;
        }
        sp_an_liq_group *heap = sp_calloc(GROUP_MAX, sizeof(*heap));
        if (heap == NULL) {
            *rc = SP_ENOMEM;
            return NULL;
        }
        if (a->n > 0)
            memcpy(heap, a->g, a->n * sizeof(*heap));
        a->g = heap;
        a->cap = GROUP_MAX;
    }
    sp_an_liq_group *g = &a->g[a->n];
    memset(g, 0, sizeof(*g));
    g->venue = venue;
    g->symbol_id = sym;
    g->long_side = lng;
    a->slot[h] = (uint32_t)++a->n;
    return g;
}

/* Sort, copy the largest out_cap groups to the caller's array.  SP_ETOOBIG if some were cut. */
static sp_err groups_finish(groups_acc *a, size_t *n_groups)
{
    qsort(a->g, a->n, sizeof(*a->g), cmp_group);
    size_t keep = a->n < a->out_cap ? a->n : a->out_cap;
    if (a->g != a->out) {
        memcpy(a->out, a->g, keep * sizeof(*a->out));
        sp_free(a->g);
        a->g = a->out;
    }
    *n_groups = keep;
    return keep < a->n ? SP_ETOOBIG : SP_OK;
}

static void groups_abort(groups_acc *a)
{
    if (a->g != a->out)
        sp_free(a->g);
    a->g = a->out;
}

/* Add one group's share (count events, notional, largest at largest_ns) to the totals. */
static sp_err total_add(sp_an_liq_total *t, bool lng, uint64_t count, int64_t notional)
{
    int64_t *side = lng ? &t->long_notional : &t->short_notional;
    if (sp_add_checked(t->notional, notional, &t->notional) != SP_OK ||
        sp_add_checked(*side, notional, side) != SP_OK)
        return SP_EOVERFLOW;
    t->count += count;
    return SP_OK;
}

sp_err sp_an_liq_aggregate(const sp_event *ev, size_t n, const sp_symtab *syms, int64_t from_ns,
                           int64_t to_ns, sp_an_liq_group *groups, size_t cap, size_t *n_groups,
                           sp_an_liq_total *total)
{
    sp_an_liq_total t = {0};
    groups_acc acc; /* 16 KB index on the stack: no allocation unless cap is exceeded */
    groups_acc *a = &acc;
    *n_groups = 0;
    groups_init(a, groups, cap);
    sp_err rc = SP_OK;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        if (e->kind != SP_EV_LIQUIDATION || e->exch_ts_ns < from_ns || e->exch_ts_ns >= to_ns)
            continue;
        int64_t nt;
        const char *sym = NULL;
        if (e->venue == SP_VENUE_BINANCE_CM && syms != NULL)
            sym = sp_symtab_name(syms, e->symbol_id);
        if ((rc = sp_event_liq_notional(e, sym, &nt)) != SP_OK)
            goto out_abort;
        bool lng = (e->flags & SP_EVF_SELL) != 0;
        sp_an_liq_group *gr = group_get(a, e->venue, e->symbol_id, lng, &rc);
        if (gr == NULL)
            goto out_abort;
        if (sp_add_checked(gr->notional, nt, &gr->notional) != SP_OK ||
            total_add(&t, lng, 1, nt) != SP_OK) {
            rc = SP_EOVERFLOW;
            goto out_abort;
        }
        gr->count++;
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
    rc = groups_finish(a, n_groups);
    *total = t;
    return rc;

out_abort:
    groups_abort(a);
    return rc;
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

/* ---- the estimator's accumulator -------------------------------------- */

#define MINUTE_NS (60 * SP_AN_NS_PER_SEC)
#define TACC_W    4   /* distinct slot counts W (two exist: 60 and 120) */
#define TACC_K    128 /* most slots per minute */

/*
 * Cells of the estimator by (W, k): est[w][k] cells whose estimate is
 * used, var[w][k] every cell (its variance depends on W and k only);
 * above = the events of the cells that hold more events than their
 * estimate (taken as is).  Summed in a fixed order by traders_finish.
 */
typedef struct tacc {
    uint64_t counted, observed, saturated, above;
    uint64_t w[TACC_W]; /* 0 = unused */
    uint64_t est[TACC_W][TACC_K + 1];
    uint64_t var[TACC_W][TACC_K + 1];
} tacc;

/* k' (k, or W - 1/2 when full) and the estimate W * -ln(1 - k'/W) of a cell. */
static double cell_est(uint64_t k, uint64_t w, double *p)
{
    double kk = k >= w ? (double)w - 0.5 : (double)k;
    *p = kk / (double)w;
    return (double)w * -log1p(-*p);
}

static sp_err tacc_cell(tacc *a, uint64_t k, uint64_t events, uint64_t w)
{
    if (w == 0 || w > TACC_K || k > w)
        return SP_ERANGE;
    size_t i = 0;
    while (i < TACC_W && a->w[i] != 0 && a->w[i] != w)
        i++;
    if (i == TACC_W)
        return SP_ERANGE;
    a->w[i] = w;
    if (k >= w)
        a->saturated++;
    double p;
    double est = cell_est(k, w, &p);
    /* Never below what was seen (two events in one slot: not throttled there). */
    if (est > (double)events)
        a->est[i][k]++;
    else
        a->above += events;
    a->var[i][k]++;
    return SP_OK;
}

static void tacc_finish(const tacc *a, sp_an_traders *out)
{
    sp_an_traders t = {0};
    t.counted = a->counted;
    t.observed = a->observed;
    t.saturated = a->saturated;
    double var = 0;
    uint64_t last = 0;
    for (size_t round = 0; round < TACC_W; round++) {
        /* the W values in increasing order */
        uint64_t w = 0;
        size_t wi = 0;
        for (size_t i = 0; i < TACC_W; i++) {
            if (a->w[i] > last && (w == 0 || a->w[i] < w)) {
                w = a->w[i];
                wi = i;
            }
        }
        if (w == 0)
            break;
        last = w;
        for (uint64_t k = 0; k <= w; k++) {
            if (a->var[wi][k] == 0)
                continue;
            double p;
            double est = cell_est(k, w, &p);
            t.estimate += (double)a->est[wi][k] * est;
            var += (double)a->var[wi][k] * ((double)w * p / (1.0 - p));
        }
    }
    t.estimate += (double)a->above;
    t.estimate += (double)t.counted;
    t.stderr_est = sqrt(var);
    *out = t;
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

sp_err sp_an_liq_traders(const sp_event *ev, size_t n, int64_t from_ns, int64_t to_ns,
                         sp_an_traders *out)
{
    tacc *a = sp_calloc(1, sizeof(*a));
    if (a == NULL)
        return SP_ENOMEM;
    cell_table tab = {0};
    sp_err rc = SP_OK;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        int64_t slot_ns;
        if (e->kind != SP_EV_LIQUIDATION || e->exch_ts_ns < from_ns || e->exch_ts_ns >= to_ns)
            continue;
        if (!sp_an_venue_is_throttled(e->venue, &slot_ns)) {
            a->counted++;
            continue;
        }
        a->observed++;
        int64_t minute = e->exch_ts_ns / MINUTE_NS;
        if (e->exch_ts_ns < 0 && minute * MINUTE_NS != e->exch_ts_ns)
            minute--;
        uint64_t slot = (uint64_t)((e->exch_ts_ns - minute * MINUTE_NS) / slot_ns);
        cell *c = cell_get(&tab, e->venue, e->symbol_id, minute);
        if (c == NULL) {
            rc = SP_ENOMEM;
            goto out;
        }
        c->bits[slot >> 6] |= UINT64_C(1) << (slot & 63);
        c->events++;
    }
    for (size_t i = 0; i < tab.cap && rc == SP_OK; i++) {
        const cell *c = &tab.c[i];
        int64_t slot_ns;
        if (c->venue == 0 || !sp_an_venue_is_throttled(c->venue, &slot_ns))
            continue;
        uint64_t k =
            (uint64_t)__builtin_popcountll(c->bits[0]) + (uint64_t)__builtin_popcountll(c->bits[1]);
        rc = tacc_cell(a, k, c->events, (uint64_t)(MINUTE_NS / slot_ns));
    }
    if (rc == SP_OK)
        tacc_finish(a, out);
out:
    sp_free(tab.c);
    sp_free(a);
    return rc;
}

/* ---- from the store's roll-ups ----------------------------------------- */

/* A symbol met in the roll-ups: its name (in tmp), store id and first event. */
typedef struct rsym {
    uint32_t store_id;
    int64_t first_ns;
    uint32_t out_id; /* id in the caller's table, once interned */
} rsym;

typedef struct rstate {
    sp_symtab *tmp; /* names met, ids 1..n */
    rsym *sym;      /* sym[tmp id] */
    size_t capsym;
    groups_acc ga; /* symbol_id = tmp id until the end */
    sp_an_liq_total t;
    uint32_t t_store_sym; /* store symbol id of t.largest (the event order's tie-break) */
    tacc acc;
    /* the estimator cell being gathered: (minute, venue, store symbol), both sides */
    int have;
    int64_t minute;
    uint8_t venue;
    uint32_t store_sym;
    uint64_t events;
    uint64_t bits[2];
    uint64_t bad;
} rstate;

/* Fold a 120-bit map of 500 ms slots into slots of r x 500 ms; the occupied count. */
static uint64_t occupied(const uint64_t bits[2], uint64_t r)
{
    if (r == 1)
        return (uint64_t)__builtin_popcountll(bits[0]) + (uint64_t)__builtin_popcountll(bits[1]);
    uint64_t out[2] = {0, 0};
    for (unsigned w = 0; w < 2; w++) {
        uint64_t b = bits[w];
        while (b != 0) {
            unsigned j = (unsigned)__builtin_ctzll(b) + 64 * w;
            b &= b - 1;
            unsigned s = (unsigned)(j / r);
            out[s >> 6] |= UINT64_C(1) << (s & 63);
        }
    }
    return (uint64_t)__builtin_popcountll(out[0]) + (uint64_t)__builtin_popcountll(out[1]);
}

static sp_err flush_cell(rstate *st)
{
    if (!st->have)
        return SP_OK;
    st->have = 0;
    int64_t slot_ns;
    if (!sp_an_venue_is_throttled(st->venue, &slot_ns)) {
        st->acc.counted += st->events;
        return SP_OK;
    }
    st->acc.observed += st->events;
    if (slot_ns % SP_STORE_LIQ_SLOT_NS != 0 || MINUTE_NS % slot_ns != 0)
        return SP_ERANGE; /* a slot the roll-up's 500 ms bitmap cannot express */
    uint64_t k = occupied(st->bits, (uint64_t)(slot_ns / SP_STORE_LIQ_SLOT_NS));
    return tacc_cell(&st->acc, k, st->events, (uint64_t)(MINUTE_NS / slot_ns));
}

static sp_err on_minute(void *ctx, const sp_store_liq_minute *r, const char *symbol)
{
    rstate *st = ctx;
    if (r->bad != 0)
        return SP_EOVERFLOW; /* the event path fails on the same events */
    /* the symbol, by name */
    uint32_t tid = 0;
    if (r->symbol_id != 0 && symbol[0] != '\0') {
        sp_err rc = sp_symtab_intern(st->tmp, symbol, strlen(symbol), &tid);
        if (rc != SP_OK)
            return rc;
        if (tid >= st->capsym) {
            size_t ncap = st->capsym ? st->capsym * 2 : 64;
            while (ncap <= tid)
                ncap *= 2;
            rsym *ns = sp_reallocarray(st->sym, ncap, sizeof(*ns));
            if (ns == NULL)
                return SP_ENOMEM;
            memset(ns + st->capsym, 0, (ncap - st->capsym) * sizeof(*ns));
            st->sym = ns;
            st->capsym = ncap;
        }
        rsym *y = &st->sym[tid];
        if (y->store_id == 0 || r->first_ns < y->first_ns)
            y->first_ns = r->first_ns;
        y->store_id = r->symbol_id;
    }
    /* the estimator's cell: (minute, venue, symbol), both sides */
    if (st->have &&
        (st->minute != r->minute || st->venue != r->venue || st->store_sym != r->symbol_id)) {
        sp_err rc = flush_cell(st);
        if (rc != SP_OK)
            return rc;
    }
    if (!st->have) {
        st->have = 1;
        st->minute = r->minute;
        st->venue = r->venue;
        st->store_sym = r->symbol_id;
        st->events = 0;
        st->bits[0] = st->bits[1] = 0;
    }
    st->events += r->count;
    st->bits[0] |= r->slots[0];
    st->bits[1] |= r->slots[1];
    /* the group and the totals */
    bool lng = r->sell != 0;
    sp_err rc = SP_OK;
    sp_an_liq_group *g = group_get(&st->ga, r->venue, tid, lng, &rc);
    if (g == NULL)
        return rc;
    if (sp_add_checked(g->notional, r->notional, &g->notional) != SP_OK ||
        total_add(&st->t, lng, r->count, r->notional) != SP_OK)
        return SP_EOVERFLOW;
    if (g->count == 0 || r->largest > g->largest ||
        (r->largest == g->largest && r->largest_ns < g->largest_ns)) {
        g->largest = r->largest;
        g->largest_ns = r->largest_ns;
    }
    g->count += r->count;
    sp_an_liq_total *t = &st->t;
    /* the event order: time, then store symbol id, then venue */
    if (t->count == r->count || r->largest > t->largest ||
        (r->largest == t->largest &&
         (r->largest_ns < t->largest_ns ||
          (r->largest_ns == t->largest_ns &&
           (r->symbol_id < st->t_store_sym ||
            (r->symbol_id == st->t_store_sym && r->venue < t->largest_venue)))))) {
        t->largest = r->largest;
        t->largest_ns = r->largest_ns;
        t->largest_symbol_id = tid;
        t->largest_venue = r->venue;
        st->t_store_sym = r->symbol_id;
    }
    return SP_OK;
}

/* A symbol in the order of interning: first event time, then store id. */
typedef struct sym_ord {
    int64_t first_ns;
    uint32_t store_id;
    uint32_t tid;
} sym_ord;

static int cmp_sym(const void *pa, const void *pb)
{
    const sym_ord *a = pa, *b = pb;
    if (a->first_ns != b->first_ns)
        return a->first_ns < b->first_ns ? -1 : 1;
    return a->store_id < b->store_id ? -1 : (a->store_id > b->store_id);
}

/* Intern the met symbols into syms in the event path's order; set out_id. */
static sp_err intern_in_order(rstate *st, sp_symtab *syms)
{
    uint32_t n = sp_symtab_count(st->tmp);
    if (n == 0)
        return SP_OK;
    sym_ord *ord = sp_calloc(n, sizeof(*ord));
    if (ord == NULL)
        return SP_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        ord[i].first_ns = st->sym[i + 1].first_ns;
        ord[i].store_id = st->sym[i + 1].store_id;
        ord[i].tid = i + 1;
    }
    qsort(ord, n, sizeof(*ord), cmp_sym);
    sp_err rc = SP_OK;
    for (uint32_t i = 0; i < n && rc == SP_OK; i++) {
        const char *name = sp_symtab_name(st->tmp, ord[i].tid);
        rc = sp_symtab_intern(syms, name, strlen(name), &st->sym[ord[i].tid].out_id);
    }
    sp_free(ord);
    return rc;
}

sp_err sp_an_liq_from_rollups(sp_store *s, int64_t from_ns, int64_t to_ns, sp_symtab *syms,
                              sp_an_liq_group *groups, size_t cap, size_t *n_groups,
                              sp_an_liq_total *total, sp_an_traders *traders, sp_diag *d)
{
    *n_groups = 0;
    if (syms == NULL || from_ns % MINUTE_NS != 0 || to_ns % MINUTE_NS != 0)
        return sp_diag_set(d, SP_EINVAL,
                           "analytics: the roll-up window must be whole UTC minutes "
                           "(read events for other windows)");
    rstate *st = sp_calloc(1, sizeof(*st));
    if (st == NULL)
        return sp_diag_set(d, SP_ENOMEM, "analytics: out of memory");
    groups_init(&st->ga, groups, cap);
    sp_err rc = sp_symtab_new(&st->tmp);
    if (rc == SP_OK && from_ns < to_ns) {
        sp_store_filter f;
        memset(&f, 0, sizeof(f));
        f.kind = SP_EV_LIQUIDATION;
        f.has_from = f.has_to = 1;
        f.from_ns = from_ns;
        f.to_ns = to_ns;
        rc = sp_store_liq_minutes(s, &f, on_minute, st, d);
    }
    if (rc == SP_OK)
        rc = flush_cell(st);
    if (rc == SP_OK)
        rc = intern_in_order(st, syms);
    if (rc != SP_OK) {
        groups_abort(&st->ga);
        if (d != NULL && d->code == SP_OK)
            sp_diag_set(d, rc, "analytics: liquidation roll-ups: %s", sp_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < st->ga.n; i++)
        st->ga.g[i].symbol_id =
            st->sym && st->ga.g[i].symbol_id != 0 ? st->sym[st->ga.g[i].symbol_id].out_id : 0;
    if (st->t.count > 0 && st->t.largest_symbol_id != 0)
        st->t.largest_symbol_id = st->sym[st->t.largest_symbol_id].out_id;
    rc = groups_finish(&st->ga, n_groups);
    *total = st->t;
    tacc_finish(&st->acc, traders);
out:
    sp_symtab_free(st->tmp);
    sp_free(st->sym);
    sp_free(st);
    return rc;
}
