/*
 * okx_v5.c -- OKX v5 public WebSocket messages -> sp_event.
 *
 * Hot decoder on the zero-allocation scanner of json.c (same reasoning as
 * binance_ws.c).  Messages are {"arg":{"channel","instId",...},
 * ["action":"snapshot"|"update",] "data":[...]} per OKX's "WebSocket
 * Public Channel" documentation; OKX writes every number as a string,
 * timestamps included.  Channels:
 *   trades               TRADE: side is the taker side; aux0 = tradeId
 *   liquidation-orders   LIQUIDATION per entry of data[].details[]: px =
 *                        bkPx (bankruptcy price), qty = sz (contracts for
 *                        SWAP/FUTURES, base for MARGIN), side is the
 *                        liquidation ORDER's side ("sell" = a long was
 *                        liquidated -> SP_EVF_SELL); aux0 = bkPx, aux1 = sz;
 *                        aux2 (notional) = 0: the contract value is not in
 *                        the message
 *   books, books5, books50-l2-tbt, books-l2-tbt, bbo-tbt
 *                        "snapshot" (and books5 / bbo-tbt, always full) ->
 *                        BOOK_LEVEL with aux0 = seqId, aux1 = level index,
 *                        aux2 = checksum; "update" -> DEPTH_UPDATE with
 *                        aux0 = prevSeqId, aux1 = seqId, aux2 = checksum.
 *                        Level arrays are [px, sz, "0", orders]; sz is in
 *                        contracts for SWAP.
 *   funding-rate         FUNDING px = fundingRate (1e-12), aux2 = next
 *                        funding time (ms); exch_ts = fundingTime
 *   open-interest        OPEN_INTEREST qty = oiCcy (base), aux0 = oiUsd
 *                        when present (else 0)
 *   mark-price           MARK px = markPx
 * {"event":...} replies (subscribe, error, channel-conn-count) produce no
 * event; an unknown channel is SP_EUNKNOWN_KIND.
 */
#include <string.h>

#include "feed/feed_int.h"
#include "stampede/limits.h"

typedef sp__out out_cur;

static sp_event *next_ev(sp__js *s, out_cur *o)
{
    return sp__next_ev(s, o, SP_VENUE_OKX);
}

/* An integer written as a JSON string ("1597026383085") or number. */
static sp_err str_int(sp__js *s, const sp__jsobj *o, const char *key, int64_t *out)
{
    const sp__jsf *f = sp__js_get(o, key);
    if (f == NULL)
        return sp__js_fail(s, s->base, key, SP_ENOTFOUND, "missing field \"%s\"", key);
    if (f->type != JS_STR && f->type != JS_NUM)
        return sp__js_fail(s, f->v, key, SP_EPARSE, "expected an integer");
    return sp__js_int_span(s, f->v, f->vn, key, out);
}

static sp_err ts_ms(sp__js *s, const sp__jsobj *o, const char *key, int64_t *ns)
{
    int64_t ms;
    sp_err rc = str_int(s, o, key, &ms);
    if (rc != SP_OK)
        return rc;
    if (ms < 0 || sp__feed_ms_to_ns(ms, ns) != SP_OK)
        return sp__js_fail(s, sp__js_get(o, key)->v, key, SP_ERANGE, "timestamp out of range");
    return SP_OK;
}

/* Context of one message: channel, instrument symbol, action. */
typedef struct msgctx {
    sp__js *s;
    out_cur *out;
    uint32_t sym; /* from arg.instId (0 when the channel carries it per entry) */
    int64_t lts;
    sp_symtab *syms;
    bool snapshot;
} msgctx;

static sp_err sym_of(msgctx *m, const sp__jsobj *o, uint32_t *id)
{
    const sp__jsf *f = sp__js_get(o, "instId");
    if (f == NULL) {
        if (m->sym == 0)
            return sp__js_fail(m->s, m->s->base, "instId", SP_ENOTFOUND, "missing instId");
        *id = m->sym;
        return SP_OK;
    }
    const char *p;
    size_t n;
    sp_err rc = sp__js_str(m->s, o, "instId", &p, &n);
    if (rc != SP_OK)
        return rc;
    return sp__feed_intern(m->s, m->syms, p, n, "instId", id);
}

static sp_err side_sell(sp__js *s, const sp__jsobj *o, const char *key, bool *sell)
{
    const char *p;
    size_t n;
    sp_err rc = sp__js_str(s, o, key, &p, &n);
    if (rc != SP_OK)
        return rc;
    if (n == 4 && memcmp(p, "sell", 4) == 0)
        *sell = true;
    else if (n == 3 && memcmp(p, "buy", 3) == 0)
        *sell = false;
    else
        return sp__js_fail(s, p, key, SP_EPARSE, "side must be buy or sell");
    return SP_OK;
}

typedef sp_err (*entry_fn)(msgctx *m, const sp__jsobj *o);

static sp_err each(msgctx *m, const sp__jsf *arr, const char *field, entry_fn fn)
{
    if (arr == NULL || arr->type != JS_ARR)
        return sp__js_fail(m->s, arr ? arr->v : m->s->base, field, arr ? SP_EPARSE : SP_ENOTFOUND,
                           "\"%s\" must be an array", field);
    sp__js in;
    sp__js_sub(m->s, arr, &in);
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
            rc = fn(m, &o);
        if (rc != SP_OK)
            return rc;
    }
}

static sp_err one_trade(msgctx *m, const sp__jsobj *o)
{
    uint32_t sym;
    int64_t ts, px, qty, id;
    bool sell;
    sp_err rc;
    if ((rc = sym_of(m, o, &sym)) != SP_OK || (rc = ts_ms(m->s, o, "ts", &ts)) != SP_OK ||
        (rc = sp__js_dec(m->s, o, "px", SP_EV_PX_SCALE, &px)) != SP_OK ||
        (rc = sp__js_dec(m->s, o, "sz", SP_EV_QTY_SCALE, &qty)) != SP_OK ||
        (rc = str_int(m->s, o, "tradeId", &id)) != SP_OK ||
        (rc = side_sell(m->s, o, "side", &sell)) != SP_OK)
        return rc;
    sp_event *e = next_ev(m->s, m->out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_TRADE;
    e->flags = sell ? SP_EVF_SELL : 0;
    e->symbol_id = sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = m->lts;
    e->px = px;
    e->qty = qty;
    e->aux[0] = id;
    return SP_OK;
}

/* One details[] entry; m->sym is the entry's instrument. */
static sp_err one_liq_detail(msgctx *m, const sp__jsobj *o)
{
    int64_t ts, px, qty;
    bool sell;
    sp_err rc;
    if ((rc = ts_ms(m->s, o, "ts", &ts)) != SP_OK ||
        (rc = sp__js_dec(m->s, o, "bkPx", SP_EV_PX_SCALE, &px)) != SP_OK ||
        (rc = sp__js_dec(m->s, o, "sz", SP_EV_QTY_SCALE, &qty)) != SP_OK ||
        (rc = side_sell(m->s, o, "side", &sell)) != SP_OK)
        return rc;
    sp_event *e = next_ev(m->s, m->out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_LIQUIDATION;
    e->flags = sell ? SP_EVF_SELL : 0;
    e->symbol_id = m->sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = m->lts;
    e->px = px;
    e->qty = qty;
    e->aux[0] = px;
    e->aux[1] = qty;
    return SP_OK;
}

static sp_err one_liq(msgctx *m, const sp__jsobj *o)
{
    uint32_t saved = m->sym, sym;
    sp_err rc = sym_of(m, o, &sym);
    if (rc != SP_OK)
        return rc;
    m->sym = sym;
    rc = each(m, sp__js_get(o, "details"), "details", one_liq_detail);
    m->sym = saved;
    return rc;
}

static sp_err one_book(msgctx *m, const sp__jsobj *o)
{
    sp__level_ctx c = {m->s, m->out, {0}};
    int64_t ts, seq = 0, prev = -1, cks = 0;
    sp_err rc;
    if ((rc = sym_of(m, o, &c.tmpl.symbol_id)) != SP_OK ||
        (rc = ts_ms(m->s, o, "ts", &ts)) != SP_OK)
        return rc;
    /* books5 and bbo-tbt carry neither seqId nor checksum on every message */
    if (sp__js_get(o, "seqId") != NULL && (rc = str_int(m->s, o, "seqId", &seq)) != SP_OK)
        return rc;
    if (sp__js_get(o, "prevSeqId") != NULL && (rc = str_int(m->s, o, "prevSeqId", &prev)) != SP_OK)
        return rc;
    if (sp__js_get(o, "checksum") != NULL && (rc = str_int(m->s, o, "checksum", &cks)) != SP_OK)
        return rc;
    const sp__jsf *b = sp__js_get(o, "bids"), *a = sp__js_get(o, "asks");
    if (b == NULL || a == NULL)
        return sp__js_fail(m->s, m->s->base, b ? "asks" : "bids", SP_ENOTFOUND,
                           "missing field \"%s\"", b ? "asks" : "bids");
    c.tmpl.venue = SP_VENUE_OKX;
    c.tmpl.exch_ts_ns = ts;
    c.tmpl.local_ts_ns = m->lts;
    if (m->snapshot) {
        c.tmpl.kind = SP_EV_BOOK_LEVEL;
        c.tmpl.flags = SP_EVF_SNAPSHOT;
        c.tmpl.aux[0] = seq;
    } else {
        c.tmpl.kind = SP_EV_DEPTH_UPDATE;
        c.tmpl.aux[0] = prev;
        c.tmpl.aux[1] = seq;
    }
    c.tmpl.aux[2] = cks;
    if ((rc = sp__js_levels(m->s, b, "bids", sp__put_level, &c)) != SP_OK)
        return rc;
    c.tmpl.flags = (uint8_t)(c.tmpl.flags | SP_EVF_SELL);
    return sp__js_levels(m->s, a, "asks", sp__put_level, &c);
}

static sp_err one_funding(msgctx *m, const sp__jsobj *o)
{
    uint32_t sym;
    int64_t ts, rate, next = 0;
    sp_err rc;
    if ((rc = sym_of(m, o, &sym)) != SP_OK || (rc = ts_ms(m->s, o, "fundingTime", &ts)) != SP_OK ||
        (rc = sp__js_dec(m->s, o, "fundingRate", SP_EV_RATE_SCALE, &rate)) != SP_OK)
        return rc;
    if (sp__js_get(o, "nextFundingTime") != NULL &&
        (rc = str_int(m->s, o, "nextFundingTime", &next)) != SP_OK)
        return rc;
    sp_event *e = next_ev(m->s, m->out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_FUNDING;
    e->symbol_id = sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = m->lts;
    e->px = rate;
    e->aux[2] = next;
    return SP_OK;
}

static sp_err one_oi(msgctx *m, const sp__jsobj *o)
{
    uint32_t sym;
    int64_t ts, oi, usd = 0;
    sp_err rc;
    if ((rc = sym_of(m, o, &sym)) != SP_OK || (rc = ts_ms(m->s, o, "ts", &ts)) != SP_OK ||
        (rc = sp__js_dec(m->s, o, "oiCcy", SP_EV_QTY_SCALE, &oi)) != SP_OK)
        return rc;
    if (sp__js_get(o, "oiUsd") != NULL &&
        (rc = sp__js_dec(m->s, o, "oiUsd", SP_EV_PX_SCALE, &usd)) != SP_OK)
        return rc;
    sp_event *e = next_ev(m->s, m->out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_OPEN_INTEREST;
    e->symbol_id = sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = m->lts;
    e->qty = oi;
    e->aux[0] = usd;
    return SP_OK;
}

static sp_err one_mark(msgctx *m, const sp__jsobj *o)
{
    uint32_t sym;
    int64_t ts, px;
    sp_err rc;
    if ((rc = sym_of(m, o, &sym)) != SP_OK || (rc = ts_ms(m->s, o, "ts", &ts)) != SP_OK ||
        (rc = sp__js_dec(m->s, o, "markPx", SP_EV_PX_SCALE, &px)) != SP_OK)
        return rc;
    sp_event *e = next_ev(m->s, m->out);
    if (e == NULL)
        return SP_ETOOBIG;
    e->kind = SP_EV_MARK;
    e->symbol_id = sym;
    e->exch_ts_ns = ts;
    e->local_ts_ns = m->lts;
    e->px = px;
    return SP_OK;
}

sp_err sp_feed_okx_v5(const char *msg, size_t n, int64_t local_ts_ns, sp_symtab *syms,
                      sp_event *out, size_t cap, size_t *n_out, sp_diag *d)
{
    *n_out = 0;
    if (n > SP_MSG_MAX)
        return sp_diag_set(d, SP_ETOOBIG, "message of %zu bytes is longer than %u", n,
                           (unsigned)SP_MSG_MAX);
    sp__js s;
    sp__js_init(&s, msg, n, d);
    sp__jsobj o, arg;
    sp__js_obj_init(&o);
    sp__js_obj_init(&arg);
    sp_err rc = sp__js_obj(&s, &o);
    if (rc == SP_OK)
        rc = sp__js_end(&s);
    if (rc != SP_OK)
        return rc;
    if (sp__js_get(&o, "event") != NULL)
        return SP_OK; /* subscribe / error / channel-conn-count reply */
    const sp__jsf *af = sp__js_get(&o, "arg");
    if (af == NULL || af->type != JS_OBJ)
        return sp__js_fail(&s, af ? af->v : msg, "arg", af ? SP_EPARSE : SP_EUNKNOWN_KIND,
                           "neither a push message with \"arg\" nor an event reply");
    sp__js in;
    sp__js_sub(&s, af, &in);
    if ((rc = sp__js_obj(&in, &arg)) != SP_OK)
        return rc;
    const char *ch;
    size_t cn;
    if ((rc = sp__js_str(&s, &arg, "channel", &ch, &cn)) != SP_OK)
        return rc;
    out_cur oc = {out, cap, 0};
    msgctx m = {&s, &oc, 0, local_ts_ns, syms, true};
    if (sp__js_get(&arg, "instId") != NULL && (rc = sym_of(&m, &arg, &m.sym)) != SP_OK)
        return rc;
    const sp__jsf *act = sp__js_get(&o, "action");
    if (act != NULL) {
        if (act->type != JS_STR)
            return sp__js_fail(&s, act->v, "action", SP_EPARSE, "expected a string");
        if (act->vn == 6 && memcmp(act->v, "update", 6) == 0)
            m.snapshot = false;
        else if (!(act->vn == 8 && memcmp(act->v, "snapshot", 8) == 0))
            return sp__js_fail(&s, act->v, "action", SP_EUNKNOWN_KIND, "unknown action");
    }
    const sp__jsf *data = sp__js_get(&o, "data");
#define CH(lit) (cn == sizeof(lit) - 1 && memcmp(ch, lit, cn) == 0)
    if (CH("trades") || CH("trades-all"))
        rc = each(&m, data, "data", one_trade);
    else if (CH("liquidation-orders"))
        rc = each(&m, data, "data", one_liq);
    else if (CH("books") || CH("books5") || CH("bbo-tbt") || CH("books-l2-tbt") ||
             CH("books50-l2-tbt"))
        rc = each(&m, data, "data", one_book);
    else if (CH("funding-rate"))
        rc = each(&m, data, "data", one_funding);
    else if (CH("open-interest"))
        rc = each(&m, data, "data", one_oi);
    else if (CH("mark-price"))
        rc = each(&m, data, "data", one_mark);
    else
        rc = sp__js_fail(&s, ch, "channel", SP_EUNKNOWN_KIND, "unknown channel \"%.*s\"",
                         (int)(cn > 32 ? 32 : cn), ch);
#undef CH
    if (rc != SP_OK)
        return rc;
    *n_out = oc.n;
    return SP_OK;
}
