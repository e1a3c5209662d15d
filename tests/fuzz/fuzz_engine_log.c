/*
 * fuzz_engine_log.c -- libFuzzer harness for the exchange core's command
 * files (sp_engine_cmd_parse + sp_engine_run_log + the engine itself).
 *
 * The input is a JSON-lines command log replayed on a fresh Binance
 * engine with one BTCUSDT instrument.  Properties checked on every input:
 * no crash or sanitizer report; every malformed line is reported with a
 * diagnostic; the whole log and the same log cut at its middle byte and
 * resumed from the reported offset end in the same state hash; and
 * sp_engine_check holds at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stampede/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_bad(void *ctx, const sp_diag *d)
{
    (void)ctx;
    if (d->code == SP_OK || d->msg[0] == '\0')
        abort();
}

static sp_engine *make(sp_instrument *in, sp_tier_table *t)
{
    memset(in, 0, sizeof(*in));
    in->venue = SP_VENUE_BINANCE_UM;
    memcpy(in->symbol, "BTCUSDT", 8);
    memcpy(in->settle, "USDT", 5);
    in->contract = SP_CONTRACT_LINEAR;
    in->ct_val = 100000000;
    in->tick = 10000000;
    in->lot = 100000;
    in->maker_fee = 20000;
    in->taker_fee = 50000;
    in->liq_fee = 1250000;
    in->funding_interval_h = 8;
    in->interest_rate = 10000;
    in->funding_clamp = 50000;
    in->liq_round = SP_PXRND_HALF_UP;
    in->liq_round_step = 1000000;
    memset(t, 0, sizeof(*t));
    t->venue = SP_VENUE_BINANCE_UM;
    memcpy(t->symbol, "BTCUSDT", 8);
    t->kind = SP_TIER_BRACKET;
    t->n = 2;
    t->tier[0] = (sp_tier){0, INT64_C(5000000000000), 400000, 0, 0, 125};
    t->tier[1] = (sp_tier){
        INT64_C(5000000000000), INT64_C(60000000000000), 500000, INT64_C(5000000000), 0, 100};
    sp_engine_config c = sp_engine_config_default(SP_VENUE_BINANCE_UM);
    c.max_accounts = c.max_positions = c.max_orders = 64;
    c.book_window = 1u << 16;
    sp_engine *e = NULL;
    if (sp_engine_new(&c, NULL, &e) != SP_OK ||
        sp_engine_add_instrument(e, in, t, 1, NULL) != SP_OK)
        abort();
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sp_instrument in;
    static sp_tier_table t;
    const char *buf = (const char *)data;
    sp_engine_log_stats st;
    sp_engine *a = make(&in, &t), *b = make(&in, &t);
    if (sp_engine_run_log(a, buf, size, true, "fuzz", 1, on_bad, NULL, &st) != SP_OK)
        abort();
    if (st.consumed != size)
        abort();
    size_t cut = size / 2;
    if (sp_engine_run_log(b, buf, cut, false, "fuzz", 1, on_bad, NULL, &st) != SP_OK)
        abort();
    size_t at = st.consumed;
    if (at > cut || (at > 0 && buf[at - 1] != '\n'))
        abort();
    if (sp_engine_run_log(b, buf + at, size - at, true, "fuzz", 1, on_bad, NULL, &st) != SP_OK)
        abort();
    if (sp_engine_state_hash(a) != sp_engine_state_hash(b))
        abort();
    sp_diag d;
    if (sp_engine_check(a, &d) != SP_OK)
        abort();
    sp_engine_free(a);
    sp_engine_free(b);
    return 0;
}
