/*
 * fuzz_bus.c -- libFuzzer harness for the bus wire decoder (src/bus/wire.c).
 *
 * The input is one message as it would arrive on ev.>.  Properties checked
 * on every input: the decoder never reads outside the message (ASan), a
 * refusal always fills the diagnostic with a field and an offset inside
 * the message, and an accepted batch re-encodes to exactly the same bytes
 * (the format has one spelling per batch, so nothing is silently
 * normalised away).  Inputs whose length is odd are decoded as they are;
 * for even lengths the harness first rewrites the CRC field to the right
 * value, so mutations reach the checks behind the CRC (symbol, padding,
 * records) instead of all dying at the checksum.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "stampede/bus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sp_event ev[SP_BUS_BATCH_MAX];
static unsigned char again[SP_BUS_BATCH_BYTES(SP_SYMBOL_MAX, SP_BUS_BATCH_MAX)];
static unsigned char fixed[SP_BUS_BATCH_BYTES(SP_SYMBOL_MAX, SP_BUS_BATCH_MAX)];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size % 2 == 0 && size >= SP_BUS_HEADER_SIZE && size <= sizeof(fixed)) {
        /* the CRC as the encoder computes it: header bytes 0..23, then the body */
        memcpy(fixed, data, size);
        uLong c = crc32(0L, Z_NULL, 0);
        c = crc32(c, fixed, 24);
        c = crc32(c, fixed + SP_BUS_HEADER_SIZE, (uInt)(size - SP_BUS_HEADER_SIZE));
        for (int i = 0; i < 4; i++)
            fixed[24 + i] = (unsigned char)(c >> (8 * i));
        data = fixed;
    }
    sp_bus_batch b;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = sp_bus_decode(data, size, 1, ev, SP_BUS_BATCH_MAX, &b, &d);
    if (rc != SP_OK) {
        if (d.code != rc || d.msg[0] == '\0' || d.field[0] == '\0' || d.offset > size)
            abort();
        return 0;
    }
    if (b.count == 0 || b.count > SP_BUS_BATCH_MAX)
        abort();
    size_t len = 0;
    rc = sp_bus_encode(ev, b.count, b.symbol[0] ? b.symbol : NULL, b.batch_id, again, sizeof(again),
                       &len, &d);
    if (rc != SP_OK || len != size || memcmp(again, data, size) != 0)
        abort();
    return 0;
}
