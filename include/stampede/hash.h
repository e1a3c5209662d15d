/*
 * hash.h -- a stable 64-bit hash of bytes (FNV-1a).
 *
 * For identities that must not change between runs, machines or
 * versions: an exchange's string trade id folded into an event field, a
 * natural key, a state hash.  Not for hash tables facing hostile input and
 * not cryptographic.
 */
#ifndef STAMPEDE_HASH_H
#define STAMPEDE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"

SP_BEGIN_DECLS

#define SP_FNV64_OFFSET 0xcbf29ce484222325ull
#define SP_FNV64_PRIME  0x100000001b3ull

/* FNV-1a of n bytes at p, continuing from h (start with SP_FNV64_OFFSET). */
static inline uint64_t sp_fnv1a64(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= SP_FNV64_PRIME;
    }
    return h;
}

/*
 * FNV-1a of the 8 bytes of v, least significant first, continuing from h:
 * the same value on every machine whatever its byte order (state hashes
 * and stored keys fold integers with this).
 */
static inline uint64_t sp_fnv1a64_i64(uint64_t h, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++) {
        h ^= (u >> (8 * i)) & 0xffu;
        h *= SP_FNV64_PRIME;
    }
    return h;
}

/*
 * A positive int64 id for an opaque string id (a UUID trade id): the
 * FNV-1a hash of its bytes with the top bit cleared, and never 0 (0 means
 * "no id" in an event).  Stable forever: stored keys depend on it.
 */
static inline int64_t sp_id_hash63(const char *s, size_t n)
{
    uint64_t h = sp_fnv1a64(s, n, SP_FNV64_OFFSET) & 0x7fffffffffffffffull;
    return h ? (int64_t)h : 1;
}

SP_END_DECLS

#endif /* STAMPEDE_HASH_H */
