/*
 * fuzz_feed_ws.c -- libFuzzer harness for the hot WebSocket decoders.
 *
 * The first byte picks the decoder (Binance USD-M, Bybit v5 linear or
 * spot, OKX v5, Binance REST depth snapshot); the rest is one message.
 * Properties checked on every input: no read past the message (ASan), a
 * failure always fills the diagnostic with its code, a message and a
 * column inside the message, and a failure emits nothing; a success
 * emits events whose kinds and venues are valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stampede/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static sp_event ev[CAP];
    const char *msg = (const char *)data + 1;
    size_t n = size - 1, got = 99;
    sp_symtab *syms;
    if (sp_symtab_new(&syms) != SP_OK)
        return 0;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc;
    switch (data[0] % 5) {
    case 0:
        rc = sp_feed_binance_ws(msg, n, 1, syms, ev, CAP, &got, &d);
        break;
    case 1:
    case 2: {
        sp_feed_bybit *c;
        if (sp_feed_bybit_new(data[0] % 5 == 2, &c) != SP_OK) {
            sp_symtab_free(syms);
            return 0;
        }
        /* twice: the second pass sees the ticker state of the first */
        rc = sp_feed_bybit_v5(c, msg, n, 1, syms, ev, CAP, &got, &d);
        if (rc == SP_OK)
            rc = sp_feed_bybit_v5(c, msg, n, 1, syms, ev, CAP, &got, &d);
        sp_feed_bybit_free(c);
        break;
    }
    case 3:
        rc = sp_feed_okx_v5(msg, n, 1, syms, ev, CAP, &got, &d);
        break;
    default:
        rc = sp_feed_binance_depth_snapshot(msg, n, 1, SP_VENUE_BINANCE_UM, 1, ev, CAP, &got, &d);
        break;
    }
    if (rc != SP_OK) {
        if (d.code != rc || d.msg[0] == '\0' || got != 0)
            abort();
        if (d.column > n + 1)
            abort();
    } else {
        if (got > CAP)
            abort();
        for (size_t i = 0; i < got; i++) {
            if (ev[i].kind == SP_EV_NONE || ev[i].kind >= SP_EV_KIND_COUNT_ ||
                ev[i].venue >= SP_VENUE_COUNT_ || ev[i].local_ts_ns != 1)
                abort();
        }
    }
    sp_symtab_free(syms);
    return 0;
}
