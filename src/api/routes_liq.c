/*
 * routes_liq.c -- GET /api/v1/liq: the margin calculator.
 *
 * The same inputs and answers as `stampede liq` (cli/cmd_liq.c): the
 * position is read from text into fixed point at scale 8 (sp_dec_parse),
 * the tier table chosen as the CLI chooses it (an explicit mmr, a dated
 * table with `tiers`, else the latest verified table on or before `date`,
 * else the instrument's base MMR for inverse venues, exchange-rules.md §5),
 * priced by sp_rules_liq, and the JSON carries the CLI's fields with the
 * same names and rounding (the venue's liquidation step, half-up for
 * display).  With `leverage` it adds the naive 1/L move and price, the
 * comparison the dashboard's calculator draws.  The answer is pure
 * (depends on the query only) and therefore cacheable.
 */
#include <string.h>

#include "api/api_int.h"
#include "stampede/fixed.h"

#define SC SP_RULES_SCALE

/* What the calculator's parameters are called, by field (sp_rules_text_field order). */
static const char *const param_names[SP_RTF_N_] = {
    "venue", "symbol",       "mode",     "side",     "entry",      "qty",       "margin",
    "mmr",   "maint_amount", "fee_rate", "other_mm", "other_upnl", "hedge_qty", "hedge_entry",
};

static void jpx(sp__json *j, int64_t v, unsigned places)
{
    char t[SP_DEC_FMT_MAX];
    int64_t r = v;
    if (sp_rescale(v, SC, places, SP_RND_HALF_UP, &r) != SP_OK)
        r = v, places = SC;
    sp_dec_format(r, places, 0, t, sizeof(t));
    sp__api_jfmt(j, "\"%s\"", t);
}

/* Adverse move entry -> px in thousandths of a percent, half-up, as "9.639". */
static void jmove(sp__json *j, int64_t entry, int64_t px)
{
    int64_t d = px > entry ? px - entry : entry - px, m = 0;
    char t[SP_DEC_FMT_MAX];
    if (sp_mul_div(d, 100000, entry, SP_RND_HALF_UP, &m) != SP_OK)
        m = -1;
    sp_dec_format(m, 3, 0, t, sizeof(t));
    sp__api_jfmt(j, "\"%s\"", t);
}

void sp__api_route_liq(sp__api_req *r, sp__api_out *o)
{
    static const char *const allowed[] = {
        "venue",     "symbol",      "mode",         "side",     "entry",    "qty",
        "margin",    "mmr",         "maint_amount", "fee_rate", "other_mm", "other_upnl",
        "hedge_qty", "hedge_entry", "leverage",     "tiers",    "date",     NULL};
    if (!sp__api_p_only(r, o, allowed))
        return;
    if (r->srv->rules == NULL) {
        sp__api_error(o, 503, "unavailable", NULL, "no rules data (serve --data DIR)");
        return;
    }
    const sp_api_query *q = &r->q;
    sp_rules_pos_text t = {{0}, param_names, 99991231, 0};
    for (int f = 0; f < SP_RTF_N_; f++)
        t.v[f] = sp_api_query_get(q, param_names[f]);
    int32_t date = 99991231, tiers = 0;
    const char *ds = sp_api_query_get(q, "date"), *ts = sp_api_query_get(q, "tiers");
    if (ds && sp_rules_parse_date(ds, &date) != SP_OK) {
        sp__api_error(o, 400, "bad_parameter", "date", "want YYYY-MM-DD");
        return;
    }
    if (ts && sp_rules_parse_date(ts, &tiers) != SP_OK) {
        sp__api_error(o, 400, "bad_parameter", "tiers", "want YYYY-MM-DD");
        return;
    }
    int64_t lev;
    if (!sp__api_p_int(r, o, "leverage", 1, 1000, 0, &lev))
        return;
    sp_rules_pos p;
    sp_diag d;
    sp_diag_clear(&d);
    t.date = date;
    t.tiers_date = tiers;
    if (sp_rules_pos_from_text(r->srv->rules, &t, &p, &d) != SP_OK) {
        sp__api_error(o, 400, "bad_parameter", d.field, d.msg);
        return;
    }
    sp_rules_out ro;
    sp_err e = sp_rules_liq(&p, &ro);
    if (e != SP_OK) {
        sp__api_error(o, 400, "bad_parameter", e == SP_EINVAL ? "mode" : "qty",
                      e == SP_ERANGE      ? "notional is past the last tier of the table"
                      : e == SP_EINVAL    ? "the venue does not support this margin mode here"
                      : e == SP_EOVERFLOW ? "values too large for exact 128-bit arithmetic"
                                          : sp_strerror(e));
        return;
    }
    int64_t mm_entry = 0, mm_liq = 0;
    int tier_dummy;
    sp_rules_maint_margin(&p, p.entry_px, &mm_entry, &tier_dummy);
    if (ro.has_liq)
        sp_rules_maint_margin(&p, ro.liq_px, &mm_liq, &tier_dummy);
    unsigned pl = sp_rules_px_places(p.inst);
    sp__json j = {&o->body, SP_OK};
    char ex[128];
    sp__api_jfmt(&j, "{\"venue\":\"%s\",\"symbol\":", sp_venue_name(p.inst->venue));
    sp__api_jstr(&j, p.inst->symbol);
    sp__api_jfmt(&j, ",\"mode\":\"%s\",\"side\":\"%s\",\"settle\":", sp_margin_mode_name(p.mode),
                 p.side > 0 ? "long" : "short");
    sp__api_jstr(&j, p.inst->settle);
    if (ro.has_liq) {
        sp_rules_format_ratio(ro.liq_num, ro.liq_den * 100000000, 18, ex, sizeof(ex), NULL);
        sp__api_jraw(&j, ",\"liq_price\":");
        jpx(&j, ro.liq_px, pl);
        sp__api_jfmt(&j, ",\"liq_price_exact\":\"%s\",\"liq_move_pct\":", ex);
        jmove(&j, p.entry_px, ro.liq_px);
    } else {
        sp__api_jraw(&j, ",\"liq_price\":null");
    }
    if (ro.has_bk) {
        sp__api_jraw(&j, ",\"bankruptcy_price\":");
        jpx(&j, ro.bk_px, pl);
        sp__api_jraw(&j, ",\"bk_move_pct\":");
        jmove(&j, p.entry_px, ro.bk_px);
    } else {
        sp__api_jraw(&j, ",\"bankruptcy_price\":null");
    }
    sp__api_jraw(&j, ",\"mm_entry\":");
    sp__api_jdec(&j, mm_entry, SC);
    sp__api_jraw(&j, ",\"mm_liq\":");
    sp__api_jdec(&j, mm_liq, SC);
    char tdate[16] = "explicit";
    if (p.tiers)
        snprintf(tdate, sizeof(tdate), "%04d-%02d-%02d", (int)(p.tiers->date / 10000),
                 (int)(p.tiers->date / 100 % 100), (int)(p.tiers->date % 100));
    sp__api_jfmt(&j, ",\"tier\":%d,\"tier_table\":\"%s\",\"mmr\":", ro.tier, tdate);
    sp__api_jdec(&j, ro.mmr, SC);
    sp__api_jraw(&j, ",\"maint_amount\":");
    sp__api_jdec(&j, ro.maint_amount, SC);
    sp__api_jfmt(&j, ",\"resolves\":%d", ro.resolves);
    if (lev > 0) {
        /* naive: the margin is wiped by a 1/L move, at entry x (1 -+ 1/L) */
        int64_t naive_px = 0, mv = 0;
        sp_mul_div(p.entry_px, p.side > 0 ? lev - 1 : lev + 1, lev,
                   p.side > 0 ? SP_RND_UP : SP_RND_DOWN, &naive_px);
        sp_mul_div(100000, 1, lev, SP_RND_HALF_UP, &mv);
        char t2[SP_DEC_FMT_MAX];
        sp_dec_format(mv, 3, 0, t2, sizeof(t2));
        sp__api_jfmt(&j, ",\"leverage\":%lld,\"naive_move_pct\":\"%s\",\"naive_price\":",
                     (long long)lev, t2);
        jpx(&j, naive_px, pl);
    }
    sp__api_jraw(&j, "}");
    if (j.e != SP_OK) {
        sp__api_error(o, 503, "unavailable", NULL, "out of memory");
        return;
    }
    o->status = 200;
    o->cacheable = true;
}
