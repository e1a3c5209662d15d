/*
 * test_engine_util.h -- helpers shared by the exchange-core tests: a
 * Binance-like BTCUSDT instrument and tier table written out from the spec
 * (docs/specs/exchange-rules.md §2.3 2024-10-24 snapshot, first brackets;
 * tick 0.10, lot 0.001, maker 0.02%, taker 0.05%, liquidation fee 1.25%),
 * an engine wrapper that records every event and runs sp_engine_check
 * after every command, and command builders.
 */
#ifndef TEST_ENGINE_UTIL_H
#define TEST_ENGINE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/alloc.h"
#include "stampede/engine.h"

#define TEU_UNUSED __attribute__((unused))
#define E8         INT64_C(100000000)

/* Text to scale 8, or fail the test. */
TEU_UNUSED static int64_t d8(const char *s)
{
    int64_t v = 0;
    sp_err rc = sp_dec_parse(s, strlen(s), 8, &v, NULL);
    if (rc != SP_OK)
        fail_msg("bad decimal %s", s);
    return v;
}

/* BTCUSDT with the spec's numbers; liq_fee as given (0 = Bybit-like). */
TEU_UNUSED static sp_instrument teu_btc(sp_venue venue, int64_t liq_fee)
{
    sp_instrument in;
    memset(&in, 0, sizeof(in));
    in.venue = venue;
    snprintf(in.symbol, sizeof(in.symbol), "BTCUSDT");
    snprintf(in.settle, sizeof(in.settle), "USDT");
    in.contract = SP_CONTRACT_LINEAR;
    in.ct_val = E8;
    in.tick = d8("0.1");
    in.lot = d8("0.001");
    in.maker_fee = d8("0.0002");
    in.taker_fee = d8("0.0005");
    in.liq_fee = liq_fee;
    in.funding_interval_h = 8;
    in.interest_rate = d8("0.0001");
    in.funding_clamp = d8("0.0005");
    in.funding_cap = d8("0.003");
    in.funding_floor = d8("-0.003");
    in.liq_round = SP_PXRND_HALF_UP;
    in.liq_round_step = d8("0.01");
    return in;
}

/* Spec §2.3, BTCUSDT 2024-10-24, brackets 1-4 (enough for tests). */
TEU_UNUSED static sp_tier_table teu_tiers(sp_venue venue)
{
    sp_tier_table t;
    memset(&t, 0, sizeof(t));
    t.venue = venue;
    snprintf(t.symbol, sizeof(t.symbol), "BTCUSDT");
    t.date = 20241024;
    t.kind = SP_TIER_BRACKET;
    t.verified = true;
    t.n = 4;
    t.tier[0] = (sp_tier){0, 50000 * E8, d8("0.004"), 0, 0, 125};
    t.tier[1] = (sp_tier){50000 * E8, 600000 * E8, d8("0.005"), 50 * E8, 0, 100};
    t.tier[2] = (sp_tier){600000 * E8, 3000000 * E8, d8("0.0065"), 950 * E8, 0, 75};
    t.tier[3] = (sp_tier){3000000 * E8, 12000000 * E8, d8("0.01"), 11450 * E8, 0, 50};
    return t;
}

/* Everything one test engine needs, in one place. */
typedef struct teu {
    sp_engine *e;
    sp_instrument in;
    sp_tier_table tiers;
    uint32_t inst;
    sp_event ev[4096]; /* the last events (ring) */
    size_t nev;        /* events seen in total */
    bool check;        /* run sp_engine_check after every command */
} teu;

static void teu_sink(void *ctx, const sp_event *ev)
{
    teu *t = ctx;
    t->ev[t->nev % (sizeof(t->ev) / sizeof(t->ev[0]))] = *ev;
    t->nev++;
}

TEU_UNUSED static void teu_open(teu *t, sp_venue venue, int64_t liq_fee, sp_engine_config *cfg)
{
    memset(t, 0, sizeof(*t));
    t->in = teu_btc(venue, liq_fee);
    t->tiers = teu_tiers(venue);
    sp_engine_config c = cfg ? *cfg : sp_engine_config_default(venue);
    if (!cfg) {
        c.max_orders = 1024;
        c.book_window = 1u << 20;
    }
    sp_engine_sink s = {teu_sink, t};
    assert_int_equal(sp_engine_new(&c, &s, &t->e), SP_OK);
    assert_int_equal(sp_engine_add_instrument(t->e, &t->in, &t->tiers, 1, &t->inst), SP_OK);
    t->check = true;
}

TEU_UNUSED static void teu_close(teu *t)
{
    sp_engine_free(t->e);
    t->e = NULL;
}

/* Submit c; assert SP_OK and the expected code; check the invariants. */
TEU_UNUSED static sp_engine_result teu_do(teu *t, const sp_engine_cmd *c, unsigned want_code)
{
    sp_engine_result r;
    sp_err rc = sp_engine_submit(t->e, c, &r);
    if (rc != SP_OK)
        fail_msg("submit kind %u: %s", c->kind, sp_errname(rc));
    if (r.code != want_code)
        fail_msg("submit kind %u: code %u (%s), want %u", c->kind, r.code,
                 sp_engine_reason_text(r.code), want_code);
    if (t->check) {
        sp_diag d;
        sp_diag_clear(&d);
        if (sp_engine_check(t->e, &d) != SP_OK)
            fail_msg("invariant after kind %u: %s", c->kind, d.msg);
    }
    return r;
}

TEU_UNUSED static void teu_deposit(teu *t, uint32_t acct, const char *amount)
{
    sp_engine_cmd c = {.kind = SP_CMD_DEPOSIT, .account = acct, .amount = d8(amount)};
    teu_do(t, &c, 0);
}

TEU_UNUSED static sp_engine_cmd teu_limit(uint32_t acct, uint64_t id, sp_side side, const char *px,
                                          const char *qty)
{
    sp_engine_cmd c = {.kind = SP_CMD_ORDER,
                       .account = acct,
                       .order_id = id,
                       .side = (uint8_t)side,
                       .type = SP_ORD_LIMIT,
                       .tif = SP_TIF_GTC,
                       .px = d8(px),
                       .qty = d8(qty)};
    return c;
}

TEU_UNUSED static void teu_mark(teu *t, const char *px)
{
    sp_engine_cmd c = {.kind = SP_CMD_MARK, .inst = t->inst, .px = d8(px)};
    teu_do(t, &c, 0);
}

TEU_UNUSED static void teu_setting(teu *t, uint32_t acct, sp_engine_cmd_kind kind, int64_t lev,
                                   uint8_t mode, unsigned want)
{
    sp_engine_cmd c = {.kind = (uint8_t)kind,
                       .account = acct,
                       .inst = t->inst,
                       .leverage = lev,
                       .margin_mode = mode};
    teu_do(t, &c, want);
}

TEU_UNUSED static sp_engine_position_info teu_pos(teu *t, uint32_t acct)
{
    sp_engine_position_info p;
    assert_int_equal(sp_engine_position(t->e, acct, t->inst, SP_POS_BOTH, &p), SP_OK);
    return p;
}

TEU_UNUSED static sp_engine_account_info teu_acct(teu *t, uint32_t acct)
{
    sp_engine_account_info a;
    assert_int_equal(sp_engine_account(t->e, acct, 0, &a), SP_OK);
    return a;
}

/* Count the recorded events of kind (and sub when sub >= 0) among the last n seen. */
TEU_UNUSED static size_t teu_count(const teu *t, unsigned kind, int sub)
{
    size_t n = 0, cap = sizeof(t->ev) / sizeof(t->ev[0]);
    size_t from = t->nev > cap ? t->nev - cap : 0;
    for (size_t i = from; i < t->nev; i++) {
        const sp_event *ev = &t->ev[i % cap];
        if (ev->kind == kind && (sub < 0 || ev->sub == sub))
            n++;
    }
    return n;
}

/* The last recorded event of kind (and sub when sub >= 0), or fail. */
TEU_UNUSED static sp_event teu_last(const teu *t, unsigned kind, int sub)
{
    size_t cap = sizeof(t->ev) / sizeof(t->ev[0]);
    size_t from = t->nev > cap ? t->nev - cap : 0;
    for (size_t i = t->nev; i > from; i--) {
        const sp_event *ev = &t->ev[(i - 1) % cap];
        if (ev->kind == kind && (sub < 0 || ev->sub == sub))
            return *ev;
    }
    fail_msg("no event of kind %u sub %d", kind, sub);
    sp_event none;
    memset(&none, 0, sizeof(none));
    return none;
}

#endif
