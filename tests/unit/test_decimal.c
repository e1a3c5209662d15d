/*
 * test_decimal.c -- decimal text <-> fixed point: every accepted and
 * rejected form, the reported position, rounding of extra places, exact
 * formatting, and round trips over random values (fixed seed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/fixed.h"
#include "stampede/limits.h"
#include "stampede/rng.h"

static void expect_ok(const char *s, unsigned scale, int64_t want)
{
    int64_t v = 0;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = sp_dec_parse(s, strlen(s), scale, &v, &d);
    if (rc != SP_OK || v != want)
        fail_msg("parse \"%s\" @%u -> %s %lld (%s), want %lld", s, scale, sp_errname(rc),
                 (long long)v, d.msg, (long long)want);
}

static void expect_err(const char *s, size_t n, unsigned scale, sp_err want, uint64_t col)
{
    int64_t v = 0x1234;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = sp_dec_parse(s, n, scale, &v, &d);
    if (rc != want)
        fail_msg("parse \"%.*s\" @%u -> %s, want %s", (int)n, s, scale, sp_errname(rc),
                 sp_errname(want));
    assert_int_equal(d.code, want);
    assert_true(d.msg[0] != '\0');
    assert_true(v == 0x1234);
    if (col)
        assert_int_equal(d.column, col);
}

static void test_parse_valid(void **state)
{
    (void)state;
    expect_ok("0", 0, 0);
    expect_ok("0", 8, 0);
    expect_ok("-0", 2, 0);
    expect_ok("1", 8, 100000000);
    expect_ok("123.45", 2, 12345);
    expect_ok("-1.5", 2, -150);
    expect_ok("1.2300", 2, 123); /* extra places that are zeros keep the value */
    expect_ok("0.00000001", 8, 1);
    expect_ok("59800.1", 1, 598001);
    expect_ok("00012", 0, 12);
    expect_ok("62500", 8, INT64_C(6250000000000));
    expect_ok("9223372036854775807", 0, INT64_MAX);
    expect_ok("-9223372036854775808", 0, INT64_MIN);
    expect_ok("92233720368.54775807", 8, INT64_MAX);
    expect_ok("-92233720368.54775808", 8, INT64_MIN);
    expect_ok("9.223372036854775807", 18, INT64_MAX);
    expect_ok("-0.000000000000000001", 18, -1);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    expect_err("", 0, 2, SP_EPARSE, 0);
    expect_err(NULL, 0, 2, SP_EPARSE, 0);
    expect_err(" 1", 2, 2, SP_EPARSE, 1);
    expect_err("1 ", 2, 2, SP_EPARSE, 2);
    expect_err("\t1", 2, 2, SP_EPARSE, 1);
    expect_err("1\n", 2, 2, SP_EPARSE, 2);
    expect_err("+1", 2, 2, SP_EPARSE, 1);
    expect_err("--1", 3, 2, SP_EPARSE, 2);
    expect_err("-+1", 3, 2, SP_EPARSE, 2);
    expect_err("-", 1, 2, SP_EPARSE, 0);
    expect_err("1-", 2, 2, SP_EPARSE, 2);
    expect_err("1e5", 3, 2, SP_EPARSE, 2);
    expect_err("1E5", 3, 2, SP_EPARSE, 2);
    expect_err("1.5e-3", 6, 8, SP_EPARSE, 4);
    expect_err(".5", 2, 2, SP_EPARSE, 1);
    expect_err("5.", 2, 2, SP_EPARSE, 2);
    expect_err("-.5", 3, 2, SP_EPARSE, 2);
    expect_err("1.2.3", 5, 2, SP_EPARSE, 4);
    expect_err("NaN", 3, 2, SP_EPARSE, 1);
    expect_err("nan", 3, 2, SP_EPARSE, 1);
    expect_err("-nan", 4, 2, SP_EPARSE, 2);
    expect_err("inf", 3, 2, SP_EPARSE, 1);
    expect_err("-Infinity", 9, 2, SP_EPARSE, 2);
    expect_err("null", 4, 2, SP_EPARSE, 1);
    expect_err("0x10", 4, 2, SP_EPARSE, 2);
    expect_err("1,000", 5, 2, SP_EPARSE, 2);
    expect_err("1_000", 5, 2, SP_EPARSE, 2);
    expect_err("12a", 3, 2, SP_EPARSE, 3);
    expect_err("\"1\"", 3, 2, SP_EPARSE, 1);
    expect_err("\xef\xbc\x91", 3, 2, SP_EPARSE, 1); /* fullwidth digit one */
    expect_err("1\0"
               "2",
               3, 2, SP_EPARSE, 2); /* embedded NUL */
    expect_err("1.2\xff", 4, 2, SP_EPARSE, 4);
}

static void test_parse_limits(void **state)
{
    char big[SP_DEC_TEXT_MAX + 2];
    (void)state;
    memset(big, '1', sizeof(big));
    expect_err(big, SP_DEC_TEXT_MAX + 1, 0, SP_ETOOBIG, 0);
    expect_err("1.234", 5, 2, SP_EPRECISION, 5);
    expect_err("1.2301", 6, 2, SP_EPRECISION, 6);
    expect_err("0.000000001", 11, 8, SP_EPRECISION, 11);
    expect_err("9223372036854775808", 19, 0, SP_EOVERFLOW, 19);
    expect_err("-9223372036854775809", 20, 0, SP_EOVERFLOW, 20);
    expect_err("92233720368.54775808", 20, 8, SP_EOVERFLOW, 20);
    expect_err("92233720369", 11, 8, SP_EOVERFLOW, 0);
    expect_err("99999999999999999999999999999", 29, 0, SP_EOVERFLOW, 19);
    int64_t v;
    assert_int_equal(sp_dec_parse("1", 1, SP_SCALE_MAX + 1, &v, NULL), SP_EINVAL);
    /* strict places and no-negative flags */
    assert_int_equal(sp_dec_parse_ex("1.230", 5, 2, SP_DEC_STRICT_PLACES, SP_RND_EXACT, &v, NULL),
                     SP_EPRECISION);
    assert_int_equal(sp_dec_parse_ex("1.23", 4, 2, SP_DEC_STRICT_PLACES, SP_RND_EXACT, &v, NULL),
                     SP_OK);
    assert_true(v == 123);
    assert_int_equal(sp_dec_parse_ex("-1", 2, 2, SP_DEC_NO_NEG, SP_RND_EXACT, &v, NULL), SP_ERANGE);
    assert_int_equal(sp_dec_parse_ex("1", 1, 2, SP_DEC_NO_NEG, SP_RND_EXACT, &v, NULL), SP_OK);
}

static void expect_round(const char *s, unsigned scale, sp_rounding r, int64_t want)
{
    int64_t v = 0;
    sp_err rc = sp_dec_parse_ex(s, strlen(s), scale, SP_DEC_ROUND, r, &v, NULL);
    if (rc != SP_OK || v != want)
        fail_msg("round \"%s\" @%u %s -> %s %lld, want %lld", s, scale, sp_rounding_name(r),
                 sp_errname(rc), (long long)v, (long long)want);
}

static void test_parse_rounding(void **state)
{
    (void)state;
    expect_round("1.235", 2, SP_RND_HALF_EVEN, 124);
    expect_round("1.245", 2, SP_RND_HALF_EVEN, 124);
    expect_round("1.2451", 2, SP_RND_HALF_EVEN, 125);
    expect_round("1.2450000", 2, SP_RND_HALF_EVEN, 124);
    expect_round("1.245", 2, SP_RND_HALF_UP, 125);
    expect_round("1.2449999", 2, SP_RND_HALF_UP, 124);
    expect_round("-1.235", 2, SP_RND_DOWN, -124);
    expect_round("-1.235", 2, SP_RND_UP, -123);
    expect_round("-1.235", 2, SP_RND_TRUNC, -123);
    expect_round("-1.231", 2, SP_RND_AWAY, -124);
    expect_round("1.231", 2, SP_RND_UP, 124);
    expect_round("1.230", 2, SP_RND_UP, 123);
    expect_round("-1.245", 2, SP_RND_HALF_UP, -125);
    expect_round("-1.245", 2, SP_RND_HALF_EVEN, -124);
    expect_round("0.000107958817384", 12, SP_RND_HALF_EVEN, 107958817); /* an OKX rate */
    int64_t v;
    assert_int_equal(sp_dec_parse_ex("1.231", 5, 2, SP_DEC_ROUND, SP_RND_EXACT, &v, NULL),
                     SP_EPRECISION);
    /* rounding up at the int64 edge */
    assert_int_equal(
        sp_dec_parse_ex("9223372036854775807.5", 21, 0, SP_DEC_ROUND, SP_RND_UP, &v, NULL),
        SP_EOVERFLOW);
    assert_int_equal(
        sp_dec_parse_ex("-9223372036854775808.4", 22, 0, SP_DEC_ROUND, SP_RND_HALF_UP, &v, NULL),
        SP_OK);
    assert_true(v == INT64_MIN);
}

static void expect_fmt(int64_t v, unsigned scale, unsigned flags, const char *want)
{
    char out[SP_DEC_FMT_MAX];
    size_t n = sp_dec_format(v, scale, flags, out, sizeof(out));
    if (strcmp(out, want) != 0 || n != strlen(want))
        fail_msg("format %lld @%u -> \"%s\", want \"%s\"", (long long)v, scale, out, want);
}

static void test_format(void **state)
{
    (void)state;
    expect_fmt(12345, 2, 0, "123.45");
    expect_fmt(-5, 2, 0, "-0.05");
    expect_fmt(0, 3, 0, "0.000");
    expect_fmt(0, 0, 0, "0");
    expect_fmt(7, 0, 0, "7");
    expect_fmt(INT64_MAX, 0, 0, "9223372036854775807");
    expect_fmt(INT64_MIN, 0, 0, "-9223372036854775808");
    expect_fmt(INT64_MIN, 18, 0, "-9.223372036854775808");
    expect_fmt(INT64_MIN, 8, 0, "-92233720368.54775808");
    expect_fmt(1, 18, 0, "0.000000000000000001");
    expect_fmt(12300, 4, SP_FMT_TRIM, "1.23");
    expect_fmt(10000, 4, SP_FMT_TRIM, "1");
    expect_fmt(-10, 4, SP_FMT_TRIM, "-0.001");
    expect_fmt(0, 8, SP_FMT_TRIM, "0");
    char small[6];
    assert_int_equal(sp_dec_format(12345, 2, 0, small, sizeof(small)), 0); /* needs 7 */
    assert_string_equal(small, "");
    assert_int_equal(sp_dec_format(1234, 2, 0, small, sizeof(small)), 5);
    assert_string_equal(small, "12.34");
    assert_int_equal(sp_dec_format(1, 19, 0, small, sizeof(small)), 0);
    char wide[64];
    __int128 big = (__int128)INT64_MAX * 1000;
    sp_dec_format_i128(big, 3, 0, wide, sizeof(wide));
    assert_string_equal(wide, "9223372036854775807.000");
}

/* format -> parse is the identity for every value and scale */
static void test_round_trip_values(void **state)
{
    sp_rng r;
    char txt[SP_DEC_FMT_MAX];
    (void)state;
    sp_rng_seed(&r, 42);
    for (int i = 0; i < 300000; i++) {
        int64_t v = (int64_t)(sp_rng_next(&r) >> sp_rng_below(&r, 64));
        if (sp_rng_next(&r) & 1)
            v = -v;
        if (i == 0)
            v = INT64_MIN;
        unsigned scale = (unsigned)sp_rng_below(&r, SP_SCALE_MAX + 1);
        unsigned flags = (sp_rng_next(&r) & 1) ? SP_FMT_TRIM : 0;
        size_t n = sp_dec_format(v, scale, flags, txt, sizeof(txt));
        assert_true(n > 0);
        int64_t back;
        sp_err rc = sp_dec_parse(txt, n, scale, &back, NULL);
        if (rc != SP_OK || back != v)
            fail_msg("round trip %lld @%u: \"%s\" -> %s %lld", (long long)v, scale, txt,
                     sp_errname(rc), (long long)back);
    }
}

/* parse -> format reproduces canonical random decimal text */
static void test_round_trip_text(void **state)
{
    sp_rng r;
    (void)state;
    sp_rng_seed(&r, 7);
    for (int i = 0; i < 200000; i++) {
        unsigned scale = (unsigned)sp_rng_below(&r, 11);
        unsigned int_digits = 1 + (unsigned)sp_rng_below(&r, 18 - scale);
        char txt[40];
        size_t o = 0;
        int neg = (int)(sp_rng_next(&r) & 1);
        if (neg)
            txt[o++] = '-';
        /* canonical: no leading zero unless the integer part is 0 */
        for (unsigned k = 0; k < int_digits; k++) {
            unsigned dg = (unsigned)sp_rng_below(&r, 10);
            if (k == 0 && int_digits > 1 && dg == 0)
                dg = 1;
            txt[o++] = (char)('0' + dg);
        }
        if (scale) {
            txt[o++] = '.';
            for (unsigned k = 0; k < scale; k++)
                txt[o++] = (char)('0' + sp_rng_below(&r, 10));
        }
        txt[o] = '\0';
        int64_t v;
        assert_int_equal(sp_dec_parse(txt, o, scale, &v, NULL), SP_OK);
        char back[SP_DEC_FMT_MAX];
        sp_dec_format(v, scale, 0, back, sizeof(back));
        /* "-0.00" formats as "0.00": the only non-canonical input */
        if (v == 0 && neg)
            assert_string_equal(back, txt + 1);
        else if (strcmp(back, txt) != 0)
            fail_msg("text round trip \"%s\" @%u -> \"%s\"", txt, scale, back);
    }
}

static void test_diag_names_the_place(void **state)
{
    sp_diag d;
    char line[512];
    int64_t v;
    (void)state;
    sp_diag_clear(&d);
    d.source = "trades.csv";
    d.line = 12;
    sp_diag_field(&d, "price");
    assert_int_equal(sp_dec_parse("60000.0x", 8, 2, &v, &d), SP_EPARSE);
    sp_diag_format(&d, line, sizeof(line));
    assert_non_null(strstr(line, "trades.csv:12:8:"));
    assert_non_null(strstr(line, "price: "));
    assert_non_null(strstr(line, "'x'"));
    assert_non_null(strstr(line, "SP_EPARSE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),     cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_limits),    cmocka_unit_test(test_parse_rounding),
        cmocka_unit_test(test_format),          cmocka_unit_test(test_round_trip_values),
        cmocka_unit_test(test_round_trip_text), cmocka_unit_test(test_diag_names_the_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
