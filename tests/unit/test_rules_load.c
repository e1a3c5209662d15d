/*
 * test_rules_load.c -- the rules database loader: the shipped data, the
 * three exchange API shapes, exact numbers (no double anywhere), the
 * maintenance-amount chain of spec §2.1, malformed files with a precise
 * diagnostic, and allocation failure at every step.
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

#define ONE 100000000LL

static sp_rules_db *fresh(void)
{
    sp_rules_db *db = NULL;
    assert_int_equal(sp_rules_db_new(&db), SP_OK);
    return db;
}

static void test_shipped_data(void **state)
{
    sp_rules_db *db = fresh();
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_rules_db_load_dir(db, sp_test_path("data/rules"), &d), SP_OK);
    /* issue 4: six symbols on Binance and Bybit linear, two OKX swaps, two inverse */
    static const char *six[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT"};
    for (size_t i = 0; i < SP_COUNTOF(six); i++) {
        assert_non_null(sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, six[i]));
        assert_non_null(sp_rules_db_instrument(db, SP_VENUE_BYBIT, six[i]));
    }
    const sp_instrument *okx = sp_rules_db_instrument(db, SP_VENUE_OKX, "BTC-USDT-SWAP");
    assert_non_null(okx);
    assert_true(okx->qty_in_contracts);
    assert_int_equal(okx->ct_val, ONE / 100);
    assert_non_null(sp_rules_db_instrument(db, SP_VENUE_OKX, "ETH-USDT-SWAP"));
    const sp_instrument *xbt = sp_rules_db_instrument(db, SP_VENUE_BITMEX, "XBTUSD");
    assert_non_null(xbt);
    assert_int_equal(xbt->contract, SP_CONTRACT_INVERSE);
    assert_int_equal(sp_rules_db_instrument(db, SP_VENUE_BYBIT, "BTCUSD")->contract,
                     SP_CONTRACT_INVERSE);
    assert_int_equal(sp_rules_db_instrument_count(db), 16);
    /* BTCUSDT tick 0.10, liquidation fee 1.25%, funding cap 0.3% (spec §2.3, §2.5) */
    const sp_instrument *btc = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    assert_int_equal(btc->tick, ONE / 10);
    assert_int_equal(btc->liq_fee, 1250000);
    assert_int_equal(btc->funding_cap, 300000);
    /* the 2024 ETH table's cum chain ends at 280,506,450 (spec §2.3) */
    const sp_tier_table *eth =
        sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "ETHUSDT", 20241024, true);
    assert_non_null(eth);
    assert_int_equal(eth->n, 12);
    assert_int_equal(eth->tier[11].maint_amount, 280506450LL * ONE);
    assert_int_equal(eth->tier[0].max_leverage, 125);
    assert_null(sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "NOPEUSDT"));
    sp_rules_db_free(db);
}

static void test_api_binance(void **state)
{
    sp_rules_db *db = fresh();
    sp_diag d;
    sp_diag_clear(&d);
    const char *path = sp_test_path("tests/data/rules/binance_leverageBracket.json");
    /* an API snapshot carries no date: refused without one */
    assert_int_equal(sp_rules_db_load_file(db, path, SP_VENUE_NONE, 0, &d), SP_EINVAL);
    assert_non_null(strstr(d.msg, "date"));
    assert_int_equal(sp_rules_db_load_file(db, path, SP_VENUE_NONE, 20260115, &d), SP_OK);
    const sp_tier_table *t = sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 20260115, true);
    assert_non_null(t);
    assert_int_equal(t->n, 4);
    /* 0.0065 arrives as a JSON number: exact, never through a double */
    assert_int_equal(t->tier[2].mmr, 650000);
    assert_int_equal(t->tier[3].maint_amount, 11450 * ONE);
    assert_int_equal(t->tier[3].max_leverage, 50);
    assert_int_equal(t->tier[0].imr, ONE / 125);
    assert_non_null(sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "ETHUSDT", 20260115, true));
    /* the same snapshot twice: refused, nothing half-loaded */
    assert_int_equal(sp_rules_db_load_file(db, path, SP_VENUE_NONE, 20260115, &d), SP_EEXIST);
    assert_int_equal(sp_rules_db_table_count(db), 2);
    sp_rules_db_free(db);
}

static void test_api_bybit_okx(void **state)
{
    sp_rules_db *db = fresh();
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_rules_db_load_file(db,
                                           sp_test_path("tests/data/rules/bybit_risk_limit.json"),
                                           SP_VENUE_NONE, 20240627, &d),
                     SP_OK);
    const sp_tier_table *t = sp_rules_db_tiers(db, SP_VENUE_BYBIT, "BTCUSDT", 20240627, true);
    assert_non_null(t);
    assert_int_equal(t->n, 2);
    assert_int_equal(t->tier[1].floor, 2000000 * ONE);
    /* empty mmDeduction on tier 1 is computed; tier 2's 1,200 is checked by the chain */
    assert_int_equal(t->tier[0].maint_amount, 0);
    assert_int_equal(t->tier[1].maint_amount, 1200 * ONE);
    assert_int_equal(t->tier[1].max_leverage, 90);
    assert_int_equal(sp_rules_db_load_file(db,
                                           sp_test_path("tests/data/rules/okx_position-tiers.json"),
                                           SP_VENUE_NONE, 20251129, &d),
                     SP_OK);
    t = sp_rules_db_tiers(db, SP_VENUE_OKX, "ETH-USDT-SWAP", 20251129, true);
    assert_non_null(t);
    assert_int_equal(t->kind, SP_TIER_WHOLE);
    assert_int_equal(sp_tier_find(t, 500 * ONE), 0);
    assert_int_equal(sp_tier_find(t, 500 * ONE + 1), 1);
    assert_int_equal(sp_tier_find(t, 1000 * ONE + 1), -1);
    sp_rules_db_free(db);
}

/* Bybit's tiered MM example (spec §3.1): PV 3,500 on the XYZUSDT table -> 92.5 USDT. */
static void test_bybit_tiered_mm(void **state)
{
    static const char inst[] =
        "{\"format\":\"stampede-instruments/1\",\"instruments\":[{\"venue\":\"bybit\","
        "\"symbol\":\"XYZUSDT\",\"contract\":\"linear\",\"tick\":\"0.01\",\"lot\":\"1\","
        "\"liq_round\":{\"mode\":\"toward_entry\",\"step\":\"0.01\"}}]}";
    static const char tiers[] =
        "{\"format\":\"stampede-tiers/1\",\"venue\":\"bybit\",\"date\":\"2025-09-05\","
        "\"kind\":\"bracket\",\"symbols\":{\"XYZUSDT\":["
        "{\"floor\":0,\"cap\":1000,\"mmr\":\"0.02\"},{\"floor\":1000,\"cap\":2000,\"mmr\":0.025},"
        "{\"floor\":2000,\"cap\":3000,\"mmr\":0.03},{\"floor\":3000,\"cap\":4000,\"mmr\":0.035},"
        "{\"floor\":4000,\"cap\":5000,\"mmr\":0.04}]}}";
    sp_rules_db *db = fresh();
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_rules_db_load_buf(db, inst, sizeof(inst) - 1, "inst", SP_VENUE_NONE, 0, &d),
                     SP_OK);
    assert_int_equal(
        sp_rules_db_load_buf(db, tiers, sizeof(tiers) - 1, "tiers", SP_VENUE_NONE, 0, &d), SP_OK);
    const sp_tier_table *t = sp_rules_db_tiers(db, SP_VENUE_BYBIT, "XYZUSDT", 20250905, true);
    assert_non_null(t);
    assert_int_equal(t->tier[3].maint_amount, 30 * ONE); /* the deduction of §3.1 */
    sp_rules_pos p;
    memset(&p, 0, sizeof(p));
    p.inst = sp_rules_db_instrument(db, SP_VENUE_BYBIT, "XYZUSDT");
    p.tiers = t;
    p.mode = SP_MARGIN_ISOLATED;
    p.side = 1;
    p.qty = 350 * ONE;
    p.entry_px = 10 * ONE;
    p.margin = 700 * ONE;
    int64_t mm;
    int tier;
    assert_int_equal(sp_rules_maint_margin(&p, 10 * ONE, &mm, &tier), SP_OK);
    assert_int_equal(tier, 4);
    assert_int_equal(mm, 9250000000LL); /* 92.5 USDT */
    sp_rules_db_free(db);
}

typedef struct bad {
    const char *json;
    sp_err err;
    const char *needle; /* must appear in the diagnostic */
} bad;

static void test_malformed(void **state)
{
    static const bad cases[] = {
        {"{", SP_EPARSE, "t.json"},
        {"{\"format\":\"nope/1\"}", SP_EPARSE, "unknown format"},
        {"{\"format\":\"stampede-tiers/1\",\"venue\":\"binance\",\"date\":\"2024-13-01\","
         "\"kind\":\"bracket\",\"symbols\":{}}",
         SP_EPARSE, "YYYY-MM-DD"},
        {"{\"format\":\"stampede-tiers/1\",\"venue\":\"mtgox\",\"date\":\"2024-01-01\","
         "\"kind\":\"bracket\",\"symbols\":{}}",
         SP_EPARSE, "mtgox"},
        /* exponent notation is refused, not rounded */
        {"{\"format\":\"stampede-tiers/1\",\"venue\":\"binance\",\"date\":\"2024-01-01\","
         "\"kind\":\"bracket\",\"symbols\":{\"X\":[{\"floor\":0,\"cap\":5e4,\"mmr\":0.004}]}}",
         SP_EPARSE, "exponent"},
        /* more decimals than scale 8 */
        {"{\"format\":\"stampede-tiers/1\",\"venue\":\"binance\",\"date\":\"2024-01-01\","
         "\"kind\":\"bracket\",\"symbols\":{\"X\":[{\"floor\":0,\"cap\":1,"
         "\"mmr\":0.000000001}]}}",
         SP_EPRECISION, "mmr"},
        /* a gap between tiers */
        {"{\"format\":\"stampede-tiers/1\",\"venue\":\"binance\",\"date\":\"2024-01-01\","
         "\"kind\":\"bracket\",\"symbols\":{\"X\":[{\"floor\":0,\"cap\":10,\"mmr\":0.01},"
         "{\"floor\":11,\"cap\":20,\"mmr\":0.02}]}}",
         SP_EPARSE, "contiguous"},
        /* a cum that breaks the §2.1 chain (should be 0.1) */
        {"{\"format\":\"stampede-tiers/1\",\"venue\":\"binance\",\"date\":\"2024-01-01\","
         "\"kind\":\"bracket\",\"symbols\":{\"X\":[{\"floor\":0,\"cap\":10,\"mmr\":0.01,"
         "\"maint_amount\":0},{\"floor\":10,\"cap\":20,\"mmr\":0.02,\"maint_amount\":1}]}}",
         SP_EPARSE, "expected 0.1"},
        /* MMR above 100% */
        {"{\"format\":\"stampede-tiers/1\",\"venue\":\"binance\",\"date\":\"2024-01-01\","
         "\"kind\":\"bracket\",\"symbols\":{\"X\":[{\"floor\":0,\"cap\":10,\"mmr\":2}]}}",
         SP_ERANGE, "mmr"},
        /* duplicate keys are rejected by jansson */
        {"{\"format\":\"stampede-instruments/1\",\"format\":\"x\"}", SP_EPARSE, "duplicate"},
        {"{\"format\":\"stampede-instruments/1\",\"instruments\":[{\"venue\":\"binance\","
         "\"symbol\":\"A\",\"contract\":\"quanto\"}]}",
         SP_EPARSE, "contract"},
        {"{\"format\":\"stampede-instruments/1\",\"instruments\":[{\"venue\":\"binance\","
         "\"symbol\":\"A\",\"contract\":\"linear\",\"tick\":\"-0.1\",\"lot\":\"1\","
         "\"liq_round\":{\"mode\":\"half_up\",\"step\":\"0.01\"}}]}",
         SP_ERANGE, "positive"},
        {"{\"format\":\"stampede-instruments/1\",\"instruments\":[{\"venue\":\"binance\","
         "\"symbol\":\"A\",\"contract\":\"linear\",\"tick\":\"0.1\",\"lot\":\"1\"}]}",
         SP_EPARSE, "liq_round"},
        /* a string containing digits, quotes and escapes is not touched by the number lexer */
        {"{\"format\":\"stampede-instruments/1\",\"instruments\":[{\"venue\":\"binance\","
         "\"symbol\":\"A\\\"1,2\",\"contract\":\"linear\",\"tick\":\"0.1\",\"lot\":\"x1\","
         "\"liq_round\":{\"mode\":\"half_up\",\"step\":\"0.01\"}}]}",
         SP_EPARSE, "lot"},
    };
    for (size_t i = 0; i < SP_COUNTOF(cases); i++) {
        sp_rules_db *db = fresh();
        sp_diag d;
        sp_diag_clear(&d);
        sp_err e = sp_rules_db_load_buf(db, cases[i].json, strlen(cases[i].json), "t.json",
                                        SP_VENUE_NONE, 0, &d);
        if (e != cases[i].err || strstr(d.msg, cases[i].needle) == NULL)
            fail_msg("case %zu: got %s '%s', want %s with '%s'", i, sp_errname(e), d.msg,
                     sp_errname(cases[i].err), cases[i].needle);
        /* all or nothing */
        assert_int_equal(sp_rules_db_instrument_count(db), 0);
        assert_int_equal(sp_rules_db_table_count(db), 0);
        sp_rules_db_free(db);
    }
    sp_rules_db *db = fresh();
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_rules_db_load_file(db, "/nonexistent/x.json", SP_VENUE_NONE, 0, &d),
                     SP_EIO);
    assert_int_equal(sp_rules_db_load_dir(db, "/nonexistent", &d), SP_EIO);
    sp_rules_db_free(db);
    sp_rules_db_free(NULL);
}

static sp_err load_all(void *ctx)
{
    (void)ctx;
    sp_rules_db *db = NULL;
    sp_err e = sp_rules_db_new(&db);
    if (e != SP_OK)
        return e;
    sp_diag d;
    sp_diag_clear(&d);
    e = sp_rules_db_load_dir(db, sp_test_path("data/rules"), &d);
    if (e == SP_OK)
        e = sp_rules_db_load_file(db, sp_test_path("tests/data/rules/bybit_risk_limit.json"),
                                  SP_VENUE_NONE, 20240627, &d);
    sp_rules_db_free(db);
    return e;
}

static void test_enomem(void **state)
{
    uint64_t steps = sp_test_enomem_loop(load_all, NULL, 100000);
    print_message("rules db: %llu allocation-failure steps, each SP_ENOMEM without leaks\n",
                  (unsigned long long)steps);
    assert_true(steps > 10);
}

static void test_dates(void **state)
{
    int32_t v;
    assert_int_equal(sp_rules_parse_date("2024-10-24", &v), SP_OK);
    assert_int_equal(v, 20241024);
    assert_int_equal(sp_rules_parse_date("2024-1-24", &v), SP_EPARSE);
    assert_int_equal(sp_rules_parse_date("2024/10/24", &v), SP_EPARSE);
    assert_int_equal(sp_rules_parse_date("2024-00-24", &v), SP_EPARSE);
    assert_int_equal(sp_rules_parse_date(NULL, &v), SP_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_data),  cmocka_unit_test(test_api_binance),
        cmocka_unit_test(test_api_bybit_okx), cmocka_unit_test(test_bybit_tiered_mm),
        cmocka_unit_test(test_malformed),     cmocka_unit_test(test_enomem),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
