/*
 * test_feed_fast.c -- the boundary between the fixed-layout fast path of
 * the Binance decoder (src/feed/binance_fast.c) and the general decoder
 * (binance_ws.c).  For every message below, sp_feed_binance_ws (fast path
 * first) and sp__binance_ws_general (the general decoder alone, each with
 * its own symbol table) must agree exactly: return code, events byte for
 * byte, and on failure the whole diagnostic (code, message, column,
 * field).  Messages in Binance's documented layout must take the fast
 * path; reordered, duplicate and extra keys, escapes, whitespace and odd
 * numbers must fall back, with nothing interned by the fast path.
 * Mutations: every truncation and a set of byte substitutions at every
 * position of the two templates, and random values and mutations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feed/feed_int.h"
#include "stampede/stampede.h"
#include "testalloc.h"

#define CAP 8

static const char *AGG =
    "{\"e\":\"aggTrade\",\"E\":1770336000002,\"a\":2800000000,\"s\":\"BTCUSDT\","
    "\"p\":\"64000.1\",\"q\":\"0.012\",\"f\":6900000000,\"l\":6900000002,"
    "\"T\":1770336000000,\"m\":true}";

static const char *FORCE =
    "{\"e\":\"forceOrder\",\"E\":1568014460893,\"o\":{\"s\":\"BTCUSDT\",\"S\":\"SELL\","
    "\"o\":\"LIMIT\",\"f\":\"IOC\",\"q\":\"0.014\",\"p\":\"9910\",\"ap\":\"9910.12\","
    "\"X\":\"FILLED\",\"l\":\"0.014\",\"z\":\"0.014\",\"T\":1568014460893}}";

/* Did the fast path decide this message?  (Its own symbol table, then discarded.) */
static bool fast_takes(const char *msg, size_t n)
{
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    sp_event ev[CAP];
    size_t got = 0;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = SP_OK;
    bool took = sp__binance_ws_fast(msg, n, 5, syms, ev, CAP, &got, &d, &rc);
    if (!took) {
        assert_int_equal(got, 0);
        assert_int_equal(sp_symtab_count(syms), 0); /* a fallback leaves no trace */
    }
    sp_symtab_free(syms);
    return took;
}

/* Both paths on msg[0..n) with room for cap events: identical outcomes. Returns the code. */
static sp_err agree_cap(const char *msg, size_t n, size_t cap)
{
    sp_symtab *s1, *s2;
    assert_int_equal(sp_symtab_new(&s1), SP_OK);
    assert_int_equal(sp_symtab_new(&s2), SP_OK);
    sp_event e1[CAP], e2[CAP];
    memset(e1, 0, sizeof(e1));
    memset(e2, 0, sizeof(e2));
    size_t n1 = 99, n2 = 99;
    sp_diag d1, d2;
    sp_diag_clear(&d1);
    sp_diag_clear(&d2);
    sp_err r1 = sp_feed_binance_ws(msg, n, 5, s1, e1, cap, &n1, &d1);
    sp_err r2 = sp__binance_ws_general(msg, n, 5, s2, e2, cap, &n2, &d2);
    if (r1 != r2 || n1 != n2)
        fail_msg("paths disagree on \"%.*s\": %s/%zu vs %s/%zu (%s | %s)", (int)n, msg,
                 sp_errname(r1), n1, sp_errname(r2), n2, d1.msg, d2.msg);
    if (r1 == SP_OK) {
        assert_memory_equal(e1, e2, n1 * sizeof(sp_event));
        assert_int_equal(sp_symtab_count(s1), sp_symtab_count(s2));
    } else {
        assert_int_equal(d1.code, d2.code);
        assert_string_equal(d1.msg, d2.msg);
        assert_int_equal(d1.column, d2.column);
        assert_string_equal(d1.field, d2.field);
    }
    sp_symtab_free(s1);
    sp_symtab_free(s2);
    return r1;
}

static sp_err agree(const char *msg)
{
    return agree_cap(msg, strlen(msg), CAP);
}

static void test_documented_layout_is_fast(void **state)
{
    (void)state;
    char wrapped[512];
    assert_true(fast_takes(AGG, strlen(AGG)));
    assert_true(fast_takes(FORCE, strlen(FORCE)));
    assert_int_equal(agree(AGG), SP_OK);
    assert_int_equal(agree(FORCE), SP_OK);
    snprintf(wrapped, sizeof(wrapped), "{\"stream\":\"btcusdt@aggTrade\",\"data\":%s}", AGG);
    assert_true(fast_takes(wrapped, strlen(wrapped)));
    assert_int_equal(agree(wrapped), SP_OK);
    snprintf(wrapped, sizeof(wrapped), "{\"stream\":\"!forceOrder@arr\",\"data\":%s}", FORCE);
    assert_true(fast_takes(wrapped, strlen(wrapped)));
    assert_int_equal(agree(wrapped), SP_OK);

    /* the values the fast path produced, checked by hand once */
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    sp_event ev[CAP];
    size_t got;
    sp_diag d;
    assert_int_equal(sp_feed_binance_ws(FORCE, strlen(FORCE), 5, syms, ev, CAP, &got, &d), SP_OK);
    assert_int_equal(got, 1);
    assert_int_equal(ev[0].kind, SP_EV_LIQUIDATION);
    assert_int_equal(ev[0].flags, SP_EVF_SELL);
    assert_int_equal(ev[0].px, 991000000000LL);
    assert_int_equal(ev[0].qty, 1400000LL);
    assert_int_equal(ev[0].aux[0], 991012000000LL);
    /* 9910.12 x 0.014 = 138.74168 */
    assert_int_equal(ev[0].aux[2], 13874168000LL);
    assert_int_equal(ev[0].exch_ts_ns, 1568014460893LL * 1000000);
    assert_int_equal(ev[0].local_ts_ns, 5);
    assert_string_equal(sp_symtab_name(syms, ev[0].symbol_id), "BTCUSDT");
    assert_int_equal(sp_feed_binance_ws(AGG, strlen(AGG), 5, syms, ev, CAP, &got, &d), SP_OK);
    assert_int_equal(ev[0].kind, SP_EV_TRADE);
    assert_int_equal(ev[0].flags, SP_EVF_MAKER | SP_EVF_SELL);
    assert_int_equal(ev[0].px, 6400010000000LL);
    assert_int_equal(ev[0].qty, 1200000LL);
    assert_int_equal(ev[0].aux[0], 2800000000LL);
    assert_int_equal(ev[0].aux[1], 6900000000LL);
    assert_int_equal(ev[0].aux[2], 6900000002LL);
    assert_int_equal(sp_symtab_count(syms), 1);
    sp_symtab_free(syms);
}

/* Shapes the fast path must leave to the general decoder, which decodes or rejects them. */
static void test_surprises_fall_back(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        sp_err want;
    } cases[] = {
        /* reordered keys: decoded by the general path */
        {"{\"E\":1,\"e\":\"aggTrade\",\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_OK},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"q\":\"2\",\"p\":\"1.5\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_OK},
        /* an extra key (live forceOrder captures carry "ps" and "st") */
        {"{\"e\":\"forceOrder\",\"E\":1,\"o\":{\"s\":\"ETHUSDT\",\"S\":\"BUY\",\"o\":\"LIMIT\","
         "\"f\":\"IOC\",\"q\":\"1\",\"p\":\"2\",\"ap\":\"2\",\"X\":\"FILLED\",\"l\":\"1\","
         "\"z\":\"1\",\"T\":3,\"ps\":\"LONG\",\"st\":1}}",
         SP_OK},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false,\"M\":true}",
         SP_OK},
        /* a duplicate key: rejected by the general path */
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false,\"m\":true}",
         SP_EPARSE},
        {"{\"e\":\"forceOrder\",\"E\":1,\"o\":{\"s\":\"ETHUSDT\",\"S\":\"BUY\",\"o\":\"LIMIT\","
         "\"f\":\"IOC\",\"q\":\"1\",\"p\":\"2\",\"ap\":\"2\",\"X\":\"FILLED\",\"l\":\"1\","
         "\"z\":\"1\",\"T\":3},\"o\":{}}",
         SP_EPARSE},
        /* escapes in strings: allowed in ignored strings, not in the symbol */
        {"{\"e\":\"forceOrder\",\"E\":1,\"o\":{\"s\":\"ETHUSDT\",\"S\":\"BUY\",\"o\":"
         "\"LI\\u004dIT\","
         "\"f\":\"IOC\",\"q\":\"1\",\"p\":\"2\",\"ap\":\"2\",\"X\":\"FILLED\",\"l\":\"1\","
         "\"z\":\"1\",\"T\":3}}",
         SP_OK},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTC\\\"USDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_EPARSE},
        {"{\"stream\":\"a\\/b\",\"data\":{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\","
         "\"p\":\"1.5\",\"q\":\"2\",\"f\":3,\"l\":4,\"T\":5,\"m\":false}}",
         SP_OK},
        /* whitespace anywhere */
        {" {\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_OK},
        {"{\"e\":\"aggTrade\", \"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}\n",
         SP_OK},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false }",
         SP_OK},
        /* numbers the fast path does not convert */
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":-2,\"s\":\"BTCUSDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_OK},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":02,\"s\":\"BTCUSDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_EPARSE},
        {"{\"e\":\"aggTrade\",\"E\":1e3,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_OK},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"-1.5\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_ERANGE},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.123456789\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_EPRECISION},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.50000000000\","
         "\"q\":\"2\",\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_OK},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1.\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_EPARSE},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"10000000000\","
         "\"q\":\"2\",\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_OK},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":1234567890123456789,\"s\":\"BTCUSDT\",\"p\":\"1\","
         "\"q\":\"2\",\"f\":3,\"l\":4,\"T\":5,\"m\":false}",
         SP_OK},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":9223372036855,\"m\":false}",
         SP_ERANGE},
        /* values the general path rejects after a full match of the shape */
        {"{\"e\":\"forceOrder\",\"E\":1,\"o\":{\"s\":\"ETHUSDT\",\"S\":\"HOLD\",\"o\":\"LIMIT\","
         "\"f\":\"IOC\",\"q\":\"1\",\"p\":\"2\",\"ap\":\"2\",\"X\":\"FILLED\",\"l\":\"1\","
         "\"z\":\"1\",\"T\":3}}",
         SP_EPARSE},
        {"{\"e\":\"forceOrder\",\"E\":1,\"o\":{\"s\":\"ETHUSDT\",\"S\":\"BUY\",\"o\":\"LIMIT\","
         "\"f\":\"IOC\",\"q\":\"1\",\"p\":\"2\",\"ap\":\"9999999999\",\"X\":\"FILLED\","
         "\"l\":\"1\",\"z\":\"9999999999\",\"T\":3}}",
         SP_EOVERFLOW},
        /* trailing bytes, a missing member, another event type */
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5,\"m\":false}}",
         SP_EPARSE},
        {"{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTCUSDT\",\"p\":\"1\",\"q\":\"2\","
         "\"f\":3,\"l\":4,\"T\":5}",
         SP_ENOTFOUND},
        {"{\"e\":\"trade\",\"E\":1,\"T\":5,\"s\":\"BTCUSDT\",\"t\":2,\"p\":\"1\",\"q\":\"2\","
         "\"X\":\"MARKET\",\"m\":true}",
         SP_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *m = cases[i].msg;
        if (fast_takes(m, strlen(m)) && cases[i].want != SP_OK)
            fail_msg("case %zu: the fast path decided a message it must leave alone", i);
        sp_err rc = agree(m);
        if (rc != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, sp_errname(rc), sp_errname(cases[i].want));
    }
    /* no room for the event: the general path's SP_ETOOBIG */
    assert_int_equal(agree_cap(AGG, strlen(AGG), 0), SP_ETOOBIG);
    /* a name the symbol table refuses after a full match: the same error from both */
    const char *bad_sym = "{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"BTC USDT\",\"p\":\"1\","
                          "\"q\":\"2\",\"f\":3,\"l\":4,\"T\":5,\"m\":false}";
    assert_true(fast_takes(bad_sym, strlen(bad_sym)));
    assert_int_equal(agree(bad_sym), SP_EINVAL);
    const char *no_sym = "{\"e\":\"aggTrade\",\"E\":1,\"a\":2,\"s\":\"\",\"p\":\"1\","
                         "\"q\":\"2\",\"f\":3,\"l\":4,\"T\":5,\"m\":false}";
    assert_int_not_equal(agree(no_sym), SP_OK);
}

/* Every prefix, and each substitute byte at every position, of both templates (bare and wrapped).
 */
static void test_mutations_agree(void **state)
{
    (void)state;
    static const char subst[] = {' ', '"', '\\', '0', '9',    '-',    '.',    'e', '}',
                                 '{', ',', ':',  'x', '\x01', '\x7f', '\xc3', 't', '['};
    char base[4][512];
    snprintf(base[0], sizeof(base[0]), "%s", AGG);
    snprintf(base[1], sizeof(base[1]), "%s", FORCE);
    snprintf(base[2], sizeof(base[2]), "{\"stream\":\"s\",\"data\":%s}", AGG);
    snprintf(base[3], sizeof(base[3]), "{\"stream\":\"!forceOrder@arr\",\"data\":%s}", FORCE);
    size_t checked = 0;
    for (int b = 0; b < 4; b++) {
        size_t n = strlen(base[b]);
        char *m = malloc(n + 1); /* exact size: ASan catches a read past the message */
        assert_non_null(m);
        for (size_t len = 0; len <= n; len++) {
            char *t = malloc(len ? len : 1);
            assert_non_null(t);
            memcpy(t, base[b], len);
            sp_err rc = agree_cap(t, len, CAP);
            assert_true(len == n ? rc == SP_OK : rc != SP_OK);
            free(t);
            checked++;
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < sizeof(subst); k++) {
                memcpy(m, base[b], n);
                m[i] = subst[k];
                agree_cap(m, n, CAP);
                checked++;
            }
        }
        free(m);
    }
    assert_true(checked > 10000);
}

static uint64_t rng_state = 42;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A decimal string with a random number of integer digits and places (some past the limits). */
static void rnd_dec(char *buf, size_t cap)
{
    unsigned idig = 1 + (unsigned)(rnd() % 11), fdig = (unsigned)(rnd() % 10);
    size_t k = 0;
    for (unsigned i = 0; i < idig && k + 1 < cap; i++)
        buf[k++] = (char)('0' + (i == 0 && idig > 1 ? 1 + rnd() % 9 : rnd() % 10));
    if (fdig > 0 && k + 1 < cap) {
        buf[k++] = '.';
        for (unsigned i = 0; i < fdig && k + 1 < cap; i++)
            buf[k++] = (char)('0' + rnd() % 10);
    }
    buf[k] = '\0';
}

/* Random values (large notionals, long decimals) and random single-byte mutations. */
static void test_random_agree(void **state)
{
    (void)state;
    char msg[512], a[32], b[32], c[32], z[32];
    size_t fast = 0;
    for (int it = 0; it < 20000; it++) {
        rnd_dec(a, sizeof(a));
        rnd_dec(b, sizeof(b));
        rnd_dec(c, sizeof(c));
        rnd_dec(z, sizeof(z));
        unsigned long long big = rnd() >> (4 + rnd() % 60);
        int len;
        if (it & 1)
            len = snprintf(msg, sizeof(msg),
                           "{\"e\":\"forceOrder\",\"E\":%llu,\"o\":{\"s\":\"S%u\",\"S\":\"%s\","
                           "\"o\":\"LIMIT\",\"f\":\"IOC\",\"q\":\"%s\",\"p\":\"%s\",\"ap\":\"%s\","
                           "\"X\":\"FILLED\",\"l\":\"1\",\"z\":\"%s\",\"T\":%llu}}",
                           big, (unsigned)(rnd() % 50), rnd() & 1 ? "SELL" : "BUY", a, b, c, z,
                           (unsigned long long)(rnd() % 20000000000000ULL));
        else
            len = snprintf(msg, sizeof(msg),
                           "{\"e\":\"aggTrade\",\"E\":1,\"a\":%llu,\"s\":\"S%u\",\"p\":\"%s\","
                           "\"q\":\"%s\",\"f\":%llu,\"l\":%llu,\"T\":%llu,\"m\":%s}",
                           big, (unsigned)(rnd() % 50), a, b, (unsigned long long)(rnd() >> 8),
                           (unsigned long long)(rnd() % 1000), (unsigned long long)(rnd() >> 20),
                           rnd() & 1 ? "true" : "false");
        assert_true(len > 0 && (size_t)len < sizeof(msg));
        if (rnd() % 4 == 0)
            msg[rnd() % (size_t)len] = (char)(rnd() % 128);
        fast += fast_takes(msg, (size_t)len);
        agree_cap(msg, (size_t)len, CAP);
    }
    printf("random: %zu of 20000 took the fast path\n", fast);
    assert_true(fast > 1000); /* both outcomes were exercised */
    assert_true(fast < 20000);
}

/* Interning is the fast path's only allocation: every failure is SP_ENOMEM and leaks nothing. */
static sp_err decode_fast_once(void *ctx)
{
    (void)ctx;
    sp_symtab *syms;
    sp_err rc = sp_symtab_new(&syms);
    if (rc != SP_OK)
        return rc;
    sp_event ev[CAP];
    size_t got;
    sp_diag d;
    rc = sp_feed_binance_ws(FORCE, strlen(FORCE), 1, syms, ev, CAP, &got, &d);
    if (rc == SP_OK)
        rc = sp_feed_binance_ws(AGG, strlen(AGG), 1, syms, ev, CAP, &got, &d);
    sp_symtab_free(syms);
    return rc;
}

static void test_fast_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(decode_fast_once, NULL, 100) >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_layout_is_fast),
        cmocka_unit_test(test_surprises_fall_back),
        cmocka_unit_test(test_mutations_agree),
        cmocka_unit_test(test_random_agree),
        cmocka_unit_test(test_fast_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
