/*
 * liq.c -- liquidation and bankruptcy price, one rule set per venue.
 *
 * Every price is solved as an exact rational num/den in 128-bit integers
 * (all inputs at SP_RULES_SCALE, so the formulas of
 * docs/specs/exchange-rules.md become integer polynomials) and rounded
 * once, at the end, by the instrument's display rule.  The rule sets:
 *   - Binance USD-M (spec §2.2): the official cross formula with one-way
 *     and hedge legs; isolated is the same formula with TMM1 = UPNL1 = 0;
 *     the bracket is looked up at the entry notional and re-solved at the
 *     notional of the liquidation price until consistent (§1, §9);
 *   - Bybit linear (spec §3.1, §3.2): LP = EP -+ (margin - MM) / size with
 *     MM = PV x MMR - mmDeduction on the entry position value;
 *   - OKX swap (spec §4.1, §4.2): equity = size x mark x (MMR + fee), the
 *     whole-position tier by size in contracts;
 *   - inverse, Bybit BTCUSD and BitMEX XBTUSD (spec §3.2, §5): coin equity
 *     = MMR x Q/EP + fee x Q/BP, which reduces to BitMEX's EP/(1 + IM - MM)
 *     with no fee and reproduces Bybit's 5,739.0835 with its 0.075% fee.
 * Nothing here allocates; the engine and the simulator call sp_rules_liq
 * on millions of positions.
 */
#include <string.h>

#include "rules_int.h"

/* ---- 128-bit helpers ------------------------------------------------------ */

/* |x| as unsigned (valid for INT128_MIN too). */
static u128 uabs(i128 x)
{
    return x < 0 ? (u128)0 - (u128)x : (u128)x;
}

/* 128 x 128 -> 256 unsigned product as (hi, lo). */
static void umul256(u128 a, u128 b, u128 *hi, u128 *lo)
{
    const u128 m = ((u128)1 << 64) - 1;
    u128 a0 = a & m, a1 = a >> 64, b0 = b & m, b1 = b >> 64;
    u128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    u128 mid = (p00 >> 64) + (p01 & m) + (p10 & m);
    *lo = (p00 & m) | (mid << 64);
    *hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
}

/* Exact sign of a b - c d for 128-bit factors: the tier boundary test at a rational price. */
int sp__rules_cmp_mul(i128 a, i128 b, i128 c, i128 d)
{
    i128 x, y;
    if (sp__rules_mul(a, b, &x) && sp__rules_mul(c, d, &y))
        return (x > y) - (x < y);
    int sx = ((a < 0) != (b < 0)) && a != 0 && b != 0 ? -1 : (a == 0 || b == 0 ? 0 : 1);
    int sy = ((c < 0) != (d < 0)) && c != 0 && d != 0 ? -1 : (c == 0 || d == 0 ? 0 : 1);
    if (sx != sy)
        return sx > sy ? 1 : -1;
    if (sx == 0)
        return 0;
    u128 xh, xl, yh, yl;
    umul256(uabs(a), uabs(b), &xh, &xl);
    umul256(uabs(c), uabs(d), &yh, &yl);
    int mag = xh != yh ? (xh > yh ? 1 : -1) : (xl > yl) - (xl < yl);
    return sx > 0 ? mag : -mag;
}

/*
 * f = num / den, rem = num - f den for num >= 0, den > 0.  When den fits in
 * 64 bits and the quotient does too (the usual liquidation price), x86-64
 * does it in one DIV instruction instead of libgcc's generic 128-bit
 * division (measured in bench_rules); elsewhere the C division.
 */
static inline void udivrem(i128 num, i128 den, i128 *f, i128 *rem)
{
#if defined(__x86_64__) && defined(__GNUC__)
    const u128 n = (u128)num, d = (u128)den;
    const uint64_t hi = (uint64_t)(n >> 64), lo = (uint64_t)n;
    if ((d >> 64) == 0 && hi < (uint64_t)d) {
        uint64_t q, r;
        __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"((uint64_t)d));
        *f = (i128)q;
        *rem = (i128)r;
        return;
    }
#endif
    *f = num / den;
    *rem = num - *f * den;
}

/*
 * Round the positive exact price num/den (scale 8) to `step` by r, with
 * one 128-bit division: f = floor(num/den) and rem, then the step
 * rounding decided from f mod step and rem exactly.  Also returns f and
 * rem (the re-solve uses them to place the notional without dividing).
 */
static inline sp_err round_pos(i128 num, i128 den, int64_t step, sp_rounding r, int64_t *out,
                               int64_t *floor8, i128 *rem_out)
{
    i128 f, rem;
    udivrem(num, den, &f, &rem);
    if (f > INT64_MAX)
        return SP_EOVERFLOW;
    int64_t f64 = (int64_t)f, k = f64 / step, r8 = f64 - k * step;
    bool up;
    switch (r) {
    case SP_RND_UP:
        up = r8 != 0 || rem != 0;
        break;
    case SP_RND_HALF_UP: {
        /* up iff 2 (r8 + rem/den) >= step; 0 <= 2 rem/den < 2 */
        int64_t gap = step - 2 * r8;
        up = gap <= 0 || (gap <= 2 && 2 * rem >= (i128)gap * den);
        break;
    }
    default: /* DOWN and TRUNC agree for a positive value */
        up = false;
        break;
    }
    int64_t v;
    if (__builtin_mul_overflow(k + (int64_t)up, step, &v))
        return SP_EOVERFLOW;
    *out = v;
    if (floor8)
        *floor8 = f64;
    if (rem_out)
        *rem_out = rem;
    return SP_OK;
}

static sp_err px_rounding(sp_px_round mode, int side, sp_rounding *r)
{
    switch (mode) {
    case SP_PXRND_HALF_UP:
        *r = SP_RND_HALF_UP;
        return SP_OK;
    case SP_PXRND_TOWARD_ENTRY:
        /* spec §3.2: a long's price goes up to the tick, a short's down */
        *r = side > 0 ? SP_RND_UP : SP_RND_DOWN;
        return SP_OK;
    case SP_PXRND_TRUNC:
        *r = SP_RND_TRUNC;
        return SP_OK;
    }
    return SP_EINVAL;
}

/*
 * Round an exact price by a venue's display rule (spec §8.10); one division for a positive price.
 */
sp_err sp_rules_round_px(__int128 num, __int128 den, int64_t step, sp_px_round mode, int side,
                         int64_t *out)
{
    if (den <= 0 || step <= 0)
        return SP_EINVAL;
    sp_rounding r;
    sp_err e = px_rounding(mode, side, &r);
    if (e != SP_OK)
        return e;
    if (num > 0)
        return round_pos(num, den, step, r, out, NULL, NULL);
    /* zero or negative: the general (slower) path */
    i128 dd;
    if (!sp__rules_mul(den, step, &dd))
        return SP_EOVERFLOW;
    i128 k, v;
    if ((e = sp_div_i128_wide(num, dd, r, &k)) != SP_OK)
        return e;
    if (!sp__rules_mul(k, step, &v) || v > INT64_MAX || v < INT64_MIN)
        return SP_EOVERFLOW;
    *out = (int64_t)v;
    return SP_OK;
}

/* Exact decimal text of a rational, digit by digit (for --exact and the JSON output). */
size_t sp_rules_format_ratio(__int128 num, __int128 den, unsigned places, char *out, size_t cap,
                             bool *exact)
{
    if (den == 0 || cap < 64 + (size_t)places)
        return 0;
    bool neg = (num < 0) != (den < 0) && num != 0;
    u128 n = uabs(num), d = uabs(den);
    u128 ip = n / d, rem = n % d;
    char tmp[48];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + (int)(ip % 10));
        ip /= 10;
    } while (ip != 0);
    size_t len = 0;
    if (neg)
        out[len++] = '-';
    while (k > 0)
        out[len++] = tmp[--k];
    if (places > 0)
        out[len++] = '.';
    for (unsigned i = 0; i < places; i++) {
        /* rem < d <= 2^127: rem x 10 fits unless d is huge; then add rem ten times mod d */
        u128 digit = 0;
        if (d <= ((u128)1 << 123)) {
            rem *= 10;
            digit = rem / d;
            rem %= d;
        } else {
            u128 acc = 0;
            for (int j = 0; j < 10; j++) {
                if (acc >= d - rem) {
                    acc -= d - rem;
                    digit++;
                } else {
                    acc += rem;
                }
            }
            rem = acc;
        }
        out[len++] = (char)('0' + (int)digit);
    }
    out[len] = '\0';
    if (exact)
        *exact = rem == 0;
    return len;
}

/* ---- shared pieces of every rule set -------------------------------------- */

/* Position size in base units (linear) or USD (inverse), scale 8, from venue units. */
static sp_err base_qty(const sp_instrument *in, int64_t qty, int64_t *q)
{
    if (!in->qty_in_contracts) {
        *q = qty;
        return SP_OK;
    }
    /* spec §4.1: q = ctVal x |contracts| */
    return sp_mul_div(qty, in->ct_val, SP__RULES_ONE, SP_RND_EXACT, q);
}

static inline sp_err check_pos(const sp_rules_pos *p)
{
    if (p == NULL || p->inst == NULL)
        return SP_EINVAL;
    /*
     * The same checks as plain comparisons, folded into unsigned range tests
     * (x in [lo, hi] <=> (uint64)x - lo <= hi - lo) so the hot path pays a few
     * compares instead of a dozen branches (bench_rules, callgrind):
     * side = +-1, qty > 0, entry > 0.
     */
    const uint64_t pos_max = (uint64_t)INT64_MAX - 1u; /* x in [1, INT64_MAX] */
    if ((((unsigned)p->side + 1u) & ~2u) != 0 || (uint64_t)p->qty - 1u > pos_max ||
        (uint64_t)p->entry_px - 1u > pos_max)
        return SP_EINVAL;
    if (p->mode == SP_MARGIN_HEDGE &&
        (p->hedge_qty < 0 || (p->hedge_qty > 0 && p->hedge_entry_px <= 0)))
        return SP_EINVAL;
    /*
     * rates are fractions: MMR in [0, 1], fee in (-1, 1); bounds keep every
     * product in 128 bits
     */
    const uint64_t one = (uint64_t)SP__RULES_ONE;
    if ((uint64_t)p->mmr > one || (uint64_t)p->hedge_mmr > one ||
        (uint64_t)p->fee_rate + (one - 1u) > 2u * one - 2u)
        return SP_EINVAL;
    return SP_OK;
}

/* Wallet balance net of other positions (spec §2.2 WB' = WB - TMM1 + UPNL1). */
static sp_err wallet_net(const sp_rules_pos *p, i128 *wb)
{
    *wb = p->margin;
    if (p->mode == SP_MARGIN_ISOLATED)
        return SP_OK; /* §2.2: isolated uses TMM1 = UPNL1 = 0 */
    *wb = (i128)p->margin - p->other_mm + p->other_upnl;
    return SP_OK;
}

typedef struct leg {
    int side;
    int64_t q;  /* base units, scale 8 */
    int64_t ep; /* entry, scale 8 */
    int64_t mmr;
    int64_t cum;
    int tier; /* 0-based, -1 explicit */
} leg;

/* Fill the bankruptcy price of a linear position: BP = EP - side x WB'/q (spec §1). */
SP__RULES_NOINLINE static sp_err bk_linear(const sp_rules_pos *p, i128 wb, const leg *l, int nlegs,
                                           sp_rules_out *o)
{
    o->has_bk = false;
    if (p->flags & SP_RULES_LIQ_ONLY)
        return SP_OK;
    /* BP = (WB' - sum s q EP) / (-sum s q), i.e. the formula of §2.2 with MMR = cum = 0 */
    i128 num = wb * SP__RULES_ONE, den = 0, t;
    for (int i = 0; i < nlegs; i++) {
        if (!sp__rules_mul((i128)l[i].q, l[i].ep, &t))
            return SP_EOVERFLOW;
        num -= l[i].side * t;
        den -= (i128)l[i].side * l[i].q;
    }
    if (den == 0)
        return SP_OK; /* zero net position: no bankruptcy price */
    if (den < 0) {
        num = -num;
        den = -den;
    }
    if (num <= 0)
        return SP_OK;
    /* num is at scale 16 (quote x base), den at scale 8 (base): num/den is the price at scale 8 */
    o->bk_num = num;
    o->bk_den = den;
    o->has_bk = true;
    return sp_rules_round_px(num, den, p->inst->liq_round_step, p->inst->liq_round, p->side,
                             &o->bk_px);
}

/* Notional floor/cap comparisons at a rational price: is q x num/den in tier k? */
SP__RULES_NOINLINE static int tier_at_ratio(const sp_tier_table *t, int64_t q, i128 num16,
                                            i128 den16)
{
    /* notional (scale 8) = q x LP8 / 1e8 = q x num16 / den16 (num16 carries no extra 1e8) */
    int lo = 0, hi = (int)t->n - 1;
    if (sp__rules_cmp_mul(q, num16, t->tier[hi].cap, den16) > 0)
        return -1;
    /* binary search for the first tier whose cap >= notional */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (sp__rules_cmp_mul(q, num16, t->tier[mid].cap, den16) <= 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/*
 * Tier of the notional q x LP where LP (scale 8) = lp_floor + rem/den8 and
 * den8 = den16 (the §2.2 solve; num16 is the numerator before the 1e8
 * lift).  Decided from floor(LP) with int64 x int64 products, trying
 * the tier used for the solve (hint) first; only a notional within one
 * unit of a bound falls back to the exact compare.
 */
SP__RULES_NOINLINE static int tier_scan(const sp_tier_table *t, int64_t q, i128 lo, i128 hi,
                                        i128 rem, i128 num16, i128 den16)
{
    for (uint32_t k = 0; k < t->n; k++) {
        i128 cap = sp__rules_mul64(t->tier[k].cap, SP__RULES_ONE);
        if (hi <= cap)
            return (int)k; /* notional < q (floor + 1) <= cap */
        if (lo >= cap && !(lo == cap && rem == 0))
            continue; /* notional > cap (or = cap with a fraction: > cap) */
        /* within a unit of the cap: exact */
        return tier_at_ratio(t, q, num16, den16);
    }
    return -1;
}

static inline int tier_at_price(const sp_tier_table *t, int64_t q, int64_t lp_floor, i128 rem,
                                i128 num16, i128 den16, int hint)
{
    /* q x floor(LP), q x (floor(LP) + 1) */
    const i128 lo = sp__rules_umul64(q, lp_floor), hi = lo + q; /* q > 0, floor(LP) >= 0 */
    if (hint >= 0) {
        /* the usual case: the notional at LP stays in the tier used to solve */
        const i128 cap = sp__rules_mul64(t->tier[hint].cap, SP__RULES_ONE);
        const i128 flo = sp__rules_mul64(t->tier[hint].floor, SP__RULES_ONE);
        if (hi <= cap && (hint == 0 || lo > flo || (lo == flo && rem != 0)))
            return hint;
    }
    /* a re-solve (about 2% of positions in bench_rules): out of line */
    return tier_scan(t, q, lo, hi, rem, num16, den16);
}

/* ---- Binance USD-M (spec §2.2) --------------------------------------------- */

/* Solve the §2.2 formula for the legs' current MMR/cum: LP8 = num16 x 1e8 / den16. */
static sp_err binance_solve(i128 wb, const leg *l, int n, i128 *num16, i128 *den16)
{
    i128 num = wb, den = 0, t;
    for (int i = 0; i < n; i++)
        num += l[i].cum;
    if (!sp__rules_mul(num, SP__RULES_ONE, &num))
        return SP_EOVERFLOW;
    for (int i = 0; i < n; i++) {
        if (!sp__rules_mul((i128)l[i].q, l[i].ep, &t))
            return SP_EOVERFLOW;
        num -= l[i].side * t;
        den += (i128)l[i].q * l[i].mmr - (i128)l[i].side * l[i].q * SP__RULES_ONE;
    }
    if (den < 0) {
        num = -num;
        den = -den;
    }
    *num16 = num;
    *den16 = den;
    return SP_OK;
}

static void set_leg_tier(leg *l, const sp_tier_table *t, int k)
{
    l->tier = k;
    l->mmr = t->tier[k].mmr;
    l->cum = t->tier[k].maint_amount;
}

/*
 * Tier of the notional n16 = q x EP at entry (scale 16; q, EP < 2^63 so the
 * product fits) against bounds at scale 8: a linear scan, since positions
 * concentrate in the first brackets.
 */
static inline int tier_at_entry(const sp_tier_table *t, i128 n16)
{
    for (uint32_t k = 0; k < t->n; k++) {
        if (n16 <= sp__rules_mul64(t->tier[k].cap, SP__RULES_ONE))
            return (int)k;
    }
    return -1;
}

/*
 * The one-leg case (isolated, or cross one-way) in straight-line code: the
 * hot path of a trigger sweep over millions of positions.  Same algebra as
 * the general solve below (spec §2.2 one-way special case), same results;
 * test_rules_props checks both on the same positions.
 */
static sp_err binance_one(const sp_rules_pos *p, sp_rules_out *o)
{
    const sp_tier_table *t = p->tiers;
    const int64_t q = p->qty, ep = p->entry_px;
    const int s = p->side;
    const i128 qep = sp__rules_umul64(q, ep); /* scale 16; q, EP > 0 (check_pos) */
    int k = -1;
    int64_t mmr = p->mmr, cum = p->maint_amount;
    if (t != NULL) {
        if ((k = tier_at_entry(t, qep)) < 0)
            return SP_ERANGE;
        mmr = t->tier[k].mmr;
        cum = t->tier[k].maint_amount;
    }
    /* WB' = WB - TMM1 + UPNL1: |WB'| < 3 x 2^63, so (WB' + cum) x 1e8 < 2^93 never overflows */
    i128 wb = p->margin;
    if (p->mode != SP_MARGIN_ISOLATED)
        wb = wb - p->other_mm + p->other_upnl;
    const i128 wb16 = wb * SP__RULES_ONE;
    sp_rounding rnd;
    sp_err e = px_rounding(p->inst->liq_round, s, &rnd);
    if (e != SP_OK)
        return e;
    const int64_t step = p->inst->liq_round_step;
    if (step <= 0)
        return SP_EINVAL; /* a hand-built instrument: no division by zero below */
    i128 num16, den16 = 0, lnum = 0, rem = 0;
    int64_t lp = 0, lp_floor = 0;
    int resolves = 0;
    bool has;
    for (;;) {
        /*
         * LP = (WB' + cum - s q EP) / (q MMR - s q), all at scale 16; with the
         * sign of the denominator taken out: long (q EP - WB' - cum) / (q (1 - MMR)),
         * short (q EP + WB' + cum) / (q (1 + MMR)) -- §2.2's one-way special case.
         * den16 > 0 iff m > 0 (q > 0), so the test stays in 64 bits.
         */
        const i128 a = wb16 + sp__rules_mul64(cum, SP__RULES_ONE);
        const int64_t m = s > 0 ? SP__RULES_ONE - mmr : SP__RULES_ONE + mmr;
        num16 = s > 0 ? qep - a : qep + a;
        has = m > 0 && num16 > 0;
        if (!has)
            break;
        den16 = sp__rules_umul64(q, m); /* q, m > 0 */
        /* lnum = num16 x 1e8, the overflow test of sp__rules_mul as one compare (num16 > 0) */
        if (num16 > ((i128)(((u128)1 << 127) - 1)) / SP__RULES_ONE)
            return SP_EOVERFLOW;
        lnum = num16 * SP__RULES_ONE;
        if ((e = round_pos(lnum, den16, step, rnd, &lp, &lp_floor, &rem)) != SP_OK)
            return e;
        if (t == NULL)
            break;
        /* §2.2 / §9: the level of the position at the liquidation price */
        int k2 = tier_at_price(t, q, lp_floor, rem, num16, den16, k);
        if (k2 < 0)
            return SP_ERANGE;
        if (k2 == k)
            break;
        if (++resolves > (int)t->n + 1)
            return SP_ESTATE; /* cannot happen for a monotone MM (§9) */
        k = k2;
        mmr = t->tier[k].mmr;
        cum = t->tier[k].maint_amount;
    }
    /* every field written (no memset: this is the hot path) */
    o->has_liq = has;
    o->has_bk = false;
    o->liq_px = has ? lp : 0;
    o->bk_px = 0;
    o->liq_num = has ? lnum : 0;
    o->liq_den = has ? den16 : 0;
    o->bk_num = 0;
    o->bk_den = 0;
    o->mmr = mmr;
    o->maint_amount = cum;
    o->tier = k + 1;
    o->hedge_tier = 0;
    o->resolves = resolves;
    if (p->flags & SP_RULES_LIQ_ONLY)
        return SP_OK;
    leg one = {s, q, ep, 0, 0, -1};
    return bk_linear(p, wb, &one, 1, o);
}

static sp_err binance_general(const sp_rules_pos *p, sp_rules_out *o);

static sp_err binance_liq(const sp_rules *r, const sp_rules_pos *p, sp_rules_out *o)
{
    (void)r;
    sp_err e = check_pos(p);
    if (e != SP_OK)
        return e;
    if (p->inst->contract != SP_CONTRACT_LINEAR ||
        (p->tiers != NULL && p->tiers->kind != SP_TIER_BRACKET))
        return SP_EINVAL;
    if (p->mode != SP_MARGIN_HEDGE && !p->inst->qty_in_contracts &&
        !(p->flags & SP__RULES_GENERAL) && (p->tiers == NULL || p->tiers->n > 0))
        return binance_one(p, o);
    return binance_general(p, o);
}

/*
 * Hedge, contracts and the test flag: the general §2.2 solve over the legs.
 * Kept out of line so the one-leg path above stays small (fewer saved
 * registers and spills: measured in bench_rules with callgrind).
 */
SP__RULES_NOINLINE static sp_err binance_general(const sp_rules_pos *p, sp_rules_out *o)
{
    sp_err e;
    leg l[2];
    int n = 1;
    l[0].side = p->side;
    l[0].ep = p->entry_px;
    l[0].mmr = p->mmr;
    l[0].cum = p->maint_amount;
    l[0].tier = -1;
    if ((e = base_qty(p->inst, p->qty, &l[0].q)) != SP_OK)
        return e;
    if (p->mode == SP_MARGIN_HEDGE && p->hedge_qty > 0) {
        n = 2;
        l[1].side = -p->side;
        l[1].ep = p->hedge_entry_px;
        l[1].mmr = p->hedge_mmr;
        l[1].cum = p->hedge_maint_amount;
        l[1].tier = -1;
        if ((e = base_qty(p->inst, p->hedge_qty, &l[1].q)) != SP_OK)
            return e;
    }
    i128 wb;
    wallet_net(p, &wb);
    const sp_tier_table *t = p->tiers;
    if (t != NULL) {
        if (t->n == 0)
            return SP_EINVAL;
        /* §2.2 last quote: start from the level at the opening price */
        for (int i = 0; i < n; i++) {
            int k = tier_at_entry(t, sp__rules_mul64(l[i].q, l[i].ep));
            if (k < 0)
                return SP_ERANGE;
            set_leg_tier(&l[i], t, k);
        }
    }
    sp_rounding rnd;
    if ((e = px_rounding(p->inst->liq_round, p->side, &rnd)) != SP_OK)
        return e;
    if (p->inst->liq_round_step <= 0)
        return SP_EINVAL; /* a hand-built instrument: no division by zero below */
    i128 num, den, lnum = 0, rem = 0;
    int64_t lp = 0, lp_floor = 0;
    int resolves = 0;
    bool has = false;
    for (int iter = 0;; iter++) {
        if ((e = binance_solve(wb, l, n, &num, &den)) != SP_OK)
            return e;
        has = den > 0 && num > 0;
        if (!has)
            break;
        /* one division gives the rounded price and floor(LP) at scale 8 */
        if (!sp__rules_mul(num, SP__RULES_ONE, &lnum))
            return SP_EOVERFLOW;
        if ((e = round_pos(lnum, den, p->inst->liq_round_step, rnd, &lp, &lp_floor, &rem)) != SP_OK)
            return e;
        if (t == NULL)
            break;
        /* §2.2 / §9: re-solve with the level of the position at the liquidation price */
        bool same = true;
        int k2[2];
        for (int i = 0; i < n; i++) {
            k2[i] = tier_at_price(t, l[i].q, lp_floor, rem, num, den, l[i].tier);
            if (k2[i] < 0)
                return SP_ERANGE;
            same = same && k2[i] == l[i].tier;
        }
        if (same)
            break;
        if (iter > (int)t->n + 1) {
            /* cannot happen for a monotone MM (§9); fail loudly rather than loop */
            return SP_ESTATE;
        }
        for (int i = 0; i < n; i++)
            set_leg_tier(&l[i], t, k2[i]);
        resolves++;
    }
    memset(o, 0, sizeof(*o));
    o->mmr = l[0].mmr;
    o->maint_amount = l[0].cum;
    o->tier = l[0].tier + 1;
    o->hedge_tier = n > 1 ? l[1].tier + 1 : 0;
    o->resolves = resolves;
    o->has_liq = has;
    if (has) {
        o->liq_num = lnum;
        o->liq_den = den;
        o->liq_px = lp;
    }
    return bk_linear(p, wb, l, n, o);
}

static sp_err binance_mm(const sp_rules *r, const sp_rules_pos *p, int64_t mark, int64_t *mm,
                         int *tier)
{
    (void)r;
    sp_err e = check_pos(p);
    if (e != SP_OK)
        return e;
    int64_t qs[2] = {0, 0};
    int n = 1;
    if ((e = base_qty(p->inst, p->qty, &qs[0])) != SP_OK)
        return e;
    if (p->mode == SP_MARGIN_HEDGE && p->hedge_qty > 0) {
        n = 2;
        if ((e = base_qty(p->inst, p->hedge_qty, &qs[1])) != SP_OK)
            return e;
    }
    /* §2.1: MM = notional x MMR - cum, notional at the mark price */
    i128 total = 0;
    *tier = 0;
    for (int i = 0; i < n; i++) {
        int64_t mmr = i == 0 ? p->mmr : p->hedge_mmr,
                cum = i == 0 ? p->maint_amount : p->hedge_maint_amount;
        if (p->tiers) {
            int k = tier_at_entry(p->tiers, sp__rules_mul64(qs[i], mark));
            if (k < 0)
                return SP_ERANGE;
            mmr = p->tiers->tier[k].mmr;
            cum = p->tiers->tier[k].maint_amount;
            if (i == 0)
                *tier = k + 1;
        }
        i128 v = (i128)qs[i] * mark, w;
        if (!sp__rules_mul(v, mmr, &w))
            return SP_EOVERFLOW;
        i128 m;
        if ((e = sp_div_i128_wide(w, (i128)SP__RULES_ONE * SP__RULES_ONE, SP_RND_UP, &m)) != SP_OK)
            return e;
        total += m - cum;
    }
    if (total > INT64_MAX || total < INT64_MIN)
        return SP_EOVERFLOW;
    *mm = (int64_t)total;
    return SP_OK;
}

/* ---- Bybit linear (spec §3.1, §3.2) ----------------------------------------- */

static sp_err bybit_tier(const sp_rules_pos *p, int64_t q, int64_t *mmr, int64_t *ded, int *tier)
{
    *mmr = p->mmr;
    *ded = p->maint_amount;
    *tier = 0;
    if (p->tiers == NULL)
        return SP_OK;
    if (p->tiers->kind != SP_TIER_BRACKET || p->tiers->n == 0)
        return SP_EINVAL;
    /* §3.1: MM on the position value at entry, tax-bracket tiers */
    int k = tier_at_entry(p->tiers, sp__rules_mul64(q, p->entry_px));
    if (k < 0)
        return SP_ERANGE;
    *mmr = p->tiers->tier[k].mmr;
    *ded = p->tiers->tier[k].maint_amount;
    *tier = k + 1;
    return SP_OK;
}

static sp_err bybit_liq(const sp_rules *r, const sp_rules_pos *p, sp_rules_out *o)
{
    (void)r;
    sp_err e = check_pos(p);
    if (e != SP_OK)
        return e;
    if (p->mode == SP_MARGIN_HEDGE || p->inst->contract != SP_CONTRACT_LINEAR)
        return SP_EINVAL;
    int64_t q, mmr, ded;
    int tier;
    if ((e = base_qty(p->inst, p->qty, &q)) != SP_OK)
        return e;
    if ((e = bybit_tier(p, q, &mmr, &ded, &tier)) != SP_OK)
        return e;
    i128 wb;
    wallet_net(p, &wb);
    /*
     * §3.2: LP = EP - s (WB' - MM) / q, MM = q EP MMR - ded (§3.1)
     *   => LP = EP (1 + s MMR) - s (WB' + ded) / q
     * num (scale 24) = EP (1e8 + s MMR) q - s (WB' + ded) 1e16; den (scale 16) = q 1e8.
     */
    i128 a, b;
    if (!sp__rules_mul((i128)p->entry_px * ((i128)SP__RULES_ONE + p->side * (i128)mmr), q, &a) ||
        !sp__rules_mul(wb + ded, (i128)SP__RULES_ONE * SP__RULES_ONE, &b))
        return SP_EOVERFLOW;
    memset(o, 0, sizeof(*o));
    o->mmr = mmr;
    o->maint_amount = ded;
    o->tier = tier;
    i128 num = a - p->side * b, den = (i128)q * SP__RULES_ONE;
    if (num > 0) {
        o->has_liq = true;
        o->liq_num = num;
        o->liq_den = den;
        if ((e = sp_rules_round_px(num, den, p->inst->liq_round_step, p->inst->liq_round, p->side,
                                   &o->liq_px)) != SP_OK)
            return e;
    }
    leg one = {p->side, q, p->entry_px, 0, 0, -1};
    return bk_linear(p, wb, &one, 1, o);
}

static sp_err bybit_mm(const sp_rules *r, const sp_rules_pos *p, int64_t mark, int64_t *mm,
                       int *tier)
{
    (void)r;
    (void)mark; /* §3.1: Bybit's MM is on the entry position value */
    sp_err e = check_pos(p);
    if (e != SP_OK)
        return e;
    int64_t q, mmr, ded;
    if ((e = base_qty(p->inst, p->qty, &q)) != SP_OK ||
        (e = bybit_tier(p, q, &mmr, &ded, tier)) != SP_OK)
        return e;
    i128 w;
    if (!sp__rules_mul((i128)q * p->entry_px, mmr, &w))
        return SP_EOVERFLOW;
    i128 v;
    if ((e = sp_div_i128_wide(w, (i128)SP__RULES_ONE * SP__RULES_ONE, SP_RND_UP, &v)) != SP_OK)
        return e;
    v -= ded;
    if (v > INT64_MAX || v < INT64_MIN)
        return SP_EOVERFLOW;
    *mm = (int64_t)v;
    return SP_OK;
}

/* ---- OKX swap (spec §4.1, §4.2) ---------------------------------------------- */

static sp_err okx_tier(const sp_rules_pos *p, int64_t *mmr, int *tier)
{
    *mmr = p->mmr;
    *tier = 0;
    if (p->tiers == NULL)
        return SP_OK;
    if (p->tiers->kind != SP_TIER_WHOLE)
        return SP_EINVAL;
    /* §4.1 / §4.3: the single MMR of the tier the size in contracts falls into */
    int k = sp_tier_find(p->tiers, p->qty);
    if (k < 0)
        return SP_ERANGE;
    *mmr = p->tiers->tier[k].mmr;
    *tier = k + 1;
    return SP_OK;
}

static sp_err okx_liq(const sp_rules *r, const sp_rules_pos *p, sp_rules_out *o)
{
    (void)r;
    sp_err e = check_pos(p);
    if (e != SP_OK)
        return e;
    if (p->mode == SP_MARGIN_HEDGE || p->inst->contract != SP_CONTRACT_LINEAR)
        return SP_EINVAL;
    int64_t q, mmr;
    int tier;
    if ((e = base_qty(p->inst, p->qty, &q)) != SP_OK || (e = okx_tier(p, &mmr, &tier)) != SP_OK)
        return e;
    i128 wb;
    wallet_net(p, &wb);
    /*
     * §4.2: LP = (q EP - s WB') / (q (1 - s (MMR + fee))); the cross form of
     * §4.1 has the same shape with WB' the account balance net of others.
     */
    i128 t, num, den;
    if (!sp__rules_mul((i128)q, p->entry_px, &t))
        return SP_EOVERFLOW;
    num = t - p->side * wb * SP__RULES_ONE;
    den = (i128)q * ((i128)SP__RULES_ONE - p->side * ((i128)mmr + p->fee_rate));
    memset(o, 0, sizeof(*o));
    o->mmr = mmr;
    o->tier = tier;
    if (den < 0) {
        num = -num;
        den = -den;
    }
    if (den > 0 && num > 0) {
        if (!sp__rules_mul(num, SP__RULES_ONE, &o->liq_num))
            return SP_EOVERFLOW;
        o->liq_den = den;
        o->has_liq = true;
        if ((e = sp_rules_round_px(o->liq_num, den, p->inst->liq_round_step, p->inst->liq_round,
                                   p->side, &o->liq_px)) != SP_OK)
            return e;
    }
    leg one = {p->side, q, p->entry_px, 0, 0, -1};
    return bk_linear(p, wb, &one, 1, o);
}

static sp_err okx_mm(const sp_rules *r, const sp_rules_pos *p, int64_t mark, int64_t *mm, int *tier)
{
    (void)r;
    sp_err e = check_pos(p);
    if (e != SP_OK)
        return e;
    int64_t q, mmr;
    if ((e = base_qty(p->inst, p->qty, &q)) != SP_OK || (e = okx_tier(p, &mmr, tier)) != SP_OK)
        return e;
    /* §4.1: the trigger compares equity with size x mark x (MMR + fee) */
    i128 w;
    if (!sp__rules_mul((i128)q * mark, (i128)mmr + p->fee_rate, &w))
        return SP_EOVERFLOW;
    i128 v;
    if ((e = sp_div_i128_wide(w, (i128)SP__RULES_ONE * SP__RULES_ONE, SP_RND_UP, &v)) != SP_OK)
        return e;
    if (v > INT64_MAX)
        return SP_EOVERFLOW;
    *mm = (int64_t)v;
    return SP_OK;
}

/* ---- inverse: Bybit BTCUSD, BitMEX XBTUSD (spec §3.2, §5) ---------------------- */

/*
 * Q in USD at scale 8 is usually whole contracts: drop the common power of
 * ten so the scale-24 products stay inside 128 bits.  Returns Q / 10^k and k.
 */
static int64_t strip_pow10(int64_t v, unsigned *k)
{
    *k = 0;
    while (*k < 8 && v % 10 == 0 && v != 0) {
        v /= 10;
        (*k)++;
    }
    return v;
}

static sp_err inverse_liq(const sp_rules *r, const sp_rules_pos *p, sp_rules_out *o)
{
    (void)r;
    sp_err e = check_pos(p);
    if (e != SP_OK)
        return e;
    /* no inverse tier table is captured (spec §3.3, §5): the MMR is given (base_mmr) */
    if (p->mode == SP_MARGIN_HEDGE || p->inst->contract != SP_CONTRACT_INVERSE || p->tiers != NULL)
        return SP_EINVAL;
    int64_t qfull;
    if ((e = base_qty(p->inst, p->qty, &qfull)) != SP_OK)
        return e;
    unsigned k;
    int64_t qm = strip_pow10(qfull, &k); /* Q = qm x 10^(k-8), i.e. qm at scale 8-k */
    i128 wb;
    wallet_net(p, &wb);
    const int s = p->side;
    const i128 one = SP__RULES_ONE;
    const i128 sf = s * one + p->fee_rate; /* (s + fee), scale 8 */
    const i128 p10 = sp_pow10(8 - k);      /* lifts WB' x EP from scale 16 to 24 - k */
    /*
     * Coin equity WB' + s (Q/EP - Q/P) meets MMR x Q/EP + fee x Q/BP, with
     * Q/BP = (WB' + s Q/EP) / (s + fee) (bankruptcy: equity = fee to close).
     * Solving:  LP = s Q EP (s + fee) / (s WB' EP + Q - MMR Q (s + fee))
     *           BP = Q EP (s + fee) / (WB' EP + s Q)
     * Scales: Q at 8-k, EP, WB', rates at 8 => every term at 24-k.
     */
    i128 qep, num, t1, t2, t3;
    if (!sp__rules_mul((i128)qm, p->entry_px, &qep) || !sp__rules_mul(qep, sf, &num) ||
        !sp__rules_mul(wb, p->entry_px, &t1) || !sp__rules_mul(t1, p10, &t1) ||
        !sp__rules_mul((i128)qm, one * one, &t2) || !sp__rules_mul((i128)qm * p->mmr, sf, &t3))
        return SP_EOVERFLOW;
    memset(o, 0, sizeof(*o));
    o->mmr = p->mmr;
    i128 lnum = s * num, lden = s * t1 + t2 - t3;
    if (lden < 0) {
        lnum = -lnum;
        lden = -lden;
    }
    if (lden > 0 && lnum > 0) {
        if (!sp__rules_mul(lnum, one, &o->liq_num))
            return SP_EOVERFLOW;
        o->liq_den = lden;
        o->has_liq = true;
        if ((e = sp_rules_round_px(o->liq_num, lden, p->inst->liq_round_step, p->inst->liq_round, s,
                                   &o->liq_px)) != SP_OK)
            return e;
    }
    if (p->flags & SP_RULES_LIQ_ONLY)
        return SP_OK;
    i128 bnum = num, bden = t1 + s * t2;
    if (bden < 0) {
        bnum = -bnum;
        bden = -bden;
    }
    if (bden > 0 && bnum > 0) {
        if (!sp__rules_mul(bnum, one, &o->bk_num))
            return SP_EOVERFLOW;
        o->bk_den = bden;
        o->has_bk = true;
        if ((e = sp_rules_round_px(o->bk_num, bden, p->inst->liq_round_step, p->inst->liq_round, s,
                                   &o->bk_px)) != SP_OK)
            return e;
    }
    return SP_OK;
}

static sp_err inverse_mm(const sp_rules *r, const sp_rules_pos *p, int64_t mark, int64_t *mm,
                         int *tier)
{
    (void)r;
    (void)mark;
    sp_err e = check_pos(p);
    if (e != SP_OK)
        return e;
    *tier = 0;
    int64_t q;
    if ((e = base_qty(p->inst, p->qty, &q)) != SP_OK)
        return e;
    /* requirement in coin: MMR x Q/EP + fee x Q/BP, Q/BP = (WB' + s Q/EP) / (s + fee) */
    i128 wb;
    wallet_net(p, &wb);
    i128 a, b = 0;
    if ((e = sp_div_i128_wide((i128)q * p->mmr, (i128)p->entry_px, SP_RND_UP, &a)) != SP_OK)
        return e;
    if (p->fee_rate != 0) {
        /* fee (WB' EP + s Q 1e8) / (EP (s 1e8 + fee)): scales 8 + 16 - 16 = 8 */
        i128 x, y;
        if (!sp__rules_mul(wb, p->entry_px, &x) ||
            !sp__rules_add(x, (i128)p->side * q * SP__RULES_ONE, &x) ||
            !sp__rules_mul(x, p->fee_rate, &x) ||
            !sp__rules_mul((i128)p->entry_px, (i128)p->side * SP__RULES_ONE + p->fee_rate, &y))
            return SP_EOVERFLOW;
        if (y < 0) {
            x = -x;
            y = -y;
        }
        if ((e = sp_div_i128_wide(x, y, SP_RND_UP, &b)) != SP_OK)
            return e; /* y != 0: check_pos keeps the fee inside (-1, 1) */
    }
    if (a + b > INT64_MAX)
        return SP_EOVERFLOW;
    *mm = (int64_t)(a + b);
    return SP_OK;
}

/* ---- the table of rule sets ---------------------------------------------------- */

static const sp_rules rule_sets[] = {
    {"binance-usdm", SP_VENUE_BINANCE_UM, SP_CONTRACT_LINEAR, binance_liq, binance_mm, NULL},
    {"bybit-linear", SP_VENUE_BYBIT, SP_CONTRACT_LINEAR, bybit_liq, bybit_mm, NULL},
    {"okx-swap", SP_VENUE_OKX, SP_CONTRACT_LINEAR, okx_liq, okx_mm, NULL},
    {"bybit-inverse", SP_VENUE_BYBIT, SP_CONTRACT_INVERSE, inverse_liq, inverse_mm, NULL},
    {"bitmex-inverse", SP_VENUE_BITMEX, SP_CONTRACT_INVERSE, inverse_liq, inverse_mm, NULL},
};

/* The built-in rule set of a venue and contract kind (DESIGN §4 vtable). */
const sp_rules *sp_rules_get(sp_venue venue, sp_contract contract)
{
    /* the common case first, without a scan */
    if (venue == SP_VENUE_BINANCE_UM && contract == SP_CONTRACT_LINEAR)
        return &rule_sets[0];
    for (size_t i = 0; i < SP_COUNTOF(rule_sets); i++) {
        if (rule_sets[i].venue == venue && rule_sets[i].contract == contract)
            return &rule_sets[i];
    }
    return NULL;
}

/*
 * Liquidation and bankruptcy price through the instrument's rule set: the per-position entry point.
 */
sp_err sp_rules_liq(const sp_rules_pos *p, sp_rules_out *out)
{
    if (p == NULL || p->inst == NULL || out == NULL)
        return SP_EINVAL;
    /* Binance linear, the hot case: no table walk, no indirect call (inlined) */
    if (p->inst->venue == SP_VENUE_BINANCE_UM && p->inst->contract == SP_CONTRACT_LINEAR)
        return binance_liq(&rule_sets[0], p, out);
    const sp_rules *r = sp_rules_get(p->inst->venue, p->inst->contract);
    if (r == NULL)
        return SP_EINVAL;
    return r->liq(r, p, out);
}

/* The requirement the venue compares equity with at a mark price (for checks and the engine). */
sp_err sp_rules_maint_margin(const sp_rules_pos *p, int64_t mark_px, int64_t *mm, int *tier)
{
    if (p == NULL || p->inst == NULL || mm == NULL || tier == NULL || mark_px <= 0)
        return SP_EINVAL;
    const sp_rules *r = sp_rules_get(p->inst->venue, p->inst->contract);
    if (r == NULL)
        return SP_EINVAL;
    return r->maint_margin(r, p, mark_px, mm, tier);
}

/* Index of the tier a value falls in (floor < x <= cap), -1 past the last cap. */
int sp_tier_find(const sp_tier_table *t, int64_t x)
{
    if (t == NULL || t->n == 0)
        return -1;
    return tier_at_ratio(t, 1, x, 1);
}

/* Printable name of a margin mode. */
const char *sp_margin_mode_name(sp_margin_mode m)
{
    switch (m) {
    case SP_MARGIN_ISOLATED:
        return "isolated";
    case SP_MARGIN_CROSS:
        return "cross";
    case SP_MARGIN_HEDGE:
        return "hedge";
    }
    return "?";
}

/* Printable name of a contract kind. */
const char *sp_contract_name(sp_contract c)
{
    switch (c) {
    case SP_CONTRACT_LINEAR:
        return "linear";
    case SP_CONTRACT_INVERSE:
        return "inverse";
    }
    return "?";
}
