/*
 * pop.c -- leveraged populations: the calibrated generator, the CSV
 * loader, exact liquidation prices and the sorted views the cascade uses.
 *
 * A population is N isolated-margin positions on one venue and symbol.
 * Each position's liquidation and bankruptcy prices come from the rules
 * module (sp_rules_liq: the venue's formula solved as an exact rational,
 * tiers re-solved at the liquidation notional, docs/specs/exchange-rules.md
 * §1, §2.2, §3.2).  When the library is built without the rules module a
 * private adapter implements the Binance one-way isolated case of §2.2
 * only; tests check that both agree.  The rational price is rounded toward
 * the trader's loss (floor for a long, ceiling for a short) so that the
 * integer trigger test "mark <= liq_px" is exactly the rational test.
 *
 * The generator draws, per position and from the position's own RNG
 * stream (so the result does not depend on evaluation order): the side,
 * the leverage bucket, a Pareto size weight (dist.c) and an entry price
 * (a bar chosen with probability proportional to its traded notional,
 * then a tick uniform in [low, high]).  Sizes are then scaled so the long
 * and short totals are exactly long_bp and 10000 - long_bp of the open
 * interest (up to lot rounding).  Money is fixed point throughout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

/* ---- the built-in venue: Binance USD-M BTCUSDT ------------------------------ */

/*
 * docs/specs/exchange-rules.md §2.3, snapshot of 2024-10-24 (FT-TIERS),
 * BTCUSDT, 12 brackets, cum chain verified there; tick 0.10, step 0.001,
 * liquidation fee 0.0125 (§2.3 "Other instrument constants"); Binance
 * returns liquidation prices truncated to 8 decimals (§2.6).
 */
static const sp_instrument builtin_inst = {
    .venue = SP_VENUE_BINANCE_UM,
    .symbol = "BTCUSDT",
    .settle = "USDT",
    .contract = SP_CONTRACT_LINEAR,
    .qty_in_contracts = false,
    .ct_val = SP__SIM_ONE,
    .tick = 10000000,
    .lot = 100000,
    .maker_fee = 20000,
    .taker_fee = 50000,
    .liq_fee = 1250000,
    .base_mmr = 400000,
    .funding_interval_h = 8,
    .funding_cap = 300000,
    .funding_floor = -300000,
    .interest_rate = 10000,
    .funding_clamp = 50000,
    .liq_round = SP_PXRND_TRUNC,
    .liq_round_step = 1,
    .verified = false,
    .source =
        "docs/specs/exchange-rules.md §2.3 (2024-10-24 capture; fees/steps [capture, verify live])",
};

#define E8(x) ((int64_t)(x)*SP__SIM_ONE)

static const sp_tier_table builtin_tiers = {
    .venue = SP_VENUE_BINANCE_UM,
    .symbol = "BTCUSDT",
    .date = 20241024,
    .kind = SP_TIER_BRACKET,
    .verified = true,
    .n = 12,
    .tier =
        {
            {0, E8(50000), 400000, 0, 0, 125},
            {E8(50000), E8(600000), 500000, E8(50), 0, 100},
            {E8(600000), E8(3000000), 650000, E8(950), 0, 75},
            {E8(3000000), E8(12000000), 1000000, E8(11450), 0, 50},
            {E8(12000000), E8(70000000), 2000000, E8(131450), 0, 25},
            {E8(70000000), E8(100000000), 2500000, E8(481450), 0, 20},
            {E8(100000000), E8(230000000), 5000000, E8(2981450), 0, 10},
            {E8(230000000), E8(480000000), 10000000, E8(14481450), 0, 5},
            {E8(480000000), E8(600000000), 12500000, E8(26481450), 0, 4},
            {E8(600000000), E8(800000000), 15000000, E8(41481450), 0, 3},
            {E8(800000000), E8(1200000000), 25000000, E8(121481450), 0, 2},
            {E8(1200000000), E8(1800000000), 50000000, E8(421481450), 0, 1},
        },
    .source = "docs/specs/exchange-rules.md §2.3, BTCUSDT snapshot 2024-10-24",
};

/*
 * The built-in venue: the instrument and tier table above, borrowed static
 * data, for callers without a rules database (the CLI falls back to it when
 * data/rules cannot be read).
 */
sp_sim_venue sp_sim_venue_builtin(void)
{
    sp_sim_venue v = {&builtin_inst, &builtin_tiers};
    return v;
}

/* ---- leverage mixes ------------------------------------------------------------ */

/*
 * Weights in per-mille of positions.  Default: mass at 5x-25x with a tail
 * to 125x (the calibration; Binance BTCUSDT allows 125x in its
 * first bracket, spec §2.3; Cheng et al. 2021 find liquidated BitMEX
 * traders average 60x, which only a fat high-leverage tail reproduces).
 * Conservative and aggressive move weight down / up the ladder: the Monte
 * Carlo's documented range (docs/internals/sim.md).
 */
static const sp_sim_lev_bucket mix_default[] = {
    {2, 30},   {3, 40},   {5, 120}, {10, 250}, {20, 250},
    {25, 120}, {50, 100}, {75, 40}, {100, 40}, {125, 10},
};
static const sp_sim_lev_bucket mix_low[] = {
    {2, 80},  {3, 100}, {5, 200}, {10, 300}, {20, 200},
    {25, 60}, {50, 40}, {75, 10}, {100, 8},  {125, 2},
};
static const sp_sim_lev_bucket mix_high[] = {
    {2, 10},   {3, 20},   {5, 60},  {10, 160}, {20, 220},
    {25, 150}, {50, 180}, {75, 80}, {100, 90}, {125, 30},
};

/*
 * Copy the documented mix `variant` (0 default, 1 low, 2 high) into out,
 * at most cap buckets; 0 for an unknown variant.  The Monte Carlo draws one
 * of these per scenario (the leverage-mix range of docs/internals/sim.md).
 */
size_t sp_sim_lev_mix(unsigned variant, sp_sim_lev_bucket *out, size_t cap)
{
    const sp_sim_lev_bucket *m;
    size_t n;
    switch (variant) {
    case 0:
        m = mix_default;
        n = SP_COUNTOF(mix_default);
        break;
    case 1:
        m = mix_low;
        n = SP_COUNTOF(mix_low);
        break;
    case 2:
        m = mix_high;
        n = SP_COUNTOF(mix_high);
        break;
    default:
        return 0;
    }
    if (n > cap)
        n = cap;
    if (out)
        memcpy(out, m, n * sizeof(*m));
    return n;
}

/* The report bucket of a leverage: <=5x, 6-10x, 11-20x, 21-50x, 51-100x, >100x. */
unsigned sp_sim_lev_bucket_of(int32_t leverage)
{
    if (leverage <= 5)
        return 0;
    if (leverage <= 10)
        return 1;
    if (leverage <= 20)
        return 2;
    if (leverage <= 50)
        return 3;
    if (leverage <= 100)
        return 4;
    return 5;
}

/* The label of a report bucket, "?" past the end. */
const char *sp_sim_lev_bucket_name(unsigned bucket)
{
    static const char *const names[SP_SIM_LEV_REPORT_BUCKETS] = {"<=5x",   "6-10x",   "11-20x",
                                                                 "21-50x", "51-100x", ">100x"};
    return bucket < SP_SIM_LEV_REPORT_BUCKETS ? names[bucket] : "?";
}

/* ---- liquidation prices ------------------------------------------------------------ */

/* Round num/den (den > 0) down (floor) or up (ceiling) into int64. */
static sp_err round_side(__int128 num, __int128 den, int side, int64_t *out)
{
    return sp_div_i128(num, den, side > 0 ? SP_RND_DOWN : SP_RND_UP, out);
}

/* 0-based tier of notional x (scale 8): floor < x <= cap; x <= 0 in tier 0; -1 past the end. */
static int tier_of(const sp_tier_table *t, int64_t x)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (x <= t->tier[i].cap)
            return (int)i;
    return -1;
}

/*
 * The adapter: Binance one-way isolated (spec §2.2 special case with
 * TMM1 = UPNL1 = 0): long LP = (q EP - WB - cum) / (q (1 - MMR)), short
 * LP = (q EP + WB + cum) / (q (1 + MMR)); tiers re-solved at q x LP until
 * consistent (§2.2 last quote).  BP: MMR = cum = 0.
 */
sp_err sp__sim_liq_adapter(const sp_sim_venue *v, sp_sim_pos *pos)
{
    const __int128 one = SP__SIM_ONE;
    __int128 q = pos->qty, ep = pos->entry_px, wb = pos->margin;
    int side = pos->side;
    int64_t mmr = v->inst->base_mmr, cum = 0;
    int k = -1;
    if (v->tiers) {
        int64_t n_entry;
        if (sp_mul_div(pos->qty, pos->entry_px, SP__SIM_ONE, SP_RND_HALF_EVEN, &n_entry) != SP_OK)
            return SP_EOVERFLOW;
        k = tier_of(v->tiers, n_entry);
        if (k < 0)
            return SP_ERANGE;
    }
    __int128 num = 0, den = 1;
    for (int iter = 0; iter <= (int)SP_RULES_TIERS_MAX; iter++) {
        if (k >= 0) {
            mmr = v->tiers->tier[k].mmr;
            cum = v->tiers->tier[k].maint_amount;
        }
        /* at scale 8: LP = (q EP - side (WB + cum) 1e8) 1e8 / (q (1e8 - side MMR)) */
        num = (q * ep - (__int128)side * (wb + cum) * one) * one;
        den = q * (one - (__int128)side * mmr);
        if (num <= 0 || k < 0)
            break;
        /* the tier of the notional at LP (rounded to 1e-8 first) */
        int64_t lp, n_liq;
        if (sp_div_i128(num, den, SP_RND_HALF_EVEN, &lp) != SP_OK ||
            sp_mul_div(pos->qty, lp, SP__SIM_ONE, SP_RND_HALF_EVEN, &n_liq) != SP_OK)
            return SP_EOVERFLOW;
        int k2 = tier_of(v->tiers, n_liq);
        if (k2 < 0)
            return SP_ERANGE;
        if (k2 == k)
            break;
        k = k2;
    }
    if (num <= 0) {
        pos->liq_px = 0;
    } else if (round_side(num, den, side, &pos->liq_px) != SP_OK) {
        return SP_EOVERFLOW;
    }
    pos->tier = (uint8_t)(k >= 0 ? k + 1 : 0);
    __int128 bnum = (q * ep - (__int128)side * wb * one);
    if (bnum <= 0)
        pos->bk_px = 0;
    else if (round_side(bnum, q, side, &pos->bk_px) != SP_OK)
        return SP_EOVERFLOW;
    return SP_OK;
}

/* Whether pop.c was built against the rules module (tests say which path they checked). */
bool sp__sim_have_rules(void)
{
#ifdef SP_SIM_HAVE_RULES
    return true;
#else
    return false;
#endif
}

/*
 * Price one position: its liquidation trigger, bankruptcy price and tier.
 * With the rules module, sp_rules_liq gives the exact rationals (venue
 * formula, tiers re-solved at the liquidation notional, spec §2.2, §3.2)
 * and they are rounded toward the trader's loss here; without it, only
 * Binance linear positions are supported, through the adapter above.
 */
sp_err sp__sim_price_pos(const sp_sim_venue *v, sp_sim_pos *pos, sp_diag *d)
{
#ifdef SP_SIM_HAVE_RULES
    sp_rules_pos rp;
    sp_rules_out ro;
    memset(&rp, 0, sizeof(rp));
    rp.inst = v->inst;
    rp.tiers = v->tiers;
    rp.mode = SP_MARGIN_ISOLATED;
    rp.side = pos->side;
    rp.qty = pos->qty;
    rp.entry_px = pos->entry_px;
    rp.margin = pos->margin;
    rp.mmr = v->inst->base_mmr;
    sp_err rc = sp_rules_liq(&rp, &ro);
    if (rc != SP_OK)
        return sp_diag_set(d, rc, "liquidation price of position %u: %s", pos->id, sp_strerror(rc));
    if (!ro.has_liq)
        pos->liq_px = 0;
    else if (round_side(ro.liq_num, ro.liq_den, pos->side, &pos->liq_px) != SP_OK)
        return sp_diag_set(d, SP_EOVERFLOW, "liquidation price of position %u", pos->id);
    if (!ro.has_bk)
        pos->bk_px = 0;
    else if (round_side(ro.bk_num, ro.bk_den, pos->side, &pos->bk_px) != SP_OK)
        return sp_diag_set(d, SP_EOVERFLOW, "bankruptcy price of position %u", pos->id);
    pos->tier = (uint8_t)(ro.tier > 0 ? ro.tier : 0);
    return SP_OK;
#else
    if (v->inst->venue != SP_VENUE_BINANCE_UM || v->inst->contract != SP_CONTRACT_LINEAR)
        return sp_diag_set(d, SP_EUNSUPPORTED, "venue %s needs the rules module (built without it)",
                           sp_venue_name(v->inst->venue));
    sp_err rc = sp__sim_liq_adapter(v, pos);
    if (rc != SP_OK)
        return sp_diag_set(d, rc, "liquidation price of position %u: %s", pos->id, sp_strerror(rc));
    return SP_OK;
#endif
}

/* ---- sorted views ---------------------------------------------------------------- */

typedef struct key {
    int64_t k;   /* sort key */
    uint32_t id; /* tie-break */
} key;

static int key_cmp(const void *a, const void *b)
{
    const key *x = a, *y = b;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

/*
 * Build the sorted views the cascade scans: per side, the positions ordered
 * by trigger (longs descending, shorts ascending, ties by id) as an index,
 * the triggers, and the hot fields (size, bankruptcy value, entry notional,
 * leverage bucket) copied contiguously so a wave is a sequential pass.
 * SP_ENOMEM leaves p for sp_sim_pop_free to release.
 */
sp_err sp__sim_pop_index(sp_sim_pop *p)
{
    size_t nl = 0, ns = 0;
    for (size_t i = 0; i < p->n; i++)
        p->pos[i].side > 0 ? nl++ : ns++;
    key *keys = sp_calloc(p->n ? p->n : 1, sizeof(*keys));
    p->lidx = sp_calloc(nl ? nl : 1, sizeof(*p->lidx));
    p->sidx = sp_calloc(ns ? ns : 1, sizeof(*p->sidx));
    p->ltrig = sp_calloc(nl ? nl : 1, sizeof(*p->ltrig));
    p->strig = sp_calloc(ns ? ns : 1, sizeof(*p->strig));
    if (!keys || !p->lidx || !p->sidx || !p->ltrig || !p->strig) {
        sp_free(keys);
        return SP_ENOMEM;
    }
    /* longs: trigger descending (negated key), shorts ascending */
    for (int s = 0; s < 2; s++) {
        size_t m = 0;
        for (size_t i = 0; i < p->n; i++) {
            const sp_sim_pos *q = &p->pos[i];
            if ((s == 0) != (q->side > 0))
                continue;
            keys[m].k = s == 0 ? -q->liq_px : q->liq_px;
            keys[m].id = (uint32_t)i;
            m++;
        }
        qsort(keys, m, sizeof(*keys), key_cmp);
        uint32_t *idx = s == 0 ? p->lidx : p->sidx;
        int64_t *trig = s == 0 ? p->ltrig : p->strig;
        size_t cap = m ? m : 1;
        p->sq[s] = sp_calloc(cap, sizeof(int64_t));
        p->sbk[s] = sp_calloc(cap, sizeof(int64_t));
        p->sent[s] = sp_calloc(cap, sizeof(int64_t));
        p->sbucket[s] = sp_calloc(cap, 1);
        if (!p->sq[s] || !p->sbk[s] || !p->sent[s] || !p->sbucket[s]) {
            sp_free(keys);
            return SP_ENOMEM;
        }
        for (size_t i = 0; i < m; i++) {
            const sp_sim_pos *q = &p->pos[keys[i].id];
            idx[i] = keys[i].id;
            trig[i] = q->liq_px;
            p->sq[s][i] = q->qty;
            p->sbk[s][i] = sp__sim_value(q->qty, q->bk_px);
            p->sent[s][i] = sp__sim_value(q->qty, q->entry_px);
            p->sbucket[s][i] = (uint8_t)sp_sim_lev_bucket_of(q->leverage);
        }
    }
    p->nl = nl;
    p->ns = ns;
    sp_free(keys);
    return SP_OK;
}

static sp_err pop_alloc(size_t n, sp_sim_pop **out)
{
    sp_sim_pop *p = sp_calloc(1, sizeof(*p));
    if (!p)
        return SP_ENOMEM;
    p->pos = sp_calloc(n ? n : 1, sizeof(*p->pos));
    if (!p->pos) {
        sp_free(p);
        return SP_ENOMEM;
    }
    *out = p;
    return SP_OK;
}

/* Free a population and its views; NULL is a no-op. */
void sp_sim_pop_free(sp_sim_pop *p)
{
    if (!p)
        return;
    sp_free(p->pos);
    sp_free(p->lidx);
    sp_free(p->sidx);
    sp_free(p->ltrig);
    sp_free(p->strig);
    for (int s = 0; s < 2; s++) {
        sp_free(p->sq[s]);
        sp_free(p->sbk[s]);
        sp_free(p->sent[s]);
        sp_free(p->sbucket[s]);
    }
    sp_free(p);
}

/* Number of positions (0 for NULL). */
size_t sp_sim_pop_count(const sp_sim_pop *p)
{
    return p ? p->n : 0;
}

/* The i-th position in id order, borrowed; NULL past the end. */
const sp_sim_pos *sp_sim_pop_at(const sp_sim_pop *p, size_t i)
{
    return p && i < p->n ? &p->pos[i] : NULL;
}

/*
 * Totals of a population and a hash of every position's fields in id
 * order: equal hashes mean the same population (the determinism tests and
 * the CLI print it).
 */
void sp_sim_pop_info_get(const sp_sim_pop *p, sp_sim_pop_info *info)
{
    memset(info, 0, sizeof(*info));
    uint64_t h = 0xCBF29CE484222325ull;
    info->n = p->n;
    info->dropped = p->dropped;
    info->capped = p->capped;
    for (size_t i = 0; i < p->n; i++) {
        const sp_sim_pos *q = &p->pos[i];
        int64_t notional = 0;
        /* entry notional, rounded half-even; cannot overflow for a priced position */
        (void)sp_mul_div(q->qty, q->entry_px, SP__SIM_ONE, SP_RND_HALF_EVEN, &notional);
        if (q->side > 0) {
            info->n_long++;
            info->oi_long += notional;
        } else {
            info->oi_short += notional;
        }
        info->margin += q->margin;
        h = sp__sim_mix(h, (uint64_t)q->entry_px);
        h = sp__sim_mix(h, (uint64_t)q->qty);
        h = sp__sim_mix(h, (uint64_t)q->margin);
        h = sp__sim_mix(h, (uint64_t)q->liq_px);
        h = sp__sim_mix(h, (uint64_t)q->bk_px);
        h = sp__sim_mix(h, ((uint64_t)(uint32_t)q->leverage << 8) | (uint8_t)q->side);
    }
    info->nearest_long = p->nl ? p->ltrig[0] : 0;
    info->nearest_short = p->ns ? p->strig[0] : 0;
    info->hash = h;
}

/* ---- completing and checking one position --------------------------------------- */

/* Validate a caller/loaded position, fill margin if 0, and price it. */
static sp_err finish_pos(const sp_sim_venue *v, sp_sim_pos *q, sp_diag *d)
{
    if (q->side != 1 && q->side != -1)
        return sp_diag_set(d, SP_EINVAL, "position %u: side must be +1 or -1", q->id);
    if (q->entry_px <= 0 || q->qty <= 0)
        return sp_diag_set(d, SP_EINVAL, "position %u: entry price and size must be > 0", q->id);
    if (q->leverage < 1 || q->leverage > 1000)
        return sp_diag_set(d, SP_EINVAL, "position %u: leverage %d outside 1..1000", q->id,
                           (int)q->leverage);
    int64_t notional;
    if (sp_mul_div(q->qty, q->entry_px, SP__SIM_ONE, SP_RND_UP, &notional) != SP_OK)
        return sp_diag_set(d, SP_EOVERFLOW, "position %u: notional overflows", q->id);
    if (q->margin == 0 && sp_mul_div(notional, 1, q->leverage, SP_RND_UP, &q->margin) != SP_OK)
        return sp_diag_set(d, SP_EOVERFLOW, "position %u: margin", q->id);
    if (q->margin <= 0)
        return sp_diag_set(d, SP_EINVAL, "position %u: margin must be > 0", q->id);
    q->mode = SP_MARGIN_ISOLATED;
    q->pad_ = 0;
    return sp__sim_price_pos(v, q, d);
}

/*
 * finish_pos for a position given by a caller or a file: also refuse one
 * whose margin is already below maintenance at its own entry price (its
 * liquidation price on the wrong side of the entry) -- no exchange lets
 * such a position open, since the initial margin rate exceeds the
 * maintenance rate in every tier (spec §2.1, §2.3).
 */
sp_err sp__sim_finish_checked(const sp_sim_venue *v, sp_sim_pos *q, sp_diag *d)
{
    sp_err rc = finish_pos(v, q, d);
    if (rc != SP_OK)
        return rc;
    if (q->side > 0 ? q->liq_px >= q->entry_px : q->liq_px <= q->entry_px)
        return sp_diag_set(d, SP_ERANGE,
                           "position %u: margin below maintenance at the entry price "
                           "(liquidation price on the wrong side of the entry)",
                           q->id);
    return SP_OK;
}

static sp_err check_venue(const sp_sim_venue *v, sp_diag *d)
{
    if (!v->inst)
        return sp_diag_set(d, SP_EINVAL, "no instrument given for the venue");
    if (v->inst->lot <= 0 || v->inst->tick <= 0)
        return sp_diag_set(d, SP_EINVAL, "instrument %s has no tick or lot", v->inst->symbol);
    return SP_OK;
}

/*
 * A population from caller positions: each is validated, its margin
 * defaulted (entry notional / leverage, rounded up) and priced; ids are
 * the array order.  The first bad position stops the build (d says which).
 */
sp_err sp_sim_pop_from(const sp_sim_pos *pos, size_t n, sp_sim_venue venue, sp_sim_pop **out,
                       sp_diag *d)
{
    sp_err rc = check_venue(&venue, d);
    if (rc != SP_OK)
        return rc;
    if (n == 0 || n > SP_SIM_POS_MAX || !pos || !out)
        return sp_diag_set(d, SP_EINVAL, "need 1 .. %u positions", (unsigned)SP_SIM_POS_MAX);
    sp_sim_pop *p;
    if ((rc = pop_alloc(n, &p)) != SP_OK)
        return sp_diag_set(d, rc, "population of %zu positions", n);
    memcpy(p->pos, pos, n * sizeof(*pos));
    p->n = n;
    for (size_t i = 0; i < n; i++) {
        p->pos[i].id = (uint32_t)i;
        if ((rc = sp__sim_finish_checked(&venue, &p->pos[i], d)) != SP_OK)
            goto out_free;
    }
    if ((rc = sp__sim_pop_index(p)) != SP_OK) {
        sp_diag_set(d, rc, "population index");
        goto out_free;
    }
    *out = p;
    return SP_OK;
out_free:
    sp_sim_pop_free(p);
    return rc;
}

/* ---- the generator ----------------------------------------------------------------- */

sp_sim_pop_cfg sp_sim_pop_cfg_default(void)
{
    sp_sim_pop_cfg c;
    memset(&c, 0, sizeof(c));
    c.venue = sp_sim_venue_builtin();
    c.n = 100000;
    c.oi_usd = E8(8000000000);
    c.long_bp = 5000;
    c.size_alpha_milli = 1500;
    c.size_max_ratio = 100000;
    c.seed = 1;
    return c;
}

/* The draws of one position that do not depend on the totals. */
typedef struct draw {
    int8_t side;
    int32_t lev;
    uint64_t w;    /* Pareto weight x 1e6 */
    int64_t entry; /* entry price, scale 8, on the tick */
} draw;

typedef struct gen {
    const sp_sim_pop_cfg *cfg;
    const sp_sim_lev_bucket *lev;
    size_t nlev;
    uint64_t lev_total;
    uint64_t *barcum; /* prefix of whole-USDT bar volumes */
    uint64_t bar_total;
} gen;

static void draw_entry(const gen *g, sp_rng *r, int64_t *entry)
{
    const sp_sim_pop_cfg *c = g->cfg;
    uint64_t v = sp_rng_below(r, g->bar_total);
    size_t lo = 0, hi = c->nbars - 1;
    while (lo < hi) { /* first bar with barcum > v */
        size_t mid = lo + (hi - lo) / 2;
        if (g->barcum[mid] > v)
            hi = mid;
        else
            lo = mid + 1;
    }
    const sp_sim_bar *b = &c->bars[lo];
    int64_t tick = c->venue.inst->tick;
    int64_t t0 = (b->low + tick - 1) / tick, t1 = b->high / tick;
    if (t1 < t0)
        t1 = t0;
    *entry = (t0 + (int64_t)sp_rng_below(r, (uint64_t)(t1 - t0 + 1))) * tick;
}

static int32_t draw_lev(const gen *g, sp_rng *r)
{
    uint64_t v = sp_rng_below(r, g->lev_total), acc = 0;
    for (size_t i = 0; i < g->nlev; i++) {
        acc += g->lev[i].weight;
        if (v < acc)
            return g->lev[i].leverage;
    }
    return g->lev[g->nlev - 1].leverage;
}

static void draw_one(const gen *g, sp_rng *r, draw *o)
{
    o->side = sp_rng_below(r, 10000) < g->cfg->long_bp ? 1 : -1;
    o->lev = draw_lev(g, r);
    o->w = sp__sim_pareto_weight(r, g->cfg->size_alpha_milli, g->cfg->size_max_ratio);
    draw_entry(g, r, &o->entry);
}

static sp_err gen_check(const sp_sim_pop_cfg *c, sp_diag *d)
{
    sp_err rc = check_venue(&c->venue, d);
    if (rc != SP_OK)
        return rc;
    if (c->n == 0 || c->n > SP_SIM_POS_MAX)
        return sp_diag_set(d, SP_EINVAL, "positions must be 1 .. %u", (unsigned)SP_SIM_POS_MAX);
    if (c->oi_usd <= 0)
        return sp_diag_set(d, SP_EINVAL, "open interest must be > 0");
    if (c->long_bp > 10000)
        return sp_diag_set(d, SP_EINVAL, "long share must be 0 .. 10000 bp");
    if (c->size_alpha_milli < 100 || c->size_alpha_milli > 10000)
        return sp_diag_set(d, SP_EINVAL, "size exponent must be 0.1 .. 10");
    if (!c->bars || c->nbars == 0)
        return sp_diag_set(d, SP_EINVAL, "no price history for entry prices");
    if (c->mark_px <= 0)
        return sp_diag_set(d, SP_EINVAL, "start price must be > 0");
    if (c->lev && c->nlev == 0)
        return sp_diag_set(d, SP_EINVAL, "empty leverage mix");
    for (size_t i = 0; c->lev && i < c->nlev; i++)
        if (c->lev[i].leverage < 1 || c->lev[i].leverage > 1000 || c->lev[i].weight == 0)
            return sp_diag_set(d, SP_EINVAL, "leverage bucket %zu: leverage 1..1000, weight > 0",
                               i);
    for (size_t i = 0; i < c->nbars; i++)
        if (c->bars[i].low <= 0 || c->bars[i].high < c->bars[i].low)
            return sp_diag_set(d, SP_EINVAL, "bar %zu: low must be > 0 and <= high", i);
    return SP_OK;
}

/* Price the position drawn in o with notional `notional`; false if dead at mark. */
static sp_err make_pos(const gen *g, const draw *o, int64_t notional, uint32_t id, sp_sim_pos *q,
                       bool *alive, bool *capped, sp_diag *d)
{
    const sp_sim_pop_cfg *c = g->cfg;
    const sp_instrument *in = c->venue.inst;
    memset(q, 0, sizeof(*q));
    q->id = id;
    q->side = o->side;
    q->entry_px = o->entry;
    q->leverage = o->lev;
    int64_t qty;
    /* a venue refuses a position past its last tier: such a draw is capped there (the
     * open interest then falls short of oi_usd by the excess; sp_sim_pop_info.capped) */
    if (c->venue.tiers && c->venue.tiers->n > 0 &&
        notional > c->venue.tiers->tier[c->venue.tiers->n - 1].cap) {
        notional = c->venue.tiers->tier[c->venue.tiers->n - 1].cap;
        *capped = true;
    }
    if (sp_mul_div(notional, SP__SIM_ONE, o->entry, SP_RND_DOWN, &qty) != SP_OK)
        return sp_diag_set(d, SP_EOVERFLOW, "position %u: size overflows", id);
    qty -= qty % in->lot;
    if (qty < in->lot)
        qty = in->lot;
    q->qty = qty;
    /* cap leverage at the tier's maximum for the entry notional (spec §2.3 "max lev") */
    if (c->venue.tiers) {
        int64_t n_entry;
        if (sp_mul_div(qty, o->entry, SP__SIM_ONE, SP_RND_UP, &n_entry) != SP_OK)
            return sp_diag_set(d, SP_EOVERFLOW, "position %u: notional", id);
        int k = tier_of(c->venue.tiers, n_entry);
        if (k < 0)
            return sp_diag_set(d, SP_ERANGE,
                               "position %u: notional past the last tier (lower the open "
                               "interest or raise the count)",
                               id);
        int32_t maxl = c->venue.tiers->tier[k].max_leverage;
        if (maxl > 0 && q->leverage > maxl)
            q->leverage = maxl;
    }
    sp_err rc = finish_pos(&c->venue, q, d);
    if (rc != SP_OK)
        return rc;
    *alive = q->side > 0 ? (q->liq_px < c->mark_px) : (q->liq_px > c->mark_px);
    return SP_OK;
}

/*
 * The calibrated generator.  Pass 1 draws every position's side, leverage,
 * size weight and entry from its own stream and sums the weights per side;
 * pass 2 replays each stream, turns the weight into a notional (exact
 * integer share of the side's open interest), prices the position and
 * redraws entry and leverage while it would already be liquidated at the
 * start price.  Survivors are renumbered in order; the views are built last.
 */
sp_err sp_sim_pop_generate(const sp_sim_pop_cfg *cfg, sp_sim_pop **out, sp_diag *d)
{
    if (!cfg || !out)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    sp_err rc = gen_check(cfg, d);
    if (rc != SP_OK)
        return rc;
    gen g = {.cfg = cfg};
    sp_sim_lev_bucket defmix[SP_SIM_LEV_BUCKETS_MAX];
    if (cfg->lev) {
        g.lev = cfg->lev;
        g.nlev = cfg->nlev;
    } else {
        g.nlev = sp_sim_lev_mix(0, defmix, SP_COUNTOF(defmix));
        g.lev = defmix;
    }
    for (size_t i = 0; i < g.nlev; i++)
        g.lev_total += g.lev[i].weight;
    size_t n = (size_t)cfg->n;
    draw *dr = sp_calloc(n, sizeof(*dr));
    g.barcum = sp_calloc(cfg->nbars, sizeof(*g.barcum));
    sp_sim_pop *p = NULL;
    if (!dr || !g.barcum || pop_alloc(n, &p) != SP_OK) {
        rc = sp_diag_set(d, SP_ENOMEM, "population of %zu positions", n);
        goto out_free;
    }
    /* bar weights in whole USDT (statistics of where positions were opened) */
    for (size_t i = 0; i < cfg->nbars; i++) {
        uint64_t w =
            cfg->bars[i].quote_vol > 0 ? (uint64_t)(cfg->bars[i].quote_vol / SP__SIM_ONE) : 0;
        g.bar_total += w ? w : 1;
        g.barcum[i] = g.bar_total;
    }
    /* pass 1: draws and the weight totals per side */
    unsigned __int128 wsum[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        sp_rng r;
        sp__sim_stream(&r, cfg->seed, i);
        draw_one(&g, &r, &dr[i]);
        wsum[dr[i].side > 0 ? 0 : 1] += dr[i].w;
    }
    /* side totals: long_bp of the open interest is long */
    int64_t total[2];
    total[0] = (int64_t)((__int128)cfg->oi_usd * cfg->long_bp / 10000);
    total[1] = cfg->oi_usd - total[0];
    /* pass 2: notional_i = side total x w_i / sum w (floor), price, keep the living */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int s = dr[i].side > 0 ? 0 : 1;
        int64_t notional;
        if (sp_div_i128((__int128)total[s] * (__int128)dr[i].w, (__int128)wsum[s], SP_RND_DOWN,
                        &notional) != SP_OK) {
            rc = sp_diag_set(d, SP_EOVERFLOW, "position %zu: notional", i);
            goto out_free;
        }
        sp_rng r;
        sp__sim_stream(&r, cfg->seed, i);
        draw again;
        draw_one(&g, &r, &again); /* replays pass 1 on the same stream */
        bool alive = false;
        for (int tries = 0; tries < 64; tries++) {
            bool capped = false;
            if ((rc = make_pos(&g, &again, notional, (uint32_t)m, &p->pos[m], &alive, &capped,
                               d)) != SP_OK)
                goto out_free;
            if (capped && alive)
                p->capped++;
            if (alive)
                break;
            /* already liquidated at the start price: redraw entry and leverage */
            again.lev = draw_lev(&g, &r);
            draw_entry(&g, &r, &again.entry);
        }
        if (alive)
            m++;
        else
            p->dropped++;
    }
    p->n = m;
    if (m == 0) {
        rc = sp_diag_set(d, SP_EINVAL, "every generated position is liquidated at the start price");
        goto out_free;
    }
    if ((rc = sp__sim_pop_index(p)) != SP_OK) {
        sp_diag_set(d, rc, "population index");
        goto out_free;
    }
    sp_free(dr);
    sp_free(g.barcum);
    *out = p;
    return SP_OK;
out_free:
    sp_free(dr);
    sp_free(g.barcum);
    sp_sim_pop_free(p);
    return rc;
}
