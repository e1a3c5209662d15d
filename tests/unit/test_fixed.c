/*
 * test_fixed.c -- exact fixed point: rounding, limits, decimal text.
 *
 * Expected values are written out by hand (each a small exact case) or
 * checked by a property that does not reuse the code under test (the
 * 128-bit bracket q*c <= a*b < (q+1)*c for floor division, and so on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/fixed.h"
#include "stampede/rng.h"

typedef struct {
    int64_t a, b, c;
    sp_rounding r;
    sp_err rc;
    int64_t want;
} div_case;

static void run_div_cases(const div_case *cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t out = 0x5A5A;
        sp_err rc = sp_mul_div(cs[i].a, cs[i].b, cs[i].c, cs[i].r, &out);
        if (rc != cs[i].rc || (rc == SP_OK && out != cs[i].want))
            fail_msg("case %zu: %lld*%lld/%lld %s -> %s %lld, want %s %lld", i, (long long)cs[i].a,
                     (long long)cs[i].b, (long long)cs[i].c, sp_rounding_name(cs[i].r),
                     sp_errname(rc), (long long)out, sp_errname(cs[i].rc), (long long)cs[i].want);
        if (rc != SP_OK)
            assert_int_equal(out, 0x5A5A); /* untouched on error */
    }
}

static void test_rounding_modes_positive(void **state)
{
    static const div_case cs[] = {
        /* 3.5 */
        {7, 1, 2, SP_RND_DOWN, SP_OK, 3},
        {7, 1, 2, SP_RND_UP, SP_OK, 4},
        {7, 1, 2, SP_RND_TRUNC, SP_OK, 3},
        {7, 1, 2, SP_RND_AWAY, SP_OK, 4},
        {7, 1, 2, SP_RND_HALF_UP, SP_OK, 4},
        {7, 1, 2, SP_RND_HALF_EVEN, SP_OK, 4},
        {7, 1, 2, SP_RND_EXACT, SP_EPRECISION, 0},
        /* 2.5: the halves that separate HALF_UP from HALF_EVEN */
        {5, 1, 2, SP_RND_HALF_UP, SP_OK, 3},
        {5, 1, 2, SP_RND_HALF_EVEN, SP_OK, 2},
        {5, 1, 2, SP_RND_DOWN, SP_OK, 2},
        {5, 1, 2, SP_RND_UP, SP_OK, 3},
        /* 2.333 and 2.667 */
        {7, 1, 3, SP_RND_HALF_UP, SP_OK, 2},
        {7, 1, 3, SP_RND_HALF_EVEN, SP_OK, 2},
        {7, 1, 3, SP_RND_UP, SP_OK, 3},
        {8, 1, 3, SP_RND_HALF_UP, SP_OK, 3},
        {8, 1, 3, SP_RND_HALF_EVEN, SP_OK, 3},
        {8, 1, 3, SP_RND_DOWN, SP_OK, 2},
        {8, 1, 3, SP_RND_TRUNC, SP_OK, 2},
        /* exact quotients are never moved */
        {6, 1, 3, SP_RND_UP, SP_OK, 2},
        {6, 1, 3, SP_RND_AWAY, SP_OK, 2},
        {6, 1, 3, SP_RND_EXACT, SP_OK, 2},
        {0, 5, 3, SP_RND_UP, SP_OK, 0},
        /* a price example: 62,500.00 x 9 / 10 at scale 2 */
        {6250000, 9, 10, SP_RND_UP, SP_OK, 5625000},
        /* 0.5 and 1.5 */
        {1, 1, 2, SP_RND_HALF_EVEN, SP_OK, 0},
        {3, 1, 2, SP_RND_HALF_EVEN, SP_OK, 2},
        {1, 1, 2, SP_RND_HALF_UP, SP_OK, 1},
    };
    (void)state;
    run_div_cases(cs, sizeof(cs) / sizeof(cs[0]));
}

static void test_rounding_modes_negative(void **state)
{
    static const div_case cs[] = {
        /* -3.5 */
        {-7, 1, 2, SP_RND_DOWN, SP_OK, -4},
        {-7, 1, 2, SP_RND_UP, SP_OK, -3},
        {-7, 1, 2, SP_RND_TRUNC, SP_OK, -3},
        {-7, 1, 2, SP_RND_AWAY, SP_OK, -4},
        {-7, 1, 2, SP_RND_HALF_UP, SP_OK, -4},
        {-7, 1, 2, SP_RND_HALF_EVEN, SP_OK, -4},
        /* -2.5 */
        {-5, 1, 2, SP_RND_HALF_UP, SP_OK, -3},
        {-5, 1, 2, SP_RND_HALF_EVEN, SP_OK, -2},
        /* negative divisor: 7 / -2 = -3.5 */
        {7, 1, -2, SP_RND_DOWN, SP_OK, -4},
        {7, 1, -2, SP_RND_UP, SP_OK, -3},
        {7, 1, -2, SP_RND_HALF_EVEN, SP_OK, -4},
        /* both negative: -7 / -2 = 3.5 */
        {-7, 1, -2, SP_RND_DOWN, SP_OK, 3},
        {-7, 1, -2, SP_RND_UP, SP_OK, 4},
        {-7, 1, -2, SP_RND_HALF_EVEN, SP_OK, 4},
        /* -2.333, -2.667 */
        {-7, 1, 3, SP_RND_HALF_UP, SP_OK, -2},
        {-8, 1, 3, SP_RND_HALF_UP, SP_OK, -3},
        {-8, 1, 3, SP_RND_UP, SP_OK, -2},
        {-8, 1, 3, SP_RND_DOWN, SP_OK, -3},
        {-7, 1, 3, SP_RND_AWAY, SP_OK, -3},
        /* sign from b */
        {7, -1, 2, SP_RND_HALF_EVEN, SP_OK, -4},
        {5, -1, 2, SP_RND_HALF_EVEN, SP_OK, -2},
    };
    (void)state;
    run_div_cases(cs, sizeof(cs) / sizeof(cs[0]));
}

static void test_int64_limits(void **state)
{
    static const div_case cs[] = {
        /* products past 64 bits that come back in range */
        {INT64_MAX, INT64_MAX, INT64_MAX, SP_RND_EXACT, SP_OK, INT64_MAX},
        {INT64_MIN, INT64_MIN, INT64_MIN, SP_RND_EXACT, SP_OK, INT64_MIN},
        {INT64_MAX, 2, 2, SP_RND_EXACT, SP_OK, INT64_MAX},
        {INT64_MIN, 3, 3, SP_RND_EXACT, SP_OK, INT64_MIN},
        {INT64_MAX, INT64_MAX, INT64_MIN, SP_RND_TRUNC, SP_OK, -(INT64_MAX - 1)},
        /* 2^62 * 4 / 8 = 2^61 */
        {INT64_C(1) << 62, 4, 8, SP_RND_EXACT, SP_OK, INT64_C(1) << 61},
        /* 10^18 * 10^18 / 10^18 */
        {INT64_C(1000000000000000000), INT64_C(1000000000000000000), INT64_C(1000000000000000000),
         SP_RND_EXACT, SP_OK, INT64_C(1000000000000000000)},
        /* 3037000500^2 = 9223372037000250000 > INT64_MAX, / 10 fits */
        {3037000500, 3037000500, 10, SP_RND_EXACT, SP_OK, INT64_C(922337203700025000)},
        /* results past int64 */
        {INT64_MAX, 2, 1, SP_RND_DOWN, SP_EOVERFLOW, 0},
        {INT64_MIN, 1, -1, SP_RND_DOWN, SP_EOVERFLOW, 0},
        {INT64_MIN, -1, 1, SP_RND_DOWN, SP_EOVERFLOW, 0},
        {INT64_MAX, INT64_MAX, 1, SP_RND_DOWN, SP_EOVERFLOW, 0},
        /* an exact quotient at the limit is not moved by UP */
        {INT64_MAX, 2, 2, SP_RND_UP, SP_OK, INT64_MAX},
        {-1, 1, 0, SP_RND_DOWN, SP_EDIVZERO, 0},
        {0, 0, 0, SP_RND_DOWN, SP_EDIVZERO, 0},
        {1, 1, 2, (sp_rounding)99, SP_EINVAL, 0},
    };
    (void)state;
    run_div_cases(cs, sizeof(cs) / sizeof(cs[0]));

    /* (2^64 - 1) / 2 = 2^63 - 0.5: UP and HALF_UP leave int64, DOWN does not */
    __int128 num = ((__int128)1 << 64) - 1;
    int64_t out;
    assert_int_equal(sp_div_i128(num, 2, SP_RND_DOWN, &out), SP_OK);
    assert_true(out == INT64_MAX);
    assert_int_equal(sp_div_i128(num, 2, SP_RND_UP, &out), SP_EOVERFLOW);
    assert_int_equal(sp_div_i128(num, 2, SP_RND_HALF_UP, &out), SP_EOVERFLOW);
    /* the most negative 128-bit value divided by -1 */
    __int128 wide, i128min = -(__int128)(((unsigned __int128)1 << 127) - 1) - 1;
    assert_int_equal(sp_div_i128_wide(i128min, -1, SP_RND_DOWN, &wide), SP_EOVERFLOW);
    assert_int_equal(sp_div_i128_wide(i128min, 2, SP_RND_EXACT, &wide), SP_OK);
    assert_true(wide == i128min / 2);
}

static void test_checked_ops(void **state)
{
    int64_t v;
    (void)state;
    assert_int_equal(sp_add_checked(INT64_MAX, 1, &v), SP_EOVERFLOW);
    assert_int_equal(sp_add_checked(INT64_MAX, -1, &v), SP_OK);
    assert_true(v == INT64_MAX - 1);
    assert_int_equal(sp_sub_checked(INT64_MIN, 1, &v), SP_EOVERFLOW);
    assert_int_equal(sp_mul_checked(INT64_C(3037000500), INT64_C(3037000500), &v), SP_EOVERFLOW);
    assert_int_equal(sp_mul_checked(INT64_C(3037000499), INT64_C(3037000499), &v), SP_OK);
    assert_true(v == INT64_C(9223372030926249001));
    assert_int_equal(sp_mul_checked(INT64_MIN, -1, &v), SP_EOVERFLOW);
    assert_true(sp_pow10(0) == 1 && sp_pow10(18) == INT64_C(1000000000000000000));
    assert_true(sp_pow10(19) == 0);
}

static void test_rescale(void **state)
{
    int64_t v;
    (void)state;
    assert_int_equal(sp_rescale(12345, 2, 4, SP_RND_EXACT, &v), SP_OK);
    assert_true(v == 1234500);
    assert_int_equal(sp_rescale(12345, 2, 0, SP_RND_HALF_EVEN, &v), SP_OK);
    assert_true(v == 123);
    assert_int_equal(sp_rescale(12350, 2, 0, SP_RND_HALF_EVEN, &v), SP_OK);
    assert_true(v == 124); /* 123.5 -> even 124 */
    assert_int_equal(sp_rescale(12250, 2, 0, SP_RND_HALF_EVEN, &v), SP_OK);
    assert_true(v == 122); /* 122.5 -> even 122 */
    assert_int_equal(sp_rescale(-12250, 2, 0, SP_RND_HALF_UP, &v), SP_OK);
    assert_true(v == -123);
    assert_int_equal(sp_rescale(12345, 2, 0, SP_RND_EXACT, &v), SP_EPRECISION);
    assert_int_equal(sp_rescale(INT64_MAX / 10, 0, 2, SP_RND_EXACT, &v), SP_EOVERFLOW);
    assert_int_equal(sp_rescale(1, 0, 19, SP_RND_EXACT, &v), SP_EINVAL);
}

/* Floor/ceil/nearest brackets checked in 128 bits, independent of the code. */
static void test_mul_div_properties(void **state)
{
    sp_rng r;
    (void)state;
    sp_rng_seed(&r, 20260206);
    for (int i = 0; i < 200000; i++) {
        /* mix of magnitudes so both small and >64-bit products occur */
        int sa = (int)sp_rng_below(&r, 63), sb = (int)sp_rng_below(&r, 63),
            sc = (int)sp_rng_below(&r, 63);
        int64_t a = (int64_t)(sp_rng_next(&r) >> (63 - sa)) * ((sp_rng_next(&r) & 1) ? -1 : 1);
        int64_t b = (int64_t)(sp_rng_next(&r) >> (63 - sb)) * ((sp_rng_next(&r) & 1) ? -1 : 1);
        int64_t c = (int64_t)(sp_rng_next(&r) >> (63 - sc)) * ((sp_rng_next(&r) & 1) ? -1 : 1);
        if (c == 0)
            c = 7;
        __int128 p = (__int128)a * b;
        int64_t q;
        sp_err rc = sp_mul_div(a, b, c, SP_RND_DOWN, &q);
        /* exact floor in 128 bits: p / c rounded toward -inf */
        __int128 t = p / c;
        if ((p % c != 0) && ((p < 0) != (c < 0)))
            t -= 1;
        if (t > INT64_MAX || t < INT64_MIN) {
            assert_int_equal(rc, SP_EOVERFLOW);
            continue;
        }
        assert_int_equal(rc, SP_OK);
        assert_true((__int128)q == t);
        /* UP is floor + 1 unless exact */
        int64_t u;
        sp_err rcu = sp_mul_div(a, b, c, SP_RND_UP, &u);
        if (p % c == 0) {
            assert_int_equal(rcu, SP_OK);
            assert_true(u == q);
        } else if (rcu == SP_OK) {
            assert_true((__int128)u == t + 1);
        } else {
            assert_int_equal(rcu, SP_EOVERFLOW);
            assert_true(t + 1 > INT64_MAX);
        }
        /* HALF_EVEN: |p - h*c| <= |c|/2, and on an exact tie h is even */
        int64_t h;
        if (sp_mul_div(a, b, c, SP_RND_HALF_EVEN, &h) == SP_OK) {
            __int128 diff = p - (__int128)h * c;
            __int128 ad = diff < 0 ? -diff : diff;
            __int128 ac = c < 0 ? -(__int128)c : c;
            assert_true(2 * ad <= ac);
            if (2 * ad == ac)
                assert_true((h & 1) == 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rounding_modes_positive),
        cmocka_unit_test(test_rounding_modes_negative),
        cmocka_unit_test(test_int64_limits),
        cmocka_unit_test(test_checked_ops),
        cmocka_unit_test(test_rescale),
        cmocka_unit_test(test_mul_div_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
