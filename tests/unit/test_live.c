/*
 * test_live.c -- the pieces of the live connectors that need no network:
 * the endpoints config (the shipped data/live/endpoints.json and broken
 * variants, each refused with the right code and field), stream-name
 * templates, the deterministic reconnect backoff, the replay server's
 * fault grammar, capture files it refuses, and allocation failure in the
 * constructors (connector and replay server).
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
#include "testharness.h"

static void test_shipped_config(void **state)
{
    (void)state;
    sp_live_config c;
    sp_diag d;
    assert_int_equal(sp_live_config_load(sp_test_path("data/live/endpoints.json"), &c, &d), SP_OK);
    assert_int_equal(c.nvenues, 3);
    const sp_live_venue_cfg *b = sp_live_config_venue(&c, SP_VENUE_BINANCE_UM);
    assert_non_null(b);
    assert_string_equal(b->ws_url, "wss://fstream.binance.com/stream");
    assert_string_equal(b->rest_url, "https://fapi.binance.com");
    assert_int_equal(b->max_streams, 200);
    assert_string_equal(b->stream[SP_LIVE_DEPTH], "{sym}@depth@100ms");
    const sp_live_venue_cfg *y = sp_live_config_venue(&c, SP_VENUE_BYBIT);
    assert_non_null(y);
    assert_int_equal(y->ping_s, 20);
    const sp_live_venue_cfg *o = sp_live_config_venue(&c, SP_VENUE_OKX);
    assert_non_null(o);
    assert_true(o->ping_s > 0 && o->ping_s < 30);
    assert_null(sp_live_config_venue(&c, SP_VENUE_BITMEX));
}

static void bad(const char *text, sp_err want, const char *field)
{
    sp_live_config c;
    sp_diag d;
    assert_int_equal(sp_live_config_parse(text, strlen(text), "t", &c, &d), want);
    assert_int_equal(d.code, want);
    if (field)
        assert_string_equal(d.field, field);
}

static void test_bad_configs(void **state)
{
    (void)state;
    bad("{", SP_EPARSE, NULL);
    bad("[]", SP_EPARSE, NULL);
    bad("{\"venues\":3}", SP_EPARSE, "venues");
    bad("{\"venues\":{\"kraken\":{\"ws\":\"wss://x\"}}}", SP_EUNKNOWN_KIND, "venues");
    bad("{\"venues\":{\"binance\":{\"ws\":\"http://x\"}}}", SP_EINVAL, "ws");
    bad("{\"venues\":{\"binance\":{\"ws\":7}}}", SP_EPARSE, "ws");
    bad("{\"max_frame\":1,\"venues\":{}}", SP_ERANGE, "max_frame");
    bad("{\"max_frame\":-5,\"venues\":{}}", SP_ERANGE, "max_frame");
    bad("{\"backoff_min_ms\":500,\"backoff_max_ms\":100,\"venues\":{}}", SP_ERANGE,
        "backoff_max_ms");
    bad("{\"venues\":{\"binance\":{\"ws\":\"wss://x\",\"streams\":{\"book\":\"x\"}}}}",
        SP_EUNKNOWN_KIND, "book");
    char big[600];
    snprintf(big, sizeof(big), "{\"venues\":{\"binance\":{\"ws\":\"wss://%0300d\"}}}", 0);
    bad(big, SP_ETOOBIG, "ws");
    /* duplicate keys are refused by the JSON reader, not silently merged */
    bad("{\"venues\":{\"binance\":{\"ws\":\"wss://a\"},\"binance\":{\"ws\":\"wss://b\"}}}",
        SP_EPARSE, NULL);
}

static void test_expand(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(sp_live_expand("{sym}@depth@100ms", "BTCUSDT", out, sizeof(out)), SP_OK);
    assert_string_equal(out, "btcusdt@depth@100ms");
    assert_int_equal(sp_live_expand("orderbook.200.{SYM}", "ethusdt", out, sizeof(out)), SP_OK);
    assert_string_equal(out, "orderbook.200.ETHUSDT");
    assert_int_equal(sp_live_expand("trades:{inst}", "BTCUSDT", out, sizeof(out)), SP_OK);
    assert_string_equal(out, "trades:BTC-USDT-SWAP");
    assert_int_equal(sp_live_expand("books:{inst}", "ETHUSDC", out, sizeof(out)), SP_OK);
    assert_string_equal(out, "books:ETH-USDC-SWAP");
    assert_int_equal(sp_live_expand("trades:{inst}", "BTCEUR", out, sizeof(out)), SP_EINVAL);
    assert_int_equal(sp_live_expand("{what}", "BTCUSDT", out, sizeof(out)), SP_EINVAL);
    assert_int_equal(sp_live_expand("{sym", "BTCUSDT", out, sizeof(out)), SP_EINVAL);
    assert_int_equal(sp_live_expand("{sym}@aggTrade", "BTCUSDT", out, 8), SP_ETOOBIG);
}

static void test_backoff(void **state)
{
    (void)state;
    sp_live_config c;
    memset(&c, 0, sizeof(c));
    c.backoff_min_ms = 100;
    c.backoff_max_ms = 1000;
    sp_rng r1, r2;
    sp_rng_seed(&r1, 7);
    sp_rng_seed(&r2, 7);
    uint64_t prev_base = 0;
    for (unsigned a = 1; a <= 12; a++) {
        uint64_t base = 100;
        for (unsigned i = 1; i < a && base < 1000; i++)
            base *= 2;
        if (base > 1000)
            base = 1000;
        uint64_t x = sp_live_backoff_ms(&c, a, &r1);
        /* same seed, same delays: tests are deterministic */
        assert_int_equal(x, sp_live_backoff_ms(&c, a, &r2));
        assert_true(x >= base / 2 && x <= base);
        assert_true(base >= prev_base);
        prev_base = base;
    }
    /* jitter: 200 draws at the ceiling are not all equal */
    uint64_t first = sp_live_backoff_ms(&c, 20, &r1), differ = 0;
    for (int i = 0; i < 200; i++)
        differ += sp_live_backoff_ms(&c, 20, &r1) != first;
    assert_true(differ > 0);
}

static void test_faults(void **state)
{
    (void)state;
    sp_fault f[SP_LIVE_FAULTS_MAX];
    size_t n;
    sp_diag d;
    assert_int_equal(sp_fault_parse("drop@500,malformed@100,gap@300,stall@700:2s,oversize@800,"
                                    "burst@900:5000,stall@10:250ms,gap@5:7,oversize@3:4096",
                                    f, SP_LIVE_FAULTS_MAX, &n, &d),
                     SP_OK);
    assert_int_equal(n, 9);
    assert_int_equal(f[0].kind, SP_FAULT_DROP);
    assert_int_equal(f[0].at, 500);
    assert_int_equal(f[1].kind, SP_FAULT_MALFORMED);
    assert_int_equal(f[2].kind, SP_FAULT_GAP);
    assert_int_equal(f[2].arg, 1);
    assert_int_equal(f[3].kind, SP_FAULT_STALL);
    assert_int_equal(f[3].arg, 2000);
    assert_int_equal(f[4].arg, 2u << 20);
    assert_int_equal(f[5].arg, 5000);
    assert_int_equal(f[6].arg, 250);
    assert_int_equal(f[7].arg, 7);
    assert_int_equal(f[8].arg, 4096);
    assert_int_equal(sp_fault_parse("", f, SP_LIVE_FAULTS_MAX, &n, &d), SP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sp_fault_parse("explode@3", f, SP_LIVE_FAULTS_MAX, &n, &d), SP_EPARSE);
    assert_int_equal(d.column, 1);
    assert_int_equal(sp_fault_parse("drop@1,gap@x", f, SP_LIVE_FAULTS_MAX, &n, &d), SP_ERANGE);
    assert_int_equal(d.column, 8);
    assert_int_equal(sp_fault_parse("drop@0", f, SP_LIVE_FAULTS_MAX, &n, &d), SP_ERANGE);
    assert_int_equal(sp_fault_parse("stall@5", f, SP_LIVE_FAULTS_MAX, &n, &d), SP_EPARSE);
    assert_int_equal(sp_fault_parse("drop@5;gap@6", f, SP_LIVE_FAULTS_MAX, &n, &d), SP_EPARSE);
    assert_int_equal(sp_fault_parse("drop@99999999999999999999", f, SP_LIVE_FAULTS_MAX, &n, &d),
                     SP_ERANGE);
    assert_int_equal(sp_fault_parse("drop@1,drop@2,drop@3", f, 2, &n, &d), SP_ETOOBIG);
}

static void test_stream_names(void **state)
{
    (void)state;
    for (unsigned s = 0; s < SP_LIVE_STREAM_COUNT_; s++)
        assert_int_equal(sp_live_stream_from_name(sp_live_stream_name(s)), (int)s);
    assert_int_equal(sp_live_stream_from_name("orderbook"), -1);
    assert_null(sp_live_stream_name(SP_LIVE_STREAM_COUNT_));
}

/* ---- constructors under allocation failure ------------------------------- */

static const char cfg_text[] =
    "{\"venues\":{\"binance\":{\"ws\":\"ws://127.0.0.1:9/stream\",\"rest\":\"http://127.0.0.1:9\","
    "\"streams\":{\"trades\":\"{sym}@aggTrade\",\"depth\":\"{sym}@depth@100ms\"}},"
    "\"bybit\":{\"ws\":\"ws://127.0.0.1:9/v5/public/linear\",\"ping_s\":20,"
    "\"streams\":{\"depth\":\"orderbook.200.{SYM}\"}},"
    "\"okx\":{\"ws\":\"ws://127.0.0.1:9/ws/v5/public\",\"streams\":{\"liquidations\":"
    "\"liquidation-orders:SWAP\",\"trades\":\"trades:{inst}\"}}}}";

static sp_err parse_step(void *ctx)
{
    (void)ctx;
    sp_live_config c;
    return sp_live_config_parse(cfg_text, strlen(cfg_text), "t", &c, NULL);
}

static sp_err new_step(void *ctx)
{
    const sp_live_config *c = ctx;
    sp_symtab *syms;
    sp_err rc = sp_symtab_new(&syms);
    if (rc != SP_OK)
        return rc;
    sp_venue v[3] = {SP_VENUE_BINANCE_UM, SP_VENUE_BYBIT, SP_VENUE_OKX};
    const char *s[2] = {"BTCUSDT", "ETHUSDT"};
    sp_live_opts o = sp_test_live_opts(v, 3, s, 2);
    sp_live *lv;
    rc = sp_live_new(c, &o, syms, NULL, &lv, NULL);
    if (rc == SP_OK) {
        sp_live_stats st = sp_live_stats_get(lv);
        assert_int_equal(st.connections, 3);
        sp_live_free(lv);
    }
    sp_symtab_free(syms);
    return rc;
}

static void test_enomem(void **state)
{
    (void)state;
    sp_live_config c;
    assert_int_equal(sp_live_config_parse(cfg_text, strlen(cfg_text), "t", &c, NULL), SP_OK);
    assert_true(sp_test_enomem_loop(new_step, &c, 500) > 5);
    /* parsing allocates only inside jansson (libc): one clean step */
    assert_int_equal(sp_test_enomem_loop(parse_step, NULL, 50), 1);
}

static sp_err server_step(void *ctx)
{
    const char *const *caps = ctx;
    sp_replay_opts o = sp_test_replay_opts(caps, 2);
    sp_replay_server *s;
    sp_err rc = sp_replay_server_new(&o, &s, NULL);
    if (rc == SP_OK) {
        assert_true(sp_replay_server_port(s) > 0);
        sp_replay_server_free(s);
    }
    return rc;
}

/* The replay server's loader (OKX JSONL + Binance REST capture) under allocation failure. */
static void test_server_enomem(void **state)
{
    (void)state;
    char okx[4096], rest[4096];
    snprintf(okx, sizeof(okx), "%s", sp_test_path("tests/data/live/okx_public.jsonl"));
    snprintf(rest, sizeof(rest), "%s",
             sp_test_path("data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.http.0.0.txt"));
    const char *caps[2] = {okx, rest};
    assert_true(sp_test_enomem_loop(server_step, caps, 2000) > 10);
}

static void test_server_refuses(void **state)
{
    (void)state;
    const char *caps[1] = {sp_test_path("data/live/endpoints.json")};
    sp_replay_opts o = sp_test_replay_opts(caps, 1);
    sp_replay_server *s;
    sp_diag d;
    assert_int_equal(sp_replay_server_new(&o, &s, &d), SP_EPARSE);
    assert_non_null(strstr(d.msg, "not a capture"));
    caps[0] = "/nonexistent/capture.txt";
    assert_int_equal(sp_replay_server_new(&o, &s, &d), SP_EIO);
    o.ncaptures = 0;
    assert_int_equal(sp_replay_server_new(&o, &s, &d), SP_EINVAL);
}

static void test_new_refuses(void **state)
{
    (void)state;
    sp_live_config c;
    assert_int_equal(sp_live_config_parse(cfg_text, strlen(cfg_text), "t", &c, NULL), SP_OK);
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    sp_venue v[1] = {SP_VENUE_BITMEX};
    const char *s[1] = {"BTCUSDT"};
    sp_live_opts o = sp_test_live_opts(v, 1, s, 1);
    sp_live *lv;
    sp_diag d;
    assert_int_equal(sp_live_new(&c, &o, syms, NULL, &lv, &d), SP_EINVAL);
    assert_non_null(strstr(d.msg, "not in the configuration"));
    v[0] = SP_VENUE_OKX;
    const char *bad[1] = {"BTCEUR"}; /* no OKX swap */
    o.symbols = bad;
    assert_int_equal(sp_live_new(&c, &o, syms, NULL, &lv, &d), SP_EINVAL);
    v[0] = SP_VENUE_BYBIT;
    o.symbols = s;
    o.streams = 1u << SP_LIVE_KLINE; /* not configured for bybit here */
    assert_int_equal(sp_live_new(&c, &o, syms, NULL, &lv, &d), SP_EINVAL);
    assert_non_null(strstr(d.msg, "nothing to subscribe"));
    sp_symtab_free(syms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_config), cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_expand),         cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_faults),         cmocka_unit_test(test_stream_names),
        cmocka_unit_test(test_enomem),         cmocka_unit_test(test_new_refuses),
        cmocka_unit_test(test_server_enomem),  cmocka_unit_test(test_server_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
