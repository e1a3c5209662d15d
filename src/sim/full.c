/*
 * full.c -- the full-fidelity mode: the same scenario through the exchange
 * core (engine.h) instead of the fast loop's arithmetic.
 *
 * Every position becomes an account of the engine: it deposits its margin
 * plus the opening fee, sets isolated margin and its leverage, and opens
 * its position with a market order against a resting order of a
 * counterparty account (a large cross account), with the mark set to the
 * entry price so no opening loss is charged.  Then a liquidity-provider
 * account rests the market's ladder (thinned, rounded down to the lot) at
 * and beyond the shock price -- the depth better than the shock is the
 * part the exogenous move consumed, as in the fast mode.  The shock is a
 * MARK command; the engine's liquidation engine triggers on the mark, takes
 * positions over at the bankruptcy price (or liquidates them partially,
 * Binance "smart liquidation", spec §2.7), sends their orders into its
 * book, pays the insurance fund, and deleverages when the book runs out.
 * The next mark is the last price a liquidation order filled at -- the
 * fast mode's rule -- and the loop repeats until a mark liquidates nobody.
 *
 * It is slow (one account and several commands per position) and meant for
 * small scenarios: the agreement test runs the same small scenario in both
 * modes.  Limits: mark-move shocks only, no resilience, and a population
 * whose openings do not liquidate each other (entries close to the start).
 */
#include <string.h>

#include "sim_int.h"
#include "stampede/engine.h"

/* What the engine's events told us during one command. */
typedef struct watch {
    uint32_t takeovers; /* LIQ_ENGINE take-overs and partials (positions hit) */
    int64_t liq_qty;    /* quantity the liquidation orders filled */
    __int128 liq_value; /* sum of px x qty of those fills / 1e8 */
    int64_t last_px;    /* last liquidation fill price */
    int64_t adl_qty;    /* quantity closed by ADL */
} watch;

static void on_event(void *ctx, const sp_event *ev)
{
    watch *w = ctx;
    if (ev->kind == SP_EV_LIQ_ENGINE &&
        (ev->sub == SP_ENG_LIQ_TAKEOVER || ev->sub == SP_ENG_LIQ_PARTIAL)) {
        w->takeovers++;
    } else if (ev->kind == SP_EV_FILL && ev->sub == SP_ENG_SUB_LIQ && !(ev->flags & SP_EVF_MAKER)) {
        /* the taker's side of a liquidation order's fill (the fund, or the account for a
         * partial liquidation): one record per fill */
        w->liq_qty += ev->qty;
        w->liq_value += (__int128)ev->px * ev->qty / SP__SIM_ONE;
        w->last_px = ev->px;
    } else if (ev->kind == SP_EV_ADL) {
        w->adl_qty += ev->qty;
    }
}

static sp_err submit(sp_engine *e, const sp_engine_cmd *c, sp_engine_result *r, const char *what,
                     uint32_t who, sp_diag *d)
{
    sp_err rc = sp_engine_submit(e, c, r);
    if (rc != SP_OK)
        return sp_diag_set(d, rc, "full-fidelity: %s (account %u): %s", what, who, sp_strerror(rc));
    if (r->code != 0)
        return sp_diag_set(d, SP_EUNSUPPORTED, "full-fidelity: %s (account %u) rejected: %s", what,
                           who, sp_engine_reason_text(r->code));
    return SP_OK;
}

static sp_err mark(sp_engine *e, uint32_t inst, int64_t px, sp_engine_result *r, sp_diag *d)
{
    sp_engine_cmd c;
    memset(&c, 0, sizeof(c));
    c.kind = SP_CMD_MARK;
    c.inst = inst;
    c.px = px;
    return submit(e, &c, r, "mark", 0, d);
}

/* Open position q for account acc against the counterparty cp. */
static sp_err open_one(sp_engine *e, uint32_t inst, uint32_t asset, const sp_sim_venue *v,
                       const sp_sim_pos *q, uint32_t acc, uint32_t cp, uint64_t oid,
                       int64_t mark_px, sp_diag *d)
{
    sp_engine_result r;
    sp_engine_cmd c;
    sp_err rc;
    int64_t notional = sp__sim_value(q->qty, q->entry_px), fee;
    if (sp_mul_div(notional, v->inst->taker_fee > 0 ? v->inst->taker_fee : 0, SP__SIM_ONE,
                   SP_RND_UP, &fee) != SP_OK)
        return sp_diag_set(d, SP_EOVERFLOW, "full-fidelity: fee");
    /* the engine's margin check charges the opening loss at the mark: open at a mark equal
     * to the entry price, and refuse (rather than alter the scenario) when that mark
     * liquidates a position opened before */
    (void)mark_px;
    if ((rc = mark(e, inst, q->entry_px, &r, d)) != SP_OK)
        return rc;
    if (r.liquidations)
        return sp_diag_set(d, SP_EUNSUPPORTED,
                           "full-fidelity: opening position %u at its entry price liquidated "
                           "another one (entries too far apart for this mode)",
                           q->id);
    memset(&c, 0, sizeof(c));
    c.kind = SP_CMD_DEPOSIT;
    c.account = acc;
    c.asset = asset;
    c.amount = q->margin + fee + 1;
    if ((rc = submit(e, &c, &r, "deposit", acc, d)) != SP_OK)
        return rc;
    memset(&c, 0, sizeof(c));
    c.kind = SP_CMD_MARGIN_MODE;
    c.account = acc;
    c.inst = inst;
    c.margin_mode = SP_MARGIN_ISOLATED;
    if ((rc = submit(e, &c, &r, "margin mode", acc, d)) != SP_OK)
        return rc;
    memset(&c, 0, sizeof(c));
    c.kind = SP_CMD_LEVERAGE;
    c.account = acc;
    c.inst = inst;
    c.leverage = q->leverage;
    if ((rc = submit(e, &c, &r, "leverage", acc, d)) != SP_OK)
        return rc;
    /* the counterparty rests the opposite order at the entry price */
    memset(&c, 0, sizeof(c));
    c.kind = SP_CMD_ORDER;
    c.account = cp;
    c.inst = inst;
    c.order_id = oid;
    c.side = q->side > 0 ? SP_SELL : SP_BUY;
    c.type = SP_ORD_LIMIT;
    c.tif = SP_TIF_GTC;
    c.px = q->entry_px;
    c.qty = q->qty;
    if ((rc = submit(e, &c, &r, "counterparty order", cp, d)) != SP_OK)
        return rc;
    memset(&c, 0, sizeof(c));
    c.kind = SP_CMD_ORDER;
    c.account = acc;
    c.inst = inst;
    c.order_id = oid + 1;
    c.side = q->side > 0 ? SP_BUY : SP_SELL;
    c.type = SP_ORD_MARKET;
    c.tif = SP_TIF_IOC;
    c.qty = q->qty;
    if ((rc = submit(e, &c, &r, "opening order", acc, d)) != SP_OK)
        return rc;
    if (r.filled != q->qty)
        return sp_diag_set(d, SP_ESTATE, "full-fidelity: position %u opened %lld of %lld", q->id,
                           (long long)r.filled, (long long)q->qty);
    return SP_OK;
}

/*
 * Build the engine (one account per position plus a counterparty and a
 * liquidity provider), open every position, rest the ladder, then apply
 * the shock and follow the marks wave by wave (see the top of this file).
 */
sp_err sp_sim_run_full(const sp_sim_pop *p, const sp_sim_market *m, const sp_sim_shock *s,
                       sp_sim_venue venue, sp_sim_wave *waves, size_t cap, sp_sim_result *out,
                       sp_diag *d)
{
    if (!p || !m || !s || !out || !venue.inst)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    if (s->kind != SP_SIM_SHOCK_MOVE || s->resilience_bp != 0 || !s->forced_orders)
        return sp_diag_set(
            d, SP_EUNSUPPORTED,
            "full-fidelity mode: mark-move shocks with forced orders, no resilience");
    if (s->move_bp == 0 || s->move_bp <= -10000 || s->move_bp >= 10000 || s->thin_bp > 9900)
        return sp_diag_set(d, SP_EINVAL, "bad shock");
    if (p->n + 3 > SP_ENGINE_POOL_MAX)
        return sp_diag_set(d, SP_ETOOBIG, "full-fidelity mode: too many positions");
    memset(out, 0, sizeof(*out));
    int dir = s->move_bp < 0 ? -1 : 1;
    const sp__sim_ladder *L = &m->side[dir < 0 ? 0 : 1];
    int64_t tick = venue.inst->tick, lot = venue.inst->lot;
    int64_t target;
    if (sp_mul_div(m->mid, 10000 + (int64_t)s->move_bp, 10000, SP_RND_HALF_EVEN, &target) != SP_OK)
        return sp_diag_set(d, SP_EOVERFLOW, "shock price");
    target -= target % tick;
    watch w;
    memset(&w, 0, sizeof(w));
    uint32_t cp = (uint32_t)p->n + 1, lp = (uint32_t)p->n + 2;
    sp_engine_config cfg = sp_engine_config_default(venue.inst->venue);
    cfg.max_accounts = (uint32_t)p->n + 3;
    cfg.max_positions = (uint32_t)p->n + 3;
    cfg.max_orders = (uint32_t)(p->n + L->n + 16);
    cfg.book_kind = SP_BOOK_REF;
    sp_engine_sink sink = {on_event, &w};
    sp_engine *e = NULL;
    sp_err rc = sp_engine_new(&cfg, &sink, &e);
    if (rc != SP_OK)
        return sp_diag_set(d, rc, "full-fidelity: engine: %s", sp_strerror(rc));
    uint32_t inst = 0;
    sp_engine_result r;
    sp_engine_cmd c;
    if ((rc = sp_engine_add_instrument(e, venue.inst, venue.tiers, 1, &inst)) != SP_OK) {
        sp_diag_set(d, rc, "full-fidelity: instrument: %s", sp_strerror(rc));
        goto out_free;
    }
    int ai = sp_engine_asset(e, venue.inst->settle);
    uint32_t asset = ai < 0 ? 0 : (uint32_t)ai;
    /* the counterparty and the liquidity provider: deep cross accounts at 1x */
    uint32_t whales[2] = {cp, lp};
    for (int i = 0; i < 2; i++) {
        memset(&c, 0, sizeof(c));
        c.kind = SP_CMD_DEPOSIT;
        c.account = whales[i];
        c.asset = asset;
        c.amount = (int64_t)20000000000 * SP__SIM_ONE;
        if ((rc = submit(e, &c, &r, "whale deposit", whales[i], d)) != SP_OK)
            goto out_free;
        memset(&c, 0, sizeof(c));
        c.kind = SP_CMD_LEVERAGE;
        c.account = whales[i];
        c.inst = inst;
        c.leverage = 1;
        if ((rc = submit(e, &c, &r, "whale leverage", whales[i], d)) != SP_OK)
            goto out_free;
    }
    if (s->insurance_usd > 0) {
        memset(&c, 0, sizeof(c));
        c.kind = SP_CMD_INSURANCE;
        c.asset = asset;
        c.amount = s->insurance_usd;
        if ((rc = submit(e, &c, &r, "insurance fund", 0, d)) != SP_OK)
            goto out_free;
    }
    uint64_t oid = 1;
    for (size_t i = 0; i < p->n; i++, oid += 2)
        if ((rc = open_one(e, inst, asset, &venue, &p->pos[i], (uint32_t)i + 1, cp, oid, m->mid,
                           d)) != SP_OK)
            goto out_free;
    if ((rc = mark(e, inst, m->mid, &r, d)) != SP_OK)
        goto out_free;
    if (r.liquidations) {
        rc = sp_diag_set(d, SP_EUNSUPPORTED, "full-fidelity: positions liquidated at the start");
        goto out_free;
    }
    /* the ladder at and beyond the shock price, thinned, on the lot -- only as deep as the
     * positions at risk could ever sell (deeper levels cannot change the outcome, and an
     * order book to -99% would put the provider past the last tier) */
    int side = dir < 0 ? 0 : 1;
    int64_t at_risk = 0, loaded = 0;
    for (size_t i = 0; i < (side == 0 ? p->nl : p->ns); i++)
        at_risk += p->sq[side][i];
    for (size_t i = 0; i < L->n && loaded <= at_risk; i++) {
        int64_t px = L->lv[i].px;
        if (dir < 0 ? px > target : px < target)
            continue;
        int64_t q = (int64_t)((__int128)L->lv[i].qty * (10000 - s->thin_bp) / 10000);
        q -= q % lot;
        if (q <= 0)
            continue;
        memset(&c, 0, sizeof(c));
        c.kind = SP_CMD_ORDER;
        c.account = lp;
        c.inst = inst;
        c.order_id = oid++;
        c.side = dir < 0 ? SP_BUY : SP_SELL;
        c.type = SP_ORD_LIMIT;
        c.tif = SP_TIF_GTC;
        c.px = px;
        c.qty = q;
        if ((rc = submit(e, &c, &r, "ladder order", lp, d)) != SP_OK)
            goto out_free;
        loaded += q;
    }
    out->dir = dir;
    out->start_px = m->mid;
    out->shock_px = target;
    out->extreme_px = target;
    out->fund_start = sp_engine_insurance(e, asset);
    int64_t px = target;
    uint32_t maxw = s->max_waves ? s->max_waves : SP_SIM_WAVES_MAX;
    for (;;) {
        watch before = w;
        int64_t fund0 = sp_engine_insurance(e, asset);
        if ((rc = mark(e, inst, px, &r, d)) != SP_OK)
            goto out_free;
        if (r.liquidations == 0 && w.takeovers == before.takeovers)
            break;
        if (out->waves >= maxw) {
            out->truncated = true;
            break;
        }
        sp_sim_wave wv;
        memset(&wv, 0, sizeof(wv));
        wv.n = r.liquidations;
        wv.px_trigger = px;
        wv.qty = w.liq_qty - before.liq_qty + (w.adl_qty - before.adl_qty);
        wv.notional = sp__sim_value(wv.qty, px);
        wv.adl_qty = w.adl_qty - before.adl_qty;
        int64_t filled = w.liq_qty - before.liq_qty;
        if (filled > 0)
            wv.vwap = (int64_t)((w.liq_value - before.liq_value) * SP__SIM_ONE / filled);
        int64_t next = filled > 0 ? w.last_px : px;
        wv.px_after = next;
        wv.fund_delta = sp_engine_insurance(e, asset) - fund0;
        out->n_liq += r.liquidations;
        out->notional += wv.notional;
        if (dir < 0)
            out->notional_long += wv.notional;
        out->qty += wv.qty;
        out->sold_qty += filled;
        out->adl_qty += wv.adl_qty;
        if (out->waves < cap && waves)
            waves[out->waves] = wv;
        out->waves++;
        if (dir < 0 ? next < out->extreme_px : next > out->extreme_px)
            out->extreme_px = next;
        if (next == px)
            break; /* the mark did not move: nothing new can be crossed */
        px = next;
    }
    out->final_px = px;
    if (dir < 0)
        out->n_long = out->n_liq;
    out->fund_end = sp_engine_insurance(e, asset);
    rc = SP_OK;
out_free:
    sp_engine_free(e);
    return rc;
}
