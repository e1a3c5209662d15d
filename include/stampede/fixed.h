/*
 * fixed.h -- exact fixed-point money: decimal text <-> scaled int64, and
 * checked arithmetic with explicit rounding.
 *
 * A value v at scale s means v / 10^s.  The scale is not stored in the
 * value: it lives once in the instrument spec (px_scale, qty_scale) or is
 * the fixed SP_MONEY_SCALE for balances.  sp_px, sp_qty and sp_money wrap
 * int64_t in one-field structs so the compiler rejects price + quantity;
 * they cost nothing at -O2.
 *
 * Invariants kept by every function here:
 *   - no floating point, anywhere;
 *   - every product or quotient has a 128-bit intermediate and an explicit
 *     rounding mode, and a result that does not fit int64 is SP_EOVERFLOW,
 *     never a wrapped value;
 *   - decimal text is parsed digit by digit into the scaled integer; a
 *     value that cannot be represented exactly at the requested scale is
 *     an error unless the caller asks for rounding.
 * All functions are pure and thread-safe.
 */
#ifndef STAMPEDE_FIXED_H
#define STAMPEDE_FIXED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"

SP_BEGIN_DECLS

/* Scale of sp_money: balances are held in units of 1e-8 of the quote asset. */
#define SP_MONEY_SCALE 8

/* A price, in units of 10^-px_scale of the quote asset (scale from the instrument). */
typedef struct sp_px {
    int64_t v;
} sp_px;

/* A quantity, in units of 10^-qty_scale of the base asset or contracts. */
typedef struct sp_qty {
    int64_t v;
} sp_qty;

/* A balance or notional, in units of 10^-SP_MONEY_SCALE of the quote asset. */
typedef struct sp_money {
    int64_t v;
} sp_money;

static inline sp_px sp_px_of(int64_t v)
{
    sp_px p = {v};
    return p;
}

static inline sp_qty sp_qty_of(int64_t v)
{
    sp_qty q = {v};
    return q;
}

static inline sp_money sp_money_of(int64_t v)
{
    sp_money m = {v};
    return m;
}

/*
 * Rounding modes.  Each says where an inexact quotient goes:
 *   DOWN      toward -infinity (floor)
 *   UP        toward +infinity (ceiling)
 *   TRUNC     toward zero
 *   AWAY      away from zero
 *   HALF_UP   to nearest, exact halves away from zero
 *   HALF_EVEN to nearest, exact halves to the even neighbour (banker's)
 *   EXACT     no rounding allowed: an inexact result is SP_EPRECISION
 */
typedef enum sp_rounding {
    SP_RND_DOWN = 0,
    SP_RND_UP = 1,
    SP_RND_TRUNC = 2,
    SP_RND_AWAY = 3,
    SP_RND_HALF_UP = 4,
    SP_RND_HALF_EVEN = 5,
    SP_RND_EXACT = 6
} sp_rounding;

/* Name of a rounding mode ("HALF_EVEN"), "?" if unknown. */
SP_API const char *sp_rounding_name(sp_rounding r);

/* 10^scale for scale 0..18; 0 for a scale outside that range. */
SP_API int64_t sp_pow10(unsigned scale);

/*
 * out = a * b / c, the product held in 128 bits, the quotient rounded by r.
 * SP_EDIVZERO if c == 0; SP_EOVERFLOW if the rounded quotient does not fit
 * int64; SP_EPRECISION with SP_RND_EXACT and an inexact quotient; SP_EINVAL
 * for an unknown mode.  *out is written only on SP_OK.
 */
SP_API sp_err sp_mul_div(int64_t a, int64_t b, int64_t c, sp_rounding r, int64_t *out);

/*
 * out = num / den for 128-bit operands, rounded by r, which must fit int64.
 * The building block of exact rational formulas (rules/): compute the
 * numerator and denominator exactly in 128 bits, round once at the end.
 * Same errors as sp_mul_div.
 */
SP_API sp_err sp_div_i128(__int128 num, __int128 den, sp_rounding r, int64_t *out);

/* As sp_div_i128 with a 128-bit result (no int64 range check). */
SP_API sp_err sp_div_i128_wide(__int128 num, __int128 den, sp_rounding r, __int128 *out);

/* Checked a + b, a - b, a * b: SP_EOVERFLOW instead of wrapping. */
SP_API sp_err sp_add_checked(int64_t a, int64_t b, int64_t *out);
SP_API sp_err sp_sub_checked(int64_t a, int64_t b, int64_t *out);
SP_API sp_err sp_mul_checked(int64_t a, int64_t b, int64_t *out);

/*
 * Convert v from scale `from` to scale `to` (each 0..SP_SCALE_MAX), rounding
 * by r when digits are dropped.  SP_EOVERFLOW when scaling up overflows.
 */
SP_API sp_err sp_rescale(int64_t v, unsigned from, unsigned to, sp_rounding r, int64_t *out);

/* Flags of sp_dec_parse_ex. */
#define SP_DEC_NO_NEG        0x1u /* reject a leading '-' */
#define SP_DEC_STRICT_PLACES 0x2u /* reject places past the scale even when they are zeros */
#define SP_DEC_ROUND         0x4u /* round places past the scale by rnd instead of rejecting */

/*
 * Parse decimal text s[0..n) as a value at `scale` (0..SP_SCALE_MAX).
 *
 * Accepted form, nothing else: an optional '-', one or more ASCII digits,
 * and optionally a '.' followed by one or more digits.  Rejected with
 * SP_EPARSE: empty text, whitespace anywhere, '+', a second sign, exponents
 * ("1e5"), a bare or trailing point (".5", "5."), hex, words ("NaN", "inf",
 * "null"), any other byte; text longer than SP_DEC_TEXT_MAX is SP_ETOOBIG.
 * Places past the scale are accepted when they are all zeros ("1.2300" at
 * scale 2 is 123) and otherwise SP_EPRECISION; a magnitude past int64 is
 * SP_EOVERFLOW.  On error, d (may be NULL) says what and at which byte
 * (d->column is the 1-based byte position within s); *out is untouched.
 */
SP_API sp_err sp_dec_parse(const char *s, size_t n, unsigned scale, int64_t *out, sp_diag *d);

/* sp_dec_parse with SP_DEC_* flags; rnd is used only with SP_DEC_ROUND. */
SP_API sp_err sp_dec_parse_ex(const char *s, size_t n, unsigned scale, unsigned flags,
                              sp_rounding rnd, int64_t *out, sp_diag *d);

/* Room for any formatted value: sign, 19 digits, point, 18 places, NUL. */
#define SP_DEC_FMT_MAX 48

/* Flags of sp_dec_format. */
#define SP_FMT_TRIM 0x1u /* drop trailing zero places (and the point if none remain) */

/*
 * Format v at `scale` as exact decimal text into out ("-1234.50" for
 * v = -123450, scale 2).  cap >= SP_DEC_FMT_MAX always suffices.  Returns
 * the length written (without the NUL), or 0 if cap is too small or the
 * scale is past SP_SCALE_MAX (then out[0] = '\0' when cap > 0).
 */
SP_API size_t sp_dec_format(int64_t v, unsigned scale, unsigned flags, char *out, size_t cap);

/* As sp_dec_format for a 128-bit value (cap >= 64 always suffices). */
SP_API size_t sp_dec_format_i128(__int128 v, unsigned scale, unsigned flags, char *out, size_t cap);

SP_END_DECLS

#endif /* STAMPEDE_FIXED_H */
