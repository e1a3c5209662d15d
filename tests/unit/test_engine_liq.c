/*
 * test_engine_liq.c -- liquidation engine, insurance fund, ADL, funding and
 * mark price, on the spec's worked examples (docs/specs/exchange-rules.md):
 *   - the article's trader (§6): 1,000 USDT isolated 10x long BTCUSDT at
 *     62,500, mark walked down: nothing at 56,476.0, liquidation at
 *     56,475.9 = the venue's liquidation price from sp_rules_liq (what
 *     `stampede liq` prints), fee and fill through the insurance fund;
 *   - insurance in (fill better than bankruptcy), out (worse fill paid by
 *     the fund), ADL ranking when the fund cannot pay (§2.7, §3.5, §5);
 *   - partial liquidation one bracket down (§2.7 "one large IOC");
 *   - funding (§2.5, §7: 0.16 BTC at 62,500, F = 0.01% -> 1.00 USDT) and
 *     exact zero-sum settlement with uneven sizes (largest remainder);
 *   - mark price per venue from index and book (§2.4, §4.4) and the
 *     funding rate from premium samples with the clamp (§2.5).
 * sp_engine_check runs after every command.
 */
#include "test_engine_util.h"

/* Trader (account 1): isolated, leverage lev, long qty at px against account 2. */
static void open_long(teu *t, const char *deposit, int64_t lev, const char *px, const char *qty)
{
    teu_deposit(t, 1, deposit);
    teu_deposit(t, 2, "1000000");
    teu_setting(t, 1, SP_CMD_MARGIN_MODE, 0, SP_MARGIN_ISOLATED, 0);
    teu_setting(t, 1, SP_CMD_LEVERAGE, lev, 0, 0);
    sp_engine_cmd c = teu_limit(1, 1, SP_BUY, px, qty);
    teu_do(t, &c, 0);
    c = teu_limit(2, 2, SP_SELL, px, qty);
    teu_do(t, &c, 0);
}

static void seed(teu *t, const char *amount)
{
    sp_engine_cmd c = {.kind = SP_CMD_INSURANCE, .amount = d8(amount)};
    teu_do(t, &c, 0);
}

static void test_article_trader(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, d8("0.0125"), NULL);
    /* 1,005 = 1,000 margin + the 5 USDT taker-fee estimate the pre-trade check wants */
    open_long(&t, "1005", 10, "62500", "0.16");
    seed(&t, "10000");
    teu_deposit(&t, 3, "100000");
    sp_engine_cmd c = teu_limit(3, 3, SP_BUY, "56470", "0.16");
    teu_do(&t, &c, 0);
    sp_engine_position_info p = teu_pos(&t, 1);
    assert_int_equal(p.margin, d8("1000"));
    /* the venue's liquidation price, as the rules module (and `stampede liq`) computes it */
    sp_rules_pos rp = {.inst = &t.in,
                       .tiers = &t.tiers,
                       .mode = SP_MARGIN_ISOLATED,
                       .side = 1,
                       .qty = d8("0.16"),
                       .entry_px = d8("62500"),
                       .margin = d8("1000")};
    sp_rules_out ro;
    assert_int_equal(sp_rules_liq(&rp, &ro), SP_OK);
    assert_int_equal(ro.liq_px, d8("56475.90"));
    assert_true(p.has_liq);
    assert_int_equal(p.liq_px, ro.liq_px);
    const char *walk[] = {"60000", "58000", "57000", "56500", "56476.0"};
    for (size_t i = 0; i < SP_COUNTOF(walk); i++) {
        teu_mark(&t, walk[i]);
        assert_int_equal(teu_pos(&t, 1).size, d8("0.16"));
    }
    assert_int_equal(teu_count(&t, SP_EV_LIQ_ENGINE, -1), 0);
    teu_mark(&t, "56475.9");
    assert_int_equal(teu_pos(&t, 1).size, 0);
    sp_event trig = teu_last(&t, SP_EV_LIQ_ENGINE, SP_ENG_LIQ_TRIGGER);
    assert_int_equal(trig.px, d8("56475.9"));
    assert_int_equal(trig.aux[0], 1);
    /* equity at mark 1,000 - 0.16 x 6,024.1 = 36.144 < fee 1.25% x 9,036.144: all of it */
    sp_event fee = teu_last(&t, SP_EV_INSURANCE, SP_ENG_INS_FEE);
    assert_int_equal(fee.aux[0], d8("36.144"));
    sp_event take = teu_last(&t, SP_EV_LIQ_ENGINE, SP_ENG_LIQ_TAKEOVER);
    assert_int_equal(take.px, d8("56475.9")); /* (10,000 - 963.856) / 0.16 */
    assert_int_equal(take.qty, d8("0.16"));
    assert_true(take.flags & SP_EVF_SELL);
    /* the fund sells at 56,470: 0.16 x 5.9 = 0.944 worse than bankruptcy, paid by the fund */
    sp_event fill = teu_last(&t, SP_EV_INSURANCE, SP_ENG_INS_FILL);
    assert_int_equal(fill.aux[0], -d8("0.944"));
    assert_int_equal(sp_engine_insurance(t.e, 0), d8("10035.2"));
    assert_int_equal(teu_acct(&t, 1).wallet, d8("3")); /* 1,005 - 1,000 margin - 2 fee */
    assert_int_equal(teu_acct(&t, 1).liquidations, 1);
    assert_int_equal(teu_pos(&t, 3).size, d8("0.16"));
    sp_engine_stats st;
    sp_engine_get_stats(t.e, &st);
    assert_int_equal(st.liquidations, 1);
    assert_int_equal(st.adl, 0);
    teu_close(&t);
}

/* Bybit (no clearance fee, §3.5): a fill better than bankruptcy pays the fund. */
static void test_insurance_in(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BYBIT, 0, NULL);
    open_long(&t, "1005", 10, "62500", "0.16");
    teu_deposit(&t, 3, "100000");
    sp_engine_cmd c = teu_limit(3, 3, SP_BUY, "56400", "0.16");
    teu_do(&t, &c, 0);
    teu_mark(&t, "56000");
    sp_event take = teu_last(&t, SP_EV_LIQ_ENGINE, SP_ENG_LIQ_TAKEOVER);
    assert_int_equal(take.px, d8("56250")); /* 62,500 x (1 - 1/10) */
    assert_int_equal(take.aux[2], 0);
    /* 0.16 x (56,400 - 56,250) = 24 */
    assert_int_equal(teu_last(&t, SP_EV_INSURANCE, SP_ENG_INS_FILL).aux[0], d8("24"));
    assert_int_equal(sp_engine_insurance(t.e, 0), d8("24"));
    teu_close(&t);
}

/* The fund pays for a worse fill as far as it can: 100 covers 0.16 x 250. */
static void test_insurance_out(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BYBIT, 0, NULL);
    open_long(&t, "1005", 10, "62500", "0.16");
    seed(&t, "100");
    teu_deposit(&t, 3, "100000");
    sp_engine_cmd c = teu_limit(3, 3, SP_BUY, "56000", "0.16");
    teu_do(&t, &c, 0);
    teu_mark(&t, "56000");
    assert_int_equal(teu_last(&t, SP_EV_INSURANCE, SP_ENG_INS_FILL).aux[0], -d8("40"));
    assert_int_equal(sp_engine_insurance(t.e, 0), d8("60"));
    assert_int_equal(teu_pos(&t, 3).size, d8("0.16"));
    teu_close(&t);
}

/*
 * No bids and an empty fund: ADL against the shorts, most leveraged first
 * (account 4 holds less collateral than account 5), at the bankruptcy
 * price, no fee.  Run on Binance (LeveragePnl) and Bybit (BitMEX ranking).
 */
static void adl_case(sp_venue venue)
{
    teu t;
    teu_open(&t, venue, 0, NULL);
    teu_deposit(&t, 1, "1005");
    teu_setting(&t, 1, SP_CMD_MARGIN_MODE, 0, SP_MARGIN_ISOLATED, 0);
    teu_setting(&t, 1, SP_CMD_LEVERAGE, 10, 0, 0);
    teu_deposit(&t, 4, "8000");
    teu_deposit(&t, 5, "100000");
    sp_engine_cmd c = teu_limit(4, 4, SP_SELL, "62500", "0.1");
    teu_do(&t, &c, 0);
    c = teu_limit(5, 5, SP_SELL, "62500", "0.06");
    teu_do(&t, &c, 0);
    c = teu_limit(1, 1, SP_BUY, "62500", "0.16");
    teu_do(&t, &c, 0);
    int64_t w4 = teu_acct(&t, 4).wallet, w5 = teu_acct(&t, 5).wallet;
    teu_mark(&t, "56000");
    assert_int_equal(teu_count(&t, SP_EV_ADL, -1), 2);
    size_t cap = sizeof(t.ev) / sizeof(t.ev[0]);
    sp_event adl[2];
    int k = 0;
    for (size_t i = 0; i < t.nev && i < cap; i++)
        if (t.ev[i].kind == SP_EV_ADL && k < 2)
            adl[k++] = t.ev[i];
    assert_int_equal(adl[0].aux[0], 4);
    assert_int_equal(adl[1].aux[0], 5);
    assert_true(adl[0].aux[2] > adl[1].aux[2]);
    assert_int_equal(adl[0].px, d8("56250"));
    assert_int_equal(adl[0].qty, d8("0.1"));
    /* shorts closed at 56,250: +0.1 x 6,250 and +0.06 x 6,250, no fee */
    assert_int_equal(teu_acct(&t, 4).wallet - w4, d8("625"));
    assert_int_equal(teu_acct(&t, 5).wallet - w5, d8("375"));
    assert_int_equal(teu_pos(&t, 4).size, 0);
    assert_int_equal(sp_engine_insurance(t.e, 0), 0);
    teu_close(&t);
}

static void test_adl_binance(void **state)
{
    (void)state;
    adl_case(SP_VENUE_BINANCE_UM);
}

static void test_adl_bybit(void **state)
{
    (void)state;
    adl_case(SP_VENUE_BYBIT);
}

/*
 * Partial liquidation (§2.7): cross long 2 BTC at 62,500 (125,000, bracket
 * 2), wallet 2,975; mark 61,290: equity 555 <= MM 562.9.  One IOC takes
 * the position down to bracket 1: 50,000 / 61,290 -> 0.815 kept, 1.185
 * sold at 61,280 (-1,445.7); margin compliant afterwards, no take-over.
 */
static void test_partial_one_tier(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    teu_deposit(&t, 1, "3000");
    teu_deposit(&t, 2, "1000000");
    teu_deposit(&t, 3, "1000000");
    teu_setting(&t, 1, SP_CMD_LEVERAGE, 50, 0, 0);
    sp_engine_cmd c = teu_limit(1, 1, SP_BUY, "62500", "2");
    teu_do(&t, &c, 0);
    c = teu_limit(2, 2, SP_SELL, "62500", "2");
    teu_do(&t, &c, 0);
    assert_int_equal(teu_acct(&t, 1).wallet, d8("2975"));
    c = teu_limit(3, 3, SP_BUY, "61280", "2");
    teu_do(&t, &c, 0);
    teu_mark(&t, "61290");
    sp_event pe = teu_last(&t, SP_EV_LIQ_ENGINE, SP_ENG_LIQ_PARTIAL);
    assert_int_equal(pe.qty, d8("1.185"));
    assert_int_equal(teu_count(&t, SP_EV_LIQ_ENGINE, SP_ENG_LIQ_TAKEOVER), 0);
    assert_int_equal(teu_pos(&t, 1).size, d8("0.815"));
    assert_int_equal(teu_acct(&t, 1).wallet, d8("1529.3"));
    sp_engine_stats st;
    sp_engine_get_stats(t.e, &st);
    assert_int_equal(st.partials, 1);
    teu_close(&t);
}

/* Bybit (§3.5): the partial order is a FillOrKill.  Enough bids: same cut as above; too few:
 * nothing fills and the position is taken over whole. */
static void bybit_partial(const char *bid_qty, bool enough)
{
    teu t;
    teu_open(&t, SP_VENUE_BYBIT, 0, NULL);
    teu_deposit(&t, 1, "3000");
    teu_deposit(&t, 2, "1000000");
    teu_deposit(&t, 3, "1000000");
    teu_setting(&t, 1, SP_CMD_LEVERAGE, 50, 0, 0);
    sp_engine_cmd c = teu_limit(1, 1, SP_BUY, "62500", "2");
    teu_do(&t, &c, 0);
    c = teu_limit(2, 2, SP_SELL, "62500", "2");
    teu_do(&t, &c, 0);
    c = teu_limit(3, 3, SP_BUY, "61280", bid_qty);
    teu_do(&t, &c, 0);
    teu_mark(&t, "61290");
    assert_int_equal(teu_last(&t, SP_EV_LIQ_ENGINE, SP_ENG_LIQ_PARTIAL).qty, d8("1.185"));
    if (enough) {
        assert_int_equal(teu_pos(&t, 1).size, d8("0.815"));
        assert_int_equal(teu_count(&t, SP_EV_LIQ_ENGINE, SP_ENG_LIQ_TAKEOVER), 0);
    } else {
        assert_int_equal(teu_last(&t, SP_EV_REJECT, -1).aux[2], 3002); /* FOK refused */
        assert_int_equal(teu_count(&t, SP_EV_LIQ_ENGINE, SP_ENG_LIQ_TAKEOVER), 1);
        assert_int_equal(teu_pos(&t, 1).size, 0);
    }
    teu_close(&t);
}

static void test_partial_bybit_fok(void **state)
{
    (void)state;
    bybit_partial("2", true);
    bybit_partial("1", false);
}

/* ---- funding --------------------------------------------------------------------- */

static void test_funding_spec_example(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    open_long(&t, "20000", 10, "62500", "0.16");
    teu_mark(&t, "62500");
    int64_t w1 = teu_acct(&t, 1).wallet, m1 = teu_pos(&t, 1).margin, w2 = teu_acct(&t, 2).wallet;
    sp_engine_cmd f = {.kind = SP_CMD_FUNDING, .inst = t.inst, .has_rate = 1, .rate = d8("0.0001")};
    teu_do(&t, &f, 0);
    /* 0.16 x 62,500 x 0.01% = 1.00, from the isolated margin; the short receives it */
    assert_int_equal(teu_pos(&t, 1).margin, m1 - d8("1"));
    assert_int_equal(teu_acct(&t, 1).wallet, w1);
    assert_int_equal(teu_acct(&t, 2).wallet - w2, d8("1"));
    sp_event sum = teu_last(&t, SP_EV_FUNDING, -1);
    assert_int_equal(sum.aux[1], 0);
    assert_int_equal(sum.aux[2], d8("1"));
    assert_int_equal(sum.px, d8("0.0001") * 10000);
    teu_close(&t);
}

/* Two payers, three receivers of uneven size: shares by largest remainder, sum exactly 0. */
static void test_funding_zero_sum(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    for (uint32_t a = 1; a <= 5; a++)
        teu_deposit(&t, a, "100000");
    sp_engine_cmd c = teu_limit(3, 3, SP_SELL, "62500", "0.07");
    teu_do(&t, &c, 0);
    c = teu_limit(4, 4, SP_SELL, "62500", "0.06");
    teu_do(&t, &c, 0);
    c = teu_limit(5, 5, SP_SELL, "62500", "0.03");
    teu_do(&t, &c, 0);
    c = teu_limit(1, 1, SP_BUY, "62500", "0.1");
    teu_do(&t, &c, 0);
    c = teu_limit(2, 2, SP_BUY, "62500", "0.06");
    teu_do(&t, &c, 0);
    teu_mark(&t, "62500.3");
    int64_t w[6];
    for (uint32_t a = 1; a <= 5; a++)
        w[a] = teu_acct(&t, a).wallet;
    sp_engine_cmd f = {
        .kind = SP_CMD_FUNDING, .inst = t.inst, .has_rate = 1, .rate = d8("0.000123")};
    teu_do(&t, &f, 0);
    /* payers: 0.76875369 and 0.461252214 -> 0.46125221 (half-even); pot 1.23000590;
     * shares 0.53812758|125, 0.46125221|25, 0.23062610|625 -> the last gets the unit */
    assert_int_equal(w[1] - teu_acct(&t, 1).wallet, d8("0.76875369"));
    assert_int_equal(w[2] - teu_acct(&t, 2).wallet, d8("0.46125221"));
    assert_int_equal(teu_acct(&t, 3).wallet - w[3], d8("0.53812758"));
    assert_int_equal(teu_acct(&t, 4).wallet - w[4], d8("0.46125221"));
    assert_int_equal(teu_acct(&t, 5).wallet - w[5], d8("0.23062611"));
    int64_t total = 0;
    for (uint32_t a = 1; a <= 5; a++)
        total += teu_acct(&t, a).wallet - w[a];
    assert_int_equal(total, 0);
    teu_close(&t);
}

/* ---- mark price and the computed funding rate ------------------------------------------ */

static void index_cmd(teu *t, const char *px)
{
    sp_engine_cmd c = {.kind = SP_CMD_INDEX, .inst = t->inst, .px = d8(px)};
    teu_do(t, &c, 0);
}

static void test_mark_binance_median(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    teu_deposit(&t, 1, "1000000");
    teu_deposit(&t, 2, "1000000");
    sp_engine_cmd c = teu_limit(1, 1, SP_BUY, "62490", "1");
    teu_do(&t, &c, 0);
    c = teu_limit(2, 2, SP_SELL, "62510", "1");
    teu_do(&t, &c, 0);
    /* basis 62,500 - 62,400 = 100: median(62,400 (no funding yet), 62,500, 62,400) */
    index_cmd(&t, "62400");
    assert_int_equal(sp_engine_mark(t.e, t.inst), d8("62400"));
    /* premium (§2.5): impact notional 200 x 125 = 25,000 fits the top levels:
     * (62,490 - 62,400) / 62,400 = 0.00144230769 -> F = P + clamp(I - P) = 0.00094231 */
    sp_engine_cmd f = {.kind = SP_CMD_FUNDING, .inst = t.inst};
    teu_do(&t, &f, 0);
    assert_int_equal(teu_last(&t, SP_EV_FUNDING, -1).px, d8("0.00094231") * 10000);
    /* a trade at 62,510 then index 62,450: basis MA (100 + 50) / 2 = 75; P1 = 62,450 x
     * (1 + F x 0) with no clock, P2 = 62,525, last 62,510 -> 62,510 */
    c = teu_limit(1, 3, SP_BUY, "62510", "0.5");
    teu_do(&t, &c, 0);
    index_cmd(&t, "62450");
    assert_int_equal(sp_engine_mark(t.e, t.inst), d8("62510"));
    assert_int_equal(sp_engine_index(t.e, t.inst), d8("62450"));
    teu_close(&t);
}

static void test_mark_okx_and_default_rate(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_OKX, 0, NULL);
    teu_deposit(&t, 1, "1000000");
    teu_deposit(&t, 2, "1000000");
    sp_engine_cmd c = teu_limit(1, 1, SP_BUY, "62490", "1");
    teu_do(&t, &c, 0);
    c = teu_limit(2, 2, SP_SELL, "62520", "1");
    teu_do(&t, &c, 0);
    index_cmd(&t, "62400"); /* §4.4: index + MA(basis) = 62,400 + 105 */
    assert_int_equal(sp_engine_mark(t.e, t.inst), d8("62505"));
    teu_close(&t);
    /* Binance without any premium sample: P = 0, F = clamp(I) = 0.01% (§2.5) */
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    teu_mark(&t, "62500");
    sp_engine_cmd f = {.kind = SP_CMD_FUNDING, .inst = t.inst};
    teu_do(&t, &f, 0);
    assert_int_equal(teu_last(&t, SP_EV_FUNDING, -1).px, d8("0.0001") * 10000);
    f.has_rate = 1;
    f.rate = d8("1");
    teu_do(&t, &f, SP_ENG_R_BAD_RATE);
    teu_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_article_trader),
        cmocka_unit_test(test_insurance_in),
        cmocka_unit_test(test_insurance_out),
        cmocka_unit_test(test_adl_binance),
        cmocka_unit_test(test_adl_bybit),
        cmocka_unit_test(test_partial_one_tier),
        cmocka_unit_test(test_partial_bybit_fok),
        cmocka_unit_test(test_funding_spec_example),
        cmocka_unit_test(test_funding_zero_sum),
        cmocka_unit_test(test_mark_binance_median),
        cmocka_unit_test(test_mark_okx_and_default_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
