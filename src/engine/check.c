/*
 * check.c -- the exchange core's invariant checker and state hash.
 *
 * sp_engine_check verifies the five invariants of engine.h from scratch
 * (it trusts no cached total), so the tests can run it after every
 * command: conservation of money per asset, open long = open short per
 * instrument, no negative or under-maintenance account left behind,
 * pending exposure = open orders' leaves (and every open order resting in
 * its book with those leaves), and the liquidation-price index holding
 * exactly the positions it should under their current keys.
 *
 * sp_engine_state_hash folds the canonical state (accounts in id order,
 * their positions in (instrument, leg) order, open orders in id-hash
 * independent order, the books' own canonical hashes, marks, funds) into
 * 64 bits with FNV-1a; the index and the scan mode are not part of it.
 */
#include <string.h>

#include "engine/engine_int.h"
#include "stampede/hash.h"

uint64_t sp_engine_state_hash(const sp_engine *e)
{
    uint64_t h = SP_FNV64_OFFSET;
    if (!e)
        return 0;
    for (uint32_t a = 0; a < e->nasset; a++) {
        h = sp_fnv1a64_i64(h, e->insurance[a]);
        h = sp_fnv1a64_i64(h, e->fees[a]);
        h = sp_fnv1a64_i64(h, e->net_in[a]);
    }
    for (uint32_t i = 0; i < e->ninst; i++) {
        const eng_inst *ii = &e->inst[i];
        h = sp_fnv1a64_i64(h, ii->mark);
        h = sp_fnv1a64_i64(h, ii->index);
        h = sp_fnv1a64_i64(h, ii->last);
        h = sp_fnv1a64_i64(h, ii->last_rate);
        h = sp_fnv1a64_i64(h, ii->fund.size);
        h = sp_fnv1a64_i64(h, ii->fund.value);
        h = sp_fnv1a64_i64(h, (int64_t)sp_book_state_hash(ii->book));
    }
    for (uint32_t id = 1; id <= e->cfg.max_accounts; id++) {
        const eng_acct *a = &e->acct[id];
        if (!a->exists)
            continue;
        h = sp_fnv1a64_i64(h, id);
        h = sp_fnv1a64_i64(h, a->hedge);
        h = sp_fnv1a64_i64(h, a->liquidations);
        for (uint32_t k = 0; k < e->nasset; k++)
            h = sp_fnv1a64_i64(h, a->wallet[k]);
        for (uint32_t p = a->pos_head; p; p = e->pos[p].next) {
            const eng_pos *q = &e->pos[p];
            h = sp_fnv1a64_i64(h, q->inst);
            h = sp_fnv1a64_i64(h, q->leg);
            h = sp_fnv1a64_i64(h, q->mode);
            h = sp_fnv1a64_i64(h, q->leverage);
            h = sp_fnv1a64_i64(h, q->size);
            h = sp_fnv1a64_i64(h, q->value);
            h = sp_fnv1a64_i64(h, q->margin);
            h = sp_fnv1a64_i64(h, q->pend_buy);
            h = sp_fnv1a64_i64(h, q->pend_sell);
        }
        /* open orders: the books' hashes hold their order; here the owner and leaves,
         * folded commutatively so the hash does not depend on list order */
        uint64_t oh = 0;
        for (uint32_t o = a->ord_head; o; o = e->ord[o].next) {
            const eng_ord *r = &e->ord[o];
            uint64_t x = sp_fnv1a64_i64(
                sp_fnv1a64_i64(sp_fnv1a64_i64(SP_FNV64_OFFSET, (int64_t)r->id), r->leaves), r->px);
            oh += x;
        }
        h = sp_fnv1a64_i64(h, (int64_t)oh);
    }
    return h;
}

static sp_err bad(sp_diag *d, const char *what, long long a, long long b)
{
    return sp_diag_set(d, SP_ESTATE, "%s (%lld vs %lld)", what, a, b);
}

/* Invariant 5: p sits in the index iff it should, under the key its state gives. */
static sp_err check_index(const sp_engine *e, const eng_pos *p, sp_diag *d)
{
    uint32_t pi = (uint32_t)(p - e->pos);
    const eng_inst *ii = &e->inst[p->inst];
    bool should = false;
    int64_t key = 0, lp;
    int ncross = 0;
    for (uint32_t j = e->acct[p->account].pos_head; j; j = e->pos[j].next)
        ncross += e->pos[j].size != 0 && e->pos[j].mode == SP_MARGIN_CROSS;
    if (p->size != 0 && !(p->mode == SP_MARGIN_CROSS && ncross >= 2))
        sp__engine_liq_key(e, p, &should, &key, &lp);
    if (!should) {
        if (p->heap_at)
            return bad(d, "position indexed but should not be", pi, p->heap_at);
        return SP_OK;
    }
    const eng_heap *h = p->size > 0 ? &ii->longs : &ii->shorts;
    if (!p->heap_at || p->heap_at > h->n || h->a[p->heap_at - 1] != pi)
        return bad(d, "position missing from its liquidation heap", pi, p->heap_at);
    if (p->liq_key != key)
        return bad(d, "stale liquidation key", p->liq_key, key);
    uint32_t at = p->heap_at - 1;
    if (at > 0) {
        int64_t up = e->pos[h->a[(at - 1) / 2]].liq_key;
        if (h->max ? up < key : up > key)
            return bad(d, "heap order broken", up, key);
    }
    return SP_OK;
}

sp_err sp_engine_check(const sp_engine *e, sp_diag *d)
{
    if (!e)
        return SP_EINVAL;
    i128 money[SP_ENGINE_ASSETS_MAX];
    i128 longs[SP_ENGINE_INSTRUMENTS_MAX], shorts[SP_ENGINE_INSTRUMENTS_MAX];
    memset(money, 0, sizeof(money));
    memset(longs, 0, sizeof(longs));
    memset(shorts, 0, sizeof(shorts));
    for (uint32_t a = 0; a < e->nasset; a++)
        money[a] = (i128)e->fees[a] + e->insurance[a];
    for (uint32_t i = 0; i < e->ninst; i++) {
        const eng_inst *ii = &e->inst[i];
        money[ii->asset] -= ii->fund.size > 0 ? ii->fund.value : -ii->fund.value;
        if (ii->fund.size > 0)
            longs[i] += ii->fund.size;
        else
            shorts[i] -= ii->fund.size;
        sp_err rc = sp_book_check(ii->book, d);
        if (rc != SP_OK)
            return rc;
    }
    uint64_t orders = 0;
    for (uint32_t id = 1; id <= e->cfg.max_accounts; id++) {
        const eng_acct *a = &e->acct[id];
        for (uint32_t k = 0; k < e->nasset; k++)
            money[k] += a->wallet[k];
        if (!a->exists && (a->pos_head || a->ord_head))
            return bad(d, "unfunded account holds positions or orders", id, 0);
        for (uint32_t p = a->pos_head; p; p = e->pos[p].next) {
            const eng_pos *q = &e->pos[p];
            const eng_inst *ii = &e->inst[q->inst];
            if (q->account != id)
                return bad(d, "position owner mismatch", q->account, id);
            money[ii->asset] += q->margin;
            money[ii->asset] -= q->size > 0 ? q->value : -q->value;
            if (q->size > 0)
                longs[q->inst] += q->size;
            else
                shorts[q->inst] -= q->size;
            if (q->size == 0 && q->value != 0)
                return bad(d, "flat position with entry value", p, q->value);
            if (q->size == 0 && q->margin != 0)
                return bad(d, "flat isolated position keeps margin", p, q->margin);
            /* pending = leaves of the open orders on this position */
            int64_t pb = 0, ps = 0;
            for (uint32_t o = a->ord_head; o; o = e->ord[o].next)
                if (e->ord[o].pos == p) {
                    if (e->ord[o].side == SP_BUY)
                        pb += e->ord[o].leaves;
                    else
                        ps += e->ord[o].leaves;
                }
            if (pb != q->pend_buy || ps != q->pend_sell)
                return bad(d, "pending exposure differs from open orders",
                           q->pend_buy + q->pend_sell, pb + ps);
            sp_err rc = check_index(e, q, d);
            if (rc != SP_OK)
                return rc;
            if (q->size != 0 && q->mode == SP_MARGIN_ISOLATED && ii->mark) {
                int64_t u, mm;
                if (sp__engine_upnl(e, q, &u) == SP_OK && (i128)q->margin + u < 0)
                    return bad(d, "isolated position below zero equity", id, q->margin + u);
                if (!e->in_liq && sp__engine_upnl(e, q, &u) == SP_OK &&
                    sp__engine_mm(e, q, ii->mark, &mm, NULL) == SP_OK && q->margin + u <= mm)
                    return bad(d, "isolated position left at or below maintenance", id,
                               q->margin + u);
            }
        }
        uint32_t n = 0;
        for (uint32_t o = a->ord_head; o; o = e->ord[o].next, n++) {
            const eng_ord *r = &e->ord[o];
            sp_book_order_info bi;
            const eng_inst *ii = &e->inst[r->inst];
            if (r->account != id || r->leaves <= 0)
                return bad(d, "open order record broken", (long long)r->id, r->leaves);
            if (!sp_book_get(ii->book, r->id, &bi) || bi.qty * ii->in->lot != r->leaves)
                return bad(d, "open order not resting in its book with its leaves",
                           (long long)r->id, r->leaves);
        }
        if (n != a->norders)
            return bad(d, "order count", n, a->norders);
        orders += n;
        for (uint32_t k = 0; k < e->nasset && a->exists; k++) {
            int64_t eq, mm;
            bool any = false;
            for (uint32_t p = a->pos_head; p; p = e->pos[p].next)
                any |= e->pos[p].size != 0 && e->pos[p].mode == SP_MARGIN_CROSS &&
                       e->inst[e->pos[p].inst].asset == k && e->inst[e->pos[p].inst].mark != 0;
            if (sp__engine_acct_state(e, id, k, &eq, &mm, NULL) != SP_OK)
                continue;
            if (eq < 0)
                return bad(d, "account below zero equity", id, eq);
            if (any && eq <= mm)
                return bad(d, "account left at or below maintenance margin", id, eq - mm);
        }
    }
    for (uint32_t a = 0; a < e->nasset; a++)
        if (money[a] != e->net_in[a])
            return bad(d, "money not conserved", (long long)money[a], e->net_in[a]);
    for (uint32_t i = 0; i < e->ninst; i++) {
        if (longs[i] != shorts[i])
            return bad(d, "open long size != open short size", (long long)longs[i],
                       (long long)shorts[i]);
        if (e->inst[i].fund.size != 0)
            return bad(d, "insurance fund left holding a position", i, e->inst[i].fund.size);
    }
    /* every order the hash knows is on an account list or is the fund's (none between commands) */
    uint64_t live = 0;
    for (uint32_t o = 1; o <= e->cfg.max_orders; o++)
        live += e->ord[o].id != 0;
    if (live != orders)
        return bad(d, "order pool holds records no account lists", (long long)live,
                   (long long)orders);
    return SP_OK;
}
