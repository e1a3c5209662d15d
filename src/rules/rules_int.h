/*
 * rules_int.h -- private pieces shared by the files of src/rules/: 128-bit
 * helpers for exact rational prices, and the database layout.
 */
#ifndef STAMPEDE_RULES_INT_H
#define STAMPEDE_RULES_INT_H

#include "stampede/rules.h"

typedef __int128 i128;
typedef unsigned __int128 u128;

/* sp_rules_pos.flags bit for tests: force the general (multi-leg) Binance solve. */
#define SP__RULES_GENERAL 0x80000000u

/* Keep a cold path out of its caller (so the hot caller keeps its registers). */
#if defined(__GNUC__) || defined(__clang__)
#define SP__RULES_NOINLINE __attribute__((noinline))
#else
#define SP__RULES_NOINLINE
#endif

/* 10^8: one unit at SP_RULES_SCALE. */
#define SP__RULES_ONE ((int64_t)100000000)

/* The database: fixed arrays, allocated once by sp_rules_db_new. */
struct sp_rules_db {
    size_t ninst;                                 /* instruments used */
    size_t ntab;                                  /* tables used */
    sp_instrument inst[SP_RULES_INSTRUMENTS_MAX]; /* loaded instruments */
    sp_tier_table *tab;                           /* SP_RULES_TABLES_MAX tables (heap) */
};

/*
 * Compare a * b with c * d exactly (256-bit products): -1, 0 or 1.
 * Used for tier boundaries at a rational price without dividing.
 */
int sp__rules_cmp_mul(i128 a, i128 b, i128 c, i128 d);

/*
 * a x b for int64 factors: one 64 x 64 -> 128 multiply.  Taking int64
 * parameters keeps that explicit: with an i128 operand that had been spilled,
 * gcc 12 emitted the full 128 x 128 sequence (3 multiplies) in the
 * liquidation hot path (bench_rules, objdump).
 */
static inline i128 sp__rules_mul64(int64_t a, int64_t b)
{
    return (i128)a * b;
}

/*
 * a x b for factors known to be in [0, 2^63): one unsigned 64 x 64 -> 128
 * MUL.  In the one-leg hot path gcc kept q sign-extended in a register pair
 * and multiplied 128 x 64 (3 multiplies) even through sp__rules_mul64; with
 * the high halves known zero it emits the single MUL (bench_rules, objdump).
 */
static inline i128 sp__rules_umul64(int64_t a, int64_t b)
{
    return (i128)((u128)(uint64_t)a * (uint64_t)b);
}

/* True when x fits in int64. */
static inline bool sp__rules_fits64(i128 x)
{
    return x == (i128)(int64_t)x;
}

/* True when |x| < 2^64. */
static inline bool sp__rules_below64(i128 x)
{
    u128 m = x < 0 ? (u128)0 - (u128)x : (u128)x;
    return (m >> 64) == 0;
}

/*
 * *o = a * b, false on 128-bit overflow.  The common case (one factor in
 * int64, the other below 2^64) is one multiply; only wider factors pay for
 * the checked libgcc call.
 */
static inline bool sp__rules_mul(i128 a, i128 b, i128 *o)
{
    /* |a| < 2^63 and |b| < 2^64 (or the reverse): |a b| < 2^127 */
    if (SP_LIKELY((sp__rules_fits64(a) && sp__rules_below64(b)) ||
                  (sp__rules_fits64(b) && sp__rules_below64(a)))) {
        *o = a * b;
        return true;
    }
    return !__builtin_mul_overflow(a, b, o);
}

/* *o = a + b, false on 128-bit overflow. */
static inline bool sp__rules_add(i128 a, i128 b, i128 *o)
{
    return !__builtin_add_overflow(a, b, o);
}

#endif
