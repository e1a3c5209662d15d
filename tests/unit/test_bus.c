/*
 * test_bus.c -- the bus wire codec (src/bus/wire.c) and the transport's
 * behaviour without a server.
 *
 * Round trips (with and without symbol, 1 and SP_BUS_BATCH_MAX events,
 * every field at its extremes), refusal of every malformed batch: every
 * single-bit flip of a valid message, every truncation, trailing bytes,
 * wrong record kind/venue/flags/symbol id, each named by field and byte
 * offset; subjects; the order-independent digest.  The JetStream paths run
 * against real servers in tests/integration/test_bus_*.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/stampede.h"
#include "testalloc.h"
#include <zlib.h>

/* A deterministic trade with every field used (extremes included). */
static sp_event trade(uint32_t i)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    e.kind = SP_EV_TRADE;
    e.venue = SP_VENUE_BINANCE_UM;
    e.flags = (uint8_t)((i & 1) ? SP_EVF_SELL : SP_EVF_MAKER);
    e.symbol_id = 7;
    e.exch_ts_ns = 1770336000000000000LL + (int64_t)i * 1000;
    e.local_ts_ns = i == 0 ? INT64_MAX : -1;
    e.px = 6250000000000LL + i;
    e.qty = i == 1 ? INT64_MIN : 100000;
    e.aux[0] = (int64_t)i + 1;
    e.aux[1] = -(int64_t)i;
    e.aux[2] = INT64_MAX - i;
    return e;
}

static unsigned char buf[SP_BUS_BATCH_BYTES(SP_SYMBOL_MAX, SP_BUS_BATCH_MAX)];
static sp_event in[SP_BUS_BATCH_MAX], out[SP_BUS_BATCH_MAX];

static size_t encode_n(size_t n, const char *sym)
{
    for (size_t i = 0; i < n; i++)
        in[i] = trade((uint32_t)i);
    size_t len = 0;
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_bus_encode(in, n, sym, 0x1122334455667788ull, buf, sizeof(buf), &len, &d),
                     SP_OK);
    assert_int_equal(len, SP_BUS_BATCH_BYTES(sym ? strlen(sym) : 0, n));
    return len;
}

static void test_roundtrip(void **state)
{
    (void)state;
    const char *syms[] = {"BTCUSDT", NULL, "ETF:IBIT", "A", "0123456789012345678901234567890"};
    size_t ns[] = {1, 2, 100, SP_BUS_BATCH_MAX};
    for (size_t s = 0; s < sizeof(syms) / sizeof(syms[0]); s++)
        for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
            size_t len = encode_n(ns[k], syms[s]);
            sp_bus_batch b;
            sp_diag d;
            sp_diag_clear(&d);
            assert_int_equal(sp_bus_decode(buf, len, 42, out, SP_BUS_BATCH_MAX, &b, &d), SP_OK);
            assert_int_equal(b.count, ns[k]);
            assert_int_equal(b.venue, SP_VENUE_BINANCE_UM);
            assert_int_equal(b.kind, SP_EV_TRADE);
            assert_true(b.batch_id == 0x1122334455667788ull);
            assert_string_equal(b.symbol, syms[s] ? syms[s] : "");
            for (size_t i = 0; i < ns[k]; i++) {
                sp_event want = in[i];
                want.symbol_id = syms[s] ? 42 : 0;
                assert_memory_equal(&out[i], &want, sizeof(want));
            }
        }
}

static void test_encode_refuses(void **state)
{
    (void)state;
    for (size_t i = 0; i < 4; i++)
        in[i] = trade((uint32_t)i);
    size_t len;
    sp_diag d;
    assert_int_equal(sp_bus_encode(in, 0, "X", 0, buf, sizeof(buf), &len, &d), SP_EINVAL);
    assert_int_equal(sp_bus_encode(in, SP_BUS_BATCH_MAX + 1, "X", 0, buf, sizeof(buf), &len, &d),
                     SP_EINVAL);
    assert_int_equal(sp_bus_encode(in, 4, "BAD SYM", 0, buf, sizeof(buf), &len, &d), SP_EINVAL);
    assert_int_equal(
        sp_bus_encode(in, 4, "01234567890123456789012345678901", 0, buf, sizeof(buf), &len, &d),
        SP_EINVAL);
    assert_int_equal(sp_bus_encode(in, 4, "X", 0, buf, SP_BUS_BATCH_BYTES(1, 4) - 1, &len, &d),
                     SP_ETOOBIG);
    in[2].kind = SP_EV_LIQUIDATION;
    assert_int_equal(sp_bus_encode(in, 4, "X", 0, buf, sizeof(buf), &len, &d), SP_EINVAL);
    assert_non_null(strstr(d.msg, "event 2"));
    in[2] = trade(2);
    in[0].venue = 200;
    in[1].venue = 200;
    assert_int_equal(sp_bus_encode(in, 1, "X", 0, buf, sizeof(buf), &len, &d), SP_EINVAL);
}

/* Every single-bit flip of a valid 3-event message is refused (CRC covers header and body). */
static void test_every_bit_flip_refused(void **state)
{
    (void)state;
    size_t len = encode_n(3, "BTCUSDT");
    sp_bus_batch b;
    for (size_t byte = 0; byte < len; byte++)
        for (int bit = 0; bit < 8; bit++) {
            buf[byte] ^= (unsigned char)(1u << bit);
            sp_diag d;
            sp_diag_clear(&d);
            sp_err rc = sp_bus_decode(buf, len, 1, out, SP_BUS_BATCH_MAX, &b, &d);
            assert_true(rc == SP_EPARSE || rc == SP_ETRUNCATED);
            assert_true(d.msg[0] != '\0');
            assert_true(d.field[0] != '\0');
            assert_true(d.offset <= len);
            buf[byte] ^= (unsigned char)(1u << bit);
        }
    assert_int_equal(sp_bus_decode(buf, len, 1, out, SP_BUS_BATCH_MAX, &b, NULL), SP_OK);
}

static void test_truncated_and_trailing(void **state)
{
    (void)state;
    size_t len = encode_n(5, "ETHUSDT");
    sp_bus_batch b;
    for (size_t n = 0; n < len; n++) {
        sp_diag d;
        sp_diag_clear(&d);
        sp_err rc = sp_bus_decode(buf, n, 1, out, SP_BUS_BATCH_MAX, &b, &d);
        assert_int_equal(rc, SP_ETRUNCATED);
        assert_int_equal(d.offset, n);
    }
    sp_diag d;
    sp_diag_clear(&d);
    buf[len] = 0;
    assert_int_equal(sp_bus_decode(buf, len + 1, 1, out, SP_BUS_BATCH_MAX, &b, &d), SP_EPARSE);
    assert_string_equal(d.field, "length");
    assert_int_equal(d.offset, len);
    /* a caller buffer smaller than the batch */
    assert_int_equal(sp_bus_decode(buf, len, 1, out, 4, &b, &d), SP_ETOOBIG);
}

/* Re-encode with one record changed behind the encoder's back, fix the CRC, expect the field. */
static void expect_record_refused(size_t rec, size_t off, unsigned char v, const char *field)
{
    size_t len = encode_n(3, "BTCUSDT");
    size_t at = SP_BUS_BATCH_BYTES(7, 0) + 64 * rec + off;
    buf[at] = v;
    /* recompute the CRC the way the encoder does, so only the record check can object */
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, buf, 24);
    c = crc32(c, buf + SP_BUS_HEADER_SIZE, (uInt)(len - SP_BUS_HEADER_SIZE));
    for (int i = 0; i < 4; i++)
        buf[24 + i] = (unsigned char)(c >> (8 * i));
    sp_bus_batch b;
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_bus_decode(buf, len, 1, out, SP_BUS_BATCH_MAX, &b, &d), SP_EPARSE);
    assert_string_equal(d.field, field);
    assert_int_equal(d.offset, at);
}

static void test_record_checks(void **state)
{
    (void)state;
    expect_record_refused(1, 0, SP_EV_FUNDING, "kind");
    expect_record_refused(2, 1, SP_VENUE_OKX, "venue");
    expect_record_refused(0, 3, 0x80, "flags");
    expect_record_refused(1, 4, 2, "symbol_id");
}

static void test_garbage(void **state)
{
    (void)state;
    const char *texts[] = {"", "hello", "{\"e\":\"trade\"}", "SPEV\x01\x00\x20\x00\x01\x00\x00\x00",
                           "not an sp_event at all, "
                           "just some longer text"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        sp_bus_batch b;
        sp_diag d;
        sp_diag_clear(&d);
        sp_err rc = sp_bus_decode(texts[i], strlen(texts[i]), 1, out, SP_BUS_BATCH_MAX, &b, &d);
        assert_true(rc == SP_EPARSE || rc == SP_ETRUNCATED);
        assert_true(d.msg[0] != '\0');
    }
}

static void test_subject(void **state)
{
    (void)state;
    char s[SP_BUS_SUBJECT_MAX];
    sp_bus_subject(SP_VENUE_BINANCE_UM, SP_EV_TRADE, "BTCUSDT", s);
    assert_string_equal(s, "ev.binance.trade.BTCUSDT");
    sp_bus_subject(SP_VENUE_EXTERNAL, SP_EV_SERIES, "^NDX.x *>", s);
    assert_string_equal(s, "ev.external.series._NDX_x___");
    sp_bus_subject(SP_VENUE_BYBIT, SP_EV_LIQUIDATION, NULL, s);
    assert_string_equal(s, "ev.bybit.liquidation._");
    sp_bus_subject(SP_VENUE_SIM, SP_EV_LIQ_ENGINE, "0123456789012345678901234567890", s);
    assert_string_equal(s, "ev.sim.liquidation_engine.0123456789012345678901234567890");
}

static void test_digest(void **state)
{
    (void)state;
    uint64_t a = 0, b = 0;
    for (uint32_t i = 0; i < 100; i++) {
        sp_event e = trade(i);
        a = sp_bus_digest_add(a, &e, "BTCUSDT");
        sp_event f = trade(99 - i);
        f.symbol_id = 3; /* another table's id: the name is what counts */
        b = sp_bus_digest_add(b, &f, "BTCUSDT");
    }
    assert_true(a == b);
    sp_event e = trade(5);
    uint64_t c = sp_bus_digest_add(0, &e, "BTCUSDT");
    e.aux[2] ^= 1;
    assert_true(sp_bus_digest_add(0, &e, "BTCUSDT") != c);
    e = trade(5);
    assert_true(sp_bus_digest_add(0, &e, "ETHUSDT") != c);
    /* a duplicated event changes the digest: exactly-once is checked, not just at-least-once */
    assert_true(sp_bus_digest_add(c, &e, "BTCUSDT") != c);
}

/* Without a server: open answers SP_ECONN (NATS build) or SP_EUNSUPPORTED, cleanly, no leak. */
static void test_open_without_server(void **state)
{
    (void)state;
    sp_bus_opts o = sp_bus_opts_default();
    o.timeout_ms = 500;
    sp_bus *b = (sp_bus *)1;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = sp_bus_open("nats://127.0.0.1:1", &o, &b, &d);
    assert_null(b);
    assert_true(d.msg[0] != '\0');
    if (sp_bus_is_available())
        assert_int_equal(rc, SP_ECONN);
    else
        assert_int_equal(rc, SP_EUNSUPPORTED);
    o.batch_events = 0;
    rc = sp_bus_open("nats://127.0.0.1:1", &o, &b, &d);
    assert_int_equal(rc, sp_bus_is_available() ? SP_EINVAL : SP_EUNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_every_bit_flip_refused),
        cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_record_checks),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_subject),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_open_without_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
