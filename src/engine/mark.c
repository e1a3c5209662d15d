/*
 * mark.c -- mark price and funding of the exchange core.
 *
 * An INDEX command brings a new price index.  The engine then samples the
 * book: the basis (mid - index) for the mark price's moving average and
 * the premium index from the impact bid / ask for funding, and derives the
 * mark price by the venue's rule:
 *   Binance, Bybit  median(index x (1 + last funding rate x time until
 *                   funding / interval), index + MA(basis), last price)
 *                   (spec §2.4, §3.4; the last price is the index until
 *                   the first trade);
 *   OKX             index + MA(basis) (spec §4.4);
 *   BitMEX          index x (1 + funding rate x time until funding /
 *                   interval), the fair price (spec §5).
 * A MARK command sets the mark directly (an exchange's published mark).
 *
 * Funding (spec §2.5, §3.4, §4.4, §5): the premium samples since the last
 * settlement are averaged (Binance, BitMEX: equal weights; Bybit: linear
 * weights through sp_rules_premium_twap; OKX: mid-price premium, interest
 * 0), F = P + clamp(I - P, +-0.05%) capped per instrument
 * (sp_rules_funding_rate), or the rate given by the command.  Each payer
 * pays its own amount (sp_rules_funding_payment: notional at mark x F,
 * half-even); the pot is split among the receivers pro rata to size by
 * the largest-remainder method (ties by account id), so the payments sum
 * to exactly zero.
 */
#include <string.h>

#include "engine/engine_int.h"

static int64_t iabs64(int64_t x)
{
    return x < 0 ? -x : x;
}

static int64_t median3(int64_t a, int64_t b, int64_t c)
{
    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
}

void sp__engine_emit_mark(sp_engine *e, uint32_t inst)
{
    eng_inst *ii = &e->inst[inst];
    sp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = SP_EV_MARK;
    ev.px = ii->mark;
    ev.aux[0] = ii->index;
    ev.aux[1] = ii->last;
    ev.aux[2] = sp__engine_rate_ev(ii->last_rate);
    sp__engine_emit(e, &ev, ii);
}

/*
 * Average fill price of selling (side = bids) or buying (asks) notional
 * `want` (scale 8) into the book, over the depth there is.  False if the
 * side is empty.
 */
static bool impact_px(const eng_inst *ii, sp_side side, int64_t want, int64_t *out)
{
    sp_book_level lv[256];
    size_t n = sp_book_depth(ii->book, side, SP_COUNTOF(lv), lv);
    if (n == 0)
        return false;
    i128 notional = 0, qty = 0; /* notional at scale 16 (qty x px), qty at scale 8 */
    i128 goal = (i128)want * ENG_ONE;
    for (size_t i = 0; i < n && notional < goal; i++) {
        int64_t px = lv[i].px * ii->in->tick;
        i128 q = (i128)lv[i].qty * ii->in->lot * ii->ct / ENG_ONE; /* base units */
        i128 v = q * px;
        if (notional + v > goal) {
            q = (goal - notional) / px; /* the part of the level that completes the notional */
            v = q * px;
            if (q == 0)
                break;
        }
        notional += v;
        qty += q;
    }
    if (qty == 0)
        return false;
    return sp_div_i128(notional, qty, SP_RND_HALF_EVEN, out) == SP_OK;
}

/* Premium index of one sample (spec §2.5; §4.4 for OKX's mid-price form), scale 8. */
static bool premium_sample(const sp_engine *e, const eng_inst *ii, int64_t mid, int64_t *out)
{
    int64_t idx = ii->index, p;
    if (e->cfg.venue == SP_VENUE_OKX) {
        if (sp_mul_div(mid - idx, ENG_ONE, idx, SP_RND_HALF_EVEN, &p) != SP_OK)
            return false;
        *out = p;
        return true;
    }
    /* impact margin notional = 200 USDT / IMR at maximum leverage (spec §2.5) */
    int64_t maxlev = 20;
    if (ii->tiers && ii->tiers->n > 0 && ii->tiers->tier[0].max_leverage > 0)
        maxlev = ii->tiers->tier[0].max_leverage;
    int64_t want = 200 * ENG_ONE * maxlev, ib, ia;
    if (!impact_px(ii, SP_BUY, want, &ib) || !impact_px(ii, SP_SELL, want, &ia))
        return false;
    int64_t up = ib > idx ? ib - idx : 0, down = idx > ia ? idx - ia : 0;
    if (sp_mul_div(up - down, ENG_ONE, idx, SP_RND_HALF_EVEN, &p) != SP_OK)
        return false;
    *out = p;
    return true;
}

/* index x (1 + F x time until funding / interval), scale 8, half-even (spec §2.4, §5). */
static int64_t funding_basis_px(const sp_engine *e, const eng_inst *ii)
{
    int64_t iv = (int64_t)ii->in->funding_interval_h * 3600 * INT64_C(1000000000);
    if (iv <= 0 || ii->next_funding_ns == 0)
        return ii->index;
    int64_t left = ii->next_funding_ns - e->now_ns;
    if (left < 0)
        left = 0;
    /* index + index x F x left / (1e8 x iv) */
    i128 num = (i128)ii->index * ii->last_rate * left, den = (i128)ENG_ONE * iv;
    int64_t add;
    if (sp_div_i128(num, den, SP_RND_HALF_EVEN, &add) != SP_OK)
        return ii->index;
    return ii->index + add;
}

sp_err sp__engine_index_cmd(sp_engine *e, uint32_t inst, int64_t px)
{
    eng_inst *ii = &e->inst[inst];
    ii->index = px;
    int64_t bid, ask, mid = 0;
    bool two =
        sp_book_best(ii->book, SP_BUY, &bid, NULL) && sp_book_best(ii->book, SP_SELL, &ask, NULL);
    if (two) {
        if (sp_mul_div(bid + ask, ii->in->tick, 2, SP_RND_HALF_EVEN, &mid) != SP_OK)
            return SP_EOVERFLOW;
        ii->basis[ii->basis_at] = mid - px;
        ii->basis_at = (ii->basis_at + 1) % e->cfg.basis_samples;
        if (ii->nbasis < e->cfg.basis_samples)
            ii->nbasis++;
        int64_t p;
        if (ii->npremium < SP_ENGINE_SAMPLES_MAX && premium_sample(e, ii, mid, &p))
            ii->premium[ii->npremium++] = p;
    }
    i128 sum = 0;
    for (uint32_t i = 0; i < ii->nbasis; i++)
        sum += ii->basis[i];
    int64_t ma = 0;
    if (ii->nbasis && sp_div_i128(sum, ii->nbasis, SP_RND_HALF_EVEN, &ma) != SP_OK)
        return SP_EOVERFLOW;
    int64_t p1 = funding_basis_px(e, ii), p2 = px + ma;
    switch (e->cfg.venue) {
    case SP_VENUE_OKX:
        ii->mark = p2;
        break;
    case SP_VENUE_BITMEX:
        ii->mark = p1;
        break;
    default:
        ii->mark = median3(p1, p2, ii->last ? ii->last : px);
        break;
    }
    if (ii->mark < 1)
        ii->mark = 1;
    sp__engine_emit_mark(e, inst);
    return SP_OK;
}

/* The settlement's rate from the premium samples (or 0 samples: P = 0). */
static sp_err computed_rate(const sp_engine *e, const eng_inst *ii, int64_t *rate)
{
    int64_t p = 0;
    const sp_instrument *in = ii->in;
    if (ii->npremium) {
        if (e->cfg.venue == SP_VENUE_BYBIT) {
            sp_err rc = sp_rules_premium_twap(ii->premium, ii->npremium, &p);
            if (rc != SP_OK)
                return rc;
        } else {
            i128 s = 0;
            for (uint32_t i = 0; i < ii->npremium; i++)
                s += ii->premium[i];
            if (sp_div_i128(s, ii->npremium, SP_RND_HALF_EVEN, &p) != SP_OK)
                return SP_EOVERFLOW;
        }
    }
    if (e->cfg.venue == SP_VENUE_OKX) /* spec §4.4: clamp of the average premium, I = 0 */
        *rate =
            sp_rules_funding_rate(p - in->interest_rate, 0, 0, in->funding_floor, in->funding_cap);
    else
        *rate = sp_rules_funding_rate(p, in->interest_rate, in->funding_clamp, in->funding_floor,
                                      in->funding_cap);
    return SP_OK;
}

/* Sort idx[0..n) by key descending, then account ascending (shell sort; n = receivers). */
static void sort_remainders(sp_engine *e, uint32_t n)
{
    uint32_t *s = e->scratch;
    int64_t *k = e->scratch_key;
    for (uint32_t gap = n / 2; gap > 0; gap /= 2)
        for (uint32_t i = gap; i < n; i++) {
            uint32_t v = s[i];
            int64_t kv = k[i];
            uint32_t j = i;
            while (j >= gap && (k[j - gap] < kv || (k[j - gap] == kv && e->pos[s[j - gap]].account >
                                                                            e->pos[v].account))) {
                s[j] = s[j - gap];
                k[j] = k[j - gap];
                j -= gap;
            }
            s[j] = v;
            k[j] = kv;
        }
}

static void emit_funding(sp_engine *e, const eng_inst *ii, int64_t rate, uint32_t account,
                         int64_t amount, bool sell)
{
    sp_event ev;
    memset(&ev, 0, sizeof(ev));
    /* a position's payment, or (account 0) the settlement's pot */
    ev.kind = account != 0 ? SP_EV_FUNDING_PAY : SP_EV_FUNDING;
    ev.flags = sell ? SP_EVF_SELL : 0;
    ev.px = sp__engine_rate_ev(rate);
    ev.aux[0] = ii->mark;
    ev.aux[1] = account;
    ev.aux[2] = amount;
    sp__engine_emit(e, &ev, ii);
}

/* Move amount (signed, + = paid) out of p's balance (wallet in cross, margin in isolated). */
static void pay(sp_engine *e, eng_pos *p, int64_t amount)
{
    const eng_inst *ii = &e->inst[p->inst];
    if (p->mode == SP_MARGIN_ISOLATED)
        p->margin -= amount;
    else
        e->acct[p->account].wallet[ii->asset] -= amount;
}

sp_err sp__engine_funding(sp_engine *e, uint32_t inst, bool has_rate, int64_t rate)
{
    eng_inst *ii = &e->inst[inst];
    sp_err rc;
    if (!has_rate && (rc = computed_rate(e, ii, &rate)) != SP_OK)
        return rc;
    ii->last_rate = rate;
    ii->npremium = 0;
    int64_t pot = 0;
    i128 recv_size = 0;
    uint32_t nrecv = 0;
    /* payers: longs when F > 0, shorts when F < 0 (spec §2.5) */
    for (uint32_t i = 1; rate != 0 && i <= e->cfg.max_positions; i++) {
        eng_pos *p = &e->pos[i];
        if (!p->account || p->inst != inst || p->size == 0)
            continue;
        bool payer = (p->size > 0) == (rate > 0);
        if (!payer) {
            recv_size += iabs64(p->size);
            e->scratch[nrecv++] = i;
            continue;
        }
        int64_t amt;
        rc = sp_rules_funding_payment(ii->in, 1, iabs64(p->size), ii->mark, iabs64(rate), &amt);
        if (rc != SP_OK)
            return rc;
        pay(e, p, amt);
        pot += amt;
        emit_funding(e, ii, rate, p->account, amt, p->size < 0);
    }
    if (nrecv && recv_size > 0) {
        /* shares: floor(pot x size / total), then one unit each to the largest remainders */
        int64_t given = 0;
        for (uint32_t k = 0; k < nrecv; k++) {
            eng_pos *p = &e->pos[e->scratch[k]];
            i128 num = (i128)pot * iabs64(p->size);
            int64_t share = (int64_t)(num / recv_size);
            e->scratch_key[k] = (int64_t)(num % recv_size);
            pay(e, p, -share);
            given += share;
            /* remember the share in the event below; emitted after the remainder pass */
        }
        sort_remainders(e, nrecv);
        for (uint32_t k = 0; k < nrecv; k++) {
            eng_pos *p = &e->pos[e->scratch[k]];
            int64_t extra = given < pot ? 1 : 0;
            if (extra) {
                pay(e, p, -1);
                given++;
            }
            i128 num = (i128)pot * iabs64(p->size);
            emit_funding(e, ii, rate, p->account, -((int64_t)(num / recv_size) + extra),
                         p->size < 0);
        }
    }
    emit_funding(e, ii, rate, 0, pot, false);
    /* balances moved: re-key every position of the instrument's holders */
    for (uint32_t i = 1; i <= e->cfg.max_positions; i++) {
        eng_pos *p = &e->pos[i];
        if (p->account && p->inst == inst && p->size != 0)
            for (uint32_t j = e->acct[p->account].pos_head; j; j = e->pos[j].next)
                sp__engine_index_update(e, &e->pos[j]);
    }
    return SP_OK;
}
