/*
 * test_engine_store.c -- the engine's output across the SQLite round trip:
 * a liquidation / ADL scenario's events are appended to a fresh SQLite
 * store and read back; the records must come back bit for bit (compared
 * as sorted multisets, the store returns them in key order), and a second
 * run of the same commands must give the same events and state hash.
 * Per-position funding payments (FUNDING_PAY, one per account) are stored
 * too: they once shared the settlement's natural key and were dropped.
 */
#include <stdlib.h>
#include <unistd.h>

#include "test_engine_util.h"
#include "stampede/store.h"
#include "stampede/symtab.h"
#include "testalloc.h"

typedef struct evs {
    sp_event *v;
    size_t n, cap;
} evs;

static void push(evs *a, const sp_event *ev)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        a->v = realloc(a->v, a->cap * sizeof(*a->v));
        assert_non_null(a->v);
    }
    a->v[a->n++] = *ev;
}

static void keep(void *ctx, const sp_event *ev)
{
    evs *a = ctx;
    sp_event e = *ev;
    e.local_ts_ns = (int64_t)a->n; /* the run's sequence: distinct natural keys */
    push(a, &e);
}

static sp_err back(void *ctx, const sp_event *ev, const char *symbol)
{
    (void)symbol;
    push(ctx, ev);
    return SP_OK;
}

static int cmp_ev(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(sp_event));
}

static uint64_t run_scenario(evs *out)
{
    static sp_instrument in;
    static sp_tier_table t;
    in = teu_btc(SP_VENUE_BINANCE_UM, d8("0.0125"));
    t = teu_tiers(SP_VENUE_BINANCE_UM);
    sp_engine_config c = sp_engine_config_default(SP_VENUE_BINANCE_UM);
    c.max_accounts = c.max_positions = c.max_orders = 256;
    c.book_window = 1u << 17;
    sp_engine_sink s = {keep, out};
    sp_engine *e;
    assert_int_equal(sp_engine_new(&c, &s, &e), SP_OK);
    assert_int_equal(sp_engine_add_instrument(e, &in, &t, 1, NULL), SP_OK);
    FILE *f = fopen(sp_test_path("tests/data/engine/liquidation_adl.jsonl"), "rb");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    sp_engine_log_stats st;
    assert_int_equal(sp_engine_run_log(e, buf, n, true, "s", 1, NULL, NULL, &st), SP_OK);
    assert_int_equal(st.malformed, 0);
    uint64_t h = sp_engine_state_hash(e);
    sp_engine_free(e);
    return h;
}

static void test_sqlite_round_trip(void **state)
{
    (void)state;
    evs a = {0}, b = {0}, r = {0};
    uint64_t h1 = run_scenario(&a), h2 = run_scenario(&b);
    assert_int_equal(h1, h2);
    assert_int_equal(a.n, b.n);
    assert_int_equal(memcmp(a.v, b.v, a.n * sizeof(sp_event)), 0);
    size_t nadl = 0, nliq = 0, npay = 0;
    for (size_t i = 0; i < a.n; i++) {
        nadl += a.v[i].kind == SP_EV_ADL;
        nliq += a.v[i].kind == SP_EV_LIQ_ENGINE;
        npay += a.v[i].kind == SP_EV_FUNDING_PAY;
    }
    /* the 08:00 settlement pays between at least two positions: two payments, same key once */
    assert_true(nadl > 0 && nliq > 0 && npay >= 2);
    char dir[] = "/tmp/sp_engine_storeXXXXXX";
    assert_non_null(mkdtemp(dir));
    char uri[256];
    snprintf(uri, sizeof(uri), "sqlite:%s/e.db", dir);
    sp_symtab *syms;
    uint32_t id;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    assert_int_equal(sp_symtab_intern(syms, "BTCUSDT", 7, &id), SP_OK);
    assert_int_equal(id, 1);
    sp_store *st;
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_store_open(uri, 0, &st, &d), SP_OK);
    uint64_t ins = 0;
    assert_int_equal(sp_store_append(st, a.v, a.n, syms, &ins, &d), SP_OK);
    assert_int_equal(ins, a.n);
    assert_int_equal(sp_store_append(st, a.v, a.n, syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 0); /* idempotent */
    assert_int_equal(sp_store_query(st, NULL, back, &r, &d), SP_OK);
    sp_store_close(st);
    assert_int_equal(r.n, a.n);
    qsort(a.v, a.n, sizeof(sp_event), cmp_ev);
    qsort(r.v, r.n, sizeof(sp_event), cmp_ev);
    for (size_t i = 0; i < a.n; i++)
        if (memcmp(&a.v[i], &r.v[i], sizeof(sp_event)) != 0)
            fail_msg("event %zu differs after the round trip (kind %u)", i, a.v[i].kind);
    sp_symtab_free(syms);
    char path[300];
    snprintf(path, sizeof(path), "%s/e.db", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/e.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/e.db-shm", dir);
    unlink(path);
    rmdir(dir);
    free(a.v);
    free(b.v);
    free(r.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
