/*
 * fuzz_live_config.c -- libFuzzer harness for the live connectors' config
 * parser and the replay server's fault grammar (src/feed/live_config.c).
 *
 * The input is a config file; its first line (up to 200 bytes) is also
 * tried as a --faults spec.  Properties: never a crash or an out-of-bounds
 * read (ASan); a refusal fills the diagnostic (code = the return value,
 * non-empty message); an accepted config has every URL NUL-terminated
 * inside its buffer and a ws:// or wss:// scheme, limits inside their
 * documented ranges, and every stream template expands or is refused
 * without writing past the output; accepted faults have N >= 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stampede/live.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sp_live_config c;
    sp_diag d;
    sp_err rc = sp_live_config_parse((const char *)data, size, "fuzz", &c, &d);
    if (rc != SP_OK) {
        if (d.code != rc || d.msg[0] == '\0')
            abort();
    } else {
        if (c.nvenues > 3 || c.max_frame < 64 || c.backoff_max_ms < c.backoff_min_ms)
            abort();
        for (size_t i = 0; i < c.nvenues; i++) {
            const sp_live_venue_cfg *v = &c.venue[i];
            if (memchr(v->ws_url, '\0', sizeof(v->ws_url)) == NULL ||
                memchr(v->rest_url, '\0', sizeof(v->rest_url)) == NULL)
                abort();
            if (strncmp(v->ws_url, "ws://", 5) != 0 && strncmp(v->ws_url, "wss://", 6) != 0)
                abort();
            for (unsigned s = 0; s < SP_LIVE_STREAM_COUNT_; s++) {
                char out[96];
                out[sizeof(out) - 1] = 'Z';
                sp_err e = sp_live_expand(v->stream[s], "BTCUSDT", out, sizeof(out) - 1);
                if (out[sizeof(out) - 1] != 'Z')
                    abort();
                if (e == SP_OK && strlen(out) >= sizeof(out) - 1)
                    abort();
            }
        }
    }
    char spec[201];
    size_t n = 0;
    while (n < size && n < 200 && data[n] != '\n' && data[n] != '\0') {
        spec[n] = (char)data[n];
        n++;
    }
    spec[n] = '\0';
    sp_fault f[SP_LIVE_FAULTS_MAX];
    size_t nf = 0;
    rc = sp_fault_parse(spec, f, SP_LIVE_FAULTS_MAX, &nf, &d);
    if (rc == SP_OK) {
        for (size_t i = 0; i < nf; i++) {
            if (f[i].at == 0 || f[i].kind < SP_FAULT_DROP || f[i].kind > SP_FAULT_BURST)
                abort();
        }
    } else if (d.code != rc || d.column == 0 || d.column > n + 1) {
        abort();
    }
    return 0;
}
