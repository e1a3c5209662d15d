/*
 * liq.c -- the liquidation engine: the index of positions by liquidation
 * price, the trigger on mark, partial liquidation down a tier, the
 * take-over at the bankruptcy price, the insurance fund, and
 * auto-deleveraging (spec §2.7, §3.5, §4.5, §5, §9).
 *
 * The index.  A position whose liquidation price depends only on itself
 * (isolated, or the only cross position of its account) sits in one of
 * two binary heaps of its instrument, keyed by a conservative bound of its
 * liquidation price from sp_rules_liq (longs: a max-heap, liquidated when
 * mark <= key; shorts: a min-heap, mark >= key).  A mark update pops only
 * the positions whose key the mark crossed, so its cost is proportional to
 * the positions crossed (times log n), not to all positions.  Accounts with
 * several cross positions cannot be keyed by one price; they are kept in a
 * small set checked on every mark update.  The key is only a filter: the
 * decision is always the exact check margin balance <= maintenance margin
 * at mark (spec §9), and both scans (index and naive) decide on the same
 * set in the same order, so their results are identical.
 *
 * A liquidation (per account, in account id order):
 *   1. cancel every open order of the account (spec §2.7, §3.5);
 *   2. where the venue liquidates partially (Binance "one large IOC",
 *      Bybit FillOrKill to a lower risk limit, OKX tiers >= 3; spec §2.7,
 *      §3.5, §4.5), send an IOC reducing the position to the cap of the
 *      tier below, at the bankruptcy price, charging the liquidation fee
 *      on the amount filled; stop if the account is margin compliant;
 *   3. otherwise charge the liquidation fee (capped at the equity left,
 *      spec §2.7 "remaining collateral goes to the fund") to the insurance
 *      fund and take the position over at the bankruptcy price: the trader
 *      ends at zero, the fund holds the position;
 *   4. the fund sends an IOC at the bankruptcy price; fills better than it
 *      pay the difference into the fund; what is left goes out at worse
 *      prices as far as the fund can pay (a fill worse draws from it);
 *   5. what is still left is auto-deleveraged against the opposite side
 *      ranked by the venue's score (Binance LeveragePnl, BitMEX PnL% x
 *      effective leverage; Bybit and OKX publish no formula, spec §8.6,
 *      and use the BitMEX ranking here), at the bankruptcy price, no fee.
 */
#include <string.h>

#include "engine/engine_int.h"
#include "stampede/alloc.h"

/* Slack (scale 8 units) added to a key: entry prices are rounded to 1e-8 for the rules. */
#define KEY_SLACK 4

static int64_t iabs64(int64_t x)
{
    return x < 0 ? -x : x;
}

/* ---- the heaps -------------------------------------------------------------------- */

sp_err sp__engine_heaps_init(sp_engine *e, eng_inst *ii)
{
    ii->longs.a = sp_calloc((size_t)e->cfg.max_positions + 1, sizeof(uint32_t));
    ii->shorts.a = sp_calloc((size_t)e->cfg.max_positions + 1, sizeof(uint32_t));
    ii->longs.max = true;
    ii->shorts.max = false;
    return ii->longs.a && ii->shorts.a ? SP_OK : SP_ENOMEM;
}

/* a before b in heap h? (ties by position index: a deterministic heap) */
static bool before(const sp_engine *e, const eng_heap *h, uint32_t a, uint32_t b)
{
    int64_t ka = e->pos[a].liq_key, kb = e->pos[b].liq_key;
    if (ka != kb)
        return h->max ? ka > kb : ka < kb;
    return a < b;
}

static void heap_set(sp_engine *e, eng_heap *h, uint32_t at, uint32_t pi)
{
    h->a[at] = pi;
    e->pos[pi].heap_at = at + 1;
}

static void sift_up(sp_engine *e, eng_heap *h, uint32_t at)
{
    uint32_t pi = h->a[at];
    while (at > 0) {
        uint32_t up = (at - 1) / 2;
        if (!before(e, h, pi, h->a[up]))
            break;
        heap_set(e, h, at, h->a[up]);
        at = up;
    }
    heap_set(e, h, at, pi);
}

static void sift_down(sp_engine *e, eng_heap *h, uint32_t at)
{
    uint32_t pi = h->a[at];
    for (;;) {
        uint32_t l = 2 * at + 1, r = l + 1, best = at;
        uint32_t bp = pi;
        if (l < h->n && before(e, h, h->a[l], bp)) {
            best = l;
            bp = h->a[l];
        }
        if (r < h->n && before(e, h, h->a[r], bp))
            best = r;
        if (best == at)
            break;
        heap_set(e, h, at, h->a[best]);
        at = best;
    }
    heap_set(e, h, at, pi);
}

static void heap_remove(sp_engine *e, eng_heap *h, uint32_t pi)
{
    uint32_t at = e->pos[pi].heap_at - 1;
    e->pos[pi].heap_at = 0;
    h->n--;
    if (at == h->n)
        return;
    heap_set(e, h, at, h->a[h->n]);
    sift_up(e, h, at);
    sift_down(e, h, e->pos[h->a[at]].heap_at - 1);
}

/* ---- keys ----------------------------------------------------------------------------- */

/*
 * The liquidation price of p from the venue's rules (spec §2.2, §3.2, §4.2;
 * tiers re-solved at the liquidation notional, §9) and the index key: for
 * a long the exact price rounded up plus a slack, for a short rounded down
 * minus it.  *has = false when the position has no liquidation price.  A
 * position the rules cannot price (past the last tier) gets a key every
 * mark crosses, so it is always checked exactly.
 */
sp_err sp__engine_liq_key(const sp_engine *e, const eng_pos *p, bool *has, int64_t *key,
                          int64_t *liq_px)
{
    sp_rules_pos rp;
    sp_rules_out ro;
    sp__engine_rules_pos(e, p, &rp);
    *has = false;
    *liq_px = 0;
    if (p->size == 0)
        return SP_OK;
    sp_err rc = rp.entry_px > 0 ? sp_rules_liq(&rp, &ro) : SP_EINVAL;
    if (rc != SP_OK) {
        *has = true;
        *key = p->size > 0 ? INT64_MAX : INT64_MIN;
        return SP_OK;
    }
    if (!ro.has_liq)
        return SP_OK;
    int64_t k;
    if (sp_div_i128(ro.liq_num, ro.liq_den, p->size > 0 ? SP_RND_UP : SP_RND_DOWN, &k) != SP_OK)
        k = p->size > 0 ? INT64_MAX - KEY_SLACK : INT64_MIN + KEY_SLACK;
    *has = true;
    *key = p->size > 0 ? k + KEY_SLACK : k - KEY_SLACK;
    *liq_px = ro.liq_px;
    return SP_OK;
}

/* Cross positions of account with a non-zero size. */
static int ncross_open(const sp_engine *e, uint32_t account)
{
    int n = 0;
    for (uint32_t i = e->acct[account].pos_head; i; i = e->pos[i].next)
        n += e->pos[i].size != 0 && e->pos[i].mode == SP_MARGIN_CROSS;
    return n;
}

/* Keep the account in the set of multi-position cross accounts iff it is one. */
void sp__engine_multi_update(sp_engine *e, uint32_t account)
{
    eng_acct *a = &e->acct[account];
    bool want = ncross_open(e, account) >= 2;
    if (want && !a->multi_at) {
        e->multi[e->nmulti++] = account;
        a->multi_at = e->nmulti;
    } else if (!want && a->multi_at) {
        uint32_t at = a->multi_at - 1, last = e->multi[--e->nmulti];
        e->multi[at] = last;
        e->acct[last].multi_at = at + 1;
        a->multi_at = 0;
    }
}

void sp__engine_index_remove(sp_engine *e, eng_pos *p)
{
    if (!p->heap_at)
        return;
    eng_inst *ii = &e->inst[p->inst];
    uint32_t pi = (uint32_t)(p - e->pos);
    /* the heap a position is in is the one whose slot holds it */
    eng_heap *h = &ii->longs;
    if (!(p->heap_at <= h->n && h->a[p->heap_at - 1] == pi))
        h = &ii->shorts;
    heap_remove(e, h, pi);
}

/* Put p where its state says: in its side's heap under its current key, or nowhere. */
void sp__engine_index_update(sp_engine *e, eng_pos *p)
{
    sp__engine_index_remove(e, p);
    if (p->size == 0)
        return;
    if (p->mode == SP_MARGIN_CROSS && ncross_open(e, p->account) >= 2)
        return; /* multi-position cross account: checked on every mark update */
    bool has;
    int64_t key, lp;
    if (sp__engine_liq_key(e, p, &has, &key, &lp) != SP_OK || !has)
        return;
    eng_inst *ii = &e->inst[p->inst];
    eng_heap *h = p->size > 0 ? &ii->longs : &ii->shorts;
    uint32_t pi = (uint32_t)(p - e->pos);
    p->liq_key = key;
    heap_set(e, h, h->n, pi);
    h->n++;
    sift_up(e, h, h->n - 1);
}

/* ---- the exact check ------------------------------------------------------------------ */

/*
 * Cross state of account in asset: margin balance (wallet + unrealised PnL
 * of cross positions at mark) and the sum of their maintenance margins.
 */
sp_err sp__engine_acct_state(const sp_engine *e, uint32_t account, uint32_t asset, int64_t *equity,
                             int64_t *mm, int64_t *upnl)
{
    const eng_acct *a = &e->acct[account];
    i128 eq = a->wallet[asset], m = 0, u = 0;
    for (uint32_t i = a->pos_head; i; i = e->pos[i].next) {
        const eng_pos *p = &e->pos[i];
        if (p->size == 0 || p->mode != SP_MARGIN_CROSS || e->inst[p->inst].asset != asset)
            continue;
        int64_t pu, pm;
        sp_err rc = sp__engine_upnl(e, p, &pu);
        if (rc == SP_OK)
            rc = sp__engine_mm(e, p, e->inst[p->inst].mark, &pm, NULL);
        if (rc != SP_OK)
            return rc;
        u += pu;
        m += pm;
    }
    eq += u;
    if (eq > INT64_MAX || eq < INT64_MIN || m > INT64_MAX)
        return SP_EOVERFLOW;
    *equity = (int64_t)eq;
    *mm = (int64_t)m;
    if (upnl)
        *upnl = (int64_t)u;
    return SP_OK;
}

/* Is the isolated position p at or below maintenance margin (spec §9)? */
static bool iso_under(const sp_engine *e, const eng_pos *p)
{
    int64_t u, mm;
    if (p->size == 0 || e->inst[p->inst].mark == 0)
        return false;
    if (sp__engine_upnl(e, p, &u) != SP_OK ||
        sp__engine_mm(e, p, e->inst[p->inst].mark, &mm, NULL) != SP_OK)
        return true; /* cannot price it exactly: treat as under (it is past the last tier) */
    return (i128)p->margin + u <= mm;
}

/* Is the cross book of account in asset at or below maintenance margin? */
static bool cross_under(const sp_engine *e, uint32_t account, uint32_t asset)
{
    int64_t eq, mm;
    bool any = false;
    for (uint32_t i = e->acct[account].pos_head; i; i = e->pos[i].next) {
        const eng_pos *p = &e->pos[i];
        if (p->size != 0 && p->mode == SP_MARGIN_CROSS && e->inst[p->inst].asset == asset &&
            e->inst[p->inst].mark != 0)
            any = true;
    }
    if (!any)
        return false;
    if (sp__engine_acct_state(e, account, asset, &eq, &mm, NULL) != SP_OK)
        return true;
    return eq <= mm;
}

static bool acct_under(sp_engine *e, uint32_t account)
{
    e->st.liq_checks++;
    for (uint32_t i = e->acct[account].pos_head; i; i = e->pos[i].next)
        if (e->pos[i].mode == SP_MARGIN_ISOLATED && iso_under(e, &e->pos[i]))
            return true;
    for (uint32_t a = 0; a < e->nasset; a++)
        if (cross_under(e, account, a))
            return true;
    return false;
}

/* ---- events ------------------------------------------------------------------------ */

static void emit_liq(sp_engine *e, const eng_inst *ii, uint8_t sub, bool sell, int64_t px,
                     int64_t qty, uint32_t account, int64_t fee)
{
    sp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = SP_EV_LIQ_ENGINE;
    ev.sub = sub;
    ev.flags = sell ? SP_EVF_SELL : 0;
    ev.px = px;
    ev.qty = qty;
    ev.aux[0] = account;
    ev.aux[1] = ii->mark;
    ev.aux[2] = fee;
    sp__engine_emit(e, &ev, ii);
}

static void emit_ins(sp_engine *e, const eng_inst *ii, uint8_t sub, int64_t delta, uint32_t account)
{
    sp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = SP_EV_INSURANCE;
    ev.sub = sub;
    ev.aux[0] = delta;
    ev.aux[1] = e->insurance[ii->asset];
    ev.aux[2] = account;
    sp__engine_emit(e, &ev, ii);
}

/* ---- prices ------------------------------------------------------------------------- */

/*
 * Bankruptcy price of p given the collateral m behind it (isolated margin,
 * or cross wallet + the other cross positions' PnL): the price where
 * m + PnL = 0, i.e. BP = (V - side x m) / q (spec §1, §2.2 with MMR = cum = 0).
 * Rounded against the fund (a long's up, a short's down) to 1e-8; a long
 * whose collateral exceeds its value has no positive BP and gets 1e-8.
 */
static sp_err bk_price(const sp_engine *e, const eng_pos *p, i128 m, int64_t *bp)
{
    const eng_inst *ii = &e->inst[p->inst];
    i128 num = ((i128)p->value - (p->size > 0 ? m : -m)) * ENG_ONE * ENG_ONE;
    i128 den = (i128)iabs64(p->size) * ii->ct;
    sp_err rc = sp_div_i128(num, den, p->size > 0 ? SP_RND_UP : SP_RND_DOWN, bp);
    if (rc == SP_OK && *bp < 1)
        *bp = 1;
    return rc;
}

/* Round a price to the tick: up for a sell's limit (never below bp), down for a buy's. */
static int64_t tick_limit(const eng_inst *ii, int64_t px, bool sell)
{
    int64_t t = ii->in->tick, q = px / t;
    if (sell && q * t < px)
        q++;
    if (q < 1)
        q = 1;
    return q * t;
}

/* ---- ADL ------------------------------------------------------------------------------- */

/* Venue score of an opposite position for ADL ranking (spec §2.7, §5). */
static int64_t adl_score(const sp_engine *e, const eng_pos *p)
{
    const eng_inst *ii = &e->inst[p->inst];
    int64_t u = 0, mm = 0, s = 0;
    sp__engine_upnl(e, p, &u);
    if (e->cfg.venue == SP_VENUE_BINANCE_UM) {
        int64_t wb =
            p->mode == SP_MARGIN_ISOLATED ? p->margin : e->acct[p->account].wallet[ii->asset];
        sp__engine_mm(e, p, ii->mark, &mm, NULL);
        if (sp_rules_adl_binance(u, wb, mm, &s) != SP_OK)
            s = 0;
        return s;
    }
    i128 m = p->margin;
    if (p->mode == SP_MARGIN_CROSS) {
        int64_t eq, tm, tu;
        if (sp__engine_acct_state(e, p->account, ii->asset, &eq, &tm, &tu) != SP_OK)
            return 0;
        m = (i128)eq - u; /* collateral behind p: the wallet and the others' PnL */
    }
    int64_t bp, ep = 0;
    i128 epn = (i128)p->value * ENG_ONE * ENG_ONE, epd = (i128)iabs64(p->size) * ii->ct;
    if (bk_price(e, p, m, &bp) != SP_OK || sp_div_i128(epn, epd, SP_RND_HALF_EVEN, &ep) != SP_OK)
        return 0;
    if (sp_rules_adl_bitmex(p->size > 0 ? 1 : -1, iabs64(p->size), ep, ii->mark, bp, &s) != SP_OK)
        s = 0;
    return s;
}

/* Does entry i rank after entry j (score descending, then account ascending)? */
static bool ranks_after(const sp_engine *e, uint32_t i, uint32_t j)
{
    if (e->scratch_key[i] != e->scratch_key[j])
        return e->scratch_key[i] < e->scratch_key[j];
    return e->pos[e->scratch[i]].account > e->pos[e->scratch[j]].account;
}

static void swap_entries(sp_engine *e, uint32_t i, uint32_t j)
{
    uint32_t t = e->scratch[i];
    int64_t k = e->scratch_key[i];
    e->scratch[i] = e->scratch[j];
    e->scratch_key[i] = e->scratch_key[j];
    e->scratch[j] = t;
    e->scratch_key[j] = k;
}

/* Sift entry at down a heap whose root is the best-ranked entry. */
static void rank_down(sp_engine *e, uint32_t at, uint32_t n)
{
    for (;;) {
        uint32_t l = 2 * at + 1, r = l + 1, m = at;
        if (l < n && ranks_after(e, m, l))
            m = l;
        if (r < n && ranks_after(e, m, r))
            m = r;
        if (m == at)
            return;
        swap_entries(e, at, m);
        at = m;
    }
}

/*
 * Make scratch[0..n) a heap with the best rank at the root: O(n).  ADL
 * then pops only the few counterparties it needs, O(log n) each, instead
 * of sorting the whole opposite side.
 */
static void rank_heapify(sp_engine *e, uint32_t n)
{
    for (uint32_t i = n / 2; i-- > 0;)
        rank_down(e, i, n);
}

/* Move the best entry of the heap scratch[0..n) to scratch[n - 1]; the rest stays a heap. */
static void rank_pop(sp_engine *e, uint32_t n)
{
    swap_entries(e, 0, n - 1);
    rank_down(e, 0, n - 1);
}

/* Close the fund's remaining position in inst against the ranked opposite side. */
static sp_err adl(sp_engine *e, uint32_t inst, uint32_t liq_account, int64_t bp)
{
    eng_inst *ii = &e->inst[inst];
    eng_fundpos *f = &ii->fund;
    uint32_t n = 0;
    for (uint32_t i = 1; i <= e->cfg.max_positions; i++) {
        const eng_pos *p = &e->pos[i];
        if (p->account && p->inst == inst && p->size != 0 && (p->size > 0) != (f->size > 0)) {
            e->scratch[n] = i;
            e->scratch_key[n] = adl_score(e, p);
            n++;
        }
    }
    rank_heapify(e, n);
    emit_liq(e, ii, SP_ENG_LIQ_ADL, f->size > 0, bp, iabs64(f->size), liq_account, 0);
    for (uint32_t left = n; left > 0 && f->size != 0; left--) {
        rank_pop(e, left);
        uint32_t k = left - 1; /* the best remaining counterparty */
        eng_pos *p = &e->pos[e->scratch[k]];
        int64_t abs_f = iabs64(f->size), c = iabs64(p->size) < abs_f ? iabs64(p->size) : abs_f;
        int64_t value = f->value;
        if (c < abs_f && sp_mul_div(f->value, c, abs_f, SP_RND_HALF_EVEN, &value) != SP_OK)
            return SP_EOVERFLOW;
        /* at the fund's entry (the bankruptcy price): the fund neither gains nor loses */
        f->value -= value;
        f->size += f->size > 0 ? -c : c;
        sp_err rc = sp__engine_close_at(e, p, c, value, false);
        if (rc != SP_OK)
            return rc;
        e->st.adl++;
        sp_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.kind = SP_EV_ADL;
        ev.flags = p->size > 0 || (p->size == 0 && f->size < 0) ? SP_EVF_SELL : 0;
        ev.px = bp;
        ev.qty = c;
        ev.aux[0] = p->account;
        ev.aux[1] = liq_account;
        ev.aux[2] = e->scratch_key[k];
        sp__engine_emit(e, &ev, ii);
    }
    return SP_OK;
}

/* ---- the fund unwinds ------------------------------------------------------------------ */

/* Send the fund's position in inst to the book at bp, then as far as the fund pays, then ADL. */
static sp_err fund_unwind(sp_engine *e, uint32_t inst, uint32_t liq_account, int64_t bp)
{
    eng_inst *ii = &e->inst[inst];
    eng_fundpos *f = &ii->fund;
    for (int round = 0; round < 2 && f->size != 0; round++) {
        bool sell = f->size > 0;
        int64_t limit = tick_limit(ii, bp, sell);
        if (round == 1) {
            /* worst price the fund can pay for: |q| x (bp - px) <= fund (a fill worse draws
             * from it, spec §2.7, §3.5) */
            int64_t room = e->insurance[ii->asset];
            if (room <= 0)
                break;
            int64_t d;
            i128 den = (i128)iabs64(f->size) * ii->ct;
            if (sp_div_i128((i128)room * ENG_ONE * ENG_ONE, den, SP_RND_DOWN, &d) != SP_OK)
                d = bp;
            int64_t w = sell ? bp - d : bp + d;
            if (w < ii->in->tick)
                w = ii->in->tick;
            limit = tick_limit(ii, w, sell);
            if (limit == tick_limit(ii, bp, sell))
                break;
        }
        sp_book_result br;
        uint64_t id = SP_ENGINE_LIQ_ID_BASE + ++e->liq_seq;
        int64_t lots = iabs64(f->size) / ii->in->lot;
        if (lots == 0)
            break;
        sp_err rc = sp__engine_order_in(e, 0, inst, id, sell ? SP_SELL : SP_BUY, SP_ORD_LIMIT,
                                        SP_TIF_IOC, 0, limit, lots * ii->in->lot, 0, &br);
        if (rc != SP_OK)
            return rc;
    }
    if (f->size != 0)
        return adl(e, inst, liq_account, bp);
    return SP_OK;
}

/* ---- one account -------------------------------------------------------------------- */

/* Collateral behind p: isolated margin, or wallet + the other cross positions' PnL. */
static sp_err collateral(const sp_engine *e, const eng_pos *p, i128 *m)
{
    if (p->mode == SP_MARGIN_ISOLATED) {
        *m = p->margin;
        return SP_OK;
    }
    int64_t eq, mm, u, pu;
    sp_err rc = sp__engine_acct_state(e, p->account, e->inst[p->inst].asset, &eq, &mm, &u);
    if (rc == SP_OK)
        rc = sp__engine_upnl(e, p, &pu);
    *m = (i128)eq - pu;
    return rc;
}

/* Equity behind p at mark (isolated: margin + PnL; cross: the account's margin balance). */
static sp_err equity_of(const sp_engine *e, const eng_pos *p, int64_t *eq)
{
    if (p->mode == SP_MARGIN_ISOLATED) {
        int64_t u;
        sp_err rc = sp__engine_upnl(e, p, &u);
        *eq = p->margin + u;
        return rc;
    }
    int64_t mm;
    return sp__engine_acct_state(e, p->account, e->inst[p->inst].asset, eq, &mm, NULL);
}

/* The unit p belongs to is under maintenance margin. */
static bool unit_under(const sp_engine *e, const eng_pos *p)
{
    return p->mode == SP_MARGIN_ISOLATED ? iso_under(e, p)
                                         : cross_under(e, p->account, e->inst[p->inst].asset);
}

/* Which tier p is in at mark, 1-based (0 = no tiers). */
static int tier_now(const sp_engine *e, const eng_pos *p)
{
    int64_t mm;
    int t = 0;
    if (sp__engine_mm(e, p, e->inst[p->inst].mark, &mm, &t) != SP_OK)
        return 0;
    return t;
}

/*
 * Step 2: partial liquidation one tier down where the venue does it
 * (spec §2.7 Binance, §3.5 Bybit: to the lower tier's limit; §4.5 OKX:
 * tiers >= 3).  Returns whether the unit is margin compliant afterwards.
 */
static sp_err partial(sp_engine *e, eng_pos *p, bool *done)
{
    eng_inst *ii = &e->inst[p->inst];
    *done = false;
    int t = tier_now(e, p);
    int min_tier = e->cfg.venue == SP_VENUE_OKX ? 3 : 2;
    if (!ii->tiers || t < min_tier || e->cfg.venue == SP_VENUE_BITMEX)
        return SP_OK;
    const sp_tier *below = &ii->tiers->tier[t - 2];
    int64_t target; /* size the position may keep */
    if (ii->tiers->kind == SP_TIER_WHOLE) {
        target = below->cap;
    } else {
        /* notional = q x ct x mark <= cap  ->  q <= cap x 1e16 / (ct x mark) */
        if (sp_div_i128((i128)below->cap * ENG_ONE * ENG_ONE, (i128)ii->ct * ii->mark, SP_RND_DOWN,
                        &target) != SP_OK)
            return SP_EOVERFLOW;
    }
    target -= target % ii->in->lot;
    int64_t cut = iabs64(p->size) - target;
    if (cut <= 0)
        return SP_OK;
    i128 m;
    int64_t bp;
    sp_err rc = collateral(e, p, &m);
    if (rc == SP_OK)
        rc = bk_price(e, p, m, &bp);
    if (rc != SP_OK)
        return rc;
    bool sell = p->size > 0;
    int64_t limit = tick_limit(ii, bp, sell);
    emit_liq(e, ii, SP_ENG_LIQ_PARTIAL, sell, limit, cut, p->account, 0);
    sp_book_result br;
    uint64_t id = SP_ENGINE_LIQ_ID_BASE + ++e->liq_seq;
    /* Bybit sends a FillOrKill for the difference (spec §3.5); Binance and OKX an IOC */
    uint8_t tif = e->cfg.venue == SP_VENUE_BYBIT ? SP_TIF_FOK : SP_TIF_IOC;
    rc = sp__engine_order_in(e, p->account, p->inst, id, sell ? SP_SELL : SP_BUY, SP_ORD_LIMIT, tif,
                             SP_ORDF_REDUCE_ONLY | ENG_ORDF_LIQ, limit, cut, (uint32_t)(p - e->pos),
                             &br);
    if (rc != SP_OK)
        return rc;
    if (!unit_under(e, p)) {
        e->st.partials++;
        *done = true;
    }
    return SP_OK;
}

/* Steps 3-5 for one position: fee, take-over at the bankruptcy price, unwind. */
static sp_err takeover(sp_engine *e, eng_pos *p)
{
    eng_inst *ii = &e->inst[p->inst];
    uint32_t account = p->account;
    int64_t *bal = p->mode == SP_MARGIN_ISOLATED ? &p->margin : &e->acct[account].wallet[ii->asset];
    int64_t eq, fee = 0, notional;
    sp_err rc = equity_of(e, p, &eq);
    if (rc == SP_OK)
        rc = sp__engine_notional(ii, iabs64(p->size), ii->mark, SP_RND_HALF_EVEN, &notional);
    if (rc == SP_OK && ii->in->liq_fee > 0)
        rc = sp_mul_div(notional, ii->in->liq_fee, ENG_ONE, SP_RND_UP, &fee);
    if (rc != SP_OK)
        return rc;
    /* spec §2.7: the fee is charged on the amount liquidated, never past the equity left */
    if (fee > eq)
        fee = eq > 0 ? eq : 0;
    if (fee > 0) {
        *bal -= fee;
        e->insurance[ii->asset] += fee;
        emit_ins(e, ii, SP_ENG_INS_FEE, fee, account);
    }
    i128 m;
    int64_t bp, value;
    rc = collateral(e, p, &m);
    if (rc == SP_OK)
        rc = bk_price(e, p, m, &bp);
    int64_t q = iabs64(p->size);
    if (rc == SP_OK)
        rc = sp__engine_notional(ii, q, bp, SP_RND_HALF_EVEN, &value);
    if (rc != SP_OK)
        return rc;
    bool sell = p->size > 0;
    bool iso = p->mode == SP_MARGIN_ISOLATED;
    int64_t w0 = e->acct[account].wallet[ii->asset];
    emit_liq(e, ii, SP_ENG_LIQ_TAKEOVER, sell, bp, q, account, fee);
    rc = sp__engine_close_at(e, p, q, value, true);
    if (rc != SP_OK)
        return rc;
    /* what rounding left behind (the trader ends at zero): to or from the fund; the
     * cross book of the asset is closed entirely, an isolated position returned
     * margin + PnL to the wallet */
    {
        int64_t w1 = e->acct[account].wallet[ii->asset];
        int64_t left = iso ? w1 - w0 : w1;
        if (left != 0) {
            e->acct[account].wallet[ii->asset] -= left;
            e->insurance[ii->asset] += left;
            emit_ins(e, ii, SP_ENG_INS_RESIDUAL, left, account);
        }
    }
    sp__engine_pos_changed(e, p);
    return fund_unwind(e, p->inst, account, bp);
}

/* Liquidate every unit of account that is under maintenance margin. */
static sp_err liquidate(sp_engine *e, uint32_t account)
{
    eng_acct *a = &e->acct[account];
    sp__engine_cancel_all(e, account);
    bool took = false;
    for (uint32_t i = a->pos_head; i; i = e->pos[i].next) {
        eng_pos *p = &e->pos[i];
        if (p->size == 0 || e->inst[p->inst].mark == 0 || !unit_under(e, p))
            continue;
        eng_inst *ii = &e->inst[p->inst];
        int64_t mm = 0;
        sp__engine_mm(e, p, ii->mark, &mm, NULL);
        emit_liq(e, ii, SP_ENG_LIQ_TRIGGER, p->size > 0, ii->mark, iabs64(p->size), account, mm);
        bool done;
        sp_err rc = partial(e, p, &done);
        if (rc != SP_OK)
            return rc;
        if (done || p->size == 0)
            continue;
        if (p->mode == SP_MARGIN_CROSS) {
            /* cross: the whole cross book of the asset goes; p at its bankruptcy price,
             * the others at mark first so that p's bankruptcy price closes the account */
            for (uint32_t j = a->pos_head; j; j = e->pos[j].next) {
                eng_pos *o = &e->pos[j];
                const eng_inst *oi = &e->inst[o->inst];
                if (o == p || o->size == 0 || o->mode != SP_MARGIN_CROSS ||
                    oi->asset != ii->asset || oi->mark == 0)
                    continue;
                int64_t v;
                rc = sp__engine_notional(oi, iabs64(o->size), oi->mark, SP_RND_HALF_EVEN, &v);
                if (rc == SP_OK) {
                    emit_liq(e, oi, SP_ENG_LIQ_TAKEOVER, o->size > 0, oi->mark, iabs64(o->size),
                             account, 0);
                    uint32_t oinst = o->inst;
                    rc = sp__engine_close_at(e, o, iabs64(o->size), v, true);
                    if (rc == SP_OK)
                        rc = fund_unwind(e, oinst, account, oi->mark);
                }
                if (rc != SP_OK)
                    return rc;
            }
        }
        rc = takeover(e, p);
        if (rc != SP_OK)
            return rc;
        took = true;
    }
    if (took) {
        a->liquidations++;
        e->st.liquidations++;
        if (e->res)
            e->res->liquidations++;
    }
    return SP_OK;
}

/* ---- the scan ----------------------------------------------------------------------------- */

static void acct_down(uint32_t *s, uint32_t at, uint32_t n)
{
    for (;;) {
        uint32_t l = 2 * at + 1, r = l + 1, m = at;
        if (l < n && s[l] > s[m])
            m = l;
        if (r < n && s[r] > s[m])
            m = r;
        if (m == at)
            return;
        uint32_t t = s[at];
        s[at] = s[m];
        s[m] = t;
        at = m;
    }
}

/* Sort scratch[0..n) by account id (heap sort, no allocation); drop duplicates. */
static uint32_t sort_accounts(sp_engine *e, uint32_t n)
{
    uint32_t *s = e->scratch;
    for (uint32_t i = n / 2; i-- > 0;)
        acct_down(s, i, n);
    for (uint32_t end = n; end > 1; end--) {
        uint32_t t = s[0];
        s[0] = s[end - 1];
        s[end - 1] = t;
        acct_down(s, 0, end - 1);
    }
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (m == 0 || s[m - 1] != s[i])
            s[m++] = s[i];
    return m;
}

/*
 * Collect the accounts of inst that are under maintenance margin at the
 * current mark into scratch, sorted: by popping the crossed part of the
 * heaps (index) or by checking every position (naive).  Returns the count.
 */
static uint32_t collect(sp_engine *e, uint32_t inst)
{
    eng_inst *ii = &e->inst[inst];
    uint32_t n = 0;
    if (e->cfg.naive_scan) {
        for (uint32_t i = 1; i <= e->cfg.max_positions; i++) {
            const eng_pos *p = &e->pos[i];
            if (p->account && p->size != 0 && p->inst == inst)
                e->scratch[n++] = p->account;
        }
    } else {
        /* pop the crossed keys; a popped position whose account the exact check spares
         * goes straight back, a condemned one stays out until its liquidation re-files it */
        uint32_t np = 0; /* scratch_key doubles as the popped list */
        while (ii->longs.n && e->pos[ii->longs.a[0]].liq_key >= ii->mark) {
            uint32_t pi = ii->longs.a[0];
            heap_remove(e, &ii->longs, pi);
            e->scratch_key[np++] = pi;
        }
        while (ii->shorts.n && e->pos[ii->shorts.a[0]].liq_key <= ii->mark) {
            uint32_t pi = ii->shorts.a[0];
            heap_remove(e, &ii->shorts, pi);
            e->scratch_key[np++] = pi;
        }
        for (uint32_t k = 0; k < np; k++) {
            uint32_t pi = (uint32_t)e->scratch_key[k];
            if (acct_under(e, e->pos[pi].account))
                e->scratch[n++] = e->pos[pi].account;
            else
                sp__engine_index_update(e, &e->pos[pi]);
        }
        for (uint32_t k = 0; k < e->nmulti; k++)
            if (acct_under(e, e->multi[k]))
                e->scratch[n++] = e->multi[k];
        return sort_accounts(e, n);
    }
    n = sort_accounts(e, n);
    /* keep the ones the exact check condemns (both scans decide on the same test) */
    uint32_t m = 0;
    for (uint32_t k = 0; k < n; k++)
        if (acct_under(e, e->scratch[k]))
            e->scratch[m++] = e->scratch[k];
    return m;
}

/*
 * The liquidation engine after a mark (or balance) change on inst:
 * repeat { find the accounts under maintenance margin; liquidate each,
 * in account order, if it still is } until none is left.
 */
sp_err sp__engine_liq_scan(sp_engine *e, uint32_t inst)
{
    if (e->in_liq || e->inst[inst].mark == 0)
        return SP_OK;
    e->in_liq = true;
    sp_err rc = SP_OK;
    for (uint32_t pass = 0; pass <= e->cfg.max_accounts && rc == SP_OK; pass++) {
        uint32_t n = collect(e, inst);
        if (n == 0)
            break;
        /* scratch is reused by ADL ranking: take the list out first */
        memcpy(e->liq_list, e->scratch, n * sizeof(*e->liq_list));
        for (uint32_t k = 0; k < n && rc == SP_OK; k++) {
            uint32_t a = e->liq_list[k];
            if (acct_under(e, a))
                rc = liquidate(e, a);
            /* spared since it was condemned (an earlier liquidation filled its orders):
             * file its positions back in the index */
            for (uint32_t i = e->acct[a].pos_head; rc == SP_OK && i; i = e->pos[i].next)
                if (!e->pos[i].heap_at)
                    sp__engine_index_update(e, &e->pos[i]);
        }
    }
    e->in_liq = false;
    return rc;
}
