/*
 * fuzz_rules_json.c -- libFuzzer harness for the rules data loader
 * (src/rules/db.c): stampede instrument and tier files and the Binance,
 * Bybit and OKX tier API shapes, all through the number-quoting lexer and
 * jansson.  Properties checked on every input: no crash or sanitizer
 * report; a failure always fills the diagnostic and leaves the database
 * empty (a file loads whole or not at all); every loaded tier table is
 * ascending and contiguous; and every loaded instrument prices a small
 * position through sp_rules_liq without crashing (errors are allowed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stampede/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sp_rules_db *db = NULL;
    if (sp_rules_db_new(&db) != SP_OK)
        return 0;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err e =
        sp_rules_db_load_buf(db, (const char *)data, size, "fuzz", SP_VENUE_NONE, 20240101, &d);
    if (e != SP_OK) {
        if (d.code != e || d.msg[0] == '\0')
            abort();
        if (sp_rules_db_instrument_count(db) != 0 || sp_rules_db_table_count(db) != 0)
            abort();
    }
    for (size_t i = 0; i < sp_rules_db_table_count(db); i++) {
        const sp_tier_table *t = sp_rules_db_table_at(db, i);
        if (t->n == 0 || t->n > SP_RULES_TIERS_MAX || t->tier[0].floor != 0)
            abort();
        for (uint32_t k = 1; k < t->n; k++) {
            if (t->tier[k].floor != t->tier[k - 1].cap || t->tier[k].cap <= t->tier[k].floor)
                abort();
        }
    }
    for (size_t i = 0; i < sp_rules_db_instrument_count(db); i++) {
        const sp_instrument *in = sp_rules_db_instrument_at(db, i);
        sp_rules_pos p;
        memset(&p, 0, sizeof(p));
        p.inst = in;
        p.tiers = sp_rules_db_tiers(db, in->venue, in->symbol, 99991231, false);
        p.mode = SP_MARGIN_ISOLATED;
        p.side = 1;
        p.qty = 100000000;
        p.entry_px = 6250000000000;
        p.margin = 100000000000;
        p.mmr = 400000;
        sp_rules_out o;
        (void)sp_rules_liq(&p, &o);
    }
    sp_rules_db_free(db);
    return 0;
}
