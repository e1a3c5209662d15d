/*
 * bybit_v5.c -- Bybit v5 public WebSocket frames -> sp_event.
 *
 * Hot decoder on the zero-allocation scanner of json.c (same reasoning
 * and numbers as binance_ws.c).  Topics, per Bybit's v5 "WebSocket
 * Stream / Public" pages:
 *   orderbook.{depth}.{symbol}  snapshot -> BOOK_LEVEL (SNAPSHOT flag),
 *                               delta -> DEPTH_UPDATE; aux0 = u (update
 *                               id), aux2 = seq (cross sequence); levels
 *                               with size "0" are deletions
 *   publicTrade.{symbol}        TRADE; S is the taker side; aux0 = seq,
 *                               aux1 = sp_id_hash63 of the trade id `i`
 *   tickers.{symbol}            merged with the context's per-symbol state
 *                               (deltas carry only changed fields) ->
 *                               TICKER / MARK / OPEN_INTEREST / FUNDING
 *   kline.{interval}.{symbol}   KLINE (confirm -> CLOSED)
 *   allLiquidation.{symbol}     LIQUIDATION.  Side trap (data/PROVENANCE.md
 *   liquidation.{symbol}        "Format notes"; docs/specs/exchange-rules.md):
 *                               Bybit's S is the side of the LIQUIDATED
 *                               POSITION, "Buy" = a long was liquidated, so
 *                               the forced order sells: SP_EVF_SELL.  This
 *                               is the opposite of Binance's order side.
 * Unknown topics are SP_EUNKNOWN_KIND; {"op":...} replies produce nothing.
 */
#include <string.h>

#include "feed/feed_int.h"
#include "stampede/alloc.h"
#include "stampede/fixed.h"
#include "stampede/hash.h"
#include "stampede/limits.h"

/* Symbols whose ticker state one context keeps. */
#define TICK_MAX 256

typedef struct tick {
    uint32_t sym;
    int64_t v[11]; /* see the TV_* indexes */
    bool have[11];
} tick;

enum {
    TV_BID,
    TV_BIDQ,
    TV_ASK,
    TV_ASKQ,
    TV_LAST,
    TV_MARK,
    TV_INDEX,
    TV_OI,
    TV_OIV,
    TV_FUND,
    TV_NEXTFT,
    TV_N_
};

struct sp_feed_bybit {
    bool spot;
    size_t ntick;
    tick ticks[TICK_MAX];
};

sp_err sp_feed_bybit_new(bool spot, sp_feed_bybit **out)
{
    sp_feed_bybit *c = sp_calloc(1, sizeof(*c));
    if (c == NULL)
        return SP_ENOMEM;
    c->spot = spot;
    *out = c;
    return SP_OK;
}

void sp_feed_bybit_free(sp_feed_bybit *ctx)
{
    sp_free(ctx);
}

typedef sp__out out_cur;

static sp_event *next_ev(sp__js *s, out_cur *o)
{
    return sp__next_ev(s, o, SP_VENUE_BYBIT);
}

static sp_err ts_of(sp__js *s, const sp__jsobj *o, const char *key, int64_t *ns)
{
    int64_t ms;
    sp_err rc = sp__js_int(s, o, key, &ms);
    if (rc != SP_OK)
        return rc;
    if (ms < 0 || sp__feed_ms_to_ns(ms, ns) != SP_OK)
        return sp__js_fail(s, sp__js_get(o, key)->v, key, SP_ERANGE, "timestamp out of range");
    return SP_OK;
}

/* Intern a symbol, prefixed "spot:" on a spot connection. */
static sp_err intern(sp__js *s, const sp_feed_bybit *c, sp_symtab *syms, const char *p, size_t n,
                     const char *field, uint32_t *id)
{
    if (!c->spot)
        return sp__feed_intern(s, syms, p, n, field, id);
    char name[SP_SYMBOL_MAX + 1];
    if (n + 5 > SP_SYMBOL_MAX)
        return sp__js_fail(s, p, field, SP_EINVAL, "symbol too long");
    memcpy(name, "spot:", 5);
    memcpy(name + 5, p, n);
    sp_err rc = sp_symtab_intern(syms, name, n + 5, id);
    if (rc != SP_OK) /* positions must point into the message, not at name[] */
        return sp__js_fail(s, p, field, rc, "bad symbol \"%.*s\"", (int)(n > 40 ? 40 : n), p);
    return SP_OK;
}

static sp_err sym_field(sp__js *s, const sp_feed_bybit *c, const sp__jsobj *o, const char *key,
                        sp_symtab *syms, uint32_t *id)
{
    const char *p;
    size_t n;
    sp_err rc = sp__js_str(s, o, key, &p, &n);
    if (rc != SP_OK)
        return rc;
    return intern(s, c, syms, p, n, key, id);
}

static sp_err dec_book(sp__js *s, sp_feed_bybit *c, const sp__jsobj *top, bool snap,
                       sp_symtab *syms, int64_t lts, out_cur *out)
{
    const sp__jsf *df = sp__js_get(top, "data");
    if (df == NULL || df->type != JS_OBJ)
        return sp__js_fail(s, df ? df->v : s->base, "data", df ? SP_EPARSE : SP_ENOTFOUND,
                           "\"data\" must be an object");
    sp__js in;
    sp__jsobj d;
    sp__js_obj_init(&d);
    sp__js_sub(s, df, &in);
    sp_err rc = sp__js_obj(&in, &d);
    if (rc != SP_OK)
        return rc;
    sp__level_ctx lc = {s, out, {0}};
    int64_t ts, u, seq;
    /* cts (matching-engine time) when present, else the push time ts */
    if (sp__js_get(top, "cts") != NULL)
        rc = ts_of(s, top, "cts", &ts);
    else
        rc = ts_of(s, top, "ts", &ts);
    if (rc != SP_OK || (rc = sym_field(s, c, &d, "s", syms, &lc.tmpl.symbol_id)) != SP_OK ||
        (rc = sp__js_int(s, &d, "u", &u)) != SP_OK ||
        (rc = sp__js_int(s, &d, "seq", &seq)) != SP_OK)
        return rc;
    const sp__jsf *b = sp__js_get(&d, "b"), *a = sp__js_get(&d, "a");
    if (b == NULL || a == NULL)
        return sp__js_fail(s, df->v, b ? "a" : "b", SP_ENOTFOUND, "missing field \"%s\"",
                           b ? "a" : "b");
    lc.tmpl.kind = snap ? SP_EV_BOOK_LEVEL : SP_EV_DEPTH_UPDATE;
    lc.tmpl.venue = SP_VENUE_BYBIT;
    lc.tmpl.flags = snap ? SP_EVF_SNAPSHOT : 0;
    lc.tmpl.exch_ts_ns = ts;
    lc.tmpl.local_ts_ns = lts;
    lc.tmpl.aux[0] = u;
    lc.tmpl.aux[1] = snap ? 0 : u;
    lc.tmpl.aux[2] = seq;
    if ((rc = sp__js_levels(s, b, "b", sp__put_level, &lc)) != SP_OK)
        return rc;
    lc.tmpl.flags = (uint8_t)(lc.tmpl.flags | SP_EVF_SELL);
    return sp__js_levels(s, a, "a", sp__put_level, &lc);
}

/* Iterate the objects of an array span, calling fn on each. */
typedef sp_err (*obj_fn)(sp__js *s, sp_feed_bybit *c, const sp__jsobj *o, sp_symtab *syms,
                         int64_t lts, out_cur *out, const void *extra);

static sp_err each_obj(sp__js *s, const sp__jsf *arr, sp_feed_bybit *c, sp_symtab *syms,
                       int64_t lts, out_cur *out, obj_fn fn, const void *extra)
{
    if (arr == NULL || arr->type != JS_ARR)
        return sp__js_fail(s, arr ? arr->v : s->base, "data", arr ? SP_EPARSE : SP_ENOTFOUND,
                           "\"data\" must be an array");
    sp__js in;
    sp__js_sub(s, arr, &in);
    in.p++;
    for (;;) {
        sp__js_ws(&in);
        if (*in.p == ']')
            return SP_OK;
        if (*in.p == ',') {
            in.p++;
            continue;
        }
        sp__jsobj o;
        sp__js_obj_init(&o);
        sp_err rc = sp__js_obj(&in, &o);
        if (rc == SP_OK)
            rc = fn(s, c, &o, syms, lts, out, extra);
        if (rc != SP_OK)
            return rc;
    }
}

static sp_err side_of(sp__js *s, const sp__jsobj *o, bool *sell)
{
    const char *p;
    size_t n;
    sp_err rc = sp__js_str(s, o, "S", &p, &n);
    if (rc != SP_OK)
        return rc;
    if (n == 4 && memcmp(p, "Sell", 4) == 0)
        *sell = true;
    else if (n == 3 && memcmp(p, "Buy", 3) == 0)
        *sell = false;
    else
        return sp__js_fail(s, p, "S", SP_EPARSE, "side must be Buy or Sell");
    return SP_OK;
}

static sp_err one_trade(sp__js *s, sp_feed_bybit *c, const sp__jsobj *o, sp_symtab *syms,
                        int64_t lts, out_cur *out, const void *extra)
{
    (void)extra;
    uint32_t sym;
    int64_t ts, px, qty, seq = 0;
    bool sell;
    const char *id;
    size_t idn;
    sp_err rc;
    if ((rc = sym_field(s, c, o, "s", syms, &sym)) != SP_OK ||
        (rc = ts_of(s, o, "T", &ts)) != SP_OK || (rc = side_of(s, o, &sell)) != SP_OK ||
        (rc = sp__js_dec(s, o, "p", SP_EV_PX_SCALE, &px)) != SP_OK ||
        (rc = sp__js_dec(s, o, "v", SP_EV_QTY_SCALE, &qty)) != SP_OK ||
        (rc = sp__js_str(s, o, "i", &id, &idn)) != SP_OK)
        return rc;
    if (sp__js_get(o, "seq") != NULL && (rc = sp__js_int(s, o, "seq", &seq)) != SP_OK)
        return rc;
    sp_event *e = next_ev(s, out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_TRADE;
    e->flags = sell ? SP_EVF_SELL : 0;
    e->symbol_id = sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = lts;
    e->px = px;
    e->qty = qty;
    e->aux[0] = seq;
    /* The fills of one taker order share seq, T, price and side: only the
     * trade id `i` (a UUID) tells them apart, so its hash keys the event. */
    e->aux[1] = sp_id_hash63(id, idn);
    return SP_OK;
}

static sp_err one_liq(sp__js *s, sp_feed_bybit *c, const sp__jsobj *o, sp_symtab *syms, int64_t lts,
                      out_cur *out, const void *extra)
{
    (void)extra;
    uint32_t sym;
    int64_t ts, px, qty, notional;
    bool buy_pos_side_sell;
    sp_err rc;
    if ((rc = sym_field(s, c, o, "s", syms, &sym)) != SP_OK ||
        (rc = ts_of(s, o, "T", &ts)) != SP_OK ||
        (rc = side_of(s, o, &buy_pos_side_sell)) != SP_OK ||
        (rc = sp__js_dec(s, o, "p", SP_EV_PX_SCALE, &px)) != SP_OK ||
        (rc = sp__js_dec(s, o, "v", SP_EV_QTY_SCALE, &qty)) != SP_OK)
        return rc;
    /* the trap: S is the liquidated position's side; "Buy" (a long) => forced SELL */
    bool forced_sell = !buy_pos_side_sell;
    if (sp_mul_div(px, qty, sp_pow10(SP_EV_QTY_SCALE), SP_RND_HALF_EVEN, &notional) != SP_OK)
        return sp__js_fail(s, s->base, "v", SP_EOVERFLOW, "notional past int64");
    sp_event *e = next_ev(s, out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_LIQUIDATION;
    e->flags = forced_sell ? SP_EVF_SELL : 0;
    e->symbol_id = sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = lts;
    e->px = px;
    e->qty = qty;
    e->aux[0] = px; /* Bybit prints the bankruptcy price only: average = price */
    e->aux[1] = qty;
    e->aux[2] = notional;
    return SP_OK;
}

static sp_err one_kline(sp__js *s, sp_feed_bybit *c, const sp__jsobj *o, sp_symtab *syms,
                        int64_t lts, out_cur *out, const void *extra)
{
    (void)c;
    (void)syms;
    const uint32_t *sym = extra;
    int64_t ts, op, hi, lo, cl, vol;
    bool closed;
    const char *iv;
    size_t ivn;
    sp_err rc;
    if ((rc = ts_of(s, o, "start", &ts)) != SP_OK ||
        (rc = sp__js_str(s, o, "interval", &iv, &ivn)) != SP_OK ||
        (rc = sp__js_dec(s, o, "open", SP_EV_PX_SCALE, &op)) != SP_OK ||
        (rc = sp__js_dec(s, o, "high", SP_EV_PX_SCALE, &hi)) != SP_OK ||
        (rc = sp__js_dec(s, o, "low", SP_EV_PX_SCALE, &lo)) != SP_OK ||
        (rc = sp__js_dec(s, o, "close", SP_EV_PX_SCALE, &cl)) != SP_OK ||
        (rc = sp__js_dec(s, o, "volume", SP_EV_QTY_SCALE, &vol)) != SP_OK ||
        (rc = sp__js_bool(s, o, "confirm", &closed)) != SP_OK)
        return rc;
    unsigned code = sp__feed_interval_bybit(iv, ivn);
    if (code == 0)
        return sp__js_fail(s, iv, "interval", SP_EUNKNOWN_KIND, "unknown interval");
    sp_event *e = next_ev(s, out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_KLINE;
    e->sub = (uint8_t)code;
    e->flags = closed ? SP_EVF_CLOSED : 0;
    e->symbol_id = sym[0];
    e->exch_ts_ns = ts;
    e->local_ts_ns = lts;
    e->px = cl;
    e->qty = vol;
    e->aux[0] = op;
    e->aux[1] = hi;
    e->aux[2] = lo;
    return SP_OK;
}

static tick *tick_for(sp_feed_bybit *c, uint32_t sym, bool create)
{
    for (size_t i = 0; i < c->ntick; i++) {
        if (c->ticks[i].sym == sym)
            return &c->ticks[i];
    }
    if (!create || c->ntick == TICK_MAX)
        return NULL;
    tick *t = &c->ticks[c->ntick++];
    memset(t, 0, sizeof(*t));
    t->sym = sym;
    return t;
}

/* The next output event of a ticker group: kind, symbol and both times set. */
static sp_event *ticker_ev(sp__js *s, out_cur *out, uint8_t kind, uint32_t sym, int64_t ts,
                           int64_t lts)
{
    sp_event *e = next_ev(s, out);
    if (e != NULL) {
        e->kind = kind;
        e->symbol_id = sym;
        e->exch_ts_ns = ts;
        e->local_ts_ns = lts;
    }
    return e;
}

static sp_err dec_tickers(sp__js *s, sp_feed_bybit *c, const sp__jsobj *top, bool snap,
                          sp_symtab *syms, int64_t lts, out_cur *out)
{
    static const struct {
        const char *key;
        int idx;
        unsigned scale;
    } fields[] = {
        {"bid1Price", TV_BID, SP_EV_PX_SCALE},         {"bid1Size", TV_BIDQ, SP_EV_QTY_SCALE},
        {"ask1Price", TV_ASK, SP_EV_PX_SCALE},         {"ask1Size", TV_ASKQ, SP_EV_QTY_SCALE},
        {"lastPrice", TV_LAST, SP_EV_PX_SCALE},        {"markPrice", TV_MARK, SP_EV_PX_SCALE},
        {"indexPrice", TV_INDEX, SP_EV_PX_SCALE},      {"openInterest", TV_OI, SP_EV_QTY_SCALE},
        {"openInterestValue", TV_OIV, SP_EV_PX_SCALE}, {"fundingRate", TV_FUND, SP_EV_RATE_SCALE},
    };
    const sp__jsf *df = sp__js_get(top, "data");
    if (df == NULL || df->type != JS_OBJ)
        return sp__js_fail(s, df ? df->v : s->base, "data", df ? SP_EPARSE : SP_ENOTFOUND,
                           "\"data\" must be an object");
    sp__js in;
    sp__jsobj d;
    sp__js_obj_init(&d);
    sp__js_sub(s, df, &in);
    sp_err rc = sp__js_obj(&in, &d);
    uint32_t sym;
    int64_t ts;
    if (rc != SP_OK || (rc = sym_field(s, c, &d, "symbol", syms, &sym)) != SP_OK ||
        (rc = ts_of(s, top, "ts", &ts)) != SP_OK)
        return rc;
    tick *t = tick_for(c, sym, snap);
    if (t == NULL)
        return sp__js_fail(s, s->base, "type", snap ? SP_ETOOBIG : SP_ESTATE,
                           snap ? "too many ticker symbols" : "tickers delta before a snapshot");
    int64_t v[TV_N_];
    bool got[TV_N_] = {false};
    for (size_t i = 0; i < SP_COUNTOF(fields); i++) {
        const sp__jsf *f = sp__js_get(&d, fields[i].key);
        if (f == NULL)
            continue;
        if (f->type != JS_STR)
            return sp__js_fail(s, f->v, fields[i].key, SP_EPARSE, "expected a decimal string");
        if (f->vn == 0)
            continue; /* "" = not applicable (e.g. no funding on a dated future) */
        if ((rc = sp__js_dec_span(s, f->v, f->vn, fields[i].key, fields[i].scale,
                                  &v[fields[i].idx])) != SP_OK)
            return rc;
        got[fields[i].idx] = true;
    }
    const sp__jsf *nf = sp__js_get(&d, "nextFundingTime");
    if (nf != NULL && nf->vn > 0) {
        if (nf->type != JS_STR)
            return sp__js_fail(s, nf->v, "nextFundingTime", SP_EPARSE, "expected a string");
        if ((rc = sp__js_int_span(s, nf->v, nf->vn, "nextFundingTime", &v[TV_NEXTFT])) != SP_OK)
            return rc;
        got[TV_NEXTFT] = true;
    }
    /* all values parsed: merge, then emit the groups that changed */
    if (snap)
        memset(t->have, 0, sizeof(t->have));
    for (int i = 0; i < TV_N_; i++) {
        if (got[i]) {
            t->v[i] = v[i];
            t->have[i] = true;
        }
    }
    bool book = got[TV_BID] || got[TV_BIDQ] || got[TV_ASK] || got[TV_ASKQ];
    sp_event *e;
    if (book && t->have[TV_BID] && t->have[TV_ASK] && t->have[TV_BIDQ] && t->have[TV_ASKQ]) {
        if ((e = ticker_ev(s, out, SP_EV_TICKER, sym, ts, lts)) == NULL)
            return SP_ETOOBIG;
        e->px = t->v[TV_BID];
        e->qty = t->v[TV_BIDQ];
        e->aux[0] = t->v[TV_ASK];
        e->aux[1] = t->v[TV_ASKQ];
        e->aux[2] = t->have[TV_LAST] ? t->v[TV_LAST] : 0;
    }
    if ((got[TV_MARK] || got[TV_INDEX]) && t->have[TV_MARK]) {
        if ((e = ticker_ev(s, out, SP_EV_MARK, sym, ts, lts)) == NULL)
            return SP_ETOOBIG;
        e->px = t->v[TV_MARK];
        e->aux[0] = t->have[TV_INDEX] ? t->v[TV_INDEX] : 0;
        e->aux[2] = t->have[TV_FUND] ? t->v[TV_FUND] : 0;
    }
    if ((got[TV_OI] || got[TV_OIV]) && t->have[TV_OI]) {
        if ((e = ticker_ev(s, out, SP_EV_OPEN_INTEREST, sym, ts, lts)) == NULL)
            return SP_ETOOBIG;
        e->qty = t->v[TV_OI];
        e->aux[0] = t->have[TV_OIV] ? t->v[TV_OIV] : 0;
    }
    if ((got[TV_FUND] || got[TV_NEXTFT]) && t->have[TV_FUND]) {
        if ((e = ticker_ev(s, out, SP_EV_FUNDING, sym, ts, lts)) == NULL)
            return SP_ETOOBIG;
        e->px = t->v[TV_FUND];
        e->aux[0] = t->have[TV_MARK] ? t->v[TV_MARK] : 0;
        e->aux[2] = t->have[TV_NEXTFT] ? t->v[TV_NEXTFT] : 0;
    }
    return SP_OK;
}

/* The symbol after the last '.' of a topic. */
static sp_err topic_sym(sp__js *s, sp_feed_bybit *c, const char *tp, size_t tn, sp_symtab *syms,
                        uint32_t *id)
{
    size_t i = tn;
    while (i > 0 && tp[i - 1] != '.')
        i--;
    if (i == 0 || i == tn)
        return sp__js_fail(s, tp, "topic", SP_EPARSE, "topic without a symbol");
    return intern(s, c, syms, tp + i, tn - i, "topic", id);
}

sp_err sp_feed_bybit_v5(sp_feed_bybit *ctx, const char *msg, size_t n, int64_t local_ts_ns,
                        sp_symtab *syms, sp_event *out, size_t cap, size_t *n_out, sp_diag *d)
{
    *n_out = 0;
    if (ctx == NULL)
        return sp_diag_set(d, SP_EINVAL, "a sp_feed_bybit context is required");
    if (n > SP_MSG_MAX)
        return sp_diag_set(d, SP_ETOOBIG, "message of %zu bytes is longer than %u", n,
                           (unsigned)SP_MSG_MAX);
    sp__js s;
    sp__js_init(&s, msg, n, d);
    sp__jsobj o;
    sp__js_obj_init(&o);
    sp_err rc = sp__js_obj(&s, &o);
    if (rc == SP_OK)
        rc = sp__js_end(&s);
    if (rc != SP_OK)
        return rc;
    out_cur oc = {out, cap, 0};
    const char *tp;
    size_t tn;
    if (sp__js_get(&o, "topic") == NULL) {
        if (sp__js_get(&o, "op") != NULL)
            return SP_OK; /* subscribe / pong reply */
        return sp__js_fail(&s, msg, "topic", SP_EUNKNOWN_KIND, "neither a topic frame nor a reply");
    }
    if ((rc = sp__js_str(&s, &o, "topic", &tp, &tn)) != SP_OK)
        return rc;
    bool snap = false;
    const sp__jsf *ty = sp__js_get(&o, "type");
    if (ty != NULL) {
        if (ty->type != JS_STR)
            return sp__js_fail(&s, ty->v, "type", SP_EPARSE, "expected a string");
        if (ty->vn == 8 && memcmp(ty->v, "snapshot", 8) == 0)
            snap = true;
        else if (!(ty->vn == 5 && memcmp(ty->v, "delta", 5) == 0))
            return sp__js_fail(&s, ty->v, "type", SP_EUNKNOWN_KIND, "unknown type");
    }
#define TOPIC(lit) (tn > sizeof(lit) - 1 && memcmp(tp, lit, sizeof(lit) - 1) == 0)
    if (TOPIC("orderbook.")) {
        if (ty == NULL)
            return sp__js_fail(&s, msg, "type", SP_ENOTFOUND, "missing field \"type\"");
        rc = dec_book(&s, ctx, &o, snap, syms, local_ts_ns, &oc);
    } else if (TOPIC("publicTrade.")) {
        rc = each_obj(&s, sp__js_get(&o, "data"), ctx, syms, local_ts_ns, &oc, one_trade, NULL);
    } else if (TOPIC("allLiquidation.") || TOPIC("liquidation.")) {
        const sp__jsf *df = sp__js_get(&o, "data");
        if (df != NULL && df->type == JS_OBJ) { /* the older single-object form */
            sp__js in;
            sp__jsobj one;
            sp__js_obj_init(&one);
            sp__js_sub(&s, df, &in);
            rc = sp__js_obj(&in, &one);
            if (rc == SP_OK)
                rc = one_liq(&s, ctx, &one, syms, local_ts_ns, &oc, NULL);
        } else {
            rc = each_obj(&s, df, ctx, syms, local_ts_ns, &oc, one_liq, NULL);
        }
    } else if (TOPIC("tickers.")) {
        if (ty == NULL)
            return sp__js_fail(&s, msg, "type", SP_ENOTFOUND, "missing field \"type\"");
        rc = dec_tickers(&s, ctx, &o, snap, syms, local_ts_ns, &oc);
    } else if (TOPIC("kline.")) {
        uint32_t sym;
        rc = topic_sym(&s, ctx, tp, tn, syms, &sym);
        if (rc == SP_OK)
            rc = each_obj(&s, sp__js_get(&o, "data"), ctx, syms, local_ts_ns, &oc, one_kline, &sym);
    } else {
        rc = sp__js_fail(&s, tp, "topic", SP_EUNKNOWN_KIND, "unknown topic \"%.*s\"",
                         (int)(tn > 40 ? 40 : tn), tp);
    }
#undef TOPIC
    if (rc != SP_OK)
        return rc;
    *n_out = oc.n;
    return SP_OK;
}
