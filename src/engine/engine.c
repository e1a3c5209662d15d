/*
 * engine.c -- the exchange core's accounts, positions, orders and fills.
 *
 * sp_engine_submit is the one entry point: it validates a command, applies
 * it, and hands orders to the instrument's sp_book (book.h).  The book
 * reports what happened through its sink, synchronously; on_book_ev turns
 * every FILL into two position updates (maker and taker, at the maker's
 * price) with fees, every CANCEL / REJECT into released pending exposure,
 * and re-emits them as the engine's flat sp_event records.  Mark price and
 * funding live in mark.c, the liquidation engine in liq.c, the invariant
 * checker and the state hash in check.c.
 *
 * Money.  A position keeps its entry value (the exact sum of qty x price
 * of the fills that opened it) rather than an average price, so realised
 * PnL is the difference of two exact values and the conservation law of
 * engine.h (invariant 1) holds to the unit whatever the rounding of the
 * released share: rounding only moves value between a wallet and the same
 * account's entry value.  Fees are the notional times the venue's rate,
 * rounded as the venue reports them (spec §2.6: Binance truncates to 8
 * places; spec §3.1: Bybit rounds half-up), at scale 8.
 *
 * Pre-trade risk (the IM check).  Every position keeps its pending buy and
 * sell exposure from order acceptance to fill or cancel (exchange-core's
 * pendingBuySize / pendingSellSize).  An order is accepted when the
 * account's available balance covers the growth of the initial margin of
 * the side it increases, valued at max(order price, mark), plus a taker
 * fee estimate; initial margin = notional / leverage (spec §2.1, §3.1).
 * This is the engine's own conservative check, not a venue's exact
 * available-balance formula.
 */
#include <string.h>

#include "engine/engine_int.h"
#include "stampede/alloc.h"

const char *sp_engine_reason_text(unsigned code)
{
    switch (code) {
#define SP_ENG_REASON_TEXT_(name, value, text) \
    case value:                                \
        return text;
        SP_ENGINE_REASON_MAP(SP_ENG_REASON_TEXT_)
#undef SP_ENG_REASON_TEXT_
    default:
        return sp_book_reason_text(code);
    }
}

sp_engine_config sp_engine_config_default(sp_venue venue)
{
    sp_engine_config c;
    memset(&c, 0, sizeof(c));
    c.venue = venue;
    c.max_accounts = 4096;
    c.max_positions = 4096;
    c.max_orders = 4096;
    c.book_kind = SP_BOOK_FAST;
    c.book_window = SP_BOOK_WINDOW_DEFAULT;
    c.basis_samples = 300; /* spec §3.4: 5-minute MA sampled every second */
    c.default_leverage = 20;
    c.naive_scan = false;
    return c;
}

/* ---- small helpers --------------------------------------------------------- */

static int64_t iabs64(int64_t x)
{
    return x < 0 ? -x : x;
}

/* Rounding of fees at scale 8 per venue (spec §2.6 Binance truncation, §3.1 Bybit half-up). */
static sp_rounding fee_rounding(sp_venue v)
{
    return v == SP_VENUE_BINANCE_UM ? SP_RND_TRUNC : SP_RND_HALF_UP;
}

/* Funding rate (scale 8) to the event rate scale (1e-12). */
int64_t sp__engine_rate_ev(int64_t rate8)
{
    return rate8 * 10000;
}

void sp__engine_emit(sp_engine *e, sp_event *ev, const eng_inst *ii)
{
    ev->venue = (uint8_t)e->cfg.venue;
    ev->symbol_id = ii ? ii->symbol_id : 0;
    ev->exch_ts_ns = e->now_ns;
    ev->local_ts_ns = e->now_ns;
    e->st.events++;
    if (e->sink.fn)
        e->sink.fn(e->sink.ctx, ev);
}

/* Emit a REJECT for a command and count it. */
static void reject(sp_engine *e, const sp_engine_cmd *c, unsigned code)
{
    sp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = SP_EV_REJECT;
    ev.sub = c->kind;
    ev.flags = c->side == SP_SELL ? SP_EVF_SELL : 0;
    ev.px = c->px;
    ev.qty = c->qty ? c->qty : c->amount;
    ev.aux[0] = (int64_t)c->order_id;
    ev.aux[1] = c->account;
    ev.aux[2] = code;
    e->st.rejected++;
    if (e->res)
        e->res->code = (uint16_t)code;
    sp__engine_emit(e, &ev, c->inst < e->ninst ? &e->inst[c->inst] : NULL);
}

/*
 * Notional of qty (instrument units) at px: qty x ct x px, scale 8,
 * rounded by r.  ct converts contracts to base units (spec §4.1).
 */
sp_err sp__engine_notional(const eng_inst *ii, int64_t qty, int64_t px, sp_rounding r, int64_t *out)
{
    i128 num = (i128)qty * ii->ct;
    if (num / ii->ct != qty)
        return SP_EOVERFLOW;
    i128 n2;
    if (__builtin_mul_overflow(num, (i128)px, &n2))
        return SP_EOVERFLOW;
    return sp_div_i128(n2, (i128)ENG_ONE * ENG_ONE, r, out);
}

/*
 * Unrealised PnL of p at its instrument's mark: side x (|size| x mark -
 * entry value) (spec §1, §2.1), rounded down (never overstates equity).
 */
sp_err sp__engine_upnl(const sp_engine *e, const eng_pos *p, int64_t *out)
{
    const eng_inst *ii = &e->inst[p->inst];
    *out = 0;
    if (p->size == 0 || ii->mark == 0)
        return SP_OK;
    i128 q = (i128)iabs64(p->size) * ii->ct * ii->mark;
    i128 v = (i128)p->value * ENG_ONE * ENG_ONE;
    i128 d = p->size > 0 ? q - v : v - q;
    return sp_div_i128(d, (i128)ENG_ONE * ENG_ONE, SP_RND_DOWN, out);
}

/* Entry price = entry value / base size, half-even at scale 8. */
static int64_t entry_px(const eng_inst *ii, const eng_pos *p)
{
    int64_t out = 0;
    if (p->size == 0)
        return 0;
    i128 num = (i128)p->value * ENG_ONE * ENG_ONE;
    i128 den = (i128)iabs64(p->size) * ii->ct;
    if (sp_div_i128(num, den, SP_RND_HALF_EVEN, &out) != SP_OK)
        return 0;
    return out;
}

/* Fill a rules position for p (margin: isolated margin, or the wallet in cross). */
static void rules_pos(const sp_engine *e, const eng_pos *p, sp_rules_pos *rp)
{
    const eng_inst *ii = &e->inst[p->inst];
    memset(rp, 0, sizeof(*rp));
    rp->inst = ii->in;
    rp->tiers = ii->tiers;
    rp->mode = p->mode == SP_MARGIN_ISOLATED ? SP_MARGIN_ISOLATED : SP_MARGIN_CROSS;
    rp->side = p->size >= 0 ? 1 : -1;
    rp->qty = iabs64(p->size);
    rp->entry_px = entry_px(ii, p);
    rp->margin = p->mode == SP_MARGIN_ISOLATED ? p->margin : e->acct[p->account].wallet[ii->asset];
    rp->fee_rate = ii->in->taker_fee;
    if (ii->tiers == NULL)
        rp->mmr = ii->in->base_mmr;
}

/* Maintenance margin of p at mark through the venue's rule set (spec §2.1, §3.1, §4.1). */
sp_err sp__engine_mm(const sp_engine *e, const eng_pos *p, int64_t mark, int64_t *mm, int *tier)
{
    *mm = 0;
    if (tier)
        *tier = 0;
    if (p->size == 0 || mark <= 0)
        return SP_OK;
    sp_rules_pos rp;
    rules_pos(e, p, &rp);
    if (rp.entry_px <= 0)
        rp.entry_px = mark;
    int t = 0;
    sp_err rc = e->rules->maint_margin(e->rules, &rp, mark, mm, &t);
    if (tier)
        *tier = t;
    return rc;
}

/* Exposed for liq.c: the rules position of p. */
void sp__engine_rules_pos(const sp_engine *e, const eng_pos *p, sp_rules_pos *rp)
{
    rules_pos(e, p, rp);
}

/* ---- lifecycle --------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t c = 16;
    while (c < n)
        c <<= 1;
    return c;
}

sp_err sp_engine_new(const sp_engine_config *cfg, const sp_engine_sink *sink, sp_engine **out)
{
    sp_engine_config c = cfg ? *cfg : sp_engine_config_default(SP_VENUE_BINANCE_UM);
    if (!out)
        return SP_EINVAL;
    if (c.max_accounts == 0 || c.max_accounts > SP_ENGINE_POOL_MAX || c.max_positions == 0 ||
        c.max_positions > SP_ENGINE_POOL_MAX || c.max_orders == 0 ||
        c.max_orders > SP_ENGINE_POOL_MAX || c.basis_samples == 0 ||
        c.basis_samples > SP_ENGINE_SAMPLES_MAX || c.default_leverage < 1 ||
        c.default_leverage > SP_ENGINE_LEVERAGE_MAX)
        return SP_EINVAL;
    const sp_rules *rules = sp_rules_get(c.venue, SP_CONTRACT_LINEAR);
    if (!rules)
        return SP_EINVAL;
    sp_engine *e = sp_calloc(1, sizeof(*e));
    if (!e)
        return SP_ENOMEM;
    e->cfg = c;
    e->rules = rules;
    if (sink)
        e->sink = *sink;
    e->ord_cap = pow2_at_least(c.max_orders * 2u);
    e->acct = sp_calloc((size_t)c.max_accounts + 1, sizeof(*e->acct));
    e->pos = sp_calloc((size_t)c.max_positions + 1, sizeof(*e->pos));
    e->ord = sp_calloc((size_t)c.max_orders + 1, sizeof(*e->ord));
    e->ord_hash = sp_calloc(e->ord_cap, sizeof(*e->ord_hash));
    e->scratch = sp_calloc((size_t)c.max_positions + 1, sizeof(*e->scratch));
    e->scratch_key = sp_calloc((size_t)c.max_positions + 1, sizeof(*e->scratch_key));
    e->multi = sp_calloc((size_t)c.max_accounts + 1, sizeof(*e->multi));
    e->liq_list = sp_calloc((size_t)c.max_accounts + 1, sizeof(*e->liq_list));
    if (!e->acct || !e->pos || !e->ord || !e->ord_hash || !e->scratch || !e->scratch_key ||
        !e->multi || !e->liq_list) {
        sp_engine_free(e);
        return SP_ENOMEM;
    }
    /* free lists, lowest index first so allocation order is deterministic */
    for (uint32_t i = c.max_positions; i >= 1; i--) {
        e->pos[i].next = e->pos_free;
        e->pos_free = i;
    }
    for (uint32_t i = c.max_orders; i >= 1; i--) {
        e->ord[i].next = e->ord_free;
        e->ord_free = i;
    }
    *out = e;
    return SP_OK;
}

void sp_engine_free(sp_engine *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->ninst; i++) {
        sp_book_free(e->inst[i].book);
        sp_free(e->inst[i].basis);
        sp_free(e->inst[i].premium);
        sp_free(e->inst[i].longs.a);
        sp_free(e->inst[i].shorts.a);
    }
    sp_free(e->acct);
    sp_free(e->pos);
    sp_free(e->ord);
    sp_free(e->ord_hash);
    sp_free(e->scratch);
    sp_free(e->scratch_key);
    sp_free(e->multi);
    sp_free(e->liq_list);
    sp_free(e);
}

static void on_book_ev(void *ctx, const sp_book_ev *ev);

sp_err sp_engine_add_instrument(sp_engine *e, const sp_instrument *inst, const sp_tier_table *tiers,
                                uint32_t symbol_id, uint32_t *idx)
{
    if (!e || !inst || inst->contract != SP_CONTRACT_LINEAR || inst->venue != e->cfg.venue ||
        inst->tick <= 0 || inst->lot <= 0 || (tiers == NULL && inst->base_mmr <= 0) ||
        (inst->qty_in_contracts && inst->ct_val <= 0))
        return SP_EINVAL;
    if (e->ninst >= SP_ENGINE_INSTRUMENTS_MAX)
        return SP_ETOOBIG;
    int a = sp_engine_asset(e, inst->settle);
    if (a < 0) {
        if (e->nasset >= SP_ENGINE_ASSETS_MAX)
            return SP_ETOOBIG;
        a = (int)e->nasset;
        size_t n = strlen(inst->settle);
        if (n >= sizeof(e->asset_name[0]))
            return SP_EINVAL;
        memcpy(e->asset_name[a], inst->settle, n + 1);
    }
    eng_inst *ii = &e->inst[e->ninst];
    memset(ii, 0, sizeof(*ii));
    ii->in = inst;
    ii->tiers = tiers;
    ii->symbol_id = symbol_id;
    ii->asset = (uint32_t)a;
    ii->ct = inst->qty_in_contracts ? inst->ct_val : ENG_ONE;
    sp_book_config bc = sp_book_config_default();
    bc.max_orders = e->cfg.max_orders;
    bc.window_ticks = e->cfg.book_window;
    sp_book_sink bs = {on_book_ev, e};
    ii->basis = sp_calloc(e->cfg.basis_samples, sizeof(*ii->basis));
    ii->premium = sp_calloc(SP_ENGINE_SAMPLES_MAX, sizeof(*ii->premium));
    sp_err rc = SP_ENOMEM;
    if (ii->basis && ii->premium)
        rc = sp__engine_heaps_init(e, ii);
    if (rc == SP_OK)
        rc = sp_book_new(e->cfg.book_kind, &bc, &bs, &ii->book);
    if (rc != SP_OK) {
        sp_book_free(ii->book);
        sp_free(ii->basis);
        sp_free(ii->premium);
        sp_free(ii->longs.a);
        sp_free(ii->shorts.a);
        memset(ii, 0, sizeof(*ii));
        return rc;
    }
    if ((uint32_t)a == e->nasset)
        e->nasset++;
    if (idx)
        *idx = e->ninst;
    e->ninst++;
    return SP_OK;
}

int sp_engine_find_instrument(const sp_engine *e, const char *symbol)
{
    for (uint32_t i = 0; e && symbol && i < e->ninst; i++)
        if (strcmp(e->inst[i].in->symbol, symbol) == 0)
            return (int)i;
    return -1;
}

int sp_engine_asset(const sp_engine *e, const char *name)
{
    for (uint32_t i = 0; e && name && i < e->nasset; i++)
        if (strcmp(e->asset_name[i], name) == 0)
            return (int)i;
    return -1;
}

/* ---- order records and the id hash ------------------------------------------ */

static uint32_t id_slot(const sp_engine *e, uint64_t id)
{
    uint64_t h = id * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32) & (e->ord_cap - 1);
}

static uint32_t ord_find(const sp_engine *e, uint64_t id)
{
    for (uint32_t s = id_slot(e, id);; s = (s + 1) & (e->ord_cap - 1)) {
        uint32_t o = e->ord_hash[s];
        if (o == 0)
            return 0;
        if (e->ord[o].id == id)
            return o;
    }
}

/* Remove slot s from the linear-probing table, moving later entries back (no tombstones). */
static void hash_del(sp_engine *e, uint64_t id)
{
    uint32_t mask = e->ord_cap - 1, s = id_slot(e, id);
    while (e->ord_hash[s] && e->ord[e->ord_hash[s]].id != id)
        s = (s + 1) & mask;
    if (!e->ord_hash[s])
        return;
    e->ord_hash[s] = 0;
    for (uint32_t j = (s + 1) & mask; e->ord_hash[j]; j = (j + 1) & mask) {
        uint32_t o = e->ord_hash[j];
        uint32_t home = id_slot(e, e->ord[o].id);
        /* move o back to s if its home is not in (s, j] cyclically */
        bool stay = s <= j ? (home > s && home <= j) : (home > s || home <= j);
        if (!stay) {
            e->ord_hash[s] = o;
            e->ord_hash[j] = 0;
            s = j;
        }
    }
}

static uint32_t ord_alloc(sp_engine *e, uint64_t id, uint32_t account)
{
    uint32_t o = e->ord_free;
    if (o == 0)
        return 0;
    e->ord_free = e->ord[o].next;
    eng_ord *r = &e->ord[o];
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->account = account;
    uint32_t s = id_slot(e, id);
    while (e->ord_hash[s])
        s = (s + 1) & (e->ord_cap - 1);
    e->ord_hash[s] = o;
    if (account) {
        eng_acct *a = &e->acct[account];
        r->next = a->ord_head;
        if (a->ord_head)
            e->ord[a->ord_head].prev = o;
        a->ord_head = o;
        a->norders++;
    }
    return o;
}

static void ord_release(sp_engine *e, uint32_t o)
{
    eng_ord *r = &e->ord[o];
    hash_del(e, r->id);
    if (r->account) {
        eng_acct *a = &e->acct[r->account];
        if (r->prev)
            e->ord[r->prev].next = r->next;
        else
            a->ord_head = r->next;
        if (r->next)
            e->ord[r->next].prev = r->prev;
        a->norders--;
    }
    memset(r, 0, sizeof(*r));
    r->next = e->ord_free;
    e->ord_free = o;
}

/* Take qty off the pending exposure of the order's position. */
static void pend_release(sp_engine *e, const eng_ord *r, int64_t qty)
{
    if (!r->pos)
        return;
    eng_pos *p = &e->pos[r->pos];
    if (r->side == SP_BUY)
        p->pend_buy -= qty;
    else
        p->pend_sell -= qty;
}

/* ---- positions ------------------------------------------------------------------ */

eng_pos *sp__engine_pos_get(sp_engine *e, uint32_t account, uint32_t inst, uint8_t leg, bool make)
{
    eng_acct *a = &e->acct[account];
    for (uint32_t i = a->pos_head; i; i = e->pos[i].next)
        if (e->pos[i].inst == inst && e->pos[i].leg == leg)
            return &e->pos[i];
    if (!make || e->pos_free == 0)
        return NULL;
    uint32_t i = e->pos_free;
    e->pos_free = e->pos[i].next;
    eng_pos *p = &e->pos[i];
    memset(p, 0, sizeof(*p));
    p->account = account;
    p->inst = (uint16_t)inst;
    p->leg = leg;
    p->mode = SP_MARGIN_CROSS;
    p->leverage = e->cfg.default_leverage;
    /* keep each account's list sorted by (inst, leg): hashing and scans stay deterministic */
    uint32_t *link = &a->pos_head;
    while (*link &&
           (e->pos[*link].inst < inst || (e->pos[*link].inst == inst && e->pos[*link].leg < leg)))
        link = &e->pos[*link].next;
    p->next = *link;
    *link = i;
    return p;
}

/*
 * Apply a trade of qty (sgn +1 buy, -1 sell) worth value to p: open,
 * reduce or flip (spec §1: realised PnL = side x (exit value - entry
 * value share)).  Cross PnL goes to the wallet; isolated PnL to the
 * position margin, whose share for the closed part returns to the wallet;
 * an isolated opening moves its initial margin (value / leverage, spec
 * §2.1) from the wallet into the position.
 */
static sp_err pos_trade(sp_engine *e, eng_pos *p, int sgn, int64_t qty, int64_t value)
{
    const eng_inst *ii = &e->inst[p->inst];
    int64_t *wallet = &e->acct[p->account].wallet[ii->asset];
    int64_t open_qty = qty, open_value = value;
    if (p->size != 0 && (p->size > 0) != (sgn > 0)) {
        int64_t abs_s = iabs64(p->size);
        int64_t c = qty < abs_s ? qty : abs_s;
        int64_t released = p->value, c_value = value;
        if (c < abs_s && sp_mul_div(p->value, c, abs_s, SP_RND_HALF_EVEN, &released) != SP_OK)
            return SP_EOVERFLOW;
        if (c < qty && sp_mul_div(value, c, qty, SP_RND_HALF_EVEN, &c_value) != SP_OK)
            return SP_EOVERFLOW;
        int64_t pnl = p->size > 0 ? c_value - released : released - c_value;
        if (p->mode == SP_MARGIN_ISOLATED) {
            p->margin += pnl;
            int64_t rel = p->margin;
            if (c < abs_s && sp_mul_div(p->margin, c, abs_s, SP_RND_TRUNC, &rel) != SP_OK)
                return SP_EOVERFLOW;
            p->margin -= rel;
            *wallet += rel;
        } else {
            *wallet += pnl;
        }
        p->value -= released;
        p->size += sgn > 0 ? c : -c;
        open_qty = qty - c;
        open_value = value - c_value;
    }
    if (open_qty > 0) {
        p->size += sgn > 0 ? open_qty : -open_qty;
        p->value += open_value;
        if (p->mode == SP_MARGIN_ISOLATED) {
            int64_t im;
            if (sp_mul_div(open_value, 1, p->leverage, SP_RND_UP, &im) != SP_OK)
                return SP_EOVERFLOW;
            /* never drive the wallet negative: the pre-trade check priced the order at
             * max(price, mark); a sell filled far above that is capped here */
            if (im > *wallet)
                im = *wallet > 0 ? *wallet : 0;
            *wallet -= im;
            p->margin += im;
        }
    }
    if (p->size == 0 && p->mode == SP_MARGIN_ISOLATED) {
        *wallet += p->margin;
        p->margin = 0;
    }
    return SP_OK;
}

/*
 * Close qty of p (the account's side) against the insurance fund at the
 * given total value: the liquidation take-over (spec §2.7, §3.5).  The
 * fund's temporary position in the instrument takes the opposite side.
 */
sp_err sp__engine_close_at(sp_engine *e, eng_pos *p, int64_t qty, int64_t value, bool to_fund)
{
    eng_inst *ii = &e->inst[p->inst];
    int sgn = p->size > 0 ? -1 : 1;
    sp_err rc = pos_trade(e, p, sgn, qty, value);
    if (rc != SP_OK)
        return rc;
    if (to_fund) {
        ii->fund.size += sgn > 0 ? -qty : qty;
        ii->fund.value += value;
    }
    sp__engine_pos_changed(e, p);
    return SP_OK;
}

/* Count open positions, keep the multi-position set and the index in step with p. */
void sp__engine_pos_changed(sp_engine *e, eng_pos *p)
{
    eng_acct *a = &e->acct[p->account];
    uint16_t n = 0;
    for (uint32_t i = a->pos_head; i; i = e->pos[i].next)
        n = (uint16_t)(n + (e->pos[i].size != 0));
    a->npos_open = n;
    sp__engine_multi_update(e, p->account);
    for (uint32_t i = a->pos_head; i; i = e->pos[i].next)
        sp__engine_index_update(e, &e->pos[i]);
}

/* ---- book events -------------------------------------------------------------- */

/*
 * A wallet the fill left negative: an open isolated position gives the
 * shortfall from its margin (the liquidation scan then looks at it); an
 * account with nothing open in the asset is reset to zero by the insurance
 * fund (spec §2.7: "negative balances are reset to 0 by the fund").  A
 * cross account keeps a negative wallet while its positions' PnL covers it.
 */
static void cover_wallet(sp_engine *e, uint32_t account, eng_pos *p, const eng_inst *ii)
{
    int64_t *w = &e->acct[account].wallet[ii->asset];
    if (*w >= 0)
        return;
    if (p->size != 0 && p->mode == SP_MARGIN_ISOLATED) {
        p->margin += *w;
        *w = 0;
        return;
    }
    for (uint32_t i = e->acct[account].pos_head; i; i = e->pos[i].next)
        if (e->pos[i].size != 0 && e->pos[i].mode == SP_MARGIN_CROSS &&
            e->inst[e->pos[i].inst].asset == ii->asset)
            return;
    int64_t deficit = *w;
    *w = 0;
    e->insurance[ii->asset] += deficit;
    sp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = SP_EV_INSURANCE;
    ev.sub = SP_ENG_INS_RESIDUAL;
    ev.aux[0] = deficit;
    ev.aux[1] = e->insurance[ii->asset];
    ev.aux[2] = account;
    sp__engine_emit(e, &ev, ii);
}

/* Apply one party's side of a fill: fees, position, pending, order leaves, FILL event. */
static void party_fill(sp_engine *e, uint32_t o, int64_t qty, int64_t px, int64_t value, bool maker)
{
    eng_ord *r = &e->ord[o];
    eng_inst *ii = &e->inst[r->inst];
    int sgn = r->side == SP_BUY ? 1 : -1;
    int64_t fee = 0;
    sp_err rc = SP_OK;
    if (r->account == 0) {
        /* the insurance fund: its PnL on the closed part goes into the fund */
        eng_fundpos *f = &ii->fund;
        int64_t abs_s = iabs64(f->size), c = qty < abs_s ? qty : abs_s, released = f->value;
        if (c < abs_s)
            rc = sp_mul_div(f->value, c, abs_s, SP_RND_HALF_EVEN, &released);
        int64_t pnl = f->size > 0 ? value - released : released - value;
        f->value -= released;
        f->size += sgn > 0 ? c : -c;
        e->insurance[ii->asset] += pnl;
        sp_event iv;
        memset(&iv, 0, sizeof(iv));
        iv.kind = SP_EV_INSURANCE;
        iv.sub = SP_ENG_INS_FILL;
        iv.px = px;
        iv.qty = qty;
        iv.aux[0] = pnl;
        iv.aux[1] = e->insurance[ii->asset];
        sp__engine_emit(e, &iv, ii);
    } else {
        eng_pos *p = &e->pos[r->pos];
        int64_t rate = (r->flags & ENG_ORDF_LIQ) ? ii->in->liq_fee
                       : maker                   ? ii->in->maker_fee
                                                 : ii->in->taker_fee;
        if (rc == SP_OK)
            rc = sp_mul_div(value, rate, ENG_ONE, fee_rounding(e->cfg.venue), &fee);
        pend_release(e, r, qty);
        if (rc == SP_OK)
            rc = pos_trade(e, p, sgn, qty, value);
        e->acct[r->account].wallet[ii->asset] -= fee;
        if (r->flags & ENG_ORDF_LIQ)
            e->insurance[ii->asset] += fee; /* spec §2.7: liquidation fee to the fund */
        else
            e->fees[ii->asset] += fee;
        cover_wallet(e, r->account, p, ii);
        sp__engine_pos_changed(e, p);
    }
    if (rc != SP_OK && e->fill_err == SP_OK)
        e->fill_err = rc;
    sp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = SP_EV_FILL;
    ev.sub = (r->flags & ENG_ORDF_LIQ) || r->account == 0 ? SP_ENG_SUB_LIQ : 0;
    ev.flags = (uint8_t)((r->side == SP_SELL ? SP_EVF_SELL : 0) | (maker ? SP_EVF_MAKER : 0));
    ev.px = px;
    ev.qty = qty;
    ev.aux[0] = (int64_t)r->id;
    ev.aux[1] = r->account;
    ev.aux[2] = fee;
    sp__engine_emit(e, &ev, ii);
    r->leaves -= qty;
    if (r->leaves <= 0)
        ord_release(e, o);
}

static void on_book_ev(void *ctx, const sp_book_ev *bev)
{
    sp_engine *e = ctx;
    uint32_t o = ord_find(e, bev->id);
    if (o == 0)
        return; /* not ours (cannot happen: every order goes through the engine) */
    eng_ord *r = &e->ord[o];
    eng_inst *ii = &e->inst[r->inst];
    int64_t px = bev->px * ii->in->tick, qty = bev->qty * ii->in->lot;
    sp_event ev;
    memset(&ev, 0, sizeof(ev));
    switch (bev->kind) {
    case SP_BOOK_EV_FILL: {
        uint32_t m = ord_find(e, bev->maker_id);
        int64_t value = 0;
        if (sp__engine_notional(ii, qty, px, SP_RND_HALF_EVEN, &value) != SP_OK &&
            e->fill_err == SP_OK)
            e->fill_err = SP_EOVERFLOW;
        ii->last = px;
        e->st.fills++;
        if (e->res)
            e->res->fills++;
        if (m)
            party_fill(e, m, qty, px, value, true);
        party_fill(e, o, qty, px, value, false);
        return;
    }
    case SP_BOOK_EV_CANCEL:
        pend_release(e, r, qty);
        ev.kind = SP_EV_CANCEL;
        ev.aux[2] = e->cancelling ? SP_ENG_R_LIQ_CANCEL : bev->reason;
        break;
    case SP_BOOK_EV_REJECT:
        ev.kind = SP_EV_REJECT;
        ev.sub = SP_CMD_ORDER;
        ev.aux[2] = bev->reason;
        if (!e->in_liq) {
            /* the command's own order; a liquidation order's refusal (a FillOrKill the
             * book cannot fill) is a step of the liquidation, not the command's outcome */
            if (e->res)
                e->res->code = bev->reason;
            e->st.rejected++;
        }
        break;
    case SP_BOOK_EV_AMEND:
        if (r->side == SP_BUY)
            e->pos[r->pos].pend_buy += qty - r->leaves;
        else
            e->pos[r->pos].pend_sell += qty - r->leaves;
        r->leaves = qty;
        r->px = px;
        return;
    default:
        return; /* REST and LEVEL change nothing the engine keeps */
    }
    ev.flags = bev->side == SP_SELL ? SP_EVF_SELL : 0;
    ev.px = px;
    ev.qty = qty;
    ev.aux[0] = (int64_t)r->id;
    ev.aux[1] = r->account;
    sp__engine_emit(e, &ev, ii);
    if (bev->kind == SP_BOOK_EV_CANCEL) {
        r->leaves -= qty;
        if (r->leaves <= 0)
            ord_release(e, o);
    } else if (!(r->flags & ENG_ORDF_AMENDING)) {
        /* a refused new order leaves nothing behind; a refused amend keeps the order */
        pend_release(e, r, r->leaves);
        ord_release(e, o);
    }
}

/*
 * Register and send an order into the book.  pos is the position it will
 * change (0 for the insurance fund).  The order's quantity is added to the
 * position's pending exposure before the book sees it; the book's events
 * then take it off as it fills or is cancelled.  br: OUT.
 */
sp_err sp__engine_order_in(sp_engine *e, uint32_t account, uint32_t inst, uint64_t id, uint8_t side,
                           uint8_t type, uint8_t tif, uint8_t flags, int64_t px, int64_t qty,
                           uint32_t pos, sp_book_result *br)
{
    eng_inst *ii = &e->inst[inst];
    uint32_t o = ord_alloc(e, id, account);
    if (o == 0)
        return SP_ETOOBIG;
    eng_ord *r = &e->ord[o];
    r->pos = pos;
    r->inst = (uint16_t)inst;
    r->side = side;
    r->flags = flags;
    r->px = type == SP_ORD_MARKET ? 0 : px;
    r->leaves = qty;
    if (pos) {
        if (side == SP_BUY)
            e->pos[pos].pend_buy += qty;
        else
            e->pos[pos].pend_sell += qty;
    }
    sp_book_order bo = {
        .id = id,
        .px = type == SP_ORD_MARKET ? 0 : px / ii->in->tick,
        .qty = qty / ii->in->lot,
        .side = side,
        .type = type,
        .tif = tif,
        .flags = (uint8_t)(flags & SP_ORDF_ALL_),
    };
    return sp_book_add(ii->book, &bo, br);
}

/* Cancel every open order of account (liquidation step 1, spec §2.7, §3.5). */
void sp__engine_cancel_all(sp_engine *e, uint32_t account)
{
    e->cancelling = true;
    while (e->acct[account].ord_head) {
        uint32_t o = e->acct[account].ord_head;
        uint64_t id = e->ord[o].id;
        sp_book_result br;
        sp_book_cancel(e->inst[e->ord[o].inst].book, id, &br);
        if (ord_find(e, id) == o) {
            /* the book did not know it (cannot happen): drop the record anyway */
            pend_release(e, &e->ord[o], e->ord[o].leaves);
            ord_release(e, o);
        }
    }
    e->cancelling = false;
}

/* ---- pre-trade risk -------------------------------------------------------------- */

/*
 * Reference price of p's exposure: the mark, else the last trade, else the
 * index, else the highest of its entry price and its open orders' prices;
 * never below px (the order being checked).
 */
static int64_t ref_px(const sp_engine *e, const eng_pos *p, int64_t px)
{
    const eng_inst *ii = &e->inst[p->inst];
    int64_t r = ii->mark ? ii->mark : ii->last ? ii->last : ii->index;
    if (r == 0) {
        uint32_t pi = (uint32_t)(p - e->pos);
        r = entry_px(ii, p);
        for (uint32_t o = e->acct[p->account].ord_head; o; o = e->ord[o].next)
            if (e->ord[o].pos == pi && e->ord[o].px > r)
                r = e->ord[o].px;
    }
    return r > px ? r : px;
}

/* Largest one-sided exposure of p if its pending were (pb, ps): qty units. */
static int64_t exposure(const eng_pos *p, int64_t pb, int64_t ps)
{
    if (p->leg == SP_POS_LONG)
        return p->size + pb; /* hedge long leg: buys open */
    if (p->leg == SP_POS_SHORT)
        return -p->size + ps; /* hedge short leg: sells open */
    int64_t lo = p->size + pb, sh = -p->size + ps;
    if (lo < 0)
        lo = 0;
    if (sh < 0)
        sh = 0;
    return lo > sh ? lo : sh;
}

/* Initial margin reserved by p with pending (pb, ps) valued at px: notional / leverage. */
static sp_err reserve(const sp_engine *e, const eng_pos *p, int64_t pb, int64_t ps, int64_t px,
                      int64_t *out)
{
    const eng_inst *ii = &e->inst[p->inst];
    int64_t x = exposure(p, pb, ps), n;
    if (p->mode == SP_MARGIN_ISOLATED)
        x -= iabs64(p->size); /* the position's own margin is already set aside */
    if (x <= 0) {
        *out = 0;
        return SP_OK;
    }
    sp_err rc = sp__engine_notional(ii, x, ref_px(e, p, px), SP_RND_UP, &n);
    if (rc == SP_OK)
        rc = sp_mul_div(n, 1, p->leverage, SP_RND_UP, out);
    return rc;
}

/*
 * Available balance of account in asset: wallet + unrealised PnL of cross
 * positions - initial margin reserved by every position and open order.
 */
static sp_err available(const sp_engine *e, uint32_t account, uint32_t asset, int64_t *out)
{
    const eng_acct *a = &e->acct[account];
    i128 av = a->wallet[asset];
    for (uint32_t i = a->pos_head; i; i = e->pos[i].next) {
        const eng_pos *p = &e->pos[i];
        if (e->inst[p->inst].asset != asset)
            continue;
        int64_t u = 0, r = 0;
        if (p->mode == SP_MARGIN_CROSS && sp__engine_upnl(e, p, &u) != SP_OK)
            return SP_EOVERFLOW;
        if (reserve(e, p, p->pend_buy, p->pend_sell, 0, &r) != SP_OK)
            return SP_EOVERFLOW;
        av += (i128)u - r;
    }
    if (av > INT64_MAX || av < INT64_MIN)
        return SP_EOVERFLOW;
    *out = (int64_t)av;
    return SP_OK;
}

/*
 * The order checks of issue 8: reduce-only, tier (position above the last
 * tier, leverage above the tier's maximum) and initial margin.  Returns a
 * reject code (0 = accepted) in *code.
 */
static sp_err order_risk(sp_engine *e, const eng_pos *p, uint8_t side, uint8_t flags, int64_t px,
                         int64_t qty, unsigned *code)
{
    const eng_inst *ii = &e->inst[p->inst];
    *code = 0;
    bool closing =
        (p->leg == SP_POS_LONG && side == SP_SELL) || (p->leg == SP_POS_SHORT && side == SP_BUY);
    if ((flags & SP_ORDF_REDUCE_ONLY) || closing) {
        /* only the part that shrinks the position is allowed (hedge closing orders are
         * reduce-only by nature) */
        int64_t room = side == SP_BUY ? -p->size - p->pend_buy : p->size - p->pend_sell;
        if (qty > room)
            *code = SP_ENG_R_REDUCE_ONLY;
        return SP_OK;
    }
    int64_t pb = p->pend_buy + (side == SP_BUY ? qty : 0);
    int64_t ps = p->pend_sell + (side == SP_SELL ? qty : 0);
    int64_t before = exposure(p, p->pend_buy, p->pend_sell), after = exposure(p, pb, ps);
    if (after <= before)
        return SP_OK; /* the order does not grow the larger side */
    int64_t rp = ref_px(e, p, px), notional;
    if (sp__engine_notional(ii, after, rp, SP_RND_UP, &notional) != SP_OK)
        return SP_EOVERFLOW;
    if (ii->tiers) {
        /* whole-position tiers count contracts (spec §4.3), brackets count notional (§2.3) */
        int t = sp_tier_find(ii->tiers, ii->tiers->kind == SP_TIER_WHOLE ? after : notional);
        if (t < 0) {
            *code = SP_ENG_R_ABOVE_LAST_TIER;
            return SP_OK;
        }
        int32_t maxlev = ii->tiers->tier[t].max_leverage;
        if (maxlev > 0 && p->leverage > maxlev) {
            *code = SP_ENG_R_LEVERAGE_ABOVE_TIER;
            return SP_OK;
        }
    }
    int64_t r0, r1, av, fee = 0, oval;
    if (reserve(e, p, p->pend_buy, p->pend_sell, px, &r0) != SP_OK ||
        reserve(e, p, pb, ps, px, &r1) != SP_OK ||
        available(e, p->account, ii->asset, &av) != SP_OK ||
        sp__engine_notional(ii, qty, rp, SP_RND_UP, &oval) != SP_OK ||
        sp_mul_div(oval, ii->in->taker_fee > 0 ? ii->in->taker_fee : 0, ENG_ONE, SP_RND_UP, &fee) !=
            SP_OK)
        return SP_EOVERFLOW;
    /* an isolated opening takes its margin from the wallet, which must hold it */
    int64_t wallet = e->acct[p->account].wallet[ii->asset];
    if ((i128)av - (r1 - r0) - fee < 0 ||
        (p->mode == SP_MARGIN_ISOLATED && (i128)wallet - (r1 - r0) - fee < 0))
        *code = SP_ENG_R_INSUFFICIENT_MARGIN;
    return SP_OK;
}

/* ---- commands -------------------------------------------------------------------- */

static bool acct_ok(sp_engine *e, const sp_engine_cmd *c, bool must_exist)
{
    if (c->account == 0 || c->account > e->cfg.max_accounts) {
        reject(e, c, SP_ENG_R_BAD_ACCOUNT);
        return false;
    }
    if (must_exist && !e->acct[c->account].exists) {
        reject(e, c, SP_ENG_R_UNKNOWN_ACCOUNT);
        return false;
    }
    return true;
}

static bool inst_ok(sp_engine *e, const sp_engine_cmd *c)
{
    if (c->inst >= e->ninst) {
        reject(e, c, SP_ENG_R_BAD_INSTRUMENT);
        return false;
    }
    return true;
}

/* Re-key every position of account after its wallet changed (cross keys depend on it). */
static void acct_touched(sp_engine *e, uint32_t account)
{
    for (uint32_t i = e->acct[account].pos_head; i; i = e->pos[i].next)
        sp__engine_index_update(e, &e->pos[i]);
}

static sp_err cmd_money(sp_engine *e, const sp_engine_cmd *c)
{
    if (c->kind == SP_CMD_INSURANCE) {
        if (c->asset >= e->nasset) {
            reject(e, c, SP_ENG_R_BAD_ASSET);
            return SP_OK;
        }
        if (c->amount <= 0) {
            reject(e, c, SP_ENG_R_BAD_AMOUNT);
            return SP_OK;
        }
        e->insurance[c->asset] += c->amount;
        e->net_in[c->asset] += c->amount;
        sp_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.kind = SP_EV_INSURANCE;
        ev.sub = SP_ENG_INS_SEED;
        ev.aux[0] = c->amount;
        ev.aux[1] = e->insurance[c->asset];
        sp__engine_emit(e, &ev, NULL);
        return SP_OK;
    }
    if (!acct_ok(e, c, c->kind == SP_CMD_WITHDRAW))
        return SP_OK;
    if (c->asset >= e->nasset) {
        reject(e, c, SP_ENG_R_BAD_ASSET);
        return SP_OK;
    }
    if (c->amount <= 0) {
        reject(e, c, SP_ENG_R_BAD_AMOUNT);
        return SP_OK;
    }
    eng_acct *a = &e->acct[c->account];
    if (c->kind == SP_CMD_DEPOSIT) {
        if (a->wallet[c->asset] > INT64_MAX / 2 - c->amount)
            return SP_EOVERFLOW;
        a->exists = 1;
        a->wallet[c->asset] += c->amount;
        e->net_in[c->asset] += c->amount;
    } else {
        int64_t av;
        if (available(e, c->account, c->asset, &av) != SP_OK)
            return SP_EOVERFLOW;
        if (c->amount > av || c->amount > a->wallet[c->asset]) {
            reject(e, c, SP_ENG_R_INSUFFICIENT_BALANCE);
            return SP_OK;
        }
        a->wallet[c->asset] -= c->amount;
        e->net_in[c->asset] -= c->amount;
    }
    acct_touched(e, c->account);
    return SP_OK;
}

static sp_err cmd_settings(sp_engine *e, const sp_engine_cmd *c)
{
    if (!acct_ok(e, c, true))
        return SP_OK;
    eng_acct *a = &e->acct[c->account];
    if (c->kind == SP_CMD_POSITION_MODE) {
        if (a->npos_open || a->norders) {
            reject(e, c, SP_ENG_R_MODE_LOCKED);
            return SP_OK;
        }
        a->hedge = c->hedge ? 1 : 0;
        return SP_OK;
    }
    if (!inst_ok(e, c))
        return SP_OK;
    if (c->kind == SP_CMD_MARGIN_MODE && c->margin_mode != SP_MARGIN_ISOLATED &&
        c->margin_mode != SP_MARGIN_CROSS) {
        reject(e, c, SP_ENG_R_UNKNOWN_CMD);
        return SP_OK;
    }
    if (c->kind == SP_CMD_LEVERAGE && (c->leverage < 1 || c->leverage > SP_ENGINE_LEVERAGE_MAX)) {
        reject(e, c, SP_ENG_R_BAD_LEVERAGE);
        return SP_OK;
    }
    /* settings apply to every leg of the instrument (one-way: BOTH; hedge: LONG and SHORT) */
    uint8_t legs[2] = {SP_POS_BOTH, SP_POS_BOTH};
    int nl = 1;
    if (a->hedge) {
        legs[0] = SP_POS_LONG;
        legs[1] = SP_POS_SHORT;
        nl = 2;
    }
    eng_pos *ps[2] = {NULL, NULL};
    for (int k = 0; k < nl; k++) {
        ps[k] = sp__engine_pos_get(e, c->account, c->inst, legs[k], true);
        if (!ps[k]) {
            reject(e, c, SP_ENG_R_POOL_FULL);
            return SP_OK;
        }
    }
    for (int k = 0; k < nl; k++) {
        eng_pos *p = ps[k];
        if (c->kind == SP_CMD_MARGIN_MODE &&
            (p->size || p->pend_buy || p->pend_sell || p->mode == c->margin_mode)) {
            if (p->mode == c->margin_mode)
                continue;
            reject(e, c, SP_ENG_R_MODE_LOCKED);
            return SP_OK;
        }
    }
    for (int k = 0; k < nl; k++) {
        eng_pos *p = ps[k];
        if (c->kind == SP_CMD_MARGIN_MODE) {
            p->mode = c->margin_mode;
            continue;
        }
        /* leverage: not above the maximum of the tier the current exposure is in (§2.3) */
        const eng_inst *ii = &e->inst[c->inst];
        int64_t x = exposure(p, p->pend_buy, p->pend_sell), n = 0;
        if (ii->tiers) {
            if (sp__engine_notional(ii, x, ref_px(e, p, 0), SP_RND_UP, &n) != SP_OK)
                return SP_EOVERFLOW;
            int t = sp_tier_find(ii->tiers, ii->tiers->kind == SP_TIER_WHOLE ? x : n);
            if (t < 0) {
                reject(e, c, SP_ENG_R_ABOVE_LAST_TIER);
                return SP_OK;
            }
            int32_t maxlev = ii->tiers->tier[t].max_leverage;
            if (maxlev > 0 && c->leverage > maxlev) {
                reject(e, c, SP_ENG_R_LEVERAGE_ABOVE_TIER);
                return SP_OK;
            }
        }
    }
    if (c->kind == SP_CMD_LEVERAGE) {
        int32_t old[2] = {ps[0]->leverage, nl > 1 ? ps[1]->leverage : 0};
        for (int k = 0; k < nl; k++)
            ps[k]->leverage = (int32_t)c->leverage;
        int64_t av;
        if (available(e, c->account, e->inst[c->inst].asset, &av) != SP_OK)
            return SP_EOVERFLOW;
        if (av < 0) {
            for (int k = 0; k < nl; k++)
                ps[k]->leverage = old[k];
            reject(e, c, SP_ENG_R_INSUFFICIENT_MARGIN);
            return SP_OK;
        }
    }
    acct_touched(e, c->account);
    return SP_OK;
}

static bool px_ok(const eng_inst *ii, int64_t px)
{
    return px > 0 && px % ii->in->tick == 0;
}

static bool qty_ok(const eng_inst *ii, int64_t qty)
{
    return qty > 0 && qty % ii->in->lot == 0;
}

static sp_err cmd_order(sp_engine *e, const sp_engine_cmd *c)
{
    if (!acct_ok(e, c, true) || !inst_ok(e, c))
        return SP_OK;
    eng_inst *ii = &e->inst[c->inst];
    eng_acct *a = &e->acct[c->account];
    if (c->side > SP_SELL || c->type > SP_ORD_MARKET || c->tif > SP_TIF_FOK ||
        (c->flags & ~SP_ORDF_ALL_)) {
        reject(e, c, SP_BREASON_BAD_TYPE);
        return SP_OK;
    }
    if (c->order_id == 0 || c->order_id >= SP_ENGINE_LIQ_ID_BASE || ord_find(e, c->order_id)) {
        reject(e, c, SP_ENG_R_BAD_ORDER);
        return SP_OK;
    }
    if (!qty_ok(ii, c->qty)) {
        reject(e, c, SP_ENG_R_BAD_QTY);
        return SP_OK;
    }
    if (c->type == SP_ORD_LIMIT && !px_ok(ii, c->px)) {
        reject(e, c, SP_ENG_R_BAD_PRICE);
        return SP_OK;
    }
    uint8_t leg = SP_POS_BOTH;
    if (a->hedge) {
        if (c->pos_side != SP_POS_LONG && c->pos_side != SP_POS_SHORT) {
            reject(e, c, SP_ENG_R_BAD_SIDE);
            return SP_OK;
        }
        leg = c->pos_side;
    } else if (c->pos_side != SP_POS_BOTH) {
        reject(e, c, SP_ENG_R_BAD_SIDE);
        return SP_OK;
    }
    int64_t px = c->px;
    if (c->type == SP_ORD_MARKET) {
        int64_t best;
        px = ii->mark;
        if (px == 0 && sp_book_best(ii->book, c->side == SP_BUY ? SP_SELL : SP_BUY, &best, NULL))
            px = best * ii->in->tick;
        if (px == 0) {
            reject(e, c, SP_ENG_R_NO_MARK);
            return SP_OK;
        }
    }
    eng_pos *p = sp__engine_pos_get(e, c->account, c->inst, leg, true);
    if (!p || e->ord_free == 0) {
        reject(e, c, SP_ENG_R_POOL_FULL);
        return SP_OK;
    }
    unsigned code;
    if (order_risk(e, p, c->side, c->flags, px, c->qty, &code) != SP_OK)
        return SP_EOVERFLOW;
    if (code) {
        reject(e, c, code);
        return SP_OK;
    }
    sp_book_result br;
    memset(&br, 0, sizeof(br));
    sp_err rc = sp__engine_order_in(e, c->account, c->inst, c->order_id, c->side, c->type, c->tif,
                                    c->flags, c->type == SP_ORD_MARKET ? 0 : c->px, c->qty,
                                    (uint32_t)(p - e->pos), &br);
    if (rc != SP_OK)
        return rc;
    if (e->res)
        e->res->filled = br.filled * ii->in->lot;
    return SP_OK;
}

static sp_err cmd_cancel_amend(sp_engine *e, const sp_engine_cmd *c)
{
    if (!acct_ok(e, c, true) || !inst_ok(e, c))
        return SP_OK;
    uint32_t o = ord_find(e, c->order_id);
    if (o == 0 || e->ord[o].account != c->account || e->ord[o].inst != c->inst) {
        reject(e, c, SP_ENG_R_UNKNOWN_ORDER);
        return SP_OK;
    }
    eng_inst *ii = &e->inst[c->inst];
    sp_book_result br;
    if (c->kind == SP_CMD_CANCEL)
        return sp_book_cancel(ii->book, c->order_id, &br);
    eng_ord *r = &e->ord[o];
    if (!qty_ok(ii, c->qty)) {
        reject(e, c, SP_ENG_R_BAD_QTY);
        return SP_OK;
    }
    if (c->px != 0 && !px_ok(ii, c->px)) {
        reject(e, c, SP_ENG_R_BAD_PRICE);
        return SP_OK;
    }
    if (c->qty > r->leaves || (c->px != 0 && c->px != r->px)) {
        /* growing or re-pricing: the extra exposure passes the same checks as a new order */
        unsigned code;
        eng_pos *p = &e->pos[r->pos];
        int64_t extra = c->qty - r->leaves;
        if (extra > 0) {
            if (order_risk(e, p, r->side, r->flags, c->px ? c->px : r->px, extra, &code) != SP_OK)
                return SP_EOVERFLOW;
            if (code) {
                reject(e, c, code);
                return SP_OK;
            }
        }
    }
    r->flags |= ENG_ORDF_AMENDING;
    sp_err rc = sp_book_amend(ii->book, c->order_id, c->px == 0, c->px / ii->in->tick,
                              c->qty / ii->in->lot, &br);
    o = ord_find(e, c->order_id);
    if (o)
        e->ord[o].flags &= (uint8_t)~ENG_ORDF_AMENDING;
    if (e->res)
        e->res->filled = br.filled * ii->in->lot;
    return rc;
}

/* Keep the funding clock: the first command with a time anchors the next settlement. */
static void anchor_funding(sp_engine *e)
{
    for (uint32_t i = 0; i < e->ninst; i++) {
        eng_inst *ii = &e->inst[i];
        if (ii->next_funding_ns == 0 && e->now_ns > 0 && ii->in->funding_interval_h > 0) {
            int64_t iv = (int64_t)ii->in->funding_interval_h * 3600 * INT64_C(1000000000);
            ii->next_funding_ns = (e->now_ns / iv + 1) * iv; /* 00:00/08:00/16:00 UTC (§2.5) */
        }
    }
}

sp_err sp_engine_submit(sp_engine *e, const sp_engine_cmd *c, sp_engine_result *res)
{
    sp_engine_result scratch;
    if (!e || !c)
        return SP_EINVAL;
    if (!res)
        res = &scratch;
    memset(res, 0, sizeof(*res));
    e->res = res;
    e->fill_err = SP_OK;
    e->st.commands++;
    if (c->ts_ns > e->now_ns)
        e->now_ns = c->ts_ns;
    anchor_funding(e);
    sp_err rc = SP_OK;
    switch (c->kind) {
    case SP_CMD_DEPOSIT:
    case SP_CMD_WITHDRAW:
    case SP_CMD_INSURANCE:
        rc = cmd_money(e, c);
        break;
    case SP_CMD_LEVERAGE:
    case SP_CMD_MARGIN_MODE:
    case SP_CMD_POSITION_MODE:
        rc = cmd_settings(e, c);
        break;
    case SP_CMD_ORDER:
    case SP_CMD_AMEND:
        /* fills move positions away from mark: the liquidation engine looks again */
        rc = c->kind == SP_CMD_ORDER ? cmd_order(e, c) : cmd_cancel_amend(e, c);
        if (rc == SP_OK && c->inst < e->ninst)
            rc = sp__engine_liq_scan(e, c->inst);
        break;
    case SP_CMD_CANCEL:
        rc = cmd_cancel_amend(e, c);
        break;
    case SP_CMD_MARK:
        if (!inst_ok(e, c))
            break;
        if (c->px <= 0) { /* a mark need not sit on the tick (spec §2.4: it is computed) */
            reject(e, c, SP_ENG_R_BAD_PRICE);
            break;
        }
        e->inst[c->inst].mark = c->px;
        sp__engine_emit_mark(e, c->inst);
        rc = sp__engine_liq_scan(e, c->inst);
        break;
    case SP_CMD_INDEX:
        if (!inst_ok(e, c))
            break;
        if (c->px <= 0) {
            reject(e, c, SP_ENG_R_BAD_PRICE);
            break;
        }
        rc = sp__engine_index_cmd(e, c->inst, c->px);
        if (rc == SP_OK)
            rc = sp__engine_liq_scan(e, c->inst);
        break;
    case SP_CMD_FUNDING:
        if (!inst_ok(e, c))
            break;
        if (c->has_rate && (c->rate <= -ENG_ONE || c->rate >= ENG_ONE)) {
            reject(e, c, SP_ENG_R_BAD_RATE);
            break;
        }
        if (e->inst[c->inst].mark == 0) {
            reject(e, c, SP_ENG_R_NO_MARK);
            break;
        }
        rc = sp__engine_funding(e, c->inst, c->has_rate != 0, c->rate);
        for (uint32_t i = 0; rc == SP_OK && i < e->ninst; i++)
            rc = sp__engine_liq_scan(e, i);
        break;
    case SP_CMD_TICK:
        for (uint32_t i = 0; rc == SP_OK && i < e->ninst; i++) {
            eng_inst *ii = &e->inst[i];
            if (ii->next_funding_ns && e->now_ns >= ii->next_funding_ns && ii->mark) {
                int64_t iv = (int64_t)ii->in->funding_interval_h * 3600 * INT64_C(1000000000);
                rc = sp__engine_funding(e, i, false, 0);
                while (ii->next_funding_ns <= e->now_ns)
                    ii->next_funding_ns += iv;
            }
        }
        for (uint32_t i = 0; rc == SP_OK && i < e->ninst; i++)
            rc = sp__engine_liq_scan(e, i);
        break;
    default:
        reject(e, c, SP_ENG_R_UNKNOWN_CMD);
        break;
    }
    if (rc == SP_OK && e->fill_err != SP_OK)
        rc = e->fill_err;
    e->res = NULL;
    return rc;
}

/* ---- queries ----------------------------------------------------------------------- */

sp_err sp_engine_account(const sp_engine *e, uint32_t account, uint32_t asset,
                         sp_engine_account_info *out)
{
    if (!e || !out || account == 0 || account > e->cfg.max_accounts || asset >= e->nasset)
        return SP_EINVAL;
    memset(out, 0, sizeof(*out));
    const eng_acct *a = &e->acct[account];
    out->exists = a->exists;
    out->hedge = a->hedge;
    out->wallet = a->wallet[asset];
    out->open_orders = a->norders;
    out->liquidations = a->liquidations;
    for (uint32_t i = a->pos_head; i; i = e->pos[i].next) {
        const eng_pos *p = &e->pos[i];
        if (e->inst[p->inst].asset != asset)
            continue;
        if (p->mode == SP_MARGIN_ISOLATED) {
            out->isolated += p->margin;
            continue;
        }
        int64_t u = 0, mm = 0;
        sp__engine_upnl(e, p, &u);
        sp__engine_mm(e, p, e->inst[p->inst].mark, &mm, NULL);
        out->upnl += u;
        out->maint_margin += mm;
    }
    return SP_OK;
}

sp_err sp_engine_position(const sp_engine *e, uint32_t account, uint32_t inst, sp_pos_side leg,
                          sp_engine_position_info *out)
{
    if (!e || !out || account == 0 || account > e->cfg.max_accounts || inst >= e->ninst)
        return SP_EINVAL;
    memset(out, 0, sizeof(*out));
    const eng_pos *p = sp__engine_pos_get((sp_engine *)e, account, inst, (uint8_t)leg, false);
    if (!p)
        return SP_OK;
    const eng_inst *ii = &e->inst[inst];
    out->exists = true;
    out->size = p->size;
    out->entry_value = p->value;
    out->entry_px = entry_px(ii, p);
    out->margin = p->margin;
    out->pending_buy = p->pend_buy;
    out->pending_sell = p->pend_sell;
    out->leverage = p->leverage;
    out->mode = (sp_margin_mode)p->mode;
    sp__engine_upnl(e, p, &out->upnl);
    sp__engine_mm(e, p, ii->mark, &out->maint_margin, NULL);
    int64_t key;
    bool has = false;
    if (p->size != 0 && sp__engine_liq_key(e, p, &has, &key, &out->liq_px) == SP_OK)
        out->has_liq = has;
    return SP_OK;
}

void sp_engine_get_stats(const sp_engine *e, sp_engine_stats *out)
{
    if (e && out)
        *out = e->st;
}

int64_t sp_engine_insurance(const sp_engine *e, uint32_t asset)
{
    return e && asset < e->nasset ? e->insurance[asset] : 0;
}

int64_t sp_engine_fees(const sp_engine *e, uint32_t asset)
{
    return e && asset < e->nasset ? e->fees[asset] : 0;
}

int64_t sp_engine_mark(const sp_engine *e, uint32_t inst)
{
    return e && inst < e->ninst ? e->inst[inst].mark : 0;
}

int64_t sp_engine_index(const sp_engine *e, uint32_t inst)
{
    return e && inst < e->ninst ? e->inst[inst].index : 0;
}

const sp_book *sp_engine_book(const sp_engine *e, uint32_t inst)
{
    return e && inst < e->ninst ? e->inst[inst].book : NULL;
}

void sp_engine_set_naive_scan(sp_engine *e, bool naive)
{
    if (e)
        e->cfg.naive_scan = naive;
}
