/*
 * test_rules.c -- the oracle: every row of tests/data/liq-vectors.csv
 * (docs/specs/exchange-rules.md §7), run through sp_rules_liq with the
 * shipped instruments (data/rules/), to the tick.
 *
 * The CSV is read as data (table-driven, STYLE §1.8).  Most rows are
 * computed straight from their columns; the rows whose inputs live in the
 * notes column (cross TMM1/UPNL1, hedge legs, Bybit's available balance)
 * get their extra inputs from the `fix` table below, each with its
 * reason.  The rows §8 calls ambiguous are tested for the documented
 * behaviour in their own tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/rules.h"
#include "testalloc.h"

static sp_rules_db *db;

static int setup(void **state)
{
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_rules_db_new(&db) != SP_OK)
        return -1;
    if (sp_rules_db_load_dir(db, sp_test_path("data/rules"), &d) != SP_OK) {
        fprintf(stderr, "load: %s\n", d.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    sp_rules_db_free(db);
    return 0;
}

/* Decimal at scale 8 from the numeric prefix of s ("16 contracts (...)" -> 16). */
static int64_t dec(const char *s)
{
    size_t n = 0;
    while (s[n] == '-' || s[n] == '.' || (s[n] >= '0' && s[n] <= '9'))
        n++;
    int64_t v = 0;
    sp_diag d;
    sp_diag_clear(&d);
    if (n == 0)
        return 0;
    if (sp_dec_parse(s, n, 8, &v, &d) != SP_OK)
        fail_msg("bad decimal '%s': %s", s, d.msg);
    return v;
}

/* Split one CSV line (RFC 4180 quotes) into at most max fields, in place. */
static int split_csv(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *out = p;
        f[n++] = p;
        if (*p == '"') {
            char *r = p + 1;
            for (;;) {
                if (*r == '"' && r[1] == '"') {
                    *out++ = '"';
                    r += 2;
                } else if (*r == '"') {
                    r++;
                    break;
                } else if (*r == '\0') {
                    break;
                } else {
                    *out++ = *r++;
                }
            }
            p = r;
            *out = '\0'; /* the unquoted text was copied over the field in place */
        } else {
            while (*p && *p != ',')
                p++;
        }
        if (*p != ',') {
            *p = '\0';
            break;
        }
        *p++ = '\0';
    }
    return n;
}

/* Extra inputs of rows whose numbers are in the notes (by 1-based data row). */
typedef struct fix {
    int row;
    const char *other_mm, *other_upnl; /* cross: TMM1, UPNL1 of the FAQ (spec §7) */
    const char *margin;                /* replaces the CSV margin */
    bool bk_cents;                     /* the source quotes BP half-up to 0.01, not to tick */
    const char *why;
} fix;

static const fix fixes[] = {
    {1, "356512.508122", "-448192.88514", NULL, false,
     "FAQ cross: TMM1/UPNL1 are the ETHUSDT leg (§7)"},
    {2, "71200.811444", "-56354.56848", NULL, false,
     "FAQ cross: TMM1/UPNL1 are the BTCUSDT leg (§7)"},
    {25, NULL, NULL, NULL, true,
     "Bybit inverse example: LP is rounded up to the 0.5 tick (5,739.50) but the page prints "
     "the bankruptcy price as 1.00075 x 10,000 / 1.75 to the cent, 5,718.57 (spec §7)"},
    {27, NULL, NULL, "2200", false,
     "Bybit legacy cross: the CSV gives available balance 2000; wallet = available + IM 200 "
     "(sustainable loss = available + IM - MM, §3.2)"},
};

typedef struct row {
    char *f[16];
    int n;
    int line;
} row;

static int run_row(const row *r, sp_rules_out *o, const sp_instrument **inst_out)
{
    const char *venue = r->f[0], *sym = r->f[1], *mode = r->f[2], *side = r->f[3];
    sp_venue v = strcmp(venue, "binance") == 0 ? SP_VENUE_BINANCE_UM : sp_venue_from_name(venue);
    const sp_instrument *in = sp_rules_db_instrument(db, v, sym);
    assert_non_null(in);
    *inst_out = in;
    sp_rules_pos p;
    memset(&p, 0, sizeof(p));
    p.inst = in;
    p.mode = strcmp(mode, "cross") == 0 ? SP_MARGIN_CROSS : SP_MARGIN_ISOLATED;
    p.side = strcmp(side, "short") == 0 ? -1 : 1;
    p.entry_px = dec(r->f[4]);
    p.qty = dec(r->f[5]);
    p.margin = dec(r->f[6]);
    p.mmr = dec(r->f[8]);
    p.maint_amount = dec(r->f[9]);
    p.fee_rate = dec(r->f[10]);
    int64_t lev = dec(r->f[7]) / 100000000;
    if (r->f[6][0] == '\0' && lev > 0) {
        /* no margin column: isolated at leverage L, margin = entry value / L */
        if (in->contract == SP_CONTRACT_INVERSE)
            assert_int_equal(
                sp_mul_div(p.qty, 100000000, p.entry_px * lev, SP_RND_HALF_EVEN, &p.margin), SP_OK);
    }
    for (size_t i = 0; i < SP_COUNTOF(fixes); i++) {
        if (fixes[i].row != r->line)
            continue;
        if (fixes[i].other_mm)
            p.other_mm = dec(fixes[i].other_mm);
        if (fixes[i].other_upnl)
            p.other_upnl = dec(fixes[i].other_upnl);
        if (fixes[i].margin)
            p.margin = dec(fixes[i].margin);
    }
    return sp_rules_liq(&p, o);
}

/* Rows tested on their own (ambiguous or special shape), by data row. */
static bool special(int line)
{
    return line == 14 /* hedge: two legs in one row */ || line == 36 /* BitMEX illustration */ ||
           line == 38 /* OKX API capture = formula + 1 tick (§8.8) */;
}

static void test_vectors(void **state)
{
    FILE *f = fopen(sp_test_path("tests/data/liq-vectors.csv"), "r");
    assert_non_null(f);
    char line[4096];
    assert_non_null(fgets(line, sizeof(line), f)); /* header */
    int data_row = 0, passed = 0, checked_bk = 0;
    while (fgets(line, sizeof(line), f)) {
        data_row++;
        line[strcspn(line, "\r\n")] = '\0';
        row r;
        r.line = data_row;
        r.n = split_csv(line, r.f, 16);
        assert_int_equal(r.n, 15);
        if (special(data_row))
            continue;
        sp_rules_out o;
        const sp_instrument *in;
        int rc = run_row(&r, &o, &in);
        if (rc != SP_OK)
            fail_msg("row %d (%s %s): %s", data_row, r.f[0], r.f[1], sp_errname(rc));
        assert_true(o.has_liq);
        if (o.liq_px != dec(r.f[11])) {
            char got[64];
            sp_dec_format(o.liq_px, 8, 0, got, sizeof(got));
            fail_msg("row %d (%s %s %s): LP %s, expected %s", data_row, r.f[0], r.f[1], r.f[2], got,
                     r.f[11]);
        }
        if (r.f[12][0] != '\0') {
            assert_true(o.has_bk);
            for (size_t i = 0; i < SP_COUNTOF(fixes); i++) {
                if (fixes[i].row == data_row && fixes[i].bk_cents)
                    assert_int_equal(sp_rules_round_px(o.bk_num, o.bk_den, 1000000,
                                                       SP_PXRND_HALF_UP, 1, &o.bk_px),
                                     SP_OK);
            }
            if (o.bk_px != dec(r.f[12])) {
                char got[64];
                sp_dec_format(o.bk_px, 8, 0, got, sizeof(got));
                fail_msg("row %d: BP %s, expected %s", data_row, got, r.f[12]);
            }
            checked_bk++;
        }
        passed++;
    }
    fclose(f);
    assert_int_equal(data_row, 38);
    /* 35 rows here, the 3 special rows in their own tests below */
    assert_int_equal(passed, 35);
    print_message("liq-vectors: %d/%d rows to the tick here (+3 special), %d bankruptcy prices\n",
                  passed, data_row, checked_bk);
}

/* Row 14: hedge mode, LONG 1 @ 60,000 and SHORT 0.5 @ 62,000 share one LP (§2.2, §7). */
static void test_vector_hedge(void **state)
{
    sp_rules_pos p;
    memset(&p, 0, sizeof(p));
    p.inst = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    p.mode = SP_MARGIN_HEDGE;
    p.side = 1;
    p.qty = dec("1");
    p.entry_px = dec("60000");
    p.margin = dec("10000");
    p.mmr = dec("0.004");
    p.hedge_qty = dec("0.5");
    p.hedge_entry_px = dec("62000");
    p.hedge_mmr = dec("0.004");
    sp_rules_out o;
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_true(o.has_liq);
    assert_int_equal(o.liq_px, dec("38461.54"));
    /* the same leg order reversed (SHORT first) gives the same shared price */
    p.side = -1;
    p.qty = dec("0.5");
    p.entry_px = dec("62000");
    p.hedge_qty = dec("1");
    p.hedge_entry_px = dec("60000");
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_int_equal(o.liq_px, dec("38461.54"));
}

/*
 * Row 36: BitMEX's illustration (long 1 @ 100.00, LP 99.50, BP 99.00) uses
 * linear-style numbers (the CSV note says so).  Documented behaviour: the
 * linear isolated rule at 100x / MM 0.5% reproduces both; the inverse rule
 * gives the same LP to the cent but BP 100/1.01 = 99.0099 -> 99.01.
 */
static void test_vector_bitmex_illustration(void **state)
{
    sp_instrument lin = *sp_rules_db_instrument(db, SP_VENUE_BYBIT, "BTCUSDT");
    lin.liq_round = SP_PXRND_HALF_UP;
    lin.liq_round_step = dec("0.01");
    sp_rules_pos p;
    memset(&p, 0, sizeof(p));
    p.inst = &lin;
    p.mode = SP_MARGIN_ISOLATED;
    p.side = 1;
    p.qty = dec("1");
    p.entry_px = dec("100");
    p.margin = dec("1"); /* 100x */
    p.mmr = dec("0.005");
    sp_rules_out o;
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_int_equal(o.liq_px, dec("99.50"));
    assert_int_equal(o.bk_px, dec("99.00"));
    p.inst = sp_rules_db_instrument(db, SP_VENUE_BITMEX, "XBTUSD");
    p.margin = dec("0.0001"); /* Q/EP/L = 1/100/100 */
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_int_equal(o.liq_px, dec("99.50"));
    assert_int_equal(o.bk_px, dec("99.01"));
}

/*
 * Row 38: the live OKX capture's liqPx 2722.159673530889 is the §4.2
 * formula plus exactly one tick (§8.8, one sample).  Documented behaviour:
 * stampede returns the formula (2722.149673530889...), and the capture
 * minus it is 0.01 to the 12th decimal.
 */
static void test_vector_okx_capture(void **state)
{
    sp_rules_pos p;
    memset(&p, 0, sizeof(p));
    p.inst = sp_rules_db_instrument(db, SP_VENUE_OKX, "ETH-USDT-SWAP");
    p.mode = SP_MARGIN_ISOLATED;
    p.side = 1;
    p.qty = dec("1");
    p.entry_px = dec("3011");
    p.margin = dec("30.11");
    p.mmr = dec("0.004");
    p.fee_rate = dec("0.0005");
    sp_rules_out o;
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    char txt[128];
    /* exact price (scale 8 rational) to 12 more places: units of 1e-20 */
    assert_true(
        sp_rules_format_ratio(o.liq_num, o.liq_den * 100000000, 12, txt, sizeof(txt), NULL) > 0);
    assert_memory_equal(txt, "2722.149673530889", 17);
    assert_int_equal(o.liq_px, dec("2722.15"));
    assert_int_equal(o.bk_px, dec("2709.90"));
}

/* §2.3/§9: 10 BTC @ 70,000, 5x: entry bracket 3 re-solved to bracket 2 (2024-10-24 table). */
static void test_tier_resolve(void **state)
{
    const sp_tier_table *t = sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 20241024, true);
    assert_non_null(t);
    sp_rules_pos p;
    memset(&p, 0, sizeof(p));
    p.inst = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    p.tiers = t;
    p.mode = SP_MARGIN_ISOLATED;
    p.side = 1;
    p.qty = dec("10");
    p.entry_px = dec("70000");
    p.margin = dec("140000");
    sp_rules_out o;
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_int_equal(o.liq_px, dec("56276.38"));
    assert_int_equal(o.tier, 2);
    assert_int_equal(o.resolves, 1);
    /* without the re-solve (bracket 3 forced) the answer is 56,270.76 (§7) */
    p.tiers = NULL;
    p.mmr = dec("0.0065");
    p.maint_amount = dec("950");
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_int_equal(o.liq_px, dec("56270.76"));
}

/* §6 footnote: 100x is bracket 2 in the 2024 table, bracket 1 in the 2025 one. */
static void test_tier_dates(void **state)
{
    sp_rules_pos p;
    memset(&p, 0, sizeof(p));
    p.inst = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    p.mode = SP_MARGIN_ISOLATED;
    p.side = 1;
    p.qty = dec("1.6");
    p.entry_px = dec("62500");
    p.margin = dec("1000");
    sp_rules_out o;
    /* default = latest verified on or before the date: the 2024 table, not 2025 (unverified) */
    p.tiers = sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 99991231, false);
    assert_non_null(p.tiers);
    assert_int_equal(p.tiers->date, 20241024);
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_int_equal(o.liq_px, dec("62154.52"));
    assert_int_equal(o.tier, 2);
    p.tiers = sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 20250819, true);
    assert_non_null(p.tiers);
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_int_equal(o.liq_px, dec("62123.49"));
    /* a 2022 position gets the 2021 FAQ table: cum chain 0, 50, 1300, 16300 (§2.3) */
    const sp_tier_table *t21 =
        sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 20220101, false);
    assert_non_null(t21);
    assert_int_equal(t21->date, 20210318);
    assert_int_equal(t21->tier[2].maint_amount, dec("1300"));
    assert_int_equal(t21->tier[3].maint_amount, dec("16300"));
    /* before every table: none */
    assert_null(sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 20200101, false));
}

/* §7: Bybit tier 2 from the table, and the FAQ example of the isolated rule with 2021 brackets. */
static void test_tier_bybit_and_faq(void **state)
{
    sp_rules_pos p;
    memset(&p, 0, sizeof(p));
    p.inst = sp_rules_db_instrument(db, SP_VENUE_BYBIT, "BTCUSDT");
    p.tiers = sp_rules_db_tiers(db, SP_VENUE_BYBIT, "BTCUSDT", 20250101, false);
    assert_non_null(p.tiers);
    p.mode = SP_MARGIN_ISOLATED;
    p.side = 1;
    p.qty = dec("40");
    p.entry_px = dec("60000");
    p.margin = dec("48000");
    sp_rules_out o;
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_int_equal(o.tier, 2);
    assert_int_equal(o.liq_px, dec("59106"));
    /* Binance FAQ cross BTC leg through the 2021 table: 3.5M notional at mark is bracket 4 */
    p.inst = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    p.tiers = sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 20210318, true);
    p.mode = SP_MARGIN_CROSS;
    p.qty = dec("109.488");
    p.entry_px = dec("32481.98");
    p.margin = dec("1535443.01");
    p.other_mm = dec("356512.508122");
    p.other_upnl = dec("-448192.88514");
    assert_int_equal(sp_rules_liq(&p, &o), SP_OK);
    assert_int_equal(o.liq_px, dec("26316.89"));
    assert_int_equal(o.tier, 4);
    assert_int_equal(o.maint_amount, dec("16300"));
}

/* Exact text of a rational, and price rounding on both sides of zero. */
static void test_ratio_and_rounding(void **state)
{
    char txt[128];
    bool exact = true;
    assert_true(sp_rules_format_ratio(1, 3, 5, txt, sizeof(txt), &exact) > 0);
    assert_string_equal(txt, "0.33333");
    assert_false(exact);
    assert_true(sp_rules_format_ratio(-7, 2, 1, txt, sizeof(txt), &exact) > 0);
    assert_string_equal(txt, "-3.5");
    assert_true(exact);
    /* a denominator past 2^123 takes the add-ten-times digit path */
    __int128 big = (__int128)1 << 125;
    assert_true(sp_rules_format_ratio(big, big + 1, 30, txt, sizeof(txt), NULL) > 0);
    assert_string_equal(txt, "0.999999999999999999999999999999");
    assert_true(sp_rules_format_ratio(((__int128)1 << 126) - 3, ((__int128)1 << 126) + 7, 20, txt,
                                      sizeof(txt), NULL) > 0);
    assert_string_equal(txt, "0.99999999999999999999");
    assert_int_equal(sp_rules_format_ratio(1, 0, 2, txt, sizeof(txt), NULL), 0);
    int64_t v;
    /* 2.5 at step 1 (scale-8 units): half-up away from zero, both signs */
    assert_int_equal(sp_rules_round_px(5, 2, 1, SP_PXRND_HALF_UP, 1, &v), SP_OK);
    assert_int_equal(v, 3);
    assert_int_equal(sp_rules_round_px(-5, 2, 1, SP_PXRND_HALF_UP, 1, &v), SP_OK);
    assert_int_equal(v, -3);
    /* toward entry: a long rounds up, a short down; trunc toward zero */
    assert_int_equal(sp_rules_round_px(7, 3, 2, SP_PXRND_TOWARD_ENTRY, 1, &v), SP_OK);
    assert_int_equal(v, 4);
    assert_int_equal(sp_rules_round_px(7, 3, 2, SP_PXRND_TOWARD_ENTRY, -1, &v), SP_OK);
    assert_int_equal(v, 2);
    assert_int_equal(sp_rules_round_px(-7, 3, 2, SP_PXRND_TRUNC, 1, &v), SP_OK);
    assert_int_equal(v, -2);
    /* a price exactly on a half step and one unit below it */
    assert_int_equal(sp_rules_round_px(1500000, 1, 1000000, SP_PXRND_HALF_UP, 1, &v), SP_OK);
    assert_int_equal(v, 2000000);
    assert_int_equal(sp_rules_round_px(2999999, 2, 1000000, SP_PXRND_HALF_UP, 1, &v), SP_OK);
    assert_int_equal(v, 1000000);
    assert_int_equal(sp_rules_round_px(1, 0, 1, SP_PXRND_HALF_UP, 1, &v), SP_EINVAL);
    assert_int_equal(sp_rules_round_px(1, 1, 1, (sp_px_round)9, 1, &v), SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_vector_hedge),
        cmocka_unit_test(test_vector_bitmex_illustration),
        cmocka_unit_test(test_vector_okx_capture),
        cmocka_unit_test(test_tier_resolve),
        cmocka_unit_test(test_tier_dates),
        cmocka_unit_test(test_tier_bybit_and_faq),
        cmocka_unit_test(test_ratio_and_rounding),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
