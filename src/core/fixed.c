/*
 * fixed.c -- exact fixed-point arithmetic and decimal text conversion.
 *
 * This is the money layer under rules/, book/, engine/ and the decoders:
 * every price, quantity and balance passes through sp_dec_parse on the way
 * in and sp_dec_format on the way out, and every product or quotient goes
 * through sp_div_i128_wide, the single place where rounding happens.
 *
 * No floating point here (enforced by scripts/checksrc.sh).  Divisions use
 * __int128 so a*b never wraps; the rounding logic works on the truncated
 * quotient and the remainder, comparing |rem| with |den| - |rem| so that
 * deciding "more than half" never overflows either.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "stampede/fixed.h"
#include "stampede/limits.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

#define I128_MAX ((i128)(((u128)1 << 127) - 1))
#define I128_MIN (-I128_MAX - 1)

static const int64_t pow10_table[19] = {1LL,
                                        10LL,
                                        100LL,
                                        1000LL,
                                        10000LL,
                                        100000LL,
                                        1000000LL,
                                        10000000LL,
                                        100000000LL,
                                        1000000000LL,
                                        10000000000LL,
                                        100000000000LL,
                                        1000000000000LL,
                                        10000000000000LL,
                                        100000000000000LL,
                                        1000000000000000LL,
                                        10000000000000000LL,
                                        100000000000000000LL,
                                        1000000000000000000LL};

const char *sp_rounding_name(sp_rounding r)
{
    switch (r) {
    case SP_RND_DOWN:
        return "DOWN";
    case SP_RND_UP:
        return "UP";
    case SP_RND_TRUNC:
        return "TRUNC";
    case SP_RND_AWAY:
        return "AWAY";
    case SP_RND_HALF_UP:
        return "HALF_UP";
    case SP_RND_HALF_EVEN:
        return "HALF_EVEN";
    case SP_RND_EXACT:
        return "EXACT";
    }
    return "?";
}

int64_t sp_pow10(unsigned scale)
{
    return scale < SP_COUNTOF(pow10_table) ? pow10_table[scale] : 0;
}

static u128 abs_u128(i128 v)
{
    return v < 0 ? (u128)0 - (u128)v : (u128)v;
}

/*
 * Decide whether the truncated magnitude must be bumped by one (away from
 * zero), given the rounding mode, the sign of the exact result, whether the
 * truncated magnitude is odd, and how the discarded part compares with one
 * half (cmp_half: -1 below, 0 exactly half, +1 above).  inexact is false
 * only when nothing was discarded.  Shared by division and decimal parsing.
 */
static sp_err round_bump(sp_rounding r, bool neg, bool odd, bool inexact, int cmp_half, bool *bump)
{
    *bump = false;
    if (!inexact)
        return r <= SP_RND_EXACT ? SP_OK : SP_EINVAL;
    switch (r) {
    case SP_RND_DOWN:
        *bump = neg;
        return SP_OK;
    case SP_RND_UP:
        *bump = !neg;
        return SP_OK;
    case SP_RND_TRUNC:
        return SP_OK;
    case SP_RND_AWAY:
        *bump = true;
        return SP_OK;
    case SP_RND_HALF_UP:
        *bump = cmp_half >= 0;
        return SP_OK;
    case SP_RND_HALF_EVEN:
        *bump = cmp_half > 0 || (cmp_half == 0 && odd);
        return SP_OK;
    case SP_RND_EXACT:
        return SP_EPRECISION;
    }
    return SP_EINVAL;
}

sp_err sp_div_i128_wide(i128 num, i128 den, sp_rounding r, i128 *out)
{
    if (den == 0)
        return SP_EDIVZERO;
    if (num == I128_MIN && den == -1)
        return SP_EOVERFLOW;
    i128 q = num / den;
    i128 rem = num % den;
    bool neg = (num < 0) != (den < 0);
    u128 arem = abs_u128(rem);
    u128 aden = abs_u128(den);
    u128 other = aden - arem; /* > 0 because |rem| < |den| */
    int cmp_half = arem < other ? -1 : (arem > other ? 1 : 0);
    bool bump;
    sp_err rc = round_bump(r, neg, (abs_u128(q) & 1u) != 0, rem != 0, cmp_half, &bump);
    if (rc != SP_OK)
        return rc;
    if (bump) {
        /* |q| < |num| here, so q +/- 1 cannot leave the 128-bit range. */
        q += neg ? -1 : 1;
    }
    *out = q;
    return SP_OK;
}

sp_err sp_div_i128(i128 num, i128 den, sp_rounding r, int64_t *out)
{
    i128 q;
    sp_err rc = sp_div_i128_wide(num, den, r, &q);
    if (rc != SP_OK)
        return rc;
    if (q > INT64_MAX || q < INT64_MIN)
        return SP_EOVERFLOW;
    *out = (int64_t)q;
    return SP_OK;
}

/*
 * 64-bit fast path of sp_mul_div, for a product that fits int64 (the common
 * case: a price times a quantity at scale 8 up to ~9.2e10 notional).  A
 * 64-bit divide costs a fraction of __divti3 (bench_fixed).  Same rounding
 * decision as the 128-bit path, through round_bump.
 */
static sp_err div64(int64_t num, int64_t den, sp_rounding r, int64_t *out)
{
    if (num == INT64_MIN && den == -1)
        return SP_EOVERFLOW;
    int64_t q = num / den;
    int64_t rem = num % den;
    bool neg = (num < 0) != (den < 0);
    uint64_t arem = rem < 0 ? (uint64_t)0 - (uint64_t)rem : (uint64_t)rem;
    uint64_t aden = den < 0 ? (uint64_t)0 - (uint64_t)den : (uint64_t)den;
    uint64_t other = aden - arem;
    int cmp_half = arem < other ? -1 : (arem > other ? 1 : 0);
    uint64_t aq = q < 0 ? (uint64_t)0 - (uint64_t)q : (uint64_t)q;
    bool bump;
    sp_err rc = round_bump(r, neg, (aq & 1u) != 0, rem != 0, cmp_half, &bump);
    if (rc != SP_OK)
        return rc;
    if (bump)
        q += neg ? -1 : 1; /* |q| < |num|: cannot overflow */
    *out = q;
    return SP_OK;
}

sp_err sp_mul_div(int64_t a, int64_t b, int64_t c, sp_rounding r, int64_t *out)
{
    if (c == 0)
        return SP_EDIVZERO;
    int64_t p;
    if (!__builtin_mul_overflow(a, b, &p))
        return div64(p, c, r, out);
    /* |a * b| <= 2^126, always representable in 128 bits. */
    return sp_div_i128((i128)a * b, c, r, out);
}

sp_err sp_add_checked(int64_t a, int64_t b, int64_t *out)
{
    int64_t v;
    if (__builtin_add_overflow(a, b, &v))
        return SP_EOVERFLOW;
    *out = v;
    return SP_OK;
}

sp_err sp_sub_checked(int64_t a, int64_t b, int64_t *out)
{
    int64_t v;
    if (__builtin_sub_overflow(a, b, &v))
        return SP_EOVERFLOW;
    *out = v;
    return SP_OK;
}

sp_err sp_mul_checked(int64_t a, int64_t b, int64_t *out)
{
    int64_t v;
    if (__builtin_mul_overflow(a, b, &v))
        return SP_EOVERFLOW;
    *out = v;
    return SP_OK;
}

sp_err sp_rescale(int64_t v, unsigned from, unsigned to, sp_rounding r, int64_t *out)
{
    if (from > SP_SCALE_MAX || to > SP_SCALE_MAX)
        return SP_EINVAL;
    if (to >= from)
        return sp_mul_checked(v, sp_pow10(to - from), out);
    return sp_div_i128(v, sp_pow10(from - to), r, out);
}

/* ---- decimal text -> scaled integer ----------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Say why byte s[i] cannot stand where a digit was expected. */
static sp_err bad_byte(sp_diag *d, const char *s, size_t i, const char *where)
{
    unsigned char c = (unsigned char)s[i];
    if (d)
        d->column = i + 1;
    if (c == '+' || c == '-')
        return sp_diag_set(d, SP_EPARSE, "unexpected sign '%c' %s", c, where);
    if (is_space((char)c))
        return sp_diag_set(d, SP_EPARSE, "whitespace %s", where);
    if (c == 'e' || c == 'E')
        return sp_diag_set(d, SP_EPARSE, "exponent notation is not accepted");
    if (c == '.')
        return sp_diag_set(d, SP_EPARSE, "decimal point %s", where);
    if (c >= 0x21 && c < 0x7f)
        return sp_diag_set(d, SP_EPARSE, "unexpected character '%c' %s", c, where);
    return sp_diag_set(d, SP_EPARSE, "unexpected byte 0x%02x %s", c, where);
}

sp_err sp_dec_parse_ex(const char *s, size_t n, unsigned scale, unsigned flags, sp_rounding rnd,
                       int64_t *out, sp_diag *d)
{
    if (scale > SP_SCALE_MAX)
        return sp_diag_set(d, SP_EINVAL, "scale %u is past the maximum %d", scale, SP_SCALE_MAX);
    if (s == NULL || n == 0)
        return sp_diag_set(d, SP_EPARSE, "empty decimal");
    if (n > SP_DEC_TEXT_MAX)
        return sp_diag_set(d, SP_ETOOBIG, "decimal text of %zu bytes is longer than %d", n,
                           SP_DEC_TEXT_MAX);

    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        if (flags & SP_DEC_NO_NEG) {
            if (d)
                d->column = 1;
            return sp_diag_set(d, SP_ERANGE, "negative value not allowed");
        }
        neg = true;
        i = 1;
    }
    if (i == n) {
        if (d)
            d->column = i;
        return sp_diag_set(d, SP_EPARSE, "sign without digits");
    }
    if (!is_digit(s[i]))
        return bad_byte(d, s, i, "before the first digit");

    /* limit on the magnitude: 2^63 for a negative value, 2^63 - 1 otherwise */
    const u128 limit = neg ? (u128)1 << 63 : ((u128)1 << 63) - 1;
    u128 acc = 0;
    for (; i < n && is_digit(s[i]); i++) {
        acc = acc * 10 + (unsigned)(s[i] - '0');
        if (acc > limit) {
            if (d)
                d->column = i + 1;
            return sp_diag_set(d, SP_EOVERFLOW, "decimal magnitude past int64");
        }
    }

    unsigned places = 0;
    unsigned first_dropped = 0; /* first digit past the scale */
    bool sticky = false;        /* any non-zero digit after first_dropped */
    bool dropped = false;       /* any digit past the scale */
    if (i < n && s[i] == '.') {
        i++;
        if (i == n || !is_digit(s[i])) {
            if (i == n) {
                if (d)
                    d->column = i;
                return sp_diag_set(d, SP_EPARSE, "no digit after the decimal point");
            }
            return bad_byte(d, s, i, "after the decimal point");
        }
        for (; i < n && is_digit(s[i]); i++) {
            unsigned dg = (unsigned)(s[i] - '0');
            if (places < scale) {
                acc = acc * 10 + dg;
                places++;
                if (acc > limit) {
                    if (d)
                        d->column = i + 1;
                    return sp_diag_set(d, SP_EOVERFLOW, "decimal magnitude past int64");
                }
                continue;
            }
            if (!dropped) {
                first_dropped = dg;
                dropped = true;
            } else if (dg != 0) {
                sticky = true;
            }
            if ((flags & SP_DEC_ROUND) == 0 && (dg != 0 || (flags & SP_DEC_STRICT_PLACES))) {
                if (d)
                    d->column = i + 1;
                return sp_diag_set(d, SP_EPRECISION, "more than %u decimal places", scale);
            }
        }
    }
    if (i < n)
        return bad_byte(d, s, i, "after the number");

    for (; places < scale; places++) {
        acc *= 10;
        if (acc > limit) {
            if (d)
                d->column = n;
            return sp_diag_set(d, SP_EOVERFLOW, "decimal magnitude past int64 at scale %u", scale);
        }
    }

    if (dropped && (flags & SP_DEC_ROUND)) {
        bool inexact = first_dropped != 0 || sticky;
        int cmp_half = first_dropped < 5 ? -1 : (first_dropped > 5 || sticky ? 1 : 0);
        bool bump;
        sp_err rc = round_bump(rnd, neg, (acc & 1u) != 0, inexact, cmp_half, &bump);
        if (rc != SP_OK) {
            if (d)
                d->column = n;
            return sp_diag_set(d, rc,
                               rc == SP_EPRECISION ? "more than %u decimal places"
                                                   : "bad rounding mode for scale %u",
                               scale);
        }
        if (bump) {
            acc++;
            if (acc > limit) {
                if (d)
                    d->column = n;
                return sp_diag_set(d, SP_EOVERFLOW, "decimal magnitude past int64");
            }
        }
    }

    if (neg)
        *out = acc == ((u128)1 << 63) ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return SP_OK;
}

sp_err sp_dec_parse(const char *s, size_t n, unsigned scale, int64_t *out, sp_diag *d)
{
    return sp_dec_parse_ex(s, n, scale, 0, SP_RND_EXACT, out, d);
}

/* ---- scaled integer -> decimal text ------------------------------------ */

static size_t format_mag(u128 mag, bool neg, unsigned scale, unsigned flags, char *out, size_t cap)
{
    char tmp[64];
    size_t nd = 0;
    /* digits, least significant first; at least scale + 1 of them */
    do {
        tmp[nd++] = (char)('0' + (unsigned)(mag % 10));
        mag /= 10;
    } while (mag != 0 || nd < (size_t)scale + 1);

    size_t frac = scale;
    size_t skip = 0; /* trailing zero places dropped by SP_FMT_TRIM */
    if (flags & SP_FMT_TRIM) {
        while (skip < frac && tmp[skip] == '0')
            skip++;
    }
    size_t kept_frac = frac - skip;
    size_t len = (neg ? 1 : 0) + (nd - frac) + (kept_frac ? 1 + kept_frac : 0);
    if (len + 1 > cap) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    for (size_t k = nd; k > frac; k--)
        out[o++] = tmp[k - 1];
    if (kept_frac) {
        out[o++] = '.';
        for (size_t k = frac; k > skip; k--)
            out[o++] = tmp[k - 1];
    }
    out[o] = '\0';
    return o;
}

size_t sp_dec_format(int64_t v, unsigned scale, unsigned flags, char *out, size_t cap)
{
    return sp_dec_format_i128(v, scale, flags, out, cap);
}

size_t sp_dec_format_i128(i128 v, unsigned scale, unsigned flags, char *out, size_t cap)
{
    if (scale > SP_SCALE_MAX) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    return format_mag(abs_u128(v), v < 0, scale, flags, out, cap);
}
