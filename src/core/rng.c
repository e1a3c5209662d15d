/*
 * rng.c -- xoshiro256** (Blackman & Vigna), seeded through splitmix64.
 *
 * Chosen for speed and a documented jump function; the sequence is fixed
 * by the algorithm, so results are identical on every platform.
 */
#include "stampede/rng.h"

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void sp_rng_seed(sp_rng *r, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = sp_splitmix64(&s);
}

uint64_t sp_rng_next(sp_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sp_rng_below(sp_rng *r, uint64_t bound)
{
    if (bound == 0)
        return 0;
    /* Lemire's multiply-shift with rejection of the biased low zone. */
    unsigned __int128 m = (unsigned __int128)sp_rng_next(r) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) {
            m = (unsigned __int128)sp_rng_next(r) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

void sp_rng_jump(sp_rng *r)
{
    static const uint64_t jump[] = {0x180ec6d33cfd0abaull, 0xd5a61266f0c9392cull,
                                    0xa9582618e03fc9aaull, 0x39abdc4529b1661cull};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (unsigned i = 0; i < 4; i++) {
        for (int b = 0; b < 64; b++) {
            if (jump[i] & (1ull << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            sp_rng_next(r);
        }
    }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
}
