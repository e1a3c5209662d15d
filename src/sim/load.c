/*
 * load.c -- real data into the simulator, through the other modules:
 * klines for entry prices and kline paths (feed: sp_feed_decode_file), and
 * a recorded depth snapshot for the market (feed decodes it into
 * BOOK_LEVEL events, the order book module applies them with
 * sp_book_apply_event -- which also validates the book: no crossed levels
 * -- and the levels are read back with sp_book_depth).  Nothing here
 * parses an exchange format itself.
 */
#include <stdio.h>
#include <string.h>

#include "sim_int.h"
#include "stampede/book.h"
#include "stampede/feed.h"
#include "stampede/symtab.h"

/* A growable event collection with a ceiling. */
typedef struct coll {
    sp_event *ev;
    size_t n, cap, max;
    int64_t from_ns, to_ns; /* kline window */
    int want;               /* 0 klines, 1 snapshot levels */
    uint32_t sym;           /* snapshot symbol id (0 until known) */
    const char *symbol;     /* snapshot symbol name */
    sp_symtab *syms;
    bool have_uid; /* the first snapshot's update id is known */
    int64_t uid;
    bool closed; /* the first snapshot is complete */
    uint64_t rejected;
} coll;

static sp_err push_ev(coll *c, const sp_event *e)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1024;
        if (nc > c->max)
            nc = c->max;
        if (c->n >= nc)
            return SP_ETOOBIG;
        sp_event *p = sp_reallocarray(c->ev, nc, sizeof(*p));
        if (!p)
            return SP_ENOMEM;
        c->ev = p;
        c->cap = nc;
    }
    c->ev[c->n++] = *e;
    return SP_OK;
}

static sp_err on_events(void *ctx, const sp_event *ev, size_t n)
{
    coll *c = ctx;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        sp_err rc = SP_OK;
        if (c->want == 0) {
            if (e->kind == SP_EV_KLINE && e->exch_ts_ns >= c->from_ns && e->exch_ts_ns < c->to_ns)
                rc = push_ev(c, e);
        } else if (!c->closed && e->kind == SP_EV_BOOK_LEVEL && e->sub == 0 &&
                   (e->flags & SP_EVF_SNAPSHOT)) {
            if (!c->sym)
                c->sym = sp_symtab_find(c->syms, c->symbol, strlen(c->symbol));
            if (e->symbol_id != c->sym || !c->sym)
                continue;
            if (!c->have_uid) {
                c->have_uid = true;
                c->uid = e->aux[0];
            } else if (e->aux[0] != c->uid) {
                c->closed = true; /* a second snapshot: keep the first */
                continue;
            }
            rc = push_ev(c, e);
        } else if (c->have_uid && e->symbol_id == c->sym && e->kind != SP_EV_BOOK_LEVEL) {
            c->closed = true; /* the snapshot's levels are followed by other records */
        }
        if (rc != SP_OK)
            return rc;
    }
    return SP_OK;
}

static void on_reject(void *ctx, const sp_diag *why)
{
    (void)why;
    ((coll *)ctx)->rejected++;
}

static sp_err decode(const char *path, coll *c, sp_diag *d)
{
    sp_err rc = sp_symtab_new(&c->syms);
    if (rc != SP_OK)
        return sp_diag_set(d, rc, "symbol table");
    sp_feed_sink sink = {on_events, on_reject, c};
    rc = sp_feed_decode_file(path, NULL, c->syms, &sink, d);
    return rc;
}

/*
 * Klines in [from, to) through the feed decoder.  A kline event carries
 * close, high, low and the base volume; the bar's weight for entry prices
 * is base volume x close (the traded notional, up to intrabar VWAP).
 */
sp_err sp_sim_load_bars(const char *path, int64_t from_ms, int64_t to_ms, sp_sim_bar **out,
                        size_t *n, sp_diag *d)
{
    if (!path || !out || !n || from_ms >= to_ms)
        return sp_diag_set(d, SP_EINVAL, "load bars: path and a window from < to are required");
    coll c;
    memset(&c, 0, sizeof(c));
    c.max = (size_t)1 << 24;
    c.from_ns = from_ms * 1000000;
    c.to_ns = to_ms * 1000000;
    sp_err rc = decode(path, &c, d);
    sp_sim_bar *bars = NULL;
    if (rc != SP_OK)
        goto out_free;
    if (c.n == 0) {
        rc = sp_diag_set(d, SP_EINVAL, "%s: no kline in the requested window", path);
        goto out_free;
    }
    bars = sp_calloc(c.n, sizeof(*bars));
    if (!bars) {
        rc = sp_diag_set(d, SP_ENOMEM, "bars");
        goto out_free;
    }
    for (size_t i = 0; i < c.n; i++) {
        const sp_event *e = &c.ev[i];
        bars[i].open_ms = e->exch_ts_ns / 1000000;
        bars[i].close = e->px;
        bars[i].high = e->aux[1];
        bars[i].low = e->aux[2];
        /* the weight of the bar: base volume x close (kline events carry no quote volume) */
        if (sp_mul_div(e->qty, e->px, SP__SIM_ONE, SP_RND_HALF_EVEN, &bars[i].quote_vol) != SP_OK)
            bars[i].quote_vol = INT64_MAX;
    }
    *out = bars;
    *n = c.n;
    bars = NULL;
out_free:
    sp_free(bars);
    sp_free(c.ev);
    sp_symtab_free(c.syms);
    return rc;
}

/* Copy the levels of one side of b out, best first. */
static sp_err side_out(const sp_book *b, const sp_book_instrument *in, sp_side s,
                       sp_sim_level **out, size_t *n, size_t cap)
{
    sp_book_level *lv = sp_calloc(cap ? cap : 1, sizeof(*lv));
    sp_sim_level *o = sp_calloc(cap ? cap : 1, sizeof(*o));
    if (!lv || !o) {
        sp_free(lv);
        sp_free(o);
        return SP_ENOMEM;
    }
    size_t m = sp_book_depth(b, s, cap, lv);
    for (size_t i = 0; i < m; i++) {
        if (sp_book_px_to_e8(in, lv[i].px, &o[i].px) != SP_OK ||
            sp_book_qty_to_e8(in, lv[i].qty, &o[i].qty) != SP_OK) {
            sp_free(lv);
            sp_free(o);
            return SP_EOVERFLOW;
        }
    }
    sp_free(lv);
    *out = o;
    *n = m;
    return SP_OK;
}

/*
 * The first depth snapshot of symbol: collect its BOOK_LEVEL events (one
 * update id), apply them to an order book -- which rejects a crossed or
 * malformed book -- and read both sides back best first.
 */
sp_err sp_sim_load_snapshot(const char *path, const char *symbol, sp_sim_level **bids,
                            size_t *nbids, sp_sim_level **asks, size_t *nasks, sp_diag *d)
{
    if (!path || !symbol || !bids || !nbids || !asks || !nasks)
        return sp_diag_set(d, SP_EINVAL, "load snapshot: NULL argument");
    coll c;
    memset(&c, 0, sizeof(c));
    c.max = (size_t)1 << 20;
    c.want = 1;
    c.symbol = symbol;
    sp_book *b = NULL;
    sp_err rc = decode(path, &c, d);
    if (rc != SP_OK)
        goto out_free;
    if (c.n == 0) {
        rc = sp_diag_set(d, SP_ENOTFOUND, "%s: no depth snapshot of %s", path, symbol);
        goto out_free;
    }
    /* 0.01 USDT ticks (a multiple of every BTC venue's tick) and 1e-8 lots; the reference
     * book: a one-off load needs no preallocated price window */
    sp_book_instrument in = {1000000, 1};
    sp_book_config cfg = sp_book_config_default();
    cfg.max_orders = (uint32_t)c.n + 16;
    cfg.window_ticks = 1u << 24;
    if ((rc = sp_book_new(SP_BOOK_REF, &cfg, NULL, &b)) != SP_OK) {
        sp_diag_set(d, rc, "order book for the snapshot");
        goto out_free;
    }
    for (size_t i = 0; i < c.n; i++) {
        if ((rc = sp_book_apply_event(b, &in, &c.ev[i], d)) != SP_OK) {
            char why[SP_DIAG_MSG_MAX];
            snprintf(why, sizeof(why), "%s", d ? d->msg : "");
            sp_diag_set(d, rc, "%s: snapshot level %zu: %s", path, i, why);
            goto out_free;
        }
    }
    if ((rc = side_out(b, &in, SP_BUY, bids, nbids, c.n)) != SP_OK ||
        (rc = side_out(b, &in, SP_SELL, asks, nasks, c.n)) != SP_OK) {
        sp_free(*bids);
        *bids = NULL;
        sp_diag_set(d, rc, "snapshot levels");
        goto out_free;
    }
out_free:
    sp_book_free(b);
    sp_free(c.ev);
    sp_symtab_free(c.syms);
    return rc;
}
