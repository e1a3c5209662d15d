/*
 * fastnum.h -- digit-run conversion shared by the fast row / message paths
 * of src/feed/ (binance_fast.c for WebSocket JSON, binance_csv.c for the
 * aggTrades CSV rows).  Header-only, static inline: the callers are hot
 * loops and the helpers are a few instructions each.
 *
 * sp__digits reads a run of ASCII digits and converts it, eight bytes at
 * a time (SWAR: one 8-byte load, a digit test on all eight bytes, three
 * multiplications) where eight bytes remain before `end`, one byte at a
 * time for the tail.  Measured under callgrind on the bench messages, the
 * byte loop cost ~5 Ir per digit; aggTrade messages carry ~65 digits and
 * aggTrades CSV rows ~45.  Never reads at or past `end`.
 */
#ifndef SP_FEED_FASTNUM_H
#define SP_FEED_FASTNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Hot helpers are forced inline: each is used a few times per template. */
#define SP__HOT static inline __attribute__((always_inline))

/* 10^0 .. 10^19 as unsigned 64-bit values. */
static const uint64_t sp__pow10_u64[20] = {1ULL,
                                           10ULL,
                                           100ULL,
                                           1000ULL,
                                           10000ULL,
                                           100000ULL,
                                           1000000ULL,
                                           10000000ULL,
                                           100000000ULL,
                                           1000000000ULL,
                                           10000000000ULL,
                                           100000000000ULL,
                                           1000000000000ULL,
                                           10000000000000ULL,
                                           100000000000000ULL,
                                           1000000000000000ULL,
                                           10000000000000000ULL,
                                           100000000000000000ULL,
                                           1000000000000000000ULL,
                                           10000000000000000000ULL};

SP__HOT bool sp__is_digit(char c)
{
    return (unsigned)(c - '0') < 10u;
}

SP__HOT uint64_t sp__load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

SP__HOT uint32_t sp__load4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SP__SWAR_DIGITS 1
#endif

#ifdef SP__SWAR_DIGITS
/*
 * Byte i of the result has bit 7 set if byte i of the little-endian word w
 * is not an ASCII digit.  Only the lowest set bit is exact (a carry out of
 * a non-digit byte may mark later bytes), which is all the callers use.
 */
SP__HOT uint64_t sp__nondigit8(uint64_t w)
{
    uint64_t t = w ^ 0x3030303030303030ULL; /* digit bytes -> 0..9 */
    return ((t + 0x7676767676767676ULL) | t) & 0x8080808080808080ULL;
}

/* The value of the k (1..8) digits at the start of w (already checked digits). */
SP__HOT uint64_t sp__conv8(uint64_t w, unsigned k)
{
    uint64_t v = (w ^ 0x3030303030303030ULL) << (64 - 8 * k); /* digits to the top bytes */
    v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;
    v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL;
    return (v * 10000 + (v >> 32)) & 0xFFFFFFFFULL;
}
#endif

/*
 * The run of ASCII digits at p (stopping at end): its length, and its value
 * in *val when the length is at most 19.  Counting stops soon after 19
 * digits (callers reject such runs: the count returned is then > 19 or the
 * byte after it is a digit, never a valid-looking short run).
 */
SP__HOT size_t sp__digits(const char *p, const char *end, uint64_t *val)
{
    uint64_t acc = 0;
    size_t nd = 0;
#ifdef SP__SWAR_DIGITS
    while (end - p >= 8 && nd <= 19) {
        uint64_t w = sp__load8(p), bad = sp__nondigit8(w);
        unsigned k = bad ? (unsigned)__builtin_ctzll(bad) / 8 : 8; /* digits in this word */
        if (k > 0) {
            acc =
                acc * sp__pow10_u64[k] + sp__conv8(w, k); /* wraps only past 19 digits: rejected */
            nd += k;
            p += k;
        }
        if (k < 8) {
            *val = acc;
            return nd;
        }
    }
#endif
    while (p < end && sp__is_digit(*p) && nd <= 19) {
        acc = acc * 10 + (uint64_t)(*p++ - '0');
        nd++;
    }
    if (p < end && sp__is_digit(*p))
        nd++; /* still more: the count alone says "too long" */
    *val = acc;
    return nd;
}

#endif /* SP_FEED_FASTNUM_H */
