/*
 * rng.h -- deterministic pseudo-random numbers for generators, tests,
 * benchmarks and the simulator.
 *
 * splitmix64 is the workload generator of specs/perf-anchors.md (W1 and the
 * CSV workload are specified bit for bit on it).  xoshiro256** is the
 * general generator, seeded from splitmix64; sp_rng_jump gives 2^128
 * non-overlapping streams for per-scenario / per-thread determinism.
 * Same seed, same sequence, on every machine.  Not for cryptography.
 */
#ifndef STAMPEDE_RNG_H
#define STAMPEDE_RNG_H

#include <stdint.h>

#include "stampede/common.h"

SP_BEGIN_DECLS

/* Advance *state and return the next splitmix64 output. */
static inline uint64_t sp_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* xoshiro256** state; caller-allocated. */
typedef struct sp_rng {
    uint64_t s[4]; /* private */
} sp_rng;

/* Seed r from seed (expanded through splitmix64). */
SP_API void sp_rng_seed(sp_rng *r, uint64_t seed);

/* Next 64 random bits. */
SP_API uint64_t sp_rng_next(sp_rng *r);

/* Uniform integer in [0, bound) without modulo bias; bound 0 returns 0. */
SP_API uint64_t sp_rng_below(sp_rng *r, uint64_t bound);

/* Advance r by 2^128 steps (a fresh independent stream). */
SP_API void sp_rng_jump(sp_rng *r);

SP_END_DECLS

#endif /* STAMPEDE_RNG_H */
