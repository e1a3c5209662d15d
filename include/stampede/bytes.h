/*
 * bytes.h -- little-endian integers in byte buffers.
 *
 * Wire and file formats of stampede (the bus batch, Monte Carlo job rows)
 * are little-endian whatever the machine; these read and write them one
 * byte at a time, so alignment and byte order never matter.  The caller
 * guarantees the 2, 4 or 8 bytes at p exist.
 */
#ifndef STAMPEDE_BYTES_H
#define STAMPEDE_BYTES_H

#include <stdint.h>

#include "stampede/common.h"

SP_BEGIN_DECLS

static inline void sp_put_le16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void sp_put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void sp_put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t sp_get_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t sp_get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t sp_get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

SP_END_DECLS

#endif /* STAMPEDE_BYTES_H */
