/*
 * market.c -- the simulator's market: one ladder of price levels per side,
 * from a real snapshot and a square-root-impact tail, with prefix sums so
 * that walking any quantity or notional is one binary search.
 *
 * A snapshot (read from a recorded file through the feed and book modules,
 * load.c) is re-centred on the scenario's start price: each level keeps its
 * relative distance from the snapshot's mid and its quantity, and is
 * rounded away from the mid to the tick (levels landing on one tick are
 * merged).  Beyond the snapshot the depth is parametric: cumulative
 * quantity Q(x) = Q_e + Q1 ((x/1%)^2 - (x_e/1%)^2) at relative distance x,
 * so that an order of size Q moves the price by 1% sqrt(Q/Q1) -- the
 * square-root impact law (Donier & Bouchaud, PLoS ONE 2015; perf-anchors
 * §4).  Thinning (makers withdrawing, Kaiko 13 Oct 2025) scales every
 * level and is applied per run by the cascade, so one market serves every
 * Monte Carlo scenario.  No floating point: distances are at scale 8.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

/* 1% as a relative distance at scale 8. */
#define PCT1_E8 ((int64_t)1000000)

/* Market defaults: no snapshot, 5e7 USDT within 1%, levels every bp to 99%, tick 0.1. */
sp_sim_market_cfg sp_sim_market_cfg_default(void)
{
    sp_sim_market_cfg c;
    memset(&c, 0, sizeof(c));
    c.depth_1pct_usd = (int64_t)50000000 * SP__SIM_ONE;
    c.tail_step_bp = 1;
    c.tail_span_bp = 9900;
    c.tick = 10000000;
    return c;
}

static int lv_desc(const void *a, const void *b)
{
    const sp_sim_level *x = a, *y = b;
    return x->px > y->px ? -1 : (x->px < y->px);
}

static int lv_asc(const void *a, const void *b)
{
    return -lv_desc(a, b);
}

/* Best price of a raw snapshot side (max bid / min ask). */
static int64_t best_of(const sp_sim_level *l, size_t n, int ask)
{
    int64_t b = l[0].px;
    for (size_t i = 1; i < n; i++)
        if (ask ? l[i].px < b : l[i].px > b)
            b = l[i].px;
    return b;
}

/* Append (px, qty) to the ladder, merging with the last level on the same price. */
static void push(sp__sim_ladder *L, int64_t px, int64_t qty)
{
    if (L->n > 0 && L->lv[L->n - 1].px == px) {
        L->lv[L->n - 1].qty += qty;
        return;
    }
    L->lv[L->n].px = px;
    L->lv[L->n].qty = qty;
    L->n++;
}

/* Build side s (0 bids, 1 asks) into L. */
static sp_err build_side(const sp_sim_market_cfg *c, int s, int64_t snap_mid, sp__sim_ladder *L,
                         sp_diag *d)
{
    const sp_sim_level *src = s ? c->asks : c->bids;
    size_t nsrc = s ? c->nasks : c->nbids;
    int64_t mid = c->mid_px, tick = c->tick;
    uint64_t steps = c->depth_1pct_usd > 0 ? c->tail_span_bp / c->tail_step_bp : 0;
    size_t cap = nsrc + (size_t)steps + 1;
    if (cap > SP_SIM_LEVELS_MAX)
        return sp_diag_set(d, SP_ETOOBIG, "%zu levels on one side (limit %u)", cap,
                           (unsigned)SP_SIM_LEVELS_MAX);
    sp_sim_level *tmp = NULL;
    L->lv = sp_calloc(cap, sizeof(*L->lv));
    L->cumq = sp_calloc(cap, sizeof(*L->cumq));
    L->cumn = sp_calloc(cap, sizeof(*L->cumn));
    if (nsrc)
        tmp = sp_calloc(nsrc, sizeof(*tmp));
    if (!L->lv || !L->cumq || !L->cumn || (nsrc && !tmp)) {
        sp_free(tmp);
        return sp_diag_set(d, SP_ENOMEM, "market ladder");
    }
    int64_t xe = 0; /* relative distance of the last snapshot level, scale 8 */
    __int128 qe = 0;
    if (nsrc) {
        memcpy(tmp, src, nsrc * sizeof(*tmp));
        qsort(tmp, nsrc, sizeof(*tmp), s ? lv_asc : lv_desc);
        for (size_t i = 0; i < nsrc; i++) {
            int64_t px;
            /* same relative distance from mid: px' = mid x px / snap_mid, away from mid */
            if (sp_mul_div(mid, tmp[i].px, snap_mid, s ? SP_RND_UP : SP_RND_DOWN, &px) != SP_OK)
                goto out_overflow;
            px = s ? (px + tick - 1) / tick * tick : px / tick * tick;
            if (px <= 0)
                break; /* a level so far below mid that it re-centres to nothing */
            push(L, px, tmp[i].qty);
            qe += tmp[i].qty;
        }
        int64_t last = tmp[nsrc - 1].px;
        int64_t dist = s ? last - snap_mid : snap_mid - last;
        if (dist > 0 && sp_mul_div(dist, SP__SIM_ONE, snap_mid, SP_RND_DOWN, &xe) != SP_OK)
            goto out_overflow;
    }
    sp_free(tmp);
    tmp = NULL;
    if (steps) {
        int64_t q1; /* base quantity within 1% of mid */
        if (sp_mul_div(c->depth_1pct_usd, SP__SIM_ONE, mid, SP_RND_DOWN, &q1) != SP_OK)
            goto out_overflow;
        int64_t step8 = (int64_t)c->tail_step_bp * 10000; /* 1 bp = 1e4 at scale 8 */
        int64_t prev_x = xe;
        __int128 prev_q = 0;
        for (uint64_t k = 1; k <= steps; k++) {
            int64_t x = (int64_t)k * step8;
            if (x <= xe)
                continue;
            /* Q(x) - Q_e = Q1 (x^2 - xe^2) / (1%)^2, exact then floored */
            __int128 qx = (__int128)q1 * ((__int128)x * x - (__int128)xe * xe) /
                          ((__int128)PCT1_E8 * PCT1_E8);
            int64_t qty = (int64_t)(qx - prev_q);
            prev_q = qx;
            int64_t px;
            if (sp_mul_div(mid, s ? SP__SIM_ONE + x : SP__SIM_ONE - x, SP__SIM_ONE,
                           s ? SP_RND_UP : SP_RND_DOWN, &px) != SP_OK)
                goto out_overflow;
            px = s ? (px + tick - 1) / tick * tick : px / tick * tick;
            prev_x = x;
            if (px <= 0 || qty <= 0)
                continue;
            if (L->n > 0 && (s ? px < L->lv[L->n - 1].px : px > L->lv[L->n - 1].px))
                px = L->lv[L->n - 1].px; /* never better than the snapshot's last level */
            push(L, px, qty);
        }
        (void)prev_x;
    }
    (void)qe;
    if (L->n == 0)
        return sp_diag_set(d, SP_EINVAL,
                           "empty book: no %s depth (give a snapshot or a depth "
                           "model)",
                           s ? "ask" : "bid");
    int64_t cq = 0;
    __int128 cn = 0;
    for (size_t i = 0; i < L->n; i++) {
        if (__builtin_add_overflow(cq, L->lv[i].qty, &cq))
            goto out_overflow;
        cn += (__int128)L->lv[i].px * L->lv[i].qty / SP__SIM_ONE;
        L->cumq[i] = cq;
        L->cumn[i] = cn;
    }
    return SP_OK;
out_overflow:
    sp_free(tmp);
    return sp_diag_set(d, SP_EOVERFLOW, "market ladder arithmetic overflows");
}

static sp_err check_levels(const sp_sim_level *l, size_t n, const char *what, sp_diag *d)
{
    if (n && !l)
        return sp_diag_set(d, SP_EINVAL, "%s: NULL levels", what);
    for (size_t i = 0; i < n; i++)
        if (l[i].px <= 0 || l[i].qty <= 0)
            return sp_diag_set(d, SP_EINVAL, "%s level %zu: price and quantity must be > 0", what,
                               i);
    return SP_OK;
}

/* Free a market and both ladders; NULL is a no-op. */
void sp_sim_market_free(sp_sim_market *m)
{
    if (!m)
        return;
    for (int s = 0; s < 2; s++) {
        sp_free(m->side[s].lv);
        sp_free(m->side[s].cumq);
        sp_free(m->side[s].cumn);
    }
    sp_free(m);
}

/*
 * Validate the configuration and the snapshot (positive levels, not
 * crossed), find the snapshot's mid, and build both ladders.  Prefix sums
 * are computed once here so every later walk is a binary search.
 */
sp_err sp_sim_market_new(const sp_sim_market_cfg *c, sp_sim_market **out, sp_diag *d)
{
    if (!c || !out)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    if (c->mid_px <= 0)
        return sp_diag_set(d, SP_EINVAL, "start price must be > 0");
    if (c->tick <= 0)
        return sp_diag_set(d, SP_EINVAL, "tick must be > 0");
    if (c->depth_1pct_usd < 0)
        return sp_diag_set(d, SP_EINVAL, "depth within 1%% must be >= 0");
    if (c->depth_1pct_usd > 0 && (c->tail_step_bp == 0 || c->tail_span_bp == 0 ||
                                  c->tail_span_bp > 9999 || c->tail_step_bp > c->tail_span_bp))
        return sp_diag_set(d, SP_EINVAL, "tail step must be 1 .. span bp, span 1 .. 9999 bp");
    sp_err rc;
    if ((rc = check_levels(c->bids, c->nbids, "bid", d)) != SP_OK ||
        (rc = check_levels(c->asks, c->nasks, "ask", d)) != SP_OK)
        return rc;
    int64_t snap_mid = 0;
    if (c->nbids && c->nasks) {
        int64_t bb = best_of(c->bids, c->nbids, 0), ba = best_of(c->asks, c->nasks, 1);
        if (bb >= ba)
            return sp_diag_set(d, SP_EINVAL, "crossed snapshot: best bid >= best ask");
        snap_mid = bb + (ba - bb) / 2;
    } else if (c->nbids) {
        snap_mid = best_of(c->bids, c->nbids, 0);
    } else if (c->nasks) {
        snap_mid = best_of(c->asks, c->nasks, 1);
    }
    sp_sim_market *m = sp_calloc(1, sizeof(*m));
    if (!m)
        return sp_diag_set(d, SP_ENOMEM, "market");
    m->mid = c->mid_px;
    for (int s = 0; s < 2; s++) {
        if ((rc = build_side(c, s, snap_mid, &m->side[s], d)) != SP_OK) {
            sp_sim_market_free(m);
            return rc;
        }
    }
    *out = m;
    return SP_OK;
}

/* The start price the ladders are centred on. */
int64_t sp_sim_market_mid(const sp_sim_market *m)
{
    return m->mid;
}

/* The levels of one side, best first (tests and the full-fidelity mode read them). */
const sp_sim_level *sp_sim_market_levels(const sp_sim_market *m, int side, size_t *n)
{
    const sp__sim_ladder *L = &m->side[side ? 1 : 0];
    if (n)
        *n = L->n;
    return L->lv;
}

/*
 * Quantity and notional of one side within band_bp of the start price --
 * the "depth within 1%" figure the square-root tail is calibrated on.
 */
void sp_sim_market_depth(const sp_sim_market *m, int side, uint32_t band_bp, int64_t *qty,
                         int64_t *notional)
{
    const sp__sim_ladder *L = &m->side[side ? 1 : 0];
    int64_t lim, q = 0;
    __int128 n = 0;
    /* the band's edge, rounded toward mid so the band never widens */
    (void)sp_mul_div(m->mid, side ? 10000 + (int64_t)band_bp : 10000 - (int64_t)band_bp, 10000,
                     side ? SP_RND_DOWN : SP_RND_UP, &lim);
    for (size_t i = 0; i < L->n; i++) {
        if (side ? L->lv[i].px > lim : L->lv[i].px < lim)
            break;
        q += L->lv[i].qty;
        n += (__int128)L->lv[i].px * L->lv[i].qty / SP__SIM_ONE;
    }
    if (qty)
        *qty = q;
    if (notional)
        *notional = n > INT64_MAX ? INT64_MAX : (int64_t)n;
}
