/*
 * test_engine_log.c -- JSON-lines command files: every field form, the
 * malformed lines (each refused with its field and line, the rest goes
 * on), and the fault test of issue 8: a command log cut at any byte
 * resumes exactly from the last whole command (same state hash as the
 * uncut replay), checked at every cut point of a real scenario file and
 * at random cuts of a generated one.
 */
#include <stdlib.h>

#include "test_engine_util.h"
#include "stampede/buf.h"
#include "stampede/rng.h"
#include "testalloc.h"

typedef struct bad_log {
    int n;
    uint64_t lines[16];
    char fields[16][SP_DIAG_FIELD_MAX];
} bad_log;

static void on_bad(void *ctx, const sp_diag *d)
{
    bad_log *b = ctx;
    if (b->n < 16) {
        b->lines[b->n] = d->line;
        memcpy(b->fields[b->n], d->field, sizeof(d->field));
    }
    b->n++;
}

static void test_parse_forms(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    sp_engine_cmd c;
    sp_diag d;
    const char *l1 = "{\"cmd\":\"order\",\"account\":3,\"symbol\":\"BTCUSDT\",\"id\":9,\"side\":"
                     "\"sell\",\"type\":\"limit\",\"tif\":\"ioc\",\"price\":\"62500.1\",\"qty\":"
                     "\"0.016\",\"reduce_only\":true,\"ts\":\"2026-02-06T00:00:01Z\"}";
    assert_int_equal(sp_engine_cmd_parse(t.e, l1, strlen(l1), &c, &d), SP_OK);
    assert_int_equal(c.kind, SP_CMD_ORDER);
    assert_int_equal(c.account, 3);
    assert_int_equal(c.order_id, 9);
    assert_int_equal(c.side, SP_SELL);
    assert_int_equal(c.tif, SP_TIF_IOC);
    assert_int_equal(c.flags, SP_ORDF_REDUCE_ONLY);
    assert_int_equal(c.px, d8("62500.1"));
    assert_int_equal(c.qty, d8("0.016"));
    assert_int_equal(c.ts_ns, INT64_C(1770336001) * 1000000000);
    const char *l2 = "{\"cmd\":\"deposit\",\"account\":1,\"asset\":\"USDT\",\"amount\":1000,"
                     "\"ts\":1770336000000}";
    assert_int_equal(sp_engine_cmd_parse(t.e, l2, strlen(l2), &c, &d), SP_OK);
    assert_int_equal(c.amount, d8("1000"));
    assert_int_equal(c.ts_ns, INT64_C(1770336000) * 1000000000);
    const char *l3 = "{\"cmd\":\"funding\",\"symbol\":\"BTCUSDT\",\"rate\":\"-0.0001\"}";
    assert_int_equal(sp_engine_cmd_parse(t.e, l3, strlen(l3), &c, &d), SP_OK);
    assert_true(c.has_rate);
    assert_int_equal(c.rate, -d8("0.0001"));
    struct {
        const char *line;
        const char *field;
        sp_err rc;
    } bad[] = {
        {"{\"cmd\":\"deposit\",\"account\":1,\"amount\":1000.5}", "amount", SP_EPARSE},
        {"{\"cmd\":\"deposit\",\"account\":1,\"amount\":\"1e3\"}", "amount", SP_EPARSE},
        {"{\"cmd\":\"deposit\",\"account\":1,\"amount\":\"0.000000001\"}", "amount", SP_EPRECISION},
        {"{\"cmd\":\"deposit\",\"account\":1}", "amount", SP_EPARSE},
        {"{\"cmd\":\"order\",\"account\":1,\"symbol\":\"ETHUSDT\",\"id\":1,\"side\":\"buy\","
         "\"price\":\"1\",\"qty\":\"1\"}",
         "symbol", SP_EINVAL},
        {"{\"cmd\":\"order\",\"account\":1,\"symbol\":\"BTCUSDT\",\"id\":1,\"side\":\"up\","
         "\"price\":\"1\",\"qty\":\"1\"}",
         "side", SP_EINVAL},
        {"{\"cmd\":\"fly\"}", "cmd", SP_EINVAL},
        {"{\"cmd\":\"tick\",\"colour\":1}", "colour", SP_EPARSE},
        {"{\"cmd\":\"tick\",\"ts\":\"yesterday\"}", "ts", SP_EPARSE},
        {"{\"cmd\":\"leverage\",\"account\":-1,\"symbol\":\"BTCUSDT\",\"leverage\":5}", "account",
         SP_ERANGE},
        {"[1,2]", "", SP_EPARSE},
        {"{\"cmd\":", "", SP_EPARSE},
    };
    for (size_t i = 0; i < SP_COUNTOF(bad); i++) {
        sp_diag_clear(&d);
        sp_err rc = sp_engine_cmd_parse(t.e, bad[i].line, strlen(bad[i].line), &c, &d);
        if (rc != bad[i].rc || strcmp(d.field, bad[i].field) != 0)
            fail_msg("case %zu: %s field '%s' (%s), want %s '%s'", i, sp_errname(rc), d.field,
                     d.msg, sp_errname(bad[i].rc), bad[i].field);
    }
    teu_close(&t);
}

/* Malformed lines are reported with their line number and skipped; the rest runs. */
static void test_run_log_goes_on(void **state)
{
    (void)state;
    teu t;
    teu_open(&t, SP_VENUE_BINANCE_UM, 0, NULL);
    const char *log = "# a comment\n"
                      "{\"cmd\":\"deposit\",\"account\":1,\"amount\":\"100\"}\n"
                      "\n"
                      "{\"cmd\":\"deposit\",\"account\":1,\"amount\":12.5}\n"
                      "{\"cmd\":\"withdraw\",\"account\":1,\"amount\":\"500\"}\n"
                      "not json\r\n"
                      "{\"cmd\":\"deposit\",\"account\":1,\"amount\":\"1\"}";
    bad_log b;
    memset(&b, 0, sizeof(b));
    sp_engine_log_stats st;
    assert_int_equal(sp_engine_run_log(t.e, log, strlen(log), true, "t.jsonl", 1, on_bad, &b, &st),
                     SP_OK);
    assert_int_equal(st.lines, 7);
    assert_int_equal(st.commands, 3);
    assert_int_equal(st.malformed, 2);
    assert_int_equal(st.rejected, 1); /* the withdrawal above the balance */
    assert_int_equal(b.n, 2);
    assert_int_equal(b.lines[0], 4);
    assert_string_equal(b.fields[0], "amount");
    assert_int_equal(b.lines[1], 6);
    assert_int_equal(st.consumed, strlen(log));
    assert_int_equal(teu_acct(&t, 1).wallet, d8("101"));
    teu_close(&t);
}

static uint64_t replay(const char *buf, size_t n, size_t cut, bool split)
{
    teu *t = malloc(sizeof(*t));
    assert_non_null(t);
    sp_engine_config cfg = sp_engine_config_default(SP_VENUE_BINANCE_UM);
    cfg.max_accounts = cfg.max_positions = 64;
    cfg.max_orders = 4096;
    cfg.book_window = 1u << 17; /* 13,107.2 USDT of 0.1 ticks: both logs stay inside */
    teu_open(t, SP_VENUE_BINANCE_UM, d8("0.0125"), &cfg);
    sp_engine_log_stats st;
    size_t at = 0;
    if (split) {
        /* the crash: only the bytes before `cut` were written */
        assert_int_equal(sp_engine_run_log(t->e, buf, cut, false, "log", 1, NULL, NULL, &st),
                         SP_OK);
        assert_true(st.consumed <= cut);
        assert_true(st.consumed == 0 || buf[st.consumed - 1] == '\n');
        at = st.consumed;
    }
    assert_int_equal(sp_engine_run_log(t->e, buf + at, n - at, true, "log", 1, NULL, NULL, &st),
                     SP_OK);
    assert_int_equal(st.malformed, 0);
    uint64_t h = sp_engine_state_hash(t->e);
    teu_close(t);
    free(t);
    return h;
}

/* Cut points spread over the whole scenario file (about a hundred, both ends included). */
static void test_cut_resume_scenario(void **state)
{
    (void)state;
    size_t n;
    char *buf = sp_test_slurp("tests/data/engine/liquidation_adl.jsonl", &n);
    uint64_t whole = replay(buf, n, 0, false);
    for (size_t cut = 0; cut <= n; cut += 1 + n / 97)
        assert_int_equal(replay(buf, n, cut, true), whole);
    assert_int_equal(replay(buf, n, n, true), whole);
    free(buf);
}

/* A generated log of 3,000 commands cut at 40 random bytes. */
static void test_cut_resume_random(void **state)
{
    (void)state;
    sp_buf b;
    sp_buf_init(&b, 0);
    sp_rng r;
    sp_rng_seed(&r, 8);
    for (int a = 1; a <= 50; a++)
        assert_int_equal(sp_buf_printf(&b,
                                       "{\"cmd\":\"deposit\",\"account\":%d,\"amount\":\"%d\"}\n",
                                       a, 1000 + a * 37),
                         SP_OK);
    for (int i = 0; i < 3000; i++) {
        int a = 1 + (int)sp_rng_below(&r, 50);
        if (i % 50 == 49) {
            assert_int_equal(sp_buf_printf(&b,
                                           "{\"cmd\":\"mark\",\"symbol\":\"BTCUSDT\",\"price\":"
                                           "\"%d.%d\"}\n",
                                           60000 + (int)sp_rng_below(&r, 5000),
                                           (int)sp_rng_below(&r, 10)),
                             SP_OK);
            continue;
        }
        assert_int_equal(sp_buf_printf(&b,
                                       "{\"cmd\":\"order\",\"account\":%d,\"symbol\":"
                                       "\"BTCUSDT\",\"id\":%d,\"side\":\"%s\",\"price\":"
                                       "\"%d\",\"qty\":\"0.0%02d\"}\n",
                                       a, i + 1, sp_rng_below(&r, 2) ? "buy" : "sell",
                                       61000 + (int)sp_rng_below(&r, 3000),
                                       1 + (int)sp_rng_below(&r, 20)),
                         SP_OK);
    }
    uint64_t whole = replay(b.data, b.len, 0, false);
    for (int k = 0; k < 40; k++) {
        size_t cut = (size_t)sp_rng_below(&r, b.len + 1);
        assert_int_equal(replay(b.data, b.len, cut, true), whole);
    }
    sp_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_run_log_goes_on),
        cmocka_unit_test(test_cut_resume_scenario),
        cmocka_unit_test(test_cut_resume_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
