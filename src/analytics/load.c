/*
 * load.c -- from the store to the arrays the metrics take: events copied
 * out of an sp_store query (with their own symbol table), kline bars of
 * one symbol and interval, and points of one external daily series.
 *
 * The store returns events in (exch_ts, symbol, venue, sub, key) order, so
 * the arrays come out sorted by time; bars are additionally de-duplicated
 * on their open time (the same bar decoded from two files counts once).
 */
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics_int.h"
#include "stampede/alloc.h"

void sp_an_events_init(sp_an_events *e)
{
    memset(e, 0, sizeof(*e));
}

void sp_an_events_fini(sp_an_events *e)
{
    sp_free(e->ev);
    sp_symtab_free(e->syms);
    memset(e, 0, sizeof(*e));
}

static sp_err on_row(void *ctx, const sp_event *ev, const char *symbol)
{
    sp_an_events *e = ctx;
    if (e->n == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 1024;
        if (ncap > SP_AN_LOAD_MAX)
            ncap = SP_AN_LOAD_MAX;
        if (e->n >= ncap)
            return SP_ETOOBIG;
        sp_event *nv = sp_reallocarray(e->ev, ncap, sizeof(*nv));
        if (nv == NULL)
            return SP_ENOMEM;
        e->ev = nv;
        e->cap = ncap;
    }
    sp_event c = *ev;
    c.symbol_id = 0;
    if (symbol != NULL && symbol[0] != '\0') {
        sp_err rc = sp_symtab_intern(e->syms, symbol, strlen(symbol), &c.symbol_id);
        if (rc != SP_OK)
            return rc;
    }
    e->ev[e->n++] = c;
    return SP_OK;
}

sp_err sp_an_load(sp_store *s, const sp_store_filter *f, sp_an_events *e, sp_diag *d)
{
    if (e->syms == NULL) {
        sp_err rc = sp_symtab_new(&e->syms);
        if (rc != SP_OK)
            return sp_diag_set(d, rc, "analytics: cannot create a symbol table");
    }
    sp_err rc = sp_store_query(s, f, on_row, e, d);
    if (rc == SP_ETOOBIG)
        sp_diag_set(d, rc, "analytics: more than %u events selected", (unsigned)SP_AN_LOAD_MAX);
    else if (rc == SP_ENOMEM)
        sp_diag_set(d, rc, "analytics: out of memory loading events");
    return rc;
}

static int cmp_bar(const void *pa, const void *pb)
{
    const sp_an_bar *a = pa, *b = pb;
    return a->open_ns < b->open_ns ? -1 : (a->open_ns > b->open_ns ? 1 : 0);
}

sp_err sp_an_bars_from(const sp_an_events *e, unsigned venue, const char *symbol, unsigned interval,
                       sp_an_bar **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    uint32_t sid = e->syms ? sp_symtab_find(e->syms, symbol, strlen(symbol)) : 0;
    int64_t secs = sp_kline_interval_secs(interval);
    if (sid == 0 || secs == 0)
        return SP_ENOTFOUND;
    size_t m = 0;
    for (size_t i = 0; i < e->n; i++) {
        const sp_event *v = &e->ev[i];
        if (v->kind == SP_EV_KLINE && v->sub == interval && v->symbol_id == sid &&
            (venue == 0 || v->venue == venue))
            m++;
    }
    if (m == 0)
        return SP_ENOTFOUND;
    sp_an_bar *b = sp_calloc(m, sizeof(*b));
    if (b == NULL)
        return SP_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++) {
        const sp_event *v = &e->ev[i];
        if (!(v->kind == SP_EV_KLINE && v->sub == interval && v->symbol_id == sid &&
              (venue == 0 || v->venue == venue)))
            continue;
        b[k].open_ns = v->exch_ts_ns;
        b[k].close_ns = v->exch_ts_ns + secs * SP_AN_NS_PER_SEC;
        b[k].open = v->aux[0];
        b[k].high = v->aux[1];
        b[k].low = v->aux[2];
        b[k].close = v->px;
        b[k].volume = v->qty;
        k++;
    }
    qsort(b, k, sizeof(*b), cmp_bar);
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        if (w > 0 && b[w - 1].open_ns == b[i].open_ns)
            continue;
        b[w++] = b[i];
    }
    *out = b;
    *n = w;
    return SP_OK;
}

sp_err sp_an_points_from(const sp_an_events *e, unsigned sub, const char *symbol, sp_an_series *out)
{
    uint32_t sid = e->syms ? sp_symtab_find(e->syms, symbol, strlen(symbol)) : 0;
    if (sid == 0)
        return SP_ENOTFOUND;
    size_t before = out->n;
    for (size_t i = 0; i < e->n; i++) {
        const sp_event *v = &e->ev[i];
        if (v->kind != SP_EV_SERIES || v->sub != sub || v->symbol_id != sid)
            continue;
        sp_err rc = sp_an_series_push(out, v->exch_ts_ns, sp__an_px(v->px));
        if (rc != SP_OK)
            return rc;
    }
    return out->n > before ? SP_OK : SP_ENOTFOUND;
}
