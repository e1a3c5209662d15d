/*
 * test_rules_funding.c -- funding rate, funding payment and ADL ranking
 * against the non-liquidation vectors of docs/specs/exchange-rules.md §7.
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

/* A rate or amount at scale 8 from text. */
static int64_t v8(const char *s)
{
    int64_t v = 0;
    assert_int_equal(sp_dec_parse(s, strlen(s), 8, &v, NULL), SP_OK);
    return v;
}

/* §7: clamp vectors with I = 0.0001, and the BTCUSDT cap of §2.5. */
static void test_funding_clamp(void **state)
{
    const int64_t I = v8("0.0001"), cl = v8("0.0005");
    static const char *cases[][2] = {
        {"0.0003", "0.0001"},   {"0.0008", "0.0003"}, {"-0.0002", "0.0001"},
        {"-0.0009", "-0.0004"}, {"0.0050", "0.0045"},
    };
    for (size_t i = 0; i < SP_COUNTOF(cases); i++)
        assert_int_equal(sp_rules_funding_rate(v8(cases[i][0]), I, cl, 0, 0), v8(cases[i][1]));
    /* P = 0.0050 is capped to 0.3% on Binance BTCUSDT */
    assert_int_equal(sp_rules_funding_rate(v8("0.0050"), I, cl, v8("-0.003"), v8("0.003")),
                     v8("0.003"));
    assert_int_equal(sp_rules_funding_rate(v8("-0.0090"), I, cl, v8("-0.003"), v8("0.003")),
                     v8("-0.003"));
    /* BitMEX ONDOUSDT 2025-01-14: P = -0.00184, I = 0.01% -> -0.00134 */
    assert_int_equal(sp_rules_funding_rate(v8("-0.00184"), I, cl, 0, 0), v8("-0.00134"));
    /* BitMEX interest (1.00% - 0.25%) / 3 = 0.25% and the funding that follows (§7) */
    int64_t bi;
    assert_int_equal(sp_mul_div(v8("0.01") - v8("0.0025"), 1, 3, SP_RND_HALF_EVEN, &bi), SP_OK);
    assert_int_equal(bi, v8("0.0025"));
    assert_int_equal(sp_rules_funding_rate(bi, bi, cl, 0, 0), v8("0.0025"));
    /* OKX (§4.4): no interest, no clamp band: F = P, then the cap */
    assert_int_equal(sp_rules_funding_rate(v8("0.0002"), 0, 0, v8("-0.00375"), v8("0.00375")),
                     v8("0.0002"));
    assert_int_equal(sp_rules_funding_rate(v8("0.009"), 0, 0, v8("-0.00375"), v8("0.00375")),
                     v8("0.00375"));
}

/* §7 Bybit TWAP: 0.0001, 0.0002, 0.0003 weighted 1, 2, 3 -> 0.000233333... -> F = 0.0001. */
static void test_premium_twap(void **state)
{
    const int64_t p[] = {v8("0.0001"), v8("0.0002"), v8("0.0003")};
    int64_t avg;
    assert_int_equal(sp_rules_premium_twap(p, 3, &avg), SP_OK);
    assert_int_equal(avg, 23333); /* 0.00023333 (half-even at scale 8) */
    assert_int_equal(sp_rules_funding_rate(avg, v8("0.0001"), v8("0.0005"), 0, 0), v8("0.0001"));
    assert_int_equal(sp_rules_premium_twap(p, 0, &avg), SP_EINVAL);
}

static void test_funding_payment(void **state)
{
    sp_rules_db *db;
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_rules_db_new(&db), SP_OK);
    assert_int_equal(sp_rules_db_load_dir(db, sp_test_path("data/rules"), &d), SP_OK);
    /* §7: 0.16 BTC long, mark 62,500, F = 0.01% -> 1.00 USDT paid by the long */
    const sp_instrument *btc = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    int64_t pay;
    assert_int_equal(sp_rules_funding_payment(btc, 1, v8("0.16"), v8("62500"), v8("0.0001"), &pay),
                     SP_OK);
    assert_int_equal(pay, v8("1"));
    assert_int_equal(sp_rules_funding_payment(btc, -1, v8("0.16"), v8("62500"), v8("0.0001"), &pay),
                     SP_OK);
    assert_int_equal(pay, v8("-1"));
    /* OKX counts contracts: 16 x 0.01 BTC is the same position */
    const sp_instrument *okx = sp_rules_db_instrument(db, SP_VENUE_OKX, "BTC-USDT-SWAP");
    assert_int_equal(sp_rules_funding_payment(okx, 1, v8("16"), v8("62500"), v8("0.0001"), &pay),
                     SP_OK);
    assert_int_equal(pay, v8("1"));
    /* §7 BitMEX: 15,000 XBTUSD long at 750 -> value 20 XBT; F 0.25% -> 0.05 XBT */
    const sp_instrument *xbt = sp_rules_db_instrument(db, SP_VENUE_BITMEX, "XBTUSD");
    assert_int_equal(sp_rules_funding_payment(xbt, 1, v8("15000"), v8("750"), v8("0.0025"), &pay),
                     SP_OK);
    assert_int_equal(pay, v8("0.05"));
    assert_int_equal(sp_rules_funding_payment(xbt, 0, v8("1"), v8("750"), 1, &pay), SP_EINVAL);
    sp_rules_db_free(db);
}

/* §7 Binance ADL: UP 40.2, WB 4.27, margin ratio 13.42% -> LeveragePnl 1.2634. */
static void test_adl_binance(void **state)
{
    /* MM = 13.42% x (WB + UP) = 0.1342 x 44.47 = 5.967874 */
    int64_t score;
    assert_int_equal(sp_rules_adl_binance(v8("40.2"), v8("4.27"), v8("5.967874"), &score), SP_OK);
    int64_t r4;
    assert_int_equal(sp_rescale(score, 8, 4, SP_RND_HALF_UP, &r4), SP_OK);
    assert_int_equal(r4, 12634);
    /* a losing position ranks 0; WB below 1 counts as 1 */
    assert_int_equal(sp_rules_adl_binance(v8("-5"), v8("100"), v8("1"), &score), SP_OK);
    assert_int_equal(score, 0);
    assert_int_equal(sp_rules_adl_binance(v8("1"), v8("0.5"), v8("0.15"), &score), SP_OK);
    assert_int_equal(score, v8("0.1")); /* 1/1 x 0.15/1.5 */
}

/* §7 BitMEX ranking, linear analogue: 0.80 (long) and 0.5333 (short). */
static void test_adl_bitmex(void **state)
{
    int64_t s;
    assert_int_equal(sp_rules_adl_bitmex(1, ONE, v8("50000"), v8("60000"), v8("45000"), &s), SP_OK);
    assert_int_equal(s, v8("0.8"));
    assert_int_equal(sp_rules_adl_bitmex(-1, ONE, v8("50000"), v8("40000"), v8("55000"), &s),
                     SP_OK);
    assert_int_equal(s, v8("0.53333333"));
    /* losing: PnL% / leverage: long 1 @ 50,000, mark 48,000, bankrupt 45,000 -> -0.04 / 16 */
    assert_int_equal(sp_rules_adl_bitmex(1, ONE, v8("50000"), v8("48000"), v8("45000"), &s), SP_OK);
    assert_int_equal(s, v8("-0.0025"));
    assert_int_equal(sp_rules_adl_bitmex(1, ONE, v8("50000"), v8("45000"), v8("45000"), &s),
                     SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_funding_clamp),   cmocka_unit_test(test_premium_twap),
        cmocka_unit_test(test_funding_payment), cmocka_unit_test(test_adl_binance),
        cmocka_unit_test(test_adl_bitmex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
