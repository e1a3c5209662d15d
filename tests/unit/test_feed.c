/*
 * test_feed.c -- the hot message decoders, one message at a time:
 * Binance USD-M WebSocket (every event type, arrays, the combined-stream
 * wrapper), Bybit v5 (incl. the allLiquidation side trap and ticker
 * deltas) and OKX v5 (messages written from the OKX v5 docs), and the
 * strictness rules every decoder shares (bad JSON, wrong types, too many
 * places, past int64, missing fields, unknown types, oversized input).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/stampede.h"
#include "testalloc.h"

#define CAP 64

typedef struct fx {
    sp_symtab *syms;
    sp_event ev[CAP];
    size_t n;
    sp_diag d;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(sp_symtab_new(&f->syms), SP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    sp_symtab_free(f->syms);
    free(f);
    return 0;
}

static sp_err bws(fx *f, const char *msg)
{
    sp_diag_clear(&f->d);
    return sp_feed_binance_ws(msg, strlen(msg), 7, f->syms, f->ev, CAP, &f->n, &f->d);
}

static const char *symname(fx *f, uint32_t id)
{
    return sp_symtab_name(f->syms, id);
}

/* Binance "Liquidation Order Streams" example, with the live "ps"/"st" extras. */
static const char *FORCE =
    "{\"e\":\"forceOrder\",\"E\":1568014460893,\"o\":{\"s\":\"BTCUSDT\",\"S\":\"SELL\","
    "\"o\":\"LIMIT\",\"f\":\"IOC\",\"q\":\"0.014\",\"p\":\"9910\",\"ap\":\"9910.12\","
    "\"X\":\"FILLED\",\"l\":\"0.014\",\"z\":\"0.014\",\"T\":1568014460893,\"ps\":\"LONG\","
    "\"st\":1}}";

static void test_binance_force_order(void **state)
{
    fx *f = *state;
    assert_int_equal(bws(f, FORCE), SP_OK);
    assert_int_equal(f->n, 1);
    sp_event *e = &f->ev[0];
    assert_int_equal(e->kind, SP_EV_LIQUIDATION);
    assert_int_equal(e->venue, SP_VENUE_BINANCE_UM);
    assert_string_equal(symname(f, e->symbol_id), "BTCUSDT");
    assert_int_equal(e->flags, SP_EVF_SELL); /* S=SELL: a long was liquidated */
    assert_int_equal(e->exch_ts_ns, 1568014460893000000LL);
    assert_int_equal(e->local_ts_ns, 7);
    assert_int_equal(e->px, 991000000000LL);
    assert_int_equal(e->qty, 1400000);
    assert_int_equal(e->aux[0], 991012000000LL);
    assert_int_equal(e->aux[1], 1400000);
    /* 9910.12 x 0.014 = 138.74168 */
    assert_int_equal(e->aux[2], 13874168000LL);
}

static void test_binance_force_order_arr_wrapper(void **state)
{
    fx *f = *state;
    char msg[1024];
    snprintf(msg, sizeof(msg), "{\"stream\":\"!forceOrder@arr\",\"data\":%s}", FORCE);
    assert_int_equal(bws(f, msg), SP_OK);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->ev[0].kind, SP_EV_LIQUIDATION);
    /* an array of events (the @arr streams) */
    snprintf(msg, sizeof(msg), "[%s, %s]", FORCE, FORCE);
    assert_int_equal(bws(f, msg), SP_OK);
    assert_int_equal(f->n, 2);
}

static void test_binance_agg_trade_and_trade(void **state)
{
    fx *f = *state;
    assert_int_equal(bws(f, "{\"e\":\"aggTrade\",\"E\":123456789,\"s\":\"BTCUSDT\",\"a\":5933014,"
                            "\"p\":\"0.001\",\"q\":\"100\",\"f\":100,\"l\":105,\"T\":123456785,"
                            "\"m\":true}"),
                     SP_OK);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->ev[0].kind, SP_EV_TRADE);
    assert_int_equal(f->ev[0].px, 100000);
    assert_int_equal(f->ev[0].qty, 10000000000LL);
    assert_int_equal(f->ev[0].aux[0], 5933014);
    assert_int_equal(f->ev[0].aux[1], 100);
    assert_int_equal(f->ev[0].aux[2], 105);
    assert_int_equal(f->ev[0].flags, SP_EVF_MAKER | SP_EVF_SELL);
    assert_int_equal(f->ev[0].exch_ts_ns, 123456785000000LL);
    assert_int_equal(bws(f, "{\"e\":\"trade\",\"E\":1,\"T\":2,\"s\":\"ETHUSDT\",\"t\":12,"
                            "\"p\":\"2000.5\",\"q\":\"1.25\",\"X\":\"MARKET\",\"m\":false}"),
                     SP_OK);
    assert_int_equal(f->ev[0].aux[0], 12);
    assert_int_equal(f->ev[0].flags, 0);
}

static void test_binance_depth_mark_ticker_kline(void **state)
{
    fx *f = *state;
    assert_int_equal(bws(f, "{\"e\":\"depthUpdate\",\"E\":10,\"T\":9,\"s\":\"X\",\"U\":157,"
                            "\"u\":160,\"pu\":149,\"b\":[[\"0.0024\",\"10\"]],"
                            "\"a\":[[\"0.0026\",\"100\"],[\"0.0027\",\"0\"]]}"),
                     SP_OK);
    assert_int_equal(f->n, 3);
    assert_int_equal(f->ev[0].kind, SP_EV_DEPTH_UPDATE);
    assert_int_equal(f->ev[0].flags, 0);
    assert_int_equal(f->ev[1].flags, SP_EVF_SELL);
    assert_int_equal(f->ev[2].qty, 0); /* level removed */
    assert_int_equal(f->ev[0].aux[0], 157);
    assert_int_equal(f->ev[0].aux[1], 160);
    assert_int_equal(f->ev[0].aux[2], 149);
    assert_int_equal(f->ev[0].exch_ts_ns, 9000000);

    const char *marks =
        "[{\"e\":\"markPriceUpdate\",\"E\":1562305380000,\"s\":\"BTCUSDT\","
        "\"p\":\"11794.15000000\",\"i\":\"11784.62659091\",\"P\":\"11784.25641265\","
        "\"r\":\"0.00038167\",\"T\":1562306400000},"
        "{\"e\":\"markPriceUpdate\",\"E\":1562305380000,\"s\":\"BTCUSDT_250627\","
        "\"p\":\"11794.15\",\"i\":\"11784.6\",\"P\":\"11784.2\",\"r\":\"\","
        "\"T\":0}]";
    assert_int_equal(bws(f, marks), SP_OK);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->ev[0].kind, SP_EV_MARK);
    assert_int_equal(f->ev[0].px, 1179415000000LL);
    assert_int_equal(f->ev[0].aux[2], 381670000LL); /* 0.00038167 at 1e-12 */
    assert_int_equal(f->ev[1].aux[2], 0);           /* "" = no funding */

    assert_int_equal(bws(f, "{\"e\":\"bookTicker\",\"u\":400900217,\"E\":1568014460893,"
                            "\"T\":1568014460891,\"s\":\"BNBUSDT\",\"b\":\"25.35190000\","
                            "\"B\":\"31.21000000\",\"a\":\"25.36520000\",\"A\":\"40.66000000\"}"),
                     SP_OK);
    assert_int_equal(f->ev[0].kind, SP_EV_TICKER);
    assert_int_equal(f->ev[0].px, 2535190000LL);
    assert_int_equal(f->ev[0].aux[0], 2536520000LL);

    assert_int_equal(bws(f, "{\"e\":\"kline\",\"E\":1,\"s\":\"BTCUSDT\",\"k\":{\"t\":1000,"
                            "\"T\":60999,\"s\":\"BTCUSDT\",\"i\":\"1m\",\"f\":1,\"L\":2,"
                            "\"o\":\"1.0\",\"c\":\"2.0\",\"h\":\"3.0\",\"l\":\"0.5\",\"v\":\"9\","
                            "\"n\":2,\"x\":true,\"q\":\"1\",\"V\":\"1\",\"Q\":\"1\",\"B\":\"0\"}}"),
                     SP_OK);
    assert_int_equal(f->ev[0].kind, SP_EV_KLINE);
    assert_int_equal(f->ev[0].sub, 1);
    assert_int_equal(f->ev[0].flags, SP_EVF_CLOSED);
    assert_int_equal(f->ev[0].px, 200000000);
    assert_int_equal(f->ev[0].aux[1], 300000000);
    /* the SUBSCRIBE reply yields nothing */
    assert_int_equal(bws(f, "{\"result\":null,\"id\":1}"), SP_OK);
    assert_int_equal(f->n, 0);
}

/* Each bad message: the expected error code and the field named. */
static void test_binance_strictness(void **state)
{
    fx *f = *state;
    static const struct {
        const char *msg;
        sp_err code;
        const char *field;
    } bad[] = {
        {"{\"e\":\"aggTrade\",\"s\":\"B\",\"a\":1,\"p\":\"1.123456789\",\"q\":\"1\",\"f\":1,"
         "\"l\":1,\"T\":1,\"m\":true}",
         SP_EPRECISION, "p"},
        {"{\"e\":\"aggTrade\",\"s\":\"B\",\"a\":1,\"p\":1.5,\"q\":\"1\",\"f\":1,\"l\":1,\"T\":1,"
         "\"m\":true}",
         SP_EPARSE, "p"},
        {"{\"e\":\"aggTrade\",\"s\":\"B\",\"a\":99999999999999999999,\"p\":\"1\",\"q\":\"1\","
         "\"f\":1,\"l\":1,\"T\":1,\"m\":true}",
         SP_EOVERFLOW, "a"},
        {"{\"e\":\"aggTrade\",\"s\":\"B\",\"a\":1,\"p\":\"1\",\"f\":1,\"l\":1,\"T\":1,\"m\":true}",
         SP_ENOTFOUND, "q"},
        {"{\"e\":\"aggTrade\",\"s\":\"B\",\"a\":1,\"p\":\"1\",\"q\":\"1\",\"f\":1,\"l\":1,\"T\":1,"
         "\"m\":\"yes\"}",
         SP_EPARSE, "m"},
        {"{\"e\":\"forceOrder\",\"E\":1,\"o\":{\"s\":\"B\",\"S\":\"HOLD\",\"q\":\"1\",\"p\":\"1\","
         "\"ap\":\"1\",\"z\":\"1\",\"T\":1}}",
         SP_EPARSE, "S"},
        {"{\"e\":\"newThing\",\"E\":1}", SP_EUNKNOWN_KIND, "e"},
        {"{\"e\":\"aggTrade\",\"s\":\"B\"", SP_ETRUNCATED, ""},
        {"{\"e\":\"aggTrade\",\"e\":\"trade\"}", SP_EPARSE, ""},
        {"{\"stream\":\"x\",\"data\":{}} trailing", SP_EPARSE, ""},
        {"\x01\x02garbage", SP_EPARSE, ""},
        {"{\"foo\":1}", SP_EUNKNOWN_KIND, ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sp_err rc = bws(f, bad[i].msg);
        if (rc != bad[i].code)
            fail_msg("case %zu: got %s, want %s (%s)", i, sp_errname(rc), sp_errname(bad[i].code),
                     f->d.msg);
        assert_int_equal(f->n, 0);
        assert_string_equal(f->d.field, bad[i].field);
        assert_true(f->d.column >= 1);
    }
    /* more events than the caller's room: SP_ETOOBIG, nothing emitted */
    char big[4096];
    size_t k = (size_t)snprintf(big, sizeof(big),
                                "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"X\",\"U\":1,\"u\":2,"
                                "\"pu\":0,\"a\":[],\"b\":[");
    for (int i = 0; i < CAP + 1; i++)
        k += (size_t)snprintf(big + k, sizeof(big) - k, "%s[\"%d\",\"1\"]", i ? "," : "", i + 1);
    snprintf(big + k, sizeof(big) - k, "]}");
    assert_int_equal(bws(f, big), SP_ETOOBIG);
    assert_int_equal(f->n, 0);
}

static sp_err bybit(fx *f, sp_feed_bybit *c, const char *msg)
{
    sp_diag_clear(&f->d);
    return sp_feed_bybit_v5(c, msg, strlen(msg), 0, f->syms, f->ev, CAP, &f->n, &f->d);
}

static void test_bybit_liquidation_side_trap(void **state)
{
    fx *f = *state;
    sp_feed_bybit *c;
    assert_int_equal(sp_feed_bybit_new(false, &c), SP_OK);
    /* Bybit v5 allLiquidation: S=Buy means a LONG position was liquidated */
    assert_int_equal(bybit(f, c,
                           "{\"topic\":\"allLiquidation.ROSEUSDT\",\"type\":\"snapshot\","
                           "\"ts\":1739502303204,\"data\":[{\"T\":1739502302929,"
                           "\"s\":\"ROSEUSDT\",\"S\":\"Buy\",\"v\":\"20000\","
                           "\"p\":\"0.04499\"},{\"T\":1739502302930,\"s\":\"ROSEUSDT\","
                           "\"S\":\"Sell\",\"v\":\"1\",\"p\":\"0.05\"}]}"),
                     SP_OK);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->ev[0].kind, SP_EV_LIQUIDATION);
    assert_int_equal(f->ev[0].venue, SP_VENUE_BYBIT);
    assert_int_equal(f->ev[0].flags, SP_EVF_SELL); /* long liquidated -> forced sell */
    assert_int_equal(f->ev[1].flags, 0);
    assert_int_equal(f->ev[0].aux[2], 89980000000LL); /* 20000 x 0.04499 = 899.8 */
    sp_feed_bybit_free(c);
}

/* The fills of one taker order share seq, T, price and side; only the trade
 * id `i` tells them apart.  It must reach the event (aux1), or the store's
 * natural key folds them into one (29 of 347 shipped Bybit trades did). */
static void test_bybit_trade_ids_kept(void **state)
{
    fx *f = *state;
    sp_feed_bybit *c;
    assert_int_equal(sp_feed_bybit_new(false, &c), SP_OK);
    assert_int_equal(
        bybit(f, c,
              "{\"topic\":\"publicTrade.ETHUSDT\",\"type\":\"snapshot\","
              "\"ts\":1786310820347,\"data\":[{\"T\":1786310820346,\"s\":"
              "\"ETHUSDT\",\"S\":\"Buy\",\"v\":\"0.10\",\"p\":\"1922.50\","
              "\"L\":\"ZeroPlusTick\",\"i\":\"19d7df56-4f10-5290-a969-d9d9f2c74cc3\","
              "\"BT\":false,\"seq\":430879434439},{\"T\":1786310820346,\"s\":"
              "\"ETHUSDT\",\"S\":\"Buy\",\"v\":\"0.10\",\"p\":\"1922.50\","
              "\"L\":\"ZeroPlusTick\",\"i\":\"4d4ad26c-901f-5146-adc0-1db29b6b9ab6\","
              "\"BT\":false,\"seq\":430879434439},{\"T\":1786310820346,\"s\":"
              "\"ETHUSDT\",\"S\":\"Buy\",\"v\":\"0.10\",\"p\":\"1922.50\","
              "\"i\":\"19d7df56-4f10-5290-a969-d9d9f2c74cc3\",\"seq\":430879434439}]}"),
        SP_OK);
    assert_int_equal(f->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(f->ev[i].kind, SP_EV_TRADE);
        assert_int_equal(f->ev[i].aux[0], 430879434439LL); /* seq, shared */
        assert_true(f->ev[i].aux[1] > 0);                  /* id hash: 63 bits, never 0 */
    }
    assert_true(f->ev[0].aux[1] != f->ev[1].aux[1]); /* different ids, different hashes */
    assert_true(f->ev[0].aux[1] == f->ev[2].aux[1]); /* same id, same hash (stable) */
    /* a trade without its id is malformed, not silently keyless */
    assert_int_equal(bybit(f, c,
                           "{\"topic\":\"publicTrade.ETHUSDT\",\"type\":\"snapshot\","
                           "\"ts\":1,\"data\":[{\"T\":1,\"s\":\"ETHUSDT\",\"S\":\"Buy\","
                           "\"v\":\"1\",\"p\":\"1\",\"seq\":1}]}"),
                     SP_ENOTFOUND); /* the decoders' code for a missing field */
    assert_string_equal(f->d.field, "i");
    sp_feed_bybit_free(c);
}

static void test_bybit_tickers_merge(void **state)
{
    fx *f = *state;
    sp_feed_bybit *c;
    assert_int_equal(sp_feed_bybit_new(false, &c), SP_OK);
    const char *delta = "{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"data\":{\"symbol\":"
                        "\"BTCUSDT\",\"bid1Price\":\"65114.10\",\"bid1Size\":\"1\"},\"cs\":1,"
                        "\"ts\":1786310817884}";
    assert_int_equal(bybit(f, c, delta), SP_ESTATE); /* no snapshot yet */
    assert_int_equal(bybit(f, c,
                           "{\"topic\":\"tickers.BTCUSDT\",\"type\":\"snapshot\",\"data\":"
                           "{\"symbol\":\"BTCUSDT\",\"lastPrice\":\"65114.30\","
                           "\"markPrice\":\"65117.44\",\"indexPrice\":\"65137.76\","
                           "\"openInterest\":\"59891.732\",\"openInterestValue\":"
                           "\"3899996265.01\",\"fundingRate\":\"0.0001\","
                           "\"nextFundingTime\":\"1786320000000\",\"bid1Price\":"
                           "\"65114.20\",\"bid1Size\":\"6.054\",\"ask1Price\":\"65114.30\","
                           "\"ask1Size\":\"10.486\"},\"cs\":1,\"ts\":1786310817883}"),
                     SP_OK);
    assert_int_equal(f->n, 4); /* ticker, mark, open interest, funding */
    assert_int_equal(f->ev[0].kind, SP_EV_TICKER);
    assert_int_equal(f->ev[2].kind, SP_EV_OPEN_INTEREST);
    assert_int_equal(f->ev[2].qty, 5989173200000LL);
    assert_int_equal(f->ev[3].px, 100000000); /* 0.0001 at 1e-12 */
    assert_int_equal(bybit(f, c, delta), SP_OK);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->ev[0].px, 6511410000000LL);     /* new bid */
    assert_int_equal(f->ev[0].aux[0], 6511430000000LL); /* ask kept from the snapshot */
    assert_int_equal(f->ev[0].aux[1], 1048600000LL);
    /* unknown topic and op replies */
    assert_int_equal(bybit(f, c,
                           "{\"topic\":\"insurance.USDT\",\"type\":\"snapshot\","
                           "\"ts\":1,\"data\":[]}"),
                     SP_EUNKNOWN_KIND);
    assert_int_equal(bybit(f, c, "{\"success\":true,\"ret_msg\":\"\",\"op\":\"subscribe\"}"),
                     SP_OK);
    assert_int_equal(f->n, 0);
    sp_feed_bybit_free(c);
}

static sp_err okx(fx *f, const char *msg)
{
    sp_diag_clear(&f->d);
    return sp_feed_okx_v5(msg, strlen(msg), 0, f->syms, f->ev, CAP, &f->n, &f->d);
}

/* Messages written from the OKX v5 WebSocket public channel docs. */
static void test_okx_channels(void **state)
{
    fx *f = *state;
    assert_int_equal(okx(f, "{\"arg\":{\"channel\":\"liquidation-orders\",\"instType\":\"SWAP\"},"
                            "\"data\":[{\"details\":[{\"bkLoss\":\"0\",\"bkPx\":\"0.007831\","
                            "\"ccy\":\"\",\"posSide\":\"short\",\"side\":\"buy\",\"sz\":\"13\","
                            "\"ts\":\"1692266434010\"}],\"instFamily\":\"IOST-USDT\","
                            "\"instId\":\"IOST-USDT-SWAP\",\"instType\":\"SWAP\","
                            "\"uly\":\"IOST-USDT\"}]}"),
                     SP_OK);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->ev[0].kind, SP_EV_LIQUIDATION);
    assert_int_equal(f->ev[0].venue, SP_VENUE_OKX);
    assert_string_equal(symname(f, f->ev[0].symbol_id), "IOST-USDT-SWAP");
    assert_int_equal(f->ev[0].flags, 0); /* a short liquidated: the order buys */
    assert_int_equal(f->ev[0].px, 783100);
    assert_int_equal(f->ev[0].exch_ts_ns, 1692266434010000000LL);

    assert_int_equal(okx(f, "{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT-SWAP\"},"
                            "\"data\":[{\"instId\":\"BTC-USDT-SWAP\",\"tradeId\":\"130639474\","
                            "\"px\":\"42219.9\",\"sz\":\"0.12060306\",\"side\":\"sell\","
                            "\"ts\":\"1630048897897\",\"count\":\"3\"}]}"),
                     SP_OK);
    assert_int_equal(f->ev[0].kind, SP_EV_TRADE);
    assert_int_equal(f->ev[0].aux[0], 130639474);
    assert_int_equal(f->ev[0].flags, SP_EVF_SELL);

    assert_int_equal(okx(f, "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},"
                            "\"action\":\"update\",\"data\":[{\"asks\":[[\"8476.98\",\"415\","
                            "\"0\",\"13\"]],\"bids\":[[\"8476.97\",\"0\",\"0\",\"0\"]],"
                            "\"ts\":\"1597026383085\",\"checksum\":-855196043,"
                            "\"prevSeqId\":123456,\"seqId\":123457}]}"),
                     SP_OK);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->ev[0].kind, SP_EV_DEPTH_UPDATE);
    assert_int_equal(f->ev[0].aux[0], 123456);
    assert_int_equal(f->ev[0].aux[1], 123457);
    assert_int_equal(f->ev[0].aux[2], -855196043);
    assert_int_equal(f->ev[1].flags, SP_EVF_SELL);

    assert_int_equal(okx(f, "{\"arg\":{\"channel\":\"funding-rate\",\"instId\":\"BTC-USD-SWAP\"},"
                            "\"data\":[{\"fundingRate\":\"0.0001875391284828\",\"fundingTime\":"
                            "\"1700726400000\",\"instId\":\"BTC-USD-SWAP\",\"instType\":\"SWAP\","
                            "\"nextFundingTime\":\"1700755200000\"}]}"),
                     SP_EPRECISION); /* 16 places do not fit 1e-12: rejected, not rounded */
    assert_int_equal(okx(f, "{\"arg\":{\"channel\":\"funding-rate\",\"instId\":\"BTC-USD-SWAP\"},"
                            "\"data\":[{\"fundingRate\":\"0.000187539128\",\"fundingTime\":"
                            "\"1700726400000\",\"instId\":\"BTC-USD-SWAP\",\"instType\":\"SWAP\","
                            "\"nextFundingTime\":\"1700755200000\"}]}"),
                     SP_OK);
    assert_int_equal(f->ev[0].kind, SP_EV_FUNDING);
    assert_int_equal(f->ev[0].px, 187539128);
    assert_int_equal(f->ev[0].aux[2], 1700755200000LL);

    assert_int_equal(okx(f, "{\"arg\":{\"channel\":\"open-interest\",\"instId\":\"LTC-USD-SWAP\"},"
                            "\"data\":[{\"instId\":\"LTC-USD-SWAP\",\"instType\":\"SWAP\","
                            "\"oi\":\"5000\",\"oiCcy\":\"555.55\",\"oiUsd\":\"50000\","
                            "\"ts\":\"1597026383085\"}]}"),
                     SP_OK);
    assert_int_equal(f->ev[0].qty, 55555000000LL);
    assert_int_equal(okx(f, "{\"arg\":{\"channel\":\"mark-price\",\"instId\":\"LTC-USD-SWAP\"},"
                            "\"data\":[{\"instType\":\"SWAP\",\"instId\":\"LTC-USD-SWAP\","
                            "\"markPx\":\"0.1\",\"ts\":\"1597026383085\"}]}"),
                     SP_OK);
    assert_int_equal(f->ev[0].kind, SP_EV_MARK);
    assert_int_equal(okx(f, "{\"event\":\"subscribe\",\"arg\":{\"channel\":\"trades\"},"
                            "\"connId\":\"a4d3ae55\"}"),
                     SP_OK);
    assert_int_equal(f->n, 0);
    assert_int_equal(okx(f, "{\"arg\":{\"channel\":\"candle1m\",\"instId\":\"X\"},\"data\":[]}"),
                     SP_EUNKNOWN_KIND);
}

/* The decoders allocate nothing per message once the symbol is known. */
static void test_zero_alloc_per_message(void **state)
{
    fx *f = *state;
    assert_int_equal(bws(f, FORCE), SP_OK); /* interns BTCUSDT */
    sp_testalloc_install(0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(bws(f, FORCE), SP_OK);
    assert_int_equal(sp_testalloc_calls(), 0);
    sp_testalloc_uninstall();
}

static sp_err new_bybit_ctx(void *ctx)
{
    (void)ctx;
    sp_feed_bybit *c = NULL;
    sp_err rc = sp_feed_bybit_new(true, &c);
    sp_feed_bybit_free(c);
    return rc;
}

/* Collects events from the file decoders. */
typedef struct got {
    sp_event ev[16];
    size_t n, rejects;
    sp_diag last;
} got;

static sp_err got_events(void *ctx, const sp_event *ev, size_t n)
{
    got *g = ctx;
    for (size_t i = 0; i < n && g->n < 16; i++)
        g->ev[g->n++] = ev[i];
    return SP_OK;
}

static void got_reject(void *ctx, const sp_diag *why)
{
    got *g = ctx;
    g->rejects++;
    g->last = *why;
}

static void decode_text(fx *f, got *g, const char *name, const char *text)
{
    memset(g, 0, sizeof(*g));
    sp_feed_sink s = {got_events, got_reject, g};
    assert_int_equal(sp_feed_decode_mem(text, strlen(text), name, NULL, f->syms, &s, &f->d), SP_OK);
}

/* data.binance.vision dumps with no file in data/: rows in the documented layouts. */
static void test_binance_dump_rows(void **state)
{
    fx *f = *state;
    got g;
    decode_text(f, &g, "BTCUSDT-aggTrades-2026-02-06.csv",
                "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,"
                "is_buyer_maker\n"
                "3000000000,65000.1,0.012,6000000000,6000000002,1770336000123,true\n"
                "3000000001,65000.2,1.5,6000000003,6000000003,1770336000124,false\n"
                "3000000002,65000.2,1.5,6000000003,6000000003,1770336000124,maybe\n");
    assert_int_equal(g.n, 2);
    assert_int_equal(g.rejects, 1);
    assert_string_equal(g.last.field, "is_buyer_maker");
    assert_int_equal(g.last.line, 4);
    assert_int_equal(g.ev[0].kind, SP_EV_TRADE);
    assert_int_equal(g.ev[0].px, 6500010000000LL);
    assert_int_equal(g.ev[0].qty, 1200000);
    assert_int_equal(g.ev[0].aux[2], 6000000002LL);
    assert_int_equal(g.ev[0].flags, SP_EVF_MAKER | SP_EVF_SELL);
    assert_int_equal(g.ev[0].exch_ts_ns, 1770336000123000000LL);
    assert_string_equal(symname(f, g.ev[0].symbol_id), "BTCUSDT");

    decode_text(f, &g, "ETHUSDT-trades-2026-02-06.csv",
                "id,price,qty,quote_qty,time,is_buyer_maker\n"
                "5000,1923.06,0.5,961.53,1770336000000,false\n");
    assert_int_equal(g.n, 1);
    assert_int_equal(g.ev[0].aux[0], 5000);
    assert_int_equal(g.ev[0].flags, 0);

    decode_text(f, &g, "BTCUSDT-bookDepth-2026-02-06.csv",
                "timestamp,percentage,depth,notional\n"
                "2026-02-06 00:00:08,-1.00,1234.567,80000000.12\n"
                "2026-02-06 00:00:08,1.00,999.5,65000000\n");
    assert_int_equal(g.n, 2);
    assert_int_equal(g.ev[0].kind, SP_EV_BOOK_LEVEL);
    assert_int_equal(g.ev[0].sub, 1);
    assert_int_equal(g.ev[0].px, -100000000);
    assert_int_equal(g.ev[0].flags, SP_EVF_SNAPSHOT | SP_EVF_DERIVED);
    assert_int_equal(g.ev[1].flags, SP_EVF_SNAPSHOT | SP_EVF_DERIVED | SP_EVF_SELL);
    assert_int_equal(g.ev[0].aux[0], 8000000012000000LL);

    decode_text(f, &g, "BTCUSDT-metrics-2026-02-06.csv",
                "create_time,symbol,sum_open_interest,sum_open_interest_value,"
                "count_toptrader_long_short_ratio,sum_toptrader_long_short_ratio,"
                "count_long_short_ratio,sum_taker_long_short_vol_ratio\n"
                "2026-02-06 00:05:00,BTCUSDT,80000.123,5200000000.5,1.25,1.5,2.0,0.85\n");
    assert_int_equal(g.n, 5);
    assert_int_equal(g.ev[0].kind, SP_EV_OPEN_INTEREST);
    assert_int_equal(g.ev[0].qty, 8000012300000LL);
    assert_int_equal(g.ev[1].kind, SP_EV_LONG_SHORT);
    assert_int_equal(g.ev[1].sub, 1);
    assert_int_equal(g.ev[1].px, 1250000000000LL);
    assert_int_equal(g.ev[4].sub, 4);

    /* klines without a header (the older dumps), interval from the name */
    decode_text(f, &g, "BTCUSDT-5m-2021-01.csv",
                "1609459200000,28923.63,29031.34,28690.17,28995.13,2311.811,1609459499999,"
                "66768830.34,58389,1215.359,35103722.87,0\n");
    assert_int_equal(g.n, 1);
    assert_int_equal(g.ev[0].kind, SP_EV_KLINE);
    assert_int_equal(g.ev[0].sub, 3); /* 5m */
    assert_int_equal(g.rejects, 0);
}

/* Decoding a small Bybit stream and a CSV from memory: every allocation failure is SP_ENOMEM. */
static sp_err decode_small(void *ctx)
{
    (void)ctx;
    static const char bybit[] =
        "{\"topic\":\"tickers.BTCUSDT\",\"type\":\"snapshot\",\"data\":{\"symbol\":"
        "\"BTCUSDT\",\"markPrice\":\"1\",\"bid1Price\":\"1\",\"bid1Size\":\"1\","
        "\"ask1Price\":\"2\",\"ask1Size\":\"1\"},\"cs\":1,\"ts\":1}\n"
        "{\"topic\":\"publicTrade.ETHUSDT\",\"type\":\"snapshot\",\"ts\":1,\"data\":[{"
        "\"T\":1,\"s\":\"ETHUSDT\",\"S\":\"Buy\",\"v\":\"1\",\"p\":\"2\"}]}\n";
    static const char csv[] = "calc_time,funding_interval_hours,last_funding_rate\n"
                              "1577836800000,8,-0.00012359\n";
    sp_symtab *syms = NULL;
    sp_err rc = sp_symtab_new(&syms);
    if (rc != SP_OK)
        return rc;
    sp_diag d;
    rc = sp_feed_decode_mem(bybit, sizeof(bybit) - 1, "x.jsonl", "bybit-jsonl", syms, NULL, &d);
    if (rc == SP_OK)
        rc = sp_feed_decode_mem(csv, sizeof(csv) - 1, "BTCUSDT-fundingRate-2020-01.csv", NULL, syms,
                                NULL, &d);
    if (rc == SP_OK && sp_symtab_count(syms) != 2)
        rc = SP_EINVAL;
    sp_symtab_free(syms);
    return rc;
}

static void test_decode_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(decode_small, NULL, 200) >= 4);
}

static void test_bybit_ctx_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(new_bybit_ctx, NULL, 10) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_binance_force_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binance_force_order_arr_wrapper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binance_agg_trade_and_trade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binance_depth_mark_ticker_kline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binance_strictness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bybit_liquidation_side_trap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bybit_trade_ids_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bybit_tickers_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_okx_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_alloc_per_message, setup, teardown),
        cmocka_unit_test(test_bybit_ctx_enomem),
        cmocka_unit_test(test_decode_enomem),
        cmocka_unit_test_setup_teardown(test_binance_dump_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
