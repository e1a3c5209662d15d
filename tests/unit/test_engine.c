/*
 * test_engine.c -- the exchange core's deterministic part: construction
 * (allocation-failure loop), deposits and withdrawals, orders through the
 * book with maker/taker fees to the unit, pending exposure from
 * acceptance to fill or cancel, the banded reject codes of the pre-trade
 * checks, isolated margin and realised PnL, hedge mode.  Every command is
 * followed by sp_engine_check (invariants of engine.h).  Expected values
 * are worked out by hand in the comments.
 */
#include "test_engine_util.h"
#include "testalloc.h"

/* ---- construction ---------------------------------------------------------- */

static sp_err new_engine(void *ctx)
{
    (void)ctx;
    sp_instrument in = teu_btc(SP_VENUE_BINANCE_UM, 0);
    sp_tier_table t = teu_tiers(SP_VENUE_BINANCE_UM);
    sp_engine_config c = sp_engine_config_default(SP_VENUE_BINANCE_UM);
    c.max_accounts = c.max_positions = c.max_orders = 64;
    c.book_window = 1024;
    sp_engine *e = NULL;
    sp_err rc = sp_engine_new(&c, NULL, &e);
    if (rc != SP_OK)
        return rc;
    rc = sp_engine_add_instrument(e, &in, &t, 1, NULL);
    sp_engine_free(e);
    return rc;
}

static void test_new_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(new_engine, NULL, 200) > 3);
}

static void test_new_rejects_bad_config(void **state)
{
    (void)state;
    sp_engine *e = NULL;
    sp_engine_config c = sp_engine_config_default(SP_VENUE_BINANCE_UM);
    c.max_orders = 0;
    assert_int_equal(sp_engine_new(&c, NULL, &e), SP_EINVAL);
    c = sp_engine_config_default(SP_VENUE_HYPERLIQUID); /* no linear rule set */
    assert_int_equal(sp_engine_new(&c, NULL, &e), SP_EINVAL);
    c = sp_engine_config_default(SP_VENUE_BINANCE_UM);
    c.max_orders = 64;
    c.book_window = 1024;
    assert_int_equal(sp_engine_new(&c, NULL, &e), SP_OK);
    sp_instrument in = teu_btc(SP_VENUE_BYBIT, 0); /* venue differs from the engine's */
    assert_int_equal(sp_engine_add_instrument(e, &in, NULL, 1, NULL), SP_EINVAL);
    in = teu_btc(SP_VENUE_BINANCE_UM, 0);
    in.contract = SP_CONTRACT_INVERSE;
    assert_int_equal(sp_engine_add_instrument(e, &in, NULL, 1, NULL), SP_EINVAL);
    in.contract = SP_CONTRACT_LINEAR; /* no tiers and no base MMR */
    assert_int_equal(sp_engine_add_instrument(e, &in, NULL, 1, NULL), SP_EINVAL);
    assert_int_equal(sp_engine_find_instrument(e, "BTCUSDT"), -1);
    sp_engine_free(e);
    sp_engine_free(NULL);
}

/* ---- money in and out -------------------------------------------------------------- */

static void test_deposit_withdraw(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    sp_engine_cmd c = {.kind = SP_CMD_WITHDRAW, .account = 7, .amount = d8("1")};
    teu_do(&t, &c, SP_ENG_R_UNKNOWN_ACCOUNT);
    c.account = 0;
    teu_do(&t, &c, SP_ENG_R_BAD_ACCOUNT);
    teu_deposit(&t, 7, "100.5");
    c.account = 7;
    c.amount = d8("100.50000001");
    teu_do(&t, &c, SP_ENG_R_INSUFFICIENT_BALANCE);
    c.amount = d8("0.5");
    teu_do(&t, &c, 0);
    c.amount = 0;
    teu_do(&t, &c, SP_ENG_R_BAD_AMOUNT);
    assert_int_equal(teu_acct(&t, 7).wallet, d8("100"));
    assert_int_equal(teu_last(&t, SP_EV_REJECT, -1).aux[2], SP_ENG_R_BAD_AMOUNT);
    teu_close(&t);
}

/* ---- fills and fees ---------------------------------------------------------------- */

static void test_fill_fees_exact(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    teu_deposit(&t, 1, "20000");
    teu_deposit(&t, 2, "20000");
    sp_engine_cmd c = teu_limit(1, 11, SP_BUY, "62500", "0.16");
    teu_do(&t, &c, 0);
    assert_int_equal(teu_pos(&t, 1).pending_buy, d8("0.16")); /* pending from acceptance */
    c = teu_limit(2, 12, SP_SELL, "62500", "0.16");
    sp_engine_result r = teu_do(&t, &c, 0);
    assert_int_equal(r.fills, 1);
    assert_int_equal(r.filled, d8("0.16"));
    /* 0.16 x 62,500 = 10,000: maker 0.02% = 2.00, taker 0.05% = 5.00 */
    assert_int_equal(teu_acct(&t, 1).wallet, d8("19998"));
    assert_int_equal(teu_acct(&t, 2).wallet, d8("19995"));
    assert_int_equal(sp_engine_fees(t.e, 0), d8("7"));
    sp_engine_position_info p = teu_pos(&t, 1);
    assert_int_equal(p.size, d8("0.16"));
    assert_int_equal(p.entry_value, d8("10000"));
    assert_int_equal(p.entry_px, d8("62500"));
    assert_int_equal(p.pending_buy, 0);
    assert_int_equal(teu_pos(&t, 2).size, -d8("0.16"));
    sp_event f = teu_last(&t, SP_EV_FILL, -1);
    assert_int_equal(f.aux[1], 2); /* the taker's record comes second */
    assert_int_equal(f.aux[2], d8("5"));
    assert_true(f.flags & SP_EVF_SELL);
    assert_false(f.flags & SP_EVF_MAKER);
    /* close at 63,000: 10,080; +80 / -80; maker 2.016, taker 5.04 */
    c = teu_limit(1, 13, SP_SELL, "63000", "0.16");
    teu_do(&t, &c, 0);
    c = teu_limit(2, 14, SP_BUY, "63000", "0.16");
    teu_do(&t, &c, 0);
    assert_int_equal(teu_acct(&t, 1).wallet, d8("20075.984"));
    assert_int_equal(teu_acct(&t, 2).wallet, d8("19909.96"));
    assert_int_equal(sp_engine_fees(t.e, 0), d8("14.056"));
    assert_int_equal(teu_pos(&t, 1).size, 0);
    assert_int_equal(teu_pos(&t, 1).entry_value, 0);
    teu_close(&t);
}

/* Spec §2.6: Binance truncates to 8 places; a fee of 1.6e-9 on 8e-6 notional is 0. */
static void test_fee_truncation(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    t.in.maker_fee = d8("0.00000003"); /* 3e-8 x 10,000.1 = 0.000300003 -> 0.00030000 */
    teu_deposit(&t, 1, "20000");
    teu_deposit(&t, 2, "20000");
    sp_engine_cmd c = teu_limit(1, 1, SP_BUY, "10000.1", "1");
    teu_do(&t, &c, 0);
    c = teu_limit(2, 2, SP_SELL, "10000.1", "1");
    teu_do(&t, &c, 0);
    assert_int_equal(teu_acct(&t, 1).wallet, d8("20000") - d8("0.0003"));
    teu_close(&t);
}

/* ---- pre-trade rejects ------------------------------------------------------------- */

static void test_order_rejects(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    sp_engine_cmd c = teu_limit(5, 1, SP_BUY, "62500", "0.1");
    teu_do(&t, &c, SP_ENG_R_UNKNOWN_ACCOUNT);
    teu_deposit(&t, 3, "100");
    c = teu_limit(3, 1, SP_BUY, "62500", "0.0005");
    teu_do(&t, &c, SP_ENG_R_BAD_QTY);
    c = teu_limit(3, 1, SP_BUY, "62500.05", "0.1");
    teu_do(&t, &c, SP_ENG_R_BAD_PRICE);
    c = teu_limit(3, 0, SP_BUY, "62500", "0.1");
    teu_do(&t, &c, SP_ENG_R_BAD_ORDER);
    c = teu_limit(3, 1, SP_BUY, "62500", "0.1");
    c.inst = 9;
    teu_do(&t, &c, SP_ENG_R_BAD_INSTRUMENT);
    /* 0.1 x 62,500 / 20 = 312.5 > 100 */
    c = teu_limit(3, 1, SP_BUY, "62500", "0.1");
    teu_do(&t, &c, SP_ENG_R_INSUFFICIENT_MARGIN);
    /* 0.03 x 62,500 / 20 = 93.75, + taker estimate 0.9375 = 94.6875 <= 100 */
    c = teu_limit(3, 1, SP_BUY, "62500", "0.03");
    teu_do(&t, &c, 0);
    c = teu_limit(3, 2, SP_BUY, "62500", "0.002"); /* 6.25 left < 6.25 + fee 0.0625 */
    teu_do(&t, &c, SP_ENG_R_INSUFFICIENT_MARGIN);
    c = teu_limit(3, 1, SP_BUY, "62000", "0.001"); /* id 1 is open */
    teu_do(&t, &c, SP_ENG_R_BAD_ORDER);
    c = teu_limit(3, 3, SP_SELL, "62500", "0.01");
    c.flags = SP_ORDF_REDUCE_ONLY; /* flat: nothing to reduce */
    teu_do(&t, &c, SP_ENG_R_REDUCE_ONLY);
    teu_setting(&t, 3, SP_CMD_MARGIN_MODE, 0, SP_MARGIN_ISOLATED, SP_ENG_R_MODE_LOCKED);
    /* leverage: tier 1 allows 125x (spec §2.3) */
    teu_setting(&t, 3, SP_CMD_LEVERAGE, 126, 0, SP_ENG_R_LEVERAGE_ABOVE_TIER);
    teu_setting(&t, 3, SP_CMD_LEVERAGE, 1001, 0, SP_ENG_R_BAD_LEVERAGE);
    teu_deposit(&t, 4, "100000");
    teu_setting(&t, 4, SP_CMD_LEVERAGE, 125, 0, 0);
    c = teu_limit(4, 4, SP_BUY, "62500", "1"); /* 62,500 is bracket 2: max 100x */
    teu_do(&t, &c, SP_ENG_R_LEVERAGE_ABOVE_TIER);
    teu_setting(&t, 4, SP_CMD_LEVERAGE, 10, 0, 0);
    c = teu_limit(4, 4, SP_BUY, "62500", "200"); /* 12.5 M: past the last bracket here */
    teu_do(&t, &c, SP_ENG_R_ABOVE_LAST_TIER);
    sp_engine_cmd k = {.kind = SP_CMD_CANCEL, .account = 4, .order_id = 1};
    teu_do(&t, &k, SP_ENG_R_UNKNOWN_ORDER); /* order 1 is account 3's */
    k.kind = 99;
    teu_do(&t, &k, SP_ENG_R_UNKNOWN_CMD);
    sp_engine_stats st;
    sp_engine_get_stats(t.e, &st);
    assert_int_equal(st.rejected, 16);
    assert_int_equal(teu_count(&t, SP_EV_REJECT, -1), 16);
    assert_string_equal(sp_engine_reason_text(SP_ENG_R_INSUFFICIENT_MARGIN), "insufficient margin");
    assert_string_equal(sp_engine_reason_text(3001), "post-only order would take liquidity");
    teu_close(&t);
}

/* ---- pending exposure through amend and cancel --------------------------------------- */

static void test_pending_amend_cancel(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    teu_deposit(&t, 1, "50000");
    sp_engine_cmd c = teu_limit(1, 5, SP_BUY, "60000", "0.5");
    teu_do(&t, &c, 0);
    assert_int_equal(teu_pos(&t, 1).pending_buy, d8("0.5"));
    sp_engine_cmd a = {.kind = SP_CMD_AMEND, .account = 1, .order_id = 5, .qty = d8("0.3")};
    teu_do(&t, &a, 0);
    assert_int_equal(teu_pos(&t, 1).pending_buy, d8("0.3"));
    a.px = d8("60010");
    teu_do(&t, &a, 0);
    int64_t bid;
    assert_true(sp_book_best(sp_engine_book(t.e, t.inst), SP_BUY, &bid, NULL));
    assert_int_equal(bid, 600100);
    a.qty = d8("100"); /* 6 M at 20x = 300k > 50k */
    teu_do(&t, &a, SP_ENG_R_INSUFFICIENT_MARGIN);
    assert_int_equal(teu_pos(&t, 1).pending_buy, d8("0.3"));
    sp_engine_cmd k = {.kind = SP_CMD_CANCEL, .account = 1, .order_id = 5};
    teu_do(&t, &k, 0);
    assert_int_equal(teu_pos(&t, 1).pending_buy, 0);
    sp_event ev = teu_last(&t, SP_EV_CANCEL, -1);
    assert_int_equal(ev.qty, d8("0.3"));
    assert_int_equal(ev.aux[2], 3006);
    assert_int_equal(teu_acct(&t, 1).open_orders, 0);
    /* a post-only that would take is refused by the book (3001): nothing stays pending */
    teu_deposit(&t, 2, "50000");
    c = teu_limit(2, 6, SP_SELL, "61000", "0.1");
    teu_do(&t, &c, 0);
    c = teu_limit(1, 7, SP_BUY, "61000", "0.1");
    c.flags = SP_ORDF_POST_ONLY;
    teu_do(&t, &c, 3001);
    assert_int_equal(teu_pos(&t, 1).pending_buy, 0);
    /* IOC remainder cancelled (3003) */
    c = teu_limit(1, 8, SP_BUY, "61000", "0.3");
    c.tif = SP_TIF_IOC;
    sp_engine_result r = teu_do(&t, &c, 0);
    assert_int_equal(r.filled, d8("0.1"));
    assert_int_equal(teu_last(&t, SP_EV_CANCEL, -1).aux[2], 3003);
    assert_int_equal(teu_pos(&t, 1).pending_buy, 0);
    assert_int_equal(teu_pos(&t, 1).size, d8("0.1"));
    teu_close(&t);
}

/* ---- isolated margin -------------------------------------------------------------------- */

static void test_isolated_margin_pnl(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    teu_deposit(&t, 1, "2000");
    teu_deposit(&t, 2, "50000");
    teu_setting(&t, 1, SP_CMD_MARGIN_MODE, 0, SP_MARGIN_ISOLATED, 0);
    teu_setting(&t, 1, SP_CMD_LEVERAGE, 10, 0, 0);
    sp_engine_cmd c = teu_limit(1, 1, SP_BUY, "62500", "0.16");
    teu_do(&t, &c, 0);
    c = teu_limit(2, 2, SP_SELL, "62500", "0.16");
    teu_do(&t, &c, 0);
    /* IM 10,000 / 10 = 1,000 moves into the position; maker fee 2 from the wallet */
    assert_int_equal(teu_pos(&t, 1).margin, d8("1000"));
    assert_int_equal(teu_acct(&t, 1).wallet, d8("998"));
    assert_int_equal(teu_acct(&t, 1).isolated, d8("1000"));
    /* sell half at 63,000: 5,040 - 5,000 = +40 into the margin (1,040), half of it (520)
     * back to the wallet; taker fee 2.52 */
    c = teu_limit(2, 3, SP_BUY, "63000", "0.08");
    teu_do(&t, &c, 0);
    c = teu_limit(1, 4, SP_SELL, "63000", "0.08");
    teu_do(&t, &c, 0);
    sp_engine_position_info p = teu_pos(&t, 1);
    assert_int_equal(p.size, d8("0.08"));
    assert_int_equal(p.entry_value, d8("5000"));
    assert_int_equal(p.margin, d8("520"));
    assert_int_equal(teu_acct(&t, 1).wallet, d8("1515.48"));
    teu_close(&t);
}

/* ---- hedge mode -------------------------------------------------------------------------- */

static void test_hedge_mode(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    teu_deposit(&t, 1, "50000");
    teu_deposit(&t, 2, "50000");
    sp_engine_cmd m = {.kind = SP_CMD_POSITION_MODE, .account = 1, .hedge = true};
    teu_do(&t, &m, 0);
    sp_engine_cmd c = teu_limit(1, 1, SP_BUY, "62500", "0.1");
    teu_do(&t, &c, SP_ENG_R_BAD_SIDE); /* hedge mode needs a position side */
    c.pos_side = SP_POS_LONG;
    teu_do(&t, &c, 0);
    c = teu_limit(2, 2, SP_SELL, "62500", "0.1");
    teu_do(&t, &c, 0);
    c = teu_limit(1, 3, SP_SELL, "62400", "0.05");
    c.pos_side = SP_POS_SHORT; /* opens the short leg, the long leg stays */
    teu_do(&t, &c, 0);
    c = teu_limit(2, 4, SP_BUY, "62400", "0.05");
    teu_do(&t, &c, 0);
    sp_engine_position_info lp, sp;
    assert_int_equal(sp_engine_position(t.e, 1, t.inst, SP_POS_LONG, &lp), SP_OK);
    assert_int_equal(sp_engine_position(t.e, 1, t.inst, SP_POS_SHORT, &sp), SP_OK);
    assert_int_equal(lp.size, d8("0.1"));
    assert_int_equal(sp.size, -d8("0.05"));
    c = teu_limit(1, 5, SP_SELL, "62500", "0.2");
    c.pos_side = SP_POS_LONG; /* closing more than the long leg holds */
    teu_do(&t, &c, SP_ENG_R_REDUCE_ONLY);
    m.hedge = false;
    teu_do(&t, &m, SP_ENG_R_MODE_LOCKED);
    /* account 2 (one-way) is net short 0.05 */
    assert_int_equal(teu_pos(&t, 2).size, -d8("0.05"));
    teu_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_enomem),           cmocka_unit_test(test_new_rejects_bad_config),
        cmocka_unit_test(test_deposit_withdraw),     cmocka_unit_test(test_fill_fees_exact),
        cmocka_unit_test(test_fee_truncation),       cmocka_unit_test(test_order_rejects),
        cmocka_unit_test(test_pending_amend_cancel), cmocka_unit_test(test_isolated_margin_pnl),
        cmocka_unit_test(test_hedge_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
