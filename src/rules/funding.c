/*
 * funding.c -- funding rate, funding payment and ADL ranking scores.
 *
 * Funding (spec §2.5 Binance, §3.4 Bybit, §5 BitMEX): F = P + clamp(I - P,
 * -0.05%, +0.05%), then the venue's cap/floor; Bybit averages the minute
 * premiums with linear weights.  ADL (spec §2.7 Binance LeveragePnl, §5
 * BitMEX PnL% x effective leverage).  All rates at SP_RULES_SCALE; each
 * quotient is computed in 128 bits and rounded once, half-even.  The
 * engine calls these per settlement and per ADL ranking pass.
 */
#include "rules_int.h"

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* The funding rate of one settlement from its premium and interest: spec §2.5, §3.4, §5. */
int64_t sp_rules_funding_rate(int64_t premium, int64_t interest, int64_t clamp, int64_t floor,
                              int64_t cap)
{
    /* §2.5: F = P + clamp(I - P, 0.05%, -0.05%); saturating, rates are small */
    i128 diff = (i128)interest - premium;
    i128 c = diff < -clamp ? -clamp : (diff > clamp ? clamp : diff);
    i128 f = (i128)premium + c;
    if (f > INT64_MAX)
        f = INT64_MAX;
    if (f < INT64_MIN)
        f = INT64_MIN;
    /* §2.5 cap/floor (BTCUSDT +-0.3%); cap = floor = 0 means none */
    if (cap != 0 || floor != 0)
        return clamp64((int64_t)f, floor, cap);
    return (int64_t)f;
}

/* Bybit's linearly weighted average of the minute premiums (spec §3.4). */
sp_err sp_rules_premium_twap(const int64_t *premium, size_t n, int64_t *out)
{
    if (premium == NULL || n == 0 || out == NULL || n > ((size_t)1 << 20))
        return SP_EINVAL;
    /* §3.4: (P1 x 1 + P2 x 2 + ... + Pn x n) / (1 + 2 + ... + n) */
    i128 num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (i128)premium[i] * (i128)(i + 1);
        den += (i128)(i + 1);
    }
    return sp_div_i128(num, den, SP_RND_HALF_EVEN, out);
}

/* What one position pays (positive) or receives at a settlement (spec §2.5 linear, §7 inverse). */
sp_err sp_rules_funding_payment(const sp_instrument *inst, int side, int64_t qty, int64_t mark_px,
                                int64_t rate, int64_t *out)
{
    if (inst == NULL || (side != 1 && side != -1) || qty <= 0 || mark_px <= 0 || out == NULL)
        return SP_EINVAL;
    i128 q = qty;
    if (inst->qty_in_contracts)
        q = (i128)qty * inst->ct_val; /* scale 16 */
    else
        q *= SP__RULES_ONE;
    i128 num, den;
    if (inst->contract == SP_CONTRACT_LINEAR) {
        /* §2.5: amount = mark x size x F (quote) */
        if (!sp__rules_mul(q * mark_px, rate, &num))
            return SP_EOVERFLOW;
        den = (i128)SP__RULES_ONE * SP__RULES_ONE * SP__RULES_ONE;
    } else {
        /* §7 BitMEX: amount = (Q / mark) x F (coin) */
        if (!sp__rules_mul(q, rate, &num))
            return SP_EOVERFLOW;
        den = (i128)mark_px * SP__RULES_ONE;
    }
    int64_t v;
    sp_err e = sp_div_i128(num * side, den, SP_RND_HALF_EVEN, &v);
    if (e == SP_OK)
        *out = v;
    return e;
}

/* Binance's ADL ranking score LeveragePnl (spec §2.7). */
sp_err sp_rules_adl_binance(int64_t upnl, int64_t wallet, int64_t mm, int64_t *score)
{
    if (score == NULL)
        return SP_EINVAL;
    /* §2.7: PnlPercent = max(0, UP) / max(1, WB); MarginRatio = MM / (WB + UP) if > 0 else 0 */
    i128 up = upnl > 0 ? upnl : 0;
    i128 wb = wallet > SP__RULES_ONE ? wallet : SP__RULES_ONE;
    i128 eq = (i128)wallet + upnl;
    if (eq <= 0 || up == 0) {
        *score = 0;
        return SP_OK;
    }
    /* LeveragePnl = up/wb x mm/eq, at scale 8: up x mm x 1e8 / (wb x eq) */
    i128 num, den;
    if (!sp__rules_mul(up * mm, SP__RULES_ONE, &num) || !sp__rules_mul(wb, eq, &den))
        return SP_EOVERFLOW;
    return sp_div_i128(num, den, SP_RND_HALF_EVEN, score);
}

/* BitMEX's ADL ranking score (spec §5), in the linear analogue of §7. */
sp_err sp_rules_adl_bitmex(int side, int64_t qty, int64_t entry_px, int64_t mark_px, int64_t bk_px,
                           int64_t *score)
{
    if ((side != 1 && side != -1) || qty <= 0 || entry_px <= 0 || mark_px <= 0 || bk_px <= 0 ||
        score == NULL)
        return SP_EINVAL;
    /*
     * §5: values are side x q x price (linear analogue of §7); q cancels in
     * both ratios, so the prices alone keep the products small.
     */
    i128 mv = (i128)side * mark_px, ev = (i128)side * entry_px;
    i128 bv = (i128)side * bk_px;
    if (mv == bv)
        return SP_EINVAL;
    /* PnL% = (MV - EV) / |EV|;  EL = |MV| / (MV - BV) */
    i128 pn = mv - ev, pd = ev < 0 ? -ev : ev;
    i128 ln = mv < 0 ? -mv : mv, ld = mv - bv;
    if (ld < 0) {
        ln = -ln;
        ld = -ld;
    }
    i128 num, den;
    if (pn > 0) {
        /* PnL% x EL */
        if (!sp__rules_mul(pn * ln, SP__RULES_ONE, &num) || !sp__rules_mul(pd, ld, &den))
            return SP_EOVERFLOW;
    } else {
        /* PnL% / EL */
        if (!sp__rules_mul(pn * ld, SP__RULES_ONE, &num) || !sp__rules_mul(pd, ln, &den))
            return SP_EOVERFLOW;
    }
    if (den < 0) {
        num = -num;
        den = -den;
    }
    return sp_div_i128(num, den, SP_RND_HALF_EVEN, score);
}
