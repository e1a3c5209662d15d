/*
 * fuzz_decimal.c -- libFuzzer harness for the decimal parser.
 *
 * The first byte picks the scale, flags and rounding mode; the rest is
 * the text.  Properties checked on every input: the parser never reads
 * past the text (ASan), a failure always fills the diagnostic, and an
 * accepted value formats back to text that parses to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stampede/fixed.h"
#include "stampede/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned scale = data[0] % (SP_SCALE_MAX + 1);
    unsigned flags = (data[0] >> 5) & 0x7u;
    sp_rounding rnd = (sp_rounding)((data[0] >> 2) % 7);
    const char *text = (const char *)data + 1;
    size_t n = size - 1;

    int64_t v = 0;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = sp_dec_parse_ex(text, n, scale, flags, rnd, &v, &d);
    if (rc != SP_OK) {
        if (d.code != rc || d.msg[0] == '\0')
            abort();
        return 0;
    }
    char out[SP_DEC_FMT_MAX];
    size_t len = sp_dec_format(v, scale, 0, out, sizeof(out));
    if (len == 0)
        abort();
    int64_t back;
    if (sp_dec_parse(out, len, scale, &back, NULL) != SP_OK || back != v)
        abort();
    /* without rounding, an accepted text is exact: trimmed forms agree */
    if ((flags & SP_DEC_ROUND) == 0) {
        char trimmed[SP_DEC_FMT_MAX];
        size_t tl = sp_dec_format(v, scale, SP_FMT_TRIM, trimmed, sizeof(trimmed));
        if (sp_dec_parse(trimmed, tl, scale, &back, NULL) != SP_OK || back != v)
            abort();
    }
    return 0;
}
