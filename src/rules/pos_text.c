/*
 * pos_text.c -- a position to price, from text.
 *
 * The `liq` command (flags and CSV rows) and the API's calculator take the
 * same inputs as strings; this turns them into an sp_rules_pos the one way
 * both answer with: decimals parsed exactly at scale 8 (sp_dec_parse), the
 * maintenance rate from an explicit mmr, else the dated or latest verified
 * tier table, else the instrument's base MMR on inverse venues
 * (exchange-rules.md §5), and the fee the venue's formula includes by
 * default (§3.2 Bybit inverse, §4.2 OKX).  Every refusal names the field.
 */
#include <stdio.h>
#include <string.h>

#include "stampede/rules.h"

#define SC SP_RULES_SCALE

static const char *const default_names[SP_RTF_N_] = {
    "venue", "symbol",       "mode",     "side",     "entry_price", "qty",       "margin",
    "mmr",   "maint_amount", "fee_rate", "other_mm", "other_upnl",  "hedge_qty", "hedge_entry",
};

const char *sp_rules_text_field_name(sp_rules_text_field f)
{
    return (unsigned)f < SP_RTF_N_ ? default_names[f] : "?";
}

int64_t sp_rules_default_fee(const sp_instrument *in)
{
    if (in->venue == SP_VENUE_OKX ||
        (in->venue == SP_VENUE_BYBIT && in->contract == SP_CONTRACT_INVERSE))
        return in->taker_fee;
    return 0;
}

unsigned sp_rules_px_places(const sp_instrument *in)
{
    int64_t s = in->liq_round_step < in->tick ? in->liq_round_step : in->tick;
    unsigned p = SC;
    while (p > 2 && s > 0 && s % 10 == 0) {
        s /= 10;
        p--;
    }
    return p;
}

typedef struct reader {
    const sp_rules_pos_text *t;
    sp_diag *d;
} reader;

static const char *val(const reader *r, sp_rules_text_field f)
{
    const char *s = r->t->v[f];
    return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Refuse field f: SP_EINVAL with the field's name in d and why. */
static sp_err refuse(const reader *r, sp_rules_text_field f, const char *why)
{
    sp_diag_field(r->d, r->t->names ? r->t->names[f] : default_names[f]);
    return sp_diag_set(r->d, SP_EINVAL, "%s", why);
}

/* Refuse field f quoting its text (cut to 32 bytes): "'text' why". */
static sp_err refuse_text(const reader *r, sp_rules_text_field f, const char *text, const char *why)
{
    char m[SP_DIAG_MSG_MAX];
    const char *s = text ? text : "";
    snprintf(m, sizeof(m), "'%.32s%s' %s", s, strlen(s) > 32 ? "..." : "", why);
    return refuse(r, f, m);
}

/* One decimal at scale 8 (positive when asked). */
static sp_err dec(const reader *r, sp_rules_text_field f, bool positive, int64_t *out)
{
    const char *s = val(r, f);
    sp_diag pd;
    sp_diag_clear(&pd);
    if (sp_dec_parse(s, strlen(s), SC, out, &pd) != SP_OK) {
        char why[SP_DIAG_MSG_MAX];
        snprintf(why, sizeof(why), "'%.32s%s': %.200s", s, strlen(s) > 32 ? "..." : "", pd.msg);
        return refuse(r, f, why);
    }
    if (positive && *out <= 0)
        return refuse(r, f, "must be positive");
    return SP_OK;
}

/* An optional decimal: untouched when absent. */
static sp_err opt_dec(const reader *r, sp_rules_text_field f, int64_t *out)
{
    return val(r, f) != NULL ? dec(r, f, false, out) : SP_OK;
}

static sp_err mode_side(const reader *r, sp_rules_pos *p)
{
    const char *mode = val(r, SP_RTF_MODE) ? val(r, SP_RTF_MODE) : "isolated";
    if (strcmp(mode, "isolated") == 0)
        p->mode = SP_MARGIN_ISOLATED;
    else if (strcmp(mode, "cross") == 0)
        p->mode = SP_MARGIN_CROSS;
    else if (strcmp(mode, "hedge") == 0)
        p->mode = SP_MARGIN_HEDGE;
    else
        return refuse_text(r, SP_RTF_MODE, mode, "is not isolated, cross or hedge");
    const char *side = val(r, SP_RTF_SIDE);
    if (side && strcmp(side, "long") == 0)
        p->side = 1;
    else if (side && strcmp(side, "short") == 0)
        p->side = -1;
    else
        return refuse_text(r, SP_RTF_SIDE, side, "is not long or short");
    return SP_OK;
}

/* The maintenance rate: explicit, a tier table, or the inverse venues' base MMR (spec §5). */
static sp_err maint(const reader *r, const sp_rules_db *db, sp_venue v, sp_rules_pos *p)
{
    const sp_rules_pos_text *t = r->t;
    sp_err rc;
    if (val(r, SP_RTF_MMR)) {
        if (t->tiers_date != 0)
            return refuse(r, SP_RTF_MMR, "mmr and a tier table date are exclusive");
        if ((rc = dec(r, SP_RTF_MMR, false, &p->mmr)) != SP_OK)
            return rc;
        if (p->mmr < 0 || p->mmr >= 100000000)
            return refuse(r, SP_RTF_MMR, "must be in [0, 1)");
        return opt_dec(r, SP_RTF_MAINT, &p->maint_amount);
    }
    if (val(r, SP_RTF_MAINT))
        return refuse(r, SP_RTF_MAINT, "given without mmr");
    const char *sym = val(r, SP_RTF_SYMBOL);
    const sp_tier_table *tt = t->tiers_date ? sp_rules_db_tiers(db, v, sym, t->tiers_date, true)
                                            : sp_rules_db_tiers(db, v, sym, t->date, false);
    if (tt != NULL)
        p->tiers = tt;
    else if (t->tiers_date == 0 && p->inst->base_mmr > 0)
        p->mmr = p->inst->base_mmr;
    else
        return refuse(r, SP_RTF_MMR,
                      t->tiers_date ? "no tier table of that date for this instrument; give mmr"
                                    : "no verified tier table for this instrument; give mmr");
    return SP_OK;
}

sp_err sp_rules_pos_from_text(const sp_rules_db *db, const sp_rules_pos_text *t, sp_rules_pos *p,
                              sp_diag *d)
{
    reader r = {t, d};
    sp_err rc;
    memset(p, 0, sizeof(*p));
    const char *vn = val(&r, SP_RTF_VENUE);
    sp_venue v = vn ? sp_venue_from_name(vn) : SP_VENUE_NONE;
    if (v != SP_VENUE_BINANCE_UM && v != SP_VENUE_BYBIT && v != SP_VENUE_OKX &&
        v != SP_VENUE_BITMEX)
        return refuse_text(&r, SP_RTF_VENUE, vn, "is not one of binance, bybit, okx, bitmex");
    const char *sym = val(&r, SP_RTF_SYMBOL);
    if (sym == NULL || (p->inst = sp_rules_db_instrument(db, v, sym)) == NULL)
        return refuse_text(&r, SP_RTF_SYMBOL, sym,
                           "is not an instrument of that venue in the rules data");
    if ((rc = mode_side(&r, p)) != SP_OK)
        return rc;
    static const sp_rules_text_field req[] = {SP_RTF_ENTRY, SP_RTF_QTY, SP_RTF_MARGIN};
    int64_t *outs[] = {&p->entry_px, &p->qty, &p->margin};
    for (size_t i = 0; i < SP_COUNTOF(req); i++) {
        if (val(&r, req[i]) == NULL)
            return refuse(&r, req[i], "missing");
        if ((rc = dec(&r, req[i], true, outs[i])) != SP_OK)
            return rc;
    }
    p->fee_rate = sp_rules_default_fee(p->inst);
    if ((rc = opt_dec(&r, SP_RTF_FEE, &p->fee_rate)) != SP_OK)
        return rc;
    if (p->fee_rate < 0 || p->fee_rate >= 10000000)
        return refuse(&r, SP_RTF_FEE, "must be in [0, 0.1)");
    if (p->mode != SP_MARGIN_ISOLATED) {
        if ((rc = opt_dec(&r, SP_RTF_OTHER_MM, &p->other_mm)) != SP_OK ||
            (rc = opt_dec(&r, SP_RTF_OTHER_UPNL, &p->other_upnl)) != SP_OK)
            return rc;
    } else if (val(&r, SP_RTF_OTHER_MM) || val(&r, SP_RTF_OTHER_UPNL)) {
        return refuse(&r, val(&r, SP_RTF_OTHER_MM) ? SP_RTF_OTHER_MM : SP_RTF_OTHER_UPNL,
                      "only for cross or hedge mode");
    }
    if ((rc = maint(&r, db, v, p)) != SP_OK)
        return rc;
    if (p->mode == SP_MARGIN_HEDGE) {
        if (val(&r, SP_RTF_HEDGE_QTY) == NULL || val(&r, SP_RTF_HEDGE_ENTRY) == NULL)
            return refuse(&r, SP_RTF_HEDGE_QTY,
                          "hedge mode needs the opposite leg (hedge_qty, hedge_entry)");
        if ((rc = dec(&r, SP_RTF_HEDGE_QTY, true, &p->hedge_qty)) != SP_OK ||
            (rc = dec(&r, SP_RTF_HEDGE_ENTRY, true, &p->hedge_entry_px)) != SP_OK)
            return rc;
        p->hedge_mmr = p->mmr;
        p->hedge_maint_amount = p->maint_amount;
    }
    return SP_OK;
}
