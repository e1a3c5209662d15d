/*
 * binance_ws.c -- Binance USD-M futures WebSocket messages -> sp_event.
 *
 * Hot decoder (trades, depth, liquidations, klines): a schema-driven scan
 * with the zero-allocation scanner of json.c, because the JSON libraries
 * cost 6-20x more per message (perf-anchors.md §2: 177 ns for a scanner of
 * this kind vs 1,156 ns cJSON and 3,654 ns jansson per forceOrder; our own
 * numbers are in bench/RESULTS.md, "feed").
 *
 * Accepted shapes: one event object {"e":...}; an array of event objects
 * (!markPrice@arr pushes one array per second); the combined-stream
 * wrapper {"stream":"<name>","data":<object or array>}; and the reply to a
 * SUBSCRIBE request {"result":null,"id":n}, which produces nothing.
 *
 * Event types and their fields follow the Binance USD-M "Websocket Market
 * Streams" pages: aggTrade, trade, depthUpdate (U/u/pu), forceOrder ("o"
 * sub-object; S=SELL means a long was liquidated, docs/specs/exchange-
 * rules.md and data/PROVENANCE.md "Format notes"), markPriceUpdate,
 * bookTicker, kline ("k" sub-object).  Required fields missing, wrong
 * types, too many decimals and unknown event types reject the message as
 * a whole; fields we do not use are validated as JSON and ignored (live
 * captures carry undocumented ones such as "ps" and "st").
 */
#include <string.h>

#include "feed/feed_int.h"
#include "stampede/fixed.h"
#include "stampede/limits.h"

typedef sp__out out_cur;

static sp_event *next_ev(sp__js *s, out_cur *o)
{
    return sp__next_ev(s, o, SP_VENUE_NONE);
}

/* The fields every event object carries: type, symbol, event time. */
typedef struct common {
    uint32_t sym;
    int64_t local_ts;
} common;

static sp_err get_ts(sp__js *s, const sp__jsobj *o, const char *key, int64_t *ns)
{
    int64_t ms;
    sp_err rc = sp__js_int(s, o, key, &ms);
    if (rc != SP_OK)
        return rc;
    if (ms < 0 || sp__feed_ms_to_ns(ms, ns) != SP_OK)
        return sp__js_fail(s, sp__js_get(o, key)->v, key, SP_ERANGE, "timestamp out of range");
    return SP_OK;
}

static sp_err get_sym(sp__js *s, const sp__jsobj *o, const char *key, sp_symtab *syms, uint32_t *id)
{
    const char *p;
    size_t n;
    sp_err rc = sp__js_str(s, o, key, &p, &n);
    if (rc != SP_OK)
        return rc;
    return sp__feed_intern(s, syms, p, n, key, id);
}

/* aggTrade and trade: one TRADE event. */
static sp_err dec_trade(sp__js *s, const sp__jsobj *o, bool agg, sp_symtab *syms, int64_t lts,
                        out_cur *out)
{
    sp_err rc;
    uint32_t sym;
    int64_t ts, px, qty, id, first = 0, last = 0;
    bool maker;
    if ((rc = get_sym(s, o, "s", syms, &sym)) != SP_OK || (rc = get_ts(s, o, "T", &ts)) != SP_OK ||
        (rc = sp__js_dec(s, o, "p", SP_EV_PX_SCALE, &px)) != SP_OK ||
        (rc = sp__js_dec(s, o, "q", SP_EV_QTY_SCALE, &qty)) != SP_OK ||
        (rc = sp__js_bool(s, o, "m", &maker)) != SP_OK)
        return rc;
    if (agg) {
        if ((rc = sp__js_int(s, o, "a", &id)) != SP_OK ||
            (rc = sp__js_int(s, o, "f", &first)) != SP_OK ||
            (rc = sp__js_int(s, o, "l", &last)) != SP_OK)
            return rc;
    } else if ((rc = sp__js_int(s, o, "t", &id)) != SP_OK) {
        return rc;
    }
    if (px < 0 || qty < 0)
        return sp__js_fail(s, s->base, "p", SP_ERANGE, "negative price or quantity");
    sp_event *e = next_ev(s, out);
    if (e == NULL)
        return SP_ETOOBIG;
    sp__binance_trade_ev(e, ts, px, qty, id, first, last, maker);
    e->symbol_id = sym;
    e->local_ts_ns = lts;
    return SP_OK;
}

/* depthUpdate: one DEPTH_UPDATE per level, bids then asks. */
static sp_err dec_depth(sp__js *s, const sp__jsobj *o, sp_symtab *syms, int64_t lts, out_cur *out)
{
    sp_err rc;
    sp__level_ctx c = {s, out, {0}};
    int64_t ts, first, final, prev;
    if ((rc = get_sym(s, o, "s", syms, &c.tmpl.symbol_id)) != SP_OK ||
        (rc = get_ts(s, o, "E", &ts)) != SP_OK || (rc = sp__js_int(s, o, "U", &first)) != SP_OK ||
        (rc = sp__js_int(s, o, "u", &final)) != SP_OK ||
        (rc = sp__js_int(s, o, "pu", &prev)) != SP_OK)
        return rc;
    const sp__jsf *b = sp__js_get(o, "b"), *a = sp__js_get(o, "a");
    if (b == NULL || a == NULL)
        return sp__js_fail(s, s->base, b ? "a" : "b", SP_ENOTFOUND, "missing field \"%s\"",
                           b ? "a" : "b");
    if (sp__js_get(o, "T") != NULL && (rc = get_ts(s, o, "T", &ts)) != SP_OK)
        return rc;
    c.tmpl.kind = SP_EV_DEPTH_UPDATE;
    c.tmpl.venue = SP_VENUE_BINANCE_UM;
    c.tmpl.exch_ts_ns = ts;
    c.tmpl.local_ts_ns = lts;
    c.tmpl.aux[0] = first;
    c.tmpl.aux[1] = final;
    c.tmpl.aux[2] = prev;
    if ((rc = sp__js_levels(s, b, "b", sp__put_level, &c)) != SP_OK)
        return rc;
    c.tmpl.flags = SP_EVF_SELL;
    return sp__js_levels(s, a, "a", sp__put_level, &c);
}

/* forceOrder: one LIQUIDATION event (Binance "Liquidation Order Streams"). */
static sp_err dec_force(sp__js *s, const sp__jsobj *o, sp_symtab *syms, int64_t lts, out_cur *out)
{
    sp__jsobj scratch;
    const sp__jsobj *op;
    sp_err rc = sp__js_nested(s, o, "o", &scratch, &op);
    if (rc != SP_OK)
        return rc;
    uint32_t sym;
    int64_t ts, px, qty, avg, filled;
    const char *side;
    size_t sn;
    if ((rc = get_sym(s, op, "s", syms, &sym)) != SP_OK ||
        (rc = sp__js_str(s, op, "S", &side, &sn)) != SP_OK ||
        (rc = get_ts(s, op, "T", &ts)) != SP_OK ||
        (rc = sp__js_dec(s, op, "p", SP_EV_PX_SCALE, &px)) != SP_OK ||
        (rc = sp__js_dec(s, op, "q", SP_EV_QTY_SCALE, &qty)) != SP_OK ||
        (rc = sp__js_dec(s, op, "ap", SP_EV_PX_SCALE, &avg)) != SP_OK ||
        (rc = sp__js_dec(s, op, "z", SP_EV_QTY_SCALE, &filled)) != SP_OK)
        return rc;
    bool sell;
    if (sn == 4 && memcmp(side, "SELL", 4) == 0)
        sell = true;
    else if (sn == 3 && memcmp(side, "BUY", 3) == 0)
        sell = false;
    else
        return sp__js_fail(s, side, "S", SP_EPARSE, "side must be BUY or SELL");
    if (px < 0 || qty < 0 || avg < 0 || filled < 0)
        return sp__js_fail(s, s->base, "o", SP_ERANGE, "negative price or quantity");
    /* notional = average price x filled qty, both at 1e-8: one product, rounded half-even */
    int64_t notional;
    if (sp_mul_div(avg, filled, sp_pow10(SP_EV_QTY_SCALE), SP_RND_HALF_EVEN, &notional) != SP_OK)
        return sp__js_fail(s, s->base, "z", SP_EOVERFLOW, "notional past int64");
    sp_event *e = next_ev(s, out);
    if (e == NULL)
        return SP_ETOOBIG;
    sp__binance_liq_ev(e, ts, sell, px, qty, avg, filled, notional);
    e->symbol_id = sym;
    e->local_ts_ns = lts;
    return SP_OK;
}

/* markPriceUpdate: one MARK event. */
static sp_err dec_mark(sp__js *s, const sp__jsobj *o, sp_symtab *syms, int64_t lts, out_cur *out)
{
    sp_err rc;
    uint32_t sym;
    int64_t ts, mark, index, settle, rate;
    if ((rc = get_sym(s, o, "s", syms, &sym)) != SP_OK || (rc = get_ts(s, o, "E", &ts)) != SP_OK ||
        (rc = sp__js_dec(s, o, "p", SP_EV_PX_SCALE, &mark)) != SP_OK ||
        (rc = sp__js_dec(s, o, "i", SP_EV_PX_SCALE, &index)) != SP_OK ||
        (rc = sp__js_dec(s, o, "P", SP_EV_PX_SCALE, &settle)) != SP_OK)
        return rc;
    /* "r" is "" for delivery contracts (no funding): rate 0 */
    const sp__jsf *r = sp__js_get(o, "r");
    rate = 0;
    if (r == NULL || r->type != JS_STR)
        return sp__js_fail(s, r ? r->v : s->base, "r", r ? SP_EPARSE : SP_ENOTFOUND,
                           "funding rate \"r\" missing or not a string");
    if (r->vn > 0 && (rc = sp__js_dec_span(s, r->v, r->vn, "r", SP_EV_RATE_SCALE, &rate)) != SP_OK)
        return rc;
    sp_event *e = next_ev(s, out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_MARK;
    e->venue = SP_VENUE_BINANCE_UM;
    e->symbol_id = sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = lts;
    e->px = mark;
    e->aux[0] = index;
    e->aux[1] = settle;
    e->aux[2] = rate;
    return SP_OK;
}

/* bookTicker: one TICKER event (best bid / ask). */
static sp_err dec_book_ticker(sp__js *s, const sp__jsobj *o, sp_symtab *syms, int64_t lts,
                              out_cur *out)
{
    sp_err rc;
    uint32_t sym;
    int64_t ts, bid, bq, ask, aq, uid;
    if ((rc = get_sym(s, o, "s", syms, &sym)) != SP_OK || (rc = get_ts(s, o, "T", &ts)) != SP_OK ||
        (rc = sp__js_int(s, o, "u", &uid)) != SP_OK ||
        (rc = sp__js_dec(s, o, "b", SP_EV_PX_SCALE, &bid)) != SP_OK ||
        (rc = sp__js_dec(s, o, "B", SP_EV_QTY_SCALE, &bq)) != SP_OK ||
        (rc = sp__js_dec(s, o, "a", SP_EV_PX_SCALE, &ask)) != SP_OK ||
        (rc = sp__js_dec(s, o, "A", SP_EV_QTY_SCALE, &aq)) != SP_OK)
        return rc;
    (void)uid;
    sp_event *e = next_ev(s, out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_TICKER;
    e->venue = SP_VENUE_BINANCE_UM;
    e->symbol_id = sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = lts;
    e->px = bid;
    e->qty = bq;
    e->aux[0] = ask;
    e->aux[1] = aq;
    return SP_OK;
}

/* kline: one KLINE event from the "k" object. */
static sp_err dec_kline(sp__js *s, const sp__jsobj *o, sp_symtab *syms, int64_t lts, out_cur *out)
{
    sp__jsobj scratch;
    const sp__jsobj *kp;
    sp_err rc = sp__js_nested(s, o, "k", &scratch, &kp);
    if (rc != SP_OK)
        return rc;
    uint32_t sym;
    int64_t ts, op, hi, lo, cl, vol;
    bool closed;
    const char *iv;
    size_t ivn;
    if ((rc = get_sym(s, kp, "s", syms, &sym)) != SP_OK ||
        (rc = get_ts(s, kp, "t", &ts)) != SP_OK ||
        (rc = sp__js_str(s, kp, "i", &iv, &ivn)) != SP_OK ||
        (rc = sp__js_dec(s, kp, "o", SP_EV_PX_SCALE, &op)) != SP_OK ||
        (rc = sp__js_dec(s, kp, "h", SP_EV_PX_SCALE, &hi)) != SP_OK ||
        (rc = sp__js_dec(s, kp, "l", SP_EV_PX_SCALE, &lo)) != SP_OK ||
        (rc = sp__js_dec(s, kp, "c", SP_EV_PX_SCALE, &cl)) != SP_OK ||
        (rc = sp__js_dec(s, kp, "v", SP_EV_QTY_SCALE, &vol)) != SP_OK ||
        (rc = sp__js_bool(s, kp, "x", &closed)) != SP_OK)
        return rc;
    unsigned code = sp__feed_interval_binance(iv, ivn);
    if (code == 0)
        return sp__js_fail(s, iv, "i", SP_EUNKNOWN_KIND, "unknown interval \"%.*s\"",
                           (int)(ivn > 16 ? 16 : ivn), iv);
    sp_event *e = next_ev(s, out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_KLINE;
    e->venue = SP_VENUE_BINANCE_UM;
    e->sub = (uint8_t)code;
    e->flags = closed ? SP_EVF_CLOSED : 0;
    e->symbol_id = sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = lts;
    e->px = cl;
    e->qty = vol;
    e->aux[0] = op;
    e->aux[1] = hi;
    e->aux[2] = lo;
    return SP_OK;
}

/* Dispatch one event object on its "e". */
static sp_err dec_event(sp__js *s, const sp__jsobj *o, sp_symtab *syms, int64_t lts, out_cur *out)
{
    const char *e;
    size_t en;
    sp_err rc = sp__js_str(s, o, "e", &e, &en);
    if (rc != SP_OK)
        return rc;
#define IS(lit) (en == sizeof(lit) - 1 && memcmp(e, lit, sizeof(lit) - 1) == 0)
    if (IS("aggTrade"))
        return dec_trade(s, o, true, syms, lts, out);
    if (IS("trade"))
        return dec_trade(s, o, false, syms, lts, out);
    if (IS("depthUpdate"))
        return dec_depth(s, o, syms, lts, out);
    if (IS("forceOrder"))
        return dec_force(s, o, syms, lts, out);
    if (IS("markPriceUpdate"))
        return dec_mark(s, o, syms, lts, out);
    if (IS("bookTicker"))
        return dec_book_ticker(s, o, syms, lts, out);
    if (IS("kline"))
        return dec_kline(s, o, syms, lts, out);
#undef IS
    return sp__js_fail(s, e, "e", SP_EUNKNOWN_KIND, "unknown event type \"%.*s\"",
                       (int)(en > 32 ? 32 : en), e);
}

/* An array of event objects at span f. */
static sp_err dec_array(sp__js *s, const sp__jsf *f, sp_symtab *syms, int64_t lts, out_cur *out)
{
    sp__js in;
    sp__js_sub(s, f, &in);
    in.p++; /* '[' */
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
            rc = dec_event(s, &o, syms, lts, out);
        if (rc != SP_OK)
            return rc;
    }
}

sp_err sp_feed_binance_ws(const char *msg, size_t n, int64_t local_ts_ns, sp_symtab *syms,
                          sp_event *out, size_t cap, size_t *n_out, sp_diag *d)
{
    *n_out = 0;
    if (n > SP_MSG_MAX)
        return sp_diag_set(d, SP_ETOOBIG, "message of %zu bytes is longer than %u", n,
                           (unsigned)SP_MSG_MAX);
    /* aggTrade / forceOrder exactly as Binance lays them out: binance_fast.c */
    sp_err rc;
    if (sp__binance_ws_fast(msg, n, local_ts_ns, syms, out, cap, n_out, d, &rc))
        return rc;
    return sp__binance_ws_general(msg, n, local_ts_ns, syms, out, cap, n_out, d);
}

sp_err sp__binance_ws_general(const char *msg, size_t n, int64_t local_ts_ns, sp_symtab *syms,
                              sp_event *out, size_t cap, size_t *n_out, sp_diag *d)
{
    *n_out = 0;
    if (n > SP_MSG_MAX)
        return sp_diag_set(d, SP_ETOOBIG, "message of %zu bytes is longer than %u", n,
                           (unsigned)SP_MSG_MAX);
    sp__js s;
    sp__js_init(&s, msg, n, d);
    out_cur oc = {out, cap, 0};
    sp_err rc;
    sp__js_ws(&s);
    if (s.p < s.end && *s.p == '[') {
        /* an array of events: validate it whole, then decode each element */
        sp__jsf top;
        if ((rc = sp__js_value(&s, &top)) != SP_OK || (rc = sp__js_end(&s)) != SP_OK)
            return rc;
        rc = dec_array(&s, &top, syms, local_ts_ns, &oc);
    } else {
        /*
         * One object, parsed in a single pass (no separate validation pass);
         * the wrapper's "data" and an event's "o" / "k" are parsed into the
         * child tables on the way, so no byte is scanned twice.
         */
        static const char *const top_keys[] = {"data", "o", "k", NULL};
        static const char *const in_keys[] = {"o", "k", NULL};
        sp__jsobj o, inner, grand;
        sp__js_obj_init(&o);
        sp__js_obj_init(&inner);
        sp__js_obj_init(&grand);
        o.child = &inner;
        o.child_keys = top_keys;
        inner.child = &grand;
        inner.child_keys = in_keys;
        if ((rc = sp__js_obj(&s, &o)) != SP_OK || (rc = sp__js_end(&s)) != SP_OK)
            return rc;
        const sp__jsf *data = sp__js_get(&o, "data");
        if (data != NULL && sp__js_get(&o, "stream") != NULL) {
            const sp__jsf *st = sp__js_get(&o, "stream");
            if (st->type != JS_STR)
                return sp__js_fail(&s, st->v, "stream", SP_EPARSE, "expected a string");
            if (data->type == JS_ARR) {
                rc = dec_array(&s, data, syms, local_ts_ns, &oc);
            } else if (data->type == JS_OBJ) {
                const sp__jsobj *ev;
                sp__jsobj scratch;
                rc = sp__js_nested(&s, &o, "data", &scratch, &ev);
                if (rc == SP_OK)
                    rc = dec_event(&s, ev, syms, local_ts_ns, &oc);
            } else {
                rc = sp__js_fail(&s, data->v, "data", SP_EPARSE, "expected an object or array");
            }
        } else if (sp__js_get(&o, "e") != NULL) {
            rc = dec_event(&s, &o, syms, local_ts_ns, &oc);
        } else if (sp__js_get(&o, "result") != NULL && sp__js_get(&o, "id") != NULL) {
            rc = SP_OK; /* reply to SUBSCRIBE / UNSUBSCRIBE */
        } else {
            rc = sp__js_fail(&s, msg, NULL, SP_EUNKNOWN_KIND,
                             "neither an event, a combined-stream wrapper nor a reply");
        }
    }
    if (rc != SP_OK)
        return rc;
    *n_out = oc.n;
    return SP_OK;
}

/* ---- REST depth snapshot ----------------------------------------------- */

sp_err sp_feed_binance_depth_snapshot(const char *msg, size_t n, uint32_t symbol_id, sp_venue venue,
                                      int64_t local_ts_ns, sp_event *out, size_t cap, size_t *n_out,
                                      sp_diag *d)
{
    *n_out = 0;
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
    sp__level_ctx c = {&s, &oc, {0}};
    int64_t uid, ts = 0;
    if ((rc = sp__js_int(&s, &o, "lastUpdateId", &uid)) != SP_OK)
        return rc;
    /* futures snapshots carry E (message) and T (transaction) times; spot has neither */
    if (sp__js_get(&o, "T") != NULL && (rc = get_ts(&s, &o, "T", &ts)) != SP_OK)
        return rc;
    const sp__jsf *b = sp__js_get(&o, "bids"), *a = sp__js_get(&o, "asks");
    if (b == NULL || a == NULL)
        return sp__js_fail(&s, msg, b ? "asks" : "bids", SP_ENOTFOUND, "missing field \"%s\"",
                           b ? "asks" : "bids");
    c.tmpl.kind = SP_EV_BOOK_LEVEL;
    c.tmpl.venue = (uint8_t)venue;
    c.tmpl.flags = SP_EVF_SNAPSHOT;
    c.tmpl.symbol_id = symbol_id;
    c.tmpl.exch_ts_ns = ts;
    c.tmpl.local_ts_ns = local_ts_ns;
    c.tmpl.aux[0] = uid;
    if ((rc = sp__js_levels(&s, b, "bids", sp__put_level, &c)) != SP_OK)
        return rc;
    c.tmpl.flags = SP_EVF_SNAPSHOT | SP_EVF_SELL;
    if ((rc = sp__js_levels(&s, a, "asks", sp__put_level, &c)) != SP_OK)
        return rc;
    *n_out = oc.n;
    return SP_OK;
}
