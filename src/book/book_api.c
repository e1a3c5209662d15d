/*
 * book_api.c -- the public face of the order book: construction, stateless
 * validation of every command, dispatch to the implementation chosen at
 * sp_book_new (book.c or book_ref.c, see book_int.h), and everything that
 * is built on the implementations' small level iterator (best / next):
 * the level-2 views the cascade simulator uses (top-N depth, depth within a
 * band around mid, the cost of a sweep), the canonical state hash, and the
 * loader helpers that turn 1e-8-scale depth events into ticks and lots.
 *
 * Validation here covers what needs no book state: side, type, time in
 * force and flag combinations, the reserved id 0, quantity bounds and the
 * price filter.  Each check maps to a banded reason code (book.h), so a bad
 * command is an event, never a crash.
 */
#include <string.h>

#include "book/book_int.h"
#include "stampede/alloc.h"

/* The text of a reason code, from the one X-macro list in book.h (never out of step). */
const char *sp_book_reason_text(unsigned code)
{
    switch (code) {
#define SP_BOOK_REASON_TEXT_(name, value, text) \
    case value:                                 \
        return text;
        SP_BOOK_REASON_MAP(SP_BOOK_REASON_TEXT_)
#undef SP_BOOK_REASON_TEXT_
    default:
        return "?";
    }
}

/*
 * Defaults wide enough for any instrument: the price filter and quantity
 * ceiling are effectively off (2^62), the pool and window come from the
 * SP_BOOK_* limits.  Callers narrow them to the instrument's filters.
 */
sp_book_config sp_book_config_default(void)
{
    sp_book_config c;
    memset(&c, 0, sizeof(c));
    c.px_min_ticks = 1;
    c.px_max_ticks = INT64_C(1) << 62;
    c.qty_max_lots = INT64_C(1) << 62;
    c.max_orders = SP_BOOK_ORDERS_DEFAULT;
    c.window_ticks = SP_BOOK_WINDOW_DEFAULT;
    c.level_events = false;
    return c;
}

/* A config is usable when its ranges are non-empty and its sizes are within the limits. */
static bool config_ok(const sp_book_config *c)
{
    if (c->px_min_ticks < 1 || c->px_max_ticks < c->px_min_ticks || c->qty_max_lots < 1)
        return false;
    if (c->max_orders == 0 || c->max_orders > SP_BOOK_ORDERS_MAX)
        return false;
    if (c->window_ticks < 64 || c->window_ticks > SP_BOOK_WINDOW_MAX ||
        (c->window_ticks & (c->window_ticks - 1)) != 0)
        return false;
    return true;
}

/*
 * Validate the config once, here, so neither implementation has to; then
 * let the chosen implementation allocate everything it will ever need and
 * fill in the shared part of the struct.
 */
sp_err sp_book_new(sp_book_kind kind, const sp_book_config *cfg, const sp_book_sink *sink,
                   sp_book **out)
{
    sp_book_config c = cfg ? *cfg : sp_book_config_default();
    if (!out || !config_ok(&c))
        return SP_EINVAL;
    /* No sum of quantities (a level total, a side, a FOK check) may overflow int64. */
    if (c.qty_max_lots > INT64_MAX / (int64_t)c.max_orders)
        c.qty_max_lots = INT64_MAX / (int64_t)c.max_orders;
    sp_book *b = NULL;
    sp_err rc;
    switch (kind) {
    case SP_BOOK_FAST:
        rc = sp__book_fast_new(&c, &b);
        break;
    case SP_BOOK_REF:
        rc = sp__book_ref_new(&c, &b);
        break;
    default:
        return SP_EINVAL;
    }
    if (rc != SP_OK)
        return rc;
    b->kind = kind;
    b->cfg = c;
    if (sink)
        b->sink = *sink;
    *out = b;
    return SP_OK;
}

/* Each implementation frees its own allocations (book.h: NULL is a no-op). */
void sp_book_free(sp_book *b)
{
    if (b)
        b->ops->destroy(b);
}

/* Replace where events go; the sink is copied, its ctx stays borrowed. */
void sp_book_set_sink(sp_book *b, const sp_book_sink *sink)
{
    if (!b)
        return;
    if (sink) {
        b->sink = *sink;
    } else {
        b->sink.fn = NULL;
        b->sink.ctx = NULL;
    }
}

/* Which implementation b is (tests and benchmarks print it). */
sp_book_kind sp_book_get_kind(const sp_book *b)
{
    return b->kind;
}

/* ---- commands ---------------------------------------------------------- */

/* The reason a price is unacceptable to b, or 0. */
static uint16_t price_reason(const sp_book *b, int64_t px)
{
    if (px <= 0)
        return SP_BREASON_BAD_PRICE;
    if (px < b->cfg.px_min_ticks || px > b->cfg.px_max_ticks)
        return SP_BREASON_PX_LIMIT;
    return 0;
}

/* The reason a quantity is unacceptable to b, or 0. */
static uint16_t qty_reason(const sp_book *b, int64_t qty)
{
    return (qty <= 0 || qty > b->cfg.qty_max_lots) ? SP_BREASON_BAD_QTY : 0;
}

/* Stateless validation of a new order (book.h lists the codes). */
static uint16_t order_reason(const sp_book *b, const sp_book_order *o)
{
    if (o->side > SP_SELL || o->type > SP_ORD_MARKET || o->tif > SP_TIF_FOK ||
        (o->flags & ~SP_ORDF_ALL_) != 0)
        return SP_BREASON_BAD_TYPE;
    /* A post-only order never takes, so it can only be a resting limit. */
    if ((o->flags & SP_ORDF_POST_ONLY) && (o->type != SP_ORD_LIMIT || o->tif != SP_TIF_GTC))
        return SP_BREASON_BAD_TYPE;
    if (o->id == 0)
        return SP_BREASON_ZERO_ID;
    uint16_t r = qty_reason(b, o->qty);
    if (r)
        return r;
    if (o->type == SP_ORD_LIMIT)
        return price_reason(b, o->px);
    return 0;
}

/* sp_book_add with a result the caller does not want (out of line: it needs a frame). */
static __attribute__((noinline)) sp_err add_scratch(sp_book *b, const sp_book_order *o)
{
    sp_book_result scratch;
    return sp_book_add(b, o, &scratch);
}

/* A valid market order: no price, never rests, so GTC means IOC (out of line: a copy). */
static __attribute__((noinline)) sp_err add_market(sp_book *b, const sp_book_order *o,
                                                   sp_book_result *res)
{
    sp_book_order m = *o;
    m.px = 0;
    if (m.tif == SP_TIF_GTC)
        m.tif = SP_TIF_IOC;
    return b->ops->add(b, &m, res);
}

/* The order failed the quick checks: reject it with its reason, unless it is valid after all. */
static __attribute__((noinline)) sp_err add_invalid(sp_book *b, const sp_book_order *o,
                                                    sp_book_result *res)
{
    uint16_t r = order_reason(b, o);
    if (r == 0)
        return o->type == SP_ORD_MARKET ? add_market(b, o, res) : b->ops->add(b, o, res);
    sp__book_reject(b, o->id, o->side, o->px, o->qty, r, res);
    return SP_OK;
}

/*
 * Validate a new order without book state (1001-1003, 1006, 1007) and hand
 * it to the implementation, which does the stateful checks and matching.
 * A market order is normalised here (no price, GTC read as IOC) so both
 * implementations see exactly the same command.
 */
sp_err sp_book_add(sp_book *b, const sp_book_order *o, sp_book_result *res)
{
    if (!b || !o)
        return SP_EINVAL;
    if (SP_UNLIKELY(!res))
        return add_scratch(b, o);
    /* The common valid order passes a few unsigned range checks; the reason only when needed. */
    const sp_book_config *c = &b->cfg;
    bool ok =
        (o->side | o->type) <= 1 && o->tif <= SP_TIF_FOK && o->flags == 0 && o->id != 0 &&
        (uint64_t)o->qty - 1 < (uint64_t)c->qty_max_lots &&
        (o->type == SP_ORD_MARKET || (uint64_t)o->px - (uint64_t)c->px_min_ticks <=
                                         (uint64_t)c->px_max_ticks - (uint64_t)c->px_min_ticks);
    if (SP_UNLIKELY(!ok))
        return add_invalid(b, o, res);
    if (o->type == SP_ORD_MARKET)
        return add_market(b, o, res);
    /* A tail call, and every rare case out of line: sp_book_add keeps no frame
     * (with one it cost 41 Ir per add on W1 1 M, without 31; callgrind). */
    return b->ops->add(b, o, res);
}

/* A cancel of id 0: loaded depth is not cancellable (1007); out of line, it builds an event. */
static __attribute__((noinline)) sp_err cancel_zero(sp_book *b, sp_book_result *res)
{
    sp__book_reject(b, 0, 0, 0, 0, SP_BREASON_ZERO_ID, res);
    return SP_OK;
}

/* sp_book_cancel with a result the caller does not want. */
static __attribute__((noinline)) sp_err cancel_scratch(sp_book *b, uint64_t id)
{
    sp_book_result scratch;
    return sp_book_cancel(b, id, &scratch);
}

/* Cancel by id; id 0 names loaded depth, which only sp_book_set_level may remove (1007). */
sp_err sp_book_cancel(sp_book *b, uint64_t id, sp_book_result *res)
{
    if (!b)
        return SP_EINVAL;
    if (SP_UNLIKELY(!res))
        return cancel_scratch(b, id);
    if (SP_UNLIKELY(id == 0))
        return cancel_zero(b, res);
    return b->ops->cancel(b, id, res);
}

/* Validate the new quantity and price statelessly, then let the implementation amend. */
sp_err sp_book_amend(sp_book *b, uint64_t id, bool keep_px, int64_t px, int64_t qty,
                     sp_book_result *res)
{
    sp_book_result scratch;
    if (!b)
        return SP_EINVAL;
    if (!res)
        res = &scratch;
    uint16_t r = id == 0 ? SP_BREASON_ZERO_ID : qty_reason(b, qty);
    if (!r && !keep_px)
        r = price_reason(b, px);
    if (r) {
        sp__book_reject(b, id, 0, px, qty, r, res);
        return SP_OK;
    }
    b->ops->amend(b, id, keep_px, px, qty, res);
    return SP_OK;
}

/* ---- queries ----------------------------------------------------------- */

/* Resting entries, loaded depth included. */
size_t sp_book_count(const sp_book *b)
{
    return b->ops->count(b);
}

/* Look up one resting order by id (never loaded depth, whose id is 0). */
bool sp_book_get(const sp_book *b, uint64_t id, sp_book_order_info *info)
{
    if (!b || !info || id == 0)
        return false;
    return b->ops->get(b, id, info);
}

/* Visit a side in priority order; the state hash and the tests' drains use it. */
void sp_book_walk(const sp_book *b, sp_side side,
                  void (*fn)(void *ctx, const sp_book_order_info *o), void *ctx)
{
    if (b && fn && (side == SP_BUY || side == SP_SELL))
        b->ops->walk(b, side, fn, ctx);
}

/* Run the implementation's full invariant check (book.h lists the invariants). */
sp_err sp_book_check(const sp_book *b, sp_diag *d)
{
    if (!b)
        return SP_EINVAL;
    return b->ops->check(b, d);
}

/* splitmix-style finaliser: folds one value into the running hash. */
static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
    return h ^ (h >> 31);
}

/* One multiply per field (FNV-style); mix() avalanches the result once per side. */
static void hash_visit(void *ctx, const sp_book_order_info *o)
{
    const uint64_t k = 0x100000001B3ull * 0x9E3779B9ull + 2; /* odd */
    uint64_t *h = ctx;
    *h = (*h ^ o->id) * k;
    *h = (*h ^ (uint64_t)o->px) * k;
    *h = (*h ^ (uint64_t)o->qty) * k;
    *h = (*h ^ ((uint64_t)o->side | (uint64_t)o->tif << 8 | (uint64_t)o->flags << 16)) * k;
}

/*
 * Hash both sides in priority order (bids, a separator, asks) plus the
 * entry count.  Built on walk(), so the two implementations hash the same
 * canonical sequence and equal states give equal hashes.
 */
uint64_t sp_book_state_hash(const sp_book *b)
{
    uint64_t h = 0x5354414d50454445ull; /* "STAMPEDE" */
    b->ops->walk(b, SP_BUY, hash_visit, &h);
    h = mix(h, 0xB1D5);
    b->ops->walk(b, SP_SELL, hash_visit, &h);
    h = mix(h, 0xA5C5);
    return mix(h, (uint64_t)b->ops->count(b));
}

/* ---- level-2 views ----------------------------------------------------- */

/* Best level of a side: "no level" is the false return, never a sentinel price. */
bool sp_book_best(const sp_book *b, sp_side side, int64_t *px, int64_t *qty)
{
    sp_book_level l;
    if (!b || (side != SP_BUY && side != SP_SELL) || !b->ops->best(b, side, &l))
        return false;
    if (px)
        *px = l.px;
    if (qty)
        *qty = l.qty;
    return true;
}

/* The level after px toward worse prices; the building block of every view below. */
bool sp_book_next_level(const sp_book *b, sp_side side, int64_t px, sp_book_level *out)
{
    if (!b || !out || (side != SP_BUY && side != SP_SELL))
        return false;
    return b->ops->next(b, side, px, out);
}

/* Top-N levels: best, then next() from each level's price. */
size_t sp_book_depth(const sp_book *b, sp_side side, size_t n, sp_book_level *out)
{
    if (!b || !out || n == 0 || (side != SP_BUY && side != SP_SELL))
        return 0;
    size_t k = 0;
    if (!b->ops->best(b, side, &out[0]))
        return 0;
    for (k = 1; k < n; k++) {
        if (!b->ops->next(b, side, out[k - 1].px, &out[k]))
            break;
    }
    return k;
}

/* Store a 128-bit sum into *out if it fits int64. */
static sp_err narrow(__int128 v, int64_t *out)
{
    if (v > INT64_MAX || v < INT64_MIN)
        return SP_EOVERFLOW;
    *out = (int64_t)v;
    return SP_OK;
}

/*
 * Quantity (and notional) within band_bp of mid.  The mid may be a half
 * tick, so everything is compared doubled and scaled by 10,000 in 128-bit
 * integers: px * 2 * 10000 against (bid + ask) * (10000 -/+ band_bp).  No
 * rounding happens, so the boundary is exact and included.
 */
sp_err sp_book_depth_within(const sp_book *b, sp_side side, uint32_t band_bp, int64_t *qty,
                            int64_t *notional)
{
    if (!b || !qty || band_bp > 10000 || (side != SP_BUY && side != SP_SELL))
        return SP_EINVAL;
    sp_book_level bid, ask, l;
    if (!b->ops->best(b, SP_BUY, &bid) || !b->ops->best(b, SP_SELL, &ask))
        return SP_ESTATE;
    /* mid = (bid + ask) / 2; compare px * 2 * 10000 with (bid + ask) * (10000 -/+ band). */
    __int128 mid2 = (__int128)bid.px + ask.px;
    __int128 bound =
        side == SP_BUY ? mid2 * (10000 - (int64_t)band_bp) : mid2 * (10000 + (int64_t)band_bp);
    __int128 q = 0, nt = 0;
    bool have = b->ops->best(b, side, &l);
    while (have) {
        __int128 lhs = (__int128)l.px * 20000;
        if (side == SP_BUY ? lhs < bound : lhs > bound)
            break;
        q += l.qty;
        nt += (__int128)l.px * l.qty;
        have = b->ops->next(b, side, l.px, &l);
    }
    int64_t qv, nv;
    if (narrow(q, &qv) != SP_OK || narrow(nt, &nv) != SP_OK)
        return SP_EOVERFLOW;
    *qty = qv;
    if (notional)
        *notional = nv;
    return SP_OK;
}

/*
 * Walk the opposite side as a market order would, without touching it:
 * the notional is summed in 128 bits and divided once, with the caller's
 * rounding, so the VWAP is exact up to that one rounding.
 */
sp_err sp_book_sweep(const sp_book *b, sp_side taker_side, int64_t qty, sp_rounding rnd,
                     sp_book_sweep_out *out)
{
    if (!b || !out || qty <= 0 || (taker_side != SP_BUY && taker_side != SP_SELL) ||
        (unsigned)rnd > SP_RND_EXACT)
        return SP_EINVAL;
    memset(out, 0, sizeof(*out));
    sp_side maker = taker_side == SP_BUY ? SP_SELL : SP_BUY;
    __int128 nt = 0;
    int64_t left = qty;
    sp_book_level l;
    bool have = b->ops->best(b, maker, &l);
    while (have && left > 0) {
        int64_t take = l.qty < left ? l.qty : left;
        nt += (__int128)l.px * take;
        left -= take;
        out->last_px = l.px;
        out->levels++;
        have = b->ops->next(b, maker, l.px, &l);
    }
    out->filled = qty - left;
    if (narrow(nt, &out->notional) != SP_OK)
        return SP_EOVERFLOW;
    if (out->filled > 0)
        return sp_div_i128(nt, out->filled, rnd, &out->vwap_px);
    return SP_OK;
}

/* ---- loading real depth ------------------------------------------------ */

/* Loader entry point: range checks here, the uncrossing rule in each implementation. */
sp_err sp_book_set_level(sp_book *b, sp_side side, int64_t px, int64_t qty)
{
    if (!b || (side != SP_BUY && side != SP_SELL) || qty < 0)
        return SP_EINVAL;
    if (price_reason(b, px) != 0 || qty > b->cfg.qty_max_lots)
        return SP_ERANGE;
    return b->ops->set_level(b, side, px, qty);
}

/* Empty the book (before a new snapshot); no events, the config and pool stay. */
void sp_book_clear(sp_book *b)
{
    if (b)
        b->ops->clear(b);
}

static bool inst_ok(const sp_book_instrument *in)
{
    return in && in->tick_e8 > 0 && in->lot_e8 > 0;
}

/*
 * 1e-8 -> ticks / lots: exact division or SP_EPRECISION, never a rounded
 * price (a delta that is off the tick grid is a decoding or instrument
 * error the caller must see).  The reverse multiplications are checked.
 */
sp_err sp_book_px_from_e8(const sp_book_instrument *in, int64_t px_e8, int64_t *ticks)
{
    if (!inst_ok(in) || !ticks)
        return SP_EINVAL;
    if (px_e8 % in->tick_e8 != 0)
        return SP_EPRECISION;
    *ticks = px_e8 / in->tick_e8;
    return SP_OK;
}

sp_err sp_book_qty_from_e8(const sp_book_instrument *in, int64_t qty_e8, int64_t *lots)
{
    if (!inst_ok(in) || !lots)
        return SP_EINVAL;
    if (qty_e8 % in->lot_e8 != 0)
        return SP_EPRECISION;
    *lots = qty_e8 / in->lot_e8;
    return SP_OK;
}

sp_err sp_book_px_to_e8(const sp_book_instrument *in, int64_t ticks, int64_t *px_e8)
{
    if (!inst_ok(in) || !px_e8)
        return SP_EINVAL;
    return sp_mul_checked(ticks, in->tick_e8, px_e8);
}

sp_err sp_book_qty_to_e8(const sp_book_instrument *in, int64_t lots, int64_t *qty_e8)
{
    if (!inst_ok(in) || !qty_e8)
        return SP_EINVAL;
    return sp_mul_checked(lots, in->lot_e8, qty_e8);
}

/*
 * One decoded depth event -> one sp_book_set_level, with the conversion
 * errors reported in d (which field, the value, the tick or lot) so a
 * replay can count and skip the bad record and go on.
 */
sp_err sp_book_apply_event(sp_book *b, const sp_book_instrument *in, const sp_event *ev, sp_diag *d)
{
    if (!b || !ev || !inst_ok(in))
        return sp_diag_set(d, SP_EINVAL, "book: NULL book/event or bad instrument");
    if (ev->kind != SP_EV_DEPTH_UPDATE && ev->kind != SP_EV_BOOK_LEVEL)
        return sp_diag_set(d, SP_EUNKNOWN_KIND, "book: event kind %s is not depth",
                           sp_event_kind_name(ev->kind));
    int64_t px, qty;
    sp_err rc = sp_book_px_from_e8(in, ev->px, &px);
    if (rc != SP_OK) {
        sp_diag_field(d, "px");
        return sp_diag_set(d, rc, "book: price %lld e-8 is not a whole number of ticks of %lld",
                           (long long)ev->px, (long long)in->tick_e8);
    }
    rc = sp_book_qty_from_e8(in, ev->qty, &qty);
    if (rc != SP_OK) {
        sp_diag_field(d, "qty");
        return sp_diag_set(d, rc, "book: quantity %lld e-8 is not a whole number of lots of %lld",
                           (long long)ev->qty, (long long)in->lot_e8);
    }
    sp_side side = (ev->flags & SP_EVF_SELL) ? SP_SELL : SP_BUY;
    rc = sp_book_set_level(b, side, px, qty);
    if (rc != SP_OK)
        return sp_diag_set(d, rc, "book: cannot set %s level %lld ticks to %lld lots: %s",
                           side == SP_BUY ? "bid" : "ask", (long long)px, (long long)qty,
                           sp_strerror(rc));
    return SP_OK;
}
