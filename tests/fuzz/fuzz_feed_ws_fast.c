/*
 * fuzz_feed_ws_fast.c -- differential libFuzzer harness for the Binance
 * fast path (src/feed/binance_fast.c).
 *
 * Each input is one message, decoded twice: by sp_feed_binance_ws (the
 * fixed-layout fast path first, the general decoder when it gives up) and
 * by sp__binance_ws_general alone, each with its own symbol table.  Both
 * must return the same code, the same events byte for byte, the same
 * number of interned symbols and, on failure, the same diagnostic (code,
 * message, column, field); anything else aborts.  The corpus starts from
 * the documented aggTrade / forceOrder layouts, bare and wrapped, so the
 * mutations explore the boundary where the fast path must hand over.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_int.h"
#include "stampede/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sp_event e1[CAP], e2[CAP];
    const char *msg = (const char *)data;
    sp_symtab *s1, *s2;
    if (sp_symtab_new(&s1) != SP_OK)
        return 0;
    if (sp_symtab_new(&s2) != SP_OK) {
        sp_symtab_free(s1);
        return 0;
    }
    memset(e1, 0, sizeof(e1));
    memset(e2, 0, sizeof(e2));
    size_t n1 = 99, n2 = 99;
    sp_diag d1, d2;
    sp_diag_clear(&d1);
    sp_diag_clear(&d2);
    sp_err r1 = sp_feed_binance_ws(msg, size, 3, s1, e1, CAP, &n1, &d1);
    sp_err r2 = sp__binance_ws_general(msg, size, 3, s2, e2, CAP, &n2, &d2);
    if (r1 != r2 || n1 != n2 || sp_symtab_count(s1) != sp_symtab_count(s2))
        abort();
    if (r1 == SP_OK) {
        if (n1 > CAP || memcmp(e1, e2, n1 * sizeof(sp_event)) != 0)
            abort();
    } else if (d1.code != d2.code || strcmp(d1.msg, d2.msg) != 0 || d1.column != d2.column ||
               strcmp(d1.field, d2.field) != 0) {
        abort();
    }
    sp_symtab_free(s1);
    sp_symtab_free(s2);
    return 0;
}
