/*
 * fuzz_feed_sync.c -- libFuzzer harness for the order-book sequence check.
 *
 * The input is cut into 64-byte sp_event records (kind, venue and flags
 * folded into the depth/snapshot kinds of the tracked venues so most
 * records exercise the sync).  Properties: no crash, at most one GAP per
 * input event, every input event other than a dropped stale update comes
 * out in order, and the counters agree with the output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stampede/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size / sizeof(sp_event);
    if (n == 0 || n > 4096)
        return 0;
    sp_event *in = malloc(n * sizeof(*in));
    sp_event *out = malloc(2 * n * sizeof(*out));
    if (in == NULL || out == NULL)
        goto done;
    memcpy(in, data, n * sizeof(*in));
    static const uint8_t venues[] = {SP_VENUE_BINANCE_UM, SP_VENUE_BINANCE_SPOT, SP_VENUE_BYBIT,
                                     SP_VENUE_OKX, SP_VENUE_SIM};
    for (size_t i = 0; i < n; i++) {
        in[i].kind = (in[i].kind & 1) ? SP_EV_DEPTH_UPDATE : SP_EV_BOOK_LEVEL;
        in[i].venue = venues[in[i].venue % 5];
        in[i].sub = (uint8_t)(in[i].sub & 1);
        in[i].symbol_id &= 3;
        in[i].aux[0] &= 15;
        in[i].aux[1] &= 15;
        in[i].aux[2] &= 15;
    }
    sp_feed_sync *s;
    if (sp_feed_sync_new(&s) != SP_OK)
        goto done;
    size_t got;
    if (sp_feed_sync_apply(s, in, n, out, 2 * n, &got) == SP_OK) {
        sp_feed_sync_stats st = sp_feed_sync_stats_get(s);
        size_t gaps = 0, j = 0;
        for (size_t i = 0; i < got; i++) {
            if (out[i].kind == SP_EV_GAP) {
                gaps++;
                continue;
            }
            while (j < n && memcmp(&in[j], &out[i], sizeof(sp_event)) != 0)
                j++; /* skipped inputs are stale drops */
            if (j == n)
                abort(); /* an output event that is not an input, or out of order */
            j++;
        }
        if (gaps != st.gaps || got - gaps + st.stale != n)
            abort();
    }
    sp_feed_sync_free(s);
done:
    free(in);
    free(out);
    return 0;
}
