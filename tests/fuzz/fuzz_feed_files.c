/*
 * fuzz_feed_files.c -- libFuzzer harness for the file decoders: every
 * format of the registry (captures, data-dump CSVs, lasota CSVs, daily
 * series, JSON documents) through sp_feed_decode_mem, which also runs the
 * line framing.
 *
 * The first byte picks the format (and a source name from which formats
 * take their symbol); the rest is the file.  Properties: no crash or
 * sanitizer report, every reject carries a code, a message and a line
 * inside the input, every event has a valid kind and venue, and an
 * unusable input fills the diagnostic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stampede/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct chk {
    size_t lines;
} chk;

static sp_err on_events(void *ctx, const sp_event *ev, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind == SP_EV_NONE || ev[i].kind >= SP_EV_KIND_COUNT_ ||
            ev[i].venue >= SP_VENUE_COUNT_)
            abort();
    }
    return SP_OK;
}

static void on_reject(void *ctx, const sp_diag *why)
{
    const chk *c = ctx;
    if (why->code == SP_OK || why->msg[0] == '\0' || why->source == NULL)
        abort();
    if (why->line > c->lines + 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t nf = sp_feed_format_count();
    const char *fmt = sp_feed_format_name(data[0] % nf);
    /* names that carry what the name-driven formats need */
    static const char *const names[] = {
        "BTCUSDT-1m-2026-02-05.csv",
        "BTCUSDT_4h.csv",
        "x_usd_m_futures_trxusdt_14-04-2025.csv",
        "BTCUSD_PERP-liquidationSnapshot-2024-10-01.csv",
    };
    const char *src = names[(data[0] >> 5) % 4];
    chk c = {1};
    for (size_t i = 1; i < size; i++)
        c.lines += data[i] == '\n';
    sp_symtab *syms;
    if (sp_symtab_new(&syms) != SP_OK)
        return 0;
    sp_feed_sink sink = {on_events, on_reject, &c};
    sp_diag d;
    sp_err rc =
        sp_feed_decode_mem(data + 1, size - 1, src, (data[0] & 0x10) ? NULL : fmt, syms, &sink, &d);
    if (rc != SP_OK && (d.code != rc || d.msg[0] == '\0'))
        abort();
    sp_symtab_free(syms);
    return 0;
}
